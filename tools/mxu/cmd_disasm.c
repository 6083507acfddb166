/* mxu disasm PROGRAM.mxp [--summary]: a program readably. First a summary of
 * what it computes (tensors; layers with op, shapes, device or host, and their
 * instruction ranges), then the listing that re-assembles to the same file
 * (the summary is comments there). --summary prints the summary alone, which
 * is what a compiled network with megabytes of weights wants. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mxu_asm.h"
#include "mxu_reference.h"

static const char disasm_usage[] =
    "PROGRAM.mxp [--summary]\n"
    "  List a program: a summary of its tensors and layers (op, shapes, device or host,\n"
    "  instruction ranges), then configuration, code (with each layer's range marked),\n"
    "  segments, tensors, layers and metadata as source that re-assembles to the same\n"
    "  program. --summary prints the summary only.\n";

struct out {
    FILE *f;
    const char *prefix; /* "; " inside a listing, "" alone */
};

/* A name printable on one comment line: control bytes become '?'. */
static const char *clean(const char *name, size_t max, char *buf, size_t len)
{
    size_t n = 0;
    for (; n + 1 < len && n < max && name[n]; n++)
        buf[n] = (unsigned char)name[n] < 0x20 || name[n] == 0x7F ? '?' : name[n];
    buf[n] = 0;
    return buf;
}

static const char *role_name(uint32_t role)
{
    return role == MXU_ROLE_INPUT ? "input" : role == MXU_ROLE_OUTPUT ? "output" : "activation";
}

static void shape(const mxu_tensor *t, char *buf, size_t len)
{
    if (t->ndims == 4)
        snprintf(buf, len, "%ux%ux%ux%u", t->dims[0], t->dims[1], t->dims[2], t->dims[3]);
    else
        snprintf(buf, len, "%ux%u", t->dims[0], t->dims[1]);
}

/* "name 1x8x8x3" of tensor i. */
static void tensor_ref(const mxu_program *p, uint32_t i, char *buf, size_t len)
{
    char s[64], name[MXU_NAME_LEN];
    shape(&p->tensors[i], s, sizeof s);
    snprintf(buf, len, "%.40s %s", clean(p->tensors[i].name, MXU_NAME_LEN, name, sizeof name), s);
}

/* The op's parameters in a few words. */
static void op_detail(const mxu_layer *l, char *buf, size_t len)
{
    buf[0] = 0;
    switch (l->op) {
    case MXU_LAYER_CONV2D: {
        int n = snprintf(buf, len, "%ux%u s%u", l->kh, l->kw, l->stride_h);
        if (l->stride_w != l->stride_h)
            n += snprintf(buf + n, len - (size_t)n, ",%u", l->stride_w);
        if (l->pad_top || l->pad_left || l->pad_bottom || l->pad_right)
            n += snprintf(buf + n, len - (size_t)n, " pad %u,%u,%u,%u", l->pad_top, l->pad_left,
                          l->pad_bottom, l->pad_right);
        if (l->groups > 1)
            n += snprintf(buf + n, len - (size_t)n, " g%u", l->groups);
        if (l->dil_h > 1 || l->dil_w > 1)
            n += snprintf(buf + n, len - (size_t)n, " d%u,%u", l->dil_h, l->dil_w);
        if (l->pool_k)
            n += snprintf(buf + n, len - (size_t)n, " +maxpool %u/%u", l->pool_k, l->pool_s);
        if (l->flags & MXU_LAYER_F_LUT)
            n += snprintf(buf + n, len - (size_t)n, " +lut");
        if (l->flags & MXU_LAYER_F_ROUND_HALF_UP)
            snprintf(buf + n, len - (size_t)n, " round-half-up");
        break;
    }
    case MXU_LAYER_FC:
        snprintf(buf, len, "%u out%s%s", l->cout, l->flags & MXU_LAYER_F_LUT ? " +lut" : "",
                 l->flags & MXU_LAYER_F_ROUND_HALF_UP ? " round-half-up" : "");
        break;
    case MXU_LAYER_SOFTMAX:
        snprintf(buf, len, "%s", l->flags & MXU_LAYER_F_SOFTMAX_FLOAT_TABLE ? "float exp table" : "fixed point");
        break;
    case MXU_LAYER_MAXPOOL:
    case MXU_LAYER_AVGPOOL:
        snprintf(buf, len, "%ux%u s%u", l->kh, l->kw, l->stride_h);
        break;
    case MXU_LAYER_UPSAMPLE:
        snprintf(buf, len, "x%u", l->stride_h);
        break;
    }
}

