/* The compiler's middle end, stage by stage, on graphs built by hand: the
 * graph API, shape inference, every pass (each must keep the float semantics:
 * float runs before and after agree), calibration, quantization, memory
 * planning, and errors that name the node. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_numerics.h"
#include "test_core_support.h"

/* Float output of g on seeded random inputs. */
static float *float_out(const mxu_graph *g, uint64_t seed, uint64_t *n)
{
    float *in[MXU_NODE_MAX_INPUTS];
    tg_random_inputs(g, seed, in);
    float *out = tg_float_output(g, in, n);
    tg_free_inputs(g, in);
    return out;
}

/* Run `pass` and check that the float output did not move. */
static void pass_keeps_semantics(mxu_graph *g, int (*pass)(mxu_graph *), const char *what)
{
    uint64_t n1, n2;
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
    float *before = float_out(g, 9, &n1);
    int rc = pass(g);
    cr_assert_eq(rc, MXU_OK, "%s: %s", what, mxu_error_detail());
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s: %s", what, mxu_error_detail());
    float *after = float_out(g, 9, &n2);
    cr_assert_eq(n1, n2);
    float scale = 0;
    for (uint64_t i = 0; i < n1; i++)
        scale = fmaxf(scale, fabsf(before[i]));
    float d = tg_max_diff(before, after, n1);
    cr_assert_leq(d, 1e-5f * fmaxf(scale, 1.0f), "%s changed the float output by %g (of %g)", what,
                  (double)d, (double)scale);
    free(before), free(after);
}

/* ---- graph API ------------------------------------------------------------------- */

Test(core_graph, values_nodes_and_lookup)
{
    mxu_graph *g = tg_new("api");
    uint32_t dims3[3] = {1, 2, 3};
    int v = -1;
    cr_expect_eq(mxu_graph_add_value(g, "bad", 3, dims3, &v), MXU_ERR_INVAL);
    int x = tg_input(g, "x", 1, 4, 4, 2);
    int y = tg_conv(g, x, "conv", 3, 3, 1, 1, 1);
    cr_expect_eq(mxu_graph_find_value(g, "conv"), y);
    cr_expect_eq(mxu_graph_find_value(g, "x"), x);
    cr_expect_eq(mxu_graph_find_value(g, "nope"), -1);
    cr_expect_eq(g->values[y].producer, 0);
    mxu_node *n = NULL;
    int bad_input = 99;
    cr_expect_eq(mxu_graph_add_node(g, MXU_NODE_ACT, "a", 0, &bad_input, 1, &n), MXU_ERR_INVAL);
    cr_expect_eq(mxu_graph_add_node(g, (enum mxu_node_op)0, "a", 0, &x, 1, &n), MXU_ERR_INVAL);
    cr_expect_eq(mxu_graph_add_output(g, 1234), MXU_ERR_INVAL);
    char long_name[100];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[99] = 0;
    tg_node(g, MXU_NODE_IDENTITY, long_name, &y, 1, &n);
    cr_expect_eq(strlen(n->name), MXU_GRAPH_NAME_LEN - 1, "names are truncated");
    cr_expect_eq(n->kh, 1);
    cr_expect_eq(n->groups, 1);
    cr_expect_str_eq(mxu_node_op_name(MXU_NODE_GLOBAL_AVGPOOL), "global_avgpool");
    cr_expect_str_eq(mxu_act_kind_name(MXU_ACT_KIND_MISH), "mish");
    cr_expect_eq(g->pre.scale, 1.0f / 255.0f);
    mxu_graph_free(g);
}

Test(core_graph, insert_kill_and_compact)
{
    mxu_graph *g = tg_new("edit");
    int x = tg_input(g, "x", 1, 4, 4, 2);
    int a = tg_act(g, x, "a", MXU_ACT_KIND_RELU, 0);
    int b = tg_act(g, a, "b", MXU_ACT_KIND_RELU, 0);
    tg_output(g, b);
    mxu_node *mid;
    cr_assert_eq(mxu_graph_insert_node(g, 1, MXU_NODE_IDENTITY, "mid", 0, &a, 1, &mid), MXU_OK);
    int m = mid->output;
    g->nodes[2].inputs[0] = m; /* b now reads mid */
    cr_expect_eq(g->values[b].producer, 2, "later producers shift");
    cr_expect_eq(g->values[m].producer, 1);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
    mxu_graph_kill_node(g, 1);
    mxu_graph_replace_uses(g, m, a);
    cr_assert_eq(mxu_graph_compact(g), MXU_OK);
    cr_expect_eq(g->n_nodes, 2);
    cr_expect_eq(g->n_values, 3, "the dead node's value is gone");
    cr_expect_eq(mxu_graph_find_value(g, "mid"), -1);
    cr_expect_eq(g->nodes[1].inputs[0], g->nodes[0].output);
    cr_expect_eq(g->outputs[0], g->nodes[1].output);
    mxu_graph_free(g);
}

/* ---- shapes ----------------------------------------------------------------------- */

