/* The "rtl" backend: the Verilated RTL (build/rtl/<config>/libmxu_rtl.so,
 * built on demand) loaded with dlopen and driven through its C API
 * (sim/verilator/mxu_rtl.h).
 *
 * Options ("key=value,..."):
 *   latency=N      DRAM read latency in cycles (default MXU_DEFAULT_DRAM_LATENCY)
 *   bw=B           DRAM bytes per cycle, 1..DRAM_BEAT_BYTES (default: the beat)
 *   array=model    simulate the array's cycle-exact functional model instead of its
 *                  PEs (libmxu_rtl_fast.so: same results and cycles, faster)
 *   trace=FILE     write an FST waveform (uses the libmxu_rtl_trace.so variant)
 *   trace_from=C   first traced cycle (default 0)
 *   trace_to=C     one past the last traced cycle (default: until close)
 *   trace_depth=N  hierarchy levels traced (default: all; 2 = top and its units)
 *   max_cycles=N   wait()'s limit when the caller gives none (default 4e9)
 *
 * Host link (docs/link.md): with link=1 the device is mxu_link_top
 * (libmxu_rtl_link*.so) and every CSR and memory access goes through the link
 * codec as packets, byte by byte into the RTL link engine and back, cycle by
 * cycle -- the exact stream a board would see. wait() polls STATUS over the
 * link. Results and counters equal those of the plain library.
 *   link=1         use the link
 *   link_rate=N    bytes per 1000 cycles each way (default 1000: one per cycle)
 *   link_buffer=B  device->host bytes buffered before the device must wait
 *                  (default unlimited; the FTDI chip has 1 KiB)
 *   link_timeout=MS  wait for an answer before retrying (default 2, simulated)
 *   link_mhz=F     simulated clock, converts link_timeout (default 100)
 *   link_retries=N sends of one request after the first (default 4)
 *   link_poll=C    cycles between STATUS polls in wait() (default 1000)
 *   link_noise=P   flip a bit in P of every million bytes, both ways (tests)
 *   link_seed=S    seed of the noise */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_sim.h"
#include "link_rtl.h"
#include "mxu_backend.h"
#include "mxu_error.h"
#include "mxu_isa.h"
#include "mxu_rtl.h"

#define RTL_DEFAULT_MAX_CYCLES 4000000000ull

/* The library's entry points, looked up by name. */
struct rtl_api {
    unsigned (*abi_version)(void);
    void (*config)(mxu_hw_config *);
    int (*has_trace)(void);
    mxu_rtl *(*create)(const mxu_rtl_options *, char *, size_t);
    void (*destroy)(mxu_rtl *);
    uint8_t *(*dram)(mxu_rtl *, size_t *);
    uint32_t (*csr_read)(mxu_rtl *, uint32_t);
    void (*csr_write)(mxu_rtl *, uint32_t, uint32_t);
    uint64_t (*run)(mxu_rtl *, uint64_t);
    uint64_t (*cycle)(const mxu_rtl *);
    uint32_t (*pins)(mxu_rtl *);
    int (*fault)(const mxu_rtl *, char *, size_t);
};

struct rtl_state {
    void *lib;
    struct rtl_api api;
    mxu_rtl *rtl;
    uint8_t *dram;
    size_t dram_bytes;
    uint64_t max_cycles;
    /* link=1 */
    mxu_link_rtl *board;
    mxu_link *link;
    uint64_t poll_cycles;
};

#define LINK_DEFAULT_TIMEOUT_MS 2
#define LINK_DEFAULT_POLL 1000u

struct rtl_opts {
    mxu_rtl_options sim;
    char trace_path[512];
    uint64_t max_cycles;
    int fast_array; /* array=model: the array's functional model (libmxu_rtl_fast.so) */
    int link;
    uint32_t link_mhz, link_timeout_ms, link_noise;
    uint64_t link_retries, link_poll, link_seed;
};

