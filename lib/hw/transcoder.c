/* One stream's decode -> scale -> encode pipeline on a worker thread.
 *
 * The owner side (nl_transcoder, on the loop thread or the caller's thread in
 * pull mode) only queues packets and receives results; everything that can
 * block -- opening the VAAPI device, the decoder and the encoder, decoding,
 * scaling, encoding, closing them -- runs on the worker (worker.c). The
 * worker-side state below is owned by the thread and released by it, so an
 * abandoned worker still frees its codecs if it ever comes back. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "hw/decoder.h"
#include "hw/device.h"
#include "hw/encoder.h"
#include "hw/hw_stats.h"
#include "hw/pktq.h"
#include "hw/scaler.h"
#include "hw/transcoder.h"
#include "hw/worker.h"
#include "neolink/error.h"

#define TC_DEFAULT_QUEUE   64u
#define TC_DEFAULT_STOP_MS 1000u
#define TC_ARENA_CAP       (16u * 1024u)

/* ------------------------------------------------------------ worker side */

typedef struct tc_state {
    nl_transcoder_config cfg; /* strings point into the arrays below */
    char device[NL_HW_PATH_MAX];
    char preset[32];
    char name[64];
    nl__decoder dec;
    int dec_open;
    AVBufferRef *dev; /* VAAPI device shared by decoder and encoder */
    int dev_tried;
    char dev_reason[NL_HW_REASON_MAX];
    nl_hwenc *enc;
    AVPacket *out;
    AVCodecParameters *par;
    int64_t next_due; /* fps cap: earliest pts of the next frame kept */
    nl__transcoder_hook hook;
    void *hook_ud;
} tc_state;

static void tc_release(void *arg)
{
    tc_state *s = arg;
    if (!s)
        return;
    if (s->dec_open)
        nl__decoder_close(&s->dec);
    /* On the worker thread, inside the owner's join deadline. */
    nl_hwenc_close(&s->enc, NL_HW_WAIT_FOREVER);
    nl__hw_device_release(&s->dev);
    av_packet_free(&s->out);
    avcodec_parameters_free(&s->par);
    nl__free(s);
}

static int open_decoder(tc_state *s, nl__worker *w)
{
    nl_ctx *log = nl__worker_ctx(w);
    const char *who = nl__worker_who(w);
    if (s->cfg.hwaccel != NL_HWACCEL_SOFTWARE) {
        nl__worker_activity(w, "opening the VAAPI device", AV_NOPTS_VALUE);
        s->dev_tried = 1;
        if (nl__hw_device_open(s->cfg.device, &s->dev, NULL, 0, s->dev_reason,
                               sizeof s->dev_reason) < 0)
            NL_LOGD(log, who, "no VAAPI decoding: %s", s->dev_reason);
    }
    nl__worker_activity(w, "opening the decoder", AV_NOPTS_VALUE);
    int rc = nl__decoder_open(&s->dec, log, who, s->cfg.input_codec, s->dev, s->cfg.threads);
    if (rc < 0) {
        NL_LOGE(log, who, "cannot open the %s decoder: %s", nl_media_codec_name(s->cfg.input_codec),
                nl_strerror(rc));
        return rc;
    }
    s->dec.avctx->pkt_timebase = (AVRational){1, 1000000};
    s->dec_open = 1;
    return 0;
}

static int open_encoder(tc_state *s, nl__worker *w, const AVFrame *f)
{
    nl_ctx *log = nl__worker_ctx(w);
    nl_hwenc_config hc;
    nl_hwenc_config_init(&hc);
    hc.name = s->cfg.name;
    hc.codec = s->cfg.codec;
    nl__hw_fit_size(f->width, f->height, s->cfg.width, s->cfg.height, &hc.width, &hc.height);
    AVRational in_fps = s->dec.avctx->framerate;
    hc.fps = s->cfg.fps > 0                     ? s->cfg.fps
             : in_fps.num > 0 && in_fps.den > 0 ? (int)((in_fps.num + in_fps.den / 2) / in_fps.den)
                                                : 25;
    if (hc.fps < 1 || hc.fps > 240)
        hc.fps = 25;
    hc.bit_rate = s->cfg.bit_rate;
    hc.rc = s->cfg.rc;
    hc.qp = s->cfg.qp;
    hc.gop = s->cfg.gop;
    hc.hwaccel = s->cfg.hwaccel;
    hc.device = s->cfg.device;
    hc.preset = s->cfg.preset;
    hc.threads = s->cfg.threads;
    hc.time_base = (AVRational){1, 1000000};
    nl__worker_activity(w, "opening the encoder", f->pts);
    int rc = nl__hwenc_open_on(&s->enc, log, &hc, s->dev,
                               s->dev             ? NULL
                               : s->dev_reason[0] ? s->dev_reason
                                                  : NULL);
    if (rc < 0) {
        NL_LOGE(log, nl__worker_who(w), "cannot open the %dx%d encoder: %s", hc.width, hc.height,
                nl_strerror(rc));
        return rc;
    }
    if (!(s->par = avcodec_parameters_alloc()) || nl_hwenc_codec_params(s->enc, s->par) < 0 ||
        nl__worker_publish_params(w, s->par) < 0)
        return NL_ENOMEM;
    nl__worker_set(w, NL__WK_WIDTH, (uint64_t)hc.width);
    nl__worker_set(w, NL__WK_HEIGHT, (uint64_t)hc.height);
    nl__worker_set(w, NL__WK_BACKEND, (uint64_t)nl_hwenc_backend(s->enc));
    return 0;
}

