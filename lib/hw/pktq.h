/* A bounded FIFO of AVPackets that drops whole GOPs when it is full.
 *
 * Slots are AVPackets allocated once at init, so queueing a packet is an
 * av_packet_ref into a slot (no allocation of our own per frame).
 *
 * Drop policy: a packet that finds the queue full is dropped and the queue
 * starts skipping: every later packet is dropped too until a key frame
 * (AV_PKT_FLAG_KEY) arrives AND fits. A decoder fed from this queue
 * therefore never sees a P-frame whose reference was dropped: what it gets
 * is a prefix of one GOP followed by the next GOP from its key frame.
 *
 * Not thread-safe: the owner locks around it. */
#ifndef NL_HW_PKTQ_H
#define NL_HW_PKTQ_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/packet.h>

#define NL_HW_PKTQ_MAX 4096

typedef struct nl__pktq {
    AVPacket **slots;
    unsigned cap, head, count;
    bool skipping;         /* dropping until the next key frame that fits */
    uint64_t queued;       /* packets accepted */
    uint64_t dropped;      /* packets dropped (full, or skipped to the key frame) */
    uint64_t gops_dropped; /* times skipping started */
} nl__pktq;

/* cap 1..NL_HW_PKTQ_MAX. Returns 0, NL_EINVAL or NL_ENOMEM (q is then
 * empty but safe to free). */
int nl__pktq_init(nl__pktq *q, unsigned cap);
/* Unrefs and frees every slot. Safe on a zeroed or failed queue. */
void nl__pktq_free(nl__pktq *q);

/* Queues a new reference to pkt (move != 0: takes pkt's reference over and
 * leaves pkt blank, also when it is dropped). Returns 0 queued, 1 dropped by
 * the policy above, NL_ENOMEM (nothing queued; not counted as a GOP drop). */
int nl__pktq_push(nl__pktq *q, AVPacket *pkt, int move);

/* Moves the oldest packet into out (blank on entry). 0 or NL_EAGAIN. */
int nl__pktq_pop(nl__pktq *q, AVPacket *out);

/* Unrefs every queued packet (counted in q->dropped only: this is the
 * owner throwing input away, not an overflow); the next push must be a
 * key frame (skipping is set) unless `resume_any`. */
void nl__pktq_clear(nl__pktq *q, int resume_any);

static inline unsigned nl__pktq_len(const nl__pktq *q)
{
    return q->count;
}
static inline bool nl__pktq_full(const nl__pktq *q)
{
    return q->count == q->cap;
}

#endif
