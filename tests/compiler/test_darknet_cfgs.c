/* Every cfg of Debian's darknet package (/usr/share/darknet/cfg, installed by
 * scripts/install-deps.sh) either loads into a graph that shape inference
 * accepts, or is refused as unsupported with a message naming the file, the
 * line and the layer. The expected outcome of each is listed, so a change in
 * either direction shows; layer shapes are checked against the table darknet
 * itself prints for the same cfg. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_compiler.h"
#include "mxu_error.h"

#define CFG_DIR "/usr/share/darknet/cfg"

struct outcome {
    const char *cfg;
    const char *error; /* NULL: loads; else the start of the detail after the directory */
    uint32_t ndims, d1, d2, d3; /* the output's dims when it loads */
};

static const struct outcome outcomes[] = {
    {"alexnet.cfg", NULL, 2, 1000, 0, 0},
    {"cifar.cfg", NULL, 4, 1, 1, 10},
    {"cifar.test.cfg", "cifar.test.cfg:116: [softmax]: temperature=3 not supported", 0, 0, 0, 0},
    {"darknet.cfg", NULL, 4, 1, 1, 1000},
    {"darknet19.cfg", NULL, 4, 1, 1, 1000},
    {"darknet19_448.cfg", NULL, 4, 1, 1, 1000},
    {"darknet53.cfg", NULL, 4, 1, 1, 1000},
    {"darknet53_448.cfg", NULL, 4, 1, 1, 1000},
    {"darknet9000.cfg", "darknet9000.cfg:201: [softmax]: hierarchical softmax", 0, 0, 0, 0},
    {"densenet201.cfg", NULL, 4, 1, 1, 1000},
    {"extraction.cfg", NULL, 4, 1, 1, 1000},
    {"extraction.conv.cfg", NULL, 2, 1000, 0, 0},
    {"extraction22k.cfg", NULL, 2, 21842, 0, 0},
    {"go.cfg", "go.cfg:127: [reorg]: layer type not supported", 0, 0, 0, 0},
    {"go.test.cfg", "go.test.cfg:126: [reorg]: layer type not supported", 0, 0, 0, 0},
    {"gru.cfg", "gru.cfg:15: [gru]: layer type not supported", 0, 0, 0, 0},
    {"jnet-conv.cfg", NULL, 4, 1, 1, 1024},
    {"resnet101.cfg", NULL, 4, 1, 1, 1000},
    {"resnet152.cfg", NULL, 4, 1, 1, 1000},
    {"resnet18.cfg", NULL, 4, 1, 1, 1000},
    {"resnet34.cfg", NULL, 4, 1, 1, 1000},
    {"resnet50.cfg", NULL, 4, 1, 1, 1000},
    {"resnext101-32x4d.cfg", NULL, 4, 1, 1, 1000},
    {"resnext152-32x4d.cfg", NULL, 4, 1, 1, 1000},
    {"resnext50.cfg", NULL, 4, 1, 1, 1000},
    {"rnn.cfg", "rnn.cfg:14: [rnn]: layer type not supported", 0, 0, 0, 0},
    {"rnn.train.cfg", "rnn.train.cfg:14: [rnn]: layer type not supported", 0, 0, 0, 0},
    {"strided.cfg", "strided.cfg:17: [crop]: layer type not supported", 0, 0, 0, 0},
    {"t1.test.cfg", "t1.test.cfg:103: [detection]: layer type not supported", 0, 0, 0, 0},
    {"tiny.cfg", NULL, 4, 1, 1, 1000},
    {"vgg-16.cfg", "vgg-16.cfg:17: [crop]: layer type not supported", 0, 0, 0, 0},
    {"vgg-conv.cfg", NULL, 4, 7, 7, 512},
    {"writing.cfg", NULL, 4, 256, 256, 1},
    {"yolo9000.cfg", "yolo9000.cfg:198: [region]: layer type not supported", 0, 0, 0, 0},
    {"yolov1-tiny.cfg", "yolov1-tiny.cfg:116: [detection]: layer type not supported", 0, 0, 0, 0},
    {"yolov1.cfg", "yolov1.cfg:233: [local]: layer type not supported", 0, 0, 0, 0},
    {"yolov2-tiny-voc.cfg", "yolov2-tiny-voc.cfg:121: [region]: layer type not supported", 0, 0,
     0, 0},
    {"yolov2-tiny.cfg", "yolov2-tiny.cfg:122: [region]: layer type not supported", 0, 0, 0, 0},
    {"yolov2-voc.cfg", "yolov2-voc.cfg:219: [reorg]: layer type not supported", 0, 0, 0, 0},
    {"yolov2.cfg", "yolov2.cfg:219: [reorg]: layer type not supported", 0, 0, 0, 0},
    {"yolov3-openimages.cfg", "yolov3-openimages.cfg:607: [yolo]: layer type not supported", 0, 0,
     0, 0},
    {"yolov3-spp.cfg", "yolov3-spp.cfg:640: [yolo]: layer type not supported", 0, 0, 0, 0},
    {"yolov3-tiny.cfg", "yolov3-tiny.cfg:132: [yolo]: layer type not supported", 0, 0, 0, 0},
    {"yolov3-voc.cfg", "yolov3-voc.cfg:608: [yolo]: layer type not supported", 0, 0, 0, 0},
    {"yolov3.cfg", "yolov3.cfg:607: [yolo]: layer type not supported", 0, 0, 0, 0},
};
#define N_OUTCOMES (sizeof outcomes / sizeof *outcomes)

