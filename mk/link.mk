# Host link (docs/link.md): what its tests need, and lint of the link top.
#
#   make build/rtl/4x4/libmxu_rtl_link.so     the device behind its link (mk/rtl.mk)
#   make lint-link                            Verilator -Wall + Icarus on mxu_link_top
#
# mk/lint.mk lints the design from mxu_top, which does not reach the link
# modules; this lints them from their own top, with the same rules.

LINK_LINT_STAMP := $(BUILD)/lint/link-ok
LINK_TEST_SO := $(patsubst %/san,%,$(BUILD))/rtl/4x4/libmxu_rtl_link.so

$(LINK_LINT_STAMP): $(sort $(wildcard rtl/*.v)) $(GEN)/mxu_isa.vh | $(DEPS_STAMP)
	@mkdir -p $(@D)
	verilator --lint-only -Wall -I$(GEN) -Irtl --top-module mxu_link_top $(sort $(wildcard rtl/*.v))
	verilator --lint-only -Wall -DMXU_ARRAY_MODEL -I$(GEN) -Irtl --top-module mxu_link_top $(sort $(wildcard rtl/*.v))
	@out=$$(iverilog -g2012 -Wall -I$(GEN) -s mxu_link_top -o $(BUILD)/lint/mxu_link_top.vvp $(sort $(wildcard rtl/*.v)) 2>&1); \
	  if [ -n "$$out" ]; then echo "$$out"; echo "lint: iverilog is not clean on mxu_link_top"; exit 1; fi
	@touch $@

lint-link: $(LINK_LINT_STAMP)
TEST_DEPS += lint-link $(LINK_TEST_SO)
.PHONY: lint-link
