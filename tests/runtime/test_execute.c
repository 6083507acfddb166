/* The executor (mxu_execute.h) and the builder's segments: whole programs run
 * layer by layer on the device and the host, compared with the golden
 * reference run tensor by tensor. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu.h"
#include "golden.h"
#include "mxu_asm.h"
#include "mxu_builder.h"
#include "mxu_encode.h"
#include "mxu_execute.h"
#include "mxu_layer_program.h"
#include "mxu_reference.h"
#include "runtime/test_net.h"

TestSuite(execute, .timeout = 300);

/* ---- helpers ------------------------------------------------------------------------ */

static uint8_t **alloc_values(const mxu_program *p)
{
    uint8_t **v = calloc(p->n_tensors, sizeof *v);
    cr_assert_not_null(v);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        v[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1);
        cr_assert_not_null(v[i]);
    }
    return v;
}

static void free_values(const mxu_program *p, uint8_t **v)
{
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(v[i]);
    free(v);
}

static void random_fill(uint8_t *d, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        d[i] = (uint8_t)(s >> 24);
    }
}

static mxu_device *open_for(const char *backend, const mxu_program *p)
{
    char cfg[400], uri[500];
    mxu_device *dev = NULL;
    mxu_config_format(&p->config, cfg, sizeof cfg);
    snprintf(uri, sizeof uri, "%s:%s", backend, cfg);
    cr_assert_eq(mxu_open(uri, &dev), MXU_OK, "%s: %s", uri, mxu_error_detail());
    cr_assert_eq(mxu_program_load(dev, p), MXU_OK, "%s", mxu_error_detail());
    return dev;
}

/* Load, write random inputs, execute; compare every tensor the program
 * computes with the reference run. Returns the total device cycles. */
static uint64_t execute_and_compare(const char *backend, const mxu_program *p, uint64_t seed,
                                    struct mxu_layer_stats *stats)
{
    mxu_device *dev = open_for(backend, p);
    uint8_t **ref = alloc_values(p);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_INPUT) {
            random_fill(ref[i], mxu_tensor_bytes(&p->tensors[i]), seed + i);
            cr_assert_eq(mxu_tensor_write(dev, p, i, ref[i], mxu_tensor_bytes(&p->tensors[i])), MXU_OK);
        }
    mxu_counters total;
    int rc = mxu_program_execute(dev, p, 0, stats, &total);
    cr_assert_eq(rc, MXU_OK, "execute on %s: %s", backend, mxu_error_detail());
    cr_assert_eq(mxu_reference_run(p, ref), MXU_OK, "%s", mxu_error_detail());
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        size_t n = mxu_tensor_bytes(&p->tensors[i]);
        uint8_t *got = malloc(n);
        cr_assert_not_null(got);
        cr_assert_eq(mxu_tensor_read(dev, p, i, got, n), MXU_OK);
        for (size_t k = 0; k < n; k++)
            cr_assert_eq(got[k], ref[i][k], "%s: tensor %s byte %zu: device %d, golden %d", backend,
                         p->tensors[i].name, k, (int8_t)got[k], (int8_t)ref[i][k]);
        free(got);
    }
    free_values(p, ref);
    mxu_close(dev);
    return total.cycles;
}

static mxu_program *net(uint32_t rows, uint32_t cols, uint32_t h, uint32_t w, uint64_t seed)
{
    mxu_hw_config cfg;
    mxu_program *p = NULL, *q = NULL;
    uint8_t *buf;
    size_t len;
    mxu_config_default(&cfg);
    cfg.rows = rows, cfg.cols = cols;
    cr_assert_eq(mxu_config_validate(&cfg), MXU_OK);
    cr_assert_eq(test_net_build(&cfg, h, w, seed, 1, &p), MXU_OK, "%s", mxu_error_detail());
    /* What the reader accepts (ranges included) is what the tests run. */
    cr_assert_eq(mxu_program_serialize(p, &buf, &len), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_program_parse(buf, len, &q), MXU_OK, "%s", mxu_error_detail());
    free(buf);
    mxu_program_free(p);
    return q;
}

