/* The pump thread: host bytes from queued bulk OUT transfers into the engine,
 * the engine's bytes into the chip's buffer and out as bulk IN packets (two
 * modem-status bytes each), the clock, and the faults. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "board_priv.h"

/* ---- the pump: bytes between the endpoints and the engine -------------------------- */

static int fault_pending(const struct board *b)
{
    enum fault_kind k = b->opt.fault.kind;
    return !b->fault_fired && (k == FAULT_UNPLUG || k == FAULT_STALL || k == FAULT_STALL_OUT || k == FAULT_HANG ||
                               k == FAULT_DEVICE_ERROR);
}

static int flowing(const struct board *b)
{
    return b->bitmode == BITMODE_SYNC_FIFO && !b->hung && !b->unplugged;
}

/* Copy up to cap host bytes not yet taken by the engine (without taking them). */
static size_t gather_out(struct board *b, uint8_t *dst, size_t cap)
{
    if (!flowing(b) || b->halt_out)
        return 0;
    if (fault_pending(b) && b->opt.fault.after - b->host_bytes < cap) /* stop right at the fault */
        cap = (size_t)(b->opt.fault.after - b->host_bytes);
    size_t n = 0;
    for (struct urb *r = b->out_q.head; r && n < cap; r = r->next) {
        size_t k = r->len - r->done < cap - n ? r->len - r->done : cap - n;
        memcpy(dst + n, r->buf + r->done, k);
        n += k;
    }
    for (size_t i = 0; i < n; i++)
        if (fault_corrupts(&b->opt.fault, 0, b->host_bytes + i)) {
            dst[i] ^= 0x5A;
            if (b->opt.fault.every == 0 || b->opt.verbose)
                board_say("fault corrupt-out: changed byte %llu from the host", (unsigned long long)(b->host_bytes + i));
        }
    return n;
}

static void consume_out(struct board *b, size_t n)
{
    b->host_bytes += n;
    while (n && b->out_q.head) {
        struct urb *r = b->out_q.head;
        size_t k = r->len - r->done < n ? r->len - r->done : n;
        r->done += k;
        n -= k;
        if (r->done == r->len)
            urb_finish(b, urb_pop(&b->out_q), 0, r->len);
    }
    /* zero-length OUT transfers complete as soon as they are at the head */
    while (b->out_q.head && b->out_q.head->len == 0 && flowing(b))
        urb_finish(b, urb_pop(&b->out_q), 0, 0);
}

static void append_in(struct board *b, const uint8_t *src, size_t n)
{
    memcpy(b->in_fifo + b->in_len, src, n);
    for (size_t i = 0; i < n; i++)
        if (fault_corrupts(&b->opt.fault, 1, b->dev_bytes + i)) {
            b->in_fifo[b->in_len + i] ^= 0x5A;
            if (b->opt.fault.every == 0 || b->opt.verbose)
                board_say("fault corrupt: changed byte %llu to the host", (unsigned long long)(b->dev_bytes + i));
        }
    b->in_len += n;
    b->dev_bytes += n;
}

/* While a device-error fault is due, the engine's bytes go through a link
 * decoder: the next whole answer becomes an error answer (same op and tag,
 * the fault's STATUS, no payload); what came before it passes unchanged. */
static void from_engine(struct board *b, const uint8_t *src, size_t n)
{
    while (b->rewriting && n) {
        mxu_link_frame f;
        int done = 0;
        size_t used = mxu_link_decode(&b->dec, src, n, &f, &done);
        memcpy(b->hold + b->hold_len, src, used);
        b->hold_len += used;
        src += used, n -= used;
        if (!done) {
            if (b->hold_len > sizeof b->hold - PUMP_CHUNK) { /* no answer in sight: let it through */
                append_in(b, b->hold, b->hold_len);
                b->hold_len = 0;
            }
            continue;
        }
        size_t frame = mxu_link_packet_bytes(f.hdr.len);
        append_in(b, b->hold, b->hold_len > frame ? b->hold_len - frame : 0);
        mxu_link_header h = f.hdr;
        h.status = (uint8_t)b->opt.fault.code;
        h.len = 0;
        h.count = 0;
        uint8_t pkt[MXU_LINK_HEADER_BYTES];
        size_t k = mxu_link_encode(&h, NULL, pkt, sizeof pkt);
        append_in(b, pkt, k);
        board_say("fault device-error: answered %s (tag %u) with status %u (%s)", mxu_link_op_name(h.op & 0x7F), h.tag,
            h.status, mxu_link_status_name(h.status));
        b->rewriting = 0;
        b->hold_len = 0;
    }
    if (n)
        append_in(b, src, n);
}

static size_t payload_capacity(size_t len)
{
    size_t full = len / MAX_PACKET, rest = len % MAX_PACKET;
    return full * (MAX_PACKET - STATUS_BYTES) + (rest > STATUS_BYTES ? rest - STATUS_BYTES : 0);
}

/* Fill an IN transfer the way the chip does: packets of status + data; a
 * short packet (a status-only one when the data ends on a packet boundary)
 * ends it. */
static void fill_in(struct board *b, struct urb *r, size_t avail)
{
    size_t pos = 0, used = 0;
    while (pos + STATUS_BYTES <= r->len) {
        size_t chunk = r->len - pos < MAX_PACKET ? r->len - pos : MAX_PACKET;
        size_t d = chunk - STATUS_BYTES < avail - used ? chunk - STATUS_BYTES : avail - used;
        r->buf[pos] = MODEM_STATUS0;
        r->buf[pos + 1] = MODEM_STATUS1;
        memcpy(r->buf + pos + STATUS_BYTES, b->in_fifo + used, d);
        pos += STATUS_BYTES + d;
        used += d;
        b->packets_in++;
        b->status_packets += d == 0;
        if (d < chunk - STATUS_BYTES)
            break;
    }
    memmove(b->in_fifo, b->in_fifo + used, b->in_len - used);
    b->in_len -= used;
    urb_finish(b, r, 0, pos);
}

