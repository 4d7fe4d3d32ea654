/* Public entry points of the camera session (include/neolink/camera.h):
 * argument and state checks, configuration, queries and destruction. The
 * work itself is in session_fsm.c and its siblings. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libavcodec/avcodec.h>

#include "bc/session_int.h"
#include "core/list.h"
#include "core/log.h"
#include "neolink/error.h"

#define CAM_OK(cam) ((cam) && (cam)->magic == NL__CAM_MAGIC && !(cam)->destroyed)

NL_EXPORT void nl_camera_config_init(nl_camera_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->port = NL__CAM_DEF_PORT;
    cfg->max_encryption = NL_CAMERA_ENC_AES;
    cfg->connect_timeout_ms = NL__CAM_DEF_CONNECT_MS;
    cfg->login_timeout_ms = NL__CAM_DEF_LOGIN_MS;
    cfg->request_timeout_ms = NL__CAM_DEF_REQUEST_MS;
    cfg->stop_timeout_ms = NL__CAM_DEF_STOP_MS;
    cfg->keepalive_interval_ms = NL__CAM_DEF_KEEPALIVE_MS;
    cfg->keepalive_misses = NL__CAM_DEF_KEEPALIVE_MISSES;
    cfg->stall_timeout_ms = NL__CAM_DEF_STALL_MS;
    cfg->max_message = NL_BC_MAX_BODY_DEFAULT;
    cfg->arena_cap = NL__CAM_DEF_ARENA;
}

/* A configured duration in ns: 0 means the default, OFF means never. */
static uint64_t dur_ns(uint32_t ms, uint32_t def)
{
    if (ms == NL_CAMERA_TIMEOUT_OFF)
        return NL_TIME_NEVER;
    return (uint64_t)(ms ? ms : def) * NL_NS_PER_MS;
}

static void streams_cleanup(void *arg)
{
    nl_camera *cam = arg;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        nl_media_demux_destroy(&cam->streams[k].demux);
        avcodec_parameters_free(&cam->streams[k].par);
    }
}

_Static_assert(NL__CAM_CRED_MAX == NL_CAMERA_CREDENTIAL_MAX + 1, "camera.h's credential limit");

static int check_config(const nl_camera_config *cfg)
{
    if (!cfg->host || !cfg->host[0] || strlen(cfg->host) >= NL__CAM_HOST_MAX)
        return NL_ECONFIG;
    if (cfg->username && strlen(cfg->username) >= NL__CAM_CRED_MAX)
        return NL_ECONFIG;
    if (cfg->password && strlen(cfg->password) >= NL__CAM_CRED_MAX)
        return NL_ECONFIG;
    if ((unsigned)cfg->max_encryption > NL_CAMERA_ENC_AES || cfg->channel > 255)
        return NL_ECONFIG;
    if (cfg->max_message && cfg->max_message < 4096)
        return NL_ECONFIG;
    if (cfg->arena_cap && cfg->arena_cap < 64 * 1024)
        return NL_ECONFIG;
    return 0;
}

