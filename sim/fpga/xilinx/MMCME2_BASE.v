// Lint/simulation stand-in for the Xilinx 7-series MMCME2_BASE primitive (ports
// and parameters as in UG953). Only what mk/fpga.mk's lint needs: CLKOUT0
// follows CLKIN1 and LOCKED follows !RST. Synthesis uses the real primitive.
`default_nettype none

/* verilator lint_off UNUSEDPARAM */
module MMCME2_BASE #(
  parameter BANDWIDTH        = "OPTIMIZED",
  parameter real CLKIN1_PERIOD    = 10.0,
  parameter integer DIVCLK_DIVIDE = 1,
  parameter real CLKFBOUT_MULT_F  = 5.0,
  parameter real CLKOUT0_DIVIDE_F = 1.0
) (
  input  wire CLKIN1,
  input  wire CLKFBIN,
  input  wire RST,
  input  wire PWRDWN,
  output wire CLKOUT0,
  output wire CLKOUT0B,
  output wire CLKOUT1,
  output wire CLKOUT1B,
  output wire CLKOUT2,
  output wire CLKOUT2B,
  output wire CLKOUT3,
  output wire CLKOUT3B,
  output wire CLKOUT4,
  output wire CLKOUT5,
  output wire CLKOUT6,
  output wire CLKFBOUT,
  output wire CLKFBOUTB,
  output wire LOCKED
);
  assign CLKOUT0   = CLKIN1;
  assign CLKOUT0B  = !CLKIN1;
  assign CLKOUT1   = CLKIN1;
  assign CLKOUT1B  = !CLKIN1;
  assign CLKOUT2   = CLKIN1;
  assign CLKOUT2B  = !CLKIN1;
  assign CLKOUT3   = CLKIN1;
  assign CLKOUT3B  = !CLKIN1;
  assign CLKOUT4   = CLKIN1;
  assign CLKOUT5   = CLKIN1;
  assign CLKOUT6   = CLKIN1;
  assign CLKFBOUT  = CLKIN1;
  assign CLKFBOUTB = !CLKIN1;
  assign LOCKED    = !RST && !PWRDWN;

  wire unused = &{1'b0, CLKFBIN};
endmodule
/* verilator lint_on UNUSEDPARAM */
