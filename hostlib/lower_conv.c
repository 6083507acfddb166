/* Lowering conv2d and fully-connected layers onto the systolic array.
 *
 * A layer is cut into steps: (image, group, output tile, column block,
 * weight piece). A step's MATMULs sum the taps of its piece into one
 * accumulator slot; the last piece of a column block adds ACTIVATE (bias,
 * requantization, clamp, LUT, fused max-pool) and STORE. A K x K convolution
 * is K*K MATMULs over one padded input tile in the UB, each shifted by its tap:
 * no im2col anywhere.
 *
 * Loads run one step ahead of compute (software pipelining): input tiles
 * alternate between two UB slots, accumulators and output lines between two
 * slots each, weight pieces and parameter lines live in LRU caches of slots, so
 * a layer whose weights fit the weight buffer loads them once. The builder
 * turns the slot hazards into dependency tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_encode.h"
#include "mxu_error.h"
#include "mxu_lower.h"
#include "mxu_pack.h"
#include "mxu_s2d.h"
#include "mxu_tiling.h"
#include "mxu_pool.h"

struct geom {
    uint32_t n, h, w, cin, cout;
    uint32_t kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    uint32_t pk, ps;
    uint32_t oh, ow; /* convolution output */
    uint32_t ph, pw; /* layer output (after the fused pool) */
    uint32_t out_pixel_stride;
    uint32_t pack; /* input pixels per UB line (1: unpacked) */
    uint32_t ub_spare; /* UB lines left to an input hook */
    uint32_t max_tile_h; /* 0: any; else the tile's output rows at most */
};

static uint32_t conv_extent(uint32_t pooled, const struct geom *g)
{
    return (pooled - 1) * g->ps + g->pk;
}

static uint32_t in_extent(uint32_t out, uint32_t k, uint32_t s, uint32_t d)
{
    return (out - 1) * s + (k - 1) * d + 1;
}

static int fc_geometry(const mxu_program *p, const mxu_layer *l, struct geom *g)
{
    const mxu_tensor *in = &p->tensors[l->input], *out = &p->tensors[l->output];
    uint64_t batch = in->dims[0];
    memset(g, 0, sizeof *g);
    g->n = 1;
    g->h = 1;
    g->w = (uint32_t)batch;
    g->cin = mxu_layer_cin(p, l);
    g->cout = l->cout;
    g->kh = g->kw = g->sh = g->sw = g->dh = g->dw = g->pk = g->ps = 1;
    g->oh = g->ph = 1;
    g->ow = g->pw = (uint32_t)batch;
    if (mxu_tensor_elems(out) != batch * l->cout)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: output %s holds %llu values, expected %llu x %u",
                        l->name, out->name, (unsigned long long)mxu_tensor_elems(out),
                        (unsigned long long)batch, l->cout);
    return MXU_OK;
}

static int conv_geometry(const mxu_program *p, const mxu_layer *l, struct geom *g)
{
    const mxu_tensor *in = &p->tensors[l->input], *out = &p->tensors[l->output];
    memset(g, 0, sizeof *g);
    if (in->layout != MXU_LAYOUT_NHWC || out->layout != MXU_LAYOUT_NHWC)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: conv2d needs NHWC tensors", l->name);
    g->n = in->dims[0];
    g->h = in->dims[1];
    g->w = in->dims[2];
    g->cin = in->dims[3];
    g->cout = l->cout;
    g->kh = l->kh, g->kw = l->kw, g->sh = l->stride_h, g->sw = l->stride_w;
    g->dh = l->dil_h ? l->dil_h : 1, g->dw = l->dil_w ? l->dil_w : 1;
    g->pt = l->pad_top, g->pl = l->pad_left, g->pb = l->pad_bottom, g->pr = l->pad_right;
    g->pk = l->pool_k ? l->pool_k : 1, g->ps = l->pool_k ? l->pool_s : 1;
    if (!g->kh || !g->kw || !g->sh || !g->sw || !g->ps)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: zero kernel, stride or pool stride", l->name);
    uint64_t eh = (uint64_t)(g->kh - 1) * g->dh + 1, ew = (uint64_t)(g->kw - 1) * g->dw + 1;
    if (g->h + g->pt + g->pb < eh || g->w + g->pl + g->pr < ew)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: kernel larger than the padded input", l->name);
    g->oh = (uint32_t)((g->h + g->pt + g->pb - eh) / g->sh + 1);
    g->ow = (uint32_t)((g->w + g->pl + g->pr - ew) / g->sw + 1);
    if (g->oh < g->pk || g->ow < g->pk)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: pool window larger than the conv output", l->name);
    g->ph = (g->oh - g->pk) / g->ps + 1;
    g->pw = (g->ow - g->pk) / g->ps + 1;
    if (out->dims[0] != g->n || out->dims[1] != g->ph || out->dims[2] != g->pw ||
        out->dims[3] != g->cout)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: output %s is %ux%ux%ux%u, the layer makes %ux%ux%ux%u",
                        l->name, out->name, out->dims[0], out->dims[1], out->dims[2], out->dims[3],
                        g->n, g->ph, g->pw, g->cout);
    return MXU_OK;
}

