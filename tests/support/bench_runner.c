#include "bench_runner.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int bench_parse_summary(const char *line, const char *name, unsigned long long *checks,
                        unsigned long long *mismatches)
{
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || line[n] != ':')
        return 0;
    return sscanf(line + n + 1, " %llu checks, %llu mismatches", checks, mismatches) == 2;
}

struct bench_result bench_run(const char *dir, const char *name)
{
    struct bench_result r = {-1, 0, 0, 0};
    const char *build = getenv("MXU_BUILD");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/%s/%s 2>/dev/null", build && *build ? build : "build", dir, name);
    FILE *p = popen(cmd, "r");
    if (!p)
        return r;
    char line[512];
    while (fgets(line, sizeof line, p))
        if (bench_parse_summary(line, name, &r.checks, &r.mismatches))
            r.parsed = 1;
    int st = pclose(p);
    if (st != -1 && WIFEXITED(st))
        r.exit_status = WEXITSTATUS(st);
    return r;
}

void bench_expect_clean(const char *dir, const char *name, unsigned long long min_checks,
                        const char *make_target)
{
    struct bench_result r = bench_run(dir, name);
    cr_assert(r.parsed, "%s printed no summary line (not built? run `make %s`)", name, make_target);
    cr_expect_eq(r.mismatches, 0ull, "%s: %llu mismatches", name, r.mismatches);
    cr_expect_geq(r.checks, min_checks, "%s: only %llu checks", name, r.checks);
    cr_expect_eq(r.exit_status, 0, "%s exited with %d", name, r.exit_status);
}
