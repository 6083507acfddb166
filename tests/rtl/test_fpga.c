/* Runs the FPGA block benches (sim/fpga, built into $MXU_BUILD/fpga by
 * mk/fpga.mk) and checks that each passed a real number of checks with zero
 * mismatches and exited 0. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

struct fpga_bench_result {
    int exit_status;   /* -1 when it could not run or did not exit */
    unsigned long long checks, mismatches;
    int parsed;        /* the "NAME: N checks, M mismatches" line was found */
};

static int fpga_parse_summary(const char *line, const char *name, unsigned long long *checks,
                              unsigned long long *mismatches)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || line[n] != ':')
        return 0;
    return sscanf(line + n + 1, " %llu checks, %llu mismatches", checks, mismatches) == 2;
}

static struct fpga_bench_result fpga_run_bench(const char *name)
{
    struct fpga_bench_result r = {-1, 0, 0, 0};
    const char *build = getenv("MXU_BUILD");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/fpga/%s 2>/dev/null", build && *build ? build : "build", name);
    FILE *p = popen(cmd, "r");
    if (!p)
        return r;
    char line[512];
    while (fgets(line, sizeof line, p))
        if (fpga_parse_summary(line, name, &r.checks, &r.mismatches))
            r.parsed = 1;
    int st = pclose(p);
    if (st != -1 && WIFEXITED(st))
        r.exit_status = WEXITSTATUS(st);
    return r;
}

static void fpga_expect_clean(const char *name, unsigned long long min_checks)
{
    struct fpga_bench_result r = fpga_run_bench(name);
    cr_assert(r.parsed, "%s printed no summary line (not built? run `make fpga-benches`)", name);
    cr_expect_eq(r.mismatches, 0ull, "%s: %llu mismatches", name, r.mismatches);
    cr_expect_geq(r.checks, min_checks, "%s: only %llu checks", name, r.checks);
    cr_expect_eq(r.exit_status, 0, "%s exited with %d", name, r.exit_status);
}

Test(fpga, summary_parser)
{
    unsigned long long c = 0, m = 0;
    cr_assert(fpga_parse_summary("tb_a: 7 checks, 2 mismatches\n", "tb_a", &c, &m));
    cr_expect_eq(c, 7ull);
    cr_expect_eq(m, 2ull);
    cr_expect_not(fpga_parse_summary("tb_ab: 7 checks, 0 mismatches\n", "tb_a", &c, &m));
    cr_expect_not(fpga_parse_summary("tb_a: done\n", "tb_a", &c, &m));
}

Test(fpga, missing_bench_fails)
{
    struct fpga_bench_result r = fpga_run_bench("tb_no_such_bench");
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
