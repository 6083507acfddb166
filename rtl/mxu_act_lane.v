// mxu_act_lane: the ACTIVATE datapath of one channel (column), four stages,
// bit-exact with mxu_activate() of hostlib/mxu_numerics.h:
//   1: x = acc + bias (wrapping); xs = x << ls (wrapping)
//   2: p = xs * qm (64-bit); sat = (xs == qm == INT32_MIN)
//   3: t = sat ? INT32_MAX : (p + 2^30) >>> 31;
//      y = rs ? (t + 2^(rs-1) - (t < 0)) >>> rs : t      (33-bit add)
//   4: z = clamp(y + zp, clamp_min, clamp_max); v = lut_en ? LUT[z + 128] : z;
//      pooled max: m = first ? v : max(m, v)
// Every stage only updates when its valid bit is set, so an idle lane costs nothing.
`default_nettype none

module mxu_act_lane (
  input  wire          clk_i,
  input  wire          v0_i,        // acc_i valid (stage 1 input)
  input  wire          v1_i,        // stage 2 input valid
  input  wire          v2_i,        // stage 3 input valid
  input  wire          v3_i,        // stage 4 input valid
  input  wire          first3_i,    // stage 4 input starts a pooling window
  input  wire [31:0]   acc_i,
  input  wire [31:0]   bias_i,
  input  wire [31:0]   qm_i,
  input  wire [4:0]    ls_i,
  input  wire [4:0]    rs_i,
  input  wire [7:0]    zp_i,
  input  wire [7:0]    clamp_min_i,
  input  wire [7:0]    clamp_max_i,
  input  wire          lut_en_i,
  input  wire [2047:0] lut_i,
  output wire [7:0]    max_o         // pooled value (valid the cycle after the window's last stage 4)
);
  reg [31:0] xs_q;
  reg [63:0] p_q;
  reg        sat_q;
  reg [31:0] y_q;
  reg [7:0]  m_q;

  // Stage 1
  wire [31:0] x = acc_i + bias_i;
  always @(posedge clk_i) if (v0_i) xs_q <= x << ls_i;

  // Stage 2
  always @(posedge clk_i) begin
    if (v1_i) begin
      p_q   <= $signed({{32{xs_q[31]}}, xs_q}) * $signed({{32{qm_i[31]}}, qm_i});
      sat_q <= (xs_q == 32'h8000_0000) && (qm_i == 32'h8000_0000);
    end
  end

  // Stage 3
  wire [63:0] p_rnd = p_q + 64'h0000_0000_4000_0000;
  wire [31:0] t     = sat_q ? 32'h7FFF_FFFF : p_rnd[62:31];
  wire [32:0] t33   = {t[31], t};
  wire [32:0] half  = (rs_i == 5'd0) ? 33'd0 : (33'd1 << (rs_i - 5'd1));
  wire [32:0] sum33 = t33 + half - {32'd0, t[31] & (rs_i != 5'd0)};
  wire [32:0] y33   = $signed(sum33) >>> rs_i;
  always @(posedge clk_i) if (v2_i) y_q <= y33[31:0];

  // Stage 4
  wire [31:0] z    = y_q + {{24{zp_i[7]}}, zp_i};
  wire [31:0] lo   = {{24{clamp_min_i[7]}}, clamp_min_i};
  wire [31:0] hi   = {{24{clamp_max_i[7]}}, clamp_max_i};
  wire [7:0]  zc   = ($signed(z) < $signed(lo)) ? clamp_min_i :
                     ($signed(z) > $signed(hi)) ? clamp_max_i : z[7:0];
  wire [7:0]  idx  = zc ^ 8'h80;
  wire [10:0] lut_bit = {idx, 3'b000};
  wire [7:0]  v    = lut_en_i ? lut_i[lut_bit +: 8] : zc;
  always @(posedge clk_i) begin
    if (v3_i) m_q <= (first3_i || $signed(v) > $signed(m_q)) ? v : m_q;
  end

  assign max_o = m_q;
  wire unused = &{1'b0, p_rnd[63], p_rnd[30:0], y33[32]};
endmodule
