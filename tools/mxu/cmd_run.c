/* mxu run PROGRAM.mxp --backend model|rtl|icarus [...]: one inference (given
 * or random input) or a whole data set, layer by layer (mxu_execute.h), with
 * the golden reference beside it on --check. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxu_crc32.h"
#include "mxu_reference.h"
#include "run.h"

static const char run_usage[] =
    "PROGRAM.mxp [--backend model|rtl|icarus|usb] [--arch KEY=V,...] [--option KEY=V,...]\n"
    "            [--input FILE | --random-input SEED | --dataset IMAGES --labels LABELS [--limit N]]\n"
    "            [--check] [--top K] [--json] [--quiet] [--max-cycles N]\n"
    "  Run a program layer by layer: device layers on the backend, host layers (softmax,\n"
    "  concat, ...) on the host. The device is built with the program's configuration\n"
    "  unless --arch overrides it; --option passes backend options (latency=, bw=, ...).\n"
    "  --input reads the raw bytes of every input tensor, concatenated in tensor order;\n"
    "  --random-input fills them from a seed (default: seed 1).\n"
    "  --dataset classifies every image (IDX file, gzip or not, PGM/PPM file or folder),\n"
    "  preprocessed as the program's metadata says, against --labels (IDX1): accuracy,\n"
    "  cycles per inference; --limit N takes the first N images.\n"
    "  --top K prints the K best classes (a data set: top-K accuracy too). --check runs\n"
    "  the golden kernels beside every inference and prints 'match' or the first\n"
    "  mismatch (layer, tensor, index, values). --json prints one JSON object;\n"
    "  --quiet drops the progress bar. Exit status: 0 ok, 1 mismatch, 2 error.\n";

static int parse_u64_opt(const char *name, const char *v, uint64_t *out)
{
    if (!cli_parse_u64(v, out))
        return cli_error("run", 0, "%s needs a number, not '%s'", name, v);
    return CLI_OK;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    static const char *const numeric[] = {"--random-input", "--max-cycles", "--limit", "--top"};
    const char *v;
    int missing;
    memset(a, 0, sizeof *a);
    a->backend = "model";
    a->seed = 1;
    for (int i = 1; i < argc; i++) {
        static const char *const str_opts[] = {"--backend", "--arch",    "--option",
                                               "--input",   "--dataset", "--labels"};
        uint64_t *num[] = {&a->seed, &a->max_cycles, &a->limit, &a->top};
        const char **str[] = {&a->backend, &a->arch, &a->options, &a->input, &a->dataset, &a->labels};
        int handled = 0;
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu run %s", run_usage);
            exit(CLI_OK);
        }
        if (cli_flag(argv[i], "--check"))
            a->check = handled = 1;
        else if (cli_flag(argv[i], "--json"))
            a->json = handled = 1;
        else if (cli_flag(argv[i], "--quiet"))
            a->quiet = handled = 1;
        for (size_t k = 0; !handled && k < sizeof numeric / sizeof *numeric; k++)
            if ((v = cli_opt(argc, argv, &i, numeric[k], &missing))) {
                if (parse_u64_opt(numeric[k], v, num[k]))
                    return CLI_ERROR;
                handled = 1;
            } else if (missing) {
                return cli_error("run", 0, "%s needs a value", argv[i]);
            }
        for (size_t k = 0; !handled && k < sizeof str_opts / sizeof *str_opts; k++)
            if ((v = cli_opt(argc, argv, &i, str_opts[k], &missing))) {
                *str[k] = v;
                handled = 1;
            } else if (missing) {
                return cli_error("run", 0, "%s needs a value", argv[i]);
            }
        if (handled)
            continue;
        if (argv[i][0] == '-' || a->path)
            return cli_usage("run", run_usage);
        a->path = argv[i];
    }
    if (!a->path)
        return cli_usage("run", run_usage);
    if (a->dataset && (a->input || !a->labels))
        return cli_error("run", 0, "--dataset needs --labels and excludes --input");
    if (a->labels && !a->dataset)
        return cli_error("run", 0, "--labels goes with --dataset");
    if (a->limit && !a->dataset)
        return cli_error("run", 0, "--limit goes with --dataset");
    return CLI_OK;
}

/* ---- the session ------------------------------------------------------------------ */

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

