/* swscale wrapper with a reused output frame. See scaler.h. */
#include <string.h>

#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "hw/scaler.h"
#include "neolink/error.h"

void nl__scaler_init(nl__scaler *s)
{
    memset(s, 0, sizeof *s);
}

void nl__scaler_free(nl__scaler *s)
{
    sws_freeContext(s->sws);
    s->sws = NULL;
    av_frame_free(&s->dst);
}

static int even(long v)
{
    v &= ~1L;
    return v < 2 ? 2 : (int)v;
}

void nl__hw_fit_size(int in_w, int in_h, int want_w, int want_h, int *out_w, int *out_h)
{
    if (in_w <= 0 || in_h <= 0) {
        in_w = want_w > 0 ? want_w : 2;
        in_h = want_h > 0 ? want_h : 2;
    }
    long w, h;
    if (want_w > 0 && want_h > 0) {
        w = want_w;
        h = want_h;
    } else if (want_w > 0) {
        w = want_w;
        h = ((long)in_h * want_w + in_w / 2) / in_w; /* rounded */
    } else if (want_h > 0) {
        h = want_h;
        w = ((long)in_w * want_h + in_h / 2) / in_h;
    } else {
        w = in_w;
        h = in_h;
    }
    *out_w = even(w);
    *out_h = even(h);
}

/* The yuvj formats are yuv formats with full range; swscale still takes
 * them but warns ("deprecated pixel format") on every context. So they are
 * mapped to their yuv twin and the range is given explicitly. */
static enum AVPixelFormat unj(enum AVPixelFormat f, int *full)
{
    switch (f) {
    case AV_PIX_FMT_YUVJ420P:
        *full = 1;
        return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
        *full = 1;
        return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P:
        *full = 1;
        return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P:
        *full = 1;
        return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P:
        *full = 1;
        return AV_PIX_FMT_YUV411P;
    default:
        return f;
    }
}

/* The ranges must be known when the context is initialised: swscale picks
 * an unscaled copy for same-size same-format work and would ignore a range
 * changed afterwards with sws_setColorspaceDetails. So the context is made
 * with its options set, and remade when any of them changes. */
static int ensure_context(nl__scaler *s, int sw, int sh, enum AVPixelFormat sf, int sfull, int dw,
                          int dh, enum AVPixelFormat df, int dfull)
{
    int key[8] = {sw, sh, sf, sfull, dw, dh, df, dfull};
    if (s->sws && !memcmp(key, s->key, sizeof key))
        return 0;
    sws_freeContext(s->sws);
    if (!(s->sws = sws_alloc_context()))
        return NL_ENOMEM;
    av_opt_set_int(s->sws, "srcw", sw, 0);
    av_opt_set_int(s->sws, "srch", sh, 0);
    av_opt_set_int(s->sws, "src_format", sf, 0);
    av_opt_set_int(s->sws, "src_range", sfull, 0);
    av_opt_set_int(s->sws, "dstw", dw, 0);
    av_opt_set_int(s->sws, "dsth", dh, 0);
    av_opt_set_int(s->sws, "dst_format", df, 0);
    av_opt_set_int(s->sws, "dst_range", dfull, 0);
    av_opt_set_int(s->sws, "sws_flags", SWS_BILINEAR, 0);
    if (sws_init_context(s->sws, NULL, NULL) < 0) {
        sws_freeContext(s->sws);
        s->sws = NULL;
        return NL_ELIBAV;
    }
    memcpy(s->key, key, sizeof key);
    return 0;
}

int nl__scaler_convert(nl__scaler *s, const AVFrame *src, int w, int h, enum AVPixelFormat fmt,
                       const AVFrame **out)
{
    if (src->width == w && src->height == h && src->format == fmt) {
        *out = src;
        return 0;
    }
    int src_full = src->color_range == AVCOL_RANGE_JPEG, dst_full = 0;
    enum AVPixelFormat sf = unj(src->format, &src_full), df = unj(fmt, &dst_full);
    int rc = ensure_context(s, src->width, src->height, sf, src_full, w, h, df, dst_full);
    if (rc < 0)
        return rc;
    if (!s->dst && !(s->dst = av_frame_alloc()))
        return NL_ENOMEM;
    AVFrame *d = s->dst;
    if (d->width != w || d->height != h || d->format != fmt || !d->buf[0]) {
        av_frame_unref(d);
        d->width = w;
        d->height = h;
        d->format = fmt;
        if (av_frame_get_buffer(d, 0) < 0) {
            av_frame_unref(d);
            return NL_ENOMEM;
        }
    } else if (av_frame_make_writable(d) < 0) {
        return NL_ENOMEM;
    }
    if (sws_scale(s->sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, d->data,
                  d->linesize) <= 0)
        return NL_ELIBAV;
    d->pts = src->pts;
    d->pkt_dts = src->pkt_dts;
    d->pkt_duration = src->pkt_duration;
    d->flags = src->flags;
    d->pict_type = AV_PICTURE_TYPE_NONE;
    d->sample_aspect_ratio = (AVRational){1, 1};
    d->color_range = dst_full ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    d->colorspace = src->colorspace;
    d->color_primaries = src->color_primaries;
    d->color_trc = src->color_trc;
    *out = d;
    return 0;
}
