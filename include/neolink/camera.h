/**
 * @file camera.h
 * A camera session: one Baichuan (TCP 9000) connection to a Reolink camera,
 * driven by an nl_loop, that logs in, keeps the link alive and delivers the
 * camera's media streams as reference-counted AVPackets.
 *
 * Life of a session:
 *
 *     IDLE --connect--> CONNECTING --> LOGIN --> READY <--> STREAMING
 *                            |            |        |            |
 *                            +------------+--------+---close----+--> CLOSING --> CLOSED
 *     (any failure goes straight to CLOSED with an error; CLOSED --connect--> CONNECTING)
 *
 * Every step runs under a deadline (connect, login, each reply, keepalive,
 * media stall, close); nothing in this API blocks. A failure ends in CLOSED
 * with a negative code from neolink/error.h plus a one-line detail string
 * (nl_camera_last_error_detail). The session never reconnects or retries a
 * login by itself: the owner decides (see nl_camera_stats.last_error_fatal).
 * A rejected login is always NL_EAUTH ("camera rejected the credentials").
 *
 * Threads: every function must be called on the thread running the loop
 * given at creation (the "loop thread"), and every callback runs there.
 * Callbacks may call any function of this API on the same camera, including
 * nl_camera_destroy (the memory is then released after the callback, at the
 * end of the loop iteration). A state change caused by a call (connect ->
 * CONNECTING, start -> STREAMING, close -> CLOSING...) is reported by on_state
 * before that call returns; everything else is reported from the loop.
 *
 * Memory: each camera owns an arena (include/neolink/arena.h) with a hard
 * byte cap that holds the session and its connection; sockets, timers and
 * demuxers are released through its cleanup handlers. Media payloads are
 * refcounted AVBuffers and may outlive the camera.
 */
#ifndef NEOLINK_CAMERA_H
#define NEOLINK_CAMERA_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/codec_par.h>
#include <libavcodec/packet.h>

#include "neolink/common.h"
#include "neolink/context.h"
#include "neolink/loop.h"
#include "neolink/media.h"

/** Longest user name or password a camera's login takes, in bytes. */
#define NL_CAMERA_CREDENTIAL_MAX 63

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque camera session. */
typedef struct nl_camera nl_camera;

/** Session states (see the diagram above). */
typedef enum nl_camera_state {
    NL_CAMERA_IDLE = 0,       /**< created, never connected */
    NL_CAMERA_CONNECTING = 1, /**< resolving the host and opening TCP */
    NL_CAMERA_LOGIN = 2,      /**< nonce, login, DeviceInfo, AbilityInfo */
    NL_CAMERA_READY = 3,      /**< logged in, no stream active */
    NL_CAMERA_STREAMING = 4,  /**< logged in, at least one stream starting/active/stopping */
    NL_CAMERA_CLOSING = 5,    /**< stopping streams and logging out under a deadline */
    NL_CAMERA_CLOSED = 6,     /**< connection gone; see nl_camera_last_error() */
} nl_camera_state;

/** The camera's streams. Each has its own Preview handle (main 0, sub 256,
 *  extern 1024) and its own correlation word on the shared connection. */
typedef enum nl_camera_stream {
    NL_CAMERA_STREAM_MAIN = 0,   /**< "mainStream": full resolution ("clear") */
    NL_CAMERA_STREAM_SUB = 1,    /**< "subStream": low resolution ("fluent") */
    NL_CAMERA_STREAM_EXTERN = 2, /**< "externStream": "balanced" (some models only) */
    NL_CAMERA_STREAM_COUNT = 3,
} nl_camera_stream;

/** Highest encryption the session offers at login (config.max_encryption). */
typedef enum nl_camera_encryption {
    NL_CAMERA_ENC_NONE = 0, /**< offer level 0x00: plain XML */
    NL_CAMERA_ENC_BC = 1,   /**< offer level 0x01: XOR "BCEncrypt" */
    NL_CAMERA_ENC_AES = 2,  /**< offer level 0x12: AES (the camera may answer 0x02/0x03/0x12) */
} nl_camera_encryption;

