/* The assembler and disassembler: instructions from the field table, every
 * directive, every error with its line:col, round trips, the examples. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu.h"
#include "mxu_asm.h"
#include "mxu_error.h"
#include "mxu_reference.h"
#include "support/disasm.h"

#ifndef MXU_SOURCE_DIR
#define MXU_SOURCE_DIR "."
#endif

static mxu_program *asm_ok(const char *src)
{
    mxu_program *p = NULL;
    int rc = mxu_asm_parse(src, "t.s", NULL, &p);
    cr_assert_eq(rc, MXU_OK, "assembly failed: %s\n--- source:\n%s", mxu_error_detail(), src);
    cr_assert_not_null(p);
    return p;
}

/* The source must fail with a detail starting with `prefix` ("t.s:L:C: ...")
 * and containing `text`. */
static void asm_err(const char *src, const char *prefix, const char *text)
{
    mxu_program *p = (mxu_program *)1;
    int rc = mxu_asm_parse(src, "t.s", NULL, &p);
    cr_assert_eq(rc, MXU_ERR_FORMAT, "expected an error for:\n%s\n(got %d: %s)", src, rc,
                 mxu_error_detail());
    cr_assert_null(p);
    const char *d = mxu_error_detail();
    cr_assert(strncmp(d, prefix, strlen(prefix)) == 0, "detail '%s' does not start with '%s'", d,
              prefix);
    cr_assert(strstr(d, text) != NULL, "detail '%s' lacks '%s'", d, text);
}

