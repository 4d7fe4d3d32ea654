/* The incremental BcMedia demuxer behind include/neolink/media.h.
 *
 * Bytes go through a small state machine:
 *   HDR     collect just enough bytes to validate a header (<= NL_BCM_MAX_HDR);
 *           invalid -> drop one byte, count it as skipped, look for the next
 *           plausible magic in what is held, and parse strictly from then on
 *           until a packet is accepted;
 *   BODY    copy the payload straight into a pooled, refcounted buffer;
 *   PAD     skip padding by length (its content is not always zero);
 *   DISCARD skip a packet that cannot be kept (no memory).
 * One finished packet waits in a slot for nl_media_demux_next(); feeding
 * stops at the next header while the slot is full, so the demuxer holds at
 * most one packet in progress plus one finished packet.
 *
 * Payload buffers come from AVBufferPools in power-of-two size classes
 * (4 KiB .. 4 MiB), so steady streaming reuses buffers instead of allocating
 * a new one per frame; libav still allocates the small AVBufferRef struct
 * per packet. A pool keeps as many idle buffers as were ever in use at once
 * in its class, and frees them with the demuxer (or when the last packet
 * referencing them is released). */
#ifndef NL_MEDIA_BCMEDIA_H
#define NL_MEDIA_BCMEDIA_H

#include <libavutil/buffer.h>

#include "media/bcmedia_wire.h"
#include "media/media_clock.h"
#include "media/video_params.h"
#include "neolink/media.h"

#define NL_BCM_POOL_MIN_SHIFT 12 /* 4 KiB */
#define NL_BCM_POOL_MAX_SHIFT 22 /* 4 MiB */
#define NL_BCM_POOL_CLASSES   (NL_BCM_POOL_MAX_SHIFT - NL_BCM_POOL_MIN_SHIFT + 1)

enum nl__bcm_state { NL__BCM_HDR, NL__BCM_BODY, NL__BCM_PAD, NL__BCM_DISCARD };

struct nl_media_demux {
    uint32_t max_video;
    enum nl__bcm_state state;
    int strict; /* garbage seen since the last accepted header */
    uint8_t hdr[NL_BCM_MAX_HDR];
    size_t hdr_have;
    nl__bcm_hdr cur; /* header of the packet in progress */
    AVBufferRef *body;
    uint32_t body_have;
    uint32_t skip_left;   /* PAD / DISCARD bytes to go */
    uint64_t skipped_run; /* bytes skipped since the last accepted header */
    uint64_t cur_skipped; /* ... before the packet in progress */
    int loss;             /* a packet was dropped since the last output */

    /* The finished packet waiting for next(). */
    int ready;
    AVPacket *ready_pkt;
    nl_media_meta ready_meta;
    uint32_t aac_off; /* AAC: next ADTS frame in ready_pkt */
    int aac_index, aac_count;

    AVPacket *out; /* what next() lends to the caller */

    AVBufferPool *pools[NL_BCM_POOL_CLASSES];
    nl__video_clock vclock;
    nl__audio_clock aclock;
    nl__vparams vparams;
    nl_media_audio_format afmt;
    int have_info;
    nl_media_info info;
    nl_media_stats stats;
};

int nl__bcm_demux_create(nl_media_demux **out, uint32_t max_video);
void nl__bcm_demux_destroy(nl_media_demux **d);
int nl__bcm_demux_feed(nl_media_demux *d, const uint8_t *data, size_t len, size_t *consumed);
int nl__bcm_demux_next(nl_media_demux *d, AVPacket **pkt, nl_media_meta *meta);
int nl__bcm_demux_finish(nl_media_demux *d);
void nl__bcm_demux_reset(nl_media_demux *d);

#endif
