/* Programs in memory and in .mxp files (docs/program-format.md).
 *
 * The reader is written for hostile input: every length is checked against the
 * bytes that are really there (in 64-bit arithmetic) before it is used, every
 * count is bounded by its section's payload before anything is allocated, and
 * every field and cross-reference is validated, so a program that parses can be
 * loaded and checked against the golden kernels without further checks. The
 * writer runs the same validation, so it never writes a file the reader refuses. */
#include "mxu_program.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h" /* MXU_ADD_PARAMS_COUNT: the size of a layer's add_params */
#include "mxu_crc32.h"
#include "mxu_error.h"

/* ---- file layout constants (docs/program-format.md) ------------------------ */

static const uint8_t mxp_magic[8] = {'M', 'X', 'U', 'P', 'R', 'O', 'G', 0};
#define MXP_FORMAT_MAJOR 2u
#define MXP_FORMAT_MINOR 0u
#define MXP_HEADER_BYTES 24u
#define MXP_SECTION_HEADER_BYTES 8u
#define MXP_CRC_BYTES 4u
#define MXP_ALIGN 8u

enum mxp_section {
    MXP_SEC_CONFIG = 1,
    MXP_SEC_CODE = 2,
    MXP_SEC_SEGMENT = 3,
    MXP_SEC_TENSOR = 4,
    MXP_SEC_LAYER = 5,
    MXP_SEC_HOSTBLOB = 6,
    MXP_SEC_METADATA = 7,
    MXP_SEC_LIMIT = 8,
};

#define MXP_CONFIG_FIELDS 11u
#define MXP_CONFIG_BYTES (4u * MXP_CONFIG_FIELDS)
#define MXP_CODE_HEADER_BYTES 8u
#define MXP_SEGMENT_HEADER_BYTES (MXU_NAME_LEN + 8u)
#define MXP_TABLE_HEADER_BYTES 8u
#define MXP_TENSOR_BYTES (MXU_NAME_LEN + 48u)
#define MXP_LAYER_FIELDS 32u /* 27 fields, a reserved word, the code range, 2 reserved */
#define MXP_LAYER_BYTES (MXU_NAME_LEN + 4u * MXP_LAYER_FIELDS)

static const char *section_name(uint32_t type)
{
    static const char *const names[MXP_SEC_LIMIT] = {
        "?", "CONFIG", "CODE", "SEGMENT", "TENSOR", "LAYER", "HOSTBLOB", "METADATA",
    };
    return type < MXP_SEC_LIMIT ? names[type] : "unknown";
}

/* ---- small helpers ---------------------------------------------------------- */

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

static uint64_t pad8(uint64_t n)
{
    return (n + (MXP_ALIGN - 1)) & ~(uint64_t)(MXP_ALIGN - 1);
}

static uint16_t get_u16(const uint8_t *b)
{
    return (uint16_t)(b[0] | (b[1] << 8));
}

static uint32_t get_u32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get_u64(const uint8_t *b)
{
    return (uint64_t)get_u32(b) | (uint64_t)get_u32(b + 4) << 32;
}

static void put_u16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b + 4, (uint32_t)(v >> 32));
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A name field is valid when it is non-empty and NUL-terminated within
 * MXU_NAME_LEN bytes; in a file it must also be zero after the terminator (so
 * files are canonical; the writer zero-fills, whatever memory holds). */
static const char *name_problem_in(const char *name, int file)
{
    const char *nul = memchr(name, 0, MXU_NAME_LEN);
    if (!nul)
        return "name is not NUL-terminated within 64 bytes";
    if (nul == name)
        return "name is empty";
    for (const char *c = nul; file && c < name + MXU_NAME_LEN; c++)
        if (*c)
            return "name has non-zero bytes after its terminating NUL";
    return NULL;
}

static const char *name_problem(const char *name)
{
    return name_problem_in(name, 0);
}

static int copy_name(char dst[MXU_NAME_LEN], const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n == 0 || n >= MXU_NAME_LEN)
        return mxu_fail(MXU_ERR_INVAL, "name '%s' must have 1 to %d characters",
                        src ? src : "(null)", MXU_NAME_LEN - 1);
    memset(dst, 0, MXU_NAME_LEN);
    memcpy(dst, src, n);
    return MXU_OK;
}

static void update_dram_used(mxu_program *p, uint64_t end)
{
    if (end > p->dram_used)
        p->dram_used = end > UINT32_MAX ? UINT32_MAX : (uint32_t)end;
}

/* ---- allocation helpers ------------------------------------------------------ */

int mxu_program_new(mxu_program **out)
{
    if (!out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_new: out is NULL");
    mxu_program *p = calloc(1, sizeof *p);
    if (!p)
        return mxu_fail(MXU_ERR_NOMEM, "mxu_program_new: out of memory");
    mxu_config_default(&p->config);
    *out = p;
    return MXU_OK;
}

void mxu_program_free(mxu_program *p)
{
    if (!p)
        return;
    free(p->insns);
    for (uint32_t i = 0; i < p->n_segments; i++)
        free(p->segments[i].data);
    free(p->segments);
    free(p->tensors);
    free(p->layers);
    free(p->host_blob);
    free(p->metadata);
    free(p);
}

int mxu_program_add_insn(mxu_program *p, const uint64_t insn[MXU_INSN_WORDS])
{
    if (!p || !insn)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_add_insn: NULL argument");
    if (p->n_insns >= (UINT32_MAX - p->code_addr) / MXU_INSN_BYTES)
        return mxu_fail(MXU_ERR_LIMIT, "program has too many instructions");
    void *grown = realloc(p->insns, ((size_t)p->n_insns + 1) * sizeof *p->insns);
    if (!grown)
        return mxu_fail(MXU_ERR_NOMEM, "out of memory adding instruction %u", p->n_insns);
    p->insns = grown;
    memcpy(p->insns[p->n_insns], insn, sizeof p->insns[0]);
    p->n_insns++;
    update_dram_used(p, (uint64_t)p->code_addr + (uint64_t)p->n_insns * MXU_INSN_BYTES);
    return MXU_OK;
}

int mxu_program_add_segment(mxu_program *p, const char *name, uint32_t dram_addr,
                            const void *data, uint32_t bytes)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_add_segment: program is NULL");
    if (bytes == 0)
        return mxu_fail(MXU_ERR_INVAL, "segment '%s' is empty", name ? name : "(null)");
    mxu_segment seg;
    int rc = copy_name(seg.name, name);
    if (rc)
        return rc;
    seg.dram_addr = dram_addr;
    seg.bytes = bytes;
    seg.data = malloc(bytes);
    if (!seg.data)
        return mxu_fail(MXU_ERR_NOMEM, "out of memory for segment '%s' (%u bytes)", name, bytes);
    if (data)
        memcpy(seg.data, data, bytes);
    else
        memset(seg.data, 0, bytes);
    mxu_segment *grown = realloc(p->segments, ((size_t)p->n_segments + 1) * sizeof *grown);
    if (!grown) {
        free(seg.data);
        return mxu_fail(MXU_ERR_NOMEM, "out of memory adding segment '%s'", name);
    }
    p->segments = grown;
    p->segments[p->n_segments++] = seg;
    update_dram_used(p, (uint64_t)dram_addr + bytes);
    return MXU_OK;
}

int mxu_program_add_tensor(mxu_program *p, const mxu_tensor *t, uint32_t *index)
{
    if (!p || !t)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_add_tensor: NULL argument");
    const char *why = name_problem(t->name);
    if (why)
        return mxu_fail(MXU_ERR_INVAL, "tensor %u: %s", p->n_tensors, why);
    uint32_t existing;
    if (mxu_program_find_tensor(p, t->name, &existing) == MXU_OK)
        return mxu_fail(MXU_ERR_INVAL, "tensor '%s' is already defined (index %u)", t->name,
                        existing);
    mxu_clear_error();
    mxu_tensor *grown = realloc(p->tensors, ((size_t)p->n_tensors + 1) * sizeof *grown);
    if (!grown)
        return mxu_fail(MXU_ERR_NOMEM, "out of memory adding tensor '%s'", t->name);
    p->tensors = grown;
    p->tensors[p->n_tensors] = *t;
    if (index)
        *index = p->n_tensors;
    p->n_tensors++;
    uint64_t bytes = mul_sat(mxu_tensor_elems(t), mxu_dtype_size(t->dtype));
    update_dram_used(p, bytes > UINT32_MAX ? UINT64_MAX : t->dram_addr + bytes);
    return MXU_OK;
}

