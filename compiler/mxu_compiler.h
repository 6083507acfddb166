/* The mxu compiler: real network descriptions in, an mxu_program out.
 *
 *   mxu_graph *g;
 *   rc = mxu_model_load("alexnet.cfg", NULL, &g);        // frontend by extension
 *   struct mxu_compile_options o;
 *   mxu_compile_options_init(&o);                         // 16x16 defaults, pixels/255
 *   o.random_weights = 1; o.seed = 1;
 *   rc = mxu_compile(g, &o, &prog);                       // passes, calibration, lowering
 *
 * Every function returns MXU_OK or a negative mxu_status with a detail
 * (mxu_error_detail()) naming the file, the layer and, for .cfg, the line. */
#ifndef MXU_COMPILER_H
#define MXU_COMPILER_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_graph.h"
#include "mxu_program.h"

/* ---- frontends ------------------------------------------------------------------ */

/* Darknet .cfg (and, if weights_path is not NULL, its .weights file). Without
 * weights the conv/FC nodes have weights == NULL. */
int mxu_darknet_load(const char *cfg_path, const char *weights_path, mxu_graph **out);
/* ONNX ModelProto (weights in raw_data, typed fields or external data files
 * next to the model). */
int mxu_onnx_load(const char *path, mxu_graph **out);
/* Same, from memory (fuzzing, tests); base_dir resolves external data (may be NULL). */
int mxu_onnx_load_buffer(const uint8_t *buf, size_t len, const char *base_dir, mxu_graph **out);
/* TFLite flatbuffer (.tflite, schema 3) with int8 full-integer quantization:
 * quantization taken as stored (no calibration needed); QUANTIZE/DEQUANTIZE
 * at the edges make the program's int8 inputs/outputs. name is used in
 * messages (may be NULL). */
int mxu_tflite_load(const char *path, mxu_graph **out);
int mxu_tflite_load_buffer(const uint8_t *buf, size_t len, const char *name, mxu_graph **out);
int mxu_darknet_load_buffer(const char *cfg_text, size_t len, const char *name, mxu_graph **out);
/* By extension: .cfg -> Darknet, .onnx -> ONNX, .tflite -> TFLite. */
int mxu_model_load(const char *path, const char *weights_path, mxu_graph **out);

/* ---- passes (run by mxu_compile, exposed for tests) ------------------------------ */

int mxu_graph_infer_shapes(mxu_graph *g);   /* every value's dims; checks every node */
int mxu_graph_fold_batchnorm(mxu_graph *g); /* BN into the producing conv/FC */
int mxu_graph_fuse(mxu_graph *g);           /* conv + act + maxpool, identities removed */
/* Fill absent weights/biases/BN with seeded random values (architecture studies). */
int mxu_graph_random_weights(mxu_graph *g, uint64_t seed);

/* ---- calibration and compilation ----------------------------------------------- */

enum mxu_calib_method { MXU_CALIB_MINMAX = 0, MXU_CALIB_PERCENTILE = 1 };

struct mxu_compile_options {
    mxu_hw_config config;        /* target hardware (default: the ISA's defaults) */
    int random_weights;          /* fill absent weights from seed */
    uint64_t seed;               /* also seeds random calibration inputs */
    const char *calib_path;      /* IDX (.gz or not), PGM/PPM file or directory; NULL =
                                    random inputs from seed */
    uint32_t calib_count;        /* images used (0 = 100) */
    enum mxu_calib_method calib_method;
    float percentile;            /* MXU_CALIB_PERCENTILE: e.g. 99.99 */
    struct mxu_preprocess pre;   /* used unless the model carries its own and
                                    pre_override is 0 */
    int pre_override;
};

void mxu_compile_options_init(struct mxu_compile_options *o);
/* Shape inference, folding, fusion, calibration, quantization, memory planning,
 * lowering through hostlib's tiler. The graph is transformed in place. */
int mxu_compile(mxu_graph *g, const struct mxu_compile_options *o, mxu_program **out);

#endif
