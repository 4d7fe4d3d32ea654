/* Codec parameters from in-band parameter sets. See video_params.h. */
#include "media/video_params.h"

#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/mem.h>

#include "neolink/error.h"

void nl__vparams_init(nl__vparams *vp)
{
    nl__psets_init(&vp->ps);
    vp->width = vp->height = 0;
    vp->profile = FF_PROFILE_UNKNOWN;
    vp->level = FF_LEVEL_UNKNOWN;
    vp->generation = 0;
    vp->derived = 0;
}

/* Runs libavcodec's parser over the sets and the first slice (the parser
 * derives the size only once it sees a slice referencing the SPS). Only the
 * slice's first bytes are passed: its header is all the parser reads. */
static int derive(nl__vparams *vp, const uint8_t *au, size_t len)
{
    nl__au_scan scan;
    nl__au_scan_head(vp->ps.codec, au, len, &scan);
    if (!nl__psets_complete(&vp->ps) || scan.first_vcl_type < 0)
        return 0;
    size_t slice = len - scan.first_vcl_off;
    if (slice > 256)
        slice = 256;
    int hdr = nl__psets_annexb(&vp->ps, NULL, 0);
    size_t n = (size_t)hdr + 3 + slice;
    uint8_t *buf = av_malloc(n + AV_INPUT_BUFFER_PADDING_SIZE);
    AVCodecParserContext *pc =
        av_parser_init(vp->ps.codec == NL_MEDIA_CODEC_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264);
    AVCodecContext *avctx = avcodec_alloc_context3(NULL);
    int rc = NL_ENOMEM;
    if (!buf || !pc || !avctx)
        goto out;
    nl__psets_annexb(&vp->ps, buf, (size_t)hdr);
    buf[hdr] = 0;
    buf[hdr + 1] = 0;
    buf[hdr + 2] = 1;
    memcpy(buf + hdr + 3, au + scan.first_vcl_off, slice);
    memset(buf + n, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    pc->flags |= PARSER_FLAG_COMPLETE_FRAMES;
    uint8_t *o;
    int os;
    av_parser_parse2(pc, avctx, &o, &os, buf, (int)n, AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
    if (pc->width > 0 && pc->height > 0 && pc->width <= 16384 && pc->height <= 16384) {
        vp->width = pc->width;
        vp->height = pc->height;
    }
    vp->profile = avctx->profile;
    vp->level = avctx->level;
    vp->derived = 1;
    rc = 0;
out:
    av_parser_close(pc);
    avcodec_free_context(&avctx);
    av_free(buf);
    return rc;
}

int nl__vparams_update(nl__vparams *vp, nl_media_codec codec, const uint8_t *au, size_t len,
                       nl__au_scan *scan)
{
    if (!nl__psets_update(&vp->ps, codec, au, len, scan)) {
        /* Sets known but never seen with a slice yet: try again. */
        if (!vp->derived && nl__psets_complete(&vp->ps))
            return derive(vp, au, len) < 0 ? NL_ENOMEM : 0;
        return 0;
    }
    vp->generation++;
    vp->width = vp->height = 0;
    vp->profile = FF_PROFILE_UNKNOWN;
    vp->level = FF_LEVEL_UNKNOWN;
    vp->derived = 0;
    int rc = derive(vp, au, len);
    return rc < 0 ? rc : 1;
}

void nl__vparams_format(const nl__vparams *vp, nl_media_video_format *f)
{
    f->codec = vp->ps.codec;
    f->width = vp->width;
    f->height = vp->height;
    f->profile = vp->profile;
    f->level = vp->level;
    f->have_params = nl__psets_complete(&vp->ps);
    f->generation = vp->generation;
}

int nl__vparams_to_codecpar(const nl__vparams *vp, AVCodecParameters *par)
{
    if (!nl__psets_complete(&vp->ps))
        return NL_EAGAIN;
    int n = nl__psets_annexb(&vp->ps, NULL, 0);
    uint8_t *ex = av_mallocz((size_t)n + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!ex)
        return NL_ENOMEM;
    nl__psets_annexb(&vp->ps, ex, (size_t)n);
    av_freep(&par->extradata);
    par->extradata = ex;
    par->extradata_size = n;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = vp->ps.codec == NL_MEDIA_CODEC_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
    par->width = vp->width;
    par->height = vp->height;
    par->profile = vp->profile;
    par->level = vp->level;
    par->format = -1;
    return 0;
}
