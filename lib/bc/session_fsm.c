/* The session state machine: connection lifecycle, routing of incoming
 * messages by (msg id, correlation word), every deadline, keepalive, failure
 * and close.
 *
 * Deadlines are not scattered timers: nl__conn_next_deadline() is a pure
 * function of the connection's state that returns the earliest one, the
 * connection's single timer is armed at it after every event, and
 * nl__conn_on_time() handles whatever has passed. A fake clock therefore
 * drives every timeout in the tests. */
#include <stdio.h>
#include <string.h>

#include "bc/bodies.h"
#include "bc/session_int.h"
#include "core/log.h"
#include "neolink/error.h"

/* ------------------------------------------------------------ callbacks */

void nl__cam_set_state(nl_camera *cam, nl_camera_state st, int err)
{
    if (cam->state == st)
        return;
    NL_LOGD(cam->ctx, cam->who, "state %s -> %s", nl_camera_state_name(cam->state),
            nl_camera_state_name(st));
    cam->state = st;
    if (cam->destroyed || !cam->cb.on_state)
        return;
    cam->cb_depth++;
    cam->cb.on_state(cam->cb.ud, cam, st, err);
    cam->cb_depth--;
}

void nl__cam_emit_stream(nl_camera *cam, int kind, nl_camera_stream_event ev, int err)
{
    if (cam->destroyed || !cam->cb.on_stream)
        return;
    cam->cb_depth++;
    cam->cb.on_stream(cam->cb.ud, cam, (nl_camera_stream)kind, ev, err);
    cam->cb_depth--;
}

void nl__cam_update_state(nl_camera *cam)
{
    nl__conn *c = cam->conn;
    if (!c || c->dead)
        return;
    nl_camera_state st;
    switch (c->phase) {
    case NL__PH_RESOLVE:
    case NL__PH_CONNECT:
        st = NL_CAMERA_CONNECTING;
        break;
    case NL__PH_NONCE:
    case NL__PH_LOGIN:
    case NL__PH_ABILITY:
    case NL__PH_VERSION:
        st = NL_CAMERA_LOGIN;
        break;
    case NL__PH_READY:
        st = nl__streams_active(cam) ? NL_CAMERA_STREAMING : NL_CAMERA_READY;
        break;
    default:
        st = NL_CAMERA_CLOSING;
        break;
    }
    nl__cam_set_state(cam, st, 0);
}

/* ------------------------------------------------------------ lifecycle */

static void on_timer(nl_timer *t)
{
    nl__conn *c = t->data;
    nl__conn_on_time(c, nl_loop_now(c->cam->loop));
    nl__conn_rearm(c);
}

/* Stops everything that can call back into the connection. Idempotent: it
 * runs when the connection dies and again from its arena's cleanup. */
static void conn_quiesce(nl__conn *c)
{
    nl_loop *loop = c->cam->loop;
    nl_timer_stop(loop, &c->timer);
    if (c->res) {
        nl_io_stop(loop, &c->res_io);
        nl__resolver_release(&c->res);
    }
    nl__io_close(c);
}

static void conn_cleanup(void *arg)
{
    nl__conn *c = arg;
    conn_quiesce(c);
    if (c->ai) {
        freeaddrinfo(c->ai);
        c->ai = NULL;
    }
    nl_bc_framer_free(&c->framer);
    nl_bc_codec_free(&c->codec);
    nl_bc_xml_destroy(&c->xml);
    nl_dbuf_free(&c->out);
    nl_dbuf_free(&c->ext);
    nl_dbuf_free(&c->body);
}

int nl__conn_new(nl_camera *cam, nl__conn **out)
{
    *out = NULL;
    nl_arena *a;
    int rc = nl_arena_create(&a, cam->arena, NL__CONN_ARENA_CAP, "conn");
    if (rc < 0)
        return rc;
    nl__conn *c = nl_arena_alloc(a, sizeof *c);
    if (!c) {
        nl_arena_destroy(&a);
        return NL_EARENA;
    }
    /* Zeroed by the arena: every member is safe for conn_cleanup as is. */
    c->cam = cam;
    c->arena = a;
    c->fd = -1;
    c->phase = NL__PH_RESOLVE;
    c->phase_deadline = NL_TIME_NEVER;
    c->close_deadline = NL_TIME_NEVER;
    c->ping_due = NL_TIME_NEVER;
    c->motion = -1;
    nl_timer_init(&c->timer, on_timer, c);
    nl_bc_framer_init(&c->framer, cam->max_message);
    nl_dbuf_init(&c->out, NL__CONN_OUT_MAX);
    nl_dbuf_init(&c->ext, NL__CONN_SCRATCH_MAX);
    nl_dbuf_init(&c->body, NL__CONN_SCRATCH_MAX);
    if (!nl_arena_on_destroy(a, conn_cleanup, c)) {
        nl_arena_destroy(&a);
        return NL_EARENA;
    }
    rc = nl_bc_codec_init(&c->codec, 1);
    if (rc == 0)
        rc = nl_bc_xml_create(&c->xml, NULL);
    if (rc < 0) {
        nl_arena_destroy(&a);
        return rc;
    }
    *out = c;
    return 0;
}

