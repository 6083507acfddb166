/* A small compiled-network-like program for the runtime tests, built the way
 * the compiler builds one: device layers lowered by hostlib's tiler, each
 * closed with mxu_builder_end_segment into its code range, host layers
 * (concat, upsample, add, lut, softmax) recorded without code. */
#ifndef MXU_TEST_NET_H
#define MXU_TEST_NET_H

#include <stdint.h>

#include "mxu_config.h"
#include "mxu_program.h"

/* Layers of the test network, in order (devices marked *):
 *   0 conv1*  x 1xHxWx3 -> c1 1xHxWx8 (3x3, pad 1, ReLU clamp)
 *   1 pool1*  c1 -> p1 1x(H/2)x(W/2)x8 (max 2x2 s2)
 *   2 conv2*  p1 -> c2 1x(H/2)x(W/2)x6 (1x1, the quantization of p1)
 *   3 cat     p1, c2 -> cat 1x(H/2)x(W/2)x14
 *   4 up      cat -> up 1xHxWx14 (nearest, x2; an output tensor)
 *   5 conv3*  up -> c3 1xHxWx8 (1x1)
 *   6 add     c1 + c3 -> a 1xHxWx8
 *   7 fc*     a (flattened) -> f 1x10
 *   8 lut     f -> g 1x10
 *   9 softmax g -> prob 1x10 (the classifier's output) */
#define TEST_NET_LAYERS 10
#define TEST_NET_CLASSES 10

/* h and w even and >= 2. Random constants from seed. Classifier metadata
 * (model=, classes=) is set when with_metadata. */
int test_net_build(const mxu_hw_config *cfg, uint32_t h, uint32_t w, uint64_t seed,
                   int with_metadata, mxu_program **out);

#endif
