/* The link client (driver/link_client.c) against a fake device written with
 * the codec: the protocol's rules (docs/link.md) in a few lines of C, plus
 * faults on demand -- lost requests, corrupted payloads, lost or corrupted
 * answers, a dead or babbling line, a failing transport. Checks that data
 * arrives intact, the window is respected, retries happen and are bounded,
 * a retried CSR write is performed once, and every failure ends in a clear
 * error instead of a hang. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"
#include "mxu_link.h"

#define FAKE_MEM 65536u
#define FAKE_MAX 256u
#define FAKE_WINDOW 1024u
#define FAKE_PACKETS 6u

struct fake {
    mxu_link_decoder dec;
    uint8_t mem[FAKE_MEM];
    uint32_t csr[1024];
    uint16_t version, max_payload;
    uint8_t *in, *out;
    size_t in_len, out_len, out_pos;
    /* faults: every Nth request / answer (0 = never) */
    unsigned drop_request, corrupt_payload, lose_answer, corrupt_answer;
    int dead, babble, send_error;
    /* what happened */
    unsigned requests, answers, csr_writes, crc_answers;
    size_t max_bytes, max_packets;
    uint8_t last_ok_tag;
    int last_ok;
};

static struct fake *fake_new(void)
{
    struct fake *f = calloc(1, sizeof *f);
    cr_assert_not_null(f);
    cr_assert_eq(mxu_link_decoder_init(&f->dec, MXU_LINK_LEN_MAX), MXU_OK);
    f->in = malloc(1 << 22);
    f->out = malloc(1 << 22);
    f->version = MXU_LINK_VERSION;
    f->max_payload = FAKE_MAX;
    return f;
}

static void fake_free(struct fake *f)
{
    mxu_link_decoder_free(&f->dec);
    free(f->in);
    free(f->out);
    free(f);
}

static void answer(struct fake *f, const mxu_link_header *req, uint8_t status, const uint8_t *payload, uint16_t len)
{
    f->answers++;
    if (status == MXU_LINK_OK) {
        f->last_ok_tag = req->tag;
        f->last_ok = 1;
    }
    if (f->lose_answer && f->answers % f->lose_answer == 0)
        return; /* sent, lost on the way */
    mxu_link_header h = {(uint8_t)(req->op | MXU_LINK_RESPONSE), req->tag, status, req->addr,
                         status ? 0 : len, 0};
    size_t n = mxu_link_encode(&h, payload, f->out + f->out_len, (1 << 22) - f->out_len);
    cr_assert_gt(n, 0);
    if (f->corrupt_answer && f->answers % f->corrupt_answer == 0)
        f->out[f->out_len + n - 1 - (f->answers % (n - 1))] ^= 0x10;
    f->out_len += n;
}

static uint8_t check(const struct fake *f, const mxu_link_header *h)
{
    int read = h->op == MXU_LINK_OP_MEM_READ || h->op == MXU_LINK_OP_CSR_READ;
    uint32_t n = read ? h->count : h->len;
    switch (h->op) {
    case MXU_LINK_OP_INFO: return h->len || h->count ? MXU_LINK_ERR_LENGTH : MXU_LINK_OK;
    case MXU_LINK_OP_MEM_WRITE:
    case MXU_LINK_OP_MEM_READ:
        if (!n || n > f->max_payload || (read ? h->len : h->count))
            return MXU_LINK_ERR_LENGTH;
        return (uint64_t)h->addr + n > FAKE_MEM ? MXU_LINK_ERR_ADDRESS : MXU_LINK_OK;
    case MXU_LINK_OP_CSR_WRITE:
    case MXU_LINK_OP_CSR_READ:
        if (n != 4 || (read ? h->len : h->count))
            return MXU_LINK_ERR_LENGTH;
        return h->addr % 4 || h->addr >= 4096 ? MXU_LINK_ERR_ADDRESS : MXU_LINK_OK;
    default: return MXU_LINK_ERR_OPCODE;
    }
}

