/* Running commands with the emulated board attached (tools/emulate-board):
 * the harness and the mxu binary as `make test` builds them. */
#ifndef MXU_TEST_BOARD_RUN_H
#define MXU_TEST_BOARD_RUN_H

#include <stddef.h>

/* Prefix of a command run in an empty umockdev testbed (no board attached);
 * a sanitizer build must accept umockdev's preload library in front of it. */
#define BOARD_EMPTY_TESTBED "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 umockdev-run --"

struct board_run {
    int status;      /* exit status (shell convention: 128+N for signal N) */
    double seconds;  /* wall time */
    char out[32768]; /* stdout and stderr together */
};

/* $MXU_BIN, else $MXU_BUILD/bin/mxu, else build/bin/mxu. */
const char *board_mxu(void);
/* $MXU_EMULATE_BOARD, else $MXU_BUILD/bin/mxu-emulate-board, else build/bin/... */
const char *board_harness(void);

/* `sh -c CMD 2>&1` with CMD from fmt. */
void board_shell(struct board_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The mxu tool (args from fmt) with an emulated board: `mxu-emulate-board
 * --timeout 120 OPTS -- mxu ARGS`. */
void board_mxu_run(struct board_run *r, const char *opts, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "/tmp/mxu-usb-<pid>-NAME" */
void board_tmp(char *buf, size_t len, const char *name);

/* The hex digits after "checksum " in out ("" when absent). */
void board_checksum(const char *out, char *hex, size_t len);

#endif
