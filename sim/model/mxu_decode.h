/* The instruction checker every implementation shares: the model's run loop, the
 * assembler, the disassembler and the RTL tests call it so all agree on ERR_CODE
 * and ERR_PC (docs/isa.md, "Errors"). Self-contained: needs only the generated
 * ISA header and the configuration. */
#ifndef MXU_DECODE_H
#define MXU_DECODE_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_isa.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The four dependency-token channels, named by direction. */
enum mxu_token_channel {
    MXU_TOK_LOAD_TO_COMPUTE = 0,  /* LOAD push_next -> MATMUL/ACTIVATE pop_prev */
    MXU_TOK_COMPUTE_TO_LOAD = 1,  /* MATMUL/ACTIVATE push_prev -> LOAD pop_next */
    MXU_TOK_COMPUTE_TO_STORE = 2, /* MATMUL/ACTIVATE push_next -> STORE pop_prev */
    MXU_TOK_STORE_TO_COMPUTE = 3, /* STORE push_prev -> MATMUL/ACTIVATE pop_next */
    MXU_TOK_CHANNELS = 4
};

/* Tokens outstanding per channel while walking a program in order; start at 0. */
struct mxu_token_state {
    uint32_t count[MXU_TOK_CHANNELS];
};

/* Token traffic of one instruction: bit c of pops/pushes = channel c. */
struct mxu_token_use {
    unsigned pops, pushes;
};

/* The channels instruction insn pops and pushes (0 for FINISH and bad opcodes). */
struct mxu_token_use mxu_decode_tokens(const uint64_t insn[MXU_INSN_WORDS]);

/* Check one instruction in program order: opcode, reserved bits, field values,
 * address ranges (per opcode, in docs/isa.md's order), tokens (pops before
 * pushes, at most cfg->token_max per channel). Returns 0 (MXU_DEVERR_OK) or the
 * MXU_DEVERR_* code the device reports. tok is updated only when the instruction
 * is valid. FINISH is valid (0); the caller stops there. */
int mxu_decode_check(const mxu_hw_config *cfg, const uint64_t insn[MXU_INSN_WORDS],
                     struct mxu_token_state *tok);

/* Lines a LOAD writes: n2 * (pad_top + n1 + pad_bottom) * (pad_left + n0 + pad_right). */
uint64_t mxu_decode_load_lines(const uint64_t insn[MXU_INSN_WORDS]);

#ifdef __cplusplus
}
#endif

#endif
