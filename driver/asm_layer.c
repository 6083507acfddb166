/* Assembler directives that describe what a program computes: .tensor, .layer
 * (a mxu_layer record with its arrays in the host blob) and .pack (a layer's
 * device image from mxu_pack_layer placed into a segment). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asm_priv.h"
#include "golden.h"
#include "mxu_asm.h"
#include "mxu_error.h"
#include "mxu_numerics.h"
#include "mxu_pack.h"

/* ---- .tensor ------------------------------------------------------------------ */

static int lookup_word(struct asm_ctx *a, const struct asm_tok *t, const char *const *names, int n,
                       const char *what, uint32_t *out)
{
    int i = asm_lookup(names, n, t->text);
    if (i < 0) {
        char list[128] = "";
        size_t used = 0;
        for (int k = 0; k < n; k++)
            if (names[k][0] != '?')
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? "|" : "",
                                         names[k]);
        return asm_error(a, t->col, "%s '%s' is not one of %s", what, t->text, list);
    }
    *out = (uint32_t)i;
    return MXU_OK;
}

static int parse_dims(struct asm_ctx *a, const struct asm_tok *t, mxu_tensor *ts)
{
    char buf[128];
    if (strlen(t->text) >= sizeof buf)
        return asm_error(a, t->col, "dimensions are too long");
    strcpy(buf, t->text);
    const char *items[MXU_MAX_DIMS];
    int cols[MXU_MAX_DIMS];
    int n = asm_split(a, buf, t->col, 'x', items, cols, MXU_MAX_DIMS, "dimensions");
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        int64_t v;
        int rc = asm_int(a, items[i], cols[i], 1, UINT32_MAX, "dimension", &v);
        if (rc)
            return rc;
        ts->dims[i] = (uint32_t)v;
    }
    ts->ndims = (uint32_t)n;
    return MXU_OK;
}

static int parse_at_addr(struct asm_ctx *a, const struct asm_tok *t, const char *what, uint32_t *v)
{
    if (t->text[0] != '@')
        return asm_error(a, t->col, "%s must be written @ADDR", what);
    int64_t x;
    int rc = asm_int(a, t->text + 1, t->col + 1, 0, UINT32_MAX, what, &x);
    if (!rc)
        *v = (uint32_t)x;
    return rc;
}

static int tensor_options(struct asm_ctx *a, const struct asm_line *l, mxu_tensor *t)
{
    t->scale = 1.0f;
    for (int i = 7; i < l->n; i++) {
        const struct asm_tok *k = &l->tok[i];
        const char *eq = strchr(k->text, '=');
        int vcol = eq ? k->col + (int)(eq - k->text) + 1 : k->col;
        int rc;
        if (eq && strncmp(k->text, "scale=", 6) == 0) {
            double s;
            rc = asm_float(a, eq + 1, vcol, "scale", &s);
            if (!rc && !(s > 0 && (float)s > 0 && isfinite((float)s)))
                rc = asm_error(a, vcol, "scale must be positive");
            t->scale = (float)s;
        } else if (eq && strncmp(k->text, "zp=", 3) == 0) {
            int64_t z;
            int int8 = t->dtype == MXU_DTYPE_INT8;
            rc = asm_int(a, eq + 1, vcol, int8 ? -128 : INT32_MIN, int8 ? 127 : INT32_MAX,
                         "zero point", &z);
            t->zero_point = (int32_t)z;
        } else {
            rc = asm_error(a, k->col, "unknown tensor option '%s' (scale=, zp=)", k->text);
        }
        if (rc)
            return rc;
    }
    return MXU_OK;
}

