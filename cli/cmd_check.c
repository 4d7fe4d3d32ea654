/* neolink-cli check CONFIG: validate a configuration file and show what it
 * would serve. Passwords are never printed, only where they come from. */
#include <stdio.h>
#include <string.h>

#include "neolink/config.h"
#include "neolink/error.h"

/* Declared here too: verbs.h declares every verb, but this file is compiled on its own. */
int nl_cli_cmd_check(int argc, char **argv);
extern const char nl_cli_help_check[];

const char nl_cli_help_check[] = "validate a config file and list the RTSP URLs it would serve";

/* Room for every message of a bad file (the library caps their number). */
#define ERR_BUF 16384

static void usage(FILE *out)
{
    fprintf(out, "usage: neolink-cli check [--demo] CONFIG\n"
                 "  Validates CONFIG (YAML). Exit 0 when valid, 1 when not (the problems\n"
                 "  are printed on stderr, one per line, as FILE:LINE: KEY: message).\n"
                 "  --demo  accept a file without cameras (as 'serve --demo' does)\n");
}

/* The host clients should connect to: a wildcard bind means "this machine". */
static void url_host(const char *bind, char *out, size_t cap)
{
    if (!strcmp(bind, "0.0.0.0"))
        snprintf(out, cap, "127.0.0.1");
    else if (!strcmp(bind, "::"))
        snprintf(out, cap, "[::1]");
    else if (strchr(bind, ':'))
        snprintf(out, cap, "[%s]", bind);
    else
        snprintf(out, cap, "%s", bind);
}

static void print_secret(const char *label, const nl_config_secret *s)
{
    switch (s->source) {
    case NL_CFG_SECRET_NONE:
        printf("%s: none", label);
        break;
    case NL_CFG_SECRET_INLINE:
        printf("%s: %s (inline)", label, s->value[0] ? "set" : "empty");
        break;
    case NL_CFG_SECRET_FILE:
        printf("%s: %s (file %s)", label, s->value[0] ? "set" : "empty", s->ref);
        break;
    case NL_CFG_SECRET_ENV:
        printf("%s: %s (env %s)", label, s->value[0] ? "set" : "empty", s->ref);
        break;
    }
}

static void print_viewers(const nl_config *cfg, const nl_config_camera *cam)
{
    printf("  viewers: ");
    if (nl_config_camera_allows(cfg, cam, NULL)) {
        printf("anyone (no login)\n");
        return;
    }
    if (!cam->permitted_users) {
        printf("any user (");
        for (size_t i = 0; i < cfg->user_count; i++)
            printf("%s%s", i ? ", " : "", cfg->users[i].name);
        printf(")\n");
        return;
    }
    for (size_t i = 0; i < cam->permitted_user_count; i++)
        printf("%s%s", i ? ", " : "", cam->permitted_users[i]);
    printf("\n");
}

static void print_camera(const nl_config *cfg, const nl_config_camera *cam, const char *host)
{
    int v6 = strchr(cam->host, ':') != NULL;
    printf("\ncamera %s: %s%s%s:%u, channel %u, user %s, ", cam->name, v6 ? "[" : "", cam->host,
           v6 ? "]" : "", cam->port, cam->channel_id, cam->username);
    print_secret("password", &cam->password);
    printf("\n");
    if (!cam->enabled) {
        printf("  disabled: not served\n");
        return;
    }
    printf("  stream %s, encryption up to %s, audio %s, %s", nl_config_stream_name(cam->stream),
           nl_config_encryption_name(cam->max_encryption), nl_config_audio_name(cam->audio),
           cam->on_demand ? "on demand" : "always streaming");
    if (cam->max_clients)
        printf(", at most %u viewers", cam->max_clients);
    printf("\n");
    const nl_config_transcode *t = cam->transcode;
    if (t) {
        printf("  transcode to %s", nl_config_codec_name(t->codec));
        if (t->width && t->height)
            printf(" %dx%d", t->width, t->height);
        else if (t->width)
            printf(" %d wide", t->width);
        else if (t->height)
            printf(" %d high", t->height);
        if (t->fps)
            printf(" @%d fps", t->fps);
        if (t->bitrate)
            printf(" %lld bit/s", (long long)t->bitrate);
        printf(" (%s%s)\n", nl_config_hwaccel_name(t->hwaccel),
               t->replace ? ", replaces the originals" : "");
    }
    print_viewers(cfg, cam);
    nl_config_path paths[NL_CONFIG_PATHS_MAX];
    size_t n = nl_config_camera_paths(cam, paths, NL_CONFIG_PATHS_MAX);
    for (size_t i = 0; i < n && i < NL_CONFIG_PATHS_MAX; i++) {
        printf("  rtsp://%s:%u%s  (%s%s%s)\n", host, cfg->bind_port, paths[i].path,
               nl_config_stream_name(paths[i].stream), paths[i].transcoded ? ", transcoded" : "",
               paths[i].alias ? ", alias" : "");
    }
}

static void print_config(const nl_config *cfg)
{
    char host[300];
    url_host(cfg->bind, host, sizeof host);
    size_t enabled = 0;
    for (size_t i = 0; i < cfg->camera_count; i++)
        enabled += cfg->cameras[i].enabled != 0;
    printf("%s: valid: %zu camera%s (%zu enabled), %zu user%s\n", cfg->source, cfg->camera_count,
           cfg->camera_count == 1 ? "" : "s", enabled, cfg->user_count,
           cfg->user_count == 1 ? "" : "s");
    int v6 = strchr(cfg->bind, ':') != NULL;
    printf("rtsp: listening on %s%s%s:%u, at most %u clients\n", v6 ? "[" : "", cfg->bind,
           v6 ? "]" : "", cfg->bind_port, cfg->max_clients);
    if (cfg->http_enabled)
        printf("http: metrics and health on %s:%u\n", cfg->http_host, cfg->http_port);
    else
        printf("http: off\n");
    for (size_t i = 0; i < cfg->user_count; i++) {
        printf("user %s: ", cfg->users[i].name);
        print_secret("password", &cfg->users[i].pass);
        printf("\n");
    }
    for (size_t i = 0; i < cfg->camera_count; i++)
        print_camera(cfg, &cfg->cameras[i], host);
}

int nl_cli_cmd_check(int argc, char **argv)
{
    unsigned flags = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--demo")) {
            flags |= NL_CONFIG_ALLOW_NO_CAMERAS;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "neolink-cli check: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "neolink-cli check: only one CONFIG may be given\n");
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    static char err[ERR_BUF];
    nl_config *cfg = NULL;
    int rc = nl_config_load_file_ex(&cfg, path, flags, err, sizeof err);
    fputs(err, stderr); /* errors on failure, warnings on success */
    if (rc < 0) {
        if (!err[0])
            fprintf(stderr, "%s: %s\n", path, nl_strerror(rc));
        return 1;
    }
    print_config(cfg);
    nl_config_free(&cfg);
    return 0;
}