/** What happened to a stream (nl_camera_callbacks.on_stream). */
typedef enum nl_camera_stream_event {
    NL_CAMERA_STREAM_STARTED = 0, /**< the camera accepted the start request */
    NL_CAMERA_STREAM_STOPPED = 1, /**< stopped on request (camera answered, or the
                                       stop wait of config.stop_timeout_ms ran out) */
    NL_CAMERA_STREAM_FAILED = 2,  /**< refused, timed out, or the connection failed */
} nl_camera_stream_event;

/** Value of a *_ms option that switches the check off. */
#define NL_CAMERA_TIMEOUT_OFF UINT32_MAX

/**
 * Session options. Fill with nl_camera_config_init() (or zero-initialise:
 * a zero field means its default), then set what you need. Strings are
 * copied by nl_camera_create(); the struct can be discarded afterwards.
 */
typedef struct nl_camera_config {
    const char *name;     /**< label in log lines ("camera NAME"); NULL: the host */
    const char *host;     /**< required: IP address or host name (at most 255 bytes) */
    uint16_t port;        /**< TCP port; 0: 9000 */
    const char *username; /**< NULL: "admin" (at most NL_CAMERA_CREDENTIAL_MAX bytes) */
    const char *password; /**< NULL: "" (at most NL_CAMERA_CREDENTIAL_MAX bytes; never
                           *   logged) */
    uint32_t channel;     /**< channelId of the video requests (0 for a camera; NVR channel) */
    nl_camera_encryption max_encryption; /**< highest level offered; default AES */

    uint32_t connect_timeout_ms;    /**< name resolution + TCP connect; default 5000 */
    uint32_t login_timeout_ms;      /**< whole login, from TCP up to READY; default 15000 */
    uint32_t request_timeout_ms;    /**< wait for a stream start reply; default 5000 */
    uint32_t stop_timeout_ms;       /**< wait for a stream stop reply; default 2000 */
    uint32_t keepalive_interval_ms; /**< msg-93 ping period; default 5000; OFF disables */
    uint32_t keepalive_misses;      /**< unanswered pings that kill the link; default 5 */
    uint32_t stall_timeout_ms;      /**< no video frame delivered on a started stream for this long is
                                         an NL_ESTALL failure; default 10000; OFF disables */
    uint32_t max_message;           /**< largest BC message body accepted; default 4 MiB */
    size_t arena_cap;               /**< byte cap of the session arena; default 1 MiB */
    int subscribe_motion;           /**< 1: send msg 31 after login so the camera pushes
                                         motion events (on_motion); 0: only if on_motion
                                         is set; -1: never */
} nl_camera_config;

/**
 * Callbacks, all optional (NULL), all run on the loop thread. `ud` is passed
 * back unchanged. A callback may call this API on the same camera (start,
 * stop, close, connect, destroy...). Callbacks should return quickly: they
 * run inside the loop iteration that received the data.
 */
typedef struct nl_camera_callbacks {
    void *ud;
    /** Every state change. `error` is 0, except when entering CLOSED after a
     *  failure (then it equals nl_camera_last_error()). */
    void (*on_state)(void *ud, nl_camera *cam, nl_camera_state state, int error);
    /** Stream lifecycle: STARTED (error 0), STOPPED (0 or NL_ETIMEDOUT when the
     *  camera did not confirm the stop in time), FAILED (negative code). */
    void (*on_stream)(void *ud, nl_camera *cam, nl_camera_stream stream, nl_camera_stream_event ev,
                      int error);
    /** One media packet: video access unit (stream_index 0) or audio
     *  (stream_index 1), pts/dts in µs of the camera clock unwrapped to 64
     *  bits (time base 1/1000000). `pkt` is borrowed and valid until the
     *  callback returns: keep it with av_packet_ref(), or take it with
     *  av_packet_move_ref(). `meta` (borrowed, same lifetime) says what it is
     *  (kind, codec, flags such as NL_MEDIA_FLAG_PARAMS_CHANGED). Info packets
     *  are not delivered; see nl_camera_stream_info(). */
    void (*on_packet)(void *ud, nl_camera *cam, nl_camera_stream stream, AVPacket *pkt,
                      const nl_media_meta *meta);
    /** The stream's video codec parameters (codec, size, profile, Annex-B
     *  extradata with VPS/SPS/PPS) became known or changed. Called before the
     *  on_packet of the packet that carried them. `par` is borrowed. */
    void (*on_params)(void *ud, nl_camera *cam, nl_camera_stream stream,
                      const AVCodecParameters *par);
    /** Motion state of the configured channel changed: 1 started, 0 stopped
     *  (from the camera's msg-33 pushes). */
    void (*on_motion)(void *ud, nl_camera *cam, int motion);
} nl_camera_callbacks;

