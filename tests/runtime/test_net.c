/* The runtime tests' small network (see test_net.h). */
#include "test_net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "mxu_builder.h"
#include "mxu_error.h"
#include "mxu_lower.h"
#include "mxu_numerics.h"

struct net {
    mxu_builder *b;
    mxu_program *p; /* the builder's program (its arrays move as they grow) */
    uint64_t seed;
};

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int tensor4(struct net *n, const char *name, uint32_t role, uint32_t h, uint32_t w,
                   uint32_t c, float scale, int32_t zp, uint32_t *index)
{
    uint32_t dims[4] = {1, h, w, c};
    return mxu_builder_add_tensor(n->b, name, role, 4, dims, scale, zp, index);
}

static int tensor2(struct net *n, const char *name, uint32_t role, uint32_t c, float scale,
                   int32_t zp, uint32_t *index)
{
    uint32_t dims[2] = {1, c};
    return mxu_builder_add_tensor(n->b, name, role, 2, dims, scale, zp, index);
}

/* Random weights and bias, per-channel multipliers that keep outputs spread. */
static int add_conv_arrays(struct net *n, mxu_layer *l, uint64_t fan_in)
{
    uint64_t wn = l->cout * fan_in;
    int8_t *w = malloc(wn);
    int32_t *arr = malloc(3 * (size_t)l->cout * sizeof *arr);
    int rc = w && arr ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "test net");
    for (uint64_t i = 0; rc == MXU_OK && i < wn; i++)
        w[i] = (int8_t)((int)(next(&n->seed) % 255) - 127);
    for (uint32_t c = 0; rc == MXU_OK && c < l->cout; c++) {
        arr[c] = (int32_t)(next(&n->seed) % 4001) - 2000;
        double m = 0.0074 / sqrt((double)fan_in) * (0.5 + (double)(next(&n->seed) % 1000) / 1000.0);
        rc = mxu_quantize_multiplier(m, &arr[l->cout + c], &arr[2 * l->cout + c]);
    }
    if (rc == MXU_OK)
        rc = mxu_program_add_blob(n->p, w, (uint32_t)wn, &l->weights);
    if (rc == MXU_OK)
        rc = mxu_program_add_blob(n->p, arr, l->cout * 4, &l->bias);
    if (rc == MXU_OK)
        rc = mxu_program_add_blob(n->p, arr + l->cout, l->cout * 4, &l->multiplier);
    if (rc == MXU_OK)
        rc = mxu_program_add_blob(n->p, arr + 2 * (size_t)l->cout, l->cout * 4, &l->shift);
    free(w);
    free(arr);
    return rc;
}

/* Record the layer; lower and close it into a code range if it is a device layer. */
static int add_layer(struct net *n, const mxu_layer *l, int device)
{
    int rc = mxu_program_add_layer(n->p, l);
    uint32_t index = n->p->n_layers - 1, first, count;
    if (rc == MXU_OK && device) {
        rc = mxu_lower_layer(n->b, index);
        if (rc == MXU_OK)
            rc = mxu_builder_end_segment(n->b, &first, &count);
        if (rc == MXU_OK) {
            n->p->layers[index].code_first = first;
            n->p->layers[index].code_count = count;
        }
    }
    return rc;
}

static int conv(struct net *n, const char *name, uint32_t in, uint32_t out, uint32_t k, uint32_t pad,
                int relu)
{
    const mxu_tensor *ti = &n->p->tensors[in], *to = &n->p->tensors[out];
    mxu_layer l;
    mxu_layer_init(&l, name, MXU_LAYER_CONV2D);
    l.input = in, l.output = out, l.cout = to->dims[3];
    l.kh = l.kw = k;
    l.pad_top = l.pad_left = l.pad_bottom = l.pad_right = pad;
    if (relu)
        l.act_min = to->zero_point;
    int rc = add_conv_arrays(n, &l, (uint64_t)k * k * ti->dims[3]);
    return rc ? rc : add_layer(n, &l, 1);
}

static int device_layers(struct net *n, uint32_t h, uint32_t w, uint32_t *t)
{
    /* t: x c1 p1 c2 cat up c3 a f g prob */
    int rc = tensor4(n, "x", MXU_ROLE_INPUT, h, w, 3, 0.05f, -5, &t[0]);
    if (!rc)
        rc = tensor4(n, "c1", MXU_ROLE_ACTIVATION, h, w, 8, 0.1f, -3, &t[1]);
    if (!rc)
        rc = tensor4(n, "p1", MXU_ROLE_ACTIVATION, h / 2, w / 2, 8, 0.1f, -3, &t[2]);
    if (!rc)
        rc = tensor4(n, "c2", MXU_ROLE_ACTIVATION, h / 2, w / 2, 6, 0.1f, -3, &t[3]);
    if (!rc)
        rc = tensor4(n, "cat", MXU_ROLE_ACTIVATION, h / 2, w / 2, 14, 0.1f, -3, &t[4]);
    if (!rc)
        rc = tensor4(n, "up", MXU_ROLE_OUTPUT, h, w, 14, 0.1f, -3, &t[5]);
    if (!rc)
        rc = tensor4(n, "c3", MXU_ROLE_ACTIVATION, h, w, 8, 0.08f, 1, &t[6]);
    if (!rc)
        rc = tensor4(n, "a", MXU_ROLE_ACTIVATION, h, w, 8, 0.15f, 0, &t[7]);
    if (!rc)
        rc = tensor2(n, "f", MXU_ROLE_ACTIVATION, TEST_NET_CLASSES, 0.2f, 2, &t[8]);
    if (!rc)
        rc = tensor2(n, "g", MXU_ROLE_ACTIVATION, TEST_NET_CLASSES, 0.1f, 0, &t[9]);
    if (!rc)
        rc = tensor2(n, "prob", MXU_ROLE_OUTPUT, TEST_NET_CLASSES, MXU_SOFTMAX_OUT_SCALE,
                     MXU_SOFTMAX_OUT_ZP, &t[10]);
    return rc;
}