Test(core_shapes, every_op)
{
    mxu_graph *g = tg_new("shapes");
    mxu_node *n;
    int x = tg_input(g, "x", 2, 17, 13, 6);
    int c = tg_conv(g, x, "conv", 8, 3, 2, 1, 2);
    tg_producer(g, c)->dil_h = 2;
    int p = tg_pool(g, c, "pool", MXU_NODE_MAXPOOL, 3, 2, 0);
    int f = tg_node(g, MXU_NODE_FLATTEN, "flat", &p, 1, NULL);
    int fc = tg_fc(g, f, "fc", 5);
    int gp = tg_node(g, MXU_NODE_GLOBAL_AVGPOOL, "gap", &c, 1, NULL);
    int cat = tg_node(g, MXU_NODE_CONCAT, "cat", (int[]){c, c, c}, 3, NULL);
    int up = tg_node(g, MXU_NODE_UPSAMPLE, "up", &c, 1, &n);
    n->scale = 3;
    tg_output(g, fc), tg_output(g, gp), tg_output(g, cat), tg_output(g, up);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
    const uint32_t conv_dims[4] = {2, 8, 7, 8}; /* (17 + 2 - 5) / 2 + 1, (13 + 2 - 3) / 2 + 1 */
    cr_expect_arr_eq(g->values[c].dims, conv_dims, sizeof conv_dims);
    cr_expect_eq(g->values[p].dims[1], 3);
    cr_expect_eq(g->values[f].ndims, 2);
    cr_expect_eq(g->values[f].dims[1], 3 * 3 * 8);
    cr_expect_eq(g->values[fc].dims[1], 5);
    cr_expect_eq(g->values[gp].dims[1], 1);
    cr_expect_eq(g->values[cat].dims[3], 24);
    cr_expect_eq(g->values[up].dims[1], 24);
    cr_expect_eq(g->values[up].dims[2], 21);
    mxu_graph_free(g);
}

static void expect_failure(mxu_graph *g, int status, const char *needle1, const char *needle2)
{
    int rc = mxu_graph_infer_shapes(g);
    cr_expect_eq(rc, status, "%s", mxu_error_detail());
    cr_expect(strstr(mxu_error_detail(), needle1) != NULL, "'%s' not in: %s", needle1, mxu_error_detail());
    if (needle2)
        cr_expect(strstr(mxu_error_detail(), needle2) != NULL, "'%s' not in: %s", needle2, mxu_error_detail());
}

Test(core_shapes, errors_name_the_node_and_line)
{
    mxu_graph *g = tg_new("bad_concat");
    mxu_node *n;
    int x = tg_input(g, "x", 1, 8, 8, 3);
    int a = tg_pool(g, x, "half", MXU_NODE_MAXPOOL, 2, 2, 0);
    tg_node(g, MXU_NODE_CONCAT, "cat", (int[]){x, a}, 2, &n);
    n->src_line = 42;
    tg_output(g, n->output);
    expect_failure(g, MXU_ERR_UNSUPPORTED, "node 'cat'", "line 42");
    mxu_graph_free(g);

    g = tg_new("bad_add");
    x = tg_input(g, "x", 1, 8, 8, 3);
    a = tg_conv(g, x, "c", 4, 1, 1, 0, 1);
    tg_output(g, tg_add(g, x, a, "sum"));
    expect_failure(g, MXU_ERR_UNSUPPORTED, "node 'sum'", "broadcast");
    mxu_graph_free(g);

    g = tg_new("bad_window");
    x = tg_input(g, "x", 1, 4, 4, 3);
    tg_output(g, tg_conv(g, x, "big", 4, 7, 1, 0, 1));
    expect_failure(g, MXU_ERR_INVAL, "node 'big'", "does not fit");
    mxu_graph_free(g);

    g = tg_new("bad_groups");
    x = tg_input(g, "x", 1, 4, 4, 3);
    tg_output(g, tg_conv(g, x, "grouped", 4, 1, 1, 0, 2));
    expect_failure(g, MXU_ERR_INVAL, "node 'grouped'", "groups");
    mxu_graph_free(g);

    g = tg_new("dangling");
    uint32_t d[4] = {1, 2, 2, 2};
    int orphan;
    x = tg_input(g, "x", 1, 2, 2, 2);
    cr_assert_eq(mxu_graph_add_value(g, "orphan", 4, d, &orphan), MXU_OK);
    tg_output(g, tg_add(g, x, orphan, "uses_orphan"));
    expect_failure(g, MXU_ERR_INVAL, "node 'uses_orphan'", "orphan");
    mxu_graph_free(g);

    g = tg_new("no_outputs");
    tg_input(g, "x", 1, 2, 2, 2);
    expect_failure(g, MXU_ERR_INVAL, "no outputs", NULL);
    mxu_graph_free(g);
}

/* ---- passes ----------------------------------------------------------------------- */

