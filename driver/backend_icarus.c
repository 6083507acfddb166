/* The "icarus" backend: the RTL under Icarus Verilog (sim/icarus/mxu_tb.v,
 * built on demand into build/icarus/<config>/mxu_tb.vvp). Icarus is ~300x
 * slower than Verilator: this backend is a second opinion for small programs.
 *
 * vvp cannot be stepped from C, so the backend buffers: mem_write fills a host
 * image, CMD_BASE/CMD_COUNT writes are remembered, CTRL.start marks a run; wait()
 * writes the image (up to the highest byte written so far) as hex, runs vvp
 * once (reset, CSR writes, run until done), and reads back the DRAM dump and
 * every CSR, which mem_read/csr_read then serve. A csr_read before any run
 * starts a short vvp run without a program to learn the ID/config registers.
 *
 * The testbench's DRAM array holds mem= bytes (default 4 MiB, the build's
 * ICARUS_MEM_BYTES); the core still has DRAM_BYTES of address space and the
 * backend refuses host accesses beyond the array.
 *
 * Options ("key=value,..."):
 *   latency=N, bw=B   DRAM timing as the rtl backend
 *   max_cycles=N      wait()'s limit when the caller gives none (default 10^8)
 *   timeout=S         wall-clock limit of one vvp run in seconds (default 600)
 *   mem=BYTES         testbench DRAM size (another value builds its own vvp)
 *   keep=1            keep the run directory (hex files, log) for debugging */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend_sim.h"
#include "mxu_backend.h"
#include "mxu_error.h"
#include "mxu_isa.h"

#define ICARUS_DEFAULT_MEM (4u << 20)
#define ICARUS_DEFAULT_MAX_CYCLES 100000000ull
#define ICARUS_DEFAULT_TIMEOUT 600
#define ICARUS_MAX_LATENCY 8191u /* dram_model.v's RING - 1 */
#define ICARUS_CSR_SPAN 0x180u   /* offsets the testbench reports */

struct icarus_state {
    mxu_hw_config cfg;
    char vvp[800];
    uint32_t latency, bw, mem_bytes;
    uint64_t max_cycles;
    double timeout_s;
    int keep;
    uint8_t *img;       /* DRAM as the host sees it */
    size_t img_used;    /* bytes [0, img_used) may be non-zero */
    uint32_t csr[ICARUS_CSR_SPAN / 4];
    int have_csrs;      /* csr[] holds a testbench report */
    uint32_t cmd_base, cmd_count;
    int start_pending;
    int last_done;      /* the last run reached done_o */
    uint64_t last_cycles;
};

static int parse_options(const char *options, struct icarus_state *s)
{
    const char *p = options ? options : "";
    char key[32], val[256];
    int rc;
    while ((rc = mxu_sim_next_option("icarus", &p, key, sizeof key, val, sizeof val)) == 1) {
        uint64_t v = 0;
        if (!strcmp(key, "latency"))
            rc = mxu_sim_parse_u64("icarus", key, val, 1, ICARUS_MAX_LATENCY, &v), s->latency = (uint32_t)v;
        else if (!strcmp(key, "bw"))
            rc = mxu_sim_parse_u64("icarus", key, val, 1, s->cfg.dram_beat_bytes, &v), s->bw = (uint32_t)v;
        else if (!strcmp(key, "max_cycles"))
            rc = mxu_sim_parse_u64("icarus", key, val, 1, UINT64_MAX, &s->max_cycles);
        else if (!strcmp(key, "timeout"))
            rc = mxu_sim_parse_u64("icarus", key, val, 1, 86400, &v), s->timeout_s = (double)v;
        else if (!strcmp(key, "mem"))
            rc = mxu_sim_parse_u64("icarus", key, val, s->cfg.dram_beat_bytes, 1u << 30, &v),
            s->mem_bytes = (uint32_t)v;
        else if (!strcmp(key, "keep"))
            rc = mxu_sim_parse_u64("icarus", key, val, 0, 1, &v), s->keep = (int)v;
        else
            return mxu_fail(MXU_ERR_INVAL,
                            "icarus: unknown option '%s' (latency, bw, max_cycles, timeout, mem, keep)", key);
        if (rc)
            return rc;
    }
    if (rc < 0)
        return rc;
    if (s->mem_bytes % s->cfg.dram_beat_bytes)
        return mxu_fail(MXU_ERR_INVAL, "icarus: mem=%u is not a multiple of the %u-byte beat", s->mem_bytes,
                        s->cfg.dram_beat_bytes);
    if (s->mem_bytes > s->cfg.dram_bytes)
        s->mem_bytes = s->cfg.dram_bytes;
    return MXU_OK;
}

