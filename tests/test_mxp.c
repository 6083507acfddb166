/* The .mxp program format: round trips, every validation rule with a crafted
 * file, truncation at every byte, random corruption, hostile counts. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mxu_crc32.h"
#include "mxu_error.h"
#include "mxu_program.h"

/* ---- a small valid program ------------------------------------------------------ */

enum { SEC_CONFIG = 1, SEC_CODE, SEC_SEGMENT, SEC_TENSOR, SEC_LAYER, SEC_HOSTBLOB, SEC_METADATA };
#define TENSOR_BYTES 112
#define LAYER_BYTES 192
#define TABLE_HEADER 8

static mxu_program *sample(void)
{
    mxu_program *p;
    cr_assert_eq(mxu_program_new(&p), MXU_OK);
    uint64_t w[MXU_INSN_WORDS] = {0};
    MXU_SET(w, LOAD, N0, 1);
    w[0] = MXU_OP_LOAD;
    cr_assert_eq(mxu_program_add_insn(p, w), MXU_OK);
    memset(w, 0, sizeof w);
    w[0] = MXU_OP_MATMUL;
    MXU_SET(w, MATMUL, NK, 1);
    cr_assert_eq(mxu_program_add_insn(p, w), MXU_OK);
    memset(w, 0, sizeof w);
    w[0] = MXU_OP_FINISH;
    cr_assert_eq(mxu_program_add_insn(p, w), MXU_OK);

    uint8_t data[256];
    for (int i = 0; i < 256; i++)
        data[i] = (uint8_t)(i * 7);
    cr_assert_eq(mxu_program_add_segment(p, "input", 0x1000, data, 256), MXU_OK);
    cr_assert_eq(mxu_program_add_segment(p, "consts", 0x2000, data, 100), MXU_OK);

    mxu_tensor x = {.name = "x", .role = MXU_ROLE_INPUT, .dtype = MXU_DTYPE_INT8,
                    .layout = MXU_LAYOUT_NHWC, .ndims = 4, .dims = {1, 4, 4, 16},
                    .dram_addr = 0x1000, .scale = 0.5f, .zero_point = -3};
    mxu_tensor y = {.name = "y", .role = MXU_ROLE_OUTPUT, .dtype = MXU_DTYPE_INT8,
                    .layout = MXU_LAYOUT_NHWC, .ndims = 4, .dims = {1, 2, 2, 8},
                    .dram_addr = 0x3000, .scale = 0.25f, .zero_point = 1};
    uint32_t ix, iy;
    cr_assert_eq(mxu_program_add_tensor(p, &x, &ix), MXU_OK);
    cr_assert_eq(mxu_program_add_tensor(p, &y, &iy), MXU_OK);
    cr_assert_eq(ix, 0);
    cr_assert_eq(iy, 1);

    mxu_layer l = {.name = "conv", .op = MXU_LAYER_CONV2D, .input = 0, .input2 = MXU_NONE,
                   .output = 1, .cout = 8, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                   .dil_h = 1, .dil_w = 1, .groups = 1, .act_min = -128, .act_max = 127,
                   .lut = MXU_NONE, .add_params = MXU_NONE};
    int8_t wts[8 * 3 * 3 * 16];
    for (size_t i = 0; i < sizeof wts; i++)
        wts[i] = (int8_t)(i % 255 - 127);
    int32_t per_ch[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_eq(mxu_program_add_blob(p, wts, sizeof wts, &l.weights), MXU_OK);
    cr_assert_eq(mxu_program_add_blob(p, per_ch, sizeof per_ch, &l.bias), MXU_OK);
    cr_assert_eq(mxu_program_add_blob(p, per_ch, sizeof per_ch, &l.multiplier), MXU_OK);
    cr_assert_eq(mxu_program_add_blob(p, per_ch, sizeof per_ch, &l.shift), MXU_OK);
    cr_assert_eq(mxu_program_add_layer(p, &l), MXU_OK);
    p->metadata = strdup("source=test\nversion=1\n");
    return p;
}

static void serialize(const mxu_program *p, uint8_t **buf, size_t *len)
{
    int rc = mxu_program_serialize(p, buf, len);
    cr_assert_eq(rc, MXU_OK, "serialize: %s", mxu_error_detail());
}

static void assert_same_program(const mxu_program *a, const mxu_program *b)
{
    cr_assert_eq(memcmp(&a->config, &b->config, sizeof a->config), 0);
    cr_assert_eq(a->code_addr, b->code_addr);
    cr_assert_eq(a->n_insns, b->n_insns);
    if (a->n_insns)
        cr_assert_eq(memcmp(a->insns, b->insns, a->n_insns * sizeof a->insns[0]), 0);
    cr_assert_eq(a->n_segments, b->n_segments);
    for (uint32_t i = 0; i < a->n_segments; i++) {
        cr_assert_str_eq(a->segments[i].name, b->segments[i].name);
        cr_assert_eq(a->segments[i].dram_addr, b->segments[i].dram_addr);
        cr_assert_eq(a->segments[i].bytes, b->segments[i].bytes);
        cr_assert_eq(memcmp(a->segments[i].data, b->segments[i].data, a->segments[i].bytes), 0);
    }
    cr_assert_eq(a->n_tensors, b->n_tensors);
    if (a->n_tensors)
        cr_assert_eq(memcmp(a->tensors, b->tensors, a->n_tensors * sizeof a->tensors[0]), 0);
    cr_assert_eq(a->n_layers, b->n_layers);
    if (a->n_layers)
        cr_assert_eq(memcmp(a->layers, b->layers, a->n_layers * sizeof a->layers[0]), 0);
    cr_assert_eq(a->host_blob_bytes, b->host_blob_bytes);
    if (a->host_blob_bytes)
        cr_assert_eq(memcmp(a->host_blob, b->host_blob, a->host_blob_bytes), 0);
    cr_assert_eq(!a->metadata, !b->metadata);
    if (a->metadata)
        cr_assert_str_eq(a->metadata, b->metadata);
}

/* ---- raw file surgery -------------------------------------------------------------- */

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void wr32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* Fix the total length and the CRC after an edit, so the reader looks deeper. */
static void reseal(uint8_t *buf, size_t len)
{
    wr32(buf + 16, (uint32_t)len);
    wr32(buf + len - 4, mxu_crc32(buf, len - 4));
}

/* File offset of the section header of the nth section of `type`. */
static size_t find_section(const uint8_t *buf, size_t len, uint32_t type, int nth)
{
    size_t off = 24;
    while (off + 8 <= len - 4) {
        uint32_t t = rd32(buf + off), n = rd32(buf + off + 4);
        if (t == type && nth-- == 0)
            return off;
        off += 8 + ((n + 7u) & ~7u);
    }
    cr_assert_fail("section %u not found", type);
    return 0;
}

/* Payload offset of a section, of tensor/layer record i. */
static size_t payload(const uint8_t *buf, size_t len, uint32_t type, int nth)
{
    return find_section(buf, len, type, nth) + 8;
}

static size_t tensor_rec(const uint8_t *buf, size_t len, int i)
{
    return payload(buf, len, SEC_TENSOR, 0) + TABLE_HEADER + (size_t)i * TENSOR_BYTES;
}

static size_t layer_word(const uint8_t *buf, size_t len, int k)
{
    return payload(buf, len, SEC_LAYER, 0) + TABLE_HEADER + 64 + 4 * (size_t)k;
}

static void expect_format_error(const uint8_t *buf, size_t len, const char *substring)
{
    mxu_program *q = (mxu_program *)1;
    int rc = mxu_program_parse(buf, len, &q);
    cr_assert_eq(rc, MXU_ERR_FORMAT, "expected a format error containing '%s', got %d (%s)",
                 substring, rc, mxu_error_detail());
    cr_assert_null(q);
    cr_assert(strstr(mxu_error_detail(), substring) != NULL, "detail '%s' lacks '%s'",
              mxu_error_detail(), substring);
}

/* Serialize the sample, poke a u32 at the offset `where` computes, reseal, and
 * expect the reader to refuse with `substring`. */
typedef size_t (*locate_fn)(const uint8_t *buf, size_t len);

static void poke_expect(locate_fn where, uint32_t value, const char *substring)
{
    mxu_program *p = sample();
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    wr32(buf + where(buf, len), value);
    reseal(buf, len);
    expect_format_error(buf, len, substring);
    free(buf);
    mxu_program_free(p);
}

/* ---- round trips ----------------------------------------------------------------- */

Test(mxp, round_trip_is_identical)
{
    mxu_program *p = sample(), *q;
    uint8_t *buf, *buf2;
    size_t len, len2;
    serialize(p, &buf, &len);
    cr_assert_eq(len % 8, 4);
    cr_assert_eq(memcmp(buf, "MXUPROG", 8), 0);
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    assert_same_program(p, q);
    cr_assert_eq(q->dram_used, 0x3000 + 2 * 2 * 8);
    serialize(q, &buf2, &len2);
    cr_assert_eq(len, len2);
    cr_assert_eq(memcmp(buf, buf2, len), 0);
    free(buf);
    free(buf2);
    mxu_program_free(p);
    mxu_program_free(q);
}

Test(mxp, empty_program_round_trips)
{
    mxu_program *p, *q;
    uint8_t *buf;
    size_t len;
    cr_assert_eq(mxu_program_new(&p), MXU_OK);
    serialize(p, &buf, &len);
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    assert_same_program(p, q);
    cr_assert_null(q->metadata);
    cr_assert_eq(q->n_insns, 0);
    free(buf);
    mxu_program_free(p);
    mxu_program_free(q);
}

Test(mxp, file_round_trip_and_missing_file)
{
    char path[] = "/tmp/mxu_test_mxp_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    mxu_program *p = sample(), *q;
    cr_assert_eq(mxu_program_write(p, path), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_read(path, &q), MXU_OK, "%s", mxu_error_detail());
    assert_same_program(p, q);
    mxu_program_free(q);
    /* A corrupted file names itself in the detail. */
    FILE *f = fopen(path, "r+b");
    fseek(f, 40, SEEK_SET);
    fputc(0x5A, f);
    fclose(f);
    cr_assert_eq(mxu_program_read(path, &q), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), path) && strstr(mxu_error_detail(), "CRC mismatch"));
    unlink(path);
    cr_assert_eq(mxu_program_read(path, &q), MXU_ERR_NOT_FOUND);
    cr_assert_null(q);
    cr_assert_eq(mxu_program_write(p, "/nonexistent-dir/x.mxp"), MXU_ERR_IO);
    mxu_program_free(p);
}

