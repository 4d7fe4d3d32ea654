/* The RTSP server over a raw socket, in process: every method, every error
 * code, pipelined and byte-at-a-time requests, oversized requests, garbage,
 * client '$' frames, limits (503), authentication (401/403), RTP-Info that
 * matches the first packet the client gets, demand callbacks, and mount
 * removal closing its clients. */
#include <stdio.h>
#include <stdlib.h>

#include "rtsp/auth.h"
#include "test_server_harness.h"

static char rep[70000];
static char v[1024];

#define URL(path) "rtsp://127.0.0.1/" path

static void test_methods_and_errors(void)
{
    harness h;
    h_init(&h, NULL);
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, NULL);
    nl_rtsp_mount *av = h_mount(&h, "/live/av/", true, NULL);
    NL_ASSERT_STREQ(nl_rtsp_mount_path(av), "/live/av");
    NL_ASSERT(!nl_rtsp_mount_ready(cam)); /* no SPS/PPS yet */
    h_push(&h, cam);                      /* learns them in band */
    NL_ASSERT(nl_rtsp_mount_ready(cam));
    int fd = h_connect(&h);
    h_rx rx = {0};

    NL_ASSERT_EQ(h_req(&h, fd, &rx, "OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n", rep, sizeof rep, NULL),
                 200);
    NL_ASSERT_STREQ(h_header(rep, "CSeq", v, sizeof v), "7");
    NL_ASSERT(strstr(h_header(rep, "Public", v, sizeof v), "GET_PARAMETER") != NULL);
    /* no CSeq: 400 */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "OPTIONS * RTSP/1.0\r\n\r\n", rep, sizeof rep, NULL), 400);
    /* unknown mount: 404 */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "DESCRIBE " URL("nope") " RTSP/1.0\r\nCSeq: 2\r\n\r\n", rep,
                       sizeof rep, NULL),
                 404);
    /* DESCRIBE: SDP with the learnt parameter sets, Content-Base with '/' */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "DESCRIBE rtsp://127.0.0.1:554/cam RTSP/1.0\r\nCSeq: 3\r\n\r\n",
                       rep, sizeof rep, NULL),
                 200);
    NL_ASSERT_STREQ(h_header(rep, "Content-Base", v, sizeof v), "rtsp://127.0.0.1:554/cam/");
    NL_ASSERT_STREQ(h_header(rep, "Content-Type", v, sizeof v), "application/sdp");
    NL_ASSERT(strstr(rep, "m=video 0 RTP/AVP 96") != NULL);
    NL_ASSERT(strstr(rep, "sprop-parameter-sets=Z0LADdoFB+hAAAADAEAAAAyjxQqo,aM48gA==") != NULL);
    NL_ASSERT(strstr(rep, "a=control:streamid=0") != NULL);
    /* two tracks: PCMU gets static payload type 0 */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "DESCRIBE " URL("live/av") " RTSP/1.0\r\nCSeq: 4\r\n\r\n", rep,
                       sizeof rep, NULL),
                 200);
    NL_ASSERT(strstr(rep, "m=audio 0 RTP/AVP 0") != NULL);
    /* aggregate SETUP on a two-track mount: 459 */
    NL_ASSERT_EQ(
        h_req(&h, fd, &rx,
              "SETUP " URL("live/av") " RTSP/1.0\r\nCSeq: 5\r\n"
                                      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
              rep, sizeof rep, NULL),
        459);
    /* track out of range: 404 */
    NL_ASSERT_EQ(
        h_req(
            &h, fd, &rx,
            "SETUP " URL("cam/streamid=3") " RTSP/1.0\r\nCSeq: 6\r\n"
                                           "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
            rep, sizeof rep, NULL),
        404);
    /* multicast only: 461; no Transport: 400 */
    NL_ASSERT_EQ(h_req(&h, fd, &rx,
                       "SETUP " URL("cam/streamid=0") " RTSP/1.0\r\nCSeq: 7\r\n"
                                                      "Transport: RTP/AVP;multicast\r\n\r\n",
                       rep, sizeof rep, NULL),
                 461);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "SETUP " URL("cam/streamid=0") " RTSP/1.0\r\nCSeq: 8\r\n\r\n",
                       rep, sizeof rep, NULL),
                 400);
    /* unknown session: 454 for SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER */
    const char *methods[] = {"SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER"};
    for (int i = 0; i < 5; i++) {
        char req[512];
        snprintf(req, sizeof req,
                 "%s " URL("cam/streamid=0") " RTSP/1.0\r\nCSeq: 9\r\n"
                                             "Session: 0123456789ABCDEF\r\nTransport: "
                                             "RTP/AVP/TCP;unicast\r\n\r\n",
                 methods[i]);
        NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, NULL), 454);
    }
    /* PLAY without a session: 454 */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "PLAY " URL("cam") " RTSP/1.0\r\nCSeq: 10\r\n\r\n", rep,
                       sizeof rep, NULL),
                 454);
    /* recording methods: 405 with Allow; unknown method: 501; RTSP/2.0: 505 */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "ANNOUNCE " URL("cam") " RTSP/1.0\r\nCSeq: 11\r\n\r\n", rep,
                       sizeof rep, NULL),
                 405);
    NL_ASSERT(strstr(h_header(rep, "Allow", v, sizeof v), "DESCRIBE") != NULL);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "FLY " URL("cam") " RTSP/1.0\r\nCSeq: 12\r\n\r\n", rep,
                       sizeof rep, NULL),
                 501);
    NL_ASSERT_EQ(
        h_req(&h, fd, &rx, "OPTIONS * RTSP/2.0\r\nCSeq: 13\r\n\r\n", rep, sizeof rep, NULL), 505);
    /* keepalive without a session; SET_PARAMETER with a body we do not know: 451 */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "GET_PARAMETER " URL("cam") " RTSP/1.0\r\nCSeq: 14\r\n\r\n",
                       rep, sizeof rep, NULL),
                 200);
    NL_ASSERT_EQ(h_req(&h, fd, &rx,
                       "SET_PARAMETER " URL("cam") " RTSP/1.0\r\nCSeq: 15\r\n"
                                                   "Content-Length: 9\r\n\r\nfoo: bar\n",
                       rep, sizeof rep, NULL),
                 451);

    /* SETUP TCP on the two-track mount, track 0 */
    NL_ASSERT_EQ(
        h_req(&h, fd, &rx,
              "SETUP " URL(
                  "live/av/streamid=0") " RTSP/1.0\r\nCSeq: 20\r\n"
                                        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
              rep, sizeof rep, NULL),
        200);
    NL_ASSERT_STREQ(h_header(rep, "Transport", v, sizeof v), "RTP/AVP/TCP;unicast;interleaved=0-1");
    char sess[64];
    h_header(rep, "Session", sess, sizeof sess);
    NL_ASSERT_EQ(strlen(sess), 16 + strlen(";timeout=60"));
    NL_ASSERT(strstr(sess, ";timeout=60") != NULL);
    sess[16] = '\0';
    /* a UDP track on a TCP session: 461 */
    char req[1024];
    snprintf(req, sizeof req,
             "SETUP " URL("live/av/streamid=1") " RTSP/1.0\r\nCSeq: 21\r\n"
                                                "Session: %s\r\nTransport: "
                                                "RTP/AVP;unicast;client_port=5000-5001\r\n\r\n",
             sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, NULL), 461);
    /* the session on another mount: 459 */
    snprintf(req, sizeof req,
             "SETUP " URL("cam/streamid=0") " RTSP/1.0\r\nCSeq: 22\r\n"
                                            "Session: %s\r\nTransport: RTP/AVP/TCP;unicast\r\n\r\n",
             sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, NULL), 459);
    /* invalid Range: 457 (after the session check: 454 first) */
    NL_ASSERT_EQ(
        h_req(&h, fd, &rx,
              "PLAY " URL("live/av/") " RTSP/1.0\r\nCSeq: 23\r\n"
                                      "Session: 0123456789ABCDEF\r\nRange: npt=zz-\r\n\r\n",
              rep, sizeof rep, NULL),
        454);
    snprintf(req, sizeof req,
             "PLAY " URL("live/av/") " RTSP/1.0\r\nCSeq: 24\r\nSession: %s\r\n"
                                     "Range: npt=zz-\r\n\r\n",
             sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, NULL), 457);
    /* PLAY: answered at the first keyframe, RTP-Info names it */
    snprintf(req, sizeof req,
             "PLAY " URL("live/av/") " RTSP/1.0\r\nCSeq: 25\r\nSession: %s\r\n"
                                     "Range: npt=0.000-\r\n\r\n",
             sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, av), 200);
    NL_ASSERT_STREQ(h_header(rep, "Range", v, sizeof v), "npt=0.000-");
    h_header(rep, "RTP-Info", v, sizeof v);
    unsigned seq = 0, rtptime = 0;
    const char *p = strstr(v, "url=rtsp://127.0.0.1/live/av/streamid=0;seq=");
    NL_ASSERT(p != NULL);
    NL_ASSERT_EQ(
        sscanf(p, "url=rtsp://127.0.0.1/live/av/streamid=0;seq=%u;rtptime=%u", &seq, &rtptime), 2);
    /* the first '$' frame after the answer: channel 0, that seq and rtptime,
     * and an RTP payload starting the access unit with its SPS (STAP-A 24) */
    for (int i = 0; i < 200 && rx.len < 16; i++)
        h_pump(&h, fd, &rx, av);
    NL_ASSERT_EQ(rx.buf[0], '$');
    NL_ASSERT_EQ(rx.buf[1], 0);
    const uint8_t *rtp = (const uint8_t *)rx.buf + 4;
    NL_ASSERT_EQ(rtp[1] & 0x7f, 96);
    NL_ASSERT_EQ((unsigned)(rtp[2] << 8 | rtp[3]), seq);
    NL_ASSERT_UEQ((uint32_t)rtp[4] << 24 | (uint32_t)rtp[5] << 16 | (uint32_t)rtp[6] << 8 | rtp[7],
                  rtptime);
    NL_ASSERT_EQ(rtp[12] & 0x1f, 24);
    NL_ASSERT_EQ(rtp[15] & 0x1f, 7);
    /* adding a track while playing: 455 */
    snprintf(req, sizeof req,
             "SETUP " URL("live/av/streamid=1") " RTSP/1.0\r\nCSeq: 26\r\n"
                                                "Session: %s\r\nTransport: "
                                                "RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n",
             sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, av), 455);
    /* a client RTCP receiver report ('$' on channel 1) mixed with requests */
    static const char rr[] = "$\x01\x00\x08\x81\xc9\x00\x01\x00\x00\x00\x01";
    h_send(fd, rr, 12);
    snprintf(req, sizeof req,
             "GET_PARAMETER " URL("live/av/") " RTSP/1.0\r\nCSeq: 27\r\nSession: %s\r\n\r\n", sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, av), 200);
    NL_ASSERT_STREQ(h_header(rep, "CSeq", v, sizeof v), "27");
    nl_rtsp_server_stats ss;
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.sessions, 1);
    NL_ASSERT_EQ(ss.playing, 1);
    NL_ASSERT_EQ(ss.connections, 1);
    NL_ASSERT_EQ(ss.mounts, 2);
    /* PAUSE, then TEARDOWN; the session is gone afterwards */
    snprintf(req, sizeof req,
             "PAUSE " URL("live/av/") " RTSP/1.0\r\nCSeq: 28\r\nSession: %s\r\n\r\n", sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, av), 200);
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.playing, 0);
    snprintf(req, sizeof req,
             "TEARDOWN " URL("live/av/") " RTSP/1.0\r\nCSeq: 29\r\nSession: %s\r\n\r\n", sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, av), 200);
    snprintf(req, sizeof req,
             "GET_PARAMETER " URL("live/av/") " RTSP/1.0\r\nCSeq: 30\r\nSession: %s\r\n\r\n", sess);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, av), 454);
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.sessions, 0);
    close(fd);
    h_free(&h);
}

