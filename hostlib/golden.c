/* Golden int8 kernels; see golden.h. The loops follow tflite-micro's reference
 * integer kernels; sums wrap modulo 2^32 (uint32) like the hardware's int32
 * accumulators, and coordinates are computed in int64 so no shape overflows. */
#include "golden.h"

#include <math.h>

#include "mxu_numerics.h"

/* Largest element count of one tensor the kernels accept. */
#define MAX_ELEMS ((int64_t)INT32_MAX)

static int8_t clamp_int8(int32_t v, int32_t lo, int32_t hi)
{
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    if (v < -128)
        v = -128;
    if (v > 127)
        v = 127;
    return (int8_t)v;
}

/* a*b*c*d within MAX_ELEMS (all >= 1). */
static int elems_ok(int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t n = a;
    n = n * b;
    if (n > MAX_ELEMS)
        return 0;
    n = n * c;
    if (n > MAX_ELEMS)
        return 0;
    n = n * d;
    return n <= MAX_ELEMS;
}

int mxu_golden_check_conv(const struct mxu_conv_params *p)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: no parameters");
    if (p->n < 1 || p->in_h < 1 || p->in_w < 1 || p->cin < 1 || p->cout < 1 || p->kh < 1 ||
        p->kw < 1 || p->out_h < 1 || p->out_w < 1)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: sizes must be >= 1 (n %d, in %dx%dx%d, cout %d, kernel %dx%d, out %dx%d)",
                        p->n, p->in_h, p->in_w, p->cin, p->cout, p->kh, p->kw, p->out_h, p->out_w);
    if (p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: stride %dx%d and dilation %dx%d must be >= 1",
                        p->stride_h, p->stride_w, p->dil_h, p->dil_w);
    if (p->pad_top < 0 || p->pad_left < 0)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: negative padding (top %d, left %d)", p->pad_top, p->pad_left);
    if (p->groups < 1 || p->cin % p->groups || p->cout % p->groups)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: groups %d must divide cin %d and cout %d", p->groups,
                        p->cin, p->cout);
    if (!elems_ok(p->n, p->in_h, p->in_w, p->cin) || !elems_ok(p->n, p->out_h, p->out_w, p->cout) ||
        !elems_ok(p->cout, p->kh, p->kw, p->cin / p->groups))
        return mxu_fail(MXU_ERR_INVAL, "conv2d: a tensor has more than %lld elements", (long long)MAX_ELEMS);
    if (p->rounding != MXU_ROUND_AWAY && p->rounding != MXU_ROUND_HALF_UP)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: rounding %d is not an mxu_rounding", (int)p->rounding);
    return MXU_OK;
}

int mxu_golden_check_fc(const struct mxu_fc_params *p)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "fc: no parameters");
    if (p->batch < 1 || p->cin < 1 || p->cout < 1)
        return mxu_fail(MXU_ERR_INVAL, "fc: sizes must be >= 1 (batch %d, cin %d, cout %d)", p->batch,
                        p->cin, p->cout);
    if (!elems_ok(p->batch, p->cin, 1, 1) || !elems_ok(p->batch, p->cout, 1, 1) ||
        !elems_ok(p->cout, p->cin, 1, 1))
        return mxu_fail(MXU_ERR_INVAL, "fc: a tensor has more than %lld elements", (long long)MAX_ELEMS);
    if (p->rounding != MXU_ROUND_AWAY && p->rounding != MXU_ROUND_HALF_UP)
        return mxu_fail(MXU_ERR_INVAL, "fc: rounding %d is not an mxu_rounding", (int)p->rounding);
    return MXU_OK;
}

/* The window of output index o along one axis has an in-image tap. */
static int window_has_taps(int64_t o, int32_t stride, int32_t pad, int32_t filter, int32_t in)
{
    int64_t origin = o * stride - pad;
    return origin < in && origin + filter > 0;
}

