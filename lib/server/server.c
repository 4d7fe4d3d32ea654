/* The server's public entry points: create (RTSP listener, HTTP endpoint,
 * watchdog, systemd notifier, demo camera, one runtime per enabled
 * camera), the deadline-bounded shutdown, destroy, and the figures.
 *
 * Shutdown is a request with one absolute deadline shared by every part:
 * the RTSP server stops accepting and closes its clients, each camera stops
 * its streams and logs out. Whatever is still open at the deadline is
 * failed through its own ordinary error path (the camera's and the RTSP
 * server's deadlines are the same one), and a last timer at that deadline
 * releases what is left, so the host always gets on_done in time. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "server/server_int.h"

#define WHO "server"
/* Default close deadline for a camera removed by a reload. */
#define NL_SERVE_RETIRE_MS 2000u

/* ---------------------------------------------------------------- pure */

uint64_t nl__shutdown_budget_ns(uint64_t total_ns)
{
    /* Keep a quarter, at most half a second, for destroy and exit. */
    uint64_t margin = total_ns / 4;
    if (margin > 500 * NL_NS_PER_MS)
        margin = 500 * NL_NS_PER_MS;
    return total_ns - margin;
}

/* ---------------------------------------------------------------- options */

NL_EXPORT void nl_server_options_init(nl_server_options *opt)
{
    if (!opt)
        return;
    memset(opt, 0, sizeof *opt);
    opt->port = -1;
}

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static void apply_log_level(nl_server *srv)
{
    if (!srv->opt_log_locked && srv->cfg->log_level >= 0)
        nl_ctx_set_log_level(srv->ctx, (nl_log_level)srv->cfg->log_level);
}

/* ---------------------------------------------------------------- test hook */

