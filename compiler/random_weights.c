/* Seeded random weights for architecture studies (a .cfg without .weights):
 * He-uniform weights keep activations at a steady scale through ReLU stacks,
 * small random biases, and batch-norm statistics near the identity. Weights
 * are drawn directly as int8 in [-127, 127] with the per-channel scale a / 127
 * (uniform in [-a, a], a = sqrt(6 / fan_in)): what quantization would make of
 * them anyway, at a quarter of the memory (AlexNet has 61M weights). Each node
 * draws from its own stream (seed, node index), so a weight does not depend on
 * the other layers. Only what is absent is filled. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"

uint64_t mxu_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float mxu_rng_uniform(uint64_t *state)
{
    return (float)(mxu_rng_next(state) >> 40) * (1.0f / 16777216.0f);
}

/* v[i] uniform in [lo, hi) (biases and batch-norm statistics: small arrays). */
static void fill_uniform(float *v, uint64_t n, float lo, float hi, uint64_t *rng)
{
    for (uint64_t i = 0; i < n; i++)
        v[i] = lo + (hi - lo) * mxu_rng_uniform(rng);
}

static float *random_array(uint64_t n, float lo, float hi, uint64_t *rng)
{
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (v)
        fill_uniform(v, n, lo, hi, rng);
    return v;
}

/* q[i] uniform in [-127, 127]: eight random bytes per xorshift64* step, a
 * byte -128 (0x80) bumped to -127 without a branch (so -127 is twice as likely
 * as another value: harmless). */
static void fill_int8(int8_t *q, uint64_t n, uint64_t *rng)
{
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
    uint64_t s = mxu_rng_next(rng) | 1;
    for (uint64_t i = 0; i < n; i += 8) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        uint64_t r = s * 0x2545F4914F6CDD1Dull;
        uint64_t t = r ^ ~low7;                          /* bytes that were 0x80 are now 0 */
        uint64_t zero = ~(((t & low7) + low7) | t | low7); /* 0x80 in exactly those bytes */
        r += zero >> 7;
        memcpy(q + i, &r, n - i < 8 ? n - i : 8);
    }
}

static int fill_bn(struct mxu_batchnorm *bn, uint32_t c, uint64_t *rng)
{
    if (bn->gamma || bn->beta || bn->mean || bn->var)
        return MXU_OK; /* given by the model */
    bn->gamma = random_array(c, 0.8f, 1.2f, rng);
    bn->beta = random_array(c, -0.1f, 0.1f, rng);
    bn->mean = random_array(c, -0.1f, 0.1f, rng);
    bn->var = random_array(c, 0.8f, 1.2f, rng);
    if (bn->eps == 0)
        bn->eps = 1e-5f;
    return bn->gamma && bn->beta && bn->mean && bn->var ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "random weights");
}

static int fill_node(const mxu_graph *g, mxu_node *n, uint64_t *rng)
{
    if (n->op == MXU_NODE_BATCHNORM) {
        const mxu_value *in = &g->values[n->inputs[0]];
        return fill_bn(&n->bn, in->dims[in->ndims - 1], rng);
    }
    if (n->op != MXU_NODE_CONV && n->op != MXU_NODE_FC)
        return MXU_OK;
    if (!n->weights && !n->qweights) {
        uint64_t fan_in = mxu_node_fan_in(g, n);
        float a = sqrtf(6.0f / (float)(fan_in ? fan_in : 1));
        n->qweights = malloc((size_t)(fan_in * n->cout + 1));
        n->wscale = random_array(n->cout, a / 127.0f, a / 127.0f, rng);
        if (!n->bias && !n->has_bn && !n->qbias)
            n->bias = random_array(n->cout, -0.1f, 0.1f, rng);
        if (!n->qweights || !n->wscale || (!n->bias && !n->has_bn && !n->qbias))
            return mxu_fail(MXU_ERR_NOMEM, "random weights");
        fill_int8(n->qweights, fan_in * n->cout, rng);
        n->flatten_chw = 0; /* random columns have no order to keep */
    }
    return n->has_bn ? fill_bn(&n->bn, n->cout, rng) : MXU_OK;
}

int mxu_graph_random_weights(mxu_graph *g, uint64_t seed)
{
    int rc = mxu_graph_infer_shapes(g);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++) {
        uint64_t rng = seed ^ (0xD1B54A32D192ED03ull * (i + 1));
        rc = fill_node(g, &g->nodes[i], &rng);
    }
    return rc;
}