static int geometry(const mxu_program *p, const mxu_layer *l, struct geom *g)
{
    if (l->input >= p->n_tensors || l->output >= p->n_tensors)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: tensor index out of range", l->name);
    int rc = l->op == MXU_LAYER_FC ? fc_geometry(p, l, g) : conv_geometry(p, l, g);
    uint32_t groups = l->op == MXU_LAYER_FC || !l->groups ? 1 : l->groups;
    if (rc == MXU_OK && (l->act_min > l->act_max || l->act_max < -128 || l->act_min > 127))
        rc = mxu_fail(MXU_ERR_INVAL, "layer %s: empty activation range [%d, %d]", l->name,
                      l->act_min, l->act_max);
    if (rc == MXU_OK && (g->cin % groups || g->cout % groups || !g->cout))
        rc = mxu_fail(MXU_ERR_INVAL, "layer %s: %u groups do not divide %u inputs / %u outputs",
                      l->name, groups, g->cin, g->cout);
    g->out_pixel_stride = g->cout;
    return rc;
}

/* UB lines of an input tile and its output lines, for a pooled tile ph x pw. */
static uint64_t tile_ub_lines(const struct geom *g, uint32_t kc, uint32_t ptr, uint32_t ptc)
{
    uint64_t th = in_extent(conv_extent(ptr, g), g->kh, g->sh, g->dh);
    uint64_t tw = in_extent(conv_extent(ptc, g), g->kw, g->sw, g->dw);
    return 2 * (kc * th * tw) + 2 * (uint64_t)ptr * ptc;
}

static int tile_fits(const mxu_hw_config *cfg, const struct geom *g, uint32_t kc, uint32_t ptr,
                     uint32_t ptc)
{
    uint64_t tr = conv_extent(ptr, g), tc = conv_extent(ptc, g);
    uint64_t ub = cfg->ub_lines - MXU_BUILDER_UB_RESERVED - g->ub_spare;
    return tr * tc <= cfg->acc_rows / 2 && tc <= 0xFFFF && tr <= 0xFFFF &&
           (!g->max_tile_h || ptr <= g->max_tile_h) &&
           tile_ub_lines(g, kc, ptr, ptc) <= ub;
}

struct tile_ctx {
    const mxu_hw_config *cfg;
    const struct geom *g;
    uint32_t kc;
};

static int tile_ctx_fits(const void *ctx, uint32_t ptr, uint32_t ptc)
{
    const struct tile_ctx *t = ctx;
    return tile_fits(t->cfg, t->g, t->kc, ptr, ptc);
}

static int plan_tiles(const mxu_hw_config *cfg, const mxu_layer *l, const struct geom *g,
                      uint32_t kc, struct mxu_conv_plan *pl)
{
    struct tile_ctx ctx = {cfg, g, kc};
    if (mxu_tile_search(g->ph, g->pw, tile_ctx_fits, &ctx, &pl->tile_h, &pl->tile_w))
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: no output tile fits: one output pixel needs %llu UB "
                        "lines (device: %u) and %u accumulator rows (device: %u, half usable)",
                        l->name, (unsigned long long)tile_ub_lines(g, kc, 1, 1), cfg->ub_lines,
                        conv_extent(1, g) * conv_extent(1, g), cfg->acc_rows);
    uint32_t th = in_extent(conv_extent(pl->tile_h, g), g->kh, g->sh, g->dh);
    uint32_t tw = in_extent(conv_extent(pl->tile_w, g), g->kw, g->sw, g->dw);
    pl->in_tile_lines = kc * th * tw;
    return MXU_OK;
}

