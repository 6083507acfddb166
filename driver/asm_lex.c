/* Assembler lexing: tokens, numbers, names, lists, errors with line and column. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm_priv.h"
#include "mxu_error.h"

const char *const asm_mem_names[4] = {"ub", "wb", "param", "lut"};
const char *const asm_role_names[4] = {"?", "input", "output", "activation"};
const char *const asm_dtype_names[3] = {"?", "int8", "int32"};
const char *const asm_layout_names[3] = {"?", "nhwc", "nc"};
const char *const asm_op_names[MXU_LAYER_OP_LIMIT] = {"?",       "conv2d", "fc",       "maxpool", "avgpool",
                                                       "add",     "softmax", "concat", "upsample", "lut"};

int asm_lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (names[i][0] != '?' && strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int asm_error(struct asm_ctx *a, int col, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mxu_fail(MXU_ERR_FORMAT, "%s:%d:%d: %s", a->file, a->line, col, msg);
}

void asm_line_free(struct asm_line *l)
{
    free(l->tok);
    free(l->arena);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One quoted part starting at text[*i] == '"'; appends to *dst. */
static int lex_quoted(struct asm_ctx *a, const char *text, size_t len, size_t *i, char **dst)
{
    size_t open = *i;
    for ((*i)++; *i < len; (*i)++) {
        char c = text[*i];
        if (c == '"') {
            (*i)++;
            return MXU_OK;
        }
        if (c != '\\') {
            *(*dst)++ = c;
            continue;
        }
        if (++*i >= len)
            break;
        switch (text[*i]) {
        case 'n': *(*dst)++ = '\n'; break;
        case 't': *(*dst)++ = '\t'; break;
        case 'r': *(*dst)++ = '\r'; break;
        case '\\': *(*dst)++ = '\\'; break;
        case '"': *(*dst)++ = '"'; break;
        case 'x': {
            int hi = *i + 1 < len ? hexval(text[*i + 1]) : -1;
            int lo = *i + 2 < len ? hexval(text[*i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return asm_error(a, (int)*i, "\\x needs two hex digits (not 00)");
            *(*dst)++ = (char)(hi * 16 + lo);
            *i += 2;
            break;
        }
        default: return asm_error(a, (int)*i, "unknown escape '\\%c'", text[*i]);
        }
    }
    return asm_error(a, (int)open + 1, "unterminated string");
}

static int push_tok(struct asm_line *out, const char *text, int col, int quoted)
{
    if (out->n == out->cap) {
        int cap = out->cap ? out->cap * 2 : 16;
        struct asm_tok *t = realloc(out->tok, (size_t)cap * sizeof *t);
        if (!t)
            return mxu_fail(MXU_ERR_NOMEM, "assembler: out of memory");
        out->tok = t;
        out->cap = cap;
    }
    out->tok[out->n++] = (struct asm_tok){text, col, quoted};
    return MXU_OK;
}

int asm_lex(struct asm_ctx *a, const char *text, size_t len, struct asm_line *out)
{
    out->n = 0;
    if (out->arena_cap < len + 1) {
        char *ar = realloc(out->arena, len + 1);
        if (!ar)
            return mxu_fail(MXU_ERR_NOMEM, "assembler: out of memory");
        out->arena = ar;
        out->arena_cap = len + 1;
    }
    char *dst = out->arena;
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        if (c == ';' || c == '#')
            break;
        const char *start = dst;
        int col = (int)i + 1, quoted = 0;
        while (i < len && text[i] != ' ' && text[i] != '\t' && text[i] != '\r' &&
               text[i] != ';' && text[i] != '#') {
            if (text[i] == '"') {
                int rc = lex_quoted(a, text, len, &i, &dst);
                if (rc)
                    return rc;
                quoted = 1;
            } else {
                *dst++ = text[i++];
            }
        }
        *dst++ = 0;
        int rc = push_tok(out, start, col, quoted);
        if (rc)
            return rc;
    }
    return MXU_OK;
}

int asm_parse_u64(const char *s, uint64_t *v)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        base = 2, s += 2;
    if (!*s)
        return -1;
    uint64_t x = 0;
    for (; *s; s++) {
        int d = hexval((unsigned char)*s);
        if (d < 0 || d >= base)
            return -1;
        if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return -1;
        x = x * (uint64_t)base + (uint64_t)d;
    }
    *v = x;
    return 0;
}

int asm_int(struct asm_ctx *a, const char *s, int col, int64_t lo, int64_t hi, const char *what,
            int64_t *v)
{
    const char *digits = s;
    int neg = 0;
    if (*digits == '-' || *digits == '+')
        neg = *digits++ == '-';
    uint64_t mag;
    if (asm_parse_u64(digits, &mag) != 0)
        return asm_error(a, col, "%s: '%s' is not a number", what, s);
    int too_big = neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX;
    int64_t x = too_big ? 0 : neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (too_big || x < lo || x > hi)
        return asm_error(a, col, "%s: %s is out of range [%lld, %lld]", what, s, (long long)lo,
                         (long long)hi);
    *v = x;
    return MXU_OK;
}

int asm_float(struct asm_ctx *a, const char *s, int col, const char *what, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x))
        return asm_error(a, col, "%s: '%s' is not a finite number", what, s);
    *v = x;
    return MXU_OK;
}

int asm_name(struct asm_ctx *a, const struct asm_tok *t, const char *what, char dst[MXU_NAME_LEN])
{
    size_t n = strlen(t->text);
    if (n == 0 || n >= MXU_NAME_LEN)
        return asm_error(a, t->col, "%s name must have 1 to %d characters", what,
                         MXU_NAME_LEN - 1);
    memset(dst, 0, MXU_NAME_LEN);
    memcpy(dst, t->text, n);
    return MXU_OK;
}

int asm_split(struct asm_ctx *a, char *s, int col, char sep, const char **items, int *cols,
              int max, const char *what)
{
    int n = 0;
    char *p = s;
    for (;;) {
        if (n == max)
            return asm_error(a, col + (int)(p - s), "%s takes at most %d values", what, max);
        items[n] = p;
        cols[n] = col + (int)(p - s);
        n++;
        char *q = strchr(p, sep);
        if (!q)
            return n;
        *q = 0;
        p = q + 1;
    }
}

uint64_t asm_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int64_t asm_rand_range(uint64_t *state, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int64_t)(asm_rand_next(state) % span);
}
