/* mxu sweep MODEL --rows 8,16,32 --cols 8,16,32 [...] -o DIR: measure a
 * network or a SCALE-Sim topology on every configuration of a cartesian
 * product (docs/exploration.md). The pieces are in sweep_*.c (see sweep.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "mxu_error.h"
#include "sweep.h"

static const char sweep_usage[] =
    "MODEL -o DIR [--rows 8,16,32] [--cols 8,16,32] | [--shapes 8x8,16x16]\n"
    "       [--ub 64K,256K] [--acc 1K,4K] [--wb N,...]\n"
    "       [--bw 8,16,32] [--latency N] [--backend model|rtl|icarus] [--option KEY=V,...] [--arch KEY=V,...]\n"
    "       [--scalesim-config FILE] [--seed N] [--jobs N] [--area full|generic|none | --no-area]\n"
    "       [--area-timeout SECONDS]\n"
    "       [--area-metric area|cells|lut|transistors] [--max-error PCT] [--quiet]\n"
    "  Measure MODEL on every configuration of the cartesian product of the lists\n"
    "  (--shapes lists array shapes instead of every rows x cols).\n"
    "  MODEL: a network (.cfg, .onnx: compiled per configuration with random weights from\n"
    "  --seed, default 1) or a SCALE-Sim topology .csv (one convolution or GEMM per row, no\n"
    "  padding). --scalesim-config maps a SCALE-Sim .cfg (ArrayHeight/Width, Ifmap/Filter/\n"
    "  OfmapSramSzkB, Bandwidth) onto the base configuration; --arch sets other keys; the\n"
    "  lists override both. --ub in bytes (K/M suffixes), --acc accumulator rows, --wb\n"
    "  weight-buffer lines, --bw DRAM bytes per cycle (above the 16-byte beat widens the\n"
    "  beat), --latency DRAM read latency (default 10).\n"
    "  --backend rtl also runs the model and reports its error per layer; --max-error PCT\n"
    "  exits 1 when a layer's error is larger. --jobs N runs N configurations at once in\n"
    "  child processes (default: one, in this process).\n"
    "  Per layer and configuration: cycles, utilization, DRAM bytes, MACs, ideal cycles,\n"
    "  SCALE-Sim's weight-stationary cycles; area from scripts/synth_area.sh (yosys; cached,\n"
    "  a new configuration takes minutes: --no-area skips it; --area-timeout, default 3600 s,\n"
    "  bounds each). --area generic (the default) is yosys' generic synthesis, --area full\n"
    "  adds the 7-series one (LUT/FF/DSP/BRAM, slower); --area-metric picks the figure\n"
    "  plotted, default area = logic transistors + 6 per SRAM bit.\n"
    "  Writes DIR/sweep.csv, DIR/sweep.json, DIR/utilization.png, DIR/cycles.png and\n"
    "  DIR/area.png (cycles vs area, Pareto front); results are cached in DIR/runs/, so a\n"
    "  rerun (e.g. after Ctrl-C) measures only what is missing.\n"
    "  Exit status: 0 ok, 1 model error above --max-error, 2 error or a configuration failed.\n";

struct sweep_args {
    const char *lists[6]; /* rows, cols, ub, acc, wb, bw */
    const char *shapes;   /* "8x8,16x16": instead of rows x cols */
    const char *arch;
    uint64_t seed, jobs, latency;
    int have_latency;
};

static const char *const list_names[] = {"--rows", "--cols", "--ub", "--acc", "--wb", "--bw"};

