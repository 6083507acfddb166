# USB: the FTDI transport and the usb backend in libmxu (libusb-1.0), and the
# emulated board tools/emulate-board/ -> $(BUILD)/bin/mxu-emulate-board
# (umockdev + glib, only for the harness). docs/usb.md explains both.
USB_PKGS := libusb-1.0
EMU_PKGS := umockdev-1.0 glib-2.0 gobject-2.0
CPPFLAGS += $(shell pkg-config --cflags $(USB_PKGS))
LDLIBS += $(shell pkg-config --libs $(USB_PKGS))

EMU_SRCS := $(sort $(wildcard tools/emulate-board/*.c))
EMU_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(EMU_SRCS))
EMU_BIN := $(BUILD)/bin/mxu-emulate-board
$(EMU_OBJS): CPPFLAGS += $(shell pkg-config --cflags $(EMU_PKGS))
$(EMU_BIN): $(EMU_OBJS) $(LIBMXU_A)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(EMU_PKGS)) $(LDLIBS)

# The boards the tests emulate: a 4x4 array, and 16x16 for the examples and models.
USB_TEST_LINK_SOS := $(foreach s,4x4 16x16,$(patsubst %/san,%,$(BUILD))/rtl/$(s)/libmxu_rtl_link.so)

ALL_EXTRA += $(EMU_BIN)
TEST_DEPS += $(EMU_BIN) $(USB_TEST_LINK_SOS)
TEST_ENV += MXU_EMULATE_BOARD=$(abspath $(EMU_BIN))

install: install-emulate-board
install-emulate-board: $(EMU_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(EMU_BIN) $(DESTDIR)$(PREFIX)/bin/

.PHONY: install-emulate-board
-include $(EMU_OBJS:.o=.d)
