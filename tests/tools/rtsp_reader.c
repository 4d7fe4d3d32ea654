/* A cheap raw-socket RTSP reader for scale, slow-client and benchmark runs:
 * N clients on one epoll thread, each doing DESCRIBE, SETUP (the first
 * track the SDP names; interleaved 0-1 over TCP, or --udp), PLAY, then
 * counting the RTP packets it gets.
 *
 *   rtsp_reader URL [URL...] [--clients N] [--duration S] [--stall K]
 *               [--rcvbuf B] [--udp] [--stagger MS] [--sizes FILE [--dump FILE]]
 *
 * With several URLs, client i watches URL i mod their count (one process
 * for many streams). --stagger MS starts client i MS*i milliseconds after
 * the first (time-to-first-frame runs: the clients join at every phase of
 * the key frame interval). --udp asks for RTP over UDP (one socket pair per
 * client) instead of interleaved TCP.
 * The first K clients are "stalled": after the PLAY answer they never read
 * again (with a small receive buffer), so the server must drop them.
 * Per healthy client it counts RTP packets, sequence gaps and video frames
 * (marker bit), and measures each frame's delay: arrival time minus RTP time,
 * relative to the smallest such offset that client saw, and the time from
 * its connect() to its first complete frame (ttff), noting whether that
 * frame held an H.264 IDR or SPS (a decoder can start there).
 * Prints one summary line per group:
 *   healthy n=.. playing=.. frames_min=.. frames_max=.. frames_total=.. gaps=.. bytes=..
 *           delay_max_ms=.. delay_p99_ms=.. delay_p50_ms=.. ttff_p50_ms=.. ttff_max_ms=..
 *           first_key=..
 *   stalled n=.. disconnected=.. disconnect_ms_min=.. disconnect_ms_max=..
 * --sizes FILE writes the size in bytes of each of the first healthy
 * client's frames (every '$' message up to and including the one with the
 * video marker bit), one per line, and --dump FILE those frames' bytes, for
 * the raw writer to replay (TCP only). The reader stops early once every
 * client's connection has closed (within 0.1 s).
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

enum { ST_IDLE, ST_DESCRIBE, ST_SETUP, ST_PLAY, ST_STREAM, ST_DEAD };
/* What an epoll event is about: data.u64 = client index * 4 + kind. */
enum { EV_TCP, EV_RTP, EV_RTCP };

#define MAX_URLS 256

typedef struct client {
    int fd, ufd[2], state, idx;
    bool stalled;
    const char *url;
    char base[600]; /* Content-Base, else the URL */
    char session[64];
    uint8_t *buf;
    size_t len, cap;
    uint64_t t_start, t_play, t_first, t_dead;
    bool frame_key, first_key;
    uint64_t pkts, frames, gaps, bytes;
    int have_seq;
    uint16_t last_seq;
    int64_t first_off;
    int32_t min_rel;
    int have_off;
    int32_t *delays; /* µs, per frame, relative to the first */
    size_t ndelays, delay_cap;
} client;

static const char *urls[MAX_URLS];
static int nurls;
static FILE *sizes_out;    /* --sizes */
static client *sizes_of;   /* the client whose frame sizes go there */
static uint64_t sizes_acc; /* bytes of its frame so far */
static FILE *dump_out;     /* --dump */
static uint8_t *dump_buf;  /* its frame so far */
static size_t dump_cap;
static bool use_udp;
static int ep, alive;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void mark_dead(client *c, uint64_t t)
{
    if (c->state == ST_DEAD)
        return;
    if (c->state != ST_IDLE)
        alive--;
    c->state = ST_DEAD;
    c->t_dead = t;
    if (c->fd >= 0)
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    for (int k = 0; k < 2; k++)
        if (c->ufd[k] >= 0)
            epoll_ctl(ep, EPOLL_CTL_DEL, c->ufd[k], NULL);
}

