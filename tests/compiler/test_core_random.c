/* Random graphs: random ops with random (sometimes impossible) attributes.
 * Each compiles and runs bit-exact on the C model, or fails with a detail;
 * none crashes (run under `make test SAN=1` too). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "test_core_support.h"

static uint32_t pick(uint64_t *rng, uint32_t n)
{
    return (uint32_t)(mxu_rng_next(rng) % n);
}

/* An earlier NHWC value with the same N, H, W as v (for add/concat), or -1. */
static int partner(const mxu_graph *g, int v, uint64_t *rng, int same_channels)
{
    const mxu_value *a = &g->values[v];
    int found[64], n = 0;
    if (!a->ndims)
        return -1;
    for (uint32_t i = 0; i < g->n_values && n < 64; i++) {
        const mxu_value *b = &g->values[i];
        if ((int)i != v && b->ndims == a->ndims && !memcmp(b->dims, a->dims, (a->ndims - 1) * sizeof *a->dims) &&
            (!same_channels || b->dims[a->ndims - 1] == a->dims[a->ndims - 1]))
            found[n++] = (int)i;
    }
    return n ? found[pick(rng, (uint32_t)n)] : -1;
}

static int random_node(mxu_graph *g, int x, uint64_t *rng, uint32_t index)
{
    char name[32];
    mxu_node *n;
    const mxu_value *v = &g->values[x];
    int nhwc = v->ndims == 4, other;
    snprintf(name, sizeof name, "n%u", index);
    switch (pick(rng, 12)) {
    case 0:
    case 1:
        if (!nhwc)
            break;
        x = tg_conv(g, x, name, 1 + pick(rng, 20), 1 + pick(rng, 4), 1 + pick(rng, 2), pick(rng, 3),
                    pick(rng, 3) ? 1 : 1 + pick(rng, 3));
        tg_producer(g, x)->has_bn = !pick(rng, 3);
        return x;
    case 2: return tg_fc(g, x, name, 1 + pick(rng, 30));
    case 3:
        if (!nhwc)
            break;
        return tg_pool(g, x, name, pick(rng, 2) ? MXU_NODE_MAXPOOL : MXU_NODE_AVGPOOL, 1 + pick(rng, 3),
                       1 + pick(rng, 2), pick(rng, 2));
    case 4: return nhwc ? tg_node(g, MXU_NODE_GLOBAL_AVGPOOL, name, &x, 1, NULL) : x;
    case 5:
        if ((other = partner(g, x, rng, 1)) < 0)
            break;
        x = tg_add(g, x, other, name);
        tg_producer(g, x)->act.kind = (enum mxu_act_kind)pick(rng, 9);
        tg_producer(g, x)->act.alpha = 0.1f, tg_producer(g, x)->act.hi = 4;
        return x;
    case 6:
        if ((other = partner(g, x, rng, 0)) < 0)
            break;
        return tg_node(g, MXU_NODE_CONCAT, name, (int[]){x, other, x}, 2 + pick(rng, 2), NULL);
    case 7:
        if (!nhwc || v->dims[1] > 8)
            break;
        x = tg_node(g, MXU_NODE_UPSAMPLE, name, &x, 1, &n);
        n->scale = 1 + pick(rng, 3);
        return x;
    case 8: return tg_act(g, x, name, (enum mxu_act_kind)pick(rng, 9), 0.1f);
    case 9: return tg_node(g, MXU_NODE_BATCHNORM, name, &x, 1, NULL);
    case 10: return tg_node(g, pick(rng, 2) ? MXU_NODE_FLATTEN : MXU_NODE_IDENTITY, name, &x, 1, NULL);
    default: return tg_node(g, MXU_NODE_SOFTMAX, name, &x, 1, NULL);
    }
    return x;
}

Test(core_random, random_graphs_compile_or_fail_cleanly, .timeout = 120)
{
    const char *arch = "rows=8,cols=8,dram=8M";
    int compiled = 0, refused = 0;
    for (uint64_t seed = 1; seed <= 150; seed++) {
        uint64_t rng = seed * 0x9E3779B97F4A7C15ull;
        mxu_graph *g = tg_new("random");
        int x = tg_input(g, "x", 1 + (seed % 7 == 0), 3 + pick(&rng, 10), 3 + pick(&rng, 10), 1 + pick(&rng, 6));
        uint32_t nodes = 1 + pick(&rng, 7);
        tg_output(g, x);
        for (uint32_t i = 0; i < nodes; i++) {
            x = random_node(g, x, &rng, i); /* its choices need the shapes so far */
            g->outputs[0] = x;
            if (mxu_graph_infer_shapes(g))
                break; /* an impossible node: compiling must say so */
        }
        if (x == g->inputs[0])
            g->outputs[0] = tg_act(g, x, "last", MXU_ACT_KIND_RELU, 0);
        struct mxu_compile_options o;
        mxu_program *p = NULL;
        mxu_compile_options_init(&o);
        cr_assert_eq(mxu_config_parse(&o.config, arch), MXU_OK);
        o.random_weights = 1;
        o.seed = seed;
        o.calib_count = 2;
        int rc = mxu_compile(g, &o, &p);
        if (rc == MXU_OK) {
            float *in[1];
            tg_random_inputs(g, seed, in);
            tg_run_check(p, arch, in, NULL);
            tg_free_inputs(g, in);
            compiled++;
        } else {
            cr_expect(rc < 0 && mxu_error_detail()[0], "seed %llu: status %d without a detail",
                      (unsigned long long)seed, rc);
            cr_expect_null(p);
            refused++;
            cr_log_info("seed %llu refused: %s", (unsigned long long)seed, mxu_error_detail());
        }
        mxu_program_free(p);
        mxu_graph_free(g);
    }
    cr_log_info("random graphs: %d compiled and matched, %d refused", compiled, refused);
    cr_expect_gt(compiled, 75, "only %d of 150 compiled", compiled);
}