void mxu_layer_init(mxu_layer *l, const char *name, uint32_t op)
{
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", name ? name : "layer");
    l->op = op;
    l->input = 0, l->output = 1, l->input2 = MXU_NONE;
    l->kh = l->kw = l->stride_h = l->stride_w = l->dil_h = l->dil_w = l->groups = 1;
    l->act_min = -128, l->act_max = 127;
    l->weights = l->bias = l->multiplier = l->shift = l->lut = l->add_params = MXU_NONE;
}

int mxu_program_add_layer(mxu_program *p, const mxu_layer *l)
{
    if (!p || !l)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_add_layer: NULL argument");
    mxu_layer *grown = realloc(p->layers, ((size_t)p->n_layers + 1) * sizeof *grown);
    if (!grown)
        return mxu_fail(MXU_ERR_NOMEM, "out of memory adding layer '%.64s'", l->name);
    p->layers = grown;
    p->layers[p->n_layers++] = *l;
    return MXU_OK;
}

int mxu_program_add_blob(mxu_program *p, const void *data, uint32_t bytes, uint32_t *offset)
{
    if (!p)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_add_blob: program is NULL");
    uint64_t start = (p->host_blob_bytes + 3ull) & ~3ull;
    uint64_t end = start + bytes;
    if (end > UINT32_MAX - 8u) /* keep the section length representable */
        return mxu_fail(MXU_ERR_LIMIT, "host blob would exceed 4 GiB");
    uint8_t *grown = realloc(p->host_blob, end ? (size_t)end : 1);
    if (!grown)
        return mxu_fail(MXU_ERR_NOMEM, "out of memory growing the host blob to %llu bytes",
                        (unsigned long long)end);
    memset(grown + p->host_blob_bytes, 0, (size_t)(start - p->host_blob_bytes));
    if (data && bytes)
        memcpy(grown + start, data, bytes);
    else
        memset(grown + start, 0, bytes);
    p->host_blob = grown;
    p->host_blob_bytes = (uint32_t)end;
    if (offset)
        *offset = (uint32_t)start;
    return MXU_OK;
}

int mxu_program_find_tensor(const mxu_program *p, const char *name, uint32_t *index)
{
    if (!p || !name)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_find_tensor: NULL argument");
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        if (strncmp(p->tensors[i].name, name, MXU_NAME_LEN) == 0) {
            if (index)
                *index = i;
            return MXU_OK;
        }
    }
    return mxu_fail(MXU_ERR_NOT_FOUND, "no tensor named '%s'", name);
}

size_t mxu_dtype_size(uint32_t dtype)
{
    switch (dtype) {
    case MXU_DTYPE_INT8: return 1;
    case MXU_DTYPE_INT32: return 4;
    }
    return 0;
}

uint64_t mxu_tensor_elems(const mxu_tensor *t)
{
    uint32_t nd = t->ndims <= MXU_MAX_DIMS ? t->ndims : MXU_MAX_DIMS;
    uint64_t n = nd ? 1 : 0;
    for (uint32_t i = 0; i < nd; i++)
        n = mul_sat(n, t->dims[i]);
    return n;
}

/* ---- validation (shared by the reader and the writer) ------------------------ */

/* Where the records of a program are in its file, for error details. */
struct mxp_layout {
    uint64_t config_off, code_off, tensor_off, layer_off;
    uint64_t *segment_off; /* per segment; NULL for "unknown" */
};

struct checker {
    const mxu_program *p;
#define CK_FILE(ck) ((ck)->status == MXU_ERR_FORMAT)
    const struct mxp_layout *lo; /* NULL: the program has no file yet (assembler) */
    int status; /* MXU_ERR_FORMAT when reading, MXU_ERR_INVAL when writing */
};