static void send_req(client *c, const char *method, const char *u, const char *extra, int cseq)
{
    char req[1024], sess[96] = "";
    if (c->session[0])
        snprintf(sess, sizeof sess, "Session: %s\r\n", c->session);
    int n = snprintf(req, sizeof req, "%s %s RTSP/1.0\r\nCSeq: %d\r\n%s%s\r\n", method, u, cseq,
                     extra, sess);
    if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        mark_dead(c, now_us());
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

/* Copies the header value after `name` (e.g. "\r\nSession: ") up to ';' or
 * the line end into out; false when absent. */
static bool header(const char *b, size_t n, const char *name, char *out, size_t cap)
{
    const char *s = find_ci(b, n, name);
    if (!s)
        return false;
    s += strlen(name);
    size_t k = 0;
    while (s + k < b + n && s[k] != ';' && s[k] != '\r' && k < cap - 1)
        k++;
    memcpy(out, s, k);
    out[k] = '\0';
    return true;
}

/* The control URL of the first track of the SDP at b (n bytes): absolute,
 * or relative to the client's base. */
static void track_url(client *c, const char *b, size_t n, char *out, size_t cap)
{
    const char *m = find_ci(b, n, "\nm=");
    const char *ctl = m ? find_ci(m, n - (size_t)(m - b), "\na=control:") : NULL;
    char v[512] = "streamid=0";
    if (ctl) {
        ctl += 11;
        size_t k = 0;
        while (ctl + k < b + n && ctl[k] != '\r' && ctl[k] != '\n' && k < sizeof v - 1)
            k++;
        memcpy(v, ctl, k);
        v[k] = '\0';
    }
    if (strncmp(v, "rtsp://", 7) == 0)
        snprintf(out, cap, "%s", v);
    else {
        size_t bl = strlen(c->base);
        snprintf(out, cap, "%s%s%s", c->base, bl && c->base[bl - 1] == '/' ? "" : "/", v);
    }
}

/* --udp: a bound socket pair for RTP and RTCP (the RTP port even when the
 * kernel allows); returns the RTP port or 0. */
static int udp_pair(client *c)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        int a = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET};
        inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        socklen_t sl = sizeof sa;
        int big = 1 << 20;
        setsockopt(a, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        bind(a, (struct sockaddr *)&sa, sizeof sa);
        getsockname(a, (struct sockaddr *)&sa, &sl);
        int p = ntohs(sa.sin_port);
        int b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sa.sin_port = htons((uint16_t)(p + 1));
        if ((p & 1) == 0 && bind(b, (struct sockaddr *)&sa, sizeof sa) == 0) {
            c->ufd[0] = a;
            c->ufd[1] = b;
            for (int k = 0; k < 2; k++) {
                struct epoll_event ev = {.events = EPOLLIN,
                                         .data.u64 = (uint64_t)c->idx * 4 + EV_RTP + (unsigned)k};
                epoll_ctl(ep, EPOLL_CTL_ADD, c->ufd[k], &ev);
            }
            return p;
        }
        close(a);
        close(b);
    }
    return 0;
}

static void on_reply(client *c, const char *b, size_t n)
{
    if (strncmp(b, "RTSP/1.0 200", 12) != 0) {
        fprintf(stderr, "client %d: %.*s\n", c->idx, (int)(n < 40 ? n : 40), b);
        mark_dead(c, now_us());
        return;
    }
    if (c->state == ST_DESCRIBE) {
        char u[1200];
        if (!header(b, n, "\r\nContent-Base: ", c->base, sizeof c->base))
            snprintf(c->base, sizeof c->base, "%s", c->url);
        track_url(c, b, n, u, sizeof u);
        c->state = ST_SETUP;
        if (use_udp) {
            int p = udp_pair(c);
            if (!p) {
                mark_dead(c, now_us());
                return;
            }
            char tr[128];
            snprintf(tr, sizeof tr, "Transport: RTP/AVP;unicast;client_port=%d-%d\r\n", p, p + 1);
            send_req(c, "SETUP", u, tr, 2);
        } else {
            send_req(c, "SETUP", u, "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n", 2);
        }
    } else if (c->state == ST_SETUP) {
        header(b, n, "\r\nSession: ", c->session, sizeof c->session);
        c->state = ST_PLAY;
        send_req(c, "PLAY", c->url, "Range: npt=0.000-\r\n", 3);
    } else if (c->state == ST_PLAY) {
        c->state = ST_STREAM;
        c->t_play = now_us();
    }
}

