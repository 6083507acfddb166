# RTL simulation builds: Verilator libraries (libmxu_rtl.so, the C API of
# sim/verilator/mxu_rtl.h) and Icarus testbenches, one directory per
# configuration. docs/simulation.md explains the harness.
#
#   make                                 also builds build/rtl/16x16/libmxu_rtl.so
#   make build/rtl/8x16/libmxu_rtl.so    any ROWSxCOLS (other parameters: defaults)
#   make build/rtl/8x16/libmxu_rtl_trace.so    the same with FST tracing compiled in
#   make build/rtl/16x16/libmxu_rtl_native.so  -march=native (benchmarks; not portable)
#   make build/rtl/16x16/libmxu_rtl_fast.so    the array's functional model instead of
#                                        its PEs (MXU_ARRAY_MODEL; same cycles, faster)
#   make build/rtl/4x4/libmxu_rtl_link.so      top = mxu_link_top: the device behind its
#                                        host link (docs/link.md); also _link_fast, _link_trace
#   make rtl-model RTL_DIR=build/rtl/NAME RTL_PARAMS="-GROWS=8 -GCOLS=16 -GUB_LINES=4096"
#                                        [RTL_VARIANT=plain|trace|native|fast|link|link_fast|link_trace]
#   make build/icarus/4x4/mxu_tb.vvp     Icarus testbench for ROWSxCOLS
#   make icarus-model ICARUS_DIR=build/icarus/NAME RTL_PARAMS="-GROWS=8 ..."
#
# Builds run only when rtl/*.v, the ISA or the harness change. The RTL outputs go
# under the plain build tree even for SAN=1 (they are not sanitized anyway), so a
# sanitizer run reuses them instead of verilating everything again.

