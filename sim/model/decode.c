/* Instruction checks of docs/isa.md, in its order: opcode, reserved bits, field
 * values, address ranges, tokens. All range arithmetic is 64-bit: every field is
 * at most 32 bits wide, so products of two fields and sums of a few stay far
 * below 2^64. */
#include "mxu_decode.h"

#define GET(OP, F) MXU_GET(insn, OP, F)

static int opcode_known(unsigned op)
{
    for (unsigned i = 0; i < mxu_isa_n_opcodes; i++)
        if (mxu_isa_opcodes[i].value == op)
            return 1;
    return 0;
}

static int reserved_clear(unsigned op, const uint64_t insn[MXU_INSN_WORDS])
{
    for (unsigned w = 0; w < MXU_INSN_WORDS; w++)
        if (insn[w] & mxu_isa_reserved[op][w])
            return 0;
    return 1;
}

static const int mem_range_error[4] = {
    [MXU_MEM_UB] = MXU_DEVERR_UB_RANGE,
    [MXU_MEM_WB] = MXU_DEVERR_WB_RANGE,
    [MXU_MEM_PARAM] = MXU_DEVERR_PARAM_RANGE,
    [MXU_MEM_LUT] = MXU_DEVERR_LUT_RANGE,
};

uint64_t mxu_decode_load_lines(const uint64_t insn[MXU_INSN_WORDS])
{
    uint64_t rows = GET(LOAD, PAD_TOP) + GET(LOAD, N1) + GET(LOAD, PAD_BOTTOM);
    uint64_t elems = GET(LOAD, PAD_LEFT) + GET(LOAD, N0) + GET(LOAD, PAD_RIGHT);
    return GET(LOAD, N2) * rows * elems;
}

/* One past the last DRAM byte of a LOAD/STORE walk (counts >= 1 checked). */
static uint64_t dram_end(uint64_t addr, uint64_t n0, uint64_t n1, uint64_t n2, uint64_t s0, uint64_t s1,
                         uint64_t s2, uint64_t elem_bytes)
{
    return addr + (n2 - 1) * s2 + (n1 - 1) * s1 + (n0 - 1) * s0 + elem_bytes;
}

static int check_load(const mxu_hw_config *cfg, const uint64_t *insn)
{
    uint64_t mem = GET(LOAD, MEM), elem = GET(LOAD, ELEM_BYTES);
    uint64_t n0 = GET(LOAD, N0), n1 = GET(LOAD, N1), n2 = GET(LOAD, N2);
    if (mem > MXU_MEM_LUT || elem < 1 || elem > mxu_config_line_bytes(cfg, (unsigned)mem) || !n0 ||
        !n1 || !n2)
        return MXU_DEVERR_ILLEGAL_FIELD;
    if (dram_end(GET(LOAD, DRAM_ADDR), n0, n1, n2, GET(LOAD, S0), GET(LOAD, S1), GET(LOAD, S2), elem) >
        cfg->dram_bytes)
        return MXU_DEVERR_DRAM_RANGE;
    uint64_t lines = mxu_config_mem_lines(cfg, (unsigned)mem);
    if (GET(LOAD, DST_LINE) + mxu_decode_load_lines(insn) > lines)
        return mem_range_error[mem];
    return MXU_DEVERR_OK;
}

static int check_store(const mxu_hw_config *cfg, const uint64_t *insn)
{
    uint64_t elem = GET(STORE, ELEM_BYTES);
    uint64_t n0 = GET(STORE, N0), n1 = GET(STORE, N1), n2 = GET(STORE, N2);
    if (elem < 1 || elem > mxu_config_line_bytes(cfg, MXU_MEM_UB) || !n0 || !n1 || !n2)
        return MXU_DEVERR_ILLEGAL_FIELD;
    if (GET(STORE, SRC_LINE) + n0 * n1 * n2 > cfg->ub_lines)
        return MXU_DEVERR_UB_RANGE;
    if (dram_end(GET(STORE, DRAM_ADDR), n0, n1, n2, GET(STORE, S0), GET(STORE, S1), GET(STORE, S2), elem) >
        cfg->dram_bytes)
        return MXU_DEVERR_DRAM_RANGE;
    return MXU_DEVERR_OK;
}

static int check_matmul(const mxu_hw_config *cfg, const uint64_t *insn)
{
    uint64_t n0 = GET(MATMUL, N0), n1 = GET(MATMUL, N1), nk = GET(MATMUL, NK);
    uint64_t keep = GET(MATMUL, KEEP_WEIGHTS);
    if (!n0 || !n1 || !nk || (keep && nk != 1))
        return MXU_DEVERR_ILLEGAL_FIELD;
    uint64_t last_ub = GET(MATMUL, UB_ADDR) + (nk - 1) * GET(MATMUL, K_STRIDE) + (n1 - 1) * GET(MATMUL, S1) +
                       (n0 - 1) * GET(MATMUL, S0);
    if (last_ub >= cfg->ub_lines)
        return MXU_DEVERR_UB_RANGE;
    if (!keep && GET(MATMUL, WGT_LINE) + nk * cfg->rows > cfg->wb_lines)
        return MXU_DEVERR_WB_RANGE;
    if (GET(MATMUL, ACC_ADDR) + n0 * n1 > cfg->acc_rows)
        return MXU_DEVERR_ACC_RANGE;
    return MXU_DEVERR_OK;
}