int asm_dir_tensor(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n < 7)
        return asm_error(a, l->tok[0].col,
                         ".tensor takes NAME ROLE DTYPE LAYOUT DIMS @ADDR [scale=F] [zp=Z]");
    mxu_tensor t;
    memset(&t, 0, sizeof t);
    int rc = asm_name(a, &l->tok[1], "tensor", t.name);
    if (!rc)
        rc = lookup_word(a, &l->tok[2], asm_role_names, 4, "role", &t.role);
    if (!rc)
        rc = lookup_word(a, &l->tok[3], asm_dtype_names, 3, "dtype", &t.dtype);
    if (!rc)
        rc = lookup_word(a, &l->tok[4], asm_layout_names, 3, "layout", &t.layout);
    if (!rc)
        rc = parse_dims(a, &l->tok[5], &t);
    if (!rc && t.ndims != (t.layout == MXU_LAYOUT_NHWC ? 4u : 2u))
        rc = asm_error(a, l->tok[5].col, "layout %s needs %d dimensions, got %u",
                       asm_layout_names[t.layout], t.layout == MXU_LAYOUT_NHWC ? 4 : 2, t.ndims);
    if (!rc)
        rc = parse_at_addr(a, &l->tok[6], "tensor address", &t.dram_addr);
    if (!rc)
        rc = tensor_options(a, l, &t);
    if (rc)
        return rc;
    uint64_t elems = mxu_tensor_elems(&t), dram = a->p->config.dram_bytes;
    if (elems > dram || t.dram_addr + elems * mxu_dtype_size(t.dtype) > dram)
        return asm_error(a, l->tok[6].col, "tensor '%s' does not fit in DRAM (%llu bytes)",
                         t.name, (unsigned long long)dram);
    if (mxu_program_add_tensor(a->p, &t, NULL) != MXU_OK)
        return asm_error(a, l->tok[1].col, "%s", mxu_error_detail());
    return MXU_OK;
}

/* ---- .layer -------------------------------------------------------------------- */

enum { ARR_WEIGHTS, ARR_BIAS, ARR_MULTIPLIER, ARR_SHIFT, ARR_LUT, ARR_ADD_PARAMS, ARR_COUNT };
static const char *const array_keys[ARR_COUNT] = {"weights", "bias", "multiplier",
                                                  "shift", "lut", "add_params"};

struct layer_src {
    mxu_layer l;
    int op_col, name_col;
    int clamp; /* 0, 1 relu, 2 relu6 */
    int act_min_set, act_max_set, flags_set;
    const char *arr[ARR_COUNT];
    int arr_col[ARR_COUNT];
    const char *wscale;
    int wscale_col;
};

