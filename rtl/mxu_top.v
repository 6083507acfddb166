// mxu_top: the mxu accelerator. A command processor (fetch + decode + three
// queues), the load DMA, the compute unit (systolic array + activation engine) and
// the store DMA, sharing one DRAM port; on-chip memories as register arrays.
//
//   CSR port ──► mxu_csr ──► mxu_ctrl ◄── mxu_fetch ◄─┐
//                              │ load / compute / store queues
//               ┌──────────────┼─────────────────┐    │
//          mxu_dma_load   mxu_compute       mxu_dma_store
//               │        (array, act)            │    │
//               └──────── mxu_arb (DRAM port) ───┴────┘
//
// On-chip memories are zero at power-on (initial blocks); rst_ni resets the control
// state, the array's weight registers and the LUT, not the big memories.
`default_nettype none
`include "mxu_isa.vh"

module mxu_top #(
  parameter integer ROWS            = `MXU_DEFAULT_ROWS,
  parameter integer COLS            = `MXU_DEFAULT_COLS,
  parameter integer UB_LINES        = `MXU_DEFAULT_UB_LINES,
  parameter integer ACC_ROWS        = `MXU_DEFAULT_ACC_ROWS,
  parameter integer WB_LINES        = `MXU_DEFAULT_WB_LINES,
  parameter integer PARAM_LINES     = `MXU_DEFAULT_PARAM_LINES,
  parameter integer DRAM_BYTES      = `MXU_DEFAULT_DRAM_BYTES,
  parameter integer DRAM_BEAT_BYTES = `MXU_DEFAULT_DRAM_BEAT_BYTES,
  parameter integer QUEUE_DEPTH     = `MXU_DEFAULT_QUEUE_DEPTH,
  parameter integer TOKEN_MAX       = `MXU_DEFAULT_TOKEN_MAX
) (
  input  wire                           clk_i,
  input  wire                           rst_ni,
  input  wire                           csr_valid_i,
  input  wire                           csr_write_i,
  input  wire [11:0]                    csr_addr_i,
  input  wire [31:0]                    csr_wdata_i,
  output wire [31:0]                    csr_rdata_o,
  output wire                           dram_req_valid_o,
  input  wire                           dram_req_ready_i,
  output wire                           dram_req_write_o,
  output wire [31:0]                    dram_req_addr_o,
  output wire [8*DRAM_BEAT_BYTES-1:0]   dram_req_wdata_o,
  output wire [DRAM_BEAT_BYTES-1:0]     dram_req_wstrb_o,
  input  wire                           dram_rsp_valid_i,
  input  wire [8*DRAM_BEAT_BYTES-1:0]   dram_rsp_rdata_i,
  output wire                           busy_o,
  output wire                           done_o,
  output wire                           error_o
);
  localparam integer BEAT     = DRAM_BEAT_BYTES;
  localparam integer UBW      = (ROWS > COLS) ? ROWS : COLS;
  localparam integer PARAM_W  = COLS * `MXU_DEFAULT_PARAM_BYTES;
  localparam integer LUT_N    = `MXU_DEFAULT_LUT_ENTRIES;
  localparam integer LINE_MAX = (UBW > PARAM_W) ? ((UBW > LUT_N) ? UBW : LUT_N)
                                                : ((PARAM_W > LUT_N) ? PARAM_W : LUT_N);
  localparam integer UB_AW    = (UB_LINES > 1) ? $clog2(UB_LINES) : 1;
  localparam integer WB_AW    = (WB_LINES > 1) ? $clog2(WB_LINES) : 1;
  localparam integer ACC_AW   = (ACC_ROWS > 1) ? $clog2(ACC_ROWS) : 1;
  localparam integer PARAM_AW = (PARAM_LINES > 1) ? $clog2(PARAM_LINES) : 1;
  localparam integer LOAD_BUF = 32;       // load DMA response buffer (beats)
  localparam integer FETCH_BUF = 4;       // instructions fetched ahead
  localparam [11:0] NCNT_12   = ((`MXU_CNT_ACT_BUSY - `MXU_CNT_CYCLES) >> 3) + 12'd1;
  localparam integer NCNT     = {20'd0, NCNT_12};

  // ---- parameter checks (elaboration stops on an undefined module) ----------------
  generate
    if (ROWS < 1 || COLS < 1 || ROWS > 256 || COLS > 256) begin : g_bad_array
      mxu_param_error_rows_cols_out_of_range u_param_error ();
    end
    if (BEAT < 4 || BEAT > 32 || (BEAT & (BEAT - 1)) != 0) begin : g_bad_beat
      mxu_param_error_dram_beat_bytes_must_be_4_8_16_or_32 u_param_error ();
    end
    if (UB_LINES < ROWS || ACC_ROWS < 1 || WB_LINES < ROWS || PARAM_LINES < 1) begin : g_bad_mem
      mxu_param_error_memory_sizes u_param_error ();
    end
    if (UB_AW > 24 || WB_AW > 16 || ACC_AW > 16 || PARAM_AW > 16) begin : g_bad_fields
      mxu_param_error_memory_larger_than_isa_fields u_param_error ();
    end
    if (DRAM_BYTES < 64 || QUEUE_DEPTH < 1 || TOKEN_MAX < 1 || TOKEN_MAX > 65535) begin : g_bad_misc
      mxu_param_error_dram_queue_or_token_max u_param_error ();
    end
  endgenerate

  // ---- CSRs and control ---------------------------------------------------------------
  wire        start, busy, done, err;
  wire [31:0] cmd_base, cmd_count, err_pc;
  wire [7:0]  err_code;
  wire [NCNT*8-1:0] cnt_inc;

  mxu_csr #(
    .ROWS(ROWS), .COLS(COLS), .UB_LINES(UB_LINES), .ACC_ROWS(ACC_ROWS), .WB_LINES(WB_LINES),
    .PARAM_LINES(PARAM_LINES), .DRAM_BYTES(DRAM_BYTES), .DRAM_BEAT_BYTES(DRAM_BEAT_BYTES),
    .QUEUE_DEPTH(QUEUE_DEPTH), .TOKEN_MAX(TOKEN_MAX), .NCNT(NCNT)
  ) u_csr (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .csr_valid_i(csr_valid_i), .csr_write_i(csr_write_i), .csr_addr_i(csr_addr_i),
    .csr_wdata_i(csr_wdata_i), .csr_rdata_o(csr_rdata_o),
    .start_o(start), .cmd_base_o(cmd_base), .cmd_count_o(cmd_count),
    .busy_i(busy), .done_i(done), .error_i(err), .err_code_i(err_code), .err_pc_i(err_pc),
    .cnt_inc_i(cnt_inc));

  wire         f_start, f_stop, f_insn_valid, f_insn_ready, f_idle;
  wire [255:0] f_insn;
  wire         lq_valid, lq_ready, cq_valid, cq_ready, sq_valid, sq_ready;
  wire [255:0] lq_insn, cq_insn, sq_insn;
  wire [31:0]  cq_ub_hi, cq_acc_hi;
  wire         units_idle, decoded, finish;
  wire         l2c_push, l2c_pop, c2l_pop, c2s_pop, s2c_push, s2c_pop;
  wire [3:0]   c2l_push, c2s_push;
  wire         l2c_avail, c2l_avail, c2s_avail, s2c_avail;

  mxu_ctrl #(
    .ROWS(ROWS), .COLS(COLS), .UB_LINES(UB_LINES), .ACC_ROWS(ACC_ROWS), .WB_LINES(WB_LINES),
    .PARAM_LINES(PARAM_LINES), .DRAM_BYTES(DRAM_BYTES), .QUEUE_DEPTH(QUEUE_DEPTH),
    .TOKEN_MAX(TOKEN_MAX)
  ) u_ctrl (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .start_i(start), .cmd_base_i(cmd_base), .cmd_count_i(cmd_count),
    .fetch_start_o(f_start), .fetch_stop_o(f_stop), .insn_valid_i(f_insn_valid),
    .insn_ready_o(f_insn_ready), .insn_i(f_insn), .fetch_idle_i(f_idle),
    .lq_valid_o(lq_valid), .lq_ready_i(lq_ready), .lq_insn_o(lq_insn),
    .cq_valid_o(cq_valid), .cq_ready_i(cq_ready), .cq_insn_o(cq_insn),
    .cq_ub_hi_o(cq_ub_hi), .cq_acc_hi_o(cq_acc_hi),
    .sq_valid_o(sq_valid), .sq_ready_i(sq_ready), .sq_insn_o(sq_insn),
    .units_idle_i(units_idle),
    .l2c_push_i(l2c_push), .l2c_pop_i(l2c_pop), .c2l_push_i(c2l_push), .c2l_pop_i(c2l_pop),
    .c2s_push_i(c2s_push), .c2s_pop_i(c2s_pop), .s2c_push_i(s2c_push), .s2c_pop_i(s2c_pop),
    .l2c_avail_o(l2c_avail), .c2l_avail_o(c2l_avail), .c2s_avail_o(c2s_avail), .s2c_avail_o(s2c_avail),
    .busy_o(busy), .done_o(done), .error_o(err), .err_code_o(err_code), .err_pc_o(err_pc),
    .decoded_o(decoded), .finish_o(finish));

  // ---- DRAM port ------------------------------------------------------------------------
  wire             fr_valid, fr_ready, lr_valid, lr_ready, sw_valid, sw_ready;
  wire [31:0]      fr_addr, lr_addr, sw_addr;
  wire [BEAT*8-1:0] sw_data;
  wire [BEAT-1:0]  sw_strb;
  wire             f_rsp, l_rsp, rd_fire, wr_fire, arb_idle;

  mxu_fetch #(.BEAT(BEAT), .BUF_INSNS(FETCH_BUF)) u_fetch (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .start_i(f_start), .base_i(cmd_base), .count_i(cmd_count), .stop_i(f_stop),
    .rd_valid_o(fr_valid), .rd_ready_i(fr_ready), .rd_addr_o(fr_addr),
    .rsp_valid_i(f_rsp), .rsp_data_i(dram_rsp_rdata_i),
    .insn_valid_o(f_insn_valid), .insn_ready_i(f_insn_ready), .insn_o(f_insn), .idle_o(f_idle));

  mxu_arb #(.BEAT(BEAT), .ID_DEPTH(LOAD_BUF + FETCH_BUF * 32 / BEAT)) u_arb (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .f_valid_i(fr_valid), .f_ready_o(fr_ready), .f_addr_i(fr_addr),
    .l_valid_i(lr_valid), .l_ready_o(lr_ready), .l_addr_i(lr_addr),
    .s_valid_i(sw_valid), .s_ready_o(sw_ready), .s_addr_i(sw_addr), .s_data_i(sw_data), .s_strb_i(sw_strb),
    .req_valid_o(dram_req_valid_o), .req_ready_i(dram_req_ready_i), .req_write_o(dram_req_write_o),
    .req_addr_o(dram_req_addr_o), .req_wdata_o(dram_req_wdata_o), .req_wstrb_o(dram_req_wstrb_o),
    .rsp_valid_i(dram_rsp_valid_i), .f_rsp_valid_o(f_rsp), .l_rsp_valid_o(l_rsp),
    .rd_fire_o(rd_fire), .wr_fire_o(wr_fire), .idle_o(arb_idle));

  // ---- memories ---------------------------------------------------------------------------
  // UB: write ports 0 = load, 1 = activation; read ports 0 = MATMUL vectors, 1 = store.
  wire                  ld_we;
  wire [1:0]            ld_mem;
  wire [23:0]           ld_line;
  wire [LINE_MAX*8-1:0] ld_data;
  wire                  act_we;
  wire [UB_AW-1:0]      act_waddr;
  wire [UBW*8-1:0]      act_wdata;
  wire                  vec_re, st_re;
  wire [UB_AW-1:0]      vec_raddr, st_raddr;
  wire [UBW*8-1:0]      vec_rdata, st_rdata;
  mxu_ram #(.WIDTH(UBW*8), .DEPTH(UB_LINES), .AW(UB_AW), .NR(2), .NW(2)) u_ub (
    .clk_i(clk_i),
    .we_i({act_we, ld_we && ld_mem == `MXU_MEM_UB}), .waddr_i({act_waddr, ld_line[UB_AW-1:0]}),
    .wdata_i({act_wdata, ld_data[UBW*8-1:0]}),
    .re_i({st_re, vec_re}), .raddr_i({st_raddr, vec_raddr}), .rdata_o({st_rdata, vec_rdata}));

  wire              wb_re;
  wire [WB_AW-1:0]  wb_raddr;
  wire [COLS*8-1:0] wb_rdata;
  mxu_ram #(.WIDTH(COLS*8), .DEPTH(WB_LINES), .AW(WB_AW), .NR(1), .NW(1)) u_wb (
    .clk_i(clk_i),
    .we_i(ld_we && ld_mem == `MXU_MEM_WB), .waddr_i(ld_line[WB_AW-1:0]), .wdata_i(ld_data[COLS*8-1:0]),
    .re_i(wb_re), .raddr_i(wb_raddr), .rdata_o(wb_rdata));

  wire               acc_we, acc_re0, acc_re1;
  wire [ACC_AW-1:0]  acc_waddr, acc_raddr0, acc_raddr1;
  wire [COLS*32-1:0] acc_wdata, acc_rdata0, acc_rdata1;
  mxu_ram #(.WIDTH(COLS*32), .DEPTH(ACC_ROWS), .AW(ACC_AW), .NR(2), .NW(1)) u_acc (
    .clk_i(clk_i),
    .we_i(acc_we), .waddr_i(acc_waddr), .wdata_i(acc_wdata),
    .re_i({acc_re1, acc_re0}), .raddr_i({acc_raddr1, acc_raddr0}), .rdata_o({acc_rdata1, acc_rdata0}));

  wire               param_re;
  wire [PARAM_AW-1:0] param_raddr;
  wire [COLS*96-1:0] param_rdata;
  mxu_ram #(.WIDTH(COLS*96), .DEPTH(PARAM_LINES), .AW(PARAM_AW), .NR(1), .NW(1)) u_param (
    .clk_i(clk_i),
    .we_i(ld_we && ld_mem == `MXU_MEM_PARAM), .waddr_i(ld_line[PARAM_AW-1:0]),
    .wdata_i(ld_data[COLS*96-1:0]),
    .re_i(param_re), .raddr_i(param_raddr), .rdata_o(param_rdata));

  reg [LUT_N*8-1:0] lut_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) lut_q <= {LUT_N*8{1'b0}};
    else if (ld_we && ld_mem == `MXU_MEM_LUT) lut_q <= ld_data[LUT_N*8-1:0];
  end

  // ---- units --------------------------------------------------------------------------------
  wire ld_done, ld_busy, ld_wait, ld_idle;
  mxu_dma_load #(.BEAT(BEAT), .LINE_MAX(LINE_MAX), .BUF_BEATS(LOAD_BUF), .DESC_DEPTH(16)) u_load (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .insn_valid_i(lq_valid), .insn_ready_o(lq_ready), .insn_i(lq_insn),
    .tok_avail_i(c2l_avail), .tok_pop_o(c2l_pop), .tok_push_o(l2c_push),
    .rd_valid_o(lr_valid), .rd_ready_i(lr_ready), .rd_addr_o(lr_addr),
    .rsp_valid_i(l_rsp), .rsp_data_i(dram_rsp_rdata_i),
    .we_o(ld_we), .wmem_o(ld_mem), .wline_o(ld_line), .wdata_o(ld_data),
    .done_o(ld_done), .busy_o(ld_busy), .wait_o(ld_wait), .idle_o(ld_idle));

  wire st_done, st_busy, st_wait, st_idle;
  mxu_dma_store #(.BEAT(BEAT), .UB_BYTES(UBW), .UB_AW(UB_AW)) u_store (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .insn_valid_i(sq_valid), .insn_ready_o(sq_ready), .insn_i(sq_insn),
    .tok_avail_i(c2s_avail), .tok_pop_o(c2s_pop), .tok_push_o(s2c_push),
    .ub_re_o(st_re), .ub_raddr_o(st_raddr), .ub_rdata_i(st_rdata),
    .wr_valid_o(sw_valid), .wr_ready_i(sw_ready), .wr_addr_o(sw_addr), .wr_data_o(sw_data),
    .wr_strb_o(sw_strb),
    .done_o(st_done), .busy_o(st_busy), .wait_o(st_wait), .idle_o(st_idle));

  wire [1:0] cp_done;
  wire cp_busy, cp_wait, cp_vector, cp_wstall, cp_act_rows, cp_idle;
  mxu_compute #(
    .ROWS(ROWS), .COLS(COLS), .UB_BYTES(UBW), .UB_AW(UB_AW), .WB_AW(WB_AW), .ACC_AW(ACC_AW),
    .PARAM_AW(PARAM_AW)
  ) u_compute (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .cq_valid_i(cq_valid), .cq_ready_o(cq_ready), .cq_insn_i(cq_insn),
    .cq_ub_hi_i(cq_ub_hi), .cq_acc_hi_i(cq_acc_hi),
    .l2c_avail_i(l2c_avail), .s2c_avail_i(s2c_avail), .l2c_pop_o(l2c_pop), .s2c_pop_o(s2c_pop),
    .c2l_push_o(c2l_push), .c2s_push_o(c2s_push),
    .ub_re_o(vec_re), .ub_raddr_o(vec_raddr), .ub_rdata_i(vec_rdata),
    .ub_we_o(act_we), .ub_waddr_o(act_waddr), .ub_wdata_o(act_wdata),
    .wb_re_o(wb_re), .wb_raddr_o(wb_raddr), .wb_rdata_i(wb_rdata),
    .acc_we_o(acc_we), .acc_waddr_o(acc_waddr), .acc_wdata_o(acc_wdata),
    .acc_re0_o(acc_re0), .acc_raddr0_o(acc_raddr0), .acc_rdata0_i(acc_rdata0),
    .acc_re1_o(acc_re1), .acc_raddr1_o(acc_raddr1), .acc_rdata1_i(acc_rdata1),
    .param_re_o(param_re), .param_raddr_o(param_raddr), .param_rdata_i(param_rdata),
    .lut_i(lut_q),
    .done_o(cp_done), .busy_o(cp_busy), .wait_o(cp_wait), .vector_o(cp_vector),
    .weight_stall_o(cp_wstall), .act_rows_o(cp_act_rows), .idle_o(cp_idle));

  assign units_idle = ld_idle && st_idle && cp_idle && arb_idle;

  // ---- counters (increments per cycle, in CSR map order) -----------------------------------
  function automatic [11:0] cidx(input [11:0] off);
    cidx = (off - `MXU_CNT_CYCLES) >> 3;
  endfunction
  wire ld_fire = lr_valid && lr_ready;
  wire [7:0] rd_bytes = (ld_fire ? BEAT[7:0] : 8'd0) + (decoded ? 8'd32 : 8'd0);
  wire [7:0] insns = {7'd0, ld_done} + {7'd0, st_done} + {6'd0, cp_done} + {7'd0, finish};
  assign cnt_inc[8*cidx(`MXU_CNT_CYCLES)        +: 8] = 8'd1;
  assign cnt_inc[8*cidx(`MXU_CNT_LOAD_BUSY)     +: 8] = {7'd0, ld_busy};
  assign cnt_inc[8*cidx(`MXU_CNT_LOAD_WAIT)     +: 8] = {7'd0, ld_wait};
  assign cnt_inc[8*cidx(`MXU_CNT_COMPUTE_BUSY)  +: 8] = {7'd0, cp_busy};
  assign cnt_inc[8*cidx(`MXU_CNT_COMPUTE_WAIT)  +: 8] = {7'd0, cp_wait};
  assign cnt_inc[8*cidx(`MXU_CNT_STORE_BUSY)    +: 8] = {7'd0, st_busy};
  assign cnt_inc[8*cidx(`MXU_CNT_STORE_WAIT)    +: 8] = {7'd0, st_wait};
  assign cnt_inc[8*cidx(`MXU_CNT_ARRAY_VECTORS) +: 8] = {7'd0, cp_vector};
  assign cnt_inc[8*cidx(`MXU_CNT_WEIGHT_STALL)  +: 8] = {7'd0, cp_wstall};
  assign cnt_inc[8*cidx(`MXU_CNT_DRAM_RD_BYTES) +: 8] = rd_bytes;
  assign cnt_inc[8*cidx(`MXU_CNT_DRAM_WR_BYTES) +: 8] = wr_fire ? BEAT[7:0] : 8'd0;
  assign cnt_inc[8*cidx(`MXU_CNT_INSNS)         +: 8] = insns;
  assign cnt_inc[8*cidx(`MXU_CNT_ACT_BUSY)      +: 8] = {7'd0, cp_act_rows};

  assign busy_o  = busy;
  assign done_o  = done;
  assign error_o = err;

  wire unused = &{1'b0, rd_fire, ld_line, ld_data};
endmodule
