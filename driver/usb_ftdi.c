/* FTDI FT232H / FT2232H (channel A) in synchronous 245 FIFO mode over
 * libusb-1.0: discovery, chip set-up, and a byte pipe built from
 * asynchronous bulk transfers (mxu_usb.h). */
#include <libusb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxu_error.h"
#include "mxu_usb.h"

/* FTDI vendor requests (bmRequestType 0x40), wIndex = channel. */
enum { FTDI_REQ_RESET = 0x00, FTDI_REQ_SET_FLOW = 0x02, FTDI_REQ_SET_LATENCY = 0x09, FTDI_REQ_SET_BITMODE = 0x0B };
enum { FTDI_RESET_SIO = 0, FTDI_PURGE_RX = 1, FTDI_PURGE_TX = 2 };
enum { FTDI_BITMODE_RESET = 0x00, FTDI_BITMODE_SYNC_FIFO = 0x40 };
#define FTDI_FLOW_RTS_CTS 0x0100u
#define FTDI_CHANNEL_A 1u
#define FTDI_INTERFACE_A 0
#define FTDI_EP_IN 0x81u
#define FTDI_EP_OUT 0x02u
#define FTDI_STATUS_BYTES 2u

#define CONTROL_TIMEOUT_MS 1000u
#define CLOSE_TIMEOUT_MS 1000
#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_XFER_BYTES 16384u
#define DEFAULT_IN_FLIGHT 4u
#define MAX_IN_FLIGHT 16u
#define OUT_IN_FLIGHT 4u
#define EVENT_SLICE_MS 50

struct xfer {
    struct libusb_transfer *t;
    struct mxu_usb *u;
    int busy; /* submitted, callback not run yet */
};

struct mxu_usb {
    libusb_context *ctx;
    libusb_device_handle *h;
    mxu_usb_board board;
    int claimed;
    size_t max_packet, xfer_bytes;
    struct xfer in[MAX_IN_FLIGHT];
    unsigned n_in;
    struct xfer out[OUT_IN_FLIGHT];
    uint8_t *rx; /* received payload not read yet: rx[rx_head, rx_head + rx_len) */
    size_t rx_head, rx_len, rx_cap;
    int closing;
    int fatal; /* sticky: once set every call fails with fatal_msg */
    int unplugged;
    unsigned stalled_ep; /* endpoint whose halt is still to be cleared (0 = none) */
    char fatal_msg[300];
    int out_error; /* a write failed after it returned: reported once by the next call */
    char out_msg[200];
    int out_timeout_ms;      /* the last write's timeout: longest wait without OUT progress */
    long long out_progress;  /* when an OUT transfer last completed (or the queue started) */
    mxu_usb_stats stats;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *chip_name(uint16_t vid, uint16_t pid)
{
    if (vid != MXU_USB_FTDI_VID)
        return NULL;
    return pid == MXU_USB_FT232H_PID ? "FT232H" : pid == MXU_USB_FT2232H_PID ? "FT2232H" : NULL;
}

/* "FT232H MXU00001 (bus 1, address 2)" */
static const char *board_name(const mxu_usb_board *b, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s (bus %u, address %u)", b->chip, b->serial[0] ? " " : "", b->serial, b->bus,
             b->address);
    return buf;
}

/* ---- the pure part: modem-status headers --------------------------------- */

size_t mxu_usb_strip_status(const uint8_t *in, size_t len, size_t max_packet, uint8_t *out, uint64_t *packets,
                            uint64_t *status_only)
{
    size_t n = 0;
    for (size_t off = 0; off < len; off += max_packet) {
        size_t chunk = len - off < max_packet ? len - off : max_packet;
        if (packets)
            ++*packets;
        if (chunk <= FTDI_STATUS_BYTES) {
            if (status_only)
                ++*status_only;
            continue;
        }
        memmove(out + n, in + off + FTDI_STATUS_BYTES, chunk - FTDI_STATUS_BYTES);
        n += chunk - FTDI_STATUS_BYTES;
    }
    return n;
}

/* ---- failures -------------------------------------------------------------- */

