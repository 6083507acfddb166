/* mxu run --dataset IMAGES --labels LABELS: classify a data set on the device,
 * preprocessed as the program's metadata says, and report the accuracy, the
 * cycles per inference and the wall time (with a progress bar on a terminal). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mxu_dataset.h"
#include "mxu_graph.h" /* struct mxu_preprocess */
#include "mxu_numerics.h"
#include "run.h"

#define MAX_TOP 1000

struct dataset_run {
    mxu_dataset *d;
    uint8_t *labels;
    uint32_t input, h, w, c, classes, top;
    struct mxu_preprocess pre;
    uint32_t correct, correct_top;
    double t0, wall, last_draw;
    int bar_shown;
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- preprocessing from the metadata --------------------------------------------------- */

/* "F" or "F,F,F": into v[0..4), one value repeated. */
static int float_list(const char *key, const char *s, float *v)
{
    int n = 0;
    const char *c = s;
    while (n < 4) {
        char *end;
        float x = strtof(c, &end);
        if (end == c)
            break;
        v[n++] = x;
        c = end;
        if (*c != ',')
            break;
        c++;
    }
    if (n == 0 || *c)
        return mxu_fail(MXU_ERR_FORMAT, "metadata %s='%s' is not a list of numbers", key, s);
    for (int k = n; k < 4; k++)
        v[k] = n == 1 ? v[0] : v[k];
    return MXU_OK;
}

static int preprocessing(const mxu_program *p, struct mxu_preprocess *pre)
{
    char buf[256];
    float scale[4];
    int rc = MXU_OK;
    pre->scale = 1.0f / 255.0f;
    for (int k = 0; k < 4; k++)
        pre->mean[k] = 0.0f, pre->std[k] = 1.0f;
    pre->bgr = 0;
    if (run_meta(p, "input.scale", buf, sizeof buf) && (rc = float_list("input.scale", buf, scale)) == MXU_OK)
        pre->scale = scale[0];
    if (rc == MXU_OK && run_meta(p, "input.mean", buf, sizeof buf))
        rc = float_list("input.mean", buf, pre->mean);
    if (rc == MXU_OK && run_meta(p, "input.std", buf, sizeof buf))
        rc = float_list("input.std", buf, pre->std);
    if (rc == MXU_OK && run_meta(p, "input.order", buf, sizeof buf)) {
        if (strcmp(buf, "rgb") && strcmp(buf, "bgr"))
            rc = mxu_fail(MXU_ERR_FORMAT, "metadata input.order='%s' is not rgb or bgr", buf);
        pre->bgr = !strcmp(buf, "bgr");
    }
    return rc;
}

/* ---- shapes ------------------------------------------------------------------------------- */

/* The one input tensor, and the image shape it takes. */
static int input_shape(const struct run_session *s, struct dataset_run *r)
{
    const mxu_program *p = s->p;
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            r->input = i, n++;
    if (n != 1)
        return mxu_fail(MXU_ERR_INVAL, "--dataset needs a program with one input tensor; %s has %u",
                        s->a->path, n);
    const mxu_tensor *t = &p->tensors[r->input];
    const mxu_dataset *d = r->d;
    if (t->dims[0] != 1)
        return mxu_fail(MXU_ERR_INVAL, "input tensor '%.64s' has batch %u; --dataset runs one image "
                        "per inference (batch 1)", t->name, t->dims[0]);
    if (t->layout == MXU_LAYOUT_NHWC) {
        r->h = t->dims[1], r->w = t->dims[2], r->c = t->dims[3];
        if (r->c != 1 && r->c != 3)
            return mxu_fail(MXU_ERR_INVAL, "input tensor '%.64s' is %ux%ux%ux%u: images need 1 or 3 "
                            "channels", t->name, t->dims[0], t->dims[1], t->dims[2], t->dims[3]);
        return MXU_OK;
    }
    /* NC (an MLP): the image flattened, so the sizes must agree exactly. */
    uint64_t values = (uint64_t)d->h * d->w * d->c;
    if (values != t->dims[1])
        return mxu_fail(MXU_ERR_INVAL, "the data set's images are %ux%ux%u (%llu values) but input "
                        "tensor '%.64s' is nc %ux%u", d->h, d->w, d->c, (unsigned long long)values,
                        t->name, t->dims[0], t->dims[1]);
    r->h = d->h, r->w = d->w, r->c = d->c;
    return MXU_OK;
}

static int output_classes(const struct run_session *s, struct dataset_run *r, uint32_t nlabels)
{
    const mxu_program *p = s->p;
    if (s->output == MXU_NONE)
        return mxu_fail(MXU_ERR_INVAL, "%s has no output tensor to classify with", s->a->path);
    const mxu_tensor *t = &p->tensors[s->output];
    if (t->dims[0] != 1)
        return mxu_fail(MXU_ERR_INVAL, "output tensor '%.64s' has batch %u, expected 1", t->name,
                        t->dims[0]);
    r->classes = (uint32_t)mxu_tensor_elems(t);
    for (uint32_t i = 0; i < nlabels; i++)
        if (r->labels[i] >= r->classes)
            return mxu_fail(MXU_ERR_INVAL, "%s: label %u of image %u is not one of the program's %u "
                            "classes (output '%.64s')", s->a->labels, r->labels[i], i, r->classes,
                            t->name);
    r->top = (uint32_t)(s->a->top ? s->a->top : 1);
    if (r->top > r->classes)
        r->top = r->classes;
    if (r->top > MAX_TOP)
        r->top = MAX_TOP;
    return MXU_OK;
}

static int load(const struct run_session *s, struct dataset_run *r)
{
    const struct run_args *a = s->a;
    uint32_t nlabels = 0, limit = a->limit > UINT32_MAX ? UINT32_MAX : (uint32_t)a->limit;
    int rc = mxu_dataset_load(a->dataset, limit, &r->d);
    if (rc == MXU_OK)
        rc = mxu_labels_load(a->labels, limit, &r->labels, &nlabels);
    if (rc)
        return rc;
    if (r->d->count == 0)
        return mxu_fail(MXU_ERR_INVAL, "%s holds no images", a->dataset);
    if (nlabels != r->d->count)
        return mxu_fail(MXU_ERR_INVAL, "%s has %u labels but %s has %u images%s", a->labels, nlabels,
                        a->dataset, r->d->count, a->limit ? " (after --limit)" : "");
    rc = input_shape(s, r);
    if (rc == MXU_OK)
        rc = output_classes(s, r, nlabels);
    if (rc == MXU_OK)
        rc = preprocessing(s->p, &r->pre);
    return rc;
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* A progress bar on stderr, only for a terminal and runs longer than 2 s. */
static void progress(const struct run_session *s, struct dataset_run *r, uint32_t done, int last)
{
    if (s->a->quiet || !isatty(STDERR_FILENO))
        return;
    double now = seconds(), elapsed = now - r->t0;
    if (last) {
        if (r->bar_shown)
            fprintf(stderr, "\r%78s\r", "");
        return;
    }
    if (elapsed < 2.0 || now - r->last_draw < 0.2)
        return;
    r->last_draw = now;
    r->bar_shown = 1;
    uint32_t total = r->d->count, width = 30, fill = (uint32_t)((uint64_t)width * done / total);
    char bar[31];
    for (uint32_t i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double rate = done / elapsed;
    fprintf(stderr, "\r[%s] %u/%u images  %.1f/s  accuracy %.1f%%  ETA %.0f s ", bar, done, total,
            rate, 100.0 * r->correct / (done ? done : 1), rate > 0 ? (total - done) / rate : 0.0);
    fflush(stderr);
}

static int classify(struct run_session *s, struct dataset_run *r, uint32_t i, float *img)
{
    const mxu_tensor *t = &s->p->tensors[r->input];
    uint32_t idx[MAX_TOP];
    float scores[MAX_TOP];
    int rc = mxu_dataset_image(r->d, i, &r->pre, r->h, r->w, r->c, img);
    if (rc)
        return rc;
    int8_t *q = (int8_t *)s->values[r->input];
    for (uint64_t k = 0; k < mxu_tensor_elems(t); k++)
        q[k] = mxu_quantize_f32(img[k], t->scale, t->zero_point);
    s->image = i;
    rc = run_infer(s);
    if (rc == MXU_OK)
        rc = run_top_k(s, r->top, idx, scores);
    if (rc)
        return rc;
    r->correct += idx[0] == r->labels[i];
    for (uint32_t k = 0; k < r->top; k++)
        r->correct_top += idx[k] == r->labels[i];
    return MXU_OK;
}

/* ---- the report ---------------------------------------------------------------------------- */

/* float_accuracy= as a fraction (the metadata may say 0.91 or 91.0). */
static int float_accuracy(const mxu_program *p, double *v)
{
    char buf[64];
    if (!run_meta(p, "float_accuracy", buf, sizeof buf))
        return 0;
    char *end;
    *v = strtod(buf, &end);
    if (end == buf || *v < 0)
        return 0;
    if (*v > 1.0)
        *v /= 100.0;
    return 1;
}

static void report_human(const struct run_session *s, const struct dataset_run *r)
{
    const struct run_args *a = s->a;
    const mxu_program *p = s->p;
    const mxu_tensor *t = &p->tensors[r->input];
    uint32_t n = s->inferences, host = 0;
    double fa, per = (double)s->total.cycles / n;
    for (uint32_t i = 0; i < p->n_layers; i++)
        host += s->layers[i].on_host;
    printf("program   %s on %s (%ux%u), %u layers (%u on the device, %u on the host)\n", a->path,
           a->backend, p->config.rows, p->config.cols, p->n_layers, p->n_layers - host, host);
    printf("data set  %s: %u images %ux%ux%u -> input '%.64s' %ux%ux%u (scale %g, mean %g,%g,%g, "
           "std %g,%g,%g, %s)\n", a->dataset, n, r->d->h, r->d->w, r->d->c, t->name, r->h, r->w, r->c,
           (double)r->pre.scale, (double)r->pre.mean[0], (double)r->pre.mean[1],
           (double)r->pre.mean[2], (double)r->pre.std[0], (double)r->pre.std[1],
           (double)r->pre.std[2], r->pre.bgr ? "bgr" : "rgb");
    run_print_layers(s);
    printf("accuracy  %.2f%% (%u/%u)", 100.0 * r->correct / n, r->correct, n);
    if (a->top > 1)
        printf("  top-%u %.2f%%", r->top, 100.0 * r->correct_top / n);
    if (float_accuracy(p, &fa))
        printf("  float %.2f%% (metadata)", 100.0 * fa);
    printf("\n");
    printf("cycles    %.0f per inference (%" PRIu64 " MACs, utilization %.1f%%)\n", per, s->macs,
           100.0 * run_utilization(p, s->macs, (uint64_t)per));
    printf("wall      %.3f s (%.3f ms per image, %.1f images/s; host layers %.3f ms per image)\n",
           r->wall, 1e3 * r->wall / n, n / r->wall, 1e3 * s->host_seconds / n);
    if (a->check) {
        if (s->mismatch.found)
            printf("check     MISMATCH in %u of %u inferences; first: %s\n", s->mismatched_inferences,
                   n, s->mismatch.text);
        else
            printf("check     match (%u inferences)\n", n);
    }
}

static void report_json(const struct run_session *s, const struct dataset_run *r)
{
    const struct run_args *a = s->a;
    const mxu_program *p = s->p;
    uint32_t n = s->inferences;
    uint64_t per = (uint64_t)((double)s->total.cycles / n + 0.5);
    double fa;
    printf("{\"program\": ");
    run_json_string(a->path);
    printf(", \"backend\": \"%s\", \"rows\": %u, \"cols\": %u, \"images\": %u, ", a->backend,
           p->config.rows, p->config.cols, n);
    printf("\"accuracy\": %.6f, ", (double)r->correct / n);
    if (a->top > 1)
        printf("\"top_k\": %u, \"top_k_accuracy\": %.6f, ", r->top, (double)r->correct_top / n);
    if (float_accuracy(p, &fa))
        printf("\"float_accuracy\": %.6f, ", fa);
    else
        printf("\"float_accuracy\": null, ");
    printf("\"match\": %s, ", a->check ? (s->mismatch.found ? "false" : "true") : "null");
    if (a->check)
        printf("\"mismatched_inferences\": %u, ", s->mismatched_inferences);
    printf("\"total_cycles\": %" PRIu64 ", \"cycles_per_inference\": %" PRIu64 ", \"macs\": %" PRIu64
           ", \"utilization\": %.4f, ", s->total.cycles, per, s->macs, run_utilization(p, s->macs, per));
    printf("\"wall_seconds\": %.6f, \"images_per_second\": %.3f, ", r->wall, n / r->wall);
    run_json_layers(s);
    printf("}\n");
}

int run_dataset(struct run_session *s)
{
    struct dataset_run r;
    float *img = NULL;
    memset(&r, 0, sizeof r);
    int rc = load(s, &r);
    if (rc == MXU_OK && !(img = malloc((size_t)r.h * r.w * r.c * sizeof *img)))
        rc = mxu_fail(MXU_ERR_NOMEM, "image buffer");
    r.t0 = seconds();
    for (uint32_t i = 0; rc == MXU_OK && i < r.d->count; i++) {
        rc = classify(s, &r, i, img);
        progress(s, &r, i + 1, 0);
    }
    r.wall = seconds() - r.t0;
    progress(s, &r, 0, 1);
    int status = CLI_OK;
    if (rc) {
        status = cli_error("run", rc, "%s on %s", s->a->path, s->a->backend);
    } else {
        if (s->a->json)
            report_json(s, &r);
        else
            report_human(s, &r);
        if (s->mismatch.found) {
            fprintf(stderr, "mxu run: mismatch: %s\n", s->mismatch.text);
            status = CLI_MISMATCH;
        }
    }
    free(img);
    free(r.labels);
    mxu_dataset_free(r.d);
    return status;
}
