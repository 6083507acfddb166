/* Random well-formed programs; see random_program.h for the contract. */
#include "random_program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t rp_next(rp_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t rp_range(rp_rng *r, uint32_t lo, uint32_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (uint32_t)(rp_next(r) % ((uint64_t)hi - lo + 1));
}

static int chance(rp_rng *r, unsigned percent)
{
    return rp_range(r, 0, 99) < percent;
}

/* ---- queues, channels, knowledge ------------------------------------------ */

enum { QL, QC, QS, NQ };
enum { CH_L2C, CH_C2L, CH_C2S, CH_S2C, NCH };
enum { N_MEMS = 4 };
#define MAX_ACCESS 4096

static const int ch_from[NCH] = {QL, QC, QC, QS};
static const int ch_to[NCH] = {QC, QL, QS, QC};

static int channel(int from, int to)
{
    for (int c = 0; c < NCH; c++)
        if (ch_from[c] == from && ch_to[c] == to)
            return c;
    return -1;
}

/* Token bit of an instruction of queue q on channel c (pop if c enters q). */
static unsigned token_pos(int q, int c)
{
    if (q == QL)
        return c == CH_C2L ? MXU_F_LOAD_POP_NEXT_POS : MXU_F_LOAD_PUSH_NEXT_POS;
    if (q == QS)
        return c == CH_C2S ? MXU_F_STORE_POP_PREV_POS : MXU_F_STORE_PUSH_PREV_POS;
    /* compute: MATMUL and ACTIVATE share the positions */
    switch (c) {
    case CH_L2C: return MXU_F_MATMUL_POP_PREV_POS;
    case CH_S2C: return MXU_F_MATMUL_POP_NEXT_POS;
    case CH_C2L: return MXU_F_MATMUL_PUSH_PREV_POS;
    default: return MXU_F_MATMUL_PUSH_NEXT_POS;
    }
}

struct access {
    uint8_t mem, write;
    uint32_t line;
};

struct gen {
    rp_program *p;
    rp_rng rng;
    rp_rng rounding; /* ACTIVATE round_half_up bits */
    const mxu_hw_config *cfg;
    int32_t pos[NQ];              /* next position in each queue */
    int32_t known[NQ][NQ];        /* known[q][n]: last position of n known complete before q's next */
    int32_t snap[RP_CODE_MAX_INSNS][NQ]; /* per instruction: what its completion implies */
    int32_t last[NQ];             /* program index of each queue's latest instruction */
    uint32_t pushes[NCH], pops[NCH];
    int32_t tok_snap[NCH][RP_CODE_MAX_INSNS][NQ];
    uint32_t lines[N_MEMS];
    int32_t *last_write[N_MEMS][NQ], *last_read[N_MEMS][NQ];
    uint32_t ub_lim;              /* regular instructions use UB lines below this */
    struct access acc[MAX_ACCESS];
    unsigned n_acc;
};

static void add_access(struct gen *g, unsigned mem, uint32_t line, int write)
{
    if (g->n_acc < MAX_ACCESS)
        g->acc[g->n_acc++] = (struct access){(uint8_t)mem, (uint8_t)write, line};
}

static void add_range(struct gen *g, unsigned mem, uint32_t first, uint32_t count, int write)
{
    for (uint32_t i = 0; i < count; i++)
        add_access(g, mem, first + i, write);
}

static void take_token(struct gen *g, int q, int c, uint64_t *insn)
{
    mxu_insn_set(insn, token_pos(q, c), 1, 1);
    for (int n = 0; n < NQ; n++)
        if (g->tok_snap[c][g->pops[c]][n] > g->known[q][n])
            g->known[q][n] = g->tok_snap[c][g->pops[c]][n];
    g->pops[c]++;
}

static void add_push(struct gen *g, int c, int32_t insn_index)
{
    mxu_insn_set(g->p->insns[insn_index], token_pos(ch_from[c], c), 1, 1);
    memcpy(g->tok_snap[c][g->pushes[c]++], g->snap[insn_index], sizeof g->snap[0]);
}

