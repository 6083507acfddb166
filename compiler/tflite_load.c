/* TFLite frontend: a .tflite flatbuffer (schema version 3) into an mxu graph.
 *
 * The main subgraph's tensors are decoded and checked first (shape, type,
 * buffer, quantization), then each operator becomes graph nodes in file order
 * (tflite_ops.c). Quantization is taken exactly as stored: int8 activations
 * keep their scale and zero point, conv/FC weights stay int8 with their
 * per-channel or per-tensor scales, biases stay int32; nothing is recalibrated.
 * QUANTIZE at the graph inputs and DEQUANTIZE at the outputs mark the edges:
 * the program's tensors are their int8 sides. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tflite_priv.h"

#define MAX_FILE_BYTES (1ull << 31)
#define FAIL(...) mxu_fail(MXU_ERR_FORMAT, __VA_ARGS__)

static const char *const op_names[] = {
#include "tflite_opnames.inc"
};

const char *mxu_tflite_op_name(int32_t code)
{
    if (code < 0 || (size_t)code >= sizeof op_names / sizeof op_names[0])
        return "?";
    return op_names[code];
}

int tfl_op_fail(const struct tfl_ctx *c, const struct tfl_op *op, int status, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (op->code < 0)
        return mxu_fail(status, "%s: %s", c->name, msg);
    return mxu_fail(status, "%s: operator %u (%s): %s", c->name, op->index,
                    mxu_tflite_op_name(op->code), msg);
}

/* ---- tensors ----------------------------------------------------------------------- */

static int tensor_buffer(struct tfl_ctx *c, uint32_t index, uint32_t buffer, struct tfl_tensor *t)
{
    struct fb_table bt;
    struct fb_vec data;
    uint64_t offset, size;
    if (buffer == 0) /* buffer 0 is the empty sentinel */
        return MXU_OK;
    if (buffer >= c->buffers.count)
        return FAIL("%s: tensor %u uses buffer %u of %u", c->name, index, buffer, c->buffers.count);
    int rc = fb_vec_table(&c->b, &c->buffers, buffer, &bt);
    if (!rc)
        rc = fb_vector(&bt, 0, 1, &data);
    if (!rc)
        rc = fb_u64(&bt, 1, 0, &offset);
    if (!rc)
        rc = fb_u64(&bt, 2, 0, &size);
    if (rc)
        return rc;
    if (data.count) {
        t->data = c->b.buf + data.pos;
        t->data_len = data.count;
    } else if (offset > 1 && size) { /* large models: data after the flatbuffer */
        if (offset > c->b.len || size > c->b.len - offset)
            return FAIL("%s: buffer %u [%llu, +%llu) lies outside the %zu-byte file", c->name, buffer,
                        (unsigned long long)offset, (unsigned long long)size, c->b.len);
        t->data = c->b.buf + offset;
        t->data_len = size;
    }
    return MXU_OK;
}

static int tensor_quant(struct tfl_ctx *c, uint32_t index, const struct fb_table *tt, struct tfl_tensor *t)
{
    struct fb_table q;
    int present;
    int rc = fb_sub(tt, 4, &q, &present);
    if (rc || !present)
        return rc;
    uint8_t details;
    if ((rc = fb_vector(&q, 2, 4, &t->scale)) || (rc = fb_vector(&q, 3, 8, &t->zero_point)) ||
        (rc = fb_i32(&q, 6, 0, &t->qdim)) || (rc = fb_u8(&q, 4, 0, &details)))
        return rc;
    if (details)
        return mxu_fail(MXU_ERR_UNSUPPORTED, "%s: tensor %u '%s' has custom quantization details",
                        c->name, index, t->name);
    if (t->zero_point.count && t->zero_point.count != t->scale.count)
        return FAIL("%s: tensor %u '%s' has %u scales and %u zero points", c->name, index, t->name,
                    t->scale.count, t->zero_point.count);
    if (t->scale.count > 1 && (t->qdim < 0 || (uint32_t)t->qdim >= t->ndims ||
                               (uint32_t)t->dims[t->qdim] != t->scale.count))
        return FAIL("%s: tensor %u '%s': %u scales along dimension %d", c->name, index, t->name,
                    t->scale.count, t->qdim);
    t->n_scale = t->scale.count;
    return MXU_OK;
}

