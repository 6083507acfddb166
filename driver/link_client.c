/* The host side of the link (docs/link.md): memory and CSR access as request
 * packets over a byte transport, answers matched by tag.
 *
 * A call becomes a batch of requests (a memory transfer: one per max-payload
 * chunk) kept in flight within the device's window -- at most rx_packets
 * requests and rx_window payload bytes unanswered -- and within what the host
 * can take in (rx_buffer bytes of answers), so neither side waits on the other
 * forever. A request is sent again, with the same tag, when its answer says
 * "bad CRC", when the answer arrives corrupted, or when nothing arrives within
 * the timeout (then every unanswered request is lost; zero bytes are sent first
 * to end any packet the device may have started on garbage). The same tag lets
 * the device recognise a CSR write it already performed (docs/link.md,
 * "Retries"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"
#include "mxu_link.h"

#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_RETRIES 4u
#define DEFAULT_RX_BUFFER 65536u
#define MAX_INFLIGHT 64u
#define RX_CHUNK 16384u

enum { REQ_PENDING, REQ_INFLIGHT, REQ_DONE };

struct request {
    mxu_link_header h;      /* tag valid once sent */
    const uint8_t *payload; /* h.len bytes */
    uint8_t *dest;          /* where the answer's payload goes (reads) */
    uint16_t rsp_len;       /* payload length of a good answer */
    unsigned attempts;
    int state;
    int tagged;
};

struct mxu_link {
    mxu_link_io io;
    mxu_link_decoder dec;
    mxu_link_info dev;
    uint8_t *pkt; /* one encoded packet */
    size_t pkt_cap;
    uint8_t rx[RX_CHUNK];
    size_t rx_pos, rx_len;
    struct mxu_link_stats st;
    int timeout_ms;
    unsigned retries;
    uint32_t rx_buffer;
    uint8_t next_tag;
    uint8_t last_ok_tag;  /* tag of the last OK answer received */
    int tags_uncertain;   /* a timeout happened: the device may have answered more */
    size_t flush_bytes;   /* zero bytes sent after a timeout */
};

/* ---- small helpers -------------------------------------------------------------- */

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static int link_send(mxu_link *l, const uint8_t *buf, size_t len)
{
    int rc = l->io.send(l->io.ctx, buf, len, l->timeout_ms);
    if (rc < 0)
        return rc;
    l->st.tx_bytes += len;
    return MXU_OK;
}

/* Zero bytes that end whatever packet the device may be inside (LEN <= its
 * max payload, plus the CRC); harmless while it hunts. */
static int flush(mxu_link *l)
{
    static const uint8_t zeros[1024];
    size_t left = l->flush_bytes;
    while (left) {
        size_t n = min_size(left, sizeof zeros);
        int rc = link_send(l, zeros, n);
        if (rc)
            return rc;
        left -= n;
    }
    return MXU_OK;
}

/* Next frame from the stream. MXU_ERR_TIMEOUT when no byte came for the
 * timeout, or when a long run of bytes formed no frame (a babbling line). */
static int next_frame(mxu_link *l, mxu_link_frame *f)
{
    uint64_t budget = 4ull * ((uint64_t)l->dev.max_payload + 64) + l->rx_buffer;
    uint64_t seen = 0;
    for (;;) {
        if (l->rx_pos < l->rx_len) {
            int done;
            size_t used = mxu_link_decode(&l->dec, l->rx + l->rx_pos, l->rx_len - l->rx_pos, f, &done);
            l->rx_pos += used;
            seen += used;
            if (done)
                return MXU_OK;
            if (seen > budget)
                return mxu_fail(MXU_ERR_TIMEOUT, "link: %llu bytes received without a packet",
                                (unsigned long long)seen);
            continue;
        }
        size_t got = 0;
        int rc = l->io.recv(l->io.ctx, l->rx, sizeof l->rx, &got, l->timeout_ms);
        if (rc < 0)
            return rc;
        l->st.rx_bytes += got;
        l->rx_pos = 0;
        l->rx_len = got;
    }
}

/* ---- a batch of requests ------------------------------------------------------------ */

struct batch {
    struct request *req;
    size_t n, next, done;
    size_t inflight[MAX_INFLIGHT]; /* request indices in send order */
    size_t nin;
    uint64_t in_payload, in_answers;
};

static int tag_in_use(const struct batch *b, uint8_t tag)
{
    for (size_t i = 0; i < b->nin; i++)
        if (b->req[b->inflight[i]].h.tag == tag)
            return 1;
    return 0;
}

