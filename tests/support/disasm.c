#include "disasm.h"

#include <criterion/criterion.h>
#include <stdio.h>

#include "mxu_asm.h"
#include "mxu_error.h"

char *test_disasm(const mxu_program *p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    cr_assert_eq(mxu_disasm_program(p, f), MXU_OK);
    fclose(f);
    return text;
}