/* The first failure sticks: "board FT232H S (bus 1, address 2)<what follows>". */
static void set_fatal(mxu_usb *u, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_fatal(mxu_usb *u, int status, const char *fmt, ...)
{
    if (u->fatal)
        return;
    char name[160];
    u->fatal = status;
    int n = snprintf(u->fatal_msg, sizeof u->fatal_msg, "board %s", board_name(&u->board, name, sizeof name));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->fatal_msg + n, sizeof u->fatal_msg - (size_t)n, fmt, ap);
    va_end(ap);
}

static void note_unplug(mxu_usb *u, const char *what)
{
    u->unplugged = 1;
    set_fatal(u, MXU_ERR_USB, " was unplugged (%s: no device)", what);
}

/* A libusb error code from a call (submit, control). */
static void note_usb_error(mxu_usb *u, int rc, const char *what)
{
    if (rc == LIBUSB_ERROR_NO_DEVICE)
        note_unplug(u, what);
    else
        set_fatal(u, MXU_ERR_USB, ": %s failed: %s", what, libusb_strerror((enum libusb_error)rc));
}

/* A transfer that ended badly (other than cancelled or timed out). */
static void note_transfer_failure(mxu_usb *u, struct libusb_transfer *t)
{
    const char *what = t->endpoint & 0x80 ? "bulk IN transfer" : "bulk OUT transfer";
    switch (t->status) {
    case LIBUSB_TRANSFER_NO_DEVICE:
        note_unplug(u, what);
        break;
    case LIBUSB_TRANSFER_STALL:
        if (!u->fatal)
            u->stalled_ep = t->endpoint;
        set_fatal(u, MXU_ERR_USB, ": %s: endpoint stalled", what);
        break;
    case LIBUSB_TRANSFER_OVERFLOW:
        set_fatal(u, MXU_ERR_USB, ": %s overflowed (the board sent more than the transfer holds)", what);
        break;
    default:
        set_fatal(u, MXU_ERR_USB, ": %s failed: transfer error", what);
        break;
    }
}

/* Clear a stalled endpoint (outside the callbacks: it is a synchronous
 * control request) and say so in the detail. */
static void clear_stall(mxu_usb *u)
{
    unsigned ep = u->stalled_ep;
    if (!ep)
        return;
    u->stalled_ep = 0;
    int rc = libusb_clear_halt(u->h, (unsigned char)ep);
    size_t n = strlen(u->fatal_msg);
    if (rc == 0)
        snprintf(u->fatal_msg + n, sizeof u->fatal_msg - n, " (endpoint 0x%02x; halt cleared)", ep);
    else
        snprintf(u->fatal_msg + n, sizeof u->fatal_msg - n, " (endpoint 0x%02x; clearing the halt failed: %s)", ep,
                 libusb_strerror((enum libusb_error)rc));
}

static int fail_fatal(mxu_usb *u)
{
    clear_stall(u);
    return mxu_fail(u->fatal, "usb: %s", u->fatal_msg);
}

/* ---- events ---------------------------------------------------------------- */

/* Handle libusb events for at most ms milliseconds (0 = what is pending). */
static void watch_out(mxu_usb *u);

static void pump(mxu_usb *u, long long ms)
{
    if (ms > EVENT_SLICE_MS)
        ms = EVENT_SLICE_MS;
    struct timeval tv = {0, ms > 0 ? (long)ms * 1000 : 0};
    int rc = libusb_handle_events_timeout_completed(u->ctx, &tv, NULL);
    if (rc < 0 && rc != LIBUSB_ERROR_INTERRUPTED)
        note_usb_error(u, rc, "event handling");
    clear_stall(u);
    watch_out(u);
}

/* ---- bulk IN: always several transfers in flight --------------------------- */

static int reserve_rx(mxu_usb *u, size_t more)
{
    if (u->rx_head && u->rx_head + u->rx_len + more > u->rx_cap) {
        memmove(u->rx, u->rx + u->rx_head, u->rx_len);
        u->rx_head = 0;
    }
    if (u->rx_len + more <= u->rx_cap)
        return 0;
    size_t cap = u->rx_cap ? u->rx_cap : 65536;
    while (cap < u->rx_len + more)
        cap *= 2;
    uint8_t *p = realloc(u->rx, cap);
    if (!p)
        return -1;
    u->rx = p;
    u->rx_cap = cap;
    return 0;
}

