/* Mounts: tracks, packetization once per track, fan-out, GOP cache, SDP.
 * See mount.h. */
#include <string.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libavutil/time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "neolink/error.h"
#include "rtsp/server_int.h"

/* A source restart: pts more than this behind the track's last one... */
#define NL_MOUNT_JUMP_BACK_US INT64_C(1000000)
/* ...or this far ahead of where wall-clock time says it should be. */
#define NL_MOUNT_JUMP_AHEAD_US INT64_C(10000000)
/* SDP buffer (sprop strings of real cameras get long). */
#define NL_MOUNT_SDP_MAX 16384

static int make_mux(nl_rtsp_mount *m, int i, int64_t origin_us, int64_t realtime_us,
                    nl_rtp_mux **out);

static nl_media_codec video_codec(enum AVCodecID id)
{
    if (id == AV_CODEC_ID_H264)
        return NL_MEDIA_CODEC_H264;
    if (id == AV_CODEC_ID_HEVC)
        return NL_MEDIA_CODEC_H265;
    return NL_MEDIA_CODEC_NONE;
}

static bool path_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '~' || ch == '-';
}

/* "cam", "/cam/sub/" -> "/cam", "/cam/sub". NULL when invalid. */
static char *normalise_path(const char *in)
{
    if (!in)
        return NULL;
    size_t n = strlen(in);
    if (n == 0 || n > NL_RTSP_MAX_PATH - 32)
        return NULL;
    char *out = nl__malloc(n + 2);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *seg = p;
        while (*p && *p != '/') {
            if (!path_char_ok(*p))
                goto bad;
            p++;
        }
        size_t sl = (size_t)(p - seg);
        if ((sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
            goto bad;
        out[o++] = '/';
        memcpy(out + o, seg, sl);
        o += sl;
    }
    if (o == 0)
        goto bad;
    out[o] = '\0';
    return out;
bad:
    nl__free(out);
    return NULL;
}

static void invalidate_sdp(nl_rtsp_mount *m)
{
    m->sdp_len = -1;
}

static int set_track_par(nl__rtsp_track *t, const AVCodecParameters *par)
{
    if (!t->par) {
        t->par = avcodec_parameters_alloc();
        if (!t->par)
            return NL_ENOMEM;
    }
    if (avcodec_parameters_copy(t->par, par) < 0)
        return NL_ENOMEM;
    nl_media_codec vc = video_codec(par->codec_id);
    if (vc == NL_MEDIA_CODEC_NONE) {
        nl__free(t->ps);
        t->ps = NULL;
        t->vcodec = vc;
        return 0;
    }
    if (!t->ps) {
        t->ps = nl__malloc(sizeof(*t->ps));
        if (!t->ps)
            return NL_ENOMEM;
        nl__psets_init(t->ps);
    }
    t->vcodec = vc;
    if (par->extradata && par->extradata_size > 0)
        nl__psets_update(t->ps, vc, par->extradata, (size_t)par->extradata_size, NULL);
    else if (t->ps->codec != vc)
        nl__psets_update(t->ps, vc, NULL, 0, NULL);
    return 0;
}

static bool track_ready(const nl__rtsp_track *t)
{
    if (t->ps)
        return nl__psets_complete(t->ps) != 0;
    if (t->par->codec_id == AV_CODEC_ID_AAC)
        return t->par->extradata_size >= 2;
    return true;
}

NL_EXPORT bool nl_rtsp_mount_ready(const nl_rtsp_mount *m)
{
    for (int i = 0; i < m->ntracks; i++)
        if (!track_ready(&m->tracks[i]))
            return false;
    return true;
}

NL_EXPORT const char *nl_rtsp_mount_path(const nl_rtsp_mount *m)
{
    return m->path;
}

static void gop_clear(nl_rtsp_mount *m)
{
    for (uint32_t i = 0; i < m->gop_len; i++)
        nl_rtp_frame_unref(&m->gop[i].f);
    m->gop_len = 0;
    m->gop_bytes = 0;
    m->gop_valid = false;
}

void nl__rtsp_mount_free(nl_rtsp_mount *m)
{
    if (!m)
        return;
    if (m->gop) {
        gop_clear(m);
        nl__free(m->gop);
    }
    for (int i = 0; i < NL_SDP_MAX_TRACKS; i++) {
        nl__rtsp_track *t = &m->tracks[i];
        nl_rtp_mux_destroy(&t->mux);
        avcodec_parameters_free(&t->par);
        nl__free(t->ps);
    }
    av_packet_free(&m->scratch);
    nl__free(m->playing);
    if (m->users) {
        for (char **u = m->users; *u; u++)
            nl__free(*u);
        nl__free(m->users);
    }
    nl__free(m->sdp);
    nl__free(m->session_name);
    nl__free(m->path);
    nl__free(m);
}

static int copy_users(nl_rtsp_mount *m, const char *const *users)
{
    if (!users)
        return 0;
    size_t n = 0;
    while (users[n])
        n++;
    m->users = nl__calloc(n + 1, sizeof(char *));
    if (!m->users)
        return NL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        m->users[i] = nl__strdup(users[i]);
        if (!m->users[i])
            return NL_ENOMEM;
    }
    return 0;
}

