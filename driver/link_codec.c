/* The host-link codec (docs/link.md): packet encoding, CRCs and the streaming
 * decoder. The one implementation every link transport uses; rtl/mxu_link_rx.v
 * decodes the same way in hardware. */
#include <stdlib.h>
#include <string.h>

#include "mxu_crc32.h"
#include "mxu_error.h"
#include "mxu_link.h"

enum { DEC_HUNT, DEC_PAYLOAD };

/* ---- little-endian fields ----------------------------------------------------- */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* ---- CRC-16/ARC ------------------------------------------------------------------ */

static uint16_t crc16_update(uint16_t crc, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001u) : (uint16_t)(crc >> 1);
    }
    return crc;
}

uint16_t mxu_link_crc16(const void *data, size_t len)
{
    return crc16_update(0, data, len);
}

/* ---- packets ---------------------------------------------------------------------- */

size_t mxu_link_packet_bytes(uint32_t len)
{
    return MXU_LINK_HEADER_BYTES + len + (len ? MXU_LINK_CRC_BYTES : 0);
}

static void encode_header(const mxu_link_header *h, uint8_t *out)
{
    out[0] = MXU_LINK_SYNC0;
    out[1] = MXU_LINK_SYNC1;
    out[2] = h->op;
    out[3] = h->tag;
    put32(out + 4, h->addr);
    put16(out + 8, h->len);
    put16(out + 10, h->count);
    out[12] = h->status;
    out[13] = 0;
    put16(out + 14, mxu_link_crc16(out, 14));
}

size_t mxu_link_encode(const mxu_link_header *h, const void *payload, uint8_t *out, size_t cap)
{
    size_t n = mxu_link_packet_bytes(h->len);
    if (cap < n || (h->len && !payload))
        return 0;
    encode_header(h, out);
    if (h->len) {
        memcpy(out + MXU_LINK_HEADER_BYTES, payload, h->len);
        put32(out + MXU_LINK_HEADER_BYTES + h->len, mxu_crc32(payload, h->len));
    }
    return n;
}

int mxu_link_parse_header(const uint8_t *b, mxu_link_header *h)
{
    if (b[0] != MXU_LINK_SYNC0 || b[1] != MXU_LINK_SYNC1 || mxu_link_crc16(b, MXU_LINK_HEADER_BYTES) != 0)
        return 0;
    h->op = b[2];
    h->tag = b[3];
    h->addr = get32(b + 4);
    h->len = get16(b + 8);
    h->count = get16(b + 10);
    h->status = b[12];
    return 1;
}

void mxu_link_info_encode(const mxu_link_info *i, uint8_t *out)
{
    put16(out, i->version);
    put16(out + 2, i->max_payload);
    put32(out + 4, i->rx_window);
    put16(out + 8, i->rx_packets);
    put16(out + 10, 0);
    put32(out + 12, i->packets);
    put32(out + 16, i->crc_errors);
    put32(out + 20, i->skipped);
}

void mxu_link_info_decode(const uint8_t *in, mxu_link_info *i)
{
    i->version = get16(in);
    i->max_payload = get16(in + 2);
    i->rx_window = get32(in + 4);
    i->rx_packets = get16(in + 8);
    i->packets = get32(in + 12);
    i->crc_errors = get32(in + 16);
    i->skipped = get32(in + 20);
}

const char *mxu_link_op_name(unsigned op)
{
    switch (op & ~MXU_LINK_RESPONSE) {
    case MXU_LINK_OP_INFO: return "INFO";
    case MXU_LINK_OP_MEM_WRITE: return "MEM_WRITE";
    case MXU_LINK_OP_MEM_READ: return "MEM_READ";
    case MXU_LINK_OP_CSR_WRITE: return "CSR_WRITE";
    case MXU_LINK_OP_CSR_READ: return "CSR_READ";
    default: return "?";
    }
}

const char *mxu_link_status_name(unsigned status)
{
    switch (status) {
    case MXU_LINK_OK: return "ok";
    case MXU_LINK_ERR_CRC: return "bad CRC";
    case MXU_LINK_ERR_LENGTH: return "bad length";
    case MXU_LINK_ERR_ADDRESS: return "bad address";
    case MXU_LINK_ERR_OPCODE: return "unknown opcode";
    default: return "unknown status";
    }
}

/* ---- streaming decoder -------------------------------------------------------------- */

int mxu_link_decoder_init(mxu_link_decoder *d, uint32_t max_payload)
{
    memset(d, 0, sizeof *d);
    if (max_payload > MXU_LINK_LEN_MAX)
        return mxu_fail(MXU_ERR_INVAL, "link: a payload of %u bytes exceeds the 16-bit LEN field", max_payload);
    d->payload = malloc((size_t)max_payload + MXU_LINK_CRC_BYTES);
    if (!d->payload)
        return mxu_fail(MXU_ERR_NOMEM, "link decoder buffer");
    d->max_payload = max_payload;
    d->state = DEC_HUNT;
    return MXU_OK;
}

void mxu_link_decoder_free(mxu_link_decoder *d)
{
    free(d->payload);
    d->payload = NULL;
}

void mxu_link_decoder_reset(mxu_link_decoder *d)
{
    d->state = DEC_HUNT;
    d->fill = 0;
}

/* Hunting: slide the window one byte at a time; a window that parses is a header. */
static size_t hunt(mxu_link_decoder *d, const uint8_t *data, size_t len, mxu_link_frame *f, int *done)
{
    for (size_t i = 0; i < len; i++) {
        if (d->fill == MXU_LINK_HEADER_BYTES) {
            memmove(d->window, d->window + 1, MXU_LINK_HEADER_BYTES - 1);
            d->fill--;
            d->skipped++;
        }
        d->window[d->fill++] = data[i];
        if (d->fill < MXU_LINK_HEADER_BYTES || !mxu_link_parse_header(d->window, &d->hdr))
            continue;
        d->fill = 0;
        if (d->hdr.len > d->max_payload) { /* refused at once, its payload is not awaited */
            f->hdr = d->hdr;
            f->payload = NULL;
            f->kind = MXU_LINK_FRAME_TOO_LONG;
            *done = 1;
        } else if (d->hdr.len == 0) {
            f->hdr = d->hdr;
            f->payload = NULL;
            f->kind = MXU_LINK_FRAME_OK;
            *done = 1;
        } else {
            d->state = DEC_PAYLOAD;
        }
        return i + 1;
    }
    return len;
}

static size_t take_payload(mxu_link_decoder *d, const uint8_t *data, size_t len, mxu_link_frame *f, int *done)
{
    size_t want = (size_t)d->hdr.len + MXU_LINK_CRC_BYTES - d->fill;
    size_t n = len < want ? len : want;
    memcpy(d->payload + d->fill, data, n);
    d->fill += (uint32_t)n;
    if (n == want) {
        uint32_t crc = get32(d->payload + d->hdr.len);
        f->hdr = d->hdr;
        f->payload = d->payload;
        f->kind = crc == mxu_crc32(d->payload, d->hdr.len) ? MXU_LINK_FRAME_OK : MXU_LINK_FRAME_BAD_CRC;
        *done = 1;
        d->state = DEC_HUNT;
        d->fill = 0;
    }
    return n;
}

size_t mxu_link_decode(mxu_link_decoder *d, const uint8_t *data, size_t len, mxu_link_frame *frame, int *done)
{
    size_t used = 0;
    *done = 0;
    while (used < len && !*done)
        used += d->state == DEC_HUNT ? hunt(d, data + used, len - used, frame, done)
                                     : take_payload(d, data + used, len - used, frame, done);
    return used;
}
