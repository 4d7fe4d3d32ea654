/* Every deadline of the session, driven by a fake clock against a scripted
 * camera that goes silent at the chosen step: login, keepalive (msg 93),
 * camera heartbeats (msg 234), stream start/stop replies, media stall, and
 * close (graceful, and bounded when the camera stops answering). Each
 * failure must come at its deadline, not before and not after. */
#include "test_session_peer.h"

static void ready_env(env *e, nl_camera_config *cfg)
{
    env_open(e, cfg, 0x12);
    NL_ASSERT_EQ(env_run_until(e, NL_CAMERA_READY, 50), NL_CAMERA_READY);
}

static void test_login_timeout(void)
{
    static const struct {
        int which; /* 0 nonce, 1 login */
        const char *detail;
    } cases[] = {
        {0, "login timed out after 15000 ms waiting for the nonce reply"},
        {1, "login timed out after 15000 ms waiting for the login reply"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nl_camera_config cfg;
        env_config(&cfg);
        env e;
        env_open(&e, &cfg, 0x12);
        e.p.mute_nonce = cases[i].which == 0;
        e.p.mute_login = cases[i].which == 1;
        uint64_t t0 = e.clock.now_ns;
        env_steps(&e, 5);
        env_advance(&e, 14999);
        NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_LOGIN);
        env_advance(&e, 1);
        NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
        NL_ASSERT_EQ(nl_camera_last_error(e.cam), NL_ETIMEDOUT);
        NL_ASSERT_STREQ(nl_camera_last_error_detail(e.cam), cases[i].detail);
        NL_ASSERT_UEQ(e.closed_at_ns - t0, 15000 * NL_NS_PER_MS);
        env_close(&e);
    }
}

static void test_keepalive(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    cfg.keepalive_interval_ms = 1000;
    cfg.keepalive_misses = 3;
    env e;
    ready_env(&e, &cfg);
    /* An answering camera lives forever. */
    for (int i = 0; i < 30; i++)
        env_advance(&e, 1000);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_READY);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_LINK_TYPE], 30);
    /* Silent: ping at +1 s, misses at +2, +3, +4 s -> dead at +4 s. */
    e.p.mute_ping = 1;
    uint64_t t0 = e.clock.now_ns;
    for (int i = 0; i < 3; i++)
        env_advance(&e, 1000);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_READY);
    env_advance(&e, 1000);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), NL_ETIMEDOUT);
    NL_ASSERT_STREQ(nl_camera_last_error_detail(e.cam),
                    "camera stopped answering keepalives (3 missed, 1000 ms apart)");
    NL_ASSERT_UEQ(e.closed_at_ns - t0, 4000 * NL_NS_PER_MS);
    nl_camera_stats st;
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT_EQ(st.keepalives_missed, 3);
    NL_ASSERT_EQ(st.keepalives_sent, 33);
    NL_ASSERT_EQ(st.last_error_fatal, 0);
    env_close(&e);

    /* OFF: no ping at all. */
    env_config(&cfg);
    cfg.keepalive_interval_ms = NL_CAMERA_TIMEOUT_OFF;
    ready_env(&e, &cfg);
    env_advance(&e, 3600 * 1000);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_LINK_TYPE], 0);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_READY);
    env_close(&e);
}

static void test_heartbeat(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    ready_env(&e, &cfg);
    uint32_t corr = nl_bc_corr_make(0, 0, 0x4321);
    peer_send(&e.p, NL_BC_MSG_KEEPALIVE, NL_BC_CLASS_MODERN_REPLY, corr, 0, NULL, 0, NULL, 0, 0, 0);
    env_steps(&e, 4);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_KEEPALIVE], 1);
    NL_ASSERT_UEQ(e.p.hb_corr_answered, corr);
    nl_camera_stats st;
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT_EQ(st.heartbeats_answered, 1);
    env_close(&e);
}

static void test_stream_deadlines(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    cfg.keepalive_interval_ms = NL_CAMERA_TIMEOUT_OFF;
    env e;
    ready_env(&e, &cfg);

    /* Start without an answer: FAILED(ETIMEDOUT) after request_timeout;
     * the session itself stays up. */
    e.p.mute_start = 1;
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_SUB));
    env_steps(&e, 3);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_STREAMING);
    env_advance(&e, 4999);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_SUB][NL_CAMERA_STREAM_FAILED], 0);
    env_advance(&e, 1);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_SUB][NL_CAMERA_STREAM_FAILED], 1);
    NL_ASSERT_EQ(e.stream_err[NL_CAMERA_STREAM_SUB], NL_ETIMEDOUT);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_READY);

    /* Refused start: FAILED(EREFUSED) at once. */
    e.p.mute_start = 0;
    e.p.start_code = 400;
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_EXTERN));
    env_steps(&e, 4);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_EXTERN][NL_CAMERA_STREAM_FAILED], 1);
    NL_ASSERT_EQ(e.stream_err[NL_CAMERA_STREAM_EXTERN], NL_EREFUSED);

    /* Stop without an answer: STOPPED(ETIMEDOUT) after 2 s. */
    e.p.start_code = 200;
    e.p.mute_stop = 1;
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_MAIN));
    env_steps(&e, 4);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_MAIN][NL_CAMERA_STREAM_STARTED], 1);
    NL_ASSERT_OK(nl_camera_stop_stream(e.cam, NL_CAMERA_STREAM_MAIN));
    NL_ASSERT_EQ(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_MAIN), NL_ESTATE);
    env_steps(&e, 3);
    NL_ASSERT_UEQ(e.p.stop_corr, e.p.stream_corr[NL_CAMERA_STREAM_MAIN]);
    env_advance(&e, 1999);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_MAIN][NL_CAMERA_STREAM_STOPPED], 0);
    env_advance(&e, 1);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_MAIN][NL_CAMERA_STREAM_STOPPED], 1);
    NL_ASSERT_EQ(e.stream_err[NL_CAMERA_STREAM_MAIN], NL_ETIMEDOUT);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_READY);
    env_close(&e);
}

