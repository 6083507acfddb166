/* Helpers shared by the simulator backends; see backend_sim.h. */
#include "backend_sim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mxu_error.h"

#ifndef MXU_BUILD_DIR
#define MXU_BUILD_DIR "build"
#endif
#ifndef MXU_SOURCE_DIR
#define MXU_SOURCE_DIR "."
#endif

int mxu_sim_next_option(const char *backend, const char **p, char *key, size_t klen, char *val, size_t vlen)
{
    const char *s = *p;
    while (*s == ',')
        s++;
    if (!*s) {
        *p = s;
        return 0;
    }
    const char *end = strchr(s, ',');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    const char *eq = memchr(s, '=', len);
    if (!eq)
        return mxu_fail(MXU_ERR_INVAL, "%s: option '%.*s' is not key=value", backend, (int)len, s);
    size_t kl = (size_t)(eq - s), vl = len - kl - 1;
    if (kl >= klen || vl >= vlen)
        return mxu_fail(MXU_ERR_INVAL, "%s: option '%.*s' too long", backend, (int)len, s);
    memcpy(key, s, kl);
    key[kl] = 0;
    memcpy(val, eq + 1, vl);
    val[vl] = 0;
    *p = s + len;
    return 1;
}

int mxu_sim_parse_u64(const char *backend, const char *key, const char *val, uint64_t lo, uint64_t hi,
                      uint64_t *out)
{
    char *end;
    if (val[0] < '0' || val[0] > '9')
        return mxu_fail(MXU_ERR_INVAL, "%s: %s=%s is not a number", backend, key, val);
    errno = 0;
    unsigned long long v = strtoull(val, &end, 0);
    if (errno || *end || v < lo || v > hi)
        return mxu_fail(MXU_ERR_INVAL, "%s: %s=%s outside %llu..%llu", backend, key, val,
                        (unsigned long long)lo, (unsigned long long)hi);
    *out = v;
    return MXU_OK;
}

void mxu_sim_params(const mxu_hw_config *cfg, char *buf, size_t len)
{
    snprintf(buf, len,
             "-GROWS=%u -GCOLS=%u -GUB_LINES=%u -GACC_ROWS=%u -GWB_LINES=%u -GPARAM_LINES=%u "
             "-GDRAM_BYTES=%u -GDRAM_BEAT_BYTES=%u -GQUEUE_DEPTH=%u -GTOKEN_MAX=%u",
             cfg->rows, cfg->cols, cfg->ub_lines, cfg->acc_rows, cfg->wb_lines, cfg->param_lines,
             cfg->dram_bytes, cfg->dram_beat_bytes, cfg->queue_depth, cfg->token_max);
}

void mxu_sim_dir(const mxu_hw_config *cfg, const char *env_var, const char *kind, char *buf, size_t len)
{
    char name[160];
    mxu_config_name(cfg, name, sizeof name);
    const char *env = getenv(env_var);
    if (env && *env)
        snprintf(buf, len, "%s/%s", env, name);
    else
        snprintf(buf, len, "%s/%s/%s", MXU_BUILD_DIR, kind, name);
}

int mxu_sim_mkdirs(const char *backend, const char *path)
{
    char tmp[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return mxu_fail(MXU_ERR_INVAL, "%s: bad directory '%s'", backend, path);
    memcpy(tmp, path, n + 1);
    for (char *s = tmp + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(tmp, 0777) && errno != EEXIST)
                return mxu_fail(MXU_ERR_IO, "%s: cannot create %s: %s", backend, tmp, strerror(errno));
            *s = c;
            if (!c)
                break;
        }
    }
    return MXU_OK;
}

void mxu_sim_log_tail(const char *path, int lines, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char tail[2048];
    size_t got = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        long from = size > (long)sizeof tail - 1 ? size - (long)sizeof tail + 1 : 0;
        if (fseek(f, from, SEEK_SET) == 0)
            got = fread(tail, 1, sizeof tail - 1, f);
    }
    fclose(f);
    tail[got] = 0;
    while (got && (tail[got - 1] == '\n' || tail[got - 1] == '\r'))
        tail[--got] = 0;
    /* walk back `lines` newlines */
    size_t start = got;
    for (int seen = 0; start > 0; start--) {
        if (tail[start - 1] == '\n' && ++seen == lines)
            break;
    }
    size_t o = 0;
    for (size_t i = start; i < got && o + 1 < len; i++)
        buf[o++] = tail[i] == '\n' ? '|' : tail[i];
    buf[o] = 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void child_exec(char *const argv[], const char *cwd, const char *log_path)
{
    int devnull = open("/dev/null", O_RDONLY);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (devnull >= 0)
        dup2(devnull, 0);
    if (log >= 0) {
        dup2(log, 1);
        dup2(log, 2);
    }
    if (cwd && chdir(cwd))
        _exit(126);
    /* a make above us (make test) must not hand its jobserver to this one */
    unsetenv("MAKEFLAGS");
    unsetenv("MFLAGS");
    unsetenv("MAKELEVEL");
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int mxu_sim_run(const char *backend, char *const argv[], const char *cwd, const char *log_path,
                double timeout_s, int *status)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return mxu_fail(MXU_ERR_BACKEND, "%s: fork failed: %s", backend, strerror(errno));
    if (pid == 0)
        child_exec(argv, cwd, log_path);
    double deadline = timeout_s > 0 ? now_seconds() + timeout_s : 0;
    struct timespec nap = {0, 2000000}; /* 2 ms, growing to 50 ms */
    for (;;) {
        int ws;
        pid_t r = waitpid(pid, &ws, WNOHANG);
        if (r == pid) {
            *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
            return MXU_OK;
        }
        if (r < 0 && errno != EINTR)
            return mxu_fail(MXU_ERR_BACKEND, "%s: waitpid failed: %s", backend, strerror(errno));
        if (deadline && now_seconds() > deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
            return mxu_fail(MXU_ERR_TIMEOUT, "%s: %s did not finish within %.0f s (killed)", backend, argv[0],
                            timeout_s);
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 50000000)
            nap.tv_nsec += nap.tv_nsec / 2;
    }
}

