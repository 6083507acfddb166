/* Shared pieces of `mxu run` (cmd_run.c: one inference, checking, reports;
 * run_dataset.c: data sets, accuracy, the progress bar). */
#ifndef MXU_TOOL_RUN_H
#define MXU_TOOL_RUN_H

#include <stdint.h>

#include "cli.h"
#include "mxu_execute.h"

struct run_args {
    const char *path, *backend, *arch, *options, *input, *dataset, *labels;
    uint64_t seed, max_cycles, limit, top;
    int check, json, quiet;
};

/* The first difference between the device and the golden reference. */
struct run_mismatch {
    int found;
    uint32_t image, layer;
    char text[320];
};

/* A program loaded on a device, with host copies of its tensors. */
struct run_session {
    const struct run_args *a;
    const mxu_program *p;
    mxu_device *dev;
    uint8_t **values; /* inputs as written; the golden reference's values with --check */
    uint8_t *device_out; /* scratch for one tensor read back */
    uint32_t image;   /* current inference (for mismatch reports) */
    uint32_t output;  /* the tensor top-K / accuracy read: see run_output_tensor */
    struct run_mismatch mismatch;
    uint32_t mismatched_inferences;
    /* accumulated over inferences */
    uint32_t inferences;
    struct mxu_layer_stats *layers;
    mxu_counters total;
    uint64_t macs; /* per inference */
    double host_seconds;
};

int run_session_open(struct run_session *s, const struct run_args *a, const mxu_program *p);
void run_session_close(struct run_session *s);

/* One inference on the inputs in s->values (written to the device first);
 * with --check, the reference beside it and the first mismatch recorded. */
int run_infer(struct run_session *s);

/* The tensor a classifier's scores are read from: the output of the last
 * layer if it is an output tensor, else the last output tensor. */
uint32_t run_output_tensor(const mxu_program *p);

/* Read the output tensor back and rank its classes: idx[0..k) best first
 * (ties: lower index first). scores receives the dequantized values. */
int run_top_k(struct run_session *s, uint32_t k, uint32_t *idx, float *scores);

/* metadata "key=value" lookup: a copy of the value in buf, or NULL. */
const char *run_meta(const mxu_program *p, const char *key, char *buf, size_t len);
/* Name of class i from metadata classes=, or its number. */
const char *run_class_name(const mxu_program *p, uint32_t i, char *buf, size_t len);

/* s as a JSON string (quotes, escapes). */
void run_json_string(const char *s);

/* The per-layer table / JSON array, averaged per inference. */
void run_print_layers(const struct run_session *s);
void run_json_layers(const struct run_session *s);
double run_utilization(const mxu_program *p, uint64_t macs, uint64_t cycles);

/* --dataset: every image through the program; prints the report. Returns a
 * CLI exit code. */
int run_dataset(struct run_session *s);

#endif
