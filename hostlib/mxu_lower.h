/* Lowering layers to instructions: the tiler. Every size comes from the
 * builder's hardware configuration; nothing assumes 16x16. */
#ifndef MXU_LOWER_H
#define MXU_LOWER_H

#include <stdint.h>

#include "mxu_builder.h"

/* How a conv/FC layer was tiled (reported by `mxu disasm` and benchmarks). */
struct mxu_conv_plan {
    uint32_t groups, cin_g, cout_g, kc, nb, taps;
    uint32_t conv_h, conv_w;    /* convolution output (before a fused pool) */
    uint32_t out_h, out_w;      /* layer output */
    uint32_t tile_h, tile_w;    /* output tile (after the pool) */
    uint32_t in_tile_lines;     /* UB lines of one input tile, all chunks */
    uint32_t kc_per_piece;      /* input chunks per weight piece */
    uint32_t taps_per_piece;    /* kernel taps per weight piece */
    uint32_t wb_slots, param_slots;
    int stream_input;           /* input chunks loaded per weight piece (huge cin) */
    uint32_t pack;              /* input pixels per UB line (few-channel layers), 1 = none */
    uint64_t macs;              /* useful multiply-accumulates */
};

/* Plan a conv2d or fully-connected layer of the builder's program; fails with
 * MXU_ERR_LIMIT naming the limit when no tiling fits the device. */
int mxu_plan_conv(const mxu_builder *b, const mxu_layer *l, struct mxu_conv_plan *plan);

/* Lower layer `index` of the builder's program (its tensors placed in DRAM and
 * its arrays in the host blob): packs and places its constants, emits its
 * instructions. */
int mxu_lower_layer(mxu_builder *b, uint32_t index);

#endif
