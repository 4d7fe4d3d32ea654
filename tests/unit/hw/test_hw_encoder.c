/* Encode contexts: the VAAPI -> software fallback chain, step by step, on a
 * machine with or without a GPU (the device paths used here never are one),
 * what a software context produces (parameter sets in every IDR and in the
 * extradata, pts kept, key frames at the GOP), arena ownership and the
 * bounded close. */
#include "hw_test_util.h"

#include "hw/device.h"
#include "neolink/arena.h"

static nl_ctx *g_ctx;

static void base_cfg(nl_hwenc_config *c)
{
    nl_hwenc_config_init(c);
    c->width = 160;
    c->height = 96;
    c->fps = 25;
    c->gop = 10;
    c->threads = 1;
}

static AVFrame *gray_frame(int w, int h, enum AVPixelFormat fmt, int64_t pts, int shade)
{
    AVFrame *f = av_frame_alloc();
    f->width = w;
    f->height = h;
    f->format = fmt;
    NL_ASSERT_EQ(av_frame_get_buffer(f, 0), 0);
    for (int p = 0; p < 3 && f->data[p]; p++) {
        int ph = p ? h / 2 : h;
        for (int y = 0; y < ph; y++)
            memset(f->data[p] + y * f->linesize[p], p ? 128 : (shade + y + (int)pts) & 0xff,
                   (size_t)f->linesize[p]);
    }
    f->pts = pts;
    return f;
}

/* Encodes n frames, flushes, returns the packets' count; checks pts and
 * parameter sets as it goes. */
static int encode_some(nl_hwenc *e, int n, int w, int h, enum AVPixelFormat fmt, int h265, int gop)
{
    AVPacket *pkt = av_packet_alloc();
    int got = 0, keys = 0;
    for (int i = 0; i <= n; i++) {
        AVFrame *f = i < n ? gray_frame(w, h, fmt, (int64_t)i * 40000, 40) : NULL;
        NL_ASSERT_OK(nl_hwenc_send_frame(e, f));
        av_frame_free(&f);
        int rc;
        while ((rc = nl_hwenc_receive_packet(e, pkt)) == 0) {
            NL_ASSERT_EQ(pkt->pts, (int64_t)got * 40000); /* µs in, µs out, in order */
            NL_ASSERT_EQ(pkt->dts, pkt->pts);
            int key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
            NL_ASSERT_EQ(key, got % gop == 0);
            if (key) {
                keys++;
                /* SPS (7) / PPS (8), or VPS (32) / SPS (33) / PPS (34), in band */
                NL_ASSERT(has_nal(pkt, h265, h265 ? 33 : 7));
                NL_ASSERT(has_nal(pkt, h265, h265 ? 34 : 8));
                if (h265)
                    NL_ASSERT(has_nal(pkt, h265, 32));
            }
            got++;
            av_packet_unref(pkt);
        }
        NL_ASSERT(rc == NL_EAGAIN || rc == NL_EEOF);
    }
    NL_ASSERT_EQ(nl_hwenc_receive_packet(e, pkt), NL_EEOF);
    NL_ASSERT_EQ(keys, (n + gop - 1) / gop);
    av_packet_free(&pkt);
    return got;
}

static void check_params(nl_hwenc *e, enum AVCodecID id, int w, int h)
{
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_hwenc_codec_params(e, par));
    NL_ASSERT_EQ(par->codec_id, id);
    NL_ASSERT_EQ(par->width, w);
    NL_ASSERT_EQ(par->height, h);
    /* Annex-B extradata for the SDP's sprop-parameter-sets. */
    NL_ASSERT(par->extradata_size > 8);
    NL_ASSERT(par->extradata[0] == 0 && par->extradata[1] == 0);
    AVPacket fake = {.data = par->extradata, .size = par->extradata_size};
    int h265 = id == AV_CODEC_ID_HEVC;
    NL_ASSERT(has_nal(&fake, h265, h265 ? 33 : 7));
    NL_ASSERT(has_nal(&fake, h265, h265 ? 34 : 8));
    avcodec_parameters_free(&par);
}

