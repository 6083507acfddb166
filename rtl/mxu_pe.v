// mxu_pe: one weight-stationary processing element of the systolic array.
//
// Inputs (int8 activations) flow left -> right, partial sums (int32) top -> bottom.
// The PE holds three weight registers:
//   wpipe_q   - one stage of the column's weight pipe (shifts down while a tile loads)
//   shadow_q  - the preloaded weight of the next tile (written by the column commit)
//   active_q  - the weight the PE multiplies with
// The input that starts a tile carries first_i; the PE multiplies that input with
// shadow_q already and copies shadow_q into active_q, so the swap travels through the
// array with the wave of the tile's first input vector. See mxu_array for the timing.
`default_nettype none

module mxu_pe (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire [7:0]  a_i,       // activation from the left
  input  wire        first_i,   // a_i is the first vector of a new weight tile
  input  wire [31:0] psum_i,    // partial sum from above
  input  wire        wshift_i,  // weight pipe shifts this cycle
  input  wire        wcommit_i, // the column's tile is complete: shadow <= pipe input
  input  wire [7:0]  wpipe_i,   // weight pipe from above
  output wire [7:0]  a_o,
  output wire        first_o,
  output wire [31:0] psum_o,
  output wire [7:0]  wpipe_o
);
  reg [7:0]  a_q;
  reg        first_q;
  reg [31:0] psum_q;
  reg [7:0]  wpipe_q, shadow_q, active_q;

  // The int8 x int8 product, sign-extended to the partial-sum width (it fits in 16
  // bits; one 32-bit signed multiply is also the cheapest form for Verilator).
  wire [7:0]  w_use = first_i ? shadow_q : active_q;
  wire [31:0] prod  = $signed(a_i) * $signed(w_use);

  // Datapath registers need no reset: only vectors marked valid are ever read out.
  always @(posedge clk_i) begin
    a_q    <= a_i;
    psum_q <= psum_i + prod;
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      first_q  <= 1'b0;
      wpipe_q  <= 8'd0;
      shadow_q <= 8'd0;
      active_q <= 8'd0;
    end else begin
      first_q  <= first_i;
      active_q <= w_use;
      if (wshift_i)  wpipe_q  <= wpipe_i;
      if (wcommit_i) shadow_q <= wpipe_i;
    end
  end

  assign a_o     = a_q;
  assign first_o = first_q;
  assign psum_o  = psum_q;
  assign wpipe_o = wpipe_q;
endmodule