static void assert_same_bytes(const mxu_program *a, const mxu_program *b)
{
    uint8_t *x, *y;
    size_t nx, ny;
    cr_assert_eq(mxu_program_serialize(a, &x, &nx), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_serialize(b, &y, &ny), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(nx, ny, "file sizes %zu and %zu differ", nx, ny);
    cr_assert_eq(memcmp(x, y, nx), 0, "the two programs' files differ");
    free(x);
    free(y);
}

/* asm -> program -> disasm -> asm: the same program. */
static void assert_round_trip(const mxu_program *p)
{
    char *text = test_disasm(p);
    mxu_program *q = NULL;
    int rc = mxu_asm_parse(text, "listing", NULL, &q);
    cr_assert_eq(rc, MXU_OK, "listing does not assemble: %s\n%.2000s", mxu_error_detail(), text);
    assert_same_bytes(p, q);
    mxu_program_free(q);
    free(text);
}

/* ---- instructions -------------------------------------------------------------------- */

Test(asm, load_fields_and_flags)
{
    mxu_program *p = asm_ok(
        ".allow_invalid\nload mem=wb pop_next push_next elem_bytes=16 dram_addr=0x1000 dst_line=3 pad_value=-7 "
        "n0=2 n1=1 n2=1 s0=16 s1=0 s2=0 pad_left=1\nfinish\n");
    cr_assert_eq(p->n_insns, 2);
    uint64_t w[MXU_INSN_WORDS] = {0};
    w[0] = MXU_OP_LOAD;
    MXU_SET(w, LOAD, MEM, MXU_MEM_WB);
    MXU_SET(w, LOAD, POP_NEXT, 1);
    MXU_SET(w, LOAD, PUSH_NEXT, 1);
    MXU_SET(w, LOAD, ELEM_BYTES, 16);
    MXU_SET(w, LOAD, DRAM_ADDR, 0x1000);
    MXU_SET(w, LOAD, DST_LINE, 3);
    MXU_SET(w, LOAD, PAD_VALUE, (uint8_t)-7);
    MXU_SET(w, LOAD, N0, 2);
    MXU_SET(w, LOAD, N1, 1);
    MXU_SET(w, LOAD, N2, 1);
    MXU_SET(w, LOAD, S0, 16);
    MXU_SET(w, LOAD, PAD_LEFT, 1);
    cr_assert_eq(memcmp(p->insns[0], w, sizeof w), 0);
    cr_assert_eq(MXU_GETS(p->insns[0], LOAD, PAD_VALUE), -7);
    cr_assert_eq(p->insns[1][0], MXU_OP_FINISH);
    mxu_program_free(p);
}

Test(asm, disasm_one_line)
{
    uint64_t w[MXU_INSN_WORDS] = {MXU_OP_ACTIVATE, 0, 0, 0};
    MXU_SET(w, ACTIVATE, PUSH_NEXT, 1);
    MXU_SET(w, ACTIVATE, ZP_OUT, (uint8_t)-3);
    MXU_SET(w, ACTIVATE, OUT_W, 4);
    char line[256];
    int n = mxu_disasm_insn(w, line, sizeof line);
    cr_assert_str_eq(line, "activate push_next out_w=4 zp_out=-3");
    cr_assert_eq(n, (int)strlen(line));
    cr_assert_eq(mxu_disasm_insn(w, line, 8), MXU_ERR_INVAL);
    cr_assert_eq(strlen(line), 7);
    uint64_t bad[MXU_INSN_WORDS] = {0xF, 0, 0, 0x8000000000000000ull};
    mxu_disasm_insn(bad, line, sizeof line);
    cr_assert_str_eq(line, ".insn 0x000000000000000f 0x0000000000000000 0x0000000000000000 "
                           "0x8000000000000000");
    uint64_t reserved[MXU_INSN_WORDS] = {MXU_OP_FINISH | 0x100, 0, 0, 0};
    mxu_disasm_insn(reserved, line, sizeof line);
    cr_assert(strncmp(line, ".insn 0x0000000000000105", 24) == 0, "%s", line);
}

/* Every field of the generated table, at its extreme values, both directions. */
Test(asm, field_table_drives_both_directions)
{
    for (unsigned i = 0; i < mxu_isa_n_fields; i++) {
        const struct mxu_isa_field *f = &mxu_isa_fields[i];
        const char *opname = NULL;
        for (unsigned k = 0; k < mxu_isa_n_opcodes; k++)
            if (mxu_isa_opcodes[k].value == f->opcode)
                opname = mxu_isa_opcodes[k].name;
        cr_assert_not_null(opname);
        long long vals[2];
        vals[0] = f->is_signed ? -(1ll << (f->bits - 1)) : (long long)((1ull << f->bits) - 1);
        vals[1] = f->is_signed ? (1ll << (f->bits - 1)) - 1 : 1;
        for (int v = 0; v < 2; v++) {
            char src[200], lc[16];
            size_t n = 0;
            for (; opname[n]; n++)
                lc[n] = (char)(opname[n] + ('a' - 'A'));
            lc[n] = 0;
            snprintf(src, sizeof src, ".allow_invalid\n%s %s=%lld\n", lc, f->name, vals[v]);
            mxu_program *p = asm_ok(src);
            uint64_t want[MXU_INSN_WORDS] = {0};
            want[0] = f->opcode;
            mxu_insn_set(want, f->pos, f->bits, (uint64_t)vals[v]);
            cr_assert_eq(memcmp(p->insns[0], want, sizeof want), 0, "field %s", f->name);
            char line[200];
            mxu_disasm_insn(p->insns[0], line, sizeof line);
            cr_assert(strstr(line, f->name), "'%s' lacks %s", line, f->name);
            assert_round_trip(p);
            mxu_program_free(p);
            /* One past the range is refused at the value's column. */
            long long over = f->is_signed && v == 0 ? vals[0] - 1 : (long long)((1ull << f->bits));
            if (f->bits >= 32 && !f->is_signed && v == 1)
                continue;
            snprintf(src, sizeof src, ".allow_invalid\n%s %s=%lld\n", lc, f->name, over);
            char prefix[32];
            snprintf(prefix, sizeof prefix, "t.s:2:%zu:", strlen(lc) + 2 + strlen(f->name) + 1);
            asm_err(src, prefix, "out of range");
        }
    }
}

Test(asm, numbers_and_mem_names)
{
    mxu_program *p = asm_ok(".allow_invalid\nload mem=lut n0=0x10 n1=0b101 n2=+3 pad_value=-128\n"
                            "load mem=5\nLOAD mem=param\n");
    cr_assert_eq(MXU_GET(p->insns[0], LOAD, MEM), MXU_MEM_LUT);
    cr_assert_eq(MXU_GET(p->insns[0], LOAD, N0), 16);
    cr_assert_eq(MXU_GET(p->insns[0], LOAD, N1), 5);
    cr_assert_eq(MXU_GET(p->insns[0], LOAD, N2), 3);
    cr_assert_eq(MXU_GETS(p->insns[0], LOAD, PAD_VALUE), -128);
    cr_assert_eq(MXU_GET(p->insns[1], LOAD, MEM), 5);
    cr_assert_eq(MXU_GET(p->insns[2], LOAD, MEM), MXU_MEM_PARAM);
    assert_round_trip(p);
    mxu_program_free(p);
}

Test(asm, instruction_errors)
{
    asm_err("finish\nlod n0=1\n", "t.s:2:1:", "unknown instruction 'lod'");
    asm_err("  load foo=1\n", "t.s:1:8:", "load has no field 'foo'");
    asm_err("load n0=65536\n", "t.s:1:9:", "n0: 65536 is out of range [0, 65535]");
    asm_err("load pad_value=128\n", "t.s:1:16:", "out of range [-128, 127]");
    asm_err("load n0=-1\n", "t.s:1:9:", "out of range");
    asm_err("load n0=12abc\n", "t.s:1:9:", "not a number");
    asm_err("load n0\n", "t.s:1:6:", "needs a value");
    asm_err("load n0=1 n0=2\n", "t.s:1:11:", "given twice");
    asm_err("finish accumulate\n", "t.s:1:8:", "finish has no field 'accumulate' (fields: none)");
    asm_err("store mem=ub\n", "t.s:1:7:", "store has no field 'mem'");
    asm_err(".insn 1 2 3\n", "t.s:1:1:", ".insn takes 4");
    asm_err(".insn 1 2 3 zz\n", "t.s:1:13:", "not a 64-bit number");
    asm_err(".frobnicate\n", "t.s:1:1:", "unknown directive");
}

/* ---- the decoder's checks ---------------------------------------------------------------- */

Test(asm, decode_check_errors_name_the_line)
{
    asm_err("; comment\n\nmatmul n0=0 n1=1 nk=1\nfinish\n", "t.s:3:1:",
            "instruction 0 (matmul n1=1 nk=1) is invalid: ILLEGAL_FIELD");
    asm_err("load mem=ub elem_bytes=16 n0=1 n1=1 n2=1\nmatmul pop_prev n0=1 n1=1 nk=1\nfinish\n",
            "t.s:2:1:", "TOKEN");
    asm_err("load mem=ub elem_bytes=16 n0=1 n1=1 n2=1 dram_addr=0xFFFFFFF0\nfinish\n", "t.s:1:1:",
            "DRAM_RANGE");
    asm_err("load mem=ub elem_bytes=16 n0=1 n1=1 n2=1\n", "t.s:2:1:", "no finish");
    asm_err(".insn 0xF 0 0 0\nfinish\n", "t.s:1:1:", "ILLEGAL_OPCODE");
    /* .allow_invalid keeps all of them. */
    mxu_program *p = asm_ok(".allow_invalid\nmatmul n0=0\n.insn 0xF 0 0 0\nmatmul pop_prev\n");
    cr_assert_eq(p->n_insns, 3);
    cr_assert_eq(p->insns[1][0], 0xF);
    char *text = test_disasm(p);
    cr_assert(strstr(text, ".allow_invalid ; instruction 0: ILLEGAL_FIELD"), "%s", text);
    free(text);
    assert_round_trip(p);
    mxu_program_free(p);
}

/* ---- directives ------------------------------------------------------------------------ */

Test(asm, config_and_code)
{
    mxu_program *p = asm_ok(".config rows=8,cols=32 acc=512\n.code 0x100\nfinish\n");
    cr_assert_eq(p->config.rows, 8);
    cr_assert_eq(p->config.cols, 32);
    cr_assert_eq(p->config.acc_rows, 512);
    cr_assert_eq(p->config.ub_line_bytes, 32);
    cr_assert_eq(p->code_addr, 0x100);
    cr_assert_eq(p->dram_used, 0x120);
    assert_round_trip(p);
    mxu_program_free(p);
    /* Without .config: the caller's default. */
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cfg.rows = 4;
    cr_assert_eq(mxu_asm_parse("finish\n", NULL, &cfg, &p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(p->config.rows, 4);
    cr_assert_eq(p->config.ub_line_bytes, 16);
    mxu_program_free(p);
    cfg.rows = 0;
    cr_assert_eq(mxu_asm_parse("finish\n", NULL, &cfg, &p), MXU_ERR_INVAL);
    asm_err("finish\n.config rows=8\n", "t.s:2:1:", "must come before line 1");
    asm_err(".config rows=8\n.config rows=8\nfinish\n", "t.s:2:1:", "second .config");
    asm_err(".config bogus=1\nfinish\n", "t.s:1:9:", "bogus");
    asm_err(".code 0x10\nfinish\n", "t.s:1:7:", "not 32-byte aligned");
    asm_err(".code 0\n.code 32\nfinish\n", "t.s:2:1:", "second .code");
    asm_err(".code 0x0FFFFFE0\nfinish\nfinish\n", "t.s:", "outside DRAM");
}

Test(asm, segments_and_data)
{
    mxu_program *p = asm_ok(".code 0\nfinish\n"
                            ".segment a 0x1000\n"
                            ".byte 1, 2,3 0xff -1\n"
                            ".i8 -128 127\n"
                            ".i16 -2 0x1234\n"
                            ".i32 -1 0x12345678\n"
                            ".fill 3 0x55\n"
                            ".segment \"b c\" @0x2000\n"
                            ".random 1000 42 -3 3\n");
    cr_assert_eq(p->n_segments, 2);
    const mxu_segment *a = &p->segments[0], *b = &p->segments[1];
    cr_assert_str_eq(a->name, "a");
    cr_assert_eq(a->dram_addr, 0x1000);
    const uint8_t want[] = {1, 2, 3, 0xff, 0xff, 0x80, 0x7f, 0xfe, 0xff, 0x34, 0x12,
                            0xff, 0xff, 0xff, 0xff, 0x78, 0x56, 0x34, 0x12, 0x55, 0x55, 0x55};
    cr_assert_eq(a->bytes, sizeof want);
    cr_assert_eq(memcmp(a->data, want, sizeof want), 0);
    cr_assert_str_eq(b->name, "b c");
    cr_assert_eq(b->bytes, 1000);
    int seen[7] = {0};
    for (int i = 0; i < 1000; i++) {
        int8_t v = (int8_t)b->data[i];
        cr_assert(v >= -3 && v <= 3);
        seen[v + 3]++;
    }
    for (int i = 0; i < 7; i++)
        cr_assert(seen[i] > 80, "value %d drawn %d times", i - 3, seen[i]);
    /* .random is deterministic in its seed. */
    mxu_program *q = asm_ok("finish\n.segment x 0x1000\n.random 1000 42 -3 3\n");
    cr_assert_eq(memcmp(q->segments[0].data, b->data, 1000), 0);
    mxu_program_free(q);
    q = asm_ok("finish\n.segment x 0x1000\n.random 1000 43 -3 3\n");
    cr_assert_neq(memcmp(q->segments[0].data, b->data, 1000), 0);
    mxu_program_free(q);
    assert_round_trip(p);
    mxu_program_free(p);
}

Test(asm, data_errors)
{
    asm_err("finish\n.byte 1\n", "t.s:2:7:", "outside a .segment");
    asm_err("finish\n.segment a 0x100\n.byte 1,256\n", "t.s:3:9:", "out of range [-128, 255]");
    asm_err("finish\n.segment a 0x100\n.byte 1,,2\n", "t.s:3:9:", "expected a value");
    asm_err("finish\n.segment a 0x100\n.i16 70000\n", "t.s:3:6:", "out of range");
    asm_err("finish\n.segment a 0x100\n.segment b 0x200\n.byte 1\n", "t.s:2:1:", "no data");
    asm_err("finish\n.segment a 0x100\n.fill 16 0\n.segment b 0x10f\n.byte 1\n", "t.s:4:1:",
            "overlaps segment 'a'");
    asm_err("finish\n.segment a 0x100\n.random 0 1\n", "t.s:3:9:", "byte count");
    asm_err("finish\n.segment a 0x100\n.random 4 1 5 2\n", "t.s:3:15:", "maximum");
    asm_err("finish\n.segment a 0x0FFFFFFF\n.fill 2 0\n", "t.s:2:1:", "outside DRAM");
    asm_err("finish\n.segment a 0x100\n.byte 1\n.segment \"unterminated 0x200\n", "t.s:4:10:",
            "unterminated string");
    asm_err("finish\n.segment \"\\q\" 0\n", "t.s:2:", "unknown escape");
    asm_err("finish\n.segment\n", "t.s:2:1:", ".segment takes NAME ADDR");
    asm_err("finish\n.segment a 0x100\n.byte 1\n.fill 4\n", "t.s:4:1:", ".fill takes");
    /* The code may not overlap a segment either. */
    asm_err("finish\n.segment a 0x0\n.byte 1\n", "t.s:", "overlaps");
}

Test(asm, hostblob_meta_and_comments)
{
    mxu_program *p = asm_ok("finish # a comment\n"
                            ".hostblob\n.byte 1 2 3\n.i32 7\n"
                            ".meta model=lenet\n"
                            ".meta \"raw; #text\\n\\x01\"\n");
    cr_assert_eq(p->host_blob_bytes, 7);
    cr_assert_eq(p->host_blob[3], 7);
    cr_assert_str_eq(p->metadata, "model=lenet\nraw; #text\n\x01");
    assert_round_trip(p);
    mxu_program_free(p);
    p = asm_ok("finish\n.meta \"\"\n");
    cr_assert_not_null(p->metadata);
    cr_assert_str_eq(p->metadata, "");
    assert_round_trip(p);
    mxu_program_free(p);
    asm_err("finish\n.meta a b\n", "t.s:2:1:", ".meta takes one");
}

/* ---- tensors, layers, pack ---------------------------------------------------------------- */

#define TENSORS                                                                   \
    ".tensor x input int8 nhwc 1x6x6x16 @0x10000 scale=0.05 zp=-3\n"              \
    ".tensor y output int8 nhwc 1x4x4x20 @0x20000 scale=0.1 zp=5\n"

Test(asm, tensors)
{
    mxu_program *p = asm_ok("finish\n" TENSORS ".tensor acc activation int32 nc 2x3 @0x30000\n");
    cr_assert_eq(p->n_tensors, 3);
    const mxu_tensor *x = &p->tensors[0], *acc = &p->tensors[2];
    cr_assert_str_eq(x->name, "x");
    cr_assert_eq(x->role, MXU_ROLE_INPUT);
    cr_assert_eq(x->layout, MXU_LAYOUT_NHWC);
    cr_assert_eq(x->dims[3], 16);
    cr_assert_float_eq(x->scale, 0.05f, 1e-9);
    cr_assert_eq(x->zero_point, -3);
    cr_assert_eq(acc->dtype, MXU_DTYPE_INT32);
    cr_assert_eq(acc->ndims, 2);
    cr_assert_float_eq(acc->scale, 1.0f, 0);
    cr_assert_eq(p->dram_used, 0x30000 + 24);
    assert_round_trip(p);
    mxu_program_free(p);
    asm_err("finish\n.tensor x inptu int8 nc 1x2 @0\n", "t.s:2:11:", "role 'inptu' is not one of input|output|activation");
    asm_err("finish\n.tensor x input int8 nhwc 1x2 @0x100\n", "t.s:2:27:", "needs 4 dimensions");
    asm_err("finish\n.tensor x input int8 nc 1x0 @0x100\n", "t.s:2:27:", "dimension");
    asm_err("finish\n.tensor x input int8 nc 1x2 0x100\n", "t.s:2:29:", "@ADDR");
    asm_err("finish\n.tensor x input int8 nc 1x2 @0x0FFFFFFF\n", "t.s:2:29:", "does not fit");
    asm_err("finish\n.tensor x input int8 nc 1x2 @0x100 zp=200\n", "t.s:2:39:", "zero point");
    asm_err("finish\n.tensor x input int8 nc 1x2 @0x100 scale=-1\n", "t.s:2:42:", "positive");
    asm_err("finish\n.tensor x input int8 nc 1x2 @0x100 bogus=1\n", "t.s:2:36:", "unknown tensor option");
    asm_err("finish\n.tensor x input int8 nc 1x2 @0x100\n.tensor x input int8 nc 1x2 @0x200\n",
            "t.s:3:9:", "already defined");
}

Test(asm, conv_layer_with_generated_arrays)
{
    mxu_program *p = asm_ok("finish\n" TENSORS
                            ".layer conv2d c in=x out=y cout=20 k=3 relu6 weights=random:5 "
                            "bias=random:6 wscale=0.002\n");
    cr_assert_eq(p->n_layers, 1);
    const mxu_layer *l = &p->layers[0];
    cr_assert_eq(l->op, MXU_LAYER_CONV2D);
    cr_assert_eq(l->kh, 3);
    cr_assert_eq(l->kw, 3);
    cr_assert_eq(l->stride_h, 1);
    cr_assert_eq(l->groups, 1);
    cr_assert_eq(l->input2, MXU_NONE);
    cr_assert_eq(l->act_min, 5);            /* relu6: [zp, zp + round(6 / 0.1)] */
    cr_assert_eq(l->act_max, 65);
    cr_assert_eq(l->lut, MXU_NONE);
    cr_assert_eq(l->flags, 0);
    const int8_t *w = (const int8_t *)p->host_blob + l->weights;
    int nonzero = 0;
    for (int i = 0; i < 20 * 9 * 16; i++) {
        cr_assert(w[i] >= -127 && w[i] <= 127);
        nonzero += w[i] != 0;
    }
    cr_assert(nonzero > 2000);
    int32_t bias, mult, shift;
    for (int c = 0; c < 20; c++) {
        memcpy(&bias, p->host_blob + l->bias + 4 * c, 4);
        memcpy(&mult, p->host_blob + l->multiplier + 4 * c, 4);
        memcpy(&shift, p->host_blob + l->shift + 4 * c, 4);
        cr_assert(bias >= -2000 && bias <= 2000);
        /* 0.05 * 0.002 / 0.1 = 0.001 = 0.512 * 2^-9 */
        cr_assert_eq(shift, -9);
        cr_assert(mult > 1099000000 && mult < 1100000000, "multiplier %d", mult);
    }
    assert_round_trip(p);
    mxu_program_free(p);
}

Test(asm, layers_with_lists_offsets_and_pools)
{
    mxu_program *p = asm_ok(
        "finish\n"
        ".tensor a input int8 nc 2x3 @0x1000 scale=0.5\n"
        ".tensor b output int8 nc 2x2 @0x2000 scale=0.25 zp=1\n"
        ".tensor i input int8 nhwc 1x4x4x8 @0x3000\n"
        ".tensor o output int8 nhwc 1x2x2x8 @0x4000\n"
        ".tensor o2 output int8 nhwc 1x4x4x8 @0x5000\n"
        ".layer fc f in=a out=b cout=2 weights=1,2,3,-4,-5,-6 bias=10,-10 multiplier=1073741824,"
        "1073741824 shift=-1,0 act_min=-5 act_max=100 lut=random:3\n"
        ".layer maxpool mp in=i out=o k=2 stride=2\n"
        ".layer avgpool ap in=i out=o k=3 stride=2 pad=0,0,1,1\n"
        ".layer add sum in=i in2=i out=o2\n"
        ".layer fc f2 in=a out=b cout=2 weights=@0 wscale=0.1,0.2 flags=0\n");
    cr_assert_eq(p->n_layers, 5);
    const mxu_layer *f = &p->layers[0];
    const int8_t *w = (const int8_t *)p->host_blob + f->weights;
    cr_assert_eq(w[3], -4);
    int32_t v;
    memcpy(&v, p->host_blob + f->bias + 4, 4);
    cr_assert_eq(v, -10);
    memcpy(&v, p->host_blob + f->shift, 4);
    cr_assert_eq(v, -1);
    cr_assert_eq(f->act_min, -5);
    cr_assert_eq(f->act_max, 100);
    cr_assert_eq(f->flags, MXU_LAYER_F_LUT);
    cr_assert_neq(f->lut, MXU_NONE);
    cr_assert_eq(p->layers[2].pad_bottom, 1);
    cr_assert_eq(p->layers[2].pad_top, 0);
    const mxu_layer *add = &p->layers[3];
    cr_assert_eq(add->input2, 2);
    cr_assert_neq(add->add_params, MXU_NONE); /* computed from the scales */
    memcpy(&v, p->host_blob + add->add_params, 4);
    cr_assert_eq(v, 20); /* left_shift */
    assert_round_trip(p);
    mxu_program_free(p);
}

Test(asm, layer_errors)
{
    const char *head = "finish\n" TENSORS;
    char src[600];
#define LAYER_ERR(line, prefix, text)                     \
    do {                                                  \
        snprintf(src, sizeof src, "%s%s\n", head, line);  \
        asm_err(src, prefix, text);                       \
    } while (0)
    LAYER_ERR(".layer conv2d c in=z out=y cout=20 k=3", "t.s:4:20:", "no tensor named 'z'");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 weights=random:1", "t.s:4:8:", "needs wscale");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 weights=1,2", "t.s:4:48:", "takes 2880 values, 2 are given");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 bogus=1", "t.s:4:40:", "unknown layer key 'bogus'");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 relu7", "t.s:4:40:", "needs a value");
    LAYER_ERR(".layer conv c in=x out=y", "t.s:4:8:", "layer op 'conv' is not one of");
    LAYER_ERR(".layer conv2d c out=y", "t.s:4:8:", "needs in=TENSOR and out=TENSOR");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 in2=x", "t.s:4:8:", "in2=TENSOR is only for add");
    LAYER_ERR(".layer add c in=x out=y", "t.s:4:8:", "needed");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 weights=random:1 multiplier=random:1 shift=@0",
              "t.s:4:68:", "cannot be random");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 weights=random:1 wscale=0.1,0.2", "t.s:4:", "wscale gives 2 values");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 weights=random:1 multiplier=@0", "t.s:4:8:", "both multiplier= and shift=");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=2 weights=random:1 wscale=0.1", "t.s:4:15:", "expected 1x5x5x20");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 weights=random:1 wscale=1e12", "t.s:4:", "not representable");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 groups=3 weights=random:1 wscale=0.1", "t.s:4:8:", "groups");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 weights=@999999 wscale=0.1", "t.s:4:15:", "outside the host blob");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 stride=1,2,3", "t.s:4:", "at most 2 values");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 pad=1,2", "t.s:4:44:", "pad takes N or");
    LAYER_ERR(".layer conv2d c in=x out=y cout=20 k=3 act_min=-200", "t.s:4:48:", "act_min");
    LAYER_ERR(".layer maxpool m in=x out=y k=2 wscale=1", "t.s:4:", "no weights to scale");
    LAYER_ERR(".layer maxpool m in=x out=y k=2 weights=1", "t.s:4:", "has no weights");
    /* Layer names may repeat (the .mxp reader allows it), but .pack needs a unique one. */
    snprintf(src, sizeof src, "%s.layer conv2d c in=x out=y cout=20 k=3 weights=random:1 wscale=0.01\n"
             ".layer conv2d c in=x out=y cout=20 k=3 weights=random:1 wscale=0.01\n"
             ".pack c weights @0x100000\n", head);
    asm_err(src, "t.s:6:7:", "layers 0 and 1 are both named 'c'");
    snprintf(src, sizeof src, "%s.pack nope weights @0x100\n", head);
    asm_err(src, "t.s:4:7:", "no layer named 'nope'");
    snprintf(src, sizeof src, "%s.layer conv2d c in=x out=y cout=20 k=3 weights=random:1 wscale=0.01\n"
             ".pack c bias @0x100\n", head);
    asm_err(src, "t.s:5:9:", "pack kind 'bias'");
    snprintf(src, sizeof src, "%s.layer conv2d c in=x out=y cout=20 k=3 weights=random:1 wscale=0.01\n"
             ".pack c lut @0x100\n", head);
    asm_err(src, "t.s:5:9:", "no lookup table");
    snprintf(src, sizeof src, "%s.layer conv2d c in=x out=y cout=20 k=3 weights=random:1 wscale=0.01\n"
             ".pack c weights 0x100\n", head);
    asm_err(src, "t.s:5:17:", "@ADDR");
