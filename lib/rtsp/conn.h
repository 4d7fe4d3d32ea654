/* One RTSP TCP connection: reads requests (and the client's '$' RTCP
 * frames), answers them in order, and writes the interleaved media of its
 * TCP sessions.
 *
 * Writes are serialised through one path (nl__rtsp_conn_flush): the frame
 * being written is finished first, then queued replies, then the next due
 * frame of one of its sessions. So an RTSP reply never lands inside a '$'
 * frame, and each frame goes out in one send()/sendmsg() (unless the kernel
 * takes only part of it, when the rest follows on the next writable event).
 *
 * Closing is always the same path, nl__rtsp_conn_fail(): peer hang-up, I/O
 * error, stall, idle timeout, mount removal, server stop or destroy. It
 * closes the socket and the sessions at once; the memory is released by the
 * server's reaper (never inside a callback of the connection). */
#ifndef NL_RTSP_CONN_H
#define NL_RTSP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/dbuf.h"
#include "core/list.h"
#include "loop/loop_int.h"
#include "neolink/rtsp.h"
#include "rtp/frame_buf.h"
#include "rtsp/parse.h"

typedef struct nl__rtsp_conn nl__rtsp_conn;
typedef struct nl__rtsp_session nl__rtsp_session;

/* Packets per sendmsg when a client uses its own channel numbers. */
#define NL_CONN_IOV_PKTS 64

struct nl__rtsp_conn {
    /* Hot: what the fan-out's direct path reads and writes for every frame,
     * in the first 64 bytes (NL__CONN_HOT_BYTES), through out.len. */
    int fd;
    bool dead;
    bool closing;      /* graceful: finish the current frame and replies, then close */
    bool fail_pending; /* fail from the reaper (error seen inside a fan-out) */
    uint8_t cur_ch[2]; /* the client's channels for cur's track */
    /* The frame being written and how far. */
    nl_rtp_frame *cur;
    nl__rtsp_session *cur_sess; /* NULL when its session closed meanwhile */
    size_t cur_off;
    uint64_t stall_since; /* 0: not stalled */
    nl_dbuf out;          /* replies waiting for a frame boundary (freed when empty) */
    /* Warm: touched when a frame does not go out whole. */
    nl_io io;
    nl_rtsp_server *srv;

    /* Cold from here on. */
    nl_list node; /* server->conns, then server->dead_conns */
    unsigned id;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char peer_host[64]; /* numeric */
    uint16_t peer_port;
    char local_host[64];
    uint16_t local_port;
    char who[96]; /* "rtsp conn 7 127.0.0.1:51234" for logs */

    nl_dbuf in; /* unparsed input (freed when empty) */
    nl_rtsp_parser parser;

    nl_list sessions; /* nl__rtsp_session.conn_node */
    unsigned rr;      /* round-robin start among sessions */

    uint64_t last_req;
    nl__rtsp_session *play_wait; /* PLAY answer pending: input processing paused */
    bool refuse;                 /* over the connection limit: answer 503, then close */
    bool resume_pending;         /* parse buffered requests from the reaper */
    int fail_err;
    int err;

    uint8_t hdr[NL_CONN_IOV_PKTS * 4];
};

/* Bytes at the start of a connection the fan-out touches per frame (up to
 * out.len). */
#define NL__CONN_HOT_BYTES offsetof(nl__rtsp_conn, out.cap)

/* Takes over an accepted socket. 0 or NL_ENOMEM (fd closed then). */
int nl__rtsp_conn_create(nl_rtsp_server *srv, int fd, const struct sockaddr *peer,
                         socklen_t peer_len, bool refuse);
/* The ordinary error path: closes the socket and the sessions now, frees later. */
void nl__rtsp_conn_fail(nl__rtsp_conn *c, int err);
/* Same, from inside a fan-out or another object's iteration: done by the reaper. */
void nl__rtsp_conn_fail_later(nl__rtsp_conn *c, int err);
/* The fan-out's direct path: when the connection is idle (no frame in
 * flight, no reply waiting, not closing or failed), writes frame f of
 * session s at once with one send() and returns true; a part the kernel
 * does not take stays in flight (one reference) and is finished on the next
 * writable event, exactly like a frame popped from the queue. Returns false,
 * having done nothing, when the connection is busy: then queue the frame. */
bool nl__rtsp_conn_send_now(nl__rtsp_conn *c, nl__rtsp_session *s, const nl_rtp_frame *f,
                            uint64_t now);
/* Writes what it can (frames, replies); safe to call at any time. */
void nl__rtsp_conn_flush(nl__rtsp_conn *c);
/* Queues reply bytes (sent at the next frame boundary). */
int nl__rtsp_conn_queue_reply(nl__rtsp_conn *c, const char *data, size_t len);
/* A pending PLAY got its answer queued: resume reading requests. */
void nl__rtsp_conn_resume(nl__rtsp_conn *c);
/* Graceful close (server stop). */
void nl__rtsp_conn_close_gracefully(nl__rtsp_conn *c);
/* Releases the memory of a dead connection (reaper). */
void nl__rtsp_conn_free(nl__rtsp_conn *c);
/* Parses and handles buffered requests (reaper, after a PLAY answer). */
void nl__rtsp_conn_process(nl__rtsp_conn *c);

/* methods.c: handles one parsed request. */
void nl__rtsp_handle_request(nl__rtsp_conn *c, const nl_rtsp_request *req);
/* methods.c: answers a parse error. */
void nl__rtsp_handle_parse_error(nl__rtsp_conn *c, const nl_rtsp_msg *msg);
/* methods.c: builds and queues the PLAY answer of s (RTP-Info from `infos`). */
void nl__rtsp_send_play_reply(nl__rtsp_session *s, const uint16_t *seq, const uint32_t *rtptime,
                              const bool *known);

#endif
