// tb_dma_store: the STORE unit against the walk of docs/isa.md: random 3-D strides
// (overlapping ones included), unaligned DRAM addresses and element lengths, random
// back-pressure on the write channel, instructions one at a time or streamed back to
// back, tokens, and resets in the middle of a run. Two references: the beats each
// element spans (address, byte strobes, data, in walk order; UB reads in line
// order), and the ISA's DRAM image: after each instruction completes every DRAM byte
// must equal the walk applied in program order (written bytes right, others unchanged).
#include <deque>
#include <vector>

#include "Vmxu_dma_store.h"
#include "mxu_isa.h"
#include "tb_common.h"

#ifndef TB_NAME
#define TB_NAME "tb_dma_store"
#endif
#ifndef BEAT
#define BEAT 16
#endif
#ifndef UB_BYTES
#define UB_BYTES 16
#endif
#ifndef UB_AW
#define UB_AW 14
#endif
static const uint32_t DRAM = 1 << 16;
static const uint32_t UB_LINES = 1u << UB_AW;

struct Insn {
    uint32_t elem, n0, n1, n2, s0, s1, s2, addr, src;
    bool push, pop;
    uint64_t w[MXU_INSN_WORDS];
};

struct Beat {
    uint32_t addr;
    uint64_t strb;
    uint8_t data[BEAT];
    bool last;   // the instruction's last beat
    size_t insn;
};

struct Bench {
    Vmxu_dma_store top;
    tb::Checker chk{TB_NAME};
    tb::Rng rng{0x5702Eu};
    std::vector<uint8_t> ub, dram, ref;
    std::vector<Insn> insns;           // every instruction ever accepted
    std::deque<Insn> pending;          // not yet accepted
    std::deque<uint32_t> reads;        // expected UB read lines
    std::deque<Beat> beats;            // expected write beats
    std::deque<size_t> running;        // accepted, not yet done
    std::vector<long> token_arrivals;  // cycles at which a compute->store token arrives
    int tokens = 0;
    long cyc = 0;
    bool head_presented = false;
    bool last_re = false;
    uint32_t last_raddr = 0;
    long nbeats = 0, nstalls = 0, nwaits = 0;
    bool stalled = false;              // valid && !ready in the previous cycle
    uint32_t stall_addr = 0;
    uint64_t stall_strb = 0;
    uint8_t stall_data[BEAT] = {};

    Bench() : ub((size_t)UB_LINES * UB_BYTES), dram(DRAM), ref(DRAM) {
        for (auto &b : ub) b = (uint8_t)rng.u32();
        for (auto &b : dram) b = (uint8_t)rng.u32();
        ref = dram;
    }

    Insn random_insn() {
        Insn I;
        uint32_t k = rng.below(4);
        I.elem = k == 0 ? UB_BYTES : k == 1 ? 1 + rng.below(3) : 1 + rng.below(UB_BYTES);
        if (I.elem > UB_BYTES) I.elem = UB_BYTES;
        I.n0 = 1 + rng.below(6); I.n1 = 1 + rng.below(4); I.n2 = 1 + rng.below(3);
        if (rng.below(10) == 0) { I.n0 = 1 + rng.below(64); I.n1 = I.n2 = 1; }  // fills the line FIFO
        // Overlapping strides too (s0 < elem, even 0): later elements overwrite earlier ones.
        I.s0 = rng.below(5) == 0 ? rng.below(I.elem + 1) : I.elem + rng.below(40);
        I.s1 = rng.below(6) == 0 ? rng.below(I.s0 * I.n0 + 1) : I.s0 * I.n0 + rng.below(100);
        I.s2 = rng.below(6) == 0 ? rng.below(I.s1 * I.n1 + 1) : I.s1 * I.n1 + rng.below(500);
        uint32_t span = (I.n2 - 1) * I.s2 + (I.n1 - 1) * I.s1 + (I.n0 - 1) * I.s0 + I.elem;
        I.addr = rng.below(DRAM - span + 1);
        k = rng.below(10);
        if (k == 0) I.addr = DRAM - span;  // last byte is the last DRAM byte
        else if (k < 3) I.addr &= ~(uint32_t)(BEAT - 1);
        uint32_t lines = I.n0 * I.n1 * I.n2;
        I.src = rng.below(8) == 0 ? UB_LINES - lines : rng.below(UB_LINES - lines + 1);
        I.push = rng.below(2); I.pop = rng.below(2);
        for (auto &x : I.w) x = 0;
        mxu_insn_set(I.w, MXU_F_OP_POS, MXU_F_OP_BITS, MXU_OP_STORE);
        MXU_SET(I.w, STORE, POP_PREV, I.pop);
        MXU_SET(I.w, STORE, PUSH_PREV, I.push);
        MXU_SET(I.w, STORE, ELEM_BYTES, I.elem);
        MXU_SET(I.w, STORE, DRAM_ADDR, I.addr);
        MXU_SET(I.w, STORE, SRC_LINE, I.src);
        MXU_SET(I.w, STORE, N0, I.n0);
        MXU_SET(I.w, STORE, N1, I.n1);
        MXU_SET(I.w, STORE, N2, I.n2);
        MXU_SET(I.w, STORE, S0, I.s0);
        MXU_SET(I.w, STORE, S1, I.s1);
        MXU_SET(I.w, STORE, S2, I.s2);
        return I;
    }

