// mxu_link_exec: the executing half of the host link (docs/link.md). Takes the
// checked requests of mxu_link_rx one at a time, in order: performs CSR reads
// and writes on the CSR port and memory bursts on a DRAM port (the same
// request/response protocol as mxu_top's), and sends one response per request.
//
// MEM_WRITE: payload bytes stream from the buffer (one per cycle) into a beat,
// with byte strobes for unaligned ends; a full beat moves to the output register
// while the next one fills. The response goes out once the last beat has been
// accepted (DRAM applies requests in order, so a later read sees the data).
// MEM_READ: the response header goes out while the beats are read; up to RD_BEATS
// beats are in flight or buffered, enough to cover the DRAM latency.
// CSR_WRITE: a request whose TAG equals that of the request answered just before
// with OK is a retransmission (its answer was lost): it is answered OK again but
// not performed twice, so CTRL.start can be retried safely.
`default_nettype none

module mxu_link_exec #(
  parameter integer BEAT        = 16,
  parameter integer MAX_PAYLOAD = 4096,
  parameter integer BUF_BYTES   = 16384,
  parameter integer BUF_AW      = 14,
  parameter integer RX_PACKETS  = 16,
  parameter integer RD_BEATS    = 8
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  // requests (mxu_link_rx, through a FIFO)
  input  wire              req_valid_i,
  output wire              req_ready_o,
  input  wire [7:0]        req_op_i,
  input  wire [7:0]        req_tag_i,
  input  wire [31:0]       req_addr_i,
  input  wire [15:0]       req_len_i,
  input  wire [7:0]        req_status_i,
  // payload buffer, read side (synchronous read); bytes below buf_rd_ptr_o are free
  output wire              buf_re_o,
  output wire [BUF_AW-1:0] buf_raddr_o,
  input  wire [7:0]        buf_rdata_i,
  output wire [BUF_AW:0]   buf_rd_ptr_o,
  // CSR port (mxu_top's: one cycle per access, combinational read data)
  output wire              csr_valid_o,
  output wire              csr_write_o,
  output wire [11:0]       csr_addr_o,
  output wire [31:0]       csr_wdata_o,
  input  wire [31:0]       csr_rdata_i,
  // DRAM port
  output wire              mem_req_valid_o,
  input  wire              mem_req_ready_i,
  output wire              mem_req_write_o,
  output wire [31:0]       mem_req_addr_o,
  output wire [8*BEAT-1:0] mem_req_wdata_o,
  output wire [BEAT-1:0]   mem_req_wstrb_o,
  input  wire              mem_rsp_valid_i,
  input  wire [8*BEAT-1:0] mem_rsp_rdata_i,
  // responses to the host
  output wire [7:0]        tx_data_o,
  output wire              tx_valid_o,
  input  wire              tx_ready_i,
  // receiver counters for INFO
  input  wire [31:0]       packets_i,
  input  wire [31:0]       crc_errors_i,
  input  wire [31:0]       skipped_i,
  output wire              error_o          // sticky: an error response was sent
);
  // ---- protocol constants (driver/mxu_link.h states the same) ----------------------
  localparam [7:0]  SYNC0        = 8'hA5;
  localparam [7:0]  SYNC1        = 8'h5A;
  localparam [7:0]  RESPONSE     = 8'h80;
  localparam [7:0]  OP_INFO      = 8'h01;
  localparam [7:0]  OP_MEM_WRITE = 8'h02;
  localparam [7:0]  OP_MEM_READ  = 8'h03;
  localparam [7:0]  OP_CSR_WRITE = 8'h04;
  localparam [7:0]  OP_CSR_READ  = 8'h05;
  localparam [7:0]  ST_OK        = 8'd0;
  localparam [15:0] VERSION      = 16'd1;
  localparam [15:0] INFO_BYTES   = 16'd24;

  localparam integer LB  = $clog2(BEAT);           // byte lane bits
  localparam integer RCW = $clog2(RD_BEATS + 1);   // read beat count width
  localparam [15:0] P_MAX_PAYLOAD = MAX_PAYLOAD[15:0];
  localparam [31:0] P_BUF_BYTES   = BUF_BYTES;
  localparam [15:0] P_RX_PACKETS  = RX_PACKETS[15:0];
  localparam [RCW-1:0] RD_LIMIT   = RD_BEATS[RCW-1:0];

  generate
    if (BEAT < 4 || (1 << LB) != BEAT) begin : g_bad_beat
      mxu_param_error_link_beat_not_a_power_of_two u_param_error ();
    end
    if (RD_BEATS < 1 || RX_PACKETS < 1 || RX_PACKETS > 65535) begin : g_bad_depth
      mxu_param_error_link_rd_beats_or_rx_packets u_param_error ();
    end
  endgenerate

  // ---- the request being served -----------------------------------------------------
  localparam [2:0] X_IDLE = 3'd0, X_CSRR = 3'd1, X_CSRW_GET = 3'd2, X_CSRW_DO = 3'd3,
                   X_MEMW = 3'd4, X_TX = 3'd5;
  reg [2:0]  state_q;
  reg [7:0]  op_q, tag_q, status_q;
  reg [31:0] addr_q;
  reg [15:0] n_q;
  reg [31:0] word_q;                  // CSR read data / CSR write value
  reg [8*24-1:0] info_q;              // INFO payload, byte 0 at bits 7:0
  reg [7:0]  last_tag_q;              // tag of the request answered just before with OK
  reg        last_ok_q;
  reg        error_q;

  wire take_req = state_q == X_IDLE && req_valid_i;
  assign req_ready_o = state_q == X_IDLE;

  // ---- payload bytes from the buffer: the RAM's output register holds one byte ------
  reg [BUF_AW:0] rd_q;                // next byte to read = bytes freed
  reg [15:0]     pl_issue_q;          // bytes of this request still to read
  reg            pl_valid_q;          // buf_rdata_i holds an unconsumed byte
  wire           pl_take;
  wire           pl_re = pl_issue_q != 16'd0 && (!pl_valid_q || pl_take);

  // ---- MEM_WRITE: assemble beats ---------------------------------------------------------
  reg [31:0]       cur_q;             // address of the next byte
  reg [15:0]       left_q;            // bytes still to assemble
  reg [8*BEAT-1:0] asm_data_q;
  reg [BEAT-1:0]   asm_strb_q;
  reg              out_valid_q;       // a write beat waits for the DRAM port
  reg [31:0]       out_addr_q;
  reg [8*BEAT-1:0] out_data_q;
  reg [BEAT-1:0]   out_strb_q;
  wire [LB-1:0]    lane      = cur_q[LB-1:0];
  wire             beat_end  = lane == {LB{1'b1}} || left_q == 16'd1;
  wire             out_free  = !out_valid_q || mem_req_ready_i;
  wire             w_take    = state_q == X_MEMW && pl_valid_q && left_q != 16'd0 && (!beat_end || out_free);
  wire             w_load    = w_take && beat_end;
  wire [8*BEAT-1:0] lane_mask = {{(8*BEAT-8){1'b0}}, 8'hFF} << {lane, 3'd0};
  wire [8*BEAT-1:0] asm_data_d = (asm_data_q & ~lane_mask) | ({{(8*BEAT-8){1'b0}}, buf_rdata_i} << {lane, 3'd0});
  wire [BEAT-1:0]   asm_strb_d = asm_strb_q | ({{(BEAT-1){1'b0}}, 1'b1} << lane);

  // CSR_WRITE takes its 4 bytes the same way
  reg [2:0] csr_got_q;
  wire c_take = state_q == X_CSRW_GET && pl_valid_q;
  assign pl_take = w_take || c_take;

  // ---- MEM_READ: issue beat reads, buffer the answers --------------------------------------
  reg [15:0]    rd_beats_q;           // beats still to request
  reg [31:0]    rd_addr_q;
  reg [RCW-1:0] inflight_q;
  wire [RCW-1:0] fifo_count;
  wire          rd_issue = rd_beats_q != 16'd0 && inflight_q + fifo_count < RD_LIMIT;
  wire          rd_fire  = rd_issue && mem_req_ready_i && !out_valid_q;
  wire          beat_valid, beats_room;
  wire [8*BEAT-1:0] beat_data;
  wire          beat_pop;
  mxu_fifo #(.WIDTH(8 * BEAT), .DEPTH(RD_BEATS), .CW(RCW)) u_beats (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(mem_rsp_valid_i), .in_ready_o(beats_room), .in_data_i(mem_rsp_rdata_i),
    .out_valid_o(beat_valid), .out_ready_i(beat_pop), .out_data_o(beat_data), .count_o(fifo_count));

  // ---- the response: 16 header bytes, payload, CRC-32 ----------------------------------------
  localparam [1:0] T_HDR = 2'd0, T_DATA = 2'd1, T_CRC = 2'd2;
  reg [1:0]  tphase_q;
  reg [3:0]  tidx_q;                  // header byte / CRC byte index
  reg [15:0] tleft_q;                 // payload bytes still to send
  reg [4:0]  tpos_q;                  // INFO / CSR payload byte index
  reg [LB-1:0] tlane_q;               // MEM_READ byte lane in the head beat
  reg [15:0] hcrc_q;
  reg [31:0] pcrc_q;

  wire [15:0] rsp_len = status_q != ST_OK ? 16'd0 :
                        op_q == OP_INFO ? INFO_BYTES :
                        op_q == OP_CSR_READ ? 16'd4 :
                        op_q == OP_MEM_READ ? n_q : 16'd0;
  reg [7:0] hdr_byte;
  always @* begin
    case (tidx_q)
      4'd0:    hdr_byte = SYNC0;
      4'd1:    hdr_byte = SYNC1;
      4'd2:    hdr_byte = op_q | RESPONSE;
      4'd3:    hdr_byte = tag_q;
      4'd4:    hdr_byte = addr_q[7:0];
      4'd5:    hdr_byte = addr_q[15:8];
      4'd6:    hdr_byte = addr_q[23:16];
      4'd7:    hdr_byte = addr_q[31:24];
      4'd8:    hdr_byte = rsp_len[7:0];
      4'd9:    hdr_byte = rsp_len[15:8];
      4'd12:   hdr_byte = status_q;
      4'd14:   hdr_byte = hcrc_q[7:0];
      4'd15:   hdr_byte = hcrc_q[15:8];
      default: hdr_byte = 8'd0;       // COUNT, reserved
    endcase
  end
  wire [7:0] mem_byte  = beat_data[{tlane_q, 3'd0} +: 8];
  wire [7:0] info_byte = info_q[{tpos_q, 3'd0} +: 8];
  wire [7:0] word_byte = word_q[{tpos_q[1:0], 3'd0} +: 8];
  wire [7:0] data_byte = op_q == OP_MEM_READ ? mem_byte : op_q == OP_INFO ? info_byte : word_byte;
  wire       data_ok   = op_q != OP_MEM_READ || beat_valid;
  wire [31:0] pcrc_out = ~pcrc_q;
  wire [7:0] crc_byte  = pcrc_out[{tidx_q[1:0], 3'd0} +: 8];

  wire sending = state_q == X_TX;
  assign tx_valid_o = sending && (tphase_q != T_DATA || data_ok);
  assign tx_data_o  = tphase_q == T_HDR ? hdr_byte : tphase_q == T_DATA ? data_byte : crc_byte;
  wire tx_fire = tx_valid_o && tx_ready_i;
  wire last_hdr_byte = tphase_q == T_HDR && tidx_q == 4'd15;
  wire tx_done = tx_fire && ((last_hdr_byte && rsp_len == 16'd0) || (tphase_q == T_CRC && tidx_q == 4'd3));
  wire data_fire = tx_fire && tphase_q == T_DATA;
  assign beat_pop = data_fire && op_q == OP_MEM_READ && (tlane_q == {LB{1'b1}} || tleft_q == 16'd1);

  wire [15:0] hcrc_step;
  mxu_link_crc #(.WIDTH(16), .POLY(16'hA001)) u_hcrc (
    .crc_i(hcrc_q), .data_i(hdr_byte), .crc_o(hcrc_step));
  wire [31:0] pcrc_step;
  mxu_link_crc #(.WIDTH(32), .POLY(32'hEDB88320)) u_pcrc (
    .crc_i(pcrc_q), .data_i(data_byte), .crc_o(pcrc_step));

  // ---- the sequencer ----------------------------------------------------------------------------
  wire is_dup = last_ok_q && tag_q == last_tag_q;
  localparam integer BEAT_M1_I = BEAT - 1;
  localparam [16:0] BEAT_M1 = BEAT_M1_I[16:0];
  wire [16:0] span        = {1'b0, req_len_i} + {{(17 - LB){1'b0}}, req_addr_i[LB-1:0]} + BEAT_M1;
  wire [16:0] first_beats = span >> LB;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= X_IDLE;
      op_q <= 8'd0;
      tag_q <= 8'd0;
      status_q <= ST_OK;
      addr_q <= 32'd0;
      n_q <= 16'd0;
      word_q <= 32'd0;
      info_q <= {8*24{1'b0}};
      last_tag_q <= 8'd0;
      last_ok_q <= 1'b0;
      error_q <= 1'b0;
      rd_q <= {(BUF_AW + 1){1'b0}};
      pl_issue_q <= 16'd0;
      pl_valid_q <= 1'b0;
      cur_q <= 32'd0;
      left_q <= 16'd0;
      asm_data_q <= {8*BEAT{1'b0}};
      asm_strb_q <= {BEAT{1'b0}};
      out_valid_q <= 1'b0;
      out_addr_q <= 32'd0;
      out_data_q <= {8*BEAT{1'b0}};
      out_strb_q <= {BEAT{1'b0}};
      csr_got_q <= 3'd0;
      rd_beats_q <= 16'd0;
      rd_addr_q <= 32'd0;
      inflight_q <= {RCW{1'b0}};
      tphase_q <= T_HDR;
      tidx_q <= 4'd0;
      tleft_q <= 16'd0;
      tpos_q <= 5'd0;
      tlane_q <= {LB{1'b0}};
      hcrc_q <= 16'd0;
      pcrc_q <= 32'hFFFFFFFF;
    end else begin
      // payload reader
      if (pl_re) begin
        rd_q <= rd_q + 1'b1;
        pl_issue_q <= pl_issue_q - 16'd1;
      end
      if (pl_re) pl_valid_q <= 1'b1;
      else if (pl_take) pl_valid_q <= 1'b0;

      // read beats in flight
      if (rd_fire) begin
        rd_beats_q <= rd_beats_q - 16'd1;
        rd_addr_q <= rd_addr_q + BEAT;
      end
      if (rd_fire && !mem_rsp_valid_i) inflight_q <= inflight_q + 1'b1;
      else if (!rd_fire && mem_rsp_valid_i) inflight_q <= inflight_q - 1'b1;

      // write beats
      if (w_take) begin
        cur_q <= cur_q + 32'd1;
        left_q <= left_q - 16'd1;
        if (beat_end) begin
          asm_data_q <= {8*BEAT{1'b0}};
          asm_strb_q <= {BEAT{1'b0}};
        end else begin
          asm_data_q <= asm_data_d;
          asm_strb_q <= asm_strb_d;
        end
      end
      if (w_load) begin
        out_valid_q <= 1'b1;
        out_addr_q <= {cur_q[31:LB], {LB{1'b0}}};
        out_data_q <= asm_data_d;
        out_strb_q <= asm_strb_d;
      end else if (out_valid_q && mem_req_ready_i) begin
        out_valid_q <= 1'b0;
      end

      case (state_q)
        X_IDLE: if (take_req) begin
          op_q <= req_op_i;
          tag_q <= req_tag_i;
          addr_q <= req_addr_i;
          n_q <= req_len_i;
          status_q <= req_status_i;
          info_q <= {skipped_i, crc_errors_i, packets_i, 16'd0, P_RX_PACKETS, P_BUF_BYTES,
                     P_MAX_PAYLOAD, VERSION};
          tphase_q <= T_HDR;
          tidx_q <= 4'd0;
          tpos_q <= 5'd0;
          tlane_q <= req_addr_i[LB-1:0];
          hcrc_q <= 16'd0;
          pcrc_q <= 32'hFFFFFFFF;
          csr_got_q <= 3'd0;
          cur_q <= req_addr_i;
          left_q <= req_len_i;
          rd_addr_q <= {req_addr_i[31:LB], {LB{1'b0}}};
          state_q <= X_TX;
          if (req_status_i == ST_OK) begin
            case (req_op_i)
              OP_CSR_READ:  state_q <= X_CSRR;
              OP_CSR_WRITE: begin state_q <= X_CSRW_GET; pl_issue_q <= req_len_i; end
              OP_MEM_WRITE: begin state_q <= X_MEMW; pl_issue_q <= req_len_i; end
              OP_MEM_READ:  rd_beats_q <= first_beats[15:0];
              default: ;
            endcase
          end
        end
        X_CSRR: begin
          word_q <= csr_rdata_i;
          state_q <= X_TX;
        end
        X_CSRW_GET: if (c_take) begin
          word_q <= {buf_rdata_i, word_q[31:8]};
          csr_got_q <= csr_got_q + 3'd1;
          if (csr_got_q == 3'd3) state_q <= X_CSRW_DO;
        end
        X_CSRW_DO: state_q <= X_TX;
        X_MEMW: if (left_q == 16'd0 && !out_valid_q) state_q <= X_TX;
        default: begin  // X_TX
          if (tx_fire) begin
            case (tphase_q)
              T_HDR: begin
                if (tidx_q < 4'd14) hcrc_q <= hcrc_step;
                tidx_q <= tidx_q + 4'd1;
                if (last_hdr_byte) begin
                  tphase_q <= T_DATA;
                  tleft_q <= rsp_len;
                end
              end
              T_DATA: begin
                pcrc_q <= pcrc_step;
                tpos_q <= tpos_q + 5'd1;
                tlane_q <= tlane_q + 1'b1;
                tleft_q <= tleft_q - 16'd1;
                if (tleft_q == 16'd1) begin
                  tphase_q <= T_CRC;
                  tidx_q <= 4'd0;
                end
              end
              default: tidx_q <= tidx_q + 4'd1;
            endcase
          end
          if (tx_done) begin
            state_q <= X_IDLE;
            if (status_q == ST_OK) begin
              last_tag_q <= tag_q;
              last_ok_q <= 1'b1;
            end else begin
              error_q <= 1'b1;
            end
          end
        end
      endcase
    end
  end

  assign buf_re_o     = pl_re;
  assign buf_raddr_o  = rd_q[BUF_AW-1:0];
  assign buf_rd_ptr_o = rd_q;

  assign csr_valid_o  = state_q == X_CSRR || (state_q == X_CSRW_DO && !is_dup);
  assign csr_write_o  = state_q == X_CSRW_DO;
  assign csr_addr_o   = addr_q[11:0];
  assign csr_wdata_o  = word_q;

  assign mem_req_valid_o = out_valid_q || rd_issue;
  assign mem_req_write_o = out_valid_q;
  assign mem_req_addr_o  = out_valid_q ? out_addr_q : rd_addr_q;
  assign mem_req_wdata_o = out_data_q;
  assign mem_req_wstrb_o = out_valid_q ? out_strb_q : {BEAT{1'b0}};

  assign error_o = error_q;

  wire unused = &{1'b0, addr_q[31:12], beats_room, first_beats[16]};  // room: by the credit count
endmodule
