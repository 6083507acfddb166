/* Cycle estimate of the decoupled machine, run on the trace of a finished
 * functional run. It replays the instruction trace through a cycle-by-cycle
 * model of the RTL's control: the same queues, FIFOs, credits and handshakes
 * as rtl/mxu_*.v, without any data. Every structural size or latency it uses is
 * in the table below, with the RTL behaviour it stands for; there are no fitted
 * factors. Each cycle first evaluates every unit's decisions from the state at
 * the start of the cycle (as the RTL's combinational logic does from its
 * registers), then applies all updates (the clock edge).
 *
 * - DRAM port (sim/verilator/dram_model.c, rtl/mxu_arb.v): a credit of `bw`
 *   bytes per cycle, capped at one beat; the port accepts a beat when the credit
 *   holds a whole one. Fetch, load and store requests share it round robin
 *   (after the last one granted). A read accepted in cycle c is answered in
 *   cycle c + latency; a write is done when accepted.
 * - Fetch (mxu_fetch.v) keeps up to FETCH_BUF_INSNS instructions requested or
 *   buffered; the decoder (mxu_ctrl.v) takes one assembled instruction per cycle
 *   into its unit's queue (QUEUE_DEPTH), stops at FINISH or an error, and the
 *   run ends when fetch (its in-flight beats included) and every unit drained.
 * - Load (mxu_dma_load.v): walks the padded pattern, one beat request or one
 *   padding line per cycle, bounded by LOAD_BUF_BEATS read credits and
 *   LOAD_DESC_DEPTH lines in flight; lines are assembled in order one beat per
 *   cycle and written the cycle after. Consecutive LOADs stream.
 * - Store (mxu_dma_store.v): one UB line read per cycle into a STORE_FIFO_LINES
 *   FIFO, each line emitted as the beats it spans.
 * - Compute (mxu_compute.v, mxu_array.v, mxu_act.v): the front pops tokens and
 *   moves the queue head into a 2-entry execution FIFO (and a MATMUL's weight
 *   job into a 2-entry job FIFO); the weight loader shifts a tile in ROWS cycles
 *   once the previous tile has been swapped in (at the earliest in the cycle its
 *   first vector issues, so tiles of ROWS vectors stream back to back); the
 *   executor streams one vector per cycle, the first of each tile waiting for
 *   its weights (WEIGHT_STALL);
 *   ACTIVATE goes to the background engine, which waits until the vectors issued
 *   before it have landed and then reads one accumulator row per cycle; a MATMUL
 *   waits for a running ACTIVATE only when their ACC or UB ranges overlap.
 *   Pushes stay in program order (a MATMUL finishing under an ACTIVATE that was
 *   running when it was picked defers its pushes to that ACTIVATE's end).
 *
 * Cycle 1 is the first cycle after CTRL.start; CYCLES counts through the cycle
 * in which the device is seen drained, like the RTL's counter. The other
 * counters use the RTL's definitions of busy and wait. */
#include <stdlib.h>
#include <string.h>

#include "mxu_decode.h"
#include "mxu_error.h"
#include "mxu_model_priv.h"

/* ---- the RTL's structural constants (rtl/mxu_top.v and the unit files) ------------ */
#define FETCH_BUF_INSNS 4  /* mxu_top FETCH_BUF: instructions requested or buffered ahead */
#define LOAD_BUF_BEATS 32  /* mxu_top LOAD_BUF: load read credits (beats requested, not yet assembled) */
#define LOAD_DESC_DEPTH 16 /* mxu_dma_load DESC_DEPTH: lines issued, not yet assembled */
#define STORE_FIFO_LINES 4 /* mxu_dma_store FIFO_LINES: UB lines read, not yet emitted */
#define EXEC_FIFO_DEPTH 2  /* mxu_compute u_exec_fifo: past the token check, not yet picked */
#define JOB_FIFO_DEPTH 2   /* mxu_compute u_job_fifo: MATMULs whose tiles are not all loaded */
#define ACT_PIPE_CYCLES 5  /* mxu_act: last ACC read -> ACC data -> 4 lane stages -> UB write */
/* A vector issued (UB read) in cycle t enters the array at t + 1, leaves it
 * ROWS + COLS - 1 cycles later (mxu_array LAT), is written to the ACC at
 * t + ROWS + COLS + 1 (the MATMUL's completion when it is the last one) and
 * counts as landed for ACTIVATE from the cycle after. */
#define VEC_WRITE_DELAY(s) ((uint64_t)(s)->rows + (s)->cols + 1)

#define READS_MAX 256 /* DRAM reads in flight: LOAD_BUF_BEATS + fetch's (<= 4 * 32 / 4) */

enum { Q_LOAD, Q_COMPUTE, Q_STORE, N_QUEUES };
enum { REQ_FETCH, REQ_LOAD, REQ_STORE, N_REQ };
enum { ACT_IDLE, ACT_PARAM, ACT_WAIT, ACT_RUN, ACT_DRAIN };

struct ring {
    size_t *idx; /* trace indices, mask + 1 (a power of two) slots */
    uint32_t head, count, depth, mask;
};

struct dram {
    uint32_t credit;
    int ready;
    uint64_t due[READS_MAX];
    uint8_t to_load[READS_MAX];
    uint32_t head, count;
};

struct fetch {
    int active, flush;
    uint64_t left;   /* beats still to request */
    uint32_t credit; /* beats requested or buffered, counted down from the capacity */
    uint32_t nbeats; /* beats of the instruction being assembled */
    uint32_t buffered;
};

struct load_desc {
    uint8_t pad, last, push;
    uint32_t nb;
};

