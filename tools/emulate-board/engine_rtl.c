/* The board's FPGA: the Verilated mxu_link_top, loaded (built on demand) and
 * driven by the driver's simulated board link (driver/link_rtl.h), the same
 * one the rtl backend's link=1 uses. Host bytes go into its RX queue; what it
 * sends comes out of its TX queue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_sim.h"
#include "engine.h"
#include "link_rtl.h"
#include "mxu_config.h"
#include "mxu_error.h"
#include "mxu_isa.h"

/* The FT232H's FIFO buffers, 1 KiB each way: host bytes held before the chip
 * stops taking more, and device bytes held before TXE# stops the FPGA. */
#define RX_LIMIT 1024u
#define TX_CAPACITY 1024u
/* The link engine's largest request payload (mxu_link_top's LINK_MAX_PAYLOAD). */
#define LINK_MAX_PAYLOAD 4096u

struct rtl_engine {
    mxu_link_rtl *link;
    uint64_t moved;        /* bytes moved both ways at the last step */
    uint64_t quiet;        /* cycles since a byte moved */
    uint64_t quiet_limit;  /* quiet cycles after which the engine counts as idle */
};

struct engine_opts {
    struct mxu_link_rtl_options link;
    char trace_path[512];
};

static int parse_options(const char *options, uint32_t beat, struct engine_opts *o)
{
    memset(o, 0, sizeof *o);
    mxu_rtl_options *sim = &o->link.sim;
    sim->link_tx_capacity = TX_CAPACITY;
    const char *p = options;
    char key[32], val[512];
    int rc;
    while ((rc = mxu_sim_next_option("board", &p, key, sizeof key, val, sizeof val)) == 1) {
        uint64_t v = 0;
        if (!strcmp(key, "array")) {
            if (strcmp(val, "model") && strcmp(val, "systolic"))
                return mxu_fail(MXU_ERR_INVAL, "board: array= is 'systolic' or 'model', not '%s'", val);
            o->link.fast_array = !strcmp(val, "model");
            continue;
        }
        if (!strcmp(key, "trace")) {
            snprintf(o->trace_path, sizeof o->trace_path, "%s", val);
            sim->trace_path = o->trace_path;
            continue;
        }
        if (!strcmp(key, "latency"))
            rc = mxu_sim_parse_u64("board", key, val, 1, 1u << 20, &v), sim->dram_latency = (uint32_t)v;
        else if (!strcmp(key, "bw"))
            rc = mxu_sim_parse_u64("board", key, val, 1, beat, &v), sim->dram_bw = (uint32_t)v;
        else if (!strcmp(key, "link_rate"))
            rc = mxu_sim_parse_u64("board", key, val, 1, 1000, &v), sim->link_rate = (uint32_t)v;
        else
            return mxu_fail(MXU_ERR_INVAL, "board: unknown option '%s' (latency, bw, link_rate, array, trace)",
                            key);
        if (rc)
            return rc;
    }
    if (o->link.fast_array && sim->trace_path)
        return mxu_fail(MXU_ERR_INVAL, "board: trace= does not combine with array=model");
    return rc < 0 ? rc : MXU_OK;
}

static size_t rtl_push(void *state, const uint8_t *buf, size_t n)
{
    struct rtl_engine *e = state;
    size_t pending = mxu_link_rtl_rx_pending(e->link);
    size_t take = pending >= RX_LIMIT ? 0 : RX_LIMIT - pending < n ? RX_LIMIT - pending : n;
    if (take && mxu_link_rtl_push(e->link, buf, take))
        return 0;
    return take;
}

static void rtl_step(void *state, uint64_t cycles)
{
    struct rtl_engine *e = state;
    /* no early stop at a pause in the answer: short steps cost more in the
     * pump than the latency they save */
    uint64_t ran = mxu_link_rtl_step(e->link, cycles);
    uint64_t in, out;
    mxu_link_rtl_counts(e->link, &in, &out, NULL);
    if (in + out != e->moved)
        e->moved = in + out, e->quiet = 0;
    else
        e->quiet += ran;
}

