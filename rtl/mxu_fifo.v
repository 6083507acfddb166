// mxu_fifo: synchronous FIFO with valid/ready on both sides (first-word
// fall-through: out_data_o is the head while out_valid_o).
`default_nettype none

module mxu_fifo #(
  parameter integer WIDTH = 8,
  parameter integer DEPTH = 4,
  parameter integer CW    = 3    // count width: holds 0..DEPTH
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  input  wire             in_valid_i,
  output wire             in_ready_o,
  input  wire [WIDTH-1:0] in_data_i,
  output wire             out_valid_o,
  input  wire             out_ready_i,
  output wire [WIDTH-1:0] out_data_o,
  output wire [CW-1:0]    count_o
);
  generate
    if (DEPTH < 1 || (1 << CW) <= DEPTH) begin : g_bad_param
      mxu_param_error_fifo_count_too_narrow u_param_error ();
    end
  endgenerate

  localparam integer PW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
  reg [WIDTH-1:0] mem [0:(1<<PW)-1];
  reg [PW-1:0] rd_q, wr_q;
  reg [CW-1:0] count_q;
  localparam [CW-1:0] FULL = DEPTH[CW-1:0];

  wire push = in_valid_i && in_ready_o;
  wire pop  = out_valid_o && out_ready_i;

  localparam integer LAST_I = DEPTH - 1;
  localparam [PW-1:0] LAST = LAST_I[PW-1:0];
  function automatic [PW-1:0] inc(input [PW-1:0] x);
    inc = (x == LAST) ? {PW{1'b0}} : x + 1'b1;
  endfunction

  always @(posedge clk_i) begin
    if (push) mem[wr_q] <= in_data_i;
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_q <= {PW{1'b0}};
      wr_q <= {PW{1'b0}};
      count_q <= {CW{1'b0}};
    end else begin
      if (push) wr_q <= inc(wr_q);
      if (pop)  rd_q <= inc(rd_q);
      if (push && !pop) count_q <= count_q + 1'b1;
      else if (pop && !push) count_q <= count_q - 1'b1;
    end
  end

  assign in_ready_o  = count_q != FULL;
  assign out_valid_o = count_q != {CW{1'b0}};
  assign out_data_o  = mem[rd_q];
  assign count_o     = count_q;
endmodule
