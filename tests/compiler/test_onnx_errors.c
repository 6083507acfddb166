/* ONNX frontend: malformed and hostile models. Every one is refused with a clear
 * status and detail, never a crash (the SAN=1 build checks the memory side),
 * including a few thousand random mutations of the generated test models. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/test_onnx_build.h"
#include "mxu_compiler.h"

TestSuite(onnx_errors, .timeout = 120);

#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *models_dir(void)
{
    static char dir[512];
    const char *build = getenv("MXU_BUILD");
    snprintf(dir, sizeof dir, "%s/onnx-models", build ? build : "build");
    return dir;
}

static uint8_t *read_model(const char *name, size_t *len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.onnx", models_dir(), name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s (make the models with make test)", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_gt(n, 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void buffer_fails(const uint8_t *buf, size_t len, const char *base, int code,
                         const char *needle)
{
    mxu_graph *g = (mxu_graph *)1;
    int rc = mxu_onnx_load_buffer(buf, len, base, &g);
    cr_assert_eq(rc, code, "expected %s, got %d: %s", mxu_strerror(code), rc, mxu_error_detail());
    cr_assert_null(g);
    cr_assert(strstr(mxu_error_detail(), needle), "'%s' not in: %s", needle, mxu_error_detail());
}

static void tob_fails(tob *b, int code, const char *needle)
{
    size_t len;
    const uint8_t *buf = tob_pack(b, &len);
    buffer_fails(buf, len, NULL, code, needle);
}

/* ---- the refused models of make_onnx_models.py ------------------------------------------ */

Test(onnx_errors, generated_bad_models)
{
    const struct {
        const char *name;
        int code;
        const char *needle;
    } cases[] = {
        {"bad_unsupported_op", MXU_ERR_UNSUPPORTED, "'erf_node' (Erf): op type Erf is not supported"},
        {"bad_count_include_pad", MXU_ERR_UNSUPPORTED, "count_include_pad"},
        {"bad_broadcast_add", MXU_ERR_UNSUPPORTED, "(Add): Add of a constant"},
        {"bad_undefined_input", MXU_ERR_FORMAT, "input 'nowhere' is not defined"},
        {"bad_symbolic_dim", MXU_ERR_UNSUPPORTED, "dimension 2 is not a fixed size"},
        {"bad_flatten_output", MXU_ERR_UNSUPPORTED, "flattened in C,H,W order"},
        {"bad_raw_size", MXU_ERR_FORMAT, "raw_data has 212 bytes for 54 FLOAT elements"},
        {"bad_ext_escape", MXU_ERR_FORMAT, "leaves the model's directory"},
        {"bad_ext_absolute", MXU_ERR_FORMAT, "'/etc/passwd' leaves the model's directory"},
        {"bad_ext_range", MXU_ERR_FORMAT, "is outside"},
        {"bad_ext_length", MXU_ERR_FORMAT, "external data length 12"},
        {"bad_ext_missing", MXU_ERR_NOT_FOUND, "no_such_file.bin"},
    };
    char path[600];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.onnx", models_dir(), cases[i].name);
        mxu_graph *g = (mxu_graph *)1;
        int rc = mxu_onnx_load(path, &g);
        cr_assert_eq(rc, cases[i].code, "%s: got %d: %s", cases[i].name, rc, mxu_error_detail());
        cr_assert_null(g);
        cr_assert(strstr(mxu_error_detail(), cases[i].needle), "%s: '%s' not in: %s",
                  cases[i].name, cases[i].needle, mxu_error_detail());
        cr_assert(strstr(mxu_error_detail(), cases[i].name), "the detail names the file");
    }
}

Test(onnx_errors, external_data_from_memory)
{
    size_t len;
    uint8_t *buf = read_model("external_data", &len);
    buffer_fails(buf, len, NULL, MXU_ERR_UNSUPPORTED, "needs the model's directory");
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_onnx_load_buffer(buf, len, models_dir(), &g), MXU_OK, "%s",
                 mxu_error_detail());
    mxu_graph_free(g);
    free(buf);
}

/* ---- files and buffers -------------------------------------------------------------------- */

