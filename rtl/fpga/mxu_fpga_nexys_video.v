// mxu_fpga_nexys_video: mxu on a Digilent Nexys Video (Artix-7 XC7A200T-1SBG484C).
// The board's FT2232H ("PROG" USB port) routes channel A to the FPGA as a
// synchronous 245 FIFO (Digilent calls it DPTI); channel B stays the JTAG cable.
// Pins and timing: rtl/fpga/nexys_video.xdc. Bring-up: docs/fpga.md.
//
//   sysclk 100 MHz ─► MMCM ─► core clock (1000/CORE_DIV MHz)
//   cpu_resetn (button) and MMCM lock ─► reset
//   prog_* (FT2232H channel A) ◄─► mxu_fpga_system ─► led[7:0]
//   sw[0] = byte loopback (checks USB, PHY and clock crossings without the link)
//
// The default configuration is 16x16 with a 64 KiB unified buffer and 512 KiB
// of block RAM as device memory: about 270 of the part's 365 RAMB36 (docs/fpga.md).
`default_nettype none
`include "mxu_isa.vh"

module mxu_fpga_nexys_video #(
  parameter integer ROWS         = 16,
  parameter integer COLS         = 16,
  parameter integer UB_LINES     = 4096,
  parameter integer ACC_ROWS     = 1024,
  parameter integer WB_LINES     = 4096,
  parameter integer PARAM_LINES  = 64,
  parameter integer DRAM_BYTES   = 524288,
  parameter integer DRAM_LATENCY = 1,
  parameter integer CORE_DIV     = 20     // core clock = 1000 / CORE_DIV MHz
) (
  input  wire       sysclk,
  input  wire       cpu_resetn,
  input  wire       prog_clko,
  inout  wire [7:0] prog_d,
  input  wire       prog_rxen,
  input  wire       prog_txen,
  output wire       prog_rdn,
  output wire       prog_wrn,
  output wire       prog_oen,
  output wire       prog_siwun,
  input  wire [0:0] sw,
  output wire [7:0] led
);
  wire clk, locked;
  xc7_clk_gen #(.CORE_DIV(CORE_DIV)) u_clk (
    .clk_100m_i(sysclk), .rst_i(!cpu_resetn), .clk_o(clk), .locked_o(locked));

  wire [7:0] d_out;
  wire       d_oe;
  assign prog_d = d_oe ? d_out : 8'hzz;

  mxu_fpga_system #(
    .ROWS(ROWS), .COLS(COLS), .UB_LINES(UB_LINES), .ACC_ROWS(ACC_ROWS), .WB_LINES(WB_LINES),
    .PARAM_LINES(PARAM_LINES), .DRAM_BYTES(DRAM_BYTES), .DRAM_LATENCY(DRAM_LATENCY),
    .CLK_HZ(1000000000 / CORE_DIV)
  ) u_sys (
    .clk_i(clk), .rst_ni(cpu_resetn && locked), .ft_clk_i(prog_clko),
    .ft_data_i(prog_d), .ft_data_o(d_out), .ft_data_oe_o(d_oe),
    .ft_rxf_ni(prog_rxen), .ft_txe_ni(prog_txen), .ft_rd_no(prog_rdn), .ft_wr_no(prog_wrn),
    .ft_oe_no(prog_oen), .ft_siwu_no(prog_siwun),
    .loopback_i(sw[0]), .led_o(led));
endmodule