NL_EXPORT int nl_camera_create(nl_camera **out, nl_ctx *ctx, nl_loop *loop,
                               const nl_camera_config *cfg, const nl_camera_callbacks *cb)
{
    if (!out)
        return NL_EINVAL;
    *out = NULL;
    if (!ctx || !loop || !cfg)
        return NL_EINVAL;
    int rc = check_config(cfg);
    if (rc < 0)
        return rc;
    nl_arena *a;
    rc = nl_arena_create(&a, NULL, cfg->arena_cap ? cfg->arena_cap : NL__CAM_DEF_ARENA, "camera");
    if (rc < 0)
        return rc;
    nl_camera *cam = nl_arena_alloc(a, sizeof *cam);
    if (!cam) {
        nl_arena_destroy(&a);
        return NL_EARENA;
    }
    cam->arena = a;
    cam->ctx = ctx;
    cam->loop = loop;
    cam->host = nl_arena_strdup(a, cfg->host);
    cam->user = nl_arena_strdup(a, cfg->username ? cfg->username : "admin");
    cam->pass = nl_arena_strdup(a, cfg->password ? cfg->password : "");
    if (!cam->host || !cam->user || !cam->pass || !nl_arena_on_destroy(a, streams_cleanup, cam)) {
        nl_arena_destroy(&a);
        return NL_EARENA;
    }
    snprintf(cam->who, sizeof cam->who, "camera %s", cfg->name ? cfg->name : cfg->host);
    cam->port = cfg->port ? cfg->port : NL__CAM_DEF_PORT;
    /* "host:port", IPv6 literals in brackets, for messages. */
    snprintf(cam->addr, sizeof cam->addr, strchr(cam->host, ':') ? "[%s]:%u" : "%s:%u", cam->host,
             (unsigned)cam->port);
    cam->channel = cfg->channel;
    static const uint8_t offers[] = {NL_BC_ENC_NONE, NL_BC_ENC_BC, NL_BC_ENC_FULLAES};
    cam->offer_level = offers[cfg->max_encryption];
    cam->connect_ns = dur_ns(cfg->connect_timeout_ms, NL__CAM_DEF_CONNECT_MS);
    cam->login_ns = dur_ns(cfg->login_timeout_ms, NL__CAM_DEF_LOGIN_MS);
    cam->request_ns = dur_ns(cfg->request_timeout_ms, NL__CAM_DEF_REQUEST_MS);
    cam->stop_ns = dur_ns(cfg->stop_timeout_ms, NL__CAM_DEF_STOP_MS);
    cam->keepalive_ns = dur_ns(cfg->keepalive_interval_ms, NL__CAM_DEF_KEEPALIVE_MS);
    cam->stall_ns = dur_ns(cfg->stall_timeout_ms, NL__CAM_DEF_STALL_MS);
    cam->keepalive_misses =
        cfg->keepalive_misses ? cfg->keepalive_misses : NL__CAM_DEF_KEEPALIVE_MISSES;
    cam->max_message = cfg->max_message ? cfg->max_message : NL_BC_MAX_BODY_DEFAULT;
    cam->subscribe_motion = cfg->subscribe_motion;
    if (cb)
        cam->cb = *cb;
    cam->state = NL_CAMERA_IDLE;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        cam->streams[k].kind = k;
        cam->streams[k].stats.first_pts_us = INT64_MIN;
        cam->streams[k].stats.last_pts_us = INT64_MIN;
    }
    cam->magic = NL__CAM_MAGIC;
    *out = cam;
    return 0;
}

static void cam_free(nl_camera *cam)
{
    nl_arena *a = cam->arena; /* the camera lives inside it */
    cam->magic = 0;
    nl_arena_destroy(&a);
}

void nl__cam_reap(nl_deferred *d)
{
    nl_camera *cam = nl_container_of(d, nl_camera, reap);
    while (cam->graveyard) {
        nl__conn *c = cam->graveyard;
        cam->graveyard = c->next_dead;
        nl_arena *a = c->arena; /* the connection lives inside it */
        nl_arena_destroy(&a);
    }
    if (cam->destroyed)
        cam_free(cam);
}

NL_EXPORT void nl_camera_destroy(nl_camera **pcam)
{
    if (!pcam || !*pcam)
        return;
    nl_camera *cam = *pcam;
    *pcam = NULL;
    if (!CAM_OK(cam))
        return;
    cam->destroyed = 1;
    if (cam->conn)
        nl__conn_kill(cam->conn);
    /* The reap entry lives in the camera: while it is queued, or while a
     * callback of this camera is on the stack, the memory must wait. */
    if (cam->cb_depth > 0 || cam->reap.queued) {
        nl_loop_defer(cam->loop, &cam->reap, nl__cam_reap);
        return;
    }
    cam_free(cam);
}