static int pushes_on(const struct gen *g, int32_t insn_index, int c)
{
    return (int)mxu_insn_get(g->p->insns[insn_index], token_pos(ch_from[c], c), 1);
}

static int emit(struct gen *g, int q, uint64_t insn[MXU_INSN_WORDS], const int32_t extra_req[NQ]);

static void set_op(uint64_t *insn, unsigned op)
{
    mxu_insn_set(insn, MXU_F_OP_POS, MXU_F_OP_BITS, op);
}

/* Filler instructions: pop tokens (and push) without touching anything another
 * queue uses (UB_LINES-1 is never written, UB_LINES-2 only by load fillers). */
static void filler(const struct gen *g, int q, uint64_t insn[MXU_INSN_WORDS])
{
    memset(insn, 0, MXU_INSN_BYTES);
    const mxu_hw_config *cfg = g->cfg;
    if (q == QC) {
        set_op(insn, MXU_OP_MATMUL);
        MXU_SET(insn, MATMUL, KEEP_WEIGHTS, 1);
        MXU_SET(insn, MATMUL, NK, 1);
        MXU_SET(insn, MATMUL, N0, 1);
        MXU_SET(insn, MATMUL, N1, 1);
        MXU_SET(insn, MATMUL, UB_ADDR, cfg->ub_lines - 1);
        MXU_SET(insn, MATMUL, ACC_ADDR, cfg->acc_rows - 1);
    } else if (q == QL) {
        set_op(insn, MXU_OP_LOAD);
        MXU_SET(insn, LOAD, MEM, MXU_MEM_UB);
        MXU_SET(insn, LOAD, ELEM_BYTES, 1);
        MXU_SET(insn, LOAD, DRAM_ADDR, RP_IN_BASE);
        MXU_SET(insn, LOAD, DST_LINE, cfg->ub_lines - 2);
        MXU_SET(insn, LOAD, N0, 1);
        MXU_SET(insn, LOAD, N1, 1);
        MXU_SET(insn, LOAD, N2, 1);
    } else {
        set_op(insn, MXU_OP_STORE);
        MXU_SET(insn, STORE, ELEM_BYTES, 1);
        MXU_SET(insn, STORE, DRAM_ADDR, RP_OUT_BASE + RP_OUT_BYTES - 1);
        MXU_SET(insn, STORE, SRC_LINE, cfg->ub_lines - 1);
        MXU_SET(insn, STORE, N0, 1);
        MXU_SET(insn, STORE, N1, 1);
        MXU_SET(insn, STORE, N2, 1);
    }
}

static void filler_accesses(struct gen *g, int q)
{
    g->n_acc = 0;
    if (q == QL)
        add_access(g, MXU_MEM_UB, g->cfg->ub_lines - 2, 1);
    else
        add_access(g, MXU_MEM_UB, g->cfg->ub_lines - 1, 0);
}

/* A filler of queue q that pops one token from each channel in `mask`. */
static int emit_pop_filler(struct gen *g, int q, unsigned mask)
{
    uint64_t insn[MXU_INSN_WORDS];
    filler(g, q, insn);
    for (int c = 0; c < NCH; c++)
        if (mask >> c & 1)
            take_token(g, q, c, insn);
    filler_accesses(g, q);
    const int32_t none[NQ] = {-1, -1, -1};
    return emit(g, q, insn, none);
}

/* Does token k of channel c satisfy every requirement routed through c? */
static int token_ok(const struct gen *g, int c, uint32_t k, const int32_t need[NQ])
{
    for (int n = 0; n < NQ; n++)
        if (need[n] >= 0 && g->tok_snap[c][k][n] < need[n])
            return 0;
    return 1;
}

/* Does q already know every position of need? */
static int is_known(const struct gen *g, int q, const int32_t need[NQ])
{
    for (int n = 0; n < NQ; n++)
        if (need[n] > g->known[q][n])
            return 0;
    return 1;
}

/* Make q know that every position in req has completed before insn starts:
 * pushes added to the latest instruction of a neighbour, compute fillers for
 * load<->store knowledge, pop fillers when one pop is not enough. */
