// mxu_ram: DEPTH x WIDTH memory as a plain register array with NW write ports and
// NR synchronous read ports (data the cycle after re_i). Flattened port vectors.
// Reads see the old content when a write to the same line happens in the same
// cycle. Writes of two ports to the same line in one cycle: the higher port wins.
// The content is zeroed at time 0 by an `initial` block (power-on), not by rst_ni:
// a reset loop over the big arrays would cost every simulated cycle. Synthesis
// skips it (SYNTHESIS, which yosys' read_verilog defines): an SRAM macro has no
// power-on content, FPGA block RAM configures to zero anyway, and yosys unrolls
// the loop into one assignment per line (minutes per memory at 16384 lines).
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
    if (DEPTH < 1 || (1 << AW) < DEPTH) begin : g_bad_param
      mxu_param_error_ram_address_too_narrow u_param_error ();
    end
  endgenerate

  reg [WIDTH-1:0] mem [0:DEPTH-1];
`ifndef SYNTHESIS
  integer i;
  initial begin
    for (i = 0; i < DEPTH; i = i + 1) mem[i] = {WIDTH{1'b0}};
  end
`endif

  integer p;
  always @(posedge clk_i) begin
    for (p = 0; p < NW; p = p + 1) begin
      if (we_i[p]) mem[waddr_i[p*AW +: AW]] <= wdata_i[p*WIDTH +: WIDTH];
    end
  end

  genvar r;
  generate
    for (r = 0; r < NR; r = r + 1) begin : g_read
      reg [WIDTH-1:0] q;
      always @(posedge clk_i) begin
        if (re_i[r]) q <= mem[raddr_i[r*AW +: AW]];
      end
      assign rdata_o[r*WIDTH +: WIDTH] = q;
    end
  endgenerate
endmodule
