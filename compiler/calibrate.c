/* Calibration: float runs of the graph over calibration images (or seeded
 * random images) record the range of every value, and of the input of every
 * lookup-table activation, by min/max or by percentile histograms. When no
 * images are given and even one float run would be too expensive (AlexNet at
 * 227x227), the ranges are estimated instead (calibrate_estimate.c). Graph
 * inputs take the exact range of the preprocessed pixels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"
#include "mxu_dataset.h"

#define DEFAULT_IMAGES 100u
#define RANDOM_IMAGES_MAX 16u                 /* random inputs: ranges settle quickly */
#define RANDOM_MAC_BUDGET (16ull * 1000 * 1000) /* float MACs spent on random calibration (~0.2 s) */

struct calib_run {
    struct mxu_calibration *c;
    int percentile;
    struct mxu_histogram **value_hist, **node_hist; /* per value / node, made on first use */
    int nomem;
};

int mxu_calibration_alloc(const mxu_graph *g, struct mxu_calibration *c)
{
    memset(c, 0, sizeof *c);
    c->n_values = g->n_values;
    c->n_nodes = g->n_nodes;
    c->value = malloc(((size_t)g->n_values + 1) * sizeof *c->value);
    c->pre_act = malloc(((size_t)g->n_nodes + 1) * sizeof *c->pre_act);
    if (!c->value || !c->pre_act) {
        mxu_calibration_free(c);
        return mxu_fail(MXU_ERR_NOMEM, "calibration");
    }
    for (uint32_t v = 0; v < g->n_values; v++)
        c->value[v] = (struct mxu_range){INFINITY, -INFINITY};
    for (uint32_t i = 0; i < g->n_nodes; i++)
        c->pre_act[i] = (struct mxu_range){INFINITY, -INFINITY};
    return MXU_OK;
}

void mxu_calibration_free(struct mxu_calibration *c)
{
    free(c->value);
    free(c->pre_act);
    c->value = c->pre_act = NULL;
}

static void widen_range(struct mxu_range *r, const float *d, size_t n)
{
    float lo = r->lo, hi = r->hi;
    for (size_t i = 0; i < n; i++) {
        lo = d[i] < lo ? d[i] : lo;
        hi = d[i] > hi ? d[i] : hi;
    }
    r->lo = lo, r->hi = hi;
}

static void record(struct calib_run *run, struct mxu_histogram **hist, struct mxu_range *r,
                   const float *d, size_t n)
{
    widen_range(r, d, n);
    if (!run->percentile)
        return;
    if (!*hist && (*hist = malloc(sizeof **hist)))
        mxu_histogram_init(*hist);
    if (*hist)
        mxu_histogram_add(*hist, d, n);
    else
        run->nomem = 1;
}

static void on_value(void *ctx, int v, const float *d, size_t n)
{
    struct calib_run *run = ctx;
    record(run, &run->value_hist[v], &run->c->value[v], d, n);
}

static void on_pre_act(void *ctx, int node, const float *d, size_t n)
{
    struct calib_run *run = ctx;
    record(run, &run->node_hist[node], &run->c->pre_act[node], d, n);
}

struct mxu_range mxu_preprocess_range(const struct mxu_preprocess *pre, uint32_t channels)
{
    struct mxu_range r = {INFINITY, -INFINITY};
    for (uint32_t ch = 0; ch < channels && ch < 4; ch++) {
        float a = -pre->mean[ch] / pre->std[ch], b = (255.0f * pre->scale - pre->mean[ch]) / pre->std[ch];
        r.lo = fminf(r.lo, fminf(a, b));
        r.hi = fmaxf(r.hi, fmaxf(a, b));
    }
    return r;
}

/* Graph inputs are preprocessed pixels: their exact range beats what the
 * images happened to show (pixels / 255 gives scale 1/255, zero point -128:
 * every pixel value exactly). */
static void inputs_from_preprocessing(const mxu_graph *g, const struct mxu_preprocess *pre,
                                      struct mxu_calibration *c)
{
    for (uint32_t k = 0; k < g->n_inputs; k++) {
        const mxu_value *v = &g->values[g->inputs[k]];
        c->value[g->inputs[k]] = mxu_preprocess_range(pre, v->ndims == 4 ? v->dims[3] : 1);
    }
}

void mxu_random_input(const mxu_graph *g, uint32_t input, const struct mxu_preprocess *pre,
                      uint64_t *rng, float *out)
{
    const mxu_value *v = &g->values[g->inputs[input]];
    uint64_t n = mxu_value_elems(v);
    uint32_t c = v->ndims == 4 ? v->dims[3] : 1;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t ch = (uint32_t)(i % c);
        ch = ch < 4 ? ch : 0;
        float pixel = 255.0f * mxu_rng_uniform(rng);
        out[i] = (pixel * pre->scale - pre->mean[ch]) / pre->std[ch];
    }
}

/* Image source of the float runs: a data set, or random pixels. */
struct image_source {
    mxu_dataset *d;
    uint32_t next;
    uint64_t rng;
    const struct mxu_preprocess *pre;
};