static int order_after(struct gen *g, int q, uint64_t *insn, const int32_t req[NQ])
{
    int32_t need[NCH][NQ];
    unsigned used = 0;
    for (int c = 0; c < NCH; c++)
        for (int n = 0; n < NQ; n++)
            need[c][n] = -1;
    for (int n = 0; n < NQ; n++) {
        if (n == q || req[n] <= g->known[q][n])
            continue;
        int src = channel(n, q) >= 0 ? n : QC;
        if (src != n && (g->last[QC] < 0 || g->snap[g->last[QC]][n] < req[n])) {
            int32_t freq[NQ] = {-1, -1, -1};
            freq[n] = req[n];
            uint64_t f[MXU_INSN_WORDS];
            filler(g, QC, f);
            filler_accesses(g, QC);
            int rc = emit(g, QC, f, freq);
            if (rc)
                return rc;
        }
        int c = channel(src, q);
        need[c][n] = req[n];
        used |= 1u << c;
    }
    for (int c = 0; c < NCH; c++) {
        if (!(used >> c & 1))
            continue;
        int32_t latest = g->last[ch_from[c]];
        if (!pushes_on(g, latest, c))
            add_push(g, c, latest);
    }
    /* pop: fillers take the tokens that are not enough, insn the first that is */
    for (;;) {
        unsigned more = 0, now = 0;
        for (int c = 0; c < NCH; c++) {
            if (!(used >> c & 1) || is_known(g, q, need[c]))
                continue;
            if (g->pops[c] < g->pushes[c] && !token_ok(g, c, g->pops[c], need[c]))
                more |= 1u << c;
            else
                now |= 1u << c;
        }
        if (!more) {
            for (int c = 0; c < NCH; c++)
                if (now >> c & 1)
                    take_token(g, q, c, insn);
            return 0;
        }
        if (g->p->n_insns + 2 >= RP_CODE_MAX_INSNS)
            return -1;
        int rc = emit_pop_filler(g, q, more);
        if (rc)
            return rc;
    }
}

static int32_t max32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

/* Append insn (queue q) after ordering it against the recorded accesses
 * (g->acc) and extra_req; adds random extra pops and pushes. */
static int emit(struct gen *g, int q, uint64_t insn[MXU_INSN_WORDS], const int32_t extra_req[NQ])
{
    int32_t req[NQ];
    memcpy(req, extra_req, sizeof req);
    struct access acc[MAX_ACCESS];
    unsigned n_acc = g->n_acc;
    memcpy(acc, g->acc, n_acc * sizeof acc[0]);
    for (unsigned i = 0; i < n_acc; i++) {
        for (int n = 0; n < NQ; n++) {
            if (n == q)
                continue;
            req[n] = max32(req[n], g->last_write[acc[i].mem][n][acc[i].line]);
            if (acc[i].write)
                req[n] = max32(req[n], g->last_read[acc[i].mem][n][acc[i].line]);
        }
    }
    int rc = order_after(g, q, insn, req);
    if (rc)
        return rc;
    if (g->p->n_insns + 1 >= RP_CODE_MAX_INSNS)
        return -1;
    /* optional pops of waiting tokens keep the channels short */
    for (int c = 0; c < NCH; c++) {
        if (ch_to[c] != q || mxu_insn_get(insn, token_pos(q, c), 1))
            continue;
        uint32_t waiting = g->pushes[c] - g->pops[c];
        if (waiting && (waiting > 4 || chance(&g->rng, 30)))
            take_token(g, q, c, insn);
    }
    int32_t idx = (int32_t)g->p->n_insns++;
    memcpy(g->p->insns[idx], insn, MXU_INSN_BYTES);
    memcpy(g->snap[idx], g->known[q], sizeof g->snap[0]);
    g->snap[idx][q] = g->pos[q];
    g->last[q] = idx;
    for (int c = 0; c < NCH; c++)
        if (ch_from[c] == q && chance(&g->rng, 50))
            add_push(g, c, idx);
    for (unsigned i = 0; i < n_acc; i++) {
        int32_t **table = acc[i].write ? g->last_write[acc[i].mem] : g->last_read[acc[i].mem];
        table[q][acc[i].line] = g->pos[q];
    }
    g->pos[q]++;
    return 0;
}

