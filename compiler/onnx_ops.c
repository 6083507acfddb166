/* ONNX float operators -> mxu_graph nodes (NCHW -> NHWC). Each op_* imports the
 * current node (ctx->node); shapes are tracked in ONNX order in the symbols. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_priv.h"

#define ONNX_MAX_WINDOW 65535u /* kernel, stride, dilation, pad */

static int node_index_of(const struct onnx_ctx *ctx, const mxu_node *n)
{
    return (int)(n - ctx->g->nodes);
}

/* ---- windows: kernel, strides, dilations, pads, auto_pad, ceil_mode ---------------- */

struct onnx_window {
    uint32_t kh, kw, sh, sw, dh, dw;
    uint32_t pt, pl, pb, pr;
    uint32_t oh, ow;
    int padded; /* explicit or automatic padding (ceil_mode's extra end padding aside) */
};

static int pair_attr(struct onnx_ctx *ctx, const char *name, uint32_t def, uint32_t min,
                     uint32_t *a, uint32_t *b)
{
    int64_t v[4];
    uint32_t n;
    int rc = onnx_attr_ints(ctx, name, v, 4, &n);
    if (rc)
        return rc;
    *a = *b = def;
    if (n == 0)
        return MXU_OK;
    if (n != 2)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "%s has %u values (2-D only)", name, n);
    for (int i = 0; i < 2; i++)
        if (v[i] < (int64_t)min || v[i] > (int64_t)ONNX_MAX_WINDOW)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "%s value %lld", name, (long long)v[i]);
    *a = (uint32_t)v[0];
    *b = (uint32_t)v[1];
    return MXU_OK;
}

/* One spatial axis: output size and pads (begin, end) for explicit or automatic
 * padding; ceil_mode adds end padding so that floor division gives the ceil size
 * (without a last window that starts in the end padding, as PyTorch/ORT do). */
static int window_axis(struct onnx_ctx *ctx, const char *auto_pad, int ceil_mode, uint32_t in,
                       uint32_t k, uint32_t s, uint32_t d, uint32_t *pbeg, uint32_t *pend,
                       uint32_t *out)
{
    uint64_t ek = (uint64_t)(k - 1) * d + 1;
    uint64_t o;
    if (!strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER")) {
        o = (in + (uint64_t)s - 1) / s;
        uint64_t span = (o - 1) * s + ek, total = span > in ? span - in : 0;
        if (total > 2ull * ONNX_MAX_WINDOW)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "automatic padding of %llu",
                             (unsigned long long)total);
        uint32_t small = (uint32_t)(total / 2), big = (uint32_t)(total - total / 2);
        int upper = !strcmp(auto_pad, "SAME_UPPER");
        *pbeg = upper ? small : big;
        *pend = upper ? big : small;
    } else if (!strcmp(auto_pad, "VALID") || !strcmp(auto_pad, "NOTSET")) {
        if (!strcmp(auto_pad, "VALID"))
            *pbeg = *pend = 0;
        uint64_t padded = (uint64_t)in + *pbeg + *pend;
        if (padded < ek)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "window of %llu is larger than the padded "
                             "input (%llu)", (unsigned long long)ek, (unsigned long long)padded);
        o = (padded - ek) / s + 1;
        if (ceil_mode && (padded - ek) % s) {
            o++;
            if ((o - 1) * s >= (uint64_t)in + *pbeg)
                o--;
            uint64_t need = (o - 1) * s + ek;
            if (need > padded)
                *pend += (uint32_t)(need - padded);
        }
    } else {
        return onnx_fail(ctx, MXU_ERR_FORMAT, "auto_pad '%.20s'", auto_pad);
    }
    *out = (uint32_t)o;
    return MXU_OK;
}

static int read_window(struct onnx_ctx *ctx, uint32_t h, uint32_t w, int ceil_mode,
                       struct onnx_window *win)
{
    int rc = pair_attr(ctx, "strides", 1, 1, &win->sh, &win->sw);
    if (!rc)
        rc = pair_attr(ctx, "dilations", 1, 1, &win->dh, &win->dw);
    if (rc)
        return rc;
    int64_t p[4];
    uint32_t np;
    if ((rc = onnx_attr_ints(ctx, "pads", p, 4, &np)))
        return rc;
    if (np != 0 && np != 4)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "pads has %u values (2-D only)", np);
    uint32_t pads[4] = {0, 0, 0, 0}; /* ONNX: top, left, bottom, right */
    for (uint32_t i = 0; i < np; i++) {
        if (p[i] < 0 || p[i] > (int64_t)ONNX_MAX_WINDOW)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "pad %lld", (long long)p[i]);
        pads[i] = (uint32_t)p[i];
    }
    char auto_pad[24];
    if ((rc = onnx_attr_string(ctx, "auto_pad", "NOTSET", auto_pad, sizeof auto_pad)))
        return rc;
    if (auto_pad[0] == 0)
        strcpy(auto_pad, "NOTSET");
    win->pt = pads[0], win->pl = pads[1], win->pb = pads[2], win->pr = pads[3];
    rc = window_axis(ctx, auto_pad, ceil_mode, h, win->kh, win->sh, win->dh, &win->pt, &win->pb,
                     &win->oh);
    if (!rc)
        rc = window_axis(ctx, auto_pad, ceil_mode, w, win->kw, win->sw, win->dw, &win->pl, &win->pr,
                         &win->ow);
    if (!strcmp(auto_pad, "NOTSET")) /* ceil_mode may have grown the end pads */
        win->padded = pads[0] || pads[1] || pads[2] || pads[3];
    else if (!strcmp(auto_pad, "VALID"))
        win->padded = 0;
    else
        win->padded = win->pt || win->pl || win->pb || win->pr;
    return rc;
}