NL_EXPORT int nl_rtsp_mount_create(nl_rtsp_server *srv, const nl_rtsp_mount_config *cfg,
                                   nl_rtsp_mount **out)
{
    if (!out)
        return NL_EINVAL;
    *out = NULL;
    if (!srv || !cfg || !cfg->tracks || cfg->n_tracks < 1 || cfg->n_tracks > NL_SDP_MAX_TRACKS)
        return NL_EINVAL;
    for (int i = 0; i < cfg->n_tracks; i++) {
        const nl_rtsp_track_config *tc = &cfg->tracks[i];
        if (!tc->par || tc->time_base.num <= 0 || tc->time_base.den <= 0 ||
            tc->par->codec_id == AV_CODEC_ID_NONE ||
            (tc->par->codec_type != AVMEDIA_TYPE_VIDEO &&
             tc->par->codec_type != AVMEDIA_TYPE_AUDIO))
            return NL_EINVAL;
        if (tc->par->codec_type == AVMEDIA_TYPE_AUDIO && tc->par->sample_rate <= 0)
            return NL_EINVAL;
    }
    nl_rtsp_mount *m = nl__calloc(1, sizeof(*m));
    if (!m)
        return NL_ENOMEM;
    int rc = NL_EINVAL;
    m->srv = srv;
    nl_list_init(&m->node);
    nl_list_init(&m->sessions);
    m->sdp_len = -1;
    m->video_track = -1;
    m->path = normalise_path(cfg->path);
    if (!m->path)
        goto fail;
    nl_list_foreach(it, &srv->mounts)
    {
        nl_rtsp_mount *o = nl_container_of(it, nl_rtsp_mount, node);
        if (strcmp(o->path, m->path) == 0) {
            rc = NL_EEXIST;
            goto fail;
        }
    }
    rc = NL_ENOMEM;
    m->session_name = nl__strdup(cfg->session_name ? cfg->session_name : m->path);
    m->scratch = av_packet_alloc();
    m->no_login = cfg->no_login;
    if (!m->session_name || !m->scratch || copy_users(m, cfg->users) < 0)
        goto fail;
    m->ntracks = cfg->n_tracks;
    for (int i = 0; i < cfg->n_tracks; i++) {
        nl__rtsp_track *t = &m->tracks[i];
        t->tb = cfg->tracks[i].time_base;
        rc = set_track_par(t, cfg->tracks[i].par);
        if (rc < 0)
            goto fail;
        if (m->video_track < 0 && t->par->codec_type == AVMEDIA_TYPE_VIDEO)
            m->video_track = i;
        /* Refuse at once a codec the rtp muxer cannot carry (a track that is
         * merely not ready yet, like AAC without its config, is fine). */
        nl_rtp_mux *probe = NULL;
        rc = make_mux(m, i, 0, 0, &probe);
        nl_rtp_mux_destroy(&probe);
        if (rc == NL_ECODEC || rc == NL_ENOMEM)
            goto fail;
        rc = 0;
    }
    m->max_clients = cfg->max_clients;
    m->gop_cache = cfg->gop_cache && m->video_track >= 0;
    if (m->gop_cache) {
        m->gop_cap = srv->cfg.queue_max_frames;
        m->gop = nl__calloc(m->gop_cap, sizeof(*m->gop));
        if (!m->gop) {
            rc = NL_ENOMEM;
            goto fail;
        }
    }
    m->not_ready = cfg->not_ready;
    m->on_demand = cfg->on_demand;
    m->ud = cfg->ud;
    nl_list_insert_tail(&srv->mounts, &m->node);
    NL_LOGI(srv->ctx, "rtsp server", "mount %s: %d track(s)%s", m->path, m->ntracks,
            m->gop_cache ? ", GOP cache" : "");
    *out = m;
    return 0;
fail:
    nl__rtsp_mount_free(m);
    return rc;
}

