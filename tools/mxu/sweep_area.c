/* Area of each hardware configuration of a sweep, from the synthesis script
 * scripts/synth_area.sh ROWS COLS UB_LINES ACC_ROWS WB_LINES PARAM_LINES (yosys;
 * one JSON line: generic cells, flip-flops, memory bits, a transistor estimate,
 * and 7-series LUT/FF/DSP/BRAM). The script caches its runs under build/synth/;
 * its answers are kept in DIR/area/. Nothing here estimates an area itself: a
 * configuration whose synthesis is missing, failed or too slow has none, and
 * the sweep says so. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mxu_error.h"
#include "sweep.h"

#ifndef MXU_SOURCE_DIR
#define MXU_SOURCE_DIR "."
#endif

/* Transistors per SRAM bit in the default area figure (a 6T cell, no periphery). */
#define SRAM_TRANSISTORS_PER_BIT 6

struct area_ctx {
    struct sweep *s;
    const char *script;
    size_t *group_of;  /* point -> first point of the same area configuration */
    size_t *groups, n_groups, finished;
    double start;
};

static void area_name(const mxu_hw_config *c, char *buf, size_t len)
{
    snprintf(buf, len, "%ux%u-ub%u-acc%u-wb%u-par%u", c->rows, c->cols, c->ub_lines, c->acc_rows, c->wb_lines,
             c->param_lines);
}

static int same_area_config(const mxu_hw_config *a, const mxu_hw_config *b)
{
    return a->rows == b->rows && a->cols == b->cols && a->ub_lines == b->ub_lines && a->acc_rows == b->acc_rows &&
           a->wb_lines == b->wb_lines && a->param_lines == b->param_lines;
}

double sweep_area_value(const struct sweep *s, const struct sweep_area *a)
{
    const char *m = s->area_metric ? s->area_metric : "area";
    if (a->status != AREA_OK)
        return -1;
    if (!strcmp(m, "cells"))
        return (double)a->cells;
    if (!strcmp(m, "lut"))
        return (double)a->lut;
    if (!strcmp(m, "transistors"))
        return (double)a->transistors;
    if (a->transistors < 0 || a->mem_bits < 0)
        return -1;
    return (double)a->transistors + SRAM_TRANSISTORS_PER_BIT * (double)a->mem_bits;
}

const char *sweep_area_metric_label(const char *metric)
{
    if (!metric || !strcmp(metric, "area"))
        return "area (logic transistors + 6 per SRAM bit, yosys generic)";
    if (!strcmp(metric, "cells"))
        return "yosys generic cells (memories whole)";
    if (!strcmp(metric, "lut"))
        return "7-series LUTs (yosys synth_xilinx)";
    return "logic transistors (yosys generic, memories excluded)";
}

static void area_paths(const struct area_ctx *c, size_t point, char *out, size_t olen, char *log, size_t llen)
{
    char name[160];
    area_name(&c->s->points[point].cfg, name, sizeof name);
    snprintf(out, olen, "%s/area/%s.json", c->s->out_dir, name);
    snprintf(log, llen, "%s/area/%s.log", c->s->out_dir, name);
}

static pid_t start_synth(void *ctx, size_t item)
{
    struct area_ctx *c = ctx;
    size_t p = c->groups[item];
    const mxu_hw_config *cfg = &c->s->points[p].cfg;
    char out[1400], log[1400], a[6][16];
    area_paths(c, p, out, sizeof out, log, sizeof log);
    snprintf(a[0], sizeof a[0], "%u", cfg->rows);
    snprintf(a[1], sizeof a[1], "%u", cfg->cols);
    snprintf(a[2], sizeof a[2], "%u", cfg->ub_lines);
    snprintf(a[3], sizeof a[3], "%u", cfg->acc_rows);
    snprintf(a[4], sizeof a[4], "%u", cfg->wb_lines);
    snprintf(a[5], sizeof a[5], "%u", cfg->param_lines);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sweep_pool_child_setup();
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), fl = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fi = open("/dev/null", O_RDONLY);
    if (fo < 0 || fl < 0 || fi < 0)
        _exit(126);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fl, 2);
    execlp("bash", "bash", c->script, a[0], a[1], a[2], a[3], a[4], a[5], c->s->area_generic ? "--no-xilinx" : NULL,
           (char *)NULL);
    fprintf(stderr, "cannot run bash %s: %s\n", c->script, strerror(errno));
    _exit(127);
}

static int64_t count(const struct sj *o, const char *key)
{
    const struct sj *v = sj_get(o, key);
    return v && v->type == SJ_NUMBER ? v->integer : -1;
}

/* The last JSON line of the script's output. */
static int parse_answer(const char *path, struct sweep_area *a)
{
    FILE *f = fopen(path, "r");
    char line[4096], last[4096] = "";
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (line[0] == '{')
            snprintf(last, sizeof last, "%s", line);
    fclose(f);
    struct sj o;
    if (!last[0] || sj_parse(last, strlen(last), &o, NULL))
        return -1;
    a->cells = count(&o, "cells");
    a->ff_generic = count(&o, "ff_generic");
    a->mem_bits = count(&o, "mem_bits");
    a->transistors = count(&o, "transistors");
    a->lut = count(&o, "lut");
    a->ff = count(&o, "ff");
    a->dsp = count(&o, "dsp");
    a->bram = count(&o, "bram");
    a->lutram = count(&o, "lutram");
    a->seconds = sj_num(&o, "seconds", 0);
    sj_free(&o);
    return a->cells < 0 ? -1 : 0;
}