Test(core_passes, batchnorm_folding_keeps_the_float_graph)
{
    mxu_graph *g = tg_new("bn");
    mxu_node *n;
    int x = tg_input(g, "x", 1, 8, 8, 3);
    int c = tg_conv(g, x, "conv_bn", 6, 3, 1, 1, 1);
    tg_producer(g, c)->has_bn = 1;
    int c2 = tg_conv(g, c, "conv", 6, 3, 1, 1, 1);
    int b2 = tg_node(g, MXU_NODE_BATCHNORM, "bn_after_conv", &c2, 1, NULL);
    int s = tg_add(g, b2, c, "add");
    int b3 = tg_node(g, MXU_NODE_BATCHNORM, "bn_after_add", &s, 1, &n);
    n->has_bn = 1; /* as the ONNX frontend marks its statistics */
    int f = tg_fc(g, b3, "fc", 7);
    int b4 = tg_node(g, MXU_NODE_BATCHNORM, "bn_nc", &f, 1, &n);
    (void)n;
    int f2 = tg_fc(g, b4, "fc2", 3);
    tg_output(g, f2);
    tg_output(g, f); /* a second reader: fc cannot absorb bn_nc */
    cr_assert_eq(mxu_graph_random_weights(g, 5), MXU_OK, "%s", mxu_error_detail());
    /* negative gammas flip int8 weight signs */
    tg_producer(g, c)->bn.gamma[1] = -0.7f;
    pass_keeps_semantics(g, mxu_graph_fold_batchnorm, "fold_batchnorm");
    cr_expect_eq(tg_count_op(g, MXU_NODE_BATCHNORM), 0);
    cr_expect_eq(tg_count_op(g, MXU_NODE_CONV), 3, "the add's batch norm is a depthwise conv");
    cr_expect_eq(tg_count_op(g, MXU_NODE_FC), 3, "the NC batch norm is a diagonal FC");
    for (uint32_t i = 0; i < g->n_nodes; i++)
        cr_expect_eq(g->nodes[i].has_bn, 0);
    mxu_graph_free(g);
}

Test(core_passes, fusion_rules)
{
    mxu_graph *g = tg_new("fuse");
    int x = tg_input(g, "x", 1, 12, 12, 3);
    int a = tg_act(g, tg_conv(g, x, "c1", 4, 3, 1, 1, 1), "relu1", MXU_ACT_KIND_RELU, 0); /* fused */
    a = tg_pool(g, a, "pool1", MXU_NODE_MAXPOOL, 2, 2, 0);                                /* fused */
    int two = tg_conv(g, a, "c2", 4, 1, 1, 0, 1);                  /* two readers: stays unfused */
    int r2 = tg_act(g, two, "relu2", MXU_ACT_KIND_RELU, 0);
    int s = tg_add(g, r2, two, "add");
    s = tg_act(g, s, "clip", MXU_ACT_KIND_CLIP, 0);                /* clamp fused into the add */
    int p = tg_pool(g, tg_conv(g, s, "c3", 4, 3, 1, 0, 1), "padded", MXU_NODE_MAXPOOL, 2, 2, 1);
    int l = tg_act(g, tg_conv(g, p, "c4", 4, 1, 1, 0, 1), "leaky", MXU_ACT_KIND_LEAKY, 0.1f);
    int d = tg_node(g, MXU_NODE_IDENTITY, "dropout", &l, 1, NULL);
    tg_output(g, d);
    cr_assert_eq(mxu_graph_random_weights(g, 6), MXU_OK, "%s", mxu_error_detail());
    pass_keeps_semantics(g, mxu_graph_fuse, "fuse");
    cr_expect_eq(tg_count_op(g, MXU_NODE_IDENTITY), 0);
    cr_expect_eq(tg_count_op(g, MXU_NODE_ACT), 1, "relu2 reads a value with two readers");
    cr_expect_eq(tg_count_op(g, MXU_NODE_MAXPOOL), 1, "the padded pool stays");
    const mxu_node *c1 = &g->nodes[0];
    cr_expect_eq(c1->act.kind, MXU_ACT_KIND_RELU);
    cr_expect_eq(c1->pool_k, 2);
    cr_expect_eq(c1->pool_s, 2);
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].op == MXU_NODE_ADD)
            cr_expect_eq(g->nodes[i].act.kind, MXU_ACT_KIND_CLIP);
        if (!strcmp(g->nodes[i].name, "c4"))
            cr_expect_eq(g->nodes[i].act.kind, MXU_ACT_KIND_LEAKY);
    }
    cr_expect_eq(g->values[g->outputs[0]].producer, (int)g->n_nodes - 1, "the output follows the identity");
    mxu_graph_free(g);
}

