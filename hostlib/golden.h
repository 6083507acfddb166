/* Golden reference kernels: int8 conv2d, fully connected, max/average pool,
 * elementwise add and LUT, written as plainly as tflite-micro's reference integer
 * kernels (reference_integer_ops/conv.h, depthwise_conv.h, fully_connected.h,
 * pooling.h, add.h) and bit-exact with them. "Matches the golden kernels" means
 * "matches TFLite". Float twins (golden_float.c) compute the same layers in float
 * for accuracy checks.
 *
 * Layout: NHWC activations, filters [cout][kh][kw][cin/groups], FC weights
 * [cout][cin], all dense row-major. Weights are symmetric (no weight zero point).
 * Requantization is per output channel (per-tensor = the same value repeated);
 * it uses mxu_requantize, which equals TFLite's MultiplyByQuantizedMultiplier on
 * TFLite's whole range (docs/numerics.md); conv and FC can instead round the
 * final shift's ties toward +infinity as LiteRT's builtin kernels (rounding). Accumulation wraps modulo 2^32, as the
 * hardware's int32 accumulators do, so results agree even when a sum overflows.
 *
 * Every kernel validates its arguments and returns MXU_OK or MXU_ERR_INVAL (with a
 * detail, output untouched); none allocates, prints or exits. A max-pool fused
 * after a conv (ACTIVATE's pool) is mxu_golden_maxpool on the conv's output. */
#ifndef MXU_GOLDEN_H
#define MXU_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_error.h"
#include "mxu_numerics.h"

/* ---- convolution ---------------------------------------------------------- */

/* Shapes and quantization of a 2-D convolution (TFLite Conv2D with groups;
 * depthwise = groups == cin, with cout = cin * depth_multiplier: output channel
 * oc reads input channel oc / depth_multiplier, as TFLite's DepthwiseConv2D
 * whose filter [1][kh][kw][cout] is our [cout][kh][kw][1]). */
struct mxu_conv_params {
    int32_t n, in_h, in_w, cin;      /* input [n][in_h][in_w][cin] */
    int32_t cout, kh, kw;            /* filter [cout][kh][kw][cin/groups] */
    int32_t out_h, out_w;            /* output [n][out_h][out_w][cout], given by the caller */
    int32_t stride_h, stride_w;      /* >= 1 */
    int32_t dil_h, dil_w;            /* >= 1 */
    int32_t pad_top, pad_left;       /* >= 0; taps outside the image are skipped */
    int32_t groups;                  /* >= 1, divides cin and cout */
    int32_t zp_in, zp_out;           /* input and output zero points */
    int32_t act_min, act_max;        /* clamp after zp_out (also clamped to int8) */
    enum mxu_rounding rounding;      /* final shift's ties; 0 = MXU_ROUND_AWAY (TFLite reference) */
};

/* out[b][oy][ox][oc] = clamp(requantize(bias[oc] + sum over in-image taps of
 *   filter[oc][ky][kx][ic] * (in[b][oy*sh - pt + ky*dh][ox*sw - pl + kx*dw][g*cin_g + ic] - zp_in),
 *   multiplier[oc], shift[oc]) + zp_out), g = oc / (cout/groups).
 * bias may be NULL (zero). */
int mxu_golden_conv2d(const struct mxu_conv_params *p, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                      int8_t *output);

/* Output size along one axis with explicit padding, as TFLite/Caffe/ONNX:
 *   out = (in + pad_begin + pad_end - ((k - 1) * dilation + 1)) / stride + 1   (floor)
 * MXU_ERR_INVAL for non-positive sizes/strides, negative pads, or out < 1. */
int mxu_conv_out_size(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t pad_begin,
                      int32_t pad_end, int32_t *out);

/* TFLite's SAME padding along one axis: out = ceil(in / stride), total padding
 * max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0), pad_begin = total / 2,
 * pad_end = total - pad_begin (the odd pixel goes to the end). */
int mxu_same_padding(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t *out,
                     int32_t *pad_begin, int32_t *pad_end);

