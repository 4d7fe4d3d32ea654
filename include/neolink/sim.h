/**
 * @file sim.h
 * A simulated Reolink camera: a Baichuan server on a TCP port that real
 * clients (this library's camera session, neolink, reolink_aio) can log into
 * and stream from. Used for demos, tests and benchmarks.
 *
 * What it does (details in docs/internals/SIMULATOR.md):
 *  - login at any encryption level (it answers min(offered, configured)),
 *    the legacy 1836-byte login body included; wrong credentials get a 400
 *    reply with an empty body;
 *  - one or more channels, each with a main, a sub and an extern (medium
 *    size) stream of synthetic
 *    H.264/H.265 video (a moving test pattern with a frame counter) plus
 *    optional AAC or ADPCM audio, paced in real time with camera-style
 *    microsecond timestamps;
 *  - each distinct stream (channel x main/sub/extern) is encoded once, on a worker
 *    thread, only while at least one connection watches it, and the encoded
 *    frames are fanned out to every watcher;
 *  - the usual control requests (151, 93, 80, 104, 146, 31 with motion
 *    pushes, 114, 76, 37, 199, 208/209, 18, 23, 263, 288), anything unknown
 *    gets 400;
 *  - fault modes (nl_sim_fault) that break the connection in controlled ways.
 *
 * Bounded: at most max_connections clients; each has a bounded output queue.
 * A client that stops reading loses frames (its stream restarts at the next
 * key frame) and is disconnected once nothing could be written for
 * write_timeout_ms.
 *
 * Threads: every function except nl_sim_fault_parse, nl_sim_fault_name and
 * nl_sim_config_init must be called on the thread that runs the loop given
 * to nl_sim_create. The simulator starts one encoder thread per active
 * stream; they never call back into the host. Sockets are written with
 * MSG_NOSIGNAL; no signal handler is installed.
 */
#ifndef NEOLINK_SIM_H
#define NEOLINK_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "neolink/common.h"
#include "neolink/context.h"
#include "neolink/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nl_sim nl_sim;

/** Highest encryption level the simulated camera agrees to. */
typedef enum nl_sim_encryption {
    NL_SIM_ENC_NONE = 0,    /**< plain XML (wire level 0x00) */
    NL_SIM_ENC_BC = 1,      /**< XOR "BCEncrypt" (0x01) */
    NL_SIM_ENC_AES = 2,     /**< AES on XML (0x02) */
    NL_SIM_ENC_FULLAES = 3, /**< AES on XML and on media (0x12) */
} nl_sim_encryption;

typedef enum nl_sim_video_codec {
    NL_SIM_VIDEO_H264 = 0,
    NL_SIM_VIDEO_H265 = 1,
} nl_sim_video_codec;

typedef enum nl_sim_audio_codec {
    NL_SIM_AUDIO_NONE = 0,
    NL_SIM_AUDIO_AAC = 1,   /**< 16 kHz mono AAC in ADTS ("05wb" packets) */
    NL_SIM_AUDIO_ADPCM = 2, /**< 8 kHz mono Reolink DVI-4 ("01wb" packets) */
} nl_sim_audio_codec;

/** Which of a channel's streams. */
typedef enum nl_sim_stream_kind {
    NL_SIM_STREAM_MAIN = 0,   /**< Preview streamType "mainStream" */
    NL_SIM_STREAM_SUB = 1,    /**< "subStream" */
    NL_SIM_STREAM_EXTERN = 2, /**< "externStream": the medium-resolution third stream */
    NL_SIM_STREAM_KINDS = 3,
} nl_sim_stream_kind;

/** Fault modes. Times are counted from the moment the connection started
 *  its first stream ("N seconds into streaming"), unless said otherwise. */
