/* Whole-document checks: top-level settings, users, the camera list and
 * cross references (unique names, permitted_users). Per-camera conversion
 * is in validate_camera.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/secrets.h"
#include "config/units.h"
#include "config/validate.h"
#include "config/yamlcheck.h"
#include "neolink/error.h"

#define NS_MS INT64_C(1000000)
#define NS_S  INT64_C(1000000000)

/* Ranges of the top-level settings (documented in docs/configuration.md). */
#define MAX_CLIENTS_LIMIT 100000

void nl__cfg_verr(nl__cfg_vctx *v, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nl__cfg_error(v->diag, nl__cfg_lines_near(v->lines, path, 1), path, "%s", msg);
}

void nl__cfg_vwarn(nl__cfg_vctx *v, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    nl__cfg_warn(v->diag, nl__cfg_lines_near(v->lines, path, 1), path, "%s", msg);
}

const char *nl__cfg_dup(nl__cfg_vctx *v, const char *s)
{
    if (!s)
        return NULL;
    char *d = nl_arena_strdup(v->out, s);
    if (!d) {
        v->oom = 1;
        return "";
    }
    return d;
}

/* "1500ms", "10m": the largest unit that divides the value exactly. */
static void fmt_duration(char *out, size_t cap, int64_t ns)
{
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {{"h", 3600 * NS_S}, {"m", 60 * NS_S}, {"s", NS_S},
                 {"ms", NS_MS},      {"us", 1000},     {"ns", 1}};
    if (ns == 0) {
        snprintf(out, cap, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ns % units[i].mul == 0) {
            snprintf(out, cap, "%lld%s", (long long)(ns / units[i].mul), units[i].unit);
            return;
        }
    }
}

int nl__cfg_duration(nl__cfg_vctx *v, const char *path, const char *text, int64_t min, int64_t max,
                     int64_t *out)
{
    if (!text)
        return 0;
    int64_t ns;
    char shown[48];
    int rc = nl_config_parse_duration(text, &ns);
    if (rc == NL_ERANGE) {
        nl__cfg_verr(v, path, "duration out of range");
        return -1;
    }
    if (rc != 0) {
        nl__cfg_verr(v, path, "expected a duration such as 2s, 500ms, 1.5s, 1m or 1h, got '%s'",
                     nl__cfg_printable(shown, sizeof shown, text, strlen(text)));
        return -1;
    }
    if (ns < min || ns > max) {
        char lo[32], hi[32];
        fmt_duration(lo, sizeof lo, min);
        fmt_duration(hi, sizeof hi, max);
        nl__cfg_verr(v, path, "must be between %s and %s", lo, hi);
        return -1;
    }
    *out = ns;
    return 0;
}

int nl__cfg_range(nl__cfg_vctx *v, const char *path, const int64_t *val, int64_t min, int64_t max,
                  int64_t *out)
{
    if (!val)
        return 0;
    if (*val < min || *val > max) {
        nl__cfg_verr(v, path, "must be between %lld and %lld", (long long)min, (long long)max);
        return -1;
    }
    *out = *val;
    return 0;
}

void nl__cfg_defaults(nl_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->source = "";
    cfg->bind = "0.0.0.0";
    cfg->bind_port = 8554;
    cfg->http_enabled = 1;
    cfg->http_host = "127.0.0.1";
    cfg->http_port = 9090;
    cfg->shutdown_timeout_ns = 2 * NS_S;
    cfg->watchdog_timeout_ns = 60 * NS_S;
    cfg->max_clients = 100;
    cfg->log_level = -1;
}

static void top_level(nl__cfg_vctx *v, const nl__raw_config *r, nl_config *cfg)
{
    char host[NL_CFG_HOST_MAX + 1];
    const char *why;
    int64_t n;
    if (r->bind) {
        if (nl__cfg_parse_host(r->bind, host, sizeof host, &why) != 0)
            nl__cfg_verr(v, "bind", "%s", why);
        else
            cfg->bind = nl__cfg_dup(v, host);
    }
    n = cfg->bind_port;
    if (nl__cfg_range(v, "bind_port", r->bind_port, 1, 65535, &n) == 0)
        cfg->bind_port = (uint16_t)n;
    if (r->http) {
        uint16_t port;
        if (!strcasecmp(r->http, "off")) {
            cfg->http_enabled = 0;
        } else if (nl__cfg_parse_hostport(r->http, 9090, host, sizeof host, &port, &why) != 0) {
            nl__cfg_verr(v, "http", "expected HOST[:PORT] or off");
        } else {
            cfg->http_host = nl__cfg_dup(v, host);
            cfg->http_port = port;
        }
    }
    nl__cfg_duration(v, "shutdown_timeout", r->shutdown_timeout, NS_MS, 300 * NS_S,
                     &cfg->shutdown_timeout_ns);
    if (r->watchdog_timeout) {
        int64_t wd;
        if (nl_config_parse_duration(r->watchdog_timeout, &wd) == 0 && wd == 0)
            cfg->watchdog_timeout_ns = 0; /* explicitly off */
        else
            nl__cfg_duration(v, "watchdog_timeout", r->watchdog_timeout, NS_S, 3600 * NS_S,
                             &cfg->watchdog_timeout_ns);
    }
    n = cfg->max_clients;
    if (nl__cfg_range(v, "max_clients", r->max_clients, 1, MAX_CLIENTS_LIMIT, &n) == 0)
        cfg->max_clients = (unsigned)n;
    if (r->log_level)
        cfg->log_level = *r->log_level;
}

