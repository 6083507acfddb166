/* Program builder: instruction emission with automatic dependency tokens.
 * See mxu_builder.h for the idea; the token rules are in docs/isa.md. */
#include "mxu_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_encode.h"
#include "mxu_error.h"

enum queue { Q_LOAD, Q_COMPUTE, Q_STORE, Q_COUNT, Q_NONE = -1 };

/* Token channels, named producer->consumer. */
enum channel { CH_L2C, CH_C2L, CH_C2S, CH_S2C, CH_COUNT };

static const struct {
    enum queue producer, consumer;
    uint64_t push_bit, pop_bit;
} channels[CH_COUNT] = {
    [CH_L2C] = {Q_LOAD, Q_COMPUTE, MXU_DEP_PUSH_NEXT, MXU_DEP_POP_PREV},
    [CH_C2L] = {Q_COMPUTE, Q_LOAD, MXU_DEP_PUSH_PREV, MXU_DEP_POP_NEXT},
    [CH_C2S] = {Q_COMPUTE, Q_STORE, MXU_DEP_PUSH_NEXT, MXU_DEP_POP_PREV},
    [CH_S2C] = {Q_STORE, Q_COMPUTE, MXU_DEP_PUSH_PREV, MXU_DEP_POP_NEXT},
};

struct region {
    enum mxu_region_mem mem;
    uint32_t start, size;
    int64_t writer;           /* instruction index, -1 if none */
    enum queue writer_queue;
    int64_t reader[Q_COUNT]; /* last reading instruction per queue, -1 if none */
    int active;               /* in the builder's active list */
};

struct chan_state {
    int64_t last_push; /* index of the newest pushing instruction, -1 if none */
    int pending_pop;   /* the consumer's next instruction must pop */
};

/* Instruction indices or region ids, ascending. */
struct index_list {
    int64_t *v;
    size_t n, cap;
};

struct mxu_builder {
    mxu_hw_config cfg;
    mxu_program *prog;
    uint64_t (*insns)[MXU_INSN_WORDS];
    size_t n_insns, cap_insns;
    struct index_list in_queue[Q_COUNT]; /* instruction indices per queue, ascending */
    struct region *regions;
    size_t n_regions, cap_regions;
    /* The regions accessed since the last FINISH, ascending: only they can need a
     * token, so hazard checks look at them and not at every region of the program. */
    struct index_list active;
    struct chan_state chan[CH_COUNT];
    int *tensor_region; /* region id per tensor index, -1 until first use */
    size_t cap_tensor_region;
    uint32_t dram_next;
    uint32_t tokens, fillers;
    size_t segment_start; /* first instruction after the last end_segment */
    int segments;         /* segments closed so far */
};

/* DRAM bytes [0, 64) are scratch for token-only instructions. */
#define SCRATCH_LOAD_ADDR 0u
#define SCRATCH_STORE_ADDR 32u
#define DRAM_FIRST_FREE 64u

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return MXU_OK;
    size_t n = *cap ? *cap * 2 : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * elem);
    if (!p)
        return mxu_fail(MXU_ERR_NOMEM, "program builder");
    *v = p;
    *cap = n;
    return MXU_OK;
}

int mxu_builder_new(const mxu_hw_config *cfg, mxu_builder **out)
{
    *out = NULL;
    mxu_builder *b = calloc(1, sizeof *b);
    if (!b)
        return mxu_fail(MXU_ERR_NOMEM, "program builder");
    b->cfg = *cfg;
    int rc = mxu_config_validate(&b->cfg);
    if (rc == MXU_OK)
        rc = mxu_program_new(&b->prog);
    if (rc != MXU_OK) {
        free(b);
        return rc;
    }
    b->prog->config = b->cfg;
    for (int c = 0; c < CH_COUNT; c++)
        b->chan[c].last_push = -1;
    b->dram_next = DRAM_FIRST_FREE;
    *out = b;
    return MXU_OK;
}

