/* Running the Verilog test benches that report "NAME: N checks, M mismatches"
 * (the block benches in $MXU_BUILD/rtl_blocks, the FPGA benches in
 * $MXU_BUILD/fpga) and judging their result. */
#ifndef MXU_TEST_BENCH_RUNNER_H
#define MXU_TEST_BENCH_RUNNER_H

struct bench_result {
    int exit_status; /* -1 when it could not run or did not exit */
    unsigned long long checks, mismatches;
    int parsed;      /* the summary line was found */
};

/* Parse "NAME: N checks, M mismatches" from one line of output; 1 if it is one. */
int bench_parse_summary(const char *line, const char *name, unsigned long long *checks,
                        unsigned long long *mismatches);

/* Run $MXU_BUILD/DIR/NAME (MXU_BUILD defaults to build), stderr discarded. */
struct bench_result bench_run(const char *dir, const char *name);

/* Run it and assert a summary line, zero mismatches, at least min_checks checks
 * and exit status 0; make_target is what builds the bench (for the message). */
void bench_expect_clean(const char *dir, const char *name, unsigned long long min_checks,
                        const char *make_target);

#endif
