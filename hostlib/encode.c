/* Instruction encoders (mxu_encode.h): each sets one opcode's fields by name, at
 * the positions isa/mxu.isa generates. */
#include "mxu_encode.h"

#include <string.h>

/* A zeroed instruction of opcode op; the encoders then set each field. */
static void insn_begin(uint64_t w[MXU_INSN_WORDS], unsigned op)
{
    memset(w, 0, MXU_INSN_BYTES);
    w[0] = op;
}

void mxu_encode_load(uint64_t w[MXU_INSN_WORDS], const struct mxu_load *d)
{
    insn_begin(w, MXU_OP_LOAD);
    MXU_SET(w, LOAD, MEM, d->mem);
    MXU_SET(w, LOAD, ELEM_BYTES, d->elem_bytes);
    MXU_SET(w, LOAD, DRAM_ADDR, d->dram_addr);
    MXU_SET(w, LOAD, DST_LINE, d->dst_line);
    MXU_SET(w, LOAD, PAD_VALUE, (uint32_t)d->pad_value);
    MXU_SET(w, LOAD, N0, d->n0);
    MXU_SET(w, LOAD, N1, d->n1);
    MXU_SET(w, LOAD, N2, d->n2);
    MXU_SET(w, LOAD, PAD_LEFT, d->pad_left);
    MXU_SET(w, LOAD, PAD_RIGHT, d->pad_right);
    MXU_SET(w, LOAD, PAD_TOP, d->pad_top);
    MXU_SET(w, LOAD, PAD_BOTTOM, d->pad_bottom);
    MXU_SET(w, LOAD, S0, d->s0);
    MXU_SET(w, LOAD, S1, d->s1);
    MXU_SET(w, LOAD, S2, d->s2);
}

void mxu_encode_store(uint64_t w[MXU_INSN_WORDS], const struct mxu_store *d)
{
    insn_begin(w, MXU_OP_STORE);
    MXU_SET(w, STORE, ELEM_BYTES, d->elem_bytes);
    MXU_SET(w, STORE, DRAM_ADDR, d->dram_addr);
    MXU_SET(w, STORE, SRC_LINE, d->src_line);
    MXU_SET(w, STORE, N0, d->n0);
    MXU_SET(w, STORE, N1, d->n1);
    MXU_SET(w, STORE, N2, d->n2);
    MXU_SET(w, STORE, S0, d->s0);
    MXU_SET(w, STORE, S1, d->s1);
    MXU_SET(w, STORE, S2, d->s2);
}

void mxu_encode_matmul(uint64_t w[MXU_INSN_WORDS], const struct mxu_matmul *d)
{
    insn_begin(w, MXU_OP_MATMUL);
    MXU_SET(w, MATMUL, ACCUMULATE, d->accumulate != 0);
    MXU_SET(w, MATMUL, KEEP_WEIGHTS, d->keep_weights != 0);
    MXU_SET(w, MATMUL, WGT_LINE, d->wgt_line);
    MXU_SET(w, MATMUL, UB_ADDR, d->ub_addr);
    MXU_SET(w, MATMUL, N0, d->n0);
    MXU_SET(w, MATMUL, N1, d->n1);
    MXU_SET(w, MATMUL, S0, d->s0);
    MXU_SET(w, MATMUL, ACC_ADDR, d->acc_addr);
    MXU_SET(w, MATMUL, S1, d->s1);
    MXU_SET(w, MATMUL, NK, d->nk);
    MXU_SET(w, MATMUL, K_STRIDE, d->k_stride);
}

void mxu_encode_activate(uint64_t w[MXU_INSN_WORDS], const struct mxu_activate *d)
{
    insn_begin(w, MXU_OP_ACTIVATE);
    MXU_SET(w, ACTIVATE, LUT_EN, d->lut_en != 0);
    MXU_SET(w, ACTIVATE, ROUND_HALF_UP, d->round_half_up != 0);
    MXU_SET(w, ACTIVATE, PARAM_LINE, d->param_line);
    MXU_SET(w, ACTIVATE, UB_ADDR, d->ub_addr);
    MXU_SET(w, ACTIVATE, ACC_ADDR, d->acc_addr);
    MXU_SET(w, ACTIVATE, IN_W, d->in_w);
    MXU_SET(w, ACTIVATE, OUT_H, d->out_h);
    MXU_SET(w, ACTIVATE, OUT_W, d->out_w);
    MXU_SET(w, ACTIVATE, ZP_OUT, (uint32_t)d->zp_out);
    MXU_SET(w, ACTIVATE, CLAMP_MIN, (uint32_t)d->clamp_min);
    MXU_SET(w, ACTIVATE, CLAMP_MAX, (uint32_t)d->clamp_max);
    MXU_SET(w, ACTIVATE, POOL_K, d->pool_k);
    MXU_SET(w, ACTIVATE, POOL_S, d->pool_s);
}

void mxu_encode_finish(uint64_t w[MXU_INSN_WORDS])
{
    insn_begin(w, MXU_OP_FINISH);
}