/* Complete IN transfers: when full, when the engine paused (the FPGA's
 * send-immediate), or when the latency timer ran out (status only if there is
 * nothing to send, as an idle chip does). */
static void serve_in(struct board *b, int engine_quiet)
{
    long long now = board_now_ms();
    while (b->in_q.head) {
        struct urb *r = b->in_q.head;
        if (b->halt_in) {
            urb_finish(b, urb_pop(&b->in_q), -EPIPE, 0);
            continue;
        }
        size_t avail = flowing(b) ? b->in_len : 0;
        int expired = now - b->in_since >= (long long)b->latency_ms;
        if (!(avail >= payload_capacity(r->len) || (avail && engine_quiet) || expired))
            break;
        fill_in(b, urb_pop(&b->in_q), avail);
        b->in_since = now;
    }
}

static void fire_fault(struct board *b)
{
    const struct fault *f = &b->opt.fault;
    if (!fault_pending(b) || b->host_bytes < f->after)
        return;
    b->fault_fired = 1;
    board_say("fault %s after %llu bytes from the host", fault_name(f->kind), (unsigned long long)b->host_bytes);
    switch (f->kind) {
    case FAULT_UNPLUG:
        b->unplugged = 1;
        urb_fail_queue(b, &b->out_q, -ENODEV);
        urb_fail_queue(b, &b->in_q, -ENODEV);
        break;
    case FAULT_STALL:
        b->halt_in = 1;
        break;
    case FAULT_STALL_OUT:
        b->halt_out = 1;
        urb_fail_queue(b, &b->out_q, -EPIPE);
        break;
    case FAULT_HANG:
        b->hung = 1;
        break;
    case FAULT_DEVICE_ERROR:
        b->rewriting = 1;
        break;
    default:
        break;
    }
}

static unsigned count(const struct queue *q)
{
    unsigned n = 0;
    for (const struct urb *r = q->head; r; r = r->next)
        n++;
    return n;
}

/* --verbose: say once when host bytes wait and nothing moved for a while. */
static void report_stall(struct board *b, uint64_t *last_moved, long long *since, int *reported)
{
    long long now = board_now_ms();
    uint64_t moved = b->host_bytes + b->dev_bytes;
    if (moved != *last_moved || !b->out_q.head) {
        *last_moved = moved, *since = now, *reported = 0;
        return;
    }
    if (*reported || now - *since < STALL_REPORT_MS)
        return;
    char engine[300];
    b->engine.ops->describe(b->engine.state, engine, sizeof engine);
    board_say("nothing moved for %lld ms: %u OUT transfers wait, %zu bytes for the host, %u IN transfers, "
              "bitmode 0x%02x%s; %s", now - *since, count(&b->out_q), b->in_len, count(&b->in_q), b->bitmode,
              b->hung ? ", hung" : "", engine);
    *reported = 1;
}

void *pump_main(void *arg)
{
    struct board *b = arg;
    const struct board_engine_ops *e = b->engine.ops;
    void *es = b->engine.state;
    uint8_t tx[PUMP_CHUNK], rx[PUMP_CHUNK];
    char msg[300];
    int sim_failed = 0;
    unsigned idle_waits = 0;
    uint64_t last_moved = 0;
    long long still_since = 0;
    int stall_reported = 0;
    pthread_mutex_lock(&b->lock);
    while (!b->stop) {
        size_t n = gather_out(b, tx, sizeof tx);
        size_t room = flowing(b) ? CHIP_TX_BYTES - b->in_len : 0;
        room = room > b->hold_len ? room - b->hold_len : 0;
        room = room < sizeof rx ? room : sizeof rx;
        int run = !b->hung && !b->unplugged;
        pthread_mutex_unlock(&b->lock);

        size_t taken = n ? e->push(es, tx, n) : 0;
        /* An engine that says it is idle still gets a few cycles now and then,
         * in case it was only pausing. */
        int busy = run && (!e->idle(es) || idle_waits >= IDLE_TICK_WAITS);
        uint64_t cycles = n && n < STEP_LONG / 2 ? STEP_SHORT : STEP_LONG;
        if (busy || taken)
            e->step(es, cycles);
        size_t got = room ? e->pull(es, rx, room) : 0;
        int failed = !sim_failed && e->fault && e->fault(es, msg, sizeof msg);

        pthread_mutex_lock(&b->lock);
        if (failed) { /* the simulation itself broke: the board goes silent */
            sim_failed = b->hung = 1;
            fprintf(stderr, "mxu-emulate-board: simulation fault: %s\n", msg);
        }
        consume_out(b, taken);
        if (got)
            from_engine(b, rx, got);
        fire_fault(b);
        /* a step that gave little (or nothing) ended the answer or paused in it:
         * send now, as the FPGA's send-immediate would */
        serve_in(b, got < cycles / 4);
        usbfs_wake_reaper(b);
        if (b->opt.verbose)
            report_stall(b, &last_moved, &still_since, &stall_reported);
        idle_waits = busy ? 0 : idle_waits;
        if (!taken && !got && !busy) {
            idle_waits++;
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += IDLE_WAIT_US * 1000L;
            if (until.tv_nsec >= 1000000000L)
                until.tv_sec++, until.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&b->wake, &b->lock, &until);
        }
    }
    pthread_mutex_unlock(&b->lock);
    return NULL;
}
