/* Hand-built graphs compiled end to end and run on the C model: every output
 * byte must equal the golden reference run of the same program (bit-exact),
 * and the dequantized output must stay near the float graph's. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_core_support.h"

#define ARCH "rows=16,cols=16,dram=16M"

/* Compile g, run it on random inputs, check bit-exactness; returns the largest
 * |int8 - float| relative to the float output's range. */
static float compile_run(mxu_graph *g, const char *arch, uint64_t seed, mxu_program **keep)
{
    float *in[MXU_NODE_MAX_INPUTS];
    uint64_t n;
    cr_assert_eq(mxu_graph_random_weights(g, seed), MXU_OK, "%s", mxu_error_detail());
    tg_random_inputs(g, seed, in);
    float *ref = tg_float_output(g, in, &n); /* semantics before any pass */
    mxu_program *p = tg_compile(g, arch, 64);
    float *got = NULL;
    tg_run_check(p, arch, in, &got);
    float lo = INFINITY, hi = -INFINITY;
    for (uint64_t i = 0; i < n; i++)
        lo = fminf(lo, ref[i]), hi = fmaxf(hi, ref[i]);
    float err = tg_max_diff(ref, got, n) / fmaxf(hi - lo, 1e-6f);
    free(ref), free(got);
    tg_free_inputs(g, in);
    if (keep)
        *keep = p;
    else
        mxu_program_free(p);
    return err;
}

Test(core_e2e, conv_bn_relu_maxpool_chain)
{
    mxu_graph *g = tg_new("chain");
    mxu_node *n;
    int x = tg_input(g, "image", 1, 16, 16, 3);
    x = tg_conv(g, x, "conv1", 8, 3, 1, 1, 1);
    tg_producer(g, x)->has_bn = 1;
    x = tg_act(g, x, "relu1", MXU_ACT_KIND_RELU, 0);
    x = tg_pool(g, x, "pool1", MXU_NODE_MAXPOOL, 2, 2, 0);
    x = tg_conv(g, x, "conv2", 16, 3, 1, 1, 1);
    int in = x;
    x = tg_node(g, MXU_NODE_BATCHNORM, "bn2", &in, 1, &n);
    n->bn.eps = 1e-3f;
    x = tg_act(g, x, "relu2", MXU_ACT_KIND_RELU, 0);
    x = tg_pool(g, x, "pool2", MXU_NODE_MAXPOOL, 2, 2, 0);
    tg_output(g, x);
    mxu_program *p;
    float err = compile_run(g, ARCH, 1, &p);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    /* two convs, each with its batch norm, ReLU and max-pool fused */
    cr_assert_eq(g->n_nodes, 2);
    cr_expect_eq(g->nodes[0].pool_k, 2);
    cr_expect_eq(g->nodes[1].act.kind, MXU_ACT_KIND_RELU);
    cr_assert_eq(p->n_layers, 2);
    cr_expect_eq(tg_device_layers(p), 2);
    const mxu_tensor *image = &p->tensors[p->layers[0].input];
    cr_expect_float_eq(image->scale, 1.0f / 255, 1e-9, "pixels / 255 are exact: %g", (double)image->scale);
    cr_expect_eq(image->zero_point, -128);
    mxu_program_free(p);
    mxu_graph_free(g);
}

Test(core_e2e, fc_after_chw_flatten)
{
    mxu_graph *g = tg_new("flat");
    mxu_node *n;
    int x = tg_input(g, "image", 1, 6, 5, 3);
    x = tg_conv(g, x, "conv", 4, 3, 1, 1, 1);
    x = tg_act(g, x, "relu", MXU_ACT_KIND_RELU, 0);
    x = tg_node(g, MXU_NODE_FLATTEN, "flatten", &x, 1, NULL);
    x = tg_node(g, MXU_NODE_FC, "fc", &x, 1, &n);
    n->cout = 10, n->flatten_chw = 1;
    tg_output(g, x);
    float err = compile_run(g, ARCH, 2, NULL);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    cr_expect_eq(tg_count_op(g, MXU_NODE_FLATTEN), 0);
    mxu_graph_free(g);
}

Test(core_e2e, grouped_and_depthwise_convs)
{
    mxu_graph *g = tg_new("groups");
    int x = tg_input(g, "image", 1, 12, 12, 8);
    x = tg_conv(g, x, "grouped", 12, 3, 1, 1, 4);
    x = tg_act(g, x, "relu", MXU_ACT_KIND_RELU, 0);
    x = tg_conv(g, x, "depthwise", 12, 3, 2, 1, 12);
    x = tg_act(g, x, "relu6", MXU_ACT_KIND_CLIP, 0);
    tg_output(g, x);
    float err = compile_run(g, ARCH, 3, NULL);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    mxu_graph_free(g);
}