/* "N" or "A,B" (or 4 values for pad); *n receives the count. */
static int int_list(struct asm_ctx *a, const char *val, int col, int max, int64_t lo, int64_t hi,
                    const char *what, int64_t *out, int *n)
{
    char buf[128];
    if (strlen(val) >= sizeof buf)
        return asm_error(a, col, "%s: value is too long", what);
    strcpy(buf, val);
    const char *items[4];
    int cols[4];
    *n = asm_split(a, buf, col, ',', items, cols, max, what);
    if (*n < 0)
        return *n;
    for (int i = 0; i < *n; i++) {
        int rc = asm_int(a, items[i], cols[i], lo, hi, what, &out[i]);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

static int tensor_ref(struct asm_ctx *a, const char *name, int col, uint32_t *idx)
{
    if (mxu_program_find_tensor(a->p, name, idx) != MXU_OK)
        return asm_error(a, col, "no tensor named '%s' (declare it with .tensor first)", name);
    return MXU_OK;
}

/* kh/kw style pairs: "N" sets both, "A,B" sets each. */
static int pair_key(struct asm_ctx *a, const char *val, int col, const char *what, uint32_t *x,
                    uint32_t *y)
{
    int64_t v[2];
    int n;
    int rc = int_list(a, val, col, 2, 0, UINT32_MAX, what, v, &n);
    if (rc)
        return rc;
    *x = (uint32_t)v[0];
    *y = (uint32_t)v[n - 1];
    return MXU_OK;
}

/* code=FIRST,COUNT: the layer's instruction range. */
static int code_key(struct asm_ctx *a, const char *val, int col, mxu_layer *l)
{
    int64_t v[2];
    int n;
    int rc = int_list(a, val, col, 2, 0, UINT32_MAX, "code", v, &n);
    if (rc)
        return rc;
    if (n != 2)
        return asm_error(a, col, "code takes FIRST,COUNT");
    l->code_first = (uint32_t)v[0];
    l->code_count = (uint32_t)v[1];
    return MXU_OK;
}

static int layer_pad(struct asm_ctx *a, const char *val, int col, mxu_layer *l)
{
    int64_t v[4];
    int n;
    int rc = int_list(a, val, col, 4, 0, UINT32_MAX, "pad", v, &n);
    if (rc)
        return rc;
    if (n != 1 && n != 4)
        return asm_error(a, col, "pad takes N or top,left,bottom,right");
    l->pad_top = (uint32_t)v[0];
    l->pad_left = (uint32_t)v[n == 4 ? 1 : 0];
    l->pad_bottom = (uint32_t)v[n == 4 ? 2 : 0];
    l->pad_right = (uint32_t)v[n == 4 ? 3 : 0];
    return MXU_OK;
}

static int u32_key(struct asm_ctx *a, const char *val, int col, const char *what, uint32_t *out)
{
    int64_t v;
    int rc = asm_int(a, val, col, 0, UINT32_MAX, what, &v);
    if (!rc)
        *out = (uint32_t)v;
    return rc;
}

static int i8_key(struct asm_ctx *a, const char *val, int col, const char *what, int32_t *out)
{
    int64_t v;
    int rc = asm_int(a, val, col, -128, 127, what, &v);
    if (!rc)
        *out = (int32_t)v;
    return rc;
}

static int layer_key(struct asm_ctx *a, struct layer_src *s, const struct asm_tok *t)
{
    mxu_layer *l = &s->l;
    const char *eq = strchr(t->text, '=');
    if (!eq) {
        if (strcmp(t->text, "relu") == 0 || strcmp(t->text, "relu6") == 0) {
            s->clamp = t->text[4] ? 2 : 1;
            return MXU_OK;
        }
        return asm_error(a, t->col, "layer option '%s' needs a value (key=value)", t->text);
    }
    size_t klen = (size_t)(eq - t->text);
    char key[32];
    if (klen >= sizeof key)
        return asm_error(a, t->col, "unknown layer key '%.*s'", (int)klen, t->text);
    memcpy(key, t->text, klen);
    key[klen] = 0;
    const char *v = eq + 1;
    int col = t->col + (int)klen + 1;
    for (int i = 0; i < ARR_COUNT; i++)
        if (strcmp(key, array_keys[i]) == 0) {
            s->arr[i] = v;
            s->arr_col[i] = col;
            return MXU_OK;
        }
    if (strcmp(key, "in") == 0)
        return tensor_ref(a, v, col, &l->input);
    if (strcmp(key, "out") == 0)
        return tensor_ref(a, v, col, &l->output);
    if (strcmp(key, "in2") == 0)
        return tensor_ref(a, v, col, &l->input2);
    if (strcmp(key, "k") == 0)
        return pair_key(a, v, col, "k", &l->kh, &l->kw);
    if (strcmp(key, "kh") == 0)
        return u32_key(a, v, col, "kh", &l->kh);
    if (strcmp(key, "kw") == 0)
        return u32_key(a, v, col, "kw", &l->kw);
    if (strcmp(key, "stride") == 0)
        return pair_key(a, v, col, "stride", &l->stride_h, &l->stride_w);
    if (strcmp(key, "dil") == 0)
        return pair_key(a, v, col, "dil", &l->dil_h, &l->dil_w);
    if (strcmp(key, "pool") == 0)
        return pair_key(a, v, col, "pool", &l->pool_k, &l->pool_s);
    if (strcmp(key, "factor") == 0)
        return pair_key(a, v, col, "factor", &l->stride_h, &l->stride_w);
    if (strcmp(key, "code") == 0)
        return code_key(a, v, col, l);
    if (strcmp(key, "pad") == 0)
        return layer_pad(a, v, col, l);
    if (strcmp(key, "groups") == 0)
        return u32_key(a, v, col, "groups", &l->groups);
    if (strcmp(key, "cout") == 0)
        return u32_key(a, v, col, "cout", &l->cout);
    if (strcmp(key, "flags") == 0) {
        s->flags_set = 1;
        return u32_key(a, v, col, "flags", &l->flags);
    }
    if (strcmp(key, "act_min") == 0) {
        s->act_min_set = 1;
        return i8_key(a, v, col, "act_min", &l->act_min);
    }
    if (strcmp(key, "act_max") == 0) {
        s->act_max_set = 1;
        return i8_key(a, v, col, "act_max", &l->act_max);
    }
    if (strcmp(key, "wscale") == 0) {
        s->wscale = v;
        s->wscale_col = col;
        return MXU_OK;
    }
    return asm_error(a, t->col, "unknown layer key '%s'", key);
}

/* Element counts of the layer's arrays (0: the op has no such array). */
static int array_counts(struct asm_ctx *a, struct layer_src *s, uint64_t count[ARR_COUNT])
{
    const mxu_layer *l = &s->l;
    const mxu_tensor *in = &a->p->tensors[l->input];
    memset(count, 0, ARR_COUNT * sizeof count[0]);
    if (l->op == MXU_LAYER_ADD)
        count[ARR_ADD_PARAMS] = MXU_ADD_PARAMS_COUNT;
    if (l->op == MXU_LAYER_LUT)
        count[ARR_LUT] = 256;
    if (l->op != MXU_LAYER_CONV2D && l->op != MXU_LAYER_FC)
        return MXU_OK;
    if (l->cout == 0)
        return asm_error(a, s->op_col, "%s layer needs cout=N", asm_op_names[l->op]);
    uint64_t cin = l->op == MXU_LAYER_FC ? mxu_tensor_elems(in) / in->dims[0] : in->dims[3];
    uint64_t taps = 1;
    if (l->op == MXU_LAYER_CONV2D) {
        if (in->ndims != 4 || l->groups == 0 || cin % l->groups || l->cout % l->groups)
            return asm_error(a, s->op_col,
                             "conv2d needs an nhwc input and groups dividing cin %llu and cout %u",
                             (unsigned long long)cin, l->cout);
        cin /= l->groups;
        taps = (uint64_t)l->kh * l->kw;
    }
    count[ARR_WEIGHTS] = (uint64_t)l->cout * taps * cin;
    count[ARR_BIAS] = count[ARR_MULTIPLIER] = count[ARR_SHIFT] = l->cout;
    count[ARR_LUT] = 256;
    return MXU_OK;
}

/* One array given as @OFFSET, random:SEED or a list of values. */
static int resolve_array(struct asm_ctx *a, struct layer_src *s, int which, uint64_t count,
                         uint32_t *offset)
{
    static const struct {
        int bytes;
        int64_t lo, hi, rlo, rhi; /* value range; random range (rlo > rhi: none) */
    } kind[ARR_COUNT] = {
        {1, -128, 127, -127, 127},              /* weights: symmetric int8 */
        {4, INT32_MIN, INT32_MAX, -2000, 2000}, /* bias */
        {4, INT32_MIN, INT32_MAX, 1, 0},        /* multiplier */
        {4, INT32_MIN, INT32_MAX, 1, 0},        /* shift */
        {1, -128, 127, -128, 127},              /* lut */
        {4, INT32_MIN, INT32_MAX, 1, 0},        /* add_params */
    };
    const char *v = s->arr[which], *key = array_keys[which];
    int col = s->arr_col[which];
    if (v[0] == '@')
        return u32_key(a, v + 1, col + 1, key, offset);
    if (count == 0)
        return asm_error(a, col, "a %s layer has no %s", asm_op_names[s->l.op], key);
    if (count * (uint64_t)kind[which].bytes > (1u << 30))
        return asm_error(a, col, "%s: %llu values are too many", key, (unsigned long long)count);
    uint8_t *buf = malloc((size_t)count * (size_t)kind[which].bytes);
    if (!buf)
        return mxu_fail(MXU_ERR_NOMEM, "assembler: out of memory");
    int rc = MXU_OK;
    if (strncmp(v, "random:", 7) == 0) {
        int64_t seed = 0;
        if (kind[which].rlo > kind[which].rhi)
            rc = asm_error(a, col, "%s cannot be random (give values or use wscale=)", key);
        if (!rc)
            rc = asm_int(a, v + 7, col + 7, INT64_MIN, INT64_MAX, "seed", &seed);
        uint64_t st = (uint64_t)seed;
        for (uint64_t i = 0; !rc && i < count; i++) {
            int64_t x = asm_rand_range(&st, kind[which].rlo, kind[which].rhi);
            for (int b = 0; b < kind[which].bytes; b++)
                buf[i * (uint64_t)kind[which].bytes + (uint64_t)b] = (uint8_t)((uint64_t)x >> (8 * b));
        }
    } else {
        const char *p = v;
        uint64_t i = 0;
        while (!rc) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            char num[40];
            int64_t x = 0;
            int c = col + (int)(p - v);
            if (i == count)
                rc = asm_error(a, c, "%s takes %llu values, more are given", key,
                               (unsigned long long)count);
            else if (n == 0 || n >= sizeof num)
                rc = asm_error(a, c, "%s: expected a value", key);
            if (!rc) {
                memcpy(num, p, n);
                num[n] = 0;
                rc = asm_int(a, num, c, kind[which].lo, kind[which].hi, key, &x);
            }
            for (int b = 0; !rc && b < kind[which].bytes; b++)
                buf[i * (uint64_t)kind[which].bytes + (uint64_t)b] = (uint8_t)((uint64_t)x >> (8 * b));
            i++;
            if (!comma)
                break;
            p = comma + 1;
        }
        if (!rc && i != count)
            rc = asm_error(a, col, "%s takes %llu values, %llu are given", key,
                           (unsigned long long)count, (unsigned long long)i);
    }
    if (!rc && mxu_program_add_blob(a->p, buf, (uint32_t)(count * (uint64_t)kind[which].bytes),
                                    offset) != MXU_OK)
        rc = asm_error(a, col, "%s", mxu_error_detail());
    free(buf);
    return rc;
}

/* multiplier/shift from the tensors' scales and wscale (one value or one per channel). */
static int requant_from_scales(struct asm_ctx *a, struct layer_src *s)
{
    mxu_layer *l = &s->l;
    if (s->arr[ARR_MULTIPLIER] || s->arr[ARR_SHIFT]) {
        if (!s->arr[ARR_MULTIPLIER] || !s->arr[ARR_SHIFT])
            return asm_error(a, s->op_col, "give both multiplier= and shift=, or wscale=");
        if (s->wscale)
            return asm_error(a, s->wscale_col, "wscale= and multiplier=/shift= exclude each other");
        return MXU_OK;
    }
    if (!s->wscale)
        return asm_error(a, s->op_col, "%s layer needs wscale=F (or multiplier= and shift=)",
                         asm_op_names[l->op]);
    int32_t *mult = malloc((size_t)l->cout * 8), *shift = mult ? mult + l->cout : NULL;
    if (!mult)
        return mxu_fail(MXU_ERR_NOMEM, "assembler: out of memory");
    double in_s = a->p->tensors[l->input].scale, out_s = a->p->tensors[l->output].scale;
    const char *p = s->wscale;
    int rc = MXU_OK;
    uint32_t n = 0;
    double ws = 0;
    for (uint32_t c = 0; c < l->cout && !rc; c++) {
        int col = s->wscale_col + (int)(p - s->wscale);
        if (c == 0 || *p) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char num[64];
            if (len == 0 || len >= sizeof num) {
                rc = asm_error(a, col, "wscale: expected a number");
                break;
            }
            memcpy(num, p, len);
            num[len] = 0;
            rc = asm_float(a, num, col, "wscale", &ws);
            if (!rc && !(ws > 0))
                rc = asm_error(a, col, "wscale must be positive");
            p += len + (comma != NULL);
            n++;
        } else if (n > 1) {
            rc = asm_error(a, s->wscale_col, "wscale gives %u values; give 1 or cout = %u", n,
                           l->cout);
        }
        if (!rc && mxu_quantize_multiplier(in_s * ws / out_s, &mult[c], &shift[c]) != MXU_OK)
            rc = asm_error(a, col, "requantization multiplier %g is not representable",
                           in_s * ws / out_s);
    }
    if (!rc && *p)
        rc = asm_error(a, s->wscale_col, "wscale gives more than cout = %u values", l->cout);
    if (!rc && (mxu_program_add_blob(a->p, mult, l->cout * 4u, &l->multiplier) != MXU_OK ||
                mxu_program_add_blob(a->p, shift, l->cout * 4u, &l->shift) != MXU_OK))
        rc = asm_error(a, s->wscale_col, "%s", mxu_error_detail());
    free(mult);
    return rc;
}

