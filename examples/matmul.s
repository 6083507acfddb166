; matmul.s -- an 8x64 int8 input times a 64x32 weight matrix, as an FC layer
; on the default 16x16 configuration (ROWS = COLS = 16, UB lines of 16 bytes).
;
; y[b][n] = requantize(bias[n] + sum_k w[n][k] * (x[b][k] - zp_x)) + zp_y
;
; The reduction (K = 64) is split into KC = 4 input chunks of ROWS = 16, the 32
; outputs into NB = 2 column blocks of COLS = 16. .pack lays the weights out as
; 8 tiles, tile t = nb*4 + kc (mxu_pack.h), so the 4 tiles of one column block
; are consecutive in the weight buffer and one MATMUL with nk=4 sums them.
;
; DRAM map                            UB map (16-byte lines)
;   0x00000 code                        0..31   input: line kc*8 + b = x[b][kc*16 .. +15]
;   0x10000 x, 8x64 int8 (512 B)        32..39  output block nb=0: line 32 + b
;   0x11000 weight tiles (8 x 256 B)    40..47  output block nb=1: line 40 + b
;   0x12000 parameter lines (2 x 192 B)
;   0x20000 y, 8x32 int8 (256 B)
; ACC rows nb*8 + b; PARAM line nb; WB lines tile*16.

.code 0x0

.tensor x input  int8 nc 8x64 @0x10000 scale=0.05 zp=-2
.tensor y output int8 nc 8x32 @0x20000 scale=0.1  zp=3
.layer fc fc1 in=x out=y cout=32 weights=random:1 bias=random:2 wscale=0.002

.segment x 0x10000
.random 512 100                     ; the input, uniform int8
.pack fc1 weights @0x11000          ; 8 tiles x 16 lines x 16 bytes
.pack fc1 params  @0x12000          ; 2 lines x 16 channels x 12 bytes

; Input: for each chunk kc (n1, s1 = 16 bytes) and batch row b (n0, s0 = 64
; bytes), 16 bytes into consecutive lines, so line = kc*8 + b.
load mem=ub    dram_addr=0x10000 dst_line=0 elem_bytes=16  n0=8   s0=64  n1=4 s1=16 n2=1
; The 8 weight tiles: 128 lines of 16 bytes.
load mem=wb    dram_addr=0x11000 dst_line=0 elem_bytes=16  n0=128 s0=16  n1=1 n2=1
; The parameter lines. A push waits for every earlier instruction of its queue
; (docs/isa.md), so this last load's token tells compute all three have landed.
load mem=param dram_addr=0x12000 dst_line=0 elem_bytes=192 n0=2   s0=192 n1=1 n2=1 push_next

; Column block nb: 8 vectors (b = 0..7, s0 = 1) times 4 tiles; tile k reads the
; lines of chunk k (k_stride = 8) and WB lines wgt_line + 16k.
matmul pop_prev wgt_line=0  ub_addr=0 n0=8 s0=1 n1=1 nk=4 k_stride=8 acc_addr=0
matmul          wgt_line=64 ub_addr=0 n0=8 s0=1 n1=1 nk=4 k_stride=8 acc_addr=8

; Requantize each block: 8 accumulator rows -> 8 UB lines, zero point of y,
; no clamp beyond int8, no pooling.
activate param_line=0 acc_addr=0 in_w=8 out_h=1 out_w=8 ub_addr=32 zp_out=3 clamp_min=-128 clamp_max=127 pool_k=1 pool_s=1
activate param_line=1 acc_addr=8 in_w=8 out_h=1 out_w=8 ub_addr=40 zp_out=3 clamp_min=-128 clamp_max=127 pool_k=1 pool_s=1 push_next

; y[b][nb*16 ..]: UB line 32 + nb*8 + b -> 0x20000 + b*32 + nb*16.
store pop_prev src_line=32 dram_addr=0x20000 elem_bytes=16 n0=8 s0=32 n1=2 s1=16 n2=1
finish
