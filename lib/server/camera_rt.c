/* One camera in service: its Baichuan session, the reconnect backoff, and
 * the hubs of its streams. The session never retries by itself
 * (camera.h); this file decides when to try again:
 *
 *   CONNECTING --login--> CONNECTED <--> STREAMING
 *       ^                     |              |
 *       |   retry timer       v   failure    v
 *       +------------------ BACKOFF <--------+
 *
 * A rejected login (NL_EAUTH) is reported and retried only at the maximum
 * backoff; a stall (no media for stall_timeout) is a failure of the
 * session (NL_ESTALL) and so a reconnect. Mounts belong to the hubs and stay
 * while the camera reconnects, so viewers stay connected. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "server/server_int.h"

/* `check` enforces the limit the camera session applies at connect time. */
_Static_assert(NL_CONFIG_CAMERA_CREDENTIAL_MAX == NL_CAMERA_CREDENTIAL_MAX,
               "config.h and camera.h disagree on the credential limit");

/* ---------------------------------------------------------------- backoff */

void nl__backoff_init(nl__backoff *b, uint64_t min_ns, uint64_t max_ns, uint64_t healthy_ns)
{
    if (min_ns == 0)
        min_ns = 1;
    if (max_ns < min_ns)
        max_ns = min_ns;
    b->min_ns = min_ns;
    b->max_ns = max_ns;
    b->healthy_ns = healthy_ns;
    b->next_ns = min_ns;
    b->up_since = 0;
}

void nl__backoff_up(nl__backoff *b, uint64_t now)
{
    /* 0 means "down", so a login at time 0 (fake clocks) counts as 1 ns. */
    b->up_since = now ? now : 1;
}

uint64_t nl__backoff_failed(nl__backoff *b, uint64_t now, bool fatal)
{
    if (b->up_since && now >= b->up_since && now - b->up_since >= b->healthy_ns)
        b->next_ns = b->min_ns;
    b->up_since = 0;
    if (fatal)
        return b->max_ns;
    uint64_t delay = b->next_ns;
    b->next_ns = b->next_ns > b->max_ns / 2 ? b->max_ns : b->next_ns * 2;
    return delay;
}

/* ---------------------------------------------------------------- names */

const char *nl__rt_state_name(nl__rt_state s)
{
    switch (s) {
    case NL_RT_STOPPED:
        return "stopped";
    case NL_RT_CONNECTING:
        return "connecting";
    case NL_RT_CONNECTED:
        return "connected";
    case NL_RT_STREAMING:
        return "streaming";
    case NL_RT_BACKOFF:
        return "waiting to reconnect";
    case NL_RT_CLOSING:
        return "closing";
    }
    return "?";
}

bool nl__camera_rt_logged_in(const nl__camera_rt *rt)
{
    return rt->logged_in && !rt->closing;
}

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static void set_state(nl__camera_rt *rt, nl__rt_state st)
{
    if (rt->state == st)
        return;
    rt->state = st;
    nl__status_sd_update(rt->srv);
}

/* ---------------------------------------------------------------- session */

static uint32_t ns_to_ms(int64_t ns, uint32_t dflt)
{
    if (ns <= 0)
        return dflt;
    int64_t ms = ns / 1000000;
    return ms > UINT32_MAX - 1 ? UINT32_MAX - 1 : ms < 1 ? 1 : (uint32_t)ms;
}

static nl_camera_encryption map_encryption(nl_config_encryption e)
{
    switch (e) {
    case NL_CFG_ENC_NONE:
        return NL_CAMERA_ENC_NONE;
    case NL_CFG_ENC_BC:
        return NL_CAMERA_ENC_BC;
    case NL_CFG_ENC_AES:
        break;
    }
    return NL_CAMERA_ENC_AES;
}

static void try_connect(nl__camera_rt *rt);

static void on_retry(nl_timer *t)
{
    nl__camera_rt *rt = t->data;
    try_connect(rt);
}

static void log_login(nl__camera_rt *rt)
{
    nl_server *srv = rt->srv;
    nl_camera_device_info di;
    const char *model = "?", *fw = "?", *enc = "?";
    if (nl_camera_get_device_info(rt->cam, &di) == 0) {
        model = di.model[0] ? di.model : "?";
        fw = di.firmware[0] ? di.firmware : "?";
        enc = nl_camera_encryption_name(di.encryption);
    }
    uint64_t now = nl_loop_now(srv->loop);
    if (rt->lost_at) {
        NL_LOGI(srv->ctx, rt->who,
                "reconnected after %.2f s (model %s, firmware %s, encryption %s)",
                secs(now - rt->lost_at), model, fw, enc);
    } else {
        /* The session already logged "logged in: MODEL, firmware, encryption". */
        NL_LOGD(srv->ctx, rt->who, "connected (model %s, firmware %s, encryption %s)", model, fw,
                enc);
    }
    rt->lost_at = 0;
}

