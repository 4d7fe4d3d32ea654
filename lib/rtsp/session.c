/* RTSP sessions: creation, expiry (a pure function of now), play start,
 * fan-out intake and the UDP sender. See session.h. */
#include <string.h>
#include <sys/random.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "rtsp/server_int.h"

uint64_t nl__rtsp_session_deadline(const nl__rtsp_session *s)
{
    if (s->lower == NL_RTSP_LOWER_TCP)
        return NL_TIME_NEVER;
    uint64_t life = ((uint64_t)s->timeout_s + s->grace_s) * NL_NS_PER_S;
    return nl_deadline_after(s->last_seen, life);
}

bool nl__rtsp_session_expired(const nl__rtsp_session *s, uint64_t now)
{
    return nl_deadline_passed(now, nl__rtsp_session_deadline(s));
}

void nl__rtsp_session_touch(nl__rtsp_session *s, uint64_t now)
{
    if (now > s->last_seen)
        s->last_seen = now;
}

static void on_pace(nl_timer *t)
{
    nl__rtsp_session *s = t->data;
    if (s->lower == NL_RTSP_LOWER_TCP) {
        if (s->conn)
            nl__rtsp_conn_flush(s->conn);
    } else {
        nl__rtsp_session_drain_udp(s);
    }
}

static int make_id(char out[NL_RTSP_SESSION_ID_LEN + 1])
{
    uint8_t r[NL_RTSP_SESSION_ID_LEN / 2];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return NL_EIO;
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < sizeof r; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[NL_RTSP_SESSION_ID_LEN] = '\0';
    return 0;
}

int nl__rtsp_session_create(nl_rtsp_server *srv, nl_rtsp_mount *m, nl__rtsp_conn *c,
                            nl_rtsp_lower lower, nl__rtsp_session **out)
{
    nl__rtsp_session *s = nl__calloc(1, sizeof(*s));
    if (!s)
        return NL_ENOMEM;
    int rc;
    do {
        rc = make_id(s->id);
    } while (rc == 0 && nl__rtsp_session_find(srv, nl_rtsp_span_make(s->id, strlen(s->id))));
    if (rc == 0)
        rc = nl__cq_init(&s->q, srv->cfg.queue_max_frames, srv->cfg.queue_max_bytes,
                         (uint64_t)srv->cfg.queue_max_ms * NL_NS_PER_MS);
    if (rc < 0) {
        nl__cq_free(&s->q);
        nl__free(s);
        return rc;
    }
    s->srv = srv;
    s->mount = m;
    s->conn = c;
    s->lower = lower;
    s->state = NL__SESS_READY;
    s->timeout_s = srv->cfg.session_timeout_s;
    s->grace_s = srv->cfg.udp_grace_s;
    s->last_seen = nl_loop_now(srv->loop);
    memcpy(&s->peer, &c->peer, sizeof s->peer);
    s->peer_len = c->peer_len;
    memcpy(s->peer_str, c->peer_host, sizeof s->peer_str);
    nl_timer_init(&s->pace, on_pace, s);
    s->play_idx = UINT32_MAX;
    nl_list_insert_tail(&srv->sessions, &s->srv_node);
    nl_list_insert_tail(&m->sessions, &s->mount_node);
    nl_list_insert_tail(&c->sessions, &s->conn_node);
    *out = s;
    return 0;
}

nl__rtsp_session *nl__rtsp_session_find(nl_rtsp_server *srv, nl_rtsp_span id)
{
    if (id.n != NL_RTSP_SESSION_ID_LEN)
        return NULL;
    nl_list_foreach(it, &srv->sessions)
    {
        nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, srv_node);
        if (memcmp(s->id, id.p, id.n) == 0)
            return s;
    }
    return NULL;
}

static void clear_pending(nl__rtsp_session *s)
{
    s->play_pending = false;
    nl__free(s->play_base);
    s->play_base = NULL;
    if (s->conn && s->conn->play_wait == s) {
        s->conn->play_wait = NULL;
        nl__rtsp_conn_resume(s->conn);
    }
}

void nl__rtsp_session_stop(nl__rtsp_session *s)
{
    if (s->state != NL__SESS_PLAYING)
        return;
    s->state = NL__SESS_READY;
    nl__rtsp_mount_remove_player(s->mount, s);
    s->frames_dropped += nl__cq_clear(&s->q);
    s->waiting_key = false;
    s->delay_ns = 0;
    nl_timer_stop(s->srv->loop, &s->pace);
    clear_pending(s);
    nl__rtsp_server_schedule(s->srv); /* demand: maybe the last viewer left */
}

