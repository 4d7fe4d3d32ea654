/* Immutable, refcounted RTP frame buffers: the fan-out unit.
 *
 * One nl_rtp_frame holds every RTP/RTCP packet that one access unit produced
 * (one av_write_frame call of a track's rtp muxer), already '$'-framed for
 * RTSP interleaving ('$', channel, u16 BE length, packet) back to back in ONE
 * contiguous block. A TCP client on the default channels (track i -> 2i RTP,
 * 2i+1 RTCP) sends the whole frame with a single write of data/size; a client
 * on other channels gets a per-packet iovec with its own 4-byte prefixes
 * (nl_rtp_frame_tcp_iov); a UDP client sends the raw packets from the packet
 * table (no prefix) with sendmmsg/GSO.
 *
 * Memory: a frame lives inside one pool block (header, packet bytes, packet
 * table) backed by an AVBufferRef. Blocks come in power-of-two size classes
 * and are recycled by a per-track pool, so a stream in steady state allocates
 * nothing per frame. Clients share frames through nl_rtp_frame_ref/unref: an
 * atomic counter, no allocation per client.
 *
 * Threads: a frame is immutable after the builder hands it out, so any number
 * of threads may read it; ref/unref are atomic and may run on any thread. The
 * pool is locked internally. A builder belongs to one thread (the muxer's).
 */
#ifndef NL_RTP_FRAME_BUF_H
#define NL_RTP_FRAME_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <libavutil/buffer.h>

/* Bytes of the interleaving prefix in front of every packet in a frame. */
#define NL_RTP_PREFIX 4
/* Highest track index: its RTCP channel 2*track+1 must fit in one byte. */
#define NL_RTP_MAX_TRACK 127

/* True for an RTCP packet: second byte (PT with the marker bit position)
 * in 192..223 (RFC 5761 section 4; SR=200, RR=201, SDES=202, BYE=203, APP=204).
 * Our RTP payload types (0, 8, 96, 97, +128 with marker) never fall there. */
static inline bool nl_rtp_is_rtcp(const uint8_t *pkt, size_t len)
{
    return len >= 2 && pkt[1] >= 192 && pkt[1] <= 223;
}

/* One packet of a frame. */
typedef struct nl_rtp_pkt {
    uint32_t off;   /* offset of the packet's 4-byte '$' prefix in frame->data */
    uint16_t len;   /* length of the RTP/RTCP packet itself, prefix excluded */
    uint8_t rtcp;   /* 1: RTCP (odd channel, RTCP port); 0: RTP */
    uint8_t marker; /* RTP marker bit (0 for RTCP) */
} nl_rtp_pkt;

/* A frame. All fields are read-only for everyone but the builder. */
typedef struct nl_rtp_frame {
    const uint8_t *data;    /* npkts '$'-framed packets back to back */
    size_t size;            /* bytes at data (prefixes included) */
    const nl_rtp_pkt *pkts; /* npkts entries, in send order */
    uint32_t npkts;         /* RTP + RTCP packets */
    uint32_t nrtp;          /* RTP packets among them (0: e.g. AAC's first call, only an SR) */
    uint8_t track;          /* track index within the mount */
    uint8_t rtp_channel;    /* channel written into RTP prefixes: 2*track */
    uint8_t rtcp_channel;   /* channel written into RTCP prefixes: 2*track+1 */
    bool keyframe;          /* the input access unit was a keyframe (AV_PKT_FLAG_KEY) */
    int64_t pts;            /* pts of the input access unit, in the caller's time base */
    uint32_t ssrc;          /* SSRC of the RTP packets */
    uint16_t first_seq;     /* sequence number of the first RTP packet (if nrtp) */
    uint16_t last_seq;      /* sequence number of the last RTP packet (if nrtp) */
    uint32_t first_rtptime; /* RTP timestamp of the first RTP packet (if nrtp) */
    AVBufferRef *buf;       /* block holding all of the above; borrowed, valid while the
                             * frame is referenced. Never unref it; use nl_rtp_frame_unref. */
} nl_rtp_frame;

/* Data of packet i without its prefix (what a UDP client sends). */
static inline const uint8_t *nl_rtp_frame_pkt_data(const nl_rtp_frame *f, uint32_t i)
{
    return f->data + f->pkts[i].off + NL_RTP_PREFIX;
}

/* Takes one more reference (atomic, allocation-free). Returns f. */
nl_rtp_frame *nl_rtp_frame_ref(const nl_rtp_frame *f);

/* Drops a reference and sets *f to NULL; the last one returns the block to
 * its pool (or frees it once the pool is closed). NULL and *f == NULL are
 * no-ops. Any thread. */
void nl_rtp_frame_unref(nl_rtp_frame **f);

/* Number of references currently held (for tests and assertions). */
int nl_rtp_frame_refcount(const nl_rtp_frame *f);

