/* Real VAAPI, when this machine has a usable render node: an h264_vaapi
 * encode context (no fallback allowed), its packets decoded back, and a
 * transcoder whose decoder and encoder share the device. Skips (exit 77)
 * with the reason when there is no /dev/dri/renderD*, libva cannot open it,
 * or the driver has no H.264 encode entrypoint. CI machines without a GPU
 * cover the software path and the fallback chain in test_hw_encoder. */
#include "hw_test_util.h"

#include "hw/device.h"

static char g_node[NL_HW_PATH_MAX];

static int usable_node(void)
{
    char why[NL_HW_REASON_MAX];
    if (nl__hw_find_render_node(NULL, g_node, sizeof g_node, why, sizeof why) < 0) {
        printf("SKIP: %s\n", why);
        return 0;
    }
    AVBufferRef *dev = NULL;
    if (nl__hw_device_open(g_node, &dev, NULL, 0, why, sizeof why) < 0) {
        printf("SKIP: %s\n", why);
        return 0;
    }
    int rc = nl__hw_device_check_encode(dev, NL_MEDIA_CODEC_H264, why, sizeof why);
    nl__hw_device_release(&dev);
    if (rc < 0) {
        printf("SKIP: %s: %s\n", g_node, why);
        return 0;
    }
    return 1;
}

static void test_vaapi_encode(nl_ctx *ctx)
{
    nl_hwenc_config c;
    nl_hwenc_config_init(&c);
    c.width = 320;
    c.height = 240;
    c.gop = 10;
    c.hwaccel = NL_HWACCEL_VAAPI;
    c.device = g_node;
    nl_hwenc *e = NULL;
    NL_ASSERT_OK(nl_hwenc_open(&e, ctx, NULL, &c));
    NL_ASSERT_EQ(nl_hwenc_backend(e), NL_HW_BACKEND_VAAPI);
    NL_ASSERT_STREQ(nl_hwenc_encoder_name(e), "h264_vaapi");
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_hwenc_codec_params(e, par));
    test_dec d = test_dec_open(AV_CODEC_ID_H264, par);
    AVFrame *f = av_frame_alloc();
    f->width = 320;
    f->height = 240;
    f->format = AV_PIX_FMT_YUV420P;
    NL_ASSERT_EQ(av_frame_get_buffer(f, 0), 0);
    AVPacket *pkt = av_packet_alloc();
    int packets = 0, frames = 0;
    for (int i = 0; i <= 30; i++) {
        if (i < 30) {
            NL_ASSERT_EQ(av_frame_make_writable(f), 0);
            for (int p = 0; p < 3; p++)
                memset(f->data[p], (40 + 5 * i) & 0xff, (size_t)f->linesize[p] * (p ? 120 : 240));
            f->pts = (int64_t)i * 40000;
        }
        NL_ASSERT_OK(nl_hwenc_send_frame(e, i < 30 ? f : NULL));
        while (nl_hwenc_receive_packet(e, pkt) == 0) {
            if (pkt->flags & AV_PKT_FLAG_KEY)
                NL_ASSERT(has_nal(pkt, 0, 7)); /* packed SPS at every IDR */
            frames += test_dec_run(&d, pkt, NULL, NULL);
            packets++;
            av_packet_unref(pkt);
        }
    }
    frames += test_dec_run(&d, NULL, NULL, NULL);
    NL_ASSERT_EQ(packets, 30);
    NL_ASSERT_EQ(frames, 30);
    test_dec_close(&d);
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_parameters_free(&par);
    nl_hwenc_close(&e, 2000);
}

/* Decoder (VAAPI hwaccel when the driver decodes H.264) and encoder share
 * the device; 50 synthesizer frames come out at 320x180. */
static void test_vaapi_transcoder(nl_ctx *ctx)
{
    nl_synth_video_config vc;
    nl_synth_video_config_sub(&vc);
    nl_synth_video *syn = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&syn, &vc));
    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    tc.input_codec = NL_MEDIA_CODEC_H264;
    tc.width = 320;
    tc.hwaccel = NL_HWACCEL_VAAPI;
    tc.device = g_node;
    tc.push_wait_ms = 10000;
    nl_transcoder *t = NULL;
    NL_ASSERT_OK(nl_transcoder_create(&t, ctx, NULL, &tc));
    AVPacket *pkt = av_packet_alloc();
    for (int i = 0; i < 50; i++) {
        NL_ASSERT_OK(nl_synth_video_next(syn, pkt));
        NL_ASSERT_EQ(nl_transcoder_push(t, pkt), 0);
        av_packet_unref(pkt);
    }
    NL_ASSERT_OK(nl_transcoder_finish(t));
    int n = 0, rc;
    while ((rc = nl_transcoder_receive(t, pkt, 20000)) == 0) {
        n++;
        av_packet_unref(pkt);
    }
    NL_ASSERT_EQ(rc, NL_EEOF);
    NL_ASSERT_EQ(n, 50);
    nl_transcoder_stats st;
    nl_transcoder_get_stats(t, &st, sizeof st);
    NL_ASSERT_EQ(st.backend, NL_HW_BACKEND_VAAPI);
    NL_ASSERT_EQ(st.width, 320);
    NL_ASSERT_EQ(st.height, 180);
    NL_ASSERT_OK(nl_transcoder_destroy(&t));
    av_packet_free(&pkt);
    nl_synth_video_destroy(&syn);
}

int main(void)
{
    if (!usable_node())
        return 77;
    nl_ctx *ctx = test_ctx();
    test_vaapi_encode(ctx);
    printf("ok test_vaapi_encode on %s\n", g_node);
    test_vaapi_transcoder(ctx);
    printf("ok test_vaapi_transcoder\n");
    wait_threads_gone();
    nl_hw_stats st;
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.devices_opened, st.devices_closed);
    NL_ASSERT_EQ(st.encoders_live, 0);
    nl_ctx_destroy(&ctx);
    NL_DONE();
}
