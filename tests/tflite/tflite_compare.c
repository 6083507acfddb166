/* Helpers of the TFLite interpreter comparisons (tflite_compare.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxu.h"
#include "mxu_compiler.h"
#include "mxu_execute.h"
#include "mxu_numerics.h"
#include "mxu_reference.h"
#include "tflite_compare.h"

const char *tflite_ref_dir(void)
{
    static char dir[512];
    const char *build = getenv("MXU_BUILD");
    char skipped[600];
    snprintf(dir, sizeof dir, "%s/tflite-ref", build ? build : "build");
    snprintf(skipped, sizeof skipped, "%s/SKIPPED", dir);
    FILE *f = fopen(skipped, "r");
    if (f) {
        char why[300] = "";
        if (!fgets(why, sizeof why, f))
            why[0] = 0;
        fclose(f);
        fprintf(stderr, "\n*** TFLITE INTERPRETER COMPARISON SKIPPED: %s"
                        "*** (the pip install of ai-edge-litert failed; see %s)\n\n", why, skipped);
        cr_skip_test("TFLite interpreter not installed: %s", why);
        return NULL;
    }
    char stamp[600];
    snprintf(stamp, sizeof stamp, "%s/.stamp", dir);
    f = fopen(stamp, "r");
    if (!f) {
        fprintf(stderr, "\n*** TFLITE INTERPRETER COMPARISON SKIPPED: no reference outputs in %s "
                        "(run `make test`, which makes them) ***\n\n", dir);
        cr_skip_test("no TFLite reference outputs in %s", dir);
        return NULL;
    }
    fclose(f);
    return dir;
}

static void *read_file_if(const char *dir, const char *name, const char *ext, uint64_t *len, int optional)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    FILE *f = fopen(path, "rb");
    if (!f && optional)
        return NULL;
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n, "reading %s", path);
    fclose(f);
    *len = (uint64_t)n;
    return buf;
}

static void *read_file(const char *dir, const char *name, const char *ext, uint64_t *len)
{
    return read_file_if(dir, name, ext, len, 0);
}

void tflite_ref_load(const char *dir, const char *name, struct tflite_ref *r)
{
    uint64_t len;
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    char *txt = read_file(dir, name, ".txt", &len);
    txt[len] = 0;
    const char *fo = strstr(txt, "float_out="), *im = strstr(txt, "images=");
    cr_assert(fo && im, "%s.txt: missing keys", name);
    r->float_out = atoi(fo + 10);
    r->images = (uint32_t)atoi(im + 7);
    free(txt);
    cr_assert_gt(r->images, 0);
    r->in = read_file(dir, name, ".in", &len);
    r->in_bytes = len / r->images;
    cr_assert_eq(len, r->in_bytes * r->images, "%s.in: %llu bytes", name, (unsigned long long)len);
    const char *kinds[2] = {".opt", ".ref"};
    for (int k = 0; k < 2; k++) {
        char ext[16];
        snprintf(ext, sizeof ext, "%s.out", kinds[k]);
        r->out[k] = read_file(dir, name, ext, &len);
        r->out_bytes = len / r->images;
        cr_assert_eq(len, r->out_bytes * r->images);
        if (r->float_out) {
            snprintf(ext, sizeof ext, "%s.f32", kinds[k]);
            r->f32[k] = read_file(dir, name, ext, &len);
            cr_assert_eq(len, r->out_bytes * r->images * sizeof(float));
        }
    }
    r->xnn = read_file_if(dir, name, ".xnn.out", &len, 1);
    if (r->xnn)
        cr_assert_eq(len, r->out_bytes * r->images, "%s.xnn.out: %llu bytes", name, (unsigned long long)len);
}

void tflite_ref_free(struct tflite_ref *r)
{
    free(r->in);
    free(r->xnn);
    for (int k = 0; k < 2; k++)
        free(r->out[k]), free(r->f32[k]);
}

mxu_program *tflite_compile(const char *name, const char *arch)
{
    char path[300];
    snprintf(path, sizeof path, TFLITE_MODEL_DIR "/%s.tflite", name);
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_tflite_load(path, &g), MXU_OK, "%s", mxu_error_detail());
    mxu_program *p = tflite_compile_graph(g, arch);
    mxu_graph_free(g);
    return p;
}

mxu_program *tflite_compile_graph(mxu_graph *g, const char *arch)
{
    struct mxu_compile_options o;
    mxu_compile_options_init(&o);
    cr_assert_eq(mxu_config_parse(&o.config, arch), MXU_OK, "%s", mxu_error_detail());
    o.calib_count = 1; /* every quantization comes from the file */
    mxu_program *p = NULL;
    cr_assert_eq(mxu_compile(g, &o, &p), MXU_OK, "%s: %s", g->source, mxu_error_detail());
    return p;
}

uint32_t tflite_image_count(const struct tflite_ref *r, uint32_t dflt)
{
    const char *env = getenv("MXU_TFLITE_IMAGES");
    uint32_t n = env ? (uint32_t)strtoul(env, NULL, 10) : dflt;
    return n < r->images ? n : r->images;
}

