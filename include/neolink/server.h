/**
 * @file server.h
 * The neolink server runtime: a loaded configuration (config.h) turned into
 * camera sessions (camera.h), one RTSP server (rtsp.h) and a small HTTP
 * endpoint for /metrics, /healthz and /readyz, all on one nl_loop.
 *
 * What it does for each enabled camera:
 *  - ONE Baichuan session, reconnected with an exponential backoff between
 *    the camera's reconnect_min and reconnect_max (reset after 60 s of a
 *    healthy connection; a rejected login is retried only at the maximum);
 *  - each served stream (main, sub, extern) is mounted at neolink's paths
 *    ("/NAME" and "/NAME/main", "/NAME/mainStream", ... see
 *    nl_config_camera_paths()); the camera is asked for a stream once,
 *    whatever the number of viewers;
 *  - with on_demand (the default) a stream runs while someone plays it and
 *    for idle_linger after the last viewer left; otherwise always;
 *  - RTP timestamps follow the camera's microsecond clock; a new run of the
 *    stream (reconnect) or a clock jump the demuxer flags is rebased so the
 *    viewers' timeline stays continuous, and viewers stay connected across
 *    a camera reconnect (they resume at the next key frame).
 *
 * Threads: everything here runs on the loop's thread (the thread calling
 * nl_loop_run / nl_loop_run_once), except nl_server_options_init. The
 * server never blocks the loop: sockets are non-blocking and every close
 * has a deadline. It starts one watchdog thread when the configuration asks
 * for one, and the camera sessions may start short-lived resolver threads.
 * It installs no signal handler: the host decides what a signal means (the
 * CLI maps SIGTERM/SIGINT to nl_server_shutdown and SIGHUP to
 * nl_server_reload).
 *
 * Logs name the camera or client they are about; credentials never appear.
 */
#ifndef NEOLINK_SERVER_H
#define NEOLINK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "neolink/common.h"
#include "neolink/config.h"
#include "neolink/context.h"
#include "neolink/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque server runtime. */
typedef struct nl_server nl_server;

/** Overrides and extras on top of the configuration. Fill with
 *  nl_server_options_init(), then set what you need. Strings are copied. */
typedef struct nl_server_options {
    /** RTSP listen address instead of the configuration's `bind` (NULL: keep). */
    const char *bind;
    /** RTSP port instead of `bind_port`: -1 keeps it, 0 picks a free port
     *  (see nl_server_rtsp_port), 1..65535 uses that one. */
    int port;
    /** HTTP endpoint instead of `http`: NULL keeps it, "off" disables it,
     *  "HOST:PORT" or "[V6]:PORT" (port 0 picks a free one). */
    const char *http;
    /** 1: add an in-process simulated camera named "demo" (listening on
     *  127.0.0.1, a free port) and serve it like any configured camera. */
    int demo;
    /** 1: the host fixed the log level (the configuration's log_level is
     *  then ignored, at start and on reload). */
    int log_level_locked;
    /** TEST ONLY: half a second after start, block the loop thread in a
     *  sleep this many ms long, so tests can prove that the watchdog
     *  aborts the process (the CLI sets it from the environment variable
     *  NEOLINK_TEST_BLOCK_LOOP=SECONDS). 0: off. Never set it in production. */
    uint32_t test_block_loop_ms;
} nl_server_options;

/** Fills opt with "no overrides". Any thread; never blocks. */
NL_EXPORT void nl_server_options_init(nl_server_options *opt);

/**
 * Creates the server and starts it: the RTSP listener, the HTTP endpoint,
 * the watchdog (when the configuration has a watchdog_timeout), systemd
 * notification (READY=1 when NOTIFY_SOCKET is set), the demo camera, and a
 * connection to every enabled camera.
 *
 * @param out  receives the server; NULL on failure. Free with nl_server_destroy().
 * @param ctx  log context (borrowed; must outlive the server)
 * @param loop the loop it runs on (borrowed; must outlive the server)
 * @param cfg  the configuration. Takes ownership, also on failure: the
 *             server frees it (nl_config_free) when it is destroyed or
 *             replaced by nl_server_reload().
 * @param opt  overrides (copied; NULL: none)
 * @return 0; NL_EINVAL (NULL arguments, a bad override); NL_ECONFIG (no
 *         camera to serve and no demo); NL_EADDRINUSE and other socket
 *         errors of the listeners; NL_ENOMEM.
 * Loop thread (or any thread while the loop is not running). Does not block
 * beyond creating sockets (and resolving the HTTP host name, if it is one).
 */
