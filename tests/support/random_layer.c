#include "random_layer.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu.h"
#include "mxu_layer_program.h"
#include "mxu_reference.h"

uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int32_t rng_range(struct rng *r, int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

struct layer_shape {
    int fc;
    uint32_t n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups, pool_k, pool_s;
    uint32_t oh, ow, ph, pw;
    int lut;
    int round_half_up; /* MXU_LAYER_F_ROUND_HALF_UP: ties toward +inf */
};

static uint32_t pick_divisor(struct rng *r, uint32_t a, uint32_t b)
{
    uint32_t d[64], n = 0;
    for (uint32_t g = 1; g <= a && n < 64; g++)
        if (a % g == 0 && b % g == 0)
            d[n++] = g;
    return d[rng_next(r) % n];
}

static int random_conv_shape(struct rng *r, struct layer_shape *s)
{
    s->n = rng_range(r, 0, 5) ? 1 : 2;
    s->h = (uint32_t)rng_range(r, 1, 18);
    s->w = (uint32_t)rng_range(r, 1, 18);
    s->cin = (uint32_t)rng_range(r, 1, 40);
    s->cout = (uint32_t)rng_range(r, 1, 40);
    s->kh = (uint32_t)rng_range(r, 1, 5);
    s->kw = rng_range(r, 0, 3) ? s->kh : (uint32_t)rng_range(r, 1, 5);
    s->sh = (uint32_t)rng_range(r, 1, 3);
    s->sw = rng_range(r, 0, 3) ? s->sh : (uint32_t)rng_range(r, 1, 4);
    s->dh = rng_range(r, 0, 5) ? 1 : 2;
    s->dw = s->dh;
    /* padding up to (and beyond) the kernel's extent */
    uint32_t ph = (s->kh - 1) * s->dh + 2, pw = (s->kw - 1) * s->dw + 2;
    s->pt = (uint32_t)rng_range(r, 0, (int32_t)ph);
    s->pb = rng_range(r, 0, 2) ? s->pt : (uint32_t)rng_range(r, 0, (int32_t)ph);
    s->pl = (uint32_t)rng_range(r, 0, (int32_t)pw);
    s->pr = rng_range(r, 0, 2) ? s->pl : (uint32_t)rng_range(r, 0, (int32_t)pw);
    s->groups = rng_range(r, 0, 3) ? 1 : pick_divisor(r, s->cin, s->cout);
    uint32_t eh = (s->kh - 1) * s->dh + 1, ew = (s->kw - 1) * s->dw + 1;
    if (s->h + s->pt + s->pb < eh || s->w + s->pl + s->pr < ew)
        return 0;
    s->oh = (s->h + s->pt + s->pb - eh) / s->sh + 1;
    s->ow = (s->w + s->pl + s->pr - ew) / s->sw + 1;
    s->pool_k = s->pool_s = 0;
    if (!rng_range(r, 0, 3)) {
        s->pool_k = (uint32_t)rng_range(r, 2, 3);
        s->pool_s = (uint32_t)rng_range(r, 1, 2);
        if (s->oh < s->pool_k || s->ow < s->pool_k)
            s->pool_k = s->pool_s = 0;
    }
    s->ph = s->pool_k ? (s->oh - s->pool_k) / s->pool_s + 1 : s->oh;
    s->pw = s->pool_k ? (s->ow - s->pool_k) / s->pool_s + 1 : s->ow;
    return 1;
}

static void random_fc_shape(struct rng *r, struct layer_shape *s)
{
    memset(s, 0, sizeof *s);
    s->fc = 1;
    s->n = (uint32_t)rng_range(r, 1, 20);
    s->cin = (uint32_t)rng_range(r, 1, 300);
    s->cout = (uint32_t)rng_range(r, 1, 70);
    s->groups = 1;
    s->kh = s->kw = 1;
}

static uint64_t shape_macs(const struct layer_shape *s)
{
    if (s->fc)
        return (uint64_t)s->n * s->cin * s->cout;
    return (uint64_t)s->n * s->oh * s->ow * s->cout * s->kh * s->kw * (s->cin / s->groups);
}

static void describe(const struct layer_shape *s, char *desc, size_t len)
{
    if (s->fc)
        snprintf(desc, len, "fc batch %u cin %u cout %u round_half_up %d", s->n, s->cin, s->cout,
                 s->round_half_up);
    else
        snprintf(desc, len, "conv %ux%ux%ux%u -> %u k%ux%u s%ux%u d%u pad %u,%u,%u,%u g%u pool %u/%u lut %d "
                 "round_half_up %d", s->n, s->h, s->w, s->cin, s->cout, s->kh, s->kw, s->sh, s->sw, s->dh,
                 s->pt, s->pl, s->pb, s->pr, s->groups, s->pool_k, s->pool_s, s->lut, s->round_half_up);
}

static int build(const mxu_hw_config *cfg, struct rng *r, const struct layer_shape *s,
                 mxu_program **out)
{
    int relu = rng_range(r, 0, 2);
    struct mxu_layer_desc d = {
        .name = s->fc ? "fc" : "conv", .op = s->fc ? MXU_LAYER_FC : MXU_LAYER_CONV2D,
        .n = s->n, .h = s->fc ? 1 : s->h, .w = s->fc ? 1 : s->w, .cin = s->cin, .cout = s->cout,
        .kh = s->kh, .kw = s->kw, .stride_h = s->sh, .stride_w = s->sw, .dil_h = s->dh,
        .dil_w = s->dw, .groups = s->groups, .pad_top = s->pt, .pad_left = s->pl,
        .pad_bottom = s->pb, .pad_right = s->pr, .pool_k = s->pool_k, .pool_s = s->pool_s,
        .lut = s->lut, .round_half_up = s->round_half_up, .zp_in = rng_range(r, -128, 127), .zp_out = rng_range(r, -128, 127)};
    d.act_min = relu ? rng_range(r, -128, 0) : -128;
    d.act_max = relu == 2 ? rng_range(r, d.act_min, 127) : 127;
    return mxu_build_layer_program(cfg, &d, rng_next(r), out);
}

int random_layer_program(const mxu_hw_config *cfg, uint64_t seed, uint64_t max_macs,
                         mxu_program **out, char *desc, size_t len)
{
    struct rng r = {seed * 0x2545F4914F6CDD1Dull + 1};
    /* a stream of its own, so the shapes of a seed stay what they were */
    struct rng rounding = {seed ^ 0x5EED0F0DDBA11ull};
    struct layer_shape s;
    for (int tries = 0; tries < 1000; tries++) {
        memset(&s, 0, sizeof s);
        if (rng_range(&r, 0, 3) == 0)
            random_fc_shape(&r, &s);
        else if (!random_conv_shape(&r, &s))
            continue;
        s.lut = !s.fc && rng_range(&r, 0, 5) == 0;
        s.round_half_up = (int)(rng_next(&rounding) & 1);
        if (shape_macs(&s) > max_macs)
            continue;
        describe(&s, desc, len);
        return build(cfg, &r, &s, out);
    }
    return MXU_ERR_INVAL;
}

void random_inputs(const mxu_program *p, uint64_t seed, uint8_t *const *values)
{
    struct rng r = {seed};
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            for (uint64_t k = 0; k < mxu_tensor_bytes(&p->tensors[i]); k++)
                values[i][k] = (uint8_t)rng_next(&r);
}

static int compare_outputs(mxu_device *dev, const mxu_program *p, uint8_t *const *ref)
{
    int rc = MXU_OK;
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_tensors; i++) {
        if (p->tensors[i].role != MXU_ROLE_OUTPUT)
            continue;
        size_t n = mxu_tensor_bytes(&p->tensors[i]);
        uint8_t *got = malloc(n ? n : 1);
        if (!got)
            return MXU_ERR_NOMEM;
        rc = mxu_tensor_read(dev, p, i, got, n);
        for (size_t k = 0; rc == MXU_OK && k < n; k++)
            if (got[k] != ref[i][k])
                rc = mxu_fail(MXU_ERR_MISMATCH, "tensor %s byte %zu: device %d, golden %d",
                              p->tensors[i].name, k, (int8_t)got[k], (int8_t)ref[i][k]);
        free(got);
    }
    return rc;
}