#undef LAYER_ERR
}

Test(asm, pack_places_device_images)
{
    mxu_program *p = asm_ok("finish\n" TENSORS
                            ".layer conv2d c in=x out=y cout=20 k=3 weights=random:1 wscale=0.01 "
                            "lut=random:2\n"
                            ".pack c weights @0x40000\n.pack c params @0x50000\n.pack c lut @0x60000\n");
    cr_assert_eq(p->n_segments, 3);
    /* 20 channels: 2 column blocks x 9 taps x 1 input chunk of 16 = 18 tiles. */
    cr_assert_str_eq(p->segments[0].name, "c.weights");
    cr_assert_eq(p->segments[0].bytes, 18 * 16 * 16);
    cr_assert_eq(p->segments[0].dram_addr, 0x40000);
    cr_assert_str_eq(p->segments[1].name, "c.params");
    cr_assert_eq(p->segments[1].bytes, 2 * 16 * 12);
    cr_assert_eq(p->segments[2].bytes, 256);
    cr_assert_eq(memcmp(p->segments[2].data, p->host_blob + p->layers[0].lut, 256), 0);
    /* tile 0, row r, column c = w[c][0][0][r] */
    const int8_t *w = (const int8_t *)p->host_blob + p->layers[0].weights;
    cr_assert_eq((int8_t)p->segments[0].data[3 * 16 + 5], w[5 * 9 * 16 + 3]);
    assert_round_trip(p);
    mxu_program_free(p);
}