void nl__rtsp_mount_close_clients(nl_rtsp_mount *m, int why)
{
    /* Each round closes at least one session, so this ends. */
    while (!nl_list_empty(&m->sessions)) {
        nl__rtsp_session *s = nl_container_of(m->sessions.next, nl__rtsp_session, mount_node);
        nl__rtsp_conn *c = s->conn;
        nl__rtsp_session_close(s, why);
        if (c && !c->dead)
            nl__rtsp_conn_fail(c, why);
    }
}

NL_EXPORT void nl_rtsp_mount_remove(nl_rtsp_mount **mp)
{
    if (!mp || !*mp)
        return;
    nl_rtsp_mount *m = *mp;
    *mp = NULL;
    if (m->dead)
        return;
    nl_rtsp_server *srv = m->srv;
    NL_LOGI(srv->ctx, "rtsp server", "mount %s removed", m->path);
    m->dead = true;
    nl__rtsp_mount_close_clients(m, NL_ECANCELED);
    gop_clear(m);
    nl_list_remove(&m->node);
    nl_list_insert_tail(&srv->dead_mounts, &m->node);
    nl__rtsp_server_schedule(srv);
}

/* ---------------------------------------------------------------- players */

int nl__rtsp_mount_add_player(nl_rtsp_mount *m, nl__rtsp_session *s)
{
    if (m->nplaying == m->playing_cap) {
        /* Doubling: a mount reallocates a few times in its life, never per frame. */
        uint32_t cap = m->playing_cap ? 2 * m->playing_cap : 16;
        nl__rtsp_session **v = nl__realloc(m->playing, (size_t)cap * sizeof(*v));
        if (!v)
            return NL_ENOMEM;
        m->playing = v;
        m->playing_cap = cap;
    }
    s->play_idx = m->nplaying;
    m->playing[m->nplaying++] = s;
    return 0;
}

void nl__rtsp_mount_remove_player(nl_rtsp_mount *m, nl__rtsp_session *s)
{
    uint32_t i = s->play_idx;
    if (i >= m->nplaying || m->playing[i] != s)
        return;
    s->play_idx = UINT32_MAX;
    if (m->fanning) {
        /* The fan-out holds an index into the array: do not move anything
         * under it. (By design nothing it calls removes a player; this only
         * keeps a future change from skipping or repeating a client.) */
        m->playing[i] = NULL;
        m->playing_holes = true;
        return;
    }
    uint32_t last = --m->nplaying;
    if (i != last) {
        m->playing[i] = m->playing[last];
        m->playing[i]->play_idx = i;
    }
}

static void squeeze_holes(nl_rtsp_mount *m)
{
    uint32_t o = 0;
    for (uint32_t i = 0; i < m->nplaying; i++) {
        nl__rtsp_session *s = m->playing[i];
        if (s) {
            s->play_idx = o;
            m->playing[o++] = s;
        }
    }
    m->nplaying = o;
    m->playing_holes = false;
}

