/* One RTSP TCP connection: request intake and the single write path. See
 * conn.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "neolink/error.h"
#include "rtsp/server_int.h"

/* Pending replies a client may leave unread before it is dropped. */
#define NL_CONN_OUT_MAX (256u * 1024)
/* Bytes read per readiness event at most (fairness between clients). */
#define NL_CONN_READ_BUDGET (64u * 1024)

static void numeric(const struct sockaddr *sa, socklen_t len, char *host, size_t hn, uint16_t *port)
{
    char serv[16];
    if (getnameinfo(sa, len, host, (socklen_t)hn, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(host, hn, "?");
        *port = 0;
        return;
    }
    unsigned long p = 0;
    for (const char *s = serv; *s >= '0' && *s <= '9'; s++)
        p = p * 10 + (unsigned long)(*s - '0');
    *port = (uint16_t)p;
}

static bool want_read(const nl__rtsp_conn *c)
{
    return !c->closing && !c->dead && nl_dbuf_room(&c->in) > 0;
}

static void update_io(nl__rtsp_conn *c, bool want_write)
{
    if (c->dead)
        return;
    unsigned ev = (want_read(c) ? NL_IO_READ : 0) | (want_write ? NL_IO_WRITE : 0);
    if (nl_io_start(c->srv->loop, &c->io, ev) < 0)
        nl__rtsp_conn_fail_later(c, NL_EIO);
}

/* An idle connection keeps no buffer: a viewer that only watches costs its
 * structs, not 4 KiB of input and the last reply. Requests are rare next to
 * frames, so allocating again for the next one is cheap. */
static void release_if_empty(nl_dbuf *b, size_t max)
{
    if (b->len == 0 && b->data) {
        nl_dbuf_free(b);
        nl_dbuf_init(b, max);
    }
}

static void on_io(nl_io *io, unsigned events);

int nl__rtsp_conn_create(nl_rtsp_server *srv, int fd, const struct sockaddr *peer,
                         socklen_t peer_len, bool refuse)
{
    nl__rtsp_conn *c = nl__calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return NL_ENOMEM;
    }
    c->srv = srv;
    c->fd = fd;
    c->id = ++srv->next_conn_id;
    c->refuse = refuse;
    memcpy(&c->peer, peer, peer_len <= sizeof c->peer ? peer_len : sizeof c->peer);
    c->peer_len = peer_len;
    numeric(peer, peer_len, c->peer_host, sizeof c->peer_host, &c->peer_port);
    struct sockaddr_storage local;
    socklen_t ll = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
        numeric((struct sockaddr *)&local, ll, c->local_host, sizeof c->local_host, &c->local_port);
    snprintf(c->who, sizeof c->who, "rtsp conn %u %s:%u", c->id, c->peer_host,
             (unsigned)c->peer_port);
    nl_list_init(&c->sessions);
    nl_list_init(&c->node);
    nl_dbuf_init(&c->in, NL_RTSP_MAX_MESSAGE + 64);
    nl_dbuf_init(&c->out, NL_CONN_OUT_MAX);
    nl_rtsp_parser_init(&c->parser);
    c->last_req = nl_loop_now(srv->loop);

    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (srv->cfg.sndbuf > 0) {
        /* The kernel doubles the value; a capped buffer bounds kernel memory
         * per client and makes a stall visible early. */
        int sb = srv->cfg.sndbuf / 2;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    }
    nl_io_init(&c->io, fd, on_io, c);
    int rc = nl_io_start(srv->loop, &c->io, NL_IO_READ);
    if (rc < 0) {
        close(fd);
        nl_dbuf_free(&c->in);
        nl_dbuf_free(&c->out);
        nl__free(c);
        return rc;
    }
    nl_list_insert_tail(&srv->conns, &c->node);
    NL_LOGD(srv->ctx, c->who, "connected%s", refuse ? " (over the limit)" : "");
    return 0;
}

