/* The transcoded paths of a camera stream (`transcode:`): "/NAME/S/CODEC",
 * "/NAME/CODEC" for the camera's first stream, and with `replace` the
 * plain paths too. One transcoder (hwenc.h: decode, scale, encode on its
 * worker thread; VAAPI or software) per camera stream, running only while
 * a transcoded path has a viewer; its packets come back on the loop and are
 * pushed to the transcoded mounts. Audio is shared with the plain mounts.
 *
 * The mounts are made with the plain ones: placeholders (503) until the
 * camera's format is known, then a video track of the configured codec
 * whose parameter sets arrive with the transcoder's first output (until
 * then DESCRIBE answers without them: every IDR carries them in band). */
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"
#include "server/server_int.h"

/* Pause before a failed transcoder is started again. */
#define NL_SERVE_XCODE_RETRY_NS (2 * NL_NS_PER_S)
/* Joining the worker at stop: bounded so a stuck codec cannot stall the
 * loop; a worker that misses it is abandoned and counted (metrics). */
#define NL_SERVE_XCODE_STOP_MS 300

static const nl_config_stream cfg_stream_of[NL_CAMERA_STREAM_COUNT] = {
    NL_CFG_STREAM_MAIN, NL_CFG_STREAM_SUB, NL_CFG_STREAM_EXTERN};

size_t nl__xcode_paths(const nl_config_camera *cam, nl_camera_stream stream, nl_config_path *out,
                       size_t cap)
{
    if (!cam || !cam->transcode || stream < 0 || stream >= NL_CAMERA_STREAM_COUNT)
        return 0;
    nl_config_path all[NL_CONFIG_PATHS_MAX];
    size_t n = nl_config_camera_paths(cam, all, NL_CONFIG_PATHS_MAX);
    if (n > NL_CONFIG_PATHS_MAX)
        n = NL_CONFIG_PATHS_MAX;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (all[i].transcoded && all[i].stream == cfg_stream_of[stream] && k < cap)
            out[k++] = all[i];
    return k;
}

static nl_server *xsrv(const nl__stream_hub *h)
{
    return h->rt->srv;
}

static nl_media_codec out_codec(const nl_config_transcode *t)
{
    return t->codec == NL_CFG_CODEC_H265 ? NL_MEDIA_CODEC_H265 : NL_MEDIA_CODEC_H264;
}

int nl__xcode_create(nl__stream_hub *h)
{
    const nl_config_camera *cc = h->rt->cfg;
    nl_config_path paths[NL_CONFIG_PATHS_MAX];
    size_t n = nl__xcode_paths(cc, h->kind, paths, NL_CONFIG_PATHS_MAX);
    if (n == 0)
        return 0;
    nl__xcode *x = nl__calloc(1, sizeof *x);
    if (!x)
        return NL_ENOMEM;
    x->vpar = avcodec_parameters_alloc();
    if (!x->vpar) {
        nl__free(x);
        return NL_ENOMEM;
    }
    /* A template until the encoder says more: codec and size only. */
    x->vpar->codec_type = AVMEDIA_TYPE_VIDEO;
    x->vpar->codec_id =
        out_codec(cc->transcode) == NL_MEDIA_CODEC_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
    x->vpar->width = cc->transcode->width;
    x->vpar->height = cc->transcode->height;
    for (size_t i = 0; i < n; i++) {
        memcpy(x->mounts[i].path, paths[i].path, sizeof x->mounts[i].path);
        x->mounts[i].path[sizeof x->mounts[i].path - 1] = '\0';
        x->mounts[i].alias = paths[i].alias != 0;
    }
    x->nmounts = n;
    h->xc = x;
    return 0;
}

void nl__xcode_destroy(nl__stream_hub *h)
{
    nl__xcode *x = h->xc;
    if (!x)
        return;
    h->xc = NULL;
    nl_transcoder_destroy(&x->t);
    for (size_t i = 0; i < x->nmounts; i++)
        nl_rtsp_mount_remove(&x->mounts[i].m);
    avcodec_parameters_free(&x->vpar);
    nl__free(x);
}

bool nl__xcode_viewers(const nl__stream_hub *h)
{
    if (!h->xc)
        return false;
    for (size_t i = 0; i < h->xc->nmounts; i++)
        if (h->xc->mounts[i].m && h->xc->mounts[i].active)
            return true;
    return false;
}

/* ---------------------------------------------------------------- transcoder */

static void x_params(void *ud, nl_transcoder *t, const AVCodecParameters *par)
{
    nl__stream_hub *h = ud;
    nl__xcode *x = h->xc;
    if (!x || avcodec_parameters_copy(x->vpar, par) < 0)
        return;
    bool was_probing = x->probing;
    x->probing = false;
    nl_transcoder_stats st;
    const char *backend = "?";
    if (nl_transcoder_get_stats(t, &st, sizeof st) == 0)
        backend = nl_hw_backend_name(st.backend);
    NL_LOGI(xsrv(h)->ctx, h->who, "transcoding to %s %dx%d (%s)", avcodec_get_name(par->codec_id),
            par->width, par->height, backend);
    for (size_t i = 0; i < x->nmounts; i++)
        if (x->mounts[i].m)
            nl_rtsp_mount_set_codecpar(x->mounts[i].m, 0, x->vpar);
    if (was_probing)
        nl__hub_update(h); /* the probe's job is done: stop what nobody watches */
}

