/* Host-link codec (driver/link_codec.c): CRCs, encode/parse round trips, the
 * streaming decoder on clean streams, garbage, false starts, truncation, every
 * error it reports and random corruption; and the wire constants the RTL
 * states in its own files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_crc32.h"
#include "mxu_error.h"
#include "mxu_link.h"

TestSuite(link_codec, .timeout = 60);

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static mxu_link_header random_header(uint64_t *s, uint16_t len)
{
    mxu_link_header h = {(uint8_t)rnd(s), (uint8_t)rnd(s), (uint8_t)rnd(s), (uint32_t)rnd(s), len,
                         (uint16_t)rnd(s)};
    return h;
}

static void expect_same_header(const mxu_link_header *a, const mxu_link_header *b)
{
    cr_expect_eq(a->op, b->op);
    cr_expect_eq(a->tag, b->tag);
    cr_expect_eq(a->status, b->status);
    cr_expect_eq(a->addr, b->addr);
    cr_expect_eq(a->len, b->len);
    cr_expect_eq(a->count, b->count);
}

/* A stream of n random packets; returns its size; headers/payloads recorded. */
struct sent {
    mxu_link_header h[64];
    uint8_t *payload[64];
    size_t n;
};

static size_t make_stream(uint64_t seed, size_t n, uint16_t max_len, uint8_t *out, size_t cap, struct sent *s)
{
    size_t used = 0;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        uint16_t len = (uint16_t)(rnd(&seed) % 3 == 0 ? 0 : rnd(&seed) % (max_len + 1u));
        s->h[i] = random_header(&seed, len);
        s->payload[i] = malloc(len ? len : 1);
        for (uint16_t k = 0; k < len; k++)
            s->payload[i][k] = (uint8_t)rnd(&seed);
        size_t m = mxu_link_encode(&s->h[i], s->payload[i], out + used, cap - used);
        cr_assert_eq(m, mxu_link_packet_bytes(len));
        used += m;
    }
    return used;
}

static void free_sent(struct sent *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->payload[i]);
}

/* Decode everything, `chunk` bytes per feed; frames into f (cap max). */
static size_t decode_all(mxu_link_decoder *d, const uint8_t *buf, size_t len, size_t chunk, mxu_link_frame *f,
                         uint8_t **payloads, size_t max)
{
    size_t n = 0, pos = 0;
    while (pos < len) {
        size_t end = pos + chunk < len ? pos + chunk : len;
        while (pos < end) {
            int done;
            pos += mxu_link_decode(d, buf + pos, end - pos, &f[n], &done);
            if (done) {
                cr_assert_lt(n, max);
                if (f[n].payload) { /* copy: valid only until the next feed */
                    payloads[n] = malloc(f[n].hdr.len);
                    memcpy(payloads[n], f[n].payload, f[n].hdr.len);
                } else {
                    payloads[n] = NULL;
                }
                n++;
            }
        }
    }
    return n;
}

Test(link_codec, crc16_check_value_and_zero_residue)
{
    cr_assert_eq(mxu_link_crc16("123456789", 9), 0xBB3D);
    cr_assert_eq(mxu_link_crc16("", 0), 0);
    uint8_t pkt[MXU_LINK_HEADER_BYTES];
    mxu_link_header h = {MXU_LINK_OP_CSR_READ, 7, 0, 0x48, 0, 4};
    cr_assert_eq(mxu_link_encode(&h, NULL, pkt, sizeof pkt), MXU_LINK_HEADER_BYTES);
    cr_expect_eq(mxu_link_crc16(pkt, MXU_LINK_HEADER_BYTES), 0, "CRC over a whole header is zero");
    cr_expect_eq(pkt[0], MXU_LINK_SYNC0);
    cr_expect_eq(pkt[1], MXU_LINK_SYNC1);
    cr_expect_eq(pkt[4], 0x48);
    cr_expect_eq(pkt[10], 4);
    cr_expect_eq(pkt[13], 0);
}