Test(mxp, helpers)
{
    mxu_program *p = sample();
    uint32_t idx;
    cr_assert_eq(mxu_program_find_tensor(p, "y", &idx), MXU_OK);
    cr_assert_eq(idx, 1);
    cr_assert_eq(mxu_program_find_tensor(p, "nope", &idx), MXU_ERR_NOT_FOUND);
    mxu_tensor dup = p->tensors[0];
    cr_assert_eq(mxu_program_add_tensor(p, &dup, NULL), MXU_ERR_INVAL);
    cr_assert_eq(mxu_dtype_size(MXU_DTYPE_INT8), 1);
    cr_assert_eq(mxu_dtype_size(MXU_DTYPE_INT32), 4);
    cr_assert_eq(mxu_dtype_size(7), 0);
    cr_assert_eq(mxu_tensor_elems(&p->tensors[0]), 256);
    uint32_t off;
    uint32_t before = p->host_blob_bytes;
    cr_assert_eq(mxu_program_add_blob(p, "abc", 3, &off), MXU_OK);
    cr_assert_eq(off % 4, 0);
    cr_assert(off >= before);
    cr_assert_eq(mxu_program_add_blob(p, NULL, 5, &off), MXU_OK);
    cr_assert_eq(off % 4, 0);
    cr_assert_eq(p->host_blob[off], 0);
    cr_assert_eq(mxu_program_add_segment(p, "", 0, "x", 1), MXU_ERR_INVAL);
    cr_assert_eq(mxu_program_add_segment(p, "empty", 0, NULL, 0), MXU_ERR_INVAL);
    char longname[80];
    memset(longname, 'a', sizeof longname - 1);
    longname[79] = 0;
    cr_assert_eq(mxu_program_add_segment(p, longname, 0, "x", 1), MXU_ERR_INVAL);
    cr_assert_eq(p->dram_used, 0x3000 + 32);
    mxu_program_free(p);
    mxu_program_free(NULL);
}

