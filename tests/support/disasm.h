/* A program's `mxu disasm` listing as a string, for round-trip tests. */
#ifndef MXU_TEST_DISASM_H
#define MXU_TEST_DISASM_H

#include "mxu_program.h"

/* The listing, malloc'ed (the caller frees it); the test fails if disassembly does. */
char *test_disasm(const mxu_program *p);

#endif
