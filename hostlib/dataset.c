/* Image data sets (mxu_dataset.h): IDX images and labels, binary PGM/PPM files
 * and directories of them.
 *
 * Every file goes through zlib's gzopen/gzread, which reads gzip-compressed and
 * plain files alike, so `x.idx`, `x.idx.gz`, `x.pgm` and `x.pgm.gz` all work.
 * The format is told by content, not by name:
 *   - IDX: 00 00 08 NDIMS, then NDIMS big-endian u32 sizes, then unsigned bytes.
 *     Images are NDIMS 3 (count, h, w: gray) or 4 (count, h, w, c with c 1 or 3).
 *     Labels are NDIMS 1 (count).
 *   - PGM (P5) / PPM (P6): netpbm's binary formats, '#' comments allowed between
 *     header fields, one whitespace byte before the samples. maxval 255 is taken as
 *     is; any other maxval (1..65535; above 255 the samples are 16-bit big-endian)
 *     is scaled to 0..255 with rounding. Several images may follow each other in
 *     one file (netpbm's multi-image streams); they must all have one shape.
 *   - A directory: its *.pgm, *.ppm, *.pnm files (optionally .gz), in strcmp order
 *     of their names; every image must have the same shape.
 * Data are read in chunks into a buffer that grows with what was actually read,
 * so a hostile header cannot make a small file allocate gigabytes. */
#include "mxu_dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "mxu_graph.h"

#define MAX_IMAGE_BYTES (UINT64_C(1) << 30) /* one image, after conversion */
#define MAX_PNM_SIDE 1000000u
#define CHUNK_BYTES (1u << 20)             /* read granularity */
#define MIN_CAPACITY (64u << 10)
#define PNM_DIGITS_MAX 10                 /* keeps the value inside 64 bits */

/* ---- a byte stream with its offset, for messages ---------------------------------- */

struct reader {
    gzFile gz;
    const char *path;
    uint64_t offset; /* uncompressed bytes consumed */
};

