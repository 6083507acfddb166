/* The Darknet .cfg reader: lines into [sections] of key=value options.
 *
 * As darknet's read_cfg: every blank in a line is removed (also inside values:
 * "hue = .1" is hue=.1), lines starting with '#' or ';' are comments, a line
 * starting with '[' opens a section. Stricter than darknet where darknet would
 * go on with garbage: an option outside a section, a line without '=', an
 * empty key, a header without its ']' and NUL bytes are MXU_ERR_FORMAT. Carriage
 * returns are blanks too, so CRLF files read. Option values are checked when a
 * layer reads them (mxu_dn_int and friends); unknown keys are ignored as
 * darknet ignores them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "darknet_priv.h"
#include "mxu_error.h"

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* Remove every blank of the NUL-terminated line in place. */
static void strip_blanks(char *s)
{
    char *d = s;
    for (; *s; s++)
        if (!is_blank(*s))
            *d++ = *s;
    *d = 0;
}

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return MXU_OK;
    uint32_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (!p)
        return mxu_fail(MXU_ERR_NOMEM, "darknet: out of memory reading the cfg");
    *arr = p;
    *cap = ncap;
    return MXU_OK;
}

static int add_section(struct mxu_dn_cfg *cfg, uint32_t *cap, char *line, uint32_t lineno)
{
    size_t n = strlen(line);
    if (n < 3 || line[n - 1] != ']')
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: malformed section header '%.40s' (expected [name])",
                        cfg->file, lineno, line);
    line[n - 1] = 0;
    for (char *p = line + 1; *p; p++)
        if (*p == '[' || *p == ']' || *p == '=')
            return mxu_fail(MXU_ERR_FORMAT, "%s:%u: malformed section header '[%.40s]'",
                            cfg->file, lineno, line + 1);
    int rc = grow((void **)&cfg->sections, cap, cfg->n_sections + 1, sizeof *cfg->sections);
    if (rc)
        return rc;
    struct mxu_dn_section *s = &cfg->sections[cfg->n_sections++];
    s->type = line + 1;
    s->line = lineno;
    s->first_opt = cfg->n_opts;
    s->n_opts = 0;
    return MXU_OK;
}

static int add_option(struct mxu_dn_cfg *cfg, uint32_t *cap, char *line, uint32_t lineno)
{
    if (cfg->n_sections == 0)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: option '%.40s' before the first [section]",
                        cfg->file, lineno, line);
    char *eq = strchr(line, '=');
    if (!eq)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: expected key=value, got '%.40s'", cfg->file,
                        lineno, line);
    if (eq == line)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: option without a key: '%.40s'", cfg->file, lineno,
                        line);
    *eq = 0;
    int rc = grow((void **)&cfg->opts, cap, cfg->n_opts + 1, sizeof *cfg->opts);
    if (rc)
        return rc;
    cfg->opts[cfg->n_opts++] = (struct mxu_dn_option){.key = line, .val = eq + 1, .line = lineno};
    cfg->sections[cfg->n_sections - 1].n_opts++;
    return MXU_OK;
}

int mxu_dn_cfg_parse(const char *text, size_t len, const char *file, struct mxu_dn_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->file = file;
    if (!text && len)
        return mxu_fail(MXU_ERR_INVAL, "darknet: NULL cfg text");
    const char *nul = len ? memchr(text, 0, len) : NULL;
    if (nul) {
        uint32_t lineno = 1;
        for (const char *p = text; p < nul; p++)
            lineno += *p == '\n';
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: NUL byte in the cfg text", file, lineno);
    }
    cfg->text = malloc(len + 1);
    if (!cfg->text)
        return mxu_fail(MXU_ERR_NOMEM, "darknet: out of memory reading the cfg");
    if (len)
        memcpy(cfg->text, text, len);
    cfg->text[len] = 0;

    uint32_t sec_cap = 0, opt_cap = 0, lineno = 0;
    int rc = MXU_OK;
    char *line = cfg->text;
    while (line && rc == MXU_OK) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        lineno++;
        strip_blanks(line);
        if (line[0] == '[')
            rc = add_section(cfg, &sec_cap, line, lineno);
        else if (line[0] && line[0] != '#' && line[0] != ';')
            rc = add_option(cfg, &opt_cap, line, lineno);
        line = nl ? nl + 1 : NULL;
    }
    if (rc)
        mxu_dn_cfg_free(cfg);
    return rc;
}

void mxu_dn_cfg_free(struct mxu_dn_cfg *cfg)
{
    free(cfg->text);
    free(cfg->sections);
    free(cfg->opts);
    const char *file = cfg->file;
    memset(cfg, 0, sizeof *cfg);
    cfg->file = file;
}

const struct mxu_dn_option *mxu_dn_find(const struct mxu_dn_cfg *cfg,
                                        const struct mxu_dn_section *s, const char *key)
{
    for (uint32_t i = 0; i < s->n_opts; i++) {
        const struct mxu_dn_option *o = &cfg->opts[s->first_opt + i];
        if (strcmp(o->key, key) == 0)
            return o;
    }
    return NULL;
}

uint32_t mxu_dn_line(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s,
                     const char *key)
{
    const struct mxu_dn_option *o = mxu_dn_find(cfg, s, key);
    return o ? o->line : s->line;
}

static int empty_value(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s,
                       const struct mxu_dn_option *o)
{
    return mxu_fail(MXU_ERR_FORMAT, "%s:%u: [%s]: '%s' has no value", cfg->file, o->line, s->type,
                    o->key);
}

int mxu_dn_int(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s, const char *key,
               long def, long lo, long hi, long *out)
{
    const struct mxu_dn_option *o = mxu_dn_find(cfg, s, key);
    if (!o) {
        *out = def;
        return MXU_OK;
    }
    if (!o->val[0])
        return empty_value(cfg, s, o);
    char *end;
    errno = 0;
    long v = strtol(o->val, &end, 10);
    if (*end || end == o->val)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: [%s]: '%s=%.32s' is not an integer", cfg->file,
                        o->line, s->type, key, o->val);
    if (errno == ERANGE || v < lo || v > hi)
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: [%s]: '%s=%.32s' out of range (%ld..%ld)",
                        cfg->file, o->line, s->type, key, o->val, lo, hi);
    *out = v;
    return MXU_OK;
}

int mxu_dn_float(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s, const char *key,
                 double def, double *out)
{
    const struct mxu_dn_option *o = mxu_dn_find(cfg, s, key);
    if (!o) {
        *out = def;
        return MXU_OK;
    }
    if (!o->val[0])
        return empty_value(cfg, s, o);
    char *end;
    double v = strtod(o->val, &end);
    if (*end || end == o->val || !isfinite(v))
        return mxu_fail(MXU_ERR_FORMAT, "%s:%u: [%s]: '%s=%.32s' is not a number", cfg->file,
                        o->line, s->type, key, o->val);
    *out = v;
    return MXU_OK;
}

int mxu_dn_str(const struct mxu_dn_cfg *cfg, const struct mxu_dn_section *s, const char *key,
               const char *def, const char **out)
{
    const struct mxu_dn_option *o = mxu_dn_find(cfg, s, key);
    if (!o) {
        *out = def;
        return MXU_OK;
    }
    if (!o->val[0])
        return empty_value(cfg, s, o);
    *out = o->val;
    return MXU_OK;
}