Test(core_e2e, residual_add_on_the_host)
{
    mxu_graph *g = tg_new("residual");
    int x = tg_input(g, "image", 1, 10, 10, 8);
    int a = tg_act(g, tg_conv(g, x, "c1", 8, 3, 1, 1, 1), "r1", MXU_ACT_KIND_RELU, 0);
    int b = tg_conv(g, a, "c2", 8, 3, 1, 1, 1);
    int s = tg_act(g, tg_add(g, a, b, "add"), "r2", MXU_ACT_KIND_RELU, 0);
    tg_output(g, tg_conv(g, s, "c3", 4, 1, 1, 0, 1));
    mxu_program *p;
    float err = compile_run(g, ARCH, 4, &p);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    cr_expect_eq(tg_host_layers(p), 1, "the add runs on the host");
    cr_expect_eq(tg_device_layers(p), 3);
    mxu_program_free(p);
    mxu_graph_free(g);
}

Test(core_e2e, concat_of_three_and_upsample)
{
    mxu_graph *g = tg_new("concat");
    int x = tg_input(g, "image", 1, 8, 8, 4);
    int a = tg_act(g, tg_conv(g, x, "a", 6, 3, 1, 1, 1), "ra", MXU_ACT_KIND_RELU, 0);
    int b = tg_conv(g, x, "b", 5, 1, 1, 0, 1);
    int c = tg_pool(g, tg_conv(g, x, "c", 3, 3, 2, 1, 1), "cp", MXU_NODE_MAXPOOL, 2, 2, 0);
    mxu_node *up;
    c = tg_node(g, MXU_NODE_UPSAMPLE, "up", &c, 1, &up);
    up->scale = 4;
    int parts[3] = {a, b, c};
    x = tg_node(g, MXU_NODE_CONCAT, "cat", parts, 3, NULL);
    tg_output(g, tg_conv(g, x, "mix", 7, 1, 1, 0, 1));
    mxu_program *p;
    float err = compile_run(g, ARCH, 5, &p);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    cr_expect_eq(tg_count_op(g, MXU_NODE_CONCAT), 2, "a concat of three is a chain of two");
    mxu_program_free(p);
    mxu_graph_free(g);
}

Test(core_e2e, lookup_table_activations)
{
    static const enum mxu_act_kind kinds[] = {MXU_ACT_KIND_LEAKY, MXU_ACT_KIND_SIGMOID, MXU_ACT_KIND_TANH,
                                              MXU_ACT_KIND_ELU, MXU_ACT_KIND_SWISH, MXU_ACT_KIND_MISH};
    for (unsigned k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        mxu_graph *g = tg_new("lut");
        int x = tg_input(g, "image", 1, 9, 9, 3);
        int a = tg_act(g, tg_conv(g, x, "conv", 8, 3, 1, 1, 1), "act", kinds[k], 0.1f);
        a = tg_pool(g, a, "pool", MXU_NODE_MAXPOOL, 2, 2, 0);
        int b = tg_conv(g, a, "conv2", 8, 1, 1, 0, 1);
        mxu_node *add;
        int s = tg_node(g, MXU_NODE_ADD, "add", (int[]){a, b}, 2, &add);
        add->act.kind = kinds[k], add->act.alpha = 0.1f; /* a table activation on an add */
        tg_output(g, tg_fc(g, s, "fc", 5));
        mxu_program *p;
        float err = compile_run(g, ARCH, 6 + k, &p);
        cr_expect_lt(err, 0.08f, "%s: int8 vs float: %g of the output range", mxu_act_kind_name(kinds[k]),
                     (double)err);
        cr_expect(p->layers[0].flags & MXU_LAYER_F_LUT, "%s is fused as a table", mxu_act_kind_name(kinds[k]));
        cr_expect_eq(p->layers[0].pool_k, 2);
        cr_expect_eq(tg_count_op(g, MXU_NODE_ACT), 1, "the add's table activation is its own layer");
        mxu_program_free(p);
        mxu_graph_free(g);
    }
}

