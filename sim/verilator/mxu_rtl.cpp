// The C API of mxu_rtl.h on top of a Verilated mxu_top: drives the clock,
// the CSR port and serves the DRAM port with the C DRAM model. Kept thin so
// the per-cycle loop costs little next to the model's eval().
//
// The build (mk/rtl.mk) passes the parameters it verilated with as
// -DMXU_RTL_P_<NAME>=<value> for each -G<NAME>=<value>; the rest are the ISA
// defaults. With -DMXU_RTL_TRACE=1 the model was verilated with --trace-fst.
// With -DMXU_RTL_LINK=1 the top is mxu_link_top (same class name, Vmxu_top):
// no CSR port; two byte queues feed its host-link ports every cycle.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <deque>
#include <new>

#include "Vmxu_top.h"
#include "verilated.h"
#if MXU_RTL_TRACE
#include "verilated_fst_c.h"
#endif

#include "dram_model.h"
#include "mxu_isa.h"
#include "mxu_rtl.h"

#ifndef MXU_RTL_TRACE
#define MXU_RTL_TRACE 0
#endif
#ifndef MXU_RTL_LINK
#define MXU_RTL_LINK 0
#endif
#define PARAM(name) MXU_RTL_P_##name
#ifndef MXU_RTL_P_ROWS
#define MXU_RTL_P_ROWS MXU_DEFAULT_ROWS
#endif
#ifndef MXU_RTL_P_COLS
#define MXU_RTL_P_COLS MXU_DEFAULT_COLS
#endif
#ifndef MXU_RTL_P_UB_LINES
#define MXU_RTL_P_UB_LINES MXU_DEFAULT_UB_LINES
#endif
#ifndef MXU_RTL_P_ACC_ROWS
#define MXU_RTL_P_ACC_ROWS MXU_DEFAULT_ACC_ROWS
#endif
#ifndef MXU_RTL_P_WB_LINES
#define MXU_RTL_P_WB_LINES MXU_DEFAULT_WB_LINES
#endif
#ifndef MXU_RTL_P_PARAM_LINES
#define MXU_RTL_P_PARAM_LINES MXU_DEFAULT_PARAM_LINES
#endif
#ifndef MXU_RTL_P_DRAM_BYTES
#define MXU_RTL_P_DRAM_BYTES MXU_DEFAULT_DRAM_BYTES
#endif
#ifndef MXU_RTL_P_DRAM_BEAT_BYTES
#define MXU_RTL_P_DRAM_BEAT_BYTES MXU_DEFAULT_DRAM_BEAT_BYTES
#endif
#ifndef MXU_RTL_P_QUEUE_DEPTH
#define MXU_RTL_P_QUEUE_DEPTH MXU_DEFAULT_QUEUE_DEPTH
#endif
#ifndef MXU_RTL_P_TOKEN_MAX
#define MXU_RTL_P_TOKEN_MAX MXU_DEFAULT_TOKEN_MAX
#endif

static const unsigned kBeat = PARAM(DRAM_BEAT_BYTES);
static const unsigned kResetCycles = 4;
static const uint32_t kLinkRateFull = 1000; // link_rate units: bytes per 1000 cycles

// The host side of the link ports: a queue and a rate credit per direction.
struct link_side {
    std::deque<uint8_t> to_device, to_host;
    uint32_t rate, tx_capacity;
    uint32_t rx_credit, tx_credit;
    uint64_t rx_count, tx_count;
    uint32_t tx_idle; // cycles since a byte last reached the host
};

struct mxu_rtl {
    VerilatedContext *ctx;
    Vmxu_top *top;
    mxu_dram dram;
    uint64_t cycle;
    uint8_t wdata[64];
    link_side link;
    char misuse[160]; // first wrong call (CSR access on a link library)
#if MXU_RTL_TRACE
    VerilatedFstC *fst;
    uint64_t trace_from, trace_to;
#endif
};

// ---- Verilog $finish/$stop/$fatal: record, never exit the host process ----
// (verilated.o is compiled with VL_USER_FINISH/STOP/FATAL, see mk/rtl.mk)
static thread_local char g_sim_error[256];

