/* mxu asm FILE.s -o P.mxp (mxu disasm: cmd_disasm.c) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mxu_asm.h"

static const char asm_usage[] =
    "FILE.s -o PROGRAM.mxp [--arch rows=R,cols=C,...]\n"
    "  Assemble a hand-written program (syntax: docs/asm.md). --arch sets the\n"
    "  configuration unless the file has a .config directive.\n";

static int read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mxu_fail(MXU_ERR_NOT_FOUND, "cannot open %s", path);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b)
                free(buf);
            buf = b;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        return mxu_fail(buf ? MXU_ERR_IO : MXU_ERR_NOMEM, "reading %s", path);
    }
    buf[n] = 0;
    *out = buf;
    return MXU_OK;
}

int cmd_asm(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *arch = NULL, *v;
    int missing;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu asm %s", asm_usage);
            return CLI_OK;
        } else if ((v = cli_opt(argc, argv, &i, "-o", &missing)) || missing) {
            out = v;
        } else if ((v = cli_opt(argc, argv, &i, "--arch", &missing)) || missing) {
            arch = v;
        } else if (argv[i][0] == '-' || in) {
            return cli_usage("asm", asm_usage);
        } else {
            in = argv[i];
        }
        if (missing)
            return cli_error("asm", 0, "%s needs a value", argv[i]);
    }
    if (!in || !out)
        return cli_usage("asm", asm_usage);
    mxu_hw_config cfg;
    mxu_program *p = NULL;
    char *src = NULL;
    mxu_config_default(&cfg);
    int rc = arch ? mxu_config_parse(&cfg, arch) : MXU_OK;
    if (rc == MXU_OK)
        rc = mxu_config_validate(&cfg);
    if (rc)
        return cli_error("asm", rc, "--arch %s", arch);
    if ((rc = read_file(in, &src)))
        return cli_error("asm", rc, "%s", in);
    rc = mxu_asm_parse(src, in, &cfg, &p);
    free(src);
    if (rc)
        return cli_error("asm", rc, "%s", in);
    rc = mxu_program_write(p, out);
    if (rc == MXU_OK)
        printf("%s: %u instructions, %u segments, %u tensors, %u layers -> %s\n", in, p->n_insns,
               p->n_segments, p->n_tensors, p->n_layers, out);
    mxu_program_free(p);
    return rc ? cli_error("asm", rc, "writing %s", out) : CLI_OK;
}
