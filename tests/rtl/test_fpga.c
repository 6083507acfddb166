/* Runs the FPGA block benches (sim/fpga, built into $MXU_BUILD/fpga by
 * mk/fpga.mk) and checks that each passed a real number of checks with zero
 * mismatches and exited 0. */
#include <criterion/criterion.h>

#include "support/bench_runner.h"

static void fpga_expect_clean(const char *name, unsigned long long min_checks)
{
    bench_expect_clean("fpga", name, min_checks, "fpga-benches");
}

/* The summary parser itself is tested with the block benches (rtl_blocks). */
Test(fpga, missing_bench_fails)
{
    struct bench_result r = bench_run("fpga", "tb_no_such_bench");
    cr_expect_not(r.parsed);
    cr_expect_neq(r.exit_status, 0);
}

/* Gray-code FIFO under ten pairs of unrelated clocks with jitter: order, no
 * overrun, one-bit pointer steps, draining, full rate of the slower clock. */
Test(fpga, async_fifo, .timeout = 120) { fpga_expect_clean("tb_async_fifo", 200000); }
/* FT245 PHY vs a datasheet FTDI model: handshake rules at every edge, both
 * directions at >= 0.9 byte/cycle, packet gaps, fairness, SIWU# after a response. */
Test(fpga, ft245_phy, .timeout = 120) { fpga_expect_clean("tb_ft245", 200000); }
/* Block-RAM device memory vs the simulators' DRAM model, edge by edge, latency 1 and 2. */
Test(fpga, bram_dram, .timeout = 120) { fpga_expect_clean("tb_bram_dram", 1000000); }
/* The FPGA mxu_ram (BRAM copies + live value table) vs rtl/mxu_ram.v, three shapes. */
Test(fpga, ram_lvt, .timeout = 120) { fpga_expect_clean("tb_ram_fpga", 1000000); }
/* The whole board design with libmxu's link client over the FTDI model: loopback,
 * CSRs, memory round trip, programs that finish and fail, LEDs. */
Test(fpga, board_system, .timeout = 120) { fpga_expect_clean("tb_fpga_system", 6000); }
