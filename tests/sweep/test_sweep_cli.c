/* `mxu sweep` as a user runs it: a tiny network on two configurations of the
 * model backend (CSV and JSON columns, totals equal to the sum of the layers),
 * a rerun that measures nothing again, a SCALE-Sim topology and config in
 * child processes, the area plumbing with a stand-in area script, one small
 * RTL-vs-model check, and misuse answered with exit status 2. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/files.h"

struct run {
    int status;
    char out[16384];
};

/* Run `[ENV] mxu ARGS` through the shell, stdout and stderr together. */
static struct run mxu_env(const char *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct run mxu_env(const char *env, const char *fmt, ...)
{
    struct run r = {0};
    char args[2048], cmd[2600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *bin = getenv("MXU_BIN") ? getenv("MXU_BIN") : "build/bin/mxu";
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", env ? env : "", bin, args);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    size_t n = fread(r.out, 1, sizeof r.out - 1, f);
    r.out[n] = 0;
    int st = pclose(f);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

/* A directory of our own for one test. */
static void test_dir(char *dir, size_t len, const char *name)
{
    char cmd[600];
    snprintf(dir, len, "/tmp/mxu-sweep-%d-%s", (int)getpid(), name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    cr_assert_eq(system(cmd), 0);
}

/* A file the tool must have written. */
static const char *read_file(const char *path)
{
    const char *text = test_read_file(path);
    cr_assert_not_null(text, "%s missing", path);
    return text;
}

static const char tiny_cfg[] = "[net]\nheight=12\nwidth=12\nchannels=1\n\n"
                               "[convolutional]\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=relu\n\n"
                               "[maxpool]\nsize=2\nstride=2\n\n"
                               "[connected]\noutput=10\nactivation=linear\n\n[softmax]\n";

/* ---- CSV -------------------------------------------------------------------------- */

#define MAX_COLS 40
struct csv_row {
    int n;
    char f[MAX_COLS][64];
};

static int split_csv(const char *line, struct csv_row *r)
{
    r->n = 0;
    const char *p = line;
    for (;;) {
        size_t len = strcspn(p, ",\n");
        cr_assert_lt(r->n, MAX_COLS);
        snprintf(r->f[r->n++], sizeof r->f[0], "%.*s", (int)len, p);
        if (p[len] != ',')
            break;
        p += len + 1;
    }
    return r->n;
}

static int col(const struct csv_row *header, const char *name)
{
    for (int i = 0; i < header->n; i++)
        if (!strcmp(header->f[i], name))
            return i;
    cr_assert_fail("no column %s", name);
    return -1;
}

static unsigned long long num(const struct csv_row *r, int c)
{
    return strtoull(r->f[c], NULL, 10);
}

/* Every configuration's total row equals the sum of its layer rows; returns
 * how many configurations there were. */
static int check_totals(const char *csv, struct csv_row *header)
{
    static const char *const summed[] = {"macs", "cycles", "ideal_cycles", "scalesim_cycles", "dram_rd_bytes",
                                         "dram_wr_bytes"};
    unsigned long long sum[6] = {0};
    int configs = 0, layers = 0;
    const char *line = csv;
    split_csv(line, header);
    while ((line = strchr(line, '\n')) && *++line) {
        struct csv_row r;
        cr_assert_eq(split_csv(line, &r), header->n, "ragged row: %.200s", line);
        int is_total = !strcmp(r.f[col(header, "layer")], "total");
        for (int k = 0; k < 6; k++) {
            if (is_total)
                cr_assert_eq(num(&r, col(header, summed[k])), sum[k], "%s of %s", summed[k], r.f[0]);
            sum[k] = is_total ? 0 : sum[k] + num(&r, col(header, summed[k]));
        }
        if (is_total) {
            cr_assert_gt(layers, 0);
            cr_assert_gt(num(&r, col(header, "cycles")), 0);
            configs++;
            layers = 0;
        } else {
            layers++;
        }
    }
    cr_assert_eq(layers, 0, "layer rows after the last total");
    return configs;
}

/* The row of configuration `key`, layer `layer`. */
static void find_row(const char *csv, const struct csv_row *header, const char *key, const char *layer,
                     struct csv_row *row)
{
    const char *line = csv;
    while ((line = strchr(line, '\n')) && *++line) {
        split_csv(line, row);
        if (!strcmp(row->f[col(header, "config")], key) && !strcmp(row->f[col(header, "layer")], layer))
            return;
    }
    cr_assert_fail("no row %s / %s", key, layer);
}

static int have_gnuplot(void)
{
    return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

Test(sweep, tiny_network_on_two_configurations)
{
    char dir[256], path[400];
    test_dir(dir, sizeof dir, "tiny");
    snprintf(path, sizeof path, "%s/net.cfg", dir);
    test_write_file(path, tiny_cfg);
    struct run r = mxu_env(NULL, "sweep %s --rows 4,8 --cols 4 --no-area -o %s/out", path, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "[1/2] 4x4") && strstr(r.out, "[2/2] 8x4"), "%s", r.out);
    cr_assert(strstr(r.out, "ETA"), "%s", r.out);
    cr_assert(strstr(r.out, "area  none: skipped (--no-area)"), "%s", r.out);
    snprintf(path, sizeof path, "%s/out/sweep.csv", dir);
    const char *csv = read_file(path);
    static const char columns[] = "config,label,rows,cols,ub_bytes,acc_rows,wb_lines,beat,bw,latency,backend,layer,"
                                  "op,where,macs,cycles,ideal_cycles,utilization,scalesim_cycles,dram_rd_bytes,"
                                  "dram_wr_bytes,model_cycles,model_error_pct,area,area_cells,area_transistors,"
                                  "area_mem_bits,lut,ff,dsp,bram\n";
    cr_assert(!strncmp(csv, columns, strlen(columns)), "%.300s", csv);
    struct csv_row header;
    cr_assert_eq(check_totals(csv, &header), 2);
    /* conv (with its pool), fc, softmax on the host, then the total: per configuration */
    cr_assert(strstr(csv, "model-4x4-bw16-lat10,4x4,4,4,"), "%.400s", csv);
    cr_assert(strstr(csv, ",softmax,host,"), "%.600s", csv);
    snprintf(path, sizeof path, "%s/out/sweep.json", dir);
    const char *json = read_file(path);
    cr_assert(strstr(json, "\"key\": \"model-8x4-bw16-lat10\""), "%.400s", json);
    cr_assert(strstr(json, "\"kind\": \"network\""));
    cr_assert(strstr(json, "\"total\": {\"macs\": "));
    cr_assert(strstr(json, "\"area_source\": \"none: skipped (--no-area)\""));
    snprintf(path, sizeof path, "%s/out/runs/model-4x4-bw16-lat10.json", dir);
    cr_assert_eq(access(path, R_OK), 0);
    if (have_gnuplot()) {
        snprintf(path, sizeof path, "%s/out/cycles.png", dir);
        cr_assert_eq(access(path, R_OK), 0, "%s", r.out);
        snprintf(path, sizeof path, "%s/out/utilization.png", dir);
        cr_assert_eq(access(path, R_OK), 0, "%s", r.out);
    }
}

static long long mtime_ns(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s", path);
    return (long long)st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
}

Test(sweep, rerun_reuses_finished_configurations)
{
    char dir[256], net[400], a[400], b[400], csv_path[400], csv1[1 << 14];
    test_dir(dir, sizeof dir, "resume");
    snprintf(net, sizeof net, "%s/net.cfg", dir);
    test_write_file(net, tiny_cfg);
    struct run r = mxu_env(NULL, "sweep %s --shapes 4x4,8x8 --no-area -o %s/out", net, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "0 cached"), "%s", r.out);
    snprintf(a, sizeof a, "%s/out/runs/model-4x4-bw16-lat10.json", dir);
    snprintf(b, sizeof b, "%s/out/runs/model-8x8-bw16-lat10.json", dir);
    long long ta = mtime_ns(a), tb = mtime_ns(b);
    snprintf(csv_path, sizeof csv_path, "%s/out/sweep.csv", dir);
    snprintf(csv1, sizeof csv1, "%s", read_file(csv_path));
    /* the same sweep again: nothing measured, the same results */
    r = mxu_env(NULL, "sweep %s/net.cfg --shapes 4x4,8x8 --no-area -o %s/out", dir, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "2 cached in") && strstr(r.out, "0 to run"), "%s", r.out);
    cr_assert_null(strstr(r.out, "[1/"), "%s", r.out);
    cr_assert_eq(mtime_ns(a), ta);
    cr_assert_eq(mtime_ns(b), tb);
    cr_assert_str_eq(read_file(csv_path), csv1);
    /* one result lost (an interrupted sweep): only it is measured */
    cr_assert_eq(unlink(b), 0);
    r = mxu_env(NULL, "sweep %s/net.cfg --shapes 4x4,8x8 --no-area -o %s/out", dir, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "1 cached in") && strstr(r.out, "1 to run") && strstr(r.out, "[1/1] 8x8"), "%s", r.out);
    cr_assert_eq(mtime_ns(a), ta);
    cr_assert_str_eq(read_file(csv_path), csv1);
    /* another seed is another workload: nothing reused */
    r = mxu_env(NULL, "sweep %s/net.cfg --shapes 4x4,8x8 --seed 7 --no-area -o %s/out", dir, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "0 cached"), "%s", r.out);
}

