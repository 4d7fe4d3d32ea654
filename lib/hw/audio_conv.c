/* Audio for RTP: Reolink ADPCM -> AAC / PCMU / PCMA, AAC passed through.
 *
 * Why decode at all: libavformat's RTP muxer has no payload for Reolink's
 * DVI-4 blocks and ffmpeg's RTP demuxer could not play them (RTSP.md 1.5),
 * so ADPCM is decoded (lib/media/adpcm.h) and re-encoded.
 *
 * AAC wants 1024-sample frames and a Reolink block is 480 samples, so PCM is
 * buffered across blocks in a small FIFO and cut into whole frames; only a
 * flush sends a short last frame (the encoder pads it).
 *
 * Time: the encoders run on a sample clock (time base 1/8000, pts = index of
 * the frame's first sample since creation). Output packets are mapped back
 * to the input's µs clock through the latest anchor (sample index, µs) taken
 * from an input block with a pts, so audio stays on the camera clock with
 * video (RTSP.md 1.6), and are kept strictly increasing.
 *
 * Cost: one AAC frame of 8 kHz mono takes tens of microseconds, a G.711 block
 * a few; fine on the loop thread (figures in docs/internals/HWENC.md). */
#include <string.h>

#include <libavutil/channel_layout.h>

#include "core/alloc.h"
#include "core/log.h"
#include "hw/pktq.h"
#include "media/adpcm.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"

/* Largest ADPCM block accepted: 4 + 2048 bytes = 4096 samples (Reolink sends
 * 244). Bigger input is refused instead of growing buffers. */
#define AC_MAX_BLOCK_SAMPLES 4096
#define AC_AAC_FRAME         1024
#define AC_FIFO_CAP          (AC_MAX_BLOCK_SAMPLES + AC_AAC_FRAME)
#define AC_OUT_QUEUE         64

struct nl_audio_conv {
    nl_ctx *ctx;
    char who[80];
    nl_media_codec input;
    nl_audio_out output;
    int passthrough;
    uint8_t asc[8];
    size_t asc_len;

    AVCodecContext *enc;
    AVFrame *frame;
    AVPacket *scratch;
    nl__pktq out;

    int16_t pcm[AC_MAX_BLOCK_SAMPLES];
    int16_t fifo[AC_FIFO_CAP];
    int fifo_len;
    int64_t fifo_start;  /* sample index of fifo[0] */
    int64_t next_sample; /* sample index of the next decoded sample */
    int64_t anchor_sample, anchor_us;
    int have_anchor;
    int64_t last_out_us;
    int flushed;
};

NL_EXPORT int nl_audio_out_parse(const char *name)
{
    if (!name)
        return NL_EINVAL;
    if (!strcmp(name, "aac"))
        return NL_AUDIO_OUT_AAC;
    if (!strcmp(name, "pcmu") || !strcmp(name, "ulaw") || !strcmp(name, "mulaw"))
        return NL_AUDIO_OUT_PCMU;
    if (!strcmp(name, "pcma") || !strcmp(name, "alaw"))
        return NL_AUDIO_OUT_PCMA;
    return NL_EINVAL;
}

