/* ONNX frontend helpers: messages, the name table, attributes, node inputs and
 * outputs, graph node creation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_priv.h"

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

int onnx_fail(struct onnx_ctx *ctx, int status, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ctx->node)
        return mxu_fail(status, "%.100s: node %u '%.60s' (%.40s): %s", ctx->source, ctx->node_index,
                        str_or_empty(ctx->node->name), str_or_empty(ctx->node->op_type), msg);
    return mxu_fail(status, "%.100s: %s", ctx->source, msg);
}

/* ---- name table: open addressing, FNV-1a ----------------------------------------- */

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

int onnx_symtab_init(struct onnx_symtab *t, size_t expected)
{
    size_t cap = 64;
    while (cap < expected * 2 && cap < ((size_t)1 << 30))
        cap <<= 1;
    t->slots = calloc(cap, sizeof *t->slots);
    if (!t->slots)
        return MXU_ERR_NOMEM;
    t->cap = cap;
    t->used = 0;
    return MXU_OK;
}

void onnx_symtab_free(struct onnx_symtab *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}

static struct onnx_sym *probe(struct onnx_sym *slots, size_t cap, const char *name)
{
    size_t i = (size_t)hash_name(name) & (cap - 1);
    while (slots[i].name && strcmp(slots[i].name, name) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(struct onnx_symtab *t)
{
    size_t cap = t->cap * 2;
    struct onnx_sym *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return MXU_ERR_NOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].name)
            *probe(slots, cap, t->slots[i].name) = t->slots[i];
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return MXU_OK;
}

struct onnx_sym *onnx_sym_get(struct onnx_symtab *t, const char *name, int create)
{
    struct onnx_sym *s = probe(t->slots, t->cap, name);
    if (s->name || !create)
        return s->name ? s : NULL;
    if ((t->used + 1) * 2 > t->cap) {
        if (grow(t) != MXU_OK)
            return NULL;
        s = probe(t->slots, t->cap, name);
    }
    memset(s, 0, sizeof *s);
    s->name = name;
    s->value = -1;
    s->foldable_node = -1;
    t->used++;
    return s;
}

/* ---- attributes ------------------------------------------------------------------ */

const Onnx__AttributeProto *onnx_attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

/* An attribute's declared type must match when it is given (old exporters omit it). */
static int check_type(struct onnx_ctx *ctx, const Onnx__AttributeProto *a,
                      Onnx__AttributeProto__AttributeType want, const char *what)
{
    if (a->has_type && a->type != want)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "attribute %s is not %s", a->name, what);
    return MXU_OK;
}

int onnx_attr_int(struct onnx_ctx *ctx, const char *name, int64_t def, int64_t *out)
{
    const Onnx__AttributeProto *a = onnx_attr(ctx->node, name);
    *out = def;
    if (!a)
        return MXU_OK;
    int rc = check_type(ctx, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, "an integer");
    if (rc)
        return rc;
    if (!a->has_i)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "attribute %s has no value", name);
    *out = a->i;
    return MXU_OK;
}

int onnx_attr_float(struct onnx_ctx *ctx, const char *name, float def, float *out)
{
    const Onnx__AttributeProto *a = onnx_attr(ctx->node, name);
    *out = def;
    if (!a)
        return MXU_OK;
    int rc = check_type(ctx, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, "a float");
    if (rc)
        return rc;
    if (!a->has_f)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "attribute %s has no value", name);
    *out = a->f;
    return MXU_OK;
}

int onnx_attr_ints(struct onnx_ctx *ctx, const char *name, int64_t *out, uint32_t max, uint32_t *n)
{
    const Onnx__AttributeProto *a = onnx_attr(ctx->node, name);
    *n = 0;
    if (!a)
        return MXU_OK;
    int rc = check_type(ctx, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, "a list of integers");
    if (rc)
        return rc;
    if (a->n_ints > max)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "attribute %s has %zu values (at most %u)", name,
                         a->n_ints, max);
    if (a->n_ints)
        memcpy(out, a->ints, a->n_ints * sizeof *out);
    *n = (uint32_t)a->n_ints;
    return MXU_OK;
}

int onnx_attr_string(struct onnx_ctx *ctx, const char *name, const char *def, char *buf, size_t len)
{
    const Onnx__AttributeProto *a = onnx_attr(ctx->node, name);
    snprintf(buf, len, "%s", def);
    if (!a)
        return MXU_OK;
    int rc = check_type(ctx, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, "a string");
    if (rc)
        return rc;
    if (!a->has_s)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "attribute %s has no value", name);
    size_t n = a->s.len < len - 1 ? a->s.len : len - 1;
    if (n)
        memcpy(buf, a->s.data, n);
    buf[n] = 0;
    return MXU_OK;
}

/* ---- node inputs and outputs ----------------------------------------------------- */

struct onnx_sym *onnx_input(struct onnx_ctx *ctx, uint32_t i)
{
    const Onnx__NodeProto *n = ctx->node;
    if (i >= n->n_input || !n->input[i][0])
        return NULL;
    return onnx_sym_get(&ctx->syms, n->input[i], 0);
}

/* Inputs are resolved before the op runs (onnx_load.c checks they are defined),
 * so a NULL symbol here means "absent". */
static int missing(struct onnx_ctx *ctx, uint32_t i)
{
    return onnx_fail(ctx, MXU_ERR_FORMAT, "input %u is missing", i);
}

