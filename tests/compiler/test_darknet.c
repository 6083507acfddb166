/* Darknet frontend: each cfg rule (darknet's shape and option semantics) and
 * each error path, on small cfg texts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mxu_compiler.h"
#include "mxu_error.h"

#define NET "[net]\nheight=8\nwidth=8\nchannels=3\n"

static mxu_graph *load_ok(const char *text)
{
    mxu_graph *g = NULL;
    int rc = mxu_darknet_load_buffer(text, strlen(text), "t.cfg", &g);
    cr_assert_eq(rc, MXU_OK, "load failed (%d): %s\n--- cfg:\n%s", rc, mxu_error_detail(), text);
    cr_assert_not_null(g);
    return g;
}

/* Loading fails with `code` and a detail containing `needle`. */
static void expect_error(const char *text, int code, const char *needle)
{
    mxu_graph *g = (mxu_graph *)1;
    int rc = mxu_darknet_load_buffer(text, strlen(text), "t.cfg", &g);
    cr_assert_eq(rc, code, "expected %d, got %d (%s)\n--- cfg:\n%s", code, rc, mxu_error_detail(),
                 text);
    cr_assert_null(g, "a failed load must not return a graph");
    cr_assert(strstr(mxu_error_detail(), needle), "detail '%s' lacks '%s'", mxu_error_detail(),
              needle);
}

static const mxu_node *node(const mxu_graph *g, const char *name)
{
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name))
            return &g->nodes[i];
    cr_assert_fail("no node %s", name);
    return NULL;
}

static const mxu_value *out_of(const mxu_graph *g, const char *name)
{
    return &g->values[node(g, name)->output];
}

static void expect_dims(const mxu_value *v, uint32_t ndims, uint32_t d1, uint32_t d2, uint32_t d3)
{
    cr_assert_eq(v->ndims, ndims, "%s: ndims %u", v->name, v->ndims);
    cr_assert_eq(v->dims[0], 1);
    cr_assert_eq(v->dims[1], d1, "%s: dim1 %u != %u", v->name, v->dims[1], d1);
    if (ndims == 4) {
        cr_assert_eq(v->dims[2], d2, "%s: dim2 %u != %u", v->name, v->dims[2], d2);
        cr_assert_eq(v->dims[3], d3, "%s: dim3 %u != %u", v->name, v->dims[3], d3);
    }
}

/* Shape inference must agree with the frontend's own dims. */
static void infer(mxu_graph *g)
{
    cr_assert_eq(mxu_graph_infer_shapes(g), MXU_OK, "%s", mxu_error_detail());
}

Test(darknet, conv_basics_names_lines_and_input)
{
    mxu_graph *g = load_ok("[net]\n"
                           "batch=64\n"
                           "height=10\n"
                           "width=12\n"
                           "channels=3\n"
                           "\n"
                           "[convolutional]\n" /* line 7 */
                           "filters=16\n"
                           "size=3\n"
                           "stride=1\n"
                           "pad=1\n"
                           "activation=leaky\n");
    cr_assert_str_eq(g->name, "t");
    cr_assert_str_eq(g->source, "t.cfg");
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_eq(g->n_outputs, 1);
    expect_dims(&g->values[g->inputs[0]], 4, 10, 12, 3);
    const mxu_node *c = node(g, "conv0");
    cr_assert_eq(c->op, MXU_NODE_CONV);
    cr_assert_eq(c->src_line, 7);
    cr_assert_eq(c->cout, 16);
    cr_assert_eq(c->kh, 3);
    cr_assert_eq(c->kw, 3);
    cr_assert_eq(c->stride_h, 1);
    cr_assert_eq(c->pad_top, 1);
    cr_assert_eq(c->pad_left, 1);
    cr_assert_eq(c->pad_bottom, 1);
    cr_assert_eq(c->pad_right, 1);
    cr_assert_eq(c->groups, 1);
    cr_assert_eq(c->act.kind, MXU_ACT_KIND_LEAKY);
    cr_assert_float_eq(c->act.alpha, 0.1f, 1e-7);
    cr_assert_null(c->weights, "no .weights: weights stay absent");
    cr_assert_eq(c->has_bn, 0);
    cr_assert_str_eq(g->values[c->output].name, "layer0_conv");
    cr_assert_eq(g->outputs[0], c->output);
    expect_dims(&g->values[c->output], 4, 10, 12, 16);
    cr_assert_eq(g->has_pre, 1);
    cr_assert_float_eq(g->pre.scale, 1.0f / 255.0f, 1e-9);
    cr_assert_eq(g->pre.bgr, 0);
    infer(g);
    mxu_graph_free(g);
}

