// mxu_act_lane: the ACTIVATE datapath of one channel (column), four stages,
// bit-exact with mxu_activate() of hostlib/mxu_numerics.h:
//   1: x = acc + bias (wrapping); xs = x << ls (wrapping)
//   2: p = xs * qm (64-bit); sat = (xs == qm == INT32_MIN)
//   3: t = sat ? INT32_MAX : (p + 2^30) >>> 31;
//      y = rs ? (t + 2^(rs-1) - (t < 0 && !round_half_up)) >>> rs : t   (33-bit add;
//      round_half_up: ties toward +inf as LiteRT's builtin kernels, else away from zero)
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
  input  wire          round_half_up_i, // final shift: ties toward +inf (else away from zero)
  input  wire [2047:0] lut_i,
  output wire [7:0]    max_o         // pooled value (valid the cycle after the window's last stage 4)
);
  reg [31:0] xs_q;
  reg [63:0] p_q;
  reg        sat_q;
  reg [31:0] y_q;
  reg [7:0]  m_q;

  // Stage 1
  always @(posedge clk_i) if (v0_i) xs_q <= (acc_i + bias_i) << ls_i;

  // Stage 2
  always @(posedge clk_i) begin
    if (v1_i) begin
      p_q   <= $signed({{32{xs_q[31]}}, xs_q}) * $signed({{32{qm_i[31]}}, qm_i});
      sat_q <= (xs_q == 32'h8000_0000) && (qm_i == 32'h8000_0000);
    end
  end

  // Stages 3 and 4 are functions evaluated only when their stage is valid, so an
  // idle lane costs a simulator nothing.
  // Stage 3
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [31:0] round_shift(input [63:0] p, input sat, input [4:0] rs,
                                        input half_up);
    reg [63:0] p_rnd;
    reg [31:0] t;
    reg [32:0] t33, half, sum33, y33;
    begin
      p_rnd = p + 64'h0000_0000_4000_0000;
      t     = sat ? 32'h7FFF_FFFF : p_rnd[62:31];
      t33   = {t[31], t};
      half  = (rs == 5'd0) ? 33'd0 : (33'd1 << (rs - 5'd1));
      sum33 = t33 + half - {32'd0, t[31] & (rs != 5'd0) & !half_up};
      y33   = $signed(sum33) >>> rs;
      round_shift = y33[31:0];
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  always @(posedge clk_i) if (v2_i) y_q <= round_shift(p_q, sat_q, rs_i, round_half_up_i);

  // Stage 4: z = clamp(y + zp), v = LUT or z, and the running max of the window.
  function automatic [7:0] pool_step(input [31:0] y, input [7:0] zp, input [7:0] cmin,
                                     input [7:0] cmax, input lut_en, input [2047:0] lut,
                                     input first, input [7:0] m);
    reg [31:0] z, lo, hi;
    reg [7:0]  zc, v;
    begin
      z  = y + {{24{zp[7]}}, zp};
      lo = {{24{cmin[7]}}, cmin};
      hi = {{24{cmax[7]}}, cmax};
      zc = ($signed(z) < $signed(lo)) ? cmin : ($signed(z) > $signed(hi)) ? cmax : z[7:0];
      v  = lut_en ? lut[{zc ^ 8'h80, 3'b000} +: 8] : zc;
      pool_step = (first || $signed(v) > $signed(m)) ? v : m;
    end
  endfunction
  always @(posedge clk_i) begin
    if (v3_i) m_q <= pool_step(y_q, zp_i, clamp_min_i, clamp_max_i, lut_en_i, lut_i, first3_i, m_q);
  end

  assign max_o = m_q;
endmodule
