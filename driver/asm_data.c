/* Assembler data directives: .segment, .byte/.i8/.i16/.i32, .random, .fill,
 * .hostblob. Data goes to the current segment or to the host blob. */
#include <stdlib.h>
#include <string.h>

#include "asm_priv.h"
#include "mxu_error.h"

/* Make room for `more` bytes at the current target; returns where they go. */
static int reserve(struct asm_ctx *a, uint64_t more, int col, uint8_t **where)
{
    mxu_program *p = a->p;
    if (a->target == ASM_TARGET_SEGMENT) {
        uint64_t need = a->seg_len + more;
        if (need > p->config.dram_bytes)
            return asm_error(a, col, "segment '%s' would grow to %llu bytes, past DRAM (%u bytes)",
                             a->seg_name, (unsigned long long)need, p->config.dram_bytes);
        if (need > a->seg_cap) {
            size_t cap = a->seg_cap ? a->seg_cap : 256;
            while (cap < need)
                cap *= 2;
            uint8_t *d = realloc(a->seg_data, cap);
            if (!d)
                return mxu_fail(MXU_ERR_NOMEM, "assembler: out of memory");
            a->seg_data = d;
            a->seg_cap = cap;
        }
        *where = a->seg_data + a->seg_len;
        a->seg_len = (size_t)need;
        return MXU_OK;
    }
    if (a->target == ASM_TARGET_BLOB) {
        uint64_t need = (uint64_t)p->host_blob_bytes + more;
        if (need > UINT32_MAX - 8u)
            return asm_error(a, col, "the host blob would exceed 4 GiB");
        uint8_t *d = realloc(p->host_blob, need ? (size_t)need : 1);
        if (!d)
            return mxu_fail(MXU_ERR_NOMEM, "assembler: out of memory");
        p->host_blob = d;
        *where = d + p->host_blob_bytes;
        p->host_blob_bytes = (uint32_t)need;
        return MXU_OK;
    }
    return asm_error(a, col, "data outside a .segment or .hostblob");
}

int asm_check_overlap(struct asm_ctx *a, const char *name, uint32_t addr, uint64_t bytes, int col)
{
    const mxu_program *p = a->p;
    uint64_t end = addr + bytes;
    if (end > p->config.dram_bytes)
        return asm_error(a, col, "segment '%s' [0x%x, 0x%llx) is outside DRAM (%u bytes)", name,
                         addr, (unsigned long long)end, p->config.dram_bytes);
    for (uint32_t i = 0; i < p->n_segments; i++) {
        const mxu_segment *s = &p->segments[i];
        if (addr < (uint64_t)s->dram_addr + s->bytes && s->dram_addr < end)
            return asm_error(a, col, "segment '%s' [0x%x, 0x%llx) overlaps segment '%s' [0x%x, 0x%llx)",
                             name, addr, (unsigned long long)end, s->name, s->dram_addr,
                             (unsigned long long)s->dram_addr + s->bytes);
    }
    return MXU_OK;
}

int asm_flush_segment(struct asm_ctx *a)
{
    if (a->target != ASM_TARGET_SEGMENT)
        return MXU_OK;
    a->target = ASM_TARGET_NONE;
    if (a->seg_len == 0) {
        a->line = a->seg_line;
        return asm_error(a, 1, "segment '%s' has no data", a->seg_name);
    }
    int line = a->line;
    a->line = a->seg_line;
    int rc = asm_check_overlap(a, a->seg_name, a->seg_addr, a->seg_len, 1);
    if (!rc && mxu_program_add_segment(a->p, a->seg_name, a->seg_addr, a->seg_data,
                                       (uint32_t)a->seg_len) != MXU_OK)
        rc = asm_error(a, 1, "%s", mxu_error_detail());
    a->seg_len = 0;
    if (!rc)
        a->line = line;
    return rc;
}

/* "@ADDR" or "ADDR", a DRAM byte address. */
static int parse_addr(struct asm_ctx *a, const struct asm_tok *t, const char *what, uint32_t *addr)
{
    const char *s = t->text[0] == '@' ? t->text + 1 : t->text;
    int64_t v;
    int rc = asm_int(a, s, t->col, 0, UINT32_MAX, what, &v);
    if (!rc)
        *addr = (uint32_t)v;
    return rc;
}