void nl__conn_kill(nl__conn *c)
{
    if (c->dead)
        return;
    nl_camera *cam = c->cam;
    c->dead = 1;
    conn_quiesce(c);
    if (cam->conn == c)
        cam->conn = NULL;
    c->next_dead = cam->graveyard;
    cam->graveyard = c;
}

/* After kill: streams end, the camera reports CLOSED, and the dead
 * connection is released at the end of the iteration. */
static int conn_gone(nl_camera *cam, nl_camera_stream_event ev, int err)
{
    nl_loop_defer(cam->loop, &cam->reap, nl__cam_reap);
    if (nl__streams_end_all(cam, ev, err) < 0)
        return NL_ECANCELED;
    /* A callback above may have connected again: that run owns the state. */
    if (!cam->conn)
        nl__cam_set_state(cam, NL_CAMERA_CLOSED, err);
    return NL_ECANCELED;
}

int nl__conn_fail(nl__conn *c, int code, const char *fmt, ...)
{
    if (code >= 0)
        code = NL_EIO;
    if (c->dead)
        return code;
    nl_camera *cam = c->cam;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cam->detail, sizeof cam->detail, fmt, ap);
    va_end(ap);
    cam->err = code;
    cam->stats.last_error = code;
    cam->stats.last_error_fatal = nl_camera_error_is_fatal(code);
    /* A warning: cameras drop off networks routinely, and the owner gets the
     * code and detail to report as it sees fit. */
    NL_LOGW(cam->ctx, cam->who, "%s (%s)", cam->detail, nl_err_name(code));
    nl__conn_kill(c);
    conn_gone(cam, NL_CAMERA_STREAM_FAILED, code);
    return code;
}

int nl__conn_finish(nl__conn *c)
{
    if (c->dead)
        return NL_ECANCELED;
    nl_camera *cam = c->cam;
    cam->err = 0;
    cam->detail[0] = '\0';
    NL_LOGI(cam->ctx, cam->who, "closed");
    nl__conn_kill(c);
    return conn_gone(cam, NL_CAMERA_STREAM_STOPPED, 0);
}

uint32_t nl__conn_corr(nl__conn *c, uint8_t stream_byte)
{
    return nl_bc_corr_make((uint8_t)c->cam->channel, stream_byte, c->next_num++);
}

/* ------------------------------------------------------------ deadlines */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t nl__conn_next_deadline(const nl__conn *c)
{
    if (c->dead)
        return NL_TIME_NEVER;
    uint64_t d = c->close_deadline;
    if (c->phase == NL__PH_READY)
        d = min_u64(d, c->ping_due);
    else
        d = min_u64(d, c->phase_deadline);
    return min_u64(d, nl__streams_next_deadline(c->cam));
}

void nl__conn_rearm(nl__conn *c)
{
    if (c->dead)
        return;
    nl_loop *loop = c->cam->loop;
    uint64_t due = nl__conn_next_deadline(c);
    if (due == NL_TIME_NEVER) {
        nl_timer_stop(loop, &c->timer);
        return;
    }
    if (nl_timer_armed(&c->timer) && c->timer.due == due)
        return;
    if (nl_timer_start(loop, &c->timer, due) < 0)
        nl__conn_fail(c, NL_ENOMEM, "cannot arm the session timer");
}

static unsigned long long ns_ms(uint64_t ns)
{
    return (unsigned long long)(ns / NL_NS_PER_MS);
}

static int keepalive_tick(nl__conn *c, uint64_t now)
{
    nl_camera *cam = c->cam;
    if (c->ping_outstanding) {
        c->ping_misses++;
        cam->stats.keepalives_missed++;
        NL_LOGW(cam->ctx, cam->who, "keepalive %u unanswered", c->ping_misses);
        if (c->ping_misses >= cam->keepalive_misses)
            return nl__conn_fail(c, NL_ETIMEDOUT,
                                 "camera stopped answering keepalives (%u missed, %llu ms apart)",
                                 c->ping_misses, ns_ms(cam->keepalive_ns));
    }
    int rc = nl__io_send_simple(c, NL_BC_MSG_LINK_TYPE, &c->ping_corr);
    if (rc < 0)
        return rc;
    c->ping_outstanding = 1;
    cam->stats.keepalives_sent++;
    c->ping_due = nl_deadline_after(now, cam->keepalive_ns);
    return 0;
}

