/* The body of nl_rtsp_server, shared by the files of the RTSP server
 * (server.c, conn.c, methods.c, session.c, mount.c, udp.c).
 *
 * Ownership: the server owns its connections, sessions and mounts through
 * intrusive lists; every gauge (connections, sessions, playing clients) is a
 * list length. Dead connections and removed mounts wait on "dead" lists for
 * the reaper, one nl_deferred of the server run at the loop's deferred step,
 * which also delivers the mounts' demand callbacks and the connection
 * failures noticed inside a fan-out. So nothing is freed inside its own
 * callback, and no user callback runs inside a libneolink call. */
#ifndef NL_RTSP_SERVER_INT_H
#define NL_RTSP_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/list.h"
#include "loop/loop_int.h"
#include "neolink/context.h"
#include "neolink/rtsp.h"
#include "rtsp/auth.h"
#include "rtsp/conn.h"
#include "rtsp/mount.h"
#include "rtsp/parse.h"
#include "rtsp/session.h"
#include "rtsp/udp.h"

/* Housekeeping period: session expiry, stalls, idle connections, PLAY waits. */
#define NL_RTSP_TICK_NS (250 * NL_NS_PER_MS)
/* Longest reply we build (SDP included). */
#define NL_RTSP_REPLY_MAX (NL_RTSP_MAX_REPLY_HEAD + 16384)

typedef struct nl__rtsp_account {
    char *name;
    char *password;
} nl__rtsp_account;

struct nl_rtsp_server {
    nl_loop *loop;
    nl_ctx *ctx;
    nl_rtsp_server_config cfg; /* defaults filled in; strings below */
    char bind_host[64];

    int lfd;
    nl_io lio;
    bool accept_paused; /* out of descriptors: resumed by the next tick */
    uint16_t port;
    nl__rtsp_udp udp;

    nl_rtsp_auth auth;
    nl__rtsp_account *accounts;
    size_t naccounts;

    nl_list conns, dead_conns;
    nl_list sessions;
    nl_list mounts, dead_mounts;
    unsigned next_conn_id;

    nl_timer tick;
    nl_deferred reaper;
    bool destroyed;

    bool stopping;
    nl_timer stop_timer;
    nl_rtsp_stopped_fn on_stopped;
    void *stopped_ud;

    nl_rtsp_msg msg;               /* parser output scratch (one thread, one message at a time) */
    char reply[NL_RTSP_REPLY_MAX]; /* reply scratch */

    nl_rtsp_server_stats stats; /* event counters; gauges are filled from lists */
};

/* Schedules the reaper (dead objects, pending failures, demand callbacks). */
void nl__rtsp_server_schedule(nl_rtsp_server *srv);
/* Looks up an account; NULL when unknown. */
const nl__rtsp_account *nl__rtsp_server_account(const nl_rtsp_server *srv, nl_rtsp_span name);
/* Maximum sessions a mount may hold. */
unsigned nl__rtsp_server_mount_limit(const nl_rtsp_server *srv, const nl_rtsp_mount *m);

#endif