int run_session_open(struct run_session *s, const struct run_args *a, const mxu_program *p)
{
    char uri[600];
    uint64_t largest = 1;
    memset(s, 0, sizeof *s);
    s->a = a;
    s->p = p;
    s->output = run_output_tensor(p);
    s->values = calloc(p->n_tensors ? p->n_tensors : 1, sizeof *s->values);
    s->layers = calloc(p->n_layers ? p->n_layers : 1, sizeof *s->layers);
    if (!s->values || !s->layers)
        return mxu_fail(MXU_ERR_NOMEM, "tensors");
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        uint64_t n = mxu_tensor_bytes(&p->tensors[i]);
        largest = n > largest ? n : largest;
        if (!(s->values[i] = calloc((size_t)n + 1, 1)))
            return mxu_fail(MXU_ERR_NOMEM, "tensor %s (%llu bytes)", p->tensors[i].name,
                            (unsigned long long)n);
    }
    if (!(s->device_out = malloc((size_t)largest)))
        return mxu_fail(MXU_ERR_NOMEM, "tensor buffer");
    for (uint32_t i = 0; i < p->n_layers; i++) {
        s->layers[i].macs = mxu_layer_macs(p, &p->layers[i]);
        s->layers[i].on_host = mxu_layer_on_host(p, i);
        s->macs += s->layers[i].macs;
    }
    int rc = device_uri(a, p, uri, sizeof uri);
    if (rc == MXU_OK)
        rc = mxu_open(uri, &s->dev);
    if (rc == MXU_OK)
        rc = mxu_program_load(s->dev, p);
    return rc;
}

void run_session_close(struct run_session *s)
{
    mxu_close(s->dev);
    for (uint32_t i = 0; s->values && i < s->p->n_tensors; i++)
        free(s->values[i]);
    free(s->values);
    free(s->layers);
    free(s->device_out);
    s->values = NULL;
    s->layers = NULL;
    s->device_out = NULL;
    s->dev = NULL;
}

uint32_t run_output_tensor(const mxu_program *p)
{
    if (p->n_layers) {
        uint32_t t = p->layers[p->n_layers - 1].output;
        if (t < p->n_tensors && p->tensors[t].role == MXU_ROLE_OUTPUT)
            return t;
    }
    uint32_t found = MXU_NONE;
    for (uint32_t i = 0; i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_OUTPUT)
            found = i;
    return found;
}

/* ---- checking ---------------------------------------------------------------------- */

/* "[n,h,w,c]" of element k of tensor t. */
static void element_index(const mxu_tensor *t, uint64_t k, char *buf, size_t len)
{
    uint32_t idx[MXU_MAX_DIMS] = {0};
    for (int d = (int)t->ndims - 1; d >= 0; d--) {
        idx[d] = (uint32_t)(k % t->dims[d]);
        k /= t->dims[d];
    }
    if (t->ndims == 4)
        snprintf(buf, len, "[%u,%u,%u,%u]", idx[0], idx[1], idx[2], idx[3]);
    else
        snprintf(buf, len, "[%u,%u]", idx[0], idx[1]);
}