static void set_window(mxu_node *n, const struct onnx_window *win)
{
    n->kh = win->kh, n->kw = win->kw;
    n->stride_h = win->sh, n->stride_w = win->sw;
    n->dil_h = win->dh, n->dil_w = win->dw;
    n->pad_top = win->pt, n->pad_left = win->pl, n->pad_bottom = win->pb, n->pad_right = win->pr;
}

static int need_rank(struct onnx_ctx *ctx, const struct onnx_sym *x, uint32_t rank)
{
    if (x->ndims != rank)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "input '%.60s' has rank %u (%s expected)",
                         x->name, x->ndims, rank == 4 ? "NCHW" : "N x features");
    return MXU_OK;
}

/* ---- weights ------------------------------------------------------------------------ */

/* Per-output-channel scales of a quantized weight constant whose output
 * channels are along chan_axis: per tensor (repeated) or per channel. */
static int weight_scales(struct onnx_ctx *ctx, const struct onnx_const *w, int chan_axis,
                         uint32_t cout, float **out)
{
    if (w->elem != ONNX_INT8)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "quantized weights are %s (int8 only)",
                         onnx_dtype_name(w->elem));
    if (w->n_scale != 1 && (w->n_scale != cout || w->axis != chan_axis))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "weight quantization has %u scales on axis %d "
                         "(per tensor or per output channel only)", w->n_scale, w->axis);
    float *s = malloc(cout * sizeof *s);
    if (!s)
        return onnx_fail(ctx, MXU_ERR_NOMEM, "weight scales");
    for (uint32_t c = 0; c < cout; c++) {
        uint32_t k = w->n_scale == 1 ? 0 : c;
        if (w->zp[k] != 0) {
            free(s);
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "weight zero point %d (symmetric weights "
                             "only)", w->zp[k]);
        }
        s[c] = w->scale[k];
    }
    *out = s;
    return MXU_OK;
}

/* Allocate the node's weight arrays for `count` weights (int8 ones too when w is
 * quantized); src_index maps a destination index to w's element index. */
typedef size_t (*weight_map_fn)(size_t dst, const uint32_t *geo);
static int copy_weights(struct onnx_ctx *ctx, mxu_node *n, const struct onnx_const *w,
                        int chan_axis, weight_map_fn map, const uint32_t *geo)
{
    size_t count = w->count;
    n->weights = malloc(count * sizeof *n->weights);
    if (!n->weights)
        return onnx_fail(ctx, MXU_ERR_NOMEM, "%zu weights", count);
    if (w->quantized) {
        int rc = weight_scales(ctx, w, chan_axis, n->cout, &n->wscale);
        if (rc)
            return rc;
        n->qweights = malloc(count);
        if (!n->qweights)
            return onnx_fail(ctx, MXU_ERR_NOMEM, "%zu weights", count);
    }
    for (size_t d = 0; d < count; d++) {
        size_t s = map(d, geo);
        n->weights[d] = onnx_const_f(w, s);
        if (!isfinite(n->weights[d]))
            return onnx_fail(ctx, MXU_ERR_FORMAT, "weight %zu is %g", s, n->weights[d]);
        if (n->qweights)
            n->qweights[d] = (int8_t)w->i32[s];
    }
    return MXU_OK;
}

/* Conv: destination [cout][kh][kw][cg] from ONNX [cout][cg][kh][kw]; geo = cout, cg, kh, kw. */
static size_t conv_map(size_t d, const uint32_t *geo)
{
    size_t cg = geo[1], kh = geo[2], kw = geo[3];
    size_t c = d % cg, j = d / cg % kw, i = d / cg / kw % kh, m = d / cg / kw / kh;
    return ((m * cg + c) * kh + i) * kw + j;
}

/* FC: destination [cout][cin] from [cin][cout] (geo = cout, cin). */
static size_t fc_transpose_map(size_t d, const uint32_t *geo)
{
    size_t cout = geo[0], cin = geo[1];
    return (d % cin) * cout + d / cin;
}

static size_t same_map(size_t d, const uint32_t *geo)
{
    (void)geo;
    return d;
}

/* Does constant b broadcast per channel over cout channels at channel axis
 * `axis` of a rank-`rank` ONNX result? Scalars broadcast too. */
static int per_channel(const struct onnx_const *b, uint32_t cout, uint32_t rank, uint32_t axis)
{
    if (b->count == 1)
        return 1;
    if (b->count != cout || b->ndims > rank)
        return 0;
    /* numpy broadcasting aligns trailing axes: the one non-1 axis must land on `axis` */
    for (uint32_t i = 0; i < b->ndims; i++) {
        uint32_t at = rank - b->ndims + i;
        if (b->dims[i] != 1 && at != axis)
            return 0;
    }
    return 1;
}

