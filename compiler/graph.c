/* The compiler's graph (mxu_graph.h): construction, ownership of node arrays,
 * and the small editing helpers the passes share (compiler_core.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"

static const char *const op_names[MXU_NODE_OP_COUNT] = {
    [MXU_NODE_CONV] = "conv",         [MXU_NODE_FC] = "fc",
    [MXU_NODE_MAXPOOL] = "maxpool",   [MXU_NODE_AVGPOOL] = "avgpool",
    [MXU_NODE_GLOBAL_AVGPOOL] = "global_avgpool",
    [MXU_NODE_ADD] = "add",           [MXU_NODE_CONCAT] = "concat",
    [MXU_NODE_UPSAMPLE] = "upsample", [MXU_NODE_SOFTMAX] = "softmax",
    [MXU_NODE_ACT] = "act",           [MXU_NODE_BATCHNORM] = "batchnorm",
    [MXU_NODE_FLATTEN] = "flatten",   [MXU_NODE_IDENTITY] = "identity",
};

const char *mxu_node_op_name(enum mxu_node_op op)
{
    if ((int)op > 0 && op < MXU_NODE_OP_COUNT && op_names[op])
        return op_names[op];
    return "?";
}

const char *mxu_act_kind_name(enum mxu_act_kind k)
{
    switch (k) {
    case MXU_ACT_KIND_NONE: return "linear";
    case MXU_ACT_KIND_RELU: return "relu";
    case MXU_ACT_KIND_CLIP: return "clip";
    case MXU_ACT_KIND_LEAKY: return "leaky";
    case MXU_ACT_KIND_SIGMOID: return "sigmoid";
    case MXU_ACT_KIND_TANH: return "tanh";
    case MXU_ACT_KIND_ELU: return "elu";
    case MXU_ACT_KIND_SWISH: return "swish";
    case MXU_ACT_KIND_MISH: return "mish";
    }
    return "?";
}

int mxu_act_is_lut(enum mxu_act_kind k)
{
    return k != MXU_ACT_KIND_NONE && k != MXU_ACT_KIND_RELU && k != MXU_ACT_KIND_CLIP;
}

static float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

float mxu_act_apply(const struct mxu_act *a, float x)
{
    switch (a->kind) {
    case MXU_ACT_KIND_NONE: return x;
    case MXU_ACT_KIND_RELU: return x > 0 ? x : 0;
    case MXU_ACT_KIND_CLIP: return x < a->lo ? a->lo : x > a->hi ? a->hi : x;
    case MXU_ACT_KIND_LEAKY: return x > 0 ? x : a->alpha * x;
    case MXU_ACT_KIND_SIGMOID: return sigmoid(x);
    case MXU_ACT_KIND_TANH: return tanhf(x);
    case MXU_ACT_KIND_ELU: return x > 0 ? x : a->alpha * expm1f(x);
    case MXU_ACT_KIND_SWISH: return x * sigmoid(x);
    case MXU_ACT_KIND_MISH: return x * tanhf(x > 20 ? x : log1pf(expf(x)));
    }
    return x;
}

/* ---- construction --------------------------------------------------------------- */

static void set_name(char *dst, const char *name)
{
    snprintf(dst, MXU_GRAPH_NAME_LEN, "%s", name ? name : "");
}

