/* What the server tells the outside world about itself (and the HTTP
 * endpoint's other routes: GET /snapshot/NAME.jpg, server/snapshot.c):
 *  - GET /metrics: Prometheus text (families from server/metrics.h), every
 *    value read from live objects at request time;
 *  - GET /healthz: 200 while the loop runs (the handler runs on it, so an
 *    answer proves it; a stuck loop does not answer, and the watchdog
 *    aborts it), 503 once shutting down;
 *  - GET /readyz: per-camera JSON; 200 when every enabled camera is logged
 *    in, else 503;
 *  - systemd STATUS= lines;
 *  - one log line per viewer that starts or stops playing, found by
 *    comparing the RTSP server's session list once a second. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"
#include "server/metrics.h"
#include "server/server_int.h"
#include "server/snapshot.h"

#define WHO "server"

/* ---------------------------------------------------------------- helpers */

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static int state_metric(const nl__camera_rt *rt)
{
    switch (rt->state) {
    case NL_RT_CONNECTING:
        return NL_CAMERA_STATE_CONNECTING;
    case NL_RT_CONNECTED:
        return NL_CAMERA_STATE_CONNECTED;
    case NL_RT_STREAMING:
        return NL_CAMERA_STATE_STREAMING;
    case NL_RT_BACKOFF:
        return NL_CAMERA_STATE_BACKOFF;
    case NL_RT_STOPPED:
    case NL_RT_CLOSING:
        break;
    }
    return NL_CAMERA_STATE_STOPPED;
}

#define FOREACH_RT(srv, rt)                                                                        \
    for (nl_list *it_ = (srv)->cameras.next; it_ != &(srv)->cameras; it_ = it_->next)              \
        for (const nl__camera_rt *rt = nl_container_of(it_, nl__camera_rt, node); rt; rt = NULL)

/* ---------------------------------------------------------------- /metrics */

typedef enum stream_value {
    V_FRAMES,
    V_BYTES,
    V_AGE,
    V_VIEWERS,
    V_DROPPED,
    V_QUEUE_PEAK,
} stream_value;

static void stream_family(nl_prom *p, const nl_server *srv, nl_metric_id id, stream_value v)
{
    const nl_prom_family *fam = nl_metric(id);
    nl_prom_begin_family(p, fam);
    uint64_t now = nl_loop_now(srv->loop);
    FOREACH_RT(srv, rt)
    {
        nl_camera_stats cs;
        if (nl_camera_get_stats(rt->cam, &cs, sizeof cs) < 0)
            memset(&cs, 0, sizeof cs);
        for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++) {
            const nl__stream_hub *h = rt->hub[s];
            if (!h)
                continue;
            const char *lv[] = {rt->name, nl_camera_stream_name((nl_camera_stream)s)};
            nl__hub_figures f;
            switch (v) {
            case V_FRAMES:
                nl_prom_counter(p, fam, lv, cs.stream[s].frames);
                break;
            case V_BYTES:
                nl_prom_counter(p, fam, lv, cs.stream[s].bytes);
                break;
            case V_AGE:
                if (h->last_video_at)
                    nl_prom_gauge(p, fam, lv, secs(now - h->last_video_at));
                break;
            case V_VIEWERS:
                nl__hub_figures_get(h, &f);
                nl_prom_gauge(p, fam, lv, (double)f.viewers);
                break;
            case V_DROPPED:
                nl__hub_figures_get(h, &f);
                nl_prom_counter(p, fam, lv, f.dropped);
                break;
            case V_QUEUE_PEAK:
                nl__hub_figures_get(h, &f);
                nl_prom_gauge(p, fam, lv, (double)f.queue_peak_bytes);
                break;
            }
        }
    }
}