static int parse_options(const char *options, uint32_t beat, struct rtl_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_cycles = RTL_DEFAULT_MAX_CYCLES;
    o->link_mhz = 100;
    o->link_timeout_ms = LINK_DEFAULT_TIMEOUT_MS;
    o->link_retries = 4;
    o->link_poll = LINK_DEFAULT_POLL;
    const char *p = options ? options : "";
    char key[32], val[512];
    int rc;
    while ((rc = mxu_sim_next_option("rtl", &p, key, sizeof key, val, sizeof val)) == 1) {
        uint64_t v = 0;
        if (!strcmp(key, "trace")) {
            if (!val[0])
                return mxu_fail(MXU_ERR_INVAL, "rtl: trace= needs a file name");
            snprintf(o->trace_path, sizeof o->trace_path, "%s", val);
            o->sim.trace_path = o->trace_path;
            continue;
        }
        if (!strcmp(key, "array")) {
            if (strcmp(val, "model") && strcmp(val, "systolic"))
                return mxu_fail(MXU_ERR_INVAL, "rtl: array= is 'systolic' (the PEs) or 'model' "
                                "(their functional model, faster), not '%s'", val);
            o->fast_array = !strcmp(val, "model");
            continue;
        }
        if (!strcmp(key, "latency"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, 1u << 20, &v), o->sim.dram_latency = (uint32_t)v;
        else if (!strcmp(key, "bw"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, beat, &v), o->sim.dram_bw = (uint32_t)v;
        else if (!strcmp(key, "trace_from"))
            rc = mxu_sim_parse_u64("rtl", key, val, 0, UINT64_MAX, &o->sim.trace_from);
        else if (!strcmp(key, "trace_to"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, UINT64_MAX, &o->sim.trace_to);
        else if (!strcmp(key, "trace_depth"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, 99, &v), o->sim.trace_depth = (uint32_t)v;
        else if (!strcmp(key, "max_cycles"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, UINT64_MAX, &o->max_cycles);
        else if (!strcmp(key, "link"))
            rc = mxu_sim_parse_u64("rtl", key, val, 0, 1, &v), o->link = (int)v;
        else if (!strcmp(key, "link_rate"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, 1000, &v), o->sim.link_rate = (uint32_t)v;
        else if (!strcmp(key, "link_buffer"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, UINT32_MAX, &v), o->sim.link_tx_capacity = (uint32_t)v;
        else if (!strcmp(key, "link_timeout"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, 100000, &v), o->link_timeout_ms = (uint32_t)v;
        else if (!strcmp(key, "link_mhz"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, 10000, &v), o->link_mhz = (uint32_t)v;
        else if (!strcmp(key, "link_retries"))
            rc = mxu_sim_parse_u64("rtl", key, val, 0, 100, &o->link_retries);
        else if (!strcmp(key, "link_poll"))
            rc = mxu_sim_parse_u64("rtl", key, val, 1, UINT32_MAX, &o->link_poll);
        else if (!strcmp(key, "link_noise"))
            rc = mxu_sim_parse_u64("rtl", key, val, 0, 1000000, &v), o->link_noise = (uint32_t)v;
        else if (!strcmp(key, "link_seed"))
            rc = mxu_sim_parse_u64("rtl", key, val, 0, UINT64_MAX, &o->link_seed);
        else
            return mxu_fail(MXU_ERR_INVAL,
                            "rtl: unknown option '%s' (latency, bw, array, trace, trace_from, trace_to, "
                            "trace_depth, max_cycles, link, link_rate, link_buffer, link_timeout, link_mhz, "
                            "link_retries, link_poll, link_noise, link_seed)", key);
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (o->sim.trace_to && o->sim.trace_to <= o->sim.trace_from)
        return mxu_fail(MXU_ERR_INVAL, "rtl: trace_to must be above trace_from");
    if (o->fast_array && o->sim.trace_path)
        return mxu_fail(MXU_ERR_INVAL, "rtl: trace= shows the PEs; it does not combine with array=model");
    if (!o->link && (o->sim.link_rate || o->sim.link_tx_capacity || o->link_noise))
        return mxu_fail(MXU_ERR_INVAL, "rtl: link_* options need link=1");
    return MXU_OK;
}

#define LOOKUP(field, sym)                                                                    \
    do {                                                                                      \
        *(void **)&api->field = dlsym(lib, sym);                                              \
        if (!api->field)                                                                      \
            return mxu_fail(MXU_ERR_BACKEND, "rtl: %s does not export %s", path, sym);        \
    } while (0)

static int lookup_api(void *lib, const char *path, struct rtl_api *api)
{
    LOOKUP(abi_version, "mxu_rtl_abi_version");
    LOOKUP(config, "mxu_rtl_config");
    LOOKUP(has_trace, "mxu_rtl_has_trace");
    LOOKUP(create, "mxu_rtl_create");
    LOOKUP(destroy, "mxu_rtl_destroy");
    LOOKUP(dram, "mxu_rtl_dram");
    LOOKUP(csr_read, "mxu_rtl_csr_read");
    LOOKUP(csr_write, "mxu_rtl_csr_write");
    LOOKUP(run, "mxu_rtl_run");
    LOOKUP(cycle, "mxu_rtl_cycle");
    LOOKUP(pins, "mxu_rtl_pins");
    LOOKUP(fault, "mxu_rtl_fault");
    if (api->abi_version() != MXU_RTL_ABI_VERSION)
        return mxu_fail(MXU_ERR_BACKEND, "rtl: %s has C API version %u, the driver expects %u (rebuild it)", path,
                        api->abi_version(), MXU_RTL_ABI_VERSION);
    return MXU_OK;
}

static int check_config(const struct rtl_api *api, const mxu_hw_config *want, const char *path)
{
    mxu_hw_config have;
    api->config(&have);
    if (memcmp(&have, want, sizeof have)) {
        char a[300], b[300];
        mxu_config_format(&have, a, sizeof a);
        mxu_config_format(want, b, sizeof b);
        return mxu_fail(MXU_ERR_CONFIG, "rtl: %s was built for %s, not %s", path, a, b);
    }
    return MXU_OK;
}

/* Path of the library for cfg (building it when missing) and load it. */
static int load_library(const mxu_hw_config *cfg, const char *variant, struct rtl_state *s)
{
    char dir[700], path[800], params[400], make_variant[40];
    int plain = !strcmp(variant, "plain");
    mxu_sim_dir(cfg, "MXU_RTL_DIR", "rtl", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/libmxu_rtl%s%s.so", dir, plain ? "" : "_", plain ? "" : variant);
    snprintf(make_variant, sizeof make_variant, "RTL_VARIANT=%s", variant);
    mxu_sim_params(cfg, params, sizeof params);
    static const char *const sources[] = {"rtl/*.v", "isa/mxu.isa", "sim/verilator/mxu_rtl.cpp",
                                          "sim/verilator/mxu_rtl.h", "sim/verilator/dram_model.c",
                                          "sim/verilator/dram_model.h", "mk/rtl.mk", NULL};
    int rc = mxu_sim_ensure_built("rtl", path, dir, "rtl-model", "RTL_DIR", params, make_variant,
                                  sources);
    if (rc)
        return rc;
    s->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!s->lib)
        return mxu_fail(MXU_ERR_BACKEND, "rtl: cannot load %s: %s", path, dlerror());
    if ((rc = lookup_api(s->lib, path, &s->api)) || (rc = check_config(&s->api, cfg, path)))
        return rc;
    return MXU_OK;
}

static void rtl_close(void *state)
{
    struct rtl_state *s = state;
    if (!s)
        return;
    mxu_link_close(s->link);
    mxu_link_rtl_close(s->board);
    if (s->rtl)
        s->api.destroy(s->rtl);
    if (s->lib)
        dlclose(s->lib);
    free(s);
}

/* link=1: the board behind its link, and the client speaking to it. */
static int open_link(const mxu_hw_config *cfg, const struct rtl_opts *o, struct rtl_state *s)
{
    struct mxu_link_rtl_options lo;
    memset(&lo, 0, sizeof lo);
    lo.sim = o->sim;
    lo.fast_array = o->fast_array;
    lo.cycles_per_ms = o->link_mhz * 1000u;
    lo.noise_ppm = o->link_noise;
    lo.noise_seed = o->link_seed;
    int rc = mxu_link_rtl_open(cfg, &lo, &s->board);
    if (rc)
        return rc;
    s->dram = mxu_link_rtl_dram(s->board, &s->dram_bytes);
    mxu_link_io io = mxu_link_rtl_io(s->board);
    mxu_link_policy policy = {(int)o->link_timeout_ms,
                              o->link_retries ? (unsigned)o->link_retries : MXU_LINK_NO_RETRIES, 0};
    if ((rc = mxu_link_open_with(&io, &policy, &s->link)))
        return rc;
    s->max_cycles = o->max_cycles;
    s->poll_cycles = o->link_poll;
    return MXU_OK;
}

static int rtl_open(const mxu_hw_config *cfg, const char *options, void **state)
{
    struct rtl_opts o;
    int rc = parse_options(options, cfg->dram_beat_bytes, &o);
    if (rc)
        return rc;
    struct rtl_state *s = calloc(1, sizeof *s);
    if (!s)
        return mxu_fail(MXU_ERR_NOMEM, "rtl: out of memory");
    if (o.link) {
        if ((rc = open_link(cfg, &o, s)))
            goto fail;
        *state = s;
        return MXU_OK;
    }
    const char *variant = o.sim.trace_path ? "trace" : o.fast_array ? "fast" : "plain";
    if ((rc = load_library(cfg, variant, s)))
        goto fail;
    char err[300];
    s->rtl = s->api.create(&o.sim, err, sizeof err);
    if (!s->rtl) {
        rc = mxu_fail(MXU_ERR_BACKEND, "rtl: %s", err);
        goto fail;
    }
    s->dram = s->api.dram(s->rtl, &s->dram_bytes);
    s->max_cycles = o.max_cycles;
    *state = s;
    return MXU_OK;
fail:
    rtl_close(s);
    return rc;
}

static int check_csr(uint32_t offset)
{
    if (offset % 4 || offset > 0xFFC)
        return mxu_fail(MXU_ERR_RANGE, "rtl: CSR offset 0x%x is not a 32-bit register of the 4 KiB map", offset);
    return MXU_OK;
}

static int rtl_csr_read(void *state, uint32_t offset, uint32_t *value)
{
    struct rtl_state *s = state;
    int rc = check_csr(offset);
    if (rc)
        return rc;
    if (s->link)
        return mxu_link_csr_read(s->link, offset, value);
    *value = s->api.csr_read(s->rtl, offset);
    return MXU_OK;
}

static int rtl_csr_write(void *state, uint32_t offset, uint32_t value)
{
    struct rtl_state *s = state;
    int rc = check_csr(offset);
    if (rc)
        return rc;
    if (s->link)
        return mxu_link_csr_write(s->link, offset, value);
    s->api.csr_write(s->rtl, offset, value);
    return MXU_OK;
}

static int check_mem(const struct rtl_state *s, uint32_t addr, size_t bytes)
{
    if ((uint64_t)addr + bytes > s->dram_bytes)
        return mxu_fail(MXU_ERR_RANGE, "rtl: DRAM access [0x%x, +%zu) outside the %zu-byte DRAM", addr, bytes,
                        s->dram_bytes);
    return MXU_OK;
}

static int rtl_mem_write(void *state, uint32_t addr, const void *data, size_t bytes)
{
    struct rtl_state *s = state;
    int rc = check_mem(s, addr, bytes);
    if (rc)
        return rc;
    if (s->link)
        return mxu_link_mem_write(s->link, addr, data, bytes);
    memcpy(s->dram + addr, data, bytes);
    return MXU_OK;
}

static int rtl_mem_read(void *state, uint32_t addr, void *data, size_t bytes)
{
    struct rtl_state *s = state;
    int rc = check_mem(s, addr, bytes);
    if (rc)
        return rc;
    if (s->link)
        return mxu_link_mem_read(s->link, addr, data, bytes);
    memcpy(data, s->dram + addr, bytes);
    return MXU_OK;
}

/* Over the link the host sees only what STATUS says: poll it, letting
 * link_poll cycles pass between polls (the counters stop at done, so the
 * polling rate changes no result). */
static int link_wait(struct rtl_state *s, uint64_t limit)
{
    uint64_t start = mxu_link_rtl_cycle(s->board);
    for (;;) {
        uint32_t status;
        int rc = mxu_link_csr_read(s->link, MXU_CSR_STATUS, &status);
        if (rc == MXU_OK)
            rc = mxu_link_rtl_check(s->board);
        if (rc)
            return rc;
        uint64_t ran = mxu_link_rtl_cycle(s->board) - start;
        if (status & MXU_STATUS_DONE)
            return MXU_OK;
        if (ran >= limit)
            return mxu_fail(MXU_ERR_TIMEOUT, "rtl: not done after %llu cycles (limit %llu, busy=%u, over the link)",
                            (unsigned long long)ran, (unsigned long long)limit, status & MXU_STATUS_BUSY);
        mxu_link_rtl_step(s->board, limit - ran < s->poll_cycles ? limit - ran : s->poll_cycles);
    }
}

static int rtl_wait(void *state, uint64_t max_cycles)
{
    struct rtl_state *s = state;
    uint64_t limit = max_cycles ? max_cycles : s->max_cycles;
    if (s->link)
        return link_wait(s, limit);
    uint64_t ran = s->api.run(s->rtl, limit);
    char msg[300];
    if (s->api.fault(s->rtl, msg, sizeof msg))
        return mxu_fail(MXU_ERR_BACKEND, "rtl: simulation fault after %llu cycles: %s", (unsigned long long)ran,
                        msg);
    uint32_t pins = s->api.pins(s->rtl);
    if (!(pins & MXU_STATUS_DONE))
        return mxu_fail(MXU_ERR_TIMEOUT, "rtl: not done after %llu cycles (limit %llu, busy=%u, cycle %llu)",
                        (unsigned long long)ran, (unsigned long long)limit, pins & MXU_STATUS_BUSY,
                        (unsigned long long)s->api.cycle(s->rtl));
    return MXU_OK;
}

const struct mxu_backend_ops mxu_backend_rtl = {
    .name = "rtl",
    .open = rtl_open,
    .close = rtl_close,
    .csr_read = rtl_csr_read,
    .csr_write = rtl_csr_write,
    .mem_write = rtl_mem_write,
    .mem_read = rtl_mem_read,
    .wait = rtl_wait,
};
