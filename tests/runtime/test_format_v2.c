/* Program format 2: code ranges in layer records, the host layer ops and the
 * reader's checks of both, format-1 files refused, and the assembler /
 * disassembler round trip of all of it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "mxu_asm.h"
#include "mxu_crc32.h"
#include "mxu_error.h"
#include "mxu_program.h"
#include "runtime/test_net.h"
#include "support/disasm.h"

#define LAYER_RECORD_BYTES 192

static mxu_program *network(void)
{
    mxu_hw_config cfg;
    mxu_program *p = NULL;
    mxu_config_default(&cfg);
    cr_assert_eq(test_net_build(&cfg, 4, 4, 5, 1, &p), MXU_OK, "%s", mxu_error_detail());
    return p;
}

static uint32_t layer_named(const mxu_program *p, const char *name)
{
    for (uint32_t i = 0; i < p->n_layers; i++)
        if (!strcmp(p->layers[i].name, name))
            return i;
    cr_assert_fail("no layer %s", name);
    return 0;
}

static uint32_t tensor_named(const mxu_program *p, const char *name)
{
    uint32_t i = 0;
    cr_assert_eq(mxu_program_find_tensor(p, name, &i), MXU_OK, "%s", name);
    return i;
}

/* The writer refuses p with a detail containing `what` (the reader's checks). */
static void expect_refused(const mxu_program *p, const char *what)
{
    uint8_t *buf = NULL;
    size_t len;
    int rc = mxu_program_serialize(p, &buf, &len);
    cr_assert_eq(rc, MXU_ERR_INVAL, "expected a refusal with '%s', got %d", what, rc);
    cr_assert(strstr(mxu_error_detail(), what), "detail '%s' lacks '%s'", mxu_error_detail(), what);
    free(buf);
}

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void wr32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of the LAYER section's first record. */
static size_t first_layer_record(const uint8_t *buf, size_t len)
{
    size_t off = 24;
    while (off + 8 <= len - 4) {
        uint32_t type = rd32(buf + off), n = rd32(buf + off + 4);
        if (type == 5)
            return off + 16;
        off += 8 + ((n + 7u) & ~7u);
    }
    cr_assert_fail("no LAYER section");
    return 0;
}

static void reseal(uint8_t *buf, size_t len)
{
    wr32(buf + len - 4, mxu_crc32(buf, len - 4));
}

/* ---- the file ------------------------------------------------------------------------------- */

Test(format_v2, network_round_trips_byte_identical)
{
    mxu_program *p = network(), *q;
    uint8_t *a, *b;
    size_t la, lb;
    cr_assert_eq(mxu_program_serialize(p, &a, &la), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(rd32(a + 8) & 0xFFFF, 2, "format major 2");
    cr_assert_eq(mxu_program_parse(a, la, &q), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(q->n_layers, TEST_NET_LAYERS);
    cr_assert_eq(memcmp(p->layers, q->layers, p->n_layers * sizeof *p->layers), 0);
    cr_assert_eq(mxu_program_serialize(q, &b, &lb), MXU_OK);
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(a, b, la), 0);
    free(a);
    free(b);
    mxu_program_free(q);
    mxu_program_free(p);
}

/* Words 28 and 29 of the 192-byte record hold the range; 30 and 31 are reserved. */
Test(format_v2, layer_record_layout)
{
    mxu_program *p = network();
    uint8_t *buf;
    size_t len;
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_OK);
    size_t rec = first_layer_record(buf, len);
    cr_assert_eq(rd32(buf + rec - 8), p->n_layers);
    for (uint32_t i = 0; i < p->n_layers; i++) {
        const uint8_t *r = buf + rec + (size_t)i * LAYER_RECORD_BYTES;
        cr_assert_str_eq((const char *)r, p->layers[i].name);
        cr_assert_eq(rd32(r + 64), p->layers[i].op);
        cr_assert_eq(rd32(r + 64 + 4 * 28), p->layers[i].code_first, "layer %u", i);
        cr_assert_eq(rd32(r + 64 + 4 * 29), p->layers[i].code_count, "layer %u", i);
    }
    mxu_program *q;
    const char *word_name[] = {"word 27", "word 30", "word 31"};
    const int words[] = {27, 30, 31};
    for (int k = 0; k < 3; k++) {
        wr32(buf + rec + 64 + 4 * (size_t)words[k], 1);
        reseal(buf, len);
        cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_ERR_FORMAT);
        cr_assert(strstr(mxu_error_detail(), word_name[k]), "%s", mxu_error_detail());
        wr32(buf + rec + 64 + 4 * (size_t)words[k], 0);
    }
    reseal(buf, len);
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    mxu_program_free(q);
    free(buf);
    mxu_program_free(p);
}

