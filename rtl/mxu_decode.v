// mxu_decode: the instruction checks of docs/isa.md for one instruction, in its
// order (opcode, reserved bits, field values, address ranges per opcode, tokens),
// with 64-bit range arithmetic. Purely combinational; mxu_ctrl registers around it.
// Also returns the last UB line / ACC row a compute instruction touches (for the
// compute unit's MATMUL/ACTIVATE overlap check) and the token counts after it.
`default_nettype none
`include "mxu_isa.vh"

module mxu_decode #(
  parameter integer ROWS        = 16,
  parameter integer COLS        = 16,
  parameter integer UB_LINES    = 16384,
  parameter integer ACC_ROWS    = 1024,
  parameter integer WB_LINES    = 4096,
  parameter integer PARAM_LINES = 64,
  parameter integer DRAM_BYTES  = 268435456,
  parameter integer TOKEN_MAX   = 255,
  parameter integer TW          = 9         // token counter width (holds TOKEN_MAX)
) (
  input  wire [255:0]  insn_i,
  input  wire [TW-1:0] tok_l2c_i,
  input  wire [TW-1:0] tok_c2l_i,
  input  wire [TW-1:0] tok_c2s_i,
  input  wire [TW-1:0] tok_s2c_i,
  output reg  [7:0]    err_o,
  output reg  [1:0]    queue_o,      // 0 load, 1 compute, 2 store, 3 none (FINISH)
  output wire          finish_o,
  output reg  [31:0]   ub_hi_o,
  output reg  [31:0]   acc_hi_o,
  output reg  [TW-1:0] tok_l2c_o,
  output reg  [TW-1:0] tok_c2l_o,
  output reg  [TW-1:0] tok_c2s_o,
  output reg  [TW-1:0] tok_s2c_o
);
  localparam integer UBW = (ROWS > COLS) ? ROWS : COLS;
  localparam [31:0] UB_LINES_32 = UB_LINES;
  localparam [31:0] ACC_ROWS_32 = ACC_ROWS;
  localparam [31:0] WB_LINES_32 = WB_LINES;
  localparam [31:0] PARAM_LINES_32 = PARAM_LINES;
  localparam [31:0] DRAM_BYTES_32 = DRAM_BYTES;
  localparam [31:0] ROWS_32 = ROWS;
  localparam [31:0] UBW_32 = UBW;
  localparam [31:0] COLS_32 = COLS;
  localparam [TW-1:0] TMAX         = TOKEN_MAX[TW-1:0];

  wire [3:0] op = insn_i[`MXU_F_OP];
  assign finish_o = op == `MXU_OP_FINISH;

  function automatic [63:0] z64(input [31:0] v);
    z64 = {32'd0, v};
  endfunction
  wire [63:0] UB_LINES_64 = z64(UB_LINES_32);
  wire [63:0] ACC_ROWS_64 = z64(ACC_ROWS_32);
  wire [63:0] WB_LINES_64 = z64(WB_LINES_32);
  wire [63:0] PARAM_LINES_64 = z64(PARAM_LINES_32);
  wire [63:0] DRAM_BYTES_64 = z64(DRAM_BYTES_32);
  wire [63:0] ROWS_64 = z64(ROWS_32);
  wire [63:0] UBW_64 = z64(UBW_32);
  wire [63:0] COLS_64 = z64(COLS_32);
  wire [63:0] PARAM_W_64 = COLS_64 * 64'd`MXU_DEFAULT_PARAM_BYTES;
  wire [63:0] LUT_W_64 = 64'd`MXU_DEFAULT_LUT_ENTRIES;

  // ---- LOAD ----
  wire [2:0]  l_mem  = insn_i[`MXU_F_LOAD_MEM];
  wire [63:0] l_elem = z64({16'd0, insn_i[`MXU_F_LOAD_ELEM_BYTES]});
  wire [63:0] l_n0   = z64({16'd0, insn_i[`MXU_F_LOAD_N0]});
  wire [63:0] l_n1   = z64({16'd0, insn_i[`MXU_F_LOAD_N1]});
  wire [63:0] l_n2   = z64({16'd0, insn_i[`MXU_F_LOAD_N2]});
  wire [63:0] l_pl   = z64({24'd0, insn_i[`MXU_F_LOAD_PAD_LEFT]});
  wire [63:0] l_pr   = z64({24'd0, insn_i[`MXU_F_LOAD_PAD_RIGHT]});
  wire [63:0] l_pt   = z64({24'd0, insn_i[`MXU_F_LOAD_PAD_TOP]});
  wire [63:0] l_pb   = z64({24'd0, insn_i[`MXU_F_LOAD_PAD_BOTTOM]});
  wire [63:0] l_lb   = (l_mem == 3'd0) ? UBW_64 : (l_mem == 3'd1) ? COLS_64 :
                       (l_mem == 3'd2) ? PARAM_W_64 : (l_mem == 3'd3) ? LUT_W_64 : 64'd0;
  wire [63:0] l_ml   = (l_mem == 3'd0) ? UB_LINES_64 : (l_mem == 3'd1) ? WB_LINES_64 :
                       (l_mem == 3'd2) ? PARAM_LINES_64 : 64'd1;
  wire [7:0]  l_rerr = (l_mem == 3'd0) ? `MXU_ERR_UB_RANGE : (l_mem == 3'd1) ? `MXU_ERR_WB_RANGE :
                       (l_mem == 3'd2) ? `MXU_ERR_PARAM_RANGE : `MXU_ERR_LUT_RANGE;
  wire l_ill = l_mem > 3'd3 || l_elem == 64'd0 || l_elem > l_lb ||
               l_n0 == 64'd0 || l_n1 == 64'd0 || l_n2 == 64'd0;
  wire [63:0] l_end = z64(insn_i[`MXU_F_LOAD_DRAM_ADDR]) +
                      (l_n2 - 64'd1) * z64(insn_i[`MXU_F_LOAD_S2]) +
                      (l_n1 - 64'd1) * z64(insn_i[`MXU_F_LOAD_S1]) +
                      (l_n0 - 64'd1) * z64({16'd0, insn_i[`MXU_F_LOAD_S0]}) + l_elem;
  wire [63:0] l_lines = l_n2 * (l_pt + l_n1 + l_pb) * (l_pl + l_n0 + l_pr);
  wire [63:0] l_dend  = z64({8'd0, insn_i[`MXU_F_LOAD_DST_LINE]}) + l_lines;

  // ---- STORE ----
  wire [63:0] s_elem = z64({16'd0, insn_i[`MXU_F_STORE_ELEM_BYTES]});
  wire [63:0] s_n0   = z64({16'd0, insn_i[`MXU_F_STORE_N0]});
  wire [63:0] s_n1   = z64({16'd0, insn_i[`MXU_F_STORE_N1]});
  wire [63:0] s_n2   = z64({16'd0, insn_i[`MXU_F_STORE_N2]});
  wire s_ill = s_elem == 64'd0 || s_elem > UBW_64 || s_n0 == 64'd0 || s_n1 == 64'd0 || s_n2 == 64'd0;
  wire [63:0] s_uend = z64({8'd0, insn_i[`MXU_F_STORE_SRC_LINE]}) + s_n0 * s_n1 * s_n2;
  wire [63:0] s_end = z64(insn_i[`MXU_F_STORE_DRAM_ADDR]) +
                      (s_n2 - 64'd1) * z64(insn_i[`MXU_F_STORE_S2]) +
                      (s_n1 - 64'd1) * z64(insn_i[`MXU_F_STORE_S1]) +
                      (s_n0 - 64'd1) * z64({16'd0, insn_i[`MXU_F_STORE_S0]}) + s_elem;

  // ---- MATMUL ----
  wire [63:0] m_n0   = z64({16'd0, insn_i[`MXU_F_MATMUL_N0]});
  wire [63:0] m_n1   = z64({16'd0, insn_i[`MXU_F_MATMUL_N1]});
  wire [63:0] m_nk   = z64({16'd0, insn_i[`MXU_F_MATMUL_NK]});
  wire        m_keep = insn_i[`MXU_F_MATMUL_KEEP_WEIGHTS];
  wire m_ill = m_n0 == 64'd0 || m_n1 == 64'd0 || m_nk == 64'd0 || (m_keep && m_nk != 64'd1);
  wire [63:0] m_last_ub = z64({8'd0, insn_i[`MXU_F_MATMUL_UB_ADDR]}) +
                          (m_nk - 64'd1) * z64({8'd0, insn_i[`MXU_F_MATMUL_K_STRIDE]}) +
                          (m_n1 - 64'd1) * z64({8'd0, insn_i[`MXU_F_MATMUL_S1]}) +
                          (m_n0 - 64'd1) * z64({16'd0, insn_i[`MXU_F_MATMUL_S0]});
  wire [63:0] m_wend = z64({16'd0, insn_i[`MXU_F_MATMUL_WGT_LINE]}) + m_nk * ROWS_64;
  wire [63:0] m_aend = z64({16'd0, insn_i[`MXU_F_MATMUL_ACC_ADDR]}) + m_n0 * m_n1;

  // ---- ACTIVATE ----
  wire [63:0] a_in_w  = z64({16'd0, insn_i[`MXU_F_ACTIVATE_IN_W]});
  wire [63:0] a_out_h = z64({16'd0, insn_i[`MXU_F_ACTIVATE_OUT_H]});
  wire [63:0] a_out_w = z64({16'd0, insn_i[`MXU_F_ACTIVATE_OUT_W]});
  wire [63:0] a_pk    = z64({28'd0, insn_i[`MXU_F_ACTIVATE_POOL_K]});
  wire [63:0] a_ps    = z64({28'd0, insn_i[`MXU_F_ACTIVATE_POOL_S]});
  wire [7:0]  a_cmin  = insn_i[`MXU_F_ACTIVATE_CLAMP_MIN];
  wire [7:0]  a_cmax  = insn_i[`MXU_F_ACTIVATE_CLAMP_MAX];
  wire a_ill = a_in_w == 64'd0 || a_out_h == 64'd0 || a_out_w == 64'd0 || a_pk == 64'd0 ||
               a_ps == 64'd0 || (a_out_w - 64'd1) * a_ps + a_pk > a_in_w ||
               $signed(a_cmin) > $signed(a_cmax);
  wire [63:0] a_last_acc = z64({16'd0, insn_i[`MXU_F_ACTIVATE_ACC_ADDR]}) +
                           ((a_out_h - 64'd1) * a_ps + a_pk - 64'd1) * a_in_w +
                           (a_out_w - 64'd1) * a_ps + a_pk - 64'd1;
  wire [63:0] a_uend = z64({8'd0, insn_i[`MXU_F_ACTIVATE_UB_ADDR]}) + a_out_h * a_out_w;
  wire [63:0] a_pline = z64({16'd0, insn_i[`MXU_F_ACTIVATE_PARAM_LINE]});

  // ---- tokens: pops first, then pushes ----
  wire f4 = insn_i[4], f5 = insn_i[5], f6 = insn_i[6], f7 = insn_i[7];
  wire is_load = op == `MXU_OP_LOAD, is_store = op == `MXU_OP_STORE;
  wire is_comp = op == `MXU_OP_MATMUL || op == `MXU_OP_ACTIVATE;
  wire pop_c2l  = is_load && f5, push_l2c = is_load && f7;
  wire pop_c2s  = is_store && f4, push_s2c = is_store && f6;
  wire pop_l2c  = is_comp && f4, pop_s2c = is_comp && f5;
  wire push_c2l = is_comp && f6, push_c2s = is_comp && f7;
  wire tok_err = (pop_c2l && tok_c2l_i == {TW{1'b0}}) || (pop_c2s && tok_c2s_i == {TW{1'b0}}) ||
                 (pop_l2c && tok_l2c_i == {TW{1'b0}}) || (pop_s2c && tok_s2c_i == {TW{1'b0}});
  wire [TW-1:0] l2c_mid = tok_l2c_i - {{(TW-1){1'b0}}, pop_l2c};
  wire [TW-1:0] c2l_mid = tok_c2l_i - {{(TW-1){1'b0}}, pop_c2l};
  wire [TW-1:0] c2s_mid = tok_c2s_i - {{(TW-1){1'b0}}, pop_c2s};
  wire [TW-1:0] s2c_mid = tok_s2c_i - {{(TW-1){1'b0}}, pop_s2c};
  wire push_err = (push_l2c && l2c_mid >= TMAX) || (push_c2l && c2l_mid >= TMAX) ||
                  (push_c2s && c2s_mid >= TMAX) || (push_s2c && s2c_mid >= TMAX);

  always @* begin
    err_o    = `MXU_ERR_OK;
    queue_o  = 2'd3;
    ub_hi_o  = 32'd0;
    acc_hi_o = 32'd0;
    case (op)
      `MXU_OP_LOAD: begin
        queue_o = 2'd0;
        if ((insn_i & `MXU_RSVD_LOAD) != 256'd0)  err_o = `MXU_ERR_RESERVED_BITS;
        else if (l_ill)                           err_o = `MXU_ERR_ILLEGAL_FIELD;
        else if (l_end > DRAM_BYTES_64)           err_o = `MXU_ERR_DRAM_RANGE;
        else if (l_dend > l_ml)                   err_o = l_rerr;
      end
      `MXU_OP_STORE: begin
        queue_o = 2'd2;
        if ((insn_i & `MXU_RSVD_STORE) != 256'd0) err_o = `MXU_ERR_RESERVED_BITS;
        else if (s_ill)                           err_o = `MXU_ERR_ILLEGAL_FIELD;
        else if (s_uend > UB_LINES_64)            err_o = `MXU_ERR_UB_RANGE;
        else if (s_end > DRAM_BYTES_64)           err_o = `MXU_ERR_DRAM_RANGE;
      end
      `MXU_OP_MATMUL: begin
        queue_o  = 2'd1;
        ub_hi_o  = m_last_ub[31:0];
        acc_hi_o = m_aend[31:0] - 32'd1;
        if ((insn_i & `MXU_RSVD_MATMUL) != 256'd0) err_o = `MXU_ERR_RESERVED_BITS;
        else if (m_ill)                            err_o = `MXU_ERR_ILLEGAL_FIELD;
        else if (m_last_ub >= UB_LINES_64)         err_o = `MXU_ERR_UB_RANGE;
        else if (!m_keep && m_wend > WB_LINES_64)  err_o = `MXU_ERR_WB_RANGE;
        else if (m_aend > ACC_ROWS_64)             err_o = `MXU_ERR_ACC_RANGE;
      end
      `MXU_OP_ACTIVATE: begin
        queue_o  = 2'd1;
        ub_hi_o  = a_uend[31:0] - 32'd1;
        acc_hi_o = a_last_acc[31:0];
        if ((insn_i & `MXU_RSVD_ACTIVATE) != 256'd0) err_o = `MXU_ERR_RESERVED_BITS;
        else if (a_ill)                              err_o = `MXU_ERR_ILLEGAL_FIELD;
        else if (a_last_acc >= ACC_ROWS_64)          err_o = `MXU_ERR_ACC_RANGE;
        else if (a_pline >= PARAM_LINES_64)          err_o = `MXU_ERR_PARAM_RANGE;
        else if (a_uend > UB_LINES_64)               err_o = `MXU_ERR_UB_RANGE;
      end
      `MXU_OP_FINISH: begin
        if ((insn_i & `MXU_RSVD_FINISH) != 256'd0) err_o = `MXU_ERR_RESERVED_BITS;
      end
      default: err_o = `MXU_ERR_ILLEGAL_OPCODE;
    endcase
    if (err_o == `MXU_ERR_OK && (tok_err || push_err)) err_o = `MXU_ERR_TOKEN;
    tok_l2c_o = l2c_mid + {{(TW-1){1'b0}}, push_l2c};
    tok_c2l_o = c2l_mid + {{(TW-1){1'b0}}, push_c2l};
    tok_c2s_o = c2s_mid + {{(TW-1){1'b0}}, push_c2s};
    tok_s2c_o = s2c_mid + {{(TW-1){1'b0}}, push_s2c};
  end
endmodule
