/* The model's state, CSR map and run loop. A run fetches and checks every
 * instruction in program order (decode.c), executes each valid one at once
 * (exec.c: a well-formed program's result does not depend on how the queues
 * overlap), records it for the cycle estimate (timing.c; answered by
 * timing_cache.c when the same run was timed before), and stops at FINISH or
 * at the first error, so memory after an error is that of the valid prefix. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

#include "mxu_decode.h"
#include "mxu_error.h"
#include "mxu_model_priv.h"

#define COL_BLOCK MXU_MODEL_COL_BLOCK

static int parse_u32(const char *val, size_t len, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (val[i] < '0' || val[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(val[i] - '0');
    }
    if (v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_options(mxu_model *m, const char *options)
{
    const char *p = options ? options : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (!eq)
            return mxu_fail(MXU_ERR_INVAL, "model: option '%.*s' is not key=value", (int)len, p);
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        uint32_t v;
        if (klen == 7 && !memcmp(p, "latency", 7)) {
            if (parse_u32(eq + 1, vlen, 1000000, &v))
                return mxu_fail(MXU_ERR_INVAL, "model: latency=%.*s is not 0..1000000", (int)vlen, eq + 1);
            m->latency = v;
        } else if (klen == 2 && !memcmp(p, "bw", 2)) {
            if (parse_u32(eq + 1, vlen, m->cfg.dram_beat_bytes, &v) || v == 0)
                return mxu_fail(MXU_ERR_INVAL, "model: bw=%.*s is not 1..%u (bytes per cycle, at most a beat)",
                                (int)vlen, eq + 1, m->cfg.dram_beat_bytes);
            m->bw = v;
        } else if (klen == 6 && !memcmp(p, "timing", 6)) {
            if (parse_u32(eq + 1, vlen, 1, &v))
                return mxu_fail(MXU_ERR_INVAL, "model: timing=%.*s is not 0 or 1", (int)vlen, eq + 1);
            m->timing_on = (int)v;
        } else if (klen == 12 && !memcmp(p, "timing_cache", 12)) {
            if (parse_u32(eq + 1, vlen, 1, &v))
                return mxu_fail(MXU_ERR_INVAL, "model: timing_cache=%.*s is not 0 or 1", (int)vlen, eq + 1);
            m->timing_cache_on = (int)v;
        } else {
            return mxu_fail(MXU_ERR_INVAL, "model: unknown option '%.*s' (latency, bw, timing, timing_cache)",
                            (int)klen, p);
        }
        p += len + (end ? 1 : 0);
        if (end && !*p)
            return mxu_fail(MXU_ERR_INVAL, "model: trailing comma in options '%s'", options);
    }
    return MXU_OK;
}

int mxu_model_create(const mxu_hw_config *cfg, const char *options, mxu_model **out)
{
    *out = NULL;
    mxu_model *m = calloc(1, sizeof *m);
    if (!m)
        return mxu_fail(MXU_ERR_NOMEM, "model: out of memory");
    int rc;
    m->cfg = *cfg;
    if ((rc = mxu_config_validate(&m->cfg)))
        goto fail;
    m->latency = MXU_DEFAULT_DRAM_LATENCY;
    m->bw = m->cfg.dram_beat_bytes;
    m->timing_on = 1;
    m->timing_cache_on = 1;
    if ((rc = parse_options(m, options)))
        goto fail;

    const mxu_hw_config *c = &m->cfg;
    m->cols_pad = (c->cols + COL_BLOCK - 1) / COL_BLOCK * COL_BLOCK;
    /* mmap: untouched DRAM costs nothing (calloc of 256 MiB is slow under ASan). */
    m->dram = mmap(NULL, c->dram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m->dram == MAP_FAILED)
        m->dram = NULL;
    m->ub = calloc((size_t)c->ub_lines * c->ub_line_bytes, 1);
    m->wb = calloc((size_t)c->wb_lines * c->cols, 1);
    m->param = calloc((size_t)c->param_lines * c->cols * MXU_DEFAULT_PARAM_BYTES, 1);
    m->acc = calloc((size_t)c->acc_rows * c->cols, sizeof *m->acc);
    m->array_w = calloc((size_t)(c->rows + c->rows % 2) * m->cols_pad, sizeof *m->array_w);
    m->y = calloc(m->cols_pad, sizeof *m->y);
    m->chan = calloc((size_t)c->cols * 3, sizeof *m->chan);
    if (!m->dram || !m->ub || !m->wb || !m->param || !m->acc || !m->array_w || !m->y || !m->chan) {
        rc = mxu_fail(MXU_ERR_NOMEM, "model: cannot allocate the device memories (%u bytes of DRAM)",
                      c->dram_bytes);
        goto fail;
    }
    *out = m;
    return MXU_OK;
