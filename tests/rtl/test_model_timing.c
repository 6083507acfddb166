/* The C model's cycle estimate against the RTL's CYCLES counter: small but
 * representative layers (3x3 convolutions with few and many channels, strided,
 * with a fused max-pool; fully connected at batch 1, which streams weights, and
 * at batch 64, which computes) on several arrays and DRAM timings, and random
 * programs (tests/rtl/random_program.h), valid and with a corrupted instruction.
 * Each pair must agree within MAX_ERROR; the table goes to the log (--verbose). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>

#include "mxu.h"
#include "mxu_layer_program.h"
#include "random_program.h"

TestSuite(model_timing, .timeout = 600);

#define MAX_ERROR 0.03

#define CONV3(NM, HW, CI, CO, S, POOL)                                                             \
    {.name = NM, .op = MXU_LAYER_CONV2D, .n = 1, .h = HW, .w = HW, .cin = CI, .cout = CO, .kh = 3, \
     .kw = 3, .stride_h = S, .stride_w = S, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,           \
     .pad_right = 1, .groups = 1, .pool_k = POOL, .pool_s = POOL, .act_min = 0, .act_max = 127}
#define FC(NM, N, CI, CO) {.name = NM, .op = MXU_LAYER_FC, .n = N, .h = 1, .w = 1, .cin = CI, .cout = CO, \
                           .act_min = -128, .act_max = 127}

static const struct mxu_layer_desc layers[] = {
    CONV3("conv 13x13 16->32", 13, 16, 32, 1, 0),
    CONV3("conv 13x13 64->64", 13, 64, 64, 1, 0),
    CONV3("conv 12x12 3->16", 12, 3, 16, 1, 0),
    CONV3("conv 15x15 32->48 s2", 15, 32, 48, 2, 0),
    CONV3("conv 14x14 32->32 pool", 14, 32, 32, 1, 2),
    FC("fc 2048->256 b1", 1, 2048, 256),
    FC("fc 512->128 b64", 64, 512, 128),
};

struct setup {
    const char *arch, *dram;
};

static const struct setup setups[] = {
    {"rows=16,cols=16", ""},        {"rows=16,cols=16", "bw=8"}, {"rows=16,cols=16", "latency=20"},
    {"rows=8,cols=8", ""},          {"rows=8,cols=8", "bw=8"},   {"rows=8,cols=16", ""},
    {"rows=8,cols=16", "bw=8"},
};

static int open_dev(const char *backend, const struct setup *su, mxu_device **dev)
{
    char uri[128];
    snprintf(uri, sizeof uri, "%s:%s%s%s", backend, su->arch, *su->dram ? "," : "", su->dram);
    return mxu_open(uri, dev);
}

static uint64_t run_cycles(mxu_device *dev, const mxu_program *p, const char *what)
{
    mxu_counters c;
    int rc = mxu_program_load(dev, p);
    if (rc == MXU_OK)
        rc = mxu_program_run(dev, p, 0, &c);
    cr_assert_eq(rc, MXU_OK, "%s on %s: %s", what, mxu_device_backend(dev), mxu_error_detail());
    return c.cycles;
}

/* Every layer on one array and DRAM timing; returns the largest |error|. */
static double check_setup(const struct setup *su)
{
    mxu_device *model = NULL, *rtl = NULL;
    cr_assert_eq(open_dev("model", su, &model), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(open_dev("rtl", su, &rtl), MXU_OK, "%s", mxu_error_detail());
    double worst = 0;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        mxu_program *p = NULL;
        cr_assert_eq(mxu_build_layer_program(mxu_device_config(rtl), &layers[i], 1, &p), MXU_OK, "%s: %s",
                     layers[i].name, mxu_error_detail());
        uint64_t m = run_cycles(model, p, layers[i].name), r = run_cycles(rtl, p, layers[i].name);
        double err = ((double)m - (double)r) / (double)r;
        cr_log_info("%-16s %-11s %-24s model %8llu  rtl %8llu  %+6.2f%%", su->arch, *su->dram ? su->dram : "default",
                    layers[i].name, (unsigned long long)m, (unsigned long long)r, 100 * err);
        cr_expect_leq(fabs(err), MAX_ERROR, "%s %s %s: model %llu vs rtl %llu cycles (%+.2f%%)", su->arch, su->dram,
                      layers[i].name, (unsigned long long)m, (unsigned long long)r, 100 * err);
        if (fabs(err) > worst)
            worst = fabs(err);
        mxu_program_free(p);
    }
    mxu_close(model);
    mxu_close(rtl);
    return worst;
}

