/* The int8 numerics contract: TFLite's primitives on hand-computed values, the
 * proof that the hardware's shift/add requantization equals TFLite's double
 * rounding, QuantizeMultiplier's corner cases, ACTIVATE of one value, quantize,
 * dequantize and lookup tables. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "mxu_numerics.h"

#define Q_HALF (INT32_C(1) << 30) /* qm of 0.5 */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A random int32 whose magnitude is spread over every bit width, so small
 * accumulators (where shifts and ties matter) are as common as huge ones. */
static int32_t random_x(uint64_t *rng)
{
    uint64_t r = splitmix64(rng);
    int32_t v = (int32_t)(uint32_t)r;
    return v >> (int)((r >> 32) % 32); /* arithmetic shift keeps the sign */
}

/* ---- TFLite primitives ----------------------------------------------------- */

Test(numerics, srdhm_known_values)
{
    cr_assert_eq(mxu_srdhm(Q_HALF, Q_HALF), 1 << 29);
    cr_assert_eq(mxu_srdhm(100, Q_HALF), 50);
    cr_assert_eq(mxu_srdhm(INT32_MAX, INT32_MAX), 2147483646);
    cr_assert_eq(mxu_srdhm(INT32_MIN, INT32_MIN), INT32_MAX, "the one overflow case saturates");
    cr_assert_eq(mxu_srdhm(INT32_MIN, INT32_MAX), -2147483647);
    cr_assert_eq(mxu_srdhm(0, INT32_MIN), 0);
}

Test(numerics, srdhm_ties_go_toward_plus_infinity)
{
    cr_assert_eq(mxu_srdhm(1, Q_HALF), 1);   /*  0.5 ->  1 */
    cr_assert_eq(mxu_srdhm(-1, Q_HALF), 0);  /* -0.5 ->  0 */
    cr_assert_eq(mxu_srdhm(3, Q_HALF), 2);   /*  1.5 ->  2 */
    cr_assert_eq(mxu_srdhm(-3, Q_HALF), -1); /* -1.5 -> -1 */
    cr_assert_eq(mxu_srdhm(-5, Q_HALF), -2); /* -2.5 -> -2 */
    cr_assert_eq(mxu_srdhm(-7, 3 << 28), -3); /* -2.625 -> -3: not a tie */
}

Test(numerics, rdbpot_ties_go_away_from_zero)
{
    cr_assert_eq(mxu_rdbpot(5, 1), 3);
    cr_assert_eq(mxu_rdbpot(-5, 1), -3);
    cr_assert_eq(mxu_rdbpot(4, 1), 2);
    cr_assert_eq(mxu_rdbpot(6, 2), 2);   /*  1.5 */
    cr_assert_eq(mxu_rdbpot(-6, 2), -2); /* -1.5 */
    cr_assert_eq(mxu_rdbpot(5, 2), 1);   /*  1.25 */
    cr_assert_eq(mxu_rdbpot(-5, 2), -1);
    cr_assert_eq(mxu_rdbpot(7, 2), 2);   /*  1.75 */
    cr_assert_eq(mxu_rdbpot(-7, 2), -2);
    cr_assert_eq(mxu_rdbpot(-123, 0), -123);
    cr_assert_eq(mxu_rdbpot(INT32_MIN, 31), -1);
    cr_assert_eq(mxu_rdbpot(INT32_MAX, 31), 1);
    cr_assert_eq(mxu_rdbpot(1 << 30, 31), 1);     /*  0.5 */
    cr_assert_eq(mxu_rdbpot(-(1 << 30), 31), -1); /* -0.5 */
    cr_assert_eq(mxu_rdbpot((1 << 30) - 1, 31), 0);
    cr_assert_eq(mxu_rdbpot(3 << 19, 20), 2); /* 1.5 at a large exponent */
    cr_assert_eq(mxu_rdbpot(-(3 << 19), 20), -2);
}

