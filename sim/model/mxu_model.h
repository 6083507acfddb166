/* The fast C model of the device: the same CSRs, memories and instruction
 * semantics as the RTL (docs/isa.md), executed functionally in program order,
 * plus a cycle estimate of the decoupled machine (timing.c) that fills the
 * performance counters.
 *
 * A run happens entirely inside the CSR write of CTRL.start: when the write
 * returns, STATUS reads done (| error) and the counters are frozen. */
#ifndef MXU_MODEL_H
#define MXU_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_config.h"
#include "mxu_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mxu_model mxu_model;

/* Create a model of configuration cfg (validated here). options: NULL or
 * "key=value,..." with
 *   latency=N   DRAM read latency in cycles (default MXU_DEFAULT_DRAM_LATENCY)
 *   bw=B        DRAM bytes per cycle, 1..DRAM_BEAT_BYTES (default: the beat)
 *   timing=0|1  run the cycle estimate (default 1); with 0 only INSNS, ARRAY_VECTORS
 *               and the DRAM byte counters are filled and CYCLES reads 0
 *   timing_cache=0|1  reuse the cycle estimate of an earlier run with the same
 *               instructions, CMD_BASE and CMD_COUNT (default 1; exact, see
 *               docs/simulation.md); 0 replays every run
 * Every memory, the accumulators and the array's weights start at zero.
 * Returns MXU_OK, MXU_ERR_INVAL (bad cfg or options) or MXU_ERR_NOMEM. */
int mxu_model_create(const mxu_hw_config *cfg, const char *options, mxu_model **out);
void mxu_model_destroy(mxu_model *m);

/* The configuration the model was built with. */
const mxu_hw_config *mxu_model_config(const mxu_model *m);

/* 32-bit CSR access at byte offset (the map of isa/mxu.isa). Unknown or
 * misaligned offsets: MXU_ERR_RANGE; writing a read-only register:
 * MXU_ERR_INVAL. Writing CTRL with START runs CMD_COUNT instructions at
 * CMD_BASE to completion. Reading CTRL returns 0. */
int mxu_model_csr_read(mxu_model *m, uint32_t offset, uint32_t *value);
int mxu_model_csr_write(mxu_model *m, uint32_t offset, uint32_t value);

/* Host access to device DRAM; MXU_ERR_RANGE unless [addr, addr+bytes) fits. */
int mxu_model_mem_write(mxu_model *m, uint32_t addr, const void *data, size_t bytes);
int mxu_model_mem_read(mxu_model *m, uint32_t addr, void *data, size_t bytes);

/* Direct access to the DRAM array (cfg->dram_bytes bytes). */
uint8_t *mxu_model_dram(mxu_model *m);

/* Per-opcode statistics of the last run (index = opcode value, FINISH
 * included). cycles = busy cycles of the unit attributed to the instructions of
 * that opcode in the cycle estimate (MATMUL: streaming and weight stalls;
 * ACTIVATE: accumulator reads; LOAD/STORE: from start to completion). */
struct mxu_model_stats {
    uint64_t insns[MXU_OP_LIMIT];
    uint64_t cycles[MXU_OP_LIMIT];
    uint64_t macs; /* useful multiply-accumulates: ARRAY_VECTORS x ROWS x COLS */
};
void mxu_model_get_stats(const mxu_model *m, struct mxu_model_stats *out);

/* How the runs with the cycle estimate on got their counters, since create. */
struct mxu_model_cache_stats {
    uint64_t hits;     /* from the cache */
    uint64_t misses;   /* looked up, not found: replayed (and stored when it fits) */
    uint64_t bypassed; /* replayed without a lookup: a device error, or timing_cache=0 */
};
void mxu_model_get_cache_stats(const mxu_model *m, struct mxu_model_cache_stats *out);

#ifdef __cplusplus
}
#endif

#endif
