/* The usbfs ioctls libusb issues against the emulated device node, answered
 * on umockdev's worker thread: URB submit, reap (held back briefly when there
 * is nothing, so a waiting host does not spin), discard, clear-halt, and the
 * small ones (capabilities, claim, ...). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "board_priv.h"

/* ---- URB queues (called with the lock held) ---------------------------------- */

void urb_push(struct queue *q, struct urb *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
}

struct urb *urb_pop(struct queue *q)
{
    struct urb *r = q->head;
    if (r && !(q->head = r->next))
        q->tail = NULL;
    return r;
}

/* Remove and return the first URB of q that matches (by client, or by the
 * client's address of the urb when addr != 0). */
static struct urb *take(struct queue *q, UMockdevIoctlClient *client, unsigned long addr)
{
    struct urb *prev = NULL;
    for (struct urb *r = q->head; r; prev = r, r = r->next) {
        if (addr ? r->data->client_addr != addr : r->client != client)
            continue;
        if (prev)
            prev->next = r->next;
        else
            q->head = r->next;
        if (q->tail == r)
            q->tail = prev;
        return r;
    }
    return NULL;
}

void urb_free(struct urb *r)
{
    if (r->staged)
        free(r->buf);
    if (r->buffer)
        g_object_unref(r->buffer);
    g_object_unref(r->data);
    g_object_unref(r->client);
    free(r);
}

void urb_finish(struct board *b, struct urb *r, int status, size_t actual)
{
    r->u->status = status;
    r->u->actual_length = (int)actual;
    urb_push(&b->done_q, r);
}

void urb_fail_queue(struct board *b, struct queue *q, int status)
{
    struct urb *r;
    while ((r = urb_pop(q)))
        urb_finish(b, r, status, r->u->endpoint & 0x80 ? 0 : r->done);
}

/* Drop what belongs to clients that went away (a host process that exited
 * mid-transfer): their URBs must never be handed to the next one. */
void urb_drop_vanished(struct queue *q)
{
    struct urb *r;
    struct queue kept = {0};
    while ((r = urb_pop(q))) {
        if (umockdev_ioctl_client_get_connected(r->client))
            urb_push(&kept, r);
        else
            urb_free(r);
    }
    *q = kept;
}

/* ---- the ioctls ------------------------------------------------------------------ */

/* Bulk IN data goes to the client now, and only the bytes received: loading
 * and writing back the whole buffer on every (mostly status-only) transfer
 * would cost more than the rest of the emulation. */
static int unstage(struct urb *r)
{
    size_t n = r->u->actual_length > 0 ? (size_t)r->u->actual_length : 0;
    if (!r->staged || !n)
        return 0;
    r->buffer = umockdev_ioctl_data_resolve(r->data, offsetof(struct usbdevfs_urb, buffer), n, NULL);
    if (!r->buffer)
        return -1;
    memcpy(r->buffer->data, r->buf, n);
    return 0;
}

static void answer_reap(UMockdevIoctlClient *client, struct urb *r)
{
    if (unstage(r)) {
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        urb_free(r);
        return;
    }
    UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof(void *),
                                                         NULL);
    if (!ptr) {
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        urb_free(r);
        return;
    }
    umockdev_ioctl_data_set_ptr(ptr, 0, r->data);
    umockdev_ioctl_client_complete(client, 0, 0);
    g_object_unref(ptr);
    urb_free(r);
}

