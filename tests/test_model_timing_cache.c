/* The C model's cache of cycle estimates (sim/model/timing_cache.c): a run
 * answered from the cache gives the same 13 counters and per-opcode cycles as
 * a replay; any change of an input of the cycle model (instruction words,
 * CMD_BASE, CMD_COUNT, fetched count, configuration, DRAM latency or bandwidth)
 * misses; a run that ends in a device error never goes through the cache; a
 * matching hash alone is never trusted. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"
#include "mxu_model.h"
#include "mxu_model_priv.h"
#include "rtl/random_program.h"

#define N_COUNTERS 13 /* CYCLES .. ACT_BUSY */

TestSuite(model_timing_cache, .timeout = 120);

struct outcome {
    uint32_t status, err_code, err_pc;
    uint64_t counters[N_COUNTERS];
    struct mxu_model_stats stats;
};

static mxu_hw_config config_of(const char *spec)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, spec), MXU_OK, "config %s: %s", spec, mxu_error_detail());
    return cfg;
}

static mxu_model *open_model(const mxu_hw_config *cfg, const char *options)
{
    mxu_model *m = NULL;
    cr_assert_eq(mxu_model_create(cfg, options, &m), MXU_OK, "%s: %s", options, mxu_error_detail());
    return m;
}

static uint32_t csr(mxu_model *m, uint32_t offset)
{
    uint32_t v = 0;
    cr_assert_eq(mxu_model_csr_read(m, offset, &v), MXU_OK, "%s", mxu_error_detail());
    return v;
}

/* Run `count` instructions at `base` of the DRAM image `image` (bytes at 0). */
static struct outcome run_image(mxu_model *m, const uint8_t *image, size_t bytes, uint32_t base, uint32_t count)
{
    struct outcome o;
    memset(&o, 0, sizeof o);
    cr_assert_eq(mxu_model_mem_write(m, 0, image, bytes), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CMD_BASE, base), MXU_OK);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CMD_COUNT, count), MXU_OK);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CTRL, MXU_CTRL_START), MXU_OK, "%s", mxu_error_detail());
    o.status = csr(m, MXU_CSR_STATUS);
    o.err_code = csr(m, MXU_CSR_ERR_CODE);
    o.err_pc = csr(m, MXU_CSR_ERR_PC);
    for (unsigned i = 0; i < N_COUNTERS; i++)
        o.counters[i] = csr(m, MXU_CNT_CYCLES + 8 * i) | (uint64_t)csr(m, MXU_CNT_CYCLES + 8 * i + 4) << 32;
    mxu_model_get_stats(m, &o.stats);
    return o;
}

static struct outcome run_program(mxu_model *m, const rp_program *p)
{
    return run_image(m, p->image, sizeof p->image, RP_CODE_BASE, p->n_insns);
}

static void expect_same_p(const struct outcome *a, const struct outcome *b, const char *what)
{
    cr_expect_eq(a->status, b->status, "%s: STATUS", what);
    cr_expect_eq(a->err_code, b->err_code, "%s: ERR_CODE", what);
    cr_expect_eq(a->err_pc, b->err_pc, "%s: ERR_PC", what);
    for (unsigned i = 0; i < N_COUNTERS; i++)
        cr_expect_eq(a->counters[i], b->counters[i], "%s: counter 0x%x: %llu vs %llu", what,
                     MXU_CNT_CYCLES + 8 * i, (unsigned long long)a->counters[i],
                     (unsigned long long)b->counters[i]);
    cr_expect_eq(memcmp(&a->stats, &b->stats, sizeof a->stats), 0, "%s: per-opcode statistics", what);
}

static void expect_same(struct outcome a, struct outcome b, const char *what)
{
    expect_same_p(&a, &b, what);
}

static struct mxu_model_cache_stats cache_stats(const mxu_model *m)
{
    struct mxu_model_cache_stats s;
    mxu_model_get_cache_stats(m, &s);
    return s;
}

/* Random well-formed programs on several arrays and DRAM timings: the second
 * run of each (a cache hit, with other input data) equals a replay. */
