/* Faults the emulated board can inject (--fault KIND[,after=N][,every=N][,code=N]). */
#ifndef MXU_EMU_FAULT_H
#define MXU_EMU_FAULT_H

#include <stddef.h>
#include <stdint.h>

enum fault_kind {
    FAULT_NONE,
    FAULT_UNPLUG,       /* the board disappears: transfers end with "no device" */
    FAULT_STALL,        /* the bulk IN endpoint halts (until the host clears it) */
    FAULT_STALL_OUT,    /* the bulk OUT endpoint halts */
    FAULT_CORRUPT,      /* a byte to the host is changed (every=N: every Nth byte) */
    FAULT_CORRUPT_OUT,  /* a byte from the host is changed on its way to the FPGA */
    FAULT_DEVICE_ERROR, /* the device answers a request with an error code */
    FAULT_HANG,         /* the FPGA stops: no byte taken or given, the chip still idles */
};

struct fault {
    enum fault_kind kind;
    uint64_t after; /* fires once the host has sent this many bytes (corrupt: the
                       position in the stream of the direction concerned) */
    uint64_t every; /* corrupt: repeat period in bytes; 0 = once */
    unsigned code;  /* device-error: the STATUS of the answer (docs/link.md) */
};

/* Parse "unplug", "corrupt,after=100,every=50", ...; non-zero with err filled
 * on a bad spec. */
int fault_parse(const char *spec, struct fault *f, char *err, size_t len);
const char *fault_name(enum fault_kind kind);

/* Whether byte number pos (0-based) of a stream is corrupted by f for that
 * direction (to_host: device -> host). */
int fault_corrupts(const struct fault *f, int to_host, uint64_t pos);

#endif
