/* Encode contexts: VAAPI (h264_vaapi / hevc_vaapi) or libx264 / libx265,
 * with the fallback chain of RTSP.md 5.2 and arena-owned references.
 *
 * Ownership: every libav object the context holds is a field of the struct,
 * and one cleanup handler per field is registered on the context's own
 * arena before the object is created. The handlers are NULL-safe and run in
 * reverse order (packet/frames first, then codec, frames context, device),
 * so destroying the arena releases everything on any path: opened,
 * half-opened, or failed over from VAAPI to software. */
#include <stdio.h>
#include <string.h>

#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>

#include "core/log.h"
#include "hw/device.h"
#include "hw/encoder.h"
#include "hw/hw_stats.h"
#include "hw/scaler.h"
#include "hw/thread.h"
#include "neolink/error.h"

struct nl_hwenc {
    nl_arena *arena; /* owns this struct; a root arena so a helper thread may destroy it */
    nl_ctx *ctx;
    char who[80];
    nl_hwenc_config cfg; /* strings point into the arena */
    nl__hw_node live;
    int opened;

    nl_hw_backend backend;
    const char *encoder_name;
    char reason[NL_HW_REASON_MAX];
    char device_path[NL_HW_PATH_MAX];

    AVBufferRef *device; /* our reference */
    int device_counted;  /* it came from nl__hw_device_open (counted in stats) */
    AVBufferRef *frames; /* VAAPI frames context */
    AVCodecContext *avctx;
    AVFrame *hwframe; /* upload target, unreferenced after each send */
    nl__scaler scaler;
    enum AVPixelFormat sw_format; /* what frames are converted to before sending */

    nl_arena *owner;
    nl_arena_cleanup *owner_cleanup;
};

NL_EXPORT void nl_hwenc_config_init(nl_hwenc_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->codec = NL_MEDIA_CODEC_H264;
    cfg->fps = 25;
    cfg->rc = NL_HW_RC_VBR;
    cfg->hwaccel = NL_HWACCEL_AUTO;
    cfg->time_base = (AVRational){1, 1000000};
}

/* ------------------------------------------------------------ cleanup handlers */

static void free_packet_side(void *arg)
{
    nl_hwenc *e = arg;
    av_frame_free(&e->hwframe);
    nl__scaler_free(&e->scaler);
}

static void free_codec(void *arg)
{
    nl_hwenc *e = arg;
    avcodec_free_context(&e->avctx);
}

static void free_frames(void *arg)
{
    nl_hwenc *e = arg;
    av_buffer_unref(&e->frames);
}

static void free_device(void *arg)
{
    nl_hwenc *e = arg;
    if (e->device_counted)
        nl__hw_device_release(&e->device);
    else
        av_buffer_unref(&e->device);
    e->device_counted = 0;
}

static void unlink_live(void *arg)
{
    nl_hwenc *e = arg;
    nl__hw_live_remove(NL__HWL_ENCODERS, &e->live);
    if (e->opened)
        nl__hw_count(NL__HWC_ENC_CLOSED, 1);
}

/* Drops the VAAPI state after a failed step, before trying software. */
static void drop_vaapi(nl_hwenc *e)
{
    free_codec(e);
    free_frames(e);
    free_device(e);
}

/* ------------------------------------------------------------ settings */

static int64_t default_bit_rate(const nl_hwenc_config *c)
{
    /* 0.1 bit per pixel per frame: 1080p25 ~ 5.2 Mbit/s, 720p25 ~ 2.3. */
    return (int64_t)c->width * c->height * c->fps / 10;
}

