/* The interpreter's arithmetic, emulated on a compiled program: mxu's golden
 * layers, except where LiteRT's kernels are measured to compute differently
 * (docs/compiler-tflite.md, "Which interpreter kernels"):
 *
 *   builtin (x86):  conv/FC requantize with SaturatingRoundingDoublingHighMul
 *                   and a right shift rounding ties toward +infinity; softmax
 *                   from a float exp table (PopulateSoftmaxLookupTable)
 *   reference:      FC rounds once, round(acc * M) with ties toward +infinity
 *
 * If the emulation equals the interpreter byte for byte, every difference
 * between mxu and the interpreter is one of these rounding conventions, and
 * the import itself (weights, biases, scales, multipliers, pads, tables,
 * layouts) is exact. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"
#include "mxu_reference.h"
#include "tflite_compare.h"

static int32_t blob_i32(const mxu_program *p, uint32_t off, uint32_t i)
{
    int32_t v;
    memcpy(&v, p->host_blob + off + 4ull * i, sizeof v);
    return v;
}

/* Builtin x86 kernels: SRDHM, then (t + half) >> rs. */
static int32_t requant_builtin(int32_t x, int32_t qm, int32_t shift)
{
    int32_t ls = shift > 0 ? shift : 0, rs = shift < 0 ? -shift : 0;
    int32_t xs = (int32_t)((uint32_t)x << ls);
    int64_t t = ((int64_t)xs * qm + (INT64_C(1) << 30)) >> 31;
    return (int32_t)(rs ? (t + (INT64_C(1) << (rs - 1))) >> rs : t);
}

/* Reference FC: one rounding of acc * qm / 2^(31 - shift). */
static int32_t requant_single(int32_t x, int32_t qm, int32_t shift)
{
    int total = 31 - shift;
    return (int32_t)(((int64_t)x * qm + (INT64_C(1) << (total - 1))) >> total);
}

typedef int32_t (*requant_fn)(int32_t, int32_t, int32_t);

static int8_t finish(const mxu_program *p, const mxu_layer *l, int32_t acc, uint32_t oc, int32_t zp_out,
                     requant_fn rq)
{
    int32_t bias = l->bias == MXU_NONE ? 0 : blob_i32(p, l->bias, oc);
    int32_t y = rq((int32_t)((uint32_t)acc + (uint32_t)bias), blob_i32(p, l->multiplier, oc),
                   blob_i32(p, l->shift, oc)) + zp_out;
    y = y < l->act_min ? l->act_min : y > l->act_max ? l->act_max : y;
    y = y < -128 ? -128 : y > 127 ? 127 : y;
    if (l->flags & MXU_LAYER_F_LUT)
        y = (int8_t)p->host_blob[l->lut + (uint32_t)(y + 128)];
    return (int8_t)y;
}

static void fc(const mxu_program *p, const mxu_layer *l, uint8_t *const *v, requant_fn rq)
{
    const mxu_tensor *in = &p->tensors[l->input], *out = &p->tensors[l->output];
    uint32_t batch = out->dims[0];
    uint64_t cin = mxu_tensor_elems(in) / batch;
    const int8_t *x = (const int8_t *)v[l->input], *w = (const int8_t *)(p->host_blob + l->weights);
    for (uint32_t b = 0; b < batch; b++)
        for (uint32_t oc = 0; oc < l->cout; oc++) {
            int64_t acc = 0;
            for (uint64_t k = 0; k < cin; k++)
                acc += (int32_t)w[oc * cin + k] * ((int32_t)x[b * cin + k] - in->zero_point);
            ((int8_t *)v[l->output])[b * l->cout + oc] =
                finish(p, l, (int32_t)(uint32_t)(uint64_t)acc, oc, out->zero_point, rq);
        }
}

