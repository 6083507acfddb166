/* ONNX TensorProto decoding: raw_data (little-endian), the typed repeated fields,
 * or external data files next to the model. Every size is checked before use. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_priv.h"

const char *onnx_dtype_name(int32_t t)
{
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
        "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
    };
    if (t >= 0 && (size_t)t < sizeof names / sizeof names[0])
        return names[t];
    return "unknown";
}

/* Bytes per element in raw_data; 0 for types the importer does not decode. */
static size_t elem_bytes(int32_t t)
{
    switch (t) {
    case ONNX_UINT8: case ONNX_INT8: case ONNX_BOOL: return 1;
    case ONNX_UINT16: case ONNX_INT16: case ONNX_FLOAT16: return 2;
    case ONNX_FLOAT: case ONNX_INT32: return 4;
    case ONNX_INT64: case ONNX_DOUBLE: return 8;
    default: return 0;
    }
}

static int stored_as_float(int32_t t)
{
    return t == ONNX_FLOAT || t == ONNX_DOUBLE || t == ONNX_FLOAT16;
}

void onnx_const_free(struct onnx_const *c)
{
    if (!c)
        return;
    free(c->f);
    free(c->i32);
    free(c->i64);
    free(c->scale);
    free(c->zp);
    free(c);
}

int onnx_const_new(struct onnx_ctx *ctx, int32_t elem, uint32_t ndims, const int64_t *dims,
                   struct onnx_const **out)
{
    if (ndims > ONNX_MAX_DIMS)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "tensor of rank %u (at most %d)", ndims,
                         ONNX_MAX_DIMS);
    size_t count = 1;
    for (uint32_t i = 0; i < ndims; i++) {
        if (dims[i] < 0)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor dimension %lld is negative",
                             (long long)dims[i]);
        if (dims[i] > (int64_t)ONNX_MAX_ELEMS || (dims[i] && count > ONNX_MAX_ELEMS / (size_t)dims[i]))
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "tensor larger than %zu elements",
                             ONNX_MAX_ELEMS);
        count *= (size_t)dims[i];
    }
    if (!elem_bytes(elem))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "tensor element type %s",
                         onnx_dtype_name(elem));
    if (ctx->n_consts == ctx->cap_consts) {
        size_t cap = ctx->cap_consts ? ctx->cap_consts * 2 : 32;
        struct onnx_const **p = realloc(ctx->consts, cap * sizeof *p);
        if (!p)
            return onnx_fail(ctx, MXU_ERR_NOMEM, "constant table");
        ctx->consts = p;
        ctx->cap_consts = cap;
    }
    struct onnx_const *c = calloc(1, sizeof *c);
    if (!c)
        return onnx_fail(ctx, MXU_ERR_NOMEM, "constant");
    c->elem = elem;
    c->ndims = ndims;
    if (ndims)
        memcpy(c->dims, dims, ndims * sizeof *dims);
    c->count = count;
    size_t n = count ? count : 1;
    if (stored_as_float(elem))
        c->f = malloc(n * sizeof *c->f);
    else if (elem == ONNX_INT64)
        c->i64 = malloc(n * sizeof *c->i64);
    else
        c->i32 = malloc(n * sizeof *c->i32);
    if (!c->f && !c->i32 && !c->i64) {
        free(c);
        return onnx_fail(ctx, MXU_ERR_NOMEM, "constant of %zu elements", count);
    }
    ctx->consts[ctx->n_consts++] = c;
    *out = c;
    return MXU_OK;
}

float onnx_const_f(const struct onnx_const *c, size_t k)
{
    if (c->f)
        return c->f[k];
    if (c->i64)
        return (float)c->i64[k];
    return (float)c->i32[k];
}

int64_t onnx_const_i(const struct onnx_const *c, size_t k)
{
    if (c->i64)
        return c->i64[k];
    if (c->i32)
        return c->i32[k];
    float v = c->f[k];
    if (!(v > -9.2e18f && v < 9.2e18f))
        return 0;
    return (int64_t)v;
}

/* ---- element conversion --------------------------------------------------------- */

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    float v;
    if (exp == 0)
        v = ldexpf((float)man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 1024), exp - 25);
    return sign ? -v : v;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Decode count little-endian elements of c->elem from p. */
