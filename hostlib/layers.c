/* Layer calls (mxu_layers.h): one-layer programs with the caller's constants,
 * built for the device's configuration, placed in memory from the device's
 * allocator, run, read back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "mxu_builder.h"
#include "mxu_layers.h"
#include "mxu_lower.h"
#include "mxu_numerics.h"

/* ---- activations and requantization ------------------------------------------ */

int mxu_activation_range(const mxu_qoutput *out, int32_t *act_min, int32_t *act_max)
{
    int32_t lo = -128, hi = 127, zp = out->zero_point;
    switch (out->act) {
    case MXU_ACT_NONE: break;
    case MXU_ACT_RELU: lo = zp > lo ? zp : lo; break;
    case MXU_ACT_RELU6: {
        if (!(out->scale > 0) || !isfinite(out->scale))
            return mxu_fail(MXU_ERR_INVAL, "ReLU6 needs a positive output scale (have %g)",
                            (double)out->scale);
        float six = roundf(6.0f / out->scale); /* TFLite: zp + round(6 / scale), in float */
        lo = zp > lo ? zp : lo;
        if (six + (float)zp < 127.0f)
            hi = zp + (int32_t)six;
        break;
    }
    case MXU_ACT_CLAMP:
        lo = out->act_min, hi = out->act_max;
        if (lo < -128 || hi > 127 || lo > hi)
            return mxu_fail(MXU_ERR_INVAL, "clamp [%d, %d] is not an int8 range", lo, hi);
        break;
    default:
        return mxu_fail(MXU_ERR_INVAL, "unknown activation %d", (int)out->act);
    }
    if (lo > hi)
        return mxu_fail(MXU_ERR_INVAL, "activation range [%d, %d] is empty (zero point %d)", lo, hi, zp);
    *act_min = lo;
    *act_max = hi;
    return MXU_OK;
}

int mxu_requant_params(float in_scale, const float *w_scale, uint32_t channels, float out_scale,
                       int32_t *multiplier, int32_t *shift)
{
    if (!w_scale || !multiplier || !shift)
        return mxu_fail(MXU_ERR_INVAL, "mxu_requant_params: missing array");
    for (uint32_t c = 0; c < channels; c++) {
        double m = (double)in_scale * (double)w_scale[c] / (double)out_scale;
        int rc = mxu_quantize_multiplier(m, &multiplier[c], &shift[c]);
        if (rc)
            return mxu_fail(rc, "channel %u: scale %g * %g / %g = %g cannot be requantized", c,
                            (double)in_scale, (double)w_scale[c], (double)out_scale, m);
    }
    return MXU_OK;
}

/* ---- one-layer programs ------------------------------------------------------- */

/* A layer with its tensors' shapes and the caller's constants. */
struct one_layer {
    mxu_layer l;
    const mxu_qtensor *in;
    uint32_t out_ndims, out_dims[4];
    int32_t out_zp;
    const int8_t *weights;
    uint64_t weight_bytes;
    const int32_t *bias, *mult, *shift;
};

static uint64_t dims_elems(uint32_t ndims, const uint32_t *dims)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < ndims; i++)
        n *= dims[i];
    return n;
}

static int add_array(mxu_program *p, const void *data, uint64_t bytes, uint32_t *offset)
{
    if (!data)
        return MXU_OK; /* stays MXU_NONE */
    if (bytes > UINT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "layer constants larger than 4 GiB");
    return mxu_program_add_blob(p, data, (uint32_t)bytes, offset);
}

static int add_constants(mxu_program *p, const struct one_layer *d, mxu_layer *l)
{
    uint64_t per_channel = 4ull * d->l.cout;
    int rc = add_array(p, d->weights, d->weight_bytes, &l->weights);
    if (rc == MXU_OK)
        rc = add_array(p, d->bias, per_channel, &l->bias);
    if (rc == MXU_OK)
        rc = add_array(p, d->mult, per_channel, &l->multiplier);
    if (rc == MXU_OK)
        rc = add_array(p, d->shift, per_channel, &l->shift);
    return rc;
}

