/* Internals shared by the assembler's files (asm.c, asm_lex.c, asm_data.c,
 * asm_layer.c) and the disassembler. Not a public header. */
#ifndef MXU_ASM_PRIV_H
#define MXU_ASM_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_program.h"

/* One token of a source line: quotes removed, escapes resolved. */
struct asm_tok {
    const char *text;
    int col; /* 1-based column of its first character */
    int quoted;
};

struct asm_line {
    struct asm_tok *tok;
    int n, cap;
    char *arena; /* token texts live here */
    size_t arena_cap;
};

enum asm_target { ASM_TARGET_NONE, ASM_TARGET_SEGMENT, ASM_TARGET_BLOB };

struct asm_ctx {
    const char *file;
    int line;
    mxu_program *p;
    int allow_invalid;
    int config_line;    /* line of .config, 0 if none */
    int config_locked;  /* line that first used the configuration, 0 if none */
    int code_line;      /* line of .code, 0 if none */
    uint32_t *insn_line; /* source line of each instruction */
    size_t insn_line_cap;
    /* where .byte/.i8/... data goes */
    enum asm_target target;
    char seg_name[MXU_NAME_LEN];
    uint32_t seg_addr;
    int seg_line;
    uint8_t *seg_data;
    size_t seg_len, seg_cap;
};

/* Record "file:line:col: message" as an MXU_ERR_FORMAT detail. */
int asm_error(struct asm_ctx *a, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Split one line (without its newline) into tokens; comments start at ';' or '#'
 * outside quotes. */
int asm_lex(struct asm_ctx *a, const char *text, size_t len, struct asm_line *out);
void asm_line_free(struct asm_line *l);

/* Numbers: decimal, 0x hex, 0b binary, optional sign. */
int asm_parse_u64(const char *s, uint64_t *v); /* 0 or -1 */
/* A number in [lo, hi]; on failure records an error naming `what` at col. */
int asm_int(struct asm_ctx *a, const char *s, int col, int64_t lo, int64_t hi, const char *what,
            int64_t *v);
int asm_float(struct asm_ctx *a, const char *s, int col, const char *what, double *v);
/* A name (1..63 bytes) copied into dst. */
int asm_name(struct asm_ctx *a, const struct asm_tok *t, const char *what, char dst[MXU_NAME_LEN]);

/* Split "a,b,c" in place into at most max items; columns follow. Returns the count
 * or -1 (error recorded) if there are more than max. */
int asm_split(struct asm_ctx *a, char *s, int col, char sep, const char **items, int *cols,
              int max, const char *what);

/* Deterministic generator for .random and random:SEED (splitmix64). */
uint64_t asm_rand_next(uint64_t *state);
int64_t asm_rand_range(uint64_t *state, int64_t lo, int64_t hi);

/* Directives of asm_data.c: segments, data, host blob. */
int asm_dir_segment(struct asm_ctx *a, const struct asm_line *l);
int asm_dir_data(struct asm_ctx *a, const struct asm_line *l, int bytes_per_value);
int asm_dir_random(struct asm_ctx *a, const struct asm_line *l);
int asm_dir_fill(struct asm_ctx *a, const struct asm_line *l);
int asm_dir_hostblob(struct asm_ctx *a, const struct asm_line *l);
int asm_flush_segment(struct asm_ctx *a);
/* Error (at col) if [addr, addr+bytes) overlaps a segment already in the program. */
int asm_check_overlap(struct asm_ctx *a, const char *name, uint32_t addr, uint64_t bytes, int col);

/* Directives of asm_layer.c. */
int asm_dir_tensor(struct asm_ctx *a, const struct asm_line *l);
int asm_dir_layer(struct asm_ctx *a, const struct asm_line *l);
int asm_dir_pack(struct asm_ctx *a, const struct asm_line *l);

/* Names shared by the assembler and the disassembler. */
extern const char *const asm_mem_names[4];  /* enum MEM: ub wb param lut */
extern const char *const asm_role_names[4]; /* index = enum mxu_role */
extern const char *const asm_dtype_names[3];
extern const char *const asm_layout_names[3];
extern const char *const asm_op_names[MXU_LAYER_OP_LIMIT]; /* index = enum mxu_layer_op */
int asm_lookup(const char *const *names, int n, const char *s); /* index or -1 */

/* Walk the code as the device's decoder does: index of the first instruction
 * mxu_decode_check refuses (*code = its MXU_DEVERR_*), or of a missing FINISH
 * (index n_insns, *code = MXU_DEVERR_NO_FINISH); -1 if the program is valid. */
long asm_check_code(const mxu_program *p, int *code);

#endif