static void decode_raw(struct onnx_const *c, const uint8_t *p)
{
    size_t eb = elem_bytes(c->elem);
    for (size_t k = 0; k < c->count; k++, p += eb) {
        uint64_t v = load_le(p, eb);
        switch (c->elem) {
        case ONNX_FLOAT: {
            uint32_t u = (uint32_t)v;
            memcpy(&c->f[k], &u, 4);
            break;
        }
        case ONNX_DOUBLE: {
            double d;
            memcpy(&d, &v, 8);
            c->f[k] = (float)d;
            break;
        }
        case ONNX_FLOAT16: c->f[k] = half_to_float((uint16_t)v); break;
        case ONNX_UINT8: case ONNX_BOOL: case ONNX_UINT16: c->i32[k] = (int32_t)v; break;
        case ONNX_INT8: c->i32[k] = (int8_t)(uint8_t)v; break;
        case ONNX_INT16: c->i32[k] = (int16_t)(uint16_t)v; break;
        case ONNX_INT32: c->i32[k] = (int32_t)(uint32_t)v; break;
        case ONNX_INT64: c->i64[k] = (int64_t)v; break;
        default: break;
        }
    }
}

/* int32_data carries every integer type narrower than 32 bits (and FLOAT16 bits):
 * values outside the type's range are malformed. */
static int int32_in_range(int32_t elem, int32_t v)
{
    switch (elem) {
    case ONNX_INT8: return v >= -128 && v <= 127;
    case ONNX_UINT8: return v >= 0 && v <= 255;
    case ONNX_BOOL: return v == 0 || v == 1;
    case ONNX_INT16: return v >= -32768 && v <= 32767;
    case ONNX_UINT16: case ONNX_FLOAT16: return v >= 0 && v <= 65535;
    default: return 1;
    }
}

static int decode_typed(struct onnx_ctx *ctx, const Onnx__TensorProto *t, struct onnx_const *c,
                        const char *name)
{
    size_t have;
    switch (c->elem) {
    case ONNX_FLOAT: have = t->n_float_data; break;
    case ONNX_DOUBLE: have = t->n_double_data; break;
    case ONNX_INT64: have = t->n_int64_data; break;
    default: have = t->n_int32_data; break;
    }
    if (have != c->count)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s' has %zu values for %zu elements",
                         name, have, c->count);
    for (size_t k = 0; k < c->count; k++) {
        switch (c->elem) {
        case ONNX_FLOAT: c->f[k] = t->float_data[k]; break;
        case ONNX_DOUBLE: c->f[k] = (float)t->double_data[k]; break;
        case ONNX_INT64: c->i64[k] = t->int64_data[k]; break;
        default: {
            int32_t v = t->int32_data[k];
            if (!int32_in_range(c->elem, v))
                return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s': value %d out of %s range",
                                 name, v, onnx_dtype_name(c->elem));
            if (c->elem == ONNX_FLOAT16)
                c->f[k] = half_to_float((uint16_t)v);
            else
                c->i32[k] = v;
        }
        }
    }
    return MXU_OK;
}

/* ---- external data ---------------------------------------------------------------- */

/* A location is a relative path below the model's directory: no absolute path,
 * no ".." component, no backslash (Windows separators), no empty name. */
static int location_is_safe(const char *loc)
{
    if (!loc[0] || loc[0] == '/' || strchr(loc, '\\'))
        return 0;
    for (const char *p = loc; *p;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return 0;
        p += len;
        if (*p == '/')
            p++;
    }
    return 1;
}

/* A non-negative decimal without sign or garbage, up to 2^62. */
static int parse_size(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s[0])
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > ((uint64_t)1 << 58))
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