static int emit_packets(tc_state *s, nl__worker *w)
{
    int rc;
    while ((rc = nl_hwenc_receive_packet(s->enc, s->out)) == 0) {
        s->out->time_base = (AVRational){1, 1000000};
        nl__worker_count(w, NL__WK_PACKETS_OUT, 1);
        nl__worker_emit(w, s->out);
    }
    return rc == NL_EAGAIN || rc == NL_EEOF ? 0 : rc;
}

/* Frame-rate cap: keep a frame when it is at most a quarter interval early
 * for the next slot, so 25 -> 10 fps keeps 2 of 5 frames on average. */
static int keep_frame(tc_state *s, int64_t pts)
{
    if (s->cfg.fps <= 0 || pts == AV_NOPTS_VALUE)
        return 1;
    int64_t iv = 1000000 / s->cfg.fps;
    if (s->next_due == AV_NOPTS_VALUE || pts < s->next_due - 4 * iv || pts > s->next_due + 4 * iv) {
        s->next_due = pts + iv; /* first frame, or the clock jumped */
        return 1;
    }
    if (pts < s->next_due - iv / 4)
        return 0;
    s->next_due += iv;
    return 1;
}

static int encode_frame(tc_state *s, nl__worker *w, AVFrame *f)
{
    nl__worker_count(w, NL__WK_FRAMES_DECODED, 1);
    nl__hw_count(NL__HWC_FRAMES_DECODED, 1);
    if (!keep_frame(s, f->pts)) {
        nl__worker_count(w, NL__WK_FRAMES_SKIPPED, 1);
        return 0;
    }
    int rc;
    if (!s->enc && (rc = open_encoder(s, w, f)) < 0)
        return rc;
    /* Key frames follow the configured GOP, not the camera's: a decoded
     * I picture must not force one. */
    f->pict_type = AV_PICTURE_TYPE_NONE;
    nl__worker_activity(w, "encoding a frame", f->pts);
    if (s->hook)
        s->hook(s->hook_ud);
    for (;;) {
        rc = nl_hwenc_send_frame(s->enc, f);
        if (rc != NL_EAGAIN)
            break;
        if ((rc = emit_packets(s, w)) < 0)
            return rc;
    }
    if (rc < 0)
        return rc;
    return emit_packets(s, w);
}

static int receive_frames(tc_state *s, nl__worker *w)
{
    AVFrame *f;
    int rc;
    while (!nl__worker_stopping(w) && (rc = nl__decoder_receive(&s->dec, &f)) == 0) {
        if ((rc = encode_frame(s, w, f)) < 0)
            return rc;
    }
    return 0;
}

static int tc_process(void *arg, nl__worker *w, AVPacket *pkt)
{
    tc_state *s = arg;
    int rc;
    if (!s->dec_open && (rc = open_decoder(s, w)) < 0)
        return rc;
    nl__worker_activity(w, "decoding a packet", pkt->pts);
    uint64_t errs = s->dec.errors;
    for (;;) {
        rc = nl__decoder_send(&s->dec, pkt);
        if (rc != NL_EAGAIN)
            break;
        if ((rc = receive_frames(s, w)) < 0)
            return rc;
    }
    if (rc < 0 && rc != NL_EEOF)
        return rc;
    if (s->dec.errors != errs)
        nl__worker_count(w, NL__WK_DECODE_ERRORS, s->dec.errors - errs);
    return receive_frames(s, w);
}

static int tc_drain(void *arg, nl__worker *w)
{
    tc_state *s = arg;
    if (!s->dec_open)
        return 0;
    nl__decoder_send(&s->dec, NULL);
    int rc = receive_frames(s, w);
    if (rc < 0 || !s->enc)
        return rc;
    nl_hwenc_send_frame(s->enc, NULL);
    return emit_packets(s, w);
}

