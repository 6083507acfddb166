/* Instruction encoders: one struct per opcode, fields named as in isa/mxu.isa.
 * The builder, the tests and the tools encode through these instead of poking
 * bit positions. Dependency flags are set separately (mxu_encode_deps). */
#ifndef MXU_ENCODE_H
#define MXU_ENCODE_H

#include <stdint.h>

#include "mxu_isa.h"

struct mxu_load {
    unsigned mem;
    uint32_t dram_addr, dst_line, elem_bytes;
    uint32_t n0, n1, n2, s0, s1, s2;
    uint32_t pad_left, pad_right, pad_top, pad_bottom;
    int32_t pad_value;
};

struct mxu_store {
    uint32_t dram_addr, src_line, elem_bytes;
    uint32_t n0, n1, n2, s0, s1, s2;
};

struct mxu_matmul {
    int accumulate, keep_weights;
    uint32_t wgt_line, ub_addr, acc_addr;
    uint32_t n0, n1, s0, s1, nk, k_stride;
};

struct mxu_activate {
    int lut_en;
    int round_half_up; /* final shift rounds ties toward +inf (else away from zero) */
    uint32_t param_line, ub_addr, acc_addr;
    uint32_t in_w, out_h, out_w, pool_k, pool_s;
    int32_t zp_out, clamp_min, clamp_max;
};

/* Dependency flag bits of word 0. The compute opcodes have all four, at the
 * same positions as the load's and store's subsets. */
#define MXU_DEP_POP_PREV (1ull << MXU_F_MATMUL_POP_PREV_POS)
#define MXU_DEP_POP_NEXT (1ull << MXU_F_MATMUL_POP_NEXT_POS)
#define MXU_DEP_PUSH_PREV (1ull << MXU_F_MATMUL_PUSH_PREV_POS)
#define MXU_DEP_PUSH_NEXT (1ull << MXU_F_MATMUL_PUSH_NEXT_POS)

void mxu_encode_load(uint64_t w[MXU_INSN_WORDS], const struct mxu_load *d);
void mxu_encode_store(uint64_t w[MXU_INSN_WORDS], const struct mxu_store *d);
void mxu_encode_matmul(uint64_t w[MXU_INSN_WORDS], const struct mxu_matmul *d);
void mxu_encode_activate(uint64_t w[MXU_INSN_WORDS], const struct mxu_activate *d);
void mxu_encode_finish(uint64_t w[MXU_INSN_WORDS]);

static inline unsigned mxu_insn_opcode(const uint64_t w[MXU_INSN_WORDS])
{
    return (unsigned)(w[0] & 0xF);
}

#endif
