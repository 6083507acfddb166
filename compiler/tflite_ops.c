/* TFLite operators into graph nodes (one node per operator; QUANTIZE,
 * DEQUANTIZE and RESHAPE only re-label tensors). Everything is checked
 * against what TFLite's int8 kernels accept; whatever mxu cannot compute
 * exactly is MXU_ERR_UNSUPPORTED naming the operator and its index. */
#include <stdlib.h>
#include <string.h>

#include "tflite_priv.h"

/* Builtin option table types (schema.fbs union BuiltinOptions). */
enum {
    OPT_CONV = 1,
    OPT_DEPTHWISE = 2,
    OPT_POOL = 5,
    OPT_FC = 8,
    OPT_SOFTMAX = 9,
    OPT_ADD = 11,
};
enum { PAD_SAME = 0, PAD_VALID = 1 };
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1_TO_1 = 2, ACT_RELU6 = 3 };

static int options(const struct tfl_ctx *c, const struct tfl_op *op, uint8_t type)
{
    if (op->has_options && op->options_type != type)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "options of type %u (expected %u)",
                           op->options_type, type);
    return MXU_OK;
}

/* Option fields; the schema defaults when the op has no options table. */
static int opt_i32(const struct tfl_op *op, unsigned id, int32_t def, int32_t *v)
{
    *v = def;
    return op->has_options ? fb_i32(&op->options, id, def, v) : MXU_OK;
}

static int opt_u8(const struct tfl_op *op, unsigned id, uint8_t def, uint8_t *v)
{
    *v = def;
    return op->has_options ? fb_u8(&op->options, id, def, v) : MXU_OK;
}

static int fused_act(const struct tfl_ctx *c, const struct tfl_op *op, uint8_t code, struct mxu_act *a)
{
    switch (code) {
    case ACT_NONE: *a = (struct mxu_act){.kind = MXU_ACT_KIND_NONE}; return MXU_OK;
    case ACT_RELU: *a = (struct mxu_act){.kind = MXU_ACT_KIND_RELU}; return MXU_OK;
    case ACT_RELU6: *a = (struct mxu_act){.kind = MXU_ACT_KIND_CLIP, .lo = 0, .hi = 6}; return MXU_OK;
    case ACT_RELU_N1_TO_1: *a = (struct mxu_act){.kind = MXU_ACT_KIND_CLIP, .lo = -1, .hi = 1}; return MXU_OK;
    default:
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "fused activation %u (NONE, RELU, RELU6 and "
                           "RELU_N1_TO_1 are supported)", code);
    }
}

/* A node reading `inputs`, writing tensor `out` (named after it). */
static int add_node(struct tfl_ctx *c, const struct tfl_op *op, enum mxu_node_op kind, const int *inputs,
                    uint32_t n_inputs, struct tfl_tensor *out, mxu_node **node)
{
    int rc = mxu_graph_add_node(c->g, kind, out->name, 0, inputs, n_inputs, node);
    if (rc)
        return rc;
    return tfl_define(c, op, out, (*node)->output);
}

/* The op's only output tensor and its first input's value. */
static int io(const struct tfl_ctx *c, const struct tfl_op *op, struct tfl_tensor **in, int *in_value,
              struct tfl_tensor **out)
{
    int rc = tfl_input(c, op, 0, 0, in);
    if (!rc)
        rc = tfl_value(c, op, *in, in_value);
    if (!rc)
        rc = tfl_output(c, op, out);
    return rc;
}

/* ---- constants ---------------------------------------------------------------------- */

static int32_t le32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static int constant(const struct tfl_ctx *c, const struct tfl_op *op, const struct tfl_tensor *t,
                    uint8_t type, uint32_t elem_size, const char *what)
{
    if (!t->data)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "%s '%s' is not a constant", what, t->name);
    if (t->type != type)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "%s '%s' has type %u (%s expected)", what,
                           t->name, t->type, type == TFL_INT8 ? "int8" : "int32");
    if (t->data_len != t->elems * elem_size)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "%s '%s' holds %llu bytes for %llu elements", what,
                           t->name, (unsigned long long)t->data_len, (unsigned long long)t->elems);
    return MXU_OK;
}

/* Symmetric int8 weights quantized per tensor or along dimension qdim
 * (cout entries): the scales as float per output channel. */
