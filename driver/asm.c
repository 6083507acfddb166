/* The assembler: source lines -> mxu_program (docs/asm.md). Instructions are
 * parsed from the generated field table; directives live in asm_data.c and
 * asm_layer.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "asm_priv.h"
#include "mxu_asm.h"
#include "mxu_decode.h"
#include "mxu_error.h"

_Static_assert(MXU_MEM_UB == 0 && MXU_MEM_WB == 1 && MXU_MEM_PARAM == 2 && MXU_MEM_LUT == 3,
               "asm_mem_names follows enum MEM");

#define MAX_FIELDS 256

/* ---- instructions ---------------------------------------------------------- */

static const struct mxu_isa_opcode *find_opcode(const char *name)
{
    for (unsigned i = 0; i < mxu_isa_n_opcodes; i++)
        if (strcasecmp(mxu_isa_opcodes[i].name, name) == 0)
            return &mxu_isa_opcodes[i];
    return NULL;
}

static int find_field(unsigned op, const char *name, size_t len)
{
    for (unsigned i = 0; i < mxu_isa_n_fields; i++)
        if (mxu_isa_fields[i].opcode == op && strlen(mxu_isa_fields[i].name) == len &&
            strncmp(mxu_isa_fields[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static void field_list(unsigned op, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < mxu_isa_n_fields && used < len; i++)
        if (mxu_isa_fields[i].opcode == op)
            used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
                                     mxu_isa_fields[i].name);
    if (!buf[0])
        snprintf(buf, len, "none");
}

static void lower(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
    dst[i] = 0;
}

/* Value of one `key=value` field: enum names for mem, else a number in the
 * field's range. */
static int field_value(struct asm_ctx *a, const struct mxu_isa_field *f, const char *val, int col,
                       uint64_t *out)
{
    if (f->opcode == MXU_OP_LOAD && strcmp(f->name, "mem") == 0) {
        int m = asm_lookup(asm_mem_names, 4, val);
        if (m >= 0) {
            *out = (uint64_t)m;
            return MXU_OK;
        }
    }
    int64_t lo = f->is_signed ? -((int64_t)1 << (f->bits - 1)) : 0;
    int64_t hi = f->is_signed ? ((int64_t)1 << (f->bits - 1)) - 1 : ((int64_t)1 << f->bits) - 1;
    int64_t v;
    int rc = asm_int(a, val, col, lo, hi, f->name, &v);
    if (!rc)
        *out = (uint64_t)v & (f->bits == 64 ? ~0ull : ((1ull << f->bits) - 1));
    return rc;
}

static int add_insn(struct asm_ctx *a, const uint64_t w[MXU_INSN_WORDS])
{
    mxu_program *p = a->p;
    if (p->n_insns == a->insn_line_cap) {
        size_t cap = a->insn_line_cap ? a->insn_line_cap * 2 : 64;
        uint32_t *g = realloc(a->insn_line, cap * sizeof *g);
        if (!g)
            return mxu_fail(MXU_ERR_NOMEM, "assembler: out of memory");
        a->insn_line = g;
        a->insn_line_cap = cap;
    }
    a->insn_line[p->n_insns] = (uint32_t)a->line;
    int rc = mxu_program_add_insn(p, w);
    return rc ? asm_error(a, 1, "%s", mxu_error_detail()) : MXU_OK;
}

static int asm_insn(struct asm_ctx *a, const struct asm_line *l, const struct mxu_isa_opcode *op)
{
    uint64_t w[MXU_INSN_WORDS] = {0};
    unsigned char seen[MAX_FIELDS] = {0};
    char list[400];
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, op->value);
    for (int i = 1; i < l->n; i++) {
        const struct asm_tok *t = &l->tok[i];
        const char *eq = strchr(t->text, '=');
        size_t klen = eq ? (size_t)(eq - t->text) : strlen(t->text);
        int fi = find_field(op->value, t->text, klen);
        char opname[16];
        lower(opname, op->name, sizeof opname);
        if (fi < 0) {
            field_list(op->value, list, sizeof list);
            return asm_error(a, t->col, "%s has no field '%.*s' (fields: %s)", opname, (int)klen,
                             t->text, list);
        }
        const struct mxu_isa_field *f = &mxu_isa_fields[fi];
        uint64_t v = 1;
        if (!eq && f->bits != 1)
            return asm_error(a, t->col, "field '%s' needs a value (%s=...)", f->name, f->name);
        if (eq) {
            int rc = field_value(a, f, eq + 1, t->col + (int)klen + 1, &v);
            if (rc)
                return rc;
        }
        if (fi >= MAX_FIELDS)
            return asm_error(a, t->col, "too many fields in the ISA table");
        if (seen[fi])
            return asm_error(a, t->col, "field '%s' is given twice", f->name);
        seen[fi] = 1;
        mxu_insn_set(w, f->pos, f->bits, v);
    }
    return add_insn(a, w);
}

/* .insn W0 W1 W2 W3: a raw instruction, any bits (for deliberately broken code). */
static int dir_insn(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n != 1 + MXU_INSN_WORDS)
        return asm_error(a, l->tok[0].col, ".insn takes %d 64-bit words", MXU_INSN_WORDS);
    uint64_t w[MXU_INSN_WORDS];
    for (int i = 0; i < MXU_INSN_WORDS; i++)
        if (asm_parse_u64(l->tok[1 + i].text, &w[i]) != 0)
            return asm_error(a, l->tok[1 + i].col, ".insn: '%s' is not a 64-bit number",
                             l->tok[1 + i].text);
    return add_insn(a, w);
}