/* ---- the builder's segments ---------------------------------------------------------------- */

static int is_finish(const uint64_t *insn)
{
    return mxu_insn_opcode(insn) == MXU_OP_FINISH;
}

Test(execute, end_segment_closes_ranges_and_finish_adds_none_after)
{
    mxu_hw_config cfg;
    mxu_builder *b;
    mxu_program *p;
    uint32_t first = 99, count = 99, t;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_builder_new(&cfg, &b), MXU_OK);
    uint32_t dims[2] = {1, 16};
    cr_assert_eq(mxu_builder_add_tensor(b, "x", MXU_ROLE_INPUT, 2, dims, 1, 0, &t), MXU_OK);
    int region = mxu_builder_tensor_region(b, t);
    int ub = mxu_builder_region(b, MXU_REGION_UB, 0, 1);
    uint64_t w[MXU_INSN_WORDS];
    struct mxu_load ld = {.mem = MXU_MEM_UB, .dram_addr = mxu_builder_program(b)->tensors[t].dram_addr,
                          .elem_bytes = 16, .n0 = 1, .n1 = 1, .n2 = 1};
    struct mxu_store st = {.dram_addr = ld.dram_addr, .elem_bytes = 16, .n0 = 1, .n1 = 1, .n2 = 1};
    mxu_encode_load(w, &ld);
    int r1[] = {region, -1}, w1[] = {ub, -1};
    cr_assert_eq(mxu_builder_emit(b, w, r1, w1), MXU_OK);
    cr_assert_eq(mxu_builder_end_segment(b, &first, &count), MXU_OK);
    cr_assert_eq(first, 0);
    cr_assert_eq(count, 2, "a load and its FINISH, got %u", count);
    /* The store reads what the load of the previous segment wrote: the device
     * was idle in between, so no token and no filler is needed. */
    mxu_encode_store(w, &st);
    cr_assert_eq(mxu_builder_emit(b, w, w1, r1), MXU_OK);
    struct mxu_builder_stats s;
    mxu_builder_stats(b, &s);
    cr_assert_eq(s.tokens, 0);
    cr_assert_eq(s.filler_insns, 0);
    cr_assert_eq(mxu_builder_end_segment(b, &first, &count), MXU_OK);
    cr_assert_eq(first, 2);
    cr_assert_eq(count, 2);
    cr_assert_eq(mxu_builder_finish(b, &p), MXU_OK);
    mxu_builder_free(b);
    cr_assert_eq(p->n_insns, 4, "no FINISH after a closed segment: %u instructions", p->n_insns);
    cr_assert(is_finish(p->insns[1]) && is_finish(p->insns[3]));
    cr_assert_eq(p->insns[2][0] & (MXU_DEP_POP_PREV | MXU_DEP_POP_NEXT), 0);
    mxu_program_free(p);
}

Test(execute, finish_appends_one_after_open_instructions)
{
    mxu_hw_config cfg;
    mxu_builder *b;
    mxu_program *p;
    uint32_t first, count;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_builder_new(&cfg, &b), MXU_OK);
    cr_assert_eq(mxu_builder_end_segment(b, &first, &count), MXU_OK); /* an empty segment */
    cr_assert_eq(first, 0);
    cr_assert_eq(count, 1);
    uint64_t w[MXU_INSN_WORDS];
    struct mxu_activate d = {.in_w = 1, .out_h = 1, .out_w = 1, .pool_k = 1, .pool_s = 1,
                             .clamp_min = -128, .clamp_max = 127};
    mxu_encode_activate(w, &d);
    int ub = mxu_builder_region(b, MXU_REGION_UB, 0, 1), wr[] = {ub, -1};
    cr_assert_eq(mxu_builder_emit(b, w, NULL, wr), MXU_OK);
    cr_assert_eq(mxu_builder_finish(b, &p), MXU_OK);
    mxu_builder_free(b);
    cr_assert_eq(p->n_insns, 3);
    cr_assert(is_finish(p->insns[2]));
    mxu_program_free(p);
    /* No segment at all: the classic single FINISH. */
    cr_assert_eq(mxu_builder_new(&cfg, &b), MXU_OK);
    cr_assert_eq(mxu_builder_finish(b, &p), MXU_OK);
    mxu_builder_free(b);
    cr_assert_eq(p->n_insns, 1);
    mxu_program_free(p);
}

