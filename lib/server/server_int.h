/* The server runtime's internals: the server, one runtime per camera, one
 * hub per camera stream, and the pure decision functions (backoff, clock
 * rebase, demand, shutdown budget, reload plan) that the unit tests drive
 * with a fake "now" instead of sleeping.
 *
 *   nl_server ── cameras ──▶ nl__camera_rt (one nl_camera session each)
 *        │                       └── hub[main|sub|extern] ──▶ its RTSP mounts
 *        ├── rtsp (nl_rtsp_server), http (/metrics /healthz /readyz)
 *        ├── watchdog thread + activity slot, systemd notifier
 *        └── retiring: runtimes logging out after a reload or at shutdown
 *
 * Everything runs on the loop thread. Gauges (cameras connected, streams
 * active, viewers) are counted from these live objects when asked. */
#ifndef NL_SERVER_SERVER_INT_H
#define NL_SERVER_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/codec_par.h>
#include <libavcodec/packet.h>

#include "core/list.h"
#include "loop/loop_int.h"
#include "neolink/camera.h"
#include "neolink/config.h"
#include "neolink/rtsp.h"
#include "neolink/server.h"
#include "neolink/sim.h"
#include "server/http.h"
#include "server/sdnotify.h"
#include "server/watchdog.h"

/* ================================================================ pure helpers */

/* Reconnect backoff: min, doubling up to max; back to min once a connection
 * stayed up for `healthy_ns`. A fatal failure (rejected login) waits max. */
#define NL_SERVE_HEALTHY_NS (60 * NL_NS_PER_S)

typedef struct nl__backoff {
    uint64_t min_ns, max_ns, healthy_ns;
    uint64_t next_ns;  /* delay the next ordinary failure waits */
    uint64_t up_since; /* loop time of the latest login; 0 while down */
} nl__backoff;

void nl__backoff_init(nl__backoff *b, uint64_t min_ns, uint64_t max_ns, uint64_t healthy_ns);
/* The camera logged in at `now`. */
void nl__backoff_up(nl__backoff *b, uint64_t now);
/* The connection (or attempt) failed at `now`: returns how long to wait
 * before the next attempt, and advances the sequence. */
uint64_t nl__backoff_failed(nl__backoff *b, uint64_t now, bool fatal);

/* Camera clock -> output timeline. Output pts = camera pts + offset; the
 * offset changes only at a discontinuity: a new run of the stream (every
 * start, so every reconnect), a clock reset/backstep the demuxer flagged,
 * a step back, or a step forward more than NL_SERVE_JUMP_AHEAD_US beyond
 * the wall-clock time that passed. Then the output continues from the last
 * output pts plus the wall time elapsed (at least one frame interval), so
 * viewers see neither a burst nor a stall. Audio uses the same offset. */
#define NL_SERVE_JUMP_AHEAD_US   INT64_C(1000000)
#define NL_SERVE_DEFAULT_STEP_US INT64_C(40000)

typedef struct nl__clock_map {
    bool have;   /* a video packet has been mapped */
    bool rebase; /* the next video packet starts a new segment */
    bool have_audio;
    int64_t offset_us;
    int64_t last_cam_us;   /* camera pts of the last video packet */
    int64_t last_out_us;   /* its output pts */
    int64_t last_audio_us; /* output pts of the last audio packet */
    int64_t step_us;       /* frame interval estimate */
    uint64_t last_wall_ns; /* loop time of the last video packet */
    uint64_t rebases;      /* segments started after the first */
} nl__clock_map;

void nl__clock_map_init(nl__clock_map *c);
/* The next video packet starts a new segment (stream restarted). */
void nl__clock_map_discontinuity(nl__clock_map *c);
/* Output pts (µs) of a video packet with camera pts cam_us and demuxer
 * flags (NL_MEDIA_FLAG_*) received at loop time now_ns. */
int64_t nl__clock_map_video(nl__clock_map *c, int64_t cam_us, uint32_t flags, uint64_t now_ns);
/* Output pts of an audio packet, or INT64_MIN when it must be dropped (no
 * video mapped yet in this segment, or it would go back in time). */
