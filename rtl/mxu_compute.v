// mxu_compute: the compute unit. MATMUL sequencing (address generation, weight
// preload, array streaming, accumulator write-back) and ACTIVATE dispatch to the
// background engine (mxu_act), with results as if the compute queue ran in order.
//
//   front:    takes the compute queue head once its tokens are there (tokens are
//             popped in program order, possibly before the previous instruction
//             finished: a token only says its producer has completed). A MATMUL
//             that needs weights also queues a tile job for the weight loader, so
//             the next MATMUL's first tile preloads during the current one's last.
//   loader:   reads a tile from WB (ROWS lines, bottom row first, one per cycle)
//             into the array's weight pipe once every earlier tile has been swapped
//             in, at the earliest in the cycle the last of them issues its first
//             vector (the array holds one preloaded tile; see mxu_array for the
//             timing): tiles of ROWS vectors stream back to back.
//   executor: streams one UB vector per cycle into the array; the first vector of
//             each tile waits for the tile's last weight line (WEIGHT_STALL).
//             An ACTIVATE is handed to mxu_act with the count of vectors issued so
//             far; the engine starts when they have landed. A MATMUL overlapping an
//             in-flight ACTIVATE waits for it if it writes an accumulator row the
//             ACTIVATE reads or reads a UB line it writes (range check).
//   write-back: array output -> ACC read (sync) -> add/overwrite -> ACC write, with
//             forwarding when consecutive vectors hit the same row.
//   pushes:   in program order. A MATMUL issued while an ACTIVATE is in flight and
//             finishing before it defers its pushes until that ACTIVATE completes.
`default_nettype none
`include "mxu_isa.vh"

