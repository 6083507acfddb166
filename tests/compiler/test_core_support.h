/* Helpers of the compiler-core tests: graphs built by hand with the
 * mxu_graph.h API, float runs, and compiled programs run on the C model
 * against the golden reference. Every helper asserts (Criterion) on failure. */
#ifndef MXU_TEST_CORE_SUPPORT_H
#define MXU_TEST_CORE_SUPPORT_H

#include <stdint.h>

#include "compiler_core.h"

/* ---- building graphs ---- */
mxu_graph *tg_new(const char *name);
int tg_input(mxu_graph *g, const char *name, uint32_t n, uint32_t h, uint32_t w, uint32_t c);
int tg_input_nc(mxu_graph *g, const char *name, uint32_t n, uint32_t c);
/* A node reading `inputs`; returns its output value; *node (may be NULL) gets it. */
int tg_node(mxu_graph *g, enum mxu_node_op op, const char *name, const int *inputs, uint32_t n_inputs,
            mxu_node **node);
int tg_conv(mxu_graph *g, int in, const char *name, uint32_t cout, uint32_t k, uint32_t stride,
            uint32_t pad, uint32_t groups);
int tg_fc(mxu_graph *g, int in, const char *name, uint32_t cout);
int tg_pool(mxu_graph *g, int in, const char *name, enum mxu_node_op op, uint32_t k, uint32_t stride,
            uint32_t pad);
int tg_act(mxu_graph *g, int in, const char *name, enum mxu_act_kind kind, float alpha);
int tg_add(mxu_graph *g, int a, int b, const char *name);
void tg_output(mxu_graph *g, int v);
/* Index of the node producing value v. */
mxu_node *tg_producer(mxu_graph *g, int v);
uint32_t tg_count_op(const mxu_graph *g, enum mxu_node_op op);

/* ---- float runs ---- */
/* Preprocessed random pixels for every graph input (malloc'd, one per input). */
void tg_random_inputs(const mxu_graph *g, uint64_t seed, float **in);
void tg_free_inputs(const mxu_graph *g, float **in);
/* Output 0 of a float run (malloc'd); *count its elements. */
float *tg_float_output(const mxu_graph *g, float *const *in, uint64_t *count);
/* max |a - b| */
float tg_max_diff(const float *a, const float *b, uint64_t n);

/* ---- programs ---- */
/* Compile g (in place) for `arch` with random calibration; asserts success. */
mxu_program *tg_compile(mxu_graph *g, const char *arch, uint32_t calib_count);
/* Run p on "model:<arch>" from float inputs (quantized with the input tensors'
 * scales), compare every output byte with mxu_reference_run, and return the
 * dequantized first output (malloc'd) if `dequantized` is not NULL. */
void tg_run_check(const mxu_program *p, const char *arch, float *const *in, float **dequantized);
/* Layers of p that own code (device) / none (host). */
uint32_t tg_device_layers(const mxu_program *p);
uint32_t tg_host_layers(const mxu_program *p);

#endif