struct load {
    int run;
    uint32_t elem, n0, n1, n2, pl, pt, ecnt, rcnt, e, r, p, s0, s1, s2, base;
    int push;
    uint32_t beat; /* next beat of the current line */
    uint32_t credit;
    struct load_desc desc[LOAD_DESC_DEPTH];
    uint32_t d_head, d_count;
    uint32_t buffered, slot; /* beats received, not assembled; beats of the head line taken */
    int we, push_out;
};

struct store_line {
    uint32_t nb;
    uint8_t last, push;
};

struct store {
    int run;
    uint32_t elem, n0, n1, n2, e, r, p, s0, s1, s2, base;
    int push;
    int rd;
    struct store_line meta, fifo[STORE_FIFO_LINES];
    uint32_t f_head, f_count;
    int ev, elast, epush;
    uint32_t enb, ej;
};

struct vec {
    uint64_t write_at;
    uint8_t last, pushes, defer, epoch;
};

struct compute {
    size_t x[EXEC_FIFO_DEPTH], job[JOB_FIFO_DEPTH];
    uint32_t x_head, x_count, j_head, j_count;
    /* weight loader */
    uint32_t started, tiles_done, swapped, ld_tile, ld_i;
    int loading, wv, wlast;
    /* executor */
    int run, keep, defer;
    uint8_t pushes, defer_epoch;
    uint32_t n0, n1, nk, i0, i1, k;
    uint64_t vec_issued, vec_landed;
    struct vec *pipe; /* vectors in the array and write-back, p_mask + 1 slots */
    uint32_t p_head, p_count, p_mask;
    /* activation engine */
    int act_state;
    uint8_t act_epoch, act_pushes;
    uint64_t act_wait, act_reads, act_done_at;
    uint64_t a_acc_lo, a_acc_hi, a_ub_lo, a_ub_hi;
    uint32_t def_prev, def_next;
};

struct sim {
    const struct mxu_timing_params *p;
    const struct mxu_timing_insn *trace;
    size_t n_records, n_fetch;
    uint32_t beat, rows, cols, ib, fetch_cap;
    uint64_t t;

    int draining; /* mxu_ctrl S_DRAIN */
    size_t pc;
    uint32_t tokens[MXU_TOK_CHANNELS];
    struct ring q[N_QUEUES];
    unsigned last_grant;

    struct dram dram;
    struct fetch f;
    struct load ld;
    struct store st;
    struct compute cp;

    struct mxu_timing_result *r;
};

/* ---- small helpers ------------------------------------------------------------------ */

#define GET(rec, OP, F) ((uint32_t)MXU_GET((rec)->insn, OP, F))

static size_t ring_head(const struct ring *q)
{
    return q->idx[q->head];
}

static void ring_push(struct ring *q, size_t v)
{
    q->idx[(q->head + q->count) & q->mask] = v;
    q->count++;
}

static void ring_pop(struct ring *q)
{
    q->head = (q->head + 1) & q->mask;
    q->count--;
}

static int tokens_ok(const struct sim *s, unsigned pops)
{
    for (unsigned ch = 0; ch < MXU_TOK_CHANNELS; ch++)
        if ((pops >> ch & 1) && !s->tokens[ch])
            return 0;
    return 1;
}

static int queue_of(unsigned op)
{
    return op == MXU_OP_LOAD ? Q_LOAD : op == MXU_OP_STORE ? Q_STORE : Q_COMPUTE;
}

/* DRAM beats an element of `elem` bytes at address `addr` spans. */
static uint32_t beats_of(const struct sim *s, uint64_t addr, uint32_t elem)
{
    return (uint32_t)mxu_span_beats(addr, elem, s->beat);
}

/* The decisions of one cycle (the RTL's combinational signals), then applied. */
struct wires {
    int rsp, rsp_load;             /* a read response this cycle, routed to load */
    int f_req, l_req, s_req;       /* port requests */
    int grant;                     /* who the port accepted, or -1 */
    int take, stop, dispatch;      /* decoder */
    int f_pop;                     /* fetch beat FIFO -> instruction register */
    int l_wait, s_wait, c_wait;    /* a queue head waits for a token */
    int l_start, l_pad, l_line_done, l_desc_push, l_pad_fire, l_beat_pop, l_line_out;
    int s_start, s_issue, s_fire, s_done, s_fpop;
    int c_front, c_ld_start, c_ld_read, c_last_line, c_job_pop, c_issue, c_stall, c_pick_mm, c_pick_act;
    int c_write, c_mm_done, c_mm_defer, c_act_done;
    uint32_t push[MXU_TOK_CHANNELS], pop[MXU_TOK_CHANNELS];
};

/* ---- fetch and decode ------------------------------------------------------------------ */

static void decode_wires(struct sim *s, struct wires *w)
{
    struct fetch *f = &s->f;
    w->f_req = f->active && !f->flush && f->left > 0 && f->credit > 0;
    int full = f->nbeats == s->ib;
    int insn_valid = full && !f->flush;
    if (!s->draining) {
        int out_of_insns = s->pc == s->p->cmd_count;
        int have = !out_of_insns && insn_valid;
        int bad = have && s->pc >= s->n_records;
        int fin = have && !bad && s->trace[s->pc].op == MXU_OP_FINISH;
        if (have && !bad && !fin) {
            const struct ring *q = &s->q[queue_of(s->trace[s->pc].op)];
            w->dispatch = q->count < q->depth;
        }
        w->take = bad || fin || w->dispatch;
        w->stop = bad || fin || out_of_insns;
    }
    w->f_pop = f->buffered > 0 && (f->flush || !full || w->take);
}

