/* An RTSP session (RFC 2326 §12.37): one client watching one mount.
 *
 * Created by the first SETUP, it holds the id, the transport of each track
 * set up (TCP channels or UDP client ports), the play state, the client's
 * frame queue and its counters. Three lists hold it: the server's (all
 * sessions), its mount's (clients) and its connection's; while PLAYING it
 * also has a slot in its mount's dense playing array (the fan-out's).
 *
 * Lifetime: a TCP session lives exactly as long as its connection. A UDP
 * session outlives a closed connection while it plays, and expires
 * timeout + grace seconds after the last request or RTCP packet that named
 * it. The expiry test is a pure function of `now`, so tests step a fake
 * clock instead of sleeping. */
#ifndef NL_RTSP_SESSION_H
#define NL_RTSP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/list.h"
#include "loop/loop_int.h"
#include "neolink/rtsp.h"
#include "rtp/sdp.h"
#include "rtsp/client_queue.h"
#include "rtsp/transport.h"

typedef struct nl__rtsp_conn nl__rtsp_conn;
typedef struct nl__rtsp_session nl__rtsp_session;

#define NL_RTSP_SESSION_ID_LEN 16
/* The GOP cache starts a client only when the mount got a frame within
 * NL_GOP_STALE_NS and its keyframe arrived at most NL_GOP_MAX_DELAY_NS ago:
 * the replay puts the client that far behind live for good. */
#define NL_GOP_STALE_NS (2 * NL_NS_PER_S)
#define NL_GOP_MAX_DELAY_NS (10 * NL_NS_PER_S)

typedef enum nl__sess_state {
    NL__SESS_READY = 0, /* SETUP done, not playing (also after PAUSE) */
    NL__SESS_PLAYING,
} nl__sess_state;

/* What the fan-out needs per track: 3 bytes, so all tracks fit in the hot
 * part of the session; the UDP ports live with the cold fields. */
typedef struct nl__sess_track {
    bool setup;
    uint8_t ch[2]; /* TCP: interleaved RTP, RTCP channels */
} nl__sess_track;

struct nl__rtsp_session {
    /* Hot: what the fan-out reads and writes for every frame, at the start
     * (NL__SESS_HOT_BYTES: two cache lines), so a frame costs each client as
     * few cold lines as possible. */
    nl__rtsp_conn *conn; /* NULL: a UDP session whose connection closed */
    uint64_t delay_ns;   /* replay delay: every frame is due at arrival + delay */
    uint64_t frames_sent, bytes_sent;
    nl_rtsp_lower lower;
    /* Start: a new player waits for a start point (the video track's next
     * keyframe), unless it replays the GOP cache. */
    bool waiting_key;
    /* PLAY whose answer waits for the first frame (exact RTP-Info). */
    bool play_pending;
    nl__client_queue q;
    nl__sess_track tracks[NL_SDP_MAX_TRACKS];
    /* Cold from here on. */
    uint64_t frames_dropped, overflows;
    nl_rtsp_mount *mount;
    nl__sess_state state;
    uint32_t play_idx; /* slot in mount->playing while PLAYING, else UINT32_MAX */
    uint16_t cport[NL_SDP_MAX_TRACKS][2]; /* UDP: client RTP, RTCP ports */
    nl_list srv_node;                     /* server->sessions */
    nl_list mount_node;                   /* mount->sessions */
    nl_list conn_node;                    /* conn->sessions while it has a connection */
    nl_rtsp_server *srv;
    char id[NL_RTSP_SESSION_ID_LEN + 1];
    struct sockaddr_storage peer; /* UDP: the requester's address (ports set per send) */
    socklen_t peer_len;
    char peer_str[64];

    uint64_t last_seen; /* last request or RTCP naming the session */
    uint32_t timeout_s; /* advertised */
    uint32_t grace_s;

    uint64_t play_deadline;
    uint32_t play_cseq;
    char *play_base; /* aggregate URL for RTP-Info (nl__malloc'd) */

    nl_timer pace; /* wakes the sender when the queue head becomes due */
};

/* Bytes at the start of a session the fan-out touches per frame. */
#define NL__SESS_HOT_BYTES offsetof(nl__rtsp_session, frames_dropped)

/* Deadline after which the session is reclaimed (pure). NL_TIME_NEVER for
 * TCP sessions, which end with their connection. */
uint64_t nl__rtsp_session_deadline(const nl__rtsp_session *s);
/* True once now has reached the deadline (pure). */
bool nl__rtsp_session_expired(const nl__rtsp_session *s, uint64_t now);
/* Notes liveness (a request or RTCP naming the session). */
void nl__rtsp_session_touch(nl__rtsp_session *s, uint64_t now);

/* Creates a session on mount m for connection c (lists linked, queue
 * allocated, random id). 0, NL_ENOMEM, NL_EIO. */
int nl__rtsp_session_create(nl_rtsp_server *srv, nl_rtsp_mount *m, nl__rtsp_conn *c,
                            nl_rtsp_lower lower, nl__rtsp_session **out);
/* Stops playing (leaves the mount's playing array, drops the queue). */
void nl__rtsp_session_stop(nl__rtsp_session *s);
/* Unlinks and frees the session (the ordinary end of every session). */
void nl__rtsp_session_close(nl__rtsp_session *s, int why);
/* Finds a session by id, NULL when unknown. O(sessions). */
nl__rtsp_session *nl__rtsp_session_find(nl_rtsp_server *srv, nl_rtsp_span id);

/* Starts playing: joins the mount's playing array and either replays the GOP
 * cache (answering at once) or waits for the next start point. 0 or
 * NL_ENOMEM (the array could not grow; nothing changed then). */
int nl__rtsp_session_play(nl__rtsp_session *s, uint32_t cseq, const char *base);
/* Offers a new frame of the mount (fan-out). A client with nothing queued
 * gets it at once: one send() (TCP) or sendmmsg() (UDP) straight from the
 * shared frame, no queue entry, no reference unless the socket takes only
 * part of it. Otherwise the frame is queued behind the others. Never
 * removes a session from the playing array (failures go to the reaper). */
void nl__rtsp_session_offer(nl__rtsp_session *s, const nl_rtp_frame *f, uint64_t now);
/* Sends what is due on a UDP session (no-op for TCP). */
void nl__rtsp_session_drain_udp(nl__rtsp_session *s);
/* Pending PLAY answer whose wait ran out: answer with predicted RTP-Info. */
void nl__rtsp_session_play_timeout(nl__rtsp_session *s, uint64_t now);
/* Counts one dropped frame run, clears the queue and waits for a keyframe. */
void nl__rtsp_session_overflow(nl__rtsp_session *s);
/* Arms the pacing timer for the queue head when it is not due yet. */
void nl__rtsp_session_arm_pace(nl__rtsp_session *s, uint64_t now);

#endif