static int build_layers(struct net *n, const uint32_t *t)
{
    mxu_layer l;
    int rc = conv(n, "conv1", t[0], t[1], 3, 1, 1);
    if (!rc) {
        mxu_layer_init(&l, "pool1", MXU_LAYER_MAXPOOL);
        l.input = t[1], l.output = t[2], l.kh = l.kw = 2, l.stride_h = l.stride_w = 2;
        rc = add_layer(n, &l, 1);
    }
    if (!rc)
        rc = conv(n, "conv2", t[2], t[3], 1, 0, 0);
    if (!rc) {
        mxu_layer_init(&l, "cat", MXU_LAYER_CONCAT);
        l.input = t[2], l.input2 = t[3], l.output = t[4];
        rc = add_layer(n, &l, 0);
    }
    if (!rc) {
        mxu_layer_init(&l, "up", MXU_LAYER_UPSAMPLE);
        l.input = t[4], l.output = t[5], l.stride_h = l.stride_w = 2;
        rc = add_layer(n, &l, 0);
    }
    if (!rc)
        rc = conv(n, "conv3", t[5], t[6], 1, 0, 0);
    if (!rc) {
        const mxu_tensor *a = &n->p->tensors[t[1]], *b = &n->p->tensors[t[6]], *o = &n->p->tensors[t[7]];
        struct mxu_add_params ap;
        int32_t v[MXU_ADD_PARAMS_COUNT];
        mxu_layer_init(&l, "add", MXU_LAYER_ADD);
        l.input = t[1], l.input2 = t[6], l.output = t[7];
        rc = mxu_add_params_from_scales(a->scale, a->zero_point, b->scale, b->zero_point, o->scale,
                                        o->zero_point, -128, 127, &ap);
        mxu_add_params_pack(&ap, v);
        if (!rc)
            rc = mxu_program_add_blob(n->p, v, sizeof v, &l.add_params);
        if (!rc)
            rc = add_layer(n, &l, 0);
    }
    if (!rc) {
        mxu_layer_init(&l, "fc", MXU_LAYER_FC);
        l.input = t[7], l.output = t[8], l.cout = TEST_NET_CLASSES;
        rc = add_conv_arrays(n, &l, mxu_tensor_elems(&n->p->tensors[t[7]]));
        if (!rc)
            rc = add_layer(n, &l, 1);
    }
    if (!rc) {
        const mxu_tensor *f = &n->p->tensors[t[8]], *g = &n->p->tensors[t[9]];
        int8_t lut[256];
        mxu_lut_build(lut, mxu_tanhf, f->scale, f->zero_point, g->scale, g->zero_point);
        mxu_layer_init(&l, "tanh", MXU_LAYER_LUT);
        l.input = t[8], l.output = t[9];
        rc = mxu_program_add_blob(n->p, lut, sizeof lut, &l.lut);
        if (!rc)
            rc = add_layer(n, &l, 0);
    }
    if (!rc) {
        mxu_layer_init(&l, "softmax", MXU_LAYER_SOFTMAX);
        l.input = t[9], l.output = t[10];
        rc = add_layer(n, &l, 0);
    }
    return rc;
}

int test_net_build(const mxu_hw_config *cfg, uint32_t h, uint32_t w, uint64_t seed,
                   int with_metadata, mxu_program **out)
{
    struct net n = {NULL, NULL, seed};
    uint32_t t[11];
    *out = NULL;
    int rc = mxu_builder_new(cfg, &n.b);
    if (rc)
        return rc;
    n.p = mxu_builder_program(n.b);
    rc = device_layers(&n, h, w, t);
    if (!rc)
        rc = build_layers(&n, t);
    if (!rc && with_metadata) {
        n.p->metadata = strdup("model=testnet\nsource=test_net.c\ninput.scale=0.00392157\n"
                               "input.mean=0.5,0.5,0.5\ninput.std=0.5,0.5,0.5\n"
                               "classes=zero,one,two,three,four,five,six,seven,eight,nine\n");
        if (!n.p->metadata)
            rc = mxu_fail(MXU_ERR_NOMEM, "test net metadata");
    }
    if (!rc)
        rc = mxu_builder_finish(n.b, out);
    mxu_builder_free(n.b);
    return rc;
}
