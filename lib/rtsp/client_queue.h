/* Per-client bounded queue of whole RTP frames (RTSP-SESSIONS.md, "Slow
 * clients").
 *
 * A ring of frame references: queuing a frame takes one atomic reference and
 * writes one ring slot, so steady-state streaming allocates nothing per frame
 * per client. The ring starts small (a live client that keeps up never has
 * more than a frame or two waiting, and the fan-out's direct path sends
 * most frames without queuing them at all) and doubles when it fills, up to
 * its cap in slots: a client pays for a deep ring only while it needs one
 * (a GOP replay, a slow link), and only a few times in its life.
 *
 * Each entry carries the time it is due to be sent (the loop clock): the
 * arrival time for live clients, arrival + a constant delay for clients that
 * replay the GOP cache in real time. The duration cap is measured against
 * that schedule ("how late is the oldest frame"), so a replaying client is
 * not mistaken for a slow one. Caps: ring slots, bytes, lateness. A push that
 * would break one is refused; the caller then drops the whole queue and
 * waits for the next keyframe (a partial GOP is useless to a decoder). */
#ifndef NL_RTSP_CLIENT_QUEUE_H
#define NL_RTSP_CLIENT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "rtp/frame_buf.h"

typedef struct nl__cq_entry {
    nl_rtp_frame *f;
    uint64_t due; /* ns, loop clock */
} nl__cq_entry;

typedef struct nl__client_queue {
    nl__cq_entry *ring;
    uint32_t size; /* slots allocated: grows by doubling up to cap */
    uint32_t cap;  /* most slots (frames) the queue may hold */
    uint32_t head, len;
    size_t bytes;
    size_t max_bytes;
    uint64_t max_late_ns;
    size_t peak_bytes;
    uint32_t peak_len;
} nl__client_queue;

/* Prepares a queue of at most cap frames and allocates its first few
 * slots. 0, NL_EINVAL (cap 0), NL_ENOMEM. */
int nl__cq_init(nl__client_queue *q, uint32_t cap, size_t max_bytes, uint64_t max_late_ns);
/* Drops every reference and frees the ring. Safe on a zeroed queue. */
void nl__cq_free(nl__client_queue *q);
/* Queues a new reference to f, due at `due`. 0, or NL_ELIMIT when a cap
 * would be broken (nothing queued): cap frames, bytes, or the oldest entry
 * more than max_late_ns past its due time at `now`; NL_ENOMEM when the ring
 * had to grow and could not (nothing queued either; callers treat it like a
 * cap). */
int nl__cq_push(nl__client_queue *q, const nl_rtp_frame *f, uint64_t due, uint64_t now);
/* Oldest entry or NULL. */
const nl__cq_entry *nl__cq_peek(const nl__client_queue *q);
/* Removes the oldest entry and hands its reference to the caller. */
nl_rtp_frame *nl__cq_pop(nl__client_queue *q);
/* Drops everything; returns how many frames were dropped. */
uint32_t nl__cq_clear(nl__client_queue *q);

#endif
