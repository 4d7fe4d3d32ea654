/* The observability HTTP endpoint: listener, connections, routing, the
 * response writer and deferred answers. One request per connection; every
 * connection lives at most `timeout_ms` from accept (plus the wait a
 * handler asked for when it deferred, plus one write window after the
 * answer). See http.h for the rules. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/list.h"
#include "core/log.h"
#include "loop/loop_int.h"
#include "neolink/error.h"
#include "server/http.h"

/* Connections accepted per listener wakeup (fairness with the rest). */
#define ACCEPT_BUDGET 16
/* How long the listener pauses when the process is out of descriptors:
 * accept would fail at once again and a level-triggered listener would spin. */
#define ACCEPT_PAUSE_NS (100 * NL_NS_PER_MS)
/* Room for the status line and headers of any response. */
#define HEAD_MAX 512
/* How long a finished connection drains the client's leftovers at most. */
#define LINGER_NS (1 * NL_NS_PER_S)

/* C_PENDING: a handler deferred the answer; the connection only watches
 * for the client going away until nl_http_pending_complete(). */
typedef enum conn_state { C_READING, C_PENDING, C_WRITING, C_LINGER } conn_state;

typedef struct http_route {
    char path[NL_HTTP_MAX_ROUTE_PATH];
    size_t path_len;
    bool prefix; /* matches every longer path that starts with it */
    nl_http_handler fn;
    void *ud;
} http_route;

/* The pending handle given to owners is the connection itself. */
typedef struct nl_http_pending http_conn;

struct nl_http_pending {
    nl_list node; /* in srv->conns */
    nl_http_server *srv;
    int fd;
    conn_state state;
    nl_io io;
    nl_timer deadline;
    uint64_t due; /* absolute deadline of the whole exchange */
    nl_dbuf in;   /* the request head, NL_HTTP_MAX_HEAD at most */
    nl_http_parser parser;
    nl_dbuf out; /* the response, head and body */
    size_t sent; /* of out, then of ext */
    nl_deferred free_later;
    /* deferred answer */
    bool head_only;
    nl_http_cancel_fn cancel;
    void *cancel_ud;
    /* a borrowed body sent after `out` (nl_http_pending_complete) */
    const uint8_t *ext;
    size_t ext_len;
    void (*ext_release)(void *opaque);
    void *ext_opaque;
};

struct nl_http_server {
    nl_loop *loop;
    const nl_ctx *ctx;
    nl_http_config cfg;
    int lfd;
    uint16_t port;
    nl_io lio;
    nl_timer resume; /* listener paused after EMFILE */
    nl_list conns;
    http_route routes[NL_HTTP_MAX_ROUTES];
    size_t nroutes;
    nl_dbuf body; /* handlers' scratch body, reused: handlers run one at a time */
    nl_http_stats stats;
};

/* ---------------------------------------------------------------- responses */

int nl_http_body_append(nl_http_response *r, const void *p, size_t n)
{
    if (r->err)
        return r->err;
    int rc = nl_dbuf_append(r->body, p, n);
    if (rc < 0)
        r->err = rc;
    return rc;
}

int nl_http_body_printf(nl_http_response *r, const char *fmt, ...)
{
    if (r->err)
        return r->err;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return r->err = NL_EINVAL;
    uint8_t *dst = nl_dbuf_reserve(r->body, (size_t)n + 1);
    if (!dst)
        return r->err = nl_dbuf_room(r->body) < (size_t)n + 1 ? NL_ETOOBIG : NL_ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    nl_dbuf_commit(r->body, (size_t)n);
    return 0;
}

