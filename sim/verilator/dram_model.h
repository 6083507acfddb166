/* The simulated DRAM behind mxu_top's request/response port, in C (the
 * Verilator harness). sim/icarus/dram_model.v implements the same rules for
 * Icarus; docs/simulation.md ("DRAM timing") is the definition both follow:
 *
 *   credit starts at BEAT; ready = credit >= BEAT.
 *   At rising edge e:
 *     1. a response presented during the cycle before e is consumed;
 *     2. if valid & ready the request is accepted: a write is applied to memory
 *        now (bytes with their strobe set), a read copies its beat now and is
 *        queued for edge e + latency;
 *     3. if accepted, credit -= BEAT; then credit = min(credit + bw, BEAT);
 *     4. outputs for the next cycle: ready = credit >= BEAT, rsp_valid = the
 *        oldest queued read is due at edge e + 1 (its beat on rsp_rdata).
 *
 * So a read accepted at edge t is sampled by the core at edge t + latency, and
 * the port accepts one beat every BEAT / bw cycles on average. */
#ifndef MXU_DRAM_MODEL_H
#define MXU_DRAM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mxu_dram {
    uint8_t *mem;
    size_t bytes, mapped;
    uint32_t beat, latency, bw;
    /* timing state */
    uint32_t credit;
    uint64_t edge;            /* rising edges since reset */
    uint32_t ring_mask;       /* ring of in-flight reads (power of two > latency) */
    uint32_t head, count;
    uint64_t *due;            /* edge at which each queued read is sampled */
    uint8_t *ring_data;       /* beat bytes of each queued read */
    /* outputs driven during the current cycle */
    int ready, rsp_valid;
    const uint8_t *rsp_data;  /* the beat presented while rsp_valid */
    /* first illegal access seen (sticky) */
    int fault;
    uint32_t fault_addr;
    int fault_write;
} mxu_dram;

/* Allocate zeroed memory of `bytes` and the timing state. latency >= 1,
 * bw in 1..beat, beat a power of two <= 64. Returns 0 or -1 (bad argument or
 * no memory; msg says which). */
int mxu_dram_init(mxu_dram *d, size_t bytes, uint32_t beat, uint32_t latency, uint32_t bw,
                  char *msg, size_t msglen);
void mxu_dram_free(mxu_dram *d);

/* Timing state back to idle (credit full, nothing in flight); memory untouched. */
void mxu_dram_reset(mxu_dram *d);

/* One rising edge with the request the core presented during the cycle before
 * it. wdata: beat bytes (byte 0 = lowest address); wstrb: bit i enables byte i. */
void mxu_dram_edge(mxu_dram *d, int req_valid, int req_write, uint32_t addr,
                   const uint8_t *wdata, uint64_t wstrb);

#ifdef __cplusplus
}
#endif

#endif
