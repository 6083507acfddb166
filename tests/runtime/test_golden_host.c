/* Golden kernels of the host layers: TFLite's int8 softmax (bit-exact vectors,
 * hand-computed cases, properties), concatenation, nearest upsampling. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "mxu_numerics.h"

static void softmax_row(float scale, size_t n, const int8_t *in, int8_t *out)
{
    struct mxu_softmax_params p;
    cr_assert_eq(mxu_softmax_params_from_scale(scale, 1.0f, &p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_golden_softmax(&p, 1, n, in, out), MXU_OK, "%s", mxu_error_detail());
}

/* ---- bit-exact vectors produced by TFLite's reference kernel ------------------------------------ */

/* Parameters and outputs from CMSIS-NN's softmax unit-test data, which its
 * generator takes from TFLite's reference int8 softmax (arm_softmax_s8 is
 * bit-exact with it). */
Test(golden_host, softmax_tflite_vectors)
{
    const struct mxu_softmax_params a = {1077952576, 23, -248};
    const int8_t in_a[5] = {-80, -48, 16, 0, -96}, want_a[5] = {-128, -125, 56, -60, -128};
    int8_t out[10];
    cr_assert_eq(mxu_golden_softmax(&a, 1, 5, in_a, out), MXU_OK);
    cr_assert_arr_eq(out, want_a, 5);

    const struct mxu_softmax_params b = {1077952640, 19, -3968};
    const int8_t in_b[10] = {101, 49, 6, -34, -75, -79, -38, 120, -55, 115};
    const int8_t want_b[10] = {-57, -70, -79, -86, -92, -94, -88, -54, -91, -56};
    cr_assert_eq(mxu_golden_softmax(&b, 2, 5, in_b, out), MXU_OK);
    cr_assert_arr_eq(out, want_b, 10);
}

/* PreprocessSoftmaxScaling + CalculateInputRadius. */
Test(golden_host, softmax_params_as_tflite_prepares_them)
{
    struct mxu_softmax_params p;
    cr_assert_eq(mxu_softmax_params_from_scale(1.0f / 255.0f, 1.0f, &p), MXU_OK);
    cr_assert_eq(p.input_multiplier, 1077952640);
    cr_assert_eq(p.input_left_shift, 19);
    cr_assert_eq(p.diff_min, -3968); /* floor(31 * 2^26 / 2^19) */
    /* 0.1 * 2^26 = 6710886.4 = 0.8 * 2^23 */
    cr_assert_eq(mxu_softmax_params_from_scale(0.1f, 1.0f, &p), MXU_OK);
    cr_assert_eq(p.input_left_shift, 23);
    cr_assert_eq(p.input_multiplier, 1717986944); /* round(0.8000000119 * 2^31) of the float 0.1 */
    cr_assert_eq(p.diff_min, -248);
    /* 1.0 * 2^26 = 0.5 * 2^27: radius 31 * 2^26 / 2^27 = 15.5 -> 15 */
    cr_assert_eq(mxu_softmax_params_from_scale(1.0f, 1.0f, &p), MXU_OK);
    cr_assert_eq(p.input_multiplier, 1 << 30);
    cr_assert_eq(p.input_left_shift, 27);
    cr_assert_eq(p.diff_min, -15);
    /* beta scales like the input scale */
    struct mxu_softmax_params q;
    cr_assert_eq(mxu_softmax_params_from_scale(0.5f, 2.0f, &q), MXU_OK);
    cr_assert_eq(memcmp(&p, &q, sizeof p), 0);
}

Test(golden_host, softmax_params_refused_outside_tflites_range)
{
    struct mxu_softmax_params p;
    const float bad[] = {0.0f, -1.0f, NAN, INFINITY, 16.0f, 1000.0f, 1e-9f};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(mxu_softmax_params_from_scale(bad[i], 1.0f, &p), MXU_ERR_INVAL, "scale %g",
                     (double)bad[i]);
        cr_assert_eq(p.input_multiplier, 0);
    }
    cr_assert_eq(mxu_softmax_params_from_scale(0.1f, 0.0f, &p), MXU_ERR_INVAL);
    cr_assert_eq(mxu_softmax_params_from_scale(15.9f, 1.0f, &p), MXU_OK); /* just inside */
    cr_assert_eq(mxu_softmax_params_from_scale(0.1f, 1.0f, NULL), MXU_ERR_INVAL);
    int8_t x = 0, y;
    cr_assert_eq(mxu_golden_softmax(NULL, 1, 1, &x, &y), MXU_ERR_INVAL);
    cr_assert_eq(mxu_softmax_params_from_scale(0.1f, 1.0f, &p), MXU_OK);
    cr_assert_eq(mxu_golden_softmax(&p, 1, 0, &x, &y), MXU_ERR_INVAL);
    struct mxu_softmax_params wrong = {p.input_multiplier, 31, p.diff_min};
    cr_assert_eq(mxu_golden_softmax(&wrong, 1, 1, &x, &y), MXU_ERR_INVAL);
}