static void conv(const mxu_program *p, const mxu_layer *l, uint8_t *const *v, requant_fn rq)
{
    const mxu_tensor *in = &p->tensors[l->input], *out = &p->tensors[l->output];
    int32_t n = (int32_t)in->dims[0], ih = (int32_t)in->dims[1], iw = (int32_t)in->dims[2];
    int32_t cin = (int32_t)in->dims[3], cout = (int32_t)l->cout, cg = cin / (int32_t)l->groups;
    int32_t og = cout / (int32_t)l->groups;
    int32_t kh = (int32_t)l->kh, kw = (int32_t)l->kw, dh = (int32_t)l->dil_h, dw = (int32_t)l->dil_w;
    int32_t oh = (ih + (int32_t)(l->pad_top + l->pad_bottom) - ((kh - 1) * dh + 1)) / (int32_t)l->stride_h + 1;
    int32_t ow = (iw + (int32_t)(l->pad_left + l->pad_right) - ((kw - 1) * dw + 1)) / (int32_t)l->stride_w + 1;
    const int8_t *x = (const int8_t *)v[l->input], *w = (const int8_t *)(p->host_blob + l->weights);
    int8_t *full = malloc((size_t)n * oh * ow * cout);
    cr_assert_not_null(full);
    for (int32_t b = 0; b < n; b++)
        for (int32_t oy = 0; oy < oh; oy++)
            for (int32_t ox = 0; ox < ow; ox++)
                for (int32_t oc = 0; oc < cout; oc++) {
                    int64_t acc = 0;
                    int32_t g = oc / og;
                    for (int32_t ky = 0; ky < kh; ky++)
                        for (int32_t kx = 0; kx < kw; kx++) {
                            int32_t y = oy * (int32_t)l->stride_h - (int32_t)l->pad_top + ky * dh;
                            int32_t xx = ox * (int32_t)l->stride_w - (int32_t)l->pad_left + kx * dw;
                            if (y < 0 || y >= ih || xx < 0 || xx >= iw)
                                continue;
                            const int8_t *px = x + (((size_t)b * ih + y) * iw + xx) * cin + g * cg;
                            const int8_t *pw = w + (((size_t)oc * kh + ky) * kw + kx) * cg;
                            for (int32_t c = 0; c < cg; c++)
                                acc += (int32_t)pw[c] * ((int32_t)px[c] - in->zero_point);
                        }
                    full[(((size_t)b * oh + oy) * ow + ox) * cout + oc] =
                        finish(p, l, (int32_t)(uint32_t)(uint64_t)acc, (uint32_t)oc, out->zero_point, rq);
                }
    int8_t *o = (int8_t *)v[l->output];
    if (!l->pool_k) {
        memcpy(o, full, (size_t)n * oh * ow * cout);
    } else { /* fused max-pool, unpadded */
        int32_t ph = (int32_t)out->dims[1], pw = (int32_t)out->dims[2], k = (int32_t)l->pool_k, s = (int32_t)l->pool_s;
        for (int32_t b = 0; b < n; b++)
            for (int32_t y = 0; y < ph; y++)
                for (int32_t xx = 0; xx < pw; xx++)
                    for (int32_t c = 0; c < cout; c++) {
                        int8_t m = -128;
                        for (int32_t a = 0; a < k; a++)
                            for (int32_t e = 0; e < k; e++) {
                                int8_t t = full[(((size_t)b * oh + y * s + a) * ow + xx * s + e) * cout + c];
                                m = t > m ? t : m;
                            }
                        o[(((size_t)b * ph + y) * pw + xx) * cout + c] = m;
                    }
    }
    free(full);
}

/* The builtin int8 softmax: a float table of exp(-scale * d) for d = 0..255,
 * float sums in order, probabilities * 256 rounded (std::round) - 128. */
static void softmax_table(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    const mxu_tensor *in = &p->tensors[l->input], *out = &p->tensors[l->output];
    float table[256];
    const float scale = -in->scale * 1.0f;
    for (int32_t val = 0; val <= 255; val++)
        table[255 - val] = expf(scale * (float)val);
    uint32_t depth = in->dims[in->ndims - 1];
    uint64_t rows = mxu_tensor_elems(in) / depth;
    const int8_t *x = (const int8_t *)v[l->input];
    int8_t *o = (int8_t *)v[l->output];
    for (uint64_t r = 0; r < rows; r++, x += depth, o += depth) {
        int32_t max = -128;
        for (uint32_t j = 0; j < depth; j++)
            max = x[j] > max ? x[j] : max;
        const float *t = &table[255 - max];
        float sum = 0.0f;
        for (uint32_t j = 0; j < depth; j++)
            sum += t[x[j]];
        const float inv = 1.0f / (sum * out->scale);
        for (uint32_t j = 0; j < depth; j++) {
            int32_t q = (int32_t)roundf(t[x[j]] * inv) + out->zero_point;
            o[j] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        }
    }
}

void tflite_emulate(const mxu_program *p, uint8_t *const *v, int builtin)
{
    for (uint32_t i = 0; i < p->n_layers; i++) {
        const mxu_layer *l = &p->layers[i];
        if (builtin && l->op == MXU_LAYER_CONV2D)
            conv(p, l, v, requant_builtin);
        else if (l->op == MXU_LAYER_FC)
            fc(p, l, v, builtin ? requant_builtin : requant_single);
        else if (builtin && l->op == MXU_LAYER_SOFTMAX)
            softmax_table(p, l, v);
        else
            cr_assert_eq(mxu_reference_layer(p, l, v), MXU_OK, "%s", mxu_error_detail());
    }
}
