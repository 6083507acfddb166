/* FLATTEN never becomes a layer. FC layers read NHWC values directly (the
 * device and the golden kernel flatten an NHWC tensor in H, W, C order), so a
 * FLATTEN before an FC disappears; a model that flattened in C, H, W order
 * (ONNX's NCHW Flatten, Darknet's CHW memory) marks its FC flatten_chw, and its
 * weight columns are permuted here to H, W, C order once, instead of moving
 * data at run time. A FLATTEN of a 1x1 map (global pooling, then flatten) feeding
 * a softmax, an activation or the graph output is dropped: [N][1][1][C] and
 * [N][C] are the same bytes, so those consumers take the NHWC value. */
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"

int mxu_fc_source(const mxu_graph *g, const mxu_node *fc)
{
    int v = fc->inputs[0];
    for (;;) {
        int p = g->values[v].producer;
        if (p < 0 || (g->nodes[p].op != MXU_NODE_FLATTEN && g->nodes[p].op != MXU_NODE_IDENTITY))
            break;
        v = g->nodes[p].inputs[0];
    }
    return g->values[v].ndims == 4 ? v : -1;
}

/* Column (h, w, c) takes the column the CHW flattening put at (c, h, w). */
#define PERMUTE_COLUMNS(NAME, T)                                                                   \
    static int NAME(T *rows, uint32_t cout, uint32_t h, uint32_t w, uint32_t c)                    \
    {                                                                                              \
        size_t cin = (size_t)h * w * c, hw = (size_t)h * w;                                        \
        T *tmp = malloc((cin ? cin : 1) * sizeof *tmp);                                            \
        if (!tmp)                                                                                  \
            return mxu_fail(MXU_ERR_NOMEM, "FC weight permutation");                               \
        for (uint32_t o = 0; o < cout; o++) {                                                      \
            T *row = rows + o * cin;                                                               \
            memcpy(tmp, row, cin * sizeof *tmp);                                                   \
            for (size_t p = 0; p < hw; p++)                                                        \
                for (size_t ch = 0; ch < c; ch++)                                                  \
                    row[p * c + ch] = tmp[ch * hw + p];                                            \
        }                                                                                          \
        free(tmp);                                                                                 \
        return MXU_OK;                                                                             \
    }
PERMUTE_COLUMNS(permute_float_columns, float)
PERMUTE_COLUMNS(permute_int8_columns, int8_t)

static int fc_to_nhwc(mxu_graph *g, mxu_node *n)
{
    int src = mxu_fc_source(g, n);
    if (src < 0) {
        n->flatten_chw = 0; /* an NC input has no spatial order */
        return MXU_OK;
    }
    const mxu_value *v = &g->values[src];
    uint32_t h = v->dims[1], w = v->dims[2], c = v->dims[3];
    int rc = MXU_OK;
    if (n->flatten_chw && (uint64_t)h * w > 1 && c > 1) {
        if (n->weights)
            rc = permute_float_columns(n->weights, n->cout, h, w, c);
        if (rc == MXU_OK && n->qweights)
            rc = permute_int8_columns(n->qweights, n->cout, h, w, c);
    }
    n->flatten_chw = 0;
    n->inputs[0] = src;
    return rc;
}

int mxu_pass_fc_reads_nhwc(mxu_graph *g)
{
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        mxu_node *n = &g->nodes[i];
        if (n->op != MXU_NODE_FC)
            continue;
        int rc = fc_to_nhwc(g, n);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

static int flatten_consumer_ok(const mxu_node *n)
{
    return n->op == MXU_NODE_SOFTMAX || n->op == MXU_NODE_ACT || n->op == MXU_NODE_FC;
}

static int drop_flatten(mxu_graph *g, const struct mxu_graph_uses *u, uint32_t i)
{
    const mxu_node *n = &g->nodes[i];
    const mxu_value *in = &g->values[n->inputs[0]];
    for (uint32_t k = u->first[n->output]; k < u->first[n->output + 1]; k++) {
        const mxu_node *c = &g->nodes[u->node[k]];
        if (!flatten_consumer_ok(c) || (in->dims[1] != 1 || in->dims[2] != 1))
            return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "a flatten of a %ux%u map feeding %s '%s' "
                                 "(only FC layers, or softmax/activations of a 1x1 map, read "
                                 "flattened values)", in->dims[1], in->dims[2],
                                 mxu_node_op_name(c->op), c->name);
    }
    if (mxu_graph_is_output(g, n->output) && (in->dims[1] != 1 || in->dims[2] != 1))
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "a flatten of a %ux%u map as the graph output "
                             "(the model's C, H, W order is not the device's H, W, C)",
                             in->dims[1], in->dims[2]);
    int from = n->output, to = n->inputs[0];
    mxu_graph_kill_node(g, i);
    mxu_graph_replace_uses(g, from, to);
    return MXU_OK;
}

int mxu_pass_remove_flatten(mxu_graph *g)
{
    struct mxu_graph_uses u;
    int rc = mxu_graph_uses_build(g, &u), changed = 0;
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++)
        if (g->nodes[i].op == MXU_NODE_FLATTEN && g->values[g->nodes[i].inputs[0]].ndims == 4) {
            rc = drop_flatten(g, &u, i);
            changed = 1;
        }
    mxu_graph_uses_free(&u);
    if (rc == MXU_OK && changed) {
        mxu_graph_forget_shapes(g); /* consumers of dropped flattens are NHWC now */
        rc = mxu_graph_compact(g);
    }
    return rc ? rc : mxu_graph_infer_shapes(g);
}
