/* Random single-layer programs for differential tests: a conv2d or
 * fully-connected layer of random shape (edge cases included), random weights
 * and quantization, lowered by the real tiler for a given configuration. */
#ifndef MXU_TEST_RANDOM_LAYER_H
#define MXU_TEST_RANDOM_LAYER_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_program.h"

struct rng {
    uint64_t s;
};

uint64_t rng_next(struct rng *r);
/* Uniform in [lo, hi]. */
int32_t rng_range(struct rng *r, int32_t lo, int32_t hi);

/* Build a random layer program; desc receives a one-line description
 * ("conv 1x7x9x5 k3 s2 ..."), for failure messages. max_macs bounds the work. */
int random_layer_program(const mxu_hw_config *cfg, uint64_t seed, uint64_t max_macs,
                         mxu_program **out, char *desc, size_t len);

/* Fill the program's input tensors with random bytes from seed. */
void random_inputs(const mxu_program *p, uint64_t seed, uint8_t *const *values);

/* Run p on the model and on the golden kernels; 0 when every output byte
 * matches, else a negative status with mxu_error_detail() naming the first
 * mismatch. uri selects the device ("model:rows=8,cols=8"). */
int run_and_compare(const char *uri, const mxu_program *p, uint64_t input_seed, uint64_t *cycles);

/* Criterion body: `count` random layers from first_seed, built for arch
 * ("rows=8,cols=8,...") and run on backend ("model", "rtl", "icarus") with its
 * options (NULL: none) against the golden kernels; asserts on the first failure
 * with the layer's description. */
void run_random_layers(const char *backend, const char *arch, const char *options,
                       uint64_t first_seed, int count, uint64_t max_macs);

/* Criterion body: `count` random strided few-channel convolutions without
 * padding that the tiler lowers through space-to-depth, run on backend for
 * arch; asserts every output is bit-exact (and that count such shapes came up). */
void run_blocked_layers(const char *backend, const char *arch, uint64_t first_seed, int count);

#endif
