/* The C model: every instruction's semantics against values computed here from
 * docs/isa.md's pseudo-code, every error code with its ERR_PC and the valid
 * prefix's memory, CSRs, options, counters and the cycle estimate's rules. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_backend.h"
#include "mxu_config.h"
#include "mxu_error.h"
#include "mxu_model.h"
#include "mxu_model_priv.h" /* to set and inspect on-chip memories directly */
#include "mxu_numerics.h"

typedef uint64_t insn_t[MXU_INSN_WORDS];

struct prog {
    insn_t w[64];
    unsigned n;
};

#define CODE 0xF0000u /* code address in the 1 MiB test DRAM */

static mxu_model *make(const char *spec, const char *options)
{
    mxu_hw_config c;
    mxu_config_default(&c);
    cr_assert_eq(mxu_config_parse(&c, "dram=1M"), MXU_OK);
    cr_assert_eq(mxu_config_parse(&c, spec), MXU_OK, "%s", mxu_error_detail());
    mxu_model *m;
    cr_assert_eq(mxu_model_create(&c, options, &m), MXU_OK, "%s", mxu_error_detail());
    return m;
}

static uint64_t *add(struct prog *p, unsigned op)
{
    cr_assert_lt(p->n, 64);
    uint64_t *w = p->w[p->n++];
    memset(w, 0, sizeof(insn_t));
    w[0] = op;
    return w;
}

static uint64_t *ld(struct prog *p, unsigned mem, unsigned elem, uint32_t dram, uint32_t dst, unsigned n0, unsigned n1,
                    unsigned n2, uint32_t s0, uint32_t s1, uint32_t s2)
{
    uint64_t *w = add(p, MXU_OP_LOAD);
    MXU_SET(w, LOAD, MEM, mem);
    MXU_SET(w, LOAD, ELEM_BYTES, elem);
    MXU_SET(w, LOAD, DRAM_ADDR, dram);
    MXU_SET(w, LOAD, DST_LINE, dst);
    MXU_SET(w, LOAD, N0, n0);
    MXU_SET(w, LOAD, N1, n1);
    MXU_SET(w, LOAD, N2, n2);
    MXU_SET(w, LOAD, S0, s0);
    MXU_SET(w, LOAD, S1, s1);
    MXU_SET(w, LOAD, S2, s2);
    return w;
}

static uint64_t *st(struct prog *p, unsigned elem, uint32_t dram, uint32_t src, unsigned n0, unsigned n1, unsigned n2,
                    uint32_t s0, uint32_t s1, uint32_t s2)
{
    uint64_t *w = add(p, MXU_OP_STORE);
    MXU_SET(w, STORE, ELEM_BYTES, elem);
    MXU_SET(w, STORE, DRAM_ADDR, dram);
    MXU_SET(w, STORE, SRC_LINE, src);
    MXU_SET(w, STORE, N0, n0);
    MXU_SET(w, STORE, N1, n1);
    MXU_SET(w, STORE, N2, n2);
    MXU_SET(w, STORE, S0, s0);
    MXU_SET(w, STORE, S1, s1);
    MXU_SET(w, STORE, S2, s2);
    return w;
}

static uint64_t *mm(struct prog *p, uint32_t wgt, uint32_t ub, unsigned n0, unsigned n1, uint32_t s0, uint32_t s1,
                    uint32_t acc, unsigned nk, uint32_t k_stride)
{
    uint64_t *w = add(p, MXU_OP_MATMUL);
    MXU_SET(w, MATMUL, WGT_LINE, wgt);
    MXU_SET(w, MATMUL, UB_ADDR, ub);
    MXU_SET(w, MATMUL, N0, n0);
    MXU_SET(w, MATMUL, N1, n1);
    MXU_SET(w, MATMUL, S0, s0);
    MXU_SET(w, MATMUL, S1, s1);
    MXU_SET(w, MATMUL, ACC_ADDR, acc);
    MXU_SET(w, MATMUL, NK, nk);
    MXU_SET(w, MATMUL, K_STRIDE, k_stride);
    return w;
}

static uint64_t *act(struct prog *p, uint32_t param, uint32_t ub, uint32_t acc, unsigned in_w, unsigned out_h,
                     unsigned out_w, unsigned pk, unsigned ps, int zp, int lo, int hi)
{
    uint64_t *w = add(p, MXU_OP_ACTIVATE);
    MXU_SET(w, ACTIVATE, PARAM_LINE, param);
    MXU_SET(w, ACTIVATE, UB_ADDR, ub);
    MXU_SET(w, ACTIVATE, ACC_ADDR, acc);
    MXU_SET(w, ACTIVATE, IN_W, in_w);
    MXU_SET(w, ACTIVATE, OUT_H, out_h);
    MXU_SET(w, ACTIVATE, OUT_W, out_w);
    MXU_SET(w, ACTIVATE, POOL_K, pk);
    MXU_SET(w, ACTIVATE, POOL_S, ps);
    MXU_SET(w, ACTIVATE, ZP_OUT, (uint8_t)zp);
    MXU_SET(w, ACTIVATE, CLAMP_MIN, (uint8_t)lo);
    MXU_SET(w, ACTIVATE, CLAMP_MAX, (uint8_t)hi);
    return w;
}

static void fin(struct prog *p)
{
    add(p, MXU_OP_FINISH);
}

static uint32_t csr(mxu_model *m, uint32_t off)
{
    uint32_t v;
    cr_assert_eq(mxu_model_csr_read(m, off, &v), MXU_OK, "csr 0x%x: %s", off, mxu_error_detail());
    return v;
}

static uint64_t counter(mxu_model *m, uint32_t off)
{
    return csr(m, off) | (uint64_t)csr(m, off + 4) << 32;
}

static void put_insns(mxu_model *m, const struct prog *p, uint32_t base)
{
    for (unsigned i = 0; i < p->n; i++)
        for (unsigned b = 0; b < MXU_INSN_BYTES; b++)
            mxu_model_dram(m)[base + 32 * i + b] = (uint8_t)(p->w[i][b / 8] >> (8 * (b % 8)));
}

