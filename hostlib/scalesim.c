/* SCALE-Sim's weight-stationary formula and its file formats (mxu_scalesim.h). */
#include "mxu_scalesim.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"

/* ---- the formula ------------------------------------------------------------------- */

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

uint64_t mxu_scalesim_ws_cycles(uint32_t rows, uint32_t cols, uint64_t t, uint64_t k, uint64_t n,
                                uint32_t groups)
{
    if (!rows || !cols || !t || !k || !n || !groups)
        return 0;
    uint64_t fold = 2ull * rows + cols + t - 2;
    return groups * fold * ceil_div(k, rows) * ceil_div(n, cols);
}

uint64_t mxu_scalesim_desc_cycles(const struct mxu_layer_desc *d, uint32_t rows, uint32_t cols)
{
    uint32_t g = d->groups ? d->groups : 1;
    if (d->op == MXU_LAYER_FC)
        return mxu_scalesim_ws_cycles(rows, cols, d->n, d->cin, d->cout, 1);
    if (d->op != MXU_LAYER_CONV2D)
        return 0;
    struct mxu_layer_desc conv = *d;
    uint32_t oh, ow;
    conv.pool_k = 0;
    mxu_layer_desc_out(&conv, &oh, &ow);
    return mxu_scalesim_ws_cycles(rows, cols, (uint64_t)d->n * oh * ow, (uint64_t)d->kh * d->kw * (d->cin / g),
                                  d->cout / g, g);
}

static uint64_t conv_extent(uint32_t in, uint32_t k, uint32_t s, uint32_t d, uint32_t p0, uint32_t p1)
{
    uint64_t ext = (uint64_t)(k - 1) * (d ? d : 1) + 1, padded = (uint64_t)in + p0 + p1;
    return s && k && padded >= ext ? (padded - ext) / s + 1 : 0;
}

uint64_t mxu_scalesim_layer_cycles(const mxu_program *p, uint32_t index, uint32_t rows, uint32_t cols)
{
    if (index >= p->n_layers)
        return 0;
    const mxu_layer *l = &p->layers[index];
    if (l->input >= p->n_tensors || (l->op != MXU_LAYER_CONV2D && l->op != MXU_LAYER_FC))
        return 0;
    const mxu_tensor *in = &p->tensors[l->input];
    uint64_t batch = in->ndims ? in->dims[0] : 1;
    if (l->op == MXU_LAYER_FC)
        return batch ? mxu_scalesim_ws_cycles(rows, cols, batch, mxu_tensor_elems(in) / batch, l->cout, 1) : 0;
    if (in->ndims != 4)
        return 0;
    uint32_t g = l->groups ? l->groups : 1;
    uint64_t oh = conv_extent(in->dims[1], l->kh, l->stride_h, l->dil_h, l->pad_top, l->pad_bottom);
    uint64_t ow = conv_extent(in->dims[2], l->kw, l->stride_w, l->dil_w, l->pad_left, l->pad_right);
    return mxu_scalesim_ws_cycles(rows, cols, batch * oh * ow, (uint64_t)l->kh * l->kw * (in->dims[3] / g),
                                  l->cout / g, g);
}

/* ---- reading files ----------------------------------------------------------------- */

#define MAX_FILE_BYTES (16u << 20)

static int read_text(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mxu_fail(MXU_ERR_IO, "%s: %s", path, strerror(errno));
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return mxu_fail(MXU_ERR_NOMEM, "%s: reading", path);
    if (bad || n > MAX_FILE_BYTES) {
        free(buf);
        return mxu_fail(bad ? MXU_ERR_IO : MXU_ERR_FORMAT, "%s: %s", path,
                        bad ? "read error" : "larger than 16 MiB");
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return MXU_OK;
}

/* Lines of a text: [*start, *end) of the next line; returns 0 at the end. */
struct line_iter {
    const char *p, *end;
    uint32_t number;
};

static int next_line(struct line_iter *it, const char **start, size_t *len)
{
    if (it->p >= it->end)
        return 0;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *stop = nl ? nl : it->end;
    *start = it->p;
    *len = (size_t)(stop - it->p);
    it->p = nl ? nl + 1 : it->end;
    it->number++;
    return 1;
}

/* Trim spaces (and \r, tabs) from both ends of [s, s+len). */
static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s))
        (*s)++, (*len)--;
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/* A positive decimal integer up to max; 0 if it is not one. */
static uint32_t parse_positive(const char *s, size_t len, uint32_t max)
{
    uint64_t v = 0;
    if (!len || len > 10)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v >= 1 && v <= max ? (uint32_t)v : 0;
}

