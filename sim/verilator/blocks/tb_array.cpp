// tb_array: the systolic array against a plain matmul on random int8 data, with
// weight tiles loaded back to back under the sequencer's rule (a tile's load starts
// no earlier than the previous tile's first vector: in the same cycle or later, with
// tiles of ROWS vectors or more and gaps) and at the limit throughout (load in the
// same cycle, ROWS vectors per tile).
#include <vector>

#include "Vmxu_array.h"
#include "tb_common.h"

#ifndef TB_NAME
#define TB_NAME "tb_array"
#endif
#ifndef ROWS
#define ROWS 16
#endif
#ifndef COLS
#define COLS 16
#endif

static const int LAT = ROWS + COLS - 1;

struct Event {
    bool vec = false, first = false, wl = false, wlast = false;
    int tile = 0, row = 0;  // tile index; weight row for wl
    uint32_t tag = 0;
};

int main(int argc, char **argv) {
    Verilated::commandArgs(argc, argv);
    tb::Checker chk(TB_NAME);
    tb::Rng rng(0xA11A7u);
    Vmxu_array top;

    for (int mode = 0; mode < 2; mode++) {
        const int ntiles = mode == 0 ? 60 : 30;
        std::vector<std::vector<int8_t>> W(ntiles, std::vector<int8_t>(ROWS * COLS));
        for (auto &w : W)
            for (auto &v : w) v = rng.i8();
        std::vector<Event> ev(1);
        auto at = [&](size_t t) -> Event & { if (ev.size() <= t) ev.resize(t + 1); return ev[t]; };
        std::vector<std::vector<int8_t>> X;
        std::vector<int> vtile;
        std::vector<long> vcycle;
        long L = 0, tS = 0, prev_end = -1;
        for (int j = 0; j < ntiles; j++) {
            const long delta = mode == 0 ? (long)rng.below(2) : 0;  // load start after the previous swap
            if (j > 0) L = std::max(tS + delta, L + ROWS);
            for (int i = 0; i < ROWS; i++) {  // rows bottom first
                Event &e = at(L + i);
                e.wl = true; e.row = ROWS - 1 - i; e.tile = j; e.wlast = (i == ROWS - 1);
            }
            long start = std::max(prev_end + 1, L + ROWS);
            if (rng.below(4) == 0) start += rng.below(3);
            int nvec = mode == 0 ? (rng.below(3) == 0 ? ROWS : ROWS + (int)rng.below(2 * ROWS))
                                 : ROWS;
            long t = start;
            for (int v = 0; v < nvec; v++) {
                if (v > 0 && mode == 0 && rng.below(10) == 0) t += 1 + rng.below(2);  // gaps inside
                Event &e = at(t);
                e.vec = true; e.first = (v == 0); e.tile = j; e.tag = (uint32_t)X.size();
                std::vector<int8_t> x(ROWS);
                for (auto &b : x) b = rng.i8();
                if (rng.below(20) == 0) for (auto &b : x) b = -128;  // extremes
                X.push_back(x); vtile.push_back(j); vcycle.push_back(t);
                t++;
            }
            tS = start;
            prev_end = t - 1;
        }

        top.rst_ni = 1; top.eval(); top.rst_ni = 0; top.clk_i = 0; top.eval(); top.rst_ni = 1; top.eval();
        std::vector<int> seen(X.size(), 0);
        const long ncyc = (long)ev.size() + LAT + 4;
        for (long c = 0; c < ncyc; c++) {
            Event e = c < (long)ev.size() ? ev[c] : Event();
            top.in_valid_i = e.vec; top.in_first_i = e.first; top.in_tag_i = e.tag;
            if (e.vec) for (int r = 0; r < ROWS; r++) tb::put8(top.in_data_i, r, (uint8_t)X[e.tag][r]);
            top.w_valid_i = e.wl; top.w_last_i = e.wlast;
            if (e.wl) for (int k = 0; k < COLS; k++) tb::put8(top.w_data_i, k, (uint8_t)W[e.tile][e.row * COLS + k]);
            top.clk_i = 1; top.eval();
            top.clk_i = 0; top.eval();
            // Outputs of vectors presented LAT cycles ago (this is cycle c+1 now).
            if (top.out_valid_o) {
                uint32_t tag = top.out_tag_o;
                if (!chk.eq<uint32_t>(tag < X.size(), 1, "tag range", c)) continue;
                seen[tag]++;
                chk.eq<long>(c + 1 - vcycle[tag], LAT, "latency", tag);
                const auto &w = W[vtile[tag]];
                for (int k = 0; k < COLS; k++) {
                    int32_t y = 0;
                    for (int r = 0; r < ROWS; r++) y += (int32_t)X[tag][r] * w[r * COLS + k];
                    chk.eq<int32_t>((int32_t)tb::get32(top.out_data_o, k), y, "y", tag, k);
                }
            }
        }
        for (size_t v = 0; v < X.size(); v++) chk.eq<int>(seen[v], 1, "output count", (long)v);
    }
    top.final();
    return chk.finish();
}
