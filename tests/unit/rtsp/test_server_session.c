/* Session expiry: the pure deadline function, then a server on a loop with a
 * fake clock - a UDP session survives keepalives and expires 60 + 15 s after
 * the last one, a TCP session lives as long as its connection, and a
 * graceful stop closes every client within its deadline. */
#include <stdio.h>
#include <stdlib.h>

#include "core/time.h"
#include "rtsp/session.h"
#include "test_server_harness.h"

static char rep[70000];
static char v[256];

#define URL(path) "rtsp://127.0.0.1/" path

static void test_pure_deadline(void)
{
    nl__rtsp_session s;
    memset(&s, 0, sizeof s);
    s.lower = NL_RTSP_LOWER_UDP;
    s.timeout_s = 60;
    s.grace_s = 15;
    s.last_seen = 5 * NL_NS_PER_S;
    NL_ASSERT_UEQ(nl__rtsp_session_deadline(&s), 80 * NL_NS_PER_S);
    NL_ASSERT(!nl__rtsp_session_expired(&s, 80 * NL_NS_PER_S - 1));
    NL_ASSERT(nl__rtsp_session_expired(&s, 80 * NL_NS_PER_S));
    nl__rtsp_session_touch(&s, 70 * NL_NS_PER_S);
    NL_ASSERT(!nl__rtsp_session_expired(&s, 80 * NL_NS_PER_S));
    NL_ASSERT(nl__rtsp_session_expired(&s, 145 * NL_NS_PER_S));
    nl__rtsp_session_touch(&s, 10 * NL_NS_PER_S); /* time never goes back */
    NL_ASSERT_UEQ(s.last_seen, 70 * NL_NS_PER_S);
    /* saturates instead of wrapping */
    s.last_seen = UINT64_MAX - 10;
    NL_ASSERT_UEQ(nl__rtsp_session_deadline(&s), NL_TIME_NEVER);
    /* TCP sessions end with their connection, never by this clock */
    s.lower = NL_RTSP_LOWER_TCP;
    s.last_seen = 0;
    NL_ASSERT_UEQ(nl__rtsp_session_deadline(&s), NL_TIME_NEVER);
    NL_ASSERT(!nl__rtsp_session_expired(&s, UINT64_MAX - 1));
}

/* Steps the fake clock in 250 ms ticks (the housekeeping period), running the loop. */
static void advance(harness *h, nl_fake_clock *fc, uint64_t ns)
{
    for (uint64_t t = 0; t < ns; t += 250 * NL_NS_PER_MS) {
        fc->now_ns += 250 * NL_NS_PER_MS;
        nl_loop_run_once(h->loop, 0);
    }
    nl_loop_run_once(h->loop, 0);
}

