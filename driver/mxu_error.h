/* One error-code space for the whole library: negative codes, 0 = success.
 * Every failing call also leaves a human-readable detail (thread-local) that
 * names what was wrong: the file and offset, the field, the layer and line. */
#ifndef MXU_ERROR_H
#define MXU_ERROR_H

enum mxu_status {
    MXU_OK = 0,
    MXU_ERR_NOMEM = -1,       /* out of host memory */
    MXU_ERR_INVAL = -2,       /* invalid argument */
    MXU_ERR_IO = -3,          /* file or pipe I/O failed */
    MXU_ERR_FORMAT = -4,      /* malformed file: program, model, image, assembly */
    MXU_ERR_UNSUPPORTED = -5, /* valid input this version cannot handle */
    MXU_ERR_DEVICE = -6,      /* the device stopped with an error code */
    MXU_ERR_TIMEOUT = -7,     /* the device or link did not answer in time */
    MXU_ERR_CONFIG = -8,      /* program and device configurations disagree */
    MXU_ERR_RANGE = -9,       /* address or size outside device memory */
    MXU_ERR_NOT_FOUND = -10,  /* no such file, device, tensor or backend */
    MXU_ERR_BACKEND = -11,    /* a backend could not be started (simulator build, tool) */
    MXU_ERR_MISMATCH = -12,   /* results differ from the reference */
    MXU_ERR_LINK = -13,       /* host link: CRC, framing, protocol */
    MXU_ERR_USB = -14,        /* USB transfer failed or device unplugged */
    MXU_ERR_LIMIT = -15,      /* a shape exceeds a hardware limit */
};

/* Name of a status code ("invalid argument"); never NULL. */
const char *mxu_strerror(int status);

/* Detail of the last error set on this thread ("" if none). */
const char *mxu_error_detail(void);

/* Record a detail message and return `status` (for `return mxu_fail(...)`). */
int mxu_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Forget the last detail. */
void mxu_clear_error(void);

#endif
