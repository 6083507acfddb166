/* The FTDI transport (driver/usb_ftdi.c): the modem-status headers, and the
 * byte pipe itself against the emulated board's echo engine, in this process.
 * A transport test that finds no umockdev testbed runs itself again under
 * mxu-emulate-board (or an empty umockdev-run testbed) and checks that run. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mxu_error.h"
#include "mxu_usb.h"
#include "usb/board_run.h"

/* ---- stripping the 2-byte status header of every packet ---------------------------- */

/* A transfer as the chip sends it: packets of `mp` bytes (status + data), the
 * payload bytes numbered from `first`, a short last packet. */
static size_t make_transfer(uint8_t *buf, size_t mp, size_t payload, uint8_t first)
{
    size_t n = 0;
    uint8_t v = first;
    for (;;) { /* full packets, then a short one (status only if need be) */
        size_t d = payload < mp - 2 ? payload : mp - 2;
        buf[n++] = 0x31;
        buf[n++] = 0x60;
        for (size_t i = 0; i < d; i++)
            buf[n++] = v++;
        payload -= d;
        if (d < mp - 2)
            return n;
    }
}

static void check_payload(const uint8_t *p, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(p[i], (uint8_t)(first + i), "byte %zu: %u", i, p[i]);
}

Test(usb_strip, one_header_per_high_speed_packet)
{
    uint8_t in[4096], out[4096];
    size_t len = make_transfer(in, 512, 3 * 510 + 100, 7);
    cr_assert_eq(len, 3 * 512 + 102);
    uint64_t packets = 0, status_only = 0;
    size_t n = mxu_usb_strip_status(in, len, 512, out, &packets, &status_only);
    cr_assert_eq(n, 3 * 510 + 100);
    cr_assert_eq(packets, 4);
    cr_assert_eq(status_only, 0);
    check_payload(out, n, 7);
}

Test(usb_strip, status_only_packets_carry_nothing_and_in_place_works)
{
    uint8_t buf[2048];
    /* 2 full packets, then a status-only packet ends the transfer */
    size_t len = make_transfer(buf, 512, 2 * 510, 200);
    cr_assert_eq(len, 2 * 512 + 2);
    uint64_t packets = 0, status_only = 0;
    size_t n = mxu_usb_strip_status(buf, len, 512, buf, &packets, &status_only);
    cr_assert_eq(n, 2 * 510);
    cr_assert_eq(packets, 3);
    cr_assert_eq(status_only, 1);
    check_payload(buf, n, 200);
    /* an idle chip: one status-only packet */
    cr_assert_eq(mxu_usb_strip_status(buf, 2, 512, buf, NULL, NULL), 0);
    cr_assert_eq(mxu_usb_strip_status(buf, 0, 512, buf, NULL, NULL), 0);
}

Test(usb_strip, full_speed_packets_of_64_bytes)
{
    uint8_t in[1024], out[1024];
    size_t len = make_transfer(in, 64, 5 * 62 + 1, 0);
    cr_assert_eq(len, 5 * 64 + 3);
    size_t n = mxu_usb_strip_status(in, len, 64, out, NULL, NULL);
    cr_assert_eq(n, 5 * 62 + 1);
    check_payload(out, n, 0);
}

/* ---- the transport under an emulated board ---------------------------------------------- */

static int inside_testbed(void)
{
    return getenv("UMOCKDEV_DIR") != NULL;
}

/* Run test `name` of this binary again inside `wrapper` and check it passed. */
static void rerun(const char *name, const char *wrapper)
{
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert(n > 0);
    self[n] = 0;
    struct board_run r;
    /* BXFI_MAP would make the inner Criterion take itself for a sandboxed worker */
    board_shell(&r, "env -u BXFI_MAP %s %s --filter 'usb_transport/%s' -j1", wrapper, self, name);
    cr_assert_eq(r.status, 0, "inner run failed (%d):\n%s", r.status, r.out);
    cr_assert(strstr(r.out, "Passing: 1"), "the inner run did not run the test:\n%s", r.out);
}

