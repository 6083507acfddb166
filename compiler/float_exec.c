/* Float execution of a graph: the semantic oracle of the passes (a graph must
 * compute the same before and after them), the source of calibration
 * statistics, and the float side of accuracy checks. Conv, FC, pools and add
 * use hostlib's float golden kernels; the rest is plain loops here. Buffers are
 * freed after their last reader. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"

struct exec {
    const mxu_graph *g;
    float **buf;        /* per value */
    uint8_t *owned;     /* buf[v] was allocated here */
    int32_t *last_use;  /* node index of the last reader, -1 none */
    const struct mxu_float_observer *obs;
};

static int32_t i32(uint32_t v)
{
    return (int32_t)v;
}

static float *new_buffer(struct exec *x, int v)
{
    uint64_t n = mxu_value_elems(&x->g->values[v]);
    x->buf[v] = malloc((size_t)(n ? n : 1) * sizeof(float));
    x->owned[v] = 1;
    return x->buf[v];
}

static const float *in_buf(const struct exec *x, const mxu_node *n, uint32_t k)
{
    return x->buf[n->inputs[k]];
}

/* y = gamma * (x - mean) / sqrt(var + eps) + beta over the last axis. */
static int batchnorm(const mxu_node *n, const float *src, float *dst, size_t total, size_t c)
{
    const struct mxu_batchnorm *bn = &n->bn;
    if (!bn->gamma || !bn->beta || !bn->mean || !bn->var)
        return mxu_node_fail(MXU_ERR_INVAL, n, "batch-norm statistics are missing");
    for (size_t i = 0; i < total; i++) {
        size_t ch = i % c;
        dst[i] = (float)(bn->gamma[ch] * (src[i] - bn->mean[ch]) / sqrt((double)bn->var[ch] + bn->eps) +
                         bn->beta[ch]);
    }
    return MXU_OK;
}

/* Batch norm of a conv/FC that has one, activation (observing a table
 * activation's input first), then a fused pool of the h x w result into the
 * node's output. */
static int finish_node(struct exec *x, uint32_t index, float *data, size_t count, uint32_t h, uint32_t w)
{
    const mxu_node *n = &x->g->nodes[index];
    const mxu_value *out = &x->g->values[n->output];
    if (n->has_bn && (n->op == MXU_NODE_CONV || n->op == MXU_NODE_FC)) {
        int rc = batchnorm(n, data, data, count, n->cout);
        if (rc)
            return rc;
    }
    if (x->obs && x->obs->pre_act && mxu_act_is_lut(n->act.kind))
        x->obs->pre_act(x->obs->ctx, (int)index, data, count);
    if (n->act.kind != MXU_ACT_KIND_NONE)
        for (size_t i = 0; i < count; i++)
            data[i] = mxu_act_apply(&n->act, data[i]);
    if (!n->pool_k)
        return MXU_OK;
    struct mxu_pool_params pp = {
        .n = i32(out->dims[0]), .in_h = i32(h), .in_w = i32(w), .c = i32(out->dims[3]),
        .out_h = i32(out->dims[1]), .out_w = i32(out->dims[2]), .filter_h = i32(n->pool_k),
        .filter_w = i32(n->pool_k), .stride_h = i32(n->pool_s), .stride_w = i32(n->pool_s)};
    return mxu_golden_maxpool_f32(&pp, data, -INFINITY, INFINITY, x->buf[n->output]);
}

static size_t out_count(const struct exec *x, const mxu_node *n)
{
    return (size_t)mxu_value_elems(&x->g->values[n->output]);
}