static int add_params_from_scales(struct asm_ctx *a, struct layer_src *s)
{
    const mxu_program *p = a->p;
    mxu_layer *l = &s->l;
    const mxu_tensor *i1 = &p->tensors[l->input], *i2 = &p->tensors[l->input2],
                     *o = &p->tensors[l->output];
    struct mxu_add_params ap;
    int32_t v[MXU_ADD_PARAMS_COUNT];
    if (mxu_add_params_from_scales(i1->scale, i1->zero_point, i2->scale, i2->zero_point, o->scale,
                                   o->zero_point, l->act_min, l->act_max, &ap) != MXU_OK)
        return asm_error(a, s->op_col, "add: %s", mxu_error_detail());
    mxu_add_params_pack(&ap, v);
    if (mxu_program_add_blob(a->p, v, sizeof v, &l->add_params) != MXU_OK)
        return asm_error(a, s->op_col, "%s", mxu_error_detail());
    return MXU_OK;
}

static void apply_clamp(const struct asm_ctx *a, struct layer_src *s, int32_t min, int32_t max)
{
    mxu_layer *l = &s->l;
    const mxu_tensor *o = &a->p->tensors[l->output];
    if (s->clamp) {
        int32_t zp = o->zero_point;
        l->act_min = zp > -128 ? zp : -128;
        l->act_max = 127;
        if (s->clamp == 2) {
            long top = zp + lround(6.0 / o->scale);
            l->act_max = top < 127 ? (int32_t)top : 127;
        }
    }
    if (s->act_min_set)
        l->act_min = min;
    if (s->act_max_set)
        l->act_max = max;
}

