/* Darknet sections into graph nodes, one darknet layer at a time, with
 * darknet's own shape rules (parser.c and the make_*_layer functions):
 *   conv     out = (in + 2*padding - size) / stride + 1, pad=1 means padding = size/2
 *   maxpool  out = (in + padding - size) / stride + 1, window offset -padding/2,
 *            padding defaults to size - 1
 *   avgpool  global; connected reads the whole previous output (CHW order)
 *   route    one layer: that layer's output; more: concatenated channels
 *   shortcut previous layer + `from` (other shapes through a 1x1 projection)
 * Every darknet layer index keeps its record (value and shape) because route
 * and shortcut refer to layers by index. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "darknet_priv.h"
#include "mxu_error.h"

#define DN_MAX_DIM (1L << 20)                   /* one size: height, width, channels, ... */
#define DN_MAX_ELEMS ((1LL << 31) - 1)          /* one tensor or one weight array */
#define DN_MAX_LIST MXU_NODE_MAX_INPUTS         /* route inputs */
#define DN_MAX_PROJECTION (1LL << 26)           /* weights the frontend makes up itself */

struct builder {
    const struct mxu_dn_cfg *cfg;
    struct mxu_dn_net *net;
    const struct mxu_dn_section *sec;
    uint32_t index;                 /* darknet layer index of sec */
    struct mxu_dn_layer *cur;       /* its record */
    const struct mxu_dn_layer *in;  /* the layer before (its output is the input) */
    struct mxu_dn_layer input;      /* the network input, as a pseudo layer */
};

/* ---- messages ------------------------------------------------------------------- */

static int failv(struct builder *b, int code, uint32_t line, const char *fmt, va_list ap)
{
    char msg[384];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return mxu_fail(code, "%s:%u: [%s]: %s", b->cfg->file, line, b->sec->type, msg);
}

/* Fail at the section's line. */
static int fail(struct builder *b, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct builder *b, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(b, code, b->sec->line, fmt, ap);
    va_end(ap);
    return rc;
}

/* Fail at the line of option `key`. */
static int fail_at(struct builder *b, const char *key, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(struct builder *b, const char *key, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(b, code, mxu_dn_line(b->cfg, b->sec, key), fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- options -------------------------------------------------------------------- */

static int opt_int(struct builder *b, const char *key, long def, long lo, long hi, long *out)
{
    return mxu_dn_int(b->cfg, b->sec, key, def, lo, hi, out);
}

static int opt_float(struct builder *b, const char *key, double def, double *out)
{
    return mxu_dn_float(b->cfg, b->sec, key, def, out);
}

/* An option whose only supported value is `def` (e.g. softmax temperature). */
static int require_float(struct builder *b, const char *key, double def, const char *why)
{
    double v;
    int rc = opt_float(b, key, def, &v);
    if (rc)
        return rc;
    if (v != def)
        return fail_at(b, key, MXU_ERR_UNSUPPORTED, "%s=%g not supported (%s)", key, v, why);
    return MXU_OK;
}

/* Integer options that change the layer's meaning and that mxu does not
 * implement: anything but 0 (or absent) is unsupported. */
static int require_zero(struct builder *b, const char *const *keys)
{
    for (; *keys; keys++) {
        long v;
        int rc = opt_int(b, *keys, 0, -DN_MAX_DIM, DN_MAX_DIM, &v);
        if (rc)
            return rc;
        if (v != 0)
            return fail_at(b, *keys, MXU_ERR_UNSUPPORTED, "%s=%ld not supported", *keys, v);
    }
    return MXU_OK;
}

struct act_name {
    const char *name;
    enum mxu_act_kind kind;
    float alpha, lo, hi;
};

/* Darknet's activations that the IR expresses exactly (leaky's slope is 0.1 in
 * darknet's leaky_activate, elu's is 1). Anything else is refused rather than
 * darknet's fallback to relu. */
static const struct act_name acts[] = {
    {"linear", MXU_ACT_KIND_NONE, 0, 0, 0},   {"relu", MXU_ACT_KIND_RELU, 0, 0, 0},
    {"leaky", MXU_ACT_KIND_LEAKY, 0.1f, 0, 0}, {"logistic", MXU_ACT_KIND_SIGMOID, 0, 0, 0},
    {"tanh", MXU_ACT_KIND_TANH, 0, 0, 0},     {"elu", MXU_ACT_KIND_ELU, 1.0f, 0, 0},
    {"swish", MXU_ACT_KIND_SWISH, 0, 0, 0},   {"mish", MXU_ACT_KIND_MISH, 0, 0, 0},
    {"relu6", MXU_ACT_KIND_CLIP, 0, 0, 6},    {"hardtan", MXU_ACT_KIND_CLIP, 0, -1, 1},
};

static int opt_act(struct builder *b, const char *def, struct mxu_act *act)
{
    const char *name;
    int rc = mxu_dn_str(b->cfg, b->sec, "activation", def, &name);
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof acts / sizeof *acts; i++) {
        if (strcmp(acts[i].name, name) == 0) {
            *act = (struct mxu_act){acts[i].kind, acts[i].alpha, acts[i].lo, acts[i].hi};
            return MXU_OK;
        }
    }
    return fail_at(b, "activation", MXU_ERR_UNSUPPORTED,
                   "activation '%.32s' not supported (linear, relu, leaky, logistic, tanh, elu, "
                   "swish, mish, relu6, hardtan)",
                   name);
}

/* "a,b,c" of darknet layer indices (negative: relative to this layer) into
 * absolute indices of earlier layers. */
static int opt_layers(struct builder *b, const char *key, uint32_t *idx, uint32_t *count)
{
    const char *list;
    int rc = mxu_dn_str(b->cfg, b->sec, key, NULL, &list);
    if (rc)
        return rc;
    if (!list)
        return fail(b, MXU_ERR_FORMAT, "'%s=' missing (the layers it reads)", key);
    *count = 0;
    const char *p = list;
    for (;;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ','))
            return fail_at(b, key, MXU_ERR_FORMAT, "%s=%.40s: not a list of layer numbers", key,
                           list);
        if (*count == DN_MAX_LIST)
            return fail_at(b, key, MXU_ERR_UNSUPPORTED, "%s=%.40s: more than %d layers", key,
                           list, DN_MAX_LIST);
        long abs_index = v < 0 ? (long)b->index + v : v;
        if (abs_index < 0 || abs_index >= (long)b->index)
            return fail_at(b, key, MXU_ERR_FORMAT,
                           "%s=%.40s: %ld is layer %ld, but only layers 0..%ld come before "
                           "layer %u",
                           key, list, v, abs_index, (long)b->index - 1, b->index);
        idx[(*count)++] = (uint32_t)abs_index;
        if (!*end)
            return MXU_OK;
        p = end + 1;
    }
}