Test(onnx_errors, arguments_and_files)
{
    mxu_graph *g;
    cr_assert_eq(mxu_onnx_load(NULL, &g), MXU_ERR_INVAL);
    cr_assert_eq(mxu_onnx_load("x.onnx", NULL), MXU_ERR_INVAL);
    cr_assert_eq(mxu_onnx_load_buffer(NULL, 4, NULL, &g), MXU_ERR_INVAL);
    cr_assert_eq(mxu_onnx_load("/nonexistent/model.onnx", &g), MXU_ERR_NOT_FOUND);
    cr_assert(strstr(mxu_error_detail(), "/nonexistent/model.onnx"));
    buffer_fails(NULL, 0, NULL, MXU_ERR_FORMAT, "no graph");
    const uint8_t junk[] = "this is not a protobuf message at all";
    buffer_fails(junk, sizeof junk, NULL, MXU_ERR_FORMAT, "protobuf decoding failed");
    size_t len;
    uint8_t *buf = read_model("conv_relu_pool_gemm", &len);
    for (size_t cut = 1; cut < len; cut += len / 37 + 1) {
        mxu_graph *t = NULL;
        int rc = mxu_onnx_load_buffer(buf, cut, NULL, &t);
        cr_assert_neq(rc, MXU_OK, "a model cut at %zu of %zu bytes loaded", cut, len);
        cr_assert_null(t);
    }
    free(buf);
}

/* Graph -> node -> attribute -> graph -> ... nested `levels` times, built from
 * the innermost message outwards at the end of the buffer. */
static uint8_t *nested(int levels, size_t *len)
{
    size_t cap = (size_t)levels * 20 + 32, pos = cap;
    uint8_t *buf = malloc(cap);
    cr_assert_not_null(buf);
    const uint8_t tags[3] = {(6 << 3) | 2, (5 << 3) | 2, (1 << 3) | 2}; /* g, attribute, node */
    for (int i = 0; i < 3 * levels + 1; i++) {
        uint8_t tag = i == 3 * levels ? (7 << 3) | 2 : tags[i % 3]; /* model.graph last */
        uint8_t v[10];
        size_t h = 0;
        for (size_t n = cap - pos;; n >>= 7) {
            v[h++] = (uint8_t)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
            if (n <= 0x7f)
                break;
        }
        pos -= h;
        memcpy(buf + pos, v, h);
        buf[--pos] = tag;
    }
    *len = cap - pos;
    memmove(buf, buf + pos, *len);
    return buf;
}

Test(onnx_errors, deep_nesting_is_refused_before_decoding)
{
    size_t len;
    uint8_t *buf = nested(5000, &len);
    buffer_fails(buf, len, NULL, MXU_ERR_FORMAT, "nested deeper");
    free(buf);
    buf = nested(3, &len); /* shallow: decodes, then the model is incomplete */
    mxu_graph *g = NULL;
    cr_assert_neq(mxu_onnx_load_buffer(buf, len, NULL, &g), MXU_OK);
    cr_assert(!strstr(mxu_error_detail(), "nested"), "%s", mxu_error_detail());
    free(buf);
}

/* ---- malformed tensors -------------------------------------------------------------------------- */

static tob *relu_after(const char *init_name)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 3, 3});
    tob_node(b, "Conv", "conv", IN("x", init_name), "c");
    tob_node(b, "Relu", "r", IN("c"), "y");
    tob_output(b, "y");
    return b;
}

