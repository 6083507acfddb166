/* The "usb" backend: a board on an FTDI FT232H / FT2232H synchronous FIFO
 * (usb_ftdi.c), spoken to through the host link (link_client.c). The board's
 * configuration comes from its ID/config CSRs; the cfg asked for is ignored.
 *
 * URI: "usb:" (the only attached board), "usb:SERIAL", or options
 * "key=value,..." (after "usb:" or "usb:SERIAL:"):
 *   serial=S       the board's USB serial string
 *   timeout=MS     how long the link waits for an answer (default 1000)
 *   retries=N      how often a request is sent again (default 4)
 *   latency=MS     FTDI latency timer, 1..255 (default 2)
 *   transfer=B     bytes per bulk transfer (default 16384)
 *   in_flight=N    bulk IN transfers kept in flight, 1..16 (default 4)
 *   max_cycles=N   wait()'s limit when the caller gives none (default 4e9)
 * Configuration keys (rows=, cols=, ...) are accepted and ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend_sim.h"
#include "mxu_backend.h"
#include "mxu_error.h"
#include "mxu_isa.h"
#include "mxu_link.h"
#include "mxu_usb.h"

#define USB_DEFAULT_MAX_CYCLES 4000000000ull
#define CYCLE_CHECK_EVERY 16 /* STATUS polls between reads of the cycle counter */
/* wait() polls STATUS with a pause that grows with the time already waited
 * (1/POLL_BACKOFF of it, at most POLL_PAUSE_MAX_US): a short run is seen done
 * at once, a long one costs few polls and ends at most ~6% late. */
#define POLL_BACKOFF 16
#define POLL_PAUSE_MAX_US 20000

struct usb_state {
    mxu_usb *usb;
    mxu_link *link;
    uint64_t max_cycles;
};

struct usb_opts {
    char serial[64];
    mxu_usb_options usb;
    uint64_t timeout_ms, retries, max_cycles;
    int have_timeout, have_retries;
};

/* ---- the byte transport under the link ---------------------------------------- */

static int io_send(void *ctx, const uint8_t *buf, size_t len, int timeout_ms)
{
    return mxu_usb_write(ctx, buf, len, timeout_ms);
}

static int io_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, int timeout_ms)
{
    int rc = mxu_usb_read(ctx, buf, cap, got, timeout_ms > 0 ? timeout_ms : 1);
    return rc == MXU_OK && !*got ? mxu_fail(MXU_ERR_TIMEOUT, "usb: no byte from the board") : rc;
}

/* ---- options ------------------------------------------------------------------------ */

static int is_config_item(const char *item)
{
    mxu_hw_config scratch;
    mxu_config_default(&scratch);
    int rc = mxu_config_parse(&scratch, item);
    mxu_clear_error();
    return rc == MXU_OK;
}

static int set_serial(struct usb_opts *o, const char *s, size_t n)
{
    if (o->serial[0])
        return mxu_fail(MXU_ERR_INVAL, "usb: two serials given ('%s' and '%.*s')", o->serial, (int)n, s);
    if (!n || n >= sizeof o->serial)
        return mxu_fail(MXU_ERR_INVAL, "usb: serial '%.*s' is empty or too long", (int)n, s);
    snprintf(o->serial, sizeof o->serial, "%.*s", (int)n, s);
    return MXU_OK;
}

