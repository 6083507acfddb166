/* ONNX model builder for the tests (test_onnx_build.h). */
#include <stdlib.h>
#include <string.h>

#include "compiler/test_onnx_build.h"

struct tob {
    void **allocs;
    size_t n_allocs, cap_allocs;
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    uint8_t *packed;
};

/* Zeroed memory owned by the builder (abort on exhaustion: tests only). */
static void *tob_alloc(tob *b, size_t bytes)
{
    if (b->n_allocs == b->cap_allocs) {
        b->cap_allocs = b->cap_allocs ? 2 * b->cap_allocs : 64;
        b->allocs = realloc(b->allocs, b->cap_allocs * sizeof *b->allocs);
        if (!b->allocs)
            abort();
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p)
        abort();
    b->allocs[b->n_allocs++] = p;
    return p;
}

static char *tob_strdup(tob *b, const char *s)
{
    char *d = tob_alloc(b, strlen(s) + 1);
    memcpy(d, s, strlen(s));
    return d;
}

/* Append to a protobuf-c repeated pointer field. */
#define TOB_PUSH(b, count, array, item)                                                          \
    do {                                                                                         \
        void **grown_ = tob_alloc((b), ((count) + 1) * sizeof(void *));                          \
        if (count)                                                                               \
            memcpy(grown_, (array), (count) * sizeof(void *));                                   \
        grown_[(count)] = (item);                                                                \
        (array) = (void *)grown_;                                                                \
        (count)++;                                                                               \
    } while (0)

tob *tob_new(int64_t opset)
{
    tob *b = calloc(1, sizeof *b);
    if (!b)
        abort();
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    onnx__operator_set_id_proto__init(&b->opset);
    b->opset.domain = "";
    b->opset.has_version = 1;
    b->opset.version = opset;
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.graph = &b->graph;
    b->graph.name = "test";
    TOB_PUSH(b, b->model.n_opset_import, b->model.opset_import, &b->opset);
    return b;
}

void tob_free(tob *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_allocs; i++)
        free(b->allocs[i]);
    free(b->allocs);
    free(b->packed);
    free(b);
}