static void perform(struct fake *f, const mxu_link_frame *fr)
{
    const mxu_link_header *h = &fr->hdr;
    f->requests++;
    if (f->drop_request && f->requests % f->drop_request == 0)
        return; /* as if its header had been corrupted */
    uint8_t status = check(f, h);
    int bad_crc = fr->kind == MXU_LINK_FRAME_BAD_CRC ||
                  (h->len && f->corrupt_payload && f->requests % f->corrupt_payload == 0);
    if (status == MXU_LINK_OK && bad_crc) {
        f->crc_answers++;
        answer(f, h, MXU_LINK_ERR_CRC, NULL, 0);
        return;
    }
    if (status != MXU_LINK_OK) {
        answer(f, h, status, NULL, 0);
        return;
    }
    uint8_t buf[MXU_LINK_INFO_BYTES];
    switch (h->op) {
    case MXU_LINK_OP_INFO: {
        mxu_link_info info = {f->version, f->max_payload, FAKE_WINDOW, FAKE_PACKETS, f->requests, 0, 0};
        mxu_link_info_encode(&info, buf);
        answer(f, h, 0, buf, MXU_LINK_INFO_BYTES);
        break;
    }
    case MXU_LINK_OP_MEM_WRITE:
        memcpy(f->mem + h->addr, fr->payload, h->len);
        answer(f, h, 0, NULL, 0);
        break;
    case MXU_LINK_OP_MEM_READ: answer(f, h, 0, f->mem + h->addr, h->count); break;
    case MXU_LINK_OP_CSR_WRITE:
        if (!(f->last_ok && f->last_ok_tag == h->tag)) { /* else: a retransmission */
            memcpy(&f->csr[h->addr / 4], fr->payload, 4);
            f->csr_writes++;
        }
        answer(f, h, 0, NULL, 0);
        break;
    default: answer(f, h, 0, (const uint8_t *)&f->csr[h->addr / 4], 4); break;
    }
}

/* What the host sent since it last waited: all of it is in flight now. */
static void fake_process(struct fake *f)
{
    size_t pos = 0, packets = 0, bytes = 0;
    mxu_link_frame fr;
    int done;
    while (pos < f->in_len) {
        pos += mxu_link_decode(&f->dec, f->in + pos, f->in_len - pos, &fr, &done);
        if (!done || (fr.hdr.op & MXU_LINK_RESPONSE))
            continue;
        packets++;
        bytes += fr.hdr.len;
        perform(f, &fr);
    }
    f->in_len = 0;
    if (packets > f->max_packets)
        f->max_packets = packets;
    if (bytes > f->max_bytes)
        f->max_bytes = bytes;
}

static int fake_send(void *ctx, const uint8_t *buf, size_t len, int timeout_ms)
{
    struct fake *f = ctx;
    (void)timeout_ms;
    if (f->send_error)
        return mxu_fail(MXU_ERR_USB, "fake: unplugged");
    cr_assert_lt(f->in_len + len, (size_t)1 << 22);
    memcpy(f->in + f->in_len, buf, len);
    f->in_len += len;
    return MXU_OK;
}

static int fake_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, int timeout_ms)
{
    struct fake *f = ctx;
    (void)timeout_ms;
    *got = 0;
    if (f->babble) {
        memset(buf, 0, cap);
        *got = cap;
        return MXU_OK;
    }
    if (!f->dead)
        fake_process(f);
    size_t n = f->out_len - f->out_pos < cap ? f->out_len - f->out_pos : cap;
    if (!n)
        return mxu_fail(MXU_ERR_TIMEOUT, "fake: nothing to read");
    memcpy(buf, f->out + f->out_pos, n);
    f->out_pos += n;
    if (f->out_pos == f->out_len)
        f->out_pos = f->out_len = 0;
    *got = n;
    return MXU_OK;
}

static mxu_link *open_fake(struct fake *f)
{
    mxu_link_io io = {f, fake_send, fake_recv};
    mxu_link *l = NULL;
    cr_assert_eq(mxu_link_open(&io, &l), MXU_OK, "%s", mxu_error_detail());
    return l;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(seed >> 56);
    }
}

static void round_trip(mxu_link *l, struct fake *f, uint32_t addr, size_t n, uint64_t seed)
{
    uint8_t *a = malloc(n), *b = malloc(n);
    fill(a, n, seed);
    cr_assert_eq(mxu_link_mem_write(l, addr, a, n), MXU_OK, "write %zu at 0x%x: %s", n, addr, mxu_error_detail());
    cr_expect_eq(memcmp(f->mem + addr, a, n), 0, "device memory after writing %zu at 0x%x", n, addr);
    cr_assert_eq(mxu_link_mem_read(l, addr, b, n), MXU_OK, "read %zu at 0x%x: %s", n, addr, mxu_error_detail());
    cr_expect_eq(memcmp(a, b, n), 0, "read back %zu at 0x%x", n, addr);
    free(a);
    free(b);
}

/* The last error's detail mentions text. */
static void expect_detail(const char *text)
{
    cr_expect(strstr(mxu_error_detail(), text) != NULL, "\"%s\" does not mention \"%s\"", mxu_error_detail(),
              text);
}

/* A dead fake comes back to life, forgetting what it half-heard meanwhile. */
static void fake_revive(struct fake *f)
{
    f->dead = 0;
    f->in_len = 0;
    mxu_link_decoder_reset(&f->dec);
}

static struct mxu_link_stats stats_of(mxu_link *l)
{
    struct mxu_link_stats s;
    mxu_link_get_stats(l, &s);
    return s;
}

/* Through a link opened on f (faults set by the caller): a round trip of n
 * bytes at addr, then csr_reads reads of a CSR. The link's statistics; f stays
 * for the caller to inspect and free. */
