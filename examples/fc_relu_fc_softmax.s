; fc_relu_fc_softmax.s -- a tiny classifier as a compiled network is laid out:
; two device layers, each with its own code range ending in a finish, and a
; softmax on the host (docs/program-format.md, "Code ranges and how a program
; runs"). `mxu run` runs instructions 0..8, then 9..15, then the softmax.
;
;   x 1x64 --fc1 (ReLU)--> h 1x32 --fc2--> s 1x10 --softmax--> prob 1x10
;
; Default 16x16 configuration. Each range is a whole run of the device, so its
; tokens balance inside it and it starts with empty queues and no hazards.
;
; DRAM map                              UB map (16-byte lines)
;   0x00000 code                          fc1: 0..3 input chunks, 16..17 output blocks
;   0x10000 x (64 B)                      fc2: 0..1 input chunks, 8 output block
;   0x10100 h (32 B)   0x10200 s (10 B)   0x10300 prob (10 B)
;   0x11000 fc1 weights (8 tiles)  0x12000 fc1 params (2 lines)
;   0x13000 fc2 weights (2 tiles)  0x14000 fc2 params (1 line)

.code 0x0

.tensor x    input      int8 nc 1x64 @0x10000 scale=0.05 zp=-2
.tensor h    activation int8 nc 1x32 @0x10100 scale=0.08 zp=-128
.tensor s    activation int8 nc 1x10 @0x10200 scale=0.1  zp=5
.tensor prob output     int8 nc 1x10 @0x10300 scale=0.00390625 zp=-128
.layer fc fc1 in=x out=h cout=32 weights=random:1 bias=random:2 wscale=0.004 relu code=0,9
.layer fc fc2 in=h out=s cout=10 weights=random:3 bias=random:4 wscale=0.01 code=9,7
.layer softmax sm in=s out=prob

.pack fc1 weights @0x11000
.pack fc1 params  @0x12000
.pack fc2 weights @0x13000
.pack fc2 params  @0x14000

; ---- fc1: instructions 0..8
; x in 4 chunks of 16 (one line each), the 8 weight tiles, the 2 parameter lines.
load mem=ub    dram_addr=0x10000 dst_line=0 elem_bytes=16  n0=4   s0=16  n1=1 n2=1
load mem=wb    dram_addr=0x11000 dst_line=0 elem_bytes=16  n0=128 s0=16  n1=1 n2=1
load mem=param dram_addr=0x12000 dst_line=0 elem_bytes=192 n0=2   s0=192 n1=1 n2=1 push_next
; one vector, 4 tiles (k_stride 1: chunk k is line k), per column block
matmul pop_prev wgt_line=0  ub_addr=0 n0=1 s0=1 n1=1 nk=4 k_stride=1 acc_addr=0
matmul          wgt_line=64 ub_addr=0 n0=1 s0=1 n1=1 nk=4 k_stride=1 acc_addr=1
; ReLU: clamp at the zero point of h
activate param_line=0 acc_addr=0 in_w=1 out_h=1 out_w=1 ub_addr=16 zp_out=-128 clamp_min=-128 clamp_max=127 pool_k=1 pool_s=1
activate param_line=1 acc_addr=1 in_w=1 out_h=1 out_w=1 ub_addr=17 zp_out=-128 clamp_min=-128 clamp_max=127 pool_k=1 pool_s=1 push_next
store pop_prev src_line=16 dram_addr=0x10100 elem_bytes=16 n0=2 s0=16 n1=1 n2=1
finish

; ---- fc2: instructions 9..15 (h as written by fc1's store)
load mem=ub    dram_addr=0x10100 dst_line=0 elem_bytes=16  n0=2   s0=16  n1=1 n2=1
load mem=wb    dram_addr=0x13000 dst_line=0 elem_bytes=16  n0=32  s0=16  n1=1 n2=1
load mem=param dram_addr=0x14000 dst_line=0 elem_bytes=192 n0=1   s0=192 n1=1 n2=1 push_next
matmul pop_prev wgt_line=0 ub_addr=0 n0=1 s0=1 n1=1 nk=2 k_stride=1 acc_addr=0
activate param_line=0 acc_addr=0 in_w=1 out_h=1 out_w=1 ub_addr=8 zp_out=5 clamp_min=-128 clamp_max=127 pool_k=1 pool_s=1 push_next
store pop_prev src_line=8 dram_addr=0x10200 elem_bytes=10 n0=1 s0=10 n1=1 n2=1
finish
