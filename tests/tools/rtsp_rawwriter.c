/* Baseline for tests/bench/rtsp_fanout.sh: the cheapest possible fan-out.
 * One thread writes one buffer per frame to each of N loopback TCP clients
 * (one send() per frame per client, like the RTSP server's TCP path);
 * prints the writer thread's CPU time and bytes.
 *
 *   rtsp_rawwriter [--clients N] [--duration S] [--bitrate BPS] [--fps F]
 *                  [--sizes FILE [--frames FILE]] [--rtsp]
 *
 * Frames are bitrate / 8 / fps bytes each, or, with --sizes, the sizes in
 * FILE (one per line, as rtsp_reader --sizes writes them) in turn, so the
 * writer moves the very frames the server sent: a key frame is a much
 * bigger send than the others, which costs the kernel more than its bytes.
 *
 * Who reads: by default a second thread of this program drains the N
 * sockets. With --rtsp the clients are RTSP clients instead (rtsp_reader):
 * it prints "PORT p", answers DESCRIBE, SETUP and PLAY of N connections,
 * then sends '$'-framed frames: the bytes in --frames (rtsp_reader --dump,
 * cut by --sizes), else made-up RTP packets. So the server and this writer
 * can be measured against the same reader: on loopback a reader that lags
 * takes over part of the sender's kernel work (the transmit happens when
 * it acknowledges), so the reader must be the same for both.
 *
 * A client whose SETUP asks for UDP (client_port=) gets the frames' RTP
 * packets by sendto() from one UDP socket instead: one call per packet per
 * client, like the server's UDP path.
 *
 * Also prints how long each frame's round of sends took (p50, p99, max):
 * the least added latency a single thread can have for that fan-out. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_int done;
static int ep;
/* --rtsp: per client, its RTP address when it asked for UDP (port 0: TCP),
 * and the one UDP socket they are all sent from. */
static struct sockaddr_in *udp_dst;
static int udp_fd = -1;

static void *drain(void *arg)
{
    static char buf[1 << 16];
    struct epoll_event evs[64];
    while (!atomic_load(&done)) {
        int n = epoll_wait(ep, evs, 64, 100);
        for (int i = 0; i < n; i++)
            while (recv(evs[i].data.fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                ;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
    fprintf(stderr, "rtsp_rawwriter: %s\n", what);
    exit(2);
}

/* Reads the frame sizes of --sizes; exits on a bad file. */
static size_t *read_sizes(const char *path, size_t *count, size_t *max)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t n = 0, cap = 0, *v = NULL;
    unsigned long long x;
    *max = 0;
    while (fscanf(f, "%llu", &x) == 1) {
        if (x == 0 || x > (64u << 20))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            v = realloc(v, cap * sizeof *v);
            if (!v)
                exit(2);
        }
        v[n++] = (size_t)x;
        if (x > *max)
            *max = (size_t)x;
    }
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "%s: no frame sizes\n", path);
        exit(2);
    }
    *count = n;
    return v;
}

/* Reads all of --frames; exits on a bad file. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (!b)
            fail("out of memory");
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        b = realloc(b, cap);
    }
    fclose(f);
    *len = n;
    return b;
}

/* Made-up '$'-framed RTP packets (channel 0, 1400-byte payloads, marker on
 * the last) filling exactly `size` bytes, for --rtsp without --frames. */
static void make_frame(uint8_t *buf, size_t size, uint16_t *seq)
{
    size_t off = 0;
    memset(buf, 0, size);
    while (off < size) {
        size_t left = size - off, plen = left - 4 > 1412 ? 1412 : left - 4;
        if (left - 4 - plen < 16 && left - 4 > 1412)
            plen = left - 4 - 16; /* leave room for one more whole packet */
        uint8_t *p = buf + off;
        p[0] = '$';
        p[1] = 0;
        p[2] = (uint8_t)(plen >> 8);
        p[3] = (uint8_t)plen;
        if (plen >= 12) {
            p[4] = 0x80;
            p[5] = 96 | (off + 4 + plen >= size ? 0x80 : 0);
            p[6] = (uint8_t)(*seq >> 8);
            p[7] = (uint8_t)*seq;
            (*seq)++;
        }
        off += 4 + plen;
    }
}

/* --rtsp: answers the RTSP requests of n clients until all of them play
 * (or a minute has passed); returns their sockets. */
