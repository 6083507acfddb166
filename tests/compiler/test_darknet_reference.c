/* The Darknet frontend against darknet itself: a small network using every
 * supported layer kind gets random .weights; Debian's darknet binary
 * (`darknet classifier predict`) runs it on an image and prints every output,
 * and the graph the frontend built, run in float by a plain interpreter here,
 * must print the same. This checks what the structural tests cannot: weight
 * layouts, the batch-norm conversion, darknet's max-pool padding, the CHW
 * flattening of connected layers and the shortcut projection, numerically. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "darknet_priv.h"
#include "mxu_compiler.h"
#include "mxu_error.h"

#define DARKNET "/usr/bin/darknet"
#define H 8
#define W 12

/* ---- a float interpreter for the IR (NHWC, batch 1) ------------------------------ */

static float act(const struct mxu_act *a, float x)
{
    switch (a->kind) {
    case MXU_ACT_KIND_NONE: return x;
    case MXU_ACT_KIND_RELU: return x > 0 ? x : 0;
    case MXU_ACT_KIND_CLIP: return x < a->lo ? a->lo : x > a->hi ? a->hi : x;
    case MXU_ACT_KIND_LEAKY: return x > 0 ? x : a->alpha * x;
    case MXU_ACT_KIND_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case MXU_ACT_KIND_TANH: return tanhf(x);
    case MXU_ACT_KIND_ELU: return x >= 0 ? x : a->alpha * (expf(x) - 1);
    case MXU_ACT_KIND_SWISH: return x / (1.0f + expf(-x));
    case MXU_ACT_KIND_MISH: return x * tanhf(log1pf(expf(x)));
    }
    return x;
}

static float bn(const mxu_node *n, uint32_t c, float x)
{
    const struct mxu_batchnorm *b = &n->bn;
    return b->gamma[c] * (x - b->mean[c]) / sqrtf(b->var[c] + b->eps) + b->beta[c];
}

/* bias, batch norm, activation of a conv/FC output channel */
static float finish(const mxu_node *n, uint32_t c, float x)
{
    if (n->bias)
        x += n->bias[c];
    if (n->has_bn)
        x = bn(n, c, x);
    return act(&n->act, x);
}

static uint64_t elems(const mxu_value *v)
{
    uint64_t e = 1;
    for (uint32_t i = 0; i < v->ndims; i++)
        e *= v->dims[i];
    return e;
}

static void conv(const mxu_node *n, const mxu_value *vi, const float *in, const mxu_value *vo,
                 float *out)
{
    uint32_t ih = vi->dims[1], iw = vi->dims[2], ic = vi->dims[3];
    uint32_t oh = vo->dims[1], ow = vo->dims[2], oc = vo->dims[3];
    uint32_t cg = ic / n->groups, og = oc / n->groups;
    for (uint32_t y = 0; y < oh; y++)
        for (uint32_t x = 0; x < ow; x++)
            for (uint32_t o = 0; o < oc; o++) {
                uint32_t grp = o / og;
                float s = 0;
                for (uint32_t ky = 0; ky < n->kh; ky++)
                    for (uint32_t kx = 0; kx < n->kw; kx++) {
                        long yy = (long)(y * n->stride_h + ky * n->dil_h) - n->pad_top;
                        long xx = (long)(x * n->stride_w + kx * n->dil_w) - n->pad_left;
                        if (yy < 0 || xx < 0 || yy >= ih || xx >= iw)
                            continue;
                        for (uint32_t c = 0; c < cg; c++)
                            s += n->weights[((o * n->kh + ky) * n->kw + kx) * cg + c] *
                                 in[((uint64_t)yy * iw + xx) * ic + grp * cg + c];
                    }
                out[((uint64_t)y * ow + x) * oc + o] = finish(n, o, s);
            }
}

static void maxpool(const mxu_node *n, const mxu_value *vi, const float *in, const mxu_value *vo,
                    float *out)
{
    uint32_t ih = vi->dims[1], iw = vi->dims[2], c = vi->dims[3];
    for (uint32_t y = 0; y < vo->dims[1]; y++)
        for (uint32_t x = 0; x < vo->dims[2]; x++)
            for (uint32_t k = 0; k < c; k++) {
                float m = -INFINITY;
                for (uint32_t ky = 0; ky < n->kh; ky++)
                    for (uint32_t kx = 0; kx < n->kw; kx++) {
                        long yy = (long)(y * n->stride_h + ky) - n->pad_top;
                        long xx = (long)(x * n->stride_w + kx) - n->pad_left;
                        if (yy >= 0 && xx >= 0 && yy < ih && xx < iw)
                            m = fmaxf(m, in[((uint64_t)yy * iw + xx) * c + k]);
                    }
                out[((uint64_t)y * vo->dims[2] + x) * c + k] = m;
            }
}

