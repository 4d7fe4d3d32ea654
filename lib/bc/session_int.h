/* Internals of the camera session (include/neolink/camera.h).
 *
 * Files:
 *   session.c         public entry points: validation, config, queries, destroy
 *   session_fsm.c     connection lifecycle, message routing, deadlines, failure and close
 *   session_login.c   login steps: legacy upgrade -> nonce -> modern login -> 151 -> 80
 *   session_io.c      non-blocking connect, bounded read/write, the fd callback
 *   session_stream.c  per-stream handles: start/stop, media routing into the demuxer
 *   session_resolve.c host name resolution off the loop thread
 * docs/internals/SESSION.md explains the design.
 *
 * Ownership: the camera struct lives in the camera arena. Each TCP connection
 * is an nl__conn in a child arena, created by connect and released (after the
 * loop iteration that failed or closed it, through the camera's reap entry)
 * when it ends, so a reconnecting camera never accumulates memory. Everything
 * a connection holds (socket, framer and codec buffers, address list,
 * resolver) is released by that child arena's cleanup handlers.
 *
 * Re-entrancy: user callbacks may call back into the API, including destroy.
 * A connection is never freed while code up the stack may still use it: it is
 * marked dead (socket closed, timer stopped) and parked on the camera's
 * graveyard until the deferred reap. Every internal function that may have
 * run a callback reports whether the connection is still alive (a negative
 * return means "dead: touch nothing more"). */
#ifndef NL_BC_SESSION_INT_H
#define NL_BC_SESSION_INT_H

#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>

#include "bc/codec.h"
#include "bc/frame.h"
#include "core/dbuf.h"
#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/arena.h"
#include "neolink/camera.h"

#define NL__CAM_MAGIC 0x314d4143u /* "CAM1" */

#define NL__CAM_HOST_MAX   256
#define NL__CAM_CRED_MAX   64
#define NL__CAM_DETAIL_MAX 256

/* Defaults of nl_camera_config (documented in camera.h). */
#define NL__CAM_DEF_PORT             9000
#define NL__CAM_DEF_CONNECT_MS       5000u
#define NL__CAM_DEF_LOGIN_MS         15000u
#define NL__CAM_DEF_REQUEST_MS       5000u
#define NL__CAM_DEF_STOP_MS          2000u
#define NL__CAM_DEF_KEEPALIVE_MS     5000u
#define NL__CAM_DEF_KEEPALIVE_MISSES 5u
#define NL__CAM_DEF_STALL_MS         10000u
#define NL__CAM_DEF_ARENA            (1024u * 1024u)

/* Bounded buffers of one connection. */
#define NL__CONN_ARENA_CAP   (128u * 1024u)
#define NL__CONN_OUT_MAX     (256u * 1024u) /* we send small control messages only */
#define NL__CONN_SCRATCH_MAX (16u * 1024u)
#define NL__CONN_READ_BUDGET (512u * 1024u) /* bytes read per readiness callback */
/* After the logout is sent, how long to linger for its answer before closing. */
#define NL__CONN_LOGOUT_LINGER_NS (500u * NL_NS_PER_MS)
/* Consecutive undecodable messages tolerated after login. */
#define NL__CONN_MAX_BAD_MSGS 16u
/* Framer resynchronisations tolerated per minute before giving up. */
#define NL__CONN_MAX_RESYNCS 64u

/* Connection phases: finer than the public states. */
enum nl__phase {
    NL__PH_RESOLVE = 0, /* waiting for the resolver */
    NL__PH_CONNECT,     /* TCP connect in progress */
    NL__PH_NONCE,       /* legacy upgrade sent, waiting for the 0x6614 nonce reply */
    NL__PH_LOGIN,       /* modern login sent */
    NL__PH_ABILITY,     /* 151 AbilityInfo sent */
    NL__PH_VERSION,     /* 80 VersionInfo sent */
    NL__PH_READY,       /* logged in */
    NL__PH_STOPPING,    /* closing: waiting for stream stop replies */
    NL__PH_LOGOUT,      /* closing: logout sent, lingering for its answer */
    NL__PH_DROP,        /* closing before login: drop on the next tick */
};

/* Stream states. */
enum nl__st {
    NL__ST_IDLE = 0,
    NL__ST_QUEUED,   /* requested before login finished */
    NL__ST_STARTING, /* msg 3 sent, waiting for the 200 + binaryData reply */
    NL__ST_RUNNING,  /* media flowing */
    NL__ST_STOPPING, /* msg 4 sent, waiting (bounded) for its reply */
};

typedef struct nl__resolver nl__resolver;