/* ---- fully connected ------------------------------------------------------ */

struct mxu_fc_params {
    int32_t batch, cin, cout;   /* input [batch][cin], weights [cout][cin], output [batch][cout] */
    int32_t zp_in, zp_out;
    int32_t act_min, act_max;
    enum mxu_rounding rounding; /* final shift's ties; 0 = MXU_ROUND_AWAY (TFLite reference) */
};

/* out[b][oc] = clamp(requantize(bias[oc] + sum_i w[oc][i] * (in[b][i] - zp_in),
 *   multiplier[oc], shift[oc]) + zp_out). bias may be NULL. */
int mxu_golden_fc(const struct mxu_fc_params *p, const int8_t *input, const int8_t *weights,
                  const int32_t *bias, const int32_t *multiplier, const int32_t *shift,
                  int8_t *output);

/* ---- pooling -------------------------------------------------------------- */

struct mxu_pool_params {
    int32_t n, in_h, in_w, c;   /* input [n][in_h][in_w][c] */
    int32_t out_h, out_w;       /* output [n][out_h][out_w][c] */
    int32_t filter_h, filter_w; /* >= 1 */
    int32_t stride_h, stride_w; /* >= 1 */
    int32_t pad_top, pad_left;  /* >= 0; taps outside the image are ignored */
    int32_t act_min, act_max;   /* clamp of the result (also clamped to int8) */
};

/* Max over the in-image taps of each window (-128 if none, as TFLite), clamped. */
int mxu_golden_maxpool(const struct mxu_pool_params *p, const int8_t *input, int8_t *output);

/* TFLite's int8 average pool: sum of the in-image taps divided by their count,
 * rounded half away from zero, clamped. A window without in-image taps is
 * MXU_ERR_INVAL (TFLite fails such a layer too). */
int mxu_golden_avgpool(const struct mxu_pool_params *p, const int8_t *input, int8_t *output);

/* ---- elementwise add ------------------------------------------------------ */

/* TFLite's quantized add (ArithmeticParams of an int8 ADD):
 *   a = (in1 + in1_offset) << left_shift, b = (in2 + in2_offset) << left_shift
 *   s = requantize(a, in1_mult, in1_shift) + requantize(b, in2_mult, in2_shift)
 *   out = clamp(requantize(s, out_mult, out_shift) + out_offset)
 * A program's layer record stores the first MXU_ADD_PARAMS_COUNT fields, in this
 * order, as int32 (mxu_layer.add_params); the clamp lives in mxu_layer.act_min/max. */
struct mxu_add_params {
    int32_t left_shift;             /* 20 for int8 */
    int32_t in1_offset;             /* -zero point of input 1 */
    int32_t in1_mult, in1_shift;    /* input 1 scale / (2 * max input scale), shift <= 0 */
    int32_t in2_offset;             /* -zero point of input 2 */
    int32_t in2_mult, in2_shift;    /* input 2 scale / (2 * max input scale), shift <= 0 */
    int32_t out_offset;             /* output zero point */
    int32_t out_mult, out_shift;    /* 2 * max input scale / (2^left_shift * output scale) */
    int32_t act_min, act_max;       /* not packed */
};
#define MXU_ADD_PARAMS_COUNT 10
#define MXU_ADD_LEFT_SHIFT 20

/* The parameters TFLite's Prepare computes for an int8 ADD from the scales and
 * zero points, with the clamp [act_min, act_max]. MXU_ERR_INVAL for scales that
 * are not positive and finite or multipliers TFLite would reject (each must be
 * in (0, 1) after quantization). */
int mxu_add_params_from_scales(float in1_scale, int32_t in1_zp, float in2_scale, int32_t in2_zp,
                               float out_scale, int32_t out_zp, int32_t act_min, int32_t act_max,
                               struct mxu_add_params *p);

/* To/from the layer record's int32 array (fields in declaration order). */
void mxu_add_params_pack(const struct mxu_add_params *p, int32_t v[MXU_ADD_PARAMS_COUNT]);
void mxu_add_params_unpack(const int32_t v[MXU_ADD_PARAMS_COUNT], int32_t act_min, int32_t act_max,
                           struct mxu_add_params *p);

