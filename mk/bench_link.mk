# Host-link benchmark (tools/bench/bench_link.c): throughput and protocol
# efficiency through the emulated board, one AlexNet layer through the link,
# and every AlexNet layer's transfer time at a real FT232H's ~40 MB/s.
# Figures: docs/perf.md, "Host link".
#
#   make bench-link        (also part of `make bench`)

BENCH_LINK := $(BENCH_BIN_DIR)/bench_link
BENCH_LINK_SO := $(patsubst %/san,%,$(BUILD))/rtl/16x16/libmxu_rtl_link_fast.so

$(BENCH_LINK): tools/bench/bench_link.c tools/bench/alexnet_layers.h $(LIBMXU_A) $(ISA_GEN)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBMXU_A) $(LDLIBS)

BENCH_DEPS += $(BENCH_LINK) $(BENCH_LINK_SO)
BENCH_LINK_CMD = mkdir -p $(BENCH_OUT) && $(BENCH_LINK) --json-out $(BENCH_OUT)/link.json
BENCH_RUNS += BENCH_LINK_CMD

bench-link: $(BENCH_LINK) $(BENCH_LINK_SO)
	$(BENCH_LINK) --json-out $(BENCH_OUT)/link.json

.PHONY: bench-link
