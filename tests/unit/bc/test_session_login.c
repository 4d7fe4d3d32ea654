/* Session login against a scripted camera on a socketpair: every encryption
 * level (none, bc, aes, 0x03 as aes, full aes) and each max_encryption offer,
 * the device info the session reports, and the login failures (wrong
 * password, empty 200, modern reply to the upgrade) that must end in one
 * clear error without a retry. */
#include "test_session_peer.h"

static void login_at(nl_camera_encryption max, uint8_t expect_offer, uint8_t level)
{
    nl_camera_config cfg;
    env_config(&cfg);
    cfg.max_encryption = max;
    env e;
    env_open(&e, &cfg, level);
    NL_ASSERT_EQ(env_run_until(&e, NL_CAMERA_READY, 50), NL_CAMERA_READY);
    NL_ASSERT_EQ(e.p.offered, expect_offer);
    NL_ASSERT_EQ(e.p.logins, 1);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_ABILITY_INFO], 1);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_VERSION], 1);
    /* The peer's codec is strict: it could only read 151 if the session
     * switched to AES exactly after the login reply (levels 02/03/12). */
    int aes = level == 0x02 || level == 0x03 || level == 0x12;
    if (aes)
        NL_ASSERT(e.p.aes_sections >= 1);
    else
        NL_ASSERT_EQ(e.p.aes_sections, 0);

    nl_camera_device_info di;
    NL_ASSERT_OK(nl_camera_get_device_info(e.cam, &di));
    NL_ASSERT_EQ(di.encryption, level);
    NL_ASSERT_STREQ(di.model, "E1 Zoom");
    NL_ASSERT_STREQ(di.name, "Front?door"); /* the line feed the peer sent */
    NL_ASSERT_STREQ(di.firmware, "v3.1.0.2174_23050803");
    NL_ASSERT_STREQ(di.type, "ipc");
    NL_ASSERT_EQ(di.width, 2560);
    NL_ASSERT_EQ(di.height, 1440);
    NL_ASSERT_EQ(di.stream[NL_CAMERA_STREAM_MAIN].width, 2560);
    NL_ASSERT_EQ(di.stream[NL_CAMERA_STREAM_SUB].height, 360);
    NL_ASSERT_EQ(di.stream[NL_CAMERA_STREAM_SUB].fps, 30);

    /* Events: LOGIN then READY, no error. */
    NL_ASSERT_EQ(e.nstates, 2);
    NL_ASSERT_EQ(e.states[0], NL_CAMERA_LOGIN);
    NL_ASSERT_EQ(e.states[1], NL_CAMERA_READY);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), 0);
    NL_ASSERT_STREQ(nl_camera_last_error_detail(e.cam), "");

    /* After login, XML to the camera keeps working (the motion subscription
     * went out, a keepalive round trip works under the negotiated scheme). */
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_MOTION_REQUEST], 1);
    env_advance(&e, 5000);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_LINK_TYPE], 1);
    nl_camera_stats st;
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT_EQ(st.keepalives_sent, 1);
    NL_ASSERT_EQ(st.keepalives_missed, 0);
    NL_ASSERT_EQ(st.logins, 1);
    NL_ASSERT(st.arena_used > 0 && st.arena_used <= st.arena_high_water);
    env_close(&e);
}

static void test_levels(void)
{
    login_at(NL_CAMERA_ENC_NONE, 0x00, 0x00);
    login_at(NL_CAMERA_ENC_BC, 0x01, 0x01);
    login_at(NL_CAMERA_ENC_AES, 0x12, 0x01); /* an old camera answers BC to our AES offer */
    login_at(NL_CAMERA_ENC_AES, 0x12, 0x02);
    login_at(NL_CAMERA_ENC_AES, 0x12, 0x03);
    login_at(NL_CAMERA_ENC_AES, 0x12, 0x12);
    NL_ASSERT_STREQ(nl_camera_encryption_name(0x12), "fullaes");
    NL_ASSERT_STREQ(nl_camera_encryption_name(0x03), "aes (0x03)");
    NL_ASSERT_EQ(nl_camera_encryption_parse("bc"), NL_CAMERA_ENC_BC);
    NL_ASSERT_EQ(nl_camera_encryption_parse("rot13"), NL_EINVAL);
}

static void login_fails(const char *password, int login_code, int empty, int expect_err,
                        const char *expect_detail)
{
    nl_camera_config cfg;
    env_config(&cfg);
    cfg.password = password;
    env e;
    env_open(&e, &cfg, 0x12);
    e.p.login_code = login_code;
    e.p.login_empty = empty;
    NL_ASSERT_EQ(env_run_until(&e, NL_CAMERA_READY, 50), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), expect_err);
    NL_ASSERT_STREQ(nl_camera_last_error_detail(e.cam), expect_detail);
    NL_ASSERT_EQ(e.nstates, 2);
    NL_ASSERT_EQ(e.states[1], NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(e.state_err[1], expect_err);
    nl_camera_stats st;
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT_EQ(st.last_error, expect_err);
    NL_ASSERT_EQ(st.last_error_fatal, expect_err == NL_EAUTH);
    NL_ASSERT_EQ(nl_camera_get_device_info(e.cam, &(nl_camera_device_info){0}), NL_EAGAIN);
    /* Never retried by the session, and the socket is closed. */
    env_advance(&e, 60000);
    NL_ASSERT_EQ(e.p.logins, 1);
    NL_ASSERT(e.p.eof);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_CLOSED);
    env_close(&e);
}

