/* Lowering a quantized graph into a program through hostlib's builder: the
 * activation arena first (memplan.c's offsets), one tensor per value, then one
 * layer record per node in order. A conv/FC, and a pool the tiler can plan,
 * becomes a device layer: mxu_lower_layer emits its instructions and
 * mxu_builder_end_segment closes them into the record's code range. Softmax,
 * concat, upsample, standalone activations (LUT), add, and pools the array
 * cannot express stay host layers (no code) that the executor computes with the
 * golden kernels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"
#include "mxu_builder.h"
#include "mxu_lower.h"
#include "mxu_pool.h"

struct lowering {
    const mxu_graph *g;
    const struct mxu_qgraph *q;
    const struct mxu_memplan *m;
    mxu_builder *b;
    mxu_program *p;
    uint32_t *tensor; /* per value: program tensor index or MXU_NONE */
    uint32_t arena;
};

/* Prefix the current error detail with the node. */
static int node_error(int rc, const mxu_node *n)
{
    char detail[400];
    snprintf(detail, sizeof detail, "%s", mxu_error_detail());
    return mxu_node_fail(rc, n, "%s", detail);
}

/* ---- tensors --------------------------------------------------------------------- */

static int name_taken(const mxu_program *p, const char *name)
{
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (!strcmp(p->tensors[i].name, name))
            return 1;
    return 0;
}

/* The value's name if usable and new, else "name~k" / "v<index>". */
static void tensor_name(const mxu_program *p, const mxu_value *v, uint32_t index, char *out)
{
    snprintf(out, MXU_NAME_LEN, "%s", v->name);
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 32 || *c == 127)
            *c = '_';
    if (!out[0])
        snprintf(out, MXU_NAME_LEN, "v%u", index);
    for (uint32_t k = 1; name_taken(p, out); k++)
        snprintf(out, MXU_NAME_LEN, "%.50s~%u", v->name[0] ? v->name : "v", k);
}

static int add_tensor(struct lowering *L, uint32_t v)
{
    const mxu_graph *g = L->g;
    const mxu_value *val = &g->values[v];
    mxu_tensor t;
    memset(&t, 0, sizeof t);
    tensor_name(L->p, val, v, t.name);
    int in = mxu_graph_is_input(g, (int)v), out = mxu_graph_is_output(g, (int)v);
    if (in && out)
        return mxu_fail(MXU_ERR_UNSUPPORTED, "graph '%s': output '%s' is an input: nothing to compute",
                        g->name, val->name);
    t.role = in ? MXU_ROLE_INPUT : out ? MXU_ROLE_OUTPUT : MXU_ROLE_ACTIVATION;
    t.dtype = MXU_DTYPE_INT8;
    t.layout = val->ndims == 4 ? MXU_LAYOUT_NHWC : MXU_LAYOUT_NC;
    t.ndims = val->ndims;
    memcpy(t.dims, val->dims, sizeof t.dims);
    t.dram_addr = L->arena + L->m->offset[v];
    t.scale = L->q->value[v].scale;
    t.zero_point = L->q->value[v].zero_point;
    return mxu_program_add_tensor(L->p, &t, &L->tensor[v]);
}

static int add_tensors(struct lowering *L)
{
    int rc = mxu_builder_alloc_dram(L->b, L->m->arena_bytes ? L->m->arena_bytes : MXU_MEMPLAN_ALIGN,
                                    MXU_MEMPLAN_ALIGN, &L->arena);
    for (uint32_t v = 0; rc == MXU_OK && v < L->g->n_values; v++) {
        L->tensor[v] = MXU_NONE;
        if (L->m->offset[v] != MXU_NONE)
            rc = add_tensor(L, v);
    }
    return rc;
}

/* ---- layer records ----------------------------------------------------------------- */

static int blob(mxu_program *p, const void *data, uint64_t bytes, uint32_t *offset)
{
    if (bytes > UINT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "layer constants larger than 4 GiB");
    return mxu_program_add_blob(p, data, (uint32_t)bytes, offset);
}

