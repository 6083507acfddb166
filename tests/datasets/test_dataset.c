/* Data sets (hostlib/dataset.c): IDX images and labels, PGM/PPM files and
 * directories, gzip-compressed or not, every malformed header and truncation
 * named with file and offset; preprocessing (resize, channels, normalization,
 * BGR); and Debian's real Fashion-MNIST files. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "mxu_dataset.h"
#include "mxu_error.h"
#include "mxu_graph.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"

/* ---- helpers: files under /tmp, one name space per test process ----------------------- */

static const char *tmp_path(const char *name)
{
    static char buf[8][256];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "/tmp/mxu-ds-%d-%s", (int)getpid(), name);
    return p;
}

static void write_at(const char *path, const void *data, size_t len, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb9");
        cr_assert_not_null(f);
        if (len)
            cr_assert_eq(gzwrite(f, data, (unsigned)len), (int)len);
        cr_assert_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(data, 1, len, f), len);
        cr_assert_eq(fclose(f), 0);
    }
}

static const char *write_file(const char *name, const void *data, size_t len, int gz)
{
    const char *path = tmp_path(name);
    write_at(path, data, len, gz);
    return path;
}

static uint8_t *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    uint8_t *b = malloc(*len ? *len : 1);
    cr_assert_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void put_be32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* An IDX file: magic 00 00 08 ndims, dims, then pixel i = (i * 7 + 3) & 255. */
static size_t make_idx(uint8_t *buf, unsigned ndims, const uint32_t *dims, size_t data_len)
{
    buf[0] = buf[1] = 0;
    buf[2] = 0x08;
    buf[3] = (uint8_t)ndims;
    for (unsigned i = 0; i < ndims; i++)
        put_be32(buf + 4 + 4 * i, dims[i]);
    size_t off = 4 + 4 * ndims;
    for (size_t i = 0; i < data_len; i++)
        buf[off + i] = (uint8_t)((i * 7 + 3) & 255);
    return off + data_len;
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)((i * 7 + 3) & 255);
}

/* Load expecting failure `status`, with the detail mentioning each of the words. */
static void expect_fail(const char *path, int status, const char *w1, const char *w2)
{
    mxu_dataset *d = (mxu_dataset *)0x1;
    int rc = mxu_dataset_load(path, 0, &d);
    cr_assert_eq(rc, status, "%s: got %d (%s), want %d", path, rc, mxu_error_detail(), status);
    cr_assert_null(d);
    const char *detail = mxu_error_detail();
    cr_assert(strstr(detail, path), "detail '%s' does not name %s", detail, path);
    if (w1)
        cr_assert(strstr(detail, w1), "detail '%s' lacks '%s'", detail, w1);
    if (w2)
        cr_assert(strstr(detail, w2), "detail '%s' lacks '%s'", detail, w2);
}

static struct mxu_preprocess default_pre(void)
{
    struct mxu_preprocess p = {.scale = 1.0f / 255.0f, .mean = {0, 0, 0, 0},
                               .std = {1, 1, 1, 1}, .bgr = 0};
    return p;
}

/* ---- IDX images ------------------------------------------------------------------------ */

Test(dataset, idx3_plain_and_gzip)
{
    uint8_t buf[256];
    uint32_t dims[] = {3, 4, 5};
    size_t len = make_idx(buf, 3, dims, 60);
    for (int gz = 0; gz < 2; gz++) {
        const char *path = write_file(gz ? "a.idx.gz" : "a.idx", buf, len, gz);
        mxu_dataset *d = NULL;
        cr_assert_eq(mxu_dataset_load(path, 0, &d), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(d->count, 3);
        cr_assert_eq(d->h, 4);
        cr_assert_eq(d->w, 5);
        cr_assert_eq(d->c, 1);
        for (size_t i = 0; i < 60; i++)
            cr_assert_eq(d->pixels[i], pattern(i), "pixel %zu", i);
        mxu_dataset_free(d);
        unlink(path);
    }
}

Test(dataset, idx_limit_reads_only_the_first_images)
{
    uint8_t buf[256];
    uint32_t dims[] = {5, 2, 3};
    size_t len = make_idx(buf, 3, dims, 30);
    const char *path = write_file("lim.idx", buf, len, 0);
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(path, 2, &d), MXU_OK);
    cr_assert_eq(d->count, 2);
    cr_assert_eq(d->pixels[11], pattern(11));
    mxu_dataset_free(d);
    cr_assert_eq(mxu_dataset_load(path, 99, &d), MXU_OK);
    cr_assert_eq(d->count, 5);
    mxu_dataset_free(d);
    /* a limit inside the data also works on a file truncated after it */
    len -= 6;
    path = write_file("lim2.idx", buf, len, 0);
    cr_assert_eq(mxu_dataset_load(path, 4, &d), MXU_OK);
    cr_assert_eq(d->count, 4);
    mxu_dataset_free(d);
    expect_fail(path, MXU_ERR_FORMAT, "truncated", "offset 40");
    unlink(path);
}

