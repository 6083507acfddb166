/* Device-DRAM planning of the activations: each value lives from the node that
 * computes it to its last reader (graph inputs and outputs for the whole run),
 * and values whose lifetimes do not overlap share memory. Placement is greedy,
 * largest buffer first, at the lowest offset clear of every placed buffer that
 * is alive at the same time. (No FLATTEN reaches this stage: see
 * passes_flatten.c.) */
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"

struct buffer {
    uint32_t value;
    uint64_t bytes;
    int64_t first, last; /* node indices; -1 = before the first node */
    uint64_t offset;
    int placed;
};

static uint64_t align_up(uint64_t v)
{
    return (v + MXU_MEMPLAN_ALIGN - 1) & ~(uint64_t)(MXU_MEMPLAN_ALIGN - 1);
}

static void stretch(struct buffer *b, int64_t t)
{
    b->first = t < b->first ? t : b->first;
    b->last = t > b->last ? t : b->last;
}

/* Lifetime of every value: from its producer (or the start) to its last reader. */
static void lifetimes(const mxu_graph *g, struct buffer *buf)
{
    int64_t end = g->n_nodes;
    for (uint32_t v = 0; v < g->n_values; v++) {
        buf[v] = (struct buffer){v, align_up(mxu_value_elems(&g->values[v])), INT64_MAX, INT64_MIN, 0, 0};
        if (g->values[v].producer >= 0)
            stretch(&buf[v], g->values[v].producer);
    }
    for (uint32_t k = 0; k < g->n_inputs; k++)
        stretch(&buf[g->inputs[k]], -1), stretch(&buf[g->inputs[k]], end);
    for (uint32_t k = 0; k < g->n_outputs; k++)
        stretch(&buf[g->outputs[k]], end);
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        const mxu_node *n = &g->nodes[i];
        for (uint32_t k = 0; k < n->n_inputs; k++)
            stretch(&buf[n->inputs[k]], i);
    }
}

static int by_size_desc(const void *a, const void *b)
{
    const struct buffer *x = *(struct buffer *const *)a, *y = *(struct buffer *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int by_offset(const void *a, const void *b)
{
    const struct buffer *x = *(struct buffer *const *)a, *y = *(struct buffer *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Lowest offset where b fits among the placed buffers alive with it. */
static void place(struct buffer *b, struct buffer **placed, size_t n_placed, struct buffer **scratch)
{
    size_t n = 0;
    for (size_t i = 0; i < n_placed; i++)
        if (placed[i]->first <= b->last && b->first <= placed[i]->last)
            scratch[n++] = placed[i];
    qsort(scratch, n, sizeof *scratch, by_offset);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (scratch[i]->offset >= at + b->bytes)
            break;
        uint64_t end = scratch[i]->offset + scratch[i]->bytes;
        at = end > at ? end : at;
    }
    b->offset = at;
    b->placed = 1;
}

int mxu_memplan_build(const mxu_graph *g, struct mxu_memplan *m)
{
    memset(m, 0, sizeof *m);
    size_t nv = g->n_values;
    struct buffer *buf = calloc(nv + 1, sizeof *buf);
    struct buffer **order = calloc(nv + 1, sizeof *order), **scratch = calloc(nv + 1, sizeof *scratch);
    m->offset = malloc((nv + 1) * sizeof *m->offset);
    m->n_values = g->n_values;
    int rc = buf && order && scratch && m->offset ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "memory plan");
    size_t n = 0;
    uint64_t arena = 0, naive = 0;
    if (rc == MXU_OK) {
        lifetimes(g, buf);
        for (uint32_t v = 0; v < g->n_values; v++)
            if (buf[v].first <= buf[v].last)
                order[n++] = &buf[v], naive += buf[v].bytes;
        qsort(order, n, sizeof *order, by_size_desc);
        for (size_t i = 0; i < n; i++) {
            place(order[i], order, i, scratch);
            uint64_t end = order[i]->offset + order[i]->bytes;
            arena = end > arena ? end : arena;
        }
        for (uint32_t v = 0; v < g->n_values; v++)
            m->offset[v] = buf[v].placed ? (uint32_t)buf[v].offset : MXU_NONE;
    }
    if (rc == MXU_OK && arena > UINT32_MAX - 4096)
        rc = mxu_fail(MXU_ERR_LIMIT, "activations need %llu bytes of device DRAM", (unsigned long long)arena);
    m->arena_bytes = (uint32_t)arena;
    m->naive_bytes = naive > UINT32_MAX ? UINT32_MAX : (uint32_t)naive;
    free(buf), free(order), free(scratch);
    if (rc)
        mxu_memplan_free(m);
    return rc;
}

void mxu_memplan_free(struct mxu_memplan *m)
{
    free(m->offset);
    m->offset = NULL;
}
