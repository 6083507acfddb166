// mxu_fetch: reads the command stream (count instructions from base) over the
// DRAM port ahead of the decoder: up to BUF_INSNS instructions are requested or
// buffered at any time. stop_i ends fetching (FINISH or an error); responses
// still in flight are drained and dropped, then idle_o rises.
`default_nettype none

module mxu_fetch #(
  parameter integer BEAT      = 16,   // 4..32, power of two
  parameter integer BUF_INSNS = 4
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire              start_i,
  input  wire [31:0]       base_i,
  input  wire [31:0]       count_i,
  input  wire              stop_i,
  output wire              rd_valid_o,
  input  wire              rd_ready_i,
  output wire [31:0]       rd_addr_o,
  input  wire              rsp_valid_i,
  input  wire [BEAT*8-1:0] rsp_data_i,
  output wire              insn_valid_o,
  input  wire              insn_ready_i,
  output wire [255:0]      insn_o,
  output wire              idle_o
);
  localparam integer IB   = 32 / BEAT;             // beats per instruction
  localparam integer CAP  = BUF_INSNS * IB;        // beats requested or buffered
  localparam integer CW   = $clog2(CAP + 1);
  localparam integer IBW  = $clog2(IB + 1);

  generate
    if (BEAT < 4 || BEAT > 32 || (32 % BEAT) != 0) begin : g_bad_param
      mxu_param_error_fetch_beat_must_divide_32 u_param_error ();
    end
  endgenerate

  reg          active_q;      // requesting beats
  reg          flush_q;       // dropping everything until idle
  reg [31:0]   addr_q;
  reg [37:0]   left_q;        // beats still to request
  reg [CW-1:0] credit_q;
  reg [IBW-1:0] nbeats_q;     // beats in the instruction register
  reg [255:0]  sr_q;

  wire          bf_valid;
  wire [BEAT*8-1:0] bf_data;
  wire          bf_pop;
  wire [CW-1:0] bf_count;
  wire          bf_in_ready;

  wire req  = active_q && !flush_q && left_q != 38'd0 && credit_q != {CW{1'b0}};
  wire fire = req && rd_ready_i;
  wire full = nbeats_q == IB[IBW-1:0];
  wire take = insn_valid_o && insn_ready_i;
  assign bf_pop = bf_valid && (flush_q || !full || take);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q <= 1'b0; flush_q <= 1'b0; addr_q <= 32'd0; left_q <= 38'd0;
      credit_q <= CAP[CW-1:0]; nbeats_q <= {IBW{1'b0}};
    end else begin
      credit_q <= credit_q - {{(CW-1){1'b0}}, fire} + {{(CW-1){1'b0}}, bf_pop};
      if (start_i) begin
        active_q <= 1'b1;
        flush_q  <= 1'b0;
        addr_q   <= base_i;
        left_q   <= {1'b0, count_i, 5'd0} >> $clog2(BEAT);
        nbeats_q <= {IBW{1'b0}};
      end else begin
        if (stop_i) flush_q <= 1'b1;
        if (fire) begin
          addr_q <= addr_q + BEAT;
          left_q <= left_q - 38'd1;
        end
        if (flush_q || stop_i) nbeats_q <= {IBW{1'b0}};
        else if (bf_pop) nbeats_q <= (full ? {IBW{1'b0}} : nbeats_q) + 1'b1;
        else if (take) nbeats_q <= {IBW{1'b0}};
        if (flush_q && credit_q == CAP[CW-1:0]) active_q <= 1'b0;
      end
    end
  end
  generate
    if (IB == 1) begin : g_one_beat
      always @(posedge clk_i) if (bf_pop && !flush_q) sr_q <= bf_data;
    end else begin : g_beats
      always @(posedge clk_i) if (bf_pop && !flush_q) sr_q <= {bf_data, sr_q[255:BEAT*8]};
    end
  endgenerate

  mxu_fifo #(.WIDTH(BEAT*8), .DEPTH(CAP), .CW(CW)) u_beat_fifo (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(rsp_valid_i), .in_ready_o(bf_in_ready), .in_data_i(rsp_data_i),
    .out_valid_o(bf_valid), .out_ready_i(bf_pop), .out_data_o(bf_data), .count_o(bf_count));

  assign rd_valid_o   = req;
  assign rd_addr_o    = addr_q;
  assign insn_valid_o = full && !flush_q;
  assign insn_o       = sr_q;
  assign idle_o       = !active_q || (flush_q && credit_q == CAP[CW-1:0]);

  wire unused = &{1'b0, bf_count, bf_in_ready};
endmodule
