/* The C DRAM model of the Verilator harness against the timing rules of
 * docs/simulation.md (the Icarus model implements the same; the Icarus vs
 * Verilator cycle-count tests of test_rtl_system.c check that they agree). The
 * model is not part of libmxu, so it is compiled into this test directly. */
#include "../../sim/verilator/dram_model.c" /* first: it asks for _DEFAULT_SOURCE */

#include <criterion/criterion.h>
#include <string.h>

#define BEAT 16u

/* Edges at which a core that keeps req_valid high gets its reads accepted and
 * answered: accepted[i] = edge of acceptance of read i, answered[i] = edge at
 * which the core samples its response. */
static void stream_reads(uint32_t latency, uint32_t bw, unsigned reads, uint64_t *accepted, uint64_t *answered)
{
    mxu_dram d;
    char msg[128];
    cr_assert_eq(mxu_dram_init(&d, 1 << 16, BEAT, latency, bw, msg, sizeof msg), 0, "%s", msg);
    for (uint32_t i = 0; i < (1 << 16); i++)
        d.mem[i] = (uint8_t)(i / BEAT);
    unsigned sent = 0, got = 0;
    for (uint64_t edge = 0; got < reads && edge < 10000; edge++) {
        if (d.rsp_valid) { /* the core samples at this edge */
            cr_assert_eq(d.rsp_data[0], (uint8_t)got, "response %u carries beat %u", got, d.rsp_data[0]);
            answered[got++] = edge;
        }
        int valid = sent < reads;
        if (valid && d.ready)
            accepted[sent] = edge;
        int take = valid && d.ready;
        mxu_dram_edge(&d, valid, 0, sent * BEAT, NULL, 0);
        sent += take;
    }
    cr_assert_eq(got, reads);
    mxu_dram_free(&d);
}

Test(dram_model, latency_is_edges_from_accept_to_sample)
{
    uint32_t latencies[] = {1, 2, 10, 33};
    for (unsigned l = 0; l < 4; l++) {
        uint64_t acc[8], ans[8];
        stream_reads(latencies[l], BEAT, 8, acc, ans);
        for (unsigned i = 0; i < 8; i++) {
            cr_expect_eq(acc[i], i, "full bandwidth: one read per edge");
            cr_expect_eq(ans[i], acc[i] + latencies[l], "latency %u, read %u", latencies[l], i);
        }
    }
}

Test(dram_model, bandwidth_is_a_credit_of_bytes_per_cycle)
{
    uint64_t acc[6], ans[6];
    stream_reads(5, 4, 6, acc, ans); /* 4 of 16 bytes per cycle: a beat every 4 edges */
    for (unsigned i = 0; i < 6; i++) {
        cr_expect_eq(acc[i], 4 * i, "read %u accepted at edge %llu", i, (unsigned long long)acc[i]);
        cr_expect_eq(ans[i], acc[i] + 5);
    }
    stream_reads(1, 6, 6, acc, ans); /* the credit saturates at a beat: ceil(16/6) = 3 */
    for (unsigned i = 1; i < 6; i++)
        cr_expect_eq(acc[i] - acc[i - 1], 3, "gap %llu", (unsigned long long)(acc[i] - acc[i - 1]));
}

Test(dram_model, writes_apply_strobes_at_acceptance)
{
    mxu_dram d;
    char msg[128];
    cr_assert_eq(mxu_dram_init(&d, 4096, BEAT, 4, BEAT, msg, sizeof msg), 0);
    uint8_t data[BEAT];
    for (unsigned i = 0; i < BEAT; i++)
        data[i] = (uint8_t)(0xA0 + i);
    mxu_dram_edge(&d, 1, 0, 64, NULL, 0);       /* read 64..79 (zeros) */
    mxu_dram_edge(&d, 1, 1, 64, data, 0x00F0); /* then write bytes 4..7 of it */
    cr_expect_eq(d.mem[64 + 4], 0xA4);
    cr_expect_eq(d.mem[64 + 7], 0xA7);
    cr_expect_eq(d.mem[64 + 3], 0);
    cr_expect_eq(d.mem[64 + 8], 0);
    while (!d.rsp_valid)
        mxu_dram_edge(&d, 0, 0, 0, NULL, 0);
    cr_expect_eq(d.rsp_data[4], 0, "a read returns memory as it was when accepted");
    cr_expect_eq(d.fault, 0);
    mxu_dram_free(&d);
}

Test(dram_model, faults_and_bad_arguments)
{
    mxu_dram d;
    char msg[128];
    cr_expect_neq(mxu_dram_init(&d, 4096, 12, 4, 4, msg, sizeof msg), 0, "beat not a power of two");
    cr_expect_neq(mxu_dram_init(&d, 4096, BEAT, 0, 4, msg, sizeof msg), 0, "latency 0");
    cr_expect_neq(mxu_dram_init(&d, 4096, BEAT, 4, 17, msg, sizeof msg), 0, "bw above the beat");
    cr_expect(strstr(msg, "bandwidth") != NULL, "%s", msg);
    cr_assert_eq(mxu_dram_init(&d, 4096, BEAT, 2, BEAT, msg, sizeof msg), 0);
    uint8_t data[BEAT] = {1};
    mxu_dram_edge(&d, 1, 1, 4096, data, 0xFFFF); /* past the end: dropped, recorded */
    cr_expect_eq(d.fault, 1);
    cr_expect_eq(d.fault_addr, 4096u);
    cr_expect_eq(d.fault_write, 1);
    mxu_dram_edge(&d, 1, 0, 8, NULL, 0); /* misaligned: still the first fault */
    cr_expect_eq(d.fault_addr, 4096u);
    mxu_dram_reset(&d);
    cr_expect(d.ready && !d.rsp_valid && d.count == 0);
    mxu_dram_free(&d);
}
