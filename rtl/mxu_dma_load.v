// mxu_dma_load: the LOAD unit. Walks the 3-D pattern with 2-D padding of
// docs/isa.md, requests the DRAM beats each element line spans (any alignment),
// and assembles each destination line from its beats (shift, then fill the bytes
// past elem_bytes with pad_value). Padding lines need no DRAM traffic.
//
//   issue:    one beat request (or one padding line) per cycle; a line descriptor
//             goes into desc_fifo with the line's first beat. Read requests are
//             bounded by BUF_BEATS credits: every outstanding or buffered beat
//             holds one, so responses (which cannot be refused) always fit.
//   assemble: takes one beat per cycle from beat_fifo into the line buffer; the
//             last beat of a line (or a padding descriptor) produces the line.
//   write:    the finished line is written in the following cycle; the last line
//             of an instruction completes it (done_o, and the push token).
// Instructions stream back to back: the next LOAD issues while the previous one's
// last beats are still in flight.
`default_nettype none
`include "mxu_isa.vh"

module mxu_dma_load #(
  parameter integer BEAT       = 16,    // DRAM beat bytes (power of two, >= 4)
  parameter integer LINE_MAX   = 256,   // widest destination line (bytes)
  parameter integer BUF_BEATS  = 32,    // response buffer (max reads in flight)
  parameter integer DESC_DEPTH = 16
) (
  input  wire                    clk_i,
  input  wire                    rst_ni,
  // instruction queue head
  input  wire                    insn_valid_i,
  output wire                    insn_ready_o,
  input  wire [255:0]            insn_i,
  // tokens: compute->load available / pop; load->compute push
  input  wire                    tok_avail_i,
  output wire                    tok_pop_o,
  output wire                    tok_push_o,
  // DRAM reads
  output wire                    rd_valid_o,
  input  wire                    rd_ready_i,
  output wire [31:0]             rd_addr_o,
  input  wire                    rsp_valid_i,
  input  wire [BEAT*8-1:0]       rsp_data_i,
  // line write (one line per cycle into the memory selected by wmem_o)
  output wire                    we_o,
  output wire [1:0]              wmem_o,
  output wire [23:0]             wline_o,
  output wire [LINE_MAX*8-1:0]   wdata_o,
  // status
  output wire                    done_o,    // an instruction completed this cycle
  output wire                    busy_o,    // an instruction is in progress
  output wire                    wait_o,    // the head instruction waits for a token
  output wire                    idle_o
);
  localparam integer OFFW  = $clog2(BEAT);
  localparam integer NSLOT = (LINE_MAX + BEAT - 1) / BEAT + 1;   // beats one line may span
  localparam integer NBW   = $clog2(NSLOT + 1);
  localparam integer CRW   = $clog2(BUF_BEATS + 1);
  localparam integer DCW   = $clog2(DESC_DEPTH + 1);
  // descriptor: {pad, off, nb, elem, mem, line, pad_value, last, push}
  localparam integer DW    = 1 + OFFW + NBW + 16 + 2 + 24 + 8 + 1 + 1;

  generate
    if (BEAT < 4 || (1 << OFFW) != BEAT || LINE_MAX < BEAT) begin : g_bad_param
      mxu_param_error_dma_load_beat u_param_error ();
    end
  endgenerate

  // ---- issue: walk the pattern --------------------------------------------------
  reg         run_q;
  reg [2:0]   mem_q;
  reg [15:0]  elem_q;
  reg [7:0]   padv_q;
  reg         push_q;
  reg [15:0]  n0_q, n1_q, n2_q;
  reg [7:0]   pl_q, pt_q;
  reg [16:0]  ecnt_q, rcnt_q;      // elements per row, rows per plane incl. padding
  reg [16:0]  e_q, r_q;
  reg [15:0]  p_q;
  reg [31:0]  s0_q, s1_q, s2_q, pls0_q, pts1_q;
  reg [31:0]  plane_q, row_q, elem_addr_q;
  reg [23:0]  line_q;
  reg [NBW-1:0] beat_q;            // next beat of the current element line

  wire head_pop  = insn_i[`MXU_F_LOAD_POP_NEXT];
  wire start     = !run_q && insn_valid_i && (!head_pop || tok_avail_i);

  wire e_in     = (e_q >= {9'd0, pl_q}) && (e_q < {9'd0, pl_q} + {1'b0, n0_q});
  wire r_in     = (r_q >= {9'd0, pt_q}) && (r_q < {9'd0, pt_q} + {1'b0, n1_q});
  wire is_pad   = !(e_in && r_in);
  wire [OFFW-1:0] off = elem_addr_q[OFFW-1:0];
  wire [16:0] span  = {{(17-OFFW){1'b0}}, off} + {1'b0, elem_q} - 17'd1;
  wire [NBW-1:0] nb = span[NBW+OFFW-1:OFFW] + 1'b1;
  wire e_last   = e_q == ecnt_q - 17'd1;
  wire r_last   = r_q == rcnt_q - 17'd1;
  wire p_last   = p_q == n2_q - 16'd1;
  wire insn_last = e_last && r_last && p_last;

  reg  [CRW-1:0] credit_q;
  wire desc_ready;
  wire beat_pop;
  wire line_beat   = run_q && !is_pad;
  wire first_beat  = beat_q == {NBW{1'b0}};
  wire can_req     = line_beat && credit_q != {CRW{1'b0}} && (!first_beat || desc_ready);
  wire req_fire    = can_req && rd_ready_i;
  wire pad_fire    = run_q && is_pad && desc_ready;
  wire line_done   = pad_fire || (req_fire && beat_q == nb - 1'b1);
  wire desc_push   = pad_fire || (req_fire && first_beat);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q <= 1'b0; mem_q <= 3'd0; elem_q <= 16'd0; padv_q <= 8'd0; push_q <= 1'b0;
      n0_q <= 16'd0; n1_q <= 16'd0; n2_q <= 16'd0; pl_q <= 8'd0; pt_q <= 8'd0;
      ecnt_q <= 17'd0; rcnt_q <= 17'd0; e_q <= 17'd0; r_q <= 17'd0; p_q <= 16'd0;
      s0_q <= 32'd0; s1_q <= 32'd0; s2_q <= 32'd0; pls0_q <= 32'd0; pts1_q <= 32'd0;
      plane_q <= 32'd0; row_q <= 32'd0; elem_addr_q <= 32'd0; line_q <= 24'd0;
      beat_q <= {NBW{1'b0}};
    end else if (start) begin
      run_q  <= 1'b1;
      mem_q  <= insn_i[`MXU_F_LOAD_MEM];
      elem_q <= insn_i[`MXU_F_LOAD_ELEM_BYTES];
      padv_q <= insn_i[`MXU_F_LOAD_PAD_VALUE];
      push_q <= insn_i[`MXU_F_LOAD_PUSH_NEXT];
      n0_q   <= insn_i[`MXU_F_LOAD_N0];
      n1_q   <= insn_i[`MXU_F_LOAD_N1];
      n2_q   <= insn_i[`MXU_F_LOAD_N2];
      pl_q   <= insn_i[`MXU_F_LOAD_PAD_LEFT];
      pt_q   <= insn_i[`MXU_F_LOAD_PAD_TOP];
      ecnt_q <= {9'd0, insn_i[`MXU_F_LOAD_PAD_LEFT]} + {1'b0, insn_i[`MXU_F_LOAD_N0]} +
                {9'd0, insn_i[`MXU_F_LOAD_PAD_RIGHT]};
      rcnt_q <= {9'd0, insn_i[`MXU_F_LOAD_PAD_TOP]} + {1'b0, insn_i[`MXU_F_LOAD_N1]} +
                {9'd0, insn_i[`MXU_F_LOAD_PAD_BOTTOM]};
      e_q <= 17'd0; r_q <= 17'd0; p_q <= 16'd0;
      s0_q <= {16'd0, insn_i[`MXU_F_LOAD_S0]};
      s1_q <= insn_i[`MXU_F_LOAD_S1];
      s2_q <= insn_i[`MXU_F_LOAD_S2];
      // Addresses advance modulo 2^32 from "element -pad_left of row -pad_top":
      // every in-range element lands on its exact address.
      pls0_q <= insn_i[`MXU_F_LOAD_PAD_LEFT] * {16'd0, insn_i[`MXU_F_LOAD_S0]};
      pts1_q <= insn_i[`MXU_F_LOAD_PAD_TOP] * insn_i[`MXU_F_LOAD_S1];
      plane_q <= insn_i[`MXU_F_LOAD_DRAM_ADDR];
      row_q <= insn_i[`MXU_F_LOAD_DRAM_ADDR] - insn_i[`MXU_F_LOAD_PAD_TOP] * insn_i[`MXU_F_LOAD_S1];
      elem_addr_q <= insn_i[`MXU_F_LOAD_DRAM_ADDR] - insn_i[`MXU_F_LOAD_PAD_TOP] * insn_i[`MXU_F_LOAD_S1]
                     - insn_i[`MXU_F_LOAD_PAD_LEFT] * {16'd0, insn_i[`MXU_F_LOAD_S0]};
      line_q <= insn_i[`MXU_F_LOAD_DST_LINE];
      beat_q <= {NBW{1'b0}};
    end else if (run_q) begin
      if (req_fire && !line_done) beat_q <= beat_q + 1'b1;
      if (line_done) begin
        beat_q <= {NBW{1'b0}};
        line_q <= line_q + 24'd1;
        if (!e_last) begin
          e_q <= e_q + 17'd1;
          elem_addr_q <= elem_addr_q + s0_q;
        end else if (!r_last) begin
          e_q <= 17'd0;
          r_q <= r_q + 17'd1;
          row_q <= row_q + s1_q;
          elem_addr_q <= row_q + s1_q - pls0_q;
        end else begin
          e_q <= 17'd0;
          r_q <= 17'd0;
          p_q <= p_q + 16'd1;
          plane_q <= plane_q + s2_q;
          row_q <= plane_q + s2_q - pts1_q;
          elem_addr_q <= plane_q + s2_q - pts1_q - pls0_q;
          if (p_last) run_q <= 1'b0;
        end
      end
    end
  end

  // Credits: one per beat requested and not yet taken out of beat_fifo.
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) credit_q <= BUF_BEATS[CRW-1:0];
    else credit_q <= credit_q - {{(CRW-1){1'b0}}, req_fire} + {{(CRW-1){1'b0}}, beat_pop};
  end

  // ---- descriptor and beat FIFOs --------------------------------------------------
  wire [DW-1:0] desc_in = {is_pad, off, nb, elem_q, mem_q[1:0], line_q, padv_q, insn_last, push_q};
  wire          desc_valid;
  wire [DW-1:0] desc;
  wire          desc_pop;
  wire [DCW-1:0] desc_count;
  mxu_fifo #(.WIDTH(DW), .DEPTH(DESC_DEPTH), .CW(DCW)) u_desc_fifo (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(desc_push), .in_ready_o(desc_ready), .in_data_i(desc_in),
    .out_valid_o(desc_valid), .out_ready_i(desc_pop), .out_data_o(desc), .count_o(desc_count));

  wire             beat_valid;
  wire [BEAT*8-1:0] beat_data;
  wire             beat_in_ready;
  wire [CRW-1:0]   beat_count;
  mxu_fifo #(.WIDTH(BEAT*8), .DEPTH(BUF_BEATS), .CW(CRW)) u_beat_fifo (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(rsp_valid_i), .in_ready_o(beat_in_ready), .in_data_i(rsp_data_i),
    .out_valid_o(beat_valid), .out_ready_i(beat_pop), .out_data_o(beat_data), .count_o(beat_count));

  // ---- assemble -----------------------------------------------------------------
  wire            d_pad  = desc[DW-1];
  wire [OFFW-1:0] d_off  = desc[DW-2 -: OFFW];
  wire [NBW-1:0]  d_nb   = desc[DW-2-OFFW -: NBW];
  wire [15:0]     d_elem = desc[DW-2-OFFW-NBW -: 16];
  wire [1:0]      d_mem  = desc[34 +: 2];
  wire [23:0]     d_line = desc[10 +: 24];
  wire [7:0]      d_padv = desc[2 +: 8];
  wire            d_last = desc[1];
  wire            d_push = desc[0];

  reg [NBW-1:0] slot_q;
  reg [NSLOT*BEAT*8-1:0] buf_q;
  assign beat_pop  = desc_valid && !d_pad && beat_valid;
  wire   line_out  = desc_valid && (d_pad || (beat_valid && slot_q == d_nb - 1'b1));
  assign desc_pop  = line_out;

  // The finished line: the buffer with this beat in slot_q, shifted by the
  // element's offset, bytes past elem_bytes (all of a padding line) = pad_value.
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [LINE_MAX*8-1:0] finish_line(
      input [NSLOT*BEAT*8-1:0] b, input [BEAT*8-1:0] beat, input [NBW-1:0] slot,
      input [OFFW-1:0] offs, input [15:0] elem, input pad, input [7:0] padv);
    reg [NSLOT*BEAT*8-1:0] merged;
    reg [LINE_MAX*8-1:0] keep;
    reg [NSLOT*BEAT*8-1:0] shifted;
    begin
      merged = b;
      merged[slot*BEAT*8 +: BEAT*8] = beat;
      shifted = merged >> ({offs, 3'b000});
      keep = pad ? {LINE_MAX*8{1'b0}} : ~({LINE_MAX*8{1'b1}} << {elem, 3'b000});
      finish_line = (shifted[LINE_MAX*8-1:0] & keep) | ({LINE_MAX{padv}} & ~keep);
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  reg                  we_q, done_q, push_out_q;
  reg [1:0]            wmem_q;
  reg [23:0]           wline_q;
  reg [LINE_MAX*8-1:0] wdata_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      slot_q <= {NBW{1'b0}};
      we_q <= 1'b0; done_q <= 1'b0; push_out_q <= 1'b0;
      wmem_q <= 2'd0; wline_q <= 24'd0;
    end else begin
      we_q <= line_out;
      done_q <= line_out && d_last;
      push_out_q <= line_out && d_last && d_push;
      if (line_out) begin
        wmem_q  <= d_mem;
        wline_q <= d_line;
      end
      if (beat_pop) slot_q <= line_out ? {NBW{1'b0}} : slot_q + 1'b1;
    end
  end
  always @(posedge clk_i) begin
    if (beat_pop && !line_out) buf_q[slot_q*BEAT*8 +: BEAT*8] <= beat_data;
    if (line_out) wdata_q <= finish_line(buf_q, beat_data, slot_q, d_off, d_elem, d_pad, d_padv);
  end

  assign insn_ready_o = start;
  assign tok_pop_o    = start && head_pop;
  assign tok_push_o   = push_out_q;
  assign rd_valid_o   = can_req;
  assign rd_addr_o    = {elem_addr_q[31:OFFW], {OFFW{1'b0}}} + ({{(32-NBW){1'b0}}, beat_q} << OFFW);
  assign we_o         = we_q;
  assign wmem_o       = wmem_q;
  assign wline_o      = wline_q;
  assign wdata_o      = wdata_q;
  assign done_o       = done_q;
  assign busy_o       = run_q || desc_valid || we_q;
  assign wait_o       = !run_q && insn_valid_i && head_pop && !tok_avail_i;
  assign idle_o       = !run_q && !desc_valid && !we_q && credit_q == BUF_BEATS[CRW-1:0];

  wire unused = &{1'b0, insn_i, mem_q[2], span, desc_count, beat_in_ready, beat_count};
endmodule
