/* The int8 numerics contract; see mxu_numerics.h and docs/numerics.md.
 * mxu_srdhm, mxu_rdbpot and mxu_mbqm_ref follow TFLite's reference code step by
 * step (nudge and truncating division, mask and threshold) so that the proof test
 * compares two independent formulations against each other. */
#include "mxu_numerics.h"

#include <math.h>

int32_t mxu_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : 1 - (INT64_C(1) << 30);
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31)); /* C division truncates */
}

int32_t mxu_rdbpot(int32_t x, int exponent)
{
    if (exponent < 0)
        exponent = 0;
    if (exponent > 31)
        exponent = 31;
    int64_t mask = (INT64_C(1) << exponent) - 1;
    int64_t remainder = (int64_t)x & mask;
    int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (int32_t)(((int64_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}

int32_t mxu_mbqm_ref(int32_t x, int32_t qm, int shift)
{
    if (shift < -31)
        shift = -31;
    if (shift > 30)
        shift = 30;
    int left_shift = shift > 0 ? shift : 0;
    int right_shift = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x * (UINT32_C(1) << left_shift));
    return mxu_rdbpot(mxu_srdhm(shifted, qm), right_shift);
}

int32_t mxu_requantize(int32_t x, int32_t qm, int32_t shift)
{
    return mxu_requantize_rounding(x, qm, shift, MXU_ROUND_AWAY);
}

int32_t mxu_requantize_rounding(int32_t x, int32_t qm, int32_t shift, enum mxu_rounding rounding)
{
    int ls = shift < 0 ? 0 : shift > 31 ? 31 : shift;
    int rs = shift > 0 ? 0 : shift < -31 ? 31 : -shift;
    int32_t xs = (int32_t)((uint32_t)x << ls);
    int64_t t = ((int64_t)xs * qm + (INT64_C(1) << 30)) >> 31;
    if (t > INT32_MAX) /* only xs == qm == INT32_MIN */
        t = INT32_MAX;
    if (rs == 0)
        return (int32_t)t;
    /* away from zero: one less for a negative t turns its ties downward */
    int64_t away = t < 0 && rounding == MXU_ROUND_AWAY;
    return (int32_t)((t + (INT64_C(1) << (rs - 1)) - away) >> rs);
}

int mxu_quantize_multiplier(double m, int32_t *qm, int32_t *shift)
{
    *qm = 0;
    *shift = 0;
    if (isnan(m) || isinf(m) || m < 0)
        return mxu_fail(MXU_ERR_INVAL, "quantize_multiplier: multiplier %g is not a finite non-negative number", m);
    if (m == 0)
        return MXU_OK;
    int exp;
    double q = frexp(m, &exp);
    int64_t q_fixed = (int64_t)round(q * (double)(INT64_C(1) << 31));
    if (q_fixed == (INT64_C(1) << 31)) {
        q_fixed /= 2;
        exp++;
    }
    if (exp < -31) /* every bit would be shifted out: flush to zero as TFLite */
        return MXU_OK;
    if (exp > 30)
        return mxu_fail(MXU_ERR_INVAL, "quantize_multiplier: multiplier %g needs shift %d > 30", m, exp);
    *qm = (int32_t)q_fixed;
    *shift = exp;
    return MXU_OK;
}

int8_t mxu_activate(int32_t acc, int32_t bias, int32_t qm, int32_t shift, int32_t zp_out,
                    int32_t act_min, int32_t act_max, const int8_t *lut)
{
    return mxu_activate_rounding(acc, bias, qm, shift, zp_out, act_min, act_max, lut, MXU_ROUND_AWAY);
}

int8_t mxu_activate_rounding(int32_t acc, int32_t bias, int32_t qm, int32_t shift, int32_t zp_out,
                             int32_t act_min, int32_t act_max, const int8_t *lut,
                             enum mxu_rounding rounding)
{
    int32_t sum = (int32_t)((uint32_t)acc + (uint32_t)bias);
    int32_t y = (int32_t)((uint32_t)mxu_requantize_rounding(sum, qm, shift, rounding) + (uint32_t)zp_out);
    if (y < act_min)
        y = act_min;
    if (y > act_max)
        y = act_max;
    if (y < -128)
        y = -128;
    if (y > 127)
        y = 127;
    return lut ? lut[y + 128] : (int8_t)y;
}

/* Saturate a rounded float (possibly huge, inf or NaN) plus a zero point to int8. */
static int8_t saturate_rounded(float rounded, int32_t zp)
{
    if (isnan(rounded))
        rounded = 0;
    if (rounded > 1024)
        rounded = 1024;
    if (rounded < -1024)
        rounded = -1024;
    int64_t v = (int64_t)rounded + zp;
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

int8_t mxu_quantize_f32(float x, float scale, int32_t zp)
{
    return saturate_rounded(roundf(x / scale), zp);
}

float mxu_dequantize(int8_t q, float scale, int32_t zp)
{
    return (float)((double)scale * ((int64_t)q - zp));
}

float mxu_sigmoidf(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

float mxu_tanhf(float x)
{
    return tanhf(x);
}

float mxu_leaky01f(float x)
{
    return x > 0 ? x : 0.1f * x;
}

/* LUTPopulate's loop for a transform with a context. The float operations and
 * their order are TFLite's: dequantize, transform, times 1/out_scale, round,
 * plus out_zp (as float), saturate. */
typedef float (*transform_fn)(float x, const void *ctx);

static void lut_populate(int8_t lut[256], transform_fn f, const void *ctx, float in_scale,
                         int32_t in_zp, float out_scale, int32_t out_zp)
{
    const float inverse_scale = 1.0f / out_scale;
    for (int32_t val = -128; val <= 127; val++) {
        const float dequantized = in_scale * (float)((int64_t)val - in_zp);
        const float transformed = f(dequantized, ctx);
        const float rescaled = roundf(transformed * inverse_scale);
        float shifted = rescaled + (float)out_zp;
        int8_t q;
        if (isnan(shifted))
            q = saturate_rounded(0, out_zp);
        else
            q = saturate_rounded(shifted, 0);
        lut[val + 128] = q;
    }
}

static float call_plain(float x, const void *ctx)
{
    float (*const *f)(float) = ctx;
    return (*f)(x);
}

void mxu_lut_build(int8_t lut[256], float (*f)(float), float in_scale, int32_t in_zp,
                   float out_scale, int32_t out_zp)
{
    lut_populate(lut, call_plain, &f, in_scale, in_zp, out_scale, out_zp);
}

static float call_leaky(float x, const void *ctx)
{
    const float *alpha = ctx;
    return x > 0 ? x : *alpha * x;
}

void mxu_lut_build_leaky(int8_t lut[256], float alpha, float in_scale, int32_t in_zp,
                         float out_scale, int32_t out_zp)
{
    lut_populate(lut, call_leaky, &alpha, in_scale, in_zp, out_scale, out_zp);
}
