/* Batch-norm folding: y = gamma * (x - mean) / sqrt(var + eps) + beta is an
 * affine map per channel, so after a conv/FC it folds into the weights and the
 * bias. A batch norm that follows anything else becomes a depthwise 1x1 conv
 * (NHWC) or a diagonal FC (NC), which the array runs like any conv. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"

#define MAX_DIAGONAL_FC 4096u /* channels of an NC batch norm turned into a C x C FC */

static int check_stats(const mxu_node *n, const struct mxu_batchnorm *bn)
{
    if (!bn->gamma || !bn->beta || !bn->mean || !bn->var)
        return mxu_node_fail(MXU_ERR_INVAL, n, "batch-norm statistics are missing (give weights "
                             "or --random-weights)");
    if (!(bn->eps >= 0) || !isfinite(bn->eps))
        return mxu_node_fail(MXU_ERR_INVAL, n, "batch-norm epsilon %g", (double)bn->eps);
    return MXU_OK;
}

/* Per-channel factor gamma / sqrt(var + eps). */
static int bn_factor(const mxu_node *n, const struct mxu_batchnorm *bn, uint32_t c, float *f)
{
    double d = (double)bn->var[c] + bn->eps;
    if (!(d > 0) || !isfinite(d))
        return mxu_node_fail(MXU_ERR_INVAL, n, "channel %u: batch-norm variance %g + eps is not "
                             "positive", c, (double)bn->var[c]);
    *f = (float)(bn->gamma[c] / sqrt(d));
    return MXU_OK;
}

/* Scale output channel c of n's weights by f: float weights directly; int8
 * weights through their channel scale (negated when f < 0, so the scale stays
 * positive; q is in [-127, 127], so -q is too). */
static void scale_channel(mxu_node *n, uint64_t per, uint32_t c, float f)
{
    for (uint64_t k = 0; n->weights && k < per; k++)
        n->weights[c * per + k] *= f;
    if (!n->qweights)
        return;
    n->wscale[c] *= f != 0 ? fabsf(f) : 1.0f;
    for (uint64_t k = 0; k < per; k++)
        n->qweights[c * per + k] = f > 0 ? n->qweights[c * per + k]
                                   : f < 0 ? (int8_t)-n->qweights[c * per + k] : 0;
}

/* Fold bn into node n (a conv or FC). */
static int fold_into(const mxu_graph *g, mxu_node *n, const mxu_node *bn_node, const struct mxu_batchnorm *bn)
{
    int rc = check_stats(bn_node, bn);
    if (rc)
        return rc;
    if (n->qbias)
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "batch norm after an int32 bias");
    if (!n->weights && !n->qweights)
        return mxu_node_fail(MXU_ERR_INVAL, n, "no weights to fold the batch norm into");
    if (!n->bias && !(n->bias = calloc(n->cout, sizeof *n->bias)))
        return mxu_fail(MXU_ERR_NOMEM, "batch-norm folding");
    uint64_t per = mxu_node_fan_in(g, n);
    for (uint32_t c = 0; c < n->cout; c++) {
        float f;
        if ((rc = bn_factor(bn_node, bn, c, &f)))
            return rc;
        scale_channel(n, per, c, f);
        n->bias[c] = (n->bias[c] - bn->mean[c]) * f + bn->beta[c];
    }
    return MXU_OK;
}

static void free_stats(struct mxu_batchnorm *bn)
{
    free(bn->gamma), free(bn->beta), free(bn->mean), free(bn->var);
    memset(bn, 0, sizeof *bn);
}

/* A batch norm nothing can absorb: depthwise 1x1 conv, or diagonal FC on NC. */
static int to_linear_node(const mxu_graph *g, mxu_node *n)
{
    const mxu_value *in = &g->values[n->inputs[0]];
    uint32_t c = in->dims[in->ndims - 1];
    int rc = check_stats(n, &n->bn);
    if (rc)
        return rc;
    if (in->ndims == 2 && c > MAX_DIAGONAL_FC)
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "batch norm over %u features of an NC value "
                             "(at most %u)", c, MAX_DIAGONAL_FC);
    uint64_t per = in->ndims == 4 ? 1 : c;
    float *w = calloc((size_t)(c * per), sizeof *w), *b = malloc(c * sizeof *b);
    if (!w || !b) {
        free(w), free(b);
        return mxu_fail(MXU_ERR_NOMEM, "batch norm");
    }
    for (uint32_t i = 0; i < c && rc == MXU_OK; i++) {
        float f = 0;
        rc = bn_factor(n, &n->bn, i, &f);
        w[i * per + (per > 1 ? i : 0)] = f;
        b[i] = n->bn.beta[i] - n->bn.mean[i] * f;
    }
    if (rc) {
        free(w), free(b);
        return rc;
    }
    free_stats(&n->bn);
    n->has_bn = 0;
    n->op = in->ndims == 4 ? MXU_NODE_CONV : MXU_NODE_FC;
    n->cout = c;
    n->groups = in->ndims == 4 ? c : 1;
    n->weights = w, n->bias = b;
    return MXU_OK;
}

/* The conv/FC producing a standalone batch norm's input, if it may absorb it. */
static mxu_node *absorber(mxu_graph *g, const struct mxu_graph_uses *u, const mxu_node *bn)
{
    int v = bn->inputs[0];
    int p = g->values[v].producer;
    if (p < 0 || mxu_graph_use_count(u, v) != 1 || mxu_graph_is_output(g, v) || g->values[v].quant.valid)
        return NULL;
    mxu_node *n = &g->nodes[p];
    if ((n->op != MXU_NODE_CONV && n->op != MXU_NODE_FC) || n->has_bn || n->act.kind != MXU_ACT_KIND_NONE ||
        n->pool_k || n->qbias || (!n->weights && !n->qweights))
        return NULL;
    return n;
}

static int fold_standalone(mxu_graph *g)
{
    struct mxu_graph_uses u;
    int rc = mxu_graph_uses_build(g, &u);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        mxu_node *n = &g->nodes[i];
        if (n->op != MXU_NODE_BATCHNORM)
            continue;
        mxu_node *p = absorber(g, &u, n);
        if (!p) {
            rc = to_linear_node(g, n);
            continue;
        }
        rc = fold_into(g, p, n, &n->bn);
        if (rc)
            break;
        /* the producer now writes the batch norm's output */
        int old = p->output;
        p->output = n->output;
        g->values[n->output].producer = (int)(p - g->nodes);
        g->values[old].producer = -1;
        mxu_graph_kill_node(g, i);
    }
    mxu_graph_uses_free(&u);
    return rc ? rc : mxu_graph_compact(g);
}

int mxu_graph_fold_batchnorm(mxu_graph *g)
{
    int rc = mxu_graph_infer_shapes(g);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        mxu_node *n = &g->nodes[i];
        if (n->has_bn && n->op != MXU_NODE_CONV && n->op != MXU_NODE_FC && n->op != MXU_NODE_BATCHNORM)
            return mxu_node_fail(MXU_ERR_INVAL, n, "batch_normalize on an op that is not a conv or FC");
        if (!n->has_bn || n->op == MXU_NODE_BATCHNORM)
            continue;
        rc = fold_into(g, n, n, &n->bn);
        if (rc == MXU_OK) {
            free_stats(&n->bn);
            n->has_bn = 0;
        }
    }
    return rc ? rc : fold_standalone(g);
}
