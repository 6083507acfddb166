/* The sweep's results: DIR/sweep.csv (one row per configuration and layer,
 * then the configuration's total), DIR/sweep.json (the same, nested, with the
 * Pareto front and where the area came from) and a summary table on stdout. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_error.h"
#include "sweep.h"

double sweep_model_error_pct(int64_t model, uint64_t rtl)
{
    if (model < 0)
        return NAN;
    if (!rtl)
        return model ? INFINITY : 0.0;
    return 100.0 * ((double)model - (double)rtl) / (double)rtl;
}

void sweep_pareto(const struct sweep *s, int *pareto)
{
    for (size_t i = 0; i < s->n_points; i++) {
        struct sweep_total ti, tj;
        double ai = sweep_area_value(s, &s->results[i].area);
        pareto[i] = 0;
        if (!s->results[i].ok || ai < 0)
            continue;
        sweep_total(&s->results[i], &s->points[i].cfg, &ti);
        int dominated = 0;
        for (size_t j = 0; j < s->n_points && !dominated; j++) {
            double aj = sweep_area_value(s, &s->results[j].area);
            if (j == i || !s->results[j].ok || aj < 0)
                continue;
            sweep_total(&s->results[j], &s->points[j].cfg, &tj);
            dominated = aj <= ai && tj.cycles <= ti.cycles && (aj < ai || tj.cycles < ti.cycles);
        }
        pareto[i] = !dominated;
    }
}

/* ---- CSV ------------------------------------------------------------------------ */

static const char csv_header[] =
    "config,label,rows,cols,ub_bytes,acc_rows,wb_lines,beat,bw,latency,backend,layer,op,where,macs,cycles,"
    "ideal_cycles,utilization,scalesim_cycles,dram_rd_bytes,dram_wr_bytes,model_cycles,model_error_pct,"
    "area,area_cells,area_transistors,area_mem_bits,lut,ff,dsp,bram\n";

