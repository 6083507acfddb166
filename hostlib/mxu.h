/* libmxu: the runtime of the mxu accelerator.
 *
 *   mxu_device *dev;
 *   if (mxu_open("rtl:rows=8,cols=16", &dev) != MXU_OK)
 *       fprintf(stderr, "%s: %s\n", mxu_strerror(rc), mxu_error_detail());
 *
 * Devices are opened by URI: "model:" (the C model), "rtl:" (Verilator),
 * "icarus:" (Icarus Verilog), each optionally followed by configuration keys
 * (rows=, cols=, ub=, acc=, wb=, params=, dram=, beat=, queue=, tokens= or RxC)
 * and backend options (latency=, bw=, trace=, ...), comma separated.
 * Every function returns MXU_OK or a negative mxu_status (mxu_error.h). */
#ifndef MXU_H
#define MXU_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_config.h"
#include "mxu_error.h"
#include "mxu_program.h"

typedef struct mxu_device mxu_device;

int mxu_open(const char *uri, mxu_device **out);
void mxu_close(mxu_device *dev);

/* The configuration the device reports through its ID/config CSRs. */
const mxu_hw_config *mxu_device_config(const mxu_device *dev);
const char *mxu_device_backend(const mxu_device *dev);

int mxu_csr_read(mxu_device *dev, uint32_t offset, uint32_t *value);
int mxu_csr_write(mxu_device *dev, uint32_t offset, uint32_t value);
int mxu_mem_write(mxu_device *dev, uint32_t addr, const void *data, size_t bytes);
int mxu_mem_read(mxu_device *dev, uint32_t addr, void *data, size_t bytes);

/* Device memory: first-fit allocation of the device's DRAM. align is a power
 * of two (0 = 64). MXU_ERR_LIMIT when no free block is large enough. The
 * allocations live with the device and end with mxu_close(). */
int mxu_dev_alloc(mxu_device *dev, uint32_t bytes, uint32_t align, uint32_t *addr);
int mxu_dev_free(mxu_device *dev, uint32_t addr);
void mxu_dev_mem_usage(mxu_device *dev, uint64_t *used, uint64_t *largest_free);
/* Forget every allocation at once. */
void mxu_dev_mem_release(mxu_device *dev);

/* The device's performance counters and error state after a run. */
typedef struct mxu_counters {
    uint64_t cycles, load_busy, load_wait, compute_busy, compute_wait, store_busy, store_wait;
    uint64_t array_vectors, weight_stall, dram_rd_bytes, dram_wr_bytes, insns, act_busy;
    uint32_t status, err_code, err_pc;
} mxu_counters;

int mxu_read_counters(mxu_device *dev, mxu_counters *c);

/* Run `count` instructions at cmd_base: start, wait (at most max_cycles device
 * cycles, 0 = backend default), read the counters. A device error code gives
 * MXU_ERR_DEVICE with a detail naming the error and the instruction. */
int mxu_run_commands(mxu_device *dev, uint32_t cmd_base, uint32_t count, uint64_t max_cycles,
                     mxu_counters *out);

/* Name of a device error code ("ILLEGAL_FIELD"). */
const char *mxu_device_error_name(uint32_t code);

/* Programs: check the device can run it, write its code and constants. */
int mxu_program_check_device(const mxu_program *p, const mxu_hw_config *dev_cfg);
int mxu_program_load(mxu_device *dev, const mxu_program *p);
int mxu_program_run(mxu_device *dev, const mxu_program *p, uint64_t max_cycles, mxu_counters *out);

/* Tensor transfer by index into p->tensors (bytes must equal the tensor's size). */
int mxu_tensor_write(mxu_device *dev, const mxu_program *p, uint32_t tensor, const void *data,
                     size_t bytes);
int mxu_tensor_read(mxu_device *dev, const mxu_program *p, uint32_t tensor, void *data,
                    size_t bytes);
uint64_t mxu_tensor_bytes(const mxu_tensor *t);

#endif
