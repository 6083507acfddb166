/* Lowering max and average pooling onto the systolic array (see mxu_pool.h).
 *
 * A pooling layer is cut into steps (image, output tile, channel block of
 * min(ROWS, COLS) channels). Each step loads its input tile (padding lines
 * -128 for max pools), copies or sums it into an accumulator slot with
 * identity MATMULs, and ACTIVATE turns the accumulators into the pooled
 * output. Input tiles, accumulators and output lines alternate between two
 * slots and loads run one step ahead of compute, as in lower_conv.c; the
 * builder derives the dependency tokens from the slot regions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_encode.h"
#include "mxu_error.h"
#include "mxu_lower.h"
#include "mxu_numerics.h"
#include "mxu_pack.h"
#include "mxu_pool.h"
#include "mxu_tiling.h"

#define FIELD_MAX(bits) ((1u << (bits)) - 1u)

/* ---- the average's divisor ------------------------------------------------ */

int32_t mxu_avgpool_round_div(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

static int divisor_exact(uint32_t count, const struct mxu_avgpool_divisor *d)
{
    int32_t lo = -128 * (int32_t)count, hi = 127 * (int32_t)count;
    for (int32_t s = lo; s <= hi; s++)
        if (mxu_requantize(d->weight * s, d->multiplier, d->shift) !=
            mxu_avgpool_round_div(s, (int32_t)count))
            return 0;
    return 1;
}

/* Multipliers near 1/(weight*count), for weights 1, 2, 4, ... 64: a weight of
 * 2^k gives the product k more fraction bits before the requantization's first
 * rounding (SRDHM), which is what makes the double rounding exact. */
int mxu_avgpool_divisor_find(uint32_t count, struct mxu_avgpool_divisor *out)
{
    memset(out, 0, sizeof *out);
    if (count == 0)
        return mxu_fail(MXU_ERR_INVAL, "average pool over an empty window");
    if (count > MXU_AVGPOOL_MAX_COUNT)
        return mxu_fail(MXU_ERR_UNSUPPORTED, "average pool window of %u taps exceeds %u: the "
                        "device cannot divide such sums exactly", count, MXU_AVGPOOL_MAX_COUNT);
    for (int32_t weight = 1; weight <= 64; weight *= 2) {
        int32_t qm, shift;
        if (mxu_quantize_multiplier(1.0 / ((double)weight * count), &qm, &shift))
            continue;
        for (int delta = 0; delta <= 16; delta++) {
            for (int sign = 1; sign >= -1; sign -= 2) {
                int64_t m = (int64_t)qm + sign * delta;
                struct mxu_avgpool_divisor d = {weight, (int32_t)m, shift};
                if (m < (1 << 30) || m > INT32_MAX || (delta == 0 && sign < 0))
                    continue;
                if (divisor_exact(count, &d)) {
                    *out = d;
                    return MXU_OK;
                }
            }
        }
    }
    return mxu_fail(MXU_ERR_UNSUPPORTED, "average pool over %u taps: no (weight, multiplier, "
                    "shift) reproduces TFLite's rounded division", count);
}

/* ---- geometry and plan ------------------------------------------------------ */

struct pgeom {
    uint32_t n, h, w, c;
    uint32_t kh, kw, sh, sw, pt, pl, pb, pr;
    uint32_t oh, ow;
};

static int pool_geometry(const mxu_program *p, const mxu_layer *l, struct pgeom *g)
{
    memset(g, 0, sizeof *g);
    if (l->input >= p->n_tensors || l->output >= p->n_tensors)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: tensor index out of range", l->name);
    const mxu_tensor *in = &p->tensors[l->input], *out = &p->tensors[l->output];
    if (in->layout != MXU_LAYOUT_NHWC || out->layout != MXU_LAYOUT_NHWC || in->ndims != 4 ||
        out->ndims != 4)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: pooling needs NHWC tensors", l->name);
    g->n = in->dims[0], g->h = in->dims[1], g->w = in->dims[2], g->c = in->dims[3];
    g->kh = l->kh, g->kw = l->kw, g->sh = l->stride_h, g->sw = l->stride_w;
    g->pt = l->pad_top, g->pl = l->pad_left, g->pb = l->pad_bottom, g->pr = l->pad_right;
    if (!g->kh || !g->kw || !g->sh || !g->sw)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: zero window or stride", l->name);
    if (!g->n || !g->h || !g->w || !g->c)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: empty input", l->name);
    if ((uint64_t)g->h + g->pt + g->pb < g->kh || (uint64_t)g->w + g->pl + g->pr < g->kw)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: window %ux%u larger than the padded input",
                        l->name, g->kh, g->kw);
    g->oh = (uint32_t)(((uint64_t)g->h + g->pt + g->pb - g->kh) / g->sh + 1);
    g->ow = (uint32_t)(((uint64_t)g->w + g->pl + g->pr - g->kw) / g->sw + 1);
    if (out->dims[0] != g->n || out->dims[1] != g->oh || out->dims[2] != g->ow ||
        out->dims[3] != g->c)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: output %s is %ux%ux%ux%u, the layer makes %ux%ux%ux%u",
                        l->name, out->name, out->dims[0], out->dims[1], out->dims[2], out->dims[3],
                        g->n, g->oh, g->ow, g->c);
    if (l->act_min > l->act_max || l->act_max < -128 || l->act_min > 127)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: empty activation range [%d, %d]", l->name,
                        l->act_min, l->act_max);
    return MXU_OK;
}

