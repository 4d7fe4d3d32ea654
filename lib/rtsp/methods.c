/* One handler per RTSP method, plus the answers to parse errors and the
 * (possibly delayed) PLAY answer. See RTSP-SESSIONS.md for the state rules.
 *
 * Order of checks for a request: CSeq (400 without one), credentials (401;
 * OPTIONS needs none), URL (400/414) and mount (404), permission on the
 * mount (403), session (454), state (455), method specifics (459, 461, 503). */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "neolink/error.h"
#include "rtsp/reply.h"
#include "rtsp/server_int.h"
#include "rtsp/url.h"

#define NL_PRODUCT "libneolink"

typedef struct req_ctx {
    nl__rtsp_conn *c;
    nl_rtsp_server *srv;
    const nl_rtsp_request *req;
    int64_t cseq;
    nl_rtsp_url url;
    nl_rtsp_mount *m;
    int track;
    int url_err; /* the URL's parse result once looked up (looked_up) */
    bool looked_up; /* url, m and track are set (lookup_mount) */
    char user[NL_RTSP_MAX_BASIC + 1];
    nl_rtsp_session_hdr sh;
    int has_session; /* 1 present, 0 absent */
} req_ctx;

static void begin(req_ctx *rc, nl_rtsp_reply *r, int status)
{
    nl_rtsp_reply_begin(r, rc->srv->reply, sizeof rc->srv->reply, status, rc->cseq);
    nl_rtsp_reply_server(r, NL_PRODUCT);
}

/* A status line with our own reason phrase (ffmpeg prints it: "method SETUP
 * failed: 503 Too many clients on this mount"). */
static void begin_reason(req_ctx *rc, nl_rtsp_reply *r, int status, const char *reason)
{
    r->buf = rc->srv->reply;
    r->cap = sizeof rc->srv->reply;
    r->err = 0;
    int n = snprintf(r->buf, r->cap, "RTSP/1.0 %d %s\r\n", status, reason);
    r->len = n > 0 ? (size_t)n : 0;
    if (rc->cseq >= 0)
        nl_rtsp_reply_headerf(r, "CSeq", "%u", (unsigned)rc->cseq);
    nl_rtsp_reply_server(r, NL_PRODUCT);
}

static void send_reply(nl__rtsp_conn *c, nl_rtsp_reply *r, const char *ctype, const char *body,
                       size_t blen)
{
    int n = nl_rtsp_reply_finish(r, ctype, body, blen);
    if (n < 0) {
        NL_LOGW(c->srv->ctx, c->who, "reply could not be built: %s", nl_strerror(n));
        static const char fallback[] = "RTSP/1.0 500 Internal Server Error\r\n\r\n";
        nl__rtsp_conn_queue_reply(c, fallback, sizeof fallback - 1);
        return;
    }
    nl__rtsp_conn_queue_reply(c, r->buf, (size_t)n);
}

static void simple(req_ctx *rc, int status)
{
    nl_rtsp_reply r;
    begin(rc, &r, status);
    send_reply(rc->c, &r, NULL, NULL, 0);
}

static void refuse(req_ctx *rc, int status, const char *reason)
{
    nl_rtsp_reply r;
    begin_reason(rc, &r, status, reason);
    send_reply(rc->c, &r, NULL, NULL, 0);
}

/* ---------------------------------------------------------------- auth */

static uint64_t now_s(const nl_rtsp_server *srv)
{
    return nl_loop_now(srv->loop) / NL_NS_PER_S;
}

static void challenge(req_ctx *rc, bool stale)
{
    nl_rtsp_server *srv = rc->srv;
    srv->stats.auth_failures++;
    nl_rtsp_reply r;
    begin(rc, &r, 401);
    char ch[256];
    if ((srv->auth.schemes & NL_RTSP_AUTH_DIGEST) &&
        nl_rtsp_auth_challenge_digest(&srv->auth, now_s(srv), stale, ch, sizeof ch) > 0)
        nl_rtsp_reply_www_authenticate(&r, ch);
    if ((srv->auth.schemes & NL_RTSP_AUTH_BASIC) &&
        nl_rtsp_auth_challenge_basic(&srv->auth, ch, sizeof ch) > 0)
        nl_rtsp_reply_www_authenticate(&r, ch);
    send_reply(rc->c, &r, NULL, NULL, 0);
}

