/* A mount: a path, its tracks (codec parameters + one rtp muxer each), the
 * clients watching it, and the optional GOP cache.
 *
 * Fan-out: nl_rtsp_mount_push() packetizes an access unit once into a shared
 * frame and offers that frame to every playing session: a client that keeps
 * up gets it written at once from the shared bytes, one that lags queues a
 * reference. Clients per mount are counted from the mount's lists and its
 * playing array, never kept by hand.
 *
 * Clock: the first packet pushed fixes one origin (µs) and one wall-clock
 * start for every track, so the muxers' RTCP sender reports agree and clients
 * can sync audio to video. A source restart (pts jumping back, or far ahead)
 * is folded into a mount-wide offset so RTP time keeps running. */
#ifndef NL_RTSP_MOUNT_H
#define NL_RTSP_MOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include <libavcodec/codec_par.h>

#include "core/list.h"
#include "loop/loop_int.h"
#include "media/nal.h"
#include "neolink/rtsp.h"
#include "rtp/rtp_mux.h"
#include "rtp/sdp.h"
#include "rtsp/url.h"

typedef struct nl__rtsp_session nl__rtsp_session;

typedef struct nl__rtsp_track {
    AVCodecParameters *par;
    AVRational tb;
    nl_rtp_mux *mux;       /* created at the first packet of the track */
    nl_media_codec vcodec; /* H264/H265 for video tracks we learn parameter sets for */
    nl__psets *ps;         /* in-band parameter sets (video H.26x only) */
    /* For predicting the next frame's RTP-Info. */
    bool have_last;
    uint16_t next_seq;
    uint32_t last_rtptime;
    uint32_t rtptime_step;
    int64_t last_pts_us; /* after the mount offset */
    /* RTP time <-> mount time (µs) of one packet, to give every track of a
     * client's RTP-Info the RTP time of the SAME instant (its start). */
    bool have_anchor;
    uint32_t anchor_rtp;
    int64_t anchor_us;
    uint64_t frames_in, frames_lost;
} nl__rtsp_track;

typedef struct nl__gop_entry {
    nl_rtp_frame *f;
    uint64_t arrival;
} nl__gop_entry;

struct nl_rtsp_mount {
    nl_list node; /* server->mounts, or server->dead_mounts */
    nl_rtsp_server *srv;
    char *path; /* "/cam" */
    char *session_name;
    char **users; /* NULL-terminated, or NULL: everyone */
    bool no_login;  /* anyone may watch: no credentials asked (nl_rtsp_mount_config) */
    unsigned max_clients;
    bool gop_cache;
    nl_rtsp_not_ready_policy not_ready;
    nl_rtsp_demand_fn on_demand;
    void *ud;

    nl__rtsp_track tracks[NL_SDP_MAX_TRACKS];
    int ntracks;
    int video_track; /* the track whose keyframes are start points, -1: none */

    nl_list sessions; /* nl__rtsp_session.mount_node */
    /* The sessions that play, dense and unordered (a session knows its slot,
     * play_idx): the fan-out walks it with prefetching instead of chasing
     * list nodes through cold memory. Its length is the playing gauge. */
    nl__rtsp_session **playing;
    uint32_t nplaying, playing_cap;
    bool fanning;       /* inside the fan-out loop: removals leave holes */
    bool playing_holes; /* holes to squeeze out when the fan-out ends */

    bool have_origin;
    int64_t origin_us;
    int64_t start_realtime_us;
    int64_t offset_us;   /* added to every pts (source restarts) */
    uint64_t last_push;  /* loop clock of the last push */
    int64_t last_pts_us; /* latest pts pushed (any track, after offset) */

    char *sdp;   /* cached DESCRIBE body, rebuilt when parameters change */
    int sdp_len; /* < 0: invalid */

    nl__gop_entry *gop; /* GOP cache ring (gop_cache only) */
    uint32_t gop_cap, gop_len;
    size_t gop_bytes;
    bool gop_valid; /* starts with a keyframe */

    AVPacket *scratch; /* keyframes that need parameter sets prepended */

    bool dead;
    bool notified_active; /* demand state last reported */
    bool want_describe;   /* a DESCRIBE found the mount not ready */

    /* Totals of closed sessions (live ones are summed on demand). */
    uint64_t closed_sent, closed_dropped, closed_bytes, closed_overflows;
    size_t peak_bytes;
    uint32_t peak_frames;
};

/* Adds s to the playing array (growing it). 0 or NL_ENOMEM. */
int nl__rtsp_mount_add_player(nl_rtsp_mount *m, nl__rtsp_session *s);
/* Removes s from the playing array (swap with the last; a hole while the
 * fan-out walks the array). */
void nl__rtsp_mount_remove_player(nl_rtsp_mount *m, nl__rtsp_session *s);

/* Is frame f a point where a new client may start? */
bool nl__rtsp_mount_start_point(const nl_rtsp_mount *m, const nl_rtp_frame *f);
/* SDP for DESCRIBE: length, or a negative code (NL_ESTATE: not ready under
 * the REFUSE policy; NL_ECODEC: cannot be described). *sdp is borrowed until
 * the mount changes. */
int nl__rtsp_mount_sdp(nl_rtsp_mount *m, const char **sdp);
/* May `user` watch this mount? ("" when the server has no accounts.) */
bool nl__rtsp_mount_permits(const nl_rtsp_mount *m, const char *user);
/* Finds the mount a parsed URL addresses; *track gets -1 or the suffix. */
nl_rtsp_mount *nl__rtsp_mount_find(nl_rtsp_server *srv, const nl_rtsp_url *url, int *track);
/* Predicted RTP-Info of the next frame of track t: false when unknown. */
bool nl__rtsp_mount_predict(const nl_rtsp_mount *m, int t, uint16_t *seq, uint32_t *rtptime);
/* RTP timestamp of track t at mount time us (µs): false when unknown. */
bool nl__rtsp_mount_rtptime_at(const nl_rtsp_mount *m, int t, int64_t us, uint32_t *rtptime);
/* Mount time (µs) of a frame's access unit. */
int64_t nl__rtsp_mount_frame_us(const nl_rtsp_mount *m, const nl_rtp_frame *f);
/* Mount time (µs) now, extrapolated from the last push. */
int64_t nl__rtsp_mount_now_us(const nl_rtsp_mount *m, uint64_t now);
/* Closes every session of the mount through the ordinary error path. */
void nl__rtsp_mount_close_clients(nl_rtsp_mount *m, int why);
/* Frees a removed mount (from the server's reaper or destroy). */
void nl__rtsp_mount_free(nl_rtsp_mount *m);
/* Accumulates a closing session's counters into the mount's totals. */
void nl__rtsp_mount_account(nl_rtsp_mount *m, const nl__rtsp_session *s);

#endif
