/* Golden reference run of a program's layers (see mxu_reference.h). */
#include "mxu_reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "mxu_error.h"
#include "mxu_pack.h"

static const void *blob(const mxu_program *p, uint32_t off)
{
    return off == MXU_NONE ? NULL : p->host_blob + off;
}

static const mxu_tensor *tensor(const mxu_program *p, uint32_t i)
{
    return &p->tensors[i];
}

static enum mxu_rounding layer_rounding(const mxu_layer *l)
{
    return l->flags & MXU_LAYER_F_ROUND_HALF_UP ? MXU_ROUND_HALF_UP : MXU_ROUND_AWAY;
}

/* The conv output before a fused pool, with the LUT zero-point convention. */
static int conv_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v, int8_t *out,
                      int32_t oh, int32_t ow)
{
    const mxu_tensor *in = tensor(p, l->input), *o = tensor(p, l->output);
    int lut = (l->flags & MXU_LAYER_F_LUT) != 0;
    struct mxu_conv_params c = {
        .n = (int32_t)in->dims[0], .in_h = (int32_t)in->dims[1], .in_w = (int32_t)in->dims[2],
        .cin = (int32_t)in->dims[3], .cout = (int32_t)l->cout, .kh = (int32_t)l->kh,
        .kw = (int32_t)l->kw, .out_h = oh, .out_w = ow, .stride_h = (int32_t)l->stride_h,
        .stride_w = (int32_t)l->stride_w, .dil_h = l->dil_h ? (int32_t)l->dil_h : 1,
        .dil_w = l->dil_w ? (int32_t)l->dil_w : 1, .pad_top = (int32_t)l->pad_top,
        .pad_left = (int32_t)l->pad_left, .groups = l->groups ? (int32_t)l->groups : 1,
        .zp_in = in->zero_point, .zp_out = lut ? 0 : o->zero_point, .act_min = l->act_min,
        .act_max = l->act_max, .rounding = layer_rounding(l)};
    int rc = mxu_golden_conv2d(&c, (const int8_t *)v[l->input], blob(p, l->weights), blob(p, l->bias),
                               blob(p, l->multiplier), blob(p, l->shift), out);
    if (rc == MXU_OK && lut)
        rc = mxu_golden_lut(blob(p, l->lut), (size_t)c.n * oh * ow * c.cout, out, out);
    return rc;
}

static int conv_with_pool(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    const mxu_tensor *in = tensor(p, l->input), *o = tensor(p, l->output);
    int32_t oh, ow;
    int rc = mxu_conv_out_size((int32_t)in->dims[1], (int32_t)l->kh, (int32_t)l->stride_h,
                               l->dil_h ? (int32_t)l->dil_h : 1, (int32_t)l->pad_top,
                               (int32_t)l->pad_bottom, &oh);
    if (rc == MXU_OK)
        rc = mxu_conv_out_size((int32_t)in->dims[2], (int32_t)l->kw, (int32_t)l->stride_w,
                               l->dil_w ? (int32_t)l->dil_w : 1, (int32_t)l->pad_left,
                               (int32_t)l->pad_right, &ow);
    if (rc)
        return rc;
    if (!l->pool_k)
        return conv_layer(p, l, v, (int8_t *)v[l->output], oh, ow);
    int8_t *tmp = malloc((size_t)in->dims[0] * oh * ow * l->cout);
    if (!tmp)
        return mxu_fail(MXU_ERR_NOMEM, "reference run of %s", l->name);
    struct mxu_pool_params pp = {.n = (int32_t)in->dims[0], .in_h = oh, .in_w = ow,
                                 .c = (int32_t)l->cout, .out_h = (int32_t)o->dims[1],
                                 .out_w = (int32_t)o->dims[2], .filter_h = (int32_t)l->pool_k,
                                 .filter_w = (int32_t)l->pool_k, .stride_h = (int32_t)l->pool_s,
                                 .stride_w = (int32_t)l->pool_s, .act_min = -128, .act_max = 127};
    rc = conv_layer(p, l, v, tmp, oh, ow);
    if (rc == MXU_OK)
        rc = mxu_golden_maxpool(&pp, tmp, (int8_t *)v[l->output]);
    free(tmp);
    return rc;
}

