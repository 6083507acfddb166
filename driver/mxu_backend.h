/* The backend interface: one function-pointer table per way of reaching a
 * device (C model, Verilator RTL, Icarus, USB board), in the manner of libusb's
 * OS backends. The device layer (mxu_device.c) owns the table of backends and
 * everything above raw CSR and memory access. */
#ifndef MXU_BACKEND_H
#define MXU_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_config.h"

struct mxu_backend_ops {
    const char *name; /* URI scheme: "model", "rtl", "icarus", "usb" */
    /* cfg: the configuration asked for (already validated); options: the
     * backend's own "key=value,..." (e.g. "latency=20,bw=8,trace=t.fst").
     * A backend whose hardware is fixed (usb) ignores cfg and reports its own
     * configuration through the ID/config CSRs. */
    int (*open)(const mxu_hw_config *cfg, const char *options, void **state);
    void (*close)(void *state);
    int (*csr_read)(void *state, uint32_t offset, uint32_t *value);
    int (*csr_write)(void *state, uint32_t offset, uint32_t value);
    int (*mem_write)(void *state, uint32_t addr, const void *data, size_t bytes);
    int (*mem_read)(void *state, uint32_t addr, void *data, size_t bytes);
    /* After CTRL.start: advance until STATUS.done, at most max_cycles device
     * cycles (0 = the backend's default limit). MXU_OK when done (whether or not
     * the device reports an error code), MXU_ERR_TIMEOUT when the limit hit. */
    int (*wait)(void *state, uint64_t max_cycles);
};

extern const struct mxu_backend_ops mxu_backend_model;
extern const struct mxu_backend_ops mxu_backend_rtl;
extern const struct mxu_backend_ops mxu_backend_icarus;
extern const struct mxu_backend_ops mxu_backend_usb;

#endif
