/* mxu_model_load: the frontend by file extension. */
#include <string.h>
#include <strings.h>

#include "mxu_compiler.h"

static int has_extension(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && !strcasecmp(path + n - e, ext);
}

int mxu_model_load(const char *path, const char *weights_path, mxu_graph **out)
{
    if (!path || !out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_model_load: missing argument");
    *out = NULL;
    if (has_extension(path, ".cfg"))
        return mxu_darknet_load(path, weights_path, out);
    if (weights_path)
        return mxu_fail(MXU_ERR_INVAL, "%s: a separate weights file is only read for Darknet .cfg "
                        "models", path);
    if (has_extension(path, ".onnx"))
        return mxu_onnx_load(path, out);
    if (has_extension(path, ".tflite"))
        return mxu_tflite_load(path, out);
    return mxu_fail(MXU_ERR_UNSUPPORTED, "%s: unknown model format (expected .cfg, .onnx or .tflite)",
                    path);
}