static void x_packet(void *ud, nl_transcoder *t, AVPacket *pkt)
{
    nl__stream_hub *h = ud;
    nl__xcode *x = h->xc;
    if (!x || pkt->pts == AV_NOPTS_VALUE)
        return;
    for (size_t i = 0; i < x->nmounts; i++)
        if (x->mounts[i].m && x->mounts[i].active)
            nl_rtsp_mount_push(x->mounts[i].m, 0, pkt);
}

static void x_end(void *ud, nl_transcoder *t, int error)
{
    nl__stream_hub *h = ud;
    nl__xcode *x = h->xc;
    if (!x)
        return;
    NL_LOGW(xsrv(h)->ctx, h->who, "transcoder ended (%s); starting again in %.0f s",
            error ? nl_strerror(error) : "finished", (double)NL_SERVE_XCODE_RETRY_NS / 1e9);
    nl_transcoder_destroy(&x->t);
    x->retry_at = nl_deadline_after(nl_loop_now(xsrv(h)->loop), NL_SERVE_XCODE_RETRY_NS);
}

static nl_hwaccel hwaccel_of(nl_config_hwaccel a)
{
    return a == NL_CFG_HW_VAAPI      ? NL_HWACCEL_VAAPI
           : a == NL_CFG_HW_SOFTWARE ? NL_HWACCEL_SOFTWARE
                                     : NL_HWACCEL_AUTO;
}

static void start_transcoder(nl__stream_hub *h)
{
    nl__xcode *x = h->xc;
    nl_server *srv = xsrv(h);
    const nl_config_transcode *tc = h->rt->cfg->transcode;
    nl_transcoder_config c;
    nl_transcoder_config_init(&c);
    c.name = h->who;
    c.input_codec =
        h->vpar->codec_id == AV_CODEC_ID_HEVC ? NL_MEDIA_CODEC_H265 : NL_MEDIA_CODEC_H264;
    c.codec = out_codec(tc);
    c.width = tc->width;
    c.height = tc->height;
    c.fps = tc->fps;
    c.bit_rate = tc->bitrate;
    c.hwaccel = hwaccel_of(tc->hwaccel);
    c.device = tc->device;
    c.stop_timeout_ms = NL_SERVE_XCODE_STOP_MS;
    c.loop = srv->loop;
    c.ud = h;
    c.on_params = x_params;
    c.on_packet = x_packet;
    c.on_end = x_end;
    int rc = nl_transcoder_create(&x->t, srv->ctx, NULL, &c);
    if (rc < 0) {
        NL_LOGW(srv->ctx, h->who, "cannot start the transcoder: %s", nl_strerror(rc));
        x->retry_at = nl_deadline_after(nl_loop_now(srv->loop), NL_SERVE_XCODE_RETRY_NS);
        return;
    }
    x->starts++;
    x->synced = false;
    NL_LOGI(srv->ctx, h->who, "transcoder started (%s %s)", nl_media_codec_name(c.codec),
            nl_hwaccel_name(c.hwaccel));
}

void nl__xcode_update(nl__stream_hub *h)
{
    nl__xcode *x = h->xc;
    if (!x)
        return;
    nl_server *srv = xsrv(h);
    uint64_t now = nl_loop_now(srv->loop);
    bool wanted = nl__xcode_viewers(h) || x->probing || x->hold_until > now;
    bool want = h->running && h->vpar && wanted && srv->state == NL_SRV_RUNNING;
    if (want && !x->t && now >= x->retry_at)
        start_transcoder(h);
    else if (!want && x->t) {
        NL_LOGI(srv->ctx, h->who, "transcoder stopped (%s)",
                h->running ? "no viewers" : "camera stream stopped");
        nl_transcoder_destroy(&x->t);
    }
}

void nl__xcode_video(nl__stream_hub *h, const AVPacket *pkt)
{
    nl__xcode *x = h->xc;
    if (!x || !x->t)
        return;
    /* A decoder that starts mid-GOP only complains: begin at a key frame. */
    if (!x->synced && !(pkt->flags & AV_PKT_FLAG_KEY))
        return;
    x->synced = true;
    nl_transcoder_push(x->t, pkt);
}

void nl__xcode_audio(nl__stream_hub *h, const AVPacket *pkt)
{
    nl__xcode *x = h->xc;
    if (!x || !x->with_audio)
        return;
    for (size_t i = 0; i < x->nmounts; i++)
        if (x->mounts[i].m && x->mounts[i].active)
            nl_rtsp_mount_push(x->mounts[i].m, 1, pkt);
}