/* out[i] = add(in1[i], in2[i]) for count elements (same shape, no broadcast).
 * MXU_ERR_INVAL if left_shift is outside 0..30 or act_min > act_max. */
int mxu_golden_add(const struct mxu_add_params *p, size_t count, const int8_t *in1,
                   const int8_t *in2, int8_t *output);

/* ---- lookup table --------------------------------------------------------- */

/* out[i] = lut[in[i] + 128]; in and out may be the same buffer. */
int mxu_golden_lut(const int8_t lut[256], size_t count, const int8_t *input, int8_t *output);

/* ---- host layers (golden_host.c) ------------------------------------------ */

/* TFLite's int8 softmax (reference_ops::Softmax<int8_t, int8_t> with gemmlowp
 * fixed point, the non-LUT reference path): inputs rescaled to Q5.26 by
 * input_multiplier << input_left_shift, exp() in fixed point, sum in Q12.19,
 * reciprocal by Newton-Raphson, output in 1/256 steps from -128. */
#define MXU_SOFTMAX_OUT_SCALE (1.0f / 256.0f)
#define MXU_SOFTMAX_OUT_ZP (-128)
#define MXU_SOFTMAX_SCALED_DIFF_BITS 5 /* TFLite's kScaledDiffIntegerBits */
struct mxu_softmax_params {
    int32_t input_multiplier; /* Q0.31 significand of beta * input_scale * 2^26 */
    int32_t input_left_shift; /* its exponent, 0..30 */
    int32_t diff_min;         /* inputs this far below the row's max give -128 */
};

/* TFLite's Prepare for an int8 softmax: PreprocessSoftmaxScaling(beta,
 * input_scale, 5) and diff_min = -CalculateInputRadius(5, left_shift) (double
 * rounding). MXU_ERR_INVAL for a scale or beta that is not positive and finite,
 * or a product so large (>= 16) that the multiplier needs a shift above 30. */
int mxu_softmax_params_from_scale(float input_scale, float beta, struct mxu_softmax_params *p);

/* Softmax over the last axis: `rows` rows of `depth` values each. Where TFLite
 * would stop (its TFLITE_CHECK on the final shift, rows with more than ~512
 * values near the row maximum) the rounding shift is done in 64 bits, and a sum
 * of exponentials beyond int32 (>= 4096 such values) saturates. */
int mxu_golden_softmax(const struct mxu_softmax_params *p, size_t rows, size_t depth,
                       const int8_t *input, int8_t *output);

/* LiteRT's builtin int8 softmax (PopulateSoftmaxLookupTable + SoftmaxInt8LUT, what
 * the interpreter runs without a delegate; layers: MXU_LAYER_F_SOFTMAX_FLOAT_TABLE):
 *   table[255 - d] = expf(-input_scale * beta * d) for d = 0..255     (float)
 *   per row: e[j] = table[255 - (max - x[j])], sum = e[0] + e[1] + ... in order,
 *   out[j] = clamp(roundf(e[j] * (1 / (sum * 1/256))) - 128, -128, 127)
 * Every operation is a float one in this order, so the result is the
 * interpreter's bit for bit wherever expf is (glibc's is correctly rounded).
 * It differs from mxu_golden_softmax (fixed point) on a few values in 10^5.
 * MXU_ERR_INVAL for a scale or beta that is not positive and finite, depth 0 or
 * missing buffers. */
int mxu_golden_softmax_table(float input_scale, float beta, size_t rows, size_t depth,
                             const int8_t *input, int8_t *output);

/* Concatenation along the last axis: for each of `outer` rows, depth1 values of
 * in1 then depth2 values of in2 (same quantization: a byte copy). */
int mxu_golden_concat(size_t outer, size_t depth1, size_t depth2, const int8_t *in1,
                      const int8_t *in2, int8_t *output);