/* ---- whole networks ---------------------------------------------------------------------- */

Test(execute, network_matches_the_reference_on_the_model)
{
    mxu_program *p = net(16, 16, 8, 8, 11);
    cr_assert_eq(p->n_layers, TEST_NET_LAYERS);
    cr_assert(mxu_program_has_ranges(p));
    struct mxu_layer_stats st[TEST_NET_LAYERS];
    uint64_t cycles = 0, total = 0;
    for (uint64_t seed = 1; seed <= 3; seed++)
        total = execute_and_compare("model", p, seed, st);
    const int device[TEST_NET_LAYERS] = {1, 1, 1, 0, 0, 1, 0, 1, 0, 0};
    for (uint32_t i = 0; i < TEST_NET_LAYERS; i++) {
        cr_assert_eq(st[i].on_host, !device[i], "layer %u", i);
        cr_assert_eq(mxu_layer_on_host(p, i), !device[i], "layer %u", i);
        if (device[i])
            cr_assert_gt(st[i].counters.cycles, 0, "layer %u", i);
        else
            cr_assert_eq(st[i].counters.cycles, 0, "layer %u", i);
        cycles += st[i].counters.cycles;
    }
    cr_assert_eq(cycles, total, "per-layer cycles add up to the total");
    cr_assert_gt(st[0].macs, 0);
    cr_assert_eq(st[3].macs, 0);
    mxu_program_free(p);
}

Test(execute, network_on_other_shapes_and_arrays)
{
    const struct {
        uint32_t rows, cols, h, w;
    } v[] = {{8, 8, 6, 10}, {4, 16, 2, 2}, {16, 8, 12, 4}};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        mxu_program *p = net(v[i].rows, v[i].cols, v[i].h, v[i].w, 20 + i);
        execute_and_compare("model", p, 5 + i, NULL);
        mxu_program_free(p);
    }
}

Test(execute, network_on_the_rtl)
{
    mxu_program *p = net(4, 4, 4, 4, 31);
    struct mxu_layer_stats rtl[TEST_NET_LAYERS], model[TEST_NET_LAYERS];
    uint64_t cr = execute_and_compare("rtl", p, 9, rtl);
    uint64_t cm = execute_and_compare("model", p, 9, model);
    cr_assert_eq(cr, cm, "the model predicts the RTL's cycles: %llu vs %llu", (unsigned long long)cr,
                 (unsigned long long)cm);
    for (uint32_t i = 0; i < TEST_NET_LAYERS; i++)
        cr_assert_eq(rtl[i].counters.cycles, model[i].counters.cycles, "layer %u", i);
    mxu_program_free(p);
}

/* ---- observer, errors, programs without ranges ------------------------------------------------- */

struct watch {
    uint32_t calls, order_ok;
    uint8_t **ref;
    int mismatch;
};

static int watch_layer(void *ctx, mxu_device *dev, const mxu_program *p, uint32_t layer)
{
    struct watch *w = ctx;
    w->order_ok += layer == w->calls;
    w->calls++;
    const mxu_layer *l = &p->layers[layer];
    size_t n = mxu_tensor_bytes(&p->tensors[l->output]);
    uint8_t *got = malloc(n);
    int rc = got ? mxu_tensor_read(dev, p, l->output, got, n) : MXU_ERR_NOMEM;
    if (rc == MXU_OK && memcmp(got, w->ref[l->output], n) != 0)
        w->mismatch = 1;
    free(got);
    return rc;
}

static int stop_at_two(void *ctx, mxu_device *dev, const mxu_program *p, uint32_t layer)
{
    (void)dev, (void)p;
    *(uint32_t *)ctx = layer;
    return layer == 2 ? mxu_fail(MXU_ERR_INVAL, "stop here") : MXU_OK;
}

