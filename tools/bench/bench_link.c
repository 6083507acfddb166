/* bench_link: the host link through the emulated board (driver/link_rtl.c: the
 * Verilated mxu_link_top, every byte simulated cycle by cycle).
 *
 *   1. sustained throughput of memory writes, reads and CSR accesses: payload
 *      bytes per link byte (protocol efficiency) and link bytes per core cycle,
 *      at full rate (one byte per cycle each way) and at 400 bytes per 1000
 *      cycles (an FT232H's ~40 MB/s against a 100 MHz core);
 *   2. one AlexNet layer (conv3) loaded, run and read back through the link;
 *   3. every AlexNet layer: the bytes it moves, and how long a real FT232H
 *      (~40 MB/s, both directions sharing it) needs for them at the measured
 *      efficiency, next to its compute time (cycles from the C model, which
 *      predicts the RTL's exactly) at 100 MHz.
 *
 * Prints markdown tables (docs/perf.md, "Host link"); --json-out FILE writes
 * the figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alexnet_layers.h"
#include "link_rtl.h"
#include "mxu.h"
#include "mxu_isa.h"
#include "mxu_layer_program.h"
#include "mxu_link.h"

struct opts {
    const char *arch, *json_out;
    size_t bytes;
    double clock_mhz, link_mbps;
};

struct flow {
    const char *what;
    uint32_t rate;
    uint64_t payload, link_bytes, cycles, ops;
    double seconds;
};

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_link: %s: %s: %s\n", what, mxu_strerror(rc), mxu_error_detail());
    exit(2);
}

/* CPU time: the machine may be shared, simulation speed is per core used. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct board {
    mxu_link_rtl *t;
    mxu_link *l;
};

static struct board open_board(const mxu_hw_config *cfg, uint32_t rate)
{
    struct mxu_link_rtl_options o;
    memset(&o, 0, sizeof o);
    o.fast_array = 1;
    o.sim.link_rate = rate;
    struct board b;
    int rc = mxu_link_rtl_open(cfg, &o, &b.t);
    if (rc)
        die("emulated board", rc);
    mxu_link_io io = mxu_link_rtl_io(b.t);
    if ((rc = mxu_link_open(&io, &b.l)))
        die("link", rc);
    return b;
}

static void close_board(struct board *b)
{
    mxu_link_close(b->l);
    mxu_link_rtl_close(b->t);
}

/* Start a flow measurement; finish_flow fills in what moved since. */
static void start_flow(struct board *b, struct flow *f, const char *what, uint32_t rate)
{
    memset(f, 0, sizeof *f);
    f->what = what;
    f->rate = rate;
    mxu_link_reset_stats(b->l);
    f->cycles = mxu_link_rtl_cycle(b->t);
    f->seconds = now();
}

static void finish_flow(struct board *b, struct flow *f, uint64_t ops)
{
    struct mxu_link_stats s;
    mxu_link_get_stats(b->l, &s);
    f->cycles = mxu_link_rtl_cycle(b->t) - f->cycles;
    f->seconds = now() - f->seconds;
    f->payload = s.payload_bytes;
    f->link_bytes = s.tx_bytes + s.rx_bytes;
    f->ops = ops;
    if (s.retries || s.crc_errors || s.timeouts) {
        fprintf(stderr, "bench_link: %s: a clean line had %llu retries\n", f->what, (unsigned long long)s.retries);
        exit(2);
    }
}