static uint32_t find_tensor(const mxu_program *p, uint32_t role)
{
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].role == role)
            return i;
    cr_assert_fail("program has no tensor of role %u", role);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* mxu's golden reference run of one image (inputs in v[in]). */
static void golden(const mxu_program *p, uint8_t **v)
{
    cr_assert_eq(mxu_reference_run(p, v), MXU_OK, "reference: %s", mxu_error_detail());
}

static uint64_t count_diff(const int8_t *a, const int8_t *b, uint64_t n)
{
    uint64_t d = 0;
    for (uint64_t k = 0; k < n; k++)
        d += a[k] != b[k];
    return d;
}

static uint64_t argmax8(const int8_t *v, uint64_t n)
{
    uint64_t best = 0;
    for (uint64_t k = 1; k < n; k++)
        best = v[k] > v[best] ? k : best;
    return best;
}

void tflite_run(const mxu_program *p, const char *uri, const struct tflite_ref *r, uint32_t count,
                uint32_t check_golden, struct tflite_result *res)
{
    uint32_t in_t = find_tensor(p, MXU_ROLE_INPUT), out_t = find_tensor(p, MXU_ROLE_OUTPUT);
    const mxu_tensor *ot = &p->tensors[out_t];
    cr_assert_eq(mxu_tensor_bytes(&p->tensors[in_t]), r->in_bytes, "%s: input size", r->name);
    cr_assert_eq(mxu_tensor_bytes(ot), r->out_bytes, "%s: output size", r->name);
    memset(res, 0, sizeof *res);
    res->first_bad_image[0] = res->first_bad_image[1] = UINT32_MAX;
    uint8_t **v = calloc(p->n_tensors, sizeof *v);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        v[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1);
    int8_t *got = malloc(r->out_bytes);
    mxu_device *dev = NULL;
    cr_assert_eq(mxu_open(uri, &dev), MXU_OK, "%s: %s", uri, mxu_error_detail());
    cr_assert_eq(mxu_program_load(dev, p), MXU_OK, "%s", mxu_error_detail());
    const char *env = getenv("MXU_TFLITE_EMULATE");
    uint32_t emulate = env ? (uint32_t)strtoul(env, NULL, 10) : 300;
    res->emu_images = emulate < count ? emulate : count;
    double t0 = now();
    for (uint32_t img = 0; img < count; img++) {
        const int8_t *in = r->in + (uint64_t)img * r->in_bytes;
        cr_assert_eq(mxu_tensor_write(dev, p, in_t, in, r->in_bytes), MXU_OK, "%s", mxu_error_detail());
        int rc = mxu_program_execute(dev, p, 0, NULL, NULL);
        cr_assert_eq(rc, MXU_OK, "%s image %u: %s", r->name, img, mxu_error_detail());
        cr_assert_eq(mxu_tensor_read(dev, p, out_t, got, r->out_bytes), MXU_OK, "%s", mxu_error_detail());
        if (img < (uint32_t)check_golden) {
            memcpy(v[in_t], in, r->in_bytes);
            golden(p, v);
            res->golden_mismatch += memcmp(v[out_t], got, r->out_bytes) != 0;
            res->golden_images++;
        }
        if (img < emulate) {
            memcpy(v[in_t], in, r->in_bytes);
            tflite_emulate_reference(p, v);
            res->emu_mismatch += count_diff((const int8_t *)v[out_t], r->out[1] + (uint64_t)img * r->out_bytes,
                                            r->out_bytes);
        }
        for (int k = 0; k < 2; k++) {
            const int8_t *want_row = r->out[k] + (uint64_t)img * r->out_bytes;
            res->top1_agree[k] += argmax8(got, r->out_bytes) == argmax8(want_row, r->out_bytes);
        }
        if (r->xnn) {
            const int8_t *x = r->xnn + (uint64_t)img * r->out_bytes;
            res->xnn_mismatch += count_diff(got, x, r->out_bytes);
            res->xnn_top1_agree += argmax8(got, r->out_bytes) == argmax8(x, r->out_bytes);
        }
        for (int k = 0; k < 2; k++) {
            const int8_t *want = r->out[k] + (uint64_t)img * r->out_bytes;
            for (uint64_t b = 0; b < r->out_bytes; b++) {
                int bad = got[b] != want[b];
                res->mismatch[k] += (uint64_t)bad;
                if (bad && res->first_bad_image[k] == UINT32_MAX)
                    res->first_bad_image[k] = img;
                if (r->float_out) {
                    float f = mxu_dequantize(got[b], ot->scale, ot->zero_point);
                    float w = r->f32[k][(uint64_t)img * r->out_bytes + b];
                    res->f32_mismatch[k] += memcmp(&f, &w, sizeof f) != 0;
                }
            }
        }
    }
    res->seconds = now() - t0;
    res->images = count;
    res->bytes = (uint64_t)count * r->out_bytes;
    mxu_close(dev);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(v[i]);
    free(v);
    free(got);
}

void tflite_append_result(const char *dir, const char *line)
{
    char path[600];
    snprintf(path, sizeof path, "%s/results.txt", dir);
    FILE *f = fopen(path, "a");
    if (f) {
        fputs(line, f);
        fclose(f);
    }
}
