/* The committed int8 .tflite models (models/tflite, made by the real TFLite
 * converter) compiled by mxu and run on the C model and on the RTL, every
 * output byte compared with the TFLite interpreter's (tests/tflite/reference.py,
 * PyPI ai-edge-litert, installed by mk/tflite.mk). docs/compiler-tflite.md and
 * docs/numerics.md explain the numbers and which interpreter kernels are
 * compared. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_compiler.h"
#include "tflite_compare.h"

#define MODEL_ARCH "rows=16,cols=16"
#define RTL_ARCH "rows=8,cols=8"
#define RTL_IMAGES 20

enum { OPT = 0, REF = 1 };

#define GOLDEN_IMAGES 100

/* One line per run, also appended to $MXU_BUILD/tflite-ref/results.txt for
 * the docs table. */
static void report(const char *dir, const char *backend, const struct tflite_ref *r,
                   const struct tflite_result *res)
{
    char line[500];
    snprintf(line, sizeof line,
             "%-14s %-5s images %5u  bytes %6llu  mismatching: builtin %llu, reference %llu%s  "
             "reference emulated (%u images): %llu  top-1 same: %u, %u  golden %llu/%u  %.1f s\n",
             r->name, backend, res->images, (unsigned long long)res->bytes,
             (unsigned long long)res->mismatch[OPT], (unsigned long long)res->mismatch[REF],
             r->float_out ? " (+float)" : "", res->emu_images, (unsigned long long)res->emu_mismatch,
             res->top1_agree[OPT], res->top1_agree[REF],
             (unsigned long long)res->golden_mismatch, res->golden_images, res->seconds);
    if (r->xnn) /* the default interpreter's outputs were made: report only */
        snprintf(line + strlen(line) - 1, sizeof line - strlen(line) + 1,
                 "  xnnpack: mismatching %llu, top-1 same %u\n", (unsigned long long)res->xnn_mismatch,
                 res->xnn_top1_agree);
    fputs(line, stderr);
    tflite_append_result(dir, line);
}

/* What must hold (docs/compiler-tflite.md, "Results"): the device equals mxu's
 * golden kernels, and every output byte equals the interpreter's builtin
 * kernels (the frontend selects their rounding: MXU_LAYER_F_ROUND_HALF_UP and
 * MXU_LAYER_F_SOFTMAX_FLOAT_TABLE). Against the reference kernels the only
 * differences are their rounding conventions (ties away from zero, an FC that
 * rounds once, fixed-point softmax): the emulation of those must equal them
 * byte for byte, and they touch well under 2% of the bytes. */
static void compare(const char *name, const char *backend, const char *arch, uint32_t dflt_images)
{
    const char *dir = tflite_ref_dir();
    if (!dir)
        return;
    struct tflite_ref r;
    struct tflite_result res;
    char uri[100];
    tflite_ref_load(dir, name, &r);
    mxu_program *p = tflite_compile(name, arch);
    snprintf(uri, sizeof uri, "%s:%s", backend, arch);
    tflite_run(p, uri, &r, tflite_image_count(&r, dflt_images), GOLDEN_IMAGES, &res);
    report(dir, backend, &r, &res);
    cr_expect_eq(res.golden_mismatch, 0, "%s: %llu images differ from mxu's golden reference", name,
                 (unsigned long long)res.golden_mismatch);
    cr_expect_eq(res.mismatch[OPT], 0, "%s on %s: %llu of %llu output bytes differ from the TFLite "
                 "interpreter's builtin kernels (first in image %u)", name, backend,
                 (unsigned long long)res.mismatch[OPT], (unsigned long long)res.bytes,
                 res.first_bad_image[OPT]);
    cr_expect_eq(res.top1_agree[OPT], res.images, "%s on %s: top-1 equal to the builtin kernels' on "
                 "%u of %u images", name, backend, res.top1_agree[OPT], res.images);
    cr_expect_eq(res.emu_mismatch, 0, "%s: %llu output bytes of the emulated reference kernels differ "
                 "from the interpreter's: a difference that is not the known rounding", name,
                 (unsigned long long)res.emu_mismatch);
    cr_expect_lt(res.mismatch[REF] * 50, res.bytes, "%s on %s: %llu of %llu output bytes differ from "
                 "the TFLite interpreter's reference kernels (first in image %u)", name, backend,
                 (unsigned long long)res.mismatch[REF], (unsigned long long)res.bytes,
                 res.first_bad_image[REF]);
    cr_expect_geq(res.top1_agree[REF] * 1000ull, res.images * 995ull, "%s on %s: top-1 equal to the "
                  "interpreter's reference kernels on %u of %u images", name, backend,
                  res.top1_agree[REF], res.images);
    for (int k = OPT; k <= REF && r.float_out; k++)
        cr_expect_eq(res.f32_mismatch[k], res.mismatch[k], "%s: the float outputs must differ "
                     "exactly where the int8 ones do (DEQUANTIZE is exact)", name);
    mxu_program_free(p);
    tflite_ref_free(&r);
}

/* Image counts keep `make test` within its budget (docs/compiler-tflite.md
 * has the whole-test-set table: MXU_TFLITE_IMAGES=10000). */
#define MODEL_TEST(name, images)                                                                   \
    Test(tflite_interp, name##_model, .timeout = 900) { compare(#name, "model", MODEL_ARCH, images); } \
    Test(tflite_interp, name##_rtl, .timeout = 900) { compare(#name, "rtl", RTL_ARCH, RTL_IMAGES); }

MODEL_TEST(mlp_28x28, 10000)
MODEL_TEST(lenet_28x28, 10000)
MODEL_TEST(lenet_32x32x3, 2000)
MODEL_TEST(resnet_28x28, 1000)
MODEL_TEST(dwsep_28x28, 300)
MODEL_TEST(dwsep_20x24, 500)
