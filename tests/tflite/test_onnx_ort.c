/* mxu against ONNX Runtime (PyPI onnxruntime, tests/tflite/onnx_reference.py):
 * the float Fashion-MNIST models (models/fashion_mnist) compiled by mxu with
 * calibration on training images agree with ONNX Runtime's float top-1, and a
 * QDQ model made by onnxruntime.quantization runs within one output step of
 * ONNX Runtime's int8 execution. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu.h"
#include "mxu_compiler.h"
#include "mxu_dataset.h"
#include "mxu_execute.h"
#include "mxu_numerics.h"
#include "mxu_reference.h"
#include "tflite_compare.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"
#define CLASSES 10

/* The whole file dir/name (asserts); its size in *len. */
static void *read_file(const char *dir, const char *name, uint64_t *len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *v = malloc((size_t)n);
    cr_assert_eq(fread(v, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (uint64_t)n;
    return v;
}

/* ONNX Runtime's float outputs, CLASSES per image; their image count in *count. */
static float *read_f32(const char *dir, const char *name, uint32_t *count)
{
    uint64_t len;
    float *v = read_file(dir, name, &len);
    *count = (uint32_t)(len / (CLASSES * sizeof(float)));
    return v;
}

/* Images to compare: $MXU_TFLITE_IMAGES if set, else dflt; at most count. */
static uint32_t image_count(uint32_t dflt, uint32_t count)
{
    const char *env = getenv("MXU_TFLITE_IMAGES");
    uint32_t n = env ? (uint32_t)atoi(env) : dflt;
    return n < count ? n : count;
}

static mxu_program *compile(const char *path, int calibrate)
{
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_model_load(path, NULL, &g), MXU_OK, "%s", mxu_error_detail());
    struct mxu_compile_options o;
    mxu_compile_options_init(&o);
    o.calib_path = calibrate ? FMNIST "train-images-idx3-ubyte.gz" : NULL;
    o.calib_count = calibrate ? 200 : 1;
    mxu_program *p = NULL;
    cr_assert_eq(mxu_compile(g, &o, &p), MXU_OK, "%s: %s", path, mxu_error_detail());
    mxu_graph_free(g);
    return p;
}

static uint32_t argmax(const float *v)
{
    uint32_t best = 0;
    for (uint32_t k = 1; k < CLASSES; k++)
        best = v[k] > v[best] ? k : best;
    return best;
}

struct run {
    mxu_device *dev;
    uint8_t **v;
    uint32_t in_t, out_t;
};

static void run_open(const mxu_program *p, struct run *r)
{
    r->v = calloc(p->n_tensors, sizeof *r->v);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        r->v[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1);
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            r->in_t = i;
        if (p->tensors[i].role == MXU_ROLE_OUTPUT)
            r->out_t = i;
    }
    cr_assert_eq(mxu_open("model", &r->dev), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_load(r->dev, p), MXU_OK, "%s", mxu_error_detail());
}

static void run_close(const mxu_program *p, struct run *r)
{
    mxu_close(r->dev);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(r->v[i]);
    free(r->v);
}

/* Image i quantized into the input tensor; the int8 output on the C model
 * (equal to the golden reference, checked) in r->v[out_t]. */