static void note_sim_error(const char *what, const char *file, int line, const char *msg)
{
    if (!g_sim_error[0])
        snprintf(g_sim_error, sizeof g_sim_error, "%s at %s:%d%s%s", what, file ? file : "?", line,
                 msg ? ": " : "", msg ? msg : "");
}

void vl_finish(const char *filename, int linenum, const char *hier)
{
    (void)hier;
    note_sim_error("Verilog $finish", filename, linenum, nullptr);
    Verilated::threadContextp()->gotFinish(true);
}

void vl_stop(const char *filename, int linenum, const char *hier)
{
    (void)hier;
    note_sim_error("Verilog $stop", filename, linenum, nullptr);
    Verilated::threadContextp()->gotError(true);
    Verilated::threadContextp()->gotFinish(true);
}

void vl_fatal(const char *filename, int linenum, const char *hier, const char *msg)
{
    (void)hier;
    note_sim_error("Verilog fatal error", filename, linenum, msg);
    Verilated::threadContextp()->gotError(true);
    Verilated::threadContextp()->gotFinish(true);
}

// ---- port helpers: a port of <= 64 bits is an integer, wider ones VlWide ----
template <typename T> static inline void port_to_bytes(const T &v, uint8_t *dst, unsigned n)
{
    uint64_t x = v;
    memcpy(dst, &x, n); // little-endian host: byte 0 = bits 7:0
}
template <std::size_t W> static inline void port_to_bytes(const VlWide<W> &v, uint8_t *dst, unsigned n)
{
    memcpy(dst, v.data(), n);
}
template <typename T> static inline void bytes_to_port(T &v, const uint8_t *src, unsigned n)
{
    uint64_t x = 0;
    memcpy(&x, src, n);
    v = (T)x;
}
template <std::size_t W> static inline void bytes_to_port(VlWide<W> &v, const uint8_t *src, unsigned n)
{
    memcpy(v.data(), src, n);
}

// ---- the clock ----
static inline void trace_dump(mxu_rtl *r, uint64_t half)
{
#if MXU_RTL_TRACE
    if (r->fst && r->cycle >= r->trace_from) {
        if (r->cycle < r->trace_to) {
            r->fst->dump(2 * r->cycle + half);
        } else {
            r->fst->close();
            delete r->fst;
            r->fst = nullptr;
        }
    }
#else
    (void)r;
    (void)half;
#endif
}

// Link ports, clock low: present the next byte each way the rate allows.
static inline void link_drive(mxu_rtl *r)
{
#if MXU_RTL_LINK
    Vmxu_top *top = r->top;
    link_side *l = &r->link;
    int run = top->rst_ni;
    int rx = run && !l->to_device.empty() && l->rx_credit >= kLinkRateFull;
    top->rx_valid_i = rx;
    top->rx_data_i = rx ? l->to_device.front() : 0;
    top->tx_ready_i = run && l->tx_credit >= kLinkRateFull &&
                      (!l->tx_capacity || l->to_host.size() < l->tx_capacity);
#else
    (void)r;
#endif
}

// Link ports after the edge: what moved at it leaves/enters the queues.
static inline void link_edge(mxu_rtl *r, int rx_fire, int tx_fire, uint8_t tx_byte)
{
#if MXU_RTL_LINK
    link_side *l = &r->link;
    if (rx_fire) {
        l->to_device.pop_front();
        l->rx_credit -= kLinkRateFull;
        l->rx_count++;
    }
    if (tx_fire) {
        l->to_host.push_back(tx_byte);
        l->tx_credit -= kLinkRateFull;
        l->tx_count++;
        l->tx_idle = 0;
    } else if (l->tx_idle < UINT32_MAX) {
        l->tx_idle++;
    }
    l->rx_credit = l->rx_credit + l->rate > kLinkRateFull ? kLinkRateFull : l->rx_credit + l->rate;
    l->tx_credit = l->tx_credit + l->rate > kLinkRateFull ? kLinkRateFull : l->tx_credit + l->rate;
#else
    (void)r;
    (void)rx_fire;
    (void)tx_fire;
    (void)tx_byte;
#endif
}

