/* Lifetimes: a transcoder whose worker is wedged inside the encoder is still
 * torn down within its deadline (the worker is abandoned, counted, logged
 * with what it was doing, never calls back, and frees its codecs once it
 * returns, even after the host destroyed its log context); 100 open/close
 * cycles of an encode context leave nothing behind (counters, live lists,
 * the library allocator, and LSan / valgrind at exit); a transcoder may be
 * destroyed from inside its own callback. */
#include "hw_test_util.h"

#include "hw/transcoder.h"
#include "hw_test_gate.h"
#include "loop/loop_int.h"
#include "neolink/alloc.h"
#include "neolink/loop.h"

static int g_callbacks;

static void count_packet(void *ud, nl_transcoder *t, AVPacket *pkt)
{
    g_callbacks++;
}

static void count_end(void *ud, nl_transcoder *t, int error)
{
    g_callbacks++;
}

static void test_wedged_encoder_abandoned(void)
{
    nl_ctx *ctx = test_ctx(); /* destroyed while the worker is still stuck */
    nl_hw_stats before, st;
    nl_hw_get_stats(&before, sizeof before);

    nl_synth_video_config vc;
    nl_synth_video_config_sub(&vc);
    vc.width = 256;
    vc.height = 144;
    vc.start_us = 1000000;
    nl_synth_video *syn = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&syn, &vc));
    AVPacket *pkt = av_packet_alloc();

    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    gate g = GATE_INIT;
    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    tc.name = "wedge";
    tc.input_codec = NL_MEDIA_CODEC_H264;
    tc.hwaccel = NL_HWACCEL_SOFTWARE;
    tc.threads = 1;
    tc.stop_timeout_ms = 300;
    tc.loop = loop;
    tc.on_packet = count_packet;
    tc.on_end = count_end;
    nl_transcoder *t = NULL;
    NL_ASSERT_OK(nl__transcoder_create_hooked(&t, ctx, NULL, &tc, gate_hook, &g));
    for (int i = 0; i < 5; i++) {
        NL_ASSERT_OK(nl_synth_video_next(syn, pkt));
        NL_ASSERT_EQ(nl_transcoder_push(t, pkt), 0);
        av_packet_unref(pkt);
    }
    NL_ASSERT(gate_wait_entered(&g, 1));
    nl_loop_run_once(loop, 0);

    log_clear();
    uint64_t t0 = nl_time_mono_ns();
    NL_ASSERT_EQ(nl_transcoder_destroy(&t), NL_ETIMEDOUT);
    uint64_t took_ms = (nl_time_mono_ns() - t0) / NL_NS_PER_MS;
    printf("  teardown of the wedged transcoder took %llu ms (deadline 300 ms)\n",
           (unsigned long long)took_ms);
    NL_ASSERT(t == NULL);
    NL_ASSERT(took_ms >= 290 && took_ms < 600);
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.workers_abandoned - before.workers_abandoned, 1);
    NL_ASSERT_EQ(st.workers_running, 1); /* still stuck, and visible */
    NL_ASSERT_EQ(st.encoders_live, 1);   /* its encoder too, until it returns */
    NL_ASSERT(log_has("[transcode wedge] worker thread abandoned: still encoding a frame "
                      "(pts 1000000) after "));
    NL_ASSERT_EQ(nl_loop_io_count(loop), 0);

    /* The host goes on: its context is gone, the loop keeps running, and the
     * abandoned worker neither calls back nor logs through the old context. */
    nl_ctx_destroy(&ctx);
    gate_open(&g);
    wait_threads_gone();
    for (int i = 0; i < 5; i++)
        nl_loop_run_once(loop, 10);
    NL_ASSERT_EQ(g_callbacks, 0);
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.encoders_live, 0); /* the worker closed its encoder on the way out */
    NL_ASSERT_EQ(st.workers_running, 0);
    NL_ASSERT_EQ(st.workers_abandoned - before.workers_abandoned, 1);
    NL_ASSERT_EQ(st.encoders_closed - before.encoders_closed, 1);

    nl_loop_destroy(&loop);
    av_packet_free(&pkt);
    nl_synth_video_destroy(&syn);
}

/* A healthy worker joins well inside its deadline. */
static void test_clean_stop_joins(void)
{
    nl_ctx *ctx = test_ctx();
    nl_hw_stats before, st;
    nl_hw_get_stats(&before, sizeof before);
    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    tc.input_codec = NL_MEDIA_CODEC_H265;
    tc.stop_timeout_ms = 2000;
    nl_transcoder *t = NULL;
    NL_ASSERT_OK(nl_transcoder_create(&t, ctx, NULL, &tc));
    uint64_t t0 = nl_time_mono_ns();
    NL_ASSERT_OK(nl_transcoder_destroy(&t));
    NL_ASSERT((nl_time_mono_ns() - t0) / NL_NS_PER_MS < 500);
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.workers_joined - before.workers_joined, 1);
    NL_ASSERT_EQ(st.workers_abandoned, before.workers_abandoned);
    nl_ctx_destroy(&ctx);
}

/* Destroying the transcoder from inside its own on_packet: no more
 * callbacks, the worker is joined, nothing is touched after the free. */
typedef struct self_destroy {
    nl_transcoder *t;
    int packets, ends;
} self_destroy;

static void destroy_on_first(void *ud, nl_transcoder *t, AVPacket *pkt)
{
    self_destroy *sd = ud;
    sd->packets++;
    NL_ASSERT(t == sd->t);
    NL_ASSERT_OK(nl_transcoder_destroy(&sd->t));
    NL_ASSERT(sd->t == NULL);
}

