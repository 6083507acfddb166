/* ONNX frontend: graph structure and weight conversion of imported models, built
 * here in C (test_onnx_build.h) or by tests/models/make_onnx_models.py. */
#include <criterion/criterion.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/test_onnx_build.h"
#include "compiler_core.h"
#include "mxu_compiler.h"

TestSuite(onnx, .timeout = 60);

/* ---- helpers ------------------------------------------------------------------------- */

static int load(tob *b, mxu_graph **g)
{
    size_t len;
    const uint8_t *buf = tob_pack(b, &len);
    return mxu_onnx_load_buffer(buf, len, NULL, g);
}

static mxu_graph *load_ok(tob *b)
{
    mxu_graph *g = NULL;
    int rc = load(b, &g);
    cr_assert_eq(rc, MXU_OK, "load: %s", mxu_error_detail());
    cr_assert_not_null(g);
    return g;
}

static void load_fails(tob *b, int code, const char *needle)
{
    mxu_graph *g = (mxu_graph *)1;
    int rc = load(b, &g);
    cr_assert_eq(rc, code, "expected %s, got %d: %s", mxu_strerror(code), rc, mxu_error_detail());
    cr_assert_null(g);
    cr_assert(strstr(mxu_error_detail(), needle), "'%s' not in: %s", needle, mxu_error_detail());
}

static const char *model_path(const char *name)
{
    static char path[600];
    const char *build = getenv("MXU_BUILD");
    snprintf(path, sizeof path, "%s/onnx-models/%s.onnx", build ? build : "build", name);
    return path;
}

static mxu_graph *load_file_ok(const char *name)
{
    mxu_graph *g = NULL;
    int rc = mxu_onnx_load(model_path(name), &g);
    cr_assert_eq(rc, MXU_OK, "%s: %s", name, mxu_error_detail());
    return g;
}

static const mxu_node *only_node(const mxu_graph *g, enum mxu_node_op op)
{
    const mxu_node *found = NULL;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == op) {
            cr_assert_null(found, "two %s nodes", mxu_node_op_name(op));
            found = &g->nodes[i];
        }
    cr_assert_not_null(found, "no %s node", mxu_node_op_name(op));
    return found;
}

static float *pattern(size_t n)
{
    float *p = malloc(n * sizeof *p);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = tob_pattern(i);
    return p;
}

#define IN(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- Conv ------------------------------------------------------------------------------ */

Test(onnx, conv_weights_become_ohwi_with_every_attribute)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 4, 5, 6});
    float *w = pattern(6 * 2 * 2 * 3), bias[6] = {1, 2, 3, 4, 5, 6};
    tob_init_f(b, "w", 4, (int64_t[]){6, 2, 2, 3}, w);
    tob_init_typed_f(b, "b", 1, (int64_t[]){6}, bias);
    Onnx__NodeProto *n = tob_node(b, "Conv", "conv", IN("x", "w", "b"), "y");
    tob_attr_i(b, n, "group", 2);
    tob_attr_ints(b, n, "strides", 2, (int64_t[]){2, 1});
    tob_attr_ints(b, n, "pads", 4, (int64_t[]){1, 0, 0, 2});
    tob_attr_ints(b, n, "dilations", 2, (int64_t[]){1, 2});
    tob_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){2, 3});
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);

    cr_assert_eq(g->n_inputs, 1);
    const mxu_value *in = &g->values[g->inputs[0]];
    cr_assert_eq(in->ndims, 4);
    cr_assert(in->dims[0] == 1 && in->dims[1] == 5 && in->dims[2] == 6 && in->dims[3] == 4,
              "input NHWC: %u %u %u %u", in->dims[0], in->dims[1], in->dims[2], in->dims[3]);
    const mxu_node *c = only_node(g, MXU_NODE_CONV);
    cr_assert_eq(c->cout, 6);
    cr_assert_eq(c->groups, 2);
    cr_assert(c->kh == 2 && c->kw == 3);
    cr_assert(c->stride_h == 2 && c->stride_w == 1);
    cr_assert(c->dil_h == 1 && c->dil_w == 2);
    cr_assert(c->pad_top == 1 && c->pad_left == 0 && c->pad_bottom == 0 && c->pad_right == 2);
    cr_assert_eq(c->src_line, 1, "ONNX node 0 is src_line 1");
    cr_assert_null(c->qweights);
    for (int m = 0; m < 6; m++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int ch = 0; ch < 2; ch++)
                    cr_assert_eq(c->weights[((m * 2 + i) * 3 + j) * 2 + ch],
                                 w[((m * 2 + ch) * 2 + i) * 3 + j], "w[%d][%d][%d][%d]", m, i, j, ch);
    for (int m = 0; m < 6; m++)
        cr_assert_eq(c->bias[m], bias[m]);
    cr_assert_eq(g->n_outputs, 1);
    cr_assert_eq(g->outputs[0], c->output);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
    const mxu_value *out = &g->values[c->output];
    /* H: (5 + 1 - 2) / 2 + 1 = 3; W: (6 + 2 - 5) / 1 + 1 = 4 */
    cr_assert(out->dims[1] == 3 && out->dims[2] == 4 && out->dims[3] == 6, "%u %u %u",
              out->dims[1], out->dims[2], out->dims[3]);
    mxu_graph_free(g);
    free(w);
    tob_free(b);
}

static void auto_pad_case(const char *mode, uint32_t top, uint32_t bottom, uint32_t left,
                          uint32_t right)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 1, 7, 6});
    float *w = pattern(4 * 3);
    tob_init_f(b, "w", 4, (int64_t[]){1, 1, 4, 3}, w);
    Onnx__NodeProto *n = tob_node(b, "Conv", "conv", IN("x", "w"), "y");
    tob_attr_s(b, n, "auto_pad", mode);
    tob_attr_ints(b, n, "strides", 2, (int64_t[]){2, 2});
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    const mxu_node *c = only_node(g, MXU_NODE_CONV);
    cr_assert(c->pad_top == top && c->pad_bottom == bottom && c->pad_left == left &&
              c->pad_right == right, "%s: pads t%u b%u l%u r%u", mode, c->pad_top, c->pad_bottom,
              c->pad_left, c->pad_right);
    mxu_graph_free(g);
    free(w);
    tob_free(b);
}

