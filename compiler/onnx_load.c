/* ONNX ModelProto -> mxu_graph: mxu_onnx_load and mxu_onnx_load_buffer.
 * Decoding is protobuf-c's (code generated from Debian's onnx.proto); this file
 * bounds the nesting first, then imports graph inputs, initializers, nodes (in
 * the model's topological order), outputs and the model's metadata. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_compiler.h"
#include "onnx_priv.h"

/* Largest model file read into memory (protobuf's own limit is 2 GiB). */
#define ONNX_MAX_FILE_BYTES ((size_t)2 << 30)

/* ---- nesting bound ------------------------------------------------------------------------ */

static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* 0 when sub-messages nest deeper than ONNX_MAX_NESTING (protobuf-c would recurse
 * that deep); malformed bytes pass here and are refused by the unpacker. */
static int nesting_ok(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len, int depth)
{
    if (depth > ONNX_MAX_NESTING)
        return 0;
    const uint8_t *end = p + len;
    while (p < end) {
        uint64_t tag, v;
        if (!read_varint(&p, end, &tag))
            return 1;
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &v))
                return 1;
            break;
        case 1:
        case 5: {
            size_t n = (tag & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return 1;
            p += n;
            break;
        }
        case 2: {
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return 1;
            const ProtobufCFieldDescriptor *f =
                (tag >> 3) <= 0x1fffffff ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
                                          : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !nesting_ok(f->descriptor, p, (size_t)v, depth + 1))
                return 0;
            p += v;
            break;
        }
        default:
            return 1;
        }
    }
    return 1;
}

/* ---- graph inputs and outputs ----------------------------------------------------------------- */

static int import_input(struct onnx_ctx *ctx, const Onnx__ValueInfoProto *vi)
{
    const char *name = vi->name ? vi->name : "";
    if (!name[0])
        return onnx_fail(ctx, MXU_ERR_FORMAT, "a graph input has no name");
    struct onnx_sym *s = onnx_sym_get(&ctx->syms, name, 1);
    if (!s)
        return onnx_fail(ctx, MXU_ERR_NOMEM, "name table");
    if (s->kind == ONNX_SYM_CONST) /* IR < 4 lists initializers as inputs too */
        return MXU_OK;
    if (s->kind != ONNX_SYM_NONE)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "graph input '%.60s' is listed twice", name);
    const Onnx__TypeProto *t = vi->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "graph input '%.60s' is not a tensor", name);
    const Onnx__TypeProto__Tensor *tt = t->tensor_type;
    if (!tt->has_elem_type || tt->elem_type != ONNX_FLOAT)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "graph input '%.60s' is %s (float only)", name,
                         onnx_dtype_name(tt->has_elem_type ? tt->elem_type : 0));
    if (!tt->shape || (tt->shape->n_dim != 4 && tt->shape->n_dim != 2))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "graph input '%.60s' has rank %zu (NCHW or "
                         "N x features only)", name, tt->shape ? tt->shape->n_dim : 0);
    uint32_t rank = (uint32_t)tt->shape->n_dim, d[4];
    uint64_t elems = 1;
    for (uint32_t i = 0; i < rank; i++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[i];
        int known = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                    dim->dim_value > 0;
        if (!known && i != 0)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "graph input '%.60s': dimension %u is not a "
                             "fixed size (only the batch may be symbolic)", name, i);
        if (known && dim->dim_value > (int64_t)ONNX_MAX_DIM)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "graph input '%.60s': dimension %lld", name,
                             (long long)dim->dim_value);
        d[i] = known ? (uint32_t)dim->dim_value : 1; /* symbolic batch: one image */
        elems *= d[i];
        if (elems > ONNX_MAX_VALUE_ELEMS)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "graph input '%.60s' is too large", name);
    }
    uint32_t nhwc[4] = {d[0], d[2], d[3], d[1]};
    char gname[MXU_GRAPH_NAME_LEN];
    onnx_graph_name(ctx->g, name, gname);
    int value;
    int rc = mxu_graph_add_value(ctx->g, gname, rank, rank == 4 ? nhwc : d, &value);
    if (!rc)
        rc = mxu_graph_add_input(ctx->g, value);
    if (rc)
        return rc;
    s->kind = ONNX_SYM_VALUE;
    s->value = value;
    s->ndims = rank;
    memcpy(s->shape, d, sizeof d);
    return MXU_OK;
}