/* The program of one layer, addresses from 0 (relocated before loading). */
static int build_program(const mxu_hw_config *cfg, const struct one_layer *d, mxu_program **out)
{
    mxu_builder *b = NULL;
    mxu_layer l = d->l;
    *out = NULL;
    int rc = mxu_builder_new(cfg, &b);
    if (rc)
        return rc;
    mxu_program *p = mxu_builder_program(b);
    rc = mxu_builder_add_tensor(b, "input", MXU_ROLE_INPUT, d->in->ndims, d->in->dims, d->in->scale,
                                d->in->zero_point, NULL);
    if (rc == MXU_OK)
        rc = mxu_builder_add_tensor(b, "output", MXU_ROLE_OUTPUT, d->out_ndims, d->out_dims, 1.0f,
                                    d->out_zp, NULL);
    if (rc == MXU_OK)
        rc = add_constants(p, d, &l);
    if (rc == MXU_OK)
        rc = mxu_program_add_layer(p, &l);
    if (rc == MXU_OK)
        rc = mxu_program_check_layer(p, p->n_layers - 1);
    if (rc == MXU_OK)
        rc = mxu_lower_layer(b, p->n_layers - 1);
    if (rc == MXU_OK)
        rc = mxu_builder_finish(b, out);
    mxu_builder_free(b);
    return rc;
}

/* Move a program built at address 0 to `base`: tensors, segments, code and
 * every instruction field named dram_addr (found in the ISA tables, so a new
 * opcode with a DRAM address is covered too). */
static void relocate(mxu_program *p, uint32_t base)
{
    for (uint32_t i = 0; i < p->n_tensors; i++)
        p->tensors[i].dram_addr += base;
    for (uint32_t i = 0; i < p->n_segments; i++)
        p->segments[i].dram_addr += base;
    p->code_addr += base;
    p->dram_used += base;
    for (uint32_t i = 0; i < p->n_insns; i++) {
        uint64_t *w = p->insns[i];
        unsigned op = (unsigned)(w[0] & 0xF);
        for (unsigned f = 0; f < mxu_isa_n_fields; f++) {
            const struct mxu_isa_field *fd = &mxu_isa_fields[f];
            if (fd->opcode == op && !strcmp(fd->name, "dram_addr"))
                mxu_insn_set(w, fd->pos, fd->bits, mxu_insn_get(w, fd->pos, fd->bits) + base);
        }
    }
}

static int check_output(const mxu_qoutput *out, uint32_t ndims, const uint32_t *dims)
{
    uint64_t bytes = dims_elems(ndims, dims);
    if (!out->data)
        return mxu_fail(MXU_ERR_INVAL, "no output buffer");
    if (out->capacity < bytes)
        return mxu_fail(MXU_ERR_INVAL, "output buffer holds %zu bytes, the layer makes %llu "
                        "(%u x %u x %u x %u)", out->capacity, (unsigned long long)bytes, dims[0],
                        dims[1], ndims > 2 ? dims[2] : 1, ndims > 3 ? dims[3] : 1);
    return MXU_OK;
}

static void set_output_dims(mxu_qoutput *out, uint32_t ndims, const uint32_t *dims)
{
    out->ndims = ndims;
    memset(out->dims, 0, sizeof out->dims);
    memcpy(out->dims, dims, ndims * sizeof *dims);
}

/* Run a built program: memory from the allocator, input in, output out. */
static int run_program(mxu_device *dev, mxu_program *p, const void *input, int8_t *output,
                       mxu_layer_result *res)
{
    uint32_t base = 0;
    int rc = mxu_dev_alloc(dev, p->dram_used, 64, &base);
    if (rc)
        return rc;
    relocate(p, base);
    mxu_counters c;
    memset(&c, 0, sizeof c);
    rc = mxu_program_load(dev, p);
    if (rc == MXU_OK)
        rc = mxu_tensor_write(dev, p, 0, input, mxu_tensor_bytes(&p->tensors[0]));
    if (rc == MXU_OK)
        rc = mxu_program_run(dev, p, 0, &c);
    if (rc == MXU_OK)
        rc = mxu_tensor_read(dev, p, 1, output, mxu_tensor_bytes(&p->tensors[1]));
    mxu_dev_free(dev, base);
    if (res) {
        res->counters = c;
        res->insns = p->n_insns;
    }
    return rc;
}