static uint32_t in_rows(const struct pgeom *g, uint32_t tile_h)
{
    return (tile_h - 1) * g->sh + g->kh;
}

static uint32_t in_cols(const struct pgeom *g, uint32_t tile_w)
{
    return (tile_w - 1) * g->sw + g->kw;
}

static uint64_t acc_need(const struct pgeom *g, const struct mxu_pool_plan *pl, uint32_t th,
                         uint32_t tw)
{
    uint64_t rows = in_rows(g, th), cols = in_cols(g, tw);
    switch (pl->mode) {
    case MXU_POOL_MODE_TILE: return rows * cols;
    case MXU_POOL_MODE_ROWS: return (uint64_t)th * pl->pool_k * cols;
    case MXU_POOL_MODE_COLS: return (uint64_t)tw * pl->pool_k * rows;
    case MXU_POOL_MODE_SUM: return (uint64_t)th * tw;
    }
    return UINT64_MAX;
}

static uint64_t ub_need(const struct pgeom *g, uint32_t th, uint32_t tw)
{
    return 2 * (uint64_t)in_rows(g, th) * in_cols(g, tw) + 2 * (uint64_t)th * tw;
}

static int tile_fits(const mxu_hw_config *cfg, const struct pgeom *g, const struct mxu_pool_plan *pl,
                     uint32_t th, uint32_t tw)
{
    return in_rows(g, th) <= 0xFFFF && in_cols(g, tw) <= 0xFFFF &&
           (uint64_t)g->sh * in_cols(g, tw) <= FIELD_MAX(MXU_F_MATMUL_S1_BITS) &&
           acc_need(g, pl, th, tw) <= cfg->acc_rows / 2 &&
           ub_need(g, th, tw) <= cfg->ub_lines - MXU_BUILDER_UB_RESERVED;
}

struct tile_ctx {
    const mxu_hw_config *cfg;
    const struct pgeom *g;
    const struct mxu_pool_plan *pl;
};

static int tile_ctx_fits(const void *ctx, uint32_t th, uint32_t tw)
{
    const struct tile_ctx *t = ctx;
    return tile_fits(t->cfg, t->g, t->pl, th, tw);
}

static int plan_tiles(const mxu_hw_config *cfg, const mxu_layer *l, const struct pgeom *g,
                      struct mxu_pool_plan *pl)
{
    struct tile_ctx ctx = {cfg, g, pl};
    if (mxu_tile_search(g->oh, g->ow, tile_ctx_fits, &ctx, &pl->tile_h, &pl->tile_w))
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: no pooling tile fits: one output pixel needs %llu "
                        "UB lines (device: %u) and %llu accumulator rows (device: %u, half usable)",
                        l->name, (unsigned long long)ub_need(g, 1, 1), cfg->ub_lines,
                        (unsigned long long)acc_need(g, pl, 1, 1), cfg->acc_rows);
    pl->in_tile_lines = in_rows(g, pl->tile_h) * in_cols(g, pl->tile_w);
    pl->acc_rows = (uint32_t)acc_need(g, pl, pl->tile_h, pl->tile_w);
    return MXU_OK;
}

