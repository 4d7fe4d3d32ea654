/* Audio conversion for RTP: Reolink ADPCM (480 samples per 244-byte block)
 * to AAC (1024-sample frames, PCM buffered across blocks) and to G.711
 * (PCMU/PCMA, one packet per block); AAC passed through untouched. Outputs
 * are decoded back with libavcodec and compared with the ADPCM decoded by
 * lib/media. */
#include <math.h>

#include <libavutil/channel_layout.h>

#include "hw_test_util.h"

#include "media/adpcm.h"

#define START_US 5000000

static nl_ctx *g_ctx;

/* n ADPCM blocks of the synthesizer's chirp, with their PCM after an ADPCM
 * round trip (what a perfect converter would output). */
typedef struct adpcm_clip {
    AVPacket **blocks;
    int n;
    int16_t *pcm; /* n * 480 samples, decoded from the blocks */
} adpcm_clip;

static void clip_make(adpcm_clip *c, int n)
{
    nl_synth_audio_config ac = {.codec = AV_CODEC_ID_PCM_S16LE};
    nl_synth_audio *syn = NULL;
    NL_ASSERT_OK(nl_synth_audio_create(&syn, &ac));
    c->blocks = calloc((size_t)n, sizeof *c->blocks);
    c->pcm = calloc((size_t)n * NL_ADPCM_BLOCK_SAMPLES, sizeof *c->pcm);
    c->n = n;
    nl__adpcm_state st = {0, 0};
    AVPacket *raw = av_packet_alloc();
    for (int i = 0; i < n; i++) {
        NL_ASSERT_OK(nl_synth_audio_next(syn, raw));
        NL_ASSERT_EQ(raw->size, NL_ADPCM_BLOCK_SAMPLES * 2);
        AVPacket *b = av_packet_alloc();
        NL_ASSERT_EQ(av_new_packet(b, NL_ADPCM_BLOCK_LEN), 0);
        NL_ASSERT_EQ(nl__adpcm_encode_block(&st, (const int16_t *)raw->data, NL_ADPCM_BLOCK_SAMPLES,
                                            b->data, NL_ADPCM_BLOCK_LEN),
                     NL_ADPCM_BLOCK_LEN);
        b->pts = START_US + (int64_t)i * 60000; /* 480 samples = 60 ms */
        NL_ASSERT_EQ(nl_media_adpcm_decode(b->data, (size_t)b->size,
                                           c->pcm + i * NL_ADPCM_BLOCK_SAMPLES,
                                           NL_ADPCM_BLOCK_SAMPLES),
                     NL_ADPCM_BLOCK_SAMPLES);
        c->blocks[i] = b;
        av_packet_unref(raw);
    }
    av_packet_free(&raw);
    nl_synth_audio_destroy(&syn);
}

static void clip_free(adpcm_clip *c)
{
    for (int i = 0; i < c->n; i++)
        av_packet_free(&c->blocks[i]);
    free(c->blocks);
    free(c->pcm);
}

/* Decoded output, as float samples. */
typedef struct pcm_out {
    float *s;
    int n, cap;
} pcm_out;

static void append_frame(void *ud, const AVFrame *f)
{
    pcm_out *o = ud;
    NL_ASSERT_EQ(f->sample_rate, 8000);
    NL_ASSERT_EQ(f->ch_layout.nb_channels, 1);
    if (o->n + f->nb_samples > o->cap) {
        o->cap = (o->n + f->nb_samples) * 2;
        o->s = realloc(o->s, (size_t)o->cap * sizeof *o->s);
    }
    for (int i = 0; i < f->nb_samples; i++) {
        float v;
        if (f->format == AV_SAMPLE_FMT_FLTP)
            v = ((const float *)f->data[0])[i];
        else
            v = ((const int16_t *)f->data[0])[i] / 32768.0f;
        o->s[o->n + i] = v;
    }
    o->n += f->nb_samples;
}

/* Normalised cross-correlation of out[off..] with ref[0..n). */
static double correlation(const float *out, const int16_t *ref, int n)
{
    double xy = 0, xx = 0, yy = 0;
    for (int i = 0; i < n; i++) {
        double x = out[i], y = ref[i] / 32768.0;
        xy += x * y;
        xx += x * x;
        yy += y * y;
    }
    return xy / sqrt(xx * yy + 1e-30);
}

