/* C API of one Verilated mxu_top plus its DRAM, exported by
 * build/rtl/<config>/libmxu_rtl.so (sim/verilator/mxu_rtl.cpp is the C++ shim).
 * The driver's "rtl" backend dlopen()s the library and calls these functions
 * through dlsym; tools may also link it directly.
 *
 * The library is self-contained (no libmxu symbols): errors come back as NULL or
 * a negative value plus a message. One handle = one device; several handles (even
 * of different configurations, from different .so files) may live in one process
 * but a handle must only be used by one thread at a time.
 *
 * Clocking: every call that "runs a cycle" drives the inputs with the clock low,
 * evaluates, then raises the clock; the DRAM model (docs/simulation.md, "DRAM
 * timing") sees the request handshake of that rising edge. */
#ifndef MXU_RTL_H
#define MXU_RTL_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature or struct below changes; the backend refuses a
 * library built against another version. */
#define MXU_RTL_ABI_VERSION 2u

typedef struct mxu_rtl mxu_rtl;

typedef struct mxu_rtl_options {
    uint32_t dram_latency;  /* read latency in cycles, >= 1; 0 = MXU_DEFAULT_DRAM_LATENCY */
    uint32_t dram_bw;       /* bytes per cycle, 1..DRAM_BEAT_BYTES; 0 = the beat */
    const char *trace_path; /* FST file to write, NULL = no trace (the default) */
    uint64_t trace_from;    /* first traced cycle (cycle = rising edges since create) */
    uint64_t trace_to;      /* one past the last traced cycle; 0 = until destroy */
    uint32_t trace_depth;   /* hierarchy levels traced below TOP; 0 = all */
} mxu_rtl_options;

unsigned mxu_rtl_abi_version(void);

/* The parameters the library was built with (what its ID/config CSRs must report). */
void mxu_rtl_config(mxu_hw_config *cfg);

/* 1 when the library was built with FST tracing support. */
int mxu_rtl_has_trace(void);

/* Create a device (held in reset for a few cycles, then released) with zeroed
 * DRAM of cfg.dram_bytes bytes. opt may be NULL (defaults). On failure returns
 * NULL and writes a message to err (if errlen > 0). */
mxu_rtl *mxu_rtl_create(const mxu_rtl_options *opt, char *err, size_t errlen);
void mxu_rtl_destroy(mxu_rtl *r);

/* Pulse rst_ni low for a few cycles; resets the DRAM model's timing state too
 * (not the DRAM contents). */
void mxu_rtl_reset(mxu_rtl *r);

/* The DRAM array, *bytes = its size. The host may read and write it directly
 * between calls (it is the device's memory, not a copy). */
uint8_t *mxu_rtl_dram(mxu_rtl *r, size_t *bytes);

/* CSR access: drives the CSR port for one cycle (valid, write, addr, wdata).
 * A read samples csr_rdata_o before the rising edge. */
uint32_t mxu_rtl_csr_read(mxu_rtl *r, uint32_t addr);
void mxu_rtl_csr_write(mxu_rtl *r, uint32_t addr, uint32_t value);

/* Run until done_o is high after a rising edge or max_cycles cycles have run
 * (0 = no limit); returns the cycles run. Returns 0 at once when done_o is
 * already high. */
uint64_t mxu_rtl_run(mxu_rtl *r, uint64_t max_cycles);

/* Run exactly n cycles with idle CSR inputs. */
void mxu_rtl_step(mxu_rtl *r, uint64_t n);

/* Rising edges since create. */
uint64_t mxu_rtl_cycle(const mxu_rtl *r);

/* Output pins: bit 0 busy_o, bit 1 done_o, bit 2 error_o (as STATUS). */
uint32_t mxu_rtl_pins(mxu_rtl *r);

/* Non-zero once the simulation went wrong: the Verilog ran $finish, $stop or
 * $fatal (mxu_rtl_run stops then), or the core addressed DRAM outside the
 * array or off a beat boundary (a bug: the decoder's range checks should
 * prevent it). msg gets the first such event. */
int mxu_rtl_fault(const mxu_rtl *r, char *msg, size_t len);

#ifdef __cplusplus
}
#endif

#endif