static void test_framing(void)
{
    harness h;
    h_init(&h, NULL);
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, NULL);
    h_push(&h, cam);
    int fd = h_connect(&h);
    h_rx rx = {0};
    /* pipelined: three requests in one write, three answers in order */
    const char *pipe = "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n"
                       "OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n"
                       "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 3\r\n\r\n";
    h_send(fd, pipe, strlen(pipe));
    for (int k = 1; k <= 3; k++) {
        NL_ASSERT(h_reply(&h, fd, &rx, rep, sizeof rep, NULL) > 0);
        NL_ASSERT_EQ(atoi(h_header(rep, "CSeq", v, sizeof v)), k);
        NL_ASSERT_EQ(atoi(rep + 9), 200);
    }
    /* split: one byte per loop iteration */
    const char *d =
        "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 4\r\nUser-Agent: a\r\nUser-Agent: b\r\n\r\n";
    for (size_t i = 0; d[i]; i++) {
        h_send(fd, d + i, 1);
        nl_loop_run_once(h.loop, 0);
        NL_ASSERT_EQ(recv(fd, rep, 1, MSG_DONTWAIT | MSG_PEEK), -1); /* nothing before the end */
    }
    NL_ASSERT(h_reply(&h, fd, &rx, rep, sizeof rep, NULL) > 0);
    NL_ASSERT_EQ(atoi(rep + 9), 200);
    NL_ASSERT_STREQ(h_header(rep, "CSeq", v, sizeof v), "4");
    /* a body over the cap: 413 */
    NL_ASSERT_EQ(h_req(&h, fd, &rx,
                       "SET_PARAMETER * RTSP/1.0\r\nCSeq: 5\r\nContent-Length: 100000\r\n\r\n", rep,
                       sizeof rep, NULL),
                 413);
    close(fd);

    /* a head over the cap (8 KiB): 400, then the connection is closed */
    fd = h_connect(&h);
    memset(&rx, 0, sizeof rx);
    char big[12000];
    int n = snprintf(big, sizeof big, "OPTIONS * RTSP/1.0\r\nCSeq: 6\r\nX-Pad: ");
    memset(big + n, 'a', sizeof big - (size_t)n - 5);
    memcpy(big + sizeof big - 5, "\r\n\r\n", 5);
    h_send(fd, big, sizeof big - 1);
    int r = h_reply(&h, fd, &rx, rep, sizeof rep, NULL);
    NL_ASSERT(r > 0);
    NL_ASSERT_EQ(atoi(rep + 9), 400);
    for (int i = 0; i < 100 && !rx.eof; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT(rx.eof);
    close(fd);

    /* garbage: a 400 and a close, and the server keeps serving others */
    fd = h_connect(&h);
    memset(&rx, 0, sizeof rx);
    uint8_t junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    junk[0] = 0x01;
    h_send(fd, junk, sizeof junk);
    r = h_reply(&h, fd, &rx, rep, sizeof rep, NULL);
    NL_ASSERT(r > 0);
    NL_ASSERT_EQ(atoi(rep + 9), 400);
    for (int i = 0; i < 100 && !rx.eof; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT(rx.eof);
    close(fd);
    fd = h_connect(&h);
    memset(&rx, 0, sizeof rx);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", rep, sizeof rep, NULL),
                 200);
    close(fd);
    h_free(&h);
}