Test(darknet, conv_padding_stride_groups_dilation)
{
    mxu_graph *g = load_ok(NET "[convolutional]\nfilters=6\nsize=5\nstride=2\npadding=1\n"
                               "activation=linear\n"
                               "[convolutional]\nfilters=4\nsize=2\npad=1\nactivation=relu\n"
                               "[convolutional]\nfilters=6\nsize=3\nstride_x=2\nstride_y=1\n"
                               "groups=2\npad=1\nbatch_normalize=1\nactivation=relu\n"
                               "[convolutional]\nfilters=6\nsize=3\npad=1\ndilation=2\n"
                               "activation=linear\n"
                               "[convolutional]\nfilters=2\nsize=1\npad=1\ndilation=3\n");
    /* (8 + 2*1 - 5) / 2 + 1 = 3 */
    const mxu_node *c0 = node(g, "conv0");
    cr_assert_eq(c0->pad_top, 1);
    cr_assert_eq(c0->pad_bottom, 1);
    cr_assert_eq(c0->act.kind, MXU_ACT_KIND_NONE);
    expect_dims(out_of(g, "conv0"), 4, 3, 3, 6);
    /* pad=1 with an even size: padding = size/2 = 1 on each side, (3+2-2)/1+1 = 4 */
    const mxu_node *c1 = node(g, "conv1");
    cr_assert_eq(c1->pad_top, 1);
    cr_assert_eq(c1->pad_right, 1);
    expect_dims(out_of(g, "conv1"), 4, 4, 4, 4);
    const mxu_node *c2 = node(g, "conv2");
    cr_assert_eq(c2->stride_w, 2);
    cr_assert_eq(c2->stride_h, 1);
    cr_assert_eq(c2->groups, 2);
    cr_assert_eq(c2->has_bn, 1);
    expect_dims(out_of(g, "conv2"), 4, 4, 2, 6);
    /* dilation 2, 'same' padding: pads of padding*dilation = 2 */
    const mxu_node *c3 = node(g, "conv3");
    cr_assert_eq(c3->dil_h, 2);
    cr_assert_eq(c3->dil_w, 2);
    cr_assert_eq(c3->pad_top, 2);
    expect_dims(out_of(g, "conv3"), 4, 4, 2, 6);
    /* size 1: darknet ignores the dilation; default activation is logistic */
    const mxu_node *c4 = node(g, "conv4");
    cr_assert_eq(c4->dil_h, 1);
    cr_assert_eq(c4->pad_top, 0);
    cr_assert_eq(c4->act.kind, MXU_ACT_KIND_SIGMOID);
    infer(g);
    mxu_graph_free(g);
}

Test(darknet, conv_window_hanging_over_the_end)
{
    /* darknet: (2 + 0 - 3) / 2 + 1 = 1 with C's truncating division */
    mxu_graph *g = load_ok("[net]\nheight=2\nwidth=2\nchannels=1\n"
                           "[convolutional]\nfilters=1\nsize=3\nstride=2\n");
    const mxu_node *c = node(g, "conv0");
    cr_assert_eq(c->pad_top, 0);
    cr_assert_eq(c->pad_bottom, 1);
    expect_dims(out_of(g, "conv0"), 4, 1, 1, 1);
    infer(g);
    mxu_graph_free(g);
    expect_error("[net]\nheight=2\nwidth=2\nchannels=1\n[convolutional]\nsize=4\nstride=2\n",
                 MXU_ERR_FORMAT, "t.cfg:5: [convolutional]: window of 4 does not fit");
}

Test(darknet, maxpool_darknet_padding)
{
    mxu_graph *g = load_ok("[net]\nheight=7\nwidth=7\nchannels=2\n"
                           "[maxpool]\nsize=2\nstride=2\n"           /* padding 1: 0 + 1 */
                           "[maxpool]\nsize=3\nstride=2\npadding=0\n"
                           "[maxpool]\nsize=2\nstride=1\n"           /* yolov3-tiny's */
                           "[maxpool]\nsize=3\nstride=1\npadding=3\n"
                           "[max]\nstride=1\n");                     /* size = stride */
    const mxu_node *m0 = node(g, "maxpool0");
    cr_assert_eq(m0->op, MXU_NODE_MAXPOOL);
    cr_assert_eq(m0->kh, 2);
    cr_assert_eq(m0->pad_top, 0);
    cr_assert_eq(m0->pad_left, 0);
    cr_assert_eq(m0->pad_bottom, 1);
    cr_assert_eq(m0->pad_right, 1);
    expect_dims(out_of(g, "maxpool0"), 4, 4, 4, 2); /* (7 + 1 - 2) / 2 + 1 */
    const mxu_node *m1 = node(g, "maxpool1");
    cr_assert_eq(m1->pad_bottom, 0);
    expect_dims(out_of(g, "maxpool1"), 4, 1, 1, 2); /* (4 - 3) / 2 + 1 */
    expect_dims(out_of(g, "maxpool2"), 4, 1, 1, 2); /* (1 + 1 - 2) / 1 + 1 */
    const mxu_node *m3 = node(g, "maxpool3");       /* offset -3/2 = -1: pads 1 and 2 */
    cr_assert_eq(m3->pad_top, 1);
    cr_assert_eq(m3->pad_bottom, 2);
    expect_dims(out_of(g, "maxpool3"), 4, 2, 2, 2); /* (1 + 3 - 3) / 1 + 1 */
    const mxu_node *m4 = node(g, "maxpool4");
    cr_assert_eq(m4->kh, 1);
    cr_assert_eq(m4->pad_bottom, 0);
    infer(g);
    mxu_graph_free(g);
    expect_error("[net]\nheight=4\nwidth=4\nchannels=1\n[maxpool]\nsize=2\nstride=1\npadding=6\n",
                 MXU_ERR_UNSUPPORTED, "t.cfg:8: [maxpool]: padding=6 leaves windows");
}

