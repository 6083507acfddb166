/* Running the mxu tool from tests, as a user would: `mxu ARGS` through the
 * shell (the binary from $MXU_BIN, else build/bin/mxu), stdout and stderr
 * together, with its exit status. */
#ifndef MXU_TEST_CLI_H
#define MXU_TEST_CLI_H

struct cli_result {
    int status;      /* exit status, -1 if it did not exit normally */
    char out[32768]; /* stdout and stderr, NUL-terminated (truncated past the size) */
};

struct cli_result cli_mxu(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
