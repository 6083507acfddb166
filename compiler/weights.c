/* A conv/FC's weights come as float (`weights`, `bias`) or as int8 with
 * per-channel scales (`qweights`, `wscale`, and maybe an int32 `qbias`): from
 * pre-quantized models (ONNX QDQ/QLinear), and from mxu_graph_random_weights,
 * which draws int8 directly (a quarter of the memory; what quantization would
 * make of them anyway). Quantization uses int8 weights as they are; float
 * execution asks here for their float meaning, node by node. */
#include <stdlib.h>

#include "compiler_core.h"

int mxu_graph_check_weights(const mxu_graph *g)
{
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const mxu_node *n = &g->nodes[i];
        if (n->op != MXU_NODE_CONV && n->op != MXU_NODE_FC)
            continue;
        if (n->qweights && !n->wscale)
            return mxu_node_fail(MXU_ERR_INVAL, n, "int8 weights without their scales");
        if (!n->weights && !n->qweights)
            return mxu_node_fail(MXU_ERR_INVAL, n, "no weights (give a weights file or --random-weights)");
        for (uint32_t c = 0; n->qweights && c < n->cout; c++)
            if (!(n->wscale[c] > 0) || n->wscale[c] > 1e30f)
                return mxu_node_fail(MXU_ERR_INVAL, n, "weight scale %g of channel %u", (double)n->wscale[c], c);
    }
    return MXU_OK;
}

static int float_bias(const mxu_graph *g, const mxu_node *n, float **tmp)
{
    const mxu_value *in = &g->values[n->inputs[0]];
    if (!in->quant.valid)
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "an int32 bias needs the quantization of the "
                             "input '%s', which the model does not give", in->name);
    if (!(*tmp = malloc(n->cout * sizeof **tmp)))
        return mxu_fail(MXU_ERR_NOMEM, "float biases");
    for (uint32_t c = 0; c < n->cout; c++)
        (*tmp)[c] = (float)((double)n->qbias[c] * in->quant.scale * n->wscale[c]);
    return MXU_OK;
}

int mxu_node_float_weights(const mxu_graph *g, const mxu_node *n, struct mxu_float_weights *f)
{
    uint64_t per = mxu_node_fan_in(g, n), count = per * n->cout;
    f->w = n->weights, f->b = n->bias, f->tmp_w = f->tmp_b = NULL;
    if (!n->weights && !n->qweights)
        return mxu_node_fail(MXU_ERR_INVAL, n, "no weights");
    if (!n->weights) {
        if (!(f->tmp_w = malloc((size_t)(count + 1) * sizeof *f->tmp_w)))
            return mxu_fail(MXU_ERR_NOMEM, "float weights");
        for (uint32_t c = 0; c < n->cout; c++)
            for (uint64_t k = 0; k < per; k++)
                f->tmp_w[c * per + k] = n->wscale[c] * (float)n->qweights[c * per + k];
        f->w = f->tmp_w;
    }
    if (!n->bias && n->qbias) {
        int rc = float_bias(g, n, &f->tmp_b);
        if (rc) {
            mxu_float_weights_free(f);
            return rc;
        }
        f->b = f->tmp_b;
    }
    return MXU_OK;
}

void mxu_float_weights_free(struct mxu_float_weights *f)
{
    free(f->tmp_w), free(f->tmp_b);
    f->tmp_w = f->tmp_b = NULL;
}
