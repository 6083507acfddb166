/* Darknet .weights: random parameters written in darknet's layout land in the
 * IR's layout (conv [n][c/g][k][k] -> [n][k][k][c/g], FC unchanged with CHW
 * columns), batch norm converted exactly, and every malformed file refused
 * with a message that says what was expected. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mxu_compiler.h"
#include "mxu_error.h"

/* conv0 (BN), conv1 (groups), maxpool, fc3 (BN), bn4, fc5: 273 floats */
static const char *CFG = "[net]\n"
                         "height=5\nwidth=5\nchannels=4\n"
                         "[convolutional]\n" /* line 5 */
                         "batch_normalize=1\nfilters=4\nsize=3\nstride=1\npad=1\n"
                         "activation=leaky\n"
                         "[convolutional]\n" /* line 12 */
                         "filters=4\nsize=2\ngroups=2\nstride=2\nactivation=linear\n"
                         "[maxpool]\nsize=2\nstride=1\n" /* line 18 */
                         "[connected]\noutput=3\nbatch_normalize=1\nactivation=relu\n"
                         "[batchnorm]\n" /* line 25 */
                         "[connected]\noutput=2\nactivation=linear\n"; /* line 26 */
#define CFG_FLOATS 273u

struct wfile {
    float *f;
    uint32_t n, cap;
};

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static float frand(float lo, float hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (float)((rng_state >> 40) & 0xffffff) / (float)0x1000000;
}

/* Append n random floats; returns where they start. Variances are positive. */
static uint32_t put(struct wfile *w, uint32_t n, float lo, float hi)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2;
        w->f = realloc(w->f, w->cap * sizeof(float));
        cr_assert_not_null(w->f);
    }
    uint32_t at = w->n;
    for (uint32_t i = 0; i < n; i++)
        w->f[w->n++] = frand(lo, hi);
    return at;
}

static void tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "/tmp/mxu-darknet-%d-%s", (int)getpid(), name);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Header (major, minor, revision, seen: 8 bytes when major*10+minor >= 2 and
 * both < 1000) and the floats, little endian; extra bytes appended raw. */
static size_t weights_bytes(uint8_t **out, int32_t major, int32_t minor, const float *f,
                            uint32_t n, const void *extra, size_t extra_len)
{
    int seen64 = major * 10 + minor >= 2 && major < 1000 && minor < 1000;
    size_t hdr = 12 + (seen64 ? 8 : 4), len = hdr + (size_t)n * 4 + extra_len;
    uint8_t *b = calloc(1, len);
    cr_assert_not_null(b);
    put_le32(b, (uint32_t)major);
    put_le32(b + 4, (uint32_t)minor);
    put_le32(b + 8, 0);
    put_le32(b + 12, 123456); /* seen */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &f[i], 4);
        put_le32(b + hdr + 4 * (size_t)i, bits);
    }
    if (extra_len)
        memcpy(b + hdr + (size_t)n * 4, extra, extra_len);
    *out = b;
    return len;
}

/* Load `cfg` with a weights file holding `bytes`; returns the status. */
static int load_with(const char *cfg, const uint8_t *bytes, size_t len, mxu_graph **g)
{
    char cfg_path[128], w_path[128];
    tmp_path(cfg_path, sizeof cfg_path, "t.cfg");
    tmp_path(w_path, sizeof w_path, "t.weights");
    write_file(cfg_path, cfg, strlen(cfg));
    write_file(w_path, bytes, len);
    int rc = mxu_darknet_load(cfg_path, w_path, g);
    unlink(cfg_path);
    unlink(w_path);
    return rc;
}

static const mxu_node *node(const mxu_graph *g, const char *name)
{
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name))
            return &g->nodes[i];
    cr_assert_fail("no node %s", name);
    return NULL;
}

/* darknet: scales * (x - mean) / (sqrt(var) + .000001) + biases */
static void expect_bn(const mxu_node *n, uint32_t c, const float *biases, const float *scales,
                      const float *mean, const float *var)
{
    cr_assert_eq(n->has_bn, 1);
    cr_assert_not_null(n->bn.gamma);
    cr_assert_float_eq(n->bn.eps, 0.0f, 0);
    for (uint32_t i = 0; i < c; i++) {
        double want = scales[i] / (sqrt((double)var[i]) + 0.000001);
        cr_assert_float_eq(n->bn.gamma[i], want, 1e-6 * fabs(want), "gamma[%u]", i);
        cr_assert_float_eq(n->bn.beta[i], biases ? biases[i] : 0.0f, 0, "beta[%u]", i);
        cr_assert_float_eq(n->bn.mean[i], mean[i], 0, "mean[%u]", i);
        cr_assert_float_eq(n->bn.var[i], 1.0f, 0, "var[%u]", i);
    }
}

