/* Transcoders end to end, software path: H.265 from the synthesizer ->
 * H.264 at 320x180 on the worker thread, delivered on a real nl_loop, then
 * decoded back with libavcodec (frame count, size, pts, parameter sets in
 * every IDR, picture close to a plain downscale of the input). Also pull
 * mode with a frame-rate cap, and a full input queue dropping whole GOPs
 * while the worker is held inside the encoder.
 *
 * Under valgrind (NL_UNDER_VALGRIND) libx265 is not used (its SIMD code
 * reads past its buffers, see tests/unit/sim/test_synth.c) and the clips are
 * shorter: the input is H.264 and the H.265 output case encodes H.264. The
 * code paths of lib/hw are the same; the frame counts scale down. */
#include <math.h>

#include <libswscale/swscale.h>

#include "hw_test_util.h"

#include "hw/transcoder.h"
#include "hw_test_gate.h"
#include "loop/loop_int.h"
#include "neolink/loop.h"

#define IN_W   640
#define IN_H   360
#define OUT_W  320
#define OUT_H  180
#define FRAMES 120 /* 30 under valgrind */
#define GOP_IN 25

static nl_ctx *g_ctx;

/* ------------------------------------------------------------ input */

typedef struct clip {
    AVPacket *pkt[FRAMES];
    int n;
    enum AVCodecID codec;
} clip;

static void clip_make(clip *c, enum AVCodecID codec, int w, int h, int n)
{
    nl_synth_video_config vc;
    nl_synth_video_config_sub(&vc);
    vc.codec = codec;
    vc.width = w;
    vc.height = h;
    vc.fps = 25;
    vc.gop = GOP_IN;
    vc.start_us = 1000000; /* camera clocks do not start at 0 */
    nl_synth_video *s = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&s, &vc));
    for (int i = 0; i < n; i++) {
        c->pkt[i] = av_packet_alloc();
        NL_ASSERT_OK(nl_synth_video_next(s, c->pkt[i]));
        NL_ASSERT_EQ((c->pkt[i]->flags & AV_PKT_FLAG_KEY) != 0, i % GOP_IN == 0);
    }
    c->n = n;
    c->codec = codec;
    nl_synth_video_destroy(&s);
}

static void clip_free(clip *c)
{
    for (int i = 0; i < c->n; i++)
        av_packet_free(&c->pkt[i]);
}

static int64_t in_pts(int i)
{
    return 1000000 + (int64_t)i * 40000;
}

/* ------------------------------------------------------------ output */

typedef struct sink {
    AVPacket *pkt[FRAMES + 8];
    int n;
    AVCodecParameters *par;
    int params_calls;
    int params_before_first_packet;
    int ended;
    int end_error;
} sink;

static void sink_params(void *ud, nl_transcoder *t, const AVCodecParameters *par)
{
    sink *s = ud;
    s->params_calls++;
    s->params_before_first_packet = s->n == 0;
    if (!s->par)
        s->par = avcodec_parameters_alloc();
    NL_ASSERT(avcodec_parameters_copy(s->par, par) >= 0);
}

static void sink_packet(void *ud, nl_transcoder *t, AVPacket *pkt)
{
    sink *s = ud;
    NL_ASSERT(s->n < FRAMES + 8);
    s->pkt[s->n] = av_packet_alloc();
    av_packet_move_ref(s->pkt[s->n], pkt);
    s->n++;
}

static void sink_end(void *ud, nl_transcoder *t, int error)
{
    sink *s = ud;
    s->ended = 1;
    s->end_error = error;
}

static void sink_free(sink *s)
{
    for (int i = 0; i < s->n; i++)
        av_packet_free(&s->pkt[i]);
    avcodec_parameters_free(&s->par);
}

/* Decoded output frames are compared with the input decoded and scaled
 * down by swscale: the transcoder must show the same pictures. */
typedef struct compare {
    AVFrame *ref[FRAMES];
    int nref;
    int nout;
    double psnr_sum;
    double psnr_min;
    int bad_size;
} compare;