static int run_conv(struct exec *x, uint32_t index)
{
    const mxu_node *n = &x->g->nodes[index];
    const mxu_value *in = &x->g->values[n->inputs[0]], *out = &x->g->values[n->output];
    int32_t oh = 0, ow = 0;
    mxu_conv_out_size(i32(in->dims[1]), i32(n->kh), i32(n->stride_h), i32(n->dil_h), i32(n->pad_top),
                      i32(n->pad_bottom), &oh);
    mxu_conv_out_size(i32(in->dims[2]), i32(n->kw), i32(n->stride_w), i32(n->dil_w), i32(n->pad_left),
                      i32(n->pad_right), &ow);
    float *dst = x->buf[n->output];
    if (n->pool_k && !(dst = malloc((size_t)out->dims[0] * oh * ow * n->cout * sizeof *dst)))
        return mxu_fail(MXU_ERR_NOMEM, "float conv");
    struct mxu_conv_params p = {
        .n = i32(in->dims[0]), .in_h = i32(in->dims[1]), .in_w = i32(in->dims[2]), .cin = i32(in->dims[3]),
        .cout = i32(n->cout), .kh = i32(n->kh), .kw = i32(n->kw), .out_h = oh, .out_w = ow,
        .stride_h = i32(n->stride_h), .stride_w = i32(n->stride_w), .dil_h = i32(n->dil_h),
        .dil_w = i32(n->dil_w), .pad_top = i32(n->pad_top), .pad_left = i32(n->pad_left),
        .groups = i32(n->groups), .act_min = -128, .act_max = 127};
    struct mxu_float_weights f;
    int rc = mxu_node_float_weights(x->g, n, &f);
    if (rc == MXU_OK)
        rc = mxu_golden_conv2d_f32(&p, in_buf(x, n, 0), f.w, f.b, -INFINITY, INFINITY, dst);
    mxu_float_weights_free(&f);
    if (rc == MXU_OK)
        rc = finish_node(x, index, dst, (size_t)out->dims[0] * oh * ow * n->cout, (uint32_t)oh, (uint32_t)ow);
    if (dst != x->buf[n->output])
        free(dst);
    return rc;
}

/* An FC whose weights expect C, H, W order reads its NHWC input permuted. */
static const float *chw_order(const struct exec *x, const mxu_node *n, float **tmp)
{
    int src = mxu_fc_source(x->g, n);
    const float *data = in_buf(x, n, 0);
    if (!n->flatten_chw || src < 0)
        return data;
    const mxu_value *v = &x->g->values[src];
    size_t b = v->dims[0], h = v->dims[1], w = v->dims[2], c = v->dims[3], img = h * w * c;
    if (!(*tmp = malloc(b * img * sizeof **tmp)))
        return NULL;
    for (size_t i = 0; i < b; i++)
        for (size_t y = 0; y < h; y++)
            for (size_t xx = 0; xx < w; xx++)
                for (size_t ch = 0; ch < c; ch++)
                    (*tmp)[i * img + (ch * h + y) * w + xx] = data[i * img + (y * w + xx) * c + ch];
    return *tmp;
}

static int run_fc(struct exec *x, uint32_t index)
{
    const mxu_node *n = &x->g->nodes[index];
    const mxu_value *in = &x->g->values[n->inputs[0]];
    float *tmp = NULL;
    const float *data = chw_order(x, n, &tmp);
    if (!data)
        return mxu_fail(MXU_ERR_NOMEM, "float fc");
    struct mxu_fc_params p = {.batch = i32(in->dims[0]), .cin = i32(mxu_node_cin(x->g, n)),
                              .cout = i32(n->cout), .act_min = -128, .act_max = 127};
    struct mxu_float_weights f;
    int rc = mxu_node_float_weights(x->g, n, &f);
    if (rc == MXU_OK)
        rc = mxu_golden_fc_f32(&p, data, f.w, f.b, -INFINITY, INFINITY, x->buf[n->output]);
    mxu_float_weights_free(&f);
    free(tmp);
    return rc ? rc : finish_node(x, index, x->buf[n->output], out_count(x, n), 0, 0);
}

static int run_pool(struct exec *x, const mxu_node *n)
{
    const mxu_value *in = &x->g->values[n->inputs[0]], *out = &x->g->values[n->output];
    int global = n->op == MXU_NODE_GLOBAL_AVGPOOL;
    struct mxu_pool_params p = {
        .n = i32(in->dims[0]), .in_h = i32(in->dims[1]), .in_w = i32(in->dims[2]), .c = i32(in->dims[3]),
        .out_h = i32(out->dims[1]), .out_w = i32(out->dims[2]),
        .filter_h = i32(global ? in->dims[1] : n->kh), .filter_w = i32(global ? in->dims[2] : n->kw),
        .stride_h = i32(n->stride_h), .stride_w = i32(n->stride_w),
        .pad_top = global ? 0 : i32(n->pad_top), .pad_left = global ? 0 : i32(n->pad_left)};
    if (n->op == MXU_NODE_MAXPOOL)
        return mxu_golden_maxpool_f32(&p, in_buf(x, n, 0), -INFINITY, INFINITY, x->buf[n->output]);
    return mxu_golden_avgpool_f32(&p, in_buf(x, n, 0), -INFINITY, INFINITY, x->buf[n->output]);
}