static int layer_arrays(struct asm_ctx *a, struct layer_src *s)
{
    uint32_t *offset[ARR_COUNT] = {&s->l.weights, &s->l.bias, &s->l.multiplier,
                                   &s->l.shift,   &s->l.lut,  &s->l.add_params};
    uint64_t count[ARR_COUNT];
    int rc = array_counts(a, s, count);
    for (int i = 0; i < ARR_COUNT && !rc; i++)
        if (s->arr[i])
            rc = resolve_array(a, s, i, count[i], offset[i]);
    if (rc)
        return rc;
    mxu_layer *l = &s->l;
    if (l->op == MXU_LAYER_CONV2D || l->op == MXU_LAYER_FC)
        rc = requant_from_scales(a, s);
    else if (s->wscale)
        rc = asm_error(a, s->wscale_col, "a %s layer has no weights to scale", asm_op_names[l->op]);
    if (!rc && l->op == MXU_LAYER_ADD && !s->arr[ARR_ADD_PARAMS])
        rc = add_params_from_scales(a, s);
    if (!rc && !s->flags_set && l->lut != MXU_NONE && l->op != MXU_LAYER_LUT)
        l->flags |= MXU_LAYER_F_LUT;
    return rc;
}

static void layer_defaults(mxu_layer *l)
{
    memset(l, 0, sizeof *l);
    l->input = l->input2 = l->output = MXU_NONE;
    l->kh = l->kw = l->stride_h = l->stride_w = l->dil_h = l->dil_w = l->groups = 1;
    l->act_min = -128;
    l->act_max = 127;
    l->weights = l->bias = l->multiplier = l->shift = l->lut = l->add_params = MXU_NONE;
}

