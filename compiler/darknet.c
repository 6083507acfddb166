/* Darknet frontend entry points (mxu_compiler.h): a .cfg file or text, and
 * optionally its .weights file, into an mxu_graph. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "darknet_priv.h"
#include "mxu_compiler.h"
#include "mxu_error.h"

#define CFG_MAX_BYTES (64u << 20)

int mxu_darknet_load_streams(const char *text, size_t len, const char *name, FILE *weights,
                             const char *weights_name, mxu_graph **out)
{
    if (!out)
        return mxu_fail(MXU_ERR_INVAL, "darknet: NULL output graph");
    *out = NULL;
    if (!text && len)
        return mxu_fail(MXU_ERR_INVAL, "darknet: NULL cfg text");
    if (!name)
        name = "<cfg>";
    struct mxu_dn_cfg cfg;
    struct mxu_dn_net net;
    int rc = mxu_dn_cfg_parse(text ? text : "", len, name, &cfg);
    if (rc)
        return rc;
    rc = mxu_dn_build(&cfg, name, &net);
    if (rc == MXU_OK && weights) {
        rc = mxu_dn_load_weights(&net, &cfg, weights, weights_name ? weights_name : "<weights>");
        if (rc)
            mxu_dn_net_free(&net);
    }
    if (rc == MXU_OK) {
        *out = net.g;
        free(net.layers);
    }
    mxu_dn_cfg_free(&cfg);
    return rc;
}

int mxu_darknet_load_buffer(const char *cfg_text, size_t len, const char *name, mxu_graph **out)
{
    return mxu_darknet_load_streams(cfg_text, len, name, NULL, NULL, out);
}

static int open_error(const char *path, const char *what)
{
    int code = errno == ENOENT ? MXU_ERR_NOT_FOUND : MXU_ERR_IO;
    return mxu_fail(code, "%s: cannot open the %s: %s", path, what, strerror(errno));
}

/* The whole cfg file into memory. */
static int read_text(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return open_error(path, "cfg");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int rc = MXU_OK;
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap >= CFG_MAX_BYTES) {
            rc = mxu_fail(MXU_ERR_UNSUPPORTED, "%s: cfg larger than %u MB", path,
                          CFG_MAX_BYTES >> 20);
            break;
        }
        char *p = realloc(buf, cap * 2);
        if (!p) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = p;
        cap *= 2;
    }
    if (!buf)
        rc = mxu_fail(MXU_ERR_NOMEM, "%s: out of memory", path);
    else if (rc == MXU_OK && ferror(f))
        rc = mxu_fail(MXU_ERR_IO, "%s: read failed", path);
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *text = buf;
    *len = n;
    return MXU_OK;
}

int mxu_darknet_load(const char *cfg_path, const char *weights_path, mxu_graph **out)
{
    if (!out)
        return mxu_fail(MXU_ERR_INVAL, "darknet: NULL output graph");
    *out = NULL;
    if (!cfg_path)
        return mxu_fail(MXU_ERR_INVAL, "darknet: NULL cfg path");
    char *text = NULL;
    size_t len = 0;
    int rc = read_text(cfg_path, &text, &len);
    if (rc)
        return rc;
    FILE *wf = NULL;
    if (weights_path && !(wf = fopen(weights_path, "rb")))
        rc = open_error(weights_path, "weights");
    if (rc == MXU_OK)
        rc = mxu_darknet_load_streams(text, len, cfg_path, wf, weights_path, out);
    if (wf)
        fclose(wf);
    free(text);
    return rc;
}
