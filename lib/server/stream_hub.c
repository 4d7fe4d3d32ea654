/* One camera stream and its mounts: the stream is asked of the camera once,
 * whatever the number of viewers, and every packet goes to the mounts that
 * have someone playing (each alias path is its own mount, so packetizing
 * only for watched ones keeps the work at one muxer per watched path).
 *
 * Demand: a stream runs while it is wanted (nl__demand_wanted): always
 * when on_demand is off; else while a mount plays, for idle_linger after
 * the last viewer left, for the format probe after each login while the
 * format is unknown, and for a short hold after a DESCRIBE that came
 * before the format was known.
 *
 * Format: the mounts can only describe the stream (SDP) once its codec
 * parameters are known, and their track list is fixed when they are made.
 * Until then they are placeholders that answer DESCRIBE with 503 at once;
 * after the first login the stream is started briefly to learn its video
 * parameters and whether it has audio, then the mounts are made with the
 * real tracks. The learnt format is kept across reconnects, so a DESCRIBE
 * while the camera is away is still answered.
 *
 * Time: output pts follow the camera's µs clock through nl__clock_map,
 * which rebases at every new run and at the jumps the demuxer flags. */
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>

#include "core/log.h"
#include "core/alloc.h"
#include "core/time.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"
#include "server/server_int.h"
#include "server/snapshot.h"

/* Longest the format probe runs without the parameter sets. */
#define NL_SERVE_PROBE_MAX_NS (15 * NL_NS_PER_S)
/* After the video parameters, how long the probe waits for audio. */
#define NL_SERVE_PROBE_AUDIO_NS (1500 * NL_NS_PER_MS)
/* A DESCRIBE before the format is known keeps the stream up this long at
 * least (so the client's retry finds it), or idle_linger if longer. */
#define NL_SERVE_DESCRIBE_HOLD_NS (5 * NL_NS_PER_S)
/* Pause before asking again for a stream the camera failed to start. */
#define NL_SERVE_RESTART_PAUSE_NS (1 * NL_NS_PER_S)
/* Retry a start refused because the previous stop is still pending. */
#define NL_SERVE_STOPPING_RETRY_NS (100 * NL_NS_PER_MS)

/* ---------------------------------------------------------------- pure parts */

void nl__clock_map_init(nl__clock_map *c)
{
    memset(c, 0, sizeof *c);
    c->step_us = NL_SERVE_DEFAULT_STEP_US;
}

void nl__clock_map_discontinuity(nl__clock_map *c)
{
    if (c->have)
        c->rebase = true;
}

int64_t nl__clock_map_video(nl__clock_map *c, int64_t cam_us, uint32_t flags, uint64_t now_ns)
{
    if (!c->have) {
        c->have = true;
        c->rebase = false;
        c->offset_us = 0;
        c->last_cam_us = cam_us;
        c->last_out_us = cam_us;
        c->last_wall_ns = now_ns;
        return cam_us;
    }
    int64_t out = cam_us + c->offset_us;
    int64_t wall_us = now_ns > c->last_wall_ns ? (int64_t)((now_ns - c->last_wall_ns) / 1000) : 0;
    int64_t gap = wall_us > c->step_us ? wall_us : c->step_us;
    int64_t expected = c->last_out_us + gap;
    bool jump = c->rebase || (flags & (NL_MEDIA_FLAG_CLOCK_RESET | NL_MEDIA_FLAG_CLOCK_BACK)) ||
                out <= c->last_out_us || out > expected + NL_SERVE_JUMP_AHEAD_US;
    if (jump) {
        c->offset_us = expected - cam_us;
        out = expected;
        c->rebase = false;
        c->rebases++;
    } else {
        /* A smoothed frame interval, from ordinary steps only (1 ms..1 s). */
        int64_t d = cam_us - c->last_cam_us;
        if (d >= 1000 && d <= 1000000)
            c->step_us = (c->step_us * 7 + d) / 8;
    }
    c->last_cam_us = cam_us;
    c->last_out_us = out;
    c->last_wall_ns = now_ns;
    return out;
}