/* ---- regular instructions ------------------------------------------------- */

/* Start of a window of `size` lines: usually at the bottom of [0, limit), now
 * and then at its top, so high addresses get exercised too. */
static uint32_t window_base(struct gen *g, uint32_t limit, uint32_t size)
{
    if (size >= limit)
        return 0;
    return chance(&g->rng, 20) ? limit - size : 0;
}

static uint32_t pick_stride(struct gen *g, uint32_t elem)
{
    switch (rp_range(&g->rng, 0, 3)) {
    case 0: return rp_range(&g->rng, 0, elem);
    case 1: return rp_range(&g->rng, elem, 2 * elem);
    default: return elem;
    }
}

static int gen_load(struct gen *g, uint64_t *insn)
{
    const mxu_hw_config *cfg = g->cfg;
    uint32_t r = rp_range(&g->rng, 0, 99);
    unsigned mem = r < 50 ? MXU_MEM_UB : r < 75 ? MXU_MEM_WB : r < 88 ? MXU_MEM_PARAM : MXU_MEM_LUT;
    uint32_t width = mxu_config_line_bytes(cfg, mem);
    uint32_t limit = mem == MXU_MEM_UB ? g->ub_lim : mxu_config_mem_lines(cfg, mem);
    uint32_t win = limit < 64 ? limit : 64;
    uint32_t eb = chance(&g->rng, 50) ? width : rp_range(&g->rng, 1, width);
    uint32_t n0 = 1, n1 = 1, n2 = 1, pl = 0, pr = 0, pt = 0, pb = 0, lines = 1;
    if (mem != MXU_MEM_LUT) {
        int pads = chance(&g->rng, mem == MXU_MEM_UB ? 40 : 10);
        for (;;) {
            n0 = rp_range(&g->rng, 1, 4);
            n1 = rp_range(&g->rng, 1, 3);
            n2 = rp_range(&g->rng, 1, 2);
            if (pads) {
                pl = rp_range(&g->rng, 0, 2), pr = rp_range(&g->rng, 0, 2);
                pt = rp_range(&g->rng, 0, 1), pb = rp_range(&g->rng, 0, 1);
            }
            lines = n2 * (pt + n1 + pb) * (pl + n0 + pr);
            if (lines <= win)
                break;
            pads = 0, pl = pr = pt = pb = 0;
        }
    }
    uint32_t s0 = pick_stride(g, eb);
    uint32_t s1 = n0 * s0 + rp_range(&g->rng, 0, 8);
    uint32_t s2 = n1 * s1 + rp_range(&g->rng, 0, 8);
    uint64_t span;
    for (;;) { /* wide lines (PARAM, LUT): fewer elements so the walk fits the input */
        span = (uint64_t)(n2 - 1) * s2 + (uint64_t)(n1 - 1) * s1 + (uint64_t)(n0 - 1) * s0 + eb;
        if (span <= RP_IN_BYTES / 2 || (n0 == 1 && n1 == 1 && n2 == 1))
            break;
        if (n2 > 1)
            n2--;
        else if (n1 > 1)
            n1--;
        else
            n0--;
    }
    lines = n2 * (pt + n1 + pb) * (pl + n0 + pr);
    uint32_t addr;
    if (mem == MXU_MEM_PARAM && eb == width && chance(&g->rng, 70) && span <= RP_IN_BYTES / 2)
        addr = RP_IN_BASE + RP_IN_BYTES / 2 + 4 * rp_range(&g->rng, 0, (uint32_t)(RP_IN_BYTES / 2 - span) / 4);
    else
        addr = RP_IN_BASE + rp_range(&g->rng, 0, (uint32_t)(RP_IN_BYTES - span));
    uint32_t dst = mem == MXU_MEM_LUT ? 0 : window_base(g, limit, win) + rp_range(&g->rng, 0, win - lines);
    set_op(insn, MXU_OP_LOAD);
    MXU_SET(insn, LOAD, MEM, mem);
    MXU_SET(insn, LOAD, ELEM_BYTES, eb);
    MXU_SET(insn, LOAD, DRAM_ADDR, addr);
    MXU_SET(insn, LOAD, DST_LINE, dst);
    MXU_SET(insn, LOAD, PAD_VALUE, rp_range(&g->rng, 0, 255));
    MXU_SET(insn, LOAD, N0, n0);
    MXU_SET(insn, LOAD, N1, n1);
    MXU_SET(insn, LOAD, N2, n2);
    MXU_SET(insn, LOAD, PAD_LEFT, pl);
    MXU_SET(insn, LOAD, PAD_RIGHT, pr);
    MXU_SET(insn, LOAD, PAD_TOP, pt);
    MXU_SET(insn, LOAD, PAD_BOTTOM, pb);
    MXU_SET(insn, LOAD, S0, s0);
    MXU_SET(insn, LOAD, S1, s1);
    MXU_SET(insn, LOAD, S2, s2);
    add_range(g, mem, dst, lines, 1);
    return QL;
}

