# make fuzz: libFuzzer on the program loader (tools/fuzz/fuzz_mxp.c).
# The target and every library source are compiled with clang-14 under
# ASan + UBSan + libFuzzer coverage into build/fuzz (never the gcc objects).
# The seed corpus is the examples assembled into .mxp files. Runs for
# FUZZ_SECONDS (default 60); findings land in build/fuzz/artifacts.
# Needs Debian's clang-14 and libclang-rt-14-dev. Not part of `make test`.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra $(FUZZ_SAN)
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS)) $(FUZZ_DIR)/obj/gen/mxu_isa.o
FUZZ_BIN := $(FUZZ_DIR)/fuzz_mxp
FUZZ_CORPUS := $(FUZZ_DIR)/corpus
FUZZ_SEEDS := $(patsubst examples/%.s,$(FUZZ_CORPUS)/%.mxp,$(wildcard examples/*.s))

FUZZ_DEPS_STAMP := $(BUILD)/.deps-fuzz-ok
$(FUZZ_DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	@bash scripts/install-deps.sh fuzz
	@touch $@

$(FUZZ_DIR)/obj/%.o: %.c $(ISA_GEN) | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
$(FUZZ_DIR)/obj/gen/mxu_isa.o: $(GEN)/mxu_isa.c $(ISA_GEN) | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_BIN): tools/fuzz/fuzz_mxp.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(FUZZ_CORPUS)/%.mxp: examples/%.s $(MXU)
	@mkdir -p $(@D)
	$(MXU) asm $< -o $@

fuzz: $(FUZZ_BIN) $(FUZZ_SEEDS)
	@mkdir -p $(FUZZ_DIR)/artifacts $(FUZZ_DIR)/work
	cd $(FUZZ_DIR) && $(abspath $(FUZZ_BIN)) -max_total_time=$(FUZZ_SECONDS) -jobs=$(FUZZ_JOBS) \
	    -workers=$(FUZZ_JOBS) -print_final_stats=1 -artifact_prefix=artifacts/ work corpus

.PHONY: fuzz
-include $(FUZZ_LIB_OBJS:.o=.d)