static void handle_metrics(void *ud, const nl_http_request *req, nl_http_response *resp)
{
    nl_server *srv = ud;
    nl_activity_set(&srv->act, "http", "/metrics");
    nl_prom p;
    nl_prom_init(&p, resp->body);
    resp->content_type = NL_PROM_CONTENT_TYPE;

    const nl_prom_family *fam = nl_metric(NL_M_CAMERA_STATE);
    nl_prom_begin_family(&p, fam);
    FOREACH_RT(srv, rt)
    {
        const char *lv[] = {rt->name};
        nl_prom_gauge(&p, fam, lv, state_metric(rt));
    }
    fam = nl_metric(NL_M_CAMERA_RECONNECTS);
    nl_prom_begin_family(&p, fam);
    FOREACH_RT(srv, rt)
    {
        const char *lv[] = {rt->name};
        nl_prom_counter(&p, fam, lv, rt->reconnects);
    }
    stream_family(&p, srv, NL_M_CAMERA_FRAMES, V_FRAMES);
    stream_family(&p, srv, NL_M_CAMERA_BYTES, V_BYTES);
    stream_family(&p, srv, NL_M_CAMERA_LAST_FRAME_AGE, V_AGE);
    stream_family(&p, srv, NL_M_VIEWERS, V_VIEWERS);
    stream_family(&p, srv, NL_M_DROPPED_FRAMES, V_DROPPED);
    stream_family(&p, srv, NL_M_QUEUE_PEAK_BYTES, V_QUEUE_PEAK);

    fam = nl_metric(NL_M_ARENA_BYTES);
    nl_prom_begin_family(&p, fam);
    FOREACH_RT(srv, rt)
    {
        nl_camera_stats cs;
        if (nl_camera_get_stats(rt->cam, &cs, sizeof cs) < 0)
            continue;
        const char *lv[] = {rt->who};
        nl_prom_gauge(&p, fam, lv, (double)cs.arena_used);
    }
    fam = nl_metric(NL_M_TEARDOWN_SECONDS);
    const char *last[] = {"last"}, *max[] = {"max"};
    nl_prom_gauge(&p, fam, last, secs(srv->teardown_last_ns));
    nl_prom_gauge(&p, fam, max, secs(srv->teardown_max_ns));

    fam = nl_metric(NL_M_WATCHDOG_HEARTBEAT_AGE);
    nl_prom_begin_family(&p, fam);
    if (srv->wd)
        nl_prom_gauge(&p, fam, NULL, secs(nl_watchdog_heartbeat_age_ns(srv->wd)));
    nl_hw_stats hs;
    memset(&hs, 0, sizeof hs);
    nl_hw_get_stats(&hs, sizeof hs);
    nl_prom_counter(&p, nl_metric(NL_M_ABANDONED_WORKERS), NULL, hs.workers_abandoned);

    nl_server_stats st;
    nl_server_get_stats(srv, &st);
    nl_prom_gauge(&p, nl_metric(NL_M_CAMERA_STREAMS_ACTIVE), NULL, (double)st.streams_active);
    nl_prom_gauge(&p, nl_metric(NL_M_RTSP_CLIENTS), NULL, (double)st.rtsp_connections);
    nl__snap_metrics(srv, &p);
    if (nl_prom_finish(&p) < 0)
        resp->err = nl_prom_finish(&p);
    nl_activity_clear(&srv->act);
}

/* ---------------------------------------------------------------- /healthz */

static void handle_healthz(void *ud, const nl_http_request *req, nl_http_response *resp)
{
    nl_server *srv = ud;
    if (srv->state != NL_SRV_RUNNING) {
        resp->status = 503;
        nl_http_body_printf(resp, "stopping\n");
        return;
    }
    nl_http_body_printf(resp, "ok\n");
}

/* ---------------------------------------------------------------- /readyz */

static void json_str(nl_http_response *resp, const char *s)
{
    nl_http_body_append(resp, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            nl_http_body_printf(resp, "\\%c", ch);
        else if (ch < 0x20)
            nl_http_body_printf(resp, "\\u%04x", ch);
        else
            nl_http_body_append(resp, s, 1);
    }
    nl_http_body_append(resp, "\"", 1);
}

/* Baichuan sessions open for a camera name: its runtime, plus any still
 * logging out after a reload restarted it. Counted, never kept. */
static size_t sessions_of(const nl_server *srv, const char *name)
{
    size_t n = 0;
    const nl_list *lists[] = {&srv->cameras, &srv->retiring};
    for (int l = 0; l < 2; l++) {
        nl_list_foreach(it, lists[l])
        {
            const nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
            nl_camera_state st = nl_camera_get_state(rt->cam);
            if (!strcmp(rt->name, name) && st != NL_CAMERA_IDLE && st != NL_CAMERA_CLOSED)
                n++;
        }
    }
    return n;
}

