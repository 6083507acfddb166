/* What a sweep measures: a network (Darknet .cfg, ONNX, ... through
 * mxu_model_load), compiled for each configuration with seeded random weights,
 * or a SCALE-Sim topology CSV, one single-layer program per row. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_compiler.h"
#include "mxu_crc32.h"
#include "mxu_error.h"
#include "sweep.h"

const char *sweep_kind_name(enum sweep_kind k)
{
    return k == SWEEP_TOPOLOGY ? "topology" : "network";
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Size and CRC of the file: the identity of the workload in cached runs. */
static int fingerprint_file(const char *path, uint64_t *bytes, uint32_t *crc)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mxu_fail(MXU_ERR_NOT_FOUND, "%s: %s", path, strerror(errno));
    unsigned char buf[1 << 16];
    size_t n;
    *bytes = 0;
    *crc = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        *crc = mxu_crc32_update(*crc, buf, n);
        *bytes += n;
    }
    int bad = ferror(f);
    fclose(f);
    return bad ? mxu_fail(MXU_ERR_IO, "%s: read error", path) : MXU_OK;
}

static void workload_name(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    const char *dot = strrchr(b, '.');
    int n = dot && dot != b ? (int)(dot - b) : (int)strlen(b);
    snprintf(out, len, "%.*s", n, b);
}

int sweep_workload_open(const char *path, uint64_t seed, struct sweep_workload *w)
{
    memset(w, 0, sizeof *w);
    w->seed = seed;
    if (strlen(path) >= sizeof w->path)
        return mxu_fail(MXU_ERR_INVAL, "model path too long");
    snprintf(w->path, sizeof w->path, "%s", path);
    workload_name(path, w->name, sizeof w->name);
    int rc = fingerprint_file(path, &w->bytes, &w->crc);
    if (rc)
        return rc;
    if (has_suffix(path, ".csv") || has_suffix(path, ".CSV")) {
        w->kind = SWEEP_TOPOLOGY;
        return mxu_scalesim_topology_read(path, &w->topo);
    }
    /* load once now so a bad model fails before any configuration runs */
    mxu_graph *g = NULL;
    w->kind = SWEEP_NETWORK;
    rc = mxu_model_load(path, NULL, &g);
    mxu_graph_free(g);
    return rc;
}

void sweep_workload_close(struct sweep_workload *w)
{
    mxu_scalesim_topology_free(w->topo);
    w->topo = NULL;
}

static int build_network(const struct sweep_workload *w, const mxu_hw_config *cfg, struct sweep_programs *out)
{
    mxu_graph *g = NULL;
    struct mxu_compile_options o;
    mxu_compile_options_init(&o);
    o.config = *cfg;
    o.random_weights = 1;
    o.seed = w->seed;
    int rc = mxu_model_load(w->path, NULL, &g);
    if (rc == MXU_OK)
        rc = mxu_compile(g, &o, &out->progs[0]);
    mxu_graph_free(g);
    if (rc == MXU_OK)
        out->n = 1;
    return rc;
}

static int build_topology(const struct sweep_workload *w, const mxu_hw_config *cfg, struct sweep_programs *out)
{
    for (uint32_t i = 0; i < w->topo->n_layers; i++) {
        const struct mxu_layer_desc *d = &w->topo->layers[i];
        int rc = mxu_build_layer_program(cfg, d, w->seed + i, &out->progs[i]);
        if (rc) {
            char detail[400];
            snprintf(detail, sizeof detail, "%s", mxu_error_detail());
            return mxu_fail(rc, "%s:%u: layer '%s': %s", w->path, w->topo->lines[i], d->name, detail);
        }
        out->n = i + 1;
    }
    return MXU_OK;
}

int sweep_programs_build(const struct sweep_workload *w, const mxu_hw_config *cfg, struct sweep_programs *out)
{
    uint32_t n = w->kind == SWEEP_TOPOLOGY ? w->topo->n_layers : 1;
    out->n = 0;
    out->progs = calloc(n, sizeof *out->progs);
    if (!out->progs)
        return mxu_fail(MXU_ERR_NOMEM, "programs");
    int rc = w->kind == SWEEP_TOPOLOGY ? build_topology(w, cfg, out) : build_network(w, cfg, out);
    if (rc)
        sweep_programs_free(out);
    return rc;
}

void sweep_programs_free(struct sweep_programs *p)
{
    for (uint32_t i = 0; p->progs && i < p->n; i++)
        mxu_program_free(p->progs[i]);
    free(p->progs);
    p->progs = NULL;
    p->n = 0;
}
