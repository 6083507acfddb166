// mxu_csr: the CSR map of isa/mxu.isa. ID/config registers report the parameters;
// CMD_BASE/CMD_COUNT; CTRL.start (ignored while busy); STATUS, ERR_CODE, ERR_PC;
// NCNT 64-bit counters that clear at start and count only while busy (so they are
// frozen once done). Reads are combinational and have no side effects.
`default_nettype none
`include "mxu_isa.vh"

module mxu_csr #(
  parameter integer ROWS            = 16,
  parameter integer COLS            = 16,
  parameter integer UB_LINES        = 16384,
  parameter integer ACC_ROWS        = 1024,
  parameter integer WB_LINES        = 4096,
  parameter integer PARAM_LINES     = 64,
  parameter integer DRAM_BYTES      = 268435456,
  parameter integer DRAM_BEAT_BYTES = 16,
  parameter integer QUEUE_DEPTH     = 8,
  parameter integer TOKEN_MAX       = 255,
  parameter integer NCNT            = 13
) (
  input  wire            clk_i,
  input  wire            rst_ni,
  input  wire            csr_valid_i,
  input  wire            csr_write_i,
  input  wire [11:0]     csr_addr_i,
  input  wire [31:0]     csr_wdata_i,
  output reg  [31:0]     csr_rdata_o,
  output wire            start_o,
  output wire [31:0]     cmd_base_o,
  output wire [31:0]     cmd_count_o,
  input  wire            busy_i,
  input  wire            done_i,
  input  wire            error_i,
  input  wire [7:0]      err_code_i,
  input  wire [31:0]     err_pc_i,
  input  wire [NCNT*8-1:0] cnt_inc_i      // per counter, in map order from CYCLES
);
  localparam integer UBW = (ROWS > COLS) ? ROWS : COLS;
  localparam [31:0] P_ROWS = ROWS, P_COLS = COLS, P_UB_LINES = UB_LINES, P_UBW = UBW;
  localparam [31:0] P_ACC_ROWS = ACC_ROWS, P_WB_LINES = WB_LINES, P_PARAM_LINES = PARAM_LINES;
  localparam [31:0] P_DRAM_BYTES = DRAM_BYTES, P_BEAT = DRAM_BEAT_BYTES;
  localparam [31:0] P_QUEUE_DEPTH = QUEUE_DEPTH, P_TOKEN_MAX = TOKEN_MAX;

  reg [31:0] base_q, count_q;
  reg [63:0] cnt_q [0:15];
  wire wr = csr_valid_i && csr_write_i;
  assign start_o = wr && csr_addr_i == `MXU_CSR_CTRL && csr_wdata_i[0] && !busy_i;

  integer i;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      base_q <= 32'd0;
      count_q <= 32'd0;
      for (i = 0; i < 16; i = i + 1) cnt_q[i] <= 64'd0;
    end else begin
      if (wr && csr_addr_i == `MXU_CSR_CMD_BASE && !busy_i)  base_q  <= csr_wdata_i;
      if (wr && csr_addr_i == `MXU_CSR_CMD_COUNT && !busy_i) count_q <= csr_wdata_i;
      for (i = 0; i < NCNT; i = i + 1) begin
        if (start_o) cnt_q[i] <= 64'd0;
        else if (busy_i) cnt_q[i] <= cnt_q[i] + {56'd0, cnt_inc_i[8*i +: 8]};
      end
    end
  end

  wire [11:0] cnt_off = csr_addr_i - `MXU_CNT_CYCLES;
  localparam integer CNT_END_I = NCNT * 8;
  localparam [11:0] CNT_END = CNT_END_I[11:0];
  wire        is_cnt  = csr_addr_i >= `MXU_CNT_CYCLES && cnt_off < CNT_END && csr_addr_i[1:0] == 2'd0;
  wire [63:0] cnt_val = cnt_q[cnt_off[6:3]];

  always @* begin
    case (csr_addr_i)
      `MXU_CSR_ID:              csr_rdata_o = `MXU_ID_MAGIC;
      `MXU_CSR_VERSION:         csr_rdata_o = `MXU_ISA_VERSION;
      `MXU_CSR_ROWS:            csr_rdata_o = P_ROWS;
      `MXU_CSR_COLS:            csr_rdata_o = P_COLS;
      `MXU_CSR_UB_LINES:        csr_rdata_o = P_UB_LINES;
      `MXU_CSR_UB_LINE_BYTES:   csr_rdata_o = P_UBW;
      `MXU_CSR_ACC_ROWS:        csr_rdata_o = P_ACC_ROWS;
      `MXU_CSR_WB_LINES:        csr_rdata_o = P_WB_LINES;
      `MXU_CSR_PARAM_LINES:     csr_rdata_o = P_PARAM_LINES;
      `MXU_CSR_DRAM_BYTES:      csr_rdata_o = P_DRAM_BYTES;
      `MXU_CSR_DRAM_BEAT_BYTES: csr_rdata_o = P_BEAT;
      `MXU_CSR_QUEUE_DEPTH:     csr_rdata_o = P_QUEUE_DEPTH;
      `MXU_CSR_TOKEN_MAX:       csr_rdata_o = P_TOKEN_MAX;
      `MXU_CSR_CMD_BASE:        csr_rdata_o = base_q;
      `MXU_CSR_CMD_COUNT:       csr_rdata_o = count_q;
      `MXU_CSR_STATUS:          csr_rdata_o = (busy_i ? `MXU_STATUS_BUSY : 32'd0) |
                                              (done_i ? `MXU_STATUS_DONE : 32'd0) |
                                              (error_i ? `MXU_STATUS_ERROR : 32'd0);
      `MXU_CSR_ERR_CODE:        csr_rdata_o = {24'd0, err_code_i};
      `MXU_CSR_ERR_PC:          csr_rdata_o = err_pc_i;
      default:                  csr_rdata_o = !is_cnt ? 32'd0 :
                                              cnt_off[2] ? cnt_val[63:32] : cnt_val[31:0];
    endcase
  end
  assign cmd_base_o  = base_q;
  assign cmd_count_o = count_q;
  generate
    if (NCNT > 16) begin : g_bad_param
      mxu_param_error_too_many_counters u_param_error ();
    end
  endgenerate
  wire unused = &{1'b0, cnt_off[11:7], cnt_off[1:0]};
endmodule