static void base_name(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), b);
}

/* ---- topology CSV ------------------------------------------------------------------ */

#define MAX_FIELDS 16
#define MAX_DIM (1u << 20)

struct fields {
    size_t n;
    const char *s[MAX_FIELDS];
    size_t len[MAX_FIELDS];
};

/* Split a line at commas, trimmed; a field starting with '#' ends the line and
 * empty trailing fields are dropped. Returns -1 when there are too many. */
static int split_fields(const char *s, size_t len, struct fields *f)
{
    f->n = 0;
    const char *end = s + len;
    while (s <= end) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *stop = comma ? comma : end;
        const char *fs = s;
        size_t fl = (size_t)(stop - s);
        trim(&fs, &fl);
        if (fl && fs[0] == '#')
            break;
        if (f->n == MAX_FIELDS)
            return -1;
        f->s[f->n] = fs;
        f->len[f->n++] = fl;
        if (!comma)
            break;
        s = comma + 1;
    }
    while (f->n && !f->len[f->n - 1])
        f->n--;
    return 0;
}

/* Field i equals word (exact) or starts with it (prefix), ignoring case. */
static int field_match(const struct fields *f, size_t i, const char *word, int prefix)
{
    size_t n = strlen(word);
    if (i >= f->n || f->len[i] < n || (!prefix && f->len[i] != n))
        return 0;
    for (size_t k = 0; k < n; k++)
        if (tolower((unsigned char)f->s[i][k]) != tolower((unsigned char)word[k]))
            return 0;
    return 1;
}

static int contains(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (!memcmp(s + i, word, n))
            return 1;
    return 0;
}

static const char *const conv_columns[] = {"Layer name",   "IFMAP Height", "IFMAP Width", "Filter Height",
                                           "Filter Width", "Channels",     "Num Filter",  "Strides",
                                           "Stride width"};
static const char *const gemm_columns[] = {"Layer", "M", "N", "K"};

static int grow(struct mxu_scalesim_topology *t, uint32_t *cap)
{
    if (t->n_layers < *cap)
        return MXU_OK;
    uint32_t n = *cap ? *cap * 2 : 16;
    struct mxu_layer_desc *l = realloc(t->layers, n * sizeof *l);
    if (l)
        t->layers = l;
    char(*names)[MXU_NAME_LEN] = realloc(t->names, n * sizeof *names);
    if (names)
        t->names = names;
    uint32_t *lines = realloc(t->lines, n * sizeof *lines);
    if (lines)
        t->lines = lines;
    if (!l || !names || !lines)
        return mxu_fail(MXU_ERR_NOMEM, "topology of %u layers", n);
    *cap = n;
    return MXU_OK;
}

static void init_desc(struct mxu_layer_desc *d, uint32_t op)
{
    memset(d, 0, sizeof *d);
    d->op = op;
    d->n = d->h = d->w = 1;
    d->kh = d->kw = d->stride_h = d->stride_w = d->dil_h = d->dil_w = d->groups = 1;
    d->act_min = -128;
    d->act_max = 127;
}

/* The numeric columns 1..count of a data line into v[]. */
static int numbers(const struct fields *f, size_t count, const char *const *columns, const char *path,
                   uint32_t line, uint32_t *v)
{
    for (size_t i = 1; i <= count; i++) {
        v[i] = parse_positive(f->s[i], f->len[i], MAX_DIM);
        if (!v[i])
            return mxu_fail(MXU_ERR_FORMAT, "%s:%u: layer '%.*s', column %zu (%s): '%.*s' is not an integer "
                            "in 1..%u", path, line, (int)f->len[0], f->s[0], i + 1, columns[i],
                            (int)f->len[i], f->s[i], MAX_DIM);
    }
    return MXU_OK;
}

