/* System-level differential tests of the RTL (Verilator and Icarus backends)
 * against the C model: ID/config CSRs, random well-formed programs (bit-exact
 * DRAM, same STATUS/ERR_CODE/ERR_PC), every error code and random corruptions,
 * Icarus vs Verilator (outputs and every counter, cycles included), timeouts and
 * the backends' own error paths.
 *
 * A mismatch prints a reproducer: the shortest failing prefix of the program as
 * assembly-like lines and the first differing DRAM byte (also written to
 * $MXU_BUILD/rtl-repro-<config>-<seed>.txt). MXU_RTL_SEED and MXU_RTL_PROGRAMS
 * change the seeds and the number of random programs. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend_sim.h"
#include "mxu_backend.h"
#include "mxu_config.h"
#include "mxu_decode.h"
#include "mxu_error.h"
#include "mxu_isa.h"
#include "random_program.h"

#define N_COUNTERS 13 /* CYCLES .. ACT_BUSY */

/* Under ASan every device costs tens of milliseconds (the model's memories get
 * shadow-poisoned), so sanitizer runs take a tenth of the random programs: they
 * check the C code paths, the plain run checks the hardware. */
#ifdef __SANITIZE_ADDRESS__
#define SAN_DIVISOR 10
#else
#define SAN_DIVISOR 1
#endif
#define RUN_LIMIT 5000000ull

/* ---- running one image on one backend --------------------------------------- */

struct job {
    const uint8_t *image;
    uint32_t image_bytes;
    const uint8_t *extra; /* optional second region (long programs) */
    uint32_t extra_addr, extra_bytes;
    uint32_t cmd_base, cmd_count;
    uint64_t max_cycles;
};

struct result {
    int open_rc, wait_rc;
    uint32_t status, err_code, err_pc;
    uint64_t counters[N_COUNTERS];
    uint8_t dram[RP_IMAGE_BYTES];
    char detail[300];
};

static mxu_hw_config config_of(const char *spec)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, spec), MXU_OK, "config %s: %s", spec, mxu_error_detail());
    return cfg;
}

static uint32_t csr(const struct mxu_backend_ops *ops, void *st, uint32_t off)
{
    uint32_t v = 0xDEADBEEF;
    int rc = ops->csr_read(st, off, &v);
    cr_assert_eq(rc, MXU_OK, "%s: csr_read 0x%x: %s", ops->name, off, mxu_error_detail());
    return v;
}

static void run_job(const struct mxu_backend_ops *ops, const mxu_hw_config *cfg, const char *options,
                    const struct job *j, struct result *r)
{
    memset(r, 0, sizeof *r);
    void *st = NULL;
    r->open_rc = ops->open(cfg, options, &st);
    if (r->open_rc) {
        snprintf(r->detail, sizeof r->detail, "%s", mxu_error_detail());
        return;
    }
    cr_assert_eq(ops->mem_write(st, 0, j->image, j->image_bytes), MXU_OK, "%s", mxu_error_detail());
    if (j->extra)
        cr_assert_eq(ops->mem_write(st, j->extra_addr, j->extra, j->extra_bytes), MXU_OK, "%s",
                     mxu_error_detail());
    cr_assert_eq(ops->csr_write(st, MXU_CSR_CMD_BASE, j->cmd_base), MXU_OK);
    cr_assert_eq(ops->csr_write(st, MXU_CSR_CMD_COUNT, j->cmd_count), MXU_OK);
    cr_assert_eq(ops->csr_write(st, MXU_CSR_CTRL, MXU_CTRL_START), MXU_OK);
    r->wait_rc = ops->wait(st, j->max_cycles ? j->max_cycles : RUN_LIMIT);
    snprintf(r->detail, sizeof r->detail, "%s", r->wait_rc ? mxu_error_detail() : "");
    if (r->wait_rc == MXU_OK) {
        r->status = csr(ops, st, MXU_CSR_STATUS);
        r->err_code = csr(ops, st, MXU_CSR_ERR_CODE);
        r->err_pc = csr(ops, st, MXU_CSR_ERR_PC);
        for (unsigned i = 0; i < N_COUNTERS; i++)
            r->counters[i] = csr(ops, st, MXU_CNT_CYCLES + 8 * i) |
                             (uint64_t)csr(ops, st, MXU_CNT_CYCLES + 8 * i + 4) << 32;
        cr_assert_eq(ops->mem_read(st, 0, r->dram, RP_IMAGE_BYTES), MXU_OK, "%s", mxu_error_detail());
    }
    ops->close(st);
}

static struct job job_of(const rp_program *p)
{
    struct job j = {p->image, RP_IMAGE_BYTES, NULL, 0, 0, RP_CODE_BASE, p->n_insns, 0};
    return j;
}

/* ---- comparing, minimizing, reporting ---------------------------------------- */

static long first_difference(const struct result *a, const struct result *b)
{
    for (uint32_t i = 0; i < RP_IMAGE_BYTES; i++)
        if (a->dram[i] != b->dram[i])
            return i;
    return -1;
}

static int same_outcome(const struct result *a, const struct result *b, int compare_dram)
{
    if (a->wait_rc || b->wait_rc)
        return 0;
    if (a->status != b->status || a->err_code != b->err_code || a->err_pc != b->err_pc)
        return 0;
    return !compare_dram || first_difference(a, b) < 0;
}

static unsigned env_unsigned(const char *name, unsigned fallback)
{
    const char *v = getenv(name);
    return v && *v ? (unsigned)strtoul(v, NULL, 0) : fallback;
}

