/* The C DRAM server of the Verilator harness; the rules are in dram_model.h
 * and docs/simulation.md, mirrored by sim/icarus/dram_model.v. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "dram_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint32_t ring_size_for(uint32_t latency)
{
    uint32_t n = 2;
    while (n <= latency)
        n <<= 1;
    return n;
}

int mxu_dram_init(mxu_dram *d, size_t bytes, uint32_t beat, uint32_t latency, uint32_t bw,
                  char *msg, size_t msglen)
{
    memset(d, 0, sizeof *d);
    if (beat < 1 || beat > 64 || (beat & (beat - 1))) {
        snprintf(msg, msglen, "DRAM beat of %u bytes: must be a power of two up to 64", beat);
        return -1;
    }
    if (latency < 1 || latency > (1u << 20)) {
        snprintf(msg, msglen, "DRAM latency %u: must be 1..%u cycles", latency, 1u << 20);
        return -1;
    }
    if (bw < 1 || bw > beat) {
        snprintf(msg, msglen, "DRAM bandwidth %u bytes/cycle: must be 1..%u (the beat)", bw, beat);
        return -1;
    }
    if (bytes == 0 || bytes % beat) {
        snprintf(msg, msglen, "DRAM size %zu: must be a non-zero multiple of the beat", bytes);
        return -1;
    }
    uint32_t ring = ring_size_for(latency);
    /* Anonymous pages: zero, mapped only when touched (256 MiB costs nothing), and
     * out of sight of a sanitizer's allocator, which would poison their shadow. */
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    d->mem = mem == MAP_FAILED ? NULL : mem;
    d->mapped = bytes;
    d->due = calloc(ring, sizeof *d->due);
    d->ring_data = calloc(ring, beat);
    if (!d->mem || !d->due || !d->ring_data) {
        mxu_dram_free(d);
        snprintf(msg, msglen, "out of memory for %zu bytes of DRAM", bytes);
        return -1;
    }
    d->bytes = bytes;
    d->beat = beat;
    d->latency = latency;
    d->bw = bw;
    d->ring_mask = ring - 1;
    mxu_dram_reset(d);
    return 0;
}

void mxu_dram_free(mxu_dram *d)
{
    if (d->mem)
        munmap(d->mem, d->mapped);
    free(d->due);
    free(d->ring_data);
    memset(d, 0, sizeof *d);
}

void mxu_dram_reset(mxu_dram *d)
{
    d->credit = d->beat;
    d->edge = 0;
    d->head = 0;
    d->count = 0;
    d->ready = 1;
    d->rsp_valid = 0;
    d->rsp_data = d->ring_data;
}

/* Out-of-range or misaligned: remember the first one, serve zeros, drop writes. */
static int legal(mxu_dram *d, uint32_t addr, int write)
{
    if (addr % d->beat == 0 && (size_t)addr + d->beat <= d->bytes)
        return 1;
    if (!d->fault) {
        d->fault = 1;
        d->fault_addr = addr;
        d->fault_write = write;
    }
    return 0;
}

static void accept(mxu_dram *d, int write, uint32_t addr, const uint8_t *wdata, uint64_t wstrb)
{
    int ok = legal(d, addr, write);
    if (write) {
        if (!ok)
            return;
        uint8_t *dst = d->mem + addr;
        if (wstrb == (d->beat == 64 ? ~0ull : (1ull << d->beat) - 1)) {
            memcpy(dst, wdata, d->beat);
            return;
        }
        for (uint32_t i = 0; i < d->beat; i++)
            if (wstrb >> i & 1)
                dst[i] = wdata[i];
        return;
    }
    uint32_t slot = (d->head + d->count) & d->ring_mask;
    d->due[slot] = d->edge + d->latency;
    uint8_t *beat = d->ring_data + (size_t)slot * d->beat;
    if (ok)
        memcpy(beat, d->mem + addr, d->beat);
    else
        memset(beat, 0, d->beat);
    d->count++;
}

void mxu_dram_edge(mxu_dram *d, int req_valid, int req_write, uint32_t addr,
                   const uint8_t *wdata, uint64_t wstrb)
{
    if (d->rsp_valid) {
        d->head = (d->head + 1) & d->ring_mask;
        d->count--;
    }
    int accepted = req_valid && d->ready;
    if (accepted) {
        accept(d, req_write, addr, wdata, wstrb);
        d->credit -= d->beat;
    }
    d->credit += d->bw;
    if (d->credit > d->beat)
        d->credit = d->beat;
    d->ready = d->credit >= d->beat;
    d->rsp_valid = d->count && d->due[d->head] == d->edge + 1;
    d->rsp_data = d->ring_data + (size_t)d->head * d->beat;
    d->edge++;
}