static int locate_vvp(struct icarus_state *s)
{
    char dir[700], params[400], extra[64];
    mxu_sim_dir(&s->cfg, "MXU_ICARUS_DIR", "icarus", dir, sizeof dir);
    if (s->mem_bytes != ICARUS_DEFAULT_MEM && s->mem_bytes != s->cfg.dram_bytes) {
        size_t n = strlen(dir);
        snprintf(dir + n, sizeof dir - n, "-mem%u", s->mem_bytes);
    }
    snprintf(s->vvp, sizeof s->vvp, "%s/mxu_tb.vvp", dir);
    mxu_sim_params(&s->cfg, params, sizeof params);
    snprintf(extra, sizeof extra, "ICARUS_MEM_BYTES=%u", s->mem_bytes);
    static const char *const sources[] = {"rtl/*.v", "sim/icarus/*.v", "isa/mxu.isa", "mk/rtl.mk", NULL};
    return mxu_sim_ensure_built("icarus", s->vvp, dir, "icarus-model", "ICARUS_DIR", params, extra, sources);
}

static void icarus_close(void *state)
{
    struct icarus_state *s = state;
    if (!s)
        return;
    free(s->img);
    free(s);
}

static int icarus_open(const mxu_hw_config *cfg, const char *options, void **state)
{
    struct icarus_state *s = calloc(1, sizeof *s);
    if (!s)
        return mxu_fail(MXU_ERR_NOMEM, "icarus: out of memory");
    s->cfg = *cfg;
    s->latency = MXU_DEFAULT_DRAM_LATENCY;
    s->bw = cfg->dram_beat_bytes;
    s->mem_bytes = ICARUS_DEFAULT_MEM;
    s->max_cycles = ICARUS_DEFAULT_MAX_CYCLES;
    s->timeout_s = ICARUS_DEFAULT_TIMEOUT;
    int rc = parse_options(options, s);
    if (!rc)
        rc = locate_vvp(s);
    if (!rc && !(s->img = calloc(s->mem_bytes, 1)))
        rc = mxu_fail(MXU_ERR_NOMEM, "icarus: out of memory for a %u-byte DRAM image", s->mem_bytes);
    if (rc) {
        icarus_close(s);
        return rc;
    }
    *state = s;
    return MXU_OK;
}

/* ---- files exchanged with the testbench ---------------------------------- */

