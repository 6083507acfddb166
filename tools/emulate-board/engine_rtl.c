/* The board's FPGA: the Verilated mxu_link_top (build/rtl/<config>/
 * libmxu_rtl_link.so, built on demand like the rtl backend's library) driven
 * through the link functions of sim/verilator/mxu_rtl.h. Host bytes go into
 * its RX queue; what it sends comes out of its TX queue. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_sim.h"
#include "engine.h"
#include "mxu_config.h"
#include "mxu_error.h"
#include "mxu_isa.h"
#include "mxu_rtl.h"

/* The FT232H's FIFO buffers, 1 KiB each way: host bytes held before the chip
 * stops taking more, and device bytes held before TXE# stops the FPGA. */
#define RX_LIMIT 1024u
#define TX_CAPACITY 1024u
/* The link engine's largest request payload (mxu_link_top's LINK_MAX_PAYLOAD). */
#define LINK_MAX_PAYLOAD 4096u

struct rtl_api {
    unsigned (*abi_version)(void);
    unsigned (*features)(void);
    void (*config)(mxu_hw_config *);
    mxu_rtl *(*create)(const mxu_rtl_options *, char *, size_t);
    void (*destroy)(mxu_rtl *);
    uint32_t (*pins)(mxu_rtl *);
    int (*fault)(const mxu_rtl *, char *, size_t);
    int (*send)(mxu_rtl *, const uint8_t *, size_t);
    size_t (*recv)(mxu_rtl *, uint8_t *, size_t);
    size_t (*rx_pending)(const mxu_rtl *);
    size_t (*tx_pending)(const mxu_rtl *);
    uint64_t (*step)(mxu_rtl *, uint64_t, size_t);
    void (*counts)(const mxu_rtl *, uint64_t *, uint64_t *);
    uint64_t (*cycle)(const mxu_rtl *);
};

struct rtl_engine {
    void *lib;
    struct rtl_api api;
    mxu_rtl *rtl;
    uint64_t moved;        /* bytes moved both ways at the last step */
    uint64_t quiet;        /* cycles since a byte moved */
    uint64_t quiet_limit;  /* quiet cycles after which the engine counts as idle */
};

struct engine_opts {
    mxu_rtl_options sim;
    char trace_path[512];
    int fast_array;
};

static int parse_options(const char *options, uint32_t beat, struct engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sim.link_tx_capacity = TX_CAPACITY;
    const char *p = options;
    char key[32], val[512];
    int rc;
    while ((rc = mxu_sim_next_option("board", &p, key, sizeof key, val, sizeof val)) == 1) {
        uint64_t v = 0;
        if (!strcmp(key, "array")) {
            if (strcmp(val, "model") && strcmp(val, "systolic"))
                return mxu_fail(MXU_ERR_INVAL, "board: array= is 'systolic' or 'model', not '%s'", val);
            o->fast_array = !strcmp(val, "model");
            continue;
        }
        if (!strcmp(key, "trace")) {
            snprintf(o->trace_path, sizeof o->trace_path, "%s", val);
            o->sim.trace_path = o->trace_path;
            continue;
        }
        if (!strcmp(key, "latency"))
            rc = mxu_sim_parse_u64("board", key, val, 1, 1u << 20, &v), o->sim.dram_latency = (uint32_t)v;
        else if (!strcmp(key, "bw"))
            rc = mxu_sim_parse_u64("board", key, val, 1, beat, &v), o->sim.dram_bw = (uint32_t)v;
        else if (!strcmp(key, "link_rate"))
            rc = mxu_sim_parse_u64("board", key, val, 1, 1000, &v), o->sim.link_rate = (uint32_t)v;
        else
            return mxu_fail(MXU_ERR_INVAL, "board: unknown option '%s' (latency, bw, link_rate, array, trace)",
                            key);
        if (rc)
            return rc;
    }
    if (o->fast_array && o->sim.trace_path)
        return mxu_fail(MXU_ERR_INVAL, "board: trace= does not combine with array=model");
    return rc < 0 ? rc : MXU_OK;
}