static int tensor_shape(struct tfl_ctx *c, uint32_t index, const struct fb_table *tt, struct tfl_tensor *t)
{
    struct fb_vec shape;
    int rc = fb_vector(tt, 0, 4, &shape);
    if (rc)
        return rc;
    if (shape.count > TFL_MAX_DIMS)
        return mxu_fail(MXU_ERR_UNSUPPORTED, "%s: tensor %u '%s' has %u dimensions", c->name, index,
                        t->name, shape.count);
    t->ndims = shape.count;
    t->elems = 1;
    for (uint32_t d = 0; d < shape.count; d++) {
        t->dims[d] = fb_vec_i32(&c->b, &shape, d);
        if (t->dims[d] < 1)
            return mxu_fail(MXU_ERR_UNSUPPORTED, "%s: tensor %u '%s' has dimension %u of size %d "
                            "(dynamic or empty shapes are not supported)", c->name, index, t->name,
                            d, t->dims[d]);
        t->elems *= (uint64_t)t->dims[d];
        if (t->elems > (1ull << 40))
            return FAIL("%s: tensor %u '%s' is too large", c->name, index, t->name);
    }
    return MXU_OK;
}

static int read_tensor(struct tfl_ctx *c, const struct fb_vec *tensors, uint32_t index)
{
    struct tfl_tensor *t = &c->tensors[index];
    struct fb_table tt;
    uint32_t buffer, external;
    t->value = -1;
    int rc = fb_vec_table(&c->b, tensors, index, &tt);
    if (!rc)
        rc = fb_string(&tt, 3, t->name, sizeof t->name);
    if (!rc)
        rc = fb_u8(&tt, 1, TFL_FLOAT32, &t->type);
    if (!rc)
        rc = fb_u32(&tt, 2, 0, &buffer);
    if (!rc)
        rc = fb_u32(&tt, 10, 0, &external);
    if (!rc && (fb_has(&tt, 6) || external))
        rc = mxu_fail(MXU_ERR_UNSUPPORTED, "%s: tensor %u '%s' is sparse or external", c->name,
                      index, t->name);
    if (!rc)
        rc = tensor_shape(c, index, &tt, t);
    if (!rc)
        rc = tensor_quant(c, index, &tt, t);
    if (!rc)
        rc = tensor_buffer(c, index, buffer, t);
    return rc;
}

/* ---- operators --------------------------------------------------------------------- */

static int opcode(struct tfl_ctx *c, const struct fb_vec *codes, uint32_t i, int32_t *code)
{
    struct fb_table ct;
    uint8_t deprecated;
    int32_t builtin;
    int rc = fb_vec_table(&c->b, codes, i, &ct);
    if (!rc)
        rc = fb_u8(&ct, 0, 0, &deprecated);
    if (!rc)
        rc = fb_i32(&ct, 3, 0, &builtin);
    if (rc)
        return rc;
    /* as TFLite's GetBuiltinCode: the larger of the two fields */
    *code = (int8_t)deprecated > builtin ? (int8_t)deprecated : builtin;
    return MXU_OK;
}

static int read_op(struct tfl_ctx *c, const struct fb_vec *ops, const struct fb_vec *codes, uint32_t i,
                   struct tfl_op *op)
{
    struct fb_table ot;
    uint32_t code_index;
    memset(op, 0, sizeof *op);
    op->index = i;
    op->code = -1;
    int rc = fb_vec_table(&c->b, ops, i, &ot);
    if (!rc)
        rc = fb_u32(&ot, 0, 0, &code_index);
    if (rc)
        return rc;
    if (code_index >= codes->count)
        return FAIL("%s: operator %u uses opcode %u of %u", c->name, i, code_index, codes->count);
    if ((rc = opcode(c, codes, code_index, &op->code)) || (rc = fb_vector(&ot, 1, 4, &op->in)) ||
        (rc = fb_vector(&ot, 2, 4, &op->out)) || (rc = fb_u8(&ot, 3, 0, &op->options_type)) ||
        (rc = fb_sub(&ot, 4, &op->options, &op->has_options)))
        return rc;
    op->n_in = op->in.count, op->n_out = op->out.count;
    for (uint32_t k = 0; k < op->n_in + op->n_out; k++) {
        int32_t t = k < op->n_in ? fb_vec_i32(&c->b, &op->in, k) : fb_vec_i32(&c->b, &op->out, k - op->n_in);
        if (t < -1 || t >= (int32_t)c->n_tensors)
            return tfl_op_fail(c, op, MXU_ERR_FORMAT, "tensor index %d of %u", t, c->n_tensors);
    }
    return MXU_OK;
}

int tfl_input(const struct tfl_ctx *c, const struct tfl_op *op, uint32_t k, int optional,
              struct tfl_tensor **t)
{
    int32_t i = k < op->n_in ? fb_vec_i32(&c->b, &op->in, k) : -1;
    *t = i >= 0 ? &c->tensors[i] : NULL;
    if (i < 0 && !optional)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "input %u is missing", k);
    return MXU_OK;
}