NL_EXPORT int nl_camera_connect(nl_camera *cam)
{
    if (!CAM_OK(cam))
        return NL_EINVAL;
    if (cam->state != NL_CAMERA_IDLE && cam->state != NL_CAMERA_CLOSED)
        return NL_ESTATE;
    nl__conn *c;
    int rc = nl__conn_new(cam, &c);
    if (rc < 0)
        return rc;
    cam->conn = c;
    cam->err = 0;
    cam->detail[0] = '\0';
    cam->stats.connects++;
    c->phase = NL__PH_RESOLVE;
    c->phase_deadline = nl_deadline_after(nl_loop_now(cam->loop), cam->connect_ns);
    NL_LOGI(cam->ctx, cam->who, "connecting to %s", cam->addr);
    nl__cam_update_state(cam);
    if (c->dead || cam->destroyed || c->phase != NL__PH_RESOLVE) {
        nl__conn_rearm(c);
        return 0;
    }
    rc = nl__io_begin(c);
    nl__conn_rearm(c);
    return rc < 0 && rc != NL_ECANCELED ? rc : 0;
}

int nl__camera_connect_fd(nl_camera *cam, int fd)
{
    if (!CAM_OK(cam) || fd < 0)
        return NL_EINVAL;
    if (cam->state != NL_CAMERA_IDLE && cam->state != NL_CAMERA_CLOSED)
        return NL_ESTATE;
    nl__conn *c;
    int rc = nl__conn_new(cam, &c);
    if (rc < 0)
        return rc;
    cam->conn = c;
    cam->err = 0;
    cam->detail[0] = '\0';
    cam->stats.connects++;
    rc = nl__io_adopt(c, fd);
    nl__conn_rearm(c);
    return rc < 0 && rc != NL_ECANCELED ? rc : 0;
}

static nl__stream *stream_of(nl_camera *cam, nl_camera_stream stream)
{
    if ((unsigned)stream >= NL_CAMERA_STREAM_COUNT)
        return NULL;
    return &cam->streams[stream];
}

NL_EXPORT int nl_camera_start_stream(nl_camera *cam, nl_camera_stream stream)
{
    if (!CAM_OK(cam))
        return NL_EINVAL;
    nl__stream *s = stream_of(cam, stream);
    if (!s)
        return NL_EINVAL;
    nl__conn *c = cam->conn;
    int rc = nl__stream_start(cam, s);
    if (c)
        nl__conn_rearm(c);
    return rc == NL_ECANCELED ? 0 : rc;
}

NL_EXPORT int nl_camera_stop_stream(nl_camera *cam, nl_camera_stream stream)
{
    if (!CAM_OK(cam))
        return NL_EINVAL;
    nl__stream *s = stream_of(cam, stream);
    if (!s)
        return NL_EINVAL;
    nl__conn *c = cam->conn;
    int rc = nl__stream_stop(cam, s);
    if (c)
        nl__conn_rearm(c);
    return rc == NL_ECANCELED ? 0 : rc;
}

NL_EXPORT int nl_camera_close(nl_camera *cam, uint32_t timeout_ms)
{
    if (!CAM_OK(cam))
        return NL_EINVAL;
    nl__conn *c = cam->conn;
    if (!c)
        return 0;
    nl__conn_close(c, timeout_ms);
    nl__conn_rearm(c);
    return 0;
}

NL_EXPORT nl_camera_state nl_camera_get_state(const nl_camera *cam)
{
    return CAM_OK(cam) ? cam->state : NL_CAMERA_CLOSED;
}

NL_EXPORT const char *nl_camera_state_name(nl_camera_state state)
{
    static const char *const names[] = {"idle",      "connecting", "login", "ready",
                                        "streaming", "closing",    "closed"};
    return (unsigned)state < sizeof names / sizeof names[0] ? names[state] : "?";
}

NL_EXPORT int nl_camera_last_error(const nl_camera *cam)
{
    return CAM_OK(cam) ? cam->err : NL_EINVAL;
}

NL_EXPORT const char *nl_camera_last_error_detail(const nl_camera *cam)
{
    return CAM_OK(cam) ? cam->detail : "";
}

NL_EXPORT int nl_camera_get_device_info(const nl_camera *cam, nl_camera_device_info *info)
{
    if (!CAM_OK(cam) || !info)
        return NL_EINVAL;
    if (!cam->have_info)
        return NL_EAGAIN;
    *info = cam->info;
    return 0;
}

