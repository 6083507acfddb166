/* mxu: one tool for the accelerator: assemble, disassemble, run, inspect. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_compile(int argc, char **argv); /* cmd_compile.c */
int cmd_devices(int argc, char **argv); /* cmd_devices.c */
int cmd_sweep(int argc, char **argv);   /* cmd_sweep.c */

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"compile", cmd_compile, "compile a Darknet .cfg or ONNX model into a program"},
    {"asm", cmd_asm, "assemble a program (.s -> .mxp)"},
    {"disasm", cmd_disasm, "list a program readably"},
    {"run", cmd_run, "run a program on a backend, optionally checking it"},
    {"info", cmd_info, "show a device's configuration registers"},
    {"devices", cmd_devices, "list the boards attached by USB"},
    {"bench", cmd_bench, "measure layers (matmul, alexnet) against ideal and SCALE-Sim"},
    {"sweep", cmd_sweep, "measure a network on many configurations: CSV, JSON, plots, area"},
};

static int usage(FILE *f)
{
    fprintf(f, "usage: mxu COMMAND [ARGS]   (mxu COMMAND --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    return f == stdout ? CLI_OK : CLI_ERROR;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
        return usage(stdout);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "mxu: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
