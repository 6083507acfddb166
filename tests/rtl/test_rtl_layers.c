/* Random layer shapes lowered by the tiler and run on the Verilator RTL against
 * the golden kernels, bit for bit, on square and non-square arrays (the model
 * runs the same kind of shapes in tests/test_lower.c). */
#include <criterion/criterion.h>

#include "support/random_layer.h"

TestSuite(rtl_layers, .timeout = 600);

Test(rtl_layers, random_16x16) { run_random_layers("rtl", "rows=16,cols=16", NULL, 1000, 80, 200000); }
Test(rtl_layers, random_8x8) { run_random_layers("rtl", "rows=8,cols=8", NULL, 2000, 80, 100000); }
Test(rtl_layers, random_4x4) { run_random_layers("rtl", "rows=4,cols=4", NULL, 3000, 60, 40000); }
Test(rtl_layers, random_8x16) { run_random_layers("rtl", "rows=8,cols=16", NULL, 4000, 80, 100000); }

/* The `fast` simulator (the array's functional model instead of its PEs) must be
 * indistinguishable from the systolic array. */
Test(rtl_layers, fast_array_model_16x16)
{
    run_random_layers("rtl", "rows=16,cols=16", "array=model", 5000, 40, 200000);
}
Test(rtl_layers, space_to_depth_16x16) { run_blocked_layers("rtl", "rows=16,cols=16", 5, 8); }
Test(rtl_layers, space_to_depth_8x8) { run_blocked_layers("rtl", "rows=8,cols=8", 6, 8); }