Test(model_timing_cache, random_programs_cached_equal_replayed)
{
    static const struct {
        const char *arch, *dram;
    } setups[] = {{"rows=16,cols=16", ""}, {"rows=4,cols=4", "bw=5,latency=23"}, {"rows=8,cols=16", "bw=8,latency=1"}};
    static rp_program p;
    for (size_t s = 0; s < sizeof setups / sizeof *setups; s++) {
        mxu_hw_config cfg = config_of(setups[s].arch);
        char off[64];
        snprintf(off, sizeof off, "%s%stiming_cache=0", setups[s].dram, *setups[s].dram ? "," : "");
        mxu_model *cached = open_model(&cfg, setups[s].dram), *replay = open_model(&cfg, off);
        unsigned hits = 0;
        for (unsigned i = 0; i < 40; i++) {
            rp_generate(&cfg, 900 + 100 * s + i, 10 + i * 2, &p);
            struct outcome first = run_program(cached, &p);
            rp_rng rng = {i + 1};
            for (unsigned b = 0; b < RP_IN_BYTES; b++) /* other data: cycles must not change */
                p.image[RP_IN_BASE + b] = (uint8_t)rp_next(&rng);
            struct outcome again = run_program(cached, &p), ref = run_program(replay, &p);
            cr_assert_eq(ref.err_code, MXU_DEVERR_OK, "seed %u is well formed", 900 + 100 * (unsigned)s + i);
            cr_assert_gt(ref.counters[0], 0, "CYCLES counted");
            char what[96];
            snprintf(what, sizeof what, "%s %s seed %u", setups[s].arch, setups[s].dram, 900 + 100 * (unsigned)s + i);
            expect_same(first, ref, what);
            expect_same(again, ref, what);
            hits++;
        }
        struct mxu_model_cache_stats cs = cache_stats(cached), rs = cache_stats(replay);
        cr_expect_eq(cs.hits, hits, "every second run was a hit (%llu)", (unsigned long long)cs.hits);
        cr_expect_eq(cs.misses, hits, "every first run was a miss");
        cr_expect_eq(rs.hits + rs.misses, 0, "timing_cache=0 never looks up");
        cr_expect_eq(rs.bypassed, hits, "timing_cache=0 replays every run");
        mxu_model_destroy(cached);
        mxu_model_destroy(replay);
    }
}

/* The same code at another CMD_BASE, or with a larger CMD_COUNT (instructions
 * after FINISH are fetched but never run), is another run of the cycle model. */
Test(model_timing_cache, changed_base_or_count_misses)
{
    mxu_hw_config cfg = config_of("rows=8,cols=8");
    mxu_model *cached = open_model(&cfg, "latency=3"), *replay = open_model(&cfg, "latency=3,timing_cache=0");
    static rp_program p;
    static uint8_t moved[RP_IMAGE_BYTES + 0x1000];
    rp_generate(&cfg, 77, 30, &p);
    struct outcome a = run_program(cached, &p);
    expect_same(a, run_program(replay, &p), "original");

    memset(moved, 0, sizeof moved);
    memcpy(moved, p.image, sizeof p.image);
    uint32_t base2 = RP_IMAGE_BYTES + 0x20; /* the code again, 32 bytes past a beat boundary */
    memcpy(moved + base2, p.image + RP_CODE_BASE, (size_t)p.n_insns * MXU_INSN_BYTES);
    struct outcome b = run_image(cached, moved, sizeof moved, base2, p.n_insns);
    cr_expect_eq(cache_stats(cached).hits, 0, "another CMD_BASE is not a hit");
    expect_same(b, run_image(replay, moved, sizeof moved, base2, p.n_insns), "moved");

    struct outcome c = run_image(cached, p.image, sizeof p.image, RP_CODE_BASE, p.n_insns + 2);
    cr_expect_eq(cache_stats(cached).hits, 0, "another CMD_COUNT is not a hit");
    cr_expect_gt(c.counters[0], 0);
    expect_same(c, run_image(replay, p.image, sizeof p.image, RP_CODE_BASE, p.n_insns + 2), "longer count");

    expect_same(run_program(cached, &p), a, "original again");
    cr_expect_eq(cache_stats(cached).hits, 1, "the original is still cached");
    mxu_model_destroy(cached);
    mxu_model_destroy(replay);
}

