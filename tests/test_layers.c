/* The layer calls and the device allocator of libmxu (mxu_layers.h), on the C
 * model, against the golden kernels; every call's error paths. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "mxu_layers.h"
#include "mxu_numerics.h"
#include "support/random_layer.h"

static mxu_device *open_dev(const char *uri)
{
    mxu_device *dev = NULL;
    cr_assert_eq(mxu_open(uri, &dev), MXU_OK, "%s: %s", uri, mxu_error_detail());
    return dev;
}

static void close_dev(mxu_device *dev)
{
    mxu_close(dev);
}

static int8_t *random_bytes(struct rng *r, size_t n, int lo, int hi)
{
    int8_t *v = malloc(n ? n : 1);
    cr_assert_not_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (int8_t)rng_range(r, lo, hi);
    return v;
}

/* Per-channel requantization as TFLite derives it from scales. */
static void requant(struct rng *r, uint32_t cout, uint32_t fan_in, int32_t *bias, int32_t *mult,
                    int32_t *shift)
{
    float *ws = malloc(cout * sizeof *ws);
    for (uint32_t c = 0; c < cout; c++) {
        ws[c] = (float)rng_range(r, 1, 1000) / 100000.0f;
        bias[c] = rng_range(r, -3000, 3000);
    }
    cr_assert_eq(mxu_requant_params(0.05f, ws, cout, 0.05f * (float)fan_in / 8.0f, mult, shift),
                 MXU_OK, "%s", mxu_error_detail());
    free(ws);
}

static void assert_same(const int8_t *got, const int8_t *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "%s: byte %zu: device %d, golden %d", what, i, got[i], want[i]);
}

/* ---- conv2d --------------------------------------------------------------------- */

struct conv_case {
    uint32_t n, h, w, cin, cout, kh, kw, s, d, groups, pool_k, pool_s;
    enum mxu_padding padding;
    uint32_t pad;
    enum mxu_activation act;
};

