# Benchmarks: `make bench` builds BENCH_DEPS, then runs every command named in
# BENCH_RUNS, in order. Other fragments hook in with
#     BENCH_DEPS += $(BUILD)/bin/bench_foo
#     BENCH_FOO_CMD = $(BUILD)/bin/bench_foo --json
#     BENCH_RUNS += BENCH_FOO_CMD
# (both lists are expanded when the recipe runs, so fragments included after this
# one count too), or with a rule of their own: `bench:: deps` + recipe.

BENCH_BIN_DIR := $(BUILD)/bin
BENCH_OUT := $(BUILD)/bench

# ---- simulation speed of the Verilated 16x16 design ----------------------------
BENCH_SIMSPEED := $(BENCH_BIN_DIR)/bench_simspeed
BENCH_RTL_DIR := $(patsubst %/san,%,$(BUILD))/rtl/16x16
BENCH_SIMSPEED_LIBS := $(BENCH_RTL_DIR)/libmxu_rtl.so $(BENCH_RTL_DIR)/libmxu_rtl_native.so \
	$(BENCH_RTL_DIR)/libmxu_rtl_fast.so

$(BENCH_SIMSPEED): tools/bench/bench_simspeed.c $(LIBMXU_A) $(ISA_GEN)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIBMXU_A) $(LDLIBS)

BENCH_DEPS += $(BENCH_SIMSPEED) $(BENCH_SIMSPEED_LIBS)
BENCH_SIMSPEED_CMD = mkdir -p $(BENCH_OUT) && $(BENCH_SIMSPEED) --json-out $(BENCH_OUT)/simspeed.json \
	$(BENCH_SIMSPEED_LIBS)
BENCH_RUNS += BENCH_SIMSPEED_CMD

bench::
	@$(MAKE) --no-print-directory $(BENCH_DEPS)
	@set -e; $(foreach run,$(BENCH_RUNS),echo "== $(run) =="; $($(run));)

.PHONY: bench
