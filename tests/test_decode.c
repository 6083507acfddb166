/* mxu_decode_check: every error code, the check order of docs/isa.md, the
 * boundaries of every range (last valid vs first invalid), 64-bit arithmetic. */
#include <criterion/criterion.h>
#include <string.h>

#include "mxu_config.h"
#include "mxu_decode.h"
#include "mxu_isa.h"

static mxu_hw_config cfg;

static void setup(void)
{
    mxu_config_default(&cfg);
    cfg.dram_bytes = 1u << 20;
    cr_assert_eq(mxu_config_validate(&cfg), 0);
}

TestSuite(decode, .init = setup);

typedef uint64_t insn_t[MXU_INSN_WORDS];

static int check(const uint64_t *w)
{
    struct mxu_token_state tok = {{0}};
    return mxu_decode_check(&cfg, w, &tok);
}

/* A valid LOAD of one UB line from DRAM 0. */
static void load(uint64_t *w, unsigned mem, unsigned elem)
{
    memset(w, 0, sizeof(insn_t));
    w[0] = MXU_OP_LOAD;
    MXU_SET(w, LOAD, MEM, mem);
    MXU_SET(w, LOAD, ELEM_BYTES, elem);
    MXU_SET(w, LOAD, N0, 1);
    MXU_SET(w, LOAD, N1, 1);
    MXU_SET(w, LOAD, N2, 1);
}

static void store(uint64_t *w)
{
    memset(w, 0, sizeof(insn_t));
    w[0] = MXU_OP_STORE;
    MXU_SET(w, STORE, ELEM_BYTES, 1);
    MXU_SET(w, STORE, N0, 1);
    MXU_SET(w, STORE, N1, 1);
    MXU_SET(w, STORE, N2, 1);
}

static void matmul(uint64_t *w)
{
    memset(w, 0, sizeof(insn_t));
    w[0] = MXU_OP_MATMUL;
    MXU_SET(w, MATMUL, N0, 1);
    MXU_SET(w, MATMUL, N1, 1);
    MXU_SET(w, MATMUL, NK, 1);
}

static void activate(uint64_t *w)
{
    memset(w, 0, sizeof(insn_t));
    w[0] = MXU_OP_ACTIVATE;
    MXU_SET(w, ACTIVATE, IN_W, 1);
    MXU_SET(w, ACTIVATE, OUT_H, 1);
    MXU_SET(w, ACTIVATE, OUT_W, 1);
    MXU_SET(w, ACTIVATE, POOL_K, 1);
    MXU_SET(w, ACTIVATE, POOL_S, 1);
}

Test(decode, valid_minimal_instructions)
{
    insn_t w;
    load(w, MXU_MEM_UB, 1);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    store(w);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    matmul(w);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    activate(w);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    insn_t f = {MXU_OP_FINISH, 0, 0, 0};
    cr_assert_eq(check(f), MXU_DEVERR_OK);
}

Test(decode, illegal_opcodes)
{
    for (unsigned op = 0; op < 16; op++) {
        insn_t w = {op, 0, 0, 0};
        int known = op >= MXU_OP_LOAD && op <= MXU_OP_FINISH;
        int err = check(w);
        if (known)
            cr_assert_neq(err, MXU_DEVERR_ILLEGAL_OPCODE, "op %u", op);
        else
            cr_assert_eq(err, MXU_DEVERR_ILLEGAL_OPCODE, "op %u", op);
    }
    /* the opcode is checked before the reserved bits */
    insn_t w = {~0ull & ~0xfull, ~0ull, ~0ull, ~0ull};
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_OPCODE);
}

Test(decode, reserved_bits)
{
    insn_t w;
    /* every reserved bit of every opcode, one at a time */
    for (unsigned op = MXU_OP_LOAD; op <= MXU_OP_FINISH; op++) {
        for (unsigned bit = 4; bit < MXU_INSN_BITS; bit++) {
            if (!(mxu_isa_reserved[op][bit / 64] >> (bit % 64) & 1))
                continue;
            switch (op) {
            case MXU_OP_LOAD: load(w, 0, 1); break;
            case MXU_OP_STORE: store(w); break;
            case MXU_OP_MATMUL: matmul(w); break;
            case MXU_OP_ACTIVATE: activate(w); break;
            default: memset(w, 0, sizeof w); w[0] = op; break;
            }
            w[bit / 64] |= 1ull << (bit % 64);
            cr_assert_eq(check(w), MXU_DEVERR_RESERVED_BITS, "op %u bit %u", op, bit);
        }
    }
    /* reserved bits win over a bad field */
    load(w, 0, 0);
    w[0] |= 1ull << 12;
    cr_assert_eq(check(w), MXU_DEVERR_RESERVED_BITS);
    /* FINISH: bit 4 is reserved */
    insn_t f = {MXU_OP_FINISH | 1u << 4, 0, 0, 0};
    cr_assert_eq(check(f), MXU_DEVERR_RESERVED_BITS);
}

