/* Shape inference: every value's NHWC/NC dims from the graph inputs, node by
 * node in topological order, checking each node's inputs and attributes. A
 * value whose dims a frontend already gave must agree. */
#include <stdio.h>
#include <string.h>

#include "compiler_core.h"

#define MAX_ELEMS (1ull << 31) /* int8 tensors must stay addressable in device DRAM */

struct shape {
    uint32_t ndims, dims[4];
};

static int window_out(const mxu_node *n, const char *axis, uint32_t in, uint32_t k, uint32_t stride,
                      uint32_t dil, uint32_t p0, uint32_t p1, uint32_t *out)
{
    int32_t o = 0;
    if (in > INT32_MAX || k > INT32_MAX || stride > INT32_MAX || dil > INT32_MAX || p0 > INT32_MAX ||
        p1 > INT32_MAX || mxu_conv_out_size((int32_t)in, (int32_t)k, (int32_t)stride, (int32_t)dil,
                                            (int32_t)p0, (int32_t)p1, &o))
        return mxu_node_fail(MXU_ERR_INVAL, n, "%s window %u (stride %u, dilation %u, pads %u/%u) "
                             "does not fit an input of %u", axis, k, stride, dil, p0, p1, in);
    *out = (uint32_t)o;
    return MXU_OK;
}

static int need_4d(const mxu_node *n, const mxu_value *in)
{
    if (in->ndims != 4)
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "input '%s' has %u dimensions, the op needs "
                             "NHWC (4)", in->name, in->ndims);
    return MXU_OK;
}

static int conv_shape(const mxu_node *n, const mxu_value *in, struct shape *s)
{
    int rc = need_4d(n, in);
    if (rc)
        return rc;
    if (!n->cout || !n->groups || in->dims[3] % n->groups || n->cout % n->groups)
        return mxu_node_fail(MXU_ERR_INVAL, n, "%u groups do not divide %u input and %u output "
                             "channels", n->groups, in->dims[3], n->cout);
    s->ndims = 4;
    s->dims[0] = in->dims[0], s->dims[3] = n->cout;
    rc = window_out(n, "vertical", in->dims[1], n->kh, n->stride_h, n->dil_h, n->pad_top,
                    n->pad_bottom, &s->dims[1]);
    if (rc == MXU_OK)
        rc = window_out(n, "horizontal", in->dims[2], n->kw, n->stride_w, n->dil_w, n->pad_left,
                        n->pad_right, &s->dims[2]);
    if (rc || !n->pool_k)
        return rc;
    rc = window_out(n, "fused pool vertical", s->dims[1], n->pool_k, n->pool_s, 1, 0, 0, &s->dims[1]);
    if (rc == MXU_OK)
        rc = window_out(n, "fused pool horizontal", s->dims[2], n->pool_k, n->pool_s, 1, 0, 0,
                        &s->dims[2]);
    return rc;
}

static int pool_shape(const mxu_node *n, const mxu_value *in, struct shape *s)
{
    int rc = need_4d(n, in);
    if (rc)
        return rc;
    *s = (struct shape){4, {in->dims[0], 0, 0, in->dims[3]}};
    if (n->op == MXU_NODE_GLOBAL_AVGPOOL) {
        s->dims[1] = s->dims[2] = 1;
        return MXU_OK;
    }
    if (n->pad_top >= n->kh || n->pad_bottom >= n->kh || n->pad_left >= n->kw || n->pad_right >= n->kw)
        return mxu_node_fail(MXU_ERR_INVAL, n, "padding %u,%u,%u,%u not smaller than the %ux%u window",
                             n->pad_top, n->pad_left, n->pad_bottom, n->pad_right, n->kh, n->kw);
    rc = window_out(n, "vertical", in->dims[1], n->kh, n->stride_h, 1, n->pad_top, n->pad_bottom,
                    &s->dims[1]);
    if (rc == MXU_OK)
        rc = window_out(n, "horizontal", in->dims[2], n->kw, n->stride_w, 1, n->pad_left,
                        n->pad_right, &s->dims[2]);
    return rc;
}

static int same_shape(const mxu_value *a, const mxu_value *b)
{
    return a->ndims == b->ndims && !memcmp(a->dims, b->dims, a->ndims * sizeof *a->dims);
}