/* Parses the request URL and finds its mount once per request, answering
 * nothing: authentication needs the mount (open_mount) before find_mount
 * answers 400/414/404. */
static void lookup_mount(req_ctx *rc)
{
    if (rc->looked_up)
        return;
    rc->looked_up = true;
    rc->m = NULL;
    rc->url_err = nl_rtsp_url_parse(rc->req->url, &rc->url);
    if (rc->url_err == 0)
        rc->m = nl__rtsp_mount_find(rc->srv, &rc->url, &rc->track);
}

/* Does the request address a mount that asks for no login (by its URL, or
 * for a request without one, like a keepalive to "*", by its session)? */
static bool open_mount(req_ctx *rc)
{
    lookup_mount(rc);
    if (rc->m)
        return rc->m->no_login;
    if (rc->has_session == 1) {
        const nl__rtsp_session *s = nl__rtsp_session_find(rc->srv, rc->sh.id);
        return s && s->mount && s->mount->no_login;
    }
    return false;
}

/* Checks the credentials (401 on failure). True when the request may go on. */
static bool authenticate(req_ctx *rc)
{
    nl_rtsp_server *srv = rc->srv;
    rc->user[0] = '\0';
    if (srv->naccounts == 0 || open_mount(rc))
        return true;
    nl_rtsp_span v;
    if (!nl_rtsp_header_get(rc->req, "Authorization", &v)) {
        challenge(rc, false);
        return false;
    }
    nl_rtsp_authz z;
    if (nl_rtsp_authz_parse(v, &z) < 0) {
        nl_rtsp_authz_wipe(&z);
        challenge(rc, false);
        return false;
    }
    const nl__rtsp_account *a = nl__rtsp_server_account(srv, z.username);
    nl_rtsp_auth_result res = NL_RTSP_AUTH_DENIED;
    if (a)
        res = nl_rtsp_auth_verify(&srv->auth, &z, rc->req->method_name, rc->req->url, a->name,
                                  a->password, now_s(srv));
    nl_rtsp_authz_wipe(&z);
    if (res != NL_RTSP_AUTH_OK) {
        /* The user name is the client's claim; the password never appears. */
        NL_LOGI(srv->ctx, rc->c->who, "%s: authentication failed%s",
                nl_rtsp_method_name(rc->req->method), res == NL_RTSP_AUTH_STALE ? " (stale)" : "");
        challenge(rc, res == NL_RTSP_AUTH_STALE);
        return false;
    }
    snprintf(rc->user, sizeof rc->user, "%s", a->name);
    return true;
}

/* 403 when the authenticated user may not watch the mount. */
static bool permitted(req_ctx *rc)
{
    if (rc->srv->naccounts == 0 || rc->m->no_login || nl__rtsp_mount_permits(rc->m, rc->user))
        return true;
    rc->srv->stats.auth_failures++;
    NL_LOGI(rc->srv->ctx, rc->c->who, "user %s is not permitted on %s", rc->user, rc->m->path);
    simple(rc, 403);
    return false;
}

/* ---------------------------------------------------------------- helpers */

/* Parses the URL and finds the mount (400/414/404 answered). */
static bool find_mount(req_ctx *rc)
{
    lookup_mount(rc); /* done already when the server has accounts */
    if (rc->url_err < 0) {
        simple(rc, rc->url_err == NL_ETOOBIG ? 414 : 400);
        return false;
    }
    if (!rc->m) {
        simple(rc, 404);
        return false;
    }
    if (rc->track >= 0 && rc->url.track_style == NL_RTSP_TRACK_TRACK)
        rc->track--; /* live555's "track1" is 1-based */
    return permitted(rc);
}

/* The aggregate URL of the mount as this client addresses us (no userinfo):
 * Content-Base is this plus '/', track URLs are this plus "/streamid=N". */
static void base_url(const req_ctx *rc, char *out, size_t cap)
{
    const nl_rtsp_url *u = &rc->url;
    if (u->absolute && u->host.n) {
        bool v6 = memchr(u->host.p, ':', u->host.n) != NULL;
        char port[8] = "";
        if (u->has_port)
            snprintf(port, sizeof port, ":%u", (unsigned)u->port);
        snprintf(out, cap, "rtsp://%s%.*s%s%s%s", v6 ? "[" : "", (int)u->host.n, u->host.p,
                 v6 ? "]" : "", port, rc->m->path);
    } else {
        bool v6 = strchr(rc->c->local_host, ':') != NULL;
        snprintf(out, cap, "rtsp://%s%s%s:%u%s", v6 ? "[" : "", rc->c->local_host, v6 ? "]" : "",
                 (unsigned)rc->c->local_port, rc->m->path);
    }
}

