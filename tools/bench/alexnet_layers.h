/* AlexNet's layers with Caffe's shapes (groups), batch 1: the workload of
 * `mxu bench alexnet` (tools/mxu/cmd_bench.c) and of bench_link (docs/perf.md). */
#ifndef MXU_BENCH_ALEXNET_LAYERS_H
#define MXU_BENCH_ALEXNET_LAYERS_H

#include "mxu_layer_program.h"

/* A square conv layer: input H x H x C, K x K kernel, stride S, padding P,
 * O outputs, G groups; ReLU. */
#define BENCH_CONV(NM, H, C, K, S, P, O, G)                                                        \
    {.name = NM, .op = MXU_LAYER_CONV2D, .n = 1, .h = H, .w = H, .cin = C, .cout = O, .kh = K,    \
     .kw = K, .stride_h = S, .stride_w = S, .pad_top = P, .pad_left = P, .pad_bottom = P,          \
     .pad_right = P, .groups = G, .act_min = 0, .act_max = 127}
/* A fully connected layer C -> O, no activation. */
#define BENCH_FC(NM, C, O)                                                                         \
    {.name = NM, .op = MXU_LAYER_FC, .n = 1, .h = 1, .w = 1, .cin = C, .cout = O, .act_min = -128, \
     .act_max = 127}

static const struct mxu_layer_desc bench_alexnet[] = {
    BENCH_CONV("conv1", 227, 3, 11, 4, 0, 96, 1),  BENCH_CONV("conv2", 27, 96, 5, 1, 2, 256, 2),
    BENCH_CONV("conv3", 13, 256, 3, 1, 1, 384, 1), BENCH_CONV("conv4", 13, 384, 3, 1, 1, 384, 2),
    BENCH_CONV("conv5", 13, 384, 3, 1, 1, 256, 2), BENCH_FC("fc6", 9216, 4096),
    BENCH_FC("fc7", 4096, 4096),                    BENCH_FC("fc8", 4096, 1000),
};
#define BENCH_ALEXNET_LAYERS (sizeof bench_alexnet / sizeof *bench_alexnet)

#endif
