/* Socket work of a session: non-blocking connect over the resolved
 * addresses, reads straight into the framer's buffer (bounded by the largest
 * message allowed), and a bounded send queue.
 *
 * The framer buffer never holds more than one maximal message, and the send
 * queue never more than NL__CONN_OUT_MAX bytes: we only send small control
 * messages, so a full queue means the camera stopped reading, which fails the
 * connection instead of growing memory. Each readiness callback reads at most
 * NL__CONN_READ_BUDGET bytes so one busy camera cannot starve the loop. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bc/session_int.h"
#include "core/log.h"
#include "neolink/error.h"

static void on_io(nl_io *io, unsigned events);

void nl__io_close(nl__conn *c)
{
    if (c->fd < 0)
        return;
    nl_io_stop(c->cam->loop, &c->io);
    close(c->fd);
    c->fd = -1;
    c->connected = 0;
}

/* ------------------------------------------------------------ sending */

static int update_watch(nl__conn *c)
{
    unsigned want = NL_IO_READ;
    if (c->out_pos < c->out.len)
        want |= NL_IO_WRITE;
    int rc = nl_io_start(c->cam->loop, &c->io, want);
    if (rc < 0)
        return nl__conn_fail(c, rc, "cannot watch the camera socket: %s", nl_strerror(rc));
    return 0;
}

static int flush(nl__conn *c)
{
    nl_camera *cam = c->cam;
    while (c->out_pos < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_pos, c->out.len - c->out_pos, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_pos += (size_t)n;
            cam->stats.bytes_out += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        int e = n < 0 ? nl_err_from_errno(errno) : NL_EIO;
        if (c->phase >= NL__PH_STOPPING && (e == NL_ECONNRESET || e == NL_EPIPE))
            return nl__conn_finish(c); /* gone while we were saying goodbye */
        return nl__conn_fail(c, e, "send to camera failed: %s", nl_strerror(e));
    }
    if (c->out_pos == c->out.len) {
        nl_dbuf_reset(&c->out);
        c->out_pos = 0;
    }
    return update_watch(c);
}

int nl__io_send(nl__conn *c, const nl_bc_header *h, const void *ext, size_t ext_len,
                const void *payload, size_t payload_len)
{
    if (c->dead || c->fd < 0)
        return NL_ECANCELED;
    nl_camera *cam = c->cam;
    if (c->out_pos) {
        nl_dbuf_consume(&c->out, c->out_pos);
        c->out_pos = 0;
    }
    long n = nl_bc_codec_encode(&c->codec, h, ext, ext_len, payload, payload_len, 0, 0, &c->out);
    if (n == NL_ETOOBIG)
        return nl__conn_fail(c, NL_ESTALL, "camera is not reading: %zu bytes queued", c->out.len);
    if (n < 0)
        return nl__conn_fail(c, (int)n, "cannot encode msg %u: %s", (unsigned)h->msg_id,
                             nl_strerror((int)n));
    cam->stats.messages_out++;
    NL_LOGT(cam->ctx, cam->who, "sent msg %u corr %08x (%ld bytes)", (unsigned)h->msg_id,
            (unsigned)h->corr, n);
    if (!c->connected)
        return 0;
    return flush(c);
}

int nl__io_send_simple(nl__conn *c, uint32_t msg_id, uint32_t *corr_out)
{
    nl_bc_header h;
    uint32_t corr = nl__conn_corr(c, 0);
    nl_bc_header_init(&h, msg_id, NL_BC_CLASS_MODERN, corr, 0);
    if (corr_out)
        *corr_out = corr;
    return nl__io_send(c, &h, NULL, 0, NULL, 0);
}

/* ------------------------------------------------------------ receiving */