/* Run p at base with CMD_COUNT = count; returns ERR_CODE. */
static uint32_t run_at(mxu_model *m, const struct prog *p, uint32_t base, uint32_t count)
{
    put_insns(m, p, base);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CMD_BASE, base), MXU_OK);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CMD_COUNT, count), MXU_OK);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CTRL, MXU_CTRL_START), MXU_OK);
    uint32_t err = csr(m, MXU_CSR_ERR_CODE);
    cr_assert_eq(csr(m, MXU_CSR_STATUS), MXU_STATUS_DONE | (err ? MXU_STATUS_ERROR : 0));
    return err;
}

static void run_ok(mxu_model *m, const struct prog *p)
{
    uint32_t err = run_at(m, p, CODE, p->n);
    cr_assert_eq(err, 0, "ERR_CODE %u at %u", err, csr(m, MXU_CSR_ERR_PC));
}

static void fill_pattern(mxu_model *m, uint32_t from, uint32_t bytes)
{
    for (uint32_t i = 0; i < bytes; i++)
        mxu_model_dram(m)[from + i] = (uint8_t)(i * 7 + 3);
}

static void fill_random(int8_t *p, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++)
        p[i] = (int8_t)(rand() % 256 - 128);
}

/* ---- LOAD ------------------------------------------------------------------ */

Test(model, load_3d_strides_and_padding)
{
    mxu_model *m = make("", NULL);
    fill_pattern(m, 0, 4096);
    struct prog p = {.n = 0};
    /* s0 < elem: neighbouring elements overlap */
    uint64_t *w = ld(&p, MXU_MEM_UB, 5, 100, 7, 3, 2, 2, 3, 40, 300);
    MXU_SET(w, LOAD, PAD_LEFT, 1);
    MXU_SET(w, LOAD, PAD_RIGHT, 2);
    MXU_SET(w, LOAD, PAD_TOP, 1);
    MXU_SET(w, LOAD, PAD_BOTTOM, 1);
    MXU_SET(w, LOAD, PAD_VALUE, (uint8_t)-3);
    fin(&p);
    run_ok(m, &p);

    const uint8_t *dram = mxu_model_dram(m);
    const uint8_t *ub = (const uint8_t *)m->ub;
    unsigned line = 7;
    for (int pl = 0; pl < 2; pl++)
        for (int r = -1; r < 3; r++)
            for (int e = -1; e < 5; e++, line++) {
                for (unsigned b = 0; b < 16; b++) {
                    uint8_t want = 0xFD;
                    if (r >= 0 && r < 2 && e >= 0 && e < 3 && b < 5)
                        want = dram[100 + pl * 300 + r * 40 + e * 3 + b];
                    cr_assert_eq(ub[line * 16 + b], want, "line %u byte %u", line, b);
                }
            }
    cr_assert_eq(line, 7 + 2 * 4 * 6);
    for (unsigned b = 0; b < 16; b++) {
        cr_assert_eq(ub[6 * 16 + b], 0);
        cr_assert_eq(ub[line * 16 + b], 0);
    }
    mxu_model_destroy(m);
}

Test(model, load_wb_param_lut)
{
    mxu_model *m = make("", NULL);
    fill_pattern(m, 0, 4096);
    struct prog p = {.n = 0};
    ld(&p, MXU_MEM_WB, 16, 64, 20, 2, 1, 1, 16, 0, 0);
    uint64_t *w = ld(&p, MXU_MEM_PARAM, 100, 512, 3, 1, 1, 1, 0, 0, 0);
    MXU_SET(w, LOAD, PAD_VALUE, 0x11);
    ld(&p, MXU_MEM_LUT, 256, 1024, 0, 1, 1, 1, 0, 0, 0);
    fin(&p);
    run_ok(m, &p);
    const uint8_t *dram = mxu_model_dram(m);
    for (unsigned i = 0; i < 32; i++)
        cr_assert_eq((uint8_t)m->wb[20 * 16 + i], dram[64 + i]);
    cr_assert_eq(m->wb[19 * 16 + 15], 0);
    cr_assert_eq(m->wb[22 * 16], 0);
    const uint8_t *param = m->param + 3 * 16 * 12;
    for (unsigned i = 0; i < 192; i++)
        cr_assert_eq(param[i], i < 100 ? dram[512 + i] : 0x11, "param byte %u", i);
    for (unsigned i = 0; i < 256; i++)
        cr_assert_eq((uint8_t)m->lut[i], dram[1024 + i]);
    mxu_model_destroy(m);
}

/* ---- STORE ----------------------------------------------------------------- */

Test(model, store_strides)
{
    mxu_model *m = make("", NULL);
    for (unsigned l = 0; l < 64; l++)
        for (unsigned b = 0; b < 16; b++)
            m->ub[l * 16 + b] = (int8_t)(l * 16 + b);
    struct prog p = {.n = 0};
    st(&p, 3, 1000, 4, 2, 2, 2, 5, 20, 100);
    st(&p, 3, 2000, 10, 4, 1, 1, 2, 0, 0); /* overlapping: later elements win */
    fin(&p);
    run_ok(m, &p);

    uint8_t want[4096] = {0};
    unsigned line = 4;
    for (int pl = 0; pl < 2; pl++)
        for (int r = 0; r < 2; r++)
            for (int e = 0; e < 2; e++, line++)
                for (int b = 0; b < 3; b++)
                    want[1000 + pl * 100 + r * 20 + e * 5 + b] = (uint8_t)(line * 16 + b);
    for (unsigned e = 0; e < 4; e++)
        for (unsigned b = 0; b < 3; b++)
            want[2000 + e * 2 + b] = (uint8_t)((10 + e) * 16 + b);
    cr_assert_eq(memcmp(mxu_model_dram(m), want, sizeof want), 0);
    cr_assert_eq(want[2000 + 2], (uint8_t)(11 * 16 + 0));
    mxu_model_destroy(m);
}