    // Calls f(dram address, UB line) for each element in walk order.
    template <typename F> static void walk(const Insn &I, F f) {
        uint32_t line = I.src;
        for (uint32_t p = 0; p < I.n2; p++)
            for (uint32_t r = 0; r < I.n1; r++)
                for (uint32_t e = 0; e < I.n0; e++) f(I.addr + p * I.s2 + r * I.s1 + e * I.s0, line++);
    }

    // The UB reads and write beats an accepted instruction must produce.
    void expect(const Insn &I, size_t idx) {
        uint32_t total = I.n0 * I.n1 * I.n2, n = 0;
        walk(I, [&](uint32_t a, uint32_t line) {
            reads.push_back(line);
            uint32_t off = a % BEAT, nb = (off + I.elem + BEAT - 1) / BEAT;
            n++;
            for (uint32_t j = 0; j < nb; j++) {
                Beat b{};
                b.addr = a - off + j * BEAT;
                for (uint32_t k = 0; k < BEAT; k++) {
                    uint32_t pos = j * BEAT + k;
                    if (pos < off || pos >= off + I.elem) continue;
                    b.strb |= 1ull << k;
                    b.data[k] = ub[(size_t)line * UB_BYTES + pos - off];
                }
                b.last = n == total && j == nb - 1;
                b.insn = idx;
                beats.push_back(b);
            }
        });
    }

    // An instruction completed: apply the ISA walk to the reference image and compare
    // the written bytes, then the whole DRAM.
    void check_image(const Insn &I, size_t idx) {
        std::vector<uint32_t> touched;
        walk(I, [&](uint32_t a, uint32_t line) {
            for (uint32_t b = 0; b < I.elem; b++) {
                ref[a + b] = ub[(size_t)line * UB_BYTES + b];
                touched.push_back(a + b);
            }
        });
        for (uint32_t a : touched) chk.eq<int>(dram[a], ref[a], "written byte", (long)idx, a);
        long diff = 0;
        for (uint32_t a = 0; a < DRAM; a++)
            if (dram[a] != ref[a] && diff++ < 4) chk.eq<int>(dram[a], ref[a], "other byte", (long)idx, a);
        chk.eq<long>(diff, 0, "bytes differing from the ISA image", (long)idx);
    }

    // A broken unit is reported after the first mismatches, not after hours of timeouts.
    bool failing() const { return chk.mismatches >= 1000; }

    void clock() {
        top.clk_i = 1; top.eval();
        top.clk_i = 0; top.eval();
        cyc++;
    }