static void write_report(const char *cfg_name, uint64_t seed, const char *text)
{
    const char *dir = getenv("MXU_BUILD");
    if (!dir)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/rtl-repro-%s-%llu.txt", dir, cfg_name, (unsigned long long)seed);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Shortest prefix (+FINISH) of p on which the two backends still disagree. */
static void minimize(const struct mxu_backend_ops *a_ops, const char *a_opt, const struct mxu_backend_ops *b_ops,
                     const char *b_opt, rp_program *p, int compare_dram, struct result *ra, struct result *rb)
{
    rp_program *t = malloc(sizeof *t);
    cr_assert_not_null(t);
    for (uint32_t k = 0; k + 1 < p->n_insns; k++) {
        *t = *p;
        memset(t->insns[k], 0, MXU_INSN_BYTES);
        mxu_insn_set(t->insns[k], MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_FINISH);
        t->n_insns = k + 1;
        rp_store_code(t);
        struct job j = job_of(t);
        run_job(a_ops, &p->cfg, a_opt, &j, ra);
        run_job(b_ops, &p->cfg, b_opt, &j, rb);
        if (!same_outcome(ra, rb, compare_dram)) {
            *p = *t;
            break;
        }
    }
    free(t);
}

static void report_mismatch(const char *what, const struct mxu_backend_ops *a_ops, const char *a_opt,
                            const struct mxu_backend_ops *b_ops, const char *b_opt, rp_program *p, uint64_t seed,
                            int compare_dram)
{
    struct result *ra = malloc(sizeof *ra), *rb = malloc(sizeof *rb);
    cr_assert(ra && rb);
    minimize(a_ops, a_opt, b_ops, b_opt, p, compare_dram, ra, rb);
    struct job j = job_of(p);
    run_job(a_ops, &p->cfg, a_opt, &j, ra);
    run_job(b_ops, &p->cfg, b_opt, &j, rb);
    char name[64], *text = malloc(65536);
    cr_assert_not_null(text);
    mxu_config_name(&p->cfg, name, sizeof name);
    size_t n = (size_t)snprintf(text, 65536,
                                "%s: %s (%s) vs %s (%s) on %s, seed %llu\n"
                                "%s: wait %d status 0x%x err_code %u err_pc %u %s\n"
                                "%s: wait %d status 0x%x err_code %u err_pc %u %s\n",
                                what, a_ops->name, a_opt ? a_opt : "", b_ops->name, b_opt ? b_opt : "", name,
                                (unsigned long long)seed, a_ops->name, ra->wait_rc, ra->status, ra->err_code,
                                ra->err_pc, ra->detail, b_ops->name, rb->wait_rc, rb->status, rb->err_code,
                                rb->err_pc, rb->detail);
    long d = first_difference(ra, rb);
    if (d >= 0 && n < 65536)
        n += (size_t)snprintf(text + n, 65536 - n, "first differing DRAM byte 0x%05lx: %s 0x%02x, %s 0x%02x\n", d,
                              a_ops->name, ra->dram[d], b_ops->name, rb->dram[d]);
    for (uint32_t i = 0; i < p->n_insns && n < 65000; i++) {
        char line[512];
        rp_disasm(p->insns[i], line, sizeof line);
        n += (size_t)snprintf(text + n, 65536 - n, "  %3u: %s\n", i, line);
    }
    write_report(name, seed, text);
    cr_log_error("%s", text);
    free(ra);
    free(rb);
    cr_assert_fail("%s mismatch on %s seed %llu (reproducer above)", what, name, (unsigned long long)seed);
}

/* Run p on both backends and demand the same outcome (and DRAM if asked). */
static void differential(const struct mxu_backend_ops *a_ops, const char *a_opt,
                         const struct mxu_backend_ops *b_ops, const char *b_opt, rp_program *p, uint64_t seed,
                         int compare_dram, struct result *ra, struct result *rb)
{
    struct job j = job_of(p);
    run_job(a_ops, &p->cfg, a_opt, &j, ra);
    cr_assert_eq(ra->open_rc, MXU_OK, "%s open: %s", a_ops->name, ra->detail);
    run_job(b_ops, &p->cfg, b_opt, &j, rb);
    cr_assert_eq(rb->open_rc, MXU_OK, "%s open: %s", b_ops->name, rb->detail);
    cr_assert_eq(ra->wait_rc, MXU_OK, "%s wait (seed %llu): %s", a_ops->name, (unsigned long long)seed, ra->detail);
    cr_assert_eq(rb->wait_rc, MXU_OK, "%s wait (seed %llu): %s", b_ops->name, (unsigned long long)seed, rb->detail);
    if (!same_outcome(ra, rb, compare_dram))
        report_mismatch("differential", a_ops, a_opt, b_ops, b_opt, p, seed, compare_dram);
}

/* The generator's programs must pass the shared decoder until FINISH. */
static void assert_well_formed(const rp_program *p)
{
    struct mxu_token_state tok = {{0}};
    for (uint32_t i = 0; i + 1 < p->n_insns; i++) {
        int e = mxu_decode_check(&p->cfg, p->insns[i], &tok);
        cr_assert_eq(e, MXU_DEVERR_OK, "generated instruction %u fails the decoder with %d", i, e);
    }
}

/* ---- (a) ID/config registers --------------------------------------------------- */

static void check_config_csrs(const char *spec)
{
    mxu_hw_config cfg = config_of(spec);
    void *st;
    int rc = mxu_backend_rtl.open(&cfg, NULL, &st);
    cr_assert_eq(rc, MXU_OK, "open rtl %s: %s", spec, mxu_error_detail());
    const struct mxu_backend_ops *o = &mxu_backend_rtl;
    cr_expect_eq(csr(o, st, MXU_CSR_ID), MXU_ID_MAGIC);
    cr_expect_eq(csr(o, st, MXU_CSR_VERSION), (MXU_ISA_VERSION_MAJOR << 16) | MXU_ISA_VERSION_MINOR);
    cr_expect_eq(csr(o, st, MXU_CSR_ROWS), cfg.rows);
    cr_expect_eq(csr(o, st, MXU_CSR_COLS), cfg.cols);
    cr_expect_eq(csr(o, st, MXU_CSR_UB_LINES), cfg.ub_lines);
    cr_expect_eq(csr(o, st, MXU_CSR_UB_LINE_BYTES), cfg.ub_line_bytes);
    cr_expect_eq(csr(o, st, MXU_CSR_ACC_ROWS), cfg.acc_rows);
    cr_expect_eq(csr(o, st, MXU_CSR_WB_LINES), cfg.wb_lines);
    cr_expect_eq(csr(o, st, MXU_CSR_PARAM_LINES), cfg.param_lines);
    cr_expect_eq(csr(o, st, MXU_CSR_DRAM_BYTES), cfg.dram_bytes);
    cr_expect_eq(csr(o, st, MXU_CSR_DRAM_BEAT_BYTES), cfg.dram_beat_bytes);
    cr_expect_eq(csr(o, st, MXU_CSR_QUEUE_DEPTH), cfg.queue_depth);
    cr_expect_eq(csr(o, st, MXU_CSR_TOKEN_MAX), cfg.token_max);
    cr_expect_eq(csr(o, st, MXU_CSR_STATUS) & (MXU_STATUS_BUSY | MXU_STATUS_DONE), 0u,
                 "idle after reset: neither busy nor done");
    o->csr_write(st, MXU_CSR_CMD_BASE, 0x1240);
    o->csr_write(st, MXU_CSR_CMD_COUNT, 77);
    cr_expect_eq(csr(o, st, MXU_CSR_CMD_BASE), 0x1240u);
    cr_expect_eq(csr(o, st, MXU_CSR_CMD_COUNT), 77u);
    o->close(st);
}

TestSuite(rtl_system, .timeout = 240);

Test(rtl_system, config_csrs_4x4) { check_config_csrs("4x4"); }
Test(rtl_system, config_csrs_8x8) { check_config_csrs("8x8"); }
Test(rtl_system, config_csrs_16x16) { check_config_csrs("16x16"); }
Test(rtl_system, config_csrs_8x16) { check_config_csrs("8x16"); }

/* ---- (b) random well-formed programs: RTL vs model ------------------------------- */

static void timing_options(rp_rng *r, const mxu_hw_config *cfg, char *buf, size_t len)
{
    static const uint32_t latencies[] = {1, 2, MXU_DEFAULT_DRAM_LATENCY, 37};
    uint32_t lat = latencies[rp_range(r, 0, 3)];
    uint32_t bw = cfg->dram_beat_bytes >> rp_range(r, 0, 2);
    snprintf(buf, len, "latency=%u,bw=%u", lat, bw ? bw : 1);
}

static void random_vs_model(const char *spec, unsigned programs, uint64_t seed0)
{
    mxu_hw_config cfg = config_of(spec);
    rp_program *p = malloc(sizeof *p);
    struct result *ra = malloc(sizeof *ra), *rb = malloc(sizeof *rb);
    cr_assert(p && ra && rb);
    uint64_t base = env_unsigned("MXU_RTL_SEED", 1) * 1000003ull + seed0;
    programs = env_unsigned("MXU_RTL_PROGRAMS", programs / SAN_DIVISOR);
    uint64_t vectors = 0;
    for (unsigned i = 0; i < programs; i++) {
        uint64_t seed = base + i;
        rp_rng r = {seed ^ 0x5eed};
        rp_generate(&cfg, seed, rp_range(&r, 4, 100), p);
        assert_well_formed(p);
        char opts[64];
        timing_options(&r, &cfg, opts, sizeof opts);
        differential(&mxu_backend_rtl, opts, &mxu_backend_model, opts, p, seed, 1, ra, rb);
        cr_assert_eq(ra->err_code, MXU_DEVERR_OK, "seed %llu: well-formed program reported %u at %u",
                     (unsigned long long)seed, ra->err_code, ra->err_pc);
        cr_assert_eq(ra->status & (MXU_STATUS_DONE | MXU_STATUS_ERROR), MXU_STATUS_DONE);
        cr_expect_eq(ra->counters[11], rb->counters[11], "seed %llu: INSNS rtl %llu, model %llu",
                     (unsigned long long)seed, (unsigned long long)ra->counters[11],
                     (unsigned long long)rb->counters[11]);
        cr_expect_eq(ra->counters[7], rb->counters[7], "seed %llu: ARRAY_VECTORS rtl %llu, model %llu",
                     (unsigned long long)seed, (unsigned long long)ra->counters[7],
                     (unsigned long long)rb->counters[7]);
        vectors += ra->counters[7];
    }
    cr_log_info("%s: %u random programs, %llu array vectors", spec, programs, (unsigned long long)vectors);
    cr_expect_gt(vectors, 0, "the programs exercised the array");
    free(p);
    free(ra);
    free(rb);
}

Test(rtl_system, random_programs_4x4) { random_vs_model("4x4", 200, 100000); }
Test(rtl_system, random_programs_8x8) { random_vs_model("8x8", 200, 200000); }
Test(rtl_system, random_programs_16x16) { random_vs_model("16x16", 150, 300000); }
Test(rtl_system, random_programs_8x16) { random_vs_model("8x16", 200, 400000); }

/* ---- (c) malformed programs ------------------------------------------------------ */

static void valid_load(uint64_t *w, unsigned mem)
{
    memset(w, 0, MXU_INSN_BYTES);
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_LOAD);
    MXU_SET(w, LOAD, MEM, mem);
    MXU_SET(w, LOAD, ELEM_BYTES, 1);
    MXU_SET(w, LOAD, DRAM_ADDR, RP_IN_BASE);
    MXU_SET(w, LOAD, N0, 1);
    MXU_SET(w, LOAD, N1, 1);
    MXU_SET(w, LOAD, N2, 1);
}