static int check_config(const nl_hwenc_config *c)
{
    if (c->codec != NL_MEDIA_CODEC_H264 && c->codec != NL_MEDIA_CODEC_H265)
        return NL_ECONFIG;
    if (c->width < NL_HWENC_MIN_SIDE || c->height < NL_HWENC_MIN_SIDE ||
        c->width > NL_HWENC_MAX_SIDE || c->height > NL_HWENC_MAX_SIDE || (c->width & 1) ||
        (c->height & 1))
        return NL_ECONFIG;
    if (c->fps < 1 || c->fps > 240 || c->bit_rate < 0 || c->gop < 0 || c->gop > 100000)
        return NL_ECONFIG;
    if (c->rc != NL_HW_RC_VBR && c->rc != NL_HW_RC_CBR && c->rc != NL_HW_RC_CQP)
        return NL_ECONFIG;
    if (c->qp < 0 || c->qp > 51 || c->threads < 0 || c->threads > 64)
        return NL_ECONFIG;
    if (c->hwaccel != NL_HWACCEL_AUTO && c->hwaccel != NL_HWACCEL_VAAPI &&
        c->hwaccel != NL_HWACCEL_SOFTWARE)
        return NL_ECONFIG;
    if (c->time_base.num <= 0 || c->time_base.den <= 0)
        return NL_ECONFIG;
    return 0;
}

/* Settings shared by every backend. */
static void set_common(nl_hwenc *e, AVCodecContext *c)
{
    const nl_hwenc_config *cfg = &e->cfg;
    c->width = cfg->width;
    c->height = cfg->height;
    c->time_base = cfg->time_base;
    c->framerate = (AVRational){cfg->fps, 1};
    c->gop_size = cfg->gop;
    c->max_b_frames = 0; /* RTP and low latency: pts == dts, no reordering */
    c->sample_aspect_ratio = (AVRational){1, 1};
    /* Extradata for the SDP; in-band headers are switched back on per
     * backend (repeat-headers / packed headers). */
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int64_t br = cfg->bit_rate;
    switch (cfg->rc) {
    case NL_HW_RC_CBR:
        c->bit_rate = br;
        c->rc_max_rate = br;
        c->rc_buffer_size = (int)(br > INT32_MAX ? INT32_MAX : br);
        break;
    case NL_HW_RC_VBR:
        c->bit_rate = br;
        c->rc_max_rate = 2 * br;
        c->rc_buffer_size = (int)(2 * br > INT32_MAX ? INT32_MAX : 2 * br);
        break;
    case NL_HW_RC_CQP:
        c->global_quality = cfg->qp;
        break;
    }
}

static void averr(char *out, size_t cap, const char *step, const char *what, int err)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, msg, sizeof msg);
    snprintf(out, cap, "%s: %s: %s", step, what, msg);
}

/* ------------------------------------------------------------ VAAPI */

/* Step 3: a frames context of the wanted size (RTSP.md 5.1 step 2). */
static int open_frames(nl_hwenc *e)
{
    const nl_hwenc_config *c = &e->cfg;
    AVHWFramesConstraints *cons = av_hwdevice_get_hwframe_constraints(e->device, NULL);
    if (cons) {
        int ok_size = c->width >= cons->min_width && c->height >= cons->min_height &&
                      (cons->max_width <= 0 || c->width <= cons->max_width) &&
                      (cons->max_height <= 0 || c->height <= cons->max_height);
        int ok_fmt = !cons->valid_sw_formats;
        for (const enum AVPixelFormat *f = cons->valid_sw_formats; f && *f != AV_PIX_FMT_NONE; f++)
            ok_fmt |= *f == AV_PIX_FMT_NV12;
        int minw = cons->min_width, minh = cons->min_height;
        int maxw = cons->max_width, maxh = cons->max_height;
        av_hwframe_constraints_free(&cons);
        if (!ok_size) {
            snprintf(e->reason, sizeof e->reason,
                     "frames context: %dx%d outside the driver's %dx%d..%dx%d", c->width, c->height,
                     minw, minh, maxw, maxh);
            return NL_EHW;
        }
        if (!ok_fmt) {
            snprintf(e->reason, sizeof e->reason,
                     "frames context: the driver has no NV12 surfaces");
            return NL_EHW;
        }
    }
    e->frames = av_hwframe_ctx_alloc(e->device);
    if (!e->frames) {
        snprintf(e->reason, sizeof e->reason, "frames context: out of memory");
        return NL_ENOMEM;
    }
    AVHWFramesContext *fc = (AVHWFramesContext *)e->frames->data;
    fc->format = AV_PIX_FMT_VAAPI;
    fc->sw_format = AV_PIX_FMT_NV12;
    fc->width = c->width;
    fc->height = c->height;
    fc->initial_pool_size = 20;
    int err = av_hwframe_ctx_init(e->frames);
    if (err < 0) {
        averr(e->reason, sizeof e->reason, "frames context", "av_hwframe_ctx_init", err);
        return NL_EHW;
    }
    return 0;
}