static void set_window(mxu_layer *l, const mxu_node *n)
{
    l->kh = n->kh, l->kw = n->kw, l->stride_h = n->stride_h, l->stride_w = n->stride_w;
    l->pad_top = n->pad_top, l->pad_left = n->pad_left;
    l->pad_bottom = n->pad_bottom, l->pad_right = n->pad_right;
}

static int linear_record(struct lowering *L, const mxu_node *n, const struct mxu_qnode *qn, mxu_layer *l)
{
    uint64_t per = mxu_node_fan_in(L->g, n), words = 4ull * n->cout;
    l->cout = n->cout;
    if (n->op == MXU_NODE_CONV) {
        set_window(l, n);
        l->dil_h = n->dil_h, l->dil_w = n->dil_w, l->groups = n->groups;
        l->pool_k = n->pool_k, l->pool_s = n->pool_s;
    }
    int rc = blob(L->p, qn->weights, per * n->cout, &l->weights);
    if (rc == MXU_OK)
        rc = blob(L->p, qn->bias, words, &l->bias);
    if (rc == MXU_OK)
        rc = blob(L->p, qn->multiplier, words, &l->multiplier);
    if (rc == MXU_OK)
        rc = blob(L->p, qn->shift, words, &l->shift);
    if (rc == MXU_OK && qn->has_lut) {
        l->flags |= MXU_LAYER_F_LUT;
        rc = blob(L->p, qn->lut, 256, &l->lut);
    }
    return rc;
}

static int pool_record(const struct lowering *L, const mxu_node *n, mxu_layer *l)
{
    const mxu_value *in = &L->g->values[n->inputs[0]];
    l->op = n->op == MXU_NODE_MAXPOOL ? MXU_LAYER_MAXPOOL : MXU_LAYER_AVGPOOL;
    l->cout = in->dims[3];
    if (n->op == MXU_NODE_GLOBAL_AVGPOOL) {
        l->kh = in->dims[1], l->kw = in->dims[2];
        return MXU_OK;
    }
    set_window(l, n);
    return MXU_OK;
}

static uint32_t layer_op(enum mxu_node_op op)
{
    switch (op) {
    case MXU_NODE_CONV: return MXU_LAYER_CONV2D;
    case MXU_NODE_FC: return MXU_LAYER_FC;
    case MXU_NODE_MAXPOOL: return MXU_LAYER_MAXPOOL;
    case MXU_NODE_AVGPOOL:
    case MXU_NODE_GLOBAL_AVGPOOL: return MXU_LAYER_AVGPOOL;
    case MXU_NODE_ADD: return MXU_LAYER_ADD;
    case MXU_NODE_CONCAT: return MXU_LAYER_CONCAT;
    case MXU_NODE_UPSAMPLE: return MXU_LAYER_UPSAMPLE;
    case MXU_NODE_SOFTMAX: return MXU_LAYER_SOFTMAX;
    case MXU_NODE_ACT: return MXU_LAYER_LUT;
    default: return 0;
    }
}

/* The layer flags that select the graph's kernel numerics for a layer op. */
static uint32_t numerics_flags(enum mxu_kernel_numerics numerics, uint32_t op)
{
    if (numerics != MXU_NUMERICS_LITERT_BUILTIN)
        return 0;
    if (op == MXU_LAYER_CONV2D || op == MXU_LAYER_FC)
        return MXU_LAYER_F_ROUND_HALF_UP;
    return op == MXU_LAYER_SOFTMAX ? MXU_LAYER_F_SOFTMAX_FLOAT_TABLE : 0;
}

