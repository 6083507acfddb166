/* The emulated board's testbed and life cycle (the parts: board_priv.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "board_priv.h"

long long board_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void board_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mxu-emulate-board: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- life cycle ----------------------------------------------------------------------- */

int board_start(const struct board_options *o, struct board_engine *engine, struct board *beside,
                struct board **out, char *err, size_t errlen)
{
    *out = NULL;
    struct board *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        engine->ops->destroy(engine->state);
        return -1;
    }
    b->opt = *o;
    if (!b->opt.address)
        b->opt.address = 2;
    snprintf(b->devnode, sizeof b->devnode, "/dev/bus/usb/001/%03u", b->opt.address);
    b->engine = *engine;
    b->latency_ms = 16; /* the chip's power-on default */
    b->started_ms = board_now_ms();
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->wake, NULL);
    GError *gerr = NULL;
    char *desc = NULL;
    b->tb = beside ? g_object_ref(beside->tb) : umockdev_testbed_new();
    b->handler = umockdev_ioctl_base_new();
    g_signal_connect(b->handler, "handle-ioctl", G_CALLBACK(usbfs_on_ioctl), b);
    g_signal_connect(b->handler, "client-vanished", G_CALLBACK(usbfs_on_vanished), b);
    if (mxu_link_decoder_init(&b->dec, MXU_LINK_LEN_MAX)) {
        snprintf(err, errlen, "out of memory");
        board_stop(b);
        return -1;
    }
    if (!umockdev_testbed_attach_ioctl(b->tb, b->devnode, b->handler, &gerr))
        goto fail;
    desc = chip_sysfs_description(b);
    if (!umockdev_testbed_add_from_string(b->tb, desc, &gerr))
        goto fail;
    g_free(desc);
    desc = NULL;
    if (pthread_create(&b->pump, NULL, pump_main, b)) {
        snprintf(err, errlen, "cannot start the pump thread");
        board_stop(b);
        return -1;
    }
    b->pump_started = 1;
    *out = b;
    return 0;
fail:
    snprintf(err, errlen, "umockdev: %s", gerr ? gerr->message : "cannot set up the testbed");
    if (gerr)
        g_error_free(gerr);
    g_free(desc);
    board_stop(b);
    return -1;
}

void board_halt(struct board *b)
{
    if (!b->pump_started)
        return;
    pthread_mutex_lock(&b->lock);
    b->stop = 1;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->pump, NULL);
    b->pump_started = 0;
}

void board_stop(struct board *b)
{
    if (!b)
        return;
    board_halt(b);
    if (b->tb && b->handler)
        umockdev_testbed_detach_ioctl(b->tb, b->devnode, NULL);
    struct queue *qs[] = {&b->out_q, &b->in_q, &b->done_q};
    for (size_t i = 0; i < 3; i++) {
        struct urb *r;
        while ((r = urb_pop(qs[i])))
            urb_free(r);
    }
    if (b->pending_reap)
        g_object_unref(b->pending_reap);
    if (b->reap_timer) {
        g_source_destroy(b->reap_timer);
        g_source_unref(b->reap_timer);
    }
    if (b->handler)
        g_object_unref(b->handler);
    if (b->tb)
        g_object_unref(b->tb);
    if (b->worker)
        g_main_context_unref(b->worker);
    b->engine.ops->destroy(b->engine.state);
    mxu_link_decoder_free(&b->dec);
    pthread_cond_destroy(&b->wake);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

void board_report(struct board *b, FILE *f)
{
    char engine[300];
    b->engine.ops->describe(b->engine.state, engine, sizeof engine); /* the pump has stopped */
    fprintf(f, "mxu-emulate-board: %.1f s; %s\n", (double)(board_now_ms() - b->started_ms) / 1e3, engine);
    pthread_mutex_lock(&b->lock);
    fprintf(f, "mxu-emulate-board: %llu bytes from the host, %llu to it in %llu IN packets (%llu status only), "
               "%llu URBs\n",
            (unsigned long long)b->host_bytes, (unsigned long long)b->dev_bytes,
            (unsigned long long)b->packets_in, (unsigned long long)b->status_packets,
            (unsigned long long)b->urbs);
    pthread_mutex_unlock(&b->lock);
}