/* ---- MATMUL ---------------------------------------------------------------- */

/* ACC rows a MATMUL computes, from docs/isa.md's loop (tile = WB line). */
static void ref_matmul(const mxu_model *m, int32_t *acc, uint32_t wgt, uint32_t ub, unsigned n0, unsigned n1,
                       uint32_t s0, uint32_t s1, uint32_t acc_addr, unsigned nk, uint32_t k_stride, int accumulate,
                       const int8_t *kept)
{
    unsigned R = m->cfg.rows, C = m->cfg.cols, lw = m->cfg.ub_line_bytes;
    for (unsigned k = 0; k < nk; k++)
        for (unsigned i1 = 0; i1 < n1; i1++)
            for (unsigned i0 = 0; i0 < n0; i0++) {
                const int8_t *x = m->ub + (ub + k * k_stride + i1 * s1 + i0 * s0) * lw;
                int32_t *row = acc + (acc_addr + i1 * n0 + i0) * C;
                for (unsigned c = 0; c < C; c++) {
                    int32_t y = 0;
                    for (unsigned r = 0; r < R; r++) {
                        int8_t wv = kept ? kept[r * C + c] : m->wb[(wgt + k * R + r) * C + c];
                        y += x[r] * wv;
                    }
                    row[c] = k == 0 && !accumulate ? y : (int32_t)((uint32_t)row[c] + (uint32_t)y);
                }
            }
}

static void matmul_cases(const char *spec)
{
    mxu_model *m = make(spec, NULL);
    unsigned R = m->cfg.rows, C = m->cfg.cols;
    fill_random(m->ub, (size_t)m->cfg.ub_lines * m->cfg.ub_line_bytes, 1);
    fill_random(m->wb, (size_t)m->cfg.wb_lines * C, 2);
    size_t acc_n = (size_t)m->cfg.acc_rows * C;
    int32_t *want = calloc(acc_n, sizeof *want);

    struct prog p = {.n = 0};
    /* overwrite, strided pattern */
    mm(&p, R, 3, 3, 2, 2, 10, 5, 1, 0);
    fin(&p);
    run_ok(m, &p);
    ref_matmul(m, want, R, 3, 3, 2, 2, 10, 5, 1, 0, 0, NULL);
    cr_assert_eq(memcmp(m->acc, want, acc_n * sizeof *want), 0, "overwrite");

    /* accumulate with two tiles and a k_stride */
    p.n = 0;
    uint64_t *w = mm(&p, 2 * R, 40, 2, 3, 1, 5, 5, 2, 50);
    MXU_SET(w, MATMUL, ACCUMULATE, 1);
    fin(&p);
    run_ok(m, &p);
    ref_matmul(m, want, 2 * R, 40, 2, 3, 1, 5, 5, 2, 50, 1, NULL);
    cr_assert_eq(memcmp(m->acc, want, acc_n * sizeof *want), 0, "accumulate nk=2");

    /* overwrite with two tiles: the first overwrites, the second adds */
    p.n = 0;
    mm(&p, 5 * R, 7, 6, 1, 3, 0, 100, 2, 1);
    fin(&p);
    run_ok(m, &p);
    ref_matmul(m, want, 5 * R, 7, 6, 1, 3, 0, 100, 2, 1, 0, NULL);
    cr_assert_eq(memcmp(m->acc, want, acc_n * sizeof *want), 0, "overwrite nk=2");

    /* keep_weights reuses the last tile of the previous MATMUL (tile 1 above);
     * wgt_line is ignored */
    p.n = 0;
    w = mm(&p, 0xffff, 200, 4, 1, 1, 0, 300, 1, 0);
    MXU_SET(w, MATMUL, KEEP_WEIGHTS, 1);
    fin(&p);
    run_ok(m, &p);
    ref_matmul(m, want, 0, 200, 4, 1, 1, 0, 300, 1, 0, 0, m->wb + (5 * R + R) * C);
    cr_assert_eq(memcmp(m->acc, want, acc_n * sizeof *want), 0, "keep_weights");
    free(want);
    mxu_model_destroy(m);
}

Test(model, matmul_square)
{
    matmul_cases("");
}

Test(model, matmul_non_square)
{
    matmul_cases("rows=8,cols=20");
    matmul_cases("rows=24,cols=4");
}

Test(model, matmul_keep_weights_after_reset_is_zero_and_acc_wraps)
{
    mxu_model *m = make("", NULL);
    for (unsigned c = 0; c < 16; c++)
        m->acc[c] = 123;
    fill_random(m->ub, 256, 3);
    struct prog p = {.n = 0};
    uint64_t *w = mm(&p, 0, 0, 1, 1, 0, 0, 0, 1, 0);
    MXU_SET(w, MATMUL, KEEP_WEIGHTS, 1);
    fin(&p);
    run_ok(m, &p);
    for (unsigned c = 0; c < 16; c++)
        cr_assert_eq(m->acc[c], 0);

    /* x = 127 everywhere, W = 127: y = 16 * 16129 per column; INT32_MAX + y wraps */
    memset(m->ub, 127, 16);
    memset(m->wb, 127, 256);
    for (unsigned c = 0; c < 16; c++)
        m->acc[c] = INT32_MAX;
    p.n = 0;
    w = mm(&p, 0, 0, 1, 1, 0, 0, 0, 1, 0);
    MXU_SET(w, MATMUL, ACCUMULATE, 1);
    fin(&p);
    run_ok(m, &p);
    for (unsigned c = 0; c < 16; c++)
        cr_assert_eq(m->acc[c], INT32_MIN + 16 * 16129 - 1);
    mxu_model_destroy(m);
}

/* ---- ACTIVATE -------------------------------------------------------------- */

static void put_le32(uint8_t *p, int32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)((uint32_t)v >> (8 * i));
}

