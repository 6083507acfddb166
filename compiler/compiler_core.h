/* Compiler-internal interfaces between the graph helpers, the passes, float
 * execution, calibration, quantization, memory planning and lowering (the
 * pipeline of mxu_compile, docs/compiler.md). Not part of the public API; the
 * tests use it to check each stage on its own. */
#ifndef MXU_COMPILER_CORE_H
#define MXU_COMPILER_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "golden.h"
#include "mxu_compiler.h"

/* ---- graph helpers (graph.c) -------------------------------------------------------- */

/* Elements of a value (0 before shape inference). */
uint64_t mxu_value_elems(const mxu_value *v);
int mxu_graph_is_output(const mxu_graph *g, int value);
int mxu_graph_is_input(const mxu_graph *g, int value);

/* Readers of each value: node indices uses.node[uses.first[v] .. uses.first[v+1]). */
struct mxu_graph_uses {
    uint32_t *first; /* [n_values + 1] */
    uint32_t *node;
};
int mxu_graph_uses_build(const mxu_graph *g, struct mxu_graph_uses *u);
void mxu_graph_uses_free(struct mxu_graph_uses *u);
uint32_t mxu_graph_use_count(const struct mxu_graph_uses *u, int value);

/* Every read of value `from` (node inputs, graph outputs) reads `to` instead. */
void mxu_graph_replace_uses(mxu_graph *g, int from, int to);
/* Remove a node in place (its arrays are freed, its op becomes 0); mxu_graph_compact
 * then drops dead nodes and the values nobody produces, reads or declares. */
void mxu_graph_kill_node(mxu_graph *g, uint32_t node);
int mxu_graph_compact(mxu_graph *g);
/* Insert a node at position pos (later nodes shift by one), reading `inputs`
 * and writing a new value `name`; *out valid until the next insertion. */
int mxu_graph_insert_node(mxu_graph *g, uint32_t pos, enum mxu_node_op op, const char *name,
                          uint32_t src_line, const int *inputs, uint32_t n_inputs, mxu_node **out);
/* Free a node's arrays (weights, biases, pre-quantized data, batch-norm statistics). */
void mxu_node_free_arrays(mxu_node *n);