static int gen_matmul(struct gen *g, uint64_t *insn)
{
    const mxu_hw_config *cfg = g->cfg;
    uint32_t rows = cfg->rows;
    int keep = chance(&g->rng, 25);
    uint32_t wb_win = cfg->wb_lines < 4 * rows ? cfg->wb_lines : 4 * rows;
    uint32_t nk = keep ? 1 : rp_range(&g->rng, 1, wb_win / rows < 3 ? wb_win / rows : 3);
    uint32_t wgt = keep ? 0 : window_base(g, cfg->wb_lines, wb_win) + rp_range(&g->rng, 0, wb_win - nk * rows);
    /* long rows straddle the ROWS-vector boundary of bubble-free tiles */
    uint32_t n0 = chance(&g->rng, 20) ? rp_range(&g->rng, rows > 1 ? rows - 1 : 1, 2 * rows + 2)
                                      : rp_range(&g->rng, 1, 6);
    uint32_t n1 = rp_range(&g->rng, 1, 3);
    uint32_t acc_win = cfg->acc_rows < 64 ? cfg->acc_rows : 64;
    while (n0 * n1 > acc_win) {
        if (n1 > 1)
            n1--;
        else
            n0--;
    }
    uint32_t s0 = rp_range(&g->rng, 0, 2);
    uint32_t s1 = rp_range(&g->rng, 0, n0 * s0 + 2);
    uint32_t ks = rp_range(&g->rng, 0, 8);
    uint32_t ub_win = g->ub_lim < 128 ? g->ub_lim : 128;
    uint32_t span = (nk - 1) * ks + (n1 - 1) * s1 + (n0 - 1) * s0 + 1;
    if (span > ub_win)
        s0 = s1 = ks = 0, span = 1;
    uint32_t ub = window_base(g, g->ub_lim, ub_win) + rp_range(&g->rng, 0, ub_win - span);
    uint32_t acc = window_base(g, cfg->acc_rows, acc_win) + rp_range(&g->rng, 0, acc_win - n0 * n1);
    set_op(insn, MXU_OP_MATMUL);
    MXU_SET(insn, MATMUL, ACCUMULATE, chance(&g->rng, 50));
    MXU_SET(insn, MATMUL, KEEP_WEIGHTS, keep);
    MXU_SET(insn, MATMUL, WGT_LINE, wgt);
    MXU_SET(insn, MATMUL, UB_ADDR, ub);
    MXU_SET(insn, MATMUL, N0, n0);
    MXU_SET(insn, MATMUL, N1, n1);
    MXU_SET(insn, MATMUL, S0, s0);
    MXU_SET(insn, MATMUL, ACC_ADDR, acc);
    MXU_SET(insn, MATMUL, S1, s1);
    MXU_SET(insn, MATMUL, NK, nk);
    MXU_SET(insn, MATMUL, K_STRIDE, ks);
    for (uint32_t k = 0; k < nk; k++)
        for (uint32_t i1 = 0; i1 < n1; i1++)
            for (uint32_t i0 = 0; i0 < n0; i0++)
                add_access(g, MXU_MEM_UB, ub + k * ks + i1 * s1 + i0 * s0, 0);
    if (!keep)
        add_range(g, MXU_MEM_WB, wgt, nk * rows, 0);
    return QC;
}

