/* Pre-quantized ONNX graphs: QuantizeLinear / DequantizeLinear (QDQ format) and
 * QLinearConv / QLinearMatMul (operator format).
 *
 * Activations: Q/DQ pairs do not become nodes; they fix the quantization of the
 * value they wrap (uint8 becomes int8: zero point - 128). Weights: DQ (or Q) of
 * a constant makes a quantized constant, which Conv/Gemm/MatMul turn into
 * qweights + wscale (int8, symmetric, per tensor or per output channel) and,
 * for an int32 bias at input scale x weight scale, qbias. */
#include <math.h>
#include <stdlib.h>

#include "onnx_priv.h"

static int valid_scale(float s)
{
    return s > 0 && isfinite(s);
}

int onnx_quantize_value(struct onnx_ctx *ctx, struct onnx_sym *s, float scale, int64_t zp,
                        int32_t elem)
{
    if (!valid_scale(scale))
        return onnx_fail(ctx, MXU_ERR_FORMAT, "quantization scale %g", scale);
    if (elem == ONNX_UINT8 && zp >= 0 && zp <= 255)
        zp -= 128;
    else if (elem != ONNX_INT8 || zp < -128 || zp > 127)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "%s activation quantization with zero point "
                         "%lld (int8/uint8 only)", onnx_dtype_name(elem), (long long)zp);
    struct mxu_quant *q = &ctx->g->values[s->value].quant;
    if (q->valid) {
        if (q->zero_point != zp || fabsf(q->scale - scale) > 1e-6f * scale)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "'%.60s' is quantized twice differently "
                             "(scale %g zero point %d, then %g %lld)", s->name, q->scale,
                             q->zero_point, scale, (long long)zp);
        return MXU_OK;
    }
    q->valid = 1;
    q->scale = scale;
    q->zero_point = (int32_t)zp;
    return MXU_OK;
}

int onnx_qparams(struct onnx_ctx *ctx, uint32_t scale_i, uint32_t zp_i, float *scale, int64_t *zp,
                 int32_t *elem)
{
    struct onnx_const *s, *z;
    int rc = onnx_input_const(ctx, scale_i, &s);
    if (!rc)
        rc = onnx_input_const_opt(ctx, zp_i, &z);
    if (rc)
        return rc;
    if (s->count != 1 || (z && z->count != 1))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "per-channel quantization of an activation");
    if (!s->f)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "scale is %s", onnx_dtype_name(s->elem));
    *scale = s->f[0];
    *zp = z ? onnx_const_i(z, 0) : 0;
    *elem = z ? z->elem : ONNX_UINT8;
    return MXU_OK;
}

/* ---- quantized constants ----------------------------------------------------------------- */

/* Integers `ints` with scale (count 1 or dims[axis]) and optional zero points of
 * the same count: a quantized constant with its dequantized values. */
static int make_qconst(struct onnx_ctx *ctx, const struct onnx_const *ints,
                       const struct onnx_const *scale, const struct onnx_const *zp, int64_t axis,
                       struct onnx_const **out)
{
    if (ints->elem != ONNX_INT8 && ints->elem != ONNX_UINT8 && ints->elem != ONNX_INT32)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "dequantizing %s values",
                         onnx_dtype_name(ints->elem));
    if (!scale->f || scale->count < 1 || scale->ndims > 1)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "scale of %zu %s values", scale->count,
                         onnx_dtype_name(scale->elem));
    size_t n = scale->count, inner = 1;
    if (n > 1) {
        if (ints->ndims == 1) /* a vector has one axis whatever the attribute says */
            axis = 0;
        if (axis < 0)
            axis += ints->ndims;
        if (axis < 0 || axis >= ints->ndims || ints->dims[axis] != (int64_t)n)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "%zu scales do not match axis %lld", n,
                             (long long)axis);
        for (uint32_t i = (uint32_t)axis + 1; i < ints->ndims; i++)
            inner *= (size_t)ints->dims[i];
    } else {
        axis = 0;
    }
    if (zp && (zp->count != n || zp->elem != ints->elem || !zp->i32))
        return onnx_fail(ctx, MXU_ERR_FORMAT, "zero point of %zu %s values for %zu %s scales",
                         zp->count, onnx_dtype_name(zp->elem), n, onnx_dtype_name(ints->elem));
    struct onnx_const *c;
    int rc = onnx_const_new(ctx, ints->elem, ints->ndims, ints->dims, &c);
    if (rc)
        return rc;
    c->quantized = 1;
    c->n_scale = (uint32_t)n;
    c->axis = (int)axis;
    c->f = malloc((c->count ? c->count : 1) * sizeof *c->f);
    c->scale = malloc(n * sizeof *c->scale);
    c->zp = malloc(n * sizeof *c->zp);
    if (!c->f || !c->scale || !c->zp)
        return onnx_fail(ctx, MXU_ERR_NOMEM, "quantized constant");
    for (size_t k = 0; k < n; k++) {
        c->scale[k] = scale->f[k];
        c->zp[k] = zp ? zp->i32[k] : 0;
        if (!valid_scale(c->scale[k]))
            return onnx_fail(ctx, MXU_ERR_FORMAT, "quantization scale %g", c->scale[k]);
    }
    for (size_t k = 0; k < c->count; k++) {
        size_t ch = n == 1 ? 0 : k / inner % n;
        c->i32[k] = ints->i32[k];
        c->f[k] = c->scale[ch] * (float)((int64_t)c->i32[k] - c->zp[ch]);
    }
    *out = c;
    return MXU_OK;
}