/** What the camera told us at login. Strings are NUL-terminated, "" if unknown. */
typedef struct nl_camera_device_info {
    char model[64];         /**< VersionInfo type (e.g. "E1"), else DeviceInfo type */
    char name[64];          /**< VersionInfo name (the device name) */
    char firmware[64];      /**< VersionInfo firmwareVersion, else DeviceInfo firmVersion */
    char serial[64];        /**< VersionInfo serialNumber */
    char type[32];          /**< DeviceInfo type: "ipc", "wifi_solo_ipc", "nvr"... */
    uint32_t width, height; /**< DeviceInfo resolution (0 when absent) */
    uint32_t channels;      /**< DeviceInfo channelNum */
    uint8_t encryption;     /**< negotiated level byte: 0x00, 0x01, 0x02, 0x03 or 0x12 */
    /** Per stream, from the StreamInfoList (0 when the camera did not list it). */
    struct {
        uint32_t width, height, fps, bitrate_kbps;
    } stream[NL_CAMERA_STREAM_COUNT];
} nl_camera_device_info;

/** Counters of one stream, cumulated over the camera's lifetime. */
typedef struct nl_camera_stream_stats {
    uint64_t bytes;         /**< BcMedia bytes received */
    uint64_t frames;        /**< video packets delivered */
    uint64_t keyframes;     /**< of which key frames */
    uint64_t audio_packets; /**< audio packets delivered */
    uint64_t bytes_skipped; /**< garbage bytes the demuxer skipped */
    uint64_t resyncs;       /**< times the demuxer resynchronised */
    uint64_t starts;        /**< times the stream started */
    int64_t first_pts_us;   /**< video pts of the first frame of the current run
                                 (INT64_MIN before any) */
    int64_t last_pts_us;    /**< latest video pts (INT64_MIN before any) */
} nl_camera_stream_stats;

/** Session counters (nl_camera_get_stats). */
typedef struct nl_camera_stats {
    uint64_t connects; /**< connection attempts (nl_camera_connect calls) */
    uint64_t logins;   /**< successful logins */
    uint64_t bytes_in, bytes_out;
    uint64_t messages_in, messages_out;
    uint64_t keepalives_sent;     /**< msg-93 pings sent */
    uint64_t keepalives_missed;   /**< pings that went unanswered for a whole interval */
    uint64_t heartbeats_answered; /**< camera msg-234 heartbeats answered */
    uint64_t framing_resyncs;     /**< times the BC framer resynchronised after garbage */
    uint64_t messages_dropped;    /**< undecodable or unexpected messages ignored */
    uint64_t motion_events;       /**< msg-33 pushes received */
    int last_error;               /**< code of the latest failure (0: none yet) */
    int last_error_fatal;         /**< 1 when reconnecting cannot help (NL_EAUTH, NL_ECONFIG) */
    size_t arena_used;            /**< session arena bytes now */
    size_t arena_high_water;      /**< and at most so far */
    nl_camera_stream_stats stream[NL_CAMERA_STREAM_COUNT];
} nl_camera_stats;