static int weight_scales(const struct tfl_ctx *c, const struct tfl_op *op, const struct tfl_tensor *w,
                         int32_t qdim, uint32_t cout, float *scale)
{
    if (w->n_scale != 1 && (w->n_scale != cout || w->qdim != qdim))
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "weights '%s' have %u scales along dimension "
                           "%d (1, or %u along %d expected)", w->name, w->n_scale, w->qdim, cout, qdim);
    for (uint32_t k = 0; k < w->zero_point.count; k++)
        if (fb_vec_i64(&c->b, &w->zero_point, k) != 0)
            return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "weights '%s' are not symmetric (zero "
                               "point %lld)", w->name, (long long)fb_vec_i64(&c->b, &w->zero_point, k));
    for (uint32_t oc = 0; oc < cout; oc++) {
        scale[oc] = fb_vec_f32(&c->b, &w->scale, w->n_scale == 1 ? 0 : oc);
        if (!(scale[oc] > 0) || scale[oc] > 1e30f)
            return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "weights '%s' channel %u has scale %g",
                               w->name, oc, (double)scale[oc]);
    }
    return MXU_OK;
}

/* The node's int8 weights (TFLite filter layout: conv [cout][kh][kw][cin],
 * depthwise [1][kh][kw][cout] transposed to [cout][kh][kw][1], FC [cout][cin]),
 * scales and int32 bias. */
static int set_weights(const struct tfl_ctx *c, const struct tfl_op *op, mxu_node *n,
                       const struct tfl_tensor *w, const struct tfl_tensor *bias, int depthwise)
{
    uint32_t cout = n->cout;
    uint64_t count = w->elems, per = count / cout;
    n->qweights = malloc((size_t)count);
    n->wscale = malloc(cout * sizeof *n->wscale);
    n->qbias = bias ? malloc(cout * sizeof *n->qbias) : NULL;
    if (!n->qweights || !n->wscale || (bias && !n->qbias))
        return mxu_fail(MXU_ERR_NOMEM, "weights of operator %u", op->index);
    if (!depthwise) {
        memcpy(n->qweights, w->data, (size_t)count);
    } else {
        for (uint64_t tap = 0; tap < per; tap++)
            for (uint32_t oc = 0; oc < cout; oc++)
                n->qweights[oc * per + tap] = (int8_t)w->data[tap * cout + oc];
    }
    for (uint32_t oc = 0; bias && oc < cout; oc++)
        n->qbias[oc] = le32(bias->data + 4ull * oc);
    return weight_scales(c, op, w, depthwise ? 3 : 0, cout, n->wscale);
}

static int check_bias(const struct tfl_ctx *c, const struct tfl_op *op, const struct tfl_tensor *b,
                      uint32_t cout)
{
    if (!b)
        return MXU_OK;
    int rc = constant(c, op, b, TFL_INT32, 4, "bias");
    if (!rc && b->elems != cout)
        rc = tfl_op_fail(c, op, MXU_ERR_FORMAT, "bias '%s' has %llu values for %u channels", b->name,
                         (unsigned long long)b->elems, cout);
    return rc;
}

/* ---- convolutions ----------------------------------------------------------------- */

static int padding(const struct tfl_ctx *c, const struct tfl_op *op, uint8_t mode, int32_t in, int32_t k,
                   int32_t stride, int32_t dil, uint32_t *begin, uint32_t *end)
{
    int32_t out, b = 0, e = 0;
    if (mode == PAD_SAME && mxu_same_padding(in, k, stride, dil, &out, &b, &e))
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "SAME padding of a %d-wide window (stride %d, "
                           "dilation %d) over %d", k, stride, dil, in);
    if (mode != PAD_SAME && mode != PAD_VALID)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "padding mode %u", mode);
    *begin = (uint32_t)b, *end = (uint32_t)e;
    return MXU_OK;
}

struct window {
    uint8_t pad;
    int32_t stride_w, stride_h, dil_w, dil_h;
};

static int set_window(const struct tfl_ctx *c, const struct tfl_op *op, mxu_node *n,
                      const struct tfl_tensor *in, const struct window *w)
{
    if (w->stride_w < 1 || w->stride_h < 1 || w->dil_w < 1 || w->dil_h < 1)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "stride %dx%d, dilation %dx%d", w->stride_h,
                           w->stride_w, w->dil_h, w->dil_w);
    n->stride_h = (uint32_t)w->stride_h, n->stride_w = (uint32_t)w->stride_w;
    n->dil_h = (uint32_t)w->dil_h, n->dil_w = (uint32_t)w->dil_w;
    int rc = padding(c, op, w->pad, in->dims[1], (int32_t)n->kh, w->stride_h, w->dil_h, &n->pad_top,
                     &n->pad_bottom);
    if (!rc)
        rc = padding(c, op, w->pad, in->dims[2], (int32_t)n->kw, w->stride_w, w->dil_w, &n->pad_left,
                     &n->pad_right);
    return rc;
}

