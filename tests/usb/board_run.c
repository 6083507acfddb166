#include "usb/board_run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *built(const char *env, const char *name, char *buf, size_t len)
{
    const char *v = getenv(env);
    if (v && *v)
        return v;
    const char *b = getenv("MXU_BUILD");
    snprintf(buf, len, "%s/bin/%s", b && *b ? b : "build", name);
    return buf;
}

const char *board_mxu(void)
{
    static char buf[512];
    return built("MXU_BIN", "mxu", buf, sizeof buf);
}

const char *board_harness(void)
{
    static char buf[512];
    return built("MXU_EMULATE_BOARD", "mxu-emulate-board", buf, sizeof buf);
}

static void run_shell(struct board_run *r, const char *cmd)
{
    char full[4096];
    struct timespec t0, t1;
    memset(r, 0, sizeof *r);
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FILE *f = popen(full, "r");
    if (!f) {
        r->status = -1;
        return;
    }
    size_t n = 0, k;
    char sink[4096]; /* what does not fit is read and dropped */
    for (;;) {
        int full = n == sizeof r->out - 1;
        if (!(k = fread(full ? sink : r->out + n, 1, full ? sizeof sink : sizeof r->out - 1 - n, f)))
            break;
        n += full ? 0 : k;
    }
    r->out[n] = 0;
    int st = pclose(f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

void board_shell(struct board_run *r, const char *fmt, ...)
{
    char cmd[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    run_shell(r, cmd);
}

void board_mxu_run(struct board_run *r, const char *opts, const char *fmt, ...)
{
    char args[2000], cmd[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s --timeout 120 %s -- %s %s", board_harness(), opts, board_mxu(), args);
    run_shell(r, cmd);
}

void board_tmp(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "/tmp/mxu-usb-%d-%s", (int)getpid(), name);
}

void board_checksum(const char *out, char *hex, size_t len)
{
    const char *p = strstr(out, "checksum ");
    size_t n = 0;
    if (p)
        for (p += 9; n + 1 < len && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')); p++)
            hex[n++] = *p;
    hex[n] = 0;
}