static void on_test_block(nl_timer *t)
{
    nl_server *srv = t->data;
    NL_LOGW(srv->ctx, WHO, "TEST HOOK NEOLINK_TEST_BLOCK_LOOP: blocking the loop for %u ms",
            srv->opt_block_ms);
    nl_activity_set(&srv->act, "test hook", "NEOLINK_TEST_BLOCK_LOOP sleep");
    struct timespec ts = {srv->opt_block_ms / 1000, (long)(srv->opt_block_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    nl_activity_clear(&srv->act);
}

/* ---------------------------------------------------------------- RTSP */

static int start_rtsp(nl_server *srv)
{
    const nl_config *cfg = srv->cfg;
    nl_rtsp_server_config rc;
    nl_rtsp_server_config_init(&rc);
    rc.bind_address = srv->opt_bind ? srv->opt_bind : cfg->bind;
    rc.port = srv->opt_port >= 0 ? (uint16_t)srv->opt_port : cfg->bind_port;
    rc.max_clients = cfg->max_clients ? cfg->max_clients : 100;
    rc.max_clients_per_mount = rc.max_clients;
    rc.max_connections = rc.max_clients + 16;
    nl_rtsp_user *users = NULL;
    if (cfg->user_count) {
        users = nl__calloc(cfg->user_count, sizeof *users);
        if (!users)
            return NL_ENOMEM;
        for (size_t i = 0; i < cfg->user_count; i++) {
            users[i].name = cfg->users[i].name;
            users[i].password = cfg->users[i].pass.value;
        }
    }
    rc.users = users;
    rc.n_users = cfg->user_count;
    int err = nl_rtsp_server_create(&srv->rtsp, srv->loop, srv->ctx, &rc);
    nl__free(users);
    if (err < 0) {
        NL_LOGE(srv->ctx, WHO, "cannot listen for RTSP on %s port %u: %s", rc.bind_address, rc.port,
                nl_strerror(err));
        return err;
    }
    return 0;
}

/* ---------------------------------------------------------------- create */

static char *dup_opt(const char *s, int *err)
{
    if (!s)
        return NULL;
    char *d = nl__strdup(s);
    if (!d)
        *err = NL_ENOMEM;
    return d;
}

NL_EXPORT int nl_server_create(nl_server **out, nl_ctx *ctx, nl_loop *loop, nl_config *cfg,
                               const nl_server_options *opt)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !loop || !cfg) {
        nl_config_free(&cfg);
        return NL_EINVAL;
    }
    nl_server_options dflt;
    nl_server_options_init(&dflt);
    if (!opt)
        opt = &dflt;
    if (opt->port < -1 || opt->port > 65535) {
        nl_config_free(&cfg);
        return NL_EINVAL;
    }
    nl_server *srv = nl__calloc(1, sizeof *srv);
    if (!srv) {
        nl_config_free(&cfg);
        return NL_ENOMEM;
    }
    int rc = 0;
    srv->ctx = ctx;
    srv->loop = loop;
    srv->cfg = cfg;
    nl_list_init(&srv->cameras);
    nl_list_init(&srv->retiring);
    nl_activity_init(&srv->act);
    nl_timer_init(&srv->stop_timer, NULL, srv);
    nl_timer_init(&srv->done_timer, NULL, srv);
    nl_timer_init(&srv->test_block_timer, on_test_block, srv);
    srv->opt_bind = dup_opt(opt->bind, &rc);
    srv->opt_http = dup_opt(opt->http, &rc);
    srv->opt_port = opt->port;
    srv->opt_demo = opt->demo;
    srv->opt_log_locked = opt->log_level_locked;
    srv->opt_block_ms = opt->test_block_loop_ms;
    if (rc < 0)
        goto fail;
    /* Demo mode serves on loopback unless told otherwise. */
    if (srv->opt_demo && !srv->opt_bind) {
        srv->opt_bind = nl__strdup("127.0.0.1");
        if (!srv->opt_bind) {
            rc = NL_ENOMEM;
            goto fail;
        }
    }
    apply_log_level(srv);

    rc = start_rtsp(srv);
    if (rc < 0)
        goto fail;
    if (srv->opt_demo) {
        rc = nl__demo_start(srv);
        if (rc < 0)
            goto fail;
    }
    size_t enabled = 0;
    for (size_t i = 0; i < cfg->camera_count; i++) {
        const nl_config_camera *cc = &cfg->cameras[i];
        if (!cc->enabled) {
            NL_LOGI(ctx, WHO, "camera %s is disabled: not served", cc->name);
            continue;
        }
        nl__camera_rt *rt;
        rc = nl__camera_rt_create(srv, cc, &rt);
        if (rc < 0)
            goto fail;
        enabled++;
    }
    if (srv->demo_sim) {
        nl__camera_rt *rt;
        rc = nl__camera_rt_create(srv, &srv->demo_cam, &rt);
        if (rc < 0)
            goto fail;
        enabled++;
    }
    if (!enabled)
        NL_LOGW(ctx, WHO, "no enabled camera: serving nothing until a reload adds one");

    rc = nl__status_start(srv);
    if (rc < 0)
        goto fail;
    if (cfg->watchdog_timeout_ns > 0) {
        nl_watchdog_config wc = {.timeout_ns = (uint64_t)cfg->watchdog_timeout_ns};
        rc = nl_watchdog_start(&srv->wd, loop, ctx, &srv->act, &wc);
        if (rc < 0) {
            NL_LOGE(ctx, WHO, "cannot start the watchdog: %s", nl_strerror(rc));
            goto fail;
        }
    }
    rc = nl_sdnotify_open(&srv->sd, loop, ctx, NULL);
    if (rc < 0) {
        NL_LOGW(ctx, WHO, "systemd notification unavailable: %s", nl_strerror(rc));
        rc = 0;
    }
    nl__viewers_poll_start(srv);
    if (srv->opt_block_ms)
        nl_timer_start_in(loop, &srv->test_block_timer, 500 * NL_NS_PER_MS);
    NL_LOGI(ctx, WHO, "serving %zu camera(s) on rtsp port %u%s", enabled,
            nl_rtsp_server_port(srv->rtsp), srv->wd ? ", watchdog on" : "");
    nl_sdnotify_ready(srv->sd);
    nl__status_sd_update(srv);
    *out = srv;
    return 0;
fail:
    nl_server_destroy(&srv);
    return rc;
}

/* ---------------------------------------------------------------- runtimes */

