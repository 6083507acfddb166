/* The disassembler: instructions as source lines (from the generated field
 * table) and whole programs as listings that assemble back to the same program. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "asm_priv.h"
#include "mxu_asm.h"
#include "mxu_error.h"

/* ---- one instruction ---------------------------------------------------------- */

struct out_buf {
    char *buf;
    size_t len, used;
    int truncated;
};

static void emit(struct out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out_buf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->len - o->used) {
        o->truncated = 1;
        o->used = o->len - 1;
    } else {
        o->used += (size_t)n;
    }
}

static const struct mxu_isa_opcode *opcode_of(const uint64_t insn[MXU_INSN_WORDS])
{
    unsigned op = (unsigned)mxu_insn_get(insn, MXU_F_OP_POS, MXU_F_OP_BITS);
    for (unsigned i = 0; i < mxu_isa_n_opcodes; i++)
        if (mxu_isa_opcodes[i].value == op)
            return &mxu_isa_opcodes[i];
    return NULL;
}

static int has_reserved_bits(const uint64_t insn[MXU_INSN_WORDS])
{
    unsigned op = (unsigned)mxu_insn_get(insn, MXU_F_OP_POS, MXU_F_OP_BITS);
    for (unsigned w = 0; w < MXU_INSN_WORDS; w++)
        if (insn[w] & mxu_isa_reserved[op][w])
            return 1;
    return 0;
}

static void emit_field(struct out_buf *o, const struct mxu_isa_field *f,
                       const uint64_t insn[MXU_INSN_WORDS])
{
    uint64_t v = mxu_insn_get(insn, f->pos, f->bits);
    if (f->opcode == MXU_OP_LOAD && strcmp(f->name, "mem") == 0 && v < 4) {
        emit(o, " mem=%s", asm_mem_names[v]);
    } else if (f->bits == 1) {
        if (v)
            emit(o, " %s", f->name);
    } else if (f->is_signed) {
        int64_t s = mxu_insn_get_signed(insn, f->pos, f->bits);
        if (s)
            emit(o, " %s=%lld", f->name, (long long)s);
    } else if (v >= 65536) {
        emit(o, " %s=0x%llx", f->name, (unsigned long long)v);
    } else if (v) {
        emit(o, " %s=%llu", f->name, (unsigned long long)v);
    }
}

int mxu_disasm_insn(const uint64_t insn[MXU_INSN_WORDS], char *buf, size_t len)
{
    if (!insn || !buf || len == 0)
        return mxu_fail(MXU_ERR_INVAL, "mxu_disasm_insn: no buffer");
    struct out_buf o = {buf, len, 0, 0};
    buf[0] = 0;
    const struct mxu_isa_opcode *op = opcode_of(insn);
    if (!op || has_reserved_bits(insn)) {
        emit(&o, ".insn");
        for (unsigned w = 0; w < MXU_INSN_WORDS; w++)
            emit(&o, " 0x%016llx", (unsigned long long)insn[w]);
    } else {
        for (const char *c = op->name; *c; c++)
            emit(&o, "%c", tolower((unsigned char)*c));
        for (unsigned i = 0; i < mxu_isa_n_fields; i++)
            if (mxu_isa_fields[i].opcode == op->value)
                emit_field(&o, &mxu_isa_fields[i], insn);
    }
    if (o.truncated)
        return mxu_fail(MXU_ERR_INVAL, "mxu_disasm_insn: %zu bytes are too few", len);
    return (int)o.used;
}

/* ---- a whole program -------------------------------------------------------------- */

static int name_is_plain(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.-/:+[]", *s))
            return 0;
    return 1;
}

/* A string the lexer reads back exactly: bare when plain, else quoted. */
static void put_string(FILE *out, const char *s, int force_quotes)
{
    if (!force_quotes && name_is_plain(s)) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (*c < 0x20 || *c >= 0x7F)
                fprintf(out, "\\x%02x", *c);
            else
                fputc(*c, out);
        }
    }
    fputc('"', out);
}

/* Bytes as .byte lines of 16, runs of 16 or more equal bytes as .fill. */
static void put_bytes(FILE *out, const uint8_t *d, uint32_t n)
{
    unsigned in_line = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t run = 1;
        while (i + run < n && run < 16 && d[i + run] == d[i])
            run++;
        if (run == 16) {
            while (i + run < n && d[i + run] == d[i])
                run++;
            if (in_line)
                fputc('\n', out);
            in_line = 0;
            fprintf(out, "    .fill %u 0x%02x\n", run, d[i]);
            i += run;
            continue;
        }
        fprintf(out, "%s0x%02x", in_line ? "," : "    .byte ", d[i++]);
        if (++in_line == 16) {
            fputc('\n', out);
            in_line = 0;
        }
    }
    if (in_line)
        fputc('\n', out);
}