/* A changed instruction misses even when the program stays well formed. */
Test(model_timing_cache, changed_code_misses)
{
    mxu_hw_config cfg = config_of("rows=16,cols=16");
    mxu_model *cached = open_model(&cfg, NULL), *replay = open_model(&cfg, "timing_cache=0");
    static rp_program p;
    rp_generate(&cfg, 4242, 40, &p);
    run_program(cached, &p);
    int changed = 0;
    for (unsigned i = 0; i < p.n_insns && !changed; i++) {
        uint64_t *insn = p.insns[i];
        if (mxu_insn_get(insn, MXU_F_OP_POS, MXU_F_OP_BITS) != MXU_OP_LOAD)
            continue;
        /* the source further into DRAM: the same lines, other beats */
        MXU_SET(insn, LOAD, DRAM_ADDR, MXU_GET(insn, LOAD, DRAM_ADDR) + cfg.dram_beat_bytes - 1);
        changed = 1;
    }
    cr_assert(changed, "the program has a LOAD to move");
    rp_store_code(&p);
    struct outcome b = run_program(cached, &p), ref = run_program(replay, &p);
    cr_assert_eq(ref.err_code, MXU_DEVERR_OK, "still well formed (err %u)", ref.err_code);
    cr_expect_eq(cache_stats(cached).hits, 0, "changed code is not a hit");
    expect_same(b, ref, "changed LOAD address");
    mxu_model_destroy(cached);
    mxu_model_destroy(replay);
}

/* Runs that end in a device error (a corrupted instruction, NO_FINISH,
 * CMD_RANGE) are replayed every time and give the replay's counters. */
Test(model_timing_cache, erroring_runs_are_not_cached)
{
    mxu_hw_config cfg = config_of("rows=8,cols=8");
    mxu_model *cached = open_model(&cfg, "bw=4"), *replay = open_model(&cfg, "bw=4,timing_cache=0");
    static rp_program p;
    unsigned errors = 0;
    for (unsigned i = 0; i < 40; i++) {
        rp_generate(&cfg, 5000 + i, 20 + i, &p);
        rp_rng rng = {i * 7 + 3};
        rp_corrupt(&p, &rng);
        rp_store_code(&p);
        struct outcome ref = run_program(replay, &p);
        for (int k = 0; k < 2; k++)
            expect_same(run_program(cached, &p), ref, "corrupted");
        errors += ref.err_code != MXU_DEVERR_OK;
    }
    cr_assert_gt(errors, 10, "most corruptions are errors (%u)", errors);
    rp_generate(&cfg, 6000, 30, &p);
    for (int k = 0; k < 2; k++) {
        struct outcome nf = run_image(cached, p.image, sizeof p.image, RP_CODE_BASE, p.n_insns - 1);
        cr_expect_eq(nf.err_code, MXU_DEVERR_NO_FINISH);
        expect_same(nf, run_image(replay, p.image, sizeof p.image, RP_CODE_BASE, p.n_insns - 1), "no finish");
        struct outcome cr = run_image(cached, p.image, sizeof p.image, RP_CODE_BASE + 4, p.n_insns);
        cr_expect_eq(cr.err_code, MXU_DEVERR_CMD_RANGE);
    }
    struct mxu_model_cache_stats s = cache_stats(cached);
    unsigned expected_bypass = 2 * errors + 4;
    cr_expect_eq(s.bypassed, expected_bypass, "error runs bypass the cache: %llu, expected %u",
                 (unsigned long long)s.bypassed, expected_bypass);
    cr_expect_eq(s.hits, 40 - errors, "only the error-free corrupted programs hit (their second run)");
    mxu_model_destroy(cached);
    mxu_model_destroy(replay);
}

