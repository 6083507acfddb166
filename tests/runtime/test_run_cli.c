/* `mxu run` and `mxu disasm` on a network program: per-layer reports, --check
 * per inference, data sets with accuracy, clear errors. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/cli.h"
#include "golden.h"
#include "mxu.h"
#include "mxu_dataset.h"
#include "mxu_graph.h"
#include "mxu_layer_program.h"
#include "mxu_numerics.h"
#include "mxu_reference.h"
#include "runtime/test_net.h"

TestSuite(run_cli, .timeout = 300);

static void tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "/tmp/mxu-runcli-%d-%s", (int)getpid(), name);
}

static mxu_program *net_program(uint64_t seed)
{
    mxu_hw_config cfg;
    mxu_program *p = NULL;
    mxu_config_default(&cfg);
    cr_assert_eq(test_net_build(&cfg, 8, 8, seed, 1, &p), MXU_OK, "%s", mxu_error_detail());
    return p;
}

static void write_net(const char *path, uint64_t seed)
{
    mxu_program *p = net_program(seed);
    cr_assert_eq(mxu_program_write(p, path), MXU_OK, "%s", mxu_error_detail());
    mxu_program_free(p);
}

static void be32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    fwrite(b, 1, 4, f);
}

/* n random h x w gray images and labels below `classes` as IDX files. */
static void write_idx(const char *images, const char *labels, uint32_t n, uint32_t h, uint32_t w,
                      uint32_t classes, uint64_t seed)
{
    FILE *f = fopen(images, "wb");
    cr_assert_not_null(f);
    fwrite("\0\0\x08\x03", 1, 4, f);
    be32(f, n), be32(f, h), be32(f, w);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    for (uint32_t i = 0; i < n * h * w; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        fputc((int)(s >> 32) & 0xFF, f);
    }
    fclose(f);
    f = fopen(labels, "wb");
    cr_assert_not_null(f);
    fwrite("\0\0\x08\x01", 1, 4, f);
    be32(f, n);
    for (uint32_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        fputc((int)((s >> 32) % classes), f);
    }
    fclose(f);
}

/* ---- one inference -------------------------------------------------------------------------- */

Test(run_cli, network_check_json_and_per_layer_table)
{
    char prog[256];
    tmp_path(prog, sizeof prog, "net.mxp");
    write_net(prog, 3);
    struct cli_result r = cli_mxu("run %s --check --json --random-input 2 --top 3", prog);
    cr_assert_eq(r.status, 0, "%s", r.out);
    const char *keys[] = {"\"match\": true", "\"accuracy\": null", "\"total_cycles\": ",
                          "\"utilization\": ", "\"layers\": [{\"name\": \"conv1\", \"op\": \"conv2d\", \"host\": false",
                          "{\"name\": \"softmax\", \"op\": \"softmax\", \"host\": true", "\"top\": [{\"class\": "};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        cr_assert(strstr(r.out, keys[i]), "lacks %s: %s", keys[i], r.out);
    r = cli_mxu("run %s --check --random-input 2 --top 2", prog);
    cr_assert_eq(r.status, 0, "%s", r.out);
    const char *lines[] = {"5 on the device, 5 on the host", "softmax              softmax   host",
                           "conv1                conv2d    device", "check     match", "top-2 "};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        cr_assert(strstr(r.out, lines[i]), "lacks '%s': %s", lines[i], r.out);
    unlink(prog);
}

