/* Shared by the TFLite interpreter comparisons (tests/tflite/): compile a
 * committed .tflite model with mxu, run it on a backend over the reference
 * images that tests/tflite/reference.py saved under $MXU_BUILD/tflite-ref, and
 * count the output bytes that differ from the TFLite interpreter's. */
#ifndef MXU_TFLITE_COMPARE_H
#define MXU_TFLITE_COMPARE_H

#include <stdint.h>

#include "mxu_program.h"

#define TFLITE_MODEL_DIR "models/tflite"

struct tflite_ref {
    char name[64];
    uint32_t images;       /* in the reference files */
    int float_out;
    uint64_t in_bytes, out_bytes; /* per image */
    int8_t *in;            /* [images][in_bytes] */
    int8_t *out[2];        /* opt, ref: [images][out_bytes] */
    float *f32[2];         /* float outputs (float_out models) */
    int8_t *xnn;           /* the default (XNNPACK) interpreter's outputs, if
                              tests/tflite/xnnpack_reference.py made them; else NULL */
};

/* The reference directory, or NULL (after a loud message on stderr and a
 * Criterion skip) when the interpreter could not be installed. */
const char *tflite_ref_dir(void);
/* Load NAME's reference files (asserts). */
void tflite_ref_load(const char *dir, const char *name, struct tflite_ref *r);
void tflite_ref_free(struct tflite_ref *r);
/* Compile models/tflite/NAME.tflite for `arch` (asserts). */
mxu_program *tflite_compile(const char *name, const char *arch);
/* Compile a loaded graph (in place) for `arch`, quantization from the model. */
struct mxu_graph;
mxu_program *tflite_compile_graph(struct mxu_graph *g, const char *arch);

struct tflite_result {
    uint32_t images;
    uint64_t bytes;           /* output bytes compared per interpreter */
    uint64_t mismatch[2];     /* int8 output bytes differing from opt, ref */
    uint64_t f32_mismatch[2]; /* float outputs differing bit for bit */
    uint64_t golden_mismatch; /* images where the device differs from mxu's golden reference */
    uint32_t golden_images;   /* images checked against the golden reference */
    uint32_t top1_agree[2];   /* images whose arg-max output equals the interpreter's */
    uint64_t emu_mismatch;    /* bytes where tflite_emulate_reference differs from ref */
    uint32_t emu_images;      /* the first $MXU_TFLITE_EMULATE images (default 300) */
    uint32_t first_bad_image[2];
    uint64_t xnn_mismatch;    /* bytes differing from r->xnn (when present) */
    uint32_t xnn_top1_agree;
    double seconds;
};

/* Run images [0, count) of r on `uri` (a backend URI), comparing each output
 * with the interpreters' and, for the first `golden` images, with
 * mxu_reference_run (the device must equal mxu's golden kernels); the first
 * $MXU_TFLITE_EMULATE (default 300) images also run tflite_emulate_reference. */
void tflite_run(const mxu_program *p, const char *uri, const struct tflite_ref *r, uint32_t count,
                uint32_t golden, struct tflite_result *res);
/* Run the program's layers on the host (v as mxu_reference_run) as the
 * interpreter's reference kernels compute them (tflite_emulate.c). */
void tflite_emulate_reference(const mxu_program *p, uint8_t *const *v);
/* Images to compare: $MXU_TFLITE_IMAGES if set, else `dflt` (at most r->images). */
uint32_t tflite_image_count(const struct tflite_ref *r, uint32_t dflt);

/* Append line to dir/results.txt (best effort: the summary is informative). */
void tflite_append_result(const char *dir, const char *line);

#endif