/* A 4-channel PARAM line at DRAM 0 and a LUT (lut[i] = 127 - i) at DRAM 256. */
static const int32_t bias[4] = {4, -10, 100, 0};
static const int32_t qm[4] = {1 << 30, 1 << 30, 1 << 30, 1518500250};
static const int32_t shift[4] = {0, 1, -2, -1};

static mxu_model *activate_setup(struct prog *p)
{
    /* 8x4: UB lines (8 bytes) are wider than COLS, so the tail must read 0 */
    mxu_model *m = make("rows=8,cols=4", NULL);
    uint8_t *d = mxu_model_dram(m);
    for (int c = 0; c < 4; c++) {
        put_le32(d + 12 * c, bias[c]);
        put_le32(d + 12 * c + 4, qm[c]);
        put_le32(d + 12 * c + 8, shift[c]);
    }
    for (int i = 0; i < 256; i++)
        d[256 + i] = (uint8_t)(127 - i);
    for (unsigned r = 0; r < 64; r++)
        for (unsigned c = 0; c < 4; c++)
            m->acc[r * 4 + c] = (int32_t)((r * 37 + c * 101) % 400) - 200;
    memset(m->ub, 0x55, (size_t)m->cfg.ub_lines * m->cfg.ub_line_bytes);
    p->n = 0;
    ld(p, MXU_MEM_PARAM, 48, 0, 2, 1, 1, 1, 0, 0, 0);
    ld(p, MXU_MEM_LUT, 256, 256, 0, 1, 1, 1, 0, 0, 0);
    return m;
}

static void check_activate(const mxu_model *m, uint32_t ub, uint32_t acc, unsigned in_w, unsigned out_h,
                           unsigned out_w, unsigned pk, unsigned ps, int zp, int lo, int hi, const int8_t *lut)
{
    for (unsigned py = 0; py < out_h; py++)
        for (unsigned px = 0; px < out_w; px++) {
            const int8_t *line = m->ub + (ub + py * out_w + px) * 8;
            for (unsigned c = 0; c < 4; c++) {
                int best = -1000;
                for (unsigned dy = 0; dy < pk; dy++)
                    for (unsigned dx = 0; dx < pk; dx++) {
                        int32_t a = m->acc[(acc + (py * ps + dy) * in_w + px * ps + dx) * 4 + c];
                        int v = mxu_activate(a, bias[c], qm[c], shift[c], zp, lo, hi, lut);
                        if (v > best)
                            best = v;
                    }
                cr_assert_eq(line[c], best, "py %u px %u c %u", py, px, c);
            }
            for (unsigned b = 4; b < 8; b++)
                cr_assert_eq(line[b], 0, "tail byte %u", b);
        }
    /* the line after the output is untouched */
    cr_assert_eq(m->ub[(ub + out_h * out_w) * 8], 0x55);
}

Test(model, activate_requant_zp_clamp)
{
    struct prog p;
    mxu_model *m = activate_setup(&p);
    act(&p, 2, 10, 0, 6, 2, 6, 1, 1, 3, -128, 127);
    fin(&p);
    m->acc[0] = 10; /* (10 + 4) * 0.5 + 3 = 10 */
    m->acc[1] = 30; /* ((30 - 10) * 2) * 0.5 + 3 = 23 */
    m->acc[2] = 0;  /* (0 + 100) * 0.5 = 50, / 4 = 12.5 rounds away from zero: 13, + 3 = 16 */
    run_ok(m, &p);
    cr_assert_eq(m->ub[10 * 8 + 0], 10);
    cr_assert_eq(m->ub[10 * 8 + 1], 23);
    cr_assert_eq(m->ub[10 * 8 + 2], 16);
    check_activate(m, 10, 0, 6, 2, 6, 1, 1, 3, -128, 127, NULL);

    /* ReLU6-style clamp after the zero point */
    p.n = 0;
    act(&p, 2, 30, 0, 6, 2, 6, 1, 1, 0, 0, 6);
    fin(&p);
    run_ok(m, &p);
    check_activate(m, 30, 0, 6, 2, 6, 1, 1, 0, 0, 6, NULL);
    int clamped = 0;
    for (unsigned i = 0; i < 12; i++)
        for (unsigned c = 0; c < 4; c++) {
            int8_t v = m->ub[(30 + i) * 8 + c];
            cr_assert(v >= 0 && v <= 6);
            clamped += v == 0 || v == 6;
        }
    cr_assert_gt(clamped, 0);
    mxu_model_destroy(m);
}

Test(model, activate_lut)
{
    struct prog p;
    mxu_model *m = activate_setup(&p);
    uint64_t *w = act(&p, 2, 0, 3, 5, 1, 5, 1, 1, -7, -100, 100);
    MXU_SET(w, ACTIVATE, LUT_EN, 1);
    fin(&p);
    run_ok(m, &p);
    int8_t lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = (int8_t)(127 - i);
    check_activate(m, 0, 3, 5, 1, 5, 1, 1, -7, -100, 100, lut);
    /* lut[y + 128] = -1 - y */
    int8_t y = mxu_activate(m->acc[3 * 4], bias[0], qm[0], shift[0], -7, -100, 100, NULL);
    cr_assert_eq(m->ub[0], -1 - y);
    mxu_model_destroy(m);
}

Test(model, activate_maxpool_2x2_and_3x3)
{
    struct prog p;
    mxu_model *m = activate_setup(&p);
    act(&p, 2, 100, 1, 4, 2, 2, 2, 2, 0, -128, 127);  /* 4x4 tile -> 2x2 */
    act(&p, 2, 200, 20, 5, 2, 2, 3, 2, 1, -128, 127); /* 5-wide tile, 3x3 s2 -> 2x2 */
    act(&p, 2, 300, 0, 7, 2, 3, 3, 2, 0, -128, 127);  /* 7 = (3-1)*2 + 3 */
    fin(&p);
    run_ok(m, &p);
    check_activate(m, 100, 1, 4, 2, 2, 2, 2, 0, -128, 127, NULL);
    check_activate(m, 200, 20, 5, 2, 2, 3, 2, 1, -128, 127, NULL);
    check_activate(m, 300, 0, 7, 2, 3, 3, 2, 0, -128, 127, NULL);
    /* by hand: the max of the first 2x2 window of channel 0 */
    int best = -128;
    const unsigned rows[4] = {1, 2, 5, 6};
    for (int i = 0; i < 4; i++) {
        int v = mxu_activate(m->acc[rows[i] * 4], bias[0], qm[0], shift[0], 0, -128, 127, NULL);
        best = v > best ? v : best;
    }
    cr_assert_eq(m->ub[100 * 8], best);
    mxu_model_destroy(m);
}

