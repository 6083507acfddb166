#include "test_core_support.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu.h"
#include "mxu_execute.h"
#include "mxu_numerics.h"
#include "mxu_reference.h"

mxu_graph *tg_new(const char *name)
{
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_graph_new(name, &g), MXU_OK, "%s", mxu_error_detail());
    return g;
}

int tg_input(mxu_graph *g, const char *name, uint32_t n, uint32_t h, uint32_t w, uint32_t c)
{
    uint32_t dims[4] = {n, h, w, c};
    int v = -1;
    cr_assert_eq(mxu_graph_add_value(g, name, 4, dims, &v), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_graph_add_input(g, v), MXU_OK, "%s", mxu_error_detail());
    return v;
}

int tg_input_nc(mxu_graph *g, const char *name, uint32_t n, uint32_t c)
{
    uint32_t dims[2] = {n, c};
    int v = -1;
    cr_assert_eq(mxu_graph_add_value(g, name, 2, dims, &v), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_graph_add_input(g, v), MXU_OK, "%s", mxu_error_detail());
    return v;
}

int tg_node(mxu_graph *g, enum mxu_node_op op, const char *name, const int *inputs, uint32_t n_inputs,
            mxu_node **node)
{
    mxu_node *n = NULL;
    cr_assert_eq(mxu_graph_add_node(g, op, name, g->n_nodes + 1, inputs, n_inputs, &n), MXU_OK, "%s",
                 mxu_error_detail());
    if (node)
        *node = n;
    return n->output;
}

int tg_conv(mxu_graph *g, int in, const char *name, uint32_t cout, uint32_t k, uint32_t stride,
            uint32_t pad, uint32_t groups)
{
    mxu_node *n;
    int v = tg_node(g, MXU_NODE_CONV, name, &in, 1, &n);
    n->cout = cout, n->kh = n->kw = k, n->stride_h = n->stride_w = stride, n->groups = groups;
    n->pad_top = n->pad_left = n->pad_bottom = n->pad_right = pad;
    return v;
}

int tg_fc(mxu_graph *g, int in, const char *name, uint32_t cout)
{
    mxu_node *n;
    int v = tg_node(g, MXU_NODE_FC, name, &in, 1, &n);
    n->cout = cout;
    return v;
}

int tg_pool(mxu_graph *g, int in, const char *name, enum mxu_node_op op, uint32_t k, uint32_t stride,
            uint32_t pad)
{
    mxu_node *n;
    int v = tg_node(g, op, name, &in, 1, &n);
    n->kh = n->kw = k, n->stride_h = n->stride_w = stride;
    n->pad_top = n->pad_left = n->pad_bottom = n->pad_right = pad;
    return v;
}

int tg_act(mxu_graph *g, int in, const char *name, enum mxu_act_kind kind, float alpha)
{
    mxu_node *n;
    int v = tg_node(g, MXU_NODE_ACT, name, &in, 1, &n);
    n->act.kind = kind, n->act.alpha = alpha, n->act.lo = 0, n->act.hi = 6;
    return v;
}

int tg_add(mxu_graph *g, int a, int b, const char *name)
{
    int in[2] = {a, b};
    return tg_node(g, MXU_NODE_ADD, name, in, 2, NULL);
}

void tg_output(mxu_graph *g, int v)
{
    cr_assert_eq(mxu_graph_add_output(g, v), MXU_OK, "%s", mxu_error_detail());
}

mxu_node *tg_producer(mxu_graph *g, int v)
{
    cr_assert(v >= 0 && (uint32_t)v < g->n_values && g->values[v].producer >= 0, "value %d has no producer", v);
    return &g->nodes[g->values[v].producer];
}

uint32_t tg_count_op(const mxu_graph *g, enum mxu_node_op op)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        n += g->nodes[i].op == op;
    return n;
}

void tg_random_inputs(const mxu_graph *g, uint64_t seed, float **in)
{
    struct mxu_preprocess pre = {.scale = 1.0f / 255.0f, .std = {1, 1, 1, 1}};
    uint64_t rng = seed * 0x9E3779B97F4A7C15ull + 7;
    for (uint32_t k = 0; k < g->n_inputs; k++) {
        in[k] = malloc(mxu_value_elems(&g->values[g->inputs[k]]) * sizeof(float));
        cr_assert_not_null(in[k]);
        mxu_random_input(g, k, &pre, &rng, in[k]);
    }
}

