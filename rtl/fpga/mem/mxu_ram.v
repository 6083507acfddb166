// mxu_ram, FPGA implementation: the same module, ports and behaviour as
// rtl/mxu_ram.v, built from memories an FPGA has. FPGA builds (mk/fpga.mk,
// mk/synth.mk) use this file in place of rtl/mxu_ram.v; simulation and the
// generic area model keep rtl/mxu_ram.v.
//
// Block RAM has at most one write and one read port per copy (simple dual
// port). With one write port, each read port gets its own copy. With several
// (the unified buffer is written by the load DMA and the activation engine in
// the same cycle), every (write port, read port) pair gets a copy, and a live
// value table (LVT) tells each read which copy holds the line's last write:
//
//   we[w] ──► bank[w][r] (one per read port r) ──────────┐
//   we[w] ──► tbl[w][line] = w ^ (XOR of the other tables) ┴─► rdata[r] = bank[lvt][r],
//                                    lvt = XOR of every tbl[*][raddr[r]]
//
// The LVT is XOR-coded so that each table has a single writer and fits LUT RAM
// (asynchronous reads): a port writing line L stores its number XORed with the
// other tables' entries for L, so XORing all entries of L yields the last
// writer. When several ports write the same line in one cycle, only the highest
// one updates its table (it wins, as in rtl/mxu_ram.v).
//
// Identical to rtl/mxu_ram.v cycle for cycle: synchronous reads with re_i, the
// old content on a read of a line written in the same cycle, the higher write
// port winning a same-line collision, zero content at power-on (FPGA RAM
// configures to zero; the `initial` blocks give simulation the same).
// Cost: NW*NR block-RAM copies, plus NW tables of DEPTH x clog2(NW) bits in
// LUT RAM (each read by NR + NW - 1 ports).
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

  // ---- live value table (XOR-coded, one writer per table) ----------------------------
  generate
    if (NW == 1) begin : g_one_writer
      for (r = 0; r < NR; r = r + 1) begin : g_out
        assign rdata_o[r*WIDTH +: WIDTH] = bank_q[r];
      end
    end else begin : g_lvt
      // tbl_rd[w][k]: table w at read address k (k < NR: read port k; k = NR + v:
      // write port v's address, for the XOR of a write)
      wire [NW*(NR+NW)*LW-1:0] tbl_rd;   // flat: Icarus wants no arrays under @*
      for (w = 0; w < NW; w = w + 1) begin : g_tbl
        reg [LW-1:0] tbl [0:DEPTH-1];
`ifndef SYNTHESIS
        integer i;
        initial begin
          for (i = 0; i < DEPTH; i = i + 1) tbl[i] = {LW{1'b0}};
        end
`endif
        // This port writes its table unless a higher port writes the same line.
        reg           wins;
        reg  [LW-1:0] code;
        integer v;
        always @* begin
          wins = we_i[w];
          code = w[LW-1:0];
          for (v = 0; v < NW; v = v + 1) begin
            if (v > w && we_i[v] && waddr_i[v*AW +: AW] == waddr_i[w*AW +: AW]) wins = 1'b0;
            if (v != w) code = code ^ tbl_rd[(v*(NR+NW) + NR + w)*LW +: LW];
          end
        end
        always @(posedge clk_i) begin
          if (wins) tbl[waddr_i[w*AW +: AW]] <= code;
        end
        genvar k;
        for (k = 0; k < NR; k = k + 1) begin : g_rport
          assign tbl_rd[(w*(NR+NW) + k)*LW +: LW] = tbl[raddr_i[k*AW +: AW]];
        end
        for (k = 0; k < NW; k = k + 1) begin : g_wport
          assign tbl_rd[(w*(NR+NW) + NR + k)*LW +: LW] = tbl[waddr_i[k*AW +: AW]];
        end
      end
      for (r = 0; r < NR; r = r + 1) begin : g_out
        reg [LW-1:0] lvt;
        integer u;
        always @* begin
          lvt = {LW{1'b0}};
          for (u = 0; u < NW; u = u + 1) lvt = lvt ^ tbl_rd[(u*(NR+NW) + r)*LW +: LW];
        end
        reg [LW-1:0] sel_q;
        always @(posedge clk_i) begin
          if (re_i[r]) sel_q <= lvt;
        end
        assign rdata_o[r*WIDTH +: WIDTH] = bank_q[sel_q*NR + r];
      end
    end
  endgenerate
endmodule