static int write_hex(const char *path, const uint8_t *mem, size_t beats, uint32_t beat)
{
    static const char digits[] = "0123456789abcdef";
    FILE *f = fopen(path, "w");
    if (!f)
        return mxu_fail(MXU_ERR_IO, "icarus: cannot write %s: %s", path, strerror(errno));
    char line[2 * 64 + 2];
    for (size_t b = 0; b < beats; b++) {
        const uint8_t *p = mem + b * beat;
        for (uint32_t i = 0; i < beat; i++) { /* most significant byte first */
            line[2 * i] = digits[p[beat - 1 - i] >> 4];
            line[2 * i + 1] = digits[p[beat - 1 - i] & 15];
        }
        line[2 * beat] = '\n';
        fwrite(line, 1, 2 * beat + 1, f);
    }
    if (fclose(f))
        return mxu_fail(MXU_ERR_IO, "icarus: cannot write %s", path);
    return MXU_OK;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_dump(struct icarus_state *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return mxu_fail(MXU_ERR_BACKEND, "icarus: the testbench wrote no DRAM dump (%s)", path);
    uint32_t beat = s->cfg.dram_beat_bytes;
    char line[256];
    size_t b = 0;
    int rc = MXU_OK;
    while (fgets(line, sizeof line, f)) {
        if ((b + 1) * beat > s->mem_bytes || strlen(line) < 2 * beat) {
            rc = mxu_fail(MXU_ERR_BACKEND, "icarus: bad DRAM dump line %zu in %s", b + 1, path);
            break;
        }
        uint8_t *p = s->img + b * beat;
        for (uint32_t i = 0; i < beat; i++) {
            int hi = hex_value(line[2 * i]), lo = hex_value(line[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                rc = mxu_fail(MXU_ERR_BACKEND, "icarus: non-hex (X/Z?) DRAM dump line %zu in %s: %.40s", b + 1,
                              path, line);
                goto out;
            }
            p[beat - 1 - i] = (uint8_t)(hi << 4 | lo);
        }
        b++;
    }
    if (b * beat > s->img_used)
        s->img_used = b * beat;
out:
    fclose(f);
    return rc;
}

/* "OFF VALUE" lines, then cycles/done/fault. */
static int read_csrs(struct icarus_state *s, const char *path, uint32_t fault[3])
{
    FILE *f = fopen(path, "r");
    if (!f)
        return mxu_fail(MXU_ERR_BACKEND, "icarus: the testbench wrote no CSR report (%s)", path);
    char line[128];
    int seen = 0, rc = MXU_OK;
    fault[0] = fault[1] = fault[2] = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned off, val, a, b, c;
        unsigned long long n;
        if (sscanf(line, "cycles %llu", &n) == 1)
            s->last_cycles = n;
        else if (sscanf(line, "done %u", &a) == 1)
            s->last_done = a != 0;
        else if (sscanf(line, "fault %u %x %u", &a, &b, &c) == 3)
            fault[0] = a, fault[1] = b, fault[2] = c;
        else if (sscanf(line, "%x %x", &off, &val) == 2 && off < ICARUS_CSR_SPAN && off % 4 == 0)
            s->csr[off / 4] = val, seen++;
        else {
            rc = mxu_fail(MXU_ERR_BACKEND, "icarus: bad line in the CSR report %s: %.60s", path, line);
            break;
        }
    }
    fclose(f);
    if (!rc && seen != ICARUS_CSR_SPAN / 4)
        rc = mxu_fail(MXU_ERR_BACKEND, "icarus: CSR report %s is incomplete (%d registers)", path, seen);
    if (!rc)
        s->have_csrs = 1;
    return rc;
}

/* ---- one vvp run ----------------------------------------------------------- */

struct run_files {
    char dir[256], img[300], dump[300], csrs[300], log[300];
};

static void remove_run_dir(const struct run_files *f)
{
    unlink(f->img);
    unlink(f->dump);
    unlink(f->csrs);
    unlink(f->log);
    rmdir(f->dir);
}

static int make_run_dir(struct run_files *f)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/mxu-icarus-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return mxu_fail(MXU_ERR_IO, "icarus: cannot create a run directory in %s: %s", tmp ? tmp : "/tmp",
                        strerror(errno));
    snprintf(f->img, sizeof f->img, "%s/dram.hex", f->dir);
    snprintf(f->dump, sizeof f->dump, "%s/dump.hex", f->dir);
    snprintf(f->csrs, sizeof f->csrs, "%s/csrs.txt", f->dir);
    snprintf(f->log, sizeof f->log, "%s/vvp.log", f->dir);
    return MXU_OK;
}