static int reader_open(struct reader *r, const char *path)
{
    r->path = path;
    r->offset = 0;
    errno = 0;
    r->gz = gzopen(path, "rb");
    if (!r->gz)
        return mxu_fail(MXU_ERR_IO, "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "out of memory");
    gzbuffer(r->gz, 128u << 10);
    return MXU_OK;
}

static void reader_close(struct reader *r)
{
    if (r->gz)
        gzclose_r(r->gz);
    r->gz = NULL;
}

/* A short read: tell an I/O error, corrupt compressed data and a truncated file apart. */
static int short_read(struct reader *r, uint64_t at, const char *what)
{
    int errnum = Z_OK;
    const char *msg = gzerror(r->gz, &errnum);
    if (errnum == Z_ERRNO)
        return mxu_fail(MXU_ERR_IO, "%s: read error at offset %llu: %s", r->path,
                        (unsigned long long)at, strerror(errno));
    if (errnum == Z_MEM_ERROR)
        return mxu_fail(MXU_ERR_NOMEM, "%s: out of memory decompressing", r->path);
    if (errnum == Z_DATA_ERROR || errnum == Z_STREAM_ERROR)
        return mxu_fail(MXU_ERR_FORMAT, "%s: corrupt gzip data at offset %llu: %s", r->path,
                        (unsigned long long)at, msg);
    return mxu_fail(MXU_ERR_FORMAT, "%s: truncated at offset %llu (reading %s)", r->path,
                    (unsigned long long)at, what);
}

static int read_exact(struct reader *r, void *buf, size_t n, const char *what)
{
    uint8_t *p = buf;
    while (n > 0) {
        unsigned want = n > CHUNK_BYTES ? CHUNK_BYTES : (unsigned)n;
        int got = gzread(r->gz, p, want);
        if (got > 0) {
            r->offset += (unsigned)got;
            p += got;
            n -= (unsigned)got;
        }
        if (got < (int)want && n > 0)
            return short_read(r, r->offset, what);
    }
    return MXU_OK;
}

/* Next byte, or -1 at the end of the data or on an error (then *status < 0). */
static int next_byte(struct reader *r, int *status)
{
    int ch = gzgetc(r->gz);
    if (ch >= 0) {
        r->offset++;
        return ch;
    }
    int errnum = Z_OK;
    gzerror(r->gz, &errnum);
    if (errnum != Z_OK) /* a read error, corrupt or truncated gzip data */
        *status = short_read(r, r->offset, "a header");
    return -1;
}

/* Push back the byte next_byte just returned (a comment's '#'). */
static int unget_byte(struct reader *r, int ch)
{
    if (gzungetc(ch, r->gz) < 0)
        return mxu_fail(MXU_ERR_IO, "%s: cannot push back a byte", r->path);
    r->offset--;
    return MXU_OK;
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* ---- the growing data set ---------------------------------------------------------- */

struct collect {
    mxu_dataset *d;
    size_t used, cap;     /* bytes */
    uint32_t limit;       /* 0: all */
    char first[256];      /* the file that fixed the shape, for messages */
};

static int collect_full(const struct collect *c)
{
    return c->limit != 0 && c->d->count >= c->limit;
}

/* Images still wanted out of `available`. */
static uint32_t collect_wanted(const struct collect *c, uint32_t available)
{
    if (c->limit == 0)
        return available;
    uint32_t room = c->limit - c->d->count;
    return available < room ? available : room;
}

static int collect_shape(struct collect *c, const char *path, uint64_t off, uint32_t h, uint32_t w,
                         uint32_t ch)
{
    mxu_dataset *d = c->d;
    uint64_t bytes = (uint64_t)h * w * ch;
    if (bytes > MAX_IMAGE_BYTES)
        return mxu_fail(MXU_ERR_LIMIT, "%s: image of %ux%ux%u exceeds %llu bytes", path, h, w, ch,
                        (unsigned long long)MAX_IMAGE_BYTES);
    if (d->h == 0) {
        d->h = h;
        d->w = w;
        d->c = ch;
        snprintf(c->first, sizeof c->first, "%s", path);
        return MXU_OK;
    }
    if (d->h != h || d->w != w || d->c != ch)
        return mxu_fail(MXU_ERR_FORMAT,
                        "%s: image at offset %llu is %ux%ux%u (HxWxC), but the data set's images are "
                        "%ux%ux%u (from %s)",
                        path, (unsigned long long)off, h, w, ch, d->h, d->w, d->c, c->first);
    return MXU_OK;
}

/* Room for `more` bytes; grows geometrically, but never past `expected` bytes in all
 * unless needed, and only as data actually arrives (callers reserve per chunk). */
static int collect_reserve(struct collect *c, size_t more, uint64_t expected)
{
    if (more > SIZE_MAX / 2 - c->used)
        return mxu_fail(MXU_ERR_LIMIT, "data set exceeds the address space");
    size_t need = c->used + more;
    if (need <= c->cap)
        return MXU_OK;
    size_t cap = c->cap * 2 > MIN_CAPACITY ? c->cap * 2 : MIN_CAPACITY;
    if (expected >= need && cap > expected)
        cap = (size_t)expected;
    if (cap < need)
        cap = need;
    uint8_t *p = realloc(c->d->pixels, cap);
    if (!p)
        return mxu_fail(MXU_ERR_NOMEM, "out of memory for %zu bytes of images", cap);
    c->d->pixels = p;
    c->cap = cap;
    return MXU_OK;
}

/* Read `samples` samples of range 0..maxval (16-bit big-endian above 255) into the
 * data set as bytes 0..255. `expected` is the data set's planned total size. */
static int read_samples(struct collect *c, struct reader *r, uint64_t samples, uint32_t maxval,
                        uint64_t expected)
{
    unsigned width = maxval > 255 ? 2 : 1;
    uint8_t *wide = NULL;
    int rc = MXU_OK;
    if (width == 2 && !(wide = malloc(CHUNK_BYTES)))
        return mxu_fail(MXU_ERR_NOMEM, "out of memory reading %s", r->path);
    while (samples > 0) {
        size_t n = samples > CHUNK_BYTES / width ? CHUNK_BYTES / width : (size_t)samples;
        uint64_t at = r->offset;
        if ((rc = collect_reserve(c, n, expected)) != MXU_OK)
            goto out;
        uint8_t *dst = c->d->pixels + c->used;
        if ((rc = read_exact(r, width == 2 ? wide : dst, n * width, "image data")) != MXU_OK)
            goto out;
        for (size_t i = 0; i < n && maxval != 255; i++) {
            uint32_t v = width == 2 ? (uint32_t)wide[2 * i] << 8 | wide[2 * i + 1] : dst[i];
            if (v > maxval) {
                rc = mxu_fail(MXU_ERR_FORMAT, "%s: sample %u at offset %llu exceeds maxval %u",
                              r->path, v, (unsigned long long)(at + i * width), maxval);
                goto out;
            }
            dst[i] = (uint8_t)((v * 255u + maxval / 2) / maxval);
        }
        c->used += n;
        samples -= n;
    }
out:
    free(wide);
    return rc;
}

/* ---- IDX --------------------------------------------------------------------------- */

static int idx_check_type(const struct reader *r, const uint8_t magic[4])
{
    if (magic[2] != 0x08)
        return mxu_fail(MXU_ERR_UNSUPPORTED,
                        "%s: IDX element type 0x%02x at offset 2; only unsigned bytes (0x08)",
                        r->path, magic[2]);
    return MXU_OK;
}

/* The sizes after the 4 magic bytes; each must be non-zero. */
static int idx_dims(struct reader *r, uint32_t *dims, unsigned ndims)
{
    for (unsigned i = 0; i < ndims; i++) {
        uint8_t b[4];
        uint64_t at = r->offset;
        int rc = read_exact(r, b, 4, "IDX header");
        if (rc != MXU_OK)
            return rc;
        dims[i] = be32(b);
        if (dims[i] == 0)
            return mxu_fail(MXU_ERR_FORMAT, "%s: IDX dimension %u at offset %llu is 0", r->path,
                            i, (unsigned long long)at);
    }
    return MXU_OK;
}

static int idx_images(struct collect *c, struct reader *r, const uint8_t magic[4])
{
    uint32_t dims[4] = {0, 0, 0, 1};
    int rc = idx_check_type(r, magic);
    if (rc != MXU_OK)
        return rc;
    if (magic[3] != 3 && magic[3] != 4)
        return mxu_fail(MXU_ERR_FORMAT,
                        "%s: IDX file with %u dimension(s) at offset 3; images need 3 "
                        "(count, rows, columns) or 4 (count, rows, columns, channels)%s",
                        r->path, magic[3], magic[3] == 1 ? " (this looks like a label file)" : "");
    if ((rc = idx_dims(r, dims, magic[3])) != MXU_OK)
        return rc;
    if (dims[3] != 1 && dims[3] != 3)
        return mxu_fail(MXU_ERR_UNSUPPORTED, "%s: %u channels at offset 16; images have 1 or 3",
                        r->path, dims[3]);
    if ((rc = collect_shape(c, r->path, 0, dims[1], dims[2], dims[3])) != MXU_OK)
        return rc;
    uint32_t n = collect_wanted(c, dims[0]);
    if (n > UINT32_MAX - c->d->count)
        return mxu_fail(MXU_ERR_LIMIT, "%s: more than %u images in all", r->path, UINT32_MAX);
    uint64_t image = (uint64_t)dims[1] * dims[2] * dims[3];
    if ((rc = read_samples(c, r, image * n, 255, c->used + image * n)) != MXU_OK)
        return rc;
    c->d->count += n;
    return MXU_OK;
}

/* ---- PGM / PPM --------------------------------------------------------------------- */

static int is_space(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Skip whitespace and '#' comments; consumes and returns the next other byte, -1 at
 * the end. */
static int pnm_skip(struct reader *r, int *status)
{
    for (;;) {
        int ch = next_byte(r, status);
        if (ch == '#') {
            while (ch != '\n' && ch != '\r' && ch >= 0)
                ch = next_byte(r, status);
            if (ch < 0)
                return ch;
            continue;
        }
        if (!is_space(ch))
            return ch;
    }
}

/* A decimal header field in 1..max, ended by whitespace (or, except for the maxval,
 * by a comment); the maxval's single whitespace byte is consumed, so data follow. */
static int pnm_number(struct reader *r, const char *field, uint32_t max, int last, uint32_t *out)
{
    int status = MXU_OK;
    int ch = pnm_skip(r, &status);
    uint64_t at = r->offset - (ch >= 0);
    if (status != MXU_OK)
        return status;
    if (ch < 0)
        return mxu_fail(MXU_ERR_FORMAT, "%s: truncated at offset %llu (reading the %s)", r->path,
                        (unsigned long long)at, field);
    uint64_t v = 0;
    unsigned digits = 0;
    for (; ch >= '0' && ch <= '9'; ch = next_byte(r, &status)) {
        if (++digits > PNM_DIGITS_MAX)
            return mxu_fail(MXU_ERR_LIMIT, "%s: %s at offset %llu has too many digits", r->path,
                            field, (unsigned long long)at);
        v = v * 10 + (unsigned)(ch - '0');
    }
    if (status != MXU_OK)
        return status;
    if (digits == 0)
        return mxu_fail(MXU_ERR_FORMAT, "%s: %s at offset %llu is not a decimal number (0x%02x)",
                        r->path, field, (unsigned long long)at, (unsigned)ch);
    if (ch < 0)
        return mxu_fail(MXU_ERR_FORMAT, "%s: truncated at offset %llu (after the %s)", r->path,
                        (unsigned long long)r->offset, field);
    if (!is_space(ch) && (last || ch != '#'))
        return mxu_fail(MXU_ERR_FORMAT, "%s: %s at offset %llu is followed by 0x%02x, not whitespace",
                        r->path, field, (unsigned long long)at, (unsigned)ch);
    if (v == 0 || v > max)
        return mxu_fail(v == 0 ? MXU_ERR_FORMAT : MXU_ERR_LIMIT,
                        "%s: %s %llu at offset %llu is outside 1..%u", r->path, field,
                        (unsigned long long)v, (unsigned long long)at, max);
    if (ch == '#' && (status = unget_byte(r, ch)) != MXU_OK)
        return status;
    *out = (uint32_t)v;
    return MXU_OK;
}

/* One image; the "P5"/"P6" magic (at `start`) has been read. */
static int pnm_image(struct collect *c, struct reader *r, int kind, uint64_t start)
{
    uint32_t w, h, maxval;
    int rc, status = MXU_OK;
    int after = next_byte(r, &status);
    if (status != MXU_OK)
        return status;
    if (after < 0)
        return mxu_fail(MXU_ERR_FORMAT, "%s: truncated at offset %llu (after the magic number)",
                        r->path, (unsigned long long)r->offset);
    if (!is_space(after) && after != '#')
        return mxu_fail(MXU_ERR_FORMAT, "%s: magic number P%c at offset %llu is followed by 0x%02x, "
                        "not whitespace", r->path, kind, (unsigned long long)start, (unsigned)after);
    if (after == '#' && (rc = unget_byte(r, after)) != MXU_OK)
        return rc;
    if ((rc = pnm_number(r, "width", MAX_PNM_SIDE, 0, &w)) != MXU_OK ||
        (rc = pnm_number(r, "height", MAX_PNM_SIDE, 0, &h)) != MXU_OK ||
        (rc = pnm_number(r, "maxval", 65535, 1, &maxval)) != MXU_OK)
        return rc;
    if (c->d->count == UINT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "%s: more than %u images in all", r->path, UINT32_MAX);
    uint32_t ch = kind == '6' ? 3 : 1;
    if ((rc = collect_shape(c, r->path, start, h, w, ch)) != MXU_OK)
        return rc;
    uint64_t image = (uint64_t)h * w * ch;
    if ((rc = read_samples(c, r, image, maxval, c->used + image)) != MXU_OK)
        return rc;
    c->d->count++;
    return MXU_OK;
}

/* A PNM stream: images until the end of the file (or the limit). */
static int pnm_images(struct collect *c, struct reader *r, int kind)
{
    uint64_t start = 0;
    for (;;) {
        int rc = pnm_image(c, r, kind, start);
        if (rc != MXU_OK || collect_full(c))
            return rc;
        int status = MXU_OK;
        int ch = next_byte(r, &status);
        while (ch >= 0 && is_space(ch))
            ch = next_byte(r, &status);
        if (status != MXU_OK)
            return status;
        if (ch < 0)
            return MXU_OK;
        start = r->offset - 1;
        int ch2 = next_byte(r, &status);
        if (status != MXU_OK)
            return status;
        if (ch != 'P' || (ch2 != '5' && ch2 != '6'))
            return mxu_fail(MXU_ERR_FORMAT,
                            "%s: unexpected data at offset %llu after an image (not a P5/P6 header)",
                            r->path, (unsigned long long)start);
        kind = ch2;
    }
}

/* ---- files and directories --------------------------------------------------------- */

static int load_file(struct collect *c, const char *path)
{
    struct reader r;
    int rc = reader_open(&r, path);
    if (rc != MXU_OK)
        return rc;
    uint8_t magic[4] = {0};
    int got = gzread(r.gz, magic, 2), errnum = Z_OK;
    gzerror(r.gz, &errnum);
    if (got < 0 || errnum != Z_OK) {
        rc = short_read(&r, 0, "the magic number");
        goto out;
    }
    r.offset = (unsigned)got;
    if (got == 2 && magic[0] == 'P' && (magic[1] == '5' || magic[1] == '6')) {
        rc = pnm_images(c, &r, magic[1]);
    } else if (got == 2 && magic[0] == 'P' && magic[1] >= '1' && magic[1] <= '7') {
        rc = mxu_fail(MXU_ERR_UNSUPPORTED, "%s: netpbm format P%c; only binary PGM (P5) and PPM (P6)",
                      path, magic[1]);
    } else if (got == 2 && magic[0] == 0 && magic[1] == 0) {
        if ((rc = read_exact(&r, magic + 2, 2, "the IDX magic number")) == MXU_OK)
            rc = idx_images(c, &r, magic);
    } else {
        rc = mxu_fail(MXU_ERR_FORMAT,
                      "%s: not an IDX, PGM (P5) or PPM (P6) file (offset 0: %d byte(s) %02x %02x)",
                      path, got, magic[0], magic[1]);
    }
out:
    reader_close(&r);
    return rc;
}

static int has_image_suffix(const char *name)
{
    static const char *const suffixes[] = {".pgm", ".ppm", ".pnm", ".pgm.gz", ".ppm.gz", ".pnm.gz"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(name + n - k, suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_directory(struct collect *c, const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return mxu_fail(MXU_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    char **names = NULL, *path = NULL;
    size_t n = 0, cap = 0;
    int rc = MXU_OK;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (!has_image_suffix(e->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **p = realloc(names, ncap * sizeof *p);
            if (!p)
                goto nomem;
            names = p;
            cap = ncap;
        }
        if (!(names[n] = strdup(e->d_name)))
            goto nomem;
        n++;
    }
    if (n == 0) {
        rc = mxu_fail(MXU_ERR_NOT_FOUND, "%s: no .pgm/.ppm/.pnm files in the directory", dir);
        goto out;
    }
    qsort(names, n, sizeof *names, compare_names);
    size_t dir_len = strlen(dir);
    for (size_t i = 0; i < n && !collect_full(c); i++) {
        free(path);
        if (!(path = malloc(dir_len + strlen(names[i]) + 2)))
            goto nomem;
        sprintf(path, "%s/%s", dir, names[i]);
        if ((rc = load_file(c, path)) != MXU_OK)
            goto out;
    }
    goto out;
nomem:
    rc = mxu_fail(MXU_ERR_NOMEM, "%s: out of memory listing the directory", dir);
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(path);
    closedir(dp);
    return rc;
}

int mxu_dataset_load(const char *path, uint32_t limit, mxu_dataset **out)
{
    if (!path || !out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_dataset_load: NULL argument");
    *out = NULL;
    struct collect c = {.limit = limit};
    if (!(c.d = calloc(1, sizeof *c.d)))
        return mxu_fail(MXU_ERR_NOMEM, "out of memory loading %s", path);
    struct stat st;
    int rc;
    if (stat(path, &st) != 0)
        rc = mxu_fail(MXU_ERR_IO, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        rc = load_directory(&c, path);
    else
        rc = load_file(&c, path);
    if (rc == MXU_OK && c.d->count == 0)
        rc = mxu_fail(MXU_ERR_FORMAT, "%s: holds no images", path);
    if (rc != MXU_OK) {
        mxu_dataset_free(c.d);
        return rc;
    }
    *out = c.d;
    return MXU_OK;
}

void mxu_dataset_free(mxu_dataset *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d);
}

int mxu_labels_load(const char *path, uint32_t limit, uint8_t **labels, uint32_t *count)
{
    if (!path || !labels || !count)
        return mxu_fail(MXU_ERR_INVAL, "mxu_labels_load: NULL argument");
    *labels = NULL;
    *count = 0;
    struct reader r;
    int rc = reader_open(&r, path);
    if (rc != MXU_OK)
        return rc;
    mxu_dataset d = {0};
    struct collect c = {.d = &d, .limit = limit};
    uint8_t magic[4];
    uint32_t n;
    if ((rc = read_exact(&r, magic, 4, "the IDX magic number")) != MXU_OK)
        goto out;
    if (magic[0] != 0 || magic[1] != 0) {
        rc = mxu_fail(MXU_ERR_FORMAT, "%s: not an IDX label file (offset 0: %02x %02x %02x %02x)",
                      path, magic[0], magic[1], magic[2], magic[3]);
        goto out;
    }
    if ((rc = idx_check_type(&r, magic)) != MXU_OK)
        goto out;
    if (magic[3] != 1) {
        rc = mxu_fail(MXU_ERR_FORMAT,
                      "%s: IDX file with %u dimensions at offset 3; labels need 1 (count)", path,
                      magic[3]);
        goto out;
    }
    if ((rc = idx_dims(&r, &n, 1)) != MXU_OK)
        goto out;
    n = collect_wanted(&c, n);
    if ((rc = read_samples(&c, &r, n, 255, n)) != MXU_OK)
        goto out;
    *labels = d.pixels;
    *count = n;
    d.pixels = NULL;
out:
    free(d.pixels);
    reader_close(&r);
    return rc;
}

/* ---- preprocessing ----------------------------------------------------------------- */

/* Source coordinate of output index o (half-pixel centres, as TF's and OpenCV's
 * bilinear resize without antialiasing): lower index, upper index, weight of upper. */
static void bilinear_axis(uint32_t o, uint32_t out_size, uint32_t in_size, uint32_t *lo,
                          uint32_t *hi, float *frac)
{
    double s = ((double)o + 0.5) * in_size / out_size - 0.5;
    if (s < 0)
        s = 0;
    uint32_t i = (uint32_t)s;
    if (i >= in_size - 1) {
        *lo = *hi = in_size - 1;
        *frac = 0;
        return;
    }
    *lo = i;
    *hi = i + 1;
    *frac = (float)(s - i);
}

/* Pixel (y, x) of image `img` (h x w x c bytes), channel k, resized, as 0..255 float. */
static float sample(const mxu_dataset *d, const uint8_t *img, uint32_t y, uint32_t x, uint32_t k,
                    uint32_t oh, uint32_t ow)
{
    if (oh == d->h && ow == d->w)
        return img[((size_t)y * d->w + x) * d->c + k];
    uint32_t y0, y1, x0, x1;
    float fy, fx;
    bilinear_axis(y, oh, d->h, &y0, &y1, &fy);
    bilinear_axis(x, ow, d->w, &x0, &x1, &fx);
    const uint8_t *r0 = img + (size_t)y0 * d->w * d->c, *r1 = img + (size_t)y1 * d->w * d->c;
    float top = r0[x0 * d->c + k] + fx * ((float)r0[x1 * d->c + k] - r0[x0 * d->c + k]);
    float bot = r1[x0 * d->c + k] + fx * ((float)r1[x1 * d->c + k] - r1[x0 * d->c + k]);
    return top + fy * (bot - top);
}

int mxu_dataset_image(const mxu_dataset *d, uint32_t i, const struct mxu_preprocess *pre,
                      uint32_t h, uint32_t w, uint32_t c, float *out)
{
    if (!d || !pre || !out || !d->pixels)
        return mxu_fail(MXU_ERR_INVAL, "mxu_dataset_image: NULL argument");
    if (i >= d->count)
        return mxu_fail(MXU_ERR_INVAL, "image %u out of range: the data set has %u", i, d->count);
    if (h == 0 || w == 0 || (c != 1 && c != 3))
        return mxu_fail(MXU_ERR_INVAL, "input shape %ux%ux%u: images need h, w >= 1 and 1 or 3 "
                        "channels", h, w, c);
    if ((d->c != 1 && d->c != 3) || d->h == 0 || d->w == 0)
        return mxu_fail(MXU_ERR_INVAL, "data set shape %ux%ux%u is invalid", d->h, d->w, d->c);
    if ((uint64_t)h * w * c > MAX_IMAGE_BYTES)
        return mxu_fail(MXU_ERR_LIMIT, "input shape %ux%ux%u is too large", h, w, c);
    for (uint32_t k = 0; k < c; k++)
        if (!(pre->std[k] != 0))
            return mxu_fail(MXU_ERR_INVAL, "preprocessing std[%u] is %g", k, (double)pre->std[k]);
    const uint8_t *img = d->pixels + (size_t)i * d->h * d->w * d->c;
    int swap = pre->bgr && c == 3;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            float px[3];
            if (d->c == c) {
                for (uint32_t k = 0; k < c; k++)
                    px[k] = sample(d, img, y, x, k, h, w);
            } else if (c == 3) { /* gray replicated */
                px[0] = px[1] = px[2] = sample(d, img, y, x, 0, h, w);
            } else { /* RGB averaged */
                px[0] = (sample(d, img, y, x, 0, h, w) + sample(d, img, y, x, 1, h, w) +
                         sample(d, img, y, x, 2, h, w)) / 3.0f;
            }
            float *o = out + ((size_t)y * w + x) * c;
            /* mean/std are in the model's channel order (the output's). */
            for (uint32_t k = 0; k < c; k++)
                o[k] = (px[swap ? 2 - k : k] * pre->scale - pre->mean[k]) / pre->std[k];
        }
    return MXU_OK;
}