Test(dataset, idx4_rgb_images)
{
    uint8_t buf[256];
    uint32_t dims[] = {2, 3, 2, 3};
    size_t len = make_idx(buf, 4, dims, 36);
    const char *path = write_file("rgb.idx", buf, len, 0);
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(path, 0, &d), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(d->count, 2);
    cr_assert_eq(d->h, 3);
    cr_assert_eq(d->w, 2);
    cr_assert_eq(d->c, 3);
    cr_assert_eq(d->pixels[35], pattern(35));
    mxu_dataset_free(d);
    dims[3] = 2;
    len = make_idx(buf, 4, dims, 24);
    path = write_file("rgb2.idx", buf, len, 0);
    expect_fail(path, MXU_ERR_UNSUPPORTED, "2 channels", "offset 16");
    unlink(path);
}

Test(dataset, idx_malformed_headers)
{
    uint8_t buf[256];
    uint32_t dims[] = {2, 2, 2};
    size_t len = make_idx(buf, 3, dims, 8);

    buf[0] = 1;
    expect_fail(write_file("m0.idx", buf, len, 0), MXU_ERR_FORMAT, "not an IDX", "offset 0");
    buf[0] = 0;
    buf[2] = 0x0B; /* int16 */
    expect_fail(write_file("m1.idx", buf, len, 0), MXU_ERR_UNSUPPORTED, "0x0b", "offset 2");
    buf[2] = 0x08;
    buf[3] = 2;
    expect_fail(write_file("m2.idx", buf, len, 0), MXU_ERR_FORMAT, "2 dimension", "offset 3");
    buf[3] = 1;
    expect_fail(write_file("m3.idx", buf, len, 0), MXU_ERR_FORMAT, "label file", "offset 3");
    buf[3] = 3;
    put_be32(buf + 8, 0); /* rows 0 */
    expect_fail(write_file("m4.idx", buf, len, 0), MXU_ERR_FORMAT, "dimension 1", "offset 8");
    put_be32(buf + 8, 2);
    put_be32(buf + 4, 0); /* count 0 */
    expect_fail(write_file("m5.idx", buf, len, 0), MXU_ERR_FORMAT, "offset 4", NULL);
    /* sizes whose product overflows 32 bits: refused before any allocation */
    put_be32(buf + 4, 0xFFFFFFFFu);
    put_be32(buf + 8, 0x10000u);
    put_be32(buf + 12, 0x10000u);
    expect_fail(write_file("m6.idx", buf, len, 0), MXU_ERR_LIMIT, "65536x65536x1", NULL);
    /* a hostile count on a tiny file: truncated, not a huge allocation */
    put_be32(buf + 8, 28);
    put_be32(buf + 12, 28);
    expect_fail(write_file("m7.idx", buf, len, 0), MXU_ERR_FORMAT, "truncated", "offset 24");
    expect_fail(write_file("m8.idx", buf, 0, 0), MXU_ERR_FORMAT, "not an IDX", NULL);
    for (int i = 0; i < 9; i++) {
        char name[32];
        snprintf(name, sizeof name, "m%d.idx", i);
        unlink(tmp_path(name));
    }
}

