/* One-layer programs from a shape description: what `mxu bench` measures and
 * the differential tests run. Weights, biases and quantization come from the
 * caller or, for architecture studies, from a seed. */
#ifndef MXU_LAYER_PROGRAM_H
#define MXU_LAYER_PROGRAM_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_program.h"

struct mxu_layer_desc {
    const char *name;
    uint32_t op;                       /* MXU_LAYER_CONV2D or MXU_LAYER_FC */
    uint32_t n, h, w, cin, cout;       /* FC: n = batch, h = w = 1 */
    uint32_t kh, kw, stride_h, stride_w, dil_h, dil_w, groups;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    uint32_t pool_k, pool_s;           /* fused max-pool, 0 = none */
    int32_t act_min, act_max;          /* clamp after the output zero point */
    int lut;                           /* random LUT after the clamp */
    int round_half_up;                 /* MXU_LAYER_F_ROUND_HALF_UP: ties toward +inf */
    int32_t zp_in, zp_out;
};

/* Output height/width of the layer (after the fused pool); 0 if it does not fit. */
void mxu_layer_desc_out(const struct mxu_layer_desc *d, uint32_t *oh, uint32_t *ow);

/* Useful MACs of the layer (convolution before the pool). */
uint64_t mxu_layer_desc_macs(const struct mxu_layer_desc *d);

/* Build a program computing the layer with random int8 weights, biases and
 * per-channel multipliers drawn from seed, lowered for cfg. */
int mxu_build_layer_program(const mxu_hw_config *cfg, const struct mxu_layer_desc *d, uint64_t seed,
                            mxu_program **out);

#endif
