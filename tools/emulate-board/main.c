/* mxu-emulate-board: run a command with an emulated mxu board attached by
 * USB: an FTDI FT232H (0403:6014) presented through umockdev whose byte
 * stream is the Verilated link engine in front of the accelerator. The
 * command is unmodified; it runs under umockdev's preload library.
 *
 *   mxu-emulate-board --arch rows=4,cols=4 -- mxu run P.mxp --backend usb --check
 *
 * Exit status: the command's (128+N when killed by signal N), 124 when
 * --timeout ran out, 125 when the board could not be set up, 127 when the
 * command could not be started. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "board.h"

enum { EXIT_TIMEOUT = 124, EXIT_HARNESS = 125, EXIT_NOEXEC = 127 };

extern char **environ;

/* The harness keeps glib's and umockdev's one-time allocations to the end:
 * no leak report from a sanitizer build (SAN=1). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

static const char usage_text[] =
    "usage: mxu-emulate-board [OPTIONS] -- COMMAND [ARGS...]\n"
    "  Run COMMAND with an emulated mxu board attached by USB (an FTDI FT232H,\n"
    "  0403:6014, in synchronous FIFO mode) whose FPGA is the Verilated RTL.\n"
    "options:\n"
    "  --arch KEY=V,...    accelerator configuration (rows=4,cols=4, 8x8, ...; default 16x16)\n"
    "  --option KEY=V,...  simulation options: latency=, bw= (DRAM model), link_rate=,\n"
    "                      array=model (the array's functional model, faster), trace=FILE\n"
    "  --serial S          the board's serial string (default MXU00001)\n"
    "  --ft2232h           present an FT2232H (0403:6010, FIFO on channel A), not an FT232H\n"
    "  --second-board S    also attach a second FT232H, serial S, at address 3 (an echo\n"
    "                      board: for discovery among several boards)\n"
    "  --fault KIND[,after=BYTES][,every=BYTES][,code=N]\n"
    "                      inject a fault: unplug, stall, stall-out, corrupt, corrupt-out,\n"
    "                      device-error, hang (after = bytes from the host first;\n"
    "                      docs/usb.md)\n"
    "  --echo              no RTL: the board echoes every byte (transport tests)\n"
    "  --timeout SECONDS   kill COMMAND after this long (exit 124)\n"
    "  --verbose           log chip requests, faults and traffic to stderr\n";

struct args {
    const char *arch, *options, *serial, *second_serial;
    struct fault fault;
    int echo, verbose, ft2232h;
    double timeout_s;
    char **command;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->arch = "";
    a->options = "";
    a->serial = "MXU00001";
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        char err[200];
        if (!strcmp(arg, "--")) {
            a->command = argv + i + 1;
            break;
        } else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (!strcmp(arg, "--echo")) {
            a->echo = 1;
        } else if (!strcmp(arg, "--verbose")) {
            a->verbose = 1;
        } else if (!strcmp(arg, "--ft2232h")) {
            a->ft2232h = 1;
        } else if (!val) {
            fprintf(stderr, "mxu-emulate-board: %s needs a value (or is unknown)\n", arg);
            return -1;
        } else if (!strcmp(arg, "--arch")) {
            a->arch = argv[++i];
        } else if (!strcmp(arg, "--option")) {
            a->options = argv[++i];
        } else if (!strcmp(arg, "--serial")) {
            a->serial = argv[++i];
        } else if (!strcmp(arg, "--second-board")) {
            a->second_serial = argv[++i];
        } else if (!strcmp(arg, "--timeout")) {
            char *end;
            a->timeout_s = strtod(argv[++i], &end);
            if (*end || a->timeout_s <= 0) {
                fprintf(stderr, "mxu-emulate-board: --timeout needs seconds > 0, not '%s'\n", argv[i]);
                return -1;
            }
        } else if (!strcmp(arg, "--fault")) {
            if (fault_parse(argv[++i], &a->fault, err, sizeof err)) {
                fprintf(stderr, "mxu-emulate-board: %s\n", err);
                return -1;
            }
        } else {
            fprintf(stderr, "mxu-emulate-board: unknown option '%s'\n%s", arg, usage_text);
            return -1;
        }
    }
    if (!a->command || !a->command[0]) {
        fprintf(stderr, "mxu-emulate-board: no command (put it after --)\n%s", usage_text);
        return -1;
    }
    if (strlen(a->serial) > 60 || (a->second_serial && strlen(a->second_serial) > 60)) {
        fprintf(stderr, "mxu-emulate-board: --serial is at most 60 characters\n");
        return -1;
    }
    return 0;
}

/* environ with umockdev's preload library first in LD_PRELOAD; a sanitizer
 * build of the command must then accept not being first. */