/* conv weights: darknet [n][c/g][k][k] -> IR [n][k][k][c/g] */
static void expect_conv_weights(const mxu_node *n, const float *src, uint32_t cout, uint32_t cg,
                                uint32_t k)
{
    cr_assert_not_null(n->weights);
    for (uint32_t o = 0; o < cout; o++)
        for (uint32_t ci = 0; ci < cg; ci++)
            for (uint32_t y = 0; y < k; y++)
                for (uint32_t x = 0; x < k; x++)
                    cr_assert_float_eq(n->weights[((o * k + y) * k + x) * cg + ci],
                                       src[((o * cg + ci) * k + y) * k + x], 0,
                                       "w[%u][%u][%u][%u]", o, y, x, ci);
}

struct cfg_floats {
    struct wfile w;
    uint32_t c0_b, c0_s, c0_m, c0_v, c0_w, c1_b, c1_w, f3_b, f3_w, f3_s, f3_m, f3_v;
    uint32_t b4_s, b4_m, b4_v, f5_b, f5_w;
};

/* The file darknet would write for CFG, in its order. */
static void make_floats(struct cfg_floats *p)
{
    memset(p, 0, sizeof *p);
    struct wfile *w = &p->w;
    p->c0_b = put(w, 4, -1, 1); /* conv0: biases, scales, mean, variance, weights */
    p->c0_s = put(w, 4, 0.5f, 1.5f);
    p->c0_m = put(w, 4, -1, 1);
    p->c0_v = put(w, 4, 0.1f, 2);
    p->c0_w = put(w, 4 * 4 * 9, -1, 1);
    p->c1_b = put(w, 4, -1, 1); /* conv1: biases, weights [4][2][2][2] */
    p->c1_w = put(w, 4 * 2 * 4, -1, 1);
    p->f3_b = put(w, 3, -1, 1); /* fc3: biases, weights [3][16], scales, mean, variance */
    p->f3_w = put(w, 3 * 16, -1, 1);
    p->f3_s = put(w, 3, 0.5f, 1.5f);
    p->f3_m = put(w, 3, -1, 1);
    p->f3_v = put(w, 3, 0.1f, 2);
    p->b4_s = put(w, 3, 0.5f, 1.5f); /* bn4: scales, mean, variance */
    p->b4_m = put(w, 3, -1, 1);
    p->b4_v = put(w, 3, 0.1f, 2);
    p->f5_b = put(w, 2, -1, 1); /* fc5: biases, weights [2][3] */
    p->f5_w = put(w, 2 * 3, -1, 1);
    cr_assert_eq(w->n, CFG_FLOATS);
}

Test(darknet_weights, every_array_lands_in_place)
{
    struct cfg_floats p;
    make_floats(&p);
    const float *f = p.w.f;
    uint8_t *bytes;
    size_t len = weights_bytes(&bytes, 0, 2, f, p.w.n, NULL, 0);
    mxu_graph *g = NULL;
    int rc = load_with(CFG, bytes, len, &g);
    cr_assert_eq(rc, MXU_OK, "%s", mxu_error_detail());

    const mxu_node *c0 = node(g, "conv0");
    expect_conv_weights(c0, f + p.c0_w, 4, 4, 3);
    for (uint32_t i = 0; i < 4; i++)
        cr_assert_float_eq(c0->bias[i], 0.0f, 0, "darknet adds its biases after the BN");
    expect_bn(c0, 4, f + p.c0_b, f + p.c0_s, f + p.c0_m, f + p.c0_v);

    const mxu_node *c1 = node(g, "conv1");
    cr_assert_eq(c1->has_bn, 0);
    expect_conv_weights(c1, f + p.c1_w, 4, 2, 2);
    for (uint32_t i = 0; i < 4; i++)
        cr_assert_float_eq(c1->bias[i], f[p.c1_b + i], 0);

    const mxu_node *f3 = node(g, "fc3");
    cr_assert_eq(f3->flatten_chw, 1);
    for (uint32_t i = 0; i < 3 * 16; i++)
        cr_assert_float_eq(f3->weights[i], f[p.f3_w + i], 0, "fc weights are [out][in] (CHW)");
    expect_bn(f3, 3, f + p.f3_b, f + p.f3_s, f + p.f3_m, f + p.f3_v);

    const mxu_node *b4 = node(g, "bn4");
    cr_assert_eq(b4->op, MXU_NODE_BATCHNORM);
    expect_bn(b4, 3, NULL, f + p.b4_s, f + p.b4_m, f + p.b4_v);

    const mxu_node *f5 = node(g, "fc5");
    cr_assert_eq(f5->flatten_chw, 0);
    cr_assert_null(f5->bn.gamma);
    for (uint32_t i = 0; i < 6; i++)
        cr_assert_float_eq(f5->weights[i], f[p.f5_w + i], 0);
    for (uint32_t i = 0; i < 2; i++)
        cr_assert_float_eq(f5->bias[i], f[p.f5_b + i], 0);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
    mxu_graph_free(g);
    free(bytes);
    free(p.w.f);
}

