/* Helpers shared by the simulator backends (backend_rtl.c, backend_icarus.c):
 * "key=value,..." options, building a simulator on demand with make, running
 * a child process with a deadline. Internal to the driver. */
#ifndef MXU_BACKEND_SIM_H
#define MXU_BACKEND_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "mxu_config.h"

/* Next "key=value" item of *p (advanced past it and its comma). Returns 1 with
 * key and val filled, 0 at the end, MXU_ERR_INVAL for an item without '=' or
 * one too long for the buffers (detail names the backend). */
int mxu_sim_next_option(const char *backend, const char **p, char *key, size_t klen, char *val, size_t vlen);

/* Decimal or 0x-hex number in lo..hi; MXU_ERR_INVAL with a detail otherwise. */
int mxu_sim_parse_u64(const char *backend, const char *key, const char *val, uint64_t lo, uint64_t hi,
                      uint64_t *out);

/* "-GROWS=16 -GCOLS=16 -GUB_LINES=..." : every mxu_top parameter of cfg. */
void mxu_sim_params(const mxu_hw_config *cfg, char *buf, size_t len);

/* Directory of a configuration's simulator: $ENV_VAR/<name> when the variable
 * is set, else MXU_BUILD_DIR/<kind>/<name> (kind "rtl" or "icarus"). */
void mxu_sim_dir(const mxu_hw_config *cfg, const char *env_var, const char *kind, char *buf, size_t len);

/* mkdir -p. */
int mxu_sim_mkdirs(const char *backend, const char *path);

/* Make sure `file` exists and is newer than its sources (NULL-terminated paths
 * relative to the source tree; "DIR/" followed by "*.v" = every .v file of DIR; NULL = any age
 * will do): if not, run `make -C MXU_SOURCE_DIR <target> <dir_var>=<dir>
 * RTL_PARAMS=<params> [extra]` under a lock in dir (so parallel processes build
 * once), its output in dir/build.log. MXU_ERR_BACKEND with the log's last lines
 * when that fails. Without a source tree an existing file is used as it is. */
int mxu_sim_ensure_built(const char *backend, const char *file, const char *dir, const char *target,
                         const char *dir_var, const char *params, const char *extra, const char *const *sources);

/* Run argv (PATH lookup) with stdin from /dev/null, stdout+stderr appended to
 * log_path, in working directory cwd (NULL = ours). Waits at most timeout_s
 * seconds (0 = no limit), then kills the child. Returns MXU_OK with *status =
 * the exit code (127: could not start), MXU_ERR_TIMEOUT when killed, or
 * MXU_ERR_BACKEND when fork fails. */
int mxu_sim_run(const char *backend, char *const argv[], const char *cwd, const char *log_path,
                double timeout_s, int *status);

/* The last `lines` lines of a text file, flattened into buf ("" if unreadable). */
void mxu_sim_log_tail(const char *path, int lines, char *buf, size_t len);

#endif
