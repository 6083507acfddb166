/* Golden kernels: hand-computed examples for each kernel, properties that tie
 * them together (1x1 conv == FC, groups == separate convs, padding == explicit
 * zero-point padding, bias folding), agreement with the float twins, and shape
 * errors. Randomized checks use fixed seeds. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "mxu_numerics.h"

#define Q_HALF (INT32_C(1) << 30)
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int32_t rand_range(uint64_t *rng, int32_t lo, int32_t hi)
{
    return lo + (int32_t)(splitmix64(rng) % (uint64_t)(hi - lo + 1));
}

static void fill_i8(uint64_t *rng, int8_t *v, size_t n, int lo, int hi)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (int8_t)rand_range(rng, lo, hi);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    cr_assert_not_null(p);
    return p;
}

static struct mxu_conv_params conv_defaults(void)
{
    return (struct mxu_conv_params){
        .n = 1, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1,
        .act_min = -128, .act_max = 127,
    };
}

/* ---- conv2d: hand-computed ------------------------------------------------- */

Test(golden, conv2d_basic_example)
{
    /* input 3x3 = 1..9 with zp_in 1 (so 0..8), filter 2x2 [1 2; 3 4], bias 10,
     * scale 0.5, zp_out -5: window sums 27, 37, 57, 67 (+10) */
    const int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int8_t w[4] = {1, 2, 3, 4};
    const int32_t bias[1] = {10}, mult[1] = {Q_HALF}, shift[1] = {0};
    struct mxu_conv_params p = conv_defaults();
    p.in_h = p.in_w = 3, p.cin = 1, p.cout = 1, p.kh = p.kw = 2, p.out_h = p.out_w = 2;
    p.zp_in = 1, p.zp_out = -5;
    int8_t out[4];
    cr_assert_eq(mxu_golden_conv2d(&p, in, w, bias, mult, shift, out), MXU_OK);
    const int8_t want[4] = {14, 19, 29, 34}; /* 18.5 -> 19, 23.5 -> 24, 33.5 -> 34, 38.5 -> 39 */
    cr_assert_arr_eq(out, want, sizeof want);
}

Test(golden, conv2d_padding_per_channel_clamp_example)
{
    /* 2x2x2 input, zp_in -1, 3x3 kernel, pad 1, two output channels with
     * multipliers 1.0 and 0.125, zp_out 3, clamp [-10, 100] */
    const int8_t in[8] = {3, -2, 5, 0, -4, 7, 1, 2};
    const int8_t w[36] = {1, 0, -1, 2, 1, 0, -1, -1, 3, 0, 1, 1, 2, -2, 1, 1, 0, -1,
                          -3, 1, 2, 0, 1, 1, 0, 0, 4, -1, 2, 2, 1, 1, 1, -2, 0, 5};
    const int32_t bias[2] = {7, -20}, mult[2] = {Q_HALF, Q_HALF}, shift[2] = {1, -2};
    struct mxu_conv_params p = conv_defaults();
    p.in_h = p.in_w = 2, p.cin = 2, p.cout = 2, p.kh = p.kw = 3, p.out_h = p.out_w = 2;
    p.pad_top = p.pad_left = 1, p.zp_in = -1, p.zp_out = 3, p.act_min = -10, p.act_max = 100;
    int8_t out[8];
    cr_assert_eq(mxu_golden_conv2d(&p, in, w, bias, mult, shift, out), MXU_OK);
    const int8_t want[8] = {31, 4, 8, 4, 6, 1, 11, 1};
    cr_assert_arr_eq(out, want, sizeof want);
}

Test(golden, conv2d_depthwise_example)
{
    /* groups = cin = 2, cout = 4 (depth multiplier 2), zp_in 2, multiplier
     * ~0.7071 with shifts -1, -1, 0, -3, zp_out -1 */
    const int8_t in[18] = {1, -1, 2, 0, 3, 5, -2, 4, 0, 0, 6, -3, 7, 1, -5, 2, 4, 4};
    const int8_t w[16] = {1, 2, 3, 4, -1, 0, 1, 2, 2, 2, -2, 1, 0, -3, 1, 1};
    const int32_t bias[4] = {0, 5, -5, 100};
    const int32_t mult[4] = {1518500250, 1518500250, 1518500250, 1518500250};
    const int32_t shift[4] = {-1, -1, 0, -3};
    struct mxu_conv_params p = conv_defaults();
    p.in_h = p.in_w = 3, p.cin = 2, p.cout = 4, p.kh = p.kw = 2, p.out_h = p.out_w = 2;
    p.groups = 2, p.zp_in = 2, p.zp_out = -1;
    int8_t out[16];
    cr_assert_eq(mxu_golden_conv2d(&p, in, w, bias, mult, shift, out), MXU_OK);
    const int8_t want[16] = {-9, -2, -16, 8, 3, 3, -4, 6, -9, -1, -3, 8, -4, 1, -13, 9};
    cr_assert_arr_eq(out, want, sizeof want);
}

Test(golden, conv2d_stride_dilation_example)
{
    /* 5x5 input 0..24, 2x2 kernel [1 -1; 2 1] dilated by 2, stride 2, no bias,
     * multiplier 1.0: taps (y,x),(y,x+2),(y+2,x),(y+2,x+2) */
    int8_t in[25];
    for (int i = 0; i < 25; i++)
        in[i] = (int8_t)i;
    const int8_t w[4] = {1, -1, 2, 1};
    const int32_t mult[1] = {Q_HALF}, shift[1] = {1};
    struct mxu_conv_params p = conv_defaults();
    p.in_h = p.in_w = 5, p.cin = 1, p.cout = 1, p.kh = p.kw = 2, p.out_h = p.out_w = 2;
    p.stride_h = p.stride_w = 2, p.dil_h = p.dil_w = 2;
    int8_t out[4];
    cr_assert_eq(mxu_golden_conv2d(&p, in, w, NULL, mult, shift, out), MXU_OK);
    const int8_t want[4] = {30, 36, 60, 66}; /* 0 - 2 + 20 + 12 = 30, ... */
    cr_assert_arr_eq(out, want, sizeof want);
}

