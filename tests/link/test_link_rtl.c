/* The RTL link engine (rtl/mxu_link*.v in mxu_link_top, the 4x4 link library)
 * driven through the codec: every error answered with its error response,
 * garbage and false starts skipped, unaligned bursts, the CSR-write
 * retransmission rule, back-pressure on both sides, a slow link, noise, a line
 * that goes dead -- and random programs and a convolution through
 * `rtl:link=1` that give exactly the memory, status and counters of `rtl:`. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "backend_sim.h"
#include "link_rtl.h"
#include "mxu.h"
#include "mxu_backend.h"
#include "mxu_isa.h"
#include "mxu_layer_program.h"
#include "mxu_link.h"
#include "rtl/random_program.h"

#define SPEC "rows=4,cols=4"
#define N_COUNTERS 13

static mxu_hw_config config_of(const char *spec)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, spec), MXU_OK);
    cr_assert_eq(mxu_config_validate(&cfg), MXU_OK);
    return cfg;
}

static mxu_link_rtl *board(const struct mxu_link_rtl_options *o)
{
    struct mxu_link_rtl_options none;
    memset(&none, 0, sizeof none);
    mxu_hw_config cfg = config_of(SPEC);
    mxu_link_rtl *t = NULL;
    cr_assert_eq(mxu_link_rtl_open(&cfg, o ? o : &none, &t), MXU_OK, "%s", mxu_error_detail());
    return t;
}

/* ---- raw packets --------------------------------------------------------------- */

struct raw {
    mxu_link_rtl *t;
    mxu_link_io io;
    mxu_link_decoder dec;
    uint8_t in[8192];
    size_t pos, len;
    uint8_t payload[MXU_LINK_LEN_MAX];
};

static void raw_open(struct raw *r, const struct mxu_link_rtl_options *o)
{
    memset(r, 0, sizeof *r);
    r->t = board(o);
    r->io = mxu_link_rtl_io(r->t);
    cr_assert_eq(mxu_link_decoder_init(&r->dec, MXU_LINK_LEN_MAX), MXU_OK);
}

static void raw_close(struct raw *r)
{
    mxu_link_decoder_free(&r->dec);
    mxu_link_rtl_close(r->t);
}

static void raw_bytes(struct raw *r, const uint8_t *b, size_t n)
{
    cr_assert_eq(r->io.send(r->io.ctx, b, n, 1), MXU_OK);
}

static void raw_packet(struct raw *r, uint8_t op, uint8_t tag, uint32_t addr, uint16_t len, uint16_t count,
                       const void *payload)
{
    static uint8_t pkt[MXU_LINK_LEN_MAX + 64];
    mxu_link_header h = {op, tag, 0, addr, len, count};
    size_t n = mxu_link_encode(&h, payload, pkt, sizeof pkt);
    cr_assert_gt(n, 0);
    raw_bytes(r, pkt, n);
}

/* The next frame from the device (its payload copied to r->payload). */
static mxu_link_frame raw_answer(struct raw *r)
{
    mxu_link_frame f;
    for (int tries = 0; tries < 10000; tries++) {
        if (r->pos == r->len) {
            int rc = r->io.recv(r->io.ctx, r->in, sizeof r->in, &r->len, 1);
            cr_assert_eq(rc, MXU_OK, "no answer: %s", mxu_error_detail());
            r->pos = 0;
        }
        int done;
        r->pos += mxu_link_decode(&r->dec, r->in + r->pos, r->len - r->pos, &f, &done);
        if (done) {
            cr_assert_eq(f.kind, MXU_LINK_FRAME_OK, "a corrupt answer on a clean line");
            if (f.hdr.len)
                memcpy(r->payload, f.payload, f.hdr.len);
            f.payload = r->payload;
            return f;
        }
    }
    cr_assert_fail("no complete answer");
    return f;
}

static void expect_answer(struct raw *r, uint8_t op, uint8_t tag, uint8_t status, uint16_t len)
{
    mxu_link_frame f = raw_answer(r);
    cr_expect_eq(f.hdr.op, op | MXU_LINK_RESPONSE, "tag %u: op 0x%02x", tag, f.hdr.op);
    cr_expect_eq(f.hdr.tag, tag, "tag %u answered as %u", tag, f.hdr.tag);
    cr_expect_eq(f.hdr.status, status, "tag %u: status %u (%s), expected %u", tag, f.hdr.status,
                 mxu_link_status_name(f.hdr.status), status);
    cr_expect_eq(f.hdr.len, len, "tag %u: len %u", tag, f.hdr.len);
    cr_expect_eq(f.hdr.count, 0);
}