int asm_dir_layer(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n < 3)
        return asm_error(a, l->tok[0].col, ".layer takes OP NAME in=T out=T key=value...");
    struct layer_src s;
    memset(&s, 0, sizeof s);
    layer_defaults(&s.l);
    s.op_col = l->tok[1].col;
    s.name_col = l->tok[2].col;
    int rc = lookup_word(a, &l->tok[1], asm_op_names, MXU_LAYER_OP_LIMIT, "layer op", &s.l.op);
    if (!rc) /* names may repeat, as in programs (a compiler's unnamed nodes) */
        rc = asm_name(a, &l->tok[2], "layer", s.l.name);
    for (int i = 3; i < l->n && !rc; i++)
        rc = layer_key(a, &s, &l->tok[i]);
    if (rc)
        return rc;
    if (s.l.input == MXU_NONE || s.l.output == MXU_NONE)
        return asm_error(a, s.op_col, "a layer needs in=TENSOR and out=TENSOR");
    int two_inputs = s.l.op == MXU_LAYER_ADD || s.l.op == MXU_LAYER_CONCAT;
    if (two_inputs != (s.l.input2 != MXU_NONE))
        return asm_error(a, s.op_col, "in2=TENSOR is %s for %s", two_inputs ? "needed" : "only",
                         two_inputs ? asm_op_names[s.l.op] : "add and concat layers");
    int32_t min = s.l.act_min, max = s.l.act_max;
    apply_clamp(a, &s, min, max);
    rc = layer_arrays(a, &s);
    if (!rc)
        rc = mxu_program_add_layer(a->p, &s.l);
    if (!rc && mxu_program_check_layer(a->p, a->p->n_layers - 1) != MXU_OK) {
        const char *d = mxu_error_detail();
        rc = asm_error(a, s.name_col, "%s", strncmp(d, "mxp: ", 5) == 0 ? d + 5 : d);
    }
    return rc;
}