static int failv(const struct checker *ck, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int failv(const struct checker *ck, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mxu_fail(ck->status, "mxp: %s", msg);
}

static int check_config(const struct checker *ck)
{
    mxu_hw_config c = ck->p->config;
    uint64_t off = ck->lo->config_off;
    if (mxu_config_validate(&c) != MXU_OK)
        return failv(ck, "CONFIG section at offset %llu: invalid configuration: %s",
                     (unsigned long long)off, mxu_error_detail());
    if (c.ub_line_bytes != ck->p->config.ub_line_bytes)
        return failv(ck, "CONFIG section at offset %llu: ub_line_bytes is %u, expected %u",
                     (unsigned long long)off, ck->p->config.ub_line_bytes, c.ub_line_bytes);
    if (memcmp(&c, &ck->p->config, sizeof c) != 0)
        return failv(ck, "CONFIG section at offset %llu: configuration is not in canonical form",
                     (unsigned long long)off);
    return MXU_OK;
}

static int check_code(const struct checker *ck)
{
    const mxu_program *p = ck->p;
    uint64_t off = ck->lo->code_off;
    if (p->code_addr % MXU_INSN_BYTES)
        return failv(ck, "CODE section at offset %llu: code_addr 0x%x is not %u-byte aligned",
                     (unsigned long long)off, p->code_addr, MXU_INSN_BYTES);
    uint64_t end = p->code_addr + (uint64_t)p->n_insns * MXU_INSN_BYTES;
    if (end > p->config.dram_bytes)
        return failv(ck, "CODE section at offset %llu: code [0x%x, 0x%llx) is outside DRAM (%u bytes)",
                     (unsigned long long)off, p->code_addr, (unsigned long long)end,
                     p->config.dram_bytes);
    return MXU_OK;
}

struct extent {
    uint64_t start, end;
    uint32_t index; /* segment index, or UINT32_MAX for the code */
};

static int cmp_extent(const void *a, const void *b)
{
    const struct extent *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static const char *extent_name(const mxu_program *p, const struct extent *e, char *buf, size_t n)
{
    if (e->index == UINT32_MAX)
        snprintf(buf, n, "the code");
    else
        snprintf(buf, n, "segment %u '%.64s'", e->index, p->segments[e->index].name);
    return buf;
}

static int check_segments(const struct checker *ck)
{
    const mxu_program *p = ck->p;
    for (uint32_t i = 0; i < p->n_segments; i++) {
        const mxu_segment *s = &p->segments[i];
        unsigned long long off = ck->lo->segment_off ? ck->lo->segment_off[i] : 0;
        const char *why = name_problem_in(s->name, CK_FILE(ck));
        if (why)
            return failv(ck, "SEGMENT section at offset %llu: segment %u: %s", off, i, why);
        if (s->bytes == 0)
            return failv(ck, "SEGMENT section at offset %llu: segment %u '%s' is empty", off, i,
                         s->name);
        if (!s->data)
            return failv(ck, "segment %u '%s' has no data", i, s->name);
        uint64_t end = (uint64_t)s->dram_addr + s->bytes;
        if (end > p->config.dram_bytes)
            return failv(ck, "SEGMENT section at offset %llu: segment %u '%s' [0x%x, 0x%llx) is outside DRAM (%u bytes)",
                         off, i, s->name, s->dram_addr, (unsigned long long)end,
                         p->config.dram_bytes);
    }
    /* Overlaps: sort the extents (code included) and compare neighbours. */
    size_t n = p->n_segments + 1u;
    struct extent *ex = malloc(n * sizeof *ex);
    if (!ex)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory checking %u segments", p->n_segments);
    size_t k = 0;
    for (uint32_t i = 0; i < p->n_segments; i++)
        ex[k++] = (struct extent){p->segments[i].dram_addr,
                                  (uint64_t)p->segments[i].dram_addr + p->segments[i].bytes, i};
    if (p->n_insns)
        ex[k++] = (struct extent){p->code_addr,
                                  p->code_addr + (uint64_t)p->n_insns * MXU_INSN_BYTES, UINT32_MAX};
    qsort(ex, k, sizeof *ex, cmp_extent);
    int rc = MXU_OK;
    for (size_t i = 1; i < k && rc == MXU_OK; i++) {
        if (ex[i].start < ex[i - 1].end) {
            char a[100], b[100];
            rc = failv(ck, "%s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx)",
                       extent_name(p, &ex[i], a, sizeof a), (unsigned long long)ex[i].start,
                       (unsigned long long)ex[i].end, extent_name(p, &ex[i - 1], b, sizeof b),
                       (unsigned long long)ex[i - 1].start, (unsigned long long)ex[i - 1].end);
        }
    }
    free(ex);
    return rc;
}

static int check_tensor(const struct checker *ck, uint32_t i)
{
    const mxu_program *p = ck->p;
    const mxu_tensor *t = &p->tensors[i];
    unsigned long long off = ck->lo->tensor_off + (uint64_t)i * MXP_TENSOR_BYTES;
#define TFAIL(...) failv(ck, "TENSOR section, record at offset %llu: tensor %u: " __VA_ARGS__)
    const char *why = name_problem_in(t->name, CK_FILE(ck));
    if (why)
        return TFAIL("%s", off, i, why);
    if (t->role < MXU_ROLE_INPUT || t->role > MXU_ROLE_ACTIVATION)
        return TFAIL("'%s': role %u is not input(1), output(2) or activation(3)", off, i, t->name,
                     t->role);
    if (mxu_dtype_size(t->dtype) == 0)
        return TFAIL("'%s': dtype %u is not int8(1) or int32(2)", off, i, t->name, t->dtype);
    if (t->layout != MXU_LAYOUT_NHWC && t->layout != MXU_LAYOUT_NC)
        return TFAIL("'%s': layout %u is not nhwc(1) or nc(2)", off, i, t->name, t->layout);
    uint32_t want = t->layout == MXU_LAYOUT_NHWC ? 4 : 2;
    if (t->ndims != want)
        return TFAIL("'%s': ndims is %u, layout %s needs %u", off, i, t->name, t->ndims,
                     want == 4 ? "nhwc" : "nc", want);
    for (uint32_t d = 0; d < MXU_MAX_DIMS; d++) {
        if (d < t->ndims && t->dims[d] == 0)
            return TFAIL("'%s': dims[%u] is 0", off, i, t->name, d);
        if (d >= t->ndims && t->dims[d] != 0)
            return TFAIL("'%s': dims[%u] is %u past ndims %u", off, i, t->name, d, t->dims[d],
                         t->ndims);
    }
    uint64_t bytes = mul_sat(mxu_tensor_elems(t), mxu_dtype_size(t->dtype));
    uint64_t end = bytes > UINT32_MAX ? UINT64_MAX : t->dram_addr + bytes;
    if (end > p->config.dram_bytes)
        return TFAIL("'%s': bytes [0x%x, +%llu) are outside DRAM (%u bytes)", off, i, t->name,
                     t->dram_addr, (unsigned long long)bytes, p->config.dram_bytes);
    uint64_t code_end = p->code_addr + (uint64_t)p->n_insns * MXU_INSN_BYTES;
    if (p->n_insns && t->dram_addr < code_end && end > p->code_addr)
        return TFAIL("'%s': bytes [0x%x, 0x%llx) overlap the code", off, i, t->name, t->dram_addr,
                     (unsigned long long)end);
    if (!isfinite(t->scale) || !(t->scale > 0.0f))
        return TFAIL("'%s': scale %g is not positive and finite", off, i, t->name, t->scale);
    if (t->dtype == MXU_DTYPE_INT8 && (t->zero_point < -128 || t->zero_point > 127))
        return TFAIL("'%s': zero point %d is outside int8", off, i, t->name, t->zero_point);
#undef TFAIL
    return MXU_OK;
}

/* qsort has no context argument in C11: sort (name pointer, index) pairs. */
struct named {
    const char *name;
    uint32_t index;
};

static int cmp_named(const void *a, const void *b)
{
    return strncmp(((const struct named *)a)->name, ((const struct named *)b)->name, MXU_NAME_LEN);
}

static int check_tensors(const struct checker *ck)
{
    const mxu_program *p = ck->p;
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        int rc = check_tensor(ck, i);
        if (rc)
            return rc;
    }
    if (p->n_tensors < 2)
        return MXU_OK;
    struct named *v = malloc((size_t)p->n_tensors * sizeof *v);
    if (!v)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory checking %u tensors", p->n_tensors);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        v[i] = (struct named){p->tensors[i].name, i};
    qsort(v, p->n_tensors, sizeof *v, cmp_named);
    int rc = MXU_OK;
    for (uint32_t i = 1; i < p->n_tensors && rc == MXU_OK; i++)
        if (cmp_named(&v[i - 1], &v[i]) == 0)
            rc = failv(ck, "TENSOR section at offset %llu: tensors %u and %u are both named '%s'",
                       (unsigned long long)ck->lo->tensor_off, v[i - 1].index, v[i].index,
                       v[i].name);
    free(v);
    return rc;
}

/* ---- layers ------------------------------------------------------------------ */

struct layer_ctx {
    const struct checker *ck;
    const mxu_layer *l;
    uint32_t index;
    unsigned long long off;
};

static int lfail(const struct layer_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int lfail(const struct layer_ctx *c, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!c->ck->lo)
        return failv(c->ck, "layer %u '%.64s': %s", c->index, c->l->name, msg);
    return failv(c->ck, "LAYER section, record at offset %llu: layer %u '%.64s': %s", c->off,
                 c->index, c->l->name, msg);
}

const char *mxu_layer_op_name(uint32_t op)
{
    static const char *const names[MXU_LAYER_OP_LIMIT] = {
        "?", "conv2d", "fc", "maxpool", "avgpool", "add", "softmax", "concat", "upsample", "lut",
    };
    return op < MXU_LAYER_OP_LIMIT ? names[op] : "?";
}

static const char *op_name(uint32_t op)
{
    return mxu_layer_op_name(op);
}

int mxu_layer_op_host_only(uint32_t op)
{
    return op >= MXU_LAYER_SOFTMAX && op < MXU_LAYER_OP_LIMIT;
}

int mxu_program_has_ranges(const mxu_program *p)
{
    for (uint32_t i = 0; p && i < p->n_layers; i++)
        if (p->layers[i].code_count)
            return 1;
    return 0;
}

static int is_finish(const uint64_t insn[MXU_INSN_WORDS])
{
    return mxu_insn_get(insn, MXU_F_OP_POS, MXU_F_OP_BITS) == MXU_OP_FINISH;
}

int mxu_layer_on_host(const mxu_program *p, uint32_t index)
{
    if (!p || index >= p->n_layers || p->layers[index].code_count)
        return 0;
    if (mxu_layer_op_host_only(p->layers[index].op) || mxu_program_has_ranges(p))
        return 1;
    return p->n_insns == 0 || (p->n_insns == 1 && is_finish(p->insns[0]));
}

/* The tensor a layer names in `field`, which must exist and be int8. */
static int layer_tensor(const struct layer_ctx *c, const char *field, uint32_t idx,
                        const mxu_tensor **out)
{
    const mxu_program *p = c->ck->p;
    if (idx >= p->n_tensors)
        return lfail(c, "%s tensor index %u is out of range (%u tensors)", field, idx,
                     p->n_tensors);
    *out = &p->tensors[idx];
    if ((*out)->dtype != MXU_DTYPE_INT8)
        return lfail(c, "%s tensor '%s' is not int8", field, (*out)->name);
    return MXU_OK;
}

static int need_nhwc(const struct layer_ctx *c, const char *field, const mxu_tensor *t)
{
    if (t->layout != MXU_LAYOUT_NHWC)
        return lfail(c, "%s tensor '%s' must be nhwc for %s", field, t->name, op_name(c->l->op));
    return MXU_OK;
}

/* Output size of a window along one axis (golden.h's mxu_conv_out_size). */
static int window_out(const struct layer_ctx *c, const char *axis, uint64_t in, uint64_t k,
                      uint64_t stride, uint64_t dil, uint64_t pad0, uint64_t pad1, uint64_t *out)
{
    uint64_t span = in + pad0 + pad1, eff = (k - 1) * dil + 1;
    if (eff > span)
        return lfail(c, "%s window %llu (dilated) exceeds the padded input %llu", axis,
                     (unsigned long long)eff, (unsigned long long)span);
    *out = (span - eff) / stride + 1;
    return MXU_OK;
}

static int check_spatial_out(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out,
                             uint64_t dil_h, uint64_t dil_w, uint64_t channels)
{
    const mxu_layer *l = c->l;
    uint64_t oh = 0, ow = 0;
    int rc = window_out(c, "vertical", in->dims[1], l->kh, l->stride_h, dil_h, l->pad_top,
                        l->pad_bottom, &oh);
    if (!rc)
        rc = window_out(c, "horizontal", in->dims[2], l->kw, l->stride_w, dil_w, l->pad_left,
                        l->pad_right, &ow);
    if (rc)
        return rc;
    if (l->pool_k) {
        if (oh < l->pool_k || ow < l->pool_k)
            return lfail(c, "pool window %u exceeds the %llux%llu convolution output", l->pool_k,
                         (unsigned long long)oh, (unsigned long long)ow);
        oh = (oh - l->pool_k) / l->pool_s + 1;
        ow = (ow - l->pool_k) / l->pool_s + 1;
    }
    if (out->dims[0] != in->dims[0] || out->dims[1] != oh || out->dims[2] != ow ||
        out->dims[3] != channels)
        return lfail(c, "output '%s' is %ux%ux%ux%u, expected %ux%llux%llux%llu", out->name,
                     out->dims[0], out->dims[1], out->dims[2], out->dims[3], in->dims[0],
                     (unsigned long long)oh, (unsigned long long)ow, (unsigned long long)channels);
    return MXU_OK;
}

static int check_geometry(const struct layer_ctx *c, int dilated)
{
    const mxu_layer *l = c->l;
    if (!l->kh || !l->kw || !l->stride_h || !l->stride_w)
        return lfail(c, "kernel %ux%u and stride %ux%u must be at least 1", l->kh, l->kw,
                     l->stride_h, l->stride_w);
    if (dilated && (!l->dil_h || !l->dil_w))
        return lfail(c, "dilation %ux%u must be at least 1", l->dil_h, l->dil_w);
    return MXU_OK;
}

/* Shapes and tensor references of one layer; fills the array sizes it needs. */
struct array_sizes {
    uint64_t weights, per_channel, lut, add_params;
};

static int check_layer_conv(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out,
                            struct array_sizes *sz)
{
    const mxu_layer *l = c->l;
    int rc = need_nhwc(c, "input", in);
    if (!rc)
        rc = need_nhwc(c, "output", out);
    if (!rc)
        rc = check_geometry(c, 1);
    if (rc)
        return rc;
    uint32_t cin = in->dims[3];
    if (!l->cout || !l->groups || cin % l->groups || l->cout % l->groups)
        return lfail(c, "groups %u must divide cin %u and cout %u (both at least 1)", l->groups,
                     cin, l->cout);
    rc = check_spatial_out(c, in, out, l->dil_h, l->dil_w, l->cout);
    if (rc)
        return rc;
    sz->weights = mul_sat(mul_sat(l->cout, mul_sat(l->kh, l->kw)), cin / l->groups);
    sz->per_channel = 4ull * l->cout;
    sz->lut = 256;
    return MXU_OK;
}

static int check_layer_fc(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out,
                          struct array_sizes *sz)
{
    const mxu_layer *l = c->l;
    uint64_t batch = in->dims[0], cin = mxu_tensor_elems(in) / batch;
    if (!l->cout)
        return lfail(c, "cout is 0");
    if (out->dims[0] != batch || mxu_tensor_elems(out) != mul_sat(batch, l->cout))
        return lfail(c, "output '%s' must hold %llu x %u values", out->name,
                     (unsigned long long)batch, l->cout);
    sz->weights = mul_sat(cin, l->cout);
    sz->per_channel = 4ull * l->cout;
    sz->lut = 256;
    return MXU_OK;
}

static int check_layer_pool(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out)
{
    int rc = need_nhwc(c, "input", in);
    if (!rc)
        rc = need_nhwc(c, "output", out);
    if (!rc)
        rc = check_geometry(c, 0);
    if (!rc)
        rc = check_spatial_out(c, in, out, 1, 1, in->dims[3]);
    return rc;
}

static int check_layer_add(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out,
                           struct array_sizes *sz)
{
    const mxu_tensor *in2;
    int rc = layer_tensor(c, "input2", c->l->input2, &in2);
    if (rc)
        return rc;
    const mxu_tensor *ts[2] = {in2, out};
    for (int i = 0; i < 2; i++)
        if (ts[i]->ndims != in->ndims ||
            memcmp(ts[i]->dims, in->dims, sizeof in->dims) != 0)
            return lfail(c, "tensor '%s' does not have the shape of input '%s'", ts[i]->name,
                         in->name);
    sz->add_params = 4ull * MXU_ADD_PARAMS_COUNT;
    return MXU_OK;
}

static int same_shape(const mxu_tensor *a, const mxu_tensor *b)
{
    return a->ndims == b->ndims && memcmp(a->dims, b->dims, sizeof a->dims) == 0;
}

static int same_quant(const mxu_tensor *a, const mxu_tensor *b)
{
    return a->scale == b->scale && a->zero_point == b->zero_point;
}

/* Softmax: one shape; the output quantization TFLite's int8 kernel requires;
 * an input scale whose multiplier TFLite's preprocessing can represent. */
static int check_layer_softmax(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out)
{
    struct mxu_softmax_params sp;
    if (!same_shape(in, out))
        return lfail(c, "output '%s' does not have the shape of input '%s'", out->name, in->name);
    if (out->scale != MXU_SOFTMAX_OUT_SCALE || out->zero_point != MXU_SOFTMAX_OUT_ZP)
        return lfail(c, "output '%s' has scale %g and zero point %d; int8 softmax needs 1/256 and -128",
                     out->name, (double)out->scale, out->zero_point);
    if (mxu_softmax_params_from_scale(in->scale, 1.0f, &sp) != MXU_OK)
        return lfail(c, "input '%s': %s", in->name, mxu_error_detail());
    return MXU_OK;
}

/* Concat along the last axis: equal leading dims, channels add up, and one
 * quantization for all three tensors (so it is a byte copy). */
static int check_layer_concat(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out)
{
    const mxu_tensor *in2;
    int rc = layer_tensor(c, "input2", c->l->input2, &in2);
    if (rc)
        return rc;
    const mxu_tensor *ts[3] = {in, in2, out};
    for (int i = 1; i < 3; i++) {
        if (ts[i]->layout != in->layout || ts[i]->ndims != in->ndims)
            return lfail(c, "tensor '%s' does not have the layout of input '%s'", ts[i]->name,
                         in->name);
        if (!same_quant(ts[i], in))
            return lfail(c, "tensor '%s' is quantized differently from input '%s' (concat needs one scale and zero point)",
                         ts[i]->name, in->name);
    }
    uint32_t last = in->ndims - 1;
    for (uint32_t d = 0; d < last; d++)
        if (in2->dims[d] != in->dims[d] || out->dims[d] != in->dims[d])
            return lfail(c, "dims[%u] differ: %u, %u, %u (only the last axis may)", d, in->dims[d],
                         in2->dims[d], out->dims[d]);
    if ((uint64_t)in->dims[last] + in2->dims[last] != out->dims[last])
        return lfail(c, "output '%s' has %u channels, expected %u + %u", out->name, out->dims[last],
                     in->dims[last], in2->dims[last]);
    return MXU_OK;
}

static int check_layer_upsample(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out)
{
    const mxu_layer *l = c->l;
    int rc = need_nhwc(c, "input", in);
    if (!rc)
        rc = need_nhwc(c, "output", out);
    if (rc)
        return rc;
    if (!l->stride_h || l->stride_h != l->stride_w)
        return lfail(c, "factor (stride) %ux%u must be one value of at least 1", l->stride_h,
                     l->stride_w);
    uint64_t f = l->stride_h;
    if (out->dims[0] != in->dims[0] || out->dims[1] != in->dims[1] * f ||
        out->dims[2] != in->dims[2] * f || out->dims[3] != in->dims[3])
        return lfail(c, "output '%s' is %ux%ux%ux%u, expected %ux%llux%llux%u", out->name,
                     out->dims[0], out->dims[1], out->dims[2], out->dims[3], in->dims[0],
                     (unsigned long long)(in->dims[1] * f), (unsigned long long)(in->dims[2] * f),
                     in->dims[3]);
    if (!same_quant(in, out))
        return lfail(c, "output '%s' is quantized differently from input '%s'", out->name, in->name);
    return MXU_OK;
}

static int check_layer_lut(const struct layer_ctx *c, const mxu_tensor *in, const mxu_tensor *out,
                           struct array_sizes *sz)
{
    if (!same_shape(in, out))
        return lfail(c, "output '%s' does not have the shape of input '%s'", out->name, in->name);
    sz->lut = 256;
    return MXU_OK;
}

/* One host-blob array: absent, or inside the blob (int32 arrays 4-aligned). */
static int check_array(const struct layer_ctx *c, const char *what, uint32_t offset,
                       uint64_t bytes, int required, int int32)
{
    if (offset == MXU_NONE) {
        if (required)
            return lfail(c, "a %s layer needs %s", op_name(c->l->op), what);
        return MXU_OK;
    }
    if (bytes == 0)
        return lfail(c, "a %s layer has no %s (offset must be 0x%x)", op_name(c->l->op), what,
                     MXU_NONE);
    if (int32 && offset % 4)
        return lfail(c, "%s offset %u in the host blob is not 4-byte aligned", what, offset);
    uint64_t end = bytes > UINT32_MAX ? UINT64_MAX : (uint64_t)offset + bytes;
    if (end > c->ck->p->host_blob_bytes)
        return lfail(c, "%s [%u, +%llu) is outside the host blob (%u bytes)", what, offset,
                     (unsigned long long)bytes, c->ck->p->host_blob_bytes);
    return MXU_OK;
}

static int check_layer_arrays(const struct layer_ctx *c, const struct array_sizes *sz)
{
    const mxu_layer *l = c->l;
    int conv = l->op == MXU_LAYER_CONV2D || l->op == MXU_LAYER_FC;
    int rc = check_array(c, "weights", l->weights, sz->weights, conv, 0);
    if (!rc)
        rc = check_array(c, "bias", l->bias, sz->per_channel, 0, 1);
    if (!rc)
        rc = check_array(c, "multiplier", l->multiplier, sz->per_channel, conv, 1);
    if (!rc)
        rc = check_array(c, "shift", l->shift, sz->per_channel, conv, 1);
    if (!rc)
        rc = check_array(c, "lut", l->lut, sz->lut,
                         (l->flags & MXU_LAYER_F_LUT) != 0 || l->op == MXU_LAYER_LUT, 0);
    if (!rc)
        rc = check_array(c, "add_params", l->add_params, sz->add_params,
                         l->op == MXU_LAYER_ADD, 1);
    return rc;
}

static int check_layer(const struct checker *ck, uint32_t i)
{
    const mxu_layer *l = &ck->p->layers[i];
    uint64_t base = ck->lo ? ck->lo->layer_off : 0;
    struct layer_ctx c = {ck, l, i, base + (uint64_t)i * MXP_LAYER_BYTES};
    const char *why = name_problem_in(l->name, CK_FILE(ck));
    if (why)
        return lfail(&c, "%s", why);
    if (l->op < MXU_LAYER_CONV2D || l->op >= MXU_LAYER_OP_LIMIT)
        return lfail(&c, "op %u is not a layer operation (1..%u)", l->op, MXU_LAYER_OP_LIMIT - 1);
    if (l->flags & ~MXU_LAYER_F_ALL)
        return lfail(&c, "flags 0x%x has unknown bits", l->flags);
    if (l->act_min < -128 || l->act_max > 127 || l->act_min > l->act_max)
        return lfail(&c, "clamp [%d, %d] is not an int8 range", l->act_min, l->act_max);
    if ((l->pool_k == 0) != (l->pool_s == 0) ||
        (l->pool_k && l->op != MXU_LAYER_CONV2D))
        return lfail(&c, "pool %u,%u: a fused pool needs a conv2d and both values >= 1",
                     l->pool_k, l->pool_s);
    int two_inputs = l->op == MXU_LAYER_ADD || l->op == MXU_LAYER_CONCAT;
    if (!two_inputs && l->input2 != MXU_NONE)
        return lfail(&c, "input2 is %u but only add and concat have a second input", l->input2);
    if (l->code_count == 0 && l->code_first != 0)
        return lfail(&c, "code_first is %u without instructions (must be 0)", l->code_first);
    if (l->code_count && mxu_layer_op_host_only(l->op))
        return lfail(&c, "a %s layer runs on the host and owns no instructions (code_count %u)",
                     op_name(l->op), l->code_count);
    if ((l->flags & MXU_LAYER_F_LUT) && l->op != MXU_LAYER_CONV2D && l->op != MXU_LAYER_FC)
        return lfail(&c, "only conv2d and fc layers can apply a LUT");
    if ((l->flags & MXU_LAYER_F_ROUND_HALF_UP) && l->op != MXU_LAYER_CONV2D && l->op != MXU_LAYER_FC)
        return lfail(&c, "only conv2d and fc layers have a rounding mode (flag round_half_up)");
    if ((l->flags & MXU_LAYER_F_SOFTMAX_FLOAT_TABLE) && l->op != MXU_LAYER_SOFTMAX)
        return lfail(&c, "only softmax layers compute from a float table (flag softmax_float_table)");
    const mxu_tensor *in, *out;
    int rc = layer_tensor(&c, "input", l->input, &in);
    if (!rc)
        rc = layer_tensor(&c, "output", l->output, &out);
    if (rc)
        return rc;
    struct array_sizes sz = {0, 0, 0, 0};
    switch (l->op) {
    case MXU_LAYER_CONV2D: rc = check_layer_conv(&c, in, out, &sz); break;
    case MXU_LAYER_FC: rc = check_layer_fc(&c, in, out, &sz); break;
    case MXU_LAYER_ADD: rc = check_layer_add(&c, in, out, &sz); break;
    case MXU_LAYER_SOFTMAX: rc = check_layer_softmax(&c, in, out); break;
    case MXU_LAYER_CONCAT: rc = check_layer_concat(&c, in, out); break;
    case MXU_LAYER_UPSAMPLE: rc = check_layer_upsample(&c, in, out); break;
    case MXU_LAYER_LUT: rc = check_layer_lut(&c, in, out, &sz); break;
    default: rc = check_layer_pool(&c, in, out); break;
    }
    return rc ? rc : check_layer_arrays(&c, &sz);
}

/* Code ranges: inside the code, ending with a FINISH, increasing with the
 * layer order and not overlapping. */
static int check_ranges(const struct checker *ck)
{
    const mxu_program *p = ck->p;
    uint64_t prev_end = 0;
    uint32_t prev = 0;
    for (uint32_t i = 0; i < p->n_layers; i++) {
        const mxu_layer *l = &p->layers[i];
        if (!l->code_count)
            continue;
        struct layer_ctx c = {ck, l, i, (ck->lo ? ck->lo->layer_off : 0) + (uint64_t)i * MXP_LAYER_BYTES};
        uint64_t end = (uint64_t)l->code_first + l->code_count;
        if (end > p->n_insns)
            return lfail(&c, "code range [%u, %llu) is outside the code (%u instructions)",
                         l->code_first, (unsigned long long)end, p->n_insns);
        if (l->code_first < prev_end)
            return lfail(&c, "code range [%u, %llu) overlaps or precedes layer %u's [.., %llu)",
                         l->code_first, (unsigned long long)end, prev,
                         (unsigned long long)prev_end);
        if (!is_finish(p->insns[end - 1]))
            return lfail(&c, "instruction %llu, the last of its code range, is not a FINISH",
                         (unsigned long long)(end - 1));
        prev_end = end;
        prev = i;
    }
    return MXU_OK;
}

static int validate(const struct checker *ck)
{
    const mxu_program *p = ck->p;
    int rc = check_config(ck);
    if (!rc)
        rc = check_code(ck);
    if (!rc)
        rc = check_segments(ck);
    if (!rc)
        rc = check_tensors(ck);
    for (uint32_t i = 0; !rc && i < p->n_layers; i++)
        rc = check_layer(ck, i);
    if (!rc)
        rc = check_ranges(ck);
    if (!rc && p->host_blob_bytes && !p->host_blob)
        rc = failv(ck, "host blob of %u bytes has no data", p->host_blob_bytes);
    return rc;
}

int mxu_program_check_layer(const mxu_program *p, uint32_t index)
{
    if (!p || index >= p->n_layers)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_check_layer: no layer %u", index);
    struct checker ck = {p, NULL, MXU_ERR_INVAL};
    return check_layer(&ck, index);
}

/* ---- writer -------------------------------------------------------------------- */

/* Section payload sizes of p, and the file offsets of its records. */
static uint64_t plan_layout(const mxu_program *p, struct mxp_layout *lo)
{
    uint64_t off = MXP_HEADER_BYTES;
    lo->config_off = off + MXP_SECTION_HEADER_BYTES;
    off += MXP_SECTION_HEADER_BYTES + pad8(MXP_CONFIG_BYTES);
    lo->code_off = off + MXP_SECTION_HEADER_BYTES;
    off += MXP_SECTION_HEADER_BYTES + MXP_CODE_HEADER_BYTES + (uint64_t)p->n_insns * MXU_INSN_BYTES;
    for (uint32_t i = 0; i < p->n_segments; i++) {
        if (lo->segment_off)
            lo->segment_off[i] = off + MXP_SECTION_HEADER_BYTES;
        off += MXP_SECTION_HEADER_BYTES + pad8(MXP_SEGMENT_HEADER_BYTES + (uint64_t)p->segments[i].bytes);
    }
    lo->tensor_off = off + MXP_SECTION_HEADER_BYTES + MXP_TABLE_HEADER_BYTES;
    off += MXP_SECTION_HEADER_BYTES + MXP_TABLE_HEADER_BYTES + (uint64_t)p->n_tensors * MXP_TENSOR_BYTES;
    lo->layer_off = off + MXP_SECTION_HEADER_BYTES + MXP_TABLE_HEADER_BYTES;
    off += MXP_SECTION_HEADER_BYTES + MXP_TABLE_HEADER_BYTES + (uint64_t)p->n_layers * MXP_LAYER_BYTES;
    if (p->host_blob_bytes)
        off += MXP_SECTION_HEADER_BYTES + pad8(p->host_blob_bytes);
    if (p->metadata)
        off += MXP_SECTION_HEADER_BYTES + pad8(strlen(p->metadata));
    return off + MXP_CRC_BYTES;
}

static uint8_t *put_section(uint8_t *b, uint32_t type, uint64_t length)
{
    put_u32(b, type);
    put_u32(b + 4, (uint32_t)length);
    return b + MXP_SECTION_HEADER_BYTES;
}

static uint8_t *put_name(uint8_t *b, const char *name)
{
    memset(b, 0, MXU_NAME_LEN);
    memcpy(b, name, strnlen(name, MXU_NAME_LEN - 1));
    return b + MXU_NAME_LEN;
}

static uint8_t *put_words(uint8_t *b, const uint32_t *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, b += 4)
        put_u32(b, v[i]);
    return b;
}