int64_t nl__clock_map_audio(nl__clock_map *c, int64_t cam_us);

/* Whether a camera stream must run: always-on streams, streams someone
 * plays, the format probe, or a hold (idle_linger after the last viewer, or
 * after a DESCRIBE) that has not expired. */
typedef struct nl__demand {
    bool on_demand;
    bool viewers;        /* some mount of the stream has a playing client */
    bool probing;        /* learning the stream's format */
    uint64_t hold_until; /* loop time; 0: none */
} nl__demand;

bool nl__demand_wanted(const nl__demand *d, uint64_t now);

/* The library's part of a shutdown budget: a margin is kept for the host
 * to destroy everything and exit, so the process ends within `total_ns`. */
uint64_t nl__shutdown_budget_ns(uint64_t total_ns);

/* What a reload does to one running camera. */
typedef enum nl__reload_action {
    NL_RELOAD_KEEP = 0,    /* same settings: keeps streaming */
    NL_RELOAD_RESTART = 1, /* settings changed: closed and started again */
    NL_RELOAD_REMOVE = 2,  /* gone or disabled: closed */
} nl__reload_action;

/* Classifies a running camera against a new configuration; *match gets the
 * new entry (NULL for REMOVE). */
nl__reload_action nl__reload_classify(const nl_config_camera *old, const nl_config *next,
                                      const nl_config_camera **match);

/* Global settings a reload cannot apply: writes their names, comma
 * separated, into buf ("" when none). Returns how many. */
int nl__reload_global_changes(const nl_config *old, const nl_config *next, char *buf, size_t n);

/* ================================================================ mounts */

/* The paths one camera stream is served at, in nl_config_camera_paths()
 * order (the plain "/NAME" first when this stream is the camera's first).
 * Transcoded paths are left out. Returns the count (<= cap). */
size_t nl__mount_paths(const nl_config_camera *cam, nl_camera_stream stream, nl_config_path *out,
                       size_t cap);

/* Which camera streams a camera serves (by its `stream:` setting). */
bool nl__camera_serves(const nl_config_camera *cam, nl_camera_stream stream);

/* ================================================================ runtime */

typedef struct nl__camera_rt nl__camera_rt;
typedef struct nl__stream_hub nl__stream_hub;

typedef enum nl__srv_state {
    NL_SRV_RUNNING = 0,
    NL_SRV_STOPPING = 1,
    NL_SRV_DONE = 2,
} nl__srv_state;

struct nl_server {
    nl_ctx *ctx;
    nl_loop *loop;
    nl_config *cfg; /* owned */
    nl__srv_state state;

    /* options (strings copied) */
    char *opt_bind;
    int opt_port;
    char *opt_http;
    int opt_demo;
    int opt_log_locked;
    uint32_t opt_block_ms;

    nl_rtsp_server *rtsp;
    bool rtsp_stopped;
    nl_http_server *http;
    nl_watchdog *wd;
    nl_activity act;
    nl_sdnotify *sd;
    char sd_status[128]; /* last STATUS= sent */

    /* demo mode: an in-process simulated camera */
    nl_sim *demo_sim;
    nl_config_camera demo_cam;

    nl_list cameras;  /* nl__camera_rt in service */
    nl_list retiring; /* nl__camera_rt logging out (reload, shutdown) */

    /* shutdown */
    uint64_t stop_started;
    uint64_t stop_deadline;
    nl_timer stop_timer;
    nl_timer done_timer;
    nl_server_done_fn on_done;
    void *done_ud;

    /* figures */
    uint64_t reloads;
    uint64_t retired_reconnects; /* reconnects of runtimes that are gone */
    uint64_t teardown_last_ns, teardown_max_ns;

    struct nl__snapsvc *snap; /* GET /snapshot/ (server/snapshot.h); NULL without HTTP */

    nl_timer test_block_timer;
    nl_timer viewers_timer; /* viewer join/leave log */
    struct nl__viewer_seen *seen;
    size_t nseen, seen_cap;
};