int onnx_set_bias(struct onnx_ctx *ctx, mxu_node *n, const struct onnx_const *b, float beta)
{
    if (n->qbias)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "a float bias added to an int32 bias");
    int fresh = !n->bias;
    if (fresh && !(n->bias = calloc(n->cout, sizeof *n->bias)))
        return onnx_fail(ctx, MXU_ERR_NOMEM, "bias");
    for (uint32_t c = 0; c < n->cout; c++) {
        n->bias[c] += beta * onnx_const_f(b, b->count == 1 ? 0 : c);
        if (!isfinite(n->bias[c]))
            return onnx_fail(ctx, MXU_ERR_FORMAT, "bias %u is %g", c, n->bias[c]);
    }
    return MXU_OK;
}

int onnx_set_qbias(struct onnx_ctx *ctx, mxu_node *n, const struct onnx_const *b, float in_scale)
{
    if (b->elem != ONNX_INT32 || b->count != n->cout)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "quantized bias of %zu %s values for %u "
                         "channels (int32 per channel expected)", b->count,
                         onnx_dtype_name(b->elem), n->cout);
    if (!n->wscale || !(in_scale > 0))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "int32 bias without quantized weights and input");
    for (uint32_t c = 0; c < n->cout; c++) {
        float want = in_scale * n->wscale[c];
        if (b->quantized) {
            uint32_t k = b->n_scale == 1 ? 0 : c;
            float got = b->scale[k];
            if (b->zp[k] != 0 || fabsf(got - want) > 1e-5f * want)
                return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "int32 bias scale %g (zero point %d) "
                                 "is not input scale x weight scale (%g)", got, b->zp[k], want);
        }
    }
    free(n->bias);
    n->bias = malloc(n->cout * sizeof *n->bias);
    n->qbias = malloc(n->cout * sizeof *n->qbias);
    if (!n->bias || !n->qbias)
        return onnx_fail(ctx, MXU_ERR_NOMEM, "bias");
    for (uint32_t c = 0; c < n->cout; c++) {
        n->qbias[c] = b->i32[c];
        n->bias[c] = (float)((double)b->i32[c] * in_scale * n->wscale[c]);
    }
    return MXU_OK;
}

/* ---- Conv, Gemm, MatMul ------------------------------------------------------------- */

int onnx_build_conv(struct onnx_ctx *ctx, struct onnx_sym *x, const struct onnx_const *w,
                    mxu_node **node, struct onnx_sym **y)
{
    int rc = need_rank(ctx, x, 4);
    if (rc)
        return rc;
    if (w->ndims != 4)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "weights of rank %u (2-D convolution only)",
                         w->ndims);
    for (int i = 0; i < 4; i++)
        if (w->dims[i] < 1 || w->dims[i] > (int64_t)ONNX_MAX_DIM)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "weight dimension %lld", (long long)w->dims[i]);
    uint32_t cout = (uint32_t)w->dims[0], cg = (uint32_t)w->dims[1];
    struct onnx_window win = {.kh = (uint32_t)w->dims[2], .kw = (uint32_t)w->dims[3]};
    if (win.kh > ONNX_MAX_WINDOW || win.kw > ONNX_MAX_WINDOW)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "kernel %ux%u", win.kh, win.kw);
    int64_t groups, ks[4];
    uint32_t nks;
    if ((rc = onnx_attr_int(ctx, "group", 1, &groups)) ||
        (rc = onnx_attr_ints(ctx, "kernel_shape", ks, 4, &nks)))
        return rc;
    if (nks && (nks != 2 || ks[0] != win.kh || ks[1] != win.kw))
        return onnx_fail(ctx, MXU_ERR_FORMAT, "kernel_shape disagrees with the weights %ux%u",
                         win.kh, win.kw);
    uint32_t cin = x->shape[1];
    if (groups < 1 || groups > cin || cin % groups || (uint64_t)cg * groups != cin ||
        cout % groups)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "group %lld does not fit %u input channels, "
                         "weights [%u][%u]", (long long)groups, cin, cout, cg);
    if ((rc = read_window(ctx, x->shape[2], x->shape[3], 0, &win)))
        return rc;
    uint32_t shape[4] = {x->shape[0], cout, win.oh, win.ow};
    mxu_node *n;
    if ((rc = onnx_add_node(ctx, MXU_NODE_CONV, &x->value, 1, 4, shape, &n, y)))
        return rc;
    n->cout = cout;
    n->groups = (uint32_t)groups;
    set_window(n, &win);
    uint32_t geo[4] = {cout, cg, win.kh, win.kw};
    if ((rc = copy_weights(ctx, n, w, 0, conv_map, geo)))
        return rc;
    (*y)->foldable_node = node_index_of(ctx, n);
    if (node)
        *node = n;
    return MXU_OK;
}

