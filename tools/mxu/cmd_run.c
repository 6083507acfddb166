/* mxu run PROGRAM.mxp --backend model|rtl|icarus [...] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mxu_crc32.h"
#include "mxu_reference.h"

static const char run_usage[] =
    "PROGRAM.mxp [--backend model|rtl|icarus] [--arch KEY=V,...] [--option KEY=V,...]\n"
    "            [--input FILE | --random-input SEED] [--check] [--json] [--max-cycles N]\n"
    "  Run a program. The device is built with the program's configuration unless\n"
    "  --arch overrides it; --option passes backend options (latency=, bw=, trace=...).\n"
    "  --input reads the raw bytes of every input tensor, concatenated in tensor order;\n"
    "  --random-input fills them from a seed (default: seed 1). --check also runs the\n"
    "  golden kernels on the same inputs and prints 'match' or the first mismatch.\n"
    "  Exit status: 0 ok, 1 mismatch, 2 error.\n";

struct run_args {
    const char *path, *backend, *arch, *options, *input;
    uint64_t seed, max_cycles;
    int check, json;
};

struct run_result {
    mxu_counters c;
    uint32_t checksum;
    int checked, match;
    char mismatch[256];
    uint64_t macs;
};

static int parse_args(int argc, char **argv, struct run_args *a)
{
    const char *v;
    int missing;
    memset(a, 0, sizeof *a);
    a->backend = "model";
    a->seed = 1;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu run %s", run_usage);
            exit(CLI_OK);
        } else if (cli_flag(argv[i], "--check")) {
            a->check = 1;
        } else if (cli_flag(argv[i], "--json")) {
            a->json = 1;
        } else if ((v = cli_opt(argc, argv, &i, "--backend", &missing))) {
            a->backend = v;
        } else if ((v = cli_opt(argc, argv, &i, "--arch", &missing))) {
            a->arch = v;
        } else if ((v = cli_opt(argc, argv, &i, "--option", &missing))) {
            a->options = v;
        } else if ((v = cli_opt(argc, argv, &i, "--input", &missing))) {
            a->input = v;
        } else if ((v = cli_opt(argc, argv, &i, "--random-input", &missing))) {
            if (!cli_parse_u64(v, &a->seed))
                return cli_error("run", 0, "--random-input needs a number, not '%s'", v);
        } else if ((v = cli_opt(argc, argv, &i, "--max-cycles", &missing))) {
            if (!cli_parse_u64(v, &a->max_cycles))
                return cli_error("run", 0, "--max-cycles needs a number, not '%s'", v);
        } else if (missing) {
            return cli_error("run", 0, "%s needs a value", argv[i]);
        } else if (argv[i][0] == '-' || a->path) {
            return cli_usage("run", run_usage);
        } else {
            a->path = argv[i];
        }
    }
    return a->path ? CLI_OK : cli_usage("run", run_usage);
}

/* "model:rows=16,cols=16,...,latency=20": the program's configuration unless
 * --arch overrides it, then the backend options. */
static int device_uri(const struct run_args *a, const mxu_program *p, char *uri, size_t len)
{
    mxu_hw_config cfg = p->config;
    char cfgs[400];
    int rc = a->arch ? mxu_config_parse(&cfg, a->arch) : MXU_OK;
    if (rc == MXU_OK)
        rc = mxu_config_validate(&cfg);
    if (rc)
        return rc;
    mxu_config_format(&cfg, cfgs, sizeof cfgs);
    int n = snprintf(uri, len, "%s:%s%s%s", a->backend, cfgs, a->options ? "," : "",
                     a->options ? a->options : "");
    return n < 0 || (size_t)n >= len ? mxu_fail(MXU_ERR_INVAL, "device options too long") : MXU_OK;
}

static int fill_inputs(const struct run_args *a, const mxu_program *p, uint8_t *const *v)
{
    FILE *f = a->input ? fopen(a->input, "rb") : NULL;
    uint64_t s = a->seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    if (a->input && !f)
        return mxu_fail(MXU_ERR_NOT_FOUND, "cannot open input %s", a->input);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        if (p->tensors[i].role != MXU_ROLE_INPUT)
            continue;
        size_t n = mxu_tensor_bytes(&p->tensors[i]);
        if (f && fread(v[i], 1, n, f) != n) {
            fclose(f);
            return mxu_fail(MXU_ERR_FORMAT, "%s ends before input tensor %s (%zu bytes)", a->input,
                            p->tensors[i].name, n);
        }
        for (size_t k = 0; !f && k < n; k++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            v[i][k] = (uint8_t)(s >> 24);
        }
    }
    int extra = f && fgetc(f) != EOF;
    if (f)
        fclose(f);
    return extra ? mxu_fail(MXU_ERR_FORMAT, "%s is longer than the program's inputs", a->input) : MXU_OK;
}

static int alloc_tensors(const mxu_program *p, uint8_t ***out)
{
    uint8_t **v = calloc(p->n_tensors ? p->n_tensors : 1, sizeof *v);
    if (!v)
        return mxu_fail(MXU_ERR_NOMEM, "tensors");
    *out = v;
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (!(v[i] = calloc(mxu_tensor_bytes(&p->tensors[i]) + 1, 1)))
            return mxu_fail(MXU_ERR_NOMEM, "tensor %s", p->tensors[i].name);
    return MXU_OK;
}