Test(mxp, names_are_written_canonically)
{
    mxu_program *p = sample(), *q;
    uint8_t *buf;
    size_t len;
    strcpy(p->layers[0].name, "c"); /* "c\0nv\0...": junk after the NUL in memory */
    serialize(p, &buf, &len);
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    cr_assert_str_eq(q->layers[0].name, "c");
    cr_assert_eq(q->layers[0].name[2], 0);
    mxu_program_free(q);
    free(buf);
    mxu_program_free(p);
}

Test(mxp, writer_refuses_invalid_programs)
{
    mxu_program *p = sample();
    uint8_t *buf;
    size_t len;
    p->tensors[1].dims[3] = 9; /* no longer the conv's cout */
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "expected 1x2x2x8"), "%s", mxu_error_detail());
    mxu_program_free(p);
}

/* ---- header and framing ----------------------------------------------------------- */

static size_t at_magic(const uint8_t *b, size_t n) { (void)b; (void)n; return 0; }
static size_t at_version(const uint8_t *b, size_t n) { (void)b; (void)n; return 8; }
static size_t at_isa(const uint8_t *b, size_t n) { (void)b; (void)n; return 12; }
static size_t at_flags(const uint8_t *b, size_t n) { (void)b; (void)n; return 20; }

Test(mxp, header_rules)
{
    poke_expect(at_magic, 0x12345678, "bad magic");
    poke_expect(at_version, 3, "newer than");                 /* format 3.0 */
    poke_expect(at_version, 1, "old format 1");               /* format 1.0 */
    poke_expect(at_version, 0, "incompatible");               /* format 0.0 */
    poke_expect(at_isa, MXU_ISA_VERSION_MAJOR + 1, "ISA");    /* another ISA major */
    poke_expect(at_isa, MXU_ISA_VERSION_MAJOR | (uint32_t)(MXU_ISA_VERSION_MINOR + 1) << 16, "ISA");
    poke_expect(at_flags, 1, "reserved header word");
}