static int conv_layer(const struct fields *f, const char *path, uint32_t line, struct mxu_layer_desc *d)
{
    uint32_t v[9];
    if (f->n < 8 || f->n > 9)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: layer '%.*s' has %zu fields, expected 8 or 9 (Layer name, "
                        "IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                        "Strides[, Stride width])", path, line, (int)f->len[0], f->s[0], f->n);
    int rc = numbers(f, f->n - 1, conv_columns, path, line, v);
    if (rc)
        return rc;
    init_desc(d, MXU_LAYER_CONV2D);
    d->h = v[1], d->w = v[2], d->kh = v[3], d->kw = v[4], d->cin = v[5], d->cout = v[6];
    d->stride_h = d->stride_w = v[7];
    if (f->n == 9)
        d->stride_w = v[8];
    if (d->kh > d->h || d->kw > d->w)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: layer '%.*s': the %ux%u filter is larger than the %ux%u "
                        "IFMAP (SCALE-Sim convolutions have no padding)", path, line, (int)f->len[0], f->s[0],
                        d->kh, d->kw, d->h, d->w);
    if (contains(f->s[0], f->len[0], "DP")) { /* depthwise: each channel its own filters */
        if ((uint64_t)d->cin * d->cout > MAX_DIM)
            return mxu_fail(MXU_ERR_FORMAT, "%s:%u: depthwise layer '%.*s': %u channels x %u filters too many",
                            path, line, (int)f->len[0], f->s[0], d->cin, d->cout);
        d->groups = d->cin;
        d->cout *= d->cin;
    }
    return MXU_OK;
}

static int gemm_layer(const struct fields *f, const char *path, uint32_t line, struct mxu_layer_desc *d)
{
    uint32_t v[4];
    if (f->n != 4)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: layer '%.*s' has %zu fields, expected 4 (Layer, M, N, K)", path,
                        line, (int)f->len[0], f->s[0], f->n);
    int rc = numbers(f, 3, gemm_columns, path, line, v);
    if (rc)
        return rc;
    init_desc(d, MXU_LAYER_FC);
    d->n = v[1], d->cout = v[2], d->cin = v[3];
    return MXU_OK;
}

static int check_header(struct mxu_scalesim_topology *t, const struct fields *f, const char *path, uint32_t line)
{
    if (field_match(f, 0, "Layer", 1) && field_match(f, 1, "M", 0) && field_match(f, 2, "N", 0) &&
        field_match(f, 3, "K", 0)) {
        t->gemm = 1;
        return MXU_OK;
    }
    if (field_match(f, 0, "Layer", 1) && field_match(f, 1, "IFMAP", 1) && f->n >= 8)
        return MXU_OK;
    return mxu_fail(MXU_ERR_FORMAT, "%s:%u: not a SCALE-Sim topology header: expected 'Layer name, IFMAP Height, "
                    "IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,' or 'Layer, M, N, K,'",
                    path, line);
}

static int parse_layer_line(struct mxu_scalesim_topology *t, const struct fields *f, const char *path,
                            uint32_t line)
{
    struct mxu_layer_desc *d = &t->layers[t->n_layers];
    if (!f->len[0])
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: a layer without a name", path, line);
    int rc = t->gemm ? gemm_layer(f, path, line, d) : conv_layer(f, path, line, d);
    if (rc)
        return rc;
    size_t n = f->len[0] < MXU_NAME_LEN - 1 ? f->len[0] : MXU_NAME_LEN - 1;
    memcpy(t->names[t->n_layers], f->s[0], n);
    t->names[t->n_layers][n] = 0;
    t->lines[t->n_layers++] = line;
    return MXU_OK;
}

