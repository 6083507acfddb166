/* The USB path end to end, as a user runs it: the unmodified mxu tool under
 * mxu-emulate-board, whose FT232H carries the Verilated link engine in front of
 * the accelerator. Results must equal the rtl backend's; every injected fault
 * must end in a clear message and exit status 2, never a hang. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mxu.h"
#include "mxu_layer_program.h"
#include "usb/board_run.h"

#define ARCH_4X4 "--arch rows=4,cols=4"
/* fault runs: a short link timeout and few retries keep a dead board quick */
#define FAULT_OPTS "--option timeout=300,retries=2"

/* A 3x3 convolution (8x8x8 -> 8x8x8, padding 1) lowered for rows x cols. */
static void conv_program(char *path, size_t len, const char *name, const char *arch)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_config_parse(&cfg, arch), MXU_OK);
    struct mxu_layer_desc d = {.name = "conv", .op = MXU_LAYER_CONV2D, .n = 1, .h = 8, .w = 8, .cin = 8,
                               .cout = 8, .kh = 3, .kw = 3, .stride_h = 1, .stride_w = 1, .dil_h = 1,
                               .dil_w = 1, .groups = 1, .pad_top = 1, .pad_left = 1, .pad_bottom = 1,
                               .pad_right = 1, .act_min = 0, .act_max = 127, .zp_in = 3, .zp_out = -2};
    mxu_program *p;
    cr_assert_eq(mxu_build_layer_program(&cfg, &d, 7, &p), MXU_OK, "%s", mxu_error_detail());
    board_tmp(path, len, name);
    cr_assert_eq(mxu_program_write(p, path), MXU_OK, "%s", mxu_error_detail());
    mxu_program_free(p);
}

static void assert_ok(const struct board_run *r)
{
    cr_assert_eq(r->status, 0, "exit %d after %.1f s:\n%s", r->status, r->seconds, r->out);
}

/* Exit 2 with every fragment in the output, in bounded time. */
static void assert_fails_with(const struct board_run *r, const char *const *fragments)
{
    cr_assert_neq(r->status, 124, "the command hung (killed after the harness timeout):\n%s", r->out);
    cr_assert_eq(r->status, 2, "exit %d:\n%s", r->status, r->out);
    for (; *fragments; fragments++)
        cr_assert(strstr(r->out, *fragments), "'%s' missing from:\n%s", *fragments, r->out);
    cr_assert_lt(r->seconds, 30, "took %.1f s", r->seconds);
}

/* The rtl backend's checksum for a program, then the usb run's: identical. */
static void assert_usb_matches_rtl(const char *prog, const char *arch_opt)
{
    struct board_run rtl, usb;
    board_shell(&rtl, "%s run %s --backend rtl --random-input 1 --check", board_mxu(), prog);
    assert_ok(&rtl);
    board_mxu_run(&usb, arch_opt, "run %s --backend usb --random-input 1 --check", prog);
    assert_ok(&usb);
    cr_assert(strstr(usb.out, " on usb ("), "%s", usb.out);
    cr_assert(strstr(usb.out, "check     match"), "%s", usb.out);
    char a[16], b[16];
    board_checksum(rtl.out, a, sizeof a);
    board_checksum(usb.out, b, sizeof b);
    cr_assert(a[0], "no checksum in:\n%s", rtl.out);
    cr_assert_str_eq(a, b, "rtl:\n%s\nusb:\n%s", rtl.out, usb.out);
}

/* ---- listing and identifying ------------------------------------------------------ */

