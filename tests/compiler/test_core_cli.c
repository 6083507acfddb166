/* `mxu compile` as a user runs it: a small Darknet .cfg compiled with random
 * weights, calibration images from an IDX file, preprocessing options landing
 * in the program's metadata, the compiled program checked by `mxu run --check`,
 * and every misuse answered on stderr with exit status 2. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/cli.h"
#include "mxu_program.h"

static const char tiny_cfg[] = "[net]\nheight=12\nwidth=12\nchannels=1\n\n"
                               "[convolutional]\nfilters=4\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n"
                               "[maxpool]\nsize=2\nstride=2\n\n"
                               "[connected]\noutput=5\nactivation=linear\n\n[softmax]\n";

static void tmp_file(char *path, size_t len, const char *name, const void *data, size_t bytes)
{
    snprintf(path, len, "/tmp/mxu-core-cli-%d-%s", (int)getpid(), name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, bytes, f), bytes);
    fclose(f);
}

/* An uncompressed IDX3 file of `count` 12x12 images. */
static void idx_images(char *path, size_t len, uint32_t count)
{
    size_t bytes = 16 + (size_t)count * 144;
    uint8_t *b = malloc(bytes);
    const uint32_t head[4] = {0x803, count, 12, 12};
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 4; k++)
            b[4 * i + k] = (uint8_t)(head[i] >> (24 - 8 * k));
    for (size_t i = 16; i < bytes; i++)
        b[i] = (uint8_t)(i * 37 % 251);
    tmp_file(path, len, "images.idx", b, bytes);
    free(b);
}

Test(core_cli, compile_then_run_checks)
{
    char cfg[256], out[300];
    tmp_file(cfg, sizeof cfg, "tiny.cfg", tiny_cfg, sizeof tiny_cfg - 1);
    snprintf(out, sizeof out, "%s.mxp", cfg);
    struct cli_result r = cli_mxu("compile %s --random-weights 7 --arch rows=8,cols=8 -o %s", cfg, out);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_expect(strstr(r.out, "for 8x8") && strstr(r.out, "conv2d+lut") && strstr(r.out, "softmax"), "%s", r.out);
    cr_expect(strstr(r.out, "device") && strstr(r.out, "host") && strstr(r.out, "wrote"), "%s", r.out);
    r = cli_mxu("run %s --backend model --random-input 3 --check", out);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect(strstr(r.out, "match") != NULL, "%s", r.out);
    unlink(out), unlink(cfg);
}

Test(core_cli, calibration_images_and_preprocessing_in_the_metadata)
{
    char cfg[256], images[256], out[300];
    mxu_program *p = NULL;
    tmp_file(cfg, sizeof cfg, "tiny2.cfg", tiny_cfg, sizeof tiny_cfg - 1);
    idx_images(images, sizeof images, 20);
    snprintf(out, sizeof out, "%s.mxp", cfg);
    struct cli_result r = cli_mxu("compile %s --random-weights 1 --calib %s --calib-count 8 --calib-method percentile:99.5 "
                       "--scale 0.5 --mean 0.25 --std 2 --bgr --quiet -o %s", cfg, images, out);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert_eq(mxu_program_read(out, &p), 0);
    const char *want[] = {"input.scale=0.5\n", "input.mean=0.25,0.25,0.25\n", "input.std=2,2,2\n",
                          "input.order=bgr\n", ":8:percentile\n", "calib=/tmp/mxu-core-cli-"};
    for (unsigned i = 0; i < sizeof want / sizeof *want; i++)
        cr_expect(strstr(p->metadata, want[i]) != NULL, "'%s' missing from\n%s", want[i], p->metadata);
    mxu_program_free(p);
    unlink(out), unlink(cfg), unlink(images);
}

Test(core_cli, misuse_exits_2_with_a_message)
{
    char cfg[256];
    tmp_file(cfg, sizeof cfg, "tiny3.cfg", tiny_cfg, sizeof tiny_cfg - 1);
    struct cli_result r = cli_mxu("compile --help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: mxu compile") != NULL, "%s", r.out);
    const char *bad[] = {
        "compile",                                                   /* no model */
        "compile %s --random-weights 1",                             /* no -o */
        "compile /nonexistent.cfg --random-weights 1 -o /tmp/x.mxp", /* missing file */
        "compile %s.txt --random-weights 1 -o /tmp/x.mxp",           /* unknown format */
        "compile %s -o /tmp/x.mxp",                                  /* no weights at all */
        "compile %s --random-weights 1 --weights w -o /tmp/x.mxp",   /* both */
        "compile %s --random-weights 1 --calib-method median -o /tmp/x.mxp",
        "compile %s --random-weights 1 --arch rows=0 -o /tmp/x.mxp",
        "compile %s --random-weights 1 --mean 1,x -o /tmp/x.mxp",
        "compile %s --random-weights 1 --calib /nonexistent.idx -o /tmp/x.mxp",
        "compile %s --random-weights",                               /* value missing */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[512];
        snprintf(args, sizeof args, bad[i], cfg);
        r = cli_mxu("%s", args);
        cr_expect_eq(r.status, 2, "'%s' exited %d: %s", args, r.status, r.out);
        cr_expect(strstr(r.out, "mxu compile") != NULL || strstr(r.out, "usage") != NULL, "'%s': %s", args, r.out);
    }
    r = cli_mxu("compile %s -o /tmp/x.mxp", cfg);
    cr_expect(strstr(r.out, "weights") != NULL, "the message says what is missing: %s", r.out);
    unlink(cfg);
}