/* Which ACTIVATE pattern takes the maximum, and its field limits. */
static int plan_max_mode(const mxu_layer *l, const struct pgeom *g, struct mxu_pool_plan *pl)
{
    uint32_t stride;
    if (g->kh == g->kw && g->sh == g->sw) {
        pl->mode = MXU_POOL_MODE_TILE, pl->pool_k = g->kh, stride = g->sh;
    } else if (g->kw >= g->kh) {
        pl->mode = MXU_POOL_MODE_ROWS, pl->pool_k = g->kw, stride = g->sw;
    } else {
        pl->mode = MXU_POOL_MODE_COLS, pl->pool_k = g->kh, stride = g->sh;
    }
    if (pl->pool_k > FIELD_MAX(MXU_F_ACTIVATE_POOL_K_BITS))
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: max-pool window %ux%u exceeds the ACTIVATE pool_k "
                        "field (at most %u)", l->name, g->kh, g->kw,
                        FIELD_MAX(MXU_F_ACTIVATE_POOL_K_BITS));
    if (stride > FIELD_MAX(MXU_F_ACTIVATE_POOL_S_BITS))
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: max-pool stride %u exceeds the ACTIVATE pool_s "
                        "field (at most %u)", l->name, stride, FIELD_MAX(MXU_F_ACTIVATE_POOL_S_BITS));
    return MXU_OK;
}

static int plan_avg(const mxu_layer *l, const struct pgeom *g, struct mxu_pool_plan *pl)
{
    pl->mode = MXU_POOL_MODE_SUM;
    pl->pool_k = 1;
    int cut = g->pt || g->pl || (uint64_t)(g->oh - 1) * g->sh + g->kh > g->h ||
              (uint64_t)(g->ow - 1) * g->sw + g->kw > g->w;
    if (cut)
        return mxu_fail(MXU_ERR_UNSUPPORTED, "layer %s: average pool windows cut by padding "
                        "(%u,%u,%u,%u) divide by smaller counts, which one multiplier per channel "
                        "cannot express; only unpadded average pools run on the device", l->name,
                        g->pt, g->pl, g->pb, g->pr);
    if (g->sw > FIELD_MAX(MXU_F_MATMUL_S0_BITS))
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: stride %u exceeds the MATMUL s0 field (%u)",
                        l->name, g->sw, FIELD_MAX(MXU_F_MATMUL_S0_BITS));
    uint64_t count = (uint64_t)g->kh * g->kw;
    return mxu_avgpool_divisor_find(count > UINT32_MAX ? UINT32_MAX : (uint32_t)count, &pl->div);
}

static int plan_with_geom(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                          struct pgeom *g, struct mxu_pool_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    if (l->op != MXU_LAYER_MAXPOOL && l->op != MXU_LAYER_AVGPOOL)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: op %u is not a pool", l->name, l->op);
    int rc = pool_geometry(p, l, g);
    if (rc)
        return rc;
    rc = l->op == MXU_LAYER_MAXPOOL ? plan_max_mode(l, g, pl) : plan_avg(l, g, pl);
    if (rc)
        return rc;
    if (g->c > FIELD_MAX(MXU_F_LOAD_S0_BITS))
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: %u channels exceed the LOAD s0 field (pixel "
                        "stride at most %u bytes)", l->name, g->c, FIELD_MAX(MXU_F_LOAD_S0_BITS));
    uint32_t pad_max = FIELD_MAX(MXU_F_LOAD_PAD_LEFT_BITS);
    if (g->pl > pad_max || g->pr > pad_max)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: horizontal padding %u/%u exceeds the LOAD pad "
                        "field (%u)", l->name, g->pl, g->pr, pad_max);
    pl->block = cfg->rows < cfg->cols ? cfg->rows : cfg->cols;
    pl->out_h = g->oh, pl->out_w = g->ow;
    return plan_tiles(cfg, l, g, pl);
}

int mxu_plan_pool(const mxu_builder *b, const mxu_layer *l, struct mxu_pool_plan *plan)
{
    struct pgeom g;
    return plan_with_geom(mxu_builder_config(b), mxu_builder_program((mxu_builder *)b), l, &g, plan);
}

/* ---- emission --------------------------------------------------------------- */

