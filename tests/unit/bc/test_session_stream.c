/* Streams on one connection: main and sub at once with their own handles and
 * correlation words, a real camera capture (tests/data/bcmedia, Swann H.264
 * 2560x1440) through the demuxer into packets and codec parameters, the
 * camera clock unwrapped across its 32-bit wrap, media packets cut across BC
 * messages, full-AES media prefixes, garbage between messages, motion pushes,
 * stop semantics and destroying the camera from a packet callback. */
#include "test_session_peer.h"

static uint8_t *load_capture(size_t *len)
{
    static const char *const files[] = {"info_v1.raw",  "iframe_0.raw", "iframe_1.raw",
                                        "iframe_2.raw", "iframe_3.raw", "iframe_4.raw",
                                        "pframe_0.raw", "pframe_1.raw", "adpcm_0.raw"};
    uint8_t *all = NULL;
    size_t n = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/bcmedia/%s", NL_TEST_DATA, files[i]);
        size_t k;
        uint8_t *b = nl_test_read_file(path, &k);
        all = realloc(all, n + k);
        NL_ASSERT(all != NULL);
        memcpy(all + n, b, k);
        n += k;
        free(b);
    }
    *len = n;
    return all;
}

static void streaming_env(env *e, nl_camera_config *cfg, uint8_t level)
{
    env_open(e, cfg, level);
    /* Both requested before login finished: queued, then sent at READY. */
    NL_ASSERT_OK(nl_camera_start_stream(e->cam, NL_CAMERA_STREAM_MAIN));
    NL_ASSERT_OK(nl_camera_start_stream(e->cam, NL_CAMERA_STREAM_SUB));
    NL_ASSERT_EQ(env_run_until(e, NL_CAMERA_STREAMING, 50), NL_CAMERA_STREAMING);
    env_steps(e, 4);
    NL_ASSERT_EQ(e->stream_ev[NL_CAMERA_STREAM_MAIN][NL_CAMERA_STREAM_STARTED], 1);
    NL_ASSERT_EQ(e->stream_ev[NL_CAMERA_STREAM_SUB][NL_CAMERA_STREAM_STARTED], 1);
}

/* Sends the capture on a stream in `chunk`-byte messages. */
static void send_capture(env *e, int stream, const uint8_t *cap, size_t len, size_t chunk)
{
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        peer_media(&e->p, stream, cap + off, n);
        env_steps(e, 2);
    }
}

static void check_capture_packets(env *e, int stream, unsigned base)
{
    NL_ASSERT_EQ(e->packets[stream], base + 2); /* the I-frame and the P-frame */
    NL_ASSERT_EQ(e->keyframes[stream], base / 2 + 1);
    NL_ASSERT_EQ(e->last_pts[stream], 3557767112LL); /* P-frame µs, first stamp maps to itself */
    NL_ASSERT(e->pts_monotonic);
}