int onnx_build_fc(struct onnx_ctx *ctx, struct onnx_sym *x, const struct onnx_const *w,
                  int transposed, float alpha, mxu_node **node, struct onnx_sym **y)
{
    int rc = need_rank(ctx, x, 2);
    if (rc)
        return rc;
    if (w->ndims != 2)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "weights of rank %u (a matrix expected)",
                         w->ndims);
    int64_t rows = w->dims[0], cols = w->dims[1];
    int64_t cin = transposed ? cols : rows, cout = transposed ? rows : cols;
    if (cin != x->shape[1] || cout < 1 || cout > (int64_t)ONNX_MAX_DIM)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "weights [%lld][%lld]%s do not fit %u input "
                         "features", (long long)rows, (long long)cols,
                         transposed ? " (transposed)" : "", x->shape[1]);
    uint32_t shape[2] = {x->shape[0], (uint32_t)cout};
    mxu_node *n;
    if ((rc = onnx_add_node(ctx, MXU_NODE_FC, &x->value, 1, 2, shape, &n, y)))
        return rc;
    n->cout = (uint32_t)cout;
    n->flatten_chw = x->chw_flat;
    uint32_t geo[2] = {(uint32_t)cout, (uint32_t)cin};
    if ((rc = copy_weights(ctx, n, w, transposed ? 0 : 1, transposed ? same_map : fc_transpose_map,
                           geo)))
        return rc;
    if (alpha != 1.0f) {
        for (size_t k = 0; k < w->count; k++)
            n->weights[k] *= alpha;
        if (n->wscale) {
            if (!(alpha > 0))
                return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "alpha %g with quantized weights", alpha);
            for (uint32_t c = 0; c < n->cout; c++)
                n->wscale[c] *= alpha;
        }
    }
    (*y)->foldable_node = node_index_of(ctx, n);
    if (node)
        *node = n;
    return MXU_OK;
}

/* A bias constant that came out of DequantizeLinear(int32) becomes qbias when the
 * node's weights and input are quantized; otherwise its float values are used. */
static int apply_bias(struct onnx_ctx *ctx, mxu_node *n, const struct onnx_const *b, float beta)
{
    const mxu_value *in = &ctx->g->values[n->inputs[0]];
    if (b->quantized && b->elem == ONNX_INT32 && n->wscale && in->quant.valid && beta == 1.0f &&
        b->count == n->cout)
        return onnx_set_qbias(ctx, n, b, in->quant.scale);
    return onnx_set_bias(ctx, n, b, beta);
}

static int op_conv(struct onnx_ctx *ctx)
{
    struct onnx_sym *x, *y;
    struct onnx_const *w, *b;
    mxu_node *n;
    int rc = onnx_input_value(ctx, 0, 0, &x);
    if (!rc)
        rc = onnx_input_const(ctx, 1, &w);
    if (!rc)
        rc = onnx_input_const_opt(ctx, 2, &b);
    if (!rc)
        rc = onnx_build_conv(ctx, x, w, &n, &y);
    if (!rc && b) {
        if (b->count != n->cout)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "bias has %zu values for %u channels", b->count,
                             n->cout);
        rc = apply_bias(ctx, n, b, 1.0f);
    }
    return rc;
}

static int op_gemm(struct onnx_ctx *ctx)
{
    struct onnx_sym *a, *y;
    struct onnx_const *b, *c;
    int64_t trans_a, trans_b;
    float alpha, beta;
    mxu_node *n;
    int rc = onnx_input_value(ctx, 0, ONNX_IN_FLAT, &a);
    if (!rc)
        rc = onnx_input_const(ctx, 1, &b);
    if (!rc)
        rc = onnx_input_const_opt(ctx, 2, &c);
    if (!rc)
        rc = onnx_attr_int(ctx, "transA", 0, &trans_a);
    if (!rc)
        rc = onnx_attr_int(ctx, "transB", 0, &trans_b);
    if (!rc)
        rc = onnx_attr_float(ctx, "alpha", 1.0f, &alpha);
    if (!rc)
        rc = onnx_attr_float(ctx, "beta", 1.0f, &beta);
    if (rc)
        return rc;
    if (trans_a != 0)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "transA = %lld (activations must not be "
                         "transposed)", (long long)trans_a);
    if (!isfinite(alpha) || !isfinite(beta))
        return onnx_fail(ctx, MXU_ERR_FORMAT, "alpha %g, beta %g", alpha, beta);
    if (trans_b != 0 && trans_b != 1)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "transB = %lld", (long long)trans_b);
    if ((rc = onnx_build_fc(ctx, a, b, (int)trans_b, alpha, &n, &y)))
        return rc;
    if (c && beta != 0.0f) {
        if (!per_channel(c, n->cout, 2, 1))
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "C of %zu values does not broadcast per "
                             "output feature (%u)", c->count, n->cout);
        rc = apply_bias(ctx, n, c, beta);
    }
    return rc;
}

static int op_matmul(struct onnx_ctx *ctx)
{
    struct onnx_sym *a, *y;
    struct onnx_const *b;
    struct onnx_sym *s0 = onnx_input(ctx, 0);
    if (s0 && s0->kind == ONNX_SYM_CONST)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "constant left operand (only x @ W with a "
                         "constant W)");
    int rc = onnx_input_value(ctx, 0, ONNX_IN_FLAT, &a);
    if (!rc)
        rc = onnx_input_const(ctx, 1, &b);
    if (!rc)
        rc = onnx_build_fc(ctx, a, b, 0, 1.0f, NULL, &y);
    return rc;
}

/* ---- elementwise --------------------------------------------------------------------- */

static int add_act(struct onnx_ctx *ctx, enum mxu_act_kind kind, float alpha, float lo, float hi)
{
    struct onnx_sym *x, *y;
    mxu_node *n;
    int rc = onnx_input_value(ctx, 0, ONNX_IN_FLAT, &x);
    if (!rc)
        rc = onnx_add_node(ctx, MXU_NODE_ACT, &x->value, 1, x->ndims, x->shape, &n, &y);
    if (rc)
        return rc;
    n->act.kind = kind;
    n->act.alpha = alpha;
    n->act.lo = lo;
    n->act.hi = hi;
    y->chw_flat = x->chw_flat;
    return MXU_OK;
}