/* Nearest-neighbour upsampling of NHWC [n][h][w][c] by `factor` on both axes:
 * out[b][y][x][ch] = in[b][y / factor][x / factor][ch]. */
int mxu_golden_upsample(int32_t n, int32_t h, int32_t w, int32_t c, int32_t factor,
                        const int8_t *input, int8_t *output);

/* Float softmax over the last axis (exp(x - max) / sum, accumulated in double). */
int mxu_golden_softmax_f32(size_t rows, size_t depth, float beta, const float *input,
                           float *output);

/* ---- float twins (golden_float.c) ------------------------------------------ */
/* Same shapes as the int8 kernels (zero points and int8 clamps of the params are
 * ignored); the clamp is [act_min, act_max] (use -INFINITY/INFINITY for none).
 * Sums are accumulated in double. Out-of-image taps are skipped (zero padding). */
int mxu_golden_conv2d_f32(const struct mxu_conv_params *p, const float *input, const float *filter,
                          const float *bias, float act_min, float act_max, float *output);
int mxu_golden_fc_f32(const struct mxu_fc_params *p, const float *input, const float *weights,
                      const float *bias, float act_min, float act_max, float *output);
int mxu_golden_maxpool_f32(const struct mxu_pool_params *p, const float *input, float act_min,
                           float act_max, float *output);
int mxu_golden_avgpool_f32(const struct mxu_pool_params *p, const float *input, float act_min,
                           float act_max, float *output);
int mxu_golden_add_f32(size_t count, const float *in1, const float *in2, float act_min,
                       float act_max, float *output);

/* ---- shapes shared by the int8 kernels and their twins (golden_shape.c) ---- */

/* Argument checks (MXU_ERR_INVAL with a detail); need_taps: every pool window
 * must hold an in-image tap (average pools). */
int mxu_golden_check_conv(const struct mxu_conv_params *p);
int mxu_golden_check_fc(const struct mxu_fc_params *p);
int mxu_golden_check_pool(const struct mxu_pool_params *p, int need_taps);

/* The window of one output pixel px (flat index over [n][out_h][out_w]): its
 * in-image taps are (ky, kx) for ky in [ky0, ky1), kx in [kx0, kx1) -- both
 * ranges possibly empty -- and tap (ky, kx) reads input pixel
 * (b, y0 + ky * dil_h, x0 + kx * dil_w). Taps outside the image (padding) are
 * left out, as TFLite skips them. The output pixel's first element is
 * px * (output channels). */
struct mxu_golden_window {
    int64_t b, y0, x0;          /* batch; input position of tap (0, 0), may lie outside */
    int64_t ky0, ky1, kx0, kx1; /* in-image taps */
    int64_t dil_h, dil_w;       /* input rows/columns between taps (1 for pools) */
    int64_t in_h, in_w, channels;
};
void mxu_golden_conv_window(const struct mxu_conv_params *p, int64_t px, struct mxu_golden_window *w);
void mxu_golden_pool_window(const struct mxu_pool_params *p, int64_t px, struct mxu_golden_window *w);

/* Index of channel 0 of in-image tap (ky, kx) in the NHWC input. */
static inline int64_t mxu_golden_tap(const struct mxu_golden_window *w, int64_t ky, int64_t kx)
{
    const int64_t in_y = w->y0 + ky * w->dil_h, in_x = w->x0 + kx * w->dil_w;
    return ((w->b * w->in_h + in_y) * w->in_w + in_x) * w->channels;
}

/* Index of filter[oc][ky][kx][0] (layout [cout][kh][kw][cin/groups]) and of the
 * first input channel output channel oc reads. */
static inline int64_t mxu_golden_filter_tap(const struct mxu_conv_params *p, int64_t oc, int64_t ky,
                                            int64_t kx)
{
    return ((oc * p->kh + ky) * p->kw + kx) * (p->cin / p->groups);
}
static inline int64_t mxu_golden_group_channel(const struct mxu_conv_params *p, int64_t oc)
{
    return oc / (p->cout / p->groups) * (p->cin / p->groups);
}

#endif