int mxu_scalesim_topology_parse(const char *text, size_t len, const char *path,
                                struct mxu_scalesim_topology **out)
{
    *out = NULL;
    struct mxu_scalesim_topology *t = calloc(1, sizeof *t);
    if (!t)
        return mxu_fail(MXU_ERR_NOMEM, "%s: topology", path);
    base_name(path, t->name, sizeof t->name);
    struct line_iter it = {text, text + len, 0};
    const char *s;
    size_t n;
    uint32_t cap = 0;
    int header_seen = 0, rc = MXU_OK;
    while (rc == MXU_OK && next_line(&it, &s, &n)) {
        struct fields f;
        trim(&s, &n);
        if (!n || s[0] == '#')
            continue;
        if (memchr(s, 0, n)) {
            rc = mxu_fail(MXU_ERR_FORMAT, "%s:%u: binary data (a NUL byte)", path, it.number);
        } else if (split_fields(s, n, &f)) {
            rc = mxu_fail(MXU_ERR_FORMAT, "%s:%u: more than %d fields", path, it.number, MAX_FIELDS);
        } else if (!header_seen) {
            rc = check_header(t, &f, path, it.number);
            header_seen = 1;
        } else if ((rc = grow(t, &cap)) == MXU_OK) {
            rc = parse_layer_line(t, &f, path, it.number);
        }
    }
    if (rc == MXU_OK && !t->n_layers)
        rc = mxu_fail(MXU_ERR_FORMAT, "%s: no layers%s", path, header_seen ? " after the header" : " (empty file)");
    for (uint32_t i = 0; rc == MXU_OK && i < t->n_layers; i++)
        t->layers[i].name = t->names[i];
    if (rc) {
        mxu_scalesim_topology_free(t);
        return rc;
    }
    *out = t;
    return MXU_OK;
}

int mxu_scalesim_topology_read(const char *path, struct mxu_scalesim_topology **out)
{
    char *text;
    size_t len;
    *out = NULL;
    int rc = read_text(path, &text, &len);
    if (rc)
        return rc;
    rc = mxu_scalesim_topology_parse(text, len, path, out);
    free(text);
    return rc;
}

void mxu_scalesim_topology_free(struct mxu_scalesim_topology *t)
{
    if (!t)
        return;
    free(t->layers);
    free(t->names);
    free(t->lines);
    free(t);
}

/* ---- configuration file ------------------------------------------------------------ */

static int key_is(const char *k, size_t klen, const char *name)
{
    if (strlen(name) != klen)
        return 0;
    for (size_t i = 0; i < klen; i++)
        if (tolower((unsigned char)k[i]) != tolower((unsigned char)name[i]))
            return 0;
    return 1;
}

/* A size or dimension: a positive integer. */
static int config_number(const char *path, uint32_t line, const char *key, const char *v, size_t vlen,
                         uint32_t max, uint32_t *out, uint32_t *out_line)
{
    *out = parse_positive(v, vlen, max);
    if (!*out)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: %s '%.*s' is not an integer in 1..%u", path, line, key, (int)vlen, v,
                        max);
    *out_line = line;
    return MXU_OK;
}

/* Bandwidth: one value per memory bank ("10" or "10,20"); the smallest counts. */
static int config_bandwidth(struct mxu_scalesim_config *c, uint32_t line, const char *v, size_t vlen)
{
    struct fields f;
    uint32_t min = 0;
    if (split_fields(v, vlen, &f) || !f.n)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: Bandwidth '%.*s' is not a list of integers", c->path, line,
                        (int)vlen, v);
    for (size_t i = 0; i < f.n; i++) {
        uint32_t b = parse_positive(f.s[i], f.len[i], 1u << 20);
        if (!b)
            return mxu_fail(MXU_ERR_FORMAT, "%s:%u: Bandwidth '%.*s' is not an integer in 1..%u", c->path, line,
                            (int)f.len[i], f.s[i], 1u << 20);
        if (!min || b < min)
            min = b;
    }
    c->bandwidth = min;
    c->line_bandwidth = line;
    return MXU_OK;
}

enum { SEC_NONE, SEC_GENERAL, SEC_ARCH, SEC_RUN, SEC_OTHER };