/* RFC 9110 IMF-fixdate, built by hand: strftime's names follow the locale. */
static void http_date(char *out, size_t n)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm)) {
        snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 GMT");
        return;
    }
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Writes status line, headers and (unless head_only) the body into c->out. */
static int compose(http_conn *c, int status, const char *ctype, const void *body, size_t blen,
                   bool head_only)
{
    char date[64];
    http_date(date, sizeof date);
    /* 204 and 304 have no body, and no Content-Length (RFC 9110 8.6). */
    bool bodiless = status == 204 || status == 304;
    char clen[48] = "";
    if (!bodiless)
        snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", blen);
    char head[HEAD_MAX];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\n"
                     "Date: %s\r\n"
                     "Content-Type: %s\r\n"
                     "%s"
                     "%s"
                     "Cache-Control: no-store\r\n"
                     "Connection: close\r\n"
                     "\r\n",
                     status, nl_http_reason(status), date, ctype, clen,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof head)
        return NL_ETOOBIG;
    nl_dbuf_reset(&c->out);
    int rc = nl_dbuf_append(&c->out, head, (size_t)n);
    if (rc == 0 && !head_only && !bodiless)
        rc = nl_dbuf_append(&c->out, body, blen);
    return rc;
}

/* A server-generated answer: "<code> <reason>\n" as a text body. */
static int compose_error(http_conn *c, int status, bool head_only)
{
    char body[96];
    int n = snprintf(body, sizeof body, "%d %s\n", status, nl_http_reason(status));
    return compose(c, status, "text/plain; charset=utf-8", body, (size_t)n, head_only);
}

/* ---------------------------------------------------------------- connections */

static void conn_free(nl_deferred *d)
{
    http_conn *c = nl_container_of(d, http_conn, free_later);
    nl_dbuf_free(&c->in);
    nl_dbuf_free(&c->out);
    nl__free(c);
}

/* Gives a borrowed body back to its owner (once). */
static void release_ext(http_conn *c)
{
    void (*fn)(void *) = c->ext_release;
    c->ext_release = NULL;
    c->ext = NULL;
    c->ext_len = 0;
    if (fn)
        fn(c->ext_opaque);
}

/* Ends a connection now; its memory goes at the loop's deferred step, since
 * we may be inside its own callback. Touches nothing of srv but the loop and
 * its counters. A deferred answer still owed is cancelled with the owner. */
static void conn_close(http_conn *c)
{
    nl_loop *loop = c->srv->loop;
    if (c->state == C_PENDING) {
        nl_http_cancel_fn cancel = c->cancel;
        c->state = C_LINGER; /* nothing owed any more; no second cancel */
        c->cancel = NULL;
        c->srv->stats.cancelled++;
        if (cancel)
            cancel(c->cancel_ud, c);
    }
    release_ext(c);
    nl_io_stop(loop, &c->io);
    nl_timer_stop(loop, &c->deadline);
    close(c->fd);
    c->fd = -1;
    nl_list_remove(&c->node);
    nl_loop_defer(loop, &c->free_later, conn_free);
}

/* Response sent: stop writing, then drain whatever the client still sends
 * until it closes. Closing with unread bytes in the socket would make the
 * kernel send a reset that can destroy the response in flight. */
static void conn_linger(http_conn *c)
{
    nl_http_server *srv = c->srv;
    c->state = C_LINGER;
    release_ext(c);
    shutdown(c->fd, SHUT_WR);
    uint64_t linger = nl_deadline_after(nl_loop_now(srv->loop), LINGER_NS);
    if (linger < c->due) {
        c->due = linger;
        (void)nl_timer_start(srv->loop, &c->deadline, c->due); /* re-arm: cannot fail */
    }
    if (nl_io_start(srv->loop, &c->io, NL_IO_READ) < 0)
        conn_close(c);
}

/* Sends what it can of c->out, then of the borrowed body; moves on when
 * all is out. */
static void conn_flush(http_conn *c)
{
    while (c->sent < c->out.len + c->ext_len) {
        const uint8_t *p;
        size_t left;
        if (c->sent < c->out.len) {
            p = c->out.data + c->sent;
            left = c->out.len - c->sent;
        } else {
            p = c->ext + (c->sent - c->out.len);
            left = c->ext_len - (c->sent - c->out.len);
        }
        ssize_t n = send(c->fd, p, left, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;    /* the watcher wants NL_IO_WRITE since respond() */
            conn_close(c); /* reset or gone: nothing more to say */
            return;
        }
        c->sent += (size_t)n;
    }
    conn_linger(c);
}