struct pstep {
    uint32_t img, ty, tx, blk;
    uint32_t oy0, ox0, ptr, ptc, th, tw; /* output origin and extents, input extents */
    int32_t iy0, ix0;                    /* input origin (may be negative) */
    uint32_t c0, cnt;                    /* channels of the block */
};

struct pool_lowering {
    mxu_builder *b;
    const mxu_hw_config *cfg;
    const mxu_program *p;
    const mxu_layer *l;
    struct pgeom g;
    struct mxu_pool_plan pl;
    uint32_t n_ty, n_tx, n_blocks, n_steps, wb_tiles;
    uint32_t wgt_addr, param_addr, fill_addr;
    int32_t pad_value;
    int in_region, out_region, wb_region, param_region;
    struct mxu_slots slots;
    struct pstep ring[2];
};

static void decode_step(const struct pool_lowering *L, uint32_t i, struct pstep *s)
{
    const struct pgeom *g = &L->g;
    memset(s, 0, sizeof *s);
    s->blk = i % L->n_blocks;
    uint32_t r = i / L->n_blocks;
    s->tx = r % L->n_tx;
    r /= L->n_tx;
    s->ty = r % L->n_ty;
    s->img = r / L->n_ty;
    s->oy0 = s->ty * L->pl.tile_h;
    s->ox0 = s->tx * L->pl.tile_w;
    s->ptr = g->oh - s->oy0 < L->pl.tile_h ? g->oh - s->oy0 : L->pl.tile_h;
    s->ptc = g->ow - s->ox0 < L->pl.tile_w ? g->ow - s->ox0 : L->pl.tile_w;
    s->th = in_rows(g, s->ptr);
    s->tw = in_cols(g, s->ptc);
    s->iy0 = (int32_t)(s->oy0 * g->sh) - (int32_t)g->pt;
    s->ix0 = (int32_t)(s->ox0 * g->sw) - (int32_t)g->pl;
    s->c0 = s->blk * L->pl.block;
    s->cnt = g->c - s->c0 < L->pl.block ? g->c - s->c0 : L->pl.block;
}

/* The input tile of a step: its channel block, out-of-image lines filled with
 * the padding value. */
static int load_input(struct pool_lowering *L, const struct pstep *s, uint32_t line, int slot)
{
    const struct pgeom *g = &L->g;
    struct mxu_window w = {
        .tensor_addr = L->p->tensors[L->l->input].dram_addr, .h = g->h, .w = g->w,
        .pixel_bytes = g->c, .img = s->img, .c0 = s->c0, .channels = s->cnt, .y0 = s->iy0,
        .x0 = s->ix0, .rows = s->th, .cols = s->tw, .pad_value = L->pad_value,
        .fill_addr = L->fill_addr, .dst_line = line, .src_region = L->in_region,
        .dst_region = slot, .layer = L->l->name};
    return mxu_emit_window_load(L->b, &w);
}

static int step_loads(struct pool_lowering *L, uint32_t i)
{
    struct pstep *s = &L->ring[i % 2];
    int rc = MXU_OK;
    decode_step(L, i, s);
    if (i == 0) {
        struct mxu_load w = {.mem = MXU_MEM_WB, .dram_addr = L->wgt_addr,
                             .elem_bytes = L->cfg->cols, .n0 = L->wb_tiles * L->cfg->rows,
                             .n1 = 1, .n2 = 1, .s0 = L->cfg->cols};
        struct mxu_load pr = {.mem = MXU_MEM_PARAM, .dram_addr = L->param_addr,
                              .elem_bytes = mxu_config_line_bytes(L->cfg, MXU_MEM_PARAM),
                              .n0 = 1, .n1 = 1, .n2 = 1};
        rc = mxu_emit_load(L->b, &w, -1, L->wb_region);
        if (rc == MXU_OK)
            rc = mxu_emit_load(L->b, &pr, -1, L->param_region);
    }
    if (rc == MXU_OK)
        rc = load_input(L, s, L->slots.in_base[i % 2], L->slots.in[i % 2]);
    return rc;
}

static int emit_matmul(struct pool_lowering *L, uint32_t slot, const struct mxu_matmul *m)
{
    uint64_t w[MXU_INSN_WORDS];
    mxu_encode_matmul(w, m);
    return mxu_emit_regions(L->b, w, L->slots.in[slot], L->wb_region, -1, L->slots.acc[slot]);
}