/* ---- shapes and nodes ----------------------------------------------------------- */

static const char *describe(const struct mxu_dn_layer *l, char *buf, size_t len)
{
    if (l->ndims == 4)
        snprintf(buf, len, "%ux%ux%u", l->w, l->h, l->c);
    else
        snprintf(buf, len, "%u", l->c);
    return buf;
}

/* Layers that read an image (darknet: "Layer before ... must output image"). */
static int need_image(struct builder *b)
{
    if (b->in->ndims == 4)
        return MXU_OK;
    if (b->in == &b->input)
        return fail(b, MXU_ERR_FORMAT, "needs an image input, but [net] gives inputs=%u",
                    b->in->c);
    return fail(b, MXU_ERR_UNSUPPORTED,
                "needs an image input, but layer %u ([%s], line %u) outputs a flat vector",
                b->index - 1, b->in->type, b->in->line);
}

static int set_output(struct builder *b, int value, uint32_t ndims, uint32_t h, uint32_t w,
                      uint32_t c)
{
    if ((uint64_t)h * w * c > (uint64_t)DN_MAX_ELEMS || h > DN_MAX_DIM || w > DN_MAX_DIM)
        return fail(b, MXU_ERR_UNSUPPORTED, "output %ux%ux%u is too large", w, h, c);
    struct mxu_dn_layer *l = b->cur;
    l->value = value;
    l->ndims = ndims;
    l->h = ndims == 4 ? h : 1;
    l->w = ndims == 4 ? w : 1;
    l->c = c;
    mxu_value *v = &b->net->g->values[value];
    v->ndims = ndims;
    memset(v->dims, 0, sizeof v->dims);
    v->dims[0] = 1;
    if (ndims == 4) {
        v->dims[1] = h;
        v->dims[2] = w;
        v->dims[3] = c;
    } else {
        v->dims[1] = c;
    }
    return MXU_OK;
}

/* Add node "<prefix><index>" reading `inputs`; its value is named
 * "layer<index>_<prefix>". */
static int add_node(struct builder *b, enum mxu_node_op op, const char *prefix,
                    const int *inputs, uint32_t n_inputs, mxu_node **out)
{
    char name[MXU_GRAPH_NAME_LEN];
    snprintf(name, sizeof name, "%s%u", prefix, b->index);
    int rc = mxu_graph_add_node(b->net->g, op, name, b->sec->line, inputs, n_inputs, out);
    if (rc)
        return rc;
    mxu_value *v = &b->net->g->values[(*out)->output];
    snprintf(v->name, sizeof v->name, "layer%u_%s", b->index, prefix);
    return MXU_OK;
}

/* A node with one input (the previous layer) and the same output shape. */
static int same_shape_node(struct builder *b, enum mxu_node_op op, const char *prefix,
                           mxu_node **out)
{
    int in = b->in->value;
    int rc = add_node(b, op, prefix, &in, 1, out);
    if (rc)
        return rc;
    b->cur->hwc_flat = b->in->hwc_flat;
    return set_output(b, (*out)->output, b->in->ndims, b->in->h, b->in->w, b->in->c);
}

