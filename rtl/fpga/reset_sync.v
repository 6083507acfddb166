// reset_sync: an asynchronous active-low reset made safe for one clock domain:
// asserted at once (asynchronously), released only on a clock edge after
// STAGES flip-flops, so every register of the domain leaves reset in the same
// cycle. A domain whose clock is not running stays in reset.
`default_nettype none

module reset_sync #(
  parameter integer STAGES = 2
) (
  input  wire clk_i,
  input  wire rst_ni,    // asynchronous, any source
  output wire rst_no     // asserted asynchronously, released synchronously
);
  generate
    if (STAGES < 2) begin : g_bad_param
      reset_sync_param_error_needs_2_stages u_param_error ();
    end
  endgenerate

  (* ASYNC_REG = "TRUE" *) reg [STAGES-1:0] sync_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) sync_q <= {STAGES{1'b0}};
    else         sync_q <= {sync_q[STAGES-2:0], 1'b1};
  end
  assign rst_no = sync_q[STAGES-1];
endmodule