Test(core_passes, fc_weights_permuted_to_nhwc)
{
    mxu_graph *g = tg_new("chw");
    mxu_node *fc;
    int x = tg_input(g, "x", 1, 3, 2, 4);
    int f = tg_node(g, MXU_NODE_FLATTEN, "flatten", &x, 1, NULL);
    tg_node(g, MXU_NODE_FC, "fc", &f, 1, &fc);
    fc->cout = 2, fc->flatten_chw = 1;
    tg_output(g, fc->output);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK);
    fc->weights = calloc(2 * 24, sizeof(float));
    fc->weights[24 + 1 * 6 + 1 * 2 + 1] = 1; /* row 1, column (c=1, h=1, w=1) in CHW order */
    pass_keeps_semantics(g, mxu_graph_fuse, "fuse");
    cr_assert_eq(g->n_nodes, 1, "the flatten is gone");
    const mxu_node *n = &g->nodes[0];
    cr_expect_eq(n->flatten_chw, 0);
    cr_expect_eq(g->values[n->inputs[0]].ndims, 4, "the FC reads the NHWC value");
    cr_expect_eq(n->weights[24 + (1 * 2 + 1) * 4 + 1], 1.0f, "moved to (h=1, w=1, c=1) in HWC order");
    mxu_graph_free(g);
}

Test(core_passes, flatten_only_where_bytes_agree)
{
    mxu_graph *g = tg_new("flat_softmax");
    int x = tg_input(g, "x", 1, 2, 2, 3);
    int f = tg_node(g, MXU_NODE_FLATTEN, "flatten", &x, 1, NULL);
    tg_output(g, tg_node(g, MXU_NODE_SOFTMAX, "prob", &f, 1, NULL));
    cr_expect_eq(mxu_graph_fuse(g), MXU_ERR_UNSUPPORTED);
    cr_expect(strstr(mxu_error_detail(), "node 'flatten'") && strstr(mxu_error_detail(), "softmax"), "%s",
              mxu_error_detail());
    mxu_graph_free(g);

    g = tg_new("flat_1x1");
    x = tg_input(g, "x", 1, 1, 1, 5);
    f = tg_node(g, MXU_NODE_FLATTEN, "flatten", &x, 1, NULL);
    int s = tg_node(g, MXU_NODE_SOFTMAX, "prob", &f, 1, NULL);
    tg_output(g, s);
    pass_keeps_semantics(g, mxu_graph_fuse, "fuse");
    cr_expect_eq(tg_count_op(g, MXU_NODE_FLATTEN), 0);
    cr_expect_eq(g->values[g->outputs[0]].ndims, 4, "the softmax works on the 1x1 map");
    mxu_graph_free(g);
}

Test(core_passes, split_for_lowering)
{
    mxu_graph *g = tg_new("split");
    mxu_node *add;
    int x = tg_input(g, "x", 1, 4, 4, 2);
    int parts[4];
    for (int i = 0; i < 4; i++)
        parts[i] = tg_conv(g, x, "c", 2 + (uint32_t)i, 1, 1, 0, 1);
    int cat = tg_node(g, MXU_NODE_CONCAT, "cat", parts, 4, NULL);
    int one = tg_node(g, MXU_NODE_CONCAT, "single", &cat, 1, NULL);
    int c = tg_conv(g, one, "mix", 14, 1, 1, 0, 1);
    tg_node(g, MXU_NODE_ADD, "add", (int[]){c, one}, 2, &add);
    add->act.kind = MXU_ACT_KIND_SWISH;
    tg_output(g, add->output);
    cr_assert_eq(mxu_graph_random_weights(g, 8), MXU_OK, "%s", mxu_error_detail());
    pass_keeps_semantics(g, mxu_graph_split_for_lowering, "split");
    cr_expect_eq(tg_count_op(g, MXU_NODE_CONCAT), 3, "four inputs: a chain of three");
    cr_expect_eq(tg_count_op(g, MXU_NODE_IDENTITY), 1, "a one-input concat is an identity");
    cr_expect_eq(tg_count_op(g, MXU_NODE_ACT), 1, "the add's swish is its own node");
    for (uint32_t i = 0; i < g->n_nodes; i++)
        cr_expect(g->nodes[i].op != MXU_NODE_CONCAT || g->nodes[i].n_inputs == 2);
    mxu_node *last = &g->nodes[g->n_nodes - 1];
    cr_expect_eq(last->op, MXU_NODE_ACT);
    cr_expect_str_eq(g->values[g->outputs[0]].name, "add", "the output keeps its name");
    mxu_graph_free(g);
}