static int check_fault(const struct icarus_state *s, const uint32_t fault[3])
{
    if (!fault[0])
        return MXU_OK;
    if (fault[1] % s->cfg.dram_beat_bytes == 0 && fault[1] < s->cfg.dram_bytes)
        return mxu_fail(MXU_ERR_RANGE,
                        "icarus: the program %s DRAM at 0x%08x, beyond the testbench's %u-byte array (option mem=)",
                        fault[2] ? "wrote" : "read", fault[1], s->mem_bytes);
    return mxu_fail(MXU_ERR_BACKEND, "icarus: the core %s DRAM at 0x%08x, outside DRAM or off a beat boundary",
                    fault[2] ? "wrote" : "read", fault[1]);
}

/* Append "(what: text)" to the current error detail. */
static int with_detail(int rc, const char *what, const char *text)
{
    char detail[512];
    snprintf(detail, sizeof detail, "%s", mxu_error_detail());
    return mxu_fail(rc, "%s (%s %s)", detail, what, text);
}

static int run_vvp(struct icarus_state *s, int start, uint64_t max_cycles)
{
    struct run_files f;
    int rc = make_run_dir(&f);
    if (rc)
        return rc;
    uint32_t beat = s->cfg.dram_beat_bytes;
    size_t beats = (s->img_used + beat - 1) / beat;
    char a_img[320], a_beats[48], a_base[48], a_count[48], a_lat[48], a_bw[48], a_max[48], a_dump[320],
        a_dbeats[48], a_csrs[320];
    snprintf(a_img, sizeof a_img, "+dram=%s", f.img);
    snprintf(a_beats, sizeof a_beats, "+dram_beats=%zu", beats);
    snprintf(a_base, sizeof a_base, "+cmd_base=%u", s->cmd_base);
    snprintf(a_count, sizeof a_count, "+cmd_count=%u", s->cmd_count);
    snprintf(a_lat, sizeof a_lat, "+latency=%u", s->latency);
    snprintf(a_bw, sizeof a_bw, "+bw=%u", s->bw);
    snprintf(a_max, sizeof a_max, "+max_cycles=%llu", (unsigned long long)max_cycles);
    snprintf(a_dump, sizeof a_dump, "+dump=%s", f.dump);
    snprintf(a_dbeats, sizeof a_dbeats, "+dump_beats=%zu", beats);
    snprintf(a_csrs, sizeof a_csrs, "+csrs=%s", f.csrs);
    char *argv[] = {"vvp",  "-n",  s->vvp,  a_img,    a_beats, a_base, a_count, a_lat, a_bw, a_max,
                    a_dump, a_dbeats, a_csrs, start ? NULL : "+nostart", NULL};
    int status = 0;
    uint32_t fault[3] = {0, 0, 0};
    char tail[400];
    if ((rc = write_hex(f.img, s->img, beats, beat)))
        goto out;
    if ((rc = mxu_sim_run("icarus", argv, NULL, f.log, s->timeout_s, &status)))
        goto out;
    if (status) {
        mxu_sim_log_tail(f.log, 4, tail, sizeof tail);
        rc = status == 127 ? mxu_fail(MXU_ERR_BACKEND, "icarus: cannot run vvp (install Icarus Verilog: "
                                                       "apt-get install iverilog): %s", tail)
                           : mxu_fail(MXU_ERR_BACKEND, "icarus: vvp %s failed with status %d: %s", s->vvp, status,
                                      tail);
        goto out;
    }
    if ((rc = read_csrs(s, f.csrs, fault))) {
        mxu_sim_log_tail(f.log, 3, tail, sizeof tail);
        if (tail[0])
            rc = with_detail(rc, "vvp said", tail);
        goto out;
    }
    if ((rc = read_dump(s, f.dump)) || (rc = check_fault(s, fault)))
        goto out;
out:
    if (!s->keep)
        remove_run_dir(&f);
    else if (rc)
        rc = with_detail(rc, "files kept in", f.dir);
    return rc;
}

/* ---- backend operations ------------------------------------------------------ */

