/* The mxu tool as a user runs it: exit codes, messages on stderr, JSON keys,
 * the same checksum on every backend, and --check catching a wrong result. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mxu.h"
#include "mxu_layer_program.h"

struct cmd_result {
    int status;
    char out[8192];
};

/* Run `mxu ARGS` through the shell, stdout and stderr together. */
static struct cmd_result mxu(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct cmd_result mxu(const char *fmt, ...)
{
    struct cmd_result r = {0};
    char args[1024], cmd[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *bin = getenv("MXU_BIN") ? getenv("MXU_BIN") : "build/bin/mxu";
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    size_t n = fread(r.out, 1, sizeof r.out - 1, f);
    r.out[n] = 0;
    int st = pclose(f);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

static void tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "/tmp/mxu-cli-%d-%s", (int)getpid(), name);
}

Test(cli, help_for_every_command)
{
    const char *cmds[] = {"asm", "disasm", "run", "info", "bench"};
    struct cmd_result r = mxu("--help");
    cr_assert_eq(r.status, 0, "%s", r.out);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        cr_assert(strstr(r.out, cmds[i]), "%s missing from: %s", cmds[i], r.out);
        struct cmd_result h = mxu("%s --help", cmds[i]);
        cr_assert_eq(h.status, 0, "mxu %s --help: %s", cmds[i], h.out);
        cr_assert(strstr(h.out, "usage: mxu"), "%s", h.out);
    }
    cr_assert_eq(mxu("frobnicate").status, 2);
}

Test(cli, asm_run_check_json_same_on_model_and_rtl)
{
    char prog[256];
    tmp_path(prog, sizeof prog, "conv.mxp");
    struct cmd_result a = mxu("asm examples/conv_relu_pool.s -o %s", prog);
    cr_assert_eq(a.status, 0, "%s", a.out);
    struct cmd_result m = mxu("run %s --backend model --random-input 3 --check --json", prog);
    struct cmd_result r = mxu("run %s --backend rtl --random-input 3 --check --json", prog);
    unlink(prog);
    cr_assert_eq(m.status, 0, "%s", m.out);
    cr_assert_eq(r.status, 0, "%s", r.out);
    const char *keys[] = {"\"match\": true", "\"total_cycles\": ", "\"outputs_checksum\": "};
    for (size_t i = 0; i < 3; i++) {
        cr_assert(strstr(m.out, keys[i]), "model output lacks %s: %s", keys[i], m.out);
        cr_assert(strstr(r.out, keys[i]), "rtl output lacks %s: %s", keys[i], r.out);
    }
    const char *cm = strstr(m.out, "\"outputs_checksum\": "), *cr = strstr(r.out, "\"outputs_checksum\": ");
    cr_assert_eq(strncmp(cm, cr, 30), 0, "checksums differ: %s / %s", m.out, r.out);
}

Test(cli, check_reports_a_wrong_result)
{
    mxu_hw_config cfg;
    mxu_program *p = NULL;
    char prog[256];
    struct mxu_layer_desc d = {.name = "fc", .op = MXU_LAYER_FC, .n = 3, .h = 1, .w = 1, .cin = 40,
                               .cout = 20, .act_min = -128, .act_max = 127};
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_build_layer_program(&cfg, &d, 7, &p), MXU_OK, "%s", mxu_error_detail());
    /* The recorded (golden) weights no longer match the packed device weights. */
    int8_t *w = (int8_t *)(p->host_blob + p->layers[0].weights);
    for (int i = 0; i < 40; i++)
        w[i] = (int8_t)(w[i] ^ 0x55);
    tmp_path(prog, sizeof prog, "bad.mxp");
    cr_assert_eq(mxu_program_write(p, prog), MXU_OK, "%s", mxu_error_detail());
    mxu_program_free(p);
    struct cmd_result r = mxu("run %s --check", prog);
    unlink(prog);
    cr_assert_eq(r.status, 1, "%s", r.out);
    cr_assert(strstr(r.out, "MISMATCH") && strstr(r.out, "byte"), "%s", r.out);
}

Test(cli, bad_inputs_give_clear_errors)
{
    char prog[256], junk[256];
    tmp_path(prog, sizeof prog, "ok.mxp");
    tmp_path(junk, sizeof junk, "junk.mxp");
    cr_assert_eq(mxu("asm examples/matmul.s -o %s", prog).status, 0);
    struct cmd_result r = mxu("run /nonexistent/x.mxp");
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "/nonexistent/x.mxp"), "%s", r.out);
    /* a flipped byte in the middle: the CRC catches it */
    FILE *in = fopen(prog, "rb"), *out = fopen(junk, "wb");
    cr_assert(in && out);
    int c;
    for (long i = 0; (c = fgetc(in)) != EOF; i++)
        fputc(i == 100 ? c ^ 1 : c, out);
    fclose(in);
    fclose(out);
    r = mxu("run %s", junk);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "CRC"), "%s", r.out);
    r = mxu("run %s --backend bogus", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "unknown backend"), "%s", r.out);
    r = mxu("run %s --arch rows=0", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    r = mxu("run %s --random-input banana", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    r = mxu("run %s --input /nonexistent/in.bin", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    r = mxu("asm /nonexistent/in.s -o %s", junk);
    cr_assert_eq(r.status, 2, "%s", r.out);
    unlink(prog);
    unlink(junk);
}

Test(cli, assembler_errors_name_the_line)
{
    char src[256], prog[256];
    tmp_path(src, sizeof src, "bad.s");
    tmp_path(prog, sizeof prog, "bad.mxp");
    FILE *f = fopen(src, "w");
    cr_assert_not_null(f);
    fputs("; comment\nload mem=ub elem_bytes=16 n0=1 n1=1 n2=1\nmatmul n0=bogus\nfinish\n", f);
    fclose(f);
    struct cmd_result r = mxu("asm %s -o %s", src, prog);
    unlink(src);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, ":3:"), "no line number in: %s", r.out);
}

Test(cli, program_and_device_configurations_must_agree)
{
    char prog[256];
    tmp_path(prog, sizeof prog, "cfg.mxp");
    cr_assert_eq(mxu("asm examples/matmul.s -o %s", prog).status, 0);
    struct cmd_result r = mxu("run %s --backend model --arch rows=8,cols=8", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "16x16") && strstr(r.out, "8x8"), "%s", r.out);
    r = mxu("run %s --backend model --arch ub_lines=64", prog);
    unlink(prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "unified buffer"), "%s", r.out);
    r = mxu("info --backend rtl --arch rows=0");
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "rows"), "%s", r.out);
}