static int import_outputs(struct onnx_ctx *ctx)
{
    const Onnx__GraphProto *gp = ctx->graph;
    if (gp->n_output == 0)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "the graph has no outputs");
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name ? gp->output[i]->name : "";
        struct onnx_sym *s = name[0] ? onnx_sym_get(&ctx->syms, name, 0) : NULL;
        if (!s || s->kind == ONNX_SYM_NONE)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "graph output '%.60s' is not computed", name);
        if (s->kind == ONNX_SYM_CONST)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "graph output '%.60s' is a constant", name);
        if (s->chw_flat)
            return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "graph output '%.60s' is an NCHW tensor "
                             "flattened in C,H,W order", name);
        int rc = mxu_graph_add_output(ctx->g, s->value);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

/* ---- metadata: preprocessing, float accuracy, class names ---------------------------------- */

/* "a,b,c": 1 to 4 floats (one is used for every channel). */
static int parse_floats(const char *s, float *out)
{
    int n = 0;
    for (;;) {
        char *end;
        errno = 0;
        float v = strtof(s, &end);
        if (end == s || errno || !isfinite(v) || n == 4)
            return -1;
        out[n++] = v;
        while (*end == ' ')
            end++;
        if (!*end)
            break;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
    for (int i = n; n == 1 && i < 4; i++)
        out[i] = out[0];
    return n;
}

static int bad_meta(struct onnx_ctx *ctx, const char *key, const char *value)
{
    return onnx_fail(ctx, MXU_ERR_FORMAT, "metadata %s = '%.60s' is malformed", key, value);
}

static int import_meta(struct onnx_ctx *ctx, const char *key, const char *value)
{
    mxu_graph *g = ctx->g;
    float v[4];
    if (!strncmp(key, "mxu.preprocess.", 15)) {
        const char *what = key + 15;
        g->has_pre = 1;
        if (!strcmp(what, "scale")) {
            if (parse_floats(value, v) != 1 || !(v[0] > 0))
                return bad_meta(ctx, key, value);
            g->pre.scale = v[0];
        } else if (!strcmp(what, "mean") || !strcmp(what, "std")) {
            int n = parse_floats(value, v);
            if (n < 1)
                return bad_meta(ctx, key, value);
            float *dst = what[0] == 'm' ? g->pre.mean : g->pre.std;
            for (int i = 0; i < 4 && (i < n || n == 1); i++) {
                if (what[0] == 's' && !(v[i] > 0))
                    return bad_meta(ctx, key, value);
                dst[i] = v[i];
            }
        } else if (!strcmp(what, "order")) {
            if (strcmp(value, "rgb") && strcmp(value, "bgr"))
                return bad_meta(ctx, key, value);
            g->pre.bgr = !strcmp(value, "bgr");
        } /* other mxu.preprocess.* keys: from a newer writer, ignored */
    } else if (!strcmp(key, "mxu.float_accuracy")) {
        if (parse_floats(value, v) != 1 || !(v[0] > 0) || v[0] > 100)
            return bad_meta(ctx, key, value);
        g->float_accuracy = v[0] > 1 ? v[0] / 100 : v[0]; /* percent accepted too */
    } else if (!strcmp(key, "mxu.classes")) {
        if (strlen(value) < sizeof g->classes) /* longer lists are dropped: names only */
            snprintf(g->classes, sizeof g->classes, "%s", value);
    }
    return MXU_OK;
}

static int import_metadata(struct onnx_ctx *ctx)
{
    const Onnx__ModelProto *m = ctx->model;
    for (size_t i = 0; i < m->n_metadata_props; i++) {
        const char *key = m->metadata_props[i]->key ? m->metadata_props[i]->key : "";
        const char *value = m->metadata_props[i]->value ? m->metadata_props[i]->value : "";
        int rc = import_meta(ctx, key, value);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

/* ---- nodes ---------------------------------------------------------------------------------- */

static int standard_domain(const char *d)
{
    return !d || !d[0] || !strcmp(d, "ai.onnx");
}

static int find_opset(struct onnx_ctx *ctx)
{
    const Onnx__ModelProto *m = ctx->model;
    for (size_t i = 0; i < m->n_opset_import; i++)
        if (standard_domain(m->opset_import[i]->domain) && m->opset_import[i]->has_version) {
            ctx->opset = m->opset_import[i]->version;
            return MXU_OK;
        }
    return onnx_fail(ctx, MXU_ERR_FORMAT, "no opset version for the default domain");
}

static int import_node(struct onnx_ctx *ctx, uint32_t index)
{
    const Onnx__NodeProto *n = ctx->graph->node[index];
    ctx->node = n;
    ctx->node_index = index;
    const char *op = n->op_type ? n->op_type : "";
    if (!standard_domain(n->domain))
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "op %.40s of domain %.40s is not supported", op,
                         n->domain);
    onnx_op_fn fn = onnx_find_op(op);
    if (!fn)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "op type %.40s is not supported", op);
    for (size_t i = 0; i < n->n_input; i++) {
        if (!n->input[i][0])
            continue;
        struct onnx_sym *s = onnx_sym_get(&ctx->syms, n->input[i], 0);
        if (!s || s->kind == ONNX_SYM_NONE)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "input '%.60s' is not defined before this node",
                             n->input[i]);
    }
    if (n->n_output == 0)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "no outputs");
    return fn(ctx);
}

