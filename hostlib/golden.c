/* Golden int8 kernels; see golden.h. The loops follow tflite-micro's reference
 * integer kernels; sums wrap modulo 2^32 (uint32) like the hardware's int32
 * accumulators. Shapes, checks and windows live in golden_shape.c. */
#include "golden.h"

#include <math.h>

#include "mxu_numerics.h"

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

static int check_clamp(const char *op, int32_t act_min, int32_t act_max)
{
    if (act_min > act_max)
        return mxu_fail(MXU_ERR_INVAL, "%s: act_min %d > act_max %d", op, act_min, act_max);
    return MXU_OK;
}

/* acc + the sum of w[i] * (x[i] - zp_in), modulo 2^32: the MACs of conv and FC. */
static uint32_t dot_i8(uint32_t acc, const int8_t *w, const int8_t *x, int64_t n, int32_t zp_in)
{
    for (int64_t i = 0; i < n; i++)
        acc += (uint32_t)(w[i] * ((int64_t)x[i] - zp_in));
    return acc;
}

/* The output stage conv and FC share: bias, requantization, zero point, clamp. */
struct out_stage {
    const int32_t *bias, *multiplier, *shift; /* per output channel; bias may be NULL */
    int32_t zp_out, act_min, act_max;
    enum mxu_rounding rounding;
};

static int8_t requantize_out(const struct out_stage *s, uint32_t acc, int64_t oc)
{
    if (s->bias)
        acc += (uint32_t)s->bias[oc];
    int32_t y = mxu_requantize_rounding((int32_t)acc, s->multiplier[oc], s->shift[oc], s->rounding);
    y = (int32_t)((uint32_t)y + (uint32_t)s->zp_out);
    return clamp_int8(y, s->act_min, s->act_max);
}

/* ---- conv2d --------------------------------------------------------------- */

/* Output channel oc's sum over the window's in-image taps. */
static uint32_t conv_sum(const struct mxu_conv_params *p, const struct mxu_golden_window *w,
                         const int8_t *input, const int8_t *filter, int64_t oc)
{
    const int64_t cin_g = p->cin / p->groups;
    const int8_t *in_group = input + mxu_golden_group_channel(p, oc);
    uint32_t acc = 0;
    for (int64_t ky = w->ky0; ky < w->ky1; ky++)
        for (int64_t kx = w->kx0; kx < w->kx1; kx++)
            acc = dot_i8(acc, filter + mxu_golden_filter_tap(p, oc, ky, kx),
                         in_group + mxu_golden_tap(w, ky, kx), cin_g, p->zp_in);
    return acc;
}

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

    const struct out_stage out = {bias, multiplier, shift, p->zp_out, p->act_min, p->act_max, p->rounding};
    const int64_t pixels = (int64_t)p->n * p->out_h * p->out_w;
    for (int64_t px = 0; px < pixels; px++) {
        struct mxu_golden_window w;
        mxu_golden_conv_window(p, px, &w);
        for (int64_t oc = 0; oc < p->cout; oc++)
            output[px * p->cout + oc] = requantize_out(&out, conv_sum(p, &w, input, filter, oc), oc);
    }
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

    const struct out_stage out = {bias, multiplier, shift, p->zp_out, p->act_min, p->act_max, p->rounding};
    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t oc = 0; oc < p->cout; oc++) {
            const uint32_t acc = dot_i8(0, weights + oc * p->cin, input + b * p->cin, p->cin, p->zp_in);
            output[b * p->cout + oc] = requantize_out(&out, acc, oc);
        }
    }
    return MXU_OK;
}

/* ---- pooling -------------------------------------------------------------- */

/* Max of channel c over the window's in-image taps; -128 if none, as TFLite. */
static int32_t window_max(const struct mxu_golden_window *w, const int8_t *input, int64_t c)
{
    int32_t max = -128;
    for (int64_t fy = w->ky0; fy < w->ky1; fy++) {
        for (int64_t fx = w->kx0; fx < w->kx1; fx++) {
            const int32_t v = input[mxu_golden_tap(w, fy, fx) + c];
            if (v > max)
                max = v;
        }
    }
    return max;
}

/* Mean of channel c over the window's in-image taps (at least one: checked),
 * rounded half away from zero as TFLite's average pool. */
static int32_t window_mean(const struct mxu_golden_window *w, const int8_t *input, int64_t c)
{
    int64_t acc = 0, count = 0;
    for (int64_t fy = w->ky0; fy < w->ky1; fy++) {
        for (int64_t fx = w->kx0; fx < w->kx1; fx++) {
            acc += input[mxu_golden_tap(w, fy, fx) + c];
            count++;
        }
    }
    /* C division truncates */
    return (int32_t)(acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count);
}

/* The loop both int8 pools share: max (is_avg == 0) or mean of each window. */
static int pool_i8(const char *op, int is_avg, const struct mxu_pool_params *p, const int8_t *input,
                   int8_t *output)
{
    int rc = mxu_golden_check_pool(p, is_avg);
    if (rc)
        return rc;
    if (!input || !output)
        return mxu_fail(MXU_ERR_INVAL, "%s: missing input or output", op);
    rc = check_clamp(op, p->act_min, p->act_max);
    if (rc)
        return rc;

    const int64_t pixels = (int64_t)p->n * p->out_h * p->out_w;
    for (int64_t px = 0; px < pixels; px++) {
        struct mxu_golden_window w;
        mxu_golden_pool_window(p, px, &w);
        for (int64_t c = 0; c < p->c; c++) {
            const int32_t v = is_avg ? window_mean(&w, input, c) : window_max(&w, input, c);
            output[px * p->c + c] = clamp_int8(v, p->act_min, p->act_max);
        }
    }
    return MXU_OK;
}

int mxu_golden_maxpool(const struct mxu_pool_params *p, const int8_t *input, int8_t *output)
{
    return pool_i8("maxpool", 0, p, input, output);
}

int mxu_golden_avgpool(const struct mxu_pool_params *p, const int8_t *input, int8_t *output)
{
    return pool_i8("avgpool", 1, p, input, output);
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
