# FPGA blocks (rtl/fpga/, docs/fpga.md): lint of the board tops and the Verilator
# benches of sim/fpga/, run by tests/rtl/test_fpga.c (suite fpga).
#
#   make fpga-lint       Verilator -Wall + Icarus on both board tops and the blocks
#   make fpga-benches    build/fpga/tb_* (the benches `make test` runs)
#
# FPGA builds take rtl/*.v with rtl/fpga/mem/mxu_ram.v in place of rtl/mxu_ram.v
# (block-RAM friendly, same behaviour; tb_ram_fpga proves it) and rtl/fpga/*.v.
# Xilinx primitives (MMCME2_BASE, BUFG) have lint stand-ins in sim/fpga/xilinx/.

FPGA_DIR := $(BUILD)/fpga
FPGA_CORE_SRCS := $(filter-out rtl/mxu_ram.v,$(sort $(wildcard rtl/*.v))) rtl/fpga/mem/mxu_ram.v
FPGA_SRCS := $(FPGA_CORE_SRCS) $(sort $(wildcard rtl/fpga/*.v))
FPGA_STUBS := $(sort $(wildcard sim/fpga/xilinx/*.v))
FPGA_LINT_STAMP := $(BUILD)/lint/fpga-ok

# ---- lint ------------------------------------------------------------------------
# The tops at their defaults, then blocks at parameters the tops do not reach.
define fpga_lint_top
	verilator --lint-only -Wall -I$(GEN) -Irtl --top-module $1 $2 $(FPGA_SRCS) $(FPGA_STUBS)
endef

$(FPGA_LINT_STAMP): $(FPGA_SRCS) $(FPGA_STUBS) $(GEN)/mxu_isa.vh mk/fpga.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call fpga_lint_top,mxu_fpga_nexys_video,)
	$(call fpga_lint_top,mxu_fpga_ft232h,)
	$(call fpga_lint_top,mxu_fpga_ft232h,-GROWS=4 -GCOLS=4 -GUB_LINES=64 -GLED_INVERT=96 -GDRAM_LATENCY=2)
	$(call fpga_lint_top,ft245_sync_fifo,-GFLUSH_IDLE=0 -GRX_DEPTH=8 -GBURST_MAX=1)
	$(call fpga_lint_top,async_fifo,-GAW=2 -GSYNC_STAGES=3 -GWIDTH=1)
	$(call fpga_lint_top,mxu_ram,-GNW=2 -GNR=2 -GDEPTH=100 -GAW=7)
	$(call fpga_lint_top,mxu_ram,-GNW=3 -GNR=1 -GDEPTH=8 -GAW=3)
	@out=$$(iverilog -g2012 -Wall -I$(GEN) -Irtl -s mxu_fpga_nexys_video -s mxu_fpga_ft232h \
	    -o $(BUILD)/lint/mxu_fpga.vvp $(FPGA_SRCS) $(FPGA_STUBS) 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; echo "lint: iverilog is not clean on the FPGA tops"; exit 1; fi
	@touch $@

fpga-lint: $(FPGA_LINT_STAMP)
TEST_DEPS += fpga-lint

# ---- benches ------------------------------------------------------------------------
FPGA_BENCH_VFLAGS := --cc --exe --build -j 1 -Wall -I$(abspath $(GEN)) -I$(abspath rtl) \
    -MAKEFLAGS OPT_FAST=-O2 -CFLAGS "-O2 -I$(abspath sim/fpga) -I$(abspath sim/verilator/blocks) \
    -I$(abspath sim/verilator) -I$(abspath driver) -I$(abspath $(GEN))"
FPGA_BENCH_HDRS := sim/fpga/ftdi_chip.h sim/verilator/blocks/tb_common.h

# $(call fpga_bench,NAME,TOP,TB_SOURCE,VERILOG_SOURCES,EXTRA_VERILATOR_ARGS,EXTRA_DEPS)
define fpga_bench
$(FPGA_DIR)/$(1): $(3) $(4) $(FPGA_BENCH_HDRS) $(GEN)/mxu_isa.vh $(6) mk/fpga.mk | $(DEPS_STAMP)
	@mkdir -p $(FPGA_DIR)/obj_$(1)
	verilator $(FPGA_BENCH_VFLAGS) -Mdir $(FPGA_DIR)/obj_$(1) -o ../$(1) --top-module $(2) \
	    $(5) $(abspath $(4)) $(abspath $(3)) >$(FPGA_DIR)/obj_$(1).log 2>&1 \
	    || { tail -40 $(FPGA_DIR)/obj_$(1).log; exit 1; }
FPGA_BENCHES += $(FPGA_DIR)/$(1)
endef

$(eval $(call fpga_bench,tb_ft245,ft245_sync_fifo,sim/fpga/tb_ft245.cpp,rtl/fpga/ft245_sync_fifo.v rtl/mxu_fifo.v,\
    -GFLUSH_IDLE=32))

# Gray pointers are read through --public-flat-rw.
$(eval $(call fpga_bench,tb_async_fifo,async_fifo,sim/fpga/tb_async_fifo.cpp,rtl/fpga/async_fifo.v,\
    -GAW=4 -GWIDTH=16 --public-flat-rw))

# The DRAM model is C (not C++): compiled on its own and linked in.
$(FPGA_DIR)/dram_model.o: sim/verilator/dram_model.c sim/verilator/dram_model.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -c $< -o $@
$(eval $(call fpga_bench,tb_bram_dram,bram_dram_pair,sim/fpga/tb_bram_dram.cpp,\
    sim/fpga/bram_dram_pair.v rtl/fpga/bram_dram.v,-GBEAT=16 -GBYTES=4096 -LDFLAGS $(abspath $(FPGA_DIR)/dram_model.o),\
    $(FPGA_DIR)/dram_model.o))

# The reference memory (rtl/mxu_ram.v) is Verilated apart, under another prefix,
# and linked into the bench of the FPGA memory.
FPGA_RAM_REF := $(FPGA_DIR)/obj_ram_ref/Vram_ref__ALL.a
$(FPGA_RAM_REF): sim/fpga/ram_configs.v rtl/mxu_ram.v mk/fpga.mk | $(DEPS_STAMP)
	@mkdir -p $(@D)
	verilator --cc -Wall --prefix Vram_ref --top-module ram_configs -Mdir $(@D) \
	    sim/fpga/ram_configs.v rtl/mxu_ram.v >$(FPGA_DIR)/obj_ram_ref.log 2>&1 || { tail -40 $(FPGA_DIR)/obj_ram_ref.log; exit 1; }
	$(MAKE) -s -C $(@D) -f Vram_ref.mk OPT_FAST=-O2 Vram_ref__ALL.a >/dev/null
$(eval $(call fpga_bench,tb_ram_fpga,ram_configs,sim/fpga/tb_ram_fpga.cpp,sim/fpga/ram_configs.v rtl/fpga/mem/mxu_ram.v,\
    --prefix Vram_fpga -CFLAGS -I$(abspath $(FPGA_DIR)/obj_ram_ref) -LDFLAGS $(abspath $(FPGA_RAM_REF)),$(FPGA_RAM_REF)))

# The whole board design, small (4x4, 64 KiB of device memory, 1 ms = 10 cycles
# for the LEDs), driven by libmxu's link client: links libmxu.a, so under SAN=1
# the sanitizer runtimes too. Written out (not fpga_bench) so LDLIBS is read
# when the recipe runs, after every fragment has added to it.
FPGA_SYS_PARAMS := -GROWS=4 -GCOLS=4 -GUB_LINES=64 -GACC_ROWS=64 -GWB_LINES=64 -GPARAM_LINES=16 \
    -GDRAM_BYTES=65536 -GCLK_HZ=10000 -GLED_HOLD_MS=10 -GFIFO_AW=4
$(FPGA_DIR)/tb_fpga_system: sim/fpga/tb_fpga_system.cpp $(FPGA_SRCS) $(FPGA_BENCH_HDRS) $(GEN)/mxu_isa.vh \
    $(GEN)/mxu_isa.h $(LIBMXU_A) mk/fpga.mk | $(DEPS_STAMP)
	@mkdir -p $(FPGA_DIR)/obj_tb_fpga_system
	@rm -f $@   # relink against a newer libmxu.a (verilator skips an unchanged model)
	verilator $(FPGA_BENCH_VFLAGS) -Mdir $(FPGA_DIR)/obj_tb_fpga_system -o ../tb_fpga_system \
	    --top-module mxu_fpga_system $(FPGA_SYS_PARAMS) \
	    -LDFLAGS $(abspath $(LIBMXU_A)) $(foreach f,$(LDLIBS) $(SANFLAGS),-LDFLAGS $(f)) \
	    $(abspath $(FPGA_SRCS)) $(abspath sim/fpga/tb_fpga_system.cpp) >$(FPGA_DIR)/obj_tb_fpga_system.log 2>&1 \
	    || { tail -40 $(FPGA_DIR)/obj_tb_fpga_system.log; exit 1; }
FPGA_BENCHES += $(FPGA_DIR)/tb_fpga_system

fpga-benches: $(FPGA_BENCHES)
TEST_DEPS += $(FPGA_BENCHES)
.PHONY: fpga-lint fpga-benches
