// Shared helpers of the block test benches: a deterministic RNG, mismatch
// accounting and the one summary line the rtl_blocks suite parses.
#ifndef TB_COMMON_H
#define TB_COMMON_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "verilated.h"

namespace tb {

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed ? seed : 0x9E3779B97F4A7C15ull) {}
    uint64_t next() {  // xorshift64*
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
        return s * 0x2545F4914F6CDD1Dull;
    }
    uint32_t u32() { return (uint32_t)(next() >> 32); }
    uint32_t below(uint32_t n) { return (uint32_t)((next() >> 33) % n); }
    int32_t range(int32_t lo, int32_t hi) { return lo + (int32_t)below((uint32_t)(hi - lo + 1)); }
    int8_t i8() { return (int8_t)u32(); }
};

struct Checker {
    const char *name;
    uint64_t checks = 0, mismatches = 0;
    explicit Checker(const char *n) : name(n) {}
    template <typename T> bool eq(T got, T want, const char *what, long a = 0, long b = 0) {
        checks++;
        if (got == want) return true;
        if (mismatches++ < 10)
            std::fprintf(stderr, "%s: mismatch %s [%ld,%ld]: got %lld want %lld\n", name, what, a, b,
                         (long long)got, (long long)want);
        return false;
    }
    int finish() const {
        std::printf("%s: %llu checks, %llu mismatches\n", name, (unsigned long long)checks,
                    (unsigned long long)mismatches);
        return (mismatches || !checks) ? 1 : 0;
    }
};

// Read/write byte i of a Verilator wide (or narrow) port stored as 32-bit words.
inline uint8_t get_byte(const uint32_t *w, unsigned i) { return (uint8_t)(w[i / 4] >> (8 * (i % 4))); }
inline void set_byte(uint32_t *w, unsigned i, uint8_t v) {
    w[i / 4] = (w[i / 4] & ~(0xFFu << (8 * (i % 4)))) | ((uint32_t)v << (8 * (i % 4)));
}

// Byte / 32-bit lane access to a port of any width (narrow ports are integers,
// wide ones VlWide word arrays; lanes never cross the port's width).
template <std::size_t N> inline void put8(VlWide<N> &p, unsigned i, uint8_t v) { set_byte(p.data(), i, v); }
template <std::size_t N> inline uint8_t get8(const VlWide<N> &p, unsigned i) { return get_byte(p.data(), i); }
template <typename T> inline void put8(T &p, unsigned i, uint8_t v) {
    p = (T)((p & ~((T)0xFF << (8 * i))) | ((T)v << (8 * i)));
}
template <typename T> inline uint8_t get8(const T &p, unsigned i) { return (uint8_t)(p >> (8 * i)); }
template <typename T> inline void put32(T &p, unsigned i, uint32_t v) {
    for (unsigned b = 0; b < 4; b++) put8(p, 4 * i + b, (uint8_t)(v >> (8 * b)));
}
template <typename T> inline uint32_t get32(const T &p, unsigned i) {
    uint32_t v = 0;
    for (unsigned b = 0; b < 4; b++) v |= (uint32_t)get8(p, 4 * i + b) << (8 * b);
    return v;
}

}  // namespace tb

#endif
