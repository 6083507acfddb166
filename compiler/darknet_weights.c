/* Darknet .weights: a header, then little-endian float32 arrays layer after layer
 * in cfg order (darknet's load_weights_upto):
 *   header      int32 major, minor, revision; `seen` as uint64 when
 *               major*10 + minor >= 2 and both are below 1000, else uint32
 *   convolutional  biases[n], (batch_normalize: scales[n], rolling_mean[n],
 *               rolling_variance[n]), weights[n][c/groups][size][size]
 *   connected   biases[n], weights[n][inputs] ([inputs][n] when major or minor
 *               exceeds 1000), (batch_normalize: scales, mean, variance)
 *   batchnorm   scales[c], rolling_mean[c], rolling_variance[c] (pjreddie's;
 *               its biases stay 0)
 * Darknet reads whatever is there; here the file must hold exactly what the cfg
 * needs, and every value must be finite.
 *
 * Batch norm: darknet computes scales * (x - mean) / (sqrt(var) + .000001) +
 * biases. The IR's gamma * (x - mean) / sqrt(var + eps) + beta expresses it
 * exactly with gamma = scales / (sqrt(var) + .000001), var = 1, eps = 0, beta =
 * biases (the node's own bias is then 0: darknet adds its biases after the BN). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "darknet_priv.h"
#include "mxu_error.h"

#define CHUNK_FLOATS 4096

struct reader {
    FILE *f;
    const char *name;          /* the .weights file, for messages */
    const struct mxu_dn_cfg *cfg;
    uint64_t pos;              /* floats read after the header */
};

static uint64_t layer_floats(const struct mxu_dn_layer *l)
{
    uint64_t n = l->n;
    switch (l->kind) {
    case MXU_DN_CONV:
        return n + (l->batch_normalize ? 3 * n : 0) +
               n * (l->cin / l->groups) * l->ksize * l->ksize;
    case MXU_DN_CONNECTED:
        return n + n * l->cin + (l->batch_normalize ? 3 * n : 0);
    case MXU_DN_BATCHNORM:
        return 3 * n;
    case MXU_DN_OTHER:
        break;
    }
    return 0;
}

uint64_t mxu_dn_weights_expected(const struct mxu_dn_net *net)
{
    uint64_t total = 0;
    for (uint32_t i = 0; i < net->n_layers; i++)
        total += layer_floats(&net->layers[i]);
    return total;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Read `count` floats; a NaN or infinity is a malformed file. */
static int read_floats(struct reader *r, const struct mxu_dn_layer *l, const char *what,
                       float *dst, uint64_t count)
{
    uint8_t buf[CHUNK_FLOATS * 4];
    for (uint64_t done = 0; done < count;) {
        size_t want = count - done < CHUNK_FLOATS ? (size_t)(count - done) : CHUNK_FLOATS;
        if (fread(buf, 4, want, r->f) != want)
            return mxu_fail(MXU_ERR_IO, "%s: read failed in the %s of [%s] (%s:%u)", r->name,
                            what, l->type, r->cfg->file, l->line);
        for (size_t i = 0; i < want; i++) {
            uint32_t bits = le32(buf + 4 * i);
            float v;
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                return mxu_fail(MXU_ERR_FORMAT,
                                "%s: float %llu (%s of [%s] at %s:%u) is not finite", r->name,
                                (unsigned long long)(r->pos + done + i), what, l->type,
                                r->cfg->file, l->line);
            dst[done + i] = v;
        }
        done += want;
    }
    r->pos += count;
    return MXU_OK;
}

static float *alloc_floats(uint64_t count)
{
    return malloc((size_t)(count ? count : 1) * sizeof(float));
}

/* Darknet's scales/mean/variance (+ biases as beta) into the IR's BN. */
static int read_bn(struct reader *r, const struct mxu_dn_layer *l, mxu_node *node, float *beta)
{
    uint32_t n = l->n;
    float *scales = alloc_floats(n);
    struct mxu_batchnorm *bn = &node->bn;
    free(bn->gamma);
    free(bn->beta);
    free(bn->mean);
    free(bn->var);
    bn->gamma = alloc_floats(n);
    bn->mean = alloc_floats(n);
    bn->var = alloc_floats(n);
    bn->beta = beta;
    int rc = MXU_OK;
    if (!scales || !bn->gamma || !bn->mean || !bn->var || !bn->beta) {
        rc = mxu_fail(MXU_ERR_NOMEM, "%s: out of memory", r->name);
        goto out;
    }
    if ((rc = read_floats(r, l, "scales", scales, n)) ||
        (rc = read_floats(r, l, "rolling mean", bn->mean, n)) ||
        (rc = read_floats(r, l, "rolling variance", bn->var, n)))
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        if (bn->var[i] < 0) {
            rc = mxu_fail(MXU_ERR_FORMAT, "%s: [%s] at %s:%u: rolling variance %g of channel %u "
                                          "is negative",
                          r->name, l->type, r->cfg->file, l->line, bn->var[i], i);
            goto out;
        }
        /* darknet divides by sqrt() in double plus the float .000001f */
        double divisor = sqrt((double)bn->var[i]) + (double)0.000001f;
        bn->gamma[i] = (float)((double)scales[i] / divisor);
        bn->var[i] = 1.0f;
    }
    bn->eps = 0.0f;
    node->has_bn = 1;
out:
    free(scales);
    return rc;
}