Test(mxp, length_and_crc)
{
    mxu_program *p = sample();
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    expect_format_error(buf, len - 8, "truncated");
    wr32(buf + 16, (uint32_t)len + 8);
    expect_format_error(buf, len, "says the file has");
    reseal(buf, len);
    buf[len - 1] ^= 1;
    expect_format_error(buf, len, "CRC mismatch: file says 0x");
    buf[len - 1] ^= 1;
    buf[100] ^= 0x10;
    expect_format_error(buf, len, "CRC mismatch");
    expect_format_error(buf, 3, "truncated at offset 3 in the header");
    free(buf);
    mxu_program_free(p);
}

/* A newer minor version may add section types: readers skip them. */
Test(mxp, unknown_sections)
{
    mxu_program *p = sample(), *q;
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    size_t meta = find_section(buf, len, SEC_METADATA, 0);
    wr32(buf + meta, 42);
    reseal(buf, len);
    expect_format_error(buf, len, "unknown section type 42");
    wr32(buf + 8, 2u | 1u << 16); /* format 2.1 */
    reseal(buf, len);
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    cr_assert_null(q->metadata);
    mxu_program_free(q);
    free(buf);
    mxu_program_free(p);
}

Test(mxp, section_order_and_duplicates)
{
    mxu_program *p = sample();
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    size_t tensor = find_section(buf, len, SEC_TENSOR, 0);
    size_t layer = find_section(buf, len, SEC_LAYER, 0);
    wr32(buf + layer, SEC_TENSOR); /* TENSOR twice */
    reseal(buf, len);
    expect_format_error(buf, len, "duplicate");
    wr32(buf + layer, SEC_LAYER);
    wr32(buf + tensor, SEC_HOSTBLOB); /* HOSTBLOB before LAYER */
    reseal(buf, len);
    expect_format_error(buf, len, "out of order");
    free(buf);
    mxu_program_free(p);
}

Test(mxp, missing_code_section)
{
    mxu_program *p = sample();
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    size_t code = find_section(buf, len, SEC_CODE, 0);
    size_t size = 8 + ((rd32(buf + code + 4) + 7u) & ~7u);
    memmove(buf + code, buf + code + size, len - code - size);
    len -= size;
    reseal(buf, len);
    expect_format_error(buf, len, "no CODE section");
    free(buf);
    mxu_program_free(p);
}