Test(darknet_weights, header_versions)
{
    struct cfg_floats p;
    make_floats(&p);
    /* 0.1: a 32-bit `seen` */
    uint8_t *bytes;
    size_t len = weights_bytes(&bytes, 0, 1, p.w.f, p.w.n, NULL, 0);
    mxu_graph *g = NULL;
    cr_assert_eq(load_with(CFG, bytes, len, &g), MXU_OK, "%s", mxu_error_detail());
    cr_assert_float_eq(node(g, "fc5")->weights[0], p.w.f[p.f5_w], 0);
    mxu_graph_free(g);
    free(bytes);

    /* major > 1000: connected weights stored [inputs][outputs], 32-bit `seen` */
    float *t = malloc(p.w.n * sizeof *t);
    memcpy(t, p.w.f, p.w.n * sizeof *t);
    for (uint32_t o = 0; o < 3; o++)
        for (uint32_t i = 0; i < 16; i++)
            t[p.f3_w + i * 3 + o] = p.w.f[p.f3_w + o * 16 + i];
    for (uint32_t o = 0; o < 2; o++)
        for (uint32_t i = 0; i < 3; i++)
            t[p.f5_w + i * 2 + o] = p.w.f[p.f5_w + o * 3 + i];
    len = weights_bytes(&bytes, 1001, 0, t, p.w.n, NULL, 0);
    cr_assert_eq(load_with(CFG, bytes, len, &g), MXU_OK, "%s", mxu_error_detail());
    for (uint32_t i = 0; i < 3 * 16; i++)
        cr_assert_float_eq(node(g, "fc3")->weights[i], p.w.f[p.f3_w + i], 0, "fc3 w[%u]", i);
    for (uint32_t i = 0; i < 6; i++)
        cr_assert_float_eq(node(g, "fc5")->weights[i], p.w.f[p.f5_w + i], 0, "fc5 w[%u]", i);
    expect_conv_weights(node(g, "conv0"), p.w.f + p.c0_w, 4, 4, 3);
    mxu_graph_free(g);
    free(bytes);
    free(t);
    free(p.w.f);
}

/* Load CFG with n floats (and extra bytes); expect `code` and `needle`. */
static void expect_weights_error(const float *f, uint32_t n, const void *extra, size_t extra_len,
                                 int code, const char *needle)
{
    uint8_t *bytes;
    size_t len = weights_bytes(&bytes, 0, 2, f, n, extra, extra_len);
    mxu_graph *g = (mxu_graph *)1;
    int rc = load_with(CFG, bytes, len, &g);
    free(bytes);
    cr_assert_eq(rc, code, "expected %d, got %d: %s", code, rc, mxu_error_detail());
    cr_assert_null(g);
    cr_assert(strstr(mxu_error_detail(), needle), "'%s' lacks '%s'", mxu_error_detail(), needle);
}

Test(darknet_weights, wrong_sizes_say_what_was_expected)
{
    struct cfg_floats p;
    make_floats(&p);
    p.w.f = realloc(p.w.f, (p.w.n + 8) * sizeof(float));
    for (int i = 0; i < 8; i++)
        p.w.f[p.w.n + i] = 0.5f;
    expect_weights_error(p.w.f, CFG_FLOATS - 1, NULL, 0, MXU_ERR_FORMAT,
                         "t.cfg: 273 floats expected after the header, 272 found (ends in layer "
                         "5, [connected] at line 26)");
    expect_weights_error(p.w.f, 100, NULL, 0, MXU_ERR_FORMAT,
                         "100 found (ends in layer 0, [convolutional] at line 5)");
    expect_weights_error(p.w.f, 0, NULL, 0, MXU_ERR_FORMAT, "0 found (ends in layer 0");
    expect_weights_error(p.w.f, CFG_FLOATS + 2, NULL, 0, MXU_ERR_FORMAT,
                         "too long for /tmp/mxu-darknet-");
    expect_weights_error(p.w.f, CFG_FLOATS + 2, NULL, 0, MXU_ERR_FORMAT,
                         "273 floats expected after the header, 275 found (2 extra");
    expect_weights_error(p.w.f, CFG_FLOATS, "ab", 2, MXU_ERR_FORMAT,
                         "1094 bytes after the header are not a whole number of floats");
    free(p.w.f);
}