/* Readers of every name (node inputs and graph outputs), for bias folding. Every
 * node output gets its entry here too: no insertion (which may move the table)
 * happens while the nodes are imported with symbol pointers in hand. */
static int count_uses(struct onnx_ctx *ctx)
{
    const Onnx__GraphProto *gp = ctx->graph;
    for (size_t i = 0; i < gp->n_node; i++) {
        for (size_t k = 0; k < gp->node[i]->n_output; k++)
            if (gp->node[i]->output[k][0] && !onnx_sym_get(&ctx->syms, gp->node[i]->output[k], 1))
                return onnx_fail(ctx, MXU_ERR_NOMEM, "name table");
        for (size_t k = 0; k < gp->node[i]->n_input; k++) {
            if (!gp->node[i]->input[k][0])
                continue;
            struct onnx_sym *s = onnx_sym_get(&ctx->syms, gp->node[i]->input[k], 1);
            if (!s)
                return onnx_fail(ctx, MXU_ERR_NOMEM, "name table");
            s->uses++;
        }
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        struct onnx_sym *s = gp->output[i]->name ? onnx_sym_get(&ctx->syms, gp->output[i]->name, 1)
                                                 : NULL;
        if (s)
            s->uses++;
    }
    return MXU_OK;
}

static int import_initializers(struct onnx_ctx *ctx)
{
    const Onnx__GraphProto *gp = ctx->graph;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        if (!t->name || !t->name[0])
            return onnx_fail(ctx, MXU_ERR_FORMAT, "initializer %zu has no name", i);
        struct onnx_sym *s = onnx_sym_get(&ctx->syms, t->name, 1);
        if (!s)
            return onnx_fail(ctx, MXU_ERR_NOMEM, "name table");
        if (s->kind != ONNX_SYM_NONE)
            return onnx_fail(ctx, MXU_ERR_FORMAT, "initializer '%.60s' is defined twice", t->name);
        s->kind = ONNX_SYM_CONST;
        s->tensor = t;
    }
    if (gp->n_sparse_initializer)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "sparse initializers");
    return MXU_OK;
}

static int import_graph(struct onnx_ctx *ctx)
{
    const Onnx__GraphProto *gp = ctx->graph;
    int rc = find_opset(ctx);
    if (!rc)
        rc = onnx_symtab_init(&ctx->syms, gp->n_initializer + gp->n_input + 2 * gp->n_node + 8);
    if (rc)
        return rc == MXU_ERR_NOMEM ? onnx_fail(ctx, rc, "name table") : rc;
    if ((rc = import_initializers(ctx)))
        return rc;
    for (size_t i = 0; i < gp->n_input; i++)
        if ((rc = import_input(ctx, gp->input[i])))
            return rc;
    if (ctx->g->n_inputs == 0)
        return onnx_fail(ctx, MXU_ERR_FORMAT, "the graph has no inputs");
    if ((rc = count_uses(ctx)))
        return rc;
    if (gp->n_node > UINT32_MAX - 1)
        return onnx_fail(ctx, MXU_ERR_UNSUPPORTED, "too many nodes");
    for (uint32_t i = 0; i < gp->n_node; i++)
        if ((rc = import_node(ctx, i)))
            return rc;
    ctx->node = NULL;
    if ((rc = import_outputs(ctx)))
        return rc;
    return import_metadata(ctx);
}