/* Darknet's output size for a window of extent `k` over `in` + pads, with C's
 * truncating division: (in + pads - k) / s + 1. A slightly negative numerator
 * still gives 1 in darknet (the window hangs over the end); *extra is then the
 * padding to add at the end for the IR's floor formula to agree. */
static int out_size(struct builder *b, const char *what, long long in, long long pads,
                    long long k, long long s, uint32_t *out, uint32_t *extra)
{
    long long num = in + pads - k;
    *extra = 0;
    if (num < 0) {
        if (-num >= s)
            return fail(b, MXU_ERR_FORMAT,
                        "window of %lld does not fit the %s %lld (+ padding %lld)", k, what, in,
                        pads);
        *extra = (uint32_t)-num;
        num = 0;
    }
    long long o = num / s + 1;
    if (o > DN_MAX_DIM)
        return fail(b, MXU_ERR_UNSUPPORTED, "output %s %lld is too large", what, o);
    *out = (uint32_t)o;
    return MXU_OK;
}

/* ---- layers --------------------------------------------------------------------- */

static int layer_conv(struct builder *b)
{
    static const char *const unsupported[] = {"binary", "xnor", "antialiasing", "sway", "rotate",
                                              "stretch", "stretch_sway", "deform", NULL};
    long filters, size, stride, sx, sy, pad, padding, groups, dil, bn, flipped;
    struct mxu_act act;
    int rc;
    if ((rc = need_image(b)) || (rc = require_zero(b, unsupported)) ||
        (rc = opt_int(b, "filters", 1, 1, DN_MAX_DIM, &filters)) ||
        (rc = opt_int(b, "size", 1, 1, DN_MAX_DIM, &size)) ||
        (rc = opt_int(b, "stride", 1, 1, DN_MAX_DIM, &stride)) ||
        (rc = opt_int(b, "stride_x", stride, 1, DN_MAX_DIM, &sx)) ||
        (rc = opt_int(b, "stride_y", stride, 1, DN_MAX_DIM, &sy)) ||
        (rc = opt_int(b, "pad", 0, 0, 1, &pad)) ||
        (rc = opt_int(b, "padding", 0, 0, DN_MAX_DIM, &padding)) ||
        (rc = opt_int(b, "groups", 1, 1, DN_MAX_DIM, &groups)) ||
        (rc = opt_int(b, "dilation", 1, 1, DN_MAX_DIM, &dil)) ||
        (rc = opt_int(b, "batch_normalize", 0, 0, 1, &bn)) ||
        (rc = opt_int(b, "flipped", 0, 0, 1, &flipped)) || (rc = opt_act(b, "logistic", &act)))
        return rc;
    if (mxu_dn_find(b->cfg, b->sec, "share_index"))
        return fail_at(b, "share_index", MXU_ERR_UNSUPPORTED,
                       "share_index (shared weights) not supported");
    const struct mxu_dn_layer *in = b->in;
    if (in->c % groups || filters % groups)
        return fail_at(b, "groups", MXU_ERR_FORMAT,
                       "groups=%ld must divide the input channels (%u) and filters (%ld)", groups,
                       in->c, filters);
    if (flipped && groups > 1)
        return fail_at(b, "flipped", MXU_ERR_UNSUPPORTED, "flipped=1 with groups=%ld", groups);
    if (pad)
        padding = size / 2;
    if (size == 1)
        dil = 1; /* as darknet */
    /* Darknet sizes the output without the dilation and pads by padding*dilation;
     * the two agree only for 'same' padding. */
    if (dil > 1 && 2 * padding != size - 1)
        return fail_at(b, "dilation", MXU_ERR_UNSUPPORTED,
                       "dilation=%ld needs 'same' padding (pad=1, odd size), not padding=%ld "
                       "with size=%ld",
                       dil, padding, size);
    long long pe = (long long)padding * dil, keff = (long long)(size - 1) * dil + 1;
    if (pe > DN_MAX_DIM || keff > DN_MAX_DIM)
        return fail_at(b, "dilation", MXU_ERR_UNSUPPORTED,
                       "dilated kernel %lld or padding %lld is too large", keff, pe);
    double n_weights = (double)filters * (double)(in->c / groups) * (double)size * (double)size;
    if (n_weights > (double)DN_MAX_ELEMS)
        return fail(b, MXU_ERR_UNSUPPORTED, "%.0f weights are too many", n_weights);
    uint32_t oh, ow, extra_h, extra_w;
    if ((rc = out_size(b, "height", in->h, 2 * pe, keff, sy, &oh, &extra_h)) ||
        (rc = out_size(b, "width", in->w, 2 * pe, keff, sx, &ow, &extra_w)))
        return rc;

    mxu_node *n;
    if ((rc = add_node(b, MXU_NODE_CONV, "conv", &in->value, 1, &n)))
        return rc;
    n->cout = (uint32_t)filters;
    n->kh = n->kw = (uint32_t)size;
    n->stride_h = (uint32_t)sy;
    n->stride_w = (uint32_t)sx;
    n->dil_h = n->dil_w = (uint32_t)dil;
    n->groups = (uint32_t)groups;
    n->pad_top = n->pad_left = (uint32_t)pe;
    n->pad_bottom = (uint32_t)pe + extra_h;
    n->pad_right = (uint32_t)pe + extra_w;
    n->act = act;
    n->has_bn = (int)bn;

    struct mxu_dn_layer *l = b->cur;
    l->kind = MXU_DN_CONV;
    l->node = (int)b->net->g->n_nodes - 1;
    l->n = (uint32_t)filters;
    l->cin = in->c;
    l->ksize = (uint32_t)size;
    l->groups = (uint32_t)groups;
    l->batch_normalize = (int)bn;
    l->flipped = (int)flipped;
    return set_output(b, n->output, 4, oh, ow, (uint32_t)filters);
}

