/* mxu info --backend B [--arch ...]: the device's ID/config registers. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mxu_isa.h"

static const char info_usage[] = "[--backend model|rtl|icarus|usb[:SERIAL]] [--arch KEY=V,...] [--json]\n"
                                 "  Open a device and print what its ID/config registers report.\n";

int cmd_info(int argc, char **argv)
{
    const char *backend = "model", *arch = "", *v;
    int json = 0, missing;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv[i], "--help") || cli_flag(argv[i], "-h")) {
            printf("usage: mxu info %s", info_usage);
            return CLI_OK;
        } else if (cli_flag(argv[i], "--json")) {
            json = 1;
        } else if ((v = cli_opt(argc, argv, &i, "--backend", &missing))) {
            backend = v;
        } else if ((v = cli_opt(argc, argv, &i, "--arch", &missing))) {
            arch = v;
        } else {
            return missing ? cli_error("info", 0, "%s needs a value", argv[i]) : cli_usage("info", info_usage);
        }
    }
    char uri[300];
    mxu_device *dev;
    /* "rtl" + "rows=8" -> "rtl:rows=8"; "rtl:link=1" + "rows=8" -> "rtl:link=1,rows=8" */
    snprintf(uri, sizeof uri, "%s%s%s", backend, !*arch ? "" : strchr(backend, ':') ? "," : ":", arch);
    int rc = mxu_open(uri, &dev);
    if (rc)
        return cli_error("info", rc, "opening %s", uri);
    uint32_t val;
    const char *sep = "";
    if (json)
        printf("{\"backend\": \"%s\"", backend);
    for (unsigned i = 0; i < mxu_isa_n_regs; i++) {
        const struct mxu_isa_reg *r = &mxu_isa_regs[i];
        if (r->is_counter || strcmp(r->access, "ro") || r->offset >= MXU_CSR_CMD_BASE)
            continue;
        if ((rc = mxu_csr_read(dev, r->offset, &val)))
            break;
        if (json)
            printf(", \"%s\": %u", r->name, val);
        else
            printf("%s%-16s 0x%08x  %u\n", sep, r->name, val, val);
    }
    if (json)
        printf("}\n");
    mxu_close(dev);
    return rc ? cli_error("info", rc, "reading registers") : CLI_OK;
}
