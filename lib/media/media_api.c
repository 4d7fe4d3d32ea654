/* Public BcMedia API (include/neolink/media.h): argument checks and thin
 * wrappers over the demuxer in bcmedia.c and the codec helpers. */
#include <string.h>

#include <libavcodec/defs.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>

#include "media/adpcm.h"
#include "media/bcmedia.h"
#include "media/nal.h"
#include "media/video_params.h"
#include "neolink/error.h"
#include "neolink/media.h"

NL_EXPORT int nl_media_demux_create(nl_media_demux **out, const nl_media_demux_config *cfg)
{
    if (!out)
        return NL_EINVAL;
    return nl__bcm_demux_create(out, cfg ? cfg->max_video_payload : 0);
}

NL_EXPORT void nl_media_demux_destroy(nl_media_demux **d)
{
    nl__bcm_demux_destroy(d);
}

NL_EXPORT int nl_media_demux_feed(nl_media_demux *d, const uint8_t *data, size_t len,
                                  size_t *consumed)
{
    if (consumed)
        *consumed = 0;
    if (!d || !consumed || (!data && len))
        return NL_EINVAL;
    return nl__bcm_demux_feed(d, data, len, consumed);
}

NL_EXPORT int nl_media_demux_next(nl_media_demux *d, AVPacket **pkt, nl_media_meta *meta)
{
    if (!d || !pkt)
        return NL_EINVAL;
    return nl__bcm_demux_next(d, pkt, meta);
}

NL_EXPORT int nl_media_demux_finish(nl_media_demux *d)
{
    if (!d)
        return NL_EINVAL;
    return nl__bcm_demux_finish(d);
}

NL_EXPORT void nl_media_demux_reset(nl_media_demux *d)
{
    if (d)
        nl__bcm_demux_reset(d);
}

NL_EXPORT void nl_media_demux_stats(const nl_media_demux *d, nl_media_stats *st)
{
    if (!st)
        return;
    if (d)
        *st = d->stats;
    else
        memset(st, 0, sizeof *st);
}

NL_EXPORT int nl_media_demux_info(const nl_media_demux *d, nl_media_info *info)
{
    if (!d || !info)
        return NL_EINVAL;
    if (!d->have_info)
        return NL_EAGAIN;
    *info = d->info;
    return 0;
}

NL_EXPORT void nl_media_demux_video_format(const nl_media_demux *d, nl_media_video_format *f)
{
    if (!f)
        return;
    nl__vparams vp;
    if (!d) {
        nl__vparams_init(&vp);
        nl__vparams_format(&vp, f);
        return;
    }
    nl__vparams_format(&d->vparams, f);
}

NL_EXPORT void nl_media_demux_audio_format(const nl_media_demux *d, nl_media_audio_format *f)
{
    if (!f)
        return;
    if (d)
        *f = d->afmt;
    else
        memset(f, 0, sizeof *f);
}

NL_EXPORT int nl_media_demux_video_params(const nl_media_demux *d, AVCodecParameters *par)
{
    if (!d || !par)
        return NL_EINVAL;
    return nl__vparams_to_codecpar(&d->vparams, par);
}

NL_EXPORT int nl_media_demux_audio_params(const nl_media_demux *d, AVCodecParameters *par)
{
    if (!d || !par)
        return NL_EINVAL;
    const nl_media_audio_format *f = &d->afmt;
    if (f->codec == NL_MEDIA_CODEC_NONE)
        return NL_EAGAIN;
    if (f->codec != NL_MEDIA_CODEC_AAC)
        return NL_ENOTSUP;
    uint8_t *ex = av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!ex)
        return NL_ENOMEM;
    memcpy(ex, f->asc, 2);
    av_freep(&par->extradata);
    par->extradata = ex;
    par->extradata_size = 2;
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_AAC;
    par->sample_rate = f->sample_rate;
    par->frame_size = 1024;
    av_channel_layout_uninit(&par->ch_layout);
    av_channel_layout_default(&par->ch_layout, f->channels);
    return 0;
}

NL_EXPORT int nl_media_demux_ensure_params(const nl_media_demux *d, AVPacket *pkt)
{
    if (!d || !pkt || (!pkt->data && pkt->size))
        return NL_EINVAL;
    return nl__nal_prepend_params(&d->vparams.ps, pkt);
}

NL_EXPORT int nl_media_adpcm_decode(const uint8_t *block, size_t len, int16_t *out, size_t out_cap)
{
    if (!block || (!out && out_cap))
        return NL_EINVAL;
    return nl__adpcm_decode_block(block, len, out, out_cap, NULL);
}

NL_EXPORT const char *nl_media_kind_name(nl_media_kind kind)
{
    switch (kind) {
    case NL_MEDIA_KIND_INFO:
        return "info";
    case NL_MEDIA_KIND_IFRAME:
        return "iframe";
    case NL_MEDIA_KIND_PFRAME:
        return "pframe";
    case NL_MEDIA_KIND_AAC:
        return "aac";
    case NL_MEDIA_KIND_ADPCM:
        return "adpcm";
    default:
        return "none";
    }
}

NL_EXPORT const char *nl_media_codec_name(nl_media_codec codec)
{
    switch (codec) {
    case NL_MEDIA_CODEC_H264:
        return "H264";
    case NL_MEDIA_CODEC_H265:
        return "H265";
    case NL_MEDIA_CODEC_AAC:
        return "AAC";
    case NL_MEDIA_CODEC_ADPCM:
        return "ADPCM";
    default:
        return "none";
    }
}