static int open_encoder(nl_audio_conv *c, int64_t bit_rate)
{
    const char *name = c->output == NL_AUDIO_OUT_AAC    ? "aac"
                       : c->output == NL_AUDIO_OUT_PCMU ? "pcm_mulaw"
                                                        : "pcm_alaw";
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    if (!codec) {
        NL_LOGE(c->ctx, c->who, "encoder %s is not in this libavcodec", name);
        return NL_ECODEC;
    }
    if (!(c->enc = avcodec_alloc_context3(codec)))
        return NL_ENOMEM;
    AVCodecContext *e = c->enc;
    e->sample_rate = NL_ADPCM_RATE;
    e->time_base = (AVRational){1, NL_ADPCM_RATE};
    av_channel_layout_default(&e->ch_layout, 1);
    if (c->output == NL_AUDIO_OUT_AAC) {
        e->sample_fmt = AV_SAMPLE_FMT_FLTP;
        e->bit_rate = bit_rate > 0 ? bit_rate : 24000;
        e->profile = FF_PROFILE_AAC_LOW;
        e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER; /* the ASC for SDP config= */
    } else {
        e->sample_fmt = AV_SAMPLE_FMT_S16;
    }
    int err = avcodec_open2(e, codec, NULL);
    if (err < 0) {
        char msg[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(err, msg, sizeof msg);
        NL_LOGE(c->ctx, c->who, "encoder %s did not open: %s", name, msg);
        return NL_ECODEC;
    }
    if (!(c->frame = av_frame_alloc()))
        return NL_ENOMEM;
    c->frame->format = e->sample_fmt;
    c->frame->sample_rate = e->sample_rate;
    c->frame->nb_samples = c->output == NL_AUDIO_OUT_AAC ? AC_AAC_FRAME : AC_MAX_BLOCK_SAMPLES;
    if (av_channel_layout_copy(&c->frame->ch_layout, &e->ch_layout) < 0 ||
        av_frame_get_buffer(c->frame, 0) < 0)
        return NL_ENOMEM;
    return 0;
}

NL_EXPORT int nl_audio_conv_create(nl_audio_conv **out, nl_ctx *ctx,
                                   const nl_audio_conv_config *cfg)
{
    if (!out || !cfg)
        return NL_EINVAL;
    *out = NULL;
    if (cfg->input != NL_MEDIA_CODEC_ADPCM && cfg->input != NL_MEDIA_CODEC_AAC)
        return NL_EINVAL;
    if (cfg->output != NL_AUDIO_OUT_AAC && cfg->output != NL_AUDIO_OUT_PCMU &&
        cfg->output != NL_AUDIO_OUT_PCMA)
        return NL_EINVAL;
    if (cfg->input == NL_MEDIA_CODEC_AAC && cfg->output != NL_AUDIO_OUT_AAC)
        return NL_ENOTSUP;
    if (cfg->input_asc_len > 8 || cfg->bit_rate < 0)
        return NL_EINVAL;
    nl_audio_conv *c = nl__calloc(1, sizeof *c);
    if (!c)
        return NL_ENOMEM;
    c->ctx = ctx;
    snprintf(c->who, sizeof c->who, "%s%s", cfg->name ? "audio " : "audio",
             cfg->name ? cfg->name : "");
    c->input = cfg->input;
    c->output = cfg->output;
    c->passthrough = cfg->input == NL_MEDIA_CODEC_AAC;
    c->last_out_us = INT64_MIN;
    if (cfg->input_asc_len) {
        memcpy(c->asc, cfg->input_asc, cfg->input_asc_len);
        c->asc_len = cfg->input_asc_len;
    }
    int rc = nl__pktq_init(&c->out, AC_OUT_QUEUE);
    if (rc == 0 && !(c->scratch = av_packet_alloc()))
        rc = NL_ENOMEM;
    if (rc == 0 && !c->passthrough)
        rc = open_encoder(c, cfg->bit_rate);
    if (rc < 0) {
        nl_audio_conv_destroy(&c);
        return rc;
    }
    *out = c;
    return 0;
}

NL_EXPORT void nl_audio_conv_destroy(nl_audio_conv **cp)
{
    if (!cp || !*cp)
        return;
    nl_audio_conv *c = *cp;
    avcodec_free_context(&c->enc);
    av_frame_free(&c->frame);
    av_packet_free(&c->scratch);
    nl__pktq_free(&c->out);
    nl__free(c);
    *cp = NULL;
}

static int64_t sample_to_us(const nl_audio_conv *c, int64_t sample)
{
    if (!c->have_anchor)
        return AV_NOPTS_VALUE;
    return c->anchor_us + (sample - c->anchor_sample) * 1000000 / NL_ADPCM_RATE;
}

/* Moves every packet the encoder has into the output queue, on the µs clock. */
static int collect(nl_audio_conv *c)
{
    int err;
    while ((err = avcodec_receive_packet(c->enc, c->scratch)) >= 0) {
        AVPacket *p = c->scratch;
        int64_t dur = p->duration * 1000000 / NL_ADPCM_RATE;
        int64_t us = sample_to_us(c, p->pts);
        if (us != AV_NOPTS_VALUE) {
            /* Re-anchoring on a jittery input clock must not send time back. */
            if (c->last_out_us != INT64_MIN && us <= c->last_out_us)
                us = c->last_out_us + 1;
            c->last_out_us = us;
        }
        p->pts = p->dts = us;
        p->duration = dur;
        p->time_base = (AVRational){1, 1000000};
        p->flags |= AV_PKT_FLAG_KEY;
        if (nl__pktq_push(&c->out, p, 1) < 0)
            av_packet_unref(p);
    }
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF)
        return 0;
    return err == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ELIBAV;
}

static int send(nl_audio_conv *c, AVFrame *f)
{
    int err = avcodec_send_frame(c->enc, f);
    if (err == AVERROR(EAGAIN)) {
        /* collect() empties the encoder, so one retry is enough. */
        int rc = collect(c);
        if (rc < 0)
            return rc;
        err = avcodec_send_frame(c->enc, f);
    }
    if (err < 0)
        return err == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ELIBAV;
    return collect(c);
}

/* Sends fifo[0..n) as one frame (n <= 1024), then drops it from the FIFO. */
static int send_aac_frame(nl_audio_conv *c, int n)
{
    AVFrame *f = c->frame;
    if (av_frame_make_writable(f) < 0)
        return NL_ENOMEM;
    float *dst = (float *)f->data[0];
    for (int i = 0; i < n; i++)
        dst[i] = c->fifo[i] * (1.0f / 32768.0f);
    f->nb_samples = n;
    f->pts = c->fifo_start;
    int rc = send(c, f);
    f->nb_samples = AC_AAC_FRAME;
    c->fifo_len -= n;
    memmove(c->fifo, c->fifo + n, (size_t)c->fifo_len * sizeof c->fifo[0]);
    c->fifo_start += n;
    return rc;
}