static void config_words(const mxu_hw_config *c, uint32_t v[MXP_CONFIG_FIELDS])
{
    const uint32_t w[MXP_CONFIG_FIELDS] = {
        c->rows, c->cols, c->ub_lines, c->ub_line_bytes, c->acc_rows, c->wb_lines,
        c->param_lines, c->dram_bytes, c->dram_beat_bytes, c->queue_depth, c->token_max,
    };
    memcpy(v, w, sizeof w);
}

static void tensor_words(const mxu_tensor *t, uint32_t v[12])
{
    const uint32_t w[12] = {
        t->role, t->dtype, t->layout, t->ndims, t->dims[0], t->dims[1], t->dims[2], t->dims[3],
        t->dram_addr, float_bits(t->scale), (uint32_t)t->zero_point, 0,
    };
    memcpy(v, w, sizeof w);
}

static void layer_words(const mxu_layer *l, uint32_t v[MXP_LAYER_FIELDS])
{
    const uint32_t w[MXP_LAYER_FIELDS] = {
        l->op, l->flags, l->input, l->input2, l->output, l->cout, l->kh, l->kw,
        l->stride_h, l->stride_w, l->dil_h, l->dil_w, l->groups,
        l->pad_top, l->pad_left, l->pad_bottom, l->pad_right,
        (uint32_t)l->act_min, (uint32_t)l->act_max, l->pool_k, l->pool_s,
        l->weights, l->bias, l->multiplier, l->shift, l->lut, l->add_params, 0,
        l->code_first, l->code_count, 0, 0,
    };
    memcpy(v, w, sizeof w);
}