static void run_concat(struct exec *x, const mxu_node *n)
{
    const mxu_value *out = &x->g->values[n->output];
    size_t depth = out->dims[out->ndims - 1], rows = (size_t)(mxu_value_elems(out) / depth), at = 0;
    float *dst = x->buf[n->output];
    for (uint32_t k = 0; k < n->n_inputs; k++) {
        const mxu_value *v = &x->g->values[n->inputs[k]];
        size_t d = v->dims[v->ndims - 1];
        for (size_t r = 0; r < rows; r++)
            memcpy(dst + r * depth + at, in_buf(x, n, k) + r * d, d * sizeof *dst);
        at += d;
    }
}

static void run_upsample(struct exec *x, const mxu_node *n)
{
    const mxu_value *out = &x->g->values[n->output];
    size_t h = out->dims[1], w = out->dims[2], c = out->dims[3], s = n->scale;
    const float *src = in_buf(x, n, 0);
    float *dst = x->buf[n->output];
    for (size_t b = 0; b < out->dims[0]; b++)
        for (size_t y = 0; y < h; y++)
            for (size_t xx = 0; xx < w; xx++)
                memcpy(dst + ((b * h + y) * w + xx) * c,
                       src + ((b * (h / s) + y / s) * (w / s) + xx / s) * c, c * sizeof *dst);
}

static int run_softmax(struct exec *x, const mxu_node *n)
{
    const mxu_value *out = &x->g->values[n->output];
    size_t depth = out->dims[out->ndims - 1], rows = (size_t)(mxu_value_elems(out) / depth);
    return mxu_golden_softmax_f32(rows, depth, 1.0f, in_buf(x, n, 0), x->buf[n->output]);
}

static int run_batchnorm(struct exec *x, const mxu_node *n)
{
    const mxu_value *out = &x->g->values[n->output];
    return batchnorm(n, in_buf(x, n, 0), x->buf[n->output], (size_t)mxu_value_elems(out),
                     out->dims[out->ndims - 1]);
}

static int run_node(struct exec *x, uint32_t index)
{
    const mxu_node *n = &x->g->nodes[index];
    const mxu_value *out = &x->g->values[n->output];
    size_t count = (size_t)mxu_value_elems(out);
    if (!new_buffer(x, n->output))
        return mxu_fail(MXU_ERR_NOMEM, "float execution");
    float *dst = x->buf[n->output];
    switch (n->op) {
    case MXU_NODE_CONV: return run_conv(x, index);
    case MXU_NODE_FC: return run_fc(x, index);
    case MXU_NODE_MAXPOOL:
    case MXU_NODE_AVGPOOL:
    case MXU_NODE_GLOBAL_AVGPOOL: return run_pool(x, n);
    case MXU_NODE_ADD: {
        int rc = mxu_golden_add_f32(count, in_buf(x, n, 0), in_buf(x, n, 1), -INFINITY, INFINITY, dst);
        return rc ? rc : finish_node(x, index, dst, count, 0, 0);
    }
    case MXU_NODE_CONCAT: run_concat(x, n); return MXU_OK;
    case MXU_NODE_UPSAMPLE: run_upsample(x, n); return MXU_OK;
    case MXU_NODE_SOFTMAX: return run_softmax(x, n);
    case MXU_NODE_BATCHNORM: return run_batchnorm(x, n);
    case MXU_NODE_ACT:
        for (size_t i = 0; i < count; i++)
            dst[i] = in_buf(x, n, 0)[i];
        return finish_node(x, index, dst, count, 0, 0);
    case MXU_NODE_FLATTEN:
    case MXU_NODE_IDENTITY: memcpy(dst, in_buf(x, n, 0), count * sizeof *dst); return MXU_OK;
    default: return mxu_node_fail(MXU_ERR_INVAL, n, "no float kernel");
    }
}

