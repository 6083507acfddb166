// bram_dram: block RAM as the accelerator's device memory, answering mxu_top's
// DRAM port (docs/simulation.md, "DRAM timing"): always ready, a write applied
// at the edge that accepts it (bytes with their strobe set), a read's beat
// sampled by the core LATENCY edges after the one that accepted it, responses
// in request order. It behaves exactly like the simulators' DRAM model with
// latency = LATENCY and bw = BEAT, so cycle counts on the board match `rtl`.
//
// One read/write port with byte enables and a registered read: the shape
// yosys (memory_libmap) and Vivado map onto RAMB36E1 / SB_RAM40_4K. LATENCY 2
// adds an output register (the BRAM's DO_REG) for timing. Accesses outside
// BYTES or off a beat boundary read zero, drop writes and set fault_o (sticky),
// as the simulators' model does.
//
// The content is zero after configuration (FPGA block RAM powers up cleared);
// the `initial` block gives simulation the same start.
`default_nettype none

module bram_dram #(
  parameter integer BEAT    = 16,
  parameter integer BYTES   = 65536,
  parameter integer LATENCY = 1
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire              req_valid_i,
  output wire              req_ready_o,
  input  wire              req_write_i,
  input  wire [31:0]       req_addr_i,
  input  wire [8*BEAT-1:0] req_wdata_i,
  input  wire [BEAT-1:0]   req_wstrb_i,
  output wire              rsp_valid_o,
  output wire [8*BEAT-1:0] rsp_rdata_o,
  output wire              fault_o
);
  localparam integer WORDS = BYTES / BEAT;
  localparam integer OB    = $clog2(BEAT);
  localparam integer AW    = (WORDS > 1) ? $clog2(WORDS) : 1;

  generate
    if (BEAT < 2 || (BEAT & (BEAT - 1)) != 0 || BYTES < BEAT || BYTES % BEAT != 0 ||
        LATENCY < 1 || LATENCY > 2) begin : g_bad_param
      bram_dram_param_error_beat_bytes_or_latency u_param_error ();
    end
  endgenerate

  reg [8*BEAT-1:0] mem [0:WORDS-1];
`ifndef SYNTHESIS
  integer k;
  initial begin
    for (k = 0; k < WORDS; k = k + 1) mem[k] = {8*BEAT{1'b0}};
  end
`endif

  localparam [31:0] WORDS_32 = WORDS;
  wire [31:0]   word   = req_addr_i >> OB;
  wire          legal  = req_addr_i[OB-1:0] == {OB{1'b0}} && word < WORDS_32;
  wire [AW-1:0] idx    = word[AW-1:0];
  wire          accept = req_valid_i;   // always ready
  wire          we     = accept && req_write_i && legal;
  wire          re     = accept && !req_write_i;

  integer b;
  always @(posedge clk_i) begin
    for (b = 0; b < BEAT; b = b + 1)
      if (we && req_wstrb_i[b]) mem[idx][8*b +: 8] <= req_wdata_i[8*b +: 8];
  end

  reg [8*BEAT-1:0] rdata_q;
  always @(posedge clk_i) begin
    if (re) rdata_q <= mem[idx];
  end

  reg rvalid_q, rzero_q, fault_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rvalid_q <= 1'b0;
      rzero_q  <= 1'b0;
      fault_q  <= 1'b0;
    end else begin
      rvalid_q <= re;
      if (re) rzero_q <= !legal;
      if (accept && !legal) fault_q <= 1'b1;
    end
  end
  wire [8*BEAT-1:0] rdata1 = rzero_q ? {8*BEAT{1'b0}} : rdata_q;

  generate
    if (LATENCY == 2) begin : g_out_reg
      reg              valid2_q;
      reg [8*BEAT-1:0] data2_q;
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) valid2_q <= 1'b0;
        else         valid2_q <= rvalid_q;
      end
      always @(posedge clk_i) begin
        if (rvalid_q) data2_q <= rdata1;
      end
      assign rsp_valid_o = valid2_q;
      assign rsp_rdata_o = data2_q;
    end else begin : g_direct
      assign rsp_valid_o = rvalid_q;
      assign rsp_rdata_o = rdata1;
    end
  endgenerate

  assign req_ready_o = 1'b1;
  assign fault_o     = fault_q;

  wire unused = &{1'b0, word[31:AW]};
endmodule
