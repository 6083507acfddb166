// tb_fpga_system: the whole board design (rtl/fpga/mxu_fpga_system.v: FT245 PHY,
// clock crossings, link engine, a 4x4 accelerator, block-RAM device memory,
// LEDs) with the behavioural FTDI chip of ftdi_chip.h on its pins, the chip's
// 60 MHz clock and an unrelated core clock. The host side is libmxu's own link
// client (driver/link_client.c) over a transport that feeds the chip model, so
// the bytes are exactly those a real FT232H would carry.
//   1. loopback switch on: random bytes come back unchanged;
//   2. link: INFO, the configuration CSRs, a memory write/read round trip;
//   3. a one-instruction program (FINISH) runs: STATUS done, LED done;
//   4. a bad instruction: STATUS error, ERR_CODE set, LED error;
//   5. a read outside device memory: MXU_ERR_RANGE, LED link error;
//   and no FTDI handshake violation anywhere.
#include <cstring>
#include <vector>

#include "Vmxu_fpga_system.h"
#include "ftdi_chip.h"
#include "tb_common.h"
extern "C" {
#include "mxu_error.h"
#include "mxu_isa.h"
#include "mxu_link.h"
}

#ifndef TB_NAME
#define TB_NAME "tb_fpga_system"
#endif
static const uint64_t FT_PS = 16667, CORE_PS = 9973;   // 60 MHz and ~100 MHz, unrelated
static const uint32_t DRAM_BYTES = 65536;              // the bench's -GDRAM_BYTES
static const uint64_t CYCLES_PER_MS = 2000;            // link timeouts in simulated ft cycles

struct System {
    Vmxu_fpga_system top;
    tb::FtdiChip chip{0x5157u};
    uint64_t now = 0, next_ft = 0, next_core = 0, ft_edges = 0;
    bool ft_high = false, core_high = false;
    size_t host_read = 0;   // bytes of chip.to_host already handed to the host
    uint64_t heartbeats = 0; // heartbeat LED changes
    bool busy_seen = false;
    int heart_prev = 0;

    System() {
        top.rst_ni = 0; top.clk_i = 0; top.ft_clk_i = 0; top.loopback_i = 0;
        top.ft_rxf_ni = 1; top.ft_txe_ni = 1; top.ft_data_i = 0;
        top.eval();
        for (int i = 0; i < 40; i++) step();
        top.rst_ni = 1;
        for (int i = 0; i < 40; i++) step();
    }

    tb::FtdiPins pins() const {
        return {top.ft_rd_no != 0, top.ft_wr_no != 0, top.ft_oe_no != 0, top.ft_siwu_no != 0,
                top.ft_data_oe_o != 0, (uint8_t)top.ft_data_o};
    }

    // Advance to the next edge of either clock. The chip sees each rising edge of
    // its clock with the pins of the cycle before; its outputs change after it.
    void step() {
        uint64_t t = next_ft < next_core ? next_ft : next_core;
        now = t;
        bool ft_edge = next_ft == t, core_edge = next_core == t;
        tb::FtdiPins p = pins();
        bool ft_rise = ft_edge && !ft_high;
        if (ft_rise && top.rst_ni) chip.edge(p);
        if (ft_edge) { ft_high = !ft_high; top.ft_clk_i = ft_high; next_ft = t + FT_PS / 2; }
        if (core_edge) { core_high = !core_high; top.clk_i = core_high; next_core = t + CORE_PS / 2; }
        top.eval();
        if (core_edge && top.rst_ni) {
            int h = top.led_o & 1;
            if (h != heart_prev) heartbeats++;
            heart_prev = h;
            if (top.led_o & 2) busy_seen = true;
        }
        if (ft_rise) {
            ft_edges++;
            top.ft_rxf_ni = chip.rxf_n;
            top.ft_txe_ni = chip.txe_n;
            top.ft_data_i = chip.bus(pins());
            top.eval();
        }
    }

    void run_ft(uint64_t n) { uint64_t end = ft_edges + n; while (ft_edges < end) step(); }
    size_t pending() const { return chip.to_host.size() - host_read; }
};

// ---- the link client's transport: the chip model's host side ----------------------
static int io_send(void *ctx, const uint8_t *buf, size_t len, int timeout_ms) {
    (void)timeout_ms;
    auto *s = static_cast<System *>(ctx);
    s->chip.send(std::vector<uint8_t>(buf, buf + len));
    return 0;
}

static int io_recv(void *ctx, uint8_t *buf, size_t cap, size_t *got, int timeout_ms) {
    auto *s = static_cast<System *>(ctx);
    uint64_t end = s->ft_edges + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1) * CYCLES_PER_MS;
    while (s->pending() == 0 && s->ft_edges < end) s->step();
    if (s->pending() == 0) { *got = 0; return MXU_ERR_TIMEOUT; }
    size_t n = s->pending() < cap ? s->pending() : cap;
    std::memcpy(buf, s->chip.to_host.data() + s->host_read, n);
    s->host_read += n;
    *got = n;
    return 0;
}

static int led(const System &s, int i) { return (s.top.led_o >> i) & 1; }

