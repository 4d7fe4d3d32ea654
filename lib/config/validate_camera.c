/* One camera entry: raw strings and optional values into nl_config_camera,
 * with each setting's range checked. The ranges are documented in
 * docs/configuration.md; they exist to catch typos ("5000s" for "5s") and
 * values that would make the server misbehave, not to second-guess users. */
#include <stdio.h>
#include <string.h>

#include "config/secrets.h"
#include "config/units.h"
#include "config/validate.h"
#include "neolink/error.h"

#define NS_MS INT64_C(1000000)
#define NS_S  INT64_C(1000000000)

/* Camera names appear in URL paths and log lines. */
static int valid_camera_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static void key(char *out, size_t cap, const char *prefix, const char *name)
{
    snprintf(out, cap, "%s.%s", prefix, name);
}

static void permitted(nl__cfg_vctx *v, const nl__raw_camera *r, const char *prefix,
                      nl_config_camera *c)
{
    char path[96];
    key(path, sizeof path, prefix, "permitted_users");
    if (!nl__cfg_lines_get(v->lines, path))
        return; /* not given: any configured user */
    if (r->permitted_users_count == 0) {
        nl__cfg_verr(v, path,
                     "empty list (leave the key out to admit every user, or list 'anyone')");
        return;
    }
    const char **list = nl_arena_alloc(v->out, r->permitted_users_count * sizeof *list);
    if (!list) {
        v->oom = 1;
        return;
    }
    for (unsigned i = 0; i < r->permitted_users_count; i++)
        list[i] = nl__cfg_dup(v, r->permitted_users[i]);
    c->permitted_users = list;
    c->permitted_user_count = r->permitted_users_count;
}

static void reconnect(nl__cfg_vctx *v, const nl__raw_reconnect *r, const char *prefix,
                      nl_config_camera *c)
{
    if (!r)
        return;
    char pmin[96], pmax[96];
    key(pmin, sizeof pmin, prefix, "reconnect.min");
    key(pmax, sizeof pmax, prefix, "reconnect.max");
    int bad = nl__cfg_duration(v, pmin, r->min, NS_MS, 3600 * NS_S, &c->reconnect_min_ns);
    bad |= nl__cfg_duration(v, pmax, r->max, NS_MS, 3600 * NS_S, &c->reconnect_max_ns);
    if (!bad && c->reconnect_min_ns > c->reconnect_max_ns)
        nl__cfg_verr(v, r->min ? pmin : pmax, "reconnect.min must not exceed reconnect.max");
}

static void dimension(nl__cfg_vctx *v, const char *path, const int64_t *val, int *out)
{
    if (!val)
        return;
    if (*val < 16 || *val > 8192 || (*val & 1)) {
        nl__cfg_verr(v, path, "must be an even number between 16 and 8192");
        return;
    }
    *out = (int)*val;
}

static void transcode(nl__cfg_vctx *v, const nl__raw_transcode *r, const char *prefix,
                      nl_config_camera *c)
{
    if (!r)
        return;
    nl_config_transcode *t = nl_arena_alloc(v->out, sizeof *t);
    if (!t) {
        v->oom = 1;
        return;
    }
    char path[96];
    t->codec = r->codec ? (nl_config_codec)*r->codec : NL_CFG_CODEC_H264;
    t->hwaccel = r->hwaccel ? (nl_config_hwaccel)*r->hwaccel : NL_CFG_HW_AUTO;
    t->replace = r->replace ? *r->replace : 0;
    key(path, sizeof path, prefix, "transcode.width");
    dimension(v, path, r->width, &t->width);
    key(path, sizeof path, prefix, "transcode.height");
    dimension(v, path, r->height, &t->height);
    int64_t n = 0;
    key(path, sizeof path, prefix, "transcode.fps");
    if (nl__cfg_range(v, path, r->fps, 1, 240, &n) == 0)
        t->fps = (int)n;
    if (r->bitrate) {
        key(path, sizeof path, prefix, "transcode.bitrate");
        int64_t bps;
        int rc = nl_config_parse_size(r->bitrate, &bps);
        if (rc != 0)
            nl__cfg_verr(v, path, "expected bits per second such as 1M, 800k or 2000000");
        else if (bps < 16000 || bps > INT64_C(1000000000))
            nl__cfg_verr(v, path, "must be between 16k and 1G");
        else
            t->bitrate = bps;
    }
    if (r->device) {
        key(path, sizeof path, prefix, "transcode.device");
        if (r->device[0] != '/')
            nl__cfg_verr(v, path, "expected an absolute path such as /dev/dri/renderD128");
        else
            t->device = nl__cfg_dup(v, r->device);
    }
    c->transcode = t;
}

