/* Every fault mode of the simulated camera, observed from a client: drop,
 * stall, garbage, truncate, drip, restart, clock-jump, big-length
 * (reject-login is in test_sim_login). Times are short (0.5 s; 3 s under
 * valgrind) so the whole file runs in a few seconds. */
#include "sim_test_media.h"

/* Fault time in ms: short normally, longer under valgrind where the encoder
 * needs a while to produce its first frames. */
static unsigned fault_ms(void)
{
    return th_valgrind() ? 3000 : 500;
}

static void start_faulty(sim_harness *h, const char *kind, nl_sim_config *cfg)
{
    char spec[64];
    if (strchr(kind, ':') || !strcmp(kind, "big-length"))
        snprintf(spec, sizeof spec, "%s", kind);
    else
        snprintf(spec, sizeof spec, "%s:%u.%03u", kind, fault_ms() / 1000, fault_ms() % 1000);
    NL_ASSERT_OK(nl_sim_fault_parse(spec, &cfg->faults[cfg->nfaults]));
    cfg->nfaults++;
    th_start(h, cfg);
}

/* Logs in and starts the sub stream; returns the start time (ms). */
static uint64_t login_and_stream(tclient *c, tmedia *m, uint16_t port)
{
    tc_open(c, port);
    NL_ASSERT_EQ(tc_login(c, NL_BC_ENC_AES, 0, "admin", ""), 200);
    uint64_t t0 = th_now_ms();
    tm_init(m, tc_start(c, 0, NL_BC_STREAM_SUB), AV_CODEC_ID_H264);
    return t0;
}

