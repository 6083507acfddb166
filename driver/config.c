/* Hardware configurations: defaults from isa/mxu.isa, "key=value,..." parsing,
 * validation, formatting and short names.
 *
 * Limits (checked by mxu_config_validate), chosen so every ISA field can address
 * the whole memory and the model can allocate it:
 *   rows, cols        1..256 each (any value, non-square allowed)
 *   ub_lines          1..2^24 (the width of dst_line/ub_addr), UB bytes <= 256 MiB
 *   acc_rows          1..65536 (acc_addr is 16 bits)
 *   wb_lines          rows..65536+rows (at least one tile; wgt_line is 16 bits)
 *   param_lines       1..65536 (param_line is 16 bits)
 *   dram_beat_bytes   4..64, a power of two (the only power-of-two rule)
 *   dram_bytes        1 KiB..2 GiB, a multiple of 32 and of the beat
 *   queue_depth       1..256
 *   token_max         1..65535
 * ub_line_bytes is derived: max(rows, cols). */
#include "mxu_config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"
#include "mxu_isa.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

void mxu_config_default(mxu_hw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->rows = MXU_DEFAULT_ROWS;
    cfg->cols = MXU_DEFAULT_COLS;
    cfg->ub_lines = MXU_DEFAULT_UB_LINES;
    cfg->ub_line_bytes = cfg->rows > cfg->cols ? cfg->rows : cfg->cols;
    cfg->acc_rows = MXU_DEFAULT_ACC_ROWS;
    cfg->wb_lines = MXU_DEFAULT_WB_LINES;
    cfg->param_lines = MXU_DEFAULT_PARAM_LINES;
    cfg->dram_bytes = MXU_DEFAULT_DRAM_BYTES;
    cfg->dram_beat_bytes = MXU_DEFAULT_DRAM_BEAT_BYTES;
    cfg->queue_depth = MXU_DEFAULT_QUEUE_DEPTH;
    cfg->token_max = MXU_DEFAULT_TOKEN_MAX;
}

static int is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int check_range(const char *key, uint64_t v, uint64_t lo, uint64_t hi)
{
    if (v < lo || v > hi)
        return mxu_fail(MXU_ERR_INVAL, "config: %s=%llu outside %llu..%llu", key,
                        (unsigned long long)v, (unsigned long long)lo, (unsigned long long)hi);
    return MXU_OK;
}

int mxu_config_validate(mxu_hw_config *cfg)
{
    int rc;
    if ((rc = check_range("rows", cfg->rows, 1, 256)) || (rc = check_range("cols", cfg->cols, 1, 256)))
        return rc;
    cfg->ub_line_bytes = cfg->rows > cfg->cols ? cfg->rows : cfg->cols;
    if ((rc = check_range("ub_lines", cfg->ub_lines, 1, 1ull << 24)) ||
        (rc = check_range("ub bytes", (uint64_t)cfg->ub_lines * cfg->ub_line_bytes, 1, 256 * MIB)) ||
        (rc = check_range("acc", cfg->acc_rows, 1, 65536)) ||
        (rc = check_range("wb", cfg->wb_lines, cfg->rows, 65536ull + cfg->rows)) ||
        (rc = check_range("params", cfg->param_lines, 1, 65536)) ||
        (rc = check_range("beat", cfg->dram_beat_bytes, 4, 64)) ||
        (rc = check_range("dram", cfg->dram_bytes, KIB, 2 * GIB)) ||
        (rc = check_range("queue", cfg->queue_depth, 1, 256)) ||
        (rc = check_range("tokens", cfg->token_max, 1, 65535)))
        return rc;
    if (!is_pow2(cfg->dram_beat_bytes))
        return mxu_fail(MXU_ERR_INVAL, "config: beat=%u is not a power of two", cfg->dram_beat_bytes);
    if (cfg->dram_bytes % MXU_INSN_BYTES || cfg->dram_bytes % cfg->dram_beat_bytes)
        return mxu_fail(MXU_ERR_INVAL, "config: dram=%u is not a multiple of %u and of the beat (%u)",
                        cfg->dram_bytes, MXU_INSN_BYTES, cfg->dram_beat_bytes);
    return MXU_OK;
}