/* QuantizeLinear of a float constant: round half to even, saturate. */
static int quantize_const(struct onnx_ctx *ctx, const struct onnx_const *x,
                          const struct onnx_const *scale, const struct onnx_const *zp,
                          int64_t axis, struct onnx_const **out)
{
    int32_t elem = zp ? zp->elem : ONNX_UINT8;
    if (!x->f || (elem != ONNX_INT8 && elem != ONNX_UINT8))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "quantizing %s to %s",
                         onnx_dtype_name(x->elem), onnx_dtype_name(elem));
    if (!scale->f || scale->count < 1 || scale->ndims > 1 || (zp && zp->count != scale->count))
        return onnx_fail(ctx, MXU_ERR_FORMAT, "quantization parameters of %zu values",
                         scale->count);
    size_t n = scale->count, inner = 1;
    if (n > 1) {
        int64_t a = axis < 0 ? axis + x->ndims : axis;
        if (a < 0 || a >= x->ndims || x->dims[a] != (int64_t)n)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "%zu scales do not match axis %lld", n,
                             (long long)axis);
        for (uint32_t i = (uint32_t)a + 1; i < x->ndims; i++)
            inner *= (size_t)x->dims[i];
    }
    struct onnx_const *q;
    int rc = onnx_const_new(ctx, elem, x->ndims, x->dims, &q);
    if (rc)
        return rc;
    int32_t lo = elem == ONNX_INT8 ? -128 : 0, hi = elem == ONNX_INT8 ? 127 : 255;
    for (size_t k = 0; k < x->count; k++) {
        size_t ch = n == 1 ? 0 : k / inner % n;
        float s = scale->f[ch];
        if (!valid_scale(s))
            return onnx_fail(ctx, MXU_ERR_FORMAT, "quantization scale %g", s);
        double v = nearbyint((double)x->f[k] / s) + (zp ? zp->i32[ch] : 0);
        q->i32[k] = v >= hi ? hi : v >= lo ? (int32_t)v : lo; /* NaN: lo */
    }
    return make_qconst(ctx, q, scale, zp, axis, out);
}

/* ---- QuantizeLinear, DequantizeLinear ------------------------------------------------------ */

/* The value named by input 0, re-named by output 0 in the int8 (qdomain 1) or
 * float (0) domain after checking/setting its quantization. */
static int requantize_alias(struct onnx_ctx *ctx, struct onnx_sym *x, int qdomain)
{
    float scale;
    int64_t zp;
    int32_t elem;
    struct onnx_sym *y;
    int rc = onnx_qparams(ctx, 1, 2, &scale, &zp, &elem);
    if (!rc)
        rc = onnx_quantize_value(ctx, x, scale, zp, elem);
    if (!rc)
        rc = onnx_output(ctx, 0, &y);
    if (rc)
        return rc;
    onnx_alias(y, x);
    y->qdomain = qdomain;
    return MXU_OK;
}

/* QuantizeLinear (quantizing = 1) and DequantizeLinear (0): of a constant, a
 * quantized constant; of a value, the same value in the int8 or float domain. */