/* Every playing session gets frame f. The sessions are spread over the heap
 * and, between two frames, the kernel's copies for hundreds of sockets evict
 * them from the caches: each would cost several serial cache misses. So the
 * walk prefetches the hot part of the session a few slots ahead and its
 * connection's a little later (the session line holding the pointer has
 * arrived by then), and the misses overlap instead of adding up. */
#define NL_FAN_AHEAD_SESS 8u
#define NL_FAN_AHEAD_CONN 4u

static void prefetch_bytes(const void *p, size_t n)
{
    const char *c = p;
    for (size_t o = 0; o < n; o += 64)
        __builtin_prefetch(c + o, 1, 3);
    __builtin_prefetch(c + n - 1, 1, 3);
}

static void fan_out(nl_rtsp_mount *m, const nl_rtp_frame *f, uint64_t now)
{
    m->fanning = true;
    uint32_t n = m->nplaying;
    nl__rtsp_session **v = m->playing;
    for (uint32_t i = 0; i < n; i++) {
        if (i + NL_FAN_AHEAD_SESS < n && v[i + NL_FAN_AHEAD_SESS])
            prefetch_bytes(v[i + NL_FAN_AHEAD_SESS], NL__SESS_HOT_BYTES);
        if (i + NL_FAN_AHEAD_CONN < n && v[i + NL_FAN_AHEAD_CONN] && v[i + NL_FAN_AHEAD_CONN]->conn)
            prefetch_bytes(v[i + NL_FAN_AHEAD_CONN]->conn, NL__CONN_HOT_BYTES);
        if (v[i])
            nl__rtsp_session_offer(v[i], f, now);
    }
    m->fanning = false;
    if (m->playing_holes)
        squeeze_holes(m);
}

bool nl__rtsp_mount_start_point(const nl_rtsp_mount *m, const nl_rtp_frame *f)
{
    if (m->video_track < 0)
        return f->nrtp > 0;
    return f->track == m->video_track && f->keyframe && f->nrtp > 0;
}

bool nl__rtsp_mount_predict(const nl_rtsp_mount *m, int t, uint16_t *seq, uint32_t *rtptime)
{
    const nl__rtsp_track *tr = &m->tracks[t];
    if (!tr->have_last)
        return false;
    *seq = tr->next_seq;
    *rtptime = tr->last_rtptime + tr->rtptime_step;
    return true;
}

bool nl__rtsp_mount_rtptime_at(const nl_rtsp_mount *m, int t, int64_t us, uint32_t *rtptime)
{
    const nl__rtsp_track *tr = &m->tracks[t];
    if (!tr->have_anchor || !tr->mux)
        return false;
    int64_t d = av_rescale(us - tr->anchor_us, nl_rtp_mux_clock_rate(tr->mux), 1000000);
    *rtptime = tr->anchor_rtp + (uint32_t)d;
    return true;
}

int64_t nl__rtsp_mount_frame_us(const nl_rtsp_mount *m, const nl_rtp_frame *f)
{
    return av_rescale_q(f->pts, m->tracks[f->track].tb, AV_TIME_BASE_Q);
}

int64_t nl__rtsp_mount_now_us(const nl_rtsp_mount *m, uint64_t now)
{
    return m->last_pts_us + (int64_t)((now - m->last_push) / 1000);
}

bool nl__rtsp_mount_permits(const nl_rtsp_mount *m, const char *user)
{
    if (!m->users)
        return true;
    for (char **u = m->users; *u; u++)
        if (strcmp(*u, user) == 0)
            return true;
    return false;
}

nl_rtsp_mount *nl__rtsp_mount_find(nl_rtsp_server *srv, const nl_rtsp_url *url, int *track)
{
    nl_list_foreach(it, &srv->mounts)
    {
        nl_rtsp_mount *m = nl_container_of(it, nl_rtsp_mount, node);
        if (nl_rtsp_url_match(url, m->path, track))
            return m;
    }
    return NULL;
}

