/* Pooling on the array against the golden kernels: random max/average pool
 * shapes lowered for several array configurations and run on the C model, bit
 * for bit; the average's divisor search verified exhaustively. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "mxu.h"
#include "mxu_builder.h"
#include "mxu_lower.h"
#include "mxu_numerics.h"
#include "mxu_pool.h"
#include "support/random_layer.h"

struct pool_shape {
    uint32_t op, n, h, w, c, kh, kw, sh, sw, pt, pl, pb, pr;
    int32_t act_min, act_max;
};

static int add_tensor(mxu_builder *b, const char *name, uint32_t role, const uint32_t dims[4])
{
    mxu_tensor t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.role = role;
    t.dtype = MXU_DTYPE_INT8;
    t.layout = MXU_LAYOUT_NHWC;
    t.ndims = 4;
    memcpy(t.dims, dims, sizeof t.dims);
    t.scale = 0.1f;
    int rc = mxu_builder_alloc_dram(b, dims[0] * dims[1] * dims[2] * dims[3], 64, &t.dram_addr);
    return rc ? rc : mxu_program_add_tensor(mxu_builder_program(b), &t, NULL);
}

static void fill_layer(const struct pool_shape *s, mxu_layer *l)
{
    memset(l, 0, sizeof *l);
    snprintf(l->name, sizeof l->name, "%s", s->op == MXU_LAYER_MAXPOOL ? "maxpool" : "avgpool");
    l->op = s->op;
    l->input = 0, l->output = 1, l->input2 = MXU_NONE;
    l->cout = s->c, l->kh = s->kh, l->kw = s->kw, l->stride_h = s->sh, l->stride_w = s->sw;
    l->dil_h = l->dil_w = l->groups = 1;
    l->pad_top = s->pt, l->pad_left = s->pl, l->pad_bottom = s->pb, l->pad_right = s->pr;
    l->act_min = s->act_min, l->act_max = s->act_max;
    l->weights = l->bias = l->multiplier = l->shift = l->lut = l->add_params = MXU_NONE;
}

/* Build the one-layer program of a pool shape; *plan receives its plan. */
static int build_pool(const mxu_hw_config *cfg, const struct pool_shape *s, mxu_program **out,
                      struct mxu_pool_plan *plan)
{
    mxu_builder *b;
    mxu_layer l;
    uint32_t oh = (s->h + s->pt + s->pb - s->kh) / s->sh + 1;
    uint32_t ow = (s->w + s->pl + s->pr - s->kw) / s->sw + 1;
    uint32_t din[4] = {s->n, s->h, s->w, s->c}, dout[4] = {s->n, oh, ow, s->c};
    *out = NULL;
    int rc = mxu_builder_new(cfg, &b);
    cr_assert_eq(rc, MXU_OK);
    fill_layer(s, &l);
    rc = add_tensor(b, "input", MXU_ROLE_INPUT, din);
    if (rc == MXU_OK)
        rc = add_tensor(b, "output", MXU_ROLE_OUTPUT, dout);
    if (rc == MXU_OK)
        rc = mxu_program_add_layer(mxu_builder_program(b), &l);
    if (rc == MXU_OK && plan)
        rc = mxu_plan_pool(b, &mxu_builder_program(b)->layers[0], plan);
    if (rc == MXU_OK)
        rc = mxu_lower_layer(b, 0);
    if (rc == MXU_OK)
        rc = mxu_builder_finish(b, out);
    mxu_builder_free(b);
    return rc;
}

static void random_shape(struct rng *r, uint32_t op, struct pool_shape *s)
{
    memset(s, 0, sizeof *s);
    s->op = op;
    s->n = rng_range(r, 0, 5) ? 1 : 2;
    s->c = (uint32_t)rng_range(r, 1, 40);
    s->kh = (uint32_t)rng_range(r, 1, 5);
    s->kw = rng_range(r, 0, 2) ? s->kh : (uint32_t)rng_range(r, 1, 5);
    s->sh = (uint32_t)rng_range(r, 1, 3);
    s->sw = rng_range(r, 0, 2) ? s->sh : (uint32_t)rng_range(r, 1, 3);
    int padded = op == MXU_LAYER_MAXPOOL ? rng_range(r, 0, 1) : !rng_range(r, 0, 5);
    if (padded) {
        s->pt = (uint32_t)rng_range(r, 0, (int32_t)s->kh - 1);
        s->pb = (uint32_t)rng_range(r, 0, (int32_t)s->kh - 1);
        s->pl = (uint32_t)rng_range(r, 0, (int32_t)s->kw - 1);
        s->pr = (uint32_t)rng_range(r, 0, (int32_t)s->kw - 1);
    }
    /* 1x1 images now and then, else large enough for the window */
    int tiny = !rng_range(r, 0, 7);
    uint32_t min_h = s->kh > s->pt + s->pb ? s->kh - s->pt - s->pb : 1;
    uint32_t min_w = s->kw > s->pl + s->pr ? s->kw - s->pl - s->pr : 1;
    s->h = tiny ? min_h : min_h + (uint32_t)rng_range(r, 0, 11);
    s->w = tiny ? min_w : min_w + (uint32_t)rng_range(r, 0, 11);
    int act = rng_range(r, 0, 2);
    s->act_min = act ? rng_range(r, -128, 0) : -128;
    s->act_max = act == 2 ? rng_range(r, s->act_min, 127) : 127;
}