Test(core_passes, random_weights_are_reproducible_and_only_fill_gaps)
{
    mxu_graph *g1 = tg_new("r"), *g2 = tg_new("r");
    mxu_graph *gs[2] = {g1, g2};
    for (int k = 0; k < 2; k++) {
        int x = tg_input(gs[k], "x", 1, 6, 6, 3);
        int c = tg_conv(gs[k], x, "c", 5, 3, 1, 1, 1);
        int f = tg_fc(gs[k], c, "f", 4);
        tg_output(gs[k], f);
    }
    float given[4] = {1, 2, 3, 4};
    g2->nodes[1].bias = malloc(sizeof given);
    memcpy(g2->nodes[1].bias, given, sizeof given);
    cr_assert_eq(mxu_graph_random_weights(g1, 77), MXU_OK);
    cr_assert_eq(mxu_graph_random_weights(g2, 77), MXU_OK);
    cr_assert_not_null(g1->nodes[0].qweights);
    cr_expect_arr_eq(g1->nodes[0].qweights, g2->nodes[0].qweights, 5 * 27);
    cr_expect_arr_eq(g2->nodes[1].bias, given, sizeof given, "a given bias stays");
    int spread = 0;
    for (int k = 0; k < 5 * 27; k++)
        spread |= g1->nodes[0].qweights[k] > 100 ? 1 : g1->nodes[0].qweights[k] < -100 ? 2 : 0;
    cr_expect_eq(spread, 3, "weights cover [-127, 127]");
    cr_expect_float_eq(g1->nodes[0].wscale[0], sqrtf(6.0f / 27) / 127, 1e-6);
    cr_assert_eq(mxu_graph_random_weights(g1, 78), MXU_OK);
    cr_expect_arr_eq(g1->nodes[0].qweights, g2->nodes[0].qweights, 5 * 27, "present weights are kept");
    mxu_graph_free(g1), mxu_graph_free(g2);
}

/* ---- calibration ------------------------------------------------------------------- */

Test(core_calib, histogram_percentiles)
{
    struct mxu_histogram *h = malloc(sizeof *h);
    mxu_histogram_init(h);
    float v[1000];
    for (int rep = 0; rep < 10; rep++) {
        for (int i = 0; i < 1000; i++)
            v[i] = (float)(rep * 1000 + i) / 100.0f; /* 0 .. 99.99 */
        mxu_histogram_add(h, v, 1000);
    }
    float outlier = -5000;
    mxu_histogram_add(h, &outlier, 1);
    cr_expect_eq(h->count, 10001);
    struct mxu_range all = mxu_histogram_range(h, 100);
    cr_expect_float_eq(all.lo, -5000.0f, 1e-3);
    cr_expect_float_eq(all.hi, 99.99f, 1e-3);
    struct mxu_range p99 = mxu_histogram_range(h, 99);
    cr_expect(p99.lo > -10 && p99.lo < 3, "the outlier is cut: lo %g", (double)p99.lo);
    cr_expect(p99.hi > 95 && p99.hi < 103, "hi %g", (double)p99.hi);
    uint64_t total = 0;
    for (int i = 0; i < MXU_HIST_BINS; i++)
        total += h->bins[i];
    cr_expect_eq(total, 10001, "widening keeps every sample");
    free(h);
}

static mxu_graph *small_cnn(const char *name)
{
    mxu_graph *g = tg_new(name);
    int x = tg_input(g, "x", 1, 10, 10, 3);
    x = tg_act(g, tg_conv(g, x, "c1", 8, 3, 1, 1, 1), "r1", MXU_ACT_KIND_RELU, 0);
    x = tg_pool(g, x, "p1", MXU_NODE_MAXPOOL, 2, 2, 0);
    x = tg_act(g, tg_conv(g, x, "c2", 8, 3, 1, 1, 1), "t2", MXU_ACT_KIND_TANH, 0);
    tg_output(g, tg_fc(g, x, "fc", 10));
    cr_assert_eq(mxu_graph_random_weights(g, 11), MXU_OK);
    cr_assert_eq(mxu_graph_fuse(g), MXU_OK, "%s", mxu_error_detail());
    return g;
}

Test(core_calib, minmax_percentile_and_estimate)
{
    mxu_graph *g = small_cnn("cal");
    struct mxu_compile_options o;
    struct mxu_calibration mm, pc, est;
    mxu_compile_options_init(&o);
    o.calib_count = 6;
    cr_assert_eq(mxu_calibrate(g, &o, &o.pre, &mm), MXU_OK, "%s", mxu_error_detail());
    o.calib_method = MXU_CALIB_PERCENTILE;
    o.percentile = 99.0f;
    cr_assert_eq(mxu_calibrate(g, &o, &o.pre, &pc), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_calibrate_estimate(g, &o.pre, &est), MXU_OK, "%s", mxu_error_detail());
    cr_expect_str_eq(mm.how, "random:6:minmax");
    cr_expect_str_eq(pc.how, "random:6:percentile");
    cr_expect_str_eq(est.how, "estimate:0:moments");
    for (uint32_t v = 0; v < g->n_values; v++) {
        cr_expect_leq(mm.value[v].lo, mm.value[v].hi, "%s", g->values[v].name);
        cr_expect_geq(pc.value[v].lo, mm.value[v].lo, "percentile inside min/max");
        cr_expect_leq(pc.value[v].hi, mm.value[v].hi, "percentile inside min/max");
        float span = mm.value[v].hi - mm.value[v].lo, est_span = est.value[v].hi - est.value[v].lo;
        cr_expect(est_span > span / 4 && est_span < span * 4, "%s: estimate [%g, %g] vs seen [%g, %g]",
                  g->values[v].name, (double)est.value[v].lo, (double)est.value[v].hi,
                  (double)mm.value[v].lo, (double)mm.value[v].hi);
    }
    /* c2's tanh input is recorded before the activation */
    cr_expect_gt(mm.pre_act[1].hi, 0);
    cr_expect_geq(mm.pre_act[1].hi, mm.value[g->nodes[1].output].hi);
    cr_expect_leq(mm.value[g->nodes[1].output].hi, 1.0f);
    mxu_calibration_free(&mm), mxu_calibration_free(&pc), mxu_calibration_free(&est);
    mxu_graph_free(g);
}