VERILATOR ?= verilator
IVERILOG ?= iverilog
VERILATOR_ROOT ?= $(shell $(VERILATOR) --getenv VERILATOR_ROOT 2>/dev/null || echo /usr/share/verilator)
RTL_SRCS ?= $(sort $(wildcard rtl/*.v))
RTL_BUILD := $(patsubst %/san,%,$(BUILD))
RTL_ISA_DEPS := isa/mxu.isa tools/isagen.c
RTL_HARNESS := sim/verilator/mxu_rtl.cpp sim/verilator/mxu_rtl.h sim/verilator/mxu_rtl.map \
	sim/verilator/dram_model.c sim/verilator/dram_model.h driver/mxu_config.h mk/rtl.mk
ICARUS_TB := $(sort $(wildcard sim/icarus/*.v))
# Icarus keeps the testbench's DRAM array small (the core still sees DRAM_BYTES):
ICARUS_MEM_BYTES ?= 4194304

# Where the rtl/icarus backends look for (and build) their simulators.
CPPFLAGS += -DMXU_BUILD_DIR=\"$(abspath $(RTL_BUILD))\" -DMXU_SOURCE_DIR=\"$(abspath .)\"

RTL_DEFAULT_SO := $(RTL_BUILD)/rtl/16x16/libmxu_rtl.so
ALL_EXTRA += $(RTL_DEFAULT_SO)

# Verilator switches: one thread, fast X handling, no assertions; -O2 reaches the
# generated code only through OPT_FAST (verilated.mk appends its own -Os).
RTL_VFLAGS := --cc --prefix Vmxu_top -O3 --x-assign fast --x-initial fast \
	--threads 1 -Wno-fatal -Wno-lint -Wno-style
RTL_VL_DEFS := -DVL_USER_FINISH -DVL_USER_STOP -DVL_USER_FATAL
RTL_OPT := OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2
RTL_CXXFLAGS := -std=gnu++17 -O2 -fPIC -I$(VERILATOR_ROOT)/include -I$(VERILATOR_ROOT)/include/vltstd \
	-Isim/verilator -Idriver -I$(GEN) $(RTL_VL_DEFS)

# Shell check that a directory name is ROWSxCOLS.
rtl_shape = $(if $(shell echo '$1' | grep -E '^[0-9]+x[0-9]+$$'),-GROWS=$(word 1,$(subst x, ,$1)) -GCOLS=$(word 2,$(subst x, ,$1)),$(error "$1" is not ROWSxCOLS: use make rtl-model RTL_DIR=... RTL_PARAMS=...))

# A variant is "plain" or features joined by '_' (trace, native, fast, link).
rtl_vflags_variant = --top-module $(if $(findstring link,$1),mxu_link_top,mxu_top) $(if $(findstring trace,$1),--trace-fst --trace-structs)$(if $(findstring native,$1),-CFLAGS -march=native)$(if $(findstring fast,$1),+define+MXU_ARRAY_MODEL)
rtl_cflags_variant = $(if $(findstring trace,$1),-DMXU_RTL_TRACE=1 -DVM_TRACE=1 -DVM_TRACE_FST=1,-DVM_TRACE=0)$(if $(findstring native,$1), -march=native)$(if $(findstring link,$1), -DMXU_RTL_LINK=1)
rtl_lib_name = libmxu_rtl$(if $(filter-out plain,$1),_$1).so

# $(call rtl_build,DIR,-G parameters,VARIANT): verilate rtl/*.v into DIR/obj-VARIANT,
# compile the model and the Verilator runtime there, link DIR/libmxu_rtl*.so.
define rtl_build
	@mkdir -p $1/obj-$3
	@echo "  VERILATE $1 ($3) $2"
	$(VERILATOR) $(RTL_VFLAGS) -Mdir $1/obj-$3 -I$(GEN) -Irtl $2 $(call rtl_vflags_variant,$3) \
	    -CFLAGS "-fPIC $(RTL_VL_DEFS)" $(RTL_SRCS)
	$(MAKE) -s -C $1/obj-$3 -f Vmxu_top.mk $(RTL_OPT) Vmxu_top__ALL.a verilated.o verilated_threads.o \
	    $(if $(findstring trace,$3),verilated_fst_c.o) >/dev/null
	$(CXX) $(RTL_CXXFLAGS) $(call rtl_cflags_variant,$3) -I$1/obj-$3 $(patsubst -G%,-DMXU_RTL_P_%,$2) \
	    -c sim/verilator/mxu_rtl.cpp -o $1/obj-$3/mxu_rtl.o
	$(CC) -std=c11 -O2 -fPIC -Wall -Wextra -Werror $(call rtl_cflags_variant,$3) \
	    -c sim/verilator/dram_model.c -o $1/obj-$3/dram_model.o
	$(CXX) -shared -fPIC -o $1/$(call rtl_lib_name,$3) -Wl,--version-script=sim/verilator/mxu_rtl.map \
	    -Wl,-Bsymbolic $1/obj-$3/mxu_rtl.o $1/obj-$3/dram_model.o $1/obj-$3/Vmxu_top__ALL.a \
	    $1/obj-$3/verilated.o $1/obj-$3/verilated_threads.o \
	    $(if $(findstring trace,$3),$1/obj-$3/verilated_fst_c.o -lz) -pthread -latomic
endef

RTL_PREREQS := $(RTL_SRCS) $(RTL_HARNESS) $(RTL_ISA_DEPS) | $(ISA_GEN)

$(RTL_BUILD)/rtl/%/libmxu_rtl.so: $(RTL_PREREQS)
	$(call rtl_build,$(@D),$(call rtl_shape,$*),plain)
$(RTL_BUILD)/rtl/%/libmxu_rtl_trace.so: $(RTL_PREREQS)
	$(call rtl_build,$(@D),$(call rtl_shape,$*),trace)
$(RTL_BUILD)/rtl/%/libmxu_rtl_native.so: $(RTL_PREREQS)
	$(call rtl_build,$(@D),$(call rtl_shape,$*),native)
$(RTL_BUILD)/rtl/%/libmxu_rtl_fast.so: $(RTL_PREREQS)
	$(call rtl_build,$(@D),$(call rtl_shape,$*),fast)
$(RTL_BUILD)/rtl/%/libmxu_rtl_link.so: $(RTL_PREREQS)
	$(call rtl_build,$(@D),$(call rtl_shape,$*),link)
$(RTL_BUILD)/rtl/%/libmxu_rtl_link_fast.so: $(RTL_PREREQS)
	$(call rtl_build,$(@D),$(call rtl_shape,$*),link_fast)
$(RTL_BUILD)/rtl/%/libmxu_rtl_link_trace.so: $(RTL_PREREQS)
	$(call rtl_build,$(@D),$(call rtl_shape,$*),link_trace)

# Explicit form for any parameter set. The parameters are recorded in DIR/params
# (rewritten only when they change) so a new set rebuilds.
RTL_VARIANT ?= plain
ifneq ($(RTL_DIR),)
$(shell mkdir -p $(RTL_DIR) && (echo '$(RTL_PARAMS)' | cmp -s - $(RTL_DIR)/params-$(RTL_VARIANT) || \
	echo '$(RTL_PARAMS)' > $(RTL_DIR)/params-$(RTL_VARIANT)))
rtl-model: $(RTL_DIR)/$(call rtl_lib_name,$(RTL_VARIANT))
$(RTL_DIR)/$(call rtl_lib_name,$(RTL_VARIANT)): $(RTL_DIR)/params-$(RTL_VARIANT) $(RTL_PREREQS)
	$(call rtl_build,$(RTL_DIR),$(RTL_PARAMS),$(RTL_VARIANT))
else
rtl-model:
	$(error rtl-model needs RTL_DIR=build/rtl/NAME and RTL_PARAMS="-GROWS=.. -GCOLS=.. ...")
endif

# ---- Icarus ------------------------------------------------------------------
# $(call icarus_build,DIR,-G parameters): DIR/mxu_tb.vvp; the testbench passes
# every mxu_top parameter through (-P mxu_tb.NAME=VALUE).
define icarus_build
	@mkdir -p $1
	$(IVERILOG) -g2012 -Wall -Wno-timescale -Wno-implicit-dimensions -o $1/mxu_tb.vvp -s mxu_tb -I$(GEN) -Irtl \
	    -Pmxu_tb.MEM_BYTES=$(ICARUS_MEM_BYTES) $(patsubst -G%,-Pmxu_tb.%,$2) $(ICARUS_TB) $(RTL_SRCS)
endef

ICARUS_PREREQS := $(RTL_SRCS) $(ICARUS_TB) $(RTL_ISA_DEPS) mk/rtl.mk | $(ISA_GEN)

$(RTL_BUILD)/icarus/%/mxu_tb.vvp: $(ICARUS_PREREQS)
	$(call icarus_build,$(@D),$(call rtl_shape,$*))

ifneq ($(ICARUS_DIR),)
$(shell mkdir -p $(ICARUS_DIR) && (echo '$(RTL_PARAMS) $(ICARUS_MEM_BYTES)' | cmp -s - $(ICARUS_DIR)/params || \
	echo '$(RTL_PARAMS) $(ICARUS_MEM_BYTES)' > $(ICARUS_DIR)/params))
icarus-model: $(ICARUS_DIR)/mxu_tb.vvp
$(ICARUS_DIR)/mxu_tb.vvp: $(ICARUS_DIR)/params $(ICARUS_PREREQS)
	$(call icarus_build,$(ICARUS_DIR),$(RTL_PARAMS))
else
icarus-model:
	$(error icarus-model needs ICARUS_DIR=build/icarus/NAME and RTL_PARAMS="-GROWS=.. ...")
endif

# ---- what the RTL tests need -------------------------------------------------
RTL_TEST_SHAPES := 4x4 8x8 16x16 8x16
TEST_DEPS += $(foreach s,$(RTL_TEST_SHAPES),$(RTL_BUILD)/rtl/$(s)/libmxu_rtl.so) \
	$(RTL_BUILD)/rtl/16x16/libmxu_rtl_fast.so $(RTL_BUILD)/icarus/4x4/mxu_tb.vvp

.PHONY: rtl-model icarus-model
