/* Internals of the ONNX frontend (compiler/onnx_*.c).
 *
 * The importer walks the ONNX graph once, in its (topological) node order, and
 * keeps a symbol table from ONNX tensor names to what they are for mxu:
 *   - a constant (initializer, Constant node, or a quantized constant made by
 *     DequantizeLinear/QuantizeLinear of a constant), decoded on first use;
 *   - a graph value (mxu_graph value index) with its ONNX shape (NCHW / NC),
 *     tracked here because ceil_mode, auto_pad and Reshape need sizes at import;
 *     the graph's own values keep ndims 0 (except graph inputs) for
 *     mxu_graph_infer_shapes.
 * Quantized activations (QDQ, QLinear*) are not separate values: QuantizeLinear
 * annotates the value's quantization and names it in the "int8 domain",
 * DequantizeLinear names the same value back in the float domain. */
#ifndef MXU_ONNX_PRIV_H
#define MXU_ONNX_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_graph.h"
#include "onnx.pb-c.h"

#define ONNX_MAX_DIMS 8
/* Largest tensor the importer decodes (elements); bigger ones are unsupported. */
#define ONNX_MAX_ELEMS ((size_t)1 << 28)
/* Largest activation dimension / element count accepted from shapes. */
#define ONNX_MAX_DIM 1048576u
#define ONNX_MAX_VALUE_ELEMS ((uint64_t)1 << 30)
/* Deepest message nesting accepted before protobuf-c unpacks (its recursion
 * has no limit of its own). */
#define ONNX_MAX_NESTING 48

/* ONNX TensorProto.DataType numbers used here. */
enum onnx_dtype {
    ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT8 = 3, ONNX_UINT16 = 4, ONNX_INT16 = 5,
    ONNX_INT32 = 6, ONNX_INT64 = 7, ONNX_BOOL = 9, ONNX_FLOAT16 = 10, ONNX_DOUBLE = 11,
};

/* A decoded constant. Exactly one of f / i32 / i64 holds the stored elements
 * (by elem); a quantized constant also has f (its dequantized values). */
struct onnx_const {
    int32_t elem;                    /* enum onnx_dtype of the stored elements */
    uint32_t ndims;
    int64_t dims[ONNX_MAX_DIMS];
    size_t count;
    float *f;                        /* FLOAT, DOUBLE; dequantized values */
    int32_t *i32;                    /* INT8, UINT8, INT16, UINT16, INT32, BOOL */
    int64_t *i64;                    /* INT64 */
    /* Quantized constant: real = scale[k] * (i32 - zp[k]), k along `axis`
     * (n_scale == 1: per tensor). */
    int quantized;
    uint32_t n_scale;
    int axis;
    float *scale;
    int32_t *zp;
};

enum onnx_sym_kind { ONNX_SYM_NONE = 0, ONNX_SYM_CONST, ONNX_SYM_VALUE };

struct onnx_sym {
    const char *name;                /* key (points into the unpacked model) */
    enum onnx_sym_kind kind;
    uint32_t uses;                   /* readers: node inputs + graph outputs */
    /* ONNX_SYM_CONST */
    const Onnx__TensorProto *tensor; /* undecoded source, or NULL */
    struct onnx_const *c;            /* decoded (owned by the context) */
    /* ONNX_SYM_VALUE */
    int value;                       /* mxu value index */
    uint32_t ndims;                  /* ONNX rank: 4 (NCHW) or 2 (NC) */
    uint32_t shape[4];               /* ONNX order */
    int qdomain;                     /* the ONNX tensor is the int8/uint8 form */
    int chw_flat;                    /* 2-D, flattened from NCHW with C > 1 and H*W > 1:
                                        element order differs from mxu's NHWC flatten */
    int foldable_node;               /* conv/FC node whose bias may absorb an Add, or -1 */
};

struct onnx_symtab {
    struct onnx_sym *slots;
    size_t cap, used;
};

struct onnx_ctx {
    mxu_graph *g;
    const Onnx__ModelProto *model;
    const Onnx__GraphProto *graph;
    const char *base_dir;            /* external data; NULL = refused */
    const char *source;              /* file name for messages */
    int64_t opset;                   /* default-domain opset version */
    struct onnx_symtab syms;
    struct onnx_const **consts;      /* every decoded constant, freed at the end */
    size_t n_consts, cap_consts;
    /* The node being imported (messages). */
    const Onnx__NodeProto *node;
    uint32_t node_index;
};

/* ---- onnx_util.c ---------------------------------------------------------------- */