/* Fail with a detail naming the node: "node 'conv3' (conv, line 42): <message>". */
int mxu_node_fail(int status, const mxu_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Input channels per group of a conv, input features of an FC (from shapes). */
uint32_t mxu_node_cin(const mxu_graph *g, const mxu_node *n);
/* Weights per output channel: kh*kw*cin/groups (conv) or cin (FC). */
uint64_t mxu_node_fan_in(const mxu_graph *g, const mxu_node *n);
/* Is the activation applied by the lookup table (anything but none/relu/clip)? */
int mxu_act_is_lut(enum mxu_act_kind k);
/* The activation in float. */
float mxu_act_apply(const struct mxu_act *a, float x);

/* ---- passes beyond the public ones --------------------------------------------------- */

/* The float meaning of a conv/FC's weights and bias (weights.c): its own
 * arrays, or int8 ones dequantized into temporaries (qweights * wscale; an
 * int32 bias needs the input value's fixed quantization). b may be NULL. */
struct mxu_float_weights {
    const float *w, *b;
    float *tmp_w, *tmp_b;
};
int mxu_node_float_weights(const mxu_graph *g, const mxu_node *n, struct mxu_float_weights *f);
void mxu_float_weights_free(struct mxu_float_weights *f);
/* Reshape the graph for the device's layer set: a LUT activation on an ADD
 * becomes its own ACT node, a CONCAT of k > 2 inputs a chain of two-input
 * concats, a one-input CONCAT an identity. */
int mxu_graph_split_for_lowering(mxu_graph *g);
/* Pieces of mxu_graph_fuse, each a pass of its own. */
int mxu_pass_remove_identities(mxu_graph *g);
int mxu_pass_fc_reads_nhwc(mxu_graph *g);
int mxu_pass_fuse_activations(mxu_graph *g);
int mxu_pass_fuse_maxpool(mxu_graph *g);
int mxu_pass_remove_dead_nodes(mxu_graph *g);
/* Drop FLATTENs that no FC absorbed: a 1x1 map feeding softmax/act/the output. */
int mxu_pass_remove_flatten(mxu_graph *g);
/* Forget the dims of computed values (a pass changed shapes; infer again). */
void mxu_graph_forget_shapes(mxu_graph *g);
/* The NHWC value an FC flattens, looking through FLATTEN/IDENTITY nodes; -1 if
 * its input is NC all the way. */
int mxu_fc_source(const mxu_graph *g, const mxu_node *fc);
/* Every conv/FC has float or int8 weights (with valid scales). */
int mxu_graph_check_weights(const mxu_graph *g);

/* ---- float execution (float_exec.c) ------------------------------------------------- */

struct mxu_float_observer {
    /* every value as it is produced (graph inputs first) */
    void (*value)(void *ctx, int value, const float *data, size_t count);
    /* the conv/FC/ADD result of a node with a lookup-table activation, before it */
    void (*pre_act)(void *ctx, int node, const float *data, size_t count);
    void *ctx;
};

/* Run g in float: inputs[i] holds graph input i (elements of its value);
 * outputs[i] (if outputs is not NULL) receives a malloc'd copy of graph output i.
 * obs may be NULL. */
int mxu_float_run(const mxu_graph *g, const float *const *inputs, float **outputs,
                  const struct mxu_float_observer *obs);
/* Multiply-accumulates of one float run (conv/FC), for calibration budgets. */
uint64_t mxu_graph_macs(const mxu_graph *g);

/* ---- calibration (calibrate.c, calibrate_histogram.c, calibrate_estimate.c) ---------- */

struct mxu_range {
    float lo, hi; /* lo > hi: nothing seen */
};

struct mxu_calibration {
    uint32_t n_values, n_nodes;
    struct mxu_range *value;   /* per value */
    struct mxu_range *pre_act; /* per node: before a lookup-table activation */
    char how[320];             /* metadata "calib=" value: SOURCE:N:METHOD */
};

/* Histogram of one value for the percentile method: 2048 bins over [-R, R),
 * R doubled (bins merged pairwise) whenever a sample falls outside. */
#define MXU_HIST_BINS 2048
struct mxu_histogram {
    float range;   /* R, 0 until the first non-zero sample */
    float min, max;
    uint64_t count;
    uint64_t bins[MXU_HIST_BINS];
};
void mxu_histogram_init(struct mxu_histogram *h);
void mxu_histogram_add(struct mxu_histogram *h, const float *data, size_t n);
/* [lo, hi] keeping `percentile` percent of the samples inside each tail bound. */
struct mxu_range mxu_histogram_range(const struct mxu_histogram *h, float percentile);

int mxu_calibration_alloc(const mxu_graph *g, struct mxu_calibration *c);
void mxu_calibration_free(struct mxu_calibration *c);
/* Float runs over calibration images (o->calib_path) or seeded random inputs. */
int mxu_calibrate(const mxu_graph *g, const struct mxu_compile_options *o,
                  const struct mxu_preprocess *pre, struct mxu_calibration *c);
/* Range estimate without running the graph: per-channel mean and variance
 * propagated through the layers from the preprocessed range of random pixels. */
int mxu_calibrate_estimate(const mxu_graph *g, const struct mxu_preprocess *pre,
                           struct mxu_calibration *c);
/* The range of preprocessed pixels 0..255 over the first `channels` channels. */
struct mxu_range mxu_preprocess_range(const struct mxu_preprocess *pre, uint32_t channels);
/* Random calibration inputs of one float run for graph input `input`: pixels
 * uniform in [0, 255], preprocessed. */
void mxu_random_input(const mxu_graph *g, uint32_t input, const struct mxu_preprocess *pre,
                      uint64_t *rng, float *out);
uint64_t mxu_rng_next(uint64_t *state); /* splitmix64 */
float mxu_rng_uniform(uint64_t *state); /* [0, 1) */

/* ---- quantization (quantize*.c) ----------------------------------------------------- */

struct mxu_qnode {
    int8_t *weights;             /* conv/FC, graph layout (the node's qweights if it has them) */
    int own_weights;
    int32_t *bias, *multiplier, *shift;
    int32_t act_min, act_max;    /* clamp after the zero point */
    int has_lut;
    int8_t lut[256];
    struct mxu_quant pre;        /* LUT input of a fused lookup-table activation */
    int32_t add_params[MXU_ADD_PARAMS_COUNT];
};

struct mxu_qgraph {
    uint32_t n_values, n_nodes;
    struct mxu_quant *value;     /* per value */
    struct mxu_qnode *node;      /* per node */
};

/* Every value's scale and zero point (fixed ones kept; concat, pools and
 * upsample share their input's), then every node's int8 constants. */
int mxu_quantize_graph(const mxu_graph *g, const struct mxu_calibration *c, struct mxu_qgraph *q);
int mxu_quantize_values(const mxu_graph *g, const struct mxu_calibration *c, struct mxu_quant *q);
void mxu_qgraph_free(struct mxu_qgraph *q);
/* Asymmetric int8 quantization of a range (zero included); symmetric (zp 0). */
struct mxu_quant mxu_quant_from_range(struct mxu_range r);
struct mxu_quant mxu_quant_symmetric(struct mxu_range r);
/* The table of activation a from in to out (TFLite's LUTPopulate). */
void mxu_act_lut(int8_t lut[256], const struct mxu_act *a, struct mxu_quant in, struct mxu_quant out);

/* ---- memory planning (memplan.c) ---------------------------------------------------- */

struct mxu_memplan {
    uint32_t n_values;
    uint32_t *offset;     /* per value: byte offset in the arena, MXU_NONE when it has none */
    uint32_t arena_bytes;
    uint32_t naive_bytes; /* what one buffer per value would take (for reports) */
};
#define MXU_MEMPLAN_ALIGN 64u
int mxu_memplan_build(const mxu_graph *g, struct mxu_memplan *m);
void mxu_memplan_free(struct mxu_memplan *m);

/* ---- lowering (lower_graph.c) ------------------------------------------------------- */

int mxu_lower_graph(const mxu_graph *g, const struct mxu_qgraph *q, const struct mxu_memplan *m,
                    const mxu_hw_config *cfg, mxu_program **out);

#endif