/* ---- hand-computed cases -------------------------------------------------------------------------- */

/* n equal inputs: each exp is exactly 1, the probability 1/n, the output
 * 256/n - 128 (exact for powers of two; the fixed-point reciprocal errs by far
 * less than half a step). A single value saturates at 127 (256 - 128). */
Test(golden_host, softmax_of_equal_values)
{
    static int8_t in[256], out[256];
    const size_t n[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    const int8_t want[] = {127, 0, -64, -96, -112, -120, -124, -126, -127};
    const float scales[] = {0.1f, 1.0f / 255.0f, 2.0f};
    for (size_t s = 0; s < 3; s++)
        for (size_t k = 0; k < sizeof n / sizeof *n; k++) {
            memset(in, (int)(k * 13) - 60, sizeof in);
            softmax_row(scales[s], n[k], in, out);
            for (size_t i = 0; i < n[k]; i++)
                cr_assert_eq(out[i], want[k], "n=%zu scale %g: %d", n[k], (double)scales[s], out[i]);
        }
}

/* Values below diff_min contribute nothing and give -128: with scale 1.0 the
 * radius is 15 steps. */
Test(golden_host, softmax_cut_off_below_diff_min)
{
    const int8_t in[3] = {100, 100 - 16, 100 - 15};
    int8_t out[3];
    softmax_row(1.0f, 3, in, out);
    cr_assert_eq(out[1], -128);
    cr_assert_eq(out[0], 127); /* 1 / (1 + e^-15) rounds to 256 */
    cr_assert_eq(out[2], -128); /* e^-15 * 256 = 0.00008 */
    /* two values one unit apart at scale 1: e/(1+e) = 0.7311 -> 187.2 -> 59, 1/(1+e) -> 68.8 -> -59 */
    const int8_t two[2] = {5, 4};
    softmax_row(1.0f, 2, two, out);
    cr_assert_eq(out[0], 59);
    cr_assert_eq(out[1], -59);
}

/* TFLite's own test data (input scale 0.1, inputs 1..5 as 10..50): the float
 * probabilities quantized to 1/256 steps, within one step. */
Test(golden_host, softmax_near_the_float_result)
{
    const int8_t in[5] = {10, 20, 30, 40, 50};
    const double golden[5] = {0.011656231, 0.031684921, 0.086128544, 0.234121657, 0.636408647};
    int8_t out[5];
    float fin[5], fout[5];
    softmax_row(0.1f, 5, in, out);
    for (int i = 0; i < 5; i++)
        fin[i] = 0.1f * in[i];
    cr_assert_eq(mxu_golden_softmax_f32(1, 5, 1.0f, fin, fout), MXU_OK);
    for (int i = 0; i < 5; i++) {
        cr_assert_float_eq(fout[i], golden[i], 1e-6);
        double q = golden[i] * 256.0 - 128.0;
        cr_assert(fabs(out[i] - q) <= 1.0, "%d: %d vs %.2f", i, out[i], q);
    }
}

/* ---- properties ------------------------------------------------------------------------------ */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Random rows: probabilities add up to about 256/256, larger inputs never get
 * smaller outputs, the maximum gets the largest, and the result agrees with
 * the float softmax of the dequantized input within two steps. */
Test(golden_host, softmax_properties_on_random_rows)
{
    uint64_t s = 0x1234567;
    static int8_t in[300], out[300];
    static float fin[300], fout[300];
    for (int iter = 0; iter < 400; iter++) {
        size_t n = 1 + xorshift(&s) % 300;
        float scale = (float)pow(10.0, -2.5 + (double)(xorshift(&s) % 1000) / 400.0);
        int spread = 1 + (int)(xorshift(&s) % 255);
        int base = -128 + (int)(xorshift(&s) % (size_t)(256 - spread + 1));
        for (size_t i = 0; i < n; i++) {
            in[i] = (int8_t)(base + (int)(xorshift(&s) % (size_t)spread));
            fin[i] = scale * in[i];
        }
        softmax_row(scale, n, in, out);
        cr_assert_eq(mxu_golden_softmax_f32(1, n, 1.0f, fin, fout), MXU_OK);
        long sum = 0;
        for (size_t i = 0; i < n; i++) {
            sum += out[i] + 128;
            cr_assert(fabs((out[i] + 128) / 256.0 - fout[i]) <= 2.0 / 256.0,
                      "n=%zu scale %g: %d vs %g", n, (double)scale, out[i], (double)fout[i]);
            for (size_t j = 0; j < n; j++)
                if (in[i] > in[j])
                    cr_assert_geq(out[i], out[j], "monotone: in %d > %d but out %d < %d", in[i],
                                  in[j], out[i], out[j]);
        }
        /* each output rounds to the nearest step (one more for a saturated 127) */
        cr_assert(labs(sum - 256) <= (long)n / 2 + 1, "n=%zu: sum %ld", n, sum);
    }
}

/* Rows with hundreds of values near the maximum: where TFLite's kernel would
 * stop on its final-shift check, the 64-bit shift still gives 256/n. */
Test(golden_host, softmax_long_rows_of_equal_values)
{
    static int8_t in[5000], out[5000];
    memset(in, 3, sizeof in);
    softmax_row(0.05f, 1024, in, out); /* 1/4 step each: rounds to 0 */
    for (int i = 0; i < 1024; i++)
        cr_assert_eq(out[i], -128);
    softmax_row(0.05f, 600, in, out); /* 0.427 steps: 0 */
    cr_assert_eq(out[599], -128);
    softmax_row(0.05f, 5000, in, out); /* the sum of exponentials saturates */
    cr_assert_eq(out[4999], -128);
    memset(in, -128, sizeof in);
    in[7] = 127; /* one clear winner among 5000; the rest beyond diff_min */
    softmax_row(0.5f, 5000, in, out);
    cr_assert_eq(out[7], 127);
    cr_assert_eq(out[0], -128);
}

/* ---- concat and upsample ---------------------------------------------------------------------------- */

Test(golden_host, concat_interleaves_rows)
{
    const int8_t a[6] = {1, 2, 3, 4, 5, 6};   /* 2 rows of 3 */
    const int8_t b[4] = {-1, -2, -3, -4};     /* 2 rows of 2 */
    const int8_t want[10] = {1, 2, 3, -1, -2, 4, 5, 6, -3, -4};
    int8_t out[10];
    cr_assert_eq(mxu_golden_concat(2, 3, 2, a, b, out), MXU_OK);
    cr_assert_arr_eq(out, want, 10);
    cr_assert_eq(mxu_golden_concat(2, 0, 2, a, b, out), MXU_OK);
    cr_assert_arr_eq(out, b, 4);
    cr_assert_eq(mxu_golden_concat(2, 0, 0, a, b, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_concat(2, 3, 2, NULL, b, out), MXU_ERR_INVAL);
}

Test(golden_host, upsample_repeats_pixels)
{
    /* 1x2x2x2 -> 1x4x4x2 */
    const int8_t in[8] = {1, -1, 2, -2, 3, -3, 4, -4};
    int8_t out[32];
    cr_assert_eq(mxu_golden_upsample(1, 2, 2, 2, 2, in, out), MXU_OK);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            int src = (y / 2) * 2 + x / 2;
            cr_assert_eq(out[(y * 4 + x) * 2], in[src * 2], "(%d,%d)", y, x);
            cr_assert_eq(out[(y * 4 + x) * 2 + 1], in[src * 2 + 1], "(%d,%d)", y, x);
        }
    int8_t same[8];
    cr_assert_eq(mxu_golden_upsample(1, 2, 2, 2, 1, in, same), MXU_OK);
    cr_assert_arr_eq(same, in, 8);
    /* factor 3 on a batch of two 1x1x1 images */
    const int8_t two[2] = {7, 9};
    int8_t nine[18];
    cr_assert_eq(mxu_golden_upsample(2, 1, 1, 1, 3, two, nine), MXU_OK);
    for (int i = 0; i < 18; i++)
        cr_assert_eq(nine[i], i < 9 ? 7 : 9);
    cr_assert_eq(mxu_golden_upsample(1, 2, 2, 2, 0, in, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_upsample(0, 2, 2, 2, 2, in, out), MXU_ERR_INVAL);
}
