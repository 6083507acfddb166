/* Simulation speed of a Verilated mxu (libmxu_rtl*.so) in cycles per second on
 * one core, running a long real program: weights and inputs loaded once, then a
 * long sequence of MATMULs over 4 weight tiles each, an ACTIVATE and a STORE.
 *
 *   bench_simspeed [--matmuls N] [--json-out FILE]
 *                  [--trace FILE [--trace-cycles N] [--trace-depth L]] LIB.so...
 *
 * --trace writes an FST of the first N cycles (default 10000; needs a
 * libmxu_rtl_trace.so) to measure what tracing costs.
 * Prints a table (one row per library) and one JSON line per library. Libraries
 * of any configuration work; the program adapts to the compiled-in sizes. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxu_config.h"
#include "mxu_isa.h"
#include "mxu_rtl.h"

struct api {
    void (*config)(mxu_hw_config *);
    mxu_rtl *(*create)(const mxu_rtl_options *, char *, size_t);
    void (*destroy)(mxu_rtl *);
    uint8_t *(*dram)(mxu_rtl *, size_t *);
    uint32_t (*csr_read)(mxu_rtl *, uint32_t);
    void (*csr_write)(mxu_rtl *, uint32_t, uint32_t);
    uint64_t (*run)(mxu_rtl *, uint64_t);
};

struct result {
    uint64_t cycles, vectors;
    uint32_t err_code;
    double seconds;
};

static int load_api(const char *path, void **lib, struct api *a)
{
    *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!*lib) {
        fprintf(stderr, "bench_simspeed: %s\n", dlerror());
        return -1;
    }
    *(void **)&a->config = dlsym(*lib, "mxu_rtl_config");
    *(void **)&a->create = dlsym(*lib, "mxu_rtl_create");
    *(void **)&a->destroy = dlsym(*lib, "mxu_rtl_destroy");
    *(void **)&a->dram = dlsym(*lib, "mxu_rtl_dram");
    *(void **)&a->csr_read = dlsym(*lib, "mxu_rtl_csr_read");
    *(void **)&a->csr_write = dlsym(*lib, "mxu_rtl_csr_write");
    *(void **)&a->run = dlsym(*lib, "mxu_rtl_run");
    if (!a->config || !a->create || !a->destroy || !a->dram || !a->csr_read || !a->csr_write || !a->run) {
        fprintf(stderr, "bench_simspeed: %s lacks the mxu_rtl C API\n", path);
        return -1;
    }
    return 0;
}

static void put_insn(uint8_t *dst, const uint64_t w[MXU_INSN_WORDS])
{
    for (unsigned b = 0; b < MXU_INSN_BYTES; b++)
        dst[b] = (uint8_t)(w[b / 8] >> (8 * (b % 8)));
}

#define WGT_ADDR 0x100000u
#define IN_ADDR 0x200000u
#define PARAM_ADDR 0x300000u
#define OUT_ADDR 0x400000u
#define CODE_ADDR 0x10000u

/* Writes the program and its data into dram; returns the instruction count. */
static uint32_t build_program(const mxu_hw_config *c, uint8_t *dram, uint32_t matmuls, uint32_t *vectors)
{
    uint32_t tiles = c->wb_lines / c->rows < 4 ? c->wb_lines / c->rows : 4;
    uint32_t n0 = c->acc_rows < 1024 ? c->acc_rows : 1024;
    if (n0 > c->ub_lines)
        n0 = c->ub_lines;
    srand(1);
    for (uint32_t i = 0; i < tiles * c->rows * c->cols; i++)
        dram[WGT_ADDR + i] = (uint8_t)rand();
    for (uint32_t i = 0; i < n0 * c->rows; i++)
        dram[IN_ADDR + i] = (uint8_t)rand();
    for (uint32_t ch = 0; ch < c->cols; ch++) { /* bias 0, multiplier 2^30, shift -8 */
        uint32_t v[3] = {0, 1u << 30, (uint32_t)-8};
        memcpy(dram + PARAM_ADDR + 12 * ch, v, 12);
    }
    uint64_t w[MXU_INSN_WORDS];
    uint32_t n = 0;
    uint8_t *code = dram + CODE_ADDR;
#define EMIT() put_insn(code + MXU_INSN_BYTES * n++, w)
    memset(w, 0, sizeof w); /* weights: tiles x ROWS lines of COLS bytes */
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_LOAD);
    MXU_SET(w, LOAD, MEM, MXU_MEM_WB);
    MXU_SET(w, LOAD, ELEM_BYTES, c->cols);
    MXU_SET(w, LOAD, DRAM_ADDR, WGT_ADDR);
    MXU_SET(w, LOAD, N0, tiles * c->rows);
    MXU_SET(w, LOAD, N1, 1);
    MXU_SET(w, LOAD, N2, 1);
    MXU_SET(w, LOAD, S0, c->cols);
    EMIT();
    MXU_SET(w, LOAD, MEM, MXU_MEM_PARAM);
    MXU_SET(w, LOAD, ELEM_BYTES, 12 * c->cols);
    MXU_SET(w, LOAD, DRAM_ADDR, PARAM_ADDR);
    MXU_SET(w, LOAD, N0, 1);
    EMIT();
    MXU_SET(w, LOAD, MEM, MXU_MEM_UB); /* inputs: n0 vectors of ROWS bytes */
    MXU_SET(w, LOAD, ELEM_BYTES, c->rows);
    MXU_SET(w, LOAD, DRAM_ADDR, IN_ADDR);
    MXU_SET(w, LOAD, N0, n0);
    MXU_SET(w, LOAD, S0, c->rows);
    MXU_SET(w, LOAD, PUSH_NEXT, 1);
    EMIT();
    *vectors = 0;
    for (uint32_t m = 0; m < matmuls; m++) {
        memset(w, 0, sizeof w);
        mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_MATMUL);
        MXU_SET(w, MATMUL, POP_PREV, m == 0);
        MXU_SET(w, MATMUL, ACCUMULATE, m != 0);
        MXU_SET(w, MATMUL, N0, n0);
        MXU_SET(w, MATMUL, N1, 1);
        MXU_SET(w, MATMUL, S0, 1);
        MXU_SET(w, MATMUL, NK, tiles);
        MXU_SET(w, MATMUL, WGT_LINE, 0);
        EMIT();
        *vectors += n0 * tiles;
    }
    memset(w, 0, sizeof w);
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_ACTIVATE);
    MXU_SET(w, ACTIVATE, IN_W, n0);
    MXU_SET(w, ACTIVATE, OUT_H, 1);
    MXU_SET(w, ACTIVATE, OUT_W, n0);
    MXU_SET(w, ACTIVATE, POOL_K, 1);
    MXU_SET(w, ACTIVATE, POOL_S, 1);
    MXU_SET(w, ACTIVATE, CLAMP_MIN, 0x80);
    MXU_SET(w, ACTIVATE, CLAMP_MAX, 0x7F);
    MXU_SET(w, ACTIVATE, PUSH_NEXT, 1);
    EMIT();
    memset(w, 0, sizeof w);
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_STORE);
    MXU_SET(w, STORE, POP_PREV, 1);
    MXU_SET(w, STORE, ELEM_BYTES, c->cols);
    MXU_SET(w, STORE, DRAM_ADDR, OUT_ADDR);
    MXU_SET(w, STORE, N0, n0);
    MXU_SET(w, STORE, N1, 1);
    MXU_SET(w, STORE, N2, 1);
    MXU_SET(w, STORE, S0, c->cols);
    EMIT();
    memset(w, 0, sizeof w);
    mxu_insn_set(w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_FINISH);
    EMIT();