static void assign_tag(mxu_link *l, const struct batch *b, struct request *r)
{
    uint8_t t;
    do /* never a tag in flight, and never the last one answered OK: the device
          would take a CSR write with that tag for a retransmission */
        t = l->next_tag++;
    while (tag_in_use(b, t) || t == l->last_ok_tag);
    r->h.tag = t;
    r->tagged = 1;
}

static int fits(const mxu_link *l, const struct batch *b, const struct request *r)
{
    if (b->nin == 0)
        return 1;
    size_t max_in = min_size(MAX_INFLIGHT, l->dev.rx_packets ? l->dev.rx_packets : 1);
    return b->nin < max_in && b->in_payload + r->h.len <= l->dev.rx_window &&
           b->in_answers + mxu_link_packet_bytes(r->rsp_len) <= l->rx_buffer;
}

static int send_request(mxu_link *l, struct batch *b, size_t idx)
{
    struct request *r = &b->req[idx];
    if (!r->tagged)
        assign_tag(l, b, r);
    else
        l->st.retries++;
    size_t n = mxu_link_encode(&r->h, r->payload, l->pkt, l->pkt_cap);
    if (!n)
        return mxu_fail(MXU_ERR_INVAL, "link: %s of %u bytes does not fit a packet", mxu_link_op_name(r->h.op),
                        r->h.len);
    int rc = link_send(l, l->pkt, n);
    if (rc)
        return rc;
    l->st.packets++;
    r->attempts++;
    r->state = REQ_INFLIGHT;
    b->inflight[b->nin++] = idx;
    b->in_payload += r->h.len;
    b->in_answers += mxu_link_packet_bytes(r->rsp_len);
    return MXU_OK;
}

static void drop_inflight(struct batch *b, size_t pos)
{
    struct request *r = &b->req[b->inflight[pos]];
    b->in_payload -= r->h.len;
    b->in_answers -= mxu_link_packet_bytes(r->rsp_len);
    memmove(b->inflight + pos, b->inflight + pos + 1, (b->nin - pos - 1) * sizeof *b->inflight);
    b->nin--;
}

static const char *describe(const struct request *r, char *buf, size_t len)
{
    snprintf(buf, len, "%s at 0x%x (%u bytes, tag %u)", mxu_link_op_name(r->h.op), r->h.addr,
             r->h.len ? r->h.len : r->h.count, r->h.tag);
    return buf;
}

/* The request failed this attempt: back to pending, or give up. */
static int retry_or_fail(mxu_link *l, struct request *r, int status, const char *why)
{
    char d[96];
    if (r->attempts > l->retries)
        return mxu_fail(status, "link: %s: %s, %u attempt%s", describe(r, d, sizeof d), why, r->attempts,
                        r->attempts == 1 ? "" : "s");
    r->state = REQ_PENDING;
    return MXU_OK;
}

/* Next request to send: retries first (oldest first), then new ones. */
static size_t next_to_send(struct batch *b)
{
    for (size_t i = 0; i < b->next; i++)
        if (b->req[i].state == REQ_PENDING)
            return i;
    return b->next < b->n ? b->next : SIZE_MAX;
}

static int fill_window(mxu_link *l, struct batch *b)
{
    for (;;) {
        size_t idx = next_to_send(b);
        if (idx == SIZE_MAX || !fits(l, b, &b->req[idx]))
            return MXU_OK;
        if (idx == b->next)
            b->next++;
        int rc = send_request(l, b, idx);
        if (rc)
            return rc;
    }
}

static int on_timeout(mxu_link *l, struct batch *b)
{
    l->st.timeouts++;
    l->tags_uncertain = 1;
    /* a half-received answer will not be completed: hunt afresh */
    mxu_link_decoder_reset(&l->dec);
    while (b->nin) {
        struct request *r = &b->req[b->inflight[0]];
        drop_inflight(b, 0);
        int rc = retry_or_fail(l, r, MXU_ERR_TIMEOUT, "no answer");
        if (rc)
            return rc;
    }
    return flush(l);
}

static int refused(const struct request *r, unsigned status)
{
    char d[96];
    return mxu_fail(status == MXU_LINK_ERR_ADDRESS ? MXU_ERR_RANGE : MXU_ERR_LINK, "link: %s: the device says %s",
                    describe(r, d, sizeof d), mxu_link_status_name(status));
}