/* RTSP user names travel in Basic/Digest credentials: no ':' (the Basic
 * separator), no blanks or control characters, and "anyone" is reserved for
 * permitted_users. */
static int valid_user_name(const char *s)
{
    if (!strcmp(s, "anyone"))
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c == 0x7f || c == ':' || c == '"')
            return 0;
    }
    return 1;
}

static void users(nl__cfg_vctx *v, const nl__raw_config *r, nl_config *cfg)
{
    static const nl__cfg_secret_keys keys = {"pass", "pass_file", "pass_env"};
    if (!r->users_count)
        return;
    nl_config_user *u = nl_arena_alloc(v->out, r->users_count * sizeof *u);
    if (!u) {
        v->oom = 1;
        return;
    }
    char prefix[48], path[64];
    for (unsigned i = 0; i < r->users_count; i++) {
        const nl__raw_user *ru = &r->users[i];
        snprintf(prefix, sizeof prefix, "users[%u]", i);
        snprintf(path, sizeof path, "%s.name", prefix);
        u[i].name = nl__cfg_dup(v, ru->name);
        u[i].line = nl__cfg_lines_get(v->lines, prefix);
        if (!valid_user_name(ru->name)) {
            nl__cfg_verr(v, path, "%s",
                         !strcmp(ru->name, "anyone") ? "'anyone' is reserved (it means no login)"
                                                     : "must not contain ':', '\"', blanks or "
                                                       "control characters");
        }
        for (unsigned j = 0; j < i; j++) {
            if (!strcmp(ru->name, r->users[j].name)) {
                nl__cfg_verr(v, path, "duplicate user name (first on line %d)", u[j].line);
                break;
            }
        }
        nl__cfg_secret(v, prefix, &keys, ru->pass, ru->pass_file, ru->pass_env, 1, &u[i].pass);
    }
    cfg->users = u;
    cfg->user_count = r->users_count;
}

static int user_exists(const nl_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->user_count; i++)
        if (!strcmp(cfg->users[i].name, name))
            return 1;
    return 0;
}

static void cameras(nl__cfg_vctx *v, const nl__raw_config *r, nl_config *cfg)
{
    if (!r->cameras_count)
        return;
    nl_config_camera *cams = nl_arena_alloc(v->out, r->cameras_count * sizeof *cams);
    if (!cams) {
        v->oom = 1;
        return;
    }
    char path[96];
    for (unsigned i = 0; i < r->cameras_count; i++) {
        nl__cfg_camera(v, &r->cameras[i], i, &cams[i]);
        snprintf(path, sizeof path, "cameras[%u].name", i);
        for (unsigned j = 0; j < i; j++) {
            if (!strcmp(r->cameras[i].name, r->cameras[j].name)) {
                nl__cfg_verr(v, path, "duplicate camera name '%s' (first on line %d)",
                             r->cameras[i].name, cams[j].line);
                break;
            }
        }
        for (size_t k = 0; k < cams[i].permitted_user_count; k++) {
            const char *who = cams[i].permitted_users[k];
            if (strcmp(who, "anyone") != 0 && !user_exists(cfg, who)) {
                snprintf(path, sizeof path, "cameras[%u].permitted_users[%zu]", i, k);
                nl__cfg_verr(v, path, "unknown user '%s' (not in users)", who);
            }
        }
    }
    cfg->cameras = cams;
    cfg->camera_count = r->cameras_count;
}

void nl__cfg_validate(nl__cfg_vctx *v, const nl__raw_config *raw, unsigned flags, nl_config *cfg)
{
    static const nl__raw_config empty;
    const nl__raw_config *r = raw ? raw : &empty;
    top_level(v, r, cfg);
    users(v, r, cfg);
    cameras(v, r, cfg);
    if (cfg->camera_count == 0 && !(flags & NL_CONFIG_ALLOW_NO_CAMERAS))
        nl__cfg_verr(v, "cameras", "no cameras configured (add at least one entry)");
}