/* A zero bias for layers whose darknet biases went into the BN's beta. */
static int zero_bias(struct reader *r, mxu_node *node, uint32_t n)
{
    free(node->bias);
    node->bias = calloc(n ? n : 1, sizeof(float));
    return node->bias ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "%s: out of memory", r->name);
}

/* Biases: the node's bias, or (batch norm) the BN's beta. */
static int read_biases(struct reader *r, const struct mxu_dn_layer *l, mxu_node *node,
                       float **beta)
{
    float *biases = alloc_floats(l->n);
    if (!biases)
        return mxu_fail(MXU_ERR_NOMEM, "%s: out of memory", r->name);
    int rc = read_floats(r, l, "biases", biases, l->n);
    if (rc) {
        free(biases);
        return rc;
    }
    if (l->batch_normalize) {
        if ((rc = zero_bias(r, node, l->n))) {
            free(biases);
            return rc;
        }
        *beta = biases;
        return MXU_OK;
    }
    free(node->bias);
    node->bias = biases;
    return MXU_OK;
}

/* weights[n][c/groups][k][k] (or, flipped, its transpose [c*k*k][n]) into the
 * IR's [n][k][k][c/groups]. */
static int read_conv(struct reader *r, const struct mxu_dn_layer *l, mxu_node *node)
{
    uint32_t n = l->n, cg = l->cin / l->groups, k = l->ksize;
    uint64_t count = (uint64_t)n * cg * k * k, per_filter = (uint64_t)cg * k * k;
    float *beta = NULL, *src = NULL, *dst = NULL;
    int rc = read_biases(r, l, node, &beta);
    if (rc)
        return rc;
    if (l->batch_normalize && (rc = read_bn(r, l, node, beta))) /* read_bn owns beta */
        return rc;
    src = alloc_floats(count);
    dst = alloc_floats(count);
    if (!src || !dst) {
        rc = mxu_fail(MXU_ERR_NOMEM, "%s: out of memory for %llu weights", r->name,
                      (unsigned long long)count);
        goto out;
    }
    if ((rc = read_floats(r, l, "weights", src, count)))
        goto out;
    for (uint32_t o = 0; o < n; o++)
        for (uint32_t ci = 0; ci < cg; ci++)
            for (uint32_t y = 0; y < k; y++)
                for (uint32_t x = 0; x < k; x++) {
                    uint64_t j = ((uint64_t)ci * k + y) * k + x; /* column in darknet's row */
                    float v = l->flipped ? src[j * n + o] : src[o * per_filter + j];
                    dst[(((uint64_t)o * k + y) * k + x) * cg + ci] = v;
                }
    free(node->weights);
    node->weights = dst;
    dst = NULL;
out:
    free(src);
    free(dst);
    return rc;
}

static int read_connected(struct reader *r, const struct mxu_dn_layer *l, mxu_node *node,
                          int transpose)
{
    uint64_t count = (uint64_t)l->n * l->cin;
    float *beta = NULL, *w = NULL;
    int rc = read_biases(r, l, node, &beta);
    if (rc)
        return rc;
    w = alloc_floats(count);
    if (!w) {
        rc = mxu_fail(MXU_ERR_NOMEM, "%s: out of memory for %llu weights", r->name,
                      (unsigned long long)count);
        goto out;
    }
    if ((rc = read_floats(r, l, "weights", w, count)))
        goto out;
    if (transpose) { /* stored [inputs][outputs] */
        float *t = alloc_floats(count);
        if (!t) {
            rc = mxu_fail(MXU_ERR_NOMEM, "%s: out of memory", r->name);
            goto out;
        }
        for (uint64_t i = 0; i < l->cin; i++)
            for (uint64_t o = 0; o < l->n; o++)
                t[o * l->cin + i] = w[i * l->n + o];
        free(w);
        w = t;
    }
    free(node->weights);
    node->weights = w; /* columns in darknet's C,H,W order: the node says flatten_chw */
    w = NULL;
    if (l->batch_normalize) {
        rc = read_bn(r, l, node, beta);
        beta = NULL;
    }
out:
    free(w);
    free(beta);
    return rc;
}

static int read_batchnorm(struct reader *r, const struct mxu_dn_layer *l, mxu_node *node)
{
    float *beta = calloc(l->n ? l->n : 1, sizeof(float));
    if (!beta)
        return mxu_fail(MXU_ERR_NOMEM, "%s: out of memory", r->name);
    return read_bn(r, l, node, beta);
}