int mxu_graph_new(const char *name, mxu_graph **out)
{
    if (!out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_graph_new: no output pointer");
    *out = NULL;
    mxu_graph *g = calloc(1, sizeof *g);
    if (!g)
        return mxu_fail(MXU_ERR_NOMEM, "graph");
    set_name(g->name, name);
    g->pre.scale = 1.0f / 255.0f;
    for (int c = 0; c < 4; c++)
        g->pre.std[c] = 1.0f;
    *out = g;
    return MXU_OK;
}

void mxu_node_free_arrays(mxu_node *n)
{
    free(n->weights);
    free(n->bias);
    free(n->qweights);
    free(n->wscale);
    free(n->qbias);
    free(n->bn.gamma);
    free(n->bn.beta);
    free(n->bn.mean);
    free(n->bn.var);
    n->weights = n->bias = n->wscale = NULL;
    n->qweights = NULL;
    n->qbias = NULL;
    n->bn.gamma = n->bn.beta = n->bn.mean = n->bn.var = NULL;
}

void mxu_graph_free(mxu_graph *g)
{
    if (!g)
        return;
    for (uint32_t i = 0; i < g->n_nodes; i++)
        mxu_node_free_arrays(&g->nodes[i]);
    free(g->nodes);
    free(g->values);
    free(g);
}

/* Capacity grows in powers of two; n_values/n_nodes are the counts. */
static int reserve(void **v, uint32_t n, size_t elem)
{
    if (n != 0 && (n < 8 || (n & (n - 1))))
        return MXU_OK; /* capacity is max(8, the next power of two): room left */
    uint64_t cap = n ? 2ull * n : 8;
    if (cap * elem > (uint64_t)INT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "graph: too many values or nodes");
    void *p = realloc(*v, cap * elem);
    if (!p)
        return mxu_fail(MXU_ERR_NOMEM, "graph");
    *v = p;
    return MXU_OK;
}

int mxu_graph_add_value(mxu_graph *g, const char *name, uint32_t ndims, const uint32_t *dims,
                        int *index)
{
    if (!g)
        return mxu_fail(MXU_ERR_INVAL, "mxu_graph_add_value: no graph");
    if (ndims != 0 && ndims != 2 && ndims != 4)
        return mxu_fail(MXU_ERR_INVAL, "value '%s': %u dimensions (2 = NC, 4 = NHWC)", name ? name : "",
                        ndims);
    if (ndims && !dims)
        return mxu_fail(MXU_ERR_INVAL, "value '%s': dimensions missing", name ? name : "");
    int rc = reserve((void **)&g->values, g->n_values, sizeof *g->values);
    if (rc)
        return rc;
    mxu_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    set_name(v->name, name);
    v->ndims = ndims;
    for (uint32_t i = 0; i < ndims; i++)
        v->dims[i] = dims[i];
    v->producer = -1;
    if (index)
        *index = (int)g->n_values;
    g->n_values++;
    return MXU_OK;
}

static int add_io(mxu_graph *g, int value, int *list, uint32_t *n, const char *what)
{
    if (!g || value < 0 || (uint32_t)value >= g->n_values)
        return mxu_fail(MXU_ERR_INVAL, "graph %s: no value %d", what, value);
    if (*n >= MXU_NODE_MAX_INPUTS)
        return mxu_fail(MXU_ERR_UNSUPPORTED, "graph '%s': more than %d %ss", g->name,
                        MXU_NODE_MAX_INPUTS, what);
    list[(*n)++] = value;
    return MXU_OK;
}

int mxu_graph_add_input(mxu_graph *g, int value)
{
    return add_io(g, value, g ? g->inputs : NULL, g ? &g->n_inputs : NULL, "input");
}

int mxu_graph_add_output(mxu_graph *g, int value)
{
    return add_io(g, value, g ? g->outputs : NULL, g ? &g->n_outputs : NULL, "output");
}

static void node_defaults(mxu_node *n, enum mxu_node_op op, const char *name, uint32_t src_line)
{
    memset(n, 0, sizeof *n);
    set_name(n->name, name);
    n->op = op;
    n->src_line = src_line;
    n->kh = n->kw = 1;
    n->stride_h = n->stride_w = 1;
    n->dil_h = n->dil_w = 1;
    n->groups = 1;
    n->scale = 1;
    n->output = -1;
}

int mxu_graph_insert_node(mxu_graph *g, uint32_t pos, enum mxu_node_op op, const char *name,
                          uint32_t src_line, const int *inputs, uint32_t n_inputs, mxu_node **out)
{
    if (!g || pos > g->n_nodes)
        return mxu_fail(MXU_ERR_INVAL, "graph: no node position %u", pos);
    if ((int)op <= 0 || op >= MXU_NODE_OP_COUNT)
        return mxu_fail(MXU_ERR_INVAL, "node '%s': unknown op %d", name ? name : "", (int)op);
    if (n_inputs > MXU_NODE_MAX_INPUTS || (n_inputs && !inputs))
        return mxu_fail(MXU_ERR_UNSUPPORTED, "node '%s': %u inputs (at most %d)", name ? name : "",
                        n_inputs, MXU_NODE_MAX_INPUTS);
    for (uint32_t i = 0; i < n_inputs; i++)
        if (inputs[i] < 0 || (uint32_t)inputs[i] >= g->n_values)
            return mxu_fail(MXU_ERR_INVAL, "node '%s': input %u is not a value (%d)", name ? name : "",
                            i, inputs[i]);
    int rc = reserve((void **)&g->nodes, g->n_nodes, sizeof *g->nodes);
    int value = -1;
    if (rc == MXU_OK)
        rc = mxu_graph_add_value(g, name, 0, NULL, &value);
    if (rc)
        return rc;
    memmove(&g->nodes[pos + 1], &g->nodes[pos], (g->n_nodes - pos) * sizeof *g->nodes);
    g->n_nodes++;
    for (uint32_t v = 0; v < g->n_values; v++)
        if (g->values[v].producer >= (int)pos)
            g->values[v].producer++;
    mxu_node *n = &g->nodes[pos];
    node_defaults(n, op, name, src_line);
    n->n_inputs = n_inputs;
    for (uint32_t i = 0; i < n_inputs; i++)
        n->inputs[i] = inputs[i];
    n->output = value;
    g->values[value].producer = (int)pos;
    if (out)
        *out = n;
    return MXU_OK;
}

int mxu_graph_add_node(mxu_graph *g, enum mxu_node_op op, const char *name, uint32_t src_line,
                       const int *inputs, uint32_t n_inputs, mxu_node **out)
{
    if (!g)
        return mxu_fail(MXU_ERR_INVAL, "mxu_graph_add_node: no graph");
    return mxu_graph_insert_node(g, g->n_nodes, op, name, src_line, inputs, n_inputs, out);
}

int mxu_graph_find_value(const mxu_graph *g, const char *name)
{
    if (!g || !name)
        return -1;
    for (uint32_t i = g->n_values; i-- > 0;) /* the newest definition wins */
        if (!strcmp(g->values[i].name, name))
            return (int)i;
    return -1;
}

/* ---- queries ----------------------------------------------------------------------- */

uint64_t mxu_value_elems(const mxu_value *v)
{
    if (!v->ndims)
        return 0;
    uint64_t n = 1;
    for (uint32_t i = 0; i < v->ndims; i++)
        n *= v->dims[i];
    return n;
}

static int in_list(const int *list, uint32_t n, int value)
{
    for (uint32_t i = 0; i < n; i++)
        if (list[i] == value)
            return 1;
    return 0;
}

int mxu_graph_is_output(const mxu_graph *g, int value)
{
    return in_list(g->outputs, g->n_outputs, value);
}

int mxu_graph_is_input(const mxu_graph *g, int value)
{
    return in_list(g->inputs, g->n_inputs, value);
}

int mxu_graph_uses_build(const mxu_graph *g, struct mxu_graph_uses *u)
{
    uint64_t total = 0;
    u->first = calloc((size_t)g->n_values + 1, sizeof *u->first);
    for (uint32_t i = 0; i < g->n_nodes; i++)
        total += g->nodes[i].op ? g->nodes[i].n_inputs : 0;
    u->node = malloc((total ? total : 1) * sizeof *u->node);
    if (!u->first || !u->node) {
        mxu_graph_uses_free(u);
        return mxu_fail(MXU_ERR_NOMEM, "graph uses");
    }
    /* counting sort: count per value, prefix sums, then fill */
    for (uint32_t i = 0; i < g->n_nodes; i++)
        for (uint32_t k = 0; g->nodes[i].op && k < g->nodes[i].n_inputs; k++)
            u->first[g->nodes[i].inputs[k] + 1]++;
    for (uint32_t v = 0; v < g->n_values; v++)
        u->first[v + 1] += u->first[v];
    uint32_t *fill = calloc(g->n_values ? g->n_values : 1, sizeof *fill);
    if (!fill) {
        mxu_graph_uses_free(u);
        return mxu_fail(MXU_ERR_NOMEM, "graph uses");
    }
    for (uint32_t i = 0; i < g->n_nodes; i++)
        for (uint32_t k = 0; g->nodes[i].op && k < g->nodes[i].n_inputs; k++) {
            int v = g->nodes[i].inputs[k];
            u->node[u->first[v] + fill[v]++] = i;
        }
    free(fill);
    return MXU_OK;
}

void mxu_graph_uses_free(struct mxu_graph_uses *u)
{
    free(u->first);
    free(u->node);
    u->first = u->node = NULL;
}

uint32_t mxu_graph_use_count(const struct mxu_graph_uses *u, int value)
{
    return u->first[value + 1] - u->first[value];
}

uint32_t mxu_node_cin(const mxu_graph *g, const mxu_node *n)
{
    if (n->n_inputs < 1)
        return 0;
    const mxu_value *in = &g->values[n->inputs[0]];
    if (n->op == MXU_NODE_FC)
        return in->ndims ? (uint32_t)(mxu_value_elems(in) / in->dims[0]) : 0;
    if (in->ndims != 4)
        return 0;
    return n->groups ? in->dims[3] / n->groups : 0;
}

uint64_t mxu_node_fan_in(const mxu_graph *g, const mxu_node *n)
{
    uint64_t cin = mxu_node_cin(g, n);
    return n->op == MXU_NODE_CONV ? (uint64_t)n->kh * n->kw * cin : cin;
}

/* ---- editing ----------------------------------------------------------------------- */

void mxu_graph_replace_uses(mxu_graph *g, int from, int to)
{
    for (uint32_t i = 0; i < g->n_nodes; i++)
        for (uint32_t k = 0; g->nodes[i].op && k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] == from)
                g->nodes[i].inputs[k] = to;
    for (uint32_t k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == from)
            g->outputs[k] = to;
}

