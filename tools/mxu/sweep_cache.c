/* DIR/runs/<key>.json: one file per measured configuration, written
 * atomically when it finishes, so an interrupted sweep rerun with the same
 * workload, seed and backend measures only what is missing. A file whose
 * fingerprint differs (other model contents, seed, backend or options) or that
 * records a failure is measured again. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mxu_error.h"
#include "sweep.h"

void sweep_run_path(const struct sweep *s, const struct sweep_point *pt, char *buf, size_t len)
{
    snprintf(buf, len, "%s/runs/%s.json", s->out_dir, pt->key);
}

void sweep_uri(const struct sweep *s, const struct sweep_point *pt, const char *backend, char *buf, size_t len)
{
    char cfgs[400];
    mxu_config_format(&pt->cfg, cfgs, sizeof cfgs);
    int extra = s->options && *s->options && !strcmp(backend, s->backend);
    snprintf(buf, len, "%s:%s,bw=%u,latency=%u%s%s", backend, cfgs, pt->bw, pt->latency, extra ? "," : "",
             extra ? s->options : "");
}

void sweep_fingerprint(const struct sweep *s, const struct sweep_point *pt, char *buf, size_t len)
{
    char uri[700];
    sweep_uri(s, pt, s->backend, uri, sizeof uri);
    snprintf(buf, len, "format=%d %s=%s bytes=%" PRIu64 " crc=%08x seed=%" PRIu64 " check=%s uri=%s", SWEEP_FORMAT,
             sweep_kind_name(s->work.kind), s->work.name, s->work.bytes, s->work.crc, s->work.seed,
             strcmp(s->backend, "model") ? "model" : "none", uri);
}

void sweep_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void write_layer(FILE *f, const struct sweep_layer *l, int first)
{
    fprintf(f, "%s\n    {\"name\": ", first ? "" : ",");
    sweep_json_string(f, l->name);
    fprintf(f, ", \"op\": ");
    sweep_json_string(f, l->op);
    fprintf(f, ", \"host\": %d, \"macs\": %" PRIu64 ", \"cycles\": %" PRIu64 ", \"ideal\": %" PRIu64
               ", \"scalesim\": %" PRIu64 ", \"dram_rd\": %" PRIu64 ", \"dram_wr\": %" PRIu64
               ", \"model_cycles\": %" PRId64 "}",
            l->on_host, l->macs, l->cycles, l->ideal, l->scalesim, l->dram_rd, l->dram_wr, l->model_cycles);
}

int sweep_cache_write(const struct sweep *s, const struct sweep_point *pt, const struct sweep_result *r)
{
    char path[1400], tmp[1500], fp[1200], uri[700];
    sweep_run_path(s, pt, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    sweep_fingerprint(s, pt, fp, sizeof fp);
    sweep_uri(s, pt, s->backend, uri, sizeof uri);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return mxu_fail(MXU_ERR_IO, "%s: %s", tmp, strerror(errno));
    fprintf(f, "{\"format\": %d, \"fingerprint\": ", SWEEP_FORMAT);
    sweep_json_string(f, fp);
    fprintf(f, ",\n \"key\": ");
    sweep_json_string(f, pt->key);
    fprintf(f, ", \"uri\": ");
    sweep_json_string(f, uri);
    fprintf(f, ",\n \"status\": \"%s\", \"error\": ", r->ok ? "ok" : "error");
    sweep_json_string(f, r->ok ? "" : r->error);
    fprintf(f, ",\n \"compile_seconds\": %.3f, \"open_seconds\": %.3f, \"seconds\": %.3f, \"model_seconds\": %.3f,"
               "\n \"layers\": [",
            r->compile_seconds, r->open_seconds, r->seconds, r->model_seconds);
    for (uint32_t i = 0; r->ok && i < r->n_layers; i++)
        write_layer(f, &r->layers[i], i == 0);
    fprintf(f, "]}\n");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return mxu_fail(MXU_ERR_IO, "%s: %s", path, strerror(e));
    }
    return MXU_OK;
}

static int read_layers(const struct sj *arr, struct sweep_result *res)
{
    if (!arr || arr->type != SJ_ARRAY || !arr->n)
        return 0;
    res->layers = calloc(arr->n, sizeof *res->layers);
    if (!res->layers)
        return 0;
    res->n_layers = (uint32_t)arr->n;
    for (size_t i = 0; i < arr->n; i++) {
        const struct sj *o = &arr->items[i];
        struct sweep_layer *l = &res->layers[i];
        const char *name = sj_str(o, "name"), *op = sj_str(o, "op");
        if (!name || !op || sj_int(o, "cycles", -1) < 0)
            return 0;
        snprintf(l->name, sizeof l->name, "%s", name);
        snprintf(l->op, sizeof l->op, "%s", op);
        l->on_host = (int)sj_int(o, "host", 0);
        l->macs = (uint64_t)sj_int(o, "macs", 0);
        l->cycles = (uint64_t)sj_int(o, "cycles", 0);
        l->ideal = (uint64_t)sj_int(o, "ideal", 0);
        l->scalesim = (uint64_t)sj_int(o, "scalesim", 0);
        l->dram_rd = (uint64_t)sj_int(o, "dram_rd", 0);
        l->dram_wr = (uint64_t)sj_int(o, "dram_wr", 0);
        l->model_cycles = sj_int(o, "model_cycles", -1);
    }
    return 1;
}

/* Parse the run file of pt; 1 when its fingerprint matches. */
static int read_run(const struct sweep *s, const struct sweep_point *pt, struct sj *root)
{
    char path[1400], fp[1200];
    sweep_run_path(s, pt, path, sizeof path);
    if (sj_read_file(path, root))
        return 0;
    sweep_fingerprint(s, pt, fp, sizeof fp);
    const char *have = sj_str(root, "fingerprint");
    if (sj_int(root, "format", 0) != SWEEP_FORMAT || !have || strcmp(have, fp)) {
        sj_free(root);
        return 0;
    }
    return 1;
}

int sweep_cache_read(const struct sweep *s, const struct sweep_point *pt, struct sweep_result *res)
{
    struct sj root;
    if (!read_run(s, pt, &root))
        return 0;
    const char *status = sj_str(&root, "status");
    int ok = status && !strcmp(status, "ok") && read_layers(sj_get(&root, "layers"), res);
    if (ok) {
        res->done = res->ok = res->cached = 1;
        res->compile_seconds = sj_num(&root, "compile_seconds", 0);
        res->open_seconds = sj_num(&root, "open_seconds", 0);
        res->seconds = sj_num(&root, "seconds", 0);
        res->model_seconds = sj_num(&root, "model_seconds", 0);
    } else {
        sweep_result_clear(res);
    }
    sj_free(&root);
    return ok;
}

int sweep_cache_read_error(const struct sweep *s, const struct sweep_point *pt, char *err, size_t len)
{
    struct sj root;
    if (!read_run(s, pt, &root))
        return 0;
    const char *status = sj_str(&root, "status"), *e = sj_str(&root, "error");
    int found = status && !strcmp(status, "error") && e;
    if (found)
        snprintf(err, len, "%s", e);
    sj_free(&root);
    return found;
}
