# Block-level Verilator test benches (sim/verilator/blocks/tb_*.cpp) built into
# build/rtl_blocks/; tests/rtl/test_rtl_blocks.c runs them (suite rtl_blocks).
RTL_BLOCKS_DIR := $(BUILD)/rtl_blocks
RTL_BLOCK_VFLAGS := --cc --exe --build -j 1 -Wall -I$(abspath $(GEN)) -I$(abspath rtl) \
    -MAKEFLAGS OPT_FAST=-O2 -CFLAGS "-O2 -I$(abspath sim/verilator/blocks)"
RTL_BLOCK_HDRS := sim/verilator/blocks/tb_common.h
RTL_ARRAY_SRCS := rtl/mxu_array.v rtl/mxu_pe.v rtl/mxu_delay.v
RTL_ARRAY_MODEL_SRCS := rtl/mxu_array_model.v rtl/mxu_delay.v
RTL_ACT_SRCS := rtl/mxu_act.v rtl/mxu_act_lane.v
RTL_LOAD_SRCS := rtl/mxu_dma_load.v rtl/mxu_fifo.v
RTL_STORE_SRCS := rtl/mxu_dma_store.v rtl/mxu_fifo.v
RTL_STORE_ARGS := -CFLAGS -I$(abspath $(GEN))
# tb_act checks against libmxu's numerics; under SAN=1 that library is sanitized,
# so the bench links the sanitizer runtimes too.
RTL_ACT_LINK := -CFLAGS -I$(abspath hostlib) -CFLAGS -I$(abspath driver) \
    -LDFLAGS $(abspath $(LIBMXU_A)) -LDFLAGS -lm $(foreach f,$(SANFLAGS),-LDFLAGS $(f))

# $(call rtl_block,NAME,TOP,TB_SOURCE,VERILOG_SOURCES,EXTRA_VERILATOR_ARGS,EXTRA_DEPS)
define rtl_block
$(RTL_BLOCKS_DIR)/$(1): $(3) $(4) $(RTL_BLOCK_HDRS) $(GEN)/mxu_isa.vh $(6) | $(DEPS_STAMP)
	@mkdir -p $(RTL_BLOCKS_DIR)/obj_$(1)
	verilator $(RTL_BLOCK_VFLAGS) -Mdir $(RTL_BLOCKS_DIR)/obj_$(1) -o ../$(1) --top-module $(2) \
	    $(5) $(abspath $(4)) $(abspath $(3)) >$(RTL_BLOCKS_DIR)/obj_$(1).log 2>&1 \
	    || { tail -40 $(RTL_BLOCKS_DIR)/obj_$(1).log; exit 1; }
RTL_BLOCK_BINS += $(RTL_BLOCKS_DIR)/$(1)
endef

$(eval $(call rtl_block,tb_array,mxu_array,sim/verilator/blocks/tb_array.cpp,$(RTL_ARRAY_SRCS),-GTAG_W=32))
$(eval $(call rtl_block,tb_array_4x7,mxu_array,sim/verilator/blocks/tb_array.cpp,$(RTL_ARRAY_SRCS),\
    -GROWS=4 -GCOLS=7 -GTAG_W=32 -CFLAGS "-DROWS=4 -DCOLS=7 -DTB_NAME=\\\"tb_array_4x7\\\""))
# The array's functional model (the `fast` simulator variant) on the same bench.
$(eval $(call rtl_block,tb_array_model,mxu_array_model,sim/verilator/blocks/tb_array.cpp,$(RTL_ARRAY_MODEL_SRCS),\
    --prefix Vmxu_array -GTAG_W=32 -CFLAGS "-DTB_NAME=\\\"tb_array_model\\\""))
$(eval $(call rtl_block,tb_array_model_4x7,mxu_array_model,sim/verilator/blocks/tb_array.cpp,$(RTL_ARRAY_MODEL_SRCS),\
    --prefix Vmxu_array -GROWS=4 -GCOLS=7 -GTAG_W=32 -CFLAGS "-DROWS=4 -DCOLS=7 -DTB_NAME=\\\"tb_array_model_4x7\\\""))
$(eval $(call rtl_block,tb_act,mxu_act,sim/verilator/blocks/tb_act.cpp,$(RTL_ACT_SRCS),\
    -GCOLS=16 -GUB_BYTES=16 $(RTL_ACT_LINK),$(LIBMXU_A)))
$(eval $(call rtl_block,tb_act_8c,mxu_act,sim/verilator/blocks/tb_act.cpp,$(RTL_ACT_SRCS),\
    -GCOLS=8 -GUB_BYTES=16 -CFLAGS "-DCOLS=8 -DTB_NAME=\\\"tb_act_8c\\\"" $(RTL_ACT_LINK),$(LIBMXU_A)))
$(eval $(call rtl_block,tb_dma_load,mxu_dma_load,sim/verilator/blocks/tb_dma_load.cpp,$(RTL_LOAD_SRCS),))
$(eval $(call rtl_block,tb_dma_load_b4,mxu_dma_load,sim/verilator/blocks/tb_dma_load.cpp,$(RTL_LOAD_SRCS),\
    -GBEAT=4 -GBUF_BEATS=8 -CFLAGS "-DBEAT=4 -DTB_NAME=\\\"tb_dma_load_b4\\\""))
# The PE alone; --public-flat-rw lets the bench read its shadow and active weights.
$(eval $(call rtl_block,tb_pe,mxu_pe,sim/verilator/blocks/tb_pe.cpp,rtl/mxu_pe.v,--public-flat-rw))
$(eval $(call rtl_block,tb_dma_store,mxu_dma_store,sim/verilator/blocks/tb_dma_store.cpp,$(RTL_STORE_SRCS),\
    $(RTL_STORE_ARGS),$(GEN)/mxu_isa.h))
$(eval $(call rtl_block,tb_dma_store_b4,mxu_dma_store,sim/verilator/blocks/tb_dma_store.cpp,$(RTL_STORE_SRCS),\
    -GBEAT=4 $(RTL_STORE_ARGS) -CFLAGS "-DBEAT=4 -DTB_NAME=\\\"tb_dma_store_b4\\\"",$(GEN)/mxu_isa.h))
# Lines wider than the beat (64-byte UB lines span up to 9 beats of 8) and a 2-line FIFO.
$(eval $(call rtl_block,tb_dma_store_ub64,mxu_dma_store,sim/verilator/blocks/tb_dma_store.cpp,$(RTL_STORE_SRCS),\
    -GBEAT=8 -GUB_BYTES=64 -GFIFO_LINES=2 $(RTL_STORE_ARGS) \
    -CFLAGS "-DBEAT=8 -DUB_BYTES=64 -DTB_NAME=\\\"tb_dma_store_ub64\\\"",$(GEN)/mxu_isa.h))

rtl_blocks: $(RTL_BLOCK_BINS)
TEST_DEPS += $(RTL_BLOCK_BINS)
.PHONY: rtl_blocks
