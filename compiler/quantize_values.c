/* Activation quantization: every value gets an asymmetric int8 scale and zero
 * point from its calibrated range, except where the program needs values to
 * share one quantization, because their layers copy or select bytes:
 *
 *   max/avg pool, upsample, flatten, identity   output = input
 *   concat                                      every input = output
 *
 * Such values are grouped (union-find) and the group's ranges merged. A
 * quantization fixed by the model (pre-quantized graphs) or by the op
 * (softmax's output: 1/256, -128) wins for its whole group; two different
 * fixed ones in a group are an error naming the node that joins them. */
#include <math.h>
#include <stdlib.h>

#include "compiler_core.h"

#define MIN_SPAN 1e-5f /* a range narrower than this (a constant value) still gets a usable scale */
#define MXU_SOFTMAX_MAX_INPUT_SCALE 15.0f

struct mxu_quant mxu_quant_from_range(struct mxu_range r)
{
    float lo = r.lo <= r.hi ? fminf(r.lo, 0) : 0, hi = r.lo <= r.hi ? fmaxf(r.hi, 0) : 0;
    if (!isfinite(lo) || !isfinite(hi))
        lo = fmaxf(lo, -1e30f), hi = fminf(hi, 1e30f);
    if (hi - lo < MIN_SPAN)
        hi = lo + MIN_SPAN;
    struct mxu_quant q = {1, (hi - lo) / 255.0f, 0};
    float zp = -128.0f - roundf(lo / q.scale);
    q.zero_point = zp < -128 ? -128 : zp > 127 ? 127 : (int32_t)zp;
    return q;
}

struct mxu_quant mxu_quant_symmetric(struct mxu_range r)
{
    float m = r.lo <= r.hi ? fmaxf(fabsf(r.lo), fabsf(r.hi)) : 0;
    m = isfinite(m) ? m : 1e30f;
    return (struct mxu_quant){1, fmaxf(m, MIN_SPAN) / 127.0f, 0};
}

struct groups {
    int *parent;
    struct mxu_quant *fixed; /* per root */
    struct mxu_range *range; /* per root */
};

static int find(struct groups *s, int v)
{
    while (s->parent[v] != v)
        v = s->parent[v] = s->parent[s->parent[v]];
    return v;
}

static int same_quant(struct mxu_quant a, struct mxu_quant b)
{
    return a.scale == b.scale && a.zero_point == b.zero_point;
}

static int join(struct groups *s, const mxu_node *n, int a, int b)
{
    a = find(s, a), b = find(s, b);
    if (a == b)
        return MXU_OK;
    if (s->fixed[a].valid && s->fixed[b].valid && !same_quant(s->fixed[a], s->fixed[b]))
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "its inputs and output must share one "
                             "quantization, but the model fixes different ones (scale %g zp %d, "
                             "scale %g zp %d)", (double)s->fixed[a].scale, s->fixed[a].zero_point,
                             (double)s->fixed[b].scale, s->fixed[b].zero_point);
    s->parent[b] = a;
    if (!s->fixed[a].valid)
        s->fixed[a] = s->fixed[b];
    s->range[a].lo = fminf(s->range[a].lo, s->range[b].lo);
    s->range[a].hi = fmaxf(s->range[a].hi, s->range[b].hi);
    return MXU_OK;
}

static int shares_quant(enum mxu_node_op op)
{
    return op == MXU_NODE_MAXPOOL || op == MXU_NODE_AVGPOOL || op == MXU_NODE_GLOBAL_AVGPOOL ||
           op == MXU_NODE_UPSAMPLE || op == MXU_NODE_FLATTEN || op == MXU_NODE_IDENTITY ||
           op == MXU_NODE_CONCAT;
}

static int groups_init(const mxu_graph *g, const struct mxu_calibration *c, struct groups *s)
{
    s->parent = malloc(((size_t)g->n_values + 1) * sizeof *s->parent);
    s->fixed = malloc(((size_t)g->n_values + 1) * sizeof *s->fixed);
    s->range = malloc(((size_t)g->n_values + 1) * sizeof *s->range);
    if (!s->parent || !s->fixed || !s->range)
        return mxu_fail(MXU_ERR_NOMEM, "quantization");
    for (uint32_t v = 0; v < g->n_values; v++) {
        s->parent[v] = (int)v;
        s->fixed[v] = g->values[v].quant;
        s->range[v] = c->value[v];
        int p = g->values[v].producer;
        if (p >= 0 && g->nodes[p].op == MXU_NODE_SOFTMAX && !s->fixed[v].valid)
            s->fixed[v] = (struct mxu_quant){1, MXU_SOFTMAX_OUT_SCALE, MXU_SOFTMAX_OUT_ZP};
    }
    return MXU_OK;
}

/* Scales the int8 kernels cannot take, from ranges that are too wide or too
 * narrow (random weights make both): a softmax input's scale must stay below
 * 16 (TFLite's multiplier range; logits that far apart saturate the softmax
 * anyway, so clipping them loses nothing), and an ADD's output scale above
 * 2^-19 times its larger input scale (its output multiplier must be below 1).
 * The change applies to the value's whole group. */
static void respect_kernel_limits(const mxu_graph *g, struct groups *s, struct mxu_quant *root_q)
{
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const mxu_node *n = &g->nodes[i];
        if (n->op == MXU_NODE_SOFTMAX) {
            int r = find(s, n->inputs[0]);
            if (!s->fixed[r].valid && root_q[r].scale >= MXU_SOFTMAX_MAX_INPUT_SCALE)
                root_q[r].scale = MXU_SOFTMAX_MAX_INPUT_SCALE;
        } else if (n->op == MXU_NODE_ADD) {
            int r = find(s, n->output);
            float in = fmaxf(root_q[find(s, n->inputs[0])].scale, root_q[find(s, n->inputs[1])].scale);
            if (!s->fixed[r].valid && root_q[r].scale < ldexpf(in, -19))
                root_q[r].scale = ldexpf(in, -19);
        }
    }
}

int mxu_quantize_values(const mxu_graph *g, const struct mxu_calibration *c, struct mxu_quant *q)
{
    struct groups s = {0};
    int rc = groups_init(g, c, &s);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        const mxu_node *n = &g->nodes[i];
        for (uint32_t k = 0; shares_quant(n->op) && rc == MXU_OK && k < n->n_inputs; k++)
            rc = join(&s, n, n->inputs[k], n->output);
    }
    /* q[root] first (the group's quantization), then every member copies it */
    for (uint32_t v = 0; rc == MXU_OK && v < g->n_values; v++)
        if (find(&s, (int)v) == (int)v)
            q[v] = s.fixed[v].valid ? s.fixed[v] : mxu_quant_from_range(s.range[v]);
    if (rc == MXU_OK)
        respect_kernel_limits(g, &s, q);
    for (uint32_t v = 0; rc == MXU_OK && v < g->n_values; v++) {
        q[v] = q[find(&s, (int)v)];
        if (!(q[v].scale > 0) || !isfinite(q[v].scale) || q[v].zero_point < -128 || q[v].zero_point > 127)
            rc = mxu_fail(MXU_ERR_INVAL, "value '%s': quantization scale %g zero point %d is not "
                          "int8", g->values[v].name, (double)q[v].scale, q[v].zero_point);
    }
    free(s.parent), free(s.fixed), free(s.range);
    return rc;
}