static const nl__worker_ops tc_ops = {
    .process = tc_process,
    .drain = tc_drain,
    .release = tc_release,
};

/* ------------------------------------------------------------ owner side */

struct nl_transcoder {
    nl_arena *arena;
    nl_ctx *ctx;
    nl__worker *w;
    nl_transcoder_config cfg; /* callbacks and limits; strings not kept */
    char who[96];
    nl_arena *owner;
    nl_arena_cleanup *owner_cleanup;
};

NL_EXPORT void nl_transcoder_config_init(nl_transcoder_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->codec = NL_MEDIA_CODEC_H264;
    cfg->hwaccel = NL_HWACCEL_AUTO;
    cfg->rc = NL_HW_RC_VBR;
}

static void on_params(void *ud, const AVCodecParameters *par)
{
    nl_transcoder *t = ud;
    if (t->cfg.on_params)
        t->cfg.on_params(t->cfg.ud, t, par);
}

static void on_packet(void *ud, AVPacket *pkt)
{
    nl_transcoder *t = ud;
    if (t->cfg.on_packet)
        t->cfg.on_packet(t->cfg.ud, t, pkt);
}

static void on_end(void *ud, int error)
{
    nl_transcoder *t = ud;
    if (error < 0)
        NL_LOGE(t->ctx, t->who, "transcoding stopped: %s", nl_strerror(error));
    if (t->cfg.on_end)
        t->cfg.on_end(t->cfg.ud, t, error);
}

static int check_config(const nl_transcoder_config *c)
{
    if (c->input_codec != NL_MEDIA_CODEC_H264 && c->input_codec != NL_MEDIA_CODEC_H265)
        return NL_ECONFIG;
    if (c->codec != NL_MEDIA_CODEC_H264 && c->codec != NL_MEDIA_CODEC_H265 &&
        c->codec != NL_MEDIA_CODEC_NONE)
        return NL_ECONFIG;
    if (c->width < 0 || c->height < 0 || c->width > NL_HWENC_MAX_SIDE ||
        c->height > NL_HWENC_MAX_SIDE || (c->width && c->width < NL_HWENC_MIN_SIDE) ||
        (c->height && c->height < NL_HWENC_MIN_SIDE))
        return NL_ECONFIG;
    if (c->fps < 0 || c->fps > 240 || c->bit_rate < 0 || c->threads < 0 || c->threads > 64)
        return NL_ECONFIG;
    if (c->queue_packets > NL_HW_PKTQ_MAX || c->output_packets > NL_HW_PKTQ_MAX)
        return NL_ECONFIG;
    if ((c->device && strlen(c->device) >= NL_HW_PATH_MAX) ||
        (c->preset && strlen(c->preset) >= 32))
        return NL_ECONFIG;
    if (c->loop && c->push_wait_ms)
        return NL_EINVAL; /* never block the loop */
    return 0;
}

static void owner_destroyed(void *arg)
{
    nl_transcoder *t = arg;
    t->owner_cleanup = NULL;
    nl_transcoder_destroy(&t);
}

