/* What sits behind the emulated FTDI chip: a byte engine clocked by the
 * board's pump thread. The real one is the Verilated link engine in front of
 * the accelerator (engine_rtl.c); the echo engine sends every byte back (for
 * transport tests without RTL). Engines are used from one thread only. */
#ifndef MXU_EMU_ENGINE_H
#define MXU_EMU_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct board_engine_ops {
    const char *name;
    /* Offer bytes from the host; returns how many the engine took (its FIFO
     * may be full: the rest is offered again later). */
    size_t (*push)(void *state, const uint8_t *buf, size_t n);
    /* Run the clock for `cycles` cycles. */
    void (*step)(void *state, uint64_t cycles);
    /* Take up to cap bytes the engine has for the host. */
    size_t (*pull)(void *state, uint8_t *buf, size_t cap);
    /* Non-zero when clocking would change nothing until bytes arrive. */
    int (*idle)(void *state);
    /* A line about the engine's state (for --verbose reports). */
    void (*describe)(void *state, char *buf, size_t len);
    /* Non-zero (with a message) once the simulation itself went wrong; NULL
     * for an engine that cannot fail. */
    int (*fault)(void *state, char *msg, size_t len);
    void (*destroy)(void *state);
};

struct board_engine {
    const struct board_engine_ops *ops;
    void *state;
};

/* The echo engine: 4 KiB FIFO, one byte per cycle each way. */
int engine_echo_create(struct board_engine *e);

/* The Verilated link engine for an architecture ("rows=4,cols=4", "" = the
 * default), built on demand. On failure returns non-zero with err filled. */
int engine_rtl_create(struct board_engine *e, const char *arch, const char *options, char *err, size_t errlen);

#endif
