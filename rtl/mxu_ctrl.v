// mxu_ctrl: runs a program. CMD_RANGE check before the first fetch, then decodes
// the fetched instructions in program order (mxu_decode), keeps the static token
// count of docs/isa.md, and dispatches each instruction to its queue. FINISH, an
// error or running out of CMD_COUNT stops dispatch; the run is done when fetch and
// every queue and unit have drained. Also holds the runtime token counters.
`default_nettype none
`include "mxu_isa.vh"

module mxu_ctrl #(
  parameter integer ROWS        = 16,
  parameter integer COLS        = 16,
  parameter integer UB_LINES    = 16384,
  parameter integer ACC_ROWS    = 1024,
  parameter integer WB_LINES    = 4096,
  parameter integer PARAM_LINES = 64,
  parameter integer DRAM_BYTES  = 268435456,
  parameter integer QUEUE_DEPTH = 8,
  parameter integer TOKEN_MAX   = 255
) (
  input  wire          clk_i,
  input  wire          rst_ni,
  input  wire          start_i,
  input  wire [31:0]   cmd_base_i,
  input  wire [31:0]   cmd_count_i,
  // fetch
  output wire          fetch_start_o,
  output wire          fetch_stop_o,
  input  wire          insn_valid_i,
  output wire          insn_ready_o,
  input  wire [255:0]  insn_i,
  input  wire          fetch_idle_i,
  // queues
  output wire          lq_valid_o,
  input  wire          lq_ready_i,
  output wire [255:0]  lq_insn_o,
  output wire          cq_valid_o,
  input  wire          cq_ready_i,
  output wire [255:0]  cq_insn_o,
  output wire [31:0]   cq_ub_hi_o,
  output wire [31:0]   cq_acc_hi_o,
  output wire          sq_valid_o,
  input  wire          sq_ready_i,
  output wire [255:0]  sq_insn_o,
  input  wire          units_idle_i,
  // runtime tokens
  input  wire          l2c_push_i,
  input  wire          l2c_pop_i,
  input  wire [3:0]    c2l_push_i,
  input  wire          c2l_pop_i,
  input  wire [3:0]    c2s_push_i,
  input  wire          c2s_pop_i,
  input  wire          s2c_push_i,
  input  wire          s2c_pop_i,
  output wire          l2c_avail_o,
  output wire          c2l_avail_o,
  output wire          c2s_avail_o,
  output wire          s2c_avail_o,
  // status
  output wire          busy_o,
  output wire          done_o,
  output wire          error_o,
  output wire [7:0]    err_code_o,
  output wire [31:0]   err_pc_o,
  output wire          decoded_o,      // the decoder took an instruction this cycle
  output wire          finish_o        // FINISH completed (counted as an instruction)
);
  localparam integer TW = $clog2(TOKEN_MAX + 2);
  localparam integer QCW = $clog2(QUEUE_DEPTH + 1);
  localparam [1:0] S_IDLE = 2'd0, S_RUN = 2'd1, S_DRAIN = 2'd2;
  localparam [31:0] DRAM_BYTES_32 = DRAM_BYTES;

  reg [1:0]    state_q;
  reg          done_q, finish_q;
  reg [7:0]    err_q;
  reg [31:0]   pc_q, err_pc_q, count_q;
  reg [TW-1:0] t_l2c_q, t_c2l_q, t_c2s_q, t_s2c_q;

  wire [7:0]    d_err;
  wire [1:0]    d_queue;
  wire          d_finish;
  wire [31:0]   d_ub_hi, d_acc_hi;
  wire [TW-1:0] d_l2c, d_c2l, d_c2s, d_s2c;
  mxu_decode #(
    .ROWS(ROWS), .COLS(COLS), .UB_LINES(UB_LINES), .ACC_ROWS(ACC_ROWS), .WB_LINES(WB_LINES),
    .PARAM_LINES(PARAM_LINES), .DRAM_BYTES(DRAM_BYTES), .TOKEN_MAX(TOKEN_MAX), .TW(TW)
  ) u_decode (
    .insn_i(insn_i), .tok_l2c_i(t_l2c_q), .tok_c2l_i(t_c2l_q), .tok_c2s_i(t_c2s_q), .tok_s2c_i(t_s2c_q),
    .err_o(d_err), .queue_o(d_queue), .finish_o(d_finish), .ub_hi_o(d_ub_hi), .acc_hi_o(d_acc_hi),
    .tok_l2c_o(d_l2c), .tok_c2l_o(d_c2l), .tok_c2s_o(d_c2s), .tok_s2c_o(d_s2c));

  wire [63:0] cmd_end = {32'd0, cmd_base_i} + {27'd0, cmd_count_i, 5'd0};
  wire cmd_bad = cmd_base_i[4:0] != 5'd0 || cmd_end > {32'd0, DRAM_BYTES_32};
  wire go      = start_i && state_q != S_RUN && state_q != S_DRAIN;

  wire lq_in_ready, cq_in_ready, sq_in_ready;
  wire running   = state_q == S_RUN;
  wire out_of_insns = running && pc_q == count_q;
  wire have      = running && !out_of_insns && insn_valid_i;
  wire bad       = have && d_err != `MXU_ERR_OK;
  wire fin       = have && !bad && d_finish;
  wire q_ready   = (d_queue == 2'd0) ? lq_in_ready : (d_queue == 2'd1) ? cq_in_ready :
                   (d_queue == 2'd2) ? sq_in_ready : 1'b1;
  wire dispatch  = have && !bad && !d_finish && q_ready;
  wire consume   = bad || fin || dispatch;
  wire stop      = bad || fin || out_of_insns;

  wire lq_count_zero, cq_count_zero, sq_count_zero;
  wire drained = fetch_idle_i && units_idle_i && lq_count_zero && cq_count_zero && sq_count_zero;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_IDLE; done_q <= 1'b0; finish_q <= 1'b0; err_q <= `MXU_ERR_OK;
      pc_q <= 32'd0; err_pc_q <= 32'd0; count_q <= 32'd0;
      t_l2c_q <= {TW{1'b0}}; t_c2l_q <= {TW{1'b0}}; t_c2s_q <= {TW{1'b0}}; t_s2c_q <= {TW{1'b0}};
    end else begin
      case (state_q)
        S_RUN: begin
          if (dispatch) begin
            pc_q <= pc_q + 32'd1;
            t_l2c_q <= d_l2c; t_c2l_q <= d_c2l; t_c2s_q <= d_c2s; t_s2c_q <= d_s2c;
          end
          if (out_of_insns) begin
            err_q <= `MXU_ERR_NO_FINISH;
            err_pc_q <= count_q;
          end else if (bad) begin
            err_q <= d_err;
            err_pc_q <= pc_q;
          end
          if (fin) finish_q <= 1'b1;
          if (stop) state_q <= S_DRAIN;
        end
        S_DRAIN: begin
          if (drained) begin
            state_q <= S_IDLE;
            done_q <= 1'b1;
          end
        end
        default: begin
          if (go) begin
            done_q <= 1'b0; finish_q <= 1'b0; pc_q <= 32'd0; count_q <= cmd_count_i;
            t_l2c_q <= {TW{1'b0}}; t_c2l_q <= {TW{1'b0}}; t_c2s_q <= {TW{1'b0}}; t_s2c_q <= {TW{1'b0}};
            if (cmd_bad) begin
              err_q <= `MXU_ERR_CMD_RANGE;
              err_pc_q <= 32'd0;
              state_q <= S_DRAIN;
            end else begin
              err_q <= `MXU_ERR_OK;
              err_pc_q <= 32'd0;
              state_q <= S_RUN;
            end
          end
        end
      endcase
    end
  end

  // ---- queues ---------------------------------------------------------------------
  wire [QCW-1:0] lq_count, cq_count, sq_count;
  mxu_fifo #(.WIDTH(256), .DEPTH(QUEUE_DEPTH), .CW(QCW)) u_load_q (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(dispatch && d_queue == 2'd0), .in_ready_o(lq_in_ready), .in_data_i(insn_i),
    .out_valid_o(lq_valid_o), .out_ready_i(lq_ready_i), .out_data_o(lq_insn_o), .count_o(lq_count));
  mxu_fifo #(.WIDTH(320), .DEPTH(QUEUE_DEPTH), .CW(QCW)) u_compute_q (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(dispatch && d_queue == 2'd1), .in_ready_o(cq_in_ready), .in_data_i({insn_i, d_ub_hi, d_acc_hi}),
    .out_valid_o(cq_valid_o), .out_ready_i(cq_ready_i), .out_data_o({cq_insn_o, cq_ub_hi_o, cq_acc_hi_o}),
    .count_o(cq_count));
  mxu_fifo #(.WIDTH(256), .DEPTH(QUEUE_DEPTH), .CW(QCW)) u_store_q (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(dispatch && d_queue == 2'd2), .in_ready_o(sq_in_ready), .in_data_i(insn_i),
    .out_valid_o(sq_valid_o), .out_ready_i(sq_ready_i), .out_data_o(sq_insn_o), .count_o(sq_count));
  assign lq_count_zero = lq_count == {QCW{1'b0}};
  assign cq_count_zero = cq_count == {QCW{1'b0}};
  assign sq_count_zero = sq_count == {QCW{1'b0}};

  // ---- runtime token counters (cleared at start) --------------------------------------
  reg [15:0] r_l2c_q, r_c2l_q, r_c2s_q, r_s2c_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r_l2c_q <= 16'd0; r_c2l_q <= 16'd0; r_c2s_q <= 16'd0; r_s2c_q <= 16'd0;
    end else if (go) begin
      r_l2c_q <= 16'd0; r_c2l_q <= 16'd0; r_c2s_q <= 16'd0; r_s2c_q <= 16'd0;
    end else begin
      r_l2c_q <= r_l2c_q + {15'd0, l2c_push_i} - {15'd0, l2c_pop_i};
      r_c2l_q <= r_c2l_q + {12'd0, c2l_push_i} - {15'd0, c2l_pop_i};
      r_c2s_q <= r_c2s_q + {12'd0, c2s_push_i} - {15'd0, c2s_pop_i};
      r_s2c_q <= r_s2c_q + {15'd0, s2c_push_i} - {15'd0, s2c_pop_i};
    end
  end
  assign l2c_avail_o = r_l2c_q != 16'd0;
  assign c2l_avail_o = r_c2l_q != 16'd0;
  assign c2s_avail_o = r_c2s_q != 16'd0;
  assign s2c_avail_o = r_s2c_q != 16'd0;

  assign fetch_start_o = go && !cmd_bad;
  assign fetch_stop_o  = stop;
  assign insn_ready_o  = consume;
  assign busy_o        = state_q == S_RUN || state_q == S_DRAIN;
  assign done_o        = done_q;
  assign error_o       = done_q && err_q != `MXU_ERR_OK;
  assign err_code_o    = err_q;
  assign err_pc_o      = err_pc_q;
  assign decoded_o     = consume;
  assign finish_o      = state_q == S_DRAIN && drained && finish_q && err_q == `MXU_ERR_OK;
endmodule
