/* SIGHUP: apply a new configuration to the running server.
 *
 * Cameras are matched by name. An entry equal to the running one
 * (nl_config_camera_equal) keeps its session, its streams and its viewers;
 * a changed one is closed (mounts removed, so its viewers are
 * disconnected) and started again with the new settings; a removed or
 * disabled one is closed; a new one starts. Global settings that belong to
 * listeners already open (bind, port, users, max_clients, http, watchdog)
 * are not reloaded: each one that changed is named in a warning. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "neolink/error.h"
#include "server/server_int.h"

#define WHO                "server"
#define NL_SERVE_RETIRE_MS 2000u

nl__reload_action nl__reload_classify(const nl_config_camera *old, const nl_config *next,
                                      const nl_config_camera **match)
{
    *match = NULL;
    for (size_t i = 0; next && i < next->camera_count; i++) {
        const nl_config_camera *c = &next->cameras[i];
        if (strcmp(c->name, old->name) != 0)
            continue;
        if (!c->enabled)
            return NL_RELOAD_REMOVE;
        *match = c;
        return nl_config_camera_equal(old, c) ? NL_RELOAD_KEEP : NL_RELOAD_RESTART;
    }
    return NL_RELOAD_REMOVE;
}

static bool str_differs(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b) != 0;
}

static bool users_differ(const nl_config *a, const nl_config *b)
{
    if (a->user_count != b->user_count)
        return true;
    for (size_t i = 0; i < a->user_count; i++) {
        if (str_differs(a->users[i].name, b->users[i].name) ||
            str_differs(a->users[i].pass.value, b->users[i].pass.value))
            return true;
    }
    return false;
}

static void add_name(char *buf, size_t n, int *count, const char *name)
{
    size_t len = strlen(buf);
    if (len < n)
        snprintf(buf + len, n - len, "%s%s", *count ? ", " : "", name);
    (*count)++;
}

int nl__reload_global_changes(const nl_config *old, const nl_config *next, char *buf, size_t n)
{
    int count = 0;
    if (n)
        buf[0] = '\0';
    if (str_differs(old->bind, next->bind))
        add_name(buf, n, &count, "bind");
    if (old->bind_port != next->bind_port)
        add_name(buf, n, &count, "bind_port");
    if (users_differ(old, next))
        add_name(buf, n, &count, "users");
    if (old->max_clients != next->max_clients)
        add_name(buf, n, &count, "max_clients");
    if (old->http_enabled != next->http_enabled || old->http_port != next->http_port ||
        str_differs(old->http_host, next->http_host))
        add_name(buf, n, &count, "http");
    if (old->watchdog_timeout_ns != next->watchdog_timeout_ns)
        add_name(buf, n, &count, "watchdog_timeout");
    return count;
}

static nl__camera_rt *find_rt(nl_server *srv, const char *name)
{
    nl_list_foreach(it, &srv->cameras)
    {
        nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        if (strcmp(rt->name, name) == 0)
            return rt;
    }
    return NULL;
}

int nl__server_apply_reload(nl_server *srv, nl_config *next)
{
    char changed[256];
    if (nl__reload_global_changes(srv->cfg, next, changed, sizeof changed) > 0)
        NL_LOGW(srv->ctx, WHO, "reload: not applied until a restart: %s", changed);

    nl_config *old = srv->cfg;
    srv->cfg = next; /* new mounts read their users from it */
    if (!srv->opt_log_locked && next->log_level >= 0)
        nl_ctx_set_log_level(srv->ctx, (nl_log_level)next->log_level);

    /* Take a snapshot of the running runtimes, so the ones created below
     * are not visited. (An array, not a list head on the stack: deriving
     * runtimes from a local head's node lets the optimizer assume things
     * about that head that break the loop.) */
    nl__camera_rt *running[NL_CONFIG_MAX_CAMERAS + 1];
    size_t nrunning = 0;
    nl_list_foreach(it, &srv->cameras)
    {
        if (nrunning < sizeof running / sizeof running[0])
            running[nrunning++] = nl_container_of(it, nl__camera_rt, node);
    }
    unsigned kept = 0, restarted = 0, removed = 0, added = 0, failed = 0;
    for (size_t i = 0; i < nrunning; i++) {
        nl__camera_rt *rt = running[i];
        if (rt->cfg == &srv->demo_cam) {
            kept++;
            continue;
        }
        const nl_config_camera *m;
        nl__reload_action a = nl__reload_classify(rt->cfg, next, &m);
        switch (a) {
        case NL_RELOAD_KEEP:
            rt->cfg = m;
            kept++;
            NL_LOGD(srv->ctx, rt->who, "reload: unchanged");
            break;
        case NL_RELOAD_RESTART: {
            NL_LOGI(srv->ctx, rt->who, "reload: settings changed, restarting");
            nl__camera_rt_retire(rt, NL_SERVE_RETIRE_MS, true);
            nl__camera_rt *fresh;
            if (nl__camera_rt_create(srv, m, &fresh) < 0)
                failed++;
            restarted++;
            break;
        }
        case NL_RELOAD_REMOVE:
            NL_LOGI(srv->ctx, rt->who, "reload: removed or disabled, stopping");
            nl__camera_rt_retire(rt, NL_SERVE_RETIRE_MS, true);
            removed++;
            break;
        }
    }
    for (size_t i = 0; i < next->camera_count; i++) {
        const nl_config_camera *c = &next->cameras[i];
        if (!c->enabled || find_rt(srv, c->name))
            continue;
        NL_LOGI(srv->ctx, WHO, "reload: camera %s added", c->name);
        nl__camera_rt *fresh;
        if (nl__camera_rt_create(srv, c, &fresh) < 0)
            failed++;
        added++;
    }
    nl_config_free(&old);
    srv->reloads++;
    NL_LOGI(srv->ctx, WHO, "reload: %u kept, %u restarted, %u removed, %u added%s", kept, restarted,
            removed, added, failed ? " (some failed to start: see above)" : "");
    nl__status_sd_update(srv);
    return failed ? NL_ENOMEM : 0;
}
