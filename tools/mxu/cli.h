/* Shared pieces of the mxu command-line tool. */
#ifndef MXU_CLI_H
#define MXU_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "mxu.h"

/* Exit codes: 0 success, 1 a check failed (mismatch), 2 usage or runtime error. */
enum { CLI_OK = 0, CLI_MISMATCH = 1, CLI_ERROR = 2 };

/* Print "mxu CMD: <what>: <strerror>: <detail>" to stderr; returns CLI_ERROR. */
int cli_error(const char *cmd, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cli_usage(const char *cmd, const char *usage);

/* Option scanning: returns the value of "--name VALUE" / "--name=VALUE" at argv[*i]
 * (advancing *i), or NULL when argv[*i] is not that option. *missing is set when
 * the option is present without a value. */
const char *cli_opt(int argc, char **argv, int *i, const char *name, int *missing);
int cli_flag(const char *arg, const char *name);
int cli_parse_u64(const char *s, uint64_t *v);

int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