static void run_conv_case(mxu_device *dev, const struct conv_case *k, uint64_t seed)
{
    struct rng r = {seed};
    uint32_t cin_g = k->cin / k->groups;
    size_t in_n = (size_t)k->n * k->h * k->w * k->cin, w_n = (size_t)k->cout * k->kh * k->kw * cin_g;
    int8_t *in = random_bytes(&r, in_n, -128, 127), *w = random_bytes(&r, w_n, -127, 127);
    int32_t bias[64], mult[64], shift[64];
    requant(&r, k->cout, k->kh * k->kw * cin_g, bias, mult, shift);
    struct mxu_conv2d_args a = {
        .input = {.data = in, .ndims = 4, .dims = {k->n, k->h, k->w, k->cin}, .zero_point = 7,
                  .scale = 0.05f},
        .filter = w, .cout = k->cout, .kh = k->kh, .kw = k->kw, .bias = bias, .multiplier = mult,
        .shift = shift, .stride_h = k->s, .stride_w = k->s, .dil_h = k->d, .dil_w = k->d,
        .groups = k->groups, .padding = k->padding, .pad_top = k->pad, .pad_left = k->pad,
        .pad_bottom = k->pad, .pad_right = k->pad, .pool_k = k->pool_k, .pool_s = k->pool_s};
    int8_t out[8192], want[8192];
    mxu_qoutput o = {.data = out, .capacity = sizeof out, .zero_point = -5, .scale = 0.04f,
                     .act = k->act};
    mxu_layer_result res;
    cr_assert_eq(mxu_conv2d(dev, &a, &o, &res), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(o.ndims, 4);
    cr_assert_eq(o.dims[0], k->n);
    cr_assert_eq(o.dims[3], k->cout);
    cr_assert_gt(res.counters.cycles, 0);
    cr_assert_gt(res.insns, 2);
    cr_assert_eq(res.on_host, 0);
    /* golden: conv at the unpooled size, then the pool */
    int32_t pt = (int32_t)k->pad, pb = (int32_t)k->pad, pl = (int32_t)k->pad, pr = (int32_t)k->pad;
    int32_t oh, ow, lo, hi;
    if (k->padding == MXU_PADDING_SAME) {
        cr_assert_eq(mxu_same_padding((int32_t)k->h, (int32_t)k->kh, (int32_t)k->s, (int32_t)k->d, &oh, &pt, &pb), MXU_OK);
        cr_assert_eq(mxu_same_padding((int32_t)k->w, (int32_t)k->kw, (int32_t)k->s, (int32_t)k->d, &ow, &pl, &pr), MXU_OK);
    } else {
        cr_assert_eq(mxu_conv_out_size((int32_t)k->h, (int32_t)k->kh, (int32_t)k->s, (int32_t)k->d, pt, pb, &oh), MXU_OK);
        cr_assert_eq(mxu_conv_out_size((int32_t)k->w, (int32_t)k->kw, (int32_t)k->s, (int32_t)k->d, pl, pr, &ow), MXU_OK);
    }
    cr_assert_eq(mxu_activation_range(&o, &lo, &hi), MXU_OK);
    struct mxu_conv_params cp = {
        .n = (int32_t)k->n, .in_h = (int32_t)k->h, .in_w = (int32_t)k->w, .cin = (int32_t)k->cin,
        .cout = (int32_t)k->cout, .kh = (int32_t)k->kh, .kw = (int32_t)k->kw, .out_h = oh,
        .out_w = ow, .stride_h = (int32_t)k->s, .stride_w = (int32_t)k->s, .dil_h = (int32_t)k->d,
        .dil_w = (int32_t)k->d, .pad_top = pt, .pad_left = pl, .groups = (int32_t)k->groups,
        .zp_in = 7, .zp_out = -5, .act_min = lo, .act_max = hi};
    static int8_t conv_out[65536];
    cr_assert_eq(mxu_golden_conv2d(&cp, in, w, bias, mult, shift, k->pool_k ? conv_out : want), MXU_OK);
    cr_assert_eq(res.macs, (uint64_t)k->n * oh * ow * w_n);
    size_t n_out = (size_t)k->n * oh * ow * k->cout;
    if (k->pool_k) {
        struct mxu_pool_params pp = {.n = (int32_t)k->n, .in_h = oh, .in_w = ow, .c = (int32_t)k->cout,
                                     .out_h = (oh - (int32_t)k->pool_k) / (int32_t)k->pool_s + 1,
                                     .out_w = (ow - (int32_t)k->pool_k) / (int32_t)k->pool_s + 1,
                                     .filter_h = (int32_t)k->pool_k, .filter_w = (int32_t)k->pool_k,
                                     .stride_h = (int32_t)k->pool_s, .stride_w = (int32_t)k->pool_s,
                                     .act_min = -128, .act_max = 127};
        cr_assert_eq(mxu_golden_maxpool(&pp, conv_out, want), MXU_OK);
        n_out = (size_t)k->n * pp.out_h * pp.out_w * k->cout;
        cr_assert_eq(o.dims[1], (uint32_t)pp.out_h);
    } else {
        cr_assert_eq(o.dims[1], (uint32_t)oh);
    }
    assert_same(out, want, n_out, "conv2d");
    free(in);
    free(w);
}

Test(layers, conv2d_matches_golden)
{
    mxu_device *dev = open_dev("model:rows=8,cols=8");
    const struct conv_case cases[] = {
        {1, 9, 9, 3, 8, 3, 3, 1, 1, 1, 0, 0, MXU_PADDING_SAME, 0, MXU_ACT_RELU},
        {2, 10, 7, 12, 20, 3, 3, 2, 1, 1, 0, 0, MXU_PADDING_EXPLICIT, 1, MXU_ACT_RELU6},
        {1, 12, 12, 8, 8, 3, 3, 1, 1, 8, 0, 0, MXU_PADDING_SAME, 0, MXU_ACT_NONE},  /* depthwise */
        {1, 11, 11, 6, 12, 5, 5, 1, 2, 2, 2, 2, MXU_PADDING_VALID, 0, MXU_ACT_RELU}, /* dil, groups, pool */
        {1, 14, 14, 4, 10, 3, 3, 1, 1, 1, 3, 2, MXU_PADDING_SAME, 0, MXU_ACT_RELU6},
        {1, 1, 1, 30, 17, 1, 1, 1, 1, 1, 0, 0, MXU_PADDING_VALID, 0, MXU_ACT_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        run_conv_case(dev, &cases[i], 100 + i);
    close_dev(dev);
}

Test(layers, conv2d_errors)
{
    mxu_device *dev = open_dev("model:rows=4,cols=4");
    int8_t in[4 * 4 * 3] = {0}, w[8 * 9 * 3] = {0}, out[256];
    int32_t mult[8], shift[8];
    for (int i = 0; i < 8; i++)
        mult[i] = 1 << 30, shift[i] = 0;
    struct mxu_conv2d_args a = {.input = {.data = in, .ndims = 4, .dims = {1, 4, 4, 3}},
                                .filter = w, .cout = 8, .kh = 3, .kw = 3, .multiplier = mult,
                                .shift = shift};
    mxu_qoutput o = {.data = out, .capacity = sizeof out};
    mxu_layer_result res;
    cr_assert_eq(mxu_conv2d(dev, &a, &o, &res), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(o.dims[1], 2);

    struct mxu_conv2d_args bad = a;
    bad.input.ndims = 3;
    cr_assert_eq(mxu_conv2d(dev, &bad, &o, &res), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "NHWC") != NULL, "%s", mxu_error_detail());
    bad = a, bad.kh = 5;
    cr_assert_eq(mxu_conv2d(dev, &bad, &o, &res), MXU_ERR_INVAL);
    bad = a, bad.groups = 2;
    cr_assert_eq(mxu_conv2d(dev, &bad, &o, &res), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "groups") != NULL, "%s", mxu_error_detail());
    bad = a, bad.multiplier = NULL;
    cr_assert_eq(mxu_conv2d(dev, &bad, &o, &res), MXU_ERR_INVAL);
    bad = a, bad.pool_k = 3, bad.pool_s = 1;
    cr_assert_eq(mxu_conv2d(dev, &bad, &o, &res), MXU_ERR_INVAL);
    bad = a, bad.input.zero_point = 300;
    cr_assert_eq(mxu_conv2d(dev, &bad, &o, &res), MXU_ERR_INVAL);

    mxu_qoutput small = {.data = out, .capacity = 10};
    cr_assert_eq(mxu_conv2d(dev, &a, &small, &res), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "32") != NULL, "%s", mxu_error_detail());
    mxu_qoutput relu6 = {.data = out, .capacity = sizeof out, .act = MXU_ACT_RELU6};
    cr_assert_eq(mxu_conv2d(dev, &a, &relu6, &res), MXU_ERR_INVAL); /* no scale */
    mxu_qoutput clamp = {.data = out, .capacity = sizeof out, .act = MXU_ACT_CLAMP, .act_min = 5,
                         .act_max = 4};
    cr_assert_eq(mxu_conv2d(dev, &a, &clamp, &res), MXU_ERR_INVAL);
    cr_assert_eq(mxu_conv2d(NULL, &a, &o, &res), MXU_ERR_INVAL);
    close_dev(dev);
}

Test(layers, too_small_device_names_the_limit)
{
    /* accumulators of 2 rows: no 3x3 tile fits */
    mxu_device *dev = open_dev("model:rows=4,cols=4,ub_lines=16,acc=2,wb=8");
    int8_t in[16 * 16 * 8] = {0}, w[8 * 9 * 8] = {0}, out[16 * 16 * 8];
    int32_t mult[8], shift[8];
    for (int i = 0; i < 8; i++)
        mult[i] = 1 << 30, shift[i] = 0;
    struct mxu_conv2d_args a = {.input = {.data = in, .ndims = 4, .dims = {1, 16, 16, 8}},
                                .filter = w, .cout = 8, .kh = 3, .kw = 3, .multiplier = mult,
                                .shift = shift, .padding = MXU_PADDING_SAME};
    mxu_qoutput o = {.data = out, .capacity = sizeof out};
    cr_assert_eq(mxu_conv2d(dev, &a, &o, NULL), MXU_ERR_LIMIT);
    cr_assert(strstr(mxu_error_detail(), "device") != NULL, "%s", mxu_error_detail());
    struct mxu_pool_args p = {.input = a.input, .kh = 3, .kw = 3};
    cr_assert_eq(mxu_maxpool2d(dev, &p, &o, NULL), MXU_ERR_LIMIT);
    cr_assert(strstr(mxu_error_detail(), "accumulator rows") != NULL, "%s", mxu_error_detail());
    close_dev(dev);

    /* 4 KiB of DRAM cannot hold the tensors */
    dev = open_dev("model:rows=4,cols=4,dram=4K");
    cr_assert_eq(mxu_maxpool2d(dev, &p, &o, NULL), MXU_ERR_LIMIT);
    cr_assert(strstr(mxu_error_detail(), "DRAM") != NULL, "%s", mxu_error_detail());
    close_dev(dev);
}

/* ---- fully connected -------------------------------------------------------------- */

static void run_fc(mxu_device *dev, uint32_t batch, const uint32_t *dims, uint32_t ndims,
                   uint32_t cout, enum mxu_activation act, uint64_t seed)
{
    struct rng r = {seed};
    uint32_t cin = 1;
    for (uint32_t i = 1; i < ndims; i++)
        cin *= dims[i];
    int8_t *in = random_bytes(&r, (size_t)batch * cin, -128, 127);
    int8_t *w = random_bytes(&r, (size_t)cin * cout, -127, 127);
    int32_t bias[64], mult[64], shift[64];
    requant(&r, cout, cin, bias, mult, shift);
    struct mxu_fc_args a = {.input = {.data = in, .ndims = ndims, .zero_point = -3},
                            .weights = w, .cout = cout, .bias = bias, .multiplier = mult,
                            .shift = shift};
    memcpy(a.input.dims, dims, ndims * sizeof *dims);
    int8_t out[4096], want[4096];
    mxu_qoutput o = {.data = out, .capacity = sizeof out, .zero_point = 4, .act = act};
    mxu_layer_result res;
    cr_assert_eq(mxu_fully_connected(dev, &a, &o, &res), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(o.ndims, 2);
    cr_assert_eq(o.dims[0], batch);
    cr_assert_eq(o.dims[1], cout);
    cr_assert_eq(res.macs, (uint64_t)batch * cin * cout);
    cr_assert_gt(res.counters.array_vectors, 0);
    int32_t lo, hi;
    cr_assert_eq(mxu_activation_range(&o, &lo, &hi), MXU_OK);
    struct mxu_fc_params fp = {.batch = (int32_t)batch, .cin = (int32_t)cin, .cout = (int32_t)cout,
                               .zp_in = -3, .zp_out = 4, .act_min = lo, .act_max = hi};
    cr_assert_eq(mxu_golden_fc(&fp, in, w, bias, mult, shift, want), MXU_OK);
    assert_same(out, want, (size_t)batch * cout, "fc");
    free(in);
    free(w);
}

Test(layers, fully_connected_matches_golden)
{
    mxu_device *dev = open_dev("model:rows=8,cols=16");
    const uint32_t nc[2] = {5, 70}, one[2] = {1, 33}, nhwc[4] = {3, 2, 3, 7};
    run_fc(dev, 5, nc, 2, 40, MXU_ACT_RELU, 1);
    run_fc(dev, 1, one, 2, 10, MXU_ACT_NONE, 2);
    run_fc(dev, 3, nhwc, 4, 17, MXU_ACT_NONE, 3); /* NHWC flattened */
    /* errors */
    int8_t in[10] = {0}, w[10] = {0}, out[4];
    int32_t m = 1 << 30, s = 0;
    struct mxu_fc_args a = {.input = {.data = in, .ndims = 2, .dims = {2, 5}}, .weights = w,
                            .cout = 1, .multiplier = &m, .shift = &s};
    mxu_qoutput o = {.data = out, .capacity = 1};
    cr_assert_eq(mxu_fully_connected(dev, &a, &o, NULL), MXU_ERR_INVAL);
    o.capacity = sizeof out;
    cr_assert_eq(mxu_fully_connected(dev, &a, &o, NULL), MXU_OK, "%s", mxu_error_detail());
    a.cout = 0;
    cr_assert_eq(mxu_fully_connected(dev, &a, &o, NULL), MXU_ERR_INVAL);
    a.cout = 1, a.weights = NULL;
    cr_assert_eq(mxu_fully_connected(dev, &a, &o, NULL), MXU_ERR_INVAL);
    a.weights = w, a.input.ndims = 3;
    cr_assert_eq(mxu_fully_connected(dev, &a, &o, NULL), MXU_ERR_INVAL);
    close_dev(dev);
}

/* ---- pools -------------------------------------------------------------------------- */

static void run_pool(mxu_device *dev, int avg, const struct mxu_pool_args *a, int expect_host)
{
    int8_t out[8192], want[8192];
    mxu_qoutput o = {.data = out, .capacity = sizeof out, .act = MXU_ACT_RELU};
    mxu_layer_result res;
    int rc = avg ? mxu_avgpool2d(dev, a, &o, &res) : mxu_maxpool2d(dev, a, &o, &res);
    cr_assert_eq(rc, MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(res.on_host, expect_host, "%s", res.note);
    if (expect_host)
        cr_assert(strstr(res.note, "padding") != NULL, "%s", res.note);
    else
        cr_assert_gt(res.counters.cycles, 0);
    int32_t pt = (int32_t)a->pad_top, pl = (int32_t)a->pad_left, oh, ow, t;
    if (a->padding == MXU_PADDING_SAME) {
        mxu_same_padding((int32_t)a->input.dims[1], (int32_t)a->kh, (int32_t)(a->stride_h ? a->stride_h : 1), 1, &oh, &pt, &t);
        mxu_same_padding((int32_t)a->input.dims[2], (int32_t)a->kw, (int32_t)(a->stride_w ? a->stride_w : 1), 1, &ow, &pl, &t);
    } else {
        oh = (int32_t)o.dims[1], ow = (int32_t)o.dims[2];
    }
    cr_assert_eq(o.dims[1], (uint32_t)oh);
    cr_assert_eq(o.dims[2], (uint32_t)ow);
    struct mxu_pool_params pp = {
        .n = (int32_t)a->input.dims[0], .in_h = (int32_t)a->input.dims[1],
        .in_w = (int32_t)a->input.dims[2], .c = (int32_t)a->input.dims[3], .out_h = oh, .out_w = ow,
        .filter_h = (int32_t)a->kh, .filter_w = (int32_t)a->kw,
        .stride_h = (int32_t)(a->stride_h ? a->stride_h : 1),
        .stride_w = (int32_t)(a->stride_w ? a->stride_w : 1), .pad_top = pt, .pad_left = pl,
        .act_min = a->input.zero_point, .act_max = 127};
    cr_assert_eq(avg ? mxu_golden_avgpool(&pp, a->input.data, want)
                     : mxu_golden_maxpool(&pp, a->input.data, want), MXU_OK);
    assert_same(out, want, (size_t)pp.n * oh * ow * pp.c, avg ? "avgpool" : "maxpool");
}

Test(layers, pools_match_golden)
{
    mxu_device *dev = open_dev("model:rows=8,cols=8");
    struct rng r = {42};
    int8_t *in = random_bytes(&r, 2 * 11 * 9 * 21, -128, 127);
    struct mxu_pool_args a = {.input = {.data = in, .ndims = 4, .dims = {2, 11, 9, 21},
                                        .zero_point = -20},
                              .kh = 3, .kw = 3, .stride_h = 2, .stride_w = 2,
                              .padding = MXU_PADDING_SAME};
    run_pool(dev, 0, &a, 0);
    run_pool(dev, 1, &a, 1); /* padded average: on the host */
    a.padding = MXU_PADDING_VALID;
    run_pool(dev, 1, &a, 0);
    a.kh = 2, a.kw = 4, a.stride_h = 1, a.stride_w = 3; /* non-square */
    run_pool(dev, 0, &a, 0);
    run_pool(dev, 1, &a, 0);
    a.padding = MXU_PADDING_EXPLICIT, a.pad_top = 1, a.pad_bottom = 0, a.pad_left = 2, a.pad_right = 1;
    run_pool(dev, 0, &a, 0);
    free(in);
    close_dev(dev);
}

Test(layers, pool_errors)
{
    mxu_device *dev = open_dev("model:");
    int8_t in[2 * 3 * 4] = {0}, out[64];
    struct mxu_pool_args a = {.input = {.data = in, .ndims = 4, .dims = {1, 2, 3, 4}}, .kh = 3, .kw = 3};
    mxu_qoutput o = {.data = out, .capacity = sizeof out};
    cr_assert_eq(mxu_maxpool2d(dev, &a, &o, NULL), MXU_ERR_INVAL); /* window > input */
    a.padding = MXU_PADDING_SAME;
    cr_assert_eq(mxu_maxpool2d(dev, &a, &o, NULL), MXU_OK, "%s", mxu_error_detail());
    a.kh = 0;
    cr_assert_eq(mxu_avgpool2d(dev, &a, &o, NULL), MXU_ERR_INVAL);
    a.kh = 16, a.kw = 16, a.input.dims[1] = 1, a.input.dims[2] = 1, a.input.dims[3] = 24;
    cr_assert_eq(mxu_maxpool2d(dev, &a, &o, NULL), MXU_ERR_LIMIT); /* SAME pads 15 each side */
    cr_assert(strstr(mxu_error_detail(), "pool_k") != NULL, "%s", mxu_error_detail());
    a.padding = 7;
    cr_assert_eq(mxu_maxpool2d(dev, &a, &o, NULL), MXU_ERR_INVAL);
    close_dev(dev);
}

/* ---- add ---------------------------------------------------------------------------- */

Test(layers, add_runs_on_the_host)
{
    struct rng r = {9};
    int8_t *x = random_bytes(&r, 300, -128, 127), *y = random_bytes(&r, 300, -128, 127);
    int8_t out[300], want[300];
    mxu_qtensor a = {.data = x, .ndims = 4, .dims = {1, 10, 10, 3}, .scale = 0.05f, .zero_point = 3};
    mxu_qtensor b = {.data = y, .ndims = 4, .dims = {1, 10, 10, 3}, .scale = 0.02f, .zero_point = -7};
    mxu_qoutput o = {.data = out, .capacity = sizeof out, .scale = 0.08f, .zero_point = 1,
                     .act = MXU_ACT_RELU};
    mxu_layer_result res;
    mxu_device *dev = open_dev("model:");
    cr_assert_eq(mxu_add(dev, &a, &b, &o, &res), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(res.on_host, 1);
    cr_assert(strstr(res.note, "host") != NULL);
    struct mxu_add_params ap;
    cr_assert_eq(mxu_add_params_from_scales(0.05f, 3, 0.02f, -7, 0.08f, 1, 1, 127, &ap), MXU_OK);
    cr_assert_eq(mxu_golden_add(&ap, 300, x, y, want), MXU_OK);
    assert_same(out, want, 300, "add");
    cr_assert_eq(o.dims[1], 10);
    cr_assert_eq(mxu_add(NULL, &a, &b, &o, &res), MXU_OK, "%s", mxu_error_detail());
    /* errors */
    b.dims[1] = 5;
    cr_assert_eq(mxu_add(dev, &a, &b, &o, &res), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "shape") != NULL, "%s", mxu_error_detail());
    b.dims[1] = 10, b.scale = 0;
    cr_assert_eq(mxu_add(dev, &a, &b, &o, &res), MXU_ERR_INVAL);
    b.scale = 0.02f, o.capacity = 100;
    cr_assert_eq(mxu_add(dev, &a, &b, &o, &res), MXU_ERR_INVAL);
    close_dev(dev);
    free(x);
    free(y);
}

/* ---- activation ranges ----------------------------------------------------------------- */

Test(layers, activation_ranges_follow_tflite)
{
    int32_t lo, hi;
    mxu_qoutput o = {.zero_point = -10, .scale = 0.05f, .act = MXU_ACT_RELU6};
    cr_assert_eq(mxu_activation_range(&o, &lo, &hi), MXU_OK);
    cr_assert_eq(lo, -10);
    cr_assert_eq(hi, 110); /* -10 + round(6 / 0.05) */
    o.scale = 0.01f;
    cr_assert_eq(mxu_activation_range(&o, &lo, &hi), MXU_OK);
    cr_assert_eq(hi, 127);
    o.act = MXU_ACT_RELU;
    cr_assert_eq(mxu_activation_range(&o, &lo, &hi), MXU_OK);
    cr_assert_eq(lo, -10);
    cr_assert_eq(hi, 127);
    o.act = MXU_ACT_NONE;
    cr_assert_eq(mxu_activation_range(&o, &lo, &hi), MXU_OK);
    cr_assert_eq(lo, -128);
    o.act = 9;
    cr_assert_eq(mxu_activation_range(&o, &lo, &hi), MXU_ERR_INVAL);
    float ws[2] = {0.01f, 0.02f};
    int32_t m[2], s[2];
    cr_assert_eq(mxu_requant_params(0.5f, ws, 2, 0.25f, m, s), MXU_OK);
    int32_t qm, qs;
    cr_assert_eq(mxu_quantize_multiplier((double)0.5f * (double)0.01f / (double)0.25f, &qm, &qs), MXU_OK);
    cr_assert_eq(m[0], qm);
    cr_assert_eq(s[0], -5); /* 0.02 = 0.64 * 2^-5 */
    cr_assert_eq(mxu_requant_params(0.5f, ws, 2, -1.0f, m, s), MXU_ERR_INVAL);
}

/* ---- device memory ------------------------------------------------------------------- */

Test(layers, allocator_first_fit)
{
    mxu_device *dev = open_dev("model:dram=64K");
    uint32_t a, b, c, d;
    uint64_t used, largest;
    cr_assert_eq(mxu_dev_alloc(dev, 1000, 0, &a), MXU_OK);
    cr_assert_eq(a, 0);
    cr_assert_eq(mxu_dev_alloc(dev, 100, 256, &b), MXU_OK);
    cr_assert_eq(b, 1024);
    cr_assert_eq(mxu_dev_alloc(dev, 10, 8, &c), MXU_OK);
    cr_assert_eq(c, 1000, "first fit takes the gap before b");
    cr_assert_eq(mxu_dev_free(dev, a), MXU_OK);
    cr_assert_eq(mxu_dev_alloc(dev, 500, 64, &d), MXU_OK);
    cr_assert_eq(d, 0, "first fit reuses the freed hole");
    mxu_dev_mem_usage(dev, &used, &largest);
    cr_assert_eq(used, 610);
    cr_assert_eq(largest, 65536 - 1124);
    cr_assert_eq(mxu_dev_alloc(dev, 65536, 64, &a), MXU_ERR_LIMIT);
    cr_assert(strstr(mxu_error_detail(), "DRAM full") != NULL, "%s", mxu_error_detail());
    cr_assert(strstr(mxu_error_detail(), "64412") != NULL, "%s", mxu_error_detail());
    cr_assert_eq(mxu_dev_free(dev, 12345), MXU_ERR_INVAL);
    cr_assert_eq(mxu_dev_free(dev, d), MXU_OK);
    cr_assert_eq(mxu_dev_free(dev, d), MXU_ERR_INVAL, "double free");
    cr_assert_eq(mxu_dev_alloc(dev, 10, 3, &a), MXU_ERR_INVAL);
    cr_assert_eq(mxu_dev_alloc(dev, 0, 64, &a), MXU_ERR_INVAL);
    mxu_dev_mem_release(dev);
    mxu_dev_mem_usage(dev, &used, &largest);
    cr_assert_eq(used, 0);
    cr_assert_eq(largest, 65536);
    close_dev(dev);
}

Test(layers, layer_calls_live_beside_user_buffers)
{
    mxu_device *dev = open_dev("model:rows=4,cols=4,dram=256K");
    uint32_t user, rest;
    uint8_t pattern[4096], back[4096];
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)(i * 7 + 1);
    cr_assert_eq(mxu_dev_alloc(dev, sizeof pattern, 64, &user), MXU_OK);
    cr_assert_eq(mxu_mem_write(dev, user, pattern, sizeof pattern), MXU_OK);
    struct rng r = {5};
    int8_t *in = random_bytes(&r, 9 * 9 * 6, -128, 127), out[512], want[512];
    struct mxu_pool_args a = {.input = {.data = in, .ndims = 4, .dims = {1, 9, 9, 6}}, .kh = 2,
                              .kw = 2, .stride_h = 2, .stride_w = 2};
    mxu_qoutput o = {.data = out, .capacity = sizeof out};
    cr_assert_eq(mxu_maxpool2d(dev, &a, &o, NULL), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_mem_read(dev, user, back, sizeof back), MXU_OK);
    cr_assert_eq(memcmp(back, pattern, sizeof back), 0, "the layer call overwrote a user buffer");
    struct mxu_pool_params pp = {.n = 1, .in_h = 9, .in_w = 9, .c = 6, .out_h = 4, .out_w = 4,
                                 .filter_h = 2, .filter_w = 2, .stride_h = 2, .stride_w = 2,
                                 .act_min = -128, .act_max = 127};
    cr_assert_eq(mxu_golden_maxpool(&pp, in, want), MXU_OK);
    assert_same(out, want, 96, "relocated maxpool");
    uint64_t used;
    mxu_dev_mem_usage(dev, &used, NULL);
    cr_assert_eq(used, sizeof pattern, "the layer call freed its memory");
    /* the rest of DRAM taken: the call cannot place its program */
    cr_assert_eq(mxu_dev_alloc(dev, 256 * 1024 - 4096, 64, &rest), MXU_OK);
    cr_assert_eq(mxu_maxpool2d(dev, &a, &o, NULL), MXU_ERR_LIMIT);
    cr_assert(strstr(mxu_error_detail(), "DRAM full") != NULL, "%s", mxu_error_detail());
    free(in);
    close_dev(dev);
}