static int import_model(const uint8_t *buf, size_t len, const char *base_dir, const char *source,
                        const char *name, mxu_graph **out)
{
    struct onnx_ctx ctx = {.base_dir = base_dir, .source = source};
    if (!nesting_ok(&onnx__model_proto__descriptor, buf, len, 0))
        return onnx_fail(&ctx, MXU_ERR_FORMAT, "messages nested deeper than %d levels",
                         ONNX_MAX_NESTING);
    Onnx__ModelProto *model = onnx__model_proto__unpack(NULL, len, buf);
    if (!model)
        return onnx_fail(&ctx, MXU_ERR_FORMAT, "not an ONNX model (protobuf decoding failed)");
    int rc = MXU_OK;
    ctx.model = model;
    ctx.graph = model->graph;
    if (!ctx.graph) {
        rc = onnx_fail(&ctx, MXU_ERR_FORMAT, "the model has no graph");
        goto out;
    }
    if ((rc = mxu_graph_new(name, &ctx.g)))
        goto out;
    snprintf(ctx.g->source, sizeof ctx.g->source, "%s", source);
    if ((rc = import_graph(&ctx)))
        goto out;
    *out = ctx.g;
    ctx.g = NULL;
out:
    mxu_graph_free(ctx.g);
    for (size_t i = 0; i < ctx.n_consts; i++)
        onnx_const_free(ctx.consts[i]);
    free(ctx.consts);
    onnx_symtab_free(&ctx.syms);
    onnx__model_proto__free_unpacked(model, NULL);
    return rc;
}

int mxu_onnx_load_buffer(const uint8_t *buf, size_t len, const char *base_dir, mxu_graph **out)
{
    if (!out || (!buf && len))
        return mxu_fail(MXU_ERR_INVAL, "mxu_onnx_load_buffer: no buffer or output pointer");
    *out = NULL;
    static const uint8_t empty[1];
    return import_model(buf ? buf : empty, len, base_dir, "<memory>", "onnx", out);
}

/* ---- files -------------------------------------------------------------------------------- */

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mxu_fail(errno == ENOENT ? MXU_ERR_NOT_FOUND : MXU_ERR_IO, "%s: %s", path,
                        strerror(errno));
    int rc = MXU_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = mxu_fail(MXU_ERR_IO, "%s: cannot determine the size", path);
        goto out;
    }
    if ((unsigned long)size > ONNX_MAX_FILE_BYTES) {
        rc = mxu_fail(MXU_ERR_UNSUPPORTED, "%s: %ld bytes (ONNX files are at most 2 GiB)", path,
                      size);
        goto out;
    }
    *buf = malloc(size ? (size_t)size : 1);
    if (!*buf) {
        rc = mxu_fail(MXU_ERR_NOMEM, "%s: %ld bytes", path, size);
        goto out;
    }
    if (fread(*buf, 1, (size_t)size, f) != (size_t)size) {
        free(*buf);
        *buf = NULL;
        rc = mxu_fail(MXU_ERR_IO, "%s: read failed", path);
        goto out;
    }
    *len = (size_t)size;
out:
    fclose(f);
    return rc;
}

int mxu_onnx_load(const char *path, mxu_graph **out)
{
    if (!path || !out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_onnx_load: no path or output pointer");
    *out = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, &buf, &len);
    if (rc)
        return rc;
    /* External data is relative to the model's directory; the graph is named
     * after the file (without directory and extension). */
    char dir[4096], name[MXU_GRAPH_NAME_LEN];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    size_t blen = strlen(base);
    if (blen > 5 && !strcmp(base + blen - 5, ".onnx"))
        blen -= 5;
    snprintf(name, sizeof name, "%.*s", (int)(blen < sizeof name - 1 ? blen : sizeof name - 1),
             base);
    rc = import_model(buf, len, dir, path, name, out);
    free(buf);
    return rc;
}