static int on_frame(mxu_link *l, struct batch *b, const mxu_link_frame *f)
{
    const mxu_link_header *h = &f->hdr;
    size_t pos = 0;
    while (pos < b->nin && b->req[b->inflight[pos]].h.tag != h->tag)
        pos++;
    if (pos == b->nin || !(h->op & MXU_LINK_RESPONSE))
        return MXU_OK; /* a late duplicate, or not for us */
    struct request *r = &b->req[b->inflight[pos]];
    if (f->kind != MXU_LINK_FRAME_OK) {
        l->st.crc_errors++;
        drop_inflight(b, pos);
        return retry_or_fail(l, r, MXU_ERR_LINK, "its answer kept arriving with a bad CRC");
    }
    if (h->op != (r->h.op | MXU_LINK_RESPONSE) || h->addr != r->h.addr)
        return MXU_OK; /* same tag, other request: not its answer */
    if (h->status == MXU_LINK_ERR_CRC) {
        l->st.crc_errors++;
        drop_inflight(b, pos);
        return retry_or_fail(l, r, MXU_ERR_LINK, "the device kept receiving it with a bad CRC");
    }
    if (h->status != MXU_LINK_OK)
        return refused(r, h->status);
    if (h->len != r->rsp_len)
        return MXU_OK;
    if (r->dest && h->len)
        memcpy(r->dest, f->payload, h->len);
    l->last_ok_tag = h->tag;
    drop_inflight(b, pos);
    r->state = REQ_DONE;
    b->done++;
    int wrote = r->h.op == MXU_LINK_OP_MEM_WRITE || r->h.op == MXU_LINK_OP_CSR_WRITE;
    l->st.payload_bytes += wrote ? r->h.len : r->rsp_len;
    return MXU_OK;
}

