/* Streaming from the simulated camera: the start reply (200 + binaryData
 * Extension + InfoV2), msg-3 messages with the start's correlation word,
 * camera chunking of big frames, real-time pacing with µs timestamps one
 * frame apart, frames that lib/media demuxes and libavcodec decodes (with
 * the synthesizer's counter counting up), AAC and ADPCM audio, full-AES
 * media with encryptLen, stop (4), one encoder shared by several viewers,
 * viewers joining mid-stream starting at a key frame, several channels,
 * main + sub + extern on one connection. */
#include "sim_test_media.h"

static void test_sub_h264_aac(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.audio = NL_SIM_AUDIO_AAC;
    sim_harness h;
    th_start(&h, &cfg);
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_FULLAES, 0, "admin", ""), 200);
    NL_ASSERT_EQ(c.level, NL_BC_ENC_AES);
    uint32_t corr = tc_start(&c, 0, NL_BC_STREAM_SUB);
    tmedia m;
    tm_init(&m, corr, AV_CODEC_ID_H264);
    m.ts_step = 100000; /* 10 fps */
    NL_ASSERT_EQ(tm_run(&m, &c, 14, 10000), 14);
    NL_ASSERT_EQ(m.info.width, 256);
    NL_ASSERT_EQ(m.info.height, 144);
    NL_ASSERT_EQ(m.info.fps, 10);
    NL_ASSERT_EQ(m.first_key_index, 0); /* a fresh stream starts with an IDR */
    NL_ASSERT(m.keyframes >= 2);        /* gop 1 s = every 10 frames */
    NL_ASSERT_EQ(m.ts_steps_bad, 0);
    NL_ASSERT_EQ(m.ts_steps_ok, 13);
    NL_ASSERT(m.decoded >= 12);
    NL_ASSERT_EQ(m.dec_w, 256);
    NL_ASSERT_EQ(m.dec_h, 144);
    NL_ASSERT(m.counter_ok >= 12);
    NL_ASSERT_EQ(m.counter_bad, 0);
    NL_ASSERT(m.audio_aac >= 15); /* 16 kHz AAC: 15.6 AUs per second */
    NL_ASSERT_EQ(m.chunk_bad, 0);
    NL_ASSERT_EQ(m.encrypt_len_ok + m.encrypt_len_bad, 0); /* AES(02): media not enciphered */
    /* Real time: frames 0..10 span one second at 10 fps. */
    uint64_t span = m.tenth_video_ms - m.first_video_ms;
    /* Under valgrind the encoder falls behind and catches up, so only the
     * ordinary build checks real-time pacing. */
    NL_ASSERT(th_valgrind() || (span >= 850 && span <= 1600));

    nl_sim_stats st = th_stats(&h);
    NL_ASSERT_EQ(st.streams_active, 1);
    NL_ASSERT_EQ(st.streams_by_kind[NL_SIM_STREAM_SUB], 1);
    NL_ASSERT_EQ(st.streams_by_kind[NL_SIM_STREAM_MAIN], 0);
    NL_ASSERT_EQ(st.viewers, 1);
    NL_ASSERT(st.frames_encoded >= 14);

    /* Stop: 200 with the start's correlation, then no more media. */
    tc_stop(&c, corr, 0, NL_BC_STREAM_SUB);
    int rc;
    while ((rc = tc_recv(&c, 3000)) == 1 && c.msg.hdr.msg_id != NL_BC_MSG_VIDEO_STOP)
        ;
    NL_ASSERT_EQ(rc, 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
    NL_ASSERT_EQ(c.msg.hdr.corr, corr);
    NL_ASSERT_EQ(tc_recv(&c, 400), 0);
    st = th_stats(&h);
    NL_ASSERT_EQ(st.streams_active, 0);
    NL_ASSERT_EQ(st.viewers, 0);
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

/* Big H.265 key frames: split as size mod 40000, then 40000-byte chunks. */
static void test_main_h265_chunks(void)
{
    if (th_valgrind()) {
        printf("libx265 at 20 Mbit/s skipped under valgrind (too slow for real time)\n");
        return;
    }
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.codec = NL_SIM_VIDEO_H265;
    cfg.stream[NL_SIM_STREAM_MAIN] = (nl_sim_stream_config){640, 480, 15, 20000};
    sim_harness h;
    th_start(&h, &cfg);
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_BC, 0, "admin", ""), 200);
    uint32_t corr = tc_start(&c, 0, NL_BC_STREAM_MAIN);
    tmedia m;
    tm_init(&m, corr, AV_CODEC_ID_HEVC);
    m.ts_step = 66666;
    NL_ASSERT_EQ(tm_run(&m, &c, 20, 15000), 20);
    NL_ASSERT_EQ(m.info.width, 640);
    NL_ASSERT_EQ(m.info.height, 480);
    NL_ASSERT(m.big_packets >= 1);
    NL_ASSERT(m.chunk_checked >= 20);
    NL_ASSERT_EQ(m.chunk_bad, 0);
    NL_ASSERT_EQ(m.ts_steps_bad, 0);
    NL_ASSERT(m.decoded >= 18);
    NL_ASSERT_EQ(m.dec_w, 640);
    NL_ASSERT_EQ(m.dec_h, 480);
    NL_ASSERT_EQ(m.counter_bad, 0);
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

