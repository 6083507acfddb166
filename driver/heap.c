/* First-fit allocator (see mxu_heap.h). */
#include "mxu_heap.h"

#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"

static uint64_t align_up(uint64_t v, uint32_t align)
{
    return (v + align - 1) & ~(uint64_t)(align - 1);
}

/* End of the gap before block i (the limit after the last block). */
static uint64_t gap_end(const struct mxu_heap *h, size_t i, uint64_t limit)
{
    return i < h->n ? h->blocks[i].addr : limit;
}

static uint64_t block_end(const struct mxu_heap *h, size_t i)
{
    return (uint64_t)h->blocks[i].addr + h->blocks[i].bytes;
}

static uint64_t largest_gap(const struct mxu_heap *h, uint64_t limit)
{
    uint64_t start = 0, best = 0;
    for (size_t i = 0; i <= h->n; i++) {
        uint64_t end = gap_end(h, i, limit);
        best = end - start > best ? end - start : best;
        if (i < h->n)
            start = block_end(h, i);
    }
    return best;
}

static int grow(struct mxu_heap *h)
{
    if (h->n < h->cap)
        return MXU_OK;
    size_t cap = h->cap ? 2 * h->cap : 16;
    struct mxu_heap_block *b = realloc(h->blocks, cap * sizeof *b);
    if (!b)
        return mxu_fail(MXU_ERR_NOMEM, "device memory allocator");
    h->blocks = b;
    h->cap = cap;
    return MXU_OK;
}

int mxu_heap_alloc(struct mxu_heap *h, uint64_t limit, uint32_t bytes, uint32_t align, uint32_t *addr)
{
    align = align ? align : 64;
    if (align & (align - 1))
        return mxu_fail(MXU_ERR_INVAL, "alignment %u is not a power of two", align);
    if (bytes == 0)
        return mxu_fail(MXU_ERR_INVAL, "allocation of zero bytes");
    int rc = grow(h);
    uint64_t start = 0;
    for (size_t i = 0; rc == MXU_OK && i <= h->n; i++) {
        uint64_t a = align_up(start, align);
        if (a + bytes <= gap_end(h, i, limit)) {
            memmove(h->blocks + i + 1, h->blocks + i, (h->n - i) * sizeof *h->blocks);
            h->blocks[i] = (struct mxu_heap_block){(uint32_t)a, bytes};
            h->n++;
            *addr = (uint32_t)a;
            return MXU_OK;
        }
        if (i < h->n)
            start = block_end(h, i);
    }
    if (rc)
        return rc;
    return mxu_fail(MXU_ERR_LIMIT, "device DRAM full: no free block of %u bytes (aligned to %u) in "
                    "the device's %llu bytes of DRAM; the largest free block has %llu bytes",
                    bytes, align, (unsigned long long)limit, (unsigned long long)largest_gap(h, limit));
}

int mxu_heap_free(struct mxu_heap *h, uint32_t addr)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->blocks[i].addr == addr) {
            memmove(h->blocks + i, h->blocks + i + 1, (h->n - i - 1) * sizeof *h->blocks);
            h->n--;
            return MXU_OK;
        }
    return mxu_fail(MXU_ERR_INVAL, "0x%x is not an allocated block", addr);
}

void mxu_heap_usage(const struct mxu_heap *h, uint64_t limit, uint64_t *used, uint64_t *largest_free)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < h->n; i++)
        sum += h->blocks[i].bytes;
    if (used)
        *used = sum;
    if (largest_free)
        *largest_free = largest_gap(h, limit);
}

void mxu_heap_clear(struct mxu_heap *h)
{
    free(h->blocks);
    memset(h, 0, sizeof *h);
}