#undef EMIT
    return n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *trace_path;
static uint64_t trace_cycles = 10000;
static uint32_t trace_depth;

static int bench_one(const char *path, uint32_t matmuls, mxu_hw_config *cfg, struct result *r)
{
    void *lib;
    struct api a;
    if (load_api(path, &lib, &a))
        return -1;
    a.config(cfg);
    if ((uint64_t)CODE_ADDR + MXU_INSN_BYTES * (matmuls + 8ull) > WGT_ADDR || cfg->dram_bytes < OUT_ADDR + 65536) {
        fprintf(stderr, "bench_simspeed: %u MATMULs do not fit this configuration's DRAM layout\n", matmuls);
        dlclose(lib);
        return -1;
    }
    char err[256];
    mxu_rtl_options opt = {0, 0, trace_path, 0, trace_path ? trace_cycles : 0, trace_depth};
    mxu_rtl *rtl = a.create(&opt, err, sizeof err);
    if (!rtl) {
        fprintf(stderr, "bench_simspeed: %s: %s\n", path, err);
        dlclose(lib);
        return -1;
    }
    size_t bytes;
    uint8_t *dram = a.dram(rtl, &bytes);
    uint32_t vectors, n = build_program(cfg, dram, matmuls, &vectors);
    a.csr_write(rtl, MXU_CSR_CMD_BASE, CODE_ADDR);
    a.csr_write(rtl, MXU_CSR_CMD_COUNT, n);
    a.csr_write(rtl, MXU_CSR_CTRL, MXU_CTRL_START);
    double t0 = now();
    r->cycles = a.run(rtl, 4000000000ull);
    r->seconds = now() - t0;
    r->err_code = a.csr_read(rtl, MXU_CSR_ERR_CODE);
    r->vectors = a.csr_read(rtl, MXU_CNT_ARRAY_VECTORS) | (uint64_t)a.csr_read(rtl, MXU_CNT_ARRAY_VECTORS + 4) << 32;
    int done = (a.csr_read(rtl, MXU_CSR_STATUS) & MXU_STATUS_DONE) != 0;
    a.destroy(rtl);
    dlclose(lib);
    if (!done || r->err_code) {
        fprintf(stderr, "bench_simspeed: %s: program did not complete cleanly (done %d, ERR_CODE %u)\n", path, done,
                r->err_code);
        return -1;
    }
    if (r->vectors != vectors)
        fprintf(stderr, "bench_simspeed: note: ARRAY_VECTORS %llu, expected %u\n", (unsigned long long)r->vectors,
                vectors);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_simspeed [--matmuls N] [--json-out FILE]\n"
                    "                      [--trace FILE [--trace-cycles N] [--trace-depth L]] LIB.so...\n");
}

