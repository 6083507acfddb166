/* Lookup tables of the activations the activation unit cannot clamp: any
 * function of one int8 value is a 256-entry table, built as TFLite's
 * LUTPopulate (hostlib's mxu_lut_build for sigmoid, tanh and leaky ReLU, the
 * same construction here for the others). */
#include <math.h>

#include "compiler_core.h"
#include "mxu_numerics.h"

void mxu_act_lut(int8_t lut[256], const struct mxu_act *a, struct mxu_quant in, struct mxu_quant out)
{
    switch (a->kind) {
    case MXU_ACT_KIND_SIGMOID:
        mxu_lut_build(lut, mxu_sigmoidf, in.scale, in.zero_point, out.scale, out.zero_point);
        return;
    case MXU_ACT_KIND_TANH:
        mxu_lut_build(lut, mxu_tanhf, in.scale, in.zero_point, out.scale, out.zero_point);
        return;
    case MXU_ACT_KIND_LEAKY:
        mxu_lut_build_leaky(lut, a->alpha, in.scale, in.zero_point, out.scale, out.zero_point);
        return;
    default: break;
    }
    const float inverse = 1.0f / out.scale;
    for (int v = -128; v <= 127; v++) {
        float x = in.scale * (float)(v - in.zero_point);
        float y = roundf(mxu_act_apply(a, x) * inverse) + (float)out.zero_point;
        lut[v + 128] = isnan(y) ? (int8_t)(out.zero_point < -128 ? -128 : out.zero_point > 127 ? 127 : out.zero_point)
                       : y < -128 ? -128 : y > 127 ? 127 : (int8_t)y;
    }
}