/* "8,16,32" (sizes may have K/M suffixes) into values[]. */
static int parse_list(const char *opt, const char *text, uint64_t *values, size_t *n)
{
    *n = 0;
    const char *p = text;
    while (*p) {
        char item[32], *end;
        size_t len = strcspn(p, ",");
        if (!len || len >= sizeof item || *n == SWEEP_MAX_AXIS)
            return cli_error("sweep", 0, "%s '%s': %s", opt, text,
                             *n == SWEEP_MAX_AXIS ? "too many values (at most 16)" : "empty or overlong item");
        memcpy(item, p, len);
        item[len] = 0;
        errno = 0;
        unsigned long long v = strtoull(item, &end, 0);
        uint64_t mul = *end == 'K' || *end == 'k' ? 1024 : *end == 'M' || *end == 'm' ? 1024 * 1024 : 1;
        if (mul > 1)
            end++;
        if (errno || *end || item[0] == '-' || !v || v > (1ull << 32) / mul)
            return cli_error("sweep", 0, "%s: '%s' is not a positive number", opt, item);
        values[(*n)++] = v * mul;
        p += len + (p[len] == ',');
        if (p[-1] == ',' && !*p)
            return cli_error("sweep", 0, "%s '%s': trailing comma", opt, text);
    }
    return CLI_OK;
}

static int parse_number(const char *opt, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!cli_parse_u64(v, out) || *out < lo || *out > hi)
        return cli_error("sweep", 0, "%s needs a number in %" PRIu64 "..%" PRIu64 ", not '%s'", opt, lo, hi, v);
    return CLI_OK;
}

static int parse_args(int argc, char **argv, struct sweep *s, struct sweep_args *a)
{
    const char *v;
    int missing;
    memset(a, 0, sizeof *a);
    a->seed = 1;
    a->jobs = 1;
    s->backend = "model";
    s->area_metric = "area";
    s->area_timeout = 3600; /* a new generic synthesis takes minutes; an hour means something is wrong */
    s->area_generic = 1;
    s->max_error = -1;
    for (int i = 1; i < argc; i++) {
        int handled = 0;
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu sweep %s", sweep_usage);
            exit(CLI_OK);
        } else if (cli_flag(argv[i], "--no-area")) {
            s->no_area = handled = 1;
        } else if (cli_flag(argv[i], "--quiet")) {
            s->quiet = handled = 1;
        }
        for (size_t k = 0; !handled && k < 6; k++)
            if ((v = cli_opt(argc, argv, &i, list_names[k], &missing)))
                a->lists[k] = v, handled = 1;
            else if (missing)
                return cli_error("sweep", 0, "%s needs a value", argv[i]);
        if (handled)
            continue;
        uint64_t num;
        if ((v = cli_opt(argc, argv, &i, "-o", &missing)) || (v = cli_opt(argc, argv, &i, "--out", &missing))) {
            s->out_dir = v;
        } else if ((v = cli_opt(argc, argv, &i, "--shapes", &missing))) {
            a->shapes = v;
        } else if ((v = cli_opt(argc, argv, &i, "--backend", &missing))) {
            s->backend = v;
        } else if ((v = cli_opt(argc, argv, &i, "--option", &missing))) {
            s->options = v;
        } else if ((v = cli_opt(argc, argv, &i, "--arch", &missing))) {
            a->arch = v;
        } else if ((v = cli_opt(argc, argv, &i, "--scalesim-config", &missing))) {
            s->scalesim_cfg_path = v;
        } else if ((v = cli_opt(argc, argv, &i, "--area", &missing))) {
            if (strcmp(v, "full") && strcmp(v, "generic") && strcmp(v, "none"))
                return cli_error("sweep", 0, "--area is full, generic or none, not '%s'", v);
            s->area_generic = !strcmp(v, "generic");
            s->no_area |= !strcmp(v, "none");
        } else if ((v = cli_opt(argc, argv, &i, "--area-metric", &missing))) {
            s->area_metric = v;
        } else if ((v = cli_opt(argc, argv, &i, "--seed", &missing))) {
            if (parse_number("--seed", v, 0, UINT64_MAX, &a->seed))
                return CLI_ERROR;
        } else if ((v = cli_opt(argc, argv, &i, "--jobs", &missing))) {
            if (parse_number("--jobs", v, 1, 64, &a->jobs))
                return CLI_ERROR;
        } else if ((v = cli_opt(argc, argv, &i, "--latency", &missing))) {
            if (parse_number("--latency", v, 0, 1000000, &a->latency))
                return CLI_ERROR;
            a->have_latency = 1;
        } else if ((v = cli_opt(argc, argv, &i, "--area-timeout", &missing))) {
            if (parse_number("--area-timeout", v, 1, 7 * 86400, &num))
                return CLI_ERROR;
            s->area_timeout = (double)num;
        } else if ((v = cli_opt(argc, argv, &i, "--max-error", &missing))) {
            char *end;
            s->max_error = strtod(v, &end);
            if (*end || !(s->max_error >= 0))
                return cli_error("sweep", 0, "--max-error needs a percentage, not '%s'", v);
        } else if (missing) {
            return cli_error("sweep", 0, "%s needs a value", argv[i]);
        } else if (argv[i][0] != '-' && !s->model_path) {
            s->model_path = argv[i];
        } else {
            return cli_usage("sweep", sweep_usage);
        }
    }
    if (!s->model_path || !s->out_dir)
        return cli_usage("sweep", sweep_usage);
    static char out_dir[1024]; /* "out/" -> "out": paths are joined with '/' */
    size_t n = strlen(s->out_dir);
    if (n >= sizeof out_dir)
        return cli_error("sweep", 0, "-o: path too long");
    memcpy(out_dir, s->out_dir, n + 1);
    while (n > 1 && out_dir[n - 1] == '/')
        out_dir[--n] = 0;
    s->out_dir = out_dir;
    if (a->shapes && (a->lists[0] || a->lists[1]))
        return cli_error("sweep", 0, "give --shapes or --rows/--cols, not both");
    static const char *const metrics[] = {"area", "cells", "lut", "transistors"};
    int known = 0;
    for (size_t k = 0; k < 4; k++)
        known |= !strcmp(s->area_metric, metrics[k]);
    if (!known)
        return cli_error("sweep", 0, "--area-metric is area, cells, lut or transistors, not '%s'", s->area_metric);
    s->jobs = (unsigned)a->jobs;
    return CLI_OK;
}

