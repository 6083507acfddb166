/* The compiler's network graph: what the frontends (Darknet .cfg, ONNX, TFLite)
 * build, the passes transform (shape inference, batch-norm folding, fusion,
 * quantization) and the back end lowers into an mxu_program.
 *
 * Semantics are float unless a value or node carries quantization (pre-quantized
 * ONNX/TFLite graphs). Layout is NHWC for 4-D values and NC for 2-D values
 * whatever the source format: frontends convert (ONNX's NCHW, Darknet's CHW)
 * at import, including weights (conv filters are stored [cout][kh][kw][cin/groups],
 * FC weights [cout][cin]).
 *
 * Values are numbered 0..n_values-1, nodes 0..n_nodes-1 in a topological order
 * (a node only reads values produced by earlier nodes or graph inputs). */
#ifndef MXU_GRAPH_H
#define MXU_GRAPH_H

#include <stdint.h>

#include "mxu_error.h"

#define MXU_GRAPH_NAME_LEN 64
#define MXU_NODE_MAX_INPUTS 8

enum mxu_node_op {
    MXU_NODE_CONV = 1,     /* conv2d: groups (depthwise = groups == cin), dilation, pads */
    MXU_NODE_FC,           /* fully connected: input [N][cin] or NHWC flattened */
    MXU_NODE_MAXPOOL,      /* kernel, stride, pads; out-of-image taps ignored */
    MXU_NODE_AVGPOOL,      /* kernel, stride, pads; divisor = in-image taps (TFLite) */
    MXU_NODE_GLOBAL_AVGPOOL, /* average over H x W; output N x 1 x 1 x C */
    MXU_NODE_ADD,          /* elementwise, same shapes; fused act allowed */
    MXU_NODE_CONCAT,       /* along channels (NHWC: last axis) */
    MXU_NODE_UPSAMPLE,     /* nearest neighbour, integer factor `scale` on H and W */
    MXU_NODE_SOFTMAX,      /* over channels (last axis) */
    MXU_NODE_ACT,          /* standalone activation `act` */
    MXU_NODE_BATCHNORM,    /* standalone y = gamma * (x - mean) / sqrt(var + eps) + beta */
    MXU_NODE_FLATTEN,      /* NHWC [N][H][W][C] -> NC [N][H*W*C]; data unchanged */
    MXU_NODE_IDENTITY,     /* dropout, no-op reshapes: output = input */
    MXU_NODE_OP_COUNT
};

enum mxu_act_kind {
    MXU_ACT_KIND_NONE = 0, /* linear */
    MXU_ACT_KIND_RELU,
    MXU_ACT_KIND_CLIP,     /* clamp to [lo, hi] (ReLU6 = [0, 6]) */
    MXU_ACT_KIND_LEAKY,    /* x > 0 ? x : alpha * x */
    MXU_ACT_KIND_SIGMOID,
    MXU_ACT_KIND_TANH,
    MXU_ACT_KIND_ELU,      /* x > 0 ? x : alpha * (exp(x) - 1) */
    MXU_ACT_KIND_SWISH,    /* x * sigmoid(x) */
    MXU_ACT_KIND_MISH,     /* x * tanh(softplus(x)) */
};
/* Every kind but NONE/RELU/CLIP is applied by the activation unit's lookup table
 * (any elementwise function of one int8 value is a 256-entry table). */

struct mxu_act {
    enum mxu_act_kind kind;
    float alpha;  /* LEAKY */
    float lo, hi; /* CLIP */
};

/* Batch-normalization statistics (Darknet's batch_normalize, ONNX's
 * BatchNormalization), per channel. Folded into the producing conv/FC by
 * mxu_graph_fold_batchnorm. */
struct mxu_batchnorm {
    float *gamma, *beta, *mean, *var; /* [channels], owned by the node */
    float eps;
};

/* Quantization of a value fixed by the model (pre-quantized graphs); the
 * calibrator chooses it otherwise. */
struct mxu_quant {
    int valid;
    float scale; /* real = scale * (q - zero_point) */
    int32_t zero_point;
};

typedef struct mxu_value {
    char name[MXU_GRAPH_NAME_LEN];
    uint32_t ndims;       /* 4: NHWC, 2: NC; 0 until shape inference */
    uint32_t dims[4];
    struct mxu_quant quant;
    int producer;         /* node index, -1 for a graph input */
} mxu_value;