Test(core_e2e, global_avgpool_flatten_fc_softmax)
{
    mxu_graph *g = tg_new("classifier");
    mxu_node *n;
    int x = tg_input(g, "image", 1, 8, 8, 3);
    x = tg_act(g, tg_conv(g, x, "conv", 16, 3, 1, 1, 1), "relu", MXU_ACT_KIND_RELU, 0);
    x = tg_node(g, MXU_NODE_GLOBAL_AVGPOOL, "gap", &x, 1, NULL);
    x = tg_node(g, MXU_NODE_FLATTEN, "flatten", &x, 1, NULL);
    x = tg_node(g, MXU_NODE_FC, "fc", &x, 1, &n);
    n->cout = 10, n->flatten_chw = 1;
    x = tg_node(g, MXU_NODE_SOFTMAX, "prob", &x, 1, NULL);
    tg_output(g, x);
    mxu_program *p;
    float err = compile_run(g, ARCH, 12, &p);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    const mxu_tensor *out = &p->tensors[p->layers[p->n_layers - 1].output];
    cr_expect_eq(out->scale, 1.0f / 256.0f);
    cr_expect_eq(out->zero_point, -128);
    mxu_program_free(p);
    mxu_graph_free(g);
}

Test(core_e2e, softmax_of_flattened_global_pool)
{
    mxu_graph *g = tg_new("gap_softmax");
    int x = tg_input(g, "image", 1, 6, 6, 3);
    x = tg_conv(g, x, "conv", 10, 3, 1, 1, 1);
    x = tg_node(g, MXU_NODE_GLOBAL_AVGPOOL, "gap", &x, 1, NULL);
    x = tg_node(g, MXU_NODE_FLATTEN, "flatten", &x, 1, NULL);
    tg_output(g, tg_node(g, MXU_NODE_SOFTMAX, "prob", &x, 1, NULL));
    float err = compile_run(g, ARCH, 13, NULL);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    mxu_graph_free(g);
}

Test(core_e2e, pools_on_device_and_host)
{
    mxu_graph *g = tg_new("pools");
    int x = tg_input(g, "image", 1, 11, 11, 5);
    x = tg_conv(g, x, "conv", 6, 3, 1, 0, 1);
    int c = x;
    x = tg_pool(g, x, "avg", MXU_NODE_AVGPOOL, 3, 2, 0);     /* unpadded: device */
    x = tg_pool(g, x, "avgpad", MXU_NODE_AVGPOOL, 3, 1, 1);  /* cut windows: host */
    x = tg_pool(g, x, "maxpad", MXU_NODE_MAXPOOL, 3, 1, 1);  /* padded max: device, not fused */
    (void)c;
    tg_output(g, x);
    mxu_program *p;
    float err = compile_run(g, ARCH, 14, &p);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    cr_assert_eq(p->n_layers, 4);
    cr_expect_gt(p->layers[1].code_count, 0, "unpadded average pool on the device");
    cr_expect_eq(p->layers[2].code_count, 0, "padded average pool on the host");
    cr_expect_gt(p->layers[3].code_count, 0, "padded max pool on the device");
    mxu_program_free(p);
    mxu_graph_free(g);
}

Test(core_e2e, odd_array_configurations)
{
    static const char *archs[] = {"rows=4,cols=8,dram=16M", "rows=8,cols=4,dram=16M",
                                  "rows=4,cols=4,ub_lines=1024,acc=64,wb=64,params=2,dram=16M"};
    for (unsigned a = 0; a < sizeof archs / sizeof *archs; a++) {
        mxu_graph *g = tg_new("odd");
        int x = tg_input(g, "image", 1, 12, 12, 3);
        x = tg_act(g, tg_conv(g, x, "c1", 10, 3, 1, 1, 1), "l1", MXU_ACT_KIND_LEAKY, 0.1f);
        x = tg_pool(g, x, "p1", MXU_NODE_MAXPOOL, 2, 2, 0);
        x = tg_act(g, tg_conv(g, x, "c2", 12, 3, 1, 1, 2), "r2", MXU_ACT_KIND_RELU, 0);
        x = tg_act(g, tg_fc(g, x, "fc1", 20), "r3", MXU_ACT_KIND_RELU, 0);
        tg_output(g, tg_fc(g, x, "fc2", 7));
        float err = compile_run(g, archs[a], 20 + a, NULL);
        cr_expect_lt(err, 0.05f, "%s: int8 vs float: %g of the output range", archs[a], (double)err);
        mxu_graph_free(g);
    }
}

Test(core_e2e, batch_of_two_and_mlp_input)
{
    mxu_graph *g = tg_new("mlp");
    int x = tg_input_nc(g, "pixels", 2, 64);
    x = tg_act(g, tg_fc(g, x, "h1", 32), "s1", MXU_ACT_KIND_SIGMOID, 0);
    tg_output(g, tg_fc(g, x, "out", 10));
    float err = compile_run(g, ARCH, 30, NULL);
    cr_expect_lt(err, 0.05f, "int8 vs float: %g of the output range", (double)err);
    mxu_graph_free(g);
}
