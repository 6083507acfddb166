// mxu_fpga_ft232h: mxu on any FPGA board with an FT232H module (Adafruit FT232H,
// FTDI UM232H, C232HM...) wired to its pin headers, the chip's EEPROM set to
// 245 FIFO (docs/fpga.md). The board's own oscillator is the core clock; the
// module's ACBUS5 (CLKOUT, 60 MHz) clocks the PHY.
//
//   FT232H   ADBUS0-7 = D[7:0], ACBUS0 = RXF#, ACBUS1 = TXE#, ACBUS2 = RD#,
//            ACBUS3 = WR#, ACBUS4 = SIWU#, ACBUS5 = CLKOUT, ACBUS6 = OE#
//
// Constraints: rtl/fpga/ft232h_generic.xdc (Arty A7 Pmods JA/JB, 7-series) and
// rtl/fpga/ft232h_icebreaker.pcf (iCE40). LED_INVERT: a 1 bit inverts that
// LED output (boards with active-low LEDs).
`default_nettype none
`include "mxu_isa.vh"

module mxu_fpga_ft232h #(
  parameter integer ROWS            = 8,        // defaults: an Arty A7-100T (docs/fpga.md)
  parameter integer COLS            = 8,
  parameter integer UB_LINES        = 2048,
  parameter integer ACC_ROWS        = 512,
  parameter integer WB_LINES        = 1024,
  parameter integer PARAM_LINES     = 32,
  parameter integer DRAM_BYTES      = 262144,
  parameter integer DRAM_BEAT_BYTES = `MXU_DEFAULT_DRAM_BEAT_BYTES,
  parameter integer QUEUE_DEPTH     = `MXU_DEFAULT_QUEUE_DEPTH,
  parameter integer TOKEN_MAX       = `MXU_DEFAULT_TOKEN_MAX,
  parameter integer DRAM_LATENCY    = 1,
  parameter integer CLK_HZ          = 100000000,   // the board oscillator on clk_i
  parameter integer FIFO_AW         = 5,
  parameter integer FLUSH_IDLE      = 32,
  parameter integer LED_HOLD_MS     = 50,
  parameter integer LED_INVERT      = 0       // bit i inverts led_o[i]
) (
  input  wire       clk_i,
  input  wire       rst_ni,        // reset button, active low
  input  wire       ft_clk_i,      // ACBUS5 CLKOUT
  inout  wire [7:0] ft_data_io,    // ADBUS0-7
  input  wire       ft_rxf_ni,     // ACBUS0
  input  wire       ft_txe_ni,     // ACBUS1
  output wire       ft_rd_no,      // ACBUS2
  output wire       ft_wr_no,      // ACBUS3
  output wire       ft_siwu_no,    // ACBUS4
  output wire       ft_oe_no,      // ACBUS6
  input  wire       loopback_i,    // a switch: byte loopback
  output wire [7:0] led_o
);
  wire [7:0] d_out, leds;
  wire       d_oe;
  assign ft_data_io = d_oe ? d_out : 8'hzz;
  localparam [7:0] INV = LED_INVERT[7:0];
  assign led_o = leds ^ INV;

  mxu_fpga_system #(
    .ROWS(ROWS), .COLS(COLS), .UB_LINES(UB_LINES), .ACC_ROWS(ACC_ROWS), .WB_LINES(WB_LINES),
    .PARAM_LINES(PARAM_LINES), .DRAM_BYTES(DRAM_BYTES), .DRAM_BEAT_BYTES(DRAM_BEAT_BYTES),
    .QUEUE_DEPTH(QUEUE_DEPTH), .TOKEN_MAX(TOKEN_MAX), .DRAM_LATENCY(DRAM_LATENCY),
    .CLK_HZ(CLK_HZ), .FIFO_AW(FIFO_AW), .FLUSH_IDLE(FLUSH_IDLE), .LED_HOLD_MS(LED_HOLD_MS)
  ) u_sys (
    .clk_i(clk_i), .rst_ni(rst_ni), .ft_clk_i(ft_clk_i),
    .ft_data_i(ft_data_io), .ft_data_o(d_out), .ft_data_oe_o(d_oe),
    .ft_rxf_ni(ft_rxf_ni), .ft_txe_ni(ft_txe_ni), .ft_rd_no(ft_rd_no), .ft_wr_no(ft_wr_no),
    .ft_oe_no(ft_oe_no), .ft_siwu_no(ft_siwu_no),
    .loopback_i(loopback_i), .led_o(leds));
endmodule
