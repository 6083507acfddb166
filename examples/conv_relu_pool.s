; conv_relu_pool.s -- 3x3 convolution (padding 1, stride 1) + ReLU + 2x2 max-pool
; (stride 2): 8x8x16 -> conv 8x8x16 -> pool 4x4x16, on the default 16x16
; configuration. ReLU is the clamp [zp_y, 127]; the pool runs in ACTIVATE on the
; way out of the accumulators, after the clamp.
;
; Padded tile: TW = 10 lines wide, 10 rows tall (8 + 2); UB line (r+1)*10 + (c+1)
; holds input pixel (r, c); padding lines hold zp_x = 4.
; Tap (ky, kx): ub_addr = ky*10 + kx, s0 = 1, s1 = 10, n0 = n1 = 8; accumulator
; row oy*8 + ox. ACTIVATE reads the 8x8 accumulator tile (in_w = 8) and takes the
; max of each 2x2 window: out pixel (py, px) = rows (2py+dy)*8 + 2px+dx.
;
; DRAM map                               UB map
;   0x00000 code                           0..99    padded input tile
;   0x10000 x, 8x8x16 int8 (1024 B)        128..143 output pixels py*4 + px
;   0x11000 9 weight tiles (2304 B)
;   0x12000 1 parameter line (192 B)
;   0x20000 y, 4x4x16 int8 (256 B)

.code 0x0

.tensor x input  int8 nhwc 1x8x8x16 @0x10000 scale=0.05 zp=4
.tensor y output int8 nhwc 1x4x4x16 @0x20000 scale=0.08 zp=-10
.layer conv2d conv in=x out=y cout=16 k=3 pad=1 relu pool=2,2 weights=random:21 bias=random:22 wscale=0.001

.segment x 0x10000
.random 1024 8
.pack conv weights @0x11000
.pack conv params  @0x12000

load mem=ub dram_addr=0x10000 dst_line=0 elem_bytes=16 n0=8 s0=16 n1=8 s1=128 n2=1 pad_left=1 pad_right=1 pad_top=1 pad_bottom=1 pad_value=4
load mem=wb dram_addr=0x11000 dst_line=0 elem_bytes=16 n0=144 s0=16 n1=1 n2=1
load mem=param dram_addr=0x12000 dst_line=0 elem_bytes=192 n0=1 n1=1 n2=1 push_next

; tap (ky, kx):  ub_addr = ky*10 + kx, wgt_line = (ky*3 + kx)*16
matmul pop_prev wgt_line=0   ub_addr=0  n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0            ; (0,0) overwrite
matmul          wgt_line=16  ub_addr=1  n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0 accumulate ; (0,1)
matmul          wgt_line=32  ub_addr=2  n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0 accumulate ; (0,2)
matmul          wgt_line=48  ub_addr=10 n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0 accumulate ; (1,0)
matmul          wgt_line=64  ub_addr=11 n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0 accumulate ; (1,1)
matmul          wgt_line=80  ub_addr=12 n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0 accumulate ; (1,2)
matmul          wgt_line=96  ub_addr=20 n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0 accumulate ; (2,0)
matmul          wgt_line=112 ub_addr=21 n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0 accumulate ; (2,1)
matmul          wgt_line=128 ub_addr=22 n0=8 s0=1 n1=8 s1=10 nk=1 acc_addr=0 accumulate ; (2,2)

; ReLU = clamp to [zp_y, 127] = [-10, 127]; 2x2 max-pool, stride 2.
activate param_line=0 acc_addr=0 in_w=8 out_h=4 out_w=4 ub_addr=128 zp_out=-10 clamp_min=-10 clamp_max=127 pool_k=2 pool_s=2 push_next

store pop_prev src_line=128 dram_addr=0x20000 elem_bytes=16 n0=16 s0=16 n1=1 n2=1
finish