void mxu_builder_free(mxu_builder *b)
{
    if (!b)
        return;
    mxu_program_free(b->prog);
    free(b->insns);
    for (int q = 0; q < Q_COUNT; q++)
        free(b->in_queue[q].v);
    free(b->regions);
    free(b->active.v);
    free(b->tensor_region);
    free(b);
}

mxu_program *mxu_builder_program(mxu_builder *b)
{
    return b->prog;
}

const mxu_hw_config *mxu_builder_config(const mxu_builder *b)
{
    return &b->cfg;
}

int mxu_builder_alloc_dram(mxu_builder *b, uint32_t bytes, uint32_t align, uint32_t *addr)
{
    if (align == 0 || (align & (align - 1)))
        return mxu_fail(MXU_ERR_INVAL, "DRAM alignment %u is not a power of two", align);
    uint64_t a = ((uint64_t)b->dram_next + align - 1) & ~(uint64_t)(align - 1);
    if (a + bytes > b->cfg.dram_bytes)
        return mxu_fail(MXU_ERR_LIMIT, "device DRAM full: need %u more bytes at 0x%llx, DRAM is %u bytes",
                        bytes, (unsigned long long)a, b->cfg.dram_bytes);
    *addr = (uint32_t)a;
    b->dram_next = (uint32_t)(a + bytes);
    return MXU_OK;
}

int mxu_builder_add_constant(mxu_builder *b, const char *name, const void *data, uint32_t bytes,
                             uint32_t *addr)
{
    int rc = mxu_builder_alloc_dram(b, bytes, 64, addr);
    if (rc == MXU_OK)
        rc = mxu_program_add_segment(b->prog, name, *addr, data, bytes);
    return rc;
}

int mxu_builder_add_tensor(mxu_builder *b, const char *name, uint32_t role, uint32_t ndims,
                           const uint32_t *dims, float scale, int32_t zp, uint32_t *index)
{
    mxu_tensor t;
    uint64_t bytes = 1;
    memset(&t, 0, sizeof t);
    if (ndims != 2 && ndims != 4)
        return mxu_fail(MXU_ERR_INVAL, "tensor %s: %u dimensions (2 or 4 supported)", name, ndims);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.role = role;
    t.dtype = MXU_DTYPE_INT8;
    t.layout = ndims == 4 ? MXU_LAYOUT_NHWC : MXU_LAYOUT_NC;
    t.ndims = ndims;
    for (uint32_t i = 0; i < ndims; i++)
        bytes *= t.dims[i] = dims[i];
    t.scale = scale > 0 ? scale : 1.0f;
    t.zero_point = zp;
    if (bytes > UINT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "tensor %s is larger than the 4 GiB device address space", name);
    int rc = mxu_builder_alloc_dram(b, (uint32_t)bytes, 64, &t.dram_addr);
    return rc ? rc : mxu_program_add_tensor(b->prog, &t, index);
}

int mxu_builder_region(mxu_builder *b, enum mxu_region_mem mem, uint32_t start, uint32_t size)
{
    if (grow((void **)&b->regions, &b->cap_regions, b->n_regions + 1, sizeof *b->regions))
        return MXU_ERR_NOMEM;
    struct region *r = &b->regions[b->n_regions];
    r->mem = mem;
    r->start = start;
    r->size = size;
    r->writer = -1;
    r->writer_queue = Q_NONE;
    for (int q = 0; q < Q_COUNT; q++)
        r->reader[q] = -1;
    r->active = 0;
    return (int)b->n_regions++;
}