/**
 * Fills cfg with the defaults (host NULL: the caller must set it).
 * Any thread; never blocks.
 */
NL_EXPORT void nl_camera_config_init(nl_camera_config *cfg);

/**
 * Creates a camera session in state IDLE. Nothing is sent until
 * nl_camera_connect().
 *
 * @param out  receives the camera; set to NULL on failure. Caller must free
 *             with nl_camera_destroy().
 * @param ctx  log context (borrowed; must outlive the camera)
 * @param loop loop that will run the session (borrowed; must outlive the camera)
 * @param cfg  options (copied)
 * @param cb   callbacks (copied; may be NULL)
 * @return 0, NL_EINVAL (NULL arguments), NL_ECONFIG (missing host, over-long
 *         strings, bad values), NL_ENOMEM / NL_EARENA.
 * Loop thread (or any thread while the loop is not running); never blocks.
 */
NL_EXPORT int nl_camera_create(nl_camera **out, nl_ctx *ctx, nl_loop *loop,
                               const nl_camera_config *cfg, const nl_camera_callbacks *cb);

/**
 * Destroys the camera at once, without logging out (use nl_camera_close()
 * first for a polite goodbye): the socket is closed, timers stopped, and no
 * callback runs any more. Sets *cam to NULL; NULL and a pointer to NULL are
 * no-ops. Memory is released immediately, or at the end of the current loop
 * iteration when called from one of the camera's own callbacks or while a
 * failed connection is still being reaped (nl_loop_destroy also releases it).
 * Packets the owner kept (av_packet_ref) stay valid. Loop thread; never blocks.
 */
NL_EXPORT void nl_camera_destroy(nl_camera **cam);

/**
 * Starts connecting: resolves the host (without blocking the loop: numeric
 * addresses directly, names on a short-lived helper thread), opens a
 * non-blocking TCP connection to each address in turn, then logs in. The
 * outcome is reported through on_state (READY, or CLOSED with an error).
 * Deadlines: connect_timeout_ms for resolution + TCP, then login_timeout_ms
 * for the login, both counted from the loop's cached time (nl_loop_now).
 * @return 0; NL_ESTATE unless the state is IDLE or CLOSED; NL_ENOMEM /
 *         NL_EARENA; or the failure code when the attempt failed at once
 *         (e.g. an address that cannot be parsed), in which case on_state has
 *         already reported CLOSED. Loop thread; never blocks.
 */
NL_EXPORT int nl_camera_connect(nl_camera *cam);

/**
 * Asks for a stream. Allowed in CONNECTING, LOGIN (the request is queued
 * until READY), READY and STREAMING. The camera's answer comes through
 * on_stream (STARTED or FAILED, within request_timeout_ms), then packets
 * through on_packet. Starting a stream that is already starting or running
 * is a no-op returning 0.
 * @return 0, NL_EINVAL (bad stream), NL_ESTATE (not connected, closing, or the
 *         stream is still stopping), NL_ETOOBIG / NL_ENOMEM (send queue).
 * Loop thread; never blocks.
 */
NL_EXPORT int nl_camera_start_stream(nl_camera *cam, nl_camera_stream stream);

/**
 * Stops a stream: sends msg 4 with the start's correlation word and waits at
 * most stop_timeout_ms (default 2 s) for the camera's answer; on_stream
 * reports STOPPED either way. No packet of this stream is delivered after
 * this call returns. Stopping a stream that is not running is a no-op
 * returning 0 (a queued start is simply cancelled).
 * @return 0, NL_EINVAL, NL_ETOOBIG / NL_ENOMEM. Loop thread; never blocks.
 */
NL_EXPORT int nl_camera_stop_stream(nl_camera *cam, nl_camera_stream stream);