/* Fail naming the file and the current node: "model.onnx: node 3 'conv1' (Conv): ...". */
int onnx_fail(struct onnx_ctx *ctx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int onnx_symtab_init(struct onnx_symtab *t, size_t expected);
void onnx_symtab_free(struct onnx_symtab *t);
/* Find or (create != 0) insert; NULL when absent / out of memory. */
struct onnx_sym *onnx_sym_get(struct onnx_symtab *t, const char *name, int create);

/* Attributes of the current node. Absent: the default, MXU_OK. Wrong type:
 * MXU_ERR_FORMAT. */
const Onnx__AttributeProto *onnx_attr(const Onnx__NodeProto *n, const char *name);
int onnx_attr_int(struct onnx_ctx *ctx, const char *name, int64_t def, int64_t *out);
int onnx_attr_float(struct onnx_ctx *ctx, const char *name, float def, float *out);
/* Up to max ints into out; *n receives the count (0 when absent). */
int onnx_attr_ints(struct onnx_ctx *ctx, const char *name, int64_t *out, uint32_t max, uint32_t *n);
/* String attribute into buf (truncated), def when absent. */
int onnx_attr_string(struct onnx_ctx *ctx, const char *name, const char *def, char *buf, size_t len);

/* Input i of the current node: its symbol, or NULL when absent / empty name. */
struct onnx_sym *onnx_input(struct onnx_ctx *ctx, uint32_t i);
/* Input i, required to be a value: float domain and not chw_flat unless flags allow. */
#define ONNX_IN_QDOMAIN 1 /* an int8 tensor is fine */
#define ONNX_IN_FLAT 2    /* a chw_flat tensor is fine */
int onnx_input_value(struct onnx_ctx *ctx, uint32_t i, int flags, struct onnx_sym **out);
/* Input i, required to be a constant (decoded). */
int onnx_input_const(struct onnx_ctx *ctx, uint32_t i, struct onnx_const **out);
/* Same, optional: *out = NULL when the input is absent. */
int onnx_input_const_opt(struct onnx_ctx *ctx, uint32_t i, struct onnx_const **out);
/* The symbol for output i of the current node (created), or an error when the
 * name is empty / already defined. */
int onnx_output(struct onnx_ctx *ctx, uint32_t i, struct onnx_sym **out);
/* Define output i as the constant c (folded at import). */
int onnx_output_const(struct onnx_ctx *ctx, uint32_t i, struct onnx_const *c);
/* Nonzero when output i exists and is read by someone. */
int onnx_output_used(struct onnx_ctx *ctx, uint32_t i);

/* Add a graph node for the current ONNX node writing output 0, as value sym
 * with ONNX shape (ndims, shape). Node name: the ONNX node name, else the output name. */
int onnx_add_node(struct onnx_ctx *ctx, enum mxu_node_op op, const int *inputs, uint32_t n_inputs,
                  uint32_t ndims, const uint32_t *shape, mxu_node **node, struct onnx_sym **sym);
/* Make `out` name the same value as `in` (identity-like ops). */
void onnx_alias(struct onnx_sym *out, const struct onnx_sym *in);
/* A unique graph name derived from s (at most MXU_GRAPH_NAME_LEN - 1 bytes). */
void onnx_graph_name(const mxu_graph *g, const char *s, char *buf);

/* ---- onnx_tensor.c --------------------------------------------------------------- */

/* Decode a TensorProto (raw_data, typed fields or external data). */
int onnx_const_decode(struct onnx_ctx *ctx, const Onnx__TensorProto *t, const char *what,
                      struct onnx_const **out);
/* A new empty constant owned by ctx (count elements of elem, arrays allocated). */
int onnx_const_new(struct onnx_ctx *ctx, int32_t elem, uint32_t ndims, const int64_t *dims,
                   struct onnx_const **out);
void onnx_const_free(struct onnx_const *c);
/* Element k as float / as int64 (any stored type). */
float onnx_const_f(const struct onnx_const *c, size_t k);
int64_t onnx_const_i(const struct onnx_const *c, size_t k);
/* Resolve a symbol's constant, decoding it on first use. */
int onnx_sym_const(struct onnx_ctx *ctx, struct onnx_sym *s, struct onnx_const **out);
const char *onnx_dtype_name(int32_t t);

/* ---- onnx_ops.c / onnx_quant.c / onnx_shape.c ---------------------------------------------------- */

typedef int (*onnx_op_fn)(struct onnx_ctx *ctx);
/* An op table: op_type -> handler. */
struct onnx_op_entry {
    const char *op;
    onnx_op_fn fn;
};
/* The handler of op_type in table[0..n), NULL if it is not there. */
onnx_op_fn onnx_op_lookup(const struct onnx_op_entry *table, size_t n, const char *op_type);
onnx_op_fn onnx_find_op(const char *op_type);
onnx_op_fn onnx_find_quant_op(const char *op_type);
/* onnx_shape.c: Shape, Gather, Unsqueeze, Squeeze, Cast on constants. */
onnx_op_fn onnx_find_shape_op(const char *op_type);
/* Concat whose inputs are all constant integer vectors. */
int onnx_concat_consts(struct onnx_ctx *ctx);

/* Conv / QLinearConv body (no bias): x value, weight constant [cout][cin/g][kh][kw]
 * (quantized or not); attributes from the current node. */
int onnx_build_conv(struct onnx_ctx *ctx, struct onnx_sym *x, const struct onnx_const *w,
                    mxu_node **node, struct onnx_sym **y);
/* FC from a 2-D value and a constant weight matrix stored [cin][cout]
 * (transposed = 0) or [cout][cin] (transposed = 1), times alpha. */
int onnx_build_fc(struct onnx_ctx *ctx, struct onnx_sym *x, const struct onnx_const *w,
                  int transposed, float alpha, mxu_node **node, struct onnx_sym **y);
/* Set a conv/FC node's bias from a constant broadcast over cout channels, times beta. */
int onnx_set_bias(struct onnx_ctx *ctx, mxu_node *n, const struct onnx_const *b, float beta);
/* Quantized bias: b is INT32 at scale in_scale * wscale[c] (checked). */
int onnx_set_qbias(struct onnx_ctx *ctx, mxu_node *n, const struct onnx_const *b, float in_scale);
/* Annotate value sym with quantization (scale, zero point of type elem); uint8
 * becomes int8 by zp - 128. Conflicting annotations are unsupported. */
int onnx_quantize_value(struct onnx_ctx *ctx, struct onnx_sym *s, float scale, int64_t zp,
                        int32_t elem);
/* A scalar quantization parameter pair from inputs (scale_i, zp_i; zp optional). */
int onnx_qparams(struct onnx_ctx *ctx, uint32_t scale_i, uint32_t zp_i, float *scale, int64_t *zp,
                 int32_t *elem);

#endif
