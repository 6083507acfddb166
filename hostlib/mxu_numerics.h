/* The int8 numerics contract: TFLite's fixed-point primitives, the hardware's
 * requantization (mxu_requantize, what the RTL and the C model implement), the
 * ACTIVATE pipeline of one value, quantize/dequantize and lookup tables.
 * docs/numerics.md explains the scheme and the proof that both forms agree. */
#ifndef MXU_NUMERICS_H
#define MXU_NUMERICS_H

#include <stdint.h>

#include "mxu_error.h"

/* gemmlowp/TFLite SaturatingRoundingDoublingHighMul: round(a*b / 2^31) with ties
 * toward +inf; the one overflow case a == b == INT32_MIN gives INT32_MAX. */
int32_t mxu_srdhm(int32_t a, int32_t b);

/* gemmlowp/TFLite RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties
 * away from zero. exponent is clamped to 0..31. */
int32_t mxu_rdbpot(int32_t x, int exponent);

/* TFLite's reference MultiplyByQuantizedMultiplier (double rounding):
 * rdbpot(srdhm(x * 2^max(shift,0), qm), max(-shift,0)). The left shift wraps
 * (TFLite overflows there too). Defined by TFLite for shift in [-31, 30]; outside
 * that range the shift is clamped into it. */
int32_t mxu_mbqm_ref(int32_t x, int32_t qm, int shift);

/* The hardware's shift/add form, defined for ANY int32 x, qm and shift:
 *   ls = clamp(shift, 0, 31), rs = clamp(-shift, 0, 31)
 *   xs = (int32)((uint32)x << ls)                       wrapping
 *   t  = ((int64)xs * qm + 2^30) >> 31                  arithmetic shift;
 *        INT32_MAX in the single overflow case xs == qm == INT32_MIN
 *   y  = rs ? (t + 2^(rs-1) - (t < 0)) >> rs : t        33-bit add
 * Equal to mxu_mbqm_ref for every x, qm and shift in [-31, 30]. */
int32_t mxu_requantize(int32_t x, int32_t qm, int32_t shift);

/* How the requantization's final right shift rounds an exact tie (ACTIVATE's
 * round_half_up bit; layers: MXU_LAYER_F_ROUND_HALF_UP). Only negative ties
 * differ: -2.5 is -3 away from zero, -2 toward +infinity. */
enum mxu_rounding {
    MXU_ROUND_AWAY = 0,    /* away from zero: TFLite's reference RoundingDivideByPOT */
    MXU_ROUND_HALF_UP = 1, /* toward +infinity: LiteRT's builtin x86 conv/FC kernels */
};

/* mxu_requantize with the final shift's tie rounding chosen:
 *   y = rs ? (t + 2^(rs-1) - (t < 0 && rounding == MXU_ROUND_AWAY)) >> rs : t
 * (t, rs as above); MXU_ROUND_AWAY is mxu_requantize. */
int32_t mxu_requantize_rounding(int32_t x, int32_t qm, int32_t shift, enum mxu_rounding rounding);

/* TFLite QuantizeMultiplier: m = q * 2^shift with q in [0.5, 1), qm = round(q * 2^31)
 * (ties away from zero). Corner cases as TFLite: m == 0 -> (0, 0); qm rounding up
 * to 2^31 -> (2^30, shift + 1); shift < -31 -> (0, 0) (flush to zero).
 * Returns MXU_OK, or MXU_ERR_INVAL for a negative, NaN or infinite m, or for
 * m >= 2^30 (shift > 30, outside MultiplyByQuantizedMultiplier's range);
 * *qm and *shift are set to 0 on error. */
int mxu_quantize_multiplier(double m, int32_t *qm, int32_t *shift);

/* One output value of the ACTIVATE unit (without the max-pool):
 *   y = mxu_requantize((int32)((uint32)acc + (uint32)bias), qm, shift) + zp_out  (wrapping)
 *   y = min(max(y, act_min), act_max), then clamped to [-128, 127] as well (so a
 *   clamp wider than int8 saturates instead of wrapping)
 *   return lut ? lut[y + 128] : y
 * lut (256 entries, index = value + 128) may be NULL. */
int8_t mxu_activate(int32_t acc, int32_t bias, int32_t qm, int32_t shift, int32_t zp_out,
                    int32_t act_min, int32_t act_max, const int8_t *lut);
/* mxu_activate with the requantization's tie rounding chosen (ACTIVATE's
 * round_half_up bit); MXU_ROUND_AWAY is mxu_activate. */
int8_t mxu_activate_rounding(int32_t acc, int32_t bias, int32_t qm, int32_t shift, int32_t zp_out,
                             int32_t act_min, int32_t act_max, const int8_t *lut,
                             enum mxu_rounding rounding);

/* TFLite's affine quantization: round(x / scale) (half away from zero) + zp,
 * saturated to int8. NaN maps to zp (saturated); +-inf saturate. */
int8_t mxu_quantize_f32(float x, float scale, int32_t zp);

/* real = scale * (q - zp), computed in double as TFLite's Dequantize. */
float mxu_dequantize(int8_t q, float scale, int32_t zp);

/* Lookup table of f, built as TFLite's LUTPopulate<int8_t> (float arithmetic,
 * rescaled by 1/out_scale, rounded half away from zero, plus out_zp, saturated).
 * Unlike TFLite (index = (uint8)value) the index here is value + 128, as the
 * hardware's LUT. A NaN result maps to out_zp; +-inf saturate. */
void mxu_lut_build(int8_t lut[256], float (*f)(float), float in_scale, int32_t in_zp,
                   float out_scale, int32_t out_zp);

/* Activation functions for mxu_lut_build. */
float mxu_sigmoidf(float x);   /* 1 / (1 + exp(-x)) */
float mxu_tanhf(float x);      /* tanh(x) */
float mxu_leaky01f(float x);   /* leaky ReLU with slope 0.1 (Darknet's "leaky") */

/* Lookup table of a leaky ReLU with any slope (same construction as mxu_lut_build). */
void mxu_lut_build_leaky(int8_t lut[256], float alpha, float in_scale, int32_t in_zp,
                         float out_scale, int32_t out_zp);

#endif