/* Full AES: every media message carries encryptLen == its payload length and
 * the client's codec deciphers it; ADPCM audio in 244-byte blocks. */
static void test_fullaes_adpcm(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.encryption = NL_SIM_ENC_FULLAES;
    cfg.audio = NL_SIM_AUDIO_ADPCM;
    cfg.password = "pw";
    sim_harness h;
    th_start(&h, &cfg);
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_FULLAES, 0, "admin", "pw"), 200);
    NL_ASSERT_EQ(c.level, NL_BC_ENC_FULLAES);
    uint32_t corr = tc_start(&c, 0, NL_BC_STREAM_SUB);
    tmedia m;
    tm_init(&m, corr, AV_CODEC_ID_H264);
    NL_ASSERT_EQ(tm_run(&m, &c, 12, 10000), 12);
    NL_ASSERT_EQ(m.info.width, 256);
    NL_ASSERT(m.encrypt_len_ok >= 12);
    NL_ASSERT_EQ(m.encrypt_len_bad, 0);
    NL_ASSERT(m.decoded >= 10);
    NL_ASSERT_EQ(m.counter_bad, 0);
    NL_ASSERT(m.audio_adpcm >= 15); /* 60 ms blocks */
    NL_ASSERT_EQ(m.adpcm_block_ok, m.audio_adpcm);
    NL_ASSERT_EQ(m.audio_aac, 0);

    /* Logout while streaming: 200, the stream stops, the camera closes. */
    nl_dbuf_reset(&c.body);
    NL_ASSERT(nl_bc_build_logout(&c.body, "admin", "pw") > 0);
    tc_send(&c, NL_BC_MSG_LOGOUT, NL_BC_CLASS_MODERN, 99, NULL, 0, c.body.data, c.body.len);
    NL_ASSERT_EQ(tc_expect(&c, NL_BC_MSG_LOGOUT, 3000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
    NL_ASSERT_EQ(tc_recv(&c, 3000), -1);
    nl_sim_stats st;
    TH_WAIT_STATS(&h, st, 2000, st.connections == 0);
    NL_ASSERT_EQ(st.connections, 0);
    NL_ASSERT_EQ(st.streams_active, 0);
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

/* Several viewers of one stream share one encoder; a viewer joining a
 * running stream starts at its next key frame; main and sub are separate
 * streams; the last viewer leaving stops the encoder. */
static void test_shared_streams(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.channels = 2;
    sim_harness h;
    th_start(&h, &cfg);
    tclient a, b, d;
    tc_open(&a, h.port);
    tc_open(&b, h.port);
    tc_open(&d, h.port);
    NL_ASSERT_EQ(tc_login(&a, NL_BC_ENC_AES, 0, "admin", ""), 200);
    NL_ASSERT_EQ(tc_login(&b, NL_BC_ENC_NONE, 0, "admin", ""), 200);
    NL_ASSERT_EQ(tc_login(&d, NL_BC_ENC_BC, 0, "admin", ""), 200);
    tmedia ma, mb, md;
    tm_init(&ma, tc_start(&a, 1, NL_BC_STREAM_SUB), AV_CODEC_ID_H264);
    NL_ASSERT_EQ(tm_run(&ma, &a, 4, 5000), 4);
    tm_init(&mb, tc_start(&b, 1, NL_BC_STREAM_SUB), AV_CODEC_ID_H264);
    NL_ASSERT_EQ(tm_run(&mb, &b, 3, 5000), 3);
    NL_ASSERT_EQ(mb.first_key_index, 0); /* joined mid-GOP: first frame is a key frame */
    tm_init(&md, tc_start(&d, 0, NL_BC_STREAM_MAIN), AV_CODEC_ID_H264);
    NL_ASSERT_EQ(tm_run(&md, &d, 2, 5000), 2);
    NL_ASSERT_EQ(md.info.width, 320);

    nl_sim_stats st = th_stats(&h);
    NL_ASSERT_EQ(st.streams_active, 2);
    NL_ASSERT_EQ(st.streams_by_kind[NL_SIM_STREAM_SUB], 1);
    NL_ASSERT_EQ(st.streams_by_kind[NL_SIM_STREAM_MAIN], 1);
    NL_ASSERT_EQ(st.viewers, 3);
    NL_ASSERT_EQ(st.streams_started, 2);

    /* The channel that does not exist is refused. */
    uint32_t bad = tc_start(&d, 2, NL_BC_STREAM_SUB);
    NL_ASSERT_EQ(tc_expect_corr(&d, NL_BC_MSG_VIDEO, bad, 3000), 1);
    NL_ASSERT_EQ(d.msg.hdr.response_code, 400);
    NL_ASSERT_EQ(d.msg.hdr.body_len, 0);

    /* Both sub viewers keep decoding the same frames. */
    NL_ASSERT(tm_run(&ma, &a, 12, 5000) >= 12);
    NL_ASSERT(tm_run(&mb, &b, 8, 5000) >= 8);
    NL_ASSERT_EQ(ma.counter_bad + mb.counter_bad, 0);

    tc_close(&a);
    TH_WAIT_STATS(&h, st, 2000, st.viewers == 2);
    NL_ASSERT_EQ(st.streams_active, 2);
    tc_close(&b);
    tc_close(&d);
    TH_WAIT_STATS(&h, st, 2000, st.streams_active == 0);
    NL_ASSERT_EQ(st.streams_active, 0);
    NL_ASSERT_EQ(st.viewers, 0);
    NL_ASSERT_EQ(st.connections, 0);
    tm_free(&ma);
    tm_free(&mb);
    tm_free(&md);
    th_stop(&h);
}

/* Receives the connection's messages and hands each stream its own ones
 * (tm_run would throw the other streams' frames away) until every stream
 * saw `video` video packets or timeout_ms passed. */
static void run_streams(tclient *c, tmedia *m, int n, int video, int timeout_ms)
{
    uint64_t end = th_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int done = 1;
        for (int i = 0; i < n; i++)
            done &= m[i].video >= video;
        uint64_t now = th_now_ms();
        if (done || now >= end || tc_recv(c, (int)(end - now)) <= 0)
            return;
        for (int i = 0; i < n; i++) {
            if (c->msg.hdr.msg_id != NL_BC_MSG_VIDEO || c->msg.hdr.corr != m[i].corr)
                continue;
            NL_ASSERT_EQ(c->msg.hdr.response_code, 200);
            tm_feed(&m[i], c);
            m[i].got_reply = 1;
        }
    }
}

/* The third ("extern") stream: an externStream Preview gets its own
 * encoder at the configured size, listed in the stream table, and it runs
 * next to main and sub on the same connection, each with its own frames. */
static void test_extern_three_on_one_conn(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    sim_harness h;
    th_start(&h, &cfg);
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 200);

    tmedia m[3]; /* indexed by kind */
    tm_init(&m[NL_SIM_STREAM_EXTERN], tc_start(&c, 0, NL_BC_STREAM_EXTERN), AV_CODEC_ID_H264);
    m[NL_SIM_STREAM_EXTERN].ts_step = 83333; /* 12 fps */
    NL_ASSERT_EQ(tm_run(&m[NL_SIM_STREAM_EXTERN], &c, 8, 10000), 8);
    tmedia *x = &m[NL_SIM_STREAM_EXTERN];
    NL_ASSERT_EQ(x->info.width, 288);
    NL_ASSERT_EQ(x->info.height, 160);
    NL_ASSERT_EQ(x->info.fps, 12);
    NL_ASSERT_EQ(x->first_key_index, 0);
    NL_ASSERT(x->decoded >= 6);
    NL_ASSERT_EQ(x->dec_w, 288);
    NL_ASSERT_EQ(x->dec_h, 160);
    NL_ASSERT(x->counter_ok >= 6);
    NL_ASSERT_EQ(x->counter_bad, 0);
    NL_ASSERT_EQ(x->ts_steps_bad, 0);
    nl_sim_stats st = th_stats(&h);
    NL_ASSERT_EQ(st.streams_active, 1);
    NL_ASSERT_EQ(st.streams_by_kind[NL_SIM_STREAM_EXTERN], 1);
    NL_ASSERT_EQ(st.streams_by_kind[NL_SIM_STREAM_MAIN] + st.streams_by_kind[NL_SIM_STREAM_SUB], 0);

    /* main and sub join on the same connection; all three keep flowing. */
    tm_init(&m[NL_SIM_STREAM_MAIN], tc_start(&c, 0, NL_BC_STREAM_MAIN), AV_CODEC_ID_H264);
    tm_init(&m[NL_SIM_STREAM_SUB], tc_start(&c, 0, NL_BC_STREAM_SUB), AV_CODEC_ID_H264);
    run_streams(&c, m, 3, 8 + 8, 15000);
    static const int want_w[3] = {320, 256, 288}, want_h[3] = {240, 144, 160};
    for (int k = 0; k < 3; k++) {
        printf("kind %d: %d video, %dx%d decoded %d counter ok %d bad %d\n", k, m[k].video,
               m[k].dec_w, m[k].dec_h, m[k].decoded, m[k].counter_ok, m[k].counter_bad);
        NL_ASSERT(m[k].video >= 16);
        NL_ASSERT_EQ((int)m[k].info.width, want_w[k]);
        NL_ASSERT_EQ((int)m[k].info.height, want_h[k]);
        NL_ASSERT_EQ(m[k].dec_w, want_w[k]);
        NL_ASSERT_EQ(m[k].dec_h, want_h[k]);
        NL_ASSERT_EQ(m[k].counter_bad, 0);
    }
    st = th_stats(&h);
    NL_ASSERT_EQ(st.streams_active, 3);
    for (int k = 0; k < NL_SIM_STREAM_KINDS; k++)
        NL_ASSERT_EQ(st.streams_by_kind[k], 1);
    NL_ASSERT_EQ(st.viewers, 3);
    char line[256];
    nl_sim_status_line(h.sim, line, sizeof line);
    NL_ASSERT(strstr(line, "(main 1 sub 1 extern 1)") != NULL);

    /* Stopping extern leaves main and sub running. */
    tc_stop(&c, m[NL_SIM_STREAM_EXTERN].corr, 0, NL_BC_STREAM_EXTERN);
    TH_WAIT_STATS(&h, st, 3000, st.streams_by_kind[NL_SIM_STREAM_EXTERN] == 0);
    NL_ASSERT_EQ(st.streams_by_kind[NL_SIM_STREAM_EXTERN], 0);
    NL_ASSERT_EQ(st.streams_active, 2);
    for (int k = 0; k < 3; k++)
        tm_free(&m[k]);
    tc_close(&c);
    TH_WAIT_STATS(&h, st, 2000, st.streams_active == 0);
    NL_ASSERT_EQ(st.streams_active, 0);
    th_stop(&h);
}

