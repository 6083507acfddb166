/* Device images of layer constants: weight tiles, parameter lines, LUT.
 * The layouts are defined in mxu_pack.h. */
#include "mxu_pack.h"

#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"

uint32_t mxu_layer_cin(const mxu_program *p, const mxu_layer *l)
{
    const mxu_tensor *t = &p->tensors[l->input];
    if (t->layout == MXU_LAYOUT_NC)
        return t->dims[1];
    if (l->op == MXU_LAYER_FC)
        return t->dims[1] * t->dims[2] * t->dims[3];
    return t->dims[3];
}

struct conv_shape {
    uint32_t groups, cin_g, cout_g, kh, kw, nb, kc;
};

static struct conv_shape shape_of(const mxu_hw_config *cfg, const mxu_program *p,
                                  const mxu_layer *l)
{
    struct conv_shape s;
    int fc = l->op == MXU_LAYER_FC;
    s.groups = fc || l->groups == 0 ? 1 : l->groups;
    s.cin_g = mxu_layer_cin(p, l) / s.groups;
    s.cout_g = l->cout / s.groups;
    s.kh = fc ? 1 : l->kh;
    s.kw = fc ? 1 : l->kw;
    s.nb = (s.cout_g + cfg->cols - 1) / cfg->cols;
    s.kc = (s.cin_g + cfg->rows - 1) / cfg->rows;
    return s;
}

uint32_t mxu_pack_weight_tiles(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l)
{
    struct conv_shape s = shape_of(cfg, p, l);
    return s.groups * s.nb * s.kh * s.kw * s.kc;
}

uint32_t mxu_pack_param_lines(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l)
{
    struct conv_shape s = shape_of(cfg, p, l);
    return s.groups * s.nb;
}

static int is_conv_like(const mxu_layer *l)
{
    return l->op == MXU_LAYER_CONV2D || l->op == MXU_LAYER_FC;
}

/* One weight tile: column c is output channel nb*COLS + c, its rows the input
 * channels kc*ROWS.. of tap (ky, kx). Filled column by column, so each column
 * reads its run of input channels contiguously (fc6's 37 MB pack in one pass). */
static void pack_tile(const mxu_hw_config *cfg, const struct conv_shape *s, const int8_t *w,
                      uint32_t g, uint32_t nb, uint32_t ky, uint32_t kx, uint32_t kc, int8_t *tile)
{
    uint32_t ci0 = kc * cfg->rows, n = s->cin_g - ci0 < cfg->rows ? s->cin_g - ci0 : cfg->rows;
    memset(tile, 0, (size_t)cfg->rows * cfg->cols);
    for (uint32_t c = 0; c < cfg->cols && nb * cfg->cols + c < s->cout_g; c++) {
        const int8_t *src = w + (((size_t)(g * s->cout_g + nb * cfg->cols + c) * s->kh + ky) * s->kw + kx) *
                                    s->cin_g + ci0;
        for (uint32_t r = 0; r < n; r++)
            tile[(size_t)r * cfg->cols + c] = src[r];
    }
}

static int pack_weights(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                        uint8_t *out)
{
    struct conv_shape s = shape_of(cfg, p, l);
    const int8_t *w = (const int8_t *)(p->host_blob + l->weights);
    size_t tile_bytes = (size_t)cfg->rows * cfg->cols, t = 0;
    for (uint32_t g = 0; g < s.groups; g++)
        for (uint32_t nb = 0; nb < s.nb; nb++)
            for (uint32_t ky = 0; ky < s.kh; ky++)
                for (uint32_t kx = 0; kx < s.kw; kx++)
                    for (uint32_t kc = 0; kc < s.kc; kc++, t++)
                        pack_tile(cfg, &s, w, g, nb, ky, kx, kc, (int8_t *)out + t * tile_bytes);
    return MXU_OK;
}

static int layer_has_arrays(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l);

int mxu_pack_conv_weights_packed(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                                  uint32_t pack, uint8_t **out, uint32_t *bytes)
{
    uint32_t cin = mxu_layer_cin(p, l), kwp = (l->kw + pack - 1) / pack;
    uint32_t nb = (l->cout + cfg->cols - 1) / cfg->cols;
    *out = NULL;
    *bytes = 0;
    if (l->op != MXU_LAYER_CONV2D || (l->groups > 1) || !pack || pack * cin > cfg->rows ||
        !layer_has_arrays(cfg, p, l))
        return mxu_fail(MXU_ERR_INVAL, "layer %s cannot be packed %u pixels per line", l->name, pack);
    size_t tile_bytes = (size_t)cfg->rows * cfg->cols, n = (size_t)nb * l->kh * kwp * tile_bytes;
    int8_t *buf = calloc(n, 1);
    const int8_t *w = (const int8_t *)(p->host_blob + l->weights);
    if (!buf)
        return mxu_fail(MXU_ERR_NOMEM, "packing layer %s", l->name);
    for (uint32_t b = 0; b < nb; b++)
        for (uint32_t ky = 0; ky < l->kh; ky++)
            for (uint32_t j = 0; j < kwp; j++) {
                int8_t *tile = buf + ((size_t)(b * l->kh + ky) * kwp + j) * tile_bytes;
                for (uint32_t r = 0; r < pack * cin; r++) {
                    uint32_t kx = j * pack + r / cin;
                    for (uint32_t c = 0; kx < l->kw && c < cfg->cols; c++) {
                        uint32_t oc = b * cfg->cols + c;
                        if (oc < l->cout)
                            tile[(size_t)r * cfg->cols + c] =
                                w[(((size_t)oc * l->kh + ky) * l->kw + kx) * cin + r % cin];
                    }
                }
            }
    *out = (uint8_t *)buf;
    *bytes = (uint32_t)n;
    return MXU_OK;
}