static int op_relu(struct onnx_ctx *ctx)
{
    return add_act(ctx, MXU_ACT_KIND_RELU, 0, 0, 0);
}

static int op_sigmoid(struct onnx_ctx *ctx)
{
    return add_act(ctx, MXU_ACT_KIND_SIGMOID, 0, 0, 0);
}

static int op_tanh(struct onnx_ctx *ctx)
{
    return add_act(ctx, MXU_ACT_KIND_TANH, 0, 0, 0);
}

static int op_leaky_relu(struct onnx_ctx *ctx)
{
    float alpha;
    int rc = onnx_attr_float(ctx, "alpha", 0.01f, &alpha);
    if (!rc && !isfinite(alpha))
        rc = onnx_fail(ctx, MXU_ERR_FORMAT, "alpha %g", alpha);
    return rc ? rc : add_act(ctx, MXU_ACT_KIND_LEAKY, alpha, 0, 0);
}

/* A scalar bound from an optional constant input (opset >= 11). */
static int clip_bound(struct onnx_ctx *ctx, uint32_t i, float *v)
{
    struct onnx_const *c;
    int rc = onnx_input_const_opt(ctx, i, &c);
    if (rc || !c)
        return rc;
    if (c->count != 1)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "Clip bound with %zu values", c->count);
    *v = onnx_const_f(c, 0);
    return MXU_OK;
}

/* Absent bounds are +-FLT_MAX (finite, so quantizers can clamp them). */
static int op_clip(struct onnx_ctx *ctx)
{
    float lo = -FLT_MAX, hi = FLT_MAX;
    int rc;
    if (ctx->opset < 11) {
        if ((rc = onnx_attr_float(ctx, "min", -FLT_MAX, &lo)) ||
            (rc = onnx_attr_float(ctx, "max", FLT_MAX, &hi)))
            return rc;
    } else if ((rc = clip_bound(ctx, 1, &lo)) || (rc = clip_bound(ctx, 2, &hi))) {
        return rc;
    }
    if (!(lo <= hi) || isinf(lo) || isinf(hi))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Clip to [%g, %g]", lo, hi);
    if (lo == 0.0f && hi == FLT_MAX)
        return add_act(ctx, MXU_ACT_KIND_RELU, 0, 0, 0);
    return add_act(ctx, MXU_ACT_KIND_CLIP, 0, lo, hi);
}

/* Add of a per-channel constant right after a conv/FC (MatMul + Add, Conv + Add)
 * becomes that node's bias when nothing else reads the conv/FC result. */
static int fold_bias_add(struct onnx_ctx *ctx, struct onnx_sym *v, struct onnx_sym *cs)
{
    struct onnx_const *c;
    int rc = onnx_sym_const(ctx, cs, &c);
    if (rc)
        return rc;
    mxu_node *n = v->foldable_node >= 0 ? &ctx->g->nodes[v->foldable_node] : NULL;
    if (!n || v->uses != 1 || v->qdomain || !per_channel(c, n->cout, v->ndims, 1))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Add of a constant '%.60s' (only a per-channel "
                         "bias right after Conv/Gemm/MatMul is supported)", cs->name);
    rc = n->bias ? onnx_set_bias(ctx, n, c, 1.0f) : apply_bias(ctx, n, c, 1.0f);
    if (rc)
        return rc;
    struct onnx_sym *y;
    if ((rc = onnx_output(ctx, 0, &y)))
        return rc;
    onnx_alias(y, v);
    return MXU_OK;
}

static int op_add(struct onnx_ctx *ctx)
{
    struct onnx_sym *a = onnx_input(ctx, 0), *b = onnx_input(ctx, 1);
    if (!a || !b)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "Add needs two inputs");
    if (a->kind == ONNX_SYM_CONST && b->kind == ONNX_SYM_VALUE)
        return fold_bias_add(ctx, b, a);
    if (b->kind == ONNX_SYM_CONST && a->kind == ONNX_SYM_VALUE)
        return fold_bias_add(ctx, a, b);
    int rc = onnx_input_value(ctx, 0, 0, &a);
    if (!rc)
        rc = onnx_input_value(ctx, 1, 0, &b);
    if (rc)
        return rc;
    if (a->ndims != b->ndims || memcmp(a->shape, b->shape, a->ndims * sizeof a->shape[0]))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Add of different shapes (no broadcasting)");
    int in[2] = {a->value, b->value};
    return onnx_add_node(ctx, MXU_NODE_ADD, in, 2, a->ndims, a->shape, NULL, NULL);
}

/* ---- pools ---------------------------------------------------------------------------- */