/* Every proper prefix of a valid file fails as truncated, naming the file and offset. */
Test(dataset, idx_truncated_at_every_byte)
{
    uint8_t buf[256];
    uint32_t dims[] = {2, 3, 3};
    size_t len = make_idx(buf, 3, dims, 18);
    for (size_t cut = 0; cut < len; cut++) {
        const char *path = write_file("cut.idx", buf, cut, 0);
        mxu_dataset *d = NULL;
        int rc = mxu_dataset_load(path, 0, &d);
        cr_assert_eq(rc, MXU_ERR_FORMAT, "cut %zu: %d %s", cut, rc, mxu_error_detail());
        cr_assert_null(d);
        cr_assert(strstr(mxu_error_detail(), path), "%s", mxu_error_detail());
        if (cut >= 4) {
            char want[64];
            snprintf(want, sizeof want, "truncated at offset %zu", cut);
            cr_assert(strstr(mxu_error_detail(), want), "cut %zu: %s", cut, mxu_error_detail());
        }
    }
    unlink(tmp_path("cut.idx"));
}

Test(dataset, gzip_truncated_and_corrupt)
{
    uint8_t buf[2048];
    uint32_t dims[] = {4, 16, 16};
    size_t len = make_idx(buf, 3, dims, 1024);
    const char *path = write_file("z.idx.gz", buf, len, 1);
    size_t zlen;
    uint8_t *z = read_whole(path, &zlen);
    cr_assert_gt(zlen, 20);
    /* cut the compressed stream anywhere: always a format error, never a crash */
    for (size_t cut = 1; cut < zlen; cut++) {
        const char *p = write_file("zc.idx", z, cut, 0);
        mxu_dataset *d = NULL;
        int rc = mxu_dataset_load(p, 0, &d);
        cr_assert_eq(rc, MXU_ERR_FORMAT, "cut %zu of %zu: %d %s", cut, zlen, rc,
                     mxu_error_detail());
        cr_assert_null(d);
    }
    /* a cut in the middle of the deflate data reports truncation */
    expect_fail(write_file("zc.idx", z, zlen / 2, 0), MXU_ERR_FORMAT, "truncated", "offset");
    /* damaged deflate data: corrupt, or a checksum mismatch */
    for (size_t i = 12; i < zlen - 8; i += 3)
        z[i] ^= 0x55;
    const char *bad = write_file("zd.idx", z, zlen, 0);
    mxu_dataset *d = NULL;
    int rc = mxu_dataset_load(bad, 0, &d);
    cr_assert_eq(rc, MXU_ERR_FORMAT, "%d %s", rc, mxu_error_detail());
    cr_assert(strstr(mxu_error_detail(), bad));
    free(z);
    unlink(path);
    unlink(tmp_path("zc.idx"));
    unlink(bad);
}

Test(dataset, missing_file_is_an_io_error)
{
    mxu_dataset *d = NULL;
    const char *path = tmp_path("does-not-exist.idx");
    cr_assert_eq(mxu_dataset_load(path, 0, &d), MXU_ERR_IO);
    cr_assert(strstr(mxu_error_detail(), path));
    uint8_t *l = NULL;
    uint32_t n = 7;
    cr_assert_eq(mxu_labels_load(path, 0, &l, &n), MXU_ERR_IO);
    cr_assert_null(l);
    cr_assert_eq(n, 0);
    cr_assert_eq(mxu_dataset_load(NULL, 0, &d), MXU_ERR_INVAL);
    cr_assert_eq(mxu_dataset_load(path, 0, NULL), MXU_ERR_INVAL);
    mxu_dataset_free(NULL);
}

/* ---- labels ------------------------------------------------------------------------------ */

Test(dataset, labels_plain_gzip_and_limit)
{
    uint8_t buf[64];
    uint32_t dims[] = {10};
    size_t len = make_idx(buf, 1, dims, 10);
    for (int gz = 0; gz < 2; gz++) {
        const char *path = write_file(gz ? "l.idx.gz" : "l.idx", buf, len, gz);
        uint8_t *l = NULL;
        uint32_t n = 0;
        cr_assert_eq(mxu_labels_load(path, 0, &l, &n), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(n, 10);
        for (uint32_t i = 0; i < n; i++)
            cr_assert_eq(l[i], pattern(i));
        free(l);
        cr_assert_eq(mxu_labels_load(path, 4, &l, &n), MXU_OK);
        cr_assert_eq(n, 4);
        cr_assert_eq(l[3], pattern(3));
        free(l);
        unlink(path);
    }
}

Test(dataset, labels_malformed)
{
    uint8_t buf[64];
    uint32_t dims[] = {10};
    size_t len = make_idx(buf, 1, dims, 10);
    uint8_t *l = NULL;
    uint32_t n;
    const char *path = write_file("lt.idx", buf, len - 1, 0);
    cr_assert_eq(mxu_labels_load(path, 0, &l, &n), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "truncated at offset 17"), "%s", mxu_error_detail());
    cr_assert_null(l);
    uint32_t idims[] = {1, 2, 2};
    len = make_idx(buf, 3, idims, 4);
    path = write_file("lt.idx", buf, len, 0);
    cr_assert_eq(mxu_labels_load(path, 0, &l, &n), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "labels need 1"), "%s", mxu_error_detail());
    path = write_file("lt.idx", "P5\n1 1\n255\n\x01", 12, 0);
    cr_assert_eq(mxu_labels_load(path, 0, &l, &n), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "not an IDX label file"), "%s", mxu_error_detail());
    cr_assert_eq(mxu_labels_load(path, 0, NULL, &n), MXU_ERR_INVAL);
    unlink(path);
}