static int window_cut(const struct pool_shape *s)
{
    uint32_t oh = (s->h + s->pt + s->pb - s->kh) / s->sh + 1;
    uint32_t ow = (s->w + s->pl + s->pr - s->kw) / s->sw + 1;
    return s->pt || s->pl || (oh - 1) * s->sh + s->kh > s->h || (ow - 1) * s->sw + s->kw > s->w;
}

static void describe(const struct pool_shape *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s %ux%ux%ux%u k%ux%u s%ux%u pad %u,%u,%u,%u clamp [%d,%d]",
             s->op == MXU_LAYER_MAXPOOL ? "max" : "avg", s->n, s->h, s->w, s->c, s->kh, s->kw,
             s->sh, s->sw, s->pt, s->pl, s->pb, s->pr, s->act_min, s->act_max);
}

static void run_random_pools(const char *arch, uint64_t first_seed, int count, int *modes)
{
    mxu_hw_config cfg;
    char uri[128], desc[160];
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, arch), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_config_parse(&cfg, "dram=1M"), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_config_validate(&cfg), MXU_OK, "%s", mxu_error_detail());
    /* a small DRAM keeps each device cheap to open (under ASan too) */
    snprintf(uri, sizeof uri, "model:%s,dram=%u", arch, cfg.dram_bytes);
    for (int i = 0; i < count; i++) {
        uint64_t seed = first_seed + (uint64_t)i;
        struct rng r = {seed * 0x9E3779B97F4A7C15ull + 7};
        struct pool_shape s;
        struct mxu_pool_plan plan;
        mxu_program *p = NULL;
        random_shape(&r, i % 2 ? MXU_LAYER_AVGPOOL : MXU_LAYER_MAXPOOL, &s);
        describe(&s, desc, sizeof desc);
        int rc = build_pool(&cfg, &s, &p, &plan);
        if (s.op == MXU_LAYER_AVGPOOL && window_cut(&s)) {
            cr_assert_eq(rc, MXU_ERR_UNSUPPORTED, "%s: %s", desc, mxu_error_detail());
            cr_assert(strstr(mxu_error_detail(), "padding") != NULL, "%s", mxu_error_detail());
            modes[0]++;
            continue;
        }
        cr_assert_eq(rc, MXU_OK, "%s seed %llu (%s): %s", arch, (unsigned long long)seed, desc,
                     mxu_error_detail());
        modes[plan.mode]++;
        rc = run_and_compare(uri, p, seed, NULL);
        cr_assert_eq(rc, MXU_OK, "%s seed %llu (%s): %s", arch, (unsigned long long)seed, desc,
                     mxu_error_detail());
        mxu_program_free(p);
    }
}

Test(pool, random_pools_every_configuration)
{
    int modes[5] = {0};
    run_random_pools("rows=16,cols=16", 100, 250, modes);
    run_random_pools("rows=8,cols=8", 1000, 250, modes);
    run_random_pools("rows=4,cols=4", 2000, 200, modes);
    run_random_pools("rows=8,cols=16", 3000, 200, modes);
    run_random_pools("rows=16,cols=8", 4000, 100, modes);
    /* small buffers: spatial tiles, several tiles per image */
    run_random_pools("rows=4,cols=8,ub_lines=512,acc=64,wb=64,params=2", 5000, 200, modes);
    for (int m = 0; m < 5; m++)
        cr_assert_gt(modes[m], 5, "mode %d ran only %d times", m, modes[m]);
}

Test(pool, global_average_and_big_windows)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, "rows=8,cols=8,dram=1M"), MXU_OK);
    mxu_config_validate(&cfg);
    const struct pool_shape shapes[] = {
        {MXU_LAYER_AVGPOOL, 1, 7, 7, 20, 7, 7, 1, 1, 0, 0, 0, 0, -128, 127},   /* global 7x7 */
        {MXU_LAYER_AVGPOOL, 2, 13, 13, 9, 13, 13, 1, 1, 0, 0, 0, 0, -128, 127}, /* 169 taps */
        {MXU_LAYER_MAXPOOL, 1, 15, 15, 3, 15, 15, 1, 1, 0, 0, 0, 0, -128, 127},  /* pool_k limit */
        {MXU_LAYER_MAXPOOL, 1, 9, 20, 5, 1, 7, 1, 4, 0, 3, 0, 3, -20, 100},      /* 1-D rows */
        {MXU_LAYER_MAXPOOL, 1, 20, 9, 5, 6, 1, 5, 1, 2, 0, 2, 0, -128, 127},     /* 1-D columns */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        mxu_program *p = NULL;
        char desc[160];
        describe(&shapes[i], desc, sizeof desc);
        cr_assert_eq(build_pool(&cfg, &shapes[i], &p, NULL), MXU_OK, "%s: %s", desc, mxu_error_detail());
        cr_assert_eq(run_and_compare("model:rows=8,cols=8,dram=1M", p, 77 + i, NULL), MXU_OK, "%s: %s", desc,
                     mxu_error_detail());
        mxu_program_free(p);
    }
}