/* Whether an H.264 RTP payload starts or carries an IDR slice or an SPS
 * (single NAL, STAP-A's first unit, or FU-A). */
static bool h264_key(const uint8_t *p, size_t n)
{
    if (n < 2)
        return false;
    int t = p[0] & 0x1f;
    if (t == 24 && n >= 4)
        t = p[3] & 0x1f;
    else if (t == 28)
        t = p[1] & 0x1f;
    return t == 5 || t == 7;
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
    size_t hl = 12 + 4 * (size_t)(p[0] & 0x0f);
    if (!c->t_first && len > hl && h264_key(p + hl, len - hl))
        c->frame_key = true;
    if (p[1] & 0x80) {
        c->frames++;
        if (!c->t_first) {
            c->t_first = t;
            c->first_key = c->frame_key;
        }
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
        /* Interleaved data may come before the PLAY answer (GStreamer). */
        bool data = c->state == ST_STREAM || c->state == ST_PLAY;
        if (!data || len < 1 || b[0] != '$') {
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

/* Connects client c and sends its DESCRIBE. */
static void start_client(client *c, int rcvbuf)
{
    char host[64] = "";
    int port = 0;
    sscanf(c->url, "rtsp://%63[^:/]:%d", host, &port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    c->t_start = now_us();
    c->cap = 1 << 16;
    c->buf = malloc(c->cap);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->stalled)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (!c->buf || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        c->state = ST_DEAD;
        return;
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = (uint64_t)c->idx * 4};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->state = ST_DESCRIBE;
    alive++;
    send_req(c, "DESCRIBE", c->url, "Accept: application/sdp\r\n", 1);
}

static void on_tcp(client *c, unsigned events, uint64_t t)
{
    if (c->stalled && c->state == ST_STREAM) {
        if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
            mark_dead(c, t);
        } else {
            /* Never read: only watch for the hang-up. */
            struct epoll_event ev = {.events = EPOLLRDHUP, .data.u64 = (uint64_t)c->idx * 4};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
        return;
    }
    for (;;) {
        if (c->cap - c->len < 4096) {
            c->cap *= 2;
            c->buf = realloc(c->buf, c->cap);
        }
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
            mark_dead(c, t);
            return;
        }
        if (r < 0)
            return;
        c->len += (size_t)r;
        consume(c, t);
        if (c->state == ST_DEAD || (c->stalled && c->state == ST_STREAM))
            return;
    }
}

static void on_udp(client *c, int kind, uint64_t t)
{
    static uint8_t pkt[65536];
    for (;;) {
        ssize_t r = recv(c->ufd[kind == EV_RTP ? 0 : 1], pkt, sizeof pkt, 0);
        if (r <= 0)
            return;
        if (kind == EV_RTP && c->state == ST_STREAM) {
            on_rtp(c, pkt, (size_t)r, t);
            c->bytes += (uint64_t)r;
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double quantile_ms(const uint32_t *v, size_t n, double q)
{
    return n ? v[(size_t)((double)n * q) < n ? (size_t)((double)n * q) : n - 1] / 1000.0 : 0;
}

int main(int argc, char **argv)
{
    int nclients = 1, duration = 5, nstall = 0, rcvbuf = 4096, stagger_ms = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            if (nurls == MAX_URLS || strncmp(a, "rtsp://", 7) != 0) {
                fprintf(stderr, "bad url %s\n", a);
                return 2;
            }
            urls[nurls++] = a;
            continue;
        }
        if (!strcmp(a, "--udp")) {
            use_udp = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--clients"))
            nclients = atoi(v);
        else if (!strcmp(a, "--duration"))
            duration = atoi(v);
        else if (!strcmp(a, "--stall"))
            nstall = atoi(v);
        else if (!strcmp(a, "--stagger"))
            stagger_ms = atoi(v);
        else if (!strcmp(a, "--sizes")) {
            sizes_out = fopen(v, "w");
            if (!sizes_out) {
                perror(v);
                return 2;
            }
        } else if (!strcmp(a, "--dump")) {
            dump_out = fopen(v, "wb");
            if (!dump_out) {
                perror(v);
                return 2;
            }
        } else if (!strcmp(a, "--rcvbuf"))
            rcvbuf = atoi(v);
        else {
            fprintf(stderr, "unknown option %s\n", a);
            return 2;
        }
    }
    if (nurls == 0 || nclients <= 0) {
        fprintf(stderr, "usage: rtsp_reader URL [URL...] [--clients N] [--duration S] "
                        "[--stall K] [--udp] [--stagger MS]\n");
        return 2;
    }
    ep = epoll_create1(0);
    client *cs = calloc((size_t)nclients, sizeof *cs);
    for (int i = 0; i < nclients; i++) {
        client *c = &cs[i];
        c->idx = i;
        c->fd = c->ufd[0] = c->ufd[1] = -1;
        c->url = urls[i % nurls];
        c->stalled = i < nstall;
        if (sizes_out && i == nstall)
            sizes_of = c;
    }
    uint64_t t0 = now_us(), end = t0 + (uint64_t)duration * 1000000u;
    struct epoll_event evs[64];
    int started = 0;
    for (uint64_t t = t0; t < end; t = now_us()) {
        while (started < nclients && t >= t0 + (uint64_t)started * (uint64_t)stagger_ms * 1000u)
            start_client(&cs[started++], rcvbuf);
        /* every connection closed: nothing more to count */
        if (started == nclients && alive == 0)
            break;
        uint64_t wait = end - t;
        if (wait > 100000)
            wait = 100000;
        if (started < nclients) {
            uint64_t due = t0 + (uint64_t)started * (uint64_t)stagger_ms * 1000u;
            wait = due > t && due - t < wait ? due - t : wait;
        }
        int n = epoll_wait(ep, evs, 64, (int)(wait / 1000) + 1);
        t = now_us();
        for (int i = 0; i < n; i++) {
            client *c = &cs[evs[i].data.u64 / 4];
            int kind = (int)(evs[i].data.u64 % 4);
            if (c->state == ST_DEAD)
                continue;
            if (kind == EV_TCP)
                on_tcp(c, evs[i].events, t);
            else
                on_udp(c, kind, t);
        }
    }
    /* Summaries. */
    uint64_t fmin = UINT64_MAX, fmax = 0, ftotal = 0, gaps = 0, bytes = 0;
    int playing = 0, healthy = 0, disc = 0, first_key = 0;
    uint64_t dmin = UINT64_MAX, dmax = 0;
    uint32_t *all = NULL, *ttff = calloc((size_t)nclients + 1, sizeof *ttff);
    size_t nall = 0, nttff = 0;
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
        if (c->t_first) {
            ttff[nttff++] = (uint32_t)(c->t_first - c->t_start);
            first_key += c->first_key;
        }
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
    qsort(ttff, nttff, sizeof *ttff, cmp_u32);
    printf("healthy n=%d playing=%d frames_min=%llu frames_max=%llu frames_total=%llu gaps=%llu "
           "bytes=%llu delay_max_ms=%.1f delay_p99_ms=%.1f delay_p50_ms=%.2f ttff_p50_ms=%.1f "
           "ttff_max_ms=%.1f first_key=%d\n",
           healthy, playing, (unsigned long long)(healthy ? fmin : 0), (unsigned long long)fmax,
           (unsigned long long)ftotal, (unsigned long long)gaps, (unsigned long long)bytes,
           nall ? all[nall - 1] / 1000.0 : 0, quantile_ms(all, nall, 0.99),
           quantile_ms(all, nall, 0.5), quantile_ms(ttff, nttff, 0.5),
           nttff ? ttff[nttff - 1] / 1000.0 : 0, first_key);
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
        for (int k = 0; k < 2; k++)
            if (cs[i].ufd[k] >= 0)
                close(cs[i].ufd[k]);
        free(cs[i].buf);
        free(cs[i].delays);
    }
    free(cs);
    free(all);
    free(ttff);
    close(ep);
    return 0;
}