static int add_shape(const mxu_graph *g, const mxu_node *n, struct shape *s)
{
    if (n->n_inputs != 2)
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "%u inputs (add takes 2)", n->n_inputs);
    const mxu_value *a = &g->values[n->inputs[0]], *b = &g->values[n->inputs[1]];
    if (!same_shape(a, b))
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "inputs '%s' and '%s' differ in shape "
                             "(broadcasting is not supported)", a->name, b->name);
    s->ndims = a->ndims;
    memcpy(s->dims, a->dims, sizeof s->dims);
    return MXU_OK;
}

static int concat_shape(const mxu_graph *g, const mxu_node *n, struct shape *s)
{
    const mxu_value *first = &g->values[n->inputs[0]];
    uint32_t last = first->ndims - 1;
    uint64_t channels = 0;
    for (uint32_t k = 0; k < n->n_inputs; k++) {
        const mxu_value *v = &g->values[n->inputs[k]];
        if (v->ndims != first->ndims || memcmp(v->dims, first->dims, last * sizeof *v->dims))
            return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "input '%s' does not match '%s' outside "
                                 "the channel axis", v->name, first->name);
        channels += v->dims[last];
    }
    if (channels > UINT32_MAX)
        return mxu_node_fail(MXU_ERR_LIMIT, n, "too many channels");
    s->ndims = first->ndims;
    memcpy(s->dims, first->dims, sizeof s->dims);
    s->dims[last] = (uint32_t)channels;
    return MXU_OK;
}

static int upsample_shape(const mxu_node *n, const mxu_value *in, struct shape *s)
{
    int rc = need_4d(n, in);
    if (rc)
        return rc;
    if (n->scale < 1 || (uint64_t)in->dims[1] * n->scale > UINT32_MAX ||
        (uint64_t)in->dims[2] * n->scale > UINT32_MAX)
        return mxu_node_fail(MXU_ERR_INVAL, n, "upsample factor %u", n->scale);
    *s = (struct shape){4, {in->dims[0], in->dims[1] * n->scale, in->dims[2] * n->scale, in->dims[3]}};
    return MXU_OK;
}

static int node_shape(const mxu_graph *g, const mxu_node *n, struct shape *s)
{
    const mxu_value *in = &g->values[n->inputs[0]];
    memset(s, 0, sizeof *s);
    if (n->n_inputs != 1 && n->op != MXU_NODE_ADD && n->op != MXU_NODE_CONCAT)
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "%u inputs (the op takes 1)", n->n_inputs);
    switch (n->op) {
    case MXU_NODE_CONV: return conv_shape(n, in, s);
    case MXU_NODE_FC:
        if (!n->cout)
            return mxu_node_fail(MXU_ERR_INVAL, n, "no output features");
        *s = (struct shape){2, {in->dims[0], n->cout, 0, 0}};
        return MXU_OK;
    case MXU_NODE_MAXPOOL:
    case MXU_NODE_AVGPOOL:
    case MXU_NODE_GLOBAL_AVGPOOL: return pool_shape(n, in, s);
    case MXU_NODE_ADD: return add_shape(g, n, s);
    case MXU_NODE_CONCAT: return concat_shape(g, n, s);
    case MXU_NODE_UPSAMPLE: return upsample_shape(n, in, s);
    case MXU_NODE_FLATTEN:
        *s = (struct shape){2, {in->dims[0], (uint32_t)(mxu_value_elems(in) / in->dims[0]), 0, 0}};
        return MXU_OK;
    case MXU_NODE_SOFTMAX:
    case MXU_NODE_ACT:
    case MXU_NODE_BATCHNORM:
    case MXU_NODE_IDENTITY:
        s->ndims = in->ndims;
        memcpy(s->dims, in->dims, sizeof s->dims);
        return MXU_OK;
    default: return mxu_node_fail(MXU_ERR_INVAL, n, "unknown op %d", (int)n->op);
    }
}

/* A conv/FC's weights must stay addressable (the products below cannot
 * overflow: each factor is below 2^32 and checked before the next). */
static int check_weight_count(const mxu_graph *g, const mxu_node *n)
{
    if (n->op != MXU_NODE_CONV && n->op != MXU_NODE_FC)
        return MXU_OK;
    uint64_t count = n->cout;
    const uint64_t factors[3] = {n->op == MXU_NODE_CONV ? n->kh : 1, n->op == MXU_NODE_CONV ? n->kw : 1,
                                 mxu_node_cin(g, n)};
    for (int i = 0; i < 3; i++) {
        count *= factors[i];
        if (count > MAX_ELEMS)
            return mxu_node_fail(MXU_ERR_LIMIT, n, "more than 2^31 weights");
    }
    return MXU_OK;
}