typedef enum nl_sim_fault_kind {
    NL_SIM_FAULT_NONE = 0,
    NL_SIM_FAULT_DROP,         /**< drop:N   close the connection after N s */
    NL_SIM_FAULT_STALL,        /**< stall:N  stop sending anything after N s, keep the socket */
    NL_SIM_FAULT_GARBAGE,      /**< garbage:N random bytes instead of media after N s */
    NL_SIM_FAULT_TRUNCATE,     /**< truncate:N media packets cut to half after N s (BC framing
                                    stays valid, the BcMedia packets inside are short) */
    NL_SIM_FAULT_REJECT_LOGIN, /**< reject-login: every login gets 400 */
    NL_SIM_FAULT_DRIP,         /**< drip:BYTES send at most BYTES per second per connection */
    NL_SIM_FAULT_RESTART,      /**< restart:N  N s after creation: drop every connection, stop
                                    listening for restart_downtime_ms, come back (new nonces,
                                    new camera clock) */
    NL_SIM_FAULT_CLOCK_JUMP,   /**< clock-jump:N  N s into a stream its µs clock jumps forward
                                    to 1 s before the 32-bit wrap, so it wraps 1 s later */
    NL_SIM_FAULT_BIG_LENGTH,   /**< big-length[:N]  after N s (default 0) send a msg-3 header
                                    whose body_len is 0x7FFFFFF0, then keep sending media */
    NL_SIM_FAULT_KINDS
} nl_sim_fault_kind;

/** One fault. `arg` is milliseconds for time faults, bytes per second for drip. */
typedef struct nl_sim_fault {
    nl_sim_fault_kind kind;
    uint64_t arg;
} nl_sim_fault;

#define NL_SIM_MAX_FAULTS   8
#define NL_SIM_MAX_CHANNELS 16

/** One stream's video settings. */
typedef struct nl_sim_stream_config {
    uint32_t width, height; /**< pixels, even, 256x144 .. 4096x2304 (extern: width 0 = none) */
    uint32_t fps;           /**< frames per second, 1..60 */
    uint32_t bitrate_kbps;  /**< encoder target */
} nl_sim_stream_config;

/**
 * Settings of a simulated camera. Fill with nl_sim_config_init(), then change
 * what you need. Strings are copied by nl_sim_create.
 */
typedef struct nl_sim_config {
    const char *listen_host;      /**< numeric IPv4/IPv6 address; default "127.0.0.1" */
    uint16_t port;                /**< default 9000; 0 picks a free port (see nl_sim_port) */
    const char *user;             /**< default "admin" */
    const char *password;         /**< default "" (Reolink's factory default) */
    nl_sim_encryption encryption; /**< default NL_SIM_ENC_AES */
    unsigned channels;            /**< 1..NL_SIM_MAX_CHANNELS, default 1 */
    nl_sim_video_codec codec;     /**< default H.264 */
    nl_sim_audio_codec audio;     /**< default AAC */
    nl_sim_stream_config stream[NL_SIM_STREAM_KINDS]; /**< main 1920x1080@25 4096 kb/s,
                                                           sub 640x360@15 512 kb/s,
                                                           extern 896x512@15 1024 kb/s;
                                                           extern width 0 = a camera without
                                                           it: not listed, its Preview gets
                                                           400 (main and sub always exist) */
    uint32_t gop_ms;                                  /**< key frame interval, default 2000 */
    int cheap;                   /**< 1: the synthesizer encodes a few distinct frames once and
                                      replays them (benchmarks; the counter repeats) */
    unsigned max_connections;    /**< default 256; more are accepted and closed at once */
    size_t max_queue_bytes;      /**< per-connection output bound, default 4 MiB */
    uint32_t write_timeout_ms;   /**< close a client that accepts no byte for this long while
                                      output is pending; default 10000 */
    uint32_t login_timeout_ms;   /**< close a connection not logged in after this; default 30000 */
    uint32_t motion_interval_ms; /**< after msg 31, a 33 push toggling motion every interval;
                                      default 5000, 0 = never push */
    uint32_t keepalive_interval_ms; /**< camera-initiated 234 heartbeats; default 0 = off */
    uint32_t restart_downtime_ms;   /**< restart fault: time without a listener; default 500 */
    uint32_t socket_sndbuf; /**< SO_SNDBUF of client sockets; 0 = the system's (tests make it
                                 small to see a non-reading client quickly) */
    const char *uid;        /**< reported by msg 114; default "SIMCAM0000000001" */
    const char *model;      /**< reported by msg 80; default "NeolinkSim" */
    nl_sim_fault faults[NL_SIM_MAX_FAULTS];
    unsigned nfaults;
} nl_sim_config;

/** Fills cfg with the defaults documented above. Any thread; never blocks. */
NL_EXPORT void nl_sim_config_init(nl_sim_config *cfg);