Test(onnx, auto_pad_modes)
{
    /* H 7, k 4, s 2: out 4, total (4-1)*2+4-7 = 3. W 6, k 3, s 2: out 3, total 1. */
    auto_pad_case("SAME_UPPER", 1, 2, 0, 1);
    auto_pad_case("SAME_LOWER", 2, 1, 1, 0);
    auto_pad_case("VALID", 0, 0, 0, 0);
    auto_pad_case("NOTSET", 0, 0, 0, 0);
}

Test(onnx, conv_shape_errors)
{
    /* group that does not divide the channels */
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 3, 5, 5});
    float w[2 * 3 * 9] = {0};
    tob_init_f(b, "w", 4, (int64_t[]){2, 3, 3, 3}, w);
    Onnx__NodeProto *n = tob_node(b, "Conv", "badgroup", IN("x", "w"), "y");
    tob_attr_i(b, n, "group", 2);
    tob_output(b, "y");
    load_fails(b, MXU_ERR_FORMAT, "group 2");
    tob_free(b);

    /* a kernel larger than the padded input */
    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 3, 2, 2});
    tob_init_f(b, "w", 4, (int64_t[]){2, 3, 3, 3}, w);
    tob_node(b, "Conv", "big", IN("x", "w"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_FORMAT, "larger than the padded input");
    tob_free(b);

    /* weights that are not a constant */
    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 3, 5, 5});
    tob_input(b, "w", 4, (int64_t[]){2, 3, 3, 3});
    tob_node(b, "Conv", "dynamic", IN("x", "w"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "must be a constant");
    tob_free(b);

    /* 1-D convolution */
    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 3, 5, 5});
    tob_init_f(b, "w", 3, (int64_t[]){2, 3, 3}, w);
    tob_node(b, "Conv", "conv1d", IN("x", "w"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "weights of rank 3");
    tob_free(b);

    /* an attribute of the wrong type */
    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 3, 5, 5});
    tob_init_f(b, "w", 4, (int64_t[]){2, 3, 3, 3}, w);
    n = tob_node(b, "Conv", "typo", IN("x", "w"), "y");
    tob_attr_f(b, n, "strides", 2.0f);
    tob_output(b, "y");
    load_fails(b, MXU_ERR_FORMAT, "strides is not a list of integers");
    tob_free(b);
}

/* ---- Gemm, MatMul -------------------------------------------------------------------------- */

Test(onnx, gemm_transposes_and_scales)
{
    for (int trans = 0; trans <= 1; trans++) {
        tob *b = tob_new(13);
        tob_input(b, "x", 2, (int64_t[]){-1, 3});
        float *w = pattern(6), c[2] = {10, 20};
        tob_init_f(b, "B", 2, trans ? (int64_t[]){2, 3} : (int64_t[]){3, 2}, w);
        tob_init_f(b, "C", 2, (int64_t[]){1, 2}, c);
        Onnx__NodeProto *n = tob_node(b, "Gemm", "fc", IN("x", "B", "C"), "y");
        tob_attr_i(b, n, "transB", trans);
        tob_attr_f(b, n, "alpha", 2.0f);
        tob_attr_f(b, n, "beta", 0.5f);
        tob_output(b, "y");
        mxu_graph *g = load_ok(b);
        const mxu_value *in = &g->values[g->inputs[0]];
        cr_assert(in->ndims == 2 && in->dims[0] == 1 && in->dims[1] == 3, "symbolic batch is 1");
        const mxu_node *f = only_node(g, MXU_NODE_FC);
        cr_assert_eq(f->cout, 2);
        cr_assert_eq(f->flatten_chw, 0);
        for (int m = 0; m < 2; m++) {
            for (int k = 0; k < 3; k++)
                cr_assert_eq(f->weights[m * 3 + k], 2.0f * (trans ? w[m * 3 + k] : w[k * 2 + m]),
                             "transB %d: w[%d][%d]", trans, m, k);
            cr_assert_eq(f->bias[m], 0.5f * c[m]);
        }
        mxu_graph_free(g);
        free(w);
        tob_free(b);
    }
}

Test(onnx, gemm_refuses_transposed_activations)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){3, 1});
    float w[6] = {0};
    tob_init_f(b, "B", 2, (int64_t[]){3, 2}, w);
    Onnx__NodeProto *n = tob_node(b, "Gemm", "gemmT", IN("x", "B"), "y");
    tob_attr_i(b, n, "transA", 1);
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "transA");
    tob_free(b);
}

Test(onnx, matmul_then_add_is_one_fc_with_bias)
{
    for (int swap = 0; swap <= 1; swap++) {
        tob *b = tob_new(13);
        tob_input(b, "x", 2, (int64_t[]){1, 4});
        float *w = pattern(4 * 3), bias[3] = {0.5f, -1, 2};
        tob_init_f(b, "W", 2, (int64_t[]){4, 3}, w);
        tob_init_f(b, "bias", 1, (int64_t[]){3}, bias);
        tob_node(b, "MatMul", "mm", IN("x", "W"), "h");
        tob_node(b, "Add", "add", swap ? IN("bias", "h") : IN("h", "bias"), "y");
        tob_output(b, "y");
        mxu_graph *g = load_ok(b);
        cr_assert_eq(g->n_nodes, 1, "the Add is folded");
        const mxu_node *f = only_node(g, MXU_NODE_FC);
        cr_assert_eq(g->outputs[0], f->output);
        for (int m = 0; m < 3; m++) {
            cr_assert_eq(f->bias[m], bias[m]);
            for (int k = 0; k < 4; k++)
                cr_assert_eq(f->weights[m * 4 + k], w[k * 3 + m]);
        }
        mxu_graph_free(g);
        free(w);
        tob_free(b);
    }
}