static void valid_store(uint64_t *w)
{
    memset(w, 0, MXU_INSN_BYTES);
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_STORE);
    MXU_SET(w, STORE, ELEM_BYTES, 1);
    MXU_SET(w, STORE, DRAM_ADDR, RP_OUT_BASE);
    MXU_SET(w, STORE, N0, 1);
    MXU_SET(w, STORE, N1, 1);
    MXU_SET(w, STORE, N2, 1);
}

static void valid_matmul(uint64_t *w)
{
    memset(w, 0, MXU_INSN_BYTES);
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_MATMUL);
    MXU_SET(w, MATMUL, N0, 1);
    MXU_SET(w, MATMUL, N1, 1);
    MXU_SET(w, MATMUL, NK, 1);
}

static void valid_activate(uint64_t *w)
{
    memset(w, 0, MXU_INSN_BYTES);
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_ACTIVATE);
    MXU_SET(w, ACTIVATE, IN_W, 1);
    MXU_SET(w, ACTIVATE, OUT_H, 1);
    MXU_SET(w, ACTIVATE, OUT_W, 1);
    MXU_SET(w, ACTIVATE, POOL_K, 1);
    MXU_SET(w, ACTIVATE, POOL_S, 1);
    MXU_SET(w, ACTIVATE, CLAMP_MIN, 0x80);
    MXU_SET(w, ACTIVATE, CLAMP_MAX, 0x7F);
}