module mxu_compute #(
  parameter integer ROWS     = 16,
  parameter integer COLS     = 16,
  parameter integer UB_BYTES = 16,
  parameter integer UB_AW    = 14,
  parameter integer WB_AW    = 12,
  parameter integer ACC_AW   = 10,
  parameter integer PARAM_AW = 6
) (
  input  wire                   clk_i,
  input  wire                   rst_ni,
  // compute queue head: instruction + last UB line / last ACC row it touches
  input  wire                   cq_valid_i,
  output wire                   cq_ready_o,
  input  wire [255:0]           cq_insn_i,
  input  wire [31:0]            cq_ub_hi_i,
  input  wire [31:0]            cq_acc_hi_i,
  // tokens
  input  wire                   l2c_avail_i,
  input  wire                   s2c_avail_i,
  output wire                   l2c_pop_o,
  output wire                   s2c_pop_o,
  output wire [3:0]             c2l_push_o,
  output wire [3:0]             c2s_push_o,
  // UB read (vectors), UB write (activation results)
  output wire                   ub_re_o,
  output wire [UB_AW-1:0]       ub_raddr_o,
  input  wire [UB_BYTES*8-1:0]  ub_rdata_i,
  output wire                   ub_we_o,
  output wire [UB_AW-1:0]       ub_waddr_o,
  output wire [UB_BYTES*8-1:0]  ub_wdata_o,
  // WB read
  output wire                   wb_re_o,
  output wire [WB_AW-1:0]       wb_raddr_o,
  input  wire [COLS*8-1:0]      wb_rdata_i,
  // ACC: write port, read port 0 (write-back), read port 1 (activation)
  output wire                   acc_we_o,
  output wire [ACC_AW-1:0]      acc_waddr_o,
  output wire [COLS*32-1:0]     acc_wdata_o,
  output wire                   acc_re0_o,
  output wire [ACC_AW-1:0]      acc_raddr0_o,
  input  wire [COLS*32-1:0]     acc_rdata0_i,
  output wire                   acc_re1_o,
  output wire [ACC_AW-1:0]      acc_raddr1_o,
  input  wire [COLS*32-1:0]     acc_rdata1_i,
  // PARAM read, LUT
  output wire                   param_re_o,
  output wire [PARAM_AW-1:0]    param_raddr_o,
  input  wire [COLS*96-1:0]     param_rdata_i,
  input  wire [2047:0]          lut_i,
  // status
  output wire [1:0]             done_o,          // instructions completed this cycle
  output wire                   busy_o,
  output wire                   wait_o,
  output wire                   vector_o,        // a vector entered the array
  output wire                   weight_stall_o,
  output wire                   act_rows_o,
  output wire                   idle_o
);
  localparam integer TAG_W = ACC_AW + 7;   // {row, overwrite, last, push_next, push_prev, defer, epoch[1:0]}
  localparam integer XW    = 256 + 64;     // exec FIFO entry

  // ---- front ----------------------------------------------------------------------
  wire [3:0] cq_op       = cq_insn_i[`MXU_F_OP];
  wire       cq_matmul   = cq_op == `MXU_OP_MATMUL;
  wire       cq_pop_prev = cq_insn_i[`MXU_F_MATMUL_POP_PREV];   // same bits for ACTIVATE
  wire       cq_pop_next = cq_insn_i[`MXU_F_MATMUL_POP_NEXT];
  wire       cq_needs_w  = cq_matmul && !cq_insn_i[`MXU_F_MATMUL_KEEP_WEIGHTS];
  wire       tokens_ok   = (!cq_pop_prev || l2c_avail_i) && (!cq_pop_next || s2c_avail_i);
  wire       x_in_ready, job_in_ready;
  wire       front_fire  = cq_valid_i && tokens_ok && x_in_ready && (!cq_needs_w || job_in_ready);

  wire          x_valid;
  wire [XW-1:0] x_data;
  wire          x_pop;
  wire [1:0]    x_count;
  mxu_fifo #(.WIDTH(XW), .DEPTH(2), .CW(2)) u_exec_fifo (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(front_fire), .in_ready_o(x_in_ready), .in_data_i({cq_insn_i, cq_ub_hi_i, cq_acc_hi_i}),
    .out_valid_o(x_valid), .out_ready_i(x_pop), .out_data_o(x_data), .count_o(x_count));

  wire        job_valid;
  wire [31:0] job_data;
  wire        job_pop;
  wire [1:0]  job_count;
  mxu_fifo #(.WIDTH(32), .DEPTH(2), .CW(2)) u_job_fifo (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(front_fire && cq_needs_w), .in_ready_o(job_in_ready),
    .in_data_i({cq_insn_i[`MXU_F_MATMUL_WGT_LINE], cq_insn_i[`MXU_F_MATMUL_NK]}),
    .out_valid_o(job_valid), .out_ready_i(job_pop), .out_data_o(job_data), .count_o(job_count));

  // ---- weight loader ----------------------------------------------------------------
  // A tile's first WB read happens in the cycle the loader starts (its lines reach the
  // array from the next cycle on), and the loader may start in the very cycle the
  // executor issues the first vector of the tile the array holds: the new tile's first
  // line then enters the array together with that vector (L = t_S, mxu_array's limit),
  // so tiles of ROWS vectors follow each other without a bubble.
  localparam integer RW = (ROWS > 1) ? $clog2(ROWS) : 1;
  reg [7:0]  ld_started_q, tiles_done_q, swapped_q;
  reg        loading_q;
  reg [15:0] ld_tile_q;
  reg [31:0] ld_base_q;            // WB line of the tile's row 0
  reg [RW-1:0] ld_i_q;             // next line (0 = row ROWS-1)
  reg        wv_q, wlast_q;
  wire       swap_now;             // executor: the held tile's first vector issues now

  wire [15:0] job_nk   = job_data[15:0];
  wire [15:0] job_wgt  = job_data[31:16];
  wire ld_start = !loading_q && job_valid && ld_started_q == swapped_q + {7'd0, swap_now};
  wire ld_read  = ld_start || loading_q;
  wire [RW-1:0] ld_line = ld_start ? {RW{1'b0}} : ld_i_q;
  wire [31:0] ld_base   = ld_start ? {16'd0, job_wgt} + {16'd0, ld_tile_q} * ROWS : ld_base_q;
  wire ld_last_line = ld_read && ld_line == ROWS[RW-1:0] - 1'b1;
  assign job_pop = ld_last_line && ld_tile_q == job_nk - 16'd1;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ld_started_q <= 8'd0; tiles_done_q <= 8'd0;
      loading_q <= 1'b0; ld_tile_q <= 16'd0; ld_base_q <= 32'd0; ld_i_q <= {RW{1'b0}};
      wv_q <= 1'b0; wlast_q <= 1'b0;
    end else begin
      wv_q    <= ld_read;
      wlast_q <= ld_last_line;
      if (wv_q && wlast_q) tiles_done_q <= tiles_done_q + 8'd1;
      if (ld_start) begin
        ld_started_q <= ld_started_q + 8'd1;
        ld_base_q    <= ld_base;
      end
      if (ld_read) begin
        loading_q <= !ld_last_line;
        ld_i_q    <= ld_line + 1'b1;
        if (ld_last_line) ld_tile_q <= job_pop ? 16'd0 : ld_tile_q + 16'd1;
      end
    end
  end
  wire [31:0] wb_line = ld_base + ROWS - 1 - {{(32-RW){1'b0}}, ld_line};
  assign wb_re_o    = ld_read;
  assign wb_raddr_o = wb_line[WB_AW-1:0];
  wire tile_ready   = (tiles_done_q != swapped_q) || (wv_q && wlast_q);

  // ---- executor ---------------------------------------------------------------------
  wire [255:0] x_insn   = x_data[XW-1 -: 256];
  wire [31:0]  x_ub_hi  = x_data[63:32];
  wire [31:0]  x_acc_hi = x_data[31:0];
  wire [3:0]   x_op     = x_insn[`MXU_F_OP];
  wire         x_matmul = x_op == `MXU_OP_MATMUL;

  // The ACTIVATE held by the engine: the ranges it reads (ACC) and writes (UB).
  reg  [31:0] a_acc_lo_q, a_acc_hi_q, a_ub_lo_q, a_ub_hi_q;
  reg  [1:0]  act_epoch_q;
  wire        act_ready, act_done, act_busy;
  wire [1:0]  act_push;

  wire [31:0] m_acc_lo = {16'd0, x_insn[`MXU_F_MATMUL_ACC_ADDR]};
  wire [31:0] m_ub_lo  = {8'd0, x_insn[`MXU_F_MATMUL_UB_ADDR]};
  wire hazard = act_busy && (
      (m_acc_lo <= a_acc_hi_q && a_acc_lo_q <= x_acc_hi) ||
      (m_ub_lo  <= a_ub_hi_q  && a_ub_lo_q  <= x_ub_hi));

  reg         run_q;
  reg         keep_q, accum_q, mpush_prev_q, mpush_next_q, defer_q;
  reg  [1:0]  defer_epoch_q;
  reg  [15:0] n0_q, n1_q, nk_q, i0_q, i1_q, k_q;
  reg  [31:0] s0_q, s1_q, ks_q, ub_kbase_q, ub_row_q, ub_cur_q, acc_base_q, acc_cur_q;
  reg  [31:0] vec_issued_q, vec_landed_q;

  wire i0_end = i0_q == n0_q - 16'd1;
  wire i1_end = i1_q == n1_q - 16'd1;
  wire k_end  = k_q == nk_q - 16'd1;
  wire tile_first = i0_q == 16'd0 && i1_q == 16'd0 && !keep_q;
  wire stall  = run_q && tile_first && !tile_ready;
  wire issue  = run_q && !stall;
  wire last_vec = i0_end && i1_end && k_end;
  assign swap_now = issue && tile_first;
  wire pick   = !run_q || (issue && last_vec);
  wire pick_mm  = pick && x_valid && x_matmul && !hazard;
  wire pick_act = pick && x_valid && !x_matmul && act_ready && !(run_q);
  assign x_pop  = pick_mm || pick_act;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q <= 1'b0; keep_q <= 1'b0; accum_q <= 1'b0; mpush_prev_q <= 1'b0; mpush_next_q <= 1'b0;
      defer_q <= 1'b0; defer_epoch_q <= 2'd0;
      n0_q <= 16'd0; n1_q <= 16'd0; nk_q <= 16'd0; i0_q <= 16'd0; i1_q <= 16'd0; k_q <= 16'd0;
      s0_q <= 32'd0; s1_q <= 32'd0; ks_q <= 32'd0;
      ub_kbase_q <= 32'd0; ub_row_q <= 32'd0; ub_cur_q <= 32'd0; acc_base_q <= 32'd0; acc_cur_q <= 32'd0;
      vec_issued_q <= 32'd0; swapped_q <= 8'd0;
      a_acc_lo_q <= 32'd0; a_acc_hi_q <= 32'd0; a_ub_lo_q <= 32'd0; a_ub_hi_q <= 32'd0;
      act_epoch_q <= 2'd0;
    end else begin
      if (issue) begin
        vec_issued_q <= vec_issued_q + 32'd1;
        if (tile_first) swapped_q <= swapped_q + 8'd1;
        if (!i0_end) begin
          i0_q <= i0_q + 16'd1;
          ub_cur_q <= ub_cur_q + s0_q;
          acc_cur_q <= acc_cur_q + 32'd1;
        end else if (!i1_end) begin
          i0_q <= 16'd0;
          i1_q <= i1_q + 16'd1;
          ub_row_q <= ub_row_q + s1_q;
          ub_cur_q <= ub_row_q + s1_q;
          acc_cur_q <= acc_cur_q + 32'd1;
        end else if (!k_end) begin
          i0_q <= 16'd0;
          i1_q <= 16'd0;
          k_q <= k_q + 16'd1;
          ub_kbase_q <= ub_kbase_q + ks_q;
          ub_row_q <= ub_kbase_q + ks_q;
          ub_cur_q <= ub_kbase_q + ks_q;
          acc_cur_q <= acc_base_q;
        end else begin
          run_q <= 1'b0;
        end
      end
      if (pick_mm) begin
        run_q   <= 1'b1;
        keep_q  <= x_insn[`MXU_F_MATMUL_KEEP_WEIGHTS];
        accum_q <= x_insn[`MXU_F_MATMUL_ACCUMULATE];
        mpush_prev_q <= x_insn[`MXU_F_MATMUL_PUSH_PREV];
        mpush_next_q <= x_insn[`MXU_F_MATMUL_PUSH_NEXT];
        defer_q <= act_busy && !act_done;
        defer_epoch_q <= act_epoch_q;
        n0_q <= x_insn[`MXU_F_MATMUL_N0];
        n1_q <= x_insn[`MXU_F_MATMUL_N1];
        nk_q <= x_insn[`MXU_F_MATMUL_NK];
        i0_q <= 16'd0; i1_q <= 16'd0; k_q <= 16'd0;
        s0_q <= {16'd0, x_insn[`MXU_F_MATMUL_S0]};
        s1_q <= {8'd0, x_insn[`MXU_F_MATMUL_S1]};
        ks_q <= {8'd0, x_insn[`MXU_F_MATMUL_K_STRIDE]};
        ub_kbase_q <= m_ub_lo; ub_row_q <= m_ub_lo; ub_cur_q <= m_ub_lo;
        acc_base_q <= m_acc_lo; acc_cur_q <= m_acc_lo;
      end
      if (pick_act) begin
        act_epoch_q <= act_epoch_q + 2'd1;
        a_acc_lo_q <= {16'd0, x_insn[`MXU_F_ACTIVATE_ACC_ADDR]};
        a_acc_hi_q <= x_acc_hi;
        a_ub_lo_q  <= {8'd0, x_insn[`MXU_F_ACTIVATE_UB_ADDR]};
        a_ub_hi_q  <= x_ub_hi;
      end
    end
  end

  assign ub_re_o    = issue;
  assign ub_raddr_o = ub_cur_q[UB_AW-1:0];

  // Array input: the UB line read last cycle plus its tag.
  reg                 av_q, afirst_q;
  reg [TAG_W-1:0]     atag_q;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      av_q <= 1'b0; afirst_q <= 1'b0; atag_q <= {TAG_W{1'b0}};
    end else begin
      av_q     <= issue;
      afirst_q <= issue && tile_first;
      atag_q   <= {acc_cur_q[ACC_AW-1:0], k_q == 16'd0 && !accum_q, last_vec,
                   mpush_next_q, mpush_prev_q, defer_q, defer_epoch_q};
    end
  end

  wire               out_valid;
  wire [COLS*32-1:0] out_data;
  wire [TAG_W-1:0]   out_tag;
  // The systolic array of PEs is the design. MXU_ARRAY_MODEL swaps in its
  // cycle-exact functional model (same ports and timing, several times faster to
  // simulate: the `fast` simulator variant); block tests prove the two equal.
`ifdef MXU_ARRAY_MODEL
  mxu_array_model #(.ROWS(ROWS), .COLS(COLS), .TAG_W(TAG_W)) u_array (
`else
  mxu_array #(.ROWS(ROWS), .COLS(COLS), .TAG_W(TAG_W)) u_array (
`endif
    .clk_i(clk_i), .rst_ni(rst_ni),
    .in_valid_i(av_q), .in_first_i(afirst_q), .in_data_i(ub_rdata_i[ROWS*8-1:0]), .in_tag_i(atag_q),
    .w_valid_i(wv_q), .w_last_i(wlast_q), .w_data_i(wb_rdata_i),
    .out_valid_o(out_valid), .out_data_o(out_data), .out_tag_o(out_tag));

  // ---- write-back ---------------------------------------------------------------------
  reg                 wb_v_q;
  reg [TAG_W-1:0]     wb_tag_q;
  reg [COLS*32-1:0]   wb_y_q;
  reg                 fwd_q;
  reg [COLS*32-1:0]   fwd_data_q;
  wire [ACC_AW-1:0]   wb_row  = wb_tag_q[TAG_W-1 -: ACC_AW];
  wire                wb_ovw  = wb_tag_q[6];
  wire                wb_last = wb_tag_q[5];
  wire [1:0]          wb_push = wb_tag_q[4:3];
  wire                wb_defer = wb_tag_q[2];
  wire [1:0]          wb_epoch = wb_tag_q[1:0];
  wire [COLS*32-1:0]  acc_old = fwd_q ? fwd_data_q : acc_rdata0_i;
  wire [COLS*32-1:0]  acc_new;
  genvar c;
  generate
    for (c = 0; c < COLS; c = c + 1) begin : g_wb
      assign acc_new[32*c +: 32] = wb_ovw ? wb_y_q[32*c +: 32] : acc_old[32*c +: 32] + wb_y_q[32*c +: 32];
    end
  endgenerate
  wire [ACC_AW-1:0] out_row = out_tag[TAG_W-1 -: ACC_AW];

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wb_v_q <= 1'b0; wb_tag_q <= {TAG_W{1'b0}}; fwd_q <= 1'b0; vec_landed_q <= 32'd0;
    end else begin
      wb_v_q   <= out_valid;
      wb_tag_q <= out_tag;
      fwd_q    <= out_valid && wb_v_q && out_row == wb_row;
      if (wb_v_q) vec_landed_q <= vec_landed_q + 32'd1;
    end
  end
  always @(posedge clk_i) begin
    if (out_valid) wb_y_q <= out_data;
    if (out_valid && wb_v_q) fwd_data_q <= acc_new;
  end

  assign acc_re0_o    = out_valid;
  assign acc_raddr0_o = out_row;
  assign acc_we_o     = wb_v_q;
  assign acc_waddr_o  = wb_row;
  assign acc_wdata_o  = acc_new;

  // ---- completion and pushes, in program order ----------------------------------------
  wire mm_done   = wb_v_q && wb_last;
  wire mm_defer  = mm_done && wb_defer && act_busy && !act_done && wb_epoch == act_epoch_q;
  reg  [3:0] def_prev_q, def_next_q;
  wire [3:0] mm_prev = {3'd0, mm_done && !mm_defer && wb_push[0]};
  wire [3:0] mm_next = {3'd0, mm_done && !mm_defer && wb_push[1]};
  wire [3:0] act_prev = act_done ? def_prev_q + {3'd0, act_push[0]} : 4'd0;
  wire [3:0] act_next = act_done ? def_next_q + {3'd0, act_push[1]} : 4'd0;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      def_prev_q <= 4'd0; def_next_q <= 4'd0;
    end else begin
      if (act_done) begin
        def_prev_q <= 4'd0; def_next_q <= 4'd0;
      end else if (mm_defer) begin
        def_prev_q <= def_prev_q + {3'd0, wb_push[0]};
        def_next_q <= def_next_q + {3'd0, wb_push[1]};
      end
    end
  end
  assign c2l_push_o = mm_prev + act_prev;
  assign c2s_push_o = mm_next + act_next;
  assign l2c_pop_o  = front_fire && cq_pop_prev;
  assign s2c_pop_o  = front_fire && cq_pop_next;
  assign cq_ready_o = front_fire;

  // ---- activation engine --------------------------------------------------------------
  mxu_act #(.COLS(COLS), .UB_BYTES(UB_BYTES), .ACC_AW(ACC_AW), .UB_AW(UB_AW), .PARAM_AW(PARAM_AW)) u_act (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .start_i(pick_act), .ready_o(act_ready), .insn_i(x_insn),
    .vec_wait_i(vec_issued_q), .vec_landed_i(vec_landed_q),
    .param_re_o(param_re_o), .param_raddr_o(param_raddr_o), .param_rdata_i(param_rdata_i),
    .acc_re_o(acc_re1_o), .acc_raddr_o(acc_raddr1_o), .acc_rdata_i(acc_rdata1_i),
    .ub_we_o(ub_we_o), .ub_waddr_o(ub_waddr_o), .ub_wdata_o(ub_wdata_o),
    .lut_i(lut_i), .done_o(act_done), .done_push_o(act_push), .busy_o(act_busy), .rows_o(act_rows_o));

  wire pipe_busy = vec_issued_q != vec_landed_q;
  assign done_o         = {1'b0, mm_done} + {1'b0, act_done};
  assign busy_o         = run_q || x_valid || pipe_busy || act_busy;
  assign wait_o         = cq_valid_i && !tokens_ok && !busy_o;
  assign vector_o       = issue;
  assign weight_stall_o = stall;
  assign idle_o         = !cq_valid_i && !busy_o && !loading_q && !wv_q;

  wire unused = &{1'b0, cq_insn_i, x_insn, x_count, job_count, wb_line, ub_cur_q, acc_cur_q,
                  ub_rdata_i, i1_q};
endmodule