/* extern width 0: a camera without the third stream. It is not listed
 * and its Preview gets 400, while main and sub work as usual. */
static void test_no_extern(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.stream[NL_SIM_STREAM_EXTERN].width = 0;
    sim_harness h;
    th_start(&h, &cfg);
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 200);
    nl_bc_device_info di; /* the login reply's stream table: main and sub only */
    NL_ASSERT_OK(nl_bc_parse_device_info(tc_xml(&c), &di));
    NL_ASSERT_EQ(di.streams.count, 2);
    NL_ASSERT_STREQ(di.streams.t[1].type, "subStream");
    uint32_t x = tc_start(&c, 0, NL_BC_STREAM_EXTERN);
    NL_ASSERT_EQ(tc_expect_corr(&c, NL_BC_MSG_VIDEO, x, 3000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 400);
    NL_ASSERT_EQ(c.msg.hdr.body_len, 0);
    tmedia m;
    tm_init(&m, tc_start(&c, 0, NL_BC_STREAM_SUB), AV_CODEC_ID_H264);
    NL_ASSERT_EQ(tm_run(&m, &c, 3, 5000), 3);
    NL_ASSERT_EQ(m.info.width, 256);
    nl_sim_stats st = th_stats(&h);
    NL_ASSERT_EQ(st.streams_active, 1);
    NL_ASSERT_EQ(st.streams_by_kind[NL_SIM_STREAM_EXTERN], 0);
    tm_free(&m);
    tc_close(&c);
    th_stop(&h);
}

int main(void)
{
    NL_RUN(test_sub_h264_aac);
    NL_RUN(test_main_h265_chunks);
    NL_RUN(test_fullaes_adpcm);
    NL_RUN(test_shared_streams);
    NL_RUN(test_extern_three_on_one_conn);
    NL_RUN(test_no_extern);
    NL_DONE();
}