int64_t nl__clock_map_audio(nl__clock_map *c, int64_t cam_us)
{
    if (!c->have || c->rebase || cam_us == INT64_MIN)
        return INT64_MIN;
    int64_t out = cam_us + c->offset_us;
    if (c->have_audio && out <= c->last_audio_us)
        return INT64_MIN;
    c->have_audio = true;
    c->last_audio_us = out;
    return out;
}

bool nl__demand_wanted(const nl__demand *d, uint64_t now)
{
    if (!d->on_demand || d->viewers || d->probing)
        return true;
    return d->hold_until && now < d->hold_until;
}

/* ---------------------------------------------------------------- helpers */

static nl_server *hub_srv(const nl__stream_hub *h)
{
    return h->rt->srv;
}

static uint64_t hub_now(const nl__stream_hub *h)
{
    return nl_loop_now(hub_srv(h)->loop);
}

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static bool any_viewer(const nl__stream_hub *h)
{
    for (size_t i = 0; i < h->nmounts; i++)
        if (h->mounts[i].m && h->mounts[i].active)
            return true;
    return nl__xcode_viewers(h);
}

static uint64_t idle_linger_ns(const nl__stream_hub *h)
{
    const nl_config_camera *cc = h->rt->cfg;
    return cc && cc->idle_linger_ns > 0 ? (uint64_t)cc->idle_linger_ns : 0;
}

static void arm_timer(nl__stream_hub *h, uint64_t now)
{
    uint64_t due = NL_TIME_NEVER;
    if (h->hold_until > now)
        due = h->hold_until;
    if ((h->probing || (h->xc && h->xc->probing)) && h->probe_deadline < due)
        due = h->probe_deadline;
    if (h->probing && h->vpar && !h->mounts_final && h->first_params_at) {
        uint64_t a = nl_deadline_after(h->first_params_at, NL_SERVE_PROBE_AUDIO_NS);
        if (a < due)
            due = a;
    }
    if (h->retry_at > now && h->retry_at < due)
        due = h->retry_at;
    nl_loop *loop = hub_srv(h)->loop;
    if (due == NL_TIME_NEVER)
        nl_timer_stop(loop, &h->timer);
    else
        nl_timer_start(loop, &h->timer, due);
}

/* ---------------------------------------------------------------- format */

static int make_audio_par(nl__stream_hub *h, const nl_media_audio_format *fmt)
{
    AVCodecParameters *p = avcodec_parameters_alloc();
    if (!p)
        return NL_ENOMEM;
    p->codec_type = AVMEDIA_TYPE_AUDIO;
    p->codec_id = AV_CODEC_ID_AAC;
    p->sample_rate = fmt->sample_rate;
    av_channel_layout_default(&p->ch_layout, fmt->channels > 0 ? fmt->channels : 1);
    if (fmt->asc_len > 0) {
        p->extradata = av_mallocz((size_t)fmt->asc_len + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!p->extradata) {
            avcodec_parameters_free(&p);
            return NL_ENOMEM;
        }
        memcpy(p->extradata, fmt->asc, (size_t)fmt->asc_len);
        p->extradata_size = fmt->asc_len;
    }
    avcodec_parameters_free(&h->apar);
    h->apar = p;
    return 0;
}

static nl_audio_out audio_out_of(nl_config_audio a)
{
    return a == NL_CFG_AUDIO_PCMU   ? NL_AUDIO_OUT_PCMU
           : a == NL_CFG_AUDIO_PCMA ? NL_AUDIO_OUT_PCMA
                                    : NL_AUDIO_OUT_AAC;
}

/* A fresh ADPCM converter (each run starts one, so a camera clock that
 * restarted cannot confuse its sample-to-time anchors). */
static int make_conv(nl__stream_hub *h)
{
    nl_audio_conv_destroy(&h->aconv);
    const nl_config_camera *cc = h->rt->cfg;
    nl_audio_conv_config c = {
        .name = h->who,
        .input = NL_MEDIA_CODEC_ADPCM,
        .output = audio_out_of(cc ? cc->audio : NL_CFG_AUDIO_AAC),
    };
    return nl_audio_conv_create(&h->aconv, hub_srv(h)->ctx, &c);
}