static int try_vaapi(nl_hwenc *e, AVBufferRef *dev, const char *dev_reason)
{
    const nl_hwenc_config *c = &e->cfg;
    /* Steps 1 and 2: the device. */
    if (dev) {
        if (!(e->device = av_buffer_ref(dev)))
            return NL_ENOMEM;
    } else if (dev_reason) {
        snprintf(e->reason, sizeof e->reason, "%s", dev_reason);
        return NL_EHW;
    } else {
        int rc = nl__hw_device_open(c->device, &e->device, e->device_path, sizeof e->device_path,
                                    e->reason, sizeof e->reason);
        if (rc < 0)
            return rc;
        e->device_counted = 1;
    }
    /* Step 3. */
    int rc = open_frames(e);
    if (rc < 0)
        return rc;
    /* Step 4: an encode entrypoint, then the encoder itself. */
    if ((rc = nl__hw_device_check_encode(e->device, c->codec, e->reason, sizeof e->reason)) < 0)
        return rc;
    const char *name = c->codec == NL_MEDIA_CODEC_H265 ? "hevc_vaapi" : "h264_vaapi";
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    if (!codec) {
        snprintf(e->reason, sizeof e->reason, "encoder open: %s is not in this libavcodec", name);
        return NL_EHW;
    }
    if (!(e->avctx = avcodec_alloc_context3(codec)))
        return NL_ENOMEM;
    set_common(e, e->avctx);
    e->avctx->pix_fmt = AV_PIX_FMT_VAAPI;
    if (!(e->avctx->hw_frames_ctx = av_buffer_ref(e->frames)))
        return NL_ENOMEM;
    void *priv = e->avctx->priv_data;
    static const char *const rc_names[] = {"VBR", "CBR", "CQP"};
    av_opt_set(priv, "rc_mode", rc_names[c->rc], 0);
    if (c->rc == NL_HW_RC_CQP)
        av_opt_set_int(priv, "qp", c->qp, 0);
    /* No SEI: a cleaner stream for RTSP clients (RTSP.md 5.1). */
    av_opt_set_int(priv, "sei", 0, 0);
    int err = avcodec_open2(e->avctx, codec, NULL);
    if (err < 0) {
        char what[64];
        snprintf(what, sizeof what, "avcodec_open2(%s)", name);
        averr(e->reason, sizeof e->reason, "encoder open", what, err);
        return NL_EHW;
    }
    if (!(e->hwframe = av_frame_alloc()))
        return NL_ENOMEM;
    e->encoder_name = name;
    e->sw_format = AV_PIX_FMT_NV12;
    return 0;
}

/* ------------------------------------------------------------ software */