static void test_expiry_fake_clock(void)
{
    harness h;
    h_init(&h, NULL);
    /* Ahead of the real clock the server armed its timers with. */
    nl_fake_clock fc = {.now_ns = nl_time_mono_ns() + 1000 * NL_NS_PER_S};
    nl_loop_set_clock(h.loop, nl_fake_clock_read, &fc);
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, NULL);
    h_push(&h, cam);
    int fd = h_connect(&h);
    h_rx rx = {0};
    NL_ASSERT_EQ(
        h_req(&h, fd, &rx,
              "SETUP " URL(
                  "cam/streamid=0") " RTSP/1.0\r\nCSeq: 1\r\n"
                                    "Transport: RTP/AVP;unicast;client_port=40000-40001\r\n\r\n",
              rep, sizeof rep, NULL),
        200);
    char udp[64];
    snprintf(udp, sizeof udp, "server_port=%u-%u", (unsigned)nl_rtsp_server_udp_port(h.srv),
             (unsigned)nl_rtsp_server_udp_port(h.srv) + 1);
    NL_ASSERT(strstr(h_header(rep, "Transport", v, sizeof v), udp) != NULL);
    NL_ASSERT(strstr(v, "client_port=40000-40001") != NULL);
    char sess[32];
    h_header(rep, "Session", sess, sizeof sess);
    sess[16] = '\0';
    char ka[256];
    snprintf(ka, sizeof ka,
             "GET_PARAMETER " URL("cam") " RTSP/1.0\r\nCSeq: 2\r\nSession: %s\r\n\r\n", sess);
    /* keepalives every 50 s keep it for minutes */
    for (int i = 0; i < 4; i++) {
        advance(&h, &fc, 50 * NL_NS_PER_S);
        NL_ASSERT_EQ(h_req(&h, fd, &rx, ka, rep, sizeof rep, NULL), 200);
    }
    nl_rtsp_server_stats st;
    nl_rtsp_server_get_stats(h.srv, &st);
    NL_ASSERT_EQ(st.sessions, 1);
    NL_ASSERT_EQ(st.expired, 0);
    /* silent for 74 s: still there; past 75 s: gone (and the idle
     * connection with it) */
    advance(&h, &fc, 74 * NL_NS_PER_S);
    nl_rtsp_server_get_stats(h.srv, &st);
    NL_ASSERT_EQ(st.sessions, 1);
    advance(&h, &fc, 2 * NL_NS_PER_S);
    nl_rtsp_server_get_stats(h.srv, &st);
    NL_ASSERT_EQ(st.sessions, 0);
    NL_ASSERT_EQ(st.expired, 1);
    NL_ASSERT_EQ(st.connections, 0);
    close(fd);
    /* asked from a new connection: 454 */
    fd = h_connect(&h);
    memset(&rx, 0, sizeof rx);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, ka, rep, sizeof rep, NULL), 454);

    /* a TCP session that plays never expires; it ends with its connection */
    NL_ASSERT_EQ(
        h_req(
            &h, fd, &rx,
            "SETUP " URL("cam/streamid=0") " RTSP/1.0\r\nCSeq: 3\r\n"
                                           "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
            rep, sizeof rep, NULL),
        200);
    h_header(rep, "Session", sess, sizeof sess);
    sess[16] = '\0';
    char play[256];
    snprintf(play, sizeof play, "PLAY " URL("cam/") " RTSP/1.0\r\nCSeq: 4\r\nSession: %s\r\n\r\n",
             sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, play, rep, sizeof rep, cam), 200);
    for (int i = 0; i < 12; i++) { /* 3 minutes of silence, media flowing */
        advance(&h, &fc, 15 * NL_NS_PER_S);
        h_push(&h, cam);
        h_pump(&h, fd, &rx, NULL);
        rx.len = 0;
    }
    nl_rtsp_server_get_stats(h.srv, &st);
    NL_ASSERT_EQ(st.sessions, 1);
    close(fd);
    for (int i = 0; i < 20; i++)
        nl_loop_run_once(h.loop, 5);
    nl_rtsp_server_get_stats(h.srv, &st);
    NL_ASSERT_EQ(st.sessions, 0);
    NL_ASSERT_EQ(st.connections, 0);
    h_free(&h);
}

static int stopped;
static void on_stopped(void *ud)
{
    stopped++;
}