/* Decides the audio track from what the probe saw and the `audio:` key:
 * AAC is passed through; Reolink ADPCM is converted (hwenc.h) to AAC,
 * PCMU or PCMA, cheaply enough for the loop thread. */
static void choose_audio(nl__stream_hub *h)
{
    nl_server *srv = hub_srv(h);
    const nl_config_camera *cc = h->rt->cfg;
    avcodec_parameters_free(&h->apar);
    nl_audio_conv_destroy(&h->aconv);
    if (!cc || cc->audio == NL_CFG_AUDIO_OFF || !h->audio_seen)
        return;
    nl_media_audio_format fmt;
    if (nl_camera_stream_audio(h->rt->cam, h->kind, &fmt) < 0 || fmt.codec == NL_MEDIA_CODEC_NONE)
        return;
    if (fmt.codec == NL_MEDIA_CODEC_AAC && fmt.sample_rate > 0) {
        if (cc->audio != NL_CFG_AUDIO_AAC)
            NL_LOGW(srv->ctx, h->who,
                    "camera audio is AAC; it cannot be converted to %s: "
                    "serving AAC",
                    nl_config_audio_name(cc->audio));
        if (make_audio_par(h, &fmt) < 0)
            NL_LOGW(srv->ctx, h->who, "no memory for the audio track: video only");
        return;
    }
    if (fmt.codec != NL_MEDIA_CODEC_ADPCM)
        return;
    int rc = make_conv(h);
    if (rc == 0) {
        h->apar = avcodec_parameters_alloc();
        rc = h->apar ? nl_audio_conv_codec_params(h->aconv, h->apar) : NL_ENOMEM;
    }
    if (rc < 0) {
        NL_LOGW(srv->ctx, h->who,
                "cannot convert the camera's ADPCM audio to %s (%s): "
                "video only",
                nl_config_audio_name(cc->audio), nl_strerror(rc));
        avcodec_parameters_free(&h->apar);
        nl_audio_conv_destroy(&h->aconv);
        return;
    }
    NL_LOGI(srv->ctx, h->who, "camera audio ADPCM %d Hz, served as %s", fmt.sample_rate,
            nl_config_audio_name(cc->audio));
}

void nl__hub_update(nl__stream_hub *h);

/* Makes the real mounts once the video parameters are known and the audio
 * question is settled (seen, or not within NL_SERVE_PROBE_AUDIO_NS). */
static void maybe_finalize(nl__stream_hub *h, uint64_t now)
{
    if (h->mounts_final || !h->vpar || !h->rt->cfg)
        return;
    const nl_config_camera *cc = h->rt->cfg;
    bool want_audio = cc->audio != NL_CFG_AUDIO_OFF;
    if (want_audio && !h->audio_seen && h->first_params_at &&
        now < nl_deadline_after(h->first_params_at, NL_SERVE_PROBE_AUDIO_NS))
        return;
    nl_server *srv = hub_srv(h);
    choose_audio(h);
    h->mounts_final = true;
    h->probing = false;
    int rc = nl__hub_mounts_create(h);
    if (h->xc && h->xc->vpar->extradata_size == 0) {
        /* Transcoded paths cannot be described before the encoder ran:
         * run it once now, so DESCRIBE finds its parameter sets. */
        h->xc->probing = true;
        h->probe_deadline = nl_deadline_after(now, NL_SERVE_PROBE_MAX_NS);
    }
    char audio[64] = "no audio";
    if (h->apar)
        snprintf(audio, sizeof audio, "%s %d Hz", avcodec_get_name(h->apar->codec_id),
                 h->apar->sample_rate);
    NL_LOGI(srv->ctx, h->who, "format: %s %dx%d, %s; %zu path(s) %s",
            avcodec_get_name(h->vpar->codec_id), h->vpar->width, h->vpar->height, audio,
            h->nmounts + (h->xc ? h->xc->nmounts : 0), rc < 0 ? "NOT all mounted" : "ready");
    nl__hub_update(h); /* stop the probe's stream if nobody watches; start the transcoder */
}