Test(mxp, section_length_past_end_and_padding)
{
    mxu_program *p = sample();
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    size_t seg = find_section(buf, len, SEC_SEGMENT, 1);
    uint32_t n = rd32(buf + seg + 4);
    wr32(buf + seg + 4, 0xFFFFFFF0u);
    reseal(buf, len);
    expect_format_error(buf, len, "in SEGMENT section");
    wr32(buf + seg + 4, n);
    cr_assert_neq(n % 8, 0, "the sample's second segment needs padding");
    buf[seg + 8 + n] = 1; /* first padding byte */
    reseal(buf, len);
    expect_format_error(buf, len, "padding byte");
    free(buf);
    mxu_program_free(p);
}

/* ---- CONFIG and CODE ------------------------------------------------------------------ */

static size_t at_rows(const uint8_t *b, size_t n) { return payload(b, n, SEC_CONFIG, 0); }
static size_t at_ub_line_bytes(const uint8_t *b, size_t n) { return payload(b, n, SEC_CONFIG, 0) + 12; }
static size_t at_config_len(const uint8_t *b, size_t n) { return find_section(b, n, SEC_CONFIG, 0) + 4; }
static size_t at_code_addr(const uint8_t *b, size_t n) { return payload(b, n, SEC_CODE, 0); }
static size_t at_n_insns(const uint8_t *b, size_t n) { return payload(b, n, SEC_CODE, 0) + 4; }

Test(mxp, config_and_code_rules)
{
    poke_expect(at_rows, 0, "invalid configuration");
    poke_expect(at_ub_line_bytes, 32, "ub_line_bytes is 32, expected 16");
    poke_expect(at_config_len, 48, "length 48, expected 44");
    poke_expect(at_code_addr, 0x10, "not 32-byte aligned");
    poke_expect(at_code_addr, MXU_DEFAULT_DRAM_BYTES - 32, "outside DRAM");
    poke_expect(at_n_insns, 4, "4 instructions need 136 bytes");
    poke_expect(at_n_insns, 0xFFFFFFFFu, "instructions need"); /* hostile count */
}

/* ---- SEGMENT --------------------------------------------------------------------------- */

static size_t at_seg1_name(const uint8_t *b, size_t n) { return payload(b, n, SEC_SEGMENT, 1); }
static size_t at_seg1_name_tail(const uint8_t *b, size_t n) { return payload(b, n, SEC_SEGMENT, 1) + 8; }
static size_t at_seg1_addr(const uint8_t *b, size_t n) { return payload(b, n, SEC_SEGMENT, 1) + 64; }
static size_t at_seg1_bytes(const uint8_t *b, size_t n) { return payload(b, n, SEC_SEGMENT, 1) + 68; }

Test(mxp, segment_rules)
{
    poke_expect(at_seg1_name, 0, "name is empty");
    poke_expect(at_seg1_name_tail, 0x41414141, "after its terminating NUL");
    poke_expect(at_seg1_addr, 0x1080, "overlaps segment 0 'input'");
    poke_expect(at_seg1_addr, 0x0, "overlaps");                     /* the code at 0 */
    poke_expect(at_seg1_addr, MXU_DEFAULT_DRAM_BYTES - 50, "outside DRAM");
    poke_expect(at_seg1_bytes, 101, "segment of 101 bytes");
    poke_expect(at_seg1_bytes, 0xFFFFFFFFu, "segment of 4294967295 bytes"); /* hostile */
}

Test(mxp, segment_name_without_nul)
{
    mxu_program *p = sample();
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    memset(buf + payload(buf, len, SEC_SEGMENT, 0), 'A', 64);
    reseal(buf, len);
    expect_format_error(buf, len, "not NUL-terminated");
    free(buf);
    mxu_program_free(p);
}

/* ---- TENSOR ---------------------------------------------------------------------------- */

#define TENSOR_FIELD(fn, rec, off) \
    static size_t fn(const uint8_t *b, size_t n) { return tensor_rec(b, n, rec) + (off); }
