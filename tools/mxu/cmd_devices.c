/* mxu devices [--json] [--probe]: the boards attached by USB (FTDI FT232H /
 * FT2232H), and with --probe what answers on each one's host link. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mxu_isa.h"
#include "mxu_usb.h"

static const char devices_usage[] = "[--json] [--probe]\n"
                                    "  List the boards attached by USB: FTDI FT232H (0403:6014) and FT2232H\n"
                                    "  (0403:6010, channel A) in synchronous FIFO mode. --probe also opens each\n"
                                    "  one and reads its ID and array size through the host link.\n";

/* What --probe found: "mxu 16x16" or why not. */
static void probe(const mxu_usb_board *b, char *out, size_t len)
{
    char uri[128];
    mxu_device *dev;
    snprintf(uri, sizeof uri, "usb:serial=%s,timeout=300,retries=1", b->serial);
    if (!b->serial[0] || mxu_open(uri, &dev)) {
        snprintf(out, len, "%s", b->serial[0] ? mxu_error_detail() : "no serial to open it by");
        return;
    }
    const mxu_hw_config *c = mxu_device_config(dev);
    snprintf(out, len, "mxu %ux%u", c->rows, c->cols);
    mxu_close(dev);
}

/* A string as a JSON literal body (quotes and control characters escaped). */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json(const mxu_usb_board *b, size_t n, char (*probes)[256])
{
    printf("{\"devices\": [");
    for (size_t i = 0; i < n; i++) {
        printf("%s{\"bus\": %u, \"address\": %u, \"vid\": \"%04x\", \"pid\": \"%04x\", \"chip\": ", i ? ", " : "",
               b[i].bus, b[i].address, b[i].vid, b[i].pid);
        json_string(b[i].chip);
        printf(", \"serial\": ");
        json_string(b[i].serial);
        printf(", \"manufacturer\": ");
        json_string(b[i].manufacturer);
        printf(", \"description\": ");
        json_string(b[i].description);
        if (b[i].note[0]) {
            printf(", \"note\": ");
            json_string(b[i].note);
        }
        if (probes) {
            printf(", \"probe\": ");
            json_string(probes[i]);
        }
        putchar('}');
    }
    printf("]}\n");
}

static void print_table(const mxu_usb_board *b, size_t n, char (*probes)[256])
{
    if (!n) {
        printf("no FT232H (0403:6014) or FT2232H (0403:6010) board attached\n");
        return;
    }
    printf("%-4s %-4s %-10s %-8s %-16s %s\n", "BUS", "ADDR", "VID:PID", "CHIP", "SERIAL", "DESCRIPTION");
    for (size_t i = 0; i < n; i++) {
        printf("%03u  %03u  %04x:%04x  %-8s %-16s %s", b[i].bus, b[i].address, b[i].vid, b[i].pid, b[i].chip,
               b[i].serial[0] ? b[i].serial : "-", b[i].description[0] ? b[i].description : "-");
        if (b[i].note[0])
            printf(" (%s)", b[i].note);
        if (probes)
            printf("  [%s]", probes[i]);
        putchar('\n');
    }
}

int cmd_devices(int argc, char **argv)
{
    int json = 0, do_probe = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu devices %s", devices_usage);
            return CLI_OK;
        } else if (cli_flag(argv[i], "--json")) {
            json = 1;
        } else if (cli_flag(argv[i], "--probe")) {
            do_probe = 1;
        } else {
            return cli_usage("devices", devices_usage);
        }
    }
    mxu_usb_board *boards;
    size_t n;
    int rc = mxu_usb_list(&boards, &n);
    if (rc)
        return cli_error("devices", rc, "listing USB devices");
    char (*probes)[256] = do_probe && n ? calloc(n, sizeof *probes) : NULL;
    if (do_probe && n && !probes) {
        free(boards);
        return cli_error("devices", MXU_ERR_NOMEM, "probing");
    }
    for (size_t i = 0; probes && i < n; i++)
        probe(&boards[i], probes[i], sizeof probes[i]);
    if (json)
        print_json(boards, n, probes);
    else
        print_table(boards, n, probes);
    free(probes);
    free(boards);
    return CLI_OK;
}