static char **child_environment(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    if (!env)
        return NULL;
    const char *preload = getenv("LD_PRELOAD"), *asan = getenv("ASAN_OPTIONS");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "ASAN_OPTIONS=", 13))
            env[k++] = environ[i];
    char *p = malloc(64 + (preload ? strlen(preload) : 0));
    char *o = malloc(64 + (asan ? strlen(asan) : 0));
    if (!p || !o) {
        free(p), free(o), free(env);
        return NULL;
    }
    sprintf(p, "LD_PRELOAD=libumockdev-preload.so.0%s%s", preload && *preload ? ":" : "", preload ? preload : "");
    sprintf(o, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "");
    env[k++] = p;
    env[k++] = o;
    env[k] = NULL;
    return env;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Run the command to its end; its exit status, as a shell reports it. */
static int run_command(const struct args *a)
{
    char **env = child_environment();
    if (!env) {
        fprintf(stderr, "mxu-emulate-board: out of memory\n");
        return EXIT_HARNESS;
    }
    pid_t pid;
    int rc = posix_spawnp(&pid, a->command[0], NULL, NULL, a->command, env);
    /* the two strings we added sit after the inherited ones */
    size_t n = 0;
    while (env[n])
        n++;
    free(env[n - 1]);
    free(env[n - 2]);
    free(env);
    if (rc) {
        fprintf(stderr, "mxu-emulate-board: cannot run %s: %s\n", a->command[0], strerror(rc));
        return EXIT_NOEXEC;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int status, timed_out = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            perror("mxu-emulate-board: waitpid");
            return EXIT_HARNESS;
        }
        if (got_signal) {
            kill(pid, got_signal);
            got_signal = 0;
        }
        if (a->timeout_s > 0 && !timed_out && seconds_since(&t0) > a->timeout_s) {
            fprintf(stderr, "mxu-emulate-board: %s did not finish in %g s: killed\n", a->command[0], a->timeout_s);
            kill(pid, SIGKILL);
            timed_out = 1;
        }
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    if (timed_out)
        return EXIT_TIMEOUT;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* --second-board: an echo FT232H beside the first one, on the same testbed. */
static int start_second_board(const struct args *a, struct board *first, struct board **out)
{
    struct board_engine echo;
    char err[600];
    struct board_options o = {.serial = a->second_serial, .product = "mxu emulated board (echo)",
                              .verbose = a->verbose, .address = 3};
    if (engine_echo_create(&echo)) {
        fprintf(stderr, "mxu-emulate-board: out of memory\n");
        return -1;
    }
    if (board_start(&o, &echo, first, out, err, sizeof err)) {
        fprintf(stderr, "mxu-emulate-board: second board: %s\n", err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    if (parse_args(argc, argv, &a))
        return EXIT_HARNESS;
    struct board_engine engine;
    char err[600];
    if (a.echo ? engine_echo_create(&engine) && snprintf(err, sizeof err, "out of memory")
               : engine_rtl_create(&engine, a.arch, a.options, err, sizeof err)) {
        fprintf(stderr, "mxu-emulate-board: %s\n", err);
        return EXIT_HARNESS;
    }
    struct board_options bo = {.serial = a.serial, .product = "mxu emulated board", .fault = a.fault,
                               .verbose = a.verbose, .ft2232h = a.ft2232h};
    struct board *b, *second = NULL;
    if (board_start(&bo, &engine, NULL, &b, err, sizeof err)) {
        fprintf(stderr, "mxu-emulate-board: %s\n", err);
        return EXIT_HARNESS;
    }
    if (a.second_serial && start_second_board(&a, b, &second)) {
        board_stop(b);
        return EXIT_HARNESS;
    }
    int rc = run_command(&a);
    if (second)
        board_stop(second);
    board_halt(b);
    if (a.verbose)
        board_report(b, stderr);
    board_stop(b);
    return rc;
}