static void fetch_update(struct sim *s, const struct wires *w)
{
    struct fetch *f = &s->f;
    int f_fire = w->grant == REQ_FETCH;
    int idle_now = f->flush && f->credit == s->fetch_cap;
    int full = f->nbeats == s->ib;
    f->credit = f->credit - (uint32_t)f_fire + (uint32_t)w->f_pop;
    if (f_fire)
        f->left--;
    if (f->flush || w->stop)
        f->nbeats = 0;
    else if (w->f_pop)
        f->nbeats = (full ? 0 : f->nbeats) + 1;
    else if (w->take)
        f->nbeats = 0;
    if (w->stop)
        f->flush = 1;
    if (idle_now)
        f->active = 0;
    f->buffered = f->buffered + (uint32_t)(w->rsp && !w->rsp_load) - (uint32_t)w->f_pop;
    if (w->dispatch) {
        ring_push(&s->q[queue_of(s->trace[s->pc].op)], s->pc);
        s->pc++;
    }
    if (w->stop)
        s->draining = 1;
}

static int fetch_idle(const struct sim *s)
{
    return !s->f.active || (s->f.flush && s->f.credit == s->fetch_cap);
}

/* ---- load unit --------------------------------------------------------------------------- */

static void load_begin(struct sim *s, const struct mxu_timing_insn *rec)
{
    struct load *l = &s->ld;
    l->run = 1;
    l->elem = GET(rec, LOAD, ELEM_BYTES);
    l->push = (int)GET(rec, LOAD, PUSH_NEXT);
    l->n0 = GET(rec, LOAD, N0);
    l->n1 = GET(rec, LOAD, N1);
    l->n2 = GET(rec, LOAD, N2);
    l->pl = GET(rec, LOAD, PAD_LEFT);
    l->pt = GET(rec, LOAD, PAD_TOP);
    l->ecnt = l->pl + l->n0 + GET(rec, LOAD, PAD_RIGHT);
    l->rcnt = l->pt + l->n1 + GET(rec, LOAD, PAD_BOTTOM);
    l->s0 = GET(rec, LOAD, S0);
    l->s1 = GET(rec, LOAD, S1);
    l->s2 = GET(rec, LOAD, S2);
    l->base = GET(rec, LOAD, DRAM_ADDR);
    l->e = l->r = l->p = 0;
    l->beat = 0;
}

static int load_is_pad(const struct load *l)
{
    return l->e < l->pl || l->e >= l->pl + l->n0 || l->r < l->pt || l->r >= l->pt + l->n1;
}

static uint32_t load_line_beats(const struct sim *s)
{
    const struct load *l = &s->ld;
    uint64_t addr = (uint64_t)l->base + (uint64_t)l->p * l->s2 + (uint64_t)(l->r - l->pt) * l->s1 +
                    (uint64_t)(l->e - l->pl) * l->s0;
    return beats_of(s, addr, l->elem);
}

static int load_last_line(const struct load *l)
{
    return l->e == l->ecnt - 1 && l->r == l->rcnt - 1 && l->p == l->n2 - 1;
}

/* Requests: start, the next beat or padding line. */
static void load_wires(struct sim *s, struct wires *w)
{
    struct load *l = &s->ld;
    w->push[MXU_TOK_LOAD_TO_COMPUTE] += (uint32_t)l->push_out; /* registered after the last line */
    if (!l->run) {
        if (s->q[Q_LOAD].count) {
            const struct mxu_timing_insn *rec = &s->trace[ring_head(&s->q[Q_LOAD])];
            w->l_start = tokens_ok(s, rec->pops);
            w->l_wait = !w->l_start;
        }
        return;
    }
    int desc_ready = l->d_count < LOAD_DESC_DEPTH;
    w->l_pad = load_is_pad(l);
    if (w->l_pad)
        w->l_pad_fire = desc_ready;
    else
        w->l_req = l->credit > 0 && (l->beat > 0 || desc_ready);
}

/* Issue side after the port's grant; assembly of the head line. */
static void load_wires_after_grant(struct sim *s, struct wires *w)
{
    struct load *l = &s->ld;
    int req_fire = w->grant == REQ_LOAD;
    if (l->run) {
        uint32_t nb = req_fire ? load_line_beats(s) : 0;
        w->l_line_done = w->l_pad_fire || (req_fire && l->beat == nb - 1);
        w->l_desc_push = w->l_pad_fire || (req_fire && l->beat == 0);
        if (w->l_desc_push) {
            struct load_desc *d = &l->desc[(l->d_head + l->d_count) % LOAD_DESC_DEPTH];
            *d = (struct load_desc){(uint8_t)w->l_pad_fire, (uint8_t)load_last_line(l), (uint8_t)l->push, nb};
        }
    }
    if (l->d_count) {
        const struct load_desc *d = &l->desc[l->d_head];
        int beat_valid = l->buffered > 0;
        w->l_beat_pop = !d->pad && beat_valid;
        w->l_line_out = d->pad || (beat_valid && l->slot == d->nb - 1);
    }
}