/* ---- the base configuration and the axes ------------------------------------------ */

static int base_config(struct sweep *s, const struct sweep_args *a, uint32_t *scalesim_bw)
{
    int rc;
    mxu_config_default(&s->base);
    *scalesim_bw = 0;
    if (s->scalesim_cfg_path) {
        if ((rc = mxu_scalesim_config_read(s->scalesim_cfg_path, &s->scalesim_cfg)) ||
            (rc = mxu_scalesim_config_apply(&s->scalesim_cfg, &s->base, scalesim_bw)))
            return cli_error("sweep", rc, "--scalesim-config %s", s->scalesim_cfg_path);
        s->have_scalesim_cfg = 1;
        if (s->scalesim_cfg.dataflow[0] && strcmp(s->scalesim_cfg.dataflow, "ws"))
            fprintf(stderr, "mxu sweep: note: %s asks for Dataflow %s; mxu is weight-stationary (ws), and its "
                    "SCALE-Sim column is the ws formula\n", s->scalesim_cfg_path, s->scalesim_cfg.dataflow);
    }
    if (a->arch && (rc = mxu_config_parse(&s->base, a->arch)))
        return cli_error("sweep", rc, "--arch %s", a->arch);
    return CLI_OK;
}

/* "8x8,16x32" into rows[i] x cols[i]. */
static int parse_shapes(const char *text, struct sweep_axes *x)
{
    const char *p = text;
    x->n_rows = 0;
    while (*p) {
        unsigned r, c;
        int used = 0;
        if (x->n_rows == SWEEP_MAX_AXIS || sscanf(p, "%ux%u%n", &r, &c, &used) != 2 || !r || !c ||
            (p[used] && p[used] != ','))
            return cli_error("sweep", 0, "--shapes '%s': expected ROWSxCOLS,... (at most %d)", text, SWEEP_MAX_AXIS);
        x->rows[x->n_rows] = r;
        x->cols[x->n_rows++] = c;
        p += used + (p[used] == ',');
    }
    x->n_cols = 1;
    x->paired = 1;
    return x->n_rows ? CLI_OK : cli_error("sweep", 0, "--shapes is empty");
}

