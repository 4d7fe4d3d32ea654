/* H.264/H.265 decoding with optional VAAPI. See decoder.h. */
#include <libavutil/hwcontext.h>
#include <libavutil/pixdesc.h>

#include "core/log.h"
#include "hw/decoder.h"
#include "neolink/error.h"

static enum AVPixelFormat pick_format(AVCodecContext *avctx, const enum AVPixelFormat *fmts)
{
    nl__decoder *d = avctx->opaque;
    if (d->hw_wanted) {
        for (const enum AVPixelFormat *f = fmts; *f != AV_PIX_FMT_NONE; f++) {
            if (*f == AV_PIX_FMT_VAAPI) {
                d->hw_active = 1;
                return *f;
            }
        }
        if (d->hw_active) {
            /* libavcodec retries without VAAPI after its init failed. */
            NL_LOGW(d->ctx, d->who, "VAAPI decoding failed to start; decoding in software");
        }
    }
    d->hw_active = 0;
    /* The first software format is the decoder's native one. */
    for (const enum AVPixelFormat *f = fmts; *f != AV_PIX_FMT_NONE; f++) {
        const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(*f);
        if (desc && !(desc->flags & AV_PIX_FMT_FLAG_HWACCEL))
            return *f;
    }
    return AV_PIX_FMT_NONE;
}

int nl__decoder_open(nl__decoder *d, const nl_ctx *ctx, const char *who, nl_media_codec codec,
                     AVBufferRef *hwdev, int threads)
{
    *d = (nl__decoder){.ctx = ctx, .who = who};
    enum AVCodecID id;
    if (codec == NL_MEDIA_CODEC_H264)
        id = AV_CODEC_ID_H264;
    else if (codec == NL_MEDIA_CODEC_H265)
        id = AV_CODEC_ID_HEVC;
    else
        return NL_ECODEC;
    const AVCodec *c = avcodec_find_decoder(id);
    if (!c)
        return NL_ECODEC;
    if (!(d->avctx = avcodec_alloc_context3(c)) || !(d->frame = av_frame_alloc()) ||
        !(d->sw = av_frame_alloc())) {
        nl__decoder_close(d);
        return NL_ENOMEM;
    }
    d->avctx->opaque = d;
    d->avctx->thread_count = threads;
    d->avctx->get_format = pick_format;
    if (hwdev) {
        if (!(d->avctx->hw_device_ctx = av_buffer_ref(hwdev))) {
            nl__decoder_close(d);
            return NL_ENOMEM;
        }
        d->hw_wanted = 1;
    }
    int err = avcodec_open2(d->avctx, c, NULL);
    if (err < 0) {
        nl__decoder_close(d);
        return err == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ECODEC;
    }
    return 0;
}

void nl__decoder_close(nl__decoder *d)
{
    avcodec_free_context(&d->avctx);
    av_frame_free(&d->frame);
    av_frame_free(&d->sw);
}

int nl__decoder_send(nl__decoder *d, const AVPacket *pkt)
{
    int err = avcodec_send_packet(d->avctx, pkt);
    if (err >= 0)
        return 0;
    if (err == AVERROR(EAGAIN))
        return NL_EAGAIN;
    if (err == AVERROR_EOF)
        return NL_EEOF;
    if (err == AVERROR(ENOMEM))
        return NL_ENOMEM;
    d->errors++;
    return 0;
}

int nl__decoder_receive(nl__decoder *d, AVFrame **out)
{
    av_frame_unref(d->frame);
    int err = avcodec_receive_frame(d->avctx, d->frame);
    if (err == AVERROR(EAGAIN))
        return NL_EAGAIN;
    if (err == AVERROR_EOF)
        return NL_EEOF;
    if (err < 0) {
        d->errors++;
        return NL_ELIBAV;
    }
    if (d->frame->format != AV_PIX_FMT_VAAPI) {
        *out = d->frame;
        return 0;
    }
    /* Download the surface; NV12 is what the VAAPI decoders produce. */
    av_frame_unref(d->sw);
    err = av_hwframe_transfer_data(d->sw, d->frame, 0);
    if (err >= 0)
        err = av_frame_copy_props(d->sw, d->frame);
    av_frame_unref(d->frame);
    if (err < 0) {
        d->errors++;
        return err == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ELIBAV;
    }
    *out = d->sw;
    return 0;
}
