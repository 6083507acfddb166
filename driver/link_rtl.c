/* The simulated board link (link_rtl.h): the Verilated mxu_link_top behind a
 * mxu_link_io. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_sim.h"
#include "link_rtl.h"
#include "mxu_error.h"

#define DEFAULT_CYCLES_PER_MS 100000u

struct link_api {
    unsigned (*abi_version)(void);
    unsigned (*features)(void);
    void (*config)(mxu_hw_config *);
    mxu_rtl *(*create)(const mxu_rtl_options *, char *, size_t);
    void (*destroy)(mxu_rtl *);
    uint8_t *(*dram)(mxu_rtl *, size_t *);
    uint64_t (*cycle)(const mxu_rtl *);
    uint32_t (*pins)(mxu_rtl *);
    int (*fault)(const mxu_rtl *, char *, size_t);
    int (*send)(mxu_rtl *, const uint8_t *, size_t);
    size_t (*recv)(mxu_rtl *, uint8_t *, size_t);
    size_t (*rx_pending)(const mxu_rtl *);
    size_t (*tx_pending)(const mxu_rtl *);
    uint64_t (*step)(mxu_rtl *, uint64_t, size_t);
    void (*counts)(const mxu_rtl *, uint64_t *, uint64_t *);
};

struct mxu_link_rtl {
    void *lib;
    struct link_api api;
    mxu_rtl *rtl;
    uint32_t cycles_per_ms;
    uint32_t noise_ppm;
    uint64_t rng, flips;
    uint8_t *scratch; /* noisy copy of what is sent */
    size_t scratch_cap;
};

#define LOOKUP(field, sym)                                                                          \
    do {                                                                                            \
        *(void **)&api->field = dlsym(lib, sym);                                                    \
        if (!api->field)                                                                            \
            return mxu_fail(MXU_ERR_BACKEND, "rtl link: %s does not export %s", path, sym);         \
    } while (0)

static int lookup_api(void *lib, const char *path, struct link_api *api)
{
    LOOKUP(abi_version, "mxu_rtl_abi_version");
    if (api->abi_version() != MXU_RTL_ABI_VERSION)
        return mxu_fail(MXU_ERR_BACKEND, "rtl link: %s has C API version %u, the driver expects %u (rebuild it)",
                        path, api->abi_version(), MXU_RTL_ABI_VERSION);
    LOOKUP(features, "mxu_rtl_features");
    LOOKUP(config, "mxu_rtl_config");
    LOOKUP(create, "mxu_rtl_create");
    LOOKUP(destroy, "mxu_rtl_destroy");
    LOOKUP(dram, "mxu_rtl_dram");
    LOOKUP(cycle, "mxu_rtl_cycle");
    LOOKUP(pins, "mxu_rtl_pins");
    LOOKUP(fault, "mxu_rtl_fault");
    LOOKUP(send, "mxu_rtl_link_send");
    LOOKUP(recv, "mxu_rtl_link_recv");
    LOOKUP(rx_pending, "mxu_rtl_link_rx_pending");
    LOOKUP(tx_pending, "mxu_rtl_link_tx_pending");
    LOOKUP(step, "mxu_rtl_link_step");
    LOOKUP(counts, "mxu_rtl_link_counts");
    if (!(api->features() & MXU_RTL_FEATURE_LINK))
        return mxu_fail(MXU_ERR_BACKEND, "rtl link: %s is not a link library (no mxu_link_top)", path);
    return MXU_OK;
}

static int load_library(const mxu_hw_config *cfg, const struct mxu_link_rtl_options *o, mxu_link_rtl *t)
{
    const char *variant = o->sim.trace_path ? "link_trace" : o->fast_array ? "link_fast" : "link";
    char dir[700], path[800], params[400], make_variant[40];
    mxu_sim_dir(cfg, "MXU_RTL_DIR", "rtl", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/libmxu_rtl_%s.so", dir, variant);
    snprintf(make_variant, sizeof make_variant, "RTL_VARIANT=%s", variant);
    mxu_sim_params(cfg, params, sizeof params);
    static const char *const sources[] = {"rtl/*.v", "isa/mxu.isa", "sim/verilator/mxu_rtl.cpp",
                                          "sim/verilator/mxu_rtl.h", "sim/verilator/dram_model.c",
                                          "sim/verilator/dram_model.h", "mk/rtl.mk", NULL};
    int rc = mxu_sim_ensure_built("rtl", path, dir, "rtl-model", "RTL_DIR", params, make_variant, sources);
    if (rc)
        return rc;
    t->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!t->lib)
        return mxu_fail(MXU_ERR_BACKEND, "rtl link: cannot load %s: %s", path, dlerror());
    if ((rc = lookup_api(t->lib, path, &t->api)))
        return rc;
    mxu_hw_config have;
    t->api.config(&have);
    if (memcmp(&have, cfg, sizeof have)) {
        char a[300], b[300];
        mxu_config_format(&have, a, sizeof a);
        mxu_config_format(cfg, b, sizeof b);
        return mxu_fail(MXU_ERR_CONFIG, "rtl link: %s was built for %s, not %s", path, a, b);
    }
    return MXU_OK;
}

/* ---- fault injection ------------------------------------------------------------ */

static uint64_t next_random(mxu_link_rtl *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return t->rng;
}