void nl__rtsp_session_close(nl__rtsp_session *s, int why)
{
    nl_rtsp_server *srv = s->srv;
    NL_LOGD(srv->ctx, "rtsp session", "%s on %s closed (%s)", s->id, s->mount->path,
            nl_err_name(why));
    nl__rtsp_session_stop(s);
    clear_pending(s);
    if (s->conn && s->conn->cur_sess == s)
        s->conn->cur_sess = NULL;
    nl__rtsp_mount_account(s->mount, s);
    nl_list_remove(&s->srv_node);
    nl_list_remove(&s->mount_node);
    if (s->conn)
        nl_list_remove(&s->conn_node);
    nl_timer_stop(srv->loop, &s->pace);
    nl__cq_free(&s->q);
    nl__free(s);
}

void nl__rtsp_session_arm_pace(nl__rtsp_session *s, uint64_t now)
{
    const nl__cq_entry *e = nl__cq_peek(&s->q);
    if (e && e->due > now)
        nl_timer_start(s->srv->loop, &s->pace, e->due);
}

/* One frame to a UDP client (the kernel drops what does not fit; UDP is
 * lossy anyway and the server counts it). */
static void send_udp(nl__rtsp_session *s, const nl_rtp_frame *f)
{
    const uint16_t *port = s->cport[f->track];
    nl__rtsp_udp_send_frame(&s->srv->udp, f, &s->peer, s->peer_len, port[0], port[1]);
    s->frames_sent++;
    s->bytes_sent += f->size;
}

/* Starts the client on the queue (TCP: let the connection write; UDP: send). */
static void kick(nl__rtsp_session *s)
{
    if (s->lower == NL_RTSP_LOWER_TCP) {
        if (s->conn)
            nl__rtsp_conn_flush(s->conn);
    } else {
        nl__rtsp_session_drain_udp(s);
    }
}

/* RTP-Info of every set-up track: seq of the first packet the client will
 * get on that track (first queued frame, else the track's next frame), and
 * rtptime of ONE instant for all tracks - the client's start (its first
 * keyframe), so clients line audio up with video from the first packet. */
static void answer_play(nl__rtsp_session *s, const nl_rtp_frame *first)
{
    uint16_t seq[NL_SDP_MAX_TRACKS] = {0};
    uint32_t ts[NL_SDP_MAX_TRACKS] = {0};
    bool have_seq[NL_SDP_MAX_TRACKS] = {0};
    bool known[NL_SDP_MAX_TRACKS] = {0};
    nl_rtsp_mount *m = s->mount;
    const nl_rtp_frame *start = first;
    for (uint32_t i = 0; i < s->q.len; i++) {
        const nl_rtp_frame *f = s->q.ring[(s->q.head + i) % s->q.size].f;
        if (!start && nl__rtsp_mount_start_point(m, f))
            start = f;
        if (f->nrtp && !have_seq[f->track]) {
            seq[f->track] = f->first_seq;
            have_seq[f->track] = true;
        }
    }
    if (first && first->nrtp && !have_seq[first->track]) {
        seq[first->track] = first->first_seq;
        have_seq[first->track] = true;
    }
    int64_t t0 = start ? nl__rtsp_mount_frame_us(m, start)
                       : nl__rtsp_mount_now_us(m, nl_loop_now(s->srv->loop));
    for (int t = 0; t < m->ntracks; t++) {
        if (!s->tracks[t].setup)
            continue;
        uint32_t dummy;
        if (!have_seq[t])
            have_seq[t] = nl__rtsp_mount_predict(m, t, &seq[t], &dummy);
        if (start && start->track == t) {
            ts[t] = start->first_rtptime;
            known[t] = have_seq[t];
        } else {
            known[t] = have_seq[t] && nl__rtsp_mount_rtptime_at(m, t, t0, &ts[t]);
        }
    }
    nl__rtsp_send_play_reply(s, seq, ts, known);
    clear_pending(s);
}

