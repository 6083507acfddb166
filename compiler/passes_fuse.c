/* Fusion: what the activation unit does on the way out of the accumulators
 * joins the conv/FC that feeds it. An activation after a conv/FC (clamps, or
 * any lookup-table function) or after an ADD (clamps only: the host ADD has no
 * table) becomes the producer's fused act; a max-pool after a conv becomes its
 * fused pool when the hardware's square, unpadded window can express it. */
#include "compiler_core.h"

#define POOL_FIELD_MAX(bits) ((1u << (bits)) - 1u)

/* The node producing v, if v has no other reader and is no graph output. */
static mxu_node *sole_producer(mxu_graph *g, const struct mxu_graph_uses *u, int v)
{
    int p = g->values[v].producer;
    if (p < 0 || mxu_graph_use_count(u, v) != 1 || mxu_graph_is_output(g, v))
        return NULL;
    return &g->nodes[p];
}

/* Producer p now writes node n's output; n goes away. */
static void absorb(mxu_graph *g, mxu_node *p, uint32_t n)
{
    int old = p->output;
    p->output = g->nodes[n].output;
    g->values[p->output].producer = (int)(p - g->nodes);
    g->values[old].producer = -1;
    mxu_graph_kill_node(g, n);
}

static int act_fusable(const mxu_graph *g, const mxu_node *p, const mxu_node *act)
{
    int lut = mxu_act_is_lut(act->act.kind);
    if (p->act.kind != MXU_ACT_KIND_NONE || p->pool_k)
        return 0;
    if (p->op == MXU_NODE_ADD)
        return !lut;
    if (p->op != MXU_NODE_CONV && p->op != MXU_NODE_FC)
        return 0;
    /* a fixed quantization of the pre-activation value would be lost */
    return !lut || !g->values[act->inputs[0]].quant.valid;
}

int mxu_pass_fuse_activations(mxu_graph *g)
{
    struct mxu_graph_uses u;
    int rc = mxu_graph_uses_build(g, &u);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        mxu_node *n = &g->nodes[i];
        if (n->op != MXU_NODE_ACT)
            continue;
        mxu_node *p = sole_producer(g, &u, n->inputs[0]);
        if (!p || !act_fusable(g, p, n))
            continue;
        p->act = n->act;
        absorb(g, p, i);
    }
    mxu_graph_uses_free(&u);
    return rc ? rc : mxu_graph_compact(g);
}

/* The pool's windows all lie inside the conv output, so pads are irrelevant. */
static int pool_fusable(const mxu_graph *g, const mxu_node *p, const mxu_node *m)
{
    const mxu_value *in = &g->values[m->inputs[0]], *out = &g->values[m->output];
    if (p->op != MXU_NODE_CONV || p->pool_k || m->kh != m->kw || m->stride_h != m->stride_w)
        return 0;
    if (m->kh > POOL_FIELD_MAX(MXU_F_ACTIVATE_POOL_K_BITS) ||
        m->stride_h > POOL_FIELD_MAX(MXU_F_ACTIVATE_POOL_S_BITS) || m->pad_top || m->pad_left)
        return 0;
    if (in->quant.valid && out->quant.valid &&
        (in->quant.scale != out->quant.scale || in->quant.zero_point != out->quant.zero_point))
        return 0;
    uint64_t need_h = (uint64_t)(out->dims[1] - 1) * m->stride_h + m->kh;
    uint64_t need_w = (uint64_t)(out->dims[2] - 1) * m->stride_w + m->kw;
    return need_h <= in->dims[1] && need_w <= in->dims[2] &&
           out->dims[1] == (in->dims[1] - m->kh) / m->stride_h + 1 &&
           out->dims[2] == (in->dims[2] - m->kw) / m->stride_w + 1;
}

int mxu_pass_fuse_maxpool(mxu_graph *g)
{
    struct mxu_graph_uses u;
    int rc = mxu_graph_uses_build(g, &u);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        mxu_node *n = &g->nodes[i];
        if (n->op != MXU_NODE_MAXPOOL)
            continue;
        mxu_node *p = sole_producer(g, &u, n->inputs[0]);
        if (!p || !pool_fusable(g, p, n))
            continue;
        p->pool_k = n->kh;
        p->pool_s = n->stride_h;
        absorb(g, p, i);
    }
    mxu_graph_uses_free(&u);
    return rc ? rc : mxu_graph_compact(g);
}

int mxu_graph_fuse(mxu_graph *g)
{
    int rc = mxu_graph_infer_shapes(g);
    if (rc == MXU_OK)
        rc = mxu_pass_remove_identities(g);
    if (rc == MXU_OK)
        rc = mxu_pass_fc_reads_nhwc(g);
    if (rc == MXU_OK)
        rc = mxu_pass_remove_dead_nodes(g);
    if (rc == MXU_OK)
        rc = mxu_pass_remove_flatten(g);
    if (rc == MXU_OK)
        rc = mxu_pass_fuse_activations(g);
    if (rc == MXU_OK)
        rc = mxu_pass_fuse_maxpool(g);
    if (rc == MXU_OK)
        rc = mxu_graph_infer_shapes(g);
    return rc;
}