fail:
    mxu_model_destroy(m);
    return rc;
}

void mxu_model_destroy(mxu_model *m)
{
    if (!m)
        return;
    if (m->dram)
        munmap(m->dram, m->cfg.dram_bytes);
    free(m->ub);
    free(m->wb);
    free(m->param);
    free(m->acc);
    free(m->array_w);
    free(m->y);
    free(m->chan);
    free(m->trace);
    mxu_timing_cache_clear(&m->timing_cache);
    free(m);
}

const mxu_hw_config *mxu_model_config(const mxu_model *m)
{
    return &m->cfg;
}

uint8_t *mxu_model_dram(mxu_model *m)
{
    return m->dram;
}

void mxu_model_get_stats(const mxu_model *m, struct mxu_model_stats *out)
{
    *out = m->stats;
}

void mxu_model_get_cache_stats(const mxu_model *m, struct mxu_model_cache_stats *out)
{
    out->hits = m->timing_cache.hits;
    out->misses = m->timing_cache.misses;
    out->bypassed = m->timing_bypassed;
}

static int check_mem(const mxu_model *m, uint32_t addr, size_t bytes)
{
    if ((uint64_t)addr + bytes > m->cfg.dram_bytes)
        return mxu_fail(MXU_ERR_RANGE, "model: DRAM access 0x%x+%zu beyond %u bytes", addr, bytes,
                        m->cfg.dram_bytes);
    return MXU_OK;
}

int mxu_model_mem_write(mxu_model *m, uint32_t addr, const void *data, size_t bytes)
{
    int rc = check_mem(m, addr, bytes);
    if (!rc && bytes)
        memcpy(m->dram + addr, data, bytes);
    return rc;
}

int mxu_model_mem_read(mxu_model *m, uint32_t addr, void *data, size_t bytes)
{
    int rc = check_mem(m, addr, bytes);
    if (!rc && bytes)
        memcpy(data, m->dram + addr, bytes);
    return rc;
}

/* ---- run ------------------------------------------------------------------ */

static void read_insn(const mxu_model *m, uint64_t addr, uint64_t insn[MXU_INSN_WORDS])
{
    const uint8_t *p = m->dram + addr;
    for (unsigned w = 0; w < MXU_INSN_WORDS; w++) {
        uint64_t v = 0;
        for (unsigned b = 0; b < 8; b++)
            v |= (uint64_t)p[8 * w + b] << (8 * b);
        insn[w] = v;
    }
}

static struct mxu_timing_insn *trace_append(mxu_model *m)
{
    if (m->n_trace == m->cap_trace) {
        size_t cap = m->cap_trace ? 2 * m->cap_trace : 256;
        struct mxu_timing_insn *t = realloc(m->trace, cap * sizeof *t);
        if (!t)
            return NULL;
        m->trace = t;
        m->cap_trace = cap;
    }
    struct mxu_timing_insn *rec = &m->trace[m->n_trace++];
    memset(rec, 0, sizeof *rec);
    return rec;
}

static void execute(mxu_model *m, unsigned op, const uint64_t *insn, struct mxu_timing_insn *rec)
{
    switch (op) {
    case MXU_OP_LOAD: mxu_exec_load(m, insn, rec); break;
    case MXU_OP_STORE: mxu_exec_store(m, insn, rec); break;
    case MXU_OP_MATMUL: mxu_exec_matmul(m, insn, rec); break;
    case MXU_OP_ACTIVATE: mxu_exec_activate(m, insn, rec); break;
    default: break;
    }
}

/* Fetch, check and execute in program order. Sets err_code/err_pc; returns the
 * number of instructions the fetch unit read, or a negative mxu_status. */
