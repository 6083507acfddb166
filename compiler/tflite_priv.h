/* TFLite frontend internals: a validating FlatBuffers reader for the subset
 * of TFLite's schema (schema.fbs, version 3) the importer needs, and the
 * importer's shared state.
 *
 * No FlatBuffers library: every offset, vtable, vector length and string is
 * checked against the buffer before it is read, in 64-bit arithmetic, so a
 * truncated or hostile file gets MXU_ERR_FORMAT and never a read outside the
 * buffer. Values are read with memcpy (no alignment assumed), little endian. */
#ifndef MXU_TFLITE_PRIV_H
#define MXU_TFLITE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "compiler_core.h"

/* ---- the FlatBuffers reader (tflite_fb.c) --------------------------------------- */

struct fb {
    const uint8_t *buf;
    size_t len;
};

/* A table: its position, its vtable's position and sizes (all checked). */
struct fb_table {
    const struct fb *b;
    uint32_t pos, vtab;
    uint16_t vtab_size, size;
};

/* A vector: the position of element 0 and the element count (bounds checked
 * for count * elem_size bytes). */
struct fb_vec {
    uint32_t pos, count;
};

/* The root table (offset at byte 0); the file identifier is not required. */
int fb_root(const struct fb *b, struct fb_table *t);
/* Is field `id` present? */
int fb_has(const struct fb_table *t, unsigned id);
/* Scalars with their schema defaults; MXU_ERR_FORMAT if the field does not fit
 * inside the table. */
int fb_u8(const struct fb_table *t, unsigned id, uint8_t def, uint8_t *v);
int fb_i32(const struct fb_table *t, unsigned id, int32_t def, int32_t *v);
int fb_u32(const struct fb_table *t, unsigned id, uint32_t def, uint32_t *v);
int fb_u64(const struct fb_table *t, unsigned id, uint64_t def, uint64_t *v);
int fb_f32(const struct fb_table *t, unsigned id, float def, float *v);
/* A sub-table; *present = 0 (and MXU_OK) when the field is absent. */
int fb_sub(const struct fb_table *t, unsigned id, struct fb_table *sub, int *present);
/* A vector of elem_size-byte scalars (or of 4-byte offsets); absent = count 0. */
int fb_vector(const struct fb_table *t, unsigned id, uint32_t elem_size, struct fb_vec *v);
/* Element i of a vector of tables. */
int fb_vec_table(const struct fb *b, const struct fb_vec *v, uint32_t i, struct fb_table *t);
/* Element readers of checked vectors (i < count). */
int32_t fb_vec_i32(const struct fb *b, const struct fb_vec *v, uint32_t i);
int64_t fb_vec_i64(const struct fb *b, const struct fb_vec *v, uint32_t i);
float fb_vec_f32(const struct fb *b, const struct fb_vec *v, uint32_t i);
/* A string copied into out (NUL-terminated, truncated to n - 1 bytes, control
 * characters replaced); absent = "". */
int fb_string(const struct fb_table *t, unsigned id, char *out, size_t n);

/* ---- the importer (tflite_load.c, tflite_ops.c) --------------------------------- */

/* TFLite's TensorType values used here. */
enum { TFL_FLOAT32 = 0, TFL_INT32 = 2, TFL_UINT8 = 3, TFL_INT64 = 4, TFL_INT16 = 7, TFL_INT8 = 9 };
/* BuiltinOperator codes imported. */
enum {
    TFL_OP_ADD = 0,
    TFL_OP_AVERAGE_POOL_2D = 1,
    TFL_OP_CONV_2D = 3,
    TFL_OP_DEPTHWISE_CONV_2D = 4,
    TFL_OP_DEQUANTIZE = 6,
    TFL_OP_FULLY_CONNECTED = 9,
    TFL_OP_LOGISTIC = 14,
    TFL_OP_MAX_POOL_2D = 17,
    TFL_OP_RESHAPE = 22,
    TFL_OP_SOFTMAX = 25,
    TFL_OP_TANH = 28,
    TFL_OP_QUANTIZE = 114,
};

#define TFL_MAX_DIMS 6

/* One tensor of the main subgraph, decoded and checked. */
struct tfl_tensor {
    char name[MXU_GRAPH_NAME_LEN];
    uint8_t type;
    uint32_t ndims;
    int32_t dims[TFL_MAX_DIMS];
    uint64_t elems;
    const uint8_t *data; /* constant data inside the buffer, or NULL */
    uint64_t data_len;
    /* quantization */
    uint32_t n_scale;
    struct fb_vec scale, zero_point; /* float[n_scale], int64[n_scale or 0] */
    int32_t qdim;
    int value;           /* graph value, -1 until created */
};

/* One operator, decoded. */
struct tfl_op {
    uint32_t index;
    int32_t code;                    /* builtin code */
    uint32_t n_in, n_out;
    struct fb_vec in, out;           /* int32 tensor indices */
    int has_options;
    uint8_t options_type;
    struct fb_table options;
};

struct tfl_ctx {
    struct fb b;
    const char *name;    /* file name for messages */
    mxu_graph *g;
    uint32_t n_tensors;
    struct tfl_tensor *tensors;
    struct fb_vec buffers;
};

/* "CONV_2D" for a builtin code; "?" when unknown. */
const char *mxu_tflite_op_name(int32_t code);
/* Fail naming the file and the operator. */
int tfl_op_fail(const struct tfl_ctx *c, const struct tfl_op *op, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Tensor index k of the op's inputs (-1 allowed only if optional). */
int tfl_input(const struct tfl_ctx *c, const struct tfl_op *op, uint32_t k, int optional,
              struct tfl_tensor **t);
int tfl_output(const struct tfl_ctx *c, const struct tfl_op *op, struct tfl_tensor **t);
/* The graph value an operator input reads (an error if nothing computes it). */
int tfl_value(const struct tfl_ctx *c, const struct tfl_op *op, const struct tfl_tensor *t, int *value);
/* Tensor t is graph value `value`: its NHWC/NC dims and int8 quantization. */
int tfl_define(struct tfl_ctx *c, const struct tfl_op *op, struct tfl_tensor *t, int value);
/* A new graph input for the int8 tensor t. */
int tfl_new_input(struct tfl_ctx *c, const struct tfl_op *op, struct tfl_tensor *t);
/* Import one operator into the graph (tflite_ops.c). */
int tfl_import_op(struct tfl_ctx *c, const struct tfl_op *op);

#endif