static int demand_log[16], ndemand;

static void on_demand(void *ud, nl_rtsp_mount *m, nl_rtsp_demand what)
{
    if (ndemand < 16)
        demand_log[ndemand++] = (int)what;
}

static void test_limits_and_demand(void)
{
    nl_rtsp_server_config cfg;
    nl_rtsp_server_config_init(&cfg);
    cfg.max_clients_per_mount = 2;
    harness h;
    h_init(&h, &cfg);
    nl_rtsp_mount_config mc = {.on_demand = on_demand, .not_ready = NL_RTSP_NOT_READY_REFUSE};
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, &mc);
    int fd = h_connect(&h);
    h_rx rx = {0};
    /* not ready (no SPS/PPS yet) under the REFUSE policy: 503 at once, and
     * the source is asked to start */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 1\r\n\r\n", rep,
                       sizeof rep, NULL),
                 503);
    NL_ASSERT(strstr(rep, "503 Stream not ready") != NULL);
    nl_loop_run_once(h.loop, 0);
    NL_ASSERT_EQ(ndemand, 1);
    NL_ASSERT_EQ(demand_log[0], NL_RTSP_DEMAND_DESCRIBE);
    h_push(&h, cam);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 2\r\n\r\n", rep,
                       sizeof rep, NULL),
                 200);
    /* two sessions allowed on the mount, the third gets 503 with a reason */
    char sess[2][32];
    for (int i = 0; i < 3; i++) {
        int st = h_req(
            &h, fd, &rx,
            "SETUP " URL("cam/streamid=0") " RTSP/1.0\r\nCSeq: 3\r\n"
                                           "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
            rep, sizeof rep, NULL);
        if (i < 2) {
            NL_ASSERT_EQ(st, 200);
            h_header(rep, "Session", sess[i], sizeof sess[i]);
            sess[i][16] = '\0';
        } else {
            NL_ASSERT_EQ(st, 503);
            NL_ASSERT(strstr(rep, "RTSP/1.0 503 Too many clients on this mount\r\n") == rep);
        }
    }
    nl_rtsp_mount_stats ms;
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT_EQ(ms.clients, 2);
    NL_ASSERT_EQ(ms.playing, 0);
    /* first PLAY: DEMAND_PLAY; the last to leave: DEMAND_IDLE */
    char req[512];
    for (int i = 0; i < 2; i++) {
        snprintf(req, sizeof req,
                 "PLAY " URL("cam/") " RTSP/1.0\r\nCSeq: %d\r\nSession: %s\r\n\r\n", 10 + i,
                 sess[i]);
        NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, cam), 200);
    }
    nl_loop_run_once(h.loop, 0);
    NL_ASSERT_EQ(ndemand, 2);
    NL_ASSERT_EQ(demand_log[1], NL_RTSP_DEMAND_PLAY);
    snprintf(req, sizeof req,
             "TEARDOWN " URL("cam/") " RTSP/1.0\r\nCSeq: 20\r\nSession: %s\r\n\r\n", sess[0]);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, cam), 200);
    nl_loop_run_once(h.loop, 0);
    NL_ASSERT_EQ(ndemand, 2); /* one viewer left */
    nl_rtsp_mount_get_stats(cam, &ms);
    NL_ASSERT_EQ(ms.clients, 1);
    NL_ASSERT(ms.frames_sent > 0);
    /* removing the mount closes its clients' connection */
    nl_rtsp_mount_remove(&cam);
    NL_ASSERT(cam == NULL);
    for (int i = 0; i < 100 && !rx.eof; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT(rx.eof);
    NL_ASSERT_EQ(ndemand, 2); /* a removed mount calls nothing */
    nl_rtsp_server_stats ss;
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.sessions, 0);
    NL_ASSERT_EQ(ss.connections, 0);
    NL_ASSERT_EQ(ss.refused, 1);
    close(fd);
    h_free(&h);
}