static int run_layer(mxu_device *dev, const struct one_layer *d, mxu_qoutput *out,
                     mxu_layer_result *res)
{
    mxu_program *p = NULL;
    if (!dev)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: no device", d->l.name);
    int rc = build_program(mxu_device_config(dev), d, &p);
    if (rc == MXU_OK)
        rc = run_program(dev, p, d->in->data, out->data, res);
    mxu_program_free(p);
    return rc;
}

static void result_init(mxu_layer_result *res)
{
    if (res)
        memset(res, 0, sizeof *res);
}

static int check_input(const char *what, const mxu_qtensor *t, uint32_t ndims)
{
    if (!t->data)
        return mxu_fail(MXU_ERR_INVAL, "%s: no input data", what);
    if (ndims && t->ndims != ndims)
        return mxu_fail(MXU_ERR_INVAL, "%s: input has %u dims, expected %u (%s)", what, t->ndims,
                        ndims, ndims == 4 ? "NHWC" : "NC");
    if (t->ndims != 2 && t->ndims != 4)
        return mxu_fail(MXU_ERR_INVAL, "%s: input has %u dims (2 = NC or 4 = NHWC)", what, t->ndims);
    for (uint32_t i = 0; i < t->ndims; i++)
        if (!t->dims[i])
            return mxu_fail(MXU_ERR_INVAL, "%s: input dimension %u is 0", what, i);
    if (t->zero_point < -128 || t->zero_point > 127)
        return mxu_fail(MXU_ERR_INVAL, "%s: input zero point %d is not int8", what, t->zero_point);
    return MXU_OK;
}

/* ---- windows ---------------------------------------------------------------- */

struct window {
    uint32_t in, k, stride, dil, pad0, pad1, out;
};

/* Padding and output size along one axis. */
static int window_resolve(const char *what, enum mxu_padding mode, struct window *w)
{
    int32_t out = 0, p0 = 0, p1 = 0;
    int rc;
    w->stride = w->stride ? w->stride : 1;
    w->dil = w->dil ? w->dil : 1;
    if (w->in > INT32_MAX || w->k > INT32_MAX || w->stride > INT32_MAX || w->dil > INT32_MAX ||
        w->pad0 > INT32_MAX || w->pad1 > INT32_MAX)
        return mxu_fail(MXU_ERR_INVAL, "%s: size out of range", what);
    switch (mode) {
    case MXU_PADDING_SAME:
        rc = mxu_same_padding((int32_t)w->in, (int32_t)w->k, (int32_t)w->stride, (int32_t)w->dil,
                              &out, &p0, &p1);
        break;
    case MXU_PADDING_VALID:
        rc = mxu_conv_out_size((int32_t)w->in, (int32_t)w->k, (int32_t)w->stride, (int32_t)w->dil,
                               0, 0, &out);
        break;
    case MXU_PADDING_EXPLICIT:
        p0 = (int32_t)w->pad0, p1 = (int32_t)w->pad1;
        rc = mxu_conv_out_size((int32_t)w->in, (int32_t)w->k, (int32_t)w->stride, (int32_t)w->dil,
                               p0, p1, &out);
        break;
    default:
        return mxu_fail(MXU_ERR_INVAL, "%s: unknown padding mode %d", what, (int)mode);
    }
    if (rc)
        return mxu_fail(MXU_ERR_INVAL, "%s: window %u (stride %u, dilation %u, padding %u/%u) does "
                        "not fit an input of %u", what, w->k, w->stride, w->dil, w->pad0, w->pad1,
                        w->in);
    w->pad0 = (uint32_t)p0, w->pad1 = (uint32_t)p1, w->out = (uint32_t)out;
    return MXU_OK;
}

/* ---- conv2d ------------------------------------------------------------------ */

