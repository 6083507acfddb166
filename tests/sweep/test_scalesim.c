/* SCALE-Sim interoperation (hostlib/mxu_scalesim.h): the weight-stationary
 * formula against hand-computed values, and the topology CSV and .cfg readers
 * on good files, SCALE-Sim's own quirks and malformed files (each error naming
 * file:line). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mxu.h"
#include "mxu_layer_program.h"
#include "mxu_scalesim.h"

/* ---- the formula ---------------------------------------------------------------- */

Test(scalesim, formula_by_hand)
{
    /* (2R + C + T - 2) * ceil(K/R) * ceil(N/C) * groups */
    cr_assert_eq(mxu_scalesim_ws_cycles(4, 4, 10, 9, 5, 1), (8 + 4 + 10 - 2) * 3 * 2); /* 120 */
    cr_assert_eq(mxu_scalesim_ws_cycles(4, 4, 10, 8, 4, 1), 20 * 2 * 1);
    cr_assert_eq(mxu_scalesim_ws_cycles(8, 16, 1, 100, 10, 1), (16 + 16 + 1 - 2) * 13 * 1); /* 403 */
    cr_assert_eq(mxu_scalesim_ws_cycles(4, 4, 10, 9, 5, 3), 360);
    cr_assert_eq(mxu_scalesim_ws_cycles(4, 4, 0, 9, 5, 1), 0);
    cr_assert_eq(mxu_scalesim_ws_cycles(0, 4, 10, 9, 5, 1), 0);
}

static struct mxu_layer_desc conv(uint32_t h, uint32_t cin, uint32_t k, uint32_t s, uint32_t pad, uint32_t cout,
                                  uint32_t groups)
{
    struct mxu_layer_desc d = {.name = "c", .op = MXU_LAYER_CONV2D, .n = 1, .h = h, .w = h, .cin = cin,
                               .cout = cout, .kh = k, .kw = k, .stride_h = s, .stride_w = s, .pad_top = pad,
                               .pad_left = pad, .pad_bottom = pad, .pad_right = pad, .groups = groups,
                               .act_min = -128, .act_max = 127};
    return d;
}

Test(scalesim, formula_for_layer_descriptions)
{
    /* 5x5x2 input, 3x3 kernel, 3 filters, 4x4 array: T = 9, K = 18, N = 3 */
    struct mxu_layer_desc d = conv(5, 2, 3, 1, 0, 3, 1);
    cr_assert_eq(mxu_scalesim_desc_cycles(&d, 4, 4), (8 + 4 + 9 - 2) * 5 * 1); /* 95 */
    /* two groups of 2 channels -> 3 filters each: twice the one-group figure */
    d = conv(5, 4, 3, 1, 0, 6, 2);
    cr_assert_eq(mxu_scalesim_desc_cycles(&d, 4, 4), 2 * 95);
    /* a fused pool does not change the convolution's T */
    d = conv(5, 2, 3, 1, 0, 3, 1);
    d.pool_k = d.pool_s = 2;
    cr_assert_eq(mxu_scalesim_desc_cycles(&d, 4, 4), 95);
    /* padding 1 keeps 5x5 outputs: T = 25 */
    d = conv(5, 2, 3, 1, 1, 3, 1);
    cr_assert_eq(mxu_scalesim_desc_cycles(&d, 4, 4), (8 + 4 + 25 - 2) * 5);
    /* FC: T = batch, K = cin, N = cout */
    struct mxu_layer_desc fc = {.name = "f", .op = MXU_LAYER_FC, .n = 3, .h = 1, .w = 1, .cin = 100, .cout = 10};
    cr_assert_eq(mxu_scalesim_desc_cycles(&fc, 8, 8), (16 + 8 + 3 - 2) * 13 * 2); /* 650 */
    fc.op = MXU_LAYER_MAXPOOL;
    cr_assert_eq(mxu_scalesim_desc_cycles(&fc, 8, 8), 0);
    /* AlexNet conv1 (Caffe) on 16x16: the figure of docs/perf.md */
    d = conv(227, 3, 11, 4, 0, 96, 1);
    cr_assert_eq(mxu_scalesim_desc_cycles(&d, 16, 16), 423798);
}