static int read_external(struct onnx_ctx *ctx, const Onnx__TensorProto *t, struct onnx_const *c,
                         const char *name)
{
    const char *loc = NULL;
    uint64_t offset = 0, length = 0;
    int has_length = 0;
    for (size_t i = 0; i < t->n_external_data; i++) {
        const char *k = t->external_data[i]->key ? t->external_data[i]->key : "";
        const char *v = t->external_data[i]->value ? t->external_data[i]->value : "";
        int ok = 1;
        if (strcmp(k, "location") == 0)
            loc = v;
        else if (strcmp(k, "offset") == 0)
            ok = parse_size(v, &offset);
        else if (strcmp(k, "length") == 0)
            ok = has_length = parse_size(v, &length);
        if (!ok)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s': external data %s '%.40s' is not "
                             "a size", name, k, v);
    }
    if (!loc)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s': external data without a location",
                         name);
    if (!location_is_safe(loc))
        return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s': external data location '%.80s' "
                         "leaves the model's directory", name, loc);
    if (!ctx->base_dir)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "tensor '%.60s': external data '%.80s' needs "
                         "the model's directory (loaded from memory)", name, loc);
    uint64_t need = (uint64_t)c->count * elem_bytes(c->elem);
    if (has_length && length != need)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s': external data length %llu, the "
                         "tensor needs %llu bytes", name, (unsigned long long)length,
                         (unsigned long long)need);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", ctx->base_dir, loc) >= sizeof path)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s': external data path too long", name);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return onnx_fail(ctx, errno == ENOENT ? MXU_ERR_NOT_FOUND : MXU_ERR_IO,
                         "tensor '%.60s': cannot open external data %.200s: %s", name, path,
                         strerror(errno));
    int rc = MXU_OK;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = onnx_fail(ctx, MXU_ERR_IO, "tensor '%.60s': %.200s is not a regular file", name, path);
        goto out;
    }
    if (offset > (uint64_t)st.st_size || need > (uint64_t)st.st_size - offset) {
        rc = onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s': external data [%llu, +%llu) is "
                       "outside %.200s (%lld bytes)", name, (unsigned long long)offset,
                       (unsigned long long)need, path, (long long)st.st_size);
        goto out;
    }
    buf = malloc(need ? need : 1);
    if (!buf) {
        rc = onnx_fail(ctx, MXU_ERR_NOMEM, "tensor '%.60s': %llu bytes", name,
                       (unsigned long long)need);
        goto out;
    }
    for (uint64_t done = 0; done < need;) {
        ssize_t r = pread(fd, buf + done, need - done, (off_t)(offset + done));
        if (r <= 0) {
            rc = onnx_fail(ctx, MXU_ERR_IO, "tensor '%.60s': reading %.200s: %s", name, path,
                           r < 0 ? strerror(errno) : "short file");
            goto out;
        }
        done += (uint64_t)r;
    }
    decode_raw(c, buf);
out:
    free(buf);
    close(fd);
    return rc;
}

/* ---- TensorProto ------------------------------------------------------------------- */

int onnx_const_decode(struct onnx_ctx *ctx, const Onnx__TensorProto *t, const char *what,
                      struct onnx_const **out)
{
    const char *name = t->name && t->name[0] ? t->name : what;
    if (!t->has_data_type)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s' has no data type", name);
    if (t->segment)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "tensor '%.60s' is segmented", name);
    if (t->n_dims > ONNX_MAX_DIMS)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "tensor '%.60s' has rank %zu", name, t->n_dims);
    struct onnx_const *c;
    int rc = onnx_const_new(ctx, t->data_type, (uint32_t)t->n_dims, t->dims, &c);
    if (rc)
        return rc;
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        rc = read_external(ctx, t, c, name);
    } else if (t->has_raw_data) {
        if (t->raw_data.len != c->count * elem_bytes(c->elem))
            return onnx_fail(ctx, MXU_ERR_FORMAT, "tensor '%.60s': raw_data has %zu bytes for %zu "
                             "%s elements", name, t->raw_data.len, c->count,
                             onnx_dtype_name(c->elem));
        decode_raw(c, t->raw_data.data);
    } else {
        rc = decode_typed(ctx, t, c, name);
    }
    if (rc)
        return rc;
    *out = c;
    return MXU_OK;
}

int onnx_sym_const(struct onnx_ctx *ctx, struct onnx_sym *s, struct onnx_const **out)
{
    if (!s->c) {
        if (!s->tensor)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "constant '%.60s' has no tensor", s->name);
        int rc = onnx_const_decode(ctx, s->tensor, s->name, &s->c);
        if (rc)
            return rc;
    }
    *out = s->c;
    return MXU_OK;
}