/* The request's session: 454 when it names none or an unknown one. */
static nl__rtsp_session *need_session(req_ctx *rc)
{
    nl__rtsp_session *s = rc->has_session == 1 ? nl__rtsp_session_find(rc->srv, rc->sh.id) : NULL;
    if (!s)
        simple(rc, 454);
    return s;
}

static void ok_with_session(req_ctx *rc, const nl__rtsp_session *s)
{
    nl_rtsp_reply r;
    begin(rc, &r, 200);
    if (s)
        nl_rtsp_reply_session(&r, s->id, (int)s->timeout_s);
    send_reply(rc->c, &r, NULL, NULL, 0);
}

/* ---------------------------------------------------------------- methods */

static void handle_options(req_ctx *rc)
{
    nl_rtsp_reply r;
    begin(rc, &r, 200);
    nl_rtsp_reply_public(&r);
    send_reply(rc->c, &r, NULL, NULL, 0);
}

static void handle_describe(req_ctx *rc)
{
    if (!authenticate(rc) || !find_mount(rc))
        return;
    const char *sdp = NULL;
    int n = nl__rtsp_mount_sdp(rc->m, &sdp);
    if (n < 0) {
        rc->m->want_describe = true;
        nl__rtsp_server_schedule(rc->srv);
        NL_LOGI(rc->srv->ctx, rc->c->who, "DESCRIBE %s: stream not ready", rc->m->path);
        refuse(rc, 503, "Stream not ready");
        return;
    }
    char base[NL_RTSP_MAX_URL + NL_RTSP_MAX_PATH + 32];
    base_url(rc, base, sizeof base);
    nl_rtsp_reply r;
    begin(rc, &r, 200);
    nl_rtsp_reply_content_base(&r, nl_rtsp_span_make(base, strlen(base)));
    send_reply(rc->c, &r, "application/sdp", sdp, (size_t)n);
}

static void handle_setup(req_ctx *rc)
{
    nl_rtsp_server *srv = rc->srv;
    nl__rtsp_conn *c = rc->c;
    if (!authenticate(rc) || !find_mount(rc))
        return;
    nl_rtsp_mount *m = rc->m;
    int track = rc->track;
    if (track < 0) {
        if (m->ntracks != 1) {
            simple(rc, 459);
            return;
        }
        track = 0;
    }
    if (track >= m->ntracks) {
        simple(rc, 404);
        return;
    }
    nl__rtsp_session *s = NULL;
    if (rc->has_session == 1) {
        s = need_session(rc);
        if (!s)
            return;
        if (s->mount != m) {
            simple(rc, 459);
            return;
        }
        if (s->state == NL__SESS_PLAYING && !s->tracks[track].setup) {
            simple(rc, 455);
            return;
        }
    }
    nl_rtsp_span th;
    if (!nl_rtsp_header_get(rc->req, "Transport", &th)) {
        simple(rc, 400);
        return;
    }
    nl_rtsp_transport_policy pol = {
        .allow_udp = !srv->cfg.disable_udp && srv->udp.fd[0] >= 0,
        .allow_tcp = !srv->cfg.disable_tcp,
        .peer_host = c->peer_host,
    };
    nl_rtsp_transport t;
    int err = nl_rtsp_transport_choose(th, &pol, &t);
    if (err < 0 || (s && t.lower != s->lower) ||
        (s && s->conn != c && t.lower == NL_RTSP_LOWER_TCP)) {
        simple(rc, err == NL_EPROTO ? 400 : 461);
        return;
    }
    if (!s) {
        if (nl_list_count(&m->sessions) >= nl__rtsp_server_mount_limit(srv, m)) {
            srv->stats.refused++;
            NL_LOGI(srv->ctx, c->who, "SETUP %s refused: mount client limit", m->path);
            refuse(rc, 503, "Too many clients on this mount");
            return;
        }
        if (nl_list_count(&srv->sessions) >= srv->cfg.max_clients) {
            srv->stats.refused++;
            NL_LOGI(srv->ctx, c->who, "SETUP %s refused: server client limit", m->path);
            refuse(rc, 503, "Too many clients on this server");
            return;
        }
        err = nl__rtsp_session_create(srv, m, c, t.lower, &s);
        if (err < 0) {
            refuse(rc, 503, "Server out of resources");
            return;
        }
        NL_LOGI(srv->ctx, c->who, "session %s on %s (%s)%s%s", s->id, m->path,
                t.lower == NL_RTSP_LOWER_TCP ? "TCP" : "UDP", rc->user[0] ? " user " : "",
                rc->user);
    }
    nl__sess_track *st = &s->tracks[track];
    st->setup = true;
    if (t.lower == NL_RTSP_LOWER_TCP) {
        if (!t.has_interleaved) {
            t.has_interleaved = true;
            t.interleaved[0] = (uint8_t)(2 * track);
            t.interleaved[1] = (uint8_t)(2 * track + 1);
        }
        st->ch[0] = t.interleaved[0];
        st->ch[1] = t.interleaved[1];
    } else {
        s->cport[track][0] = t.client_port[0];
        s->cport[track][1] = t.client_port[1];
        t.has_server_port = true;
        t.server_port[0] = srv->udp.port[0];
        t.server_port[1] = srv->udp.port[1];
    }
    t.has_ssrc = false; /* the muxer (and its SSRC) may be rebuilt before PLAY */
    nl__rtsp_session_touch(s, nl_loop_now(srv->loop));
    nl_rtsp_reply r;
    begin(rc, &r, 200);
    nl_rtsp_reply_transport(&r, &t);
    nl_rtsp_reply_session(&r, s->id, (int)s->timeout_s);
    send_reply(c, &r, NULL, NULL, 0);
}

