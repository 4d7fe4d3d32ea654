/* Load and back-pressure: 50 concurrent connections log in and watch the
 * sub stream, served by exactly one encoder; a client that stops reading is
 * dropped after the write timeout (its queue stays bounded, frames are
 * dropped meanwhile) without disturbing a reading client of the same
 * stream. */
#include "sim_test_media.h"

#define CLIENTS 50

static void test_fifty_viewers(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    sim_harness h;
    th_start(&h, &cfg);
    static tclient c[CLIENTS];
    static tmedia m[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        tc_open(&c[i], h.port);
        static const uint8_t levels[] = {NL_BC_ENC_NONE, NL_BC_ENC_BC, NL_BC_ENC_AES,
                                         NL_BC_ENC_FULLAES};
        NL_ASSERT_EQ(tc_login(&c[i], levels[i % 4], 0, "admin", ""), 200);
    }
    for (int i = 0; i < CLIENTS; i++)
        tm_init(&m[i], tc_start(&c[i], 0, NL_BC_STREAM_SUB), AV_CODEC_ID_H264);

    nl_sim_stats st;
    TH_WAIT_STATS(&h, st, 5000, st.viewers == CLIENTS);
    NL_ASSERT_EQ(st.connections, CLIENTS);
    NL_ASSERT_EQ(st.logins, CLIENTS);
    NL_ASSERT_EQ(st.viewers, CLIENTS);
    NL_ASSERT_EQ(st.streams_active, 1); /* one encoder for fifty viewers */
    NL_ASSERT_EQ(st.streams_started, 1);

    /* Every viewer gets decodable video starting at a key frame. */
    for (int i = 0; i < CLIENTS; i++) {
        NL_ASSERT_EQ(tm_run(&m[i], &c[i], 3, 10000), 3);
        NL_ASSERT_EQ(m[i].first_key_index, 0);
        NL_ASSERT(m[i].decoded >= 2);
        NL_ASSERT_EQ(m[i].counter_bad, 0);
        NL_ASSERT_EQ(m[i].dec_w, 256);
    }
    /* They all watch the same encoded frames: compare camera clocks. */
    for (int i = 1; i < CLIENTS; i++)
        NL_ASSERT_EQ((m[i].ts_log[0] - m[0].ts_log[0]) % 100000u, 0);

    st = th_stats(&h);
    NL_ASSERT_EQ(st.streams_active, 1);
    NL_ASSERT_EQ(st.streams_started, 1);
    NL_ASSERT_EQ(st.frames_dropped, 0);
    for (int i = 0; i < CLIENTS; i++) {
        tm_free(&m[i]);
        tc_close(&c[i]);
    }
    TH_WAIT_STATS(&h, st, 5000, st.connections == 0 && st.streams_active == 0);
    NL_ASSERT_EQ(st.connections, 0);
    NL_ASSERT_EQ(st.streams_active, 0);
    th_stop(&h);
}

static void test_slow_client(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.stream[NL_SIM_STREAM_MAIN] = (nl_sim_stream_config){320, 240, 15, 3000};
    cfg.max_queue_bytes = 64 * 1024;
    cfg.write_timeout_ms = 1000;
    cfg.socket_sndbuf = 4096;
    sim_harness h;
    th_start(&h, &cfg);

    tclient slow, good;
    tc_open_rcvbuf(&slow, h.port, 4096);
    tc_open(&good, h.port);
    NL_ASSERT_EQ(tc_login(&slow, NL_BC_ENC_AES, 0, "admin", ""), 200);
    NL_ASSERT_EQ(tc_login(&good, NL_BC_ENC_AES, 0, "admin", ""), 200);
    (void)tc_start(&slow, 0, NL_BC_STREAM_MAIN); /* ... and never read again */
    tmedia m;
    tm_init(&m, tc_start(&good, 0, NL_BC_STREAM_MAIN), AV_CODEC_ID_H264);
    m.ts_step = 66666;

    /* The reading client streams on undisturbed while the other is dropped. */
    nl_sim_stats st;
    uint64_t end = th_now_ms() + 8000;
    do {
        NL_ASSERT(tm_run(&m, &good, m.video + 5, 5000) >= 5);
        st = th_stats(&h);
    } while (st.slow_disconnects == 0 && th_now_ms() < end);
    NL_ASSERT_EQ(st.slow_disconnects, 1);
    NL_ASSERT(st.frames_dropped > 0); /* the queue filled before the timeout */
    NL_ASSERT_EQ(st.connections, 1);
    NL_ASSERT_EQ(st.viewers, 1);
    NL_ASSERT(tm_run(&m, &good, m.video + 10, 5000) >= 10);
    if (!th_valgrind()) { /* there the client thread itself can fall behind */
        NL_ASSERT_EQ(m.ts_steps_bad, 0);
        NL_ASSERT_EQ(m.counter_bad, 0);
    }

    /* The slow client finds its connection closed after what was in flight. */
    int rc;
    while ((rc = tc_recv(&slow, 3000)) == 1)
        ;
    NL_ASSERT(rc == -1 || rc == -2);
    tm_free(&m);
    tc_close(&slow);
    tc_close(&good);
    th_stop(&h);
}

int main(void)
{
    NL_RUN(test_fifty_viewers);
    NL_RUN(test_slow_client);
    NL_DONE();
}