#define LOOKUP(field, sym)                                                                    \
    do {                                                                                      \
        *(void **)&e->api.field = dlsym(e->lib, sym);                                          \
        if (!e->api.field)                                                                    \
            return mxu_fail(MXU_ERR_BACKEND, "board: %s does not export %s", path, sym);      \
    } while (0)

static int lookup_api(struct rtl_engine *e, const char *path)
{
    LOOKUP(abi_version, "mxu_rtl_abi_version");
    if (e->api.abi_version() != MXU_RTL_ABI_VERSION)
        return mxu_fail(MXU_ERR_BACKEND, "board: %s has C API version %u, expected %u (rebuild it)", path,
                        e->api.abi_version(), MXU_RTL_ABI_VERSION);
    LOOKUP(features, "mxu_rtl_features");
    LOOKUP(config, "mxu_rtl_config");
    LOOKUP(create, "mxu_rtl_create");
    LOOKUP(destroy, "mxu_rtl_destroy");
    LOOKUP(pins, "mxu_rtl_pins");
    LOOKUP(fault, "mxu_rtl_fault");
    LOOKUP(send, "mxu_rtl_link_send");
    LOOKUP(recv, "mxu_rtl_link_recv");
    LOOKUP(rx_pending, "mxu_rtl_link_rx_pending");
    LOOKUP(tx_pending, "mxu_rtl_link_tx_pending");
    LOOKUP(step, "mxu_rtl_link_step");
    LOOKUP(counts, "mxu_rtl_link_counts");
    LOOKUP(cycle, "mxu_rtl_cycle");
    if (!(e->api.features() & MXU_RTL_FEATURE_LINK))
        return mxu_fail(MXU_ERR_BACKEND, "board: %s is not a link library", path);
    return MXU_OK;
}

