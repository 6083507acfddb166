/* The emulated FT232H's (or FT2232H's) side of the control pipe: device, configuration and
 * string descriptors, the sysfs view libusb enumerates, and FTDI's vendor
 * requests (bitmode, latency timer, purge, ...). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "board_priv.h"

/* ---- descriptors ------------------------------------------------------------ */

#define EP(addr) 7, 5, (addr), 2, MAX_PACKET & 0xFF, MAX_PACKET >> 8, 0 /* bulk, 512 bytes */

static const uint8_t ft232h_device[18] = {
    18, 1, 0x00, 0x02, 0x00, 0x00, 0x00, 64, /* USB 2.0, class per interface, ep0 64 bytes */
    0x03, 0x04, 0x14, 0x60, 0x00, 0x09,     /* 0403:6014, bcdDevice 0x0900 (FT232H) */
    1, 2, 3, 1,                             /* manufacturer, product, serial strings; 1 configuration */
};

static const uint8_t ft232h_config[32] = {
    9, 2, 32, 0, 1, 1, 0, 0x80, 45,     /* one interface, bus powered, 90 mA */
    9, 4, 0, 0, 2, 0xFF, 0xFF, 0xFF, 2, /* interface 0: vendor specific, 2 endpoints */
    EP(EP_IN), EP(EP_OUT),
};

static const uint8_t ft2232h_device[18] = {
    18, 1, 0x00, 0x02, 0x00, 0x00, 0x00, 64, 0x03, 0x04, 0x10, 0x60, 0x00, 0x07, /* 0403:6010, 0x0700 */
    1, 2, 3, 1,
};

static const uint8_t ft2232h_config[55] = {
    9, 2, 55, 0, 2, 1, 0, 0x80, 50,     /* two interfaces (channels A and B) */
    9, 4, 0, 0, 2, 0xFF, 0xFF, 0xFF, 2, /* channel A: the FIFO */
    EP(EP_IN), EP(EP_OUT),
    9, 4, 1, 0, 2, 0xFF, 0xFF, 0xFF, 2, /* channel B: unused here */
    EP(0x83), EP(0x04),
};

static void chip_descriptors(const struct board *b, const uint8_t **dev, const uint8_t **cfg, size_t *cfg_len)
{
    *dev = b->opt.ft2232h ? ft2232h_device : ft232h_device;
    *cfg = b->opt.ft2232h ? ft2232h_config : ft232h_config;
    *cfg_len = b->opt.ft2232h ? sizeof ft2232h_config : sizeof ft232h_config;
}

static int string_descriptor(const struct board *b, unsigned index, uint8_t *out, size_t cap)
{
    uint8_t d[256];
    size_t n;
    if (index == 0) {
        const uint8_t langs[4] = {4, 3, 0x09, 0x04}; /* English (US) */
        memcpy(d, langs, n = 4);
    } else {
        const char *s = index == 1 ? "FTDI" : index == 2 ? b->opt.product : index == 3 ? b->opt.serial : NULL;
        if (!s)
            return -1;
        size_t len = strlen(s) < 126 ? strlen(s) : 126;
        n = 2 + 2 * len;
        d[0] = (uint8_t)n;
        d[1] = 3;
        for (size_t i = 0; i < len; i++)
            d[2 + 2 * i] = (uint8_t)s[i], d[3 + 2 * i] = 0;
    }
    n = n < cap ? n : cap;
    memcpy(out, d, n);
    return (int)n;
}

static int get_descriptor(const struct board *b, unsigned type, unsigned index, uint8_t *out, size_t cap)
{
    const uint8_t *dev, *cfg, *src;
    size_t cfg_len, n;
    chip_descriptors(b, &dev, &cfg, &cfg_len);
    if (type == 1)
        src = dev, n = 18;
    else if (type == 2 && index == 0)
        src = cfg, n = cfg_len;
    else if (type == 3)
        return string_descriptor(b, index, out, cap);
    else
        return -1;
    n = n < cap ? n : cap;
    memcpy(out, src, n);
    return (int)n;
}