static void take_payload(mxu_usb *u, struct libusb_transfer *t)
{
    size_t len = (size_t)t->actual_length;
    if (!len)
        return;
    if (reserve_rx(u, len)) {
        set_fatal(u, MXU_ERR_NOMEM, ": receive buffer: out of memory");
        return;
    }
    uint8_t *dst = u->rx + u->rx_head + u->rx_len;
    size_t n = mxu_usb_strip_status(t->buffer, len, u->max_packet, dst, &u->stats.packets_in,
                                    &u->stats.status_only_packets);
    u->rx_len += n;
    u->stats.bytes_in += n;
}

static void submit_in(mxu_usb *u, struct xfer *x);

static void LIBUSB_CALL in_done(struct libusb_transfer *t)
{
    struct xfer *x = t->user_data;
    mxu_usb *u = x->u;
    x->busy = 0;
    u->stats.transfers_in++;
    take_payload(u, t); /* bytes that made it are part of the stream whatever the status */
    if (t->status == LIBUSB_TRANSFER_CANCELLED)
        return;
    if (t->status != LIBUSB_TRANSFER_COMPLETED) {
        note_transfer_failure(u, t);
        return;
    }
    if (!u->closing && !u->fatal)
        submit_in(u, x);
}

static void submit_in(mxu_usb *u, struct xfer *x)
{
    /* No timeout: an idle chip still completes transfers with status-only
     * packets every latency period. */
    libusb_fill_bulk_transfer(x->t, u->h, FTDI_EP_IN, x->t->buffer, (int)u->xfer_bytes, in_done, x, 0);
    int rc = libusb_submit_transfer(x->t);
    if (rc)
        note_usb_error(u, rc, "submitting a bulk IN transfer");
    else
        x->busy = 1;
}

/* ---- bulk OUT: a write returns once its bytes are in submitted transfers;
 * a transfer that fails later is reported by the next call ------------------ */

static void LIBUSB_CALL out_done(struct libusb_transfer *t)
{
    struct xfer *x = t->user_data;
    mxu_usb *u = x->u;
    x->busy = 0;
    u->out_progress = now_ms();
    u->stats.transfers_out++;
    u->stats.bytes_out += (uint64_t)t->actual_length;
    if ((t->status == LIBUSB_TRANSFER_COMPLETED && t->actual_length == t->length) || u->closing)
        return;
    if (t->status == LIBUSB_TRANSFER_COMPLETED || t->status == LIBUSB_TRANSFER_CANCELLED) {
        /* short, or taken back by watch_out: the first one tells how far it got */
        if (!u->out_error) {
            u->out_error = MXU_ERR_TIMEOUT;
            snprintf(u->out_msg, sizeof u->out_msg, "the board took %d of %d bytes, then none for %d ms (is the "
                     "FPGA reading the FIFO?)", t->actual_length, t->length, u->out_timeout_ms);
        }
        return;
    }
    note_transfer_failure(u, t);
}

static void cancel_all(struct xfer *xs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (xs[i].busy)
            libusb_cancel_transfer(xs[i].t);
}

static unsigned count_busy(const struct xfer *xs, unsigned n)
{
    unsigned busy = 0;
    for (unsigned i = 0; i < n; i++)
        busy += xs[i].busy;
    return busy;
}

/* Handle events (bounded) until no transfer of xs is in flight. */
static void drain(mxu_usb *u, struct xfer *xs, unsigned n, int ms)
{
    long long end = now_ms() + ms;
    while (count_busy(xs, n) && now_ms() < end)
        pump(u, end - now_ms());
}

/* Queued OUT transfers without progress for the write's timeout: take them
 * back (their callbacks record how far the board got). The timeout counts from
 * the last completion, not from each submission: a transfer may wait behind
 * others as long as the queue moves. */
static void watch_out(mxu_usb *u)
{
    if (count_busy(u->out, OUT_IN_FLIGHT) && now_ms() - u->out_progress > u->out_timeout_ms && !u->closing)
        cancel_all(u->out, OUT_IN_FLIGHT);
}

/* A sticky failure, or a write that failed after its call returned (once). */
static int pending_failure(mxu_usb *u)
{
    if (u->fatal)
        return fail_fatal(u);
    if (!u->out_error)
        return MXU_OK;
    int rc = mxu_fail(u->out_error, "usb: %s", u->out_msg);
    u->out_error = 0;
    return rc;
}

static struct xfer *free_out(mxu_usb *u)
{
    for (unsigned i = 0; i < OUT_IN_FLIGHT; i++)
        if (!u->out[i].busy)
            return &u->out[i];
    return NULL;
}