Test(format_v2, format_1_is_refused_clearly)
{
    mxu_program *p = network(), *q = (mxu_program *)1;
    uint8_t *buf;
    size_t len;
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_OK);
    wr32(buf + 8, 1); /* format 1.0 */
    reseal(buf, len);
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_ERR_FORMAT);
    cr_assert_null(q);
    cr_assert(strstr(mxu_error_detail(), "old format 1") && strstr(mxu_error_detail(), "rebuild"),
              "%s", mxu_error_detail());
    free(buf);
    mxu_program_free(p);
}

/* ---- code ranges ------------------------------------------------------------------------------ */

Test(format_v2, ranges_are_checked)
{
    mxu_program *p = network();
    uint32_t c1 = layer_named(p, "conv1"), c2 = layer_named(p, "conv2"), sm = layer_named(p, "softmax");
    mxu_layer saved = p->layers[c2];

    p->layers[c2].code_count = p->n_insns; /* past the end */
    expect_refused(p, "outside the code");
    p->layers[c2] = saved;
    p->layers[c2].code_first = p->layers[c1].code_first; /* overlaps conv1 */
    expect_refused(p, "overlaps or precedes layer");
    p->layers[c2] = saved;
    p->layers[c2].code_count--; /* the last one is not the FINISH */
    expect_refused(p, "is not a FINISH");
    p->layers[c2] = saved;
    p->layers[c2].code_count = 0; /* a first without a count */
    expect_refused(p, "without instructions");
    p->layers[c2] = saved;
    p->layers[sm].code_first = p->layers[c2].code_first + p->layers[c2].code_count;
    p->layers[sm].code_count = 1;
    expect_refused(p, "runs on the host");
    p->layers[sm].code_first = p->layers[sm].code_count = 0;

    /* ranges in the wrong order: swap conv1 and conv2's */
    mxu_layer a = p->layers[c1];
    p->layers[c1].code_first = saved.code_first, p->layers[c1].code_count = saved.code_count;
    p->layers[c2].code_first = a.code_first, p->layers[c2].code_count = a.code_count;
    expect_refused(p, "overlaps or precedes");
    mxu_program_free(p);
}

Test(format_v2, host_layers_and_where_layers_run)
{
    mxu_program *p = network();
    cr_assert(mxu_program_has_ranges(p));
    const char *host[] = {"cat", "up", "add", "tanh", "softmax"};
    const char *device[] = {"conv1", "pool1", "conv2", "conv3", "fc"};
    for (int i = 0; i < 5; i++) {
        cr_assert(mxu_layer_on_host(p, layer_named(p, host[i])), "%s", host[i]);
        cr_assert_not(mxu_layer_on_host(p, layer_named(p, device[i])), "%s", device[i]);
    }
    cr_assert_not(mxu_layer_on_host(p, 99));
    cr_assert_str_eq(mxu_layer_op_name(MXU_LAYER_SOFTMAX), "softmax");
    cr_assert_str_eq(mxu_layer_op_name(MXU_LAYER_UPSAMPLE), "upsample");
    cr_assert_str_eq(mxu_layer_op_name(77), "?");
    cr_assert(mxu_layer_op_host_only(MXU_LAYER_LUT));
    cr_assert_not(mxu_layer_op_host_only(MXU_LAYER_ADD));
    cr_assert_not(mxu_layer_op_host_only(MXU_LAYER_OP_LIMIT));
    /* Without ranges, an ADD is the code's (hand-written programs compute it),
     * a softmax still the host's. */
    for (uint32_t i = 0; i < p->n_layers; i++)
        p->layers[i].code_first = p->layers[i].code_count = 0;
    cr_assert_not(mxu_program_has_ranges(p));
    cr_assert_not(mxu_layer_on_host(p, layer_named(p, "add")));
    cr_assert(mxu_layer_on_host(p, layer_named(p, "softmax")));
    mxu_program_free(p);
}

/* ---- the host ops' record checks ---------------------------------------------------------------- */