static int parse_item(struct usb_opts *o, const char *item)
{
    const char *eq = strchr(item, '=');
    if (!eq)
        return set_serial(o, item, strlen(item));
    if (is_config_item(item))
        return MXU_OK;
    char key[32];
    size_t klen = (size_t)(eq - item);
    snprintf(key, sizeof key, "%.*s", (int)(klen < sizeof key ? klen : sizeof key - 1), item);
    const char *val = eq + 1;
    uint64_t v = 0;
    int rc;
    if (!strcmp(key, "serial"))
        return set_serial(o, val, strlen(val));
    if (!strcmp(key, "timeout"))
        rc = mxu_sim_parse_u64("usb", key, val, 1, 3600000, &o->timeout_ms), o->have_timeout = 1;
    else if (!strcmp(key, "retries"))
        rc = mxu_sim_parse_u64("usb", key, val, 0, 100, &o->retries), o->have_retries = 1;
    else if (!strcmp(key, "latency"))
        rc = mxu_sim_parse_u64("usb", key, val, 1, 255, &v), o->usb.latency_ms = (uint32_t)v;
    else if (!strcmp(key, "transfer"))
        rc = mxu_sim_parse_u64("usb", key, val, 512, 1u << 20, &v), o->usb.transfer_bytes = (uint32_t)v;
    else if (!strcmp(key, "in_flight"))
        rc = mxu_sim_parse_u64("usb", key, val, 1, 16, &v), o->usb.in_flight = (uint32_t)v;
    else if (!strcmp(key, "max_cycles"))
        rc = mxu_sim_parse_u64("usb", key, val, 1, UINT64_MAX, &o->max_cycles);
    else
        return mxu_fail(MXU_ERR_INVAL, "usb: unknown option '%s' (serial, timeout, retries, latency, transfer, "
                        "in_flight, max_cycles)", key);
    return rc;
}

/* "SERIAL", "key=v,...", and both joined by ':' -- the URI "usb:SERIAL:rows=4,..."
 * or "usb:timeout=300:rows=4,..." arrives with ':' inside an item. A part
 * without '=' is the serial. */
static int parse_options(const char *options, struct usb_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_cycles = USB_DEFAULT_MAX_CYCLES;
    for (const char *p = options ? options : ""; *p;) {
        size_t n = strcspn(p, ",:");
        char item[256];
        if (n >= sizeof item)
            return mxu_fail(MXU_ERR_INVAL, "usb: option '%.40s...' too long", p);
        snprintf(item, sizeof item, "%.*s", (int)n, p);
        p += n + (p[n] != 0);
        int rc = item[0] ? parse_item(o, item) : MXU_OK;
        if (rc)
            return rc;
    }
    o->usb.serial = o->serial[0] ? o->serial : NULL;
    return MXU_OK;
}

/* ---- the backend ----------------------------------------------------------------------- */

static void usb_close(void *state)
{
    struct usb_state *s = state;
    if (!s)
        return;
    mxu_link_close(s->link);
    mxu_usb_close(s->usb);
    free(s);
}

static int usb_open(const mxu_hw_config *cfg, const char *options, void **state)
{
    (void)cfg; /* a board is what it is: device.c reads its configuration */
    struct usb_opts o;
    int rc = parse_options(options, &o);
    if (rc)
        return rc;
    struct usb_state *s = calloc(1, sizeof *s);
    if (!s)
        return mxu_fail(MXU_ERR_NOMEM, "usb: state");
    s->max_cycles = o.max_cycles;
    if ((rc = mxu_usb_open(&o.usb, &s->usb)))
        goto fail;
    mxu_link_io io = {.ctx = s->usb, .send = io_send, .recv = io_recv};
    /* timeout= and retries= hold from the first packet (the INFO exchange) on;
     * zero fields of the policy are the link's defaults */
    mxu_link_policy policy = {0};
    if (o.have_timeout)
        policy.timeout_ms = (int)o.timeout_ms;
    if (o.have_retries)
        policy.retries = o.retries ? (unsigned)o.retries : MXU_LINK_NO_RETRIES;
    if ((rc = mxu_link_open_with(&io, &policy, &s->link))) {
        if (rc == MXU_ERR_TIMEOUT || rc == MXU_ERR_LINK) {
            char detail[400];
            snprintf(detail, sizeof detail, "%s", mxu_error_detail());
            rc = mxu_fail(rc, "usb: board %s does not speak the mxu host link (is the FPGA programmed with the "
                          "mxu bitstream? docs/fpga.md): %s", mxu_usb_board_info(s->usb)->serial, detail);
        }
        goto fail;
    }
    *state = s;
    return MXU_OK;
fail:
    usb_close(s);
    return rc;
}

