/* One-layer programs with seeded random constants (see mxu_layer_program.h). */
#include "mxu_layer_program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_builder.h"
#include "mxu_error.h"
#include "mxu_lower.h"
#include "mxu_numerics.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int32_t uniform(uint64_t *s, int32_t lo, int32_t hi)
{
    return lo + (int32_t)(next(s) % (uint64_t)(hi - lo + 1));
}

static uint32_t conv_out(uint32_t in, uint32_t k, uint32_t s, uint32_t d, uint32_t p0, uint32_t p1)
{
    uint64_t ext = (uint64_t)(k - 1) * (d ? d : 1) + 1, padded = (uint64_t)in + p0 + p1;
    return s && k && padded >= ext ? (uint32_t)((padded - ext) / s + 1) : 0;
}

void mxu_layer_desc_out(const struct mxu_layer_desc *d, uint32_t *oh, uint32_t *ow)
{
    if (d->op == MXU_LAYER_FC) {
        *oh = *ow = 1;
        return;
    }
    *oh = conv_out(d->h, d->kh, d->stride_h, d->dil_h, d->pad_top, d->pad_bottom);
    *ow = conv_out(d->w, d->kw, d->stride_w, d->dil_w, d->pad_left, d->pad_right);
    if (d->pool_k && *oh >= d->pool_k && *ow >= d->pool_k && d->pool_s) {
        *oh = (*oh - d->pool_k) / d->pool_s + 1;
        *ow = (*ow - d->pool_k) / d->pool_s + 1;
    } else if (d->pool_k) {
        *oh = *ow = 0;
    }
}

uint64_t mxu_layer_desc_macs(const struct mxu_layer_desc *d)
{
    if (d->op == MXU_LAYER_FC)
        return (uint64_t)d->n * d->cin * d->cout;
    uint32_t oh = conv_out(d->h, d->kh, d->stride_h, d->dil_h, d->pad_top, d->pad_bottom);
    uint32_t ow = conv_out(d->w, d->kw, d->stride_w, d->dil_w, d->pad_left, d->pad_right);
    uint32_t g = d->groups ? d->groups : 1;
    return (uint64_t)d->n * oh * ow * d->cout * d->kh * d->kw * (d->cin / g);
}

/* Random constants: weights in [-127, 127], biases, multipliers scaled so the
 * outputs spread over the int8 range, an optional LUT. */
static int add_constants(mxu_program *p, const struct mxu_layer_desc *d, uint64_t *seed, mxu_layer *l)
{
    uint32_t g = d->groups ? d->groups : 1, cout = d->cout;
    uint64_t fan_in = d->op == MXU_LAYER_FC ? d->cin : (uint64_t)d->kh * d->kw * (d->cin / g);
    uint64_t wn = cout * fan_in;
    int8_t *w = malloc(wn ? wn : 1), lut[256];
    int32_t *arr = malloc(3 * (size_t)cout * sizeof *arr);
    int rc = w && arr ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "layer constants");
    for (uint64_t i = 0; rc == MXU_OK && i < wn; i++)
        w[i] = (int8_t)uniform(seed, -127, 127);
    for (uint32_t c = 0; rc == MXU_OK && c < cout; c++) {
        arr[c] = uniform(seed, -20000, 20000);
        double m = (double)(next(seed) % 100000 + 1) / 1e6 / (1.0 + (double)fan_in / 64.0);
        rc = mxu_quantize_multiplier(m, &arr[cout + c], &arr[2 * cout + c]);
    }
    for (int i = 0; i < 256; i++)
        lut[i] = (int8_t)uniform(seed, -128, 127);
    if (rc == MXU_OK)
        rc = mxu_program_add_blob(p, w, (uint32_t)wn, &l->weights);
    if (rc == MXU_OK)
        rc = mxu_program_add_blob(p, arr, cout * 4, &l->bias);
    if (rc == MXU_OK)
        rc = mxu_program_add_blob(p, arr + cout, cout * 4, &l->multiplier);
    if (rc == MXU_OK)
        rc = mxu_program_add_blob(p, arr + 2 * (size_t)cout, cout * 4, &l->shift);
    if (rc == MXU_OK && d->lut)
        rc = mxu_program_add_blob(p, lut, 256, &l->lut);
    free(w);
    free(arr);
    return rc;
}

static void fill_layer(const struct mxu_layer_desc *d, mxu_layer *l)
{
    mxu_layer_init(l, d->name, d->op);
    l->flags = (d->lut ? MXU_LAYER_F_LUT : 0) | (d->round_half_up ? MXU_LAYER_F_ROUND_HALF_UP : 0);
    l->cout = d->cout;
    if (d->op != MXU_LAYER_FC) {
        l->kh = d->kh, l->kw = d->kw;
        l->stride_h = d->stride_h ? d->stride_h : 1, l->stride_w = d->stride_w ? d->stride_w : 1;
        l->dil_h = d->dil_h ? d->dil_h : 1, l->dil_w = d->dil_w ? d->dil_w : 1;
        l->groups = d->groups ? d->groups : 1;
        l->pad_top = d->pad_top, l->pad_left = d->pad_left;
        l->pad_bottom = d->pad_bottom, l->pad_right = d->pad_right;
        l->pool_k = d->pool_k, l->pool_s = d->pool_s;
    }
    l->act_min = d->act_min, l->act_max = d->act_max;
}

int mxu_build_layer_program(const mxu_hw_config *cfg, const struct mxu_layer_desc *d, uint64_t seed,
                            mxu_program **out)
{
    mxu_builder *b;
    mxu_layer l;
    uint32_t oh, ow, in = 0, res = 0;
    *out = NULL;
    mxu_layer_desc_out(d, &oh, &ow);
    if (!oh || !ow || !d->cin || !d->cout || !d->n)
        return mxu_fail(MXU_ERR_INVAL, "layer %s: empty input or output", d->name ? d->name : "");
    int rc = mxu_builder_new(cfg, &b);
    if (rc)
        return rc;
    fill_layer(d, &l);
    int fc = d->op == MXU_LAYER_FC;
    uint32_t din[4] = {d->n, d->h, d->w, d->cin}, dout[4] = {d->n, oh, ow, d->cout};
    uint32_t fin[2] = {d->n, d->cin}, fout[2] = {d->n, d->cout};
    rc = mxu_builder_add_tensor(b, "input", MXU_ROLE_INPUT, fc ? 2 : 4, fc ? fin : din, 0.05f,
                                d->zp_in, &in);
    if (rc == MXU_OK)
        rc = mxu_builder_add_tensor(b, "output", MXU_ROLE_OUTPUT, fc ? 2 : 4, fc ? fout : dout, 0.05f,
                                    d->zp_out, &res);
    l.input = in, l.output = res;
    if (rc == MXU_OK)
        rc = add_constants(mxu_builder_program(b), d, &seed, &l);
    if (rc == MXU_OK)
        rc = mxu_program_add_layer(mxu_builder_program(b), &l);
    if (rc == MXU_OK)
        rc = mxu_lower_layer(b, mxu_builder_program(b)->n_layers - 1);
    if (rc == MXU_OK)
        rc = mxu_builder_finish(b, out);
    mxu_builder_free(b);
    return rc;
}
