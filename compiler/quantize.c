/* Post-training quantization of the layers, TFLite's int8 scheme
 * (docs/numerics.md): per-output-channel symmetric int8 weights, int32 biases
 * at in_scale * w_scale[c], requantization multipliers from
 * mxu_requant_params, clamps for ReLU/clip, tables for the other activations
 * (the conv then requantizes to the symmetric quantization of its
 * pre-activation range, and the table maps that to the output), and TFLite's
 * ADD parameters. Pre-quantized weights and biases are used as given. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"
#include "mxu_layers.h"
#include "mxu_numerics.h"

static int32_t clamp_i8(float v)
{
    return v < -128 ? -128 : v > 127 ? 127 : (int32_t)v;
}

/* TFLite's CalculateActivationRangeQuantized for the clamp activations. */
static void act_range(const struct mxu_act *a, struct mxu_quant q, int32_t *lo, int32_t *hi)
{
    *lo = -128, *hi = 127;
    if (a->kind == MXU_ACT_KIND_RELU) {
        *lo = clamp_i8((float)q.zero_point);
    } else if (a->kind == MXU_ACT_KIND_CLIP) {
        *lo = clamp_i8((float)q.zero_point + roundf(a->lo / q.scale));
        *hi = clamp_i8((float)q.zero_point + roundf(a->hi / q.scale));
        if (*lo > *hi)
            *hi = *lo;
    }
}

/* max |w[k]|; *finite = 0 if some weight is NaN or infinite. Four running
 * maxima keep the loop free of a serial dependency (AlexNet's FC weights are
 * most of the compile time). */
static float abs_max(const float *w, uint64_t n, int *finite)
{
    float m[4] = {0, 0, 0, 0};
    int bad = 0;
    uint64_t k = 0;
    for (; k + 4 <= n; k += 4)
        for (int j = 0; j < 4; j++) {
            float a = fabsf(w[k + j]);
            bad |= !(a <= FLT_MAX);
            m[j] = a > m[j] ? a : m[j];
        }
    for (; k < n; k++) {
        float a = fabsf(w[k]);
        bad |= !(a <= FLT_MAX);
        m[0] = a > m[0] ? a : m[0];
    }
    *finite = !bad;
    m[0] = m[1] > m[0] ? m[1] : m[0];
    m[2] = m[3] > m[2] ? m[3] : m[2];
    return m[2] > m[0] ? m[2] : m[0];
}

/* Per-channel symmetric weights: scale = max |w| / 127, values rounded half
 * away from zero into [-127, 127]. */
static int quantize_weights(const mxu_node *n, uint64_t per, int8_t *q, float *scale)
{
    for (uint32_t c = 0; c < n->cout; c++) {
        const float *w = n->weights + c * per;
        int finite;
        float m = abs_max(w, per, &finite);
        if (!finite)
            return mxu_node_fail(MXU_ERR_INVAL, n, "channel %u has a weight that is not finite", c);
        scale[c] = m > 0 ? m / 127.0f : 1.0f;
        const float inv = 1.0f / scale[c];
        int8_t *row = q + c * per;
        for (uint64_t k = 0; k < per; k++) { /* branch-free: the signs are random */
            float v = w[k] * inv;
            v = v > 127.0f ? 127.0f : v;
            v = v < -127.0f ? -127.0f : v;
            row[k] = (int8_t)(int32_t)(v + copysignf(0.5f, v));
        }
    }
    return MXU_OK;
}

static int32_t bias_i32(double b)
{
    double r = round(b);
    return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
}