static void count_end_sd(void *ud, nl_transcoder *t, int error)
{
    self_destroy *sd = ud;
    sd->ends++;
}

static void test_destroy_from_callback(void)
{
    nl_ctx *ctx = test_ctx();
    nl_hw_stats before, st;
    nl_hw_get_stats(&before, sizeof before);
    nl_synth_video_config vc;
    nl_synth_video_config_sub(&vc);
    vc.width = 256;
    vc.height = 144;
    nl_synth_video *syn = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&syn, &vc));
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    self_destroy sd = {0};
    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    tc.input_codec = NL_MEDIA_CODEC_H264;
    tc.hwaccel = NL_HWACCEL_SOFTWARE;
    tc.loop = loop;
    tc.ud = &sd;
    tc.on_packet = destroy_on_first;
    tc.on_end = count_end_sd;
    NL_ASSERT_OK(nl_transcoder_create(&sd.t, ctx, NULL, &tc));
    AVPacket *pkt = av_packet_alloc();
    for (int i = 0; i < 20; i++) {
        NL_ASSERT_OK(nl_synth_video_next(syn, pkt));
        NL_ASSERT_EQ(nl_transcoder_push(sd.t, pkt), 0);
        av_packet_unref(pkt);
    }
    NL_ASSERT_OK(nl_transcoder_finish(sd.t));
    uint64_t end = nl_time_mono_ns() + 20 * NL_NS_PER_S;
    while (sd.packets == 0 && nl_time_mono_ns() < end)
        nl_loop_run_once(loop, 50);
    for (int i = 0; i < 10; i++)
        nl_loop_run_once(loop, 10);
    NL_ASSERT_EQ(sd.packets, 1);
    NL_ASSERT_EQ(sd.ends, 0);
    NL_ASSERT_EQ(nl_loop_io_count(loop), 0);
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.workers_joined - before.workers_joined, 1);
    NL_ASSERT_EQ(st.workers_running, 0);
    NL_ASSERT_EQ(st.encoders_live, 0);
    av_packet_free(&pkt);
    nl_loop_destroy(&loop);
    nl_synth_video_destroy(&syn);
    nl_ctx_destroy(&ctx);
}

static void encode_two(nl_hwenc *e, int64_t base)
{
    AVFrame *f = av_frame_alloc();
    f->width = 128;
    f->height = 72;
    f->format = AV_PIX_FMT_YUV420P;
    NL_ASSERT_EQ(av_frame_get_buffer(f, 0), 0);
    AVPacket *pkt = av_packet_alloc();
    for (int i = 0; i < 2; i++) {
        NL_ASSERT_EQ(av_frame_make_writable(f), 0);
        for (int p = 0; p < 3; p++)
            memset(f->data[p], 60 + 30 * i, (size_t)f->linesize[p] * (p ? 36 : 72));
        f->pts = base + i * 40000;
        NL_ASSERT_OK(nl_hwenc_send_frame(e, f));
        while (nl_hwenc_receive_packet(e, pkt) == 0)
            av_packet_unref(pkt);
    }
    /* Leave frames inside the encoder on purpose for odd cycles: close must
     * drop them too. */
    if (base % 2 == 0) {
        NL_ASSERT_OK(nl_hwenc_send_frame(e, NULL));
        while (nl_hwenc_receive_packet(e, pkt) == 0)
            av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    av_frame_free(&f);
}

static void test_100_open_close_cycles(void)
{
    nl_ctx *ctx = test_ctx();
    nl_hw_stats before, st;
    nl_hw_get_stats(&before, sizeof before);
    long live_before = nl_allocator_live();
    nl_hwenc_config c;
    nl_hwenc_config_init(&c);
    c.width = 128;
    c.height = 72;
    c.threads = 1;
    /* AUTO with a missing node: every cycle walks the fallback chain too. */
    c.device = "/nonexistent/renderD128";
    for (int i = 0; i < 100; i++) {
        nl_hwenc *e = NULL;
        NL_ASSERT_OK(nl_hwenc_open(&e, ctx, NULL, &c));
        NL_ASSERT_EQ(nl_hwenc_backend(e), NL_HW_BACKEND_SOFTWARE);
        encode_two(e, i);
        /* Half on the caller's thread, half through the bounded helper. */
        NL_ASSERT_OK(nl_hwenc_close(&e, i % 2 ? 5000 : NL_HW_WAIT_FOREVER));
        NL_ASSERT(e == NULL);
    }
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.encoders_opened - before.encoders_opened, 100);
    NL_ASSERT_EQ(st.encoders_closed - before.encoders_closed, 100);
    NL_ASSERT_EQ(st.encoders_live, 0);
    NL_ASSERT_EQ(st.workers_started - before.workers_started, 50);
    NL_ASSERT_EQ(st.workers_joined - before.workers_joined, 50);
    NL_ASSERT_EQ(st.workers_running, 0);
    NL_ASSERT_EQ(st.devices_opened, st.devices_closed);
    /* Everything the library allocated itself is back (libav's own
     * allocations are checked by LSan / valgrind at exit). */
    NL_ASSERT_EQ(nl_allocator_live(), live_before);
    nl_ctx_destroy(&ctx);
}

int main(void)
{
    NL_RUN(test_clean_stop_joins);
    NL_RUN(test_wedged_encoder_abandoned);
    NL_RUN(test_destroy_from_callback);
    NL_RUN(test_100_open_close_cycles);
    NL_DONE();
}