/* FC; flatten_chw: the weight columns are in C,H,W order of an NHWC input */
static void fc(const mxu_node *n, const mxu_value *vi, const float *in, float *out)
{
    uint64_t cin = elems(vi);
    uint32_t h = vi->ndims == 4 ? vi->dims[1] : 1, w = vi->ndims == 4 ? vi->dims[2] : 1;
    uint32_t c = vi->ndims == 4 ? vi->dims[3] : vi->dims[1];
    for (uint32_t o = 0; o < n->cout; o++) {
        float s = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                for (uint32_t k = 0; k < c; k++) {
                    uint64_t col = n->flatten_chw ? ((uint64_t)k * h + y) * w + x
                                                  : ((uint64_t)y * w + x) * c + k;
                    s += n->weights[o * cin + col] * in[((uint64_t)y * w + x) * c + k];
                }
        out[o] = finish(n, o, s);
    }
}

static void run_node(const mxu_graph *g, const mxu_node *n, float **vals)
{
    const mxu_value *vi = &g->values[n->inputs[0]], *vo = &g->values[n->output];
    const float *in = vals[n->inputs[0]];
    uint64_t count = elems(vo);
    float *out = vals[n->output] = calloc(count, sizeof(float));
    cr_assert_not_null(out);
    uint32_t c = vo->dims[vo->ndims - 1];
    switch (n->op) {
    case MXU_NODE_CONV: conv(n, vi, in, vo, out); break;
    case MXU_NODE_MAXPOOL: maxpool(n, vi, in, vo, out); break;
    case MXU_NODE_FC: fc(n, vi, in, out); break;
    case MXU_NODE_GLOBAL_AVGPOOL: {
        uint64_t hw = (uint64_t)vi->dims[1] * vi->dims[2];
        for (uint64_t p = 0; p < hw; p++)
            for (uint32_t k = 0; k < c; k++)
                out[k] += in[p * c + k] / (float)hw;
        break;
    }
    case MXU_NODE_ADD:
        for (uint64_t i = 0; i < count; i++)
            out[i] = act(&n->act, in[i] + vals[n->inputs[1]][i]);
        break;
    case MXU_NODE_CONCAT: {
        uint64_t pos = count / c;
        uint32_t at = 0;
        for (uint32_t k = 0; k < n->n_inputs; k++) {
            const mxu_value *v = &g->values[n->inputs[k]];
            uint32_t ck = v->dims[v->ndims - 1];
            for (uint64_t p = 0; p < pos; p++)
                memcpy(out + p * c + at, vals[n->inputs[k]] + p * ck, ck * sizeof(float));
            at += ck;
        }
        break;
    }
    case MXU_NODE_UPSAMPLE:
        for (uint32_t y = 0; y < vo->dims[1]; y++)
            for (uint32_t x = 0; x < vo->dims[2]; x++)
                memcpy(out + ((uint64_t)y * vo->dims[2] + x) * c,
                       in + ((uint64_t)(y / n->scale) * vi->dims[2] + x / n->scale) * c,
                       c * sizeof(float));
        break;
    case MXU_NODE_SOFTMAX:
        for (uint64_t p = 0; p < count / c; p++) {
            float m = -INFINITY, s = 0;
            for (uint32_t k = 0; k < c; k++)
                m = fmaxf(m, in[p * c + k]);
            for (uint32_t k = 0; k < c; k++)
                s += out[p * c + k] = expf(in[p * c + k] - m);
            for (uint32_t k = 0; k < c; k++)
                out[p * c + k] /= s;
        }
        break;
    case MXU_NODE_BATCHNORM:
        for (uint64_t i = 0; i < count; i++)
            out[i] = bn(n, (uint32_t)(i % c), in[i]);
        break;
    case MXU_NODE_ACT:
        for (uint64_t i = 0; i < count; i++)
            out[i] = act(&n->act, in[i]);
        break;
    case MXU_NODE_FLATTEN:
    case MXU_NODE_IDENTITY: memcpy(out, in, count * sizeof(float)); break;
    default: cr_assert_fail("op %d not interpreted", n->op);
    }
}