/* The sysfs and udev view of the device (what libusb enumerates). */
char *chip_sysfs_description(const struct board *b)
{
    const uint8_t *dev, *cfg;
    size_t cfg_len;
    chip_descriptors(b, &dev, &cfg, &cfg_len);
    unsigned pid = dev[10] | dev[11] << 8, bcd = dev[12] | dev[13] << 8;
    unsigned a = b->opt.address;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%u\n"
                              "N: bus/usb/001/%03u\n"
                              "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
                              "E: BUSNUM=001\nE: DEVNUM=%03u\nE: DEVNAME=%s\n"
                              "A: busnum=1\\n\nA: devnum=%u\\n\nA: speed=480\\n\n"
                              "A: bConfigurationValue=1\\n\nA: idVendor=0403\\n\n",
                           a - 1, a, a, b->devnode, a);
    g_string_append_printf(s, "E: PRODUCT=403/%x/%x\nA: idProduct=%04x\\n\nH: descriptors=", pid, bcd, pid);
    for (size_t i = 0; i < 18; i++)
        g_string_append_printf(s, "%02X", dev[i]);
    for (size_t i = 0; i < cfg_len; i++)
        g_string_append_printf(s, "%02X", cfg[i]);
    g_string_append(s, "\n");
    return g_string_free(s, FALSE);
}

/* ---- the chip's control requests ---------------------------------------------- */

static int vendor_out(struct board *b, unsigned req, unsigned value, unsigned index)
{
    if ((index & 0xFF) > 1) /* only channel A (1; 0 is taken as A too) */
        return -1;
    switch (req) {
    case 0x00: /* reset (0), purge the read buffer (1), purge the write buffer (2) */
        if (value == 0 || value == 1)
            b->in_len = 0;
        return value <= 2 ? 0 : -1;
    case 0x0B: /* bitmode: mode in the high byte, pin mask in the low one */
        b->bitmode = value >> 8;
        if (b->opt.verbose)
            board_say("chip: bitmode 0x%02x", b->bitmode);
        return 0;
    case 0x09: /* latency timer */
        if (value < 1 || value > 255)
            return -1;
        b->latency_ms = value;
        return 0;
    case 0x01: case 0x02: case 0x03: case 0x04: case 0x06: case 0x07: /* modem, flow, baud, data, chars */
        return 0;
    default:
        return -1;
    }
}

static int vendor_in(struct board *b, unsigned req, uint8_t *out, size_t cap)
{
    uint8_t v[2];
    size_t n;
    switch (req) {
    case 0x05: /* poll modem status */
        v[0] = MODEM_STATUS0, v[1] = MODEM_STATUS1, n = 2;
        break;
    case 0x0A: /* latency timer */
        v[0] = (uint8_t)b->latency_ms, n = 1;
        break;
    case 0x0C: /* pins */
        v[0] = 0xFF, n = 1;
        break;
    case 0x90: /* EEPROM word: blank */
        v[0] = v[1] = 0xFF, n = 2;
        break;
    default:
        return -1;
    }
    n = n < cap ? n : cap;
    memcpy(out, v, n);
    return (int)n;
}

/* A control URB: 8 setup bytes, then the data stage. Answered at once. */
void chip_control(struct board *b, struct urb *r)
{
    int n = -1;
    if (r->len >= 8) {
        const uint8_t *s = r->buf;
        unsigned type = s[0], req = s[1], value = s[2] | s[3] << 8, index = s[4] | s[5] << 8, length = s[6] | s[7] << 8;
        size_t cap = length < r->len - 8 ? length : r->len - 8;
        uint8_t *data = r->buf + 8;
        if (type == 0x80 && req == 6)
            n = get_descriptor(b, value >> 8, value & 0xFF, data, cap);
        else if (type == 0x80 && req == 0 && cap >= 2)
            data[0] = data[1] = 0, n = 2;
        else if (type == 0x00 && req == 9)
            n = 0;
        else if (type == 0x40)
            n = vendor_out(b, req, value, index);
        else if (type == 0xC0)
            n = vendor_in(b, req, data, cap);
        if (n < 0 && b->opt.verbose)
            board_say("chip: control request 0x%02x/0x%02x stalled", type, req);
    }
    urb_finish(b, r, n < 0 ? -EPIPE : 0, n < 0 ? 0 : (size_t)n);
}