static void summary(const mxu_program *p, const char *path, struct out *o)
{
    const char *x = o->prefix;
    char name[MXU_NAME_LEN], line[256];
    uint64_t seg_bytes = 0, macs = 0;
    uint32_t host = 0;
    for (uint32_t i = 0; i < p->n_segments; i++)
        seg_bytes += p->segments[i].bytes;
    for (uint32_t i = 0; i < p->n_layers; i++) {
        host += (uint32_t)mxu_layer_on_host(p, i);
        macs += mxu_layer_macs(p, &p->layers[i]);
    }
    fprintf(o->f, "%s%s: %ux%u array, %u instructions at 0x%x, %u segments (%" PRIu64 " bytes), "
            "DRAM used %u bytes\n", x, clean(path, 200, line, sizeof line), p->config.rows, p->config.cols, p->n_insns, p->code_addr,
            p->n_segments, seg_bytes, p->dram_used);
    fprintf(o->f, "%s%u tensors, %u layers (%u on the device, %u on the host), %" PRIu64 " MACs%s\n", x,
            p->n_tensors, p->n_layers, p->n_layers - host, host, macs,
            mxu_program_has_ranges(p) || !p->n_layers ? "" : "; the whole code runs as one");
    for (const char *m = p->metadata; m && *m;) {
        const char *nl = strchr(m, '\n');
        int n = nl ? (int)(nl - m) : (int)strlen(m);
        fprintf(o->f, "%s  %s\n", x, clean(m, (size_t)n, line, sizeof line));
        m += n + (nl != NULL);
    }
    fprintf(o->f, "%s\n%s%-4s %-24s %-10s %-14s %10s %12s %5s\n", x, x, "#", "tensor", "role",
            "shape", "address", "scale", "zp");
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        const mxu_tensor *t = &p->tensors[i];
        char s[64];
        shape(t, s, sizeof s);
        fprintf(o->f, "%s%-4u %-24.24s %-10s %-14s %#10x %12.6g %5d\n", x, i,
                clean(t->name, MXU_NAME_LEN, name, sizeof name), role_name(t->role),
                s, t->dram_addr, (double)t->scale, t->zero_point);
    }
    if (!p->n_layers)
        return;
    fprintf(o->f, "%s\n%s%-4s %-20s %-9s %-6s %-20s %s\n", x, x, "#", "layer", "op", "where",
            "instructions", "MACs");
    for (uint32_t i = 0; i < p->n_layers; i++) {
        const mxu_layer *l = &p->layers[i];
        char range[48], in[120], in2[120] = "", out[120], detail[96];
        int on_host = mxu_layer_on_host(p, i);
        if (l->code_count)
            snprintf(range, sizeof range, "%u..%u (%u)", l->code_first, l->code_first + l->code_count - 1,
                     l->code_count);
        else
            snprintf(range, sizeof range, "%s", on_host ? "-" : "all (whole code)");
        tensor_ref(p, l->input, in, sizeof in);
        if (l->input2 != MXU_NONE)
            tensor_ref(p, l->input2, in2, sizeof in2);
        tensor_ref(p, l->output, out, sizeof out);
        op_detail(l, detail, sizeof detail);
        fprintf(o->f, "%s%-4u %-20.20s %-9s %-6s %-20s %" PRIu64 "\n", x, i,
                clean(l->name, MXU_NAME_LEN, name, sizeof name),
                mxu_layer_op_name(l->op), on_host ? "host" : "device", range, mxu_layer_macs(p, l));
        fprintf(o->f, "%s       %s%s%s -> %s%s%s\n", x, in, in2[0] ? " + " : "", in2, out,
                detail[0] ? "   " : "", detail);
    }
}

int cmd_disasm(int argc, char **argv)
{
    const char *path = NULL;
    int only_summary = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu disasm %s", disasm_usage);
            return CLI_OK;
        } else if (cli_flag(argv[i], "--summary")) {
            only_summary = 1;
        } else if (argv[i][0] == '-' || path) {
            return cli_usage("disasm", disasm_usage);
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return cli_usage("disasm", disasm_usage);
    mxu_program *p;
    int rc = mxu_program_read(path, &p);
    if (rc)
        return cli_error("disasm", rc, "%s", path);
    struct out o = {stdout, only_summary ? "" : "; "};
    summary(p, path, &o);
    if (!only_summary) {
        fputs(";\n", stdout);
        rc = mxu_disasm_program(p, stdout);
    } else if (fflush(stdout) != 0 || ferror(stdout)) {
        rc = mxu_fail(MXU_ERR_IO, "writing the summary failed");
    }
    mxu_program_free(p);
    return rc ? cli_error("disasm", rc, "%s", path) : CLI_OK;
}
