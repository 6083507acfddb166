/* Every AlexNet layer shape, full size, on the 16x16 RTL against the golden
 * kernels, bit for bit: Caffe's shapes (groups in conv2, conv4, conv5, with the
 * max-pools fused into conv1, conv2, conv5) and Darknet's alexnet.cfg (no groups). */
#include <criterion/criterion.h>

#include "mxu.h"
#include "mxu_layer_program.h"
#include "support/random_layer.h"

TestSuite(rtl_alexnet, .timeout = 900);

#define CONV(NM, H, C, K, S, P, O, G, PK)                                                          \
    {.name = NM, .op = MXU_LAYER_CONV2D, .n = 1, .h = H, .w = H, .cin = C, .cout = O, .kh = K,    \
     .kw = K, .stride_h = S, .stride_w = S, .pad_top = P, .pad_left = P, .pad_bottom = P,          \
     .pad_right = P, .groups = G, .pool_k = PK, .pool_s = 2, .act_min = -3, .act_max = 127,       \
     .zp_in = -3, .zp_out = -128}
#define FC(NM, C, O)                                                                               \
    {.name = NM, .op = MXU_LAYER_FC, .n = 1, .h = 1, .w = 1, .cin = C, .cout = O,                 \
     .act_min = -128, .act_max = 127, .zp_in = 5, .zp_out = -7}

static void run_layers(const struct mxu_layer_desc *layers, size_t n)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    for (size_t i = 0; i < n; i++) {
        mxu_program *p = NULL;
        uint64_t cycles = 0;
        cr_assert_eq(mxu_build_layer_program(&cfg, &layers[i], i + 1, &p), MXU_OK, "%s: %s",
                     layers[i].name, mxu_error_detail());
        int rc = run_and_compare("rtl:rows=16,cols=16", p, 100 + i, &cycles);
        cr_assert_eq(rc, MXU_OK, "%s: %s", layers[i].name, mxu_error_detail());
        cr_log_info("%s: %llu cycles, bit-exact", layers[i].name, (unsigned long long)cycles);
        mxu_program_free(p);
    }
}

Test(rtl_alexnet, caffe_shapes)
{
    const struct mxu_layer_desc caffe[] = {
        CONV("conv1", 227, 3, 11, 4, 0, 96, 1, 3),  CONV("conv2", 27, 96, 5, 1, 2, 256, 2, 3),
        CONV("conv3", 13, 256, 3, 1, 1, 384, 1, 0), CONV("conv4", 13, 384, 3, 1, 1, 384, 2, 0),
        CONV("conv5", 13, 384, 3, 1, 1, 256, 2, 3), FC("fc6", 9216, 4096),
        FC("fc7", 4096, 4096),                       FC("fc8", 4096, 1000),
    };
    run_layers(caffe, sizeof caffe / sizeof *caffe);
}

Test(rtl_alexnet, darknet_shapes)
{
    /* alexnet.cfg: no groups; the fully-connected layers are the same as Caffe's */
    const struct mxu_layer_desc darknet[] = {
        CONV("conv2", 27, 96, 5, 1, 2, 256, 1, 0),
        CONV("conv4", 13, 384, 3, 1, 1, 384, 1, 0),
        CONV("conv5", 13, 384, 3, 1, 1, 256, 1, 0),
    };
    run_layers(darknet, sizeof darknet / sizeof *darknet);
}