/* ---- PGM / PPM --------------------------------------------------------------------------- */

static const char *write_pnm(const char *name, const char *header, const uint8_t *data,
                             size_t len, int gz)
{
    uint8_t buf[4096];
    size_t h = strlen(header);
    cr_assert_lt(h + len, sizeof buf);
    memcpy(buf, header, h);
    memcpy(buf + h, data, len);
    return write_file(name, buf, h + len, gz);
}

Test(dataset, pgm_with_comments_plain_and_gzip)
{
    const uint8_t px[6] = {0, 10, 20, 200, 254, 255};
    for (int gz = 0; gz < 2; gz++) {
        const char *path = write_pnm(gz ? "c.pgm.gz" : "c.pgm",
                                     "P5 # a comment\n#another\n3\t# w\n 2\r\n255\n", px, 6, gz);
        mxu_dataset *d = NULL;
        cr_assert_eq(mxu_dataset_load(path, 0, &d), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(d->count, 1);
        cr_assert_eq(d->w, 3);
        cr_assert_eq(d->h, 2);
        cr_assert_eq(d->c, 1);
        cr_assert_arr_eq(d->pixels, px, 6);
        mxu_dataset_free(d);
        unlink(path);
    }
}

Test(dataset, ppm_rgb)
{
    uint8_t px[2 * 2 * 3];
    for (int i = 0; i < 12; i++)
        px[i] = (uint8_t)(i * 20);
    const char *path = write_pnm("c.ppm", "P6\n2 2\n255\n", px, 12, 0);
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(path, 0, &d), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(d->c, 3);
    cr_assert_eq(d->h, 2);
    cr_assert_arr_eq(d->pixels, px, 12);
    mxu_dataset_free(d);
    unlink(path);
}

Test(dataset, pnm_maxval_scaling_8_and_16_bit)
{
    const uint8_t px4[4] = {0, 5, 10, 15};
    const char *path = write_pnm("s.pgm", "P5 2 2 15\n", px4, 4, 0);
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(path, 0, &d), MXU_OK, "%s", mxu_error_detail());
    const uint8_t want4[4] = {0, 85, 170, 255};
    cr_assert_arr_eq(d->pixels, want4, 4);
    mxu_dataset_free(d);

    /* 16-bit big-endian samples, scaled with rounding */
    const uint8_t px16[6] = {0x00, 0x00, 0x80, 0x00, 0xFF, 0xFF};
    path = write_pnm("s16.pgm", "P5\n3 1\n65535\n", px16, 6, 0);
    cr_assert_eq(mxu_dataset_load(path, 0, &d), MXU_OK, "%s", mxu_error_detail());
    const uint8_t want16[3] = {0, 128, 255};
    cr_assert_arr_eq(d->pixels, want16, 3);
    mxu_dataset_free(d);

    /* a sample above maxval */
    const uint8_t over[4] = {0, 5, 16, 15};
    path = write_pnm("s.pgm", "P5 2 2 15\n", over, 4, 0);
    expect_fail(path, MXU_ERR_FORMAT, "exceeds maxval 15", "offset 12");
    const uint8_t over16[6] = {0x00, 0x00, 0x03, 0xE9, 0, 0};
    path = write_pnm("s16.pgm", "P5\n3 1\n1000\n", over16, 6, 0);
    expect_fail(path, MXU_ERR_FORMAT, "sample 1001", "offset 14");
    unlink(tmp_path("s.pgm"));
    unlink(path);
}