Test(numerics, mbqm_double_rounding)
{
    /* exact 1 * 0.5 / 2 = 0.25, but SRDHM rounds 0.5 up to 1 first, then 1/2 -> 1 */
    cr_assert_eq(mxu_mbqm_ref(1, Q_HALF, -1), 1);
    cr_assert_eq(mxu_requantize(1, Q_HALF, -1), 1);
    cr_assert_eq(mxu_mbqm_ref(-1, Q_HALF, -1), 0); /* -0.5 -> 0, then 0 */
    cr_assert_eq(mxu_requantize(-1, Q_HALF, -1), 0);
    cr_assert_eq(mxu_mbqm_ref(-3, Q_HALF, -1), -1); /* -1.5 -> -1, -0.5 -> -1 */
    cr_assert_eq(mxu_requantize(-3, Q_HALF, -1), -1);
    cr_assert_eq(mxu_mbqm_ref(100, Q_HALF, 0), 50);
    cr_assert_eq(mxu_mbqm_ref(100, Q_HALF, 3), 400);
    cr_assert_eq(mxu_requantize(100, Q_HALF, 3), 400);
    /* 125 * 0.1 = 12.4999999...: SRDHM gives 100, then 100 / 8 = 12.5 -> 13 */
    cr_assert_eq(mxu_mbqm_ref(125, 1717986918, -3), 13);
    cr_assert_eq(mxu_requantize(125, 1717986918, -3), 13);
    cr_assert_eq(mxu_requantize(-125, 1717986918, -3), -13);
    cr_assert_eq(mxu_requantize(1000, 1717986918, -3), 100);
}

/* ---- the proof: hardware form == TFLite reference -------------------------- */

Test(numerics, requantize_equals_tflite_on_1e7_random_cases)
{
    uint64_t rng = UINT64_C(0x6D7875) /* "mxu" */;
    const long cases = 10 * 1000 * 1000;
    long mismatches = 0;
    for (long i = 0; i < cases; i++) {
        uint64_t r = splitmix64(&rng);
        int32_t x = random_x(&rng);
        int32_t shift = (int32_t)(r % 62) - 31; /* -31 .. 30 */
        int32_t qm = (r >> 8) % 64 == 0 ? 0 : (int32_t)(Q_HALF + (int32_t)((r >> 32) & 0x3FFFFFFF));
        int32_t want = mxu_mbqm_ref(x, qm, shift);
        int32_t got = mxu_requantize(x, qm, shift);
        if (got != want && mismatches++ < 5)
            cr_log_error("x=%d qm=%d shift=%d: hardware %d, TFLite %d", x, qm, shift, got, want);
    }
    cr_assert_eq(mismatches, 0, "%ld of %ld cases differ", mismatches, cases);
}

Test(numerics, requantize_equals_tflite_for_any_qm)
{
    /* beyond TFLite's qm range (negative, small): the two forms still agree */
    uint64_t rng = 42;
    for (long i = 0; i < 1000 * 1000; i++) {
        uint64_t r = splitmix64(&rng);
        int32_t x = random_x(&rng);
        int32_t qm = (int32_t)(uint32_t)(r >> 32);
        int32_t shift = (int32_t)(r % 62) - 31;
        cr_assert_eq(mxu_requantize(x, qm, shift), mxu_mbqm_ref(x, qm, shift), "x=%d qm=%d shift=%d",
                     x, qm, shift);
    }
}

