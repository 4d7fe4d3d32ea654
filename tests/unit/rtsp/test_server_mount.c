/* Mount API: argument checks, codecs the rtp muxer cannot carry, tracks that
 * are not ready yet, parameter sets learnt in band and set later, a codec
 * change disconnecting the clients, and the connection limit. */
#include <stdio.h>
#include <stdlib.h>

#include "test_server_harness.h"

static char rep[70000];
static char v[256];

#define URL(path) "rtsp://127.0.0.1/" path

static void test_mount_api(void)
{
    harness h;
    h_init(&h, NULL);
    AVCodecParameters *par = avcodec_parameters_alloc();
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_ADPCM_IMA_WAV;
    par->sample_rate = 8000;
    av_channel_layout_default(&par->ch_layout, 1);
    nl_rtsp_track_config tr = {par, {1, 1000000}};
    nl_rtsp_mount_config mc = {.path = "adpcm", .tracks = &tr, .n_tracks = 1};
    nl_rtsp_mount *m = NULL;
    /* rtpenc has no ADPCM packetizer (RTSP.md 1.2) */
    NL_ASSERT_EQ(nl_rtsp_mount_create(h.srv, &mc, &m), NL_ECODEC);
    NL_ASSERT(m == NULL);
    /* AAC without its AudioSpecificConfig: created, not ready, cannot push */
    par->codec_id = AV_CODEC_ID_AAC;
    par->sample_rate = 16000;
    mc.path = "aac";
    NL_ASSERT_OK(nl_rtsp_mount_create(h.srv, &mc, &m));
    NL_ASSERT(!nl_rtsp_mount_ready(m));
    uint8_t au[64] = {0x21, 0x10};
    AVPacket *pkt = av_packet_alloc();
    pkt->data = au;
    pkt->size = sizeof au;
    pkt->pts = 0;
    NL_ASSERT_EQ(nl_rtsp_mount_push(m, 0, pkt), NL_ESTATE);
    /* the config arrives later: ready, and pushes work */
    uint8_t asc[2] = {0x14, 0x08};
    par->extradata = av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(par->extradata, asc, 2);
    par->extradata_size = 2;
    NL_ASSERT_OK(nl_rtsp_mount_set_codecpar(m, 0, par));
    NL_ASSERT(nl_rtsp_mount_ready(m));
    NL_ASSERT_OK(nl_rtsp_mount_push(m, 0, pkt));
    pkt->pts = 64000;
    NL_ASSERT_OK(nl_rtsp_mount_push(m, 0, pkt));
    /* argument checks */
    NL_ASSERT_EQ(nl_rtsp_mount_push(m, 1, pkt), NL_EINVAL);
    pkt->pts = AV_NOPTS_VALUE;
    NL_ASSERT_EQ(nl_rtsp_mount_push(m, 0, pkt), NL_EINVAL);
    pkt->data = NULL;
    pkt->size = 0;
    av_packet_free(&pkt);
    NL_ASSERT_EQ(nl_rtsp_mount_create(h.srv, &mc, &m), NL_EEXIST);
    const char *bad[] = {"", "/", "a/../b", "sp ace", "q?x", "%41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc.path = bad[i];
        nl_rtsp_mount *x = NULL;
        NL_ASSERT_EQ(nl_rtsp_mount_create(h.srv, &mc, &x), NL_EINVAL);
    }
    mc.path = "ok";
    mc.n_tracks = 0;
    NL_ASSERT_EQ(nl_rtsp_mount_create(h.srv, &mc, &m), NL_EINVAL);
    nl_rtsp_mount_stats ms;
    nl_rtsp_server_stats ss;
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.mounts, 1);
    avcodec_parameters_free(&par);
    h_free(&h);
    (void)ms;
}