Test(dataset, pnm_multi_image_stream_and_limit)
{
    uint8_t buf[128];
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
        n += (size_t)sprintf((char *)buf + n, "P5 2 1 255\n");
        buf[n++] = (uint8_t)(10 * k);
        buf[n++] = (uint8_t)(10 * k + 1);
    }
    buf[n++] = '\n';
    const char *path = write_file("multi.pgm", buf, n, 0);
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(path, 0, &d), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(d->count, 3);
    cr_assert_eq(d->pixels[5], 21);
    mxu_dataset_free(d);
    cr_assert_eq(mxu_dataset_load(path, 2, &d), MXU_OK);
    cr_assert_eq(d->count, 2);
    mxu_dataset_free(d);
    /* a second image of another shape, then garbage after an image */
    path = write_file("multi.pgm", "P5 1 1 255\n\x01P5 2 1 255\n\x01\x02", 25, 0);
    expect_fail(path, MXU_ERR_FORMAT, "1x2x1", "offset 12");
    path = write_file("multi.pgm", "P5 1 1 255\n\x01xyz", 15, 0);
    expect_fail(path, MXU_ERR_FORMAT, "unexpected data", "offset 12");
    unlink(path);
}

Test(dataset, pnm_malformed_headers)
{
    static const struct {
        const char *text;
        int status;
        const char *word;
    } cases[] = {
        {"P5", MXU_ERR_FORMAT, "truncated at offset 2"},
        {"P5\n", MXU_ERR_FORMAT, "truncated at offset 3"},
        {"P5x 1 1 255\n\x01", MXU_ERR_FORMAT, "not whitespace"},
        {"P5\n# only a comment", MXU_ERR_FORMAT, "truncated"},
        {"P5\n-1 1 255\n\x01", MXU_ERR_FORMAT, "width at offset 3 is not a decimal"},
        {"P5\n1 x 255\n\x01", MXU_ERR_FORMAT, "height at offset 5"},
        {"P5\n0 1 255\n", MXU_ERR_FORMAT, "width 0 at offset 3"},
        {"P5\n1 1 0\n", MXU_ERR_FORMAT, "maxval 0 at offset 7"},
        {"P5\n1 1 65536\n", MXU_ERR_LIMIT, "maxval 65536"},
        {"P5\n1 99999999999 255\n", MXU_ERR_LIMIT, "too many digits"},
        {"P5\n2000000 1 255\n", MXU_ERR_LIMIT, "width 2000000"},
        {"P5\n1 1 255", MXU_ERR_FORMAT, "truncated at offset 10"},
        {"P5\n1 1 255#c\n\x01", MXU_ERR_FORMAT, "maxval at offset 7 is followed by 0x23"},
        {"P5\n1 1a 255\n\x01", MXU_ERR_FORMAT, "followed by 0x61"},
        {"P5\n2 2 255\n\x01\x02\x03", MXU_ERR_FORMAT, "truncated at offset 14"},
        {"P6\n2 1 255\n\x01\x02\x03\x04\x05", MXU_ERR_FORMAT, "truncated at offset 16"},
        {"P2\n1 1 255\n1\n", MXU_ERR_UNSUPPORTED, "P2"},
        {"P7\nWIDTH 1\n", MXU_ERR_UNSUPPORTED, "P7"},
        {"P", MXU_ERR_FORMAT, "not an IDX, PGM"},
        {"GIF89a", MXU_ERR_FORMAT, "47 49"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *path = write_file("bad.pgm", cases[i].text, strlen(cases[i].text), i % 2);
        mxu_dataset *d = NULL;
        int rc = mxu_dataset_load(path, 0, &d);
        cr_assert_eq(rc, cases[i].status, "case %zu (%s): %d %s", i, cases[i].text, rc,
                     mxu_error_detail());
        cr_assert_null(d);
        cr_assert(strstr(mxu_error_detail(), cases[i].word), "case %zu: '%s' lacks '%s'", i,
                  mxu_error_detail(), cases[i].word);
        cr_assert(strstr(mxu_error_detail(), path), "%s", mxu_error_detail());
    }
    unlink(tmp_path("bad.pgm"));
}

/* ---- directories ------------------------------------------------------------------------- */

static const char *make_dir(const char *name)
{
    const char *dir = tmp_path(name);
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s", dir);
    return dir;
}

static void dir_file(const char *dir, const char *name, const char *text, size_t len, int gz)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_at(path, text, len, gz);
}