/* Runtime state of a camera, as neolink_camera_state reports it. */
typedef enum nl__rt_state {
    NL_RT_STOPPED = 0,
    NL_RT_CONNECTING = 1,
    NL_RT_CONNECTED = 2,
    NL_RT_STREAMING = 3,
    NL_RT_BACKOFF = 4,
    NL_RT_CLOSING = 5,
} nl__rt_state;

struct nl__camera_rt {
    nl_list node;
    nl_server *srv;
    const nl_config_camera *cfg; /* the entry in force; NULL once retiring */
    char name[NL_CONFIG_NAME_MAX + 1];
    char who[NL_CONFIG_NAME_MAX + 16]; /* "camera NAME" */
    nl_camera *cam;
    nl__rt_state state;
    bool logged_in;
    bool closing;
    nl__backoff backoff;
    nl_timer retry_timer;
    uint64_t connects;   /* attempts */
    uint64_t reconnects; /* attempts after the first */
    uint64_t lost_at;    /* loop time the connection was lost (0: up or never) */
    uint64_t close_started;
    int last_error;
    char last_detail[160];
    nl__stream_hub *hub[NL_CAMERA_STREAM_COUNT];
};

/* One RTSP path of a stream. */
typedef struct nl__hub_mount {
    nl_rtsp_mount *m;
    bool active; /* has a playing client (demand callbacks) */
    bool alias;
    char path[NL_CONFIG_PATH_MAX];
} nl__hub_mount;

/* The transcoded paths of a stream and their transcoder (`transcode:`). */
typedef struct nl__xcode {
    nl__hub_mount mounts[NL_CONFIG_PATHS_MAX];
    size_t nmounts;
    struct nl_transcoder *t; /* running while a transcoded path has a viewer */
    AVCodecParameters *vpar; /* output: a template (codec, size) until the encoder's */
    bool with_audio;         /* the mounts carry the stream's audio track */
    bool probing;            /* run once to learn the output's parameter sets */
    bool synced;             /* the transcoder got its first key frame */
    uint64_t hold_until;     /* after a DESCRIBE that came before them */
    uint64_t retry_at;
    uint64_t starts;
} nl__xcode;

struct nl__stream_hub {
    nl__camera_rt *rt;
    nl_camera_stream kind;
    char who[NL_CONFIG_NAME_MAX + 24]; /* "camera NAME main" */

    /* mounts: every plain path of this stream */
    nl__hub_mount mounts[NL_CONFIG_PATHS_MAX];
    size_t nmounts;
    nl__xcode *xc;     /* NULL without `transcode:` */
    bool mounts_final; /* carry the learnt tracks (else: placeholders answering 503) */

    /* format learnt from the camera, kept across reconnects */
    AVCodecParameters *vpar;     /* NULL until the parameter sets arrived */
    AVCodecParameters *apar;     /* audio track of the mounts; NULL: none */
    struct nl_audio_conv *aconv; /* ADPCM -> AAC/PCMU/PCMA; NULL: AAC passed through */
    AVPacket *apkt;              /* converter output, reused */
    bool audio_seen;
    uint64_t first_params_at; /* loop time the video params arrived this probe */

    /* demand */
    bool running;     /* start requested, not stopped or failed */
    bool started;     /* the camera confirmed the start */
    bool stopping;    /* a stop is pending at the camera */
    bool probing;     /* started to learn the format */
    bool unavailable; /* the camera refused it (until the next login) */
    uint64_t probe_deadline;
    uint64_t hold_until;
    uint64_t retry_at; /* no start request before this loop time */
    int fail_pending;  /* a stream failure to report from the timer (0: none) */
    nl_timer timer;

    nl__clock_map clock;
    uint64_t last_video_at; /* loop time of the last video packet (0: never) */
    uint64_t runs;

    struct nl__snap_feed *snap; /* latest key frame for snapshots (server/snapshot.h) */
};

/* server.c */
void nl__server_check_done(nl_server *srv);
/* A retiring runtime finished closing: records the teardown time and frees
 * it (also from inside its camera's callback: nothing may touch rt after). */