/* Variant v of a bad instruction raising `code` (variants cycle). */
static void bad_insn(const mxu_hw_config *cfg, int code, unsigned v, rp_rng *r, uint64_t *w)
{
    switch (code) {
    case MXU_DEVERR_ILLEGAL_OPCODE:
        memset(w, 0, MXU_INSN_BYTES);
        w[0] = v % 2 ? 0 : rp_range(r, MXU_OP_FINISH + 1, MXU_OP_LIMIT - 1);
        w[1] = rp_next(r); /* garbage elsewhere must not matter */
        break;
    case MXU_DEVERR_RESERVED_BITS: {
        unsigned op = MXU_OP_LOAD + v % 5;
        switch (op) {
        case MXU_OP_LOAD: valid_load(w, MXU_MEM_UB); break;
        case MXU_OP_STORE: valid_store(w); break;
        case MXU_OP_MATMUL: valid_matmul(w); break;
        case MXU_OP_ACTIVATE: valid_activate(w); break;
        default: memset(w, 0, MXU_INSN_BYTES); w[0] = MXU_OP_FINISH; break;
        }
        for (;;) { /* a random reserved bit */
            unsigned bit = rp_range(r, 0, MXU_INSN_BITS - 1);
            if (mxu_isa_reserved[op][bit / 64] >> (bit % 64) & 1) {
                w[bit / 64] |= 1ull << (bit % 64);
                break;
            }
        }
        break;
    }
    case MXU_DEVERR_ILLEGAL_FIELD:
        switch (v % 8) {
        case 0: valid_load(w, MXU_MEM_UB); MXU_SET(w, LOAD, ELEM_BYTES, 0); break;
        case 1: valid_load(w, MXU_MEM_UB); MXU_SET(w, LOAD, MEM, rp_range(r, 4, 7)); break;
        case 2: valid_load(w, MXU_MEM_WB); MXU_SET(w, LOAD, ELEM_BYTES, cfg->cols + 1); break;
        case 3: valid_store(w); MXU_SET(w, STORE, N1, 0); break;
        case 4: valid_matmul(w); MXU_SET(w, MATMUL, KEEP_WEIGHTS, 1); MXU_SET(w, MATMUL, NK, 2); break;
        case 5: valid_matmul(w); MXU_SET(w, MATMUL, N0, 0); break;
        case 6: valid_activate(w); MXU_SET(w, ACTIVATE, CLAMP_MIN, 5); MXU_SET(w, ACTIVATE, CLAMP_MAX, 4); break;
        default: valid_activate(w); MXU_SET(w, ACTIVATE, POOL_K, 2); break; /* window wider than in_w */
        }
        break;
    case MXU_DEVERR_DRAM_RANGE:
        if (v % 2) {
            valid_load(w, MXU_MEM_UB);
            MXU_SET(w, LOAD, ELEM_BYTES, 4);
            MXU_SET(w, LOAD, DRAM_ADDR, cfg->dram_bytes - 3);
        } else {
            valid_store(w); /* the second row lands past the end */
            MXU_SET(w, STORE, N1, 2);
            MXU_SET(w, STORE, S1, cfg->dram_bytes - RP_OUT_BASE);
        }
        break;
    case MXU_DEVERR_UB_RANGE:
        switch (v % 4) {
        case 0: valid_load(w, MXU_MEM_UB); MXU_SET(w, LOAD, N0, 2); MXU_SET(w, LOAD, DST_LINE, cfg->ub_lines - 1); break;
        case 1: valid_store(w); MXU_SET(w, STORE, SRC_LINE, cfg->ub_lines); break;
        case 2: valid_matmul(w); MXU_SET(w, MATMUL, UB_ADDR, cfg->ub_lines); break;
        default: valid_activate(w); MXU_SET(w, ACTIVATE, OUT_H, 2); MXU_SET(w, ACTIVATE, IN_W, 2); MXU_SET(w, ACTIVATE, UB_ADDR, cfg->ub_lines - 1); break;
        }
        break;
    case MXU_DEVERR_WB_RANGE:
        if (v % 2) {
            valid_load(w, MXU_MEM_WB);
            MXU_SET(w, LOAD, DST_LINE, cfg->wb_lines);
        } else {
            valid_matmul(w);
            MXU_SET(w, MATMUL, WGT_LINE, cfg->wb_lines - cfg->rows + 1);
        }
        break;
    case MXU_DEVERR_ACC_RANGE:
        if (v % 2) {
            valid_matmul(w);
            MXU_SET(w, MATMUL, N0, 3);
            MXU_SET(w, MATMUL, ACC_ADDR, cfg->acc_rows - 2);
        } else {
            valid_activate(w);
            MXU_SET(w, ACTIVATE, ACC_ADDR, cfg->acc_rows);
        }
        break;
    case MXU_DEVERR_PARAM_RANGE:
        if (v % 2) {
            valid_activate(w);
            MXU_SET(w, ACTIVATE, PARAM_LINE, cfg->param_lines);
        } else {
            valid_load(w, MXU_MEM_PARAM);
            MXU_SET(w, LOAD, DST_LINE, cfg->param_lines);
        }
        break;
    case MXU_DEVERR_LUT_RANGE:
        valid_load(w, MXU_MEM_LUT);
        if (v % 2)
            MXU_SET(w, LOAD, DST_LINE, 1);
        else
            MXU_SET(w, LOAD, N0, 2);
        break;
    default:
        cr_assert_fail("no bad instruction for %d", code);
    }
}

