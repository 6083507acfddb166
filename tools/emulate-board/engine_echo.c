/* The echo engine: what comes in goes out, through a small FIFO that fills
 * up (so the host's flow control is exercised), one byte per cycle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define ECHO_FIFO 4096u

struct echo {
    uint8_t fifo[ECHO_FIFO];
    size_t head, len;     /* bytes in the FIFO */
    uint64_t ready;       /* bytes the clock has moved through (may go out) */
};

static size_t echo_push(void *state, const uint8_t *buf, size_t n)
{
    struct echo *e = state;
    size_t take = ECHO_FIFO - e->len < n ? ECHO_FIFO - e->len : n;
    for (size_t i = 0; i < take; i++)
        e->fifo[(e->head + e->len + i) % ECHO_FIFO] = buf[i];
    e->len += take;
    return take;
}

static void echo_step(void *state, uint64_t cycles)
{
    struct echo *e = state;
    e->ready = e->ready + cycles < e->len ? e->ready + cycles : e->len;
}

static size_t echo_pull(void *state, uint8_t *buf, size_t cap)
{
    struct echo *e = state;
    size_t n = e->ready < cap ? (size_t)e->ready : cap;
    for (size_t i = 0; i < n; i++)
        buf[i] = e->fifo[(e->head + i) % ECHO_FIFO];
    e->head = (e->head + n) % ECHO_FIFO;
    e->len -= n;
    e->ready -= n;
    return n;
}

static int echo_idle(void *state)
{
    const struct echo *e = state;
    return e->ready == e->len;
}

static void echo_describe(void *state, char *buf, size_t len)
{
    const struct echo *e = state;
    snprintf(buf, len, "echo: %zu bytes held, %llu ready", e->len, (unsigned long long)e->ready);
}

static const struct board_engine_ops echo_ops = {
    .name = "echo",
    .push = echo_push,
    .step = echo_step,
    .pull = echo_pull,
    .idle = echo_idle,
    .describe = echo_describe,
    .destroy = free,
};

int engine_echo_create(struct board_engine *e)
{
    e->ops = &echo_ops;
    e->state = calloc(1, sizeof(struct echo));
    return e->state ? 0 : -1;
}