static int push_adpcm(nl_audio_conv *c, const AVPacket *in)
{
    int n = nl_media_adpcm_decode(in->data, (size_t)in->size, c->pcm, AC_MAX_BLOCK_SAMPLES);
    if (n < 0)
        return n == NL_ETOOBIG ? NL_EINVAL : n;
    if (n == 0)
        return 0; /* a bare header: no samples, nothing to encode */
    if (in->pts != AV_NOPTS_VALUE) {
        c->anchor_sample = c->next_sample;
        c->anchor_us = in->pts;
        c->have_anchor = 1;
    }
    int64_t first = c->next_sample;
    c->next_sample += n;
    if (c->output != NL_AUDIO_OUT_AAC) {
        AVFrame *f = c->frame;
        if (av_frame_make_writable(f) < 0)
            return NL_ENOMEM;
        memcpy(f->data[0], c->pcm, (size_t)n * sizeof c->pcm[0]);
        f->nb_samples = n;
        f->pts = first;
        int rc = send(c, f);
        f->nb_samples = AC_MAX_BLOCK_SAMPLES;
        return rc;
    }
    if (c->fifo_len == 0)
        c->fifo_start = first;
    memcpy(c->fifo + c->fifo_len, c->pcm, (size_t)n * sizeof c->pcm[0]);
    c->fifo_len += n;
    while (c->fifo_len >= AC_AAC_FRAME) {
        int rc = send_aac_frame(c, AC_AAC_FRAME);
        if (rc < 0)
            return rc;
    }
    return 0;
}

NL_EXPORT int nl_audio_conv_push(nl_audio_conv *c, const AVPacket *in)
{
    if (!c || !in || c->flushed)
        return NL_EINVAL;
    if (c->passthrough) {
        if (in->size <= 0)
            return NL_EINVAL;
        int rc = nl__pktq_push(&c->out, (AVPacket *)in, 0);
        return rc < 0 ? rc : 0;
    }
    return push_adpcm(c, in);
}

NL_EXPORT int nl_audio_conv_flush(nl_audio_conv *c)
{
    if (!c)
        return NL_EINVAL;
    if (c->flushed)
        return 0;
    c->flushed = 1;
    if (c->passthrough)
        return 0;
    int rc = 0;
    if (c->output == NL_AUDIO_OUT_AAC && c->fifo_len > 0)
        rc = send_aac_frame(c, c->fifo_len);
    if (rc < 0)
        return rc;
    return send(c, NULL);
}

NL_EXPORT int nl_audio_conv_receive(nl_audio_conv *c, AVPacket *pkt)
{
    if (!c || !pkt)
        return NL_EINVAL;
    if (nl__pktq_pop(&c->out, pkt) == 0) {
        if (c->passthrough)
            pkt->flags |= AV_PKT_FLAG_KEY;
        return 0;
    }
    return c->flushed ? NL_EEOF : NL_EAGAIN;
}

/* sampling_frequency_index -> Hz (ISO 14496-3 table 1.18). */
static const int asc_rates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                  22050, 16000, 12000, 11025, 8000,  7350};

NL_EXPORT int nl_audio_conv_codec_params(const nl_audio_conv *c, AVCodecParameters *par)
{
    if (!c || !par)
        return NL_EINVAL;
    if (c->enc)
        return avcodec_parameters_from_context(par, c->enc) < 0 ? NL_ENOMEM : 0;
    /* Passthrough: describe the camera's AAC from its AudioSpecificConfig. */
    av_freep(&par->extradata);
    par->extradata_size = 0;
    av_channel_layout_uninit(&par->ch_layout);
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_AAC;
    par->profile = FF_PROFILE_AAC_LOW;
    int channels = 1, rate = 16000;
    if (c->asc_len >= 2) {
        unsigned sfi = ((c->asc[0] & 0x07) << 1) | (c->asc[1] >> 7);
        unsigned chc = (c->asc[1] >> 3) & 0x0f;
        if (sfi < 13)
            rate = asc_rates[sfi];
        if (chc >= 1 && chc <= 6)
            channels = (int)chc;
        if (!(par->extradata = av_mallocz(c->asc_len + AV_INPUT_BUFFER_PADDING_SIZE)))
            return NL_ENOMEM;
        memcpy(par->extradata, c->asc, c->asc_len);
        par->extradata_size = (int)c->asc_len;
    }
    par->sample_rate = rate;
    av_channel_layout_default(&par->ch_layout, channels);
    par->frame_size = AC_AAC_FRAME;
    return 0;
}
