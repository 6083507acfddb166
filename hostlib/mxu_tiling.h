/* Pieces shared by the layer lowerings (lower_conv.c, lower_pool.c): the tile
 * search, region-annotated emission, and loading a padded window of an NHWC
 * tensor into the unified buffer. Internal to libmxu. */
#ifndef MXU_TILING_H
#define MXU_TILING_H

#include <stdint.h>

#include "mxu_builder.h"
#include "mxu_encode.h"

uint32_t mxu_div_up(uint64_t a, uint64_t b);

/* The output tile th x tw (at most out_h x out_w) of largest area for which
 * fits(ctx, th, tw) holds — fits must be monotone in both — balanced so the last
 * tile is not a sliver. MXU_ERR_LIMIT (no detail) when not even 1 x 1 fits. */
int mxu_tile_search(uint32_t out_h, uint32_t out_w,
                    int (*fits)(const void *ctx, uint32_t th, uint32_t tw), const void *ctx,
                    uint32_t *th, uint32_t *tw);

/* Double buffering: two input-tile slots and, after them, two output slots in the
 * UB, and the two halves of the accumulators, each a builder region. */
struct mxu_slots {
    uint32_t in_base[2], out_base[2], acc_base[2]; /* first line / row */
    int in[2], out[2], acc[2];                    /* builder regions */
};
int mxu_slots_make(mxu_builder *b, uint32_t in_lines, uint32_t out_lines, struct mxu_slots *s);

/* Software pipelining of a lowering's steps: the loads of step i+1 are emitted
 * before the compute of step i, so the in-order fetch never starves the load
 * queue. Stops at the first error. */
int mxu_emit_steps(void *ctx, uint32_t n_steps, int (*loads)(void *ctx, uint32_t step),
                   int (*compute)(void *ctx, uint32_t step));

/* Emit with up to three read regions and one written region (-1 = none). */
int mxu_emit_regions(mxu_builder *b, const uint64_t insn[MXU_INSN_WORDS], int read1, int read2,
                     int read3, int write);
int mxu_emit_load(mxu_builder *b, const struct mxu_load *d, int src_region, int dst_region);

/* A rows x cols window of image `img` of an NHWC int8 tensor, starting at pixel
 * (y0, x0) — negative or past the edge where the window hangs over padding —
 * written to consecutive UB lines from dst_line, `channels` bytes per line from
 * channel c0. Lines outside the image hold pad_value (fill_addr: any readable
 * DRAM byte, for lines LOAD's 8-bit pad fields cannot reach). */
struct mxu_window {
    uint32_t tensor_addr, h, w, pixel_bytes;
    uint32_t img, c0, channels;
    int32_t y0, x0;
    uint32_t rows, cols;
    int32_t pad_value;
    uint32_t fill_addr;
    uint32_t dst_line;
    int src_region, dst_region;
    const char *layer; /* for error messages */
};
int mxu_emit_window_load(mxu_builder *b, const struct mxu_window *w);

#endif