Test(execute, observer_sees_each_layer_output_in_order)
{
    mxu_program *p = net(8, 8, 4, 6, 41);
    mxu_device *dev = open_for("model", p);
    uint8_t **ref = alloc_values(p);
    random_fill(ref[0], mxu_tensor_bytes(&p->tensors[0]), 77);
    cr_assert_eq(mxu_tensor_write(dev, p, 0, ref[0], mxu_tensor_bytes(&p->tensors[0])), MXU_OK);
    cr_assert_eq(mxu_reference_run(p, ref), MXU_OK);
    struct watch w = {0, 0, ref, 0};
    cr_assert_eq(mxu_program_execute_observed(dev, p, 0, NULL, NULL, watch_layer, &w), MXU_OK, "%s",
                 mxu_error_detail());
    cr_assert_eq(w.calls, p->n_layers);
    cr_assert_eq(w.order_ok, p->n_layers);
    cr_assert_eq(w.mismatch, 0);
    uint32_t last = 0;
    cr_assert_eq(mxu_program_execute_observed(dev, p, 0, NULL, NULL, stop_at_two, &last), MXU_ERR_INVAL);
    cr_assert_eq(last, 2);
    free_values(p, ref);
    mxu_close(dev);
    mxu_program_free(p);
}

Test(execute, device_error_names_the_layer_and_instruction)
{
    mxu_program *p = net(16, 16, 4, 4, 51);
    const mxu_layer *l = &p->layers[2]; /* conv2 */
    uint32_t bad = l->code_first + 1;
    p->insns[bad][0] |= 0xF; /* an illegal opcode */
    mxu_device *dev = open_for("model", p);
    mxu_counters total;
    int rc = mxu_program_execute(dev, p, 0, NULL, &total);
    cr_assert_eq(rc, MXU_ERR_DEVICE, "%d: %s", rc, mxu_error_detail());
    char want[64];
    snprintf(want, sizeof want, "program instruction %u", bad);
    cr_assert(strstr(mxu_error_detail(), "layer 2 'conv2'") && strstr(mxu_error_detail(), want),
              "%s", mxu_error_detail());
    mxu_close(dev);
    mxu_program_free(p);
}

Test(execute, one_layer_program_runs_whole_and_gets_the_counters)
{
    mxu_hw_config cfg;
    mxu_program *p;
    struct mxu_layer_desc d = {.name = "conv", .op = MXU_LAYER_CONV2D, .n = 1, .h = 6, .w = 5, .cin = 7,
                               .cout = 9, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1,
                               .act_min = -128, .act_max = 127};
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_build_layer_program(&cfg, &d, 3, &p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_not(mxu_program_has_ranges(p));
    cr_assert_not(mxu_layer_on_host(p, 0));
    struct mxu_layer_stats st;
    uint64_t total = execute_and_compare("model", p, 4, &st);
    cr_assert_gt(total, 0);
    cr_assert_eq(st.counters.cycles, total);
    cr_assert_eq(st.on_host, 0);
    mxu_program_free(p);
}

/* The reference replays a fused LUT on an FC as on a conv: requantized with
 * zero point 0, clamped, then mapped (what ACTIVATE's lut_en does). */
Test(execute, fc_with_a_lut_matches_the_reference)
{
    mxu_hw_config cfg;
    mxu_program *p;
    struct mxu_layer_desc d = {.name = "fc", .op = MXU_LAYER_FC, .n = 2, .h = 1, .w = 1, .cin = 64,
                               .cout = 32, .act_min = -100, .act_max = 90, .lut = 1, .zp_out = 17};
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_build_layer_program(&cfg, &d, 5, &p), MXU_OK, "%s", mxu_error_detail());
    cr_assert(p->layers[0].flags & MXU_LAYER_F_LUT);
    execute_and_compare("model", p, 6, NULL);
    mxu_program_free(p);
}

/* An assembled program without ranges: its code computes the fc; the softmax
 * after it is host-only and runs after the code. */