/* ---- quantization ------------------------------------------------------------------ */

Test(core_quant, ranges_to_scales)
{
    struct mxu_quant q = mxu_quant_from_range((struct mxu_range){0, 1});
    cr_expect_float_eq(q.scale, 1.0f / 255, 1e-9);
    cr_expect_eq(q.zero_point, -128);
    q = mxu_quant_from_range((struct mxu_range){-1, 1});
    cr_expect_float_eq(q.scale, 2.0f / 255, 1e-9);
    cr_expect(q.zero_point == 0 || q.zero_point == -1, "zero point %d", q.zero_point);
    q = mxu_quant_from_range((struct mxu_range){2, 3}); /* zero is always representable */
    cr_expect_float_eq(q.scale, 3.0f / 255, 1e-9);
    cr_expect_eq(q.zero_point, -128);
    q = mxu_quant_from_range((struct mxu_range){-6, -2});
    cr_expect_eq(q.zero_point, 127);
    q = mxu_quant_from_range((struct mxu_range){INFINITY, -INFINITY}); /* never seen */
    cr_expect_gt(q.scale, 0);
    q = mxu_quant_symmetric((struct mxu_range){-3, 1});
    cr_expect_float_eq(q.scale, 3.0f / 127, 1e-9);
    cr_expect_eq(q.zero_point, 0);
}

Test(core_quant, shared_quantization_groups)
{
    mxu_graph *g = tg_new("groups");
    int x = tg_input(g, "x", 1, 8, 8, 3);
    int a = tg_conv(g, x, "a", 4, 3, 1, 1, 1);
    int b = tg_conv(g, x, "b", 4, 1, 1, 0, 1);
    int p = tg_pool(g, b, "pad_pool", MXU_NODE_MAXPOOL, 3, 1, 1);
    int cat = tg_node(g, MXU_NODE_CONCAT, "cat", (int[]){a, p}, 2, NULL);
    int s = tg_node(g, MXU_NODE_SOFTMAX, "prob", &cat, 1, NULL);
    tg_output(g, s);
    cr_assert_eq(mxu_graph_random_weights(g, 3), MXU_OK);
    cr_assert_eq(mxu_graph_fuse(g), MXU_OK, "%s", mxu_error_detail());
    struct mxu_compile_options o;
    struct mxu_calibration cal;
    struct mxu_qgraph q;
    mxu_compile_options_init(&o);
    o.calib_count = 2;
    cr_assert_eq(mxu_calibrate(g, &o, &o.pre, &cal), MXU_OK);
    cr_assert_eq(mxu_quantize_graph(g, &cal, &q), MXU_OK, "%s", mxu_error_detail());
    int vs[4] = {a, b, p, cat};
    for (int i = 1; i < 4; i++) {
        cr_expect_eq(q.value[vs[i]].scale, q.value[a].scale, "%s", g->values[vs[i]].name);
        cr_expect_eq(q.value[vs[i]].zero_point, q.value[a].zero_point);
    }
    cr_expect_eq(q.value[s].scale, 1.0f / 256);
    cr_expect_eq(q.value[s].zero_point, -128);
    mxu_qgraph_free(&q);

    /* two fixed quantizations that a concat would have to join */
    g->values[a].quant = (struct mxu_quant){1, 0.1f, 3};
    g->values[p].quant = (struct mxu_quant){1, 0.2f, 3};
    cr_expect_eq(mxu_quantize_graph(g, &cal, &q), MXU_ERR_UNSUPPORTED);
    cr_expect(strstr(mxu_error_detail(), "node '") != NULL, "%s", mxu_error_detail());
    mxu_calibration_free(&cal);
    mxu_graph_free(g);
}