int onnx_input_value(struct onnx_ctx *ctx, uint32_t i, int flags, struct onnx_sym **out)
{
    struct onnx_sym *s = onnx_input(ctx, i);
    if (!s)
        return missing(ctx, i);
    if (s->kind != ONNX_SYM_VALUE)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "input %u '%.60s' is a constant (only computed "
                         "tensors are supported there)", i, s->name);
    if (s->qdomain && !(flags & ONNX_IN_QDOMAIN))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "input %u '%.60s' is an int8 tensor (only "
                         "DequantizeLinear, QLinear ops and MaxPool read those)", i, s->name);
    if (s->chw_flat && !(flags & ONNX_IN_FLAT))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "input %u '%.60s' is an NCHW tensor flattened "
                         "with C > 1 and H*W > 1; only Gemm/MatMul may read it", i, s->name);
    *out = s;
    return MXU_OK;
}

int onnx_input_const_opt(struct onnx_ctx *ctx, uint32_t i, struct onnx_const **out)
{
    struct onnx_sym *s = onnx_input(ctx, i);
    *out = NULL;
    if (!s)
        return MXU_OK;
    if (s->kind != ONNX_SYM_CONST)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "input %u '%.60s' must be a constant "
                         "(initializer or Constant)", i, s->name);
    return onnx_sym_const(ctx, s, out);
}

int onnx_input_const(struct onnx_ctx *ctx, uint32_t i, struct onnx_const **out)
{
    int rc = onnx_input_const_opt(ctx, i, out);
    if (rc == MXU_OK && !*out)
        return missing(ctx, i);
    return rc;
}

int onnx_output(struct onnx_ctx *ctx, uint32_t i, struct onnx_sym **out)
{
    const Onnx__NodeProto *n = ctx->node;
    if (i >= n->n_output || !n->output[i][0])
        return onnx_fail(ctx, MXU_ERR_FORMAT, "output %u is missing", i);
    /* registered up front (onnx_load.c): the table never moves during import */
    struct onnx_sym *s = onnx_sym_get(&ctx->syms, n->output[i], 0);
    if (!s)
        return onnx_fail(ctx, MXU_ERR_INVAL, "output '%.60s' was not registered", n->output[i]);
    if (s->kind != ONNX_SYM_NONE)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "output '%.60s' is defined twice", s->name);
    *out = s;
    return MXU_OK;
}

int onnx_output_const(struct onnx_ctx *ctx, uint32_t i, struct onnx_const *c)
{
    struct onnx_sym *y;
    int rc = onnx_output(ctx, i, &y);
    if (rc)
        return rc;
    y->kind = ONNX_SYM_CONST;
    y->c = c;
    return MXU_OK;
}

int onnx_output_used(struct onnx_ctx *ctx, uint32_t i)
{
    const Onnx__NodeProto *n = ctx->node;
    if (i >= n->n_output || !n->output[i][0])
        return 0;
    struct onnx_sym *s = onnx_sym_get(&ctx->syms, n->output[i], 0);
    return s && s->uses > 0;
}

/* ---- graph nodes ----------------------------------------------------------------- */

void onnx_graph_name(const mxu_graph *g, const char *s, char *buf)
{
    const size_t max = MXU_GRAPH_NAME_LEN - 1;
    size_t len = strlen(s);
    /* Long exporter names ("/features/features.10/Conv_output_0") differ at the end. */
    const char *start = len > max ? s + (len - max) : s;
    snprintf(buf, MXU_GRAPH_NAME_LEN, "%s", *start ? start : "v");
    for (unsigned k = 1; mxu_graph_find_value(g, buf) >= 0; k++) {
        char suffix[16];
        int sl = snprintf(suffix, sizeof suffix, "~%u", k);
        size_t keep = strlen(start) < max - (size_t)sl ? strlen(start) : max - (size_t)sl;
        snprintf(buf, MXU_GRAPH_NAME_LEN, "%.*s%s", (int)keep, start, suffix);
    }
}

int onnx_add_node(struct onnx_ctx *ctx, enum mxu_node_op op, const int *inputs, uint32_t n_inputs,
                  uint32_t ndims, const uint32_t *shape, mxu_node **node, struct onnx_sym **sym)
{
    uint64_t elems = 1;
    for (uint32_t i = 0; i < ndims; i++) {
        elems *= shape[i];
        if (elems == 0 || elems > ONNX_MAX_VALUE_ELEMS)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "a result of 0 or more than %llu elements",
                             (unsigned long long)ONNX_MAX_VALUE_ELEMS);
    }
    struct onnx_sym *s;
    int rc = onnx_output(ctx, 0, &s);
    if (rc)
        return rc;
    const char *label = ctx->node->name && ctx->node->name[0] ? ctx->node->name : s->name;
    char name[MXU_GRAPH_NAME_LEN];
    onnx_graph_name(ctx->g, label, name);
    mxu_node *n;
    rc = mxu_graph_add_node(ctx->g, op, name, ctx->node_index + 1, inputs, n_inputs, &n);
    if (rc)
        return rc;
    s->kind = ONNX_SYM_VALUE;
    s->value = n->output;
    s->ndims = ndims;
    memcpy(s->shape, shape, ndims * sizeof *shape);
    s->qdomain = 0;
    s->chw_flat = 0;
    s->foldable_node = -1;
    if (node)
        *node = n;
    if (sym)
        *sym = s;
    return MXU_OK;
}

void onnx_alias(struct onnx_sym *out, const struct onnx_sym *in)
{
    const char *name = out->name;
    uint32_t uses = out->uses;
    *out = *in;
    out->name = name;
    out->uses = uses;
    out->foldable_node = -1;
}