static void run_image(const mxu_program *p, struct run *r, const mxu_dataset *d, uint32_t i)
{
    const mxu_tensor *it = &p->tensors[r->in_t];
    uint64_t n = mxu_tensor_bytes(it);
    cr_assert_eq(n, (uint64_t)d->h * d->w);
    for (uint64_t k = 0; k < n; k++)
        r->v[r->in_t][k] = (uint8_t)mxu_quantize_f32((float)d->pixels[i * n + k] / 255.0f, it->scale,
                                                      it->zero_point);
    cr_assert_eq(mxu_tensor_write(r->dev, p, r->in_t, r->v[r->in_t], n), MXU_OK);
    cr_assert_eq(mxu_program_execute(r->dev, p, 0, NULL, NULL), MXU_OK, "%s", mxu_error_detail());
    int8_t got[CLASSES];
    cr_assert_eq(mxu_tensor_read(r->dev, p, r->out_t, got, CLASSES), MXU_OK);
    cr_assert_eq(mxu_reference_run(p, r->v), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(memcmp(got, r->v[r->out_t], CLASSES), 0, "image %u: device differs from golden", i);
}

/* Image i's dequantized int8 output (in r) has ONNX Runtime's float arg-max. */
static int top1_agrees(const mxu_program *p, const struct run *r, const float *ort, uint32_t i)
{
    const mxu_tensor *ot = &p->tensors[r->out_t];
    float deq[CLASSES];
    for (int k = 0; k < CLASSES; k++)
        deq[k] = mxu_dequantize((int8_t)r->v[r->out_t][k], ot->scale, ot->zero_point);
    return argmax(deq) == argmax(ort + (size_t)i * CLASSES);
}

/* One comparison with ONNX Runtime: its float outputs, the test images and
 * the model compiled by mxu, loaded on the C model. */
struct ort_case {
    float *ort;     /* ONNX Runtime's outputs, CLASSES per image */
    uint32_t count; /* images in ort */
    uint32_t n;     /* images compared */
    mxu_dataset *d;
    mxu_program *p;
    struct run r;
};

static void case_open(struct ort_case *c, const char *dir, const char *ort_file, const char *model,
                      int calibrate)
{
    c->ort = read_f32(dir, ort_file, &c->count);
    c->n = image_count(2000, c->count);
    c->d = NULL;
    cr_assert_eq(mxu_dataset_load(FMNIST "t10k-images-idx3-ubyte.gz", c->n, &c->d), MXU_OK);
    c->p = compile(model, calibrate);
    c->r = (struct run){0};
    run_open(c->p, &c->r);
}

static void case_close(struct ort_case *c)
{
    run_close(c->p, &c->r);
    mxu_program_free(c->p);
    mxu_dataset_free(c->d);
    free(c->ort);
}

static void top1_agreement(const char *name)
{
    const char *dir = tflite_ref_dir();
    if (!dir)
        return;
    char file[64], path[200];
    snprintf(file, sizeof file, "ort_%s.f32", name);
    snprintf(path, sizeof path, "models/fashion_mnist/%s.onnx", name);
    struct ort_case c;
    case_open(&c, dir, file, path, 1);
    uint32_t agree = 0;
    for (uint32_t i = 0; i < c.n; i++) {
        run_image(c.p, &c.r, c.d, i);
        agree += top1_agrees(c.p, &c.r, c.ort, i);
    }
    double pct = 100.0 * agree / c.n;
    fprintf(stderr, "onnx %-4s int8 (mxu, calibrated on 200 training images) vs ONNX Runtime float: "
                    "top-1 agreement %.2f%% (%u/%u images)\n", name, pct, agree, c.n);
    char line[300];
    snprintf(line, sizeof line, "onnx %s top-1 agreement with ONNX Runtime float: %.2f%% (%u/%u)\n", name,
             pct, agree, c.n);
    tflite_append_result(dir, line);
    cr_expect_geq(pct, 97.0, "%s: top-1 agreement %.2f%%", name, pct);
    case_close(&c);
}

Test(onnx_ort, cnn_top1_agrees_with_onnxruntime, .timeout = 600) { top1_agreement("cnn"); }
Test(onnx_ort, mlp_top1_agrees_with_onnxruntime, .timeout = 600) { top1_agreement("mlp"); }

/* The QDQ model against ONNX Runtime's execution of it, within one output
 * step (ONNX rounds half to even where TFLite's fixed point rounds half up or
 * away): the first layer's int8 outputs (conv1 + ReLU + max-pool) and the
 * final ones. The model is quantized with reduce_range (7-bit weights): on
 * x86 without VNNI, ONNX Runtime's u8s8 kernels add pairs of products in
 * saturating 16 bits, which full-range weights overflow (mxu then differs by
 * up to 32 steps from ONNX Runtime while it equals the exact integer result
 * of the file's numbers; docs/compiler-tflite.md). */
Test(onnx_ort, qdq_cnn_within_one_step_of_onnxruntime, .timeout = 600)
{
    const char *dir = tflite_ref_dir();
    if (!dir)
        return;
    char path[600];
    snprintf(path, sizeof path, "%s/cnn_qdq.onnx", dir);
    struct ort_case c;
    case_open(&c, dir, "ort_cnn_qdq.f32", path, 0);
    uint64_t pool_len;
    int8_t *pool = read_file(dir, "ort_cnn_qdq_pool1.i8", &pool_len);
    const uint32_t pool_t = c.p->layers[0].output; /* conv1 with its ReLU and max-pool fused */
    const uint64_t per = mxu_tensor_bytes(&c.p->tensors[pool_t]);
    cr_assert_eq(pool_len, (uint64_t)c.count * per, "first-layer reference size");
    const mxu_tensor *ot = &c.p->tensors[c.r.out_t];
    const uint8_t *got = c.r.v[c.r.out_t];
    uint64_t l1[3] = {0}, out[3] = {0}; /* equal, one step, further */
    uint32_t agree = 0;
    for (uint32_t i = 0; i < c.n; i++) {
        run_image(c.p, &c.r, c.d, i);
        for (uint64_t k = 0; k < per; k++) {
            int diff = abs((int8_t)c.r.v[pool_t][k] - pool[(uint64_t)i * per + k]);
            l1[diff > 1 ? 2 : diff]++;
        }
        agree += top1_agrees(c.p, &c.r, c.ort, i);
        for (int k = 0; k < CLASSES; k++) {
            /* ONNX Runtime's output is DequantizeLinear of its int8 output */
            float q = roundf(c.ort[(size_t)i * CLASSES + k] / ot->scale) + (float)ot->zero_point;
            int diff = abs((int8_t)got[k] - (int)q);
            out[diff > 1 ? 2 : diff]++;
        }
    }
    char line[500];
    snprintf(line, sizeof line, "onnx cnn_qdq vs ONNX Runtime (%u images): first layer %llu equal, %llu one "
             "step apart, %llu further; final outputs %llu equal, %llu one step, %llu further; top-1 "
             "agreement %u\n", c.n,
             (unsigned long long)l1[0], (unsigned long long)l1[1], (unsigned long long)l1[2],
             (unsigned long long)out[0], (unsigned long long)out[1], (unsigned long long)out[2], agree);
    fputs(line, stderr);
    tflite_append_result(dir, line);
    cr_expect_eq(l1[2], 0, "%llu first-layer outputs more than one step from ONNX Runtime",
                 (unsigned long long)l1[2]);
    cr_expect_eq(out[2], 0, "%llu outputs more than one step from ONNX Runtime",
                 (unsigned long long)out[2]);
    cr_expect_gt(l1[0], 50 * l1[1], "one-step differences must stay rare (rounding ties)");
    cr_expect_geq(agree * 100ull, c.n * 99ull, "top-1 agreement with ONNX Runtime on %u of %u images",
                  agree, c.n);
    free(pool);
    case_close(&c);
}