Test(scalesim, formula_from_program_records_matches_the_description)
{
    mxu_hw_config cfg;
    mxu_config_default(&cfg);
    cfg.rows = cfg.cols = 8;
    cr_assert_eq(mxu_config_validate(&cfg), MXU_OK);
    struct mxu_layer_desc ds[] = {conv(9, 6, 3, 2, 1, 10, 2), conv(7, 3, 3, 1, 0, 5, 1)};
    ds[1].pool_k = ds[1].pool_s = 2;
    for (size_t i = 0; i < 2; i++) {
        mxu_program *p = NULL;
        cr_assert_eq(mxu_build_layer_program(&cfg, &ds[i], 1, &p), MXU_OK, "%s", mxu_error_detail());
        uint32_t layer = 0;
        while (layer < p->n_layers && p->layers[layer].op != MXU_LAYER_CONV2D)
            layer++;
        cr_assert_lt(layer, p->n_layers);
        cr_assert_eq(mxu_scalesim_layer_cycles(p, layer, 8, 8), mxu_scalesim_desc_cycles(&ds[i], 8, 8));
        cr_assert_eq(mxu_scalesim_layer_cycles(p, p->n_layers, 8, 8), 0);
        mxu_program_free(p);
    }
}

/* ---- topology CSV ------------------------------------------------------------------- */

static struct mxu_scalesim_topology *topo_ok(const char *text)
{
    struct mxu_scalesim_topology *t = NULL;
    int rc = mxu_scalesim_topology_parse(text, strlen(text), "dir/net.csv", &t);
    cr_assert_eq(rc, MXU_OK, "%s", mxu_error_detail());
    return t;
}

static void topo_bad(const char *text, const char *expect)
{
    struct mxu_scalesim_topology *t = NULL;
    int rc = mxu_scalesim_topology_parse(text, strlen(text), "bad.csv", &t);
    cr_assert_eq(rc, MXU_ERR_FORMAT, "accepted: %s", text);
    cr_assert_null(t);
    cr_assert(strstr(mxu_error_detail(), expect), "'%s' not in '%s'", expect, mxu_error_detail());
}

static const char header[] = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                             "Num Filter, Strides,\n";

Test(scalesim, topology_conv_rows)
{
    char text[1024];
    snprintf(text, sizeof text, "%s\nConv1     ,224 ,224 ,11 ,11 ,3 ,96 ,4 ,\r\n# comment line\n\n"
             "\tConv2,27,27,5,5,96,256,1\nConv3_dw, 13, 13, 3, 3, 1, 1, 2,#dw\n"
             "Conv4_DP,13,13,3,3,8,2,1,\nConv5,14,12,3,1,4,4,2,1,\n", header);
    struct mxu_scalesim_topology *t = topo_ok(text);
    cr_assert_str_eq(t->name, "net");
    cr_assert_eq(t->gemm, 0);
    cr_assert_eq(t->n_layers, 5);
    const struct mxu_layer_desc *l = t->layers;
    cr_assert_str_eq(l[0].name, "Conv1");
    cr_assert_eq(l[0].op, MXU_LAYER_CONV2D);
    cr_assert(l[0].h == 224 && l[0].w == 224 && l[0].kh == 11 && l[0].kw == 11 && l[0].cin == 3 && l[0].cout == 96);
    cr_assert(l[0].stride_h == 4 && l[0].stride_w == 4 && l[0].pad_top == 0 && l[0].groups == 1 && l[0].n == 1);
    cr_assert_eq(t->lines[0], 3);
    cr_assert_str_eq(l[1].name, "Conv2");
    cr_assert_eq(t->lines[1], 6);
    cr_assert_str_eq(l[2].name, "Conv3_dw"); /* "#dw" after the last comma is a comment */
    cr_assert_eq(l[2].stride_h, 2);
    /* "DP" in the name: depthwise, each of the 8 channels with 2 filters */
    cr_assert_eq(l[3].groups, 8);
    cr_assert_eq(l[3].cout, 16);
    cr_assert_eq(l[3].cin, 8);
    /* a ninth column is the stride across the width */
    cr_assert(l[4].stride_h == 2 && l[4].stride_w == 1 && l[4].h == 14 && l[4].w == 12 && l[4].kw == 1);
    /* MACs as SCALE-Sim counts them (no padding) */
    cr_assert_eq(mxu_layer_desc_macs(&l[0]), 54ull * 54 * 96 * 11 * 11 * 3);
    mxu_scalesim_topology_free(t);
}

Test(scalesim, topology_gemm_rows)
{
    struct mxu_scalesim_topology *t = topo_ok("Layer, M, N, K,\nfc1, 64, 1000, 4096,\nfc2,1,10,100\n");
    cr_assert_eq(t->gemm, 1);
    cr_assert_eq(t->n_layers, 2);
    cr_assert_eq(t->layers[0].op, MXU_LAYER_FC);
    cr_assert(t->layers[0].n == 64 && t->layers[0].cout == 1000 && t->layers[0].cin == 4096);
    cr_assert_eq(mxu_scalesim_desc_cycles(&t->layers[1], 8, 8), (16 + 8 + 1 - 2) * 13 * 2);
    mxu_scalesim_topology_free(t);
}