/* ---- round trips of random instruction streams ------------------------------------------ */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(asm, random_instruction_streams_round_trip)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int trial = 0; trial < 40; trial++) {
        mxu_program *p;
        cr_assert_eq(mxu_program_new(&p), MXU_OK);
        int n = 1 + (int)(rnd(&s) % 60);
        for (int i = 0; i < n; i++) {
            uint64_t w[MXU_INSN_WORDS] = {0};
            if (rnd(&s) % 10 == 0) { /* raw words: unknown opcodes, reserved bits */
                for (int k = 0; k < MXU_INSN_WORDS; k++)
                    w[k] = rnd(&s);
            } else {
                unsigned op = mxu_isa_opcodes[rnd(&s) % mxu_isa_n_opcodes].value;
                w[0] = op;
                for (unsigned f = 0; f < mxu_isa_n_fields; f++)
                    if (mxu_isa_fields[f].opcode == op && rnd(&s) % 3)
                        mxu_insn_set(w, mxu_isa_fields[f].pos, mxu_isa_fields[f].bits, rnd(&s));
            }
            cr_assert_eq(mxu_program_add_insn(p, w), MXU_OK);
        }
        char *text = test_disasm(p);
        mxu_program *q;
        cr_assert_eq(mxu_asm_parse(text, "listing", NULL, &q), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(q->n_insns, p->n_insns);
        cr_assert_eq(memcmp(q->insns, p->insns, (size_t)n * sizeof p->insns[0]), 0, "trial %d", trial);
        free(text);
        mxu_program_free(q);
        mxu_program_free(p);
    }
}