static int check_csr(uint32_t offset)
{
    if (offset % 4 || offset > 0xFFC)
        return mxu_fail(MXU_ERR_RANGE, "usb: CSR offset 0x%x is not a 32-bit register of the 4 KiB map", offset);
    return MXU_OK;
}

static int usb_csr_read(void *state, uint32_t offset, uint32_t *value)
{
    struct usb_state *s = state;
    int rc = check_csr(offset);
    return rc ? rc : mxu_link_csr_read(s->link, offset, value);
}

static int usb_csr_write(void *state, uint32_t offset, uint32_t value)
{
    struct usb_state *s = state;
    int rc = check_csr(offset);
    return rc ? rc : mxu_link_csr_write(s->link, offset, value);
}

static int usb_mem_write(void *state, uint32_t addr, const void *data, size_t bytes)
{
    struct usb_state *s = state;
    return mxu_link_mem_write(s->link, addr, data, bytes);
}

static int usb_mem_read(void *state, uint32_t addr, void *data, size_t bytes)
{
    struct usb_state *s = state;
    return mxu_link_mem_read(s->link, addr, data, bytes);
}

static int read_cycles(struct usb_state *s, uint64_t *cycles)
{
    uint32_t lo, hi;
    int rc = mxu_link_csr_read(s->link, MXU_CNT_CYCLES, &lo);
    if (rc == MXU_OK)
        rc = mxu_link_csr_read(s->link, MXU_CNT_CYCLES + 4, &hi);
    *cycles = rc ? 0 : (uint64_t)hi << 32 | lo;
    return rc;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The pause before the next STATUS poll, after waiting `waited` us. The board
 * computes meanwhile; back-to-back polls would only load the USB link (and,
 * on the emulated board, take the CPU from the simulation they wait for). */
static void poll_pause(int64_t waited)
{
    int64_t us = waited / POLL_BACKOFF;
    if (us > POLL_PAUSE_MAX_US)
        us = POLL_PAUSE_MAX_US;
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    if (us > 0)
        nanosleep(&ts, NULL);
}

/* Poll STATUS until done (pausing between polls, see poll_pause); every few
 * polls compare the device's cycle counter with the limit. Each poll is one
 * request with the link's own timeout: a slow run is fine as long as the
 * board answers. */
static int usb_wait(void *state, uint64_t max_cycles)
{
    struct usb_state *s = state;
    uint64_t limit = max_cycles ? max_cycles : s->max_cycles, cycles = 0;
    int64_t start = now_us();
    for (unsigned poll = 1;; poll++) {
        uint32_t status;
        int rc = mxu_link_csr_read(s->link, MXU_CSR_STATUS, &status);
        if (rc)
            return rc;
        if (status & MXU_STATUS_DONE)
            return MXU_OK;
        if (!(status & MXU_STATUS_BUSY))
            return mxu_fail(MXU_ERR_DEVICE, "usb: the board is neither busy nor done after start (STATUS 0x%x)",
                            status);
        if (poll % CYCLE_CHECK_EVERY == 0) {
            if ((rc = read_cycles(s, &cycles)))
                return rc;
            if (cycles >= limit)
                return mxu_fail(MXU_ERR_TIMEOUT, "usb: not done after %llu cycles (limit %llu)",
                                (unsigned long long)cycles, (unsigned long long)limit);
        }
        poll_pause(now_us() - start);
    }
}

const struct mxu_backend_ops mxu_backend_usb = {
    .name = "usb",
    .open = usb_open,
    .close = usb_close,
    .csr_read = usb_csr_read,
    .csr_write = usb_csr_write,
    .mem_write = usb_mem_write,
    .mem_read = usb_mem_read,
    .wait = usb_wait,
};
