// Lint/simulation stand-in for the Xilinx BUFG primitive.
`default_nettype none

module BUFG (
  input  wire I,
  output wire O
);
  assign O = I;
endmodule