/* The record of node `index` (not yet added to the program). */
static int make_record(struct lowering *L, uint32_t index, mxu_layer *l)
{
    const mxu_node *n = &L->g->nodes[index];
    const struct mxu_qnode *qn = &L->q->node[index];
    uint32_t op = layer_op(n->op);
    if (!op)
        return mxu_node_fail(MXU_ERR_UNSUPPORTED, n, "no layer computes this op (the passes "
                             "should have removed it)");
    mxu_layer_init(l, n->name[0] ? n->name : mxu_node_op_name(n->op), op);
    l->input = L->tensor[n->inputs[0]];
    l->output = L->tensor[n->output];
    l->act_min = qn->act_min, l->act_max = qn->act_max;
    l->flags = numerics_flags(L->g->numerics, op);
    switch (n->op) {
    case MXU_NODE_CONV:
    case MXU_NODE_FC: return linear_record(L, n, qn, l);
    case MXU_NODE_MAXPOOL:
    case MXU_NODE_AVGPOOL:
    case MXU_NODE_GLOBAL_AVGPOOL: return pool_record(L, n, l);
    case MXU_NODE_ADD:
        l->input2 = L->tensor[n->inputs[1]];
        return blob(L->p, qn->add_params, sizeof qn->add_params, &l->add_params);
    case MXU_NODE_CONCAT: l->input2 = L->tensor[n->inputs[1]]; return MXU_OK;
    case MXU_NODE_UPSAMPLE: l->stride_h = l->stride_w = n->scale; return MXU_OK;
    case MXU_NODE_ACT: return blob(L->p, qn->lut, 256, &l->lut);
    default: return MXU_OK;
    }
}

/* Can the array run this layer? conv/FC must (else the node fails); a pool the
 * tiler cannot plan runs on the host. */
static int runs_on_device(struct lowering *L, const mxu_node *n, uint32_t layer, int *device)
{
    const mxu_layer *l = &L->p->layers[layer];
    *device = 0;
    if (l->op == MXU_LAYER_CONV2D || l->op == MXU_LAYER_FC) {
        struct mxu_conv_plan plan;
        int rc = mxu_plan_conv(L->b, l, &plan);
        if (rc)
            return node_error(rc, n);
        *device = 1;
    } else if (l->op == MXU_LAYER_MAXPOOL || l->op == MXU_LAYER_AVGPOOL) {
        struct mxu_pool_plan plan;
        *device = mxu_plan_pool(L->b, l, &plan) == MXU_OK;
        mxu_clear_error();
    }
    return MXU_OK;
}

static int lower_node(struct lowering *L, uint32_t index)
{
    const mxu_node *n = &L->g->nodes[index];
    mxu_layer l;
    int device = 0, rc = make_record(L, index, &l);
    if (rc == MXU_OK)
        rc = mxu_program_add_layer(L->p, &l);
    uint32_t at = L->p->n_layers - 1;
    if (rc == MXU_OK && (rc = mxu_program_check_layer(L->p, at)))
        return node_error(rc, n);
    if (rc == MXU_OK)
        rc = runs_on_device(L, n, at, &device);
    if (rc || !device)
        return rc;
    uint32_t first = 0, count = 0;
    rc = mxu_lower_layer(L->b, at);
    if (rc)
        return node_error(rc, n);
    rc = mxu_builder_end_segment(L->b, &first, &count);
    L->p->layers[at].code_first = first;
    L->p->layers[at].code_count = count;
    return rc;
}

int mxu_lower_graph(const mxu_graph *g, const struct mxu_qgraph *q, const struct mxu_memplan *m,
                    const mxu_hw_config *cfg, mxu_program **out)
{
    struct lowering L = {g, q, m, NULL, NULL, NULL, 0};
    *out = NULL;
    int rc = mxu_builder_new(cfg, &L.b);
    if (rc)
        return rc;
    L.p = mxu_builder_program(L.b);
    if (!(L.tensor = malloc(((size_t)g->n_values + 1) * sizeof *L.tensor)))
        rc = mxu_fail(MXU_ERR_NOMEM, "lowering");
    if (rc == MXU_OK)
        rc = add_tensors(&L);
    for (uint32_t i = 0; rc == MXU_OK && i < g->n_nodes; i++)
        rc = lower_node(&L, i);
    if (rc == MXU_OK)
        rc = mxu_builder_finish(L.b, out);
    free(L.tensor);
    mxu_builder_free(L.b);
    return rc;
}