static int64_t run_program(mxu_model *m)
{
    struct mxu_token_state tok = {{0}};
    uint64_t base = m->cmd_base, count = m->cmd_count;
    if (base % MXU_INSN_BYTES || base + (uint64_t)MXU_INSN_BYTES * count > m->cfg.dram_bytes) {
        m->err_code = MXU_DEVERR_CMD_RANGE;
        return 0;
    }
    for (uint64_t pc = 0; pc < count; pc++) {
        uint64_t insn[MXU_INSN_WORDS];
        read_insn(m, base + pc * MXU_INSN_BYTES, insn);
        int err = mxu_decode_check(&m->cfg, insn, &tok);
        if (err) {
            m->err_code = (uint32_t)err;
            m->err_pc = (uint32_t)pc;
            return (int64_t)pc + 1;
        }
        unsigned op = (unsigned)mxu_insn_get(insn, MXU_F_OP_POS, MXU_F_OP_BITS);
        struct mxu_timing_insn *rec = trace_append(m);
        if (!rec)
            return mxu_fail(MXU_ERR_NOMEM, "model: out of memory for the instruction trace");
        struct mxu_token_use use = mxu_decode_tokens(insn);
        rec->op = (uint8_t)op;
        rec->pops = (uint8_t)use.pops;
        rec->pushes = (uint8_t)use.pushes;
        memcpy(rec->insn, insn, sizeof rec->insn);
        execute(m, op, insn, rec);
        m->stats.insns[op]++;
        if (op == MXU_OP_FINISH)
            return (int64_t)pc + 1;
    }
    m->err_code = MXU_DEVERR_NO_FINISH;
    m->err_pc = (uint32_t)count;
    return (int64_t)count;
}

/* Fill the counters that follow from the trace alone. */
static void count_trace(mxu_model *m, uint64_t n_fetch)
{
    uint32_t beat = m->cfg.dram_beat_bytes;
    uint64_t rd = n_fetch ? mxu_span_beats(m->cmd_base, n_fetch * MXU_INSN_BYTES, beat) * beat : 0, wr = 0;
    uint64_t vectors = 0;
    for (size_t i = 0; i < m->n_trace; i++) {
        const struct mxu_timing_insn *r = &m->trace[i];
        if (r->op == MXU_OP_LOAD)
            rd += r->a * beat;
        else if (r->op == MXU_OP_STORE)
            wr += r->a * beat;
        else if (r->op == MXU_OP_MATMUL)
            vectors += r->a * r->nk;
    }
    MXU_MODEL_COUNTER(m, DRAM_RD_BYTES) = rd;
    MXU_MODEL_COUNTER(m, DRAM_WR_BYTES) = wr;
    MXU_MODEL_COUNTER(m, ARRAY_VECTORS) = vectors;
    MXU_MODEL_COUNTER(m, INSNS) = m->n_trace;
    m->stats.macs = vectors * m->cfg.rows * m->cfg.cols;
}

/* The cycle estimate of the run just executed. Only a run that ended without a
 * device error goes through the cache: the estimate of a run is a function of
 * its inputs (timing_cache.c) either way, but keeping errors out keeps the
 * argument to the common case and makes an erroring run always replayed. */
static int time_run(mxu_model *m, const struct mxu_timing_params *p, size_t n_fetch,
                    struct mxu_timing_result *r)
{
    if (m->timing_cache_on && m->err_code == MXU_DEVERR_OK)
        return mxu_timing_run_cached(&m->timing_cache, p, m->trace, m->n_trace, n_fetch, r);
    m->timing_bypassed++;
    return mxu_timing_run(p, m->trace, m->n_trace, n_fetch, r);
}

