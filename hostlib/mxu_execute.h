/* Running a whole program: layer by layer, device layers as command segments
 * on the device and host layers (softmax, concat, ...) on the host, with
 * per-layer counters.
 *
 * A layer record with code_count > 0 owns instructions
 * [code_first, code_first + code_count) of the program's code (its last one a
 * FINISH); one with code_count == 0 is computed on the host by its golden
 * kernel (reference.c) from tensors read back from the device. A program
 * without any code ranges (hand-written assembly, one-layer programs) runs its
 * whole code once, then its host-only layers (softmax, concat, upsample, lut)
 * in order; mxu_layer_on_host (mxu_program.h) says which layers those are. */
#ifndef MXU_EXECUTE_H
#define MXU_EXECUTE_H

#include <stdint.h>

#include "mxu.h"

struct mxu_layer_stats {
    mxu_counters counters; /* zero for host layers */
    uint64_t macs;         /* useful MACs (mxu_layer_macs) */
    int on_host;
    double host_seconds;   /* wall time of a host layer */
};

/* Run p (already loaded with mxu_program_load, inputs written) on dev.
 * per_layer (may be NULL) has p->n_layers entries; total (may be NULL) gets
 * the sum of the device counters. max_cycles bounds each device segment.
 * (Without ranges, the whole code's counters are the total, and a layer's own
 * only when it is the program's one device layer.) A device error names the
 * layer and the failing instruction's index in the whole program. */
int mxu_program_execute(mxu_device *dev, const mxu_program *p, uint64_t max_cycles,
                        struct mxu_layer_stats *per_layer, mxu_counters *total);

/* Called after each layer has run (its device segment finished or its host
 * kernel written back), before a later layer can reuse its output's memory:
 * `--check` reads the output there and compares it with the golden reference.
 * (Without ranges, the device layers are all observed after the whole code.)
 * A negative return stops the run with that status. */
typedef int (*mxu_layer_observer)(void *ctx, mxu_device *dev, const mxu_program *p,
                                  uint32_t layer);

/* mxu_program_execute with an observer (may be NULL). */
int mxu_program_execute_observed(mxu_device *dev, const mxu_program *p, uint64_t max_cycles,
                                 struct mxu_layer_stats *per_layer, mxu_counters *total,
                                 mxu_layer_observer observe, void *ctx);

#endif
