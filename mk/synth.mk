# Synthesis with Debian's yosys (group `synth` of scripts/install-deps.sh):
#
#   make synth    synth_xilinx (7-series) of the Nexys Video top and of mxu_top at
#                 8x8 and 16x16, synth_ice40 of a small (4x4) board top, generic
#                 `synth` of 8x8 and 16x16 (the area model's cells), one after the
#                 other; results in build/synth/*.json and the table in docs/fpga.md.
#                 Runs are cached: only changed sources or parameters synthesize again.
#   scripts/synth_area.sh ROWS COLS [UB ACC WB PARAM]   one configuration, one JSON line
#
# Not part of `make` or `make test`: a full run takes about an hour on 2 cores.
SYNTH_DEPS_STAMP := $(BUILD)/.deps-synth-ok
$(SYNTH_DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	@bash scripts/install-deps.sh synth
	@touch $@

synth: $(SYNTH_DEPS_STAMP) $(ISA_GEN)
	MXU_BUILD=$(BUILD) /usr/bin/python3 scripts/fpga_synth.py all

.PHONY: synth