static double snr_db(const float *out, const int16_t *ref, int n)
{
    double sig = 0, err = 0;
    for (int i = 0; i < n; i++) {
        double y = ref[i] / 32768.0, e = out[i] - y;
        sig += y * y;
        err += e * e;
    }
    return 10.0 * log10(sig / (err > 0 ? err : 1e-30));
}

/* N = 50 blocks = 24000 samples (3 s). What is compared, exactly:
 *  - the AAC encoder declares initial_padding = 1024 (priming samples);
 *  - it gets 23 full frames of 1024 plus a last short frame of 448
 *    (24000 = 23 * 1024 + 448), then a flush, and emits one packet more
 *    than frames for its delay: 25 packets;
 *  - the decoder returns 1024 samples per packet: 25 * 1024 = 25600;
 *  - 25600 - 1024 (priming) = 24576 = the 24000 input samples + 576 of
 *    padding that completes the last frame; so decoded - priming - padding
 *    equals 480 * N exactly, with padding < 1024;
 *  - and the samples line up: decoded[1024 + k] follows the ADPCM PCM[k]. */
static void test_adpcm_to_aac(void)
{
    enum { N = 50 };
    adpcm_clip clip;
    clip_make(&clip, N);
    nl_audio_conv_config cfg = {
        .name = "cam1", .input = NL_MEDIA_CODEC_ADPCM, .output = NL_AUDIO_OUT_AAC};
    nl_audio_conv *c = NULL;
    NL_ASSERT_OK(nl_audio_conv_create(&c, g_ctx, &cfg));
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_audio_conv_codec_params(c, par));
    NL_ASSERT_EQ(par->codec_id, AV_CODEC_ID_AAC);
    NL_ASSERT_EQ(par->sample_rate, 8000);
    NL_ASSERT_EQ(par->ch_layout.nb_channels, 1);
    NL_ASSERT_EQ(par->frame_size, 1024);
    NL_ASSERT_EQ(par->initial_padding, 1024);
    /* AudioSpecificConfig: AAC LC (2), 8000 Hz (index 11), mono (1), then
     * libavcodec's explicit "no SBR" sync extension (0x2b7, SBR, 0): the
     * SDP's config=158856E500. */
    static const uint8_t asc[5] = {0x15, 0x88, 0x56, 0xe5, 0x00};
    NL_ASSERT_EQ(par->extradata_size, 5);
    NL_ASSERT_MEMEQ(par->extradata, asc, 5);

    AVPacket *pkt = av_packet_alloc();
    AVPacket *outs[64];
    int n = 0, rc;
    for (int i = 0; i < N; i++) {
        NL_ASSERT_OK(nl_audio_conv_push(c, clip.blocks[i]));
        while ((rc = nl_audio_conv_receive(c, pkt)) == 0) {
            outs[n] = av_packet_alloc();
            av_packet_move_ref(outs[n++], pkt);
        }
        NL_ASSERT_EQ(rc, NL_EAGAIN);
    }
    NL_ASSERT_OK(nl_audio_conv_flush(c));
    while ((rc = nl_audio_conv_receive(c, pkt)) == 0) {
        outs[n] = av_packet_alloc();
        av_packet_move_ref(outs[n++], pkt);
    }
    NL_ASSERT_EQ(rc, NL_EEOF);
    NL_ASSERT_EQ(nl_audio_conv_push(c, clip.blocks[0]), NL_EINVAL); /* after flush */
    NL_ASSERT_EQ(n, 25);

    /* On the input's µs clock: the priming frame starts 128 ms (1024
     * samples) before the first ADPCM sample, then one frame per 128 ms. */
    int64_t dur_sum = 0;
    for (int i = 0; i < n; i++) {
        NL_ASSERT_EQ(outs[i]->pts, START_US - 128000 + (int64_t)i * 128000);
        NL_ASSERT_EQ(outs[i]->dts, outs[i]->pts);
        NL_ASSERT(outs[i]->flags & AV_PKT_FLAG_KEY);
        dur_sum += outs[i]->duration;
    }
    /* Durations cover the priming and the real samples, not the padding. */
    NL_ASSERT_EQ(dur_sum, (1024 + N * 480) * 1000000LL / 8000);

    pcm_out dec = {0};
    test_dec d = test_dec_open(AV_CODEC_ID_AAC, par);
    for (int i = 0; i < n; i++) {
        test_dec_run(&d, outs[i], append_frame, &dec);
        av_packet_free(&outs[i]);
    }
    test_dec_run(&d, NULL, append_frame, &dec);
    test_dec_close(&d);
    int priming = par->initial_padding;
    int padding = dec.n - priming - N * 480;
    printf("  %d ADPCM samples -> %d AAC packets -> %d decoded = %d priming + %d input + %d "
           "padding\n",
           N * 480, n, dec.n, priming, N * 480, padding);
    NL_ASSERT_EQ(dec.n, 25 * 1024);
    NL_ASSERT_EQ(dec.n - priming - padding, N * 480);
    NL_ASSERT_EQ(padding, 576);
    /* Alignment: correlation peaks at lag 0 after the priming. Skip the
     * first frame, where the encoder is still settling. */
    double c0 = correlation(dec.s + priming + 1024, clip.pcm + 1024, N * 480 - 2048);
    double c_early = correlation(dec.s + priming + 1024 - 8, clip.pcm + 1024, N * 480 - 2048);
    double c_late = correlation(dec.s + priming + 1024 + 8, clip.pcm + 1024, N * 480 - 2048);
    printf("  correlation with the ADPCM PCM: lag 0 %.3f, lag -8 %.3f, lag +8 %.3f\n", c0, c_early,
           c_late);
    NL_ASSERT(c0 > 0.9);
    NL_ASSERT(c0 > c_early && c0 > c_late);
    free(dec.s);
    avcodec_parameters_free(&par);
    av_packet_free(&pkt);
    nl_audio_conv_destroy(&c);
    NL_ASSERT(c == NULL);
    clip_free(&clip);
}

