/* The server's small HTTP/1.1 endpoint (/metrics, /healthz, /snapshot/)
 * on the loop.
 *
 * Non-blocking and thread-free: the listener and every connection are loop
 * watchers. The owner registers routes (exact path, or a prefix ending in
 * '/' -> handler); a handler runs on the loop thread, appends a body to a
 * bounded buffer and may set the status and content type, or defers the
 * answer (nl_http_defer) and completes it later from the loop thread, e.g.
 * when a worker thread has finished. The endpoint is untrusted-input facing
 * and everything is bounded:
 *   - GET and HEAD only (405 with Allow otherwise), 404 for unknown paths,
 *     400/414/431/505 from the request parser (server/http_parse.h);
 *   - one request per connection: every response carries
 *     "Connection: close", then the server half-closes and drains what the
 *     client still sends until it closes (so the response is not lost to a
 *     reset), within the connection's deadline;
 *   - at most max_connections at once: one more is accepted, answered 503
 *     (best effort, never waiting) and closed;
 *   - one deadline per connection, counted from accept, covering request,
 *     response and drain: a client sending one byte a second (slowloris) or
 *     never reading is closed when it passes (a 408 is attempted when the
 *     request was not complete);
 *   - response bodies above max_response_bytes become a 500.
 *
 * Threads: every function here runs on the loop's thread. */
#ifndef NL_SERVER_HTTP_H
#define NL_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/dbuf.h"
#include "neolink/common.h"
#include "neolink/context.h"
#include "neolink/loop.h"
#include "server/http_parse.h"

#define NL_HTTP_DEFAULT_HOST            "127.0.0.1"
#define NL_HTTP_DEFAULT_MAX_CONNECTIONS 32u
#define NL_HTTP_DEFAULT_TIMEOUT_MS      5000u
#define NL_HTTP_DEFAULT_MAX_RESPONSE    (1u << 20)
#define NL_HTTP_MAX_ROUTES              16
#define NL_HTTP_MAX_ROUTE_PATH          128
/* Longest a deferred answer may be waited for (nl_http_defer). */
#define NL_HTTP_MAX_DEFER_MS 60000u

typedef struct nl_http_server nl_http_server;

/* Zero means "default" for every field. */
typedef struct nl_http_config {
    const char *host;          /* listen address (numeric, or a name resolved once) */
    uint16_t port;             /* 0: an ephemeral port, see nl_http_server_port() */
    unsigned max_connections;  /* concurrent connections (32) */
    unsigned timeout_ms;       /* per-connection deadline from accept (5000) */
    size_t max_response_bytes; /* body cap (1 MiB) */
} nl_http_config;

/* What a handler fills. status is 200 and content_type "text/plain;
 * charset=utf-8" unless the handler changes them (content_type must outlive
 * the call: use a string literal). A status outside 200..599 becomes a 500;
 * 204 and 304 are sent without a body. */
typedef struct nl_http_response {
    int status;
    const char *content_type;
    nl_dbuf *body; /* bounded by max_response_bytes; use the helpers below */
    int err;       /* first append failure (sticky): the answer becomes a 500 */
    /* Set by the server: the connection, for nl_http_defer(). */
    struct nl_http_pending *conn_;
    int deferred_;
} nl_http_response;

/* A route handler. req is valid only during the call. For HEAD requests the
 * handler builds the same body as for GET; the server sends only its length. */
typedef void (*nl_http_handler)(void *ud, const nl_http_request *req, nl_http_response *resp);

/* Appends to the body. 0, or NL_ETOOBIG/NL_ENOMEM (also recorded in r->err,
 * after which every append is refused). */
int nl_http_body_append(nl_http_response *r, const void *p, size_t n);
int nl_http_body_printf(nl_http_response *r, const char *fmt, ...) NL_PRINTF(2, 3);