Test(run_cli, network_same_on_model_and_rtl)
{
    char prog[256];
    tmp_path(prog, sizeof prog, "net-rtl.mxp");
    write_net(prog, 4);
    struct cli_result m = cli_mxu("run %s --backend model --random-input 5 --check --json", prog);
    struct cli_result r = cli_mxu("run %s --backend rtl --random-input 5 --check --json", prog);
    unlink(prog);
    cr_assert_eq(m.status, 0, "%s", m.out);
    cr_assert_eq(r.status, 0, "%s", r.out);
    const char *cm = strstr(m.out, "\"outputs_checksum\": "), *cr = strstr(r.out, "\"outputs_checksum\": ");
    cr_assert(cm && cr);
    cr_assert_eq(strncmp(cm, cr, 30), 0, "checksums differ: %s / %s", m.out, r.out);
    cm = strstr(m.out, "\"total_cycles\": "), cr = strstr(r.out, "\"total_cycles\": ");
    cr_assert_eq(strncmp(cm, cr, 28), 0, "the model predicts the RTL's cycles: %s / %s", m.out, r.out);
}

/* The golden weights of conv2 no longer match what the device computes with:
 * the first mismatch is in conv2's output, named with its index and values. */
Test(run_cli, check_names_the_first_mismatching_layer)
{
    char prog[256];
    mxu_program *p = net_program(6);
    const mxu_layer *l = &p->layers[2];
    cr_assert_str_eq(l->name, "conv2");
    int8_t *w = (int8_t *)(p->host_blob + l->weights);
    for (int i = 0; i < 8; i++)
        w[i] = (int8_t)(w[i] ^ 0x55);
    tmp_path(prog, sizeof prog, "bad.mxp");
    cr_assert_eq(mxu_program_write(p, prog), MXU_OK, "%s", mxu_error_detail());
    mxu_program_free(p);
    struct cli_result r = cli_mxu("run %s --check", prog);
    cr_assert_eq(r.status, 1, "%s", r.out);
    cr_assert(strstr(r.out, "MISMATCH: layer 2 'conv2' (conv2d), tensor 'c2' byte "), "%s", r.out);
    cr_assert(strstr(r.out, ": device ") && strstr(r.out, ", golden "), "%s", r.out);
    r = cli_mxu("run %s --check --json", prog);
    cr_assert_eq(r.status, 1, "%s", r.out);
    cr_assert(strstr(r.out, "\"match\": false") && strstr(r.out, "\"mismatch\": \"layer 2"), "%s", r.out);
    unlink(prog);
}

/* ---- data sets ---------------------------------------------------------------------------------- */

/* The accuracy the tool reports, recomputed here with the library: the same
 * preprocessing, quantization and golden run, top-1 against the labels. */
static uint32_t expected_correct(const mxu_program *p, const char *images, const char *labels, uint32_t n)
{
    mxu_dataset *d;
    uint8_t *lab;
    uint32_t count, correct = 0;
    cr_assert_eq(mxu_dataset_load(images, n, &d), MXU_OK);
    cr_assert_eq(mxu_labels_load(labels, n, &lab, &count), MXU_OK);
    struct mxu_preprocess pre = {.scale = 0.00392157f, .mean = {0.5f, 0.5f, 0.5f, 0.5f},
                                 .std = {0.5f, 0.5f, 0.5f, 0.5f}, .bgr = 0};
    uint8_t **v = calloc(p->n_tensors, sizeof *v);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        v[i] = calloc(mxu_tensor_bytes(&p->tensors[i]), 1);
    const mxu_tensor *x = &p->tensors[0];
    uint32_t prob = p->layers[p->n_layers - 1].output;
    float *img = malloc(mxu_tensor_elems(x) * sizeof *img);
    for (uint32_t i = 0; i < d->count; i++) {
        cr_assert_eq(mxu_dataset_image(d, i, &pre, x->dims[1], x->dims[2], x->dims[3], img), MXU_OK);
        for (uint64_t k = 0; k < mxu_tensor_elems(x); k++)
            ((int8_t *)v[0])[k] = mxu_quantize_f32(img[k], x->scale, x->zero_point);
        cr_assert_eq(mxu_reference_run(p, v), MXU_OK);
        const int8_t *q = (const int8_t *)v[prob];
        uint32_t best = 0;
        for (uint32_t c = 1; c < TEST_NET_CLASSES; c++)
            best = q[c] > q[best] ? c : best;
        correct += best == lab[i];
    }
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(v[i]);
    free(v);
    free(img);
    free(lab);
    mxu_dataset_free(d);
    return correct;
}

