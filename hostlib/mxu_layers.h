/* libmxu layer calls: run one int8 layer on an open device.
 *
 *   mxu_qtensor in = {.data = pixels, .ndims = 4, .dims = {1, 28, 28, 1}, .zero_point = -128};
 *   mxu_qoutput out = {.data = buf, .capacity = sizeof buf, .zero_point = -128,
 *                      .act = MXU_ACT_RELU};
 *   struct mxu_conv2d_args conv = {.input = in, .filter = w, .cout = 8, .kh = 3, .kw = 3,
 *                                  .bias = b, .multiplier = m, .shift = s,
 *                                  .padding = MXU_PADDING_SAME};
 *   rc = mxu_conv2d(dev, &conv, &out, &res);
 *
 * Each call builds a one-layer program for the device's configuration (the
 * same tiler the compiler uses), places it in device memory taken from the
 * device's allocator, writes the input, runs, reads the output and releases
 * the memory. Results are bit-exact with TFLite's int8 reference kernels.
 *
 * Tensors are int8, dense, NHWC (4 dims) or NC (2 dims). Requantization is
 * per output channel as TFLite computes it (multiplier, shift: see
 * mxu_requant_params). Shapes that cannot run on the device fail with
 * MXU_ERR_LIMIT and a detail naming the limit; inconsistent shapes with
 * MXU_ERR_INVAL. docs/api.md is the guide. */
#ifndef MXU_LAYERS_H
#define MXU_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "mxu.h"

/* ---- tensors and activations -------------------------------------------------- */

/* An int8 input tensor in host memory. */
typedef struct mxu_qtensor {
    const int8_t *data;
    uint32_t ndims;      /* 4: NHWC, 2: NC */
    uint32_t dims[4];
    float scale;         /* real = scale * (q - zero_point); used by mxu_add only */
    int32_t zero_point;
} mxu_qtensor;

enum mxu_activation {
    MXU_ACT_NONE = 0,  /* clamp to int8 */
    MXU_ACT_RELU = 1,  /* [zero_point, 127] */
    MXU_ACT_RELU6 = 2, /* [zero_point, zero_point + round(6 / scale)], needs the output scale */
    MXU_ACT_CLAMP = 3, /* [act_min, act_max] as given (after the zero point) */
};

/* Where a call writes its int8 output, and the output's quantization. The
 * call fills ndims/dims; capacity must hold the output (else MXU_ERR_INVAL,
 * naming the size needed). */
typedef struct mxu_qoutput {
    int8_t *data;
    size_t capacity;
    float scale;               /* for ReLU6 and mxu_add */
    int32_t zero_point;        /* conv/fc/add; pools keep the input's quantization */
    enum mxu_activation act;
    int32_t act_min, act_max;  /* MXU_ACT_CLAMP only */
    uint32_t ndims, dims[4];   /* set by the call */
} mxu_qoutput;

/* What a layer call did. */
typedef struct mxu_layer_result {
    mxu_counters counters;  /* device performance counters (zero when on_host) */
    uint64_t macs;          /* useful multiply-accumulates (conv/fc) */
    uint32_t insns;         /* instructions of the program */
    int on_host;            /* 1: computed by the golden kernel on the host */
    char note[160];         /* why it ran on the host, "" otherwise */
} mxu_layer_result;

/* TFLite's activation range for an output (CalculateActivationRangeQuantized). */
int mxu_activation_range(const mxu_qoutput *out, int32_t *act_min, int32_t *act_max);

/* TFLite's per-channel requantization of a conv/FC:
 * M[c] = in_scale * w_scale[c] / out_scale -> (multiplier[c], shift[c]). */
int mxu_requant_params(float in_scale, const float *w_scale, uint32_t channels, float out_scale,
                       int32_t *multiplier, int32_t *shift);

/* ---- layer calls -------------------------------------------------------------- */

enum mxu_padding {
    MXU_PADDING_EXPLICIT = 0, /* pad_top/left/bottom/right as given */
    MXU_PADDING_VALID = 1,    /* no padding */
    MXU_PADDING_SAME = 2,     /* TFLite SAME: out = ceil(in / stride), odd pixel at the end */
};

struct mxu_conv2d_args {
    mxu_qtensor input;                  /* NHWC [n][h][w][cin] */
    const int8_t *filter;               /* [cout][kh][kw][cin/groups], symmetric int8 */
    uint32_t cout, kh, kw;
    const int32_t *bias;                /* [cout], scale in_scale*w_scale; NULL = 0 */
    const int32_t *multiplier, *shift;  /* [cout] */
    uint32_t stride_h, stride_w;        /* 0 = 1 */
    uint32_t dil_h, dil_w;              /* 0 = 1 */
    uint32_t groups;                    /* 0 = 1; depthwise: groups = cin */
    enum mxu_padding padding;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    uint32_t pool_k, pool_s;            /* fused max-pool after the activation; 0 = none */
};

/* Conv2d + bias + requantization + activation (+ fused max-pool). Output NHWC. */
int mxu_conv2d(mxu_device *dev, const struct mxu_conv2d_args *a, mxu_qoutput *out,
               mxu_layer_result *res);

struct mxu_fc_args {
    mxu_qtensor input;                  /* NC [batch][cin], or NHWC flattened per image */
    const int8_t *weights;              /* [cout][cin] */
    uint32_t cout;
    const int32_t *bias;                /* [cout]; NULL = 0 */
    const int32_t *multiplier, *shift;  /* [cout] */
};

/* Fully connected, any batch. Output NC [batch][cout]. */
int mxu_fully_connected(mxu_device *dev, const struct mxu_fc_args *a, mxu_qoutput *out,
                        mxu_layer_result *res);

struct mxu_pool_args {
    mxu_qtensor input;                  /* NHWC */
    uint32_t kh, kw;
    uint32_t stride_h, stride_w;        /* 0 = 1 */
    enum mxu_padding padding;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
};

/* TFLite int8 max pool (out-of-image taps ignored). The output keeps the
 * input's scale and zero point; out->act/act_min/act_max clamp it (ReLU uses
 * the input's zero point). */
int mxu_maxpool2d(mxu_device *dev, const struct mxu_pool_args *a, mxu_qoutput *out,
                  mxu_layer_result *res);

/* TFLite int8 average pool. Windows cut by padding divide by their in-image
 * count, which the device cannot express (one divisor per channel): such
 * layers run on the host with the golden kernel, and res->on_host says so. */
int mxu_avgpool2d(mxu_device *dev, const struct mxu_pool_args *a, mxu_qoutput *out,
                  mxu_layer_result *res);

/* TFLite int8 elementwise add of two tensors of the same shape (no broadcast),
 * with their scales and zero points and the output's. ADD rescales both
 * inputs, adds and rescales again (three requantizations); the array's single
 * requantization cannot reproduce that bit for bit, so ADD always runs on the
 * host with the golden kernel (res->on_host = 1). dev is taken for a uniform
 * API and may be NULL. */
int mxu_add(mxu_device *dev, const mxu_qtensor *a, const mxu_qtensor *b, mxu_qoutput *out,
            mxu_layer_result *res);

#endif