Test(numerics, requantize_hand_picked_ties)
{
    /* x * qm / 2^31 exactly k + 0.5 at shift 0; then exact halves at right shifts */
    const int32_t qms[] = {0, Q_HALF, 3 << 28 /* 0.375 */, INT32_MAX, Q_HALF + 1};
    const int32_t xs[] = {0, 1, -1, 3, -3, 5, -5, 7, -7, 1 << 20, -(1 << 20), 12345, -12345,
                          INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1 << 30, -(1 << 30)};
    for (size_t q = 0; q < sizeof qms / sizeof qms[0]; q++)
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
            for (int shift = -31; shift <= 30; shift++)
                cr_assert_eq(mxu_requantize(xs[i], qms[q], shift), mxu_mbqm_ref(xs[i], qms[q], shift),
                             "x=%d qm=%d shift=%d", xs[i], qms[q], shift);
    /* k + 0.5 after the right shift, with an exact SRDHM (x even, qm = 0.5) */
    for (int rs = 1; rs <= 20; rs++) {
        int32_t half_odd = (int32_t)((2 * 5 + 1) * (INT64_C(1) << (rs - 1))); /* 5.5 * 2^rs */
        cr_assert_eq(mxu_requantize(2 * half_odd, Q_HALF, -rs), 6, "rs=%d", rs);
        cr_assert_eq(mxu_requantize(-2 * half_odd, Q_HALF, -rs), -6, "rs=%d", rs);
        cr_assert_eq(mxu_mbqm_ref(-2 * half_odd, Q_HALF, -rs), -6, "rs=%d", rs);
    }
}

Test(numerics, requantize_extreme_inputs)
{
    cr_assert_eq(mxu_requantize(INT32_MIN, INT32_MIN, 0), INT32_MAX, "saturated SRDHM");
    cr_assert_eq(mxu_mbqm_ref(INT32_MIN, INT32_MIN, 0), INT32_MAX);
    cr_assert_eq(mxu_requantize(INT32_MIN, INT32_MIN, -1), 1 << 30);
    cr_assert_eq(mxu_mbqm_ref(INT32_MIN, INT32_MIN, -1), 1 << 30);
    cr_assert_eq(mxu_requantize(INT32_MAX, INT32_MAX, 0), 2147483646);
    cr_assert_eq(mxu_requantize(INT32_MIN, INT32_MAX, 0), -2147483647);
    cr_assert_eq(mxu_requantize(INT32_MAX, INT32_MAX, -31), 1);
    cr_assert_eq(mxu_requantize(INT32_MIN, INT32_MAX, -31), -1);
    cr_assert_eq(mxu_requantize(INT32_MAX, 0, 7), 0);
    /* shift 30 wraps the input: 3 << 30 = INT32_MIN + 2^30 */
    cr_assert_eq(mxu_requantize(3, Q_HALF, 30), mxu_mbqm_ref(3, Q_HALF, 30));
    cr_assert_eq(mxu_requantize(3, Q_HALF, 30), -(1 << 29));
}

Test(numerics, requantize_shifts_beyond_tflite_clamp)
{
    /* shift 31 exists only in the hardware form: 1 << 31 wraps to INT32_MIN */
    cr_assert_eq(mxu_requantize(1, Q_HALF, 31), -(1 << 30));
    cr_assert_eq(mxu_requantize(2, Q_HALF, 31), 0);
    cr_assert_eq(mxu_requantize(1, INT32_MIN, 31), INT32_MAX);
    uint64_t rng = 7;
    for (int i = 0; i < 10000; i++) {
        int32_t x = random_x(&rng);
        int32_t qm = (int32_t)(uint32_t)splitmix64(&rng);
        cr_assert_eq(mxu_requantize(x, qm, 40), mxu_requantize(x, qm, 31));
        cr_assert_eq(mxu_requantize(x, qm, INT32_MAX), mxu_requantize(x, qm, 31));
        cr_assert_eq(mxu_requantize(x, qm, -40), mxu_requantize(x, qm, -31));
        cr_assert_eq(mxu_requantize(x, qm, INT32_MIN), mxu_requantize(x, qm, -31));
    }
}

/* ---- QuantizeMultiplier ----------------------------------------------------- */

static void check_qm(double m, int32_t want_qm, int32_t want_shift)
{
    int32_t qm = 12345, shift = 12345;
    cr_assert_eq(mxu_quantize_multiplier(m, &qm, &shift), MXU_OK, "m=%.17g", m);
    cr_assert_eq(qm, want_qm, "m=%.17g: qm %d, want %d", m, qm, want_qm);
    cr_assert_eq(shift, want_shift, "m=%.17g: shift %d, want %d", m, shift, want_shift);
}