void tg_free_inputs(const mxu_graph *g, float **in)
{
    for (uint32_t k = 0; k < g->n_inputs; k++)
        free(in[k]);
}

float *tg_float_output(const mxu_graph *g, float *const *in, uint64_t *count)
{
    float *out[MXU_NODE_MAX_INPUTS] = {0};
    cr_assert_eq(mxu_float_run(g, (const float *const *)in, out, NULL), MXU_OK, "%s", mxu_error_detail());
    for (uint32_t k = 1; k < g->n_outputs; k++)
        free(out[k]);
    if (count)
        *count = mxu_value_elems(&g->values[g->outputs[0]]);
    return out[0];
}

float tg_max_diff(const float *a, const float *b, uint64_t n)
{
    float m = 0;
    for (uint64_t i = 0; i < n; i++)
        m = fmaxf(m, fabsf(a[i] - b[i]));
    return m;
}

mxu_program *tg_compile(mxu_graph *g, const char *arch, uint32_t calib_count)
{
    struct mxu_compile_options o;
    mxu_program *p = NULL;
    mxu_compile_options_init(&o);
    cr_assert_eq(mxu_config_parse(&o.config, arch), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_config_validate(&o.config), MXU_OK, "%s", mxu_error_detail());
    o.random_weights = 1;
    o.seed = 3;
    o.calib_count = calib_count;
    int rc = mxu_compile(g, &o, &p);
    cr_assert_eq(rc, MXU_OK, "compile %s: %s: %s", g->name, mxu_strerror(rc), mxu_error_detail());
    return p;
}

static void quantize_input(const mxu_tensor *t, const float *x, int8_t *q)
{
    for (uint64_t i = 0; i < mxu_tensor_elems(t); i++)
        q[i] = mxu_quantize_f32(x[i], t->scale, t->zero_point);
}

/* The device run: inputs in, every layer, outputs compared with ref. */
static void device_run(const mxu_program *p, const char *arch, uint8_t *const *ref, float **dequantized)
{
    char uri[200];
    mxu_device *dev = NULL;
    snprintf(uri, sizeof uri, "model:%s", arch);
    cr_assert_eq(mxu_open(uri, &dev), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_load(dev, p), MXU_OK, "%s", mxu_error_detail());
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            cr_assert_eq(mxu_tensor_write(dev, p, i, ref[i], mxu_tensor_bytes(&p->tensors[i])), MXU_OK);
    int rc = mxu_program_execute(dev, p, 0, NULL, NULL);
    cr_assert_eq(rc, MXU_OK, "execute: %s: %s", mxu_strerror(rc), mxu_error_detail());
    int first = 1;
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        const mxu_tensor *t = &p->tensors[i];
        if (t->role != MXU_ROLE_OUTPUT)
            continue;
        size_t n = mxu_tensor_bytes(t);
        int8_t *got = malloc(n);
        cr_assert_eq(mxu_tensor_read(dev, p, i, got, n), MXU_OK, "%s", mxu_error_detail());
        for (size_t k = 0; k < n; k++)
            cr_assert_eq(got[k], (int8_t)ref[i][k], "output %s byte %zu of %zu: device %d, golden %d",
                         t->name, k, n, got[k], (int8_t)ref[i][k]);
        if (first && dequantized) {
            *dequantized = malloc(n * sizeof(float));
            for (size_t k = 0; k < n; k++)
                (*dequantized)[k] = mxu_dequantize(got[k], t->scale, t->zero_point);
        }
        first = 0;
        free(got);
    }
    mxu_close(dev);
}

void tg_run_check(const mxu_program *p, const char *arch, float *const *in, float **dequantized)
{
    uint8_t **v = calloc(p->n_tensors, sizeof *v);
    uint32_t k = 0;
    cr_assert_not_null(v);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        v[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1);
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            quantize_input(&p->tensors[i], in[k++], (int8_t *)v[i]);
    }
    int rc = mxu_reference_run(p, v);
    cr_assert_eq(rc, MXU_OK, "reference: %s", mxu_error_detail());
    device_run(p, arch, v, dequantized);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(v[i]);
    free(v);
}

uint32_t tg_device_layers(const mxu_program *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->n_layers; i++)
        n += p->layers[i].code_count > 0;
    return n;
}

uint32_t tg_host_layers(const mxu_program *p)
{
    return p->n_layers - tg_device_layers(p);
}