static void synth_done(void *ctx, size_t item, int status, double seconds, int timed_out)
{
    struct area_ctx *c = ctx;
    size_t p = c->groups[item];
    struct sweep_area a;
    char out[1400], log[1400];
    memset(&a, 0, sizeof a);
    area_paths(c, p, out, sizeof out, log, sizeof log);
    if (timed_out) {
        a.status = AREA_FAILED;
        snprintf(a.note, sizeof a.note, "synthesis stopped after %.0f s (--area-timeout); see %.300s", seconds, log);
    } else if (status != 0 || parse_answer(out, &a)) {
        char tail[300] = "";
        FILE *f = fopen(log, "r");
        if (f) {
            char line[300];
            while (fgets(line, sizeof line, f))
                if (line[0] != '\n')
                    snprintf(tail, sizeof tail, "%s", line);
            fclose(f);
        }
        tail[strcspn(tail, "\n")] = 0;
        a.status = AREA_FAILED;
        snprintf(a.note, sizeof a.note, "synthesis failed (exit %d, %.150s): %.200s",
                 status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, log, tail);
    } else {
        a.status = AREA_OK;
    }
    for (size_t i = 0; i < c->s->n_points; i++)
        if (c->group_of[i] == p)
            c->s->results[i].area = a;
    c->finished++;
    if (!c->s->quiet) {
        char name[160];
        area_name(&c->s->points[p].cfg, name, sizeof name);
        char fpga[80] = "";
        if (a.lut >= 0)
            snprintf(fpga, sizeof fpga, ", %lld LUT %lld DSP %lld BRAM", (long long)a.lut, (long long)a.dsp,
                     (long long)a.bram);
        if (a.status == AREA_OK)
            fprintf(stderr, "[area %zu/%zu] %-34s %lld cells, %lld transistors, %lld memory bits%s  (%.0f s)   "
                    "elapsed %.0f s\n", c->finished, c->n_groups, name, (long long)a.cells, (long long)a.transistors,
                    (long long)a.mem_bits, fpga, seconds, sweep_now() - c->start);
        else
            fprintf(stderr, "[area %zu/%zu] %-34s no area: %s\n", c->finished, c->n_groups, name, a.note);
    }
}

static void set_all(struct sweep *s, enum sweep_area_status st, const char *note)
{
    for (size_t i = 0; i < s->n_points; i++) {
        s->results[i].area.status = st;
        snprintf(s->results[i].area.note, sizeof s->results[i].area.note, "%s", note);
    }
}

int sweep_area_all(struct sweep *s)
{
    static char script[1200];
    const char *env = getenv("MXU_SYNTH_AREA");
    snprintf(script, sizeof script, "%s", env && *env ? env : MXU_SOURCE_DIR "/scripts/synth_area.sh");
    if (s->no_area) {
        snprintf(s->area_source, sizeof s->area_source, "none: skipped (--no-area)");
        set_all(s, AREA_NONE, "skipped (--no-area)");
        return MXU_OK;
    }
    if (access(script, R_OK)) {
        snprintf(s->area_source, sizeof s->area_source,
                 "none: %s is not there (the yosys area script); nothing was estimated", script);
        set_all(s, AREA_NONE, "no area script");
        return MXU_OK;
    }
    snprintf(s->area_source, sizeof s->area_source,
             "%.1000s ROWS COLS UB_LINES ACC_ROWS WB_LINES PARAM_LINES%s: yosys generic synthesis (cells, memory "
             "bits, transistor estimate)%s, cached under build/synth/; answers in %.200s/area/",
             script, s->area_generic ? " --no-xilinx" : "",
             s->area_generic ? "; no 7-series synthesis (--area generic)" : " and synth_xilinx (7-series LUT/FF/DSP/BRAM)",
             s->out_dir);
    struct area_ctx c = {s, script, calloc(s->n_points, sizeof(size_t)), calloc(s->n_points, sizeof(size_t)), 0, 0,
                         sweep_now()};
    int rc = c.group_of && c.groups ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "area groups");
    for (size_t i = 0; rc == MXU_OK && i < s->n_points; i++) {
        size_t g = i;
        for (size_t j = 0; j < i && g == i; j++)
            if (same_area_config(&s->points[j].cfg, &s->points[i].cfg))
                g = c.group_of[j];
        c.group_of[i] = g;
        if (g == i)
            c.groups[c.n_groups++] = i;
    }
    if (rc == MXU_OK && !s->quiet)
        fprintf(stderr, "mxu sweep: area of %zu hardware configurations with %s (cached ones answer at once, a "
                "new one takes minutes)\n", c.n_groups, script);
    if (rc == MXU_OK)
        rc = sweep_pool_run(c.n_groups, s->jobs ? s->jobs : 1, s->area_timeout, start_synth, synth_done, &c);
    s->area_seconds = sweep_now() - c.start;
    free(c.group_of);
    free(c.groups);
    return rc;
}
