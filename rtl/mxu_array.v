// mxu_array: ROWS x COLS weight-stationary systolic array with input skew, output
// de-skew, a double-buffered weight tile and a tag pipe that travels with each vector.
//
// Interface timing
//   in_*   : one input vector (ROWS int8, row r = reduction index r) per cycle.
//            in_first_i swaps in the preloaded tile starting with this vector.
//   w_*    : one weight line (COLS int8 = row i of the tile) per cycle, rows bottom
//            first (i = ROWS-1 .. 0); w_last_i marks row 0 and commits the tile.
//   out_*  : the product row (COLS int32) and tag of an input vector, LAT cycles
//            after it was presented, all columns aligned.
//
// Weight double buffering (shift-then-commit with column skew)
//   Vector v presented in cycle t reaches PE(r,c) in cycle t + r + c. Line i of a
//   tile presented in cycle L + (ROWS-1-i) enters column c's weight pipe c cycles
//   later and moves down one row per cycle; when the last line (row 0) enters
//   column c, in cycle L + ROWS-1 + c, every pipe stage of that column holds its
//   own row and the column commits pipe -> shadow at the end of that cycle.
//
//     ROWS = 3, tile presented from cycle L (w2 = line of row 2 first):
//     cycle:        L     L+1    L+2    L+3    L+4
//     col 0 top:    w2    w1     w0*                    * = commit at end of cycle
//     col 1 top:          w2     w1     w0*
//     col 2 top:                 w2     w1     w0*
//     PE(r,c) swap of the tile started by vector t_S:  cycle t_S + r + c
//
//   Safety of the shadow register (the PE's preloaded weight). Take a tile A whose
//   first vector enters in cycle t_S, and the next tile B presented from cycle L.
//   - A's swap wave reads shadow(r,c) in cycle t_S + r + c (the PE multiplies that
//     vector with shadow_q and copies it into active_q at the end of the cycle).
//   - B's lines only shift through wpipe_q until B's commit, which writes
//     shadow(r,c) at the end of cycle L + ROWS-1 + c (the same cycle for every row
//     of a column). Shifting never touches shadow_q, so only the commit matters.
//   - A's wave leaves column c at the bottom row, in cycle t_S + ROWS-1 + c. The
//     commit is safe iff L + ROWS-1 + c >= t_S + r + c for every r <= ROWS-1, i.e.
//     iff L >= t_S. At L = t_S the bottom PE reads the old shadow_q in the very
//     cycle whose clock edge writes the new one, which a register allows (the read
//     is combinational, both updates happen at the edge); every other PE of the
//     column was passed by the wave earlier. L = t_S - 1 would overwrite the
//     bottom row one cycle too early, so L = t_S is the limit.
//   - B's shadow is visible from cycle L + ROWS + c and B's wave needs it in cycle
//     t_S' + r + c (r = 0 first): safe iff t_S' >= L + ROWS.
//   - The weight pipe itself holds one tile at a time: B's lines enter column c in
//     cycles L + c .. L + ROWS-1 + c, after A's commit (A's load ended before A's
//     first vector, L_A + ROWS <= t_S <= L), and each line is consumed by the commit
//     before the following tile's lines can reach it (loads are ROWS cycles apart).
//   mxu_compute reads B's first WB line at the earliest in the cycle it reads A's
//   first vector from the UB; both reach the array one cycle later, so L >= t_S,
//   with equality when the loader was waiting for A's swap; a first vector waits for
//   its tile's commit (t_S' >= L + ROWS). So tiles of ROWS vectors follow each other
//   without a bubble: a ROWS-row tile shifts in while the previous one streams ROWS
//   vectors (the contract in docs/isa.md; the C model reproduces it cycle for cycle). mxu_array_model commits and swaps a
//   whole tile at once at column 0's cycles, equal under the same rule.
`default_nettype none

module mxu_array #(
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
  localparam integer LAT = ROWS + COLS - 1;

  generate
    if (ROWS < 1 || COLS < 1 || TAG_W < 1) begin : g_bad_param
      mxu_param_error_array_size u_param_error ();
    end
  endgenerate

  wire first_in = in_valid_i & in_first_i;

  // Every net between PEs lives in its PE's generate block (g_row[r].g_col[c]), not
  // in an array: Verilator can then wire the PEs' registers to each other directly
  // instead of copying them through array elements every cycle.
  genvar r, c;
  generate
    // Input skew: row r sees the vector r cycles late.
    for (r = 0; r < ROWS; r = r + 1) begin : g_skew_in
      wire [7:0] a;
      wire       first;
      mxu_delay #(.WIDTH(9), .DEPTH(r), .RESET(1)) u_skew (
        .clk_i(clk_i), .rst_ni(rst_ni),
        .d_i({first_in, in_data_i[8*r +: 8]}), .q_o({first, a}));
    end

    // Weight skew: column c's pipe input, shift and commit are c cycles late.
    for (c = 0; c < COLS; c = c + 1) begin : g_skew_w
      wire [7:0] w;
      wire       shift, commit;
      mxu_delay #(.WIDTH(10), .DEPTH(c), .RESET(1)) u_skew (
        .clk_i(clk_i), .rst_ni(rst_ni),
        .d_i({w_valid_i, w_valid_i & w_last_i, w_data_i[8*c +: 8]}),
        .q_o({shift, commit, w}));
    end

    for (r = 0; r < ROWS; r = r + 1) begin : g_row
      for (c = 0; c < COLS; c = c + 1) begin : g_col
        wire [7:0]  a_in, w_in, a_out, w_out;
        wire        first_in_pe, first_out;
        wire [31:0] psum_in, psum_out;
        if (c == 0) begin : g_left
          assign a_in        = g_skew_in[r].a;
          assign first_in_pe = g_skew_in[r].first;
        end else begin : g_inner_h
          assign a_in        = g_row[r].g_col[c-1].a_out;
          assign first_in_pe = g_row[r].g_col[c-1].first_out;
        end
        if (r == 0) begin : g_top
          assign psum_in = 32'd0;
          assign w_in    = g_skew_w[c].w;
        end else begin : g_inner_v
          assign psum_in = g_row[r-1].g_col[c].psum_out;
          assign w_in    = g_row[r-1].g_col[c].w_out;
        end
        mxu_pe u_pe (
          .clk_i     (clk_i),
          .rst_ni    (rst_ni),
          .a_i       (a_in),
          .first_i   (first_in_pe),
          .psum_i    (psum_in),
          .wshift_i  (g_skew_w[c].shift),
          .wcommit_i (g_skew_w[c].commit),
          .wpipe_i   (w_in),
          .a_o       (a_out),
          .first_o   (first_out),
          .psum_o    (psum_out),
          .wpipe_o   (w_out)
        );
      end
    end

    // Output de-skew: column c is ready c cycles after column 0; delay it COLS-1-c.
    for (c = 0; c < COLS; c = c + 1) begin : g_deskew
      mxu_delay #(.WIDTH(32), .DEPTH(COLS-1-c), .RESET(0)) u_deskew (
        .clk_i(clk_i), .rst_ni(rst_ni),
        .d_i(g_row[ROWS-1].g_col[c].psum_out), .q_o(out_data_o[32*c +: 32]));
    end
  endgenerate

  // Valid + tag pipe, LAT stages.
  mxu_delay #(.WIDTH(TAG_W+1), .DEPTH(LAT), .RESET(1)) u_tag (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .d_i({in_valid_i, in_tag_i}), .q_o({out_valid_o, out_tag_o}));

  // The last column's activations and the last row's weight pipe leave the array unused.
  genvar u;
  generate
    for (u = 0; u < ROWS; u = u + 1) begin : g_unused_h
      wire unused = &{1'b0, g_row[u].g_col[COLS-1].a_out, g_row[u].g_col[COLS-1].first_out};
    end
    for (u = 0; u < COLS; u = u + 1) begin : g_unused_w
      wire unused = &{1'b0, g_row[ROWS-1].g_col[u].w_out};
    end
  endgenerate
endmodule