Test(pool, limits_are_named)
{
    mxu_hw_config cfg;
    mxu_program *p = NULL;
    mxu_config_default(&cfg);
    mxu_config_validate(&cfg);
    struct pool_shape big = {MXU_LAYER_MAXPOOL, 1, 20, 20, 4, 16, 16, 1, 1, 0, 0, 0, 0, -128, 127};
    cr_assert_eq(build_pool(&cfg, &big, &p, NULL), MXU_ERR_LIMIT);
    cr_assert(strstr(mxu_error_detail(), "pool_k") != NULL, "%s", mxu_error_detail());
    struct pool_shape fast = {MXU_LAYER_MAXPOOL, 1, 40, 40, 4, 2, 2, 16, 16, 0, 0, 0, 0, -128, 127};
    cr_assert_eq(build_pool(&cfg, &fast, &p, NULL), MXU_ERR_LIMIT);
    cr_assert(strstr(mxu_error_detail(), "pool_s") != NULL, "%s", mxu_error_detail());
    cr_assert_eq(mxu_config_parse(&cfg, "rows=4,cols=4,acc=4"), MXU_OK, "%s", mxu_error_detail());
    mxu_config_validate(&cfg);
    struct pool_shape k3 = {MXU_LAYER_MAXPOOL, 1, 8, 8, 4, 3, 3, 1, 1, 0, 0, 0, 0, -128, 127};
    cr_assert_eq(build_pool(&cfg, &k3, &p, NULL), MXU_ERR_LIMIT);
    cr_assert(strstr(mxu_error_detail(), "accumulator rows (device: 4") != NULL, "%s",
              mxu_error_detail());
    cr_assert_null(p);
}

Test(pool, padded_average_is_unsupported_on_the_device)
{
    mxu_hw_config cfg;
    mxu_program *p = NULL;
    mxu_config_default(&cfg);
    mxu_config_validate(&cfg);
    struct pool_shape s = {MXU_LAYER_AVGPOOL, 1, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, -128, 127};
    cr_assert_eq(build_pool(&cfg, &s, &p, NULL), MXU_ERR_UNSUPPORTED);
    cr_assert(strstr(mxu_error_detail(), "cut by padding") != NULL, "%s", mxu_error_detail());
    /* padding that no window reaches is no padding */
    struct pool_shape unused = {MXU_LAYER_AVGPOOL, 1, 6, 6, 4, 2, 2, 2, 2, 0, 0, 1, 1, -128, 127};
    cr_assert_eq(build_pool(&cfg, &unused, &p, NULL), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(run_and_compare("model:", p, 5, NULL), MXU_OK, "%s", mxu_error_detail());
    mxu_program_free(p);
}

Test(pool, identity_requantization_is_exact)
{
    for (int32_t x = -40000; x <= 40000; x++)
        cr_assert_eq(mxu_requantize(x, MXU_POOL_IDENTITY_MULTIPLIER, MXU_POOL_IDENTITY_SHIFT), x,
                     "x = %d", x);
    int32_t qm, shift;
    cr_assert_eq(mxu_quantize_multiplier(1.0, &qm, &shift), MXU_OK);
    cr_assert_eq(qm, MXU_POOL_IDENTITY_MULTIPLIER);
    cr_assert_eq(shift, MXU_POOL_IDENTITY_SHIFT);
}

Test(pool, average_divisor_exhaustive_1_to_64)
{
    for (uint32_t count = 1; count <= 64; count++) {
        struct mxu_avgpool_divisor d;
        cr_assert_eq(mxu_avgpool_divisor_find(count, &d), MXU_OK, "count %u: %s", count,
                     mxu_error_detail());
        cr_assert(d.weight >= 1 && d.weight <= 127, "count %u: weight %d", count, d.weight);
        int32_t n = (int32_t)count;
        for (int32_t sum = -128 * n; sum <= 127 * n; sum++) {
            /* TFLite's reference average pool rounding, written out again */
            int32_t want = sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n;
            int8_t got = mxu_activate(d.weight * sum, 0, d.multiplier, d.shift, 0, -128, 127, NULL);
            cr_assert_eq(got, want, "count %u sum %d: device %d, TFLite %d", count, sum, got, want);
        }
    }
}

Test(pool, average_divisor_rejects)
{
    struct mxu_avgpool_divisor d;
    cr_assert_eq(mxu_avgpool_divisor_find(0, &d), MXU_ERR_INVAL);
    cr_assert_eq(mxu_avgpool_divisor_find(MXU_AVGPOOL_MAX_COUNT + 1, &d), MXU_ERR_UNSUPPORTED);
    cr_assert(strstr(mxu_error_detail(), "taps") != NULL, "%s", mxu_error_detail());
    cr_assert_eq(mxu_avgpool_round_div(3, 2), 2);
    cr_assert_eq(mxu_avgpool_round_div(-3, 2), -2);
    cr_assert_eq(mxu_avgpool_round_div(-1, 3), 0);
}