Test(core_quant, lookup_tables_follow_the_function)
{
    struct mxu_quant in = {1, 0.05f, 0}, out = {1, 0.02f, -30};
    static const enum mxu_act_kind kinds[] = {MXU_ACT_KIND_LEAKY, MXU_ACT_KIND_SIGMOID, MXU_ACT_KIND_TANH,
                                              MXU_ACT_KIND_ELU, MXU_ACT_KIND_SWISH, MXU_ACT_KIND_MISH,
                                              MXU_ACT_KIND_RELU};
    for (unsigned k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        struct mxu_act a = {kinds[k], 0.1f, 0, 0};
        int8_t lut[256];
        mxu_act_lut(lut, &a, in, out);
        for (int v = -128; v <= 127; v++) {
            float y = mxu_act_apply(&a, in.scale * (float)v), want = roundf(y / out.scale) + (float)out.zero_point;
            want = fminf(fmaxf(want, -128), 127);
            cr_assert(fabsf((float)lut[v + 128] - want) <= 1, "%s: lut[%d] = %d, want %g",
                      mxu_act_kind_name(kinds[k]), v, lut[v + 128], (double)want);
        }
    }
    int8_t mine[256], hostlib[256];
    struct mxu_act sig = {MXU_ACT_KIND_SIGMOID, 0, 0, 0};
    mxu_act_lut(mine, &sig, in, out);
    mxu_lut_build(hostlib, mxu_sigmoidf, in.scale, in.zero_point, out.scale, out.zero_point);
    cr_expect_arr_eq(mine, hostlib, 256);
}

/* ---- memory planning --------------------------------------------------------------- */

Test(core_memplan, reuses_dead_buffers_and_never_overlaps_live_ones)
{
    mxu_graph *g = tg_new("plan");
    int x = tg_input(g, "x", 1, 16, 16, 8);
    int skip = x;
    for (int i = 0; i < 6; i++) {
        x = tg_conv(g, x, "c", 8, 3, 1, 1, 1);
        if (i == 2)
            skip = x;
    }
    x = tg_add(g, x, skip, "late_reader");
    tg_output(g, x);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK);
    struct mxu_memplan m;
    cr_assert_eq(mxu_memplan_build(g, &m), MXU_OK, "%s", mxu_error_detail());
    cr_expect_lt(m.arena_bytes, m.naive_bytes);
    cr_expect_leq(m.arena_bytes, 4u * 2048, "input, output, skip and two working buffers");
    /* lifetimes by brute force: [producer or -1, last reader or end] */
    int64_t first[32], last[32];
    for (uint32_t v = 0; v < g->n_values; v++) {
        first[v] = g->values[v].producer >= 0 ? g->values[v].producer : -1;
        last[v] = mxu_graph_is_input(g, (int)v) || mxu_graph_is_output(g, (int)v) ? g->n_nodes : first[v];
        for (uint32_t i = 0; i < g->n_nodes; i++)
            for (uint32_t k = 0; k < g->nodes[i].n_inputs; k++)
                if (g->nodes[i].inputs[k] == (int)v && (int64_t)i > last[v])
                    last[v] = i;
    }
    for (uint32_t a = 0; a < g->n_values; a++)
        for (uint32_t b = a + 1; b < g->n_values; b++) {
            if (first[a] > last[b] || first[b] > last[a])
                continue;
            uint64_t ea = m.offset[a] + mxu_value_elems(&g->values[a]);
            uint64_t eb = m.offset[b] + mxu_value_elems(&g->values[b]);
            cr_expect(ea <= m.offset[b] || eb <= m.offset[a], "values %u and %u are alive together but "
                      "share bytes", a, b);
        }
    for (uint32_t v = 0; v < g->n_values; v++)
        cr_expect_eq(m.offset[v] % MXU_MEMPLAN_ALIGN, 0);
    mxu_memplan_free(&m);
    mxu_graph_free(g);
}

/* ---- whole compilations ------------------------------------------------------------- */

static int compile_status(mxu_graph *g, int random_weights, mxu_program **p)
{
    struct mxu_compile_options o;
    mxu_compile_options_init(&o);
    cr_assert_eq(mxu_config_parse(&o.config, "dram=16M"), MXU_OK);
    o.random_weights = random_weights;
    o.calib_count = 2;
    return mxu_compile(g, &o, p);
}

