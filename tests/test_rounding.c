/* The requantization's tie rounding (ACTIVATE round_half_up, layer flag
 * MXU_LAYER_F_ROUND_HALF_UP) and LiteRT's float-table softmax
 * (MXU_LAYER_F_SOFTMAX_FLOAT_TABLE) through the stack: numerics, golden
 * kernels, C model, lowering, program files, assembler, TFLite frontend. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "mxu.h"
#include "mxu_asm.h"
#include "mxu_builder.h"
#include "mxu_compiler.h"
#include "mxu_decode.h"
#include "mxu_encode.h"
#include "mxu_layer_program.h"
#include "mxu_lower.h"
#include "mxu_numerics.h"
#include "mxu_reference.h"
#include "support/random_layer.h"
#include "support/disasm.h"

#define Q_HALF (1 << 30) /* multiplier 0.5: t = x / 2 */
#define TFLITE_MODELS "models/tflite"

static int32_t rq(int32_t x, int32_t qm, int32_t shift, enum mxu_rounding r)
{
    return mxu_requantize_rounding(x, qm, shift, r);
}

/* ---- numerics: the tie cases -------------------------------------------------- */

Test(rounding, exact_halves)
{
    /* x * 0.5 * 2^-1 = x / 4: x = 10 -> 2.5, x = -10 -> -2.5 */
    cr_assert_eq(rq(10, Q_HALF, -1, MXU_ROUND_AWAY), 3);
    cr_assert_eq(rq(10, Q_HALF, -1, MXU_ROUND_HALF_UP), 3, "a positive tie rounds up either way");
    cr_assert_eq(rq(-10, Q_HALF, -1, MXU_ROUND_AWAY), -3);
    cr_assert_eq(rq(-10, Q_HALF, -1, MXU_ROUND_HALF_UP), -2, "a negative tie rounds toward +inf");
    cr_assert_eq(rq(-2, Q_HALF, -1, MXU_ROUND_AWAY), -1, "-0.5 away from zero");
    cr_assert_eq(rq(-2, Q_HALF, -1, MXU_ROUND_HALF_UP), 0, "-0.5 toward +inf");
    cr_assert_eq(rq(2, Q_HALF, -1, MXU_ROUND_HALF_UP), 1);
    /* the SRDHM rounds first (-11 * 0.5 = -5.5 -> -5), then the tie -2.5 */
    cr_assert_eq(rq(-11, Q_HALF, -1, MXU_ROUND_HALF_UP), -2);
    cr_assert_eq(rq(-11, Q_HALF, -1, MXU_ROUND_AWAY), -3);
    /* not ties: both modes round to nearest */
    cr_assert_eq(rq(-22, Q_HALF, -2, MXU_ROUND_HALF_UP), -3, "-2.75");
    cr_assert_eq(rq(-18, Q_HALF, -2, MXU_ROUND_HALF_UP), -2, "-2.25");
    cr_assert_eq(rq(-22, Q_HALF, -2, MXU_ROUND_AWAY), -3);
    cr_assert_eq(rq(-18, Q_HALF, -2, MXU_ROUND_AWAY), -2);
}

Test(rounding, shift_zero_has_no_final_shift)
{
    /* rs = 0: only the SRDHM rounds (ties toward +inf in both modes) */
    for (int32_t x = -9; x <= 9; x++)
        cr_assert_eq(rq(x, Q_HALF, 0, MXU_ROUND_HALF_UP), rq(x, Q_HALF, 0, MXU_ROUND_AWAY), "x=%d", x);
    cr_assert_eq(rq(-5, Q_HALF, 0, MXU_ROUND_HALF_UP), -2, "-2.5 by the SRDHM");
    /* positive shifts are left shifts: no final rounding either */
    cr_assert_eq(rq(-3, Q_HALF, 2, MXU_ROUND_HALF_UP), -6);
    cr_assert_eq(rq(-3, Q_HALF, 2, MXU_ROUND_AWAY), -6);
}