static int run_batch(mxu_link *l, struct request *req, size_t n)
{
    struct batch b = {.req = req, .n = n};
    while (b.done < n) {
        int rc = fill_window(l, &b);
        if (rc)
            return rc;
        mxu_link_frame f;
        rc = next_frame(l, &f);
        if (rc == MXU_ERR_TIMEOUT)
            rc = on_timeout(l, &b);
        else if (rc == MXU_OK)
            rc = on_frame(l, &b, &f);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

/* ---- requests ---------------------------------------------------------------------------- */

static struct request make_request(uint8_t op, uint32_t addr, uint16_t len, uint16_t count, const void *payload,
                                   void *dest, uint16_t rsp_len)
{
    struct request r;
    memset(&r, 0, sizeof r);
    r.h.op = op;
    r.h.addr = addr;
    r.h.len = len;
    r.h.count = count;
    r.payload = payload;
    r.dest = dest;
    r.rsp_len = rsp_len;
    return r;
}

/* After a timeout the device may have answered requests the host never saw:
 * one INFO exchange makes the last answered tag known again before a CSR
 * write (whose tag must differ from it). */
static int settle_tags(mxu_link *l)
{
    mxu_link_info info;
    return l->tags_uncertain ? mxu_link_info_read(l, &info) : MXU_OK;
}

static int memory_batch(mxu_link *l, int write, uint32_t addr, const void *wdata, void *rdata, size_t bytes)
{
    if (bytes == 0)
        return MXU_OK;
    if ((uint64_t)addr + bytes > 0x100000000ull)
        return mxu_fail(MXU_ERR_RANGE, "link: memory access [0x%x, +%zu) beyond 32-bit addresses", addr, bytes);
    size_t chunk = l->dev.max_payload, n = (bytes + chunk - 1) / chunk;
    struct request *req = calloc(n, sizeof *req);
    if (!req)
        return mxu_fail(MXU_ERR_NOMEM, "link: %zu requests", n);
    for (size_t i = 0; i < n; i++) {
        size_t off = i * chunk;
        uint16_t len = (uint16_t)min_size(chunk, bytes - off);
        req[i] = write ? make_request(MXU_LINK_OP_MEM_WRITE, addr + (uint32_t)off, len, 0,
                                      (const uint8_t *)wdata + off, NULL, 0)
                       : make_request(MXU_LINK_OP_MEM_READ, addr + (uint32_t)off, 0, len, NULL,
                                      (uint8_t *)rdata + off, len);
    }
    int rc = run_batch(l, req, n);
    free(req);
    return rc;
}

int mxu_link_mem_write(mxu_link *l, uint32_t addr, const void *data, size_t bytes)
{
    return memory_batch(l, 1, addr, data, NULL, bytes);
}

int mxu_link_mem_read(mxu_link *l, uint32_t addr, void *data, size_t bytes)
{
    return memory_batch(l, 0, addr, NULL, data, bytes);
}

int mxu_link_csr_write(mxu_link *l, uint32_t offset, uint32_t value)
{
    uint8_t v[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16), (uint8_t)(value >> 24)};
    int rc = settle_tags(l);
    if (rc)
        return rc;
    struct request r = make_request(MXU_LINK_OP_CSR_WRITE, offset, 4, 0, v, NULL, 0);
    return run_batch(l, &r, 1);
}

int mxu_link_csr_read(mxu_link *l, uint32_t offset, uint32_t *value)
{
    uint8_t v[4];
    struct request r = make_request(MXU_LINK_OP_CSR_READ, offset, 0, 4, NULL, v, 4);
    int rc = run_batch(l, &r, 1);
    if (rc == MXU_OK)
        *value = v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
    return rc;
}

int mxu_link_info_read(mxu_link *l, mxu_link_info *info)
{
    uint8_t buf[MXU_LINK_INFO_BYTES];
    struct request r = make_request(MXU_LINK_OP_INFO, 0, 0, 0, NULL, buf, MXU_LINK_INFO_BYTES);
    int rc = run_batch(l, &r, 1);
    if (rc == MXU_OK) {
        mxu_link_info_decode(buf, info);
        l->tags_uncertain = 0;
    }
    return rc;
}

/* ---- open / close / policy ------------------------------------------------------------------ */

int mxu_link_open(const mxu_link_io *io, mxu_link **out)
{
    return mxu_link_open_with(io, NULL, out);
}

int mxu_link_open_with(const mxu_link_io *io, const mxu_link_policy *policy, mxu_link **out)
{
    *out = NULL;
    if (!io || !io->send || !io->recv)
        return mxu_fail(MXU_ERR_INVAL, "link: no transport");
    mxu_link *l = calloc(1, sizeof *l);
    if (!l)
        return mxu_fail(MXU_ERR_NOMEM, "link");
    l->io = *io;
    l->timeout_ms = DEFAULT_TIMEOUT_MS;
    l->retries = DEFAULT_RETRIES;
    l->rx_buffer = DEFAULT_RX_BUFFER;
    if (policy) {
        mxu_link_set_timeout(l, policy->timeout_ms);
        if (policy->retries)
            l->retries = policy->retries == MXU_LINK_NO_RETRIES ? 0 : policy->retries;
        mxu_link_set_rx_buffer(l, policy->rx_buffer);
    }
    /* Until INFO answers, assume the smallest device: one small packet at a time. */
    l->dev.max_payload = MXU_LINK_INFO_BYTES;
    l->dev.rx_window = MXU_LINK_INFO_BYTES;
    l->dev.rx_packets = 1;
    l->last_ok_tag = 0xFF;
    l->flush_bytes = (size_t)MXU_LINK_LEN_MAX + MXU_LINK_CRC_BYTES; /* any LEN, until INFO says */
    int rc = mxu_link_decoder_init(&l->dec, MXU_LINK_LEN_MAX);
    if (rc)
        goto fail;
    l->pkt_cap = mxu_link_packet_bytes(MXU_LINK_LEN_MAX);
    l->pkt = malloc(l->pkt_cap);
    if (!l->pkt) {
        rc = mxu_fail(MXU_ERR_NOMEM, "link packet buffer");
        goto fail;
    }
    mxu_link_info info;
    if ((rc = mxu_link_info_read(l, &info)))
        goto fail;
    if (info.version != MXU_LINK_VERSION || info.max_payload < 4 || info.rx_window < info.max_payload ||
        info.rx_packets == 0) {
        rc = mxu_fail(MXU_ERR_LINK, "link: the device speaks version %u (max payload %u, window %u bytes / %u "
                      "packets); this host speaks version %u", info.version, info.max_payload, info.rx_window,
                      info.rx_packets, MXU_LINK_VERSION);
        goto fail;
    }
    l->dev = info;
    l->flush_bytes = (size_t)info.max_payload + MXU_LINK_CRC_BYTES;
    mxu_link_reset_stats(l);
    *out = l;
    return MXU_OK;
fail:
    mxu_link_close(l);
    return rc;
}

void mxu_link_close(mxu_link *l)
{
    if (!l)
        return;
    mxu_link_decoder_free(&l->dec);
    free(l->pkt);
    free(l);
}

void mxu_link_get_stats(const mxu_link *l, struct mxu_link_stats *s)
{
    *s = l->st;
}

void mxu_link_reset_stats(mxu_link *l)
{
    memset(&l->st, 0, sizeof l->st);
}

void mxu_link_set_timeout(mxu_link *l, int timeout_ms)
{
    l->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
}

void mxu_link_set_retries(mxu_link *l, unsigned retries)
{
    l->retries = retries;
}

void mxu_link_set_rx_buffer(mxu_link *l, uint32_t bytes)
{
    l->rx_buffer = bytes ? bytes : DEFAULT_RX_BUFFER;
}

void mxu_link_device_info(const mxu_link *l, mxu_link_info *info)
{
    *info = l->dev;
}
