// Bench wrapper: bram_dram with LATENCY 1 and 2 side by side on the same
// requests (tb_bram_dram compares each with the simulators' DRAM model).
`default_nettype none

module bram_dram_pair #(
  parameter integer BEAT  = 16,
  parameter integer BYTES = 4096
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire              req_valid_i,
  input  wire              req_write_i,
  input  wire [31:0]       req_addr_i,
  input  wire [8*BEAT-1:0] req_wdata_i,
  input  wire [BEAT-1:0]   req_wstrb_i,
  output wire [1:0]        req_ready_o,
  output wire [1:0]        rsp_valid_o,
  output wire [8*BEAT-1:0] rsp1_rdata_o,
  output wire [8*BEAT-1:0] rsp2_rdata_o,
  output wire [1:0]        fault_o
);
  bram_dram #(.BEAT(BEAT), .BYTES(BYTES), .LATENCY(1)) u_lat1 (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .req_valid_i(req_valid_i), .req_ready_o(req_ready_o[0]), .req_write_i(req_write_i),
    .req_addr_i(req_addr_i), .req_wdata_i(req_wdata_i), .req_wstrb_i(req_wstrb_i),
    .rsp_valid_o(rsp_valid_o[0]), .rsp_rdata_o(rsp1_rdata_o), .fault_o(fault_o[0]));
  bram_dram #(.BEAT(BEAT), .BYTES(BYTES), .LATENCY(2)) u_lat2 (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .req_valid_i(req_valid_i), .req_ready_o(req_ready_o[1]), .req_write_i(req_write_i),
    .req_addr_i(req_addr_i), .req_wdata_i(req_wdata_i), .req_wstrb_i(req_wstrb_i),
    .rsp_valid_o(rsp_valid_o[1]), .rsp_rdata_o(rsp2_rdata_o), .fault_o(fault_o[1]));
endmodule