TENSOR_FIELD(t1_role, 1, 64)
TENSOR_FIELD(t1_dtype, 1, 68)
TENSOR_FIELD(t1_layout, 1, 72)
TENSOR_FIELD(t1_ndims, 1, 76)
TENSOR_FIELD(t1_dim2, 1, 88)
TENSOR_FIELD(t0_dim0, 0, 80)
TENSOR_FIELD(t1_addr, 1, 96)
TENSOR_FIELD(t1_scale, 1, 100)
TENSOR_FIELD(t1_zp, 1, 104)
TENSOR_FIELD(t1_reserved, 1, 108)
TENSOR_FIELD(t1_name, 1, 0)
static size_t t_count(const uint8_t *b, size_t n) { return payload(b, n, SEC_TENSOR, 0); }
static size_t t_reserved(const uint8_t *b, size_t n) { return payload(b, n, SEC_TENSOR, 0) + 4; }

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

Test(mxp, tensor_rules)
{
    poke_expect(t1_role, 9, "role 9");
    poke_expect(t1_dtype, 7, "dtype 7");
    poke_expect(t1_layout, 5, "layout 5");
    poke_expect(t1_ndims, 3, "ndims is 3");
    poke_expect(t1_dim2, 0, "tensor 1: 'y': dims[2] is 0");
    poke_expect(t1_addr, MXU_DEFAULT_DRAM_BYTES - 16, "outside DRAM");
    poke_expect(t1_addr, 0x20, "overlap the code");
    poke_expect(t0_dim0, 0x40000000, "outside DRAM"); /* 2^30 * 256 bytes: no overflow */
    poke_expect(t1_scale, bits(NAN), "scale");
    poke_expect(t1_scale, bits(0.0f), "not positive");
    poke_expect(t1_scale, bits(-1.0f), "not positive");
    poke_expect(t1_zp, 300, "zero point 300");
    poke_expect(t1_reserved, 1, "reserved word");
    poke_expect(t1_name, 'x', "both named 'x'");
    poke_expect(t_count, 3, "3 records need");
    poke_expect(t_count, 0x7FFFFFFF, "records need"); /* hostile count: no allocation */
    poke_expect(t_reserved, 1, "reserved word is 0x1");
}

Test(mxp, tensor_dims_past_ndims)
{
    mxu_program *p = sample();
    uint8_t *buf;
    size_t len;
    p->tensors[0].layout = MXU_LAYOUT_NC;
    p->tensors[0].ndims = 2;
    p->tensors[0].dims[1] = 256;
    p->tensors[0].dims[2] = p->tensors[0].dims[3] = 0;
    p->n_layers = 0; /* the conv needs nhwc */
    serialize(p, &buf, &len);
    wr32(buf + t0_dim0(buf, len) + 8, 5); /* dims[2] of an nc tensor */
    reseal(buf, len);
    expect_format_error(buf, len, "dims[2] is 5 past ndims 2");
    free(buf);
    p->n_layers = 1;
    mxu_program_free(p);
}

/* ---- LAYER ---------------------------------------------------------------------------- */

#define LAYER_FIELD(fn, k) \
    static size_t fn(const uint8_t *b, size_t n) { return layer_word(b, n, k); }
LAYER_FIELD(l_op, 0)
LAYER_FIELD(l_flags, 1)
LAYER_FIELD(l_input, 2)
LAYER_FIELD(l_input2, 3)
LAYER_FIELD(l_output, 4)
LAYER_FIELD(l_cout, 5)
LAYER_FIELD(l_kh, 6)
LAYER_FIELD(l_stride_w, 9)
LAYER_FIELD(l_dil_h, 10)
LAYER_FIELD(l_groups, 12)
LAYER_FIELD(l_pad_top, 13)
LAYER_FIELD(l_act_min, 17)
LAYER_FIELD(l_pool_k, 19)
LAYER_FIELD(l_weights, 21)
LAYER_FIELD(l_bias, 22)
LAYER_FIELD(l_multiplier, 23)
LAYER_FIELD(l_add_params, 26)
LAYER_FIELD(l_reserved, 27)
static size_t l_count(const uint8_t *b, size_t n) { return payload(b, n, SEC_LAYER, 0); }