Test(decode, load_fields)
{
    insn_t w;
    static const struct { unsigned mem, width; } mems[] = {
        {MXU_MEM_UB, 16}, {MXU_MEM_WB, 16}, {MXU_MEM_PARAM, 16 * 12}, {MXU_MEM_LUT, 256}};
    for (unsigned i = 0; i < 4; i++) {
        load(w, mems[i].mem, mems[i].width);
        cr_assert_eq(check(w), MXU_DEVERR_OK, "mem %u", mems[i].mem);
        load(w, mems[i].mem, mems[i].width + 1);
        cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD, "mem %u", mems[i].mem);
        load(w, mems[i].mem, 0);
        cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    }
    for (unsigned mem = 4; mem < 8; mem++) {
        load(w, mem, 1);
        cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD, "mem %u", mem);
    }
    load(w, 0, 1);
    MXU_SET(w, LOAD, N0, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    load(w, 0, 1);
    MXU_SET(w, LOAD, N1, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    load(w, 0, 1);
    MXU_SET(w, LOAD, N2, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    /* a bad field wins over a range error */
    load(w, 0, 0);
    MXU_SET(w, LOAD, DRAM_ADDR, 0xffffffffu);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
}

Test(decode, load_dram_range)
{
    insn_t w;
    uint32_t d = cfg.dram_bytes;
    load(w, 0, 4);
    MXU_SET(w, LOAD, DRAM_ADDR, d - 4);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, LOAD, DRAM_ADDR, d - 3);
    cr_assert_eq(check(w), MXU_DEVERR_DRAM_RANGE);
    /* last byte = addr + (n2-1)s2 + (n1-1)s1 + (n0-1)s0 + elem - 1 */
    load(w, 0, 4);
    MXU_SET(w, LOAD, N0, 3);
    MXU_SET(w, LOAD, S0, 10);
    MXU_SET(w, LOAD, N1, 2);
    MXU_SET(w, LOAD, S1, 100);
    MXU_SET(w, LOAD, N2, 2);
    MXU_SET(w, LOAD, S2, 1000);
    MXU_SET(w, LOAD, DRAM_ADDR, d - (1000 + 100 + 20 + 4));
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, LOAD, DRAM_ADDR, d - (1000 + 100 + 20 + 4) + 1);
    cr_assert_eq(check(w), MXU_DEVERR_DRAM_RANGE);
    /* huge products must not wrap around 64 bits */
    MXU_SET(w, LOAD, N1, 0xffff);
    MXU_SET(w, LOAD, S1, 0xffffffffu);
    MXU_SET(w, LOAD, N2, 0xffff);
    MXU_SET(w, LOAD, S2, 0xffffffffu);
    MXU_SET(w, LOAD, DRAM_ADDR, 0);
    cr_assert_eq(check(w), MXU_DEVERR_DRAM_RANGE);
    /* DRAM is checked before the destination */
    load(w, 0, 4);
    MXU_SET(w, LOAD, DRAM_ADDR, d);
    MXU_SET(w, LOAD, DST_LINE, 0xffffff);
    cr_assert_eq(check(w), MXU_DEVERR_DRAM_RANGE);
}

Test(decode, load_destination_ranges)
{
    insn_t w;
    static const struct { unsigned mem; int err; } mems[] = {
        {MXU_MEM_UB, MXU_DEVERR_UB_RANGE},
        {MXU_MEM_WB, MXU_DEVERR_WB_RANGE},
        {MXU_MEM_PARAM, MXU_DEVERR_PARAM_RANGE},
        {MXU_MEM_LUT, MXU_DEVERR_LUT_RANGE},
    };
    for (unsigned i = 0; i < 4; i++) {
        uint32_t lines = mxu_config_mem_lines(&cfg, mems[i].mem);
        load(w, mems[i].mem, 1);
        MXU_SET(w, LOAD, DST_LINE, lines - 1);
        cr_assert_eq(check(w), MXU_DEVERR_OK, "mem %u", mems[i].mem);
        MXU_SET(w, LOAD, DST_LINE, lines);
        cr_assert_eq(check(w), mems[i].err, "mem %u", mems[i].mem);
    }
    /* lines written include the padding: 2 planes x (1+2+3) rows x (4+1+5) = 120 */
    load(w, MXU_MEM_UB, 1);
    MXU_SET(w, LOAD, N0, 1);
    MXU_SET(w, LOAD, N1, 2);
    MXU_SET(w, LOAD, N2, 2);
    MXU_SET(w, LOAD, PAD_TOP, 1);
    MXU_SET(w, LOAD, PAD_BOTTOM, 3);
    MXU_SET(w, LOAD, PAD_LEFT, 4);
    MXU_SET(w, LOAD, PAD_RIGHT, 5);
    cr_assert_eq(mxu_decode_load_lines(w), 120);
    MXU_SET(w, LOAD, DST_LINE, cfg.ub_lines - 120);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, LOAD, DST_LINE, cfg.ub_lines - 119);
    cr_assert_eq(check(w), MXU_DEVERR_UB_RANGE);
    /* LUT: a second line is out of range */
    load(w, MXU_MEM_LUT, 256);
    MXU_SET(w, LOAD, N0, 2);
    cr_assert_eq(check(w), MXU_DEVERR_LUT_RANGE);
}