/* Run the graph on an NHWC input; returns the output (caller frees). */
static float *run_graph(const mxu_graph *g, const float *input, uint64_t *count)
{
    float **vals = calloc(g->n_values, sizeof *vals);
    cr_assert_not_null(vals);
    vals[g->inputs[0]] = (float *)input;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        run_node(g, &g->nodes[i], vals);
    int o = g->outputs[0];
    float *out = vals[o];
    *count = elems(&g->values[o]);
    for (uint32_t v = 0; v < g->n_values; v++)
        if ((int)v != o && v != (uint32_t)g->inputs[0])
            free(vals[v]);
    free(vals);
    return out;
}

/* ---- darknet's side ---------------------------------------------------------------- */

struct paths {
    char cfg[128], weights[128], names[128], data[128], image[128];
};

static void make_paths(struct paths *p, const char *tag)
{
    int pid = (int)getpid();
    snprintf(p->cfg, sizeof p->cfg, "/tmp/mxu-dnref-%d-%s.cfg", pid, tag);
    snprintf(p->weights, sizeof p->weights, "/tmp/mxu-dnref-%d-%s.weights", pid, tag);
    snprintf(p->names, sizeof p->names, "/tmp/mxu-dnref-%d-%s.names", pid, tag);
    snprintf(p->data, sizeof p->data, "/tmp/mxu-dnref-%d-%s.data", pid, tag);
    snprintf(p->image, sizeof p->image, "/tmp/mxu-dnref-%d-%s.ppm", pid, tag);
}

static void remove_paths(const struct paths *p)
{
    unlink(p->cfg);
    unlink(p->weights);
    unlink(p->names);
    unlink(p->data);
    unlink(p->image);
}

static FILE *create(const char *path)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s", path);
    return f;
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static float frand(float lo, float hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (hi - lo) * (float)((rng >> 40) & 0xffffff) / (float)0x1000000;
}

static void put(FILE *f, uint64_t n, float lo, float hi)
{
    for (uint64_t i = 0; i < n; i++) {
        float v = frand(lo, hi);
        fwrite(&v, sizeof v, 1, f);
    }
}

static void put_bn(FILE *f, uint32_t n)
{
    put(f, n, 0.5f, 1.5f); /* scales */
    put(f, n, -0.5f, 0.5f); /* rolling mean */
    put(f, n, 0.2f, 1.5f); /* rolling variance */
}

/* Random parameters in darknet's order for the layers of `cfg_text` (as the
 * frontend reads them), weights scaled by their fan-in to keep values sane. */
static void write_weights(const char *path, const char *cfg_text)
{
    struct mxu_dn_cfg cfg;
    struct mxu_dn_net net;
    cr_assert_eq(mxu_dn_cfg_parse(cfg_text, strlen(cfg_text), "ref.cfg", &cfg), MXU_OK);
    cr_assert_eq(mxu_dn_build(&cfg, "ref.cfg", &net), MXU_OK, "%s", mxu_error_detail());
    FILE *f = create(path);
    int32_t hdr[3] = {0, 2, 0};
    uint64_t seen = 0;
    fwrite(hdr, sizeof hdr, 1, f);
    fwrite(&seen, sizeof seen, 1, f);
    for (uint32_t i = 0; i < net.n_layers; i++) {
        const struct mxu_dn_layer *l = &net.layers[i];
        uint64_t fan_in = l->kind == MXU_DN_CONV
                              ? (uint64_t)l->cin / l->groups * l->ksize * l->ksize
                              : l->cin;
        float a = sqrtf(3.0f / (float)(fan_in ? fan_in : 1));
        if (l->kind == MXU_DN_CONV) {
            put(f, l->n, -0.3f, 0.3f);
            if (l->batch_normalize)
                put_bn(f, l->n);
            put(f, l->n * fan_in, -a, a);
        } else if (l->kind == MXU_DN_CONNECTED) {
            put(f, l->n, -0.3f, 0.3f);
            put(f, l->n * fan_in, -a, a);
            if (l->batch_normalize)
                put_bn(f, l->n);
        } else if (l->kind == MXU_DN_BATCHNORM) {
            put_bn(f, l->n);
        }
    }
    fclose(f);
    mxu_dn_net_free(&net);
    mxu_dn_cfg_free(&cfg);
}

/* The test image: random pixels, exactly the network's size so darknet's
 * letterbox leaves them untouched; `input` receives them as the graph input
 * (RGB, pixel / 255, NHWC). */
static void write_image(const char *path, float *input)
{
    FILE *f = create(path);
    fprintf(f, "P6\n%d %d\n255\n", W, H);
    for (int i = 0; i < H * W * 3; i++) {
        uint8_t px = (uint8_t)(frand(0, 256));
        fputc(px, f);
        input[i] = px / 255.0f;
    }
    fclose(f);
}

