/* libFuzzer target for the .mxp loader (make fuzz, mk/fuzz.mk).
 *
 * Each input is parsed twice: as given (mostly exercising the header and the
 * CRC), and "sealed" with its total length and CRC fixed, so mutations reach the
 * section walk and the field validation behind the CRC. Whatever parses must
 * also survive the writer, the disassembler and the golden kernels:
 *   serialize(p) succeeds, parse(serialize(p)) serializes to the same bytes,
 *   disassembling p and assembling the listing gives the same bytes, and
 *   replaying its layers (mxu_reference_run, host layers included) on zeroed
 *   tensors does not crash (programs small enough to replay quickly).
 * A violation aborts, which libFuzzer reports as a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxu_asm.h"
#include "mxu_crc32.h"
#include "mxu_error.h"
#include "mxu_program.h"
#include "mxu_reference.h"

#define HEADER_BYTES 24
#define CRC_BYTES 4

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_mxp: %s: %s\n", what, mxu_error_detail());
        abort();
    }
}

static void check_listing(const mxu_program *p, const uint8_t *bytes, size_t len)
{
    char *text = NULL;
    size_t text_len = 0;
    FILE *f = open_memstream(&text, &text_len);
    check(f != NULL, "open_memstream");
    check(mxu_disasm_program(p, f) == MXU_OK, "disassembly failed");
    fclose(f);
    mxu_program *q = NULL;
    check(mxu_asm_parse(text, "listing", NULL, &q) == MXU_OK, "listing does not assemble");
    uint8_t *again;
    size_t again_len;
    check(mxu_program_serialize(q, &again, &again_len) == MXU_OK, "reassembled program invalid");
    check(again_len == len && memcmp(again, bytes, len) == 0, "disasm/asm round trip differs");
    free(again);
    mxu_program_free(q);
    free(text);
}

/* Rough work of replaying layer l: MACs, pool taps, elements moved. */
static uint64_t layer_work(const mxu_program *p, const mxu_layer *l)
{
    const mxu_tensor *in = &p->tensors[l->input], *out = &p->tensors[l->output];
    uint64_t work = mxu_layer_macs(p, l) + mxu_tensor_elems(in) + mxu_tensor_elems(out);
    if (l->op == MXU_LAYER_MAXPOOL || l->op == MXU_LAYER_AVGPOOL)
        work += mxu_tensor_elems(out) * l->kh * l->kw;
    if (l->pool_k) /* the conv output before the fused pool, and its windows */
        work += mxu_tensor_elems(out) * l->pool_s * l->pool_s * (1 + l->pool_k * l->pool_k);
    return work;
}

/* Replay every layer on zeroed tensors: an error is fine, a crash is not. */
static void replay(const mxu_program *p)
{
    uint64_t bytes = 0, work = 0;
    for (uint32_t i = 0; i < p->n_tensors; i++)
        bytes += mxu_tensor_elems(&p->tensors[i]) * mxu_dtype_size(p->tensors[i].dtype);
    for (uint32_t i = 0; i < p->n_layers && work <= (1u << 24); i++)
        work += layer_work(p, &p->layers[i]);
    if (bytes > (1u << 22) || work > (1u << 24))
        return;
    uint8_t **v = calloc(p->n_tensors ? p->n_tensors : 1, sizeof *v);
    check(v != NULL, "out of memory");
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        v[i] = calloc(mxu_tensor_elems(&p->tensors[i]) * mxu_dtype_size(p->tensors[i].dtype) + 1, 1);
        check(v[i] != NULL, "out of memory");
    }
    (void)mxu_reference_run(p, v);
    for (uint32_t i = 0; i < p->n_tensors; i++)
        free(v[i]);
    free(v);
}

static void parse_once(const uint8_t *data, size_t size)
{
    mxu_program *p = NULL;
    if (mxu_program_parse(data, size, &p) != MXU_OK) {
        check(p == NULL, "failed parse returned a program");
        return;
    }
    uint8_t *b1, *b2;
    size_t n1, n2;
    check(mxu_program_serialize(p, &b1, &n1) == MXU_OK, "reader accepted what the writer refuses");
    mxu_program *q = NULL;
    check(mxu_program_parse(b1, n1, &q) == MXU_OK, "writer output does not parse");
    check(mxu_program_serialize(q, &b2, &n2) == MXU_OK, "second serialize failed");
    check(n1 == n2 && memcmp(b1, b2, n1) == 0, "serialize is not idempotent");
    check_listing(p, b1, n1);
    replay(p);
    free(b1);
    free(b2);
    mxu_program_free(q);
    mxu_program_free(p);
}

static void put_u32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_once(data, size);
    if (size >= HEADER_BYTES + CRC_BYTES && size <= (1u << 24)) {
        uint8_t *sealed = malloc(size);
        if (!sealed)
            return 0;
        memcpy(sealed, data, size);
        put_u32(sealed + 16, (uint32_t)size);
        put_u32(sealed + size - CRC_BYTES, mxu_crc32(sealed, size - CRC_BYTES));
        parse_once(sealed, size);
        free(sealed);
    }
    return 0;
}
