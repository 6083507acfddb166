// mxu_arb: shares the DRAM port between fetch (reads), the load DMA (reads) and the
// store DMA (writes), round robin. Read responses come back in request order; a
// FIFO of requester ids routes each one. The requesters bound their own reads in
// flight (their buffer credits), and ID_DEPTH covers the sum of those bounds.
`default_nettype none

module mxu_arb #(
  parameter integer BEAT     = 16,
  parameter integer ID_DEPTH = 64
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire              f_valid_i,
  output wire              f_ready_o,
  input  wire [31:0]       f_addr_i,
  input  wire              l_valid_i,
  output wire              l_ready_o,
  input  wire [31:0]       l_addr_i,
  input  wire              s_valid_i,
  output wire              s_ready_o,
  input  wire [31:0]       s_addr_i,
  input  wire [BEAT*8-1:0] s_data_i,
  input  wire [BEAT-1:0]   s_strb_i,
  output wire              req_valid_o,
  input  wire              req_ready_i,
  output wire              req_write_o,
  output wire [31:0]       req_addr_o,
  output wire [BEAT*8-1:0] req_wdata_o,
  output wire [BEAT-1:0]   req_wstrb_o,
  input  wire              rsp_valid_i,
  output wire              f_rsp_valid_o,
  output wire              l_rsp_valid_o,
  output wire              rd_fire_o,     // a read beat was granted
  output wire              wr_fire_o,     // a write beat was granted
  output wire              idle_o
);
  localparam integer IW = $clog2(ID_DEPTH + 1);
  reg [1:0] last_q;   // last granted requester

  wire [2:0] v = {s_valid_i, l_valid_i, f_valid_i};
  // Round robin: the first valid requester after the last one granted.
  reg [1:0] sel;
  always @* begin
    case (last_q)
      2'd0:    sel = v[1] ? 2'd1 : v[2] ? 2'd2 : 2'd0;
      2'd1:    sel = v[2] ? 2'd2 : v[0] ? 2'd0 : 2'd1;
      default: sel = v[0] ? 2'd0 : v[1] ? 2'd1 : 2'd2;
    endcase
  end
  wire any  = |v;
  wire fire = any && req_ready_i;
  wire rd   = sel != 2'd2;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) last_q <= 2'd2;
    else if (fire) last_q <= sel;
  end

  wire id_valid, id_head, id_in_ready;
  wire [IW-1:0] id_count;
  mxu_fifo #(.WIDTH(1), .DEPTH(ID_DEPTH), .CW(IW)) u_id_fifo (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(fire && rd), .in_ready_o(id_in_ready), .in_data_i(sel == 2'd1),
    .out_valid_o(id_valid), .out_ready_i(rsp_valid_i), .out_data_o(id_head), .count_o(id_count));

  assign f_ready_o     = req_ready_i && sel == 2'd0;
  assign l_ready_o     = req_ready_i && sel == 2'd1;
  assign s_ready_o     = req_ready_i && sel == 2'd2;
  assign req_valid_o   = any;
  assign req_write_o   = sel == 2'd2;
  assign req_addr_o    = (sel == 2'd0) ? f_addr_i : (sel == 2'd1) ? l_addr_i : s_addr_i;
  assign req_wdata_o   = s_data_i;
  assign req_wstrb_o   = (sel == 2'd2) ? s_strb_i : {BEAT{1'b0}};
  // id 1 = load, 0 = fetch
  assign f_rsp_valid_o = rsp_valid_i && !id_head;
  assign l_rsp_valid_o = rsp_valid_i && id_head;
  assign rd_fire_o     = fire && rd;
  assign wr_fire_o     = fire && !rd;
  assign idle_o        = !id_valid;

  wire unused = &{1'b0, id_in_ready, id_count};
endmodule
