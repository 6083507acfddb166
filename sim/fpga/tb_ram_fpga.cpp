// tb_ram_fpga: the FPGA memory (rtl/fpga/mem/mxu_ram.v: block-RAM copies and a
// live value table) against the design's own rtl/mxu_ram.v, both Verilated from
// sim/fpga/ram_configs.v, on the same random stimulus every cycle: writes from
// several ports to a few lines (same-line collisions, where the higher port
// must win), reads of lines written in the same cycle (old content), reads
// with re low (output held). Every read port is compared after every edge.
#include "Vram_fpga.h"
#include "Vram_ref.h"
#include "tb_common.h"

#ifndef TB_NAME
#define TB_NAME "tb_ram_fpga"
#endif

template <typename M> static void drive(M &m, tb::Rng &rng, const uint32_t *v) {
    m.a_we_i = v[0]; m.a_waddr_i = v[1]; m.a_wdata_i = ((uint64_t)v[2] << 24 | v[3]) & 0xFFFFFFFFFFFFull;
    m.a_re_i = v[4]; m.a_raddr_i = v[5];
    m.b_we_i = v[6]; m.b_waddr_i = v[7]; m.b_wdata_i = ((uint64_t)v[8] << 8 | (v[9] & 0xFF)) & 0xFFFFFFFFFFull;
    m.b_re_i = v[10]; m.b_raddr_i = v[11];
    m.c_we_i = v[12]; m.c_waddr_i = v[13]; m.c_wdata_i = v[14]; m.c_re_i = v[15]; m.c_raddr_i = v[16];
    (void)rng;
}

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Checker chk(TB_NAME);
    tb::Rng rng(0x4A3Fu);
    Vram_ref ref;
    Vram_fpga dut;
    bool seen[5] = {false, false, false, false, false};   // a0 a1 b0 b1 c0 read once
    for (int cyc = 0; cyc < 300000; cyc++) {
        // few lines -> frequent collisions; a's depth is 24 of 32 addresses
        auto line = [&](unsigned n) { return rng.below(n); };
        uint32_t v[17];
        v[0] = rng.below(4); v[1] = line(24) | line(24) << 5;
        v[2] = rng.u32() & 0xFFFFFF; v[3] = rng.u32() & 0xFFFFFF;
        v[4] = rng.below(4); v[5] = line(24) | line(24) << 5;
        v[6] = rng.below(2); v[7] = line(16);
        v[8] = rng.u32(); v[9] = rng.u32();
        v[10] = rng.below(4); v[11] = line(16) | line(16) << 4;
        v[12] = rng.below(8); v[13] = line(8) | line(8) << 3 | line(8) << 6;
        v[14] = rng.u32() & 0xFFFFFF; v[15] = rng.below(2); v[16] = line(8);
        if (rng.below(4) == 0) v[13] = (v[13] & 7) * 0x49;   // all three ports on one line
        drive(ref, rng, v);
        drive(dut, rng, v);
        ref.clk_i = dut.clk_i = 0;
        ref.eval(); dut.eval();
        ref.clk_i = dut.clk_i = 1;
        ref.eval(); dut.eval();
        if (v[4] & 1) seen[0] = true;
        if (v[4] & 2) seen[1] = true;
        if (v[10] & 1) seen[2] = true;
        if (v[10] & 2) seen[3] = true;
        if (v[15]) seen[4] = true;
        if (seen[0]) chk.eq(dut.a_rdata_o & 0xFFFFFF, ref.a_rdata_o & 0xFFFFFF, "a port 0", cyc, 0);
        if (seen[1]) chk.eq(dut.a_rdata_o >> 24, ref.a_rdata_o >> 24, "a port 1", cyc, 0);
        for (int p = 0; p < 2; p++)
            if (seen[2 + p])
                for (int b = 0; b < 5; b++)
                    chk.eq(tb::get8(dut.b_rdata_o, 5 * p + b), tb::get8(ref.b_rdata_o, 5 * p + b), "b port", cyc, p);
        if (seen[4]) chk.eq(dut.c_rdata_o, ref.c_rdata_o, "c port 0", cyc, 0);
    }
    return chk.finish();
}