static int plan_weights_slots(const mxu_hw_config *cfg, const mxu_layer *l, struct mxu_conv_plan *pl);

/* Weight pieces: taps x input chunks that two of fit the weight buffer (so one
 * loads while the other computes). All taps of as many chunks as fit; when even
 * one chunk of all taps does not fit, groups of taps of one chunk. */
static int plan_weights(const mxu_hw_config *cfg, const mxu_layer *l, struct mxu_conv_plan *pl)
{
    uint64_t per_tap = cfg->rows, half = cfg->wb_lines / 2;
    if (half < per_tap)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: a weight tile needs %u lines and the device's "
                        "weight buffer has %u (two tiles must fit)", l->name, cfg->rows, cfg->wb_lines);
    if (pl->taps * per_tap <= half) {
        uint64_t kcg = half / (pl->taps * per_tap);
        pl->taps_per_piece = pl->taps;
        pl->kc_per_piece = kcg < pl->kc ? (uint32_t)kcg : pl->kc;
    } else {
        pl->taps_per_piece = (uint32_t)(half / per_tap);
        pl->kc_per_piece = 1;
    }
    pl->kc_per_piece = mxu_div_up(pl->kc, mxu_div_up(pl->kc, pl->kc_per_piece));
    pl->taps_per_piece = mxu_div_up(pl->taps, mxu_div_up(pl->taps, pl->taps_per_piece));
    return plan_weights_slots(cfg, l, pl);
}

/* Slots for weight pieces and parameter lines, once the pieces are fixed. */
static int plan_weights_slots(const mxu_hw_config *cfg, const mxu_layer *l, struct mxu_conv_plan *pl)
{
    uint64_t per_tap = cfg->rows;
    uint64_t pieces = (uint64_t)pl->groups * pl->nb * mxu_div_up(pl->kc, pl->kc_per_piece) *
                      mxu_div_up(pl->taps, pl->taps_per_piece);
    uint64_t slots = cfg->wb_lines / ((uint64_t)pl->taps_per_piece * pl->kc_per_piece * per_tap);
    pl->wb_slots = (uint32_t)(slots < pieces ? slots : pieces);
    uint64_t lines = (uint64_t)pl->groups * pl->nb;
    (void)l;
    pl->param_slots = (uint32_t)(lines < cfg->param_lines ? lines : cfg->param_lines);
    return MXU_OK;
}

/* Few input channels leave most array rows idle: pack `pack` horizontally
 * adjacent pixels into each UB line (LOAD reads overlapping runs of bytes), which
 * turns the kernel's width into ceil(kw / pack) taps `pack` lines apart. Needs
 * contiguous pixels (groups 1, dilation 1) and no horizontal padding: a line's
 * run continues into the next row's pixels, which only zero weights may see. */
static void choose_packing(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                           struct geom *g)
{
    g->pack = 1;
    if (l->op != MXU_LAYER_CONV2D || l->groups > 1 || g->dw != 1 || g->pl || g->pr || g->kw < 2 ||
        2 * g->cin > cfg->rows)
        return;
    uint32_t pack = cfg->rows / g->cin < g->kw ? cfg->rows / g->cin : g->kw;
    const mxu_tensor *in = &p->tensors[l->input];
    if ((uint64_t)in->dram_addr + mxu_tensor_elems(in) + (uint64_t)(pack - 1) * g->cin > cfg->dram_bytes)
        return; /* the last runs would read past the end of DRAM */
    g->pack = pack;
    g->kw = mxu_div_up(g->kw, pack);
    g->dw = pack;
}