/* Replace instruction k of a random program by a bad one; expect code at k. */
static void check_error_at(const mxu_hw_config *cfg, int code, unsigned v, uint64_t seed, rp_program *p,
                           struct result *ra, struct result *rb)
{
    rp_rng r = {seed};
    rp_generate(cfg, seed, rp_range(&r, 2, 12), p);
    unsigned k = rp_range(&r, 0, p->n_insns - 2);
    bad_insn(cfg, code, v, &r, p->insns[k]);
    rp_store_code(p);
    differential(&mxu_backend_rtl, NULL, &mxu_backend_model, NULL, p, seed, 1, ra, rb);
    cr_expect_eq(ra->err_code, (uint32_t)code, "code %d variant %u seed %llu: device says %u", code, v,
                 (unsigned long long)seed, ra->err_code);
    cr_expect_eq(ra->err_pc, k, "code %d variant %u: ERR_PC %u, bad instruction at %u", code, v, ra->err_pc, k);
    cr_expect_eq(ra->status & (MXU_STATUS_DONE | MXU_STATUS_ERROR), MXU_STATUS_DONE | MXU_STATUS_ERROR);
}

static void error_codes(const char *spec)
{
    mxu_hw_config cfg = config_of(spec);
    rp_program *p = malloc(sizeof *p);
    struct result *ra = malloc(sizeof *ra), *rb = malloc(sizeof *rb);
    cr_assert(p && ra && rb);
    static const int codes[] = {MXU_DEVERR_ILLEGAL_OPCODE, MXU_DEVERR_RESERVED_BITS, MXU_DEVERR_ILLEGAL_FIELD,
                                MXU_DEVERR_DRAM_RANGE,     MXU_DEVERR_UB_RANGE,      MXU_DEVERR_WB_RANGE,
                                MXU_DEVERR_ACC_RANGE,      MXU_DEVERR_PARAM_RANGE,   MXU_DEVERR_LUT_RANGE};
    unsigned variants[] = {2, 5, 8, 2, 4, 2, 2, 2, 2};
    uint64_t seed = 7000;
    for (unsigned c = 0; c < sizeof codes / sizeof codes[0]; c++)
        for (unsigned v = 0; v < variants[c]; v++)
            check_error_at(&cfg, codes[c], v, seed++, p, ra, rb);

    /* TOKEN: a pop with nothing pushed, as the first instruction */
    rp_generate(&cfg, seed, 6, p);
    valid_matmul(p->insns[0]);
    MXU_SET(p->insns[0], MATMUL, POP_NEXT, 1);
    rp_store_code(p);
    differential(&mxu_backend_rtl, NULL, &mxu_backend_model, NULL, p, seed, 1, ra, rb);
    cr_expect_eq(ra->err_code, MXU_DEVERR_TOKEN);
    cr_expect_eq(ra->err_pc, 0u);

    /* NO_FINISH: the stream ends before FINISH */
    rp_generate(&cfg, ++seed, 8, p);
    struct job j = job_of(p);
    j.cmd_count = p->n_insns - 1;
    run_job(&mxu_backend_rtl, &cfg, NULL, &j, ra);
    run_job(&mxu_backend_model, &cfg, NULL, &j, rb);
    cr_assert_eq(ra->wait_rc, MXU_OK, "%s", ra->detail);
    cr_expect_eq(ra->err_code, MXU_DEVERR_NO_FINISH);
    cr_expect_eq(ra->err_pc, j.cmd_count);
    cr_expect(same_outcome(ra, rb, 1), "NO_FINISH: rtl %u@%u, model %u@%u", ra->err_code, ra->err_pc, rb->err_code,
              rb->err_pc);

    /* CMD_RANGE: misaligned, then past the end of DRAM */
    for (int t = 0; t < 2; t++) {
        j = job_of(p);
        j.cmd_base = t ? cfg.dram_bytes - 32 * (j.cmd_count - 1) : RP_CODE_BASE + 16;
        run_job(&mxu_backend_rtl, &cfg, NULL, &j, ra);
        run_job(&mxu_backend_model, &cfg, NULL, &j, rb);
        cr_assert_eq(ra->wait_rc, MXU_OK, "%s", ra->detail);
        cr_expect_eq(ra->err_code, MXU_DEVERR_CMD_RANGE, "CMD_RANGE case %d: %u", t, ra->err_code);
        cr_expect_eq(ra->err_pc, 0u);
        cr_expect(same_outcome(ra, rb, 1), "CMD_RANGE case %d: rtl %u, model %u", t, ra->err_code, rb->err_code);
    }
    free(p);
    free(ra);
    free(rb);
}

