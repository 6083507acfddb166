/* int8 against float on the same graph: a random small CNN, calibrated on
 * random images, classifies 100 other random images; the compiled program
 * (run on the C model) must pick the float graph's class almost always, and
 * its dequantized logits must stay close. Catches wrong scales anywhere in
 * the chain (weights, biases, multipliers, activations, tables). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mxu.h"
#include "mxu_execute.h"
#include "mxu_numerics.h"
#include "mxu_reference.h"
#include "test_core_support.h"

#define ARCH "rows=16,cols=16,dram=16M"
#define IMAGES 100

static mxu_graph *random_cnn(enum mxu_act_kind act2)
{
    mxu_graph *g = tg_new("cnn");
    int x = tg_input(g, "image", 1, 16, 16, 3);
    x = tg_act(g, tg_conv(g, x, "conv1", 16, 3, 1, 1, 1), "a1", MXU_ACT_KIND_RELU, 0);
    x = tg_pool(g, x, "pool1", MXU_NODE_MAXPOOL, 2, 2, 0);
    x = tg_act(g, tg_conv(g, x, "conv2", 32, 3, 1, 1, 1), "a2", act2, 0.1f);
    x = tg_pool(g, x, "pool2", MXU_NODE_MAXPOOL, 2, 2, 0);
    x = tg_act(g, tg_fc(g, x, "fc1", 64), "a3", MXU_ACT_KIND_RELU, 0);
    tg_output(g, tg_fc(g, x, "fc2", 10));
    cr_assert_eq(mxu_graph_random_weights(g, 2024), MXU_OK, "%s", mxu_error_detail());
    return g;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        best = v[i] > v[best] ? i : best;
    return best;
}

struct agreement {
    int same_class;
    double mae, spread; /* mean |int8 - float|, mean |float - mean of the row| */
};

static struct agreement compare(mxu_graph *g, enum mxu_calib_method method)
{
    struct agreement r = {0, 0, 0};
    float *in[IMAGES][1], *ref[IMAGES];
    for (int i = 0; i < IMAGES; i++) {
        tg_random_inputs(g, 1000 + (uint64_t)i, in[i]);
        ref[i] = tg_float_output(g, in[i], NULL);
    }
    struct mxu_compile_options o;
    mxu_program *p = NULL;
    mxu_device *dev = NULL;
    mxu_compile_options_init(&o);
    cr_assert_eq(mxu_config_parse(&o.config, ARCH), MXU_OK);
    o.calib_count = 32;
    o.calib_method = method;
    cr_assert_eq(mxu_compile(g, &o, &p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_open("model:" ARCH, &dev), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_load(dev, p), MXU_OK, "%s", mxu_error_detail());
    const mxu_tensor *ti = &p->tensors[p->layers[0].input], *to = &p->tensors[p->layers[p->n_layers - 1].output];
    int8_t q_in[16 * 16 * 3], q_out[10];
    for (int i = 0; i < IMAGES; i++) {
        for (int k = 0; k < 16 * 16 * 3; k++)
            q_in[k] = mxu_quantize_f32(in[i][0][k], ti->scale, ti->zero_point);
        cr_assert_eq(mxu_tensor_write(dev, p, p->layers[0].input, q_in, sizeof q_in), MXU_OK);
        cr_assert_eq(mxu_program_execute(dev, p, 0, NULL, NULL), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(mxu_tensor_read(dev, p, p->layers[p->n_layers - 1].output, q_out, sizeof q_out), MXU_OK);
        float got[10], mean = 0;
        for (int k = 0; k < 10; k++)
            got[k] = mxu_dequantize(q_out[k], to->scale, to->zero_point), mean += ref[i][k] / 10;
        for (int k = 0; k < 10; k++)
            r.mae += fabsf(got[k] - ref[i][k]) / (10.0 * IMAGES), r.spread += fabsf(ref[i][k] - mean) / (10.0 * IMAGES);
        r.same_class += argmax(got, 10) == argmax(ref[i], 10);
        free(ref[i]);
        tg_free_inputs(g, in[i]);
    }
    mxu_close(dev);
    mxu_program_free(p);
    cr_log_info("top-1 agreement %d%%, mean |int8 - float| %.4f, logit spread %.4f", r.same_class, r.mae,
                r.spread);
    return r;
}

Test(core_accuracy, int8_picks_the_float_class_minmax)
{
    mxu_graph *g = random_cnn(MXU_ACT_KIND_RELU);
    struct agreement r = compare(g, MXU_CALIB_MINMAX);
    cr_expect_geq(r.same_class, 90, "top-1 agreement %d%%", r.same_class);
    cr_expect_lt(r.mae, 0.1 * r.spread, "mean error %g, logit spread %g", r.mae, r.spread);
    mxu_graph_free(g);
}

Test(core_accuracy, int8_picks_the_float_class_percentile_leaky)
{
    mxu_graph *g = random_cnn(MXU_ACT_KIND_LEAKY);
    struct agreement r = compare(g, MXU_CALIB_PERCENTILE);
    cr_expect_geq(r.same_class, 90, "top-1 agreement %d%%", r.same_class);
    cr_expect_lt(r.mae, 0.1 * r.spread, "mean error %g, logit spread %g", r.mae, r.spread);
    mxu_graph_free(g);
}

/* A scale bug must show: doubling one layer's output multipliers breaks the
 * agreement (the test above can fail). */
Test(core_accuracy, a_wrong_scale_is_caught)
{
    mxu_graph *g = random_cnn(MXU_ACT_KIND_RELU);
    float *in[1], *ref;
    tg_random_inputs(g, 5, in);
    ref = tg_float_output(g, in, NULL);
    mxu_program *p = tg_compile(g, ARCH, 16);
    float *good = NULL, *bad = NULL;
    tg_run_check(p, ARCH, in, &good);
    /* the device's copy is packed already: the reference run shows the effect */
    int32_t *shift = (int32_t *)(p->host_blob + p->layers[2].shift);
    for (uint32_t c = 0; c < p->layers[2].cout; c++)
        shift[c] += 1;
    double e_good = 0, e_bad = 0;
    uint8_t **v = calloc(p->n_tensors, sizeof *v);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        v[i] = calloc(mxu_tensor_bytes(&p->tensors[i]), 1);
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            for (uint64_t k = 0; k < mxu_tensor_elems(&p->tensors[i]); k++)
                ((int8_t *)v[i])[k] = mxu_quantize_f32(in[0][k], p->tensors[i].scale, p->tensors[i].zero_point);
    }
    cr_assert_eq(mxu_reference_run(p, v), MXU_OK);
    const mxu_tensor *to = &p->tensors[p->layers[p->n_layers - 1].output];
    bad = malloc(10 * sizeof *bad);
    for (int k = 0; k < 10; k++) {
        bad[k] = mxu_dequantize(((int8_t *)v[p->layers[p->n_layers - 1].output])[k], to->scale, to->zero_point);
        e_good += fabsf(good[k] - ref[k]), e_bad += fabsf(bad[k] - ref[k]);
    }
    cr_expect_gt(e_bad, 3 * e_good, "a doubled multiplier: error %g vs %g", e_bad, e_good);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(v[i]);
    free(v), free(good), free(bad), free(ref);
    tg_free_inputs(g, in);
    mxu_program_free(p);
    mxu_graph_free(g);
}
