/* The mxu tool as a user runs it: exit codes, messages on stderr, JSON keys,
 * the same checksum on every backend, and --check catching a wrong result. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/cli.h"
#include "mxu.h"
#include "mxu_layer_program.h"

static void tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "/tmp/mxu-cli-%d-%s", (int)getpid(), name);
}

Test(cli, help_for_every_command)
{
    const char *cmds[] = {"asm", "disasm", "run", "info", "bench"};
    struct cli_result r = cli_mxu("--help");
    cr_assert_eq(r.status, 0, "%s", r.out);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        cr_assert(strstr(r.out, cmds[i]), "%s missing from: %s", cmds[i], r.out);
        struct cli_result h = cli_mxu("%s --help", cmds[i]);
        cr_assert_eq(h.status, 0, "mxu %s --help: %s", cmds[i], h.out);
        cr_assert(strstr(h.out, "usage: mxu"), "%s", h.out);
    }
    cr_assert_eq(cli_mxu("frobnicate").status, 2);
}

Test(cli, asm_run_check_json_same_on_model_and_rtl)
{
    char prog[256];
    tmp_path(prog, sizeof prog, "conv.mxp");
    struct cli_result a = cli_mxu("asm examples/conv_relu_pool.s -o %s", prog);
    cr_assert_eq(a.status, 0, "%s", a.out);
    struct cli_result m = cli_mxu("run %s --backend model --random-input 3 --check --json", prog);
    struct cli_result r = cli_mxu("run %s --backend rtl --random-input 3 --check --json", prog);
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
    struct cli_result r = cli_mxu("run %s --check", prog);
    unlink(prog);
    cr_assert_eq(r.status, 1, "%s", r.out);
    cr_assert(strstr(r.out, "MISMATCH") && strstr(r.out, "byte"), "%s", r.out);
}

Test(cli, bad_inputs_give_clear_errors)
{
    char prog[256], junk[256];
    tmp_path(prog, sizeof prog, "ok.mxp");
    tmp_path(junk, sizeof junk, "junk.mxp");
    cr_assert_eq(cli_mxu("asm examples/matmul.s -o %s", prog).status, 0);
    struct cli_result r = cli_mxu("run /nonexistent/x.mxp");
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
    r = cli_mxu("run %s", junk);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "CRC"), "%s", r.out);
    r = cli_mxu("run %s --backend bogus", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "unknown backend"), "%s", r.out);
    r = cli_mxu("run %s --arch rows=0", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    r = cli_mxu("run %s --random-input banana", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    r = cli_mxu("run %s --input /nonexistent/in.bin", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    r = cli_mxu("asm /nonexistent/in.s -o %s", junk);
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
    struct cli_result r = cli_mxu("asm %s -o %s", src, prog);
    unlink(src);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, ":3:"), "no line number in: %s", r.out);
}

Test(cli, program_and_device_configurations_must_agree)
{
    char prog[256];
    tmp_path(prog, sizeof prog, "cfg.mxp");
    cr_assert_eq(cli_mxu("asm examples/matmul.s -o %s", prog).status, 0);
    struct cli_result r = cli_mxu("run %s --backend model --arch rows=8,cols=8", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "16x16") && strstr(r.out, "8x8"), "%s", r.out);
    r = cli_mxu("run %s --backend model --arch ub_lines=64", prog);
    unlink(prog);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "unified buffer"), "%s", r.out);
    r = cli_mxu("info --backend rtl --arch rows=0");
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "rows"), "%s", r.out);
}