// One cycle: inputs settle with the clock low, the request is sampled, the
// rising edge is evaluated and the DRAM model answers for the next cycle.
static inline void tick(mxu_rtl *r)
{
    Vmxu_top *top = r->top;
    mxu_dram *d = &r->dram;
    link_drive(r);
    top->dram_req_ready_i = d->ready;
    top->dram_rsp_valid_i = d->rsp_valid;
    if (d->rsp_valid)
        bytes_to_port(top->dram_rsp_rdata_i, d->rsp_data, kBeat);
    top->clk_i = 0;
    top->eval();
    trace_dump(r, 0);
#if MXU_RTL_LINK
    int rx_fire = top->rx_valid_i && top->rx_ready_o;
    int tx_fire = top->tx_valid_o && top->tx_ready_i;
    uint8_t tx_byte = top->tx_data_o;
#else
    int rx_fire = 0, tx_fire = 0;
    uint8_t tx_byte = 0;
#endif
    int valid = top->dram_req_valid_o;
    int write = 0;
    uint32_t addr = 0;
    uint64_t strb = 0;
    if (valid && d->ready) {
        write = top->dram_req_write_o;
        addr = top->dram_req_addr_o;
        if (write) {
            port_to_bytes(top->dram_req_wdata_o, r->wdata, kBeat);
            strb = top->dram_req_wstrb_o;
        }
    }
    top->clk_i = 1;
    top->eval();
    if (top->rst_ni)
        mxu_dram_edge(d, valid, write, addr, r->wdata, strb);
    else
        mxu_dram_reset(d);
    link_edge(r, rx_fire, tx_fire, tx_byte);
    trace_dump(r, 1);
    r->cycle++;
}

static void idle_inputs(Vmxu_top *top)
{
#if MXU_RTL_LINK
    (void)top; // the link ports are driven by tick() from the queues
#else
    top->csr_valid_i = 0;
    top->csr_write_i = 0;
    top->csr_addr_i = 0;
    top->csr_wdata_i = 0;
#endif
}

static void link_clear(mxu_rtl *r)
{
    r->link.to_device.clear();
    r->link.to_host.clear();
    r->link.rx_credit = r->link.tx_credit = kLinkRateFull;
    r->link.tx_idle = 0;
}

static void note_misuse(mxu_rtl *r, const char *what)
{
    if (!r->misuse[0])
        snprintf(r->misuse, sizeof r->misuse, "%s", what);
}