static int process(nl__conn *c)
{
    nl_camera *cam = c->cam;
    for (;;) {
        nl_bc_msg m;
        int rc = nl_bc_framer_next(&c->framer, &m);
        if (rc == 0)
            return 0;
        if (rc > 0) {
            cam->stats.messages_in++;
            NL_LOGT(cam->ctx, cam->who, "msg %u corr %08x code %u body %u", (unsigned)m.hdr.msg_id,
                    (unsigned)m.hdr.corr, m.hdr.response_code, (unsigned)m.hdr.body_len);
            rc = nl__conn_on_message(c, &m);
            if (rc < 0 || c->dead)
                return rc < 0 ? rc : NL_ECANCELED;
            continue;
        }
        /* Garbage between messages: after login, skip to the next plausible
         * header, at most NL__CONN_MAX_RESYNCS times a minute (a camera
         * that keeps sending noise is broken, and reconnecting may help);
         * during login it means this is not a camera we understand. */
        if (rc == NL_EPROTO && c->phase >= NL__PH_READY) {
            uint64_t now = nl_loop_now(cam->loop);
            if (now - c->resync_window > 60 * NL_NS_PER_S) {
                c->resync_window = now;
                c->resyncs = 0;
            }
            if (c->resyncs >= NL__CONN_MAX_RESYNCS)
                return nl__conn_fail(c, rc, "bad data from camera: %u resyncs within a minute",
                                     c->resyncs);
            long dropped = nl_bc_framer_resync(&c->framer);
            if (dropped >= 0) {
                c->resyncs++;
                cam->stats.framing_resyncs++;
                NL_LOGW(cam->ctx, cam->who, "bad framing: skipped %ld bytes to the next message",
                        dropped);
                continue;
            }
            rc = (int)dropped;
        }
        if (rc == NL_ETOOBIG)
            return nl__conn_fail(c, rc, "camera sent a message above the %u-byte limit",
                                 (unsigned)cam->max_message);
        return nl__conn_fail(c, rc, "bad data from camera%s: %s",
                             c->phase < NL__PH_READY ? " during login" : "", nl_strerror(rc));
    }
}

static int on_eof(nl__conn *c)
{
    /* Hanging up on our goodbye completes it. */
    if (c->phase >= NL__PH_STOPPING)
        return nl__conn_finish(c);
    if (c->phase < NL__PH_READY)
        return nl__conn_fail(c, NL_ECLOSED, "camera closed the connection during login (%s)",
                             nl__login_waiting_for(c->phase));
    return nl__conn_fail(c, NL_ECLOSED, "camera closed the connection");
}

static int do_read(nl__conn *c)
{
    nl_camera *cam = c->cam;
    size_t total = 0;
    while (total < NL__CONN_READ_BUDGET) {
        size_t room = 0;
        uint8_t *p = nl_bc_framer_space(&c->framer, 64 * 1024, &room);
        if (!p || !room) {
            int e = c->framer.err ? c->framer.err : NL_ENOMEM;
            return nl__conn_fail(c, e, "receive buffer unavailable: %s", nl_strerror(e));
        }
        ssize_t n = recv(c->fd, p, room, 0);
        if (n > 0) {
            nl_bc_framer_commit(&c->framer, (size_t)n);
            cam->stats.bytes_in += (uint64_t)n;
            total += (size_t)n;
            int rc = process(c);
            if (rc < 0)
                return rc;
            if ((size_t)n < room)
                break; /* drained: level-triggered epoll calls again when more comes */
            continue;
        }
        if (n == 0)
            return on_eof(c);
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        int e = nl_err_from_errno(errno);
        if (c->phase >= NL__PH_STOPPING && (e == NL_ECONNRESET || e == NL_EPIPE))
            return nl__conn_finish(c); /* the camera hung up on our goodbye */
        return nl__conn_fail(c, e, "receive from camera failed: %s", nl_strerror(e));
    }
    return 0;
}

/* ------------------------------------------------------------ connecting */

static int start_watch(nl__conn *c, int fd, unsigned events)
{
    c->fd = fd;
    nl_io_init(&c->io, fd, on_io, c);
    int rc = nl_io_start(c->cam->loop, &c->io, events);
    if (rc < 0) {
        close(fd);
        c->fd = -1;
        return nl__conn_fail(c, rc, "cannot watch the camera socket: %s", nl_strerror(rc));
    }
    return 0;
}

