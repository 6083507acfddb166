/* The simulated board link: a Verilated mxu_link_top (libmxu_rtl_link*.so,
 * built on demand like the rtl backend's libraries) whose host-link byte stream
 * is offered as a mxu_link_io. Every byte the client sends is fed to the RTL
 * link engine one per cycle (or at link_rate), every byte it answers comes back
 * the same way: the exact stream a board's FT245 FIFO would carry.
 *
 * Used by the rtl backend's link=1 option, the emulated board
 * (tools/emulate-board), the link benchmark and the tests: the one place that
 * loads a link library and drives its byte stream. Simulated time passes only
 * inside recv (waiting for an answer) and mxu_link_rtl_step; timeouts are
 * converted to cycles. */
#ifndef MXU_LINK_RTL_H
#define MXU_LINK_RTL_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_config.h"
#include "mxu_link.h"
#include "mxu_rtl.h"

typedef struct mxu_link_rtl mxu_link_rtl;

struct mxu_link_rtl_options {
    mxu_rtl_options sim;    /* DRAM timing, trace window, link_rate, link_tx_capacity */
    int fast_array;         /* the array's functional model (libmxu_rtl_link_fast.so) */
    uint32_t cycles_per_ms; /* simulated clock for timeouts; 0 = 100000 (100 MHz) */
    uint32_t noise_ppm;     /* fault injection: bit flips per million bytes, each direction */
    uint64_t noise_seed;
};

/* Load (building if needed) the link library for cfg and create the device.
 * MXU_ERR_BACKEND / MXU_ERR_CONFIG with a detail on failure. */
int mxu_link_rtl_open(const mxu_hw_config *cfg, const struct mxu_link_rtl_options *o, mxu_link_rtl **out);
void mxu_link_rtl_close(mxu_link_rtl *t);

/* The byte transport (valid while t lives). */
mxu_link_io mxu_link_rtl_io(mxu_link_rtl *t);

/* Let cycles pass (the link keeps moving bytes); returns the cycles run. */
uint64_t mxu_link_rtl_step(mxu_link_rtl *t, uint64_t cycles);

/* The raw FIFO side, for a harness that models the chip between host and
 * engine itself (the emulated board): bytes go in and come out exactly as the
 * engine takes and gives them, without noise and without waiting.
 * push: append to the engine's RX queue (MXU_ERR_NOMEM). pull: take what the
 * engine has sent. rx_pending / tx_pending: bytes queued each way. */
int mxu_link_rtl_push(mxu_link_rtl *t, const uint8_t *buf, size_t len);
size_t mxu_link_rtl_pull(mxu_link_rtl *t, uint8_t *buf, size_t cap);
size_t mxu_link_rtl_rx_pending(const mxu_link_rtl *t);
size_t mxu_link_rtl_tx_pending(const mxu_link_rtl *t);
uint64_t mxu_link_rtl_cycle(const mxu_link_rtl *t);

/* busy/done/error/link_error pins (mxu_rtl_pins). */
uint32_t mxu_link_rtl_pins(mxu_link_rtl *t);

/* MXU_OK, or MXU_ERR_BACKEND naming the simulation fault. */
int mxu_link_rtl_check(mxu_link_rtl *t);

/* The board's memory, for tests that check what arrived (not a way in). */
uint8_t *mxu_link_rtl_dram(mxu_link_rtl *t, size_t *bytes);

/* Bytes the engine took / sent, and bits the noise flipped. */
void mxu_link_rtl_counts(const mxu_link_rtl *t, uint64_t *to_device, uint64_t *to_host, uint64_t *flips);

#endif