/* ---------------------------------------------------------------- demand */

static const char *why_wanted(const nl__stream_hub *h, const nl__demand *d)
{
    if (!d->on_demand)
        return "always on";
    if (d->viewers)
        return "viewers";
    if (d->probing)
        return "learning its format";
    return "hold";
}

void nl__hub_update(nl__stream_hub *h)
{
    nl__camera_rt *rt = h->rt;
    nl_server *srv = hub_srv(h);
    uint64_t now = hub_now(h);
    if (h->probing && now >= h->probe_deadline) {
        h->probing = false;
        NL_LOGW(srv->ctx, h->who, "no codec parameters within %.0f s: format still unknown",
                secs(NL_SERVE_PROBE_MAX_NS));
    }
    if (h->xc && h->xc->probing && now >= h->probe_deadline) {
        h->xc->probing = false;
        NL_LOGW(srv->ctx, h->who, "the transcoder gave no output within %.0f s",
                secs(NL_SERVE_PROBE_MAX_NS));
    }
    nl__demand d = {
        .on_demand = rt->cfg ? rt->cfg->on_demand != 0 : true,
        .viewers = any_viewer(h) || nl__snap_hub_wanted(h), /* snapshot requests waiting */
        .probing = h->probing || (h->xc && h->xc->probing),
        .hold_until = h->hold_until,
    };
    bool wanted = rt->cfg && srv->state == NL_SRV_RUNNING && nl__demand_wanted(&d, now);
    if (nl__camera_rt_logged_in(rt) && !h->unavailable) {
        if (wanted && !h->running && now >= h->retry_at) {
            int rc = nl_camera_start_stream(rt->cam, h->kind);
            if (rc == 0) {
                h->running = true;
                h->runs++;
                nl__clock_map_discontinuity(&h->clock);
                if (h->aconv && make_conv(h) < 0)
                    NL_LOGW(srv->ctx, h->who, "audio converter lost: video only");
                NL_LOGI(srv->ctx, h->who, "starting the stream (%s)", why_wanted(h, &d));
            } else if (rc == NL_ESTATE) {
                h->retry_at = nl_deadline_after(now, NL_SERVE_STOPPING_RETRY_NS);
            } else {
                NL_LOGW(srv->ctx, h->who, "cannot start the stream: %s", nl_strerror(rc));
                h->retry_at = nl_deadline_after(now, NL_SERVE_RESTART_PAUSE_NS);
            }
        } else if (!wanted && h->running) {
            h->running = false;
            h->started = false;
            NL_LOGI(srv->ctx, h->who, "stopping the stream (%s)",
                    srv->state == NL_SRV_RUNNING ? "no viewers" : "shutting down");
            int rc = nl_camera_stop_stream(rt->cam, h->kind);
            if (rc < 0)
                NL_LOGW(srv->ctx, h->who, "stop request failed: %s", nl_strerror(rc));
        }
    }
    nl__xcode_update(h);
    arm_timer(h, now);
}

static void on_timer(nl_timer *t)
{
    nl__stream_hub *h = t->data;
    nl_activity_set(&hub_srv(h)->act, h->who, "stream timer");
    if (h->fail_pending && nl__camera_rt_logged_in(h->rt))
        NL_LOGW(hub_srv(h)->ctx, h->who, "stream failed: %s; asking again in %.0f s",
                nl_strerror(h->fail_pending), secs(NL_SERVE_RESTART_PAUSE_NS));
    h->fail_pending = 0;
    maybe_finalize(h, hub_now(h));
    nl__hub_update(h);
    nl_activity_clear(&hub_srv(h)->act);
}

void nl__hub_on_login(nl__stream_hub *h)
{
    uint64_t now = hub_now(h);
    h->unavailable = false;
    h->running = false;
    h->started = false;
    h->retry_at = 0;
    if (!h->mounts_final) {
        h->probing = true;
        h->probe_deadline = nl_deadline_after(now, NL_SERVE_PROBE_MAX_NS);
        h->first_params_at = 0;
        h->audio_seen = false;
    }
    nl__hub_update(h);
}