static int pool(struct onnx_ctx *ctx, enum mxu_node_op op)
{
    struct onnx_sym *x, *y;
    int rc = onnx_input_value(ctx, 0, op == MXU_NODE_MAXPOOL ? ONNX_IN_QDOMAIN : 0, &x);
    if (!rc)
        rc = need_rank(ctx, x, 4);
    if (rc)
        return rc;
    struct onnx_window win = {0};
    int64_t ceil_mode, include_pad = 0, storage_order = 0;
    if ((rc = pair_attr(ctx, "kernel_shape", 0, 1, &win.kh, &win.kw)) ||
        (rc = onnx_attr_int(ctx, "ceil_mode", 0, &ceil_mode)) ||
        (rc = onnx_attr_int(ctx, "count_include_pad", 0, &include_pad)) ||
        (rc = onnx_attr_int(ctx, "storage_order", 0, &storage_order)))
        return rc;
    if (!win.kh)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "kernel_shape is missing");
    if (storage_order != 0)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "storage_order %lld", (long long)storage_order);
    if (onnx_output_used(ctx, 1))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "the Indices output");
    if ((rc = read_window(ctx, x->shape[2], x->shape[3], ceil_mode != 0, &win)))
        return rc;
    if (win.dh != 1 || win.dw != 1)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "dilated pooling (%ux%u)", win.dh, win.dw);
    if (op == MXU_NODE_AVGPOOL && include_pad && win.padded)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "count_include_pad = 1 with padding (the "
                         "divisor counts only in-image taps)");
    uint32_t shape[4] = {x->shape[0], x->shape[1], win.oh, win.ow};
    mxu_node *n;
    if ((rc = onnx_add_node(ctx, op, &x->value, 1, 4, shape, &n, &y)))
        return rc;
    set_window(n, &win);
    if (x->qdomain) { /* int8 max-pool keeps the input's quantization */
        y->qdomain = 1;
        ctx->g->values[y->value].quant = ctx->g->values[x->value].quant;
    }
    return MXU_OK;
}

static int op_maxpool(struct onnx_ctx *ctx)
{
    return pool(ctx, MXU_NODE_MAXPOOL);
}

static int op_avgpool(struct onnx_ctx *ctx)
{
    return pool(ctx, MXU_NODE_AVGPOOL);
}

static int op_global_avgpool(struct onnx_ctx *ctx)
{
    struct onnx_sym *x;
    int rc = onnx_input_value(ctx, 0, 0, &x);
    if (!rc)
        rc = need_rank(ctx, x, 4);
    if (rc)
        return rc;
    uint32_t shape[4] = {x->shape[0], x->shape[1], 1, 1};
    return onnx_add_node(ctx, MXU_NODE_GLOBAL_AVGPOOL, &x->value, 1, 4, shape, NULL, NULL);
}

/* GlobalMaxPool = a max-pool whose window is the whole image. */
static int op_global_maxpool(struct onnx_ctx *ctx)
{
    struct onnx_sym *x, *y;
    mxu_node *n;
    int rc = onnx_input_value(ctx, 0, ONNX_IN_QDOMAIN, &x);
    if (!rc)
        rc = need_rank(ctx, x, 4);
    if (rc)
        return rc;
    uint32_t shape[4] = {x->shape[0], x->shape[1], 1, 1};
    if ((rc = onnx_add_node(ctx, MXU_NODE_MAXPOOL, &x->value, 1, 4, shape, &n, &y)))
        return rc;
    n->kh = x->shape[2];
    n->kw = x->shape[3];
    if (x->qdomain) {
        y->qdomain = 1;
        ctx->g->values[y->value].quant = ctx->g->values[x->value].quant;
    }
    return MXU_OK;
}

/* ---- shapes: Flatten, Reshape, Concat --------------------------------------------------- */

/* NCHW [N,C,H,W] -> [N, C*H*W]. */
static int flatten4(struct onnx_ctx *ctx, struct onnx_sym *x)
{
    uint32_t c = x->shape[1], hw = x->shape[2] * x->shape[3];
    uint32_t shape[2] = {x->shape[0], c * hw};
    struct onnx_sym *y;
    int rc = onnx_add_node(ctx, MXU_NODE_FLATTEN, &x->value, 1, 2, shape, NULL, &y);
    if (rc)
        return rc;
    y->chw_flat = c > 1 && hw > 1;
    if (x->qdomain) {
        y->qdomain = 1;
        ctx->g->values[y->value].quant = ctx->g->values[x->value].quant;
    }
    return MXU_OK;
}

static int alias_output(struct onnx_ctx *ctx, const struct onnx_sym *x)
{
    struct onnx_sym *y;
    int rc = onnx_output(ctx, 0, &y);
    if (!rc)
        onnx_alias(y, x);
    return rc;
}

static int op_flatten(struct onnx_ctx *ctx)
{
    struct onnx_sym *x;
    int64_t axis;
    int rc = onnx_input_value(ctx, 0, ONNX_IN_QDOMAIN | ONNX_IN_FLAT, &x);
    if (!rc)
        rc = onnx_attr_int(ctx, "axis", 1, &axis);
    if (rc)
        return rc;
    if (axis < 0)
        axis += x->ndims;
    if (axis != 1)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Flatten axis %lld (only 1: keep the batch)",
                         (long long)axis);
    return x->ndims == 4 ? flatten4(ctx, x) : alias_output(ctx, x);
}