static int import_conv(struct tfl_ctx *c, const struct tfl_op *op, int depthwise)
{
    struct tfl_tensor *in, *w, *bias, *out;
    struct window win;
    uint8_t act;
    int32_t multiplier = 0;
    int x;
    int rc = io(c, op, &in, &x, &out);
    if (!rc)
        rc = tfl_input(c, op, 1, 0, &w);
    if (!rc)
        rc = tfl_input(c, op, 2, 1, &bias);
    if (!rc)
        rc = options(c, op, depthwise ? OPT_DEPTHWISE : OPT_CONV);
    if (rc)
        return rc;
    /* Conv2DOptions: padding 0, stride_w 1, stride_h 2, act 3, dilation_w 4, dilation_h 5;
     * DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
     * act 4, dilation_w 5, dilation_h 6 */
    unsigned a = depthwise ? 4 : 3, d = depthwise ? 5 : 4;
    if ((rc = opt_u8(op, 0, PAD_SAME, &win.pad)) || (rc = opt_i32(op, 1, 0, &win.stride_w)) ||
        (rc = opt_i32(op, 2, 0, &win.stride_h)) || (rc = opt_u8(op, a, ACT_NONE, &act)) ||
        (rc = opt_i32(op, d, 1, &win.dil_w)) || (rc = opt_i32(op, d + 1, 1, &win.dil_h)) ||
        (depthwise && (rc = opt_i32(op, 3, 0, &multiplier))))
        return rc;
    if ((rc = constant(c, op, w, TFL_INT8, 1, "filter")))
        return rc;
    if (in->ndims != 4 || w->ndims != 4)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "input '%s' of %u and filter of %u dimensions "
                           "(4 expected)", in->name, in->ndims, w->ndims);
    uint32_t cin = (uint32_t)in->dims[3], cout = (uint32_t)w->dims[depthwise ? 3 : 0];
    uint32_t groups = depthwise ? cin : w->dims[3] ? cin / (uint32_t)w->dims[3] : 0;
    if (depthwise && (w->dims[0] != 1 || cout % cin ||
                      (multiplier > 0 && (uint32_t)multiplier * cin != cout)))
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "depthwise filter [%d, %d, %d, %d] (depth multiplier "
                           "%d) for %u input channels", w->dims[0], w->dims[1], w->dims[2], w->dims[3],
                           multiplier, cin);
    if (!depthwise && (!groups || cin % (uint32_t)w->dims[3] || cout % groups))
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "filter with %d input channels for an input of %u",
                           w->dims[3], cin);
    if ((rc = check_bias(c, op, bias, cout)))
        return rc;
    mxu_node *n;
    if ((rc = add_node(c, op, MXU_NODE_CONV, &x, 1, out, &n)))
        return rc;
    n->cout = cout, n->groups = groups;
    n->kh = (uint32_t)w->dims[1], n->kw = (uint32_t)w->dims[2];
    if ((rc = set_window(c, op, n, in, &win)) || (rc = fused_act(c, op, act, &n->act)))
        return rc;
    return set_weights(c, op, n, w, bias, depthwise);
}

static int import_fc(struct tfl_ctx *c, const struct tfl_op *op)
{
    struct tfl_tensor *in, *w, *bias, *out;
    uint8_t act, format, keep_dims;
    int x;
    int rc = io(c, op, &in, &x, &out);
    if (!rc)
        rc = tfl_input(c, op, 1, 0, &w);
    if (!rc)
        rc = tfl_input(c, op, 2, 1, &bias);
    if (!rc)
        rc = options(c, op, OPT_FC);
    if (!rc)
        rc = opt_u8(op, 0, ACT_NONE, &act);
    if (!rc)
        rc = opt_u8(op, 1, 0, &format);
    if (!rc)
        rc = opt_u8(op, 2, 0, &keep_dims);
    if (!rc)
        rc = constant(c, op, w, TFL_INT8, 1, "weights");
    if (rc)
        return rc;
    if (format != 0)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "shuffled weights format %u", format);
    if (w->ndims != 2)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "weights of %u dimensions", w->ndims);
    uint32_t cout = (uint32_t)w->dims[0];
    uint64_t cin = (uint64_t)w->dims[1];
    if (in->elems != (uint64_t)in->dims[0] * cin || (keep_dims && in->ndims != 2))
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "input '%s' (%llu values, first dimension %d) "
                           "is not [batch, %llu]%s", in->name, (unsigned long long)in->elems,
                           in->dims[0], (unsigned long long)cin, keep_dims ? " with keep_num_dims" : "");
    if ((rc = check_bias(c, op, bias, cout)))
        return rc;
    mxu_node *n;
    if ((rc = add_node(c, op, MXU_NODE_FC, &x, 1, out, &n)))
        return rc;
    n->cout = cout;
    /* TFLite's per-tensor FC multiplier multiplies the two scales in float
     * (GetQuantizedConvolutionMultipler); per channel and conv use double. */
    n->fc_float_product = w->n_scale == 1;
    if ((rc = fused_act(c, op, act, &n->act)))
        return rc;
    return set_weights(c, op, n, w, bias, 0);
}