static int config_arch_key(struct mxu_scalesim_config *c, uint32_t line, const char *k, size_t klen,
                           const char *v, size_t vlen)
{
    const uint32_t kb_max = 1u << 22; /* 4 GiB */
    if (key_is(k, klen, "ArrayHeight"))
        return config_number(c->path, line, "ArrayHeight", v, vlen, 1u << 16, &c->rows, &c->line_rows);
    if (key_is(k, klen, "ArrayWidth"))
        return config_number(c->path, line, "ArrayWidth", v, vlen, 1u << 16, &c->cols, &c->line_cols);
    if (key_is(k, klen, "IfmapSramSzkB") || key_is(k, klen, "IfmapSramSz"))
        return config_number(c->path, line, "IfmapSramSzkB", v, vlen, kb_max, &c->ifmap_kb, &c->line_ifmap);
    if (key_is(k, klen, "FilterSramSzkB") || key_is(k, klen, "FilterSramSz"))
        return config_number(c->path, line, "FilterSramSzkB", v, vlen, kb_max, &c->filter_kb, &c->line_filter);
    if (key_is(k, klen, "OfmapSramSzkB") || key_is(k, klen, "OfmapSramSz"))
        return config_number(c->path, line, "OfmapSramSzkB", v, vlen, kb_max, &c->ofmap_kb, &c->line_ofmap);
    if (key_is(k, klen, "Bandwidth"))
        return config_bandwidth(c, line, v, vlen);
    if (key_is(k, klen, "Dataflow")) {
        if (!key_is(v, vlen, "ws") && !key_is(v, vlen, "os") && !key_is(v, vlen, "is"))
            return mxu_fail(MXU_ERR_FORMAT, "%s:%u: Dataflow '%.*s' is not ws, os or is", c->path, line, (int)vlen, v);
        c->dataflow[0] = (char)tolower((unsigned char)v[0]);
        c->dataflow[1] = (char)tolower((unsigned char)v[1]);
        c->dataflow[2] = 0;
    }
    return MXU_OK;
}

/* One "key = value" / "key: value" line of section sec. */
static int config_line(struct mxu_scalesim_config *c, int sec, uint32_t line, const char *s, size_t n,
                       int *calc)
{
    const char *eq = memchr(s, '=', n), *colon = memchr(s, ':', n);
    const char *sep = eq && (!colon || eq < colon) ? eq : colon;
    if (!sep)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: '%.*s' is neither 'key = value' nor 'key: value'", c->path, line,
                        (int)n, s);
    if (sec == SEC_NONE)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: '%.*s' before any [section]", c->path, line, (int)n, s);
    const char *k = s, *v = sep + 1;
    size_t klen = (size_t)(sep - s), vlen = n - klen - 1;
    trim(&k, &klen);
    trim(&v, &vlen);
    if (!klen)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: a value without a key", c->path, line);
    if (sec == SEC_GENERAL && key_is(k, klen, "run_name")) {
        if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
            v++, vlen -= 2;
        snprintf(c->run_name, sizeof c->run_name, "%.*s", (int)vlen, v);
    } else if (sec == SEC_RUN && key_is(k, klen, "InterfaceBandwidth")) {
        if (!key_is(v, vlen, "USER") && !key_is(v, vlen, "CALC"))
            return mxu_fail(MXU_ERR_FORMAT, "%s:%u: InterfaceBandwidth '%.*s' is not USER or CALC", c->path, line,
                            (int)vlen, v);
        *calc = key_is(v, vlen, "CALC");
    } else if (sec == SEC_ARCH) {
        return config_arch_key(c, line, k, klen, v, vlen);
    }
    return MXU_OK;
}

static int section_of(const char *path, uint32_t line, const char *s, size_t n, int *sec)
{
    if (n < 2 || s[n - 1] != ']')
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: unterminated section header '%.*s'", path, line, (int)n, s);
    const char *name = s + 1;
    size_t len = n - 2;
    trim(&name, &len);
    *sec = key_is(name, len, "general")               ? SEC_GENERAL
           : key_is(name, len, "architecture_presets") ? SEC_ARCH
           : key_is(name, len, "run_presets")          ? SEC_RUN
                                                       : SEC_OTHER;
    return MXU_OK;
}