static int emit_activate(struct pool_lowering *L, uint32_t slot, struct mxu_activate *a)
{
    uint64_t w[MXU_INSN_WORDS];
    a->param_line = 0;
    a->zp_out = 0;
    a->clamp_min = L->l->act_min < -128 ? -128 : L->l->act_min;
    a->clamp_max = L->l->act_max > 127 ? 127 : L->l->act_max;
    mxu_encode_activate(w, a);
    return mxu_emit_regions(L->b, w, L->slots.acc[slot], L->param_region, -1, L->slots.out[slot]);
}

/* Max pool, square window and stride: the tile is copied whole into the
 * accumulators and one ACTIVATE pools it. */
static int compute_tile(struct pool_lowering *L, const struct pstep *s, uint32_t slot)
{
    struct mxu_matmul m = {.ub_addr = L->slots.in_base[slot], .acc_addr = L->slots.acc_base[slot],
                           .n0 = s->tw, .n1 = s->th, .s0 = 1, .s1 = s->tw, .nk = 1};
    struct mxu_activate a = {.ub_addr = L->slots.out_base[slot], .acc_addr = L->slots.acc_base[slot],
                             .in_w = s->tw, .out_h = s->ptr, .out_w = s->ptc,
                             .pool_k = L->pl.pool_k, .pool_s = L->g.sh};
    int rc = emit_matmul(L, slot, &m);
    return rc ? rc : emit_activate(L, slot, &a);
}

/* Max pool, kw >= kh: per output row, a k x tw accumulator block whose rows are
 * the kh input rows of the window, padded to k rows by repeating the first
 * (repeats cannot change a maximum); ACTIVATE pools it with out_h = 1, so only
 * its horizontal stride matters. */
static int compute_rows(struct pool_lowering *L, const struct pstep *s, uint32_t slot)
{
    const struct pgeom *g = &L->g;
    uint32_t k = L->pl.pool_k;
    int rc = MXU_OK;
    for (uint32_t r = 0; rc == MXU_OK && r < s->ptr; r++) {
        uint32_t ub = L->slots.in_base[slot] + r * g->sh * s->tw;
        uint32_t acc = L->slots.acc_base[slot] + r * k * s->tw;
        struct mxu_matmul m = {.ub_addr = ub, .acc_addr = acc, .n0 = s->tw, .n1 = g->kh,
                               .s0 = 1, .s1 = s->tw, .nk = 1};
        struct mxu_matmul rep = {.ub_addr = ub, .acc_addr = acc + g->kh * s->tw, .n0 = s->tw,
                                 .n1 = k - g->kh, .s0 = 1, .s1 = 0, .nk = 1};
        struct mxu_activate a = {.ub_addr = L->slots.out_base[slot] + r * s->ptc, .acc_addr = acc,
                                 .in_w = s->tw, .out_h = 1, .out_w = s->ptc, .pool_k = k,
                                 .pool_s = g->sw};
        rc = emit_matmul(L, slot, &m);
        if (rc == MXU_OK && k > g->kh)
            rc = emit_matmul(L, slot, &rep);
        if (rc == MXU_OK)
            rc = emit_activate(L, slot, &a);
    }
    return rc;
}

/* Max pool, kh > kw: the transpose of compute_rows, per output column; the
 * output lines come out column by column. */
static int compute_cols(struct pool_lowering *L, const struct pstep *s, uint32_t slot)
{
    const struct pgeom *g = &L->g;
    uint32_t k = L->pl.pool_k;
    int rc = MXU_OK;
    for (uint32_t c = 0; rc == MXU_OK && c < s->ptc; c++) {
        uint32_t ub = L->slots.in_base[slot] + c * g->sw;
        uint32_t acc = L->slots.acc_base[slot] + c * k * s->th;
        struct mxu_matmul m = {.ub_addr = ub, .acc_addr = acc, .n0 = s->th, .n1 = g->kw,
                               .s0 = s->tw, .s1 = 1, .nk = 1};
        struct mxu_matmul rep = {.ub_addr = ub, .acc_addr = acc + g->kw * s->th, .n0 = s->th,
                                 .n1 = k - g->kw, .s0 = s->tw, .s1 = 0, .nk = 1};
        struct mxu_activate a = {.ub_addr = L->slots.out_base[slot] + c * s->ptr, .acc_addr = acc,
                                 .in_w = s->th, .out_h = 1, .out_w = s->ptr, .pool_k = k,
                                 .pool_s = g->sh};
        rc = emit_matmul(L, slot, &m);
        if (rc == MXU_OK && k > g->kw)
            rc = emit_matmul(L, slot, &rep);
        if (rc == MXU_OK)
            rc = emit_activate(L, slot, &a);
    }
    return rc;
}