static void collect_ref(void *ud, const AVFrame *f)
{
    compare *c = ud;
    AVFrame *small = av_frame_alloc();
    small->width = OUT_W;
    small->height = OUT_H;
    small->format = AV_PIX_FMT_YUV420P;
    NL_ASSERT_EQ(av_frame_get_buffer(small, 0), 0);
    struct SwsContext *sws = sws_getContext(f->width, f->height, f->format, OUT_W, OUT_H,
                                            AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
    sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, small->data,
              small->linesize);
    sws_freeContext(sws);
    small->pts = f->pts;
    c->ref[c->nref++] = small;
}

static void compare_out(void *ud, const AVFrame *f)
{
    compare *c = ud;
    if (f->width != OUT_W || f->height != OUT_H) {
        c->bad_size++;
        return;
    }
    NL_ASSERT(c->nout < c->nref);
    double p = luma_psnr(f, c->ref[c->nout]);
    c->psnr_sum += p;
    if (c->nout == 0 || p < c->psnr_min)
        c->psnr_min = p;
    c->nout++;
}

static void run_loop_until(nl_loop *loop, int *flag, int timeout_s)
{
    uint64_t end = nl_time_mono_ns() + (uint64_t)timeout_s * NL_NS_PER_S;
    while (!*flag && nl_time_mono_ns() < end)
        nl_loop_run_once(loop, 50);
    NL_ASSERT(*flag);
}

static void test_h265_to_h264_320x180(void)
{
    const int vg = under_valgrind();
    const int frames = vg ? 30 : FRAMES;
    clip in;
    clip_make(&in, vg ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC, IN_W, IN_H, frames);
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    sink out = {0};
    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    tc.name = "cam1/main";
    tc.input_codec = vg ? NL_MEDIA_CODEC_H264 : NL_MEDIA_CODEC_H265;
    tc.codec = NL_MEDIA_CODEC_H264;
    tc.width = OUT_W; /* height 0: keep 16:9 -> 180 */
    tc.hwaccel = NL_HWACCEL_AUTO;
    tc.device = "/nonexistent/renderD128"; /* the fallback path, also on GPU hosts */
    tc.queue_packets = FRAMES + 8;         /* this test is about pictures, not drops */
    tc.output_packets = FRAMES + 8;
    tc.loop = loop;
    tc.ud = &out;
    tc.on_params = sink_params;
    tc.on_packet = sink_packet;
    tc.on_end = sink_end;
    nl_transcoder *t = NULL;
    NL_ASSERT_OK(nl_transcoder_create(&t, g_ctx, NULL, &tc));
    for (int i = 0; i < in.n; i++)
        NL_ASSERT_EQ(nl_transcoder_push(t, in.pkt[i]), 0);
    NL_ASSERT_OK(nl_transcoder_finish(t));
    NL_ASSERT_EQ(nl_transcoder_finish(t), NL_ESTATE);
    NL_ASSERT_EQ(nl_transcoder_push(t, in.pkt[0]), NL_ESTATE);
    run_loop_until(loop, &out.ended, 90);
    NL_ASSERT_EQ(out.end_error, 0);

    nl_transcoder_stats st;
    NL_ASSERT_OK(nl_transcoder_get_stats(t, &st, sizeof st));
    NL_ASSERT_EQ(st.packets_in, frames);
    NL_ASSERT_EQ(st.packets_dropped, 0);
    NL_ASSERT_EQ(st.frames_decoded, frames);
    NL_ASSERT_EQ(st.decode_errors, 0);
    NL_ASSERT_EQ(st.packets_out, frames);
    NL_ASSERT_EQ(st.backend, NL_HW_BACKEND_SOFTWARE);
    NL_ASSERT_EQ(st.width, OUT_W);
    NL_ASSERT_EQ(st.height, OUT_H);
    NL_ASSERT(log_has("[hwenc cam1/main] VAAPI unavailable, falling back to software: device "
                      "missing: /nonexistent/renderD128"));
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_transcoder_codec_params(t, par));
    NL_ASSERT_EQ(par->width, OUT_W);
    avcodec_parameters_free(&par);
    NL_ASSERT_OK(nl_transcoder_destroy(&t));
    NL_ASSERT(t == NULL);

    /* Parameters came once, before the first packet, with SPS/PPS. */
    NL_ASSERT_EQ(out.params_calls, 1);
    NL_ASSERT(out.params_before_first_packet);
    NL_ASSERT_EQ(out.par->codec_id, AV_CODEC_ID_H264);
    NL_ASSERT_EQ(out.par->width, OUT_W);
    NL_ASSERT_EQ(out.par->height, OUT_H);
    AVPacket xd = {.data = out.par->extradata, .size = out.par->extradata_size};
    NL_ASSERT(has_nal(&xd, 0, 7) && has_nal(&xd, 0, 8));

    /* Packets: one per input frame, same pts, IDR (with SPS/PPS in band)
     * every 50 frames (2 s at the input's 25 fps). */
    NL_ASSERT_EQ(out.n, frames);
    for (int i = 0; i < out.n; i++) {
        NL_ASSERT_EQ(out.pkt[i]->pts, in_pts(i));
        NL_ASSERT_EQ(out.pkt[i]->dts, in_pts(i));
        int key = (out.pkt[i]->flags & AV_PKT_FLAG_KEY) != 0;
        NL_ASSERT_EQ(key, i % 50 == 0);
        NL_ASSERT_EQ(has_nal(out.pkt[i], 0, 7), key);
        NL_ASSERT_EQ(has_nal(out.pkt[i], 0, 8), key);
        NL_ASSERT_EQ(has_nal(out.pkt[i], 0, 5), key); /* IDR slice */
    }

    /* Decode both sides: >= 100 frames at 320x180 that look like the input. */
    compare cmp = {0};
    test_dec din = test_dec_open(in.codec, NULL);
    for (int i = 0; i < in.n; i++)
        test_dec_run(&din, in.pkt[i], collect_ref, &cmp);
    test_dec_run(&din, NULL, collect_ref, &cmp);
    test_dec_close(&din);
    NL_ASSERT_EQ(cmp.nref, frames);
    test_dec dout = test_dec_open(AV_CODEC_ID_H264, out.par);
    int decoded = 0;
    for (int i = 0; i < out.n; i++)
        decoded += test_dec_run(&dout, out.pkt[i], compare_out, &cmp);
    decoded += test_dec_run(&dout, NULL, compare_out, &cmp);
    test_dec_close(&dout);
    NL_ASSERT(decoded >= 100 || vg);
    NL_ASSERT_EQ(decoded, frames);
    NL_ASSERT_EQ(cmp.bad_size, 0);
    double mean = cmp.psnr_sum / cmp.nout;
    printf("  decoded %d frames at %dx%d, luma PSNR vs swscale of the input: mean %.1f dB, "
           "min %.1f dB\n",
           decoded, OUT_W, OUT_H, mean, cmp.psnr_min);
    NL_ASSERT(mean > 28.0);
    NL_ASSERT(cmp.psnr_min > 22.0);
    for (int i = 0; i < cmp.nref; i++)
        av_frame_free(&cmp.ref[i]);
    sink_free(&out);
    nl_loop_destroy(&loop);
    clip_free(&in);
}