/* Decimal or 0x hex, with an optional K/M/G (binary) suffix. */
static int parse_size(const char *key, const char *s, size_t len, uint64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return mxu_fail(MXU_ERR_INVAL, "config: %s needs a number", key);
    memcpy(buf, s, len);
    buf[len] = 0;
    if (buf[0] < '0' || buf[0] > '9')
        return mxu_fail(MXU_ERR_INVAL, "config: %s=%s is not a number", key, buf);
    char *end;
    int hex = buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X');
    unsigned long long v = strtoull(buf, &end, hex ? 16 : 10);
    uint64_t mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = KIB; end++; break;
    case 'm': case 'M': mul = MIB; end++; break;
    case 'g': case 'G': mul = GIB; end++; break;
    default: break;
    }
    if (*end || v > (UINT32_MAX * 4ull) / mul)
        return mxu_fail(MXU_ERR_INVAL, "config: %s=%s is not a valid size", key, buf);
    *out = v * mul;
    return MXU_OK;
}

/* The keys, in mxu_config_format's order; 'ub' (bytes) is handled apart. */
struct key_def {
    const char *name;
    size_t offset;
};
static const struct key_def keys[] = {
    {"rows", offsetof(mxu_hw_config, rows)},
    {"cols", offsetof(mxu_hw_config, cols)},
    {"ub_lines", offsetof(mxu_hw_config, ub_lines)},
    {"acc", offsetof(mxu_hw_config, acc_rows)},
    {"wb", offsetof(mxu_hw_config, wb_lines)},
    {"params", offsetof(mxu_hw_config, param_lines)},
    {"dram", offsetof(mxu_hw_config, dram_bytes)},
    {"beat", offsetof(mxu_hw_config, dram_beat_bytes)},
    {"queue", offsetof(mxu_hw_config, queue_depth)},
    {"tokens", offsetof(mxu_hw_config, token_max)},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

static uint32_t *key_field(mxu_hw_config *cfg, const struct key_def *k)
{
    return (uint32_t *)((char *)cfg + k->offset);
}

static uint32_t key_value(const mxu_hw_config *cfg, const struct key_def *k)
{
    return *(const uint32_t *)((const char *)cfg + k->offset);
}

/* "RxC" as a whole item sets rows and cols. */
static int parse_shape(mxu_hw_config *cfg, const char *item, size_t len)
{
    const char *x = memchr(item, 'x', len);
    if (x == item + 1 && item[0] == '0')
        x = NULL; /* "0x..." is a number, not a shape */
    uint64_t r, c;
    if (!x)
        return mxu_fail(MXU_ERR_INVAL, "config: '%.*s' is neither key=value nor ROWSxCOLS", (int)len, item);
    int rc = parse_size("rows", item, (size_t)(x - item), &r);
    if (!rc)
        rc = parse_size("cols", x + 1, len - (size_t)(x - item) - 1, &c);
    if (rc)
        return rc;
    if (r > UINT32_MAX || c > UINT32_MAX)
        return mxu_fail(MXU_ERR_INVAL, "config: shape '%.*s' too large", (int)len, item);
    cfg->rows = (uint32_t)r;
    cfg->cols = (uint32_t)c;
    return MXU_OK;
}

static int parse_item(mxu_hw_config *cfg, const char *item, size_t len, uint64_t *ub_bytes, int *have_ub_lines)
{
    const char *eq = memchr(item, '=', len);
    if (!eq)
        return parse_shape(cfg, item, len);
    size_t klen = (size_t)(eq - item);
    const char *val = eq + 1;
    size_t vlen = len - klen - 1;
    uint64_t v;
    if (klen == 2 && !memcmp(item, "ub", 2)) {
        int rc = parse_size("ub", val, vlen, &v);
        if (rc)
            return rc;
        if (!v)
            return mxu_fail(MXU_ERR_INVAL, "config: ub=0");
        *ub_bytes = v;
        return MXU_OK;
    }
    for (unsigned i = 0; i < N_KEYS; i++) {
        if (strlen(keys[i].name) != klen || memcmp(keys[i].name, item, klen))
            continue;
        int rc = parse_size(keys[i].name, val, vlen, &v);
        if (rc)
            return rc;
        if (v > UINT32_MAX)
            return mxu_fail(MXU_ERR_INVAL, "config: %s=%.*s too large", keys[i].name, (int)vlen, val);
        *key_field(cfg, &keys[i]) = (uint32_t)v;
        if (!strcmp(keys[i].name, "ub_lines"))
            *have_ub_lines = 1;
        return MXU_OK;
    }
    return mxu_fail(MXU_ERR_INVAL, "config: unknown key '%.*s' (rows, cols, ub, ub_lines, acc, wb, params, "
                    "dram, beat, queue, tokens)", (int)klen, item);
}

int mxu_config_parse(mxu_hw_config *cfg, const char *spec)
{
    mxu_hw_config c = *cfg;
    uint64_t ub_bytes = 0;
    int have_ub_lines = 0;
    const char *p = spec ? spec : "";
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0)
            return mxu_fail(MXU_ERR_INVAL, "config: empty item in '%s'", spec);
        int rc = parse_item(&c, p, len, &ub_bytes, &have_ub_lines);
        if (rc)
            return rc;
        p += len + (end ? 1 : 0);
        if (end && !*p)
            return mxu_fail(MXU_ERR_INVAL, "config: trailing comma in '%s'", spec);
    }
    if (ub_bytes) {
        if (have_ub_lines)
            return mxu_fail(MXU_ERR_INVAL, "config: give either ub (bytes) or ub_lines, not both");
        if (c.rows < 1 || c.rows > 256 || c.cols < 1 || c.cols > 256)
            return mxu_config_validate(&c); /* fails, naming rows or cols */
        uint32_t line = c.rows > c.cols ? c.rows : c.cols;
        if (ub_bytes % line)
            return mxu_fail(MXU_ERR_INVAL, "config: ub=%llu is not a multiple of the %u-byte line",
                            (unsigned long long)ub_bytes, line);
        if (ub_bytes / line > UINT32_MAX)
            return mxu_fail(MXU_ERR_INVAL, "config: ub=%llu too large", (unsigned long long)ub_bytes);
        c.ub_lines = (uint32_t)(ub_bytes / line);
    }
    int rc = mxu_config_validate(&c);
    if (rc)
        return rc;
    *cfg = c;
    return MXU_OK;
}

