/* First-fit allocator over an address range: the device's DRAM heap
 * (mxu_dev_alloc). Blocks are kept sorted by address. Internal. */
#ifndef MXU_HEAP_H
#define MXU_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct mxu_heap_block {
    uint32_t addr, bytes;
};

struct mxu_heap {
    struct mxu_heap_block *blocks;
    size_t n, cap;
};

/* Lowest aligned free block of `bytes` below `limit`. MXU_ERR_LIMIT (with a
 * detail giving the largest free block) when none fits. */
int mxu_heap_alloc(struct mxu_heap *h, uint64_t limit, uint32_t bytes, uint32_t align, uint32_t *addr);
int mxu_heap_free(struct mxu_heap *h, uint32_t addr);
void mxu_heap_usage(const struct mxu_heap *h, uint64_t limit, uint64_t *used, uint64_t *largest_free);
void mxu_heap_clear(struct mxu_heap *h);

#endif