/* Weights, bias, requantization and activation of a conv or FC. */
static int quantize_linear(const mxu_graph *g, const struct mxu_calibration *c, struct mxu_qgraph *q,
                           uint32_t index)
{
    const mxu_node *n = &g->nodes[index];
    struct mxu_qnode *qn = &q->node[index];
    uint64_t per = mxu_node_fan_in(g, n);
    struct mxu_quant in = q->value[n->inputs[0]], out = q->value[n->output], target = out;
    float *wscale = malloc(n->cout * sizeof *wscale);
    qn->weights = n->qweights ? n->qweights : malloc((size_t)(per * n->cout + 1)); /* borrowed or own */
    qn->own_weights = !n->qweights;
    qn->bias = malloc(n->cout * sizeof *qn->bias);
    qn->multiplier = malloc(n->cout * sizeof *qn->multiplier);
    qn->shift = malloc(n->cout * sizeof *qn->shift);
    int rc = MXU_OK;
    if (!wscale || !qn->weights || !qn->bias || !qn->multiplier || !qn->shift) {
        free(wscale);
        return mxu_fail(MXU_ERR_NOMEM, "quantizing weights");
    }
    if (n->qweights) {
        memcpy(wscale, n->wscale, n->cout * sizeof *wscale);
    } else {
        rc = quantize_weights(n, per, qn->weights, wscale);
    }
    int exact_qbias = n->qbias && g->values[n->inputs[0]].quant.valid;
    for (uint32_t ch = 0; rc == MXU_OK && ch < n->cout; ch++)
        qn->bias[ch] = exact_qbias ? n->qbias[ch]
                       : n->bias   ? bias_i32((double)n->bias[ch] / ((double)in.scale * wscale[ch]))
                                   : 0;
    if (rc == MXU_OK && mxu_act_is_lut(n->act.kind)) {
        qn->pre = target = mxu_quant_symmetric(c->pre_act[index]);
        qn->has_lut = 1;
        mxu_act_lut(qn->lut, &n->act, target, out);
    } else {
        act_range(&n->act, out, &qn->act_min, &qn->act_max);
    }
    if (rc == MXU_OK && qn->has_lut)
        qn->act_min = -128, qn->act_max = 127;
    for (uint32_t ch = 0; rc == MXU_OK && n->fc_float_product && ch < n->cout; ch++) /* TFLite FC */
        if (mxu_quantize_multiplier((double)(in.scale * wscale[ch]) / (double)target.scale,
                                    &qn->multiplier[ch], &qn->shift[ch]))
            rc = mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "requantization out of range: channel %u", ch);
    if (rc == MXU_OK && !n->fc_float_product &&
        mxu_requant_params(in.scale, wscale, n->cout, target.scale, qn->multiplier, qn->shift)) {
        char detail[256];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        rc = mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "requantization out of range: %s", detail);
    }
    free(wscale);
    return rc;
}

static int quantize_add(const mxu_graph *g, struct mxu_qgraph *q, uint32_t index)
{
    const mxu_node *n = &g->nodes[index];
    struct mxu_qnode *qn = &q->node[index];
    struct mxu_quant a = q->value[n->inputs[0]], b = q->value[n->inputs[1]], o = q->value[n->output];
    struct mxu_add_params ap;
    act_range(&n->act, o, &qn->act_min, &qn->act_max);
    if (mxu_add_params_from_scales(a.scale, a.zero_point, b.scale, b.zero_point, o.scale, o.zero_point,
                                   qn->act_min, qn->act_max, &ap)) {
        char detail[256];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "scales the int8 add cannot combine: %s", detail);
    }
    mxu_add_params_pack(&ap, qn->add_params);
    return MXU_OK;
}

static int quantize_node(const mxu_graph *g, const struct mxu_calibration *c, struct mxu_qgraph *q,
                         uint32_t index)
{
    const mxu_node *n = &g->nodes[index];
    struct mxu_qnode *qn = &q->node[index];
    qn->act_min = -128, qn->act_max = 127;
    switch (n->op) {
    case MXU_NODE_CONV:
    case MXU_NODE_FC: return quantize_linear(g, c, q, index);
    case MXU_NODE_ADD: return quantize_add(g, q, index);
    case MXU_NODE_ACT:
        qn->has_lut = 1;
        mxu_act_lut(qn->lut, &n->act, q->value[n->inputs[0]], q->value[n->output]);
        return MXU_OK;
    default: return MXU_OK;
    }
}

void mxu_qgraph_free(struct mxu_qgraph *q)
{
    for (uint32_t i = 0; q->node && i < q->n_nodes; i++) {
        if (q->node[i].own_weights)
            free(q->node[i].weights);
        free(q->node[i].bias);
        free(q->node[i].multiplier), free(q->node[i].shift);
    }
    free(q->node);
    free(q->value);
    memset(q, 0, sizeof *q);
}

int mxu_quantize_graph(const mxu_graph *g, const struct mxu_calibration *c, struct mxu_qgraph *q)
{
    memset(q, 0, sizeof *q);
    q->n_values = g->n_values, q->n_nodes = g->n_nodes;
    q->value = calloc((size_t)g->n_values + 1, sizeof *q->value);
    q->node = calloc((size_t)g->n_nodes + 1, sizeof *q->node);
    int rc = q->value && q->node ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "quantization");
    if (rc == MXU_OK)
        rc = mxu_quantize_values(g, c, q->value);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++)
        rc = quantize_node(g, c, q, i);
    if (rc)
        mxu_qgraph_free(q);
    return rc;
}
