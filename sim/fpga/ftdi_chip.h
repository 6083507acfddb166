// A behavioural FT232H / FT2232H channel in synchronous 245 FIFO mode, as the
// FPGA sees it on its pins, one CLKOUT cycle at a time (FT232H datasheet,
// "FT245 Synchronous FIFO Interface Mode"):
//   - RXF# low: the chip holds bytes from the host; while OE# is low it drives
//     the oldest one on D. At a rising edge with RD# and RXF# low that byte is
//     taken and the next one follows (RXF# rises after the last one).
//   - TXE# low: the chip's transmit buffer has room. At a rising edge with WR#
//     and TXE# low the byte on D is taken.
//   - RXF# / TXE# also rise for a few cycles between USB packets (gaps), and
//     TXE# stays high while the host has not drained the transmit buffer.
// It checks the FPGA side's handshake at every edge:
//   - OE# low at least one clock before RD# goes low, and while RD# is low;
//   - RD# and WR# never low together; no WR# while OE# is low;
//   - the FPGA drives D only when the chip does not: not while OE# is low and
//     not in the cycle after OE# was low (bus turnaround); it drives D whenever
//     WR# is low;
//   - SIWU# only while WR# is high.
#ifndef MXU_SIM_FPGA_FTDI_CHIP_H
#define MXU_SIM_FPGA_FTDI_CHIP_H

#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "tb_common.h"

namespace tb {

struct FtdiPins {      // what the FPGA drives during a cycle (its registers)
    bool rd_n, wr_n, oe_n, siwu_n, data_oe;
    uint8_t data;
};

class FtdiChip {
public:
    // behaviour knobs (per test phase)
    unsigned rx_gap_pct = 0;      // chance per cycle that RXF# rises for a gap
    unsigned tx_gap_pct = 0;      // chance per cycle that TXE# rises for a gap
    unsigned tx_capacity = 1024;  // transmit buffer (FT232H: 1 KiB)
    unsigned drain_per_16 = 16;   // bytes per 16 cycles the host drains (USB: ~0.7/cycle)

    // host side
    std::deque<uint8_t> to_device;   // bytes the host sent, not yet read by the FPGA
    std::vector<uint8_t> to_host;    // bytes the FPGA wrote, in order

    // outputs during the current cycle
    bool rxf_n = true, txe_n = true;

    // accounting
    uint64_t read_bytes = 0, written_bytes = 0, siwu_pulses = 0, violations = 0;
    uint64_t edges = 0, last_write_edge = 0, last_siwu_edge = 0;

    explicit FtdiChip(uint64_t seed) : rng_(seed) {}

    // The value on D during this cycle.
    uint8_t bus(const FtdiPins &p) {
        bool chip = !p.oe_n && !to_device.empty();
        if (chip) return to_device.front();
        if (p.data_oe) return p.data;
        return (uint8_t)rng_.u32();   // floating bus: garbage
    }

    // A rising edge with the pins the FPGA drove during the cycle before it.
    void edge(const FtdiPins &p) {
        edges++;
        check(p);
        if (!p.rd_n && !rxf_n) {          // a byte read by the FPGA
            to_device.pop_front();
            read_bytes++;
        }
        if (!p.wr_n && !txe_n) {          // a byte written by the FPGA
            to_host.push_back(p.data);
            tx_fill_++;
            written_bytes++;
            last_write_edge = edges;
        }
        if (!p.siwu_n) {
            siwu_pulses++;
            last_siwu_edge = edges;
        }
        // the host drains the transmit buffer at its own pace
        drain_acc_ += drain_per_16;
        while (drain_acc_ >= 16 && tx_fill_ > 0) { tx_fill_--; drain_acc_ -= 16; }
        if (tx_fill_ == 0) drain_acc_ = 0;
        // outputs after the edge
        if (rx_gap_ == 0 && rx_gap_pct && rng_.below(100) < rx_gap_pct) rx_gap_ = 1 + rng_.below(6);
        if (tx_gap_ == 0 && tx_gap_pct && rng_.below(100) < tx_gap_pct) tx_gap_ = 1 + rng_.below(6);
        rxf_n = to_device.empty() || rx_gap_ > 0;
        txe_n = tx_fill_ >= tx_capacity || tx_gap_ > 0;
        if (rx_gap_) rx_gap_--;
        if (tx_gap_) tx_gap_--;
        prev_ = p;
        have_prev_ = true;
    }

    void send(const std::vector<uint8_t> &bytes) { to_device.insert(to_device.end(), bytes.begin(), bytes.end()); }
    const std::string &first_violation() const { return first_; }

private:
    Rng rng_;
    FtdiPins prev_{true, true, true, true, false, 0};
    bool have_prev_ = false;
    unsigned rx_gap_ = 0, tx_gap_ = 0, tx_fill_ = 0, drain_acc_ = 0;
    std::string first_;

    void violate(const char *what) {
        if (violations++ == 0) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "edge %llu: %s", (unsigned long long)edges, what);
            first_ = buf;
            std::fprintf(stderr, "ftdi: %s\n", buf);
        }
    }

    void check(const FtdiPins &p) {
        if (!p.rd_n && p.oe_n) violate("RD# low while OE# is high");
        if (!p.rd_n && prev_.rd_n && prev_.oe_n) violate("RD# fell without OE# low one clock before");
        if (!p.rd_n && !p.wr_n) violate("RD# and WR# low together");
        if (!p.wr_n && !p.oe_n) violate("WR# low while OE# is low (the chip drives D)");
        if (p.data_oe && !p.oe_n) violate("FPGA drives D while OE# is low");
        if (p.data_oe && have_prev_ && !prev_.oe_n) violate("FPGA drives D in the turnaround cycle after OE#");
        if (!p.wr_n && !p.data_oe) violate("WR# low without the FPGA driving D");
        if (!p.siwu_n && !p.wr_n) violate("SIWU# low while WR# is low");
    }
};

}  // namespace tb

#endif