Test(rounding, large_shifts)
{
    /* rs = 31: t = INT32_MIN / 2 = -2^30 is exactly -0.5 */
    cr_assert_eq(rq(INT32_MIN, Q_HALF, -31, MXU_ROUND_AWAY), -1, "-2^30 / 2^31 = -0.5 -> -1");
    cr_assert_eq(rq(INT32_MIN, Q_HALF, -31, MXU_ROUND_HALF_UP), 0, "-0.5 -> 0");
    cr_assert_eq(rq(INT32_MAX, INT32_MAX, -31, MXU_ROUND_HALF_UP), 1);
    /* shifts beyond -31 clamp to 31 in both modes */
    cr_assert_eq(rq(INT32_MIN, Q_HALF, -40, MXU_ROUND_HALF_UP), 0);
    cr_assert_eq(rq(INT32_MIN, Q_HALF, INT32_MIN, MXU_ROUND_AWAY), -1);
    /* the saturated SRDHM (INT32_MIN * INT32_MIN) then a shift: not a tie */
    cr_assert_eq(rq(INT32_MIN, INT32_MIN, -1, MXU_ROUND_HALF_UP), 1 << 30);
    /* every rs: -(2k+1) * 2^(rs-1) is a tie; half-up gives -k, away gives -k-1 */
    for (int rs = 1; rs <= 30; rs++) {
        int64_t t = -3 * (INT64_C(1) << (rs - 1));
        int32_t x = (int32_t)(2 * t); /* t = x * 0.5 */
        if (x != 2 * t)
            break;
        cr_assert_eq(rq(x, Q_HALF, -rs, MXU_ROUND_HALF_UP), -1, "rs=%d", rs);
        cr_assert_eq(rq(x, Q_HALF, -rs, MXU_ROUND_AWAY), -2, "rs=%d", rs);
    }
}

/* Against the definition floor(t / 2^rs + 1/2) on random values: the modes
 * differ exactly on negative ties. */
Test(rounding, half_up_is_floor_of_plus_half)
{
    struct rng r = {77};
    int differ = 0;
    for (int i = 0; i < 200000; i++) {
        int32_t x = (int32_t)rng_next(&r);
        if (i % 3 == 0)
            x = rng_range(&r, -5000, 5000);
        int32_t qm = i % 4 ? (int32_t)(rng_next(&r) | 0x40000000u) & INT32_MAX : Q_HALF;
        int32_t shift = rng_range(&r, -31, 0);
        int rs = -shift;
        int64_t t = ((int64_t)x * qm + (INT64_C(1) << 30)) >> 31;
        int64_t want = rs ? (int64_t)floorl((long double)t / (long double)(INT64_C(1) << rs) + 0.5L) : t;
        int32_t up = rq(x, qm, shift, MXU_ROUND_HALF_UP), away = rq(x, qm, shift, MXU_ROUND_AWAY);
        cr_assert_eq(up, want, "x=%d qm=%d shift=%d", x, qm, shift);
        int tie = rs && t < 0 && (t & ((INT64_C(1) << rs) - 1)) == (INT64_C(1) << (rs - 1));
        cr_assert_eq(up != away, tie, "x=%d qm=%d shift=%d", x, qm, shift);
        cr_assert_eq(away, mxu_requantize(x, qm, shift));
        differ += tie;
    }
    cr_assert_gt(differ, 100, "the random values hit negative ties (%d)", differ);
}

Test(rounding, activate)
{
    /* acc + bias = -10, * 0.5 * 2^-1 = -2.5, + zp 1 */
    cr_assert_eq(mxu_activate_rounding(-12, 2, Q_HALF, -1, 1, -128, 127, NULL, MXU_ROUND_AWAY), -2);
    cr_assert_eq(mxu_activate_rounding(-12, 2, Q_HALF, -1, 1, -128, 127, NULL, MXU_ROUND_HALF_UP), -1);
    cr_assert_eq(mxu_activate(-12, 2, Q_HALF, -1, 1, -128, 127, NULL), -2, "mxu_activate rounds away");
    int8_t lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = (int8_t)(127 - i);
    cr_assert_eq(mxu_activate_rounding(-12, 2, Q_HALF, -1, 1, -128, 127, lut, MXU_ROUND_HALF_UP), 127 - 127);
}

