/* Per-stream handles on the shared connection (baichuan.md §4.3, §5.1).
 *
 * Each stream (main, sub, extern) has its own Preview handle (0 / 256 /
 * 1024) and its own correlation word, so several run at once on one
 * connection: msg-3 messages are routed to the stream whose start request
 * carried the same bytes 12..15. The payloads of a stream, concatenated, are
 * the BcMedia byte stream; they go through that stream's demuxer and come out
 * as refcounted AVPackets with the camera clock unwrapped to 64 bits.
 *
 * Stopping sends msg 4 with the start's correlation word and waits at most
 * stop_timeout for the answer; nothing of the stream is delivered after the
 * stop request. */
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>

#include "bc/bodies.h"
#include "bc/session_int.h"
#include "core/log.h"
#include "neolink/error.h"

static const char *sname(const nl__stream *s)
{
    return nl_camera_stream_name((nl_camera_stream)s->kind);
}

unsigned nl__streams_active(const nl_camera *cam)
{
    unsigned n = 0;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        int st = cam->streams[k].st;
        n += st == NL__ST_STARTING || st == NL__ST_RUNNING || st == NL__ST_STOPPING;
    }
    return n;
}

unsigned nl__streams_stopping(const nl_camera *cam)
{
    unsigned n = 0;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
        n += cam->streams[k].st == NL__ST_STOPPING;
    return n;
}

/* ------------------------------------------------------------ requests */

static int send_preview(nl__conn *c, nl__stream *s, uint32_t msg_id, int stream_kind)
{
    nl_camera *cam = c->cam;
    nl_bc_preview p = {.channel_id = cam->channel, .handle = s->handle, .stream = stream_kind};
    nl_dbuf_reset(&c->body);
    long n = nl_bc_build_preview(&c->body, &p);
    if (n < 0)
        return (int)n;
    nl_bc_header h;
    nl_bc_header_init(&h, msg_id, NL_BC_CLASS_MODERN, s->corr, 0);
    return nl__io_send(c, &h, NULL, 0, c->body.data, (size_t)n);
}

static int send_start(nl__conn *c, nl__stream *s)
{
    nl_camera *cam = c->cam;
    if (!s->demux) {
        int rc = nl_media_demux_create(&s->demux, NULL);
        if (rc < 0)
            return rc;
    } else {
        /* A new run is a new byte stream: forget partial packets and clocks. */
        nl_media_demux_reset(s->demux);
    }
    s->handle = nl_bc_stream_handle(s->kind);
    s->corr = nl__conn_corr(c, nl_bc_stream_byte13(s->kind));
    s->st = NL__ST_STARTING;
    s->deadline = nl_deadline_after(nl_loop_now(cam->loop), cam->request_ns);
    NL_LOGD(cam->ctx, cam->who, "starting %s stream (handle %u, corr %08x)", sname(s),
            (unsigned)s->handle, (unsigned)s->corr);
    int rc = send_preview(c, s, NL_BC_MSG_VIDEO, s->kind);
    if (rc < 0)
        return rc;
    nl__cam_update_state(cam);
    return c->dead ? NL_ECANCELED : 0;
}

int nl__stream_start(nl_camera *cam, nl__stream *s)
{
    nl__conn *c = cam->conn;
    if (s->st == NL__ST_QUEUED || s->st == NL__ST_STARTING || s->st == NL__ST_RUNNING)
        return 0;
    if (s->st == NL__ST_STOPPING || !c || c->phase > NL__PH_READY)
        return NL_ESTATE;
    if (c->phase < NL__PH_READY) {
        s->st = NL__ST_QUEUED;
        return 0;
    }
    return send_start(c, s);
}

int nl__streams_start_queued(nl__conn *c)
{
    nl_camera *cam = c->cam;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        nl__stream *s = &cam->streams[k];
        if (s->st != NL__ST_QUEUED)
            continue;
        int rc = send_start(c, s);
        if (c->dead)
            return NL_ECANCELED;
        if (rc < 0) {
            s->st = NL__ST_IDLE;
            nl__cam_emit_stream(cam, s->kind, NL_CAMERA_STREAM_FAILED, rc);
            if (c->dead)
                return NL_ECANCELED;
        }
    }
    return 0;
}

int nl__stream_stop(nl_camera *cam, nl__stream *s)
{
    nl__conn *c = cam->conn;
    if (s->st == NL__ST_QUEUED) {
        s->st = NL__ST_IDLE; /* never sent: cancelled silently */
        return 0;
    }
    if ((s->st != NL__ST_STARTING && s->st != NL__ST_RUNNING) || !c)
        return 0;
    s->st = NL__ST_STOPPING;
    s->stop_err = 0;
    s->deadline = nl_deadline_after(nl_loop_now(cam->loop), cam->stop_ns);
    NL_LOGD(cam->ctx, cam->who, "stopping %s stream", sname(s));
    int rc = send_preview(c, s, NL_BC_MSG_VIDEO_STOP, NL_BC_STREAM_NONE);
    if (rc < 0)
        return rc;
    nl__cam_update_state(cam);
    return c->dead ? NL_ECANCELED : 0;
}