Test(model_timing, layers_within_3_percent_of_rtl)
{
    double worst = 0;
    for (size_t i = 0; i < sizeof setups / sizeof setups[0]; i++) {
        double w = check_setup(&setups[i]);
        if (w > worst)
            worst = w;
    }
    cr_log_info("largest error %.2f%% (limit %.0f%%)", 100 * worst, 100 * MAX_ERROR);
    cr_assert_leq(worst, MAX_ERROR);
}

/* The tolerance is a real bound: a model that ignored the DRAM bandwidth would
 * miss the batch-1 layer, which moves a byte of weights per MAC. */
Test(model_timing, the_check_can_fail)
{
    const struct setup half = {"rows=16,cols=16", "bw=8"}, full = {"rows=16,cols=16", ""};
    mxu_device *model = NULL, *rtl = NULL;
    cr_assert_eq(open_dev("model", &full, &model), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(open_dev("rtl", &half, &rtl), MXU_OK, "%s", mxu_error_detail());
    mxu_program *p = NULL;
    cr_assert_eq(mxu_build_layer_program(mxu_device_config(rtl), &layers[5], 1, &p), MXU_OK, "%s",
                 mxu_error_detail());
    uint64_t m = run_cycles(model, p, layers[5].name), r = run_cycles(rtl, p, layers[5].name);
    cr_assert_gt(fabs((double)m - (double)r) / (double)r, MAX_ERROR, "model at bw=16 %llu vs rtl at bw=8 %llu",
                 (unsigned long long)m, (unsigned long long)r);
    mxu_program_free(p);
    mxu_close(model);
    mxu_close(rtl);
}

/* Random programs: mixed queues, tokens, odd DRAM alignments, padding, pooling,
 * keep_weights and early errors, which the layer programs never produce. */
static void check_random(const struct setup *su, uint64_t seed, unsigned count)
{
    mxu_device *dev[2] = {NULL, NULL};
    cr_assert_eq(open_dev("model", su, &dev[0]), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(open_dev("rtl", su, &dev[1]), MXU_OK, "%s", mxu_error_detail());
    static rp_program p;
    unsigned exact = 0;
    for (unsigned i = 0; i < count; i++) {
        rp_generate(mxu_device_config(dev[1]), seed + i, 10 + i % 80, &p);
        if (i % 2) {
            rp_rng rng = {seed * 31 + i};
            rp_corrupt(&p, &rng);
            rp_store_code(&p);
        }
        uint64_t cycles[2];
        for (int b = 0; b < 2; b++) {
            mxu_counters c;
            cr_assert_eq(mxu_mem_write(dev[b], 0, p.image, sizeof p.image), MXU_OK, "%s", mxu_error_detail());
            int rc = mxu_run_commands(dev[b], RP_CODE_BASE, p.n_insns, 0, &c);
            cr_assert(rc == MXU_OK || rc == MXU_ERR_DEVICE, "seed %llu: %s", (unsigned long long)(seed + i),
                      mxu_error_detail());
            cycles[b] = c.cycles;
        }
        double err = ((double)cycles[0] - (double)cycles[1]) / (double)cycles[1];
        cr_expect_leq(fabs(err), MAX_ERROR, "%s %s seed %llu: model %llu vs rtl %llu cycles", su->arch, su->dram,
                      (unsigned long long)(seed + i), (unsigned long long)cycles[0], (unsigned long long)cycles[1]);
        exact += cycles[0] == cycles[1];
    }
    cr_log_info("%-16s %-16s %u random programs, %u with the RTL's exact CYCLES", su->arch,
                *su->dram ? su->dram : "default", count, exact);
    mxu_close(dev[0]);
    mxu_close(dev[1]);
}

Test(model_timing, random_programs_within_3_percent_of_rtl)
{
    const struct setup su[] = {
        {"rows=16,cols=16", ""}, {"rows=4,cols=4", "bw=5,latency=23"}, {"rows=8,cols=16", "bw=8,latency=1"}};
    for (size_t i = 0; i < sizeof su / sizeof su[0]; i++)
        check_random(&su[i], 7000 + 1000 * i, 100);
}
