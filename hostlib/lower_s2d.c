/* Space-to-depth for strided convolutions with few input channels (AlexNet's
 * conv1: 3 channels, 11x11, stride 4), as TPUs do for their first layer.
 *
 * A stride-S convolution with a KxK kernel over C channels equals a stride-1
 * convolution with a ceil(K/S) x ceil(K/S) kernel over S*S*C channels of the
 * image cut into SxS blocks (the kernel zero-padded to a multiple of S). The
 * array then sees S*S*C channels per tap instead of C, and its rows fill up:
 * conv1 streams 27 lines of 16 per output pixel instead of 33.
 *
 * The blocked image is made on the device, with no host copy: LOAD reads each
 * block row (S pixels, S*C contiguous bytes) into a UB line, STORE writes the
 * lines to their place in a scratch tensor, a few block rows ahead of the tiles
 * that read them, so the copy hides under the computation. Pixels past the image's right and
 * bottom edges (the last blocks overhang) only ever meet the zero-padded
 * weights, so whatever they hold contributes nothing; the layer must have no
 * padding of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_encode.h"
#include "mxu_error.h"
#include "mxu_pack.h"
#include "mxu_s2d.h"
#include "mxu_tiling.h"

/* Block rows copied per LOAD/STORE pair. */
#define S2D_CHUNK_ROWS 4u

static uint64_t lines_per_pixel(uint32_t taps, uint32_t channels, uint32_t rows)
{
    return (uint64_t)taps * mxu_div_up(channels, rows);
}

int mxu_s2d_choose(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                   uint32_t direct_lines, struct mxu_s2d *s)
{
    memset(s, 0, sizeof *s);
    if (l->op != MXU_LAYER_CONV2D || l->groups > 1 || l->dil_h > 1 || l->dil_w > 1 ||
        l->stride_h != l->stride_w || l->stride_h < 2 || l->pad_top || l->pad_left ||
        l->pad_bottom || l->pad_right || l->input >= p->n_tensors)
        return 0;
    const mxu_tensor *in = &p->tensors[l->input];
    if (in->layout != MXU_LAYOUT_NHWC || in->dims[1] < l->kh || in->dims[2] < l->kw)
        return 0;
    uint32_t S = l->stride_h, C = in->dims[3];
    if ((uint64_t)S * C > cfg->ub_line_bytes)
        return 0;
    s->block = S;
    s->kh = mxu_div_up(l->kh, S);
    s->kw = mxu_div_up(l->kw, S);
    s->oh = (in->dims[1] - l->kh) / S + 1;
    s->ow = (in->dims[2] - l->kw) / S + 1;
    s->vh = s->oh - 1 + s->kh;
    s->vw = s->ow - 1 + s->kw;
    s->channels = S * S * C;
    /* the last block of a row reads up to S-1 pixels past it: stay inside DRAM */
    uint64_t span = (uint64_t)s->vw * S, over = span > in->dims[2] ? (span - in->dims[2]) * C : 0;
    if (in->dram_addr + mxu_tensor_elems(in) + over > cfg->dram_bytes)
        return 0;
    uint64_t blocked = lines_per_pixel(s->kh * s->kw, s->channels, cfg->rows);
    /* worth it when it streams clearly fewer lines (the copy costs a few %) */
    return blocked * 110 < (uint64_t)direct_lines * 100;
}

/* w'[oc][by][bx][(r*S + j)*C + c] = w[oc][by*S + r][bx*S + j][c], 0 past the kernel. */
static int blocked_weights(mxu_program *p, const mxu_layer *l, const struct mxu_s2d *s, uint32_t C,
                           uint32_t *offset)
{
    uint32_t S = s->block, n = l->cout * s->kh * s->kw * s->channels;
    int8_t *w = calloc(n, 1);
    if (!w)
        return mxu_fail(MXU_ERR_NOMEM, "layer %s: space-to-depth weights", l->name);
    const int8_t *src = (const int8_t *)(p->host_blob + l->weights);
    for (uint32_t oc = 0; oc < l->cout; oc++)
        for (uint32_t ky = 0; ky < l->kh; ky++)
            for (uint32_t kx = 0; kx < l->kw; kx++)
                for (uint32_t c = 0; c < C; c++) {
                    uint32_t by = ky / S, r = ky % S, bx = kx / S, j = kx % S;
                    size_t dst = (((size_t)oc * s->kh + by) * s->kw + bx) * s->channels +
                                 (r * S + j) * C + c;
                    w[dst] = src[(((size_t)oc * l->kh + ky) * l->kw + kx) * C + c];
                }
    int rc = mxu_program_add_blob(p, w, n, offset);
    free(w);
    return rc;
}