/* Stops reading (level-triggered input we ignore would spin) and writes. */
static void respond(http_conn *c)
{
    c->state = C_WRITING;
    c->sent = 0;
    if (nl_io_start(c->srv->loop, &c->io, NL_IO_WRITE) < 0) {
        conn_close(c);
        return;
    }
    conn_flush(c);
}

/* The registered entry for exactly this path and kind (registration). */
static http_route *find_entry(nl_http_server *srv, const char *path, size_t n, bool prefix)
{
    for (size_t i = 0; i < srv->nroutes; i++) {
        http_route *r = &srv->routes[i];
        if (r->prefix == prefix && r->path_len == n && !memcmp(r->path, path, n))
            return r;
    }
    return NULL;
}

/* Request routing: an exact route, else the longest prefix route. */
static const http_route *find_route(const nl_http_server *srv, const char *path, size_t n)
{
    const http_route *best = NULL;
    for (size_t i = 0; i < srv->nroutes; i++) {
        const http_route *r = &srv->routes[i];
        if (!r->prefix && r->path_len == n && !memcmp(r->path, path, n))
            return r;
        if (r->prefix && n > r->path_len && !memcmp(r->path, path, r->path_len) &&
            (!best || r->path_len > best->path_len))
            best = r;
    }
    return best;
}

static void log_request(const nl_http_server *srv, const nl_http_request *req, int status,
                        size_t blen)
{
    if (!nl__log_enabled(srv->ctx, NL_LOG_DEBUG))
        return;
    int ml = req->method_len > 16 ? 16 : (int)req->method_len;
    int pl = req->path_len > 128 ? 128 : (int)req->path_len;
    NL_LOGD(srv->ctx, "http", "%.*s %.*s -> %d (%zu bytes)", ml, req->method_str, pl, req->path,
            status, blen);
}

static void pend(http_conn *c);

/* A complete, valid request head: route it and start answering. */
static void serve(http_conn *c, const nl_http_request *req)
{
    nl_http_server *srv = c->srv;
    srv->stats.requests++;
    bool head_only = req->method == NL_HTTP_HEAD;
    int rc;
    if (req->method == NL_HTTP_OTHER) {
        srv->stats.errors++;
        log_request(srv, req, 405, 0);
        rc = compose_error(c, 405, false);
    } else {
        const http_route *r = find_route(srv, req->path, req->path_len);
        if (!r) {
            log_request(srv, req, 404, 0);
            rc = compose_error(c, 404, head_only);
        } else {
            nl_dbuf_reset(&srv->body);
            nl_http_response resp = {.status = 200,
                                     .content_type = "text/plain; charset=utf-8",
                                     .body = &srv->body,
                                     .conn_ = c};
            c->head_only = head_only;
            r->fn(r->ud, req, &resp);
            if (resp.deferred_) {
                NL_LOGD(srv->ctx, "http", "%s: answer deferred", r->path);
                pend(c);
                return;
            }
            /* 1xx would promise another response; a handler cannot mean it. */
            if (resp.err || resp.status < 200 || resp.status > 599 || !resp.content_type) {
                NL_LOGW(srv->ctx, "http", "handler for %s failed: %s", r->path,
                        resp.err ? nl_strerror(resp.err) : "invalid status or content type");
                rc = compose_error(c, 500, head_only);
            } else {
                log_request(srv, req, resp.status, srv->body.len);
                rc = compose(c, resp.status, resp.content_type, srv->body.data, srv->body.len,
                             head_only);
            }
            /* A huge body leaves no big scratch buffer behind for ever. */
            if (srv->body.cap > 64 * 1024)
                nl_dbuf_free(&srv->body);
        }
    }
    if (rc < 0) {
        /* Only the out buffer's cap or memory can fail: a plain 500 fits. */
        if (compose_error(c, 500, head_only) < 0) {
            conn_close(c);
            return;
        }
    }
    respond(c);
}

/* The handler deferred: watch only for the client leaving (or sending
 * more, which is discarded) until the owner completes. */
static void pend(http_conn *c)
{
    nl_http_server *srv = c->srv;
    srv->stats.deferred++;
    if (srv->body.cap > 64 * 1024)
        nl_dbuf_free(&srv->body);
    if (c->state != C_PENDING)
        return; /* completed (or closed) from inside the handler already */
    if (nl_io_start(srv->loop, &c->io, NL_IO_READ) < 0)
        conn_close(c); /* cancels */
}