Test(scalesim, topology_malformed)
{
    char text[1024];
    topo_bad("", "bad.csv: no layers (empty file)");
    topo_bad(header, "bad.csv: no layers after the header");
    topo_bad("name,a,b\nc1,1,1,1,1,1,1,1,\n", "bad.csv:1: not a SCALE-Sim topology header");
    snprintf(text, sizeof text, "%sConv1,224,224,11,11,3,96,\n", header);
    topo_bad(text, "bad.csv:2: layer 'Conv1' has 7 fields, expected 8 or 9");
    snprintf(text, sizeof text, "%s\nConv1,224,2x4,11,11,3,96,4,\n", header);
    topo_bad(text, "bad.csv:3: layer 'Conv1', column 3 (IFMAP Width): '2x4' is not an integer");
    snprintf(text, sizeof text, "%sConv1,224,224,11,11,0,96,4,\n", header);
    topo_bad(text, "column 6 (Channels): '0'");
    snprintf(text, sizeof text, "%sConv1,224,224,11,11,-3,96,4,\n", header);
    topo_bad(text, "column 6 (Channels): '-3'");
    snprintf(text, sizeof text, "%sConv1,5,5,7,3,3,96,1,\n", header);
    topo_bad(text, "bad.csv:2: layer 'Conv1': the 7x3 filter is larger than the 5x5 IFMAP");
    snprintf(text, sizeof text, "%s,5,5,3,3,3,96,1,\n", header);
    topo_bad(text, "bad.csv:2: a layer without a name");
    snprintf(text, sizeof text, "%sConv1,5,5,3,3,3,96,1,1,1,1,1,1,1,1,1,1,1,1,1\n", header);
    topo_bad(text, "bad.csv:2: more than 16 fields");
    topo_bad("Layer, M, N, K,\nfc1, 64, 1000,\n", "bad.csv:2: layer 'fc1' has 3 fields, expected 4");
    topo_bad("Layer, M, N, K,\nfc1, 64, 1000, 99999999999,\n", "column 4 (K)");
}

Test(scalesim, topology_read_file)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/mxu-scalesim-%d.csv", (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "%sC1,8,8,3,3,4,8,1,\n", header);
    fclose(f);
    struct mxu_scalesim_topology *t = NULL;
    cr_assert_eq(mxu_scalesim_topology_read(path, &t), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(t->n_layers, 1);
    mxu_scalesim_topology_free(t);
    unlink(path);
    cr_assert_eq(mxu_scalesim_topology_read(path, &t), MXU_ERR_IO);
    cr_assert(strstr(mxu_error_detail(), path));
}

/* ---- configuration files ------------------------------------------------------------ */

static const char google_cfg[] = "[general]\nrun_name = \"google_tpu\"\n\n[architecture_presets]\n"
                                 "ArrayHeight:    32\nArrayWidth:     16\nIfmapSramSzkB:    64\n"
                                 "FilterSramSzkB:   128\nOfmapSramSzkB:    32\nIfmapOffset:    0\n"
                                 "FilterOffset:   10000000\nOfmapOffset:    20000000\nBandwidth : 10,20\n"
                                 "Dataflow : ws\nMemoryBanks: 2\n\n[sparsity]\nSparsitySupport : false\n\n"
                                 "[run_presets]\nInterfaceBandwidth: USER\n";

static void cfg_bad(const char *text, const char *expect)
{
    struct mxu_scalesim_config c;
    int rc = mxu_scalesim_config_parse(text, strlen(text), "x.cfg", &c);
    cr_assert_eq(rc, MXU_ERR_FORMAT, "accepted: %s", text);
    cr_assert(strstr(mxu_error_detail(), expect), "'%s' not in '%s'", expect, mxu_error_detail());
}

Test(scalesim, config_good)
{
    struct mxu_scalesim_config c;
    cr_assert_eq(mxu_scalesim_config_parse(google_cfg, strlen(google_cfg), "g.cfg", &c), MXU_OK, "%s",
                 mxu_error_detail());
    cr_assert_str_eq(c.run_name, "google_tpu");
    cr_assert(c.rows == 32 && c.cols == 16);
    cr_assert(c.ifmap_kb == 64 && c.filter_kb == 128 && c.ofmap_kb == 32);
    cr_assert_str_eq(c.dataflow, "ws");
    cr_assert_eq(c.bandwidth, 10); /* the smallest bank */
    cr_assert_eq(c.line_rows, 5);
    /* lower-case keys (configparser's), '=' separators, CALC ignores Bandwidth */
    const char *calc = "[architecture_presets]\narrayheight = 8\nARRAYWIDTH=8\nbandwidth = 4\ndataflow = OS\n"
                       "[run_presets]\ninterfacebandwidth = CALC\n";
    cr_assert_eq(mxu_scalesim_config_parse(calc, strlen(calc), "c.cfg", &c), MXU_OK, "%s", mxu_error_detail());
    cr_assert(c.rows == 8 && c.cols == 8 && c.bandwidth == 0 && c.ifmap_kb == 0);
    cr_assert_str_eq(c.dataflow, "os");
    cr_assert_str_eq(c.run_name, "c");
}