Test(rtl_system, error_codes_8x8) { error_codes("8x8"); }
Test(rtl_system, error_codes_8x16) { error_codes("8x16"); }

/* TOKEN_MAX + 1 pushes on one channel without a pop: TOKEN at that instruction. */
Test(rtl_system, token_overflow)
{
    mxu_hw_config cfg = config_of("4x4,tokens=255");
    uint32_t n = cfg.token_max + 2; /* pushes 0..token_max, then FINISH */
    uint32_t code_addr = RP_IMAGE_BYTES;
    uint8_t *code = calloc(n, MXU_INSN_BYTES);
    cr_assert_not_null(code);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t w[MXU_INSN_WORDS];
        valid_load(w, MXU_MEM_UB);
        MXU_SET(w, LOAD, PUSH_NEXT, 1);
        if (i == n - 1) {
            memset(w, 0, sizeof w);
            w[0] = MXU_OP_FINISH;
        }
        for (unsigned b = 0; b < MXU_INSN_BYTES; b++)
            code[i * MXU_INSN_BYTES + b] = (uint8_t)(w[b / 8] >> (8 * (b % 8)));
    }
    rp_program *p = malloc(sizeof *p);
    struct result *ra = malloc(sizeof *ra), *rb = malloc(sizeof *rb);
    cr_assert(p && ra && rb);
    rp_generate(&cfg, 99, 1, p);
    struct job j = job_of(p);
    j.extra = code, j.extra_addr = code_addr, j.extra_bytes = n * MXU_INSN_BYTES;
    j.cmd_base = code_addr, j.cmd_count = n;
    run_job(&mxu_backend_rtl, &cfg, NULL, &j, ra);
    run_job(&mxu_backend_model, &cfg, NULL, &j, rb);
    cr_assert_eq(ra->wait_rc, MXU_OK, "%s", ra->detail);
    cr_expect_eq(ra->err_code, MXU_DEVERR_TOKEN);
    cr_expect_eq(ra->err_pc, cfg.token_max);
    cr_expect(same_outcome(ra, rb, 1), "rtl %u@%u, model %u@%u", ra->err_code, ra->err_pc, rb->err_code, rb->err_pc);
    free(code);
    free(p);
    free(ra);
    free(rb);
}

/* Random single-bit corruptions of valid programs: same code and PC; same DRAM
 * when the corrupted instruction was not dispatched (else it may race). */
static void corruptions(const char *spec, unsigned count, uint64_t seed0)
{
    mxu_hw_config cfg = config_of(spec);
    rp_program *p = malloc(sizeof *p);
    struct result *ra = malloc(sizeof *ra), *rb = malloc(sizeof *rb);
    cr_assert(p && ra && rb);
    unsigned errors = 0;
    count /= SAN_DIVISOR;
    for (unsigned i = 0; i < count; i++) {
        uint64_t seed = seed0 + i;
        rp_rng r = {seed * 31 + 7};
        rp_generate(&cfg, seed, rp_range(&r, 3, 16), p);
        unsigned k = rp_corrupt(p, &r);
        /* what the shared decoder expects */
        struct mxu_token_state tok = {{0}};
        uint32_t pc = 0;
        int expect = MXU_DEVERR_OK;
        for (; pc < p->n_insns; pc++) {
            expect = mxu_decode_check(&cfg, p->insns[pc], &tok);
            if (expect || mxu_insn_get(p->insns[pc], MXU_F_OP_POS, MXU_F_OP_BITS) == MXU_OP_FINISH)
                break;
        }
        if (pc == p->n_insns)
            expect = MXU_DEVERR_NO_FINISH;
        struct job j = job_of(p);
        run_job(&mxu_backend_rtl, &cfg, NULL, &j, ra);
        run_job(&mxu_backend_model, &cfg, NULL, &j, rb);
        cr_assert_eq(ra->wait_rc, MXU_OK, "seed %llu: %s", (unsigned long long)seed, ra->detail);
        int dispatched = expect == MXU_DEVERR_OK || pc > k;
        if (!same_outcome(ra, rb, !dispatched))
            report_mismatch("corruption", &mxu_backend_rtl, NULL, &mxu_backend_model, NULL, p, seed, !dispatched);
        cr_expect_eq(ra->err_code, (uint32_t)expect, "seed %llu: device %u, decoder %d", (unsigned long long)seed,
                     ra->err_code, expect);
        if (expect)
            cr_expect_eq(ra->err_pc, pc, "seed %llu", (unsigned long long)seed);
        errors += expect != MXU_DEVERR_OK;
    }
    cr_expect_gt(errors, count / 4, "most corruptions are errors (%u of %u)", errors, count);
    free(p);
    free(ra);
    free(rb);
}

Test(rtl_system, corruptions_4x4) { corruptions("4x4", 300, 10000); }
Test(rtl_system, corruptions_8x16) { corruptions("8x16", 200, 20000); }

/* ---- (d) Icarus vs Verilator ------------------------------------------------------ */