/* Basic credentials header for user:pass. */
static void basic(const char *up, char *out, size_t cap)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(up), o = 0;
    o += (size_t)snprintf(out, cap, "Authorization: Basic ");
    for (size_t i = 0; i < n; i += 3) {
        uint32_t x = (uint32_t)(uint8_t)up[i] << 16 |
                     (i + 1 < n ? (uint32_t)(uint8_t)up[i + 1] << 8 : 0) |
                     (i + 2 < n ? (uint8_t)up[i + 2] : 0);
        out[o++] = b64[x >> 18 & 63];
        out[o++] = b64[x >> 12 & 63];
        out[o++] = i + 1 < n ? b64[x >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[x & 63] : '=';
    }
    snprintf(out + o, cap - o, "\r\n");
}

static void test_auth(void)
{
    nl_rtsp_user users[] = {{"alice", "wonder"}, {"bob", "builder"}};
    nl_rtsp_server_config cfg;
    nl_rtsp_server_config_init(&cfg);
    cfg.users = users;
    cfg.n_users = 2;
    harness h;
    h_init(&h, &cfg);
    const char *only_alice[] = {"alice", NULL};
    nl_rtsp_mount_config mc = {.users = only_alice};
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, &mc);
    h_push(&h, cam);
    int fd = h_connect(&h);
    h_rx rx = {0};
    /* OPTIONS needs no credentials */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", rep, sizeof rep, NULL),
                 200);
    /* none: 401 with a Digest challenge first, then Basic */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 2\r\n\r\n", rep,
                       sizeof rep, NULL),
                 401);
    const char *dg = strstr(rep, "WWW-Authenticate: Digest realm=\"neolink\", nonce=\"");
    const char *bs = strstr(rep, "WWW-Authenticate: Basic realm=\"neolink\"");
    NL_ASSERT(dg != NULL && bs != NULL && dg < bs);
    char auth[256], req[1024];
    basic("alice:wonder", auth, sizeof auth);
    snprintf(req, sizeof req, "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 3\r\n%s\r\n", auth);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, NULL), 200);
    basic("alice:wrong", auth, sizeof auth);
    snprintf(req, sizeof req, "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 4\r\n%s\r\n", auth);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, NULL), 401);
    basic("bob:builder", auth, sizeof auth);
    snprintf(req, sizeof req, "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 5\r\n%s\r\n", auth);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, NULL), 403);
    /* Digest with a nonce from the challenge, computed as a client would */
    NL_ASSERT_EQ(h_req(&h, fd, &rx, "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 6\r\n\r\n", rep,
                       sizeof rep, NULL),
                 401);
    char nonce[128] = "";
    const char *np = strstr(rep, "nonce=\"");
    NL_ASSERT(np != NULL);
    np += 7;
    size_t nl = strcspn(np, "\"");
    memcpy(nonce, np, nl);
    nonce[nl] = '\0';
    char hdr[768];
    snprintf(hdr, sizeof hdr,
             "Digest username=\"alice\", realm=\"neolink\", nonce=\"%s\", "
             "uri=\"" URL("cam") "\", response=\"00000000000000000000000000000000\"",
             nonce);
    nl_rtsp_authz z;
    NL_ASSERT_OK(nl_rtsp_authz_parse(nl_rtsp_span_make(hdr, strlen(hdr)), &z));
    char resp[33];
    NL_ASSERT_OK(nl_rtsp_digest_response(&z, nl_rtsp_span_make("DESCRIBE", 8), "wonder", resp));
    snprintf(
        req, sizeof req,
        "DESCRIBE " URL("cam") " RTSP/1.0\r\nCSeq: 7\r\nAuthorization: Digest "
                               "username=\"alice\", realm=\"neolink\", nonce=\"%s\", uri=\"" URL(
                                   "cam") "\", "
                                          "response=\"%s\"\r\n\r\n",
        nonce, resp);
    NL_ASSERT_EQ(h_req(&h, fd, &rx, req, rep, sizeof rep, NULL), 200);
    nl_rtsp_server_stats ss;
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.auth_failures, 4); /* 2 x 401 without credentials + wrong + 403 */
    close(fd);
    h_free(&h);
}

int main(void)
{
    NL_RUN(test_methods_and_errors);
    NL_RUN(test_framing);
    NL_RUN(test_limits_and_demand);
    NL_RUN(test_auth);
    NL_DONE();
}