static struct mxu_link_stats faulty_round_trip(struct fake *f, uint32_t addr, size_t n, uint64_t seed,
                                               int csr_reads)
{
    mxu_link *l = open_fake(f);
    round_trip(l, f, addr, n, seed);
    uint32_t v;
    for (int i = 0; i < csr_reads; i++)
        cr_assert_eq(mxu_link_csr_read(l, 8, &v), MXU_OK, "%s", mxu_error_detail());
    struct mxu_link_stats s = stats_of(l);
    mxu_link_close(l);
    return s;
}

TestSuite(link_client, .timeout = 60);

Test(link_client, open_learns_the_device)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    mxu_link_info info;
    mxu_link_device_info(l, &info);
    cr_expect_eq(info.max_payload, FAKE_MAX);
    cr_expect_eq(info.rx_window, FAKE_WINDOW);
    cr_expect_eq(info.rx_packets, FAKE_PACKETS);
    struct mxu_link_stats s = stats_of(l);
    cr_expect_eq(s.packets, 0, "open's INFO is not counted");
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, memory_and_csr_round_trips)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    static const size_t sizes[] = {1, 3, 4, 255, 256, 257, 1000, 4096, 40000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        round_trip(l, f, (uint32_t)(i * 7 + 1), sizes[i], i);
    cr_expect_eq(mxu_link_mem_write(l, 0, NULL, 0), MXU_OK, "nothing to do");
    cr_expect_eq(mxu_link_csr_write(l, 0x40, 0xCAFE0001), MXU_OK);
    uint32_t v = 0;
    cr_expect_eq(mxu_link_csr_read(l, 0x40, &v), MXU_OK);
    cr_expect_eq(v, 0xCAFE0001);
    cr_expect_eq(f->csr_writes, 1);
    struct mxu_link_stats s = stats_of(l);
    cr_expect_eq(s.retries, 0);
    cr_expect_eq(s.crc_errors, 0);
    cr_expect_eq(s.timeouts, 0);
    uint64_t moved = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        moved += 2 * sizes[i];
    cr_expect_eq(s.payload_bytes, moved + 8);
    cr_expect_gt(s.tx_bytes, moved / 2);
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, window_is_respected_and_used)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    round_trip(l, f, 0, 30000, 5);
    cr_expect_leq(f->max_bytes, FAKE_WINDOW, "payload in flight %zu > window", f->max_bytes);
    cr_expect_leq(f->max_packets, FAKE_PACKETS, "requests in flight %zu", f->max_packets);
    cr_expect_geq(f->max_packets, 4, "requests are pipelined (%zu in flight at most)", f->max_packets);
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, rx_buffer_bounds_reads_in_flight)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    mxu_link_set_rx_buffer(l, 600); /* two answers of 256 + 20 bytes */
    uint8_t buf[5000];
    cr_assert_eq(mxu_link_mem_read(l, 0, buf, sizeof buf), MXU_OK);
    cr_expect_eq(f->max_packets, 2);
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, bad_request_crc_is_retried)
{
    struct fake *f = fake_new();
    f->corrupt_payload = 3;
    struct mxu_link_stats s = faulty_round_trip(f, 100, 20000, 6, 0);
    cr_expect_gt(s.retries, 10);
    cr_expect_eq(s.crc_errors, f->crc_answers);
    cr_expect_eq(s.timeouts, 0, "a BAD_CRC answer needs no timeout");
    fake_free(f);
}

Test(link_client, corrupted_answers_are_retried)
{
    struct fake *f = fake_new();
    f->corrupt_answer = 4;
    struct mxu_link_stats s = faulty_round_trip(f, 0, 20000, 7, 10);
    cr_expect_gt(s.retries, 5);
    cr_expect_gt(s.crc_errors + s.timeouts, 5);
    fake_free(f);
}

Test(link_client, lost_requests_time_out_and_are_retried)
{
    struct fake *f = fake_new();
    f->drop_request = 5;
    struct mxu_link_stats s = faulty_round_trip(f, 0, 10000, 8, 0);
    cr_expect_gt(s.timeouts, 0);
    cr_expect_gt(s.retries, 0);
    fake_free(f);
}