static int check_activate(const mxu_hw_config *cfg, const uint64_t *insn)
{
    uint64_t in_w = GET(ACTIVATE, IN_W), out_h = GET(ACTIVATE, OUT_H), out_w = GET(ACTIVATE, OUT_W);
    uint64_t pk = GET(ACTIVATE, POOL_K), ps = GET(ACTIVATE, POOL_S);
    if (!in_w || !out_h || !out_w || !pk || !ps || (out_w - 1) * ps + pk > in_w ||
        MXU_GETS(insn, ACTIVATE, CLAMP_MIN) > MXU_GETS(insn, ACTIVATE, CLAMP_MAX))
        return MXU_DEVERR_ILLEGAL_FIELD;
    uint64_t last_acc = GET(ACTIVATE, ACC_ADDR) + ((out_h - 1) * ps + pk - 1) * in_w + (out_w - 1) * ps + pk - 1;
    if (last_acc >= cfg->acc_rows)
        return MXU_DEVERR_ACC_RANGE;
    if (GET(ACTIVATE, PARAM_LINE) >= cfg->param_lines)
        return MXU_DEVERR_PARAM_RANGE;
    if (GET(ACTIVATE, UB_ADDR) + out_h * out_w > cfg->ub_lines)
        return MXU_DEVERR_UB_RANGE;
    return MXU_DEVERR_OK;
}

#define BIT(ch) (1u << (ch))

struct mxu_token_use mxu_decode_tokens(const uint64_t insn[MXU_INSN_WORDS])
{
    struct mxu_token_use u = {0, 0};
    switch (mxu_insn_get(insn, MXU_F_OP_POS, MXU_F_OP_BITS)) {
    case MXU_OP_LOAD:
        u.pops = GET(LOAD, POP_NEXT) ? BIT(MXU_TOK_COMPUTE_TO_LOAD) : 0;
        u.pushes = GET(LOAD, PUSH_NEXT) ? BIT(MXU_TOK_LOAD_TO_COMPUTE) : 0;
        break;
    case MXU_OP_STORE:
        u.pops = GET(STORE, POP_PREV) ? BIT(MXU_TOK_COMPUTE_TO_STORE) : 0;
        u.pushes = GET(STORE, PUSH_PREV) ? BIT(MXU_TOK_STORE_TO_COMPUTE) : 0;
        break;
    case MXU_OP_MATMUL: /* MATMUL and ACTIVATE share the flag positions */
        u.pops = (GET(MATMUL, POP_PREV) ? BIT(MXU_TOK_LOAD_TO_COMPUTE) : 0) |
                 (GET(MATMUL, POP_NEXT) ? BIT(MXU_TOK_STORE_TO_COMPUTE) : 0);
        u.pushes = (GET(MATMUL, PUSH_PREV) ? BIT(MXU_TOK_COMPUTE_TO_LOAD) : 0) |
                   (GET(MATMUL, PUSH_NEXT) ? BIT(MXU_TOK_COMPUTE_TO_STORE) : 0);
        break;
    case MXU_OP_ACTIVATE:
        u.pops = (GET(ACTIVATE, POP_PREV) ? BIT(MXU_TOK_LOAD_TO_COMPUTE) : 0) |
                 (GET(ACTIVATE, POP_NEXT) ? BIT(MXU_TOK_STORE_TO_COMPUTE) : 0);
        u.pushes = (GET(ACTIVATE, PUSH_PREV) ? BIT(MXU_TOK_COMPUTE_TO_LOAD) : 0) |
                   (GET(ACTIVATE, PUSH_NEXT) ? BIT(MXU_TOK_COMPUTE_TO_STORE) : 0);
        break;
    default:
        break;
    }
    return u;
}

/* Pops first (each needs a token), then pushes (each must stay within token_max). */
static int check_tokens(const mxu_hw_config *cfg, const uint64_t *insn, struct mxu_token_state *tok)
{
    struct mxu_token_use u = mxu_decode_tokens(insn);
    struct mxu_token_state t = *tok;
    for (unsigned ch = 0; ch < MXU_TOK_CHANNELS; ch++) {
        if (!(u.pops & BIT(ch)))
            continue;
        if (t.count[ch] == 0)
            return MXU_DEVERR_TOKEN;
        t.count[ch]--;
    }
    for (unsigned ch = 0; ch < MXU_TOK_CHANNELS; ch++) {
        if (!(u.pushes & BIT(ch)))
            continue;
        if (t.count[ch] >= cfg->token_max)
            return MXU_DEVERR_TOKEN;
        t.count[ch]++;
    }
    *tok = t;
    return MXU_DEVERR_OK;
}

int mxu_decode_check(const mxu_hw_config *cfg, const uint64_t insn[MXU_INSN_WORDS], struct mxu_token_state *tok)
{
    unsigned op = (unsigned)mxu_insn_get(insn, MXU_F_OP_POS, MXU_F_OP_BITS);
    if (!opcode_known(op))
        return MXU_DEVERR_ILLEGAL_OPCODE;
    if (!reserved_clear(op, insn))
        return MXU_DEVERR_RESERVED_BITS;
    int err = MXU_DEVERR_OK;
    switch (op) {
    case MXU_OP_LOAD: err = check_load(cfg, insn); break;
    case MXU_OP_STORE: err = check_store(cfg, insn); break;
    case MXU_OP_MATMUL: err = check_matmul(cfg, insn); break;
    case MXU_OP_ACTIVATE: err = check_activate(cfg, insn); break;
    default: break; /* FINISH: nothing beyond the reserved bits */
    }
    if (err)
        return err;
    return check_tokens(cfg, insn, tok);
}
