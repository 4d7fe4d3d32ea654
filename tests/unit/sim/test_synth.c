/* The media synthesizer, checked by decoding its output with libavcodec:
 * picture size, IDR interval with in-band parameter sets, timestamps at the
 * frame rate, the drawn frame counter read back from decoded pictures, cheap
 * mode's replay, PCM blocks of 480 samples and ADTS AAC that decodes. */
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>

#include "neolink/error.h"
#include "sim/synth.h"
#include "test.h"

#define US 1000000

/* libx265 3.5 leaks inside x265_encoder_open whatever the options; not ours. */
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:libx265.so\n";
}

static int under_valgrind(void)
{
    return getenv("NL_UNDER_VALGRIND") != NULL;
}

typedef struct decoder {
    AVCodecContext *c;
    AVFrame *f;
} decoder;

static decoder dec_open(enum AVCodecID id)
{
    decoder d;
    const AVCodec *codec = avcodec_find_decoder(id);
    NL_ASSERT(codec != NULL);
    d.c = avcodec_alloc_context3(codec);
    d.c->thread_count = 1;
    NL_ASSERT(avcodec_open2(d.c, codec, NULL) == 0);
    d.f = av_frame_alloc();
    return d;
}

static void dec_close(decoder *d)
{
    av_frame_free(&d->f);
    avcodec_free_context(&d->c);
}

/* Decodes one packet; returns 1 with d->f holding a picture, 0 if none yet. */
static int dec_one(decoder *d, const AVPacket *p)
{
    NL_ASSERT_EQ(avcodec_send_packet(d->c, p), 0);
    int rc = avcodec_receive_frame(d->c, d->f);
    if (rc == AVERROR(EAGAIN))
        return 0;
    NL_ASSERT_EQ(rc, 0);
    return 1;
}

/* NAL unit types in an Annex-B access unit, in order. */
static int nal_types(const AVPacket *p, int hevc, int *types, int max)
{
    int n = 0;
    for (int i = 0; i + 3 < p->size; i++) {
        if (p->data[i] == 0 && p->data[i + 1] == 0 && p->data[i + 2] == 1) {
            uint8_t h = p->data[i + 3];
            NL_ASSERT(n < max);
            types[n++] = hevc ? (h >> 1) & 0x3f : h & 0x1f;
            i += 3;
        }
    }
    return n;
}

static void check_video(enum AVCodecID codec, int w, int h, int fps, int gop, int frames)
{
    int hevc = codec == AV_CODEC_ID_HEVC;
    nl_synth_video_config cfg = {
        .codec = codec,
        .width = w,
        .height = h,
        .fps = fps,
        .gop = gop,
        .start_us = 3557705112ull,
    };
    nl_synth_video *s = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&s, &cfg));
    size_t xlen;
    const uint8_t *x = nl_synth_video_extradata(s, &xlen);
    NL_ASSERT(x != NULL && xlen > 8);
    NL_ASSERT_MEMEQ(x, "\x00\x00\x00\x01", 4);

    decoder d = dec_open(hevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
    AVPacket *p = av_packet_alloc();
    int64_t prev = -1;
    int decoded = 0;
    for (int i = 0; i < frames; i++) {
        NL_ASSERT_OK(nl_synth_video_next(s, p));
        NL_ASSERT_UEQ(nl_synth_video_count(s), i + 1);
        /* camera-style µs timestamps derived from the index */
        int64_t want = (int64_t)(cfg.start_us + (uint64_t)i * US / (uint64_t)fps);
        NL_ASSERT_EQ(p->pts, want);
        NL_ASSERT_EQ(p->dts, want);
        NL_ASSERT_EQ(p->time_base.num, 1);
        NL_ASSERT_EQ(p->time_base.den, US);
        if (prev >= 0) {
            NL_ASSERT(p->pts > prev);
            int64_t dt = p->pts - prev;
            NL_ASSERT(dt == US / fps || dt == US / fps + 1);
        }
        prev = p->pts;
        /* keyframe interval, and the IDR carries its parameter sets */
        int key = (p->flags & AV_PKT_FLAG_KEY) != 0;
        NL_ASSERT_EQ(key, i % gop == 0);
        int t[32];
        int nt = nal_types(p, hevc, t, 32);
        NL_ASSERT(nt >= 1);
        int has_ps = 0, has_idr = 0;
        for (int k = 0; k < nt; k++) {
            has_ps |= hevc ? t[k] == 33 : t[k] == 7;
            has_idr |= hevc ? (t[k] == 19 || t[k] == 20) : t[k] == 5;
        }
        NL_ASSERT_EQ(has_ps, key);
        NL_ASSERT_EQ(has_idr, key);
        if (key && hevc)
            NL_ASSERT_EQ(t[0], 32); /* VPS first */
        if (key && !hevc)
            NL_ASSERT(t[0] == 7 || t[0] == 9 || t[0] == 6);

        /* decodes at the configured size, counter shows the index */
        if (dec_one(&d, p)) {
            NL_ASSERT_EQ(d.f->width, w);
            NL_ASSERT_EQ(d.f->height, h);
            uint32_t v = 0;
            NL_ASSERT_OK(nl_synth_read_counter(d.f->data[0], d.f->linesize[0], w, h, &v));
            NL_ASSERT_EQ(v, decoded);
            decoded++;
        }
        av_packet_unref(p);
    }
    NL_ASSERT(decoded >= frames - 2);
    av_packet_free(&p);
    dec_close(&d);
    nl_synth_video_destroy(&s);
    NL_ASSERT(s == NULL);
}