/* A CSV field: quoted when it holds a comma or a quote. */
static void csv_text(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_count(FILE *f, int64_t v)
{
    if (v >= 0)
        fprintf(f, ",%" PRId64, v);
    else
        fputc(',', f);
}

static void csv_row(FILE *f, const struct sweep *s, size_t i, const char *layer, const char *op, const char *where,
                    const struct sweep_total *t)
{
    const struct sweep_point *pt = &s->points[i];
    const struct sweep_area *a = &s->results[i].area;
    const mxu_hw_config *c = &pt->cfg;
    csv_text(f, pt->key);
    fputc(',', f);
    csv_text(f, pt->label);
    fprintf(f, ",%u,%u,%" PRIu64 ",%u,%u,%u,%u,%u,%s,", c->rows, c->cols, (uint64_t)c->ub_lines * c->ub_line_bytes,
            c->acc_rows, c->wb_lines, c->dram_beat_bytes, pt->bw, pt->latency, s->backend);
    csv_text(f, layer);
    fputc(',', f);
    csv_text(f, op);
    fprintf(f, ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.4f,%" PRIu64 ",%" PRIu64 ",%" PRIu64, where, t->macs,
            t->cycles, t->ideal, t->utilization, t->scalesim, t->dram_rd, t->dram_wr);
    csv_count(f, t->model_cycles);
    double err = sweep_model_error_pct(t->model_cycles, t->cycles);
    if (isnan(err))
        fputc(',', f);
    else
        fprintf(f, ",%.3f", err);
    double area = sweep_area_value(s, a);
    if (area >= 0)
        fprintf(f, ",%.0f", area);
    else
        fputc(',', f);
    int ok = a->status == AREA_OK;
    csv_count(f, ok ? a->cells : -1);
    csv_count(f, ok ? a->transistors : -1);
    csv_count(f, ok ? a->mem_bits : -1);
    csv_count(f, ok ? a->lut : -1);
    csv_count(f, ok ? a->ff : -1);
    csv_count(f, ok ? a->dsp : -1);
    csv_count(f, ok ? a->bram : -1);
    fputc('\n', f);
}

static void layer_total(const struct sweep_layer *l, const mxu_hw_config *cfg, struct sweep_total *t)
{
    struct sweep_result one;
    memset(&one, 0, sizeof one);
    one.n_layers = 1;
    one.layers = (struct sweep_layer *)l;
    sweep_total(&one, cfg, t);
}

int sweep_write_csv(const struct sweep *s, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return mxu_fail(MXU_ERR_IO, "%s: %s", path, strerror(errno));
    fputs(csv_header, f);
    for (size_t i = 0; i < s->n_points; i++) {
        const struct sweep_result *r = &s->results[i];
        struct sweep_total t;
        if (!r->ok)
            continue;
        for (uint32_t k = 0; k < r->n_layers; k++) {
            layer_total(&r->layers[k], &s->points[i].cfg, &t);
            csv_row(f, s, i, r->layers[k].name, r->layers[k].op, r->layers[k].on_host ? "host" : "device", &t);
        }
        sweep_total(r, &s->points[i].cfg, &t);
        csv_row(f, s, i, "total", "", "", &t);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mxu_fail(MXU_ERR_IO, "%s: write error", path) : MXU_OK;
}

/* ---- JSON ----------------------------------------------------------------------- */

static void json_counts(FILE *f, const struct sweep_total *t)
{
    fprintf(f, "\"macs\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"ideal_cycles\": %" PRIu64
               ", \"utilization\": %.4f, \"scalesim_cycles\": %" PRIu64 ", \"dram_rd_bytes\": %" PRIu64
               ", \"dram_wr_bytes\": %" PRIu64,
            t->macs, t->cycles, t->ideal, t->utilization, t->scalesim, t->dram_rd, t->dram_wr);
    if (t->model_cycles >= 0)
        fprintf(f, ", \"model_cycles\": %" PRId64 ", \"model_error_pct\": %.3f", t->model_cycles,
                sweep_model_error_pct(t->model_cycles, t->cycles));
}

static void json_area(FILE *f, const struct sweep *s, const struct sweep_area *a)
{
    if (a->status != AREA_OK) {
        fprintf(f, "null, \"area_note\": ");
        sweep_json_string(f, a->note);
        return;
    }
    fprintf(f, "{\"value\": %.0f, \"cells\": %" PRId64 ", \"ff_generic\": %" PRId64 ", \"mem_bits\": %" PRId64
               ", \"transistors\": %" PRId64 ", \"lut\": %" PRId64 ", \"ff\": %" PRId64 ", \"dsp\": %" PRId64
               ", \"bram\": %" PRId64 ", \"lutram\": %" PRId64 ", \"synth_seconds\": %.1f}",
            sweep_area_value(s, a), a->cells, a->ff_generic, a->mem_bits, a->transistors, a->lut, a->ff, a->dsp,
            a->bram, a->lutram, a->seconds);
}

static void json_point(FILE *f, const struct sweep *s, size_t i, int pareto)
{
    const struct sweep_point *pt = &s->points[i];
    const struct sweep_result *r = &s->results[i];
    char cfgs[400];
    mxu_config_format(&pt->cfg, cfgs, sizeof cfgs);
    fprintf(f, "  {\"key\": ");
    sweep_json_string(f, pt->key);
    fprintf(f, ", \"label\": ");
    sweep_json_string(f, pt->label);
    fprintf(f, ", \"config\": ");
    sweep_json_string(f, cfgs);
    fprintf(f, ",\n   \"rows\": %u, \"cols\": %u, \"ub_bytes\": %" PRIu64 ", \"acc_rows\": %u, \"wb_lines\": %u, "
               "\"beat\": %u, \"bw\": %u, \"latency\": %u,\n   \"status\": \"%s\", \"cached\": %s, "
               "\"compile_seconds\": %.3f, \"open_seconds\": %.3f, \"seconds\": %.3f, \"model_seconds\": %.3f,\n   "
               "\"pareto\": %s, "
               "\"area\": ",
            pt->cfg.rows, pt->cfg.cols, (uint64_t)pt->cfg.ub_lines * pt->cfg.ub_line_bytes, pt->cfg.acc_rows,
            pt->cfg.wb_lines, pt->cfg.dram_beat_bytes, pt->bw, pt->latency, r->ok ? "ok" : "error",
            r->cached ? "true" : "false", r->compile_seconds, r->open_seconds, r->seconds, r->model_seconds,
            pareto ? "true" : "false");
    json_area(f, s, &r->area);
    if (!r->ok) {
        fprintf(f, ",\n   \"error\": ");
        sweep_json_string(f, r->error);
        fprintf(f, "}");
        return;
    }
    struct sweep_total t;
    sweep_total(r, &pt->cfg, &t);
    fprintf(f, ",\n   \"total\": {");
    json_counts(f, &t);
    fprintf(f, "},\n   \"layers\": [");
    for (uint32_t k = 0; k < r->n_layers; k++) {
        const struct sweep_layer *l = &r->layers[k];
        layer_total(l, &pt->cfg, &t);
        fprintf(f, "%s\n    {\"name\": ", k ? "," : "");
        sweep_json_string(f, l->name);
        fprintf(f, ", \"op\": ");
        sweep_json_string(f, l->op);
        fprintf(f, ", \"where\": \"%s\", ", l->on_host ? "host" : "device");
        json_counts(f, &t);
        fprintf(f, "}");
    }
    fprintf(f, "]}");
}

int sweep_write_json(const struct sweep *s, const int *pareto, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return mxu_fail(MXU_ERR_IO, "%s: %s", path, strerror(errno));
    fprintf(f, "{\"model\": ");
    sweep_json_string(f, s->work.path);
    fprintf(f, ", \"workload\": ");
    sweep_json_string(f, s->work.name);
    fprintf(f, ", \"kind\": \"%s\", \"backend\": ", sweep_kind_name(s->work.kind));
    sweep_json_string(f, s->backend);
    fprintf(f, ", \"model_check\": %s, \"seed\": %" PRIu64 ",\n \"scalesim_config\": ",
            strcmp(s->backend, "model") ? "true" : "false", s->work.seed);
    if (s->have_scalesim_cfg)
        sweep_json_string(f, s->scalesim_cfg_path);
    else
        fprintf(f, "null");
    fprintf(f, ",\n \"area_source\": ");
    sweep_json_string(f, s->area_source);
    fprintf(f, ", \"area_metric\": ");
    sweep_json_string(f, sweep_area_metric_label(s->area_metric));
    fprintf(f, ",\n \"run_seconds\": %.3f, \"area_seconds\": %.3f,\n \"pareto\": [", s->run_seconds, s->area_seconds);
    for (size_t i = 0, n = 0; i < s->n_points; i++)
        if (pareto[i]) {
            fprintf(f, "%s", n++ ? ", " : "");
            sweep_json_string(f, s->points[i].key);
        }
    fprintf(f, "],\n \"configurations\": [\n");
    for (size_t i = 0; i < s->n_points; i++) {
        json_point(f, s, i, pareto[i]);
        fprintf(f, "%s\n", i + 1 < s->n_points ? "," : "");
    }
    fprintf(f, " ]}\n");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mxu_fail(MXU_ERR_IO, "%s: write error", path) : MXU_OK;
}

/* ---- summary -------------------------------------------------------------------- */

/* Largest |model error| over the layers of a result; NAN without a check. */
static double worst_layer_error(const struct sweep_result *r, const char **name)
{
    double worst = NAN;
    for (uint32_t k = 0; k < r->n_layers; k++) {
        double e = sweep_model_error_pct(r->layers[k].model_cycles, r->layers[k].cycles);
        if (!isnan(e) && (isnan(worst) || fabs(e) > fabs(worst))) {
            worst = e;
            *name = r->layers[k].name;
        }
    }
    return worst;
}

void sweep_print_summary(const struct sweep *s, const int *pareto, FILE *f)
{
    int check = strcmp(s->backend, "model") != 0;
    fprintf(f, "%-24s %14s %7s %14s %14s %14s", "configuration", "cycles", "util", "ideal", "SCALE-Sim", "DRAM bytes");
    if (check)
        fprintf(f, " %16s", "model err (worst)");
    fprintf(f, " %14s\n", "area");
    for (size_t i = 0; i < s->n_points; i++) {
        const struct sweep_result *r = &s->results[i];
        if (!r->ok) {
            fprintf(f, "%-24s failed: %s\n", s->points[i].label, r->error);
            continue;
        }
        struct sweep_total t;
        sweep_total(r, &s->points[i].cfg, &t);
        fprintf(f, "%-24s %14" PRIu64 " %6.1f%% %14" PRIu64 " %14" PRIu64 " %14" PRIu64, s->points[i].label, t.cycles,
                100 * t.utilization, t.ideal, t.scalesim, t.dram_rd + t.dram_wr);
        if (check) {
            const char *name = "";
            double w = worst_layer_error(r, &name);
            fprintf(f, " %+15.2f%%", isnan(w) ? 0.0 : w);
        }
        double a = sweep_area_value(s, &r->area);
        if (a >= 0)
            fprintf(f, " %14.0f%s\n", a, pareto[i] ? " *" : "");
        else
            fprintf(f, " %14s\n", "-");
    }
}