static void add_noise(mxu_link_rtl *t, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t x = next_random(t);
        if (x % 1000000u < t->noise_ppm) {
            buf[i] ^= (uint8_t)(1u << (x >> 32) % 8);
            t->flips++;
        }
    }
}

/* ---- the transport ------------------------------------------------------------------ */

static int fault_status(mxu_link_rtl *t)
{
    char msg[300];
    if (t->api.fault(t->rtl, msg, sizeof msg))
        return mxu_fail(MXU_ERR_BACKEND, "rtl link: simulation fault at cycle %llu: %s",
                        (unsigned long long)t->api.cycle(t->rtl), msg);
    return MXU_OK;
}

static int io_send(void *ctx, const uint8_t *buf, size_t len, int timeout_ms)
{
    mxu_link_rtl *t = ctx;
    (void)timeout_ms; /* the harness queues everything at once */
    const uint8_t *bytes = buf;
    if (t->noise_ppm) {
        if (len > t->scratch_cap) {
            uint8_t *p = realloc(t->scratch, len);
            if (!p)
                return mxu_fail(MXU_ERR_NOMEM, "rtl link: %zu bytes", len);
            t->scratch = p;
            t->scratch_cap = len;
        }
        memcpy(t->scratch, buf, len);
        add_noise(t, t->scratch, len);
        bytes = t->scratch;
    }
    return mxu_link_rtl_push(t, bytes, len);
}

static int io_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, int timeout_ms)
{
    mxu_link_rtl *t = ctx;
    uint64_t limit = (uint64_t)(timeout_ms > 0 ? timeout_ms : 1) * t->cycles_per_ms;
    *got = 0;
    if (!t->api.tx_pending(t->rtl))
        t->api.step(t->rtl, limit, 1);
    int rc = fault_status(t);
    if (rc)
        return rc;
    size_t n = t->api.recv(t->rtl, buf, cap);
    if (!n)
        return mxu_fail(MXU_ERR_TIMEOUT, "rtl link: no byte from the device in %llu cycles (%d ms)",
                        (unsigned long long)limit, timeout_ms);
    if (t->noise_ppm)
        add_noise(t, buf, n);
    *got = n;
    return MXU_OK;
}

mxu_link_io mxu_link_rtl_io(mxu_link_rtl *t)
{
    mxu_link_io io = {t, io_send, io_recv};
    return io;
}

/* ---- open / close ----------------------------------------------------------------------- */

int mxu_link_rtl_open(const mxu_hw_config *cfg, const struct mxu_link_rtl_options *o, mxu_link_rtl **out)
{
    *out = NULL;
    mxu_link_rtl *t = calloc(1, sizeof *t);
    if (!t)
        return mxu_fail(MXU_ERR_NOMEM, "rtl link");
    t->cycles_per_ms = o->cycles_per_ms ? o->cycles_per_ms : DEFAULT_CYCLES_PER_MS;
    t->noise_ppm = o->noise_ppm;
    t->rng = o->noise_seed * 0x9E3779B97F4A7C15ull + 0x5DEECE66Dull;
    int rc = load_library(cfg, o, t);
    if (rc)
        goto fail;
    char err[300];
    t->rtl = t->api.create(&o->sim, err, sizeof err);
    if (!t->rtl) {
        rc = mxu_fail(MXU_ERR_BACKEND, "rtl link: %s", err);
        goto fail;
    }
    *out = t;
    return MXU_OK;
fail:
    mxu_link_rtl_close(t);
    return rc;
}

void mxu_link_rtl_close(mxu_link_rtl *t)
{
    if (!t)
        return;
    if (t->rtl)
        t->api.destroy(t->rtl);
    if (t->lib)
        dlclose(t->lib);
    free(t->scratch);
    free(t);
}

uint64_t mxu_link_rtl_step(mxu_link_rtl *t, uint64_t cycles)
{
    return t->api.step(t->rtl, cycles, 0);
}

int mxu_link_rtl_push(mxu_link_rtl *t, const uint8_t *buf, size_t len)
{
    if (t->api.send(t->rtl, buf, len))
        return mxu_fail(MXU_ERR_NOMEM, "rtl link: queueing %zu bytes", len);
    return MXU_OK;
}

size_t mxu_link_rtl_pull(mxu_link_rtl *t, uint8_t *buf, size_t cap)
{
    return t->api.recv(t->rtl, buf, cap);
}

size_t mxu_link_rtl_rx_pending(const mxu_link_rtl *t)
{
    return t->api.rx_pending(t->rtl);
}

size_t mxu_link_rtl_tx_pending(const mxu_link_rtl *t)
{
    return t->api.tx_pending(t->rtl);
}

uint64_t mxu_link_rtl_cycle(const mxu_link_rtl *t)
{
    return t->api.cycle(t->rtl);
}

uint32_t mxu_link_rtl_pins(mxu_link_rtl *t)
{
    return t->api.pins(t->rtl);
}

int mxu_link_rtl_check(mxu_link_rtl *t)
{
    return fault_status(t);
}

uint8_t *mxu_link_rtl_dram(mxu_link_rtl *t, size_t *bytes)
{
    return t->api.dram(t->rtl, bytes);
}

void mxu_link_rtl_counts(const mxu_link_rtl *t, uint64_t *to_device, uint64_t *to_host, uint64_t *flips)
{
    t->api.counts(t->rtl, to_device, to_host);
    if (flips)
        *flips = t->flips;
}