int run_and_compare(const char *uri, const mxu_program *p, uint64_t input_seed, uint64_t *cycles)
{
    mxu_device *dev = NULL;
    mxu_counters c;
    uint8_t **v = calloc(p->n_tensors, sizeof *v);
    int rc = v ? MXU_OK : MXU_ERR_NOMEM;
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_tensors; i++)
        if (!(v[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1)))
            rc = MXU_ERR_NOMEM;
    if (rc == MXU_OK) {
        random_inputs(p, input_seed, v);
        rc = mxu_open(uri, &dev);
    }
    if (rc == MXU_OK)
        rc = mxu_program_load(dev, p);
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            rc = mxu_tensor_write(dev, p, i, v[i], mxu_tensor_bytes(&p->tensors[i]));
    if (rc == MXU_OK)
        rc = mxu_program_run(dev, p, 0, &c);
    if (rc == MXU_OK && cycles)
        *cycles = c.cycles;
    if (rc == MXU_OK)
        rc = mxu_reference_run(p, v);
    if (rc == MXU_OK)
        rc = compare_outputs(dev, p, v);
    mxu_close(dev);
    for (uint32_t i = 0; v && i < p->n_tensors; i++)
        free(v[i]);
    free(v);
    return rc;
}

void run_random_layers(const char *backend, const char *arch, const char *options,
                       uint64_t first_seed, int count, uint64_t max_macs)
{
    mxu_hw_config cfg;
    char uri[160], desc[256];
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, arch), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_config_validate(&cfg), MXU_OK, "%s", mxu_error_detail());
    snprintf(uri, sizeof uri, "%s:%s%s%s", backend, arch, options ? "," : "", options ? options : "");
    for (int i = 0; i < count; i++) {
        mxu_program *p = NULL;
        uint64_t seed = first_seed + (uint64_t)i;
        int rc = random_layer_program(&cfg, seed, max_macs, &p, desc, sizeof desc);
        cr_assert_eq(rc, MXU_OK, "seed %llu (%s): build failed: %s", (unsigned long long)seed, desc,
                     mxu_error_detail());
        rc = run_and_compare(uri, p, seed, NULL);
        cr_assert_eq(rc, MXU_OK, "%s seed %llu (%s): %s", uri, (unsigned long long)seed, desc,
                     mxu_error_detail());
        mxu_program_free(p);
    }
}

