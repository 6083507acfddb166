# Data-set reader fuzzing (`make fuzz` runs it before the program loader's):
# libFuzzer on mxu_dataset_load / mxu_labels_load / mxu_dataset_image
# (tools/fuzz/fuzz_dataset.c), seeded with small IDX, PGM and PPM files, plain and
# gzip-compressed. Only hostlib/dataset.c and the error module are linked: the
# readers need nothing else. Runs for FUZZ_DATASET_SECONDS (default FUZZ_SECONDS);
# findings land in build/fuzz/dataset-artifacts.
FUZZ_DATASET_BIN := $(FUZZ_DIR)/fuzz_dataset
FUZZ_DATASET_SECONDS ?= $(FUZZ_SECONDS)
FUZZ_DATASET_CORPUS := $(FUZZ_DIR)/dataset-corpus
FUZZ_DATASET_OBJS := $(FUZZ_DIR)/obj/hostlib/dataset.o $(FUZZ_DIR)/obj/driver/mxu_error.o

$(FUZZ_DATASET_BIN): tools/fuzz/fuzz_dataset.c $(FUZZ_DATASET_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lz -lm

# Seeds: IDX3 images (2 of 2x3), IDX4 RGB, IDX1 labels, PGM with a comment,
# 16-bit PGM, a two-image PPM stream; each also gzip-compressed.
$(FUZZ_DATASET_CORPUS)/.stamp: mk/fuzz_dataset.mk
	@mkdir -p $(@D)
	printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x03abcdefghijkl' > $(@D)/images.idx
	printf '\x00\x00\x08\x04\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03rgbRGB' > $(@D)/rgb.idx
	printf '\x00\x00\x08\x01\x00\x00\x00\x04\x01\x02\x03\x09' > $(@D)/labels.idx
	printf 'P5\n# comment\n3 2\n255\n\x01\x02\x03\x04\x05\xff' > $(@D)/gray.pgm
	printf 'P5 2 1 65535\n\x12\x34\xff\xff' > $(@D)/wide.pgm
	printf 'P6 1 1 15\n\x01\x02\x03P6 1 1 255\n\x10\x20\x30' > $(@D)/two.ppm
	for f in images.idx rgb.idx labels.idx gray.pgm wide.pgm two.ppm; do \
	    gzip -9 -n -c $(@D)/$$f > $(@D)/$$f.gz; done
	@touch $@

fuzz-dataset: $(FUZZ_DATASET_BIN) $(FUZZ_DATASET_CORPUS)/.stamp
	@mkdir -p $(FUZZ_DIR)/dataset-artifacts $(FUZZ_DIR)/dataset-work
	cd $(FUZZ_DIR) && $(abspath $(FUZZ_DATASET_BIN)) -max_total_time=$(FUZZ_DATASET_SECONDS) \
	    -jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS) -print_final_stats=1 -max_len=8192 \
	    -artifact_prefix=dataset-artifacts/ dataset-work dataset-corpus

fuzz: fuzz-dataset
.PHONY: fuzz-dataset