static int build_axes(struct sweep *s, const struct sweep_args *a, uint32_t scalesim_bw)
{
    uint64_t v[SWEEP_MAX_AXIS];
    size_t n;
    struct sweep_axes *x = &s->axes;
    uint32_t *u32[] = {x->rows, x->cols, NULL, x->acc, x->wb, x->bw};
    size_t *counts[] = {&x->n_rows, &x->n_cols, &x->n_ub, &x->n_acc, &x->n_wb, &x->n_bw};
    const mxu_hw_config *b = &s->base;
    /* 0 for ub, acc, wb: the base's, or sized from the SCALE-Sim kB for each array (make_point) */
    uint64_t dflt[] = {b->rows, b->cols, 0, 0, 0, scalesim_bw};
    for (size_t k = 0; k < 6; k++) {
        if (a->lists[k]) {
            if (parse_list(list_names[k], a->lists[k], v, &n))
                return CLI_ERROR;
        } else {
            v[0] = dflt[k];
            n = 1;
        }
        for (size_t i = 0; i < n; i++) {
            if (k != 2 && v[i] > UINT32_MAX)
                return cli_error("sweep", 0, "%s: %" PRIu64 " too large", list_names[k], v[i]);
            if (k == 2)
                x->ub[i] = v[i];
            else
                u32[k][i] = (uint32_t)v[i];
        }
        *counts[k] = n;
    }
    return a->shapes ? parse_shapes(a->shapes, x) : CLI_OK;
}

static uint32_t next_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

static void short_size(uint64_t v, char *buf, size_t len)
{
    if (v % (1024 * 1024) == 0)
        snprintf(buf, len, "%" PRIu64 "M", v >> 20);
    else if (v % 1024 == 0)
        snprintf(buf, len, "%" PRIu64 "K", v >> 10);
    else
        snprintf(buf, len, "%" PRIu64, v);
}

/* Buffer sizes not swept: the SCALE-Sim configuration's kB sized for this
 * array (as mxu_scalesim_config_apply does), else the base's (the unified
 * buffer keeps its line count, so its bytes follow the array's width). */
static void default_sizes(const struct sweep *s, uint32_t rows, uint32_t cols, uint64_t *ub, uint32_t *acc,
                          uint32_t *wb)
{
    const struct mxu_scalesim_config *c = s->have_scalesim_cfg ? &s->scalesim_cfg : NULL;
    uint32_t line = rows > cols ? rows : cols;
    if (!*ub && c && c->ifmap_kb)
        *ub = (uint64_t)c->ifmap_kb * 1024 / line * line;
    if (!*acc)
        *acc = c && c->ofmap_kb ? (uint32_t)((uint64_t)c->ofmap_kb * 1024 / (4ull * cols)) : s->base.acc_rows;
    if (!*wb)
        *wb = c && c->filter_kb ? (uint32_t)((uint64_t)c->filter_kb * 1024 / cols) : s->base.wb_lines;
}

