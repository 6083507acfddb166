/* A cache of cycle estimates, so that running the same program again (a
 * network's layer programs, once per image) does not replay the cycle model.
 *
 * mxu_timing_run is a pure function of its arguments: the configuration, the
 * DRAM knobs (latency, bw), CMD_BASE, CMD_COUNT, the trace records, n_records
 * and n_fetch. It reads no DRAM contents and keeps no state between calls.
 * Every field of a trace record is set from the fetched instruction words and
 * the configuration only (model.c run_program, exec.c). An entry therefore
 * holds a full copy of all of these inputs, and a lookup compares them all
 * byte for byte: the hash only picks candidates, a collision can never return
 * another program's counters. The model consults the cache only for runs that
 * ended without a device error (see model.c). */
#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"
#include "mxu_model_priv.h"

/* The records and the configuration are compared with memcmp: no padding. */
_Static_assert(sizeof(struct mxu_timing_insn) == 4 + 4 + 8 + 8 + 8 * MXU_INSN_WORDS,
               "struct mxu_timing_insn has padding");
_Static_assert(sizeof(mxu_hw_config) == 11 * sizeof(uint32_t), "mxu_hw_config has padding");

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    h ^= h >> 31;
    return h * 0xbf58476d1ce4e5b9u;
}

static uint64_t key_hash(const struct mxu_timing_params *p, const struct mxu_timing_insn *trace, size_t n_records,
                         size_t n_fetch)
{
    uint64_t h = mix(mix(mix(0, p->latency), p->bw), (uint64_t)p->cmd_base << 32 | p->cmd_count);
    h = mix(mix(h, n_records), n_fetch);
    const uint32_t *c = (const uint32_t *)p->cfg;
    for (size_t i = 0; i < sizeof *p->cfg / sizeof *c; i++)
        h = mix(h, c[i]);
    for (size_t i = 0; i < n_records; i++) {
        const struct mxu_timing_insn *r = &trace[i];
        h = mix(h, (uint64_t)r->op | (uint64_t)r->pops << 8 | (uint64_t)r->pushes << 16 |
                       (uint64_t)r->keep_weights << 24 | (uint64_t)r->nk << 32);
        h = mix(mix(h, r->a), r->b);
        for (unsigned w = 0; w < MXU_INSN_WORDS; w++)
            h = mix(h, r->insn[w]);
    }
    return h;
}

static int key_equal(const struct mxu_timing_cache_entry *e, uint64_t hash, const struct mxu_timing_params *p,
                     const struct mxu_timing_insn *trace, size_t n_records, size_t n_fetch)
{
    return e->trace && e->hash == hash && e->latency == p->latency && e->bw == p->bw &&
           e->cmd_base == p->cmd_base && e->cmd_count == p->cmd_count && e->n_records == n_records &&
           e->n_fetch == n_fetch && !memcmp(&e->cfg, p->cfg, sizeof e->cfg) &&
           !memcmp(e->trace, trace, n_records * sizeof *trace);
}

static void entry_free(struct mxu_timing_cache *c, struct mxu_timing_cache_entry *e)
{
    c->bytes -= e->trace ? e->n_records * sizeof *e->trace : 0;
    free(e->trace);
    memset(e, 0, sizeof *e);
}

static const struct mxu_timing_cache_entry *find(struct mxu_timing_cache *c, uint64_t hash,
                                                  const struct mxu_timing_params *p,
                                                  const struct mxu_timing_insn *trace, size_t n_records,
                                                  size_t n_fetch)
{
    for (unsigned i = 0; i < MXU_TIMING_CACHE_ENTRIES; i++) {
        struct mxu_timing_cache_entry *e = &c->e[i];
        if (key_equal(e, hash, p, trace, n_records, n_fetch)) {
            e->last_use = ++c->clock;
            return e;
        }
    }
    return NULL;
}

/* The slot to fill: an empty one, else the least recently used. */
static struct mxu_timing_cache_entry *victim(struct mxu_timing_cache *c)
{
    struct mxu_timing_cache_entry *v = &c->e[0];
    for (unsigned i = 0; i < MXU_TIMING_CACHE_ENTRIES; i++) {
        struct mxu_timing_cache_entry *e = &c->e[i];
        if (!e->trace)
            return e;
        if (e->last_use < v->last_use)
            v = e;
    }
    return v;
}

/* Evict least recently used entries until `need` more bytes fit the budget. */
static void make_room(struct mxu_timing_cache *c, size_t need)
{
    while (c->bytes + need > MXU_TIMING_CACHE_BYTES) {
        struct mxu_timing_cache_entry *oldest = NULL;
        for (unsigned i = 0; i < MXU_TIMING_CACHE_ENTRIES; i++)
            if (c->e[i].trace && (!oldest || c->e[i].last_use < oldest->last_use))
                oldest = &c->e[i];
        if (!oldest)
            return;
        entry_free(c, oldest);
    }
}

static void store(struct mxu_timing_cache *c, uint64_t hash, const struct mxu_timing_params *p,
                  const struct mxu_timing_insn *trace, size_t n_records, size_t n_fetch,
                  const struct mxu_timing_result *result)
{
    size_t bytes = n_records * sizeof *trace;
    if (n_records == 0 || bytes > MXU_TIMING_CACHE_BYTES) {
        c->skipped++;
        return;
    }
    make_room(c, bytes);
    struct mxu_timing_cache_entry *e = victim(c);
    entry_free(c, e);
    e->trace = malloc(bytes);
    if (!e->trace) { /* only a lost speed-up, not an error */
        c->skipped++;
        return;
    }
    memcpy(e->trace, trace, bytes);
    c->bytes += bytes;
    e->hash = hash;
    e->cfg = *p->cfg;
    e->latency = p->latency;
    e->bw = p->bw;
    e->cmd_base = p->cmd_base;
    e->cmd_count = p->cmd_count;
    e->n_records = n_records;
    e->n_fetch = n_fetch;
    e->result = *result;
    e->last_use = ++c->clock;
}

int mxu_timing_run_cached(struct mxu_timing_cache *c, const struct mxu_timing_params *p,
                          const struct mxu_timing_insn *trace, size_t n_records, size_t n_fetch,
                          struct mxu_timing_result *out)
{
    uint64_t hash = key_hash(p, trace, n_records, n_fetch);
    const struct mxu_timing_cache_entry *hit = find(c, hash, p, trace, n_records, n_fetch);
    if (hit) {
        *out = hit->result;
        c->hits++;
        return MXU_OK;
    }
    c->misses++;
    int rc = mxu_timing_run(p, trace, n_records, n_fetch, out);
    if (rc == MXU_OK)
        store(c, hash, p, trace, n_records, n_fetch, out);
    return rc;
}

void mxu_timing_cache_clear(struct mxu_timing_cache *c)
{
    for (unsigned i = 0; i < MXU_TIMING_CACHE_ENTRIES; i++)
        entry_free(c, &c->e[i]);
}