void nl__rtsp_mount_account(nl_rtsp_mount *m, const nl__rtsp_session *s)
{
    m->closed_sent += s->frames_sent;
    m->closed_dropped += s->frames_dropped;
    m->closed_bytes += s->bytes_sent;
    m->closed_overflows += s->overflows;
    if (s->q.peak_bytes > m->peak_bytes)
        m->peak_bytes = s->q.peak_bytes;
    if (s->q.peak_len > m->peak_frames)
        m->peak_frames = s->q.peak_len;
}

/* ---------------------------------------------------------------- SDP */

static int make_mux(nl_rtsp_mount *m, int i, int64_t origin_us, int64_t realtime_us,
                    nl_rtp_mux **out)
{
    nl__rtsp_track *t = &m->tracks[i];
    nl_rtp_mux_config c = {
        .par = t->par,
        .in_time_base = t->tb,
        .origin = av_rescale_q(origin_us, AV_TIME_BASE_Q, t->tb),
        .start_time_realtime = realtime_us,
        .track = i,
        .payload_type = -1,
    };
    int rc = nl_rtp_mux_create(out, &c);
    if (rc == NL_EINVAL && !track_ready(t))
        rc = NL_ESTATE;
    return rc;
}

int nl__rtsp_mount_sdp(nl_rtsp_mount *m, const char **sdp)
{
    if (m->sdp_len >= 0) {
        *sdp = m->sdp;
        return m->sdp_len;
    }
    if (!nl_rtsp_mount_ready(m) && m->not_ready == NL_RTSP_NOT_READY_REFUSE)
        return NL_ESTATE;
    if (!m->sdp) {
        m->sdp = nl__malloc(NL_MOUNT_SDP_MAX);
        if (!m->sdp)
            return NL_ENOMEM;
    }
    nl_rtp_mux *mux[NL_SDP_MAX_TRACKS] = {0};
    nl_rtp_mux *tmp[NL_SDP_MAX_TRACKS] = {0};
    int rc = 0;
    for (int i = 0; i < m->ntracks && rc == 0; i++) {
        if (m->tracks[i].mux) {
            mux[i] = m->tracks[i].mux;
        } else {
            rc = make_mux(m, i, 0, 0, &tmp[i]);
            mux[i] = tmp[i];
        }
    }
    if (rc == 0)
        rc = nl_rtp_sdp_build(mux, m->ntracks, m->session_name, m->sdp, NL_MOUNT_SDP_MAX);
    for (int i = 0; i < m->ntracks; i++)
        nl_rtp_mux_destroy(&tmp[i]);
    if (rc < 0)
        return rc == NL_ESTATE ? rc : NL_ECODEC;
    m->sdp_len = rc;
    *sdp = m->sdp;
    return rc;
}

/* ---------------------------------------------------------------- push */

static void learn_extradata(nl_rtsp_mount *m, nl__rtsp_track *t)
{
    int n = nl__psets_annexb(t->ps, NULL, 0);
    if (n <= 0)
        return;
    uint8_t *e = av_mallocz((size_t)n + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!e)
        return;
    if (nl__psets_annexb(t->ps, e, (size_t)n) != n) {
        av_free(e);
        return;
    }
    av_freep(&t->par->extradata);
    t->par->extradata = e;
    t->par->extradata_size = n;
    if (t->mux)
        nl_rtp_mux_set_extradata(t->mux, e, (size_t)n);
    invalidate_sdp(m);
    NL_LOGD(m->srv->ctx, "rtsp server", "mount %s: parameter sets learnt (%d bytes)", m->path, n);
}

/* True when a keyframe lacks a parameter set the codec needs. */
static bool lacks_params(nl_media_codec vc, const nl__au_scan *scan)
{
    if (!nl__nal_is_keyframe(vc, scan->first_vcl_type))
        return false;
    if (!scan->has[NL__PS_SPS] || !scan->has[NL__PS_PPS])
        return true;
    return vc == NL_MEDIA_CODEC_H265 && !scan->has[NL__PS_VPS];
}

