/* The TFLite frontend on its own: the committed models import into the
 * expected graphs, unsupported operators are named, and truncated or
 * corrupted files give clean errors (run under `make test SAN=1` too). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_numerics.h"
#include "tflite_compare.h"
#include "tflite_priv.h"

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[300];
    snprintf(path, sizeof path, TFLITE_MODEL_DIR "/%s.tflite", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(*len);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static uint32_t count_op(const mxu_graph *g, enum mxu_node_op op)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        n += g->nodes[i].op == op;
    return n;
}

Test(tflite_load, lenet_imports_with_the_file_quantization)
{
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_tflite_load(TFLITE_MODEL_DIR "/lenet_28x28.tflite", &g), MXU_OK, "%s",
                 mxu_error_detail());
    cr_expect_eq(count_op(g, MXU_NODE_CONV), 2);
    cr_expect_eq(count_op(g, MXU_NODE_MAXPOOL), 2);
    cr_expect_eq(count_op(g, MXU_NODE_FC), 2);
    cr_expect_eq(count_op(g, MXU_NODE_SOFTMAX), 1);
    cr_assert_eq(g->n_inputs, 1);
    const mxu_value *in = &g->values[g->inputs[0]];
    cr_expect_eq(in->ndims, 4);
    cr_expect_eq(in->dims[1], 28);
    cr_expect(in->quant.valid && in->quant.zero_point >= -128 && in->quant.scale > 0);
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const mxu_node *n = &g->nodes[i];
        if (n->op != MXU_NODE_CONV && n->op != MXU_NODE_FC)
            continue;
        cr_expect_not_null(n->qweights, "%s: int8 weights", n->name);
        cr_expect_not_null(n->qbias, "%s: int32 bias", n->name);
        cr_expect_null(n->weights);
        cr_expect_eq(n->fc_float_product, 0, "per-channel weights");
        cr_expect(g->values[n->output].quant.valid, "%s: output quantization from the file", n->name);
    }
    const mxu_node *softmax = &g->nodes[g->n_nodes - 1];
    cr_expect_eq(softmax->op, MXU_NODE_SOFTMAX);
    cr_expect_float_eq(g->values[softmax->output].quant.scale, 1.0f / 256, 0);
    mxu_graph_free(g);
}

Test(tflite_load, edges_and_depthwise)
{
    mxu_graph *g = NULL;
    /* float input and output: QUANTIZE/DEQUANTIZE make the int8 edges */
    cr_assert_eq(mxu_model_load(TFLITE_MODEL_DIR "/mlp_28x28.tflite", NULL, &g), MXU_OK, "%s",
                 mxu_error_detail());
    cr_expect_eq(count_op(g, MXU_NODE_ACT), 1, "TANH");
    cr_expect_eq(g->values[g->outputs[0]].producer, (int)g->n_nodes - 1, "the softmax's int8 output");
    mxu_graph_free(g);
    cr_assert_eq(mxu_tflite_load(TFLITE_MODEL_DIR "/dwsep_20x24.tflite", &g), MXU_OK, "%s",
                 mxu_error_detail());
    uint32_t depthwise = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const mxu_node *n = &g->nodes[i];
        if (n->op == MXU_NODE_CONV && n->groups > 1) {
            depthwise++;
            cr_expect_eq(n->groups, g->values[n->inputs[0]].dims[3], "groups = input channels");
            cr_expect_eq(n->kh, 3);
            cr_expect_geq(n->pad_top + n->pad_bottom, 1, "SAME padding");
        }
    }
    cr_expect_eq(depthwise, 2);
    cr_expect_eq(g->values[g->inputs[0]].dims[1], 20);
    cr_expect_eq(g->values[g->inputs[0]].dims[2], 24);
    mxu_graph_free(g);
}

/* Position of the builtin_code field (4 bytes) of operator code 0. */
static uint32_t opcode_field(const uint8_t *buf, size_t len)
{
    struct fb b = {buf, len};
    struct fb_table model, code;
    struct fb_vec codes;
    cr_assert_eq(fb_root(&b, &model), MXU_OK);
    cr_assert_eq(fb_vector(&model, 1, 4, &codes), MXU_OK);
    cr_assert_eq(fb_vec_table(&b, &codes, 0, &code), MXU_OK);
    cr_assert(fb_has(&code, 3), "builtin_code stored");
    uint16_t off = (uint16_t)(buf[code.vtab + 4 + 2 * 3] | buf[code.vtab + 5 + 2 * 3] << 8);
    return code.pos + off;
}