// ---- the C API ----
extern "C" {

unsigned mxu_rtl_abi_version(void)
{
    return MXU_RTL_ABI_VERSION;
}

void mxu_rtl_config(mxu_hw_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->rows = PARAM(ROWS);
    cfg->cols = PARAM(COLS);
    cfg->ub_lines = PARAM(UB_LINES);
    cfg->ub_line_bytes = cfg->rows > cfg->cols ? cfg->rows : cfg->cols;
    cfg->acc_rows = PARAM(ACC_ROWS);
    cfg->wb_lines = PARAM(WB_LINES);
    cfg->param_lines = PARAM(PARAM_LINES);
    cfg->dram_bytes = PARAM(DRAM_BYTES);
    cfg->dram_beat_bytes = PARAM(DRAM_BEAT_BYTES);
    cfg->queue_depth = PARAM(QUEUE_DEPTH);
    cfg->token_max = PARAM(TOKEN_MAX);
}

int mxu_rtl_has_trace(void)
{
    return MXU_RTL_TRACE;
}

unsigned mxu_rtl_features(void)
{
    return (MXU_RTL_TRACE ? MXU_RTL_FEATURE_TRACE : 0u) |
           (MXU_RTL_LINK ? MXU_RTL_FEATURE_LINK : MXU_RTL_FEATURE_CSR);
}

void mxu_rtl_reset(mxu_rtl *r)
{
    idle_inputs(r->top);
    link_clear(r);
    r->top->rst_ni = 0;
    for (unsigned i = 0; i < kResetCycles; i++)
        tick(r);
    r->top->rst_ni = 1;
    mxu_dram_reset(&r->dram);
    tick(r);
}

mxu_rtl *mxu_rtl_create(const mxu_rtl_options *opt, char *err, size_t errlen)
{
    static const mxu_rtl_options defaults = {0, 0, nullptr, 0, 0, 0, 0, 0};
    char scratch[8];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = 0;
    if (!opt)
        opt = &defaults;
    uint32_t latency = opt->dram_latency ? opt->dram_latency : MXU_DEFAULT_DRAM_LATENCY;
    uint32_t bw = opt->dram_bw ? opt->dram_bw : kBeat;
#if !MXU_RTL_TRACE
    if (opt->trace_path) {
        snprintf(err, errlen, "this RTL library was built without tracing (build the -trace variant)");
        return nullptr;
    }
#endif
    mxu_rtl *r = new (std::nothrow) mxu_rtl();
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return nullptr;
    }
    if (opt->link_rate > kLinkRateFull) {
        snprintf(err, errlen, "link rate %u: must be 1..%u bytes per %u cycles (0 = every cycle)", opt->link_rate,
                 kLinkRateFull, kLinkRateFull);
        delete r;
        return nullptr;
    }
    r->link.rate = opt->link_rate ? opt->link_rate : kLinkRateFull;
    r->link.tx_capacity = opt->link_tx_capacity;
    if (mxu_dram_init(&r->dram, PARAM(DRAM_BYTES), kBeat, latency, bw, err, errlen)) {
        delete r;
        return nullptr;
    }
    r->ctx = new VerilatedContext;
    r->ctx->fatalOnError(false);
    r->ctx->fatalOnVpiError(false);
#if MXU_RTL_TRACE
    if (opt->trace_path)
        r->ctx->traceEverOn(true);
#endif
    r->top = new Vmxu_top(r->ctx, "TOP");
#if MXU_RTL_TRACE
    if (opt->trace_path) {
        r->fst = new VerilatedFstC;
        r->top->trace(r->fst, 99);
        if (opt->trace_depth) /* $dumpvars-style: levels below TOP */
            r->fst->dumpvars((int)opt->trace_depth, "TOP");
        r->fst->open(opt->trace_path);
        if (!r->fst->isOpen()) {
            snprintf(err, errlen, "cannot open trace file %s", opt->trace_path);
            mxu_rtl_destroy(r);
            return nullptr;
        }
        r->trace_from = opt->trace_from;
        r->trace_to = opt->trace_to ? opt->trace_to : UINT64_MAX;
    }
#endif
    r->top->clk_i = 0;
    mxu_rtl_reset(r);
    return r;
}

void mxu_rtl_destroy(mxu_rtl *r)
{
    if (!r)
        return;
#if MXU_RTL_TRACE
    if (r->fst) {
        r->fst->close();
        delete r->fst;
    }
#endif
    if (r->top) {
        r->top->final();
        delete r->top;
    }
    delete r->ctx;
    mxu_dram_free(&r->dram);
    delete r;
}

uint8_t *mxu_rtl_dram(mxu_rtl *r, size_t *bytes)
{
    if (bytes)
        *bytes = r->dram.bytes;
    return r->dram.mem;
}

#if MXU_RTL_LINK
uint32_t mxu_rtl_csr_read(mxu_rtl *r, uint32_t addr)
{
    (void)addr;
    note_misuse(r, "mxu_rtl_csr_read on a link library: its CSRs are reached through the link");
    return 0;
}

void mxu_rtl_csr_write(mxu_rtl *r, uint32_t addr, uint32_t value)
{
    (void)addr;
    (void)value;
    note_misuse(r, "mxu_rtl_csr_write on a link library: its CSRs are reached through the link");
}
#else
uint32_t mxu_rtl_csr_read(mxu_rtl *r, uint32_t addr)
{
    Vmxu_top *top = r->top;
    top->csr_valid_i = 1;
    top->csr_write_i = 0;
    top->csr_addr_i = addr & 0xFFF;
    top->clk_i = 0;
    top->eval();
    uint32_t value = top->csr_rdata_o;
    tick(r);
    idle_inputs(top);
    return value;
}

void mxu_rtl_csr_write(mxu_rtl *r, uint32_t addr, uint32_t value)
{
    Vmxu_top *top = r->top;
    top->csr_valid_i = 1;
    top->csr_write_i = 1;
    top->csr_addr_i = addr & 0xFFF;
    top->csr_wdata_i = value;
    tick(r);
    idle_inputs(top);
}
#endif