static const char topo_csv[] = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                               "Num Filter, Strides,\nC1, 8, 8, 3, 3, 4, 8, 1,\nC2, 6, 6, 1, 1, 8, 16, 1,\n";
static const char topo_cfg[] = "[general]\nrun_name = tiny\n[architecture_presets]\nArrayHeight: 4\n"
                               "ArrayWidth: 8\nIfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 32\n"
                               "Dataflow: os\nBandwidth: 8\n[run_presets]\nInterfaceBandwidth: USER\n";

Test(sweep, scalesim_topology_and_config_in_child_processes)
{
    char dir[256], t[400], c[400], path[400];
    test_dir(dir, sizeof dir, "topo");
    snprintf(t, sizeof t, "%s/tiny.csv", dir);
    snprintf(c, sizeof c, "%s/tiny.cfg", dir);
    test_write_file(t, topo_csv);
    test_write_file(c, topo_cfg);
    struct run r = mxu_env(NULL, "sweep %s --scalesim-config %s --bw 4,8 --jobs 2 --no-area -o %s/out", t, c, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "Dataflow os; mxu is weight-stationary"), "%s", r.out);
    cr_assert(strstr(r.out, "in child processes"), "%s", r.out);
    snprintf(path, sizeof path, "%s/out/sweep.csv", dir);
    const char *csv = read_file(path);
    struct csv_row header;
    cr_assert_eq(check_totals(csv, &header), 2);
    /* 4x8 from the config; ub 64 kB of 8-byte lines, 64 kB of 8-weight lines, 32 kB of 8 int32 */
    cr_assert(strstr(csv, "model-4x8-ub64K-wb8K-bw4-lat10,4x8 bw4,4,8,65536,1024,8192,16,4,10,model,C1,"
                          "conv2d,device,10368,"),
              "%.500s", csv);
    /* C1: T = 36, K = 36, N = 8 on 4x8: (8 + 8 + 36 - 2) * 9 * 1 = 450 */
    struct csv_row row;
    find_row(csv, &header, "model-4x8-ub64K-wb8K-bw8-lat10", "C1", &row);
    cr_assert_eq(num(&row, col(&header, "scalesim_cycles")), 450);
    cr_assert_eq(num(&row, col(&header, "ideal_cycles")), 10368 / 32);
    snprintf(path, sizeof path, "%s/out/sweep.json", dir);
    const char *json = read_file(path);
    cr_assert(strstr(json, "\"kind\": \"topology\""));
    cr_assert(strstr(json, "\"scalesim_config\": "));
}