static int conv_layer(const struct mxu_conv2d_args *a, const mxu_qoutput *out, struct one_layer *d)
{
    struct window wy = {a->input.dims[1], a->kh, a->stride_h, a->dil_h, a->pad_top, a->pad_bottom, 0};
    struct window wx = {a->input.dims[2], a->kw, a->stride_w, a->dil_w, a->pad_left, a->pad_right, 0};
    mxu_layer *l = &d->l;
    int rc = check_input("conv2d", &a->input, 4);
    if (rc == MXU_OK && (!a->filter || !a->multiplier || !a->shift))
        rc = mxu_fail(MXU_ERR_INVAL, "conv2d: filter, multiplier and shift are required");
    if (rc == MXU_OK && (!a->cout || !a->kh || !a->kw))
        rc = mxu_fail(MXU_ERR_INVAL, "conv2d: cout %u and kernel %ux%u must be at least 1",
                      a->cout, a->kh, a->kw);
    if (rc == MXU_OK)
        rc = window_resolve("conv2d vertical", a->padding, &wy);
    if (rc == MXU_OK)
        rc = window_resolve("conv2d horizontal", a->padding, &wx);
    if (rc)
        return rc;
    uint32_t groups = a->groups ? a->groups : 1, cin = a->input.dims[3];
    if (cin % groups || a->cout % groups)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: %u groups do not divide %u input / %u output channels",
                        groups, cin, a->cout);
    if ((a->pool_k == 0) != (a->pool_s == 0) || (a->pool_k && (wy.out < a->pool_k || wx.out < a->pool_k)))
        return mxu_fail(MXU_ERR_INVAL, "conv2d: fused pool %u/%u does not fit the %ux%u output",
                        a->pool_k, a->pool_s, wy.out, wx.out);
    mxu_layer_init(l, "conv2d", MXU_LAYER_CONV2D);
    l->cout = a->cout, l->kh = a->kh, l->kw = a->kw, l->groups = groups;
    l->stride_h = wy.stride, l->stride_w = wx.stride, l->dil_h = wy.dil, l->dil_w = wx.dil;
    l->pad_top = wy.pad0, l->pad_bottom = wy.pad1, l->pad_left = wx.pad0, l->pad_right = wx.pad1;
    l->pool_k = a->pool_k, l->pool_s = a->pool_s;
    rc = mxu_activation_range(out, &l->act_min, &l->act_max);
    d->in = &a->input;
    d->out_ndims = 4;
    d->out_dims[0] = a->input.dims[0];
    d->out_dims[1] = a->pool_k ? (wy.out - a->pool_k) / a->pool_s + 1 : wy.out;
    d->out_dims[2] = a->pool_k ? (wx.out - a->pool_k) / a->pool_s + 1 : wx.out;
    d->out_dims[3] = a->cout;
    d->out_zp = out->zero_point;
    d->weights = a->filter;
    d->weight_bytes = (uint64_t)a->cout * a->kh * a->kw * (cin / groups);
    d->bias = a->bias, d->mult = a->multiplier, d->shift = a->shift;
    return rc;
}

int mxu_conv2d(mxu_device *dev, const struct mxu_conv2d_args *a, mxu_qoutput *out,
               mxu_layer_result *res)
{
    struct one_layer d;
    result_init(res);
    if (!a || !out)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: missing arguments");
    int rc = conv_layer(a, out, &d);
    if (rc == MXU_OK)
        rc = check_output(out, d.out_ndims, d.out_dims);
    if (rc)
        return rc;
    set_output_dims(out, d.out_ndims, d.out_dims);
    if (res) {
        const mxu_layer *l = &d.l;
        uint64_t oh = (a->input.dims[1] + l->pad_top + l->pad_bottom - ((l->kh - 1) * l->dil_h + 1)) /
                      l->stride_h + 1;
        uint64_t ow = (a->input.dims[2] + l->pad_left + l->pad_right - ((l->kw - 1) * l->dil_w + 1)) /
                      l->stride_w + 1;
        res->macs = a->input.dims[0] * oh * ow * d.weight_bytes;
    }
    return run_layer(dev, &d, out, res);
}