Test(link_codec, encode_parse_round_trip)
{
    uint64_t s = 11;
    uint8_t *buf = malloc(mxu_link_packet_bytes(MXU_LINK_LEN_MAX));
    uint8_t *payload = malloc(MXU_LINK_LEN_MAX);
    static const uint16_t lens[] = {0, 1, 3, 4, 17, 4096, MXU_LINK_LEN_MAX};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        for (uint32_t k = 0; k < lens[i]; k++)
            payload[k] = (uint8_t)rnd(&s);
        mxu_link_header h = random_header(&s, lens[i]), back;
        size_t n = mxu_link_encode(&h, payload, buf, mxu_link_packet_bytes(lens[i]));
        cr_assert_eq(n, MXU_LINK_HEADER_BYTES + lens[i] + (lens[i] ? 4u : 0u));
        cr_assert(mxu_link_parse_header(buf, &back));
        expect_same_header(&h, &back);
        cr_expect_eq(memcmp(buf + MXU_LINK_HEADER_BYTES, payload, lens[i]), 0);
        if (lens[i]) {
            uint32_t crc = mxu_crc32(payload, lens[i]);
            const uint8_t *c = buf + MXU_LINK_HEADER_BYTES + lens[i];
            cr_expect_eq(c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24, crc, "payload CRC little-endian");
        }
    }
    free(buf);
    free(payload);
}

Test(link_codec, encode_refuses_what_does_not_fit)
{
    uint8_t buf[64], p[8] = {0};
    mxu_link_header h = {MXU_LINK_OP_MEM_WRITE, 1, 0, 0, 8, 0};
    cr_expect_eq(mxu_link_encode(&h, p, buf, 27), 0, "28 bytes needed");
    cr_expect_eq(mxu_link_encode(&h, p, buf, 28), 28);
    cr_expect_eq(mxu_link_encode(&h, NULL, buf, sizeof buf), 0, "payload missing");
}

Test(link_codec, parse_rejects_any_single_bit_error_in_a_header)
{
    uint8_t pkt[MXU_LINK_HEADER_BYTES];
    mxu_link_header h = {MXU_LINK_OP_MEM_READ, 0x3C, 0, 0x12345678, 0, 4096}, back;
    mxu_link_encode(&h, NULL, pkt, sizeof pkt);
    for (unsigned bit = 0; bit < 8 * MXU_LINK_HEADER_BYTES; bit++) {
        pkt[bit / 8] ^= (uint8_t)(1u << bit % 8);
        cr_expect_not(mxu_link_parse_header(pkt, &back), "bit %u flipped, still parsed", bit);
        pkt[bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
    cr_expect(mxu_link_parse_header(pkt, &back));
}

Test(link_codec, info_round_trip)
{
    mxu_link_info a = {1, 4096, 16384, 16, 123456789, 42, 0xDEADBEEF}, b;
    uint8_t buf[MXU_LINK_INFO_BYTES];
    memset(buf, 0xEE, sizeof buf);
    mxu_link_info_encode(&a, buf);
    cr_expect_eq(buf[10], 0);
    cr_expect_eq(buf[11], 0);
    mxu_link_info_decode(buf, &b);
    cr_expect_eq(b.version, 1);
    cr_expect_eq(b.max_payload, 4096);
    cr_expect_eq(b.rx_window, 16384);
    cr_expect_eq(b.rx_packets, 16);
    cr_expect_eq(b.packets, 123456789);
    cr_expect_eq(b.crc_errors, 42);
    cr_expect_eq(b.skipped, 0xDEADBEEF);
}

Test(link_codec, names)
{
    cr_expect_str_eq(mxu_link_op_name(MXU_LINK_OP_MEM_WRITE), "MEM_WRITE");
    cr_expect_str_eq(mxu_link_op_name(MXU_LINK_OP_CSR_READ | MXU_LINK_RESPONSE), "CSR_READ");
    cr_expect_str_eq(mxu_link_op_name(0x7E), "?");
    cr_expect_str_eq(mxu_link_status_name(MXU_LINK_ERR_CRC), "bad CRC");
    cr_expect_str_eq(mxu_link_status_name(MXU_LINK_ERR_ADDRESS), "bad address");
    cr_expect_str_eq(mxu_link_status_name(99), "unknown status");
}

Test(link_codec, decoder_init_limits)
{
    mxu_link_decoder d;
    cr_expect_eq(mxu_link_decoder_init(&d, MXU_LINK_LEN_MAX + 1u), MXU_ERR_INVAL);
    cr_expect_eq(mxu_link_decoder_init(&d, 64), MXU_OK);
    mxu_link_decoder_free(&d);
}

static void check_stream(size_t chunk)
{
    size_t cap = 64 * mxu_link_packet_bytes(600);
    uint8_t *buf = malloc(cap);
    struct sent s;
    size_t len = make_stream(chunk * 7 + 1, 40, 600, buf, cap, &s);
    mxu_link_decoder d;
    cr_assert_eq(mxu_link_decoder_init(&d, 600), MXU_OK);
    mxu_link_frame f[64];
    uint8_t *p[64];
    size_t n = decode_all(&d, buf, len, chunk, f, p, 64);
    cr_assert_eq(n, s.n, "chunk %zu: %zu frames of %zu", chunk, n, s.n);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(f[i].kind, MXU_LINK_FRAME_OK);
        expect_same_header(&f[i].hdr, &s.h[i]);
        if (s.h[i].len)
            cr_expect_eq(memcmp(p[i], s.payload[i], s.h[i].len), 0, "payload %zu", i);
        free(p[i]);
    }
    cr_expect_eq(d.skipped, 0);
    mxu_link_decoder_free(&d);
    free_sent(&s);
    free(buf);
}

Test(link_codec, stream_whole) { check_stream(1u << 30); }
Test(link_codec, stream_byte_by_byte) { check_stream(1); }
Test(link_codec, stream_odd_chunks) { check_stream(7); }

Test(link_codec, garbage_then_resync)
{
    /* garbage full of sync bytes and header-looking runs, then packets */
    size_t cap = 20000;
    uint8_t *buf = malloc(cap);
    uint64_t s = 5;
    size_t g = 0;
    for (; g < 3000; g++)
        buf[g] = (uint8_t)(rnd(&s) % 4 == 0 ? MXU_LINK_SYNC0 : rnd(&s) % 3 == 0 ? MXU_LINK_SYNC1 : rnd(&s));
    /* a header whose CRC is one bit off, just before the real packets */
    mxu_link_header fake = {MXU_LINK_OP_MEM_WRITE, 9, 0, 0, 200, 0};
    mxu_link_encode(&fake, buf, buf + g, cap - g); /* payload: whatever */
    buf[g + 14] ^= 1;
    g += MXU_LINK_HEADER_BYTES + 3;
    struct sent sent;
    size_t len = g + make_stream(77, 10, 300, buf + g, cap - g, &sent);
    mxu_link_decoder d;
    mxu_link_decoder_init(&d, 300);
    mxu_link_frame f[64];
    uint8_t *p[64];
    size_t n = decode_all(&d, buf, len, 13, f, p, 64);
    cr_assert_eq(n, sent.n, "%zu frames of %zu after %zu garbage bytes", n, sent.n, g);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(f[i].kind, MXU_LINK_FRAME_OK);
        expect_same_header(&f[i].hdr, &sent.h[i]);
        free(p[i]);
    }
    cr_expect_eq(d.skipped, g, "every garbage byte skipped, no packet byte: %llu of %zu",
                 (unsigned long long)d.skipped, g);
    mxu_link_decoder_free(&d);
    free_sent(&sent);
    free(buf);
}