struct blocker {
    mxu_builder *b;
    const struct mxu_s2d *s;
    uint32_t in, out;       /* tensor indices: the image, the blocked scratch */
    uint32_t ub_base;       /* first of the two halves of the hook's UB lines */
    int ub[2], in_region;
    uint32_t img;           /* the image being blocked */
    uint32_t loaded, stored;/* its block rows in the UB / in the scratch tensor */
    uint32_t copies;        /* chunks loaded so far, all images: picks the UB half */
};

static uint64_t blocked_row_bytes(const struct mxu_s2d *s)
{
    return (uint64_t)s->vw * s->channels;
}

static uint32_t chunk_line(const struct blocker *k, uint32_t copy)
{
    return k->ub_base + (copy % 2) * k->s->block * k->s->vw * S2D_CHUNK_ROWS;
}

/* Load the next chunk of block rows into a UB half. A block row hanging below
 * the image (only the last may) gets padding lines for its missing rows. */
static int load_next(struct blocker *k)
{
    const mxu_tensor *in = &mxu_builder_program(k->b)->tensors[k->in];
    const struct mxu_s2d *s = k->s;
    uint32_t S = s->block, H = in->dims[1], W = in->dims[2], C = in->dims[3], full = H / S;
    uint32_t nby = k->loaded < full ? full - k->loaded : 1;
    nby = nby < S2D_CHUNK_ROWS ? nby : S2D_CHUNK_ROWS;
    uint32_t y0 = k->loaded * S, rows = nby * S, pad_bottom = 0;
    if (y0 + rows > H) {
        pad_bottom = y0 + rows - H;
        rows = H - y0;
    }
    uint64_t img_in = (uint64_t)H * W * C;
    struct mxu_load ld = {.mem = MXU_MEM_UB,
                          .dram_addr = in->dram_addr + (uint32_t)(k->img * img_in + (uint64_t)y0 * W * C),
                          .dst_line = chunk_line(k, k->copies), .elem_bytes = S * C, .n0 = s->vw,
                          .n1 = pad_bottom ? rows : S, .n2 = pad_bottom ? 1 : nby, .s0 = S * C,
                          .s1 = W * C, .s2 = S * W * C, .pad_bottom = pad_bottom};
    k->loaded += nby;
    return mxu_emit_load(k->b, &ld, k->in_region, k->ub[k->copies++ % 2]);
}

/* Store the chunk loaded last to its place in the scratch tensor. */
static int store_loaded(struct blocker *k)
{
    const mxu_tensor *out = &mxu_builder_program(k->b)->tensors[k->out];
    const struct mxu_s2d *s = k->s;
    uint32_t nby = k->loaded - k->stored, half = (k->copies - 1) % 2;
    uint64_t row_out = blocked_row_bytes(s);
    uint32_t dst = out->dram_addr + (uint32_t)(((uint64_t)k->img * s->vh + k->stored) * row_out);
    int region = mxu_builder_region(k->b, MXU_REGION_DRAM, dst, (uint32_t)(nby * row_out));
    if (region < 0)
        return region;
    struct mxu_store st = {.dram_addr = dst, .src_line = chunk_line(k, k->copies - 1),
                           .elem_bytes = s->channels / s->block, .n0 = s->vw,
                           .n1 = s->block, .n2 = nby, .s0 = s->channels,
                           .s1 = s->channels / s->block, .s2 = (uint32_t)row_out};
    uint64_t w[MXU_INSN_WORDS];
    mxu_encode_store(w, &st);
    k->stored = k->loaded;
    return mxu_emit_regions(k->b, w, k->ub[half], -1, -1, region);
}

