/* Hardware configurations: defaults, parsing (good and bad), validation,
 * formatting round trip, names, line widths. */
#include <criterion/criterion.h>
#include <string.h>

#include "mxu_config.h"
#include "mxu_error.h"
#include "mxu_isa.h"

Test(config, defaults_from_isa)
{
    mxu_hw_config c;
    mxu_config_default(&c);
    cr_assert_eq(c.rows, MXU_DEFAULT_ROWS);
    cr_assert_eq(c.cols, MXU_DEFAULT_COLS);
    cr_assert_eq(c.ub_lines, MXU_DEFAULT_UB_LINES);
    cr_assert_eq(c.ub_line_bytes, 16);
    cr_assert_eq(c.acc_rows, MXU_DEFAULT_ACC_ROWS);
    cr_assert_eq(c.wb_lines, MXU_DEFAULT_WB_LINES);
    cr_assert_eq(c.param_lines, MXU_DEFAULT_PARAM_LINES);
    cr_assert_eq(c.dram_bytes, MXU_DEFAULT_DRAM_BYTES);
    cr_assert_eq(c.dram_beat_bytes, MXU_DEFAULT_DRAM_BEAT_BYTES);
    cr_assert_eq(c.queue_depth, MXU_DEFAULT_QUEUE_DEPTH);
    cr_assert_eq(c.token_max, MXU_DEFAULT_TOKEN_MAX);
    cr_assert_eq(mxu_config_validate(&c), MXU_OK);
}

