/* Functional execution of LOAD, STORE, MATMUL and ACTIVATE exactly as the
 * pseudo-code of docs/isa.md. Instructions arrive checked (decode.c), so every
 * address here is in range. */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "mxu_decode.h"
#include "mxu_model_priv.h"
#include "mxu_numerics.h"

#define GET(OP, F) MXU_GET(insn, OP, F)

#define COL_BLOCK MXU_MODEL_COL_BLOCK

static uint8_t *mem_base(mxu_model *m, unsigned mem)
{
    switch (mem) {
    case MXU_MEM_UB: return (uint8_t *)m->ub;
    case MXU_MEM_WB: return (uint8_t *)m->wb;
    case MXU_MEM_PARAM: return m->param;
    default: return (uint8_t *)m->lut;
    }
}

void mxu_exec_load(mxu_model *m, const uint64_t *insn, struct mxu_timing_insn *rec)
{
    unsigned mem = (unsigned)GET(LOAD, MEM);
    size_t lw = mxu_config_line_bytes(&m->cfg, mem);
    size_t elem = GET(LOAD, ELEM_BYTES);
    uint8_t pad = (uint8_t)GET(LOAD, PAD_VALUE);
    int64_t n0 = (int64_t)GET(LOAD, N0), n1 = (int64_t)GET(LOAD, N1), n2 = (int64_t)GET(LOAD, N2);
    int64_t pl = (int64_t)GET(LOAD, PAD_LEFT), pr = (int64_t)GET(LOAD, PAD_RIGHT);
    int64_t pt = (int64_t)GET(LOAD, PAD_TOP), pb = (int64_t)GET(LOAD, PAD_BOTTOM);
    uint64_t s0 = GET(LOAD, S0), s1 = GET(LOAD, S1), s2 = GET(LOAD, S2), base = GET(LOAD, DRAM_ADDR);
    uint32_t beat = m->cfg.dram_beat_bytes;
    uint8_t *line = mem_base(m, mem) + GET(LOAD, DST_LINE) * lw;
    uint64_t beats = 0;

    for (int64_t p = 0; p < n2; p++) {
        for (int64_t r = -pt; r < n1 + pb; r++) {
            for (int64_t e = -pl; e < n0 + pr; e++, line += lw) {
                if (r < 0 || r >= n1 || e < 0 || e >= n0) {
                    memset(line, pad, lw);
                    continue;
                }
                uint64_t src = base + (uint64_t)p * s2 + (uint64_t)r * s1 + (uint64_t)e * s0;
                memcpy(line, m->dram + src, elem);
                memset(line + elem, pad, lw - elem);
                beats += mxu_span_beats(src, elem, beat);
            }
        }
    }
    rec->a = beats;
    rec->b = mxu_decode_load_lines(insn);
}

void mxu_exec_store(mxu_model *m, const uint64_t *insn, struct mxu_timing_insn *rec)
{
    size_t lw = m->cfg.ub_line_bytes, elem = GET(STORE, ELEM_BYTES);
    uint64_t n0 = GET(STORE, N0), n1 = GET(STORE, N1), n2 = GET(STORE, N2);
    uint64_t s0 = GET(STORE, S0), s1 = GET(STORE, S1), s2 = GET(STORE, S2), base = GET(STORE, DRAM_ADDR);
    uint32_t beat = m->cfg.dram_beat_bytes;
    const int8_t *line = m->ub + GET(STORE, SRC_LINE) * lw;
    uint64_t beats = 0;

    for (uint64_t p = 0; p < n2; p++)
        for (uint64_t r = 0; r < n1; r++)
            for (uint64_t e = 0; e < n0; e++, line += lw) {
                uint64_t dst = base + p * s2 + r * s1 + e * s0;
                memcpy(m->dram + dst, line, elem);
                beats += mxu_span_beats(dst, elem, beat);
            }
    rec->a = beats;
    rec->b = n0 * n1 * n2;
}

/* Put WB tile `first_line` into the array, widened to int16 and stored as row
 * pairs: array_w[(r / 2) * 2 * cols_pad + 2 * c + r % 2] = W[r][c] (an odd last
 * row pairs with a zero row). That is the operand layout of SSE2's pmaddwd,
 * which multiplies two rows by their two inputs and adds, exactly in int32. */