static int plan_with_geom(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                          uint32_t ub_spare, struct geom *g, struct mxu_conv_plan *pl)
{
    int rc = geometry(p, l, g);
    if (rc)
        return rc;
    if (ub_spare >= cfg->ub_lines - MXU_BUILDER_UB_RESERVED)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: no UB lines left for its tiles", l->name);
    g->ub_spare = ub_spare;
    /* An input produced on the way: short full-width tiles, so the first one
     * waits for few rows. */
    if (ub_spare) {
        uint32_t per_row = conv_extent(g->pw, g);
        g->max_tile_h = per_row * 2 <= cfg->acc_rows / 2 ? (cfg->acc_rows / 2 / per_row - 1) / g->ps + 1 : 1;
    }
    memset(pl, 0, sizeof *pl);
    pl->groups = l->op == MXU_LAYER_FC || !l->groups ? 1 : l->groups;
    pl->macs = (uint64_t)g->n * g->oh * g->ow * g->cout * g->kh * g->kw * (g->cin / pl->groups);
    choose_packing(cfg, p, l, g);
    pl->pack = g->pack;
    pl->cin_g = g->cin * g->pack / pl->groups;
    pl->cout_g = g->cout / pl->groups;
    pl->kc = mxu_div_up(pl->cin_g, cfg->rows);
    pl->nb = mxu_div_up(pl->cout_g, cfg->cols);
    pl->taps = g->kh * g->kw;
    pl->conv_h = g->oh, pl->conv_w = g->ow, pl->out_h = g->ph, pl->out_w = g->pw;
    if ((rc = plan_weights(cfg, l, pl)))
        return rc;
    if (tile_fits(cfg, g, pl->kc, 1, 1))
        return plan_tiles(cfg, l, g, pl->kc, pl);
    /* Not even one output pixel's input fits with every channel: stream the
     * input chunk group by chunk group, with the weight pieces. */
    uint32_t k = pl->kc_per_piece;
    while (k > 1 && !tile_fits(cfg, g, k, 1, 1))
        k--;
    pl->stream_input = 1;
    pl->kc_per_piece = mxu_div_up(pl->kc, mxu_div_up(pl->kc, k));
    if ((rc = plan_weights_slots(cfg, l, pl)))
        return rc;
    return plan_tiles(cfg, l, g, pl->kc_per_piece, pl);
}

int mxu_plan_conv(const mxu_builder *b, const mxu_layer *l, struct mxu_conv_plan *plan)
{
    struct geom g;
    const mxu_program *p = mxu_builder_program((mxu_builder *)b);
    return plan_with_geom(mxu_builder_config(b), p, l, 0, &g, plan);
}

/* ---- emission ----------------------------------------------------------- */

struct slot_cache {
    int *owner;         /* key held by each slot, -1 if empty */
    uint64_t *last_use; /* LRU clock */
    int *region;
    uint32_t n, lines_each, base;
    uint64_t clock;
};

struct step {
    uint32_t index, img, grp, ty, tx, nb, piece;
    uint32_t tile_index, block_index; /* running counters over the layer */
    uint32_t ptr, ptc, tr, tc, th, tw; /* this tile's extents */
    int32_t iy0, ix0;                  /* top-left input coordinate (may be negative) */
    uint32_t wb_slot, param_slot;
};

struct lowering {
    mxu_builder *b;
    const mxu_hw_config *cfg;
    const mxu_program *p;
    const mxu_layer *l;
    struct geom g;
    struct mxu_conv_plan pl;
    uint32_t n_tiles_y, n_tiles_x, n_pieces, n_steps;
    uint32_t weights_addr, params_addr, lut_addr, zp_addr;
    int32_t zp_in, zp_out;
    int in_region, out_region, lut_region;
    struct mxu_slots slots;
    struct slot_cache wb, param;
    struct step ring[2]; /* the step being computed and the one being loaded */
    const struct mxu_input_hook *hook;
};

static void decode_step(const struct lowering *L, uint32_t i, struct step *s)
{
    memset(s, 0, sizeof *s);
    s->index = i;
    s->piece = i % L->n_pieces;
    uint32_t r = i / L->n_pieces;
    s->nb = r % L->pl.nb;
    s->block_index = r;
    r /= L->pl.nb;
    s->tile_index = r;
    s->tx = r % L->n_tiles_x;
    r /= L->n_tiles_x;
    s->ty = r % L->n_tiles_y;
    r /= L->n_tiles_y;
    s->grp = r % L->pl.groups;
    s->img = r / L->pl.groups;
    const struct geom *g = &L->g;
    uint32_t py0 = s->ty * L->pl.tile_h, px0 = s->tx * L->pl.tile_w;
    s->ptr = g->ph - py0 < L->pl.tile_h ? g->ph - py0 : L->pl.tile_h;
    s->ptc = g->pw - px0 < L->pl.tile_w ? g->pw - px0 : L->pl.tile_w;
    s->tr = conv_extent(s->ptr, g);
    s->tc = conv_extent(s->ptc, g);
    s->th = in_extent(s->tr, g->kh, g->sh, g->dh);
    s->tw = in_extent(s->tc, g->kw, g->sw, g->dw);
    s->iy0 = (int32_t)(py0 * g->ps * g->sh) - (int32_t)g->pt;
    s->ix0 = (int32_t)(px0 * g->ps * g->sw) - (int32_t)g->pl;
}