static int try_software(nl_hwenc *e)
{
    const nl_hwenc_config *c = &e->cfg;
    int h265 = c->codec == NL_MEDIA_CODEC_H265;
    const char *name = h265 ? "libx265" : "libx264";
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    if (!codec) {
        NL_LOGE(e->ctx, e->who, "software encoder %s is not in this libavcodec", name);
        return NL_ECODEC;
    }
    if (!(e->avctx = avcodec_alloc_context3(codec)))
        return NL_ENOMEM;
    set_common(e, e->avctx);
    e->avctx->pix_fmt = AV_PIX_FMT_YUV420P;
    e->avctx->thread_count = c->threads;
    void *priv = e->avctx->priv_data;
    const char *preset = c->preset ? c->preset : (h265 ? "ultrafast" : "veryfast");
    av_opt_set(priv, "preset", preset, 0);
    av_opt_set(priv, "tune", "zerolatency", 0);
    if (c->rc == NL_HW_RC_CQP)
        av_opt_set_int(priv, "qp", c->qp, 0);
    /* GLOBAL_HEADER turns in-band headers off; repeat-headers=1 is parsed
     * after that and turns them back on (RTSP.md 1.5: 0 vs 1 SPS per IDR).
     * scenecut=0 keeps IDRs on the GOP grid like a camera's, so a GOP cache
     * downstream holds predictable amounts. */
    if (h265)
        av_opt_set(priv, "x265-params", "repeat-headers=1:scenecut=0:log-level=error", 0);
    else
        av_opt_set(priv, "x264-params", "repeat-headers=1:scenecut=0", 0);
    int err = avcodec_open2(e->avctx, codec, NULL);
    if (err < 0) {
        char msg[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(err, msg, sizeof msg);
        NL_LOGE(e->ctx, e->who, "software encoder %s did not open: %s", name, msg);
        return NL_ECODEC;
    }
    e->encoder_name = name;
    e->sw_format = AV_PIX_FMT_YUV420P;
    return 0;
}

/* ------------------------------------------------------------ open / close */

static char *dup_opt(nl_arena *a, const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = nl_arena_strdup(a, s);
    if (!d)
        *fail = 1;
    return d;
}

static void owner_destroyed(void *arg)
{
    nl_hwenc *e = arg;
    e->owner_cleanup = NULL;
    e->owner = NULL;
    nl_hwenc_close(&e, NL_HWENC_OWNER_CLOSE_MS);
}

static int create(nl_hwenc **out, nl_ctx *ctx, const nl_hwenc_config *cfg_in)
{
    nl_hwenc_config cfg = *cfg_in;
    if (cfg.codec == NL_MEDIA_CODEC_NONE)
        cfg.codec = NL_MEDIA_CODEC_H264;
    if (cfg.time_base.num == 0 && cfg.time_base.den == 0)
        cfg.time_base = (AVRational){1, 1000000};
    if (cfg.fps == 0)
        cfg.fps = 25;
    int rc = check_config(&cfg);
    if (rc < 0)
        return rc;
    if (cfg.gop == 0)
        cfg.gop = 2 * cfg.fps;
    if (cfg.bit_rate == 0 && cfg.rc != NL_HW_RC_CQP)
        cfg.bit_rate = default_bit_rate(&cfg);
    if (cfg.qp == 0)
        cfg.qp = 26;

    nl_arena *a = NULL;
    if ((rc = nl_arena_create(&a, NULL, NL_HWENC_ARENA_CAP, "hwenc")) < 0)
        return rc;
    nl_hwenc *e = nl_arena_alloc(a, sizeof *e);
    if (!e) {
        nl_arena_destroy(&a);
        return NL_ENOMEM;
    }
    e->arena = a;
    e->ctx = ctx;
    e->cfg = cfg;
    e->backend = NL_HW_BACKEND_NONE;
    e->encoder_name = "";
    nl__scaler_init(&e->scaler);
    snprintf(e->who, sizeof e->who, "%s%s", cfg.name ? "hwenc " : "hwenc",
             cfg.name ? cfg.name : "");
    int fail = 0;
    e->cfg.name = dup_opt(a, cfg.name, &fail);
    e->cfg.device = dup_opt(a, cfg.device, &fail);
    e->cfg.preset = dup_opt(a, cfg.preset, &fail);
    /* Registered first, so it runs last: the context counts as live until
     * everything below has been released. */
    nl__hw_live_add(NL__HWL_ENCODERS, &e->live);
    if (!nl_arena_on_destroy(a, unlink_live, e)) {
        nl__hw_live_remove(NL__HWL_ENCODERS, &e->live);
        fail = 1;
    }
    if (fail || !nl_arena_on_destroy(a, free_device, e) ||
        !nl_arena_on_destroy(a, free_frames, e) || !nl_arena_on_destroy(a, free_codec, e) ||
        !nl_arena_on_destroy(a, free_packet_side, e)) {
        nl_arena_destroy(&a);
        return NL_ENOMEM;
    }
    *out = e;
    return 0;
}

int nl__hwenc_open_on(nl_hwenc **out, nl_ctx *ctx, const nl_hwenc_config *cfg, AVBufferRef *dev,
                      const char *dev_reason)
{
    if (!out || !cfg)
        return NL_EINVAL;
    *out = NULL;
    nl_hwenc *e;
    int rc = create(&e, ctx, cfg);
    if (rc < 0)
        return rc;
    const nl_hwenc_config *c = &e->cfg;
    const char *cname = c->codec == NL_MEDIA_CODEC_H265 ? "H.265" : "H.264";
    if (c->hwaccel != NL_HWACCEL_SOFTWARE) {
        rc = try_vaapi(e, dev, dev_reason);
        if (rc == 0) {
            e->backend = NL_HW_BACKEND_VAAPI;
        } else if (rc == NL_ENOMEM) {
            goto fail;
        } else {
            drop_vaapi(e);
            if (c->hwaccel == NL_HWACCEL_VAAPI) {
                NL_LOGE(ctx, e->who,
                        "VAAPI %s encoder unavailable (hwaccel vaapi, no fallback): %s", cname,
                        e->reason);
                rc = NL_EHW;
                goto fail;
            }
            NL_LOGW(ctx, e->who, "VAAPI unavailable, falling back to software: %s", e->reason);
            nl__hw_count(NL__HWC_FALLBACKS, 1);
        }
    }
    if (e->backend == NL_HW_BACKEND_NONE) {
        if ((rc = try_software(e)) < 0)
            goto fail;
        e->backend = NL_HW_BACKEND_SOFTWARE;
    }
    e->opened = 1;
    nl__hw_count(NL__HWC_ENC_OPENED, 1);
    nl__hw_count(e->backend == NL_HW_BACKEND_VAAPI ? NL__HWC_ENC_VAAPI : NL__HWC_ENC_SOFTWARE, 1);
    char rate[48];
    if (c->rc == NL_HW_RC_CQP)
        snprintf(rate, sizeof rate, "qp %d", c->qp);
    else
        snprintf(rate, sizeof rate, "%s %lld bit/s", c->rc == NL_HW_RC_CBR ? "cbr" : "vbr",
                 (long long)c->bit_rate);
    NL_LOGI(ctx, e->who, "%s encoder %s (%s) %dx%d@%d, gop %d, %s%s%s", cname, e->encoder_name,
            nl_hw_backend_name(e->backend), c->width, c->height, c->fps, c->gop, rate,
            e->device_path[0] ? " on " : "", e->device_path);
    *out = e;
    return 0;
fail:;
    /* e lives in the arena: destroy through a copy of the pointer. */
    nl_arena *a = e->arena;
    nl_arena_destroy(&a);
    return rc;
}

NL_EXPORT int nl_hwenc_open(nl_hwenc **out, nl_ctx *ctx, nl_arena *owner,
                            const nl_hwenc_config *cfg)
{
    if (!out)
        return NL_EINVAL;
    *out = NULL;
    nl_hwenc *e;
    int rc = nl__hwenc_open_on(&e, ctx, cfg, NULL, NULL);
    if (rc < 0)
        return rc;
    if (owner) {
        e->owner = owner;
        if (!(e->owner_cleanup = nl_arena_on_destroy(owner, owner_destroyed, e))) {
            e->owner = NULL;
            nl_hwenc_close(&e, NL_HW_WAIT_FOREVER);
            return NL_ENOMEM;
        }
    }
    *out = e;
    return 0;
}

static void destroy_arena(void *arg)
{
    nl_arena *a = arg;
    nl_arena_destroy(&a);
}

NL_EXPORT int nl_hwenc_close(nl_hwenc **enc, uint32_t timeout_ms)
{
    if (!enc || !*enc)
        return 0;
    nl_hwenc *e = *enc;
    *enc = NULL;
    if (e->owner_cleanup)
        nl_arena_cleanup_cancel(e->owner, e->owner_cleanup);
    /* The context (and its who string) may be gone as soon as the helper
     * starts, so the log label is copied first. */
    char who[sizeof e->who];
    memcpy(who, e->who, sizeof who);
    const nl_ctx *ctx = e->ctx;
    return nl__hw_run_bounded(ctx, who, "closing the encoder", destroy_arena, e->arena, timeout_ms);
}

/* ------------------------------------------------------------ encoding */

static int map_err(int err)
{
    if (err >= 0)
        return 0;
    if (err == AVERROR(EAGAIN))
        return NL_EAGAIN;
    if (err == AVERROR_EOF)
        return NL_EEOF;
    if (err == AVERROR(ENOMEM))
        return NL_ENOMEM;
    return NL_ELIBAV;
}

NL_EXPORT nl_hw_backend nl_hwenc_backend(const nl_hwenc *enc)
{
    return enc ? enc->backend : NL_HW_BACKEND_NONE;
}

NL_EXPORT const char *nl_hwenc_encoder_name(const nl_hwenc *enc)
{
    return enc ? enc->encoder_name : "";
}

NL_EXPORT const char *nl_hwenc_fallback_reason(const nl_hwenc *enc)
{
    if (!enc || enc->backend == NL_HW_BACKEND_VAAPI)
        return "";
    return enc->reason;
}

NL_EXPORT int nl_hwenc_send_frame(nl_hwenc *e, const AVFrame *frame)
{
    if (!e || !e->avctx)
        return NL_EINVAL;
    if (!frame)
        return map_err(avcodec_send_frame(e->avctx, NULL));
    if (frame->format == AV_PIX_FMT_VAAPI) {
        if (e->backend != NL_HW_BACKEND_VAAPI || frame->width != e->cfg.width ||
            frame->height != e->cfg.height)
            return NL_EINVAL;
        return map_err(avcodec_send_frame(e->avctx, frame));
    }
    const AVFrame *in;
    int rc = nl__scaler_convert(&e->scaler, frame, e->cfg.width, e->cfg.height, e->sw_format, &in);
    if (rc < 0)
        return rc;
    if (e->backend != NL_HW_BACKEND_VAAPI)
        return map_err(avcodec_send_frame(e->avctx, in));
    /* Upload into a surface of the pool (RTSP.md 5.1 step 4). */
    int err = av_hwframe_get_buffer(e->frames, e->hwframe, 0);
    if (err >= 0)
        err = av_hwframe_transfer_data(e->hwframe, in, 0);
    if (err >= 0)
        err = av_frame_copy_props(e->hwframe, in);
    if (err >= 0)
        err = avcodec_send_frame(e->avctx, e->hwframe);
    av_frame_unref(e->hwframe);
    return err < 0 ? map_err(err) : 0;
}

NL_EXPORT int nl_hwenc_receive_packet(nl_hwenc *e, AVPacket *pkt)
{
    if (!e || !e->avctx || !pkt)
        return NL_EINVAL;
    int err = avcodec_receive_packet(e->avctx, pkt);
    if (err < 0)
        return map_err(err);
    nl__hw_count(NL__HWC_FRAMES_ENCODED, 1);
    return 0;
}

NL_EXPORT int nl_hwenc_codec_params(const nl_hwenc *e, AVCodecParameters *par)
{
    if (!e || !e->avctx || !par)
        return NL_EINVAL;
    return avcodec_parameters_from_context(par, e->avctx) < 0 ? NL_ENOMEM : 0;
}