/* ---- whole programs, tokens ------------------------------------------------ */

Test(model, conv_like_pipeline_with_tokens)
{
    mxu_model *m = make("", NULL);
    uint8_t *d = mxu_model_dram(m);
    /* x: 4 vectors of 16 at 0; W: identity tile at 4096; PARAM: bias 0, qm 2^30 shift 1 (x1) */
    for (int i = 0; i < 64; i++)
        d[i] = (uint8_t)(i - 32);
    for (int r = 0; r < 16; r++)
        d[4096 + r * 16 + r] = 1;
    for (int c = 0; c < 16; c++) {
        put_le32(d + 8192 + 12 * c + 4, 1 << 30);
        put_le32(d + 8192 + 12 * c + 8, 1);
    }
    struct prog p = {.n = 0};
    ld(&p, MXU_MEM_UB, 16, 0, 0, 4, 1, 1, 16, 0, 0);
    ld(&p, MXU_MEM_WB, 16, 4096, 0, 16, 1, 1, 16, 0, 0);
    uint64_t *w = ld(&p, MXU_MEM_PARAM, 192, 8192, 0, 1, 1, 1, 0, 0, 0);
    MXU_SET(w, LOAD, PUSH_NEXT, 1);
    w = mm(&p, 0, 0, 4, 1, 1, 0, 0, 1, 0);
    MXU_SET(w, MATMUL, POP_PREV, 1);
    w = act(&p, 0, 100, 0, 4, 1, 4, 1, 1, 0, -128, 127);
    MXU_SET(w, ACTIVATE, PUSH_NEXT, 1);
    w = st(&p, 16, 65536, 100, 4, 1, 1, 16, 0, 0);
    MXU_SET(w, STORE, POP_PREV, 1);
    fin(&p);
    run_ok(m, &p);
    for (int i = 0; i < 64; i++)
        cr_assert_eq((int8_t)d[65536 + i], i - 32, "byte %d", i);
    cr_assert_eq(counter(m, MXU_CNT_INSNS), 7);
    cr_assert_eq(counter(m, MXU_CNT_ARRAY_VECTORS), 4);
    cr_assert_gt(counter(m, MXU_CNT_CYCLES), 0);
    cr_assert_gt(counter(m, MXU_CNT_COMPUTE_WAIT), 0); /* the MATMUL waited for the loads */
    cr_assert_gt(counter(m, MXU_CNT_STORE_WAIT), 0);
    struct mxu_model_stats s;
    mxu_model_get_stats(m, &s);
    cr_assert_eq(s.insns[MXU_OP_LOAD], 3);
    cr_assert_eq(s.insns[MXU_OP_MATMUL], 1);
    cr_assert_eq(s.insns[MXU_OP_FINISH], 1);
    cr_assert_eq(s.macs, 4 * 256);
    cr_assert_gt(s.cycles[MXU_OP_LOAD], 0);
    cr_assert_geq(s.cycles[MXU_OP_MATMUL], 4);
    mxu_model_destroy(m);
}

/* ---- errors ---------------------------------------------------------------- */

enum bad_kind {
    BAD_OPCODE, BAD_RESERVED, BAD_FIELD_LOAD, BAD_FIELD_STORE, BAD_FIELD_MATMUL, BAD_FIELD_ACT_POOL,
    BAD_FIELD_CLAMP, BAD_DRAM, BAD_UB, BAD_WB, BAD_ACC, BAD_PARAM, BAD_LUT, BAD_TOKEN, N_BAD
};

static int add_bad(struct prog *p, enum bad_kind kind, const mxu_hw_config *c)
{
    uint64_t *w;
    switch (kind) {
    case BAD_OPCODE: add(p, 7); return MXU_DEVERR_ILLEGAL_OPCODE;
    case BAD_RESERVED: w = ld(p, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0); w[0] |= 1u << 4;
        return MXU_DEVERR_RESERVED_BITS;
    case BAD_FIELD_LOAD: ld(p, 0, 17, 0, 0, 1, 1, 1, 0, 0, 0); return MXU_DEVERR_ILLEGAL_FIELD;
    case BAD_FIELD_STORE: st(p, 0, 0, 0, 1, 1, 1, 0, 0, 0); return MXU_DEVERR_ILLEGAL_FIELD;
    case BAD_FIELD_MATMUL: w = mm(p, 0, 0, 1, 1, 0, 0, 0, 2, 0); MXU_SET(w, MATMUL, KEEP_WEIGHTS, 1);
        return MXU_DEVERR_ILLEGAL_FIELD;
    case BAD_FIELD_ACT_POOL: act(p, 0, 0, 0, 3, 1, 2, 2, 2, 0, -128, 127); return MXU_DEVERR_ILLEGAL_FIELD;
    case BAD_FIELD_CLAMP: act(p, 0, 0, 0, 1, 1, 1, 1, 1, 0, 5, 4); return MXU_DEVERR_ILLEGAL_FIELD;
    case BAD_DRAM: ld(p, 0, 16, c->dram_bytes - 15, 0, 1, 1, 1, 0, 0, 0); return MXU_DEVERR_DRAM_RANGE;
    case BAD_UB: st(p, 1, 0, c->ub_lines, 1, 1, 1, 0, 0, 0); return MXU_DEVERR_UB_RANGE;
    case BAD_WB: mm(p, c->wb_lines - c->rows + 1, 0, 1, 1, 0, 0, 0, 1, 0); return MXU_DEVERR_WB_RANGE;
    case BAD_ACC: mm(p, 0, 0, 2, 1, 0, 0, c->acc_rows - 1, 1, 0); return MXU_DEVERR_ACC_RANGE;
    case BAD_PARAM: act(p, c->param_lines, 0, 0, 1, 1, 1, 1, 1, 0, -128, 127); return MXU_DEVERR_PARAM_RANGE;
    case BAD_LUT: ld(p, MXU_MEM_LUT, 1, 0, 1, 1, 1, 1, 0, 0, 0); return MXU_DEVERR_LUT_RANGE;
    case BAD_TOKEN: w = mm(p, 0, 0, 1, 1, 0, 0, 0, 1, 0); MXU_SET(w, MATMUL, POP_PREV, 1);
        return MXU_DEVERR_TOKEN;
    default: return -1;
    }
}

