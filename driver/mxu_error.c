#include "mxu_error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char detail[512];

const char *mxu_strerror(int status)
{
    switch (status) {
    case MXU_OK: return "success";
    case MXU_ERR_NOMEM: return "out of memory";
    case MXU_ERR_INVAL: return "invalid argument";
    case MXU_ERR_IO: return "I/O error";
    case MXU_ERR_FORMAT: return "malformed input";
    case MXU_ERR_UNSUPPORTED: return "unsupported";
    case MXU_ERR_DEVICE: return "device error";
    case MXU_ERR_TIMEOUT: return "timeout";
    case MXU_ERR_CONFIG: return "configuration mismatch";
    case MXU_ERR_RANGE: return "out of range";
    case MXU_ERR_NOT_FOUND: return "not found";
    case MXU_ERR_BACKEND: return "backend unavailable";
    case MXU_ERR_MISMATCH: return "mismatch";
    case MXU_ERR_LINK: return "host link error";
    case MXU_ERR_USB: return "USB error";
    case MXU_ERR_LIMIT: return "exceeds a hardware limit";
    }
    return "unknown error";
}

const char *mxu_error_detail(void)
{
    return detail;
}

int mxu_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return status;
}

void mxu_clear_error(void)
{
    detail[0] = 0;
}