Test(execute, assembled_program_with_a_host_softmax)
{
    static const char src[] =
        ".tensor x input  int8 nc 8x64 @0x10000 scale=0.05 zp=-2\n"
        ".tensor y activation int8 nc 8x32 @0x20000 scale=0.1  zp=3\n"
        ".tensor prob output int8 nc 8x32 @0x30000 scale=0.00390625 zp=-128\n"
        ".layer fc fc1 in=x out=y cout=32 weights=random:1 bias=random:2 wscale=0.002\n"
        ".layer softmax sm in=y out=prob\n"
        ".pack fc1 weights @0x11000\n"
        ".pack fc1 params  @0x12000\n"
        "load mem=ub    dram_addr=0x10000 elem_bytes=16  n0=8   s0=64  n1=4 s1=16 n2=1\n"
        "load mem=wb    dram_addr=0x11000 elem_bytes=16  n0=128 s0=16  n1=1 n2=1\n"
        "load mem=param dram_addr=0x12000 elem_bytes=192 n0=2   s0=192 n1=1 n2=1 push_next\n"
        "matmul pop_prev wgt_line=0  n0=8 s0=1 n1=1 nk=4 k_stride=8 acc_addr=0\n"
        "matmul          wgt_line=64 n0=8 s0=1 n1=1 nk=4 k_stride=8 acc_addr=8\n"
        "activate param_line=0 acc_addr=0 in_w=8 out_h=1 out_w=8 ub_addr=32 zp_out=3 "
        "clamp_min=-128 clamp_max=127 pool_k=1 pool_s=1\n"
        "activate param_line=1 acc_addr=8 in_w=8 out_h=1 out_w=8 ub_addr=40 zp_out=3 "
        "clamp_min=-128 clamp_max=127 pool_k=1 pool_s=1 push_next\n"
        "store pop_prev src_line=32 dram_addr=0x20000 elem_bytes=16 n0=8 s0=32 n1=2 s1=16 n2=1\n"
        "finish\n";
    mxu_program *p;
    cr_assert_eq(mxu_asm_parse(src, "host_softmax.s", NULL, &p), MXU_OK, "%s", mxu_error_detail());
    cr_assert_not(mxu_layer_on_host(p, 0));
    cr_assert(mxu_layer_on_host(p, 1));
    struct mxu_layer_stats st[2];
    uint64_t total = execute_and_compare("model", p, 8, st);
    cr_assert_eq(st[0].counters.cycles, total);
    cr_assert_eq(st[1].on_host, 1);
    mxu_program_free(p);
}

/* A program whose code is one FINISH: every layer runs on the host and the
 * device is not started. */
Test(execute, host_only_program_never_starts_the_device)
{
    mxu_hw_config cfg;
    mxu_builder *b;
    mxu_program *p;
    uint32_t x, y;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_builder_new(&cfg, &b), MXU_OK);
    uint32_t dims[2] = {3, 7};
    cr_assert_eq(mxu_builder_add_tensor(b, "x", MXU_ROLE_INPUT, 2, dims, 0.1f, 0, &x), MXU_OK);
    cr_assert_eq(mxu_builder_add_tensor(b, "y", MXU_ROLE_OUTPUT, 2, dims, MXU_SOFTMAX_OUT_SCALE,
                                        MXU_SOFTMAX_OUT_ZP, &y), MXU_OK);
    mxu_layer l;
    mxu_layer_init(&l, "sm", MXU_LAYER_SOFTMAX);
    l.input = x, l.output = y;
    cr_assert_eq(mxu_program_add_layer(mxu_builder_program(b), &l), MXU_OK);
    cr_assert_eq(mxu_builder_finish(b, &p), MXU_OK);
    mxu_builder_free(b);
    cr_assert(mxu_layer_on_host(p, 0));
    mxu_counters total;
    mxu_device *dev = open_for("model", p);
    cr_assert_eq(mxu_program_execute(dev, p, 0, NULL, &total), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(total.cycles, 0);
    cr_assert_eq(total.insns, 0);
    mxu_close(dev);
    execute_and_compare("model", p, 2, NULL);
    mxu_program_free(p);
}

Test(execute, null_arguments)
{
    cr_assert_eq(mxu_program_execute(NULL, NULL, 0, NULL, NULL), MXU_ERR_INVAL);
}