static int layer_connected(struct builder *b)
{
    long output, bn;
    struct mxu_act act;
    int rc;
    if ((rc = opt_int(b, "output", 1, 1, DN_MAX_DIM, &output)) ||
        (rc = opt_int(b, "batch_normalize", 0, 0, 1, &bn)) || (rc = opt_act(b, "logistic", &act)))
        return rc;
    const struct mxu_dn_layer *in = b->in;
    if (in->hwc_flat)
        return fail(b, MXU_ERR_UNSUPPORTED,
                    "reads layer %u ([%s], line %u), a softmax over an image flattened in "
                    "H,W,C order where darknet's weights expect C,H,W",
                    b->index - 1, in->type, in->line);
    long long inputs = (long long)in->h * in->w * in->c;
    if (inputs * output > DN_MAX_ELEMS)
        return fail(b, MXU_ERR_UNSUPPORTED, "%lld x %ld weights are too many", inputs, output);
    mxu_node *n;
    if ((rc = add_node(b, MXU_NODE_FC, "fc", &in->value, 1, &n)))
        return rc;
    n->cout = (uint32_t)output;
    n->flatten_chw = in->ndims == 4; /* darknet's memory is C,H,W */
    n->act = act;
    n->has_bn = (int)bn;

    struct mxu_dn_layer *l = b->cur;
    l->kind = MXU_DN_CONNECTED;
    l->node = (int)b->net->g->n_nodes - 1;
    l->n = (uint32_t)output;
    l->cin = (uint32_t)inputs;
    l->batch_normalize = (int)bn;
    return set_output(b, n->output, 2, 1, 1, (uint32_t)output);
}

static int layer_maxpool(struct builder *b)
{
    static const char *const unsupported[] = {"maxpool_depth", "antialiasing", NULL};
    long stride, sx, sy, size, padding;
    int rc;
    if ((rc = need_image(b)) || (rc = require_zero(b, unsupported)) ||
        (rc = opt_int(b, "stride", 1, 1, DN_MAX_DIM, &stride)) ||
        (rc = opt_int(b, "stride_x", stride, 1, DN_MAX_DIM, &sx)) ||
        (rc = opt_int(b, "stride_y", stride, 1, DN_MAX_DIM, &sy)) ||
        (rc = opt_int(b, "size", stride, 1, DN_MAX_DIM, &size)) ||
        (rc = opt_int(b, "padding", size - 1, 0, DN_MAX_DIM, &padding)))
        return rc;
    const struct mxu_dn_layer *in = b->in;
    uint32_t oh, ow, extra_h, extra_w;
    if ((rc = out_size(b, "height", in->h, padding, size, sy, &oh, &extra_h)) ||
        (rc = out_size(b, "width", in->w, padding, size, sx, &ow, &extra_w)))
        return rc;
    /* Darknet starts the windows at -padding/2; a window wholly outside the
     * image would give -FLT_MAX there, which the IR cannot express. */
    long top = padding / 2;
    if (top > size - 1 || -top + (long long)(oh - 1) * sy > (long long)in->h - 1 ||
        -top + (long long)(ow - 1) * sx > (long long)in->w - 1)
        return fail_at(b, "padding", MXU_ERR_UNSUPPORTED,
                       "padding=%ld leaves windows of size %ld wholly outside the %ux%u input",
                       padding, size, in->w, in->h);
    mxu_node *n;
    if ((rc = add_node(b, MXU_NODE_MAXPOOL, "maxpool", &in->value, 1, &n)))
        return rc;
    n->kh = n->kw = (uint32_t)size;
    n->stride_h = (uint32_t)sy;
    n->stride_w = (uint32_t)sx;
    n->pad_top = n->pad_left = (uint32_t)top;
    n->pad_bottom = (uint32_t)(padding - top) + extra_h;
    n->pad_right = (uint32_t)(padding - top) + extra_w;
    return set_output(b, n->output, 4, oh, ow, in->c);
}

static int layer_avgpool(struct builder *b)
{
    int rc = need_image(b);
    if (rc)
        return rc;
    mxu_node *n;
    if ((rc = add_node(b, MXU_NODE_GLOBAL_AVGPOOL, "avgpool", &b->in->value, 1, &n)))
        return rc;
    return set_output(b, n->output, 4, 1, 1, b->in->c);
}

