/* libFuzzer target for the data-set readers (make fuzz, mk/fuzz_dataset.mk).
 *
 * The readers take paths (zlib's gzopen decides plain or gzip), so each input is
 * written to a per-process temporary file and loaded as images and as labels,
 * with and without a limit. Whatever loads must be self-consistent: a sane
 * shape, the limit honoured, and every image preprocessable into the data set's
 * own shape and into a resized RGB/gray one with finite values. A violation
 * aborts, which libFuzzer reports as a crash. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mxu_dataset.h"
#include "mxu_error.h"
#include "mxu_graph.h"

static char tmp_file[64];

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_dataset: %s: %s\n", what, mxu_error_detail());
        abort();
    }
}

static void remove_tmp(void)
{
    if (tmp_file[0])
        unlink(tmp_file);
}

static void write_input(const uint8_t *data, size_t size)
{
    if (!tmp_file[0]) {
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(tmp_file, sizeof tmp_file, "%.40s/mxu-fuzz-dataset-%d", dir, (int)getpid());
        atexit(remove_tmp);
    }
    FILE *f = fopen(tmp_file, "wb");
    check(f != NULL, "cannot create the temporary file");
    check(fwrite(data, 1, size, f) == size, "cannot write the temporary file");
    check(fclose(f) == 0, "cannot close the temporary file");
}

static void check_image(const mxu_dataset *d, uint32_t i, uint32_t h, uint32_t w, uint32_t c,
                        int bgr)
{
    struct mxu_preprocess pre = {.scale = 1.0f / 255.0f, .mean = {0.5f, 0.25f, 0, 0},
                                 .std = {0.5f, 1, 2, 1}, .bgr = bgr};
    float *out = malloc((size_t)h * w * c * sizeof *out);
    check(out != NULL, "out of memory");
    check(mxu_dataset_image(d, i, &pre, h, w, c, out) == MXU_OK, "preprocessing failed");
    for (size_t k = 0; k < (size_t)h * w * c; k++) {
        /* (x/255 - mean) / std with x in 0..255 stays inside [-1, 2] */
        check(isfinite(out[k]) && out[k] >= -1.0001f && out[k] <= 2.0001f,
              "preprocessed value out of range");
    }
    free(out);
}

static void load_images(uint32_t limit)
{
    mxu_dataset *d = NULL;
    int rc = mxu_dataset_load(tmp_file, limit, &d);
    if (rc != MXU_OK) {
        check(d == NULL, "failed load returned a data set");
        check(rc < 0 && mxu_error_detail()[0] != 0, "failure without a detail");
        return;
    }
    check(d->count > 0 && (limit == 0 || d->count <= limit), "count breaks the limit");
    check(d->h > 0 && d->w > 0 && (d->c == 1 || d->c == 3), "bad shape");
    check(d->pixels != NULL, "no pixels");
    /* the data set's own shape, and a small resize to the other channel count */
    if ((uint64_t)d->h * d->w <= 4096)
        check_image(d, d->count - 1, d->h, d->w, d->c, 0);
    check_image(d, 0, 3, 5, d->c == 1 ? 3 : 1, 1);
    check_image(d, d->count - 1, 2, 1, 3, 0);
    mxu_dataset_free(d);
}

static void load_labels(uint32_t limit)
{
    uint8_t *labels = NULL;
    uint32_t count = 0;
    int rc = mxu_labels_load(tmp_file, limit, &labels, &count);
    if (rc != MXU_OK) {
        check(labels == NULL && count == 0, "failed label load returned labels");
        return;
    }
    check(count > 0 && (limit == 0 || count <= limit), "label count breaks the limit");
    volatile uint8_t sink = labels[count - 1]; /* ASan checks the extent */
    (void)sink;
    free(labels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_input(data, size);
    load_images(0);
    load_images(2);
    load_labels(0);
    load_labels(3);
    return 0;
}