/* FC with the same LUT zero-point convention as the conv. */
static int fc_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    const mxu_tensor *in = tensor(p, l->input), *o = tensor(p, l->output);
    int lut = (l->flags & MXU_LAYER_F_LUT) != 0;
    struct mxu_fc_params f = {.batch = (int32_t)in->dims[0], .cin = (int32_t)mxu_layer_cin(p, l),
                              .cout = (int32_t)l->cout, .zp_in = in->zero_point,
                              .zp_out = lut ? 0 : o->zero_point, .act_min = l->act_min,
                              .act_max = l->act_max, .rounding = layer_rounding(l)};
    int8_t *out = (int8_t *)v[l->output];
    int rc = mxu_golden_fc(&f, (const int8_t *)v[l->input], blob(p, l->weights), blob(p, l->bias),
                           blob(p, l->multiplier), blob(p, l->shift), out);
    if (rc == MXU_OK && lut)
        rc = mxu_golden_lut(blob(p, l->lut), (size_t)f.batch * (size_t)f.cout, out, out);
    return rc;
}

static int pool_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    const mxu_tensor *in = tensor(p, l->input), *o = tensor(p, l->output);
    struct mxu_pool_params pp = {.n = (int32_t)in->dims[0], .in_h = (int32_t)in->dims[1],
                                 .in_w = (int32_t)in->dims[2], .c = (int32_t)in->dims[3],
                                 .out_h = (int32_t)o->dims[1], .out_w = (int32_t)o->dims[2],
                                 .filter_h = (int32_t)l->kh, .filter_w = (int32_t)l->kw,
                                 .stride_h = (int32_t)l->stride_h, .stride_w = (int32_t)l->stride_w,
                                 .pad_top = (int32_t)l->pad_top, .pad_left = (int32_t)l->pad_left,
                                 .act_min = l->act_min, .act_max = l->act_max};
    if (l->op == MXU_LAYER_MAXPOOL)
        return mxu_golden_maxpool(&pp, (const int8_t *)v[l->input], (int8_t *)v[l->output]);
    return mxu_golden_avgpool(&pp, (const int8_t *)v[l->input], (int8_t *)v[l->output]);
}

static int add_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    struct mxu_add_params ap;
    if (l->add_params == MXU_NONE || l->input2 >= p->n_tensors)
        return mxu_fail(MXU_ERR_FORMAT, "layer %s: ADD without its second input or parameters", l->name);
    mxu_add_params_unpack(blob(p, l->add_params), l->act_min, l->act_max, &ap);
    return mxu_golden_add(&ap, (size_t)mxu_tensor_elems(tensor(p, l->output)),
                          (const int8_t *)v[l->input], (const int8_t *)v[l->input2],
                          (int8_t *)v[l->output]);
}

/* Rows of the last axis: (elements / depth, depth). */
static void rows_of(const mxu_tensor *t, size_t *rows, size_t *depth)
{
    *depth = t->dims[t->ndims - 1];
    *rows = (size_t)(mxu_tensor_elems(t) / *depth);
}

static int softmax_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    const mxu_tensor *in = tensor(p, l->input);
    struct mxu_softmax_params sp;
    size_t rows, depth;
    rows_of(in, &rows, &depth);
    if (l->flags & MXU_LAYER_F_SOFTMAX_FLOAT_TABLE)
        return mxu_golden_softmax_table(in->scale, 1.0f, rows, depth, (const int8_t *)v[l->input],
                                        (int8_t *)v[l->output]);
    int rc = mxu_softmax_params_from_scale(in->scale, 1.0f, &sp);
    if (rc) {
        char detail[300];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        return mxu_fail(rc, "layer %.64s: %s", l->name, detail);
    }
    return mxu_golden_softmax(&sp, rows, depth, (const int8_t *)v[l->input], (int8_t *)v[l->output]);
}