static void g711(nl_audio_out out, enum AVCodecID id)
{
    enum { N = 20 };
    adpcm_clip clip;
    clip_make(&clip, N);
    nl_audio_conv_config cfg = {.input = NL_MEDIA_CODEC_ADPCM, .output = out};
    nl_audio_conv *c = NULL;
    NL_ASSERT_OK(nl_audio_conv_create(&c, g_ctx, &cfg));
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_audio_conv_codec_params(c, par));
    NL_ASSERT_EQ(par->codec_id, id);
    NL_ASSERT_EQ(par->sample_rate, 8000);
    NL_ASSERT_EQ(par->ch_layout.nb_channels, 1);
    test_dec d = test_dec_open(id, par);
    pcm_out dec = {0};
    AVPacket *pkt = av_packet_alloc();
    for (int i = 0; i < N; i++) {
        NL_ASSERT_OK(nl_audio_conv_push(c, clip.blocks[i]));
        /* One packet per block: 480 one-byte samples, same time as the block. */
        NL_ASSERT_OK(nl_audio_conv_receive(c, pkt));
        NL_ASSERT_EQ(pkt->size, 480);
        NL_ASSERT_EQ(pkt->pts, clip.blocks[i]->pts);
        NL_ASSERT_EQ(pkt->duration, 60000);
        AVPacket *none = av_packet_alloc();
        NL_ASSERT_EQ(nl_audio_conv_receive(c, none), NL_EAGAIN);
        av_packet_free(&none);
        test_dec_run(&d, pkt, append_frame, &dec);
        av_packet_unref(pkt);
    }
    NL_ASSERT_OK(nl_audio_conv_flush(c));
    NL_ASSERT_EQ(nl_audio_conv_receive(c, pkt), NL_EEOF);
    test_dec_close(&d);
    NL_ASSERT_EQ(dec.n, N * 480);
    double snr = snr_db(dec.s, clip.pcm, dec.n);
    printf("  %s: %d samples, SNR vs the ADPCM PCM %.1f dB\n", avcodec_get_name(id), dec.n, snr);
    NL_ASSERT(snr > 30.0); /* G.711 companding: ~38 dB on a -12 dBFS signal */
    free(dec.s);
    av_packet_free(&pkt);
    avcodec_parameters_free(&par);
    nl_audio_conv_destroy(&c);
    clip_free(&clip);
}

