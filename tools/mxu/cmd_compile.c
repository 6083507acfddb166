/* mxu compile: a Darknet .cfg or ONNX model in, a program (.mxp) out, with a
 * short per-layer summary (docs/compiler.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mxu_compiler.h"

static const char compile_usage[] =
    "MODEL [--weights F | --random-weights SEED] [--calib IMAGES [--calib-count N]]\n"
    "                   [--calib-method minmax|percentile[:P]] [--scale F --mean a,b,c --std a,b,c --bgr]\n"
    "                   [--arch rows=R,cols=C,...] [--quiet] -o PROG\n"
    "  MODEL              Darknet .cfg (weights from --weights) or ONNX .onnx\n"
    "  --random-weights S fill absent weights from seed S (architecture studies)\n"
    "  --calib IMAGES     calibration images: IDX (.gz or not), PGM/PPM file or directory;\n"
    "                     without it, seeded random images (or a range estimate when even\n"
    "                     one float run of the model would be slow)\n"
    "  --calib-count N    images used (default 100; random: up to 16)\n"
    "  --calib-method M   minmax (default) or percentile[:P] (default P = 99.99)\n"
    "  --scale/--mean/--std/--bgr  input preprocessing x = (pixel*scale - mean) / std,\n"
    "                     channel order; default: the model's, else scale 1/255\n"
    "  --arch KEY=V,...   target array (rows, cols, ub, acc, wb, params, dram, ...)\n"
    "  --quiet            no per-layer summary\n";

struct compile_args {
    const char *model, *weights, *output, *arch;
    struct mxu_compile_options o;
    int quiet, have_pre;
    struct mxu_preprocess pre; /* overrides given on the command line */
    int set_scale, set_mean, set_std, set_bgr;
};

/* "a" or "a,b,c" (up to 4 values) into v[4]; one value fills every channel. */
static int parse_floats(const char *s, float v[4])
{
    int n = 0;
    const char *p = s;
    while (n < 4) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || !isfinite(d))
            return 0;
        v[n++] = (float)d;
        if (*end == 0)
            break;
        if (*end != ',')
            return 0;
        p = end + 1;
    }
    if (n == 4 && *p && strchr(p, ','))
        return 0;
    for (int i = n; i < 4; i++)
        v[i] = n == 1 ? v[0] : 0;
    return 1;
}

static int parse_method(const char *s, struct mxu_compile_options *o)
{
    if (!strcmp(s, "minmax")) {
        o->calib_method = MXU_CALIB_MINMAX;
        return 1;
    }
    if (strncmp(s, "percentile", 10))
        return 0;
    o->calib_method = MXU_CALIB_PERCENTILE;
    if (!s[10])
        return 1;
    char *end;
    double p = s[10] == ':' ? strtod(s + 11, &end) : NAN;
    if (!(p > 50 && p <= 100) || *end)
        return 0;
    o->percentile = (float)p;
    return 1;
}

static int parse_value(struct compile_args *a, const char *opt, const char *v)
{
    uint64_t n;
    if (!strcmp(opt, "--weights"))
        a->weights = v;
    else if (!strcmp(opt, "--random-weights")) {
        if (!cli_parse_u64(v, &a->o.seed))
            return cli_error("compile", 0, "bad seed '%s'", v);
        a->o.random_weights = 1;
    } else if (!strcmp(opt, "--calib"))
        a->o.calib_path = v;
    else if (!strcmp(opt, "--calib-count")) {
        if (!cli_parse_u64(v, &n) || n == 0 || n > 1000000)
            return cli_error("compile", 0, "bad image count '%s'", v);
        a->o.calib_count = (uint32_t)n;
    } else if (!strcmp(opt, "--calib-method")) {
        if (!parse_method(v, &a->o))
            return cli_error("compile", 0, "bad calibration method '%s' (minmax or percentile[:P], "
                             "50 < P <= 100)", v);
    } else if (!strcmp(opt, "--scale")) {
        float f[4];
        if (!parse_floats(v, f) || !(f[0] > 0))
            return cli_error("compile", 0, "bad --scale '%s'", v);
        a->pre.scale = f[0], a->set_scale = 1;
    } else if (!strcmp(opt, "--mean")) {
        if (!parse_floats(v, a->pre.mean))
            return cli_error("compile", 0, "bad --mean '%s' (a or a,b,c)", v);
        a->set_mean = 1;
    } else if (!strcmp(opt, "--std")) {
        if (!parse_floats(v, a->pre.std))
            return cli_error("compile", 0, "bad --std '%s' (a or a,b,c)", v);
        a->set_std = 1;
    } else if (!strcmp(opt, "--arch"))
        a->arch = v;
    else if (!strcmp(opt, "-o") || !strcmp(opt, "--output"))
        a->output = v;
    return CLI_OK;
}

