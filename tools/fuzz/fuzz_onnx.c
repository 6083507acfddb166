/* libFuzzer target: the ONNX frontend (mxu_onnx_load_buffer) on arbitrary bytes,
 * then shape inference on whatever loads. Anything but a clean status is a bug.
 * No base directory: external data is refused, so no file is touched.
 * Built and run by `make fuzz` (mk/onnx.mk), seeded with the test models. */
#include <stddef.h>
#include <stdint.h>

#include "mxu_compiler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mxu_graph *g = NULL;
    if (mxu_onnx_load_buffer(data, size, NULL, &g) == MXU_OK) {
        (void)mxu_graph_infer_shapes(g);
        mxu_graph_free(g);
    }
    return 0;
}
