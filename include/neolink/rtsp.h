/**
 * @file rtsp.h
 * The RTSP/RTP server: mounts (a path and its tracks) fed by a source that
 * pushes AVPackets, served to any number of RTSP clients over TCP
 * (interleaved) and UDP.
 *
 * Each track is packetized ONCE (libavformat's rtp muxer); the RTP packets of
 * one access unit form one immutable refcounted buffer that every client
 * shares. Each client (RTSP session) has a bounded queue of such frames; a
 * client that falls behind is dropped back to the next keyframe, and one that
 * cannot drain at all is disconnected. A slow client never delays the source
 * or any other client. New clients start at the next keyframe (parameter sets
 * first), or with the opt-in GOP cache at the last keyframe, paced in real
 * time.
 *
 * Threads: the server lives on one nl_loop. Every function here must be
 * called on that loop's thread (a source on another thread hands its packets
 * over with nl_loop_post). No function blocks: sockets are non-blocking and
 * sends use MSG_NOSIGNAL, so the host's SIGPIPE disposition does not matter.
 *
 * Callbacks (nl_rtsp_demand_fn) run on the loop thread from the loop's
 * deferred step, never from inside another libneolink call; they may call
 * any function of this header except nl_rtsp_server_destroy().
 *
 * Credentials are never logged.
 */
#ifndef NEOLINK_RTSP_H
#define NEOLINK_RTSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/codec_par.h>
#include <libavcodec/packet.h>
#include <libavutil/rational.h>

#include "neolink/common.h"
#include "neolink/context.h"
#include "neolink/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nl_rtsp_server nl_rtsp_server;
typedef struct nl_rtsp_mount nl_rtsp_mount;

/** Authentication schemes a server accepts and offers (bit mask). */
enum {
    NL_RTSP_SERVER_AUTH_BASIC = 1,
    NL_RTSP_SERVER_AUTH_DIGEST = 2,
};

/** One account. Strings are copied by nl_rtsp_server_create(). */
typedef struct nl_rtsp_user {
    const char *name;     /**< 1..63 printable characters, no ':' */
    const char *password; /**< 0..127 characters */
} nl_rtsp_user;

/**
 * Server settings. Zero-initialise, or call nl_rtsp_server_config_init() for
 * the defaults, then set what you need; a zero field means its default.
 */
typedef struct nl_rtsp_server_config {
    const char *bind_address; /**< numeric IPv4/IPv6 address; NULL: "0.0.0.0" */
    uint16_t port;            /**< RTSP TCP port; 0: an ephemeral port (nl_rtsp_server_port) */
    uint16_t udp_port;        /**< RTP UDP port (RTCP is udp_port + 1); 0: an ephemeral pair */
    bool disable_udp;         /**< refuse UDP transports (SETUP answers 461) */
    bool disable_tcp;         /**< refuse TCP-interleaved transports */

    unsigned max_clients;           /**< RTSP sessions in total; 0: 256 */
    unsigned max_clients_per_mount; /**< default for mounts that set none; 0: max_clients */
    unsigned max_connections;       /**< TCP connections; 0: max_clients + 16 */

    const nl_rtsp_user *users; /**< accounts; none (n_users == 0): no authentication */
    size_t n_users;
    unsigned auth_schemes; /**< NL_RTSP_SERVER_AUTH_* mask; 0: Basic and Digest */
    const char *realm;     /**< NULL: "neolink" */

    uint32_t session_timeout_s; /**< advertised "Session: id;timeout=N"; 0: 60 */
    uint32_t udp_grace_s;       /**< a UDP session expires this long after the timeout
                                 *   without a request or RTCP; 0: 15 */
    uint32_t idle_timeout_s;    /**< a connection with no playing session and no request
                                 *   for this long is closed; 0: session_timeout_s + udp_grace_s */

    size_t queue_max_bytes;       /**< per-client queue cap in bytes; 0: 4 MiB */
    uint32_t queue_max_ms;        /**< per-client queue cap: oldest frame at most this late;
                                   *   0: 2000 */
    uint32_t queue_max_frames;    /**< per-client queue ring size; 0: 1024 */
    uint32_t stall_timeout_ms;    /**< disconnect a TCP client that could not write a byte for
                                   *   this long; 0: 10000 */
    int sndbuf;                   /**< SO_SNDBUF of client sockets in bytes; 0: 256 KiB,
                                   *   negative: leave the kernel default */
    uint32_t play_wait_ms;        /**< how long a PLAY answer may wait for the client's first
                                   *   keyframe (for exact RTP-Info); 0: 2500 */
    uint32_t gop_cache_max_bytes; /**< per-mount GOP cache cap; 0: 8 MiB */
} nl_rtsp_server_config;

