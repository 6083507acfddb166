/* ONNX models end to end: load (make_onnx_models.py's models), compile for the
 * default 16x16 array, run on the C model, and check
 *   - the device's every output byte equals the golden reference run
 *     (mxu_reference_run), and
 *   - the dequantized int8 result is close to the float output numpy computed
 *     for the same input (python3-onnx 1.12 has no reference evaluator):
 *     within a few output quantization steps for pre-quantized models, within
 *     a fraction of the output range (and the same top-1 for classifiers) for
 *     float models calibrated on random inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu.h"
#include "mxu_compiler.h"
#include "mxu_execute.h"
#include "mxu_numerics.h"
#include "mxu_reference.h"

TestSuite(onnx_run, .timeout = 300);

static float *read_floats(const char *name, const char *suffix, size_t *count)
{
    char path[600];
    const char *build = getenv("MXU_BUILD");
    snprintf(path, sizeof path, "%s/onnx-models/%s.%s", build ? build : "build", name, suffix);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    rewind(f);
    float *v = malloc((size_t)n + 4);
    cr_assert_not_null(v);
    cr_assert_eq(fread(v, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *count = (size_t)n / sizeof(float);
    return v;
}

/* ONNX index of element i of an NHWC / NC tensor. */
static size_t onnx_index(const mxu_tensor *t, size_t i)
{
    if (t->ndims != 4)
        return i;
    size_t h = t->dims[1], w = t->dims[2], c = t->dims[3];
    size_t ch = i % c, x = i / c % w, y = i / c / w % h, n = i / c / w / h;
    return ((n * c + ch) * h + y) * w + x;
}

static const mxu_tensor *role_tensor(const mxu_program *p, uint32_t role, uint32_t *index)
{
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].role == role) {
            *index = i;
            return &p->tensors[i];
        }
    cr_assert_fail("no tensor of role %u", role);
    return NULL;
}

struct run_result {
    float max_diff, max_ref, out_scale;
    int top1_ref, top1_got;
    uint32_t host_layers, device_layers;
};

/* Compile `name`, run it on the model with its saved input, check against the
 * golden reference bit for bit and return how far the result is from numpy's. */
static struct run_result run_model(const char *name)
{
    struct run_result r = {0};
    char path[600];
    const char *build = getenv("MXU_BUILD");
    snprintf(path, sizeof path, "%s/onnx-models/%s.onnx", build ? build : "build", name);
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_onnx_load(path, &g), MXU_OK, "%s: %s", name, mxu_error_detail());
    struct mxu_compile_options o;
    mxu_compile_options_init(&o);
    o.seed = 5;
    o.calib_count = 32;
    mxu_program *p = NULL;
    int rc = mxu_compile(g, &o, &p);
    cr_assert_eq(rc, MXU_OK, "compile %s: %s", name, mxu_error_detail());
    mxu_graph_free(g);

    size_t n_in, n_exp;
    float *x = read_floats(name, "input.bin", &n_in);
    float *expected = read_floats(name, "expected.bin", &n_exp);
    uint32_t ti, to;
    const mxu_tensor *tin = role_tensor(p, MXU_ROLE_INPUT, &ti);
    const mxu_tensor *tout = role_tensor(p, MXU_ROLE_OUTPUT, &to);
    cr_assert_eq(mxu_tensor_elems(tin), n_in, "%s: input size", name);
    cr_assert_eq(mxu_tensor_elems(tout), n_exp, "%s: output size", name);

    uint8_t **ref = calloc(p->n_tensors, sizeof *ref);
    cr_assert_not_null(ref);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        ref[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1);
        cr_assert_not_null(ref[i]);
    }
    for (size_t i = 0; i < n_in; i++)
        ((int8_t *)ref[ti])[i] = mxu_quantize_f32(x[onnx_index(tin, i)], tin->scale,
                                                  tin->zero_point);
    cr_assert_eq(mxu_reference_run(p, ref), MXU_OK, "%s reference: %s", name, mxu_error_detail());

    char cfg[400], uri[500];
    mxu_config_format(&p->config, cfg, sizeof cfg);
    snprintf(uri, sizeof uri, "model:%s", cfg);
    mxu_device *dev = NULL;
    cr_assert_eq(mxu_open(uri, &dev), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_load(dev, p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_tensor_write(dev, p, ti, ref[ti], mxu_tensor_bytes(tin)), MXU_OK);
    rc = mxu_program_execute(dev, p, 0, NULL, NULL);
    cr_assert_eq(rc, MXU_OK, "%s execute: %s", name, mxu_error_detail());
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        if (p->tensors[i].role != MXU_ROLE_OUTPUT)
            continue;
        size_t n = mxu_tensor_bytes(&p->tensors[i]);
        uint8_t *got = malloc(n);
        cr_assert_not_null(got);
        cr_assert_eq(mxu_tensor_read(dev, p, i, got, n), MXU_OK);
        for (size_t k = 0; k < n; k++)
            cr_assert_eq(got[k], ref[i][k], "%s: output %s byte %zu: device %d, golden %d", name,
                         p->tensors[i].name, k, (int8_t)got[k], (int8_t)ref[i][k]);
        free(got);
    }
    mxu_close(dev);

    float best_ref = -INFINITY, best_got = -INFINITY;
    for (size_t i = 0; i < n_exp; i++) {
        size_t j = onnx_index(tout, i);
        float got = mxu_dequantize(((int8_t *)ref[to])[i], tout->scale, tout->zero_point);
        r.max_diff = fmaxf(r.max_diff, fabsf(got - expected[j]));
        r.max_ref = fmaxf(r.max_ref, fabsf(expected[j]));
        if (expected[j] > best_ref)
            best_ref = expected[j], r.top1_ref = (int)j;
        if (got > best_got)
            best_got = got, r.top1_got = (int)j;
    }
    r.out_scale = tout->scale;
    for (uint32_t i = 0; i < p->n_layers; i++)
        r.device_layers += p->layers[i].code_count > 0;
    r.host_layers = p->n_layers - r.device_layers;
    cr_log_info("%s: %u device + %u host layers, max |int8 - float| %.4g (output range %.4g, "
                "scale %.4g)", name, r.device_layers, r.host_layers, r.max_diff, r.max_ref,
                r.out_scale);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(ref[i]);
    free(ref);
    free(x);
    free(expected);
    mxu_program_free(p);
    return r;
}