static const char *close_step(const nl__conn *c)
{
    switch (c->phase) {
    case NL__PH_STOPPING:
        return "waiting for stream stop replies";
    case NL__PH_LOGOUT:
        return "waiting for the logout to be sent";
    default:
        return "dropping the connection";
    }
}

int nl__conn_on_time(nl__conn *c, uint64_t now)
{
    if (c->dead)
        return NL_ECANCELED;
    nl_camera *cam = c->cam;
    if (nl_deadline_passed(now, c->close_deadline))
        return nl__conn_fail(c, NL_ETIMEDOUT, "close did not finish within %llu ms (%s)",
                             (unsigned long long)c->close_timeout_ms, close_step(c));
    switch (c->phase) {
    case NL__PH_RESOLVE:
    case NL__PH_CONNECT:
        if (nl_deadline_passed(now, c->phase_deadline))
            return nl__conn_fail(c, NL_ETIMEDOUT, "connect to %s timed out after %llu ms",
                                 cam->addr, ns_ms(cam->connect_ns));
        break;
    case NL__PH_NONCE:
    case NL__PH_LOGIN:
    case NL__PH_ABILITY:
    case NL__PH_VERSION:
        if (nl_deadline_passed(now, c->phase_deadline))
            return nl__conn_fail(c, NL_ETIMEDOUT, "login timed out after %llu ms waiting for %s",
                                 ns_ms(cam->login_ns), nl__login_waiting_for(c->phase));
        break;
    case NL__PH_LOGOUT:
    case NL__PH_DROP:
        if (nl_deadline_passed(now, c->phase_deadline))
            return nl__conn_finish(c);
        break;
    case NL__PH_READY:
        if (nl_deadline_passed(now, c->ping_due)) {
            int rc = keepalive_tick(c, now);
            if (rc < 0)
                return rc;
        }
        break;
    default:
        break;
    }
    return nl__streams_on_time(c, now);
}

/* ------------------------------------------------------------ close */

int nl__conn_close(nl__conn *c, uint64_t timeout_ms)
{
    nl_camera *cam = c->cam;
    uint64_t now = nl_loop_now(cam->loop);
    uint64_t dl = nl_deadline_after(now, timeout_ms * NL_NS_PER_MS);
    if (c->phase >= NL__PH_STOPPING) {
        /* Already closing: a second request can only hurry it. */
        if (dl < c->close_deadline) {
            c->close_deadline = dl;
            c->close_timeout_ms = timeout_ms;
        }
        return 0;
    }
    c->close_deadline = dl;
    c->close_timeout_ms = timeout_ms;
    NL_LOGI(cam->ctx, cam->who, "closing (deadline %llu ms)", (unsigned long long)timeout_ms);
    if (c->phase < NL__PH_READY) {
        /* Nothing to say goodbye to before login: drop on the next tick. */
        c->phase = NL__PH_DROP;
        c->phase_deadline = now;
        nl__cam_update_state(cam);
        return c->dead ? NL_ECANCELED : 0;
    }
    c->phase = NL__PH_STOPPING;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        nl__stream *s = &cam->streams[k];
        if (s->st != NL__ST_STARTING && s->st != NL__ST_RUNNING)
            continue;
        int rc = nl__stream_stop(cam, s);
        if (rc < 0 || c->dead)
            return rc < 0 ? rc : NL_ECANCELED;
    }
    nl__cam_update_state(cam);
    if (c->dead || c->phase != NL__PH_STOPPING)
        return c->dead ? NL_ECANCELED : 0;
    return nl__conn_close_continue(c);
}

int nl__conn_close_continue(nl__conn *c)
{
    nl_camera *cam = c->cam;
    if (c->dead || c->phase != NL__PH_STOPPING || nl__streams_stopping(cam))
        return c->dead ? NL_ECANCELED : 0;
    /* Logout is best effort (msg 2 with the plain credentials, as the
     * protocol wants): send it, then linger briefly for its answer. */
    nl_dbuf_reset(&c->body);
    long n = nl_bc_build_logout(&c->body, cam->user, cam->pass);
    if (n < 0)
        return nl__conn_finish(c);
    nl_bc_header h;
    c->logout_corr = nl__conn_corr(c, 0);
    nl_bc_header_init(&h, NL_BC_MSG_LOGOUT, NL_BC_CLASS_MODERN, c->logout_corr, 0);
    int rc = nl__io_send(c, &h, NULL, 0, c->body.data, (size_t)n);
    if (rc < 0)
        return rc;
    uint64_t now = nl_loop_now(cam->loop);
    c->phase = NL__PH_LOGOUT;
    c->phase_deadline =
        min_u64(nl_deadline_after(now, NL__CONN_LOGOUT_LINGER_NS), c->close_deadline);
    return 0;
}