static int gen_activate(struct gen *g, uint64_t *insn)
{
    const mxu_hw_config *cfg = g->cfg;
    uint32_t pool_k = chance(&g->rng, 60) ? 1 : rp_range(&g->rng, 2, 3);
    uint32_t pool_s = pool_k == 1 && chance(&g->rng, 80) ? 1 : rp_range(&g->rng, 1, pool_k);
    uint32_t out_w = rp_range(&g->rng, 1, 4), out_h = rp_range(&g->rng, 1, 3);
    uint32_t in_w = (out_w - 1) * pool_s + pool_k + rp_range(&g->rng, 0, 2);
    uint32_t acc_win = cfg->acc_rows < 64 ? cfg->acc_rows : 64;
    uint32_t rows;
    for (;;) {
        rows = ((out_h - 1) * pool_s + pool_k - 1) * in_w + (out_w - 1) * pool_s + pool_k;
        if (rows <= acc_win)
            break;
        if (out_h > 1)
            out_h--;
        else
            out_w = 1, pool_k = pool_s = 1, in_w = 1;
    }
    uint32_t ub_win = g->ub_lim < 64 ? g->ub_lim : 64;
    uint32_t ub = window_base(g, g->ub_lim, ub_win) + rp_range(&g->rng, 0, ub_win - out_h * out_w);
    uint32_t acc = window_base(g, cfg->acc_rows, acc_win) + rp_range(&g->rng, 0, acc_win - rows);
    int32_t lo = -128, hi = 127;
    if (chance(&g->rng, 50)) {
        lo = (int32_t)rp_range(&g->rng, 0, 255) - 128;
        hi = (int32_t)rp_range(&g->rng, (uint32_t)(lo + 128), 255) - 128;
    }
    int lut = chance(&g->rng, 30);
    uint32_t param = rp_range(&g->rng, 0, cfg->param_lines - 1);
    set_op(insn, MXU_OP_ACTIVATE);
    MXU_SET(insn, ACTIVATE, LUT_EN, lut);
    MXU_SET(insn, ACTIVATE, ROUND_HALF_UP, rp_next(&g->rounding) & 1);
    MXU_SET(insn, ACTIVATE, PARAM_LINE, param);
    MXU_SET(insn, ACTIVATE, UB_ADDR, ub);
    MXU_SET(insn, ACTIVATE, ACC_ADDR, acc);
    MXU_SET(insn, ACTIVATE, IN_W, in_w);
    MXU_SET(insn, ACTIVATE, OUT_H, out_h);
    MXU_SET(insn, ACTIVATE, OUT_W, out_w);
    MXU_SET(insn, ACTIVATE, ZP_OUT, rp_range(&g->rng, 0, 255));
    MXU_SET(insn, ACTIVATE, CLAMP_MIN, (uint32_t)lo & 0xFF);
    MXU_SET(insn, ACTIVATE, CLAMP_MAX, (uint32_t)hi & 0xFF);
    MXU_SET(insn, ACTIVATE, POOL_K, pool_k);
    MXU_SET(insn, ACTIVATE, POOL_S, pool_s);
    add_access(g, MXU_MEM_PARAM, param, 0);
    if (lut)
        add_access(g, MXU_MEM_LUT, 0, 0);
    add_range(g, MXU_MEM_UB, ub, out_h * out_w, 1);
    return QC;
}