static const struct outcome *find_outcome(const char *cfg)
{
    for (size_t i = 0; i < N_OUTCOMES; i++)
        if (!strcmp(outcomes[i].cfg, cfg))
            return &outcomes[i];
    return NULL;
}

static int is_cfg(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".cfg");
}

static void check_cfg(const char *name, const struct outcome *want)
{
    char path[512];
    snprintf(path, sizeof path, CFG_DIR "/%s", name);
    mxu_graph *g = NULL;
    int rc = mxu_darknet_load(path, NULL, &g);
    const char *detail = mxu_error_detail();
    if (rc != MXU_OK) {
        cr_assert_eq(rc, MXU_ERR_UNSUPPORTED, "%s: %s", name, detail);
        cr_assert_null(g);
        /* "<path>:<line>: [<layer>]: ..." */
        cr_assert(!strncmp(detail, CFG_DIR "/", strlen(CFG_DIR) + 1), "%s", detail);
        const char *rest = detail + strlen(CFG_DIR) + 1;
        if (want) {
            cr_assert_not_null(want->error, "%s should load: %s", name, detail);
            cr_assert(!strncmp(rest, want->error, strlen(want->error)), "%s: got '%s', want '%s'",
                      name, rest, want->error);
        } else {
            unsigned line;
            char layer[64];
            cr_assert(sscanf(rest + strlen(name), ":%u: [%63[^]]]: ", &line, layer) == 2,
                      "new cfg %s: message without line and layer: %s", name, detail);
        }
        return;
    }
    cr_assert_not_null(g);
    if (want)
        cr_assert_null(want->error, "%s should fail with %s", name, want->error);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s: %s", name, mxu_error_detail());
    if (want) {
        const mxu_value *out = &g->values[g->outputs[0]];
        cr_assert_eq(out->ndims, want->ndims, "%s", name);
        cr_assert_eq(out->dims[1], want->d1, "%s", name);
        cr_assert_eq(out->dims[2], want->d2, "%s", name);
        cr_assert_eq(out->dims[3], want->d3, "%s", name);
    }
    for (uint32_t i = 0; i < g->n_nodes; i++)
        cr_assert(g->nodes[i].src_line > 0, "%s: node %s without a line", name,
                  g->nodes[i].name);
    mxu_graph_free(g);
}

Test(darknet_cfgs, every_debian_cfg_loads_or_names_what_is_unsupported)
{
    DIR *d = opendir(CFG_DIR);
    cr_assert_not_null(d, CFG_DIR " missing: install Debian's darknet (scripts/install-deps.sh)");
    size_t seen = 0, listed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_cfg(e->d_name))
            continue;
        const struct outcome *want = find_outcome(e->d_name);
        check_cfg(e->d_name, want);
        seen++;
        listed += want != NULL;
    }
    closedir(d);
    cr_assert_eq(listed, N_OUTCOMES, "%zu of the %zu listed cfgs found", listed, N_OUTCOMES);
    cr_assert_geq(seen, N_OUTCOMES);
}

static mxu_graph *load_text(const char *text, size_t len, const char *name)
{
    mxu_graph *g = NULL;
    int rc = mxu_darknet_load_buffer(text, len, name, &g);
    cr_assert_eq(rc, MXU_OK, "%s", mxu_error_detail());
    return g;
}

