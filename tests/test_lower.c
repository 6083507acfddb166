/* The tiler against the golden kernels: random layer shapes (edge cases
 * included) lowered for several array configurations and run on the C model,
 * bit for bit. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "mxu.h"
#include "mxu_builder.h"
#include "mxu_lower.h"
#include "support/random_layer.h"

Test(lower, random_layers_16x16) { run_random_layers("model", "rows=16,cols=16,dram=4M", 1000, 400, 400000); }
Test(lower, random_layers_8x8) { run_random_layers("model", "rows=8,cols=8,dram=4M", 2000, 300, 400000); }
Test(lower, random_layers_4x4) { run_random_layers("model", "rows=4,cols=4,dram=4M", 3000, 200, 400000); }
Test(lower, random_layers_nonsquare) { run_random_layers("model", "rows=8,cols=16,dram=4M", 4000, 200, 400000); }
Test(lower, random_layers_small_buffers)
{
    /* tiny buffers force spatial tiling, weight pieces and parameter reloads */
    run_random_layers("model", "rows=4,cols=8,ub_lines=512,acc=64,wb=64,params=2,dram=4M", 5000, 200, 400000);
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
