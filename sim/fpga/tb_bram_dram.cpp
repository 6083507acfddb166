// tb_bram_dram: the block-RAM device memory (rtl/fpga/bram_dram.v, latency 1 and
// 2) against the simulators' DRAM model (sim/verilator/dram_model.c with the
// same latency and bw = beat), edge by edge on random traffic: reads and writes
// with random strobes over a small memory (so reads hit fresh writes), bursts
// and idle cycles, misaligned and out-of-range addresses. After every edge both
// must agree on ready, response valid and response data; the fault flags agree
// at the end, and a final sweep reads every beat back.
#include <cstring>

#include "Vbram_dram_pair.h"
#include "tb_common.h"
extern "C" {
#include "dram_model.h"
}

#ifndef TB_NAME
#define TB_NAME "tb_bram_dram"
#endif
static const unsigned BEAT = 16, BYTES = 4096;   // the bench's -G parameters

struct Bench {
    Vbram_dram_pair top;
    mxu_dram ref[2];
    tb::Checker &chk;
    tb::Rng rng{0xB4A3u};
    uint64_t edges = 0;

    explicit Bench(tb::Checker &c) : chk(c) {
        char msg[128];
        for (int i = 0; i < 2; i++)
            if (mxu_dram_init(&ref[i], BYTES, BEAT, (uint32_t)i + 1, BEAT, msg, sizeof msg)) {
                std::fprintf(stderr, "%s: %s\n", TB_NAME, msg);
                std::exit(1);
            }
        top.clk_i = 0; top.rst_ni = 0; top.req_valid_i = 0;
        top.eval();
        top.clk_i = 1; top.eval(); top.clk_i = 0; top.eval();
        top.rst_ni = 1; top.eval();
    }
    ~Bench() { for (auto &r : ref) mxu_dram_free(&r); }

    // One edge with the request (valid, write, addr, data, strb); compare after it.
    void edge(bool valid, bool write, uint32_t addr, const uint8_t *data, uint32_t strb) {
        top.req_valid_i = valid;
        top.req_write_i = write;
        top.req_addr_i = addr;
        for (unsigned b = 0; b < BEAT; b++) tb::put8(top.req_wdata_i, b, data[b]);
        top.req_wstrb_i = strb;
        top.clk_i = 0;
        top.eval();
        for (int i = 0; i < 2; i++) chk.eq((int)((top.req_ready_o >> i) & 1), ref[i].ready, "ready", i, (long)edges);
        top.clk_i = 1;
        top.eval();
        for (int i = 0; i < 2; i++) mxu_dram_edge(&ref[i], valid, write, addr, data, strb);
        edges++;
        for (int i = 0; i < 2; i++) {
            int v = (top.rsp_valid_o >> i) & 1;
            chk.eq(v, ref[i].rsp_valid, "rsp_valid", i, (long)edges);
            if (v && ref[i].rsp_valid)
                for (unsigned b = 0; b < BEAT; b++) {
                    uint8_t got = i ? tb::get8(top.rsp2_rdata_o, b) : tb::get8(top.rsp1_rdata_o, b);
                    chk.eq(got, ref[i].rsp_data[b], "rsp byte", i, (long)b);
                }
        }
    }

    void random_traffic(unsigned n) {
        uint8_t data[BEAT];
        for (unsigned k = 0; k < n; k++) {
            bool valid = rng.below(100) < 70;
            bool write = rng.below(100) < 45;
            uint32_t addr = rng.below(BYTES / BEAT) * BEAT;
            unsigned r = rng.below(100);
            if (r < 3) addr += 1 + rng.below(BEAT - 1);          // misaligned
            else if (r < 6) addr = BYTES + rng.below(1u << 20) * BEAT;  // beyond the memory
            for (auto &d : data) d = (uint8_t)rng.u32();
            uint32_t strb = rng.below(4) ? rng.u32() & 0xFFFFu : 0xFFFFu;
            edge(valid, write, addr, data, strb);
        }
    }
};

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Checker chk(TB_NAME);
    {
        Bench b(chk);
        b.random_traffic(200000);
        uint8_t zero[BEAT] = {0};
        for (int i = 0; i < 4; i++) b.edge(false, false, 0, zero, 0);
        for (int i = 0; i < 2; i++) chk.eq((int)((b.top.fault_o >> i) & 1), b.ref[i].fault, "fault flag", i, 0);
        // read every beat back, back to back
        for (uint32_t a = 0; a < BYTES; a += BEAT) b.edge(true, false, a, zero, 0);
        for (int i = 0; i < 4; i++) b.edge(false, false, 0, zero, 0);
    }
    return chk.finish();
}
