// tb_dma_load: the LOAD unit against the walk of docs/isa.md: random 3-D patterns
// with 2-D padding, unaligned and overlapping elements, every destination memory,
// a DRAM with fixed latency and random request back-pressure. Checks every line
// written (content, order-independent), completion tokens and token waits.
#include <map>
#include <vector>

#include "Vmxu_dma_load.h"
#include "tb_common.h"

#ifndef TB_NAME
#define TB_NAME "tb_dma_load"
#endif
#ifndef BEAT
#define BEAT 16
#endif
static const int LINE_MAX = 256;
static const uint32_t DRAM = 1 << 16;
static const int LINE_BYTES[4] = {16, 16, 192, 256};  // UB, WB, PARAM (16 cols), LUT

struct Insn {
    int mem, elem, pad, n0, n1, n2, pl, pr, pt, pb, push, pop;
    uint32_t addr, s0, s1, s2, dst;
};

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Checker chk(TB_NAME);
    tb::Rng rng(0xD4A1u);
    Vmxu_dma_load top;
    std::vector<uint8_t> dram(DRAM);
    for (auto &b : dram) b = (uint8_t)rng.u32();

    top.rst_ni = 1; top.eval(); top.rst_ni = 0; top.clk_i = 0; top.insn_valid_i = 0; top.tok_avail_i = 0; top.rsp_valid_i = 0;
    top.rd_ready_i = 0; top.eval(); top.rst_ni = 1; top.eval();

    const int latency = 1 + (int)rng.below(12);
    std::vector<std::pair<long, uint32_t>> inflight;  // (due cycle, beat address)
    long cyc = 0;
    int tokens = 0;  // compute->load tokens available to the unit

    for (int n = 0; n < 300; n++) {
        Insn I;
        I.mem = (int)rng.below(4);
        int lb = LINE_BYTES[I.mem];
        I.elem = 1 + (int)rng.below(lb);
        if (rng.below(3) == 0) I.elem = lb;
        I.pad = (int)rng.below(256);
        I.n0 = 1 + (int)rng.below(I.mem == 3 ? 1 : 6);
        I.n1 = 1 + (int)rng.below(I.mem == 3 ? 1 : 4);
        I.n2 = 1 + (int)rng.below(I.mem >= 2 ? 1 : 3);
        bool padded = I.mem < 2 && rng.below(2);
        I.pl = padded ? (int)rng.below(3) : 0; I.pr = padded ? (int)rng.below(3) : 0;
        I.pt = padded ? (int)rng.below(2) : 0; I.pb = padded ? (int)rng.below(2) : 0;
        I.s0 = rng.below(4) == 0 ? (uint32_t)rng.below(8) : (uint32_t)I.elem + rng.below(40);
        I.s1 = I.s0 * I.n0 + rng.below(100);
        I.s2 = I.s1 * I.n1 + rng.below(500);
        uint32_t span = (I.n2 - 1) * I.s2 + (I.n1 - 1) * I.s1 + (I.n0 - 1) * I.s0 + I.elem;
        I.addr = rng.below(DRAM - span);
        if (rng.below(4) == 0) I.addr &= ~(uint32_t)(BEAT - 1);
        int lines = I.n2 * (I.pt + I.n1 + I.pb) * (I.pl + I.n0 + I.pr);
        int mem_lines = I.mem == 3 ? 1 : I.mem == 2 ? 64 : 4096;
        I.dst = rng.below(mem_lines - lines + 1);
        I.push = (int)rng.below(2); I.pop = (int)rng.below(2);

        std::map<uint32_t, std::vector<uint8_t>> want;
        uint32_t line = I.dst;
        for (int p = 0; p < I.n2; p++)
            for (int r = -I.pt; r < I.n1 + I.pb; r++)
                for (int e = -I.pl; e < I.n0 + I.pr; e++, line++) {
                    std::vector<uint8_t> v(lb, (uint8_t)I.pad);
                    if (r >= 0 && r < I.n1 && e >= 0 && e < I.n0) {
                        uint32_t src = I.addr + p * I.s2 + r * I.s1 + e * I.s0;
                        for (int b = 0; b < I.elem; b++) v[b] = dram[src + b];
                    }
                    want[line] = v;
                }

        uint64_t w[4] = {0, 0, 0, 0};
        w[0] = 1 | (uint64_t)I.pop << 5 | (uint64_t)I.push << 7 | (uint64_t)I.mem << 8 | (uint64_t)I.elem << 16 |
               (uint64_t)I.addr << 32;
        w[1] = (uint64_t)I.dst | (uint64_t)I.pad << 24 | (uint64_t)I.n0 << 32 | (uint64_t)I.n1 << 48;
        w[2] = (uint64_t)I.n2 | (uint64_t)I.pl << 16 | (uint64_t)I.pr << 24 | (uint64_t)I.pt << 32 |
               (uint64_t)I.pb << 40 | (uint64_t)I.s0 << 48;
        w[3] = (uint64_t)I.s1 | (uint64_t)I.s2 << 32;
        for (int k = 0; k < 4; k++) { top.insn_i[2 * k] = (uint32_t)w[k]; top.insn_i[2 * k + 1] = (uint32_t)(w[k] >> 32); }

        // A token arrives a few cycles late when the instruction needs one.
        int token_at = I.pop ? (int)rng.below(8) : -1;
        bool accepted = false, done = false;
        int pushes = 0, early = 0;
        std::map<uint32_t, std::vector<uint8_t>> got;
        for (int k = 0; k < 100000 && !done; k++, cyc++) {
            if (k == token_at) tokens++;
            top.tok_avail_i = tokens > 0;
            top.insn_valid_i = !accepted;
            top.rd_ready_i = rng.below(4) != 0;
            // DRAM response due this cycle.
            top.rsp_valid_i = 0;
            if (!inflight.empty() && inflight.front().first == cyc) {
                top.rsp_valid_i = 1;
                for (int b = 0; b < BEAT; b++) tb::put8(top.rsp_data_i, b, dram[inflight.front().second + b]);
                inflight.erase(inflight.begin());
            }
            top.eval();
            if (top.insn_ready_o) {
                accepted = true;
                if (I.pop) { if (tokens == 0) early++; tokens -= top.tok_pop_o; }
                chk.eq<int>(top.tok_pop_o, I.pop, "pop", n);
            }
            if (top.rd_valid_o && top.rd_ready_i) {
                chk.eq<uint32_t>(top.rd_addr_o % BEAT, 0, "beat aligned", n);
                inflight.push_back({cyc + latency, top.rd_addr_o});
            }
            if (top.we_o) {
                std::vector<uint8_t> v(lb);
                for (int b = 0; b < lb; b++) v[b] = tb::get8(top.wdata_o, b);
                chk.eq<int>(top.wmem_o, I.mem, "mem", n);
                got[top.wline_o] = v;
            }
            if (top.tok_push_o) pushes++;
            if (top.done_o) done = true;
            top.clk_i = 1; top.eval(); top.clk_i = 0; top.eval();
        }
        chk.eq<int>(done, 1, "done", n);
        chk.eq<int>(early, 0, "started without token", n);
        chk.eq<int>(pushes, I.push, "push", n);
        chk.eq<size_t>(got.size(), want.size(), "lines", n);
        for (auto &kv : want) {
            auto it = got.find(kv.first);
            if (!chk.eq<int>(it != got.end(), 1, "line present", n, kv.first)) continue;
            for (int b = 0; b < lb; b++) chk.eq<int>(it->second[b], kv.second[b], "byte", kv.first, b);
        }
    }
    // Drain and check the unit is idle with every credit back.
    for (int k = 0; k < 50; k++, cyc++) {
        top.insn_valid_i = 0; top.rsp_valid_i = 0;
        if (!inflight.empty() && inflight.front().first == cyc) {
            top.rsp_valid_i = 1; inflight.erase(inflight.begin());
        }
        top.clk_i = 1; top.eval(); top.clk_i = 0; top.eval();
    }
    chk.eq<int>(top.idle_o, 1, "idle at the end");
    top.final();
    return chk.finish();
}