static int gen_store(struct gen *g, uint64_t *insn)
{
    const mxu_hw_config *cfg = g->cfg;
    uint32_t width = cfg->ub_line_bytes;
    uint32_t eb = chance(&g->rng, 50) ? width : rp_range(&g->rng, 1, width);
    uint32_t n0 = rp_range(&g->rng, 1, 4), n1 = rp_range(&g->rng, 1, 3), n2 = rp_range(&g->rng, 1, 2);
    uint32_t s0 = chance(&g->rng, 5) ? 0 : chance(&g->rng, 60) ? eb : rp_range(&g->rng, 1, 2 * eb);
    uint32_t s1 = n0 * s0 + rp_range(&g->rng, 0, 8);
    uint32_t s2 = n1 * s1 + rp_range(&g->rng, 0, 8);
    uint32_t span = (n2 - 1) * s2 + (n1 - 1) * s1 + (n0 - 1) * s0 + eb;
    if (span > 1024) { /* very wide lines: keep the footprint small */
        eb = eb < 16 ? eb : 16;
        s0 = eb, s1 = n0 * s0, s2 = n1 * s1;
        span = n2 * s2;
    }
    uint32_t ub_win = g->ub_lim < 64 ? g->ub_lim : 64;
    uint32_t n = n0 * n1 * n2;
    uint32_t src = window_base(g, g->ub_lim, ub_win) + rp_range(&g->rng, 0, ub_win - n);
    uint32_t addr = RP_OUT_BASE + rp_range(&g->rng, 0, RP_OUT_BYTES - 16 - span);
    set_op(insn, MXU_OP_STORE);
    MXU_SET(insn, STORE, ELEM_BYTES, eb);
    MXU_SET(insn, STORE, DRAM_ADDR, addr);
    MXU_SET(insn, STORE, SRC_LINE, src);
    MXU_SET(insn, STORE, N0, n0);
    MXU_SET(insn, STORE, N1, n1);
    MXU_SET(insn, STORE, N2, n2);
    MXU_SET(insn, STORE, S0, s0);
    MXU_SET(insn, STORE, S1, s1);
    MXU_SET(insn, STORE, S2, s2);
    add_range(g, MXU_MEM_UB, src, n, 0);
    return QS;
}

/* ---- the image ------------------------------------------------------------ */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Input: random bytes, then "sane" parameter records (small bias, multiplier in
 * [2^30, 2^31), shift -12..1) so activations are not all saturated. */
static void fill_image(rp_program *p, rp_rng *r)
{
    memset(p->image, 0, sizeof p->image);
    uint8_t *in = p->image + RP_IN_BASE;
    for (uint32_t i = 0; i < RP_IN_BYTES / 2; i++)
        in[i] = (uint8_t)rp_next(r);
    for (uint32_t i = RP_IN_BYTES / 2; i + 12 <= RP_IN_BYTES; i += 12) {
        put32(in + i, (uint32_t)((int32_t)rp_range(r, 0, 8192) - 4096));
        put32(in + i + 4, rp_range(r, 1u << 30, 0x7FFFFFFFu));
        put32(in + i + 8, (uint32_t)((int32_t)rp_range(r, 0, 13) - 12));
    }
    for (uint32_t i = 0; i < RP_OUT_BYTES; i++)
        p->image[RP_OUT_BASE + i] = (uint8_t)rp_next(r);
}

void rp_store_code(rp_program *p)
{
    for (uint32_t i = 0; i < p->n_insns; i++)
        for (unsigned w = 0; w < MXU_INSN_WORDS; w++)
            for (unsigned b = 0; b < 8; b++)
                p->image[RP_CODE_BASE + i * MXU_INSN_BYTES + w * 8 + b] = (uint8_t)(p->insns[i][w] >> (8 * b));
}

static int gen_init(struct gen *g, const mxu_hw_config *cfg, rp_program *p, uint64_t seed)
{
    memset(g, 0, sizeof *g);
    g->p = p;
    g->cfg = cfg;
    g->rng.s = seed;
    g->rounding.s = seed ^ 0x5EED0F0DDBA11ull; /* its own stream: programs stay what they were */
    g->ub_lim = cfg->ub_lines - 2;
    for (int q = 0; q < NQ; q++) {
        g->last[q] = -1;
        for (int n = 0; n < NQ; n++)
            g->known[q][n] = -1;
    }
    for (unsigned m = 0; m < N_MEMS; m++) {
        g->lines[m] = mxu_config_mem_lines(cfg, m);
        for (int q = 0; q < NQ; q++) {
            g->last_write[m][q] = malloc(g->lines[m] * sizeof(int32_t));
            g->last_read[m][q] = malloc(g->lines[m] * sizeof(int32_t));
            if (!g->last_write[m][q] || !g->last_read[m][q])
                return -1;
            memset(g->last_write[m][q], 0xFF, g->lines[m] * sizeof(int32_t));
            memset(g->last_read[m][q], 0xFF, g->lines[m] * sizeof(int32_t));
        }
    }
    return 0;
}