Test(darknet_weights, truncated_header)
{
    uint8_t hdr[20] = {0, 0, 0, 0, 2, 0, 0, 0};
    mxu_graph *g = (mxu_graph *)1;
    cr_assert_eq(load_with(CFG, hdr, 10, &g), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "header truncated (10 of 12 bytes)"), "%s",
              mxu_error_detail());
    cr_assert_null(g);
    cr_assert_eq(load_with(CFG, hdr, 16, &g), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "header truncated in 'seen' (version 0.2: 4 of 8 bytes)"),
              "%s", mxu_error_detail());
}

Test(darknet_weights, bad_values)
{
    struct cfg_floats p;
    make_floats(&p);
    float keep = p.w.f[p.c1_w + 3];
    p.w.f[p.c1_w + 3] = NAN;
    expect_weights_error(p.w.f, CFG_FLOATS, NULL, 0, MXU_ERR_FORMAT,
                         "float 167 (weights of [convolutional] at /tmp/");
    p.w.f[p.c1_w + 3] = keep;
    p.w.f[p.f3_v + 1] = -0.25f;
    expect_weights_error(p.w.f, CFG_FLOATS, NULL, 0, MXU_ERR_FORMAT,
                         "[connected] at /tmp/");
    expect_weights_error(p.w.f, CFG_FLOATS, NULL, 0, MXU_ERR_FORMAT,
                         "rolling variance -0.25 of channel 1 is negative");
    p.w.f[p.f3_v + 1] = INFINITY;
    expect_weights_error(p.w.f, CFG_FLOATS, NULL, 0, MXU_ERR_FORMAT, "is not finite");
    free(p.w.f);
}

Test(darknet_weights, flipped_conv_is_transposed)
{
    const char *cfg = "[net]\nheight=3\nwidth=3\nchannels=2\n"
                      "[convolutional]\nfilters=3\nsize=2\nflipped=1\nactivation=linear\n";
    struct wfile w = {0};
    uint32_t b = put(&w, 3, -1, 1), s = put(&w, 2 * 4 * 3, -1, 1);
    uint8_t *bytes;
    size_t len = weights_bytes(&bytes, 0, 2, w.f, w.n, NULL, 0);
    mxu_graph *g = NULL;
    cr_assert_eq(load_with(cfg, bytes, len, &g), MXU_OK, "%s", mxu_error_detail());
    /* stored [c*k*k][n]: darknet's weight (o, j) is at j*n + o */
    float plain[24];
    for (uint32_t o = 0; o < 3; o++)
        for (uint32_t j = 0; j < 8; j++)
            plain[o * 8 + j] = w.f[s + j * 3 + o];
    expect_conv_weights(node(g, "conv0"), plain, 3, 2, 2);
    cr_assert_float_eq(node(g, "conv0")->bias[2], w.f[b + 2], 0);
    mxu_graph_free(g);
    free(bytes);
    free(w.f);
}

Test(darknet_weights, files_and_special_cases)
{
    /* no parameters at all: the header alone */
    const char *pool = "[net]\nheight=4\nwidth=4\nchannels=1\n[maxpool]\nsize=2\nstride=2\n";
    uint8_t *bytes;
    size_t len = weights_bytes(&bytes, 0, 2, NULL, 0, NULL, 0);
    mxu_graph *g = NULL;
    cr_assert_eq(load_with(pool, bytes, len, &g), MXU_OK, "%s", mxu_error_detail());
    mxu_graph_free(g);
    free(bytes);

    /* dontload keeps darknet's initial values, which a file cannot give */
    const char *dl = "[net]\nheight=4\nwidth=4\nchannels=1\n[convolutional]\nsize=1\ndontload=1\n";
    len = weights_bytes(&bytes, 0, 2, NULL, 0, NULL, 0);
    cr_assert_eq(load_with(dl, bytes, len, &g), MXU_ERR_UNSUPPORTED);
    cr_assert(strstr(mxu_error_detail(), "t.cfg:5: [convolutional]: dontload"), "%s",
              mxu_error_detail());
    free(bytes);
    /* ... but without a weights file it does not matter */
    cr_assert_eq(mxu_darknet_load_buffer(dl, strlen(dl), "dl.cfg", &g), MXU_OK);
    mxu_graph_free(g);

    char cfg_path[128];
    tmp_path(cfg_path, sizeof cfg_path, "w.cfg");
    write_file(cfg_path, pool, strlen(pool));
    g = (mxu_graph *)1;
    cr_assert_eq(mxu_darknet_load(cfg_path, "/nonexistent/x.weights", &g), MXU_ERR_NOT_FOUND);
    cr_assert(strstr(mxu_error_detail(), "/nonexistent/x.weights: cannot open the weights"), "%s",
              mxu_error_detail());
    cr_assert_null(g);
    unlink(cfg_path);
}