/* ---- the key, on the cache itself ---------------------------------------------------------- */

/* The trace of a run of p on m (the model's private trace). */
static struct mxu_timing_insn *trace_of(mxu_model *m, const rp_program *p, size_t *n)
{
    run_program(m, p);
    *n = m->n_trace;
    struct mxu_timing_insn *t = malloc(*n * sizeof *t);
    cr_assert_not_null(t);
    memcpy(t, m->trace, *n * sizeof *t);
    return t;
}

static struct mxu_timing_result direct(const struct mxu_timing_params *p, const struct mxu_timing_insn *t, size_t n,
                                       size_t n_fetch)
{
    struct mxu_timing_result r;
    cr_assert_eq(mxu_timing_run(p, t, n, n_fetch, &r), MXU_OK);
    return r;
}

/* Each input of mxu_timing_run, changed alone, misses; the result always
 * equals the direct replay's, and the unchanged key still hits. */
Test(model_timing_cache, every_input_is_in_the_key)
{
    mxu_hw_config cfg = config_of("rows=8,cols=8");
    mxu_model *m = open_model(&cfg, "timing_cache=0");
    static rp_program p;
    rp_generate(&cfg, 31337, 40, &p);
    size_t n;
    struct mxu_timing_insn *t = trace_of(m, &p, &n);
    mxu_hw_config cfg_q = cfg;
    cfg_q.queue_depth /= 2;
    struct mxu_timing_params base = {&cfg, 10, cfg.dram_beat_bytes, RP_CODE_BASE, p.n_insns};
    struct variant {
        const char *what;
        struct mxu_timing_params p;
        size_t n_fetch;
        int flip; /* change a MATMUL's n0 */
    } vs[] = {
        {"latency", {&cfg, 11, cfg.dram_beat_bytes, RP_CODE_BASE, p.n_insns}, n, 0},
        {"bw", {&cfg, 10, cfg.dram_beat_bytes / 2, RP_CODE_BASE, p.n_insns}, n, 0},
        {"queue depth", {&cfg_q, 10, cfg.dram_beat_bytes, RP_CODE_BASE, p.n_insns}, n, 0},
        {"cmd_base", {&cfg, 10, cfg.dram_beat_bytes, RP_CODE_BASE + 32, p.n_insns}, n, 0},
        {"cmd_count", {&cfg, 10, cfg.dram_beat_bytes, RP_CODE_BASE, p.n_insns + 1}, n, 0},
        {"n_fetch", base, n + 1, 0},
        {"instruction bits", base, n, 1},
    };
    struct mxu_timing_cache *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    struct mxu_timing_result r, want = direct(&base, t, n, n);
    cr_assert_eq(mxu_timing_run_cached(c, &base, t, n, n, &r), MXU_OK);
    cr_expect_eq(memcmp(&r, &want, sizeof r), 0, "miss = direct");
    cr_assert_eq(mxu_timing_run_cached(c, &base, t, n, n, &r), MXU_OK);
    cr_expect_eq(memcmp(&r, &want, sizeof r), 0, "hit = direct");
    cr_expect_eq(c->hits, 1);
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++) {
        /* one more vector in a MATMUL: a changed program the cycle model can run */
        size_t k = 0;
        while (vs[i].flip && k < n && t[k].op != MXU_OP_MATMUL)
            k++;
        cr_assert_lt(k, n, "the program has a MATMUL");
        uint64_t n0 = MXU_GET(t[k].insn, MATMUL, N0);
        if (vs[i].flip)
            MXU_SET(t[k].insn, MATMUL, N0, n0 + 1);
        uint64_t hits = c->hits;
        struct mxu_timing_result d = direct(&vs[i].p, t, n, vs[i].n_fetch);
        cr_assert_eq(mxu_timing_run_cached(c, &vs[i].p, t, n, vs[i].n_fetch, &r), MXU_OK);
        cr_expect_eq(c->hits, hits, "%s changed: no hit", vs[i].what);
        cr_expect_eq(memcmp(&r, &d, sizeof r), 0, "%s changed: the replay's result", vs[i].what);
        if (vs[i].flip)
            MXU_SET(t[k].insn, MATMUL, N0, n0);
    }
    cr_assert_eq(mxu_timing_run_cached(c, &base, t, n, n, &r), MXU_OK);
    cr_expect_eq(c->hits, 2, "the original key still hits");
    cr_expect_eq(memcmp(&r, &want, sizeof r), 0);
    mxu_timing_cache_clear(c);
    free(c);
    free(t);
    mxu_model_destroy(m);
}