uint64_t mxu_rtl_run(mxu_rtl *r, uint64_t max_cycles)
{
    Vmxu_top *top = r->top;
    uint64_t n = 0;
    idle_inputs(top);
    top->clk_i = 0;
    top->eval();
    if (top->done_o)
        return 0;
    while (!max_cycles || n < max_cycles) {
        tick(r);
        n++;
        if (top->done_o || r->ctx->gotFinish())
            break;
    }
    return n;
}

void mxu_rtl_step(mxu_rtl *r, uint64_t n)
{
    idle_inputs(r->top);
    while (n--)
        tick(r);
}

uint64_t mxu_rtl_cycle(const mxu_rtl *r)
{
    return r->cycle;
}

uint32_t mxu_rtl_pins(mxu_rtl *r)
{
    Vmxu_top *top = r->top;
    uint32_t pins = (top->busy_o ? MXU_STATUS_BUSY : 0) | (top->done_o ? MXU_STATUS_DONE : 0) |
                    (top->error_o ? MXU_STATUS_ERROR : 0);
#if MXU_RTL_LINK
    if (top->link_error_o)
        pins |= MXU_RTL_PIN_LINK_ERROR;
#endif
    return pins;
}

int mxu_rtl_link_send(mxu_rtl *r, const uint8_t *data, size_t len)
{
    if (!MXU_RTL_LINK)
        return -1;
    try {
        r->link.to_device.insert(r->link.to_device.end(), data, data + len);
    } catch (const std::bad_alloc &) {
        return -1;
    }
    return 0;
}

size_t mxu_rtl_link_recv(mxu_rtl *r, uint8_t *buf, size_t cap)
{
    std::deque<uint8_t> &q = r->link.to_host;
    size_t n = q.size() < cap ? q.size() : cap;
    std::copy(q.begin(), q.begin() + (std::ptrdiff_t)n, buf);
    q.erase(q.begin(), q.begin() + (std::ptrdiff_t)n);
    return n;
}

size_t mxu_rtl_link_rx_pending(const mxu_rtl *r)
{
    return r->link.to_device.size();
}

size_t mxu_rtl_link_tx_pending(const mxu_rtl *r)
{
    return r->link.to_host.size();
}

uint64_t mxu_rtl_link_step(mxu_rtl *r, uint64_t max_cycles, size_t until_bytes)
{
    uint64_t n = 0;
    if (!MXU_RTL_LINK)
        return 0;
    link_side *l = &r->link;
    // paused: no byte for longer than the rate's gap between two bytes
    uint32_t gap = (kLinkRateFull + l->rate - 1) / l->rate;
    idle_inputs(r->top);
    while (n < max_cycles) {
        tick(r);
        n++;
        if (r->ctx->gotFinish())
            break;
        size_t queued = l->to_host.size();
        if (until_bytes && queued >= until_bytes &&
            (l->tx_idle >= gap || (l->tx_capacity && queued >= l->tx_capacity)))
            break;
    }
    return n;
}

void mxu_rtl_link_counts(const mxu_rtl *r, uint64_t *to_device, uint64_t *to_host)
{
    if (to_device)
        *to_device = r->link.rx_count;
    if (to_host)
        *to_host = r->link.tx_count;
}

int mxu_rtl_fault(const mxu_rtl *r, char *msg, size_t len)
{
    if (r->misuse[0]) {
        if (msg && len)
            snprintf(msg, len, "%s", r->misuse);
        return 1;
    }
    if (r->ctx->gotFinish()) {
        if (!g_sim_error[0])
            note_sim_error("Verilog $finish", nullptr, 0, nullptr);
        if (msg && len)
            snprintf(msg, len, "%s", g_sim_error);
        return 1;
    }
    if (!r->dram.fault)
        return 0;
    if (msg && len)
        snprintf(msg, len, "DRAM %s at 0x%08x: outside the %zu-byte array or not aligned to the %u-byte beat",
                 r->dram.fault_write ? "write" : "read", r->dram.fault_addr, r->dram.bytes, kBeat);
    return 1;
}

} // extern "C"
