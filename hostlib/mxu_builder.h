/* The program builder: emits instructions into a program and derives every
 * dependency flag itself.
 *
 * Each instruction is emitted with the regions it reads and writes (on-chip
 * buffer slots, DRAM tensors). The builder remembers the last writer and the
 * readers of each region; when an instruction of one queue touches a region
 * another queue used, it makes the producer push a token and the consumer pop
 * it (load and store talk through a compute instruction). Pushes are only made
 * when some consumer needs them, so no token is ever left over and the program is
 * well formed by construction (docs/isa.md, "Dependency tokens"). */
#ifndef MXU_BUILDER_H
#define MXU_BUILDER_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_program.h"

typedef struct mxu_builder mxu_builder;

/* Region memory kinds: the ISA's MEM enum plus device DRAM and the accumulators. */
enum mxu_region_mem {
    MXU_REGION_UB = MXU_MEM_UB,
    MXU_REGION_WB = MXU_MEM_WB,
    MXU_REGION_PARAM = MXU_MEM_PARAM,
    MXU_REGION_LUT = MXU_MEM_LUT,
    MXU_REGION_ACC = 8,
    MXU_REGION_DRAM = 9,
};

/* Lines the builder keeps for itself at the top of the UB (token-only
 * instructions write there). */
#define MXU_BUILDER_UB_RESERVED 3u

int mxu_builder_new(const mxu_hw_config *cfg, mxu_builder **out);
void mxu_builder_free(mxu_builder *b);

/* The program under construction (tensors, layers, segments may be added). */
mxu_program *mxu_builder_program(mxu_builder *b);
const mxu_hw_config *mxu_builder_config(const mxu_builder *b);

/* Reserve DRAM (bump allocation, aligned); the code goes after everything. */
int mxu_builder_alloc_dram(mxu_builder *b, uint32_t bytes, uint32_t align, uint32_t *addr);

/* Add a constant segment at freshly allocated DRAM. */
int mxu_builder_add_constant(mxu_builder *b, const char *name, const void *data, uint32_t bytes,
                             uint32_t *addr);

/* Add an int8 tensor (NHWC for 4 dims, NC for 2) at freshly allocated DRAM;
 * *index (may be NULL) receives its index. */
int mxu_builder_add_tensor(mxu_builder *b, const char *name, uint32_t role, uint32_t ndims,
                           const uint32_t *dims, float scale, int32_t zp, uint32_t *index);

/* Declare a region for hazard tracking; returns its id. */
int mxu_builder_region(mxu_builder *b, enum mxu_region_mem mem, uint32_t start, uint32_t size);

/* The DRAM region of a program tensor (created on first use). */
int mxu_builder_tensor_region(mxu_builder *b, uint32_t tensor);

/* Emit one instruction (dependency bits must be clear) with the regions it
 * reads and writes (-1 terminated lists, may be NULL). */
int mxu_builder_emit(mxu_builder *b, const uint64_t insn[MXU_INSN_WORDS], const int *reads,
                     const int *writes);

/* Close the instructions emitted since the previous segment (or the start)
 * into one runnable segment: pop any token still owed, append a FINISH, and
 * forget every hazard (the device is idle after a FINISH, so the next segment
 * needs no token for what came before). *first and *count (may be NULL)
 * receive the segment's instruction range, FINISH included: what a layer
 * record's code_first/code_count hold. */
int mxu_builder_end_segment(mxu_builder *b, uint32_t *first, uint32_t *count);

/* Append a final FINISH (only when instructions were emitted after the last
 * end_segment, or no segment was ever closed), place the code, and hand over
 * the program (the builder keeps nothing; free it afterwards). */
int mxu_builder_finish(mxu_builder *b, mxu_program **out);

/* Statistics of the token manager (for tests and reports). */
struct mxu_builder_stats {
    uint32_t insns, tokens, filler_insns;
};
void mxu_builder_stats(const mxu_builder *b, struct mxu_builder_stats *s);

#endif
