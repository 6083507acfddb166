/* Cycle estimate of the decoupled machine, run on the trace of a finished
 * functional run. It is kept apart from the functional code so it can be
 * calibrated against the RTL; every tunable constant is in the block below.
 *
 * The model, cycle by cycle (time jumps over stretches where nothing but timers
 * run):
 *
 * - DRAM port: one port shared by fetch, load and store. It grants at most one
 *   beat of DRAM_BEAT_BYTES per cycle, and on average `bw` bytes per cycle (a
 *   credit of bw bytes a cycle, capped at one beat). Requesters are served round
 *   robin. Read data arrives `latency` cycles after its beat was granted; a write
 *   is acknowledged `latency` cycles after its last beat.
 * - Fetch: reads the command stream beat by beat in order, at most FETCH_BUF_INSNS
 *   instructions ahead of the decoder. The decoder takes one instruction per
 *   cycle once its last beat arrived and dispatches it to its unit's queue
 *   (queue_depth entries); a full queue stalls it. FINISH, or the faulty
 *   instruction on an error, stops it.
 * - Tokens: an instruction leaves its queue and starts when every channel it pops
 *   holds a token (the cycles its unit waits for that are *_WAIT); it pushes
 *   when it completes.
 * - Load / store: one instruction at a time. Each line with data costs the DRAM
 *   beats its bytes span (an unaligned line costs an extra beat); the unit moves
 *   at most one line per cycle, padding lines included. A LOAD completes when its
 *   last read data has arrived and been written (LOAD_WRITE_CYCLES), a STORE when
 *   its last write is acknowledged.
 * - Compute, MATMUL: each weight tile (ROWS lines of WB) shifts into the PEs'
 *   second register in ROWS cycles; that can start WEIGHT_SWAP_DELAY cycle after
 *   the previous tile began streaming (so tiles of fewer than ROWS + 1 vectors
 *   stall: WEIGHT_STALL). A tile then streams one vector per cycle. The unit
 *   takes the next instruction once the last tile of this one began streaming,
 *   so consecutive MATMULs overlap their weight loads. Results have landed in
 *   the accumulators ROWS + COLS cycles (fill/drain) after the last vector.
 * - Compute, ACTIVATE: waits until every earlier MATMUL's results have landed,
 *   then reads one accumulator row per cycle (out_h * out_w * pool_k^2 reads:
 *   ACT_BUSY) and completes ACT_PIPE_CYCLES later. A following MATMUL may
 *   preload its weights meanwhile but streams only after those reads (it may
 *   overwrite the rows).
 * - CYCLES: from start to the cycle where fetch has stopped and every queue and
 *   unit has drained. *_BUSY: cycles a unit had an instruction in progress. */
#include <stdlib.h>
#include <string.h>

#include "mxu_decode.h"
#include "mxu_error.h"
#include "mxu_model_priv.h"

/* ---- the constants of the estimate ------------------------------------------ */
#define FETCH_BUF_INSNS 4    /* instructions the fetch unit may read ahead of decode */
#define LOAD_WRITE_CYCLES 1  /* from the last read data to its line written on chip */
#define WEIGHT_SWAP_DELAY 1  /* a tile's preload starts this long after the previous tile streams */
#define ACT_PIPE_CYCLES 4    /* activation pipeline: ACC read -> UB write */
#define COMPUTE_PENDING 64   /* compute instructions in flight (started, not completed) */
#define FETCH_RING 128       /* fetch beats in flight: > FETCH_BUF_INSNS * 32 / 4 + 2 */

enum { UNIT_LOAD, UNIT_COMPUTE, UNIT_STORE, N_UNITS };
enum { REQ_FETCH, REQ_LOAD, REQ_STORE, N_REQ };

struct queue {
    size_t *idx; /* ring of trace indices */
    uint32_t head, count;
};

struct dma_unit {
    int active;
    size_t rec;
    uint64_t start, beats_left, last_beat, line_end, done_at;
};

struct pending {
    uint64_t time;
    unsigned pushes;
};

struct sim {
    const struct mxu_timing_params *p;
    const struct mxu_timing_insn *trace;
    size_t n_records, n_fetch;
    uint32_t beat, depth, rows, cols;
    uint64_t t;

    uint32_t tokens[MXU_TOK_CHANNELS];
    struct queue q[N_UNITS];

    /* DRAM port */
    uint32_t credit;
    unsigned rr;

