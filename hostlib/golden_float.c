/* Float32 twins of the golden kernels (see golden.h): the same loops in float, for
 * measuring how far the int8 path is from the real-valued layer. Sums are
 * accumulated in double so the reference itself adds little rounding error. */
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

    const int64_t cin_g = p->cin / p->groups;
    const int64_t cout_g = p->cout / p->groups;
    for (int64_t b = 0; b < p->n; b++) {
        for (int64_t oy = 0; oy < p->out_h; oy++) {
            for (int64_t ox = 0; ox < p->out_w; ox++) {
                const int64_t in_y0 = oy * p->stride_h - p->pad_top;
                const int64_t in_x0 = ox * p->stride_w - p->pad_left;
                for (int64_t oc = 0; oc < p->cout; oc++) {
                    const int64_t group = oc / cout_g;
                    double acc = bias ? bias[oc] : 0.0;
                    for (int64_t ky = 0; ky < p->kh; ky++) {
                        const int64_t in_y = in_y0 + ky * p->dil_h;
                        for (int64_t kx = 0; kx < p->kw; kx++) {
                            const int64_t in_x = in_x0 + kx * p->dil_w;
                            if (in_y < 0 || in_y >= p->in_h || in_x < 0 || in_x >= p->in_w)
                                continue;
                            const float *in_px =
                                input + ((b * p->in_h + in_y) * p->in_w + in_x) * p->cin + group * cin_g;
                            const float *w = filter + ((oc * p->kh + ky) * p->kw + kx) * cin_g;
                            for (int64_t ic = 0; ic < cin_g; ic++)
                                acc += (double)w[ic] * in_px[ic];
                        }
                    }
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->cout + oc] =
                        clamp_f(acc, act_min, act_max);
                }
            }
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
            double acc = bias ? bias[oc] : 0.0;
            for (int64_t i = 0; i < p->cin; i++)
                acc += (double)weights[oc * p->cin + i] * input[b * p->cin + i];
            output[b * p->cout + oc] = clamp_f(acc, act_min, act_max);
        }
    }
    return MXU_OK;
}

/* Shared loop of the float pools: max (is_avg == 0) or mean of the in-image taps. */
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

    for (int64_t b = 0; b < p->n; b++) {
        for (int64_t oy = 0; oy < p->out_h; oy++) {
            for (int64_t ox = 0; ox < p->out_w; ox++) {
                const int64_t in_y0 = oy * p->stride_h - p->pad_top;
                const int64_t in_x0 = ox * p->stride_w - p->pad_left;
                for (int64_t c = 0; c < p->c; c++) {
                    double acc = is_avg ? 0.0 : -HUGE_VAL;
                    int64_t count = 0;
                    for (int64_t fy = 0; fy < p->filter_h; fy++) {
                        const int64_t in_y = in_y0 + fy;
                        for (int64_t fx = 0; fx < p->filter_w; fx++) {
                            const int64_t in_x = in_x0 + fx;
                            if (in_y < 0 || in_y >= p->in_h || in_x < 0 || in_x >= p->in_w)
                                continue;
                            const double v = input[((b * p->in_h + in_y) * p->in_w + in_x) * p->c + c];
                            if (is_avg)
                                acc += v;
                            else if (v > acc)
                                acc = v;
                            count++;
                        }
                    }
                    if (is_avg)
                        acc /= (double)count; /* count >= 1: checked above */
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->c + c] = clamp_f(acc, act_min, act_max);
                }
            }
        }
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