Test(decode, store_checks)
{
    insn_t w;
    store(w);
    MXU_SET(w, STORE, ELEM_BYTES, 16);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, STORE, ELEM_BYTES, 17);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    MXU_SET(w, STORE, ELEM_BYTES, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    store(w);
    MXU_SET(w, STORE, N0, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    store(w);
    MXU_SET(w, STORE, N1, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    store(w);
    MXU_SET(w, STORE, N2, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    /* UB: src_line + n0 n1 n2 <= UB_LINES */
    store(w);
    MXU_SET(w, STORE, N0, 2);
    MXU_SET(w, STORE, N1, 3);
    MXU_SET(w, STORE, N2, 4);
    MXU_SET(w, STORE, SRC_LINE, cfg.ub_lines - 24);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, STORE, SRC_LINE, cfg.ub_lines - 23);
    cr_assert_eq(check(w), MXU_DEVERR_UB_RANGE);
    /* DRAM */
    store(w);
    MXU_SET(w, STORE, ELEM_BYTES, 8);
    MXU_SET(w, STORE, N0, 2);
    MXU_SET(w, STORE, S0, 3);
    MXU_SET(w, STORE, DRAM_ADDR, cfg.dram_bytes - 11);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, STORE, DRAM_ADDR, cfg.dram_bytes - 10);
    cr_assert_eq(check(w), MXU_DEVERR_DRAM_RANGE);
    /* STORE checks the UB before the DRAM */
    MXU_SET(w, STORE, SRC_LINE, cfg.ub_lines);
    cr_assert_eq(check(w), MXU_DEVERR_UB_RANGE);
}

Test(decode, matmul_checks)
{
    insn_t w;
    matmul(w);
    MXU_SET(w, MATMUL, N0, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    matmul(w);
    MXU_SET(w, MATMUL, N1, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    matmul(w);
    MXU_SET(w, MATMUL, NK, 0);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    matmul(w);
    MXU_SET(w, MATMUL, KEEP_WEIGHTS, 1);
    MXU_SET(w, MATMUL, NK, 2);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    /* keep_weights ignores wgt_line */
    MXU_SET(w, MATMUL, NK, 1);
    MXU_SET(w, MATMUL, WGT_LINE, 0xffff);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, MATMUL, KEEP_WEIGHTS, 0);
    cr_assert_eq(check(w), MXU_DEVERR_WB_RANGE);

    /* UB: ub_addr + (nk-1) k_stride + (n1-1) s1 + (n0-1) s0 < UB_LINES */
    matmul(w);
    MXU_SET(w, MATMUL, NK, 2);
    MXU_SET(w, MATMUL, K_STRIDE, 100);
    MXU_SET(w, MATMUL, N1, 3);
    MXU_SET(w, MATMUL, S1, 20);
    MXU_SET(w, MATMUL, N0, 4);
    MXU_SET(w, MATMUL, S0, 2);
    MXU_SET(w, MATMUL, UB_ADDR, cfg.ub_lines - 1 - (100 + 40 + 6));
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, MATMUL, UB_ADDR, cfg.ub_lines - (100 + 40 + 6));
    cr_assert_eq(check(w), MXU_DEVERR_UB_RANGE);
    MXU_SET(w, MATMUL, UB_ADDR, 0);

    /* WB: wgt_line + nk ROWS <= WB_LINES */
    MXU_SET(w, MATMUL, WGT_LINE, cfg.wb_lines - 2 * cfg.rows);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, MATMUL, WGT_LINE, cfg.wb_lines - 2 * cfg.rows + 1);
    cr_assert_eq(check(w), MXU_DEVERR_WB_RANGE);
    MXU_SET(w, MATMUL, WGT_LINE, 0);

    /* ACC: acc_addr + n0 n1 <= ACC_ROWS */
    MXU_SET(w, MATMUL, ACC_ADDR, cfg.acc_rows - 12);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, MATMUL, ACC_ADDR, cfg.acc_rows - 11);
    cr_assert_eq(check(w), MXU_DEVERR_ACC_RANGE);

    /* order: UB, then WB, then ACC */
    MXU_SET(w, MATMUL, WGT_LINE, 0xffff);
    cr_assert_eq(check(w), MXU_DEVERR_WB_RANGE);
    MXU_SET(w, MATMUL, UB_ADDR, 0xffffff);
    cr_assert_eq(check(w), MXU_DEVERR_UB_RANGE);
    /* 24-bit strides times 16-bit counts stay exact */
    matmul(w);
    MXU_SET(w, MATMUL, NK, 0xffff);
    MXU_SET(w, MATMUL, K_STRIDE, 0xffffff);
    cr_assert_eq(check(w), MXU_DEVERR_UB_RANGE);
}