static int layer_softmax(struct builder *b)
{
    long groups;
    double spatial;
    int rc;
    if ((rc = opt_int(b, "groups", 1, 1, DN_MAX_DIM, &groups)) ||
        (rc = require_float(b, "temperature", 1.0, "softmax of x/temperature")) ||
        (rc = opt_float(b, "spatial", 0.0, &spatial)))
        return rc;
    if (groups != 1)
        return fail_at(b, "groups", MXU_ERR_UNSUPPORTED,
                       "groups=%ld (softmax per group) not supported", groups);
    if (mxu_dn_find(b->cfg, b->sec, "tree"))
        return fail_at(b, "tree", MXU_ERR_UNSUPPORTED,
                       "hierarchical softmax (tree=) not supported");
    if (spatial != 0)
        return fail_at(b, "spatial", MXU_ERR_UNSUPPORTED, "spatial softmax not supported");
    const struct mxu_dn_layer *in = b->in;
    mxu_node *n;
    if (in->ndims == 4 && in->h * in->w > 1) {
        /* darknet's softmax runs over the whole output: flatten first */
        if ((rc = add_node(b, MXU_NODE_FLATTEN, "flatten", &in->value, 1, &n)) ||
            (rc = set_output(b, n->output, 2, 1, 1, in->h * in->w * in->c)))
            return rc;
        int flat = n->output;
        if ((rc = add_node(b, MXU_NODE_SOFTMAX, "softmax", &flat, 1, &n)))
            return rc;
        b->cur->hwc_flat = in->c > 1;
        return set_output(b, n->output, 2, 1, 1, in->h * in->w * in->c);
    }
    if ((rc = add_node(b, MXU_NODE_SOFTMAX, "softmax", &in->value, 1, &n)))
        return rc;
    b->cur->hwc_flat = in->hwc_flat;
    return set_output(b, n->output, in->ndims, in->h, in->w, in->c);
}

static int layer_dropout(struct builder *b)
{
    double p;
    mxu_node *n;
    int rc = opt_float(b, "probability", 0.5, &p);
    if (rc)
        return rc;
    if (p < 0 || p > 1)
        return fail_at(b, "probability", MXU_ERR_FORMAT, "probability=%g outside 0..1", p);
    return same_shape_node(b, MXU_NODE_IDENTITY, "dropout", &n);
}

static int layer_cost(struct builder *b)
{
    mxu_node *n;
    return same_shape_node(b, MXU_NODE_IDENTITY, "cost", &n);
}

static int layer_empty(struct builder *b)
{
    mxu_node *n;
    return same_shape_node(b, MXU_NODE_IDENTITY, "empty", &n);
}

static int same_layer_shape(const struct mxu_dn_layer *a, const struct mxu_dn_layer *c)
{
    return a->ndims == c->ndims && a->h == c->h && a->w == c->w && a->c == c->c;
}

/* Darknet's shortcut between different shapes (shortcut_cpu): with the `from`
 * output w1 x h1 x c1 and this layer's w2 x h2 x c2, it adds
 * from[k][j*stride][i*stride] to out[k][j][i] for k < min(c1, c2), i < min(w1, w2),
 * j < min(h1, h2), where stride = w1 / w2 (at least 1); other outputs keep the
 * previous layer's value. That is the sum with a 1x1 convolution of `from` of
 * that stride whose weights are the identity on the shared channels (zero
 * elsewhere), plus zero padding at the end when `from` is smaller. Darknet's
 * other case (w2 >= 2*w1: `from` spread out with gaps) has no such form. */