/* Compare tensor t on the device with the reference; record the first difference. */
static int compare_tensor(struct run_session *s, uint32_t t, const mxu_layer *l, uint32_t layer)
{
    const mxu_tensor *ts = &s->p->tensors[t];
    size_t n = (size_t)mxu_tensor_bytes(ts);
    int rc = mxu_tensor_read(s->dev, s->p, t, s->device_out, n);
    if (rc)
        return rc;
    const uint8_t *ref = s->values[t];
    for (size_t k = 0; k < n; k++) {
        if (s->device_out[k] == ref[k])
            continue;
        if (!s->mismatch.found) {
            char where[200] = "", idx[64], img[32] = "";
            if (l)
                snprintf(where, sizeof where, "layer %u '%.64s' (%s), ", layer, l->name,
                         mxu_layer_op_name(l->op));
            if (s->a->dataset)
                snprintf(img, sizeof img, "image %u: ", s->image);
            element_index(ts, k, idx, sizeof idx);
            snprintf(s->mismatch.text, sizeof s->mismatch.text,
                     "%s%stensor '%.64s' byte %zu %s: device %d, golden %d", img, where, ts->name, k,
                     idx, (int8_t)s->device_out[k], (int8_t)ref[k]);
            s->mismatch.found = 1;
            s->mismatch.image = s->image;
            s->mismatch.layer = layer;
        }
        return 1;
    }
    return 0;
}

struct check_ctx {
    struct run_session *s;
    int differs;
};

static int check_layer(void *ctx, mxu_device *dev, const mxu_program *p, uint32_t layer)
{
    struct check_ctx *c = ctx;
    (void)dev;
    /* Without ranges the whole code ran before this call: an intermediate
     * tensor may hold a later layer's data by now; outputs are compared below. */
    uint32_t out = p->layers[layer].output;
    if (!mxu_program_has_ranges(p) && !mxu_layer_on_host(p, layer) &&
        p->tensors[out].role != MXU_ROLE_OUTPUT)
        return MXU_OK;
    int rc = compare_tensor(c->s, out, &p->layers[layer], layer);
    if (rc < 0)
        return rc;
    c->differs |= rc;
    return MXU_OK;
}

static void accumulate(struct run_session *s, const struct mxu_layer_stats *st, const mxu_counters *c)
{
    const mxu_program *p = s->p;
    for (uint32_t i = 0; i < p->n_layers; i++) {
        mxu_counters *d = &s->layers[i].counters;
        d->cycles += st[i].counters.cycles;
        d->insns += st[i].counters.insns;
        d->array_vectors += st[i].counters.array_vectors;
        d->dram_rd_bytes += st[i].counters.dram_rd_bytes;
        d->dram_wr_bytes += st[i].counters.dram_wr_bytes;
        s->layers[i].host_seconds += st[i].host_seconds;
        s->host_seconds += st[i].host_seconds;
    }
    s->total.cycles += c->cycles;
    s->total.insns += c->insns;
    s->total.array_vectors += c->array_vectors;
    s->total.dram_rd_bytes += c->dram_rd_bytes;
    s->total.dram_wr_bytes += c->dram_wr_bytes;
}

int run_infer(struct run_session *s)
{
    const mxu_program *p = s->p;
    struct mxu_layer_stats *st = calloc(p->n_layers ? p->n_layers : 1, sizeof *st);
    struct check_ctx ck = {s, 0};
    mxu_counters c;
    int rc = st ? MXU_OK : mxu_fail(MXU_ERR_NOMEM, "layer statistics");
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            rc = mxu_tensor_write(s->dev, p, i, s->values[i], mxu_tensor_bytes(&p->tensors[i]));
    if (rc == MXU_OK && s->a->check)
        rc = mxu_reference_run(p, s->values);
    if (rc == MXU_OK)
        rc = mxu_program_execute_observed(s->dev, p, s->a->max_cycles, st, &c,
                                          s->a->check ? check_layer : NULL, &ck);
    /* Outputs no layer wrote (hand-written programs) are compared too. */
    for (uint32_t i = 0; rc == MXU_OK && s->a->check && i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_OUTPUT) {
            int d = compare_tensor(s, i, NULL, 0);
            rc = d < 0 ? d : MXU_OK;
            ck.differs |= d > 0;
        }
    if (rc == MXU_OK) {
        accumulate(s, st, &c);
        s->inferences++;
        s->mismatched_inferences += ck.differs;
    }
    free(st);
    return rc;
}