/* One point: the configuration, its key and its label. */
static int make_point(const struct sweep *s, const size_t idx[6], uint32_t latency, struct sweep_point *pt)
{
    const struct sweep_axes *x = &s->axes;
    char spec[200], ub[32];
    mxu_hw_config cfg = s->base;
    uint32_t rows = x->rows[idx[0]], cols = x->cols[x->paired ? idx[0] : idx[1]];
    uint32_t acc = x->acc[idx[3]], wb = x->wb[idx[4]];
    uint64_t ub_bytes = x->ub[idx[2]];
    default_sizes(s, rows, cols, &ub_bytes, &acc, &wb);
    short_size(ub_bytes, ub, sizeof ub);
    int n = snprintf(spec, sizeof spec, "rows=%u,cols=%u,acc=%u,wb=%u", rows, cols, acc, wb);
    if (ub_bytes)
        snprintf(spec + n, sizeof spec - (size_t)n, ",ub=%" PRIu64, ub_bytes);
    int rc = mxu_config_parse(&cfg, spec);
    uint32_t bw = x->bw[idx[5]] ? x->bw[idx[5]] : cfg.dram_beat_bytes;
    if (rc == MXU_OK && bw > cfg.dram_beat_bytes) { /* a wider bandwidth needs a wider DRAM port */
        cfg.dram_beat_bytes = next_pow2(bw);
        rc = mxu_config_validate(&cfg);
    }
    if (rc)
        return cli_error("sweep", rc, "configuration %s, bw=%u", spec, bw);
    memset(pt, 0, sizeof *pt);
    pt->cfg = cfg;
    pt->bw = bw;
    pt->latency = latency;
    mxu_config_name(&cfg, pt->hw_name, sizeof pt->hw_name);
    snprintf(pt->key, sizeof pt->key, "%s-%s-bw%u-lat%u", s->backend, pt->hw_name, bw, latency);
    int len = snprintf(pt->label, sizeof pt->label, "%ux%u", cfg.rows, cfg.cols);
    if (x->n_ub > 1)
        len += snprintf(pt->label + len, sizeof pt->label - (size_t)len, " ub%s", ub);
    if (x->n_acc > 1 && len < (int)sizeof pt->label)
        len += snprintf(pt->label + len, sizeof pt->label - (size_t)len, " acc%u", cfg.acc_rows);
    if (x->n_wb > 1 && len < (int)sizeof pt->label)
        len += snprintf(pt->label + len, sizeof pt->label - (size_t)len, " wb%u", cfg.wb_lines);
    if (x->n_bw > 1 && len < (int)sizeof pt->label)
        snprintf(pt->label + len, sizeof pt->label - (size_t)len, " bw%u", bw);
    return CLI_OK;
}

static int build_points(struct sweep *s, uint32_t latency)
{
    const struct sweep_axes *x = &s->axes;
    size_t dims[6] = {x->n_rows, x->n_cols, x->n_ub, x->n_acc, x->n_wb, x->n_bw}, total = 1;
    for (size_t k = 0; k < 6; k++)
        total *= dims[k];
    s->points = calloc(total, sizeof *s->points);
    s->results = calloc(total, sizeof *s->results);
    if (!s->points || !s->results)
        return cli_error("sweep", MXU_ERR_NOMEM, "%zu configurations", total);
    for (size_t p = 0; p < total; p++) {
        size_t idx[6], rest = p;
        for (int k = 5; k >= 0; k--) { /* the bandwidth varies fastest: a compiled program serves them all */
            idx[k] = rest % dims[k];
            rest /= dims[k];
        }
        if (make_point(s, idx, latency, &s->points[p]))
            return CLI_ERROR;
        for (size_t q = 0; q < p; q++)
            if (!strcmp(s->points[q].key, s->points[p].key))
                return cli_error("sweep", 0, "configurations %zu and %zu are the same (%s): a list repeats a value",
                                 q + 1, p + 1, s->points[p].key);
    }
    s->n_points = total;
    return CLI_OK;
}

/* ---- output ------------------------------------------------------------------------ */