static mxu_link_info raw_info(struct raw *r, uint8_t tag)
{
    raw_packet(r, MXU_LINK_OP_INFO, tag, 0, 0, 0, NULL);
    mxu_link_frame f = raw_answer(r);
    cr_assert_eq(f.hdr.tag, tag);
    cr_assert_eq(f.hdr.len, MXU_LINK_INFO_BYTES);
    mxu_link_info info;
    mxu_link_info_decode(f.payload, &info);
    return info;
}

TestSuite(link_rtl, .timeout = 300);

Test(link_rtl, info)
{
    struct raw r;
    raw_open(&r, NULL);
    mxu_link_info a = raw_info(&r, 1), b = raw_info(&r, 2);
    cr_expect_eq(a.version, MXU_LINK_VERSION);
    cr_expect_eq(a.max_payload, 4096);
    cr_expect_eq(a.rx_window, 16384);
    cr_expect_eq(a.rx_packets, 16);
    cr_expect_eq(a.packets, 1);
    cr_expect_eq(b.packets, 2);
    cr_expect_eq(a.crc_errors + a.skipped, 0);
    cr_expect_eq(mxu_link_rtl_pins(r.t) & MXU_RTL_PIN_LINK_ERROR, 0);
    raw_close(&r);
}

Test(link_rtl, every_error_is_answered)
{
    struct raw r;
    raw_open(&r, NULL);
    size_t dram_bytes;
    uint8_t *dram = mxu_link_rtl_dram(r.t, &dram_bytes);
    uint8_t p[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t tag = 10;
    raw_packet(&r, 0x7F, tag, 0, 0, 0, NULL);
    expect_answer(&r, 0x7F, tag++, MXU_LINK_ERR_OPCODE, 0);
    cr_expect_neq(mxu_link_rtl_pins(r.t) & MXU_RTL_PIN_LINK_ERROR, 0, "the link error pin is set");
    raw_packet(&r, MXU_LINK_OP_CSR_READ | MXU_LINK_RESPONSE, tag, 0, 0, 4, NULL);
    expect_answer(&r, MXU_LINK_OP_CSR_READ, tag++, MXU_LINK_ERR_OPCODE, 0);
    raw_packet(&r, 0x00, tag, 0, 4, 0, p); /* unknown, with a payload to skip */
    expect_answer(&r, 0x00, tag++, MXU_LINK_ERR_OPCODE, 0);
    raw_packet(&r, MXU_LINK_OP_MEM_READ, tag, 0, 0, 0, NULL);
    expect_answer(&r, MXU_LINK_OP_MEM_READ, tag++, MXU_LINK_ERR_LENGTH, 0);
    raw_packet(&r, MXU_LINK_OP_MEM_READ, tag, 0, 0, 4097, NULL);
    expect_answer(&r, MXU_LINK_OP_MEM_READ, tag++, MXU_LINK_ERR_LENGTH, 0);
    raw_packet(&r, MXU_LINK_OP_MEM_READ, tag, 0, 4, 4, p); /* a read carries no payload */
    expect_answer(&r, MXU_LINK_OP_MEM_READ, tag++, MXU_LINK_ERR_LENGTH, 0);
    raw_packet(&r, MXU_LINK_OP_MEM_WRITE, tag, 0, 4, 2, p);
    expect_answer(&r, MXU_LINK_OP_MEM_WRITE, tag++, MXU_LINK_ERR_LENGTH, 0);
    raw_packet(&r, MXU_LINK_OP_CSR_WRITE, tag, 0x40, 3, 0, p);
    expect_answer(&r, MXU_LINK_OP_CSR_WRITE, tag++, MXU_LINK_ERR_LENGTH, 0);
    raw_packet(&r, MXU_LINK_OP_CSR_READ, tag, 0x40, 0, 2, NULL);
    expect_answer(&r, MXU_LINK_OP_CSR_READ, tag++, MXU_LINK_ERR_LENGTH, 0);
    raw_packet(&r, MXU_LINK_OP_INFO, tag, 0, 0, 1, NULL);
    expect_answer(&r, MXU_LINK_OP_INFO, tag++, MXU_LINK_ERR_LENGTH, 0);
    raw_packet(&r, MXU_LINK_OP_MEM_WRITE, tag, (uint32_t)dram_bytes - 4, 8, 0, p);
    expect_answer(&r, MXU_LINK_OP_MEM_WRITE, tag++, MXU_LINK_ERR_ADDRESS, 0);
    raw_packet(&r, MXU_LINK_OP_MEM_READ, tag, 0xFFFFFFFFu, 0, 2, NULL);
    expect_answer(&r, MXU_LINK_OP_MEM_READ, tag++, MXU_LINK_ERR_ADDRESS, 0);
    raw_packet(&r, MXU_LINK_OP_CSR_READ, tag, 0x1000, 0, 4, NULL);
    expect_answer(&r, MXU_LINK_OP_CSR_READ, tag++, MXU_LINK_ERR_ADDRESS, 0);
    raw_packet(&r, MXU_LINK_OP_CSR_WRITE, tag, 0x42, 4, 0, p);
    expect_answer(&r, MXU_LINK_OP_CSR_WRITE, tag++, MXU_LINK_ERR_ADDRESS, 0);
    /* a MEM_WRITE whose payload CRC fails changes nothing */
    static uint8_t pkt[128];
    mxu_link_header h = {MXU_LINK_OP_MEM_WRITE, tag, 0, 0x100, 8, 0};
    size_t n = mxu_link_encode(&h, p, pkt, sizeof pkt);
    pkt[MXU_LINK_HEADER_BYTES + 3] ^= 0x04;
    raw_bytes(&r, pkt, n);
    expect_answer(&r, MXU_LINK_OP_MEM_WRITE, tag++, MXU_LINK_ERR_CRC, 0);
    for (int i = 0; i < 8; i++)
        cr_expect_eq(dram[0x100 + i], 0, "a bad-CRC write reached DRAM byte %d", i);
    /* LEN above the maximum: refused at once, no payload awaited */
    raw_packet(&r, MXU_LINK_OP_MEM_WRITE, tag, 0, 0, 0, NULL);
    expect_answer(&r, MXU_LINK_OP_MEM_WRITE, tag++, MXU_LINK_ERR_LENGTH, 0);
    h = (mxu_link_header){MXU_LINK_OP_MEM_WRITE, tag, 0, 0, 5000, 0};
    uint8_t *zeros = calloc(1, 5000), *big = malloc(mxu_link_packet_bytes(5000));
    mxu_link_encode(&h, zeros, big, mxu_link_packet_bytes(5000));
    raw_bytes(&r, big, MXU_LINK_HEADER_BYTES); /* the header only */
    free(zeros);
    free(big);
    expect_answer(&r, MXU_LINK_OP_MEM_WRITE, tag++, MXU_LINK_ERR_LENGTH, 0);
    /* and the device still works, having counted it all */
    mxu_link_info info = raw_info(&r, tag);
    cr_expect_eq(info.packets, tag - 10 + 1u);
    cr_expect_eq(info.crc_errors, 1);
    cr_expect_eq(info.skipped, 0);
    raw_packet(&r, MXU_LINK_OP_MEM_WRITE, 200, 0x100, 8, 0, p);
    expect_answer(&r, MXU_LINK_OP_MEM_WRITE, 200, MXU_LINK_OK, 0);
    cr_expect_eq(memcmp(dram + 0x100, p, 8), 0);
    raw_close(&r);
}

Test(link_rtl, garbage_and_false_starts_are_skipped)
{
    struct raw r;
    raw_open(&r, NULL);
    uint8_t g[3000];
    uint64_t s = 77;
    for (size_t i = 0; i < sizeof g; i++) {
        s = s * 6364136223846793005ull + 1;
        uint8_t x = (uint8_t)(s >> 56);
        g[i] = x < 40 ? MXU_LINK_SYNC0 : x < 80 ? MXU_LINK_SYNC1 : x;
    }
    /* end the garbage with a header that fails its CRC by one bit, cut short */
    mxu_link_header fake = {MXU_LINK_OP_CSR_READ, 1, 0, 0, 0, 4};
    mxu_link_encode(&fake, NULL, g + sizeof g - 20, 20);
    g[sizeof g - 20 + 15] ^= 0x20;
    raw_bytes(&r, g, sizeof g - 7);
    raw_packet(&r, MXU_LINK_OP_CSR_READ, 33, MXU_CSR_ID, 0, 4, NULL);
    mxu_link_frame f = raw_answer(&r);
    cr_assert_eq(f.hdr.tag, 33);
    cr_expect_eq(f.hdr.status, MXU_LINK_OK);
    cr_expect_eq(f.payload[0] | f.payload[1] << 8 | f.payload[2] << 16 | (uint32_t)f.payload[3] << 24,
                 MXU_ID_MAGIC);
    mxu_link_info info = raw_info(&r, 34);
    cr_expect_eq(info.skipped, sizeof g - 7, "skipped %u of %zu garbage bytes", info.skipped, sizeof g - 7);
    cr_expect_eq(info.packets, 2);
    cr_expect_eq(mxu_link_rtl_pins(r.t) & MXU_RTL_PIN_LINK_ERROR, 0, "garbage is not an error");
    raw_close(&r);
}

Test(link_rtl, csr_write_retransmission_is_not_repeated)
{
    struct raw r;
    raw_open(&r, NULL);
    uint32_t v1 = 0x100, v2 = 0x200, v3 = 0x300;
    raw_packet(&r, MXU_LINK_OP_CSR_WRITE, 9, MXU_CSR_CMD_BASE, 4, 0, &v1);
    expect_answer(&r, MXU_LINK_OP_CSR_WRITE, 9, MXU_LINK_OK, 0);
    raw_packet(&r, MXU_LINK_OP_CSR_WRITE, 9, MXU_CSR_CMD_BASE, 4, 0, &v2); /* same tag: a retransmission */
    expect_answer(&r, MXU_LINK_OP_CSR_WRITE, 9, MXU_LINK_OK, 0);
    raw_packet(&r, MXU_LINK_OP_CSR_READ, 10, MXU_CSR_CMD_BASE, 0, 4, NULL);
    mxu_link_frame f = raw_answer(&r);
    cr_expect_eq(f.payload[0] | f.payload[1] << 8, 0x100, "the retransmission was not performed");
    raw_packet(&r, MXU_LINK_OP_CSR_WRITE, 11, MXU_CSR_CMD_BASE, 4, 0, &v3);
    expect_answer(&r, MXU_LINK_OP_CSR_WRITE, 11, MXU_LINK_OK, 0);
    raw_packet(&r, MXU_LINK_OP_CSR_READ, 12, MXU_CSR_CMD_BASE, 0, 4, NULL);
    f = raw_answer(&r);
    cr_expect_eq(f.payload[0] | f.payload[1] << 8, 0x300);
    raw_close(&r);
}

/* The host stops reading: the device fills the (small) TX buffer and waits;
 * nothing is lost, and the host's requests within the window still go in. */
Test(link_rtl, back_pressure_loses_nothing)
{
    struct mxu_link_rtl_options o;
    memset(&o, 0, sizeof o);
    o.sim.link_tx_capacity = 8;
    struct raw r;
    raw_open(&r, &o);
    size_t dram_bytes;
    uint8_t *dram = mxu_link_rtl_dram(r.t, &dram_bytes);
    for (int i = 0; i < 4096; i++)
        dram[i] = (uint8_t)(i * 13 + 1);
    for (uint8_t k = 0; k < 4; k++)
        raw_packet(&r, MXU_LINK_OP_MEM_READ, k, 1000u * k + 3, 0, 1000, NULL);
    mxu_link_rtl_step(r.t, 30000);
    uint64_t in, out;
    mxu_link_rtl_counts(r.t, &in, &out, NULL);
    cr_expect_eq(in, 4 * MXU_LINK_HEADER_BYTES, "every request went in");
    cr_expect_eq(out, 8, "the device sent only what the buffer holds");
    for (uint8_t k = 0; k < 4; k++) {
        mxu_link_frame f = raw_answer(&r);
        cr_assert_eq(f.hdr.tag, k);
        cr_assert_eq(f.hdr.len, 1000);
        cr_expect_eq(memcmp(f.payload, dram + 1000u * k + 3, 1000), 0, "answer %u", k);
    }
    raw_close(&r);
}

/* ---- the client over the RTL ---------------------------------------------------- */

static mxu_link *client(mxu_link_rtl *t)
{
    mxu_link_io io = mxu_link_rtl_io(t);
    mxu_link *l = NULL;
    cr_assert_eq(mxu_link_open(&io, &l), MXU_OK, "%s", mxu_error_detail());
    mxu_link_set_timeout(l, 1);
    return l;
}

static void burst(mxu_link *l, uint8_t *dram, uint32_t addr, size_t n, uint64_t seed)
{
    uint8_t *a = malloc(n), *b = malloc(n);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        a[i] = (uint8_t)(seed >> 56);
    }
    uint8_t before = addr ? dram[addr - 1] : 0, after = dram[addr + n];
    cr_assert_eq(mxu_link_mem_write(l, addr, a, n), MXU_OK, "%s", mxu_error_detail());
    cr_expect_eq(memcmp(dram + addr, a, n), 0, "write [0x%x, +%zu)", addr, n);
    if (addr)
        cr_expect_eq(dram[addr - 1], before, "byte before 0x%x touched", addr);
    cr_expect_eq(dram[addr + n], after, "byte after [0x%x, +%zu) touched", addr, n);
    cr_assert_eq(mxu_link_mem_read(l, addr, b, n), MXU_OK, "%s", mxu_error_detail());
    cr_expect_eq(memcmp(a, b, n), 0, "read [0x%x, +%zu)", addr, n);
    free(a);
    free(b);
}