Test(onnx, add_of_a_constant_elsewhere_is_unsupported)
{
    /* The MatMul result is also a graph output: its bias cannot absorb the Add. */
    tob *b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 4});
    float w[12] = {0}, bias[3] = {0};
    tob_init_f(b, "W", 2, (int64_t[]){4, 3}, w);
    tob_init_f(b, "bias", 1, (int64_t[]){3}, bias);
    tob_node(b, "MatMul", "mm", IN("x", "W"), "h");
    tob_node(b, "Add", "add_bias", IN("h", "bias"), "y");
    tob_output(b, "y");
    tob_output(b, "h");
    load_fails(b, MXU_ERR_UNSUPPORTED, "node 1 'add_bias' (Add)");
    tob_free(b);
    /* MatMul with a constant on the left */
    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){4, 1});
    tob_init_f(b, "W", 2, (int64_t[]){3, 4}, w);
    tob_node(b, "MatMul", "left", IN("W", "x"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "constant left operand");
    tob_free(b);
}

Test(onnx, conv_then_add_of_per_channel_constant_folds)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 3, 3});
    float w[3 * 2] = {1, 2, 3, 4, 5, 6}, cb[3] = {1, 1, 1}, add[3] = {7, 8, 9};
    tob_init_f(b, "w", 4, (int64_t[]){3, 2, 1, 1}, w);
    tob_init_f(b, "cb", 1, (int64_t[]){3}, cb);
    tob_init_f(b, "add", 3, (int64_t[]){3, 1, 1}, add);
    tob_node(b, "Conv", "conv", IN("x", "w", "cb"), "h");
    tob_node(b, "Add", "plus", IN("h", "add"), "y");
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    const mxu_node *c = only_node(g, MXU_NODE_CONV);
    cr_assert_eq(g->n_nodes, 1);
    for (int m = 0; m < 3; m++)
        cr_assert_eq(c->bias[m], cb[m] + add[m]);
    mxu_graph_free(g);
    tob_free(b);
    /* [3] would broadcast along W in NCHW: not a per-channel bias */
    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 3, 3});
    tob_init_f(b, "w", 4, (int64_t[]){3, 2, 1, 1}, w);
    tob_init_f(b, "add", 1, (int64_t[]){3}, add);
    tob_node(b, "Conv", "conv", IN("x", "w"), "h");
    tob_node(b, "Add", "plus", IN("h", "add"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "per-channel bias");
    tob_free(b);
}

/* ---- Flatten, Reshape ----------------------------------------------------------------------- */

/* conv (cout channels, 1x1) on [1,2,h,w] -> pool? -> flatten op -> Gemm. */
static mxu_graph *flatten_model(int64_t h, int64_t w, int64_t cout, const char *how)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, h, w});
    float *cw = pattern((size_t)cout * 2), *fw = pattern((size_t)(cout * h * w * 5));
    tob_init_f(b, "cw", 4, (int64_t[]){cout, 2, 1, 1}, cw);
    tob_init_f(b, "fw", 2, (int64_t[]){5, cout * h * w}, fw);
    tob_node(b, "Conv", "conv", IN("x", "cw"), "c");
    if (!strcmp(how, "Flatten")) {
        tob_node(b, "Flatten", "flat", IN("c"), "f");
    } else {
        int64_t shape[2] = {0, -1};
        tob_init_i64(b, "shape", 1, (int64_t[]){2}, shape);
        tob_node(b, "Reshape", "flat", IN("c", "shape"), "f");
    }
    tob_node(b, "Relu", "relu", IN("f"), "r");
    Onnx__NodeProto *n = tob_node(b, "Gemm", "fc", IN("r", "fw"), "y");
    tob_attr_i(b, n, "transB", 1);
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    free(cw);
    free(fw);
    tob_free(b);
    return g;
}

Test(onnx, flatten_of_nchw_sets_flatten_chw)
{
    const char *how[] = {"Flatten", "Reshape"};
    for (int i = 0; i < 2; i++) {
        mxu_graph *g = flatten_model(3, 2, 4, how[i]);
        only_node(g, MXU_NODE_FLATTEN);
        cr_assert_eq(only_node(g, MXU_NODE_FC)->flatten_chw, 1, "%s with C > 1, H*W > 1", how[i]);
        cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
        mxu_graph_free(g);
        /* C = 1 or H*W = 1: CHW and HWC orders coincide */
        g = flatten_model(3, 2, 1, how[i]);
        cr_assert_eq(only_node(g, MXU_NODE_FC)->flatten_chw, 0);
        mxu_graph_free(g);
        g = flatten_model(1, 1, 4, how[i]);
        cr_assert_eq(only_node(g, MXU_NODE_FC)->flatten_chw, 0);
        mxu_graph_free(g);
    }
}

Test(onnx, reshape_to_other_shapes_is_unsupported)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 3, 4});
    tob_init_i64(b, "shape", 1, (int64_t[]){3}, (int64_t[]){1, 2, 12});
    tob_node(b, "Reshape", "to3d", IN("x", "shape"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "rank 3");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 3, 4});
    tob_init_i64(b, "shape", 1, (int64_t[]){2}, (int64_t[]){5, -1});
    tob_node(b, "Reshape", "bad", IN("x", "shape"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_FORMAT, "cannot reshape 24 elements");
    tob_free(b);

    /* the same shape: no node at all; Flatten of a 2-D tensor likewise */
    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 6});
    tob_init_i64(b, "shape", 1, (int64_t[]){2}, (int64_t[]){1, 6});
    tob_node(b, "Reshape", "same", IN("x", "shape"), "r");
    tob_node(b, "Flatten", "flat", IN("r"), "f");
    tob_node(b, "Sigmoid", "sig", IN("f"), "y");
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    cr_assert_eq(g->n_nodes, 1);
    cr_assert_eq(g->nodes[0].inputs[0], g->inputs[0]);
    mxu_graph_free(g);
    tob_free(b);
}

Test(onnx, chw_flattened_values_only_feed_fc)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 3, 3});
    tob_node(b, "Flatten", "flat", IN("x"), "f");
    tob_node(b, "Softmax", "sm", IN("f"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "flattened");
    tob_free(b);
}