int asm_dir_segment(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n != 3)
        return asm_error(a, l->tok[0].col, ".segment takes NAME ADDR");
    int rc = asm_flush_segment(a);
    if (rc)
        return rc;
    rc = asm_name(a, &l->tok[1], "segment", a->seg_name);
    if (!rc)
        rc = parse_addr(a, &l->tok[2], "segment address", &a->seg_addr);
    if (rc)
        return rc;
    a->target = ASM_TARGET_SEGMENT;
    a->seg_line = a->line;
    a->seg_len = 0;
    return MXU_OK;
}

int asm_dir_hostblob(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n != 1)
        return asm_error(a, l->tok[1].col, ".hostblob takes no arguments");
    int rc = asm_flush_segment(a);
    if (!rc)
        a->target = ASM_TARGET_BLOB;
    return rc;
}

/* .byte/.i8 (1), .i16 (2), .i32 (4): values from -2^(8n-1) to 2^(8n)-1,
 * little-endian, separated by spaces and/or commas. */
int asm_dir_data(struct asm_ctx *a, const struct asm_line *l, int width)
{
    const char *what = l->tok[0].text;
    int64_t lo = -((int64_t)1 << (8 * width - 1)), hi = ((int64_t)1 << (8 * width)) - 1;
    if (l->n < 2)
        return asm_error(a, l->tok[0].col, "%s needs at least one value", what);
    for (int i = 1; i < l->n; i++) {
        const char *s = l->tok[i].text;
        int col = l->tok[i].col;
        while (*s) {
            const char *comma = strchr(s, ',');
            size_t n = comma ? (size_t)(comma - s) : strlen(s);
            char num[72];
            if (n == 0 || n >= sizeof num)
                return asm_error(a, col, "%s: expected a value", what);
            memcpy(num, s, n);
            num[n] = 0;
            int64_t v;
            uint8_t *dst;
            int rc = asm_int(a, num, col, lo, hi, what, &v);
            if (!rc)
                rc = reserve(a, (uint64_t)width, col, &dst);
            if (rc)
                return rc;
            for (int b = 0; b < width; b++)
                dst[b] = (uint8_t)((uint64_t)v >> (8 * b));
            s += n + (comma != NULL);
            col += (int)n + 1;
        }
    }
    return MXU_OK;
}

static int byte_count(struct asm_ctx *a, const struct asm_tok *t, uint64_t *n)
{
    int64_t v;
    int rc = asm_int(a, t->text, t->col, 1, UINT32_MAX, "byte count", &v);
    if (!rc)
        *n = (uint64_t)v;
    return rc;
}

int asm_dir_random(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n != 3 && l->n != 5)
        return asm_error(a, l->tok[0].col, ".random takes BYTES SEED [MIN MAX]");
    uint64_t n;
    int64_t seed, lo = -128, hi = 127;
    int rc = byte_count(a, &l->tok[1], &n);
    if (!rc)
        rc = asm_int(a, l->tok[2].text, l->tok[2].col, INT64_MIN, INT64_MAX, "seed", &seed);
    if (!rc && l->n == 5)
        rc = asm_int(a, l->tok[3].text, l->tok[3].col, -128, 127, "minimum", &lo);
    if (!rc && l->n == 5)
        rc = asm_int(a, l->tok[4].text, l->tok[4].col, lo, 127, "maximum", &hi);
    uint8_t *dst;
    if (!rc)
        rc = reserve(a, n, l->tok[1].col, &dst);
    if (rc)
        return rc;
    uint64_t state = (uint64_t)seed;
    for (uint64_t i = 0; i < n; i++)
        dst[i] = (uint8_t)(int8_t)asm_rand_range(&state, lo, hi);
    return MXU_OK;
}

int asm_dir_fill(struct asm_ctx *a, const struct asm_line *l)
{
    if (l->n != 3)
        return asm_error(a, l->tok[0].col, ".fill takes BYTES VALUE");
    uint64_t n;
    int64_t v;
    uint8_t *dst;
    int rc = byte_count(a, &l->tok[1], &n);
    if (!rc)
        rc = asm_int(a, l->tok[2].text, l->tok[2].col, -128, 255, "fill value", &v);
    if (!rc)
        rc = reserve(a, n, l->tok[1].col, &dst);
    if (!rc)
        memset(dst, (int)(uint8_t)v, (size_t)n);
    return rc;
}
