// mxu_fpga_system: everything a board needs behind an FTDI synchronous FIFO,
// independent of the board: the FT245 PHY in the chip's clock domain, two
// asynchronous FIFOs to the core clock, the accelerator behind its host link
// (mxu_link_top), block RAM as device memory, reset synchronizers and status
// LEDs. Board tops (mxu_fpga_nexys_video, mxu_fpga_ft232h) add only pins,
// tristate buffers and clocking.
//
//      FTDI chip                 ft_clk (60 MHz) │ clk (core)
//   D[7:0] RXF# TXE#  ┌──────────────────┐       │
//   RD# WR# OE# SIWU# │ ft245_sync_fifo  │─rx─► async_fifo ─►┬─► mxu_link_top ─► bram_dram
//   ◄───────────────► │  (PHY)           │◄tx── async_fifo ◄─┤    (link + core)
//                     └──────────────────┘       │           └─ loopback (switch)
//                                                │  status_leds ◄─ busy/done/error/link
//
// loopback_i (a switch, any clock) sends every received byte straight back,
// which checks the USB path, the PHY and both crossings without the link.
`default_nettype none
`include "mxu_isa.vh"

module mxu_fpga_system #(
  parameter integer ROWS            = `MXU_DEFAULT_ROWS,
  parameter integer COLS            = `MXU_DEFAULT_COLS,
  parameter integer UB_LINES        = `MXU_DEFAULT_UB_LINES,
  parameter integer ACC_ROWS        = `MXU_DEFAULT_ACC_ROWS,
  parameter integer WB_LINES        = `MXU_DEFAULT_WB_LINES,
  parameter integer PARAM_LINES     = `MXU_DEFAULT_PARAM_LINES,
  parameter integer DRAM_BYTES      = 524288,   // block RAM device memory
  parameter integer DRAM_BEAT_BYTES = `MXU_DEFAULT_DRAM_BEAT_BYTES,
  parameter integer QUEUE_DEPTH     = `MXU_DEFAULT_QUEUE_DEPTH,
  parameter integer TOKEN_MAX       = `MXU_DEFAULT_TOKEN_MAX,
  parameter integer DRAM_LATENCY    = 1,        // 1 or 2 (BRAM output register)
  parameter integer CLK_HZ          = 100000000,
  parameter integer FIFO_AW         = 5,        // clock-crossing FIFOs: 2**FIFO_AW bytes
  parameter integer BURST_MAX       = 512,
  parameter integer FLUSH_IDLE      = 32,
  parameter integer LED_HOLD_MS     = 50
) (
  input  wire       clk_i,          // core clock
  input  wire       rst_ni,         // asynchronous, active low (button, PLL lock)
  input  wire       ft_clk_i,       // FTDI CLKOUT
  input  wire [7:0] ft_data_i,
  output wire [7:0] ft_data_o,
  output wire       ft_data_oe_o,
  input  wire       ft_rxf_ni,
  input  wire       ft_txe_ni,
  output wire       ft_rd_no,
  output wire       ft_wr_no,
  output wire       ft_oe_no,
  output wire       ft_siwu_no,
  input  wire       loopback_i,     // asynchronous
  output wire [7:0] led_o
);
  localparam integer BEAT = DRAM_BEAT_BYTES;

  // ---- resets ------------------------------------------------------------------------
  // Power-on reset: flip-flops configure to zero, so this counter holds every
  // domain in reset for its first cycles even when nobody presses a button (the
  // FTDI strobes must not start low). The CLKOUT domain then stays in reset
  // until the chip's clock runs.
  reg  [3:0] por_q = 4'd0;
  always @(posedge clk_i) por_q <= {por_q[2:0], 1'b1};
  wire rst_all_n = rst_ni && por_q[3];

  wire rst_core_n, rst_ft_n;
  reset_sync u_rst_core (.clk_i(clk_i),    .rst_ni(rst_all_n), .rst_no(rst_core_n));
  reset_sync u_rst_ft   (.clk_i(ft_clk_i), .rst_ni(rst_all_n), .rst_no(rst_ft_n));

  // ---- FTDI PHY (ft_clk domain) ------------------------------------------------------
  wire [7:0] phy_rx_data, phy_tx_data;
  wire       phy_rx_valid, phy_rx_ready, phy_tx_valid, phy_tx_ready;
  ft245_sync_fifo #(.BURST_MAX(BURST_MAX), .FLUSH_IDLE(FLUSH_IDLE)) u_phy (
    .clk_i(ft_clk_i), .rst_ni(rst_ft_n),
    .ft_data_i(ft_data_i), .ft_data_o(ft_data_o), .ft_data_oe_o(ft_data_oe_o),
    .ft_rxf_ni(ft_rxf_ni), .ft_txe_ni(ft_txe_ni), .ft_rd_no(ft_rd_no), .ft_wr_no(ft_wr_no),
    .ft_oe_no(ft_oe_no), .ft_siwu_no(ft_siwu_no),
    .rx_data_o(phy_rx_data), .rx_valid_o(phy_rx_valid), .rx_ready_i(phy_rx_ready),
    .tx_data_i(phy_tx_data), .tx_valid_i(phy_tx_valid), .tx_ready_o(phy_tx_ready));

  // ---- clock-domain crossings -----------------------------------------------------------
  wire [7:0] rx_data, tx_data;
  wire       rx_valid, rx_ready, tx_valid, tx_ready;
  async_fifo #(.WIDTH(8), .AW(FIFO_AW)) u_rx_cdc (
    .wr_clk_i(ft_clk_i), .wr_rst_ni(rst_ft_n),
    .wr_valid_i(phy_rx_valid), .wr_ready_o(phy_rx_ready), .wr_data_i(phy_rx_data),
    .rd_clk_i(clk_i), .rd_rst_ni(rst_core_n),
    .rd_valid_o(rx_valid), .rd_ready_i(rx_ready), .rd_data_o(rx_data));
  async_fifo #(.WIDTH(8), .AW(FIFO_AW)) u_tx_cdc (
    .wr_clk_i(clk_i), .wr_rst_ni(rst_core_n),
    .wr_valid_i(tx_valid), .wr_ready_o(tx_ready), .wr_data_i(tx_data),
    .rd_clk_i(ft_clk_i), .rd_rst_ni(rst_ft_n),
    .rd_valid_o(phy_tx_valid), .rd_ready_i(phy_tx_ready), .rd_data_o(phy_tx_data));

  // ---- loopback switch (core domain) ----------------------------------------------------
  (* ASYNC_REG = "TRUE" *) reg [1:0] loop_sync_q;
  always @(posedge clk_i or negedge rst_core_n) begin
    if (!rst_core_n) loop_sync_q <= 2'b00;
    else             loop_sync_q <= {loop_sync_q[0], loopback_i};
  end
  wire loop = loop_sync_q[1];

  wire [7:0] link_tx_data;
  wire       link_rx_ready, link_tx_valid;
  assign rx_ready = loop ? tx_ready : link_rx_ready;
  assign tx_valid = loop ? rx_valid : link_tx_valid;
  assign tx_data  = loop ? rx_data  : link_tx_data;

  // ---- the accelerator behind its link ------------------------------------------------
  wire              req_valid, req_ready, req_write, rsp_valid;
  wire [31:0]       req_addr;
  wire [8*BEAT-1:0] req_wdata, rsp_rdata;
  wire [BEAT-1:0]   req_wstrb;
  wire              busy, done, error, link_error, dram_fault;
  mxu_link_top #(
    .ROWS(ROWS), .COLS(COLS), .UB_LINES(UB_LINES), .ACC_ROWS(ACC_ROWS), .WB_LINES(WB_LINES),
    .PARAM_LINES(PARAM_LINES), .DRAM_BYTES(DRAM_BYTES), .DRAM_BEAT_BYTES(DRAM_BEAT_BYTES),
    .QUEUE_DEPTH(QUEUE_DEPTH), .TOKEN_MAX(TOKEN_MAX)
  ) u_dev (
    .clk_i(clk_i), .rst_ni(rst_core_n),
    .rx_data_i(rx_data), .rx_valid_i(rx_valid && !loop), .rx_ready_o(link_rx_ready),
    .tx_data_o(link_tx_data), .tx_valid_o(link_tx_valid), .tx_ready_i(tx_ready && !loop),
    .dram_req_valid_o(req_valid), .dram_req_ready_i(req_ready), .dram_req_write_o(req_write),
    .dram_req_addr_o(req_addr), .dram_req_wdata_o(req_wdata), .dram_req_wstrb_o(req_wstrb),
    .dram_rsp_valid_i(rsp_valid), .dram_rsp_rdata_i(rsp_rdata),
    .busy_o(busy), .done_o(done), .error_o(error), .link_error_o(link_error));

  bram_dram #(.BEAT(BEAT), .BYTES(DRAM_BYTES), .LATENCY(DRAM_LATENCY)) u_dram (
    .clk_i(clk_i), .rst_ni(rst_core_n),
    .req_valid_i(req_valid), .req_ready_o(req_ready), .req_write_i(req_write),
    .req_addr_i(req_addr), .req_wdata_i(req_wdata), .req_wstrb_i(req_wstrb),
    .rsp_valid_o(rsp_valid), .rsp_rdata_o(rsp_rdata), .fault_o(dram_fault));

  // ---- LEDs -----------------------------------------------------------------------------
  status_leds #(.CLK_HZ(CLK_HZ), .HOLD_MS(LED_HOLD_MS)) u_leds (
    .clk_i(clk_i), .rst_ni(rst_core_n),
    .busy_i(busy), .done_i(done), .error_i(error || dram_fault), .link_error_i(link_error),
    .rx_i(rx_valid && rx_ready), .tx_i(tx_valid && tx_ready), .loopback_i(loop),
    .led_o(led_o));
endmodule