Test(format_v2, softmax_rules)
{
    mxu_program *p = network();
    uint32_t sm = layer_named(p, "softmax"), prob = tensor_named(p, "prob"), g = tensor_named(p, "g");
    p->tensors[prob].zero_point = 0;
    expect_refused(p, "needs 1/256 and -128");
    p->tensors[prob].zero_point = MXU_SOFTMAX_OUT_ZP;
    p->tensors[prob].scale = 0.01f;
    expect_refused(p, "needs 1/256 and -128");
    p->tensors[prob].scale = MXU_SOFTMAX_OUT_SCALE;
    p->tensors[g].scale = 20.0f;
    expect_refused(p, "TFLite's int8 softmax multiplier");
    p->tensors[g].scale = 0.1f;
    p->layers[sm].input = tensor_named(p, "f");
    cr_assert_eq(mxu_program_check_layer(p, sm), MXU_OK, "same shape, other tensor: fine");
    p->layers[sm].input = tensor_named(p, "a"); /* 1x4x4x8 vs 1x10 */
    expect_refused(p, "does not have the shape");
    p->layers[sm].input = g;
    p->layers[sm].input2 = g;
    expect_refused(p, "only add and concat have a second input");
    mxu_program_free(p);
}

Test(format_v2, concat_rules)
{
    mxu_program *p = network();
    uint32_t cat = layer_named(p, "cat"), c2 = tensor_named(p, "c2"), out = tensor_named(p, "cat");
    mxu_tensor saved = p->tensors[c2];
    p->tensors[c2].zero_point = 0;
    expect_refused(p, "quantized differently");
    p->tensors[c2] = saved;
    p->tensors[c2].scale *= 2;
    expect_refused(p, "quantized differently");
    p->tensors[c2] = saved;
    p->tensors[out].dims[3] = 13;
    expect_refused(p, "expected 8 + 6");
    p->tensors[out].dims[3] = 14;
    p->layers[cat].input2 = tensor_named(p, "c1"); /* 1x4x4x8 vs 1x2x2x8 */
    expect_refused(p, "dims[1] differ");
    p->layers[cat].input2 = tensor_named(p, "f"); /* nc */
    expect_refused(p, "layout");
    p->layers[cat].input2 = MXU_NONE;
    expect_refused(p, "input2 tensor index");
    mxu_program_free(p);
}

Test(format_v2, upsample_rules)
{
    mxu_program *p = network();
    uint32_t up = layer_named(p, "up"), t = tensor_named(p, "up");
    p->layers[up].stride_w = 3;
    expect_refused(p, "must be one value");
    p->layers[up].stride_h = p->layers[up].stride_w = 0;
    expect_refused(p, "must be one value");
    p->layers[up].stride_h = p->layers[up].stride_w = 4;
    expect_refused(p, "expected 1x8x8x14");
    p->layers[up].stride_h = p->layers[up].stride_w = 2;
    p->tensors[t].zero_point = 5;
    expect_refused(p, "quantized differently");
    p->tensors[t].zero_point = -3;
    p->layers[up].input = tensor_named(p, "f");
    expect_refused(p, "must be nhwc");
    mxu_program_free(p);
}

Test(format_v2, lut_rules)
{
    mxu_program *p = network();
    uint32_t l = layer_named(p, "tanh");
    uint32_t lut = p->layers[l].lut;
    p->layers[l].lut = MXU_NONE;
    expect_refused(p, "needs lut");
    p->layers[l].lut = p->host_blob_bytes - 100;
    expect_refused(p, "outside the host blob");
    p->layers[l].lut = lut;
    p->layers[l].flags = MXU_LAYER_F_LUT;
    expect_refused(p, "only conv2d and fc layers can apply a LUT");
    p->layers[l].flags = 0;
    p->layers[l].output = tensor_named(p, "a");
    expect_refused(p, "does not have the shape");
    p->layers[l].output = tensor_named(p, "g");
    p->layers[l].weights = 0;
    expect_refused(p, "has no weights");
    mxu_program_free(p);
}

/* ---- assembler and disassembler ------------------------------------------------------------------ */