/* Pull mode, 25 -> 10 fps, H.264 -> H.265 at 256x144 (height given, width from the aspect). */
static void test_pull_mode_fps_cap(void)
{
    const int vg = under_valgrind();
    const int n_in = vg ? 50 : 100;
    clip in;
    clip_make(&in, AV_CODEC_ID_H264, IN_W, IN_H, n_in);
    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    tc.input_codec = NL_MEDIA_CODEC_H264;
    tc.codec = vg ? NL_MEDIA_CODEC_H264 : NL_MEDIA_CODEC_H265;
    tc.height = 144;
    tc.fps = 10;
    tc.hwaccel = NL_HWACCEL_SOFTWARE;
    tc.queue_packets = 4;
    tc.push_wait_ms = 10000; /* batch job: wait for room instead of dropping */
    nl_transcoder *t = NULL;
    NL_ASSERT_OK(nl_transcoder_create(&t, g_ctx, NULL, &tc));
    AVPacket *pkt = av_packet_alloc();
    NL_ASSERT_EQ(nl_transcoder_receive(t, pkt, 0), NL_EAGAIN);
    NL_ASSERT_EQ(nl_transcoder_codec_params(t, NULL), NL_EINVAL);
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_EQ(nl_transcoder_codec_params(t, par), NL_EAGAIN); /* no frame decoded yet */
    for (int i = 0; i < in.n; i++)
        NL_ASSERT_EQ(nl_transcoder_push(t, in.pkt[i]), 0);
    NL_ASSERT_OK(nl_transcoder_finish(t));
    int64_t pts[64];
    int n = 0, rc;
    while ((rc = nl_transcoder_receive(t, pkt, 30000)) == 0) {
        NL_ASSERT(n < 64);
        pts[n++] = pkt->pts;
        NL_ASSERT_EQ((pkt->flags & AV_PKT_FLAG_KEY) != 0, n == 1 || (n - 1) % 20 == 0);
        av_packet_unref(pkt);
    }
    NL_ASSERT_EQ(rc, NL_EEOF);
    /* 100 frames over 4 s at 25 fps -> 10 fps keeps 40 (50 -> 20). */
    NL_ASSERT_EQ(n, n_in * 2 / 5);
    for (int i = 1; i < n; i++) {
        int64_t d = pts[i] - pts[i - 1];
        NL_ASSERT(d == 80000 || d == 120000); /* 2 or 3 input frames: 100 ms on average */
    }
    NL_ASSERT_EQ(pts[0], in_pts(0));
    /* kept: 0, 80, 200, 280, ... 3880 ms (1880 for 50 frames) */
    NL_ASSERT_EQ(pts[n - 1] - pts[0], (int64_t)(n_in / 5 - 1) * 200000 + 80000);
    nl_transcoder_stats st;
    nl_transcoder_get_stats(t, &st, sizeof st);
    NL_ASSERT_EQ(st.frames_decoded, n_in);
    NL_ASSERT_EQ(st.frames_skipped, n_in - n_in * 2 / 5);
    NL_ASSERT_EQ(st.width, 256);
    NL_ASSERT_EQ(st.height, 144);
    NL_ASSERT_OK(nl_transcoder_codec_params(t, par));
    NL_ASSERT_EQ(par->codec_id, vg ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC);
    NL_ASSERT_EQ(par->width, 256);
    avcodec_parameters_free(&par);
    av_packet_free(&pkt);
    NL_ASSERT_OK(nl_transcoder_destroy(&t));
    clip_free(&in);
}