/* Describes frame f for a TCP-interleaved client whose channels for this
 * track are rtp_ch/rtcp_ch.
 *
 * - Default channels (rtp_ch == f->rtp_channel and rtcp_ch == f->rtcp_channel):
 *   one iovec over the whole block; *next becomes f->npkts; returns 1.
 * - Other channels: two iovecs per packet, starting at packet *next: the
 *   4-byte prefix written into hdr[4k..4k+3] and the packet bytes in the
 *   block. Fills as many packets as max_iov/2 and hdr_size/4 allow, advances
 *   *next, and returns the iovec count. The caller repeats with *next until
 *   it equals f->npkts (hdr must stay valid until those bytes are written).
 *
 * Returns NL_EINVAL when *next is out of range or there is no room for one
 * packet. Pure function of its arguments; any thread. */
int nl_rtp_frame_tcp_iov(const nl_rtp_frame *f, uint8_t rtp_ch, uint8_t rtcp_ch, uint32_t *next,
                         uint8_t *hdr, size_t hdr_size, struct iovec *iov, int max_iov);

/* ---------------------------------------------------------------- pool */

typedef struct nl_rtp_pool nl_rtp_pool;

typedef struct nl_rtp_pool_stats {
    uint64_t blocks_created; /* blocks ever allocated (nl__malloc + one AVBufferRef each) */
    uint64_t blocks_freed;   /* blocks released to the system */
    uint64_t gets;           /* blocks handed to builders */
    uint64_t reuses;         /* of those, served from the cache */
    size_t live;             /* blocks handed out and not yet returned */
    size_t cached;           /* blocks idle in the cache */
    size_t cached_bytes;     /* their size */
} nl_rtp_pool_stats;

/* Smallest block payload (bytes after the frame header); classes double from here. */
#define NL_RTP_POOL_MIN_CLASS 1024u

/* Creates a pool handing out blocks of up to max_block payload bytes (rounded
 * up to a class; at most 64 MiB) and keeping at most max_cached_bytes of idle
 * blocks for reuse. Returns 0, NL_EINVAL or NL_ENOMEM. */
int nl_rtp_pool_create(nl_rtp_pool **out, size_t max_block, size_t max_cached_bytes);

/* Closes the producer's handle and sets *p to NULL. Idle blocks are freed at
 * once; frames still referenced stay valid, and the pool's memory goes with
 * the last of them. NULL and *p == NULL are no-ops. */
void nl_rtp_pool_close(nl_rtp_pool **p);

void nl_rtp_pool_get_stats(nl_rtp_pool *p, nl_rtp_pool_stats *st);

/* Frees idle cached blocks, largest classes first, until at most keep_bytes
 * stay cached (e.g. after a slow client's backlog is gone). Frames in use are
 * not touched. Any thread. Returns the number of bytes released. */
size_t nl_rtp_pool_trim(nl_rtp_pool *p, size_t keep_bytes);

/* ---------------------------------------------------------------- builder */

struct nl_rtp_block;

/* Gathers the packets of one access unit straight into a pool block. Usage:
 * begin, add per packet (from the AVIOContext write callback), finish. */
typedef struct nl_rtp_builder {
    nl_rtp_pool *pool;        /* borrowed */
    struct nl_rtp_block *blk; /* block being filled, or NULL between frames */
    size_t used;              /* packet bytes written into blk */
    nl_rtp_pkt *tab;          /* packet table scratch; grows to the high-water mark */
    uint32_t ntab, tab_cap;
    size_t max_bytes;  /* hard cap on a frame's packet bytes */
    uint32_t max_pkts; /* hard cap on its packets */
    int err;           /* first error of the current frame (sticky until begin) */
    uint8_t track, rtp_ch, rtcp_ch;
} nl_rtp_builder;

/* Metadata the muxer knows about the access unit. */
typedef struct nl_rtp_frame_meta {
    bool keyframe;
    int64_t pts;
    uint32_t ssrc;
} nl_rtp_frame_meta;

/* Prepares a builder for track (<= NL_RTP_MAX_TRACK) with frames capped at
 * max_bytes of packet data. Allocates nothing. Returns 0 or NL_EINVAL. */
int nl_rtp_builder_init(nl_rtp_builder *b, nl_rtp_pool *pool, int track, size_t max_bytes);

/* Returns any block in progress and frees the table scratch. */
void nl_rtp_builder_free(nl_rtp_builder *b);

/* Starts a frame; size_hint is the expected packet bytes (prefixes and table
 * are accounted for inside). A wrong hint costs a copy, never correctness.
 * Returns 0, NL_ENOMEM, or NL_ESTATE when a frame is already in progress. */
int nl_rtp_builder_begin(nl_rtp_builder *b, size_t size_hint);

/* Appends one RTP or RTCP packet (one AVIOContext write). Never fails loudly:
 * the first error (NL_ETOOBIG over the caps, NL_ENOMEM, NL_EINVAL for a
 * packet over 65535 bytes or outside a frame) is kept and reported by finish,
 * so the muxer's AVIOContext never enters its sticky error state. */
void nl_rtp_builder_add(nl_rtp_builder *b, const uint8_t *pkt, size_t len);

/* Completes the frame. On success *out is the new frame (one reference, the
 * caller's) or NULL when no packet was written, and 0 is returned. On error
 * the frame is discarded, *out is NULL and the recorded error is returned. */
int nl_rtp_builder_finish(nl_rtp_builder *b, const nl_rtp_frame_meta *meta, nl_rtp_frame **out);

/* Discards the frame in progress (if any). */
void nl_rtp_builder_abort(nl_rtp_builder *b);

#endif