_Static_assert(COL_BLOCK == 16, "multiply_vector handles blocks of 16 columns");

static void load_tile(mxu_model *m, uint64_t first_line)
{
    uint32_t rows = m->cfg.rows, cols = m->cfg.cols;
    size_t cp = m->cols_pad;
    const int8_t *w = m->wb + first_line * cols;
    for (uint32_t r = 0; r < rows; r++) {
        int16_t *dst = m->array_w + (size_t)(r / 2) * 2 * cp + r % 2;
        for (uint32_t c = 0; c < cols; c++)
            dst[2 * (size_t)c] = w[(size_t)r * cols + c];
    }
}

/* y = x . W for one input vector (x: ROWS int8). Every product and partial sum
 * is exact in int32 (|x . W| <= ROWS * 2^14), so the order of the additions
 * does not matter. Row pairs whose inputs are both zero are skipped (padding
 * lines and ReLU zeros are common). */
#ifdef __SSE2__
static void multiply_vector(const mxu_model *m, const int8_t *x, int32_t *restrict y)
{
    size_t rows = m->cfg.rows, cp = m->cols_pad;
    for (size_t cb = 0; cb < cp; cb += COL_BLOCK) {
        __m128i y0 = _mm_setzero_si128(), y1 = y0, y2 = y0, y3 = y0;
        for (size_t r = 0; r < rows; r += 2) {
            int16_t x0 = x[r], x1 = r + 1 < rows ? x[r + 1] : 0;
            if (!x0 && !x1)
                continue;
            __m128i xp = _mm_unpacklo_epi16(_mm_set1_epi16(x0), _mm_set1_epi16(x1)); /* x0 x1 x0 x1 ... */
            const int16_t *w = m->array_w + r * cp + 2 * cb; /* pair r / 2, column cb */
            y0 = _mm_add_epi32(y0, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)w), xp));
            y1 = _mm_add_epi32(y1, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + 8)), xp));
            y2 = _mm_add_epi32(y2, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + 16)), xp));
            y3 = _mm_add_epi32(y3, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + 24)), xp));
        }
        _mm_storeu_si128((__m128i *)(y + cb), y0);
        _mm_storeu_si128((__m128i *)(y + cb + 4), y1);
        _mm_storeu_si128((__m128i *)(y + cb + 8), y2);
        _mm_storeu_si128((__m128i *)(y + cb + 12), y3);
    }
}
#else
static void multiply_vector(const mxu_model *m, const int8_t *x, int32_t *restrict y)
{
    size_t rows = m->cfg.rows, cp = m->cols_pad;
    memset(y, 0, cp * sizeof *y);
    for (size_t r = 0; r < rows; r += 2) {
        int32_t x0 = x[r], x1 = r + 1 < rows ? x[r + 1] : 0;
        if (!x0 && !x1)
            continue;
        const int16_t *w = m->array_w + r * cp;
        for (size_t cb = 0; cb < cp; cb += COL_BLOCK) {
            int32_t *restrict yb = y + cb;
            const int16_t *restrict wb = w + 2 * cb;
            for (size_t c = 0; c < COL_BLOCK; c++)
                yb[c] += x0 * wb[2 * c] + x1 * wb[2 * c + 1];
        }
    }
}
#endif

/* acc += y, wrapping int32 (the accumulators' adders). */
static void acc_add(int32_t *acc, const int32_t *y, uint32_t cols)
{
    uint32_t c = 0;
#ifdef __SSE2__
    for (; c + 4 <= cols; c += 4) {
        __m128i a = _mm_loadu_si128((const __m128i *)(acc + c));
        _mm_storeu_si128((__m128i *)(acc + c), _mm_add_epi32(a, _mm_loadu_si128((const __m128i *)(y + c))));
    }
#endif
    for (; c < cols; c++)
        acc[c] = (int32_t)((uint32_t)acc[c] + (uint32_t)y[c]);
}