static int exec_init(struct exec *x, const mxu_graph *g, const struct mxu_float_observer *obs)
{
    memset(x, 0, sizeof *x);
    x->g = g;
    x->obs = obs;
    x->buf = calloc((size_t)g->n_values + 1, sizeof *x->buf);
    x->owned = calloc((size_t)g->n_values + 1, 1);
    x->last_use = malloc(((size_t)g->n_values + 1) * sizeof *x->last_use);
    if (!x->buf || !x->owned || !x->last_use)
        return mxu_fail(MXU_ERR_NOMEM, "float execution");
    for (uint32_t v = 0; v < g->n_values; v++)
        x->last_use[v] = mxu_graph_is_output(g, (int)v) ? INT32_MAX : -1;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        for (uint32_t k = 0; k < g->nodes[i].n_inputs; k++) {
            int v = g->nodes[i].inputs[k];
            if (x->last_use[v] < (int32_t)i)
                x->last_use[v] = (int32_t)i;
        }
    return MXU_OK;
}

static void exec_free(struct exec *x)
{
    for (uint32_t v = 0; x->buf && v < x->g->n_values; v++)
        if (x->owned[v])
            free(x->buf[v]);
    free(x->buf), free(x->owned), free(x->last_use);
}

/* A kernel's own detail does not know the node: add it. */
static int name_the_node(int rc, const mxu_node *n)
{
    char detail[400];
    if (!strncmp(mxu_error_detail(), "node '", 6))
        return rc;
    snprintf(detail, sizeof detail, "%s", mxu_error_detail());
    return mxu_node_fail(rc, n, "%s", detail);
}

static void observe(const struct exec *x, int v)
{
    if (x->obs && x->obs->value)
        x->obs->value(x->obs->ctx, v, x->buf[v], (size_t)mxu_value_elems(&x->g->values[v]));
}

static int copy_outputs(struct exec *x, float **outputs)
{
    for (uint32_t k = 0; outputs && k < x->g->n_outputs; k++)
        outputs[k] = NULL;
    for (uint32_t k = 0; outputs && k < x->g->n_outputs; k++) {
        int v = x->g->outputs[k];
        size_t bytes = (size_t)mxu_value_elems(&x->g->values[v]) * sizeof(float);
        if (!(outputs[k] = malloc(bytes ? bytes : 1))) {
            for (uint32_t j = 0; j < k; j++)
                free(outputs[j]), outputs[j] = NULL;
            return mxu_fail(MXU_ERR_NOMEM, "float outputs");
        }
        memcpy(outputs[k], x->buf[v], bytes);
    }
    return MXU_OK;
}

int mxu_float_run(const mxu_graph *g, const float *const *inputs, float **outputs,
                  const struct mxu_float_observer *obs)
{
    struct exec x;
    int rc = exec_init(&x, g, obs);
    for (uint32_t k = 0; rc == MXU_OK && k < g->n_inputs; k++) {
        x.buf[g->inputs[k]] = (float *)inputs[k]; /* read only */
        observe(&x, g->inputs[k]);
    }
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        rc = run_node(&x, i);
        if (rc) {
            rc = name_the_node(rc, &g->nodes[i]);
            break;
        }
        observe(&x, g->nodes[i].output);
        for (uint32_t k = 0; k < g->nodes[i].n_inputs; k++) {
            int v = g->nodes[i].inputs[k];
            if (x.last_use[v] == (int32_t)i && x.owned[v]) {
                free(x.buf[v]);
                x.buf[v] = NULL, x.owned[v] = 0;
            }
        }
    }
    if (rc == MXU_OK)
        rc = copy_outputs(&x, outputs);
    exec_free(&x);
    return rc;
}

uint64_t mxu_graph_macs(const mxu_graph *g)
{
    uint64_t macs = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const mxu_node *n = &g->nodes[i];
        const mxu_value *in = &g->values[n->inputs[0]];
        if (n->op == MXU_NODE_FC) {
            macs += (uint64_t)in->dims[0] * mxu_node_fan_in(g, n) * n->cout;
        } else if (n->op == MXU_NODE_CONV && in->ndims == 4) {
            int32_t oh = 0, ow = 0;
            mxu_conv_out_size(i32(in->dims[1]), i32(n->kh), i32(n->stride_h), i32(n->dil_h),
                              i32(n->pad_top), i32(n->pad_bottom), &oh);
            mxu_conv_out_size(i32(in->dims[2]), i32(n->kw), i32(n->stride_w), i32(n->dil_w),
                              i32(n->pad_left), i32(n->pad_right), &ow);
            macs += (uint64_t)in->dims[0] * (uint64_t)oh * (uint64_t)ow * n->cout * mxu_node_fan_in(g, n);
        }
    }
    return macs;
}