/* ---- golden kernels --------------------------------------------------------------- */

Test(rounding, golden_fc_and_conv)
{
    const int8_t in[2] = {-10, 10}, w[1] = {1};
    const int32_t qm[1] = {Q_HALF}, sh[1] = {-1};
    int8_t out[2];
    struct mxu_fc_params f = {.batch = 2, .cin = 1, .cout = 1, .act_min = -128, .act_max = 127};
    cr_assert_eq(mxu_golden_fc(&f, in, w, NULL, qm, sh, out), MXU_OK);
    cr_assert(out[0] == -3 && out[1] == 3, "away: %d %d", out[0], out[1]);
    f.rounding = MXU_ROUND_HALF_UP;
    cr_assert_eq(mxu_golden_fc(&f, in, w, NULL, qm, sh, out), MXU_OK);
    cr_assert(out[0] == -2 && out[1] == 3, "half up: %d %d", out[0], out[1]);

    struct mxu_conv_params c = {.n = 1, .in_h = 1, .in_w = 2, .cin = 1, .cout = 1, .kh = 1, .kw = 1,
                                .out_h = 1, .out_w = 2, .stride_h = 1, .stride_w = 1, .dil_h = 1,
                                .dil_w = 1, .groups = 1, .act_min = -128, .act_max = 127};
    cr_assert_eq(mxu_golden_conv2d(&c, in, w, NULL, qm, sh, out), MXU_OK);
    cr_assert(out[0] == -3 && out[1] == 3);
    c.rounding = MXU_ROUND_HALF_UP;
    cr_assert_eq(mxu_golden_conv2d(&c, in, w, NULL, qm, sh, out), MXU_OK);
    cr_assert(out[0] == -2 && out[1] == 3);

    c.rounding = (enum mxu_rounding)7;
    f.rounding = (enum mxu_rounding)-1;
    cr_assert_eq(mxu_golden_conv2d(&c, in, w, NULL, qm, sh, out), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "rounding"), "%s", mxu_error_detail());
    cr_assert_eq(mxu_golden_fc(&f, in, w, NULL, qm, sh, out), MXU_ERR_INVAL);
}

/* ---- the float-table softmax -------------------------------------------------------- */

Test(rounding, softmax_table_values)
{
    int8_t in[4] = {5, 5, 5, 5}, out[4];
    cr_assert_eq(mxu_golden_softmax_table(0.1f, 1.0f, 1, 4, in, out), MXU_OK);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(out[i], 64 - 128, "1/4 in 1/256 steps");
    int8_t one = -128, p;
    cr_assert_eq(mxu_golden_softmax_table(0.1f, 1.0f, 1, 1, &one, &p), MXU_OK);
    cr_assert_eq(p, 127, "probability 1 saturates");
    /* -128 and 127 with scale 1: exp(-255) underflows to 0 */
    int8_t far[2] = {-128, 127}, q[2];
    cr_assert_eq(mxu_golden_softmax_table(1.0f, 1.0f, 1, 2, far, q), MXU_OK);
    cr_assert(q[0] == -128 && q[1] == 127);
    /* two rows, each its own maximum; the second is the first shifted */
    int8_t rows[6] = {0, 10, 20, 100, 110, 120}, r2[6];
    cr_assert_eq(mxu_golden_softmax_table(0.05f, 1.0f, 2, 3, rows, r2), MXU_OK);
    cr_assert_eq(memcmp(r2, r2 + 3, 3), 0);
    /* the float formula, step by step */
    float e[3] = {expf(-0.05f * 20), expf(-0.05f * 10), 1.0f};
    float sum = e[0] + e[1] + e[2], inv = 1.0f / (sum * (1.0f / 256));
    for (int i = 0; i < 3; i++)
        cr_assert_eq(r2[i], (int32_t)roundf(e[i] * inv) - 128, "element %d", i);
}

/* Both softmax kernels agree but on rare roundings; the table one is not the
 * fixed-point one renamed. */