Test(onnx_errors, tensors)
{
    int32_t big[4] = {1, 2, 300, 4};
    tob *b = relu_after("w");
    tob_init_i32(b, "w", 3, 4, (int64_t[]){1, 4, 1, 1}, big);
    tob_fails(b, MXU_ERR_FORMAT, "value 300 out of INT8 range");
    tob_free(b);

    float w[4] = {0};
    b = relu_after("w");
    Onnx__TensorProto *t = tob_init_typed_f(b, "w", 4, (int64_t[]){1, 2, 1, 1}, w);
    t->n_float_data = 1;
    tob_fails(b, MXU_ERR_FORMAT, "1 values for 2 elements");
    tob_free(b);

    b = relu_after("w");
    t = tob_init_f(b, "w", 4, (int64_t[]){1, 2, 1, 1}, w);
    t->dims[0] = -1;
    tob_fails(b, MXU_ERR_FORMAT, "negative");
    tob_free(b);

    b = relu_after("w");
    t = tob_init_f(b, "w", 4, (int64_t[]){1, 2, 1, 1}, w);
    t->dims[2] = (int64_t)1 << 40;
    t->dims[3] = (int64_t)1 << 40;
    tob_fails(b, MXU_ERR_UNSUPPORTED, "larger than");
    tob_free(b);

    b = relu_after("w");
    t = tob_init_f(b, "w", 4, (int64_t[]){1, 2, 1, 1}, w);
    t->has_data_type = 0;
    tob_fails(b, MXU_ERR_FORMAT, "no data type");
    tob_free(b);

    b = relu_after("w");
    t = tob_init_f(b, "w", 4, (int64_t[]){1, 2, 1, 1}, w);
    t->data_type = 8; /* STRING */
    tob_fails(b, MXU_ERR_UNSUPPORTED, "STRING");
    tob_free(b);

    b = relu_after("w");
    t = tob_init_f(b, "w", 4, (int64_t[]){1, 2, 1, 1}, w);
    t->has_raw_data = 0;
    tob_fails(b, MXU_ERR_FORMAT, "0 values for 2 elements");
    tob_free(b);
}

Test(onnx_errors, typed_and_half_precision_tensors_decode)
{
    /* FLOAT16 weights in int32_data (bit patterns): 1.0, -2.0, 0.5, 65504 */
    int32_t half[4] = {0x3c00, 0xc000, 0x3800, 0x7bff};
    tob *b = relu_after("w");
    tob_init_i32(b, "w", 10, 4, (int64_t[]){2, 2, 1, 1}, half);
    size_t len;
    const uint8_t *buf = tob_pack(b, &len);
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_onnx_load_buffer(buf, len, NULL, &g), MXU_OK, "%s", mxu_error_detail());
    const float *w = g->nodes[0].weights;
    cr_assert(w[0] == 1.0f && w[1] == -2.0f && w[2] == 0.5f && w[3] == 65504.0f, "%g %g %g %g",
              w[0], w[1], w[2], w[3]);
    mxu_graph_free(g);
    tob_free(b);
}

/* ---- malformed graphs ---------------------------------------------------------------------------- */

Test(onnx_errors, graphs)
{
    float w[4] = {0};
    tob *b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_node(b, "Relu", "r1", IN("x"), "y");
    tob_node(b, "Relu", "r2", IN("x"), "y");
    tob_output(b, "y");
    tob_fails(b, MXU_ERR_FORMAT, "node 1 'r2' (Relu): output 'y' is defined twice");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_init_f(b, "w", 1, (int64_t[]){2}, w);
    tob_init_f(b, "w", 1, (int64_t[]){2}, w);
    tob_node(b, "Relu", "r", IN("x"), "y");
    tob_output(b, "y");
    tob_fails(b, MXU_ERR_FORMAT, "initializer 'w' is defined twice");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_node(b, "Relu", "r", IN("x"), "y");
    tob_fails(b, MXU_ERR_FORMAT, "no outputs");
    tob_free(b);

    b = tob_new(13);
    tob_init_f(b, "w", 1, (int64_t[]){2}, w);
    tob_output(b, "w");
    tob_fails(b, MXU_ERR_FORMAT, "no inputs");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_init_f(b, "w", 1, (int64_t[]){2}, w);
    tob_output(b, "w");
    tob_fails(b, MXU_ERR_UNSUPPORTED, "graph output 'w' is a constant");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_output(b, "nothing");
    tob_fails(b, MXU_ERR_FORMAT, "graph output 'nothing' is not computed");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_node(b, "Relu", "r", IN("x"), "y");
    tob_output(b, "y");
    tob_model(b)->opset_import[0]->domain = "ai.onnx.ml";
    tob_fails(b, MXU_ERR_FORMAT, "no opset version");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_node(b, "Relu", "r", IN("x"), NULL);
    tob_output(b, "x");
    tob_fails(b, MXU_ERR_FORMAT, "no outputs");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_output(b, "x");
    tob_fails(b, MXU_ERR_FORMAT, "listed twice");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 1 << 20, 1 << 20, 2});
    tob_output(b, "x");
    tob_fails(b, MXU_ERR_UNSUPPORTED, "too large");
    tob_free(b);
}

