/* Pooling layers on the systolic array (lower_pool.c).
 *
 * Max pool: the input tile is loaded with -128 in its padding lines (so padding
 * never wins, as TFLite ignores out-of-image taps), copied into the
 * accumulators by a MATMUL with an identity weight tile, and ACTIVATE's fused
 * max-pool takes the maximum after an identity requantization.
 *
 * Average pool: one MATMUL per kernel tap sums the window into the
 * accumulators (through a scaled identity), and ACTIVATE divides by the window
 * size with a (multiplier, shift) that reproduces TFLite's rounded division
 * for every possible sum. Only windows that lie wholly inside the image run on
 * the device: one multiplier per channel cannot divide by the smaller counts
 * of windows cut by padding. */
#ifndef MXU_POOL_H
#define MXU_POOL_H

#include <stdint.h>

#include "mxu_builder.h"
#include "mxu_program.h"

/* How ACTIVATE divides a window sum by `count`:
 *   mxu_requantize(weight * sum, multiplier, shift)
 *     == TFLite's round-half-away(sum / count)
 * for every sum of `count` int8 values, i.e. every sum in [-128*count, 127*count]
 * (verified exhaustively by the search). `weight` is the diagonal of the
 * identity tile that sums the taps: a weight above 1 gives the requantization
 * the fraction bits that a plain 1/count multiplier lacks. */
struct mxu_avgpool_divisor {
    int32_t weight, multiplier, shift;
};

/* Find the divisor of `count` (1..MXU_AVGPOOL_MAX_COUNT); MXU_ERR_UNSUPPORTED
 * when none exists, MXU_ERR_INVAL for count 0. */
#define MXU_AVGPOOL_MAX_COUNT 65536u
int mxu_avgpool_divisor_find(uint32_t count, struct mxu_avgpool_divisor *out);

/* TFLite's integer average of a window sum: round half away from zero. */
int32_t mxu_avgpool_round_div(int32_t sum, int32_t count);

/* The identity requantization of max pooling: (2^30, 1). */
#define MXU_POOL_IDENTITY_MULTIPLIER (1 << 30)
#define MXU_POOL_IDENTITY_SHIFT 1

/* How a pooling layer runs on the array (for reports and tests). */
enum mxu_pool_mode {
    MXU_POOL_MODE_TILE = 1, /* max, square window and stride: one ACTIVATE pool per tile */
    MXU_POOL_MODE_ROWS = 2, /* max, kw >= kh: one ACTIVATE per output row */
    MXU_POOL_MODE_COLS = 3, /* max, kh > kw: one ACTIVATE per output column (transposed) */
    MXU_POOL_MODE_SUM = 4,  /* average: a MATMUL per tap, ACTIVATE divides */
};

struct mxu_pool_plan {
    enum mxu_pool_mode mode;
    uint32_t block;          /* channels per step: min(ROWS, COLS) */
    uint32_t out_h, out_w;   /* layer output */
    uint32_t tile_h, tile_w; /* output tile */
    uint32_t in_tile_lines;  /* UB lines of one input tile */
    uint32_t acc_rows;       /* accumulator rows of one tile */
    uint32_t pool_k;         /* ACTIVATE window (max modes) */
    struct mxu_avgpool_divisor div;
};

/* Plan a MAXPOOL/AVGPOOL layer of the builder's program. MXU_ERR_LIMIT naming
 * the limit when no tile fits, MXU_ERR_UNSUPPORTED for average pools whose
 * windows are cut by padding. */
int mxu_plan_pool(const mxu_builder *b, const mxu_layer *l, struct mxu_pool_plan *plan);

/* Lower a MAXPOOL/AVGPOOL layer (called by mxu_lower_layer). */
int mxu_lower_pool(mxu_builder *b, const mxu_layer *l);

#endif