static int submit_out(mxu_usb *u, struct xfer *x, const uint8_t *data, size_t n)
{
    memcpy(x->t->buffer, data, n);
    if (!count_busy(u->out, OUT_IN_FLIGHT))
        u->out_progress = now_ms();
    /* no libusb timeout: watch_out times the queue as a whole */
    libusb_fill_bulk_transfer(x->t, u->h, FTDI_EP_OUT, x->t->buffer, (int)n, out_done, x, 0);
    int rc = libusb_submit_transfer(x->t);
    if (rc) {
        note_usb_error(u, rc, "submitting a bulk OUT transfer");
        return fail_fatal(u);
    }
    x->busy = 1;
    return MXU_OK;
}

int mxu_usb_write(mxu_usb *u, const void *buf, size_t len, int timeout_ms)
{
    int rc = pending_failure(u);
    const uint8_t *p = buf;
    u->out_timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
    for (size_t queued = 0; rc == MXU_OK && queued < len;) {
        struct xfer *x = free_out(u);
        if (x) {
            size_t n = len - queued < u->xfer_bytes ? len - queued : u->xfer_bytes;
            if ((rc = submit_out(u, x, p + queued, n)) == MXU_OK)
                queued += n;
        } else { /* all busy: wait for one (watch_out ends the wait if the board stopped) */
            pump(u, EVENT_SLICE_MS);
            rc = pending_failure(u);
        }
    }
    return rc;
}

int mxu_usb_flush(mxu_usb *u, int timeout_ms)
{
    int limit = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
    long long end = now_ms() + limit;
    while (count_busy(u->out, OUT_IN_FLIGHT) && !u->fatal && !u->out_error && now_ms() < end)
        pump(u, end - now_ms());
    int rc = pending_failure(u);
    if (rc == MXU_OK && count_busy(u->out, OUT_IN_FLIGHT))
        rc = mxu_fail(MXU_ERR_TIMEOUT, "usb: %u transfers still not taken by the board after %d ms",
                      count_busy(u->out, OUT_IN_FLIGHT), limit);
    return rc;
}

int mxu_usb_read(mxu_usb *u, void *buf, size_t cap, size_t *got, int timeout_ms)
{
    *got = 0;
    long long start = now_ms(), end = start + (timeout_ms > 0 ? timeout_ms : 0);
    if (!u->rx_len && !u->fatal)
        pump(u, 0);
    while (!u->rx_len && !u->fatal && now_ms() < end)
        pump(u, end - now_ms());
    size_t n = u->rx_len < cap ? u->rx_len : cap;
    if (n) {
        memcpy(buf, u->rx + u->rx_head, n);
        u->rx_head += n;
        u->rx_len -= n;
        if (!u->rx_len)
            u->rx_head = 0;
        *got = n;
        return MXU_OK;
    }
    int rc = pending_failure(u);
    if (rc || timeout_ms <= 0)
        return rc;
    return mxu_fail(MXU_ERR_TIMEOUT, "usb: no byte from the board in %lld ms", now_ms() - start);
}

/* ---- discovery ----------------------------------------------------------- */

static void read_string(libusb_device_handle *h, uint8_t index, char *dst, size_t len)
{
    dst[0] = 0;
    if (!index)
        return;
    int n = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)dst, (int)len);
    dst[n > 0 ? (n < (int)len ? n : (int)len - 1) : 0] = 0;
}

/* Fill b from dev; with an open handle h the strings too. */
static void describe(libusb_device *dev, const struct libusb_device_descriptor *d, libusb_device_handle *h,
                     mxu_usb_board *b)
{
    memset(b, 0, sizeof *b);
    b->bus = libusb_get_bus_number(dev);
    b->address = libusb_get_device_address(dev);
    b->vid = d->idVendor;
    b->pid = d->idProduct;
    b->bcd_device = d->bcdDevice;
    snprintf(b->chip, sizeof b->chip, "%s", chip_name(d->idVendor, d->idProduct));
    if (!h)
        return;
    read_string(h, d->iSerialNumber, b->serial, sizeof b->serial);
    read_string(h, d->iManufacturer, b->manufacturer, sizeof b->manufacturer);
    read_string(h, d->iProduct, b->description, sizeof b->description);
}