Test(core_compile, errors_name_the_node)
{
    mxu_program *p = NULL;
    mxu_graph *g = tg_new("no_weights");
    int x = tg_input(g, "x", 1, 4, 4, 3);
    tg_output(g, tg_conv(g, x, "conv7", 4, 3, 1, 1, 1));
    cr_expect_eq(compile_status(g, 0, &p), MXU_ERR_INVAL);
    cr_expect(strstr(mxu_error_detail(), "node 'conv7'") && strstr(mxu_error_detail(), "weights"), "%s",
              mxu_error_detail());
    cr_expect_null(p);
    mxu_graph_free(g);

    g = tg_new("no_bn_stats");
    x = tg_input(g, "x", 1, 4, 4, 3);
    tg_output(g, tg_node(g, MXU_NODE_BATCHNORM, "norm", &x, 1, NULL));
    cr_expect_eq(compile_status(g, 0, &p), MXU_ERR_INVAL);
    cr_expect(strstr(mxu_error_detail(), "node 'norm'") != NULL, "%s", mxu_error_detail());
    mxu_graph_free(g);

    g = tg_new("passthrough");
    x = tg_input(g, "x", 1, 4, 4, 3);
    tg_output(g, tg_node(g, MXU_NODE_IDENTITY, "id", &x, 1, NULL));
    cr_expect_eq(compile_status(g, 1, &p), MXU_ERR_UNSUPPORTED);
    cr_expect(strstr(mxu_error_detail(), "nothing to compute") != NULL, "%s", mxu_error_detail());
    mxu_graph_free(g);

    g = tg_new("too_big");
    x = tg_input(g, "x", 1, 64, 64, 64);
    tg_output(g, tg_conv(g, x, "huge", 64, 3, 1, 1, 1));
    struct mxu_compile_options o;
    mxu_compile_options_init(&o);
    cr_assert_eq(mxu_config_parse(&o.config, "dram=64K"), MXU_OK);
    o.random_weights = 1;
    cr_expect_eq(mxu_compile(g, &o, &p), MXU_ERR_LIMIT);
    cr_expect(strstr(mxu_error_detail(), "DRAM") != NULL, "%s", mxu_error_detail());
    mxu_graph_free(g);

    g = tg_new("bad_percentile");
    x = tg_input(g, "x", 1, 4, 4, 3);
    tg_output(g, tg_conv(g, x, "c", 4, 3, 1, 1, 1));
    mxu_compile_options_init(&o);
    o.random_weights = 1;
    o.calib_method = MXU_CALIB_PERCENTILE;
    o.percentile = 20;
    cr_expect_eq(mxu_compile(g, &o, &p), MXU_ERR_INVAL);
    mxu_graph_free(g);
}

Test(core_compile, metadata_and_a_valid_file)
{
    mxu_program *p = NULL, *back = NULL;
    mxu_graph *g = small_cnn("meta");
    snprintf(g->source, sizeof g->source, "models/meta.onnx");
    g->float_accuracy = 0.875f;
    snprintf(g->classes, sizeof g->classes, "a,b,c");
    g->has_pre = 1;
    g->pre.mean[0] = 0.5f, g->pre.std[0] = 0.25f, g->pre.bgr = 1;
    cr_assert_eq(compile_status(g, 1, &p), MXU_OK, "%s", mxu_error_detail());
    const char *m = p->metadata;
    cr_assert_not_null(m);
    const char *want[] = {"model=meta\n", "source=models/meta.onnx\n", "input.scale=0.00392156", "input.mean=0.5,0,0\n",
                          "input.std=0.25,1,1\n", "input.order=bgr\n", "calib=random:2:minmax\n",
                          "float_accuracy=0.875\n", "classes=a,b,c\n"};
    for (unsigned i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect(strstr(m, want[i]) != NULL, "'%s' missing in:\n%s", want[i], m);
    uint8_t *buf = NULL;
    size_t len = 0;
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_parse(buf, len, &back), MXU_OK, "%s", mxu_error_detail());
    cr_expect_eq(back->n_layers, p->n_layers);
    cr_expect_str_eq(back->metadata, p->metadata);
    free(buf);
    mxu_program_free(back), mxu_program_free(p);
    mxu_graph_free(g);
}

Test(core_compile, prequantized_values_and_weights_are_kept)
{
    mxu_graph *g = tg_new("preq");
    int x = tg_input(g, "x", 1, 4, 4, 2);
    g->values[x].quant = (struct mxu_quant){1, 0.02f, -5};
    int c = tg_conv(g, x, "qconv", 3, 1, 1, 0, 1);
    mxu_node *n = tg_producer(g, c);
    n->qweights = malloc(6);
    n->wscale = malloc(3 * sizeof(float));
    n->qbias = malloc(3 * sizeof(int32_t));
    for (int i = 0; i < 6; i++)
        n->qweights[i] = (int8_t)(i * 20 - 50);
    for (int i = 0; i < 3; i++)
        n->wscale[i] = 0.01f * (float)(i + 1), n->qbias[i] = 100 * i - 70;
    g->values[c].quant = (struct mxu_quant){1, 0.05f, 7};
    tg_output(g, c);
    mxu_program *p = NULL;
    cr_assert_eq(compile_status(g, 0, &p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(p->n_layers, 1);
    const mxu_layer *l = &p->layers[0];
    cr_expect_eq(p->tensors[l->input].scale, 0.02f);
    cr_expect_eq(p->tensors[l->input].zero_point, -5);
    cr_expect_eq(p->tensors[l->output].scale, 0.05f);
    cr_expect_eq(p->tensors[l->output].zero_point, 7);
    cr_expect_arr_eq(p->host_blob + l->weights, n->qweights, 6);
    cr_expect_arr_eq(p->host_blob + l->bias, n->qbias, 12);
    int32_t qm, shift;
    mxu_quantize_multiplier((double)0.02f * (double)0.03f / (double)0.05f, &qm, &shift);
    cr_expect_eq(((int32_t *)(p->host_blob + l->multiplier))[2], qm);
    float *in[1];
    tg_random_inputs(g, 1, in);
    tg_run_check(p, "rows=16,cols=16,dram=16M", in, NULL);
    tg_free_inputs(g, in);
    mxu_program_free(p);
    mxu_graph_free(g);
}