void mxu_graph_kill_node(mxu_graph *g, uint32_t node)
{
    mxu_node *n = &g->nodes[node];
    mxu_node_free_arrays(n);
    if (n->output >= 0 && g->values[n->output].producer == (int)node)
        g->values[n->output].producer = -1;
    n->op = 0;
    n->n_inputs = 0;
}

/* Keep graph inputs, values produced by live nodes and values read anywhere
 * (a read of a value nobody produces is reported by shape inference). */
static int value_kept(const mxu_graph *g, const uint8_t *read, uint32_t v)
{
    return read[v] || g->values[v].producer >= 0 || mxu_graph_is_input(g, (int)v);
}

int mxu_graph_compact(mxu_graph *g)
{
    int *node_map = malloc(((size_t)g->n_nodes + 1) * sizeof *node_map);
    int *value_map = malloc(((size_t)g->n_values + 1) * sizeof *value_map);
    uint8_t *read = calloc((size_t)g->n_values + 1, 1);
    if (!node_map || !value_map || !read) {
        free(node_map), free(value_map), free(read);
        return mxu_fail(MXU_ERR_NOMEM, "graph compaction");
    }
    uint32_t nn = 0, nv = 0;
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        node_map[i] = g->nodes[i].op ? (int)nn : -1;
        if (g->nodes[i].op)
            g->nodes[nn++] = g->nodes[i];
    }
    g->n_nodes = nn;
    for (uint32_t i = 0; i < nn; i++)
        for (uint32_t k = 0; k < g->nodes[i].n_inputs; k++)
            read[g->nodes[i].inputs[k]] = 1;
    for (uint32_t k = 0; k < g->n_outputs; k++)
        read[g->outputs[k]] = 1;
    for (uint32_t v = 0; v < g->n_values; v++) {
        value_map[v] = value_kept(g, read, v) ? (int)nv : -1;
        if (value_map[v] >= 0) {
            mxu_value *dst = &g->values[nv++];
            *dst = g->values[v];
            dst->producer = dst->producer >= 0 ? node_map[dst->producer] : -1;
        }
    }
    g->n_values = nv;
    for (uint32_t i = 0; i < nn; i++) {
        mxu_node *n = &g->nodes[i];
        for (uint32_t k = 0; k < n->n_inputs; k++)
            n->inputs[k] = value_map[n->inputs[k]];
        n->output = value_map[n->output];
    }
    for (uint32_t k = 0; k < g->n_inputs; k++)
        g->inputs[k] = value_map[g->inputs[k]];
    for (uint32_t k = 0; k < g->n_outputs; k++)
        g->outputs[k] = value_map[g->outputs[k]];
    free(node_map), free(value_map), free(read);
    return MXU_OK;
}

int mxu_node_fail(int status, const mxu_node *n, const char *fmt, ...)
{
    char msg[400], where[40] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n->src_line)
        snprintf(where, sizeof where, ", line %u", n->src_line);
    return mxu_fail(status, "node '%s' (%s%s): %s", n->name, mxu_node_op_name(n->op), where, msg);
}
