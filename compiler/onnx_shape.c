/* Shape arithmetic on constants, folded at import: the Shape -> Gather ->
 * Unsqueeze -> Concat -> Reshape chains exporters write for x.view(x.size(0), -1).
 * Shapes are known here (the batch is 1), so every result is a constant. */
#include <string.h>

#include "onnx_priv.h"

/* A new INT64 constant of shape dims; values from v. */
static int int64_const(struct onnx_ctx *ctx, uint32_t ndims, const int64_t *dims, const int64_t *v,
                       struct onnx_const **out)
{
    int rc = onnx_const_new(ctx, ONNX_INT64, ndims, dims, out);
    if (!rc && (*out)->count)
        memcpy((*out)->i64, v, (*out)->count * sizeof *v);
    return rc;
}

/* Shape(x) with opset 15's start/end. */
static int op_shape(struct onnx_ctx *ctx)
{
    struct onnx_sym *x = onnx_input(ctx, 0);
    if (!x)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "input 0 is missing");
    int64_t shape[ONNX_MAX_DIMS], rank, start, end;
    if (x->kind == ONNX_SYM_VALUE) {
        rank = x->ndims;
        for (int64_t i = 0; i < rank; i++)
            shape[i] = x->shape[i];
    } else {
        struct onnx_const *c;
        int rc = onnx_sym_const(ctx, x, &c);
        if (rc)
            return rc;
        rank = c->ndims;
        memcpy(shape, c->dims, sizeof shape);
    }
    int rc = onnx_attr_int(ctx, "start", 0, &start);
    if (!rc)
        rc = onnx_attr_int(ctx, "end", rank, &end);
    if (rc)
        return rc;
    start = start < 0 ? start + rank : start;
    end = end < 0 ? end + rank : end;
    start = start < 0 ? 0 : start > rank ? rank : start;
    end = end < start ? start : end > rank ? rank : end;
    int64_t n = end - start;
    struct onnx_const *c;
    if ((rc = int64_const(ctx, 1, &n, shape + start, &c)))
        return rc;
    return onnx_output_const(ctx, 0, c);
}

/* Gather(data, indices, axis 0) of a constant vector. */
static int op_gather(struct onnx_ctx *ctx)
{
    struct onnx_const *data, *idx, *c;
    int64_t axis;
    int rc = onnx_input_const(ctx, 0, &data);
    if (!rc)
        rc = onnx_input_const(ctx, 1, &idx);
    if (!rc)
        rc = onnx_attr_int(ctx, "axis", 0, &axis);
    if (rc)
        return rc;
    if (data->ndims != 1 || (axis != 0 && axis != -1) || idx->ndims > 1 || (!idx->i64 && !idx->i32))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Gather of a rank-%u constant (shape "
                         "vectors only)", data->ndims);
    if ((rc = onnx_const_new(ctx, data->elem, idx->ndims, idx->dims, &c)))
        return rc;
    for (size_t k = 0; k < idx->count; k++) {
        int64_t i = onnx_const_i(idx, k);
        i = i < 0 ? i + (int64_t)data->count : i;
        if (i < 0 || i >= (int64_t)data->count)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "index %lld outside %zu values",
                             (long long)onnx_const_i(idx, k), data->count);
        if (c->i64)
            c->i64[k] = data->i64[i];
        else if (c->i32)
            c->i32[k] = data->i32[i];
        else
            c->f[k] = data->f[i];
    }
    return onnx_output_const(ctx, 0, c);
}

/* Unsqueeze / Squeeze of a constant: the data is unchanged, only dims move.
 * Axes come from the attribute (opset < 13) or input 1. */