static int icarus_wait(void *state, uint64_t max_cycles)
{
    struct icarus_state *s = state;
    uint64_t limit = max_cycles ? max_cycles : s->max_cycles;
    if (!s->start_pending)
        return MXU_OK;
    s->start_pending = 0;
    s->last_done = 0;
    int rc = run_vvp(s, 1, limit);
    if (rc)
        return rc;
    if (!s->last_done)
        return mxu_fail(MXU_ERR_TIMEOUT, "icarus: not done after %llu cycles (limit %llu)",
                        (unsigned long long)s->last_cycles, (unsigned long long)limit);
    return MXU_OK;
}

static int check_csr(uint32_t offset)
{
    if (offset % 4 || offset > 0xFFC)
        return mxu_fail(MXU_ERR_RANGE, "icarus: CSR offset 0x%x is not a 32-bit register of the 4 KiB map",
                        offset);
    return MXU_OK;
}

static int icarus_csr_read(void *state, uint32_t offset, uint32_t *value)
{
    struct icarus_state *s = state;
    int rc = check_csr(offset);
    if (rc)
        return rc;
    if (s->start_pending && (rc = icarus_wait(s, 0)) && rc != MXU_ERR_TIMEOUT)
        return rc;
    if (!s->have_csrs && (rc = run_vvp(s, 0, 0)))
        return rc;
    if (offset == MXU_CSR_CMD_BASE)
        *value = s->cmd_base;
    else if (offset == MXU_CSR_CMD_COUNT)
        *value = s->cmd_count;
    else
        *value = offset < ICARUS_CSR_SPAN ? s->csr[offset / 4] : 0;
    return MXU_OK;
}

static int icarus_csr_write(void *state, uint32_t offset, uint32_t value)
{
    struct icarus_state *s = state;
    int rc = check_csr(offset);
    if (rc)
        return rc;
    if (s->start_pending) /* the device is busy: as the hardware, ignore */
        return MXU_OK;
    if (offset == MXU_CSR_CMD_BASE)
        s->cmd_base = value;
    else if (offset == MXU_CSR_CMD_COUNT)
        s->cmd_count = value;
    else if (offset == MXU_CSR_CTRL && (value & MXU_CTRL_START))
        s->start_pending = 1;
    return MXU_OK;
}

static int check_mem(const struct icarus_state *s, uint32_t addr, size_t bytes)
{
    if ((uint64_t)addr + bytes > s->cfg.dram_bytes)
        return mxu_fail(MXU_ERR_RANGE, "icarus: DRAM access [0x%x, +%zu) outside the %u-byte DRAM", addr, bytes,
                        s->cfg.dram_bytes);
    if ((uint64_t)addr + bytes > s->mem_bytes)
        return mxu_fail(MXU_ERR_RANGE,
                        "icarus: DRAM access [0x%x, +%zu) beyond the testbench's %u-byte array (option mem=)", addr,
                        bytes, s->mem_bytes);
    return MXU_OK;
}

static int icarus_mem_write(void *state, uint32_t addr, const void *data, size_t bytes)
{
    struct icarus_state *s = state;
    int rc = check_mem(s, addr, bytes);
    if (rc)
        return rc;
    memcpy(s->img + addr, data, bytes);
    if (addr + bytes > s->img_used)
        s->img_used = addr + bytes;
    return MXU_OK;
}

static int icarus_mem_read(void *state, uint32_t addr, void *data, size_t bytes)
{
    struct icarus_state *s = state;
    int rc = check_mem(s, addr, bytes);
    if (rc)
        return rc;
    if (s->start_pending && (rc = icarus_wait(s, 0)) && rc != MXU_ERR_TIMEOUT)
        return rc;
    memcpy(data, s->img + addr, bytes);
    return MXU_OK;
}

const struct mxu_backend_ops mxu_backend_icarus = {
    .name = "icarus",
    .open = icarus_open,
    .close = icarus_close,
    .csr_read = icarus_csr_read,
    .csr_write = icarus_csr_write,
    .mem_write = icarus_mem_write,
    .mem_read = icarus_mem_read,
    .wait = icarus_wait,
};