int mxu_builder_tensor_region(mxu_builder *b, uint32_t tensor)
{
    if (tensor >= b->prog->n_tensors)
        return mxu_fail(MXU_ERR_INVAL, "builder: no tensor %u", tensor);
    size_t old = b->cap_tensor_region;
    if (grow((void **)&b->tensor_region, &b->cap_tensor_region, tensor + 1, sizeof(int)))
        return MXU_ERR_NOMEM;
    for (size_t i = old; i < b->cap_tensor_region; i++)
        b->tensor_region[i] = -1;
    if (b->tensor_region[tensor] < 0) {
        const mxu_tensor *t = &b->prog->tensors[tensor];
        uint64_t bytes = mxu_tensor_elems(t) * mxu_dtype_size(t->dtype);
        int id = mxu_builder_region(b, MXU_REGION_DRAM, t->dram_addr, (uint32_t)bytes);
        if (id < 0)
            return id;
        b->tensor_region[tensor] = id;
    }
    return b->tensor_region[tensor];
}

static enum queue queue_of(const uint64_t *insn)
{
    for (unsigned i = 0; i < mxu_isa_n_opcodes; i++)
        if (mxu_isa_opcodes[i].value == mxu_insn_opcode(insn))
            switch (mxu_isa_opcodes[i].queue) {
            case MXU_QUEUE_LOAD: return Q_LOAD;
            case MXU_QUEUE_COMPUTE: return Q_COMPUTE;
            case MXU_QUEUE_STORE: return Q_STORE;
            case MXU_QUEUE_NONE: return Q_NONE;
            }
    return Q_NONE;
}

/* Append an instruction, giving it the pops its queue owes. */
static int append(mxu_builder *b, const uint64_t insn[MXU_INSN_WORDS], int64_t *index)
{
    enum queue q = queue_of(insn);
    if (grow((void **)&b->insns, &b->cap_insns, b->n_insns + 1, sizeof *b->insns))
        return MXU_ERR_NOMEM;
    uint64_t *w = b->insns[b->n_insns];
    memcpy(w, insn, MXU_INSN_BYTES);
    for (int c = 0; c < CH_COUNT; c++)
        if (channels[c].consumer == q && b->chan[c].pending_pop) {
            w[0] |= channels[c].pop_bit;
            b->chan[c].pending_pop = 0;
        }
    if (q != Q_NONE) {
        struct index_list *l = &b->in_queue[q];
        if (grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v))
            return MXU_ERR_NOMEM;
        l->v[l->n++] = (int64_t)b->n_insns;
    }
    *index = (int64_t)b->n_insns++;
    return MXU_OK;
}

/* A token-only instruction of queue q: touches nothing anyone reads. */
static int emit_filler(mxu_builder *b, enum queue q, int64_t *index)
{
    uint64_t w[MXU_INSN_WORDS];
    uint32_t top = b->cfg.ub_lines;
    if (q == Q_LOAD) {
        struct mxu_load d = {.mem = MXU_MEM_UB, .dram_addr = SCRATCH_LOAD_ADDR, .dst_line = top - 1,
                             .elem_bytes = 1, .n0 = 1, .n1 = 1, .n2 = 1};
        mxu_encode_load(w, &d);
    } else if (q == Q_COMPUTE) {
        struct mxu_activate d = {.ub_addr = top - 2, .in_w = 1, .out_h = 1, .out_w = 1,
                                 .pool_k = 1, .pool_s = 1, .clamp_min = -128, .clamp_max = 127};
        mxu_encode_activate(w, &d);
    } else {
        struct mxu_store d = {.dram_addr = SCRATCH_STORE_ADDR, .src_line = top - 3,
                              .elem_bytes = 1, .n0 = 1, .n1 = 1, .n2 = 1};
        mxu_encode_store(w, &d);
    }
    b->fillers++;
    return append(b, w, index);
}

/* Position of the first element >= key. */
static size_t lower_bound(const struct index_list *l, int64_t key)
{
    size_t a = 0, z = l->n;
    while (a < z) {
        size_t m = (a + z) / 2;
        if (l->v[m] < key)
            a = m + 1;
        else
            z = m;
    }
    return a;
}

/* First instruction of queue q at index >= lo, or -1. */
static int64_t first_in_queue_from(const mxu_builder *b, enum queue q, int64_t lo)
{
    const struct index_list *l = &b->in_queue[q];
    size_t a = lower_bound(l, lo);
    return a < l->n ? l->v[a] : -1;
}