static void test_params_and_codec_change(void)
{
    harness h;
    h_init(&h, NULL);
    nl_rtsp_mount *cam = h_mount(&h, "cam", false, NULL);
    /* a keyframe WITHOUT parameter sets, while none are known: sent as is */
    h_make_au(&h, true, false, 100);
    NL_ASSERT_OK(nl_rtsp_mount_push(cam, 0, h.pkt));
    NL_ASSERT(!nl_rtsp_mount_ready(cam));
    /* then learnt from one that has them */
    h_push(&h, cam);
    NL_ASSERT(nl_rtsp_mount_ready(cam));
    int fd = h_connect(&h);
    h_rx rx = {0};
    NL_ASSERT_EQ(h_req(&h, fd, &rx,
                       "SETUP " URL("cam") " RTSP/1.0\r\nCSeq: 1\r\n"
                                           "Transport: RTP/AVP/TCP;unicast;interleaved=4-5\r\n\r\n",
                       rep, sizeof rep, NULL),
                 200);
    NL_ASSERT_STREQ(h_header(rep, "Transport", v, sizeof v), "RTP/AVP/TCP;unicast;interleaved=4-5");
    char sess[32], req[256];
    h_header(rep, "Session", sess, sizeof sess);
    sess[16] = '\0';
    snprintf(req, sizeof req, "PLAY " URL("cam") " RTSP/1.0\r\nCSeq: 2\r\nSession: %s\r\n\r\n",
             sess);
    /* the client starts on a keyframe that lacked SPS/PPS: they are put in
     * front (first packet: STAP-A with the SPS), on the client's channel 4 */
    h.frame = 0;
    h.key_every = 1000;
    h_send(fd, req, strlen(req));
    for (int i = 0; i < 10; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT_EQ(h_reply_len(&rx), 0); /* the answer waits for a keyframe */
    h_make_au(&h, true, false, 3000);
    h.pts += 40000;
    NL_ASSERT_OK(nl_rtsp_mount_push(cam, 0, h.pkt));
    NL_ASSERT(h_reply(&h, fd, &rx, rep, sizeof rep, NULL) > 0);
    NL_ASSERT_EQ(atoi(rep + 9), 200);
    for (int i = 0; i < 50 && rx.len < 20; i++)
        h_pump(&h, fd, &rx, NULL);
    NL_ASSERT_EQ(rx.buf[0], '$');
    NL_ASSERT_EQ(rx.buf[1], 4);
    NL_ASSERT_EQ((uint8_t)rx.buf[4 + 12] & 0x1f, 24);
    NL_ASSERT_EQ((uint8_t)rx.buf[4 + 15] & 0x1f, 7);
    /* a codec change: the clients are disconnected (they must DESCRIBE again) */
    AVCodecParameters *par = avcodec_parameters_alloc();
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = AV_CODEC_ID_HEVC;
    NL_ASSERT_OK(nl_rtsp_mount_set_codecpar(cam, 0, par));
    avcodec_parameters_free(&par);
    NL_ASSERT(!nl_rtsp_mount_ready(cam)); /* no VPS/SPS/PPS yet */
    for (int i = 0; i < 100 && !rx.eof; i++) {
        h_pump(&h, fd, &rx, NULL);
        rx.len = 0;
    }
    NL_ASSERT(rx.eof);
    close(fd);
    h_free(&h);
}

static void test_connection_limit(void)
{
    nl_rtsp_server_config cfg;
    nl_rtsp_server_config_init(&cfg);
    cfg.max_connections = 2;
    harness h;
    h_init(&h, &cfg);
    int fds[3];
    h_rx rx[3];
    memset(rx, 0, sizeof rx);
    for (int i = 0; i < 3; i++)
        fds[i] = h_connect(&h);
    for (int i = 0; i < 2; i++)
        NL_ASSERT_EQ(h_req(&h, fds[i], &rx[i], "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", rep,
                           sizeof rep, NULL),
                     200);
    NL_ASSERT_EQ(
        h_req(&h, fds[2], &rx[2], "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n", rep, sizeof rep, NULL),
        503);
    NL_ASSERT(strncmp(rep, "RTSP/1.0 503 Too many connections\r\n", 35) == 0);
    for (int i = 0; i < 100 && !rx[2].eof; i++)
        h_pump(&h, fds[2], &rx[2], NULL);
    NL_ASSERT(rx[2].eof);
    nl_rtsp_server_stats ss;
    nl_rtsp_server_get_stats(h.srv, &ss);
    NL_ASSERT_EQ(ss.connections, 2);
    NL_ASSERT_EQ(ss.refused, 1);
    NL_ASSERT_EQ(ss.accepted, 3);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    h_free(&h);
}

int main(void)
{
    NL_RUN(test_mount_api);
    NL_RUN(test_params_and_codec_change);
    NL_RUN(test_connection_limit);
    NL_DONE();
}
