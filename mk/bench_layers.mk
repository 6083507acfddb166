# Layer benchmarks for `make bench` (figures in docs/perf.md): the long matmul
# (issue "RTL": >= 97% at 16x16) and AlexNet's layers, on the RTL and the model.
BENCH_DEPS += $(MXU) $(RTL_DEFAULT_SO)
BENCH_MATMUL_CMD = mkdir -p $(BENCH_OUT) && $(MXU) bench matmul --backend rtl && \
	$(MXU) bench matmul --backend rtl --json > $(BENCH_OUT)/matmul_rtl.json
BENCH_ALEXNET_CMD = $(MXU) bench alexnet --backend rtl --json > $(BENCH_OUT)/alexnet_rtl.json && \
	$(MXU) bench alexnet --backend model --json > $(BENCH_OUT)/alexnet_model.json && \
	cat $(BENCH_OUT)/alexnet_rtl.json $(BENCH_OUT)/alexnet_model.json
BENCH_RUNS += BENCH_MATMUL_CMD BENCH_ALEXNET_CMD

# make plots: docs/img/alexnet-16x16.png from the RTL AlexNet benchmark (gnuplot).
PLOTS_DEPS_STAMP := $(BUILD)/.deps-plots-ok
$(PLOTS_DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	@bash scripts/install-deps.sh plots
	@touch $@

plots: $(MXU) $(RTL_DEFAULT_SO) | $(PLOTS_DEPS_STAMP)
	@mkdir -p $(BENCH_OUT)
	$(MXU) bench alexnet --backend rtl --json > $(BENCH_OUT)/alexnet_rtl.json
	scripts/plot-alexnet.sh $(BENCH_OUT)/alexnet_rtl.json docs/img/alexnet-16x16.png

.PHONY: plots