/* ---- fully connected ---------------------------------------------------------- */

int mxu_fully_connected(mxu_device *dev, const struct mxu_fc_args *a, mxu_qoutput *out,
                        mxu_layer_result *res)
{
    struct one_layer d;
    result_init(res);
    if (!a || !out)
        return mxu_fail(MXU_ERR_INVAL, "fully_connected: missing arguments");
    int rc = check_input("fully_connected", &a->input, 0);
    if (rc == MXU_OK && (!a->weights || !a->multiplier || !a->shift))
        rc = mxu_fail(MXU_ERR_INVAL, "fully_connected: weights, multiplier and shift are required");
    if (rc == MXU_OK && !a->cout)
        rc = mxu_fail(MXU_ERR_INVAL, "fully_connected: cout is 0");
    if (rc)
        return rc;
    uint64_t batch = a->input.dims[0], cin = dims_elems(a->input.ndims, a->input.dims) / batch;
    memset(&d, 0, sizeof d);
    mxu_layer_init(&d.l, "fully_connected", MXU_LAYER_FC);
    d.l.cout = a->cout;
    rc = mxu_activation_range(out, &d.l.act_min, &d.l.act_max);
    d.in = &a->input;
    d.out_ndims = 2;
    d.out_dims[0] = (uint32_t)batch;
    d.out_dims[1] = a->cout;
    d.out_zp = out->zero_point;
    d.weights = a->weights;
    d.weight_bytes = cin * a->cout;
    d.bias = a->bias, d.mult = a->multiplier, d.shift = a->shift;
    if (rc == MXU_OK)
        rc = check_output(out, d.out_ndims, d.out_dims);
    if (rc)
        return rc;
    set_output_dims(out, d.out_ndims, d.out_dims);
    if (res)
        res->macs = batch * cin * a->cout;
    return run_layer(dev, &d, out, res);
}

/* ---- pooling ------------------------------------------------------------------ */

static int pool_layer(const char *what, uint32_t op, const struct mxu_pool_args *a,
                      mxu_qoutput *out, struct one_layer *d)
{
    struct window wy = {a->input.dims[1], a->kh, a->stride_h, 1, a->pad_top, a->pad_bottom, 0};
    struct window wx = {a->input.dims[2], a->kw, a->stride_w, 1, a->pad_left, a->pad_right, 0};
    int rc = check_input(what, &a->input, 4);
    if (rc == MXU_OK && (!a->kh || !a->kw))
        rc = mxu_fail(MXU_ERR_INVAL, "%s: window %ux%u must be at least 1x1", what, a->kh, a->kw);
    if (rc == MXU_OK)
        rc = window_resolve(what, a->padding, &wy);
    if (rc == MXU_OK)
        rc = window_resolve(what, a->padding, &wx);
    if (rc)
        return rc;
    /* pools keep the input's quantization: the activation range uses it */
    mxu_qoutput q = *out;
    q.zero_point = a->input.zero_point;
    q.scale = a->input.scale;
    memset(d, 0, sizeof *d);
    mxu_layer_init(&d->l, what, op);
    mxu_layer *l = &d->l;
    l->cout = a->input.dims[3], l->kh = a->kh, l->kw = a->kw;
    l->stride_h = wy.stride, l->stride_w = wx.stride;
    l->pad_top = wy.pad0, l->pad_bottom = wy.pad1, l->pad_left = wx.pad0, l->pad_right = wx.pad1;
    rc = mxu_activation_range(&q, &l->act_min, &l->act_max);
    d->in = &a->input;
    d->out_ndims = 4;
    d->out_dims[0] = a->input.dims[0], d->out_dims[1] = wy.out, d->out_dims[2] = wx.out;
    d->out_dims[3] = a->input.dims[3];
    d->out_zp = a->input.zero_point;
    if (rc == MXU_OK)
        rc = check_output(out, d->out_ndims, d->out_dims);
    if (rc == MXU_OK)
        set_output_dims(out, d->out_ndims, d->out_dims);
    return rc;
}

