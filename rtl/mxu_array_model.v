// mxu_array_model: a cycle-exact functional model of mxu_array for fast simulation.
//
// Same ports, parameters and interface timing as mxu_array (see there), but no PEs:
// each input vector's products are summed in the cycle it is presented and the
// result row waits LAT cycles in a ring buffer. The weight tile registers follow
// the array's column 0 (a column's weight pipe, commit and swap are only skewed
// copies of column 0's), and the swap happens with the first vector itself.
//
// The two agree exactly whenever tiles are loaded under mxu_array's rule (a tile's
// load starts no earlier than the previous tile's first vector, and the next first
// vector comes at least ROWS cycles after the load started), which mxu_compute
// guarantees; the block tests run both on the same stimulus, and the `fast`
// simulator variant is checked against the systolic one by the system tests.
// Weights are kept sign-extended to 32 bits (a simulation model, not hardware),
// so a product is a single multiply.
//
// mxu_compute instantiates this model only when MXU_ARRAY_MODEL is defined (the
// `fast` Verilator variant); the default builds, Icarus and synthesis use mxu_array.
`default_nettype none

module mxu_array_model #(
  parameter integer ROWS  = 16,
  parameter integer COLS  = 16,
  parameter integer TAG_W = 1
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  input  wire                 in_valid_i,
  input  wire                 in_first_i,
  input  wire [ROWS*8-1:0]    in_data_i,
  input  wire [TAG_W-1:0]     in_tag_i,
  input  wire                 w_valid_i,
  input  wire                 w_last_i,
  input  wire [COLS*8-1:0]    w_data_i,
  output wire                 out_valid_o,
  output wire [COLS*32-1:0]   out_data_o,
  output wire [TAG_W-1:0]     out_tag_o
);
  localparam integer LAT  = ROWS + COLS - 1;
  localparam integer LW   = COLS * 32;            // one sign-extended weight line
  localparam integer TW   = ROWS * LW;            // one tile
  localparam integer PW   = (ROWS > 1) ? (ROWS - 1) * LW : LW;   // weight pipe
  localparam integer LATW = (LAT > 1) ? $clog2(LAT) : 1;
  localparam [LATW-1:0] LAST_SLOT = LAT[LATW-1:0] - 1'b1;

  generate
    if (ROWS < 1 || COLS < 1 || TAG_W < 1) begin : g_bad_param
      mxu_param_error_array_size u_param_error ();
    end
  endgenerate

  // ---- weights: pipe (rows 1.. of the next commit), shadow and active tile ----
  wire [LW-1:0] w_line;
  genvar k;
  generate
    for (k = 0; k < COLS; k = k + 1) begin : g_wext
      assign w_line[32*k +: 32] = {{24{w_data_i[8*k+7]}}, w_data_i[8*k +: 8]};
    end
  endgenerate

  reg  [PW-1:0] pipe_q;     // line i = the weight line presented i+1 shifts ago
  reg  [TW-1:0] shadow_q;   // row r at [r*LW +: LW]
  reg  [TW-1:0] active_q;
  wire first_in = in_valid_i && in_first_i;

  // One block per shape, each register read before it is written and the wide
  // concatenations only evaluated when used: no shadow copies in the simulator.
  generate
    if (ROWS > 2) begin : g_pipe
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          active_q <= {TW{1'b0}};
          shadow_q <= {TW{1'b0}};
          pipe_q   <= {PW{1'b0}};
        end else begin
          if (first_in) active_q <= shadow_q;
          if (w_valid_i && w_last_i) shadow_q <= {pipe_q[(ROWS-1)*LW-1:0], w_line};
          if (w_valid_i) pipe_q <= {pipe_q[(ROWS-2)*LW-1:0], w_line};
        end
      end
    end else if (ROWS == 2) begin : g_pipe1
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          active_q <= {TW{1'b0}};
          shadow_q <= {TW{1'b0}};
          pipe_q   <= {PW{1'b0}};
        end else begin
          if (first_in) active_q <= shadow_q;
          if (w_valid_i && w_last_i) shadow_q <= {pipe_q, w_line};
          if (w_valid_i) pipe_q <= w_line;
        end
      end
    end else begin : g_nopipe   // a tile is one row
      always @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          active_q <= {TW{1'b0}};
          shadow_q <= {TW{1'b0}};
        end else begin
          if (first_in) active_q <= shadow_q;
          if (w_valid_i && w_last_i) shadow_q <= w_line;
        end
      end
      always @(posedge clk_i) pipe_q <= {PW{1'b0}};
      wire unused = &{1'b0, pipe_q};
    end
  endgenerate

  // ---- the product row of this cycle's vector ---------------------------------
  reg [LW-1:0] y;
  reg [31:0]   x;
  integer r, c;
  always @* begin
    y = {LW{1'b0}};
    x = 32'd0;
    if (in_valid_i) begin
      for (r = 0; r < ROWS; r = r + 1) begin
        x = {{24{in_data_i[8*r+7]}}, in_data_i[8*r +: 8]};
        if (in_first_i) begin
          for (c = 0; c < COLS; c = c + 1)
            y[32*c +: 32] = y[32*c +: 32] + x * shadow_q[(r*COLS+c)*32 +: 32];
        end else begin
          for (c = 0; c < COLS; c = c + 1)
            y[32*c +: 32] = y[32*c +: 32] + x * active_q[(r*COLS+c)*32 +: 32];
        end
      end
    end
  end

  // ---- LAT cycles of latency: a ring written and read at the same slot ----------
  reg [LW-1:0]   ring_q [0:LAT-1];
  reg [LATW-1:0] slot_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) slot_q <= {LATW{1'b0}};
    else slot_q <= (slot_q == LAST_SLOT) ? {LATW{1'b0}} : slot_q + 1'b1;
  end
  always @(posedge clk_i) begin
    if (in_valid_i) ring_q[slot_q] <= y;
  end
  assign out_data_o = ring_q[slot_q];

  // Valid + tag pipe, LAT stages (as in mxu_array).
  mxu_delay #(.WIDTH(TAG_W+1), .DEPTH(LAT), .RESET(1)) u_tag (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .d_i({in_valid_i, in_tag_i}), .q_o({out_valid_o, out_tag_o}));
endmodule