static void test_graceful_stop(void)
{
    harness h;
    h_init(&h, NULL);
    nl_fake_clock fc = {.now_ns = nl_time_mono_ns() + 5 * NL_NS_PER_S};
    nl_loop_set_clock(h.loop, nl_fake_clock_read, &fc);
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, NULL);
    h_push(&h, cam);
    /* one client that reads, one that does not */
    int fds[2];
    h_rx rx[2];
    memset(rx, 0, sizeof rx);
    for (int i = 0; i < 2; i++) {
        fds[i] = h_connect(&h);
        int rb = 4096;
        if (i == 1)
            setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &rb, sizeof rb);
        NL_ASSERT_EQ(
            h_req(&h, fds[i], &rx[i],
                  "SETUP " URL(
                      "cam/streamid=0") " RTSP/1.0\r\nCSeq: 1\r\n"
                                        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
                  rep, sizeof rep, NULL),
            200);
        char sess[32], play[256];
        h_header(rep, "Session", sess, sizeof sess);
        sess[16] = '\0';
        snprintf(play, sizeof play,
                 "PLAY " URL("cam/") " RTSP/1.0\r\nCSeq: 2\r\nSession: %s\r\n\r\n", sess);
        NL_ASSERT_EQ(h_req(&h, fds[i], &rx[i], play, rep, sizeof rep, cam), 200);
    }
    /* big frames until the silent client's socket is full */
    for (int i = 0; i < 200; i++) {
        h_make_au(&h, false, false, 60000);
        h.pts += 40000;
        NL_ASSERT_OK(nl_rtsp_mount_push(cam, 0, h.pkt));
        nl_loop_run_once(h.loop, 0);
        h_pump(&h, fds[0], &rx[0], NULL);
        rx[0].len = 0;
    }
    NL_ASSERT_OK(nl_rtsp_server_stop(h.srv, 2000, on_stopped, NULL));
    NL_ASSERT_EQ(nl_rtsp_server_stop(h.srv, 2000, on_stopped, NULL), NL_ESTATE);
    /* the reading client finishes its frame and is closed */
    for (int i = 0; i < 1000 && !rx[0].eof; i++) {
        h_pump(&h, fds[0], &rx[0], NULL);
        rx[0].len = 0;
    }
    NL_ASSERT(rx[0].eof);
    nl_rtsp_server_stats st;
    nl_rtsp_server_get_stats(h.srv, &st);
    NL_ASSERT_EQ(st.connections, 1);
    NL_ASSERT_EQ(stopped, 0);
    /* the silent one is failed at the deadline through the ordinary path */
    advance(&h, &fc, 2 * NL_NS_PER_S);
    nl_rtsp_server_get_stats(h.srv, &st);
    NL_ASSERT_EQ(st.connections, 0);
    NL_ASSERT_EQ(stopped, 1);
    for (int i = 0; i < 2; i++)
        close(fds[i]);
    h_free(&h);
}

/* SETUPs the video track of "cam" over TCP and writes the PLAY request
 * for the new session into play. */
static void setup_video(harness *h, int fd, h_rx *rx, char *play, size_t cap)
{
    NL_ASSERT_EQ(
        h_req(
            h, fd, rx,
            "SETUP " URL("cam/streamid=0") " RTSP/1.0\r\nCSeq: 1\r\n"
                                           "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
            rep, sizeof rep, NULL),
        200);
    char sess[32];
    h_header(rep, "Session", sess, sizeof sess);
    sess[16] = '\0';
    snprintf(play, cap, "PLAY " URL("cam/") " RTSP/1.0\r\nCSeq: 2\r\nSession: %s\r\n\r\n", sess);
}

/* A harness on a fake clock with mount "cam" (GOP cache on) that has cached
 * a key frame at t and P frames at t+40 ms and t+80 ms, arriving in real
 * time; the clock is then at t+120 ms. */
static nl_rtsp_mount *gop_mount(harness *h, nl_fake_clock *fc)
{
    h_init(h, NULL);
    fc->now_ns = nl_time_mono_ns() + 10 * NL_NS_PER_S;
    nl_loop_set_clock(h->loop, nl_fake_clock_read, fc);
    nl_loop_run_once(h->loop, 0);
    nl_rtsp_mount_config mc = {.gop_cache = true};
    nl_rtsp_mount *cam = h_mount(h, "cam", false, &mc);
    h->key_every = 100;
    for (int i = 0; i < 3; i++) {
        h_push(h, cam);
        fc->now_ns += 40 * NL_NS_PER_MS;
        nl_loop_run_once(h->loop, 0);
    }
    return cam;
}

/* The GOP cache: a new client starts at once at the last keyframe, and the
 * cached frames are replayed at their original pace. */
