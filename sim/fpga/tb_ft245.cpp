// tb_ft245: the FT245 synchronous FIFO PHY (rtl/fpga/ft245_sync_fifo.v) against
// the behavioural FTDI chip of ftdi_chip.h, which checks the datasheet's
// handshake at every edge. Phases:
//   1. host -> FPGA streaming, no gaps, sink always ready: >= 0.9 byte/cycle;
//   2. FPGA -> host streaming, fast host: >= 0.9 byte/cycle;
//   3. both directions at once with USB packet gaps, a small chip buffer, random
//      valid/ready on the FPGA side: every byte in order, both directions move;
//   4. a short response: SIWU# follows the last byte after FLUSH_IDLE cycles.
#include <vector>

#include "Vft245_sync_fifo.h"
#include "ftdi_chip.h"
#include "tb_common.h"

#ifndef TB_NAME
#define TB_NAME "tb_ft245"
#endif
static const unsigned FLUSH_IDLE = 32;   // the bench's -GFLUSH_IDLE

struct Bench {
    Vft245_sync_fifo top;
    tb::FtdiChip chip{0xF7D1u};
    tb::Rng rng{0x245u};
    tb::Checker &chk;
    std::vector<uint8_t> host_sent, fpga_got;   // host -> FPGA
    std::vector<uint8_t> fpga_sent;             // FPGA -> host (chip.to_host gets them)
    unsigned p_ready = 100, p_valid = 100;      // percent
    uint64_t tx_fires = 0, rx_fires = 0;

    explicit Bench(tb::Checker &c) : chk(c) {
        top.clk_i = 0; top.rst_ni = 0; top.rx_ready_i = 0; top.tx_valid_i = 0; top.tx_data_i = 0;
        top.ft_rxf_ni = 1; top.ft_txe_ni = 1; top.ft_data_i = 0;
        top.eval();
        for (int i = 0; i < 3; i++) cycle();
        top.rst_ni = 1;
    }

    tb::FtdiPins pins() const {
        return {top.ft_rd_no != 0, top.ft_wr_no != 0, top.ft_oe_no != 0, top.ft_siwu_no != 0,
                top.ft_data_oe_o != 0, (uint8_t)top.ft_data_o};
    }

    void host_send(size_t n) {
        std::vector<uint8_t> b(n);
        for (auto &x : b) x = (uint8_t)rng.u32();
        host_sent.insert(host_sent.end(), b.begin(), b.end());
        chip.send(b);
    }

    // One CLKOUT cycle: inputs, settle, sample handshakes and pins, rising edge.
    void cycle() {
        tb::FtdiPins p = pins();
        top.ft_rxf_ni = chip.rxf_n;
        top.ft_txe_ni = chip.txe_n;
        top.ft_data_i = chip.bus(p);
        top.rx_ready_i = rng.below(100) < p_ready;
        if (!top.tx_valid_i && rng.below(100) < p_valid && tx_budget > 0) {
            top.tx_valid_i = 1;
            top.tx_data_i = (uint8_t)rng.u32();
        }
        top.clk_i = 0;
        top.eval();
        if (top.rst_ni && top.rx_valid_o && top.rx_ready_i) {
            fpga_got.push_back((uint8_t)top.rx_data_o);
            rx_fires++;
        }
        bool tx_fire = top.rst_ni && top.tx_valid_i && top.tx_ready_o;
        if (top.rst_ni) chip.edge(p);
        top.clk_i = 1;
        top.eval();
        if (tx_fire) {
            fpga_sent.push_back((uint8_t)top.tx_data_i);
            top.tx_valid_i = 0;
            tx_budget--;
            tx_fires++;
        }
    }

    uint64_t tx_budget = 0;   // bytes the FPGA side may still offer

    void run(uint64_t n) { for (uint64_t i = 0; i < n; i++) cycle(); }