static void handle_readyz(void *ud, const nl_http_request *req, nl_http_response *resp)
{
    nl_server *srv = ud;
    bool ready = srv->state == NL_SRV_RUNNING;
    FOREACH_RT(srv, rt)
    {
        if (!rt->logged_in)
            ready = false;
    }
    resp->status = ready ? 200 : 503;
    resp->content_type = "application/json";
    nl_http_body_printf(resp, "{\"ready\":%s,\"cameras\":[", ready ? "true" : "false");
    bool first = true;
    FOREACH_RT(srv, rt)
    {
        nl_http_body_printf(resp, "%s{\"name\":", first ? "" : ",");
        first = false;
        json_str(resp, rt->name);
        nl_http_body_printf(resp,
                            ",\"state\":\"%s\",\"connected\":%s,\"reconnects\":%llu,"
                            "\"sessions\":%zu",
                            nl__rt_state_name(rt->state), rt->logged_in ? "true" : "false",
                            (unsigned long long)rt->reconnects, sessions_of(srv, rt->name));
        if (rt->last_error) {
            nl_http_body_printf(resp, ",\"error\":\"%s\",\"detail\":", nl_err_name(rt->last_error));
            json_str(resp, rt->last_detail);
        }
        nl_http_body_printf(resp, ",\"streams\":{");
        bool fs = true;
        for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++) {
            const nl__stream_hub *h = rt->hub[s];
            if (!h)
                continue;
            nl__hub_figures f;
            nl__hub_figures_get(h, &f);
            nl_http_body_printf(
                resp,
                "%s\"%s\":{\"running\":%s,\"viewers\":%zu,\"mounted\":%s,"
                "\"available\":%s}",
                fs ? "" : ",", nl_camera_stream_name(h->kind), h->running ? "true" : "false",
                f.viewers, h->mounts_final ? "true" : "false", h->unavailable ? "false" : "true");
            fs = false;
        }
        nl_http_body_printf(resp, "}}");
    }
    nl_http_body_printf(resp, "]}\n");
}

/* ---------------------------------------------------------------- endpoint */

/* "HOST:PORT", "[V6]:PORT" into host (cap bytes) and port. */
static int parse_hostport(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *h = s, *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return NL_EINVAL;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return NL_EINVAL;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= cap || !colon[1])
        return NL_EINVAL;
    unsigned long p = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (*c < '0' || *c > '9')
            return NL_EINVAL;
        p = p * 10 + (unsigned long)(*c - '0');
        if (p > 65535)
            return NL_EINVAL;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return 0;
}

int nl__status_start(nl_server *srv)
{
    const nl_config *cfg = srv->cfg;
    char host[256];
    uint16_t port;
    if (srv->opt_http) {
        if (strcmp(srv->opt_http, "off") == 0)
            return 0;
        if (parse_hostport(srv->opt_http, host, sizeof host, &port) < 0) {
            NL_LOGE(srv->ctx, WHO, "bad http address '%s' (expected HOST:PORT or off)",
                    srv->opt_http);
            return NL_EINVAL;
        }
    } else {
        if (!cfg->http_enabled)
            return 0;
        snprintf(host, sizeof host, "%s", cfg->http_host ? cfg->http_host : "127.0.0.1");
        port = cfg->http_port;
    }
    nl_http_config hc = {.host = host, .port = port};
    int rc = nl_http_server_create(&srv->http, srv->loop, srv->ctx, &hc);
    if (rc < 0) {
        NL_LOGE(srv->ctx, WHO, "cannot listen for HTTP on %s port %u: %s", host, port,
                nl_strerror(rc));
        return rc;
    }
    if ((rc = nl_http_server_route(srv->http, "/metrics", handle_metrics, srv)) < 0 ||
        (rc = nl_http_server_route(srv->http, "/healthz", handle_healthz, srv)) < 0 ||
        (rc = nl_http_server_route(srv->http, "/readyz", handle_readyz, srv)) < 0 ||
        (rc = nl__snap_start(srv)) < 0) {
        nl_http_server_destroy(&srv->http);
        return rc;
    }
    NL_LOGI(srv->ctx, WHO,
            "metrics and health on http://%s:%u (/metrics /healthz /readyz /snapshot/NAME.jpg)",
            host, nl_http_server_port(srv->http));
    return 0;
}

/* Called when a shutdown starts and again from destroy. The first call of a
 * shutdown only closes the endpoint (which cancels pending snapshot
 * requests) and lets running snapshot encodes finish in the background;
 * the last one frees the snapshot service, waiting for those encodes within
 * the shutdown budget left. */
void nl__status_stop(nl_server *srv)
{
    bool shutdown_starts = srv->http && srv->state == NL_SRV_STOPPING;
    nl__snap_quiesce(srv);
    nl_http_server_destroy(&srv->http);
    if (!shutdown_starts)
        nl__snap_stop(srv);
}