static size_t rtl_pull(void *state, uint8_t *buf, size_t cap)
{
    struct rtl_engine *e = state;
    return mxu_link_rtl_pull(e->link, buf, cap);
}

static int rtl_idle(void *state)
{
    struct rtl_engine *e = state;
    return !mxu_link_rtl_rx_pending(e->link) && !mxu_link_rtl_tx_pending(e->link) &&
           !(mxu_link_rtl_pins(e->link) & MXU_STATUS_BUSY) && e->quiet >= e->quiet_limit;
}

static void rtl_describe(void *state, char *buf, size_t len)
{
    struct rtl_engine *e = state;
    uint64_t in, out;
    mxu_link_rtl_counts(e->link, &in, &out, NULL);
    snprintf(buf, len, "link engine at cycle %llu: %llu bytes in, %llu out, %zu waiting to go in, %zu to go out, "
             "pins 0x%x, quiet %llu cycles", (unsigned long long)mxu_link_rtl_cycle(e->link),
             (unsigned long long)in, (unsigned long long)out, mxu_link_rtl_rx_pending(e->link),
             mxu_link_rtl_tx_pending(e->link), mxu_link_rtl_pins(e->link), (unsigned long long)e->quiet);
}

static int rtl_fault(void *state, char *msg, size_t len)
{
    struct rtl_engine *e = state;
    if (mxu_link_rtl_check(e->link) == MXU_OK)
        return 0;
    snprintf(msg, len, "%s", mxu_error_detail());
    return 1;
}

static void rtl_destroy(void *state)
{
    struct rtl_engine *e = state;
    if (!e)
        return;
    mxu_link_rtl_close(e->link);
    free(e);
}

static const struct board_engine_ops rtl_ops = {
    .name = "rtl",
    .push = rtl_push,
    .step = rtl_step,
    .pull = rtl_pull,
    .idle = rtl_idle,
    .describe = rtl_describe,
    .fault = rtl_fault,
    .destroy = rtl_destroy,
};

/* Without a byte moving and the core idle, the link engine can still be acting
 * on a request: at most a max-payload DRAM transfer at the DRAM model's rate.
 * Twice that (and a margin) before it counts as idle. */
static uint64_t quiet_limit(const mxu_hw_config *cfg, const mxu_rtl_options *sim)
{
    uint64_t bw = sim->dram_bw ? sim->dram_bw : cfg->dram_beat_bytes;
    uint64_t latency = sim->dram_latency ? sim->dram_latency : MXU_DEFAULT_DRAM_LATENCY;
    return 2 * (LINK_MAX_PAYLOAD / bw + 8 * latency) + 1024;
}

int engine_rtl_create(struct board_engine *out, const char *arch, const char *options, char *err, size_t errlen)
{
    mxu_hw_config cfg;
    struct engine_opts o;
    struct rtl_engine *e = NULL;
    mxu_config_default(&cfg);
    int rc = mxu_config_parse(&cfg, arch);
    if (rc == MXU_OK)
        rc = mxu_config_validate(&cfg);
    if (rc == MXU_OK)
        rc = parse_options(options, cfg.dram_beat_bytes, &o);
    if (rc == MXU_OK && !(e = calloc(1, sizeof *e)))
        rc = mxu_fail(MXU_ERR_NOMEM, "board: out of memory");
    if (rc == MXU_OK)
        rc = mxu_link_rtl_open(&cfg, &o.link, &e->link);
    if (rc) {
        snprintf(err, errlen, "%s: %s", mxu_strerror(rc), mxu_error_detail());
        rtl_destroy(e);
        return -1;
    }
    e->quiet_limit = quiet_limit(&cfg, &o.link.sim);
    out->ops = &rtl_ops;
    out->state = e;
    return 0;
}