/* A stand-in for scripts/synth_area.sh: area grows with the array. */
static const char fake_area[] =
    "#!/bin/bash\nr=$1 c=$2\n"
    "echo \"{\\\"config\\\": \\\"${r}x${c}\\\", \\\"cells\\\": $((r*c*100)), \\\"ff_generic\\\": 5, "
    "\\\"mem_bits\\\": 1000, \\\"transistors\\\": $((r*c*1000)), \\\"lut\\\": $((r*c*50)), \\\"ff\\\": 7, "
    "\\\"dsp\\\": 0, \\\"bram\\\": 3, \\\"lutram\\\": null, \\\"seconds\\\": 0.5}\"\n";

Test(sweep, area_from_the_area_script_and_pareto_front)
{
    char dir[256], net[400], script[400], env[600], path[400];
    test_dir(dir, sizeof dir, "area");
    snprintf(net, sizeof net, "%s/net.cfg", dir);
    test_write_file(net, tiny_cfg);
    snprintf(script, sizeof script, "%s/area.sh", dir);
    test_write_file(script, fake_area);
    snprintf(env, sizeof env, "MXU_SYNTH_AREA=%s", script);
    struct run r = mxu_env(env, "sweep %s --shapes 4x4,8x8,8x4 --bw 8,16 -o %s/out", net, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "area of 3 hardware configurations"), "%s", r.out); /* bandwidths share one */
    snprintf(path, sizeof path, "%s/out/sweep.json", dir);
    const char *json = read_file(path);
    /* area = transistors + 6 per memory bit */
    cr_assert(strstr(json, "\"area\": {\"value\": 22000, \"cells\": 1600, \"ff_generic\": 5, \"mem_bits\": 1000, "
                           "\"transistors\": 16000, \"lut\": 800, \"ff\": 7, \"dsp\": 0, \"bram\": 3, \"lutram\": -1"),
              "%.2000s", json);
    /* the smallest array at the full bandwidth is on the front (least area); at
     * bw 8 it is dominated by itself at bw 16 (same area, fewer cycles) */
    cr_assert(strstr(json, "\"pareto\": [\"model-4x4-bw16-lat10\""), "%.300s", json);
    cr_assert_null(strstr(json, "\"pareto\": [\"model-4x4-bw8-lat10\""));
    snprintf(path, sizeof path, "%s/out/sweep.csv", dir);
    cr_assert(strstr(read_file(path), ",16000,1000,800,7,0,3\n"));
    if (have_gnuplot()) {
        snprintf(path, sizeof path, "%s/out/area.png", dir);
        cr_assert_eq(access(path, R_OK), 0, "%s", r.out);
    }
    /* no script: no area, and the sweep says so */
    r = mxu_env("MXU_SYNTH_AREA=/nonexistent/synth_area.sh", "sweep %s --shapes 4x4 -o %s/out2", net, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "area  none: /nonexistent/synth_area.sh is not there"), "%s", r.out);
    /* a failing script: reported per configuration, not invented */
    test_write_file(script, "#!/bin/bash\necho 'yosys: out of memory' >&2\nexit 3\n");
    r = mxu_env(env, "sweep %s --shapes 4x4 -o %s/out3", net, dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "no area: synthesis failed (exit 3") && strstr(r.out, "yosys: out of memory"), "%s",
              r.out);
}

