/* A small JSON reader: enough for the sweep's own run files and the one-line
 * answers of scripts/synth_area.sh. Strings keep \uXXXX escapes below 0x80 and
 * replace others by '?'; nesting is limited to 32 levels. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

struct parser {
    const char *s;
    size_t len, pos;
    int depth;
};

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                               p->s[p->pos] == '\r'))
        p->pos++;
}

static int parse_value(struct parser *p, struct sj *v);

static int literal(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
        return -1;
    p->pos += n;
    return 0;
}

static int hex4(const char *s, unsigned *out)
{
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return -1;
        *out = *out * 16 + d;
    }
    return 0;
}

static int parse_string(struct parser *p, char **out)
{
    if (p->pos >= p->len || p->s[p->pos] != '"')
        return -1;
    p->pos++;
    char *buf = malloc(p->len - p->pos + 1);
    size_t n = 0;
    if (!buf)
        return -1;
    while (p->pos < p->len && p->s[p->pos] != '"') {
        char c = p->s[p->pos++];
        if ((unsigned char)c < 0x20)
            goto fail;
        if (c != '\\') {
            buf[n++] = c;
            continue;
        }
        if (p->pos >= p->len)
            goto fail;
        c = p->s[p->pos++];
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, c);
        if (k && c) {
            buf[n++] = to[k - from];
        } else if (c == 'u' && p->len - p->pos >= 4) {
            unsigned u;
            if (hex4(p->s + p->pos, &u))
                goto fail;
            p->pos += 4;
            buf[n++] = u && u < 0x80 ? (char)u : '?';
        } else {
            goto fail;
        }
    }
    if (p->pos >= p->len)
        goto fail;
    p->pos++;
    buf[n] = 0;
    *out = buf;
    return 0;
fail:
    free(buf);
    return -1;
}

static int parse_number(struct parser *p, struct sj *v)
{
    const char *start = p->s + p->pos;
    size_t i = p->pos;
    int integer = 1;
    if (i < p->len && p->s[i] == '-')
        i++;
    size_t digits = i;
    while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
        i++;
    if (i == digits)
        return -1;
    while (i < p->len && p->s[i] && strchr(".eE+-0123456789", p->s[i])) {
        if (strchr(".eE", p->s[i]))
            integer = 0;
        i++;
    }
    char buf[64];
    if (i - p->pos >= sizeof buf)
        return -1;
    memcpy(buf, start, i - p->pos);
    buf[i - p->pos] = 0;
    char *end;
    errno = 0;
    v->num = strtod(buf, &end);
    if (*end || errno)
        return -1;
    v->type = SJ_NUMBER;
    if (integer) {
        errno = 0;
        v->integer = strtoll(buf, &end, 10);
        v->is_integer = !errno;
    }
    if (!v->is_integer) /* the nearest integer that fits */
        v->integer = v->num >= 9.2e18 ? INT64_MAX : v->num <= -9.2e18 ? INT64_MIN : (int64_t)v->num;
    p->pos = i;
    return 0;
}

static int push(struct sj *v, char *key)
{
    struct sj *items = realloc(v->items, (v->n + 1) * sizeof *items);
    if (!items)
        return -1;
    v->items = items;
    memset(&items[v->n], 0, sizeof *items);
    if (v->type == SJ_OBJECT) {
        char **keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
        if (!keys)
            return -1;
        v->keys = keys;
        keys[v->n] = key;
    }
    v->n++;
    return 0;
}

static int parse_container(struct parser *p, struct sj *v, char close)
{
    v->type = close == '}' ? SJ_OBJECT : SJ_ARRAY;
    if (++p->depth > 32)
        return -1;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(p);
        if (v->type == SJ_OBJECT) {
            if (parse_string(p, &key))
                return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                return -1;
            }
            p->pos++;
        }
        if (push(v, key)) {
            free(key);
            return -1;
        }
        if (parse_value(p, &v->items[v->n - 1]))
            return -1;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            p->depth--;
            return 0;
        }
        return -1;
    }
}

static int parse_value(struct parser *p, struct sj *v)
{
    memset(v, 0, sizeof *v);
    skip_ws(p);
    if (p->pos >= p->len)
        return -1;
    char c = p->s[p->pos];
    if (c == '{' || c == '[')
        return parse_container(p, v, c == '{' ? '}' : ']');
    if (c == '"') {
        v->type = SJ_STRING;
        return parse_string(p, &v->str);
    }
    if (c == 't' || c == 'f') {
        v->type = SJ_BOOL;
        v->num = v->integer = c == 't';
        return literal(p, c == 't' ? "true" : "false");
    }
    if (c == 'n') {
        v->type = SJ_NULL;
        return literal(p, "null");
    }
    return parse_number(p, v);
}

int sj_parse(const char *text, size_t len, struct sj *root, size_t *err_at)
{
    struct parser p = {text, len, 0, 0};
    int rc = parse_value(&p, root);
    if (rc == 0) {
        skip_ws(&p);
        rc = p.pos == len ? 0 : -1;
    }
    if (rc) {
        sj_free(root);
        if (err_at)
            *err_at = p.pos;
    }
    return rc;
}

void sj_free(struct sj *v)
{
    for (size_t i = 0; i < v->n; i++) {
        sj_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    memset(v, 0, sizeof *v);
}

const struct sj *sj_get(const struct sj *obj, const char *key)
{
    if (!obj || obj->type != SJ_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->keys[i] && !strcmp(obj->keys[i], key))
            return &obj->items[i];
    return NULL;
}

int64_t sj_int(const struct sj *obj, const char *key, int64_t dflt)
{
    const struct sj *v = sj_get(obj, key);
    return v && (v->type == SJ_NUMBER || v->type == SJ_BOOL) ? v->integer : dflt;
}

double sj_num(const struct sj *obj, const char *key, double dflt)
{
    const struct sj *v = sj_get(obj, key);
    return v && v->type == SJ_NUMBER ? v->num : dflt;
}

const char *sj_str(const struct sj *obj, const char *key)
{
    const struct sj *v = sj_get(obj, key);
    return v && v->type == SJ_STRING ? v->str : NULL;
}

int sj_read_file(const char *path, struct sj *root)
{
    memset(root, 0, sizeof *root);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= (64u << 20))
            break;
        char *b = realloc(buf, cap * 2);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    int bad = ferror(f) || !buf || n == cap;
    fclose(f);
    int rc = bad ? -1 : sj_parse(buf, n, root, NULL);
    free(buf);
    return rc;
}
