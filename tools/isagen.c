/* isagen: turn isa/mxu.isa into the C header/table and the Verilog include.
 *
 *   isagen SPEC OUT_H OUT_C OUT_VH [OUT_MD]
 *
 * The spec is the single source of truth for the instruction encoding, the
 * CSR map, the error codes and the default configuration.  The generator
 * checks it (overlapping fields, fields crossing a 64-bit word, duplicate
 * names) so a mistake in the spec fails the build instead of the silicon. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ITEMS 512
#define MAX_OPS 16
#define TEXT_LEN 160
#define NAME_LEN 40

enum item_kind { K_OPCODE, K_FIELD, K_ENUM, K_CSR, K_COUNTER, K_ERROR, K_PARAM };

struct item {
    enum item_kind kind;
    char group[NAME_LEN]; /* opcode name for fields, enum group, queue for opcodes */
    char name[NAME_LEN];
    unsigned long long value; /* value/offset/lsb */
    unsigned msb;
    int is_signed;
    char access[4];
    char text[TEXT_LEN];
    int line;
};

static struct item items[MAX_ITEMS];
static int n_items;
static int ver_major = -1, ver_minor = -1, insn_bits = 0;
static const char *spec_path;

static void fail(int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", spec_path, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Split a line into at most max tokens; a token in double quotes keeps its spaces. */
static int tokenize(char *s, char **tok, int max, int line)
{
    int n = 0;
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s || *s == '#')
            break;
        if (n == max)
            fail(line, "too many words");
        if (*s == '"') {
            tok[n++] = ++s;
            char *end = strchr(s, '"');
            if (!end)
                fail(line, "unterminated string");
            *end = 0;
            s = end + 1;
        } else {
            tok[n++] = s;
            while (*s && !isspace((unsigned char)*s))
                s++;
            if (*s)
                *s++ = 0;
        }
    }
    return n;
}

static unsigned long long parse_num(const char *s, int line)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || end == s)
        fail(line, "bad number '%s'", s);
    return v;
}

static void copy_name(char *dst, const char *src, int line)
{
    if (strlen(src) >= NAME_LEN)
        fail(line, "name too long: %s", src);
    strcpy(dst, src);
}

