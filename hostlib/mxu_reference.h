/* The golden reference run of a program: every recorded layer computed with
 * the golden kernels (golden.h), in order, from the program's input tensors.
 * `--check` compares the device's tensors with these. */
#ifndef MXU_REFERENCE_H
#define MXU_REFERENCE_H

#include <stdint.h>

#include "mxu_program.h"

/* values[i] points at tensor i's bytes (mxu_tensor_bytes). Inputs must be
 * filled; every layer output is written. */
int mxu_reference_run(const mxu_program *p, uint8_t *const *values);

/* Run one layer. */
int mxu_reference_layer(const mxu_program *p, const mxu_layer *l, uint8_t *const *values);

/* Useful multiply-accumulates of a layer (conv before any fused pool). */
uint64_t mxu_layer_macs(const mxu_program *p, const mxu_layer *l);

#endif