static int shortcut_projection(struct builder *b, const struct mxu_dn_layer *src, int *value)
{
    const struct mxu_dn_layer *out = b->in;
    char s1[48], s2[48];
    describe(src, s1, sizeof s1);
    describe(out, s2, sizeof s2);
    if (src->ndims != 4 || out->ndims != 4)
        return fail_at(b, "from", MXU_ERR_UNSUPPORTED, "shortcut of %s onto %s", s1, s2);
    uint32_t stride = src->w / out->w, sample = out->w / src->w;
    if (stride != src->h / out->h || sample != out->h / src->h)
        return fail_at(b, "from", MXU_ERR_FORMAT,
                       "shortcut of %s onto %s: width and height ratios differ (darknet asserts)",
                       s1, s2);
    stride = stride ? stride : 1;
    uint32_t pad_h = out->h > src->h ? out->h - src->h : 0;
    uint32_t pad_w = out->w > src->w ? out->w - src->w : 0;
    if (sample > 1 || (src->h + pad_h - 1) / stride + 1 != out->h ||
        (src->w + pad_w - 1) / stride + 1 != out->w)
        return fail_at(b, "from", MXU_ERR_UNSUPPORTED, "shortcut of %s onto %s (sample %u, stride %u)",
                       s1, s2, sample ? sample : 1, stride);
    uint64_t count = (uint64_t)out->c * src->c;
    if (count > DN_MAX_PROJECTION)
        return fail_at(b, "from", MXU_ERR_UNSUPPORTED, "shortcut of %s onto %s: too many channels",
                       s1, s2);
    float *w = calloc(count, sizeof *w), *bias = calloc(out->c, sizeof *bias);
    if (!w || !bias) {
        free(w);
        free(bias);
        return fail(b, MXU_ERR_NOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < out->c && k < src->c; k++)
        w[(uint64_t)k * src->c + k] = 1.0f;
    mxu_node *n;
    int rc = add_node(b, MXU_NODE_CONV, "proj", &src->value, 1, &n);
    if (rc) {
        free(w);
        free(bias);
        return rc;
    }
    n->cout = out->c;
    n->stride_h = n->stride_w = stride;
    n->pad_bottom = pad_h;
    n->pad_right = pad_w;
    n->weights = w;
    n->bias = bias;
    mxu_value *v = &b->net->g->values[n->output];
    v->ndims = 4;
    v->dims[0] = 1, v->dims[1] = out->h, v->dims[2] = out->w, v->dims[3] = out->c;
    *value = n->output;
    return MXU_OK;
}

static int layer_shortcut(struct builder *b)
{
    uint32_t from[DN_MAX_LIST], count;
    struct mxu_act act;
    const char *wtype;
    int rc;
    if ((rc = opt_layers(b, "from", from, &count)) || (rc = opt_act(b, "linear", &act)) ||
        (rc = require_float(b, "alpha", 1.0, "scaled shortcut")) ||
        (rc = require_float(b, "beta", 1.0, "scaled shortcut")) ||
        (rc = mxu_dn_str(b->cfg, b->sec, "weights_type", "none", &wtype)))
        return rc;
    if (count != 1)
        return fail_at(b, "from", MXU_ERR_UNSUPPORTED, "shortcut of %u layers (only one)", count);
    if (strcmp(wtype, "none") != 0)
        return fail_at(b, "weights_type", MXU_ERR_UNSUPPORTED, "weights_type=%.32s", wtype);
    const struct mxu_dn_layer *src = &b->net->layers[from[0]];
    int inputs[2] = {b->in->value, src->value};
    if (!same_layer_shape(src, b->in) && (rc = shortcut_projection(b, src, &inputs[1])))
        return rc;
    mxu_node *n;
    if ((rc = add_node(b, MXU_NODE_ADD, "shortcut", inputs, 2, &n)))
        return rc;
    n->act = act;
    b->cur->hwc_flat = b->in->hwc_flat || src->hwc_flat;
    return set_output(b, n->output, b->in->ndims, b->in->h, b->in->w, b->in->c);
}

static int layer_route(struct builder *b)
{
    uint32_t idx[DN_MAX_LIST], count;
    long groups;
    int rc;
    if ((rc = opt_layers(b, "layers", idx, &count)) ||
        (rc = opt_int(b, "groups", 1, 1, DN_MAX_DIM, &groups)))
        return rc;
    if (groups != 1)
        return fail_at(b, "groups", MXU_ERR_UNSUPPORTED,
                       "groups=%ld (a slice of the channels) not supported", groups);
    const struct mxu_dn_layer *first = &b->net->layers[idx[0]];
    int inputs[DN_MAX_LIST];
    uint64_t channels = 0;
    char s1[48], s2[48];
    for (uint32_t i = 0; i < count; i++) {
        const struct mxu_dn_layer *l = &b->net->layers[idx[i]];
        if (l->ndims != first->ndims || l->h != first->h || l->w != first->w)
            return fail_at(b, "layers", MXU_ERR_FORMAT,
                           "layers %u (%s) and %u (%s) differ in width/height", idx[0],
                           describe(first, s1, sizeof s1), idx[i], describe(l, s2, sizeof s2));
        inputs[i] = l->value;
        channels += l->c;
        b->cur->hwc_flat |= l->hwc_flat;
    }
    mxu_node *n;
    if (count == 1) {
        if ((rc = add_node(b, MXU_NODE_IDENTITY, "route", inputs, 1, &n)))
            return rc;
    } else {
        if (channels > DN_MAX_DIM)
            return fail(b, MXU_ERR_UNSUPPORTED, "%llu channels are too many",
                         (unsigned long long)channels);
        if ((rc = add_node(b, MXU_NODE_CONCAT, "route", inputs, count, &n)))
            return rc;
    }
    return set_output(b, n->output, first->ndims, first->h, first->w, (uint32_t)channels);
}

static int layer_upsample(struct builder *b)
{
    long stride;
    int rc;
    if ((rc = need_image(b)) || (rc = opt_int(b, "stride", 2, -DN_MAX_DIM, DN_MAX_DIM, &stride)) ||
        (rc = require_float(b, "scale", 1.0, "scaled upsample")))
        return rc;
    if (stride == 0)
        return fail_at(b, "stride", MXU_ERR_FORMAT, "stride=0");
    if (stride < 0)
        return fail_at(b, "stride", MXU_ERR_UNSUPPORTED,
                       "stride=%ld (darknet's reverse upsample, a downsample) not supported",
                       stride);
    const struct mxu_dn_layer *in = b->in;
    long long oh = (long long)in->h * stride, ow = (long long)in->w * stride;
    if (oh > DN_MAX_DIM || ow > DN_MAX_DIM)
        return fail(b, MXU_ERR_UNSUPPORTED, "output %lldx%lld is too large", ow, oh);
    mxu_node *n;
    if (stride == 1)
        return same_shape_node(b, MXU_NODE_IDENTITY, "upsample", &n);
    if ((rc = add_node(b, MXU_NODE_UPSAMPLE, "upsample", &in->value, 1, &n)))
        return rc;
    n->scale = (uint32_t)stride;
    return set_output(b, n->output, 4, (uint32_t)oh, (uint32_t)ow, in->c);
}

static int layer_batchnorm(struct builder *b)
{
    mxu_node *n;
    int rc = same_shape_node(b, MXU_NODE_BATCHNORM, "bn", &n);
    if (rc)
        return rc;
    n->has_bn = 1;
    struct mxu_dn_layer *l = b->cur;
    l->kind = MXU_DN_BATCHNORM;
    l->node = (int)b->net->g->n_nodes - 1;
    l->n = b->in->c;
    return MXU_OK;
}

static int act_node(struct builder *b, const struct mxu_act *act, const char *prefix)
{
    mxu_node *n;
    if (act->kind == MXU_ACT_KIND_NONE)
        return same_shape_node(b, MXU_NODE_IDENTITY, prefix, &n);
    int rc = same_shape_node(b, MXU_NODE_ACT, prefix, &n);
    if (rc == MXU_OK)
        n->act = *act;
    return rc;
}

static int layer_activation(struct builder *b)
{
    struct mxu_act act;
    int rc = opt_act(b, "linear", &act);
    return rc ? rc : act_node(b, &act, "act");
}

/* pjreddie's [logistic]: a logistic cross-entropy cost whose output is the
 * sigmoid of its input. */
static int layer_logistic(struct builder *b)
{
    struct mxu_act act = {.kind = MXU_ACT_KIND_SIGMOID};
    return act_node(b, &act, "logistic");
}

/* ---- dispatch ------------------------------------------------------------------- */

struct layer_type {
    const char *name;
    int (*build)(struct builder *b); /* NULL: a darknet layer mxu does not support */
};

static const struct layer_type layer_types[] = {
    {"convolutional", layer_conv}, {"conv", layer_conv},
    {"connected", layer_connected}, {"conn", layer_connected},
    {"maxpool", layer_maxpool}, {"max", layer_maxpool},
    {"avgpool", layer_avgpool}, {"avg", layer_avgpool},
    {"softmax", layer_softmax}, {"soft", layer_softmax},
    {"dropout", layer_dropout}, {"cost", layer_cost},
    {"shortcut", layer_shortcut}, {"route", layer_route},
    {"upsample", layer_upsample}, {"batchnorm", layer_batchnorm},
    {"activation", layer_activation}, {"logistic", layer_logistic},
    {"empty", layer_empty},
    /* darknet (pjreddie's or AlexeyAB's) knows these; mxu does not */
    {"local", NULL}, {"deconvolutional", NULL}, {"deconv", NULL}, {"crop", NULL},
    {"detection", NULL}, {"region", NULL}, {"yolo", NULL}, {"Gaussian_yolo", NULL},
    {"iseg", NULL}, {"l2norm", NULL}, {"crnn", NULL}, {"rnn", NULL}, {"gru", NULL},
    {"lstm", NULL}, {"conv_lstm", NULL}, {"reorg", NULL}, {"reorg3d", NULL},
    {"normalization", NULL}, {"lrn", NULL}, {"scale_channels", NULL}, {"sam", NULL},
    {"local_avgpool", NULL}, {"local_avg", NULL}, {"implicit_add", NULL},
    {"implicit_mul", NULL}, {"contrastive", NULL},
};

static int is_net_section(const struct mxu_dn_section *s)
{
    return strcmp(s->type, "net") == 0 || strcmp(s->type, "network") == 0;
}

static int build_layer(struct builder *b)
{
    if (is_net_section(b->sec))
        return fail(b, MXU_ERR_FORMAT, "[%s] must be the first section, and only once",
                    b->sec->type);
    for (size_t i = 0; i < sizeof layer_types / sizeof *layer_types; i++) {
        if (strcmp(layer_types[i].name, b->sec->type) != 0)
            continue;
        if (!layer_types[i].build)
            return fail(b, MXU_ERR_UNSUPPORTED, "layer type not supported");
        long dontload, dontloadscales, numload;
        int rc;
        if ((rc = opt_int(b, "dontload", 0, 0, 1, &dontload)) ||
            (rc = opt_int(b, "dontloadscales", 0, 0, 1, &dontloadscales)) ||
            (rc = opt_int(b, "numload", 0, 0, DN_MAX_DIM, &numload)))
            return rc;
        b->cur->no_load = dontload || dontloadscales || numload;
        return layer_types[i].build(b);
    }
    return fail(b, MXU_ERR_FORMAT, "unknown layer type");
}

/* [net]: the input image (height x width x channels) or, for flat networks,
 * `inputs`; batch is ignored (inference runs one image). */
static int build_input(struct builder *b)
{
    long h, w, c, inputs;
    int rc;
    if ((rc = opt_int(b, "height", 0, 0, DN_MAX_DIM, &h)) ||
        (rc = opt_int(b, "width", 0, 0, DN_MAX_DIM, &w)) ||
        (rc = opt_int(b, "channels", 0, 0, DN_MAX_DIM, &c)))
        return rc;
    long long hwc = (long long)h * w * c;
    if (hwc > DN_MAX_ELEMS)
        return fail(b, MXU_ERR_UNSUPPORTED, "input %ldx%ldx%ld is too large", w, h, c);
    if ((rc = opt_int(b, "inputs", (long)hwc, 0, (long)DN_MAX_ELEMS, &inputs)))
        return rc;
    uint32_t ndims = 4;
    if (hwc > 0) {
        if (inputs != hwc)
            return fail_at(b, "inputs", MXU_ERR_FORMAT,
                           "inputs=%ld but height*width*channels = %lld", inputs, hwc);
    } else if (h || w || c) {
        return fail(b, MXU_ERR_FORMAT,
                    "height, width and channels must all be given (height=%ld width=%ld "
                    "channels=%ld)",
                    h, w, c);
    } else if (inputs > 0) {
        ndims = 2;
        h = w = 1;
        c = inputs;
    } else {
        return fail(b, MXU_ERR_FORMAT, "no input size (height, width, channels or inputs)");
    }
    uint32_t dims[4] = {1, (uint32_t)h, (uint32_t)w, (uint32_t)c};
    if (ndims == 2)
        dims[1] = (uint32_t)c;
    int value;
    mxu_graph *g = b->net->g;
    if ((rc = mxu_graph_add_value(g, "input", ndims, dims, &value)) ||
        (rc = mxu_graph_add_input(g, value)))
        return rc;
    b->input = (struct mxu_dn_layer){.type = b->sec->type, .line = b->sec->line, .node = -1,
                                     .value = value, .ndims = ndims, .h = (uint32_t)h,
                                     .w = (uint32_t)w, .c = (uint32_t)c};
    return MXU_OK;
}

/* "dir/alexnet.cfg" -> "alexnet" */
static void graph_name(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, len, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
}

static void set_preprocess(mxu_graph *g)
{
    /* darknet feeds RGB pixels scaled to 0..1 */
    g->pre.scale = 1.0f / 255.0f;
    for (int i = 0; i < 4; i++) {
        g->pre.mean[i] = 0.0f;
        g->pre.std[i] = 1.0f;
    }
    g->pre.bgr = 0;
    g->has_pre = 1;
}

int mxu_dn_build(const struct mxu_dn_cfg *cfg, const char *name, struct mxu_dn_net *net)
{
    memset(net, 0, sizeof *net);
    if (cfg->n_sections == 0)
        return mxu_fail(MXU_ERR_FORMAT, "%s: no sections (a cfg starts with [net])", cfg->file);
    if (!is_net_section(&cfg->sections[0]))
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: first section is [%s], expected [net] or [network]",
                        cfg->file, cfg->sections[0].line, cfg->sections[0].type);
    if (cfg->n_sections == 1)
        return mxu_fail(MXU_ERR_FORMAT, "%s: no layers after [%s]", cfg->file,
                        cfg->sections[0].type);

    char gname[MXU_GRAPH_NAME_LEN];
    graph_name(name, gname, sizeof gname);
    int rc = mxu_graph_new(gname, &net->g);
    if (rc)
        return rc;
    snprintf(net->g->source, sizeof net->g->source, "%s", name);
    set_preprocess(net->g);
    net->layers = calloc(cfg->n_sections - 1, sizeof *net->layers);
    if (!net->layers) {
        rc = mxu_fail(MXU_ERR_NOMEM, "darknet: out of memory");
        goto fail;
    }

    struct builder b = {.cfg = cfg, .net = net, .sec = &cfg->sections[0]};
    if ((rc = build_input(&b)))
        goto fail;
    b.in = &b.input;
    for (uint32_t i = 1; i < cfg->n_sections; i++) {
        b.sec = &cfg->sections[i];
        b.index = i - 1;
        b.cur = &net->layers[b.index];
        *b.cur = (struct mxu_dn_layer){.type = b.sec->type, .line = b.sec->line, .node = -1,
                                       .value = -1};
        if ((rc = build_layer(&b)))
            goto fail;
        net->n_layers = i;
        b.in = b.cur;
    }
    if ((rc = mxu_graph_add_output(net->g, b.in->value)))
        goto fail;
    return MXU_OK;
fail:
    mxu_dn_net_free(net);
    return rc;
}

void mxu_dn_net_free(struct mxu_dn_net *net)
{
    mxu_graph_free(net->g);
    free(net->layers);
    memset(net, 0, sizeof *net);
}
