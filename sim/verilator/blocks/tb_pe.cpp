// tb_pe: one processing element against a cycle-accurate C++ reference of its
// registers (activation/first/partial-sum forwarding, weight pipe, shadow and active
// weights). Directed checks with hand-computed values (extreme products, int32 wrap,
// swap timing, asynchronous reset), a tile-stream scenario (the next weight commits
// while the current tile computes and takes effect with its first vector), then
// random stimulus with occasional resets. Built with --public-flat-rw so the bench
// can read shadow_q / active_q directly.
#include "Vmxu_pe.h"
#include "Vmxu_pe___024root.h"
#include "tb_common.h"

#ifndef TB_NAME
#define TB_NAME "tb_pe"
#endif

struct PeIn {
    int8_t a = 0;
    bool first = false, wshift = false, wcommit = false;
    uint32_t psum = 0;
    int8_t wpipe = 0;
};

// The PE's registers, updated as mxu_pe.v does at each rising edge.
struct PeRef {
    int8_t a_q = 0, wpipe_q = 0, shadow_q = 0, active_q = 0;
    bool first_q = false;
    uint32_t psum_q = 0;
    bool datapath_known = false;  // a_q/psum_q have no reset: defined once clocked out of reset

    void reset() { first_q = false; wpipe_q = shadow_q = active_q = 0; }
    void clock(const PeIn &in, bool rst_n) {
        int8_t w_use = in.first ? shadow_q : active_q;
        a_q = in.a;
        psum_q = in.psum + (uint32_t)((int32_t)in.a * (int32_t)w_use);
        datapath_known = rst_n;
        if (!rst_n) return;
        first_q = in.first;
        active_q = w_use;
        if (in.wshift) wpipe_q = in.wpipe;
        if (in.wcommit) shadow_q = in.wpipe;
    }
};

struct Bench {
    Vmxu_pe top;
    PeRef ref;
    tb::Checker chk{TB_NAME};
    long cyc = 0;

    void drive(const PeIn &in) {
        top.a_i = (uint8_t)in.a; top.first_i = in.first; top.psum_i = in.psum;
        top.wshift_i = in.wshift; top.wcommit_i = in.wcommit; top.wpipe_i = (uint8_t)in.wpipe;
    }
    // One rising edge with these inputs; the reference follows.
    void step(const PeIn &in) {
        drive(in);
        top.eval();
        top.clk_i = 1; top.eval();
        top.clk_i = 0; top.eval();
        ref.clock(in, top.rst_ni);
        cyc++;
    }
    // Every register output (and the two internal weights) against the reference.
    void compare(const char *where) {
        chk.eq<int>(top.first_o, ref.first_q, where, cyc, 0);
        chk.eq<int>((int8_t)top.wpipe_o, ref.wpipe_q, where, cyc, 1);
        chk.eq<int>((int8_t)top.rootp->mxu_pe__DOT__shadow_q, ref.shadow_q, where, cyc, 2);
        chk.eq<int>((int8_t)top.rootp->mxu_pe__DOT__active_q, ref.active_q, where, cyc, 3);
        if (!ref.datapath_known) return;
        chk.eq<int>((int8_t)top.a_o, ref.a_q, where, cyc, 4);
        chk.eq<uint32_t>(top.psum_o, ref.psum_q, where, cyc, 5);
    }
    // Asynchronous reset: registers clear without a clock edge.
    void reset_async() {
        top.rst_ni = 0; top.eval();
        ref.reset();
    }
    void release_reset() { top.rst_ni = 1; top.eval(); }
};

static PeIn vec(int8_t a, uint32_t psum, bool first = false) {
    PeIn in; in.a = a; in.psum = psum; in.first = first; return in;
}
static PeIn commit(int8_t w) {
    PeIn in; in.wcommit = true; in.wpipe = w; return in;
}