static int quantize_linear(struct onnx_ctx *ctx, int quantizing)
{
    struct onnx_sym *x = onnx_input(ctx, 0);
    int64_t axis;
    int rc = onnx_attr_int(ctx, "axis", 1, &axis);
    if (rc)
        return rc;
    if (x && x->kind == ONNX_SYM_CONST) {
        struct onnx_const *xc, *s, *z, *q;
        if ((rc = onnx_input_const(ctx, 0, &xc)) || (rc = onnx_input_const(ctx, 1, &s)) ||
            (rc = onnx_input_const_opt(ctx, 2, &z)))
            return rc;
        rc = quantizing ? quantize_const(ctx, xc, s, z, axis, &q) : make_qconst(ctx, xc, s, z, axis, &q);
        return rc ? rc : onnx_output_const(ctx, 0, q);
    }
    int flags = quantizing ? ONNX_IN_FLAT : ONNX_IN_QDOMAIN | ONNX_IN_FLAT;
    if ((rc = onnx_input_value(ctx, 0, flags, &x)))
        return rc;
    if (!quantizing && !x->qdomain)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "'%.60s' is not a quantized tensor", x->name);
    return requantize_alias(ctx, x, quantizing);
}

static int op_quantize(struct onnx_ctx *ctx)
{
    return quantize_linear(ctx, 1);
}

static int op_dequantize(struct onnx_ctx *ctx)
{
    return quantize_linear(ctx, 0);
}

/* ---- QLinearConv, QLinearMatMul ----------------------------------------------------------- */

/* Input i as an int8 tensor quantized with inputs (i + 1, i + 2). */
static int qlinear_input(struct onnx_ctx *ctx, uint32_t i, struct onnx_sym **x, float *scale)
{
    int64_t zp;
    int32_t elem;
    int rc = onnx_input_value(ctx, i, ONNX_IN_QDOMAIN | ONNX_IN_FLAT, x);
    if (rc)
        return rc;
    if (!(*x)->qdomain)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "input %u '%.60s' is not a quantized tensor", i,
                         (*x)->name);
    if ((rc = onnx_qparams(ctx, i + 1, i + 2, scale, &zp, &elem)))
        return rc;
    return onnx_quantize_value(ctx, *x, *scale, zp, elem);
}

/* Weights at input i with scales i + 1 and zero points i + 2 (per channel on axis). */
static int qlinear_weights(struct onnx_ctx *ctx, uint32_t i, int64_t axis, struct onnx_const **out)
{
    struct onnx_const *w, *s, *z;
    int rc = onnx_input_const(ctx, i, &w);
    if (!rc)
        rc = onnx_input_const(ctx, i + 1, &s);
    if (!rc)
        rc = onnx_input_const_opt(ctx, i + 2, &z);
    if (!rc && w->elem != ONNX_INT8)
        rc = onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "%s weights (int8 only)",
                       onnx_dtype_name(w->elem));
    if (!rc)
        rc = make_qconst(ctx, w, s, z, axis, out);
    return rc;
}

static int qlinear_output(struct onnx_ctx *ctx, uint32_t i, struct onnx_sym *y)
{
    float scale;
    int64_t zp;
    int32_t elem;
    int rc = onnx_qparams(ctx, i, i + 1, &scale, &zp, &elem);
    if (!rc)
        rc = onnx_quantize_value(ctx, y, scale, zp, elem);
    y->qdomain = 1;
    return rc;
}

/* x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B */
static int op_qlinear_conv(struct onnx_ctx *ctx)
{
    struct onnx_sym *x, *y;
    struct onnx_const *w, *b;
    float x_scale;
    mxu_node *n;
    int rc = qlinear_input(ctx, 0, &x, &x_scale);
    if (!rc)
        rc = qlinear_weights(ctx, 3, 0, &w);
    if (!rc)
        rc = onnx_input_const_opt(ctx, 8, &b);
    if (!rc)
        rc = onnx_build_conv(ctx, x, w, &n, &y);
    if (!rc && b)
        rc = onnx_set_qbias(ctx, n, b, x_scale);
    if (!rc)
        rc = qlinear_output(ctx, 6, y);
    return rc;
}

/* a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp; b [K][N] per column. */
static int op_qlinear_matmul(struct onnx_ctx *ctx)
{
    struct onnx_sym *a, *y;
    struct onnx_const *b;
    float a_scale;
    int rc = qlinear_input(ctx, 0, &a, &a_scale);
    if (!rc)
        rc = qlinear_weights(ctx, 3, 1, &b);
    if (!rc)
        rc = onnx_build_fc(ctx, a, b, 0, 1.0f, NULL, &y);
    if (!rc)
        rc = qlinear_output(ctx, 6, y);
    return rc;
}

static const struct onnx_op_entry quant_ops[] = {
    {"QuantizeLinear", op_quantize},
    {"DequantizeLinear", op_dequantize},
    {"QLinearConv", op_qlinear_conv},
    {"QLinearMatMul", op_qlinear_matmul},
};

onnx_op_fn onnx_find_quant_op(const char *op_type)
{
    return onnx_op_lookup(quant_ops, sizeof quant_ops / sizeof quant_ops[0], op_type);
}