static void test_drop(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    sim_harness h;
    start_faulty(&h, "drop", &cfg);
    tclient c;
    tmedia m;
    uint64_t t0 = login_and_stream(&c, &m, h.port);
    tm_run(&m, &c, 1000, (int)fault_ms() + 5000);
    uint64_t t = th_now_ms() - t0;
    NL_ASSERT(c.eof);
    NL_ASSERT(t >= fault_ms() - 50 && t < fault_ms() + 2500);
    NL_ASSERT(m.video >= (th_valgrind() ? 1 : 3));
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

static void test_stall(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.keepalive_interval_ms = 100;
    sim_harness h;
    start_faulty(&h, "stall", &cfg);
    tclient c;
    tmedia m;
    uint64_t t0 = login_and_stream(&c, &m, h.port);
    int rc;
    uint64_t last = t0;
    while ((rc = tc_recv(&c, 1500 + (th_valgrind() ? 1500 : 0))) == 1)
        last = th_now_ms();
    NL_ASSERT_EQ(rc, 0); /* silence, not a close */
    NL_ASSERT(!c.eof);
    NL_ASSERT(last - t0 >= fault_ms() - 100 && last - t0 < fault_ms() + 1500);
    /* Requests go unanswered too, and the socket stays open. */
    tc_send(&c, NL_BC_MSG_LINK_TYPE, NL_BC_CLASS_MODERN, 5, NULL, 0, NULL, 0);
    NL_ASSERT_EQ(tc_recv(&c, 500), 0);
    nl_sim_stats st = th_stats(&h);
    NL_ASSERT_EQ(st.connections, 1);
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

static void test_garbage(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    sim_harness h;
    start_faulty(&h, "garbage", &cfg);
    tclient c;
    tmedia m;
    uint64_t t0 = login_and_stream(&c, &m, h.port);
    int rc;
    while ((rc = tc_recv(&c, 3000)) == 1) {
        if (c.msg.hdr.msg_id == NL_BC_MSG_VIDEO && c.msg.hdr.corr == m.corr)
            tm_feed(&m, &c);
    }
    NL_ASSERT_EQ(rc, -2);
    NL_ASSERT_EQ(c.framer_err, NL_EPROTO); /* random bytes: no BC magic */
    NL_ASSERT(th_now_ms() - t0 >= fault_ms() - 50);
    NL_ASSERT(m.video >= (th_valgrind() ? 1 : 3));
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

static void test_truncate(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    sim_harness h;
    start_faulty(&h, "truncate", &cfg);
    tclient c;
    tmedia m;
    login_and_stream(&c, &m, h.port);
    int msgs = 0;
    uint64_t end = th_now_ms() + fault_ms() + 1500;
    while (th_now_ms() < end) {
        int rc = tc_recv(&c, 1000);
        NL_ASSERT_EQ(rc, 1); /* BC framing stays valid throughout */
        if (c.msg.hdr.msg_id != NL_BC_MSG_VIDEO || c.msg.hdr.corr != m.corr)
            continue;
        msgs++;
        if (!m.got_reply) {
            m.got_reply = 1;
            continue;
        }
        const uint8_t *p = c.dec.payload;
        size_t len = c.dec.payload_len, used;
        while (len) {
            NL_ASSERT_OK(nl_media_demux_feed(m.demux, p, len, &used));
            p += used;
            len -= used;
            AVPacket *pkt;
            nl_media_meta meta;
            while (nl_media_demux_next(m.demux, &pkt, &meta) > 0)
                ;
        }
    }
    nl_media_stats ms;
    nl_media_demux_stats(m.demux, &ms);
    NL_ASSERT(msgs > 20);
    NL_ASSERT(ms.packets[NL_MEDIA_KIND_IFRAME] >= 1);  /* before the fault */
    NL_ASSERT(ms.resyncs > 0 || ms.bytes_skipped > 0); /* cut packets */
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

static void test_drip(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.stream[NL_SIM_STREAM_SUB].bitrate_kbps = 1000; /* ~125 KB/s, far above the drip */
    sim_harness h;
    start_faulty(&h, "drip:20000", &cfg);
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 200);
    (void)tc_start(&c, 0, NL_BC_STREAM_SUB);
    uint64_t t0 = th_now_ms();
    uint64_t bytes = 0;
    uint8_t buf[65536];
    while (th_now_ms() - t0 < 2000) {
        struct pollfd p = {.fd = c.fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            ssize_t n = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
            NL_ASSERT(n != 0);
            if (n > 0)
                bytes += (uint64_t)n;
        }
    }
    /* One second of burst plus two of rate, and the login replies. */
    NL_ASSERT(bytes <= 20000 * 3 + 8000);
    NL_ASSERT(bytes >= 20000);
    tc_close(&c);
    th_stop(&h);
}

static void test_restart(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.restart_downtime_ms = 800;
    sim_harness h;
    start_faulty(&h, "restart:1", &cfg);
    uint16_t port = h.port;
    tclient c;
    tc_open(&c, port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 200);
    char nonce[NL_BC_NONCE_MAX];
    snprintf(nonce, sizeof nonce, "%s", c.nonce);
    int rc;
    while ((rc = tc_recv(&c, 3000)) == 1)
        ;
    NL_ASSERT_EQ(rc, -1); /* dropped at the restart */
    tc_close(&c);
    /* Down: connections are refused. */
    int fd = tc_connect_fd(port, 0);
    NL_ASSERT(fd < 0);
    nl_sim_stats st;
    TH_WAIT_STATS(&h, st, 3000, st.restarts == 1 && nl_sim_port(h.sim) == port);
    NL_ASSERT_EQ(st.restarts, 1);
    /* Back on the same port, with a new nonce. */
    uint64_t end = th_now_ms() + 3000;
    while ((fd = tc_connect_fd(port, 0)) < 0 && th_now_ms() < end)
        usleep(20000);
    NL_ASSERT(fd >= 0);
    close(fd);
    tc_open(&c, port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 200);
    NL_ASSERT(strcmp(nonce, c.nonce) != 0);
    tc_close(&c);
    th_stop(&h);
}

static void test_clock_jump(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    sim_harness h;
    start_faulty(&h, "clock-jump:0.5", &cfg);
    tclient c;
    tmedia m;
    login_and_stream(&c, &m, h.port);
    NL_ASSERT_EQ(tm_run(&m, &c, 22, th_valgrind() ? 30000 : 6000), 22); /* 2.2 s at 10 fps */
    /* Frames 0..4 normal, frame 5 (t = 0.5 s) reads 2^32 - 1 s, frame 15
     * wraps to 0. */
    for (int i = 1; i < 5; i++)
        NL_ASSERT_EQ(m.ts_log[i] - m.ts_log[i - 1], 100000);
    NL_ASSERT_UEQ(m.ts_log[5], 0xFFFFFFFFu - 1000000u + 1u);
    for (int i = 6; i < 22; i++)
        NL_ASSERT_EQ((uint32_t)(m.ts_log[i] - m.ts_log[i - 1]), 100000);
    NL_ASSERT_UEQ(m.ts_log[15], 0);
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

static void test_big_length(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    sim_harness h;
    start_faulty(&h, "big-length", &cfg);
    tclient c;
    tmedia m;
    login_and_stream(&c, &m, h.port);
    int rc;
    while ((rc = tc_recv(&c, 3000)) == 1)
        ;
    NL_ASSERT_EQ(rc, -2);
    NL_ASSERT_EQ(c.framer_err, NL_ETOOBIG); /* the header announced 0x7FFFFFF0 bytes */
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

int main(void)
{
    NL_RUN(test_drop);
    NL_RUN(test_stall);
    NL_RUN(test_garbage);
    NL_RUN(test_truncate);
    NL_RUN(test_drip);
    NL_RUN(test_restart);
    NL_RUN(test_clock_jump);
    NL_RUN(test_big_length);
    NL_DONE();
}