int mxu_scalesim_config_parse(const char *text, size_t len, const char *path, struct mxu_scalesim_config *out)
{
    struct mxu_scalesim_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.path, sizeof c.path, "%s", path);
    struct line_iter it = {text, text + len, 0};
    const char *s;
    size_t n;
    int sec = SEC_NONE, calc = 0, have_arch = 0, rc = MXU_OK;
    while (rc == MXU_OK && next_line(&it, &s, &n)) {
        trim(&s, &n);
        if (!n || s[0] == '#' || s[0] == ';')
            continue;
        if (memchr(s, 0, n))
            rc = mxu_fail(MXU_ERR_FORMAT, "%s:%u: binary data (a NUL byte)", path, it.number);
        else if (s[0] == '[' && (rc = section_of(path, it.number, s, n, &sec)) == MXU_OK)
            have_arch |= sec == SEC_ARCH;
        else if (s[0] != '[')
            rc = config_line(&c, sec, it.number, s, n, &calc);
    }
    if (rc)
        return rc;
    if (!have_arch)
        return mxu_fail(MXU_ERR_FORMAT, "%s: no [architecture_presets] section", path);
    if (!c.rows || !c.cols)
        return mxu_fail(MXU_ERR_FORMAT, "%s: [architecture_presets] has no %s", path,
                        c.rows ? "ArrayWidth" : "ArrayHeight");
    if (calc) /* SCALE-Sim computes the bandwidth itself: the sweep's --bw decides */
        c.bandwidth = 0, c.line_bandwidth = 0;
    if (!c.run_name[0])
        base_name(path, c.run_name, sizeof c.run_name);
    *out = c;
    return MXU_OK;
}

int mxu_scalesim_config_read(const char *path, struct mxu_scalesim_config *out)
{
    char *text;
    size_t len;
    int rc = read_text(path, &text, &len);
    if (rc)
        return rc;
    rc = mxu_scalesim_config_parse(text, len, path, out);
    free(text);
    return rc;
}

static uint32_t next_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

int mxu_scalesim_config_apply(const struct mxu_scalesim_config *s, mxu_hw_config *cfg, uint32_t *bw)
{
    mxu_hw_config c = *cfg;
    const char *path = s->path;
    if (s->rows > 256 || s->cols > 256)
        return mxu_fail(MXU_ERR_INVAL, "%s:%u: a %ux%u array is larger than mxu's 256x256", path,
                        s->rows > 256 ? s->line_rows : s->line_cols, s->rows, s->cols);
    c.rows = s->rows;
    c.cols = s->cols;
    uint32_t line = c.rows > c.cols ? c.rows : c.cols;
    if (s->ifmap_kb) {
        uint64_t lines = (uint64_t)s->ifmap_kb * 1024 / line;
        if (!lines || lines > (1u << 24))
            return mxu_fail(MXU_ERR_INVAL, "%s:%u: IfmapSramSzkB=%u gives %llu unified-buffer lines of %u bytes "
                            "(1..%u)", path, s->line_ifmap, s->ifmap_kb, (unsigned long long)lines, line, 1u << 24);
        c.ub_lines = (uint32_t)lines;
    }
    if (s->filter_kb) {
        uint64_t lines = (uint64_t)s->filter_kb * 1024 / c.cols;
        if (lines < c.rows || lines > 65536ull + c.rows)
            return mxu_fail(MXU_ERR_INVAL, "%s:%u: FilterSramSzkB=%u gives %llu weight lines of %u bytes; mxu "
                            "needs %u..%u (at least one %u-row tile)", path, s->line_filter, s->filter_kb,
                            (unsigned long long)lines, c.cols, c.rows, 65536 + c.rows, c.rows);
        c.wb_lines = (uint32_t)lines;
    }
    if (s->ofmap_kb) {
        uint64_t rows = (uint64_t)s->ofmap_kb * 1024 / (4ull * c.cols);
        if (!rows || rows > 65536)
            return mxu_fail(MXU_ERR_INVAL, "%s:%u: OfmapSramSzkB=%u gives %llu accumulator rows of %u int32; mxu "
                            "needs 1..65536", path, s->line_ofmap, s->ofmap_kb, (unsigned long long)rows, c.cols);
        c.acc_rows = (uint32_t)rows;
    }
    if (s->bandwidth) {
        if (s->bandwidth > 64)
            return mxu_fail(MXU_ERR_INVAL, "%s:%u: Bandwidth %u is more than mxu's widest DRAM beat (64 bytes)",
                            path, s->line_bandwidth, s->bandwidth);
        if (s->bandwidth > c.dram_beat_bytes)
            c.dram_beat_bytes = next_pow2(s->bandwidth);
    }
    int rc = mxu_config_validate(&c);
    if (rc) {
        char detail[300];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        return mxu_fail(rc, "%s: %s", path, detail);
    }
    *cfg = c;
    if (bw)
        *bw = s->bandwidth;
    return MXU_OK;
}