void nl__status_sd_update(nl_server *srv)
{
    if (!srv->sd || !nl_sdnotify_active(srv->sd))
        return;
    nl_server_stats st;
    nl_server_get_stats(srv, &st);
    char line[sizeof srv->sd_status];
    snprintf(line, sizeof line, "%zu/%zu cameras connected, %zu streams, %zu viewers",
             st.cameras_connected, st.cameras, st.streams_active, st.viewers);
    if (strcmp(line, srv->sd_status) == 0)
        return; /* only changes are worth a datagram */
    memcpy(srv->sd_status, line, sizeof line);
    nl_sdnotify_status(srv->sd, "%s", line);
}

/* ---------------------------------------------------------------- viewer log */

#define VIEWER_POLL_NS NL_NS_PER_S

typedef struct nl__viewer_seen {
    char id[40];
    char path[NL_CONFIG_PATH_MAX];
    char peer[64];
    bool tcp;
    bool mark;
} nl__viewer_seen;

typedef struct poll_walk {
    nl__viewer_seen *now;
    size_t n, cap;
} poll_walk;

static void collect(void *ud, const nl_rtsp_mount_stats *mount, const nl_rtsp_client_stats *cl)
{
    poll_walk *w = ud;
    if (!cl || !cl->playing || w->n >= w->cap)
        return;
    nl__viewer_seen *v = &w->now[w->n++];
    snprintf(v->id, sizeof v->id, "%s", cl->session_id ? cl->session_id : "");
    snprintf(v->path, sizeof v->path, "%s", cl->mount ? cl->mount : "");
    snprintf(v->peer, sizeof v->peer, "%s", cl->peer ? cl->peer : "");
    v->tcp = cl->tcp;
    v->mark = false;
}

static void on_viewers_poll(nl_timer *t)
{
    nl_server *srv = t->data;
    if (!srv->rtsp || !srv->seen)
        return;
    /* The second half of the buffer holds this round's list. */
    poll_walk w = {srv->seen + srv->seen_cap, 0, srv->seen_cap};
    nl_rtsp_server_foreach(srv->rtsp, collect, &w);
    for (size_t i = 0; i < srv->nseen; i++)
        srv->seen[i].mark = false;
    for (size_t j = 0; j < w.n; j++) {
        bool known = false;
        for (size_t i = 0; i < srv->nseen; i++) {
            if (strcmp(srv->seen[i].id, w.now[j].id) == 0 &&
                strcmp(srv->seen[i].path, w.now[j].path) == 0) {
                srv->seen[i].mark = true;
                known = true;
                break;
            }
        }
        if (!known) {
            char who[96];
            snprintf(who, sizeof who, "viewer %s", w.now[j].peer);
            NL_LOGI(srv->ctx, who, "playing %s (session %s, %s)", w.now[j].path, w.now[j].id,
                    w.now[j].tcp ? "TCP" : "UDP");
        }
    }
    for (size_t i = 0; i < srv->nseen; i++) {
        if (srv->seen[i].mark)
            continue;
        char who[96];
        snprintf(who, sizeof who, "viewer %s", srv->seen[i].peer);
        NL_LOGI(srv->ctx, who, "left %s (session %s)", srv->seen[i].path, srv->seen[i].id);
    }
    memcpy(srv->seen, w.now, w.n * sizeof *w.now);
    srv->nseen = w.n;
    nl__status_sd_update(srv);
    nl_timer_start_in(srv->loop, &srv->viewers_timer, VIEWER_POLL_NS);
}

void nl__viewers_poll_start(nl_server *srv)
{
    size_t cap = (size_t)(srv->cfg->max_clients ? srv->cfg->max_clients : 100) + 16;
    srv->seen = nl__calloc(2 * cap, sizeof *srv->seen);
    if (!srv->seen) {
        NL_LOGW(srv->ctx, WHO, "no memory for the viewer log: viewers are not logged");
        return;
    }
    srv->seen_cap = cap;
    srv->nseen = 0;
    nl_timer_init(&srv->viewers_timer, on_viewers_poll, srv);
    nl_timer_start_in(srv->loop, &srv->viewers_timer, VIEWER_POLL_NS);
}

void nl__viewers_poll_stop(nl_server *srv)
{
    if (srv->seen)
        nl_timer_stop(srv->loop, &srv->viewers_timer);
    nl__free(srv->seen);
    srv->seen = NULL;
    srv->nseen = srv->seen_cap = 0;
}