/* Strided convolutions with few channels and no padding: the shapes the tiler
 * lowers through space-to-depth (lower_s2d.c), AlexNet conv1's kind. */
static struct mxu_layer_desc blocked_desc(struct rng *r)
{
    struct mxu_layer_desc d = {.name = "blocked", .op = MXU_LAYER_CONV2D, .groups = 1,
                               .dil_h = 1, .dil_w = 1, .act_min = -128, .act_max = 127};
    d.n = (uint32_t)rng_range(r, 1, 2);
    d.cin = (uint32_t)rng_range(r, 1, 3);
    d.stride_h = d.stride_w = (uint32_t)rng_range(r, 2, 4);
    d.kh = d.stride_h + (uint32_t)rng_range(r, 1, 2 * (int32_t)d.stride_h);
    d.kw = rng_range(r, 0, 3) ? d.kh : d.stride_h + (uint32_t)rng_range(r, 0, 2 * (int32_t)d.stride_h);
    d.h = d.kh + (uint32_t)rng_range(r, 0, 30);
    d.w = d.kw + (uint32_t)rng_range(r, 0, 30);
    d.cout = (uint32_t)rng_range(r, 1, 40);
    if (rng_range(r, 0, 3) == 0)
        d.pool_k = 2, d.pool_s = (uint32_t)rng_range(r, 1, 2);
    if (rng_range(r, 0, 2) == 0)
        d.act_min = (int32_t)rng_range(r, -128, 0);
    d.zp_in = rng_range(r, -128, 127);
    d.zp_out = rng_range(r, -128, 127);
    return d;
}

static int has_blocked_tensor(const mxu_program *p)
{
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (strstr(p->tensors[i].name, ".s2d"))
            return 1;
    return 0;
}

void run_blocked_layers(const char *backend, const char *arch, uint64_t first_seed, int count)
{
    mxu_hw_config cfg;
    char uri[160];
    int blocked = 0, tries = 0;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, arch), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(mxu_config_validate(&cfg), MXU_OK, "%s", mxu_error_detail());
    snprintf(uri, sizeof uri, "%s:%s", backend, arch);
    for (int i = 0; blocked < count && tries < 40 * count; i++, tries++) {
        struct rng r = {first_seed + (uint64_t)i * 0x9E3779B97F4A7C15ull};
        struct mxu_layer_desc d = blocked_desc(&r);
        d.round_half_up = i % 2; /* the flag survives the space-to-depth rewrite */
        uint32_t oh, ow;
        mxu_layer_desc_out(&d, &oh, &ow);
        if (!oh || !ow)
            continue;
        mxu_program *p = NULL;
        int rc = mxu_build_layer_program(&cfg, &d, first_seed + (uint64_t)i, &p);
        cr_assert_eq(rc, MXU_OK, "case %d: %s", i, mxu_error_detail());
        if (has_blocked_tensor(p)) { /* the other shapes are the random layers' job */
            blocked++;
            rc = run_and_compare(uri, p, (uint64_t)i, NULL);
            cr_assert_eq(rc, MXU_OK,
                         "%s case %d (n%u %ux%ux%u k%ux%u s%u cout %u pool %u/%u round_half_up %d): %s", uri, i, d.n, d.h, d.w, d.cin, d.kh, d.kw, d.stride_h, d.cout, d.pool_k,
                         d.pool_s, d.round_half_up, mxu_error_detail());
        }
        mxu_program_free(p);
    }
    cr_assert_eq(blocked, count, "only %d of %d tries went through space-to-depth", blocked, tries);
}