nl_http_pending *nl_http_defer(nl_http_response *resp, uint32_t wait_ms, nl_http_cancel_fn cancel,
                               void *ud)
{
    http_conn *c = resp ? resp->conn_ : NULL;
    if (!c || resp->deferred_ || !cancel || c->state != C_READING || c->fd < 0) {
        if (resp && !resp->err)
            resp->err = NL_ESTATE;
        return NULL;
    }
    nl_http_server *srv = c->srv;
    if (wait_ms > NL_HTTP_MAX_DEFER_MS)
        wait_ms = NL_HTTP_MAX_DEFER_MS;
    uint64_t due = nl_deadline_after(nl_loop_now(srv->loop), (uint64_t)wait_ms * NL_NS_PER_MS);
    if (due > c->due) {
        c->due = due;
        (void)nl_timer_start(srv->loop, &c->deadline, c->due); /* re-arm: cannot fail */
    }
    c->cancel = cancel;
    c->cancel_ud = ud;
    c->state = C_PENDING; /* the handler may complete before it returns */
    resp->deferred_ = 1;
    return c;
}

int nl_http_pending_complete(nl_http_pending *p, int status, const char *content_type,
                             const void *body, size_t len, void (*release)(void *opaque),
                             void *opaque)
{
    http_conn *c = p;
    if (!c || c->state != C_PENDING) {
        if (release)
            release(opaque);
        return NL_ESTATE;
    }
    nl_http_server *srv = c->srv;
    c->state = C_READING; /* owed no more: a close from here on cancels nothing */
    c->cancel = NULL;
    if (status < 200 || status > 599 || !content_type) {
        if (release)
            release(opaque);
        release = NULL;
        status = 500;
        content_type = "text/plain; charset=utf-8";
        body = NULL;
        len = 0;
    }
    int rc;
    if (status == 500 && !body) {
        rc = compose_error(c, 500, c->head_only);
    } else if (release) {
        c->ext_release = release;
        c->ext_opaque = opaque;
        rc = compose(c, status, content_type, NULL, len, true);
        if (rc == 0 && !c->head_only && status != 204 && status != 304) {
            c->ext = body;
            c->ext_len = len;
        }
    } else {
        rc = compose(c, status, content_type, body, len, c->head_only);
    }
    if (rc < 0) {
        release_ext(c);
        rc = compose_error(c, 500, c->head_only);
        if (rc < 0) {
            conn_close(c);
            return rc;
        }
    }
    NL_LOGD(srv->ctx, "http", "deferred answer -> %d (%zu bytes)", status, len);
    uint64_t due =
        nl_deadline_after(nl_loop_now(srv->loop), (uint64_t)srv->cfg.timeout_ms * NL_NS_PER_MS);
    if (due > c->due) {
        c->due = due;
        (void)nl_timer_start(srv->loop, &c->deadline, c->due);
    }
    respond(c);
    return 0;
}

static void bad_request(http_conn *c, int status)
{
    c->srv->stats.errors++;
    NL_LOGD(c->srv->ctx, "http", "bad request -> %d", status);
    if (compose_error(c, status, false) < 0) {
        conn_close(c);
        return;
    }
    respond(c);
}

static void conn_read(http_conn *c)
{
    uint8_t *dst =
        nl_dbuf_reserve(&c->in, nl_dbuf_room(&c->in) < 1024 ? nl_dbuf_room(&c->in) : 1024);
    if (!dst) {
        conn_close(c); /* out of memory: the parser answers before the cap */
        return;
    }
    size_t room = c->in.cap - c->in.len;
    ssize_t n = recv(c->fd, dst, room, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c); /* closed before a complete request: nobody to answer */
        return;
    }
    nl_dbuf_commit(&c->in, (size_t)n);
    nl_http_request req;
    int rc = nl_http_parse(&c->parser, c->in.data, c->in.len, &req);
    if (rc == NL_EAGAIN)
        return;
    if (rc < 0) {
        bad_request(c, c->parser.status);
        return;
    }
    serve(c, &req);
}

