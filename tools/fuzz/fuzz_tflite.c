/* libFuzzer target: the TFLite frontend (mxu_tflite_load_buffer) on arbitrary
 * bytes, then shape inference on whatever loads. Anything but a clean status
 * (a crash, a sanitizer report, a leak) is a bug. Built and run by `make fuzz`
 * (mk/tflite.mk), seeded with the committed models in models/tflite. */
#include <stddef.h>
#include <stdint.h>

#include "mxu_compiler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mxu_graph *g = NULL;
    if (mxu_tflite_load_buffer(data, size, "fuzz.tflite", &g) == MXU_OK) {
        (void)mxu_graph_infer_shapes(g);
        mxu_graph_free(g);
    }
    return 0;
}
