// mxu_delay: WIDTH-bit shift register of DEPTH stages (DEPTH = 0 is a wire).
// RESET = 1 clears the stages on rst_ni (use it for control bits); data-only delay
// lines leave it 0 and skip the reset.
// Each stage is its own register (a generate block), not an element of an
// unpacked array: Verilator then shifts with plain copies instead of queueing a
// delayed array write per stage and cycle.
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
  genvar i;
  generate
    if (DEPTH == 0) begin : g_wire
      assign q_o = d_i;
      wire unused = &{1'b0, clk_i, rst_ni};
    end else begin : g_regs
      for (i = 0; i < DEPTH; i = i + 1) begin : g_stage
        wire [WIDTH-1:0] d;
        reg  [WIDTH-1:0] q;
        if (i == 0) begin : g_in
          assign d = d_i;
        end else begin : g_chain
          assign d = g_stage[i-1].q;
        end
        if (RESET != 0) begin : g_rst
          always @(posedge clk_i or negedge rst_ni) begin
            if (!rst_ni) q <= {WIDTH{1'b0}};
            else         q <= d;
          end
        end else begin : g_norst
          always @(posedge clk_i) q <= d;
        end
      end
      assign q_o = g_stage[DEPTH-1].q;
      if (RESET == 0) begin : g_unused
        wire unused = &{1'b0, rst_ni};
      end
    end
  endgenerate
endmodule