/* The header; *transpose tells connected weights are stored transposed. */
static int read_header(struct reader *r, int *transpose)
{
    uint8_t h[12], seen[8];
    size_t got = fread(h, 1, sizeof h, r->f);
    if (got != sizeof h)
        return mxu_fail(MXU_ERR_FORMAT, "%s: header truncated (%zu of 12 bytes)", r->name, got);
    int32_t major = (int32_t)le32(h), minor = (int32_t)le32(h + 4);
    size_t seen_bytes =
        ((int64_t)major * 10 + minor >= 2 && major < 1000 && minor < 1000) ? 8 : 4;
    got = fread(seen, 1, seen_bytes, r->f);
    if (got != seen_bytes)
        return mxu_fail(MXU_ERR_FORMAT, "%s: header truncated in 'seen' (version %d.%d: %zu of "
                                        "%zu bytes)",
                        r->name, major, minor, got, seen_bytes);
    *transpose = major > 1000 || minor > 1000;
    return MXU_OK;
}

/* Bytes between the current position and the end. */
static int remaining_bytes(struct reader *r, uint64_t *out)
{
    long pos = ftell(r->f);
    if (pos < 0 || fseek(r->f, 0, SEEK_END) != 0)
        return mxu_fail(MXU_ERR_IO, "%s: cannot seek (a regular file is needed)", r->name);
    long end = ftell(r->f);
    if (end < pos || fseek(r->f, pos, SEEK_SET) != 0)
        return mxu_fail(MXU_ERR_IO, "%s: cannot seek (a regular file is needed)", r->name);
    *out = (uint64_t)(end - pos);
    return MXU_OK;
}

/* The file size must match the cfg exactly: say by how much it does not. */
static int check_size(struct reader *r, const struct mxu_dn_net *net, uint64_t bytes)
{
    uint64_t expected = mxu_dn_weights_expected(net), found = bytes / 4;
    if (bytes % 4)
        return mxu_fail(MXU_ERR_FORMAT,
                        "%s: %llu bytes after the header are not a whole number of floats "
                        "(%s needs %llu floats)",
                        r->name, (unsigned long long)bytes, r->cfg->file,
                        (unsigned long long)expected);
    if (found > expected)
        return mxu_fail(MXU_ERR_FORMAT,
                        "%s: too long for %s: %llu floats expected after the header, %llu found "
                        "(%llu extra; weights of another cfg?)",
                        r->name, r->cfg->file, (unsigned long long)expected,
                        (unsigned long long)found, (unsigned long long)(found - expected));
    if (found < expected) {
        uint64_t sum = 0;
        uint32_t i = 0;
        for (; i < net->n_layers; i++) {
            sum += layer_floats(&net->layers[i]);
            if (sum > found)
                break;
        }
        const struct mxu_dn_layer *l = &net->layers[i < net->n_layers ? i : net->n_layers - 1];
        return mxu_fail(MXU_ERR_FORMAT,
                        "%s: too short for %s: %llu floats expected after the header, %llu found "
                        "(ends in layer %u, [%s] at line %u)",
                        r->name, r->cfg->file, (unsigned long long)expected,
                        (unsigned long long)found, i, l->type, l->line);
    }
    return MXU_OK;
}

int mxu_dn_load_weights(struct mxu_dn_net *net, const struct mxu_dn_cfg *cfg, FILE *f,
                        const char *weights_name)
{
    struct reader r = {.f = f, .name = weights_name, .cfg = cfg};
    for (uint32_t i = 0; i < net->n_layers; i++) {
        const struct mxu_dn_layer *l = &net->layers[i];
        if (l->no_load && l->kind != MXU_DN_OTHER)
            return mxu_fail(MXU_ERR_UNSUPPORTED,
                            "%s:%u: [%s]: dontload/dontloadscales/numload with a .weights file "
                            "not supported",
                            cfg->file, l->line, l->type);
    }
    int transpose = 0;
    uint64_t bytes = 0;
    int rc;
    if ((rc = read_header(&r, &transpose)) || (rc = remaining_bytes(&r, &bytes)) ||
        (rc = check_size(&r, net, bytes)))
        return rc;
    for (uint32_t i = 0; i < net->n_layers && rc == MXU_OK; i++) {
        const struct mxu_dn_layer *l = &net->layers[i];
        mxu_node *node = l->node >= 0 ? &net->g->nodes[l->node] : NULL;
        switch (l->kind) {
        case MXU_DN_CONV:
            rc = read_conv(&r, l, node);
            break;
        case MXU_DN_CONNECTED:
            rc = read_connected(&r, l, node, transpose);
            break;
        case MXU_DN_BATCHNORM:
            rc = read_batchnorm(&r, l, node);
            break;
        case MXU_DN_OTHER:
            break;
        }
    }
    return rc;
}