Test(decode, activate_checks)
{
    insn_t w;
    static const struct { unsigned pos, bits; } ones[] = {
        {MXU_F_ACTIVATE_IN_W_POS, MXU_F_ACTIVATE_IN_W_BITS},
        {MXU_F_ACTIVATE_OUT_H_POS, MXU_F_ACTIVATE_OUT_H_BITS},
        {MXU_F_ACTIVATE_OUT_W_POS, MXU_F_ACTIVATE_OUT_W_BITS},
        {MXU_F_ACTIVATE_POOL_K_POS, MXU_F_ACTIVATE_POOL_K_BITS},
        {MXU_F_ACTIVATE_POOL_S_POS, MXU_F_ACTIVATE_POOL_S_BITS},
    };
    for (unsigned i = 0; i < 5; i++) {
        activate(w);
        mxu_insn_set(w, ones[i].pos, ones[i].bits, 0);
        cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD, "field %u", i);
    }
    /* (out_w-1) pool_s + pool_k <= in_w */
    activate(w);
    MXU_SET(w, ACTIVATE, OUT_W, 3);
    MXU_SET(w, ACTIVATE, POOL_S, 2);
    MXU_SET(w, ACTIVATE, POOL_K, 3);
    MXU_SET(w, ACTIVATE, IN_W, 7);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, ACTIVATE, IN_W, 6);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    /* clamp_min <= clamp_max, signed */
    activate(w);
    MXU_SET(w, ACTIVATE, CLAMP_MIN, (uint8_t)-5);
    MXU_SET(w, ACTIVATE, CLAMP_MAX, (uint8_t)-5);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, ACTIVATE, CLAMP_MAX, (uint8_t)-6);
    cr_assert_eq(check(w), MXU_DEVERR_ILLEGAL_FIELD);
    MXU_SET(w, ACTIVATE, CLAMP_MIN, (uint8_t)-128);
    MXU_SET(w, ACTIVATE, CLAMP_MAX, 127);
    cr_assert_eq(check(w), MXU_DEVERR_OK);

    /* ACC: last row acc_addr + ((out_h-1) ps + pk - 1) in_w + (out_w-1) ps + pk - 1 */
    activate(w);
    MXU_SET(w, ACTIVATE, OUT_H, 2);
    MXU_SET(w, ACTIVATE, OUT_W, 2);
    MXU_SET(w, ACTIVATE, POOL_K, 3);
    MXU_SET(w, ACTIVATE, POOL_S, 2);
    MXU_SET(w, ACTIVATE, IN_W, 6);
    uint32_t last = (1 * 2 + 2) * 6 + 1 * 2 + 2; /* 28 */
    MXU_SET(w, ACTIVATE, ACC_ADDR, cfg.acc_rows - 1 - last);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, ACTIVATE, ACC_ADDR, cfg.acc_rows - last);
    cr_assert_eq(check(w), MXU_DEVERR_ACC_RANGE);
    MXU_SET(w, ACTIVATE, ACC_ADDR, 0);
    /* PARAM */
    MXU_SET(w, ACTIVATE, PARAM_LINE, cfg.param_lines - 1);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, ACTIVATE, PARAM_LINE, cfg.param_lines);
    cr_assert_eq(check(w), MXU_DEVERR_PARAM_RANGE);
    MXU_SET(w, ACTIVATE, PARAM_LINE, 0);
    /* UB: ub_addr + out_h out_w <= UB_LINES */
    MXU_SET(w, ACTIVATE, UB_ADDR, cfg.ub_lines - 4);
    cr_assert_eq(check(w), MXU_DEVERR_OK);
    MXU_SET(w, ACTIVATE, UB_ADDR, cfg.ub_lines - 3);
    cr_assert_eq(check(w), MXU_DEVERR_UB_RANGE);
    /* order: ACC, PARAM, UB */
    MXU_SET(w, ACTIVATE, PARAM_LINE, 0xffff);
    cr_assert_eq(check(w), MXU_DEVERR_PARAM_RANGE);
    MXU_SET(w, ACTIVATE, ACC_ADDR, 0xffff);
    cr_assert_eq(check(w), MXU_DEVERR_ACC_RANGE);
}