static void multi_stream(uint8_t level, int full_aes_media, size_t chunk)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    streaming_env(&e, &cfg, level);
    e.p.full_aes_media = full_aes_media;
    /* Distinct handles and correlation words (byte 13 checked by the peer). */
    NL_ASSERT_EQ(e.p.stream_handle[NL_CAMERA_STREAM_MAIN], 0);
    NL_ASSERT_EQ(e.p.stream_handle[NL_CAMERA_STREAM_SUB], 256);
    NL_ASSERT(e.p.stream_corr[NL_CAMERA_STREAM_MAIN] != e.p.stream_corr[NL_CAMERA_STREAM_SUB]);

    size_t len;
    uint8_t *cap = load_capture(&len);
    NL_ASSERT_EQ(len, 32 + 192920 + 45136 + 512);
    send_capture(&e, NL_CAMERA_STREAM_MAIN, cap, len, chunk);
    check_capture_packets(&e, NL_CAMERA_STREAM_MAIN, 0);
    NL_ASSERT_EQ(e.params_calls[NL_CAMERA_STREAM_MAIN], 1);
    NL_ASSERT_EQ(e.params_codec, AV_CODEC_ID_H264);
    NL_ASSERT_EQ(e.params_w, 2560);
    NL_ASSERT_EQ(e.params_h, 1440);

    /* Sub: synthetic frames whose 32-bit µs clock wraps. */
    uint8_t payload[200] = {0, 0, 0, 1, 0x41, 0x9a, 0x10};
    for (uint32_t i = 0; i < 40; i++) {
        size_t n;
        uint32_t ts = 0xFFF00000u + i * 66666u; /* wraps after ~16 frames */
        uint8_t *pk = make_video(i % 20 == 0, ts, payload, sizeof payload, &n);
        peer_media(&e.p, NL_CAMERA_STREAM_SUB, pk, n);
        free(pk);
        if (i % 7 == 0)
            env_steps(&e, 2);
    }
    env_steps(&e, 4);
    NL_ASSERT_EQ(e.packets[NL_CAMERA_STREAM_SUB], 40);
    NL_ASSERT_EQ(e.keyframes[NL_CAMERA_STREAM_SUB], 2);
    NL_ASSERT(e.pts_monotonic);
    NL_ASSERT_EQ(e.last_pts[NL_CAMERA_STREAM_SUB], 0xFFF00000LL + 39 * 66666LL);

    nl_camera_stats st;
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT_EQ(st.stream[NL_CAMERA_STREAM_MAIN].frames, 2);
    NL_ASSERT_EQ(st.stream[NL_CAMERA_STREAM_MAIN].keyframes, 1);
    NL_ASSERT_EQ(st.stream[NL_CAMERA_STREAM_MAIN].audio_packets, 2);
    NL_ASSERT_EQ(st.stream[NL_CAMERA_STREAM_MAIN].bytes, len + 32); /* + the start's InfoV2 */
    NL_ASSERT_EQ(st.stream[NL_CAMERA_STREAM_MAIN].first_pts_us, 3557705112LL);
    NL_ASSERT_EQ(st.stream[NL_CAMERA_STREAM_MAIN].bytes_skipped, 0);
    NL_ASSERT_EQ(st.stream[NL_CAMERA_STREAM_SUB].frames, 40);

    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_camera_stream_params(e.cam, NL_CAMERA_STREAM_MAIN, par));
    NL_ASSERT_EQ(par->codec_id, AV_CODEC_ID_H264);
    NL_ASSERT(par->extradata_size > 8);
    avcodec_parameters_free(&par);
    nl_media_info info;
    NL_ASSERT_OK(nl_camera_stream_info(e.cam, NL_CAMERA_STREAM_MAIN, &info));
    NL_ASSERT_EQ(info.version, 1); /* the capture's InfoV1 replaced the start's InfoV2 */
    NL_ASSERT_EQ(info.fps, 30);
    nl_media_audio_format af;
    NL_ASSERT_OK(nl_camera_stream_audio(e.cam, NL_CAMERA_STREAM_MAIN, &af));
    NL_ASSERT_EQ(af.codec, NL_MEDIA_CODEC_ADPCM);
    NL_ASSERT_EQ(af.sample_rate, 8000);

    /* Stop main: msg 4 with the start's correlation; sub keeps going. */
    NL_ASSERT_OK(nl_camera_stop_stream(e.cam, NL_CAMERA_STREAM_MAIN));
    env_steps(&e, 3);
    NL_ASSERT_UEQ(e.p.stop_corr, e.p.stream_corr[NL_CAMERA_STREAM_MAIN]);
    NL_ASSERT_EQ(e.stream_ev[NL_CAMERA_STREAM_MAIN][NL_CAMERA_STREAM_STOPPED], 1);
    NL_ASSERT_EQ(e.stream_err[NL_CAMERA_STREAM_MAIN], 0);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_STREAMING);
    NL_ASSERT_OK(nl_camera_stop_stream(e.cam, NL_CAMERA_STREAM_SUB));
    env_steps(&e, 3);
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_READY);

    /* Restart main: a new correlation word, the same handle, fresh clock. */
    uint32_t old = e.p.stream_corr[NL_CAMERA_STREAM_MAIN];
    NL_ASSERT_OK(nl_camera_start_stream(e.cam, NL_CAMERA_STREAM_MAIN));
    env_steps(&e, 4);
    NL_ASSERT(e.p.stream_corr[NL_CAMERA_STREAM_MAIN] != old);
    NL_ASSERT_EQ(e.p.stream_handle[NL_CAMERA_STREAM_MAIN], 0);
    e.packets[NL_CAMERA_STREAM_MAIN] = 0;
    e.keyframes[NL_CAMERA_STREAM_MAIN] = 0;
    send_capture(&e, NL_CAMERA_STREAM_MAIN, cap, len, chunk);
    check_capture_packets(&e, NL_CAMERA_STREAM_MAIN, 0);
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT_EQ(st.stream[NL_CAMERA_STREAM_MAIN].starts, 2);
    free(cap);
    env_close(&e);
}

static void test_multi_stream(void)
{
    multi_stream(0x00, 0, 40000);
    multi_stream(0x01, 0, 1000); /* packets cut across many messages */
    multi_stream(0x02, 0, 40000);
    multi_stream(0x12, 1, 32920); /* full AES: encryptLen prefix on each message */
    multi_stream(0x12, 0, 97);    /* small messages, odd size */
}

/* Data of a stopped stream is never delivered, even if the camera keeps
 * sending until it reads the stop. */