static uint32_t run_program(System &s, tb::Checker &chk, mxu_link *l, const uint8_t *insn, uint32_t addr) {
    chk.eq(mxu_link_mem_write(l, addr, insn, 32), 0, "write program", 0, 0);
    chk.eq(mxu_link_csr_write(l, MXU_CSR_CMD_BASE, addr), 0, "CMD_BASE", 0, 0);
    chk.eq(mxu_link_csr_write(l, MXU_CSR_CMD_COUNT, 1), 0, "CMD_COUNT", 0, 0);
    chk.eq(mxu_link_csr_write(l, MXU_CSR_CTRL, 1), 0, "CTRL start", 0, 0);
    uint32_t st = 0;
    for (int i = 0; i < 50; i++) {
        chk.eq(mxu_link_csr_read(l, MXU_CSR_STATUS, &st), 0, "STATUS read", i, 0);
        if (st & MXU_STATUS_DONE) break;
        s.run_ft(200);
    }
    s.run_ft(100);   // let the LEDs follow
    return st;
}

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Checker chk(TB_NAME);
    tb::Rng rng(0x5E57u);
    System s;
    s.chip.rx_gap_pct = 2; s.chip.tx_gap_pct = 2;

    // 1. loopback
    s.top.loopback_i = 1;
    s.run_ft(20);
    std::vector<uint8_t> bytes(3000);
    for (auto &b : bytes) b = (uint8_t)rng.u32();
    s.chip.send(bytes);
    uint64_t start = s.ft_edges;
    while (s.pending() < bytes.size() && s.ft_edges - start < 100000) s.step();
    chk.eq((uint64_t)s.pending(), (uint64_t)bytes.size(), "loopback bytes", 0, 0);
    for (size_t i = 0; i < bytes.size() && i < s.pending(); i++)
        chk.eq(s.chip.to_host[s.host_read + i], bytes[i], "loopback byte", (long)i, 0);
    chk.eq(led(s, 7), 1, "loopback LED", 0, 0);
    std::printf("%s: loopback %zu bytes in %llu ft cycles\n", TB_NAME, bytes.size(),
                (unsigned long long)(s.ft_edges - start));
    s.host_read = s.chip.to_host.size();
    s.top.loopback_i = 0;
    s.run_ft(20);
    chk.eq(led(s, 7), 0, "loopback LED off", 0, 0);

    // 2. the link
    mxu_link_io io = {&s, io_send, io_recv};
    mxu_link *l = nullptr;
    int rc = mxu_link_open(&io, &l);
    chk.eq(rc, 0, "link open", 0, 0);
    if (rc) {
        std::fprintf(stderr, "%s: %s\n", TB_NAME, mxu_error_detail());
        return chk.finish();
    }
    mxu_link_set_timeout(l, 50);
    uint32_t v = 0;
    chk.eq(mxu_link_csr_read(l, MXU_CSR_ID, &v), 0, "ID read", 0, 0);
    chk.eq(v, 0x4D585530u, "ID", 0, 0);
    chk.eq(mxu_link_csr_read(l, MXU_CSR_ROWS, &v), 0, "ROWS read", 0, 0);
    chk.eq(v, 4u, "ROWS", 0, 0);
    chk.eq(mxu_link_csr_read(l, MXU_CSR_DRAM_BYTES, &v), 0, "DRAM_BYTES read", 0, 0);
    chk.eq(v, DRAM_BYTES, "DRAM_BYTES", 0, 0);

    std::vector<uint8_t> data(5000), back(5000);
    for (auto &b : data) b = (uint8_t)rng.u32();
    uint64_t t0 = s.ft_edges;
    chk.eq(mxu_link_mem_write(l, 1001, data.data(), data.size()), 0, "mem write", 0, 0);
    chk.eq(mxu_link_mem_read(l, 1001, back.data(), back.size()), 0, "mem read", 0, 0);
    for (size_t i = 0; i < data.size(); i++) chk.eq(back[i], data[i], "memory byte", (long)i, 0);
    std::printf("%s: 5000-byte write + read back in %llu ft cycles\n", TB_NAME,
                (unsigned long long)(s.ft_edges - t0));

    // 3. FINISH only: done, no error
    uint8_t insn[32] = {0};
    insn[0] = MXU_OP_FINISH;
    uint32_t st = run_program(s, chk, l, insn, 0x8000);
    chk.eq(st & (MXU_STATUS_DONE | MXU_STATUS_ERROR | MXU_STATUS_BUSY), (uint32_t)MXU_STATUS_DONE, "FINISH status", 0, 0);
    chk.eq(led(s, 2), 1, "done LED", 0, 0);
    chk.eq(led(s, 3), 0, "error LED off", 0, 0);

    // 4. an invalid opcode: error
    insn[0] = 0;
    st = run_program(s, chk, l, insn, 0x8020);
    chk.eq(st & (MXU_STATUS_DONE | MXU_STATUS_ERROR), (uint32_t)(MXU_STATUS_DONE | MXU_STATUS_ERROR), "bad-opcode status", 0, 0);
    chk.eq(mxu_link_csr_read(l, MXU_CSR_ERR_CODE, &v), 0, "ERR_CODE read", 0, 0);
    chk.eq(v != 0, true, "ERR_CODE set", (long)v, 0);
    chk.eq(led(s, 3), 1, "error LED", 0, 0);

    // 5. outside device memory
    chk.eq(led(s, 4), 0, "link error LED off", 0, 0);
    chk.eq(mxu_link_mem_read(l, DRAM_BYTES, back.data(), 16), (int)MXU_ERR_RANGE, "read beyond DRAM", 0, 0);
    s.run_ft(50);
    chk.eq(led(s, 4), 1, "link error LED", 0, 0);
    chk.eq(s.heartbeats >= 2, true, "heartbeat blinks", (long)s.heartbeats, 0);
    chk.eq(s.busy_seen, true, "busy LED lit during a run", 0, 0);
    mxu_link_close(l);

    chk.eq(s.chip.violations, (uint64_t)0, "FTDI handshake violations", 0, 0);
    if (s.chip.violations) std::fprintf(stderr, "first: %s\n", s.chip.first_violation().c_str());
    return chk.finish();
}