void nl__server_rt_closed(nl_server *srv, nl__camera_rt *rt);
/* Deadline in ms left for closes during a shutdown, else the default. */
uint32_t nl__server_close_ms(const nl_server *srv);

/* camera_rt.c */
int nl__camera_rt_create(nl_server *srv, const nl_config_camera *cam, nl__camera_rt **out);
/* Closes the session politely within timeout_ms and frees the runtime when
 * it is done (nl__server_rt_closed). Its mounts are removed at once when
 * remove_mounts, else left to the RTSP server's destroy. */
void nl__camera_rt_retire(nl__camera_rt *rt, uint32_t timeout_ms, bool remove_mounts);
/* Frees at once (no logout). */
void nl__camera_rt_destroy(nl__camera_rt *rt);
bool nl__camera_rt_logged_in(const nl__camera_rt *rt);
const char *nl__rt_state_name(nl__rt_state s);

/* stream_hub.c */
int nl__hub_create(nl__camera_rt *rt, nl_camera_stream kind, nl__stream_hub **out);
void nl__hub_destroy(nl__stream_hub **hub, bool remove_mounts);
/* Re-evaluates whether the stream must run and starts/stops it. */
void nl__hub_update(nl__stream_hub *hub);
/* The camera logged in (READY): probe the format when unknown, restart
 * what must run. */
void nl__hub_on_login(nl__stream_hub *hub);
/* The connection is gone: the stream is not running any more. */
void nl__hub_on_down(nl__stream_hub *hub);
void nl__hub_on_stream(nl__stream_hub *hub, nl_camera_stream_event ev, int error);
void nl__hub_on_params(nl__stream_hub *hub, const AVCodecParameters *par);
void nl__hub_on_packet(nl__stream_hub *hub, AVPacket *pkt, const nl_media_meta *meta);
/* Demand callback of the hub's mounts (PLAY, IDLE, DESCRIBE). */
void nl__hub_on_demand(nl__stream_hub *hub, nl_rtsp_mount *m, nl_rtsp_demand what);
/* Viewers (playing sessions) over every mount of the stream; dropped
 * frames and the largest queue, summed/maxed over them. */
typedef struct nl__hub_figures {
    size_t viewers;
    uint64_t dropped;
    size_t queue_peak_bytes;
} nl__hub_figures;
void nl__hub_figures_get(const nl__stream_hub *hub, nl__hub_figures *f);

/* stream_transcode.c */
/* The transcoded paths of a camera stream (nl_config_camera_paths order). */
size_t nl__xcode_paths(const nl_config_camera *cam, nl_camera_stream stream, nl_config_path *out,
                       size_t cap);
int nl__xcode_create(nl__stream_hub *hub); /* 0 and no xc without transcoded paths */
void nl__xcode_destroy(nl__stream_hub *hub);
bool nl__xcode_viewers(const nl__stream_hub *hub);
/* Starts or stops the transcoder by demand (called by nl__hub_update). */
void nl__xcode_update(nl__stream_hub *hub);
/* A camera video packet (output timeline) for the transcoder. */
void nl__xcode_video(nl__stream_hub *hub, const AVPacket *pkt);
/* An audio packet (output timeline) for the transcoded mounts. */
void nl__xcode_audio(nl__stream_hub *hub, const AVPacket *pkt);

/* mounts.c */
/* Creates every mount of the hub: placeholders (503 until the format is
 * known) or the learnt tracks. Existing mounts are removed first. */
int nl__hub_mounts_create(nl__stream_hub *hub);
void nl__hub_mounts_remove(nl__stream_hub *hub);

/* status.c */
int nl__status_start(nl_server *srv);
void nl__status_stop(nl_server *srv);
void nl__status_sd_update(nl_server *srv);
void nl__viewers_poll_start(nl_server *srv);
void nl__viewers_poll_stop(nl_server *srv);

/* reload.c */
int nl__server_apply_reload(nl_server *srv, nl_config *next);

/* demo.c */
int nl__demo_start(nl_server *srv);
void nl__demo_stop(nl_server *srv);

#endif