/* Finish the image being blocked before starting another. */
static int switch_image(struct blocker *k, uint32_t img)
{
    int rc = MXU_OK;
    if (img == k->img)
        return MXU_OK;
    if (k->loaded > k->stored)
        rc = store_loaded(k);
    k->img = img, k->loaded = k->stored = 0;
    return rc;
}

/* The hook's rows(): copy what is still missing of rows [0, y1), then read
 * exactly rows [y0, y1), so a tile waits only for the copies it needs. */
static int blocked_rows(void *ctx, uint32_t img, uint32_t y0, uint32_t y1)
{
    struct blocker *k = ctx;
    int rc = switch_image(k, img);
    while (rc == MXU_OK && k->stored < y1)
        rc = k->loaded > k->stored ? store_loaded(k) : load_next(k);
    if (rc)
        return rc;
    uint64_t row_out = blocked_row_bytes(k->s);
    uint32_t addr = mxu_builder_program(k->b)->tensors[k->out].dram_addr +
                    (uint32_t)(((uint64_t)img * k->s->vh + y0) * row_out);
    return mxu_builder_region(k->b, MXU_REGION_DRAM, addr, (uint32_t)((y1 - y0) * row_out));
}

/* The hook's ahead(), at every step: store the chunk loaded one step ago, and
 * load the next one the coming tile needs. A copy's load and store are a step
 * apart, so neither their token relays through the compute queue nor the
 * reuse of a UB half ever waits for a copy in flight. */
static int blocked_ahead(void *ctx, uint32_t img, uint32_t y1)
{
    struct blocker *k = ctx;
    if (img != k->img)
        return MXU_OK;
    int rc = k->loaded > k->stored ? store_loaded(k) : MXU_OK;
    return rc == MXU_OK && k->loaded < y1 ? load_next(k) : rc;
}

int mxu_lower_s2d(mxu_builder *b, const mxu_layer *l, const struct mxu_s2d *s)
{
    mxu_program *p = mxu_builder_program(b);
    const mxu_hw_config *cfg = mxu_builder_config(b);
    const mxu_tensor in = p->tensors[l->input];
    char name[MXU_NAME_LEN];
    snprintf(name, sizeof name, "%.50s.s2d", l->name);
    uint32_t dims[4] = {in.dims[0], s->vh, s->vw, s->channels}, weights;
    struct blocker k = {.b = b, .s = s, .in = l->input, .img = UINT32_MAX};
    uint32_t spare = 2 * s->block * s->vw * S2D_CHUNK_ROWS;
    if (spare >= (cfg->ub_lines - MXU_BUILDER_UB_RESERVED) / 2)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: space-to-depth needs %u UB lines", l->name, spare);
    k.ub_base = cfg->ub_lines - MXU_BUILDER_UB_RESERVED - spare;
    int rc = mxu_builder_add_tensor(b, name, MXU_ROLE_ACTIVATION, 4, dims, in.scale, in.zero_point,
                                    &k.out);
    if (rc == MXU_OK)
        rc = blocked_weights(p, l, s, in.dims[3], &weights);
    if (rc)
        return rc;
    k.ub[0] = mxu_builder_region(b, MXU_REGION_UB, k.ub_base, spare / 2);
    k.ub[1] = mxu_builder_region(b, MXU_REGION_UB, k.ub_base + spare / 2, spare / 2);
    k.in_region = mxu_builder_tensor_region(b, l->input);
    if (k.ub[0] < 0 || k.ub[1] < 0 || k.in_region < 0)
        return mxu_fail(MXU_ERR_NOMEM, "layer %s: space-to-depth regions", l->name);
    mxu_layer v = *l;
    v.input = k.out;
    v.kh = s->kh, v.kw = s->kw;
    v.stride_h = v.stride_w = 1;
    v.weights = weights;
    struct mxu_input_hook hook = {.ctx = &k, .ub_spare = spare, .rows = blocked_rows,
                                  .ahead = blocked_ahead};
    return mxu_lower_conv_hooked(b, &v, &hook);
}
