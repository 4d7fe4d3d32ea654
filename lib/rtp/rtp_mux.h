/* One libavformat "rtp" muxer per track, packetizing ONCE for every client.
 *
 * Each track of a mount (e.g. video H.264 + audio AAC) gets an nl_rtp_mux.
 * It writes through a custom AVIOContext whose buffer holds a whole packet,
 * so every RTP and RTCP packet reaches us as exactly one write callback, and
 * it gathers the packets of one nl_rtp_mux_write (= one access unit) into one
 * immutable, refcounted nl_rtp_frame (see frame_buf.h) that the RTSP server
 * queues to every client.
 *
 * Timing: the caller passes pts in any time base (the camera's µs clock,
 * 1/1000000, unwrapped to 64 bits). The muxer subtracts `origin` and rescales
 * to the RTP clock (90 kHz video, sample rate audio). libavformat's RTCP
 * sender reports map RTP time to wall clock as if `origin` happened at
 * `start_time_realtime` and time then ran in real time, so ALL tracks of one
 * mount must be created with the SAME origin and start_time_realtime, in the
 * same time base; their SRs then share one wall clock and clients can sync
 * audio to video (RTSP.md 1.6).
 *
 * Input per codec (one nl_rtp_mux_write per access unit):
 * - H.264/H.265: Annex-B access unit; extradata (Annex-B SPS/PPS, +VPS) only
 *   feeds the SDP. Prepending parameter sets to IDRs is the caller's job
 *   (lib/media/nal.h). avcC/hvcC extradata is rejected (it would switch the
 *   packetizer to length-prefixed input).
 * - AAC: raw AU (ADTS stripped), AudioSpecificConfig as extradata (required:
 *   av_sdp_create refuses AAC without it). max_delay stays at the API default
 *   (-1), which makes libavformat emit each AU during the NEXT write: the frame
 *   returned for AU n carries AU n-1 (the first write returns only an SR).
 * - PCMU/PCMA: payload as is (e.g. 480 bytes = 60 ms at 8 kHz).
 *
 * Threads: a mux is used by one thread at a time (normally the loop thread of
 * its mount). Frames it returns may be read and released on any thread. No
 * call blocks or sleeps.
 */
#ifndef NL_RTP_RTP_MUX_H
#define NL_RTP_RTP_MUX_H

#include <stdint.h>

#include <libavcodec/packet.h>
#include <libavformat/avformat.h>

#include "rtp/frame_buf.h"

/* Default RTP packet size (header included): fits a 1500-byte Ethernet MTU
 * over IPv4 or IPv6 with room for tunnels, and is in the 1400-1472 range
 * RTSP.md 2.4 recommends for both TCP interleaving and UDP. The same packets
 * go to TCP and UDP clients, so the UDP limit (1472) is the ceiling. */
#define NL_RTP_PACKET_SIZE     1400
#define NL_RTP_PACKET_SIZE_MIN 128
#define NL_RTP_PACKET_SIZE_MAX 1472
/* Default cap on one frame's packet bytes (an IDR at high bit rate fits). */
#define NL_RTP_MAX_FRAME_BYTES (8u << 20)
/* Default cap on idle pool memory kept for reuse, per track. */
#define NL_RTP_POOL_CACHE_BYTES (8u << 20)

typedef struct nl_rtp_mux nl_rtp_mux;

typedef struct nl_rtp_mux_config {
    /* Codec parameters: codec_type, codec_id, extradata, sample_rate and
     * ch_layout for audio, width/height for video (libavformat requires them),
     * optional bit_rate (gives SDP b=AS).
     * Copied; borrowed only during create. */
    const AVCodecParameters *par;
    AVRational in_time_base;     /* time base of pts given to write (e.g. {1, 1000000}) */
    int64_t origin;              /* input pts mapped to RTP time 0 and to start_time_realtime;
                                  * same value for every track of the mount */
    int64_t start_time_realtime; /* wall clock of `origin`, µs since the Unix epoch; same
                                  * for every track of the mount; 0 = now */
    int track;                   /* index in the mount, 0..NL_RTP_MAX_TRACK: SDP streamid and
                                  * default interleaved channels 2*track / 2*track+1 */
    int payload_type;            /* -1: video 96, PCMU 8 kHz mono 0, PCMA 8 kHz mono 8,
                                  * other audio 97 */
    uint32_t ssrc;               /* 0: random */
    const char *cname;           /* RTCP SDES CNAME; NULL: "libneolink" */
    int packet_size;             /* whole RTP packet; 0: NL_RTP_PACKET_SIZE */
    size_t max_frame_bytes;      /* 0: NL_RTP_MAX_FRAME_BYTES */
    size_t pool_cache_bytes;     /* 0: NL_RTP_POOL_CACHE_BYTES */
} nl_rtp_mux_config;