/* The stop finished (answer or timeout). */
static int stop_done(nl__conn *c, nl__stream *s, int err)
{
    nl_camera *cam = c->cam;
    s->st = NL__ST_IDLE;
    nl_bc_codec_set_binary(&c->codec, s->corr, 0);
    NL_LOGD(cam->ctx, cam->who, "%s stream stopped%s", sname(s),
            err ? " (camera did not confirm)" : "");
    nl__cam_emit_stream(cam, s->kind, NL_CAMERA_STREAM_STOPPED, err);
    if (c->dead)
        return NL_ECANCELED;
    if (c->phase == NL__PH_STOPPING)
        return nl__conn_close_continue(c);
    nl__cam_update_state(cam);
    return c->dead ? NL_ECANCELED : 0;
}

int nl__streams_end_all(nl_camera *cam, nl_camera_stream_event ev, int err)
{
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        nl__stream *s = &cam->streams[k];
        int was = s->st;
        s->st = NL__ST_IDLE;
        if (was == NL__ST_IDLE)
            continue;
        if (s->demux)
            nl_media_demux_reset(s->demux);
        nl__cam_emit_stream(cam, k, ev, err);
        if (cam->destroyed)
            return NL_ECANCELED;
    }
    return 0;
}

/* ------------------------------------------------------------ media */

static nl__stream *find_stream(nl_camera *cam, uint32_t corr)
{
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        nl__stream *s = &cam->streams[k];
        if (s->st >= NL__ST_STARTING && s->corr == corr)
            return s;
    }
    return NULL;
}

/* New or changed parameter sets: hand the codec parameters over. */
static void params_update(nl_camera *cam, nl__stream *s)
{
    if (!s->par && !(s->par = avcodec_parameters_alloc()))
        return;
    if (nl_media_demux_video_params(s->demux, s->par) < 0)
        return;
    NL_LOGD(cam->ctx, cam->who, "%s stream: %s %dx%d", sname(s), avcodec_get_name(s->par->codec_id),
            s->par->width, s->par->height);
    if (cam->cb.on_params && !cam->destroyed) {
        cam->cb_depth++;
        cam->cb.on_params(cam->cb.ud, cam, (nl_camera_stream)s->kind, s->par);
        cam->cb_depth--;
    }
}

/* Delivers one packet. Returns 0 to go on, 1 when the stream stopped
 * meanwhile, negative when the connection died. */
static int deliver(nl__conn *c, nl__stream *s, AVPacket *pkt, const nl_media_meta *meta)
{
    nl_camera *cam = c->cam;
    nl_camera_stream_stats *st = &s->stats;
    switch (meta->kind) {
    case NL_MEDIA_KIND_IFRAME:
    case NL_MEDIA_KIND_PFRAME:
        if (meta->flags & (NL_MEDIA_FLAG_PARAMS_CHANGED | NL_MEDIA_FLAG_HAS_PARAMS)) {
            nl_media_video_format vf;
            nl_media_demux_video_format(s->demux, &vf);
            if ((meta->flags & NL_MEDIA_FLAG_PARAMS_CHANGED) || !s->par ||
                s->par->codec_id == AV_CODEC_ID_NONE) {
                if (vf.have_params)
                    params_update(cam, s);
            }
            if (c->dead)
                return NL_ECANCELED;
            if (s->st != NL__ST_RUNNING)
                return 1;
        }
        st->frames++;
        /* Only a frame that came out of the demuxer proves the stream alive:
         * bytes alone do not (a lying size field or garbage inside media
         * messages would otherwise hold a stream without frames forever). */
        s->last_media = nl_loop_now(cam->loop);
        if (pkt->flags & AV_PKT_FLAG_KEY)
            st->keyframes++;
        if (st->first_pts_us == INT64_MIN)
            st->first_pts_us = pkt->pts;
        st->last_pts_us = pkt->pts;
        break;
    case NL_MEDIA_KIND_AAC:
    case NL_MEDIA_KIND_ADPCM:
        st->audio_packets++;
        break;
    default:
        return 0; /* Info: kept by the demuxer (nl_camera_stream_info) */
    }
    if (cam->cb.on_packet && !cam->destroyed) {
        cam->cb_depth++;
        cam->cb.on_packet(cam->cb.ud, cam, (nl_camera_stream)s->kind, pkt, meta);
        cam->cb_depth--;
    }
    if (c->dead)
        return NL_ECANCELED;
    return s->st == NL__ST_RUNNING ? 0 : 1;
}

