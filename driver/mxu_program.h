/* A program in memory: what a .mxp file holds (mxp.c reads and writes it), what
 * the assembler and the compiler build, what `mxu run` executes and checks. */
#ifndef MXU_PROGRAM_H
#define MXU_PROGRAM_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_isa.h"

#define MXU_NAME_LEN 64
#define MXU_MAX_DIMS 4
#define MXU_NONE 0xFFFFFFFFu /* "no blob offset" / "no tensor" */

enum mxu_dtype { MXU_DTYPE_INT8 = 1, MXU_DTYPE_INT32 = 2 };
enum mxu_layout {
    MXU_LAYOUT_NHWC = 1, /* dims: N, H, W, C */
    MXU_LAYOUT_NC = 2,   /* dims: N, C (fully connected) */
};
enum mxu_role {
    MXU_ROLE_INPUT = 1,      /* the host writes it before a run */
    MXU_ROLE_OUTPUT = 2,     /* the host reads it after a run */
    MXU_ROLE_ACTIVATION = 3, /* intermediate, lives in device DRAM */
};

typedef struct mxu_tensor {
    char name[MXU_NAME_LEN];
    uint32_t role, dtype, layout, ndims;
    uint32_t dims[MXU_MAX_DIMS];
    uint32_t dram_addr; /* dense, row-major in `layout` */
    float scale;        /* real = scale * (q - zero_point) */
    int32_t zero_point;
} mxu_tensor;

/* A layer the program computes, recorded so `--check` can run the golden
 * kernels on the same inputs and so host layers can be computed at all. Arrays
 * live in the program's host blob (never loaded into the device) in logical
 * layout. Ops 6..9 are host-only: the device has no instructions for them. */
enum mxu_layer_op {
    MXU_LAYER_CONV2D = 1,   /* weights [cout][kh][kw][cin/groups] */
    MXU_LAYER_FC = 2,       /* weights [cout][cin]; input NC or NHWC flattened */
    MXU_LAYER_MAXPOOL = 3,  /* int8 max over kh x kw windows */
    MXU_LAYER_AVGPOOL = 4,  /* TFLite int8 average pool */
    MXU_LAYER_ADD = 5,      /* TFLite int8 elementwise add of input and input2 */
    MXU_LAYER_SOFTMAX = 6,  /* TFLite int8 softmax (beta 1) over the last axis;
                               output scale 1/256, zero point -128 */
    MXU_LAYER_CONCAT = 7,   /* input then input2 along the last axis (one quantization) */
    MXU_LAYER_UPSAMPLE = 8, /* nearest neighbour, factor stride_h = stride_w (one quantization) */
    MXU_LAYER_LUT = 9,      /* out = lut[in + 128], elementwise */
    MXU_LAYER_OP_LIMIT = 10,
};
/* Map through the LUT after the clamp. The requantized value then has zero point
 * 0 (the LUT carries the output tensor's zero point) and act_min/act_max clamp it
 * before the lookup. */
#define MXU_LAYER_F_LUT 1u
/* conv2d/fc: the requantization's final shift rounds ties toward +infinity
 * (ACTIVATE's round_half_up; LiteRT's builtin kernels) instead of away from zero
 * (TFLite's reference kernels). */
#define MXU_LAYER_F_ROUND_HALF_UP 2u
/* softmax: LiteRT's builtin kernel, a float table of exp (mxu_golden_softmax_table),
 * instead of TFLite's gemmlowp fixed-point reference. */
#define MXU_LAYER_F_SOFTMAX_FLOAT_TABLE 4u
#define MXU_LAYER_F_ALL (MXU_LAYER_F_LUT | MXU_LAYER_F_ROUND_HALF_UP | MXU_LAYER_F_SOFTMAX_FLOAT_TABLE)

typedef struct mxu_layer {
    char name[MXU_NAME_LEN];
    uint32_t op, flags;
    uint32_t input, input2, output; /* tensor indices; input2 = MXU_NONE unless ADD */
    uint32_t cout;                  /* output channels (conv, fc) */
    uint32_t kh, kw, stride_h, stride_w, dil_h, dil_w, groups;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    int32_t act_min, act_max;   /* clamp after the output zero point */
    uint32_t pool_k, pool_s;    /* fused max-pool after the activation; 0 = none */
    /* host-blob byte offsets, MXU_NONE when absent */
    uint32_t weights;           /* int8, see op */
    uint32_t bias;              /* int32 [cout], TFLite's bias (zero points not folded) */
    uint32_t multiplier, shift; /* int32 [cout] each: requantization per channel */
    uint32_t lut;               /* int8 [256], index = value + 128 */
    uint32_t add_params;        /* int32 [MXU_ADD_PARAMS_COUNT] for ADD: see golden.h */
    /* The layer's instructions: [code_first, code_first + code_count) of the
     * code, the last one a FINISH. code_count == 0: computed on the host (see
     * mxu_layer_on_host), or part of a program without ranges. */
    uint32_t code_first, code_count;
} mxu_layer;