/**
 * Requests a graceful close within timeout_ms: stops the running streams
 * (msg 4), logs out (msg 2, best effort) and closes the socket; on_state
 * reports CLOSING, then CLOSED with error 0. If the camera stops answering,
 * the close cannot take longer than the deadline: when it passes, the
 * connection is failed through the ordinary error path (CLOSED with
 * NL_ETIMEDOUT and a detail saying which step was pending). Before login
 * the connection is simply dropped (CLOSED with 0, on the next loop
 * iteration). Calling it again while CLOSING can only shorten the deadline.
 * In IDLE or CLOSED it does nothing and returns 0.
 * @return 0. Loop thread; never blocks.
 */
NL_EXPORT int nl_camera_close(nl_camera *cam, uint32_t timeout_ms);

/** Current state. Loop thread; never blocks. */
NL_EXPORT nl_camera_state nl_camera_get_state(const nl_camera *cam);

/** "idle", "connecting", "login", "ready", "streaming", "closing", "closed". Static string. */
NL_EXPORT const char *nl_camera_state_name(nl_camera_state state);

/** Code of the failure that closed the latest connection, 0 if none. Loop thread. */
NL_EXPORT int nl_camera_last_error(const nl_camera *cam);

/**
 * One line saying what exactly failed, e.g. "login rejected by camera (400)"
 * or "connect to 127.0.0.1:9 failed: connection refused"; "" when there was
 * no failure. The string belongs to the camera and stays valid until the
 * next call into this camera. Loop thread; never blocks.
 */
NL_EXPORT const char *nl_camera_last_error_detail(const nl_camera *cam);

/**
 * Copies what the camera reported at login.
 * @return 0, or NL_EAGAIN before the first successful login. Loop thread.
 */
NL_EXPORT int nl_camera_get_device_info(const nl_camera *cam, nl_camera_device_info *info);

/**
 * Copies the counters. `size` is sizeof(*st) as the caller compiled it, so a
 * newer library can grow the struct: only the first `size` bytes are written.
 * @return 0 or NL_EINVAL. Loop thread; never blocks.
 */
NL_EXPORT int nl_camera_get_stats(const nl_camera *cam, nl_camera_stats *st, size_t size);

/**
 * Video codec parameters of a stream (codec_id, width, height, profile,
 * level, Annex-B extradata); par's previous extradata is freed.
 * @return 0, NL_EAGAIN while the stream's parameter sets are unknown,
 *         NL_EINVAL, NL_ENOMEM. Loop thread.
 */
NL_EXPORT int nl_camera_stream_params(const nl_camera *cam, nl_camera_stream stream,
                                      AVCodecParameters *par);

/**
 * The stream's latest Info packet (announced size, fps, camera local time).
 * @return 0, NL_EAGAIN when none was received yet, NL_EINVAL. Loop thread.
 */
NL_EXPORT int nl_camera_stream_info(const nl_camera *cam, nl_camera_stream stream,
                                    nl_media_info *info);

/** Audio format seen on a stream (codec NONE until audio arrived). Loop thread. */
NL_EXPORT int nl_camera_stream_audio(const nl_camera *cam, nl_camera_stream stream,
                                     nl_media_audio_format *fmt);

/** "main", "sub", "extern" (or "?"). Static string; any thread. */
NL_EXPORT const char *nl_camera_stream_name(nl_camera_stream stream);

/** Parses "main"/"sub"/"extern" (also "mainStream"...). Returns the stream or NL_EINVAL. */
NL_EXPORT int nl_camera_stream_parse(const char *name);

/** Parses "none"/"bc"/"aes". Returns an nl_camera_encryption or NL_EINVAL. Any thread. */
NL_EXPORT int nl_camera_encryption_parse(const char *name);

/**
 * Name of a negotiated level byte: "none" (0x00), "bc" (0x01), "aes" (0x02),
 * "aes (0x03)", "fullaes" (0x12), or "unknown". Static string; any thread.
 */
NL_EXPORT const char *nl_camera_encryption_name(unsigned level);

/**
 * True for errors a reconnect cannot fix (NL_EAUTH, NL_ECONFIG): the owner
 * should not retry them in a loop. Any thread.
 */
NL_EXPORT int nl_camera_error_is_fatal(int code);

#ifdef __cplusplus
}
#endif
#endif
