// mxu_dma_store: the STORE unit. Reads consecutive UB lines and writes the first
// elem_bytes of each to DRAM at dram_addr + p*s2 + r*s1 + e*s0, as the beats the
// element spans, with byte strobes for partial beats.
//   walk:  one UB read per cycle while the line FIFO has room;
//   FIFO:  UB line + its DRAM address;
//   emit:  the head line, shifted to its offset in the first beat, one beat per
//          accepted request. The last beat of an instruction completes it.
`default_nettype none
`include "mxu_isa.vh"

module mxu_dma_store #(
  parameter integer BEAT     = 16,
  parameter integer UB_BYTES = 16,
  parameter integer UB_AW    = 14,
  parameter integer FIFO_LINES = 4
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  input  wire                 insn_valid_i,
  output wire                 insn_ready_o,
  input  wire [255:0]         insn_i,
  input  wire                 tok_avail_i,   // compute->store token available
  output wire                 tok_pop_o,
  output wire                 tok_push_o,    // store->compute
  output wire                 ub_re_o,
  output wire [UB_AW-1:0]     ub_raddr_o,
  input  wire [UB_BYTES*8-1:0] ub_rdata_i,
  output wire                 wr_valid_o,
  input  wire                 wr_ready_i,
  output wire [31:0]          wr_addr_o,
  output wire [BEAT*8-1:0]    wr_data_o,
  output wire [BEAT-1:0]      wr_strb_o,
  output wire                 done_o,
  output wire                 busy_o,
  output wire                 wait_o,
  output wire                 idle_o
);
  localparam integer OFFW  = $clog2(BEAT);
  localparam integer NSLOT = (UB_BYTES + BEAT - 1 + BEAT - 1) / BEAT;  // beats a line may span
  localparam integer NBW   = $clog2(NSLOT + 1);
  localparam integer FCW   = $clog2(FIFO_LINES + 1);
  // FIFO entry: {data, addr, elem, last, push}
  localparam integer MW    = 32 + 16 + 1 + 1;
  localparam integer EW    = UB_BYTES * 8 + MW;

  generate
    if (BEAT < 4 || (1 << OFFW) != BEAT) begin : g_bad_param
      mxu_param_error_dma_store_beat u_param_error ();
    end
  endgenerate

  // ---- walk -------------------------------------------------------------------
  reg         run_q;
  reg [15:0]  elem_q;
  reg         push_q;
  reg [15:0]  n0_q, n1_q, n2_q, e_q, r_q, p_q;
  reg [31:0]  s0_q, s1_q, s2_q, plane_q, row_q, addr_q;
  reg [23:0]  line_q;
  reg         rd_q;           // a UB read was issued last cycle
  reg [MW-1:0] meta_q;

  wire head_pop = insn_i[`MXU_F_STORE_POP_PREV];
  wire start    = !run_q && insn_valid_i && (!head_pop || tok_avail_i);
  wire e_last   = e_q == n0_q - 16'd1;
  wire r_last   = r_q == n1_q - 16'd1;
  wire p_last   = p_q == n2_q - 16'd1;
  wire [FCW-1:0] fifo_count;
  wire issue    = run_q && ({{(32-FCW){1'b0}}, fifo_count} + {31'd0, rd_q} < FIFO_LINES);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q <= 1'b0; elem_q <= 16'd0; push_q <= 1'b0;
      n0_q <= 16'd0; n1_q <= 16'd0; n2_q <= 16'd0; e_q <= 16'd0; r_q <= 16'd0; p_q <= 16'd0;
      s0_q <= 32'd0; s1_q <= 32'd0; s2_q <= 32'd0; plane_q <= 32'd0; row_q <= 32'd0; addr_q <= 32'd0;
      line_q <= 24'd0; rd_q <= 1'b0; meta_q <= {MW{1'b0}};
    end else begin
      rd_q <= issue;
      if (issue) meta_q <= {addr_q, elem_q, e_last && r_last && p_last, push_q};
      if (start) begin
        run_q  <= 1'b1;
        elem_q <= insn_i[`MXU_F_STORE_ELEM_BYTES];
        push_q <= insn_i[`MXU_F_STORE_PUSH_PREV];
        n0_q <= insn_i[`MXU_F_STORE_N0];
        n1_q <= insn_i[`MXU_F_STORE_N1];
        n2_q <= insn_i[`MXU_F_STORE_N2];
        e_q <= 16'd0; r_q <= 16'd0; p_q <= 16'd0;
        s0_q <= {16'd0, insn_i[`MXU_F_STORE_S0]};
        s1_q <= insn_i[`MXU_F_STORE_S1];
        s2_q <= insn_i[`MXU_F_STORE_S2];
        plane_q <= insn_i[`MXU_F_STORE_DRAM_ADDR];
        row_q   <= insn_i[`MXU_F_STORE_DRAM_ADDR];
        addr_q  <= insn_i[`MXU_F_STORE_DRAM_ADDR];
        line_q  <= insn_i[`MXU_F_STORE_SRC_LINE];
      end else if (issue) begin
        line_q <= line_q + 24'd1;
        if (!e_last) begin
          e_q <= e_q + 16'd1;
          addr_q <= addr_q + s0_q;
        end else if (!r_last) begin
          e_q <= 16'd0;
          r_q <= r_q + 16'd1;
          row_q <= row_q + s1_q;
          addr_q <= row_q + s1_q;
        end else begin
          e_q <= 16'd0;
          r_q <= 16'd0;
          p_q <= p_q + 16'd1;
          plane_q <= plane_q + s2_q;
          row_q <= plane_q + s2_q;
          addr_q <= plane_q + s2_q;
          if (p_last) run_q <= 1'b0;
        end
      end
    end
  end

  // ---- line FIFO ----------------------------------------------------------------
  wire          f_valid;
  wire          f_pop;
  wire [EW-1:0] f_data;
  wire          f_in_ready;
  mxu_fifo #(.WIDTH(EW), .DEPTH(FIFO_LINES), .CW(FCW)) u_line_fifo (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(rd_q), .in_ready_o(f_in_ready), .in_data_i({ub_rdata_i, meta_q}),
    .out_valid_o(f_valid), .out_ready_i(f_pop), .out_data_o(f_data), .count_o(fifo_count));

  wire [UB_BYTES*8-1:0] f_line = f_data[EW-1 -: UB_BYTES*8];
  wire [31:0]           f_addr = f_data[MW-1 -: 32];
  wire [15:0]           f_elem = f_data[17:2];
  wire                  f_last = f_data[1];
  wire                  f_push = f_data[0];

  // ---- emit ---------------------------------------------------------------------
  reg                     ev_q, elast_q, epush_q;
  reg [NSLOT*BEAT*8-1:0]  edata_q;
  reg [NSLOT*BEAT-1:0]    estrb_q;
  reg [31:0]              eaddr_q;
  reg [NBW-1:0]           enb_q, ej_q;

  wire fire      = ev_q && wr_ready_i;
  wire e_done    = fire && ej_q == enb_q - 1'b1;
  assign f_pop   = f_valid && (!ev_q || e_done);

  wire [OFFW-1:0] f_off  = f_addr[OFFW-1:0];
  wire [16:0]     f_span = {{(17-OFFW){1'b0}}, f_off} + {1'b0, f_elem} - 17'd1;
  wire [NBW-1:0]  f_nb   = f_span[NBW+OFFW-1:OFFW] + 1'b1;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ev_q <= 1'b0; elast_q <= 1'b0; epush_q <= 1'b0;
      eaddr_q <= 32'd0; enb_q <= {NBW{1'b0}}; ej_q <= {NBW{1'b0}};
    end else if (f_pop) begin
      ev_q    <= 1'b1;
      elast_q <= f_last;
      epush_q <= f_push;
      eaddr_q <= {f_addr[31:OFFW], {OFFW{1'b0}}};
      enb_q   <= f_nb;
      ej_q    <= {NBW{1'b0}};
    end else if (fire) begin
      if (e_done) ev_q <= 1'b0;
      ej_q    <= ej_q + 1'b1;
      eaddr_q <= eaddr_q + BEAT;
    end
  end
  always @(posedge clk_i) begin
    if (f_pop) begin
      edata_q <= {{(NSLOT*BEAT-UB_BYTES)*8{1'b0}}, f_line} << {f_off, 3'b000};
      estrb_q <= ~({NSLOT*BEAT{1'b1}} << f_elem) << f_off;
    end else if (fire) begin
      edata_q <= edata_q >> (BEAT*8);
      estrb_q <= estrb_q >> BEAT;
    end
  end

  assign insn_ready_o = start;
  assign tok_pop_o    = start && head_pop;
  assign tok_push_o   = e_done && elast_q && epush_q;
  assign ub_re_o      = issue;
  assign ub_raddr_o   = line_q[UB_AW-1:0];
  assign wr_valid_o   = ev_q;
  assign wr_addr_o    = eaddr_q;
  assign wr_data_o    = edata_q[BEAT*8-1:0];
  assign wr_strb_o    = estrb_q[BEAT-1:0];
  assign done_o       = e_done && elast_q;
  assign busy_o       = run_q || rd_q || f_valid || ev_q;
  assign wait_o       = !run_q && insn_valid_i && head_pop && !tok_avail_i;
  assign idle_o       = !busy_o;

  wire unused = &{1'b0, insn_i, f_in_ready, f_span, line_q[23:UB_AW]};
endmodule
