// Testbench DRAM for Icarus: the same timing rules as the Verilator harness's
// C model (sim/verilator/dram_model.c), step for step; docs/simulation.md
// ("DRAM timing") is the definition both follow:
//
//   credit starts at BEAT; ready = credit >= BEAT.
//   At rising edge e:
//     1. a response presented during the cycle before e is consumed;
//     2. if valid & ready the request is accepted: a write is applied now (bytes
//        with their strobe set), a read copies its beat now, due at e + latency;
//     3. if accepted, credit -= BEAT; then credit = min(credit + bw, BEAT);
//     4. outputs for the next cycle: ready = credit >= BEAT, rsp_valid = the
//        oldest queued read is due at edge e + 1.
//
// Storage is MEM_BYTES (small, Icarus holds every bit); accesses outside it or
// off a beat boundary are recorded in fault_o (reads return zero, writes drop).
// Testbench only: not synthesizable and not meant for Verilator.
`default_nettype none

module dram_model #(
  parameter integer BEAT        = 16,
  parameter integer MEM_BYTES   = 4194304,
  parameter integer RING        = 8192      // > the largest latency used (power of two)
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  input  wire [31:0]          latency_i,
  input  wire [31:0]          bw_i,
  input  wire                 req_valid_i,
  output reg                  req_ready_o,
  input  wire                 req_write_i,
  input  wire [31:0]          req_addr_i,
  input  wire [8*BEAT-1:0]    req_wdata_i,
  input  wire [BEAT-1:0]      req_wstrb_i,
  output reg                  rsp_valid_o,
  output reg  [8*BEAT-1:0]    rsp_rdata_o,
  output reg                  fault_o,
  output reg  [31:0]          fault_addr_o,
  output reg                  fault_write_o,
  output reg  [31:0]          hi_water_o     // beats [0, hi_water_o) hold every write
);
  localparam integer BEATS = MEM_BYTES / BEAT;

  // 2-state storage: starts at zero like the C model's calloc'd array.
  bit   [8*BEAT-1:0] mem [0:BEATS-1];
  reg   [8*BEAT-1:0] ring_data [0:RING-1];
  reg   [63:0]       ring_due  [0:RING-1];
  integer            head, count, credit, slot, i;
  reg   [63:0]       edge_n;
  reg   [8*BEAT-1:0] word;
  reg                legal;

  initial begin
    req_ready_o = 1'b1;
    rsp_valid_o = 1'b0;
    rsp_rdata_o = {8*BEAT{1'b0}};
    fault_o = 1'b0;
    fault_addr_o = 32'd0;
    fault_write_o = 1'b0;
    hi_water_o = 32'd0;
    credit = BEAT;
    edge_n = 64'd0;
    head = 0;
    count = 0;
  end

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      credit = BEAT;
      edge_n = 64'd0;
      head = 0;
      count = 0;
      req_ready_o <= 1'b1;
      rsp_valid_o <= 1'b0;
    end else begin
      // 1. the response presented in the cycle before this edge is taken
      if (rsp_valid_o) begin
        head = (head + 1) % RING;
        count = count - 1;
      end
      // 2. accept
      if (req_valid_i && req_ready_o) begin
        legal = (req_addr_i % BEAT == 0) && ({32'd0, req_addr_i} + BEAT <= MEM_BYTES);
        if (!legal && !fault_o) begin
          fault_o <= 1'b1;
          fault_addr_o <= req_addr_i;
          fault_write_o <= req_write_i;
        end
        if (req_write_i) begin
          if (legal) begin
            word = mem[req_addr_i / BEAT];
            for (i = 0; i < BEAT; i = i + 1)
              if (req_wstrb_i[i]) word[8*i +: 8] = req_wdata_i[8*i +: 8];
            mem[req_addr_i / BEAT] = word;
            if (req_addr_i / BEAT >= hi_water_o) hi_water_o <= req_addr_i / BEAT + 1;
          end
        end else begin
          slot = (head + count) % RING;
          ring_due[slot] = edge_n + latency_i;
          ring_data[slot] = legal ? mem[req_addr_i / BEAT] : {8*BEAT{1'b0}};
          count = count + 1;
        end
        credit = credit - BEAT;
      end
      // 3. refill
      credit = credit + bw_i;
      if (credit > BEAT) credit = BEAT;
      // 4. outputs for the next cycle
      req_ready_o <= (credit >= BEAT);
      rsp_valid_o <= (count != 0) && (ring_due[head] == edge_n + 1);
      rsp_rdata_o <= ring_data[head];
      edge_n = edge_n + 1;
    end
  end
endmodule