Test(darknet, connected_flattens_chw)
{
    mxu_graph *g = load_ok(NET "[convolutional]\nfilters=4\nsize=3\nstride=2\n"
                               "[connected]\noutput=10\nactivation=relu\nbatch_normalize=1\n"
                               "[dropout]\nprobability=.5\n"
                               "[conn]\noutput=5\n"
                               "[softmax]\n[cost]\n");
    const mxu_node *fc = node(g, "fc1");
    cr_assert_eq(fc->op, MXU_NODE_FC);
    cr_assert_eq(fc->cout, 10);
    cr_assert_eq(fc->flatten_chw, 1, "darknet's memory is CHW");
    cr_assert_eq(fc->has_bn, 1);
    cr_assert_eq(fc->act.kind, MXU_ACT_KIND_RELU);
    cr_assert_eq(g->values[fc->inputs[0]].ndims, 4, "the FC reads the conv's output itself");
    expect_dims(out_of(g, "fc1"), 2, 10, 0, 0);
    cr_assert_eq(node(g, "dropout2")->op, MXU_NODE_IDENTITY);
    const mxu_node *fc3 = node(g, "fc3");
    cr_assert_eq(fc3->flatten_chw, 0);
    cr_assert_eq(fc3->act.kind, MXU_ACT_KIND_SIGMOID, "connected defaults to logistic");
    cr_assert_eq(node(g, "softmax4")->op, MXU_NODE_SOFTMAX);
    expect_dims(out_of(g, "softmax4"), 2, 5, 0, 0);
    cr_assert_eq(node(g, "cost5")->op, MXU_NODE_IDENTITY);
    cr_assert_eq(g->outputs[0], node(g, "cost5")->output);
    infer(g);
    mxu_graph_free(g);
}

Test(darknet, softmax_over_an_image_flattens_first)
{
    expect_error(NET "[convolutional]\nfilters=1\nsize=1\n[softmax]\n[avgpool]\n",
                 MXU_ERR_UNSUPPORTED, "t.cfg:9: [avgpool]: needs an image input, but layer 1 "
                                      "([softmax], line 8) outputs a flat vector");
    mxu_graph *g = load_ok(NET "[convolutional]\nfilters=2\nsize=1\n[soft]\n");
    cr_assert_eq(node(g, "flatten1")->op, MXU_NODE_FLATTEN);
    expect_dims(out_of(g, "flatten1"), 2, 128, 0, 0);
    cr_assert_eq(node(g, "softmax1")->inputs[0], node(g, "flatten1")->output);
    cr_assert_str_eq(g->values[g->outputs[0]].name, "layer1_softmax");
    infer(g);
    mxu_graph_free(g);
    g = load_ok(NET "[avg]\n[softmax]\ngroups=1\n");
    cr_assert_eq(node(g, "avgpool0")->op, MXU_NODE_GLOBAL_AVGPOOL);
    expect_dims(out_of(g, "avgpool0"), 4, 1, 1, 3);
    expect_dims(out_of(g, "softmax1"), 4, 1, 1, 3);
    infer(g);
    mxu_graph_free(g);
}

/* A connected layer after a softmax over an image would read it in darknet's
 * C,H,W order; the flattened softmax is in H,W,C order (the same for 1 channel). */
Test(darknet, connected_after_image_softmax)
{
    expect_error(NET "[convolutional]\nfilters=2\nsize=1\n[softmax]\n[dropout]\n[connected]\n",
                 MXU_ERR_UNSUPPORTED, "t.cfg:10: [connected]: reads layer 2 ([dropout], line 9), "
                                      "a softmax over an image flattened in H,W,C order");
    expect_error(NET "[convolutional]\nfilters=2\nsize=1\n[softmax]\n[route]\nlayers=-1\n"
                     "[connected]\n",
                 MXU_ERR_UNSUPPORTED, "H,W,C order");
    mxu_graph *g = load_ok(NET "[convolutional]\nfilters=1\nsize=1\n[softmax]\n[connected]\n");
    infer(g);
    mxu_graph_free(g);
}

