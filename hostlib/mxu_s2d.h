/* Space-to-depth lowering of strided few-channel convolutions (lower_s2d.c),
 * and the conv lowering's hook for inputs produced on the way. Internal to
 * libmxu. */
#ifndef MXU_S2D_H
#define MXU_S2D_H

#include <stdint.h>

#include "mxu_builder.h"

struct mxu_s2d {
    uint32_t block;          /* S = the stride */
    uint32_t kh, kw;         /* kernel of the blocked convolution: ceil(K / S) */
    uint32_t oh, ow;         /* convolution output */
    uint32_t vh, vw;         /* blocked image: oh - 1 + kh, ow - 1 + kw blocks */
    uint32_t channels;       /* S * S * C */
};

/* Whether layer l should run blocked, given the UB lines per output pixel its
 * direct lowering streams (taps x input chunks); fills *s when it should. */
int mxu_s2d_choose(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                   uint32_t direct_lines, struct mxu_s2d *s);

/* Lower layer l blocked: the equivalent stride-1 convolution over a scratch
 * tensor that the device fills block row by block row just before the tiles
 * that read it, so the copy overlaps the computation. */
int mxu_lower_s2d(mxu_builder *b, const mxu_layer *l, const struct mxu_s2d *s);

/* A conv lowering whose input rows are produced while it runs (lower_conv.c):
 * before a tile reads rows [y0, y1) of image img, rows() emits what produces
 * them and returns the builder region to read them through; at every step,
 * ahead() may emit part of what the next tile (rows up to y1) needs. The hook
 * owns the ub_spare UB lines just below the builder's reserved ones. */
struct mxu_input_hook {
    void *ctx;
    uint32_t ub_spare;
    int (*rows)(void *ctx, uint32_t img, uint32_t y0, uint32_t y1);
    int (*ahead)(void *ctx, uint32_t img, uint32_t y1);
};
int mxu_lower_conv_hooked(mxu_builder *b, const mxu_layer *l, const struct mxu_input_hook *hook);

#endif