Test(config, parse_keys_and_suffixes)
{
    mxu_hw_config c;
    mxu_config_default(&c);
    cr_assert_eq(mxu_config_parse(&c, "rows=8,cols=32,acc=512,wb=64,params=8,dram=64M,beat=32,queue=4,tokens=7"),
                 MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(c.rows, 8);
    cr_assert_eq(c.cols, 32);
    cr_assert_eq(c.ub_line_bytes, 32);
    cr_assert_eq(c.acc_rows, 512);
    cr_assert_eq(c.wb_lines, 64);
    cr_assert_eq(c.param_lines, 8);
    cr_assert_eq(c.dram_bytes, 64u << 20);
    cr_assert_eq(c.dram_beat_bytes, 32);
    cr_assert_eq(c.queue_depth, 4);
    cr_assert_eq(c.token_max, 7);

    /* ub in bytes is applied after rows/cols, whatever the order */
    mxu_config_default(&c);
    cr_assert_eq(mxu_config_parse(&c, "ub=128K,rows=32"), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(c.ub_lines, 4096);
    cr_assert_eq(mxu_config_parse(&c, "ub_lines=0x100,dram=1G"), MXU_OK);
    cr_assert_eq(c.ub_lines, 256);
    cr_assert_eq(c.dram_bytes, 1u << 30);
    cr_assert_eq(mxu_config_parse(&c, "dram=2G"), MXU_OK);
    cr_assert_eq(c.dram_bytes, 2u << 30);

    /* "RxC" shorthand, non-square */
    mxu_config_default(&c);
    cr_assert_eq(mxu_config_parse(&c, "4x12"), MXU_OK);
    cr_assert_eq(c.rows, 4);
    cr_assert_eq(c.cols, 12);
    cr_assert_eq(c.ub_line_bytes, 12);
    cr_assert_eq(mxu_config_parse(&c, "256x1"), MXU_OK);
    cr_assert_eq(c.ub_line_bytes, 256);
    /* empty and NULL change nothing */
    mxu_hw_config before = c;
    cr_assert_eq(mxu_config_parse(&c, ""), MXU_OK);
    cr_assert_eq(mxu_config_parse(&c, NULL), MXU_OK);
    cr_assert_eq(memcmp(&before, &c, sizeof c), 0);
}

Test(config, parse_rejects_bad_strings)
{
    static const struct { const char *spec, *detail; } bad[] = {
        {"rows=0", "rows"},
        {"rows=257", "rows"},
        {"cols=300", "cols"},
        {"0x16", "0x16"},
        {"speed=3", "unknown key"},
        {"rows=", "rows"},
        {"rows=abc", "rows"},
        {"rows=16q", "rows"},
        {"rows=-1", "rows"},
        {"beat=24", "power of two"},
        {"beat=2", "beat"},
        {"beat=128", "beat"},
        {"dram=3G", "dram"},
        {"dram=512", "dram"},
        {"dram=1000004", "multiple"},
        {"acc=0", "acc"},
        {"acc=65537", "acc"},
        {"wb=8", "wb"},
        {"params=65537", "params"},
        {"queue=0", "queue"},
        {"tokens=0", "tokens"},
        {"ub_lines=0", "ub_lines"},
        {"ub=100", "multiple"},
        {"ub=0", "ub"},
        {"ub=64K,ub_lines=4", "either"},
        {"rows=8,", "trailing"},
        {"rows=8,,cols=8", "empty"},
        {"rows=99999999999999999999", "rows"},
        {"dram=16777216G", "dram"},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mxu_hw_config c, before;
        mxu_config_default(&c);
        before = c;
        mxu_clear_error();
        cr_assert_eq(mxu_config_parse(&c, bad[i].spec), MXU_ERR_INVAL, "'%s' accepted", bad[i].spec);
        cr_assert(strstr(mxu_error_detail(), bad[i].detail), "'%s': detail '%s' lacks '%s'", bad[i].spec,
                  mxu_error_detail(), bad[i].detail);
        cr_assert_eq(memcmp(&before, &c, sizeof c), 0, "'%s' changed the config", bad[i].spec);
    }
}

Test(config, validate_recomputes_line_bytes)
{
    mxu_hw_config c;
    mxu_config_default(&c);
    c.rows = 24;
    c.cols = 8;
    c.ub_line_bytes = 3;
    cr_assert_eq(mxu_config_validate(&c), MXU_OK);
    cr_assert_eq(c.ub_line_bytes, 24);
    c.ub_lines = 1u << 24;
    cr_assert_eq(mxu_config_validate(&c), MXU_ERR_INVAL); /* 384 MiB of UB */
    c.ub_lines = 1u << 20;
    cr_assert_eq(mxu_config_validate(&c), MXU_OK);
    c.wb_lines = 23;
    cr_assert_eq(mxu_config_validate(&c), MXU_ERR_INVAL); /* less than one tile */
}

Test(config, format_round_trips)
{
    mxu_hw_config c, d;
    mxu_config_default(&c);
    cr_assert_eq(mxu_config_parse(&c, "rows=8,cols=24,ub_lines=1000,acc=100,wb=40,params=3,dram=8K,beat=4,"
                                      "queue=2,tokens=9"),
                 MXU_OK, "%s", mxu_error_detail());
    char buf[256];
    mxu_config_format(&c, buf, sizeof buf);
    cr_assert_str_eq(buf, "rows=8,cols=24,ub_lines=1000,acc=100,wb=40,params=3,dram=8192,beat=4,queue=2,tokens=9");
    mxu_config_default(&d);
    cr_assert_eq(mxu_config_parse(&d, buf), MXU_OK);
    cr_assert_eq(memcmp(&c, &d, sizeof c), 0);
    /* a short buffer is truncated, not overrun */
    char small[10];
    memset(small, 'x', sizeof small);
    mxu_config_format(&c, small, sizeof small);
    cr_assert_eq(strlen(small), 9);
}

Test(config, names)
{
    mxu_hw_config c;
    char buf[128];
    mxu_config_default(&c);
    mxu_config_name(&c, buf, sizeof buf);
    cr_assert_str_eq(buf, "16x16");
    cr_assert_eq(mxu_config_parse(&c, "rows=32,cols=8"), MXU_OK);
    mxu_config_name(&c, buf, sizeof buf);
    cr_assert_str_eq(buf, "32x8");
    cr_assert_eq(mxu_config_parse(&c, "ub=64K,acc=512,dram=64M,tokens=7"), MXU_OK);
    mxu_config_name(&c, buf, sizeof buf);
    cr_assert_str_eq(buf, "32x8-ub64K-acc512-dram64M-tokens7");
    for (const char *p = buf; *p; p++)
        cr_assert(strchr("/ ,=", *p) == NULL, "not directory-safe: %s", buf);
}

Test(config, line_bytes_and_lines_per_memory)
{
    mxu_hw_config c;
    mxu_config_default(&c);
    cr_assert_eq(mxu_config_parse(&c, "rows=8,cols=4,ub_lines=100,wb=50,params=7"), MXU_OK);
    cr_assert_eq(mxu_config_line_bytes(&c, MXU_MEM_UB), 8);
    cr_assert_eq(mxu_config_line_bytes(&c, MXU_MEM_WB), 4);
    cr_assert_eq(mxu_config_line_bytes(&c, MXU_MEM_PARAM), 4 * MXU_DEFAULT_PARAM_BYTES);
    cr_assert_eq(mxu_config_line_bytes(&c, MXU_MEM_LUT), MXU_DEFAULT_LUT_ENTRIES);
    cr_assert_eq(mxu_config_line_bytes(&c, 4), 0);
    cr_assert_eq(mxu_config_mem_lines(&c, MXU_MEM_UB), 100);
    cr_assert_eq(mxu_config_mem_lines(&c, MXU_MEM_WB), 50);
    cr_assert_eq(mxu_config_mem_lines(&c, MXU_MEM_PARAM), 7);
    cr_assert_eq(mxu_config_mem_lines(&c, MXU_MEM_LUT), 1);
    cr_assert_eq(mxu_config_mem_lines(&c, 7), 0);
}