static void throughput(const mxu_hw_config *cfg, const struct opts *o, uint32_t rate, struct flow out[3])
{
    struct board b = open_board(cfg, rate);
    uint8_t *buf = malloc(o->bytes), *back = malloc(o->bytes);
    if (!buf || !back)
        die("memory", MXU_ERR_NOMEM);
    for (size_t i = 0; i < o->bytes; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    int rc;
    start_flow(&b, &out[0], "memory write", rate);
    if ((rc = mxu_link_mem_write(b.l, 0x100000, buf, o->bytes)))
        die("write", rc);
    finish_flow(&b, &out[0], 1);
    start_flow(&b, &out[1], "memory read", rate);
    if ((rc = mxu_link_mem_read(b.l, 0x100000, back, o->bytes)))
        die("read", rc);
    finish_flow(&b, &out[1], 1);
    if (memcmp(buf, back, o->bytes)) {
        fprintf(stderr, "bench_link: read back differs\n");
        exit(2);
    }
    start_flow(&b, &out[2], "CSR read", rate);
    for (int i = 0; i < 1000; i++) {
        uint32_t v;
        if ((rc = mxu_link_csr_read(b.l, MXU_CSR_STATUS, &v)))
            die("CSR read", rc);
    }
    finish_flow(&b, &out[2], 1000);
    free(buf);
    free(back);
    close_board(&b);
}

/* ---- one layer through the link --------------------------------------------------- */

struct layer_bytes {
    uint64_t load, input, output; /* code + constants, input tensors, output tensors */
};

static struct layer_bytes bytes_of(const mxu_program *p)
{
    struct layer_bytes lb = {(uint64_t)p->n_insns * MXU_INSN_BYTES, 0, 0};
    for (uint32_t i = 0; i < p->n_segments; i++)
        lb.load += p->segments[i].bytes;
    for (uint32_t i = 0; i < p->n_tensors; i++) {
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            lb.input += mxu_tensor_bytes(&p->tensors[i]);
        else if (p->tensors[i].role == MXU_ROLE_OUTPUT)
            lb.output += mxu_tensor_bytes(&p->tensors[i]);
    }
    return lb;
}

struct layer_run {
    struct layer_bytes bytes;
    uint64_t load_cycles, run_cycles, read_cycles, core_cycles, link_bytes;
};

static void run_layer_over_link(const mxu_hw_config *cfg, const struct mxu_layer_desc *d, struct layer_run *r)
{
    mxu_program *p = NULL;
    int rc = mxu_build_layer_program(cfg, d, 1, &p);
    if (rc)
        die(d->name, rc);
    memset(r, 0, sizeof *r);
    r->bytes = bytes_of(p);
    struct board b = open_board(cfg, 0);
    uint64_t c0 = mxu_link_rtl_cycle(b.t);
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_segments; i++)
        rc = mxu_link_mem_write(b.l, p->segments[i].dram_addr, p->segments[i].data, p->segments[i].bytes);
    if (rc == MXU_OK)
        rc = mxu_link_mem_write(b.l, p->code_addr, p->insns, (size_t)p->n_insns * MXU_INSN_BYTES);
    uint8_t *data = calloc(1, r->bytes.input + r->bytes.output + 1);
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_INPUT)
            rc = mxu_link_mem_write(b.l, p->tensors[i].dram_addr, data, mxu_tensor_bytes(&p->tensors[i]));
    uint64_t c1 = mxu_link_rtl_cycle(b.t);
    if (rc == MXU_OK)
        rc = mxu_link_csr_write(b.l, MXU_CSR_CMD_BASE, p->code_addr);
    if (rc == MXU_OK)
        rc = mxu_link_csr_write(b.l, MXU_CSR_CMD_COUNT, p->n_insns);
    if (rc == MXU_OK)
        rc = mxu_link_csr_write(b.l, MXU_CSR_CTRL, MXU_CTRL_START);
    uint32_t status = 0;
    while (rc == MXU_OK && !(status & MXU_STATUS_DONE)) {
        mxu_link_rtl_step(b.t, 1000);
        rc = mxu_link_csr_read(b.l, MXU_CSR_STATUS, &status);
    }
    uint32_t lo = 0, hi = 0;
    if (rc == MXU_OK)
        rc = mxu_link_csr_read(b.l, MXU_CNT_CYCLES, &lo);
    if (rc == MXU_OK)
        rc = mxu_link_csr_read(b.l, MXU_CNT_CYCLES + 4, &hi);
    uint64_t c2 = mxu_link_rtl_cycle(b.t);
    for (uint32_t i = 0; rc == MXU_OK && i < p->n_tensors; i++)
        if (p->tensors[i].role == MXU_ROLE_OUTPUT)
            rc = mxu_link_mem_read(b.l, p->tensors[i].dram_addr, data, mxu_tensor_bytes(&p->tensors[i]));
    if (rc)
        die(d->name, rc);
    if (status & MXU_STATUS_ERROR) {
        fprintf(stderr, "bench_link: %s stopped with a device error\n", d->name);
        exit(2);
    }
    r->load_cycles = c1 - c0;
    r->run_cycles = c2 - c1;
    r->read_cycles = mxu_link_rtl_cycle(b.t) - c2;
    r->core_cycles = lo | (uint64_t)hi << 32;
    free(data);
    close_board(&b);
    mxu_program_free(p);
}