Test(usb_board, devices_lists_the_emulated_board)
{
    struct board_run r;
    board_mxu_run(&r, "--echo --serial MXU00077", "devices");
    assert_ok(&r);
    const char *want[] = {"BUS", "SERIAL", "001  002  0403:6014  FT232H", "MXU00077", "mxu emulated board"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_assert(strstr(r.out, want[i]), "'%s' missing from:\n%s", want[i], r.out);
    board_mxu_run(&r, "--echo --serial MXU00077", "devices --json");
    assert_ok(&r);
    cr_assert(strstr(r.out, "{\"devices\": [{\"bus\": 1, \"address\": 2, \"vid\": \"0403\", \"pid\": \"6014\", "
                            "\"chip\": \"FT232H\", \"serial\": \"MXU00077\""),
              "%s", r.out);
}

Test(usb_board, an_ft2232h_works_on_channel_a)
{
    struct board_run r;
    board_mxu_run(&r, "--echo --ft2232h", "devices");
    assert_ok(&r);
    cr_assert(strstr(r.out, "001  002  0403:6010  FT2232H  MXU00001"), "%s", r.out);
    board_mxu_run(&r, ARCH_4X4 " --ft2232h", "info --backend usb");
    assert_ok(&r);
    cr_assert(strstr(r.out, "ROWS             0x00000004"), "%s", r.out);
}

Test(usb_board, two_boards_are_listed_and_the_serial_picks_one)
{
    struct board_run r;
    board_mxu_run(&r, ARCH_4X4 " --second-board SN2", "devices");
    assert_ok(&r);
    const char *first = strstr(r.out, "001  002  0403:6014  FT232H   MXU00001"),
               *second = strstr(r.out, "001  003  0403:6014  FT232H   SN2");
    cr_assert(first && second && first < second, "both boards, in address order:\n%s", r.out);
    board_mxu_run(&r, ARCH_4X4 " --second-board SN2", "info --backend usb");
    const char *want[] = {"usb: 2 FTDI boards are attached (serials MXU00001, SN2): pick one with usb:SERIAL",
                          NULL};
    assert_fails_with(&r, want);
    board_mxu_run(&r, ARCH_4X4 " --second-board SN2", "info --backend usb:MXU00001");
    assert_ok(&r);
    cr_assert(strstr(r.out, "ROWS             0x00000004"), "%s", r.out);
    /* the echo board answers with the request itself: not an mxu link; the
     * URI's timeout and retries hold from the first packet on */
    board_mxu_run(&r, ARCH_4X4 " --second-board SN2", "info --backend usb:SN2:timeout=200,retries=1");
    const char *want2[] = {"board SN2 does not speak the mxu host link", "no answer, 2 attempts", NULL};
    assert_fails_with(&r, want2);
}

Test(usb_board, devices_probe_reads_the_array_size)
{
    struct board_run r;
    board_mxu_run(&r, ARCH_4X4, "devices --probe");
    assert_ok(&r);
    cr_assert(strstr(r.out, "[mxu 4x4]"), "%s", r.out);
}

Test(usb_board, devices_without_a_board)
{
    struct board_run r;
    board_shell(&r, BOARD_EMPTY_TESTBED " %s devices", board_mxu());
    assert_ok(&r);
    cr_assert(strstr(r.out, "no FT232H (0403:6014) or FT2232H (0403:6010) board attached"), "%s", r.out);
    board_shell(&r, BOARD_EMPTY_TESTBED " %s info --backend usb", board_mxu());
    const char *want[] = {"not found", "no FT232H (0403:6014) or FT2232H (0403:6010) board attached", NULL};
    assert_fails_with(&r, want);
}

Test(usb_board, info_reads_the_board_registers)
{
    struct board_run r;
    board_mxu_run(&r, ARCH_4X4, "info --backend usb");
    assert_ok(&r);
    const char *want[] = {"ID               0x4d585530", "ROWS             0x00000004",
                          "COLS             0x00000004", "DRAM_BYTES"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_assert(strstr(r.out, want[i]), "'%s' missing from:\n%s", want[i], r.out);
    board_mxu_run(&r, ARCH_4X4, "info --backend usb --json");
    assert_ok(&r);
    cr_assert(strstr(r.out, "\"backend\": \"usb\", \"ID\": 1297634608"), "%s", r.out);
    cr_assert(strstr(r.out, "\"ROWS\": 4, \"COLS\": 4"), "%s", r.out);
}

Test(usb_board, the_serial_in_the_uri_picks_the_board)
{
    struct board_run r;
    board_mxu_run(&r, ARCH_4X4 " --serial SN42", "info --backend usb:SN42");
    assert_ok(&r);
    cr_assert(strstr(r.out, "ROWS             0x00000004"), "%s", r.out);
    board_mxu_run(&r, "--echo --serial SN42", "info --backend usb:serial=NOPE");
    const char *want[] = {"not found", "no FTDI board with serial 'NOPE' (attached: SN42)", NULL};
    assert_fails_with(&r, want);
}

Test(usb_board, bad_options_are_named)
{
    struct board_run r;
    board_shell(&r, "%s info --backend usb:frob=1", board_mxu());
    const char *want[] = {"invalid argument", "usb: unknown option 'frob'", NULL};
    assert_fails_with(&r, want);
    board_shell(&r, "%s info --backend usb:timeout=0", board_mxu());
    const char *want2[] = {"usb: timeout=0 outside 1..3600000", NULL};
    assert_fails_with(&r, want2);
}

Test(usb_board, the_harness_reports_its_own_failures)
{
    struct board_run r;
    board_shell(&r, "%s --echo --fault frob -- true", board_harness());
    cr_assert_eq(r.status, 125, "%s", r.out);
    cr_assert(strstr(r.out, "unknown fault 'frob'"), "%s", r.out);
    board_shell(&r, "%s --echo -- /nonexistent/command", board_harness());
    cr_assert_eq(r.status, 127, "%s", r.out);
    board_shell(&r, "%s --echo --timeout 0.3 -- sleep 10", board_harness());
    cr_assert_eq(r.status, 124, "%s", r.out);
    cr_assert_lt(r.seconds, 5);
    board_shell(&r, "%s --echo -- sh -c 'exit 7'", board_harness());
    cr_assert_eq(r.status, 7, "%s", r.out);
}

/* ---- programs: the same results as the rtl backend ----------------------------------- */

Test(usb_board, conv_layer_matches_rtl)
{
    char prog[256];
    conv_program(prog, sizeof prog, "conv.mxp", "rows=4,cols=4");
    assert_usb_matches_rtl(prog, ARCH_4X4);
    unlink(prog);
}

Test(usb_board, assembled_example_matches_rtl)
{
    char prog[256];
    struct board_run r;
    board_tmp(prog, sizeof prog, "matmul.mxp");
    board_shell(&r, "%s asm examples/matmul.s -o %s", board_mxu(), prog);
    assert_ok(&r);
    assert_usb_matches_rtl(prog, ""); /* the examples are written for 16x16 */
    unlink(prog);
}

Test(usb_board, fashion_mnist_cnn_matches_rtl)
{
    const char *model = "models/fashion_mnist/cnn.onnx";
    if (access(model, R_OK))
        cr_skip_test("%s not there", model);
    char prog[256];
    struct board_run r;
    board_tmp(prog, sizeof prog, "fmnist.mxp");
    board_shell(&r, "%s compile %s --arch rows=16,cols=16 --quiet -o %s", board_mxu(), model, prog);
    assert_ok(&r);
    assert_usb_matches_rtl(prog, "");
    unlink(prog);
}

/* AlexNet (Darknet cfg, random weights): 63.4 MB through the link, ~80 M
 * simulated cycles (the link engine takes one byte per cycle), about 4 minutes
 * of emulation on two cores, so only with MXU_TEST_SLOW=1 in the environment.
 * Both sides use the array's cycle-exact functional model. The link's default
 * timeout suffices however loaded the machine: it bounds silence, not time. */
Test(usb_slow, alexnet_matches_rtl)
{
    const char *cfg = "/usr/share/darknet/cfg/alexnet.cfg";
    if (!getenv("MXU_TEST_SLOW"))
        cr_skip_test("set MXU_TEST_SLOW=1 to run it (minutes)");
    if (access(cfg, R_OK))
        cr_skip_test("%s not there", cfg);
    char prog[256];
    struct board_run rtl, usb;
    board_tmp(prog, sizeof prog, "alexnet.mxp");
    board_shell(&rtl, "%s compile %s --random-weights 1 --arch rows=16,cols=16 --quiet -o %s", board_mxu(), cfg,
                prog);
    assert_ok(&rtl);
    board_shell(&rtl, "%s run %s --backend rtl --option array=model --random-input 1 --check", board_mxu(), prog);
    assert_ok(&rtl);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s --timeout 3000 --option array=model -- %s run %s --backend usb "
             "--random-input 1 --check", board_harness(), board_mxu(), prog);
    board_shell(&usb, "%s", cmd);
    assert_ok(&usb);
    cr_assert(strstr(usb.out, "check     match"), "%s", usb.out);
    char a[16], b[16];
    board_checksum(rtl.out, a, sizeof a);
    board_checksum(usb.out, b, sizeof b);
    cr_assert_str_eq(a, b, "rtl:\n%s\nusb:\n%s", rtl.out, usb.out);
    unlink(prog);
}

/* ---- faults ------------------------------------------------------------------------------ */

static void run_fault(struct board_run *r, const char *fault)
{
    char prog[256], opts[200];
    conv_program(prog, sizeof prog, "fault.mxp", "rows=4,cols=4");
    snprintf(opts, sizeof opts, ARCH_4X4 " --fault %s", fault);
    board_mxu_run(r, opts, "run %s --backend usb " FAULT_OPTS " --random-input 1 --check", prog);
    unlink(prog);
}

Test(usb_faults, unplug_mid_transfer)
{
    struct board_run r;
    run_fault(&r, "unplug");
    const char *want[] = {"fault unplug after 512 bytes", "USB error",
                          "board FT232H MXU00001 (bus 1, address 2) was unplugged", NULL};
    assert_fails_with(&r, want);
}

Test(usb_faults, stalled_in_endpoint)
{
    struct board_run r;
    run_fault(&r, "stall");
    const char *want[] = {"USB error", "bulk IN transfer: endpoint stalled (endpoint 0x81; halt cleared)", NULL};
    assert_fails_with(&r, want);
}

Test(usb_faults, stalled_out_endpoint)
{
    struct board_run r;
    run_fault(&r, "stall-out");
    const char *want[] = {"USB error", "bulk OUT transfer: endpoint stalled (endpoint 0x02; halt cleared)", NULL};
    assert_fails_with(&r, want);
}

Test(usb_faults, one_corrupted_byte_each_way_is_retried)
{
    struct board_run r;
    run_fault(&r, "corrupt,after=40");
    assert_ok(&r);
    cr_assert(strstr(r.out, "fault corrupt: changed byte 40 to the host"), "%s", r.out);
    cr_assert(strstr(r.out, "check     match"), "%s", r.out);
    run_fault(&r, "corrupt-out,after=600");
    assert_ok(&r);
    cr_assert(strstr(r.out, "fault corrupt-out: changed byte 600 from the host"), "%s", r.out);
    cr_assert(strstr(r.out, "check     match"), "%s", r.out);
}

Test(usb_faults, persistent_corruption_is_reported)
{
    struct board_run r;
    run_fault(&r, "corrupt,after=100,every=50");
    const char *want[] = {"host link error", "kept arriving with a bad CRC", NULL};
    assert_fails_with(&r, want);
    run_fault(&r, "corrupt-out,after=100,every=50");
    const char *want2[] = {"host link error", "the device kept receiving it with a bad CRC", NULL};
    assert_fails_with(&r, want2);
}

Test(usb_faults, device_error_code)
{
    struct board_run r;
    run_fault(&r, "device-error");
    const char *want[] = {"fault device-error: answered MEM_WRITE", "out of range",
                          "the device says bad address", NULL};
    assert_fails_with(&r, want);
    run_fault(&r, "device-error,code=4");
    const char *want2[] = {"host link error", "the device says unknown opcode", NULL};
    assert_fails_with(&r, want2);
}

Test(usb_faults, a_board_that_stops_answering_times_out)
{
    struct board_run r;
    run_fault(&r, "hang");
    const char *want[] = {"fault hang after 512 bytes", "timeout", NULL};
    assert_fails_with(&r, want);
}
