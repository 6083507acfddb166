/* Float32 twins of the golden kernels (see golden.h): the same loops in float, for
 * measuring how far the int8 path is from the real-valued layer. They walk the
 * same windows (golden_shape.c) as the int8 kernels. Sums are accumulated in
 * double so the reference itself adds little rounding error. */
#include "golden.h"

#include <math.h>

static float clamp_f(double v, float lo, float hi)
{
    if (v < lo)
        v = lo;
    if (v > hi)
        v = hi;
    return (float)v;
}

static int check_float_clamp(const char *op, float act_min, float act_max)
{
    if (!(act_min <= act_max))
        return mxu_fail(MXU_ERR_INVAL, "%s: act_min %g > act_max %g (or NaN)", op, act_min, act_max);
    return MXU_OK;
}

/* acc + w[0] * x[0] + w[1] * x[1] + ..., added in this order. */
static double dot_f32(double acc, const float *w, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        acc += (double)w[i] * x[i];
    return acc;
}

/* Output channel oc: its bias plus the sum over the window's in-image taps. */
static double conv_sum_f32(const struct mxu_conv_params *p, const struct mxu_golden_window *w,
                           const float *input, const float *filter, double bias, int64_t oc)
{
    const int64_t cin_g = p->cin / p->groups;
    const float *in_group = input + mxu_golden_group_channel(p, oc);
    double acc = bias;
    for (int64_t ky = w->ky0; ky < w->ky1; ky++)
        for (int64_t kx = w->kx0; kx < w->kx1; kx++)
            acc = dot_f32(acc, filter + mxu_golden_filter_tap(p, oc, ky, kx),
                          in_group + mxu_golden_tap(w, ky, kx), cin_g);
    return acc;
}

int mxu_golden_conv2d_f32(const struct mxu_conv_params *p, const float *input, const float *filter,
                          const float *bias, float act_min, float act_max, float *output)
{
    int rc = mxu_golden_check_conv(p);
    if (rc)
        return rc;
    if (!input || !filter || !output)
        return mxu_fail(MXU_ERR_INVAL, "conv2d_f32: missing input, filter or output");
    rc = check_float_clamp("conv2d_f32", act_min, act_max);
    if (rc)
        return rc;

    const int64_t pixels = (int64_t)p->n * p->out_h * p->out_w;
    for (int64_t px = 0; px < pixels; px++) {
        struct mxu_golden_window w;
        mxu_golden_conv_window(p, px, &w);
        for (int64_t oc = 0; oc < p->cout; oc++) {
            const double acc = conv_sum_f32(p, &w, input, filter, bias ? bias[oc] : 0.0, oc);
            output[px * p->cout + oc] = clamp_f(acc, act_min, act_max);
        }
    }
    return MXU_OK;
}

int mxu_golden_fc_f32(const struct mxu_fc_params *p, const float *input, const float *weights,
                      const float *bias, float act_min, float act_max, float *output)
{
    int rc = mxu_golden_check_fc(p);
    if (rc)
        return rc;
    if (!input || !weights || !output)
        return mxu_fail(MXU_ERR_INVAL, "fc_f32: missing input, weights or output");
    rc = check_float_clamp("fc_f32", act_min, act_max);
    if (rc)
        return rc;

    for (int64_t b = 0; b < p->batch; b++) {
        for (int64_t oc = 0; oc < p->cout; oc++) {
            const double acc =
                dot_f32(bias ? bias[oc] : 0.0, weights + oc * p->cin, input + b * p->cin, p->cin);
            output[b * p->cout + oc] = clamp_f(acc, act_min, act_max);
        }
    }
    return MXU_OK;
}

/* Max (is_avg == 0, -inf if no tap) or mean of channel c over the window's
 * in-image taps. */
static double window_reduce_f32(int is_avg, const struct mxu_golden_window *w, const float *input,
                                int64_t c)
{
    double acc = is_avg ? 0.0 : -HUGE_VAL;
    int64_t count = 0;
    for (int64_t fy = w->ky0; fy < w->ky1; fy++) {
        for (int64_t fx = w->kx0; fx < w->kx1; fx++) {
            const double v = input[mxu_golden_tap(w, fy, fx) + c];
            if (is_avg)
                acc += v;
            else if (v > acc)
                acc = v;
            count++;
        }
    }
    if (is_avg)
        acc /= (double)count; /* count >= 1: checked by the caller */
    return acc;
}

/* Shared loop of the float pools: max (is_avg == 0) or mean of each window. */
static int pool_f32(const char *op, int is_avg, const struct mxu_pool_params *p, const float *input,
                    float act_min, float act_max, float *output)
{
    int rc = mxu_golden_check_pool(p, is_avg);
    if (rc)
        return rc;
    if (!input || !output)
        return mxu_fail(MXU_ERR_INVAL, "%s: missing input or output", op);
    rc = check_float_clamp(op, act_min, act_max);
    if (rc)
        return rc;

    const int64_t pixels = (int64_t)p->n * p->out_h * p->out_w;
    for (int64_t px = 0; px < pixels; px++) {
        struct mxu_golden_window w;
        mxu_golden_pool_window(p, px, &w);
        for (int64_t c = 0; c < p->c; c++)
            output[px * p->c + c] = clamp_f(window_reduce_f32(is_avg, &w, input, c), act_min, act_max);
    }
    return MXU_OK;
}

int mxu_golden_maxpool_f32(const struct mxu_pool_params *p, const float *input, float act_min,
                           float act_max, float *output)
{
    return pool_f32("maxpool_f32", 0, p, input, act_min, act_max, output);
}

int mxu_golden_avgpool_f32(const struct mxu_pool_params *p, const float *input, float act_min,
                           float act_max, float *output)
{
    return pool_f32("avgpool_f32", 1, p, input, act_min, act_max, output);
}

int mxu_golden_add_f32(size_t count, const float *in1, const float *in2, float act_min,
                       float act_max, float *output)
{
    if (count && (!in1 || !in2 || !output))
        return mxu_fail(MXU_ERR_INVAL, "add_f32: missing input or output");
    int rc = check_float_clamp("add_f32", act_min, act_max);
    if (rc)
        return rc;
    for (size_t i = 0; i < count; i++)
        output[i] = clamp_f((double)in1[i] + in2[i], act_min, act_max);
    return MXU_OK;
}