Test(tflite_load, unsupported_operator_is_named_with_its_index)
{
    size_t len;
    uint8_t *buf = slurp("lenet_28x28", &len);
    uint32_t at = opcode_field(buf, len);
    int32_t mul = 18; /* MUL */
    memcpy(buf + at, &mul, 4);
    mxu_graph *g = NULL;
    int rc = mxu_tflite_load_buffer(buf, len, "patched.tflite", &g);
    cr_expect_eq(rc, MXU_ERR_UNSUPPORTED, "%s", mxu_error_detail());
    cr_expect_null(g);
    cr_expect(strstr(mxu_error_detail(), "MUL") && strstr(mxu_error_detail(), "operator "), "detail: %s",
              mxu_error_detail());
    free(buf);
}

Test(tflite_load, truncated_files_are_format_errors)
{
    size_t len;
    uint8_t *buf = slurp("resnet_28x28", &len);
    uint32_t failures = 0;
    for (size_t n = 0; n < len; n += 1 + n / 64) {
        mxu_graph *g = NULL;
        int rc = mxu_tflite_load_buffer(buf, n, "cut.tflite", &g);
        if (rc != MXU_OK) {
            failures++;
            cr_expect_null(g);
            cr_expect(rc == MXU_ERR_FORMAT || rc == MXU_ERR_UNSUPPORTED, "%zu bytes: %d %s", n, rc,
                      mxu_error_detail());
        } else {
            mxu_graph_free(g);
        }
    }
    cr_expect_gt(failures, 0);
    cr_expect_eq(mxu_tflite_load_buffer(NULL, 0, NULL, &(mxu_graph *){NULL}), MXU_ERR_FORMAT);
    free(buf);
}

/* Random corruption (xorshift, fixed seed): any status, never a crash, a leak
 * or an out-of-bounds read (ASan under SAN=1). */
Test(tflite_load, corrupted_files_never_crash)
{
    size_t len;
    uint8_t *orig = slurp("dwsep_28x28", &len), *buf = malloc(len);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    uint32_t ok = 0, bad = 0;
    for (int iter = 0; iter < 600; iter++) {
        memcpy(buf, orig, len);
        int flips = 1 + iter % 8;
        for (int k = 0; k < flips; k++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            /* the metadata part (first few KiB) holds every offset and vtable */
            size_t at = (size_t)(s >> 8) % (iter % 2 ? len : (len < 4096 ? len : 4096));
            buf[at] ^= (uint8_t)(1u << (s & 7));
        }
        mxu_graph *g = NULL;
        if (mxu_tflite_load_buffer(buf, len, "flip.tflite", &g) == MXU_OK) {
            (void)mxu_graph_infer_shapes(g);
            mxu_graph_free(g);
            ok++;
        } else {
            bad++;
        }
    }
    cr_expect_gt(bad, 0, "some corruptions must be caught");
    free(buf), free(orig);
    (void)ok;
}

/* A per-tensor FC (older converters) gets TFLite's multiplier: the scales'
 * product rounded to float before the division (GetQuantizedConvolutionMultipler). */
Test(tflite_load, per_tensor_fc_multiplies_the_scales_in_float)
{
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_tflite_load(TFLITE_MODEL_DIR "/lenet_28x28.tflite", &g), MXU_OK, "%s",
                 mxu_error_detail());
    mxu_node *fc = NULL;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == MXU_NODE_FC)
            fc = &g->nodes[i]; /* the last one: logits */
    cr_assert_not_null(fc);
    float s_in = g->values[fc->inputs[0]].quant.scale, s_out = g->values[fc->output].quant.scale;
    /* a weight scale whose float and double products give different multipliers */
    float w = 0.0f;
    int32_t qf = 0, qd = 0, sf, sd;
    for (float t = 0.004f; t < 0.005f && qf == qd; t = nextafterf(t, 1.0f)) {
        w = t;
        cr_assert_eq(mxu_quantize_multiplier((double)(s_in * w) / (double)s_out, &qf, &sf), MXU_OK);
        cr_assert_eq(mxu_quantize_multiplier((double)s_in * (double)w / (double)s_out, &qd, &sd), MXU_OK);
    }
    cr_assert_neq(qf, qd, "no distinguishing scale found");
    for (uint32_t c = 0; c < fc->cout; c++)
        fc->wscale[c] = w;
    fc->fc_float_product = 1;
    mxu_program *p = tflite_compile_graph(g, "rows=16,cols=16");
    const mxu_layer *l = NULL;
    for (uint32_t i = 0; i < p->n_layers; i++)
        if (p->layers[i].op == MXU_LAYER_FC)
            l = &p->layers[i];
    int32_t got;
    memcpy(&got, p->host_blob + l->multiplier, sizeof got);
    cr_expect_eq(got, qf, "multiplier %d: float product %d, double product %d", got, qf, qd);
    mxu_program_free(p);
    mxu_graph_free(g);
}