static void write_sections(const mxu_program *p, uint8_t *b)
{
    uint32_t v[MXP_LAYER_FIELDS];
    b = put_section(b, MXP_SEC_CONFIG, MXP_CONFIG_BYTES);
    config_words(&p->config, v);
    b = put_words(b, v, MXP_CONFIG_FIELDS) + (pad8(MXP_CONFIG_BYTES) - MXP_CONFIG_BYTES);

    b = put_section(b, MXP_SEC_CODE, MXP_CODE_HEADER_BYTES + (uint64_t)p->n_insns * MXU_INSN_BYTES);
    put_u32(b, p->code_addr);
    put_u32(b + 4, p->n_insns);
    b += MXP_CODE_HEADER_BYTES;
    for (uint32_t i = 0; i < p->n_insns; i++)
        for (unsigned w = 0; w < MXU_INSN_WORDS; w++, b += 8)
            put_u64(b, p->insns[i][w]);

    for (uint32_t i = 0; i < p->n_segments; i++) {
        const mxu_segment *s = &p->segments[i];
        b = put_section(b, MXP_SEC_SEGMENT, MXP_SEGMENT_HEADER_BYTES + (uint64_t)s->bytes);
        b = put_name(b, s->name);
        put_u32(b, s->dram_addr);
        put_u32(b + 4, s->bytes);
        memcpy(b + 8, s->data, s->bytes);
        b += pad8(MXP_SEGMENT_HEADER_BYTES + (uint64_t)s->bytes) - MXU_NAME_LEN;
    }

    b = put_section(b, MXP_SEC_TENSOR, MXP_TABLE_HEADER_BYTES + (uint64_t)p->n_tensors * MXP_TENSOR_BYTES);
    put_u32(b, p->n_tensors);
    b += MXP_TABLE_HEADER_BYTES;
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        b = put_name(b, p->tensors[i].name);
        tensor_words(&p->tensors[i], v);
        b = put_words(b, v, 12);
    }

    b = put_section(b, MXP_SEC_LAYER, MXP_TABLE_HEADER_BYTES + (uint64_t)p->n_layers * MXP_LAYER_BYTES);
    put_u32(b, p->n_layers);
    b += MXP_TABLE_HEADER_BYTES;
    for (uint32_t i = 0; i < p->n_layers; i++) {
        b = put_name(b, p->layers[i].name);
        layer_words(&p->layers[i], v);
        b = put_words(b, v, MXP_LAYER_FIELDS);
    }

    if (p->host_blob_bytes) {
        b = put_section(b, MXP_SEC_HOSTBLOB, p->host_blob_bytes);
        memcpy(b, p->host_blob, p->host_blob_bytes);
        b += pad8(p->host_blob_bytes);
    }
    if (p->metadata) {
        size_t n = strlen(p->metadata);
        b = put_section(b, MXP_SEC_METADATA, n);
        memcpy(b, p->metadata, n);
    }
}

