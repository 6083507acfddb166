/* Range estimate without running the graph (no calibration images, and a float
 * run too expensive for the compile-time budget, as AlexNet at 227x227): each
 * value is described per channel by a mean and a variance, propagated layer by
 * layer as if the inputs of a layer were independent:
 *
 *   input      random pixels U[0, 255], preprocessed
 *   conv / FC  mean = b + sum w * mean_in,  var = sum w^2 * var_in   (O(weights))
 *   activation mean and variance of f(N(mean, var)) by quadrature
 *   max-pool   the max of n independent normals (mean + e_n sigma, var * d_n)
 *   avg-pool   mean kept, variance / sqrt(n) (neighbours are correlated)
 *   add        means and variances add; concat joins the channel lists
 *
 * A value's range is mean +- 4 sigma over its channels, mapped through its
 * activation (a ReLU output starts at 0, a sigmoid stays in [0, 1]). It is an
 * estimate: enough for architecture studies with random weights, where the
 * compiled program is still bit-exact with the golden reference; real
 * accuracy needs calibration images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"

#define SIGMAS 4.0f
#define QUAD_POINTS 49

struct moments {
    uint32_t c;
    float *m, *v; /* [c] */
};

struct estimate {
    const mxu_graph *g;
    struct mxu_calibration *cal;
    struct moments *mo; /* per value */
};

static int moments_alloc(struct moments *s, uint32_t c)
{
    s->c = c;
    s->m = calloc(c ? c : 1, sizeof *s->m);
    s->v = calloc(c ? c : 1, sizeof *s->v);
    return s->m && s->v ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "range estimate");
}

static uint32_t channels(const mxu_value *v)
{
    return v->dims[v->ndims - 1];
}

static double phi(double z)
{
    return exp(-0.5 * z * z) * 0.3989422804014327; /* 1 / sqrt(2 pi) */
}

/* Mean and variance of f(x), x ~ N(m, v). */
static void act_moments(const struct mxu_act *a, float *m, float *v)
{
    double s = sqrt(*v > 0 ? *v : 0), sum_w = 0, e1 = 0, e2 = 0;
    for (int j = 0; j < QUAD_POINTS; j++) {
        double z = -6.0 + 12.0 * j / (QUAD_POINTS - 1), w = phi(z);
        double y = mxu_act_apply(a, (float)(*m + s * z));
        sum_w += w, e1 += w * y, e2 += w * y * y;
    }
    e1 /= sum_w, e2 /= sum_w;
    *m = (float)e1;
    *v = (float)(e2 - e1 * e1 > 0 ? e2 - e1 * e1 : 0);
}

/* Mean and variance of the max of n independent standard normals. */
static void max_of_normals(uint32_t n, double *mean, double *var)
{
    double e1 = 0, e2 = 0, dz = 0.01;
    for (double z = -8; z <= 8; z += dz) {
        double pdf = n * phi(z) * pow(0.5 * erfc(-z / sqrt(2.0)), (double)n - 1);
        e1 += z * pdf * dz, e2 += z * z * pdf * dz;
    }
    *mean = e1;
    *var = e2 - e1 * e1;
}

static void max_pool(struct moments *s, uint32_t taps)
{
    double e, d;
    if (taps <= 1)
        return;
    max_of_normals(taps, &e, &d);
    for (uint32_t c = 0; c < s->c; c++) {
        s->m[c] += (float)(e * sqrt(s->v[c]));
        s->v[c] *= (float)d;
    }
}

static void avg_pool(struct moments *s, uint32_t taps)
{
    for (uint32_t c = 0; c < s->c; c++)
        s->v[c] /= sqrtf((float)taps);
}

/* Sums over one row of weights (float, or int8 times the channel scale)
 * of inputs described by `in`: weight k reads channel k % cin_g of im/iv.
 * Eight float partial sums per quantity (an estimate needs no more precision,
 * and the row loops over AlexNet's 61M weights dominate this pass). */