/* One run's input images: a batch of N consecutive images for each input. */
static int fill_inputs(const mxu_graph *g, struct image_source *s, float **in)
{
    for (uint32_t k = 0; k < g->n_inputs; k++) {
        const mxu_value *v = &g->values[g->inputs[k]];
        if (!s->d) {
            mxu_random_input(g, k, s->pre, &s->rng, in[k]);
            continue;
        }
        uint32_t h = v->ndims == 4 ? v->dims[1] : s->d->h, w = v->ndims == 4 ? v->dims[2] : s->d->w;
        uint32_t c = v->ndims == 4 ? v->dims[3] : s->d->c;
        uint64_t img = (uint64_t)h * w * c;
        if (img * v->dims[0] != mxu_value_elems(v))
            return mxu_fail(MXU_ERR_UNSUPPORTED, "input '%s' (%u features) cannot hold %ux%ux%u "
                            "calibration images", v->name, (uint32_t)(mxu_value_elems(v) / v->dims[0]),
                            s->d->h, s->d->w, s->d->c);
        for (uint32_t b = 0; b < v->dims[0]; b++) {
            int rc = mxu_dataset_image(s->d, s->next++ % s->d->count, s->pre, h, w, c, in[k] + b * img);
            if (rc)
                return rc;
        }
    }
    return MXU_OK;
}

static int run_images(const mxu_graph *g, struct image_source *s, uint32_t count, struct calib_run *run)
{
    struct mxu_float_observer obs = {on_value, on_pre_act, run};
    float *in[MXU_NODE_MAX_INPUTS] = {0};
    int rc = MXU_OK;
    for (uint32_t k = 0; k < g->n_inputs && rc == MXU_OK; k++)
        if (!(in[k] = malloc((size_t)mxu_value_elems(&g->values[g->inputs[k]]) * sizeof(float))))
            rc = mxu_fail(MXU_ERR_NOMEM, "calibration inputs");
    for (uint32_t i = 0; i < count && rc == MXU_OK; i++) {
        rc = fill_inputs(g, s, in);
        if (rc == MXU_OK)
            rc = mxu_float_run(g, (const float *const *)in, NULL, &obs);
        if (rc == MXU_OK && run->nomem)
            rc = mxu_fail(MXU_ERR_NOMEM, "calibration histograms");
    }
    for (uint32_t k = 0; k < g->n_inputs; k++)
        free(in[k]);
    return rc;
}

static void finish_percentiles(struct calib_run *run, float percentile)
{
    for (uint32_t v = 0; v < run->c->n_values; v++)
        if (run->value_hist[v])
            run->c->value[v] = mxu_histogram_range(run->value_hist[v], percentile);
    for (uint32_t i = 0; i < run->c->n_nodes; i++)
        if (run->node_hist[i])
            run->c->pre_act[i] = mxu_histogram_range(run->node_hist[i], percentile);
}

/* Random inputs: as many runs as the budget allows (0: estimate instead). */
static uint32_t random_run_count(const mxu_graph *g, const struct mxu_compile_options *o)
{
    if (o->calib_count)
        return o->calib_count;
    uint64_t macs = mxu_graph_macs(g), n = RANDOM_MAC_BUDGET / (macs ? macs : 1);
    return n < RANDOM_IMAGES_MAX ? (uint32_t)n : RANDOM_IMAGES_MAX;
}

static int open_images(const mxu_graph *g, const struct mxu_compile_options *o, struct image_source *s,
                       uint32_t *count)
{
    uint32_t want = o->calib_count ? o->calib_count : DEFAULT_IMAGES;
    uint32_t batch = g->values[g->inputs[0]].dims[0];
    int rc = mxu_dataset_load(o->calib_path, want * batch, &s->d);
    if (rc)
        return rc;
    if (!s->d->count)
        return mxu_fail(MXU_ERR_FORMAT, "%s: no images", o->calib_path);
    *count = (s->d->count + batch - 1) / batch;
    *count = *count < want ? *count : want;
    return MXU_OK;
}

int mxu_calibrate(const mxu_graph *g, const struct mxu_compile_options *o,
                  const struct mxu_preprocess *pre, struct mxu_calibration *c)
{
    struct image_source src = {NULL, 0, o->seed ^ 0x5DEECE66Dull, pre};
    struct calib_run run = {c, o->calib_method == MXU_CALIB_PERCENTILE, NULL, NULL, 0};
    const char *method = run.percentile ? "percentile" : "minmax";
    uint32_t count = 0;
    int rc = MXU_OK;
    if (!o->calib_path && !(count = random_run_count(g, o)))
        return mxu_calibrate_estimate(g, pre, c);
    if ((rc = mxu_calibration_alloc(g, c)))
        return rc;
    run.value_hist = calloc((size_t)g->n_values + 1, sizeof *run.value_hist);
    run.node_hist = calloc((size_t)g->n_nodes + 1, sizeof *run.node_hist);
    if (!run.value_hist || !run.node_hist)
        rc = mxu_fail(MXU_ERR_NOMEM, "calibration");
    if (rc == MXU_OK && o->calib_path)
        rc = open_images(g, o, &src, &count);
    if (rc == MXU_OK)
        rc = run_images(g, &src, count, &run);
    if (rc == MXU_OK && run.percentile)
        finish_percentiles(&run, o->percentile);
    if (rc == MXU_OK)
        inputs_from_preprocessing(g, pre, c);
    snprintf(c->how, sizeof c->how, "%s:%u:%s", o->calib_path ? o->calib_path : "random", count, method);
    for (uint32_t v = 0; run.value_hist && v < g->n_values; v++)
        free(run.value_hist[v]);
    for (uint32_t i = 0; run.node_hist && i < g->n_nodes; i++)
        free(run.node_hist[i]);
    free(run.value_hist), free(run.node_hist);
    mxu_dataset_free(src.d);
    if (rc)
        mxu_calibration_free(c);
    return rc;
}
