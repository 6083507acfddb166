/* scripts/fpga_synth.py without yosys: a fake yosys writes a known `stat`
 * listing, and the script must price every flip-flop (yosys' own estimate
 * leaves out those with an enable or reset), count the memory bits, find each
 * module's instances through the hierarchy, snapshot the sources it hands to
 * yosys, and answer a second call from its cache. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/files.h"

/* A hierarchy: top (one inverter) holds three instances of sub (two
 * flip-flops with enable and async reset, one XOR) and memories of 4096 bits. */
static const char stat_text[] =
    "=== $paramod$abc\\sub ===\n\n"
    "   Number of cells:                  3\n"
    "     $_DFFE_PN0P_                    2\n"
    "     $_XOR_                          1\n\n"
    "   Estimated number of transistors:         12+\n\n"
    "=== top ===\n\n"
    "   Number of memory bits:         4096\n"
    "   Number of cells:                  5\n"
    "     $_NOT_                          1\n"
    "     $mem_v2                         1\n"
    "     $paramod$abc\\sub               3\n\n"
    "=== design hierarchy ===\n\n"
    "   top                               1\n"
    "     $paramod$abc\\sub               3\n\n"
    "   Number of memory bits:         4096\n"
    "   Number of cells:                 11\n"
    "     $_DFFE_PN0P_                    6\n"
    "     $_NOT_                          1\n"
    "     $_XOR_                          3\n"
    "     $mem_v2                         1\n\n"
    "   Estimated number of transistors:         38+\n";

/* Answers -V; otherwise counts the call and writes stat_text to every
 * `tee -q -o FILE stat` of the script it is given (the last argument). */
static const char fake_yosys[] =
    "#!/bin/bash\n"
    "d=$(dirname \"$0\")\n"
    "if [ \"$1\" = -V ]; then echo 'Yosys 0.0 (fake)'; exit 0; fi\n"
    "echo run >> \"$d/calls\"\n"
    "ys=\"${@: -1}\"\n"
    "cp \"$ys\" \"$d/last.ys\"\n"
    "for f in $(sed -n 's/^tee -q -o \\([^ ]*\\) stat.*/\\1/p' \"$ys\"); do cp \"$d/stat.txt\" \"$f\"; done\n";


/* Run the script with the fake yosys and results under DIR; stdout only. */
static int script(const char *dir, const char *args, char *out, size_t len)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "YOSYS=%s/yosys MXU_SYNTH_DIR=%s/synth /usr/bin/python3 scripts/fpga_synth.py %s 2>%s/err",
             dir, dir, args, dir);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void setup_dir(char *dir, size_t len)
{
    char path[400], cmd[600];
    snprintf(dir, len, "/tmp/mxu-synth-%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s/synth'", dir, dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/yosys", dir);
    test_write_file(path, fake_yosys);
    cr_assert_eq(chmod(path, 0755), 0);
    snprintf(path, sizeof path, "%s/stat.txt", dir);
    test_write_file(path, stat_text);
}

static void remove_dir(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static int calls(const char *dir)
{
    char path[400];
    snprintf(path, sizeof path, "%s/calls", dir);
    const char *c = test_read_file(path);
    int n = 0;
    for (; c && (c = strstr(c, "run")); c += 3)
        n++;
    return n;
}

Test(synth_script, prices_every_flip_flop_and_caches)
{
    char dir[256], out[8192], path[400];
    setup_dir(dir, sizeof dir);
    if (access("build/gen/mxu_isa.vh", R_OK))
        cr_skip_test("build/gen/mxu_isa.vh missing (make isa)");
    cr_assert_eq(script(dir, "area 4 4 --no-xilinx", out, sizeof out), 0, "%s", out);
    /* 6 flip-flops with enable and async reset at 16 + 4 + 12, 3 XOR at 12, 1 NOT at 2 */
    cr_assert(strstr(out, "\"transistors\": 230"), "%s", out);
    cr_assert(strstr(out, "\"cells\": 11") && strstr(out, "\"ff_generic\": 6"), "%s", out);
    cr_assert(strstr(out, "\"mem_bits\": 4096") && strstr(out, "\"config\": \"4x4\""), "%s", out);
    cr_assert_eq(calls(dir), 1);
    /* yosys read a snapshot of the sources, not the tree */
    snprintf(path, sizeof path, "%s/last.ys", dir);
    const char *ys = test_read_file(path);
    cr_assert(ys && strstr(ys, "generic-mxu-4x4.src/rtl/mxu_ram.v") && strstr(ys, "chparam -set ROWS 4 mxu_top"),
              "%s", ys ? ys : "(no script)");
    snprintf(path, sizeof path, "%s/synth/generic-mxu-4x4.src/rtl/mxu_ram.v", dir);
    cr_assert_eq(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/synth/generic-mxu-4x4.src/gen/mxu_isa.vh", dir);
    cr_assert_eq(access(path, R_OK), 0);
    /* the same configuration again: from the cache, yosys not called */
    cr_assert_eq(script(dir, "area 4 4 16384 1024 4096 64 --no-xilinx", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "\"transistors\": 230"), "%s", out);
    cr_assert_eq(calls(dir), 1);
    /* a different one is synthesized */
    cr_assert_eq(script(dir, "area 4 4 256 --no-xilinx", out, sizeof out), 0, "%s", out);
    cr_assert(strstr(out, "\"config\": \"4x4-ub256\""), "%s", out);
    cr_assert_eq(calls(dir), 2);
    remove_dir(dir);
}

Test(synth_script, breakdown_follows_the_hierarchy)
{
    char dir[256], out[8192];
    setup_dir(dir, sizeof dir);
    if (access("build/gen/mxu_isa.vh", R_OK))
        cr_skip_test("build/gen/mxu_isa.vh missing (make isa)");
    cr_assert_eq(script(dir, "area 4 4 --no-xilinx", out, sizeof out), 0, "%s", out);
    cr_assert_eq(script(dir, "breakdown generic-mxu-4x4", out, sizeof out), 0, "%s", out);
    /* sub: 3 instances of 3 cells; 2 x 32 + 12 transistors each */
    cr_assert(strstr(out, "| sub | 3 | 9 | 81.8% | 6 | 228 | 0 |"), "%s", out);
    /* top: its own inverter and memory, not its submodules */
    cr_assert(strstr(out, "| top | 1 | 2 | 18.2% | 0 | 2 | 4,096 |"), "%s", out);
    remove_dir(dir);
}

Test(synth_script, refuses_bad_arguments)
{
    char dir[256], out[8192];
    setup_dir(dir, sizeof dir);
    cr_assert_neq(script(dir, "area 4", out, sizeof out), 0);
    cr_assert_neq(script(dir, "area four 4", out, sizeof out), 0);
    cr_assert_neq(script(dir, "run no-such-target", out, sizeof out), 0);
    cr_assert_eq(calls(dir), 0);
    remove_dir(dir);
}
