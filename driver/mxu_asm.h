/* The mxu assembler and disassembler (docs/asm.md).
 *
 * Source text -> mxu_program: one instruction per line, fields named as in
 * isa/mxu.isa, plus directives for the hardware configuration, DRAM segments,
 * tensors, layers and packed constants. The disassembler prints a program as
 * source that assembles back to the same program. Both directions are driven by
 * the generated field table mxu_isa_fields[]. */
#ifndef MXU_ASM_H
#define MXU_ASM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mxu_config.h"
#include "mxu_isa.h"
#include "mxu_program.h"

/* Assemble `source` (NUL-terminated). `filename` names it in error details
 * (NULL: "<input>"). default_cfg is the hardware configuration when the source
 * has no .config directive (NULL: the ISA's defaults). Unless the source says
 * .allow_invalid, every instruction must pass mxu_decode_check and the program
 * must contain a finish. Errors: MXU_ERR_FORMAT with the detail
 * "file:line:col: message"; *out is set only on success. */
int mxu_asm_parse(const char *source, const char *filename, const mxu_hw_config *default_cfg,
                  mxu_program **out);

/* One instruction as a source line without a newline, e.g.
 * "matmul pop_prev wgt_line=16 n0=8 n1=1 s0=1 nk=4". An unknown opcode or set
 * reserved bits print as ".insn W0 W1 W2 W3". Returns the length of the line,
 * or MXU_ERR_INVAL if it does not fit in len bytes (buf then holds a truncated,
 * NUL-terminated prefix). */
int mxu_disasm_insn(const uint64_t insn[MXU_INSN_WORDS], char *buf, size_t len);

/* A listing of the whole program (configuration, code, segments, tensors,
 * layers, host blob, metadata) that mxu_asm_parse reads back to the same
 * program. Returns MXU_OK, or MXU_ERR_IO if writing failed. */
int mxu_disasm_program(const mxu_program *p, FILE *out);


#endif