/* ------------------------------------------------------------ routing */

static int answer_heartbeat(nl__conn *c, const nl_bc_header *in)
{
    /* Header only, same correlation word, class 0x6414; 200 as the Rust
     * client answers (reolink_aio's 0 is accepted too). */
    nl_bc_header h;
    nl_bc_header_init(&h, NL_BC_MSG_KEEPALIVE, NL_BC_CLASS_MODERN, in->corr, NL_BC_RESP_OK);
    int rc = nl__io_send(c, &h, NULL, 0, NULL, 0);
    if (rc == 0)
        c->cam->stats.heartbeats_answered++;
    return rc;
}

static int on_motion(nl__conn *c, const nl_bc_decoded *d)
{
    nl_camera *cam = c->cam;
    cam->stats.motion_events++;
    if (d->binary || !d->payload_len)
        return 0;
    const nl_bc_xml_node *root;
    nl_bc_alarm_list list;
    if (nl_bc_xml_parse(c->xml, d->payload, d->payload_len, &root) < 0 ||
        nl_bc_parse_alarm_list(root, &list) < 0) {
        NL_LOGD(cam->ctx, cam->who, "unreadable AlarmEventList push ignored");
        return 0;
    }
    int m = nl_bc_alarm_motion(&list, cam->channel);
    if (m < 0 || m == c->motion)
        return 0;
    c->motion = m;
    NL_LOGD(cam->ctx, cam->who, "motion %s", m ? "started" : "stopped");
    if (cam->cb.on_motion && !cam->destroyed) {
        cam->cb_depth++;
        cam->cb.on_motion(cam->cb.ud, cam, m);
        cam->cb_depth--;
    }
    return c->dead ? NL_ECANCELED : 0;
}

static int on_decode_error(nl__conn *c, const nl_bc_msg *m, int rc)
{
    nl_camera *cam = c->cam;
    if (c->phase < NL__PH_READY)
        return nl__conn_fail(c, rc == NL_ENOMEM ? rc : NL_EPROTO,
                             "cannot decode msg %u during login: %s", (unsigned)m->hdr.msg_id,
                             nl_strerror(rc));
    cam->stats.messages_dropped++;
    if (++c->bad_msgs > NL__CONN_MAX_BAD_MSGS)
        return nl__conn_fail(c, NL_EPROTO, "%u undecodable messages in a row (last msg %u: %s)",
                             c->bad_msgs, (unsigned)m->hdr.msg_id, nl_strerror(rc));
    NL_LOGW(cam->ctx, cam->who, "msg %u dropped: %s", (unsigned)m->hdr.msg_id, nl_strerror(rc));
    return 0;
}

int nl__conn_on_message(nl__conn *c, nl_bc_msg *m)
{
    nl_camera *cam = c->cam;
    nl_bc_decoded d;
    int rc = nl_bc_codec_decode(&c->codec, m, &d);
    if (rc < 0)
        return on_decode_error(c, m, rc);
    c->bad_msgs = 0;
    const nl_bc_header *h = &m->hdr;
    if (h->msg_id == NL_BC_MSG_KEEPALIVE)
        return answer_heartbeat(c, h);
    if (c->phase >= NL__PH_NONCE && c->phase < NL__PH_READY)
        return nl__login_on_message(c, &d);

    switch (h->msg_id) {
    case NL_BC_MSG_VIDEO:
        return nl__stream_on_video(c, &d);
    case NL_BC_MSG_VIDEO_STOP:
        return nl__stream_on_stop_reply(c, &d);
    case NL_BC_MSG_LINK_TYPE:
        /* Any answer, even a refusal, proves the camera is alive. */
        c->ping_outstanding = 0;
        c->ping_misses = 0;
        return 0;
    case NL_BC_MSG_ALARM_EVENT_LIST:
        return on_motion(c, &d);
    case NL_BC_MSG_LOGOUT:
        if (c->phase == NL__PH_LOGOUT && h->corr == c->logout_corr)
            return nl__conn_finish(c);
        return 0;
    case NL_BC_MSG_MOTION_REQUEST:
        NL_LOGD(cam->ctx, cam->who, "motion subscription answered %u", h->response_code);
        return 0;
    default:
        NL_LOGD(cam->ctx, cam->who, "msg %u (code %u, %u bytes) ignored", (unsigned)h->msg_id,
                h->response_code, (unsigned)h->body_len);
        return 0;
    }
}