static void test_stall(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    cfg.stall_timeout_ms = 3000;
    env e;
    ready_env(&e, &cfg);
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_SUB));
    env_steps(&e, 4);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_SUB][NL_CAMERA_STREAM_STARTED], 1);
    /* Media keeps it alive... */
    uint8_t payload[64] = {0, 0, 0, 1, 0x41, 0x9a};
    for (int i = 0; i < 5; i++) {
        size_t n;
        uint8_t *pk = make_video(0, 1000000u + 100000u * (uint32_t)i, payload, sizeof payload, &n);
        peer_media(&e.p, NL_CAMERA_STREAM_SUB, pk, n);
        free(pk);
        env_steps(&e, 2); /* received at the current fake time */
        env_advance(&e, 2000);
    }
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_STREAMING);
    /* ...then nothing for 3 s (pings still answered): NL_ESTALL. */
    uint64_t t_last = e.clock.now_ns - 2000 * NL_NS_PER_MS;
    env_advance(&e, 999);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_STREAMING);
    env_advance(&e, 1);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), NL_ESTALL);
    NL_ASSERT_STREQ(nl_camera_last_error_detail(e.cam), "sub stream: no media for 3000 ms");
    NL_ASSERT_UEQ(e.closed_at_ns - t_last, 3000 * NL_NS_PER_MS);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_SUB][NL_CAMERA_STREAM_FAILED], 1);
    NL_ASSERT_EQ(e.stream_err[NL_CAMERA_STREAM_SUB], NL_ESTALL);
    NL_ASSERT_EQ(e.packets[NL_CAMERA_STREAM_SUB], 5);
    env_close(&e);
}

/* Media bytes that never make a frame (a video header whose size field
 * claims almost 4 MiB, then filler) do not hold the stream open: the stall
 * timeout counts from the last frame delivered, not from the last byte. */
static void test_stall_without_frames(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    cfg.stall_timeout_ms = 3000;
    cfg.keepalive_interval_ms = NL_CAMERA_TIMEOUT_OFF;
    env e;
    ready_env(&e, &cfg);
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_SUB));
    env_steps(&e, 4);
    uint8_t payload[64] = {0, 0, 0, 1, 0x41, 0x9a};
    size_t n;
    uint8_t *pk = make_video(0, 1000000u, payload, sizeof payload, &n);
    peer_media(&e.p, NL_CAMERA_STREAM_SUB, pk, n);
    env_steps(&e, 2);
    NL_ASSERT_EQ(e.packets[NL_CAMERA_STREAM_SUB], 1);
    uint64_t t_frame = e.clock.now_ns;
    /* The next header lies: 4 MiB - 64 bytes of payload. */
    nl__bcm_wr32(pk + 8, (4u << 20) - 64u);
    uint8_t filler[1000];
    memset(filler, 0x5a, sizeof filler);
    for (int i = 0; i < 5; i++) {
        env_advance(&e, 500);
        if (i == 0)
            peer_media(&e.p, NL_CAMERA_STREAM_SUB, pk, n);
        else
            peer_media(&e.p, NL_CAMERA_STREAM_SUB, filler, sizeof filler);
        env_steps(&e, 2);
        NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_STREAMING);
    }
    free(pk);
    /* Bytes kept coming every 500 ms, but no frame since t_frame. */
    env_advance(&e, 499);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_STREAMING);
    env_advance(&e, 1);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), NL_ESTALL);
    NL_ASSERT_UEQ(e.closed_at_ns - t_frame, 3000 * NL_NS_PER_MS);
    NL_ASSERT_EQ(e.packets[NL_CAMERA_STREAM_SUB], 1);
    nl_camera_stats st;
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT(st.stream[NL_CAMERA_STREAM_SUB].bytes > 4000);
    env_close(&e);
}