static void gop_add(nl_rtsp_mount *m, const nl_rtp_frame *f, uint64_t now)
{
    if (!m->gop_cache)
        return;
    if (f->track == m->video_track && f->keyframe && f->nrtp) {
        gop_clear(m);
        m->gop_valid = true;
    }
    if (!m->gop_valid)
        return;
    if (m->gop_len == m->gop_cap || m->gop_bytes + f->size > m->srv->cfg.gop_cache_max_bytes) {
        gop_clear(m);
        return;
    }
    m->gop[m->gop_len].f = nl_rtp_frame_ref(f);
    m->gop[m->gop_len].arrival = now;
    m->gop_len++;
    m->gop_bytes += f->size;
}

/* Folds a source restart into the mount-wide offset; returns pts in µs
 * after the offset. */
static int64_t map_pts(nl_rtsp_mount *m, nl__rtsp_track *t, int64_t pts_us, uint64_t now)
{
    if (!m->have_origin) {
        m->have_origin = true;
        m->origin_us = pts_us;
        m->start_realtime_us = av_gettime();
        m->offset_us = 0;
        m->last_pts_us = pts_us;
        m->last_push = now;
        return pts_us;
    }
    int64_t adj = pts_us + m->offset_us;
    int64_t elapsed = (int64_t)((now - m->last_push) / 1000);
    int64_t expected = m->last_pts_us + elapsed;
    bool back = t->have_last && t->frames_in > 1 && adj < t->last_pts_us - NL_MOUNT_JUMP_BACK_US;
    if (back || adj > expected + NL_MOUNT_JUMP_AHEAD_US) {
        m->offset_us = expected - pts_us;
        adj = expected;
        NL_LOGI(m->srv->ctx, "rtsp server", "mount %s: source clock jumped, re-anchored", m->path);
    }
    return adj;
}

NL_EXPORT int nl_rtsp_mount_push(nl_rtsp_mount *m, int track, const AVPacket *pkt)
{
    if (!m || m->dead || track < 0 || track >= m->ntracks || !pkt || !pkt->data || pkt->size <= 0 ||
        pkt->pts == AV_NOPTS_VALUE)
        return NL_EINVAL;
    nl_rtsp_server *srv = m->srv;
    nl__rtsp_track *t = &m->tracks[track];
    uint64_t now = nl_loop_now(srv->loop);
    t->frames_in++;

    const AVPacket *in = pkt;
    if (t->ps) {
        nl__au_scan scan;
        if (nl__psets_update(t->ps, t->vcodec, pkt->data, (size_t)pkt->size, &scan) == 1 &&
            nl__psets_complete(t->ps))
            learn_extradata(m, t);
        if (lacks_params(t->vcodec, &scan) && nl__psets_complete(t->ps)) {
            av_packet_unref(m->scratch);
            if (av_packet_ref(m->scratch, pkt) == 0 &&
                nl__nal_prepend_params(t->ps, m->scratch) == 1)
                in = m->scratch;
        }
    }

    int64_t pts_us = av_rescale_q(pkt->pts, t->tb, AV_TIME_BASE_Q);
    int64_t adj_us = map_pts(m, t, pts_us, now);
    int rc = 0;
    if (!t->mux) {
        rc = make_mux(m, track, m->origin_us, m->start_realtime_us, &t->mux);
        if (rc < 0) {
            t->frames_lost++;
            av_packet_unref(m->scratch);
            return rc == NL_EINVAL ? NL_ESTATE : rc;
        }
    }
    /* Shift by the mount offset without touching the caller's packet. */
    int64_t shift = m->offset_us ? av_rescale_q(m->offset_us, AV_TIME_BASE_Q, t->tb) : 0;
    AVPacket view;
    memset(&view, 0, sizeof view);
    view.data = in->data;
    view.size = in->size;
    view.pts = in->pts + shift;
    view.dts = in->dts == AV_NOPTS_VALUE ? AV_NOPTS_VALUE : in->dts + shift;
    view.flags = in->flags;

    nl_rtp_frame *f = NULL;
    rc = nl_rtp_mux_write(t->mux, &view, &f);
    av_packet_unref(m->scratch);
    int64_t prev_in = t->last_pts_us;
    t->last_pts_us = adj_us;
    if (adj_us > m->last_pts_us)
        m->last_pts_us = adj_us;
    m->last_push = now;
    if (rc < 0) {
        t->frames_lost++;
        return rc;
    }
    if (!f)
        return 0;
    if (f->nrtp) {
        /* The RTP time of a frame's first packet is its own AU's time, but
         * AAC frames carry the PREVIOUS access unit (rtp_mux.h). */
        bool lag = t->par->codec_id == AV_CODEC_ID_AAC;
        if (!lag || t->frames_in > 1) {
            t->anchor_rtp = f->first_rtptime;
            t->anchor_us = lag ? prev_in : adj_us;
            t->have_anchor = true;
        }
        if (t->have_last)
            t->rtptime_step = f->first_rtptime - t->last_rtptime;
        t->last_rtptime = f->first_rtptime;
        t->next_seq = (uint16_t)(f->last_seq + 1);
        t->have_last = true;
    }
    gop_add(m, f, now);
    fan_out(m, f, now);
    nl_rtp_frame_unref(&f);
    return 0;
}