static int feed(nl__conn *c, nl__stream *s, const uint8_t *p, size_t len)
{
    nl_camera *cam = c->cam;
    s->stats.bytes += len;
    while (len > 0) {
        size_t used = 0;
        int rc = nl_media_demux_feed(s->demux, p, len, &used);
        if (rc < 0 && rc != NL_ENOMEM) {
            NL_LOGW(cam->ctx, cam->who, "%s stream: demuxer refused data: %s", sname(s),
                    nl_strerror(rc));
            return 0;
        }
        if (used > len)
            used = len;
        p += used;
        len -= used;
        unsigned got = 0;
        AVPacket *pkt;
        nl_media_meta meta;
        while ((rc = nl_media_demux_next(s->demux, &pkt, &meta)) > 0) {
            got++;
            rc = deliver(c, s, pkt, &meta);
            if (rc != 0)
                return rc < 0 ? rc : 0;
        }
        if (used == 0 && got == 0)
            break; /* no progress possible: never spin */
    }
    return 0;
}

int nl__stream_on_video(nl__conn *c, const nl_bc_decoded *d)
{
    nl_camera *cam = c->cam;
    const nl_bc_header *h = d->hdr;
    nl__stream *s = find_stream(cam, h->corr);
    if (!s) {
        cam->stats.messages_dropped++;
        NL_LOGT(cam->ctx, cam->who, "video data for unknown corr %08x dropped", (unsigned)h->corr);
        return 0;
    }
    if (s->st == NL__ST_STOPPING)
        return 0; /* nothing is delivered after a stop request */
    if (s->st == NL__ST_STARTING) {
        if (h->response_code != NL_BC_RESP_OK) {
            s->st = NL__ST_IDLE;
            NL_LOGW(cam->ctx, cam->who, "camera refused the %s stream (%u)", sname(s),
                    h->response_code);
            nl__cam_emit_stream(cam, s->kind, NL_CAMERA_STREAM_FAILED, NL_EREFUSED);
            if (c->dead)
                return NL_ECANCELED;
            nl__cam_update_state(cam);
            return c->dead ? NL_ECANCELED : 0;
        }
        s->st = NL__ST_RUNNING;
        s->stats.starts++;
        s->stats.first_pts_us = INT64_MIN;
        s->last_media = nl_loop_now(cam->loop);
        NL_LOGI(cam->ctx, cam->who, "%s stream started", sname(s));
        nl__cam_emit_stream(cam, s->kind, NL_CAMERA_STREAM_STARTED, 0);
        if (c->dead)
            return NL_ECANCELED;
        if (s->st != NL__ST_RUNNING)
            return 0;
    }
    if (!d->payload_len)
        return 0;
    if (!d->binary) {
        NL_LOGD(cam->ctx, cam->who, "%s stream: XML payload on a video message ignored", sname(s));
        return 0;
    }
    return feed(c, s, d->payload, d->payload_len);
}

int nl__stream_on_stop_reply(nl__conn *c, const nl_bc_decoded *d)
{
    nl__stream *s = find_stream(c->cam, d->hdr->corr);
    if (!s || s->st != NL__ST_STOPPING)
        return 0;
    return stop_done(c, s, 0);
}

/* ------------------------------------------------------------ deadlines */

uint64_t nl__streams_next_deadline(const nl_camera *cam)
{
    uint64_t d = NL_TIME_NEVER;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        const nl__stream *s = &cam->streams[k];
        uint64_t t = NL_TIME_NEVER;
        if (s->st == NL__ST_STARTING || s->st == NL__ST_STOPPING)
            t = s->deadline;
        else if (s->st == NL__ST_RUNNING)
            t = nl_sat_add(s->last_media, cam->stall_ns);
        if (t < d)
            d = t;
    }
    return d;
}

int nl__streams_on_time(nl__conn *c, uint64_t now)
{
    nl_camera *cam = c->cam;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        nl__stream *s = &cam->streams[k];
        int rc = 0;
        switch (s->st) {
        case NL__ST_STARTING:
            if (!nl_deadline_passed(now, s->deadline))
                break;
            s->st = NL__ST_IDLE;
            NL_LOGW(cam->ctx, cam->who, "no answer to the %s stream start within %llu ms", sname(s),
                    (unsigned long long)(cam->request_ns / NL_NS_PER_MS));
            nl__cam_emit_stream(cam, k, NL_CAMERA_STREAM_FAILED, NL_ETIMEDOUT);
            if (c->dead)
                return NL_ECANCELED;
            nl__cam_update_state(cam);
            break;
        case NL__ST_STOPPING:
            if (nl_deadline_passed(now, s->deadline))
                rc = stop_done(c, s, NL_ETIMEDOUT);
            break;
        case NL__ST_RUNNING:
            if (nl_deadline_passed(now, nl_sat_add(s->last_media, cam->stall_ns)))
                return nl__conn_fail(c, NL_ESTALL, "%s stream: no media for %llu ms", sname(s),
                                     (unsigned long long)(cam->stall_ns / NL_NS_PER_MS));
            break;
        default:
            break;
        }
        if (rc < 0 || c->dead)
            return rc < 0 ? rc : NL_ECANCELED;
    }
    return 0;
}