static int make_dirs(const char *dir)
{
    char path[1200];
    static const char *const subs[] = {"", "/runs", "/area", "/plots"};
    for (size_t k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s%s", dir, subs[k]);
        for (char *p = path + 1; k == 0 && *p; p++) { /* mkdir -p for DIR itself */
            if (*p != '/')
                continue;
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
        if (mkdir(path, 0755) && errno != EEXIST)
            return cli_error("sweep", 0, "cannot create %s: %s", path, strerror(errno));
    }
    return CLI_OK;
}

/* Largest |error| of the model over every layer; NAN without an RTL run. */
static double worst_error(const struct sweep *s, size_t *at_point, const char **at_layer)
{
    double worst = NAN;
    for (size_t i = 0; i < s->n_points; i++)
        for (uint32_t k = 0; s->results[i].ok && k < s->results[i].n_layers; k++) {
            const struct sweep_layer *l = &s->results[i].layers[k];
            double e = sweep_model_error_pct(l->model_cycles, l->cycles);
            if (!isnan(e) && (isnan(worst) || fabs(e) > fabs(worst))) {
                worst = e;
                *at_point = i;
                *at_layer = l->name;
            }
        }
    return worst;
}

static int write_outputs(struct sweep *s)
{
    char path[1300], made[4000];
    int *pareto = calloc(s->n_points, sizeof *pareto), rc;
    if (!pareto)
        return cli_error("sweep", MXU_ERR_NOMEM, "pareto");
    sweep_pareto(s, pareto);
    snprintf(path, sizeof path, "%s/sweep.csv", s->out_dir);
    if ((rc = sweep_write_csv(s, path))) {
        free(pareto);
        return cli_error("sweep", rc, "writing %s", path);
    }
    snprintf(path, sizeof path, "%s/sweep.json", s->out_dir);
    if ((rc = sweep_write_json(s, pareto, path))) {
        free(pareto);
        return cli_error("sweep", rc, "writing %s", path);
    }
    sweep_print_summary(s, pareto, stdout);
    printf("wrote %s/sweep.csv, %s/sweep.json\n", s->out_dir, s->out_dir);
    if ((rc = sweep_plot_all(s, pareto, made, sizeof made)) == MXU_ERR_NOT_FOUND) {
        fprintf(stderr, "mxu sweep: no plots: %s\n", mxu_error_detail()); /* the CSV and JSON stand */
        rc = MXU_OK;
    } else if (rc) {
        cli_error("sweep", rc, "plots");
    } else {
        printf("plots %s\n", made);
    }
    printf("area  %s\n", s->area_source);
    free(pareto);
    return rc ? CLI_ERROR : CLI_OK;
}

static void free_sweep(struct sweep *s)
{
    for (size_t i = 0; s->results && i < s->n_points; i++)
        sweep_result_clear(&s->results[i]);
    free(s->results);
    free(s->points);
    sweep_workload_close(&s->work);
}

int cmd_sweep(int argc, char **argv)
{
    struct sweep s;
    struct sweep_args a;
    uint32_t scalesim_bw;
    memset(&s, 0, sizeof s);
    int rc = parse_args(argc, argv, &s, &a);
    if (rc)
        return rc;
    if ((rc = base_config(&s, &a, &scalesim_bw)) || (rc = build_axes(&s, &a, scalesim_bw)) ||
        (rc = build_points(&s, a.have_latency ? (uint32_t)a.latency : MXU_DEFAULT_DRAM_LATENCY)))
        goto out;
    int st = sweep_workload_open(s.model_path, a.seed, &s.work);
    if (st) {
        rc = cli_error("sweep", st, "%s", s.model_path);
        goto out;
    }
    if ((rc = make_dirs(s.out_dir)))
        goto out;
    double t0 = sweep_now();
    if ((st = sweep_run_all(&s)) || (st = sweep_area_all(&s))) {
        rc = cli_error("sweep", st, "%s", s.out_dir);
        goto out;
    }
    size_t failed = 0, at = 0;
    for (size_t i = 0; i < s.n_points; i++)
        failed += !s.results[i].ok;
    rc = write_outputs(&s);
    const char *layer = "";
    double worst = worst_error(&s, &at, &layer);
    if (!isnan(worst))
        printf("model vs %s: worst layer error %+.3f%% (%s, layer %s)\n", s.backend, worst, s.points[at].label, layer);
    if (!s.quiet)
        fprintf(stderr, "mxu sweep: %zu configuration%s in %.1f s (measuring %.1f s, area %.1f s)\n", s.n_points,
                s.n_points == 1 ? "" : "s", sweep_now() - t0, s.run_seconds, s.area_seconds);
    if (failed)
        rc = cli_error("sweep", 0, "%zu of %zu configurations failed (see above and %s/sweep.json)", failed,
                       s.n_points, s.out_dir);
    else if (rc == CLI_OK && s.max_error >= 0 && !isnan(worst) && fabs(worst) > s.max_error)
        rc = CLI_MISMATCH;
out:
    free_sweep(&s);
    return rc;
}