#define UNDER_BOARD(name, opts)                                                               \
    do {                                                                                      \
        if (!inside_testbed()) {                                                              \
            char w_[600];                                                                     \
            snprintf(w_, sizeof w_, "%s --timeout 60 %s --", board_harness(), opts);          \
            rerun(name, w_);                                                                  \
            return;                                                                           \
        }                                                                                     \
    } while (0)

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static mxu_usb *open_board(const char *serial)
{
    mxu_usb_options o = {.serial = serial};
    mxu_usb *u = NULL;
    int rc = mxu_usb_open(&o, &u);
    cr_assert_eq(rc, MXU_OK, "%s: %s", mxu_strerror(rc), mxu_error_detail());
    return u;
}

Test(usb_transport, echo_round_trip_of_200k)
{
    UNDER_BOARD("echo_round_trip_of_200k", "--echo");
    mxu_usb *u = open_board(NULL);
    const mxu_usb_board *b = mxu_usb_board_info(u);
    cr_assert_str_eq(b->chip, "FT232H");
    cr_assert_str_eq(b->serial, "MXU00001");
    enum { N = 200000, CHUNK = 5000 };
    uint8_t *out = malloc(N), *in = malloc(N);
    cr_assert(out && in);
    uint32_t s = 12345;
    for (size_t i = 0; i < N; i++)
        s = s * 1103515245u + 12345u, out[i] = (uint8_t)(s >> 16);
    size_t sent = 0, got = 0;
    while (got < N) {
        if (sent < N) {
            size_t k = N - sent < CHUNK ? N - sent : CHUNK;
            cr_assert_eq(mxu_usb_write(u, out + sent, k, 2000), MXU_OK, "%s", mxu_error_detail());
            sent += k;
        }
        size_t g = 0;
        int rc = mxu_usb_read(u, in + got, N - got, &g, sent == N ? 2000 : 0);
        cr_assert_eq(rc, MXU_OK, "after %zu bytes: %s", got, mxu_error_detail());
        got += g;
    }
    cr_assert(!memcmp(in, out, N), "the echo differs");
    mxu_usb_stats st;
    mxu_usb_get_stats(u, &st);
    cr_assert_eq(st.bytes_out, N);
    cr_assert_eq(st.bytes_in, N);
    cr_assert_geq(st.packets_in, N / 510, "%llu packets", (unsigned long long)st.packets_in);
    cr_assert_geq(st.transfers_out, N / CHUNK);
    mxu_usb_close(u);
    free(out);
    free(in);
}

Test(usb_transport, reads_time_out_while_the_idle_chip_sends_status_only)
{
    UNDER_BOARD("reads_time_out_while_the_idle_chip_sends_status_only", "--echo");
    mxu_usb *u = open_board(NULL);
    uint8_t byte;
    size_t got = 99;
    cr_assert_eq(mxu_usb_read(u, &byte, 1, &got, 0), MXU_OK);
    cr_assert_eq(got, 0);
    double t0 = now_s();
    int rc = mxu_usb_read(u, &byte, 1, &got, 300);
    double dt = now_s() - t0;
    cr_assert_eq(rc, MXU_ERR_TIMEOUT, "%d", rc);
    cr_assert(strstr(mxu_error_detail(), "no byte from the board"), "%s", mxu_error_detail());
    cr_assert(dt >= 0.29 && dt < 5, "%.3f s", dt);
    mxu_usb_stats st;
    mxu_usb_get_stats(u, &st); /* one per 2 ms latency period when the machine is not too busy */
    cr_assert_geq(st.status_only_packets, 3, "%llu", (unsigned long long)st.status_only_packets);
    cr_assert_eq(st.bytes_in, 0);
    mxu_usb_close(u);
}

