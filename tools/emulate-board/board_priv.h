/* Internals of the emulated board, shared by its parts:
 *   chip.c   the FT232H's descriptors and vendor requests (control transfers)
 *   usbfs.c  the usbfs ioctls libusb issues, answered on umockdev's worker thread
 *   pump.c   the thread between the bulk endpoints and the engine
 *   board.c  the testbed and the life cycle
 * Fields of struct board are guarded by its lock unless noted. */
#ifndef MXU_EMU_BOARD_PRIV_H
#define MXU_EMU_BOARD_PRIV_H

#include <glib.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <umockdev.h>

#include "board.h"
#include "mxu_link.h"

#define EP_IN 0x81u
#define EP_OUT 0x02u
#define MAX_PACKET 512u
#define STATUS_BYTES 2u
#define MODEM_STATUS0 0x31 /* what an idle FT232H reports: CTS, DSR, ... */
#define MODEM_STATUS1 0x60 /* transmitter empty */
#define CHIP_TX_BYTES 16384u /* bytes on their way into IN transfers (chip buffer + what the host
                                controller gathered); beyond it the engine waits */
#define PUMP_CHUNK 4096u
/* Cycles per step: short while a small request is in (a CSR access is answered
 * in well under 128 cycles), longer while data streams or the core computes. */
#define STEP_SHORT 128u
#define STEP_LONG 512u
#define REAP_DEFER_MS 2
#define IDLE_WAIT_US 1000
#define STALL_REPORT_MS 500 /* --verbose: report host bytes stuck this long */
#define IDLE_TICK_WAITS 10 /* an idle engine is still clocked a little every 10 waits */

enum { BITMODE_RESET = 0x00, BITMODE_SYNC_FIFO = 0x40 };

struct urb {
    struct urb *next;
    UMockdevIoctlClient *client; /* who submitted it (reference) */
    UMockdevIoctlData *data;     /* local copy of the client's struct usbdevfs_urb */
    UMockdevIoctlData *buffer;   /* its data buffer (not for bulk IN); NULL when empty */
    struct usbdevfs_urb *u;
    uint8_t *buf;     /* the buffer's local copy; bulk IN: our staging copy */
    int staged;       /* buf is ours: copied into the client's buffer when reaped */
    size_t len, done; /* OUT: bytes the chip took; IN: bytes filled */
};

struct queue {
    struct urb *head, *tail;
};

struct board {
    struct board_options opt;
    struct board_engine engine;
    UMockdevTestbed *tb;  /* a reference (boards side by side share one testbed) */
    char devnode[32];     /* /dev/bus/usb/001/<address> */
    UMockdevIoctlBase *handler;
    GMainContext *worker; /* umockdev's worker context, where the ioctls are answered */

    pthread_t pump;
    int pump_started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;

    /* chip state */
    unsigned bitmode, latency_ms;
    int halt_in, halt_out;
    int unplugged, hung, fault_fired;
    struct queue out_q, in_q, done_q;
    uint8_t in_fifo[CHIP_TX_BYTES]; /* bytes from the engine waiting for an IN transfer */
    size_t in_len;
    long long in_since; /* when the head IN transfer started waiting (ms) */

    /* device-error fault: the engine's next answer is held back and replaced */
    int rewriting;
    mxu_link_decoder dec;
    uint8_t hold[2 * CHIP_TX_BYTES];
    size_t hold_len;

    /* reaping: an empty reap right after another one is held back a little */
    UMockdevIoctlClient *pending_reap;
    GSource *reap_timer;
    int last_reap_empty, wake_scheduled;

    /* traffic */
    long long started_ms;
    uint64_t host_bytes, dev_bytes, packets_in, status_packets, urbs;
};

long long board_now_ms(void);
void board_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* chip.c */
char *chip_sysfs_description(const struct board *b); /* g_free() it */
void chip_control(struct board *b, struct urb *r);

/* usbfs.c: URB bookkeeping (lock held) and the ioctl handlers */
void urb_push(struct queue *q, struct urb *r);
struct urb *urb_pop(struct queue *q);
void urb_free(struct urb *r);
void urb_finish(struct board *b, struct urb *r, int status, size_t actual);
void urb_fail_queue(struct board *b, struct queue *q, int status);
void urb_drop_vanished(struct queue *q);
void usbfs_wake_reaper(struct board *b);
gboolean usbfs_on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user);
void usbfs_on_vanished(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user);

/* pump.c */
void *pump_main(void *arg);

#endif