NL_EXPORT int nl_camera_get_stats(const nl_camera *cam, nl_camera_stats *st, size_t size)
{
    if (!CAM_OK(cam) || !st)
        return NL_EINVAL;
    nl_camera_stats s = cam->stats;
    nl_arena_stats as;
    nl_arena_get_stats(cam->arena, &as);
    s.arena_used = as.used;
    s.arena_high_water = as.high_water;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        const nl__stream *ss = &cam->streams[k];
        s.stream[k] = ss->stats;
        if (ss->demux) {
            nl_media_stats ms;
            nl_media_demux_stats(ss->demux, &ms);
            s.stream[k].bytes_skipped = ms.bytes_skipped;
            s.stream[k].resyncs = ms.resyncs;
        }
    }
    memcpy(st, &s, size < sizeof s ? size : sizeof s);
    return 0;
}

NL_EXPORT int nl_camera_stream_params(const nl_camera *cam, nl_camera_stream stream,
                                      AVCodecParameters *par)
{
    if (!CAM_OK(cam) || !par || (unsigned)stream >= NL_CAMERA_STREAM_COUNT)
        return NL_EINVAL;
    const nl__stream *s = &cam->streams[stream];
    if (!s->demux)
        return NL_EAGAIN;
    return nl_media_demux_video_params(s->demux, par);
}

NL_EXPORT int nl_camera_stream_info(const nl_camera *cam, nl_camera_stream stream,
                                    nl_media_info *info)
{
    if (!CAM_OK(cam) || !info || (unsigned)stream >= NL_CAMERA_STREAM_COUNT)
        return NL_EINVAL;
    const nl__stream *s = &cam->streams[stream];
    if (!s->demux)
        return NL_EAGAIN;
    return nl_media_demux_info(s->demux, info);
}

NL_EXPORT int nl_camera_stream_audio(const nl_camera *cam, nl_camera_stream stream,
                                     nl_media_audio_format *fmt)
{
    if (!CAM_OK(cam) || !fmt || (unsigned)stream >= NL_CAMERA_STREAM_COUNT)
        return NL_EINVAL;
    const nl__stream *s = &cam->streams[stream];
    if (!s->demux) {
        memset(fmt, 0, sizeof *fmt);
        return 0;
    }
    nl_media_demux_audio_format(s->demux, fmt);
    return 0;
}

NL_EXPORT const char *nl_camera_stream_name(nl_camera_stream stream)
{
    static const char *const names[] = {"main", "sub", "extern"};
    return (unsigned)stream < NL_CAMERA_STREAM_COUNT ? names[stream] : "?";
}

NL_EXPORT int nl_camera_stream_parse(const char *name)
{
    if (!name)
        return NL_EINVAL;
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
        if (!strcasecmp(name, nl_camera_stream_name((nl_camera_stream)k)))
            return k;
    int k = nl_bc_stream_parse(name);
    return k >= 0 && k < NL_CAMERA_STREAM_COUNT ? k : NL_EINVAL;
}

NL_EXPORT int nl_camera_encryption_parse(const char *name)
{
    if (!name)
        return NL_EINVAL;
    if (!strcasecmp(name, "none"))
        return NL_CAMERA_ENC_NONE;
    if (!strcasecmp(name, "bc"))
        return NL_CAMERA_ENC_BC;
    if (!strcasecmp(name, "aes"))
        return NL_CAMERA_ENC_AES;
    return NL_EINVAL;
}

NL_EXPORT const char *nl_camera_encryption_name(unsigned level)
{
    switch (level) {
    case NL_BC_ENC_NONE:
        return "none";
    case NL_BC_ENC_BC:
        return "bc";
    case NL_BC_ENC_AES:
        return "aes";
    case NL_BC_ENC_AES_ALT:
        return "aes (0x03)";
    case NL_BC_ENC_FULLAES:
        return "fullaes";
    default:
        return "unknown";
    }
}

NL_EXPORT int nl_camera_error_is_fatal(int code)
{
    return code == NL_EAUTH || code == NL_ECONFIG;
}
