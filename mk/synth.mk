# Synthesis with Debian's yosys (group `synth` of scripts/install-deps.sh):
#
#   make synth    generic `synth` of mxu_top at 8x8 and 16x16 (the area model's
#                 cells), synth_ice40 of a small (4x4) board top, synth_xilinx
#                 (7-series) of mxu_top at 8x8 and 16x16 and of the Nexys Video top,
#                 one after the other; results in build/synth/*.json and the tables
#                 in docs/fpga.md. Runs are cached: only changed sources or
#                 parameters synthesize again.
#   scripts/synth_area.sh ROWS COLS [UB ACC WB PARAM]   one configuration, one JSON line
#
# Not part of `make` or `make test`: about 45 minutes of CPU for all six targets
# (a generic run about 5, a 7-series 16x16 about 12); docs/fpga.md lists each.
SYNTH_DEPS_STAMP := $(BUILD)/.deps-synth-ok
$(SYNTH_DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	@bash scripts/install-deps.sh synth
	@touch $@

synth: $(SYNTH_DEPS_STAMP) $(ISA_GEN)
	MXU_BUILD=$(BUILD) /usr/bin/python3 scripts/fpga_synth.py all

.PHONY: synth