static void test_adpcm_to_pcmu(void)
{
    g711(NL_AUDIO_OUT_PCMU, AV_CODEC_ID_PCM_MULAW);
}

static void test_adpcm_to_pcma(void)
{
    g711(NL_AUDIO_OUT_PCMA, AV_CODEC_ID_PCM_ALAW);
}

static void mulaw_ref(const int16_t *pcm, int n, uint8_t *out)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PCM_MULAW);
    AVCodecContext *e = avcodec_alloc_context3(codec);
    e->sample_rate = 8000;
    e->sample_fmt = AV_SAMPLE_FMT_S16;
    av_channel_layout_default(&e->ch_layout, 1);
    NL_ASSERT_EQ(avcodec_open2(e, codec, NULL), 0);
    AVFrame *f = av_frame_alloc();
    f->nb_samples = n;
    f->format = AV_SAMPLE_FMT_S16;
    av_channel_layout_default(&f->ch_layout, 1);
    NL_ASSERT_EQ(av_frame_get_buffer(f, 0), 0);
    memcpy(f->data[0], pcm, (size_t)n * 2);
    AVPacket *p = av_packet_alloc();
    NL_ASSERT_EQ(avcodec_send_frame(e, f), 0);
    NL_ASSERT_EQ(avcodec_receive_packet(e, p), 0);
    NL_ASSERT_EQ(p->size, n);
    memcpy(out, p->data, (size_t)n);
    av_packet_free(&p);
    av_frame_free(&f);
    avcodec_free_context(&e);
}

/* The two real camera blocks of samples/bcmedia/adpcm_0.raw (12-byte BcMedia
 * header, then the 244-byte DVI block): 2 x 480 PCMU bytes; no pts on the
 * wire -> the output has none either. */
static void test_camera_sample_pcmu(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bcmedia/adpcm_0.raw", NL_TEST_DATA);
    size_t len;
    uint8_t *raw = nl_test_read_file(path, &len);
    NL_ASSERT_EQ(len, 512);
    nl_audio_conv_config cfg = {.input = NL_MEDIA_CODEC_ADPCM, .output = NL_AUDIO_OUT_PCMU};
    nl_audio_conv *c = NULL;
    NL_ASSERT_OK(nl_audio_conv_create(&c, g_ctx, &cfg));
    AVPacket *in = av_packet_alloc(), *out = av_packet_alloc();
    int16_t pcm[480];
    for (int b = 0; b < 2; b++) {
        NL_ASSERT_EQ(av_new_packet(in, 244), 0);
        memcpy(in->data, raw + 256 * b + 12, 244);
        in->pts = AV_NOPTS_VALUE;
        NL_ASSERT_OK(nl_audio_conv_push(c, in));
        NL_ASSERT_OK(nl_audio_conv_receive(c, out));
        NL_ASSERT_EQ(out->size, 480);
        NL_ASSERT_EQ(out->pts, AV_NOPTS_VALUE);
        /* Byte-exact: lib/media's decode of the block, mu-law encoded by
         * libavcodec directly. */
        NL_ASSERT_EQ(nl_media_adpcm_decode(in->data, 244, pcm, 480), 480);
        uint8_t want[480];
        mulaw_ref(pcm, 480, want);
        NL_ASSERT_MEMEQ(out->data, want, 480);
        av_packet_unref(in);
        av_packet_unref(out);
    }
    /* A short block is fine (4 + 10 bytes = 20 samples); bad ones are not. */
    NL_ASSERT_EQ(av_new_packet(in, 14), 0);
    memcpy(in->data, raw + 12, 14);
    NL_ASSERT_OK(nl_audio_conv_push(c, in));
    NL_ASSERT_OK(nl_audio_conv_receive(c, out));
    NL_ASSERT_EQ(out->size, 20);
    av_packet_unref(out);
    in->size = 3;
    NL_ASSERT_EQ(nl_audio_conv_push(c, in), NL_EINVAL);
    in->size = 14;
    in->data[2] = 89; /* step index out of range */
    NL_ASSERT_EQ(nl_audio_conv_push(c, in), NL_EINVAL);
    av_packet_unref(in);
    NL_ASSERT_EQ(av_new_packet(in, 4 + 2049), 0); /* 4098 samples: above the cap */
    memset(in->data, 0, (size_t)in->size);
    NL_ASSERT_EQ(nl_audio_conv_push(c, in), NL_EINVAL);
    av_packet_free(&in);
    av_packet_free(&out);
    nl_audio_conv_destroy(&c);
    free(raw);
}