Test(model, every_error_stops_after_the_valid_prefix)
{
    for (int kind = 0; kind < N_BAD; kind++) {
        mxu_model *m = make("", NULL);
        fill_pattern(m, 0, 64);
        struct prog p = {.n = 0};
        ld(&p, MXU_MEM_UB, 16, 0, 0, 1, 1, 1, 0, 0, 0); /* valid prefix: copy 16 bytes to 5000 */
        st(&p, 16, 5000, 0, 1, 1, 1, 0, 0, 0);
        int want = add_bad(&p, (enum bad_kind)kind, &m->cfg);
        st(&p, 16, 6000, 0, 1, 1, 1, 0, 0, 0); /* never runs */
        fin(&p);
        uint32_t err = run_at(m, &p, CODE, p.n);
        cr_assert_eq(err, (uint32_t)want, "kind %d: ERR_CODE %u, want %d", kind, err, want);
        cr_assert_eq(csr(m, MXU_CSR_ERR_PC), 2, "kind %d", kind);
        cr_assert_eq(csr(m, MXU_CSR_STATUS), MXU_STATUS_DONE | MXU_STATUS_ERROR);
        const uint8_t *d = mxu_model_dram(m);
        for (int i = 0; i < 16; i++) {
            cr_assert_eq(d[5000 + i], d[i], "kind %d: prefix effect missing", kind);
            cr_assert_eq(d[6000 + i], 0, "kind %d: instruction after the error ran", kind);
        }
        cr_assert_eq(counter(m, MXU_CNT_INSNS), 2);
        cr_assert_gt(counter(m, MXU_CNT_CYCLES), 0);
        mxu_model_destroy(m);
    }
}

Test(model, token_overflow_past_token_max)
{
    mxu_model *m = make("tokens=2", NULL);
    struct prog p = {.n = 0};
    for (int i = 0; i < 3; i++) {
        uint64_t *w = ld(&p, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0);
        MXU_SET(w, LOAD, PUSH_NEXT, 1);
    }
    fin(&p);
    cr_assert_eq(run_at(m, &p, CODE, p.n), MXU_DEVERR_TOKEN);
    cr_assert_eq(csr(m, MXU_CSR_ERR_PC), 2);
    /* consuming one in between keeps the program well formed */
    p.n = 2;
    mm(&p, 0, 0, 1, 1, 0, 0, 0, 1, 0)[0] |= 1u << MXU_F_MATMUL_POP_PREV_POS;
    uint64_t *w = ld(&p, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0);
    MXU_SET(w, LOAD, PUSH_NEXT, 1);
    fin(&p);
    cr_assert_eq(run_at(m, &p, CODE, p.n), 0);
    mxu_model_destroy(m);
}

Test(model, cmd_range_and_no_finish)
{
    mxu_model *m = make("", NULL);
    uint32_t dram = m->cfg.dram_bytes;
    struct prog p = {.n = 0};
    fin(&p);
    /* misaligned */
    cr_assert_eq(run_at(m, &p, CODE + 16, 1), MXU_DEVERR_CMD_RANGE);
    cr_assert_eq(csr(m, MXU_CSR_ERR_PC), 0);
    cr_assert_eq(counter(m, MXU_CNT_INSNS), 0);
    /* the last slot of DRAM is fine; one instruction more is not */
    cr_assert_eq(run_at(m, &p, dram - 32, 1), 0);
    cr_assert_eq(run_at(m, &p, dram - 32, 2), MXU_DEVERR_CMD_RANGE);
    /* base + 32 * count is computed without overflow */
    cr_assert_eq(run_at(m, &p, 0, 0xffffffffu), MXU_DEVERR_CMD_RANGE);
    cr_assert_eq(run_at(m, &p, 0, dram / 32), 0);
    cr_assert_eq(run_at(m, &p, 0, dram / 32 + 1), MXU_DEVERR_CMD_RANGE);
    mxu_model_destroy(m);
}

Test(model, no_finish_runs_everything_then_reports_count)
{
    mxu_model *m = make("", NULL);
    fill_pattern(m, 0, 64);
    struct prog p = {.n = 0};
    ld(&p, MXU_MEM_UB, 16, 0, 0, 1, 1, 1, 0, 0, 0);
    st(&p, 16, 5000, 0, 1, 1, 1, 0, 0, 0);
    cr_assert_eq(run_at(m, &p, CODE, 2), MXU_DEVERR_NO_FINISH);
    cr_assert_eq(csr(m, MXU_CSR_ERR_PC), 2);
    cr_assert_eq(memcmp(mxu_model_dram(m) + 5000, mxu_model_dram(m), 16), 0);
    cr_assert_eq(run_at(m, &p, CODE, 0), MXU_DEVERR_NO_FINISH);
    cr_assert_eq(csr(m, MXU_CSR_ERR_PC), 0);
    /* a later good run clears the error */
    fin(&p);
    cr_assert_eq(run_at(m, &p, CODE, 3), 0);
    cr_assert_eq(csr(m, MXU_CSR_ERR_PC), 0);
    mxu_model_destroy(m);
}

