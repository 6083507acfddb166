// tb_act: the ACTIVATE engine against hostlib's mxu_activate_rounding() (libmxu) on
// random instructions: random and extreme accumulators, biases, multipliers and shifts
// (rounding ties, |shift| > 31, INT32_MIN), clamps, LUT on/off, both tie roundings
// (round_half_up) and max-pooling.
// It also checks that the engine waits for earlier MATMUL results to land.
#include <map>
#include <vector>

#include "Vmxu_act.h"
#include "tb_common.h"

extern "C" {
#include "mxu_numerics.h"
}

#ifndef TB_NAME
#define TB_NAME "tb_act"
#endif
#ifndef COLS
#define COLS 16
#endif
#ifndef UB_BYTES
#define UB_BYTES 16
#endif
static const int ACC_ROWS = 1024, PARAM_LINES = 64;

static int32_t pick32(tb::Rng &rng) {
    switch (rng.below(8)) {
    case 0: return INT32_MIN;
    case 1: return INT32_MAX;
    case 2: return rng.range(-300, 300);
    case 3: return (int32_t)(rng.u32() >> rng.below(32));
    default: return (int32_t)rng.u32();
    }
}

static int32_t pick_shift(tb::Rng &rng) {
    switch (rng.below(10)) {
    case 0: return rng.range(-40, 40);
    case 1: return (int32_t)rng.u32();
    case 2: return rng.below(2) ? INT32_MIN : INT32_MAX;
    case 3: return rng.below(2) ? -31 : 31;
    case 4: return rng.below(2) ? -32 : 32;
    default: return rng.range(-20, 2);
    }
}