static void icarus_vs_verilator(uint64_t seed, unsigned target, const char *opts, int corrupt)
{
    mxu_hw_config cfg = config_of("4x4");
    rp_program *p = malloc(sizeof *p);
    struct result *ra = malloc(sizeof *ra), *rb = malloc(sizeof *rb);
    cr_assert(p && ra && rb);
    rp_generate(&cfg, seed, target, p);
    if (corrupt) { /* an illegal field in the middle: the prefix runs, then error */
        rp_rng r = {seed};
        bad_insn(&cfg, MXU_DEVERR_ILLEGAL_FIELD, 4, &r, p->insns[p->n_insns / 2]);
        rp_store_code(p);
    }
    differential(&mxu_backend_icarus, opts, &mxu_backend_rtl, opts, p, seed, 1, ra, rb);
    for (unsigned i = 0; i < N_COUNTERS; i++)
        cr_expect_eq(ra->counters[i], rb->counters[i], "counter 0x%x: icarus %llu, verilator %llu",
                     MXU_CNT_CYCLES + 8 * i, (unsigned long long)ra->counters[i],
                     (unsigned long long)rb->counters[i]);
    cr_expect_gt(ra->counters[0], 0, "CYCLES counted");
    cr_log_info("icarus = verilator: %llu cycles (%s)", (unsigned long long)ra->counters[0], opts);
    free(p);
    free(ra);
    free(rb);
}

Test(rtl_system, icarus_default_timing) { icarus_vs_verilator(42, 40, "latency=10", 0); }
Test(rtl_system, icarus_slow_dram) { icarus_vs_verilator(43, 30, "latency=3,bw=4", 0); }
Test(rtl_system, icarus_error_prefix) { icarus_vs_verilator(44, 10, "latency=1,bw=8", 1); }

/* ---- (e) timeouts and the backends' own errors ---------------------------------- */

/* A long MATMUL so a small cycle limit cannot finish it. */
static void long_program(const mxu_hw_config *cfg, rp_program *p)
{
    rp_generate(cfg, 5, 1, p);
    valid_matmul(p->insns[0]);
    MXU_SET(p->insns[0], MATMUL, N0, 200);
    MXU_SET(p->insns[0], MATMUL, N1, 4);
    memset(p->insns[1], 0, MXU_INSN_BYTES);
    p->insns[1][0] = MXU_OP_FINISH;
    p->n_insns = 2;
    rp_store_code(p);
}

Test(rtl_system, timeout_rtl)
{
    mxu_hw_config cfg = config_of("4x4");
    rp_program *p = malloc(sizeof *p);
    cr_assert_not_null(p);
    long_program(&cfg, p);
    void *st;
    cr_assert_eq(mxu_backend_rtl.open(&cfg, "max_cycles=50", &st), MXU_OK, "%s", mxu_error_detail());
    mxu_backend_rtl.mem_write(st, 0, p->image, RP_IMAGE_BYTES);
    mxu_backend_rtl.csr_write(st, MXU_CSR_CMD_BASE, RP_CODE_BASE);
    mxu_backend_rtl.csr_write(st, MXU_CSR_CMD_COUNT, p->n_insns);
    mxu_backend_rtl.csr_write(st, MXU_CSR_CTRL, MXU_CTRL_START);
    cr_expect_eq(mxu_backend_rtl.wait(st, 0), MXU_ERR_TIMEOUT, "option max_cycles=50");
    cr_expect(strstr(mxu_error_detail(), "not done") != NULL, "detail: %s", mxu_error_detail());
    cr_expect_eq(mxu_backend_rtl.wait(st, 30), MXU_ERR_TIMEOUT, "explicit limit");
    uint32_t status;
    mxu_backend_rtl.csr_read(st, MXU_CSR_STATUS, &status);
    cr_expect(status & MXU_STATUS_BUSY, "still busy");
    cr_expect_eq(mxu_backend_rtl.wait(st, 1000000), MXU_OK, "then it finishes: %s", mxu_error_detail());
    mxu_backend_rtl.csr_read(st, MXU_CSR_STATUS, &status);
    cr_expect_eq(status & (MXU_STATUS_DONE | MXU_STATUS_ERROR), MXU_STATUS_DONE);
    mxu_backend_rtl.close(st);
    free(p);
}

Test(rtl_system, timeout_icarus)
{
    mxu_hw_config cfg = config_of("4x4");
    rp_program *p = malloc(sizeof *p);
    struct result *r = malloc(sizeof *r);
    cr_assert(p && r);
    long_program(&cfg, p);
    struct job j = job_of(p);
    j.max_cycles = 40;
    run_job(&mxu_backend_icarus, &cfg, NULL, &j, r);
    cr_assert_eq(r->open_rc, MXU_OK, "%s", r->detail);
    cr_expect_eq(r->wait_rc, MXU_ERR_TIMEOUT, "detail: %s", r->detail);
    free(p);
    free(r);
}