void nl__rtsp_conn_fail(nl__rtsp_conn *c, int err)
{
    if (c->dead)
        return;
    nl_rtsp_server *srv = c->srv;
    c->dead = true;
    c->err = err;
    if (err == NL_ESTALL)
        srv->stats.stalled++;
    if (err == NL_ECLOSED || err == NL_ECANCELED || err == 0 || err == NL_EPIPE ||
        err == NL_ECONNRESET)
        NL_LOGD(srv->ctx, c->who, "closed (%s)", nl_err_name(err));
    else
        NL_LOGI(srv->ctx, c->who, "closed: %s", nl_strerror(err));
    nl_io_stop(srv->loop, &c->io);
    if (err != 0 && err != NL_ECLOSED && err != NL_ECANCELED) {
        /* An abort (stall, timeout, error): reset the connection so the
         * kernel drops what is still queued for a client that does not read,
         * and the client sees the end at once instead of after that data. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    c->fd = -1;
    c->play_wait = NULL;
    nl_list_foreach_safe(it, tmp, &c->sessions)
    {
        nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, conn_node);
        if (s->lower == NL_RTSP_LOWER_UDP && s->state == NL__SESS_PLAYING && !s->play_pending) {
            /* A playing UDP session outlives its control connection until it
             * expires or is torn down from another connection. */
            nl_list_remove(&s->conn_node);
            s->conn = NULL;
        } else {
            nl__rtsp_session_close(s, err);
        }
    }
    nl_rtp_frame_unref(&c->cur);
    c->cur_sess = NULL;
    nl_dbuf_free(&c->in);
    nl_dbuf_free(&c->out);
    nl_list_remove(&c->node);
    nl_list_insert_tail(&srv->dead_conns, &c->node);
    nl__rtsp_server_schedule(srv);
}

void nl__rtsp_conn_fail_later(nl__rtsp_conn *c, int err)
{
    if (c->dead || c->fail_pending)
        return;
    c->fail_pending = true;
    c->fail_err = err;
    nl__rtsp_server_schedule(c->srv);
}

void nl__rtsp_conn_free(nl__rtsp_conn *c)
{
    nl__free(c);
}

int nl__rtsp_conn_queue_reply(nl__rtsp_conn *c, const char *data, size_t len)
{
    if (c->dead)
        return NL_ESTATE;
    int rc = nl_dbuf_append(&c->out, data, len);
    if (rc < 0) {
        /* A client that pipelines requests and never reads the answers. */
        nl__rtsp_conn_fail_later(c, rc);
        return rc;
    }
    nl__rtsp_conn_flush(c);
    return 0;
}

void nl__rtsp_conn_resume(nl__rtsp_conn *c)
{
    if (c->dead)
        return;
    c->resume_pending = true;
    nl__rtsp_server_schedule(c->srv);
}

void nl__rtsp_conn_close_gracefully(nl__rtsp_conn *c)
{
    if (c->dead)
        return;
    c->closing = true;
    nl__rtsp_conn_flush(c);
}

/* ---------------------------------------------------------------- writing */

/* Sends the rest of c->cur. Returns 1 when complete, 0 when the socket is
 * full, or a negative code. One send (or sendmsg) per frame unless the
 * kernel takes only part of it. */
