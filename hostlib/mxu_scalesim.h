/* SCALE-Sim interoperation: its weight-stationary cycle formula (printed beside
 * mxu's measured cycles by `mxu bench` and `mxu sweep`), and readers for its
 * topology CSV files and its configuration files, so SCALE-Sim users can bring
 * their workloads and array descriptions (docs/exploration.md).
 *
 * The formula is SCALE-Sim v2's analytical estimate for a weight-stationary
 * R x C array: the layer is a T x K by K x N matrix product (T output pixels,
 * K = kh*kw*cin/groups, N = cout/groups); each of the ceil(K/R) * ceil(N/C)
 * weight folds costs 2R + C + T - 2 cycles (fill the weights, stream T
 * vectors, drain the skew), and groups run one after another. */
#ifndef MXU_SCALESIM_H
#define MXU_SCALESIM_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_layer_program.h"
#include "mxu_program.h"

/* groups * (2R + C + T - 2) * ceil(K/R) * ceil(N/C); 0 if any size is 0. */
uint64_t mxu_scalesim_ws_cycles(uint32_t rows, uint32_t cols, uint64_t t, uint64_t k, uint64_t n,
                                uint32_t groups);

/* The formula for a shape description (the convolution before any fused pool;
 * an FC is T = batch, K = cin, N = cout). 0 for other ops. */
uint64_t mxu_scalesim_desc_cycles(const struct mxu_layer_desc *d, uint32_t rows, uint32_t cols);

/* The formula for layer `index` of a program (conv2d and fc; shapes from its
 * input tensor and record); 0 for every other op. */
uint64_t mxu_scalesim_layer_cycles(const mxu_program *p, uint32_t index, uint32_t rows, uint32_t cols);

/* ---- topology CSV ---------------------------------------------------------------
 * Convolution files: a header line, then one layer per line
 *   Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels,
 *   Num Filter, Strides[, Stride width],
 * (trailing comma optional; blank lines, '#' comment lines and a '#...' field
 * ending a line are ignored). No padding, as in SCALE-Sim. A name containing
 * "DP" is depthwise (SCALE-Sim's convention): groups = Channels, each channel
 * with Num Filter filters. GEMM files ("Layer, M, N, K,") become fully
 * connected layers: batch M, K inputs, N outputs. */
struct mxu_scalesim_topology {
    char name[MXU_NAME_LEN];       /* file name without directory and extension */
    int gemm;                      /* 1: an M, N, K file */
    uint32_t n_layers;
    struct mxu_layer_desc *layers; /* .name points into names[] */
    char (*names)[MXU_NAME_LEN];
    uint32_t *lines;               /* line of each layer in the file (1-based) */
};

/* Parse text (file name `path` used for messages and the topology's name). A
 * malformed file gives MXU_ERR_FORMAT with a detail "PATH:LINE: ..." naming
 * the column and value. */
int mxu_scalesim_topology_parse(const char *text, size_t len, const char *path,
                                struct mxu_scalesim_topology **out);
int mxu_scalesim_topology_read(const char *path, struct mxu_scalesim_topology **out);
void mxu_scalesim_topology_free(struct mxu_scalesim_topology *t);

/* ---- configuration file ---------------------------------------------------------
 * SCALE-Sim's .cfg (INI: [general] run_name; [architecture_presets] ArrayHeight,
 * ArrayWidth, IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB, Dataflow, Bandwidth;
 * [run_presets] InterfaceBandwidth USER|CALC). Keys are case-insensitive; other
 * keys and sections (offsets, banks, sparsity, ...) are accepted and ignored. */
struct mxu_scalesim_config {
    char path[256];
    char run_name[MXU_NAME_LEN];
    uint32_t rows, cols;                   /* ArrayHeight, ArrayWidth */
    uint32_t ifmap_kb, filter_kb, ofmap_kb; /* 0 = not given */
    char dataflow[4];                      /* "ws", "os" or "is" ("" = not given) */
    uint32_t bandwidth;                    /* words/cycle (smallest bank); 0 = CALC or absent */
    /* line of each value in the file, for messages (0 = absent) */
    uint32_t line_rows, line_cols, line_ifmap, line_filter, line_ofmap, line_bandwidth;
};

int mxu_scalesim_config_parse(const char *text, size_t len, const char *path, struct mxu_scalesim_config *out);
int mxu_scalesim_config_read(const char *path, struct mxu_scalesim_config *out);

/* Map a SCALE-Sim configuration onto mxu's (docs/exploration.md):
 *   ArrayHeight x ArrayWidth -> rows x cols
 *   IfmapSramSzkB  -> ub: the unified buffer holding the input feature maps
 *                     (bytes, rounded down to whole lines of max(rows, cols))
 *   FilterSramSzkB -> wb: weight-buffer lines of cols int8 weights
 *   OfmapSramSzkB  -> acc: accumulator rows of cols int32 partial sums
 *   Bandwidth      -> *bw bytes per DRAM cycle (int8 words); a bandwidth above
 *                     the DRAM beat widens the beat to the next power of two.
 * Absent sizes keep cfg's values. Returns MXU_ERR_INVAL with "PATH:LINE: ..."
 * when a value does not give a buildable mxu (e.g. too few weight lines). */
int mxu_scalesim_config_apply(const struct mxu_scalesim_config *s, mxu_hw_config *cfg, uint32_t *bw);

#endif