Test(rounding, softmax_table_vs_fixed_point)
{
    struct rng r = {5};
    int8_t in[10], a[10], b[10];
    int differ = 0, far = 0;
    for (int it = 0; it < 20000; it++) {
        float scale = 0.02f + (float)(rng_next(&r) % 1000) * 0.0002f;
        for (int i = 0; i < 10; i++)
            in[i] = (int8_t)rng_range(&r, -128, 127);
        struct mxu_softmax_params sp;
        cr_assert_eq(mxu_softmax_params_from_scale(scale, 1.0f, &sp), MXU_OK);
        cr_assert_eq(mxu_golden_softmax(&sp, 1, 10, in, a), MXU_OK);
        cr_assert_eq(mxu_golden_softmax_table(scale, 1.0f, 1, 10, in, b), MXU_OK);
        for (int i = 0; i < 10; i++) {
            differ += a[i] != b[i];
            far += abs(a[i] - b[i]) > 1;
        }
    }
    cr_assert_eq(far, 0, "the kernels differ by one step at most");
    cr_assert_gt(differ, 0, "some roundings differ");
    cr_assert_lt(differ, 2000, "%d of 200000 values differ", differ);
}

Test(rounding, softmax_table_errors)
{
    int8_t x = 0, y;
    cr_assert_eq(mxu_golden_softmax_table(0.1f, 1.0f, 1, 0, &x, &y), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_softmax_table(0.1f, 1.0f, 1, 1, NULL, &y), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_softmax_table(0.1f, 1.0f, 1, 1, &x, NULL), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_softmax_table(0.0f, 1.0f, 1, 1, &x, &y), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_softmax_table(NAN, 1.0f, 1, 1, &x, &y), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_softmax_table(0.1f, INFINITY, 1, 1, &x, &y), MXU_ERR_INVAL);
    cr_assert_eq(mxu_golden_softmax_table(0.1f, -1.0f, 1, 1, &x, &y), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "beta"), "%s", mxu_error_detail());
}

/* ---- the instruction bit: decoder, C model, encoder ---------------------------------- */

Test(rounding, field_is_not_reserved)
{
    uint64_t w[MXU_INSN_WORDS];
    struct mxu_activate d = {.in_w = 1, .out_h = 1, .out_w = 1, .pool_k = 1, .pool_s = 1,
                             .clamp_min = -128, .clamp_max = 127, .round_half_up = 1};
    mxu_encode_activate(w, &d);
    cr_assert_eq(MXU_GET(w, ACTIVATE, ROUND_HALF_UP), 1);
    cr_assert_eq(w[0] >> MXU_F_ACTIVATE_ROUND_HALF_UP_POS & 1, 1);
    cr_assert_eq(mxu_isa_reserved[MXU_OP_ACTIVATE][0] >> MXU_F_ACTIVATE_ROUND_HALF_UP_POS & 1, 0);
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    struct mxu_token_state tok;
    memset(&tok, 0, sizeof tok);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), MXU_DEVERR_OK);
    char text[200];
    cr_assert_gt(mxu_disasm_insn(w, text, sizeof text), 0);
    cr_assert(strstr(text, " round_half_up"), "%s", text);
    /* the neighbouring bits stay reserved */
    w[0] |= 1ull << (MXU_F_ACTIVATE_ROUND_HALF_UP_POS + 1);
    cr_assert_eq(mxu_decode_check(&cfg, w, &tok), MXU_DEVERR_RESERVED_BITS);
}

/* An FC of one weight 1, multiplier 0.5, shift -1 (x / 4) on the model: x = -10
 * is the tie -2.5. The layer built by the lowering from the flag. */