static int concat_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    size_t rows, d1, d2;
    if (l->input2 >= p->n_tensors)
        return mxu_fail(MXU_ERR_FORMAT, "layer %s: CONCAT without its second input", l->name);
    rows_of(tensor(p, l->input), &rows, &d1);
    rows_of(tensor(p, l->input2), &rows, &d2);
    return mxu_golden_concat(rows, d1, d2, (const int8_t *)v[l->input], (const int8_t *)v[l->input2],
                             (int8_t *)v[l->output]);
}

static int upsample_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    const mxu_tensor *in = tensor(p, l->input);
    return mxu_golden_upsample((int32_t)in->dims[0], (int32_t)in->dims[1], (int32_t)in->dims[2],
                               (int32_t)in->dims[3], (int32_t)l->stride_h,
                               (const int8_t *)v[l->input], (int8_t *)v[l->output]);
}

static int lut_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    if (l->lut == MXU_NONE)
        return mxu_fail(MXU_ERR_FORMAT, "layer %s: LUT without its table", l->name);
    return mxu_golden_lut(blob(p, l->lut), (size_t)mxu_tensor_elems(tensor(p, l->input)),
                          (const int8_t *)v[l->input], (int8_t *)v[l->output]);
}

int mxu_reference_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    switch (l->op) {
    case MXU_LAYER_CONV2D: return conv_with_pool(p, l, v);
    case MXU_LAYER_FC: return fc_layer(p, l, v);
    case MXU_LAYER_MAXPOOL:
    case MXU_LAYER_AVGPOOL: return pool_layer(p, l, v);
    case MXU_LAYER_ADD: return add_layer(p, l, v);
    case MXU_LAYER_SOFTMAX: return softmax_layer(p, l, v);
    case MXU_LAYER_CONCAT: return concat_layer(p, l, v);
    case MXU_LAYER_UPSAMPLE: return upsample_layer(p, l, v);
    case MXU_LAYER_LUT: return lut_layer(p, l, v);
    }
    return mxu_fail(MXU_ERR_UNSUPPORTED, "layer %s: no reference kernel for op %u", l->name, l->op);
}

int mxu_reference_run(const mxu_program *p, uint8_t *const *values)
{
    for (uint32_t i = 0; i < p->n_layers; i++) {
        int rc = mxu_reference_layer(p, &p->layers[i], values);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

uint64_t mxu_layer_macs(const mxu_program *p, const mxu_layer *l)
{
    const mxu_tensor *in = tensor(p, l->input);
    int32_t oh = 0, ow = 0;
    if (l->op == MXU_LAYER_FC)
        return (uint64_t)in->dims[0] * mxu_layer_cin(p, l) * l->cout;
    if (l->op != MXU_LAYER_CONV2D ||
        mxu_conv_out_size((int32_t)in->dims[1], (int32_t)l->kh, (int32_t)l->stride_h,
                          l->dil_h ? (int32_t)l->dil_h : 1, (int32_t)l->pad_top,
                          (int32_t)l->pad_bottom, &oh) ||
        mxu_conv_out_size((int32_t)in->dims[2], (int32_t)l->kw, (int32_t)l->stride_w,
                          l->dil_w ? (int32_t)l->dil_w : 1, (int32_t)l->pad_left,
                          (int32_t)l->pad_right, &ow))
        return 0;
    uint32_t groups = l->groups ? l->groups : 1;
    return (uint64_t)in->dims[0] * (uint64_t)oh * (uint64_t)ow * l->cout * l->kh * l->kw *
           (in->dims[3] / groups);
}
