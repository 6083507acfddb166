/* mxu sweep: the pieces shared by cmd_sweep.c and sweep_*.c.
 *
 *   sweep_workload.c  what is measured: a network (compiled per configuration)
 *                     or a SCALE-Sim topology (one program per layer)
 *   sweep_run.c       one configuration on a backend, and running them all
 *                     (in process or in child processes) with progress
 *   sweep_pool.c      child processes with deadlines, interruptible
 *   sweep_cache.c     DIR/runs/<key>.json: results that a rerun reuses
 *   sweep_json.c      a small JSON reader (cached runs, the area script's line)
 *   sweep_area.c      area from scripts/synth_area.sh, per hardware configuration
 *   sweep_report.c    DIR/sweep.csv, DIR/sweep.json, the summary table, Pareto front
 *   sweep_plot.c      the PNG plots, drawn by gnuplot */
#ifndef MXU_SWEEP_H
#define MXU_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mxu.h"
#include "mxu_scalesim.h"

#define SWEEP_FORMAT 1 /* version of DIR/runs/<key>.json */
#define SWEEP_MAX_AXIS 16

enum sweep_kind { SWEEP_NETWORK, SWEEP_TOPOLOGY };

struct sweep_workload {
    enum sweep_kind kind;
    char path[1024];
    char name[MXU_NAME_LEN];
    struct mxu_scalesim_topology *topo; /* SWEEP_TOPOLOGY */
    uint64_t seed;                      /* random weights */
    uint64_t bytes;
    uint32_t crc;                       /* of the file: a cached run of other contents is stale */
};

/* The programs measuring a workload on one hardware configuration. */
struct sweep_programs {
    uint32_t n;
    mxu_program **progs; /* network: one compiled program; topology: one per layer */
};

/* One point of the design space. */
struct sweep_point {
    mxu_hw_config cfg;
    uint32_t bw, latency;   /* DRAM bytes per cycle (<= beat), read latency in cycles */
    char hw_name[160];      /* mxu_config_name: RTL builds and area are per hardware */
    char key[224];          /* DIR/runs/<key>.json */
    char label[96];         /* the values that vary across the sweep, e.g. "16x16 bw8" */
};

struct sweep_layer {
    char name[MXU_NAME_LEN], op[16];
    int on_host;
    uint64_t macs, cycles, ideal, scalesim, dram_rd, dram_wr;
    int64_t model_cycles; /* --backend rtl: the model's prediction; -1 otherwise */
};

/* Area of a hardware configuration (scripts/synth_area.sh). Counts are -1 when
 * the script gave none (e.g. no 7-series run). */
enum sweep_area_status { AREA_NONE = 0, AREA_OK = 1, AREA_FAILED = -1 };
struct sweep_area {
    enum sweep_area_status status;
    char note[400]; /* AREA_NONE / AREA_FAILED: why */
    int64_t cells, ff_generic, mem_bits, transistors, lut, ff, dsp, bram, lutram;
    double seconds; /* synthesis time the script reported */
};

struct sweep_result {
    int done;   /* measured (ok or failed) */
    int ok;
    int cached; /* reused from DIR/runs */
    char error[600];
    double compile_seconds;        /* building the programs (compiling a network) */
    double seconds, model_seconds; /* wall time of the backend run, of the model check */
    double open_seconds;           /* of `seconds`: opening the device (a new RTL configuration builds) */
    uint32_t n_layers;
    struct sweep_layer *layers;
    struct sweep_area area;
};

/* Totals of a result's layers (host layers count 0 cycles). */
struct sweep_total {
    uint64_t macs, cycles, ideal, scalesim, dram_rd, dram_wr;
    int64_t model_cycles; /* -1 when no layer has one */
    double utilization;   /* macs / (cycles * rows * cols) */
};

struct sweep_axes {
    uint32_t rows[SWEEP_MAX_AXIS], cols[SWEEP_MAX_AXIS], wb[SWEEP_MAX_AXIS], acc[SWEEP_MAX_AXIS];
    uint64_t ub[SWEEP_MAX_AXIS];
    uint32_t bw[SWEEP_MAX_AXIS];
    size_t n_rows, n_cols, n_ub, n_acc, n_wb, n_bw;
    int paired; /* --shapes: rows[i] x cols[i] (n_cols = 1), not every rows x cols */
};

struct sweep {
    /* options */
    const char *model_path, *out_dir, *backend, *options, *scalesim_cfg_path, *area_metric;
    struct sweep_axes axes;
    uint32_t latency;
    unsigned jobs;
    int no_area, quiet;
    int area_generic; /* --area generic: no 7-series synthesis (much faster) */
    double area_timeout, max_error;
    /* state */
    struct sweep_workload work;
    struct mxu_scalesim_config scalesim_cfg;
    int have_scalesim_cfg;
    mxu_hw_config base;
    size_t n_points;
    struct sweep_point *points;
    struct sweep_result *results;
    char area_source[1600]; /* where the area came from (or why there is none) */
    double run_seconds, area_seconds;
};