Test(link_client, csr_write_with_lost_answer_is_performed_once)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    /* lose exactly the next answer: the one to the CSR write */
    f->answers = 999999;
    f->lose_answer = 1000000;
    cr_assert_eq(mxu_link_csr_write(l, 0x48, 1), MXU_OK, "%s", mxu_error_detail());
    cr_expect_eq(f->csr_writes, 1, "performed %u times", f->csr_writes);
    struct mxu_link_stats s = stats_of(l);
    cr_expect_eq(s.timeouts, 1);
    cr_expect_eq(s.retries, 1);
    /* the next write after a timeout re-learns the last tag first (INFO) and goes through */
    cr_assert_eq(mxu_link_csr_write(l, 0x48, 2), MXU_OK, "%s", mxu_error_detail());
    cr_expect_eq(f->csr_writes, 2);
    cr_expect_eq(f->csr[0x48 / 4], 2);
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, refusals_are_reported)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    uint8_t b[16] = {0};
    cr_expect_eq(mxu_link_mem_write(l, FAKE_MEM - 8, b, 16), MXU_ERR_RANGE);
    expect_detail("bad address");
    cr_expect_eq(mxu_link_mem_read(l, FAKE_MEM, b, 1), MXU_ERR_RANGE);
    uint32_t v;
    cr_expect_eq(mxu_link_csr_read(l, 0x1000, &v), MXU_ERR_RANGE);
    cr_expect_eq(mxu_link_csr_write(l, 0x2, 0), MXU_ERR_RANGE);
    cr_expect_eq(mxu_link_mem_read(l, 0xFFFFFFF0u, b, 32), MXU_ERR_RANGE, "beyond 32 bits, host side");
    /* the link still works afterwards */
    round_trip(l, f, 0, 500, 1);
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, dead_device_times_out_without_hanging)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    f->dead = 1;
    mxu_link_set_retries(l, 2);
    uint32_t v;
    cr_expect_eq(mxu_link_csr_read(l, 0, &v), MXU_ERR_TIMEOUT);
    expect_detail("no answer");
    expect_detail("3 attempts");
    struct mxu_link_stats s = stats_of(l);
    cr_expect_eq(s.timeouts, 3);
    cr_expect_geq(s.tx_bytes, 3 * 16 + 2 * (FAKE_MAX + 4u), "a flush before each retry");
    /* back to life: works again */
    fake_revive(f);
    cr_expect_eq(mxu_link_csr_read(l, 0, &v), MXU_OK, "%s", mxu_error_detail());
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, dead_from_the_start)
{
    struct fake *f = fake_new();
    f->dead = 1;
    mxu_link_io io = {f, fake_send, fake_recv};
    mxu_link *l = (mxu_link *)1;
    cr_expect_eq(mxu_link_open(&io, &l), MXU_ERR_TIMEOUT);
    cr_expect_null(l);
    fake_free(f);
}

Test(link_client, policy_from_the_first_packet)
{
    struct fake *f = fake_new();
    f->dead = 1;
    mxu_link_io io = {f, fake_send, fake_recv};
    mxu_link *l = NULL;
    mxu_link_policy none = {5, MXU_LINK_NO_RETRIES, 0};
    cr_expect_eq(mxu_link_open_with(&io, &none, &l), MXU_ERR_TIMEOUT);
    cr_expect(strstr(mxu_error_detail(), ", 1 attempt") && !strstr(mxu_error_detail(), "1 attempts"), "%s",
              mxu_error_detail());
    fake_revive(f);
    mxu_link_policy small = {0, 2, 300}; /* answers of at most 300 bytes in flight */
    cr_assert_eq(mxu_link_open_with(&io, &small, &l), MXU_OK, "%s", mxu_error_detail());
    uint8_t buf[2000];
    cr_assert_eq(mxu_link_mem_read(l, 0, buf, sizeof buf), MXU_OK);
    cr_expect_eq(f->max_packets, 1, "one 276-byte answer fits 300 bytes, two do not");
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, babbling_line_is_a_timeout)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    f->babble = 1;
    mxu_link_set_retries(l, 1);
    uint32_t v;
    cr_expect_eq(mxu_link_csr_read(l, 0, &v), MXU_ERR_TIMEOUT);
    expect_detail("no answer");
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, persistent_corruption_is_a_link_error)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    f->corrupt_payload = 1;
    uint8_t b[100] = {0};
    cr_expect_eq(mxu_link_mem_write(l, 0, b, sizeof b), MXU_ERR_LINK);
    expect_detail("bad CRC");
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, transport_errors_pass_through)
{
    struct fake *f = fake_new();
    mxu_link *l = open_fake(f);
    f->send_error = 1;
    uint32_t v;
    cr_expect_eq(mxu_link_csr_read(l, 0, &v), MXU_ERR_USB);
    expect_detail("unplugged");
    mxu_link_close(l);
    fake_free(f);
}

Test(link_client, wrong_version_is_refused)
{
    struct fake *f = fake_new();
    f->version = 7;
    mxu_link_io io = {f, fake_send, fake_recv};
    mxu_link *l;
    cr_expect_eq(mxu_link_open(&io, &l), MXU_ERR_LINK);
    expect_detail("version 7");
    mxu_link_io none = {f, NULL, fake_recv};
    cr_expect_eq(mxu_link_open(&none, &l), MXU_ERR_INVAL);
    fake_free(f);
}