Test(decode, tokens_pop_before_push_and_overflow)
{
    struct mxu_token_state tok = {{0}};
    insn_t w;
    /* MATMUL pops load->compute: nothing pushed yet */
    matmul(w);
    MXU_SET(w, MATMUL, POP_PREV, 1);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), MXU_DEVERR_TOKEN);
    for (int c = 0; c < MXU_TOK_CHANNELS; c++)
        cr_assert_eq(tok.count[c], 0);
    /* LOAD pushes it */
    load(w, 0, 1);
    MXU_SET(w, LOAD, PUSH_NEXT, 1);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), 0);
    cr_assert_eq(tok.count[MXU_TOK_LOAD_TO_COMPUTE], 1);
    /* MATMUL pops it and pushes compute->store and compute->load */
    matmul(w);
    MXU_SET(w, MATMUL, POP_PREV, 1);
    MXU_SET(w, MATMUL, PUSH_NEXT, 1);
    MXU_SET(w, MATMUL, PUSH_PREV, 1);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), 0);
    cr_assert_eq(tok.count[MXU_TOK_LOAD_TO_COMPUTE], 0);
    cr_assert_eq(tok.count[MXU_TOK_COMPUTE_TO_STORE], 1);
    cr_assert_eq(tok.count[MXU_TOK_COMPUTE_TO_LOAD], 1);
    /* STORE pops compute->store, pushes store->compute */
    store(w);
    MXU_SET(w, STORE, POP_PREV, 1);
    MXU_SET(w, STORE, PUSH_PREV, 1);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), 0);
    cr_assert_eq(tok.count[MXU_TOK_COMPUTE_TO_STORE], 0);
    cr_assert_eq(tok.count[MXU_TOK_STORE_TO_COMPUTE], 1);
    /* ACTIVATE pops store->compute and load->compute: the second is missing, so
     * nothing changes */
    activate(w);
    MXU_SET(w, ACTIVATE, POP_NEXT, 1);
    MXU_SET(w, ACTIVATE, POP_PREV, 1);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), MXU_DEVERR_TOKEN);
    cr_assert_eq(tok.count[MXU_TOK_STORE_TO_COMPUTE], 1);
    MXU_SET(w, ACTIVATE, POP_PREV, 0);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), 0);
    cr_assert_eq(tok.count[MXU_TOK_STORE_TO_COMPUTE], 0);
    /* LOAD pops compute->load */
    load(w, 0, 1);
    MXU_SET(w, LOAD, POP_NEXT, 1);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), 0);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), MXU_DEVERR_TOKEN);
}

Test(decode, token_max)
{
    struct mxu_token_state tok = {{0}};
    insn_t w;
    cfg.token_max = 3;
    load(w, 0, 1);
    MXU_SET(w, LOAD, PUSH_NEXT, 1);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(mxu_decode_check(&cfg, w, &tok), 0);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), MXU_DEVERR_TOKEN);
    cr_assert_eq(tok.count[MXU_TOK_LOAD_TO_COMPUTE], 3);
    /* a range error is reported before a token error */
    MXU_SET(w, LOAD, DST_LINE, cfg.ub_lines);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), MXU_DEVERR_UB_RANGE);
}

Test(decode, token_use_table)
{
    insn_t w;
    matmul(w);
    MXU_SET(w, MATMUL, POP_NEXT, 1);
    MXU_SET(w, MATMUL, PUSH_PREV, 1);
    struct mxu_token_use u = mxu_decode_tokens(w);
    cr_assert_eq(u.pops, 1u << MXU_TOK_STORE_TO_COMPUTE);
    cr_assert_eq(u.pushes, 1u << MXU_TOK_COMPUTE_TO_LOAD);
    insn_t f = {MXU_OP_FINISH, 0, 0, 0};
    u = mxu_decode_tokens(f);
    cr_assert_eq(u.pops | u.pushes, 0);
}