static void open_note(int rc, mxu_usb_board *b)
{
    if (rc == LIBUSB_ERROR_ACCESS)
        snprintf(b->note, sizeof b->note, "no permission to open it (install the udev rule: docs/fpga.md)");
    else
        snprintf(b->note, sizeof b->note, "cannot open it: %s", libusb_strerror((enum libusb_error)rc));
}

static int start_libusb(libusb_context **ctx)
{
    int rc = libusb_init(ctx);
    if (rc)
        return mxu_fail(MXU_ERR_USB, "usb: libusb_init failed: %s", libusb_strerror((enum libusb_error)rc));
    return MXU_OK;
}

static int by_bus_and_address(const void *a, const void *b)
{
    libusb_device *x = *(libusb_device *const *)a, *y = *(libusb_device *const *)b;
    int kx = libusb_get_bus_number(x) << 8 | libusb_get_device_address(x);
    int ky = libusb_get_bus_number(y) << 8 | libusb_get_device_address(y);
    return (kx > ky) - (kx < ky);
}

/* The attached devices in bus/address order (libusb's own order is the
 * kernel's), so listings and "several boards" messages are stable. */
static int device_list(libusb_context *ctx, libusb_device ***list, size_t *n)
{
    ssize_t count = libusb_get_device_list(ctx, list);
    if (count < 0)
        return mxu_fail(MXU_ERR_USB, "usb: cannot list USB devices: %s",
                        libusb_strerror((enum libusb_error)count));
    *n = (size_t)count;
    qsort(*list, *n, sizeof **list, by_bus_and_address);
    return MXU_OK;
}

int mxu_usb_list(mxu_usb_board **boards, size_t *count)
{
    *boards = NULL;
    *count = 0;
    libusb_context *ctx;
    libusb_device **list = NULL;
    size_t n = 0;
    int rc = start_libusb(&ctx);
    if (rc)
        return rc;
    if ((rc = device_list(ctx, &list, &n)))
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct libusb_device_descriptor d;
        if (libusb_get_device_descriptor(list[i], &d) || !chip_name(d.idVendor, d.idProduct))
            continue;
        mxu_usb_board *grown = realloc(*boards, (*count + 1) * sizeof **boards);
        if (!grown) {
            rc = mxu_fail(MXU_ERR_NOMEM, "usb: board list");
            goto out;
        }
        *boards = grown;
        libusb_device_handle *h = NULL;
        int orc = libusb_open(list[i], &h);
        describe(list[i], &d, h, &grown[*count]);
        if (orc)
            open_note(orc, &grown[*count]);
        else
            libusb_close(h);
        ++*count;
    }
out:
    if (rc) {
        free(*boards);
        *boards = NULL;
        *count = 0;
    }
    libusb_free_device_list(list, 1);
    libusb_exit(ctx);
    return rc;
}

/* The board to use: the one with the serial asked for, or the only one.
 * Leaves it open in u->h and described in u->board. */
static int find_board(mxu_usb *u, const char *serial)
{
    libusb_device **list = NULL;
    size_t n = 0, matches = 0, unopenable = 0;
    char seen[200] = "", note[128] = "";
    int rc = device_list(u->ctx, &list, &n);
    for (size_t i = 0; rc == MXU_OK && i < n; i++) {
        struct libusb_device_descriptor d;
        if (libusb_get_device_descriptor(list[i], &d) || !chip_name(d.idVendor, d.idProduct))
            continue;
        libusb_device_handle *h = NULL;
        mxu_usb_board b;
        int orc = libusb_open(list[i], &h);
        describe(list[i], &d, orc ? NULL : h, &b);
        if (orc) {
            open_note(orc, &b);
            snprintf(note, sizeof note, "%s", b.note);
            unopenable++;
            continue;
        }
        size_t k = strlen(seen);
        snprintf(seen + k, sizeof seen - k, "%s%s", k ? ", " : "", b.serial[0] ? b.serial : "(none)");
        if ((serial && strcmp(serial, b.serial)) || u->h) {
            matches += !serial || !strcmp(serial, b.serial);
            libusb_close(h);
            continue;
        }
        matches++;
        u->h = h;
        u->board = b;
    }
    libusb_free_device_list(list, 1);
    if (rc)
        return rc;
    if (matches > 1) {
        libusb_close(u->h);
        u->h = NULL;
        return mxu_fail(MXU_ERR_INVAL, "usb: %zu FTDI boards are attached (serials %s): pick one with usb:SERIAL",
                        matches, seen);
    }
    if (u->h)
        return MXU_OK;
    if (serial && seen[0])
        return mxu_fail(MXU_ERR_NOT_FOUND, "usb: no FTDI board with serial '%s' (attached: %s)", serial, seen);
    if (unopenable)
        return mxu_fail(MXU_ERR_USB, "usb: found %zu FTDI board%s but could not open %s: %s", unopenable,
                        unopenable > 1 ? "s" : "", unopenable > 1 ? "them" : "it", note);
    return mxu_fail(MXU_ERR_NOT_FOUND, "usb: no FT232H (0403:6014) or FT2232H (0403:6010) board attached%s%s",
                    serial ? " with serial " : "", serial ? serial : "");
}