/* Counters, for metrics and tests. */
typedef struct nl_rtp_mux_stats {
    uint64_t writes;       /* AVIOContext write callbacks (one per RTP/RTCP packet) */
    uint64_t rtp_packets;  /* RTP packets in frames handed out */
    uint64_t rtcp_packets; /* RTCP packets in frames handed out */
    uint64_t frames;       /* frames handed out */
    uint64_t bytes;        /* packet bytes in them, '$' prefixes included */
    uint64_t dropped;      /* access units lost to an error (caps, memory, libav) */
    uint64_t ts_clamped;   /* access units whose dts went backwards and were clamped */
    uint64_t stray_bytes;  /* bytes written outside a write call (e.g. trailer) */
} nl_rtp_mux_stats;

/* Creates and starts a track's muxer (avformat_write_header runs here).
 * Returns 0; NL_EINVAL for a bad config (no par, track out of range, packet
 * size out of range, avcC/hvcC extradata); NL_ECODEC when libavformat cannot
 * packetize the codec; NL_ENOMEM; NL_ELIBAV for other libav failures. *out is
 * set only on success. */
int nl_rtp_mux_create(nl_rtp_mux **out, const nl_rtp_mux_config *cfg);

/* Destroys a muxer (trailer written and discarded) and sets *mux to NULL.
 * Frames it produced stay valid until their last unref. NULL-safe. */
void nl_rtp_mux_destroy(nl_rtp_mux **mux);

/* Packetizes one access unit. pkt is borrowed (refcounted or not): data,
 * size, pts (required), dts (optional; defaults to pts) and AV_PKT_FLAG_KEY
 * are used. dts going backwards is clamped to the previous dts (counted in
 * ts_clamped) because libavformat rejects it.
 *
 * On success *out is a new frame (the caller owns one reference) or NULL when
 * the call produced no packet (AAC's first AU), and 0 is returned. Errors:
 * NL_EINVAL (no pts, empty packet), NL_ETOOBIG (over max_frame_bytes),
 * NL_ENOMEM, NL_ELIBAV; the access unit is then lost (sequence numbers it
 * consumed show up as loss to clients), and the muxer stays usable.
 *
 * Steady state allocates nothing, libav included (measured; see
 * docs/internals/RTP-FANOUT.md): blocks come from the pool, the packet table
 * scratch only grows to its high-water mark, and the packet is passed to
 * av_write_frame without a buffer reference, so it takes none. */
int nl_rtp_mux_write(nl_rtp_mux *mux, const AVPacket *pkt, nl_rtp_frame **out);

/* Replaces the extradata the SDP is built from (late-learned or changed
 * SPS/PPS). Annex-B only for H.264/H.265. Packetization is not affected.
 * Returns 0, NL_EINVAL or NL_ENOMEM. Same thread as the SDP builder. */
int nl_rtp_mux_set_extradata(nl_rtp_mux *mux, const uint8_t *data, size_t size);

uint32_t nl_rtp_mux_ssrc(const nl_rtp_mux *mux);
int nl_rtp_mux_payload_type(const nl_rtp_mux *mux);
/* RTP clock rate in Hz (90000 video, the sample rate for audio). */
int nl_rtp_mux_clock_rate(const nl_rtp_mux *mux);
int nl_rtp_mux_track(const nl_rtp_mux *mux);
void nl_rtp_mux_get_stats(const nl_rtp_mux *mux, nl_rtp_mux_stats *st);
void nl_rtp_mux_get_pool_stats(const nl_rtp_mux *mux, nl_rtp_pool_stats *st);

/* Releases idle frame blocks beyond keep_bytes (nl_rtp_pool_trim); call it
 * now and then, e.g. when client queues have drained. Returns bytes freed. */
size_t nl_rtp_mux_trim(nl_rtp_mux *mux, size_t keep_bytes);

/* The muxer's AVFormatContext, for the SDP builder (sdp.c). Borrowed. */
AVFormatContext *nl__rtp_mux_avctx(nl_rtp_mux *mux);

#endif