static void gen_free(struct gen *g)
{
    for (unsigned m = 0; m < N_MEMS; m++)
        for (int q = 0; q < NQ; q++) {
            free(g->last_write[m][q]);
            free(g->last_read[m][q]);
        }
}

void rp_generate(const mxu_hw_config *cfg, uint64_t seed, unsigned target, rp_program *p)
{
    static struct gen g; /* large; tests generate one program at a time per process */
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    if (target > 100)
        target = 100;
    if (gen_init(&g, cfg, p, seed) == 0) {
        fill_image(p, &g.rng);
        while (p->n_insns < target) {
            uint64_t insn[MXU_INSN_WORDS] = {0};
            uint32_t kind = rp_range(&g.rng, 0, 99);
            g.n_acc = 0;
            int q = kind < 35 ? gen_load(&g, insn)
                    : kind < 65 ? gen_matmul(&g, insn)
                    : kind < 82 ? gen_activate(&g, insn)
                                : gen_store(&g, insn);
            const int32_t none[NQ] = {-1, -1, -1};
            uint32_t before = p->n_insns;
            uint64_t saved[RP_CODE_MAX_INSNS][MXU_INSN_WORDS];
            memcpy(saved, p->insns, sizeof saved);
            if (emit(&g, q, insn, none)) { /* out of room: drop it (and its fillers), stop */
                memcpy(p->insns, saved, sizeof saved);
                p->n_insns = before;
                break;
            }
        }
    }
    gen_free(&g);
    memset(p->insns[p->n_insns], 0, MXU_INSN_BYTES);
    mxu_insn_set(p->insns[p->n_insns], MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_FINISH);
    p->n_insns++;
    rp_store_code(p);
}

/* ---- dumps and corruption -------------------------------------------------- */

void rp_disasm(const uint64_t insn[MXU_INSN_WORDS], char *buf, size_t len)
{
    unsigned op = (unsigned)mxu_insn_get(insn, MXU_F_OP_POS, MXU_F_OP_BITS);
    const char *name = NULL;
    for (unsigned i = 0; i < mxu_isa_n_opcodes; i++)
        if (mxu_isa_opcodes[i].value == op)
            name = mxu_isa_opcodes[i].name;
    size_t used = 0;
    int n = name ? snprintf(buf, len, "%s", name) : snprintf(buf, len, "op%u", op);
    used = n > 0 ? (size_t)n : 0;
    for (unsigned i = 0; name && i < mxu_isa_n_fields && used < len; i++) {
        const struct mxu_isa_field *f = &mxu_isa_fields[i];
        if (f->opcode != op)
            continue;
        uint64_t v = mxu_insn_get(insn, f->pos, f->bits);
        if (!v)
            continue;
        if (f->is_signed)
            n = snprintf(buf + used, len - used, " %s=%lld", f->name,
                         (long long)mxu_insn_get_signed(insn, f->pos, f->bits));
        else
            n = snprintf(buf + used, len - used, " %s=%llu", f->name, (unsigned long long)v);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < len)
        snprintf(buf + used, len - used, "  [%016llx %016llx %016llx %016llx]", (unsigned long long)insn[0],
                 (unsigned long long)insn[1], (unsigned long long)insn[2], (unsigned long long)insn[3]);
}

unsigned rp_corrupt(rp_program *p, rp_rng *r)
{
    unsigned idx = rp_range(r, 0, p->n_insns - 1);
    unsigned bit = rp_range(r, 0, MXU_INSN_BITS - 1);
    p->insns[idx][bit / 64] ^= 1ull << (bit % 64);
    rp_store_code(p);
    return idx;
}