static int *serve_rtsp(int n, int *playing)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t sl = sizeof sa;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 1024) < 0)
        fail("cannot listen");
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    printf("PORT %u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);
    struct pollfd *pf = calloc((size_t)n + 1, sizeof *pf);
    char(*in)[4096] = calloc((size_t)n, sizeof *in);
    size_t *len = calloc((size_t)n, sizeof *len);
    bool *play = calloc((size_t)n, sizeof *play);
    int *fds = calloc((size_t)n, sizeof *fds);
    udp_dst = calloc((size_t)n, sizeof *udp_dst);
    if (!pf || !in || !len || !play || !fds || !udp_dst)
        fail("out of memory");
    udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &ua.sin_addr);
    socklen_t ul = sizeof ua;
    if (bind(udp_fd, (struct sockaddr *)&ua, sizeof ua) < 0)
        fail("cannot bind UDP");
    getsockname(udp_fd, (struct sockaddr *)&ua, &ul);
    int sndbuf = 4 << 20;
    setsockopt(udp_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    int nconn = 0;
    *playing = 0;
    static const char sdp[] = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=raw\r\nc=IN IP4 127.0.0.1\r\n"
                              "t=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
                              "a=control:streamid=0\r\n";
    double end = now_s() + 60;
    while (*playing < n && now_s() < end) {
        pf[0] = (struct pollfd){.fd = nconn < n ? lfd : -1, .events = POLLIN};
        for (int i = 0; i < nconn; i++)
            pf[i + 1] = (struct pollfd){.fd = play[i] ? -1 : fds[i], .events = POLLIN};
        if (poll(pf, (nfds_t)nconn + 1, 100) <= 0)
            continue;
        if (pf[0].revents & POLLIN)
            fds[nconn++] = accept(lfd, NULL, NULL);
        for (int i = 0; i < nconn; i++) {
            if (!(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = recv(fds[i], in[i] + len[i], sizeof in[i] - 1 - len[i], 0);
            if (r <= 0) {
                play[i] = true; /* gone: never asked again, never sent to */
                continue;
            }
            len[i] += (size_t)r;
            in[i][len[i]] = '\0';
            char *e;
            while ((e = strstr(in[i], "\r\n\r\n")) != NULL) {
                const char *cs = strstr(in[i], "CSeq:");
                int cseq = cs && cs < e ? atoi(cs + 5) : 0;
                char rep[1024];
                int k;
                if (strncmp(in[i], "DESCRIBE", 8) == 0)
                    k = snprintf(rep, sizeof rep,
                                 "RTSP/1.0 200 OK\r\nCSeq: %d\r\nContent-Type: application/sdp\r\n"
                                 "Content-Length: %zu\r\n\r\n%s",
                                 cseq, sizeof sdp - 1, sdp);
                else if (strncmp(in[i], "SETUP", 5) == 0 && strstr(in[i], "client_port=") &&
                         strstr(in[i], "client_port=") < e) {
                    int cp = atoi(strstr(in[i], "client_port=") + 12);
                    udp_dst[i] = (struct sockaddr_in){.sin_family = AF_INET,
                                                      .sin_port = htons((uint16_t)cp)};
                    inet_pton(AF_INET, "127.0.0.1", &udp_dst[i].sin_addr);
                    k = snprintf(rep, sizeof rep,
                                 "RTSP/1.0 200 OK\r\nCSeq: %d\r\nTransport: RTP/AVP;unicast;"
                                 "client_port=%d-%d;server_port=%u-%u\r\nSession: 1\r\n\r\n",
                                 cseq, cp, cp + 1, (unsigned)ntohs(ua.sin_port),
                                 (unsigned)ntohs(ua.sin_port));
                } else if (strncmp(in[i], "SETUP", 5) == 0)
                    k = snprintf(rep, sizeof rep,
                                 "RTSP/1.0 200 OK\r\nCSeq: %d\r\nTransport: RTP/AVP/TCP;unicast;"
                                 "interleaved=0-1\r\nSession: 1\r\n\r\n",
                                 cseq);
                else
                    k = snprintf(rep, sizeof rep, "RTSP/1.0 200 OK\r\nCSeq: %d\r\nSession: 1\r\n\r\n",
                                 cseq);
                if (send(fds[i], rep, (size_t)k, MSG_NOSIGNAL) != k)
                    fail("cannot answer");
                if (strncmp(in[i], "PLAY", 4) == 0) {
                    play[i] = true;
                    (*playing)++;
                }
                size_t used = (size_t)(e + 4 - in[i]);
                memmove(in[i], in[i] + used, len[i] - used + 1);
                len[i] -= used;
            }
        }
    }
    close(lfd);
    for (int i = 0; i < nconn; i++)
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
    for (int i = nconn; i < n; i++)
        fds[i] = -1;
    free(pf);
    free(in);
    free(len);
    free(play);
    return fds;
}

/* Sends the RTP packets (channel 0) of one '$'-framed frame to a UDP
 * client, one sendto() each; returns the bytes sent. */
static unsigned long long send_udp(const uint8_t *buf, size_t frame, const struct sockaddr_in *to)
{
    unsigned long long sent = 0;
    size_t off = 0;
    while (off + 4 <= frame && buf[off] == '$') {
        size_t plen = (size_t)buf[off + 2] << 8 | buf[off + 3];
        if (off + 4 + plen > frame)
            break;
        if (buf[off + 1] == 0) {
            ssize_t w = sendto(udp_fd, buf + off + 4, plen, MSG_DONTWAIT, (const void *)to,
                               sizeof *to);
            if (w > 0)
                sent += (unsigned long long)w;
        }
        off += 4 + plen;
    }
    return sent;
}

/* The drain mode's N socket pairs; returns the sending ends. */
static int *socket_pairs(int n)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t sl = sizeof sa;
    bind(lfd, (struct sockaddr *)&sa, sizeof sa);
    listen(lfd, 1024);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    ep = epoll_create1(0);
    int *wfd = calloc((size_t)n, sizeof *wfd);
    for (int i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        connect(c, (struct sockaddr *)&sa, sizeof sa);
        wfd[i] = accept(lfd, NULL, NULL);
        fcntl(wfd[i], F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
    }
    close(lfd);
    return wfd;
}

int main(int argc, char **argv)
{
    int n = 200, duration = 30, fps = 25;
    long bitrate = 4000000;
    const char *sizes_path = NULL, *frames_path = NULL;
    bool rtsp = false;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--rtsp")) {
            rtsp = true;
            continue;
        }
        if (!strcmp(argv[i], "--clients"))
            n = atoi(v);
        else if (!strcmp(argv[i], "--duration"))
            duration = atoi(v);
        else if (!strcmp(argv[i], "--bitrate"))
            bitrate = atol(v);
        else if (!strcmp(argv[i], "--fps"))
            fps = atoi(v);
        else if (!strcmp(argv[i], "--sizes"))
            sizes_path = v;
        else if (!strcmp(argv[i], "--frames"))
            frames_path = v;
        else
            fail("bad arguments");
        i++;
    }
    if (n <= 0 || duration <= 0 || fps <= 0 || (frames_path && !sizes_path))
        fail("bad arguments");

    /* The frames: offsets into one buffer, sent in turn. */
    size_t nframes_in = 1, *sizes = NULL, biggest = (size_t)(bitrate / 8 / fps);
    if (sizes_path)
        sizes = read_sizes(sizes_path, &nframes_in, &biggest);
    else
        sizes = &biggest;
    size_t *offs = calloc(nframes_in, sizeof *offs);
    uint8_t *data;
    if (frames_path) {
        size_t have = 0, need = 0;
        data = read_file(frames_path, &have);
        for (size_t k = 0; k < nframes_in; k++) {
            offs[k] = need;
            need += sizes[k];
        }
        if (have < need)
            fail("--frames holds fewer bytes than --sizes says");
    } else {
        data = calloc(1, biggest * (rtsp && sizes_path ? nframes_in : 1));
        if (!data)
            fail("out of memory");
        uint16_t seq = 0;
        for (size_t k = 0; k < nframes_in; k++) {
            offs[k] = rtsp && sizes_path ? k * biggest : 0;
            if (rtsp)
                make_frame(data + offs[k], sizes[k], &seq);
        }
    }

    int playing = n;
    int *wfd = rtsp ? serve_rtsp(n, &playing) : socket_pairs(n);
    pthread_t th;
    if (!rtsp)
        pthread_create(&th, NULL, drain, NULL);

    unsigned long long bytes = 0;
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    double t0 = now_s();
    long nframes = (long)duration * fps;
    double *round_s = calloc((size_t)nframes, sizeof *round_s);
    for (long k = 0; k < nframes; k++) {
        size_t j = (size_t)k % nframes_in;
        const uint8_t *buf = data + offs[j];
        size_t frame = sizes[j];
        double round0 = now_s();
        for (int i = 0; i < n; i++) {
            if (wfd[i] < 0)
                continue;
            if (udp_dst && udp_dst[i].sin_port) {
                bytes += send_udp(buf, frame, &udp_dst[i]);
                continue;
            }
            ssize_t w = send(wfd[i], buf, frame, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0)
                bytes += (unsigned long long)w;
        }
        round_s[k] = now_s() - round0;
        double next = t0 + (double)(k + 1) / fps, d = next - now_s();
        if (d > 0) {
            struct timespec ts = {(time_t)d, (long)((d - (long)d) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    getrusage(RUSAGE_THREAD, &r1);
    if (!rtsp) {
        atomic_store(&done, 1);
        pthread_join(th, NULL);
    }
    for (int i = 0; i < n; i++)
        if (wfd[i] >= 0)
            close(wfd[i]);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
                          r0.ru_stime.tv_sec) +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
                          r0.ru_stime.tv_usec) /
                     1e6;
    qsort(round_s, (size_t)nframes, sizeof *round_s, cmp_double);
    printf("rawwriter clients=%d playing=%d seconds=%d bytes=%llu cpu_s=%.6f round_p50_us=%.0f "
           "round_p99_us=%.0f round_max_us=%.0f\n",
           n, playing, duration, bytes, cpu, round_s[nframes / 2] * 1e6,
           round_s[(size_t)((double)nframes * 0.99)] * 1e6, round_s[nframes - 1] * 1e6);
    free(round_s);
    free(data);
    free(offs);
    if (sizes != &biggest)
        free(sizes);
    free(wfd);
    free(udp_dst);
    if (udp_fd >= 0)
        close(udp_fd);
    return 0;
}