typedef struct nl__stream {
    int kind;               /* nl_camera_stream */
    int st;                 /* enum nl__st */
    uint32_t corr;          /* correlation word of the start request (also the stop's) */
    uint32_t handle;        /* Preview handle: main 0 / sub 256 / extern 1024 */
    uint64_t deadline;      /* STARTING/STOPPING: reply deadline */
    uint64_t last_media;    /* RUNNING: when the latest video frame was delivered (or the
                               stream started) */
    int stop_err;           /* error to report with STOPPED */
    nl_media_demux *demux;  /* created on the first start, kept across runs */
    AVCodecParameters *par; /* latest video parameters handed to on_params */
    nl_camera_stream_stats stats;
} nl__stream;

typedef struct nl__conn nl__conn;
typedef struct nl_camera nl_camera;

struct nl__conn {
    nl_camera *cam;
    nl_arena *arena;
    nl__conn *next_dead; /* graveyard link */
    int dead;
    int phase; /* enum nl__phase */

    int fd;
    nl_io io;
    nl_timer timer; /* the one timer: armed at nl__conn_next_deadline() */
    int connected;

    nl__resolver *res;
    nl_io res_io;
    struct addrinfo *ai; /* resolved list (owned) */
    const struct addrinfo *ai_cur;
    int connect_err; /* last connect error, for the failure message */

    uint64_t phase_deadline; /* connect, login or linger deadline (by phase) */
    uint64_t close_deadline; /* NL_TIME_NEVER until close is requested */
    uint64_t close_timeout_ms;

    nl_bc_framer framer;
    nl_bc_codec codec;
    nl_bc_xml *xml; /* payload parser (the codec's parses extensions) */
    nl_dbuf out;    /* bytes waiting for the socket */
    size_t out_pos;
    nl_dbuf ext, body; /* scratch for building outgoing sections */

    uint16_t next_num;  /* message counter, bytes 14..15 of the correlation word */
    uint32_t wait_corr; /* correlation of the login-phase request being awaited */
    uint8_t level;      /* negotiated encryption level */
    char nonce[NL_BC_NONCE_MAX];

    uint64_t ping_due;
    uint32_t ping_corr;
    int ping_outstanding;
    unsigned ping_misses;
    uint32_t logout_corr;
    unsigned bad_msgs;
    unsigned resyncs;       /* framer resyncs in the current window */
    uint64_t resync_window; /* start of that one-minute window */
    int motion;             /* last motion state reported, -1 unknown */
};

struct nl_camera {
    uint32_t magic;
    nl_arena *arena;
    nl_ctx *ctx;
    nl_loop *loop;
    char who[96]; /* "camera NAME" for log lines */

    /* configuration, resolved (times in ns, NL_TIME_NEVER = off) */
    char *host, *user, *pass;
    uint16_t port;
    char addr[NL__CAM_HOST_MAX + 16]; /* "host:port" or "[v6]:port" for messages */
    uint32_t channel;
    uint8_t offer_level; /* 0x00, 0x01 or 0x12 */
    uint64_t connect_ns, login_ns, request_ns, stop_ns, keepalive_ns, stall_ns;
    uint32_t keepalive_misses;
    uint32_t max_message;
    int subscribe_motion;
    nl_camera_callbacks cb;

    nl_camera_state state;
    int err;
    char detail[NL__CAM_DETAIL_MAX];
    int cb_depth;  /* > 0 while a user callback runs */
    int destroyed; /* destroy was called; freed by the reap */

    nl__conn *conn;      /* current connection, NULL when IDLE/CLOSED */
    nl__conn *graveyard; /* dead connections waiting for the reap */
    nl_deferred reap;

    nl__stream streams[NL_CAMERA_STREAM_COUNT];
    int have_info;
    nl_camera_device_info info;
    nl_camera_stats stats;
};

/* ---- session_fsm.c ----------------------------------------------------- */

/* Creates the connection object of a connect (phase RESOLVE). */
int nl__conn_new(nl_camera *cam, nl__conn **out);
/* Fails the connection: records code + detail, closes the socket, reports
 * the streams FAILED and the camera CLOSED. Returns code (always negative)
 * so callers can `return nl__conn_fail(...)`. No-op on a dead connection. */
int nl__conn_fail(nl__conn *c, int code, const char *fmt, ...) NL_PRINTF(3, 4);
/* Ends the connection without an error (graceful close). Returns NL_ECANCELED
 * (the connection is gone). */
int nl__conn_finish(nl__conn *c);
/* Dispatches one framed message. Returns 0, or negative when the connection
 * died meanwhile. */
int nl__conn_on_message(nl__conn *c, nl_bc_msg *m);
/* Earliest deadline of the connection (pure function of its state). */
uint64_t nl__conn_next_deadline(const nl__conn *c);
/* Handles every deadline that has passed at `now`. 0 or negative (dead). */
int nl__conn_on_time(nl__conn *c, uint64_t now);
/* Re-arms the connection timer at its next deadline (no-op when dead). */
void nl__conn_rearm(nl__conn *c);
/* Close request (see nl_camera_close). Returns 0 or negative (dead). */
int nl__conn_close(nl__conn *c, uint64_t timeout_ms);
/* Closing: continues once the streams are stopped (sends the logout). */
int nl__conn_close_continue(nl__conn *c);
/* Next correlation word: byte 12 = channel (the XOR offset), byte 13 = the
 * stream byte, bytes 14..15 = the message counter. */
