/* mxu_compile: the pipeline (docs/compiler.md).
 *
 *   shapes -> random weights (if asked) -> weights present ->
 *   batch-norm folding -> split for the layer set -> fusion -> calibration ->
 *   quantization -> memory plan -> lowering -> metadata
 *
 * The graph is transformed in place; every stage fails with a detail naming
 * the node (and its source line). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler_core.h"

void mxu_compile_options_init(struct mxu_compile_options *o)
{
    memset(o, 0, sizeof *o);
    mxu_config_default(&o->config);
    o->seed = 1;
    o->calib_method = MXU_CALIB_MINMAX;
    o->percentile = 99.99f;
    o->pre.scale = 1.0f / 255.0f;
    for (int c = 0; c < 4; c++)
        o->pre.std[c] = 1.0f;
}

static int check_options(const struct mxu_compile_options *o, const struct mxu_preprocess *pre)
{
    if (o->calib_method != MXU_CALIB_MINMAX && o->calib_method != MXU_CALIB_PERCENTILE)
        return mxu_fail(MXU_ERR_INVAL, "unknown calibration method %d", (int)o->calib_method);
    if (o->calib_method == MXU_CALIB_PERCENTILE && !(o->percentile > 50 && o->percentile <= 100))
        return mxu_fail(MXU_ERR_INVAL, "percentile %g is not in (50, 100]", (double)o->percentile);
    if (!(pre->scale > 0))
        return mxu_fail(MXU_ERR_INVAL, "input scale %g is not positive", (double)pre->scale);
    for (int c = 0; c < 4; c++)
        if (!(pre->std[c] > 0) && !(pre->std[c] < 0))
            return mxu_fail(MXU_ERR_INVAL, "input std[%d] is 0", c);
    return MXU_OK;
}

/* Graph passes up to a float graph in the program's layer set. */
static int prepare_graph(mxu_graph *g, const struct mxu_compile_options *o)
{
    int rc = mxu_graph_infer_shapes(g);
    if (rc == MXU_OK && o->random_weights)
        rc = mxu_graph_random_weights(g, o->seed);
    if (rc == MXU_OK)
        rc = mxu_graph_check_weights(g);
    if (rc == MXU_OK)
        rc = mxu_graph_fold_batchnorm(g);
    if (rc == MXU_OK)
        rc = mxu_graph_split_for_lowering(g);
    if (rc == MXU_OK)
        rc = mxu_graph_fuse(g);
    return rc;
}

static int append(char *buf, size_t len, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int append(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *at)
        return mxu_fail(MXU_ERR_LIMIT, "program metadata longer than %zu bytes", len);
    *at += (size_t)n;
    return MXU_OK;
}

/* A metadata value: control characters (a newline would end the line) become spaces. */
static const char *clean(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src);
    for (char *c = dst; *c; c++)
        if ((unsigned char)*c < 32)
            *c = ' ';
    return dst;
}

/* key=value lines `mxu run` reads (docs/compiler.md). */
static int write_metadata(const mxu_graph *g, const struct mxu_preprocess *pre,
                          const struct mxu_calibration *cal, mxu_program *p)
{
    size_t len = 2048 + sizeof g->classes, at = 0;
    char *m = malloc(len), name[MXU_GRAPH_NAME_LEN], source[sizeof g->source], how[sizeof cal->how];
    char classes[sizeof g->classes];
    if (!m)
        return mxu_fail(MXU_ERR_NOMEM, "metadata");
    int rc = append(m, len, &at, "model=%s\nsource=%s\ninput.scale=%.9g\n", clean(name, sizeof name, g->name),
                    clean(source, sizeof source, g->source), (double)pre->scale);
    if (rc == MXU_OK)
        rc = append(m, len, &at, "input.mean=%.9g,%.9g,%.9g\ninput.std=%.9g,%.9g,%.9g\n",
                    (double)pre->mean[0], (double)pre->mean[1], (double)pre->mean[2],
                    (double)pre->std[0], (double)pre->std[1], (double)pre->std[2]);
    if (rc == MXU_OK)
        rc = append(m, len, &at, "input.order=%s\ncalib=%s\n", pre->bgr ? "bgr" : "rgb",
                    clean(how, sizeof how, cal->how));
    if (rc == MXU_OK && g->float_accuracy > 0)
        rc = append(m, len, &at, "float_accuracy=%.6g\n", (double)g->float_accuracy);
    if (rc == MXU_OK && g->classes[0])
        rc = append(m, len, &at, "classes=%s\n", clean(classes, sizeof classes, g->classes));
    if (rc) {
        free(m);
        return rc;
    }
    free(p->metadata);
    p->metadata = m;
    return MXU_OK;
}

int mxu_compile(mxu_graph *g, const struct mxu_compile_options *o, mxu_program **out)
{
    struct mxu_calibration cal = {0};
    struct mxu_qgraph q = {0};
    struct mxu_memplan plan = {0};
    if (!g || !o || !out)
        return mxu_fail(MXU_ERR_INVAL, "mxu_compile: missing argument");
    *out = NULL;
    const struct mxu_preprocess *pre = g->has_pre && !o->pre_override ? &g->pre : &o->pre;
    int rc = check_options(o, pre);
    if (rc == MXU_OK)
        rc = prepare_graph(g, o);
    if (rc == MXU_OK)
        rc = mxu_calibrate(g, o, pre, &cal);
    if (rc == MXU_OK)
        rc = mxu_quantize_graph(g, &cal, &q);
    if (rc == MXU_OK)
        rc = mxu_memplan_build(g, &plan);
    if (rc == MXU_OK)
        rc = mxu_lower_graph(g, &q, &plan, &o->config, out);
    if (rc == MXU_OK)
        rc = write_metadata(g, pre, &cal, *out);
    if (rc && *out) {
        mxu_program_free(*out);
        *out = NULL;
    }
    mxu_memplan_free(&plan);
    mxu_qgraph_free(&q);
    mxu_calibration_free(&cal);
    return rc;
}
