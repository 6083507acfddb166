// mxu_link: the host-link engine (docs/link.md). A byte stream in and out with
// valid/ready (on a board: the FT245 synchronous FIFO after its clock-domain
// crossing) carries framed, CRC-checked packets; the engine answers each with a
// response and performs it on a CSR port and a DRAM port shaped like mxu_top's.
//
//   rx bytes ─► mxu_link_rx ──► request FIFO ──► mxu_link_exec ─► tx bytes
//   (hunt, check)   │  (RX_PACKETS)                 │   ├─► CSR port
//                   └──► payload buffer ────────────┘   └─► DRAM port
//                        (RX_BYTES, checked bytes only)
//
// Flow control: the host keeps at most RX_PACKETS requests with at most RX_BYTES
// payload bytes unanswered (both reported by INFO), so rx_ready_o never has to
// drop for long and the host can always finish sending before it reads; the
// engine sends only answers, and only while tx_ready_i is high.
`default_nettype none

module mxu_link #(
  parameter integer DRAM_BYTES  = 268435456,
  parameter integer BEAT        = 16,
  parameter integer MAX_PAYLOAD = 4096,
  parameter integer RX_BYTES    = 16384,
  parameter integer RX_PACKETS  = 16,
  parameter integer RD_BEATS    = 8
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire [7:0]        rx_data_i,
  input  wire              rx_valid_i,
  output wire              rx_ready_o,
  output wire [7:0]        tx_data_o,
  output wire              tx_valid_o,
  input  wire              tx_ready_i,
  output wire              csr_valid_o,
  output wire              csr_write_o,
  output wire [11:0]       csr_addr_o,
  output wire [31:0]       csr_wdata_o,
  input  wire [31:0]       csr_rdata_i,
  output wire              mem_req_valid_o,
  input  wire              mem_req_ready_i,
  output wire              mem_req_write_o,
  output wire [31:0]       mem_req_addr_o,
  output wire [8*BEAT-1:0] mem_req_wdata_o,
  output wire [BEAT-1:0]   mem_req_wstrb_o,
  input  wire              mem_rsp_valid_i,
  input  wire [8*BEAT-1:0] mem_rsp_rdata_i,
  output wire              error_o
);
  localparam integer AW  = $clog2(RX_BYTES);
  localparam integer QCW = $clog2(RX_PACKETS + 1);
  localparam integer QW  = 8 + 8 + 32 + 16 + 8;   // op, tag, addr, len, status

  wire          buf_we, buf_re;
  wire [AW-1:0] buf_waddr, buf_raddr;
  wire [7:0]    buf_wdata, buf_rdata;
  wire [AW:0]   buf_rd_ptr;
  mxu_ram #(.WIDTH(8), .DEPTH(RX_BYTES), .AW(AW), .NR(1), .NW(1)) u_payload (
    .clk_i(clk_i),
    .we_i(buf_we), .waddr_i(buf_waddr), .wdata_i(buf_wdata),
    .re_i(buf_re), .raddr_i(buf_raddr), .rdata_o(buf_rdata));

  wire        in_valid, in_ready, out_valid, out_ready;
  wire [7:0]  in_op, in_tag, in_status;
  wire [31:0] in_addr;
  wire [15:0] in_len;
  wire [QW-1:0] out_req;
  wire [31:0] packets, crc_errors, skipped;
  wire [QCW-1:0] queued;

  mxu_link_rx #(
    .MAX_PAYLOAD(MAX_PAYLOAD), .BUF_BYTES(RX_BYTES), .BUF_AW(AW), .DRAM_BYTES(DRAM_BYTES)
  ) u_rx (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .rx_data_i(rx_data_i), .rx_valid_i(rx_valid_i), .rx_ready_o(rx_ready_o),
    .buf_we_o(buf_we), .buf_waddr_o(buf_waddr), .buf_wdata_o(buf_wdata), .buf_rd_ptr_i(buf_rd_ptr),
    .req_valid_o(in_valid), .req_ready_i(in_ready), .req_op_o(in_op), .req_tag_o(in_tag),
    .req_addr_o(in_addr), .req_len_o(in_len), .req_status_o(in_status),
    .packets_o(packets), .crc_errors_o(crc_errors), .skipped_o(skipped));

  mxu_fifo #(.WIDTH(QW), .DEPTH(RX_PACKETS), .CW(QCW)) u_requests (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(in_valid), .in_ready_o(in_ready), .in_data_i({in_status, in_len, in_addr, in_tag, in_op}),
    .out_valid_o(out_valid), .out_ready_i(out_ready), .out_data_o(out_req), .count_o(queued));

  mxu_link_exec #(
    .BEAT(BEAT), .MAX_PAYLOAD(MAX_PAYLOAD), .BUF_BYTES(RX_BYTES), .BUF_AW(AW),
    .RX_PACKETS(RX_PACKETS), .RD_BEATS(RD_BEATS)
  ) u_exec (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .req_valid_i(out_valid), .req_ready_o(out_ready),
    .req_op_i(out_req[7:0]), .req_tag_i(out_req[15:8]), .req_addr_i(out_req[47:16]),
    .req_len_i(out_req[63:48]), .req_status_i(out_req[71:64]),
    .buf_re_o(buf_re), .buf_raddr_o(buf_raddr), .buf_rdata_i(buf_rdata), .buf_rd_ptr_o(buf_rd_ptr),
    .csr_valid_o(csr_valid_o), .csr_write_o(csr_write_o), .csr_addr_o(csr_addr_o),
    .csr_wdata_o(csr_wdata_o), .csr_rdata_i(csr_rdata_i),
    .mem_req_valid_o(mem_req_valid_o), .mem_req_ready_i(mem_req_ready_i),
    .mem_req_write_o(mem_req_write_o), .mem_req_addr_o(mem_req_addr_o),
    .mem_req_wdata_o(mem_req_wdata_o), .mem_req_wstrb_o(mem_req_wstrb_o),
    .mem_rsp_valid_i(mem_rsp_valid_i), .mem_rsp_rdata_i(mem_rsp_rdata_i),
    .tx_data_o(tx_data_o), .tx_valid_o(tx_valid_o), .tx_ready_i(tx_ready_i),
    .packets_i(packets), .crc_errors_i(crc_errors), .skipped_i(skipped),
    .error_o(error_o));

  wire unused = &{1'b0, queued};
endmodule