int mxu_golden_check_pool(const struct mxu_pool_params *p, int need_taps)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "pool: no parameters");
    if (p->n < 1 || p->in_h < 1 || p->in_w < 1 || p->c < 1 || p->out_h < 1 || p->out_w < 1 ||
        p->filter_h < 1 || p->filter_w < 1)
        return mxu_fail(MXU_ERR_INVAL, "pool: sizes must be >= 1 (n %d, in %dx%dx%d, out %dx%d, filter %dx%d)",
                        p->n, p->in_h, p->in_w, p->c, p->out_h, p->out_w, p->filter_h, p->filter_w);
    if (p->stride_h < 1 || p->stride_w < 1)
        return mxu_fail(MXU_ERR_INVAL, "pool: stride %dx%d must be >= 1", p->stride_h, p->stride_w);
    if (p->pad_top < 0 || p->pad_left < 0)
        return mxu_fail(MXU_ERR_INVAL, "pool: negative padding (top %d, left %d)", p->pad_top, p->pad_left);
    if (!elems_ok(p->n, p->in_h, p->in_w, p->c) || !elems_ok(p->n, p->out_h, p->out_w, p->c))
        return mxu_fail(MXU_ERR_INVAL, "pool: a tensor has more than %lld elements", (long long)MAX_ELEMS);
    if (need_taps) {
        /* windows move monotonically, so the first and last ones decide */
        if (!window_has_taps(0, p->stride_h, p->pad_top, p->filter_h, p->in_h) ||
            !window_has_taps(p->out_h - 1, p->stride_h, p->pad_top, p->filter_h, p->in_h) ||
            !window_has_taps(0, p->stride_w, p->pad_left, p->filter_w, p->in_w) ||
            !window_has_taps(p->out_w - 1, p->stride_w, p->pad_left, p->filter_w, p->in_w))
            return mxu_fail(MXU_ERR_INVAL, "pool: a %dx%d window lies entirely outside the %dx%d input",
                            p->filter_h, p->filter_w, p->in_h, p->in_w);
    }
    return MXU_OK;
}

static int check_clamp(const char *op, int32_t act_min, int32_t act_max)
{
    if (act_min > act_max)
        return mxu_fail(MXU_ERR_INVAL, "%s: act_min %d > act_max %d", op, act_min, act_max);
    return MXU_OK;
}

/* ---- conv2d --------------------------------------------------------------- */

int mxu_golden_conv2d(const struct mxu_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                      int8_t *output)
{
    int rc = mxu_golden_check_conv(p);
    if (rc)
        return rc;
    if (!input || !filter || !multiplier || !shift || !output)
        return mxu_fail(MXU_ERR_INVAL, "conv2d: missing input, filter, multiplier, shift or output");
    rc = check_clamp("conv2d", p->act_min, p->act_max);
    if (rc)
        return rc;

    const int64_t cin_g = p->cin / p->groups;
    const int64_t cout_g = p->cout / p->groups;
    for (int64_t b = 0; b < p->n; b++) {
        for (int64_t oy = 0; oy < p->out_h; oy++) {
            for (int64_t ox = 0; ox < p->out_w; ox++) {
                const int64_t in_y0 = oy * p->stride_h - p->pad_top;
                const int64_t in_x0 = ox * p->stride_w - p->pad_left;
                for (int64_t oc = 0; oc < p->cout; oc++) {
                    const int64_t group = oc / cout_g;
                    uint32_t acc = 0;
                    for (int64_t ky = 0; ky < p->kh; ky++) {
                        const int64_t in_y = in_y0 + ky * p->dil_h;
                        for (int64_t kx = 0; kx < p->kw; kx++) {
                            const int64_t in_x = in_x0 + kx * p->dil_w;
                            if (in_y < 0 || in_y >= p->in_h || in_x < 0 || in_x >= p->in_w)
                                continue; /* TFLite skips taps outside the image */
                            const int8_t *in_px =
                                input + ((b * p->in_h + in_y) * p->in_w + in_x) * p->cin + group * cin_g;
                            const int8_t *w = filter + ((oc * p->kh + ky) * p->kw + kx) * cin_g;
                            for (int64_t ic = 0; ic < cin_g; ic++)
                                acc += (uint32_t)(w[ic] * ((int64_t)in_px[ic] - p->zp_in));
                        }
                    }
                    if (bias)
                        acc += (uint32_t)bias[oc];
                    int32_t y = mxu_requantize_rounding((int32_t)acc, multiplier[oc], shift[oc], p->rounding);
                    y = (int32_t)((uint32_t)y + (uint32_t)p->zp_out);
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->cout + oc] =
                        clamp_int8(y, p->act_min, p->act_max);
                }
            }
        }
    }
    return MXU_OK;
}