Test(link_codec, false_sync_right_before_a_header)
{
    uint8_t buf[64];
    buf[0] = MXU_LINK_SYNC0;
    buf[1] = MXU_LINK_SYNC1;
    buf[2] = MXU_LINK_SYNC0; /* the real header starts here, inside the false one's window */
    mxu_link_header h = {MXU_LINK_OP_CSR_READ, 1, 0, 0x4C, 0, 4};
    size_t n = 2 + mxu_link_encode(&h, NULL, buf + 2, sizeof buf - 2);
    mxu_link_decoder d;
    mxu_link_decoder_init(&d, 64);
    mxu_link_frame f;
    int done;
    size_t used = mxu_link_decode(&d, buf, n, &f, &done);
    cr_assert(done);
    cr_expect_eq(used, n);
    cr_expect_eq(f.hdr.tag, 1);
    cr_expect_eq(d.skipped, 2);
    mxu_link_decoder_free(&d);
}

Test(link_codec, bad_payload_crc_is_reported_with_its_header)
{
    uint8_t buf[256], p[40];
    memset(p, 0x33, sizeof p);
    mxu_link_header h = {MXU_LINK_OP_MEM_READ | MXU_LINK_RESPONSE, 5, 0, 0x100, 40, 0};
    size_t a = mxu_link_encode(&h, p, buf, sizeof buf);
    buf[MXU_LINK_HEADER_BYTES + 11] ^= 0x40;
    h.tag = 6;
    size_t b = mxu_link_encode(&h, p, buf + a, sizeof buf - a);
    mxu_link_decoder d;
    mxu_link_decoder_init(&d, 64);
    mxu_link_frame f[4];
    uint8_t *q[4];
    size_t n = decode_all(&d, buf, a + b, 1000, f, q, 4);
    cr_assert_eq(n, 2);
    cr_expect_eq(f[0].kind, MXU_LINK_FRAME_BAD_CRC);
    cr_expect_eq(f[0].hdr.tag, 5);
    cr_expect_eq(f[1].kind, MXU_LINK_FRAME_OK);
    cr_expect_eq(f[1].hdr.tag, 6);
    free(q[0]);
    free(q[1]);
    /* a corrupted CRC byte counts the same */
    a = mxu_link_encode(&h, p, buf, sizeof buf);
    buf[a - 1] ^= 0x80;
    int done;
    cr_expect_eq(mxu_link_decode(&d, buf, a, &f[0], &done), a);
    cr_expect(done);
    cr_expect_eq(f[0].kind, MXU_LINK_FRAME_BAD_CRC);
    mxu_link_decoder_free(&d);
}