/* ---- the examples ---------------------------------------------------------------------- */

static char *read_example(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/examples/%s", MXU_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(path, sizeof path, "examples/%s", name);
        f = fopen(path, "rb");
    }
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* Assemble an example (which runs mxu_decode_check), run it on the C model and
 * compare its output with the golden kernels. */
static void check_example(const char *name, int n_insns)
{
    char *src = read_example(name);
    mxu_program *p;
    int rc = mxu_asm_parse(src, name, NULL, &p);
    cr_assert_eq(rc, MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(p->n_insns, (uint32_t)n_insns);
    cr_assert_eq(p->n_layers, 1);
    assert_round_trip(p);

    mxu_device *dev;
    mxu_counters c;
    cr_assert_eq(mxu_open("model:", &dev), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_load(dev, p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_run(dev, p, 0, &c), MXU_OK, "%s", mxu_error_detail());
    uint8_t *values[2];
    for (int i = 0; i < 2; i++) {
        size_t n = mxu_tensor_bytes(&p->tensors[i]);
        values[i] = calloc(n, 1);
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            cr_assert_eq(mxu_tensor_read(dev, p, (uint32_t)i, values[i], n), MXU_OK);
    }
    cr_assert_eq(mxu_reference_run(p, values), MXU_OK, "%s", mxu_error_detail());
    size_t n = mxu_tensor_bytes(&p->tensors[1]);
    uint8_t *got = malloc(n);
    cr_assert_eq(mxu_tensor_read(dev, p, 1, got, n), MXU_OK);
    int distinct = 0, seen[256] = {0};
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(got[i], values[1][i], "%s: output byte %zu: device %d, golden %d", name, i,
                     (int8_t)got[i], (int8_t)values[1][i]);
        distinct += !seen[got[i]]++;
    }
    cr_assert(distinct > 30, "%s: only %d distinct output values", name, distinct);
    free(got);
    free(values[0]);
    free(values[1]);
    mxu_close(dev);
    mxu_program_free(p);
    free(src);
}

Test(asm, example_matmul) { check_example("matmul.s", 9); }
Test(asm, example_conv3x3_s2) { check_example("conv3x3_s2.s", 15); }
Test(asm, example_conv_relu_pool) { check_example("conv_relu_pool.s", 15); }