/** Fills cfg with the defaults (what zero fields mean). Never fails. */
NL_EXPORT void nl_rtsp_server_config_init(nl_rtsp_server_config *cfg);

/**
 * Creates a server and starts listening (TCP, and the UDP RTP/RTCP pair
 * unless disable_udp).
 *
 * @param out   receives the server; NULL on failure
 * @param loop  the loop it runs on (borrowed; must outlive the server)
 * @param ctx   log context (borrowed; may be NULL: no logs)
 * @param cfg   settings (copied; NULL: defaults)
 * @return 0, NL_EINVAL (bad config), NL_EADDRINUSE and other socket errors,
 *         NL_EIO (no randomness for nonces/session ids), NL_ENOMEM.
 * Loop thread; does not block.
 */
NL_EXPORT int nl_rtsp_server_create(nl_rtsp_server **out, nl_loop *loop, nl_ctx *ctx,
                                    const nl_rtsp_server_config *cfg);

/**
 * Destroys a server at once: every connection and session is closed through
 * the ordinary error path, every mount is removed (their callbacks are not
 * called any more), sockets are closed, and *srv is set to NULL. Memory still
 * referenced by the loop's deferred queue is released at the loop's next
 * deferred step (or by nl_loop_destroy). NULL and *srv == NULL are no-ops.
 * Loop thread; must not be called from a server callback. Does not block.
 */
NL_EXPORT void nl_rtsp_server_destroy(nl_rtsp_server **srv);

/** Called when a graceful stop has finished. */
typedef void (*nl_rtsp_stopped_fn)(void *ud);

/**
 * Graceful stop: stops accepting, closes UDP sessions, lets every TCP
 * connection finish the frame and replies it is writing, then closes it. At
 * the deadline the remaining connections are failed through their ordinary
 * error path. on_stopped (may be NULL) is called from the loop when no
 * connection is left. Mounts stay until nl_rtsp_server_destroy().
 * @return 0, or NL_ESTATE when already stopping. Loop thread; does not block.
 */
NL_EXPORT int nl_rtsp_server_stop(nl_rtsp_server *srv, uint32_t timeout_ms,
                                  nl_rtsp_stopped_fn on_stopped, void *ud);

/** The TCP port the server listens on (useful with port 0). */
NL_EXPORT uint16_t nl_rtsp_server_port(const nl_rtsp_server *srv);

/** The UDP RTP port (RTCP is one above); 0 when UDP is disabled. */
NL_EXPORT uint16_t nl_rtsp_server_udp_port(const nl_rtsp_server *srv);

/* ---------------------------------------------------------------- mounts */

/** Why a demand callback runs. */
typedef enum nl_rtsp_demand {
    /** The first client asked to PLAY: start the source (on-demand streams). */
    NL_RTSP_DEMAND_PLAY = 1,
    /** The last playing client left (TEARDOWN, PAUSE, disconnect, expiry). */
    NL_RTSP_DEMAND_IDLE = 2,
    /** A client DESCRIBEd the mount while its codec parameters were not
     *  complete (see nl_rtsp_not_ready_policy); starting the source lets a
     *  retry succeed. */
    NL_RTSP_DEMAND_DESCRIBE = 3,
} nl_rtsp_demand;

/**
 * Demand callback of a mount. Runs on the loop thread from the deferred step;
 * several changes in one loop iteration are coalesced (PLAY then IDLE in the
 * same iteration reports nothing). May call any function of this header but
 * nl_rtsp_server_destroy() (removing this very mount is fine).
 */
typedef void (*nl_rtsp_demand_fn)(void *ud, nl_rtsp_mount *m, nl_rtsp_demand what);

