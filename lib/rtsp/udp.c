/* The server's UDP RTP/RTCP socket pair. See udp.h. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "neolink/error.h"
#include "rtsp/server_int.h"

/* Datagrams per sendmmsg call; a frame with more goes out in several calls. */
#define NL_UDP_BATCH 64
/* Datagrams read per wakeup at most (the sockets are level-triggered). */
#define NL_UDP_READ_BUDGET 64

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* An RTCP packet from a client: refresh the UDP session it belongs to
 * (same address, RTCP port of one of its tracks). O(sessions). */
static void on_rtcp_from(nl_rtsp_server *srv, const struct sockaddr_storage *from)
{
    uint16_t port = get_port(from);
    uint64_t now = nl_loop_now(srv->loop);
    nl_list_foreach(it, &srv->sessions)
    {
        nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, srv_node);
        if (s->lower != NL_RTSP_LOWER_UDP || !same_host(&s->peer, from))
            continue;
        for (int t = 0; t < NL_SDP_MAX_TRACKS; t++) {
            if (s->tracks[t].setup && (s->cport[t][1] == port || s->cport[t][0] == port)) {
                nl__rtsp_session_touch(s, now);
                return;
            }
        }
    }
}

static void on_readable(nl_io *io, unsigned events)
{
    nl_rtsp_server *srv = io->data;
    nl__rtsp_udp *u = &srv->udp;
    bool rtcp = io == &u->io[1];
    uint8_t buf[2048];
    for (int i = 0; i < NL_UDP_READ_BUDGET; i++) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n =
            recvfrom(io->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n < 0)
            break; /* EAGAIN, or an ICMP error reported on the socket: nothing to do */
        if (rtcp && n >= 8 && nl_rtp_is_rtcp(buf, (size_t)n)) {
            u->rtcp_in++;
            on_rtcp_from(srv, &from);
        }
    }
}

static int bind_one(const char *host, uint16_t port, int *fd_out, uint16_t *port_out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai)
        return NL_EINVAL;
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = 0;
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        rc = nl_err_from_errno(errno);
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = get_port(&ss);
    *fd_out = fd;
    return 0;
}

int nl__rtsp_udp_open(nl_rtsp_server *srv, nl__rtsp_udp *u, const char *host, uint16_t port)
{
    memset(u, 0, sizeof(*u));
    u->fd[0] = u->fd[1] = -1;
    int rc = NL_EADDRINUSE;
    /* An ephemeral even/odd pair: take any port, keep it when it is even and
     * the next one is free. A few tries suffice on a sane machine. */
    for (int attempt = 0; attempt < (port ? 1 : 64); attempt++) {
        uint16_t p0 = 0, p1 = 0;
        rc = bind_one(host, port, &u->fd[0], &p0);
        if (rc < 0)
            return rc;
        if ((p0 & 1) == 0 && p0 < 65535 &&
            bind_one(host, (uint16_t)(p0 + 1), &u->fd[1], &p1) == 0) {
            u->port[0] = p0;
            u->port[1] = p1;
            rc = 0;
            break;
        }
        close(u->fd[0]);
        u->fd[0] = -1;
        rc = NL_EADDRINUSE;
    }
    if (rc < 0)
        return rc;
    for (int i = 0; i < 2; i++) {
        nl_io_init(&u->io[i], u->fd[i], on_readable, srv);
        rc = nl_io_start(srv->loop, &u->io[i], NL_IO_READ);
        if (rc < 0) {
            nl__rtsp_udp_close(srv, u);
            return rc;
        }
    }
    return 0;
}

void nl__rtsp_udp_close(nl_rtsp_server *srv, nl__rtsp_udp *u)
{
    for (int i = 0; i < 2; i++) {
        if (u->fd[i] >= 0) {
            nl_io_stop(srv->loop, &u->io[i]);
            close(u->fd[i]);
            u->fd[i] = -1;
        }
    }
}

int nl__rtsp_udp_send_frame(nl__rtsp_udp *u, const nl_rtp_frame *f,
                            const struct sockaddr_storage *peer, socklen_t peer_len,
                            uint16_t rtp_port, uint16_t rtcp_port)
{
    if (u->fd[0] < 0)
        return 0;
    struct sockaddr_storage dst[2];
    memcpy(&dst[0], peer, sizeof dst[0]);
    memcpy(&dst[1], peer, sizeof dst[1]);
    set_port(&dst[0], rtp_port);
    set_port(&dst[1], rtcp_port);
    struct mmsghdr msgs[NL_UDP_BATCH];
    struct iovec iov[NL_UDP_BATCH];
    int sent_total = 0;
    /* RTP and RTCP leave from different sockets (the ports the client was
     * told), so each batch holds packets of one kind. */
    for (int kind = 0; kind < 2; kind++) {
        uint32_t i = 0;
        while (i < f->npkts) {
            int n = 0;
            for (; i < f->npkts && n < NL_UDP_BATCH; i++) {
                if (f->pkts[i].rtcp != kind)
                    continue;
                iov[n].iov_base = (void *)nl_rtp_frame_pkt_data(f, i);
                iov[n].iov_len = f->pkts[i].len;
                memset(&msgs[n], 0, sizeof msgs[n]);
                msgs[n].msg_hdr.msg_name = &dst[kind];
                msgs[n].msg_hdr.msg_namelen = peer_len;
                msgs[n].msg_hdr.msg_iov = &iov[n];
                msgs[n].msg_hdr.msg_iovlen = 1;
                n++;
            }
            if (n == 0)
                break;
            int r = sendmmsg(u->fd[kind], msgs, (unsigned)n, MSG_DONTWAIT | MSG_NOSIGNAL);
            int ok = r < 0 ? 0 : r;
            sent_total += ok;
            u->datagrams_sent += (uint64_t)ok;
            u->datagrams_dropped += (uint64_t)(n - ok);
        }
    }
    return sent_total;
}