int tfl_output(const struct tfl_ctx *c, const struct tfl_op *op, struct tfl_tensor **t)
{
    int32_t i = op->n_out == 1 ? fb_vec_i32(&c->b, &op->out, 0) : -1;
    if (i < 0)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "%u outputs (one expected)", op->n_out);
    *t = &c->tensors[i];
    return MXU_OK;
}

/* NHWC (4-D) and NC (2-D) shapes become graph dims. */
static int graph_dims(const struct tfl_ctx *c, const struct tfl_op *op, const struct tfl_tensor *t,
                      uint32_t *ndims, uint32_t dims[4])
{
    if (t->ndims != 4 && t->ndims != 2)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "tensor '%s' has %u dimensions (NHWC or "
                           "[batch, features] only)", t->name, t->ndims);
    *ndims = t->ndims;
    for (uint32_t d = 0; d < t->ndims; d++)
        dims[d] = (uint32_t)t->dims[d];
    return MXU_OK;
}

int tfl_value(const struct tfl_ctx *c, const struct tfl_op *op, const struct tfl_tensor *t, int *value)
{
    *value = t->value;
    if (t->value >= 0)
        return MXU_OK;
    if (t->data)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "tensor '%s' is a constant where the op "
                           "reads an activation", t->name);
    return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "reads '%s' (type %u), which is neither an int8 "
                       "graph input nor computed by an earlier imported operator", t->name, t->type);
}

int tfl_define(struct tfl_ctx *c, const struct tfl_op *op, struct tfl_tensor *t, int value)
{
    if (t->data)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "writes the constant tensor '%s'", t->name);
    if (t->value >= 0)
        return tfl_op_fail(c, op, MXU_ERR_FORMAT, "tensor '%s' is written twice", t->name);
    if (t->type != TFL_INT8)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "activation '%s' has type %u (int8 only: "
                           "convert with full-integer quantization)", t->name, t->type);
    if (t->n_scale != 1)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "activation '%s' has %u scales (one per "
                           "tensor expected)", t->name, t->n_scale);
    float scale = fb_vec_f32(&c->b, &t->scale, 0);
    int64_t zp = t->zero_point.count ? fb_vec_i64(&c->b, &t->zero_point, 0) : 0;
    if (!(scale > 0) || scale > 1e30f || zp < -128 || zp > 127)
        return tfl_op_fail(c, op, MXU_ERR_UNSUPPORTED, "activation '%s' has scale %g and zero "
                           "point %lld", t->name, (double)scale, (long long)zp);
    mxu_value *v = &c->g->values[value];
    int rc = graph_dims(c, op, t, &v->ndims, v->dims);
    if (rc)
        return rc;
    v->quant = (struct mxu_quant){1, scale, (int32_t)zp};
    t->value = value;
    return MXU_OK;
}

int tfl_new_input(struct tfl_ctx *c, const struct tfl_op *op, struct tfl_tensor *t)
{
    int v, rc = mxu_graph_add_value(c->g, t->name, 0, NULL, &v);
    if (!rc)
        rc = tfl_define(c, op, t, v);
    if (!rc)
        rc = mxu_graph_add_input(c->g, v);
    return rc;
}

/* ---- graph inputs and outputs -------------------------------------------------------- */

/* A subgraph input that is int8 becomes a graph input; a float one must feed
 * QUANTIZE ops only (their outputs become the graph inputs). */