/* Average pool: the taps of a kernel row are summed by one MATMUL of up to
 * wb_tiles identical weight tiles (k_stride 1 walks the row), the rows by
 * accumulating MATMULs; ACTIVATE divides. */
static int compute_sum(struct pool_lowering *L, const struct pstep *s, uint32_t slot)
{
    const struct pgeom *g = &L->g;
    int rc = MXU_OK, first = 1;
    for (uint32_t ky = 0; rc == MXU_OK && ky < g->kh; ky++) {
        for (uint32_t kx = 0; rc == MXU_OK && kx < g->kw; kx += L->wb_tiles) {
            uint32_t nk = g->kw - kx < L->wb_tiles ? g->kw - kx : L->wb_tiles;
            struct mxu_matmul m = {.accumulate = !first,
                                   .ub_addr = L->slots.in_base[slot] + ky * s->tw + kx,
                                   .acc_addr = L->slots.acc_base[slot], .n0 = s->ptc, .n1 = s->ptr,
                                   .s0 = g->sw, .s1 = g->sh * s->tw, .nk = nk, .k_stride = 1};
            rc = emit_matmul(L, slot, &m);
            first = 0;
        }
    }
    struct mxu_activate a = {.ub_addr = L->slots.out_base[slot], .acc_addr = L->slots.acc_base[slot],
                             .in_w = s->ptc, .out_h = s->ptr, .out_w = s->ptc, .pool_k = 1,
                             .pool_s = 1};
    return rc ? rc : emit_activate(L, slot, &a);
}

static int step_store(struct pool_lowering *L, const struct pstep *s, uint32_t slot)
{
    const struct pgeom *g = &L->g;
    uint64_t pixel = ((uint64_t)s->img * g->oh + s->oy0) * g->ow + s->ox0;
    struct mxu_store st = {
        .dram_addr = L->p->tensors[L->l->output].dram_addr + (uint32_t)(pixel * g->c + s->c0),
        .src_line = L->slots.out_base[slot], .elem_bytes = s->cnt, .n0 = s->ptc, .n1 = s->ptr, .n2 = 1,
        .s0 = g->c, .s1 = g->ow * g->c};
    if (L->pl.mode == MXU_POOL_MODE_COLS) { /* lines column by column */
        st.n0 = 1, st.n1 = s->ptr, st.n2 = s->ptc;
        st.s0 = 0, st.s1 = g->ow * g->c, st.s2 = g->c;
    }
    uint64_t w[MXU_INSN_WORDS];
    mxu_encode_store(w, &st);
    return mxu_emit_regions(L->b, w, L->slots.out[slot], -1, -1, L->out_region);
}

static int step_compute(struct pool_lowering *L, uint32_t i)
{
    const struct pstep *s = &L->ring[i % 2];
    uint32_t slot = i % 2;
    int rc;
    switch (L->pl.mode) {
    case MXU_POOL_MODE_TILE: rc = compute_tile(L, s, slot); break;
    case MXU_POOL_MODE_ROWS: rc = compute_rows(L, s, slot); break;
    case MXU_POOL_MODE_COLS: rc = compute_cols(L, s, slot); break;
    default: rc = compute_sum(L, s, slot); break;
    }
    return rc ? rc : step_store(L, s, slot);
}


/* Identity weight tiles (diagonal = weight on the first `block` rows), the
 * parameter line (bias 0, the requantization) and the padding byte. */