static void test_aac_passthrough(void)
{
    nl_synth_audio_config ac = {.codec = AV_CODEC_ID_AAC};
    nl_synth_audio *syn = NULL;
    NL_ASSERT_OK(nl_synth_audio_create(&syn, &ac));
    size_t asc_len;
    const uint8_t *asc = nl_synth_audio_extradata(syn, &asc_len);
    NL_ASSERT_EQ(asc_len, 2);
    nl_audio_conv_config cfg = {.input = NL_MEDIA_CODEC_AAC,
                                .output = NL_AUDIO_OUT_AAC,
                                .input_asc = asc,
                                .input_asc_len = asc_len};
    nl_audio_conv *c = NULL;
    NL_ASSERT_OK(nl_audio_conv_create(&c, g_ctx, &cfg));
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_audio_conv_codec_params(c, par));
    NL_ASSERT_EQ(par->codec_id, AV_CODEC_ID_AAC);
    NL_ASSERT_EQ(par->sample_rate, 16000);
    NL_ASSERT_EQ(par->ch_layout.nb_channels, 1);
    NL_ASSERT_EQ(par->extradata_size, 2);
    NL_ASSERT_MEMEQ(par->extradata, asc, 2);
    AVPacket *in = av_packet_alloc(), *out = av_packet_alloc();
    for (int i = 0; i < 5; i++) {
        NL_ASSERT_OK(nl_synth_audio_next(syn, in));
        NL_ASSERT_OK(nl_audio_conv_push(c, in));
        NL_ASSERT_OK(nl_audio_conv_receive(c, out));
        /* The same bytes, by reference (no copy), same time. */
        NL_ASSERT(out->data == in->data);
        NL_ASSERT_EQ(out->size, in->size);
        NL_ASSERT_EQ(out->pts, in->pts);
        av_packet_unref(in);
        av_packet_unref(out);
    }
    NL_ASSERT_EQ(nl_audio_conv_receive(c, out), NL_EAGAIN);
    NL_ASSERT_OK(nl_audio_conv_flush(c));
    NL_ASSERT_EQ(nl_audio_conv_receive(c, out), NL_EEOF);
    av_packet_free(&in);
    av_packet_free(&out);
    avcodec_parameters_free(&par);
    nl_audio_conv_destroy(&c);
    nl_synth_audio_destroy(&syn);

    /* AAC cannot become G.711 here (that would need an AAC decoder and a
     * resampler; cameras with AAC get it passed through). */
    cfg.output = NL_AUDIO_OUT_PCMU;
    NL_ASSERT_EQ(nl_audio_conv_create(&c, g_ctx, &cfg), NL_ENOTSUP);
    cfg.input = NL_MEDIA_CODEC_H264;
    NL_ASSERT_EQ(nl_audio_conv_create(&c, g_ctx, &cfg), NL_EINVAL);
    NL_ASSERT(c == NULL);
    nl_audio_conv_destroy(NULL);
}

int main(void)
{
    g_ctx = test_ctx();
    NL_RUN(test_adpcm_to_aac);
    NL_RUN(test_adpcm_to_pcmu);
    NL_RUN(test_adpcm_to_pcma);
    NL_RUN(test_camera_sample_pcmu);
    NL_RUN(test_aac_passthrough);
    nl_ctx_destroy(&g_ctx);
    NL_DONE();
}
