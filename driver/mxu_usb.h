/* The USB byte transport to a board: an FTDI FT232H, or channel A of an
 * FT2232H, in synchronous 245 FIFO mode, driven through libusb-1.0 by hand
 * (docs/usb.md says why not libftdi1).
 *
 *   mxu_usb *u;
 *   mxu_usb_options o = {.serial = "MXU00001"};
 *   if (mxu_usb_open(&o, &u) == MXU_OK) {
 *       mxu_usb_write(u, req, n, 1000);
 *       mxu_usb_read(u, buf, sizeof buf, &got, 1000);
 *       mxu_usb_close(u);
 *   }
 *
 * The transport is a plain byte pipe: the 2-byte modem-status header the chip
 * puts in front of every bulk IN packet is stripped, several IN transfers stay
 * in flight so the chip is always drained, writes return once queued (so the
 * caller's next packets follow without a round trip), and every call has a
 * deadline.
 * Failures: MXU_ERR_USB (unplugged, stalled endpoint, transfer error, no
 * permission), MXU_ERR_TIMEOUT (the board did not take or give bytes in time),
 * MXU_ERR_NOT_FOUND (no such board). After an unplug or a stall every later
 * call fails at once with the same detail. One handle is used by one thread. */
#ifndef MXU_USB_H
#define MXU_USB_H

#include <stddef.h>
#include <stdint.h>

#define MXU_USB_FTDI_VID 0x0403u
#define MXU_USB_FT232H_PID 0x6014u
#define MXU_USB_FT2232H_PID 0x6010u

/* One attached board as `mxu devices` lists it. Strings are "" when the
 * device could not be opened to read them (note says why). */
typedef struct mxu_usb_board {
    uint8_t bus, address;
    uint16_t vid, pid, bcd_device;
    char chip[16];         /* "FT232H", "FT2232H" */
    char serial[64];
    char manufacturer[64];
    char description[128]; /* the product string */
    char note[128];        /* e.g. "no permission to open (udev rule?)" */
} mxu_usb_board;

/* Every attached FT232H / FT2232H; *boards is malloc'ed (free() it), NULL
 * when none. */
int mxu_usb_list(mxu_usb_board **boards, size_t *count);

typedef struct mxu_usb_options {
    const char *serial;       /* NULL or "" = the only attached board */
    uint32_t latency_ms;      /* FTDI latency timer 1..255; 0 = 2 */
    uint32_t transfer_bytes;  /* bytes per bulk transfer, rounded up to packets; 0 = 16384 */
    uint32_t in_flight;       /* bulk IN transfers kept in flight, 1..16; 0 = 4 */
} mxu_usb_options;

typedef struct mxu_usb mxu_usb;

/* Find the board, claim channel A, reset the chip, bitmode 0x00 then 0x40
 * (synchronous FIFO), latency timer, RTS/CTS flow control, purge both FIFOs,
 * and start reading. */
int mxu_usb_open(const mxu_usb_options *o, mxu_usb **out);
/* Cancels what is in flight, leaves the chip in reset bitmode. NULL is fine. */
void mxu_usb_close(mxu_usb *u);

/* Queue len bytes for the board and return once they are all in submitted
 * bulk OUT transfers (up to 4 x 16 KiB in flight; waits for a free one). Each
 * transfer must be taken by the board within timeout_ms (0 = 1000); one that
 * is not is reported by the next call (MXU_ERR_TIMEOUT, saying how many bytes
 * the board took). */
int mxu_usb_write(mxu_usb *u, const void *buf, size_t len, int timeout_ms);

/* Wait until every written byte was taken by the board (at most timeout_ms,
 * 0 = 1000). */
int mxu_usb_flush(mxu_usb *u, int timeout_ms);

/* Read what has arrived, up to cap bytes, waiting at most timeout_ms for the
 * first byte: MXU_OK with *got >= 1, or MXU_ERR_TIMEOUT with *got = 0.
 * timeout_ms = 0 only collects what is already there (MXU_OK, *got may be 0). */
int mxu_usb_read(mxu_usb *u, void *buf, size_t cap, size_t *got, int timeout_ms);

/* The board that was opened. */
const mxu_usb_board *mxu_usb_board_info(const mxu_usb *u);

typedef struct mxu_usb_stats {
    uint64_t bytes_out, bytes_in;       /* payload bytes (headers stripped) */
    uint64_t transfers_out, transfers_in;
    uint64_t packets_in, status_only_packets;
} mxu_usb_stats;
void mxu_usb_get_stats(const mxu_usb *u, mxu_usb_stats *s);

/* Strip the 2-byte modem-status header from every max_packet chunk of one
 * completed bulk IN transfer (the last chunk may be short; a chunk of 2 bytes
 * or less carries no data). out may alias in. Returns the payload length;
 * *packets / *status_only (may be NULL) count the chunks. */
size_t mxu_usb_strip_status(const uint8_t *in, size_t len, size_t max_packet, uint8_t *out,
                            uint64_t *packets, uint64_t *status_only);

#endif