static int op_reshape(struct onnx_ctx *ctx)
{
    struct onnx_sym *x;
    struct onnx_const *s;
    int64_t allowzero;
    int rc = onnx_input_value(ctx, 0, ONNX_IN_QDOMAIN | ONNX_IN_FLAT, &x);
    if (!rc)
        rc = onnx_input_const(ctx, 1, &s);
    if (!rc)
        rc = onnx_attr_int(ctx, "allowzero", 0, &allowzero);
    if (rc)
        return rc;
    if (s->elem != ONNX_INT64 || s->ndims != 1 || s->count < 1 || s->count > 4)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "shape of %zu %s values", s->count,
                         onnx_dtype_name(s->elem));
    uint64_t total = 1, known = 1;
    for (uint32_t i = 0; i < x->ndims; i++)
        total *= x->shape[i];
    int64_t t[4];
    int minus = -1;
    for (uint32_t i = 0; i < s->count; i++) {
        t[i] = s->i64[i];
        if (t[i] == 0 && !allowzero)
            t[i] = i < x->ndims ? (int64_t)x->shape[i] : -2;
        if (t[i] == -1 && minus < 0)
            minus = (int)i;
        else if (t[i] < 1 || t[i] > (int64_t)ONNX_MAX_VALUE_ELEMS)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "shape value %lld", (long long)s->i64[i]);
        else
            known *= (uint64_t)t[i];
        if (known > ONNX_MAX_VALUE_ELEMS)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "shape too large");
    }
    if (minus >= 0) {
        if (total % known)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "cannot reshape %llu elements",
                             (unsigned long long)total);
        t[minus] = (int64_t)(total / known);
    } else if (known != total) {
        return onnx_fail(ctx, MXU_ERR_FORMAT, "reshape of %llu elements to %llu",
                         (unsigned long long)total, (unsigned long long)known);
    }
    int same = s->count == x->ndims;
    for (uint32_t i = 0; same && i < x->ndims; i++)
        same = t[i] == x->shape[i];
    if (same)
        return alias_output(ctx, x);
    if (x->ndims == 4 && s->count == 2 && t[0] == x->shape[0])
        return flatten4(ctx, x);
    return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Reshape of a rank-%u tensor to rank %zu (only "
                     "[N, C*H*W] flattening)", x->ndims, s->count);
}

static int op_concat(struct onnx_ctx *ctx)
{
    const Onnx__NodeProto *node = ctx->node;
    int64_t axis;
    int rc = onnx_attr_int(ctx, "axis", INT64_MIN, &axis);
    if (rc)
        return rc;
    if (axis == INT64_MIN)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "axis is missing");
    int all_const = node->n_input > 0;
    for (uint32_t i = 0; i < node->n_input; i++) {
        const struct onnx_sym *s = onnx_input(ctx, i);
        all_const &= s && s->kind == ONNX_SYM_CONST;
    }
    if (all_const) /* shape arithmetic */
        return onnx_concat_consts(ctx);
    if (node->n_input < 1 || node->n_input > MXU_NODE_MAX_INPUTS)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "%zu inputs (1 to %d)", node->n_input,
                         MXU_NODE_MAX_INPUTS);
    int in[MXU_NODE_MAX_INPUTS];
    struct onnx_sym *first = NULL;
    uint32_t channels = 0;
    for (uint32_t i = 0; i < node->n_input; i++) {
        struct onnx_sym *x;
        if ((rc = onnx_input_value(ctx, i, 0, &x)))
            return rc;
        if (!first) {
            first = x;
            if (axis < 0)
                axis += x->ndims;
            if (axis != 1)
                return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Concat along axis %lld (channels "
                                 "only)", (long long)axis);
        }
        int fits = x->ndims == first->ndims;
        for (uint32_t d = 0; fits && d < x->ndims; d++)
            fits = d == 1 || x->shape[d] == first->shape[d];
        if (!fits)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "input %u's shape does not match input 0's", i);
        channels += x->shape[1];
        if (channels > ONNX_MAX_DIM)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "%u channels", channels);
        in[i] = x->value;
    }
    if (node->n_input == 1)
        return alias_output(ctx, first);
    uint32_t shape[4];
    memcpy(shape, first->shape, sizeof shape);
    shape[1] = channels;
    return onnx_add_node(ctx, MXU_NODE_CONCAT, in, (uint32_t)node->n_input, first->ndims, shape,
                         NULL, NULL);
}

/* ---- BatchNormalization, Softmax ----------------------------------------------------- */

static int bn_array(struct onnx_ctx *ctx, uint32_t i, uint32_t channels, float **out)
{
    struct onnx_const *c;
    int rc = onnx_input_const(ctx, i, &c);
    if (rc)
        return rc;
    if (c->count != channels)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "input %u has %zu values for %u channels", i,
                         c->count, channels);
    float *a = malloc(channels * sizeof *a);
    if (!a)
        return onnx_fail(ctx, MXU_ERR_NOMEM, "batch-norm statistics");
    for (uint32_t k = 0; k < channels; k++) {
        a[k] = onnx_const_f(c, k);
        if (!isfinite(a[k])) {
            float bad = a[k];
            free(a);
            return onnx_fail(ctx, MXU_ERR_FORMAT, "input %u value %u is %g", i, k, bad);
        }
    }
    *out = a;
    return MXU_OK;
}

static int op_batchnorm(struct onnx_ctx *ctx)
{
    struct onnx_sym *x;
    int64_t training, spatial;
    float eps;
    int rc = onnx_input_value(ctx, 0, 0, &x);
    if (!rc)
        rc = onnx_attr_int(ctx, "training_mode", 0, &training);
    if (!rc)
        rc = onnx_attr_int(ctx, "spatial", 1, &spatial);
    if (!rc)
        rc = onnx_attr_float(ctx, "epsilon", 1e-5f, &eps);
    if (rc)
        return rc;
    if (training || spatial != 1 || onnx_output_used(ctx, 1) || onnx_output_used(ctx, 2))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "training-mode batch normalization");
    if (!(eps >= 0) || !isfinite(eps))
        return onnx_fail(ctx, MXU_ERR_FORMAT, "epsilon %g", eps);
    uint32_t ch = x->shape[1];
    struct mxu_batchnorm bn = {.eps = eps};
    if ((rc = bn_array(ctx, 1, ch, &bn.gamma)) || (rc = bn_array(ctx, 2, ch, &bn.beta)) ||
        (rc = bn_array(ctx, 3, ch, &bn.mean)) || (rc = bn_array(ctx, 4, ch, &bn.var)))
        goto fail;
    mxu_node *n;
    if ((rc = onnx_add_node(ctx, MXU_NODE_BATCHNORM, &x->value, 1, x->ndims, x->shape, &n, NULL)))
        goto fail;
    n->bn = bn;
    n->has_bn = 1;
    return MXU_OK;