Test(usb_transport, the_serial_picks_the_board)
{
    UNDER_BOARD("the_serial_picks_the_board", "--echo --serial ABC123");
    mxu_usb_board *boards;
    size_t n;
    cr_assert_eq(mxu_usb_list(&boards, &n), MXU_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(boards[0].vid, 0x0403);
    cr_assert_eq(boards[0].pid, 0x6014);
    cr_assert_eq(boards[0].bus, 1);
    cr_assert_eq(boards[0].address, 2);
    cr_assert_str_eq(boards[0].serial, "ABC123");
    cr_assert_str_eq(boards[0].description, "mxu emulated board");
    free(boards);
    mxu_usb *u = open_board("ABC123");
    cr_assert_str_eq(mxu_usb_board_info(u)->serial, "ABC123");
    mxu_usb_close(u);
    mxu_usb_options o = {.serial = "NOPE"};
    cr_assert_eq(mxu_usb_open(&o, &u), MXU_ERR_NOT_FOUND);
    cr_assert_null(u);
    cr_assert(strstr(mxu_error_detail(), "'NOPE'") && strstr(mxu_error_detail(), "ABC123"), "%s",
              mxu_error_detail());
}

Test(usb_transport, no_board_is_not_found)
{
    if (!inside_testbed()) {
        rerun("no_board_is_not_found", BOARD_EMPTY_TESTBED);
        return;
    }
    mxu_usb_board *boards;
    size_t n = 9;
    cr_assert_eq(mxu_usb_list(&boards, &n), MXU_OK);
    cr_assert_eq(n, 0);
    cr_assert_null(boards);
    mxu_usb *u;
    cr_assert_eq(mxu_usb_open(NULL, &u), MXU_ERR_NOT_FOUND);
    cr_assert(strstr(mxu_error_detail(), "0403:6014"), "%s", mxu_error_detail());
}

Test(usb_transport, unplug_fails_this_and_every_later_call)
{
    UNDER_BOARD("unplug_fails_this_and_every_later_call", "--echo --fault unplug,after=1000");
    mxu_usb *u = open_board(NULL);
    uint8_t buf[4000] = {0};
    size_t got;
    int rc = mxu_usb_write(u, buf, sizeof buf, 2000);
    for (int i = 0; rc == MXU_OK && i < 100; i++) /* the failure may surface in a read */
        rc = mxu_usb_read(u, buf, sizeof buf, &got, 50);
    cr_assert_eq(rc, MXU_ERR_USB, "%d: %s", rc, mxu_error_detail());
    cr_assert(strstr(mxu_error_detail(), "unplugged"), "%s", mxu_error_detail());
    double t0 = now_s();
    cr_assert_eq(mxu_usb_read(u, buf, sizeof buf, &got, 1000), MXU_ERR_USB);
    cr_assert_eq(mxu_usb_write(u, buf, 10, 1000), MXU_ERR_USB);
    cr_assert(strstr(mxu_error_detail(), "unplugged"), "%s", mxu_error_detail());
    cr_assert_lt(now_s() - t0, 0.5, "a dead board must fail at once");
    mxu_usb_close(u);
}

Test(usb_transport, a_stalled_endpoint_is_cleared_and_reported)
{
    UNDER_BOARD("a_stalled_endpoint_is_cleared_and_reported", "--echo --fault stall,after=100");
    mxu_usb *u = open_board(NULL);
    uint8_t buf[300] = {0};
    size_t got;
    int rc = mxu_usb_write(u, buf, sizeof buf, 2000);
    for (int i = 0; rc == MXU_OK && i < 100; i++)
        rc = mxu_usb_read(u, buf, sizeof buf, &got, 50);
    cr_assert_eq(rc, MXU_ERR_USB, "%d: %s", rc, mxu_error_detail());
    cr_assert(strstr(mxu_error_detail(), "stalled (endpoint 0x81; halt cleared)"), "%s", mxu_error_detail());
    mxu_usb_close(u);
}

Test(usb_transport, a_board_that_stops_taking_bytes_times_out)
{
    UNDER_BOARD("a_board_that_stops_taking_bytes_times_out", "--echo --fault hang,after=100");
    mxu_usb *u = open_board(NULL);
    uint8_t buf[1000] = {0};
    double t0 = now_s();
    /* the write only queues the bytes ... */
    cr_assert_eq(mxu_usb_write(u, buf, sizeof buf, 1000), MXU_OK, "%s", mxu_error_detail());
    cr_assert_lt(now_s() - t0, 0.5);
    /* ... waiting for the board to take them times out, saying how far it got */
    int rc = mxu_usb_flush(u, 3000);
    cr_assert_eq(rc, MXU_ERR_TIMEOUT, "%d: %s", rc, mxu_error_detail());
    cr_assert(strstr(mxu_error_detail(), "the board took 100 of 1000 bytes, then none for 1000 ms"), "%s", mxu_error_detail());
    cr_assert_lt(now_s() - t0, 4);
    mxu_usb_close(u);
}
