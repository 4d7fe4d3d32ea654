/* Per-connection output queue of the simulated camera.
 *
 * Media is encoded once per stream and fanned out, so the bytes of a media
 * message body are shared by every connection watching the stream: a queue
 * holds references to those shared frames (no copy, no allocation per frame
 * per connection) interleaved with bytes the connection owns (its message
 * headers, control replies, anything enciphered with its own key). Owned
 * bytes live in one FIFO buffer in send order, so an owned segment is just a
 * length. Sending gathers up to 64 segments into one sendmsg().
 *
 * Bounded: at most max_segs segments and max_bytes of media; control replies
 * may use a further fixed slack so a reply is never refused just because
 * media filled the queue (a client that does not read is closed by its write
 * timeout instead).
 *
 * Threads: loop thread only (frame reference counts are not atomic). */
#ifndef NL_SIM_OUTQ_H
#define NL_SIM_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include <libavutil/buffer.h>

#include "core/dbuf.h"

/* A shared, immutable media message body (a BcMedia packet, or part of one).
 * Created on an encoder thread, then owned by the loop thread, which counts
 * its references. */
typedef struct nl__sim_frame {
    int refs;
    AVBufferRef *buf; /* the bytes: buf->data[0 .. len) */
    size_t len;
    uint64_t t_us;  /* stream time: µs since the stream started */
    uint32_t ts_us; /* camera clock on the wire (video) */
    uint8_t kind;   /* enum nl_media_kind */
    uint8_t keyframe;
} nl__sim_frame;

/* Creates a frame around buf (ownership of buf passes to the frame) with one
 * reference. NULL on NL_ENOMEM (buf is then released). Any thread. */
nl__sim_frame *nl__sim_frame_new(AVBufferRef *buf, size_t len);
static inline nl__sim_frame *nl__sim_frame_ref(nl__sim_frame *f)
{
    f->refs++;
    return f;
}
void nl__sim_frame_unref(nl__sim_frame **f);

typedef struct nl__sim_seg {
    nl__sim_frame *f; /* NULL: owned bytes at the front of the FIFO */
    uint32_t off;     /* shared: offset of the unsent part */
    uint32_t len;     /* bytes not yet sent */
} nl__sim_seg;

typedef struct nl__sim_outq {
    nl__sim_seg *segs;
    unsigned cap, head, count;
    nl_dbuf own; /* owned bytes; [own_head, own.len) are unsent */
    size_t own_head;
    size_t queued;    /* unsent bytes, owned and shared */
    size_t max_bytes; /* cap on queued for media */
} nl__sim_outq;

/* Slack beyond max_bytes that control replies may use. */
#define NL_SIM_OUTQ_CONTROL_SLACK (256u * 1024u)

int nl__sim_outq_init(nl__sim_outq *q, unsigned max_segs, size_t max_bytes);
void nl__sim_outq_free(nl__sim_outq *q);

/* True when a media message of `segs` segments and `bytes` bytes fits. */
int nl__sim_outq_fits(const nl__sim_outq *q, unsigned segs, size_t bytes);

/* The owned FIFO to append to (e.g. with nl_bc_codec_encode), compacted so
 * that `need` bytes fit when the unsent bytes allow it; then declare what
 * was appended with nl__sim_outq_commit_own. */
nl_dbuf *nl__sim_outq_own(nl__sim_outq *q, size_t need);
/* Queues the last n bytes appended to the owned FIFO. NL_ELIMIT when no
 * segment is free (the bytes are taken back). */
int nl__sim_outq_commit_own(nl__sim_outq *q, size_t n);
/* Copies n bytes into the FIFO and queues them. NL_ETOOBIG/NL_ENOMEM/NL_ELIMIT. */
int nl__sim_outq_push_own(nl__sim_outq *q, const void *p, size_t n);
/* Queues bytes [off, off+len) of a shared frame (takes a reference). */
int nl__sim_outq_push_shared(nl__sim_outq *q, nl__sim_frame *f, size_t off, size_t len);

static inline int nl__sim_outq_empty(const nl__sim_outq *q)
{
    return q->count == 0;
}

/* Sends at most `limit` bytes with one sendmsg(MSG_NOSIGNAL | MSG_DONTWAIT).
 * Returns the bytes sent (> 0), 0 when nothing is queued or limit is 0,
 * NL_EAGAIN when the socket is full, or a negative socket error. */
long nl__sim_outq_send(nl__sim_outq *q, int fd, size_t limit);

#endif
