/* Child processes for a sweep: at most `jobs` at a time, each in its own
 * process group so a deadline (or Ctrl-C) can kill it with everything it
 * started (make, verilator, yosys). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mxu_error.h"
#include "sweep.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int sweep_interrupted(void)
{
    return stop_requested != 0;
}

void sweep_pool_child_setup(void)
{
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

struct slot {
    pid_t pid;
    size_t item;
    double started;
};

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void kill_group(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

/* Reap finished children; kill those past the deadline. Returns how many ended. */
static unsigned reap(struct slot *slots, unsigned *running, double timeout, sweep_done_fn done, void *ctx)
{
    unsigned ended = 0;
    for (unsigned j = 0; j < *running;) {
        int status = 0, timed_out = 0;
        double now = sweep_now();
        pid_t r = waitpid(slots[j].pid, &status, WNOHANG);
        if (r == 0 && timeout > 0 && now - slots[j].started > timeout) {
            kill_group(slots[j].pid);
            r = waitpid(slots[j].pid, &status, 0);
            timed_out = 1;
        }
        if (r == 0 || (r < 0 && errno == EINTR)) {
            j++;
            continue;
        }
        done(ctx, slots[j].item, r < 0 ? -1 : status, now - slots[j].started, timed_out);
        slots[j] = slots[--*running];
        ended++;
    }
    return ended;
}

int sweep_pool_run(size_t n, unsigned jobs, double timeout, sweep_start_fn start, sweep_done_fn done, void *ctx)
{
    struct slot *slots = calloc(jobs ? jobs : 1, sizeof *slots);
    if (!slots)
        return mxu_fail(MXU_ERR_NOMEM, "job slots");
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    unsigned running = 0;
    size_t next = 0;
    int rc = MXU_OK;
    while ((next < n || running) && !stop_requested) {
        while (next < n && running < (jobs ? jobs : 1) && !stop_requested) {
            pid_t pid = start(ctx, next);
            if (pid > 0) {
                setpgid(pid, pid); /* also here: no race with the child's own call */
                slots[running++] = (struct slot){pid, next, sweep_now()};
            }
            next++;
        }
        if (!reap(slots, &running, timeout, done, ctx))
            sleep_ms(20);
    }
    if (stop_requested) {
        for (unsigned j = 0; j < running; j++) {
            kill_group(slots[j].pid);
            waitpid(slots[j].pid, NULL, 0);
        }
        rc = mxu_fail(MXU_ERR_IO, "interrupted (finished configurations are kept and reused by a rerun)");
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(slots);
    return rc;
}