static void test_missing_device_falls_back(void)
{
    nl_hw_stats before, after;
    nl_hw_get_stats(&before, sizeof before);
    nl_hwenc_config c;
    base_cfg(&c);
    c.name = "fb";
    c.device = "/nonexistent/dri/renderD200";
    log_clear();
    nl_hwenc *e = NULL;
    NL_ASSERT_OK(nl_hwenc_open(&e, g_ctx, NULL, &c));
    NL_ASSERT_EQ(nl_hwenc_backend(e), NL_HW_BACKEND_SOFTWARE);
    NL_ASSERT_STREQ(nl_hwenc_encoder_name(e), "libx264");
    const char *why = nl_hwenc_fallback_reason(e);
    NL_ASSERT(strncmp(why, "device missing: /nonexistent/dri/renderD200: No such file", 57) == 0);
    /* The log names the step that failed, and the context. */
    NL_ASSERT(log_has("[hwenc fb] VAAPI unavailable, falling back to software: device missing: "
                      "/nonexistent/dri/renderD200: No such file or directory"));
    NL_ASSERT_EQ(encode_some(e, 12, 160, 96, AV_PIX_FMT_YUV420P, 0, 10), 12);
    check_params(e, AV_CODEC_ID_H264, 160, 96);
    NL_ASSERT_OK(nl_hwenc_close(&e, NL_HW_WAIT_FOREVER));
    NL_ASSERT(e == NULL);
    nl_hw_get_stats(&after, sizeof after);
    NL_ASSERT_EQ(after.fallbacks - before.fallbacks, 1);
    NL_ASSERT_EQ(after.encoders_software - before.encoders_software, 1);
    NL_ASSERT_EQ(after.encoders_opened - before.encoders_opened, 1);
    NL_ASSERT_EQ(after.encoders_closed - before.encoders_closed, 1);
    NL_ASSERT_EQ(after.encoders_live, 0);
    NL_ASSERT_EQ(after.devices_opened, after.devices_closed);
}

/* /dev/null exists but is no DRM device: step 2 (device init) fails. */
static void test_device_init_failure(void)
{
    nl_hwenc_config c;
    base_cfg(&c);
    c.device = "/dev/null";
    log_clear();
    nl_hwenc *e = NULL;
    NL_ASSERT_OK(nl_hwenc_open(&e, g_ctx, NULL, &c));
    NL_ASSERT_EQ(nl_hwenc_backend(e), NL_HW_BACKEND_SOFTWARE);
    NL_ASSERT(strncmp(nl_hwenc_fallback_reason(e), "device init: av_hwdevice_ctx_create(/dev/null)",
                      46) == 0);
    NL_ASSERT(log_has("[hwenc] VAAPI unavailable, falling back to software: device init: "));
    nl_hwenc_close(&e, NL_HW_WAIT_FOREVER);
    nl_hw_stats st;
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.devices_opened, st.devices_closed);
}

/* hwaccel vaapi: no fallback, NL_EHW and an ERROR line naming the step. */
static void test_forced_vaapi_fails(void)
{
    nl_hwenc_config c;
    base_cfg(&c);
    c.hwaccel = NL_HWACCEL_VAAPI;
    c.device = "/nonexistent/renderD128";
    c.codec = NL_MEDIA_CODEC_H265;
    log_clear();
    nl_hwenc *e = (nl_hwenc *)1;
    NL_ASSERT_EQ(nl_hwenc_open(&e, g_ctx, NULL, &c), NL_EHW);
    NL_ASSERT(e == NULL);
    NL_ASSERT(log_has("VAAPI H.265 encoder unavailable (hwaccel vaapi, no fallback): device "
                      "missing: /nonexistent/renderD128"));
    nl_hw_stats st;
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.encoders_live, 0); /* the half-open context was released */
}

/* hwaccel software: no device is touched, no reason, H.265 via libx265;
 * input in another size and format is converted. */
static void test_software_h265_converts(void)
{
    if (under_valgrind()) {
        printf("  libx265 skipped under valgrind (its SIMD code reads past its buffers)\n");
        return;
    }
    nl_hw_stats before, after;
    nl_hw_get_stats(&before, sizeof before);
    nl_hwenc_config c;
    base_cfg(&c);
    c.hwaccel = NL_HWACCEL_SOFTWARE;
    c.codec = NL_MEDIA_CODEC_H265;
    c.rc = NL_HW_RC_CQP;
    c.qp = 30;
    nl_hwenc *e = NULL;
    NL_ASSERT_OK(nl_hwenc_open(&e, g_ctx, NULL, &c));
    NL_ASSERT_EQ(nl_hwenc_backend(e), NL_HW_BACKEND_SOFTWARE);
    NL_ASSERT_STREQ(nl_hwenc_encoder_name(e), "libx265");
    NL_ASSERT_STREQ(nl_hwenc_fallback_reason(e), "");
    /* NV12 at twice the size goes through the scaler. */
    NL_ASSERT_EQ(encode_some(e, 11, 320, 192, AV_PIX_FMT_NV12, 1, 10), 11);
    check_params(e, AV_CODEC_ID_HEVC, 160, 96);
    nl_hwenc_close(&e, NL_HW_WAIT_FOREVER);
    nl_hw_get_stats(&after, sizeof after);
    NL_ASSERT_EQ(after.devices_opened, before.devices_opened);
    NL_ASSERT_EQ(after.fallbacks, before.fallbacks);
}

