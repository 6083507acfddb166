# mxu — the one entry point.
#   make            build libmxu, the mxu tool and the default RTL model
#   make test       build and run every test (ends with Criterion's summary)
#   make test SAN=1 the C tests under ASan + UBSan
#   make demo       a tour: assemble, run and check programs on every backend
#   make bench      benchmarks; figures go to docs/perf.md
#   make fuzz       libFuzzer on the program loader (bounded time)
#   make plots      docs/img plots from the benchmarks (gnuplot)
#   make install PREFIX=/usr/local
# Build outputs go under build/ only.

SHELL := /bin/bash
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# Build in parallel on every core by default (the Verilator models dominate);
# `make -j1` still works.
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)

SAN ?= 0
PREFIX ?= /usr/local
ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= gcc
CXX ?= g++
GEN := $(BUILD)/gen
CPPFLAGS += -I$(GEN) -Ihostlib -Idriver -Isim/model -Isim/verilator -Icompiler -D_POSIX_C_SOURCE=200809L
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -fPIC $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS += -lm -ldl -lz -lpthread

# ---- dependencies: one idempotent script, run once per build tree ----------
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): scripts/install-deps.sh
	@mkdir -p $(@D)
	@bash scripts/install-deps.sh
	@touch $@

# ---- the ISA: one source, generated into C and Verilog ---------------------
ISAGEN := $(BUILD)/tools/isagen
ISA_GEN := $(GEN)/mxu_isa.h $(GEN)/mxu_isa.c $(GEN)/mxu_isa.vh $(GEN)/isa_tables.md
$(ISAGEN): tools/isagen.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -o $@ $<
$(ISA_GEN) &: isa/mxu.isa $(ISAGEN)
	@mkdir -p $(GEN)
	$(ISAGEN) $< $(GEN)/mxu_isa.h $(GEN)/mxu_isa.c $(GEN)/mxu_isa.vh $(GEN)/isa_tables.md
isa: $(ISA_GEN)

# ---- libmxu: every C file of the library folders ---------------------------
LIB_SRCS := $(sort $(wildcard hostlib/*.c driver/*.c sim/model/*.c compiler/*.c))
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS)) $(BUILD)/obj/gen/mxu_isa.o
LIBMXU_A := $(BUILD)/lib/libmxu.a
LIBMXU_SO := $(BUILD)/lib/libmxu.so

$(BUILD)/obj/%.o: %.c $(ISA_GEN) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/obj/gen/mxu_isa.o: $(GEN)/mxu_isa.c $(ISA_GEN)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(LIBMXU_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
$(LIBMXU_SO): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

PUBLIC_HEADERS := hostlib/mxu.h driver/mxu_error.h driver/mxu_config.h driver/mxu_program.h \
                  hostlib/golden.h hostlib/mxu_numerics.h hostlib/mxu_builder.h hostlib/mxu_lower.h \
                  hostlib/mxu_layers.h hostlib/mxu_execute.h hostlib/mxu_reference.h \
                  hostlib/mxu_dataset.h compiler/mxu_compiler.h compiler/mxu_graph.h

# ---- the mxu tool ----------------------------------------------------------
MXU_SRCS := $(sort $(wildcard tools/mxu/*.c))
MXU_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(MXU_SRCS))
MXU := $(BUILD)/bin/mxu
$(MXU): $(MXU_OBJS) $(LIBMXU_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- component fragments (RTL, tests, fuzz, bench, ...) --------------------
include $(sort $(wildcard mk/*.mk))

all: $(LIBMXU_A) $(LIBMXU_SO) $(MXU) $(ALL_EXTRA)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/mxu
	install -m 755 $(MXU) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIBMXU_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBMXU_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(PUBLIC_HEADERS) $(GEN)/mxu_isa.h $(DESTDIR)$(PREFIX)/include/mxu/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(shell sed -n 's/^version \([0-9]*\) \([0-9]*\).*/\1.\2/p' isa/mxu.isa)|' \
	    scripts/mxu.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mxu.pc

clean:
	rm -rf build

.PHONY: all install clean isa
-include $(LIB_OBJS:.o=.d) $(MXU_OBJS:.o=.d)