NL_EXPORT int nl_server_create(nl_server **out, nl_ctx *ctx, nl_loop *loop, nl_config *cfg,
                               const nl_server_options *opt);

/**
 * Applies a new configuration (SIGHUP): cameras whose entry is unchanged
 * (nl_config_camera_equal) keep streaming untouched, changed ones are
 * closed and started again with the new settings, removed ones are closed
 * (their mounts removed, so their viewers are disconnected), added ones
 * start. The log level follows the new file (unless locked).
 *
 * NOT reloaded (they need a restart, and a warning names each one that
 * changed): bind, bind_port, users, max_clients, http, watchdog_timeout.
 * shutdown_timeout is read when a shutdown starts, so it follows reloads.
 *
 * @param cfg  the new configuration. Takes ownership, also on failure.
 * @return 0, NL_ESTATE while shutting down, NL_EINVAL, NL_ENOMEM (the old
 *         configuration then stays in force).
 * Loop thread; never blocks.
 */
NL_EXPORT int nl_server_reload(nl_server *srv, nl_config *cfg);

/** Called once a shutdown has finished (or its deadline has passed). */
typedef void (*nl_server_done_fn)(void *ud);

/**
 * Graceful shutdown within timeout_ms (0: the configuration's
 * shutdown_timeout): stops accepting RTSP clients, closes the viewers'
 * sessions, stops every camera stream and logs out of every camera, stops
 * the HTTP endpoint, and sends systemd STOPPING=1. Every step has the same
 * absolute deadline, a little before timeout_ms so the host can still
 * destroy everything and exit in time; when it passes, what is left is
 * failed through its ordinary error path. on_done (may be NULL) then runs
 * once, from a timer of the loop; call nl_server_destroy() from it or after
 * it.
 * @return 0, NL_EINVAL (srv NULL), or NL_ESTATE when a shutdown is already
 *         running. Loop thread; never blocks.
 */
NL_EXPORT int nl_server_shutdown(nl_server *srv, uint32_t timeout_ms, nl_server_done_fn on_done,
                                 void *ud);

/**
 * Destroys the server at once (without waiting for cameras to log out: use
 * nl_server_shutdown first for that), frees the configuration and sets *srv
 * to NULL. NULL and a pointer to NULL are no-ops. Some memory of closed
 * sockets is released at the loop's next iteration or nl_loop_destroy().
 * Loop thread; must not be called from a server callback other than
 * on_done. Blocks briefly: joining the watchdog thread (at most a second),
 * each running transcoder's worker (at most 300 ms each; one that misses it
 * is abandoned and counted) and, in demo mode, the simulator's encoders.
 */
NL_EXPORT void nl_server_destroy(nl_server **srv);

/** The RTSP port actually bound. Loop thread. */
NL_EXPORT uint16_t nl_server_rtsp_port(const nl_server *srv);

/** The HTTP port actually bound, 0 when the endpoint is off. Loop thread. */
NL_EXPORT uint16_t nl_server_http_port(const nl_server *srv);

/** The configuration in force (owned by the server; valid until the next
 *  reload or destroy). Loop thread. */
NL_EXPORT const nl_config *nl_server_config(const nl_server *srv);

/**
 * Calls fn once per RTSP path served (every enabled camera, the demo camera
 * included, in configuration order): the camera's name, the path (with a
 * leading '/'), and whether it is an alias of an earlier path. The strings
 * are valid during the call only. Loop thread; never blocks.
 * @return the number of paths.
 */
NL_EXPORT size_t nl_server_foreach_path(const nl_server *srv,
                                        void (*fn)(void *ud, const char *camera, const char *path,
                                                   bool alias),
                                        void *ud);

/** Figures of the whole server. Gauges are counted from live objects. */
typedef struct nl_server_stats {
    size_t cameras;           /**< camera runtimes (enabled cameras) */
    size_t cameras_connected; /**< of those, logged in (ready or streaming) */
    size_t streams_active;    /**< camera streams running now */
    size_t viewers;           /**< RTSP sessions playing */
    size_t rtsp_connections;  /**< RTSP TCP connections open */
    uint64_t reconnects;      /**< reconnections, all cameras (since creation) */
    uint64_t reloads;         /**< configurations applied by nl_server_reload */
} nl_server_stats;

/** Fills st. Loop thread; never blocks. */
NL_EXPORT void nl_server_get_stats(const nl_server *srv, nl_server_stats *st);

#ifdef __cplusplus
}
#endif
#endif