    // One cycle. present: the head of `pending` is offered; ready_pct: how often the
    // write channel is ready (percent).
    void cycle(bool present, int ready_pct) {
        present = present && !pending.empty();
        if (present && !head_presented) {
            head_presented = true;
            if (pending.front().pop) token_arrivals.push_back(cyc + (long)rng.below(8));
        }
        for (size_t i = 0; i < token_arrivals.size();)
            if (token_arrivals[i] <= cyc) { tokens++; token_arrivals.erase(token_arrivals.begin() + (long)i); }
            else i++;
        bool unit_free = running.empty();

        top.insn_valid_i = present;
        for (int k = 0; k < MXU_INSN_WORDS; k++) {
            uint64_t w = present ? pending.front().w[k] : ((uint64_t)rng.u32() << 32 | rng.u32());
            top.insn_i[2 * k] = (uint32_t)w; top.insn_i[2 * k + 1] = (uint32_t)(w >> 32);
        }
        top.tok_avail_i = tokens > 0;
        top.wr_ready_i = (int)rng.below(100) < ready_pct;
        for (uint32_t b = 0; b < UB_BYTES; b++)
            tb::put8(top.ub_rdata_i, b, last_re ? ub[(size_t)last_raddr * UB_BYTES + b] : (uint8_t)rng.u32());
        top.eval();

        if (!unit_free) chk.eq<int>(top.busy_o, 1, "busy while running", cyc);
        if (present && unit_free)
            chk.eq<int>(top.wait_o, pending.front().pop && tokens == 0, "wait_o", cyc);
        if (top.insn_ready_o) {
            if (chk.eq<int>(present, 1, "accepted without valid", cyc)) {
                Insn I = pending.front();
                pending.pop_front();
                head_presented = false;
                chk.eq<int>(top.tok_pop_o, I.pop, "token pop", cyc);
                if (I.pop) chk.eq<int>(tokens > 0, 1, "started without token", cyc);
                tokens -= top.tok_pop_o;
                insns.push_back(I);
                running.push_back(insns.size() - 1);
                expect(I, insns.size() - 1);
            }
        } else if (top.tok_pop_o) {
            chk.eq<int>(top.tok_pop_o, 0, "token pop without start", cyc);
        }

        last_re = top.ub_re_o;
        last_raddr = top.ub_raddr_o;
        if (top.ub_re_o && chk.eq<int>(reads.empty(), 0, "unexpected UB read", cyc)) {
            chk.eq<uint32_t>(top.ub_raddr_o, reads.front() % UB_LINES, "UB read line", cyc);
            reads.pop_front();
        }

        if (stalled) {
            chk.eq<int>(top.wr_valid_o, 1, "valid dropped while stalled", cyc);
            chk.eq<uint32_t>(top.wr_addr_o, stall_addr, "addr changed while stalled", cyc);
            chk.eq<uint64_t>((uint64_t)top.wr_strb_o, stall_strb, "strb changed while stalled", cyc);
            for (int k = 0; k < BEAT; k++)
                if (stall_strb >> k & 1)
                    chk.eq<int>(tb::get8(top.wr_data_o, k), stall_data[k], "data changed while stalled", cyc, k);
        }
        bool fire = top.wr_valid_o && top.wr_ready_i;
        nbeats += fire;
        nstalls += top.wr_valid_o && !top.wr_ready_i;
        nwaits += top.wait_o;
        if (fire) on_beat();
        else {
            if (top.done_o) chk.eq<int>(top.done_o, 0, "done without a beat", cyc);
            if (top.tok_push_o) chk.eq<int>(top.tok_push_o, 0, "push without a beat", cyc);
        }
        stalled = top.wr_valid_o && !top.wr_ready_i;
        if (stalled) {
            stall_addr = top.wr_addr_o;
            stall_strb = top.wr_strb_o;
            for (int k = 0; k < BEAT; k++) stall_data[k] = tb::get8(top.wr_data_o, k);
        }
        clock();
    }

    void on_beat() {
        uint32_t addr = top.wr_addr_o;
        uint64_t strb = top.wr_strb_o;
        chk.eq<uint32_t>(addr % BEAT, 0, "beat aligned", cyc);
        if (!chk.eq<int>(beats.empty(), 0, "unexpected beat", cyc)) return;
        Beat want = beats.front();
        beats.pop_front();
        chk.eq<uint32_t>(addr, want.addr, "beat address", cyc, (long)want.insn);
        chk.eq<uint64_t>(strb, want.strb, "beat strobes", cyc, (long)want.insn);
        for (int k = 0; k < BEAT; k++)
            if (want.strb >> k & 1)
                chk.eq<int>(tb::get8(top.wr_data_o, k), want.data[k], "beat data", cyc, k);
        if (chk.eq<int>(addr < DRAM, 1, "beat inside DRAM", cyc))
            for (int k = 0; k < BEAT; k++)
                if (strb >> k & 1) dram[addr + k] = tb::get8(top.wr_data_o, k);
        chk.eq<int>(top.done_o, want.last, "done on the last beat", cyc, (long)want.insn);
        if (!want.last) {
            if (top.tok_push_o) chk.eq<int>(top.tok_push_o, 0, "push before the last beat", cyc);
            return;
        }
        const Insn &I = insns[want.insn];
        chk.eq<int>(top.tok_push_o, I.push, "token push", cyc, (long)want.insn);
        if (chk.eq<int>(running.empty(), 0, "done with nothing running", cyc)) {
            chk.eq<size_t>(running.front(), want.insn, "done order", cyc);
            running.pop_front();
        }
        check_image(I, want.insn);
    }