/* Bytes loaded into device DRAM before a run (code is one of them). */
typedef struct mxu_segment {
    char name[MXU_NAME_LEN];
    uint32_t dram_addr, bytes;
    uint8_t *data;
} mxu_segment;

typedef struct mxu_program {
    mxu_hw_config config; /* the hardware the code was built for */
    uint32_t code_addr;   /* DRAM byte address of the command stream */
    uint32_t n_insns;
    uint64_t (*insns)[MXU_INSN_WORDS];
    uint32_t n_segments;
    mxu_segment *segments;
    uint32_t n_tensors;
    mxu_tensor *tensors;
    uint32_t n_layers;
    mxu_layer *layers;
    uint32_t host_blob_bytes;
    uint8_t *host_blob;
    uint32_t dram_used; /* one past the highest DRAM byte the program touches */
    char *metadata;     /* "key=value\n" lines, NUL-terminated; may be NULL */
} mxu_program;

/* Allocation helpers (mxp.c). All return MXU_OK or a negative mxu_status. */
int mxu_program_new(mxu_program **out);
void mxu_program_free(mxu_program *p);
int mxu_program_add_insn(mxu_program *p, const uint64_t insn[MXU_INSN_WORDS]);
int mxu_program_add_segment(mxu_program *p, const char *name, uint32_t dram_addr,
                            const void *data, uint32_t bytes);
int mxu_program_add_tensor(mxu_program *p, const mxu_tensor *t, uint32_t *index);
int mxu_program_add_layer(mxu_program *p, const mxu_layer *l);
/* A layer record with neutral defaults: unit kernel, stride, dilation and
 * groups, full int8 clamp, no arrays, input 0 and output 1, no code range. */
void mxu_layer_init(mxu_layer *l, const char *name, uint32_t op);
/* "conv2d", "fc", ..., "softmax"; "?" for an unknown op. */
const char *mxu_layer_op_name(uint32_t op);
/* Ops the device has no instructions for (softmax, concat, upsample, lut). */
int mxu_layer_op_host_only(uint32_t op);
/* 1 when some layer owns a code range (a compiled network). */
int mxu_program_has_ranges(const mxu_program *p);
/* 1 when layer `index` is computed on the host by its golden kernel: it owns
 * no code and either the program has ranges, or its op is host-only, or the
 * code is nothing but one FINISH. Otherwise the device computes it (its own
 * range, or the whole code of a program without ranges). */
int mxu_layer_on_host(const mxu_program *p, uint32_t index);
/* Append bytes to the host blob (aligned to 4); *offset receives their offset. */
int mxu_program_add_blob(mxu_program *p, const void *data, uint32_t bytes, uint32_t *offset);
int mxu_program_find_tensor(const mxu_program *p, const char *name, uint32_t *index);
size_t mxu_dtype_size(uint32_t dtype);
uint64_t mxu_tensor_elems(const mxu_tensor *t);

/* .mxp files (format 2): see docs/program-format.md. The reader validates every
 * field and every cross-reference; a truncated, corrupted or hostile file gets
 * MXU_ERR_FORMAT with a detail naming the section and offset. A format-1 file
 * is refused with a message saying so. */
/* The .mxp reader's checks of one layer record (shapes, tensor references,
 * host-blob arrays, quantization of host ops), for tools that build programs
 * record by record. Code ranges are checked with the whole program
 * (mxu_program_serialize / _parse), since the code may come later. Returns
 * MXU_OK or MXU_ERR_INVAL with a detail naming the layer. (Implemented in mxp.c.) */
int mxu_program_check_layer(const mxu_program *p, uint32_t index);

int mxu_program_write(const mxu_program *p, const char *path);
int mxu_program_read(const char *path, mxu_program **out);
int mxu_program_serialize(const mxu_program *p, uint8_t **buf, size_t *len);
int mxu_program_parse(const uint8_t *buf, size_t len, mxu_program **out);

#endif