static void free_tensors(const mxu_program *p, uint8_t **v)
{
    for (uint32_t i = 0; v && i < p->n_tensors; i++)
        free(v[i]);
    free(v);
}

/* Read every output tensor, checksum them, and compare with the reference. */
static int collect_outputs(mxu_device *dev, const mxu_program *p, uint8_t *const *ref,
                           struct run_result *r)
{
    r->checksum = 0;
    r->match = 1;
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        const mxu_tensor *t = &p->tensors[i];
        if (t->role != MXU_ROLE_OUTPUT)
            continue;
        size_t n = mxu_tensor_bytes(t);
        uint8_t *got = malloc(n ? n : 1);
        int rc = got ? mxu_tensor_read(dev, p, i, got, n) : MXU_ERR_NOMEM;
        if (rc) {
            free(got);
            return rc;
        }
        r->checksum = mxu_crc32_update(r->checksum, got, n);
        for (size_t k = 0; ref && r->match && k < n; k++)
            if (got[k] != ref[i][k]) {
                r->match = 0;
                snprintf(r->mismatch, sizeof r->mismatch, "tensor %s byte %zu: device %d, golden %d",
                         t->name, k, (int8_t)got[k], (int8_t)ref[i][k]);
            }
        free(got);
    }
    return MXU_OK;
}

static int execute(const struct run_args *a, const mxu_program *p, struct run_result *r)
{
    char uri[600];
    mxu_device *dev = NULL;
    uint8_t **v = NULL;
    int rc = device_uri(a, p, uri, sizeof uri);
    if (rc == MXU_OK)
        rc = alloc_tensors(p, &v);
    if (rc == MXU_OK)
        rc = fill_inputs(a, p, v);
    if (rc == MXU_OK)
        rc = mxu_open(uri, &dev);
    if (rc == MXU_OK) /* constants first: the inputs given here win over any segment */
        rc = mxu_program_load(dev, p);
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            rc = mxu_tensor_write(dev, p, i, v[i], mxu_tensor_bytes(&p->tensors[i]));
    if (rc == MXU_OK)
        rc = mxu_program_run(dev, p, a->max_cycles, &r->c);
    if (rc == MXU_OK && a->check) {
        r->checked = 1;
        rc = mxu_reference_run(p, v);
    }
    if (rc == MXU_OK)
        rc = collect_outputs(dev, p, a->check ? v : NULL, r);
    for (uint32_t i = 0; i < p->n_layers; i++)
        r->macs += mxu_layer_macs(p, &p->layers[i]);
    mxu_close(dev);
    free_tensors(p, v);
    return rc;
}

static double utilization(const mxu_program *p, const struct run_result *r)
{
    double slots = (double)r->c.cycles * p->config.rows * p->config.cols;
    return slots > 0 ? (double)r->macs / slots : 0.0;
}

static void print_json(const struct run_args *a, const mxu_program *p, const struct run_result *r)
{
    printf("{\"program\": \"%s\", \"backend\": \"%s\", \"rows\": %u, \"cols\": %u, ", a->path,
           a->backend, p->config.rows, p->config.cols);
    printf("\"match\": %s, ", r->checked ? (r->match ? "true" : "false") : "null");
    printf("\"total_cycles\": %" PRIu64 ", \"macs\": %" PRIu64 ", \"utilization\": %.4f, ", r->c.cycles,
           r->macs, utilization(p, r));
    printf("\"outputs_checksum\": \"%08x\", \"instructions\": %" PRIu64 ", ", r->checksum, r->c.insns);
    printf("\"dram_rd_bytes\": %" PRIu64 ", \"dram_wr_bytes\": %" PRIu64 "}\n", r->c.dram_rd_bytes,
           r->c.dram_wr_bytes);
}

static void print_human(const struct run_args *a, const mxu_program *p, const struct run_result *r)
{
    printf("program   %s on %s (%ux%u)\n", a->path, a->backend, p->config.rows, p->config.cols);
    printf("cycles    %" PRIu64 "  (%" PRIu64 " instructions, %" PRIu64 " MACs, utilization %.1f%%)\n",
           r->c.cycles, r->c.insns, r->macs, 100.0 * utilization(p, r));
    printf("dram      %" PRIu64 " bytes read, %" PRIu64 " bytes written\n", r->c.dram_rd_bytes,
           r->c.dram_wr_bytes);
    printf("outputs   checksum %08x\n", r->checksum);
    if (r->checked)
        printf("check     %s%s%s\n", r->match ? "match" : "MISMATCH", r->match ? "" : ": ",
               r->match ? "" : r->mismatch);
}

int cmd_run(int argc, char **argv)
{
    struct run_args a;
    struct run_result r;
    mxu_program *p;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    memset(&r, 0, sizeof r);
    if ((rc = mxu_program_read(a.path, &p)))
        return cli_error("run", rc, "%s", a.path);
    rc = execute(&a, p, &r);
    if (rc == MXU_OK) {
        if (a.json)
            print_json(&a, p, &r);
        else
            print_human(&a, p, &r);
    }
    mxu_program_free(p);
    if (rc)
        return cli_error("run", rc, "%s on %s", a.path, a.backend);
    if (r.checked && !r.match)
        fprintf(stderr, "mxu run: mismatch: %s\n", r.mismatch);
    return r.checked && !r.match ? CLI_MISMATCH : CLI_OK;
}