static struct mxu_pool_params golden_pool_params(const struct one_layer *d)
{
    const mxu_layer *l = &d->l;
    struct mxu_pool_params pp = {
        .n = (int32_t)d->in->dims[0], .in_h = (int32_t)d->in->dims[1], .in_w = (int32_t)d->in->dims[2],
        .c = (int32_t)d->in->dims[3], .out_h = (int32_t)d->out_dims[1], .out_w = (int32_t)d->out_dims[2],
        .filter_h = (int32_t)l->kh, .filter_w = (int32_t)l->kw, .stride_h = (int32_t)l->stride_h,
        .stride_w = (int32_t)l->stride_w, .pad_top = (int32_t)l->pad_top,
        .pad_left = (int32_t)l->pad_left, .act_min = l->act_min, .act_max = l->act_max};
    return pp;
}

int mxu_maxpool2d(mxu_device *dev, const struct mxu_pool_args *a, mxu_qoutput *out,
                  mxu_layer_result *res)
{
    struct one_layer d;
    result_init(res);
    if (!a || !out)
        return mxu_fail(MXU_ERR_INVAL, "maxpool2d: missing arguments");
    int rc = pool_layer("maxpool2d", MXU_LAYER_MAXPOOL, a, out, &d);
    return rc ? rc : run_layer(dev, &d, out, res);
}

int mxu_avgpool2d(mxu_device *dev, const struct mxu_pool_args *a, mxu_qoutput *out,
                  mxu_layer_result *res)
{
    struct one_layer d;
    result_init(res);
    if (!a || !out)
        return mxu_fail(MXU_ERR_INVAL, "avgpool2d: missing arguments");
    int rc = pool_layer("avgpool2d", MXU_LAYER_AVGPOOL, a, out, &d);
    if (rc)
        return rc;
    rc = run_layer(dev, &d, out, res);
    if (rc != MXU_ERR_UNSUPPORTED)
        return rc;
    /* windows cut by padding (or a window the divisor search cannot divide):
     * TFLite's kernel on the host */
    if (res) {
        res->on_host = 1;
        snprintf(res->note, sizeof res->note, "ran on the host: %s", mxu_error_detail());
    }
    struct mxu_pool_params pp = golden_pool_params(&d);
    rc = mxu_golden_avgpool(&pp, d.in->data, out->data);
    if (rc == MXU_OK)
        mxu_clear_error();
    return rc;
}

/* ---- add ---------------------------------------------------------------------- */

int mxu_add(mxu_device *dev, const mxu_qtensor *a, const mxu_qtensor *b, mxu_qoutput *out,
            mxu_layer_result *res)
{
    struct mxu_add_params ap;
    int32_t lo, hi;
    (void)dev; /* ADD runs on the host: see mxu_layers.h */
    result_init(res);
    if (!a || !b || !out)
        return mxu_fail(MXU_ERR_INVAL, "add: missing arguments");
    int rc = check_input("add", a, 0);
    if (rc == MXU_OK)
        rc = check_input("add", b, 0);
    if (rc)
        return rc;
    if (a->ndims != b->ndims || memcmp(a->dims, b->dims, a->ndims * sizeof *a->dims))
        return mxu_fail(MXU_ERR_INVAL, "add: the inputs have different shapes (no broadcasting)");
    if ((rc = check_output(out, a->ndims, a->dims)) || (rc = mxu_activation_range(out, &lo, &hi)))
        return rc;
    rc = mxu_add_params_from_scales(a->scale, a->zero_point, b->scale, b->zero_point, out->scale,
                                    out->zero_point, lo, hi, &ap);
    if (rc == MXU_OK)
        rc = mxu_golden_add(&ap, (size_t)dims_elems(a->ndims, a->dims), a->data, b->data, out->data);
    if (rc)
        return rc;
    set_output_dims(out, a->ndims, a->dims);
    if (res) {
        res->on_host = 1;
        snprintf(res->note, sizeof res->note, "ADD runs on the host: its three requantizations "
                 "cannot be done bit-exactly by the array's one");
    }
    return MXU_OK;
}