static void put_code(const mxu_program *p, FILE *out)
{
    int code;
    long bad = asm_check_code(p, &code);
    if (bad >= 0) {
        const char *name = "?";
        for (unsigned i = 0; i < mxu_isa_n_errors; i++)
            if ((int)mxu_isa_errors[i].value == code)
                name = mxu_isa_errors[i].name;
        fprintf(out, ".allow_invalid ; instruction %ld: %s\n", bad, name);
    }
    uint32_t next_layer = 0;
    for (uint32_t i = 0; i < p->n_insns; i++) {
        char line[400];
        while (next_layer < p->n_layers && (!p->layers[next_layer].code_count ||
                                            p->layers[next_layer].code_first < i))
            next_layer++;
        if (next_layer < p->n_layers && p->layers[next_layer].code_first == i) {
            const mxu_layer *l = &p->layers[next_layer];
            fprintf(out, "; ---- layer %u ", next_layer);
            put_string(out, l->name, 1); /* quoted and escaped: stays one comment line */
            fprintf(out, " (%s): instructions %u..%u\n", mxu_layer_op_name(l->op), i,
                    i + l->code_count - 1);
        }
        mxu_disasm_insn(p->insns[i], line, sizeof line);
        fprintf(out, "%-64s ; %u\n", line, i);
    }
}

static void put_tensor(const mxu_tensor *t, FILE *out)
{
    fputs(".tensor ", out);
    put_string(out, t->name, 0);
    fprintf(out, " %s %s %s ",
            t->role < 4 ? asm_role_names[t->role] : "?",
            t->dtype < 3 ? asm_dtype_names[t->dtype] : "?",
            t->layout < 3 ? asm_layout_names[t->layout] : "?");
    for (uint32_t d = 0; d < t->ndims && d < MXU_MAX_DIMS; d++)
        fprintf(out, "%s%u", d ? "x" : "", t->dims[d]);
    fprintf(out, " @0x%x scale=%.9g zp=%d\n", t->dram_addr, (double)t->scale, t->zero_point);
}

static void put_tensor_ref(const mxu_program *p, FILE *out, const char *key, uint32_t idx)
{
    fprintf(out, " %s=", key);
    put_string(out, idx < p->n_tensors ? p->tensors[idx].name : "?", 0);
}

static void put_layer(const mxu_program *p, const mxu_layer *l, FILE *out)
{
    fprintf(out, ".layer %s ", l->op < MXU_LAYER_OP_LIMIT ? asm_op_names[l->op] : "?");
    put_string(out, l->name, 0);
    put_tensor_ref(p, out, "in", l->input);
    if (l->input2 != MXU_NONE)
        put_tensor_ref(p, out, "in2", l->input2);
    put_tensor_ref(p, out, "out", l->output);
    fprintf(out, " cout=%u kh=%u kw=%u stride=%u,%u dil=%u,%u groups=%u pad=%u,%u,%u,%u", l->cout,
            l->kh, l->kw, l->stride_h, l->stride_w, l->dil_h, l->dil_w, l->groups, l->pad_top,
            l->pad_left, l->pad_bottom, l->pad_right);
    fprintf(out, " act_min=%d act_max=%d pool=%u,%u flags=%u", l->act_min, l->act_max, l->pool_k,
            l->pool_s, l->flags);
    const char *keys[] = {"weights", "bias", "multiplier", "shift", "lut", "add_params"};
    const uint32_t offs[] = {l->weights, l->bias, l->multiplier, l->shift, l->lut, l->add_params};
    for (int i = 0; i < 6; i++)
        if (offs[i] != MXU_NONE)
            fprintf(out, " %s=@%u", keys[i], offs[i]);
    if (l->code_count)
        fprintf(out, " code=%u,%u", l->code_first, l->code_count);
    fputc('\n', out);
}

static void put_metadata(const char *m, FILE *out)
{
    while (*m) {
        const char *nl = strchr(m, '\n');
        size_t n = nl ? (size_t)(nl - m) + 1 : strlen(m);
        char piece[1024];
        if (n >= sizeof piece)
            n = sizeof piece - 1;
        memcpy(piece, m, n);
        piece[n] = 0;
        fputs(".meta ", out);
        put_string(out, piece, 1);
        fputc('\n', out);
        m += n;
    }
}

int mxu_disasm_program(const mxu_program *p, FILE *out)
{
    if (!p || !out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_disasm_program: NULL argument");
    char cfg[512];
    mxu_config_format(&p->config, cfg, sizeof cfg);
    fprintf(out, "; mxu program: %u instructions, %u segments, %u tensors, %u layers\n",
            p->n_insns, p->n_segments, p->n_tensors, p->n_layers);
    fprintf(out, ".config %s\n.code 0x%x\n", cfg, p->code_addr);
    put_code(p, out);
    for (uint32_t i = 0; i < p->n_segments; i++) {
        const mxu_segment *s = &p->segments[i];
        fputs(".segment ", out);
        put_string(out, s->name, 0);
        fprintf(out, " 0x%x ; %u bytes\n", s->dram_addr, s->bytes);
        put_bytes(out, s->data, s->bytes);
    }
    for (uint32_t i = 0; i < p->n_tensors; i++)
        put_tensor(&p->tensors[i], out);
    if (p->host_blob_bytes) {
        fprintf(out, ".hostblob ; %u bytes\n", p->host_blob_bytes);
        put_bytes(out, p->host_blob, p->host_blob_bytes);
    }
    for (uint32_t i = 0; i < p->n_layers; i++)
        put_layer(p, &p->layers[i], out);
    if (p->metadata) {
        if (!*p->metadata)
            fputs(".meta \"\"\n", out);
        put_metadata(p->metadata, out);
    }
    if (fflush(out) != 0 || ferror(out))
        return mxu_fail(MXU_ERR_IO, "disassembly: write failed");
    return MXU_OK;
}
