/* Random well-formed mxu programs for differential tests (RTL vs C model vs
 * Icarus), plus a DRAM image to run them on and an assembly-like dump for
 * reproducers.
 *
 * "Well formed" as docs/isa.md: every field valid for the configuration, tokens
 * balanced, and no race between queues: whenever two instructions of different
 * queues touch the same on-chip line (one of them writing), the later one is
 * ordered after the earlier by a chain of tokens. The generator tracks what each
 * queue knows to have completed (a vector clock carried by the tokens) and adds
 * pops -- and, when needed, small filler instructions -- until every conflict is
 * ordered. It assumes each queue completes its instructions in order.
 *
 * DRAM layout (chosen so a single flipped bit of a STORE cannot reach the code
 * or the input region, see rp_corrupt): code at RP_CODE_BASE, random input at
 * RP_IN_BASE (LOADs read only there), STORE outputs in RP_OUT_BASE (pre-filled
 * with random bytes). Everything lies below RP_IMAGE_BYTES. */
#ifndef RP_RANDOM_PROGRAM_H
#define RP_RANDOM_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_config.h"
#include "mxu_isa.h"

#define RP_CODE_BASE 0x3000u
#define RP_CODE_MAX_INSNS 128u
#define RP_IN_BASE 0x4000u
#define RP_IN_BYTES 0x1000u
#define RP_OUT_BASE 0x8000u
#define RP_OUT_BYTES 0x1000u
#define RP_IMAGE_BYTES 0x9000u

typedef struct rp_rng {
    uint64_t s;
} rp_rng;

uint64_t rp_next(rp_rng *r);
/* Uniform in lo..hi (inclusive). */
uint32_t rp_range(rp_rng *r, uint32_t lo, uint32_t hi);

typedef struct rp_program {
    mxu_hw_config cfg;
    uint32_t n_insns; /* FINISH included */
    uint64_t insns[RP_CODE_MAX_INSNS][MXU_INSN_WORDS];
    uint8_t image[RP_IMAGE_BYTES]; /* DRAM [0, RP_IMAGE_BYTES) before the run, code included */
} rp_program;

/* A random well-formed program of about `target` instructions (<= 100) ending
 * with FINISH, and its DRAM image. Deterministic in (cfg, seed). */
void rp_generate(const mxu_hw_config *cfg, uint64_t seed, unsigned target, rp_program *p);

/* Write the instructions into the image at RP_CODE_BASE (after editing them). */
void rp_store_code(rp_program *p);

/* One instruction as "MATMUL pop_prev=1 ... k_stride=0" (fields that are set). */
void rp_disasm(const uint64_t insn[MXU_INSN_WORDS], char *buf, size_t len);

/* Flip one random bit of one random instruction (FINISH included) in place;
 * returns the instruction index. */
unsigned rp_corrupt(rp_program *p, rp_rng *r);

#endif