Test(numerics, quantize_multiplier_known_values)
{
    check_qm(0.0, 0, 0);
    check_qm(0.5, 1 << 30, 0);
    check_qm(0.1, 1717986918, -3);  /* 0.8 * 2^31 = 1717986918.4 */
    check_qm(0.3, 1288490189, -1);  /* 0.6 * 2^31 = 1288490188.8 */
    check_qm(0.75, 1610612736, 0);
    check_qm(1.0, 1 << 30, 1);
    check_qm(1.5, 1610612736, 1);
    check_qm(0x1p29, 1 << 30, 30);
    check_qm(0.0039215689, 1077952651, -7); /* ~1/255 */
}

Test(numerics, quantize_multiplier_corner_cases)
{
    check_qm(0.5 + 0x1p-32, (1 << 30) + 1, 0);  /* q * 2^31 = 2^30 + 0.5: tie rounds away */
    check_qm(1.0 - 0x1p-33, 1 << 30, 1);        /* rounds to 2^31 -> 2^30, shift + 1 */
    check_qm((1.0 - 0x1p-40) * 0x1p-31, 1 << 30, -30);
    check_qm((1.0 - 0x1p-40) * 0x1p-32, 1 << 30, -31); /* bumped back into range */
    check_qm(0x1p-32, 1 << 30, -31);            /* smallest kept: shift -31 */
    check_qm(0x1p-33, 0, 0);                    /* shift -32: flushed to zero */
    check_qm(1e-30, 0, 0);
    check_qm(4.9e-324, 0, 0);                   /* denormal */
}

Test(numerics, quantize_multiplier_rejects_bad_values)
{
    int32_t qm = 1, shift = 1;
    cr_assert_eq(mxu_quantize_multiplier(-0.5, &qm, &shift), MXU_ERR_INVAL);
    cr_assert_eq(qm, 0);
    cr_assert_eq(shift, 0);
    cr_assert_eq(mxu_quantize_multiplier(NAN, &qm, &shift), MXU_ERR_INVAL);
    cr_assert_eq(mxu_quantize_multiplier(INFINITY, &qm, &shift), MXU_ERR_INVAL);
    cr_assert_eq(mxu_quantize_multiplier(-INFINITY, &qm, &shift), MXU_ERR_INVAL);
    cr_assert_eq(mxu_quantize_multiplier(0x1p30, &qm, &shift), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "shift 31") != NULL, "detail: %s", mxu_error_detail());
    cr_assert_eq(mxu_quantize_multiplier(0x1p30 - 0x1p-20, &qm, &shift), MXU_ERR_INVAL,
                 "rounds up to 2^30");
}

Test(numerics, quantize_multiplier_reconstructs_m)
{
    uint64_t rng = 99;
    for (int i = 0; i < 100000; i++) {
        double m = ldexp(0.5 + (double)(splitmix64(&rng) >> 11) * 0x1p-54, (int)(splitmix64(&rng) % 60) - 30);
        int32_t qm, shift;
        cr_assert_eq(mxu_quantize_multiplier(m, &qm, &shift), MXU_OK);
        cr_assert(qm >= (1 << 30) && shift >= -31 && shift <= 30, "m=%g qm=%d shift=%d", m, qm, shift);
        double back = ldexp((double)qm, shift - 31);
        cr_assert(fabs(back - m) <= m * 0x1p-31, "m=%.17g back=%.17g", m, back);
    }
}

/* ---- ACTIVATE of one value -------------------------------------------------- */