/** What DESCRIBE does while a mount's codec parameters are incomplete. */
typedef enum nl_rtsp_not_ready_policy {
    /** Answer from the parameters known so far (e.g. cached from an earlier
     *  run; video without sprop-parameter-sets still plays because every
     *  keyframe carries them in band). 503 only when no SDP can be built. */
    NL_RTSP_NOT_READY_DESCRIBE = 0,
    /** Answer 503 at once. */
    NL_RTSP_NOT_READY_REFUSE = 1,
} nl_rtsp_not_ready_policy;

/** One track of a mount. */
typedef struct nl_rtsp_track_config {
    /** codec_id (H.264, H.265, AAC, PCM µ-law/A-law, or anything libavformat's
     *  rtp muxer carries), codec_type, audio sample_rate and ch_layout, and
     *  extradata: Annex-B SPS/PPS(/VPS) for video (may be empty until known),
     *  the AudioSpecificConfig for AAC. Copied. */
    const AVCodecParameters *par;
    /** Time base of the pts this track's packets carry, e.g. {1, 1000000}. */
    AVRational time_base;
} nl_rtsp_track_config;

/** Mount settings. Zero-initialise. */
typedef struct nl_rtsp_mount_config {
    const char *path;                   /**< "cam" or "/cam/sub": [A-Za-z0-9._~-] segments */
    const nl_rtsp_track_config *tracks; /**< 1..8 tracks; track i is "streamid=i" */
    int n_tracks;
    const char *const *users; /**< NULL-terminated names allowed to watch; NULL: every
                               *   account of the server */
    bool no_login;            /**< anyone may watch without credentials, even when the
                               *   server has accounts (users is then ignored) */
    unsigned max_clients;     /**< sessions on this mount; 0: the server's default */
    bool gop_cache;           /**< new clients start at the last keyframe, paced in real
                               *   time, instead of waiting for the next one */
    nl_rtsp_not_ready_policy not_ready;
    const char *session_name;    /**< SDP s= line; NULL: the path */
    nl_rtsp_demand_fn on_demand; /**< may be NULL */
    void *ud;                    /**< for on_demand */
} nl_rtsp_mount_config;

/**
 * Adds a mount. The muxers are created at the first packet, so all tracks
 * share one clock origin taken from it.
 * @param m  receives the mount (owned by the server; valid until
 *           nl_rtsp_mount_remove() or nl_rtsp_server_destroy())
 * @return 0, NL_EINVAL (bad path or tracks), NL_EEXIST (path taken),
 *         NL_ECODEC (a codec the rtp muxer cannot carry, e.g. ADPCM: decode
 *         it and push PCM µ-law or AAC instead), NL_ENOMEM.
 * Loop thread; does not block.
 */
NL_EXPORT int nl_rtsp_mount_create(nl_rtsp_server *srv, const nl_rtsp_mount_config *cfg,
                                   nl_rtsp_mount **m);

/**
 * Removes a mount: every client session on it is closed at once through the
 * ordinary error path (a TCP client's connection is closed, which is how an
 * RTSP/1.0 client learns the stream ended), and *m is set to NULL. No
 * callback of the mount runs afterwards. NULL-safe. Loop thread.
 */
NL_EXPORT void nl_rtsp_mount_remove(nl_rtsp_mount **m);

/**
 * Pushes one access unit (video: one Annex-B picture with AV_PKT_FLAG_KEY on
 * IDR/IRAP; AAC: one raw AU without ADTS; PCM: any block) of track `track`.
 * pkt->pts is required (in the track's time base); dts is optional.
 *
 * The packet is packetized at once into a shared RTP frame and queued to the
 * clients: the server keeps no reference to pkt, which stays the caller's.
 * Parameter sets seen in band are learnt (SDP), and a keyframe that lacks
 * them gets the latest ones put in front. Never blocks: a client that cannot
 * take the frame loses it (and skips to the next keyframe).
 *
 * @return 0; NL_EINVAL (bad track, no pts, empty); NL_ESTATE when the track
 *         cannot be packetized yet (AAC without AudioSpecificConfig);
 *         NL_ETOOBIG, NL_ENOMEM, NL_ELIBAV when this access unit was lost.
 * Loop thread.
 */
