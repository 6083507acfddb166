# Architecture exploration (docs/exploration.md): `make sweep-docs` reruns the
# study's sweeps on the model and copies their plots to docs/img/. The area comes
# from scripts/synth_area.sh (yosys, cached under build/synth/): a first run
# synthesizes nine configurations, which takes hours on 2 cores; later runs
# reuse the synthesis and the measured configurations (build/sweep/study/*/runs).
SWEEP_STUDY := $(BUILD)/sweep/study
SWEEP_ALEXNET := /usr/share/darknet/cfg/alexnet.cfg

sweep-docs: $(MXU) | $(PLOTS_DEPS_STAMP)
	@bash scripts/install-deps.sh synth
	$(MXU) sweep $(SWEEP_ALEXNET) --rows 8,16,32 --cols 8,16,32 --area generic --area-timeout 14400 \
	    --jobs 2 -o $(SWEEP_STUDY)/alexnet
	$(MXU) sweep $(SWEEP_ALEXNET) --shapes 16x16,32x32 --bw 4,8,16,32 --no-area -o $(SWEEP_STUDY)/bandwidth
	cp $(SWEEP_STUDY)/alexnet/cycles.png docs/img/sweep-alexnet-cycles.png
	cp $(SWEEP_STUDY)/alexnet/utilization.png docs/img/sweep-alexnet-utilization.png
	cp $(SWEEP_STUDY)/alexnet/area.png docs/img/sweep-alexnet-area.png
	cp $(SWEEP_STUDY)/bandwidth/cycles.png docs/img/sweep-alexnet-bandwidth.png

.PHONY: sweep-docs