void nl__hub_on_down(nl__stream_hub *h)
{
    h->running = false;
    h->started = false;
    h->fail_pending = 0;
    nl__xcode_update(h);
    arm_timer(h, hub_now(h));
}

void nl__hub_on_stream(nl__stream_hub *h, nl_camera_stream_event ev, int error)
{
    nl_server *srv = hub_srv(h);
    switch (ev) {
    case NL_CAMERA_STREAM_STARTED:
        h->started = true;
        /* The session logs "<kind> stream started" itself. */
        NL_LOGD(srv->ctx, h->who, "stream started (run %llu)", (unsigned long long)h->runs);
        break;
    case NL_CAMERA_STREAM_STOPPED:
        h->started = false;
        NL_LOGI(srv->ctx, h->who, "stream stopped%s", error ? " (camera did not confirm)" : "");
        if (!nl__camera_rt_logged_in(h->rt))
            break;
        nl__hub_update(h); /* someone may have come back meanwhile */
        break;
    case NL_CAMERA_STREAM_FAILED:
        h->started = false;
        h->running = false;
        if (!nl__camera_rt_logged_in(h->rt))
            break; /* the connection failed: the runtime reports it */
        if (error == NL_EREFUSED) {
            h->unavailable = true;
            h->probing = false;
            NL_LOGW(srv->ctx, h->who, "the camera refused this stream (until the next login)");
        } else {
            /* When the whole connection is failing, its CLOSED follows in
             * this same iteration: decide (and log) from the timer. */
            h->retry_at = nl_deadline_after(hub_now(h), NL_SERVE_RESTART_PAUSE_NS);
            h->fail_pending = error ? error : NL_EIO;
            nl_timer_start(srv->loop, &h->timer, hub_now(h));
            break;
        }
        nl__hub_update(h);
        break;
    }
}

void nl__hub_on_params(nl__stream_hub *h, const AVCodecParameters *par)
{
    nl_server *srv = hub_srv(h);
    if (!h->vpar) {
        h->vpar = avcodec_parameters_alloc();
        if (!h->vpar)
            return;
    }
    enum AVCodecID before = h->vpar->codec_id;
    if (avcodec_parameters_copy(h->vpar, par) < 0) {
        NL_LOGW(srv->ctx, h->who, "no memory for the codec parameters");
        return;
    }
    uint64_t now = hub_now(h);
    if (!h->first_params_at)
        h->first_params_at = now;
    if (!h->mounts_final) {
        maybe_finalize(h, now);
        arm_timer(h, now);
        return;
    }
    if (before != par->codec_id)
        NL_LOGW(srv->ctx, h->who, "codec changed from %s to %s: viewers must reconnect",
                avcodec_get_name(before), avcodec_get_name(par->codec_id));
    for (size_t i = 0; i < h->nmounts; i++) {
        if (!h->mounts[i].m)
            continue;
        int rc = nl_rtsp_mount_set_codecpar(h->mounts[i].m, 0, h->vpar);
        if (rc < 0)
            NL_LOGW(srv->ctx, h->who, "%s: cannot update the codec parameters: %s",
                    h->mounts[i].path, nl_strerror(rc));
    }
}

/* Pushes one packet with output timestamps to every watched mount (video
 * also to the transcoder, audio also to the transcoded mounts). The view
 * shares the camera packet's buffer (no copy, no reference taken): the
 * server and the transcoder reference it themselves when they keep it. */
static void push(nl__stream_hub *h, int track, const AVPacket *pkt, int64_t pts)
{
    AVPacket view = *pkt;
    view.side_data = NULL;
    view.side_data_elems = 0;
    view.pts = pts;
    view.dts = pts;
    if (track == 0)
        nl__xcode_video(h, &view);
    else
        nl__xcode_audio(h, &view);
    for (size_t i = 0; i < h->nmounts; i++) {
        if (!h->mounts[i].m || !h->mounts[i].active)
            continue;
        int rc = nl_rtsp_mount_push(h->mounts[i].m, track, &view);
        if (rc < 0 && rc != NL_ESTATE)
            NL_LOGD(hub_srv(h)->ctx, h->who, "%s: packet lost: %s", h->mounts[i].path,
                    nl_strerror(rc));
    }
}