/* ---- program-level directives ------------------------------------------------ */

static int dir_config(struct asm_ctx *a, const struct asm_line *l)
{
    if (a->config_line)
        return asm_error(a, l->tok[0].col, "second .config (the first is on line %d)",
                         a->config_line);
    if (a->config_locked)
        return asm_error(a, l->tok[0].col,
                         ".config must come before line %d, which depends on the configuration",
                         a->config_locked);
    if (l->n < 2)
        return asm_error(a, l->tok[0].col, ".config needs key=value,... (see mxu_config_parse)");
    char spec[1024];
    size_t used = 0;
    for (int i = 1; i < l->n; i++) {
        int n = snprintf(spec + used, sizeof spec - used, "%s%s", i > 1 ? "," : "", l->tok[i].text);
        if (n < 0 || (size_t)n >= sizeof spec - used)
            return asm_error(a, l->tok[i].col, ".config is too long");
        used += (size_t)n;
    }
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    if (mxu_config_parse(&cfg, spec) != MXU_OK || mxu_config_validate(&cfg) != MXU_OK)
        return asm_error(a, l->tok[1].col, "%s", mxu_error_detail());
    a->p->config = cfg;
    a->config_line = a->line;
    return MXU_OK;
}

static int dir_code(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n != 2)
        return asm_error(a, l->tok[0].col, ".code takes one address");
    if (a->code_line)
        return asm_error(a, l->tok[0].col, "second .code (the first is on line %d)", a->code_line);
    const char *s = l->tok[1].text[0] == '@' ? l->tok[1].text + 1 : l->tok[1].text;
    int64_t v;
    int rc = asm_int(a, s, l->tok[1].col, 0, UINT32_MAX, "code address", &v);
    if (rc)
        return rc;
    if (v % MXU_INSN_BYTES)
        return asm_error(a, l->tok[1].col, "code address 0x%llx is not %d-byte aligned",
                         (unsigned long long)v, MXU_INSN_BYTES);
    a->p->code_addr = (uint32_t)v;
    a->code_line = a->line;
    return MXU_OK;
}

static int dir_allow_invalid(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n != 1)
        return asm_error(a, l->tok[1].col, ".allow_invalid takes no arguments");
    a->allow_invalid = 1;
    return MXU_OK;
}

/* .meta "text" appends text verbatim; .meta key=value appends "key=value\n". */
static int dir_meta(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n != 2)
        return asm_error(a, l->tok[0].col, ".meta takes one \"string\" or key=value");
    const char *s = l->tok[1].text;
    int newline = !l->tok[1].quoted;
    size_t old = a->p->metadata ? strlen(a->p->metadata) : 0, n = strlen(s);
    char *m = realloc(a->p->metadata, old + n + 2);
    if (!m)
        return mxu_fail(MXU_ERR_NOMEM, "assembler: out of memory");
    memcpy(m + old, s, n);
    if (newline)
        m[old + n++] = '\n';
    m[old + n] = 0;
    a->p->metadata = m;
    return MXU_OK;
}

static int dir_byte(struct asm_ctx *a, const struct asm_line *l) { return asm_dir_data(a, l, 1); }
static int dir_i16(struct asm_ctx *a, const struct asm_line *l) { return asm_dir_data(a, l, 2); }
static int dir_i32(struct asm_ctx *a, const struct asm_line *l) { return asm_dir_data(a, l, 4); }

struct directive {
    const char *name;
    int (*fn)(struct asm_ctx *a, const struct asm_line *l);
    int uses_config; /* must come after .config */
};

static const struct directive directives[] = {
    {".config", dir_config, 0},       {".code", dir_code, 0},
    {".allow_invalid", dir_allow_invalid, 0},
    {".segment", asm_dir_segment, 1}, {".byte", dir_byte, 0},
    {".i8", dir_byte, 0},             {".i16", dir_i16, 0},
    {".i32", dir_i32, 0},             {".random", asm_dir_random, 0},
    {".fill", asm_dir_fill, 0},       {".hostblob", asm_dir_hostblob, 0},
    {".tensor", asm_dir_tensor, 1},   {".layer", asm_dir_layer, 1},
    {".pack", asm_dir_pack, 1},       {".meta", dir_meta, 0},
    {".insn", dir_insn, 1},
};