static int cache_init(struct slot_cache *c, mxu_builder *b, enum mxu_region_mem mem, uint32_t n,
                      uint32_t lines_each)
{
    c->n = n;
    c->lines_each = lines_each;
    c->base = 0;
    c->clock = 0;
    c->owner = malloc(n * sizeof *c->owner);
    c->last_use = calloc(n, sizeof *c->last_use);
    c->region = malloc(n * sizeof *c->region);
    if (!c->owner || !c->last_use || !c->region)
        return mxu_fail(MXU_ERR_NOMEM, "lowering");
    for (uint32_t i = 0; i < n; i++) {
        c->owner[i] = -1;
        c->region[i] = mxu_builder_region(b, mem, i * lines_each, lines_each);
        if (c->region[i] < 0)
            return c->region[i];
    }
    return MXU_OK;
}

static void cache_free(struct slot_cache *c)
{
    free(c->owner);
    free(c->last_use);
    free(c->region);
}

/* Slot holding `key`; *miss tells whether it must be loaded. Never evicts the
 * most recently used slot, which the step being computed may still read. */
static uint32_t cache_get(struct slot_cache *c, int key, int *miss)
{
    uint32_t victim = 0;
    c->clock++;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->owner[i] == key) {
            c->last_use[i] = c->clock;
            *miss = 0;
            return i;
        }
        if (c->last_use[i] < c->last_use[victim])
            victim = i;
    }
    c->owner[victim] = key;
    c->last_use[victim] = c->clock;
    *miss = 1;
    return victim;
}

/* One input-channel chunk of an input tile, its out-of-image border read as
 * the input zero point. */
static int load_chunk(struct lowering *L, const struct step *s, uint32_t kc, uint32_t line, int slot)
{
    const struct mxu_conv_plan *pl = &L->pl;
    uint32_t cnt = pl->cin_g - kc * L->cfg->rows;
    int src = L->in_region;
    if (L->hook) {
        uint32_t y0 = s->iy0 < 0 ? 0 : (uint32_t)s->iy0, y1 = (uint32_t)(s->iy0 + (int32_t)s->th);
        if ((src = L->hook->rows(L->hook->ctx, s->img, y0, y1 < L->g.h ? y1 : L->g.h)) < 0)
            return src;
    }
    struct mxu_window w = {
        .tensor_addr = L->p->tensors[L->l->input].dram_addr, .h = L->g.h, .w = L->g.w,
        .pixel_bytes = L->g.cin, .img = s->img, .c0 = s->grp * pl->cin_g + kc * L->cfg->rows,
        .channels = cnt < L->cfg->rows ? cnt : L->cfg->rows, .y0 = s->iy0, .x0 = s->ix0,
        .rows = s->th, .cols = s->tw, .pad_value = L->zp_in, .fill_addr = L->zp_addr,
        .dst_line = line, .src_region = src, .dst_region = slot, .layer = L->l->name};
    return mxu_emit_window_load(L->b, &w);
}

/* A piece covers taps [tap0, tap0+taps) of chunks [kc0, kc0+chunks). */
struct piece {
    uint32_t tap0, taps, kc0, chunks;
};

static struct piece piece_of(const struct lowering *L, uint32_t index)
{
    struct piece pc;
    uint32_t kgroups = mxu_div_up(L->pl.kc, L->pl.kc_per_piece);
    pc.kc0 = (index % kgroups) * L->pl.kc_per_piece;
    pc.tap0 = (index / kgroups) * L->pl.taps_per_piece;
    pc.chunks = L->pl.kc - pc.kc0 < L->pl.kc_per_piece ? L->pl.kc - pc.kc0 : L->pl.kc_per_piece;
    pc.taps = L->pl.taps - pc.tap0 < L->pl.taps_per_piece ? L->pl.taps - pc.tap0 : L->pl.taps_per_piece;
    return pc;
}

/* Input tiles alternate between two UB slots: per tile, or per step when the
 * input is streamed chunk group by chunk group. */
static uint32_t input_slot(const struct lowering *L, const struct step *s)
{
    return (L->pl.stream_input ? s->index : s->tile_index) % 2;
}