Test(rtl_system, backend_option_errors)
{
    mxu_hw_config cfg = config_of("4x4");
    void *st = NULL;
    const char *bad[] = {"latency=0", "bw=17", "bogus=1", "latency", "trace_from=9,trace_to=3,trace=x.fst",
                         "max_cycles=abc"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(mxu_backend_rtl.open(&cfg, bad[i], &st), MXU_ERR_INVAL, "rtl '%s'", bad[i]);
        cr_expect_eq(mxu_backend_icarus.open(&cfg, i == 4 ? "timeout=0" : bad[i], &st), MXU_ERR_INVAL,
                     "icarus '%s'", bad[i]);
    }
    cr_assert_eq(mxu_backend_rtl.open(&cfg, "latency=3,bw=2", &st), MXU_OK, "%s", mxu_error_detail());
    uint32_t v;
    uint8_t b[4] = {0};
    cr_expect_eq(mxu_backend_rtl.csr_read(st, 0x2, &v), MXU_ERR_RANGE);
    cr_expect_eq(mxu_backend_rtl.csr_write(st, 0x1000, 1), MXU_ERR_RANGE);
    cr_expect_eq(mxu_backend_rtl.mem_write(st, cfg.dram_bytes - 2, b, 4), MXU_ERR_RANGE);
    cr_expect_eq(mxu_backend_rtl.mem_read(st, cfg.dram_bytes - 4, b, 4), MXU_OK);
    mxu_backend_rtl.close(st);
    cr_assert_eq(mxu_backend_icarus.open(&cfg, NULL, &st), MXU_OK, "%s", mxu_error_detail());
    cr_expect_eq(mxu_backend_icarus.mem_write(st, 5u << 20, b, 4), MXU_ERR_RANGE, "beyond the 4 MiB testbench");
    cr_expect_eq(mxu_backend_icarus.csr_read(st, MXU_CSR_ROWS, &v), MXU_OK, "probe run: %s", mxu_error_detail());
    cr_expect_eq(v, 4u);
    mxu_backend_icarus.close(st);
}

/* A library of another configuration under the expected name is refused. */
Test(rtl_system, rtl_config_mismatch)
{
    char dir[] = "/tmp/mxu-rtl-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char sub[128], link[160], target[600];
    snprintf(sub, sizeof sub, "%s/8x8", dir);
    snprintf(link, sizeof link, "%s/libmxu_rtl.so", sub);
    mxu_hw_config four = config_of("4x4"), eight = config_of("8x8");
    mxu_sim_dir(&four, "MXU_NO_SUCH_VARIABLE", "rtl", target, sizeof target);
    strcat(target, "/libmxu_rtl.so");
    cr_assert_eq(mkdir(sub, 0777), 0);
    cr_assert_eq(symlink(target, link), 0);
    setenv("MXU_RTL_DIR", dir, 1);
    void *st = NULL;
    int rc = mxu_backend_rtl.open(&eight, NULL, &st);
    cr_expect_eq(rc, MXU_ERR_CONFIG, "rc %d: %s", rc, mxu_error_detail());
    cr_expect(strstr(mxu_error_detail(), "rows=4") != NULL, "detail names the built config: %s",
              mxu_error_detail());
    unlink(link);
    rmdir(sub);
    rmdir(dir);
}

/* A failing build reports MXU_ERR_BACKEND with make's last lines; a missing vvp
 * binary is a clear error, not a hang. */
Test(rtl_system, build_and_tool_errors)
{
    char dir[] = "/tmp/mxu-build-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof file, "%s/never.so", dir);
    int rc = mxu_sim_ensure_built("test", file, dir, "no-such-target-xyz", "RTL_DIR", "", NULL, NULL);
    cr_expect_eq(rc, MXU_ERR_BACKEND);
    cr_expect(strstr(mxu_error_detail(), "no-such-target-xyz") != NULL, "detail: %s", mxu_error_detail());
    const char *left[] = {"build.log", ".build.lock", "params-plain"};
    for (unsigned i = 0; i < 3; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s/%s", dir, left[i]);
        unlink(path);
    }
    cr_expect_eq(rmdir(dir), 0, "nothing else left in %s", dir);

    mxu_hw_config cfg = config_of("4x4");
    rp_program *p = malloc(sizeof *p);
    struct result *r = malloc(sizeof *r);
    cr_assert(p && r);
    rp_generate(&cfg, 1, 3, p);
    setenv("PATH", "/nonexistent", 1);
    struct job j = job_of(p);
    run_job(&mxu_backend_icarus, &cfg, NULL, &j, r);
    cr_assert_eq(r->open_rc, MXU_OK, "the vvp file exists: %s", r->detail);
    cr_expect_eq(r->wait_rc, MXU_ERR_BACKEND);
    cr_expect(strstr(r->detail, "vvp") != NULL, "detail: %s", r->detail);
    free(p);
    free(r);
}

/* FST tracing of a cycle window (needs build/rtl/4x4/libmxu_rtl_trace.so, which
 * `make test` does not build: skipped without it). A wider window writes more. */
static long traced_bytes(const rp_program *p, const char *path, unsigned from, unsigned to)
{
    char opts[256];
    snprintf(opts, sizeof opts, "trace=%s,trace_from=%u,trace_to=%u", path, from, to);
    struct job j = job_of(p);
    struct result *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    run_job(&mxu_backend_rtl, &p->cfg, opts, &j, r);
    cr_assert_eq(r->open_rc, MXU_OK, "%s", r->detail);
    cr_assert_eq(r->wait_rc, MXU_OK, "%s", r->detail);
    free(r);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s written", path);
    unlink(path);
    return (long)st.st_size;
}

Test(rtl_system, trace_window)
{
    mxu_hw_config cfg = config_of("4x4");
    char lib[700];
    mxu_sim_dir(&cfg, "MXU_RTL_DIR", "rtl", lib, sizeof lib);
    strcat(lib, "/libmxu_rtl_trace.so");
    if (access(lib, R_OK))
        cr_skip_test("%s not built (make %s)", lib, lib);
    rp_program *p = malloc(sizeof *p);
    cr_assert_not_null(p);
    rp_generate(&cfg, 3, 30, p);
    char path[] = "/tmp/mxu-trace-test-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    long small = traced_bytes(p, path, 10, 20), large = traced_bytes(p, path, 10, 400);
    cr_expect_gt(small, 0);
    cr_expect_gt(large, small + 1000, "400 cycles (%ld bytes) vs 10 cycles (%ld bytes)", large, small);
    free(p);
}