/* Make the consumer of channel c wait until instruction `after` of the producer
 * (and so everything before it in that queue) has completed. */
static int need_channel(mxu_builder *b, enum channel c, int64_t after)
{
    struct chan_state *s = &b->chan[c];
    int64_t tmp;
    int rc;
    /* Pushes are made on demand, so the consumer has popped (or is about to pop,
     * when pending) every push there is: the newest one covers `after`. */
    if (s->last_push >= after)
        return MXU_OK;
    if (s->pending_pop && (rc = emit_filler(b, channels[c].consumer, &tmp)))
        return rc;
    int64_t lo = after > s->last_push + 1 ? after : s->last_push + 1;
    int64_t p = first_in_queue_from(b, channels[c].producer, lo);
    if (p < 0 && (rc = emit_filler(b, channels[c].producer, &p)))
        return rc;
    b->insns[p][0] |= channels[c].push_bit;
    s->last_push = p;
    s->pending_pop = 1;
    b->tokens++;
    return MXU_OK;
}

static enum channel channel_between(enum queue from, enum queue to)
{
    if (from == Q_LOAD)
        return CH_L2C;
    if (from == Q_STORE)
        return CH_S2C;
    return to == Q_LOAD ? CH_C2L : CH_C2S;
}

/* Order instruction `after` (of queue from) before the next instruction of queue to. */
static int need(mxu_builder *b, enum queue from, int64_t after, enum queue to)
{
    if (from == to || after < 0)
        return MXU_OK;
    if ((from == Q_LOAD && to == Q_STORE) || (from == Q_STORE && to == Q_LOAD)) {
        int64_t relay;
        int rc = need_channel(b, channel_between(from, Q_COMPUTE), after);
        if (rc == MXU_OK)
            rc = emit_filler(b, Q_COMPUTE, &relay);
        if (rc == MXU_OK)
            rc = need_channel(b, channel_between(Q_COMPUTE, to), relay);
        return rc;
    }
    return need_channel(b, channel_between(from, to), after);
}

static int overlaps(const struct region *a, const struct region *z)
{
    return a->mem == z->mem && a->start < z->start + z->size && z->start < a->start + a->size;
}

static int check_region(const mxu_builder *b, int id)
{
    if (id < 0 || (size_t)id >= b->n_regions)
        return mxu_fail(MXU_ERR_INVAL, "unknown builder region %d", id);
    return MXU_OK;
}

/* Sync the instruction of queue q with every other-queue access to regions
 * overlapping `id`: writers always; readers too when q writes. Regions no one
 * accessed since the last FINISH need nothing, so only the active ones are
 * visited, in the order of their ids (the order decides where tokens go). */