static void test_close_graceful(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    ready_env(&e, &cfg);
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_MAIN));
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_SUB));
    env_steps(&e, 4);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_STREAMING);
    uint64_t t0 = e.clock.now_ns;
    NL_ASSERT_OK(nl_camera_close(e.cam, 2000));
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSING);
    NL_ASSERT_EQ(env_run_until(&e, NL_CAMERA_CLOSED, 20), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(e.clock.now_ns, t0); /* no time needed: every reply came */
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), 0);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_VIDEO_STOP], 2);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_LOGOUT], 1);
    NL_ASSERT_STREQ(e.p.logout_user, PEER_USER);
    NL_ASSERT_STREQ(e.p.logout_pass, PEER_PASS);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_MAIN][NL_CAMERA_STREAM_STOPPED], 1);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_SUB][NL_CAMERA_STREAM_STOPPED], 1);
    NL_ASSERT_EQ(e.states[e.nstates - 2], NL_CAMERA_CLOSING);
    NL_ASSERT_EQ(e.states[e.nstates - 1], NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(e.state_err[e.nstates - 1], 0);
    env_steps(&e, 2);
    NL_ASSERT(e.p.eof);

    /* Connect again on the same camera (a new socketpair), log in again. */
    int sv[2];
    NL_ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    peer_free(&e.p);
    peer_init(&e.p, sv[1], 0x02);
    NL_ASSERT_OK(nl__camera_connect_fd(e.cam, sv[0]));
    NL_ASSERT_EQ(env_run_until(&e, NL_CAMERA_READY, 50), NL_CAMERA_READY);
    nl_camera_stats st;
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT_EQ(st.logins, 2);
    env_close(&e);
}

/* A camera that stops answering mid-teardown: the close ends at its
 * deadline through the error path, even though the stop wait is longer. */
static void test_close_deadline(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    ready_env(&e, &cfg);
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_MAIN));
    env_steps(&e, 4);
    e.p.mute_stop = 1;
    uint64_t t0 = e.clock.now_ns;
    NL_ASSERT_OK(nl_camera_close(e.cam, 700));
    env_advance(&e, 699);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSING);
    env_advance(&e, 1);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    NL_ASSERT_UEQ(e.closed_at_ns - t0, 700 * NL_NS_PER_MS);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), NL_ETIMEDOUT);
    NL_ASSERT_STREQ(nl_camera_last_error_detail(e.cam),
                    "close did not finish within 700 ms (waiting for stream stop replies)");
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_MAIN][NL_CAMERA_STREAM_FAILED], 1);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_LOGOUT], 0);
    env_close(&e);

    /* Logout unanswered, camera keeps the socket open: linger 500 ms, then
     * a clean close (the logout is best effort). */
    ready_env(&e, &cfg);
    e.p.mute_logout = 1;
    t0 = e.clock.now_ns;
    NL_ASSERT_OK(nl_camera_close(e.cam, 5000));
    env_steps(&e, 3);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_LOGOUT], 1);
    env_advance(&e, 500);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), 0);
    NL_ASSERT_UEQ(e.closed_at_ns - t0, 500 * NL_NS_PER_MS);
    env_close(&e);

    /* The camera hangs up on the stop request: that completes the close. */
    ready_env(&e, &cfg);
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_SUB));
    env_steps(&e, 4);
    e.p.mute_stop = 1;
    NL_ASSERT_OK(nl_camera_close(e.cam, 5000));
    env_steps(&e, 2);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_VIDEO_STOP], 1);
    close(e.p.fd);
    e.p.fd = -1;
    env_steps(&e, 2);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), 0);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_SUB][NL_CAMERA_STREAM_STOPPED], 1);
    env_close(&e);

    /* Close during login: dropped on the next iteration, no logout. */
    env_open(&e, &cfg, 0x12);
    e.p.mute_nonce = 1;
    env_steps(&e, 2);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_LOGIN);
    NL_ASSERT_OK(nl_camera_close(e.cam, 1000));
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSING);
    env_steps(&e, 2);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), 0);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_LOGOUT], 0);
    env_close(&e);
}

/* The camera hangs up: NL_ECLOSED, streams FAILED. */
static void test_peer_close(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    ready_env(&e, &cfg);
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_MAIN));
    env_steps(&e, 4);
    close(e.p.fd);
    e.p.fd = -1;
    env_steps(&e, 2);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), NL_ECLOSED);
    NL_ASSERT_STREQ(nl_camera_last_error_detail(e.cam), "camera closed the connection");
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_MAIN][NL_CAMERA_STREAM_FAILED], 1);
    NL_ASSERT_EQ(e.stream_err[NL_CAMERA_STREAM_MAIN], NL_ECLOSED);
    env_close(&e);
}

int main(void)
{
    NL_RUN(test_login_timeout);
    NL_RUN(test_keepalive);
    NL_RUN(test_heartbeat);
    NL_RUN(test_stream_deadlines);
    NL_RUN(test_stall);
    NL_RUN(test_stall_without_frames);
    NL_RUN(test_close_graceful);
    NL_RUN(test_close_deadline);
    NL_RUN(test_peer_close);
    NL_DONE();
}