static void test_h264(void)
{
    check_video(AV_CODEC_ID_H264, 320, 240, 15, 10, under_valgrind() ? 22 : 45);
}

static void test_h265(void)
{
    if (under_valgrind()) {
        printf("libx265 skipped under valgrind (leaks inside libx265 3.5)\n");
        return;
    }
    check_video(AV_CODEC_ID_HEVC, 320, 240, 25, 10, 35);
}

/* The defaults: main 1920x1080 @ 25, IDR every 50; sub 640x360 @ 15, every 30. */
static void test_defaults(void)
{
    nl_synth_video_config cfg = {0}, eff;
    nl_synth_video *s = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&s, &cfg));
    nl_synth_video_get_config(s, &eff);
    NL_ASSERT_EQ(eff.codec, AV_CODEC_ID_H264);
    NL_ASSERT_EQ(eff.width, 1920);
    NL_ASSERT_EQ(eff.height, 1080);
    NL_ASSERT_EQ(eff.fps, 25);
    NL_ASSERT_EQ(eff.gop, 50);
    NL_ASSERT_EQ(eff.bit_rate, 4147200);
    NL_ASSERT_EQ(nl_synth_video_ts(s, 25), eff.start_us + US);
    decoder d = dec_open(AV_CODEC_ID_H264);
    AVPacket *p = av_packet_alloc();
    for (int i = 0; i < 2; i++) {
        NL_ASSERT_OK(nl_synth_video_next(s, p));
        NL_ASSERT_EQ(p->pts, i * 40000);
        NL_ASSERT(dec_one(&d, p));
        NL_ASSERT_EQ(d.f->width, 1920);
        NL_ASSERT_EQ(d.f->height, 1080);
        uint32_t v;
        NL_ASSERT_OK(nl_synth_read_counter(d.f->data[0], d.f->linesize[0], 1920, 1080, &v));
        NL_ASSERT_EQ(v, i);
        av_packet_unref(p);
    }
    nl_synth_video_destroy(&s);
    dec_close(&d);

    nl_synth_video_config_sub(&cfg);
    NL_ASSERT_OK(nl_synth_video_create(&s, &cfg));
    nl_synth_video_get_config(s, &eff);
    NL_ASSERT_EQ(eff.gop, 30);
    d = dec_open(AV_CODEC_ID_H264);
    NL_ASSERT_OK(nl_synth_video_next(s, p));
    NL_ASSERT(p->flags & AV_PKT_FLAG_KEY);
    NL_ASSERT(dec_one(&d, p));
    NL_ASSERT_EQ(d.f->width, 640);
    NL_ASSERT_EQ(d.f->height, 360);
    av_packet_unref(p);
    NL_ASSERT_OK(nl_synth_video_next(s, p));
    NL_ASSERT_EQ(p->pts, 66666);
    av_packet_free(&p);
    dec_close(&d);
    nl_synth_video_destroy(&s);

    nl_synth_video_config_main(&cfg);
    NL_ASSERT_EQ(cfg.width, 1920);
    NL_ASSERT_EQ(cfg.fps, 25);
}

