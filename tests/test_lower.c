/* The tiler against the golden kernels: random layer shapes (edge cases
 * included) lowered for several array configurations and run on the C model,
 * bit for bit. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "mxu.h"
#include "mxu_builder.h"
#include "mxu_layer_program.h"
#include "mxu_lower.h"
#include "support/random_layer.h"

Test(lower, random_layers_16x16) { run_random_layers("model", "rows=16,cols=16,dram=4M", NULL, 1000, 600, 400000); }
Test(lower, random_layers_8x8) { run_random_layers("model", "rows=8,cols=8,dram=4M", NULL, 2000, 500, 400000); }
Test(lower, random_layers_4x4) { run_random_layers("model", "rows=4,cols=4,dram=4M", NULL, 3000, 400, 400000); }
Test(lower, random_layers_nonsquare) { run_random_layers("model", "rows=8,cols=16,dram=4M", NULL, 4000, 400, 400000); }
Test(lower, random_layers_small_buffers)
{
    /* tiny buffers force spatial tiling, weight pieces and parameter reloads */
    run_random_layers("model", "rows=4,cols=8,ub_lines=512,acc=64,wb=64,params=2,dram=4M", NULL, 5000, 300, 400000);
}

Test(lower, space_to_depth_16x16) { run_blocked_layers("model", "rows=16,cols=16,dram=4M", 1, 60); }
Test(lower, space_to_depth_8x8) { run_blocked_layers("model", "rows=8,cols=8,dram=4M", 2, 40); }
Test(lower, space_to_depth_nonsquare) { run_blocked_layers("model", "rows=16,cols=8,dram=4M", 3, 40); }
Test(lower, space_to_depth_small_buffers)
{
    run_blocked_layers("model", "rows=8,cols=8,ub_lines=1024,acc=64,wb=128,params=2,dram=4M", 4, 30);
}

Test(lower, impossible_shape_names_the_limit)
{
    mxu_hw_config cfg;
    char desc[256];
    mxu_program *p = NULL;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, "rows=4,cols=4,ub_lines=16,acc=2,wb=8"), MXU_OK, "%s",
                 mxu_error_detail());
    int failures = 0;
    for (uint64_t seed = 1; seed < 50; seed++) {
        int rc = random_layer_program(&cfg, seed, 1 << 20, &p, desc, sizeof desc);
        if (rc == MXU_OK) {
            mxu_program_free(p);
            continue;
        }
        cr_assert_eq(rc, MXU_ERR_LIMIT, "seed %llu: %s", (unsigned long long)seed, mxu_error_detail());
        cr_assert(strstr(mxu_error_detail(), "device") != NULL, "%s", mxu_error_detail());
        failures++;
    }
    cr_assert_gt(failures, 0);
}

/* Few-channel layers (AlexNet conv1-like) pack neighbouring pixels into a UB
 * line; the result must stay bit-exact, including top/bottom padding, strides,
 * pooling and kernels wider than one packed group. */
Test(lower, packed_few_channel_convs)
{
    const char *archs[] = {"rows=16,cols=16,dram=4M", "rows=8,cols=8,dram=4M", "rows=8,cols=16,dram=4M",
                           "rows=16,cols=8,dram=4M"};
    int packed = 0;
    for (unsigned a = 0; a < sizeof archs / sizeof *archs; a++) {
        mxu_hw_config cfg;
        mxu_config_default(&cfg);
        cr_assert_eq(mxu_config_parse(&cfg, archs[a]), MXU_OK);
        cr_assert_eq(mxu_config_validate(&cfg), MXU_OK);
        for (uint32_t i = 0; i < 24; i++) {
            struct mxu_layer_desc d = {
                .name = "packed", .op = MXU_LAYER_CONV2D, .n = 1, .h = 9 + i % 7, .w = 11 + i % 5,
                .cin = 1 + i % 4, .cout = 5 + 3 * (i % 6), .kh = 1 + i % 5, .kw = 2 + i % 10,
                .stride_h = 1 + i % 3, .stride_w = 1 + i % 4, .pad_top = i % 3, .pad_bottom = i % 2,
                .pool_k = i % 5 == 0 ? 2 : 0, .pool_s = 2, .act_min = -128, .act_max = 127,
                .zp_in = (int32_t)(i * 37 % 256) - 128, .zp_out = (int32_t)(i * 11 % 256) - 128};
            uint32_t oh, ow;
            mxu_layer_desc_out(&d, &oh, &ow);
            if (!oh || !ow)
                continue;
            mxu_program *p = NULL;
            mxu_builder *b = NULL;
            struct mxu_conv_plan plan;
            cr_assert_eq(mxu_build_layer_program(&cfg, &d, i, &p), MXU_OK, "%s", mxu_error_detail());
            cr_assert_eq(mxu_builder_new(&cfg, &b), MXU_OK);
            mxu_program *bp = mxu_builder_program(b);
            for (uint32_t t = 0; t < p->n_tensors; t++)
                cr_assert_eq(mxu_program_add_tensor(bp, &p->tensors[t], NULL), MXU_OK);
            cr_assert_eq(mxu_plan_conv(b, &p->layers[0], &plan), MXU_OK, "%s", mxu_error_detail());
            packed += plan.pack > 1;
            mxu_builder_free(b);
            char uri[80];
            snprintf(uri, sizeof uri, "model:%s", archs[a]);
            cr_assert_eq(run_and_compare(uri, p, i, NULL), MXU_OK, "%s case %u: %s", archs[a], i,
                         mxu_error_detail());
            mxu_program_free(p);
        }
    }
    cr_assert_gt(packed, 40, "only %d layers were packed", packed);
}