/* Darknet's predictions, by class index: "%5.2f%%: cN" lines */
static int run_darknet(const struct paths *p, uint32_t classes, double *pct)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, DARKNET " classifier predict %s %s %s %s -t %u 2>/dev/null",
             p->data, p->cfg, p->weights, p->image, classes);
    FILE *pipe = popen(cmd, "r");
    cr_assert_not_null(pipe);
    char line[256];
    uint32_t got = 0;
    while (fgets(line, sizeof line, pipe)) {
        double v;
        unsigned k;
        if (sscanf(line, "%lf%%: c%u", &v, &k) == 2 && k < classes) {
            pct[k] = v;
            got++;
        }
    }
    int st = pclose(pipe);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed", cmd);
    return (int)got;
}

/* Cfg -> random weights -> darknet vs the frontend's graph. */
static void compare_with_darknet(const char *tag, const char *cfg, uint32_t classes)
{
    if (access(DARKNET, X_OK) != 0)
        cr_skip_test(DARKNET " missing: install Debian's darknet (scripts/install-deps.sh)");
    struct paths p;
    make_paths(&p, tag);
    FILE *f = create(p.cfg);
    fputs(cfg, f);
    fclose(f);
    f = create(p.names);
    for (uint32_t k = 0; k < classes; k++)
        fprintf(f, "c%u\n", k);
    fclose(f);
    f = create(p.data);
    fprintf(f, "classes=%u\nnames=%s\n", classes, p.names);
    fclose(f);
    float input[H * W * 3];
    write_image(p.image, input);

    write_weights(p.weights, cfg);
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_darknet_load(p.cfg, p.weights, &g), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());

    uint64_t count;
    float *mine = run_graph(g, input, &count);
    cr_assert_eq(count, classes);
    double pct[64];
    cr_assert_eq(run_darknet(&p, classes, pct), (int)classes, "darknet printed too few classes");
    for (uint32_t k = 0; k < classes; k++)
        cr_assert(fabs(mine[k] * 100.0 - pct[k]) <= 0.0051 + 1e-5 * fabs(pct[k]),
                  "%s class %u: darknet %.2f%%, mxu graph %.4f%%", tag, k, pct[k], mine[k] * 100.0);
    free(mine);
    mxu_graph_free(g);
    remove_paths(&p);
}

/* conv+BN+leaky, max-pool with darknet's default padding, grouped conv (elu),
 * strided conv (tanh), shortcut onto a smaller, wider layer (projection),
 * upsample, route concat, 3x3/2 max-pool (offset -1), 1x1 conv (logistic),
 * connected+BN reading a 2x3x5 image in CHW order, dropout, connected. */
static const char *NET_A = "[net]\nheight=8\nwidth=12\nchannels=3\n"
                           "[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=1\n"
                           "pad=1\nactivation=leaky\n"
                           "[maxpool]\nsize=2\nstride=2\n"
                           "[convolutional]\nfilters=6\nsize=3\ngroups=3\nstride=1\npad=1\n"
                           "activation=elu\n"
                           "[convolutional]\nfilters=8\nsize=3\nstride=2\npadding=1\n"
                           "activation=tanh\n"
                           "[shortcut]\nfrom=-3\nactivation=leaky\n"
                           "[upsample]\nstride=2\n"
                           "[route]\nlayers=-1,2\n"
                           "[maxpool]\nsize=3\nstride=2\n"
                           "[convolutional]\nfilters=5\nsize=1\nstride=1\nactivation=logistic\n"
                           "[connected]\noutput=7\nbatch_normalize=1\nactivation=relu\n"
                           "[dropout]\nprobability=.5\n"
                           "[connected]\noutput=6\nactivation=linear\n";

/* global average pool, a standalone batchnorm and activation, softmax */
static const char *NET_B = "[net]\nheight=8\nwidth=12\nchannels=3\n"
                           "[convolutional]\nfilters=16\nsize=3\nstride=1\npad=1\n"
                           "activation=relu\n"
                           "[convolutional]\nbatch_normalize=1\nfilters=10\nsize=1\n"
                           "activation=linear\n"
                           "[avgpool]\n"
                           "[softmax]\ngroups=1\n";

Test(darknet_reference, layers_match_darknet)
{
    compare_with_darknet("a", NET_A, 6);
}

Test(darknet_reference, avgpool_softmax_match_darknet)
{
    compare_with_darknet("b", NET_B, 10);
}