static void test_rejections(void)
{
    login_fails("wrong", 200, 0, NL_EAUTH, "login rejected by camera (400)");
    login_fails(PEER_PASS, 401, 0, NL_EAUTH, "login rejected by camera (401)");
    login_fails(PEER_PASS, 200, 1, NL_EAUTH, "login rejected by camera (200 with an empty reply)");
    NL_ASSERT_STREQ(nl_strerror(NL_EAUTH), "camera rejected the credentials");
    NL_ASSERT(nl_camera_error_is_fatal(NL_EAUTH));
    NL_ASSERT(!nl_camera_error_is_fatal(NL_ETIMEDOUT));
}

/* The real camera's failed-login bytes (modern_login_failed.bin: 400, empty)
 * in answer to a real login: NL_EAUTH. */
static void test_sample_failure(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    env_open(&e, &cfg, 0x01);
    e.p.mute_login = 1;
    NL_ASSERT_EQ(env_run_until(&e, NL_CAMERA_CLOSED, 10), NL_CAMERA_LOGIN);
    NL_ASSERT_EQ(e.p.logins, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/bc/modern_login_failed.bin", NL_TEST_DATA);
    size_t n;
    unsigned char *raw = nl_test_read_file(path, &n);
    NL_ASSERT_EQ(n, 24);
    NL_ASSERT_EQ(send(e.p.fd, raw, n, 0), (ssize_t)n);
    free(raw);
    NL_ASSERT_EQ(env_run_until(&e, NL_CAMERA_READY, 10), NL_CAMERA_CLOSED);
    NL_ASSERT_EQ(nl_camera_last_error(e.cam), NL_EAUTH);
    NL_ASSERT_STREQ(nl_camera_last_error_detail(e.cam), "login rejected by camera (400)");
    env_close(&e);
}

/* The nonce reply of a real camera (model_sample_modern_login.bin, level
 * 01, nonce 9E6D1FCB9E69846D) is accepted and answered with the login. */
static void test_sample_nonce(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    env_open(&e, &cfg, 0x01);
    e.p.mute_nonce = 1;
    env_steps(&e, 3);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_LOGIN], 1);
    char path[512];
    snprintf(path, sizeof path, "%s/bc/model_sample_modern_login.bin", NL_TEST_DATA);
    size_t n;
    unsigned char *raw = nl_test_read_file(path, &n);
    NL_ASSERT_EQ(n, 165);
    /* The sample's correlation word (00 00 00 01) is not ours: only logged. */
    NL_ASSERT_EQ(send(e.p.fd, raw, n, 0), (ssize_t)n);
    free(raw);
    NL_ASSERT_OK(nl_bc_codec_set_level(&e.p.codec, 0x01));
    env_steps(&e, 5);
    /* The session answered with a modern login that checks out. */
    NL_ASSERT_EQ(e.p.logins, 1);
    NL_ASSERT_EQ(env_run_until(&e, NL_CAMERA_READY, 20), NL_CAMERA_READY);
    env_close(&e);
}

static void test_arguments(void)
{
    nl_ctx *ctx;
    nl_loop *loop;
    NL_ASSERT_OK(nl_ctx_create(&ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&loop));
    nl_camera_config cfg;
    nl_camera_config_init(&cfg);
    nl_camera *cam = (nl_camera *)1;
    NL_ASSERT_EQ(nl_camera_create(&cam, ctx, loop, &cfg, NULL), NL_ECONFIG); /* no host */
    NL_ASSERT(cam == NULL);
    cfg.host = "127.0.0.1";
    cfg.password = "0123456789012345678901234567890123456789012345678901234567890123456789";
    NL_ASSERT_EQ(nl_camera_create(&cam, ctx, loop, &cfg, NULL), NL_ECONFIG);
    cfg.password = NULL;
    NL_ASSERT_EQ(nl_camera_create(&cam, NULL, loop, &cfg, NULL), NL_EINVAL);
    NL_ASSERT_OK(nl_camera_create(&cam, ctx, loop, &cfg, NULL));
    NL_ASSERT_EQ(nl_camera_get_state(cam), NL_CAMERA_IDLE);
    NL_ASSERT_EQ(nl_camera_start_stream(cam, NL_CAMERA_STREAM_MAIN), NL_ESTATE);
    NL_ASSERT_EQ(nl_camera_start_stream(cam, (nl_camera_stream)7), NL_EINVAL);
    NL_ASSERT_OK(nl_camera_stop_stream(cam, NL_CAMERA_STREAM_SUB));
    NL_ASSERT_OK(nl_camera_close(cam, 100));
    NL_ASSERT_EQ(nl_camera_stream_params(cam, NL_CAMERA_STREAM_MAIN, NULL), NL_EINVAL);
    NL_ASSERT_STREQ(nl_camera_state_name(NL_CAMERA_STREAMING), "streaming");
    NL_ASSERT_EQ(nl_camera_stream_parse("sub"), NL_CAMERA_STREAM_SUB);
    NL_ASSERT_EQ(nl_camera_stream_parse("externStream"), NL_CAMERA_STREAM_EXTERN);
    NL_ASSERT_EQ(nl_camera_stream_parse("hd"), NL_EINVAL);
    nl_camera_destroy(&cam);
    NL_ASSERT(cam == NULL);
    nl_camera_destroy(&cam);
    nl_camera_destroy(NULL);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    NL_ASSERT_EQ(nl_allocator_live(), 0);
}

int main(void)
{
    NL_RUN(test_levels);
    NL_RUN(test_rejections);
    NL_RUN(test_sample_failure);
    NL_RUN(test_sample_nonce);
    NL_RUN(test_arguments);
    NL_DONE();
}