/* Cheap mode: one GOP encoded up front, replayed with fresh timestamps. */
static void test_cheap(void)
{
    nl_synth_video_config cfg = {
        .width = 256,
        .height = 144,
        .fps = 10,
        .gop = 5,
        .cheap_frames = 3,
    };
    nl_synth_video *s = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&s, &cfg));
    nl_synth_video_config eff;
    nl_synth_video_get_config(s, &eff);
    NL_ASSERT_EQ(eff.cheap_frames, 5); /* rounded up to whole GOPs */
    decoder d = dec_open(AV_CODEC_ID_H264);
    AVPacket *p[13];
    for (int i = 0; i < 13; i++) {
        p[i] = av_packet_alloc();
        NL_ASSERT_OK(nl_synth_video_next(s, p[i]));
        NL_ASSERT_EQ(p[i]->pts, i * 100000);
        NL_ASSERT_EQ((p[i]->flags & AV_PKT_FLAG_KEY) != 0, i % 5 == 0);
        if (i >= 5) {
            NL_ASSERT_EQ(p[i]->size, p[i - 5]->size);
            NL_ASSERT_MEMEQ(p[i]->data, p[i - 5]->data, (size_t)p[i]->size);
        }
        NL_ASSERT(dec_one(&d, p[i]));
        uint32_t v;
        NL_ASSERT_OK(nl_synth_read_counter(d.f->data[0], d.f->linesize[0], 256, 144, &v));
        NL_ASSERT_EQ(v, i % 5); /* documented: the picture repeats */
    }
    for (int i = 0; i < 13; i++)
        av_packet_free(&p[i]);
    dec_close(&d);
    nl_synth_video_destroy(&s);
}

static void test_bad_config_and_counter(void)
{
    nl_synth_video *s = NULL;
    nl_synth_video_config cfg = {.width = 200, .height = 144};
    NL_ASSERT_EQ(nl_synth_video_create(&s, &cfg), NL_EINVAL);
    cfg = (nl_synth_video_config){.width = 321, .height = 240};
    NL_ASSERT_EQ(nl_synth_video_create(&s, &cfg), NL_EINVAL);
    cfg = (nl_synth_video_config){.codec = AV_CODEC_ID_MPEG2VIDEO};
    NL_ASSERT_EQ(nl_synth_video_create(&s, &cfg), NL_EINVAL);
    cfg = (nl_synth_video_config){.fps = 500};
    NL_ASSERT_EQ(nl_synth_video_create(&s, &cfg), NL_EINVAL);
    NL_ASSERT(s == NULL);
    nl_synth_video_destroy(&s);

    /* a flat grey picture has no counter */
    static uint8_t grey[320 * 240];
    memset(grey, 128, sizeof(grey));
    uint32_t v;
    NL_ASSERT_EQ(nl_synth_read_counter(grey, 320, 320, 240, &v), NL_EPROTO);
    NL_ASSERT_EQ(nl_synth_read_counter(grey, 320, 100, 100, &v), NL_EINVAL);
}

/* ---------------------------------------------------------------- audio */