/* Inputs exist, are computed before the node, have shapes. */
static int check_inputs(const mxu_graph *g, uint32_t index)
{
    const mxu_node *n = &g->nodes[index];
    if (n->n_inputs < 1 || n->n_inputs > MXU_NODE_MAX_INPUTS)
        return mxu_node_fail(MXU_ERR_INVAL, n, "%u inputs", n->n_inputs);
    if (n->output < 0 || (uint32_t)n->output >= g->n_values || g->values[n->output].producer != (int)index)
        return mxu_node_fail(MXU_ERR_INVAL, n, "output value is not owned by the node");
    for (uint32_t k = 0; k < n->n_inputs; k++) {
        int v = n->inputs[k];
        if (v < 0 || (uint32_t)v >= g->n_values)
            return mxu_node_fail(MXU_ERR_INVAL, n, "input %u is not a value", k);
        const mxu_value *in = &g->values[v];
        if (in->producer >= (int)index)
            return mxu_node_fail(MXU_ERR_INVAL, n, "reads '%s' before it is computed (nodes must "
                                 "be in topological order)", in->name);
        if (in->producer < 0 && !mxu_graph_is_input(g, v))
            return mxu_node_fail(MXU_ERR_INVAL, n, "reads '%s', which no node computes and which "
                                 "is not a graph input", in->name);
        if (!in->ndims || !in->dims[0])
            return mxu_node_fail(MXU_ERR_INVAL, n, "input '%s' has no shape", in->name);
    }
    return MXU_OK;
}

static int check_elems(const mxu_node *n, const struct shape *s)
{
    uint64_t e = 1;
    for (uint32_t i = 0; i < s->ndims; i++) {
        if (!s->dims[i])
            return mxu_node_fail(MXU_ERR_INVAL, n, "output dimension %u is 0", i);
        e *= s->dims[i];
        if (e > MAX_ELEMS)
            return mxu_node_fail(MXU_ERR_LIMIT, n, "output larger than 2^31 elements");
    }
    return MXU_OK;
}

static int check_graph_io(const mxu_graph *g)
{
    if (!g->n_inputs || !g->n_outputs)
        return mxu_fail(MXU_ERR_INVAL, "graph '%s': %s", g->name, g->n_inputs ? "no outputs" : "no inputs");
    for (uint32_t k = 0; k < g->n_inputs; k++) {
        const mxu_value *v = &g->values[g->inputs[k]];
        if (!v->ndims || mxu_value_elems(v) == 0 || mxu_value_elems(v) > MAX_ELEMS)
            return mxu_fail(MXU_ERR_INVAL, "graph input '%s' needs a non-empty NHWC or NC shape", v->name);
        if (v->producer >= 0)
            return mxu_fail(MXU_ERR_INVAL, "graph input '%s' is computed by a node", v->name);
    }
    return MXU_OK;
}

void mxu_graph_forget_shapes(mxu_graph *g)
{
    for (uint32_t v = 0; v < g->n_values; v++)
        if (g->values[v].producer >= 0)
            g->values[v].ndims = 0;
}

int mxu_graph_infer_shapes(mxu_graph *g)
{
    if (!g)
        return mxu_fail(MXU_ERR_INVAL, "mxu_graph_infer_shapes: no graph");
    int rc = check_graph_io(g);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        mxu_node *n = &g->nodes[i];
        struct shape s;
        rc = check_inputs(g, i);
        if (rc == MXU_OK)
            rc = node_shape(g, n, &s);
        if (rc == MXU_OK)
            rc = check_weight_count(g, n);
        if (rc == MXU_OK)
            rc = check_elems(n, &s);
        if (rc)
            break;
        mxu_value *out = &g->values[n->output];
        if (out->ndims && (out->ndims != s.ndims || memcmp(out->dims, s.dims, s.ndims * sizeof *s.dims)))
            return mxu_node_fail(MXU_ERR_INVAL, n, "output '%s' is declared with another shape than "
                                 "the node computes", out->name);
        out->ndims = s.ndims;
        memset(out->dims, 0, sizeof out->dims);
        memcpy(out->dims, s.dims, s.ndims * sizeof *s.dims);
    }
    for (uint32_t k = 0; rc == MXU_OK && k < g->n_outputs; k++)
        if (!g->values[g->outputs[k]].ndims)
            rc = mxu_fail(MXU_ERR_INVAL, "graph output '%s' is never computed",
                          g->values[g->outputs[k]].name);
    return rc;
}
