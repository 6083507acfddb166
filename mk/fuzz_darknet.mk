# Darknet frontend fuzzing (`make fuzz` runs it before the program loader's):
# libFuzzer on mxu_darknet_load_streams (tools/fuzz/fuzz_darknet.c), seeded with
# Debian's cfgs and a cfg+weights input, with a dictionary of the section names
# and keys those cfgs use. Runs for FUZZ_DARKNET_SECONDS (default FUZZ_SECONDS);
# findings land in build/fuzz/darknet-artifacts.
DARKNET_CFG_DIR ?= /usr/share/darknet/cfg
FUZZ_DARKNET_BIN := $(FUZZ_DIR)/fuzz_darknet
FUZZ_DARKNET_SECONDS ?= $(FUZZ_SECONDS)
FUZZ_DARKNET_CORPUS := $(FUZZ_DIR)/darknet-corpus
FUZZ_DARKNET_DICT := $(FUZZ_DIR)/darknet.dict

# Library objects other fragments add (the ONNX protobuf code, defined in
# mk/onnx.mk, which is read after this file): second expansion sees them.
.SECONDEXPANSION:
$(FUZZ_DARKNET_BIN): tools/fuzz/fuzz_darknet.c $(FUZZ_LIB_OBJS) $$(FUZZ_ONNX_PB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# A weights-mode seed: 0x00, the cfg's length (LE16), a one-conv cfg (2 floats
# of parameters), a version 0.2 header with a 64-bit `seen`, then the 2 floats.
FUZZ_DARKNET_SEED_CFG := [net]\nheight=2\nwidth=2\nchannels=1\n[convolutional]\nsize=1\nactivation=leaky\n
$(FUZZ_DARKNET_CORPUS)/.stamp: | $(DEPS_STAMP)
	@mkdir -p $(@D)
	cp $(DARKNET_CFG_DIR)/*.cfg $(@D)/
	cfg='$(FUZZ_DARKNET_SEED_CFG)'; n=$$(printf "$$cfg" | wc -c); \
	{ printf '\000'; printf "\\$$(printf %03o $$n)\000"; printf "$$cfg"; \
	  printf '\000\000\000\000\002\000\000\000\000\000\000\000'; printf '\000%.0s' 1 2 3 4 5 6 7 8; \
	  printf '\000\000\200\077\000\000\000\100'; } > $(@D)/weights-seed
	@touch $@

$(FUZZ_DARKNET_DICT): | $(DEPS_STAMP)
	@mkdir -p $(@D)
	{ grep -ho '^\[[A-Za-z_]*\]' $(DARKNET_CFG_DIR)/*.cfg; \
	  grep -ho '^[a-z_]*=' $(DARKNET_CFG_DIR)/*.cfg; \
	  printf '%s\n' leaky linear logistic relu swish mish -1 -2 -3 ,; } \
	  | sort -u | sed 's/["\\]/\\&/g; s/.*/"&"/' > $@

fuzz-darknet: $(FUZZ_DARKNET_BIN) $(FUZZ_DARKNET_CORPUS)/.stamp $(FUZZ_DARKNET_DICT)
	@mkdir -p $(FUZZ_DIR)/darknet-artifacts $(FUZZ_DIR)/darknet-work
	cd $(FUZZ_DIR) && $(abspath $(FUZZ_DARKNET_BIN)) -max_total_time=$(FUZZ_DARKNET_SECONDS) \
	    -jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS) -print_final_stats=1 -max_len=65536 \
	    -dict=darknet.dict -artifact_prefix=darknet-artifacts/ darknet-work darknet-corpus

fuzz: fuzz-darknet
.PHONY: fuzz-darknet