// Hand-computed values, independent of PeRef.
static void directed(Bench &b) {
    tb::Checker &c = b.chk;
    b.reset_async();
    c.eq<int>(b.top.first_o, 0, "reset first_o");
    c.eq<int>(b.top.wpipe_o, 0, "reset wpipe_o");
    c.eq<int>(b.top.rootp->mxu_pe__DOT__shadow_q, 0, "reset shadow");
    c.eq<int>(b.top.rootp->mxu_pe__DOT__active_q, 0, "reset active");
    b.release_reset();

    // Zero weights after reset: the partial sum passes unchanged, first or not.
    b.step(vec(5, 100));
    c.eq<uint32_t>(b.top.psum_o, 100, "zero weight psum");
    c.eq<int>((int8_t)b.top.a_o, 5, "a forwarded");
    b.step(vec(-7, 0xDEADBEEF, true));
    c.eq<uint32_t>(b.top.psum_o, 0xDEADBEEF, "zero shadow psum");
    c.eq<int>(b.top.first_o, 1, "first forwarded");

    // -128 x -128 through the swap, then 127 x -128 with the active weight.
    b.step(commit(-128));
    c.eq<int>(b.top.first_o, 0, "first cleared");
    b.step(vec(-128, 0, true));
    c.eq<uint32_t>(b.top.psum_o, 16384, "-128*-128");
    b.step(vec(127, 0));
    c.eq<int32_t>((int32_t)b.top.psum_o, -16256, "127*-128");
    b.step(vec(-128, 0xFFFFFFFF));
    c.eq<uint32_t>(b.top.psum_o, 16383, "-1 + 16384 wraps through zero");

    // int32 wrap of the partial sum.
    b.step(commit(1));
    b.step(vec(1, 0x7FFFFFFF, true));
    c.eq<uint32_t>(b.top.psum_o, 0x80000000u, "INT32_MAX + 1 wraps");
    b.step(vec(-1, 0x80000000u));
    c.eq<uint32_t>(b.top.psum_o, 0x7FFFFFFFu, "INT32_MIN - 1 wraps");
    b.step(vec(127, 0x7FFFFFFF));
    c.eq<uint32_t>(b.top.psum_o, 0x8000007Eu, "INT32_MAX + 127 wraps");

    // Swap timing: active = 1. Commit 77 while computing: still 1 until the next first.
    b.step(commit(77));
    b.step(vec(3, 10));
    c.eq<uint32_t>(b.top.psum_o, 13, "commit does not touch active");
    // first and a new commit (-5) in the same cycle: the first uses the old shadow (77).
    PeIn both = vec(2, 0, true); both.wcommit = true; both.wpipe = -5;
    b.step(both);
    c.eq<uint32_t>(b.top.psum_o, 154, "first uses the shadow before this cycle's commit");
    b.step(vec(2, 0));
    c.eq<uint32_t>(b.top.psum_o, 154, "active took the swapped weight");
    b.step(vec(2, 0, true));
    c.eq<int32_t>((int32_t)b.top.psum_o, -10, "second swap takes the committed -5");

    // Weight pipe: shifts only with wshift; commit copies the pipe INPUT, not wpipe_q.
    PeIn sh; sh.wshift = true; sh.wpipe = 42;
    b.step(sh);
    c.eq<int>((int8_t)b.top.wpipe_o, 42, "pipe shifts");
    PeIn hold; hold.wpipe = 9;
    b.step(hold);
    c.eq<int>((int8_t)b.top.wpipe_o, 42, "pipe holds without shift");
    PeIn cm; cm.wcommit = true; cm.wpipe = -99;
    b.step(cm);
    c.eq<int>((int8_t)b.top.wpipe_o, 42, "commit alone leaves the pipe");
    c.eq<int>((int8_t)b.top.rootp->mxu_pe__DOT__shadow_q, -99, "shadow = pipe input");
    b.step(vec(1, 0, true));
    c.eq<int32_t>((int32_t)b.top.psum_o, -99, "swap to -99");

    // Asynchronous reset mid-run clears the weights at once.
    b.reset_async();
    c.eq<int>(b.top.wpipe_o, 0, "async reset wpipe_o");
    c.eq<int>(b.top.first_o, 0, "async reset first_o");
    b.step(vec(100, 1));  // clocked during reset: control registers stay zero
    c.eq<int>(b.top.first_o, 0, "held in reset");
    b.release_reset();
    b.step(vec(100, 1));
    c.eq<uint32_t>(b.top.psum_o, 1, "active zero after reset");
    b.step(vec(100, 1, true));
    c.eq<uint32_t>(b.top.psum_o, 1, "shadow zero after reset");
}

// Tiles as the array feeds one PE: the next tile's weight commits at a random point
// while the current tile computes; every vector must use its own tile's weight.
static void tile_stream(Bench &b, tb::Rng &rng) {
    b.reset_async();
    b.release_reset();
    int8_t cur = 0, next = 0;
    bool staged = false;
    for (int tile = 0; tile < 2000; tile++) {
        int nvec = 1 + (int)rng.below(6);
        int commit_at = (int)rng.below((uint32_t)nvec + 1);  // nvec: after the tile (gap cycle)
        int8_t w = rng.below(8) == 0 ? (rng.below(2) ? 127 : -128) : rng.i8();
        for (int v = 0; v <= nvec; v++) {
            PeIn in;
            bool is_vec = v < nvec;
            if (is_vec) { in.a = rng.i8(); in.psum = rng.u32(); in.first = v == 0 && staged; }
            if (v == commit_at) { in.wcommit = true; in.wpipe = w; }
            in.wshift = rng.below(2); if (!in.wcommit) in.wpipe = rng.i8();
            if (in.first) { cur = next; staged = false; }
            b.step(in);
            if (in.wcommit) { next = w; staged = true; }
            if (is_vec)
                b.chk.eq<uint32_t>(b.top.psum_o, in.psum + (uint32_t)((int32_t)in.a * cur), "tile stream",
                                   tile, v);
            b.compare("tile stream state");
        }
    }
}

// Random inputs in every combination, occasional resets, all against PeRef.
static void random_run(Bench &b, tb::Rng &rng) {
    b.reset_async();
    b.release_reset();
    int reset_left = 0;
    for (int k = 0; k < 200000; k++) {
        if (reset_left == 0 && rng.below(5000) == 0) { b.reset_async(); b.compare("async reset"); reset_left = 1 + (int)rng.below(3); }
        PeIn in;
        uint32_t r = rng.below(16);
        in.a = r == 0 ? -128 : r == 1 ? 127 : r == 2 ? 0 : rng.i8();
        in.psum = rng.below(8) == 0 ? (rng.below(2) ? 0x7FFFFFFFu : 0x80000000u) : rng.u32();
        in.first = rng.below(4) == 0;
        in.wshift = rng.below(2);
        in.wcommit = rng.below(5) == 0;
        in.wpipe = rng.below(10) == 0 ? -128 : rng.i8();
        b.step(in);
        if (reset_left > 0 && --reset_left == 0) b.release_reset();
        b.compare("random");
    }
}

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Rng rng(0x9E5Eu);
    Bench b;
    b.top.clk_i = 0; b.top.rst_ni = 1; b.drive(PeIn()); b.top.eval();
    directed(b);
    tile_stream(b, rng);
    random_run(b, rng);
    b.top.final();
    return b.chk.finish();
}
