/* Golden kernels of the host layers: TFLite's int8 softmax (the fixed-point
 * reference and LiteRT's builtin float-table kernel), concatenation, nearest
 * upsampling (golden.h).
 *
 * The softmax follows TFLite's reference int8 kernel step by step, with the
 * gemmlowp fixed-point primitives it is built from written out below as plain
 * int32 functions. A value in "Qm" has m integer bits and 31 - m fractional
 * bits (gemmlowp's FixedPoint<int32_t, m>); a product of Qa and Qb values is a
 * Q(a+b) value computed with the saturating rounding doubling high multiply. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "golden.h"
#include "mxu_numerics.h"

/* ---- gemmlowp fixed-point primitives -------------------------------------------- */

/* Plain int32 addition as gemmlowp's (its operands never overflow here; the
 * unsigned detour only keeps the sanitizer quiet on hostile inputs). */
static int32_t add32(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* SaturatingRoundingMultiplyByPOT<e>: a saturating left shift for e > 0, a
 * rounding right shift for e < 0. */
static int32_t mul_pot(int32_t x, int e)
{
    if (e < 0)
        return mxu_rdbpot(x, -e);
    if (e == 0)
        return x;
    int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
    if (x > threshold)
        return INT32_MAX;
    if (x < -threshold)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* gemmlowp's RoundingHalfSum: (a + b) / 2 rounded half away from zero. */
static int32_t rounding_half_sum(int32_t a, int32_t b)
{
    int64_t sum = (int64_t)a + b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* RoundingDivideByPOT carried out in 64 bits, so exponents above 31 are
 * defined too; identical to gemmlowp's for exponents 0..31. */
static int32_t rounding_shift64(int32_t x, int exponent)
{
    int64_t mask = (int64_t)((UINT64_C(1) << exponent) - 1);
    int64_t remainder = x & mask;
    int64_t threshold = (mask >> 1) + (x < 0);
    return (int32_t)(((int64_t)x >> exponent) + (remainder > threshold));
}

/* exp(a) for a in [-1/4, 0), Q0 in and out: a fourth-order Taylor expansion
 * around -1/8 (gemmlowp's exp_on_interval_between_negative_one_quarter_and_0_excl). */
static int32_t exp_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0 */
    int32_t x = add32(a, 1 << 28);                   /* a + 1/8 */
    int32_t x2 = mxu_srdhm(x, x), x3 = mxu_srdhm(x2, x), x4 = mxu_srdhm(x2, x2);
    int32_t x4_over_4 = mul_pot(x4, -2);
    int32_t poly = mul_pot(add32(mxu_srdhm(add32(x4_over_4, x3), one_third), x2), -1);
    return add32(exp_minus_one_eighth, mxu_srdhm(exp_minus_one_eighth, add32(x, poly)));
}

/* exp(a) for a <= 0 given in Q5 (26 fractional bits), result in Q0
 * (gemmlowp's exp_on_negative_values<int32_t, 5>): the fraction modulo 1/4
 * through the polynomial, then one factor exp(-2^k) per set bit of the rest. */
static int32_t exp_on_negative_q5(int32_t a)
{
    enum { FRAC = 31 - MXU_SOFTMAX_SCALED_DIFF_BITS };
    static const struct {
        int exponent;
        int32_t factor; /* exp(-2^exponent) in Q0 */
    } barrel[] = {
        {-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308},
        {2, 39332535},    {3, 720401},      {4, 242},
    };
    const int32_t quarter = 1 << (FRAC - 2);
    int32_t mod_quarter_minus_quarter = add32(a & (quarter - 1), -quarter);
    int32_t result = exp_quarter_interval(mul_pot(mod_quarter_minus_quarter, MXU_SOFTMAX_SCALED_DIFF_BITS));
    uint32_t remainder = (uint32_t)mod_quarter_minus_quarter - (uint32_t)a;
    for (size_t i = 0; i < sizeof barrel / sizeof *barrel; i++)
        if (remainder & (1u << (FRAC + barrel[i].exponent)))
            result = mxu_srdhm(result, barrel[i].factor);
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0 in and out: three Newton-Raphson steps in Q2
 * from the 48/17 - 32/17 * d estimate (gemmlowp's one_over_one_plus_x_for_x_in_0_1). */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int32_t c48_over_17 = 1515870810, cneg32_over_17 = -1010580540; /* Q2 */
    const int32_t one_q2 = 1 << 29;
    int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    int32_t x = add32(c48_over_17, mxu_srdhm(half_denominator, cneg32_over_17));
    for (int i = 0; i < 3; i++) {
        int32_t one_minus = add32(one_q2, -mxu_srdhm(half_denominator, x));
        x = add32(x, mul_pot(mxu_srdhm(x, one_minus), 2)); /* Q4 product back to Q2 */
    }
    return mul_pot(x, 1); /* x / 2 read as Q1, rescaled to Q0 */
}

static int count_leading_zeros(uint32_t x)
{
    int n = 0;
    if (x == 0)
        return 32;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}

/* TFLite's GetReciprocal: 1/x for x in Q(integer_bits), as a Q0 scale and the
 * number of bits x has above 1.0. */
static int32_t reciprocal(int32_t x, int integer_bits, int *bits_over_unit)
{
    int headroom_plus_one = count_leading_zeros((uint32_t)x);
    *bits_over_unit = integer_bits - headroom_plus_one;
    uint32_t shifted = headroom_plus_one < 32 ? (uint32_t)x << headroom_plus_one : 0;
    return one_over_one_plus_x((int32_t)(shifted - (1u << 31)));
}

/* ---- softmax -------------------------------------------------------------------- */

int mxu_softmax_params_from_scale(float input_scale, float beta, struct mxu_softmax_params *p)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "softmax: params is NULL");
    memset(p, 0, sizeof *p);
    if (!isfinite(input_scale) || !(input_scale > 0) || !isfinite(beta) || !(beta > 0))
        return mxu_fail(MXU_ERR_INVAL, "softmax: input scale %g and beta %g must be positive and finite",
                        (double)input_scale, (double)beta);
    /* PreprocessSoftmaxScaling: beta * scale in Q5.26, capped at 2^31 - 1. */
    double m = (double)beta * (double)input_scale * (double)(1 << (31 - MXU_SOFTMAX_SCALED_DIFF_BITS));
    if (m > 2147483647.0)
        m = 2147483647.0;
    int32_t qm, shift;
    if (!(m > 1.0) || mxu_quantize_multiplier(m, &qm, &shift) != MXU_OK || shift < 0)
        return mxu_fail(MXU_ERR_INVAL,
                        "softmax: input scale %g x beta %g is outside [2^-26, 16), the range of "
                        "TFLite's int8 softmax multiplier", (double)input_scale, (double)beta);
    p->input_multiplier = qm;
    p->input_left_shift = shift;
    /* CalculateInputRadius(5, shift): the largest difference that does not
     * overflow Q5.26 once shifted left. */
    double radius = 1.0 * ((1 << MXU_SOFTMAX_SCALED_DIFF_BITS) - 1) *
                    (double)(INT64_C(1) << (31 - MXU_SOFTMAX_SCALED_DIFF_BITS)) /
                    (double)(INT64_C(1) << shift);
    p->diff_min = -(int32_t)floor(radius);
    return MXU_OK;
}

/* The input difference (<= 0) as Q5.26: MultiplyByQuantizedMultiplierGreaterThanOne. */
static int32_t scaled_diff(const struct mxu_softmax_params *p, int32_t diff)
{
    int64_t shifted = (int64_t)diff * ((int64_t)1 << p->input_left_shift);
    return mxu_srdhm((int32_t)shifted, p->input_multiplier);
}

static void softmax_row(const struct mxu_softmax_params *p, size_t depth, const int8_t *in,
                        int8_t *out)
{
    enum { ACC_BITS = 12 }; /* TFLite's kAccumulationIntegerBits */
    int32_t max = -128;
    for (size_t c = 0; c < depth; c++)
        max = in[c] > max ? in[c] : max;
    int64_t sum = 0;
    for (size_t c = 0; c < depth; c++) {
        int32_t diff = in[c] - max;
        if (diff >= p->diff_min)
            sum += mul_pot(exp_on_negative_q5(scaled_diff(p, diff)), -ACC_BITS); /* Q0 -> Q12 */
    }
    int bits_over_unit;
    int32_t scale = reciprocal(sum > INT32_MAX ? INT32_MAX : (int32_t)sum, ACC_BITS, &bits_over_unit);
    int exponent = bits_over_unit + 31 - 8; /* the result in 1/256 steps */
    for (size_t c = 0; c < depth; c++) {
        int32_t diff = in[c] - max;
        if (diff < p->diff_min) {
            out[c] = -128;
            continue;
        }
        int32_t e = exp_on_negative_q5(scaled_diff(p, diff));
        int32_t v = rounding_shift64(mxu_srdhm(scale, e), exponent) - 128;
        out[c] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
}

int mxu_golden_softmax(const struct mxu_softmax_params *p, size_t rows, size_t depth,
                       const int8_t *input, int8_t *output)
{
    if (!p || !input || !output || depth == 0)
        return mxu_fail(MXU_ERR_INVAL, "softmax: NULL buffer or empty rows");
    if (p->input_left_shift < 0 || p->input_left_shift > 30 || p->input_multiplier <= 0 ||
        p->diff_min > 0)
        return mxu_fail(MXU_ERR_INVAL, "softmax: parameters (%d, %d, %d) are not TFLite's",
                        p->input_multiplier, p->input_left_shift, p->diff_min);
    for (size_t r = 0; r < rows; r++)
        softmax_row(p, depth, input + r * depth, output + r * depth);
    return MXU_OK;
}

/* ---- LiteRT's builtin softmax: a float exp table ------------------------------------ */

/* table[255 - d] = exp(-input_scale * beta * d): PopulateSoftmaxLookupTable. */
static void softmax_exp_table(float input_scale, float beta, float table[256])
{
    const float scale = -input_scale * beta;
    for (int32_t d = 0; d <= 255; d++)
        table[255 - d] = expf(scale * (float)d);
}

/* One row as SoftmaxInt8LUT: the table seen from the row's maximum (entry
 * [x] is exp of x - max), a float sum in order, then 1/256 steps from -128. */
static void softmax_table_row(const float table[256], size_t depth, const int8_t *in, int8_t *out)
{
    int32_t max = -128;
    for (size_t c = 0; c < depth; c++)
        max = in[c] > max ? in[c] : max;
    const float *from_max = table + (255 - max); /* from_max[x], x in [-128, max]: table[127 - max..255] */
    float sum = 0.0f;
    for (size_t c = 0; c < depth; c++)
        sum += from_max[in[c]];
    const float inverse = 1.0f / (sum * MXU_SOFTMAX_OUT_SCALE);
    for (size_t c = 0; c < depth; c++) {
        int32_t q = (int32_t)roundf(from_max[in[c]] * inverse) + MXU_SOFTMAX_OUT_ZP;
        out[c] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
    }
}

int mxu_golden_softmax_table(float input_scale, float beta, size_t rows, size_t depth,
                             const int8_t *input, int8_t *output)
{
    if (!input || !output || depth == 0)
        return mxu_fail(MXU_ERR_INVAL, "softmax: NULL buffer or empty rows");
    if (!(input_scale > 0) || !isfinite(input_scale) || !(beta > 0) || !isfinite(beta))
        return mxu_fail(MXU_ERR_INVAL, "softmax: input scale %g and beta %g must be positive and finite",
                        (double)input_scale, (double)beta);
    float table[256];
    softmax_exp_table(input_scale, beta, table);
    for (size_t r = 0; r < rows; r++)
        softmax_table_row(table, depth, input + r * depth, output + r * depth);
    return MXU_OK;
}

int mxu_golden_softmax_f32(size_t rows, size_t depth, float beta, const float *input,
                           float *output)
{
    if (!input || !output || depth == 0)
        return mxu_fail(MXU_ERR_INVAL, "softmax: NULL buffer or empty rows");
    for (size_t r = 0; r < rows; r++) {
        const float *in = input + r * depth;
        float *out = output + r * depth;
        float max = in[0];
        for (size_t c = 1; c < depth; c++)
            max = in[c] > max ? in[c] : max;
        double sum = 0;
        for (size_t c = 0; c < depth; c++)
            sum += exp((double)beta * ((double)in[c] - max));
        for (size_t c = 0; c < depth; c++)
            out[c] = (float)(exp((double)beta * ((double)in[c] - max)) / sum);
    }
    return MXU_OK;
}

/* ---- data movement ---------------------------------------------------------------- */

int mxu_golden_concat(size_t outer, size_t depth1, size_t depth2, const int8_t *in1,
                      const int8_t *in2, int8_t *output)
{
    if ((outer && (!in1 || !in2 || !output)) || (depth1 == 0 && depth2 == 0))
        return mxu_fail(MXU_ERR_INVAL, "concat: NULL buffer or nothing to concatenate");
    for (size_t r = 0; r < outer; r++) {
        int8_t *o = output + r * (depth1 + depth2);
        memcpy(o, in1 + r * depth1, depth1);
        memcpy(o + depth1, in2 + r * depth2, depth2);
    }
    return MXU_OK;
}

int mxu_golden_upsample(int32_t n, int32_t h, int32_t w, int32_t c, int32_t factor,
                        const int8_t *input, int8_t *output)
{
    if (n < 1 || h < 1 || w < 1 || c < 1 || factor < 1 || !input || !output)
        return mxu_fail(MXU_ERR_INVAL, "upsample: shape %dx%dx%dx%d, factor %d", n, h, w, c, factor);
    size_t oh = (size_t)h * factor, ow = (size_t)w * factor, cs = (size_t)c;
    for (size_t b = 0; b < (size_t)n; b++)
        for (size_t y = 0; y < oh; y++)
            for (size_t x = 0; x < ow; x++)
                memcpy(output + ((b * oh + y) * ow + x) * cs,
                       input + ((b * (size_t)h + y / (size_t)factor) * (size_t)w + x / (size_t)factor) * cs,
                       cs);
    return MXU_OK;
}
