/* Internals shared by the model's files: state (model.c), functional execution
 * (exec.c) and the cycle estimate (timing.c). Not part of the public API. */
#ifndef MXU_MODEL_PRIV_H
#define MXU_MODEL_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_config.h"
#include "mxu_isa.h"
#include "mxu_model.h"

/* Column block of the MATMUL inner loop (16 int32 = four SSE2 registers, or a
 * constant trip count gcc -O2 vectorizes); cols_pad is a multiple of it. */
#define MXU_MODEL_COL_BLOCK 16

/* What the cycle estimate needs to know of one dispatched instruction. */
struct mxu_timing_insn {
    uint8_t op;            /* MXU_OP_* (FINISH ends the trace) */
    uint8_t pops, pushes;  /* bit c = token channel c (enum mxu_token_channel) */
    uint8_t keep_weights;  /* MATMUL */
    uint32_t nk;           /* MATMUL: weight tiles */
    uint64_t a;            /* LOAD/STORE: DRAM beats; MATMUL: vectors per tile; ACTIVATE: ACC reads */
    uint64_t b;            /* LOAD/STORE: lines written/read; ACTIVATE: output lines */
    uint64_t insn[MXU_INSN_WORDS]; /* the instruction: the cycle model walks its fields */
};

struct mxu_timing_params {
    const mxu_hw_config *cfg;
    uint32_t latency;  /* DRAM read latency, cycles */
    uint32_t bw;       /* DRAM bytes per cycle, 1..beat */
    uint32_t cmd_base; /* DRAM address of instruction 0 */
    uint32_t cmd_count; /* CMD_COUNT: the fetch unit requests up to this many */
};

struct mxu_timing_result {
    uint64_t cycles;
    uint64_t load_busy, load_wait, compute_busy, compute_wait, store_busy, store_wait;
    uint64_t weight_stall, act_busy;
    uint64_t op_cycles[MXU_OP_LIMIT];
};

/* Simulate the decoupled machine on a trace of n_records dispatched instructions
 * (the valid prefix, FINISH included when the program has one); the fetch unit
 * reads n_fetch >= n_records instructions (one more when the decoder stopped on
 * a faulty one). Returns MXU_OK or MXU_ERR_NOMEM. */
int mxu_timing_run(const struct mxu_timing_params *p, const struct mxu_timing_insn *trace, size_t n_records,
                   size_t n_fetch, struct mxu_timing_result *out);

/* Cache of cycle estimates (timing_cache.c), one per model. An entry keeps a
 * copy of every input of mxu_timing_run and is used only when all of them are
 * equal byte for byte. */
#define MXU_TIMING_CACHE_ENTRIES 16
#define MXU_TIMING_CACHE_BYTES ((size_t)32 << 20) /* trace copies, all entries */

struct mxu_timing_cache_entry {
    struct mxu_timing_insn *trace; /* NULL: empty */
    size_t n_records, n_fetch;
    uint64_t hash, last_use;
    mxu_hw_config cfg;
    uint32_t latency, bw, cmd_base, cmd_count;
    struct mxu_timing_result result;
};

struct mxu_timing_cache {
    struct mxu_timing_cache_entry e[MXU_TIMING_CACHE_ENTRIES];
    size_t bytes;   /* trace bytes held */
    uint64_t clock; /* LRU stamps */
    uint64_t hits, misses, skipped;
};

/* mxu_timing_run, answered from the cache when an identical run is in it
 * (stored otherwise). Same results and return codes as mxu_timing_run. */
int mxu_timing_run_cached(struct mxu_timing_cache *c, const struct mxu_timing_params *p,
                          const struct mxu_timing_insn *trace, size_t n_records, size_t n_fetch,
                          struct mxu_timing_result *out);
void mxu_timing_cache_clear(struct mxu_timing_cache *c);

/* DRAM beats a transfer of `bytes` at `addr` spans. */
static inline uint64_t mxu_span_beats(uint64_t addr, uint64_t bytes, uint32_t beat)
{
    return (addr % beat + bytes + beat - 1) / beat;
}

/* Device state. */
struct mxu_model {
    mxu_hw_config cfg;
    uint32_t latency, bw;
    int timing_on;
    int timing_cache_on;

    uint8_t *dram;
    int8_t *ub;       /* ub_lines x ub_line_bytes */
    int8_t *wb;       /* wb_lines x cols */
    uint8_t *param;   /* param_lines x cols x 12 bytes, as loaded */
    int8_t lut[MXU_DEFAULT_LUT_ENTRIES];
    int32_t *acc;     /* acc_rows x cols */
    int16_t *array_w; /* the tile in the array: row pairs x cols_pad x 2, widened (exec.c load_tile);
                       * pad columns and an odd row's partner stay 0 */
    int32_t *y;       /* cols_pad scratch: one result vector */
    int32_t *chan;    /* cols x 3 scratch: bias, multiplier, shift of one PARAM line */
    uint32_t cols_pad;

    uint32_t cmd_base, cmd_count, status, err_code, err_pc;
    uint64_t counters[(MXU_CNT_ACT_BUSY - MXU_CNT_CYCLES) / 8 + 1];
    struct mxu_model_stats stats;

    struct mxu_timing_insn *trace;
    size_t n_trace, cap_trace;

    struct mxu_timing_cache timing_cache;
    uint64_t timing_bypassed; /* runs timed without the cache (error, or cache off) */
};

#define MXU_MODEL_COUNTER(m, NAME) ((m)->counters[(MXU_CNT_##NAME - MXU_CNT_CYCLES) / 8])

/* Functional execution of one checked instruction (exec.c); each fills the
 * instruction's timing record (op and tokens are already set). */
void mxu_exec_load(mxu_model *m, const uint64_t *insn, struct mxu_timing_insn *rec);
void mxu_exec_store(mxu_model *m, const uint64_t *insn, struct mxu_timing_insn *rec);
void mxu_exec_matmul(mxu_model *m, const uint64_t *insn, struct mxu_timing_insn *rec);
void mxu_exec_activate(mxu_model *m, const uint64_t *insn, struct mxu_timing_insn *rec);

#endif
