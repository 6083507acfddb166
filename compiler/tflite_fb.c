/* A validating FlatBuffers reader (binary format: uoffset_t 32-bit offsets
 * forward from where they are stored, tables starting with a signed 32-bit
 * offset back to their vtable, vtables of 16-bit entries, vectors and strings
 * prefixed by a 32-bit length). Every position is computed in 64 bits and
 * checked against the buffer before a byte is read. */
#include <string.h>

#include "tflite_priv.h"

#define FAIL(...) mxu_fail(MXU_ERR_FORMAT, "tflite: " __VA_ARGS__)

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* [pos, pos + n) inside the buffer? */
static int inside(const struct fb *b, uint64_t pos, uint64_t n)
{
    return pos <= b->len && n <= b->len - pos;
}

static int table_at(const struct fb *b, uint64_t pos, struct fb_table *t)
{
    if (!inside(b, pos, 4))
        return FAIL("table at offset %llu is outside the %zu-byte file", (unsigned long long)pos, b->len);
    int64_t vtab = (int64_t)pos - (int32_t)rd32(b->buf + pos);
    if (vtab < 0 || !inside(b, (uint64_t)vtab, 4))
        return FAIL("table at offset %llu: vtable outside the file", (unsigned long long)pos);
    uint16_t vsize = rd16(b->buf + vtab), tsize = rd16(b->buf + vtab + 2);
    if (vsize < 4 || vsize % 2 || !inside(b, (uint64_t)vtab, vsize))
        return FAIL("table at offset %llu: vtable of %u bytes", (unsigned long long)pos, vsize);
    if (tsize < 4 || !inside(b, pos, tsize))
        return FAIL("table at offset %llu: %u bytes do not fit the file", (unsigned long long)pos, tsize);
    *t = (struct fb_table){b, (uint32_t)pos, (uint32_t)vtab, vsize, tsize};
    return MXU_OK;
}

int fb_root(const struct fb *b, struct fb_table *t)
{
    if (!b->buf || b->len < 8)
        return FAIL("file of %zu bytes is too short", b->len);
    if (b->len > UINT32_MAX)
        return FAIL("file larger than 4 GiB");
    return table_at(b, rd32(b->buf), t);
}

/* Offset of field id inside the table (0 = absent). */
static uint16_t field(const struct fb_table *t, unsigned id)
{
    uint64_t at = 4 + 2ull * id;
    return at + 2 <= t->vtab_size ? rd16(t->b->buf + t->vtab + at) : 0;
}

int fb_has(const struct fb_table *t, unsigned id)
{
    return field(t, id) != 0;
}

/* Position of a present field of n bytes, checked inside the table. */
static int field_pos(const struct fb_table *t, unsigned id, uint32_t n, uint32_t *pos)
{
    uint16_t off = field(t, id);
    if (!off) {
        *pos = 0;
        return MXU_OK;
    }
    if ((uint32_t)off + n > t->size)
        return FAIL("table at offset %u: field %u at %u overruns the table's %u bytes", t->pos, id,
                    off, t->size);
    *pos = t->pos + off;
    return MXU_OK;
}

int fb_u8(const struct fb_table *t, unsigned id, uint8_t def, uint8_t *v)
{
    uint32_t p;
    int rc = field_pos(t, id, 1, &p);
    *v = rc || !p ? def : t->b->buf[p];
    return rc;
}

int fb_u32(const struct fb_table *t, unsigned id, uint32_t def, uint32_t *v)
{
    uint32_t p;
    int rc = field_pos(t, id, 4, &p);
    *v = rc || !p ? def : rd32(t->b->buf + p);
    return rc;
}

int fb_i32(const struct fb_table *t, unsigned id, int32_t def, int32_t *v)
{
    uint32_t u;
    int rc = fb_u32(t, id, (uint32_t)def, &u);
    *v = (int32_t)u;
    return rc;
}

int fb_u64(const struct fb_table *t, unsigned id, uint64_t def, uint64_t *v)
{
    uint32_t p;
    int rc = field_pos(t, id, 8, &p);
    *v = rc || !p ? def : rd64(t->b->buf + p);
    return rc;
}

int fb_f32(const struct fb_table *t, unsigned id, float def, float *v)
{
    uint32_t u;
    int rc = fb_u32(t, id, 0, &u);
    if (rc || !fb_has(t, id)) {
        *v = def;
        return rc;
    }
    memcpy(v, &u, sizeof *v);
    return MXU_OK;
}

/* The target of an offset field; *pos = 0 when absent. */
static int ref(const struct fb_table *t, unsigned id, uint32_t *pos)
{
    uint32_t p;
    int rc = field_pos(t, id, 4, &p);
    if (rc || !p) {
        *pos = 0;
        return rc;
    }
    uint64_t target = (uint64_t)p + rd32(t->b->buf + p);
    if (!inside(t->b, target, 4))
        return FAIL("table at offset %u: field %u points outside the file", t->pos, id);
    *pos = (uint32_t)target;
    return MXU_OK;
}

int fb_sub(const struct fb_table *t, unsigned id, struct fb_table *sub, int *present)
{
    uint32_t p;
    int rc = ref(t, id, &p);
    *present = 0;
    if (rc || !p)
        return rc;
    *present = 1;
    return table_at(t->b, p, sub);
}

int fb_vector(const struct fb_table *t, unsigned id, uint32_t elem_size, struct fb_vec *v)
{
    uint32_t p;
    int rc = ref(t, id, &p);
    *v = (struct fb_vec){0, 0};
    if (rc || !p)
        return rc;
    uint32_t count = rd32(t->b->buf + p);
    if (!inside(t->b, (uint64_t)p + 4, (uint64_t)count * elem_size))
        return FAIL("vector at offset %u: %u elements of %u bytes do not fit the file", p, count,
                    elem_size);
    *v = (struct fb_vec){p + 4, count};
    return MXU_OK;
}

int fb_vec_table(const struct fb *b, const struct fb_vec *v, uint32_t i, struct fb_table *t)
{
    if (i >= v->count)
        return FAIL("element %u of a %u-element vector", i, v->count);
    uint64_t at = (uint64_t)v->pos + 4ull * i;
    return table_at(b, at + rd32(b->buf + at), t);
}

int32_t fb_vec_i32(const struct fb *b, const struct fb_vec *v, uint32_t i)
{
    return (int32_t)rd32(b->buf + v->pos + 4ull * i);
}

int64_t fb_vec_i64(const struct fb *b, const struct fb_vec *v, uint32_t i)
{
    return (int64_t)rd64(b->buf + v->pos + 8ull * i);
}

float fb_vec_f32(const struct fb *b, const struct fb_vec *v, uint32_t i)
{
    uint32_t u = rd32(b->buf + v->pos + 4ull * i);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int fb_string(const struct fb_table *t, unsigned id, char *out, size_t n)
{
    struct fb_vec v;
    int rc = fb_vector(t, id, 1, &v);
    out[0] = 0;
    if (rc || !v.pos)
        return rc;
    size_t k = v.count < n - 1 ? v.count : n - 1;
    for (size_t i = 0; i < k; i++) {
        uint8_t c = t->b->buf[v.pos + i];
        if (!c) {
            k = i;
            break;
        }
        out[i] = c < 32 || c == 127 ? '_' : (char)c;
    }
    out[k] = 0;
    return MXU_OK;
}