    /* fetch: beats are numbered from the one holding instruction 0 */
    uint64_t first_beat, beats_issued, beats_arrived;
    uint64_t ring[FETCH_RING];
    uint32_t ring_head, ring_count;
    size_t dec;    /* next instruction to decode */
    int fetch_done;

    struct dma_unit load, store;

    /* compute */
    uint64_t accept_at, stream_end, last_stream_start, preload_free, acc_done, act_read_end, busy_mark;
    int streamed; /* a tile has streamed since the start */
    struct pending pend[COMPUTE_PENDING];
    uint32_t pend_head, pend_count;

    struct mxu_timing_result *r;
};

static uint64_t max64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Index (from first_beat) of the beat holding instruction i's last byte. */
static uint64_t last_beat_of(const struct sim *s, size_t i)
{
    return ((uint64_t)s->p->cmd_base + (uint64_t)MXU_INSN_BYTES * i + MXU_INSN_BYTES - 1) / s->beat - s->first_beat;
}

static int unit_of(unsigned op)
{
    return op == MXU_OP_LOAD ? UNIT_LOAD : op == MXU_OP_STORE ? UNIT_STORE : UNIT_COMPUTE;
}

static int tokens_ready(const struct sim *s, unsigned pops)
{
    for (unsigned ch = 0; ch < MXU_TOK_CHANNELS; ch++)
        if ((pops >> ch & 1) && !s->tokens[ch])
            return 0;
    return 1;
}

static void take_tokens(struct sim *s, unsigned pops)
{
    for (unsigned ch = 0; ch < MXU_TOK_CHANNELS; ch++)
        if (pops >> ch & 1)
            s->tokens[ch]--;
}

static void give_tokens(struct sim *s, unsigned pushes)
{
    for (unsigned ch = 0; ch < MXU_TOK_CHANNELS; ch++)
        if (pushes >> ch & 1)
            s->tokens[ch]++;
}

static const struct mxu_timing_insn *queue_head(const struct sim *s, int u)
{
    return s->q[u].count ? &s->trace[s->q[u].idx[s->q[u].head]] : NULL;
}

static void queue_pop(struct sim *s, int u)
{
    s->q[u].head = (s->q[u].head + 1) % s->depth;
    s->q[u].count--;
}

/* ---- load and store units --------------------------------------------------- */

static void dma_finish_beats(struct sim *s, struct dma_unit *d, int is_load)
{
    uint64_t data_done = d->beats_left == 0 && s->trace[d->rec].a == 0
                             ? d->start
                             : d->last_beat + s->p->latency + (is_load ? LOAD_WRITE_CYCLES : 0);
    d->done_at = max64(max64(data_done, d->line_end), d->start + 1);
}

/* Completion, then start of the next instruction. Returns 1 on progress. */
static int dma_step(struct sim *s, struct dma_unit *d, int u, int *waiting)
{
    int progress = 0;
    *waiting = 0;
    if (d->active && d->beats_left == 0 && s->t >= d->done_at) {
        const struct mxu_timing_insn *rec = &s->trace[d->rec];
        give_tokens(s, rec->pushes);
        uint64_t busy = d->done_at - d->start;
        if (u == UNIT_LOAD)
            s->r->load_busy += busy;
        else
            s->r->store_busy += busy;
        s->r->op_cycles[rec->op] += busy;
        d->active = 0;
        progress = 1;
    }
    const struct mxu_timing_insn *head = queue_head(s, u);
    if (!d->active && head) {
        if (!tokens_ready(s, head->pops)) {
            *waiting = 1;
            return progress;
        }
        take_tokens(s, head->pops);
        d->active = 1;
        d->rec = s->q[u].idx[s->q[u].head];
        d->start = s->t;
        d->beats_left = head->a;
        d->line_end = s->t + head->b;
        if (!d->beats_left)
            dma_finish_beats(s, d, u == UNIT_LOAD);
        queue_pop(s, u);
        progress = 1;
    }
    return progress;
}

/* ---- compute unit ----------------------------------------------------------- */

static void compute_busy(struct sim *s, uint64_t from, uint64_t to, unsigned op)
{
    from = max64(from, s->busy_mark);
    if (to > from) {
        s->r->compute_busy += to - from;
        s->r->op_cycles[op] += to - from;
        s->busy_mark = to;
    }
}