Test(sweep, rtl_matches_the_model, .timeout = 120)
{
    char dir[256], t[400], path[400];
    test_dir(dir, sizeof dir, "rtl");
    snprintf(t, sizeof t, "%s/one.csv", dir);
    test_write_file(t, "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                  "Strides,\nC1, 10, 10, 3, 3, 6, 8, 1,\nLayer2, 5, 5, 2, 2, 8, 4, 2,\n");
    struct run r = mxu_env(NULL, "sweep %s --shapes 4x4 --bw 4,16 --backend rtl --max-error 0 --no-area -o %s/out", t,
                           dir);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "model vs rtl: worst layer error +0.000%"), "%s", r.out);
    snprintf(path, sizeof path, "%s/out/sweep.csv", dir);
    const char *csv = read_file(path);
    struct csv_row header;
    cr_assert_eq(check_totals(csv, &header), 2);
    const char *line = csv;
    int checked = 0;
    while ((line = strchr(line, '\n')) && *++line) {
        struct csv_row row;
        split_csv(line, &row);
        cr_assert_str_eq(row.f[col(&header, "model_cycles")], row.f[col(&header, "cycles")]);
        cr_assert_str_eq(row.f[col(&header, "model_error_pct")], "0.000");
        checked++;
    }
    cr_assert_eq(checked, 6);
}

Test(sweep, misuse_is_refused)
{
    char dir[256], path[400];
    test_dir(dir, sizeof dir, "misuse");
    struct run r = mxu_env(NULL, "sweep %s/none.cfg --rows 8", dir);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.out, "usage: mxu sweep"), "%s", r.out);
    r = mxu_env(NULL, "sweep %s/none.cfg -o %s/out", dir, dir);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.out, "none.cfg"), "%s", r.out);
    snprintf(path, sizeof path, "%s/net.cfg", dir);
    test_write_file(path, tiny_cfg);
    r = mxu_env(NULL, "sweep %s --rows 8,,16 -o %s/out", path, dir);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.out, "--rows '8,,16'"), "%s", r.out);
    r = mxu_env(NULL, "sweep %s --rows 8,8 -o %s/out", path, dir);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.out, "a list repeats a value"), "%s", r.out);
    r = mxu_env(NULL, "sweep %s --rows 8 --shapes 8x8 -o %s/out", path, dir);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.out, "--shapes or --rows/--cols"), "%s", r.out);
    r = mxu_env(NULL, "sweep %s --rows 300 -o %s/out", path, dir);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.out, "rows=300 outside 1..256"), "%s", r.out);
    r = mxu_env(NULL, "sweep %s --area-metric volume -o %s/out", path, dir);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.out, "--area-metric"), "%s", r.out);
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    test_write_file(path, "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                     "Strides,\nC1, 8, 8, 3, 3, 4, x, 1,\n");
    r = mxu_env(NULL, "sweep %s -o %s/out", path, dir);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.out, "bad.csv:2: layer 'C1', column 7 (Num Filter): 'x'"), "%s", r.out);
    /* a configuration that cannot hold the network fails, named, and the others are still reported */
    snprintf(path, sizeof path, "%s/net.cfg", dir);
    r = mxu_env(NULL, "sweep %s --shapes 4x4 --ub 64,64K --no-area -o %s/out", path, dir);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "1 of 2 configurations failed"), "%s", r.out);
    cr_assert(strstr(r.out, "4x4 ub64K"), "%s", r.out);
}