Test(link_codec, too_long_is_refused_and_hunting_resumes)
{
    uint8_t buf[512], p[200];
    memset(p, 0, sizeof p);
    mxu_link_header big = {MXU_LINK_OP_MEM_WRITE, 1, 0, 0, 200, 0}, small = {MXU_LINK_OP_INFO, 2, 0, 0, 0, 0};
    size_t a = mxu_link_encode(&big, p, buf, sizeof buf);
    size_t b = mxu_link_encode(&small, NULL, buf + a, sizeof buf - a);
    mxu_link_decoder d;
    mxu_link_decoder_init(&d, 100);
    mxu_link_frame f[4];
    uint8_t *q[4];
    size_t n = decode_all(&d, buf, a + b, 1000, f, q, 4);
    cr_assert_eq(n, 2);
    cr_expect_eq(f[0].kind, MXU_LINK_FRAME_TOO_LONG);
    cr_expect_eq(f[0].hdr.len, 200);
    cr_expect_null(f[0].payload);
    cr_expect_eq(f[1].kind, MXU_LINK_FRAME_OK);
    cr_expect_eq(f[1].hdr.tag, 2);
    cr_expect_eq(d.skipped, 204, "the refused payload and CRC were hunted through");
    mxu_link_decoder_free(&d);
}

Test(link_codec, truncation)
{
    uint8_t buf[256], p[64];
    memset(p, 0x5A, sizeof p);
    mxu_link_header h = {MXU_LINK_OP_MEM_WRITE, 3, 0, 0x40, 64, 0}, next = {MXU_LINK_OP_INFO, 4, 0, 0, 0, 0};
    size_t a = mxu_link_encode(&h, p, buf, sizeof buf);
    mxu_link_decoder d;
    mxu_link_decoder_init(&d, 64);
    mxu_link_frame f;
    int done;
    /* a cut header: no frame; the next packet is still found */
    cr_expect_eq(mxu_link_decode(&d, buf, 9, &f, &done), 9);
    cr_expect_not(done);
    size_t b = mxu_link_encode(&next, NULL, buf + 100, sizeof buf - 100);
    cr_expect_eq(mxu_link_decode(&d, buf + 100, b, &f, &done), b);
    cr_assert(done);
    cr_expect_eq(f.hdr.tag, 4);
    /* a cut payload: nothing comes out, whatever follows counts as payload ... */
    cr_expect_eq(mxu_link_decode(&d, buf, a - 10, &f, &done), a - 10);
    cr_expect_not(done);
    cr_expect_eq(mxu_link_decode(&d, buf + 100, b, &f, &done), 10);
    cr_expect(done);
    cr_expect_eq(f.kind, MXU_LINK_FRAME_BAD_CRC, "the cut packet can only fail its CRC");
    /* ... unless the decoder is reset */
    cr_expect_eq(mxu_link_decode(&d, buf, a - 10, &f, &done), a - 10);
    mxu_link_decoder_reset(&d);
    cr_expect_eq(mxu_link_decode(&d, buf + 100, b, &f, &done), b);
    cr_expect(done);
    cr_expect_eq(f.kind, MXU_LINK_FRAME_OK);
    mxu_link_decoder_free(&d);
}

/* Flip random bits of a packet stream: a frame that decodes as good must be
 * one of the packets sent, unchanged. Over many trials most corruptions are
 * seen (bad CRC or a lost header), none slips through. */
