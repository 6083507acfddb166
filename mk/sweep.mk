# Architecture exploration (docs/exploration.md): `make sweep-docs` reruns the
# study's sweeps on the model and copies their plots to docs/img/. The area comes
# from scripts/synth_area.sh (yosys generic synthesis, cached under build/synth/):
# a first run synthesizes nine configurations, a few minutes of CPU each (the
# 32-wide ones the longest); later runs reuse the synthesis and the measured
# configurations (build/sweep/study/*/runs). One job: the area runs are yosys
# processes of 1-2 GB each, one at a time on a 2-core machine.
SWEEP_STUDY := $(BUILD)/sweep/study
SWEEP_ALEXNET := /usr/share/darknet/cfg/alexnet.cfg

sweep-docs: $(MXU) | $(PLOTS_DEPS_STAMP)
	@bash scripts/install-deps.sh synth
	$(MXU) sweep $(SWEEP_ALEXNET) --rows 8,16,32 --cols 8,16,32 --area generic -o $(SWEEP_STUDY)/alexnet
	$(MXU) sweep $(SWEEP_ALEXNET) --shapes 16x16,32x32 --bw 4,8,16,32 --no-area -o $(SWEEP_STUDY)/bandwidth
	cp $(SWEEP_STUDY)/alexnet/cycles.png docs/img/sweep-alexnet-cycles.png
	cp $(SWEEP_STUDY)/alexnet/utilization.png docs/img/sweep-alexnet-utilization.png
	cp $(SWEEP_STUDY)/alexnet/area.png docs/img/sweep-alexnet-area.png
	cp $(SWEEP_STUDY)/bandwidth/cycles.png docs/img/sweep-alexnet-bandwidth.png

.PHONY: sweep-docs
