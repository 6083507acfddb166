// mxu_ram, FPGA implementation: the same module, ports and behaviour as
// rtl/mxu_ram.v, built from memories an FPGA has. FPGA builds (mk/fpga.mk,
// mk/synth.mk) use this file in place of rtl/mxu_ram.v; simulation and the
// generic area model keep rtl/mxu_ram.v.
//
// Block RAM has at most one write and one read port per copy (simple dual
// port). With one write port, each read port gets its own copy. With several
// (the unified buffer is written by the load DMA and the activation engine in
// the same cycle), every (write port, read port) pair gets a copy, and a live
// value table (LVT: which port wrote each line last, in flip-flops) picks the
// copy each read returns:
//
//   we[w] ──► bank[w][r] (one per read port r) ──┐
//   we[*] ──► lvt[line] = w  (higher port wins) ─┴─► rdata[r] = bank[lvt_q[r]][r]
//
// Identical to rtl/mxu_ram.v cycle for cycle: synchronous reads with re_i, the
// old content on a read of a line written in the same cycle, the higher write
// port winning a same-line collision, zero content at power-on (FPGA RAM and
// flip-flops configure to zero; the `initial` blocks give simulation the same).
// Cost: NW*NR copies of the memory plus DEPTH*clog2(NW) flip-flops.
`default_nettype none

module mxu_ram #(
  parameter integer WIDTH = 8,
  parameter integer DEPTH = 16,
  parameter integer AW    = 4,
  parameter integer NR    = 1,
  parameter integer NW    = 1
) (
  input  wire                clk_i,
  input  wire [NW-1:0]       we_i,
  input  wire [NW*AW-1:0]    waddr_i,
  input  wire [NW*WIDTH-1:0] wdata_i,
  input  wire [NR-1:0]       re_i,
  input  wire [NR*AW-1:0]    raddr_i,
  output wire [NR*WIDTH-1:0] rdata_o
);
  generate
    if (DEPTH < 1 || (1 << AW) < DEPTH || NW < 1 || NR < 1) begin : g_bad_param
      mxu_param_error_ram_address_too_narrow u_param_error ();
    end
  endgenerate

  localparam integer LW = (NW > 1) ? $clog2(NW) : 1;

  // ---- one simple-dual-port copy per (write port, read port) ----------------------
  wire [WIDTH-1:0] bank_q [0:NW*NR-1];
  genvar w, r;
  generate
    for (w = 0; w < NW; w = w + 1) begin : g_wr
      for (r = 0; r < NR; r = r + 1) begin : g_rd
        reg [WIDTH-1:0] mem [0:DEPTH-1];
        reg [WIDTH-1:0] q;
`ifndef SYNTHESIS
        integer i;
        initial begin
          for (i = 0; i < DEPTH; i = i + 1) mem[i] = {WIDTH{1'b0}};
        end
`endif
        always @(posedge clk_i) begin
          if (we_i[w]) mem[waddr_i[w*AW +: AW]] <= wdata_i[w*WIDTH +: WIDTH];
        end
        always @(posedge clk_i) begin
          if (re_i[r]) q <= mem[raddr_i[r*AW +: AW]];
        end
        assign bank_q[w*NR + r] = q;
      end
    end
  endgenerate

  // ---- live value table ----------------------------------------------------------------
  generate
    if (NW == 1) begin : g_one_writer
      for (r = 0; r < NR; r = r + 1) begin : g_out
        assign rdata_o[r*WIDTH +: WIDTH] = bank_q[r];
      end
    end else begin : g_lvt
      reg [LW-1:0] lvt [0:DEPTH-1];
`ifndef SYNTHESIS
      integer i;
      initial begin
        for (i = 0; i < DEPTH; i = i + 1) lvt[i] = {LW{1'b0}};
      end
`endif
      integer p;
      always @(posedge clk_i) begin
        for (p = 0; p < NW; p = p + 1) begin
          if (we_i[p]) lvt[waddr_i[p*AW +: AW]] <= p[LW-1:0];
        end
      end
      for (r = 0; r < NR; r = r + 1) begin : g_out
        reg [LW-1:0] sel_q;
        always @(posedge clk_i) begin
          if (re_i[r]) sel_q <= lvt[raddr_i[r*AW +: AW]];
        end
        assign rdata_o[r*WIDTH +: WIDTH] = bank_q[sel_q*NR + r];
      end
    end
  endgenerate
endmodule