Test(mxp, layer_rules)
{
    poke_expect(l_op, 10, "op 10");
    poke_expect(l_op, MXU_LAYER_LUT, "shape of input");
    poke_expect(l_flags, 0x80, "unknown bits");
    poke_expect(l_flags, MXU_LAYER_F_LUT, "needs lut");
    poke_expect(l_input, 7, "input tensor index 7 is out of range");
    poke_expect(l_output, MXU_NONE, "output tensor index");
    poke_expect(l_input2, 0, "only add and concat have a second input");
    poke_expect(l_cout, 4, "expected 1x2x2x4");
    poke_expect(l_cout, 0, "groups");
    poke_expect(l_kh, 0, "at least 1");
    poke_expect(l_kh, 0x80000000u, "exceeds the padded input");
    poke_expect(l_stride_w, 2, "expected 1x2x1x8");
    poke_expect(l_dil_h, 0, "dilation");
    poke_expect(l_groups, 3, "groups 3 must divide");
    poke_expect(l_pad_top, 0xFFFFFFFFu, "expected"); /* huge padding: no overflow */
    poke_expect(l_act_min, 200, "clamp [200, 127]");
    poke_expect(l_pool_k, 2, "pool 2,0");
    poke_expect(l_weights, MXU_NONE, "needs weights");
    poke_expect(l_weights, 0xFFFFFF00u, "outside the host blob");
    poke_expect(l_bias, 2, "not 4-byte aligned");
    poke_expect(l_multiplier, 0xFFFFFFFCu, "outside the host blob");
    poke_expect(l_add_params, 0, "has no add_params");
    poke_expect(l_reserved, 1, "reserved word is not 0");
    poke_expect(l_count, 0x01000000, "records need"); /* hostile count */
}

Test(mxp, layer_lut_without_flag_is_bounds_checked)
{
    mxu_program *p = sample(), *q;
    uint8_t *buf;
    size_t len;
    p->layers[0].lut = 0; /* 256 bytes at 0 inside the blob: valid without the flag */
    serialize(p, &buf, &len);
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    mxu_program_free(q);
    free(buf);
    p->layers[0].lut = p->host_blob_bytes - 8;
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "lut"), "%s", mxu_error_detail());
    mxu_program_free(p);
}

Test(mxp, fc_pool_and_add_layers)
{
    mxu_program *p = sample(), *q;
    uint8_t *buf;
    size_t len;
    mxu_tensor a = p->tensors[0], b = p->tensors[0], fc = p->tensors[1];
    strcpy(a.name, "a");
    strcpy(b.name, "b");
    a.dram_addr = 0x4000;
    b.dram_addr = 0x5000;
    strcpy(fc.name, "fc_out");
    fc.layout = MXU_LAYOUT_NC;
    fc.ndims = 2;
    fc.dims[1] = 10;
    fc.dims[2] = fc.dims[3] = 0;
    fc.dram_addr = 0x6000;
    cr_assert_eq(mxu_program_add_tensor(p, &a, NULL), MXU_OK); /* 2 */
    cr_assert_eq(mxu_program_add_tensor(p, &b, NULL), MXU_OK); /* 3 */
    cr_assert_eq(mxu_program_add_tensor(p, &fc, NULL), MXU_OK); /* 4 */
    mxu_layer add = p->layers[0];
    strcpy(add.name, "add");
    add.op = MXU_LAYER_ADD;
    add.input = 0;
    add.input2 = 2;
    add.output = 3;
    add.weights = add.bias = add.multiplier = add.shift = MXU_NONE;
    int32_t params[16] = {0};
    cr_assert_eq(mxu_program_add_blob(p, params, sizeof params, &add.add_params), MXU_OK);
    cr_assert_eq(mxu_program_add_layer(p, &add), MXU_OK);
    mxu_layer pool = add;
    strcpy(pool.name, "pool");
    pool.op = MXU_LAYER_MAXPOOL;
    pool.input2 = MXU_NONE;
    pool.add_params = MXU_NONE;
    pool.kh = pool.kw = 2;
    pool.stride_h = pool.stride_w = 2;
    pool.output = 1; /* 1x4x4x16 -> 1x2x2x16, but y has 8 channels */
    cr_assert_eq(mxu_program_add_layer(p, &pool), MXU_OK);
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "expected 1x2x2x16"), "%s", mxu_error_detail());
    p->n_layers--;
    mxu_layer f = p->layers[0];
    memset(f.name, 0, sizeof f.name);
    strcpy(f.name, "fc");
    f.op = MXU_LAYER_FC;
    f.output = 4;
    f.cout = 10;
    cr_assert_eq(mxu_program_add_layer(p, &f), MXU_OK);
    /* 10 x 256 weights do not fit where the conv's 1152 were (blob is too short) */
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "weights"), "%s", mxu_error_detail());
    uint8_t w[2560] = {0};
    cr_assert_eq(mxu_program_add_blob(p, w, sizeof w, &p->layers[2].weights), MXU_OK);
    int32_t pc[10] = {0};
    cr_assert_eq(mxu_program_add_blob(p, pc, sizeof pc, &p->layers[2].bias), MXU_OK);
    p->layers[2].multiplier = p->layers[2].shift = p->layers[2].bias;
    serialize(p, &buf, &len);
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    assert_same_program(p, q);
    mxu_program_free(q);
    free(buf);
    mxu_program_free(p);
}

