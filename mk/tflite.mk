# TFLite frontend (compiler/tflite*.c): the interpreter references of
# tests/tflite and the fuzz target.
#
# `make test` installs the references like any dependency: PyPI's ai-edge-litert
# (the TFLite interpreter), onnxruntime and numpy with pip, for the `python3` on
# PATH, into a virtual environment under $(BUILD) (stamp: $(TFLITE_VENV)/.stamp).
# tests/tflite/reference.py then saves the interpreter's outputs for the
# committed models/tflite/*.tflite on Fashion-MNIST's test set. If pip fails
# (no network), the comparison tests skip with a loud message
# ($(TFLITE_REF)/SKIPPED says why) and the next `make test` tries again.
TFLITE_VENV := $(BUILD)/tflite-venv
TFLITE_PY := $(TFLITE_VENV)/bin/python
TFLITE_REF := $(BUILD)/tflite-ref
TFLITE_MODELS := $(wildcard models/tflite/*.tflite)
TFLITE_PIP_PACKAGES ?= ai-edge-litert onnxruntime onnx numpy
TFLITE_REF_IMAGES ?= 10000

$(TFLITE_VENV)/.stamp:
	@mkdir -p $(BUILD)
	@if python3 -m venv $(TFLITE_VENV) && \
	    $(TFLITE_PY) -m pip install --disable-pip-version-check -q $(TFLITE_PIP_PACKAGES); then \
	    touch $@; \
	else \
	    echo; echo "*** WARNING: pip could not install $(TFLITE_PIP_PACKAGES) for $$(command -v python3):"; \
	    echo "*** the TFLite interpreter and ONNX Runtime comparisons will be SKIPPED ***"; echo; \
	fi

$(TFLITE_REF)/.stamp: $(TFLITE_MODELS) tests/tflite/reference.py tests/tflite/onnx_reference.py \
		| $(TFLITE_VENV)/.stamp
	@rm -rf $(TFLITE_REF) && mkdir -p $(TFLITE_REF)
	@if [ -f $(TFLITE_VENV)/.stamp ]; then \
	    $(TFLITE_PY) tests/tflite/reference.py models/tflite $(TFLITE_REF) $(TFLITE_REF_IMAGES) && \
	    $(TFLITE_PY) tests/tflite/onnx_reference.py $(TFLITE_REF) $(TFLITE_REF_IMAGES) && touch $@; \
	else \
	    echo "pip install of $(TFLITE_PIP_PACKAGES) failed (see the make output)" > $(TFLITE_REF)/SKIPPED; \
	fi
TEST_DEPS += $(TFLITE_REF)/.stamp

# ---- fuzzing: libFuzzer on mxu_tflite_load_buffer, seeded with the models ----
FUZZ_TFLITE_BIN := $(FUZZ_DIR)/fuzz_tflite
FUZZ_TFLITE_DIR := $(FUZZ_DIR)/tflite
FUZZ_TFLITE_SECONDS ?= $(FUZZ_SECONDS)

$(FUZZ_TFLITE_BIN): tools/fuzz/fuzz_tflite.c $(FUZZ_LIB_OBJS) $(FUZZ_ONNX_PB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-tflite: $(FUZZ_TFLITE_BIN)
	@mkdir -p $(FUZZ_TFLITE_DIR)/artifacts $(FUZZ_TFLITE_DIR)/work $(FUZZ_TFLITE_DIR)/corpus
	cp $(TFLITE_MODELS) $(FUZZ_TFLITE_DIR)/corpus/
	cd $(FUZZ_TFLITE_DIR) && $(abspath $(FUZZ_TFLITE_BIN)) -max_total_time=$(FUZZ_TFLITE_SECONDS) \
	    -jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS) -print_final_stats=1 -max_len=131072 \
	    -artifact_prefix=artifacts/ work corpus

fuzz: fuzz-tflite
.PHONY: fuzz-tflite