void mxu_config_format(const mxu_hw_config *cfg, char *buf, size_t len)
{
    size_t used = 0;
    if (len)
        buf[0] = 0;
    for (unsigned i = 0; i < N_KEYS && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s=%u", i ? "," : "", keys[i].name, key_value(cfg, &keys[i]));
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

/* 12345 -> "12345", 131072 -> "128K", 268435456 -> "256M". */
static void short_size(uint64_t v, char *buf, size_t len)
{
    if (v && v % GIB == 0)
        snprintf(buf, len, "%lluG", (unsigned long long)(v / GIB));
    else if (v && v % MIB == 0)
        snprintf(buf, len, "%lluM", (unsigned long long)(v / MIB));
    else if (v && v % KIB == 0)
        snprintf(buf, len, "%lluK", (unsigned long long)(v / KIB));
    else
        snprintf(buf, len, "%llu", (unsigned long long)v);
}

void mxu_config_name(const mxu_hw_config *cfg, char *buf, size_t len)
{
    mxu_hw_config def;
    mxu_config_default(&def);
    def.rows = cfg->rows;
    def.cols = cfg->cols;
    size_t used = 0;
    if (!len)
        return;
    int n = snprintf(buf, len, "%ux%u", cfg->rows, cfg->cols);
    used = n > 0 ? (size_t)n : 0;
    /* ub_lines is reported as "ub" bytes, which parses back exactly */
    for (unsigned i = 2; i < N_KEYS && used < len; i++) {
        uint32_t v = key_value(cfg, &keys[i]);
        if (v == key_value(&def, &keys[i]))
            continue;
        char num[24];
        const char *name = keys[i].name;
        uint64_t shown = v;
        if (!strcmp(name, "ub_lines")) {
            name = "ub";
            shown = (uint64_t)v * (cfg->rows > cfg->cols ? cfg->rows : cfg->cols);
        }
        short_size(shown, num, sizeof num);
        n = snprintf(buf + used, len - used, "-%s%s", name, num);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

uint32_t mxu_config_line_bytes(const mxu_hw_config *cfg, unsigned mem)
{
    switch (mem) {
    case MXU_MEM_UB: return cfg->rows > cfg->cols ? cfg->rows : cfg->cols; /* = ub_line_bytes */
    case MXU_MEM_WB: return cfg->cols;
    case MXU_MEM_PARAM: return cfg->cols * MXU_DEFAULT_PARAM_BYTES;
    case MXU_MEM_LUT: return MXU_DEFAULT_LUT_ENTRIES;
    default: return 0;
    }
}

uint32_t mxu_config_mem_lines(const mxu_hw_config *cfg, unsigned mem)
{
    switch (mem) {
    case MXU_MEM_UB: return cfg->ub_lines;
    case MXU_MEM_WB: return cfg->wb_lines;
    case MXU_MEM_PARAM: return cfg->param_lines;
    case MXU_MEM_LUT: return 1;
    default: return 0;
    }
}