uint32_t nl__conn_corr(nl__conn *c, uint8_t stream_byte);
/* Public state from the connection phase and the streams; reports changes. */
void nl__cam_update_state(nl_camera *cam);
void nl__cam_set_state(nl_camera *cam, nl_camera_state st, int err);
/* Callback wrappers: count the nesting, tolerate NULL callbacks. */
void nl__cam_emit_stream(nl_camera *cam, int kind, nl_camera_stream_event ev, int err);
/* Releases dead connections (and the camera once destroyed). */
void nl__cam_reap(nl_deferred *d);
/* Kills the connection without callbacks (destroy). */
void nl__conn_kill(nl__conn *c);

/* ---- session_login.c ----------------------------------------------------- */

/* TCP is up: sends the legacy upgrade request offering the configured level. */
int nl__login_begin(nl__conn *c);
/* A message during the login phases. 0 or negative (dead). */
int nl__login_on_message(nl__conn *c, const nl_bc_decoded *d);
/* Phase name for messages ("the nonce reply"...). */
const char *nl__login_waiting_for(int phase);

/* ---- session_io.c -------------------------------------------------------- */

/* Resolves the host (inline for literals, else on the helper thread), then
 * connects. 0 or negative (dead). */
int nl__io_begin(nl__conn *c);
/* Starts connecting to the next resolved address; fails the connection when
 * none is left. 0 or negative (dead). */
int nl__io_connect_next(nl__conn *c);
/* Adopts a connected socket (tests) and starts watching it. */
int nl__io_adopt(nl__conn *c, int fd);
/* Encodes one message into the send queue and writes what the socket takes.
 * 0 or negative (the connection failed: queue full or a socket error). */
int nl__io_send(nl__conn *c, const nl_bc_header *h, const void *ext, size_t ext_len,
                const void *payload, size_t payload_len);
/* Header-only request with a fresh correlation word; *corr_out may be NULL. */
int nl__io_send_simple(nl__conn *c, uint32_t msg_id, uint32_t *corr_out);
/* Closes the socket and stops its watcher (idempotent). */
void nl__io_close(nl__conn *c);

/* ---- session_stream.c ---------------------------------------------------- */

int nl__stream_start(nl_camera *cam, nl__stream *s);
int nl__stream_stop(nl_camera *cam, nl__stream *s);
/* Login done: sends the queued start requests. 0 or negative (dead). */
int nl__streams_start_queued(nl__conn *c);
/* msg 3 / msg 4 from the camera. 0 or negative (dead). */
int nl__stream_on_video(nl__conn *c, const nl_bc_decoded *d);
int nl__stream_on_stop_reply(nl__conn *c, const nl_bc_decoded *d);
/* Earliest stream deadline (start/stop replies, stall), NL_TIME_NEVER if none. */
uint64_t nl__streams_next_deadline(const nl_camera *cam);
int nl__streams_on_time(nl__conn *c, uint64_t now);
/* Number of streams in STARTING/RUNNING/STOPPING. */
unsigned nl__streams_active(const nl_camera *cam);
unsigned nl__streams_stopping(const nl_camera *cam);
/* Connection gone: every stream goes IDLE; those that were not idle are
 * reported with ev/err. Returns 0 or negative when the camera was destroyed
 * from a callback. */
int nl__streams_end_all(nl_camera *cam, nl_camera_stream_event ev, int err);

/* ---- session_resolve.c --------------------------------------------------- */

/* Resolves host:port. Numeric addresses resolve at once: *ai is set and
 * *out NULL. Otherwise a detached helper thread runs getaddrinfo and *out is
 * a job whose nl__resolver_fd() becomes readable when it is done. Returns 0
 * or a negative code (NL_ENOMEM, thread creation failure, or the lookup
 * error of a numeric address). */
int nl__resolver_start(const char *host, uint16_t port, nl__resolver **out, struct addrinfo **ai);
int nl__resolver_fd(const nl__resolver *r);
/* Takes the result once the fd is readable: 0 with *ai owned by the caller
 * (free with freeaddrinfo), NL_EAGAIN if not done, or an error (the detail,
 * gai_strerror's text, in *msg). */
int nl__resolver_result(nl__resolver *r, struct addrinfo **ai, const char **msg);
/* Drops the caller's reference; a running lookup finishes on its own. */
void nl__resolver_release(nl__resolver **r);

/* ---- tests --------------------------------------------------------------- */

/* Starts a session on an already connected stream socket (takes ownership of
 * fd) from the login step: what unit tests use with a socketpair. */
int nl__camera_connect_fd(nl_camera *cam, int fd);

#endif