/* ---- CSRs, memory, options ------------------------------------------------- */

Test(model, csr_map)
{
    mxu_model *m = make("rows=8,cols=12,ub_lines=300,acc=77,wb=40,params=5,beat=32,queue=3,tokens=9", NULL);
    cr_assert_eq(csr(m, MXU_CSR_ID), MXU_ID_MAGIC);
    cr_assert_eq(csr(m, MXU_CSR_VERSION), MXU_ISA_VERSION_MAJOR << 16 | MXU_ISA_VERSION_MINOR);
    cr_assert_eq(csr(m, MXU_CSR_ROWS), 8);
    cr_assert_eq(csr(m, MXU_CSR_COLS), 12);
    cr_assert_eq(csr(m, MXU_CSR_UB_LINES), 300);
    cr_assert_eq(csr(m, MXU_CSR_UB_LINE_BYTES), 12);
    cr_assert_eq(csr(m, MXU_CSR_ACC_ROWS), 77);
    cr_assert_eq(csr(m, MXU_CSR_WB_LINES), 40);
    cr_assert_eq(csr(m, MXU_CSR_PARAM_LINES), 5);
    cr_assert_eq(csr(m, MXU_CSR_DRAM_BYTES), 1u << 20);
    cr_assert_eq(csr(m, MXU_CSR_DRAM_BEAT_BYTES), 32);
    cr_assert_eq(csr(m, MXU_CSR_QUEUE_DEPTH), 3);
    cr_assert_eq(csr(m, MXU_CSR_TOKEN_MAX), 9);
    cr_assert_eq(csr(m, MXU_CSR_STATUS), 0);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CMD_BASE, 0x1234), MXU_OK);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CMD_COUNT, 77), MXU_OK);
    cr_assert_eq(csr(m, MXU_CSR_CMD_BASE), 0x1234);
    cr_assert_eq(csr(m, MXU_CSR_CMD_COUNT), 77);
    cr_assert_eq(csr(m, MXU_CSR_CTRL), 0);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_CTRL, 0), MXU_OK); /* no start bit: nothing */
    cr_assert_eq(csr(m, MXU_CSR_STATUS), 0);
    uint32_t v;
    cr_assert_eq(mxu_model_csr_read(m, 0x3C, &v), MXU_ERR_RANGE);
    cr_assert_eq(mxu_model_csr_read(m, 0x2, &v), MXU_ERR_RANGE);
    cr_assert_eq(mxu_model_csr_read(m, MXU_CNT_ACT_BUSY + 8, &v), MXU_ERR_RANGE);
    cr_assert_eq(mxu_model_csr_read(m, MXU_CNT_ACT_BUSY + 4, &v), MXU_OK);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CSR_STATUS, 1), MXU_ERR_INVAL);
    cr_assert_eq(mxu_model_csr_write(m, MXU_CNT_CYCLES, 1), MXU_ERR_INVAL);
    cr_assert_eq(mxu_model_csr_write(m, 0x3C, 1), MXU_ERR_RANGE);
    cr_assert_eq(mxu_model_config(m)->cols, 12);
    mxu_model_destroy(m);
}

Test(model, memory_access_is_range_checked)
{
    mxu_model *m = make("", NULL);
    uint32_t d = m->cfg.dram_bytes;
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8];
    cr_assert_eq(mxu_model_mem_write(m, d - 8, buf, 8), MXU_OK);
    cr_assert_eq(mxu_model_mem_read(m, d - 8, back, 8), MXU_OK);
    cr_assert_eq(memcmp(buf, back, 8), 0);
    cr_assert_eq(mxu_model_dram(m)[d - 1], 8);
    cr_assert_eq(mxu_model_mem_write(m, d - 7, buf, 8), MXU_ERR_RANGE);
    cr_assert_eq(mxu_model_mem_read(m, d - 7, back, 8), MXU_ERR_RANGE);
    cr_assert_eq(mxu_model_mem_read(m, 0xffffffffu, back, 2), MXU_ERR_RANGE);
    cr_assert_eq(mxu_model_mem_read(m, d, back, 0), MXU_OK);
    mxu_model_destroy(m);
}

Test(model, options)
{
    mxu_hw_config c;
    mxu_config_default(&c);
    c.dram_bytes = 1 << 20;
    mxu_model *m;
    cr_assert_eq(mxu_model_create(&c, "latency=3,bw=8,timing=1", &m), MXU_OK);
    mxu_model_destroy(m);
    static const char *bad[] = {"bw=0", "bw=17", "latency=x", "latency", "foo=1", "timing=2", "latency=5,"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = (mxu_model *)1;
        cr_assert_eq(mxu_model_create(&c, bad[i], &m), MXU_ERR_INVAL, "'%s'", bad[i]);
        cr_assert_null(m);
    }
    c.rows = 0;
    cr_assert_eq(mxu_model_create(&c, NULL, &m), MXU_ERR_INVAL);
}

Test(model, backend_adapter)
{
    const struct mxu_backend_ops *b = &mxu_backend_model;
    cr_assert_str_eq(b->name, "model");
    mxu_hw_config c;
    mxu_config_default(&c);
    c.dram_bytes = 1 << 20;
    void *st = NULL;
    cr_assert_eq(b->open(&c, NULL, &st), MXU_OK);
    uint32_t v;
    cr_assert_eq(b->csr_read(st, MXU_CSR_ID, &v), MXU_OK);
    cr_assert_eq(v, MXU_ID_MAGIC);
    uint8_t code[32] = {MXU_OP_FINISH};
    cr_assert_eq(b->mem_write(st, 4096, code, 32), MXU_OK);
    cr_assert_eq(b->csr_write(st, MXU_CSR_CMD_BASE, 4096), MXU_OK);
    cr_assert_eq(b->csr_write(st, MXU_CSR_CMD_COUNT, 1), MXU_OK);
    cr_assert_eq(b->csr_write(st, MXU_CSR_CTRL, MXU_CTRL_START), MXU_OK);
    cr_assert_eq(b->wait(st, 0), MXU_OK);
    cr_assert_eq(b->csr_read(st, MXU_CSR_STATUS, &v), MXU_OK);
    cr_assert_eq(v, MXU_STATUS_DONE);
    uint8_t back[32];
    cr_assert_eq(b->mem_read(st, 4096, back, 32), MXU_OK);
    cr_assert_eq(back[0], MXU_OP_FINISH);
    cr_assert_eq(b->mem_read(st, c.dram_bytes, back, 1), MXU_ERR_RANGE);
    b->close(st);
    cr_assert_eq(b->open(&c, "bw=99", &st), MXU_ERR_INVAL);
}