static int write_frame(nl__rtsp_conn *c)
{
    const nl_rtp_frame *f = c->cur;
    ssize_t n;
    if (c->cur_ch[0] == f->rtp_channel && c->cur_ch[1] == f->rtcp_channel) {
        n = send(c->fd, f->data + c->cur_off, f->size - c->cur_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
        /* The client chose its own channels: same layout, own prefixes. */
        struct iovec iov[2 * NL_CONN_IOV_PKTS];
        int niov = 0, nhdr = 0;
        for (uint32_t k = 0; k < f->npkts && nhdr < NL_CONN_IOV_PKTS; k++) {
            size_t start = f->pkts[k].off, plen = f->pkts[k].len;
            if (c->cur_off >= start + NL_RTP_PREFIX + plen)
                continue;
            size_t skip = c->cur_off > start ? c->cur_off - start : 0;
            uint8_t *h = &c->hdr[4 * nhdr++];
            h[0] = '$';
            h[1] = f->pkts[k].rtcp ? c->cur_ch[1] : c->cur_ch[0];
            h[2] = (uint8_t)(plen >> 8);
            h[3] = (uint8_t)plen;
            const uint8_t *payload = f->data + start + NL_RTP_PREFIX;
            if (skip < NL_RTP_PREFIX) {
                iov[niov].iov_base = h + skip;
                iov[niov++].iov_len = NL_RTP_PREFIX - skip;
                iov[niov].iov_base = (void *)payload;
                iov[niov++].iov_len = plen;
            } else {
                iov[niov].iov_base = (void *)(payload + (skip - NL_RTP_PREFIX));
                iov[niov++].iov_len = plen - (skip - NL_RTP_PREFIX);
            }
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
        n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        return nl_err_from_errno(errno);
    }
    c->cur_off += (size_t)n;
    if (n > 0)
        c->stall_since = 0;
    return c->cur_off >= f->size ? 1 : 0;
}

bool nl__rtsp_conn_send_now(nl__rtsp_conn *c, nl__rtsp_session *s, const nl_rtp_frame *f,
                            uint64_t now)
{
    if (c->dead || c->fail_pending || c->closing || c->cur || c->out.len)
        return false;
    /* Borrowed for the write; a reference is taken only if part of the
     * frame stays in flight. */
    c->cur = (nl_rtp_frame *)(uintptr_t)f;
    c->cur_off = 0;
    c->cur_ch[0] = s->tracks[f->track].ch[0];
    c->cur_ch[1] = s->tracks[f->track].ch[1];
    int rc = write_frame(c);
    if (rc == 1) {
        c->cur = NULL;
        s->frames_sent++;
        s->bytes_sent += f->size;
        /* No update_io: an idle connection does not ask for EPOLLOUT (every
         * path that leaves it idle ends in update_io(c, false)). */
        c->stall_since = 0;
        return true;
    }
    if (rc < 0) {
        c->cur = NULL;
        nl__rtsp_conn_fail_later(c, rc);
        return true;
    }
    c->cur = nl_rtp_frame_ref(f);
    c->cur_sess = s;
    if (!c->stall_since)
        c->stall_since = now ? now : 1;
    update_io(c, true);
    return true;
}

/* The next session (round robin) whose queue head is due; arms the pacing
 * timers of those that are not. */
static nl__rtsp_session *next_due(nl__rtsp_conn *c, uint64_t now)
{
    size_t n = 0;
    nl_list_foreach(it, &c->sessions) n++;
    if (n == 0)
        return NULL;
    unsigned start = c->rr % (unsigned)n, i = 0;
    nl__rtsp_session *found = NULL;
    for (unsigned round = 0; round < 2 && !found; round++) {
        i = 0;
        nl_list_foreach(it, &c->sessions)
        {
            nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, conn_node);
            bool in_turn = round == 0 ? i >= start : i < start;
            i++;
            if (!in_turn || s->lower != NL_RTSP_LOWER_TCP || s->play_pending)
                continue;
            const nl__cq_entry *e = nl__cq_peek(&s->q);
            if (!e)
                continue;
            if (e->due > now) {
                nl__rtsp_session_arm_pace(s, now);
                continue;
            }
            found = s;
            break;
        }
    }
    c->rr++;
    return found;
}

void nl__rtsp_conn_flush(nl__rtsp_conn *c)
{
    if (c->dead || c->fail_pending)
        return;
    uint64_t now = nl_loop_now(c->srv->loop);
    for (;;) {
        if (c->cur) {
            int rc = write_frame(c);
            if (rc < 0) {
                nl__rtsp_conn_fail_later(c, rc);
                return;
            }
            if (rc == 0) {
                if (!c->stall_since)
                    c->stall_since = now ? now : 1;
                update_io(c, true);
                return;
            }
            if (c->cur_sess) {
                c->cur_sess->frames_sent++;
                c->cur_sess->bytes_sent += c->cur->size;
            }
            nl_rtp_frame_unref(&c->cur);
            c->cur_sess = NULL;
            continue;
        }
        if (c->out.len) {
            ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    nl__rtsp_conn_fail_later(c, nl_err_from_errno(errno));
                    return;
                }
                if (!c->stall_since)
                    c->stall_since = now ? now : 1;
                update_io(c, true);
                return;
            }
            nl_dbuf_consume(&c->out, (size_t)n);
            release_if_empty(&c->out, NL_CONN_OUT_MAX);
            c->stall_since = 0;
            continue;
        }
        if (c->closing) {
            nl__rtsp_conn_fail_later(c, c->refuse ? NL_ELIMIT : NL_ECANCELED);
            return;
        }
        nl__rtsp_session *s = next_due(c, now);
        if (!s)
            break;
        c->cur = nl__cq_pop(&s->q);
        c->cur_sess = s;
        c->cur_off = 0;
        c->cur_ch[0] = s->tracks[c->cur->track].ch[0];
        c->cur_ch[1] = s->tracks[c->cur->track].ch[1];
    }
    c->stall_since = 0;
    update_io(c, false);
}

