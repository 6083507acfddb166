/* mxu bench matmul|alexnet: layers with seeded random weights, measured on a
 * backend against the ideal and SCALE-Sim's weight-stationary formula. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/alexnet_layers.h"
#include "cli.h"
#include "mxu_layer_program.h"
#include "mxu_scalesim.h"

static const char bench_usage[] =
    "matmul|alexnet [--backend model|rtl|icarus] [--arch KEY=V,...] [--option KEY=V,...]\n"
    "                 [--m M --k K --n N] [--json]\n"
    "  matmul:  one M x K by K x N int8 matmul (default 4096 x 256 x 256) as an FC layer.\n"
    "  alexnet: AlexNet's layers with Caffe's shapes (groups), batch 1.\n"
    "  Per layer: MACs, cycles, utilization = MACs / (cycles x ROWS x COLS), the ideal\n"
    "  cycles MACs / (ROWS x COLS), SCALE-Sim's weight-stationary cycles\n"
    "  (2R + C + T - 2) x ceil(K/R) x ceil(N/C) per group, DRAM bytes.\n";

struct bench_row {
    const char *name;
    uint64_t macs, cycles, ideal, scalesim, dram;
};

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

static int run_layer(const char *uri, const mxu_hw_config *cfg, const struct mxu_layer_desc *d,
                     struct bench_row *row)
{
    mxu_program *p = NULL;
    mxu_device *dev = NULL;
    mxu_counters c;
    int rc = mxu_build_layer_program(cfg, d, 1, &p);
    if (rc == MXU_OK)
        rc = mxu_open(uri, &dev);
    if (rc == MXU_OK)
        rc = mxu_program_load(dev, p);
    if (rc == MXU_OK)
        rc = mxu_program_run(dev, p, 0, &c);
    if (rc == MXU_OK) {
        row->name = d->name;
        row->macs = mxu_layer_desc_macs(d);
        row->cycles = c.cycles;
        row->ideal = ceil_div(row->macs, (uint64_t)cfg->rows * cfg->cols);
        row->scalesim = mxu_scalesim_desc_cycles(d, cfg->rows, cfg->cols);
        row->dram = c.dram_rd_bytes + c.dram_wr_bytes;
    }
    mxu_close(dev);
    mxu_program_free(p);
    return rc;
}

static double util(const struct bench_row *r, const mxu_hw_config *cfg)
{
    return r->cycles ? (double)r->macs / ((double)r->cycles * cfg->rows * cfg->cols) : 0;
}

static void print_table(const struct bench_row *rows, size_t n, const mxu_hw_config *cfg,
                        const char *backend, const struct bench_row *tot)
{
    printf("%s backend, %ux%u array\n", backend, cfg->rows, cfg->cols);
    printf("%-8s %14s %12s %8s %12s %12s %9s %12s\n", "layer", "MACs", "cycles", "util", "ideal",
           "scalesim", "vs ss", "DRAM bytes");
    for (size_t i = 0; i <= n; i++) {
        const struct bench_row *r = i < n ? &rows[i] : tot;
        printf("%-8s %14" PRIu64 " %12" PRIu64 " %7.1f%% %12" PRIu64 " %12" PRIu64 " %8.3fx %12" PRIu64 "\n",
               r->name, r->macs, r->cycles, 100 * util(r, cfg), r->ideal, r->scalesim,
               r->cycles ? (double)r->scalesim / (double)r->cycles : 0.0, r->dram);
    }
}

static void print_json(const struct bench_row *rows, size_t n, const mxu_hw_config *cfg,
                       const char *backend, const struct bench_row *tot)
{
    printf("{\"backend\": \"%s\", \"rows\": %u, \"cols\": %u, \"layers\": [", backend, cfg->rows, cfg->cols);
    for (size_t i = 0; i < n; i++)
        printf("%s{\"name\": \"%s\", \"macs\": %" PRIu64 ", \"cycles\": %" PRIu64
               ", \"utilization\": %.4f, \"ideal_cycles\": %" PRIu64 ", \"scalesim_cycles\": %" PRIu64
               ", \"dram_bytes\": %" PRIu64 "}",
               i ? ", " : "", rows[i].name, rows[i].macs, rows[i].cycles, util(&rows[i], cfg),
               rows[i].ideal, rows[i].scalesim, rows[i].dram);
    printf("], \"total_cycles\": %" PRIu64 ", \"total_macs\": %" PRIu64 ", \"utilization\": %.4f}\n",
           tot->cycles, tot->macs, util(tot, cfg));
}

struct bench_args {
    const char *what, *backend, *arch, *options;
    uint64_t m, k, n;
    int json;
};

static int parse(int argc, char **argv, struct bench_args *a)
{
    const char *v;
    int missing;
    *a = (struct bench_args){.backend = "model", .arch = "", .m = 4096, .k = 256, .n = 256};
    for (int i = 1; i < argc; i++) {
        uint64_t *num = NULL;
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu bench %s", bench_usage);
            exit(CLI_OK);
        } else if (cli_flag(argv[i], "--json")) {
            a->json = 1;
        } else if ((v = cli_opt(argc, argv, &i, "--backend", &missing))) {
            a->backend = v;
        } else if ((v = cli_opt(argc, argv, &i, "--arch", &missing))) {
            a->arch = v;
        } else if ((v = cli_opt(argc, argv, &i, "--option", &missing))) {
            a->options = v;
        } else if ((v = cli_opt(argc, argv, &i, "--m", &missing)) && (num = &a->m)) {
        } else if ((v = cli_opt(argc, argv, &i, "--k", &missing)) && (num = &a->k)) {
        } else if ((v = cli_opt(argc, argv, &i, "--n", &missing)) && (num = &a->n)) {
        } else if (missing) {
            return cli_error("bench", 0, "%s needs a value", argv[i]);
        } else if (argv[i][0] != '-' && !a->what) {
            a->what = argv[i];
        } else {
            return cli_usage("bench", bench_usage);
        }
        if (num && (!cli_parse_u64(v, num) || *num == 0 || *num > 1u << 24))
            return cli_error("bench", 0, "bad size '%s'", v);
    }
    if (!a->what || (strcmp(a->what, "matmul") && strcmp(a->what, "alexnet")))
        return cli_usage("bench", bench_usage);
    return CLI_OK;
}

int cmd_bench(int argc, char **argv)
{
    struct bench_args a;
    mxu_hw_config cfg;
    char uri[600], cfgs[400];
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc;
    mxu_config_default(&cfg);
    if ((rc = mxu_config_parse(&cfg, a.arch)) || (rc = mxu_config_validate(&cfg)))
        return cli_error("bench", rc, "--arch %s", a.arch);
    mxu_config_format(&cfg, cfgs, sizeof cfgs);
    snprintf(uri, sizeof uri, "%s:%s%s%s", a.backend, cfgs, a.options ? "," : "", a.options ? a.options : "");
    struct mxu_layer_desc mm = BENCH_FC("matmul", (uint32_t)a.k, (uint32_t)a.n);
    mm.n = (uint32_t)a.m;
    const struct mxu_layer_desc *layers = strcmp(a.what, "matmul") ? bench_alexnet : &mm;
    size_t n = strcmp(a.what, "matmul") ? BENCH_ALEXNET_LAYERS : 1;
    struct bench_row rows[16], tot = {.name = "total"};
    for (size_t i = 0; i < n; i++) {
        if ((rc = run_layer(uri, &cfg, &layers[i], &rows[i])))
            return cli_error("bench", rc, "layer %s on %s", layers[i].name, a.backend);
        tot.macs += rows[i].macs, tot.cycles += rows[i].cycles, tot.ideal += rows[i].ideal;
        tot.scalesim += rows[i].scalesim, tot.dram += rows[i].dram;
    }
    if (a.json)
        print_json(rows, n, &cfg, a.backend, &tot);
    else
        print_table(rows, n, &cfg, a.backend, &tot);
    return CLI_OK;
}
