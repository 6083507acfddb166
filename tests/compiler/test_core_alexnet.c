/* AlexNet-shaped graphs (Caffe's shapes, grouped convs): the full 227x227 one
 * compiles with random weights within the compile-time budget (no float run:
 * the range estimate), and a scaled-down one runs bit-exact on the C model. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_core_support.h"

/* AlexNet with input side `side` and every width divided by `div`. */
static mxu_graph *alexnet(uint32_t side, uint32_t div)
{
    mxu_graph *g = tg_new("alexnet");
    int x = tg_input(g, "data", 1, side, side, 3);
    x = tg_act(g, tg_conv(g, x, "conv1", 96 / div, 11, 4, 0, 1), "relu1", MXU_ACT_KIND_RELU, 0);
    x = tg_pool(g, x, "pool1", MXU_NODE_MAXPOOL, 3, 2, 0);
    x = tg_act(g, tg_conv(g, x, "conv2", 256 / div, 5, 1, 2, 2), "relu2", MXU_ACT_KIND_RELU, 0);
    x = tg_pool(g, x, "pool2", MXU_NODE_MAXPOOL, 3, 2, 0);
    x = tg_act(g, tg_conv(g, x, "conv3", 384 / div, 3, 1, 1, 1), "relu3", MXU_ACT_KIND_RELU, 0);
    x = tg_act(g, tg_conv(g, x, "conv4", 384 / div, 3, 1, 1, 2), "relu4", MXU_ACT_KIND_RELU, 0);
    x = tg_act(g, tg_conv(g, x, "conv5", 256 / div, 3, 1, 1, 2), "relu5", MXU_ACT_KIND_RELU, 0);
    x = tg_pool(g, x, "pool5", MXU_NODE_MAXPOOL, 3, 2, 0);
    x = tg_node(g, MXU_NODE_FLATTEN, "flatten", &x, 1, NULL);
    x = tg_act(g, tg_fc(g, x, "fc6", 4096 / div), "relu6", MXU_ACT_KIND_RELU, 0);
    x = tg_node(g, MXU_NODE_IDENTITY, "drop6", &x, 1, NULL);
    x = tg_act(g, tg_fc(g, x, "fc7", 4096 / div), "relu7", MXU_ACT_KIND_RELU, 0);
    x = tg_node(g, MXU_NODE_IDENTITY, "drop7", &x, 1, NULL);
    x = tg_fc(g, x, "fc8", 1000 / div);
    tg_output(g, tg_node(g, MXU_NODE_SOFTMAX, "prob", &x, 1, NULL));
    return g;
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

Test(core_alexnet, full_size_compiles_quickly_with_random_weights, .timeout = 60)
{
    mxu_graph *g = alexnet(227, 1);
    struct mxu_compile_options o;
    mxu_program *p = NULL;
    mxu_compile_options_init(&o);
    o.random_weights = 1;
    double t0 = cpu_seconds();
    int rc = mxu_compile(g, &o, &p);
    double seconds = cpu_seconds() - t0;
    cr_assert_eq(rc, MXU_OK, "%s", mxu_error_detail());
    cr_log_info("AlexNet 227x227, random weights, 16x16: mxu_compile %.3f s CPU", seconds);
    /* generous: sanitizer builds and loaded machines; docs/compiler.md has the real figure */
    cr_expect_lt(seconds, 5.0, "compile took %.2f s", seconds);
    cr_expect(strstr(p->metadata, "calib=estimate:0:moments\n") != NULL, "%s", p->metadata);
    cr_assert_eq(p->n_layers, 9);
    for (uint32_t i = 0; i < 8; i++)
        cr_expect_gt(p->layers[i].code_count, 0, "layer %s on the device", p->layers[i].name);
    cr_expect_eq(p->layers[8].op, MXU_LAYER_SOFTMAX);
    cr_expect_eq(p->layers[0].pool_k, 3, "pool1 fused into conv1");
    cr_expect_eq(p->layers[2].groups, 1);
    cr_expect_eq(p->layers[3].groups, 2);
    mxu_program_free(p);
    mxu_graph_free(g);
}

Test(core_alexnet, scaled_down_runs_bit_exact)
{
    mxu_graph *g = alexnet(67, 8);
    float *in[1];
    cr_assert_eq(mxu_graph_random_weights(g, 1), MXU_OK, "%s", mxu_error_detail());
    tg_random_inputs(g, 2, in);
    mxu_program *p = tg_compile(g, "rows=16,cols=16,dram=16M", 0);
    tg_run_check(p, "rows=16,cols=16,dram=16M", in, NULL);
    tg_free_inputs(g, in);
    mxu_program_free(p);
    mxu_graph_free(g);
}