Test(run_cli, dataset_accuracy_and_limit)
{
    char prog[256], images[256], labels[256];
    tmp_path(prog, sizeof prog, "ds.mxp");
    tmp_path(images, sizeof images, "images.idx");
    tmp_path(labels, sizeof labels, "labels.idx");
    mxu_program *p = net_program(8);
    cr_assert_eq(mxu_program_write(p, prog), MXU_OK);
    write_idx(images, labels, 40, 8, 8, TEST_NET_CLASSES, 1);
    uint32_t correct = expected_correct(p, images, labels, 0);
    struct cli_result r = cli_mxu("run %s --dataset %s --labels %s --json --check", prog, images, labels);
    cr_assert_eq(r.status, 0, "%s", r.out);
    char want[64];
    snprintf(want, sizeof want, "\"accuracy\": %.6f", correct / 40.0);
    cr_assert(strstr(r.out, "\"images\": 40") && strstr(r.out, want), "want %s: %s", want, r.out);
    cr_assert(strstr(r.out, "\"match\": true") && strstr(r.out, "\"cycles_per_inference\": "), "%s", r.out);
    cr_assert(strstr(r.out, "\"wall_seconds\": ") && strstr(r.out, "\"layers\": ["), "%s", r.out);

    uint32_t first10 = expected_correct(p, images, labels, 10);
    r = cli_mxu("run %s --dataset %s --labels %s --limit 10 --top 3", prog, images, labels);
    cr_assert_eq(r.status, 0, "%s", r.out);
    snprintf(want, sizeof want, "accuracy  %.2f%% (%u/10)  top-3 ", 100.0 * first10 / 10, first10);
    cr_assert(strstr(r.out, want), "want '%s': %s", want, r.out);
    cr_assert(strstr(r.out, "10 images 8x8x1 -> input 'x' 8x8x3"), "%s", r.out);
    cr_assert(strstr(r.out, "cycles    ") && strstr(r.out, "per inference") && strstr(r.out, "images/s"),
              "%s", r.out);
    mxu_program_free(p);
    unlink(prog);
    unlink(images);
    unlink(labels);
}

Test(run_cli, dataset_errors_are_clear)
{
    char prog[256], fc[256], images[256], labels[256], few[256], big[256];
    tmp_path(prog, sizeof prog, "dse.mxp");
    tmp_path(fc, sizeof fc, "fc.mxp");
    tmp_path(images, sizeof images, "e-images.idx");
    tmp_path(labels, sizeof labels, "e-labels.idx");
    tmp_path(few, sizeof few, "e-few.idx");
    tmp_path(big, sizeof big, "e-big.idx");
    write_net(prog, 9);
    write_idx(images, labels, 12, 8, 8, TEST_NET_CLASSES, 2);
    char junk[256];
    tmp_path(junk, sizeof junk, "e-junk.idx");
    write_idx(junk, few, 5, 8, 8, TEST_NET_CLASSES, 3);   /* 5 labels for 12 images */
    write_idx(junk, big, 12, 8, 8, 200, 4);               /* labels up to 199 */

    struct cli_result r = cli_mxu("run %s --dataset %s --labels %s", prog, images, few);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "has 5 labels but") && strstr(r.out, "has 12 images"), "%s", r.out);
    r = cli_mxu("run %s --dataset %s --labels %s", prog, images, big);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "is not one of the program's 10 classes"), "%s", r.out);
    r = cli_mxu("run %s --dataset %s", prog, images);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "--dataset needs --labels"), "%s", r.out);
    r = cli_mxu("run %s --dataset /nonexistent/images.idx --labels %s", prog, labels);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "/nonexistent/images.idx"), "%s", r.out);
    r = cli_mxu("run %s --limit 3", prog);
    cr_assert_eq(r.status, 2, "%s", r.out);

    /* An MLP input (nc 1x40) cannot take 8x8 images. */
    mxu_hw_config cfg;
    mxu_program *p;
    struct mxu_layer_desc d = {.name = "fc", .op = MXU_LAYER_FC, .n = 1, .h = 1, .w = 1, .cin = 40,
                               .cout = 10, .act_min = -128, .act_max = 127};
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_build_layer_program(&cfg, &d, 7, &p), MXU_OK);
    cr_assert_eq(mxu_program_write(p, fc), MXU_OK);
    mxu_program_free(p);
    r = cli_mxu("run %s --dataset %s --labels %s", fc, images, labels);
    cr_assert_eq(r.status, 2, "%s", r.out);
    cr_assert(strstr(r.out, "8x8x1 (64 values) but input tensor 'input' is nc 1x40"), "%s", r.out);
    const char *files[] = {prog, fc, images, labels, few, big, junk};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(files[i]);
}

