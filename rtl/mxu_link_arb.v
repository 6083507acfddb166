// mxu_link_arb: one DRAM port for two masters, the accelerator (core) and the host
// link, with the request/response protocol of mxu_top's port. Round robin when
// both ask; with the link idle the core's requests pass straight through, so a run
// takes the same cycles as on a bare mxu_top. Read responses return in request
// order; a FIFO of master ids routes them. It must never fill while the core has
// reads out: ORDER_DEPTH covers the core's bound (its load buffer and fetch
// window, see mxu_top) plus the link's RD_BEATS. When full, reads wait.
`default_nettype none

module mxu_link_arb #(
  parameter integer BEAT        = 16,
  parameter integer ORDER_DEPTH = 72
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  // master 0: the core
  input  wire              c_valid_i,
  output wire              c_ready_o,
  input  wire              c_write_i,
  input  wire [31:0]       c_addr_i,
  input  wire [8*BEAT-1:0] c_wdata_i,
  input  wire [BEAT-1:0]   c_wstrb_i,
  output wire              c_rsp_valid_o,
  // master 1: the link
  input  wire              l_valid_i,
  output wire              l_ready_o,
  input  wire              l_write_i,
  input  wire [31:0]       l_addr_i,
  input  wire [8*BEAT-1:0] l_wdata_i,
  input  wire [BEAT-1:0]   l_wstrb_i,
  output wire              l_rsp_valid_o,
  // the DRAM port
  output wire              req_valid_o,
  input  wire              req_ready_i,
  output wire              req_write_o,
  output wire [31:0]       req_addr_o,
  output wire [8*BEAT-1:0] req_wdata_o,
  output wire [BEAT-1:0]   req_wstrb_o,
  input  wire              rsp_valid_i
);
  localparam integer OCW = $clog2(ORDER_DEPTH + 1);

  wire order_room;
  // a read may go only when its id fits the order FIFO
  wire c_ok = c_valid_i && (c_write_i || order_room);
  wire l_ok = l_valid_i && (l_write_i || order_room);
  reg  last_link_q;                    // the link had the last grant
  wire sel_link = l_ok && (!c_ok || !last_link_q);
  wire any = c_ok || l_ok;
  wire fire = any && req_ready_i;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) last_link_q <= 1'b0;
    else if (fire) last_link_q <= sel_link;
  end

  wire order_valid, order_head;
  wire [OCW-1:0] order_count;
  mxu_fifo #(.WIDTH(1), .DEPTH(ORDER_DEPTH), .CW(OCW)) u_order (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(fire && !req_write_o), .in_ready_o(order_room), .in_data_i(sel_link),
    .out_valid_o(order_valid), .out_ready_i(rsp_valid_i), .out_data_o(order_head),
    .count_o(order_count));

  // (not gated by c_valid_i: with the link idle the core sees the port's own ready)
  assign c_ready_o     = req_ready_i && !sel_link && (c_write_i || order_room);
  assign l_ready_o     = req_ready_i && sel_link;
  assign req_valid_o   = any;
  assign req_write_o   = sel_link ? l_write_i : c_write_i;
  assign req_addr_o    = sel_link ? l_addr_i : c_addr_i;
  assign req_wdata_o   = sel_link ? l_wdata_i : c_wdata_i;
  assign req_wstrb_o   = sel_link ? l_wstrb_i : c_wstrb_i;
  assign c_rsp_valid_o = rsp_valid_i && !order_head;
  assign l_rsp_valid_o = rsp_valid_i && order_head;

  wire unused = &{1'b0, order_valid, order_count};
endmodule