/* ---- pools, add, softmax, activations -------------------------------------------- */

static int import_pool(struct tfl_ctx *c, const struct tfl_op *op, enum mxu_node_op kind)
{
    struct tfl_tensor *in, *out;
    struct window win = {.dil_w = 1, .dil_h = 1};
    int32_t fw, fh;
    uint8_t act;
    int x;
    int rc = io(c, op, &in, &x, &out);
    /* Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, act 5 */
    if (!rc)
        rc = options(c, op, OPT_POOL);
    if (!rc && ((rc = opt_u8(op, 0, PAD_SAME, &win.pad)) || (rc = opt_i32(op, 1, 0, &win.stride_w)) ||
                (rc = opt_i32(op, 2, 0, &win.stride_h)) || (rc = opt_i32(op, 3, 0, &fw)) ||
                (rc = opt_i32(op, 4, 0, &fh)) || (rc = opt_u8(op, 5, ACT_NONE, &act))))
        return rc;
    if (rc)
        return rc;
    if (act != ACT_NONE)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "fused activation %u on a pool", act);
    if (fw < 1 || fh < 1 || in->ndims != 4)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "%dx%d window over a %u-dimensional input", fh, fw,
                           in->ndims);
    mxu_node *n;
    if ((rc = add_node(c, op, kind, &x, 1, out, &n)))
        return rc;
    n->kh = (uint32_t)fh, n->kw = (uint32_t)fw;
    return set_window(c, op, n, in, &win);
}

static int same_dims(const struct tfl_tensor *a, const struct tfl_tensor *b)
{
    return a->ndims == b->ndims && !memcmp(a->dims, b->dims, a->ndims * sizeof a->dims[0]);
}

static int import_add(struct tfl_ctx *c, const struct tfl_op *op)
{
    struct tfl_tensor *a, *b, *out;
    uint8_t act;
    int x[2];
    int rc = io(c, op, &a, &x[0], &out);
    if (!rc)
        rc = tfl_input(c, op, 1, 0, &b);
    if (!rc)
        rc = tfl_value(c, op, b, &x[1]);
    if (!rc)
        rc = options(c, op, OPT_ADD);
    if (!rc)
        rc = opt_u8(op, 0, ACT_NONE, &act);
    if (rc)
        return rc;
    if (!same_dims(a, b) || !same_dims(a, out))
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "'%s' and '%s' have different shapes "
                           "(broadcasting is not supported)", a->name, b->name);
    mxu_node *n;
    if ((rc = add_node(c, op, MXU_NODE_ADD, x, 2, out, &n)))
        return rc;
    return fused_act(c, op, act, &n->act);
}

static int import_softmax(struct tfl_ctx *c, const struct tfl_op *op)
{
    struct tfl_tensor *in, *out;
    float beta = 1.0f;
    int x;
    int rc = io(c, op, &in, &x, &out);
    if (!rc)
        rc = options(c, op, OPT_SOFTMAX);
    if (!rc && op->has_options)
        rc = fb_f32(&op->options, 0, 0.0f, &beta);
    if (rc)
        return rc;
    if (beta != 1.0f)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "beta %g (only 1 is supported)", (double)beta);
    float scale = out->n_scale == 1 ? fb_vec_f32(&c->b, &out->scale, 0) : 0;
    int64_t zp = out->zero_point.count == 1 ? fb_vec_i64(&c->b, &out->zero_point, 0) : 0;
    if (scale != MXU_SOFTMAX_OUT_SCALE || zp != MXU_SOFTMAX_OUT_ZP)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "output scale %g and zero point %lld (int8 "
                           "softmax needs 1/256 and -128)", (double)scale, (long long)zp);
    mxu_node *n;
    return add_node(c, op, MXU_NODE_SOFTMAX, &x, 1, out, &n);
}

