# Tests: every tests/*.c (and one level of subfolders) is linked into one Criterion
# binary, so `make test` ends with one summary line. Fragments add what the tests
# need to TEST_DEPS (e.g. the RTL models) and environment to TEST_ENV.
TEST_SRCS := $(sort $(wildcard tests/*.c tests/*/*.c))
TEST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_SRCS))
TEST_BIN := $(BUILD)/tests/mxu_tests
TEST_JOBS ?= 2
$(TEST_OBJS): CPPFLAGS += -Itests

$(TEST_BIN): $(TEST_OBJS) $(LIBMXU_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcriterion $(LDLIBS)

# TEST_DEPS is expanded when `make test` runs, so fragments read after this one
# (tflite.mk, usb.mk, ...) can still add to it.
.SECONDEXPANSION:
test: all $(TEST_BIN) $$(TEST_DEPS)
	@echo "== mxu tests ($(TEST_BIN)) =="
	MXU_BUILD=$(BUILD) MXU_BIN=$(abspath $(MXU)) $(TEST_ENV) $(TEST_BIN) --jobs $(TEST_JOBS) $(TEST_ARGS)

.PHONY: test
-include $(TEST_OBJS:.o=.d)
