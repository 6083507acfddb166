/* Device DRAM allocator: first fit over each device's DRAM.
 *
 * struct mxu_device is private to the device layer, so the allocator keeps its
 * state in a side table keyed by the handle (a mutex guards the table; one
 * device is used by one thread at a time, as the rest of the API). Blocks are
 * kept sorted by address; allocation walks the gaps in address order. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_layers.h"

struct block {
    uint32_t addr, bytes;
};

struct heap {
    const mxu_device *dev;
    struct heap *next;
    struct block *blocks; /* sorted by addr */
    size_t n, cap;
};

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct heap *heaps;

/* The heap of dev, created on first use (NULL when out of memory). Callers
 * hold heaps_lock. */
static struct heap *heap_of(const mxu_device *dev, int create)
{
    for (struct heap *h = heaps; h; h = h->next)
        if (h->dev == dev)
            return h;
    if (!create)
        return NULL;
    struct heap *h = calloc(1, sizeof *h);
    if (h) {
        h->dev = dev;
        h->next = heaps;
        heaps = h;
    }
    return h;
}

static uint64_t align_up(uint64_t v, uint32_t align)
{
    return (v + align - 1) & ~(uint64_t)(align - 1);
}

/* First fit: the lowest aligned start in a gap that holds `bytes`; the index
 * at which the new block goes in *at. Returns 0 when no gap fits. */
static int first_fit(const struct heap *h, uint64_t dram, uint32_t bytes, uint32_t align,
                     uint32_t *addr, size_t *at)
{
    uint64_t start = 0;
    for (size_t i = 0; i <= h->n; i++) {
        uint64_t end = i < h->n ? h->blocks[i].addr : dram;
        uint64_t a = align_up(start, align);
        if (a + bytes <= end) {
            *addr = (uint32_t)a;
            *at = i;
            return 1;
        }
        if (i < h->n)
            start = (uint64_t)h->blocks[i].addr + h->blocks[i].bytes;
    }
    return 0;
}

static uint64_t largest_gap(const struct heap *h, uint64_t dram)
{
    uint64_t start = 0, best = 0;
    for (size_t i = 0; h && i <= h->n; i++) {
        uint64_t end = i < h->n ? h->blocks[i].addr : dram;
        if (end - start > best)
            best = end - start;
        if (i < h->n)
            start = (uint64_t)h->blocks[i].addr + h->blocks[i].bytes;
    }
    return h ? best : dram;
}

static int grow(struct heap *h)
{
    if (h->n < h->cap)
        return 1;
    size_t cap = h->cap ? 2 * h->cap : 16;
    struct block *b = realloc(h->blocks, cap * sizeof *b);
    if (!b)
        return 0;
    h->blocks = b;
    h->cap = cap;
    return 1;
}

int mxu_dev_alloc(mxu_device *dev, uint32_t bytes, uint32_t align, uint32_t *addr)
{
    if (!dev || !addr)
        return mxu_fail(MXU_ERR_INVAL, "mxu_dev_alloc: no device or address");
    align = align ? align : 64;
    if (align & (align - 1))
        return mxu_fail(MXU_ERR_INVAL, "mxu_dev_alloc: alignment %u is not a power of two", align);
    if (bytes == 0)
        return mxu_fail(MXU_ERR_INVAL, "mxu_dev_alloc: zero bytes");
    uint64_t dram = mxu_device_config(dev)->dram_bytes, largest = 0;
    int rc = MXU_OK;
    size_t at = 0;
    pthread_mutex_lock(&heaps_lock);
    struct heap *h = heap_of(dev, 1);
    if (!h || !grow(h)) {
        rc = MXU_ERR_NOMEM;
    } else if (!first_fit(h, dram, bytes, align, addr, &at)) {
        rc = MXU_ERR_LIMIT;
        largest = largest_gap(h, dram);
    } else {
        memmove(h->blocks + at + 1, h->blocks + at, (h->n - at) * sizeof *h->blocks);
        h->blocks[at] = (struct block){*addr, bytes};
        h->n++;
    }
    pthread_mutex_unlock(&heaps_lock);
    if (rc == MXU_ERR_NOMEM)
        return mxu_fail(rc, "device memory allocator");
    if (rc == MXU_ERR_LIMIT)
        return mxu_fail(rc, "device DRAM full: no free block of %u bytes (aligned to %u) in the "
                        "device's %llu bytes of DRAM; the largest free block has %llu bytes",
                        bytes, align, (unsigned long long)dram, (unsigned long long)largest);
    return MXU_OK;
}

int mxu_dev_free(mxu_device *dev, uint32_t addr)
{
    int found = 0;
    pthread_mutex_lock(&heaps_lock);
    struct heap *h = heap_of(dev, 0);
    for (size_t i = 0; h && i < h->n && !found; i++) {
        if (h->blocks[i].addr == addr) {
            memmove(h->blocks + i, h->blocks + i + 1, (h->n - i - 1) * sizeof *h->blocks);
            h->n--;
            found = 1;
        }
    }
    pthread_mutex_unlock(&heaps_lock);
    return found ? MXU_OK : mxu_fail(MXU_ERR_INVAL, "mxu_dev_free: 0x%x is not an allocated block", addr);
}

void mxu_dev_mem_usage(mxu_device *dev, uint64_t *used, uint64_t *largest_free)
{
    uint64_t dram = mxu_device_config(dev)->dram_bytes, sum = 0;
    pthread_mutex_lock(&heaps_lock);
    struct heap *h = heap_of(dev, 0);
    for (size_t i = 0; h && i < h->n; i++)
        sum += h->blocks[i].bytes;
    if (largest_free)
        *largest_free = largest_gap(h, dram);
    pthread_mutex_unlock(&heaps_lock);
    if (used)
        *used = sum;
}

void mxu_dev_mem_release(mxu_device *dev)
{
    pthread_mutex_lock(&heaps_lock);
    for (struct heap **pp = &heaps; *pp; pp = &(*pp)->next) {
        if ((*pp)->dev == dev) {
            struct heap *h = *pp;
            *pp = h->next;
            free(h->blocks);
            free(h);
            break;
        }
    }
    pthread_mutex_unlock(&heaps_lock);
}
