/* A cheap raw-socket RTSP reader for scale and slow-client tests: N TCP
 * clients on one epoll thread, each doing DESCRIBE, SETUP (track 0,
 * interleaved 0-1), PLAY, then counting the '$' frames it gets.
 *
 *   rtsp_reader URL [--clients N] [--duration S] [--stall K] [--rcvbuf B]
 *               [--sizes FILE [--dump FILE]]
 *
 * The first K clients are "stalled": after the PLAY answer they never read
 * again (with a small receive buffer), so the server must drop them.
 * Per healthy client it counts RTP packets, sequence gaps and video frames
 * (marker bit), and measures each frame's delay: arrival time minus RTP time,
 * relative to the smallest such offset that client saw.
 * Prints one summary line per group:
 *   healthy n=.. playing=.. frames_min=.. frames_max=.. frames_total=.. gaps=.. bytes=..
 *           delay_max_ms=.. delay_p99_ms=..
 *   stalled n=.. disconnected=.. disconnect_ms_min=.. disconnect_ms_max=..
 * --sizes FILE writes the size in bytes of each of the first healthy
 * client's frames (every '$' message up to and including the one with the
 * video marker bit), one per line, and --dump FILE those frames' bytes, for
 * the raw writer to replay. The reader stops early once every client's
 * connection has closed.
 * Exit status 0 unless the arguments were bad. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_DESCRIBE, ST_SETUP, ST_PLAY, ST_STREAM, ST_DEAD };

typedef struct client {
    int fd, state, idx;
    bool stalled;
    char session[64];
    uint8_t *buf;
    size_t len, cap;
    uint64_t t_play, t_dead;
    uint64_t pkts, frames, gaps, bytes;
    int have_seq;
    uint16_t last_seq;
    int64_t first_off;
    int32_t min_rel;
    int have_off;
    int32_t *delays; /* µs, per frame, relative to the first */
    size_t ndelays, delay_cap;
} client;

static char host[64], path[512], url[600];
static FILE *sizes_out;    /* --sizes */
static client *sizes_of;   /* the client whose frame sizes go there */
static uint64_t sizes_acc; /* bytes of its frame so far */
static FILE *dump_out;     /* --dump */
static uint8_t *dump_buf;  /* its frame so far */
static size_t dump_cap;
static int port;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void send_req(client *c, const char *method, const char *u, const char *extra, int cseq)
{
    char req[1024], sess[96] = "";
    if (c->session[0])
        snprintf(sess, sizeof sess, "Session: %s\r\n", c->session);
    int n = snprintf(req, sizeof req, "%s %s RTSP/1.0\r\nCSeq: %d\r\n%s%s\r\n", method, u, cseq,
                     extra, sess);
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        c->state = ST_DEAD;
}

/* Case-insensitive search for needle in the n bytes at b (not terminated). */
static const char *find_ci(const char *b, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(b + i, needle, k) == 0)
            return b + i;
    return NULL;
}

/* Length of a complete reply at the front of b (head + body), or 0. */
static size_t reply_len(const uint8_t *buf, size_t len)
{
    const char *b = (const char *)buf;
    for (size_t i = 0; i + 3 < len; i++) {
        if (memcmp(b + i, "\r\n\r\n", 4) == 0) {
            size_t head = i + 4, body = 0;
            const char *cl = find_ci(b, i, "\r\nContent-Length:");
            if (cl)
                body = (size_t)strtoul(cl + 17, NULL, 10);
            return len >= head + body ? head + body : 0;
        }
    }
    return 0;
}