static int import_act(struct tfl_ctx *c, const struct tfl_op *op, enum mxu_act_kind kind)
{
    struct tfl_tensor *in, *out;
    int x;
    int rc = io(c, op, &in, &x, &out);
    if (rc)
        return rc;
    mxu_node *n;
    if ((rc = add_node(c, op, MXU_NODE_ACT, &x, 1, out, &n)))
        return rc;
    n->act = (struct mxu_act){.kind = kind};
    return MXU_OK;
}

/* ---- re-labelling ops ------------------------------------------------------------- */

/* RESHAPE of NHWC data is a byte identity: a flatten to [batch, features] or a
 * no-op; other reshapes have no NHWC meaning here. */
static int import_reshape(struct tfl_ctx *c, const struct tfl_op *op)
{
    struct tfl_tensor *in, *out;
    int x;
    int rc = io(c, op, &in, &x, &out);
    if (rc)
        return rc;
    enum mxu_node_op kind;
    if (same_dims(in, out))
        kind = MXU_NODE_IDENTITY;
    else if (in->ndims == 4 && out->ndims == 2 && out->dims[0] == in->dims[0] && out->elems == in->elems)
        kind = MXU_NODE_FLATTEN;
    else
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "reshape of '%s' (%u dimensions) to %u "
                           "dimensions (only flattening NHWC to [batch, features])", in->name,
                           in->ndims, out->ndims);
    mxu_node *n;
    return add_node(c, op, kind, &x, 1, out, &n);
}

/* QUANTIZE of a float graph input: its int8 output is the program's input. */
static int import_quantize(struct tfl_ctx *c, const struct tfl_op *op)
{
    struct tfl_tensor *in, *out;
    int rc = tfl_input(c, op, 0, 0, &in);
    if (!rc)
        rc = tfl_output(c, op, &out);
    if (rc)
        return rc;
    if (in->type != TFL_FLOAT32 || in->data || in->value >= 0)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "only float graph inputs can be quantized "
                           "('%s' has type %u)", in->name, in->type);
    if (in->ndims != out->ndims || !same_dims(in, out))
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "shape of '%s' differs from its input", out->name);
    return tfl_new_input(c, op, out);
}

/* DEQUANTIZE at the end: the float output is the int8 tensor's meaning. */
static int import_dequantize(struct tfl_ctx *c, const struct tfl_op *op)
{
    struct tfl_tensor *in, *out;
    int x;
    int rc = io(c, op, &in, &x, &out);
    if (rc)
        return rc;
    if (out->type != TFL_FLOAT32 || out->value >= 0 || !same_dims(in, out))
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "output '%s' is not a float tensor of the input's "
                           "shape", out->name);
    out->value = x; /* read by the graph outputs; float ops reading it would fail */
    return MXU_OK;
}

int tfl_import_op(struct tfl_ctx *c, const struct tfl_op *op)
{
    switch (op->code) {
    case TFL_OP_CONV_2D: return import_conv(c, op, 0);
    case TFL_OP_DEPTHWISE_CONV_2D: return import_conv(c, op, 1);
    case TFL_OP_FULLY_CONNECTED: return import_fc(c, op);
    case TFL_OP_MAX_POOL_2D: return import_pool(c, op, MXU_NODE_MAXPOOL);
    case TFL_OP_AVERAGE_POOL_2D: return import_pool(c, op, MXU_NODE_AVGPOOL);
    case TFL_OP_ADD: return import_add(c, op);
    case TFL_OP_SOFTMAX: return import_softmax(c, op);
    case TFL_OP_LOGISTIC: return import_act(c, op, MXU_ACT_KIND_SIGMOID);
    case TFL_OP_TANH: return import_act(c, op, MXU_ACT_KIND_TANH);
    case TFL_OP_RESHAPE: return import_reshape(c, op);
    case TFL_OP_QUANTIZE: return import_quantize(c, op);
    case TFL_OP_DEQUANTIZE: return import_dequantize(c, op);
    default:
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "operator not supported (mxu imports CONV_2D, "
                           "DEPTHWISE_CONV_2D, FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, ADD, "
                           "RESHAPE, SOFTMAX, LOGISTIC, TANH, QUANTIZE, DEQUANTIZE)");
    }
}
