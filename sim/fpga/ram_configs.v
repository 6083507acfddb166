// Bench wrapper: mxu_ram in three shapes, built twice by tb_ram_fpga, once with
// rtl/mxu_ram.v and once with rtl/fpga/mem/mxu_ram.v, to prove them equal.
//   a: 2 write ports, 2 read ports (the unified buffer), depth not a power of 2
//   b: 1 write port, 2 read ports (the accumulators)
//   c: 3 write ports, 1 read port (a wider live value table)
`default_nettype none

module ram_configs (
  input  wire        clk_i,
  input  wire [1:0]  a_we_i,
  input  wire [9:0]  a_waddr_i,
  input  wire [47:0] a_wdata_i,
  input  wire [1:0]  a_re_i,
  input  wire [9:0]  a_raddr_i,
  output wire [47:0] a_rdata_o,
  input  wire        b_we_i,
  input  wire [3:0]  b_waddr_i,
  input  wire [39:0] b_wdata_i,
  input  wire [1:0]  b_re_i,
  input  wire [7:0]  b_raddr_i,
  output wire [79:0] b_rdata_o,
  input  wire [2:0]  c_we_i,
  input  wire [8:0]  c_waddr_i,
  input  wire [23:0] c_wdata_i,
  input  wire        c_re_i,
  input  wire [2:0]  c_raddr_i,
  output wire [7:0]  c_rdata_o
);
  mxu_ram #(.WIDTH(24), .DEPTH(24), .AW(5), .NR(2), .NW(2)) u_a (
    .clk_i(clk_i), .we_i(a_we_i), .waddr_i(a_waddr_i), .wdata_i(a_wdata_i),
    .re_i(a_re_i), .raddr_i(a_raddr_i), .rdata_o(a_rdata_o));
  mxu_ram #(.WIDTH(40), .DEPTH(16), .AW(4), .NR(2), .NW(1)) u_b (
    .clk_i(clk_i), .we_i(b_we_i), .waddr_i(b_waddr_i), .wdata_i(b_wdata_i),
    .re_i(b_re_i), .raddr_i(b_raddr_i), .rdata_o(b_rdata_o));
  mxu_ram #(.WIDTH(8), .DEPTH(8), .AW(3), .NR(1), .NW(3)) u_c (
    .clk_i(clk_i), .we_i(c_we_i), .waddr_i(c_waddr_i), .wdata_i(c_wdata_i),
    .re_i(c_re_i), .raddr_i(c_raddr_i), .rdata_o(c_rdata_o));
endmodule