NL_EXPORT int nl_rtsp_mount_push(nl_rtsp_mount *m, int track, const AVPacket *pkt);

/**
 * Updates a track's codec parameters (e.g. SPS/PPS learnt once the camera
 * started). Same codec: the extradata is replaced and the next DESCRIBE uses
 * it. Another codec: the clients of the mount are disconnected (they must
 * DESCRIBE again) and the track's muxer is rebuilt at the next packet.
 * @return 0, NL_EINVAL, NL_ECODEC, NL_ENOMEM. Loop thread.
 */
NL_EXPORT int nl_rtsp_mount_set_codecpar(nl_rtsp_mount *m, int track, const AVCodecParameters *par);

/** True when every track's codec parameters are complete (SPS/PPS(/VPS), ASC). */
NL_EXPORT bool nl_rtsp_mount_ready(const nl_rtsp_mount *m);

/** The mount's path as configured, with a leading '/'. */
NL_EXPORT const char *nl_rtsp_mount_path(const nl_rtsp_mount *m);

/* ---------------------------------------------------------------- stats */

/** Server-wide figures. Gauges are counted from live-object lists. */
typedef struct nl_rtsp_server_stats {
    size_t connections; /**< open TCP connections */
    size_t sessions;    /**< RTSP sessions (SETUP done, not torn down) */
    size_t playing;     /**< of those, playing */
    size_t mounts;
    uint64_t accepted;      /**< connections accepted since creation */
    uint64_t refused;       /**< connections or sessions refused by a limit */
    uint64_t auth_failures; /**< 401/403 answers */
    uint64_t requests;      /**< requests answered */
    uint64_t stalled;       /**< clients disconnected for not draining */
    uint64_t expired;       /**< sessions expired without keepalive */
} nl_rtsp_server_stats;

/** Fills st. Loop thread. */
NL_EXPORT void nl_rtsp_server_get_stats(const nl_rtsp_server *srv, nl_rtsp_server_stats *st);

/** Per-mount figures. Frame counters include sessions already closed. */
typedef struct nl_rtsp_mount_stats {
    const char *path;        /**< valid during the foreach callback only */
    size_t clients;          /**< sessions on the mount */
    size_t playing;          /**< of those, playing */
    uint64_t frames_in;      /**< access units pushed */
    uint64_t frames_lost;    /**< pushed units that could not be packetized */
    uint64_t frames_sent;    /**< frames handed to clients' sockets */
    uint64_t frames_dropped; /**< frames clients lost (overflow, waiting for a keyframe) */
    uint64_t bytes_sent;
    uint64_t overflows;      /**< times a client queue overflowed */
    size_t queue_peak_bytes; /**< largest client queue seen, bytes */
    uint32_t queue_peak_frames;
    bool ready; /**< nl_rtsp_mount_ready() */
} nl_rtsp_mount_stats;

/** Per-client (session) figures. */
typedef struct nl_rtsp_client_stats {
    const char *mount;      /**< valid during the callback only */
    const char *session_id; /**< valid during the callback only */
    const char *peer;       /**< "ip:port" of its RTSP connection; "" once gone */
    bool tcp;               /**< interleaved (else UDP) */
    bool playing;
    uint64_t frames_sent, frames_dropped, bytes_sent, overflows;
    size_t queue_bytes;    /**< now */
    uint32_t queue_frames; /**< now */
    size_t queue_peak_bytes;
    uint32_t queue_peak_frames;
} nl_rtsp_client_stats;

/** Fills st for one mount. Loop thread. */
NL_EXPORT void nl_rtsp_mount_get_stats(const nl_rtsp_mount *m, nl_rtsp_mount_stats *st);

/**
 * Calls fn once per mount (mounts non-NULL) and once per client session
 * (clients non-NULL), mounts first. fn must not call back into the server.
 * Loop thread.
 */
NL_EXPORT void nl_rtsp_server_foreach(const nl_rtsp_server *srv,
                                      void (*fn)(void *ud, const nl_rtsp_mount_stats *mount,
                                                 const nl_rtsp_client_stats *client),
                                      void *ud);

#ifdef __cplusplus
}
#endif
#endif