Test(format_v2, disassembly_reassembles_identically)
{
    mxu_program *p = network(), *q;
    uint8_t *a, *b;
    size_t la, lb;
    char *text = test_disasm(p);
    cr_assert(strstr(text, ".layer softmax softmax"), "%.2000s", text);
    cr_assert(strstr(text, ".layer concat cat"));
    cr_assert(strstr(text, "code="));
    cr_assert(strstr(text, "; ---- layer 0 \"conv1\" (conv2d): instructions 0.."), "%.600s", text);
    cr_assert_eq(mxu_asm_parse(text, "listing", NULL, &q), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_serialize(p, &a, &la), MXU_OK);
    cr_assert_eq(mxu_program_serialize(q, &b, &lb), MXU_OK);
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(a, b, la), 0, "disasm/asm round trip differs");
    free(a);
    free(b);
    free(text);
    mxu_program_free(q);
    mxu_program_free(p);
}

/* A layer name with a newline stays inside its comment in the code listing. */
Test(format_v2, odd_layer_names_stay_in_comments)
{
    mxu_program *p = network(), *q;
    strcpy(p->layers[0].name, "conv\nfinish");
    char *text = test_disasm(p);
    cr_assert_eq(mxu_asm_parse(text, "listing", NULL, &q), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(q->n_insns, p->n_insns);
    cr_assert_str_eq(q->layers[0].name, "conv\nfinish");
    free(text);
    mxu_program_free(q);
    mxu_program_free(p);
}

Test(format_v2, assembler_host_ops_and_errors)
{
    static const char ok[] =
        ".tensor x input int8 nhwc 1x2x2x3 @0x1000 scale=0.1 zp=1\n"
        ".tensor y input int8 nhwc 1x2x2x5 @0x2000 scale=0.1 zp=1\n"
        ".tensor c activation int8 nhwc 1x2x2x8 @0x3000 scale=0.1 zp=1\n"
        ".tensor u activation int8 nhwc 1x6x6x8 @0x4000 scale=0.1 zp=1\n"
        ".tensor l activation int8 nhwc 1x6x6x8 @0x5000 scale=0.2 zp=0\n"
        ".tensor s output int8 nhwc 1x6x6x8 @0x6000 scale=0.00390625 zp=-128\n"
        ".layer concat cat in=x in2=y out=c\n"
        ".layer upsample up in=c out=u factor=3\n"
        ".layer lut act in=u out=l lut=random:4\n"
        ".layer softmax sm in=l out=s\n"
        "finish\n";
    mxu_program *p;
    cr_assert_eq(mxu_asm_parse(ok, "host.s", NULL, &p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(p->n_layers, 4);
    cr_assert_eq(p->layers[0].op, MXU_LAYER_CONCAT);
    cr_assert_eq(p->layers[1].stride_h, 3);
    cr_assert_eq(p->layers[2].flags, 0, "a LUT op needs no LUT flag");
    cr_assert_neq(p->layers[2].lut, MXU_NONE);
    for (uint32_t i = 0; i < 4; i++)
        cr_assert(mxu_layer_on_host(p, i));
    mxu_program_free(p);

    const struct {
        const char *line, *error;
    } bad[] = {
        {".layer concat cat in=x out=c\n", "in2=TENSOR is needed for concat"},
        {".layer softmax sm in=l in2=x out=s\n", "only for add and concat layers"},
        {".layer softmax sm in=x out=s\n", "shape"},
        {".layer upsample up in=c out=u factor=2\n", "expected 1x4x4x8"},
        {".layer lut act in=u out=l\n", "needs lut"},
        {".layer fc f in=x out=s cout=8 code=1\n", "code takes FIRST,COUNT"},
        {".layer bogus b in=x out=s\n", "softmax|concat|upsample|lut"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char src[2048];
        snprintf(src, sizeof src, "%.*s%sfinish\n", (int)(strstr(ok, ".layer") - ok), ok, bad[i].line);
        p = NULL;
        cr_assert_eq(mxu_asm_parse(src, "bad.s", NULL, &p), MXU_ERR_FORMAT, "%s", bad[i].line);
        cr_assert(strstr(mxu_error_detail(), bad[i].error), "%s: %s", bad[i].line, mxu_error_detail());
        cr_assert_null(p);
    }
    /* a code range pointing past the code is refused when the program is complete */
    char src[2048];
    snprintf(src, sizeof src,
             "%.*s.layer maxpool mp in=c out=c k=1 code=0,5\nfinish\n", (int)(strstr(ok, ".layer") - ok), ok);
    cr_assert_eq(mxu_asm_parse(src, "range.s", NULL, &p), MXU_ERR_FORMAT);
    cr_assert(strstr(mxu_error_detail(), "outside the code"), "%s", mxu_error_detail());
}