/* ---- activations --------------------------------------------------------------------------- */

static const mxu_node *act_of(mxu_graph *g)
{
    return only_node(g, MXU_NODE_ACT);
}

Test(onnx, clip_relu_leaky_forms)
{
    /* opset 11: bounds are inputs */
    tob *b = tob_new(11);
    tob_input(b, "x", 2, (int64_t[]){1, 4});
    tob_scalar(b, "zero", 0.0f);
    tob_node(b, "Clip", "relu_clip", IN("x", "zero"), "y");
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    cr_assert_eq(act_of(g)->act.kind, MXU_ACT_KIND_RELU, "Clip(0, inf) is ReLU");
    mxu_graph_free(g);
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 4});
    tob_scalar(b, "six", 6.0f);
    tob_node(b, "Clip", "upper", IN("x", "", "six"), "y");
    tob_output(b, "y");
    g = load_ok(b);
    cr_assert_eq(act_of(g)->act.kind, MXU_ACT_KIND_CLIP);
    cr_assert_eq(act_of(g)->act.lo, -FLT_MAX);
    cr_assert_eq(act_of(g)->act.hi, 6.0f);
    mxu_graph_free(g);
    tob_free(b);

    /* opset 6: attributes */
    b = tob_new(6);
    tob_input(b, "x", 2, (int64_t[]){1, 4});
    Onnx__NodeProto *n = tob_node(b, "Clip", "relu6", IN("x"), "c");
    tob_attr_f(b, n, "min", 0.0f);
    tob_attr_f(b, n, "max", 6.0f);
    n = tob_node(b, "LeakyRelu", "leaky", IN("c"), "y");
    tob_attr_f(b, n, "alpha", 0.125f);
    tob_output(b, "y");
    g = load_ok(b);
    cr_assert_eq(g->n_nodes, 2);
    cr_assert_eq(g->nodes[0].act.kind, MXU_ACT_KIND_CLIP);
    cr_assert(g->nodes[0].act.lo == 0.0f && g->nodes[0].act.hi == 6.0f);
    cr_assert_eq(g->nodes[1].act.kind, MXU_ACT_KIND_LEAKY);
    cr_assert_eq(g->nodes[1].act.alpha, 0.125f);
    mxu_graph_free(g);
    tob_free(b);

    /* inverted bounds */
    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 4});
    tob_scalar(b, "lo", 2.0f);
    tob_scalar(b, "hi", 1.0f);
    tob_node(b, "Clip", "inverted", IN("x", "lo", "hi"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "Clip to [2, 1]");
    tob_free(b);
}

Test(onnx, softmax_axes)
{
    struct {
        int64_t opset, rank, axis; /* axis 99 = attribute absent */
        int ok;
    } cases[] = {
        {11, 2, 99, 1}, {13, 2, 99, 1}, {13, 2, 0, 0}, {13, 4, 1, 1},
        {13, 4, 99, 0}, {11, 4, 1, 0}, {11, 4, -3, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tob *b = tob_new(cases[i].opset);
        tob_input(b, "x", (int)cases[i].rank,
                  cases[i].rank == 2 ? (int64_t[]){1, 5} : (int64_t[]){1, 5, 2, 2});
        Onnx__NodeProto *n = tob_node(b, "Softmax", "sm", IN("x"), "y");
        if (cases[i].axis != 99)
            tob_attr_i(b, n, "axis", cases[i].axis);
        tob_output(b, "y");
        if (cases[i].ok) {
            mxu_graph *g = load_ok(b);
            only_node(g, MXU_NODE_SOFTMAX);
            mxu_graph_free(g);
        } else {
            load_fails(b, MXU_ERR_UNSUPPORTED, "Softmax over axis");
        }
        tob_free(b);
    }
}

/* ---- pools ------------------------------------------------------------------------------------ */

Test(onnx, pool_attributes)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 6, 6});
    Onnx__NodeProto *n = tob_node(b, "MaxPool", "mp", IN("x"), "m");
    tob_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){3, 3});
    tob_attr_ints(b, n, "strides", 2, (int64_t[]){2, 2});
    tob_attr_i(b, n, "ceil_mode", 1);
    /* ceil_mode with count_include_pad and no explicit pads: the extra end
     * padding is not counted by PyTorch/ORT either, so it is fine */
    n = tob_node(b, "AveragePool", "ap", IN("m"), "a");
    tob_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){2, 2});
    tob_attr_i(b, n, "ceil_mode", 1);
    tob_attr_ints(b, n, "strides", 2, (int64_t[]){2, 2});
    tob_attr_i(b, n, "count_include_pad", 1);
    tob_node(b, "GlobalMaxPool", "gmp", IN("a"), "g");
    tob_node(b, "GlobalAveragePool", "gap", IN("g"), "y");
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    cr_assert_eq(g->n_nodes, 4);
    const mxu_node *mp = &g->nodes[0], *ap = &g->nodes[1], *gm = &g->nodes[2];
    /* 6: floor((6-3)/2)+1 = 2, ceil -> 3: one more row/column of end padding */
    cr_assert(mp->op == MXU_NODE_MAXPOOL && mp->kh == 3 && mp->stride_h == 2);
    cr_assert(mp->pad_top == 0 && mp->pad_left == 0 && mp->pad_bottom == 1 && mp->pad_right == 1);
    /* 3: (3-2)/2 -> ceil 2 */
    cr_assert(ap->op == MXU_NODE_AVGPOOL && ap->pad_bottom == 1 && ap->pad_right == 1);
    cr_assert(gm->op == MXU_NODE_MAXPOOL && gm->kh == 2 && gm->kw == 2);
    cr_assert_eq(g->nodes[3].op, MXU_NODE_GLOBAL_AVGPOOL);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
    const mxu_value *out = &g->values[g->outputs[0]];
    cr_assert(out->dims[1] == 1 && out->dims[2] == 1 && out->dims[3] == 2);
    mxu_graph_free(g);
    tob_free(b);

    /* the Indices output, dilation, count_include_pad with pads */
    const char *needles[] = {"Indices", "dilated", "count_include_pad"};
    for (int k = 0; k < 3; k++) {
        b = tob_new(13);
        tob_input(b, "x", 4, (int64_t[]){1, 2, 6, 6});
        n = tob_node(b, k == 2 ? "AveragePool" : "MaxPool", "pool", IN("x"), "y");
        tob_attr_ints(b, n, "kernel_shape", 2, (int64_t[]){2, 2});
        if (k == 0) {
            tob_node_output(b, n, "idx");
            tob_output(b, "idx");
        } else if (k == 1) {
            tob_attr_ints(b, n, "dilations", 2, (int64_t[]){2, 2});
        } else {
            tob_attr_ints(b, n, "pads", 4, (int64_t[]){1, 1, 1, 1});
            tob_attr_i(b, n, "count_include_pad", 1);
        }
        tob_output(b, "y");
        load_fails(b, MXU_ERR_UNSUPPORTED, needles[k]);
        tob_free(b);
    }
}

