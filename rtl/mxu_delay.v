// mxu_delay: WIDTH-bit shift register of DEPTH stages (DEPTH = 0 is a wire).
// RESET = 1 clears the stages on rst_ni (use it for control bits); data-only delay
// lines leave it 0 and skip the reset.
`default_nettype none

module mxu_delay #(
  parameter integer WIDTH = 1,
  parameter integer DEPTH = 1,
  parameter integer RESET = 1
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  input  wire [WIDTH-1:0] d_i,
  output wire [WIDTH-1:0] q_o
);
  generate
    if (DEPTH == 0) begin : g_wire
      assign q_o = d_i;
      wire unused = &{1'b0, clk_i, rst_ni};
    end else begin : g_regs
      reg [WIDTH-1:0] q [0:DEPTH-1];
      integer i;
      if (RESET != 0) begin : g_rst
        always @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) begin
            for (i = 0; i < DEPTH; i = i + 1) q[i] <= {WIDTH{1'b0}};
          end else begin
            q[0] <= d_i;
            for (i = 1; i < DEPTH; i = i + 1) q[i] <= q[i-1];
          end
        end
      end else begin : g_norst
        always @(posedge clk_i) begin
          q[0] <= d_i;
          for (i = 1; i < DEPTH; i = i + 1) q[i] <= q[i-1];
        end
        wire unused = &{1'b0, rst_ni};
      end
      assign q_o = q[DEPTH-1];
    end
  endgenerate
endmodule