static void handle_play(req_ctx *rc)
{
    nl__rtsp_conn *c = rc->c;
    if (!authenticate(rc) || !find_mount(rc))
        return;
    nl__rtsp_session *s = need_session(rc);
    if (!s)
        return;
    if (s->mount != rc->m || (s->lower == NL_RTSP_LOWER_TCP && s->conn != c)) {
        simple(rc, 455);
        return;
    }
    nl_rtsp_span rv;
    nl_rtsp_range range;
    if (nl_rtsp_header_get(rc->req, "Range", &rv) && nl_rtsp_parse_range(rv, &range) < 0) {
        simple(rc, 457);
        return;
    }
    if (!s->conn) {
        /* A UDP session whose first connection closed, played again from
         * this one: answers go here now. */
        s->conn = c;
        nl_list_insert_tail(&c->sessions, &s->conn_node);
    } else if (s->conn != c) {
        nl_list_remove(&s->conn_node);
        s->conn = c;
        nl_list_insert_tail(&c->sessions, &s->conn_node);
    }
    char base[NL_RTSP_MAX_URL + NL_RTSP_MAX_PATH + 32];
    base_url(rc, base, sizeof base);
    if (nl__rtsp_session_play(s, (uint32_t)rc->cseq, base) < 0)
        simple(rc, 500);
}

void nl__rtsp_send_play_reply(nl__rtsp_session *s, const uint16_t *seq, const uint32_t *rtptime,
                              const bool *known)
{
    nl__rtsp_conn *c = s->conn;
    if (!c || c->dead)
        return;
    nl_rtsp_server *srv = s->srv;
    char urls[NL_SDP_MAX_TRACKS][NL_RTSP_MAX_URL + NL_RTSP_MAX_PATH + 48];
    nl_rtsp_rtp_info info[NL_SDP_MAX_TRACKS];
    size_t n = 0;
    for (int t = 0; t < s->mount->ntracks; t++) {
        if (!known[t])
            continue;
        snprintf(urls[n], sizeof urls[n], "%s/streamid=%d", s->play_base ? s->play_base : "", t);
        info[n].url = urls[n];
        info[n].seq = seq[t];
        info[n].rtptime = rtptime[t];
        n++;
    }
    nl_rtsp_reply r;
    nl_rtsp_reply_begin(&r, srv->reply, sizeof srv->reply, 200, s->play_cseq);
    nl_rtsp_reply_server(&r, NL_PRODUCT);
    nl_rtsp_reply_session(&r, s->id, (int)s->timeout_s);
    nl_rtsp_reply_header(&r, "Range", "npt=0.000-");
    nl_rtsp_reply_rtp_info(&r, info, n);
    send_reply(c, &r, NULL, NULL, 0);
}