static void test_pcm(void)
{
    nl_synth_audio_config cfg = {.start_us = 1000};
    nl_synth_audio *a = NULL;
    NL_ASSERT_OK(nl_synth_audio_create(&a, &cfg));
    NL_ASSERT_EQ(nl_synth_audio_unit_samples(a), 480);
    NL_ASSERT_EQ(nl_synth_audio_sample_rate(a), 8000);
    size_t n;
    NL_ASSERT(nl_synth_audio_extradata(a, &n) == NULL && n == 0);
    AVPacket *p = av_packet_alloc();
    int16_t last = 0;
    for (int i = 0; i < 50; i++) {
        NL_ASSERT_OK(nl_synth_audio_next(a, p));
        NL_ASSERT_EQ(p->size, 960); /* 480 s16 samples */
        NL_ASSERT_EQ(p->pts, 1000 + i * 60000);
        NL_ASSERT_EQ(p->duration, 60000);
        const int16_t *s = (const int16_t *)p->data;
        double energy = 0;
        int peak = 0;
        for (int k = 0; k < 480; k++) {
            energy += (double)s[k] * s[k];
            if (abs(s[k]) > peak)
                peak = abs(s[k]);
            /* continuous, also across blocks: below 3 kHz at 8 kHz a step
             * is at most 2*sin(pi*3000/8000)*amplitude */
            int16_t prevs = k ? s[k - 1] : last;
            if (i || k)
                NL_ASSERT(abs(s[k] - prevs) <= 8192 * 2 * 93 / 100 + 2);
        }
        last = s[479];
        NL_ASSERT(peak <= 8193 && peak > 7000); /* -12 dBFS */
        NL_ASSERT(sqrt(energy / 480) > 4000);   /* a tone, not silence */
        av_packet_unref(p);
    }
    av_packet_free(&p);
    nl_synth_audio_destroy(&a);
    NL_ASSERT(a == NULL);

    cfg.codec = AV_CODEC_ID_OPUS;
    NL_ASSERT_EQ(nl_synth_audio_create(&a, &cfg), NL_EINVAL);
}

static void test_aac(void)
{
    nl_synth_audio_config cfg = {.codec = AV_CODEC_ID_AAC};
    nl_synth_audio *a = NULL;
    NL_ASSERT_OK(nl_synth_audio_create(&a, &cfg));
    NL_ASSERT_EQ(nl_synth_audio_unit_samples(a), 1024);
    NL_ASSERT_EQ(nl_synth_audio_sample_rate(a), 16000);
    size_t n;
    const uint8_t *asc = nl_synth_audio_extradata(a, &n);
    NL_ASSERT_EQ(n, 2);
    NL_ASSERT_MEMEQ(asc, "\x14\x08", 2); /* AAC-LC, 16 kHz, mono */

    /* decode from ADTS alone (no extradata): the headers must be right */
    decoder d = dec_open(AV_CODEC_ID_AAC);
    AVPacket *p = av_packet_alloc();
    double energy = 0;
    int samples = 0;
    for (int i = 0; i < 30; i++) {
        NL_ASSERT_OK(nl_synth_audio_next(a, p));
        NL_ASSERT_EQ(p->pts, i * 64000);
        NL_ASSERT(p->size > 7);
        const uint8_t *h = p->data;
        NL_ASSERT_EQ(h[0], 0xff);
        NL_ASSERT_EQ(h[1], 0xf1);
        NL_ASSERT_EQ(h[2] >> 6, 1);         /* LC */
        NL_ASSERT_EQ((h[2] >> 2) & 0xf, 8); /* 16 kHz */
        NL_ASSERT_EQ(((h[2] & 1) << 2) | (h[3] >> 6), 1);
        NL_ASSERT_EQ(((h[3] & 3) << 11) | (h[4] << 3) | (h[5] >> 5), p->size);
        if (dec_one(&d, p)) {
            NL_ASSERT_EQ(d.f->nb_samples, 1024);
            NL_ASSERT_EQ(d.f->sample_rate, 16000);
            NL_ASSERT_EQ(d.f->ch_layout.nb_channels, 1);
            NL_ASSERT_EQ(d.f->format, AV_SAMPLE_FMT_FLTP);
            const float *s = (const float *)d.f->data[0];
            for (int k = 0; k < 1024; k++)
                energy += (double)s[k] * s[k];
            samples += 1024;
        }
        av_packet_unref(p);
    }
    NL_ASSERT(samples >= 28 * 1024);
    double rms = sqrt(energy / samples);
    NL_ASSERT(rms > 0.1 && rms < 0.25); /* the 0.25-amplitude chirp: rms ~0.177 */
    av_packet_free(&p);
    dec_close(&d);
    nl_synth_audio_destroy(&a);
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    NL_RUN(test_h264);
    NL_RUN(test_h265);
    NL_RUN(test_defaults);
    NL_RUN(test_cheap);
    NL_RUN(test_bad_config_and_counter);
    NL_RUN(test_pcm);
    NL_RUN(test_aac);
    NL_DONE();
}
