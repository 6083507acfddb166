/* The sweep's plots, drawn by gnuplot (Debian's gnuplot-nox, the `plots`
 * group of scripts/install-deps.sh) from data and scripts written to
 * DIR/plots/ (rerun `gnuplot DIR/plots/X.gp` to restyle):
 *   DIR/utilization.png  array utilization per configuration (bar: whole
 *                        workload; dots: each layer)
 *   DIR/cycles.png       cycles per configuration, stacked by layer, with
 *                        SCALE-Sim's formula and the ideal
 *   DIR/area.png         cycles against area, the Pareto front marked */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mxu_error.h"
#include "sweep.h"

#define MAX_STACKED 9 /* layers drawn on their own in cycles.png; the rest are "other" */

static int run_gnuplot(const char *dir, const char *script)
{
    char log[1400];
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return mxu_fail(MXU_ERR_IO, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fl = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644), fi = open("/dev/null", O_RDONLY);
        if (fl >= 0)
            dup2(fl, 1), dup2(fl, 2);
        if (fi >= 0)
            dup2(fi, 0);
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return mxu_fail(MXU_ERR_IO, "waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return mxu_fail(MXU_ERR_NOT_FOUND, "gnuplot is not installed (Debian: gnuplot-nox; bash "
                        "scripts/install-deps.sh plots)");
    if (!WIFEXITED(status) || WEXITSTATUS(status))
        return mxu_fail(MXU_ERR_IO, "gnuplot %s failed (see %s)", script, log);
    return MXU_OK;
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        mxu_fail(MXU_ERR_IO, "%s: %s", path, strerror(errno));
    return f;
}

static int close_file(FILE *f, const char *path)
{
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mxu_fail(MXU_ERR_IO, "%s: write error", path) : MXU_OK;
}

static void terminal(FILE *g, const struct sweep *s, const char *png, int width)
{
    fprintf(g, "set terminal pngcairo size %d,540 font \",11\" noenhanced\n", width);
    fprintf(g, "set output \"%s/%s\"\n", s->out_dir, png);
    fprintf(g, "set grid ytics\nset key outside right top\n");
    if (s->n_points > 6)
        fprintf(g, "set xtics rotate by -40\n");
}

static int plot_width(const struct sweep *s)
{
    int w = 420 + 60 * (int)s->n_points;
    return w < 900 ? 900 : w > 2400 ? 2400 : w;
}

/* ---- utilization ---------------------------------------------------------------- */

static int plot_utilization(const struct sweep *s, const char *dir)
{
    char dpath[1400], lpath[1400], gpath[1400];
    FILE *d = open_in(dir, "utilization.dat", dpath, sizeof dpath);
    FILE *l = d ? open_in(dir, "utilization_layers.dat", lpath, sizeof lpath) : NULL;
    FILE *g = l ? open_in(dir, "utilization.gp", gpath, sizeof gpath) : NULL;
    int rc = g ? MXU_OK : MXU_ERR_IO;
    for (size_t i = 0, x = 0; rc == MXU_OK && i < s->n_points; i++) {
        const struct sweep_result *r = &s->results[i];
        if (!r->ok)
            continue;
        struct sweep_total t;
        sweep_total(r, &s->points[i].cfg, &t);
        fprintf(d, "%zu \"%s\" %.3f\n", x, s->points[i].label, 100 * t.utilization);
        uint64_t pes = (uint64_t)s->points[i].cfg.rows * s->points[i].cfg.cols;
        for (uint32_t k = 0; k < r->n_layers; k++)
            if (!r->layers[k].on_host && r->layers[k].cycles && r->layers[k].macs)
                fprintf(l, "%zu %.3f\n", x, 100.0 * (double)r->layers[k].macs / ((double)r->layers[k].cycles * pes));
        x++;
    }
    if (g) {
        terminal(g, s, "utilization.png", plot_width(s));
        fprintf(g, "set title \"%s on the %s backend: array utilization per configuration\"\n", s->work.name,
                s->backend);
        fprintf(g, "set ylabel \"utilization (%%)\"\nset yrange [0:105]\nset style fill solid 0.7 border -1\n"
                   "set boxwidth 0.6\nset xrange [-0.7:*]\n");
        fprintf(g, "plot \"%s\" using 1:3:xtic(2) with boxes lc rgb \"#2a7ab0\" title \"whole workload\", \\\n"
                   "     \"%s\" using 1:2 with points pt 7 ps 0.7 lc rgb \"#d95f02\" title \"one layer\"\n",
                dpath, lpath);
    }
    int rc2 = MXU_OK;
    if (d && (rc2 = close_file(d, dpath)) && rc == MXU_OK)
        rc = rc2;
    if (l && (rc2 = close_file(l, lpath)) && rc == MXU_OK)
        rc = rc2;
    if (g && (rc2 = close_file(g, gpath)) && rc == MXU_OK)
        rc = rc2;
    return rc ? rc : run_gnuplot(dir, gpath);
}

/* ---- cycles ---------------------------------------------------------------------- */

/* Layers of the first successful result, the MAX_STACKED busiest first. */
static const struct sweep_result *reference_result(const struct sweep *s)
{
    for (size_t i = 0; i < s->n_points; i++)
        if (s->results[i].ok)
            return &s->results[i];
    return NULL;
}

static void busiest_layers(const struct sweep *s, const struct sweep_result *ref, uint32_t *order, uint32_t *n)
{
    double *sum = calloc(ref->n_layers, sizeof *sum);
    *n = 0;
    if (!sum)
        return;
    for (size_t i = 0; i < s->n_points; i++)
        for (uint32_t k = 0; s->results[i].ok && k < s->results[i].n_layers && k < ref->n_layers; k++)
            sum[k] += (double)s->results[i].layers[k].cycles;
    for (uint32_t k = 0; k < ref->n_layers; k++)
        if (sum[k] > 0)
            order[(*n)++] = k;
    for (uint32_t a = 0; a < *n; a++) /* by total cycles, descending (few layers: insertion sort) */
        for (uint32_t b = a + 1; b < *n; b++)
            if (sum[order[b]] > sum[order[a]]) {
                uint32_t t = order[a];
                order[a] = order[b];
                order[b] = t;
            }
    free(sum);
}

/* Cycles in millions, or thousands for small workloads. */
static void cycle_unit(const struct sweep *s, double *scale, const char **name)
{
    uint64_t most = 0;
    for (size_t i = 0; i < s->n_points; i++) {
        struct sweep_total t;
        if (!s->results[i].ok)
            continue;
        sweep_total(&s->results[i], &s->points[i].cfg, &t);
        most = t.cycles > most ? t.cycles : most;
        most = t.scalesim > most ? t.scalesim : most;
    }
    *scale = most >= 2000000 ? 1e6 : 1e3;
    *name = most >= 2000000 ? "millions" : "thousands";
}

static int plot_cycles(const struct sweep *s, const char *dir)
{
    const struct sweep_result *ref = reference_result(s);
    uint32_t *order = calloc(ref->n_layers ? ref->n_layers : 1, sizeof *order), n_busy;
    if (!order)
        return mxu_fail(MXU_ERR_NOMEM, "plot");
    busiest_layers(s, ref, order, &n_busy);
    double unit;
    const char *unit_name;
    cycle_unit(s, &unit, &unit_name);
    uint32_t shown = n_busy > MAX_STACKED + 1 ? MAX_STACKED : n_busy;
    int other = n_busy > shown;
    for (uint32_t a = 0; a < shown; a++) /* the busiest layers, stacked in the network's order */
        for (uint32_t b = a + 1; b < shown; b++)
            if (order[b] < order[a]) {
                uint32_t t = order[a];
                order[a] = order[b];
                order[b] = t;
            }
    char dpath[1400], gpath[1400];
    FILE *d = open_in(dir, "cycles.dat", dpath, sizeof dpath);
    FILE *g = d ? open_in(dir, "cycles.gp", gpath, sizeof gpath) : NULL;
    int rc = g ? MXU_OK : MXU_ERR_IO;
    for (size_t i = 0; rc == MXU_OK && i < s->n_points; i++) {
        const struct sweep_result *r = &s->results[i];
        if (!r->ok)
            continue;
        struct sweep_total t;
        sweep_total(r, &s->points[i].cfg, &t);
        fprintf(d, "\"%s\" %.6f %.6f", s->points[i].label, (double)t.scalesim / unit, (double)t.ideal / unit);
        double rest = (double)t.cycles;
        for (uint32_t k = 0; k < shown; k++) {
            double c = order[k] < r->n_layers ? (double)r->layers[order[k]].cycles : 0;
            rest -= c;
            fprintf(d, " %.6f", c / unit);
        }
        fprintf(d, other ? " %.6f\n" : "\n", rest / unit);
    }
    if (g) {
        terminal(g, s, "cycles.png", plot_width(s) + 200);
        fprintf(g, "set title \"%s on the %s backend: cycles per configuration, by layer\"\n", s->work.name, s->backend);
        fprintf(g, "set ylabel \"cycles (%s)\"\nset style data histograms\nset style histogram rowstacked\n"
                   "set style fill solid 0.85 border -1\nset boxwidth 0.6\nset yrange [0:*]\n", unit_name);
        fprintf(g, "plot ");
        for (uint32_t k = 0; k < shown; k++)
            fprintf(g, "\"%s\" using %u%s title \"%s\", \\\n     ", dpath, 4 + k, k ? "" : ":xtic(1)",
                    ref->layers[order[k]].name);
        if (other)
            fprintf(g, "\"%s\" using %u title \"other layers\", \\\n     ", dpath, 4 + shown);
        fprintf(g, "\"%s\" using 0:2 with linespoints lw 2 pt 9 ps 1.3 lc rgb \"black\" title \"SCALE-Sim WS formula\", "
                   "\\\n     \"%s\" using 0:3 with linespoints lw 2 dt 2 pt 6 lc rgb \"#666666\" title "
                   "\"ideal (MACs / PEs)\"\n",
                dpath, dpath);
    }
    free(order);
    int rc2 = MXU_OK;
    if (d && (rc2 = close_file(d, dpath)) && rc == MXU_OK)
        rc = rc2;
    if (g && (rc2 = close_file(g, gpath)) && rc == MXU_OK)
        rc = rc2;
    return rc ? rc : run_gnuplot(dir, gpath);
}

/* ---- cycles vs area ----------------------------------------------------------------- */

struct front_point {
    double area, cycles;
    size_t i;
};

/* Labelled ticks at 1, 2, 3, 5 x 10^k over [lo, hi]: a log axis spanning less than a
 * decade would otherwise show one label or none. */
static void log_tics(FILE *g, const char *axis, double lo, double hi)
{
    static const double steps[] = {1, 2, 3, 5};
    double decade = 1e-6;
    int n = 0;
    fprintf(g, "set %s (", axis);
    while (decade * 10 <= lo)
        decade *= 10;
    for (; decade <= hi && n < 40; decade *= 10)
        for (int k = 0; k < 4; k++) {
            double v = steps[k] * decade;
            if (v >= lo && v <= hi)
                fprintf(g, "%s%g", n++ ? ", " : "", v);
        }
    fprintf(g, ")\n");
}

static int by_area(const void *a, const void *b)
{
    const struct front_point *x = a, *y = b;
    return x->area < y->area ? -1 : x->area > y->area;
}

static int plot_area(const struct sweep *s, const int *pareto, const char *dir)
{
    char dpath[1400], fpath[1400], gpath[1400];
    struct front_point *front = calloc(s->n_points, sizeof *front);
    size_t n_front = 0;
    FILE *d = front ? open_in(dir, "area.dat", dpath, sizeof dpath) : NULL;
    FILE *fr = d ? open_in(dir, "pareto.dat", fpath, sizeof fpath) : NULL;
    FILE *g = fr ? open_in(dir, "area.gp", gpath, sizeof gpath) : NULL;
    int rc = g ? MXU_OK : front ? MXU_ERR_IO : mxu_fail(MXU_ERR_NOMEM, "plot");
    double unit, lo_a = 0, hi_a = 0, lo_c = 0, hi_c = 0;
    const char *unit_name;
    cycle_unit(s, &unit, &unit_name);
    for (size_t i = 0; rc == MXU_OK && i < s->n_points; i++) {
        double a = sweep_area_value(s, &s->results[i].area);
        if (!s->results[i].ok || a < 0)
            continue;
        struct sweep_total t;
        sweep_total(&s->results[i], &s->points[i].cfg, &t);
        double c = (double)t.cycles / unit;
        if (hi_a == 0 || a < lo_a)
            lo_a = a;
        if (hi_a == 0 || c < lo_c)
            lo_c = c;
        hi_a = a > hi_a ? a : hi_a;
        hi_c = c > hi_c ? c : hi_c;
        fprintf(d, "%.6f %.6f \"%s\"\n", a / 1e6, c, s->points[i].label);
        if (pareto[i])
            front[n_front++] = (struct front_point){a, (double)t.cycles, i};
    }
    if (rc == MXU_OK) {
        qsort(front, n_front, sizeof *front, by_area);
        for (size_t k = 0; k < n_front; k++)
            fprintf(fr, "%.6f %.6f \"%s\"\n", front[k].area / 1e6, front[k].cycles / unit, s->points[front[k].i].label);
        terminal(g, s, "area.png", 1000);
        fprintf(g, "set title \"%s on the %s backend: cycles against area\"\n", s->work.name, s->backend);
        /* explicit ranges with a margin: `set offsets` on log axes widens them by decades */
        double x0 = lo_a / 1e6 / 1.25, x1 = hi_a / 1e6 * 1.4, y0 = lo_c / 1.3, y1 = hi_c * 1.5;
        fprintf(g, "set xlabel \"%s (millions)\"\nset ylabel \"cycles (%s)\"\nset logscale xy\n"
                   "unset xtics\nset xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\n",
                sweep_area_metric_label(s->area_metric), unit_name, x0, x1, y0, y1);
        log_tics(g, "xtics", x0, x1);
        log_tics(g, "ytics", y0, y1);
        fprintf(g, "plot \"%s\" using 1:2 with points pt 7 ps 1.2 lc rgb \"#2a7ab0\" title \"configuration\", \\\n"
                   "     \"%s\" using 1:2:3 with labels offset 0.8,0.8 left font \",9\" notitle, \\\n"
                   "     \"%s\" using 1:2 with linespoints lw 2 pt 6 ps 2.2 lc rgb \"#d95f02\" title \"Pareto front\"\n",
                dpath, dpath, fpath);
    }
    free(front);
    int rc2 = MXU_OK;
    if (d && (rc2 = close_file(d, dpath)) && rc == MXU_OK)
        rc = rc2;
    if (fr && (rc2 = close_file(fr, fpath)) && rc == MXU_OK)
        rc = rc2;
    if (g && (rc2 = close_file(g, gpath)) && rc == MXU_OK)
        rc = rc2;
    return rc ? rc : run_gnuplot(dir, gpath);
}

int sweep_plot_all(const struct sweep *s, const int *pareto, char *made, size_t made_len)
{
    char dir[1200];
    size_t with_area = 0, ok = 0;
    snprintf(dir, sizeof dir, "%s/plots", s->out_dir);
    made[0] = 0;
    for (size_t i = 0; i < s->n_points; i++) {
        ok += s->results[i].ok != 0;
        with_area += s->results[i].ok && sweep_area_value(s, &s->results[i].area) >= 0;
    }
    if (!ok)
        return mxu_fail(MXU_ERR_INVAL, "no configuration succeeded: nothing to plot");
    int rc = plot_utilization(s, dir);
    if (rc == MXU_OK)
        rc = plot_cycles(s, dir);
    if (rc == MXU_OK)
        snprintf(made, made_len, "%s/utilization.png, %s/cycles.png", s->out_dir, s->out_dir);
    if (rc == MXU_OK && with_area) {
        rc = plot_area(s, pareto, dir);
        if (rc == MXU_OK) {
            size_t n = strlen(made);
            snprintf(made + n, made_len - n, ", %s/area.png", s->out_dir);
        }
    }
    return rc;
}
