// Icarus testbench: mxu_top plus the Verilog DRAM model, driven through the
// CSR port exactly like the Verilator harness (sim/verilator/mxu_rtl.cpp):
// 4 cycles of reset, then one cycle per CSR access, then cycles until done_o.
// Inputs change on the falling edge; the rising edge samples them.
//
// Plusargs (numbers in decimal):
//   +dram=FILE +dram_beats=N   initial DRAM image, one beat per line in hex
//                              (byte 0 of the beat = the last two digits);
//                              the rest of the testbench memory is zero
//   +cmd_base=A +cmd_count=N   the program (written to CMD_BASE/CMD_COUNT)
//   +latency=L +bw=B           DRAM timing (defaults 10 and the beat)
//   +max_cycles=N              stop after N cycles without done_o (0 = never)
//   +nostart                   only reset and report the CSRs
//   +dump=FILE +dump_beats=N   write DRAM beats [0, max(N, past the last beat the
//                              core wrote)) back, same format
//   +csrs=FILE                 write "OFFSET VALUE" (hex) for every CSR offset
//                              0x000..0x17c, then "cycles N", "done D",
//                              "fault F ADDR WRITE"
`default_nettype none
`include "mxu_isa.vh"

module mxu_tb;
  parameter integer ROWS            = `MXU_DEFAULT_ROWS;
  parameter integer COLS            = `MXU_DEFAULT_COLS;
  parameter integer UB_LINES        = `MXU_DEFAULT_UB_LINES;
  parameter integer ACC_ROWS        = `MXU_DEFAULT_ACC_ROWS;
  parameter integer WB_LINES        = `MXU_DEFAULT_WB_LINES;
  parameter integer PARAM_LINES     = `MXU_DEFAULT_PARAM_LINES;
  parameter integer DRAM_BYTES      = `MXU_DEFAULT_DRAM_BYTES;
  parameter integer DRAM_BEAT_BYTES = `MXU_DEFAULT_DRAM_BEAT_BYTES;
  parameter integer QUEUE_DEPTH     = `MXU_DEFAULT_QUEUE_DEPTH;
  parameter integer TOKEN_MAX       = `MXU_DEFAULT_TOKEN_MAX;
  parameter integer MEM_BYTES       = 4194304;  // the testbench's DRAM storage
  localparam integer BEAT = DRAM_BEAT_BYTES;
  localparam integer RESET_CYCLES = 4;           // as mxu_rtl.cpp

  reg         clk = 1'b0;
  reg         rst_n = 1'b0;
  reg         csr_valid = 1'b0;
  reg         csr_write = 1'b0;
  reg  [11:0] csr_addr = 12'd0;
  reg  [31:0] csr_wdata = 32'd0;
  wire [31:0] csr_rdata;
  wire        req_valid, req_ready, req_write, rsp_valid;
  wire [31:0] req_addr;
  wire [8*BEAT-1:0] req_wdata, rsp_rdata;
  wire [BEAT-1:0]   req_wstrb;
  wire        busy, done, error;
  reg  [31:0] latency = 32'd10;                   // MXU_DEFAULT_DRAM_LATENCY
  reg  [31:0] bw = BEAT;
  wire        fault, fault_write;
  wire [31:0] fault_addr, hi_water;

  always #5 clk = ~clk;

  mxu_top #(
    .ROWS(ROWS), .COLS(COLS), .UB_LINES(UB_LINES), .ACC_ROWS(ACC_ROWS), .WB_LINES(WB_LINES),
    .PARAM_LINES(PARAM_LINES), .DRAM_BYTES(DRAM_BYTES), .DRAM_BEAT_BYTES(DRAM_BEAT_BYTES),
    .QUEUE_DEPTH(QUEUE_DEPTH), .TOKEN_MAX(TOKEN_MAX)
  ) u_dut (
    .clk_i(clk), .rst_ni(rst_n),
    .csr_valid_i(csr_valid), .csr_write_i(csr_write), .csr_addr_i(csr_addr),
    .csr_wdata_i(csr_wdata), .csr_rdata_o(csr_rdata),
    .dram_req_valid_o(req_valid), .dram_req_ready_i(req_ready), .dram_req_write_o(req_write),
    .dram_req_addr_o(req_addr), .dram_req_wdata_o(req_wdata), .dram_req_wstrb_o(req_wstrb),
    .dram_rsp_valid_i(rsp_valid), .dram_rsp_rdata_i(rsp_rdata),
    .busy_o(busy), .done_o(done), .error_o(error)
  );

  dram_model #(.BEAT(BEAT), .MEM_BYTES(MEM_BYTES)) u_dram (
    .clk_i(clk), .rst_ni(rst_n), .latency_i(latency), .bw_i(bw),
    .req_valid_i(req_valid), .req_ready_o(req_ready), .req_write_i(req_write),
    .req_addr_i(req_addr), .req_wdata_i(req_wdata), .req_wstrb_i(req_wstrb),
    .rsp_valid_o(rsp_valid), .rsp_rdata_o(rsp_rdata),
    .fault_o(fault), .fault_addr_o(fault_addr), .fault_write_o(fault_write),
    .hi_water_o(hi_water)
  );

  task csr_wr(input [11:0] addr, input [31:0] value);
    begin
      csr_valid = 1'b1;
      csr_write = 1'b1;
      csr_addr = addr;
      csr_wdata = value;
      @(negedge clk);
      csr_valid = 1'b0;
      csr_write = 1'b0;
      csr_addr = 12'd0;
      csr_wdata = 32'd0;
    end
  endtask

  // One cycle with the address driven; rdata is sampled before the rising edge.
  task csr_rd(input [11:0] addr, output [31:0] value);
    begin
      csr_valid = 1'b1;
      csr_write = 1'b0;
      csr_addr = addr;
      #1 value = csr_rdata;
      @(negedge clk);
      csr_valid = 1'b0;
      csr_addr = 12'd0;
    end
  endtask

  reg [1023:0] dram_file, dump_file, csrs_file;
  reg [63:0]   dram_beats, dump_beats, max_cycles, cycles;
  reg [31:0]   cmd_base, cmd_count, value;
  integer      fd, a, b;

  initial begin
    if (MEM_BYTES % BEAT != 0) begin
      $display("mxu_tb: MEM_BYTES=%0d is not a multiple of the beat", MEM_BYTES);
      $finish;
    end
    dram_beats = 0;
    dump_beats = 0;
    max_cycles = 0;
    cmd_base = 0;
    cmd_count = 0;
    cycles = 0;
    if ($value$plusargs("latency=%d", latency)) ;
    if ($value$plusargs("bw=%d", bw)) ;
    if ($value$plusargs("max_cycles=%d", max_cycles)) ;
    if ($value$plusargs("cmd_base=%d", cmd_base)) ;
    if ($value$plusargs("cmd_count=%d", cmd_count)) ;
    if ($value$plusargs("dram_beats=%d", dram_beats)) ;
    if ($value$plusargs("dump_beats=%d", dump_beats)) ;
    if (dram_beats > MEM_BYTES / BEAT || dump_beats > MEM_BYTES / BEAT) begin
      $display("mxu_tb: image larger than the testbench's %0d-byte DRAM", MEM_BYTES);
      $finish;
    end
    if ($value$plusargs("dram=%s", dram_file) && dram_beats != 0)
      $readmemh(dram_file, u_dram.mem, 0, dram_beats - 1);

    // reset, as mxu_rtl_reset: RESET_CYCLES cycles low, one cycle high
    repeat (RESET_CYCLES) @(negedge clk);
    rst_n = 1'b1;
    @(negedge clk);

    if (!$test$plusargs("nostart")) begin
      csr_wr(`MXU_CSR_CMD_BASE, cmd_base);
      csr_wr(`MXU_CSR_CMD_COUNT, cmd_count);
      csr_wr(`MXU_CSR_CTRL, `MXU_CTRL_START);
      // as mxu_rtl_run: check done_o after every rising edge
      while (!done && (max_cycles == 0 || cycles < max_cycles)) begin
        @(negedge clk);
        cycles = cycles + 1;
      end
    end

    if ($value$plusargs("dump=%s", dump_file)) begin
      fd = $fopen(dump_file, "w");
      if (hi_water > dump_beats) dump_beats = hi_water;
      for (b = 0; b < dump_beats; b = b + 1)
        $fwrite(fd, "%h\n", u_dram.mem[b]);
      $fclose(fd);
    end
    if ($value$plusargs("csrs=%s", csrs_file)) begin
      fd = $fopen(csrs_file, "w");
      for (a = 0; a < 'h180; a = a + 4) begin
        csr_rd(a[11:0], value);
        $fwrite(fd, "%03h %08h\n", a[11:0], value);
      end
      $fwrite(fd, "cycles %0d\n", cycles);
      $fwrite(fd, "done %0d\n", done);
      $fwrite(fd, "fault %0d %08h %0d\n", fault, fault_addr, fault_write);
      $fclose(fd);
    end
    $finish;
  end
endmodule
