/* Building small ONNX models in C for the ONNX frontend's tests: protobuf-c
 * structs (code generated from onnx.proto) filled field by field, so the tests
 * can make exactly the malformed or unusual models they need. Everything is
 * allocated in the builder and freed by tob_free. */
#ifndef MXU_TEST_ONNX_BUILD_H
#define MXU_TEST_ONNX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

typedef struct tob tob;

tob *tob_new(int64_t opset);
void tob_free(tob *b);
/* A float graph input (dims < 0: a symbolic dimension) / an output name. */
void tob_input(tob *b, const char *name, int rank, const int64_t *dims);
void tob_output(tob *b, const char *name);
/* Initializers: raw_data little-endian, or the typed fields. */
Onnx__TensorProto *tob_init_f(tob *b, const char *name, int rank, const int64_t *dims,
                              const float *data);
Onnx__TensorProto *tob_init_typed_f(tob *b, const char *name, int rank, const int64_t *dims,
                                    const float *data);
Onnx__TensorProto *tob_init_i64(tob *b, const char *name, int rank, const int64_t *dims,
                                const int64_t *data);
/* INT8/UINT8/INT32 values (elem = ONNX data type) in int32_data. */
Onnx__TensorProto *tob_init_i32(tob *b, const char *name, int32_t elem, int rank,
                                const int64_t *dims, const int32_t *data);
/* A scalar float initializer. */
void tob_scalar(tob *b, const char *name, float v);
/* A node with inputs (NULL-terminated list, "" = absent) and one output. */
Onnx__NodeProto *tob_node(tob *b, const char *op, const char *name, const char *const *in,
                          const char *out);
void tob_node_output(tob *b, Onnx__NodeProto *n, const char *out);
void tob_attr_i(tob *b, Onnx__NodeProto *n, const char *name, int64_t v);
void tob_attr_f(tob *b, Onnx__NodeProto *n, const char *name, float v);
void tob_attr_ints(tob *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
void tob_attr_s(tob *b, Onnx__NodeProto *n, const char *name, const char *v);
void tob_meta(tob *b, const char *key, const char *value);
/* The model: direct access for odd edits before packing. */
Onnx__ModelProto *tob_model(tob *b);
/* Serialize; the buffer is owned by the builder. */
const uint8_t *tob_pack(tob *b, size_t *len);

/* A pattern weight value: distinct for every index (exact in float). */
float tob_pattern(size_t i);

#endif