/* Discards what the client sends after its request; ends on its close. */
static void conn_drain(http_conn *c)
{
    uint8_t sink[1024];
    ssize_t n = recv(c->fd, sink, sizeof sink, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0)
        conn_close(c);
}

static void on_conn_io(nl_io *io, unsigned events)
{
    http_conn *c = io->data;
    switch (c->state) {
    case C_READING:
        conn_read(c);
        break;
    case C_WRITING:
        if (events & (NL_IO_WRITE | NL_IO_ERROR))
            conn_flush(c);
        break;
    case C_PENDING: /* EOF or an error: the client left; conn_close cancels */
    case C_LINGER:
        conn_drain(c);
        break;
    }
}

/* A deferred answer that will never come (deadline, server going away):
 * one non-blocking try at a bare 503, so the client is not left guessing. */
static void send_unavailable(http_conn *c)
{
    static const char late[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n";
    (void)send(c->fd, late, sizeof late - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void on_deadline(nl_timer *t)
{
    http_conn *c = t->data;
    nl_http_server *srv = c->srv;
    if (c->state != C_LINGER) {
        srv->stats.timeouts++;
        NL_LOGD(srv->ctx, "http", "connection deadline passed (%s)",
                c->state == C_READING   ? "request incomplete"
                : c->state == C_PENDING ? "deferred answer not given"
                                        : "response unread");
    }
    if (c->state == C_PENDING)
        send_unavailable(c);
    if (c->state == C_READING && c->in.len > 0) {
        /* One non-blocking try: a slow client learns why, a stuck one costs
         * nothing more. */
        static const char late[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n";
        (void)send(c->fd, late, sizeof late - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    conn_close(c);
}

static void conn_open(nl_http_server *srv, int fd)
{
    http_conn *c = nl__calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    c->srv = srv;
    c->fd = fd;
    c->state = C_READING;
    nl_dbuf_init(&c->in, NL_HTTP_MAX_HEAD);
    nl_dbuf_init(&c->out, HEAD_MAX + srv->cfg.max_response_bytes);
    nl_http_parser_init(&c->parser);
    nl_io_init(&c->io, fd, on_conn_io, c);
    nl_timer_init(&c->deadline, on_deadline, c);
    c->due =
        nl_deadline_after(nl_loop_now(srv->loop), (uint64_t)srv->cfg.timeout_ms * NL_NS_PER_MS);
    if (nl_io_start(srv->loop, &c->io, NL_IO_READ) < 0 ||
        nl_timer_start(srv->loop, &c->deadline, c->due) < 0) {
        nl_io_stop(srv->loop, &c->io);
        close(fd);
        nl__free(c);
        return;
    }
    nl_list_insert_tail(&srv->conns, &c->node);
}

/* ---------------------------------------------------------------- listener */

static void on_resume(nl_timer *t)
{
    nl_http_server *srv = t->data;
    (void)nl_io_start(srv->loop, &srv->lio, NL_IO_READ);
}

static void refuse(nl_http_server *srv, int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n";
    srv->stats.refused++;
    (void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

static void on_accept(nl_io *io, unsigned events)
{
    nl_http_server *srv = io->data;
    for (int i = 0; i < ACCEPT_BUDGET; i++) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                NL_LOGW(srv->ctx, "http", "accept: %s; pausing the listener", strerror(errno));
                (void)nl_io_start(srv->loop, &srv->lio, 0);
                (void)nl_timer_start_in(srv->loop, &srv->resume, ACCEPT_PAUSE_NS);
            }
            return;
        }
        srv->stats.accepted++;
        if (nl_list_count(&srv->conns) >= srv->cfg.max_connections) {
            refuse(srv, fd);
            continue;
        }
        conn_open(srv, fd);
    }
}

static int listen_on(nl_http_server *srv, const char *host)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)srv->cfg.port);
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
        return NL_EINVAL;
    int rc = 0;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = nl_err_from_errno(errno);
        goto out;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        rc = nl_err_from_errno(errno);
        close(fd);
        goto out;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    srv->lfd = fd;
out:
    freeaddrinfo(ai);
    return rc;
}

/* ---------------------------------------------------------------- server */

int nl_http_server_create(nl_http_server **out, nl_loop *loop, const nl_ctx *ctx,
                          const nl_http_config *cfg)
{
    *out = NULL;
    nl_http_server *srv = nl__calloc(1, sizeof(*srv));
    if (!srv)
        return NL_ENOMEM;
    if (cfg)
        srv->cfg = *cfg;
    const char *host = srv->cfg.host && *srv->cfg.host ? srv->cfg.host : NL_HTTP_DEFAULT_HOST;
    srv->cfg.host = NULL; /* not kept: the caller's string need not outlive create */
    if (!srv->cfg.max_connections)
        srv->cfg.max_connections = NL_HTTP_DEFAULT_MAX_CONNECTIONS;
    if (!srv->cfg.timeout_ms)
        srv->cfg.timeout_ms = NL_HTTP_DEFAULT_TIMEOUT_MS;
    if (!srv->cfg.max_response_bytes)
        srv->cfg.max_response_bytes = NL_HTTP_DEFAULT_MAX_RESPONSE;
    srv->loop = loop;
    srv->ctx = ctx;
    srv->lfd = -1;
    nl_list_init(&srv->conns);
    nl_dbuf_init(&srv->body, srv->cfg.max_response_bytes);
    nl_timer_init(&srv->resume, on_resume, srv);

    int rc = listen_on(srv, host);
    if (rc == 0) {
        nl_io_init(&srv->lio, srv->lfd, on_accept, srv);
        rc = nl_io_start(loop, &srv->lio, NL_IO_READ);
    }
    if (rc < 0) {
        NL_LOGE(ctx, "http", "cannot listen on %s:%u: %s", host, (unsigned)srv->cfg.port,
                nl_strerror(rc));
        if (srv->lfd >= 0)
            close(srv->lfd);
        nl__free(srv);
        return rc;
    }
    NL_LOGI(ctx, "http", "listening on %s:%u", host, (unsigned)srv->port);
    *out = srv;
    return 0;
}

void nl_http_server_destroy(nl_http_server **psrv)
{
    if (!psrv || !*psrv)
        return;
    nl_http_server *srv = *psrv;
    while (!nl_list_empty(&srv->conns)) {
        http_conn *c = nl_container_of(srv->conns.next, http_conn, node);
        if (c->state == C_PENDING)
            send_unavailable(c);
        conn_close(c);
    }
    nl_timer_stop(srv->loop, &srv->resume);
    nl_io_stop(srv->loop, &srv->lio);
    close(srv->lfd);
    nl_dbuf_free(&srv->body);
    nl__free(srv);
    *psrv = NULL;
}

static int add_route(nl_http_server *srv, const char *path, bool prefix, nl_http_handler fn,
                     void *ud)
{
    size_t n = path ? strlen(path) : 0;
    if (!fn || n == 0 || path[0] != '/' || n >= NL_HTTP_MAX_ROUTE_PATH ||
        (prefix && path[n - 1] != '/'))
        return NL_EINVAL;
    http_route *r = find_entry(srv, path, n, prefix);
    if (!r) {
        if (srv->nroutes >= NL_HTTP_MAX_ROUTES)
            return NL_ELIMIT;
        r = &srv->routes[srv->nroutes++];
        memcpy(r->path, path, n + 1);
        r->path_len = n;
        r->prefix = prefix;
    }
    r->fn = fn;
    r->ud = ud;
    return 0;
}

int nl_http_server_route(nl_http_server *srv, const char *path, nl_http_handler fn, void *ud)
{
    return add_route(srv, path, false, fn, ud);
}

int nl_http_server_route_prefix(nl_http_server *srv, const char *prefix, nl_http_handler fn,
                                void *ud)
{
    return add_route(srv, prefix, true, fn, ud);
}

uint16_t nl_http_server_port(const nl_http_server *srv)
{
    return srv->port;
}

size_t nl_http_server_connections(const nl_http_server *srv)
{
    return nl_list_count(&srv->conns);
}

void nl_http_server_stats(const nl_http_server *srv, nl_http_stats *st)
{
    *st = srv->stats;
}
