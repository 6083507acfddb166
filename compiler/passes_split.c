/* Shaping the graph into the program's layer set before calibration: the host
 * ADD has no lookup table, so a LUT activation on an ADD becomes its own ACT
 * node; the host CONCAT joins two tensors, so a CONCAT of k inputs becomes a
 * chain of k-1 (its intermediates share the concat's quantization anyway). */
#include <stdio.h>
#include <string.h>

#include "compiler_core.h"

static void suffixed(char *dst, const char *name, const char *suffix, uint32_t k)
{
    char tail[24];
    snprintf(tail, sizeof tail, ":%s%u", suffix, k);
    snprintf(dst, MXU_GRAPH_NAME_LEN, "%.*s%s", (int)(MXU_GRAPH_NAME_LEN - 1 - strlen(tail)), name, tail);
}

/* ADD (with a table activation) at index i -> ADD, then ACT writing the old output. */
static int split_add_activation(mxu_graph *g, uint32_t i)
{
    char name[MXU_GRAPH_NAME_LEN];
    mxu_node *act;
    int out = g->nodes[i].output;
    suffixed(name, g->nodes[i].name, "act", 0);
    int rc = mxu_graph_insert_node(g, i + 1, MXU_NODE_ACT, name, g->nodes[i].src_line, &out, 1, &act);
    if (rc)
        return rc;
    int fresh = act->output; /* the ACT node will write `out` itself: swap the two values */
    mxu_node *add = &g->nodes[i];
    act->act = add->act;
    add->act = (struct mxu_act){.kind = MXU_ACT_KIND_NONE};
    add->output = fresh;
    act->output = out;
    act->inputs[0] = fresh;
    g->values[fresh].producer = (int)i;
    g->values[out].producer = (int)i + 1;
    g->values[fresh].quant.valid = 0;
    snprintf(g->values[fresh].name, MXU_GRAPH_NAME_LEN, "%s", name);
    g->values[fresh].ndims = 0;
    return MXU_OK;
}

/* CONCAT of k > 2 inputs at index *i -> concat(in0, in1), then the rest. */
static int split_concat(mxu_graph *g, uint32_t *i)
{
    for (uint32_t k = 1; g->nodes[*i].n_inputs > 2; k++) {
        char name[MXU_GRAPH_NAME_LEN];
        mxu_node *first;
        int pair[2] = {g->nodes[*i].inputs[0], g->nodes[*i].inputs[1]};
        suffixed(name, g->nodes[*i].name, "part", k);
        int rc = mxu_graph_insert_node(g, *i, MXU_NODE_CONCAT, name, g->nodes[*i].src_line, pair, 2, &first);
        if (rc)
            return rc;
        mxu_node *rest = &g->nodes[++*i];
        rest->inputs[0] = first->output;
        for (uint32_t j = 1; j + 1 < rest->n_inputs; j++)
            rest->inputs[j] = rest->inputs[j + 1];
        rest->n_inputs--;
    }
    return MXU_OK;
}

int mxu_graph_split_for_lowering(mxu_graph *g)
{
    int rc = MXU_OK;
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        mxu_node *n = &g->nodes[i];
        if (n->op == MXU_NODE_ADD && mxu_act_is_lut(n->act.kind))
            rc = split_add_activation(g, i++);
        else if (n->op == MXU_NODE_CONCAT && n->n_inputs == 1)
            n->op = MXU_NODE_IDENTITY;
        else if (n->op == MXU_NODE_CONCAT)
            rc = split_concat(g, &i);
    }
    return rc ? rc : mxu_graph_infer_shapes(g);
}