/* While the worker is held inside the encoder, a small input queue fills and
 * drops whole GOPs: the output is GOP 0's first 9 frames, then GOP 2 from its
 * key frame, and every packet decodes. */
static void test_full_queue_drops_gops(void)
{
    clip in;
    clip_make(&in, AV_CODEC_ID_H264, 256, 144, 75);
    gate g = GATE_INIT;
    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    tc.input_codec = NL_MEDIA_CODEC_H264;
    tc.hwaccel = NL_HWACCEL_SOFTWARE;
    tc.queue_packets = 8;
    tc.gop = 25;
    tc.threads = 1; /* no frame-threading delay: packet 0 reaches the encoder alone */
    nl_transcoder *t = NULL;
    NL_ASSERT_OK(nl__transcoder_create_hooked(&t, g_ctx, NULL, &tc, gate_hook, &g));
    NL_ASSERT_EQ(nl_transcoder_push(t, in.pkt[0]), 0);
    NL_ASSERT(gate_wait_entered(&g, 1)); /* frame 0 is "inside the encoder" */
    int dropped = 0;
    for (int i = 1; i <= 30; i++)
        dropped += nl_transcoder_push(t, in.pkt[i]) == 1;
    NL_ASSERT_EQ(dropped, 22); /* 1..8 fit; 9..30 dropped, key frame 25 too (still full) */
    gate_open(&g);
    nl_transcoder_stats st;
    for (int i = 0; i < 500; i++) {
        nl_transcoder_get_stats(t, &st, sizeof st);
        if (st.queue_depth == 0)
            break;
        sleep_ms(10);
    }
    /* Paced from here: 31..49 are still skipped (no key frame yet), 50 resumes. */
    for (int i = 31; i < 75; i++) {
        for (int k = 0; k < 1000; k++) {
            nl_transcoder_get_stats(t, &st, sizeof st);
            if (st.queue_depth < 7)
                break;
            sleep_ms(2);
        }
        NL_ASSERT_EQ(nl_transcoder_push(t, in.pkt[i]), i < 50 ? 1 : 0);
    }
    NL_ASSERT_OK(nl_transcoder_finish(t));
    AVPacket *pkt = av_packet_alloc();
    AVPacket *outs[75];
    int n = 0, rc;
    while ((rc = nl_transcoder_receive(t, pkt, 30000)) == 0) {
        outs[n] = av_packet_alloc();
        av_packet_move_ref(outs[n++], pkt);
    }
    NL_ASSERT_EQ(rc, NL_EEOF);
    NL_ASSERT_EQ(n, 9 + 25);
    for (int i = 0; i < n; i++)
        NL_ASSERT_EQ(outs[i]->pts, in_pts(i < 9 ? i : 50 + (i - 9)));
    nl_transcoder_get_stats(t, &st, sizeof st);
    NL_ASSERT_EQ(st.packets_in, 34);
    NL_ASSERT_EQ(st.packets_dropped, 41);
    NL_ASSERT_EQ(st.gops_dropped, 1);
    NL_ASSERT_EQ(st.decode_errors, 0);
    NL_ASSERT_EQ(st.frames_decoded, 34);
    /* The output decodes without a single error. */
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_transcoder_codec_params(t, par));
    test_dec d = test_dec_open(AV_CODEC_ID_H264, par);
    int frames = 0;
    for (int i = 0; i < n; i++) {
        frames += test_dec_run(&d, outs[i], NULL, NULL);
        NL_ASSERT_EQ(d.f->decode_error_flags, 0);
        av_packet_free(&outs[i]);
    }
    frames += test_dec_run(&d, NULL, NULL, NULL);
    NL_ASSERT_EQ(frames, 34);
    test_dec_close(&d);
    avcodec_parameters_free(&par);
    av_packet_free(&pkt);
    NL_ASSERT_OK(nl_transcoder_destroy(&t));
    clip_free(&in);
}