static int8_t run_tie_layer(uint32_t flags)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, "rows=4,cols=4"), MXU_OK);
    mxu_builder *b = NULL;
    cr_assert_eq(mxu_builder_new(&cfg, &b), MXU_OK);
    mxu_program *bp = mxu_builder_program(b);
    uint32_t dims[2] = {1, 1};
    mxu_layer l;
    mxu_layer_init(&l, "tie", MXU_LAYER_FC);
    l.cout = 1;
    l.flags = flags;
    cr_assert_eq(mxu_builder_add_tensor(b, "x", MXU_ROLE_INPUT, 2, dims, 0.1f, 0, &l.input), MXU_OK);
    cr_assert_eq(mxu_builder_add_tensor(b, "y", MXU_ROLE_OUTPUT, 2, dims, 0.1f, 0, &l.output), MXU_OK);
    const int8_t w = 1;
    const int32_t qm = Q_HALF, shift = -1;
    cr_assert_eq(mxu_program_add_blob(bp, &w, 1, &l.weights), MXU_OK);
    cr_assert_eq(mxu_program_add_blob(bp, &qm, 4, &l.multiplier), MXU_OK);
    cr_assert_eq(mxu_program_add_blob(bp, &shift, 4, &l.shift), MXU_OK);
    cr_assert_eq(mxu_program_add_layer(bp, &l), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_lower_layer(b, 0), MXU_OK, "%s", mxu_error_detail());
    mxu_program *q = NULL;
    cr_assert_eq(mxu_builder_finish(b, &q), MXU_OK, "%s", mxu_error_detail());
    mxu_builder_free(b);

    /* (the builder's token-only filler ACTIVATEs never have the bit) */
    int with_bit = 0;
    for (uint32_t i = 0; i < q->n_insns; i++)
        if (mxu_insn_opcode(q->insns[i]) == MXU_OP_ACTIVATE)
            with_bit += (int)MXU_GET(q->insns[i], ACTIVATE, ROUND_HALF_UP);
    cr_assert_eq(with_bit > 0, (flags & MXU_LAYER_F_ROUND_HALF_UP) != 0);

    mxu_device *dev = NULL;
    int8_t x = -10, y = 0, g = 0;
    cr_assert_eq(mxu_open("model:rows=4,cols=4", &dev), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_load(dev, q), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_tensor_write(dev, q, q->layers[0].input, &x, 1), MXU_OK);
    cr_assert_eq(mxu_program_run(dev, q, 0, NULL), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_tensor_read(dev, q, q->layers[0].output, &y, 1), MXU_OK);
    mxu_close(dev);
    uint8_t *v[2] = {(uint8_t *)&x, (uint8_t *)&g};
    cr_assert_eq(q->n_tensors, 2);
    cr_assert_eq(mxu_reference_run(q, v), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(y, g, "device %d, golden %d", y, g);
    mxu_program_free(q);
    return y;
}

Test(rounding, lowering_sets_the_bit)
{
    /* zero points 0: y = requantize(-10) */
    cr_assert_eq(run_tie_layer(0), -3);
    cr_assert_eq(run_tie_layer(MXU_LAYER_F_ROUND_HALF_UP), -2);
}

Test(rounding, layer_program_desc)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, "rows=8,cols=8"), MXU_OK);
    for (int up = 0; up <= 1; up++) {
        struct mxu_layer_desc d = {.name = "c", .op = MXU_LAYER_CONV2D, .n = 1, .h = 6, .w = 5, .cin = 3,
                                   .cout = 20, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                                   .dil_h = 1, .dil_w = 1, .groups = 1, .act_min = -128, .act_max = 127,
                                   .round_half_up = up};
        mxu_program *p = NULL;
        cr_assert_eq(mxu_build_layer_program(&cfg, &d, 9, &p), MXU_OK, "%s", mxu_error_detail());
        cr_assert_eq(p->layers[0].flags, up ? MXU_LAYER_F_ROUND_HALF_UP : 0u);
        int with_bit = 0;
        for (uint32_t i = 0; i < p->n_insns; i++)
            if (mxu_insn_opcode(p->insns[i]) == MXU_OP_ACTIVATE)
                with_bit += (int)MXU_GET(p->insns[i], ACTIVATE, ROUND_HALF_UP);
        cr_assert_geq(with_bit, up ? 3 : 0, "20 channels on 8 columns");
        cr_assert(up || with_bit == 0);
        mxu_program_free(p);
    }
}

/* ---- program files and the assembler ----------------------------------------------- */

static mxu_program *round_trip(const mxu_program *p)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    mxu_program *q = NULL;
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    free(buf);
    return q;
}