int mxu_conv_out_size(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t pad_begin,
                      int32_t pad_end, int32_t *out)
{
    if (!out)
        return mxu_fail(MXU_ERR_INVAL, "conv_out_size: no output");
    *out = 0;
    if (in < 1 || k < 1 || stride < 1 || dilation < 1 || pad_begin < 0 || pad_end < 0)
        return mxu_fail(MXU_ERR_INVAL, "conv_out_size: bad size %d, kernel %d, stride %d, dilation %d or padding %d+%d",
                        in, k, stride, dilation, pad_begin, pad_end);
    const int64_t effective = (int64_t)(k - 1) * dilation + 1;
    const int64_t span = (int64_t)in + pad_begin + pad_end - effective;
    if (span < 0)
        return mxu_fail(MXU_ERR_INVAL, "conv_out_size: kernel span %lld exceeds the padded input %lld",
                        (long long)effective, (long long)in + pad_begin + pad_end);
    *out = (int32_t)(span / stride + 1);
    return MXU_OK;
}

int mxu_same_padding(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t *out,
                     int32_t *pad_begin, int32_t *pad_end)
{
    if (!out || !pad_begin || !pad_end)
        return mxu_fail(MXU_ERR_INVAL, "same_padding: no output");
    *out = *pad_begin = *pad_end = 0;
    if (in < 1 || k < 1 || stride < 1 || dilation < 1)
        return mxu_fail(MXU_ERR_INVAL, "same_padding: bad size %d, kernel %d, stride %d or dilation %d", in,
                        k, stride, dilation);
    const int64_t effective = (int64_t)(k - 1) * dilation + 1;
    const int64_t o = ((int64_t)in + stride - 1) / stride;
    int64_t total = (o - 1) * stride + effective - in;
    if (total < 0)
        total = 0;
    if (total > INT32_MAX)
        return mxu_fail(MXU_ERR_INVAL, "same_padding: padding %lld too large", (long long)total);
    *out = (int32_t)o;
    *pad_begin = (int32_t)(total / 2);
    *pad_end = (int32_t)(total - total / 2);
    return MXU_OK;
}

/* ---- fully connected ------------------------------------------------------ */

int mxu_golden_fc(const struct mxu_fc_params *p, const int8_t *input, const int8_t *weights,
                  const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                  int8_t *output)
{
    int rc = mxu_golden_check_fc(p);
    if (rc)
        return rc;
    if (!input || !weights || !multiplier || !shift || !output)
        return mxu_fail(MXU_ERR_INVAL, "fc: missing input, weights, multiplier, shift or output");
    rc = check_clamp("fc", p->act_min, p->act_max);
    if (rc)
        return rc;

    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t oc = 0; oc < p->cout; oc++) {
            uint32_t acc = 0;
            for (int64_t i = 0; i < p->cin; i++)
                acc += (uint32_t)(weights[oc * p->cin + i] * ((int64_t)input[b * p->cin + i] - p->zp_in));
            if (bias)
                acc += (uint32_t)bias[oc];
            int32_t y = mxu_requantize_rounding((int32_t)acc, multiplier[oc], shift[oc], p->rounding);
            y = (int32_t)((uint32_t)y + (uint32_t)p->zp_out);
            output[b * p->cout + oc] = clamp_int8(y, p->act_min, p->act_max);
        }
    }
    return MXU_OK;
}

/* ---- pooling -------------------------------------------------------------- */

/* In-image tap range [*start, *end) of a window starting at origin. */
static void window_range(int64_t origin, int32_t filter, int32_t in, int64_t *start, int64_t *end)
{
    *start = origin < 0 ? -origin : 0;
    *end = (int64_t)in - origin < filter ? (int64_t)in - origin : filter;
}