static size_t meta_first(const uint8_t *b, size_t n) { return payload(b, n, SEC_METADATA, 0); }

Test(mxp, metadata_with_nul)
{
    poke_expect(meta_first, 0x00414141, "NUL byte");
}

/* ---- truncation and corruption ----------------------------------------------------------- */

Test(mxp, truncation_at_every_byte)
{
    mxu_program *p = sample(), *q;
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    /* Cutting whole trailing sections off leaves a valid (smaller) program. */
    char *boundary = calloc(len + 1, 1);
    for (size_t off = 24; off + 8 <= len - 4; off += 8 + ((rd32(buf + off + 4) + 7u) & ~7u))
        boundary[off + 4] = 1;
    uint8_t *cut = malloc(len);
    for (size_t n = 0; n < len; n++) {
        memcpy(cut, buf, n);
        q = (mxu_program *)1;
        cr_assert_eq(mxu_program_parse(n ? cut : NULL, n, &q), MXU_ERR_FORMAT, "length %zu", n);
        cr_assert_null(q);
        /* Sealed again, the cut must still be found by the structure checks. */
        if (n >= 28 && n % 8 == 4) {
            reseal(cut, n);
            int rc = mxu_program_parse(cut, n, &q);
            if (boundary[n] && rc == MXU_OK)
                mxu_program_free(q);
            else
                cr_assert_eq(rc, MXU_ERR_FORMAT, "sealed length %zu", n);
        }
    }
    free(boundary);
    free(cut);
    free(buf);
    mxu_program_free(p);
}

Test(mxp, random_byte_flips_are_detected)
{
    mxu_program *p = sample(), *q;
    uint8_t *buf;
    size_t len;
    serialize(p, &buf, &len);
    uint8_t *bad = malloc(len);
    uint64_t s = 12345;
    int sealed_ok = 0;
    for (int i = 0; i < 3000; i++) {
        memcpy(bad, buf, len);
        int flips = 1 + i % 4;
        for (int k = 0; k < flips; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            size_t pos = (size_t)(s >> 33) % len;
            uint8_t mask = (uint8_t)(1u << ((s >> 20) & 7));
            bad[pos] ^= mask;
        }
        if (memcmp(bad, buf, len) == 0)
            continue;
        cr_assert_eq(mxu_program_parse(bad, len, &q), MXU_ERR_FORMAT, "flip set %d", i);
        /* With the CRC fixed the validation must still hold: never crash. */
        reseal(bad, len);
        if (mxu_program_parse(bad, len, &q) == MXU_OK) {
            sealed_ok++;
            mxu_program_free(q);
        }
    }
    cr_assert(sealed_ok < 3000);
    free(bad);
    free(buf);
    mxu_program_free(p);
}

Test(mxp, crc32_known_values)
{
    cr_assert_eq(mxu_crc32("123456789", 9), 0xCBF43926u);
    cr_assert_eq(mxu_crc32("", 0), 0);
    uint32_t c = mxu_crc32_update(0, "1234", 4);
    cr_assert_eq(mxu_crc32_update(c, "56789", 5), 0xCBF43926u);
    uint8_t zeros[32] = {0};
    cr_assert_eq(mxu_crc32(zeros, 32), 0x190A55ADu);
}
