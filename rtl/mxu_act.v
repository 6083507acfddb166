// mxu_act: the ACTIVATE engine. Accumulator rows -> bias, requantize, zero point,
// clamp, LUT, max-pool -> UB lines; one accumulator row per cycle.
//
// The compute sequencer hands over one ACTIVATE at a time (start_i when ready_o)
// together with the number of array vectors issued before it; the engine waits
// until that many results have landed in the accumulators (vec_landed_i), so it
// runs in the background while later MATMULs stream. done_o pulses in the cycle
// the last UB line is written, with the instruction's push flags.
//
// Pipeline: issue (ACC read) -> ACC data -> lane stages 1..4 -> UB write.
`default_nettype none
`include "mxu_isa.vh"

module mxu_act #(
  parameter integer COLS        = 16,
  parameter integer UB_BYTES    = 16,   // UB line width (bytes)
  parameter integer ACC_AW      = 10,
  parameter integer UB_AW       = 14,
  parameter integer PARAM_AW    = 6
) (
  input  wire                   clk_i,
  input  wire                   rst_ni,
  input  wire                   start_i,
  output wire                   ready_o,
  input  wire [255:0]           insn_i,
  input  wire [31:0]            vec_wait_i,
  input  wire [31:0]            vec_landed_i,
  output wire                   param_re_o,
  output wire [PARAM_AW-1:0]    param_raddr_o,
  input  wire [COLS*96-1:0]     param_rdata_i,
  output wire                   acc_re_o,
  output wire [ACC_AW-1:0]      acc_raddr_o,
  input  wire [COLS*32-1:0]     acc_rdata_i,
  output wire                   ub_we_o,
  output wire [UB_AW-1:0]       ub_waddr_o,
  output wire [UB_BYTES*8-1:0]  ub_wdata_o,
  input  wire [2047:0]          lut_i,
  output wire                   done_o,
  output wire [1:0]             done_push_o,   // {push_next, push_prev}
  output wire                   busy_o,
  output wire                   rows_o         // an accumulator row is read this cycle
);
  generate
    if (UB_BYTES < COLS) begin : g_bad_param
      mxu_param_error_act_ub_narrower_than_cols u_param_error ();
    end
  endgenerate

  localparam [2:0] S_IDLE = 3'd0, S_PARAM = 3'd1, S_WAIT = 3'd2, S_RUN = 3'd3, S_DRAIN = 3'd4;

  reg [2:0]  state_q;
  reg [31:0] vec_wait_q;
  reg [15:0] in_w_q, out_h_q, out_w_q;
  reg [3:0]  pk_q, ps_q;
  reg [19:0] ps_in_w_q;
  reg [7:0]  zp_q, cmin_q, cmax_q;
  reg        lut_en_q;
  reg        round_half_up_q;
  reg [1:0]  push_q;
  reg [15:0] py_q, px_q;
  reg [3:0]  dy_q, dx_q;
  reg [31:0] row_q, dyb_q, pxb_q, pyb_q, line_q;


  wire accept = start_i && state_q == S_IDLE;
  wire [31:0] landed_diff = vec_landed_i - vec_wait_q;
  wire landed = !landed_diff[31];

  // ---- row walk: py, px (output pixel), dy, dx (pooling window) ----------------
  wire issue     = state_q == S_RUN;
  wire dx_end    = dx_q == pk_q - 4'd1;
  wire dy_end    = dy_q == pk_q - 4'd1;
  wire px_end    = px_q == out_w_q - 16'd1;
  wire py_end    = py_q == out_h_q - 16'd1;
  wire win_first = dx_q == 4'd0 && dy_q == 4'd0;
  wire win_last  = dx_end && dy_end;
  wire final_row = win_last && px_end && py_end;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_IDLE;
      vec_wait_q <= 32'd0;
      in_w_q <= 16'd0; out_h_q <= 16'd0; out_w_q <= 16'd0;
      pk_q <= 4'd0; ps_q <= 4'd0; ps_in_w_q <= 20'd0;
      zp_q <= 8'd0; cmin_q <= 8'd0; cmax_q <= 8'd0; lut_en_q <= 1'b0; push_q <= 2'd0;
      round_half_up_q <= 1'b0;
      py_q <= 16'd0; px_q <= 16'd0; dy_q <= 4'd0; dx_q <= 4'd0;
      row_q <= 32'd0; dyb_q <= 32'd0; pxb_q <= 32'd0; pyb_q <= 32'd0; line_q <= 32'd0;
    end else begin
      case (state_q)
        S_IDLE: if (accept) begin
          state_q    <= S_PARAM;
          vec_wait_q <= vec_wait_i;
          in_w_q     <= insn_i[`MXU_F_ACTIVATE_IN_W];
          out_h_q    <= insn_i[`MXU_F_ACTIVATE_OUT_H];
          out_w_q    <= insn_i[`MXU_F_ACTIVATE_OUT_W];
          pk_q       <= insn_i[`MXU_F_ACTIVATE_POOL_K];
          ps_q       <= insn_i[`MXU_F_ACTIVATE_POOL_S];
          ps_in_w_q  <= insn_i[`MXU_F_ACTIVATE_POOL_S] * insn_i[`MXU_F_ACTIVATE_IN_W];
          zp_q       <= insn_i[`MXU_F_ACTIVATE_ZP_OUT];
          cmin_q     <= insn_i[`MXU_F_ACTIVATE_CLAMP_MIN];
          cmax_q     <= insn_i[`MXU_F_ACTIVATE_CLAMP_MAX];
          lut_en_q   <= insn_i[`MXU_F_ACTIVATE_LUT_EN];
          round_half_up_q <= insn_i[`MXU_F_ACTIVATE_ROUND_HALF_UP];
          push_q     <= {insn_i[`MXU_F_ACTIVATE_PUSH_NEXT], insn_i[`MXU_F_ACTIVATE_PUSH_PREV]};
          py_q <= 16'd0; px_q <= 16'd0; dy_q <= 4'd0; dx_q <= 4'd0;
          row_q  <= {16'd0, insn_i[`MXU_F_ACTIVATE_ACC_ADDR]};
          dyb_q  <= {16'd0, insn_i[`MXU_F_ACTIVATE_ACC_ADDR]};
          pxb_q  <= {16'd0, insn_i[`MXU_F_ACTIVATE_ACC_ADDR]};
          pyb_q  <= {16'd0, insn_i[`MXU_F_ACTIVATE_ACC_ADDR]};
          line_q <= {8'd0, insn_i[`MXU_F_ACTIVATE_UB_ADDR]};
        end
        S_PARAM: state_q <= S_WAIT;
        S_WAIT:  if (landed) state_q <= S_RUN;
        S_RUN: begin
          if (!dx_end) begin
            dx_q <= dx_q + 4'd1;
            row_q <= row_q + 32'd1;
          end else if (!dy_end) begin
            dx_q <= 4'd0;
            dy_q <= dy_q + 4'd1;
            dyb_q <= dyb_q + {16'd0, in_w_q};
            row_q <= dyb_q + {16'd0, in_w_q};
          end else if (!px_end) begin
            dx_q <= 4'd0; dy_q <= 4'd0;
            px_q <= px_q + 16'd1;
            pxb_q <= pxb_q + {28'd0, ps_q};
            dyb_q <= pxb_q + {28'd0, ps_q};
            row_q <= pxb_q + {28'd0, ps_q};
            line_q <= line_q + 32'd1;
          end else begin
            dx_q <= 4'd0; dy_q <= 4'd0; px_q <= 16'd0;
            py_q <= py_q + 16'd1;
            pyb_q <= pyb_q + {12'd0, ps_in_w_q};
            pxb_q <= pyb_q + {12'd0, ps_in_w_q};
            dyb_q <= pyb_q + {12'd0, ps_in_w_q};
            row_q <= pyb_q + {12'd0, ps_in_w_q};
            line_q <= line_q + 32'd1;
            if (py_end) state_q <= S_DRAIN;
          end
        end
        S_DRAIN: if (wr_q && wr_final_q) state_q <= S_IDLE;
        default: state_q <= S_IDLE;
      endcase
    end
  end

  // Per-channel parameters, latched at the start of the instruction: they arrive
  // the cycle after the PARAM read. (Registers of their own per channel rather than
  // arrays: cheaper to simulate.)
  genvar c;
  generate
    for (c = 0; c < COLS; c = c + 1) begin : g_param
      reg [31:0] bias_q, qm_q;
      reg [4:0]  ls_q, rs_q;
      wire [31:0] shift = param_rdata_i[96*c+64 +: 32];
      always @(posedge clk_i) begin
        if (state_q == S_PARAM) begin
          bias_q <= param_rdata_i[96*c +: 32];
          qm_q   <= param_rdata_i[96*c+32 +: 32];
          // ls = clamp(shift, 0, 31), rs = clamp(-shift, 0, 31)
          ls_q <= shift[31] ? 5'd0 : (shift > 32'd31) ? 5'd31 : shift[4:0];
          rs_q <= !shift[31] ? 5'd0 : ($signed(shift) < -32'sd31) ? 5'd31 : 5'd0 - shift[4:0];
        end
      end
    end
  endgenerate

  // ---- pipeline flags: {valid, first, last, final, line} per stage ---------------
  // f1: ACC data valid (lane stage 1 input) ... f4: lane stage 4 input.
  localparam integer FW = 4 + UB_AW;
  reg [FW-1:0] f1_q, f2_q, f3_q, f4_q;
  reg          wr_q, wr_final_q;
  reg [UB_AW-1:0] wr_line_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      f1_q <= {FW{1'b0}}; f2_q <= {FW{1'b0}}; f3_q <= {FW{1'b0}}; f4_q <= {FW{1'b0}};
      wr_q <= 1'b0; wr_final_q <= 1'b0; wr_line_q <= {UB_AW{1'b0}};
    end else begin
      f1_q <= {issue, win_first, win_last, final_row, line_q[UB_AW-1:0]};
      f2_q <= f1_q; f3_q <= f2_q; f4_q <= f3_q;
      wr_q       <= f4_q[FW-1] && f4_q[FW-3];
      wr_final_q <= f4_q[FW-1] && f4_q[FW-3] && f4_q[FW-4];
      wr_line_q  <= f4_q[UB_AW-1:0];
    end
  end

  wire [COLS*8-1:0] pooled;
  generate
    for (c = 0; c < COLS; c = c + 1) begin : g_lane
      mxu_act_lane u_lane (
        .clk_i       (clk_i),
        .v0_i        (f1_q[FW-1]),
        .v1_i        (f2_q[FW-1]),
        .v2_i        (f3_q[FW-1]),
        .v3_i        (f4_q[FW-1]),
        .first3_i    (f4_q[FW-2]),
        .acc_i       (acc_rdata_i[32*c +: 32]),
        .bias_i      (g_param[c].bias_q),
        .qm_i        (g_param[c].qm_q),
        .ls_i        (g_param[c].ls_q),
        .rs_i        (g_param[c].rs_q),
        .zp_i        (zp_q),
        .clamp_min_i (cmin_q),
        .clamp_max_i (cmax_q),
        .lut_en_i    (lut_en_q),
        .round_half_up_i (round_half_up_q),
        .lut_i       (lut_i),
        .max_o       (pooled[8*c +: 8])
      );
    end
    if (UB_BYTES > COLS) begin : g_pad
      assign ub_wdata_o = {{8*(UB_BYTES-COLS){1'b0}}, pooled};
    end else begin : g_nopad
      assign ub_wdata_o = pooled;
    end
  endgenerate

  assign ready_o       = state_q == S_IDLE;
  assign param_re_o    = accept;
  wire [15:0] param_line = insn_i[`MXU_F_ACTIVATE_PARAM_LINE];
  assign param_raddr_o = param_line[PARAM_AW-1:0];
  assign acc_re_o      = issue;
  assign acc_raddr_o   = row_q[ACC_AW-1:0];
  assign ub_we_o       = wr_q;
  assign ub_waddr_o    = wr_line_q;
  assign done_o        = wr_q && wr_final_q;
  assign done_push_o   = push_q;
  assign busy_o        = state_q != S_IDLE;
  assign rows_o        = issue;

  wire unused = &{1'b0, insn_i, row_q, param_line, landed_diff[30:0], line_q[31:UB_AW]};
endmodule