int mxu_program_serialize(const mxu_program *p, uint8_t **buf, size_t *len)
{
    if (!p || !buf || !len)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_serialize: NULL argument");
    if ((p->n_insns && !p->insns) || (p->n_segments && !p->segments) ||
        (p->n_tensors && !p->tensors) || (p->n_layers && !p->layers))
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_serialize: a table has a count but no data");
    struct mxp_layout lo = {0};
    lo.segment_off = p->n_segments ? calloc(p->n_segments, sizeof *lo.segment_off) : NULL;
    if (p->n_segments && !lo.segment_off)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory");
    uint64_t total = plan_layout(p, &lo);
    struct checker ck = {p, &lo, MXU_ERR_INVAL};
    int rc = validate(&ck);
    free(lo.segment_off);
    if (rc)
        return rc;
    if (p->metadata && strlen(p->metadata) > UINT32_MAX - 8u)
        return mxu_fail(MXU_ERR_LIMIT, "mxp: metadata is too long");
    if (total > UINT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "mxp: the program needs %llu bytes; .mxp files hold 4 GiB",
                        (unsigned long long)total);
    uint8_t *b = calloc(1, (size_t)total);
    if (!b)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory for a %llu-byte file",
                        (unsigned long long)total);
    memcpy(b, mxp_magic, sizeof mxp_magic);
    put_u16(b + 8, MXP_FORMAT_MAJOR);
    put_u16(b + 10, MXP_FORMAT_MINOR);
    put_u16(b + 12, MXU_ISA_VERSION_MAJOR);
    put_u16(b + 14, MXU_ISA_VERSION_MINOR);
    put_u32(b + 16, (uint32_t)total);
    write_sections(p, b + MXP_HEADER_BYTES);
    put_u32(b + total - MXP_CRC_BYTES, mxu_crc32(b, (size_t)total - MXP_CRC_BYTES));
    *buf = b;
    *len = (size_t)total;
    return MXU_OK;
}

/* ---- reader -------------------------------------------------------------------- */

#define FMT(...) mxu_fail(MXU_ERR_FORMAT, "mxp: " __VA_ARGS__)

/* One section as found in the file; payload = buf + off, `length` bytes. */
struct section {
    uint32_t type, length;
    size_t off;
};

struct reader {
    const uint8_t *buf;
    size_t len;
    unsigned minor;
    struct section *secs;
    size_t n_secs;
};