static void connection_failed(nl__camera_rt *rt, int error)
{
    nl_server *srv = rt->srv;
    uint64_t now = nl_loop_now(srv->loop);
    const char *detail = nl_camera_last_error_detail(rt->cam);
    rt->last_error = error ? error : NL_ECLOSED;
    snprintf(rt->last_detail, sizeof rt->last_detail, "%s",
             detail && detail[0] ? detail : nl_strerror(rt->last_error));
    bool fatal = nl_camera_error_is_fatal(rt->last_error);
    bool was_up = rt->logged_in;
    rt->logged_in = false;
    if (!rt->lost_at)
        rt->lost_at = now;
    for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++)
        if (rt->hub[s])
            nl__hub_on_down(rt->hub[s]);
    uint64_t delay = nl__backoff_failed(&rt->backoff, now, fatal);
    if (fatal) {
        NL_LOGE(srv->ctx, rt->who, "%s (%s); retrying only every %.1f s", rt->last_detail,
                nl_err_name(rt->last_error), secs(delay));
    } else {
        NL_LOGW(srv->ctx, rt->who, "%s: %s (%s); reconnecting in %.2f s",
                was_up ? "connection lost" : "connection failed", rt->last_detail,
                nl_err_name(rt->last_error), secs(delay));
    }
    set_state(rt, NL_RT_BACKOFF);
    nl_timer_start_in(srv->loop, &rt->retry_timer, delay);
}

static void try_connect(nl__camera_rt *rt)
{
    if (rt->closing || rt->srv->state != NL_SRV_RUNNING)
        return;
    if (rt->connects++)
        rt->reconnects++;
    set_state(rt, NL_RT_CONNECTING);
    /* The session logs "connecting to HOST:PORT" itself. */
    NL_LOGD(rt->srv->ctx, rt->who, "attempt %llu", (unsigned long long)rt->connects);
    int rc = nl_camera_connect(rt->cam);
    if (rc < 0 && rt->state == NL_RT_CONNECTING && !nl_timer_armed(&rt->retry_timer)) {
        /* Refused before any callback (state or memory): treat it like a
         * failed attempt so the backoff still applies. */
        connection_failed(rt, rc);
    }
}

static void update_streaming_state(nl__camera_rt *rt)
{
    if (!rt->logged_in || rt->closing)
        return;
    bool any = false;
    for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++)
        if (rt->hub[s] && rt->hub[s]->started)
            any = true;
    set_state(rt, any ? NL_RT_STREAMING : NL_RT_CONNECTED);
}

static void cb_state(void *ud, nl_camera *cam, nl_camera_state state, int error)
{
    nl__camera_rt *rt = ud;
    nl_server *srv = rt->srv;
    nl_activity_set(&srv->act, rt->who, "camera state change");
    switch (state) {
    case NL_CAMERA_CONNECTING:
        break; /* logged by try_connect, once per attempt */
    case NL_CAMERA_LOGIN:
        NL_LOGD(srv->ctx, rt->who, "logging in");
        break;
    case NL_CAMERA_READY:
        if (!rt->logged_in && !rt->closing) {
            rt->logged_in = true;
            rt->last_error = 0;
            rt->last_detail[0] = '\0';
            nl__backoff_up(&rt->backoff, nl_loop_now(srv->loop));
            log_login(rt);
            set_state(rt, NL_RT_CONNECTED);
            for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++)
                if (rt->hub[s])
                    nl__hub_on_login(rt->hub[s]);
        }
        update_streaming_state(rt);
        break;
    case NL_CAMERA_STREAMING:
        update_streaming_state(rt);
        break;
    case NL_CAMERA_CLOSING:
        set_state(rt, NL_RT_CLOSING);
        break;
    case NL_CAMERA_CLOSED:
        if (rt->closing) {
            rt->logged_in = false;
            for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++)
                if (rt->hub[s])
                    nl__hub_on_down(rt->hub[s]);
            uint64_t took = nl_loop_now(srv->loop) - rt->close_started;
            if (error)
                NL_LOGW(srv->ctx, rt->who, "closed after %.3f s: %s", secs(took),
                        nl_camera_last_error_detail(cam));
            else
                NL_LOGI(srv->ctx, rt->who, "logged out and closed in %.3f s", secs(took));
            set_state(rt, NL_RT_STOPPED);
            nl__server_rt_closed(srv, rt);
        } else {
            connection_failed(rt, error);
        }
        break;
    case NL_CAMERA_IDLE:
        break;
    }
    nl_activity_clear(&srv->act);
}

static void cb_stream(void *ud, nl_camera *cam, nl_camera_stream stream, nl_camera_stream_event ev,
                      int error)
{
    nl__camera_rt *rt = ud;
    if (stream < 0 || stream >= NL_CAMERA_STREAM_COUNT || !rt->hub[stream])
        return;
    nl_activity_set(&rt->srv->act, rt->hub[stream]->who, "stream event");
    nl__hub_on_stream(rt->hub[stream], ev, error);
    update_streaming_state(rt);
    nl_activity_clear(&rt->srv->act);
}