int nl__transcoder_create_hooked(nl_transcoder **out, nl_ctx *ctx, nl_arena *owner,
                                 const nl_transcoder_config *cfg, nl__transcoder_hook hook,
                                 void *hook_ud)
{
    if (!out || !cfg)
        return NL_EINVAL;
    *out = NULL;
    int rc = check_config(cfg);
    if (rc < 0)
        return rc;
    tc_state *s = nl__calloc(1, sizeof *s);
    if (!s)
        return NL_ENOMEM;
    s->cfg = *cfg;
    if (s->cfg.codec == NL_MEDIA_CODEC_NONE)
        s->cfg.codec = NL_MEDIA_CODEC_H264;
    snprintf(s->device, sizeof s->device, "%s", cfg->device ? cfg->device : "");
    snprintf(s->preset, sizeof s->preset, "%s", cfg->preset ? cfg->preset : "");
    snprintf(s->name, sizeof s->name, "%s", cfg->name ? cfg->name : "");
    s->cfg.device = cfg->device ? s->device : NULL;
    s->cfg.preset = cfg->preset ? s->preset : NULL;
    s->cfg.name = cfg->name ? s->name : NULL;
    s->cfg.loop = NULL;
    s->next_due = AV_NOPTS_VALUE;
    s->hook = hook;
    s->hook_ud = hook_ud;
    if (!(s->out = av_packet_alloc())) {
        tc_release(s);
        return NL_ENOMEM;
    }

    nl_arena *a = NULL;
    if ((rc = nl_arena_create(&a, NULL, TC_ARENA_CAP, "transcoder")) < 0) {
        tc_release(s);
        return rc;
    }
    nl_transcoder *t = nl_arena_alloc(a, sizeof *t);
    if (!t) {
        tc_release(s);
        nl_arena_destroy(&a);
        return NL_ENOMEM;
    }
    t->arena = a;
    t->ctx = ctx;
    t->cfg = *cfg;
    t->cfg.name = t->cfg.device = t->cfg.preset = NULL;
    if (!t->cfg.stop_timeout_ms)
        t->cfg.stop_timeout_ms = TC_DEFAULT_STOP_MS;
    snprintf(t->who, sizeof t->who, "%s%s", cfg->name ? "transcode " : "transcode",
             cfg->name ? cfg->name : "");
    nl__worker_config wc = {
        .who = t->who,
        .ctx = ctx,
        .in_cap = cfg->queue_packets ? cfg->queue_packets : TC_DEFAULT_QUEUE,
        .out_cap = cfg->output_packets ? cfg->output_packets : TC_DEFAULT_QUEUE,
        .push_wait_ms = cfg->push_wait_ms,
        .loop = cfg->loop,
        .ud = t,
        .on_params = on_params,
        .on_packet = on_packet,
        .on_end = on_end,
    };
    if ((rc = nl__worker_start(&t->w, &wc, &tc_ops, s)) < 0) { /* s is the worker's now */
        nl_arena_destroy(&a);
        return rc;
    }
    if (owner) {
        t->owner = owner;
        if (!(t->owner_cleanup = nl_arena_on_destroy(owner, owner_destroyed, t))) {
            nl_transcoder_destroy(&t);
            return NL_ENOMEM;
        }
    }
    NL_LOGD(ctx, t->who, "started: %s -> %s, %dx%d, hwaccel %s",
            nl_media_codec_name(cfg->input_codec), nl_media_codec_name(s->cfg.codec), cfg->width,
            cfg->height, nl_hwaccel_name(cfg->hwaccel));
    *out = t;
    return 0;
}

NL_EXPORT int nl_transcoder_create(nl_transcoder **out, nl_ctx *ctx, nl_arena *owner,
                                   const nl_transcoder_config *cfg)
{
    return nl__transcoder_create_hooked(out, ctx, owner, cfg, NULL, NULL);
}

NL_EXPORT int nl_transcoder_push(nl_transcoder *t, const AVPacket *pkt)
{
    if (!t || !pkt)
        return NL_EINVAL;
    return nl__worker_push(t->w, pkt);
}

NL_EXPORT int nl_transcoder_finish(nl_transcoder *t)
{
    return t ? nl__worker_finish(t->w) : NL_EINVAL;
}

NL_EXPORT int nl_transcoder_receive(nl_transcoder *t, AVPacket *pkt, uint32_t timeout_ms)
{
    if (!t || !pkt)
        return NL_EINVAL;
    return nl__worker_receive(t->w, pkt, timeout_ms);
}

NL_EXPORT int nl_transcoder_codec_params(nl_transcoder *t, AVCodecParameters *par)
{
    if (!t || !par)
        return NL_EINVAL;
    return nl__worker_params(t->w, par);
}

NL_EXPORT int nl_transcoder_get_stats(nl_transcoder *t, nl_transcoder_stats *st, size_t size)
{
    if (!t || !st)
        return NL_EINVAL;
    nl_transcoder_stats s = {0};
    nl__worker_queue_stats(t->w, &s.packets_in, &s.packets_dropped, &s.gops_dropped, &s.queue_depth,
                           &s.out_dropped, &s.error);
    s.frames_decoded = nl__worker_get(t->w, NL__WK_FRAMES_DECODED);
    s.decode_errors = nl__worker_get(t->w, NL__WK_DECODE_ERRORS);
    s.frames_skipped = nl__worker_get(t->w, NL__WK_FRAMES_SKIPPED);
    s.packets_out = nl__worker_get(t->w, NL__WK_PACKETS_OUT);
    s.width = (int)nl__worker_get(t->w, NL__WK_WIDTH);
    s.height = (int)nl__worker_get(t->w, NL__WK_HEIGHT);
    s.backend = (nl_hw_backend)nl__worker_get(t->w, NL__WK_BACKEND);
    memcpy(st, &s, size < sizeof s ? size : sizeof s);
    return 0;
}

NL_EXPORT int nl_transcoder_destroy(nl_transcoder **tp)
{
    if (!tp || !*tp)
        return 0;
    nl_transcoder *t = *tp;
    *tp = NULL;
    if (t->owner_cleanup)
        nl_arena_cleanup_cancel(t->owner, t->owner_cleanup);
    int rc = nl__worker_stop(&t->w, t->cfg.stop_timeout_ms);
    nl_arena *a = t->arena;
    nl_arena_destroy(&a);
    return rc;
}