static gboolean reap_timeout(gpointer user)
{
    struct board *b = user;
    pthread_mutex_lock(&b->lock);
    UMockdevIoctlClient *client = b->pending_reap;
    struct urb *r = client ? take(&b->done_q, client, 0) : NULL;
    b->pending_reap = NULL;
    if (b->reap_timer) {
        g_source_unref(b->reap_timer);
        b->reap_timer = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    if (client) {
        if (r)
            answer_reap(client, r);
        else
            umockdev_ioctl_client_complete(client, -1, b->unplugged ? ENODEV : EAGAIN);
        g_object_unref(client);
    }
    return G_SOURCE_REMOVE;
}

/* On the worker: answer a held-back reap now that a URB finished. */
static gboolean deliver(gpointer user)
{
    struct board *b = user;
    pthread_mutex_lock(&b->lock);
    b->wake_scheduled = 0;
    UMockdevIoctlClient *client = b->pending_reap;
    struct urb *r = client ? take(&b->done_q, client, 0) : NULL;
    if (r) {
        b->pending_reap = NULL;
        if (b->reap_timer) {
            g_source_destroy(b->reap_timer);
            g_source_unref(b->reap_timer);
            b->reap_timer = NULL;
        }
        b->last_reap_empty = 0;
    }
    pthread_mutex_unlock(&b->lock);
    if (r) {
        answer_reap(client, r);
        g_object_unref(client);
    }
    return G_SOURCE_REMOVE;
}

/* Pump side, lock held: wake the worker when a held-back reap can be answered. */
void usbfs_wake_reaper(struct board *b)
{
    if (b->pending_reap && b->done_q.head && !b->wake_scheduled && b->worker) {
        /* an idle source, not g_main_context_invoke: that may run deliver()
         * right here, on the pump thread, with the lock held */
        b->wake_scheduled = 1;
        GSource *idle = g_idle_source_new();
        g_source_set_callback(idle, deliver, b, NULL);
        g_source_attach(idle, b->worker);
        g_source_unref(idle);
    }
}

static void reap(struct board *b, UMockdevIoctlClient *client)
{
    pthread_mutex_lock(&b->lock);
    struct urb *r = take(&b->done_q, client, 0);
    if (r) {
        b->last_reap_empty = 0;
        pthread_mutex_unlock(&b->lock);
        answer_reap(client, r);
        return;
    }
    int err = b->unplugged ? ENODEV : EAGAIN;
    if (b->unplugged || !b->last_reap_empty || b->pending_reap) {
        /* The first empty reap after a completion answers at once, so the
         * host gets back to its own work; the next one (the host is waiting)
         * is held until something finishes or REAP_DEFER_MS passed. */
        b->last_reap_empty = 1;
        pthread_mutex_unlock(&b->lock);
        umockdev_ioctl_client_complete(client, -1, err);
        return;
    }
    b->pending_reap = g_object_ref(client);
    b->reap_timer = g_timeout_source_new(REAP_DEFER_MS);
    g_source_set_callback(b->reap_timer, reap_timeout, b, NULL);
    g_source_attach(b->reap_timer, b->worker);
    pthread_mutex_unlock(&b->lock);
}

static void submit(struct board *b, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
    if (!d) {
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        return;
    }
    struct urb *r = calloc(1, sizeof *r);
    r->data = d;
    r->u = (struct usbdevfs_urb *)d->data;
    r->client = g_object_ref(client);
    r->len = r->u->buffer_length > 0 ? (size_t)r->u->buffer_length : 0;
    r->staged = r->u->type == USBDEVFS_URB_TYPE_BULK && (r->u->endpoint & 0x80);
    if (r->staged) {
        r->buf = r->len ? malloc(r->len) : NULL;
    } else if (r->len) {
        r->buffer = umockdev_ioctl_data_resolve(d, offsetof(struct usbdevfs_urb, buffer), r->len, NULL);
        r->buf = r->buffer ? r->buffer->data : NULL;
    }
    if (r->len && !r->buf) {
        urb_free(r);
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        return;
    }
    pthread_mutex_lock(&b->lock);
    int err = 0;
    urb_drop_vanished(&b->out_q);
    urb_drop_vanished(&b->in_q);
    urb_drop_vanished(&b->done_q);
    b->urbs++;
    if (b->unplugged)
        err = ENODEV;
    else if (r->u->type == USBDEVFS_URB_TYPE_CONTROL)
        chip_control(b, r);
    else if (r->u->type != USBDEVFS_URB_TYPE_BULK || (r->u->endpoint != EP_IN && r->u->endpoint != EP_OUT))
        err = EINVAL;
    else if (r->u->endpoint == EP_OUT && b->halt_out)
        urb_finish(b, r, -EPIPE, 0);
    else if (r->u->endpoint == EP_OUT)
        urb_push(&b->out_q, r);
    else {
        if (!b->in_q.head)
            b->in_since = board_now_ms();
        urb_push(&b->in_q, r);
    }
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->lock);
    if (err)
        urb_free(r);
    umockdev_ioctl_client_complete(client, err ? -1 : 0, err);
}