typedef struct mxu_node {
    char name[MXU_GRAPH_NAME_LEN];
    enum mxu_node_op op;
    uint32_t src_line;    /* .cfg line or ONNX node number, for messages; 0 = unknown */
    uint32_t n_inputs;
    int inputs[MXU_NODE_MAX_INPUTS]; /* value indices */
    int output;                      /* value index */

    /* CONV / FC */
    uint32_t cout, kh, kw, stride_h, stride_w, dil_h, dil_w, groups;
    uint32_t pad_top, pad_left, pad_bottom, pad_right; /* also pools */
    float *weights;       /* conv [cout][kh][kw][cin/groups], FC [cout][cin]; NULL = not
                             given yet (random weights or a .weights file fill it) */
    float *bias;          /* [cout] or NULL */
    /* Pre-quantized weights (ONNX QLinear/QDQ, TFLite): used instead of weights. */
    int8_t *qweights;     /* same layout as weights, symmetric (zero point 0) */
    float *wscale;        /* [cout] per-channel weight scales (per-tensor: repeated) */
    int32_t *qbias;       /* [cout] int32 bias at in_scale * wscale[c], or NULL */
    /* FC whose input was flattened in C,H,W order by the source model (ONNX
     * Flatten of NCHW, Darknet's CHW memory): weights columns are in CHW order
     * and the back end permutes them to NHWC order. */
    int flatten_chw;
    /* Pre-quantized FC with per-tensor weight scales from TFLite: its multiplier
     * is (double)(float)(in_scale * w_scale) / out_scale, the product rounded to
     * float first, as TFLite's GetQuantizedConvolutionMultipler computes it. */
    int fc_float_product;
    struct mxu_batchnorm bn; /* BATCHNORM, or a conv with batch_normalize before folding */
    int has_bn;

    /* Fused after CONV/FC/ADD (and the op of ACT nodes) */
    struct mxu_act act;
    /* Max-pool fused after a conv's activation by the fusion pass (0 = none) */
    uint32_t pool_k, pool_s;

    /* MAXPOOL / AVGPOOL: kernel kh x kw, stride, pads (above) */
    uint32_t scale;       /* UPSAMPLE factor */
} mxu_node;

/* Input preprocessing, from the command line or the model's metadata:
 * x = (pixel * scale - mean[c]) / std[c], channels in `order`. */
struct mxu_preprocess {
    float scale;          /* default 1/255 */
    float mean[4], std[4];/* default 0 and 1 */
    int bgr;              /* 1: the model expects BGR channel order */
};

enum mxu_kernel_numerics {
    /* TFLite's reference kernels (ONNX, Darknet): requantization ties away from
     * zero, fixed-point softmax. */
    MXU_NUMERICS_TFLITE_REFERENCE = 0,
    /* LiteRT's builtin kernels, what its interpreter runs without a delegate
     * (TFLite files): conv/FC ties toward +infinity (MXU_LAYER_F_ROUND_HALF_UP),
     * softmax from a float exp table (MXU_LAYER_F_SOFTMAX_FLOAT_TABLE). */
    MXU_NUMERICS_LITERT_BUILTIN = 1,
};

typedef struct mxu_graph {
    char name[MXU_GRAPH_NAME_LEN];
    char source[256];     /* file the graph came from, for messages */
    uint32_t n_values, n_nodes;
    mxu_value *values;
    mxu_node *nodes;
    uint32_t n_inputs, n_outputs;
    int inputs[MXU_NODE_MAX_INPUTS];  /* value indices */
    int outputs[MXU_NODE_MAX_INPUTS];
    struct mxu_preprocess pre;
    int has_pre;          /* pre came from the model */
    /* From the model's metadata (ONNX "mxu.float_accuracy", "mxu.classes"), for the
     * program's metadata lines float_accuracy= and classes=. */
    float float_accuracy; /* fraction in (0, 1]; 0 = unknown */
    char classes[1024];   /* "name,name,..."; "" = none */
    /* Whose int8 kernels the program must equal where their rounding differs
     * (docs/numerics.md): the lowering sets the layer flags that select them. */
    enum mxu_kernel_numerics numerics;
} mxu_graph;

int mxu_graph_new(const char *name, mxu_graph **out);
void mxu_graph_free(mxu_graph *g);

/* Add a value (dims may be NULL / ndims 0 for "inferred later"); *index receives it. */
int mxu_graph_add_value(mxu_graph *g, const char *name, uint32_t ndims, const uint32_t *dims,
                        int *index);
/* Declare a graph input / output. */
int mxu_graph_add_input(mxu_graph *g, int value);
int mxu_graph_add_output(mxu_graph *g, int value);
/* Add a node with neutral defaults (unit kernel/stride/dilation/groups, no pads,
 * no activation), reading n_inputs values and writing a new value named `name`.
 * The node pointer stays valid until the next add_node. */
int mxu_graph_add_node(mxu_graph *g, enum mxu_node_op op, const char *name, uint32_t src_line,
                       const int *inputs, uint32_t n_inputs, mxu_node **out);
/* Look a value up by name; -1 if absent. */
int mxu_graph_find_value(const mxu_graph *g, const char *name);

const char *mxu_node_op_name(enum mxu_node_op op);
const char *mxu_act_kind_name(enum mxu_act_kind k);

#endif