static mxu_program *tflite_program(const char *name, const char *arch, enum mxu_kernel_numerics numerics)
{
    char path[200];
    snprintf(path, sizeof path, TFLITE_MODELS "/%s.tflite", name);
    mxu_graph *g = NULL;
    cr_assert_eq(mxu_tflite_load(path, &g), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(g->numerics, MXU_NUMERICS_LITERT_BUILTIN, "a .tflite file is run with the builtin kernels");
    g->numerics = numerics;
    struct mxu_compile_options o;
    mxu_compile_options_init(&o);
    cr_assert_eq(mxu_config_parse(&o.config, arch), MXU_OK, "%s", mxu_error_detail());
    o.calib_count = 1;
    mxu_program *p = NULL;
    cr_assert_eq(mxu_compile(g, &o, &p), MXU_OK, "%s", mxu_error_detail());
    mxu_graph_free(g);
    return p;
}

/* conv/FC layers, softmax layers and ACTIVATE instructions carrying each flag */
struct flag_counts {
    int linear, half_up, softmax, table, activates_up;
};

static struct flag_counts count_flags(const mxu_program *p)
{
    struct flag_counts c = {0};
    for (uint32_t i = 0; i < p->n_layers; i++) {
        const mxu_layer *l = &p->layers[i];
        int linear = l->op == MXU_LAYER_CONV2D || l->op == MXU_LAYER_FC;
        c.linear += linear;
        c.half_up += (l->flags & MXU_LAYER_F_ROUND_HALF_UP) != 0;
        c.softmax += l->op == MXU_LAYER_SOFTMAX;
        c.table += (l->flags & MXU_LAYER_F_SOFTMAX_FLOAT_TABLE) != 0;
    }
    for (uint32_t i = 0; i < p->n_insns; i++)
        if (mxu_insn_opcode(p->insns[i]) == MXU_OP_ACTIVATE)
            c.activates_up += (int)MXU_GET(p->insns[i], ACTIVATE, ROUND_HALF_UP);
    return c;
}

/* The TFLite frontend selects the builtin kernels' numerics; the same graph
 * with the reference numerics (ONNX's and Darknet's) gets no flag. */
Test(rounding, tflite_frontend_sets_the_flags)
{
    mxu_program *p = tflite_program("resnet_28x28", "rows=8,cols=8", MXU_NUMERICS_LITERT_BUILTIN);
    struct flag_counts c = count_flags(p);
    cr_assert_gt(c.linear, 3);
    cr_assert_eq(c.half_up, c.linear, "every conv/FC rounds half up");
    cr_assert_eq(c.softmax, 1);
    cr_assert_eq(c.table, 1, "the softmax uses the float table");
    cr_assert_geq(c.activates_up, c.linear, "the conv/FC ACTIVATEs have the bit");

    mxu_program *q = round_trip(p);
    for (uint32_t i = 0; i < p->n_layers; i++)
        cr_assert_eq(q->layers[i].flags, p->layers[i].flags, "layer %u", i);
    mxu_program_free(q);
    mxu_program_free(p);

    p = tflite_program("resnet_28x28", "rows=8,cols=8", MXU_NUMERICS_TFLITE_REFERENCE);
    c = count_flags(p);
    cr_assert_eq(c.half_up + c.table + c.activates_up, 0);
    mxu_program_free(p);

    mxu_graph *g = NULL;
    cr_assert_eq(mxu_graph_new("g", &g), MXU_OK);
    cr_assert_eq(g->numerics, MXU_NUMERICS_TFLITE_REFERENCE, "the default: ONNX, Darknet");
    mxu_graph_free(g);
}

/* disasm -> asm gives the same instructions and layer flags. */
Test(rounding, asm_round_trip)
{
    mxu_program *p = tflite_program("mlp_28x28", "rows=8,cols=8", MXU_NUMERICS_LITERT_BUILTIN);
    char *text = test_disasm(p);
    cr_assert(strstr(text, " round_half_up"), "the listing shows the ACTIVATE bit");
    mxu_program *q = NULL;
    cr_assert_eq(mxu_asm_parse(text, "mlp.s", NULL, &q), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(q->n_insns, p->n_insns);
    cr_assert_eq(memcmp(q->insns, p->insns, (size_t)p->n_insns * MXU_INSN_BYTES), 0);
    cr_assert_eq(q->n_layers, p->n_layers);
    for (uint32_t i = 0; i < p->n_layers; i++)
        cr_assert_eq(q->layers[i].flags, p->layers[i].flags, "layer %u", i);
    free(text);
    mxu_program_free(q);
    mxu_program_free(p);
}

/* The reader accepts the flags only where they mean something. */
Test(rounding, program_checks_the_flags)
{
    mxu_program *p = tflite_program("mlp_28x28", "rows=8,cols=8", MXU_NUMERICS_LITERT_BUILTIN);
    uint32_t fc = UINT32_MAX, softmax = UINT32_MAX;
    for (uint32_t i = 0; i < p->n_layers; i++) {
        if (p->layers[i].op == MXU_LAYER_FC && fc == UINT32_MAX)
            fc = i;
        if (p->layers[i].op == MXU_LAYER_SOFTMAX)
            softmax = i;
    }
    cr_assert(fc != UINT32_MAX && softmax != UINT32_MAX);
    cr_assert_eq(mxu_program_check_layer(p, fc), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_check_layer(p, softmax), MXU_OK, "%s", mxu_error_detail());

    p->layers[fc].flags |= MXU_LAYER_F_SOFTMAX_FLOAT_TABLE;
    cr_assert_eq(mxu_program_check_layer(p, fc), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "float table"), "%s", mxu_error_detail());
    p->layers[fc].flags &= ~MXU_LAYER_F_SOFTMAX_FLOAT_TABLE;

    p->layers[softmax].flags |= MXU_LAYER_F_ROUND_HALF_UP;
    cr_assert_eq(mxu_program_check_layer(p, softmax), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "round_half_up"), "%s", mxu_error_detail());
    p->layers[softmax].flags &= ~MXU_LAYER_F_ROUND_HALF_UP;

    p->layers[fc].flags |= 8u;
    cr_assert_eq(mxu_program_check_layer(p, fc), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "unknown bits"), "%s", mxu_error_detail());
    p->layers[fc].flags &= ~8u;

    /* the golden run honours the softmax flag: the table and the fixed point
     * differ on some input */
    mxu_program_free(p);
}