static void cb_packet(void *ud, nl_camera *cam, nl_camera_stream stream, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    nl__camera_rt *rt = ud;
    if (stream < 0 || stream >= NL_CAMERA_STREAM_COUNT || !rt->hub[stream])
        return;
    /* A few atomic stores per packet, so a stuck fan-out is named. */
    nl_activity_set(&rt->srv->act, rt->hub[stream]->who, "media packet");
    nl__hub_on_packet(rt->hub[stream], pkt, meta);
    nl_activity_clear(&rt->srv->act);
}

static void cb_params(void *ud, nl_camera *cam, nl_camera_stream stream,
                      const AVCodecParameters *par)
{
    nl__camera_rt *rt = ud;
    if (stream < 0 || stream >= NL_CAMERA_STREAM_COUNT || !rt->hub[stream])
        return;
    nl__hub_on_params(rt->hub[stream], par);
}

/* ---------------------------------------------------------------- lifetime */

static void free_rt(nl__camera_rt *rt)
{
    for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++)
        nl__hub_destroy(&rt->hub[s], true);
    nl_timer_stop(rt->srv->loop, &rt->retry_timer);
    nl_camera_destroy(&rt->cam);
    nl__free(rt);
}

int nl__camera_rt_create(nl_server *srv, const nl_config_camera *cc, nl__camera_rt **out)
{
    *out = NULL;
    nl__camera_rt *rt = nl__calloc(1, sizeof *rt);
    if (!rt)
        return NL_ENOMEM;
    rt->srv = srv;
    rt->cfg = cc;
    nl_list_init(&rt->node);
    snprintf(rt->name, sizeof rt->name, "%s", cc->name);
    snprintf(rt->who, sizeof rt->who, "camera %s", cc->name);
    nl_timer_init(&rt->retry_timer, on_retry, rt);
    nl__backoff_init(&rt->backoff, (uint64_t)cc->reconnect_min_ns, (uint64_t)cc->reconnect_max_ns,
                     NL_SERVE_HEALTHY_NS);

    nl_camera_config c;
    nl_camera_config_init(&c);
    c.name = cc->name;
    c.host = cc->host;
    c.port = cc->port;
    c.username = cc->username;
    c.password = cc->password.value;
    c.channel = cc->channel_id;
    c.max_encryption = map_encryption(cc->max_encryption);
    c.keepalive_interval_ms = ns_to_ms(cc->keepalive_ns, 5000);
    c.keepalive_misses = cc->keepalive_misses ? cc->keepalive_misses : 5;
    c.stall_timeout_ms = ns_to_ms(cc->stall_timeout_ns, 10000);
    c.subscribe_motion = -1;
    nl_camera_callbacks cb = {
        .ud = rt,
        .on_state = cb_state,
        .on_stream = cb_stream,
        .on_packet = cb_packet,
        .on_params = cb_params,
    };
    int rc = nl_camera_create(&rt->cam, srv->ctx, srv->loop, &c, &cb);
    if (rc < 0) {
        NL_LOGE(srv->ctx, rt->who, "cannot create the session: %s", nl_strerror(rc));
        goto fail;
    }
    for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++) {
        if (!nl__camera_serves(cc, (nl_camera_stream)s))
            continue;
        rc = nl__hub_create(rt, (nl_camera_stream)s, &rt->hub[s]);
        if (rc < 0)
            goto fail;
    }
    nl_list_insert_tail(&srv->cameras, &rt->node);
    *out = rt;
    try_connect(rt);
    return 0;
fail:
    free_rt(rt);
    return rc;
}

void nl__camera_rt_destroy(nl__camera_rt *rt)
{
    if (!rt)
        return;
    nl_list_remove(&rt->node);
    rt->srv->retired_reconnects += rt->reconnects;
    free_rt(rt);
}

void nl__camera_rt_retire(nl__camera_rt *rt, uint32_t timeout_ms, bool remove_mounts)
{
    nl_server *srv = rt->srv;
    if (rt->closing)
        return;
    rt->closing = true;
    rt->cfg = NULL; /* the entry may belong to a configuration being replaced */
    nl_timer_stop(srv->loop, &rt->retry_timer);
    for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++) {
        if (rt->hub[s] && remove_mounts)
            nl__hub_mounts_remove(rt->hub[s]);
    }
    nl_list_remove(&rt->node);
    nl_list_insert_tail(&srv->retiring, &rt->node);
    rt->close_started = nl_loop_now(srv->loop);
    nl_camera_state st = nl_camera_get_state(rt->cam);
    if (st == NL_CAMERA_IDLE || st == NL_CAMERA_CLOSED) {
        /* Nothing to log out of (waiting to reconnect). */
        NL_LOGI(srv->ctx, rt->who, "stopped");
        set_state(rt, NL_RT_STOPPED);
        nl__server_rt_closed(srv, rt);
        return;
    }
    /* The session logs "closing (deadline N ms)" itself. */
    nl_camera_close(rt->cam, timeout_ms);
}