#define ROW_MOMENTS(NAME, T)                                                                       \
    static void NAME(const T *w, uint64_t per, uint32_t cin_g, const float *im, const float *iv,  \
                     double *m, double *v)                                                         \
    {                                                                                              \
        float sm[8] = {0}, sv[8] = {0};                                          \
        for (uint64_t k0 = 0; k0 < per; k0 += cin_g) {                                             \
            const T *row = w + k0;                                                                 \
            uint32_t ic = 0;                                                                       \
            for (; ic + 8 <= cin_g; ic += 8)                                                       \
                for (int j = 0; j < 8; j++) {                                                      \
                    float wk = (float)row[ic + j];                                                 \
                    sm[j] += wk * im[ic + j];                                                      \
                    sv[j] += wk * wk * iv[ic + j];                                                 \
                }                                                                                  \
            for (; ic < cin_g; ic++) {                                                             \
                float wk = (float)row[ic];                                                         \
                sm[0] += wk * im[ic];                                                              \
                sv[0] += wk * wk * iv[ic];                                                         \
            }                                                                                      \
        }                                                                                          \
        *m = *v = 0;                                                                               \
        for (int j = 0; j < 8; j++)                                                                \
            *m += sm[j], *v += sv[j];                                                              \
    }
ROW_MOMENTS(row_moments_f32, float)
ROW_MOMENTS(row_moments_i8, int8_t)

/* conv/FC: weight k of output channel oc's row reads input channel
 * (oc's group) * cin_g + k % cin_g. */
static void linear(const mxu_node *n, const struct moments *in, uint64_t per, uint32_t cin_g,
                   uint32_t cout_g, struct moments *out)
{
    for (uint32_t oc = 0; oc < n->cout; oc++) {
        uint32_t first = (oc / cout_g) * cin_g;
        double m, v, s = n->weights ? 1.0 : n->wscale[oc];
        if (n->weights)
            row_moments_f32(n->weights + oc * per, per, cin_g, in->m + first, in->v + first, &m, &v);
        else
            row_moments_i8(n->qweights + oc * per, per, cin_g, in->m + first, in->v + first, &m, &v);
        out->m[oc] = (float)((n->bias ? n->bias[oc] : 0) + s * m);
        out->v[oc] = (float)(s * s * v);
    }
}

static struct mxu_range moment_range(const struct moments *s)
{
    struct mxu_range r = {INFINITY, -INFINITY};
    for (uint32_t c = 0; c < s->c; c++) {
        float sd = sqrtf(s->v[c] > 0 ? s->v[c] : 0);
        r.lo = fminf(r.lo, s->m[c] - SIGMAS * sd);
        r.hi = fmaxf(r.hi, s->m[c] + SIGMAS * sd);
    }
    return r;
}

/* The image of [lo, hi] under the activation (sampled: swish/mish dip). */
static struct mxu_range act_image(const struct mxu_act *a, struct mxu_range r)
{
    struct mxu_range out = {INFINITY, -INFINITY};
    for (int j = 0; j <= 256; j++) {
        float y = mxu_act_apply(a, r.lo + (r.hi - r.lo) * (float)j / 256.0f);
        out.lo = fminf(out.lo, y), out.hi = fmaxf(out.hi, y);
    }
    return out;
}

/* Activation (recording the pre-activation range), then a fused pool. */
static void finish(struct estimate *e, uint32_t index, struct moments *s)
{
    const mxu_node *n = &e->g->nodes[index];
    struct mxu_range r = moment_range(s);
    if (n->act.kind != MXU_ACT_KIND_NONE) {
        e->cal->pre_act[index] = r;
        r = act_image(&n->act, r);
        for (uint32_t c = 0; c < s->c; c++)
            act_moments(&n->act, &s->m[c], &s->v[c]);
    }
    if (n->pool_k)
        max_pool(s, n->pool_k * n->pool_k);
    e->cal->value[n->output] = r;
}

static void copy_channels(struct moments *dst, uint32_t at, const struct moments *src)
{
    memcpy(dst->m + at, src->m, src->c * sizeof *dst->m);
    memcpy(dst->v + at, src->v, src->c * sizeof *dst->v);
}

/* Per-feature moments of an NC value made from an NHWC one. */
static void spread(struct moments *dst, const struct moments *src)
{
    for (uint32_t i = 0; i < dst->c; i++)
        dst->m[i] = src->m[i % src->c], dst->v[i] = src->v[i % src->c];
}

