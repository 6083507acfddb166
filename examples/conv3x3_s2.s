; conv3x3_s2.s -- a 3x3 convolution, padding 1, stride 2: 9x9x16 -> 5x5x16, on
; the default 16x16 configuration. No im2col: the padded input is loaded once
; into the UB and each of the 9 taps is one MATMUL reading it shifted.
;
; The padded tile is TW = 11 lines wide and 11 rows tall (9 + 2 x padding 1);
; UB line (r+1)*11 + (c+1) holds the 16 channels of input pixel (r, c), and the
; padding lines hold the input zero point (-5), as TFLite's padding reads it.
; For tap (ky, kx) output pixel (oy, ox) reads padded pixel (2oy+ky, 2ox+kx):
;   ub_addr = ky*11 + kx, s0 = stride = 2, s1 = stride*TW = 22, n0 = n1 = 5.
; Each tap's weight tile (tile ky*3 + kx, mxu_pack.h) is WB lines 16*(ky*3+kx).
; The 9 MATMULs sum into the same 25 accumulator rows (oy*5 + ox).
;
; DRAM map                              UB map
;   0x00000 code                          0..120   padded input tile
;   0x10000 x, 9x9x16 int8 (1296 B)       128..152 output pixels oy*5 + ox
;   0x11000 9 weight tiles (2304 B)
;   0x12000 1 parameter line (192 B)
;   0x20000 y, 5x5x16 int8 (400 B)

.code 0x0

.tensor x input  int8 nhwc 1x9x9x16 @0x10000 scale=0.05 zp=-5
.tensor y output int8 nhwc 1x5x5x16 @0x20000 scale=0.1  zp=2
.layer conv2d conv in=x out=y cout=16 k=3 stride=2 pad=1 weights=random:11 bias=random:12 wscale=0.0015

.segment x 0x10000
.random 1296 7
.pack conv weights @0x11000
.pack conv params  @0x12000

; Input rows of 9 pixels (s0 = 16 bytes, s1 = 9*16 = 144), one padding line
; left and right of each row, one padding row above and below.
load mem=ub dram_addr=0x10000 dst_line=0 elem_bytes=16 n0=9 s0=16 n1=9 s1=144 n2=1 pad_left=1 pad_right=1 pad_top=1 pad_bottom=1 pad_value=-5
load mem=wb dram_addr=0x11000 dst_line=0 elem_bytes=16 n0=144 s0=16 n1=1 n2=1
load mem=param dram_addr=0x12000 dst_line=0 elem_bytes=192 n0=1 n1=1 n2=1 push_next

; tap (ky, kx):  ub_addr = ky*11 + kx, wgt_line = (ky*3 + kx)*16
matmul pop_prev wgt_line=0   ub_addr=0  n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0            ; (0,0) overwrite
matmul          wgt_line=16  ub_addr=1  n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0 accumulate ; (0,1)
matmul          wgt_line=32  ub_addr=2  n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0 accumulate ; (0,2)
matmul          wgt_line=48  ub_addr=11 n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0 accumulate ; (1,0)
matmul          wgt_line=64  ub_addr=12 n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0 accumulate ; (1,1)
matmul          wgt_line=80  ub_addr=13 n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0 accumulate ; (1,2)
matmul          wgt_line=96  ub_addr=22 n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0 accumulate ; (2,0)
matmul          wgt_line=112 ub_addr=23 n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0 accumulate ; (2,1)
matmul          wgt_line=128 ub_addr=24 n0=5 s0=2 n1=5 s1=22 nk=1 acc_addr=0 accumulate ; (2,2)

; 5x5 accumulator rows -> UB lines 128.., zero point of y, no clamp, no pool.
activate param_line=0 acc_addr=0 in_w=5 out_h=5 out_w=5 ub_addr=128 zp_out=2 clamp_min=-128 clamp_max=127 pool_k=1 pool_s=1 push_next

; 25 pixels of 16 channels, dense NHWC.
store pop_prev src_line=128 dram_addr=0x20000 elem_bytes=16 n0=25 s0=16 n1=1 n2=1
finish