/* Replays the GOP cache; false when it cannot (then wait for a keyframe). */
static bool start_from_cache(nl__rtsp_session *s, uint64_t now)
{
    nl_rtsp_mount *m = s->mount;
    if (!m->gop_cache || !m->gop_valid || m->gop_len == 0)
        return false;
    uint64_t delay = now - m->gop[0].arrival;
    /* A cache the source stopped feeding (an on-demand stream that was off)
     * or one that reaches too far back would put this client that far
     * behind live for its whole life: wait for a fresh keyframe instead. */
    if (now - m->last_push > NL_GOP_STALE_NS || delay > NL_GOP_MAX_DELAY_NS)
        return false;
    for (uint32_t i = 0; i < m->gop_len; i++) {
        const nl__gop_entry *e = &m->gop[i];
        if (!s->tracks[e->f->track].setup)
            continue;
        if (nl__cq_push(&s->q, e->f, e->arrival + delay, now) < 0) {
            s->frames_dropped += nl__cq_clear(&s->q);
            return false;
        }
    }
    s->delay_ns = delay;
    return true;
}

int nl__rtsp_session_play(nl__rtsp_session *s, uint32_t cseq, const char *base)
{
    nl_rtsp_server *srv = s->srv;
    uint64_t now = nl_loop_now(srv->loop);
    s->play_cseq = cseq;
    nl__free(s->play_base);
    s->play_base = nl__strdup(base);
    if (!s->play_base)
        return NL_ENOMEM;
    if (s->state == NL__SESS_PLAYING) {
        /* Already playing (a repeated PLAY): answer at once. */
        answer_play(s, NULL);
        return 0;
    }
    int rc = nl__rtsp_mount_add_player(s->mount, s);
    if (rc < 0)
        return rc;
    s->state = NL__SESS_PLAYING;
    nl__rtsp_server_schedule(srv); /* demand: maybe the first viewer */
    if (start_from_cache(s, now)) {
        s->waiting_key = false;
        answer_play(s, NULL);
        kick(s);
        return 0;
    }
    s->waiting_key = true;
    s->delay_ns = 0;
    s->play_pending = true;
    s->play_deadline = nl_deadline_after(now, (uint64_t)srv->cfg.play_wait_ms * NL_NS_PER_MS);
    if (s->conn)
        s->conn->play_wait = s;
    return 0;
}

void nl__rtsp_session_overflow(nl__rtsp_session *s)
{
    s->frames_dropped += nl__cq_clear(&s->q);
    s->overflows++;
    s->waiting_key = true;
    nl_timer_stop(s->srv->loop, &s->pace);
    NL_LOGD(s->srv->ctx, "rtsp session", "%s on %s: queue overflow, waiting for a keyframe", s->id,
            s->mount->path);
}

void nl__rtsp_session_offer(nl__rtsp_session *s, const nl_rtp_frame *f, uint64_t now)
{
    if (f->track >= NL_SDP_MAX_TRACKS || !s->tracks[f->track].setup)
        return;
    if (s->waiting_key) {
        if (!nl__rtsp_mount_start_point(s->mount, f)) {
            /* Waiting for the first keyframe is not a loss; resyncing after
             * an overflow is. */
            if (s->overflows)
                s->frames_dropped++;
            return;
        }
        s->waiting_key = false;
        s->delay_ns = 0;
        if (s->play_pending)
            answer_play(s, f);
    }
    /* Direct path: nothing of this client waits and the frame is due now, so
     * queuing it would only be popped again at once. Not for a frame over
     * the byte cap (that one overflows, below), nor before a pending PLAY
     * answer. */
    if (s->q.len == 0 && s->delay_ns == 0 && !s->play_pending && f->size <= s->q.max_bytes) {
        if (s->lower == NL_RTSP_LOWER_TCP) {
            if (s->conn && nl__rtsp_conn_send_now(s->conn, s, f, now))
                return;
        } else {
            send_udp(s, f);
            return;
        }
    }
    if (nl__cq_push(&s->q, f, now + s->delay_ns, now) < 0) {
        s->frames_dropped++;
        nl__rtsp_session_overflow(s);
        return;
    }
    kick(s);
}

void nl__rtsp_session_drain_udp(nl__rtsp_session *s)
{
    if (s->lower != NL_RTSP_LOWER_UDP)
        return;
    uint64_t now = nl_loop_now(s->srv->loop);
    const nl__cq_entry *e;
    while ((e = nl__cq_peek(&s->q)) && e->due <= now) {
        nl_rtp_frame *f = nl__cq_pop(&s->q);
        send_udp(s, f);
        nl_rtp_frame_unref(&f);
    }
    nl__rtsp_session_arm_pace(s, now);
}

void nl__rtsp_session_play_timeout(nl__rtsp_session *s, uint64_t now)
{
    if (s->play_pending && nl_deadline_passed(now, s->play_deadline)) {
        NL_LOGD(s->srv->ctx, "rtsp session", "%s: no keyframe yet, answering PLAY", s->id);
        answer_play(s, NULL);
    }
}