/* ---- chip set-up --------------------------------------------------------------- */

/* One vendor request to channel A; index_high goes above the channel in wIndex. */
static int ftdi_request(mxu_usb *u, uint8_t request, uint16_t value, uint16_t index_high, const char *what)
{
    int rc = libusb_control_transfer(u->h, LIBUSB_REQUEST_TYPE_VENDOR | LIBUSB_RECIPIENT_DEVICE | LIBUSB_ENDPOINT_OUT,
                                     request, value, (uint16_t)(index_high | FTDI_CHANNEL_A), NULL, 0,
                                     CONTROL_TIMEOUT_MS);
    if (rc < 0) {
        char name[160];
        board_name(&u->board, name, sizeof name);
        if (rc == LIBUSB_ERROR_NO_DEVICE) {
            note_unplug(u, what);
            return fail_fatal(u);
        }
        return mxu_fail(MXU_ERR_USB, "usb: board %s: FTDI %s (request 0x%02x, value 0x%04x) failed: %s", name, what,
                        request, value, libusb_strerror((enum libusb_error)rc));
    }
    return MXU_OK;
}

static int setup_chip(mxu_usb *u, uint32_t latency_ms)
{
    char name[160];
    libusb_set_auto_detach_kernel_driver(u->h, 1); /* ftdi_sio; not supported = nothing to detach */
    int rc = libusb_claim_interface(u->h, FTDI_INTERFACE_A);
    if (rc)
        return mxu_fail(MXU_ERR_USB, "usb: cannot claim board %s: %s%s", board_name(&u->board, name, sizeof name),
                        libusb_strerror((enum libusb_error)rc),
                        rc == LIBUSB_ERROR_BUSY ? " (another program is using it)" : "");
    u->claimed = 1;
    int mps = libusb_get_max_packet_size(libusb_get_device(u->h), FTDI_EP_IN);
    u->max_packet = mps > (int)FTDI_STATUS_BYTES ? (size_t)mps : 512;
    const uint16_t mask = 0xFF; /* every data pin is FIFO data */
    /* The order of FTDI's AN_130: reset, bitmode 0x00 then 0x40, latency,
     * RTS/CTS flow control (no byte lost when the FPGA stalls), purge. */
    if ((rc = ftdi_request(u, FTDI_REQ_RESET, FTDI_RESET_SIO, 0, "reset")) ||
        (rc = ftdi_request(u, FTDI_REQ_SET_BITMODE, FTDI_BITMODE_RESET << 8 | mask, 0, "bitmode reset")) ||
        (rc = ftdi_request(u, FTDI_REQ_SET_BITMODE, FTDI_BITMODE_SYNC_FIFO << 8 | mask, 0, "bitmode sync FIFO")) ||
        (rc = ftdi_request(u, FTDI_REQ_SET_LATENCY, (uint16_t)latency_ms, 0, "latency timer")) ||
        (rc = ftdi_request(u, FTDI_REQ_SET_FLOW, 0, FTDI_FLOW_RTS_CTS, "flow control")) ||
        (rc = ftdi_request(u, FTDI_REQ_RESET, FTDI_PURGE_RX, 0, "purge RX")) ||
        (rc = ftdi_request(u, FTDI_REQ_RESET, FTDI_PURGE_TX, 0, "purge TX")))
        return rc;
    return MXU_OK;
}