Test(golden, conv_output_size_helpers)
{
    int32_t out, pb, pe;
    cr_assert_eq(mxu_conv_out_size(227, 11, 4, 1, 0, 0, &out), MXU_OK);
    cr_assert_eq(out, 55);
    cr_assert_eq(mxu_conv_out_size(27, 5, 1, 1, 2, 2, &out), MXU_OK);
    cr_assert_eq(out, 27);
    cr_assert_eq(mxu_conv_out_size(13, 3, 2, 1, 0, 0, &out), MXU_OK);
    cr_assert_eq(out, 6);
    cr_assert_eq(mxu_conv_out_size(5, 3, 1, 2, 0, 0, &out), MXU_OK); /* effective kernel 5 */
    cr_assert_eq(out, 1);
    cr_assert_eq(mxu_conv_out_size(4, 3, 1, 2, 0, 0, &out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_conv_out_size(4, 3, 0, 1, 0, 0, &out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_conv_out_size(4, 3, 1, 1, -1, 0, &out), MXU_ERR_INVAL);

    cr_assert_eq(mxu_same_padding(5, 3, 2, 1, &out, &pb, &pe), MXU_OK);
    cr_assert(out == 3 && pb == 1 && pe == 1);
    cr_assert_eq(mxu_same_padding(6, 3, 2, 1, &out, &pb, &pe), MXU_OK);
    cr_assert(out == 3 && pb == 0 && pe == 1, "odd padding goes to the end: %d %d %d", out, pb, pe);
    cr_assert_eq(mxu_same_padding(4, 1, 2, 1, &out, &pb, &pe), MXU_OK);
    cr_assert(out == 2 && pb == 0 && pe == 0);
    cr_assert_eq(mxu_same_padding(5, 3, 1, 2, &out, &pb, &pe), MXU_OK);
    cr_assert(out == 5 && pb == 2 && pe == 2);
    cr_assert_eq(mxu_same_padding(224, 7, 2, 1, &out, &pb, &pe), MXU_OK);
    cr_assert(out == 112 && pb == 2 && pe == 3);
    cr_assert_eq(mxu_same_padding(0, 3, 1, 1, &out, &pb, &pe), MXU_ERR_INVAL);
}

/* ---- conv2d: properties ------------------------------------------------------ */

/* A random conv layer with its tensors (freed by free_layer). */
struct layer {
    struct mxu_conv_params p;
    int8_t *in, *w, *out;
    int32_t *bias, *mult, *shift;
};

static size_t in_elems(const struct mxu_conv_params *p)
{
    return (size_t)p->n * p->in_h * p->in_w * p->cin;
}
static size_t out_elems(const struct mxu_conv_params *p)
{
    return (size_t)p->n * p->out_h * p->out_w * p->cout;
}
static size_t w_elems(const struct mxu_conv_params *p)
{
    return (size_t)p->cout * p->kh * p->kw * (p->cin / p->groups);
}

static void alloc_layer(struct layer *l, uint64_t *rng)
{
    l->in = xcalloc(in_elems(&l->p), 1);
    l->w = xcalloc(w_elems(&l->p), 1);
    l->out = xcalloc(out_elems(&l->p), 1);
    l->bias = xcalloc((size_t)l->p.cout, sizeof(int32_t));
    l->mult = xcalloc((size_t)l->p.cout, sizeof(int32_t));
    l->shift = xcalloc((size_t)l->p.cout, sizeof(int32_t));
    fill_i8(rng, l->in, in_elems(&l->p), -128, 127);
    fill_i8(rng, l->w, w_elems(&l->p), -127, 127);
    for (int32_t c = 0; c < l->p.cout; c++) {
        l->bias[c] = rand_range(rng, -5000, 5000);
        l->mult[c] = rand_range(rng, Q_HALF, INT32_MAX);
        l->shift[c] = rand_range(rng, -12, -6);
    }
}

static void free_layer(struct layer *l)
{
    free(l->in), free(l->w), free(l->out), free(l->bias), free(l->mult), free(l->shift);
}

static void random_conv(struct layer *l, uint64_t *rng)
{
    struct mxu_conv_params *p = &l->p;
    *p = conv_defaults();
    p->n = rand_range(rng, 1, 2);
    p->groups = rand_range(rng, 1, 3);
    p->cin = p->groups * rand_range(rng, 1, 4);
    p->cout = p->groups * rand_range(rng, 1, 4);
    p->in_h = rand_range(rng, 1, 7), p->in_w = rand_range(rng, 1, 7);
    p->kh = rand_range(rng, 1, 3), p->kw = rand_range(rng, 1, 3);
    p->stride_h = rand_range(rng, 1, 2), p->stride_w = rand_range(rng, 1, 2);
    p->dil_h = rand_range(rng, 1, 2), p->dil_w = rand_range(rng, 1, 2);
    p->pad_top = rand_range(rng, 0, 2), p->pad_left = rand_range(rng, 0, 2);
    int32_t pad_bottom = rand_range(rng, 0, 2), pad_right = rand_range(rng, 0, 2);
    /* grow the input until the dilated kernel fits the padded input */
    while (mxu_conv_out_size(p->in_h, p->kh, p->stride_h, p->dil_h, p->pad_top, pad_bottom, &p->out_h))
        p->in_h++;
    while (mxu_conv_out_size(p->in_w, p->kw, p->stride_w, p->dil_w, p->pad_left, pad_right, &p->out_w))
        p->in_w++;
    p->zp_in = rand_range(rng, -128, 127), p->zp_out = rand_range(rng, -128, 127);
    if (splitmix64(rng) % 2)
        p->act_min = rand_range(rng, -128, 0), p->act_max = rand_range(rng, 0, 127);
    alloc_layer(l, rng);
}

Test(golden, conv1x1_equals_fc)
{
    uint64_t rng = 1;
    for (int iter = 0; iter < 50; iter++) {
        struct layer l;
        random_conv(&l, &rng);
        free_layer(&l);
        l.p.kh = l.p.kw = 1, l.p.groups = 1, l.p.stride_h = l.p.stride_w = 1;
        l.p.pad_top = l.p.pad_left = 0, l.p.out_h = l.p.in_h, l.p.out_w = l.p.in_w;
        alloc_layer(&l, &rng);
        cr_assert_eq(mxu_golden_conv2d(&l.p, l.in, l.w, l.bias, l.mult, l.shift, l.out), MXU_OK);
        struct mxu_fc_params f = {
            .batch = l.p.n * l.p.in_h * l.p.in_w, .cin = l.p.cin, .cout = l.p.cout,
            .zp_in = l.p.zp_in, .zp_out = l.p.zp_out, .act_min = l.p.act_min, .act_max = l.p.act_max,
        };
        int8_t *fc_out = xcalloc(out_elems(&l.p), 1);
        cr_assert_eq(mxu_golden_fc(&f, l.in, l.w, l.bias, l.mult, l.shift, fc_out), MXU_OK);
        cr_assert_arr_eq(l.out, fc_out, out_elems(&l.p), "iteration %d", iter);
        free(fc_out);
        free_layer(&l);
    }
}

Test(golden, grouped_conv_equals_separate_convs)
{
    uint64_t rng = 2;
    for (int iter = 0; iter < 50; iter++) {
        struct layer l;
        random_conv(&l, &rng);
        const struct mxu_conv_params *p = &l.p;
        cr_assert_eq(mxu_golden_conv2d(p, l.in, l.w, l.bias, l.mult, l.shift, l.out), MXU_OK);
        const int32_t cin_g = p->cin / p->groups, cout_g = p->cout / p->groups;
        const size_t pixels_in = (size_t)p->n * p->in_h * p->in_w;
        const size_t pixels_out = (size_t)p->n * p->out_h * p->out_w;
        const size_t w_per_oc = (size_t)p->kh * p->kw * cin_g;
        for (int32_t g = 0; g < p->groups; g++) {
            struct mxu_conv_params q = *p;
            q.groups = 1, q.cin = cin_g, q.cout = cout_g;
            int8_t *in = xcalloc(pixels_in * cin_g, 1), *out = xcalloc(pixels_out * cout_g, 1);
            for (size_t px = 0; px < pixels_in; px++)
                memcpy(in + px * cin_g, l.in + px * p->cin + (size_t)g * cin_g, (size_t)cin_g);
            const size_t oc0 = (size_t)g * cout_g;
            cr_assert_eq(mxu_golden_conv2d(&q, in, l.w + oc0 * w_per_oc, l.bias + oc0, l.mult + oc0,
                                           l.shift + oc0, out), MXU_OK);
            for (size_t px = 0; px < pixels_out; px++)
                cr_assert_arr_eq(out + px * cout_g, l.out + px * p->cout + oc0, (size_t)cout_g,
                                 "iteration %d group %d pixel %zu", iter, g, px);
            free(in), free(out);
        }
        free_layer(&l);
    }
}

/* The layer's input with its padding written out as zp_in. */
static int8_t *explicit_padding(const struct layer *l, int32_t *ph, int32_t *pw)
{
    const struct mxu_conv_params *p = &l->p;
    /* enough rows/columns after the image for every tap of the output */
    *ph = p->pad_top + p->in_h + (p->out_h - 1) * p->stride_h + (p->kh - 1) * p->dil_h + 1;
    *pw = p->pad_left + p->in_w + (p->out_w - 1) * p->stride_w + (p->kw - 1) * p->dil_w + 1;
    int8_t *padded = xcalloc((size_t)p->n * *ph * *pw * p->cin, 1);
    memset(padded, (int8_t)p->zp_in, (size_t)p->n * *ph * *pw * p->cin);
    for (int32_t b = 0; b < p->n; b++)
        for (int32_t y = 0; y < p->in_h; y++)
            memcpy(padded + (((size_t)b * *ph + y + p->pad_top) * *pw + p->pad_left) * p->cin,
                   l->in + (((size_t)b * p->in_h + y) * p->in_w) * p->cin, (size_t)p->in_w * p->cin);
    return padded;
}

Test(golden, padding_equals_explicit_zero_point_padding)
{
    uint64_t rng = 3;
    for (int iter = 0; iter < 100; iter++) {
        struct layer l;
        random_conv(&l, &rng);
        cr_assert_eq(mxu_golden_conv2d(&l.p, l.in, l.w, l.bias, l.mult, l.shift, l.out), MXU_OK);
        struct mxu_conv_params q = l.p;
        int8_t *padded = explicit_padding(&l, &q.in_h, &q.in_w);
        q.pad_top = q.pad_left = 0;
        int8_t *out = xcalloc(out_elems(&q), 1);
        cr_assert_eq(mxu_golden_conv2d(&q, padded, l.w, l.bias, l.mult, l.shift, out), MXU_OK);
        cr_assert_arr_eq(out, l.out, out_elems(&q), "iteration %d", iter);
        free(padded), free(out);
        free_layer(&l);
    }
}

Test(golden, folded_bias_equals_zero_point_subtraction)
{
    /* the hardware's form: raw int8 products, bias' = bias - zp_in * sum(w),
     * over an input padded with zp_in */
    uint64_t rng = 4;
    for (int iter = 0; iter < 100; iter++) {
        struct layer l;
        random_conv(&l, &rng);
        cr_assert_eq(mxu_golden_conv2d(&l.p, l.in, l.w, l.bias, l.mult, l.shift, l.out), MXU_OK);
        struct mxu_conv_params q = l.p;
        int8_t *padded = explicit_padding(&l, &q.in_h, &q.in_w);
        q.pad_top = q.pad_left = 0, q.zp_in = 0;
        int32_t *folded = xcalloc((size_t)q.cout, sizeof(int32_t));
        const size_t w_per_oc = w_elems(&q) / (size_t)q.cout;
        for (int32_t oc = 0; oc < q.cout; oc++) {
            int32_t sum = 0;
            for (size_t i = 0; i < w_per_oc; i++)
                sum += l.w[oc * w_per_oc + i];
            folded[oc] = l.bias[oc] - l.p.zp_in * sum;
        }
        int8_t *out = xcalloc(out_elems(&q), 1);
        cr_assert_eq(mxu_golden_conv2d(&q, padded, l.w, folded, l.mult, l.shift, out), MXU_OK);
        cr_assert_arr_eq(out, l.out, out_elems(&q), "iteration %d", iter);
        free(padded), free(out), free(folded);
        free_layer(&l);
    }
}

Test(golden, conv_matches_float_twin_within_one_step)
{
    uint64_t rng = 5;
    for (int iter = 0; iter < 50; iter++) {
        struct layer l;
        random_conv(&l, &rng);
        struct mxu_conv_params *p = &l.p;
        p->act_min = -128, p->act_max = 127;
        const float s_in = 0.05f, s_out = 0.2f + 0.01f * (float)(iter % 7);
        float *s_w = xcalloc((size_t)p->cout, sizeof(float));
        for (int32_t oc = 0; oc < p->cout; oc++) {
            s_w[oc] = 0.001f * (float)rand_range(&rng, 1, 20);
            cr_assert_eq(mxu_quantize_multiplier((double)s_in * s_w[oc] / s_out, &l.mult[oc], &l.shift[oc]),
                         MXU_OK);
        }
        cr_assert_eq(mxu_golden_conv2d(p, l.in, l.w, l.bias, l.mult, l.shift, l.out), MXU_OK);

        float *fin = xcalloc(in_elems(p), sizeof(float)), *fw = xcalloc(w_elems(p), sizeof(float));
        float *fb = xcalloc((size_t)p->cout, sizeof(float)), *fout = xcalloc(out_elems(p), sizeof(float));
        for (size_t i = 0; i < in_elems(p); i++)
            fin[i] = mxu_dequantize(l.in[i], s_in, p->zp_in);
        const size_t w_per_oc = w_elems(p) / (size_t)p->cout;
        for (size_t i = 0; i < w_elems(p); i++)
            fw[i] = s_w[i / w_per_oc] * l.w[i];
        for (int32_t oc = 0; oc < p->cout; oc++)
            fb[oc] = (float)((double)s_in * s_w[oc] * l.bias[oc]);
        cr_assert_eq(mxu_golden_conv2d_f32(p, fin, fw, fb, -INFINITY, INFINITY, fout), MXU_OK);
        for (size_t i = 0; i < out_elems(p); i++) {
            double want = fout[i] / s_out + p->zp_out;
            want = want < -128 ? -128 : want > 127 ? 127 : want;
            cr_assert(fabs(l.out[i] - want) <= 1.0, "iteration %d element %zu: int8 %d, float %f", iter, i,
                      l.out[i], want);
        }
        free(s_w), free(fin), free(fw), free(fb), free(fout);
        free_layer(&l);
    }
}

Test(golden, conv_wraps_accumulator_like_hardware)
{
    /* 2^18 taps of 127 * 127 = 4228120576 overflow int32 and wrap to -66846720;
     * times 2^-20 that is -63.75 -> -64 (unwrapped it would saturate to 127) */
    struct mxu_conv_params p = conv_defaults();
    p.in_h = p.in_w = 1, p.cin = 1 << 18, p.cout = 1, p.kh = p.kw = 1, p.out_h = p.out_w = 1;
    int8_t *in = xcalloc((size_t)p.cin, 1), *w = xcalloc((size_t)p.cin, 1);
    memset(in, 127, (size_t)p.cin), memset(w, 127, (size_t)p.cin);
    const int32_t mult[1] = {Q_HALF}, shift[1] = {-19};
    int8_t out;
    cr_assert_eq(mxu_golden_conv2d(&p, in, w, NULL, mult, shift, &out), MXU_OK);
    cr_assert_eq(out, -64);
    struct mxu_fc_params f = {.batch = 1, .cin = p.cin, .cout = 1, .act_min = -128, .act_max = 127};
    int8_t fc_out;
    cr_assert_eq(mxu_golden_fc(&f, in, w, NULL, mult, shift, &fc_out), MXU_OK);
    cr_assert_eq(fc_out, out);
    free(in), free(w);
}

/* ---- fully connected --------------------------------------------------------- */

Test(golden, fc_example)
{
    /* batch 2, cin 3, cout 2, zp_in 1, per-channel multipliers 0.5 and 0.25,
     * bias {1, -2}, zp_out 10, clamp [0, 20] */
    const int8_t in[6] = {1, 3, -1, 5, 0, 2};   /* minus zp: {0, 2, -2}, {4, -1, 1} */
    const int8_t w[6] = {1, 2, 3, -4, 5, 6};
    const int32_t bias[2] = {1, -2}, mult[2] = {Q_HALF, Q_HALF}, shift[2] = {0, -1};
    struct mxu_fc_params f = {.batch = 2, .cin = 3, .cout = 2, .zp_in = 1, .zp_out = 10,
                              .act_min = 0, .act_max = 20};
    int8_t out[4];
    cr_assert_eq(mxu_golden_fc(&f, in, w, bias, mult, shift, out), MXU_OK);
    /* b0: oc0 0+4-6+1 = -1 -> -0.5 -> 0 -> 10; oc1 0+10-12-2 = -4 -> -1 -> 9
     * b1: oc0 4-2+3+1 = 6 -> 3 -> 13;       oc1 -16-5+6-2 = -17 -> -4.25 -> -4 -> 6 */
    const int8_t want[4] = {10, 9, 13, 6};
    cr_assert_arr_eq(out, want, sizeof want);
    f.act_max = 12;
    cr_assert_eq(mxu_golden_fc(&f, in, w, bias, mult, shift, out), MXU_OK);
    cr_assert_eq(out[2], 12, "clamped");
}

Test(golden, fc_matches_float_twin)
{
    const float in[4] = {1, -2, 0.5f, 3}, w[8] = {1, 1, 1, 1, 0.5f, -1, 2, 0}, b[2] = {0.25f, -1};
    struct mxu_fc_params f = {.batch = 1, .cin = 4, .cout = 2};
    float out[2];
    cr_assert_eq(mxu_golden_fc_f32(&f, in, w, b, -INFINITY, INFINITY, out), MXU_OK);
    cr_assert_float_eq(out[0], 2.75f, 1e-6);
    cr_assert_float_eq(out[1], 2.5f, 1e-6);
    cr_assert_eq(mxu_golden_fc_f32(&f, in, w, b, 0.0f, 2.6f, out), MXU_OK);
    cr_assert_float_eq(out[0], 2.6f, 1e-6);
    cr_assert_float_eq(out[1], 2.5f, 1e-6);
}

/* ---- pooling ------------------------------------------------------------------ */

static struct mxu_pool_params pool_3x3_pad1(void)
{
    return (struct mxu_pool_params){.n = 1, .in_h = 3, .in_w = 3, .c = 1, .out_h = 3, .out_w = 3,
                                    .filter_h = 3, .filter_w = 3, .stride_h = 1, .stride_w = 1,
                                    .pad_top = 1, .pad_left = 1, .act_min = -128, .act_max = 127};
}

Test(golden, avgpool_counts_only_in_image_taps)
{
    const int8_t in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    struct mxu_pool_params p = pool_3x3_pad1();
    int8_t out[9];
    cr_assert_eq(mxu_golden_avgpool(&p, in, out), MXU_OK);
    /* corners: 4 taps, edges: 6 taps (3.5 -> 4, 4.5 -> 5, 5.5 -> 6, 6.5 -> 7), center: 9 */
    const int8_t want[9] = {3, 4, 4, 5, 5, 6, 6, 7, 7};
    cr_assert_arr_eq(out, want, sizeof want);
    int8_t neg[9];
    for (int i = 0; i < 9; i++)
        neg[i] = (int8_t)-in[i];
    cr_assert_eq(mxu_golden_avgpool(&p, neg, out), MXU_OK);
    const int8_t want_neg[9] = {-3, -4, -4, -5, -5, -6, -6, -7, -7};
    cr_assert_arr_eq(out, want_neg, sizeof want_neg);
}

Test(golden, avgpool_rounds_halves_away_from_zero)
{
    struct mxu_pool_params p = {.n = 1, .in_h = 2, .in_w = 2, .c = 4, .out_h = 1, .out_w = 1,
                                .filter_h = 2, .filter_w = 2, .stride_h = 1, .stride_w = 1,
                                .act_min = -128, .act_max = 127};
    /* channels: {1,2,3,4} = 2.5, {-1,-2,-3,-4} = -2.5, {-1,-2,-2,-1} = -1.5, {1,2,3,5} = 2.75 */
    const int8_t in[16] = {1, -1, -1, 1, 2, -2, -2, 2, 3, -3, -2, 3, 4, -4, -1, 5};
    int8_t out[4];
    cr_assert_eq(mxu_golden_avgpool(&p, in, out), MXU_OK);
    const int8_t want[4] = {3, -3, -2, 3};
    cr_assert_arr_eq(out, want, sizeof want);
    const int8_t extremes[16] = {127, -128, 0, 0, 127, -128, 0, 0, 127, -128, 0, 0, 127, -128, 0, 0};
    p.act_min = -100, p.act_max = 100;
    cr_assert_eq(mxu_golden_avgpool(&p, extremes, out), MXU_OK);
    const int8_t want_clamped[4] = {100, -100, 0, 0};
    cr_assert_arr_eq(out, want_clamped, sizeof want_clamped);
}

Test(golden, maxpool_examples)
{
    int8_t in[16];
    for (int i = 0; i < 16; i++)
        in[i] = (int8_t)((i * 37) % 41 - 20); /* -20 17 13 9 5 1 -3 -7 -11 -15 -19 18 14 10 6 2 */
    struct mxu_pool_params p = {.n = 1, .in_h = 4, .in_w = 4, .c = 1, .out_h = 2, .out_w = 2,
                                .filter_h = 2, .filter_w = 2, .stride_h = 2, .stride_w = 2,
                                .act_min = -128, .act_max = 127};
    int8_t out[9];
    cr_assert_eq(mxu_golden_maxpool(&p, in, out), MXU_OK);
    const int8_t want[4] = {17, 13, 14, 18};
    cr_assert_arr_eq(out, want, sizeof want);
    p.act_max = 15;
    cr_assert_eq(mxu_golden_maxpool(&p, in, out), MXU_OK);
    const int8_t want_clamped[4] = {15, 13, 14, 15};
    cr_assert_arr_eq(out, want_clamped, sizeof want_clamped);

    /* 3x3 stride 2 with padding 1 (out-of-image taps ignored, never zp or 0) */
    const int8_t negs[9] = {-9, -8, -7, -6, -5, -4, -3, -2, -1};
    struct mxu_pool_params q = pool_3x3_pad1();
    q.stride_h = q.stride_w = 2, q.out_h = q.out_w = 2;
    cr_assert_eq(mxu_golden_maxpool(&q, negs, out), MXU_OK);
    const int8_t want_neg[4] = {-5, -4, -2, -1};
    cr_assert_arr_eq(out, want_neg, sizeof want_neg);
    /* a window wholly in the padding reads nothing: -128, then the clamp */
    q.stride_h = q.stride_w = 1, q.out_h = q.out_w = 5, q.act_min = -100;
    int8_t wide[25];
    cr_assert_eq(mxu_golden_maxpool(&q, negs, wide), MXU_OK);
    cr_assert_eq(wide[24], -100);
    cr_assert_eq(wide[0], -5);
}

Test(golden, pool_float_twins)
{
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    struct mxu_pool_params p = pool_3x3_pad1();
    float out[9];
    cr_assert_eq(mxu_golden_avgpool_f32(&p, in, -INFINITY, INFINITY, out), MXU_OK);
    const float want_avg[9] = {3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7};
    for (int i = 0; i < 9; i++)
        cr_assert_float_eq(out[i], want_avg[i], 1e-6, "avg %d", i);
    cr_assert_eq(mxu_golden_maxpool_f32(&p, in, -INFINITY, 8.5f, out), MXU_OK);
    const float want_max[9] = {5, 6, 6, 8, 8.5f, 8.5f, 8, 8.5f, 8.5f};
    for (int i = 0; i < 9; i++)
        cr_assert_float_eq(out[i], want_max[i], 1e-6, "max %d", i);
}

Test(golden, pool_int8_agrees_with_float_on_random_inputs)
{
    uint64_t rng = 6;
    for (int iter = 0; iter < 50; iter++) {
        struct mxu_pool_params p = {.n = rand_range(&rng, 1, 2), .c = rand_range(&rng, 1, 5),
                                    .in_h = rand_range(&rng, 3, 9), .in_w = rand_range(&rng, 3, 9),
                                    .filter_h = rand_range(&rng, 1, 3), .filter_w = rand_range(&rng, 1, 3),
                                    .stride_h = rand_range(&rng, 1, 3), .stride_w = rand_range(&rng, 1, 3),
                                    .act_min = -128, .act_max = 127};
        p.pad_top = rand_range(&rng, 0, p.filter_h - 1), p.pad_left = rand_range(&rng, 0, p.filter_w - 1);
        cr_assert_eq(mxu_conv_out_size(p.in_h, p.filter_h, p.stride_h, 1, p.pad_top, p.pad_top, &p.out_h), MXU_OK);
        cr_assert_eq(mxu_conv_out_size(p.in_w, p.filter_w, p.stride_w, 1, p.pad_left, p.pad_left, &p.out_w), MXU_OK);
        size_t ni = (size_t)p.n * p.in_h * p.in_w * p.c, no = (size_t)p.n * p.out_h * p.out_w * p.c;
        int8_t *in = xcalloc(ni, 1), *out = xcalloc(no, 1);
        float *fin = xcalloc(ni, sizeof(float)), *fout = xcalloc(no, sizeof(float));
        fill_i8(&rng, in, ni, -128, 127);
        for (size_t i = 0; i < ni; i++)
            fin[i] = in[i];
        cr_assert_eq(mxu_golden_avgpool(&p, in, out), MXU_OK);
        cr_assert_eq(mxu_golden_avgpool_f32(&p, fin, -INFINITY, INFINITY, fout), MXU_OK);
        for (size_t i = 0; i < no; i++) /* round half away from zero of the float mean */
            cr_assert_eq(out[i], (int8_t)(fout[i] < 0 ? -floor(-fout[i] + 0.5) : floor(fout[i] + 0.5)),
                         "avg iteration %d element %zu: %d vs %f", iter, i, out[i], fout[i]);
        cr_assert_eq(mxu_golden_maxpool(&p, in, out), MXU_OK);
        cr_assert_eq(mxu_golden_maxpool_f32(&p, fin, -INFINITY, INFINITY, fout), MXU_OK);
        for (size_t i = 0; i < no; i++)
            cr_assert_eq(out[i], (int8_t)fout[i], "max iteration %d element %zu", iter, i);
        free(in), free(out), free(fin), free(fout);
    }
}

/* ---- elementwise add ----------------------------------------------------------- */

Test(golden, add_params_from_scales)
{
    struct mxu_add_params p;
    cr_assert_eq(mxu_add_params_from_scales(0.0784f, -3, 0.05f, 10, 0.1176f, -7, -128, 127, &p), MXU_OK);
    cr_assert_eq(p.left_shift, 20);
    cr_assert_eq(p.in1_offset, 3);
    cr_assert_eq(p.in2_offset, -10);
    cr_assert_eq(p.out_offset, -7);
    cr_assert(p.in1_mult == Q_HALF && p.in1_shift == 0);          /* 0.5 */
    cr_assert(p.in2_mult == 1369568657 && p.in2_shift == -1);     /* 0.05 / 0.1568 */
    cr_assert(p.out_mult == 1431655765 && p.out_shift == -19);    /* 0.1568 / (2^20 * 0.1176) */
    cr_assert(p.act_min == -128 && p.act_max == 127);

    int32_t v[MXU_ADD_PARAMS_COUNT];
    mxu_add_params_pack(&p, v);
    const int32_t want[MXU_ADD_PARAMS_COUNT] = {20, 3, Q_HALF, 0, -10, 1369568657, -1, -7, 1431655765, -19};
    cr_assert_arr_eq(v, want, sizeof want);
    struct mxu_add_params back;
    mxu_add_params_unpack(v, -5, 50, &back);
    p.act_min = -5, p.act_max = 50;
    cr_assert_arr_eq(&back, &p, sizeof p);
}

Test(golden, add_params_rejects_what_tflite_rejects)
{
    struct mxu_add_params p;
    cr_assert_eq(mxu_add_params_from_scales(0, 0, 1, 0, 1, 0, -128, 127, &p), MXU_ERR_INVAL);
    cr_assert_eq(mxu_add_params_from_scales(1, 0, -1, 0, 1, 0, -128, 127, &p), MXU_ERR_INVAL);
    cr_assert_eq(mxu_add_params_from_scales(1, 0, 1, 0, NAN, 0, -128, 127, &p), MXU_ERR_INVAL);
    cr_assert_eq(mxu_add_params_from_scales(INFINITY, 0, 1, 0, 1, 0, -128, 127, &p), MXU_ERR_INVAL);
    cr_assert_eq(mxu_add_params_from_scales(1, 0, 1, 0, 1, 0, 10, -10, &p), MXU_ERR_INVAL);
    /* output multiplier 2 / (2^20 * 2^-25) = 64 >= 1 */
    cr_assert_eq(mxu_add_params_from_scales(1, 0, 1, 0, 0x1p-25f, 0, -128, 127, &p), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "output") != NULL, "detail: %s", mxu_error_detail());
}

Test(golden, add_examples)
{
    struct mxu_add_params p;
    /* scales 0.5 + 0.25 -> 1.0, zero points 0: exact halves round away from zero */
    cr_assert_eq(mxu_add_params_from_scales(0.5f, 0, 0.25f, 0, 1.0f, 0, -128, 127, &p), MXU_OK);
    const int8_t a[8] = {10, 1, -1, 3, 127, -128, 1, -1}, b[8] = {8, 0, 0, -2, 127, -128, 2, -2};
    int8_t out[8];
    cr_assert_eq(mxu_golden_add(&p, 8, a, b, out), MXU_OK);
    const int8_t want[8] = {7, 1, -1, 1, 95, -96, 1, -1}; /* 5+2, 0.5, -0.5, 1.5-0.5, ... */
    cr_assert_arr_eq(out, want, sizeof want);

    cr_assert_eq(mxu_add_params_from_scales(0.0784f, -3, 0.05f, 10, 0.1176f, -7, -128, 127, &p), MXU_OK);
    const int8_t a2[10] = {-128, -100, -3, 0, 5, 50, 127, 127, -128, 13};
    const int8_t b2[10] = {-128, 90, 10, -7, 5, -60, 127, -128, 127, 77};
    int8_t out2[10];
    cr_assert_eq(mxu_golden_add(&p, 10, a2, b2, out2), MXU_OK);
    const int8_t want2[10] = {-128, -38, -7, -12, -4, -1, 127, 21, -41, 32};
    cr_assert_arr_eq(out2, want2, sizeof want2);
    p.act_min = -7; /* fused ReLU: real 0 is the output zero point -7 */
    cr_assert_eq(mxu_golden_add(&p, 10, a2, b2, out2), MXU_OK);
    const int8_t want_relu[10] = {-7, -7, -7, -7, -4, -1, 127, 21, -7, 32};
    cr_assert_arr_eq(out2, want_relu, sizeof want_relu);
}

Test(golden, add_matches_float_within_one_step)
{
    uint64_t rng = 8;
    const float s1 = 0.031f, s2 = 0.047f, so = 0.09f;
    const int32_t z1 = 5, z2 = -17, zo = 3;
    struct mxu_add_params p;
    cr_assert_eq(mxu_add_params_from_scales(s1, z1, s2, z2, so, zo, -128, 127, &p), MXU_OK);
    int8_t a[512], b[512], out[512];
    float fa[512], fb[512], fout[512];
    fill_i8(&rng, a, 512, -128, 127), fill_i8(&rng, b, 512, -128, 127);
    for (int i = 0; i < 512; i++)
        fa[i] = mxu_dequantize(a[i], s1, z1), fb[i] = mxu_dequantize(b[i], s2, z2);
    cr_assert_eq(mxu_golden_add(&p, 512, a, b, out), MXU_OK);
    cr_assert_eq(mxu_golden_add_f32(512, fa, fb, -INFINITY, INFINITY, fout), MXU_OK);
    for (int i = 0; i < 512; i++) {
        double want = fout[i] / so + zo;
        want = want < -128 ? -128 : want > 127 ? 127 : want;
        cr_assert(fabs(out[i] - want) <= 1.0, "element %d: %d vs %f", i, out[i], want);
    }
}

/* ---- LUT ------------------------------------------------------------------------ */

Test(golden, lut_over_tensor)
{
    int8_t lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = (int8_t)(i - 128 > 0 ? i - 128 : 0); /* ReLU as a table */
    int8_t t[6] = {-128, -1, 0, 1, 77, 127};
    const int8_t want[6] = {0, 0, 0, 1, 77, 127};
    cr_assert_eq(mxu_golden_lut(lut, 6, t, t), MXU_OK, "in place");
    cr_assert_arr_eq(t, want, sizeof want);
    mxu_lut_build(lut, mxu_sigmoidf, 1.0f / 16, 0, 1.0f / 256, -128);
    const int8_t in[3] = {-128, 0, 16};
    int8_t out[3];
    cr_assert_eq(mxu_golden_lut(lut, 3, in, out), MXU_OK);
    const int8_t want_sig[3] = {-128, 0, 59};
    cr_assert_arr_eq(out, want_sig, sizeof want_sig);
    cr_assert_eq(mxu_golden_lut(NULL, 3, in, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_lut(lut, 0, NULL, NULL), MXU_OK);
}

/* ---- shape errors ----------------------------------------------------------------- */

Test(golden, conv_shape_errors)
{
    int8_t buf[64] = {0};
    int32_t m[8] = {Q_HALF, Q_HALF, Q_HALF, Q_HALF, Q_HALF, Q_HALF, Q_HALF, Q_HALF}, s[8] = {0};
    struct mxu_conv_params good = conv_defaults();
    good.in_h = good.in_w = 2, good.cin = 2, good.cout = 2, good.kh = good.kw = 1;
    good.out_h = good.out_w = 2;
    int8_t out[8];
    cr_assert_eq(mxu_golden_conv2d(&good, buf, buf, NULL, m, s, out), MXU_OK);

    struct mxu_conv_params p;
#define BAD(field_assign)                                                                   \
    do {                                                                                    \
        p = good;                                                                           \
        field_assign;                                                                       \
        memset(out, 0x55, sizeof out);                                                      \
        cr_assert_eq(mxu_golden_conv2d(&p, buf, buf, NULL, m, s, out), MXU_ERR_INVAL, #field_assign); \
        cr_assert_eq(out[0], 0x55, "output untouched: " #field_assign);                    \
    } while (0)
    BAD(p.groups = 0);
    BAD(p.groups = 3);                 /* divides neither */
    BAD((p.groups = 2, p.cout = 3));   /* divides cin only */
    BAD(p.cin = 0);
    BAD(p.n = -1);
    BAD(p.out_w = 0);
    BAD(p.kh = 0);
    BAD(p.stride_w = 0);
    BAD(p.dil_h = -2);
    BAD(p.pad_top = -1);
    BAD((p.act_min = 5, p.act_max = 4));
    BAD((p.in_h = 65536, p.in_w = 65536)); /* more than 2^31 elements */
#undef BAD
    cr_assert_eq(mxu_golden_conv2d(NULL, buf, buf, NULL, m, s, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_conv2d(&good, NULL, buf, NULL, m, s, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_conv2d(&good, buf, buf, NULL, NULL, s, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_conv2d(&good, buf, buf, NULL, m, s, NULL), MXU_ERR_INVAL);
    cr_assert(strlen(mxu_error_detail()) > 0);
    float f[8];
    p = good, p.groups = 3;
    cr_assert_eq(mxu_golden_conv2d_f32(&p, f, f, NULL, -1, 1, f), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_conv2d_f32(&good, f, f, NULL, 1, -1, f), MXU_ERR_INVAL);
}

Test(golden, fc_pool_add_shape_errors)
{
    int8_t buf[16] = {0}, out[16];
    int32_t m[4] = {Q_HALF, Q_HALF, Q_HALF, Q_HALF}, s[4] = {0};
    struct mxu_fc_params f = {.batch = 1, .cin = 2, .cout = 0, .act_min = -128, .act_max = 127};
    cr_assert_eq(mxu_golden_fc(&f, buf, buf, NULL, m, s, out), MXU_ERR_INVAL);
    f.cout = 2;
    cr_assert_eq(mxu_golden_fc(&f, buf, buf, NULL, m, s, out), MXU_OK);
    cr_assert_eq(mxu_golden_fc(&f, buf, NULL, NULL, m, s, out), MXU_ERR_INVAL);
    f.act_min = 1, f.act_max = 0;
    cr_assert_eq(mxu_golden_fc(&f, buf, buf, NULL, m, s, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_fc(NULL, buf, buf, NULL, m, s, out), MXU_ERR_INVAL);

    struct mxu_pool_params p = pool_3x3_pad1();
    p.in_h = p.in_w = 1, p.out_h = p.out_w = 3; /* windows (0,2), (2,*) miss the 1x1 input */
    cr_assert_eq(mxu_golden_avgpool(&p, buf, out), MXU_ERR_INVAL, "no taps: TFLite fails too");
    cr_assert_eq(mxu_golden_maxpool(&p, buf, out), MXU_OK, "max pool gives -128 instead");
    p = pool_3x3_pad1(), p.stride_h = 0;
    cr_assert_eq(mxu_golden_maxpool(&p, buf, out), MXU_ERR_INVAL);
    p = pool_3x3_pad1(), p.filter_w = 0;
    cr_assert_eq(mxu_golden_avgpool(&p, buf, out), MXU_ERR_INVAL);
    p = pool_3x3_pad1(), p.pad_left = -1;
    cr_assert_eq(mxu_golden_avgpool(&p, buf, out), MXU_ERR_INVAL);
    p = pool_3x3_pad1(), p.act_min = 100, p.act_max = 0;
    cr_assert_eq(mxu_golden_maxpool(&p, buf, out), MXU_ERR_INVAL);
    p = pool_3x3_pad1();
    cr_assert_eq(mxu_golden_avgpool(&p, NULL, out), MXU_ERR_INVAL);
    float fb[16];
    p.in_h = p.in_w = 1;
    cr_assert_eq(mxu_golden_avgpool_f32(&p, fb, -1, 1, fb), MXU_ERR_INVAL);

    struct mxu_add_params a;
    cr_assert_eq(mxu_add_params_from_scales(1, 0, 1, 0, 1, 0, -128, 127, &a), MXU_OK);
    cr_assert_eq(mxu_golden_add(&a, 4, buf, buf, out), MXU_OK);
    cr_assert_eq(mxu_golden_add(&a, 4, buf, NULL, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_add(NULL, 4, buf, buf, out), MXU_ERR_INVAL);
    a.left_shift = 31;
    cr_assert_eq(mxu_golden_add(&a, 4, buf, buf, out), MXU_ERR_INVAL);
    a.left_shift = 20, a.act_min = 1, a.act_max = 0;
    cr_assert_eq(mxu_golden_add(&a, 4, buf, buf, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_add_f32(4, NULL, NULL, -1, 1, NULL), MXU_ERR_INVAL);
}

Test(golden, hostile_add_record_does_not_trap)
{
    /* a layer record with extreme values computes something, never UB */
    const int32_t v[MXU_ADD_PARAMS_COUNT] = {30, INT32_MAX, INT32_MIN, 99, INT32_MIN, -1, -99, INT32_MAX,
                                             INT32_MIN, INT32_MIN};
    struct mxu_add_params p;
    mxu_add_params_unpack(v, -128, 127, &p);
    const int8_t a[4] = {-128, -1, 0, 127}, b[4] = {127, 0, -1, -128};
    int8_t out[4];
    cr_assert_eq(mxu_golden_add(&p, 4, a, b, out), MXU_OK);
}