void nl__hub_on_packet(nl__stream_hub *h, AVPacket *pkt, const nl_media_meta *meta)
{
    if (!h->running)
        return; /* a stop is pending: nothing more for the viewers */
    uint64_t now = hub_now(h);
    bool video = meta->kind == NL_MEDIA_KIND_IFRAME || meta->kind == NL_MEDIA_KIND_PFRAME;
    if (video) {
        h->last_video_at = now;
        nl__snap_hub_video(h, pkt, meta); /* snapshots: keeps a ref to key frames */
        if (pkt->pts == AV_NOPTS_VALUE)
            return;
        int64_t pts = nl__clock_map_video(&h->clock, pkt->pts, meta->flags, now);
        if (!h->mounts_final) {
            maybe_finalize(h, now);
            if (!h->mounts_final)
                return;
        }
        push(h, 0, pkt, pts);
        return;
    }
    if (meta->kind != NL_MEDIA_KIND_AAC && meta->kind != NL_MEDIA_KIND_ADPCM)
        return;
    if (!h->audio_seen) {
        h->audio_seen = true;
        if (!h->mounts_final)
            maybe_finalize(h, now);
    }
    if (!h->apar)
        return;
    if (meta->kind == NL_MEDIA_KIND_AAC && !h->aconv) {
        int64_t pts =
            nl__clock_map_audio(&h->clock, pkt->pts == AV_NOPTS_VALUE ? INT64_MIN : pkt->pts);
        if (pts != INT64_MIN)
            push(h, 1, pkt, pts);
        return;
    }
    if (meta->kind != NL_MEDIA_KIND_ADPCM || !h->aconv || !h->apkt)
        return;
    /* Converted packets keep the camera's µs clock; map them like AAC. */
    if (nl_audio_conv_push(h->aconv, pkt) < 0)
        return;
    while (nl_audio_conv_receive(h->aconv, h->apkt) == 0) {
        int64_t pts = nl__clock_map_audio(&h->clock, h->apkt->pts == AV_NOPTS_VALUE ? INT64_MIN
                                                                                    : h->apkt->pts);
        if (pts != INT64_MIN)
            push(h, 1, h->apkt, pts);
        av_packet_unref(h->apkt);
    }
}

/* Demand callback of every mount of the hub (mounts.c passes it). */
void nl__hub_on_demand(nl__stream_hub *h, nl_rtsp_mount *m, nl_rtsp_demand what)
{
    nl_server *srv = hub_srv(h);
    uint64_t now = hub_now(h);
    nl__hub_mount *hm = NULL;
    for (size_t i = 0; i < h->nmounts; i++)
        if (h->mounts[i].m == m)
            hm = &h->mounts[i];
    for (size_t i = 0; h->xc && i < h->xc->nmounts; i++)
        if (h->xc->mounts[i].m == m)
            hm = &h->xc->mounts[i];
    if (!hm)
        return;
    nl_activity_set(&srv->act, h->who, "viewer demand");
    bool before = any_viewer(h);
    switch (what) {
    case NL_RTSP_DEMAND_PLAY:
        hm->active = true;
        h->hold_until = 0;
        if (!before)
            NL_LOGI(srv->ctx, h->who, "first viewer (%s)%s", hm->path,
                    nl__camera_rt_logged_in(h->rt) ? "" : "; camera not connected yet");
        break;
    case NL_RTSP_DEMAND_IDLE:
        hm->active = false;
        if (before && !any_viewer(h)) {
            h->hold_until = nl_deadline_after(now, idle_linger_ns(h));
            if (h->rt->cfg && h->rt->cfg->on_demand)
                NL_LOGI(srv->ctx, h->who, "last viewer left (%s); stopping in %.1f s", hm->path,
                        secs(idle_linger_ns(h)));
            else
                NL_LOGI(srv->ctx, h->who, "last viewer left (%s)", hm->path);
        }
        break;
    case NL_RTSP_DEMAND_DESCRIBE: {
        uint64_t hold = idle_linger_ns(h);
        if (hold < NL_SERVE_DESCRIBE_HOLD_NS)
            hold = NL_SERVE_DESCRIBE_HOLD_NS;
        uint64_t until = nl_deadline_after(now, hold);
        if (until > h->hold_until)
            h->hold_until = until;
        bool xc = h->xc && hm >= h->xc->mounts && hm < h->xc->mounts + h->xc->nmounts;
        if (xc && until > h->xc->hold_until)
            h->xc->hold_until = until;
        NL_LOGI(srv->ctx, h->who, "DESCRIBE %s before %s: %s", hm->path,
                xc ? "the transcoder's first output" : "the format is known",
                nl__camera_rt_logged_in(h->rt) ? "starting the stream, answered 503 meanwhile"
                                               : "camera not connected, answered 503");
        break;
    }
    }
    nl__hub_update(h);
    nl_activity_clear(&srv->act);
}