static int load(struct rtl_engine *e, const mxu_hw_config *cfg, const char *variant)
{
    char dir[700], path[800], params[400], make_variant[40];
    mxu_sim_dir(cfg, "MXU_RTL_DIR", "rtl", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/libmxu_rtl_%s.so", dir, variant);
    snprintf(make_variant, sizeof make_variant, "RTL_VARIANT=%s", variant);
    mxu_sim_params(cfg, params, sizeof params);
    static const char *const sources[] = {"rtl/*.v", "isa/mxu.isa", "sim/verilator/mxu_rtl.cpp",
                                          "sim/verilator/mxu_rtl.h", "sim/verilator/dram_model.c",
                                          "sim/verilator/dram_model.h", "mk/rtl.mk", NULL};
    int rc = mxu_sim_ensure_built("board", path, dir, "rtl-model", "RTL_DIR", params, make_variant, sources);
    if (rc)
        return rc;
    if (!(e->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
        return mxu_fail(MXU_ERR_BACKEND, "board: cannot load %s: %s", path, dlerror());
    if ((rc = lookup_api(e, path)))
        return rc;
    mxu_hw_config have;
    e->api.config(&have);
    if (memcmp(&have, cfg, sizeof have))
        return mxu_fail(MXU_ERR_CONFIG, "board: %s was built for another configuration", path);
    return MXU_OK;
}

static size_t rtl_push(void *state, const uint8_t *buf, size_t n)
{
    struct rtl_engine *e = state;
    size_t pending = e->api.rx_pending(e->rtl);
    size_t take = pending >= RX_LIMIT ? 0 : RX_LIMIT - pending < n ? RX_LIMIT - pending : n;
    if (take && e->api.send(e->rtl, buf, take))
        return 0;
    return take;
}

static void rtl_step(void *state, uint64_t cycles)
{
    struct rtl_engine *e = state;
    /* no early stop at a pause in the answer: short steps cost more in the
     * pump than the latency they save */
    uint64_t ran = e->api.step(e->rtl, cycles, 0);
    uint64_t in, out;
    e->api.counts(e->rtl, &in, &out);
    if (in + out != e->moved)
        e->moved = in + out, e->quiet = 0;
    else
        e->quiet += ran;
}

static size_t rtl_pull(void *state, uint8_t *buf, size_t cap)
{
    struct rtl_engine *e = state;
    return e->api.recv(e->rtl, buf, cap);
}

static int rtl_idle(void *state)
{
    struct rtl_engine *e = state;
    return !e->api.rx_pending(e->rtl) && !e->api.tx_pending(e->rtl) && !(e->api.pins(e->rtl) & MXU_STATUS_BUSY) &&
           e->quiet >= e->quiet_limit;
}

static void rtl_describe(void *state, char *buf, size_t len)
{
    struct rtl_engine *e = state;
    uint64_t in, out;
    e->api.counts(e->rtl, &in, &out);
    snprintf(buf, len, "link engine at cycle %llu: %llu bytes in, %llu out, %zu waiting to go in, %zu to go out, "
             "pins 0x%x, quiet %llu cycles", (unsigned long long)e->api.cycle(e->rtl), (unsigned long long)in,
             (unsigned long long)out, e->api.rx_pending(e->rtl), e->api.tx_pending(e->rtl), e->api.pins(e->rtl),
             (unsigned long long)e->quiet);
}

static int rtl_fault(void *state, char *msg, size_t len)
{
    struct rtl_engine *e = state;
    return e->api.fault(e->rtl, msg, len);
}

static void rtl_destroy(void *state)
{
    struct rtl_engine *e = state;
    if (!e)
        return;
    if (e->rtl)
        e->api.destroy(e->rtl);
    if (e->lib)
        dlclose(e->lib);
    free(e);
}

int engine_rtl_create(struct board_engine *out, const char *arch, const char *options, char *err, size_t errlen)
{
    mxu_hw_config cfg;
    struct engine_opts o;
    mxu_config_default(&cfg);
    int rc = mxu_config_parse(&cfg, arch);
    if (rc == MXU_OK)
        rc = mxu_config_validate(&cfg);
    if (rc == MXU_OK)
        rc = parse_options(options, cfg.dram_beat_bytes, &o);
    struct rtl_engine *e = rc ? NULL : calloc(1, sizeof *e);
    if (!rc && !e)
        rc = mxu_fail(MXU_ERR_NOMEM, "board: out of memory");
    if (rc == MXU_OK)
        rc = load(e, &cfg, o.sim.trace_path ? "link_trace" : o.fast_array ? "link_fast" : "link");
    if (rc == MXU_OK) {
        /* Without a byte moving and the core idle, the link engine can still be
         * acting on a request: at most a max-payload DRAM transfer at the DRAM
         * model's rate. Twice that (and a margin) before it counts as idle. */
        uint64_t bw = o.sim.dram_bw ? o.sim.dram_bw : cfg.dram_beat_bytes;
        uint64_t latency = o.sim.dram_latency ? o.sim.dram_latency : MXU_DEFAULT_DRAM_LATENCY;
        e->quiet_limit = 2 * (LINK_MAX_PAYLOAD / bw + 8 * latency) + 1024;
        char msg[300];
        if (!(e->rtl = e->api.create(&o.sim, msg, sizeof msg)))
            rc = mxu_fail(MXU_ERR_BACKEND, "board: %s", msg);
    }
    if (rc) {
        snprintf(err, errlen, "%s: %s", mxu_strerror(rc), mxu_error_detail());
        rtl_destroy(e);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->name = "rtl";
    out->state = e;
    out->push = rtl_push;
    out->step = rtl_step;
    out->pull = rtl_pull;
    out->idle = rtl_idle;
    out->fault = rtl_fault;
    out->describe = rtl_describe;
    out->destroy = rtl_destroy;
    return 0;
}