Test(link_codec, random_corruption_is_detected)
{
    size_t cap = 12 * mxu_link_packet_bytes(256);
    uint8_t *buf = malloc(cap);
    uint64_t s = 99;
    unsigned good = 0, flagged = 0, trials = 300;
    for (unsigned t = 0; t < trials; t++) {
        struct sent sent;
        size_t len = make_stream(1000 + t, 10, 256, buf, cap, &sent);
        unsigned flips = 1 + (unsigned)(rnd(&s) % 4);
        for (unsigned k = 0; k < flips; k++) {
            size_t bit = rnd(&s) % (8 * len);
            buf[bit / 8] ^= (uint8_t)(1u << bit % 8);
        }
        mxu_link_decoder d;
        mxu_link_decoder_init(&d, 256);
        mxu_link_frame f[64];
        uint8_t *p[64];
        size_t n = decode_all(&d, buf, len, 1u << 20, f, p, 64);
        for (size_t i = 0; i < n; i++) {
            if (f[i].kind != MXU_LINK_FRAME_OK) {
                flagged++;
            } else {
                int found = 0;
                for (size_t j = 0; j < sent.n && !found; j++)
                    found = !memcmp(&f[i].hdr, &sent.h[j], sizeof f[i].hdr) &&
                            (!sent.h[j].len || !memcmp(p[i], sent.payload[j], sent.h[j].len));
                cr_expect(found, "trial %u: a corrupted frame passed as good (tag %u)", t, f[i].hdr.tag);
                good++;
            }
            free(p[i]);
        }
        mxu_link_decoder_free(&d);
        free_sent(&sent);
    }
    cr_expect_gt(good, trials * 5u, "most packets survive a few flips");
    cr_expect_gt(flagged, trials / 4u, "payload corruption is reported, not dropped silently");
    free(buf);
}

/* ---- the RTL states the same constants ----------------------------------------- */

static char *slurp(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", MXU_SOURCE_DIR, rel);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    cr_assert_gt(n, 0, "%s is empty", path);
    return buf;
}

/* Value of "localparam [..] NAME = 8'hXX;" / "8'dN" / "16'dN" in src. */
static long verilog_constant(const char *src, const char *name)
{
    char pat[64];
    snprintf(pat, sizeof pat, " %s ", name);
    const char *p = strstr(src, pat);
    cr_assert_not_null(p, "%s not found", name);
    p = strchr(p, '=');
    const char *q = strchr(p, '\'');
    cr_assert_not_null(q);
    return strtol(q + 2, NULL, q[1] == 'h' ? 16 : 10);
}

Test(link_codec, rtl_constants_agree)
{
    char *rx = slurp("rtl/mxu_link_rx.v"), *ex = slurp("rtl/mxu_link_exec.v");
    const char *both[] = {rx, ex};
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(verilog_constant(both[i], "SYNC0"), MXU_LINK_SYNC0);
        cr_expect_eq(verilog_constant(both[i], "SYNC1"), MXU_LINK_SYNC1);
        cr_expect_eq(verilog_constant(both[i], "OP_INFO"), MXU_LINK_OP_INFO);
        cr_expect_eq(verilog_constant(both[i], "OP_MEM_WRITE"), MXU_LINK_OP_MEM_WRITE);
        cr_expect_eq(verilog_constant(both[i], "OP_MEM_READ"), MXU_LINK_OP_MEM_READ);
        cr_expect_eq(verilog_constant(both[i], "OP_CSR_WRITE"), MXU_LINK_OP_CSR_WRITE);
        cr_expect_eq(verilog_constant(both[i], "OP_CSR_READ"), MXU_LINK_OP_CSR_READ);
        cr_expect_eq(verilog_constant(both[i], "ST_OK"), MXU_LINK_OK);
    }
    cr_expect_eq(verilog_constant(rx, "ST_BAD_CRC"), MXU_LINK_ERR_CRC);
    cr_expect_eq(verilog_constant(rx, "ST_BAD_LENGTH"), MXU_LINK_ERR_LENGTH);
    cr_expect_eq(verilog_constant(rx, "ST_BAD_ADDR"), MXU_LINK_ERR_ADDRESS);
    cr_expect_eq(verilog_constant(rx, "ST_BAD_OPCODE"), MXU_LINK_ERR_OPCODE);
    cr_expect_eq(verilog_constant(ex, "RESPONSE"), MXU_LINK_RESPONSE);
    cr_expect_eq(verilog_constant(ex, "VERSION"), MXU_LINK_VERSION);
    cr_expect_eq(verilog_constant(ex, "INFO_BYTES"), MXU_LINK_INFO_BYTES);
    free(rx);
    free(ex);
}