/* ---------------------------------------------------------------- lifetime */

int nl__hub_create(nl__camera_rt *rt, nl_camera_stream kind, nl__stream_hub **out)
{
    *out = NULL;
    nl__stream_hub *h = nl__calloc(1, sizeof *h);
    if (!h)
        return NL_ENOMEM;
    h->rt = rt;
    h->kind = kind;
    snprintf(h->who, sizeof h->who, "camera %s %s", rt->name, nl_camera_stream_name(kind));
    nl_timer_init(&h->timer, on_timer, h);
    nl__clock_map_init(&h->clock);
    h->apkt = av_packet_alloc();
    if (!h->apkt) {
        nl__free(h);
        return NL_ENOMEM;
    }
    nl_config_path paths[NL_CONFIG_PATHS_MAX];
    size_t n = nl__mount_paths(rt->cfg, kind, paths, NL_CONFIG_PATHS_MAX);
    for (size_t i = 0; i < n; i++) {
        memcpy(h->mounts[i].path, paths[i].path, sizeof h->mounts[i].path);
        h->mounts[i].path[sizeof h->mounts[i].path - 1] = '\0';
        h->mounts[i].alias = paths[i].alias != 0;
    }
    h->nmounts = n;
    int rc = nl__xcode_create(h);
    if (rc < 0) {
        nl__hub_destroy(&h, true);
        return rc;
    }
    /* A path that cannot be mounted is logged and left out; the others
     * still serve. Only a lack of memory fails the camera. */
    rc = nl__hub_mounts_create(h);
    if (rc == NL_ENOMEM) {
        nl__hub_destroy(&h, true);
        return rc;
    }
    *out = h;
    return 0;
}

void nl__hub_destroy(nl__stream_hub **hp, bool remove_mounts)
{
    nl__stream_hub *h = *hp;
    if (!h)
        return;
    *hp = NULL;
    nl__snap_hub_destroy(h); /* snapshot requests waiting on it get a 503 */
    nl_timer_stop(hub_srv(h)->loop, &h->timer);
    if (remove_mounts)
        nl__hub_mounts_remove(h);
    nl__xcode_destroy(h);
    avcodec_parameters_free(&h->vpar);
    avcodec_parameters_free(&h->apar);
    nl_audio_conv_destroy(&h->aconv);
    av_packet_free(&h->apkt);
    nl__free(h);
}

static void add_figures(const nl__hub_mount *set, size_t n, nl__hub_figures *f)
{
    for (size_t i = 0; i < n; i++) {
        if (!set[i].m)
            continue;
        nl_rtsp_mount_stats st;
        nl_rtsp_mount_get_stats(set[i].m, &st);
        f->viewers += st.playing;
        f->dropped += st.frames_dropped;
        if (st.queue_peak_bytes > f->queue_peak_bytes)
            f->queue_peak_bytes = st.queue_peak_bytes;
    }
}

void nl__hub_figures_get(const nl__stream_hub *h, nl__hub_figures *f)
{
    memset(f, 0, sizeof *f);
    add_figures(h->mounts, h->nmounts, f);
    if (h->xc)
        add_figures(h->xc->mounts, h->xc->nmounts, f);
}