static int parse(int argc, char **argv, struct compile_args *a)
{
    static const char *const valued[] = {"--weights", "--random-weights", "--calib", "--calib-count",
                                         "--calib-method", "--scale", "--mean", "--std", "--arch",
                                         "-o", "--output"};
    memset(a, 0, sizeof *a);
    mxu_compile_options_init(&a->o);
    a->arch = "";
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int missing = 0, rc;
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu compile %s", compile_usage);
            return -1;
        }
        if (cli_flag(argv[i], "--bgr")) {
            a->pre.bgr = 1, a->set_bgr = 1;
            continue;
        }
        if (cli_flag(argv[i], "--quiet") || cli_flag(argv[i], "-q")) {
            a->quiet = 1;
            continue;
        }
        for (size_t k = 0; !v && !missing && k < sizeof valued / sizeof *valued; k++)
            if ((v = cli_opt(argc, argv, &i, valued[k], &missing)) && (rc = parse_value(a, valued[k], v)))
                return rc;
        if (missing)
            return cli_error("compile", 0, "%s needs a value", argv[i]);
        if (v)
            continue;
        if (argv[i][0] == '-' || a->model)
            return cli_usage("compile", compile_usage);
        a->model = argv[i];
    }
    if (!a->model || !a->output)
        return cli_usage("compile", compile_usage);
    if (a->weights && a->o.random_weights)
        return cli_error("compile", 0, "--weights and --random-weights exclude each other");
    return CLI_OK;
}

/* The model's preprocessing with the command line's changes on top. */
static void apply_preprocess(struct compile_args *a, const mxu_graph *g)
{
    if (!a->set_scale && !a->set_mean && !a->set_std && !a->set_bgr)
        return;
    struct mxu_preprocess p = g->has_pre ? g->pre : a->o.pre;
    if (a->set_scale)
        p.scale = a->pre.scale;
    if (a->set_mean)
        memcpy(p.mean, a->pre.mean, sizeof p.mean);
    if (a->set_std)
        memcpy(p.std, a->pre.std, sizeof p.std);
    if (a->set_bgr)
        p.bgr = 1;
    a->o.pre = p;
    a->o.pre_override = 1;
}

static void shape_text(const mxu_tensor *t, char *buf, size_t len)
{
    if (t->ndims == 4)
        snprintf(buf, len, "%ux%ux%ux%u", t->dims[0], t->dims[1], t->dims[2], t->dims[3]);
    else
        snprintf(buf, len, "%ux%u", t->dims[0], t->dims[1]);
}

static void print_summary(const struct compile_args *a, const mxu_program *p, double seconds, double cpu)
{
    uint32_t device = 0;
    for (uint32_t i = 0; i < p->n_layers; i++)
        device += p->layers[i].code_count > 0;
    const char *calib = p->metadata ? strstr(p->metadata, "calib=") : NULL;
    int calib_len = calib ? (int)strcspn(calib + 6, "\n") : 0;
    printf("compiled %s for %ux%u in %.3f s (%.3f s CPU): %u layers (%u device, %u host), %u instructions, "
           "calibration %.*s\n", a->model, p->config.rows, p->config.cols, seconds, cpu, p->n_layers,
           device, p->n_layers - device, p->n_insns, calib_len, calib ? calib + 6 : "?");
    if (a->quiet)
        return;
    printf("%-4s %-24s %-11s %-18s %s\n", "#", "layer", "op", "output", "where");
    for (uint32_t i = 0; i < p->n_layers; i++) {
        const mxu_layer *l = &p->layers[i];
        char shape[64], op[32];
        shape_text(&p->tensors[l->output], shape, sizeof shape);
        snprintf(op, sizeof op, "%s%s", mxu_layer_op_name(l->op), l->flags & MXU_LAYER_F_LUT ? "+lut" : "");
        printf("%-4u %-24.24s %-11s %-18s %s\n", i, l->name, op, shape, l->code_count ? "device" : "host");
    }
}

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cmd_compile(int argc, char **argv)
{
    struct compile_args a;
    mxu_graph *g = NULL;
    mxu_program *p = NULL;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if ((rc = mxu_config_parse(&a.o.config, a.arch)) || (rc = mxu_config_validate(&a.o.config)))
        return cli_error("compile", rc, "--arch %s", a.arch);
    double start = now(CLOCK_MONOTONIC), cpu_start = now(CLOCK_PROCESS_CPUTIME_ID);
    if ((rc = mxu_model_load(a.model, a.weights, &g)))
        return cli_error("compile", rc, "%s", a.model);
    apply_preprocess(&a, g);
    rc = mxu_compile(g, &a.o, &p);
    double seconds = now(CLOCK_MONOTONIC) - start, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
    mxu_graph_free(g);
    if (rc)
        return cli_error("compile", rc, "%s", a.model);
    rc = mxu_program_write(p, a.output);
    if (rc == MXU_OK)
        print_summary(&a, p, seconds, cpu);
    mxu_program_free(p);
    if (rc)
        return cli_error("compile", rc, "writing %s", a.output);
    if (!a.quiet)
        printf("wrote %s\n", a.output);
    return CLI_OK;
}
