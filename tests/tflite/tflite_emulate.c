/* What the interpreter's *reference* kernels (BUILTIN_REF) compute, emulated on
 * a compiled program, to explain the differences that remain there: mxu's golden
 * layers with TFLite's reference rounding (requantization ties away from zero,
 * fixed-point softmax: the layer flags cleared), except the FC, which LiteRT's
 * reference kernel rounds once, round(acc * M) with ties toward +infinity.
 *
 * The builtin kernels need no emulation any more: the product computes them
 * (MXU_LAYER_F_ROUND_HALF_UP, MXU_LAYER_F_SOFTMAX_FLOAT_TABLE, set by the TFLite
 * frontend), and the device must equal them byte for byte. */
#include <criterion/criterion.h>
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

/* Reference FC: one rounding of acc * qm / 2^(31 - shift). */
static int32_t requant_single(int32_t x, int32_t qm, int32_t shift)
{
    int total = 31 - shift;
    return (int32_t)(((int64_t)x * qm + (INT64_C(1) << (total - 1))) >> total);
}

static void fc_single_rounding(const mxu_program *p, const mxu_layer *l, uint8_t *const *v)
{
    const mxu_tensor *in = &p->tensors[l->input], *out = &p->tensors[l->output];
    uint32_t batch = out->dims[0];
    uint64_t cin = mxu_tensor_elems(in) / batch;
    const int8_t *x = (const int8_t *)v[l->input], *w = (const int8_t *)(p->host_blob + l->weights);
    int32_t zp_out = l->flags & MXU_LAYER_F_LUT ? 0 : out->zero_point;
    for (uint32_t b = 0; b < batch; b++)
        for (uint32_t oc = 0; oc < l->cout; oc++) {
            uint32_t acc = l->bias == MXU_NONE ? 0 : (uint32_t)blob_i32(p, l->bias, oc);
            for (uint64_t k = 0; k < cin; k++)
                acc += (uint32_t)((int32_t)w[oc * cin + k] * ((int32_t)x[b * cin + k] - in->zero_point));
            int32_t y = requant_single((int32_t)acc, blob_i32(p, l->multiplier, oc), blob_i32(p, l->shift, oc)) +
                        zp_out;
            y = y < l->act_min ? l->act_min : y > l->act_max ? l->act_max : y;
            y = y < -128 ? -128 : y > 127 ? 127 : y;
            if (l->flags & MXU_LAYER_F_LUT)
                y = (int8_t)p->host_blob[l->lut + (uint32_t)(y + 128)];
            ((int8_t *)v[l->output])[b * l->cout + oc] = (int8_t)y;
        }
}

void tflite_emulate_reference(const mxu_program *p, uint8_t *const *v)
{
    for (uint32_t i = 0; i < p->n_layers; i++) {
        mxu_layer l = p->layers[i];
        l.flags &= ~(MXU_LAYER_F_ROUND_HALF_UP | MXU_LAYER_F_SOFTMAX_FLOAT_TABLE);
        if (l.op == MXU_LAYER_FC)
            fc_single_rounding(p, &l, v);
        else
            cr_assert_eq(mxu_reference_layer(p, &l, v), MXU_OK, "%s", mxu_error_detail());
    }
}