int mxu_golden_maxpool(const struct mxu_pool_params *p, const int8_t *input, int8_t *output)
{
    int rc = mxu_golden_check_pool(p, 0);
    if (rc)
        return rc;
    if (!input || !output)
        return mxu_fail(MXU_ERR_INVAL, "maxpool: missing input or output");
    rc = check_clamp("maxpool", p->act_min, p->act_max);
    if (rc)
        return rc;

    for (int64_t b = 0; b < p->n; b++) {
        for (int64_t oy = 0; oy < p->out_h; oy++) {
            for (int64_t ox = 0; ox < p->out_w; ox++) {
                const int64_t in_y0 = oy * p->stride_h - p->pad_top;
                const int64_t in_x0 = ox * p->stride_w - p->pad_left;
                int64_t fy0, fy1, fx0, fx1;
                window_range(in_y0, p->filter_h, p->in_h, &fy0, &fy1);
                window_range(in_x0, p->filter_w, p->in_w, &fx0, &fx1);
                for (int64_t c = 0; c < p->c; c++) {
                    int32_t max = -128;
                    for (int64_t fy = fy0; fy < fy1; fy++) {
                        for (int64_t fx = fx0; fx < fx1; fx++) {
                            const int32_t v =
                                input[((b * p->in_h + in_y0 + fy) * p->in_w + in_x0 + fx) * p->c + c];
                            if (v > max)
                                max = v;
                        }
                    }
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->c + c] =
                        clamp_int8(max, p->act_min, p->act_max);
                }
            }
        }
    }
    return MXU_OK;
}

int mxu_golden_avgpool(const struct mxu_pool_params *p, const int8_t *input, int8_t *output)
{
    int rc = mxu_golden_check_pool(p, 1);
    if (rc)
        return rc;
    if (!input || !output)
        return mxu_fail(MXU_ERR_INVAL, "avgpool: missing input or output");
    rc = check_clamp("avgpool", p->act_min, p->act_max);
    if (rc)
        return rc;

    for (int64_t b = 0; b < p->n; b++) {
        for (int64_t oy = 0; oy < p->out_h; oy++) {
            for (int64_t ox = 0; ox < p->out_w; ox++) {
                const int64_t in_y0 = oy * p->stride_h - p->pad_top;
                const int64_t in_x0 = ox * p->stride_w - p->pad_left;
                int64_t fy0, fy1, fx0, fx1;
                window_range(in_y0, p->filter_h, p->in_h, &fy0, &fy1);
                window_range(in_x0, p->filter_w, p->in_w, &fx0, &fx1);
                for (int64_t c = 0; c < p->c; c++) {
                    int64_t acc = 0, count = 0;
                    for (int64_t fy = fy0; fy < fy1; fy++) {
                        for (int64_t fx = fx0; fx < fx1; fx++) {
                            acc += input[((b * p->in_h + in_y0 + fy) * p->in_w + in_x0 + fx) * p->c + c];
                            count++;
                        }
                    }
                    /* round half away from zero; C division truncates */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->c + c] =
                        clamp_int8((int32_t)acc, p->act_min, p->act_max);
                }
            }
        }
    }
    return MXU_OK;
}

/* ---- elementwise add ------------------------------------------------------ */

/* TFLite's QuantizeMultiplierSmallerThanOneExp: m in (0, 1), shift <= 0. */
static int quantize_smaller_than_one(const char *what, double m, int32_t *qm, int32_t *shift)
{
    if (!(m > 0 && m < 1))
        return mxu_fail(MXU_ERR_INVAL, "add: %s multiplier %g is not in (0, 1)", what, m);
    int rc = mxu_quantize_multiplier(m, qm, shift);
    if (rc)
        return rc;
    if (*shift > 0)
        return mxu_fail(MXU_ERR_INVAL, "add: %s multiplier %.17g rounds up to 1", what, m);
    return MXU_OK;
}