Test(scalesim, config_maps_onto_mxu)
{
    struct mxu_scalesim_config c;
    mxu_hw_config cfg;
    uint32_t bw = 0;
    cr_assert_eq(mxu_scalesim_config_parse(google_cfg, strlen(google_cfg), "g.cfg", &c), MXU_OK);
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_scalesim_config_apply(&c, &cfg, &bw), MXU_OK, "%s", mxu_error_detail());
    cr_assert(cfg.rows == 32 && cfg.cols == 16);
    cr_assert_eq(cfg.ub_lines, 64 * 1024 / 32);   /* lines of max(rows, cols) bytes */
    cr_assert_eq(cfg.wb_lines, 128 * 1024 / 16);  /* lines of cols weights */
    cr_assert_eq(cfg.acc_rows, 32 * 1024 / 64);   /* rows of cols int32 */
    cr_assert_eq(bw, 10);
    cr_assert_eq(cfg.dram_beat_bytes, 16);
    /* a bandwidth above the beat widens it */
    c.bandwidth = 40;
    cr_assert_eq(mxu_scalesim_config_apply(&c, &cfg, &bw), MXU_OK, "%s", mxu_error_detail());
    cr_assert_eq(cfg.dram_beat_bytes, 64);
    cr_assert_eq(bw, 40);
}

Test(scalesim, config_that_mxu_cannot_build)
{
    struct mxu_scalesim_config c;
    mxu_hw_config cfg;
    const char *text = "[architecture_presets]\nArrayHeight: 64\nArrayWidth: 64\nFilterSramSzkB: 1\n";
    cr_assert_eq(mxu_scalesim_config_parse(text, strlen(text), "s.cfg", &c), MXU_OK);
    mxu_config_default(&cfg);
    cr_assert_eq(mxu_scalesim_config_apply(&c, &cfg, NULL), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "s.cfg:4: FilterSramSzkB=1 gives 16 weight lines"), "%s", mxu_error_detail());
    text = "[architecture_presets]\nArrayHeight: 512\nArrayWidth: 64\n";
    cr_assert_eq(mxu_scalesim_config_parse(text, strlen(text), "s.cfg", &c), MXU_OK);
    cr_assert_eq(mxu_scalesim_config_apply(&c, &cfg, NULL), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "s.cfg:2: a 512x64 array"), "%s", mxu_error_detail());
    text = "[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nBandwidth: 100\n";
    cr_assert_eq(mxu_scalesim_config_parse(text, strlen(text), "s.cfg", &c), MXU_OK);
    cr_assert_eq(mxu_scalesim_config_apply(&c, &cfg, NULL), MXU_ERR_INVAL);
    cr_assert(strstr(mxu_error_detail(), "s.cfg:4: Bandwidth 100"), "%s", mxu_error_detail());
}

Test(scalesim, config_malformed)
{
    cfg_bad("", "x.cfg: no [architecture_presets] section");
    cfg_bad("[architecture_presets]\nArrayWidth: 8\n", "x.cfg: [architecture_presets] has no ArrayHeight");
    cfg_bad("[architecture_presets]\nArrayHeight: 8\n", "has no ArrayWidth");
    cfg_bad("[architecture_presets]\nArrayHeight: eight\n", "x.cfg:2: ArrayHeight 'eight' is not an integer");
    cfg_bad("[architecture_presets]\nArrayHeight: 8\nArrayWidth: 0\n", "x.cfg:3: ArrayWidth '0'");
    cfg_bad("[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nDataflow: rs\n", "x.cfg:4: Dataflow 'rs'");
    cfg_bad("[architecture_presets]\nArrayHeight: 8\nArrayWidth: 8\nBandwidth: 10,x\n", "x.cfg:4: Bandwidth 'x'");
    cfg_bad("[run_presets]\nInterfaceBandwidth: SOME\n", "x.cfg:2: InterfaceBandwidth 'SOME'");
    cfg_bad("ArrayHeight: 8\n", "x.cfg:1: 'ArrayHeight: 8' before any [section]");
    cfg_bad("[architecture_presets]\nArrayHeight 8\n", "x.cfg:2: 'ArrayHeight 8' is neither");
    cfg_bad("[architecture_presets\nArrayHeight: 8\n", "x.cfg:1: unterminated section header");
    cfg_bad("[architecture_presets]\n= 8\n", "x.cfg:2: a value without a key");
}