static void load_update(struct sim *s, const struct wires *w)
{
    struct load *l = &s->ld;
    int req_fire = w->grant == REQ_LOAD;
    int push_out = 0;
    if (w->l_line_out) {
        const struct load_desc *d = &l->desc[l->d_head];
        push_out = d->last && d->push;
        l->d_head = (l->d_head + 1) % LOAD_DESC_DEPTH;
        l->d_count--;
        l->slot = 0;
    } else if (w->l_beat_pop) {
        l->slot++;
    }
    l->we = w->l_line_out;
    l->push_out = push_out;
    if (w->l_desc_push)
        l->d_count++;
    l->credit = l->credit - (uint32_t)req_fire + (uint32_t)w->l_beat_pop;
    l->buffered = l->buffered + (uint32_t)(w->rsp && w->rsp_load) - (uint32_t)w->l_beat_pop;
    if (w->l_start) {
        const struct mxu_timing_insn *rec = &s->trace[ring_head(&s->q[Q_LOAD])];
        ring_pop(&s->q[Q_LOAD]);
        load_begin(s, rec);
    } else if (l->run) {
        if (req_fire && !w->l_line_done)
            l->beat++;
        if (w->l_line_done) {
            l->beat = 0;
            if (l->e != l->ecnt - 1) {
                l->e++;
            } else if (l->r != l->rcnt - 1) {
                l->e = 0;
                l->r++;
            } else {
                l->e = l->r = 0;
                if (l->p++ == l->n2 - 1)
                    l->run = 0;
            }
        }
    }
}

static int load_idle(const struct sim *s)
{
    const struct load *l = &s->ld;
    return !l->run && !l->d_count && !l->we && l->credit == LOAD_BUF_BEATS;
}

/* ---- store unit -------------------------------------------------------------------------- */

static void store_begin(struct sim *s, const struct mxu_timing_insn *rec)
{
    struct store *st = &s->st;
    st->run = 1;
    st->elem = GET(rec, STORE, ELEM_BYTES);
    st->push = (int)GET(rec, STORE, PUSH_PREV);
    st->n0 = GET(rec, STORE, N0);
    st->n1 = GET(rec, STORE, N1);
    st->n2 = GET(rec, STORE, N2);
    st->s0 = GET(rec, STORE, S0);
    st->s1 = GET(rec, STORE, S1);
    st->s2 = GET(rec, STORE, S2);
    st->base = GET(rec, STORE, DRAM_ADDR);
    st->e = st->r = st->p = 0;
}

static void store_wires(struct sim *s, struct wires *w)
{
    struct store *st = &s->st;
    if (!st->run && s->q[Q_STORE].count) {
        const struct mxu_timing_insn *rec = &s->trace[ring_head(&s->q[Q_STORE])];
        w->s_start = tokens_ok(s, rec->pops);
        w->s_wait = !w->s_start;
    }
    w->s_issue = st->run && st->f_count + (uint32_t)st->rd < STORE_FIFO_LINES;
    w->s_req = st->ev;
}

static void store_wires_after_grant(struct sim *s, struct wires *w)
{
    struct store *st = &s->st;
    w->s_fire = w->grant == REQ_STORE;
    w->s_done = w->s_fire && st->ej == st->enb - 1;
    w->s_fpop = st->f_count > 0 && (!st->ev || w->s_done);
    if (w->s_done && st->elast && st->epush)
        w->push[MXU_TOK_STORE_TO_COMPUTE]++;
}

static void store_update(struct sim *s, const struct wires *w)
{
    struct store *st = &s->st;
    if (w->s_fpop) {
        const struct store_line *ln = &st->fifo[st->f_head];
        st->ev = 1;
        st->elast = ln->last;
        st->epush = ln->push;
        st->enb = ln->nb;
        st->ej = 0;
        st->f_head = (st->f_head + 1) % STORE_FIFO_LINES;
        st->f_count--;
    } else if (w->s_fire) {
        if (w->s_done)
            st->ev = 0;
        st->ej++;
    }
    if (st->rd) {
        st->fifo[(st->f_head + st->f_count) % STORE_FIFO_LINES] = st->meta;
        st->f_count++;
    }
    st->rd = w->s_issue;
    if (w->s_issue) {
        uint64_t addr = (uint64_t)st->base + (uint64_t)st->p * st->s2 + (uint64_t)st->r * st->s1 +
                        (uint64_t)st->e * st->s0;
        int last = st->e == st->n0 - 1 && st->r == st->n1 - 1 && st->p == st->n2 - 1;
        st->meta = (struct store_line){beats_of(s, addr, st->elem), (uint8_t)last, (uint8_t)st->push};
        if (st->e != st->n0 - 1) {
            st->e++;
        } else if (st->r != st->n1 - 1) {
            st->e = 0;
            st->r++;
        } else {
            st->e = st->r = 0;
            if (st->p++ == st->n2 - 1)
                st->run = 0;
        }
    }
    if (w->s_start) {
        const struct mxu_timing_insn *rec = &s->trace[ring_head(&s->q[Q_STORE])];
        ring_pop(&s->q[Q_STORE]);
        store_begin(s, rec);
    }
}

static int store_idle(const struct sim *s)
{
    const struct store *st = &s->st;
    return !st->run && !st->rd && !st->f_count && !st->ev;
}

/* ---- compute unit ---------------------------------------------------------------------------- */

/* ACC rows and UB lines an instruction touches, as mxu_decode.v reports them. */
static void matmul_ranges(const struct mxu_timing_insn *rec, uint64_t *acc_lo, uint64_t *acc_hi, uint64_t *ub_lo,
                          uint64_t *ub_hi)
{
    uint64_t n0 = GET(rec, MATMUL, N0), n1 = GET(rec, MATMUL, N1), nk = GET(rec, MATMUL, NK);
    *acc_lo = GET(rec, MATMUL, ACC_ADDR);
    *acc_hi = *acc_lo + n0 * n1 - 1;
    *ub_lo = GET(rec, MATMUL, UB_ADDR);
    *ub_hi = *ub_lo + (nk - 1) * GET(rec, MATMUL, K_STRIDE) + (n1 - 1) * GET(rec, MATMUL, S1) +
             (n0 - 1) * GET(rec, MATMUL, S0);
}