Test(darknet, softmax_options_not_supported)
{
    expect_error(NET "[softmax]\ntemperature=3\n", MXU_ERR_UNSUPPORTED,
                 "t.cfg:6: [softmax]: temperature=3 not supported");
    expect_error(NET "[softmax]\ngroups=3\n", MXU_ERR_UNSUPPORTED, "t.cfg:6: [softmax]: groups=3");
    expect_error(NET "[softmax]\ntree=x.tree\n", MXU_ERR_UNSUPPORTED, "t.cfg:6: [softmax]: "
                                                                      "hierarchical");
    expect_error(NET "[softmax]\nspatial=1\n", MXU_ERR_UNSUPPORTED, "spatial");
}

Test(darknet, shortcut_adds_the_same_shape)
{
    mxu_graph *g = load_ok(NET "[convolutional]\nfilters=4\nsize=3\npad=1\n"
                               "[convolutional]\nfilters=4\nsize=3\npad=1\n"
                               "[shortcut]\nfrom=-2\nactivation=leaky\n"
                               "[shortcut]\nfrom=1\n");
    const mxu_node *s = node(g, "shortcut2");
    cr_assert_eq(s->op, MXU_NODE_ADD);
    cr_assert_eq(s->n_inputs, 2);
    cr_assert_eq(s->inputs[0], node(g, "conv1")->output, "the previous layer");
    cr_assert_eq(s->inputs[1], node(g, "conv0")->output, "from=-2");
    cr_assert_eq(s->act.kind, MXU_ACT_KIND_LEAKY);
    const mxu_node *s3 = node(g, "shortcut3");
    cr_assert_eq(s3->inputs[1], node(g, "conv1")->output, "from=1 is absolute");
    cr_assert_eq(s3->act.kind, MXU_ACT_KIND_NONE, "shortcut defaults to linear");
    infer(g);
    mxu_graph_free(g);
}

/* resnet's shortcut from a smaller, wider-spaced layer: darknet adds from[k][2j][2i]
 * into the first channels; the frontend makes it a 1x1 stride-2 identity conv. */
Test(darknet, shortcut_between_shapes_projects)
{
    mxu_graph *g = load_ok(NET "[convolutional]\nfilters=2\nsize=1\n"
                               "[convolutional]\nfilters=5\nsize=3\nstride=2\npad=1\n"
                               "[shortcut]\nfrom=-2\n");
    const mxu_node *p = node(g, "proj2");
    cr_assert_eq(p->op, MXU_NODE_CONV);
    cr_assert_eq(p->inputs[0], node(g, "conv0")->output);
    cr_assert_eq(p->kh, 1);
    cr_assert_eq(p->stride_h, 2);
    cr_assert_eq(p->stride_w, 2);
    cr_assert_eq(p->cout, 5);
    cr_assert_not_null(p->weights);
    cr_assert_not_null(p->bias);
    for (uint32_t o = 0; o < 5; o++) {
        cr_assert_float_eq(p->bias[o], 0.0f, 0);
        for (uint32_t i = 0; i < 2; i++)
            cr_assert_float_eq(p->weights[o * 2 + i], o == i ? 1.0f : 0.0f, 0, "w[%u][%u]", o, i);
    }
    const mxu_node *s = node(g, "shortcut2");
    cr_assert_eq(s->inputs[0], node(g, "conv1")->output);
    cr_assert_eq(s->inputs[1], p->output);
    expect_dims(out_of(g, "shortcut2"), 4, 4, 4, 5);
    infer(g);
    mxu_graph_free(g);
}

Test(darknet, shortcut_errors)
{
    expect_error(NET "[convolutional]\nsize=1\n[shortcut]\nfrom=-1\nalpha=0.5\n",
                 MXU_ERR_UNSUPPORTED, "t.cfg:9: [shortcut]: alpha=0.5 not supported");
    expect_error(NET "[convolutional]\nsize=1\n[shortcut]\n", MXU_ERR_FORMAT,
                 "t.cfg:7: [shortcut]: 'from=' missing");
    expect_error(NET "[convolutional]\nsize=1\n[shortcut]\nfrom=-5\n", MXU_ERR_FORMAT,
                 "t.cfg:8: [shortcut]: from=-5: -5 is layer -4, but only layers 0..0 come before");
    expect_error(NET "[convolutional]\nsize=1\n[shortcut]\nfrom=1\n", MXU_ERR_FORMAT,
                 "from=1: 1 is layer 1");
    expect_error(NET "[convolutional]\nsize=1\n[shortcut]\nfrom=-1,-1\n", MXU_ERR_UNSUPPORTED,
                 "shortcut of 2 layers");
    /* the output twice as large as `from`: darknet spreads `from` out with gaps */
    expect_error(NET "[convolutional]\nsize=1\nstride=2\n[upsample]\n[shortcut]\nfrom=-2\n",
                 MXU_ERR_UNSUPPORTED, "t.cfg:10: [shortcut]: shortcut of 4x4x1 onto 8x8x1 (sample 2");
    expect_error(NET "[convolutional]\nsize=1\n[convolutional]\nsize=1\nstride_x=2\n"
                     "[shortcut]\nfrom=-2\n",
                 MXU_ERR_FORMAT, "darknet asserts");
}

