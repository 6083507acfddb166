// xc7_clk_gen: the core clock of a 7-series board from its 100 MHz oscillator.
// One MMCM (VCO = 100 MHz x 10 = 1 GHz, inside every speed grade's 600-1200 MHz)
// divided by CORE_DIV: 10 -> 100 MHz, 20 -> 50 MHz (default), 40 -> 25 MHz.
// locked_o goes high once the clock is stable; use it as a reset release.
`default_nettype none

module xc7_clk_gen #(
  parameter integer CORE_DIV = 20     // 2..128
) (
  input  wire clk_100m_i,
  input  wire rst_i,        // active high: restart the MMCM
  output wire clk_o,
  output wire locked_o
);
  generate
    if (CORE_DIV < 2 || CORE_DIV > 128) begin : g_bad_param
      xc7_clk_gen_param_error_core_div_2_to_128 u_param_error ();
    end
  endgenerate

  wire clk_fb, clk_fb_buf, clk_core;
  wire [5:0] unused_clk;
  wire [3:0] unused_clkb;
  wire       unused_fbb;
  MMCME2_BASE #(
    .BANDWIDTH("OPTIMIZED"),
    .CLKIN1_PERIOD(10.0),
    .DIVCLK_DIVIDE(1),
    .CLKFBOUT_MULT_F(10.0),
    .CLKOUT0_DIVIDE_F(CORE_DIV)
  ) u_mmcm (
    .CLKIN1(clk_100m_i), .CLKFBIN(clk_fb_buf), .RST(rst_i), .PWRDWN(1'b0),
    .CLKOUT0(clk_core), .CLKOUT0B(unused_clkb[0]),
    .CLKOUT1(unused_clk[0]), .CLKOUT1B(unused_clkb[1]),
    .CLKOUT2(unused_clk[1]), .CLKOUT2B(unused_clkb[2]),
    .CLKOUT3(unused_clk[2]), .CLKOUT3B(unused_clkb[3]),
    .CLKOUT4(unused_clk[3]), .CLKOUT5(unused_clk[4]), .CLKOUT6(unused_clk[5]),
    .CLKFBOUT(clk_fb), .CLKFBOUTB(unused_fbb), .LOCKED(locked_o));

  BUFG u_fb_buf  (.I(clk_fb),   .O(clk_fb_buf));
  BUFG u_clk_buf (.I(clk_core), .O(clk_o));

  wire unused = &{1'b0, unused_clk, unused_clkb, unused_fbb};
endmodule