static int reshape_axes(struct onnx_ctx *ctx, int unsqueeze)
{
    struct onnx_const *x, *axes_c = NULL, *c;
    int64_t axes[ONNX_MAX_DIMS];
    uint32_t n_axes = 0;
    int rc = onnx_input_const(ctx, 0, &x);
    if (rc)
        return rc;
    if (ctx->opset < 13) {
        rc = onnx_attr_ints(ctx, "axes", axes, ONNX_MAX_DIMS, &n_axes);
    } else if (!(rc = onnx_input_const_opt(ctx, 1, &axes_c)) && axes_c) {
        if (axes_c->count > ONNX_MAX_DIMS)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "%zu axes", axes_c->count);
        n_axes = (uint32_t)axes_c->count;
        for (uint32_t i = 0; i < n_axes; i++)
            axes[i] = onnx_const_i(axes_c, i);
    }
    if (rc)
        return rc;
    int64_t rank = unsqueeze ? (int64_t)x->ndims + n_axes : x->ndims;
    if (rank > ONNX_MAX_DIMS)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "rank %lld", (long long)rank);
    uint8_t marked[ONNX_MAX_DIMS] = {0};
    for (uint32_t i = 0; i < n_axes; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (a < 0 || a >= rank || marked[a] || (!unsqueeze && x->dims[a] != 1))
            return onnx_fail(ctx, MXU_ERR_FORMAT, "axis %lld", (long long)axes[i]);
        marked[a] = 1;
    }
    int64_t dims[ONNX_MAX_DIMS];
    uint32_t nd = 0;
    for (int64_t a = 0, src = 0; a < (unsqueeze ? rank : (int64_t)x->ndims); a++) {
        if (unsqueeze)
            dims[nd++] = marked[a] ? 1 : x->dims[src++];
        else if (!marked[a] && !(n_axes == 0 && x->dims[a] == 1))
            dims[nd++] = x->dims[a];
    }
    if ((rc = onnx_const_new(ctx, x->elem, nd, dims, &c)))
        return rc;
    if (c->i64)
        memcpy(c->i64, x->i64, x->count * sizeof *c->i64);
    else if (c->i32)
        memcpy(c->i32, x->i32, x->count * sizeof *c->i32);
    else
        memcpy(c->f, x->f, x->count * sizeof *c->f);
    return onnx_output_const(ctx, 0, c);
}

static int op_unsqueeze(struct onnx_ctx *ctx)
{
    return reshape_axes(ctx, 1);
}

static int op_squeeze(struct onnx_ctx *ctx)
{
    return reshape_axes(ctx, 0);
}

/* Concat of constant vectors (the float Concat is in onnx_ops.c). */
int onnx_concat_consts(struct onnx_ctx *ctx)
{
    const Onnx__NodeProto *node = ctx->node;
    int64_t total = 0, v[64];
    for (uint32_t i = 0; i < node->n_input; i++) {
        struct onnx_const *c;
        int rc = onnx_input_const(ctx, i, &c);
        if (rc)
            return rc;
        if (c->ndims != 1 || !(c->i64 || c->i32) || total + (int64_t)c->count > 64)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Concat of constants (integer vectors "
                             "only)");
        for (size_t k = 0; k < c->count; k++)
            v[total++] = onnx_const_i(c, k);
    }
    struct onnx_const *c;
    int rc = int64_const(ctx, 1, &total, v, &c);
    return rc ? rc : onnx_output_const(ctx, 0, c);
}

/* Cast of a constant to INT64 or FLOAT. */
static int op_cast(struct onnx_ctx *ctx)
{
    struct onnx_const *x, *c;
    int64_t to;
    int rc = onnx_input_const(ctx, 0, &x);
    if (!rc)
        rc = onnx_attr_int(ctx, "to", 0, &to);
    if (rc)
        return rc;
    if (to != ONNX_INT64 && to != ONNX_FLOAT)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "Cast to %s", onnx_dtype_name((int32_t)to));
    if ((rc = onnx_const_new(ctx, (int32_t)to, x->ndims, x->dims, &c)))
        return rc;
    for (size_t k = 0; k < x->count; k++) {
        if (c->i64)
            c->i64[k] = onnx_const_i(x, k);
        else
            c->f[k] = onnx_const_f(x, k);
    }
    return onnx_output_const(ctx, 0, c);
}

static const struct onnx_op_entry shape_ops[] = {
    {"Shape", op_shape}, {"Gather", op_gather}, {"Unsqueeze", op_unsqueeze},
    {"Squeeze", op_squeeze}, {"Cast", op_cast},
};

onnx_op_fn onnx_find_shape_op(const char *op_type)
{
    return onnx_op_lookup(shape_ops, sizeof shape_ops / sizeof shape_ops[0], op_type);
}