NL_EXPORT int nl_rtsp_mount_set_codecpar(nl_rtsp_mount *m, int track, const AVCodecParameters *par)
{
    if (!m || m->dead || track < 0 || track >= m->ntracks || !par ||
        par->codec_id == AV_CODEC_ID_NONE)
        return NL_EINVAL;
    nl__rtsp_track *t = &m->tracks[track];
    if (par->codec_id != t->par->codec_id || par->codec_type != t->par->codec_type) {
        NL_LOGI(m->srv->ctx, "rtsp server", "mount %s: track %d changed codec", m->path, track);
        nl__rtsp_mount_close_clients(m, NL_ECODEC);
        gop_clear(m);
        nl_rtp_mux_destroy(&t->mux);
        t->have_last = false;
        if (t->ps)
            nl__psets_init(t->ps);
    }
    int rc = set_track_par(t, par);
    if (rc < 0)
        return rc;
    if (t->mux && par->extradata_size > 0)
        nl_rtp_mux_set_extradata(t->mux, par->extradata, (size_t)par->extradata_size);
    invalidate_sdp(m);
    return 0;
}

NL_EXPORT void nl_rtsp_mount_get_stats(const nl_rtsp_mount *m, nl_rtsp_mount_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->path = m->path;
    st->clients = nl_list_count(&m->sessions);
    st->playing = m->nplaying;
    for (int i = 0; i < m->ntracks; i++) {
        st->frames_in += m->tracks[i].frames_in;
        st->frames_lost += m->tracks[i].frames_lost;
    }
    st->frames_sent = m->closed_sent;
    st->frames_dropped = m->closed_dropped;
    st->bytes_sent = m->closed_bytes;
    st->overflows = m->closed_overflows;
    st->queue_peak_bytes = m->peak_bytes;
    st->queue_peak_frames = m->peak_frames;
    nl_list_foreach(it, &m->sessions)
    {
        const nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, mount_node);
        st->frames_sent += s->frames_sent;
        st->frames_dropped += s->frames_dropped;
        st->bytes_sent += s->bytes_sent;
        st->overflows += s->overflows;
        if (s->q.peak_bytes > st->queue_peak_bytes)
            st->queue_peak_bytes = s->q.peak_bytes;
        if (s->q.peak_len > st->queue_peak_frames)
            st->queue_peak_frames = s->q.peak_len;
    }
    st->ready = nl_rtsp_mount_ready(m);
}