/* Schedule a MATMUL started at t0; returns the time its results have landed. */
static uint64_t schedule_matmul(struct sim *s, const struct mxu_timing_insn *rec, uint64_t t0)
{
    for (uint32_t k = 0; k < rec->nk; k++) {
        uint64_t ready = max64(max64(t0, s->stream_end), s->act_read_end), start = ready;
        if (!rec->keep_weights) {
            uint64_t pl_start = max64(t0, s->preload_free);
            if (s->streamed)
                pl_start = max64(pl_start, s->last_stream_start + WEIGHT_SWAP_DELAY);
            uint64_t pl_end = pl_start + s->rows;
            s->preload_free = pl_end;
            if (pl_end > ready) {
                s->r->weight_stall += pl_end - ready;
                start = pl_end;
            }
        }
        s->last_stream_start = start;
        s->stream_end = start + rec->a;
        s->streamed = 1;
    }
    compute_busy(s, t0, s->stream_end, MXU_OP_MATMUL);
    s->accept_at = max64(s->last_stream_start, t0 + 1);
    s->acc_done = max64(s->acc_done, s->stream_end + s->rows + s->cols);
    return s->acc_done;
}

static uint64_t schedule_activate(struct sim *s, const struct mxu_timing_insn *rec, uint64_t t0)
{
    uint64_t start = max64(max64(t0, s->acc_done), s->act_read_end);
    s->act_read_end = start + rec->a;
    s->r->act_busy += rec->a;
    compute_busy(s, t0, s->act_read_end, MXU_OP_ACTIVATE);
    s->accept_at = t0 + 1; /* the next MATMUL may preload its weights meanwhile */
    return s->act_read_end + ACT_PIPE_CYCLES;
}

static int compute_step(struct sim *s, int *waiting)
{
    int progress = 0;
    *waiting = 0;
    while (s->pend_count && s->pend[s->pend_head].time <= s->t) {
        give_tokens(s, s->pend[s->pend_head].pushes);
        s->pend_head = (s->pend_head + 1) % COMPUTE_PENDING;
        s->pend_count--;
        progress = 1;
    }
    const struct mxu_timing_insn *head = queue_head(s, UNIT_COMPUTE);
    if (!head || s->t < s->accept_at || s->pend_count == COMPUTE_PENDING)
        return progress;
    if (!tokens_ready(s, head->pops)) {
        *waiting = 1;
        return progress;
    }
    take_tokens(s, head->pops);
    uint64_t done = head->op == MXU_OP_MATMUL ? schedule_matmul(s, head, s->t) : schedule_activate(s, head, s->t);
    /* completions stay in order, so the pending ring is sorted by time */
    if (s->pend_count)
        done = max64(done, s->pend[(s->pend_head + s->pend_count - 1) % COMPUTE_PENDING].time);
    s->pend[(s->pend_head + s->pend_count) % COMPUTE_PENDING] = (struct pending){done, head->pushes};
    s->pend_count++;
    queue_pop(s, UNIT_COMPUTE);
    return 1;
}

/* ---- fetch, decode and the DRAM port ------------------------------------------ */

static int fetch_wants_beat(const struct sim *s)
{
    if (s->fetch_done || s->dec >= s->n_fetch || s->ring_count == FETCH_RING)
        return 0;
    size_t ahead = s->dec + FETCH_BUF_INSNS < s->n_fetch ? s->dec + FETCH_BUF_INSNS : s->n_fetch;
    return s->beats_issued <= last_beat_of(s, ahead - 1);
}

static int dma_wants_beat(const struct dma_unit *d)
{
    return d->active && d->beats_left > 0;
}

static int port_step(struct sim *s, int *requests)
{
    int want[N_REQ] = {fetch_wants_beat(s), dma_wants_beat(&s->load), dma_wants_beat(&s->store)};
    *requests = want[0] | want[1] | want[2];
    s->credit = s->credit + s->p->bw > s->beat ? s->beat : s->credit + s->p->bw;
    if (!*requests || s->credit < s->beat)
        return 0;
    for (unsigned i = 0; i < N_REQ; i++) {
        unsigned who = (s->rr + i) % N_REQ;
        if (!want[who])
            continue;
        s->rr = (who + 1) % N_REQ;
        s->credit -= s->beat;
        if (who == REQ_FETCH) {
            s->ring[(s->ring_head + s->ring_count) % FETCH_RING] = s->t + s->p->latency;
            s->ring_count++;
            s->beats_issued++;
        } else {
            struct dma_unit *d = who == REQ_LOAD ? &s->load : &s->store;
            d->beats_left--;
            d->last_beat = s->t;
            if (!d->beats_left)
                dma_finish_beats(s, d, who == REQ_LOAD);
        }
        return 1;
    }
    return 0;
}