/* ---------------------------------------------------------------- deferred answers
 *
 * A handler that cannot answer at once (the answer is computed on another
 * thread, or waits for an event) calls nl_http_defer() and returns; the
 * connection then waits without reading the request any further and the
 * owner later calls nl_http_pending_complete() from the loop thread. Rules:
 *   - the wait is bounded: the connection's deadline becomes at least
 *     now + wait_ms (capped at NL_HTTP_MAX_DEFER_MS); when it passes
 *     unanswered the server sends a bare 503 and closes;
 *   - the client may go away meanwhile (it closes its socket), or the
 *     server is destroyed (the client gets a bare 503): the server then
 *     calls cancel(ud, p) once, on the loop thread, and p is invalid from
 *     then on; the owner drops its pointer and must not complete it. cancel
 *     is never called after a complete;
 *   - completing gives the answer a fresh write window of timeout_ms;
 *   - whatever the handler put into resp (status, body) is ignored. */
typedef struct nl_http_pending nl_http_pending;
typedef void (*nl_http_cancel_fn)(void *ud, nl_http_pending *p);

/* Inside a handler only: defers the answer. Returns the handle, or NULL
 * when called twice or with a NULL cancel (the request is then answered
 * 500). */
nl_http_pending *nl_http_defer(nl_http_response *resp, uint32_t wait_ms, nl_http_cancel_fn cancel,
                               void *ud);

/* Loop thread: answers a deferred request (HEAD: the head only) and
 * invalidates p. The body is copied (bounded by max_response_bytes; above
 * it the answer becomes a 500) when release is NULL; else it is borrowed
 * without a copy or a cap, and release(opaque) is called once on the loop
 * thread when the connection no longer needs it (also when this fails or
 * the client is gone). content_type must be a static string. 0, or a
 * negative code when the answer could not be composed (the connection is
 * closed; release was called). */
int nl_http_pending_complete(nl_http_pending *p, int status, const char *content_type,
                             const void *body, size_t len, void (*release)(void *opaque),
                             void *opaque);

typedef struct nl_http_stats {
    uint64_t accepted;  /* connections accepted (including refused ones) */
    uint64_t refused;   /* closed at once: over max_connections */
    uint64_t requests;  /* complete, valid request heads */
    uint64_t errors;    /* 4xx/5xx sent because of the request itself */
    uint64_t timeouts;  /* connections closed by their deadline */
    uint64_t deferred;  /* answers deferred by a handler */
    uint64_t cancelled; /* ... whose client left (or deadline passed) before the answer */
} nl_http_stats;

/* Creates the listener on cfg->host:cfg->port (cfg may be NULL: all
 * defaults). Returns 0, NL_EINVAL (bad address), NL_EADDRINUSE or another
 * errno code, NL_ENOMEM. Blocks only while resolving a host name. */
int nl_http_server_create(nl_http_server **out, nl_loop *loop, const nl_ctx *ctx,
                          const nl_http_config *cfg);

/* Closes the listener and every connection at once (their memory is freed
 * by the loop's deferred step) and sets *srv to NULL. NULL is a no-op. Must
 * not be called from inside one of the server's own handlers. */
void nl_http_server_destroy(nl_http_server **srv);

/* Registers path (exact match, copied; must start with '/') -> fn(ud, ...).
 * A path registered twice is replaced. 0, NL_EINVAL, NL_ELIMIT (more than
 * NL_HTTP_MAX_ROUTES). */
int nl_http_server_route(nl_http_server *srv, const char *path, nl_http_handler fn, void *ud);

/* Registers a prefix route: every path that starts with prefix (copied;
 * must start and end with '/') and is longer than it, unless an exact route
 * matches; the longest prefix wins. The handler parses the rest of
 * req->path itself (untrusted, not percent-decoded). Same limits and
 * returns as nl_http_server_route (the two share the table). */
int nl_http_server_route_prefix(nl_http_server *srv, const char *prefix, nl_http_handler fn,
                                void *ud);

/* The bound port (the ephemeral one when the config asked for 0). */
uint16_t nl_http_server_port(const nl_http_server *srv);

/* Live connections (the length of the connection list). */
size_t nl_http_server_connections(const nl_http_server *srv);

void nl_http_server_stats(const nl_http_server *srv, nl_http_stats *st);

#endif