Test(numerics, activate_bias_requant_zp_clamp)
{
    /* (1000 - 500) * 0.5 = 250, - 128 = 122 */
    cr_assert_eq(mxu_activate(1000, -500, Q_HALF, 0, -128, -128, 127, NULL), 122);
    cr_assert_eq(mxu_activate(1000, -500, Q_HALF, 0, -128, 0, 6, NULL), 6, "ReLU6 as a clamp");
    cr_assert_eq(mxu_activate(-1000, 0, Q_HALF, 0, 3, 0, 127, NULL), 0, "ReLU as a clamp");
    cr_assert_eq(mxu_activate(5, 0, Q_HALF, 0, 0, -128, 127, NULL), 3, "2.5 -> 3");
    cr_assert_eq(mxu_activate(-5, 0, Q_HALF, 0, 0, -128, 127, NULL), -2, "-2.5 -> -2 (SRDHM)");
    cr_assert_eq(mxu_activate(-5, 0, Q_HALF, -1, 0, -128, 127, NULL), -1, "-1.25 via -2 / 2 -> -1");
}

Test(numerics, activate_wraps_like_int32_hardware)
{
    /* INT32_MAX + 1 wraps to INT32_MIN; * 2^-31 = -1 */
    cr_assert_eq(mxu_activate(INT32_MAX, 1, Q_HALF, -30, 0, -128, 127, NULL), -1);
    /* requant gives INT32_MAX; + zp 1 wraps to INT32_MIN, clamped to -128 */
    cr_assert_eq(mxu_activate(INT32_MIN, 0, INT32_MIN, 0, 1, -128, 127, NULL), -128);
}

Test(numerics, activate_clamps_wide_ranges_to_int8)
{
    cr_assert_eq(mxu_activate(1000, 0, Q_HALF, 0, 0, -1000, 1000, NULL), 127);
    cr_assert_eq(mxu_activate(-1000, 0, Q_HALF, 0, 0, -1000, 1000, NULL), -128);
    cr_assert_eq(mxu_activate(1000, 0, Q_HALF, 0, 0, INT32_MIN, INT32_MAX, NULL), 127);
}

Test(numerics, activate_applies_lut_after_clamp)
{
    int8_t lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = (int8_t)(-(i - 128) - 1); /* y -> -y - 1 */
    cr_assert_eq(mxu_activate(1000, -500, Q_HALF, 0, -128, -128, 127, lut), -123);
    cr_assert_eq(mxu_activate(1000, -500, Q_HALF, 0, -128, 0, 6, lut), -7, "LUT sees the clamped 6");
    cr_assert_eq(mxu_activate(1000, 0, Q_HALF, 0, 0, -1000, 1000, lut), -128, "LUT[127 + 128]");
    cr_assert_eq(mxu_activate(-1000, 0, Q_HALF, 0, 0, -1000, 1000, lut), 127, "LUT[0]");
}

/* ---- quantize / dequantize / LUT ------------------------------------------- */

Test(numerics, quantize_f32_rounds_half_away_and_saturates)
{
    cr_assert_eq(mxu_quantize_f32(2.5f, 1.0f, 0), 3);
    cr_assert_eq(mxu_quantize_f32(-2.5f, 1.0f, 0), -3);
    cr_assert_eq(mxu_quantize_f32(0.5f, 1.0f, 0), 1);
    cr_assert_eq(mxu_quantize_f32(-0.5f, 1.0f, 0), -1);
    cr_assert_eq(mxu_quantize_f32(0.49f, 1.0f, 0), 0);
    cr_assert_eq(mxu_quantize_f32(1.0f, 0.5f, 10), 12);
    cr_assert_eq(mxu_quantize_f32(0.1f, 0.1f, -128), -127);
    cr_assert_eq(mxu_quantize_f32(1000.0f, 1.0f, 0), 127);
    cr_assert_eq(mxu_quantize_f32(-1000.0f, 1.0f, 0), -128);
    cr_assert_eq(mxu_quantize_f32(0.0f, 1.0f, 200), 127);
    cr_assert_eq(mxu_quantize_f32(1e30f, 1e-30f, 0), 127);
    cr_assert_eq(mxu_quantize_f32(INFINITY, 1.0f, 0), 127);
    cr_assert_eq(mxu_quantize_f32(-INFINITY, 1.0f, 0), -128);
    cr_assert_eq(mxu_quantize_f32(NAN, 1.0f, 5), 5);
}