int mxu_add_params_from_scales(float in1_scale, int32_t in1_zp, float in2_scale, int32_t in2_zp,
                               float out_scale, int32_t out_zp, int32_t act_min, int32_t act_max,
                               struct mxu_add_params *p)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "add: no parameters");
    *p = (struct mxu_add_params){0};
    if (!(in1_scale > 0 && in2_scale > 0 && out_scale > 0) || isinf(in1_scale) ||
        isinf(in2_scale) || isinf(out_scale))
        return mxu_fail(MXU_ERR_INVAL, "add: scales %g, %g, %g must be positive and finite",
                        in1_scale, in2_scale, out_scale);
    int rc = check_clamp("add", act_min, act_max);
    if (rc)
        return rc;

    struct mxu_add_params q = {0};
    q.left_shift = MXU_ADD_LEFT_SHIFT;
    q.in1_offset = (int32_t)(0u - (uint32_t)in1_zp);
    q.in2_offset = (int32_t)(0u - (uint32_t)in2_zp);
    q.out_offset = out_zp;
    q.act_min = act_min;
    q.act_max = act_max;
    /* as TFLite's Prepare: float scales, products and quotients in double */
    const double twice_max_input_scale = 2.0 * (double)(in1_scale > in2_scale ? in1_scale : in2_scale);
    const double real_in1 = (double)in1_scale / twice_max_input_scale;
    const double real_in2 = (double)in2_scale / twice_max_input_scale;
    const double real_out = twice_max_input_scale / ((double)(1 << q.left_shift) * (double)out_scale);
    rc = quantize_smaller_than_one("input 1", real_in1, &q.in1_mult, &q.in1_shift);
    if (!rc)
        rc = quantize_smaller_than_one("input 2", real_in2, &q.in2_mult, &q.in2_shift);
    if (!rc)
        rc = quantize_smaller_than_one("output", real_out, &q.out_mult, &q.out_shift);
    if (rc)
        return rc;
    *p = q;
    return MXU_OK;
}

void mxu_add_params_pack(const struct mxu_add_params *p, int32_t v[MXU_ADD_PARAMS_COUNT])
{
    v[0] = p->left_shift;
    v[1] = p->in1_offset;
    v[2] = p->in1_mult;
    v[3] = p->in1_shift;
    v[4] = p->in2_offset;
    v[5] = p->in2_mult;
    v[6] = p->in2_shift;
    v[7] = p->out_offset;
    v[8] = p->out_mult;
    v[9] = p->out_shift;
}

void mxu_add_params_unpack(const int32_t v[MXU_ADD_PARAMS_COUNT], int32_t act_min, int32_t act_max,
                           struct mxu_add_params *p)
{
    p->left_shift = v[0];
    p->in1_offset = v[1];
    p->in1_mult = v[2];
    p->in1_shift = v[3];
    p->in2_offset = v[4];
    p->in2_mult = v[5];
    p->in2_shift = v[6];
    p->out_offset = v[7];
    p->out_mult = v[8];
    p->out_shift = v[9];
    p->act_min = act_min;
    p->act_max = act_max;
}

int mxu_golden_add(const struct mxu_add_params *p, size_t count, const int8_t *in1,
                   const int8_t *in2, int8_t *output)
{
    if (!p || (count && (!in1 || !in2 || !output)))
        return mxu_fail(MXU_ERR_INVAL, "add: missing parameters, input or output");
    if (p->left_shift < 0 || p->left_shift > 30)
        return mxu_fail(MXU_ERR_INVAL, "add: left_shift %d outside 0..30", p->left_shift);
    int rc = check_clamp("add", p->act_min, p->act_max);
    if (rc)
        return rc;

    for (size_t i = 0; i < count; i++) {
        /* offsets of a hostile record could overflow: wrap, never trap */
        const uint32_t a = (uint32_t)p->in1_offset + (uint32_t)(int32_t)in1[i];
        const uint32_t b = (uint32_t)p->in2_offset + (uint32_t)(int32_t)in2[i];
        const int32_t shifted1 = (int32_t)(a << p->left_shift);
        const int32_t shifted2 = (int32_t)(b << p->left_shift);
        const int32_t scaled1 = mxu_requantize(shifted1, p->in1_mult, p->in1_shift);
        const int32_t scaled2 = mxu_requantize(shifted2, p->in2_mult, p->in2_shift);
        const int32_t sum = (int32_t)((uint32_t)scaled1 + (uint32_t)scaled2);
        const int32_t raw = mxu_requantize(sum, p->out_mult, p->out_shift);
        output[i] = clamp_int8((int32_t)((uint32_t)raw + (uint32_t)p->out_offset), p->act_min, p->act_max);
    }
    return MXU_OK;
}

/* ---- lookup table --------------------------------------------------------- */

int mxu_golden_lut(const int8_t lut[256], size_t count, const int8_t *input, int8_t *output)
{
    if (!lut || (count && (!input || !output)))
        return mxu_fail(MXU_ERR_INVAL, "lut: missing table, input or output");
    for (size_t i = 0; i < count; i++)
        output[i] = lut[input[i] + 128];
    return MXU_OK;
}