static void test_bad_config(void)
{
    nl_hwenc *e = NULL;
    nl_hwenc_config c;
    base_cfg(&c);
    c.width = 161; /* odd */
    NL_ASSERT_EQ(nl_hwenc_open(&e, g_ctx, NULL, &c), NL_ECONFIG);
    base_cfg(&c);
    c.height = 8;
    NL_ASSERT_EQ(nl_hwenc_open(&e, g_ctx, NULL, &c), NL_ECONFIG);
    base_cfg(&c);
    c.codec = NL_MEDIA_CODEC_AAC;
    NL_ASSERT_EQ(nl_hwenc_open(&e, g_ctx, NULL, &c), NL_ECONFIG);
    base_cfg(&c);
    c.fps = 1000;
    NL_ASSERT_EQ(nl_hwenc_open(&e, g_ctx, NULL, &c), NL_ECONFIG);
    base_cfg(&c);
    c.hwaccel = (nl_hwaccel)7;
    NL_ASSERT_EQ(nl_hwenc_open(&e, g_ctx, NULL, &c), NL_ECONFIG);
    NL_ASSERT_EQ(nl_hwenc_open(NULL, g_ctx, NULL, &c), NL_EINVAL);
    NL_ASSERT_EQ(nl_hwenc_open(&e, g_ctx, NULL, NULL), NL_EINVAL);
    NL_ASSERT(e == NULL);
    NL_ASSERT_OK(nl_hwenc_close(NULL, 0));
    NL_ASSERT_OK(nl_hwenc_close(&e, 0));
}

/* Destroying the owner arena closes the context; closing it first cancels
 * the owner's handler (no double close). */
static void test_owner_arena(void)
{
    nl_hw_stats before, after;
    nl_hw_get_stats(&before, sizeof before);
    nl_arena *owner = NULL;
    NL_ASSERT_OK(nl_arena_create(&owner, NULL, 0, "session"));
    nl_hwenc_config c;
    base_cfg(&c);
    c.hwaccel = NL_HWACCEL_SOFTWARE;
    nl_hwenc *a = NULL, *b = NULL;
    NL_ASSERT_OK(nl_hwenc_open(&a, g_ctx, owner, &c));
    NL_ASSERT_OK(nl_hwenc_open(&b, g_ctx, owner, &c));
    nl_arena_stats as;
    nl_arena_get_stats(owner, &as);
    NL_ASSERT_EQ(as.cleanups, 2);
    nl_hw_get_stats(&after, sizeof after);
    NL_ASSERT_EQ(after.encoders_live, 2);
    NL_ASSERT_OK(nl_hwenc_close(&a, 2000)); /* on a helper thread */
    nl_arena_get_stats(owner, &as);
    NL_ASSERT_EQ(as.cleanups, 1);
    nl_arena_destroy(&owner); /* closes b */
    nl_hw_get_stats(&after, sizeof after);
    NL_ASSERT_EQ(after.encoders_live, 0);
    NL_ASSERT_EQ(after.encoders_closed - before.encoders_closed, 2);
    NL_ASSERT_EQ(after.workers_running, 0);
    NL_ASSERT_EQ(after.workers_abandoned, before.workers_abandoned);
}

static void test_find_render_node(void)
{
    char path[64], why[128];
    char dir[] = "/tmp/nl_hw_dri_XXXXXX";
    NL_ASSERT(mkdtemp(dir) != NULL);
    NL_ASSERT_EQ(nl__hw_find_render_node(dir, path, sizeof path, why, sizeof why), NL_ENOENT);
    NL_ASSERT(strstr(why, "device missing: no renderD* node in /tmp/nl_hw_dri_") == why);
    char f[128];
    const char *names[] = {"card0", "renderD129", "renderD128x", "renderD130"};
    for (int i = 0; i < 4; i++) {
        snprintf(f, sizeof f, "%s/%s", dir, names[i]);
        FILE *fp = fopen(f, "w");
        NL_ASSERT(fp != NULL);
        fclose(fp);
    }
    NL_ASSERT_OK(nl__hw_find_render_node(dir, path, sizeof path, why, sizeof why));
    snprintf(f, sizeof f, "%s/renderD129", dir);
    NL_ASSERT_STREQ(path, f);
    for (int i = 0; i < 4; i++) {
        snprintf(f, sizeof f, "%s/%s", dir, names[i]);
        unlink(f);
    }
    rmdir(dir);
    NL_ASSERT_EQ(nl__hw_find_render_node("/nonexistent-dir", path, sizeof path, why, sizeof why),
                 NL_ENOENT);
    NL_ASSERT(strstr(why, "device missing: /nonexistent-dir: No such file") == why);
}

int main(void)
{
    g_ctx = test_ctx();
    NL_RUN(test_missing_device_falls_back);
    NL_RUN(test_device_init_failure);
    NL_RUN(test_forced_vaapi_fails);
    NL_RUN(test_software_h265_converts);
    NL_RUN(test_bad_config);
    NL_RUN(test_owner_arena);
    NL_RUN(test_find_render_node);
    nl_ctx_destroy(&g_ctx);
    NL_DONE();
}