static int place_constants(struct pool_lowering *L)
{
    const mxu_hw_config *cfg = L->cfg;
    int32_t weight = 1, mult = MXU_POOL_IDENTITY_MULTIPLIER, shift = MXU_POOL_IDENTITY_SHIFT;
    if (L->pl.mode == MXU_POOL_MODE_SUM)
        weight = L->pl.div.weight, mult = L->pl.div.multiplier, shift = L->pl.div.shift;
    uint32_t tile = cfg->rows * cfg->cols, param_bytes = mxu_config_line_bytes(cfg, MXU_MEM_PARAM);
    uint32_t wbytes = L->wb_tiles * tile;
    uint8_t *buf = calloc(1, wbytes > param_bytes ? wbytes : param_bytes);
    char name[MXU_NAME_LEN + 8];
    if (!buf)
        return mxu_fail(MXU_ERR_NOMEM, "pool constants");
    for (uint32_t t = 0; t < L->wb_tiles; t++)
        for (uint32_t r = 0; r < L->pl.block; r++)
            buf[t * tile + r * cfg->cols + r] = (uint8_t)weight;
    snprintf(name, sizeof name, "%.48s.weights", L->l->name);
    int rc = mxu_builder_add_constant(L->b, name, buf, wbytes, &L->wgt_addr);
    memset(buf, 0, param_bytes);
    for (uint32_t c = 0; c < cfg->cols; c++)
        mxu_pack_param_entry(buf + c * MXU_DEFAULT_PARAM_BYTES, 0, mult, shift);
    snprintf(name, sizeof name, "%.48s.params", L->l->name);
    if (rc == MXU_OK)
        rc = mxu_builder_add_constant(L->b, name, buf, param_bytes, &L->param_addr);
    free(buf);
    int8_t fill = (int8_t)L->pad_value;
    snprintf(name, sizeof name, "%.48s.fill", L->l->name);
    if (rc == MXU_OK)
        rc = mxu_builder_add_constant(L->b, name, &fill, 1, &L->fill_addr);
    return rc;
}

static int make_regions(struct pool_lowering *L)
{
    if (mxu_slots_make(L->b, L->pl.in_tile_lines, L->pl.tile_h * L->pl.tile_w, &L->slots))
        return MXU_ERR_NOMEM;
    L->wb_region = mxu_builder_region(L->b, MXU_REGION_WB, 0, L->wb_tiles * L->cfg->rows);
    L->param_region = mxu_builder_region(L->b, MXU_REGION_PARAM, 0, 1);
    L->in_region = mxu_builder_tensor_region(L->b, L->l->input);
    L->out_region = mxu_builder_tensor_region(L->b, L->l->output);
    if (L->wb_region < 0 || L->param_region < 0)
        return MXU_ERR_NOMEM;
    return L->in_region < 0 ? L->in_region : L->out_region < 0 ? L->out_region : MXU_OK;
}

/* mxu_emit_steps callbacks. */
static int emit_loads(void *ctx, uint32_t i)
{
    return step_loads((struct pool_lowering *)ctx, i);
}

static int emit_compute(void *ctx, uint32_t i)
{
    return step_compute((struct pool_lowering *)ctx, i);
}

int mxu_lower_pool(mxu_builder *b, const mxu_layer *l)
{
    struct pool_lowering L;
    memset(&L, 0, sizeof L);
    L.b = b;
    L.cfg = mxu_builder_config(b);
    L.p = mxu_builder_program(b);
    L.l = l;
    int rc = plan_with_geom(L.cfg, L.p, l, &L.g, &L.pl);
    if (rc)
        return rc;
    if (L.cfg->wb_lines < L.cfg->rows)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: a weight tile needs %u lines and the device's "
                        "weight buffer has %u", l->name, L.cfg->rows, L.cfg->wb_lines);
    L.pad_value = l->op == MXU_LAYER_MAXPOOL ? -128 : 0;
    L.wb_tiles = 1;
    if (L.pl.mode == MXU_POOL_MODE_SUM) {
        uint32_t fit = L.cfg->wb_lines / L.cfg->rows;
        L.wb_tiles = L.g.kw < fit ? L.g.kw : fit;
    }
    L.n_ty = mxu_div_up(L.g.oh, L.pl.tile_h);
    L.n_tx = mxu_div_up(L.g.ow, L.pl.tile_w);
    L.n_blocks = mxu_div_up(L.g.c, L.pl.block);
    uint64_t steps = (uint64_t)L.g.n * L.n_ty * L.n_tx * L.n_blocks;
    if (steps > UINT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: too many tiles", l->name);
    L.n_steps = (uint32_t)steps;
    if ((rc = place_constants(&L)) == MXU_OK && (rc = make_regions(&L)) == MXU_OK)
        rc = mxu_emit_steps(&L, L.n_steps, emit_loads, emit_compute);
    return rc;
}