static int fetch_step(struct sim *s)
{
    int progress = 0;
    while (s->ring_count && s->ring[s->ring_head] <= s->t) {
        s->ring_head = (s->ring_head + 1) % FETCH_RING;
        s->ring_count--;
        s->beats_arrived++;
        progress = 1;
    }
    if (s->fetch_done)
        return progress;
    if (s->dec == s->n_records) {
        /* the decoder stops here; on an error it still reads the faulty instruction */
        if (s->n_fetch == s->n_records || s->beats_arrived > last_beat_of(s, s->n_fetch - 1)) {
            s->fetch_done = 1;
            progress = 1;
        }
        return progress;
    }
    if (s->beats_arrived <= last_beat_of(s, s->dec))
        return progress;
    const struct mxu_timing_insn *rec = &s->trace[s->dec];
    if (rec->op == MXU_OP_FINISH) {
        s->dec++;
        s->fetch_done = 1;
        return 1;
    }
    struct queue *q = &s->q[unit_of(rec->op)];
    if (q->count == s->depth)
        return progress;
    q->idx[(q->head + q->count) % s->depth] = s->dec++;
    q->count++;
    return 1;
}

/* ---- the loop ------------------------------------------------------------------ */

static int drained(const struct sim *s)
{
    return s->fetch_done && !s->q[0].count && !s->q[1].count && !s->q[2].count && !s->load.active &&
           !s->store.active && !s->pend_count && s->t >= s->accept_at;
}

/* Earliest timer after t, or UINT64_MAX. */
static uint64_t next_event(const struct sim *s)
{
    uint64_t n = UINT64_MAX;
#define CONSIDER(x) do { uint64_t v_ = (x); if (v_ > s->t && v_ < n) n = v_; } while (0)
    if (s->ring_count)
        CONSIDER(s->ring[s->ring_head]);
    if (s->load.active)
        CONSIDER(s->load.done_at);
    if (s->store.active)
        CONSIDER(s->store.done_at);
    if (s->pend_count)
        CONSIDER(s->pend[s->pend_head].time);
    CONSIDER(s->accept_at);
#undef CONSIDER
    return n;
}

static void simulate(struct sim *s)
{
    for (;;) {
        int wl, wc, ws, requests;
        int progress = fetch_step(s);
        progress |= compute_step(s, &wc);
        progress |= dma_step(s, &s->load, UNIT_LOAD, &wl);
        progress |= dma_step(s, &s->store, UNIT_STORE, &ws);
        progress |= port_step(s, &requests);
        s->r->load_wait += (uint64_t)wl;
        s->r->compute_wait += (uint64_t)wc;
        s->r->store_wait += (uint64_t)ws;
        if (drained(s))
            break;
        if (progress || requests) {
            s->t++;
            continue;
        }
        uint64_t next = next_event(s);
        if (next == UINT64_MAX)
            break; /* cannot happen for a checked program; never spin */
        uint64_t skipped = next - s->t - 1;
        s->r->load_wait += skipped * (uint64_t)wl;
        s->r->compute_wait += skipped * (uint64_t)wc;
        s->r->store_wait += skipped * (uint64_t)ws;
        s->credit = s->beat; /* an idle port refills its credit */
        s->t = next;
    }
    s->r->cycles = s->t;
}

int mxu_timing_run(const struct mxu_timing_params *p, const struct mxu_timing_insn *trace, size_t n_records,
                   size_t n_fetch, struct mxu_timing_result *out)
{
    memset(out, 0, sizeof *out);
    if (n_fetch == 0)
        return MXU_OK; /* CMD_RANGE: nothing fetched */
    struct sim s;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.trace = trace;
    s.n_records = n_records;
    s.n_fetch = n_fetch;
    s.beat = p->cfg->dram_beat_bytes;
    s.depth = p->cfg->queue_depth;
    s.rows = p->cfg->rows;
    s.cols = p->cfg->cols;
    s.first_beat = p->cmd_base / s.beat;
    s.credit = s.beat;
    s.r = out;
    int rc = MXU_OK;
    for (int u = 0; u < N_UNITS; u++) {
        s.q[u].idx = calloc(s.depth, sizeof *s.q[u].idx);
        if (!s.q[u].idx)
            rc = mxu_fail(MXU_ERR_NOMEM, "model: out of memory for the timing queues");
    }
    if (!rc)
        simulate(&s);
    for (int u = 0; u < N_UNITS; u++)
        free(s.q[u].idx);
    return rc;
}