static void remove_dir(const char *dir, const char *const *names, size_t n)
{
    char p[512];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

Test(dataset, directory_sorted_by_name)
{
    const char *dir = make_dir("dir");
    static const char *const names[] = {"b.pgm", "a.pgm", "c.pgm.gz", "readme.txt", "d.ppm"};
    dir_file(dir, "b.pgm", "P5 2 1 255\n\x02\x22", 13, 0);
    dir_file(dir, "a.pgm", "P5 2 1 255\n\x01\x11", 13, 0);
    dir_file(dir, "c.pgm.gz", "P5 2 1 255\n\x03\x33", 13, 1);
    dir_file(dir, "readme.txt", "not an image", 12, 0);
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(dir, 0, &d), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(d->count, 3);
    const uint8_t want[6] = {0x01, 0x11, 0x02, 0x22, 0x03, 0x33};
    cr_assert_arr_eq(d->pixels, want, 6);
    mxu_dataset_free(d);
    cr_assert_eq(mxu_dataset_load(dir, 2, &d), MXU_OK);
    cr_assert_eq(d->count, 2);
    cr_assert_eq(d->pixels[3], 0x22);
    mxu_dataset_free(d);
    /* an RGB image among gray ones: refused, naming both files */
    dir_file(dir, "d.ppm", "P6 2 1 255\n\x01\x02\x03\x04\x05\x06", 17, 0);
    cr_assert_eq(mxu_dataset_load(dir, 0, &d), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "d.ppm"), "%s", mxu_error_detail());
    cr_assert(strstr(mxu_error_detail(), "a.pgm"), "%s", mxu_error_detail());
    cr_assert(strstr(mxu_error_detail(), "1x2x3"), "%s", mxu_error_detail());
    remove_dir(dir, names, 5);
}

Test(dataset, directory_without_images_or_with_a_bad_one)
{
    const char *dir = make_dir("empty");
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(dir, 0, &d), MXU_ERR_NOT_FOUND);
    cr_assert(strstr(mxu_error_detail(), dir), "%s", mxu_error_detail());
    static const char *const names[] = {"x.pgm"};
    dir_file(dir, "x.pgm", "P5 2 2 255\n\x01", 12, 0);
    cr_assert_eq(mxu_dataset_load(dir, 0, &d), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "x.pgm: truncated at offset 12"), "%s",
              mxu_error_detail());
    remove_dir(dir, names, 1);
}

/* ---- preprocessing ------------------------------------------------------------------------ */

static mxu_dataset *mem_dataset(uint32_t count, uint32_t h, uint32_t w, uint32_t c,
                                const uint8_t *px)
{
    mxu_dataset *d = calloc(1, sizeof *d);
    size_t n = (size_t)count * h * w * c;
    d->count = count;
    d->h = h;
    d->w = w;
    d->c = c;
    d->pixels = malloc(n);
    memcpy(d->pixels, px, n);
    return d;
}

Test(dataset_image, same_size_is_pixels_scaled)
{
    uint8_t px[2 * 2 * 3];
    for (int i = 0; i < 12; i++)
        px[i] = (uint8_t)(i * 23);
    mxu_dataset *d = mem_dataset(2, 2, 3, 1, px);
    struct mxu_preprocess pre = default_pre();
    float out[6];
    cr_assert_eq(mxu_dataset_image(d, 1, &pre, 2, 3, 1, out), MXU_OK, "%s", mxu_error_detail());
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(out[i], px[6 + i] / 255.0f, 1e-7f, "%d", i);
    pre.scale = 1.0f;
    pre.mean[0] = 100.0f;
    pre.std[0] = 2.0f;
    cr_assert_eq(mxu_dataset_image(d, 0, &pre, 2, 3, 1, out), MXU_OK);
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(out[i], (px[i] - 100.0f) / 2.0f, 1e-6f);
    mxu_dataset_free(d);
}