/* ---- Concat, Add, BatchNormalization ----------------------------------------------------------- */

Test(onnx, concat_and_add)
{
    tob *b = tob_new(13);
    tob_input(b, "a", 4, (int64_t[]){1, 2, 3, 3});
    tob_input(b, "b", 4, (int64_t[]){1, 5, 3, 3});
    Onnx__NodeProto *n = tob_node(b, "Concat", "cat", IN("a", "b", "a"), "c");
    tob_attr_i(b, n, "axis", 1);
    tob_node(b, "Add", "sum", IN("c", "c"), "y");
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    const mxu_node *c = only_node(g, MXU_NODE_CONCAT);
    cr_assert_eq(c->n_inputs, 3);
    cr_assert(c->inputs[0] == g->inputs[0] && c->inputs[1] == g->inputs[1] &&
              c->inputs[2] == g->inputs[0]);
    const mxu_node *a = only_node(g, MXU_NODE_ADD);
    cr_assert(a->inputs[0] == c->output && a->inputs[1] == c->output);
    mxu_graph_free(g);
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "a", 4, (int64_t[]){1, 2, 3, 3});
    n = tob_node(b, "Concat", "cat_h", IN("a", "a"), "y");
    tob_attr_i(b, n, "axis", 2);
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "axis 2");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "a", 4, (int64_t[]){1, 2, 3, 3});
    tob_input(b, "b", 4, (int64_t[]){1, 2, 1, 1});
    tob_node(b, "Add", "bcast", IN("a", "b"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "no broadcasting");
    tob_free(b);
}

Test(onnx, batchnorm_statistics)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 3, 2, 2});
    float s[3] = {1, 2, 3}, bb[3] = {4, 5, 6}, m[3] = {7, 8, 9}, v[3] = {10, 11, 12};
    tob_init_f(b, "s", 1, (int64_t[]){3}, s);
    tob_init_f(b, "bb", 1, (int64_t[]){3}, bb);
    tob_init_typed_f(b, "m", 1, (int64_t[]){3}, m);
    tob_init_f(b, "v", 1, (int64_t[]){3}, v);
    Onnx__NodeProto *n = tob_node(b, "BatchNormalization", "bn", IN("x", "s", "bb", "m", "v"), "y");
    tob_attr_f(b, n, "epsilon", 0.25f);
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    const mxu_node *bn = only_node(g, MXU_NODE_BATCHNORM);
    cr_assert(bn->has_bn);
    cr_assert_eq(bn->bn.eps, 0.25f);
    for (int c = 0; c < 3; c++)
        cr_assert(bn->bn.gamma[c] == s[c] && bn->bn.beta[c] == bb[c] && bn->bn.mean[c] == m[c] &&
                  bn->bn.var[c] == v[c]);
    mxu_graph_free(g);
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 3, 2, 2});
    tob_init_f(b, "s", 1, (int64_t[]){2}, s);
    tob_init_f(b, "bb", 1, (int64_t[]){3}, bb);
    tob_init_f(b, "m", 1, (int64_t[]){3}, m);
    tob_init_f(b, "v", 1, (int64_t[]){3}, v);
    tob_node(b, "BatchNormalization", "bn", IN("x", "s", "bb", "m", "v"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_FORMAT, "2 values for 3 channels");
    tob_free(b);

    b = tob_new(15);
    tob_input(b, "x", 4, (int64_t[]){1, 3, 2, 2});
    tob_init_f(b, "s", 1, (int64_t[]){3}, s);
    tob_init_f(b, "bb", 1, (int64_t[]){3}, bb);
    tob_init_f(b, "m", 1, (int64_t[]){3}, m);
    tob_init_f(b, "v", 1, (int64_t[]){3}, v);
    n = tob_node(b, "BatchNormalization", "bn_train", IN("x", "s", "bb", "m", "v"), "y");
    tob_attr_i(b, n, "training_mode", 1);
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "training");
    tob_free(b);
}

/* ---- Constant, Identity, names, inputs --------------------------------------------------------- */

Test(onnx, constant_nodes_and_identities)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 1, 2, 2});
    Onnx__NodeProto *n = tob_node(b, "Constant", "shape_const", NULL, "shape");
    tob_attr_ints(b, n, "value_ints", 2, (int64_t[]){1, -1});
    n = tob_node(b, "Constant", "hi_const", NULL, "hi");
    tob_attr_f(b, n, "value_float", 3.0f);
    tob_node(b, "Identity", "id", IN("x"), "x2");
    n = tob_node(b, "Dropout", "drop", IN("x2"), "x3");
    tob_node(b, "Reshape", "flat", IN("x3", "shape"), "f");
    tob_node(b, "Clip", "clip", IN("f", "", "hi"), "y");
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    cr_assert_eq(g->n_nodes, 2, "identity and dropout make no node");
    cr_assert_eq(g->nodes[0].op, MXU_NODE_FLATTEN);
    cr_assert_eq(g->nodes[0].inputs[0], g->inputs[0]);
    cr_assert_eq(g->nodes[1].act.hi, 3.0f);
    mxu_graph_free(g);
    tob_free(b);

    /* the Dropout mask is not computed */
    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    n = tob_node(b, "Dropout", "drop", IN("x"), "y");
    tob_node_output(b, n, "mask");
    tob_output(b, "y");
    tob_output(b, "mask");
    load_fails(b, MXU_ERR_UNSUPPORTED, "mask");
    tob_free(b);
}