void tob_input(tob *b, const char *name, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = tob_alloc(b, sizeof *vi);
    Onnx__TypeProto *t = tob_alloc(b, sizeof *t);
    Onnx__TypeProto__Tensor *tt = tob_alloc(b, sizeof *tt);
    Onnx__TensorShapeProto *sh = tob_alloc(b, sizeof *sh);
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    vi->name = tob_strdup(b, name);
    vi->type = t;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = 1;
    tt->shape = sh;
    for (int i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = tob_alloc(b, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if (dims[i] >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[i];
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = "N";
        }
        TOB_PUSH(b, sh->n_dim, sh->dim, d);
    }
    TOB_PUSH(b, b->graph.n_input, b->graph.input, vi);
}

void tob_output(tob *b, const char *name)
{
    Onnx__ValueInfoProto *vi = tob_alloc(b, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = tob_strdup(b, name);
    TOB_PUSH(b, b->graph.n_output, b->graph.output, vi);
}

static Onnx__TensorProto *new_tensor(tob *b, const char *name, int32_t type, int rank,
                                     const int64_t *dims, size_t *count)
{
    Onnx__TensorProto *t = tob_alloc(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = tob_strdup(b, name);
    t->has_data_type = 1;
    t->data_type = type;
    t->n_dims = (size_t)rank;
    t->dims = tob_alloc(b, (size_t)rank * sizeof *t->dims);
    *count = 1;
    for (int i = 0; i < rank; i++) {
        t->dims[i] = dims[i];
        *count *= (size_t)dims[i];
    }
    TOB_PUSH(b, b->graph.n_initializer, b->graph.initializer, t);
    return t;
}

Onnx__TensorProto *tob_init_f(tob *b, const char *name, int rank, const int64_t *dims,
                              const float *data)
{
    size_t n;
    Onnx__TensorProto *t = new_tensor(b, name, 1, rank, dims, &n);
    uint8_t *raw = tob_alloc(b, n * 4);
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &data[i], 4);
        for (int k = 0; k < 4; k++)
            raw[4 * i + k] = (uint8_t)(u >> (8 * k));
    }
    t->has_raw_data = 1;
    t->raw_data.len = n * 4;
    t->raw_data.data = raw;
    return t;
}

Onnx__TensorProto *tob_init_typed_f(tob *b, const char *name, int rank, const int64_t *dims,
                                    const float *data)
{
    size_t n;
    Onnx__TensorProto *t = new_tensor(b, name, 1, rank, dims, &n);
    t->n_float_data = n;
    t->float_data = tob_alloc(b, n * sizeof(float));
    memcpy(t->float_data, data, n * sizeof(float));
    return t;
}

Onnx__TensorProto *tob_init_i64(tob *b, const char *name, int rank, const int64_t *dims,
                                const int64_t *data)
{
    size_t n;
    Onnx__TensorProto *t = new_tensor(b, name, 7, rank, dims, &n);
    t->n_int64_data = n;
    t->int64_data = tob_alloc(b, n * sizeof(int64_t));
    memcpy(t->int64_data, data, n * sizeof(int64_t));
    return t;
}

Onnx__TensorProto *tob_init_i32(tob *b, const char *name, int32_t elem, int rank,
                                const int64_t *dims, const int32_t *data)
{
    size_t n;
    Onnx__TensorProto *t = new_tensor(b, name, elem, rank, dims, &n);
    t->n_int32_data = n;
    t->int32_data = tob_alloc(b, n * sizeof(int32_t));
    memcpy(t->int32_data, data, n * sizeof(int32_t));
    return t;
}

void tob_scalar(tob *b, const char *name, float v)
{
    tob_init_f(b, name, 0, NULL, &v);
}

Onnx__NodeProto *tob_node(tob *b, const char *op, const char *name, const char *const *in,
                          const char *out)
{
    Onnx__NodeProto *n = tob_alloc(b, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = tob_strdup(b, op);
    n->name = tob_strdup(b, name);
    for (; in && *in; in++) {
        char *s = tob_strdup(b, *in);
        TOB_PUSH(b, n->n_input, n->input, s);
    }
    if (out)
        tob_node_output(b, n, out);
    TOB_PUSH(b, b->graph.n_node, b->graph.node, n);
    return n;
}

void tob_node_output(tob *b, Onnx__NodeProto *n, const char *out)
{
    char *s = tob_strdup(b, out);
    TOB_PUSH(b, n->n_output, n->output, s);
}

static Onnx__AttributeProto *new_attr(tob *b, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = tob_alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = tob_strdup(b, name);
    a->has_type = 1;
    a->type = type;
    TOB_PUSH(b, n->n_attribute, n->attribute, a);
    return a;
}

void tob_attr_i(tob *b, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = new_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void tob_attr_f(tob *b, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a = new_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void tob_attr_ints(tob *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v)
{
    Onnx__AttributeProto *a = new_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = tob_alloc(b, (size_t)count * sizeof *a->ints);
    memcpy(a->ints, v, (size_t)count * sizeof *a->ints);
}

void tob_attr_s(tob *b, Onnx__NodeProto *n, const char *name, const char *v)
{
    Onnx__AttributeProto *a = new_attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)tob_strdup(b, v);
}

void tob_meta(tob *b, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *e = tob_alloc(b, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = tob_strdup(b, key);
    e->value = tob_strdup(b, value);
    TOB_PUSH(b, b->model.n_metadata_props, b->model.metadata_props, e);
}

Onnx__ModelProto *tob_model(tob *b)
{
    return &b->model;
}

const uint8_t *tob_pack(tob *b, size_t *len)
{
    free(b->packed);
    *len = onnx__model_proto__get_packed_size(&b->model);
    b->packed = malloc(*len ? *len : 1);
    if (!b->packed)
        abort();
    onnx__model_proto__pack(&b->model, b->packed);
    return b->packed;
}

float tob_pattern(size_t i)
{
    return (float)i + 0.5f;
}