static int mark_inputs(struct tfl_ctx *c, const struct fb_vec *inputs)
{
    for (uint32_t k = 0; k < inputs->count; k++) {
        int32_t i = fb_vec_i32(&c->b, inputs, k);
        if (i < 0 || (uint32_t)i >= c->n_tensors)
            return FAIL("%s: subgraph input %d of %u tensors", c->name, i, c->n_tensors);
        struct tfl_tensor *t = &c->tensors[i];
        if (t->type == TFL_FLOAT32)
            continue; /* QUANTIZE declares its output */
        struct tfl_op none = {.index = 0, .code = -1};
        int rc = tfl_new_input(c, &none, t);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

static int mark_outputs(struct tfl_ctx *c, const struct fb_vec *outputs)
{
    for (uint32_t k = 0; k < outputs->count; k++) {
        int32_t i = fb_vec_i32(&c->b, outputs, k);
        if (i < 0 || (uint32_t)i >= c->n_tensors)
            return FAIL("%s: subgraph output %d of %u tensors", c->name, i, c->n_tensors);
        struct tfl_tensor *t = &c->tensors[i];
        if (t->value < 0)
            return mxu_fail(MXU_ERR_UNSUPPORTED, "%s: output '%s' is not computed by an int8 "
                            "operator", c->name, t->name);
        int rc = mxu_graph_add_output(c->g, t->value);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

/* ---- the model --------------------------------------------------------------------- */

static int read_subgraph(struct tfl_ctx *c, const struct fb_table *model, struct fb_table *sg)
{
    struct fb_vec subgraphs, tensors;
    uint32_t version;
    int rc = fb_u32(model, 0, 0, &version);
    if (!rc && version != 3)
        rc = FAIL("%s: schema version %u (TFLite files are version 3)", c->name, version);
    if (!rc)
        rc = fb_vector(model, 2, 4, &subgraphs);
    if (!rc && !subgraphs.count)
        rc = FAIL("%s: no subgraph", c->name);
    if (!rc)
        rc = fb_vec_table(&c->b, &subgraphs, 0, sg);
    if (!rc)
        rc = fb_vector(model, 4, 4, &c->buffers);
    if (!rc)
        rc = fb_vector(sg, 0, 4, &tensors);
    if (rc)
        return rc;
    c->n_tensors = tensors.count;
    c->tensors = calloc((size_t)tensors.count + 1, sizeof *c->tensors);
    if (!c->tensors)
        return mxu_fail(MXU_ERR_NOMEM, "%s: %u tensors", c->name, tensors.count);
    for (uint32_t i = 0; rc == MXU_OK && i < tensors.count; i++)
        rc = read_tensor(c, &tensors, i);
    return rc;
}

static int import_model(struct tfl_ctx *c)
{
    struct fb_table model, sg;
    struct fb_vec codes, ops, inputs, outputs;
    int rc = fb_root(&c->b, &model);
    if (!rc)
        rc = read_subgraph(c, &model, &sg);
    if (!rc)
        rc = fb_vector(&model, 1, 4, &codes);
    if (!rc)
        rc = fb_vector(&sg, 3, 4, &ops);
    if (!rc)
        rc = fb_vector(&sg, 1, 4, &inputs);
    if (!rc)
        rc = fb_vector(&sg, 2, 4, &outputs);
    if (!rc && (!inputs.count || !outputs.count || inputs.count > MXU_NODE_MAX_INPUTS ||
                outputs.count > MXU_NODE_MAX_INPUTS))
        rc = mxu_fail(MXU_ERR_UNSUPPORTED, "%s: %u inputs and %u outputs (1 to %d each)", c->name,
                      inputs.count, outputs.count, MXU_NODE_MAX_INPUTS);
    if (!rc)
        rc = mark_inputs(c, &inputs);
    for (uint32_t i = 0; rc == MXU_OK && i < ops.count; i++) {
        struct tfl_op op;
        rc = read_op(c, &ops, &codes, i, &op);
        if (!rc)
            rc = tfl_import_op(c, &op);
    }
    if (!rc)
        rc = mark_outputs(c, &outputs);
    if (!rc && !c->g->n_inputs)
        rc = mxu_fail(MXU_ERR_UNSUPPORTED, "%s: no int8 input (QUANTIZE or an int8 input tensor)",
                      c->name);
    return rc;
}

/* The graph's name: the file name without directories and extension. */
static void graph_name(const char *path, char *out, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, n, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
}

int mxu_tflite_load_buffer(const uint8_t *buf, size_t len, const char *name, mxu_graph **out)
{
    char gname[MXU_GRAPH_NAME_LEN];
    if (!out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_tflite_load_buffer: no output");
    *out = NULL;
    if (!buf && len)
        return mxu_fail(MXU_ERR_INVAL, "mxu_tflite_load_buffer: no buffer");
    struct tfl_ctx c = {.b = {buf, len}, .name = name ? name : "<tflite>"};
    graph_name(c.name, gname, sizeof gname);
    int rc = mxu_graph_new(gname, &c.g);
    if (rc)
        return rc;
    snprintf(c.g->source, sizeof c.g->source, "%s", c.name);
    /* The interpreter's builtin kernels are what a .tflite model is run with. */
    c.g->numerics = MXU_NUMERICS_LITERT_BUILTIN;
    rc = import_model(&c);
    free(c.tensors);
    if (rc) {
        mxu_graph_free(c.g);
        return rc;
    }
    *out = c.g;
    return MXU_OK;
}

int mxu_tflite_load(const char *path, mxu_graph **out)
{
    if (!path || !out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_tflite_load: missing argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mxu_fail(MXU_ERR_IO, "%s: cannot open", path);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = MXU_OK;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *grown = cap <= MAX_FILE_BYTES ? realloc(buf, cap) : NULL;
            if (!grown) {
                rc = cap > MAX_FILE_BYTES ? mxu_fail(MXU_ERR_LIMIT, "%s: larger than 2 GiB", path)
                                          : mxu_fail(MXU_ERR_NOMEM, "%s: reading", path);
                break;
            }
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                rc = mxu_fail(MXU_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (rc == MXU_OK)
        rc = mxu_tflite_load_buffer(buf, len, path, out);
    free(buf);
    return rc;
}
