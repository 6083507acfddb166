// mxu_link_rx: the receiving half of the host link (docs/link.md). Takes the byte
// stream from the host, finds packet headers, checks them, stores the payload of
// MEM_WRITE / CSR_WRITE requests in the payload buffer and hands every request --
// good or not -- to the executor as a descriptor with a status.
//
// Finding headers: the last 16 bytes received sit in a sliding window together
// with the CRC-16/ARC of the window, updated per byte (a rolling CRC: shift the
// new byte in, cancel the contribution of the byte that falls out). A header is
// wherever the window starts with the sync bytes and its CRC is zero, so a false
// start (garbage, a corrupted header) never hides a real header right behind it.
//
// A valid header's LEN is trusted: LEN payload bytes and 4 CRC bytes follow
// (none when LEN > MAX_PAYLOAD: that request is refused at once and hunting goes
// on). Payload bytes enter the buffer speculatively and are given up (the write
// pointer moves back) when the payload CRC fails, so the executor only ever sees
// checked bytes. Checks, first failure wins: opcode, lengths, address, payload CRC.
`default_nettype none

module mxu_link_rx #(
  parameter integer MAX_PAYLOAD = 4096,
  parameter integer BUF_BYTES   = 16384,
  parameter integer BUF_AW      = 14,          // $clog2(BUF_BYTES)
  parameter integer DRAM_BYTES  = 268435456
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  input  wire [7:0]        rx_data_i,
  input  wire              rx_valid_i,
  output wire              rx_ready_o,
  // payload buffer, write side; the executor frees bytes up to buf_rd_ptr_i
  output wire              buf_we_o,
  output wire [BUF_AW-1:0] buf_waddr_o,
  output wire [7:0]        buf_wdata_o,
  input  wire [BUF_AW:0]   buf_rd_ptr_i,
  // requests in arrival order
  output wire              req_valid_o,
  input  wire              req_ready_i,
  output wire [7:0]        req_op_o,
  output wire [7:0]        req_tag_o,
  output wire [31:0]       req_addr_o,
  output wire [15:0]       req_len_o,      // bytes to move: LEN, or COUNT for reads
  output wire [7:0]        req_status_o,
  // counters (wrap around) for the INFO response
  output wire [31:0]       packets_o,      // valid headers
  output wire [31:0]       crc_errors_o,   // payload CRC failures
  output wire [31:0]       skipped_o       // bytes discarded while hunting
);
  // ---- protocol constants (driver/mxu_link.h states the same) ----------------------
  localparam [7:0] SYNC0         = 8'hA5;
  localparam [7:0] SYNC1         = 8'h5A;
  localparam [7:0] OP_INFO       = 8'h01;
  localparam [7:0] OP_MEM_WRITE  = 8'h02;
  localparam [7:0] OP_MEM_READ   = 8'h03;
  localparam [7:0] OP_CSR_WRITE  = 8'h04;
  localparam [7:0] OP_CSR_READ   = 8'h05;
  localparam [7:0] ST_OK         = 8'd0;
  localparam [7:0] ST_BAD_CRC    = 8'd1;
  localparam [7:0] ST_BAD_LENGTH = 8'd2;
  localparam [7:0] ST_BAD_ADDR   = 8'd3;
  localparam [7:0] ST_BAD_OPCODE = 8'd4;
  localparam integer HDR = 16;

  generate
    if (MAX_PAYLOAD < 4 || MAX_PAYLOAD > 65535) begin : g_bad_payload
      mxu_param_error_link_max_payload_out_of_4_to_65535 u_param_error ();
    end
    if (BUF_BYTES < MAX_PAYLOAD || (1 << BUF_AW) != BUF_BYTES) begin : g_bad_buf
      mxu_param_error_link_rx_bytes_power_of_two_at_least_max_payload u_param_error ();
    end
  endgenerate

  // ---- rolling CRC-16/ARC of the window -------------------------------------------
  // CRC(window after shifting x in) = step(CRC(window), x) ^ K(oldest byte), where
  // K(b) is the CRC of b followed by 16 zero bytes (linear in b: 8 columns).
  function automatic [15:0] crc16_step(input [15:0] c, input [7:0] b);
    integer i;
    reg [15:0] x;
    begin
      x = c ^ {8'd0, b};
      for (i = 0; i < 8; i = i + 1) x = x[0] ? ((x >> 1) ^ 16'hA001) : (x >> 1);
      crc16_step = x;
    end
  endfunction
  function automatic [15:0] k_column(input integer bit_index);
    integer n;
    reg [15:0] c;
    begin
      c = crc16_step(16'd0, 8'd1 << bit_index);
      for (n = 0; n < HDR; n = n + 1) c = crc16_step(c, 8'd0);
      k_column = c;
    end
  endfunction
  localparam [15:0] K0 = k_column(0), K1 = k_column(1), K2 = k_column(2), K3 = k_column(3);
  localparam [15:0] K4 = k_column(4), K5 = k_column(5), K6 = k_column(6), K7 = k_column(7);

  localparam [2:0] S_HUNT = 3'd0, S_HDR = 3'd1, S_PAYLOAD = 3'd2, S_CRC = 3'd3, S_PUSH = 3'd4;
  reg [2:0]        state_q;
  reg [8*HDR-1:0]  win_q;          // byte i (oldest = 0) at bits 8i+7:8i
  reg [15:0]       roll_q;         // CRC-16/ARC of win_q
  reg [7:0]        op_q, tag_q, status_q;
  reg [31:0]       addr_q;
  reg [15:0]       len_q, count_q;
  reg              store_q;        // the payload goes to the buffer
  reg [15:0]       left_q;         // payload bytes still to come
  reg [31:0]       crc_q;          // payload CRC-32 register
  reg [31:0]       rcrc_q;         // the CRC bytes received
  reg [1:0]        crc_idx_q;
  reg [BUF_AW:0]   wr_q, start_q;  // write pointer; where this packet's payload began
  reg [31:0]       packets_q, crc_errors_q, skipped_q;

  wire fire = rx_valid_i && rx_ready_o;
  wire [7:0] oldest = win_q[7:0];

  wire [15:0] roll_step;
  mxu_link_crc #(.WIDTH(16), .POLY(16'hA001)) u_roll (
    .crc_i(roll_q), .data_i(rx_data_i), .crc_o(roll_step));
  wire [15:0] k_out = (oldest[0] ? K0 : 16'd0) ^ (oldest[1] ? K1 : 16'd0) ^
                      (oldest[2] ? K2 : 16'd0) ^ (oldest[3] ? K3 : 16'd0) ^
                      (oldest[4] ? K4 : 16'd0) ^ (oldest[5] ? K5 : 16'd0) ^
                      (oldest[6] ? K6 : 16'd0) ^ (oldest[7] ? K7 : 16'd0);
  wire [8*HDR-1:0] win_d  = {rx_data_i, win_q[8*HDR-1:8]};
  wire [15:0]      roll_d = roll_step ^ k_out;
  wire             header = win_d[7:0] == SYNC0 && win_d[15:8] == SYNC1 && roll_d == 16'd0;

  wire [31:0] crc_step;
  mxu_link_crc #(.WIDTH(32), .POLY(32'hEDB88320)) u_crc (
    .crc_i(crc_q), .data_i(rx_data_i), .crc_o(crc_step));

  // ---- header checks (state S_HDR, from the latched fields) ------------------------
  localparam [16:0] MAX_LEN  = MAX_PAYLOAD[16:0];
  localparam [32:0] DRAM_END = DRAM_BYTES[31:0] + 33'd0;
  wire is_read    = op_q == OP_MEM_READ || op_q == OP_CSR_READ;
  wire [15:0] n   = is_read ? count_q : len_q;
  wire known      = op_q == OP_INFO || op_q == OP_MEM_WRITE || op_q == OP_MEM_READ ||
                    op_q == OP_CSR_WRITE || op_q == OP_CSR_READ;
  wire n_ok       = n != 16'd0 && {1'b0, n} <= MAX_LEN;
  reg  len_ok, addr_ok;
  always @* begin
    case (op_q)
      OP_INFO:      len_ok = len_q == 16'd0 && count_q == 16'd0;
      OP_MEM_WRITE: len_ok = n_ok && count_q == 16'd0;
      OP_MEM_READ:  len_ok = n_ok && len_q == 16'd0;
      OP_CSR_WRITE: len_ok = len_q == 16'd4 && count_q == 16'd0;
      default:      len_ok = len_q == 16'd0 && count_q == 16'd4;
    endcase
    case (op_q)
      OP_MEM_WRITE, OP_MEM_READ: addr_ok = {1'b0, addr_q} + {17'd0, n} <= DRAM_END;
      OP_CSR_WRITE, OP_CSR_READ: addr_ok = addr_q[1:0] == 2'd0 && addr_q[31:12] == 20'd0;
      default:                   addr_ok = 1'b1;
    endcase
  end
  wire [7:0] hdr_status = !known ? ST_BAD_OPCODE : !len_ok ? ST_BAD_LENGTH :
                          !addr_ok ? ST_BAD_ADDR : ST_OK;
  wire hdr_store   = hdr_status == ST_OK && (op_q == OP_MEM_WRITE || op_q == OP_CSR_WRITE);
  wire too_long    = {1'b0, len_q} > MAX_LEN;

  // ---- payload and the final verdict ------------------------------------------------
  wire [BUF_AW:0] used = wr_q - buf_rd_ptr_i;
  wire room        = used != BUF_BYTES[BUF_AW:0];
  wire has_payload = len_q != 16'd0 && !too_long;
  wire crc_bad     = has_payload && rcrc_q != ~crc_q;
  wire [7:0] final_status = (status_q == ST_OK && crc_bad) ? ST_BAD_CRC : status_q;
  wire push        = state_q == S_PUSH && req_ready_i;

  assign rx_ready_o = state_q == S_HUNT || state_q == S_CRC || (state_q == S_PAYLOAD && (!store_q || room));

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_HUNT;
      win_q <= {8*HDR{1'b0}};
      roll_q <= 16'd0;
      op_q <= 8'd0;
      tag_q <= 8'd0;
      status_q <= ST_OK;
      addr_q <= 32'd0;
      len_q <= 16'd0;
      count_q <= 16'd0;
      store_q <= 1'b0;
      left_q <= 16'd0;
      crc_q <= 32'hFFFFFFFF;
      rcrc_q <= 32'd0;
      crc_idx_q <= 2'd0;
      wr_q <= {(BUF_AW + 1){1'b0}};
      start_q <= {(BUF_AW + 1){1'b0}};
      packets_q <= 32'd0;
      crc_errors_q <= 32'd0;
      skipped_q <= 32'd0;
    end else begin
      case (state_q)
        S_HUNT: if (fire) begin
          if (header) begin
            // the window's other 15 bytes were counted as skipped when they came
            skipped_q <= skipped_q - 32'd15;
            packets_q <= packets_q + 32'd1;
            op_q <= win_d[23:16];
            tag_q <= win_d[31:24];
            addr_q <= win_d[63:32];
            len_q <= win_d[79:64];
            count_q <= win_d[95:80];
            state_q <= S_HDR;
          end else begin
            skipped_q <= skipped_q + 32'd1;
            win_q <= win_d;
            roll_q <= roll_d;
          end
        end
        S_HDR: begin
          status_q <= hdr_status;
          store_q <= hdr_store;
          left_q <= len_q;
          crc_q <= 32'hFFFFFFFF;
          crc_idx_q <= 2'd0;
          start_q <= wr_q;
          state_q <= (len_q == 16'd0 || too_long) ? S_PUSH : S_PAYLOAD;
        end
        S_PAYLOAD: if (fire) begin
          crc_q <= crc_step;
          if (store_q) wr_q <= wr_q + 1'b1;
          left_q <= left_q - 16'd1;
          if (left_q == 16'd1) state_q <= S_CRC;
        end
        S_CRC: if (fire) begin
          rcrc_q <= {rx_data_i, rcrc_q[31:8]};
          crc_idx_q <= crc_idx_q + 2'd1;
          if (crc_idx_q == 2'd3) state_q <= S_PUSH;
        end
        default: if (push) begin  // S_PUSH
          if (crc_bad) crc_errors_q <= crc_errors_q + 32'd1;
          if (store_q && final_status != ST_OK) wr_q <= start_q;  // give the payload up
          win_q <= {8*HDR{1'b0}};
          roll_q <= 16'd0;
          state_q <= S_HUNT;
        end
      endcase
    end
  end

  assign buf_we_o     = state_q == S_PAYLOAD && fire && store_q;
  assign buf_waddr_o  = wr_q[BUF_AW-1:0];
  assign buf_wdata_o  = rx_data_i;
  assign req_valid_o  = state_q == S_PUSH;
  assign req_op_o     = op_q;
  assign req_tag_o    = tag_q;
  assign req_addr_o   = addr_q;
  assign req_len_o    = n;
  assign req_status_o = final_status;
  assign packets_o    = packets_q;
  assign crc_errors_o = crc_errors_q;
  assign skipped_o    = skipped_q;
endmodule
