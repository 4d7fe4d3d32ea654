/* Per-client frame queue: a growable ring of frame references. See
 * client_queue.h. */
#include <string.h>

#include "core/alloc.h"
#include "neolink/error.h"
#include "rtsp/client_queue.h"

/* First ring size: room for a live client's frame or two and an audio
 * frame next to them, in 128 bytes. */
#define NL_CQ_FIRST_SLOTS 8u

int nl__cq_init(nl__client_queue *q, uint32_t cap, size_t max_bytes, uint64_t max_late_ns)
{
    memset(q, 0, sizeof(*q));
    if (cap == 0)
        return NL_EINVAL;
    uint32_t size = cap < NL_CQ_FIRST_SLOTS ? cap : NL_CQ_FIRST_SLOTS;
    q->ring = nl__calloc(size, sizeof(*q->ring));
    if (!q->ring)
        return NL_ENOMEM;
    q->size = size;
    q->cap = cap;
    q->max_bytes = max_bytes;
    q->max_late_ns = max_late_ns;
    return 0;
}

void nl__cq_free(nl__client_queue *q)
{
    if (q->ring)
        nl__cq_clear(q);
    nl__free(q->ring);
    q->ring = NULL;
    q->size = 0;
    q->cap = 0;
}

/* Doubles the ring (up to cap), unwrapping the entries so the oldest is at
 * slot 0. */
static int grow(nl__client_queue *q)
{
    uint32_t size = q->size > q->cap / 2 ? q->cap : 2 * q->size;
    nl__cq_entry *ring = nl__calloc(size, sizeof(*ring));
    if (!ring)
        return NL_ENOMEM;
    for (uint32_t i = 0; i < q->len; i++)
        ring[i] = q->ring[(q->head + i) % q->size];
    nl__free(q->ring);
    q->ring = ring;
    q->size = size;
    q->head = 0;
    return 0;
}

int nl__cq_push(nl__client_queue *q, const nl_rtp_frame *f, uint64_t due, uint64_t now)
{
    if (q->len == q->cap || q->bytes + f->size > q->max_bytes)
        return NL_ELIMIT;
    if (q->len > 0) {
        const nl__cq_entry *old = &q->ring[q->head];
        if (now > old->due && now - old->due > q->max_late_ns)
            return NL_ELIMIT;
    }
    if (q->len == q->size) {
        int rc = grow(q);
        if (rc < 0)
            return rc;
    }
    nl__cq_entry *e = &q->ring[(q->head + q->len) % q->size];
    e->f = nl_rtp_frame_ref(f);
    e->due = due;
    q->len++;
    q->bytes += f->size;
    if (q->bytes > q->peak_bytes)
        q->peak_bytes = q->bytes;
    if (q->len > q->peak_len)
        q->peak_len = q->len;
    return 0;
}

const nl__cq_entry *nl__cq_peek(const nl__client_queue *q)
{
    return q->len ? &q->ring[q->head] : NULL;
}

nl_rtp_frame *nl__cq_pop(nl__client_queue *q)
{
    if (!q->len)
        return NULL;
    nl__cq_entry *e = &q->ring[q->head];
    nl_rtp_frame *f = e->f;
    e->f = NULL;
    q->head = (q->head + 1) % q->size;
    q->len--;
    q->bytes -= f->size;
    return f;
}

uint32_t nl__cq_clear(nl__client_queue *q)
{
    uint32_t n = 0;
    while (q->len) {
        nl_rtp_frame *f = nl__cq_pop(q);
        nl_rtp_frame_unref(&f);
        n++;
    }
    q->head = 0;
    return n;
}