Test(link_rtl, unaligned_bursts)
{
    mxu_link_rtl *t = board(NULL);
    mxu_link *l = client(t);
    size_t dram_bytes;
    uint8_t *dram = mxu_link_rtl_dram(t, &dram_bytes);
    uint64_t s = 3;
    for (int i = 0; i < 40; i++) {
        s = s * 6364136223846793005ull + 1;
        uint32_t addr = (uint32_t)(s >> 40) % 200000 + 1;
        size_t n = i < 10 ? (size_t)i + 1 : (size_t)(s >> 20) % 9000 + 1;
        burst(l, dram, addr, n, s);
    }
    burst(l, dram, 0, 4096, 1);
    burst(l, dram, (uint32_t)dram_bytes - 5000, 4999, 2);
    uint8_t tail[3];
    cr_expect_eq(mxu_link_mem_read(l, (uint32_t)dram_bytes - 3, tail, 3), MXU_OK, "the last bytes of DRAM");
    cr_expect_eq(mxu_link_mem_read(l, (uint32_t)dram_bytes - 3, tail, 4), MXU_ERR_RANGE);
    struct mxu_link_stats st;
    mxu_link_get_stats(l, &st);
    cr_expect_eq(st.retries + st.crc_errors + st.timeouts, 0, "a clean line");
    mxu_link_close(l);
    mxu_link_rtl_close(t);
}

