/* Measuring the points of a sweep: one configuration's programs on the chosen
 * backend (and, for a backend other than the model, the model's prediction of
 * the same programs), and all of them in process or in child processes, with
 * progress on stderr. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mxu_error.h"
#include "mxu_execute.h"
#include "sweep.h"

double sweep_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sweep_result_clear(struct sweep_result *r)
{
    struct sweep_area area = r->area;
    free(r->layers);
    memset(r, 0, sizeof *r);
    r->area = area;
}

void sweep_total(const struct sweep_result *r, const mxu_hw_config *cfg, struct sweep_total *t)
{
    memset(t, 0, sizeof *t);
    t->model_cycles = -1;
    for (uint32_t i = 0; i < r->n_layers; i++) {
        const struct sweep_layer *l = &r->layers[i];
        t->macs += l->macs, t->cycles += l->cycles, t->ideal += l->ideal, t->scalesim += l->scalesim;
        t->dram_rd += l->dram_rd, t->dram_wr += l->dram_wr;
        if (l->model_cycles >= 0)
            t->model_cycles = (t->model_cycles < 0 ? 0 : t->model_cycles) + l->model_cycles;
    }
    t->utilization = t->cycles ? (double)t->macs / ((double)t->cycles * cfg->rows * cfg->cols) : 0;
}

/* ---- one configuration ------------------------------------------------------------- */

static void fill_layer(struct sweep_layer *l, const char *name, uint32_t op, int on_host, uint64_t macs,
                       const mxu_counters *c, uint64_t scalesim, const mxu_hw_config *cfg, int as_model)
{
    if (as_model) {
        l->model_cycles = on_host ? 0 : (int64_t)c->cycles;
        return;
    }
    uint64_t pes = (uint64_t)cfg->rows * cfg->cols;
    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->op, sizeof l->op, "%s", mxu_layer_op_name(op));
    l->on_host = on_host;
    l->macs = macs;
    l->cycles = on_host ? 0 : c->cycles;
    l->ideal = on_host ? 0 : (macs + pes - 1) / pes;
    l->scalesim = on_host ? 0 : scalesim;
    l->dram_rd = on_host ? 0 : c->dram_rd_bytes;
    l->dram_wr = on_host ? 0 : c->dram_wr_bytes;
    l->model_cycles = -1;
}

static int run_network(mxu_device *dev, const mxu_program *p, const mxu_hw_config *cfg, struct sweep_result *res,
                       int as_model)
{
    struct mxu_layer_stats *st = calloc(p->n_layers ? p->n_layers : 1, sizeof *st);
    if (!st)
        return mxu_fail(MXU_ERR_NOMEM, "layer statistics");
    int rc = mxu_program_load(dev, p);
    if (rc == MXU_OK)
        rc = mxu_program_execute(dev, p, 0, st, NULL);
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_layers; i++)
        fill_layer(&res->layers[i], p->layers[i].name, p->layers[i].op, st[i].on_host, st[i].macs, &st[i].counters,
                   mxu_scalesim_layer_cycles(p, i, cfg->rows, cfg->cols), cfg, as_model);
    free(st);
    return rc;
}

static int run_layer_program(mxu_device *dev, const mxu_program *p, const struct mxu_layer_desc *d,
                             const mxu_hw_config *cfg, struct sweep_layer *l, int as_model)
{
    mxu_counters c;
    int rc = mxu_program_load(dev, p);
    if (rc == MXU_OK)
        rc = mxu_program_run(dev, p, 0, &c);
    if (rc == MXU_OK)
        fill_layer(l, d->name, d->op, 0, mxu_layer_desc_macs(d), &c, mxu_scalesim_desc_cycles(d, cfg->rows, cfg->cols),
                   cfg, as_model);
    return rc;
}

