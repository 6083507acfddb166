/* Runs the block-level Verilator test benches (sim/verilator/blocks, built into
 * $MXU_BUILD/rtl_blocks by mk/rtl_blocks.mk) and checks that each one passed a
 * real number of checks with zero mismatches. */
#include <criterion/criterion.h>

#include "support/bench_runner.h"

static void expect_clean(const char *name, unsigned long long min_checks)
{
    bench_expect_clean("rtl_blocks", name, min_checks, "rtl_blocks");
}

/* The parser of every bench's summary line (support/bench_runner.c; the FPGA benches too). */
Test(rtl_blocks, summary_parser)
{
    unsigned long long c = 0, m = 0;
    cr_assert(bench_parse_summary("tb_x: 12 checks, 3 mismatches\n", "tb_x", &c, &m));
    cr_expect_eq(c, 12ull);
    cr_expect_eq(m, 3ull);
    cr_expect_not(bench_parse_summary("tb_xy: 12 checks, 0 mismatches\n", "tb_x", &c, &m));
    cr_expect_not(bench_parse_summary("tb_x: garbage\n", "tb_x", &c, &m));
    cr_expect_not(bench_parse_summary("tb_x 12 checks, 0 mismatches\n", "tb_x", &c, &m));
}

Test(rtl_blocks, missing_bench_fails)
{
    struct bench_result r = bench_run("rtl_blocks", "tb_does_not_exist");
    cr_expect_not(r.parsed);
    cr_expect_neq(r.exit_status, 0);
}

/* Systolic array vs a plain matmul, back-to-back tiles (no-bubble weight swap). */
Test(rtl_blocks, array_16x16, .timeout = 120) { expect_clean("tb_array", 20000); }
Test(rtl_blocks, array_4x7, .timeout = 120) { expect_clean("tb_array_4x7", 2000); }
/* the array's functional model (the `fast` simulator) on the same stimulus */
Test(rtl_blocks, array_model_16x16, .timeout = 120) { expect_clean("tb_array_model", 20000); }
Test(rtl_blocks, array_model_4x7, .timeout = 120) { expect_clean("tb_array_model_4x7", 2000); }
/* Activation engine vs mxu_activate() on random and extreme values. */
Test(rtl_blocks, act_16, .timeout = 120) { expect_clean("tb_act", 20000); }
Test(rtl_blocks, act_8_cols, .timeout = 120) { expect_clean("tb_act_8c", 20000); }
/* LOAD walks with padding, unaligned and overlapping elements, every memory. */
Test(rtl_blocks, dma_load, .timeout = 120) { expect_clean("tb_dma_load", 50000); }
Test(rtl_blocks, dma_load_beat4, .timeout = 120) { expect_clean("tb_dma_load_b4", 50000); }
/* One PE vs a cycle-accurate reference: MAC, forwarding, weight pipe/shadow/active,
 * swap timing, asynchronous reset, extreme products and int32 wrap. */
Test(rtl_blocks, pe, .timeout = 120) { expect_clean("tb_pe", 1000000); }
/* STORE walks: 3-D strides (overlapping too), unaligned partial beats with strobes,
 * back-pressure, streamed instructions, tokens, reset mid-run; every DRAM byte. */
Test(rtl_blocks, dma_store, .timeout = 120) { expect_clean("tb_dma_store", 3500000); }
Test(rtl_blocks, dma_store_beat4, .timeout = 120) { expect_clean("tb_dma_store_b4", 4500000); }
/* 64-byte UB lines over 8-byte beats (up to 9 beats per element), 2-line FIFO. */
Test(rtl_blocks, dma_store_ub64, .timeout = 120) { expect_clean("tb_dma_store_ub64", 12000000); }