static int load_piece(struct lowering *L, struct step *s)
{
    const mxu_hw_config *cfg = L->cfg;
    int key = (int)((s->grp * L->pl.nb + s->nb) * L->n_pieces + s->piece), miss;
    s->wb_slot = cache_get(&L->wb, key, &miss);
    if (!miss)
        return MXU_OK;
    struct piece pc = piece_of(L, s->piece);
    uint32_t tile = cfg->rows * cfg->cols;
    uint64_t first = ((uint64_t)(s->grp * L->pl.nb + s->nb) * L->pl.taps + pc.tap0) * L->pl.kc + pc.kc0;
    struct mxu_load d = {.mem = MXU_MEM_WB, .dram_addr = L->weights_addr + (uint32_t)(first * tile),
                         .dst_line = s->wb_slot * L->wb.lines_each, .elem_bytes = cfg->cols,
                         .n0 = pc.chunks * cfg->rows, .n1 = pc.taps, .n2 = 1, .s0 = cfg->cols,
                         .s1 = L->pl.kc * tile};
    return mxu_emit_load(L->b, &d, -1, L->wb.region[s->wb_slot]);
}

static int load_params(struct lowering *L, struct step *s)
{
    int miss;
    uint32_t line = s->grp * L->pl.nb + s->nb, bytes = L->cfg->cols * MXU_DEFAULT_PARAM_BYTES;
    s->param_slot = cache_get(&L->param, (int)line, &miss);
    struct mxu_load d = {.mem = MXU_MEM_PARAM, .dram_addr = L->params_addr + line * bytes,
                         .dst_line = s->param_slot, .elem_bytes = bytes, .n0 = 1, .n1 = 1, .n2 = 1};
    return miss ? mxu_emit_load(L->b, &d, -1, L->param.region[s->param_slot]) : MXU_OK;
}

/* Let an input hook work towards the rows of the tile after step s's. */
static int hook_ahead(struct lowering *L, const struct step *s)
{
    uint64_t next = ((uint64_t)s->tile_index + 1) * L->pl.nb * L->n_pieces;
    if (!L->hook || next >= L->n_steps)
        return MXU_OK;
    struct step t;
    decode_step(L, (uint32_t)next, &t);
    uint32_t y1 = (uint32_t)(t.iy0 + (int32_t)t.th);
    return L->hook->ahead(L->hook->ctx, t.img, y1 < L->g.h ? y1 : L->g.h);
}

static int step_loads(struct lowering *L, uint32_t i)
{
    struct step *s = &L->ring[i % 2];
    decode_step(L, i, s);
    int rc = hook_ahead(L, s);
    if (i == 0 && L->lut_region >= 0) {
        struct mxu_load d = {.mem = MXU_MEM_LUT, .dram_addr = L->lut_addr, .elem_bytes = 256,
                             .n0 = 1, .n1 = 1, .n2 = 1};
        rc = mxu_emit_load(L->b, &d, -1, L->lut_region);
    }
    if (rc == MXU_OK && (L->pl.stream_input || (s->nb == 0 && s->piece == 0))) {
        uint32_t slot = input_slot(L, s), kc0 = 0, chunks = L->pl.kc;
        if (L->pl.stream_input) {
            struct piece pc = piece_of(L, s->piece);
            kc0 = pc.kc0, chunks = pc.chunks;
        }
        for (uint32_t k = 0; rc == MXU_OK && k < chunks; k++)
            rc = load_chunk(L, s, kc0 + k, L->slots.in_base[slot] + k * s->th * s->tw,
                            L->slots.in[slot]);
    }
    if (rc == MXU_OK)
        rc = load_piece(L, s);
    if (rc == MXU_OK && s->piece == L->n_pieces - 1)
        rc = load_params(L, s);
    return rc;
}