Test(onnx, long_names_stay_unique)
{
    char a[100], c[100];
    memset(a, 'a', 90), a[90] = 0;
    snprintf(c, sizeof c, "b%s", a + 1); /* differs only in the first character */
    tob *b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_node(b, "Relu", a, IN("x"), "r");
    tob_node(b, "Sigmoid", c, IN("r"), "y");
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    cr_assert_eq(g->n_nodes, 2);
    cr_assert(strlen(g->nodes[0].name) < MXU_GRAPH_NAME_LEN);
    cr_assert_str_neq(g->nodes[0].name, g->nodes[1].name);
    cr_assert_str_neq(g->values[g->nodes[0].output].name, g->values[g->nodes[1].output].name);
    mxu_graph_free(g);
    tob_free(b);
}

Test(onnx, graph_inputs)
{
    /* initializers listed as inputs (IR < 4) are constants, not inputs */
    tob *b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_input(b, "W", 2, (int64_t[]){2, 2});
    float w[4] = {1, 2, 3, 4};
    tob_init_f(b, "W", 2, (int64_t[]){2, 2}, w);
    tob_node(b, "MatMul", "mm", IN("x", "W"), "y");
    tob_output(b, "y");
    mxu_graph *g = load_ok(b);
    cr_assert_eq(g->n_inputs, 1);
    mxu_graph_free(g);
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 3, (int64_t[]){1, 2, 2});
    tob_node(b, "Relu", "r", IN("x"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "rank 3");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_model(b)->graph->input[0]->type->tensor_type->elem_type = 2;
    tob_node(b, "Relu", "r", IN("x"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "is UINT8 (float only)");
    tob_free(b);
}

Test(onnx, unsupported_ops_are_named)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_node(b, "Relu", "first", IN("x"), "r");
    tob_node(b, "LSTM", "my_lstm", IN("r"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "node 1 'my_lstm' (LSTM): op type LSTM is not supported");
    tob_free(b);

    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    Onnx__NodeProto *n = tob_node(b, "QLinearAdd", "qadd", IN("x", "x"), "y");
    n->domain = "com.microsoft";
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "domain com.microsoft");
    tob_free(b);
}

/* ---- models from make_onnx_models.py -------------------------------------------------------- */

Test(onnx, metadata_fills_preprocessing_and_labels)
{
    mxu_graph *g = load_file_ok("metadata");
    cr_assert_str_eq(g->name, "metadata", "named after the file");
    cr_assert(strstr(g->source, "metadata.onnx"));
    cr_assert(g->has_pre);
    cr_assert_float_eq(g->pre.scale, 1.0f / 255, 1e-9);
    cr_assert_float_eq(g->pre.mean[1], 0.456f, 1e-7);
    cr_assert_float_eq(g->pre.std[2], 0.225f, 1e-7);
    cr_assert_eq(g->pre.bgr, 1);
    cr_assert_float_eq(g->float_accuracy, 0.9123f, 1e-7);
    cr_assert_str_eq(g->classes, "cat,dog,T-shirt/top");
    mxu_graph_free(g);

    g = load_file_ok("conv_basic");
    cr_assert_eq(g->has_pre, 0);
    cr_assert_eq(g->float_accuracy, 0);
    cr_assert_str_eq(g->classes, "");
    mxu_graph_free(g);

    const char *bad[][2] = {
        {"mxu.preprocess.scale", "zero"}, {"mxu.preprocess.std", "1,0,1"},
        {"mxu.preprocess.order", "rbg"}, {"mxu.float_accuracy", "-3"},
        {"mxu.preprocess.mean", "1,2,3,4,5"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tob *b = tob_new(13);
        tob_input(b, "x", 2, (int64_t[]){1, 2});
        tob_node(b, "Relu", "r", IN("x"), "y");
        tob_output(b, "y");
        tob_meta(b, bad[i][0], bad[i][1]);
        load_fails(b, MXU_ERR_FORMAT, bad[i][0]);
        tob_free(b);
    }
    /* one mean/std value is every channel's; percent accuracies are accepted */
    tob *b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_node(b, "Relu", "r", IN("x"), "y");
    tob_output(b, "y");
    tob_meta(b, "mxu.preprocess.mean", "0.5");
    tob_meta(b, "mxu.float_accuracy", "91.5");
    g = load_ok(b);
    cr_assert(g->has_pre && g->pre.mean[0] == 0.5f && g->pre.mean[2] == 0.5f);
    cr_assert_eq(g->pre.std[0], 1.0f);
    cr_assert_float_eq(g->pre.scale, 1.0f / 255, 1e-9);
    cr_assert_float_eq(g->float_accuracy, 0.915f, 1e-6);
    mxu_graph_free(g);
    tob_free(b);
}

/* The external file holds 16 filler bytes, then the weights [3][2][3][3]. */
Test(onnx, external_data_is_read_at_its_offset)
{
    mxu_graph *g = load_file_ok("external_data");
    const mxu_node *c = only_node(g, MXU_NODE_CONV);
    char path[600];
    snprintf(path, sizeof path, "%s", model_path("external_data"));
    strcpy(strrchr(path, '.'), ".weights");
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    float w[54];
    cr_assert_eq(fseek(f, 16, SEEK_SET), 0);
    cr_assert_eq(fread(w, sizeof w, 1, f), 1);
    fclose(f);
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int ch = 0; ch < 2; ch++)
                    cr_assert_eq(c->weights[((m * 3 + i) * 3 + j) * 2 + ch],
                                 w[((m * 2 + ch) * 3 + i) * 3 + j]);
    cr_assert_not_null(c->bias, "the bias is in sub/bias.bin");
    mxu_graph_free(g);
}