/**
 * Parses a fault as written on the command line: "drop:N", "stall:N",
 * "garbage:N", "truncate:N", "reject-login", "drip:BYTES", "restart:N",
 * "clock-jump:N", "big-length" or "big-length:N". N is seconds, decimals
 * allowed ("drop:0.5"). Any thread; never blocks.
 * @return 0, or NL_EINVAL for an unknown kind, a missing, extra or bad
 *         argument (times above one day and drip rates of 0 are refused).
 */
NL_EXPORT int nl_sim_fault_parse(const char *spec, nl_sim_fault *out);

/** "drop", "stall", ... or "none". Static string. Any thread. */
NL_EXPORT const char *nl_sim_fault_name(nl_sim_fault_kind kind);

/**
 * Creates a simulated camera and starts listening at once (so the port is
 * known when this returns).
 *
 * @param out  receives the camera; NULL on failure
 * @param ctx  logging context (borrowed: must outlive the camera); logs name
 *             "sim" and "sim conn N"; credentials are never logged
 * @param loop the loop that will run it (borrowed: must outlive the camera)
 * @param cfg  settings, copied
 * @return 0, NL_EINVAL / NL_ECONFIG for bad settings (bad address, sizes,
 *         too many faults), NL_EADDRINUSE and other socket errors, NL_ENOMEM.
 * Loop thread; does not block beyond bind/listen.
 */
NL_EXPORT int nl_sim_create(nl_sim **out, nl_ctx *ctx, nl_loop *loop, const nl_sim_config *cfg);

/**
 * Closes every connection and the listener, stops the encoder threads and
 * frees the camera; sets *sim to NULL. NULL and a pointer to NULL are no-ops.
 * Loop thread. Blocks at most ~2 s in total waiting for encoder threads to
 * finish the frame they are encoding (normally a few milliseconds); a thread
 * that misses the deadline is left to finish on its own and logged.
 * Deferred frees of connections run on the loop's next iteration (or at
 * nl_loop_destroy), so keep the loop alive until then.
 */
NL_EXPORT void nl_sim_destroy(nl_sim **sim);

/** The TCP port actually bound (useful with port 0), or 0 while the restart
 *  fault has the listener closed. Loop thread; never blocks. */
NL_EXPORT uint16_t nl_sim_port(const nl_sim *sim);

/** Statistics. Gauges are derived from live objects, never hand-counted. */
typedef struct nl_sim_stats {
    uint32_t connections;         /**< open connections now */
    uint64_t connections_total;   /**< accepted since creation */
    uint64_t connections_refused; /**< closed at once because max_connections was reached */
    uint64_t logins;              /**< successful logins */
    uint64_t failed_logins;       /**< rejected logins (wrong credentials or reject-login) */
    uint32_t streams_active;      /**< encoded streams running now (one per channel x kind) */
    uint32_t streams_by_kind[NL_SIM_STREAM_KINDS]; /**< the same, split main/sub/extern */
    uint32_t viewers;          /**< stream subscriptions now, over all connections */
    uint64_t streams_started;  /**< encoders started since creation */
    uint64_t frames_encoded;   /**< video frames produced by all encoders */
    uint64_t frames_dropped;   /**< media messages not queued for a slow client */
    uint64_t bytes_sent;       /**< bytes written to clients */
    uint64_t slow_disconnects; /**< clients closed by write_timeout_ms */
    uint64_t restarts;         /**< restart faults carried out */
    uint64_t motion_pushes;    /**< 33 messages sent */
} nl_sim_stats;

/**
 * Copies the statistics into *st. Pass sizeof *st: a caller built against an
 * older, shorter struct gets only the fields it knows. Loop thread; never
 * blocks. Returns 0 or NL_EINVAL.
 */
NL_EXPORT int nl_sim_get_stats(const nl_sim *sim, nl_sim_stats *st, size_t size);

/**
 * Writes a one-line human-readable status ("sim: port 9000 connections 3
 * logins 3 streams 1 (main 0 sub 1) viewers 3 ...") into buf (always
 * terminated). "extern N" follows "sub N" only while an extern stream is
 * encoded ("(main 1 sub 0 extern 1)"), so main/sub lines read as before. Returns the length it
 * wanted (like snprintf). Loop thread.
 */
NL_EXPORT int nl_sim_status_line(const nl_sim *sim, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