static void activate_ranges(const struct mxu_timing_insn *rec, struct compute *c)
{
    uint64_t in_w = GET(rec, ACTIVATE, IN_W), oh = GET(rec, ACTIVATE, OUT_H), ow = GET(rec, ACTIVATE, OUT_W);
    uint64_t pk = GET(rec, ACTIVATE, POOL_K), ps = GET(rec, ACTIVATE, POOL_S);
    c->a_acc_lo = GET(rec, ACTIVATE, ACC_ADDR);
    c->a_acc_hi = c->a_acc_lo + ((oh - 1) * ps + pk - 1) * in_w + (ow - 1) * ps + pk - 1;
    c->a_ub_lo = GET(rec, ACTIVATE, UB_ADDR);
    c->a_ub_hi = c->a_ub_lo + oh * ow - 1;
}

static int hazard(const struct compute *c, const struct mxu_timing_insn *rec)
{
    if (c->act_state == ACT_IDLE)
        return 0;
    uint64_t acc_lo, acc_hi, ub_lo, ub_hi;
    matmul_ranges(rec, &acc_lo, &acc_hi, &ub_lo, &ub_hi);
    return (acc_lo <= c->a_acc_hi && c->a_acc_lo <= acc_hi) || (ub_lo <= c->a_ub_hi && c->a_ub_lo <= ub_hi);
}

static int needs_weights(const struct mxu_timing_insn *rec)
{
    return rec->op == MXU_OP_MATMUL && !rec->keep_weights;
}

static void compute_wires(struct sim *s, struct wires *w)
{
    struct compute *c = &s->cp;
    /* front */
    const struct mxu_timing_insn *head = s->q[Q_COMPUTE].count ? &s->trace[ring_head(&s->q[Q_COMPUTE])] : NULL;
    int tok = head && tokens_ok(s, head->pops);
    w->c_wait = head && !tok;
    w->c_front = tok && c->x_count < EXEC_FIFO_DEPTH && (!needs_weights(head) || c->j_count < JOB_FIFO_DEPTH);
    /* executor */
    int tile_first = c->i0 == 0 && c->i1 == 0 && !c->keep;
    int tile_ready = c->tiles_done != c->swapped || (c->wv && c->wlast);
    w->c_stall = c->run && tile_first && !tile_ready;
    w->c_issue = c->run && !w->c_stall;
    /* weight loader: reads a line in the cycle it starts; may start in the cycle the
     * held tile's first vector issues */
    const struct mxu_timing_insn *job = c->j_count ? &s->trace[c->job[c->j_head]] : NULL;
    uint32_t swap_now = w->c_issue && tile_first;
    w->c_ld_start = !c->loading && job && c->started == c->swapped + swap_now;
    w->c_ld_read = w->c_ld_start || c->loading;
    w->c_last_line = w->c_ld_read && (w->c_ld_start ? 0 : c->ld_i) == s->rows - 1;
    w->c_job_pop = w->c_last_line && job && c->ld_tile == job->nk - 1;
    int last_vec = c->i0 == c->n0 - 1 && c->i1 == c->n1 - 1 && c->k == c->nk - 1;
    int pick = !c->run || (w->c_issue && last_vec);
    const struct mxu_timing_insn *x = c->x_count ? &s->trace[c->x[c->x_head]] : NULL;
    if (pick && x) {
        if (x->op == MXU_OP_MATMUL)
            w->c_pick_mm = !hazard(c, x);
        else
            w->c_pick_act = c->act_state == ACT_IDLE && !c->run;
    }
    /* write-back and completion */
    w->c_act_done = c->act_state == ACT_DRAIN && s->t == c->act_done_at;
    uint8_t mm_pushes = 0;
    if (c->p_count && c->pipe[c->p_head].write_at == s->t) {
        const struct vec *v = &c->pipe[c->p_head];
        w->c_write = 1;
        w->c_mm_done = v->last;
        w->c_mm_defer = v->last && v->defer && c->act_state != ACT_IDLE && !w->c_act_done &&
                        v->epoch == c->act_epoch;
        mm_pushes = v->last && !w->c_mm_defer ? v->pushes : 0;
    }
    w->push[MXU_TOK_COMPUTE_TO_LOAD] += (mm_pushes & 1) + (w->c_act_done ? c->def_prev + (c->act_pushes & 1) : 0);
    w->push[MXU_TOK_COMPUTE_TO_STORE] +=
        (mm_pushes >> 1 & 1) + (w->c_act_done ? c->def_next + (c->act_pushes >> 1 & 1) : 0);
}

static void executor_advance(struct sim *s, const struct wires *w)
{
    struct compute *c = &s->cp;
    if (w->c_issue) {
        int tile_first = c->i0 == 0 && c->i1 == 0 && !c->keep;
        int last_vec = c->i0 == c->n0 - 1 && c->i1 == c->n1 - 1 && c->k == c->nk - 1;
        c->pipe[(c->p_head + c->p_count) & c->p_mask] =
            (struct vec){s->t + VEC_WRITE_DELAY(s), (uint8_t)last_vec, c->pushes, (uint8_t)c->defer, c->defer_epoch};
        c->p_count++;
        c->vec_issued++;
        if (tile_first)
            c->swapped++;
        if (c->i0 != c->n0 - 1) {
            c->i0++;
        } else if (c->i1 != c->n1 - 1) {
            c->i0 = 0;
            c->i1++;
        } else if (c->k != c->nk - 1) {
            c->i0 = c->i1 = 0;
            c->k++;
        } else {
            c->run = 0;
        }
    }
    if (w->c_pick_mm) {
        const struct mxu_timing_insn *x = &s->trace[c->x[c->x_head]];
        c->run = 1;
        c->keep = x->keep_weights;
        c->pushes = (uint8_t)((GET(x, MATMUL, PUSH_PREV) ? 1 : 0) | (GET(x, MATMUL, PUSH_NEXT) ? 2 : 0));
        c->defer = c->act_state != ACT_IDLE && !w->c_act_done;
        c->defer_epoch = c->act_epoch;
        c->n0 = GET(x, MATMUL, N0);
        c->n1 = GET(x, MATMUL, N1);
        c->nk = GET(x, MATMUL, NK);
        c->i0 = c->i1 = c->k = 0;
    }
}

