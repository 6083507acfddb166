#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_error(const char *cmd, int status, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mxu %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (status) {
        const char *d = mxu_error_detail();
        fprintf(stderr, ": %s%s%s", mxu_strerror(status), *d ? ": " : "", d);
    }
    fputc('\n', stderr);
    return CLI_ERROR;
}

int cli_usage(const char *cmd, const char *usage)
{
    fprintf(stderr, "usage: mxu %s %s", cmd, usage);
    return CLI_ERROR;
}

const char *cli_opt(int argc, char **argv, int *i, const char *name, int *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    *missing = 0;
    if (strncmp(a, name, n))
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n])
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    return argv[++*i];
}

int cli_flag(const char *arg, const char *name)
{
    return !strcmp(arg, name);
}

int cli_parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return 0;
    *v = strtoull(s, &end, 0);
    return !errno && !*end;
}