static int node_moments(struct estimate *e, uint32_t index)
{
    const mxu_graph *g = e->g;
    const mxu_node *n = &g->nodes[index];
    const mxu_value *in = &g->values[n->inputs[0]], *out = &g->values[n->output];
    const struct moments *a = &e->mo[n->inputs[0]];
    struct moments *s = &e->mo[n->output];
    int rc = moments_alloc(s, channels(out));
    if (rc)
        return rc;
    switch (n->op) {
    case MXU_NODE_CONV:
        linear(n, a, mxu_node_fan_in(g, n), in->dims[3] / n->groups, n->cout / n->groups, s);
        break;
    case MXU_NODE_FC: linear(n, a, mxu_node_fan_in(g, n), a->c, n->cout, s); break;
    case MXU_NODE_ADD:
        for (uint32_t c = 0; c < s->c; c++)
            s->m[c] = a->m[c] + e->mo[n->inputs[1]].m[c], s->v[c] = a->v[c] + e->mo[n->inputs[1]].v[c];
        break;
    case MXU_NODE_CONCAT:
        for (uint32_t k = 0, at = 0; k < n->n_inputs; at += e->mo[n->inputs[k]].c, k++)
            copy_channels(s, at, &e->mo[n->inputs[k]]);
        break;
    case MXU_NODE_SOFTMAX:
        for (uint32_t c = 0; c < s->c; c++)
            s->m[c] = 1.0f / (float)s->c, s->v[c] = s->m[c] * s->m[c];
        e->cal->value[n->output] = (struct mxu_range){0, 1};
        return MXU_OK;
    case MXU_NODE_BATCHNORM:
        for (uint32_t c = 0; c < s->c; c++) {
            float f = n->bn.gamma[c] / sqrtf(n->bn.var[c] + n->bn.eps);
            s->m[c] = (a->m[c] - n->bn.mean[c]) * f + n->bn.beta[c], s->v[c] = a->v[c] * f * f;
        }
        break;
    default: spread(s, a); break; /* same channels, or NHWC -> NC */
    }
    if (n->op == MXU_NODE_MAXPOOL)
        max_pool(s, n->kh * n->kw);
    if (n->op == MXU_NODE_AVGPOOL)
        avg_pool(s, n->kh * n->kw);
    if (n->op == MXU_NODE_GLOBAL_AVGPOOL)
        avg_pool(s, in->dims[1] * in->dims[2]);
    finish(e, index, s);
    return MXU_OK;
}

static int input_moments(struct estimate *e, const struct mxu_preprocess *pre)
{
    for (uint32_t k = 0; k < e->g->n_inputs; k++) {
        int v = e->g->inputs[k];
        struct moments *s = &e->mo[v];
        int rc = moments_alloc(s, channels(&e->g->values[v]));
        if (rc)
            return rc;
        for (uint32_t c = 0; c < s->c; c++) {
            uint32_t ch = c < 4 && e->g->values[v].ndims == 4 ? c : 0;
            float sd = pre->scale * 255.0f / sqrtf(12.0f) / pre->std[ch];
            s->m[c] = (127.5f * pre->scale - pre->mean[ch]) / pre->std[ch];
            s->v[c] = sd * sd;
        }
        e->cal->value[v] = mxu_preprocess_range(pre, e->g->values[v].ndims == 4 ? s->c : 1);
    }
    return MXU_OK;
}

int mxu_calibrate_estimate(const mxu_graph *g, const struct mxu_preprocess *pre,
                           struct mxu_calibration *c)
{
    struct estimate e = {g, c, NULL};
    int rc = mxu_calibration_alloc(g, c);
    if (rc)
        return rc;
    if (!(e.mo = calloc((size_t)g->n_values + 1, sizeof *e.mo)))
        rc = mxu_fail(MXU_ERR_NOMEM, "range estimate");
    if (rc == MXU_OK)
        rc = mxu_graph_check_weights(g);
    if (rc == MXU_OK)
        rc = input_moments(&e, pre);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++)
        rc = node_moments(&e, i);
    for (uint32_t v = 0; e.mo && v < g->n_values; v++)
        free(e.mo[v].m), free(e.mo[v].v);
    free(e.mo);
    snprintf(c->how, sizeof c->how, "estimate:0:moments");
    if (rc)
        mxu_calibration_free(c);
    return rc;
}