Test(darknet, shortcut_from_a_smaller_layer_pads)
{
    mxu_graph *g = load_ok("[net]\nheight=6\nwidth=6\nchannels=1\n"
                           "[convolutional]\nfilters=3\nsize=2\n"  /* 5x5x3 */
                           "[upsample]\nstride=1\n"                /* identity */
                           "[convolutional]\nfilters=2\nsize=3\npad=1\nstride=1\n" /* 5x5x2 */
                           "[convolutional]\nfilters=4\nsize=2\npad=1\n"   /* 6x6x4 */
                           "[shortcut]\nfrom=-2\n");
    cr_assert_eq(node(g, "upsample1")->op, MXU_NODE_IDENTITY);
    const mxu_node *p = node(g, "proj4");
    cr_assert_eq(p->stride_h, 1);
    cr_assert_eq(p->pad_top, 0);
    cr_assert_eq(p->pad_bottom, 1);
    cr_assert_eq(p->pad_right, 1);
    expect_dims(out_of(g, "proj4"), 4, 6, 6, 4);
    infer(g);
    mxu_graph_free(g);
}

Test(darknet, route_identity_and_concat)
{
    mxu_graph *g = load_ok(NET "[convolutional]\nfilters=4\nsize=1\n"
                               "[convolutional]\nfilters=6\nsize=1\n"
                               "[route]\nlayers=-1,0\n"
                               "[route]\nlayers=-3\n"
                               "[route]\nlayers = 1, -4, 2\n");
    const mxu_node *r2 = node(g, "route2");
    cr_assert_eq(r2->op, MXU_NODE_CONCAT);
    cr_assert_eq(r2->n_inputs, 2);
    cr_assert_eq(r2->inputs[0], node(g, "conv1")->output);
    cr_assert_eq(r2->inputs[1], node(g, "conv0")->output);
    expect_dims(out_of(g, "route2"), 4, 8, 8, 10);
    const mxu_node *r3 = node(g, "route3");
    cr_assert_eq(r3->op, MXU_NODE_IDENTITY);
    cr_assert_eq(r3->inputs[0], node(g, "conv0")->output);
    expect_dims(out_of(g, "route3"), 4, 8, 8, 4);
    const mxu_node *r4 = node(g, "route4");
    cr_assert_eq(r4->n_inputs, 3);
    cr_assert_eq(r4->inputs[2], r2->output);
    expect_dims(out_of(g, "route4"), 4, 8, 8, 20);
    infer(g);
    mxu_graph_free(g);
}

Test(darknet, route_errors)
{
    expect_error(NET "[convolutional]\nsize=1\n[route]\nlayers=0,1\n", MXU_ERR_FORMAT,
                 "t.cfg:8: [route]: layers=0,1: 1 is layer 1, but only layers 0..0 come before "
                 "layer 1");
    expect_error(NET "[convolutional]\nsize=1\n[route]\nlayers=-1,,0\n", MXU_ERR_FORMAT,
                 "not a list of layer numbers");
    expect_error(NET "[convolutional]\nsize=1\n[route]\nlayers=-1x\n", MXU_ERR_FORMAT,
                 "not a list");
    expect_error(NET "[convolutional]\nsize=1\n[route]\nlayers=\n", MXU_ERR_FORMAT,
                 "t.cfg:8: [route]: 'layers' has no value");
    expect_error(NET "[convolutional]\nsize=1\n[route]\n", MXU_ERR_FORMAT, "'layers=' missing");
    expect_error(NET "[convolutional]\nsize=1\n[route]\nlayers=-1\ngroups=2\ngroup_id=1\n",
                 MXU_ERR_UNSUPPORTED, "t.cfg:9: [route]: groups=2");
    expect_error(NET "[convolutional]\nsize=1\n[maxpool]\nsize=2\nstride=2\n[route]\n"
                     "layers=-1,-2\n",
                 MXU_ERR_FORMAT, "layers 1 (4x4x1) and 0 (8x8x1) differ in width/height");
    expect_error(NET "[convolutional]\nsize=1\n[route]\nlayers=0,0,0,0,0,0,0,0,0\n",
                 MXU_ERR_UNSUPPORTED, "more than 8 layers");
}