/* The hand-written example laid out like a compiled network: two code ranges
 * and a host softmax. */
Test(run_cli, example_with_code_ranges)
{
    char prog[256];
    tmp_path(prog, sizeof prog, "example.mxp");
    struct cli_result r = cli_mxu("asm examples/fc_relu_fc_softmax.s -o %s", prog);
    cr_assert_eq(r.status, 0, "%s", r.out);
    r = cli_mxu("run %s --random-input 4 --check --json", prog);
    cr_assert_eq(r.status, 0, "%s", r.out);
    cr_assert(strstr(r.out, "\"match\": true") && strstr(r.out, "{\"name\": \"sm\", \"op\": \"softmax\", \"host\": true"),
              "%s", r.out);
    r = cli_mxu("disasm %s --summary", prog);
    cr_assert(strstr(r.out, "fc1                  fc        device 0..8 (9)") &&
              strstr(r.out, "fc2                  fc        device 9..15 (7)"), "%s", r.out);
    unlink(prog);
}

/* ---- disasm --------------------------------------------------------------------------------------- */

Test(run_cli, disasm_summary_and_listing)
{
    char prog[256], src[256], again[256];
    tmp_path(prog, sizeof prog, "dis.mxp");
    tmp_path(src, sizeof src, "dis.s");
    tmp_path(again, sizeof again, "dis2.mxp");
    write_net(prog, 10);
    struct cli_result r = cli_mxu("disasm %s --summary", prog);
    cr_assert_eq(r.status, 0, "%s", r.out);
    const char *want[] = {"10 layers (5 on the device, 5 on the host)", "model=testnet",
                          "conv1                conv2d    device 0..",
                          "softmax              softmax   host   -",
                          "p1 1x4x4x8 + c2 1x4x4x6 -> cat 1x4x4x14", "3x3 s1 pad 1,1,1,1",
                          "prob                     output     1x10"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_assert(strstr(r.out, want[i]), "lacks '%s': %s", want[i], r.out);
    cr_assert_null(strstr(r.out, ".byte"), "the summary has no data");
    r = cli_mxu("disasm %s > %s", prog, src);
    cr_assert_eq(r.status, 0, "%s", r.out);
    r = cli_mxu("asm %s -o %s", src, again);
    cr_assert_eq(r.status, 0, "%s", r.out);
    FILE *a = fopen(prog, "rb"), *b = fopen(again, "rb");
    cr_assert(a && b);
    int ca, cb;
    do {
        ca = fgetc(a), cb = fgetc(b);
        cr_assert_eq(ca, cb, "the listing re-assembles to the same file");
    } while (ca != EOF);
    fclose(a);
    fclose(b);
    unlink(prog);
    unlink(src);
    unlink(again);
    r = cli_mxu("disasm");
    cr_assert_eq(r.status, 2, "%s", r.out);
}
