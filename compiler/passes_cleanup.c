/* Clean-up passes: identities (dropout, no-op reshapes, flatten of an NC value)
 * disappear, and nodes whose results nobody reads are removed. */
#include <stdlib.h>

#include "compiler_core.h"

static int is_identity(const mxu_graph *g, const mxu_node *n)
{
    if (n->op == MXU_NODE_IDENTITY)
        return 1;
    return n->op == MXU_NODE_FLATTEN && g->values[n->inputs[0]].ndims == 2;
}

int mxu_pass_remove_identities(mxu_graph *g)
{
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        mxu_node *n = &g->nodes[i];
        if (!n->op || !is_identity(g, n))
            continue;
        int in = n->inputs[0], out = n->output;
        mxu_value *vin = &g->values[in], *vout = &g->values[out];
        if (vout->quant.valid && vin->quant.valid &&
            (vout->quant.scale != vin->quant.scale || vout->quant.zero_point != vin->quant.zero_point))
            return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "identity between different fixed "
                                 "quantizations");
        if (vout->quant.valid)
            vin->quant = vout->quant;
        mxu_graph_kill_node(g, i);
        mxu_graph_replace_uses(g, out, in);
    }
    return mxu_graph_compact(g);
}

int mxu_pass_remove_dead_nodes(mxu_graph *g)
{
    uint32_t *readers = calloc((size_t)g->n_values + 1, sizeof *readers);
    if (!readers)
        return mxu_fail(MXU_ERR_NOMEM, "dead-node removal");
    for (uint32_t i = 0; i < g->n_nodes; i++)
        for (uint32_t k = 0; g->nodes[i].op && k < g->nodes[i].n_inputs; k++)
            readers[g->nodes[i].inputs[k]]++;
    for (uint32_t i = g->n_nodes; i-- > 0;) { /* readers come after producers */
        mxu_node *n = &g->nodes[i];
        if (!n->op || readers[n->output] || mxu_graph_is_output(g, n->output))
            continue;
        for (uint32_t k = 0; k < n->n_inputs; k++)
            readers[n->inputs[k]]--;
        mxu_graph_kill_node(g, i);
    }
    free(readers);
    return mxu_graph_compact(g);
}