Test(numerics, dequantize)
{
    cr_assert_float_eq(mxu_dequantize(10, 0.5f, 4), 3.0f, 0);
    cr_assert_float_eq(mxu_dequantize(-128, 0.25f, 127), -63.75f, 0);
    cr_assert_float_eq(mxu_dequantize(0, 0.1f, 0), 0.0f, 0);
    for (int q = -128; q <= 127; q++)
        cr_assert_eq(mxu_quantize_f32(mxu_dequantize((int8_t)q, 0.0784f, -3), 0.0784f, -3), q);
}

static float identity(float x)
{
    return x;
}

static float always_nan(float x)
{
    (void)x;
    return NAN;
}

Test(numerics, lut_build_identity_and_index_convention)
{
    int8_t lut[256];
    mxu_lut_build(lut, identity, 0.5f, 3, 0.5f, 3);
    for (int i = 0; i < 256; i++)
        cr_assert_eq(lut[i], i - 128, "index %d", i);
    mxu_lut_build(lut, identity, 1.0f, 0, 2.0f, 0); /* halves: ties away from zero */
    cr_assert_eq(lut[128 + 3], 2);
    cr_assert_eq(lut[128 - 3], -2);
    cr_assert_eq(lut[128 + 2], 1);
    cr_assert_eq(lut[0], -64);
    mxu_lut_build(lut, always_nan, 1.0f, 0, 1.0f, 9);
    cr_assert_eq(lut[17], 9);
}

Test(numerics, lut_build_sigmoid_tflite_convention)
{
    /* TFLite's int8 logistic output: scale 1/256, zero point -128 */
    int8_t lut[256];
    mxu_lut_build(lut, mxu_sigmoidf, 1.0f / 16, 0, 1.0f / 256, -128);
    cr_assert_eq(lut[128 - 128], -128);
    cr_assert_eq(lut[128 - 16], -59);
    cr_assert_eq(lut[128 + 0], 0);
    cr_assert_eq(lut[128 + 16], 59);
    cr_assert_eq(lut[128 + 40], 109);
    cr_assert_eq(lut[128 + 127], 127);
    for (int i = 1; i < 256; i++)
        cr_assert_geq(lut[i], lut[i - 1], "monotone");
}

Test(numerics, lut_build_tanh_and_leaky)
{
    int8_t lut[256];
    mxu_lut_build(lut, mxu_tanhf, 1.0f / 32, 0, 1.0f / 128, 0);
    cr_assert_eq(lut[128], 0);
    cr_assert_eq(lut[255], 127); /* tanh(3.97) * 128 = 127.9 -> 128, saturated */
    cr_assert_eq(lut[0], -128);
    cr_assert_eq(lut[128 + 16], 59); /* tanh(0.5) * 128 = 59.18 */
    cr_assert_eq(lut[128 - 16], -59);

    mxu_lut_build(lut, mxu_leaky01f, 1.0f, 0, 1.0f, 0);
    cr_assert_eq(lut[128 + 100], 100);
    cr_assert_eq(lut[128 - 5], -1);  /* -0.5 -> -1 */
    cr_assert_eq(lut[128 - 15], -2); /* -1.5 -> -2 */
    cr_assert_eq(lut[0], -13);       /* -12.8 */
    int8_t lut2[256];
    mxu_lut_build_leaky(lut2, 0.1f, 1.0f, 0, 1.0f, 0);
    cr_assert_arr_eq(lut, lut2, sizeof lut);
    mxu_lut_build_leaky(lut2, 0.25f, 0.5f, -10, 0.5f, -10);
    cr_assert_eq(lut2[128 - 14], -11); /* x = -2 -> -0.5 -> -1 + zp -10 */
    cr_assert_eq(lut2[128 + 20], 20);
}