/* sweep_workload.c */
int sweep_workload_open(const char *path, uint64_t seed, struct sweep_workload *w);
void sweep_workload_close(struct sweep_workload *w);
int sweep_programs_build(const struct sweep_workload *w, const mxu_hw_config *cfg, struct sweep_programs *out);
void sweep_programs_free(struct sweep_programs *p);
/* "network" or "topology" */
const char *sweep_kind_name(enum sweep_kind k);

/* sweep_run.c */
/* Measure one point (programs may be NULL: built here). Fills res (ok or error). */
void sweep_measure(const struct sweep *s, const struct sweep_point *pt, struct sweep_programs *progs,
                   struct sweep_result *res);
/* Every point not cached, with progress on stderr. Returns MXU_OK, or
 * MXU_ERR_IO when interrupted. */
int sweep_run_all(struct sweep *s);
void sweep_total(const struct sweep_result *r, const mxu_hw_config *cfg, struct sweep_total *t);
double sweep_now(void);
void sweep_result_clear(struct sweep_result *r);

/* sweep_pool.c: run items 0..n-1 as child processes, at most jobs at a time.
 * start forks one (returns its pid, or -1 after printing why); done is called
 * in the parent as each exits (timed_out: killed after timeout seconds, 0 = no
 * limit). Children get their own process group; SIGINT/SIGTERM kill them all
 * and make the pool return MXU_ERR_IO ("interrupted"). */
typedef pid_t (*sweep_start_fn)(void *ctx, size_t item);
typedef void (*sweep_done_fn)(void *ctx, size_t item, int wait_status, double seconds, int timed_out);
int sweep_pool_run(size_t n, unsigned jobs, double timeout, sweep_start_fn start, sweep_done_fn done, void *ctx);
/* Called by a child right after fork (own process group, default signals). */
void sweep_pool_child_setup(void);
int sweep_interrupted(void);

/* sweep_cache.c */
void sweep_run_path(const struct sweep *s, const struct sweep_point *pt, char *buf, size_t len);
/* The identity of what a cached run measured (workload, seed, backend, URI). */
void sweep_fingerprint(const struct sweep *s, const struct sweep_point *pt, char *buf, size_t len);
/* Write atomically (temporary file, rename). */
int sweep_cache_write(const struct sweep *s, const struct sweep_point *pt, const struct sweep_result *r);
/* 1 and res filled when DIR/runs/<key>.json holds a successful run of the same
 * fingerprint; 0 otherwise (absent, stale, failed or unreadable). */
int sweep_cache_read(const struct sweep *s, const struct sweep_point *pt, struct sweep_result *res);
/* A failed run's error from its file (written by a child), 1 if found. */
int sweep_cache_read_error(const struct sweep *s, const struct sweep_point *pt, char *err, size_t len);
void sweep_json_string(FILE *f, const char *s);
/* The device URI of a point: "BACKEND:CONFIG,bw=B,latency=L[,OPTIONS]". */
void sweep_uri(const struct sweep *s, const struct sweep_point *pt, const char *backend, char *buf, size_t len);

/* sweep_json.c: enough JSON for our own files and the area script's line. */
enum sj_type { SJ_NULL, SJ_BOOL, SJ_NUMBER, SJ_STRING, SJ_ARRAY, SJ_OBJECT };
struct sj {
    enum sj_type type;
    double num;
    int64_t integer; /* SJ_NUMBER written without fraction or exponent */
    int is_integer;
    char *str;       /* SJ_STRING */
    size_t n;        /* SJ_ARRAY / SJ_OBJECT */
    char **keys;     /* SJ_OBJECT */
    struct sj *items;
};
/* Parse text into *root; returns 0, or -1 with *err_at set to the offending offset. */
int sj_parse(const char *text, size_t len, struct sj *root, size_t *err_at);
void sj_free(struct sj *v);
const struct sj *sj_get(const struct sj *obj, const char *key);
int64_t sj_int(const struct sj *obj, const char *key, int64_t dflt);
double sj_num(const struct sj *obj, const char *key, double dflt);
const char *sj_str(const struct sj *obj, const char *key);
int sj_read_file(const char *path, struct sj *root);

/* sweep_area.c: fills s->results[*].area and s->area_source. */
int sweep_area_all(struct sweep *s);
/* The area figure plotted and used for the Pareto front (s->area_metric), or
 * -1 when unknown. */
double sweep_area_value(const struct sweep *s, const struct sweep_area *a);
const char *sweep_area_metric_label(const char *metric);

/* sweep_report.c */
/* pareto[i] = 1 for points on the cycles-vs-area Pareto front (0 without area). */
void sweep_pareto(const struct sweep *s, int *pareto);
int sweep_write_csv(const struct sweep *s, const char *path);
int sweep_write_json(const struct sweep *s, const int *pareto, const char *path);
void sweep_print_summary(const struct sweep *s, const int *pareto, FILE *f);
double sweep_model_error_pct(int64_t model, uint64_t rtl);

/* sweep_plot.c: DIR/utilization.png, DIR/cycles.png, DIR/area.png (with area).
 * Writes the gnuplot scripts and data next to them; returns MXU_OK or an error
 * (gnuplot missing or failing) with a detail. */
int sweep_plot_all(const struct sweep *s, const int *pareto, char *made, size_t made_len);

#endif