/* ---- counters and the cycle estimate ---------------------------------------- */

static uint64_t weight_stall_of(unsigned vectors, unsigned nk)
{
    mxu_model *m = make("", NULL);
    struct prog p = {.n = 0};
    mm(&p, 0, 0, vectors, 1, 1, 0, 0, nk, 0);
    fin(&p);
    run_ok(m, &p);
    cr_assert_eq(counter(m, MXU_CNT_ARRAY_VECTORS), (uint64_t)vectors * nk);
    cr_assert_geq(counter(m, MXU_CNT_COMPUTE_BUSY), (uint64_t)vectors * nk);
    uint64_t s = counter(m, MXU_CNT_WEIGHT_STALL);
    mxu_model_destroy(m);
    return s;
}

Test(model, weight_preload_overlaps_tiles_of_rows_vectors)
{
    /* the first tile waits for its weights: ROWS lines, started the cycle after the
     * MATMUL entered the compute unit */
    cr_assert_eq(weight_stall_of(100, 3), 15);
    /* a tile's load may start in the cycle the previous tile's first vector issues,
     * so ROWS vectors per tile hide it; ROWS - 1 leave one bubble per tile */
    cr_assert_eq(weight_stall_of(17, 4), 15);
    cr_assert_eq(weight_stall_of(16, 4), 15);
    cr_assert_eq(weight_stall_of(15, 4), 15 + 3 * 1);
    /* 1 vector (a fully connected layer at batch 1): one tile per ROWS cycles */
    cr_assert_eq(weight_stall_of(1, 5), 15 + 4 * 15);
    /* 4 vectors: each further tile waits ROWS - 4 */
    cr_assert_eq(weight_stall_of(4, 3), 15 + 2 * 12);
}

Test(model, counters_dram_bytes_and_bandwidth)
{
    /* 64 aligned lines of 16 bytes: 64 beats; at address 8 each spans 2 */
    const char *opts[] = {NULL, "bw=8", "latency=40"};
    uint64_t cycles[3];
    for (int i = 0; i < 3; i++) {
        mxu_model *m = make("", opts[i]);
        struct prog p = {.n = 0};
        ld(&p, MXU_MEM_UB, 16, 0, 0, 64, 1, 1, 16, 0, 0);
        ld(&p, MXU_MEM_UB, 16, 8, 64, 64, 1, 1, 16, 0, 0);
        st(&p, 16, 4096, 0, 64, 1, 1, 16, 0, 0);
        fin(&p);
        run_ok(m, &p);
        cr_assert_eq(counter(m, MXU_CNT_DRAM_RD_BYTES), 4 * 32 + 64 * 16 + 128 * 16);
        cr_assert_eq(counter(m, MXU_CNT_DRAM_WR_BYTES), 64 * 16);
        cr_assert_eq(counter(m, MXU_CNT_INSNS), 4);
        cr_assert_geq(counter(m, MXU_CNT_LOAD_BUSY), 64 + 128);
        cr_assert_geq(counter(m, MXU_CNT_STORE_BUSY), 64);
        cycles[i] = counter(m, MXU_CNT_CYCLES);
        cr_assert_geq(cycles[i], 64 + 128 + 64, "the port moves one beat per cycle at most");
        mxu_model_destroy(m);
    }
    cr_assert_gt(cycles[1], cycles[0] * 3 / 2, "half the bandwidth: %lu vs %lu", (unsigned long)cycles[1],
                 (unsigned long)cycles[0]);
    cr_assert_gt(cycles[2], cycles[0]);
}

Test(model, load_waits_for_compute_token_and_timing_off)
{
    for (int timing = 1; timing >= 0; timing--) {
        mxu_model *m = make("", timing ? NULL : "timing=0");
        struct prog p = {.n = 0};
        uint64_t *w = mm(&p, 0, 0, 500, 1, 1, 0, 0, 1, 0);
        MXU_SET(w, MATMUL, PUSH_PREV, 1);
        w = ld(&p, MXU_MEM_UB, 16, 0, 0, 1, 1, 1, 0, 0, 0);
        MXU_SET(w, LOAD, POP_NEXT, 1);
        fin(&p);
        run_ok(m, &p);
        cr_assert_eq(counter(m, MXU_CNT_INSNS), 3);
        cr_assert_eq(counter(m, MXU_CNT_ARRAY_VECTORS), 500);
        if (timing) {
            cr_assert_gt(counter(m, MXU_CNT_LOAD_WAIT), 400);
            cr_assert_gt(counter(m, MXU_CNT_CYCLES), 500 + 16 + 32);
            cr_assert_eq(counter(m, MXU_CNT_ACT_BUSY), 0);
        } else {
            cr_assert_eq(counter(m, MXU_CNT_CYCLES), 0);
        }
        mxu_model_destroy(m);
    }
}

Test(model, act_busy_counts_reads)
{
    mxu_model *m = make("", NULL);
    struct prog p = {.n = 0};
    act(&p, 0, 0, 0, 8, 3, 3, 2, 2, 0, -128, 127);
    fin(&p);
    run_ok(m, &p);
    cr_assert_eq(counter(m, MXU_CNT_ACT_BUSY), 3 * 3 * 4);
    cr_assert_geq(counter(m, MXU_CNT_COMPUTE_BUSY), 36);
    mxu_model_destroy(m);
}