Test(onnx, every_generated_model_loads_and_infers_shapes)
{
    const char *names[] = {
        "conv_basic", "conv_stride_dilation", "conv_same_upper", "conv_same_lower", "conv_valid",
        "conv_group", "conv_depthwise", "conv_relu_pool_gemm", "reshape_matmul_add", "gemm_mlp",
        "pools", "pool_ceil", "residual_add", "concat3", "batchnorm_model", "clip_attrs_opset6",
        "softmax_4d", "external_data", "metadata", "qdq_conv", "qdq_gemm", "qlinear_conv",
        "shape_chain_flatten",
        "qlinear_matmul",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        mxu_graph *g = load_file_ok(names[i]);
        cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s: %s", names[i], mxu_error_detail());
        mxu_graph_free(g);
    }
}

/* ---- pre-quantized graphs ------------------------------------------------------------------------ */

Test(onnx, qdq_conv_weights_bias_and_activations)
{
    mxu_graph *g = load_file_ok("qdq_conv");
    cr_assert_eq(g->n_nodes, 2, "Q/DQ make no nodes: conv and relu");
    const mxu_node *c = only_node(g, MXU_NODE_CONV);
    cr_assert_not_null(c->qweights);
    cr_assert_not_null(c->wscale);
    cr_assert_not_null(c->qbias, "int32 bias at input x weight scale");
    cr_assert_not_null(c->weights, "dequantized float weights too");
    int max_abs[4] = {0};
    for (uint32_t m = 0; m < 4; m++)
        for (uint32_t k = 0; k < 27; k++) {
            int q = c->qweights[m * 27 + k];
            max_abs[m] = abs(q) > max_abs[m] ? abs(q) : max_abs[m];
            cr_assert_float_eq(c->weights[m * 27 + k], q * c->wscale[m], 1e-7);
        }
    for (int m = 0; m < 4; m++)
        cr_assert_eq(max_abs[m], 127, "per-channel symmetric: channel %d reaches 127", m);
    const struct mxu_quant *qi = &g->values[g->inputs[0]].quant;
    cr_assert(qi->valid && qi->zero_point == -128, "uint8 zero point 0 is int8 -128");
    cr_assert_float_eq(qi->scale, 1.0f / 255, 1e-9);
    for (int m = 0; m < 4; m++)
        cr_assert_float_eq(c->bias[m], c->qbias[m] * qi->scale * c->wscale[m], 1e-6);
    const struct mxu_quant *qo = &g->values[g->outputs[0]].quant;
    cr_assert(qo->valid && qo->zero_point == -128);
    cr_assert_eq(g->values[c->output].quant.valid, 0, "the conv result itself is not quantized");
    mxu_graph_free(g);
}

Test(onnx, qlinear_ops)
{
    mxu_graph *g = load_file_ok("qlinear_conv");
    const mxu_node *c = only_node(g, MXU_NODE_CONV);
    cr_assert(c->qweights && c->wscale && c->qbias);
    cr_assert(c->stride_h == 2 && c->pad_top == 1);
    cr_assert(g->values[c->output].quant.valid);
    cr_assert_eq(g->outputs[0], c->output);
    mxu_graph_free(g);

    g = load_file_ok("qlinear_matmul");
    const mxu_node *f = only_node(g, MXU_NODE_FC);
    cr_assert(f->qweights && f->wscale && !f->qbias);
    cr_assert_eq(f->wscale[0], f->wscale[5], "per-tensor scale repeated");
    cr_assert(g->values[f->output].quant.valid && g->values[f->output].quant.zero_point == 0);
    mxu_graph_free(g);
}

/* x -> Q -> DQ -> Conv(DQ(w)) -> y, with the weight constant's type and zero
 * points as given. */
static tob *qdq_model(int32_t welem, int32_t wzp, int per_channel_act)
{
    tob *b = tob_new(13);
    tob_input(b, "x", 4, (int64_t[]){1, 2, 3, 3});
    tob_scalar(b, "s", 0.5f);
    if (per_channel_act) {
        float s2[2] = {0.5f, 0.25f};
        tob_init_f(b, "sx", 1, (int64_t[]){2}, s2);
    }
    tob_init_i32(b, "zx", 3, 0, NULL, (int32_t[]){0});
    int32_t w[2 * 2] = {1, welem == 3 ? -2 : 2, 3, 4};
    tob_init_i32(b, "w", welem, 4, (int64_t[]){2, 2, 1, 1}, w);
    tob_init_i32(b, "zw", welem, 0, NULL, (int32_t[]){wzp});
    Onnx__NodeProto *n = tob_node(b, "QuantizeLinear", "q", IN("x", per_channel_act ? "sx" : "s", "zx"), "xq");
    if (per_channel_act)
        tob_attr_i(b, n, "axis", 1);
    tob_node(b, "DequantizeLinear", "dq", IN("xq", "s", "zx"), "xd");
    tob_node(b, "DequantizeLinear", "dqw", IN("w", "s", "zw"), "wd");
    tob_node(b, "Conv", "conv", IN("xd", "wd"), "y");
    tob_output(b, "y");
    return b;
}

