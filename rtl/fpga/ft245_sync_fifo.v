// ft245_sync_fifo: the FPGA side of an FTDI FT232H / FT2232H in synchronous
// 245 FIFO mode, in the chip's 60 MHz CLKOUT domain. Byte streams with
// valid/ready toward the rest of the design.
//
// The chip samples RD#, WR#, OE# and D on the rising edge of CLKOUT and changes
// RXF#, TXE# and D after it. A byte moves at every rising edge where
//   read:  RD# and RXF# are both low (the byte on D is taken, the next follows),
//   write: WR# and TXE# are both low (the byte this side drives on D is taken).
// Our outputs are registers; at each edge this side looks at its own RD#/WR#
// (the registers) and the chip's RXF#/TXE# (the pins) to know, exactly as the
// chip does, whether a byte moved at that edge.
//
// One direction at a time, always through IDLE, so the bus turns around with a
// cycle in which nobody drives it:
//   IDLE ──► RD_OE (OE# low one cycle before RD#, as the datasheet asks) ──► RD
//   IDLE ──► WR    (this side drives D; WR# low while it holds a byte)
// A direction keeps the bus for up to BURST_MAX bytes while the other one has
// work, then yields. RD# is low only while the RX buffer (RX_DEPTH bytes) can
// take the byte of this edge and the next, so nothing read is ever dropped.
// SIWU# ("send immediate") is pulsed FLUSH_IDLE cycles after the last byte of
// a response, so the chip ships a short packet without waiting for its latency
// timer (0 disables it).
`default_nettype none

module ft245_sync_fifo #(
  parameter integer BURST_MAX  = 512,
  parameter integer FLUSH_IDLE = 32,
  parameter integer RX_DEPTH   = 4
) (
  input  wire       clk_i,         // the chip's CLKOUT
  input  wire       rst_ni,        // synchronized to clk_i
  // chip pins (active-low controls)
  input  wire [7:0] ft_data_i,
  output wire [7:0] ft_data_o,
  output wire       ft_data_oe_o,  // this side drives D
  input  wire       ft_rxf_ni,
  input  wire       ft_txe_ni,
  output wire       ft_rd_no,
  output wire       ft_wr_no,
  output wire       ft_oe_no,
  output wire       ft_siwu_no,
  // bytes from the host
  output wire [7:0] rx_data_o,
  output wire       rx_valid_o,
  input  wire       rx_ready_i,
  // bytes to the host
  input  wire [7:0] tx_data_i,
  input  wire       tx_valid_i,
  output wire       tx_ready_o
);
  generate
    if (RX_DEPTH < 3 || BURST_MAX < 1 || FLUSH_IDLE < 0) begin : g_bad_param
      ft245_param_error_rx_depth_3_burst_1 u_param_error ();
    end
  endgenerate

  localparam [1:0] S_IDLE = 2'd0, S_RD_OE = 2'd1, S_RD = 2'd2, S_WR = 2'd3;
  localparam integer RCW = $clog2(RX_DEPTH + 1);
  localparam integer BW  = $clog2(BURST_MAX + 1);
  localparam integer FW  = $clog2(FLUSH_IDLE + 2);
  localparam [BW-1:0] BURST_LAST = BURST_MAX[BW-1:0];
  localparam [FW-1:0] FLUSH_AT   = FLUSH_IDLE[FW-1:0];
  localparam integer  RX_ROOM_I = RX_DEPTH - 2;
  localparam [RCW-1:0] RX_ROOM  = RX_ROOM_I[RCW-1:0];

  reg [1:0]    state_q;
  reg          oe_n_q, rd_n_q, wr_n_q, drive_q, siwu_n_q;
  reg [7:0]    wr_data_q;
  reg          wr_full_q;      // wr_data_q holds a byte not yet taken by the chip
  reg          last_rd_q;      // the last burst was a read (round robin)
  reg [BW-1:0] burst_q;
  reg [FW-1:0] idle_q;         // cycles since the last byte written
  reg          unflushed_q;    // bytes written since the last SIWU#

  // ---- bytes moved at this edge ------------------------------------------------
  wire rd_xfer = !rd_n_q && !ft_rxf_ni;
  wire wr_xfer = !wr_n_q && !ft_txe_ni;

  // ---- RX buffer: the chip cannot be stopped within the cycle -------------------
  wire           rx_in_ready;
  wire [RCW-1:0] rx_count;
  mxu_fifo #(.WIDTH(8), .DEPTH(RX_DEPTH), .CW(RCW)) u_rx (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(rd_xfer), .in_ready_o(rx_in_ready), .in_data_i(ft_data_i),
    .out_valid_o(rx_valid_o), .out_ready_i(rx_ready_i), .out_data_o(rx_data_o),
    .count_o(rx_count));
  // Room for a byte at this edge and one at the next (pops not counted).
  wire rx_room = rx_count <= RX_ROOM;

  // ---- TX holding register: the byte on D -------------------------------------
  assign tx_ready_o = !wr_full_q || wr_xfer;
  wire tx_load   = tx_valid_i && tx_ready_o;
  wire wr_full_d = tx_load || (wr_full_q && !wr_xfer);

  // ---- who gets the bus ----------------------------------------------------------
  wire burst_done = burst_q >= BURST_LAST;
  wire want_rd    = !ft_rxf_ni && rx_room;
  wire want_wr    = (wr_full_q || tx_valid_i) && !ft_txe_ni;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= S_IDLE;
      oe_n_q    <= 1'b1;
      rd_n_q    <= 1'b1;
      wr_n_q    <= 1'b1;
      drive_q   <= 1'b0;
      last_rd_q <= 1'b0;
      burst_q   <= {BW{1'b0}};
    end else begin
      case (state_q)
        S_IDLE: begin
          burst_q <= {BW{1'b0}};
          if (want_rd && (!want_wr || !last_rd_q)) begin
            state_q <= S_RD_OE; oe_n_q <= 1'b0; last_rd_q <= 1'b1;
          end else if (want_wr) begin
            state_q <= S_WR; drive_q <= 1'b1; wr_n_q <= !wr_full_d; last_rd_q <= 1'b0;
          end
        end
        S_RD_OE: begin
          if (want_rd) begin
            state_q <= S_RD; rd_n_q <= 1'b0;
          end else begin
            state_q <= S_IDLE; oe_n_q <= 1'b1;
          end
        end
        S_RD: begin
          if (rd_xfer && !burst_done) burst_q <= burst_q + 1'b1;
          if (!want_rd || (burst_done && want_wr)) begin
            state_q <= S_IDLE; oe_n_q <= 1'b1; rd_n_q <= 1'b1;
          end
        end
        default: begin  // S_WR
          if (wr_xfer && !burst_done) burst_q <= burst_q + 1'b1;
          if (!wr_full_d || (want_rd && (burst_done || ft_txe_ni))) begin
            state_q <= S_IDLE; drive_q <= 1'b0; wr_n_q <= 1'b1;
          end else begin
            wr_n_q <= 1'b0;
          end
        end
      endcase
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wr_full_q <= 1'b0;
      wr_data_q <= 8'd0;
    end else begin
      wr_full_q <= wr_full_d;
      if (tx_load) wr_data_q <= tx_data_i;
    end
  end

  // ---- send immediate after a response ----------------------------------------------
  wire tx_idle = !wr_full_q && !tx_valid_i;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      idle_q      <= {FW{1'b0}};
      unflushed_q <= 1'b0;
      siwu_n_q    <= 1'b1;
    end else begin
      siwu_n_q <= 1'b1;
      if (wr_xfer) begin
        idle_q      <= {FW{1'b0}};
        unflushed_q <= FLUSH_IDLE != 0;
      end else if (unflushed_q && tx_idle && state_q != S_WR) begin
        if (idle_q == FLUSH_AT) begin
          siwu_n_q    <= 1'b0;
          unflushed_q <= 1'b0;
        end else begin
          idle_q <= idle_q + 1'b1;
        end
      end
    end
  end

  assign ft_data_o    = wr_data_q;
  assign ft_data_oe_o = drive_q;
  assign ft_rd_no     = rd_n_q;
  assign ft_wr_no     = wr_n_q;
  assign ft_oe_no     = oe_n_q;
  assign ft_siwu_no   = siwu_n_q;

  wire unused = &{1'b0, rx_in_ready};
endmodule