    // Both directions complete: every byte in order.
    void check_streams(const char *phase) {
        chk.eq((uint64_t)fpga_got.size(), (uint64_t)host_sent.size(), phase, 0, 0);
        for (size_t i = 0; i < fpga_got.size() && i < host_sent.size(); i++)
            chk.eq(fpga_got[i], host_sent[i], "host->fpga byte", (long)i, 0);
        chk.eq((uint64_t)chip.to_host.size(), (uint64_t)fpga_sent.size(), phase, 1, 0);
        for (size_t i = 0; i < chip.to_host.size() && i < fpga_sent.size(); i++)
            chk.eq(chip.to_host[i], fpga_sent[i], "fpga->host byte", (long)i, 0);
    }
};

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Checker chk(TB_NAME);
    Bench b(chk);

    // 1. host -> FPGA at full speed
    b.host_send(20000);
    uint64_t start = b.chip.edges;
    while (!b.chip.to_device.empty() && b.chip.edges - start < 100000) b.cycle();
    double rate = 20000.0 / (double)(b.chip.edges - start);
    b.run(20);
    chk.eq(rate >= 0.9, true, "host->fpga rate >= 0.9 byte/cycle", (long)(rate * 1000), 0);
    std::printf("%s: host->fpga %.3f byte/cycle\n", TB_NAME, rate);

    // 2. FPGA -> host at full speed
    b.tx_budget = 20000;
    start = b.chip.edges;
    while (b.tx_budget > 0 && b.chip.edges - start < 100000) b.cycle();
    b.run(50);
    rate = 20000.0 / (double)(b.chip.edges - start);
    chk.eq(rate >= 0.9, true, "fpga->host rate >= 0.9 byte/cycle", (long)(rate * 1000), 0);
    std::printf("%s: fpga->host %.3f byte/cycle\n", TB_NAME, rate);
    b.check_streams("streaming");

    // 3. both at once, packet gaps, a small and slow host buffer, random FPGA side
    b.chip.rx_gap_pct = 3; b.chip.tx_gap_pct = 3; b.chip.tx_capacity = 64; b.chip.drain_per_16 = 9;
    b.p_ready = 60; b.p_valid = 70;
    uint64_t rx0 = b.rx_fires, tx0 = b.tx_fires;
    b.tx_budget = 30000;
    b.host_send(30000);
    start = b.chip.edges;
    uint64_t half_rx = 0, half_tx = 0;
    while ((b.tx_budget > 0 || !b.chip.to_device.empty()) && b.chip.edges - start < 400000) {
        b.cycle();
        if (b.chip.edges - start == 20000) { half_rx = b.rx_fires - rx0; half_tx = b.tx_fires - tx0; }
    }
    b.p_ready = 100;
    b.run(200);
    // Neither direction starves the other while both have work.
    chk.eq(half_rx > 3000 && half_tx > 3000, true, "both directions move", (long)half_rx, (long)half_tx);
    std::printf("%s: mixed, first 20000 cycles: %llu bytes in, %llu out\n", TB_NAME,
                (unsigned long long)half_rx, (unsigned long long)half_tx);
    b.check_streams("mixed");

    // 4. a short response gets SIWU# after FLUSH_IDLE idle cycles
    b.chip.rx_gap_pct = 0; b.chip.tx_gap_pct = 0; b.chip.tx_capacity = 1024; b.chip.drain_per_16 = 16;
    b.p_valid = 100;
    b.run(100);
    uint64_t pulses = b.chip.siwu_pulses;
    b.tx_budget = 7;
    b.run(FLUSH_IDLE + 40);
    chk.eq(b.chip.siwu_pulses, pulses + 1, "one SIWU# after a response", 0, 0);
    uint64_t delay = b.chip.last_siwu_edge - b.chip.last_write_edge;
    chk.eq(delay >= FLUSH_IDLE && delay <= FLUSH_IDLE + 4, true, "SIWU# delay", (long)delay, 0);
    b.run(200);
    chk.eq(b.chip.siwu_pulses, pulses + 1, "no SIWU# while idle", 0, 0);
    b.check_streams("flush");

    chk.eq(b.chip.violations, (uint64_t)0, "handshake violations", 0, 0);
    if (b.chip.violations) std::fprintf(stderr, "first: %s\n", b.chip.first_violation().c_str());
    std::printf("%s: host->fpga %zu bytes, fpga->host %zu bytes, %llu SIWU#\n", TB_NAME, b.fpga_got.size(),
                b.chip.to_host.size(), (unsigned long long)b.chip.siwu_pulses);
    return chk.finish();
}