Test(dataset_image, gray_to_rgb_and_rgb_to_gray)
{
    const uint8_t gray[2] = {30, 90};
    mxu_dataset *g = mem_dataset(1, 1, 2, 1, gray);
    struct mxu_preprocess pre = default_pre();
    pre.scale = 1.0f;
    pre.mean[1] = 10.0f;
    pre.std[2] = 3.0f;
    float out[6];
    cr_assert_eq(mxu_dataset_image(g, 0, &pre, 1, 2, 3, out), MXU_OK);
    const float want[6] = {30, 20, 10, 90, 80, 30};
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(out[i], want[i], 1e-5f, "%d: %f", i, (double)out[i]);
    mxu_dataset_free(g);

    const uint8_t rgb[3] = {10, 20, 60};
    mxu_dataset *c = mem_dataset(1, 1, 1, 3, rgb);
    pre = default_pre();
    pre.scale = 1.0f;
    cr_assert_eq(mxu_dataset_image(c, 0, &pre, 1, 1, 1, out), MXU_OK);
    cr_assert_float_eq(out[0], 30.0f, 1e-5f);
    mxu_dataset_free(c);
}

Test(dataset_image, bgr_swaps_channels_mean_in_model_order)
{
    const uint8_t rgb[3] = {10, 20, 60};
    mxu_dataset *c = mem_dataset(1, 1, 1, 3, rgb);
    struct mxu_preprocess pre = default_pre();
    pre.scale = 1.0f;
    pre.bgr = 1;
    pre.mean[0] = 1.0f; /* the model's channel 0: blue */
    float out[3];
    cr_assert_eq(mxu_dataset_image(c, 0, &pre, 1, 1, 3, out), MXU_OK);
    cr_assert_float_eq(out[0], 59.0f, 1e-5f);
    cr_assert_float_eq(out[1], 20.0f, 1e-5f);
    cr_assert_float_eq(out[2], 10.0f, 1e-5f);
    mxu_dataset_free(c);
}

Test(dataset_image, bilinear_resize)
{
    /* 2x2 -> 4x4 with half-pixel centres: source coordinate (o + 0.5) / 2 - 0.5,
     * i.e. -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1). */
    const uint8_t px[4] = {0, 100, 200, 40};
    mxu_dataset *d = mem_dataset(1, 2, 2, 1, px);
    struct mxu_preprocess pre = default_pre();
    pre.scale = 1.0f;
    float out[16];
    cr_assert_eq(mxu_dataset_image(d, 0, &pre, 4, 4, 1, out), MXU_OK);
    const float t[4] = {0, 0.25f, 0.75f, 1};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            float top = 0 + t[x] * 100, bot = 200 + t[x] * (40 - 200);
            float want = top + t[y] * (bot - top);
            cr_assert_float_eq(out[y * 4 + x], want, 1e-3f, "(%d,%d): %f vs %f", y, x,
                               (double)out[y * 4 + x], (double)want);
        }
    mxu_dataset_free(d);

    /* 4x4 -> 2x2: every output pixel is the mean of a 2x2 block */
    uint8_t big[16];
    for (int i = 0; i < 16; i++)
        big[i] = (uint8_t)(i * 16);
    d = mem_dataset(1, 4, 4, 1, big);
    cr_assert_eq(mxu_dataset_image(d, 0, &pre, 2, 2, 1, out), MXU_OK);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++) {
            int i = 2 * y * 4 + 2 * x;
            float want = (big[i] + big[i + 1] + big[i + 4] + big[i + 5]) / 4.0f;
            cr_assert_float_eq(out[y * 2 + x], want, 1e-3f);
        }
    /* one pixel up to 3x5 RGB: constant */
    mxu_dataset_free(d);
    const uint8_t one[1] = {77};
    d = mem_dataset(1, 1, 1, 1, one);
    float o3[45];
    cr_assert_eq(mxu_dataset_image(d, 0, &pre, 3, 5, 3, o3), MXU_OK);
    for (int i = 0; i < 45; i++)
        cr_assert_float_eq(o3[i], 77.0f, 1e-5f);
    mxu_dataset_free(d);
}

Test(dataset_image, invalid_arguments)
{
    const uint8_t px[4] = {1, 2, 3, 4};
    mxu_dataset *d = mem_dataset(1, 2, 2, 1, px);
    struct mxu_preprocess pre = default_pre();
    float out[16];
    cr_assert_eq(mxu_dataset_image(d, 1, &pre, 2, 2, 1, out), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "image 1"), "%s", mxu_error_detail());
    cr_assert_eq(mxu_dataset_image(d, 0, &pre, 2, 2, 2, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_dataset_image(d, 0, &pre, 0, 2, 1, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_dataset_image(d, 0, NULL, 2, 2, 1, out), MXU_ERR_INVAL);
    cr_assert_eq(mxu_dataset_image(NULL, 0, &pre, 2, 2, 1, out), MXU_ERR_INVAL);
    pre.std[0] = 0;
    cr_assert_eq(mxu_dataset_image(d, 0, &pre, 2, 2, 1, out), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "std[0]"), "%s", mxu_error_detail());
    mxu_dataset_free(d);
}

