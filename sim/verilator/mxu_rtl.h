/* C API of one Verilated mxu_top (or mxu_link_top) plus its DRAM, exported by
 * build/rtl/<config>/libmxu_rtl*.so (sim/verilator/mxu_rtl.cpp is the C++ shim).
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
 * timing") sees the request handshake of that rising edge.
 *
 * Two kinds of library share this API (mxu_rtl_features() tells them apart):
 *   libmxu_rtl[_trace|_native|_fast].so      top = mxu_top: the CSR port is driven
 *                                             directly (mxu_rtl_csr_read/write);
 *   libmxu_rtl_link[_fast|_trace].so          top = mxu_link_top: the device is reached
 *                                             only through its host-link byte stream
 *                                             (docs/link.md), as a board's FT245 FIFO
 *                                             carries it: mxu_rtl_link_send/recv/step.
 * Everything else (create, DRAM, run, step, pins, fault) works on both. */
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
#define MXU_RTL_ABI_VERSION 3u

typedef struct mxu_rtl mxu_rtl;

typedef struct mxu_rtl_options {
    uint32_t dram_latency;  /* read latency in cycles, >= 1; 0 = MXU_DEFAULT_DRAM_LATENCY */
    uint32_t dram_bw;       /* bytes per cycle, 1..DRAM_BEAT_BYTES; 0 = the beat */
    const char *trace_path; /* FST file to write, NULL = no trace (the default) */
    uint64_t trace_from;    /* first traced cycle (cycle = rising edges since create) */
    uint64_t trace_to;      /* one past the last traced cycle; 0 = until destroy */
    uint32_t trace_depth;   /* hierarchy levels traced below TOP; 0 = all */
    /* Link variant only (ignored by the others): */
    uint32_t link_rate;     /* bytes per 1000 cycles moved in each direction, 1..1000;
                               0 = 1000 (one byte every cycle). 400 models an FT232H's
                               ~40 MB/s against a 100 MHz core clock. */
    uint32_t link_tx_capacity; /* bytes the device->host queue holds before tx_ready_i
                               drops (the FTDI chip's TX buffer when the host does not
                               read); 0 = unlimited */
} mxu_rtl_options;

unsigned mxu_rtl_abi_version(void);

/* The parameters the library was built with (what its ID/config CSRs must report). */
void mxu_rtl_config(mxu_hw_config *cfg);

/* 1 when the library was built with FST tracing support. */
int mxu_rtl_has_trace(void);

/* What the library is: MXU_RTL_FEATURE_* bits. */
#define MXU_RTL_FEATURE_TRACE 1u /* FST tracing compiled in (= mxu_rtl_has_trace()) */
#define MXU_RTL_FEATURE_CSR 2u   /* the CSR port is reachable: mxu_rtl_csr_read/write */
#define MXU_RTL_FEATURE_LINK 4u  /* mxu_link_top: mxu_rtl_link_* carry the host link */
unsigned mxu_rtl_features(void);

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
 * A read samples csr_rdata_o before the rising edge. In a link library there
 * is no CSR port: a read returns 0, a write does nothing, and both record a
 * fault (mxu_rtl_fault) -- go through the link instead. */
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

/* Output pins: bit 0 busy_o, bit 1 done_o, bit 2 error_o (as STATUS), and in a
 * link library bit 3 link_error_o (sticky: a link error was answered since reset). */
#define MXU_RTL_PIN_LINK_ERROR 8u
uint32_t mxu_rtl_pins(mxu_rtl *r);

/* ---- the host link (link libraries only) -----------------------------------
 * The harness keeps one byte queue per direction between the host and the
 * device's byte-stream ports (mxu_link_top's rx_* and tx_*, docs/link.md):
 *
 *   host -> device  mxu_rtl_link_send() appends to the RX queue. In every cycle
 *                   the queue's head byte is driven on rx_data_i with rx_valid_i
 *                   and leaves the queue at the rising edge where rx_ready_o is
 *                   high (the FT245 side: RXF# low while the FTDI chip has data).
 *   device -> host  tx_ready_i is high while the TX queue holds fewer than
 *                   link_tx_capacity bytes; a byte with tx_valid_o & tx_ready_i
 *                   at a rising edge is appended to the TX queue, which
 *                   mxu_rtl_link_recv() drains (TXE#: room in the FTDI chip).
 *
 * At most one byte moves per direction per cycle (fewer with link_rate). Every
 * function that runs cycles (mxu_rtl_step, mxu_rtl_run, mxu_rtl_link_step)
 * moves link bytes too, so the device keeps talking while the host waits.
 * mxu_rtl_reset() holds the ports idle and empties both queues (like purging
 * the FTDI buffers). Nothing here blocks.
 * In a library without MXU_RTL_FEATURE_LINK these functions do nothing and
 * return 0 (send: -1). */

/* Queue len bytes for the device. Returns 0, or -1 when out of memory. */
int mxu_rtl_link_send(mxu_rtl *r, const uint8_t *data, size_t len);

/* Move up to cap bytes the device has sent into buf (oldest first); returns
 * how many. */
size_t mxu_rtl_link_recv(mxu_rtl *r, uint8_t *buf, size_t cap);

/* Bytes queued for the device that it has not taken yet. */
size_t mxu_rtl_link_rx_pending(const mxu_rtl *r);

/* Bytes the device has sent that mxu_rtl_link_recv has not taken yet. */
size_t mxu_rtl_link_tx_pending(const mxu_rtl *r);

/* Run at most max_cycles cycles (0 = none). With until_bytes > 0, stop early
 * after the first cycle that ends with at least until_bytes bytes in the TX
 * queue when the device has paused (no byte for 1000/link_rate cycles, one
 * cycle at full rate) or the queue is full (link_tx_capacity): a whole
 * response, or whatever arrived before the pause. Also stops when the
 * simulation faults. Returns the cycles run. */
uint64_t mxu_rtl_link_step(mxu_rtl *r, uint64_t max_cycles, size_t until_bytes);

/* Bytes moved since create: *to_device taken by the device from the RX queue,
 * *to_host put into the TX queue (either pointer may be NULL). */
void mxu_rtl_link_counts(const mxu_rtl *r, uint64_t *to_device, uint64_t *to_host);

/* Non-zero once the simulation went wrong: the Verilog ran $finish, $stop or
 * $fatal (mxu_rtl_run stops then), or the core addressed DRAM outside the
 * array or off a beat boundary (a bug: the decoder's range checks should
 * prevent it). msg gets the first such event. */
int mxu_rtl_fault(const mxu_rtl *r, char *msg, size_t len);

#ifdef __cplusplus
}
#endif

#endif