/* Exclusive lock on dir/.build.lock (released by closing the fd). */
static int lock_dir(const char *backend, const char *dir, int *fd_out)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/.build.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0666);
    if (fd < 0)
        return mxu_fail(MXU_ERR_IO, "%s: cannot open %s: %s", backend, path, strerror(errno));
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    while (fcntl(fd, F_SETLKW, &fl) < 0) {
        if (errno != EINTR) {
            close(fd);
            return mxu_fail(MXU_ERR_IO, "%s: cannot lock %s: %s", backend, path, strerror(errno));
        }
    }
    *fd_out = fd;
    return MXU_OK;
}

/* Is any source the simulator is built from newer than mtime? Entries are paths
 * relative to the source tree; an entry "DIR/" followed by "*.v" means every .v file of DIR. */
static int sources_newer(const char *const *sources, const struct timespec *built)
{
    char path[1200];
    struct stat st;
    for (const char *const *s = sources; *s; s++) {
        size_t n = strlen(*s);
        if (n > 4 && !strcmp(*s + n - 4, "/*.v")) {
            snprintf(path, sizeof path, "%s/%.*s", MXU_SOURCE_DIR, (int)(n - 4), *s);
            DIR *d = opendir(path);
            if (!d)
                continue;
            struct dirent *e;
            int newer = 0;
            while (!newer && (e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l < 3 || strcmp(e->d_name + l - 2, ".v"))
                    continue;
                char file[1500];
                snprintf(file, sizeof file, "%s/%s", path, e->d_name);
                newer = stat(file, &st) == 0 && (st.st_mtim.tv_sec > built->tv_sec ||
                                                 (st.st_mtim.tv_sec == built->tv_sec &&
                                                  st.st_mtim.tv_nsec > built->tv_nsec));
            }
            closedir(d);
            if (newer)
                return 1;
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", MXU_SOURCE_DIR, *s);
        if (stat(path, &st) == 0 && (st.st_mtim.tv_sec > built->tv_sec ||
                                     (st.st_mtim.tv_sec == built->tv_sec && st.st_mtim.tv_nsec > built->tv_nsec)))
            return 1;
    }
    return 0;
}

/* Present, and not older than the sources when the source tree is here. */
static int up_to_date(const char *file, const char *const *sources)
{
    struct stat st;
    if (stat(file, &st))
        return 0;
    return !sources || !sources_newer(sources, &st.st_mtim);
}

int mxu_sim_ensure_built(const char *backend, const char *file, const char *dir, const char *target,
                         const char *dir_var, const char *params, const char *extra, const char *const *sources)
{
    if (up_to_date(file, sources))
        return MXU_OK;
    int rc = mxu_sim_mkdirs(backend, dir);
    if (rc)
        return rc;
    int lock = -1;
    if ((rc = lock_dir(backend, dir, &lock)))
        return rc;
    if (up_to_date(file, sources)) /* built by another process while we waited */
        goto out;
    char src_makefile[1100];
    snprintf(src_makefile, sizeof src_makefile, "%s/Makefile", MXU_SOURCE_DIR);
    if (access(src_makefile, R_OK)) {
        if (access(file, R_OK) == 0) /* no tree to rebuild from: use what is there */
            goto out;
        rc = mxu_fail(MXU_ERR_BACKEND, "%s: %s is missing and the source tree %s (to build it) is not there",
                      backend, file, MXU_SOURCE_DIR);
        goto out;
    }
    char log_path[1100], dir_arg[1200], params_arg[600];
    snprintf(log_path, sizeof log_path, "%s/build.log", dir);
    snprintf(dir_arg, sizeof dir_arg, "%s=%s", dir_var, dir);
    snprintf(params_arg, sizeof params_arg, "RTL_PARAMS=%s", params);
    unlink(log_path);
    char *argv[] = {"make", "--no-print-directory", "-C", (char *)MXU_SOURCE_DIR, (char *)target, dir_arg,
                    params_arg, (char *)extra, NULL};
    int status = 0;
    rc = mxu_sim_run(backend, argv, NULL, log_path, 3600, &status);
    if (rc)
        goto out;
    if (status != 0 || access(file, R_OK)) {
        char tail[600];
        mxu_sim_log_tail(log_path, 6, tail, sizeof tail);
        rc = mxu_fail(MXU_ERR_BACKEND, "%s: building %s failed (make exit %d, log %s): %s", backend, file, status,
                      log_path, tail);
    }
out:
    close(lock);
    return rc;
}