uint32_t nl__server_close_ms(const nl_server *srv)
{
    if (srv->state != NL_SRV_STOPPING)
        return NL_SERVE_RETIRE_MS;
    uint64_t left = nl_deadline_left(nl_loop_now(srv->loop), srv->stop_deadline);
    uint64_t ms = left / NL_NS_PER_MS;
    return ms < 1 ? 1 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void nl__server_rt_closed(nl_server *srv, nl__camera_rt *rt)
{
    uint64_t took = nl_loop_now(srv->loop) - rt->close_started;
    srv->teardown_last_ns = took;
    if (took > srv->teardown_max_ns)
        srv->teardown_max_ns = took;
    nl__camera_rt_destroy(rt);
    nl__server_check_done(srv);
}

/* ---------------------------------------------------------------- shutdown */

static void on_done_timer(nl_timer *t)
{
    nl_server *srv = t->data;
    nl_server_done_fn fn = srv->on_done;
    srv->on_done = NULL;
    if (fn)
        fn(srv->done_ud);
}

static void finish(nl_server *srv)
{
    if (srv->state == NL_SRV_DONE)
        return;
    srv->state = NL_SRV_DONE;
    nl_timer_stop(srv->loop, &srv->stop_timer);
    uint64_t took = nl_loop_now(srv->loop) - srv->stop_started;
    NL_LOGI(srv->ctx, WHO, "shutdown finished in %.3f s", secs(took));
    srv->done_timer.cb = on_done_timer;
    nl_timer_start(srv->loop, &srv->done_timer, nl_loop_now(srv->loop));
}

void nl__server_check_done(nl_server *srv)
{
    if (srv->state != NL_SRV_STOPPING)
        return;
    if (srv->rtsp_stopped && nl_list_empty(&srv->cameras) && nl_list_empty(&srv->retiring))
        finish(srv);
}

static void on_rtsp_stopped(void *ud)
{
    nl_server *srv = ud;
    srv->rtsp_stopped = true;
    NL_LOGI(srv->ctx, WHO, "RTSP clients closed");
    nl__server_check_done(srv);
}

static void on_stop_deadline(nl_timer *t)
{
    nl_server *srv = t->data;
    size_t left = nl_list_count(&srv->cameras) + nl_list_count(&srv->retiring);
    NL_LOGW(srv->ctx, WHO, "shutdown deadline reached: releasing %zu camera(s)%s at once", left,
            srv->rtsp_stopped ? "" : " and the RTSP clients");
    nl_list_foreach_safe(it, tmp, &srv->retiring)
    {
        nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        nl__server_rt_closed(srv, rt);
    }
    nl_list_foreach_safe(it, tmp, &srv->cameras)
    {
        nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        rt->close_started = srv->stop_started;
        nl__server_rt_closed(srv, rt);
    }
    srv->rtsp_stopped = true;
    finish(srv);
}

NL_EXPORT int nl_server_shutdown(nl_server *srv, uint32_t timeout_ms, nl_server_done_fn on_done,
                                 void *ud)
{
    if (!srv)
        return NL_EINVAL;
    if (srv->state != NL_SRV_RUNNING)
        return NL_ESTATE;
    uint64_t total =
        timeout_ms ? (uint64_t)timeout_ms * NL_NS_PER_MS : (uint64_t)srv->cfg->shutdown_timeout_ns;
    if (total == 0)
        total = 2 * NL_NS_PER_S;
    uint64_t budget = nl__shutdown_budget_ns(total);
    uint64_t now = nl_loop_now(srv->loop);
    srv->state = NL_SRV_STOPPING;
    srv->on_done = on_done;
    srv->done_ud = ud;
    srv->stop_started = now;
    srv->stop_deadline = nl_deadline_after(now, budget);
    uint32_t ms = nl__server_close_ms(srv);

    nl_rtsp_server_stats rs = {0};
    if (srv->rtsp)
        nl_rtsp_server_get_stats(srv->rtsp, &rs);
    NL_LOGI(srv->ctx, WHO,
            "shutting down: %zu camera(s), %zu viewer(s), %zu connection(s); deadline %u ms",
            nl_list_count(&srv->cameras), rs.playing, rs.connections, ms);
    nl_sdnotify_stopping(srv->sd);
    nl__viewers_poll_stop(srv);
    nl_timer_stop(srv->loop, &srv->test_block_timer);
    nl__status_stop(srv);

    /* on_rtsp_stopped may only come from the loop, but do not rely on it. */
    srv->rtsp_stopped = false;
    if (!srv->rtsp || nl_rtsp_server_stop(srv->rtsp, ms, on_rtsp_stopped, srv) < 0)
        srv->rtsp_stopped = true;
    nl_list_foreach_safe(it, tmp, &srv->cameras)
    {
        nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        nl__camera_rt_retire(rt, ms, false);
    }
    /* Armed last: at the shared deadline the sessions' and the RTSP
     * server's own timers (armed above, FIFO) fail what is left through
     * their ordinary paths first; this one only releases leftovers. */
    srv->stop_timer.cb = on_stop_deadline;
    nl_timer_start(srv->loop, &srv->stop_timer, srv->stop_deadline);
    nl__server_check_done(srv);
    return 0;
}

/* ---------------------------------------------------------------- reload */

NL_EXPORT int nl_server_reload(nl_server *srv, nl_config *cfg)
{
    if (!srv || !cfg) {
        nl_config_free(&cfg);
        return NL_EINVAL;
    }
    if (srv->state != NL_SRV_RUNNING) {
        nl_config_free(&cfg);
        return NL_ESTATE;
    }
    return nl__server_apply_reload(srv, cfg);
}

/* ---------------------------------------------------------------- destroy */

NL_EXPORT void nl_server_destroy(nl_server **sp)
{
    if (!sp || !*sp)
        return;
    nl_server *srv = *sp;
    *sp = NULL;
    nl_loop *loop = srv->loop;
    nl_timer_stop(loop, &srv->stop_timer);
    nl_timer_stop(loop, &srv->done_timer);
    nl_timer_stop(loop, &srv->test_block_timer);
    nl__viewers_poll_stop(srv);
    nl__status_stop(srv);
    nl_watchdog_stop(&srv->wd);
    while (!nl_list_empty(&srv->cameras))
        nl__camera_rt_destroy(nl_container_of(srv->cameras.next, nl__camera_rt, node));
    while (!nl_list_empty(&srv->retiring))
        nl__camera_rt_destroy(nl_container_of(srv->retiring.next, nl__camera_rt, node));
    nl_rtsp_server_destroy(&srv->rtsp);
    nl__demo_stop(srv);
    nl_sdnotify_close(&srv->sd);
    nl_config_free(&srv->cfg);
    nl__free(srv->opt_bind);
    nl__free(srv->opt_http);
    nl__free(srv);
}

/* ---------------------------------------------------------------- queries */

NL_EXPORT uint16_t nl_server_rtsp_port(const nl_server *srv)
{
    return srv && srv->rtsp ? nl_rtsp_server_port(srv->rtsp) : 0;
}

NL_EXPORT uint16_t nl_server_http_port(const nl_server *srv)
{
    return srv && srv->http ? nl_http_server_port(srv->http) : 0;
}

NL_EXPORT const nl_config *nl_server_config(const nl_server *srv)
{
    return srv ? srv->cfg : NULL;
}

NL_EXPORT size_t nl_server_foreach_path(const nl_server *srv,
                                        void (*fn)(void *ud, const char *camera, const char *path,
                                                   bool alias),
                                        void *ud)
{
    if (!srv)
        return 0;
    size_t n = 0;
    nl_list_foreach(it, &srv->cameras)
    {
        const nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++) {
            const nl__stream_hub *h = rt->hub[s];
            if (!h)
                continue;
            for (size_t i = 0; i < h->nmounts; i++) {
                if (fn)
                    fn(ud, rt->name, h->mounts[i].path, h->mounts[i].alias);
                n++;
            }
            for (size_t i = 0; h->xc && i < h->xc->nmounts; i++) {
                if (fn)
                    fn(ud, rt->name, h->xc->mounts[i].path, h->xc->mounts[i].alias);
                n++;
            }
        }
    }
    return n;
}

NL_EXPORT void nl_server_get_stats(const nl_server *srv, nl_server_stats *st)
{
    if (!st)
        return;
    memset(st, 0, sizeof *st);
    if (!srv)
        return;
    st->reconnects = srv->retired_reconnects;
    st->reloads = srv->reloads;
    nl_list_foreach(it, &srv->cameras)
    {
        const nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        st->cameras++;
        st->cameras_connected += rt->logged_in;
        st->reconnects += rt->reconnects;
        for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++)
            st->streams_active += rt->hub[s] && rt->hub[s]->running;
    }
    nl_list_foreach(it, &srv->retiring)
    {
        const nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        st->reconnects += rt->reconnects;
    }
    if (srv->rtsp) {
        nl_rtsp_server_stats rs;
        nl_rtsp_server_get_stats(srv->rtsp, &rs);
        st->viewers = rs.playing;
        st->rtsp_connections = rs.connections;
    }
}