/* Float models: int8 calibrated on random inputs, so a few percent of the range. */
static void float_model(const char *name, float rel_tol)
{
    struct run_result r = run_model(name);
    cr_assert_gt(r.device_layers, 0, "%s runs on the device", name);
    cr_assert_leq(r.max_diff, rel_tol * r.max_ref + 2 * r.out_scale,
                  "%s: int8 differs from float by %g (range %g, output scale %g)", name,
                  r.max_diff, r.max_ref, r.out_scale);
}

/* Pre-quantized models: the quantization is the model's own, so the result is
 * the float reference's int8 value up to requantization rounding. */
static void quantized_model(const char *name, float steps)
{
    struct run_result r = run_model(name);
    cr_assert_leq(r.max_diff, steps * r.out_scale + 1e-6f,
                  "%s: int8 differs from the reference by %g (%g output steps)", name, r.max_diff,
                  r.max_diff / r.out_scale);
}

Test(onnx_run, convolutions)
{
    const char *names[] = {"conv_basic", "conv_stride_dilation", "conv_same_upper",
                           "conv_same_lower", "conv_valid", "conv_group", "conv_depthwise",
                           "external_data", "metadata"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        float_model(names[i], 0.05f);
}

Test(onnx_run, classifier_keeps_top1)
{
    struct run_result r = run_model("conv_relu_pool_gemm");
    cr_assert_eq(r.top1_got, r.top1_ref, "top-1 %d, float %d", r.top1_got, r.top1_ref);
    cr_assert_leq(r.max_diff, 0.05f, "softmax probabilities off by %g", r.max_diff);
    cr_assert_gt(r.host_layers, 0, "softmax runs on the host");
}

Test(onnx_run, fc_pool_add_concat_bn)
{
    const char *names[] = {"reshape_matmul_add", "shape_chain_flatten", "gemm_mlp", "pools", "pool_ceil", "residual_add",
                           "concat3", "batchnorm_model", "clip_attrs_opset6", "softmax_4d"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        float_model(names[i], 0.06f);
}

Test(onnx_run, pre_quantized)
{
    quantized_model("qdq_conv", 1);
    quantized_model("qdq_gemm", 1);
    quantized_model("qlinear_conv", 1);
    quantized_model("qlinear_matmul", 1);
}
