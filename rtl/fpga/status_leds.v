// status_leds: what a board shows while it is brought up and used.
//   led_o[0] heartbeat   1 Hz blink: the core clock runs and reset is released
//   led_o[1] busy        a program runs (held at least HOLD_MS so short runs show)
//   led_o[2] done        the last program finished (mxu_top's done)
//   led_o[3] error       the last program stopped on an error (ERR_CODE != 0)
//   led_o[4] link error  the link engine answered a request with an error
//   led_o[5] rx          bytes arrive from the host (held HOLD_MS)
//   led_o[6] tx          bytes go to the host (held HOLD_MS)
//   led_o[7] loopback    the byte loopback is selected instead of the accelerator
// Active-high outputs; a board with active-low LEDs inverts them in its top.
`default_nettype none

module status_leds #(
  parameter integer CLK_HZ  = 100000000,
  parameter integer HOLD_MS = 50
) (
  input  wire       clk_i,
  input  wire       rst_ni,
  input  wire       busy_i,
  input  wire       done_i,
  input  wire       error_i,
  input  wire       link_error_i,
  input  wire       rx_i,         // a byte arrived this cycle
  input  wire       tx_i,         // a byte left this cycle
  input  wire       loopback_i,
  output wire [7:0] led_o
);
  localparam integer MS_CYCLES = (CLK_HZ / 1000 > 1) ? CLK_HZ / 1000 : 1;
  localparam integer HALF_S    = 500;   // ms per heartbeat phase
  localparam integer PW        = $clog2(MS_CYCLES + 1);
  localparam integer HW        = $clog2(HOLD_MS + 2);
  localparam integer SW        = $clog2(HALF_S + 1);
  localparam [PW-1:0] MS_LAST  = MS_CYCLES[PW-1:0] - 1'b1;
  localparam [HW-1:0] HOLD     = HOLD_MS[HW-1:0];
  localparam [SW-1:0] HALF_LAST = HALF_S[SW-1:0] - 1'b1;

  generate
    if (CLK_HZ < 1000 || HOLD_MS < 1) begin : g_bad_param
      status_leds_param_error_clk_hz_or_hold u_param_error ();
    end
  endgenerate

  // millisecond tick
  reg [PW-1:0] pre_q;
  wire         tick = pre_q == MS_LAST;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni)   pre_q <= {PW{1'b0}};
    else if (tick) pre_q <= {PW{1'b0}};
    else           pre_q <= pre_q + 1'b1;
  end

  // heartbeat
  reg [SW-1:0] beat_q;
  reg          heart_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      beat_q  <= {SW{1'b0}};
      heart_q <= 1'b0;
    end else if (tick) begin
      if (beat_q == HALF_LAST) begin
        beat_q  <= {SW{1'b0}};
        heart_q <= !heart_q;
      end else begin
        beat_q <= beat_q + 1'b1;
      end
    end
  end

  // pulse stretchers: on while the input is high and HOLD_MS after
  reg [HW-1:0] hold_q [0:2];
  wire [2:0]   ev = {tx_i, rx_i, busy_i};
  integer i;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (i = 0; i < 3; i = i + 1) hold_q[i] <= {HW{1'b0}};
    end else begin
      for (i = 0; i < 3; i = i + 1) begin
        if (ev[i])                           hold_q[i] <= HOLD;
        else if (tick && hold_q[i] != 0)     hold_q[i] <= hold_q[i] - 1'b1;
      end
    end
  end
  wire busy_led = busy_i || hold_q[0] != 0;
  wire rx_led   = hold_q[1] != 0;
  wire tx_led   = hold_q[2] != 0;

  assign led_o = {loopback_i, tx_led, rx_led, link_error_i, error_i, done_i, busy_led, heart_q};
endmodule