/* Outputs nobody reads, many more than the name table's first size. */
Test(onnx_errors, many_unused_outputs)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 2, 2});
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "dead%d", i);
        Onnx__NodeProto *n = tob_node(b, i % 2 ? "Relu" : "MaxPool", name, IN("x"), name);
        if (i % 2 == 0)
            tob_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){1, 1});
    }
    tob_node(b, "Sigmoid", "live", IN("x"), "y");
    tob_output(b, "y");
    size_t len;
    const uint8_t *buf = tob_pack(b, &len);
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_onnx_load_buffer(buf, len, NULL, &g), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(g->n_nodes, 301);
    mxu_graph_free(g);
    tob_free(b);
}

/* ---- random mutations ------------------------------------------------------------------------------ */

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

Test(onnx_errors, mutated_models_never_crash)
{
    const char *names[] = {"conv_relu_pool_gemm", "qdq_conv", "qlinear_conv", "pools",
                           "reshape_matmul_add", "batchnorm_model", "concat3", "metadata"};
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    unsigned loaded = 0, refused = 0;
    for (size_t m = 0; m < sizeof names / sizeof names[0]; m++) {
        size_t len;
        uint8_t *orig = read_model(names[m], &len), *buf = malloc(len);
        cr_assert_not_null(buf);
        for (int iter = 0; iter < 400; iter++) {
            memcpy(buf, orig, len);
            size_t n = len;
            int edits = 1 + (int)(next(&seed) % 4);
            for (int e = 0; e < edits; e++) {
                size_t at = next(&seed) % n;
                switch (next(&seed) % 4) {
                case 0: buf[at] ^= (uint8_t)(1u << (next(&seed) % 8)); break;
                case 1: buf[at] = (uint8_t)next(&seed); break;
                case 2: buf[at] = (uint8_t)(next(&seed) & 1 ? 0xff : 0x00); break;
                default: n = at + 1; break; /* truncate */
                }
            }
            mxu_graph *g = NULL;
            int rc = mxu_onnx_load_buffer(buf, n, NULL, &g);
            cr_assert(rc == MXU_OK || rc == MXU_ERR_FORMAT || rc == MXU_ERR_UNSUPPORTED,
                      "%s mutation %d: status %d (%s)", names[m], iter, rc, mxu_error_detail());
            cr_assert_eq(rc == MXU_OK, g != NULL);
            if (rc == MXU_OK) {
                loaded++;
                /* what loads must also survive shape inference without crashing */
                (void)mxu_graph_infer_shapes(g);
                mxu_graph_free(g);
            } else {
                refused++;
                cr_assert_neq(mxu_error_detail()[0], 0, "a refusal says why");
            }
        }
        free(orig);
        free(buf);
    }
    cr_assert_gt(refused, 100);
    cr_log_info("mutations: %u loaded, %u refused", loaded, refused);
}

Test(onnx_errors, non_finite_parameters)
{
    float w[2] = {1, NAN};
    tob *b = relu_after("w");
    tob_init_f(b, "w", 4, (int64_t[]){1, 2, 1, 1}, w);
    tob_fails(b, MXU_ERR_FORMAT, "weight 1 is nan");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    Onnx__NodeProto *n = tob_node(b, "LeakyRelu", "leaky", IN("x"), "y");
    tob_attr_f(b, n, "alpha", INFINITY);
    tob_output(b, "y");
    tob_fails(b, MXU_ERR_FORMAT, "alpha inf");
    tob_free(b);

    float s[2] = {1, 1}, v[2] = {1, INFINITY};
    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 1, 1});
    tob_init_f(b, "s", 1, (int64_t[]){2}, s);
    tob_init_f(b, "v", 1, (int64_t[]){2}, v);
    tob_node(b, "BatchNormalization", "bn", IN("x", "s", "s", "s", "v"), "y");
    tob_output(b, "y");
    tob_fails(b, MXU_ERR_FORMAT, "input 4 value 1 is inf");
    tob_free(b);
}