/* ---- results ------------------------------------------------------------------------ */

const char *run_meta(const mxu_program *p, const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);
    for (const char *m = p->metadata; m && *m;) {
        const char *nl = strchr(m, '\n'), *end = nl ? nl : m + strlen(m);
        if ((size_t)(end - m) > klen && !strncmp(m, key, klen) && m[klen] == '=') {
            size_t n = (size_t)(end - m) - klen - 1;
            if (n >= len)
                n = len - 1;
            memcpy(buf, m + klen + 1, n);
            buf[n] = 0;
            return buf;
        }
        m = nl ? nl + 1 : end;
    }
    return NULL;
}

const char *run_class_name(const mxu_program *p, uint32_t i, char *buf, size_t len)
{
    char classes[4096];
    snprintf(buf, len, "%u", i);
    if (!run_meta(p, "classes", classes, sizeof classes))
        return buf;
    const char *c = classes;
    for (uint32_t k = 0; k < i && c; k++) {
        c = strchr(c, ',');
        c = c ? c + 1 : NULL;
    }
    if (c) {
        size_t n = strcspn(c, ",");
        if (n && n < len) {
            memcpy(buf, c, n);
            buf[n] = 0;
        }
    }
    return buf;
}

int run_top_k(struct run_session *s, uint32_t k, uint32_t *idx, float *scores)
{
    const mxu_program *p = s->p;
    if (s->output == MXU_NONE)
        return mxu_fail(MXU_ERR_INVAL, "the program has no output tensor");
    const mxu_tensor *t = &p->tensors[s->output];
    uint32_t classes = (uint32_t)(mxu_tensor_elems(t) / t->dims[0]);
    int rc = mxu_tensor_read(s->dev, p, s->output, s->device_out, (size_t)mxu_tensor_bytes(t));
    if (rc)
        return rc;
    const int8_t *q = (const int8_t *)s->device_out;
    for (uint32_t r = 0; r < k && r < classes; r++) {
        uint32_t best = MXU_NONE;
        for (uint32_t c = 0; c < classes; c++) {
            int taken = 0;
            for (uint32_t j = 0; j < r; j++)
                taken |= idx[j] == c;
            if (!taken && (best == MXU_NONE || q[c] > q[best]))
                best = c;
        }
        idx[r] = best;
        scores[r] = t->scale * (float)(q[best] - t->zero_point);
    }
    return MXU_OK;
}

double run_utilization(const mxu_program *p, uint64_t macs, uint64_t cycles)
{
    double slots = (double)cycles * p->config.rows * p->config.cols;
    return slots > 0 ? (double)macs / slots : 0.0;
}

void run_print_layers(const struct run_session *s)
{
    const mxu_program *p = s->p;
    double n = s->inferences ? s->inferences : 1;
    if (!p->n_layers)
        return;
    printf("%-3s %-20s %-9s %-6s %14s %12s %7s %9s\n", "#", "layer", "op", "where", "MACs", "cycles",
           "util", "host ms");
    for (uint32_t i = 0; i < p->n_layers; i++) {
        const struct mxu_layer_stats *l = &s->layers[i];
        double cycles = (double)l->counters.cycles / n;
        printf("%-3u %-20.20s %-9s %-6s %14" PRIu64 " %12.0f", i, p->layers[i].name,
               mxu_layer_op_name(p->layers[i].op), l->on_host ? "host" : "device", l->macs, cycles);
        if (l->on_host)
            printf(" %7s %9.3f\n", "-", 1e3 * l->host_seconds / n);
        else
            printf(" %6.1f%% %9s\n", 100.0 * run_utilization(p, l->macs, (uint64_t)cycles), "-");
    }
}

void run_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if (*c < 0x20)
            printf("\\u%04x", *c);
        else
            putchar(*c);
    }
    putchar('"');
}