static void handle_pause(req_ctx *rc)
{
    if (!authenticate(rc) || !find_mount(rc))
        return;
    nl__rtsp_session *s = need_session(rc);
    if (!s)
        return;
    if (s->mount != rc->m || (s->lower == NL_RTSP_LOWER_TCP && s->conn != rc->c)) {
        simple(rc, 455);
        return;
    }
    nl__rtsp_session_stop(s);
    ok_with_session(rc, s);
}

static void handle_teardown(req_ctx *rc)
{
    if (!authenticate(rc) || !find_mount(rc))
        return;
    nl__rtsp_session *s = need_session(rc);
    if (!s)
        return;
    if (s->mount != rc->m) {
        simple(rc, 455);
        return;
    }
    int left = 0;
    for (int t = 0; t < rc->m->ntracks; t++)
        left += s->tracks[t].setup;
    if (rc->track >= 0 && rc->track < rc->m->ntracks && left > 1 && s->tracks[rc->track].setup) {
        s->tracks[rc->track].setup = false; /* that stream only */
        ok_with_session(rc, s);
        return;
    }
    nl__rtsp_session_close(s, 0);
    simple(rc, 200);
}

static void handle_parameter(req_ctx *rc)
{
    if (!authenticate(rc))
        return;
    nl__rtsp_session *s = NULL;
    if (rc->has_session == 1) {
        s = need_session(rc);
        if (!s)
            return;
    }
    if (rc->req->body.n > 0) {
        simple(rc, 451); /* we have no parameters to get or set */
        return;
    }
    ok_with_session(rc, s);
}

void nl__rtsp_handle_request(nl__rtsp_conn *c, const nl_rtsp_request *req)
{
    req_ctx *rc = &(req_ctx){.c = c, .srv = c->srv, .req = req, .cseq = -1, .track = -1};
    uint32_t cseq;
    if (nl_rtsp_request_cseq(req, &cseq) < 0) {
        simple(rc, 400);
        return;
    }
    rc->cseq = cseq;
    if (c->refuse) {
        refuse(rc, 503, "Too many connections");
        c->closing = true;
        return;
    }
    rc->has_session = nl_rtsp_request_session(req, &rc->sh);
    if (rc->has_session < 0) {
        simple(rc, 400);
        return;
    }
    if (rc->has_session == 1) {
        /* Any request naming a session keeps it alive, on any connection. */
        nl__rtsp_session *s = nl__rtsp_session_find(c->srv, rc->sh.id);
        if (s)
            nl__rtsp_session_touch(s, nl_loop_now(c->srv->loop));
    }
    NL_LOGT(c->srv->ctx, c->who, "%s (CSeq %u)", nl_rtsp_method_name(req->method), cseq);
    switch (req->method) {
    case NL_RTSP_OPTIONS:
        handle_options(rc);
        break;
    case NL_RTSP_DESCRIBE:
        handle_describe(rc);
        break;
    case NL_RTSP_SETUP:
        handle_setup(rc);
        break;
    case NL_RTSP_PLAY:
        handle_play(rc);
        break;
    case NL_RTSP_PAUSE:
        handle_pause(rc);
        break;
    case NL_RTSP_TEARDOWN:
        handle_teardown(rc);
        break;
    case NL_RTSP_GET_PARAMETER:
    case NL_RTSP_SET_PARAMETER:
        handle_parameter(rc);
        break;
    case NL_RTSP_ANNOUNCE:
    case NL_RTSP_RECORD:
    case NL_RTSP_REDIRECT: {
        nl_rtsp_reply r;
        begin(rc, &r, 405);
        nl_rtsp_reply_allow(&r);
        send_reply(c, &r, NULL, NULL, 0);
        break;
    }
    default:
        simple(rc, 501);
        break;
    }
}

void nl__rtsp_handle_parse_error(nl__rtsp_conn *c, const nl_rtsp_msg *msg)
{
    req_ctx *rc = &(req_ctx){.c = c, .srv = c->srv, .cseq = -1, .track = -1};
    uint32_t cseq;
    if (msg->have_head && nl_rtsp_request_cseq(&msg->req, &cseq) == 0)
        rc->cseq = cseq;
    NL_LOGD(c->srv->ctx, c->who, "bad request: %d (%s)%s", msg->status, msg->why ? msg->why : "",
            msg->fatal ? ", closing" : "");
    simple(rc, msg->status);
    if (msg->fatal)
        c->closing = true;
}
