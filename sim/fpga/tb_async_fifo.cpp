// tb_async_fifo: the clock-domain-crossing FIFO (rtl/fpga/async_fifo.v) under
// two unrelated clocks (periods in picoseconds with per-edge jitter) and random
// valid/ready on both sides. For every phase (clock pair, traffic mix):
//   - every word comes out once, in order (a sequence counter is the data);
//   - words in flight never exceed the depth (no overrun);
//   - each Gray pointer changes by at most one bit per edge of its clock;
//   - after the writer stops, the reader drains everything (no stuck word);
//   - with both sides willing, the slower clock sets the rate (>= 80% of it).
#include <cstdio>

#include "Vasync_fifo.h"
#include "Vasync_fifo___024root.h"
#include "tb_common.h"

#ifndef TB_NAME
#define TB_NAME "tb_async_fifo"
#endif
static const unsigned AW = 4, DEPTH = 1u << AW;   // the bench's -GAW
static const uint32_t MASK = 0xFFFFu;             // -GWIDTH=16

struct Phase {
    uint64_t wr_ps, rd_ps;     // clock periods
    unsigned p_valid, p_ready; // percent
    const char *name;
};

struct Bench {
    Vasync_fifo top;
    tb::Checker &chk;
    tb::Rng rng{0xA5F1F0u};
    uint64_t now = 0, next_wr = 0, next_rd = 0;
    bool wr_high = false, rd_high = false;
    uint32_t next_word = 0, expect = 0;
    uint64_t pushed = 0, popped = 0, wr_edges = 0, rd_edges = 0;
    unsigned p_valid = 100, p_ready = 100;
    bool writing = true;
    uint32_t wgray_prev = 0, rgray_prev = 0;

    explicit Bench(tb::Checker &c) : chk(c) {}

    uint64_t jitter(uint64_t half) { return half - half / 20 + rng.below((uint32_t)(half / 10 + 1)); }

    void reset() {
        top.wr_rst_ni = 0; top.rd_rst_ni = 0;
        top.wr_clk_i = 0; top.rd_clk_i = 0; top.wr_valid_i = 0; top.rd_ready_i = 0; top.wr_data_i = 0;
        top.eval();
        top.wr_rst_ni = 1; top.rd_rst_ni = 1;
        top.eval();
        next_word = expect = 0; pushed = popped = 0;
        wgray_prev = rgray_prev = 0;
        wr_high = rd_high = false;
    }

    static unsigned bits(uint32_t x) { unsigned n = 0; for (; x; x &= x - 1) n++; return n; }

    void drive_wr() {
        if (!top.wr_valid_i && writing && rng.below(100) < p_valid) {
            top.wr_valid_i = 1;
            top.wr_data_i = next_word & MASK;
        }
    }
    void drive_rd() { top.rd_ready_i = rng.below(100) < p_ready; }

    // Advance to the next clock edge of either domain (both when they coincide).
    void step(const Phase &ph) {
        uint64_t t = next_wr < next_rd ? next_wr : next_rd;
        now = t;
        bool wr_edge = next_wr == t, rd_edge = next_rd == t;
        bool wr_rise = wr_edge && !wr_high, rd_rise = rd_edge && !rd_high;
        // handshakes seen just before the rising edges
        bool push = wr_rise && top.wr_valid_i && top.wr_ready_o;
        bool pop = rd_rise && top.rd_valid_o && top.rd_ready_i;
        uint32_t popped_word = top.rd_data_o;
        if (wr_edge) { wr_high = !wr_high; top.wr_clk_i = wr_high; next_wr = t + jitter(ph.wr_ps / 2); }
        if (rd_edge) { rd_high = !rd_high; top.rd_clk_i = rd_high; next_rd = t + jitter(ph.rd_ps / 2); }
        top.eval();
        if (push) { pushed++; next_word++; top.wr_valid_i = 0; }
        if (pop) {
            chk.eq(popped_word, expect & MASK, "word order", (long)popped, 0);
            expect++;
            popped++;
        }
        if (pushed - popped > DEPTH) chk.eq(pushed - popped, (uint64_t)DEPTH, "words in flight", 0, 0);
        if (wr_rise) {
            wr_edges++;
            uint32_t g = top.rootp->async_fifo__DOT__wgray_q;
            if (bits(g ^ wgray_prev) > 1) chk.eq(bits(g ^ wgray_prev), 1u, "write Gray step", (long)wr_edges, 0);
            wgray_prev = g;
            drive_wr();
        }
        if (rd_rise) {
            rd_edges++;
            uint32_t g = top.rootp->async_fifo__DOT__rgray_q;
            if (bits(g ^ rgray_prev) > 1) chk.eq(bits(g ^ rgray_prev), 1u, "read Gray step", (long)rd_edges, 0);
            rgray_prev = g;
            drive_rd();
        }
        top.eval();
    }

    void run_phase(const Phase &ph, uint64_t words) {
        reset();
        p_valid = ph.p_valid; p_ready = ph.p_ready;
        writing = true;
        next_wr = now + ph.wr_ps / 2; next_rd = now + rng.below((uint32_t)(ph.rd_ps)) + 1;
        uint64_t t0 = now, rd0 = rd_edges, wr0 = wr_edges;
        while (pushed < words) step(ph);
        uint64_t busy_ps = now - t0;
        writing = false;
        p_ready = 100;
        uint64_t stop = now + 50 * (ph.wr_ps + ph.rd_ps);
        while (popped < pushed && now < stop) step(ph);
        chk.eq(popped, pushed, ph.name, 0, 0);
        chk.eq((uint32_t)top.rd_valid_o, 0u, "empty after draining", 0, 0);
        // rate: both sides always willing -> the slower clock's edge rate
        if (ph.p_valid == 100 && ph.p_ready == 100) {
            uint64_t slow = ph.wr_ps > ph.rd_ps ? ph.wr_ps : ph.rd_ps;
            double rate = (double)words * (double)slow / (double)busy_ps;
            chk.eq(rate >= 0.8, true, "throughput vs slower clock", (long)(rate * 1000), 0);
            std::printf("%s: %-22s %6.3f words per slow cycle\n", TB_NAME, ph.name, rate);
        }
        (void)rd0; (void)wr0;
    }
};

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Checker chk(TB_NAME);
    Bench b(chk);
    const Phase phases[] = {
        {16667, 10000, 100, 100, "ft 60 MHz -> core 100"},
        {10000, 16667, 100, 100, "core 100 -> ft 60 MHz"},
        {16667, 20000, 100, 100, "ft 60 -> core 50 MHz"},
        {10000, 10007, 100, 100, "near-equal clocks"},
        {7000, 31000, 100, 100, "fast writer, slow reader"},
        {31000, 7000, 100, 100, "slow writer, fast reader"},
        {16667, 10000, 50, 30, "random valid/ready"},
        {10000, 16667, 30, 50, "random valid/ready 2"},
        {12345, 9876, 90, 10, "stalled reader"},
        {9876, 12345, 10, 90, "starved reader"},
    };
    for (const Phase &ph : phases) b.run_phase(ph, 20000);
    return chk.finish();
}
