/* Shared pieces of the layer lowerings (see mxu_tiling.h). */
#include "mxu_tiling.h"

#include "mxu_error.h"

uint32_t mxu_div_up(uint64_t a, uint64_t b)
{
    return (uint32_t)((a + b - 1) / b);
}

/* Largest th <= out_h that fits with width tw (0 if none): binary search. */
static uint32_t max_rows(uint32_t out_h, uint32_t tw, int (*fits)(const void *, uint32_t, uint32_t),
                         const void *ctx)
{
    uint32_t lo = 0, hi = out_h;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (fits(ctx, mid, tw))
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int mxu_tile_search(uint32_t out_h, uint32_t out_w,
                    int (*fits)(const void *ctx, uint32_t th, uint32_t tw), const void *ctx,
                    uint32_t *th, uint32_t *tw)
{
    uint64_t best = 0;
    for (uint32_t parts = 1; parts <= out_w; parts++) {
        uint32_t w = mxu_div_up(out_w, parts);
        if (parts > 1 && w == mxu_div_up(out_w, parts - 1))
            continue;
        uint32_t h = max_rows(out_h, w, fits, ctx);
        if ((uint64_t)h * w > best) {
            best = (uint64_t)h * w;
            *th = h;
            *tw = w;
        }
        if (h >= out_h)
            break; /* whole columns fit; narrower tiles only cost more */
    }
    if (!best)
        return MXU_ERR_LIMIT;
    *th = mxu_div_up(out_h, mxu_div_up(out_h, *th));
    *tw = mxu_div_up(out_w, mxu_div_up(out_w, *tw));
    return MXU_OK;
}

int mxu_slots_make(mxu_builder *b, uint32_t in_lines, uint32_t out_lines, struct mxu_slots *s)
{
    uint32_t acc_half = mxu_builder_config(b)->acc_rows / 2;
    for (int i = 0; i < 2; i++) {
        s->in_base[i] = i * in_lines;
        s->out_base[i] = 2 * in_lines + i * out_lines;
        s->acc_base[i] = i * acc_half;
        s->in[i] = mxu_builder_region(b, MXU_REGION_UB, s->in_base[i], in_lines);
        s->out[i] = mxu_builder_region(b, MXU_REGION_UB, s->out_base[i], out_lines);
        s->acc[i] = mxu_builder_region(b, MXU_REGION_ACC, s->acc_base[i], acc_half);
        if (s->in[i] < 0 || s->out[i] < 0 || s->acc[i] < 0)
            return MXU_ERR_NOMEM;
    }
    return MXU_OK;
}

int mxu_emit_steps(void *ctx, uint32_t n_steps, int (*loads)(void *ctx, uint32_t step),
                   int (*compute)(void *ctx, uint32_t step))
{
    int rc = n_steps ? loads(ctx, 0) : MXU_OK;
    for (uint32_t i = 0; rc == MXU_OK && i < n_steps; i++) {
        if (i + 1 < n_steps)
            rc = loads(ctx, i + 1);
        if (rc == MXU_OK)
            rc = compute(ctx, i);
    }
    return rc;
}

int mxu_emit_regions(mxu_builder *b, const uint64_t insn[MXU_INSN_WORDS], int read1, int read2,
                     int read3, int write)
{
    int reads[4] = {read1, read2, read3, -1}, writes[2] = {write, -1};
    return mxu_builder_emit(b, insn, reads, writes);
}

int mxu_emit_load(mxu_builder *b, const struct mxu_load *d, int src_region, int dst_region)
{
    uint64_t w[MXU_INSN_WORDS];
    mxu_encode_load(w, d);
    return mxu_emit_regions(b, w, src_region, -1, -1, dst_region);
}

/* rows x cols lines of pad_value (LOAD's line-tail fill from a 1-byte element). */
static int fill_lines(mxu_builder *b, const struct mxu_window *w, uint32_t line, uint32_t rows)
{
    struct mxu_load d = {.mem = MXU_MEM_UB, .dram_addr = w->fill_addr, .dst_line = line,
                         .elem_bytes = 1, .n0 = w->cols, .n1 = rows, .n2 = 1,
                         .pad_value = w->pad_value};
    return rows && w->cols ? mxu_emit_load(b, &d, -1, w->dst_region) : MXU_OK;
}

static uint32_t clip_lo(int32_t start, uint32_t extent)
{
    uint32_t n = start < 0 ? (uint32_t)-(int64_t)start : 0;
    return n < extent ? n : extent;
}

/* Image pixels of the window along one axis, after `before` padding lines. */
static int64_t inside(int32_t start, uint32_t before, uint32_t extent, uint32_t size)
{
    int64_t n = (int64_t)size - (start + (int64_t)before);
    return n < (int64_t)(extent - before) ? n : (int64_t)(extent - before);
}

int mxu_emit_window_load(mxu_builder *b, const struct mxu_window *w)
{
    uint32_t pad_max = (1u << MXU_F_LOAD_PAD_TOP_BITS) - 1;
    uint32_t top = clip_lo(w->y0, w->rows), left = clip_lo(w->x0, w->cols);
    int64_t rows = inside(w->y0, top, w->rows, w->h), cols = inside(w->x0, left, w->cols, w->w);
    if (rows <= 0 || cols <= 0)
        return fill_lines(b, w, w->dst_line, w->rows);
    uint32_t bottom = w->rows - top - (uint32_t)rows, right = w->cols - left - (uint32_t)cols;
    if (left > pad_max || right > pad_max)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: horizontal padding of %u lines exceeds the LOAD "
                        "pad field (%u)", w->layer, left > right ? left : right, pad_max);
    /* Padding rows past the 8-bit pad fields are filled by separate loads. */
    uint32_t big_top = top > pad_max ? top : 0, big_bottom = bottom > pad_max ? bottom : 0;
    uint64_t pixel = ((uint64_t)w->img * w->h + (uint64_t)(w->y0 + (int32_t)top)) * w->w +
                     (uint64_t)(w->x0 + (int32_t)left);
    struct mxu_load d = {
        .mem = MXU_MEM_UB, .dram_addr = w->tensor_addr + (uint32_t)(pixel * w->pixel_bytes + w->c0),
        .dst_line = w->dst_line + big_top * w->cols, .elem_bytes = w->channels,
        .n0 = (uint32_t)cols, .n1 = (uint32_t)rows, .n2 = 1, .s0 = w->pixel_bytes,
        .s1 = w->w * w->pixel_bytes, .pad_left = left, .pad_right = right,
        .pad_top = big_top ? 0 : top, .pad_bottom = big_bottom ? 0 : bottom,
        .pad_value = w->pad_value};
    int rc = fill_lines(b, w, w->dst_line, big_top);
    if (rc == MXU_OK)
        rc = mxu_emit_load(b, &d, w->src_region, w->dst_region);
    if (rc == MXU_OK)
        rc = fill_lines(b, w, w->dst_line + (w->rows - big_bottom) * w->cols, big_bottom);
    return rc;
}
