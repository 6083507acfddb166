// async_fifo: a FIFO between two unrelated clocks (valid/ready on both sides,
// first-word fall-through on the read side). 2**AW entries.
//
// Each side counts in binary and publishes its pointer in Gray code from a
// register, so the other side's synchronizer (SYNC_STAGES flip-flops) can only
// ever sample a value one step old or new, never a torn one. The write side
// compares its pointer with the synchronized read pointer (full), the read side
// with the synchronized write pointer (empty); both views are conservative, so
// neither side can overrun the other. The storage is written in the write
// domain and read asynchronously in the read domain: an entry is read only
// after its pointer update has crossed, so it is stable by then (LUT RAM).
//
// Resets: one per domain (each synchronized to its own clock, asserted
// together); a side held in reset keeps its pointer at zero, so the other side
// sees an idle partner (nothing written, nothing read).
// Constraints: the Gray pointers and the storage-to-read-data paths cross
// domains; bound them with set_max_delay -datapath_only (see rtl/fpga/*.xdc).
`default_nettype none

module async_fifo #(
  parameter integer WIDTH       = 8,
  parameter integer AW          = 4,   // 2**AW entries, AW >= 2
  parameter integer SYNC_STAGES = 2
) (
  input  wire             wr_clk_i,
  input  wire             wr_rst_ni,
  input  wire             wr_valid_i,
  output wire             wr_ready_o,
  input  wire [WIDTH-1:0] wr_data_i,
  input  wire             rd_clk_i,
  input  wire             rd_rst_ni,
  output wire             rd_valid_o,
  input  wire             rd_ready_i,
  output wire [WIDTH-1:0] rd_data_o
);
  generate
    if (AW < 2 || AW > 16 || SYNC_STAGES < 2) begin : g_bad_param
      async_fifo_param_error_aw_2_to_16_and_2_sync_stages u_param_error ();
    end
  endgenerate

  localparam integer DEPTH = 1 << AW;

  function automatic [AW:0] bin2gray(input [AW:0] b);
    bin2gray = b ^ (b >> 1);
  endfunction

  reg [WIDTH-1:0] mem [0:DEPTH-1];

  // ---- write domain ------------------------------------------------------------
  reg  [AW:0] wbin_q, wgray_q;
  (* ASYNC_REG = "TRUE" *) reg [AW:0] rgray_sync_q [0:SYNC_STAGES-1];
  wire [AW:0] rgray_w = rgray_sync_q[SYNC_STAGES-1];
  // Full: the read pointer is one lap behind (Gray: top two bits inverted).
  wire        full    = wgray_q == {~rgray_w[AW:AW-1], rgray_w[AW-2:0]};
  wire        push    = wr_valid_i && !full;
  wire [AW:0] wbin_d  = wbin_q + {{AW{1'b0}}, push};

  always @(posedge wr_clk_i) begin
    if (push) mem[wbin_q[AW-1:0]] <= wr_data_i;
  end

  integer s;
  always @(posedge wr_clk_i or negedge wr_rst_ni) begin
    if (!wr_rst_ni) begin
      wbin_q  <= {(AW+1){1'b0}};
      wgray_q <= {(AW+1){1'b0}};
      for (s = 0; s < SYNC_STAGES; s = s + 1) rgray_sync_q[s] <= {(AW+1){1'b0}};
    end else begin
      wbin_q  <= wbin_d;
      wgray_q <= bin2gray(wbin_d);
      rgray_sync_q[0] <= rgray_q;
      for (s = 1; s < SYNC_STAGES; s = s + 1) rgray_sync_q[s] <= rgray_sync_q[s-1];
    end
  end

  // ---- read domain -------------------------------------------------------------
  reg  [AW:0] rbin_q, rgray_q;
  (* ASYNC_REG = "TRUE" *) reg [AW:0] wgray_sync_q [0:SYNC_STAGES-1];
  wire        empty  = rgray_q == wgray_sync_q[SYNC_STAGES-1];
  wire        pop    = rd_ready_i && !empty;
  wire [AW:0] rbin_d = rbin_q + {{AW{1'b0}}, pop};

  integer t;
  always @(posedge rd_clk_i or negedge rd_rst_ni) begin
    if (!rd_rst_ni) begin
      rbin_q  <= {(AW+1){1'b0}};
      rgray_q <= {(AW+1){1'b0}};
      for (t = 0; t < SYNC_STAGES; t = t + 1) wgray_sync_q[t] <= {(AW+1){1'b0}};
    end else begin
      rbin_q  <= rbin_d;
      rgray_q <= bin2gray(rbin_d);
      wgray_sync_q[0] <= wgray_q;
      for (t = 1; t < SYNC_STAGES; t = t + 1) wgray_sync_q[t] <= wgray_sync_q[t-1];
    end
  end

  assign wr_ready_o = !full;
  assign rd_valid_o = !empty;
  assign rd_data_o  = mem[rbin_q[AW-1:0]];
endmodule
