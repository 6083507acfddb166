// mxu_link_crc: one byte through a reflected (LSB-first) CRC register, as
// combinational logic. The host link uses CRC-32/IEEE (POLY 0xEDB88320, the
// register starts at all ones and is inverted at the end, zlib's CRC) for
// payloads and CRC-16/ARC (POLY 0xA001, starts at 0) for headers (docs/link.md).
`default_nettype none

module mxu_link_crc #(
  parameter integer           WIDTH = 32,
  parameter [WIDTH-1:0]       POLY  = 32'hEDB88320
) (
  input  wire [WIDTH-1:0] crc_i,
  input  wire [7:0]       data_i,
  output reg  [WIDTH-1:0] crc_o
);
  generate
    if (WIDTH < 8) begin : g_bad_param
      mxu_param_error_crc_narrower_than_a_byte u_param_error ();
    end
  endgenerate

  integer i;
  always @* begin
    crc_o = crc_i ^ {{(WIDTH - 8){1'b0}}, data_i};
    for (i = 0; i < 8; i = i + 1)
      crc_o = crc_o[0] ? ((crc_o >> 1) ^ POLY) : (crc_o >> 1);
  end
endmodule