static void test_gop_cache(void)
{
    harness h;
    nl_fake_clock fc;
    gop_mount(&h, &fc);
    int fd = h_connect(&h);
    h_rx rx = {0};
    char play[256];
    setup_video(&h, fd, &rx, play, sizeof play);
    /* answered without any new frame: the cache holds a keyframe */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, play, rep, sizeof rep, NULL), 200);
    unsigned seq = 0, rtptime = 0;
    const char *p = strstr(h_header(rep, "RTP-Info", v, sizeof v), ";seq=");
    NL_ASSERT(p && sscanf(p, ";seq=%u;rtptime=%u", &seq, &rtptime) == 2);
    /* only the keyframe is due now */
    for (int i = 0; i < 20; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT(rx.len > 16 && rx.buf[0] == '$');
    /* the very first frame of a muxer starts with an RTCP SR (channel 1) */
    if (rx.buf[1] == 1) {
        size_t n = 4 + ((size_t)(uint8_t)rx.buf[2] << 8 | (uint8_t)rx.buf[3]);
        NL_ASSERT_EQ((uint8_t)rx.buf[5], 200);
        h_drop(&rx, n);
    }
    NL_ASSERT_EQ(rx.buf[1], 0);
    const uint8_t *rtp = (const uint8_t *)rx.buf + 4;
    NL_ASSERT_EQ((unsigned)(rtp[2] << 8 | rtp[3]), seq);
    NL_ASSERT_UEQ((uint32_t)rtp[4] << 24 | (uint32_t)rtp[5] << 16 | (uint32_t)rtp[6] << 8 | rtp[7],
                  rtptime);
    /* count the frames (marker bits) received so far: 1 (the keyframe) */
    int frames = 0;
    size_t off = 0;
    uint32_t last_ts = 0;
    unsigned last_seq = 0;
    while (off + 4 <= rx.len) {
        size_t n = (size_t)(uint8_t)rx.buf[off + 2] << 8 | (uint8_t)rx.buf[off + 3];
        const uint8_t *r = (const uint8_t *)rx.buf + off + 4;
        if (rx.buf[off + 1] == 0)
            last_seq = (unsigned)(r[2] << 8 | r[3]);
        if (rx.buf[off + 1] == 0 && (r[1] & 0x80)) {
            frames++;
            last_ts = (uint32_t)r[4] << 24 | (uint32_t)r[5] << 16 | (uint32_t)r[6] << 8 | r[7];
        }
        off += 4 + n;
    }
    NL_ASSERT_EQ(frames, 1);
    NL_ASSERT_UEQ(last_ts, rtptime);
    rx.len = 0;
    /* 40 ms later the first P frame is due, 3600 ticks (90 kHz) after it */
    fc.now_ns += 40 * NL_NS_PER_MS;
    for (int i = 0; i < 20; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT(rx.len > 16 && rx.buf[0] == '$');
    rtp = (const uint8_t *)rx.buf + 4;
    NL_ASSERT_EQ((unsigned)(rtp[2] << 8 | rtp[3]), (last_seq + 1) & 0xffff);
    NL_ASSERT_UEQ((uint32_t)rtp[4] << 24 | (uint32_t)rtp[5] << 16 | (uint32_t)rtp[6] << 8 | rtp[7],
                  rtptime + 3600);
    NL_ASSERT_EQ(rx.len, 4 + 12 + 1 + 400); /* only the P frame: one single-NAL packet */
    close(fd);
    h_free(&h);
}

/* A GOP cache the source stopped feeding is not replayed: the client would
 * stay that far behind live. PLAY waits for a fresh keyframe instead. */
static void test_gop_cache_stale(void)
{
    harness h;
    nl_fake_clock fc;
    nl_rtsp_mount *cam = gop_mount(&h, &fc);
    fc.now_ns += NL_GOP_STALE_NS + NL_NS_PER_S; /* the source went quiet */
    nl_loop_run_once(h.loop, 0);
    int fd = h_connect(&h);
    h_rx rx = {0};
    char play[256];
    setup_video(&h, fd, &rx, play, sizeof play);
    NL_ASSERT(write(fd, play, strlen(play)) == (ssize_t)strlen(play));
    for (int i = 0; i < 20; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT_EQ(rx.len, 0); /* not answered from the stale cache */
    h.key_every = 1;         /* the next frame is a keyframe */
    h_push(&h, cam);
    for (int i = 0; i < 20; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT(rx.len > 12 && !memcmp(rx.buf, "RTSP/1.0 200", 12));
    close(fd);
    h_free(&h);
}

int main(void)
{
    NL_RUN(test_pure_deadline);
    NL_RUN(test_expiry_fake_clock);
    NL_RUN(test_graceful_stop);
    NL_RUN(test_gop_cache);
    NL_RUN(test_gop_cache_stale);
    NL_DONE();
}