static void put_le32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
}

void mxu_pack_param_entry(uint8_t *entry, int32_t bias, int32_t multiplier, int32_t shift)
{
    put_le32(entry, bias);
    put_le32(entry + 4, multiplier);
    put_le32(entry + 8, shift);
}

static int32_t blob_i32(const mxu_program *p, uint32_t off, uint32_t i)
{
    int32_t v;
    memcpy(&v, p->host_blob + off + 4 * (size_t)i, 4);
    return v;
}

/* bias - zp_in * sum(w): padding taps read zp_in, so they cancel exactly. */
static int32_t folded_bias(const mxu_program *p, const mxu_layer *l, const struct conv_shape *s,
                           uint32_t oc)
{
    size_t n = (size_t)s->kh * s->kw * s->cin_g;
    const int8_t *w = (const int8_t *)(p->host_blob + l->weights) + oc * n;
    int64_t sum = 0;
    for (size_t i = 0; i < n;) { /* int32 partial sums (|part| < 2^23): they vectorize */
        size_t end = n - i > 65536 ? i + 65536 : n;
        int32_t part = 0;
        for (; i < end; i++)
            part += w[i];
        sum += part;
    }
    int32_t zp_in = p->tensors[l->input].zero_point;
    int32_t bias = l->bias == MXU_NONE ? 0 : blob_i32(p, l->bias, oc);
    return (int32_t)((uint32_t)bias - (uint32_t)(int32_t)(zp_in * sum));
}

static int pack_params(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                       uint8_t *out)
{
    struct conv_shape s = shape_of(cfg, p, l);
    size_t line_bytes = (size_t)cfg->cols * MXU_DEFAULT_PARAM_BYTES;
    for (uint32_t g = 0; g < s.groups; g++)
        for (uint32_t nb = 0; nb < s.nb; nb++) {
            uint8_t *line = out + (g * s.nb + nb) * line_bytes;
            for (uint32_t c = 0; c < cfg->cols; c++) {
                uint32_t oc = nb * cfg->cols + c;
                uint8_t *e = line + c * MXU_DEFAULT_PARAM_BYTES;
                if (oc >= s.cout_g)
                    continue;
                oc += g * s.cout_g;
                mxu_pack_param_entry(e, folded_bias(p, l, &s, oc), blob_i32(p, l->multiplier, oc),
                                     blob_i32(p, l->shift, oc));
            }
        }
    return MXU_OK;
}

static int blob_holds(const mxu_program *p, uint32_t off, uint64_t bytes)
{
    return off != MXU_NONE && (uint64_t)off + bytes <= p->host_blob_bytes;
}

/* The arrays the packer reads exist and are as long as the shapes say. */
static int layer_has_arrays(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l)
{
    if (l->input >= p->n_tensors)
        return 0;
    struct conv_shape s = shape_of(cfg, p, l);
    uint64_t per_channel = (uint64_t)l->cout * 4;
    return s.groups && s.cin_g * s.groups == mxu_layer_cin(p, l) && s.cout_g * s.groups == l->cout &&
           blob_holds(p, l->weights, (uint64_t)l->cout * s.kh * s.kw * s.cin_g) &&
           blob_holds(p, l->multiplier, per_channel) && blob_holds(p, l->shift, per_channel) &&
           (l->bias == MXU_NONE || blob_holds(p, l->bias, per_channel));
}

int mxu_pack_layer(const mxu_hw_config *cfg, const mxu_program *p, const mxu_layer *l,
                   enum mxu_pack_kind kind, uint8_t **out, uint32_t *bytes)
{
    size_t n;
    *out = NULL;
    *bytes = 0;
    if (kind == MXU_PACK_LUT) {
        if (l->lut == MXU_NONE || l->lut + 256u > p->host_blob_bytes)
            return mxu_fail(MXU_ERR_INVAL, "layer %s has no lookup table", l->name);
        n = 256;
    } else {
        if (!is_conv_like(l) || !layer_has_arrays(cfg, p, l))
            return mxu_fail(MXU_ERR_INVAL, "layer %s: weights, multipliers or shifts missing or "
                            "shorter than its shape needs", l->name);
        n = kind == MXU_PACK_WEIGHTS
                ? (size_t)mxu_pack_weight_tiles(cfg, p, l) * cfg->rows * cfg->cols
                : (size_t)mxu_pack_param_lines(cfg, p, l) * cfg->cols * MXU_DEFAULT_PARAM_BYTES;
    }
    if (n > UINT32_MAX)
        return mxu_fail(MXU_ERR_LIMIT, "layer %s: packed constants exceed 4 GiB", l->name);
    uint8_t *buf = calloc(n ? n : 1, 1);
    if (!buf)
        return mxu_fail(MXU_ERR_NOMEM, "packing layer %s", l->name);
    if (kind == MXU_PACK_LUT)
        memcpy(buf, p->host_blob + l->lut, 256);
    else if (kind == MXU_PACK_WEIGHTS)
        pack_weights(cfg, p, l, buf);
    else
        pack_params(cfg, p, l, buf);
    *out = buf;
    *bytes = (uint32_t)n;
    return MXU_OK;
}