/* ---- .pack ---------------------------------------------------------------------- */

int asm_dir_pack(struct asm_ctx *a, const struct asm_line *l)
{
    static const char *const kinds[4] = {"?", "weights", "params", "lut"};
    if (l->n != 4)
        return asm_error(a, l->tok[0].col, ".pack takes LAYER weights|params|lut @ADDR");
    uint32_t kind, addr, li;
    int rc = lookup_word(a, &l->tok[2], kinds, 4, "pack kind", &kind);
    if (!rc)
        rc = parse_at_addr(a, &l->tok[3], "pack address", &addr);
    if (rc)
        return rc;
    for (li = 0; li < a->p->n_layers; li++)
        if (strcmp(a->p->layers[li].name, l->tok[1].text) == 0)
            break;
    if (li == a->p->n_layers)
        return asm_error(a, l->tok[1].col, "no layer named '%s' (declare it with .layer first)",
                         l->tok[1].text);
    for (uint32_t other = li + 1; other < a->p->n_layers; other++)
        if (strcmp(a->p->layers[other].name, l->tok[1].text) == 0)
            return asm_error(a, l->tok[1].col, "layers %u and %u are both named '%s': .pack needs "
                             "a unique name", li, other, l->tok[1].text);
    rc = asm_flush_segment(a);
    if (rc)
        return rc;
    uint8_t *img;
    uint32_t bytes;
    if (mxu_pack_layer(&a->p->config, a->p, &a->p->layers[li], (enum mxu_pack_kind)kind, &img,
                       &bytes) != MXU_OK)
        return asm_error(a, l->tok[2].col, "%s", mxu_error_detail());
    char name[MXU_NAME_LEN];
    snprintf(name, sizeof name, "%.*s.%s", (int)(MXU_NAME_LEN - 2 - strlen(kinds[kind])),
             a->p->layers[li].name, kinds[kind]);
    rc = asm_check_overlap(a, name, addr, bytes, l->tok[3].col);
    if (!rc && mxu_program_add_segment(a->p, name, addr, img, bytes) != MXU_OK)
        rc = asm_error(a, l->tok[3].col, "%s", mxu_error_detail());
    free(img);
    return rc;
}