static int read_header(struct reader *r)
{
    const uint8_t *b = r->buf;
    if (r->len < MXP_HEADER_BYTES + MXP_CRC_BYTES)
        return FMT("truncated at offset %zu in the header (a .mxp file has at least %u bytes)",
                   r->len, MXP_HEADER_BYTES + MXP_CRC_BYTES);
    if (memcmp(b, mxp_magic, sizeof mxp_magic) != 0)
        return FMT("bad magic at offset 0: not an .mxp program file");
    unsigned fmaj = get_u16(b + 8), fmin = get_u16(b + 10);
    unsigned imaj = get_u16(b + 12), imin = get_u16(b + 14);
    if (fmaj == 1)
        return FMT("format version %u.%u at offset 8 is the old format 1, which this reader no "
                   "longer reads (format 2 added code ranges to layer records): rebuild the "
                   "program with this version's mxu asm / mxu compile", fmaj, fmin);
    if (fmaj != MXP_FORMAT_MAJOR)
        return FMT("format version %u.%u at offset 8 is %s this reader's %u.%u", fmaj, fmin,
                   fmaj > MXP_FORMAT_MAJOR ? "newer than" : "incompatible with",
                   MXP_FORMAT_MAJOR, MXP_FORMAT_MINOR);
    if (imaj != MXU_ISA_VERSION_MAJOR || imin > MXU_ISA_VERSION_MINOR)
        return FMT("built for ISA %u.%u (offset 12); this library implements ISA %u.%u", imaj,
                   imin, MXU_ISA_VERSION_MAJOR, MXU_ISA_VERSION_MINOR);
    uint32_t total = get_u32(b + 16), flags = get_u32(b + 20);
    if (total != r->len)
        return FMT("the header (offset 16) says the file has %u bytes but it has %zu (%s)", total,
                   r->len, total > r->len ? "truncated" : "trailing bytes");
    if (total % MXP_ALIGN != MXP_CRC_BYTES)
        return FMT("total length %u at offset 16 is not 8*n+4", total);
    if (flags)
        return FMT("reserved header word at offset 20 is 0x%x, must be 0", flags);
    uint32_t stored = get_u32(b + r->len - MXP_CRC_BYTES);
    uint32_t computed = mxu_crc32(b, r->len - MXP_CRC_BYTES);
    if (stored != computed)
        return FMT("CRC mismatch: file says 0x%08x (offset %zu), computed 0x%08x", stored,
                   r->len - MXP_CRC_BYTES, computed);
    r->minor = fmin;
    return MXU_OK;
}

/* Walk the section headers: lengths inside the file, zero padding, order. */
static int scan_sections(struct reader *r)
{
    size_t end = r->len - MXP_CRC_BYTES, off = MXP_HEADER_BYTES;
    size_t max_secs = (end - off) / MXP_SECTION_HEADER_BYTES;
    r->secs = malloc((max_secs ? max_secs : 1) * sizeof *r->secs);
    if (!r->secs)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory");
    uint32_t last = 0;
    while (off < end) {
        if (end - off < MXP_SECTION_HEADER_BYTES)
            return FMT("truncated at offset %zu: a section header needs 8 bytes", off);
        uint32_t type = get_u32(r->buf + off), length = get_u32(r->buf + off + 4);
        size_t payload = off + MXP_SECTION_HEADER_BYTES;
        if (pad8(length) > end - payload)
            return FMT("truncated at offset %zu in %s section (offset %zu): it claims %u bytes, %zu remain",
                       end, section_name(type), off, length, end - payload);
        for (size_t i = payload + length; i < payload + pad8(length); i++)
            if (r->buf[i])
                return FMT("%s section at offset %zu: padding byte at offset %zu is not 0",
                           section_name(type), off, i);
        if (type == 0 || type >= MXP_SEC_LIMIT) {
            if (r->minor <= MXP_FORMAT_MINOR)
                return FMT("unknown section type %u at offset %zu", type, off);
        } else {
            if (type < last || (type == last && type != MXP_SEC_SEGMENT))
                return FMT("%s section at offset %zu: %s (sections go in type order, only SEGMENT repeats)",
                           section_name(type), off, type == last ? "duplicate" : "out of order");
            last = type;
            r->secs[r->n_secs++] = (struct section){type, length, payload};
        }
        off = payload + (size_t)pad8(length);
    }
    return MXU_OK;
}

static int read_config(const struct reader *r, const struct section *s, mxu_hw_config *c)
{
    if (s->length != MXP_CONFIG_BYTES)
        return FMT("CONFIG section at offset %zu: length %u, expected %u", s->off, s->length,
                   MXP_CONFIG_BYTES);
    const uint8_t *b = r->buf + s->off;
    uint32_t v[MXP_CONFIG_FIELDS];
    for (unsigned i = 0; i < MXP_CONFIG_FIELDS; i++)
        v[i] = get_u32(b + 4 * i);
    *c = (mxu_hw_config){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]};
    return MXU_OK;
}

static int read_code(const struct reader *r, const struct section *s, mxu_program *p)
{
    if (s->length < MXP_CODE_HEADER_BYTES)
        return FMT("truncated at offset %zu in CODE section: its header needs %u bytes, it has %u",
                   s->off + s->length, MXP_CODE_HEADER_BYTES, s->length);
    const uint8_t *b = r->buf + s->off;
    p->code_addr = get_u32(b);
    uint32_t n = get_u32(b + 4);
    uint64_t need = MXP_CODE_HEADER_BYTES + (uint64_t)n * MXU_INSN_BYTES;
    if (need != s->length)
        return FMT("CODE section at offset %zu: %u instructions need %llu bytes, the section has %u",
                   s->off, n, (unsigned long long)need, s->length);
    if (n) {
        p->insns = malloc((size_t)n * sizeof *p->insns);
        if (!p->insns)
            return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory for %u instructions", n);
    }
    b += MXP_CODE_HEADER_BYTES;
    for (uint32_t i = 0; i < n; i++)
        for (unsigned w = 0; w < MXU_INSN_WORDS; w++, b += 8)
            p->insns[i][w] = get_u64(b);
    p->n_insns = n;
    return MXU_OK;
}

static int read_segment(const struct reader *r, const struct section *s, mxu_program *p)
{
    if (s->length < MXP_SEGMENT_HEADER_BYTES)
        return FMT("truncated at offset %zu in SEGMENT section: its header needs %u bytes, it has %u",
                   s->off + s->length, MXP_SEGMENT_HEADER_BYTES, s->length);
    const uint8_t *b = r->buf + s->off;
    mxu_segment *seg = &p->segments[p->n_segments];
    memcpy(seg->name, b, MXU_NAME_LEN);
    seg->dram_addr = get_u32(b + MXU_NAME_LEN);
    seg->bytes = get_u32(b + MXU_NAME_LEN + 4);
    if ((uint64_t)MXP_SEGMENT_HEADER_BYTES + seg->bytes != s->length)
        return FMT("SEGMENT section at offset %zu: segment of %u bytes, the section has %u",
                   s->off, seg->bytes, s->length - MXP_SEGMENT_HEADER_BYTES);
    seg->data = malloc(seg->bytes ? seg->bytes : 1);
    if (!seg->data)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory for a %u-byte segment", seg->bytes);
    memcpy(seg->data, b + MXP_SEGMENT_HEADER_BYTES, seg->bytes);
    p->n_segments++;
    return MXU_OK;
}

/* A table section: u32 count, u32 reserved, count records of `size` bytes. */
static int table_count(const struct reader *r, const struct section *s, uint32_t size,
                       uint32_t *count)
{
    const char *name = section_name(s->type);
    if (s->length < MXP_TABLE_HEADER_BYTES)
        return FMT("truncated at offset %zu in %s section: its header needs %u bytes, it has %u",
                   s->off + s->length, name, MXP_TABLE_HEADER_BYTES, s->length);
    uint32_t n = get_u32(r->buf + s->off), reserved = get_u32(r->buf + s->off + 4);
    if (reserved)
        return FMT("%s section at offset %zu: reserved word is 0x%x, must be 0", name, s->off,
                   reserved);
    uint64_t need = MXP_TABLE_HEADER_BYTES + (uint64_t)n * size;
    if (need != s->length)
        return FMT("%s section at offset %zu: %u records need %llu bytes, the section has %u%s",
                   name, s->off, n, (unsigned long long)need, s->length,
                   need > s->length ? " (truncated)" : "");
    *count = n;
    return MXU_OK;
}

static int read_tensors(const struct reader *r, const struct section *s, mxu_program *p)
{
    uint32_t n;
    int rc = table_count(r, s, MXP_TENSOR_BYTES, &n);
    if (rc || n == 0)
        return rc;
    p->tensors = calloc(n, sizeof *p->tensors);
    if (!p->tensors)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory for %u tensors", n);
    const uint8_t *b = r->buf + s->off + MXP_TABLE_HEADER_BYTES;
    for (uint32_t i = 0; i < n; i++, b += MXP_TENSOR_BYTES) {
        mxu_tensor *t = &p->tensors[i];
        const uint8_t *w = b + MXU_NAME_LEN;
        memcpy(t->name, b, MXU_NAME_LEN);
        t->role = get_u32(w);
        t->dtype = get_u32(w + 4);
        t->layout = get_u32(w + 8);
        t->ndims = get_u32(w + 12);
        for (unsigned d = 0; d < MXU_MAX_DIMS; d++)
            t->dims[d] = get_u32(w + 16 + 4 * d);
        t->dram_addr = get_u32(w + 32);
        t->scale = bits_float(get_u32(w + 36));
        t->zero_point = (int32_t)get_u32(w + 40);
        if (get_u32(w + 44))
            return FMT("TENSOR section, record at offset %zu: reserved word is not 0",
                       (size_t)(b - r->buf));
    }
    p->n_tensors = n;
    return MXU_OK;
}