static int32_t pick_qm(tb::Rng &rng) {
    switch (rng.below(8)) {
    case 0: return INT32_MIN;
    case 1: return 1 << 30;  // 0.5: produces exact ties
    case 2: return 0;
    case 3: return (int32_t)rng.u32();
    default: return (int32_t)((1u << 30) + (rng.u32() >> 2));  // TFLite range [2^30, 2^31)
    }
}

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Checker chk(TB_NAME);
    tb::Rng rng(0xAC71u);
    Vmxu_act top;
    std::vector<std::vector<int32_t>> acc(ACC_ROWS, std::vector<int32_t>(COLS));
    std::vector<std::vector<int32_t>> param(PARAM_LINES, std::vector<int32_t>(3 * COLS));
    int8_t lut[256];

    top.rst_ni = 1; top.eval(); top.rst_ni = 0; top.clk_i = 0; top.start_i = 0; top.eval();
    top.rst_ni = 1; top.eval();

    int acc_re_prev = 0, acc_addr_prev = 0, param_re_prev = 0, param_addr_prev = 0;
    uint32_t landed = 0;
    auto tick = [&]() {
        top.eval();
        acc_re_prev = top.acc_re_o; acc_addr_prev = top.acc_raddr_o;
        param_re_prev = top.param_re_o; param_addr_prev = top.param_raddr_o;
        top.clk_i = 1; top.eval();
        if (acc_re_prev) for (int c = 0; c < COLS; c++) tb::put32(top.acc_rdata_i, c, (uint32_t)acc[acc_addr_prev][c]);
        if (param_re_prev)
            for (int i = 0; i < 3 * COLS; i++) tb::put32(top.param_rdata_i, i, (uint32_t)param[param_addr_prev][i]);
        top.clk_i = 0; top.eval();
    };

    const int NINSN = 400;
    for (int n = 0; n < NINSN; n++) {
        // Random state.
        for (auto &row : acc) for (auto &v : row) v = pick32(rng);
        int pl = (int)rng.below(PARAM_LINES);
        for (int c = 0; c < COLS; c++) {
            param[pl][3 * c] = rng.below(3) ? rng.range(-5000, 5000) : pick32(rng);
            param[pl][3 * c + 1] = pick_qm(rng);
            param[pl][3 * c + 2] = pick_shift(rng);
        }
        for (auto &l : lut) l = rng.i8();
        for (int i = 0; i < 256; i++) tb::put8(top.lut_i, i, (uint8_t)lut[i]);
        // Make some accumulators produce exact rounding ties: x * qm + 2^30 = k * 2^31.
        if (rng.below(3) == 0)
            for (auto &row : acc) for (int c = 0; c < COLS; c++)
                if (rng.below(2)) row[c] = (int32_t)(2 * rng.range(-1000, 1000) + 1) - param[pl][3 * c];

        int pk = rng.below(3) ? 1 : 1 + (int)rng.below(3);
        int ps = pk == 1 ? 1 : 1 + (int)rng.below(pk);
        int out_w = 1 + (int)rng.below(6), out_h = 1 + (int)rng.below(5);
        int in_w = (out_w - 1) * ps + pk + (int)rng.below(3);
        int rows_used = ((out_h - 1) * ps + pk - 1) * in_w + (out_w - 1) * ps + pk;
        int acc_addr = (int)rng.below(ACC_ROWS - rows_used + 1);
        int ub_addr = (int)rng.below(16384 - out_h * out_w + 1);
        int zp = rng.range(-128, 127);
        int lo = rng.range(-128, 127), hi = rng.range(-128, 127);
        if (lo > hi) std::swap(lo, hi);
        if (rng.below(3) == 0) { lo = -128; hi = 127; }
        int lut_en = (int)rng.below(2), push = (int)rng.below(4);
        int half_up = (int)rng.below(2); // round_half_up (bit 9): ties toward +inf

        uint64_t insn[4] = {0, 0, 0, 0};
        insn[0] = 4 | (uint64_t)(push & 1) << 6 | (uint64_t)(push >> 1) << 7 | (uint64_t)lut_en << 8 |
                  (uint64_t)half_up << 9 | (uint64_t)pl << 16 | (uint64_t)ub_addr << 32;
        insn[1] = (uint64_t)acc_addr | (uint64_t)in_w << 16 | (uint64_t)out_h << 32 | (uint64_t)out_w << 48;
        insn[2] = (uint64_t)(uint8_t)zp | (uint64_t)(uint8_t)lo << 8 | (uint64_t)(uint8_t)hi << 16 |
                  (uint64_t)pk << 24 | (uint64_t)ps << 28;
        for (int w = 0; w < 4; w++) { top.insn_i[2 * w] = (uint32_t)insn[w]; top.insn_i[2 * w + 1] = (uint32_t)(insn[w] >> 32); }

        // Expected lines.
        std::map<int, std::vector<int8_t>> want;
        for (int py = 0; py < out_h; py++)
            for (int px = 0; px < out_w; px++) {
                std::vector<int8_t> line(UB_BYTES, 0);
                for (int c = 0; c < COLS; c++) {
                    int v = -128;
                    for (int dy = 0; dy < pk; dy++)
                        for (int dx = 0; dx < pk; dx++) {
                            int a = acc[acc_addr + (py * ps + dy) * in_w + px * ps + dx][c];
                            int f = mxu_activate_rounding(a, param[pl][3 * c], param[pl][3 * c + 1],
                                                          param[pl][3 * c + 2], zp, lo, hi, lut_en ? lut : nullptr,
                                                          half_up ? MXU_ROUND_HALF_UP : MXU_ROUND_AWAY);
                            if (f > v) v = f;
                        }
                    line[c] = (int8_t)v;
                }
                want[ub_addr + py * out_w + px] = line;
            }

        // Run: the results it waits for land a few cycles after the start.
        uint32_t wait_for = landed + rng.below(3);
        int land_delay = (int)rng.below(6);
        top.vec_wait_i = wait_for;
        top.vec_landed_i = landed;
        chk.eq<int>(top.ready_o, 1, "ready before start", n);
        top.start_i = 1;
        tick();
        top.start_i = 0;
        std::map<int, std::vector<int8_t>> got;
        int done = 0, done_push = -1, early_read = 0;
        for (int cyc = 0; cyc < 20000 && !done; cyc++) {
            if (cyc >= land_delay) { landed = wait_for; top.vec_landed_i = landed; top.eval(); }
            if (top.acc_re_o && (int32_t)(top.vec_landed_i - wait_for) < 0) early_read++;
            if (top.ub_we_o) {
                std::vector<int8_t> line(UB_BYTES);
                for (int b = 0; b < UB_BYTES; b++) line[b] = (int8_t)tb::get8(top.ub_wdata_o, b);
                got[top.ub_waddr_o] = line;
            }
            if (top.done_o) { done = 1; done_push = top.done_push_o; }
            tick();
        }
        chk.eq<int>(done, 1, "done", n);
        chk.eq<int>(done_push, push, "push flags", n);
        chk.eq<int>(early_read, 0, "read before results landed", n);
        chk.eq<size_t>(got.size(), want.size(), "lines written", n);
        for (auto &kv : want) {
            auto it = got.find(kv.first);
            if (!chk.eq<int>(it != got.end(), 1, "line present", n, kv.first)) continue;
            for (int b = 0; b < UB_BYTES; b++) chk.eq<int>(it->second[b], kv.second[b], "byte", kv.first, b);
        }
    }
    top.final();
    return chk.finish();
}