Test(link_rtl, slow_link)
{
    struct mxu_link_rtl_options o;
    memset(&o, 0, sizeof o);
    o.sim.link_rate = 400; /* an FT232H against a 100 MHz core */
    mxu_link_rtl *t = board(&o);
    mxu_link *l = client(t);
    size_t dram_bytes;
    uint8_t *dram = mxu_link_rtl_dram(t, &dram_bytes);
    uint64_t c0 = mxu_link_rtl_cycle(t);
    burst(l, dram, 17, 20000, 9);
    uint64_t cycles = mxu_link_rtl_cycle(t) - c0;
    struct mxu_link_stats st;
    mxu_link_get_stats(l, &st);
    double per_byte = (double)cycles / (double)(st.tx_bytes + st.rx_bytes); /* one way at a time */
    cr_expect(per_byte >= 2.5 && per_byte < 3.5, "%.2f cycles per link byte at 400 bytes per 1000 cycles",
              per_byte);
    mxu_link_close(l);
    mxu_link_rtl_close(t);
}

Test(link_rtl, noise_is_corrected)
{
    struct mxu_link_rtl_options o;
    memset(&o, 0, sizeof o);
    o.noise_ppm = 40; /* a 4 KiB packet is hit one time in ten */
    o.noise_seed = 4;
    mxu_link_rtl *t = board(&o);
    mxu_link_io io = mxu_link_rtl_io(t);
    mxu_link *l = NULL;
    mxu_link_policy policy = {1, 0, 0}; /* 1 ms from the first INFO on: it may be hit too */
    cr_assert_eq(mxu_link_open_with(&io, &policy, &l), MXU_OK, "%s", mxu_error_detail());
    size_t dram_bytes;
    uint8_t *dram = mxu_link_rtl_dram(t, &dram_bytes);
    for (int i = 0; i < 4; i++)
        burst(l, dram, 1000u + 70000u * i, 60000, (uint64_t)i);
    for (uint32_t v = 0; v < 20; v++) {
        uint32_t back;
        cr_assert_eq(mxu_link_csr_write(l, MXU_CSR_CMD_COUNT, v), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(mxu_link_csr_read(l, MXU_CSR_CMD_COUNT, &back), MXU_OK, "%s", mxu_error_detail());
        cr_expect_eq(back, v);
    }
    struct mxu_link_stats st;
    uint64_t flips;
    mxu_link_get_stats(l, &st);
    mxu_link_rtl_counts(t, NULL, NULL, &flips);
    cr_expect_gt(flips, 10, "%llu bits flipped", (unsigned long long)flips);
    cr_expect_gt(st.retries, 5, "%llu retries", (unsigned long long)st.retries);
    cr_expect_gt(st.crc_errors, 5, "%llu CRC errors", (unsigned long long)st.crc_errors);
    mxu_link_info info;
    cr_assert_eq(mxu_link_info_read(l, &info), MXU_OK, "%s", mxu_error_detail());
    cr_expect_gt(info.crc_errors, 0, "the device saw bad CRCs too");
    mxu_link_close(l);
    mxu_link_rtl_close(t);
}

/* A line that drops everything: bounded retries, a timeout, no hang; when it
 * comes back the link recovers. */
struct cut {
    mxu_link_io inner;
    int dead;
};

static int cut_send(void *ctx, const uint8_t *b, size_t n, int ms)
{
    struct cut *c = ctx;
    return c->dead ? MXU_OK : c->inner.send(c->inner.ctx, b, n, ms);
}

static int cut_recv(void *ctx, uint8_t *b, size_t cap, size_t *got, int ms)
{
    struct cut *c = ctx;
    return c->inner.recv(c->inner.ctx, b, cap, got, ms);
}

Test(link_rtl, dead_line_times_out_then_recovers)
{
    mxu_link_rtl *t = board(NULL);
    struct cut c = {mxu_link_rtl_io(t), 0};
    mxu_link_io io = {&c, cut_send, cut_recv};
    mxu_link *l = NULL;
    cr_assert_eq(mxu_link_open(&io, &l), MXU_OK);
    mxu_link_set_timeout(l, 1);
    mxu_link_set_retries(l, 2);
    c.dead = 1;
    uint64_t c0 = mxu_link_rtl_cycle(t);
    uint32_t v;
    cr_expect_eq(mxu_link_csr_read(l, MXU_CSR_ID, &v), MXU_ERR_TIMEOUT);
    cr_expect(strstr(mxu_error_detail(), "3 attempts") != NULL, "%s", mxu_error_detail());
    cr_expect_leq(mxu_link_rtl_cycle(t) - c0, 3 * 100000ull + 1000, "three 1 ms waits at 100 MHz");
    c.dead = 0;
    cr_expect_eq(mxu_link_csr_read(l, MXU_CSR_ID, &v), MXU_OK, "%s", mxu_error_detail());
    cr_expect_eq(v, MXU_ID_MAGIC);
    mxu_link_close(l);
    mxu_link_rtl_close(t);
}

Test(link_rtl, no_csr_port_in_a_link_library)
{
    mxu_hw_config cfg = config_of(SPEC);
    char path[800];
    mxu_sim_dir(&cfg, "MXU_RTL_DIR", "rtl", path, sizeof path);
    strcat(path, "/libmxu_rtl_link.so");
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    cr_assert_not_null(lib, "%s", dlerror());
    unsigned (*features)(void);
    mxu_rtl *(*create)(const mxu_rtl_options *, char *, size_t);
    uint32_t (*csr_read)(mxu_rtl *, uint32_t);
    int (*fault)(const mxu_rtl *, char *, size_t);
    void (*destroy)(mxu_rtl *);
    *(void **)&features = dlsym(lib, "mxu_rtl_features");
    *(void **)&create = dlsym(lib, "mxu_rtl_create");
    *(void **)&csr_read = dlsym(lib, "mxu_rtl_csr_read");
    *(void **)&fault = dlsym(lib, "mxu_rtl_fault");
    *(void **)&destroy = dlsym(lib, "mxu_rtl_destroy");
    cr_assert(features && create && csr_read && fault && destroy);
    cr_expect_eq(features() & (MXU_RTL_FEATURE_LINK | MXU_RTL_FEATURE_CSR), MXU_RTL_FEATURE_LINK);
    mxu_rtl *r = create(NULL, NULL, 0);
    cr_assert_not_null(r);
    char msg[200];
    cr_expect_eq(fault(r, msg, sizeof msg), 0);
    cr_expect_eq(csr_read(r, MXU_CSR_ID), 0);
    cr_expect_eq(fault(r, msg, sizeof msg), 1);
    cr_expect(strstr(msg, "through the link") != NULL, "%s", msg);
    destroy(r);
    dlclose(lib);
}

/* ---- rtl:link=1 against rtl: -------------------------------------------------------- */

struct outcome {
    int wait_rc;
    uint32_t status, err_code, err_pc;
    uint64_t counters[N_COUNTERS];
    uint8_t dram[RP_IMAGE_BYTES];
};

static uint32_t csr(void *st, uint32_t off)
{
    uint32_t v = 0;
    cr_assert_eq(mxu_backend_rtl.csr_read(st, off, &v), MXU_OK, "%s", mxu_error_detail());
    return v;
}

static void run_program(const rp_program *p, const char *options, struct outcome *o)
{
    void *st = NULL;
    memset(o, 0, sizeof *o);
    cr_assert_eq(mxu_backend_rtl.open(&p->cfg, options, &st), MXU_OK, "%s: %s", options, mxu_error_detail());
    const struct mxu_backend_ops *b = &mxu_backend_rtl;
    cr_assert_eq(b->mem_write(st, 0, p->image, RP_IMAGE_BYTES), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(b->csr_write(st, MXU_CSR_CMD_BASE, RP_CODE_BASE), MXU_OK);
    cr_assert_eq(b->csr_write(st, MXU_CSR_CMD_COUNT, p->n_insns), MXU_OK);
    cr_assert_eq(b->csr_write(st, MXU_CSR_CTRL, MXU_CTRL_START), MXU_OK);
    o->wait_rc = b->wait(st, 5000000);
    cr_assert_eq(o->wait_rc, MXU_OK, "%s: %s", options, mxu_error_detail());
    o->status = csr(st, MXU_CSR_STATUS);
    o->err_code = csr(st, MXU_CSR_ERR_CODE);
    o->err_pc = csr(st, MXU_CSR_ERR_PC);
    for (unsigned i = 0; i < N_COUNTERS; i++)
        o->counters[i] = csr(st, MXU_CNT_CYCLES + 8 * i) | (uint64_t)csr(st, MXU_CNT_CYCLES + 8 * i + 4) << 32;
    cr_assert_eq(b->mem_read(st, 0, o->dram, RP_IMAGE_BYTES), MXU_OK, "%s", mxu_error_detail());
    b->close(st);
}

static void expect_same(const struct outcome *a, const struct outcome *b, uint64_t seed)
{
    cr_expect_eq(a->status, b->status, "seed %llu: STATUS", (unsigned long long)seed);
    cr_expect_eq(a->err_code, b->err_code, "seed %llu: ERR_CODE", (unsigned long long)seed);
    cr_expect_eq(a->err_pc, b->err_pc, "seed %llu: ERR_PC", (unsigned long long)seed);
    for (unsigned i = 0; i < N_COUNTERS; i++)
        cr_expect_eq(a->counters[i], b->counters[i], "seed %llu: counter %u: %llu vs %llu",
                     (unsigned long long)seed, i, (unsigned long long)a->counters[i],
                     (unsigned long long)b->counters[i]);
    cr_expect_eq(memcmp(a->dram, b->dram, RP_IMAGE_BYTES), 0, "seed %llu: DRAM differs", (unsigned long long)seed);
}

static void programs_through_the_link(const char *link_options, unsigned count, uint64_t seed0)
{
    mxu_hw_config cfg = config_of(SPEC);
    rp_program *p = malloc(sizeof *p);
    struct outcome *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    cr_assert(p && a && b);
    uint64_t cycles = 0;
    for (unsigned i = 0; i < count; i++) {
        uint64_t seed = seed0 + i;
        rp_generate(&cfg, seed, 10 + (unsigned)(seed % 80), p);
        if (i % 4 == 3) /* now and then a broken program: same error, same place */
            rp_corrupt(p, &(rp_rng){seed});
        run_program(p, "", a);
        run_program(p, link_options, b);
        expect_same(a, b, seed);
        cycles += a->counters[0];
    }
    cr_expect_gt(cycles, count * 50ull, "the programs ran");
    free(p);
    free(a);
    free(b);
}

Test(link_rtl, random_programs_match_rtl) { programs_through_the_link("link=1", 12, 7000); }

Test(link_rtl, random_programs_match_rtl_over_a_noisy_slow_link)
{
    programs_through_the_link("link=1,link_rate=600,link_buffer=64,link_noise=100,link_seed=3,link_poll=97", 4,
                              8000);
}

static void conv_on(const char *uri, const mxu_program *p, const uint8_t *input, size_t in_bytes, uint32_t in_t,
                    uint32_t out_t, uint8_t *out, size_t out_bytes, mxu_counters *c)
{
    mxu_device *dev;
    cr_assert_eq(mxu_open(uri, &dev), MXU_OK, "%s: %s", uri, mxu_error_detail());
    cr_assert_eq(mxu_program_load(dev, p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_tensor_write(dev, p, in_t, input, in_bytes), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_run(dev, p, 0, c), MXU_OK, "%s: %s", uri, mxu_error_detail());
    cr_assert_eq(mxu_tensor_read(dev, p, out_t, out, out_bytes), MXU_OK, "%s", mxu_error_detail());
    mxu_close(dev);
}

Test(link_rtl, conv_layer_matches_rtl)
{
    mxu_hw_config cfg = config_of(SPEC);
    struct mxu_layer_desc d = {.name = "conv", .op = MXU_LAYER_CONV2D, .n = 1, .h = 12, .w = 11, .cin = 6,
                               .cout = 10, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 2, .pad_top = 1,
                               .pad_left = 1, .pad_bottom = 1, .pad_right = 1, .groups = 1, .pool_k = 2,
                               .pool_s = 2, .act_min = -128, .act_max = 127};
    mxu_program *p = NULL;
    cr_assert_eq(mxu_build_layer_program(&cfg, &d, 5, &p), MXU_OK, "%s", mxu_error_detail());
    uint32_t in_t = UINT32_MAX, out_t = UINT32_MAX;
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            in_t = i;
        if (p->tensors[i].role == MXU_ROLE_OUTPUT)
            out_t = i;
    }
    cr_assert(in_t != UINT32_MAX && out_t != UINT32_MAX);
    size_t in_bytes = mxu_tensor_bytes(&p->tensors[in_t]), out_bytes = mxu_tensor_bytes(&p->tensors[out_t]);
    uint8_t *in = malloc(in_bytes), *a = malloc(out_bytes), *b = malloc(out_bytes);
    for (size_t i = 0; i < in_bytes; i++)
        in[i] = (uint8_t)(i * 37 + 11);
    mxu_counters ca, cb;
    conv_on("rtl:" SPEC, p, in, in_bytes, in_t, out_t, a, out_bytes, &ca);
    conv_on("rtl:" SPEC ",link=1", p, in, in_bytes, in_t, out_t, b, out_bytes, &cb);
    cr_expect_eq(memcmp(a, b, out_bytes), 0, "outputs differ");
    const uint64_t va[] = {ca.cycles, ca.load_busy, ca.load_wait, ca.compute_busy, ca.compute_wait, ca.store_busy,
                           ca.store_wait, ca.array_vectors, ca.weight_stall, ca.dram_rd_bytes, ca.dram_wr_bytes,
                           ca.insns, ca.act_busy, ca.status, ca.err_code, ca.err_pc};
    const uint64_t vb[] = {cb.cycles, cb.load_busy, cb.load_wait, cb.compute_busy, cb.compute_wait, cb.store_busy,
                           cb.store_wait, cb.array_vectors, cb.weight_stall, cb.dram_rd_bytes, cb.dram_wr_bytes,
                           cb.insns, cb.act_busy, cb.status, cb.err_code, cb.err_pc};
    for (size_t i = 0; i < sizeof va / sizeof *va; i++)
        cr_expect_eq(va[i], vb[i], "counter/status %zu: %llu over rtl:, %llu over the link", i,
                     (unsigned long long)va[i], (unsigned long long)vb[i]);
    cr_expect_gt(ca.array_vectors, 0);
    free(in);
    free(a);
    free(b);
    mxu_program_free(p);
}

Test(link_rtl, wait_limit_over_the_link)
{
    mxu_hw_config cfg = config_of(SPEC);
    rp_program *p = malloc(sizeof *p);
    rp_generate(&cfg, 42, 90, p);
    void *st;
    const struct mxu_backend_ops *b = &mxu_backend_rtl;
    cr_assert_eq(b->open(&cfg, "link=1,link_poll=50", &st), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(b->mem_write(st, 0, p->image, RP_IMAGE_BYTES), MXU_OK);
    cr_assert_eq(b->csr_write(st, MXU_CSR_CMD_BASE, RP_CODE_BASE), MXU_OK);
    cr_assert_eq(b->csr_write(st, MXU_CSR_CMD_COUNT, p->n_insns), MXU_OK);
    cr_assert_eq(b->csr_write(st, MXU_CSR_CTRL, MXU_CTRL_START), MXU_OK);
    cr_expect_eq(b->wait(st, 20), MXU_ERR_TIMEOUT);
    cr_expect(strstr(mxu_error_detail(), "over the link") != NULL, "%s", mxu_error_detail());
    cr_expect_eq(b->wait(st, 0), MXU_OK, "and it finishes: %s", mxu_error_detail());
    b->close(st);
    free(p);
}

Test(link_rtl, options)
{
    mxu_hw_config cfg = config_of(SPEC);
    void *st;
    cr_expect_eq(mxu_backend_rtl.open(&cfg, "link_rate=400", &st), MXU_ERR_INVAL);
    cr_expect(strstr(mxu_error_detail(), "link=1") != NULL, "%s", mxu_error_detail());
    cr_expect_eq(mxu_backend_rtl.open(&cfg, "link=1,link_rate=0", &st), MXU_ERR_INVAL);
    cr_expect_eq(mxu_backend_rtl.open(&cfg, "link=2", &st), MXU_ERR_INVAL);
    cr_expect_eq(mxu_backend_rtl.open(&cfg, "link=1,link_bogus=1", &st), MXU_ERR_INVAL);
}