int main(int argc, char **argv)
{
    uint32_t matmuls = 400;
    const char *json_out = NULL;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--matmuls") && first + 1 < argc)
            matmuls = (uint32_t)strtoul(argv[++first], NULL, 0);
        else if (!strcmp(argv[first], "--json-out") && first + 1 < argc)
            json_out = argv[++first];
        else if (!strcmp(argv[first], "--trace") && first + 1 < argc)
            trace_path = argv[++first];
        else if (!strcmp(argv[first], "--trace-cycles") && first + 1 < argc)
            trace_cycles = strtoull(argv[++first], NULL, 0);
        else if (!strcmp(argv[first], "--trace-depth") && first + 1 < argc)
            trace_depth = (uint32_t)strtoul(argv[++first], NULL, 0);
        else {
            usage();
            return 2;
        }
    }
    if (first == argc || matmuls == 0) {
        usage();
        return 2;
    }
    FILE *json = json_out ? fopen(json_out, "w") : NULL;
    printf("%-48s %8s %12s %9s %12s %14s\n", "library", "config", "cycles", "seconds", "cycles/s", "sim MAC/s");
    int failures = 0;
    for (int i = first; i < argc; i++) {
        mxu_hw_config cfg;
        struct result r;
        if (bench_one(argv[i], matmuls, &cfg, &r)) {
            failures++;
            continue;
        }
        char name[64];
        mxu_config_name(&cfg, name, sizeof name);
        double cps = r.cycles / r.seconds;
        double macs = (double)r.vectors * cfg.rows * cfg.cols / r.seconds;
        printf("%-48s %8s %12llu %9.3f %12.0f %14.3g\n", argv[i], name, (unsigned long long)r.cycles, r.seconds, cps,
               macs);
        char line[512];
        snprintf(line, sizeof line,
                 "{\"bench\":\"simspeed\",\"lib\":\"%s\",\"config\":\"%s\",\"cycles\":%llu,\"seconds\":%.4f,"
                 "\"cycles_per_second\":%.0f,\"array_vectors\":%llu}",
                 argv[i], name, (unsigned long long)r.cycles, r.seconds, cps, (unsigned long long)r.vectors);
        puts(line);
        if (json)
            fprintf(json, "%s\n", line);
    }
    if (json)
        fclose(json);
    return failures ? 1 : 0;
}