static void on_reply(client *c, const char *b, size_t n)
{
    if (strncmp(b, "RTSP/1.0 200", 12) != 0) {
        fprintf(stderr, "client %d: %.*s\n", c->idx, (int)(n < 40 ? n : 40), b);
        c->state = ST_DEAD;
        return;
    }
    if (c->state == ST_DESCRIBE) {
        char u[700];
        snprintf(u, sizeof u, "%s/streamid=0", url);
        c->state = ST_SETUP;
        send_req(c, "SETUP", u, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n", 2);
    } else if (c->state == ST_SETUP) {
        const char *s = find_ci(b, n, "\r\nSession: ");
        if (s) {
            s += 11;
            size_t k = 0;
            while (s[k] && s[k] != ';' && s[k] != '\r' && k < sizeof c->session - 1)
                k++;
            memcpy(c->session, s, k);
            c->session[k] = '\0';
        }
        c->state = ST_PLAY;
        send_req(c, "PLAY", url, "Range: npt=0.000-\r\n", 3);
    } else if (c->state == ST_PLAY) {
        c->state = ST_STREAM;
        c->t_play = now_us();
    }
}

static void on_rtp(client *c, const uint8_t *p, size_t len, uint64_t t)
{
    if (len < 12)
        return;
    uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
    uint32_t ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    c->pkts++;
    if (c->have_seq && seq != (uint16_t)(c->last_seq + 1))
        c->gaps++;
    c->have_seq = 1;
    c->last_seq = seq;
    if (p[1] & 0x80) {
        c->frames++;
        /* Arrival minus RTP time (µs); only differences matter. */
        int64_t off = (int64_t)t - (int64_t)((uint64_t)ts * 100 / 9);
        if (!c->have_off) {
            c->first_off = off;
            c->have_off = 1;
        }
        int32_t rel = (int32_t)(off - c->first_off);
        if (rel < c->min_rel)
            c->min_rel = rel;
        if (c->ndelays == c->delay_cap) {
            c->delay_cap = c->delay_cap ? 2 * c->delay_cap : 256;
            c->delays = realloc(c->delays, c->delay_cap * sizeof *c->delays);
        }
        c->delays[c->ndelays++] = rel;
    }
}

/* Handles every complete message at the front of c->buf. Consumed bytes are
 * dropped with one memmove at the end, not one per packet (a key frame is
 * dozens of packets; moving the rest of the buffer each time would make the
 * reader's own CPU, and so the measured delay, grow with the frame size). */
static void consume(client *c, uint64_t t)
{
    size_t off = 0;
    for (;;) {
        const uint8_t *b = c->buf + off;
        size_t len = c->len - off;
        if (c->state != ST_STREAM || len < 1 || b[0] != '$') {
            if (c->state == ST_STREAM && len && b[0] == 'R') {
                size_t n = reply_len(b, len);
                if (!n)
                    break;
                off += n;
                continue;
            }
            if (c->state == ST_STREAM || c->state == ST_DEAD)
                break;
            size_t n = reply_len(b, len);
            if (!n)
                break;
            on_reply(c, (const char *)b, n);
            off += n;
            if (c->state == ST_STREAM && c->stalled)
                break;
            continue;
        }
        if (len < 4)
            break;
        size_t plen = (size_t)b[2] << 8 | b[3];
        if (len < 4 + plen)
            break;
        if (b[1] == 0)
            on_rtp(c, b + 4, plen, t);
        c->bytes += 4 + plen;
        if (c == sizes_of) {
            if (dump_out) {
                if (sizes_acc + 4 + plen > dump_cap) {
                    dump_cap = 2 * (sizes_acc + 4 + plen);
                    dump_buf = realloc(dump_buf, dump_cap);
                    if (!dump_buf) {
                        fprintf(stderr, "out of memory\n");
                        exit(2);
                    }
                }
                memcpy(dump_buf + sizes_acc, b, 4 + plen);
            }
            sizes_acc += 4 + plen;
            if (b[1] == 0 && plen >= 2 && (b[5] & 0x80)) {
                fprintf(sizes_out, "%llu\n", (unsigned long long)sizes_acc);
                if (dump_out)
                    fwrite(dump_buf, 1, sizes_acc, dump_out);
                sizes_acc = 0;
            }
        }
        off += 4 + plen;
    }
    if (off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rtsp_reader URL [--clients N] [--duration S] [--stall K]\n");
        return 2;
    }
    snprintf(url, sizeof url, "%s", argv[1]);
    if (sscanf(url, "rtsp://%63[^:]:%d%511s", host, &port, path) < 2) {
        fprintf(stderr, "bad url\n");
        return 2;
    }
    int nclients = 1, duration = 5, nstall = 0, rcvbuf = 4096;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--clients"))
            nclients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration"))
            duration = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--stall"))
            nstall = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--sizes")) {
            sizes_out = fopen(argv[i + 1], "w");
            if (!sizes_out) {
                perror(argv[i + 1]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--dump")) {
            dump_out = fopen(argv[i + 1], "wb");
            if (!dump_out) {
                perror(argv[i + 1]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--rcvbuf"))
            rcvbuf = atoi(argv[i + 1]);
    }
    int ep = epoll_create1(0);
    client *cs = calloc((size_t)nclients, sizeof *cs);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    for (int i = 0; i < nclients; i++) {
        client *c = &cs[i];
        c->idx = i;
        c->stalled = i < nstall;
        if (sizes_out && i == nstall)
            sizes_of = c;
        c->cap = 1 << 16;
        c->buf = malloc(c->cap);
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->stalled)
            setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            c->state = ST_DEAD;
            continue;
        }
        fcntl(c->fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        send_req(c, "DESCRIBE", url, "Accept: application/sdp\r\n", 1);
    }
    uint64_t t0 = now_us(), end = t0 + (uint64_t)duration * 1000000u;
    struct epoll_event evs[64];
    uint64_t next_check = t0;
    for (uint64_t t = t0; t < end; t = now_us()) {
        if (t >= next_check) {
            /* every connection closed: nothing more to count */
            int alive = 0;
            for (int i = 0; i < nclients; i++)
                alive += cs[i].state != ST_DEAD;
            if (!alive)
                break;
            next_check = t + 100000;
        }
        int n = epoll_wait(ep, evs, 64, (int)((end - t) / 1000) + 1);
        t = now_us();
        for (int i = 0; i < n; i++) {
            client *c = evs[i].data.ptr;
            if (c->state == ST_DEAD)
                continue;
            if (c->stalled && c->state == ST_STREAM) {
                if (evs[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
                    c->state = ST_DEAD;
                    c->t_dead = t;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                } else {
                    /* Never read: only watch for the hang-up. */
                    struct epoll_event ev = {.events = EPOLLRDHUP, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
                continue;
            }
            for (;;) {
                if (c->cap - c->len < 4096) {
                    c->cap *= 2;
                    c->buf = realloc(c->buf, c->cap);
                }
                ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    c->state = ST_DEAD;
                    c->t_dead = t;
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    break;
                }
                if (r < 0)
                    break;
                c->len += (size_t)r;
                consume(c, t);
                if (c->stalled && c->state == ST_STREAM)
                    break;
            }
        }
    }
    /* Summaries. */
    uint64_t fmin = UINT64_MAX, fmax = 0, ftotal = 0, gaps = 0, bytes = 0;
    int playing = 0, healthy = 0, disc = 0;
    uint64_t dmin = UINT64_MAX, dmax = 0;
    uint32_t *all = NULL;
    size_t nall = 0;
    for (int i = 0; i < nclients; i++) {
        client *c = &cs[i];
        if (c->stalled) {
            if (c->t_dead && c->t_play) {
                disc++;
                uint64_t d = (c->t_dead - c->t_play) / 1000;
                dmin = d < dmin ? d : dmin;
                dmax = d > dmax ? d : dmax;
            }
            continue;
        }
        healthy++;
        if (c->t_play)
            playing++;
        fmin = c->frames < fmin ? c->frames : fmin;
        fmax = c->frames > fmax ? c->frames : fmax;
        ftotal += c->frames;
        gaps += c->gaps;
        bytes += c->bytes;
        /* Delays relative to this client's minimum offset. */
        all = realloc(all, (nall + c->ndelays + 1) * sizeof *all);
        for (size_t k = 0; k < c->ndelays; k++)
            all[nall++] = (uint32_t)(c->delays[k] - c->min_rel);
    }
    qsort(all, nall, sizeof *all, cmp_u32);
    double p99 = nall ? all[(size_t)(nall * 0.99)] / 1000.0 : 0,
           mx = nall ? all[nall - 1] / 1000.0 : 0;
    printf("healthy n=%d playing=%d frames_min=%llu frames_max=%llu frames_total=%llu gaps=%llu "
           "bytes=%llu delay_max_ms=%.1f delay_p99_ms=%.1f\n",
           healthy, playing, (unsigned long long)(healthy ? fmin : 0), (unsigned long long)fmax,
           (unsigned long long)ftotal, (unsigned long long)gaps, (unsigned long long)bytes, mx,
           p99);
    if (nstall)
        printf("stalled n=%d disconnected=%d disconnect_ms_min=%llu disconnect_ms_max=%llu\n",
               nstall, disc, (unsigned long long)(disc ? dmin : 0), (unsigned long long)dmax);
    fflush(stdout);
    if (sizes_out)
        fclose(sizes_out);
    if (dump_out)
        fclose(dump_out);
    free(dump_buf);
    for (int i = 0; i < nclients; i++) {
        if (cs[i].fd >= 0)
            close(cs[i].fd);
        free(cs[i].buf);
        free(cs[i].delays);
    }
    free(cs);
    free(all);
    close(ep);
    return 0;
}
