/* Device images of a layer's constants. The tiler, the compiler and the
 * assembler's .pack directive all use these, so one layout exists.
 *
 * Weight tiles (ROWS lines x COLS bytes each, stored tile after tile) of a conv
 * (FC is a 1x1 conv on a 1x1 image) with G groups, cin_g = cin/G input and
 * cout_g = cout/G output channels per group, NB = ceil(cout_g/COLS) column
 * blocks and KC = ceil(cin_g/ROWS) input chunks:
 *
 *   tile t = ((g*NB + nb)*KH*KW + ky*KW + kx)*KC + kc
 *   tile[r][c] = w[g*cout_g + nb*COLS + c][ky][kx][kc*ROWS + r]   (0 past the edges)
 *
 * Parameter lines, one per (g, nb) in the same order, COLS channels x 12 bytes:
 *   bias'[oc] = bias[oc] - zp_in * sum(w[oc]), multiplier[oc], shift[oc]  (int32 LE)
 * (0 for channels past cout_g). The folded bias makes padding taps, which read the
 * input zero point, contribute nothing, exactly as TFLite skips them. */
#ifndef MXU_PACK_H
#define MXU_PACK_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_program.h"

enum mxu_pack_kind {
    MXU_PACK_WEIGHTS = 1,
    MXU_PACK_PARAMS = 2,
    MXU_PACK_LUT = 3,
};

/* Weight tiles of a conv whose UB lines each hold `pack` horizontally adjacent
 * pixels (groups 1, pack * cin <= ROWS; the tiler packs few-channel layers so):
 * with KWP = ceil(kw / pack) taps per kernel row,
 *   tile t = (nb*KH + ky)*KWP + j
 *   tile[r][c] = w[nb*COLS + c][ky][j*pack + r/cin][r % cin]   (0 past the kernel)
 * Parameter lines are those of MXU_PACK_PARAMS. */
int mxu_pack_conv_weights_packed(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                                  uint32_t pack, uint8_t **out, uint32_t *bytes);

/* One channel's entry of a parameter line (12 bytes: bias, multiplier, shift). */
void mxu_pack_param_entry(uint8_t *entry, int32_t bias, int32_t multiplier, int32_t shift);

/* Input channels of a layer (from its input tensor's last dim, or the flattened
 * size for FC). */
uint32_t mxu_layer_cin(const mxu_program *p, const mxu_layer *l);

/* Number of weight tiles / parameter lines mxu_pack_layer produces. */
uint32_t mxu_pack_weight_tiles(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l);
uint32_t mxu_pack_param_lines(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l);

/* Build the device image of one constant of layer l (arrays from p's host blob).
 * *out is malloc'd; the caller frees it. */
int mxu_pack_layer(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                   enum mxu_pack_kind kind, uint8_t **out, uint32_t *bytes);

#endif