/* The random-layer differential tests (golden = model = RTL) draw the bit, and
 * their layers do reach negative ties, so a device ignoring it would fail. */
Test(rounding, random_layers_reach_ties)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, "rows=8,cols=8"), MXU_OK);
    char desc[256];
    int with_bit = 0, differing = 0;
    for (uint64_t seed = 2000; seed < 2040; seed++) {
        mxu_program *p = NULL;
        cr_assert_eq(random_layer_program(&cfg, seed, 100000, &p, desc, sizeof desc), MXU_OK, "%s",
                     mxu_error_detail());
        if (!(p->layers[0].flags & MXU_LAYER_F_ROUND_HALF_UP)) {
            mxu_program_free(p);
            continue;
        }
        with_bit++;
        uint8_t *a[8] = {0}, *b[8] = {0};
        cr_assert_leq(p->n_tensors, 8);
        for (uint32_t i = 0; i < p->n_tensors; i++) {
            a[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1);
            b[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1);
        }
        random_inputs(p, seed, a);
        random_inputs(p, seed, b);
        cr_assert_eq(mxu_reference_run(p, a), MXU_OK, "%s", mxu_error_detail());
        p->layers[0].flags &= ~MXU_LAYER_F_ROUND_HALF_UP;
        cr_assert_eq(mxu_reference_run(p, b), MXU_OK, "%s", mxu_error_detail());
        uint32_t out = p->layers[0].output;
        differing += memcmp(a[out], b[out], mxu_tensor_bytes(&p->tensors[out])) != 0;
        for (uint32_t i = 0; i < p->n_tensors; i++)
            free(a[i]), free(b[i]);
        mxu_program_free(p);
    }
    cr_assert_gt(with_bit, 10, "about half the layers draw the bit (%d of 40)", with_bit);
    cr_assert_gt(differing, 0, "%d of %d layers with the bit have an output it changes", differing, with_bit);
}