static void timers(nl__cfg_vctx *v, const nl__raw_camera *r, const char *prefix,
                   nl_config_camera *c)
{
    char path[96];
    key(path, sizeof path, prefix, "idle_linger");
    nl__cfg_duration(v, path, r->idle_linger, 0, 24 * 3600 * NS_S, &c->idle_linger_ns);
    key(path, sizeof path, prefix, "keepalive");
    nl__cfg_duration(v, path, r->keepalive, 100 * NS_MS, 600 * NS_S, &c->keepalive_ns);
    key(path, sizeof path, prefix, "stall_timeout");
    nl__cfg_duration(v, path, r->stall_timeout, NS_S, 600 * NS_S, &c->stall_timeout_ns);
    int64_t n = c->keepalive_misses;
    key(path, sizeof path, prefix, "keepalive_misses");
    if (nl__cfg_range(v, path, r->keepalive_misses, 1, 100, &n) == 0)
        c->keepalive_misses = (unsigned)n;
    reconnect(v, r->reconnect, prefix, c);
}

void nl__cfg_camera(nl__cfg_vctx *v, const nl__raw_camera *r, unsigned idx, nl_config_camera *c)
{
    static const nl__cfg_secret_keys keys = {"password", "password_file", "password_env"};
    char prefix[48], path[96], host[NL_CFG_HOST_MAX + 1];
    const char *why;
    snprintf(prefix, sizeof prefix, "cameras[%u]", idx);
    nl_config_camera_defaults(c);
    c->line = nl__cfg_lines_get(v->lines, prefix);

    c->name = nl__cfg_dup(v, r->name);
    key(path, sizeof path, prefix, "name");
    if (!valid_camera_name(r->name))
        nl__cfg_verr(v, path,
                     "only letters, digits, '-' and '_' are allowed (it is part of "
                     "the RTSP path)");

    key(path, sizeof path, prefix, "address");
    if (nl__cfg_parse_hostport(r->address, 9000, host, sizeof host, &c->port, &why) != 0)
        nl__cfg_verr(v, path, "%s", why);
    else
        c->host = nl__cfg_dup(v, host);

    /* The camera's login fields hold 63 bytes (config.h): a longer name or
     * password would only fail at connect time, so `check` says it here. */
    key(path, sizeof path, prefix, "username");
    if (r->username && strlen(r->username) > NL_CONFIG_CAMERA_CREDENTIAL_MAX)
        nl__cfg_verr(v, path, "longer than %d bytes (the camera's login field)",
                     NL_CONFIG_CAMERA_CREDENTIAL_MAX);
    if (r->username)
        c->username = nl__cfg_dup(v, r->username);
    nl__cfg_secret(v, prefix, &keys, r->password, r->password_file, r->password_env, 0,
                   &c->password);
    if (c->password.value && strlen(c->password.value) > NL_CONFIG_CAMERA_CREDENTIAL_MAX) {
        const char *which = r->password_file ? keys.file_key
                            : r->password_env ? keys.env_key : keys.inline_key;
        key(path, sizeof path, prefix, which);
        nl__cfg_verr(v, path, "the password is longer than %d bytes (the camera's login field)",
                     NL_CONFIG_CAMERA_CREDENTIAL_MAX);
    }

    int64_t n = 0;
    key(path, sizeof path, prefix, "channel_id");
    if (nl__cfg_range(v, path, r->channel_id, 0, 255, &n) == 0)
        c->channel_id = (unsigned)n;
    if (r->stream)
        c->stream = (nl_config_stream)*r->stream;
    permitted(v, r, prefix, c);
    if (r->max_encryption)
        c->max_encryption = (nl_config_encryption)*r->max_encryption;
    if (r->enabled)
        c->enabled = *r->enabled;
    if (r->on_demand)
        c->on_demand = *r->on_demand;
    timers(v, r, prefix, c);
    key(path, sizeof path, prefix, "max_clients");
    n = 0;
    if (nl__cfg_range(v, path, r->max_clients, 1, 100000, &n) == 0)
        c->max_clients = (unsigned)n;
    if (r->audio)
        c->audio = (nl_config_audio)*r->audio;
    transcode(v, r->transcode, prefix, c);
}
