/* libFuzzer target for the Darknet frontend (make fuzz, mk/fuzz_darknet.mk).
 *
 * An input is a .cfg text, or (first byte 0) a cfg and a .weights file:
 *   0x00, cfg length (2 bytes, little endian), cfg text, weights bytes
 * Whatever loads must be a well-formed graph: nodes in topological order,
 * every value shaped with the dims shape inference computes, conv/FC weights
 * either absent or of the right size and finite. A violation aborts, which
 * libFuzzer reports as a crash. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "darknet_priv.h"
#include "mxu_compiler.h"
#include "mxu_error.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_darknet: %s (%s)\n", what, mxu_error_detail());
        abort();
    }
}

static uint64_t elems(const mxu_value *v)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < v->ndims; i++)
        n *= v->dims[i];
    return v->ndims ? n : 0;
}

static void check_finite(const float *a, uint64_t n, const char *what)
{
    for (uint64_t i = 0; a && i < n; i++)
        check(isfinite(a[i]), what);
}

static void check_node(const mxu_graph *g, uint32_t i)
{
    const mxu_node *n = &g->nodes[i];
    check(n->n_inputs >= 1 && n->n_inputs <= MXU_NODE_MAX_INPUTS, "input count");
    for (uint32_t k = 0; k < n->n_inputs; k++) {
        int v = n->inputs[k];
        check(v >= 0 && (uint32_t)v < g->n_values, "input index");
        check(g->values[v].producer < (int)i, "not topological");
    }
    check(g->values[n->output].producer == (int)i, "output producer");
    if ((n->op != MXU_NODE_CONV && n->op != MXU_NODE_FC) || !n->weights)
        return;
    const mxu_value *in = &g->values[n->inputs[0]];
    uint64_t fan_in = n->op == MXU_NODE_FC ? elems(in)
                                           : (uint64_t)n->kh * n->kw * in->dims[3] / n->groups;
    check_finite(n->weights, fan_in * n->cout, "weights not finite");
    check_finite(n->bias, n->bias ? n->cout : 0, "bias not finite");
    if (n->has_bn && n->bn.gamma) {
        check_finite(n->bn.gamma, n->cout, "gamma not finite");
        check_finite(n->bn.var, n->cout, "var not finite");
    }
}

/* The frontend's dims must be what shape inference computes. */
static void check_shapes(mxu_graph *g)
{
    uint32_t n = g->n_values;
    mxu_value *saved = malloc(n * sizeof *saved);
    check(saved != NULL, "malloc");
    memcpy(saved, g->values, n * sizeof *saved);
    for (uint32_t v = 0; v < n; v++)
        if (g->values[v].producer >= 0)
            g->values[v].ndims = 0;
    check(mxu_graph_infer_shapes(g) == MXU_OK, "shape inference rejects the graph");
    for (uint32_t v = 0; v < n; v++)
        check(saved[v].ndims == g->values[v].ndims &&
                  !memcmp(saved[v].dims, g->values[v].dims, sizeof saved[v].dims),
              "frontend dims differ from shape inference");
    free(saved);
}

static void check_graph(mxu_graph *g)
{
    check(g->n_inputs == 1 && g->n_outputs == 1, "one input, one output");
    for (uint32_t i = 0; i < g->n_nodes; i++)
        check_node(g, i);
    check_shapes(g);
}

static void load(const char *text, size_t len, const uint8_t *weights, size_t wlen)
{
    FILE *wf = NULL;
    if (weights) {
        wf = fmemopen((void *)weights, wlen, "rb");
        if (!wf)
            return; /* an empty buffer on older C libraries */
    }
    mxu_graph *g = NULL;
    int rc = mxu_darknet_load_streams(text, len, "fuzz.cfg", wf, "fuzz.weights", &g);
    if (wf)
        fclose(wf);
    if (rc != MXU_OK) {
        check(g == NULL, "failed load returned a graph");
        check(rc == MXU_ERR_FORMAT || rc == MXU_ERR_UNSUPPORTED || rc == MXU_ERR_NOMEM,
              "unexpected error code");
        check(mxu_error_detail()[0] != 0, "error without a message");
        return;
    }
    check_graph(g);
    mxu_graph_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 3 && data[0] == 0) {
        size_t cfg_len = (size_t)data[1] | (size_t)data[2] << 8;
        if (cfg_len > size - 3)
            cfg_len = size - 3;
        load((const char *)data + 3, cfg_len, data + 3 + cfg_len, size - 3 - cfg_len);
    } else {
        load((const char *)data, size, NULL, 0);
    }
    return 0;
}
