/* Read-only questions about a loaded configuration: camera defaults, change
 * detection for reloads, user lookup, viewing permission and enum names. */
#include <string.h>

#include "config/schema.h"
#include "neolink/config.h"

#define NS_MS INT64_C(1000000)
#define NS_S  INT64_C(1000000000)

NL_EXPORT void nl_config_camera_defaults(nl_config_camera *cam)
{
    if (!cam)
        return;
    memset(cam, 0, sizeof *cam);
    cam->port = 9000;
    cam->username = "admin";
    cam->password.value = "";
    cam->password.source = NL_CFG_SECRET_NONE;
    cam->stream = NL_CFG_STREAM_ALL;
    cam->max_encryption = NL_CFG_ENC_AES;
    cam->enabled = 1;
    cam->on_demand = 1;
    /* Timer defaults follow the original neolink: ping every 5 s, dead after
     * 5 misses, reconnect backoff 50 ms doubling to 5 s. */
    cam->idle_linger_ns = 10 * NS_S;
    cam->keepalive_ns = 5 * NS_S;
    cam->keepalive_misses = 5;
    cam->stall_timeout_ns = 10 * NS_S;
    cam->reconnect_min_ns = 50 * NS_MS;
    cam->reconnect_max_ns = 5 * NS_S;
    cam->audio = NL_CFG_AUDIO_AAC;
}

static int str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static int secret_eq(const nl_config_secret *a, const nl_config_secret *b)
{
    return a->source == b->source && str_eq(a->value, b->value) && str_eq(a->ref, b->ref);
}

static int transcode_eq(const nl_config_transcode *a, const nl_config_transcode *b)
{
    if (!a || !b)
        return a == b;
    return a->codec == b->codec && a->width == b->width && a->height == b->height &&
           a->fps == b->fps && a->bitrate == b->bitrate && a->hwaccel == b->hwaccel &&
           str_eq(a->device, b->device) && a->replace == b->replace;
}

static int users_eq(const nl_config_camera *a, const nl_config_camera *b)
{
    if ((a->permitted_users == NULL) != (b->permitted_users == NULL) ||
        a->permitted_user_count != b->permitted_user_count)
        return 0;
    for (size_t i = 0; i < a->permitted_user_count; i++)
        if (!str_eq(a->permitted_users[i], b->permitted_users[i]))
            return 0;
    return 1;
}

NL_EXPORT int nl_config_camera_equal(const nl_config_camera *a, const nl_config_camera *b)
{
    if (!a || !b)
        return a == b;
    return str_eq(a->name, b->name) && str_eq(a->host, b->host) && a->port == b->port &&
           str_eq(a->username, b->username) && secret_eq(&a->password, &b->password) &&
           a->channel_id == b->channel_id && a->stream == b->stream && users_eq(a, b) &&
           a->max_encryption == b->max_encryption && a->enabled == b->enabled &&
           a->on_demand == b->on_demand && a->idle_linger_ns == b->idle_linger_ns &&
           a->keepalive_ns == b->keepalive_ns && a->keepalive_misses == b->keepalive_misses &&
           a->stall_timeout_ns == b->stall_timeout_ns &&
           a->reconnect_min_ns == b->reconnect_min_ns &&
           a->reconnect_max_ns == b->reconnect_max_ns && a->max_clients == b->max_clients &&
           a->audio == b->audio && transcode_eq(a->transcode, b->transcode);
}

NL_EXPORT const nl_config_user *nl_config_find_user(const nl_config *cfg, const char *name)
{
    if (!cfg || !name)
        return NULL;
    for (size_t i = 0; i < cfg->user_count; i++)
        if (!strcmp(cfg->users[i].name, name))
            return &cfg->users[i];
    return NULL;
}

NL_EXPORT int nl_config_camera_allows(const nl_config *cfg, const nl_config_camera *cam,
                                      const char *user)
{
    if (!cfg || !cam)
        return 0;
    for (size_t i = 0; i < cam->permitted_user_count; i++)
        if (!strcmp(cam->permitted_users[i], "anyone"))
            return 1;
    if (cfg->user_count == 0)
        return 1;
    if (!user || !nl_config_find_user(cfg, user))
        return 0;
    if (!cam->permitted_users)
        return 1;
    for (size_t i = 0; i < cam->permitted_user_count; i++)
        if (!strcmp(cam->permitted_users[i], user))
            return 1;
    return 0;
}

/* The canonical (first) spelling of value v in a NULL-terminated table. */
static const char *name_of(const cyaml_strval_t *t, int v)
{
    for (; t->str; t++)
        if (t->val == v)
            return t->str;
    return "?";
}

NL_EXPORT const char *nl_config_stream_name(nl_config_stream s)
{
    return name_of(nl__cfg_stream_strings, (int)s);
}

NL_EXPORT const char *nl_config_encryption_name(nl_config_encryption e)
{
    return name_of(nl__cfg_encryption_strings, (int)e);
}

NL_EXPORT const char *nl_config_audio_name(nl_config_audio a)
{
    return name_of(nl__cfg_audio_strings, (int)a);
}

NL_EXPORT const char *nl_config_codec_name(nl_config_codec c)
{
    return name_of(nl__cfg_codec_strings, (int)c);
}

NL_EXPORT const char *nl_config_hwaccel_name(nl_config_hwaccel h)
{
    return name_of(nl__cfg_hwaccel_strings, (int)h);
}