static int run_backend(const struct sweep *s, const struct sweep_point *pt, const char *backend,
                       const struct sweep_programs *pg, struct sweep_result *res, int as_model)
{
    char uri[800];
    mxu_device *dev = NULL;
    sweep_uri(s, pt, backend, uri, sizeof uri);
    double t0 = sweep_now();
    int rc = mxu_open(uri, &dev);
    if (!as_model)
        res->open_seconds = sweep_now() - t0;
    if (rc == MXU_OK && s->work.kind == SWEEP_NETWORK)
        rc = run_network(dev, pg->progs[0], &pt->cfg, res, as_model);
    for (uint32_t i = 0; rc == MXU_OK && s->work.kind == SWEEP_TOPOLOGY && i < pg->n; i++) {
        rc = run_layer_program(dev, pg->progs[i], &s->work.topo->layers[i], &pt->cfg, &res->layers[i], as_model);
        if (rc) {
            char detail[500];
            snprintf(detail, sizeof detail, "%s", mxu_error_detail());
            rc = mxu_fail(rc, "layer '%s': %s", s->work.topo->layers[i].name, detail);
        }
    }
    mxu_close(dev);
    if (rc) {
        char detail[500];
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        rc = mxu_fail(rc, "%s backend: %s", backend, detail);
    }
    return rc;
}

void sweep_measure(const struct sweep *s, const struct sweep_point *pt, struct sweep_programs *progs,
                   struct sweep_result *res)
{
    struct sweep_programs local = {0, NULL};
    sweep_result_clear(res);
    res->done = 1;
    int rc = MXU_OK;
    if (!progs) {
        double t = sweep_now();
        rc = sweep_programs_build(&s->work, &pt->cfg, &local);
        progs = &local;
        res->compile_seconds = sweep_now() - t;
    }
    if (rc == MXU_OK) {
        res->n_layers = s->work.kind == SWEEP_NETWORK ? progs->progs[0]->n_layers : progs->n;
        res->layers = calloc(res->n_layers ? res->n_layers : 1, sizeof *res->layers);
        if (!res->layers)
            rc = mxu_fail(MXU_ERR_NOMEM, "results");
    }
    double t0 = sweep_now();
    if (rc == MXU_OK)
        rc = run_backend(s, pt, s->backend, progs, res, 0);
    res->seconds = sweep_now() - t0;
    if (rc == MXU_OK && strcmp(s->backend, "model")) {
        t0 = sweep_now();
        rc = run_backend(s, pt, "model", progs, res, 1);
        res->model_seconds = sweep_now() - t0;
    }
    if (rc) {
        char detail[500];
        double compile = res->compile_seconds;
        snprintf(detail, sizeof detail, "%s", mxu_error_detail());
        sweep_result_clear(res);
        res->done = 1;
        res->compile_seconds = compile;
        snprintf(res->error, sizeof res->error, "%s: %s", mxu_strerror(rc), detail);
    } else {
        res->ok = 1;
    }
    sweep_programs_free(&local);
}

/* ---- all of them, with progress ---------------------------------------------------- */

struct run_ctx {
    struct sweep *s;
    size_t *todo, n_todo, finished;
    double start;
};

