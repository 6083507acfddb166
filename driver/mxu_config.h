/* Hardware configuration of one accelerator instance: what the ID/config CSRs
 * report, what a program requires, what `--arch` selects. */
#ifndef MXU_CONFIG_H
#define MXU_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef struct mxu_hw_config {
    uint32_t rows, cols;          /* systolic array */
    uint32_t ub_lines;            /* unified buffer lines of ub_line_bytes */
    uint32_t ub_line_bytes;       /* derived: max(rows, cols) */
    uint32_t acc_rows;            /* accumulator rows of cols int32 */
    uint32_t wb_lines;            /* weight buffer lines of cols int8 */
    uint32_t param_lines;         /* parameter lines of cols channels */
    uint32_t dram_bytes;          /* device DRAM size */
    uint32_t dram_beat_bytes;     /* DRAM port width */
    uint32_t queue_depth;         /* instruction queue depth per unit */
    uint32_t token_max;           /* most outstanding tokens per channel */
} mxu_hw_config;

/* Simulated DRAM timing knobs, shared by the C model and the RTL harnesses
 * (backend options "latency=CYCLES,bw=BYTES_PER_CYCLE"). A request accepted at
 * cycle t answers at t + latency; a credit of bw bytes per cycle (capped at one
 * beat) pays for each beat, so the port accepts one beat every
 * ceil(DRAM_BEAT_BYTES / bw) cycles (docs/simulation.md). */
#define MXU_DEFAULT_DRAM_LATENCY 10u

/* The default configuration of isa/mxu.isa (16x16, 256 KiB UB, ...). */
void mxu_config_default(mxu_hw_config *cfg);

/* Apply "key=value,..." to cfg. Keys: rows, cols, ub (bytes, K/M suffix),
 * ub_lines, acc (rows), wb (lines), params (lines), dram (bytes, K/M/G), beat (bytes),
 * queue, tokens. Sizes must be powers of two where the hardware needs it.
 * Returns MXU_OK or MXU_ERR_INVAL with a detail naming the bad key. */
int mxu_config_parse(mxu_hw_config *cfg, const char *spec);

/* Check that a configuration is buildable; recomputes derived fields. */
int mxu_config_validate(mxu_hw_config *cfg);

/* "rows=16,cols=16,ub_lines=16384,..." (round-trips through mxu_config_parse). */
void mxu_config_format(const mxu_hw_config *cfg, char *buf, size_t len);

/* Short directory-safe name of the configuration, e.g. "16x16" for the defaults
 * of everything but the array, "16x16-ub65536-acc1024-..." otherwise. */
void mxu_config_name(const mxu_hw_config *cfg, char *buf, size_t len);

/* Line widths in bytes of each on-chip memory (enum MEM in the ISA). */
uint32_t mxu_config_line_bytes(const mxu_hw_config *cfg, unsigned mem);
uint32_t mxu_config_mem_lines(const mxu_hw_config *cfg, unsigned mem);

#endif