static int read_layers(const struct reader *r, const struct section *s, mxu_program *p)
{
    uint32_t n;
    int rc = table_count(r, s, MXP_LAYER_BYTES, &n);
    if (rc || n == 0)
        return rc;
    p->layers = calloc(n, sizeof *p->layers);
    if (!p->layers)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory for %u layers", n);
    const uint8_t *b = r->buf + s->off + MXP_TABLE_HEADER_BYTES;
    for (uint32_t i = 0; i < n; i++, b += MXP_LAYER_BYTES) {
        uint32_t v[MXP_LAYER_FIELDS];
        for (unsigned k = 0; k < MXP_LAYER_FIELDS; k++)
            v[k] = get_u32(b + MXU_NAME_LEN + 4 * k);
        if (v[27] || v[30] || v[31])
            return FMT("LAYER section, record at offset %zu: reserved word is not 0 (word %u)",
                       (size_t)(b - r->buf), v[27] ? 27u : v[30] ? 30u : 31u);
        mxu_layer *l = &p->layers[i];
        *l = (mxu_layer){.op = v[0], .flags = v[1], .input = v[2], .input2 = v[3], .output = v[4],
                         .cout = v[5], .kh = v[6], .kw = v[7], .stride_h = v[8], .stride_w = v[9],
                         .dil_h = v[10], .dil_w = v[11], .groups = v[12], .pad_top = v[13],
                         .pad_left = v[14], .pad_bottom = v[15], .pad_right = v[16],
                         .act_min = (int32_t)v[17], .act_max = (int32_t)v[18], .pool_k = v[19],
                         .pool_s = v[20], .weights = v[21], .bias = v[22], .multiplier = v[23],
                         .shift = v[24], .lut = v[25], .add_params = v[26],
                         .code_first = v[28], .code_count = v[29]};
        memcpy(l->name, b, MXU_NAME_LEN);
    }
    p->n_layers = n;
    return MXU_OK;
}

static int read_blob(const struct reader *r, const struct section *s, mxu_program *p)
{
    p->host_blob = malloc(s->length ? s->length : 1);
    if (!p->host_blob)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory for a %u-byte host blob", s->length);
    memcpy(p->host_blob, r->buf + s->off, s->length);
    p->host_blob_bytes = s->length;
    return MXU_OK;
}

static int read_metadata(const struct reader *r, const struct section *s, mxu_program *p)
{
    const uint8_t *nul = memchr(r->buf + s->off, 0, s->length);
    if (nul)
        return FMT("METADATA section at offset %zu: NUL byte at offset %zu", s->off,
                   (size_t)(nul - r->buf));
    p->metadata = malloc((size_t)s->length + 1);
    if (!p->metadata)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory for metadata");
    memcpy(p->metadata, r->buf + s->off, s->length);
    p->metadata[s->length] = 0;
    return MXU_OK;
}

static int read_section(const struct reader *r, const struct section *s, mxu_program *p,
                        struct mxp_layout *lo)
{
    switch (s->type) {
    case MXP_SEC_CONFIG: lo->config_off = s->off; return read_config(r, s, &p->config);
    case MXP_SEC_CODE: lo->code_off = s->off; return read_code(r, s, p);
    case MXP_SEC_SEGMENT: lo->segment_off[p->n_segments] = s->off; return read_segment(r, s, p);
    case MXP_SEC_TENSOR:
        lo->tensor_off = s->off + MXP_TABLE_HEADER_BYTES;
        return read_tensors(r, s, p);
    case MXP_SEC_LAYER:
        lo->layer_off = s->off + MXP_TABLE_HEADER_BYTES;
        return read_layers(r, s, p);
    case MXP_SEC_HOSTBLOB: return read_blob(r, s, p);
    case MXP_SEC_METADATA: return read_metadata(r, s, p);
    }
    return MXU_OK;
}

static void compute_dram_used(mxu_program *p)
{
    p->dram_used = 0;
    if (p->n_insns)
        update_dram_used(p, p->code_addr + (uint64_t)p->n_insns * MXU_INSN_BYTES);
    for (uint32_t i = 0; i < p->n_segments; i++)
        update_dram_used(p, (uint64_t)p->segments[i].dram_addr + p->segments[i].bytes);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        const mxu_tensor *t = &p->tensors[i];
        update_dram_used(p, t->dram_addr + mxu_tensor_elems(t) * mxu_dtype_size(t->dtype));
    }
}

static int read_body(struct reader *r, mxu_program *p)
{
    int rc = scan_sections(r);
    if (rc)
        return rc;
    size_t n_seg = 0;
    int have_config = 0, have_code = 0;
    for (size_t i = 0; i < r->n_secs; i++) {
        n_seg += r->secs[i].type == MXP_SEC_SEGMENT;
        have_config |= r->secs[i].type == MXP_SEC_CONFIG;
        have_code |= r->secs[i].type == MXP_SEC_CODE;
    }
    if (!have_config || !have_code)
        return FMT("the file has no %s section", have_config ? "CODE" : "CONFIG");
    struct mxp_layout lo = {0};
    if (n_seg) {
        p->segments = calloc(n_seg, sizeof *p->segments);
        lo.segment_off = calloc(n_seg, sizeof *lo.segment_off);
        if (!p->segments || !lo.segment_off) {
            free(lo.segment_off);
            return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory for %zu segments", n_seg);
        }
    }
    for (size_t i = 0; i < r->n_secs && !rc; i++)
        rc = read_section(r, &r->secs[i], p, &lo);
    if (!rc) {
        struct checker ck = {p, &lo, MXU_ERR_FORMAT};
        rc = validate(&ck);
    }
    free(lo.segment_off);
    if (!rc)
        compute_dram_used(p);
    return rc;
}

int mxu_program_parse(const uint8_t *buf, size_t len, mxu_program **out)
{
    if (!out || (!buf && len))
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_parse: NULL argument");
    *out = NULL;
    struct reader r = {buf, len, 0, NULL, 0};
    int rc = read_header(&r);
    if (rc)
        return rc;
    mxu_program *p = calloc(1, sizeof *p);
    if (!p)
        return mxu_fail(MXU_ERR_NOMEM, "mxp: out of memory");
    rc = read_body(&r, p);
    free(r.secs);
    if (rc) {
        mxu_program_free(p);
        return rc;
    }
    *out = p;
    return MXU_OK;
}

/* ---- files ---------------------------------------------------------------------- */

int mxu_program_write(const mxu_program *p, const char *path)
{
    if (!path)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_write: path is NULL");
    uint8_t *buf;
    size_t len;
    int rc = mxu_program_serialize(p, &buf, &len);
    if (rc)
        return rc;
    FILE *f = fopen(path, "wb");
    if (!f) {
        rc = mxu_fail(MXU_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        goto out;
    }
    size_t wrote = fwrite(buf, 1, len, f);
    int close_rc = fclose(f);
    if (wrote != len || close_rc != 0)
        rc = mxu_fail(MXU_ERR_IO, "%s: write failed: %s", path, strerror(errno));
out:
    free(buf);
    return rc;
}

int mxu_program_read(const char *path, mxu_program **out)
{
    if (!path || !out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_program_read: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mxu_fail(errno == ENOENT ? MXU_ERR_NOT_FOUND : MXU_ERR_IO, "%s: %s", path,
                        strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = MXU_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= UINT32_MAX) {
                rc = mxu_fail(MXU_ERR_FORMAT, "%s: larger than 4 GiB, not an .mxp file", path);
                goto out;
            }
            cap = cap ? cap * 2 : 65536;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                rc = mxu_fail(MXU_ERR_NOMEM, "%s: out of memory reading", path);
                goto out;
            }
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        rc = mxu_fail(MXU_ERR_IO, "%s: read failed", path);
        goto out;
    }
    rc = mxu_program_parse(buf, len, out);
    if (rc) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        mxu_fail(rc, "%s: %s", path, detail);
    }
out:
    fclose(f);
    free(buf);
    return rc;
}