fail:
    free(bn.gamma), free(bn.beta), free(bn.mean), free(bn.var);
    return rc;
}

static int op_softmax(struct onnx_ctx *ctx)
{
    struct onnx_sym *x;
    int64_t axis;
    int rc = onnx_input_value(ctx, 0, 0, &x);
    if (!rc)
        rc = onnx_attr_int(ctx, "axis", ctx->opset < 13 ? 1 : -1, &axis);
    if (rc)
        return rc;
    if (axis < 0)
        axis += x->ndims;
    /* Over channels: NC's last axis; NCHW axis 1 per pixel (opset >= 13), or
     * before opset 13 (softmax over [C,H,W] flattened) when H = W = 1. */
    int channels = x->ndims == 2 ? axis == 1
                 : axis == 1 && (ctx->opset >= 13 || (x->shape[2] == 1 && x->shape[3] == 1));
    if (!channels)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Softmax over axis %lld of a rank-%u tensor "
                         "(channels only)", (long long)axis, x->ndims);
    return onnx_add_node(ctx, MXU_NODE_SOFTMAX, &x->value, 1, x->ndims, x->shape, NULL, NULL);
}

/* ---- Identity, Dropout, Constant ---------------------------------------------------- */

static int op_identity(struct onnx_ctx *ctx)
{
    struct onnx_sym *x = onnx_input(ctx, 0);
    if (!x)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "input 0 is missing");
    if (onnx_output_used(ctx, 1))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "the Dropout mask output");
    return alias_output(ctx, x);
}

/* value (tensor), value_float(s), value_int(s). */
static int op_constant(struct onnx_ctx *ctx)
{
    const Onnx__NodeProto *node = ctx->node;
    struct onnx_sym *y;
    struct onnx_const *c = NULL;
    int rc = onnx_output(ctx, 0, &y);
    if (rc)
        return rc;
    if (node->n_attribute != 1)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "Constant needs exactly one attribute");
    const Onnx__AttributeProto *a = node->attribute[0];
    const char *name = a->name ? a->name : "";
    int64_t one = 1;
    if (!strcmp(name, "value") && a->t) {
        rc = onnx_const_decode(ctx, a->t, y->name, &c);
    } else if (!strcmp(name, "value_float") && a->has_f) {
        if (!(rc = onnx_const_new(ctx, ONNX_FLOAT, 0, NULL, &c)))
            c->f[0] = a->f;
    } else if (!strcmp(name, "value_int") && a->has_i) {
        if (!(rc = onnx_const_new(ctx, ONNX_INT64, 0, NULL, &c)))
            c->i64[0] = a->i;
    } else if (!strcmp(name, "value_floats")) {
        one = (int64_t)a->n_floats;
        if (!(rc = onnx_const_new(ctx, ONNX_FLOAT, 1, &one, &c)) && a->n_floats)
            memcpy(c->f, a->floats, a->n_floats * sizeof *c->f);
    } else if (!strcmp(name, "value_ints")) {
        one = (int64_t)a->n_ints;
        if (!(rc = onnx_const_new(ctx, ONNX_INT64, 1, &one, &c)) && a->n_ints)
            memcpy(c->i64, a->ints, a->n_ints * sizeof *c->i64);
    } else {
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Constant attribute '%.40s'", name);
    }
    if (rc)
        return rc;
    y->kind = ONNX_SYM_CONST;
    y->c = c;
    return MXU_OK;
}

static const struct onnx_op_entry float_ops[] = {
    {"Conv", op_conv},
    {"Gemm", op_gemm},
    {"MatMul", op_matmul},
    {"Relu", op_relu},
    {"Clip", op_clip},
    {"LeakyRelu", op_leaky_relu},
    {"Sigmoid", op_sigmoid},
    {"Tanh", op_tanh},
    {"MaxPool", op_maxpool},
    {"AveragePool", op_avgpool},
    {"GlobalAveragePool", op_global_avgpool},
    {"GlobalMaxPool", op_global_maxpool},
    {"Flatten", op_flatten},
    {"Reshape", op_reshape},
    {"Add", op_add},
    {"Concat", op_concat},
    {"BatchNormalization", op_batchnorm},
    {"Softmax", op_softmax},
    {"Dropout", op_identity},
    {"Identity", op_identity},
    {"Constant", op_constant},
};

onnx_op_fn onnx_op_lookup(const struct onnx_op_entry *table, size_t n, const char *op_type)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(table[i].op, op_type))
            return table[i].fn;
    return NULL;
}

onnx_op_fn onnx_find_op(const char *op_type)
{
    onnx_op_fn fn = onnx_op_lookup(float_ops, sizeof float_ops / sizeof float_ops[0], op_type);
    if (!fn)
        fn = onnx_find_quant_op(op_type);
    return fn ? fn : onnx_find_shape_op(op_type);
}
