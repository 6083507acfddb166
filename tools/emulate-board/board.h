/* The emulated board: a umockdev testbed presenting an FTDI FT232H
 * (0403:6014), or an FT2232H (0403:6010), whose usbfs ioctls are answered here, and a pump thread that
 * moves the bytes between the chip's bulk endpoints and a byte engine. */
#ifndef MXU_EMU_BOARD_H
#define MXU_EMU_BOARD_H

#include <stddef.h>
#include <stdio.h>

#include "engine.h"
#include "fault.h"

struct board_options {
    const char *serial;  /* iSerialNumber */
    const char *product; /* iProduct */
    int ft2232h;         /* present an FT2232H (0403:6010, FIFO on channel A), not an FT232H */
    struct fault fault;
    int verbose;         /* log chip requests and faults to stderr */
    unsigned address;    /* USB address on bus 1, 2..127 (0 = 2) */
};

struct board;

/* Create the testbed (sets UMOCKDEV_DIR in this process's environment, which
 * children inherit) with the board attached -- or attach it to the testbed of
 * `beside` (another board, on another address) -- and start its pump thread.
 * The board owns the engine from then on. */
int board_start(const struct board_options *o, struct board_engine *engine, struct board *beside,
                struct board **out, char *err, size_t errlen);
/* Stop the pump (the board stays attached but goes silent). */
void board_halt(struct board *b);
/* Halt, destroy the engine and the testbed. */
void board_stop(struct board *b);
/* Traffic statistics and the engine's state, after board_halt. */
void board_report(struct board *b, FILE *f);

#endif