static void fmt_duration(double s, char *buf, size_t len)
{
    if (s < 60)
        snprintf(buf, len, "%.1f s", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

static void progress(struct run_ctx *c, size_t i)
{
    const struct sweep_point *pt = &c->s->points[i];
    const struct sweep_result *r = &c->s->results[i];
    char el[32], eta[32], took[80], built[32];
    c->finished++;
    double elapsed = sweep_now() - c->start;
    fmt_duration(elapsed, el, sizeof el);
    fmt_duration(elapsed / (double)c->finished * (double)(c->n_todo - c->finished), eta, sizeof eta);
    fmt_duration(r->compile_seconds + r->seconds + r->model_seconds, took, sizeof took);
    if (r->open_seconds >= 5) { /* a new simulator was built */
        fmt_duration(r->open_seconds, built, sizeof built);
        size_t n = strlen(took);
        snprintf(took + n, sizeof took - n, ", %s of it building %s", built, c->s->backend);
    }
    if (c->s->quiet)
        return;
    if (r->ok) {
        struct sweep_total t;
        sweep_total(r, &pt->cfg, &t);
        fprintf(stderr, "[%zu/%zu] %-24s %12" PRIu64 " cycles %5.1f%%  (%s)   elapsed %s, ETA %s\n", c->finished,
                c->n_todo, pt->label, t.cycles, 100 * t.utilization, took, el, eta);
    } else {
        fprintf(stderr, "[%zu/%zu] %-24s FAILED: %s   elapsed %s, ETA %s\n", c->finished, c->n_todo, pt->label,
                r->error, el, eta);
    }
}

static void run_in_process(struct run_ctx *c)
{
    struct sweep *s = c->s;
    struct sweep_programs progs = {0, NULL};
    mxu_hw_config built;
    int have = 0;
    char path[1400];
    for (size_t k = 0; k < c->n_todo; k++) {
        size_t i = c->todo[k];
        const struct sweep_point *pt = &s->points[i];
        struct sweep_result *r = &s->results[i];
        double compile = 0;
        if (!have || memcmp(&built, &pt->cfg, sizeof built)) { /* bandwidths share a compiled program */
            double t = sweep_now();
            sweep_programs_free(&progs);
            have = sweep_programs_build(&s->work, &pt->cfg, &progs) == MXU_OK;
            built = pt->cfg;
            compile = sweep_now() - t;
        }
        sweep_measure(s, pt, have ? &progs : NULL, r);
        if (have)
            r->compile_seconds = compile;
        if (sweep_cache_write(s, pt, r)) {
            sweep_run_path(s, pt, path, sizeof path);
            fprintf(stderr, "mxu sweep: cannot write %s: %s\n", path, mxu_error_detail());
        }
        progress(c, i);
    }
    sweep_programs_free(&progs);
}

static pid_t start_child(void *ctx, size_t item)
{
    struct run_ctx *c = ctx;
    struct sweep *s = c->s;
    size_t i = c->todo[item];
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        struct sweep_result *r = &s->results[i];
        r->done = 1;
        snprintf(r->error, sizeof r->error, "fork failed");
        progress(c, i);
        return -1;
    }
    if (pid == 0) {
        struct sweep_result r;
        memset(&r, 0, sizeof r);
        sweep_pool_child_setup();
        sweep_measure(s, &s->points[i], NULL, &r);
        int rc = sweep_cache_write(s, &s->points[i], &r);
        _exit(rc ? 4 : r.ok ? 0 : 3);
    }
    return pid;
}

static void child_done(void *ctx, size_t item, int status, double seconds, int timed_out)
{
    struct run_ctx *c = ctx;
    size_t i = c->todo[item];
    struct sweep_result *r = &c->s->results[i];
    (void)timed_out;
    if (sweep_cache_read(c->s, &c->s->points[i], r)) {
        r->cached = 0;
    } else {
        sweep_result_clear(r);
        r->done = 1;
        r->seconds = seconds;
        if (!sweep_cache_read_error(c->s, &c->s->points[i], r->error, sizeof r->error)) {
            if (status >= 0 && WIFSIGNALED(status))
                snprintf(r->error, sizeof r->error, "the measuring process died of signal %d", WTERMSIG(status));
            else
                snprintf(r->error, sizeof r->error, "the measuring process exited with status %d and no result",
                         status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
    }
    progress(c, i);
}

int sweep_run_all(struct sweep *s)
{
    struct run_ctx c = {s, calloc(s->n_points ? s->n_points : 1, sizeof(size_t)), 0, 0, 0};
    if (!c.todo)
        return mxu_fail(MXU_ERR_NOMEM, "sweep");
    size_t cached = 0;
    for (size_t i = 0; i < s->n_points; i++) {
        if (sweep_cache_read(s, &s->points[i], &s->results[i]))
            cached++;
        else
            c.todo[c.n_todo++] = i;
    }
    if (!s->quiet)
        fprintf(stderr, "mxu sweep: %zu configuration%s of %s '%s' on %s: %zu cached in %s/runs, %zu to run%s\n",
                s->n_points, s->n_points == 1 ? "" : "s", sweep_kind_name(s->work.kind), s->work.name, s->backend, cached, s->out_dir, c.n_todo,
                c.n_todo && s->jobs > 1 ? " in child processes" : "");
    c.start = sweep_now();
    int rc = MXU_OK;
    if (s->jobs <= 1)
        run_in_process(&c);
    else
        rc = sweep_pool_run(c.n_todo, s->jobs, 0, start_child, child_done, &c);
    s->run_seconds = sweep_now() - c.start;
    free(c.todo);
    return rc;
}