static struct item *new_item(enum item_kind kind, int line)
{
    if (n_items == MAX_ITEMS)
        fail(line, "too many items");
    struct item *it = &items[n_items++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->line = line;
    return it;
}

static const struct item *find_opcode(const char *name)
{
    for (int i = 0; i < n_items; i++)
        if (items[i].kind == K_OPCODE && !strcmp(items[i].name, name))
            return &items[i];
    return NULL;
}

static void parse_line(char *buf, int line)
{
    char *t[8];
    int n = tokenize(buf, t, 8, line);
    if (n == 0)
        return;
    if (!strcmp(t[0], "version") && n == 3) {
        ver_major = (int)parse_num(t[1], line);
        ver_minor = (int)parse_num(t[2], line);
    } else if (!strcmp(t[0], "insn_bits") && n == 2) {
        insn_bits = (int)parse_num(t[1], line);
        if (insn_bits <= 0 || insn_bits % 64)
            fail(line, "insn_bits must be a positive multiple of 64");
    } else if (!strcmp(t[0], "opcode") && n == 5) {
        struct item *it = new_item(K_OPCODE, line);
        copy_name(it->name, t[1], line);
        it->value = parse_num(t[2], line);
        if (it->value == 0 || it->value >= MAX_OPS)
            fail(line, "opcode value must be 1..%d", MAX_OPS - 1);
        if (strcmp(t[3], "load") && strcmp(t[3], "compute") && strcmp(t[3], "store") &&
            strcmp(t[3], "none"))
            fail(line, "queue must be load, compute, store or none");
        copy_name(it->group, t[3], line);
        snprintf(it->text, TEXT_LEN, "%s", t[4]);
    } else if (!strcmp(t[0], "field") && n == 7) {
        struct item *it = new_item(K_FIELD, line);
        if (!find_opcode(t[1]))
            fail(line, "field of unknown opcode %s", t[1]);
        copy_name(it->group, t[1], line);
        copy_name(it->name, t[2], line);
        it->msb = (unsigned)parse_num(t[3], line);
        it->value = parse_num(t[4], line);
        if (strcmp(t[5], "u") && strcmp(t[5], "s"))
            fail(line, "signedness must be u or s");
        it->is_signed = t[5][0] == 's';
        snprintf(it->text, TEXT_LEN, "%s", t[6]);
    } else if (!strcmp(t[0], "enum") && n == 5) {
        struct item *it = new_item(K_ENUM, line);
        copy_name(it->group, t[1], line);
        copy_name(it->name, t[2], line);
        it->value = parse_num(t[3], line);
        snprintf(it->text, TEXT_LEN, "%s", t[4]);
    } else if (!strcmp(t[0], "csr") && n == 5) {
        struct item *it = new_item(K_CSR, line);
        copy_name(it->name, t[1], line);
        it->value = parse_num(t[2], line);
        if (strcmp(t[3], "ro") && strcmp(t[3], "rw") && strcmp(t[3], "wo"))
            fail(line, "access must be ro, rw or wo");
        snprintf(it->access, sizeof it->access, "%s", t[3]);
        snprintf(it->text, TEXT_LEN, "%s", t[4]);
    } else if (!strcmp(t[0], "counter") && n == 4) {
        struct item *it = new_item(K_COUNTER, line);
        copy_name(it->name, t[1], line);
        it->value = parse_num(t[2], line);
        snprintf(it->text, TEXT_LEN, "%s", t[3]);
    } else if (!strcmp(t[0], "error") && n == 4) {
        struct item *it = new_item(K_ERROR, line);
        copy_name(it->name, t[1], line);
        it->value = parse_num(t[2], line);
        snprintf(it->text, TEXT_LEN, "%s", t[3]);
    } else if (!strcmp(t[0], "param") && n == 4) {
        struct item *it = new_item(K_PARAM, line);
        copy_name(it->name, t[1], line);
        it->value = parse_num(t[2], line);
        snprintf(it->text, TEXT_LEN, "%s", t[3]);
    } else {
        fail(line, "cannot parse '%s' (%d words)", t[0], n);
    }
}

/* Reserved-bit mask of one opcode: every bit no field names (and not the opcode). */
static void reserved_mask(const char *op, uint64_t *mask, int words)
{
    for (int w = 0; w < words; w++)
        mask[w] = ~0ull;
    mask[0] &= ~0xFull;
    for (int i = 0; i < n_items; i++) {
        const struct item *f = &items[i];
        if (f->kind != K_FIELD || strcmp(f->group, op))
            continue;
        for (unsigned b = (unsigned)f->value; b <= f->msb; b++)
            mask[b / 64] &= ~(1ull << (b % 64));
    }
}

static void check_spec(void)
{
    if (ver_major < 0 || insn_bits == 0)
        fail(0, "missing version or insn_bits");
    for (int i = 0; i < n_items; i++) {
        const struct item *a = &items[i];
        if (a->kind == K_FIELD) {
            if (a->msb < a->value || a->msb >= (unsigned)insn_bits)
                fail(a->line, "field %s.%s: bad bit range", a->group, a->name);
            if (a->value / 64 != a->msb / 64)
                fail(a->line, "field %s.%s crosses a 64-bit word", a->group, a->name);
            if (a->value < 4)
                fail(a->line, "field %s.%s overlaps the opcode", a->group, a->name);
            if (a->msb - a->value + 1 > 32)
                fail(a->line, "field %s.%s wider than 32 bits", a->group, a->name);
        }
        if ((a->kind == K_CSR || a->kind == K_COUNTER) && (a->value % 4 || a->value > 0xFFC))
            fail(a->line, "register %s: offset must be word aligned below 0x1000", a->name);
        for (int j = 0; j < i; j++) {
            const struct item *b = &items[j];
            if (a->kind == K_FIELD && b->kind == K_FIELD && !strcmp(a->group, b->group)) {
                if (!strcmp(a->name, b->name))
                    fail(a->line, "duplicate field %s.%s", a->group, a->name);
                if (a->value <= b->msb && b->value <= a->msb)
                    fail(a->line, "field %s.%s overlaps %s", a->group, a->name, b->name);
            }
            int regs = (a->kind == K_CSR || a->kind == K_COUNTER) &&
                       (b->kind == K_CSR || b->kind == K_COUNTER);
            if (regs) {
                unsigned long long ae = a->value + (a->kind == K_COUNTER ? 8 : 4);
                unsigned long long be = b->value + (b->kind == K_COUNTER ? 8 : 4);
                if (a->value < be && b->value < ae)
                    fail(a->line, "register %s overlaps %s", a->name, b->name);
            }
            if (a->kind == b->kind && a->kind != K_FIELD && !strcmp(a->name, b->name) &&
                !strcmp(a->group, b->group))
                fail(a->line, "duplicate name %s", a->name);
            if (a->kind == b->kind && (a->kind == K_OPCODE || a->kind == K_ERROR) &&
                a->value == b->value)
                fail(a->line, "duplicate value for %s and %s", a->name, b->name);
        }
    }
}

static void upper(char *dst, const char *src)
{
    while ((*dst++ = (char)toupper((unsigned char)*src++)))
        ;
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "isagen: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

static void close_out(FILE *f, const char *path)
{
    if (ferror(f) || fclose(f)) {
        fprintf(stderr, "isagen: error writing %s\n", path);
        exit(1);
    }
}

static void emit_c_header(const char *path)
{
    FILE *f = open_out(path);
    int words = insn_bits / 64;
    char U[NAME_LEN], G[NAME_LEN];
    fprintf(f, "/* Generated by tools/isagen from isa/mxu.isa. Do not edit. */\n"
               "#ifndef MXU_ISA_H\n#define MXU_ISA_H\n\n#include <stdint.h>\n\n");
    fprintf(f, "#define MXU_ISA_VERSION_MAJOR %d\n#define MXU_ISA_VERSION_MINOR %d\n", ver_major,
            ver_minor);
    fprintf(f, "#define MXU_INSN_BITS %d\n#define MXU_INSN_BYTES %d\n#define MXU_INSN_WORDS %d\n\n",
            insn_bits, insn_bits / 8, words);
    fprintf(f, "/* Opcodes (bits 3:0 of every instruction). */\n#define MXU_F_OP_POS 0\n"
               "#define MXU_F_OP_BITS 4\n");
    for (int i = 0; i < n_items; i++)
        if (items[i].kind == K_OPCODE)
            fprintf(f, "#define MXU_OP_%s %llu\n", items[i].name, items[i].value);
    fprintf(f, "#define MXU_OP_LIMIT %d\n\n", MAX_OPS);
    fprintf(f, "/* Instruction fields: bit position and width within the instruction. */\n");
    for (int i = 0; i < n_items; i++) {
        const struct item *it = &items[i];
        if (it->kind != K_FIELD)
            continue;
        upper(U, it->name);
        fprintf(f, "#define MXU_F_%s_%s_POS %llu\n#define MXU_F_%s_%s_BITS %llu\n", it->group, U,
                it->value, it->group, U, it->msb - it->value + 1);
    }
    fprintf(f, "\n");
    for (int i = 0; i < n_items; i++) {
        const struct item *it = &items[i];
        if (it->kind == K_ENUM) {
            upper(G, it->group);
            fprintf(f, "#define MXU_%s_%s 0x%llXu /* %s */\n", G, it->name, it->value, it->text);
        } else if (it->kind == K_PARAM) {
            fprintf(f, "#define MXU_DEFAULT_%s %lluu /* %s */\n", it->name, it->value, it->text);
        } else if (it->kind == K_CSR) {
            fprintf(f, "#define MXU_CSR_%s 0x%03llXu /* %s */\n", it->name, it->value, it->text);
        } else if (it->kind == K_COUNTER) {
            fprintf(f, "#define MXU_CNT_%s 0x%03llXu /* %s */\n", it->name, it->value, it->text);
        } else if (it->kind == K_ERROR) {
            fprintf(f, "#define MXU_DEVERR_%s %llu /* %s */\n", it->name, it->value, it->text);
        }
    }
    fprintf(f,
            "\n/* Tables for assemblers, disassemblers, decoders and tools. */\n"
            "enum mxu_queue { MXU_QUEUE_NONE, MXU_QUEUE_LOAD, MXU_QUEUE_COMPUTE, MXU_QUEUE_STORE };\n"
            "struct mxu_isa_opcode { const char *name; unsigned value; enum mxu_queue queue;"
            " const char *text; };\n"
            "struct mxu_isa_field { unsigned opcode; const char *name; unsigned pos, bits;"
            " int is_signed; const char *text; };\n"
            "struct mxu_isa_reg { const char *name; unsigned offset; int is_counter;"
            " const char *access; const char *text; };\n"
            "struct mxu_isa_error { const char *name; unsigned value; const char *text; };\n"
            "extern const struct mxu_isa_opcode mxu_isa_opcodes[];\n"
            "extern const unsigned mxu_isa_n_opcodes;\n"
            "extern const struct mxu_isa_field mxu_isa_fields[];\n"
            "extern const unsigned mxu_isa_n_fields;\n"
            "extern const struct mxu_isa_reg mxu_isa_regs[];\n"
            "extern const unsigned mxu_isa_n_regs;\n"
            "extern const struct mxu_isa_error mxu_isa_errors[];\n"
            "extern const unsigned mxu_isa_n_errors;\n"
            "/* Reserved bits per opcode (index = opcode value); all-ones for unknown opcodes. */\n"
            "extern const uint64_t mxu_isa_reserved[MXU_OP_LIMIT][MXU_INSN_WORDS];\n\n");
    fprintf(f, "static inline uint64_t mxu_insn_get(const uint64_t *w, unsigned pos, unsigned bits)\n"
               "{\n    return (w[pos / 64] >> (pos %% 64)) & ((1ull << bits) - 1);\n}\n\n"
               "static inline int64_t mxu_insn_get_signed(const uint64_t *w, unsigned pos,"
               " unsigned bits)\n{\n    uint64_t v = mxu_insn_get(w, pos, bits);\n"
               "    uint64_t sign = 1ull << (bits - 1);\n    return (int64_t)(v ^ sign) -"
               " (int64_t)sign;\n}\n\n"
               "static inline void mxu_insn_set(uint64_t *w, unsigned pos, unsigned bits,"
               " uint64_t v)\n{\n    uint64_t m = ((1ull << bits) - 1) << (pos %% 64);\n"
               "    w[pos / 64] = (w[pos / 64] & ~m) | ((v << (pos %% 64)) & m);\n}\n\n"
               "/* MXU_GET(w, LOAD, N0) reads field n0 of a LOAD. */\n"
               "#define MXU_GET(w, OP, F) mxu_insn_get((w), MXU_F_##OP##_##F##_POS,"
               " MXU_F_##OP##_##F##_BITS)\n"
               "#define MXU_GETS(w, OP, F) mxu_insn_get_signed((w), MXU_F_##OP##_##F##_POS,"
               " MXU_F_##OP##_##F##_BITS)\n"
               "#define MXU_SET(w, OP, F, v) mxu_insn_set((w), MXU_F_##OP##_##F##_POS,"
               " MXU_F_##OP##_##F##_BITS, (uint64_t)(v))\n\n#endif\n");
    close_out(f, path);
}

static const char *queue_enum(const char *q)
{
    if (!strcmp(q, "load"))
        return "MXU_QUEUE_LOAD";
    if (!strcmp(q, "compute"))
        return "MXU_QUEUE_COMPUTE";
    if (!strcmp(q, "store"))
        return "MXU_QUEUE_STORE";
    return "MXU_QUEUE_NONE";
}

static void emit_c_tables(const char *path, const char *header_name)
{
    FILE *f = open_out(path);
    int words = insn_bits / 64;
    unsigned n_ops = 0, n_fields = 0, n_regs = 0, n_errs = 0;
    fprintf(f, "/* Generated by tools/isagen from isa/mxu.isa. Do not edit. */\n#include \"%s\"\n\n",
            header_name);
    fprintf(f, "const struct mxu_isa_opcode mxu_isa_opcodes[] = {\n");
    for (int i = 0; i < n_items; i++)
        if (items[i].kind == K_OPCODE) {
            fprintf(f, "    {\"%s\", %llu, %s, \"%s\"},\n", items[i].name, items[i].value,
                    queue_enum(items[i].group), items[i].text);
            n_ops++;
        }
    fprintf(f, "};\nconst unsigned mxu_isa_n_opcodes = %u;\n\n", n_ops);
    fprintf(f, "const struct mxu_isa_field mxu_isa_fields[] = {\n");
    for (int i = 0; i < n_items; i++)
        if (items[i].kind == K_FIELD) {
            const struct item *it = &items[i];
            fprintf(f, "    {MXU_OP_%s, \"%s\", %llu, %llu, %d, \"%s\"},\n", it->group, it->name,
                    it->value, it->msb - it->value + 1, it->is_signed, it->text);
            n_fields++;
        }
    fprintf(f, "};\nconst unsigned mxu_isa_n_fields = %u;\n\n", n_fields);
    fprintf(f, "const struct mxu_isa_reg mxu_isa_regs[] = {\n");
    for (int i = 0; i < n_items; i++)
        if (items[i].kind == K_CSR || items[i].kind == K_COUNTER) {
            const struct item *it = &items[i];
            fprintf(f, "    {\"%s\", 0x%03llX, %d, \"%s\", \"%s\"},\n", it->name, it->value,
                    it->kind == K_COUNTER, it->kind == K_COUNTER ? "ro" : it->access, it->text);
            n_regs++;
        }
    fprintf(f, "};\nconst unsigned mxu_isa_n_regs = %u;\n\n", n_regs);
    fprintf(f, "const struct mxu_isa_error mxu_isa_errors[] = {\n");
    for (int i = 0; i < n_items; i++)
        if (items[i].kind == K_ERROR) {
            fprintf(f, "    {\"%s\", %llu, \"%s\"},\n", items[i].name, items[i].value,
                    items[i].text);
            n_errs++;
        }
    fprintf(f, "};\nconst unsigned mxu_isa_n_errors = %u;\n\n", n_errs);
    fprintf(f, "const uint64_t mxu_isa_reserved[MXU_OP_LIMIT][MXU_INSN_WORDS] = {\n");
    for (unsigned v = 0; v < MAX_OPS; v++) {
        uint64_t mask[8];
        for (int w = 0; w < words; w++)
            mask[w] = ~0ull;
        for (int i = 0; i < n_items; i++)
            if (items[i].kind == K_OPCODE && items[i].value == v)
                reserved_mask(items[i].name, mask, words);
        fprintf(f, "    {");
        for (int w = 0; w < words; w++)
            fprintf(f, "0x%016llXull%s", (unsigned long long)mask[w], w + 1 < words ? ", " : "");
        fprintf(f, "},\n");
    }
    fprintf(f, "};\n");
    close_out(f, path);
}

static void emit_verilog(const char *path)
{
    FILE *f = open_out(path);
    int words = insn_bits / 64;
    char U[NAME_LEN], G[NAME_LEN];
    fprintf(f, "// Generated by tools/isagen from isa/mxu.isa. Do not edit.\n"
               "`ifndef MXU_ISA_VH\n`define MXU_ISA_VH\n\n");
    fprintf(f, "`define MXU_ISA_VERSION 32'h%04X%04X\n`define MXU_INSN_BITS %d\n"
               "`define MXU_INSN_BYTES %d\n`define MXU_F_OP 3:0\n",
            ver_major, ver_minor, insn_bits, insn_bits / 8);
    for (int i = 0; i < n_items; i++) {
        const struct item *it = &items[i];
        switch (it->kind) {
        case K_OPCODE:
            fprintf(f, "`define MXU_OP_%s 4'd%llu\n", it->name, it->value);
            break;
        case K_FIELD:
            upper(U, it->name);
            fprintf(f, "`define MXU_F_%s_%s %u:%llu\n", it->group, U, it->msb, it->value);
            break;
        case K_ENUM:
            upper(G, it->group);
            fprintf(f, "`define MXU_%s_%s %llu\n", G, it->name, it->value);
            break;
        case K_PARAM:
            fprintf(f, "`define MXU_DEFAULT_%s %llu\n", it->name, it->value);
            break;
        case K_CSR:
            fprintf(f, "`define MXU_CSR_%s 12'h%03llX\n", it->name, it->value);
            break;
        case K_COUNTER:
            fprintf(f, "`define MXU_CNT_%s 12'h%03llX\n", it->name, it->value);
            break;
        case K_ERROR:
            fprintf(f, "`define MXU_ERR_%s 8'd%llu\n", it->name, it->value);
            break;
        }
    }
    for (int i = 0; i < n_items; i++) {
        if (items[i].kind != K_OPCODE)
            continue;
        uint64_t mask[8];
        reserved_mask(items[i].name, mask, words);
        fprintf(f, "`define MXU_RSVD_%s %d'h", items[i].name, insn_bits);
        for (int w = words - 1; w >= 0; w--)
            fprintf(f, "%016llX%s", (unsigned long long)mask[w], w ? "_" : "");
        fprintf(f, "\n");
    }
    fprintf(f, "\n`endif\n");
    close_out(f, path);
}

static void emit_markdown(const char *path)
{
    FILE *f = open_out(path);
    fprintf(f, "<!-- Generated by tools/isagen from isa/mxu.isa. Do not edit. -->\n");
    for (int i = 0; i < n_items; i++) {
        const struct item *op = &items[i];
        if (op->kind != K_OPCODE)
            continue;
        fprintf(f, "\n### %s (opcode %llu, %s queue)\n\n%s.\n\n| bits | field | |\n|---|---|---|\n",
                op->name, op->value, op->group, op->text);
        fprintf(f, "| 3:0 | opcode | %llu |\n", op->value);
        for (int j = 0; j < n_items; j++) {
            const struct item *it = &items[j];
            if (it->kind == K_FIELD && !strcmp(it->group, op->name))
                fprintf(f, "| %u:%llu | `%s`%s | %s |\n", it->msb, it->value, it->name,
                        it->is_signed ? " (signed)" : "", it->text);
        }
    }
    fprintf(f, "\n### CSRs\n\n| offset | name | access | |\n|---|---|---|---|\n");
    for (int i = 0; i < n_items; i++) {
        const struct item *it = &items[i];
        if (it->kind == K_CSR)
            fprintf(f, "| 0x%03llX | %s | %s | %s |\n", it->value, it->name, it->access, it->text);
        else if (it->kind == K_COUNTER)
            fprintf(f, "| 0x%03llX | %s_LO/_HI | ro | %s (64-bit) |\n", it->value, it->name,
                    it->text);
    }
    fprintf(f, "\n### Error codes\n\n| code | name | meaning |\n|---|---|---|\n");
    for (int i = 0; i < n_items; i++)
        if (items[i].kind == K_ERROR)
            fprintf(f, "| %llu | %s | %s |\n", items[i].value, items[i].name, items[i].text);
    close_out(f, path);
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: isagen SPEC OUT_H OUT_C OUT_VH [OUT_MD]\n");
        return 2;
    }
    spec_path = argv[1];
    FILE *in = fopen(spec_path, "r");
    if (!in) {
        fprintf(stderr, "isagen: cannot read %s: %s\n", spec_path, strerror(errno));
        return 1;
    }
    char buf[512];
    for (int line = 1; fgets(buf, sizeof buf, in); line++) {
        if (!strchr(buf, '\n') && !feof(in))
            fail(line, "line too long");
        parse_line(buf, line);
    }
    fclose(in);
    check_spec();
    const char *hname = strrchr(argv[2], '/');
    emit_c_header(argv[2]);
    emit_c_tables(argv[3], hname ? hname + 1 : argv[2]);
    emit_verilog(argv[4]);
    if (argc == 6)
        emit_markdown(argv[5]);
    return 0;
}