void mxu_exec_matmul(mxu_model *m, const uint64_t *insn, struct mxu_timing_insn *rec)
{
    uint64_t nk = GET(MATMUL, NK), n0 = GET(MATMUL, N0), n1 = GET(MATMUL, N1);
    uint64_t s0 = GET(MATMUL, S0), s1 = GET(MATMUL, S1), k_stride = GET(MATMUL, K_STRIDE);
    uint64_t ub_addr = GET(MATMUL, UB_ADDR), acc_addr = GET(MATMUL, ACC_ADDR), wgt = GET(MATMUL, WGT_LINE);
    int keep = (int)GET(MATMUL, KEEP_WEIGHTS), accumulate = (int)GET(MATMUL, ACCUMULATE);
    uint32_t cols = m->cfg.cols, lw = m->cfg.ub_line_bytes;
    int32_t *y = m->y;

    for (uint64_t k = 0; k < nk; k++) {
        if (!keep)
            load_tile(m, wgt + k * m->cfg.rows);
        int overwrite = k == 0 && !accumulate;
        for (uint64_t i1 = 0; i1 < n1; i1++) {
            for (uint64_t i0 = 0; i0 < n0; i0++) {
                const int8_t *x = m->ub + (ub_addr + k * k_stride + i1 * s1 + i0 * s0) * lw;
                int32_t *acc = m->acc + (acc_addr + i1 * n0 + i0) * cols;
                multiply_vector(m, x, y);
                if (overwrite)
                    memcpy(acc, y, cols * sizeof *acc);
                else
                    acc_add(acc, y, cols);
            }
        }
    }
    rec->keep_weights = (uint8_t)keep;
    rec->nk = (uint32_t)nk;
    rec->a = n0 * n1;
}

static int32_t read_le32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

void mxu_exec_activate(mxu_model *m, const uint64_t *insn, struct mxu_timing_insn *rec)
{
    uint32_t cols = m->cfg.cols, lw = m->cfg.ub_line_bytes;
    uint64_t in_w = GET(ACTIVATE, IN_W), out_h = GET(ACTIVATE, OUT_H), out_w = GET(ACTIVATE, OUT_W);
    uint64_t pk = GET(ACTIVATE, POOL_K), ps = GET(ACTIVATE, POOL_S);
    uint64_t acc_addr = GET(ACTIVATE, ACC_ADDR), ub_addr = GET(ACTIVATE, UB_ADDR);
    int32_t zp = (int32_t)MXU_GETS(insn, ACTIVATE, ZP_OUT);
    int32_t lo = (int32_t)MXU_GETS(insn, ACTIVATE, CLAMP_MIN), hi = (int32_t)MXU_GETS(insn, ACTIVATE, CLAMP_MAX);
    const int8_t *lut = GET(ACTIVATE, LUT_EN) ? m->lut : NULL;
    enum mxu_rounding rounding = GET(ACTIVATE, ROUND_HALF_UP) ? MXU_ROUND_HALF_UP : MXU_ROUND_AWAY;
    const uint8_t *pline = m->param + GET(ACTIVATE, PARAM_LINE) * cols * MXU_DEFAULT_PARAM_BYTES;
    int32_t *ch = m->chan;

    for (uint32_t c = 0; c < cols; c++)
        for (int i = 0; i < 3; i++)
            ch[3 * c + i] = read_le32(pline + MXU_DEFAULT_PARAM_BYTES * c + 4 * i);

    for (uint64_t py = 0; py < out_h; py++) {
        for (uint64_t px = 0; px < out_w; px++) {
            int8_t *dst = m->ub + (ub_addr + py * out_w + px) * lw;
            uint64_t first = acc_addr + py * ps * in_w + px * ps;
            for (uint32_t c = 0; c < cols; c++) {
                int8_t v = INT8_MIN;
                for (uint64_t dy = 0; dy < pk; dy++)
                    for (uint64_t dx = 0; dx < pk; dx++) {
                        int32_t a = m->acc[(first + dy * in_w + dx) * cols + c];
                        int8_t f = mxu_activate_rounding(a, ch[3 * c], ch[3 * c + 1], ch[3 * c + 2], zp,
                                                         lo, hi, lut, rounding);
                        if (f > v)
                            v = f;
                    }
                dst[c] = v;
            }
            memset(dst + cols, 0, lw - cols);
        }
    }
    rec->a = out_h * out_w * pk * pk;
    rec->b = out_h * out_w;
}
