// mxu_link_top: the accelerator behind its host link, the whole device a board
// needs between its USB bridge and its memory: mxu_link turns the byte stream
// into CSR accesses and DRAM bursts, mxu_top runs programs, mxu_link_arb shares
// the one DRAM port (mxu_top's protocol) between them.
//
//   rx/tx bytes ◄──► mxu_link ──CSR──► mxu_top ──┐
//                        └──────DRAM──► mxu_link_arb ◄┘──► dram_req / dram_rsp
//
// Parameters: mxu_top's, plus the link's buffer sizes (docs/link.md).
`default_nettype none
`include "mxu_isa.vh"

module mxu_link_top #(
  parameter integer ROWS             = `MXU_DEFAULT_ROWS,
  parameter integer COLS             = `MXU_DEFAULT_COLS,
  parameter integer UB_LINES         = `MXU_DEFAULT_UB_LINES,
  parameter integer ACC_ROWS         = `MXU_DEFAULT_ACC_ROWS,
  parameter integer WB_LINES         = `MXU_DEFAULT_WB_LINES,
  parameter integer PARAM_LINES      = `MXU_DEFAULT_PARAM_LINES,
  parameter integer DRAM_BYTES       = `MXU_DEFAULT_DRAM_BYTES,
  parameter integer DRAM_BEAT_BYTES  = `MXU_DEFAULT_DRAM_BEAT_BYTES,
  parameter integer QUEUE_DEPTH      = `MXU_DEFAULT_QUEUE_DEPTH,
  parameter integer TOKEN_MAX        = `MXU_DEFAULT_TOKEN_MAX,
  parameter integer LINK_MAX_PAYLOAD = 4096,   // largest request payload / read
  parameter integer LINK_RX_BYTES    = 16384,  // payload buffer (power of two)
  parameter integer LINK_RX_PACKETS  = 16,     // requests buffered
  parameter integer LINK_RD_BEATS    = 8       // DRAM read beats in flight for MEM_READ
) (
  input  wire                           clk_i,
  input  wire                           rst_ni,
  input  wire [7:0]                     rx_data_i,
  input  wire                           rx_valid_i,
  output wire                           rx_ready_o,
  output wire [7:0]                     tx_data_o,
  output wire                           tx_valid_o,
  input  wire                           tx_ready_i,
  output wire                           dram_req_valid_o,
  input  wire                           dram_req_ready_i,
  output wire                           dram_req_write_o,
  output wire [31:0]                    dram_req_addr_o,
  output wire [8*DRAM_BEAT_BYTES-1:0]   dram_req_wdata_o,
  output wire [DRAM_BEAT_BYTES-1:0]     dram_req_wstrb_o,
  input  wire                           dram_rsp_valid_i,
  input  wire [8*DRAM_BEAT_BYTES-1:0]   dram_rsp_rdata_i,
  output wire                           busy_o,
  output wire                           done_o,
  output wire                           error_o,
  output wire                           link_error_o
);
  localparam integer BEAT = DRAM_BEAT_BYTES;
  // The core's reads in flight are bounded by its load buffer (32 beats) and its
  // fetch window (4 instructions of 32 bytes): mxu_top's LOAD_BUF and FETCH_BUF.
  localparam integer CORE_READS = 32 + 4 * 32 / BEAT;

  wire        csr_valid, csr_write;
  wire [11:0] csr_addr;
  wire [31:0] csr_wdata, csr_rdata;

  wire              c_valid, c_ready, c_write, c_rsp;
  wire [31:0]       c_addr;
  wire [8*BEAT-1:0] c_wdata;
  wire [BEAT-1:0]   c_wstrb;
  wire              l_valid, l_ready, l_write, l_rsp;
  wire [31:0]       l_addr;
  wire [8*BEAT-1:0] l_wdata;
  wire [BEAT-1:0]   l_wstrb;

  mxu_top #(
    .ROWS(ROWS), .COLS(COLS), .UB_LINES(UB_LINES), .ACC_ROWS(ACC_ROWS), .WB_LINES(WB_LINES),
    .PARAM_LINES(PARAM_LINES), .DRAM_BYTES(DRAM_BYTES), .DRAM_BEAT_BYTES(DRAM_BEAT_BYTES),
    .QUEUE_DEPTH(QUEUE_DEPTH), .TOKEN_MAX(TOKEN_MAX)
  ) u_core (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .csr_valid_i(csr_valid), .csr_write_i(csr_write), .csr_addr_i(csr_addr),
    .csr_wdata_i(csr_wdata), .csr_rdata_o(csr_rdata),
    .dram_req_valid_o(c_valid), .dram_req_ready_i(c_ready), .dram_req_write_o(c_write),
    .dram_req_addr_o(c_addr), .dram_req_wdata_o(c_wdata), .dram_req_wstrb_o(c_wstrb),
    .dram_rsp_valid_i(c_rsp), .dram_rsp_rdata_i(dram_rsp_rdata_i),
    .busy_o(busy_o), .done_o(done_o), .error_o(error_o));

  mxu_link #(
    .DRAM_BYTES(DRAM_BYTES), .BEAT(BEAT), .MAX_PAYLOAD(LINK_MAX_PAYLOAD),
    .RX_BYTES(LINK_RX_BYTES), .RX_PACKETS(LINK_RX_PACKETS), .RD_BEATS(LINK_RD_BEATS)
  ) u_link (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .rx_data_i(rx_data_i), .rx_valid_i(rx_valid_i), .rx_ready_o(rx_ready_o),
    .tx_data_o(tx_data_o), .tx_valid_o(tx_valid_o), .tx_ready_i(tx_ready_i),
    .csr_valid_o(csr_valid), .csr_write_o(csr_write), .csr_addr_o(csr_addr),
    .csr_wdata_o(csr_wdata), .csr_rdata_i(csr_rdata),
    .mem_req_valid_o(l_valid), .mem_req_ready_i(l_ready), .mem_req_write_o(l_write),
    .mem_req_addr_o(l_addr), .mem_req_wdata_o(l_wdata), .mem_req_wstrb_o(l_wstrb),
    .mem_rsp_valid_i(l_rsp), .mem_rsp_rdata_i(dram_rsp_rdata_i),
    .error_o(link_error_o));

  mxu_link_arb #(.BEAT(BEAT), .ORDER_DEPTH(CORE_READS + LINK_RD_BEATS)) u_arb (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .c_valid_i(c_valid), .c_ready_o(c_ready), .c_write_i(c_write), .c_addr_i(c_addr),
    .c_wdata_i(c_wdata), .c_wstrb_i(c_wstrb), .c_rsp_valid_o(c_rsp),
    .l_valid_i(l_valid), .l_ready_o(l_ready), .l_write_i(l_write), .l_addr_i(l_addr),
    .l_wdata_i(l_wdata), .l_wstrb_i(l_wstrb), .l_rsp_valid_o(l_rsp),
    .req_valid_o(dram_req_valid_o), .req_ready_i(dram_req_ready_i), .req_write_o(dram_req_write_o),
    .req_addr_o(dram_req_addr_o), .req_wdata_o(dram_req_wdata_o), .req_wstrb_o(dram_req_wstrb_o),
    .rsp_valid_i(dram_rsp_valid_i));
endmodule