static int connect_failed(nl__conn *c)
{
    nl_camera *cam = c->cam;
    int e = c->connect_err ? nl_err_from_errno(c->connect_err) : NL_EHOSTUNREACH;
    return nl__conn_fail(c, e, "connect to %s failed: %s", cam->addr, nl_strerror(e));
}

int nl__io_connect_next(nl__conn *c)
{
    nl_camera *cam = c->cam;
    c->phase = NL__PH_CONNECT;
    while (c->ai_cur) {
        const struct addrinfo *a = c->ai_cur;
        c->ai_cur = a->ai_next;
        int fd =
            socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            c->connect_err = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int rc;
        do {
            rc = connect(fd, a->ai_addr, a->ai_addrlen);
        } while (rc < 0 && errno == EINTR);
        if (rc < 0 && errno != EINPROGRESS) {
            c->connect_err = errno;
            NL_LOGD(cam->ctx, cam->who, "connect attempt failed: %s",
                    nl_strerror(nl_err_from_errno(errno)));
            close(fd);
            continue;
        }
        /* Even an immediate success is confirmed by writability, so there
         * is one code path for both. */
        return start_watch(c, fd, NL_IO_WRITE);
    }
    return connect_failed(c);
}

static int connect_done(nl__conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        c->connect_err = err;
        nl__io_close(c);
        return nl__io_connect_next(c);
    }
    c->connected = 1;
    int rc = update_watch(c);
    if (rc < 0)
        return rc;
    return nl__login_begin(c);
}

static void on_resolved(nl_io *io, unsigned events)
{
    nl__conn *c = io->data;
    nl_camera *cam = c->cam;
    struct addrinfo *ai = NULL;
    const char *msg = NULL;
    int rc = nl__resolver_result(c->res, &ai, &msg);
    if (rc == NL_EAGAIN)
        return;
    nl_io_stop(cam->loop, &c->res_io);
    nl__resolver_release(&c->res);
    if (rc < 0) {
        nl__conn_fail(c, rc, "cannot resolve %s: %s", cam->host, msg ? msg : nl_strerror(rc));
    } else if (c->phase == NL__PH_RESOLVE) {
        c->ai = ai;
        c->ai_cur = ai;
        nl__io_connect_next(c);
    } else {
        freeaddrinfo(ai); /* closing meanwhile */
    }
    nl__conn_rearm(c);
}

int nl__io_begin(nl__conn *c)
{
    nl_camera *cam = c->cam;
    struct addrinfo *ai = NULL;
    int rc = nl__resolver_start(cam->host, cam->port, &c->res, &ai);
    if (rc < 0)
        return nl__conn_fail(c, rc, "cannot resolve %s: %s", cam->host, nl_strerror(rc));
    if (ai) {
        c->ai = ai;
        c->ai_cur = ai;
        return nl__io_connect_next(c);
    }
    nl_io_init(&c->res_io, nl__resolver_fd(c->res), on_resolved, c);
    rc = nl_io_start(cam->loop, &c->res_io, NL_IO_READ);
    if (rc < 0)
        return nl__conn_fail(c, rc, "cannot watch the resolver: %s", nl_strerror(rc));
    NL_LOGD(cam->ctx, cam->who, "resolving %s", cam->host);
    return 0;
}

int nl__io_adopt(nl__conn *c, int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = nl_err_from_errno(errno);
        close(fd);
        return e;
    }
    int rc = start_watch(c, fd, NL_IO_READ);
    if (rc < 0)
        return rc;
    c->connected = 1;
    return nl__login_begin(c);
}

static void on_io(nl_io *io, unsigned events)
{
    nl__conn *c = io->data;
    int rc = 0;
    if (!c->connected) {
        if (c->phase == NL__PH_CONNECT)
            connect_done(c);
        else /* closing before connected: the timer drops it; stop polling */
            (void)nl_io_start(c->cam->loop, &c->io, 0);
    } else {
        if (events & NL_IO_WRITE)
            rc = flush(c);
        if (rc == 0 && !c->dead && (events & (NL_IO_READ | NL_IO_ERROR)))
            do_read(c);
    }
    nl__conn_rearm(c);
}