static int step_matmuls(struct lowering *L, const struct step *s)
{
    const struct geom *g = &L->g;
    uint32_t in = input_slot(L, s), acc = s->block_index % 2;
    struct piece pc = piece_of(L, s->piece);
    uint32_t chunk_lines = s->th * s->tw, first = L->pl.stream_input ? 0 : pc.kc0;
    for (uint32_t t = 0; t < pc.taps; t++) {
        uint32_t ky = (pc.tap0 + t) / g->kw, kx = (pc.tap0 + t) % g->kw;
        struct mxu_matmul d = {
            .accumulate = t > 0 || s->piece > 0,
            .wgt_line = s->wb_slot * L->wb.lines_each + t * pc.chunks * L->cfg->rows,
            .ub_addr = L->slots.in_base[in] + first * chunk_lines + ky * g->dh * s->tw + kx * g->dw,
            .acc_addr = L->slots.acc_base[acc], .n0 = s->tc, .n1 = s->tr, .s0 = g->sw,
            .s1 = g->sh * s->tw, .nk = pc.chunks, .k_stride = chunk_lines};
        uint64_t w[MXU_INSN_WORDS];
        mxu_encode_matmul(w, &d);
        int rc = mxu_emit_regions(L->b, w, L->slots.in[in], L->wb.region[s->wb_slot], -1, L->slots.acc[acc]);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

static int step_activate_store(struct lowering *L, const struct step *s)
{
    const struct geom *g = &L->g;
    uint32_t acc = s->block_index % 2, out = s->block_index % 2;
    int lut = L->lut_region >= 0;
    int32_t lo = L->l->act_min < -128 ? -128 : L->l->act_min;
    int32_t hi = L->l->act_max > 127 ? 127 : L->l->act_max;
    struct mxu_activate a = {.lut_en = lut,
                             .round_half_up = (L->l->flags & MXU_LAYER_F_ROUND_HALF_UP) != 0,
                             .param_line = s->param_slot, .ub_addr = L->slots.out_base[out],
                             .acc_addr = L->slots.acc_base[acc], .in_w = s->tc, .out_h = s->ptr,
                             .out_w = s->ptc, .pool_k = g->pk, .pool_s = g->ps,
                             .zp_out = lut ? 0 : L->zp_out, .clamp_min = lo,
                             .clamp_max = hi};
    uint64_t w[MXU_INSN_WORDS];
    mxu_encode_activate(w, &a);
    int rc = mxu_emit_regions(L->b, w, L->slots.acc[acc], L->param.region[s->param_slot],
                              L->lut_region, L->slots.out[out]);
    if (rc)
        return rc;
    uint32_t cb = L->pl.cout_g - s->nb * L->cfg->cols;
    cb = cb < L->cfg->cols ? cb : L->cfg->cols;
    uint64_t pixel = ((uint64_t)s->img * g->ph + s->ty * L->pl.tile_h) * g->pw + s->tx * L->pl.tile_w;
    struct mxu_store st = {
        .dram_addr = L->p->tensors[L->l->output].dram_addr +
                     (uint32_t)(pixel * g->out_pixel_stride + s->grp * L->pl.cout_g + s->nb * L->cfg->cols),
        .src_line = L->slots.out_base[out], .elem_bytes = cb, .n0 = s->ptc, .n1 = s->ptr, .n2 = 1,
        .s0 = g->out_pixel_stride, .s1 = g->pw * g->out_pixel_stride};
    mxu_encode_store(w, &st);
    return mxu_emit_regions(L->b, w, L->slots.out[out], -1, -1, L->out_region);
}

static int step_compute(struct lowering *L, uint32_t i)
{
    const struct step *s = &L->ring[i % 2];
    int rc = step_matmuls(L, s);
    if (rc == MXU_OK && s->piece == L->n_pieces - 1)
        rc = step_activate_store(L, s);
    return rc;
}

static int place_constants(struct lowering *L)
{
    uint8_t *buf;
    uint32_t bytes;
    char name[MXU_NAME_LEN + 8];
    int8_t zp = (int8_t)L->zp_in;
    const enum mxu_pack_kind kinds[3] = {MXU_PACK_WEIGHTS, MXU_PACK_PARAMS, MXU_PACK_LUT};
    uint32_t *addrs[3] = {&L->weights_addr, &L->params_addr, &L->lut_addr};
    const char *what[3] = {"weights", "params", "lut"};
    for (int k = 0; k < 3; k++) {
        if (k == 2 && !(L->l->flags & MXU_LAYER_F_LUT))
            break;
        int rc = k == 0 && L->g.pack > 1
                     ? mxu_pack_conv_weights_packed(L->cfg, L->p, L->l, L->g.pack, &buf, &bytes)
                     : mxu_pack_layer(L->cfg, L->p, L->l, kinds[k], &buf, &bytes);
        snprintf(name, sizeof name, "%.48s.%s", L->l->name, what[k]);
        if (rc == MXU_OK)
            rc = mxu_builder_add_constant(L->b, name, buf, bytes, addrs[k]);
        free(buf);
        if (rc)
            return rc;
    }
    snprintf(name, sizeof name, "%.48s.zp", L->l->name);
    return mxu_builder_add_constant(L->b, name, &zp, 1, &L->zp_addr);
}

static int make_regions(struct lowering *L)
{
    if (mxu_slots_make(L->b, L->pl.in_tile_lines, L->pl.tile_h * L->pl.tile_w, &L->slots))
        return MXU_ERR_NOMEM;
    L->lut_region = -1;
    if (L->l->flags & MXU_LAYER_F_LUT &&
        (L->lut_region = mxu_builder_region(L->b, MXU_REGION_LUT, 0, 1)) < 0)
        return L->lut_region;
    L->in_region = mxu_builder_tensor_region(L->b, L->l->input);
    L->out_region = mxu_builder_tensor_region(L->b, L->l->output);
    if (L->in_region < 0 || L->out_region < 0)
        return L->in_region < 0 ? L->in_region : L->out_region;
    int rc = cache_init(&L->wb, L->b, MXU_REGION_WB, L->pl.wb_slots,
                        L->pl.taps_per_piece * L->pl.kc_per_piece * L->cfg->rows);
    if (rc == MXU_OK)
        rc = cache_init(&L->param, L->b, MXU_REGION_PARAM, L->pl.param_slots, 1);
    return rc;
}

/* mxu_emit_steps callbacks. */
static int emit_loads(void *ctx, uint32_t i)
{
    return step_loads((struct lowering *)ctx, i);
}

static int emit_compute(void *ctx, uint32_t i)
{
    return step_compute((struct lowering *)ctx, i);
}

int mxu_lower_conv_hooked(mxu_builder *b, const mxu_layer *l, const struct mxu_input_hook *hook)
{
    struct lowering L;
    memset(&L, 0, sizeof L);
    L.hook = hook;
    L.b = b;
    L.cfg = mxu_builder_config(b);
    L.p = mxu_builder_program(b);
    L.l = l;
    int rc = plan_with_geom(L.cfg, L.p, l, hook ? hook->ub_spare : 0, &L.g, &L.pl);
    if (rc)
        return rc;
    L.zp_in = L.p->tensors[l->input].zero_point;
    L.zp_out = L.p->tensors[l->output].zero_point;
    L.n_tiles_y = mxu_div_up(L.g.ph, L.pl.tile_h);
    L.n_tiles_x = mxu_div_up(L.g.pw, L.pl.tile_w);
    L.n_pieces = mxu_div_up(L.pl.kc, L.pl.kc_per_piece) * mxu_div_up(L.pl.taps, L.pl.taps_per_piece);
    uint64_t steps = (uint64_t)L.g.n * L.pl.groups * L.n_tiles_y * L.n_tiles_x * L.pl.nb * L.n_pieces;
    if (steps > UINT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: too many tiles", l->name);
    L.n_steps = (uint32_t)steps;
    if ((rc = place_constants(&L)) == MXU_OK && (rc = make_regions(&L)) == MXU_OK)
        rc = mxu_emit_steps(&L, L.n_steps, emit_loads, emit_compute);
    cache_free(&L.wb);
    cache_free(&L.param);
    return rc;
}

static int lower_conv(mxu_builder *b, const mxu_layer *l)
{
    return mxu_lower_conv_hooked(b, l, NULL);
}

int mxu_lower_layer(mxu_builder *b, uint32_t index)
{
    const mxu_program *p = mxu_builder_program(b);
    if (index >= p->n_layers)
        return mxu_fail(MXU_ERR_INVAL, "no layer %u", index);
    const mxu_layer *l = &p->layers[index];
    switch (l->op) {
    case MXU_LAYER_CONV2D: {
        struct mxu_conv_plan pl;
        struct mxu_s2d s;
        int rc = mxu_plan_conv(b, l, &pl);
        if (rc == MXU_OK && mxu_s2d_choose(mxu_builder_config(b), p, l, pl.taps * pl.kc, &s))
            return mxu_lower_s2d(b, l, &s);
        return rc ? rc : lower_conv(b, l);
    }
    case MXU_LAYER_FC:
        return lower_conv(b, l);
    case MXU_LAYER_MAXPOOL:
    case MXU_LAYER_AVGPOOL:
        return mxu_lower_pool(b, l);
    default:
        return mxu_fail(MXU_ERR_UNSUPPORTED, "layer %s: op %u is not lowered to the device yet",
                        l->name, l->op);
    }
}