static void discard(struct board *b, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
    unsigned long addr = *(unsigned long *)arg->data;
    pthread_mutex_lock(&b->lock);
    struct urb *r = take(&b->out_q, client, addr);
    if (!r)
        r = take(&b->in_q, client, addr);
    if (r)
        urb_finish(b, r, -ENOENT, r->u->endpoint & 0x80 ? 0 : r->done);
    pthread_mutex_unlock(&b->lock);
    umockdev_ioctl_client_complete(client, r ? 0 : -1, r ? 0 : EINVAL);
}

static void clear_halt(struct board *b, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned int), NULL);
    unsigned ep = d ? *(unsigned int *)d->data : 0;
    pthread_mutex_lock(&b->lock);
    if (ep == EP_IN)
        b->halt_in = 0;
    if (ep == EP_OUT)
        b->halt_out = 0;
    int unplugged = b->unplugged;
    pthread_mutex_unlock(&b->lock);
    if (d)
        g_object_unref(d);
    if (b->opt.verbose)
        board_say("chip: clear halt on endpoint 0x%02x", ep);
    umockdev_ioctl_client_complete(client, unplugged ? -1 : 0, unplugged ? ENODEV : 0);
}

static void write_u32(UMockdevIoctlClient *client, uint32_t v)
{
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(client), 0, sizeof v, NULL);
    if (d) {
        memcpy(d->data, &v, sizeof v);
        g_object_unref(d);
    }
    umockdev_ioctl_client_complete(client, d ? 0 : -1, d ? 0 : EFAULT);
}

gboolean usbfs_on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user)
{
    (void)handler;
    struct board *b = user;
    if (!b->worker)
        b->worker = g_main_context_ref_thread_default();
    unsigned long req = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
    pthread_mutex_lock(&b->lock);
    int unplugged = b->unplugged;
    pthread_mutex_unlock(&b->lock);
    switch (req) {
    case USBDEVFS_SUBMITURB:
        submit(b, client, arg);
        return TRUE;
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
        reap(b, client);
        return TRUE;
    case USBDEVFS_DISCARDURB:
        discard(b, client, arg);
        return TRUE;
    case USBDEVFS_CLEAR_HALT:
        clear_halt(b, client, arg);
        return TRUE;
    case USBDEVFS_GET_CAPABILITIES: /* no scatter-gather: libusb sends one URB per transfer */
        write_u32(client, USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION |
                              USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT);
        return TRUE;
    case USBDEVFS_CLAIMINTERFACE:
    case USBDEVFS_RELEASEINTERFACE:
    case USBDEVFS_DISCONNECT_CLAIM:
    case USBDEVFS_SETINTERFACE:
    case USBDEVFS_SETCONFIGURATION:
    case USBDEVFS_RESETEP:
    case USBDEVFS_RESET:
        umockdev_ioctl_client_complete(client, unplugged ? -1 : 0, unplugged ? ENODEV : 0);
        return TRUE;
    case USBDEVFS_GETDRIVER: /* no kernel driver bound */
    case USBDEVFS_IOCTL:
        umockdev_ioctl_client_complete(client, -1, unplugged ? ENODEV : ENODATA);
        return TRUE;
    default:
        return FALSE;
    }
}

void usbfs_on_vanished(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user)
{
    (void)handler, (void)client;
    struct board *b = user;
    pthread_mutex_lock(&b->lock);
    urb_drop_vanished(&b->out_q);
    urb_drop_vanished(&b->in_q);
    urb_drop_vanished(&b->done_q);
    pthread_mutex_unlock(&b->lock);
}