static char *read_cfg(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, CFG_DIR "/%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

struct layer_shape {
    const char *node;
    uint32_t w, h, c; /* darknet's order; a flat output: w = h = 1 */
};

static void check_shapes(const mxu_graph *g, const struct layer_shape *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const mxu_node *nd = NULL;
        for (uint32_t k = 0; k < g->n_nodes; k++)
            if (!strcmp(g->nodes[k].name, s[i].node))
                nd = &g->nodes[k];
        cr_assert_not_null(nd, "no node %s", s[i].node);
        const mxu_value *v = &g->values[nd->output];
        if (v->ndims == 2) {
            cr_assert_eq(s[i].w * s[i].h, 1, "%s is flat", s[i].node);
            cr_assert_eq(v->dims[1], s[i].c, "%s", s[i].node);
        } else {
            cr_assert_eq(v->dims[1], s[i].h, "%s height %u", s[i].node, v->dims[1]);
            cr_assert_eq(v->dims[2], s[i].w, "%s width %u", s[i].node, v->dims[2]);
            cr_assert_eq(v->dims[3], s[i].c, "%s channels %u", s[i].node, v->dims[3]);
        }
    }
}

/* darknet classifier predict ... alexnet.cfg prints these output sizes */
Test(darknet_cfgs, alexnet_shapes_match_darknet)
{
    static const struct layer_shape want[] = {
        {"conv0", 55, 55, 96},   {"maxpool1", 27, 27, 96}, {"conv2", 27, 27, 256},
        {"maxpool3", 13, 13, 256}, {"conv4", 13, 13, 384}, {"conv5", 13, 13, 384},
        {"conv6", 13, 13, 256},  {"maxpool7", 6, 6, 256}, {"fc8", 1, 1, 4096},
        {"dropout9", 1, 1, 4096}, {"fc10", 1, 1, 4096},   {"fc12", 1, 1, 1000},
        {"softmax13", 1, 1, 1000},
    };
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_darknet_load(CFG_DIR "/alexnet.cfg", NULL, &g), MXU_OK, "%s",
                 mxu_error_detail());
    check_shapes(g, want, sizeof want / sizeof *want);
    cr_assert_eq(g->nodes[0].src_line, 26);
    cr_assert_eq(g->values[g->inputs[0]].dims[1], 227);
    cr_assert_str_eq(g->name, "alexnet");
    mxu_graph_free(g);
}

/* yolov3-tiny up to its first [yolo]: 2x2/1 max-pool keeps 13x13, route + upsample */
Test(darknet_cfgs, yolov3_tiny_backbone_shapes_match_darknet)
{
    size_t len;
    char *text = read_cfg("yolov3-tiny.cfg", &len);
    char *yolo = strstr(text, "[yolo]");
    cr_assert_not_null(yolo);
    mxu_graph *g = load_text(text, (size_t)(yolo - text), "yolov3-tiny.cfg");
    static const struct layer_shape want[] = {
        {"conv0", 416, 416, 16},   {"maxpool1", 208, 208, 16}, {"maxpool5", 52, 52, 64},
        {"maxpool9", 13, 13, 256}, {"conv10", 13, 13, 512},   {"maxpool11", 13, 13, 512},
        {"conv12", 13, 13, 1024},  {"conv15", 13, 13, 255},
    };
    check_shapes(g, want, sizeof want / sizeof *want);
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
    mxu_graph_free(g);
    free(text);
}

/* resnet18's shortcuts between different shapes (layer 12: 64x64x64 onto
 * 32x32x128) become a stride-2 identity projection */
Test(darknet_cfgs, resnet18_shapes_match_darknet)
{
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_darknet_load(CFG_DIR "/resnet18.cfg", NULL, &g), MXU_OK, "%s",
                 mxu_error_detail());
    static const struct layer_shape want[] = {
        {"conv0", 128, 128, 64},   {"maxpool1", 64, 64, 64},  {"shortcut4", 64, 64, 64},
        {"conv8", 32, 32, 128},    {"shortcut10", 32, 32, 128}, {"proj10", 32, 32, 128},
        {"avgpool26", 1, 1, 512},  {"conv27", 1, 1, 1000},
    };
    check_shapes(g, want, sizeof want / sizeof *want);
    mxu_graph_free(g);
}