/* ---- Debian's Fashion-MNIST (package dataset-fashion-mnist) ------------------------------- */

static uint64_t image_sum(const mxu_dataset *d, uint32_t i)
{
    uint64_t s = 0;
    size_t n = (size_t)d->h * d->w * d->c;
    for (size_t k = 0; k < n; k++)
        s += d->pixels[(size_t)i * n + k];
    return s;
}

Test(dataset_fmnist, train_and_test_images, .timeout = 60)
{
    static const struct {
        const char *file;
        uint32_t count;
        uint64_t first_sum, last_sum, total;
    } sets[] = {
        {FMNIST "train-images-idx3-ubyte.gz", 60000, 76247, 16684, 3431114169ull},
        {FMNIST "t10k-images-idx3-ubyte.gz", 10000, 33456, 24390, 573469082ull},
    };
    for (size_t s = 0; s < 2; s++) {
        mxu_dataset *d = NULL;
        cr_assert_eq(mxu_dataset_load(sets[s].file, 0, &d), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(d->count, sets[s].count);
        cr_assert_eq(d->h, 28);
        cr_assert_eq(d->w, 28);
        cr_assert_eq(d->c, 1);
        cr_assert_eq(image_sum(d, 0), sets[s].first_sum);
        cr_assert_eq(image_sum(d, d->count - 1), sets[s].last_sum);
        uint64_t total = 0;
        for (uint32_t i = 0; i < d->count; i++)
            total += image_sum(d, i);
        cr_assert_eq(total, sets[s].total);
        mxu_dataset_free(d);
    }
    /* the default preprocessing of the first test image's row 14 */
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(sets[1].file, 3, &d), MXU_OK);
    cr_assert_eq(d->count, 3);
    struct mxu_preprocess pre = default_pre();
    float img[28 * 28];
    cr_assert_eq(mxu_dataset_image(d, 0, &pre, 28, 28, 1, img), MXU_OK);
    const uint8_t row14[6] = {0, 0, 98, 136, 110, 109}; /* columns 10..15 */
    for (int x = 0; x < 6; x++)
        cr_assert_float_eq(img[14 * 28 + 10 + x], row14[x] / 255.0f, 1e-7f);
    mxu_dataset_free(d);
}

Test(dataset_fmnist, labels)
{
    static const struct {
        const char *file;
        uint32_t count;
        uint8_t first[10], last[3];
    } sets[] = {
        {FMNIST "train-labels-idx1-ubyte.gz", 60000, {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, {3, 0, 5}},
        {FMNIST "t10k-labels-idx1-ubyte.gz", 10000, {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, {8, 1, 5}},
    };
    for (size_t s = 0; s < 2; s++) {
        uint8_t *l = NULL;
        uint32_t n = 0;
        cr_assert_eq(mxu_labels_load(sets[s].file, 0, &l, &n), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(n, sets[s].count);
        cr_assert_arr_eq(l, sets[s].first, 10);
        cr_assert_arr_eq(l + n - 3, sets[s].last, 3);
        uint32_t per_class[10] = {0};
        for (uint32_t i = 0; i < n; i++) {
            cr_assert_lt(l[i], 10);
            per_class[l[i]]++;
        }
        for (int k = 0; k < 10; k++)
            cr_assert_eq(per_class[k], n / 10, "class %d", k);
        free(l);
    }
    /* images are not labels and vice versa */
    uint8_t *l = NULL;
    uint32_t n;
    cr_assert_eq(mxu_labels_load(FMNIST "t10k-images-idx3-ubyte.gz", 0, &l, &n), MXU_ERR_FORMAT);
    mxu_dataset *d = NULL;
    cr_assert_eq(mxu_dataset_load(FMNIST "t10k-labels-idx1-ubyte.gz", 0, &d), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "label file"), "%s", mxu_error_detail());
}