/* An entry whose hash matches but whose stored instructions differ is not
 * used: lookups compare the whole key. */
Test(model_timing_cache, equal_hash_is_not_enough)
{
    mxu_hw_config cfg = config_of("rows=4,cols=4");
    mxu_model *m = open_model(&cfg, NULL);
    static rp_program p;
    rp_generate(&cfg, 99, 30, &p);
    struct outcome a = run_program(m, &p);
    struct mxu_timing_cache_entry *e = NULL;
    for (unsigned i = 0; i < MXU_TIMING_CACHE_ENTRIES; i++)
        if (m->timing_cache.e[i].trace)
            e = &m->timing_cache.e[i];
    cr_assert_not_null(e, "the run was stored");
    e->trace[e->n_records / 2].insn[1] ^= 1; /* a "collision": same hash, other key */
    e->result.cycles += 1000;
    struct outcome b = run_program(m, &p);
    expect_same(b, a, "after the forged entry");
    cr_expect_eq(cache_stats(m).hits, 0, "the forged entry is not used");
    struct outcome c = run_program(m, &p);
    expect_same(c, a, "the restored entry");
    cr_expect_eq(cache_stats(m).hits, 1);
    mxu_model_destroy(m);
}

/* More distinct programs than entries: the least recently used is evicted,
 * and every result stays the replay's. */
Test(model_timing_cache, eviction_keeps_results_exact)
{
    mxu_hw_config cfg = config_of("rows=4,cols=4");
    mxu_model *cached = open_model(&cfg, NULL), *replay = open_model(&cfg, "timing_cache=0");
    static rp_program p;
    const unsigned n = MXU_TIMING_CACHE_ENTRIES + 4;
    for (unsigned round = 0; round < 2; round++)
        for (unsigned i = 0; i < n; i++) {
            rp_generate(&cfg, 7000 + i, 12, &p);
            expect_same(run_program(cached, &p), run_program(replay, &p), "evicting");
        }
    struct mxu_model_cache_stats s = cache_stats(cached);
    cr_expect_eq(s.hits, 0, "a cyclic sweep over more programs than entries always misses under LRU");
    cr_expect_eq(s.misses, 2 * n);
    rp_generate(&cfg, 7000 + n - 1, 12, &p);
    run_program(cached, &p);
    cr_expect_eq(cache_stats(cached).hits, 1, "the most recent one is cached");
    mxu_model_destroy(cached);
    mxu_model_destroy(replay);
}

Test(model_timing_cache, option_is_checked)
{
    mxu_hw_config cfg = config_of("rows=4,cols=4");
    mxu_model *m = NULL;
    cr_expect_eq(mxu_model_create(&cfg, "timing_cache=2", &m), MXU_ERR_INVAL);
    cr_expect_null(m);
    cr_expect_eq(mxu_model_create(&cfg, "timing_cache=", &m), MXU_ERR_INVAL);
    cr_assert_eq(mxu_model_create(&cfg, "timing=0,timing_cache=1", &m), MXU_OK, "%s", mxu_error_detail());
    static rp_program p;
    rp_generate(&cfg, 5, 20, &p);
    struct outcome o = run_program(m, &p);
    cr_expect_eq(o.counters[0], 0, "timing=0: no CYCLES");
    struct mxu_model_cache_stats s = cache_stats(m);
    cr_expect_eq(s.hits + s.misses + s.bypassed, 0, "timing=0 never times");
    mxu_model_destroy(m);
}