Test(onnx, qdq_forms_that_are_refused)
{
    tob *b = qdq_model(3, 0, 0);
    mxu_graph *g = load_ok(b);
    const mxu_node *c = only_node(g, MXU_NODE_CONV);
    cr_assert(c->qweights[1] == -2 && c->wscale[0] == 0.5f && c->wscale[1] == 0.5f);
    cr_assert(g->values[g->inputs[0]].quant.valid && g->values[g->inputs[0]].quant.zero_point == 0);
    mxu_graph_free(g);
    tob_free(b);

    b = qdq_model(2, 0, 0);
    load_fails(b, MXU_ERR_UNSUPPORTED, "UINT8 (int8 only)");
    tob_free(b);
    b = qdq_model(3, 1, 0);
    load_fails(b, MXU_ERR_UNSUPPORTED, "weight zero point 1");
    tob_free(b);
    b = qdq_model(3, 0, 1);
    load_fails(b, MXU_ERR_UNSUPPORTED, "per-channel quantization of an activation");
    tob_free(b);

    /* the same value quantized twice with different scales */
    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_scalar(b, "s1", 0.5f);
    tob_scalar(b, "s2", 0.25f);
    tob_node(b, "QuantizeLinear", "q1", IN("x", "s1"), "a");
    tob_node(b, "QuantizeLinear", "q2", IN("x", "s2"), "c");
    tob_node(b, "DequantizeLinear", "d", IN("a", "s1"), "y");
    tob_output(b, "y");
    tob_output(b, "c");
    load_fails(b, MXU_ERR_UNSUPPORTED, "quantized twice differently");
    tob_free(b);

    /* DequantizeLinear of a float tensor; a float op reading an int8 tensor */
    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_scalar(b, "s", 0.5f);
    tob_node(b, "DequantizeLinear", "dq_float", IN("x", "s"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_FORMAT, "not a quantized tensor");
    tob_free(b);
    b = tob_new(13);
    tob_input(b, "x", 2, (int64_t[]){1, 2});
    tob_scalar(b, "s", 0.5f);
    tob_node(b, "QuantizeLinear", "q", IN("x", "s"), "xq");
    tob_node(b, "Sigmoid", "sig_int8", IN("xq"), "y");
    tob_output(b, "y");
    load_fails(b, MXU_ERR_UNSUPPORTED, "int8 tensor");
    tob_free(b);
}

/* ---- the shipped Fashion-MNIST models (models/fashion_mnist, trained by train.py) ---------- */

static mxu_graph *load_shipped(const char *file)
{
    mxu_graph *g = NULL;
    int rc = mxu_onnx_load(file, &g);
    cr_assert_eq(rc, MXU_OK, "%s: %s", file, mxu_error_detail());
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s: %s", file, mxu_error_detail());
    const mxu_value *in = &g->values[g->inputs[0]];
    cr_assert(in->ndims == 4 && in->dims[1] == 28 && in->dims[2] == 28 && in->dims[3] == 1,
              "%s: input 1x28x28x1", file);
    const mxu_value *out = &g->values[g->outputs[0]];
    cr_assert(out->ndims == 2 && out->dims[1] == 10, "%s: 10 logits", file);
    cr_assert(g->has_pre);
    cr_assert_float_eq(g->pre.scale, 1.0f / 255, 1e-8);
    cr_assert(g->float_accuracy > 0.8f && g->float_accuracy <= 1, "%s: float accuracy %g", file,
              g->float_accuracy);
    cr_assert(strstr(g->classes, "T-shirt/top,Trouser,") == g->classes, "%s: classes '%s'", file,
              g->classes);
    return g;
}

Test(onnx, fashion_mnist_cnn_loads)
{
    mxu_graph *g = load_shipped("models/fashion_mnist/cnn.onnx");
    uint32_t convs = 0, fcs = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        convs += g->nodes[i].op == MXU_NODE_CONV;
        fcs += g->nodes[i].op == MXU_NODE_FC;
    }
    cr_assert_eq(convs, 2);
    cr_assert_eq(fcs, 2);
    const mxu_node *flat = only_node(g, MXU_NODE_FLATTEN);
    const mxu_node *fc1 = NULL;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == MXU_NODE_FC && g->nodes[i].inputs[0] == flat->output)
            fc1 = &g->nodes[i];
    cr_assert_not_null(fc1);
    cr_assert_eq(fc1->flatten_chw, 1, "16x4x4 flattened in C,H,W order");
    cr_assert_eq(fc1->cout, 128);
    mxu_graph_free(g);
}

Test(onnx, fashion_mnist_mlp_loads)
{
    mxu_graph *g = load_shipped("models/fashion_mnist/mlp.onnx");
    uint32_t fcs = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        cr_assert_neq(g->nodes[i].op, MXU_NODE_CONV);
        if (g->nodes[i].op == MXU_NODE_FC) {
            fcs++;
            cr_assert_eq(g->nodes[i].flatten_chw, 0, "one channel: CHW = HWC order");
        }
    }
    cr_assert_eq(fcs, 3);
    mxu_graph_free(g);
}

/* Shape -> Gather -> Unsqueeze -> Concat -> Cast -> Reshape folds to constants
 * (opset 11: Unsqueeze's axes are an attribute). */
Test(onnx, shape_arithmetic_folds_to_constants)
{
    for (int bad = 0; bad <= 1; bad++) {
        tob *b = tob_new(11);
        tob_input(b, "x", 4, (int64_t[]){-1, 3, 2, 2});
        tob_node(b, "Shape", "shape", IN("x"), "s");
        tob_init_i64(b, "i0", 0, NULL, (int64_t[]){bad ? 7 : 0});
        tob_init_i64(b, "minus1", 1, (int64_t[]){1}, (int64_t[]){-1});
        Onnx__NodeProto *n = tob_node(b, "Gather", "gather", IN("s", "i0"), "n");
        tob_attr_i(b, n, "axis", 0);
        n = tob_node(b, "Unsqueeze", "unsq", IN("n"), "u");
        tob_attr_ints(b, n, "axes", 1, (int64_t[]){0});
        n = tob_node(b, "Concat", "cat", IN("u", "minus1"), "c");
        tob_attr_i(b, n, "axis", 0);
        n = tob_node(b, "Cast", "cast", IN("c"), "c64");
        tob_attr_i(b, n, "to", 7);
        tob_node(b, "Reshape", "view", IN("x", "c64"), "f");
        float w[12 * 2] = {0};
        tob_init_f(b, "W", 2, (int64_t[]){12, 2}, w);
        tob_node(b, "MatMul", "mm", IN("f", "W"), "y");
        tob_output(b, "y");
        if (bad) {
            load_fails(b, MXU_ERR_FORMAT, "node 1 'gather' (Gather): index 7 outside 4 values");
        } else {
            mxu_graph *g = load_ok(b);
            cr_assert_eq(g->n_nodes, 2, "only the flatten and the FC remain");
            cr_assert_eq(g->nodes[0].op, MXU_NODE_FLATTEN);
            cr_assert_eq(g->nodes[1].flatten_chw, 1);
            mxu_graph_free(g);
        }
        tob_free(b);
    }
}