static void activate_advance(struct sim *s, const struct wires *w)
{
    struct compute *c = &s->cp;
    switch (c->act_state) {
    case ACT_IDLE:
        if (w->c_pick_act) {
            const struct mxu_timing_insn *x = &s->trace[c->x[c->x_head]];
            c->act_epoch = (uint8_t)((c->act_epoch + 1) & 3);
            activate_ranges(x, c);
            c->act_pushes = (uint8_t)((GET(x, ACTIVATE, PUSH_PREV) ? 1 : 0) | (GET(x, ACTIVATE, PUSH_NEXT) ? 2 : 0));
            c->act_wait = c->vec_issued;
            c->act_reads = x->a;
            c->act_state = ACT_PARAM;
        }
        break;
    case ACT_PARAM: c->act_state = ACT_WAIT; break;
    case ACT_WAIT:
        if (c->vec_landed >= c->act_wait)
            c->act_state = ACT_RUN;
        break;
    case ACT_RUN:
        if (--c->act_reads == 0) {
            c->act_state = ACT_DRAIN;
            c->act_done_at = s->t + ACT_PIPE_CYCLES;
        }
        break;
    default:
        if (w->c_act_done)
            c->act_state = ACT_IDLE;
        break;
    }
}

static void compute_update(struct sim *s, const struct wires *w)
{
    struct compute *c = &s->cp;
    /* weight loader */
    if (c->wv && c->wlast)
        c->tiles_done++;
    c->wv = w->c_ld_read;
    c->wlast = w->c_last_line;
    if (w->c_ld_start) {
        c->started++;
        c->ld_i = 0;
    }
    if (w->c_ld_read) {
        c->ld_i++;
        c->loading = !w->c_last_line;
        if (w->c_last_line)
            c->ld_tile = w->c_job_pop ? 0 : c->ld_tile + 1;
    }
    if (w->c_job_pop) {
        c->j_head = (c->j_head + 1) % JOB_FIFO_DEPTH;
        c->j_count--;
    }
    executor_advance(s, w);
    activate_advance(s, w);
    if (w->c_pick_mm || w->c_pick_act) {
        c->x_head = (c->x_head + 1) % EXEC_FIFO_DEPTH;
        c->x_count--;
    }
    /* write-back */
    if (w->c_write) {
        c->p_head = (c->p_head + 1) & c->p_mask;
        c->p_count--;
        c->vec_landed++;
    }
    if (w->c_act_done) {
        c->def_prev = c->def_next = 0;
    } else if (w->c_mm_defer) {
        const struct vec *v = &c->pipe[(c->p_head - 1) & c->p_mask];
        c->def_prev += v->pushes & 1;
        c->def_next += v->pushes >> 1 & 1;
    }
    /* front */
    if (w->c_front) {
        size_t i = ring_head(&s->q[Q_COMPUTE]);
        ring_pop(&s->q[Q_COMPUTE]);
        c->x[(c->x_head + c->x_count) % EXEC_FIFO_DEPTH] = i;
        c->x_count++;
        if (needs_weights(&s->trace[i])) {
            c->job[(c->j_head + c->j_count) % JOB_FIFO_DEPTH] = i;
            c->j_count++;
        }
    }
}

static int compute_idle(const struct sim *s)
{
    const struct compute *c = &s->cp;
    return !s->q[Q_COMPUTE].count && !c->run && !c->x_count && c->vec_issued == c->vec_landed &&
           c->act_state == ACT_IDLE && !c->loading && !c->wv;
}

/* ---- DRAM port -------------------------------------------------------------------------------- */

static void port_grant(struct sim *s, struct wires *w)
{
    int want[N_REQ] = {w->f_req, w->l_req, w->s_req};
    w->grant = -1;
    if (!s->dram.ready)
        return;
    for (unsigned i = 1; i <= N_REQ; i++) {
        unsigned who = (s->last_grant + i) % N_REQ;
        if (want[who]) {
            w->grant = (int)who;
            return;
        }
    }
}

static void port_update(struct sim *s, const struct wires *w)
{
    struct dram *d = &s->dram;
    if (w->rsp) {
        d->head = (d->head + 1) % READS_MAX;
        d->count--;
    }
    if (w->grant >= 0) {
        s->last_grant = (unsigned)w->grant;
        if (w->grant != REQ_STORE) {
            uint32_t slot = (d->head + d->count) % READS_MAX;
            d->due[slot] = s->t + s->p->latency;
            d->to_load[slot] = w->grant == REQ_LOAD;
            d->count++;
        }
        d->credit -= s->beat;
    }
    d->credit = d->credit + s->p->bw > s->beat ? s->beat : d->credit + s->p->bw;
    d->ready = d->credit >= s->beat;
}

/* ---- counters ------------------------------------------------------------------------------ */

/* One cycle's increments, with the busy and wait definitions of the RTL's units
 * (mxu_dma_load/mxu_dma_store/mxu_compute busy_o and wait_o). */
