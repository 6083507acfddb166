# RTL lint: Verilator -Wall and Icarus elaboration of mxu_top with every rtl/*.v.
# Verilator twice: with the systolic array (the design) and with the array's
# functional model (MXU_ARRAY_MODEL, the `fast` simulator variant).
# Both must be clean (any Icarus warning fails too); `make test` depends on it.
RTL_SRCS := $(sort $(wildcard rtl/*.v))
LINT_STAMP := $(BUILD)/lint/ok

$(LINT_STAMP): $(RTL_SRCS) $(GEN)/mxu_isa.vh | $(DEPS_STAMP)
	@mkdir -p $(@D)
	verilator --lint-only -Wall -I$(GEN) -Irtl --top-module mxu_top $(RTL_SRCS)
	verilator --lint-only -Wall -DMXU_ARRAY_MODEL -I$(GEN) -Irtl --top-module mxu_top $(RTL_SRCS)
	@out=$$(iverilog -g2012 -Wall -I$(GEN) -s mxu_top -o $(BUILD)/lint/mxu_top.vvp $(RTL_SRCS) 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; echo "lint: iverilog is not clean"; exit 1; fi
	@touch $@

lint: $(LINT_STAMP)
TEST_DEPS += lint
.PHONY: lint