Test(darknet, upsample)
{
    mxu_graph *g = load_ok(NET "[upsample]\nstride=3\n[upsample]\n");
    const mxu_node *u = node(g, "upsample0");
    cr_assert_eq(u->op, MXU_NODE_UPSAMPLE);
    cr_assert_eq(u->scale, 3);
    expect_dims(out_of(g, "upsample0"), 4, 24, 24, 3);
    cr_assert_eq(node(g, "upsample1")->scale, 2, "stride defaults to 2");
    expect_dims(out_of(g, "upsample1"), 4, 48, 48, 3);
    infer(g);
    mxu_graph_free(g);
    expect_error(NET "[upsample]\nstride=-2\n", MXU_ERR_UNSUPPORTED, "t.cfg:6: [upsample]: "
                                                                      "stride=-2");
    expect_error(NET "[upsample]\nstride=0\n", MXU_ERR_FORMAT, "stride=0");
    expect_error(NET "[upsample]\nscale=0.5\n", MXU_ERR_UNSUPPORTED, "scale=0.5");
}

Test(darknet, activations)
{
    static const struct {
        const char *name;
        enum mxu_act_kind kind;
        float alpha, lo, hi;
    } cases[] = {
        {"linear", MXU_ACT_KIND_NONE, 0, 0, 0},   {"relu", MXU_ACT_KIND_RELU, 0, 0, 0},
        {"leaky", MXU_ACT_KIND_LEAKY, 0.1f, 0, 0}, {"logistic", MXU_ACT_KIND_SIGMOID, 0, 0, 0},
        {"tanh", MXU_ACT_KIND_TANH, 0, 0, 0},     {"elu", MXU_ACT_KIND_ELU, 1, 0, 0},
        {"swish", MXU_ACT_KIND_SWISH, 0, 0, 0},   {"mish", MXU_ACT_KIND_MISH, 0, 0, 0},
        {"relu6", MXU_ACT_KIND_CLIP, 0, 0, 6},    {"hardtan", MXU_ACT_KIND_CLIP, 0, -1, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[256];
        snprintf(text, sizeof text, NET "[convolutional]\nsize=1\nactivation=%s\n", cases[i].name);
        mxu_graph *g = load_ok(text);
        const mxu_node *c = node(g, "conv0");
        cr_assert_eq(c->act.kind, cases[i].kind, "%s", cases[i].name);
        cr_assert_float_eq(c->act.alpha, cases[i].alpha, 1e-7, "%s", cases[i].name);
        cr_assert_float_eq(c->act.lo, cases[i].lo, 0, "%s", cases[i].name);
        cr_assert_float_eq(c->act.hi, cases[i].hi, 0, "%s", cases[i].name);
        mxu_graph_free(g);
    }
    expect_error(NET "[convolutional]\nsize=1\n\nactivation=ramp\n", MXU_ERR_UNSUPPORTED,
                 "t.cfg:8: [convolutional]: activation 'ramp' not supported");
    expect_error(NET "[convolutional]\nactivation=Leaky\n", MXU_ERR_UNSUPPORTED,
                 "activation 'Leaky' not supported");
    expect_error(NET "[conv]\nactivation=\n", MXU_ERR_FORMAT, "'activation' has no value");
}

Test(darknet, standalone_layers_and_aliases)
{
    mxu_graph *g = load_ok(NET "[batchnorm]\n[activation]\nactivation=tanh\n[activation]\n"
                               "[logistic]\n[empty]\n[conv]\nsize=1\n[max]\n[avg]\n[conn]\n"
                               "output=2\n[soft]\n");
    cr_assert_eq(node(g, "bn0")->op, MXU_NODE_BATCHNORM);
    cr_assert_eq(node(g, "bn0")->has_bn, 1);
    cr_assert_eq(node(g, "act1")->op, MXU_NODE_ACT);
    cr_assert_eq(node(g, "act1")->act.kind, MXU_ACT_KIND_TANH);
    cr_assert_eq(node(g, "act2")->op, MXU_NODE_IDENTITY, "linear activation layer");
    cr_assert_eq(node(g, "logistic3")->act.kind, MXU_ACT_KIND_SIGMOID);
    cr_assert_eq(node(g, "empty4")->op, MXU_NODE_IDENTITY);
    cr_assert_eq(node(g, "conv5")->op, MXU_NODE_CONV);
    cr_assert_eq(node(g, "maxpool6")->op, MXU_NODE_MAXPOOL);
    cr_assert_eq(node(g, "avgpool7")->op, MXU_NODE_GLOBAL_AVGPOOL);
    cr_assert_eq(node(g, "fc8")->op, MXU_NODE_FC);
    cr_assert_eq(node(g, "softmax9")->op, MXU_NODE_SOFTMAX);
    infer(g);
    mxu_graph_free(g);
}

Test(darknet, unsupported_layer_types_name_the_line)
{
    static const char *types[] = {"local", "crop", "detection", "region", "yolo", "reorg",
                                  "rnn", "gru", "lstm", "crnn", "deconvolutional", "lrn",
                                  "l2norm", "iseg"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        char text[256], want[128];
        snprintf(text, sizeof text, NET "[convolutional]\nsize=1\n\n# x\n[%s]\nfilters=2\n",
                 types[i]);
        snprintf(want, sizeof want, "t.cfg:9: [%s]: layer type not supported", types[i]);
        expect_error(text, MXU_ERR_UNSUPPORTED, want);
    }
    expect_error(NET "[frobnicate]\n", MXU_ERR_FORMAT, "t.cfg:5: [frobnicate]: unknown layer type");
}

Test(darknet, unsupported_options)
{
    expect_error(NET "[convolutional]\nsize=1\nbinary=1\n", MXU_ERR_UNSUPPORTED,
                 "t.cfg:7: [convolutional]: binary=1 not supported");
    expect_error(NET "[convolutional]\nsize=1\nxnor=1\n", MXU_ERR_UNSUPPORTED, "xnor=1");
    expect_error(NET "[convolutional]\nsize=3\ndilation=2\n", MXU_ERR_UNSUPPORTED,
                 "dilation=2 needs 'same' padding");
    expect_error(NET "[convolutional]\nsize=3\npad=1\ndilation=1048576\n", MXU_ERR_UNSUPPORTED,
                 "t.cfg:8: [convolutional]: dilated kernel 2097153 or padding 1048576 is too large");
    expect_error(NET "[convolutional]\nsize=1\nshare_index=0\n", MXU_ERR_UNSUPPORTED,
                 "share_index");
    expect_error(NET "[maxpool]\nmaxpool_depth=1\n", MXU_ERR_UNSUPPORTED, "maxpool_depth=1");
    expect_error(NET "[convolutional]\nsize=1\ngroups=3\nfilters=3\nflipped=1\n",
                 MXU_ERR_UNSUPPORTED, "flipped=1 with groups=3");
}

Test(darknet, malformed_text)
{
    expect_error("filters=1\n[net]\n", MXU_ERR_FORMAT, "t.cfg:1: option 'filters=1' before the first");
    expect_error(NET "[convolutional]\nsize\n", MXU_ERR_FORMAT, "t.cfg:6: expected key=value, got 'size'");
    expect_error(NET "[convolutional]\n=3\n", MXU_ERR_FORMAT, "t.cfg:6: option without a key");
    expect_error(NET "[convolutional\n", MXU_ERR_FORMAT, "t.cfg:5: malformed section header");
    expect_error(NET "[]\n", MXU_ERR_FORMAT, "t.cfg:5: malformed section header");
    expect_error(NET "[con]v]\n", MXU_ERR_FORMAT, "malformed section header");
    expect_error("", MXU_ERR_FORMAT, "t.cfg: no sections");
    expect_error("# only a comment\n", MXU_ERR_FORMAT, "no sections");
    expect_error("[convolutional]\n", MXU_ERR_FORMAT, "t.cfg:1: first section is [convolutional]");
    expect_error(NET, MXU_ERR_FORMAT, "t.cfg: no layers after [net]");
    expect_error(NET "[net]\n", MXU_ERR_FORMAT, "t.cfg:5: [net]: [net] must be the first section");

    const char nul[] = "[net]\nheight=1\0\n";
    mxu_graph *g = (mxu_graph *)1;
    cr_assert_eq(mxu_darknet_load_buffer(nul, sizeof nul - 1, "t.cfg", &g), MXU_ERR_FORMAT);
    cr_assert_null(g);
    cr_assert(strstr(mxu_error_detail(), "t.cfg:2: NUL byte"), "%s", mxu_error_detail());
}

Test(darknet, option_values)
{
    expect_error(NET "[convolutional]\nfilters=abc\n", MXU_ERR_FORMAT,
                 "t.cfg:6: [convolutional]: 'filters=abc' is not an integer");
    expect_error(NET "[convolutional]\nfilters=1.5\n", MXU_ERR_FORMAT, "is not an integer");
    expect_error(NET "[convolutional]\nfilters=0\n", MXU_ERR_FORMAT,
                 "'filters=0' out of range (1..1048576)");
    expect_error(NET "[convolutional]\nsize=-3\n", MXU_ERR_FORMAT, "'size=-3' out of range");
    expect_error(NET "[convolutional]\nfilters=99999999999999999999\n", MXU_ERR_FORMAT,
                 "out of range");
    expect_error(NET "[convolutional]\npad=2\n", MXU_ERR_FORMAT, "'pad=2' out of range (0..1)");
    expect_error(NET "[convolutional]\nbatch_normalize=\n", MXU_ERR_FORMAT, "has no value");
    expect_error(NET "[dropout]\nprobability=x\n", MXU_ERR_FORMAT, "'probability=x' is not a number");
    expect_error(NET "[dropout]\nprobability=1.5\n", MXU_ERR_FORMAT, "probability=1.5 outside 0..1");
    expect_error(NET "[softmax]\ntemperature=nan\n", MXU_ERR_FORMAT, "is not a number");
    expect_error(NET "[convolutional]\nfilters=4\ngroups=3\n", MXU_ERR_FORMAT,
                 "t.cfg:7: [convolutional]: groups=3 must divide the input channels (3) and "
                 "filters (4)");
    /* an unused key is ignored, whatever its value */
    mxu_graph *g = load_ok(NET "[convolutional]\nsize=1\nfoo=bar\nhue=\n");
    mxu_graph_free(g);
}

Test(darknet, net_section)
{
    expect_error("[net]\nheight=8\nwidth=8\n[convolutional]\n", MXU_ERR_FORMAT,
                 "t.cfg:1: [net]: height, width and channels must all be given");
    expect_error("[net]\nbatch=1\n[convolutional]\n", MXU_ERR_FORMAT, "no input size");
    expect_error(NET "inputs=7\n[convolutional]\n", MXU_ERR_FORMAT,
                 "t.cfg:5: [net]: inputs=7 but height*width*channels = 192");
    expect_error("[net]\nheight=100000\nwidth=100000\nchannels=3\n[convolutional]\n",
                 MXU_ERR_UNSUPPORTED, "too large");
    /* a flat network: inputs= only */
    mxu_graph *g = load_ok("[network]\ninputs=20\n[connected]\noutput=4\n[softmax]\n");
    expect_dims(&g->values[g->inputs[0]], 2, 20, 0, 0);
    cr_assert_eq(node(g, "fc0")->flatten_chw, 0);
    infer(g);
    mxu_graph_free(g);
    expect_error("[net]\ninputs=20\n[convolutional]\n", MXU_ERR_FORMAT,
                 "t.cfg:3: [convolutional]: needs an image input, but [net] gives inputs=20");
    expect_error(NET "[connected]\noutput=4\n[convolutional]\n", MXU_ERR_UNSUPPORTED,
                 "t.cfg:7: [convolutional]: needs an image input, but layer 0 ([connected], line "
                 "5) outputs a flat vector");
}

Test(darknet, text_conventions)
{
    /* blanks anywhere, CRLF, comments, the first of a duplicated key wins */
    const char *text = "[net]\r\n h eight = 4\r\nwidth=4\r\nchannels=1\r\n"
                       "; comment\r\n# another\r\n\r\n"
                       "[convolutional]\r\nfilters = 3\r\nfilters=5\r\nsize=1\r\n"
                       "\tactivation = relu\t\r\n";
    mxu_graph *g = load_ok(text);
    const mxu_node *c = node(g, "conv0");
    cr_assert_eq(c->cout, 3);
    cr_assert_eq(c->act.kind, MXU_ACT_KIND_RELU);
    cr_assert_eq(c->src_line, 8);
    expect_dims(out_of(g, "conv0"), 4, 4, 4, 3);
    mxu_graph_free(g);
    /* no final newline */
    g = load_ok("[net]\nheight=2\nwidth=2\nchannels=1\n[maxpool]\nstride=2\nsize=2");
    expect_dims(out_of(g, "maxpool0"), 4, 1, 1, 1);
    mxu_graph_free(g);
}

Test(darknet, api_arguments_and_files)
{
    mxu_graph *g = (mxu_graph *)1;
    cr_assert_eq(mxu_darknet_load_buffer(NET, strlen(NET), "t.cfg", NULL), MXU_ERR_INVAL);
    cr_assert_eq(mxu_darknet_load_buffer(NULL, 4, "t.cfg", &g), MXU_ERR_INVAL);
    cr_assert_null(g);
    cr_assert_eq(mxu_darknet_load(NULL, NULL, &g), MXU_ERR_INVAL);
    cr_assert_eq(mxu_darknet_load("/nonexistent/x.cfg", NULL, &g), MXU_ERR_NOT_FOUND);
    cr_assert(strstr(mxu_error_detail(), "/nonexistent/x.cfg"), "%s", mxu_error_detail());
    cr_assert_null(g);
    /* a name-less buffer still gets messages */
    const char *bad = "[net]\n[conv]\n";
    cr_assert_eq(mxu_darknet_load_buffer(bad, strlen(bad), NULL, &g), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "<cfg>:1: [net]"), "%s", mxu_error_detail());
}