static void count_cycle(struct sim *s, const struct wires *w)
{
    struct mxu_timing_result *r = s->r;
    const struct load *l = &s->ld;
    const struct store *st = &s->st;
    const struct compute *c = &s->cp;
    uint64_t load_busy = l->run || l->d_count || l->we;
    uint64_t store_busy = st->run || st->rd || st->f_count || st->ev;
    uint64_t compute_busy = c->run || c->x_count || c->vec_issued != c->vec_landed || c->act_state != ACT_IDLE;
    uint64_t act_rows = c->act_state == ACT_RUN;
    r->load_busy += load_busy;
    r->load_wait += (uint64_t)w->l_wait;
    r->store_busy += store_busy;
    r->store_wait += (uint64_t)w->s_wait;
    r->compute_busy += compute_busy;
    r->compute_wait += (uint64_t)(w->c_wait && !compute_busy);
    r->weight_stall += (uint64_t)w->c_stall;
    r->act_busy += act_rows;
    r->op_cycles[MXU_OP_LOAD] += load_busy;
    r->op_cycles[MXU_OP_STORE] += store_busy;
    r->op_cycles[MXU_OP_MATMUL] += (uint64_t)c->run;
    r->op_cycles[MXU_OP_ACTIVATE] += act_rows;
}

/* ---- the loop ----------------------------------------------------------------------------------- */

static int drained(const struct sim *s)
{
    return fetch_idle(s) && load_idle(s) && store_idle(s) && compute_idle(s) && !s->q[Q_LOAD].count &&
           !s->q[Q_STORE].count && !s->dram.count;
}

static void cycle(struct sim *s, struct wires *w)
{
    memset(w, 0, sizeof *w);
    const struct dram *d = &s->dram;
    w->rsp = d->count && d->due[d->head] == s->t;
    w->rsp_load = w->rsp && d->to_load[d->head];

    decode_wires(s, w);
    load_wires(s, w);
    store_wires(s, w);
    port_grant(s, w);
    load_wires_after_grant(s, w);
    store_wires_after_grant(s, w);
    compute_wires(s, w);
    if (w->l_start)
        w->pop[MXU_TOK_COMPUTE_TO_LOAD] += s->trace[ring_head(&s->q[Q_LOAD])].pops >> MXU_TOK_COMPUTE_TO_LOAD & 1;
    if (w->s_start)
        w->pop[MXU_TOK_COMPUTE_TO_STORE] += s->trace[ring_head(&s->q[Q_STORE])].pops >> MXU_TOK_COMPUTE_TO_STORE & 1;
    if (w->c_front) {
        unsigned pops = s->trace[ring_head(&s->q[Q_COMPUTE])].pops;
        w->pop[MXU_TOK_LOAD_TO_COMPUTE] += pops >> MXU_TOK_LOAD_TO_COMPUTE & 1;
        w->pop[MXU_TOK_STORE_TO_COMPUTE] += pops >> MXU_TOK_STORE_TO_COMPUTE & 1;
    }
}

static void apply(struct sim *s, const struct wires *w)
{
    /* units first (they read queue heads), then fetch/decode (pushes into queues) */
    load_update(s, w);
    store_update(s, w);
    compute_update(s, w);
    port_update(s, w);
    fetch_update(s, w);
    for (unsigned ch = 0; ch < MXU_TOK_CHANNELS; ch++)
        s->tokens[ch] = s->tokens[ch] + w->push[ch] - w->pop[ch];
}

/* ---- fast-forward over plain streaming ---------------------------------------------------------
 * Most cycles of a convolution only stream vectors: the executor issues in the
 * middle of a tile while every other unit waits. Such cycles repeat identically
 * (same decisions, same counter increments) until something else can happen, so
 * they are applied in bulk, with exactly the effect of stepping them one by one. */

/* Cycle t does nothing but issue a vector that is not the last of its tile. */
static int streaming_only(const struct sim *s, const struct wires *w)
{
    const struct compute *c = &s->cp;
    const struct load *l = &s->ld;
    const struct store *st = &s->st;
    if (!w->c_issue || w->c_mm_done || w->c_act_done || w->c_pick_mm || w->c_pick_act || w->c_front ||
        w->c_ld_start || w->c_last_line || w->rsp || w->f_req || w->l_req || w->s_req || w->take || w->stop ||
        w->f_pop || w->l_start || w->l_pad_fire || w->l_line_out || w->s_start || w->s_issue || w->s_fpop)
        return 0;
    if (c->loading || c->wv || c->act_state == ACT_PARAM || c->act_state == ACT_WAIT)
        return 0;
    if (l->run || l->d_count || l->we || l->push_out || st->run || st->rd || st->f_count || st->ev)
        return 0;
    if (s->f.active && s->f.flush && s->f.credit == s->fetch_cap)
        return 0; /* fetch goes idle this cycle */
    return c->keep || c->i0 || c->i1;
}

/* How many cycles from t on stay like cycle t. */
static uint64_t streaming_cycles(const struct sim *s)
{
    const struct compute *c = &s->cp;
    uint64_t pos = (uint64_t)c->i1 * c->n0 + c->i0, tile = (uint64_t)c->n0 * c->n1;
    uint64_t n = tile - 1 - pos; /* issues before the tile's last vector */
    for (uint32_t i = 0; i < c->p_count; i++) {
        const struct vec *v = &c->pipe[(c->p_head + i) & c->p_mask];
        if (v->last) {
            if (v->write_at - s->t < n)
                n = v->write_at - s->t;
            break;
        }
    }
    if (c->act_state == ACT_RUN && c->act_reads - 1 < n)
        n = c->act_reads - 1;
    if (c->act_state == ACT_DRAIN && c->act_done_at - s->t < n)
        n = c->act_done_at - s->t;
    if (s->dram.count && s->dram.due[s->dram.head] - s->t < n)
        n = s->dram.due[s->dram.head] - s->t;
    return n;
}