/* Cycles of a layer from the C model (it predicts the RTL's CYCLES exactly). */
static uint64_t model_cycles(const mxu_hw_config *cfg, const mxu_program *p)
{
    char uri[400], spec[300];
    mxu_config_format(cfg, spec, sizeof spec);
    snprintf(uri, sizeof uri, "model:%s", spec);
    mxu_device *dev = NULL;
    mxu_counters c;
    int rc = mxu_open(uri, &dev);
    if (rc == MXU_OK)
        rc = mxu_program_load(dev, p);
    if (rc == MXU_OK)
        rc = mxu_program_run(dev, p, 0, &c);
    mxu_close(dev);
    if (rc)
        die("model run", rc);
    return c.cycles;
}

/* ---- report ---------------------------------------------------------------------------- */

static void group(uint64_t v, char *buf, size_t len)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%llu", (unsigned long long)v);
    size_t n = strlen(raw), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    o->arch = "16x16";
    o->json_out = NULL;
    o->bytes = 1u << 20;
    o->clock_mhz = 100;
    o->link_mbps = 40;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--arch") && v)
            o->arch = v, i++;
        else if (!strcmp(a, "--json-out") && v)
            o->json_out = v, i++;
        else if (!strcmp(a, "--bytes") && v)
            o->bytes = strtoull(v, NULL, 0), i++;
        else if (!strcmp(a, "--clock-mhz") && v)
            o->clock_mhz = atof(v), i++;
        else if (!strcmp(a, "--link-mbps") && v)
            o->link_mbps = atof(v), i++;
        else {
            fprintf(stderr, "usage: bench_link [--arch SPEC] [--bytes N] [--clock-mhz F] [--link-mbps F] "
                            "[--json-out FILE]\n");
            return 2;
        }
    }
    if (!o->bytes || o->clock_mhz <= 0 || o->link_mbps <= 0) {
        fprintf(stderr, "bench_link: --bytes, --clock-mhz and --link-mbps must be positive\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o))
        return 2;
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    int rc = mxu_config_parse(&cfg, o.arch);
    if (rc == MXU_OK)
        rc = mxu_config_validate(&cfg);
    if (rc)
        die("--arch", rc);

    /* 1. throughput */
    struct flow fl[2][3];
    throughput(&cfg, &o, 1000, fl[0]);
    throughput(&cfg, &o, 400, fl[1]);
    char a[32], b[32], c[32];
    printf("### Sustained throughput (%s, %zu bytes per transfer)\n\n", o.arch, o.bytes);
    printf("| transfer | link rate | payload bytes | link bytes (both ways) | cycles | payload / link byte | "
           "link bytes / cycle | payload bytes / cycle | simulated cycles / CPU s |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 3; k++) {
            struct flow *f = &fl[r][k];
            group(f->payload, a, sizeof a);
            group(f->link_bytes, b, sizeof b);
            group(f->cycles, c, sizeof c);
            printf("| %s%s | %s | %s | %s | %s | %.2f%% | %.3f | %.3f | %.0f k |\n", f->what,
                   k == 2 ? " (x1000)" : "", r ? "0.4 B/cycle" : "1 B/cycle", a, b, c,
                   100.0 * (double)f->payload / (double)f->link_bytes, (double)f->link_bytes / (double)f->cycles,
                   (double)f->payload / (double)f->cycles, (double)f->cycles / f->seconds / 1000.0);
        }
    printf("\nCSR access round trip: %.0f cycles, %.0f link bytes (1 B/cycle)\n\n",
           (double)fl[0][2].cycles / 1000.0, (double)fl[0][2].link_bytes / 1000.0);
    double wr_factor = (double)fl[0][0].link_bytes / (double)fl[0][0].payload;
    double rd_factor = (double)fl[0][1].link_bytes / (double)fl[0][1].payload;

    /* 2. conv3 through the link */
    struct layer_run lr;
    run_layer_over_link(&cfg, &bench_alexnet[2], &lr);
    printf("### AlexNet conv3 through the emulated link (1 B/cycle)\n\n");
    printf("| step | bytes | cycles |\n|---|---:|---:|\n");
    group(lr.bytes.load + lr.bytes.input, a, sizeof a);
    group(lr.load_cycles, b, sizeof b);
    printf("| load code, weights, parameters, input | %s | %s |\n", a, b);
    group(lr.core_cycles, a, sizeof a);
    group(lr.run_cycles, b, sizeof b);
    printf("| start, run (CYCLES = %s), poll STATUS every 1000 cycles | - | %s |\n", a, b);
    group(lr.bytes.output, a, sizeof a);
    group(lr.read_cycles, b, sizeof b);
    printf("| read the output | %s | %s |\n\n", a, b);

    /* 3. AlexNet at a real FT232H */
    double link_bps = o.link_mbps * 1e6, hz = o.clock_mhz * 1e6;
    printf("### AlexNet transfers at %.0f MB/s (FT232H), compute at %.0f MHz (%s)\n\n", o.link_mbps, o.clock_mhz,
           o.arch);
    printf("| layer | code + constants | input | output | link, everything | link, activations only | "
           "compute | link / compute |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    struct layer_bytes tot = {0, 0, 0};
    double t_all = 0, t_act = 0, t_cmp = 0;
    FILE *js = o.json_out ? fopen(o.json_out, "w") : NULL;
    if (o.json_out && !js) {
        fprintf(stderr, "bench_link: cannot write %s\n", o.json_out);
        return 2;
    }
    if (js) {
        fprintf(js, "{\"arch\": \"%s\", \"bytes\": %zu, \"flows\": [", o.arch, o.bytes);
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 3; k++) {
                struct flow *f = &fl[r][k];
                fprintf(js, "%s{\"what\": \"%s\", \"rate_permille\": %u, \"payload\": %llu, \"link_bytes\": %llu, "
                            "\"cycles\": %llu}", r || k ? ", " : "", f->what, f->rate,
                        (unsigned long long)f->payload, (unsigned long long)f->link_bytes,
                        (unsigned long long)f->cycles);
            }
        fprintf(js, "], \"conv3\": {\"load_cycles\": %llu, \"run_cycles\": %llu, \"read_cycles\": %llu, "
                    "\"core_cycles\": %llu}, \"alexnet\": [",
                (unsigned long long)lr.load_cycles, (unsigned long long)lr.run_cycles,
                (unsigned long long)lr.read_cycles, (unsigned long long)lr.core_cycles);
    }
    for (size_t i = 0; i < BENCH_ALEXNET_LAYERS; i++) {
        mxu_program *p = NULL;
        if ((rc = mxu_build_layer_program(&cfg, &bench_alexnet[i], 1, &p)))
            die(bench_alexnet[i].name, rc);
        struct layer_bytes lb = bytes_of(p);
        uint64_t cycles = model_cycles(&cfg, p);
        mxu_program_free(p);
        double s_all = ((double)(lb.load + lb.input) * wr_factor + (double)lb.output * rd_factor) / link_bps;
        double s_act = ((double)lb.input * wr_factor + (double)lb.output * rd_factor) / link_bps;
        double s_cmp = (double)cycles / hz;
        tot.load += lb.load, tot.input += lb.input, tot.output += lb.output;
        t_all += s_all, t_act += s_act, t_cmp += s_cmp;
        group(lb.load, a, sizeof a);
        group(lb.input, b, sizeof b);
        group(lb.output, c, sizeof c);
        printf("| %s | %s | %s | %s | %.2f ms | %.3f ms | %.2f ms | %.1f× |\n", bench_alexnet[i].name, a, b, c,
               s_all * 1e3, s_act * 1e3, s_cmp * 1e3, s_all / s_cmp);
        if (js)
            fprintf(js, "%s{\"name\": \"%s\", \"load\": %llu, \"input\": %llu, \"output\": %llu, \"cycles\": %llu, "
                        "\"link_s\": %.6f, \"link_act_s\": %.6f, \"compute_s\": %.6f}", i ? ", " : "",
                    bench_alexnet[i].name, (unsigned long long)lb.load, (unsigned long long)lb.input,
                    (unsigned long long)lb.output, (unsigned long long)cycles, s_all, s_act, s_cmp);
    }
    group(tot.load, a, sizeof a);
    group(tot.input, b, sizeof b);
    group(tot.output, c, sizeof c);
    printf("| total | %s | %s | %s | %.1f ms | %.2f ms | %.1f ms | %.1f× |\n\n", a, b, c, t_all * 1e3, t_act * 1e3,
           t_cmp * 1e3, t_all / t_cmp);
    printf("(link time = bytes × measured link bytes per payload byte (%.4f writing, %.4f reading) / %.0f MB/s)\n",
           wr_factor, rd_factor, o.link_mbps);
    if (js) {
        fprintf(js, "], \"write_factor\": %.6f, \"read_factor\": %.6f}\n", wr_factor, rd_factor);
        fclose(js);
    }
    return 0;
}