static int alloc_transfers(mxu_usb *u, struct xfer *xs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        xs[i].u = u;
        if (!(xs[i].t = libusb_alloc_transfer(0)) || !(xs[i].t->buffer = malloc(u->xfer_bytes)))
            return mxu_fail(MXU_ERR_NOMEM, "usb: transfers");
    }
    return MXU_OK;
}

static void free_transfers(struct xfer *xs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (!xs[i].t || xs[i].busy) /* still owned by libusb: leak rather than crash */
            continue;
        free(xs[i].t->buffer);
        libusb_free_transfer(xs[i].t);
        xs[i].t = NULL;
    }
}

int mxu_usb_open(const mxu_usb_options *o, mxu_usb **out)
{
    static const mxu_usb_options defaults = {0};
    *out = NULL;
    if (!o)
        o = &defaults;
    uint32_t latency = o->latency_ms ? o->latency_ms : 2, in_flight = o->in_flight ? o->in_flight : DEFAULT_IN_FLIGHT;
    if (latency > 255 || in_flight > MAX_IN_FLIGHT || o->transfer_bytes > (1u << 20))
        return mxu_fail(MXU_ERR_INVAL, "usb: latency is 1..255 ms, in_flight 1..%u, transfer at most 1 MiB",
                        MAX_IN_FLIGHT);
    mxu_usb *u = calloc(1, sizeof *u);
    if (!u)
        return mxu_fail(MXU_ERR_NOMEM, "usb: handle");
    int rc = start_libusb(&u->ctx);
    if (rc) {
        free(u);
        return rc;
    }
    const char *serial = o->serial && o->serial[0] ? o->serial : NULL;
    if ((rc = find_board(u, serial)) || (rc = setup_chip(u, latency)))
        goto fail;
    size_t xfer = o->transfer_bytes ? o->transfer_bytes : DEFAULT_XFER_BYTES;
    u->xfer_bytes = (xfer + u->max_packet - 1) / u->max_packet * u->max_packet;
    u->n_in = in_flight;
    if ((rc = alloc_transfers(u, u->in, u->n_in)) || (rc = alloc_transfers(u, u->out, OUT_IN_FLIGHT)))
        goto fail;
    for (unsigned i = 0; i < u->n_in && !u->fatal; i++)
        submit_in(u, &u->in[i]);
    if (u->fatal) {
        rc = fail_fatal(u);
        goto fail;
    }
    *out = u;
    return MXU_OK;
fail:
    mxu_usb_close(u);
    return rc;
}

void mxu_usb_close(mxu_usb *u)
{
    if (!u)
        return;
    if (u->h && !u->fatal) /* what was written goes out first (bounded) */
        drain(u, u->out, OUT_IN_FLIGHT, CLOSE_TIMEOUT_MS);
    u->closing = 1;
    if (u->h) {
        cancel_all(u->in, u->n_in);
        cancel_all(u->out, OUT_IN_FLIGHT);
        drain(u, u->in, u->n_in, CLOSE_TIMEOUT_MS);
        drain(u, u->out, OUT_IN_FLIGHT, CLOSE_TIMEOUT_MS);
    }
    unsigned stuck = count_busy(u->in, u->n_in) + count_busy(u->out, OUT_IN_FLIGHT);
    if (u->claimed && !u->unplugged)
        libusb_control_transfer(u->h, LIBUSB_REQUEST_TYPE_VENDOR | LIBUSB_RECIPIENT_DEVICE | LIBUSB_ENDPOINT_OUT,
                                FTDI_REQ_SET_BITMODE, FTDI_BITMODE_RESET << 8 | 0xFF, FTDI_CHANNEL_A, NULL, 0,
                                CONTROL_TIMEOUT_MS);
    if (u->claimed)
        libusb_release_interface(u->h, FTDI_INTERFACE_A);
    free_transfers(u->in, MAX_IN_FLIGHT);
    free_transfers(u->out, OUT_IN_FLIGHT);
    if (u->h)
        libusb_close(u->h);
    if (stuck) /* transfers libusb still owns: leak them rather than free what they point to */
        return;
    libusb_exit(u->ctx);
    free(u->rx);
    free(u);
}

const mxu_usb_board *mxu_usb_board_info(const mxu_usb *u)
{
    return &u->board;
}

void mxu_usb_get_stats(const mxu_usb *u, mxu_usb_stats *s)
{
    *s = u->stats;
}