/* ---------------------------------------------------------------- reading */

/* RTCP (receiver reports) from the client over an interleaved channel. */
static void on_interleaved(nl__rtsp_conn *c, const nl_rtsp_interleaved *fr)
{
    uint64_t now = nl_loop_now(c->srv->loop);
    nl_list_foreach(it, &c->sessions)
    {
        nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, conn_node);
        for (int t = 0; t < NL_SDP_MAX_TRACKS; t++)
            if (s->tracks[t].setup && s->tracks[t].ch[1] == fr->channel)
                nl__rtsp_session_touch(s, now);
    }
}

void nl__rtsp_conn_process(nl__rtsp_conn *c)
{
    nl_rtsp_server *srv = c->srv;
    while (!c->dead && !c->play_wait && !c->closing && !c->fail_pending && c->in.len) {
        nl_rtsp_msg *msg = &srv->msg;
        nl_rtsp_msg_kind kind = nl_rtsp_parse(&c->parser, c->in.data, c->in.len, msg);
        size_t used = msg->consumed;
        if (kind == NL_RTSP_MSG_NEED_MORE) {
            if (used)
                nl_dbuf_consume(&c->in, used);
            if (nl_dbuf_room(&c->in) == 0) {
                /* Cannot happen within the parser's limits; never wait forever. */
                c->closing = true;
                nl__rtsp_conn_flush(c);
            }
            break;
        }
        if (kind == NL_RTSP_MSG_REQUEST) {
            c->last_req = nl_loop_now(srv->loop);
            srv->stats.requests++;
            nl__rtsp_handle_request(c, &msg->req);
        } else if (kind == NL_RTSP_MSG_INTERLEAVED) {
            on_interleaved(c, &msg->frame);
        } else {
            nl__rtsp_handle_parse_error(c, msg);
        }
        if (c->dead)
            return;
        nl_dbuf_consume(&c->in, used);
    }
    if (c->dead)
        return;
    release_if_empty(&c->in, NL_RTSP_MAX_MESSAGE + 64);
    if (c->closing)
        nl__rtsp_conn_flush(c);
    else
        update_io(c, c->cur || c->out.len);
}

static void on_io(nl_io *io, unsigned events)
{
    nl__rtsp_conn *c = io->data;
    if (events & NL_IO_WRITE)
        nl__rtsp_conn_flush(c);
    if (c->dead || c->fail_pending || !(events & (NL_IO_READ | NL_IO_ERROR)))
        return;
    size_t got = 0;
    while (got < NL_CONN_READ_BUDGET && nl_dbuf_room(&c->in) > 0) {
        size_t room = nl_dbuf_room(&c->in);
        if (room > 4096)
            room = 4096;
        uint8_t *p = nl_dbuf_reserve(&c->in, room);
        if (!p) {
            nl__rtsp_conn_fail(c, NL_ENOMEM);
            return;
        }
        ssize_t n = recv(c->fd, p, room, MSG_DONTWAIT);
        if (n == 0) {
            nl__rtsp_conn_fail(c, NL_ECLOSED);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            nl__rtsp_conn_fail(c, nl_err_from_errno(errno));
            return;
        }
        nl_dbuf_commit(&c->in, (size_t)n);
        got += (size_t)n;
        if ((size_t)n < room)
            break;
    }
    nl__rtsp_conn_process(c);
}