static void test_no_data_after_stop(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    streaming_env(&e, &cfg, 0x12);
    e.stop_on_packet = 1;
    e.p.mute_stop = 1;
    uint8_t payload[64] = {0, 0, 0, 1, 0x41};
    for (uint32_t i = 0; i < 5; i++) {
        size_t n;
        uint8_t *pk = make_video(0, 1000 + i * 1000, payload, sizeof payload, &n);
        peer_media(&e.p, NL_CAMERA_STREAM_SUB, pk, n);
        free(pk);
    }
    env_steps(&e, 4);
    NL_ASSERT_EQ(e.packets[NL_CAMERA_STREAM_SUB], 1); /* stopped inside its first packet */
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_VIDEO_STOP], 1);
    env_close(&e);
}

static void test_garbage_resync(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    streaming_env(&e, &cfg, 0x12);
    uint8_t payload[64] = {0, 0, 0, 1, 0x41};
    for (uint32_t i = 0; i < 10; i++) {
        size_t n;
        uint8_t *pk = make_video(0, 1000 + i * 1000, payload, sizeof payload, &n);
        peer_media(&e.p, NL_CAMERA_STREAM_MAIN, pk, n);
        free(pk);
        if (i == 4) {
            static const char junk[] = "this is not a Baichuan message at all, just noise";
            NL_ASSERT_EQ(send(e.p.fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
        }
        env_steps(&e, 2);
    }
    NL_ASSERT_EQ(nl_camera_get_state(e.cam), NL_CAMERA_STREAMING);
    NL_ASSERT_EQ(e.packets[NL_CAMERA_STREAM_MAIN], 10);
    nl_camera_stats st;
    NL_ASSERT_OK(nl_camera_get_stats(e.cam, &st, sizeof st));
    NL_ASSERT_EQ(st.framing_resyncs, 1);
    env_close(&e);
}

static void test_motion(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    env_open(&e, &cfg, 0x02);
    NL_ASSERT_EQ(env_run_until(&e, NL_CAMERA_READY, 50), NL_CAMERA_READY);
    NL_ASSERT_EQ(e.p.count[NL_BC_MSG_MOTION_REQUEST], 1);
    static const char *const status[] = {"MD", "MD", "none", "MD,visitor"};
    static const int expect_calls[] = {1, 1, 2, 3};
    for (int i = 0; i < 4; i++) {
        nl_bc_alarm_list l;
        memset(&l, 0, sizeof l);
        l.count = 1;
        snprintf(l.ev[0].status, sizeof l.ev[0].status, "%s", status[i]);
        nl_dbuf b;
        nl_dbuf_init(&b, 4096);
        NL_ASSERT(nl_bc_build_alarm_list(&b, &l) > 0);
        peer_send(&e.p, NL_BC_MSG_ALARM_EVENT_LIST, NL_BC_CLASS_MODERN_REPLY, 0, 200, NULL, 0,
                  b.data, b.len, 0, 0);
        nl_dbuf_free(&b);
        env_steps(&e, 2);
        NL_ASSERT_EQ(e.motion_calls, expect_calls[i]);
        NL_ASSERT_EQ(e.motion, status[i][0] == 'M');
    }
    env_close(&e);
}

static void test_destroy_in_callback(void)
{
    nl_camera_config cfg;
    env_config(&cfg);
    env e;
    streaming_env(&e, &cfg, 0x12);
    e.destroy_on_packet = 1;
    uint8_t payload[64] = {0, 0, 0, 1, 0x41};
    for (uint32_t i = 0; i < 3; i++) {
        size_t n;
        uint8_t *pk = make_video(0, 1000 + i * 1000, payload, sizeof payload, &n);
        peer_media(&e.p, NL_CAMERA_STREAM_MAIN, pk, n);
        free(pk);
    }
    env_steps(&e, 3);
    NL_ASSERT(e.cam == NULL);
    NL_ASSERT_EQ(e.packets[NL_CAMERA_STREAM_MAIN], 1);
    NL_ASSERT(e.p.eof); /* the socket was closed at once */
    env_close(&e);

    /* Destroy while connected, outside callbacks: freed at once. */
    streaming_env(&e, &cfg, 0x01);
    nl_camera_destroy(&e.cam);
    NL_ASSERT_EQ(nl_loop_io_count(e.loop), 0);
    NL_ASSERT_EQ(nl_loop_timer_count(e.loop), 0);
    env_close(&e);
}

int main(void)
{
    NL_RUN(test_multi_stream);
    NL_RUN(test_no_data_after_stop);
    NL_RUN(test_garbage_resync);
    NL_RUN(test_motion);
    NL_RUN(test_destroy_in_callback);
    NL_DONE();
}