static int sync_region(mxu_builder *b, int id, enum queue q, int writing)
{
    const struct region *me = &b->regions[id];
    for (size_t i = 0; i < b->active.n; i++) {
        const struct region *r = &b->regions[b->active.v[i]];
        if (!overlaps(me, r))
            continue;
        int rc = need(b, r->writer_queue, r->writer, q);
        for (int rq = 0; writing && rc == MXU_OK && rq < Q_COUNT; rq++)
            rc = need(b, (enum queue)rq, r->reader[rq], q);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

/* Put region id into the active list (kept ascending) unless it is there. */
static int activate(mxu_builder *b, int id)
{
    struct index_list *l = &b->active;
    if (b->regions[id].active)
        return MXU_OK;
    if (grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v))
        return MXU_ERR_NOMEM;
    size_t a = lower_bound(l, id);
    memmove(&l->v[a + 1], &l->v[a], (l->n - a) * sizeof *l->v);
    l->v[a] = id;
    l->n++;
    b->regions[id].active = 1;
    return MXU_OK;
}

int mxu_builder_emit(mxu_builder *b, const uint64_t insn[MXU_INSN_WORDS], const int *reads,
                     const int *writes)
{
    enum queue q = queue_of(insn);
    int64_t idx;
    int rc;
    if (q == Q_NONE)
        return mxu_fail(MXU_ERR_INVAL, "builder: opcode %u is not a queued instruction",
                        mxu_insn_opcode(insn));
    /* (a region activated here has no access yet, so later syncs skip it) */
    for (const int *r = reads; r && *r >= 0; r++)
        if ((rc = check_region(b, *r)) || (rc = sync_region(b, *r, q, 0)) || (rc = activate(b, *r)))
            return rc;
    for (const int *w = writes; w && *w >= 0; w++)
        if ((rc = check_region(b, *w)) || (rc = sync_region(b, *w, q, 1)) || (rc = activate(b, *w)))
            return rc;
    if ((rc = append(b, insn, &idx)))
        return rc;
    for (const int *r = reads; r && *r >= 0; r++)
        b->regions[*r].reader[q] = idx;
    for (const int *w = writes; w && *w >= 0; w++) {
        struct region *r = &b->regions[*w];
        r->writer = idx;
        r->writer_queue = q;
        for (int rq = 0; rq < Q_COUNT; rq++)
            r->reader[rq] = -1;
    }
    return MXU_OK;
}

/* Forget every hazard: after a FINISH the device is idle, so nothing that came
 * before needs a token any more. */
static void retire_all(mxu_builder *b)
{
    for (size_t i = 0; i < b->active.n; i++) {
        struct region *r = &b->regions[b->active.v[i]];
        r->writer = -1;
        r->writer_queue = Q_NONE;
        for (int q = 0; q < Q_COUNT; q++)
            r->reader[q] = -1;
        r->active = 0;
    }
    b->active.n = 0;
    for (int c = 0; c < CH_COUNT; c++)
        b->chan[c].last_push = -1;
}

int mxu_builder_end_segment(mxu_builder *b, uint32_t *first, uint32_t *count)
{
    uint64_t w[MXU_INSN_WORDS];
    int64_t idx;
    int rc = MXU_OK;
    /* A push whose pop is still owed would leave a token for the next run,
     * which starts with empty channels: pop it here with a filler. */
    for (int c = 0; rc == MXU_OK && c < CH_COUNT; c++)
        if (b->chan[c].pending_pop)
            rc = emit_filler(b, channels[c].consumer, &idx);
    if (rc == MXU_OK) {
        mxu_encode_finish(w);
        rc = append(b, w, &idx);
    }
    if (rc != MXU_OK)
        return rc;
    if (first)
        *first = (uint32_t)b->segment_start;
    if (count)
        *count = (uint32_t)(b->n_insns - b->segment_start);
    b->segment_start = b->n_insns;
    b->segments++;
    retire_all(b);
    return MXU_OK;
}

int mxu_builder_finish(mxu_builder *b, mxu_program **out)
{
    uint64_t w[MXU_INSN_WORDS];
    int64_t idx;
    uint32_t code;
    *out = NULL;
    mxu_encode_finish(w);
    int rc = MXU_OK;
    if (b->segments == 0 || b->n_insns > b->segment_start)
        rc = append(b, w, &idx);
    if (rc == MXU_OK)
        rc = mxu_builder_alloc_dram(b, (uint32_t)(b->n_insns * MXU_INSN_BYTES), MXU_INSN_BYTES, &code);
    for (size_t i = 0; rc == MXU_OK && i < b->n_insns; i++)
        rc = mxu_program_add_insn(b->prog, b->insns[i]);
    if (rc != MXU_OK)
        return rc;
    b->prog->code_addr = code;
    b->prog->dram_used = b->dram_next;
    *out = b->prog;
    b->prog = NULL;
    return MXU_OK;
}

void mxu_builder_stats(const mxu_builder *b, struct mxu_builder_stats *s)
{
    s->insns = (uint32_t)b->n_insns;
    s->tokens = b->tokens;
    s->filler_insns = b->fillers;
}