    // Runs until everything accepted has completed and the unit is idle.
    void drain(int ready_pct) {
        for (int k = 0; k < 200000 && !(pending.empty() && running.empty()) && !failing(); k++)
            cycle(false, ready_pct);
        cycle(false, ready_pct);
        chk.eq<int>(running.empty(), 1, "all instructions done");
        chk.eq<int>(top.idle_o, 1, "idle after drain");
        chk.eq<int>(top.busy_o, 0, "not busy after drain");
        chk.eq<size_t>(beats.size(), 0, "missing beats");
        chk.eq<size_t>(reads.size(), 0, "missing UB reads");
    }

    void batch() {
        bool stream = rng.below(2);
        static const int READY[4] = {100, 90, 60, 25};
        int ready_pct = READY[rng.below(4)];
        int n = 1 + (int)rng.below(10);
        for (int i = 0; i < n; i++) pending.push_back(random_insn());
        int gap = 0;
        for (int k = 0; k < 400000 && !pending.empty() && !failing(); k++) {
            // One at a time: offer the next instruction a few cycles after the previous is done.
            bool present = stream || (running.empty() && gap == 0);
            if (!stream && !running.empty()) gap = (int)rng.below(3);
            else if (gap > 0) gap--;
            cycle(present, ready_pct);
        }
        drain(ready_pct);
    }

    // Reset in the middle of a streamed run: the unit goes idle at once, writes stop.
    void reset_midway() {
        int n = 1 + (int)rng.below(3);
        for (int i = 0; i < n; i++) pending.push_back(random_insn());
        int k = (int)rng.below(60);
        for (int i = 0; i < k; i++) cycle(true, 50);
        top.insn_valid_i = 0;
        top.rst_ni = 0; top.eval();
        chk.eq<int>(top.wr_valid_o, 0, "reset: wr_valid_o");
        chk.eq<int>(top.ub_re_o, 0, "reset: ub_re_o");
        chk.eq<int>(top.busy_o, 0, "reset: busy_o");
        chk.eq<int>(top.idle_o, 1, "reset: idle_o");
        chk.eq<int>(top.done_o, 0, "reset: done_o");
        for (int i = 0; i < 2; i++) {
            clock();
            chk.eq<int>(top.wr_valid_o, 0, "in reset: wr_valid_o");
        }
        top.rst_ni = 1; top.eval();
        // Whatever landed before the reset is the new reference.
        ref = dram;
        pending.clear(); reads.clear(); beats.clear(); running.clear(); token_arrivals.clear();
        tokens = 0; head_presented = false; last_re = false; stalled = false;
        for (int i = 0; i < 3; i++) {
            cycle(false, 100);
            chk.eq<int>(top.idle_o, 1, "idle after reset");
            chk.eq<int>(top.wr_valid_o, 0, "no write after reset");
        }
    }
};

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    Bench b;
    Vmxu_dma_store &top = b.top;
    top.clk_i = 0; top.insn_valid_i = 0; top.tok_avail_i = 0; top.wr_ready_i = 0;
    top.rst_ni = 1; top.eval(); top.rst_ni = 0; top.eval(); top.rst_ni = 1; top.eval();
    b.chk.eq<int>(top.idle_o, 1, "idle after reset");
    for (int i = 0; i < 1000 && !b.failing(); i++) {
        if (i % 25 == 24) b.reset_midway();
        else b.batch();
    }
    top.final();
    std::printf("%s: %zu instructions, %ld beats, %ld stalled beats, %ld token waits, %ld cycles\n", TB_NAME,
                b.insns.size(), b.nbeats, b.nstalls, b.nwaits, b.cyc);
    return b.chk.finish();
}