static int start(mxu_model *m)
{
    memset(m->counters, 0, sizeof m->counters);
    memset(&m->stats, 0, sizeof m->stats);
    m->n_trace = 0;
    m->err_code = MXU_DEVERR_OK;
    m->err_pc = 0;
    m->status = MXU_STATUS_BUSY;

    int64_t n_fetch = run_program(m);
    int rc = MXU_OK;
    if (n_fetch < 0) {
        rc = (int)n_fetch;
        goto done;
    }
    count_trace(m, (uint64_t)n_fetch);
    if (m->timing_on) {
        struct mxu_timing_params p = {&m->cfg, m->latency, m->bw, m->cmd_base, m->cmd_count};
        struct mxu_timing_result r;
        rc = time_run(m, &p, (size_t)n_fetch, &r);
        if (rc)
            goto done;
        MXU_MODEL_COUNTER(m, CYCLES) = r.cycles;
        MXU_MODEL_COUNTER(m, LOAD_BUSY) = r.load_busy;
        MXU_MODEL_COUNTER(m, LOAD_WAIT) = r.load_wait;
        MXU_MODEL_COUNTER(m, COMPUTE_BUSY) = r.compute_busy;
        MXU_MODEL_COUNTER(m, COMPUTE_WAIT) = r.compute_wait;
        MXU_MODEL_COUNTER(m, STORE_BUSY) = r.store_busy;
        MXU_MODEL_COUNTER(m, STORE_WAIT) = r.store_wait;
        MXU_MODEL_COUNTER(m, WEIGHT_STALL) = r.weight_stall;
        MXU_MODEL_COUNTER(m, ACT_BUSY) = r.act_busy;
        memcpy(m->stats.cycles, r.op_cycles, sizeof r.op_cycles);
    }
done:
    m->status = MXU_STATUS_DONE | (m->err_code ? MXU_STATUS_ERROR : 0);
    return rc;
}

/* ---- CSRs ----------------------------------------------------------------- */

static int csr_counter(const mxu_model *m, uint32_t offset, uint32_t *value)
{
    if (offset < MXU_CNT_CYCLES || offset >= MXU_CNT_ACT_BUSY + 8)
        return 0;
    uint64_t v = m->counters[(offset - MXU_CNT_CYCLES) / 8];
    *value = (uint32_t)(offset % 8 ? v >> 32 : v);
    return 1;
}

int mxu_model_csr_read(mxu_model *m, uint32_t offset, uint32_t *value)
{
    const mxu_hw_config *c = &m->cfg;
    if (offset % 4)
        return mxu_fail(MXU_ERR_RANGE, "model: misaligned CSR offset 0x%x", offset);
    if (csr_counter(m, offset, value))
        return MXU_OK;
    switch (offset) {
    case MXU_CSR_ID: *value = MXU_ID_MAGIC; break;
    case MXU_CSR_VERSION: *value = MXU_ISA_VERSION_MAJOR << 16 | MXU_ISA_VERSION_MINOR; break;
    case MXU_CSR_ROWS: *value = c->rows; break;
    case MXU_CSR_COLS: *value = c->cols; break;
    case MXU_CSR_UB_LINES: *value = c->ub_lines; break;
    case MXU_CSR_UB_LINE_BYTES: *value = c->ub_line_bytes; break;
    case MXU_CSR_ACC_ROWS: *value = c->acc_rows; break;
    case MXU_CSR_WB_LINES: *value = c->wb_lines; break;
    case MXU_CSR_PARAM_LINES: *value = c->param_lines; break;
    case MXU_CSR_DRAM_BYTES: *value = c->dram_bytes; break;
    case MXU_CSR_DRAM_BEAT_BYTES: *value = c->dram_beat_bytes; break;
    case MXU_CSR_QUEUE_DEPTH: *value = c->queue_depth; break;
    case MXU_CSR_TOKEN_MAX: *value = c->token_max; break;
    case MXU_CSR_CMD_BASE: *value = m->cmd_base; break;
    case MXU_CSR_CMD_COUNT: *value = m->cmd_count; break;
    case MXU_CSR_CTRL: *value = 0; break;
    case MXU_CSR_STATUS: *value = m->status; break;
    case MXU_CSR_ERR_CODE: *value = m->err_code; break;
    case MXU_CSR_ERR_PC: *value = m->err_pc; break;
    default: return mxu_fail(MXU_ERR_RANGE, "model: no CSR at offset 0x%x", offset);
    }
    return MXU_OK;
}

int mxu_model_csr_write(mxu_model *m, uint32_t offset, uint32_t value)
{
    uint32_t dummy;
    switch (offset) {
    case MXU_CSR_CMD_BASE: m->cmd_base = value; return MXU_OK;
    case MXU_CSR_CMD_COUNT: m->cmd_count = value; return MXU_OK;
    case MXU_CSR_CTRL: return value & MXU_CTRL_START ? start(m) : MXU_OK;
    default: break;
    }
    int rc = mxu_model_csr_read(m, offset, &dummy);
    if (rc)
        return rc;
    return mxu_fail(MXU_ERR_INVAL, "model: CSR at offset 0x%x is read-only", offset);
}