static int asm_statement(struct asm_ctx *a, const struct asm_line *l)
{
    const struct asm_tok *t = &l->tok[0];
    if (t->text[0] == '.' && !t->quoted) {
        for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
            if (strcmp(directives[i].name, t->text) != 0)
                continue;
            if (directives[i].uses_config && !a->config_locked)
                a->config_locked = a->line;
            return directives[i].fn(a, l);
        }
        return asm_error(a, t->col, "unknown directive '%s'", t->text);
    }
    const struct mxu_isa_opcode *op = t->quoted ? NULL : find_opcode(t->text);
    if (!op)
        return asm_error(a, t->col, "unknown instruction '%s'", t->text);
    if (!a->config_locked)
        a->config_locked = a->line;
    return asm_insn(a, l, op);
}

/* ---- whole-program checks --------------------------------------------------------- */

long asm_check_code(const mxu_program *p, int *code)
{
    struct mxu_token_state tok;
    memset(&tok, 0, sizeof tok);
    for (uint32_t i = 0; i < p->n_insns; i++) {
        int rc = mxu_decode_check(&p->config, p->insns[i], &tok);
        if (rc) {
            *code = rc;
            return (long)i;
        }
        if ((p->insns[i][0] & ((1u << MXU_F_OP_BITS) - 1)) == MXU_OP_FINISH)
            return -1;
    }
    *code = MXU_DEVERR_NO_FINISH;
    return (long)p->n_insns;
}

static const struct mxu_isa_error *device_error(int code)
{
    for (unsigned i = 0; i < mxu_isa_n_errors; i++)
        if ((int)mxu_isa_errors[i].value == code)
            return &mxu_isa_errors[i];
    return NULL;
}

static int check_code(struct asm_ctx *a, int last_line)
{
    int code;
    long bad = asm_check_code(a->p, &code);
    if (bad < 0)
        return MXU_OK;
    const struct mxu_isa_error *e = device_error(code);
    const char *name = e ? e->name : "?", *text = e ? e->text : "?";
    if ((uint32_t)bad >= a->p->n_insns) {
        a->line = last_line;
        return asm_error(a, 1, "the program has no finish (the device would stop with %s)", name);
    }
    a->line = (int)a->insn_line[bad];
    char dis[256];
    mxu_disasm_insn(a->p->insns[bad], dis, sizeof dis);
    return asm_error(a, 1, "instruction %ld (%s) is invalid: %s (%s); use .allow_invalid to keep it",
                     bad, dis, name, text);
}

/* The result is what a reader of the program's file gets (parse(serialize(p))):
 * the writer's validation runs, and derived fields are filled in. */
static int canonical(struct asm_ctx *a, mxu_program **out)
{
    uint8_t *buf;
    size_t len;
    int rc = mxu_program_serialize(a->p, &buf, &len);
    if (rc) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        return mxu_fail(rc == MXU_ERR_NOMEM ? rc : MXU_ERR_FORMAT, "%s: %s", a->file, detail);
    }
    rc = mxu_program_parse(buf, len, out);
    free(buf);
    return rc;
}

static int assemble(struct asm_ctx *a, const char *source)
{
    struct asm_line l = {0};
    int rc = MXU_OK;
    const char *s = source;
    for (;;) {
        const char *end = strchr(s, '\n');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        a->line++;
        rc = asm_lex(a, s, len, &l);
        if (!rc && l.n)
            rc = asm_statement(a, &l);
        if (rc || !end)
            break;
        s = end + 1;
    }
    asm_line_free(&l);
    int last_line = a->line;
    if (!rc)
        rc = asm_flush_segment(a);
    if (!rc && !a->allow_invalid)
        rc = check_code(a, last_line);
    return rc;
}

int mxu_asm_parse(const char *source, const char *filename, const mxu_hw_config *default_cfg,
                  mxu_program **out)
{
    if (!source || !out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_asm_parse: NULL argument");
    *out = NULL;
    struct asm_ctx a;
    memset(&a, 0, sizeof a);
    a.file = filename ? filename : "<input>";
    int rc = mxu_program_new(&a.p);
    if (rc)
        return rc;
    if (default_cfg)
        a.p->config = *default_cfg;
    rc = mxu_config_validate(&a.p->config);
    if (rc) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        rc = mxu_fail(MXU_ERR_INVAL, "%s: default configuration: %s", a.file, detail);
    }
    if (!rc)
        rc = assemble(&a, source);
    if (!rc)
        rc = canonical(&a, out);
    mxu_program_free(a.p);
    free(a.insn_line);
    free(a.seg_data);
    return rc;
}