static void test_bad_config(void)
{
    nl_transcoder *t = NULL;
    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    NL_ASSERT_EQ(nl_transcoder_create(&t, g_ctx, NULL, &tc), NL_ECONFIG); /* no input codec */
    tc.input_codec = NL_MEDIA_CODEC_ADPCM;
    NL_ASSERT_EQ(nl_transcoder_create(&t, g_ctx, NULL, &tc), NL_ECONFIG);
    tc.input_codec = NL_MEDIA_CODEC_H264;
    tc.width = 8;
    NL_ASSERT_EQ(nl_transcoder_create(&t, g_ctx, NULL, &tc), NL_ECONFIG);
    tc.width = 0;
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    tc.loop = loop;
    tc.push_wait_ms = 10; /* would block the loop */
    NL_ASSERT_EQ(nl_transcoder_create(&t, g_ctx, NULL, &tc), NL_EINVAL);
    NL_ASSERT(t == NULL);
    /* Created and destroyed without input: the worker exits at once. */
    tc.push_wait_ms = 0;
    nl_arena *owner = NULL;
    NL_ASSERT_OK(nl_arena_create(&owner, NULL, 0, "session"));
    NL_ASSERT_OK(nl_transcoder_create(&t, g_ctx, owner, &tc));
    NL_ASSERT_EQ(nl_loop_io_count(loop), 1); /* its wakeup fd */
    nl_arena_destroy(&owner);                /* destroys the transcoder */
    NL_ASSERT_EQ(nl_loop_io_count(loop), 0);
    nl_loop_destroy(&loop);
    NL_ASSERT_OK(nl_transcoder_destroy(NULL));
}

int main(void)
{
    g_ctx = test_ctx();
    NL_RUN(test_bad_config);
    NL_RUN(test_h265_to_h264_320x180);
    NL_RUN(test_pull_mode_fps_cap);
    NL_RUN(test_full_queue_drops_gops);
    nl_hw_stats st;
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.encoders_live, 0);
    NL_ASSERT_EQ(st.workers_running, 0);
    NL_ASSERT_EQ(st.workers_abandoned, 0);
    NL_ASSERT_EQ(st.devices_opened, st.devices_closed);
    nl_ctx_destroy(&g_ctx);
    NL_DONE();
}