void run_json_layers(const struct run_session *s)
{
    const mxu_program *p = s->p;
    double n = s->inferences ? s->inferences : 1;
    printf("\"layers\": [");
    for (uint32_t i = 0; i < p->n_layers; i++) {
        const struct mxu_layer_stats *l = &s->layers[i];
        uint64_t cycles = (uint64_t)((double)l->counters.cycles / n + 0.5);
        char name[MXU_NAME_LEN + 1];
        snprintf(name, sizeof name, "%.64s", p->layers[i].name);
        printf("%s{\"name\": ", i ? ", " : "");
        run_json_string(name);
        printf(", \"op\": \"%s\", \"host\": %s, \"macs\": %" PRIu64 ", \"cycles\": %" PRIu64
               ", \"utilization\": %.4f, \"host_seconds\": %.6f}",
               mxu_layer_op_name(p->layers[i].op), l->on_host ? "true" : "false", l->macs, cycles,
               l->on_host ? 0.0 : run_utilization(p, l->macs, cycles), l->host_seconds / n);
    }
    printf("]");
}

/* ---- one inference ------------------------------------------------------------------ */

static int fill_inputs(const struct run_args *a, const mxu_program *p, uint8_t *const *v)
{
    FILE *f = a->input ? fopen(a->input, "rb") : NULL;
    uint64_t s = a->seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    if (a->input && !f)
        return mxu_fail(MXU_ERR_NOT_FOUND, "cannot open input %s", a->input);
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        if (p->tensors[i].role != MXU_ROLE_INPUT)
            continue;
        size_t n = (size_t)mxu_tensor_bytes(&p->tensors[i]);
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

static uint32_t outputs_checksum(struct run_session *s, int *rc)
{
    uint32_t crc = 0;
    *rc = MXU_OK;
    for (uint32_t i = 0; *rc == MXU_OK && i < s->p->n_tensors; i++) {
        const mxu_tensor *t = &s->p->tensors[i];
        if (t->role != MXU_ROLE_OUTPUT)
            continue;
        size_t n = (size_t)mxu_tensor_bytes(t);
        *rc = mxu_tensor_read(s->dev, s->p, i, s->device_out, n);
        if (*rc == MXU_OK)
            crc = mxu_crc32_update(crc, s->device_out, n);
    }
    return crc;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void print_top_human(struct run_session *s, uint32_t k, const uint32_t *idx, const float *sc)
{
    char name[128];
    printf("top-%u     ", k);
    for (uint32_t r = 0; r < k; r++) {
        char number[16];
        snprintf(number, sizeof number, "%u", idx[r]);
        run_class_name(s->p, idx[r], name, sizeof name);
        printf("%s%s%s%s (%.4f)", r ? ", " : "", number, strcmp(name, number) ? " " : "",
               strcmp(name, number) ? name : "", (double)sc[r]);
    }
    printf("\n");
}

static void print_top_json(struct run_session *s, uint32_t k, const uint32_t *idx, const float *sc)
{
    char name[128];
    printf("\"top\": [");
    for (uint32_t r = 0; r < k; r++) {
        printf("%s{\"class\": %u, \"name\": ", r ? ", " : "", idx[r]);
        run_json_string(run_class_name(s->p, idx[r], name, sizeof name));
        printf(", \"score\": %.6g}", (double)sc[r]);
    }
    printf("], ");
}

static void report_single(struct run_session *s, uint32_t checksum, double wall, uint32_t k,
                          const uint32_t *idx, const float *sc)
{
    const struct run_args *a = s->a;
    const mxu_program *p = s->p;
    double util = run_utilization(p, s->macs, s->total.cycles);
    if (a->json) {
        printf("{\"program\": ");
        run_json_string(a->path);
        printf(", \"backend\": \"%s\", \"rows\": %u, \"cols\": %u, ", a->backend, p->config.rows,
               p->config.cols);
        printf("\"match\": %s, \"accuracy\": null, ",
               a->check ? (s->mismatch.found ? "false" : "true") : "null");
        printf("\"total_cycles\": %" PRIu64 ", \"cycles_per_inference\": %" PRIu64 ", \"macs\": %" PRIu64
               ", \"utilization\": %.4f, ", s->total.cycles, s->total.cycles, s->macs, util);
        printf("\"outputs_checksum\": \"%08x\", \"instructions\": %" PRIu64 ", ", checksum, s->total.insns);
        printf("\"dram_rd_bytes\": %" PRIu64 ", \"dram_wr_bytes\": %" PRIu64 ", ", s->total.dram_rd_bytes,
               s->total.dram_wr_bytes);
        if (k)
            print_top_json(s, k, idx, sc);
        if (s->mismatch.found) {
            printf("\"mismatch\": ");
            run_json_string(s->mismatch.text);
            printf(", ");
        }
        printf("\"inferences\": 1, \"wall_seconds\": %.6f, ", wall);
        run_json_layers(s);
        printf("}\n");
        return;
    }
    uint32_t host = 0;
    for (uint32_t i = 0; i < p->n_layers; i++)
        host += s->layers[i].on_host;
    printf("program   %s on %s (%ux%u), %u layers (%u on the device, %u on the host)\n", a->path,
           a->backend, p->config.rows, p->config.cols, p->n_layers, p->n_layers - host, host);
    if (p->n_layers > 1 || host)
        run_print_layers(s);
    printf("cycles    %" PRIu64 "  (%" PRIu64 " instructions, %" PRIu64 " MACs, utilization %.1f%%)\n",
           s->total.cycles, s->total.insns, s->macs, 100.0 * util);
    printf("dram      %" PRIu64 " bytes read, %" PRIu64 " bytes written\n", s->total.dram_rd_bytes,
           s->total.dram_wr_bytes);
    printf("outputs   checksum %08x\n", checksum);
    if (k)
        print_top_human(s, k, idx, sc);
    printf("wall      %.3f ms (host layers %.3f ms)\n", 1e3 * wall, 1e3 * s->host_seconds);
    if (a->check)
        printf("check     %s%s%s\n", s->mismatch.found ? "MISMATCH" : "match",
               s->mismatch.found ? ": " : "", s->mismatch.found ? s->mismatch.text : "");
}

static int run_single(struct run_session *s)
{
    uint32_t k = (uint32_t)(s->a->top > 1000 ? 1000 : s->a->top), idx[1000];
    float sc[1000];
    double t0 = seconds();
    int rc = fill_inputs(s->a, s->p, s->values);
    if (rc == MXU_OK)
        rc = run_infer(s);
    double wall = seconds() - t0;
    uint32_t checksum = rc == MXU_OK ? outputs_checksum(s, &rc) : 0;
    if (rc == MXU_OK && k) {
        const mxu_tensor *t = s->output != MXU_NONE ? &s->p->tensors[s->output] : NULL;
        uint32_t classes = t ? (uint32_t)(mxu_tensor_elems(t) / t->dims[0]) : 0;
        k = k < classes ? k : classes;
        rc = run_top_k(s, k, idx, sc);
    }
    if (rc)
        return cli_error("run", rc, "%s on %s", s->a->path, s->a->backend);
    report_single(s, checksum, wall, k, idx, sc);
    if (s->mismatch.found) {
        fprintf(stderr, "mxu run: mismatch: %s\n", s->mismatch.text);
        return CLI_MISMATCH;
    }
    return CLI_OK;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a;
    struct run_session s;
    mxu_program *p;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if ((rc = mxu_program_read(a.path, &p)))
        return cli_error("run", rc, "%s", a.path);
    rc = run_session_open(&s, &a, p);
    if (rc)
        rc = cli_error("run", rc, "%s on %s", a.path, a.backend);
    else if (a.dataset)
        rc = run_dataset(&s);
    else
        rc = run_single(&s);
    run_session_close(&s);
    mxu_program_free(p);
    return rc;
}