/* Apply n >= 1 cycles like cycle t (whose counters are already counted). */
static void stream_bulk(struct sim *s, const struct wires *w, uint64_t n)
{
    struct compute *c = &s->cp;
    struct mxu_timing_result *r = s->r;
    uint64_t more = n - 1; /* counters of cycles t+1 .. t+n-1 */
    r->load_wait += more * (uint64_t)w->l_wait;
    r->store_wait += more * (uint64_t)w->s_wait;
    r->compute_busy += more;
    r->op_cycles[MXU_OP_MATMUL] += more;
    if (c->act_state == ACT_RUN) {
        r->act_busy += more;
        r->op_cycles[MXU_OP_ACTIVATE] += more;
        c->act_reads -= n;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t = s->t + i;
        if (c->p_count && c->pipe[c->p_head].write_at == t) {
            c->p_head = (c->p_head + 1) & c->p_mask;
            c->p_count--;
            c->vec_landed++;
        }
        c->pipe[(c->p_head + c->p_count) & c->p_mask] =
            (struct vec){t + VEC_WRITE_DELAY(s), 0, c->pushes, (uint8_t)c->defer, c->defer_epoch};
        c->p_count++;
    }
    c->vec_issued += n;
    uint64_t pos = (uint64_t)c->i1 * c->n0 + c->i0 + n;
    c->i1 = (uint32_t)(pos / c->n0);
    c->i0 = (uint32_t)(pos % c->n0);
    uint64_t credit = s->dram.credit + n * s->p->bw;
    s->dram.credit = credit > s->beat ? s->beat : (uint32_t)credit;
    s->dram.ready = s->dram.credit >= s->beat;
    s->t += n - 1;
}

/* Something moved this cycle (a guard against a model bug: a checked program
 * never deadlocks, and the longest legitimate pause is a DRAM round trip, an
 * array drain or a bandwidth credit refill). */
static int progress(const struct sim *s, const struct wires *w)
{
    return w->grant >= 0 || w->rsp || w->take || w->l_pad_fire || w->l_line_out || w->s_issue || w->s_fpop ||
           w->c_front || w->c_ld_start || w->c_issue || w->c_write || w->c_pick_act || w->c_act_done ||
           s->cp.loading || s->cp.act_state == ACT_RUN;
}

static void simulate(struct sim *s)
{
    struct wires w;
    uint64_t quiet = 0, quiet_max = (uint64_t)s->p->latency + s->rows + s->cols + s->beat + 64;
    s->f.active = s->n_fetch > 0; /* CMD_RANGE: the decoder goes straight to draining */
    s->draining = !s->f.active;
    for (s->t = 1;; s->t++) {
        cycle(s, &w);
        count_cycle(s, &w);
        if (s->draining && drained(s))
            break;
        quiet = progress(s, &w) ? 0 : quiet + 1;
        if (quiet > quiet_max)
            break; /* cannot happen for a checked program; never spin */
        uint64_t n = streaming_only(s, &w) ? streaming_cycles(s) : 0;
        if (n >= 2)
            stream_bulk(s, &w, n);
        else
            apply(s, &w);
    }
    s->r->cycles = s->t;
}

/* The smallest power of two >= n. */
static uint32_t pow2_above(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static int init(struct sim *s, const struct mxu_timing_params *p, const struct mxu_timing_insn *trace,
                size_t n_records, size_t n_fetch, struct mxu_timing_result *out)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->trace = trace;
    s->n_records = n_records;
    s->n_fetch = n_fetch;
    s->r = out;
    s->beat = p->cfg->dram_beat_bytes;
    s->rows = p->cfg->rows;
    s->cols = p->cfg->cols;
    s->ib = s->beat < MXU_INSN_BYTES ? MXU_INSN_BYTES / s->beat : 1;
    s->fetch_cap = FETCH_BUF_INSNS * s->ib;
    s->last_grant = REQ_STORE;
    s->dram.credit = s->beat;
    s->dram.ready = 1;
    s->f.left = (uint64_t)p->cmd_count * s->ib;
    s->f.credit = s->fetch_cap;
    s->ld.credit = LOAD_BUF_BEATS;
    s->cp.p_mask = pow2_above(s->rows + s->cols + 2) - 1;
    s->cp.pipe = calloc(s->cp.p_mask + 1, sizeof *s->cp.pipe);
    int ok = s->cp.pipe != NULL;
    for (int u = 0; u < N_QUEUES; u++) {
        s->q[u].depth = p->cfg->queue_depth;
        s->q[u].mask = pow2_above(s->q[u].depth) - 1;
        s->q[u].idx = calloc(s->q[u].mask + 1, sizeof *s->q[u].idx);
        ok = ok && s->q[u].idx;
    }
    return ok ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "model: out of memory for the timing state");
}

int mxu_timing_run(const struct mxu_timing_params *p, const struct mxu_timing_insn *trace, size_t n_records,
                   size_t n_fetch, struct mxu_timing_result *out)
{
    memset(out, 0, sizeof *out);
    struct sim s;
    int rc = init(&s, p, trace, n_records, n_fetch, out);
    if (!rc)
        simulate(&s);
    for (int u = 0; u < N_QUEUES; u++)
        free(s.q[u].idx);
    free(s.cp.pipe);
    return rc;
}
