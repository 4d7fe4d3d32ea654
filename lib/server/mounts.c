/* The RTSP mounts of a camera stream: neolink's paths and their aliases
 * ("/yard", "/yard/main", "/yard/mainStream", ...; the list is the
 * configuration module's, nl_config_camera_paths), who may watch them, and
 * their tracks. A stream whose format is not known yet gets placeholder
 * mounts that answer DESCRIBE with 503 at once (and tell the hub, which
 * starts the stream so a retry succeeds); once known, real ones. */
#include <string.h>

#include "core/log.h"
#include "neolink/error.h"
#include "server/server_int.h"

static const nl_config_stream cfg_stream_of[NL_CAMERA_STREAM_COUNT] = {
    NL_CFG_STREAM_MAIN, NL_CFG_STREAM_SUB, NL_CFG_STREAM_EXTERN};

bool nl__camera_serves(const nl_config_camera *cam, nl_camera_stream stream)
{
    if (!cam || stream < 0 || stream >= NL_CAMERA_STREAM_COUNT)
        return false;
    switch (cam->stream) {
    case NL_CFG_STREAM_ALL:
        return true;
    case NL_CFG_STREAM_BOTH:
        return stream == NL_CAMERA_STREAM_MAIN || stream == NL_CAMERA_STREAM_SUB;
    case NL_CFG_STREAM_MAIN:
        return stream == NL_CAMERA_STREAM_MAIN;
    case NL_CFG_STREAM_SUB:
        return stream == NL_CAMERA_STREAM_SUB;
    case NL_CFG_STREAM_EXTERN:
        return stream == NL_CAMERA_STREAM_EXTERN;
    }
    return false;
}

size_t nl__mount_paths(const nl_config_camera *cam, nl_camera_stream stream, nl_config_path *out,
                       size_t cap)
{
    if (!cam || stream < 0 || stream >= NL_CAMERA_STREAM_COUNT)
        return 0;
    nl_config_path all[NL_CONFIG_PATHS_MAX];
    size_t n = nl_config_camera_paths(cam, all, NL_CONFIG_PATHS_MAX);
    if (n > NL_CONFIG_PATHS_MAX)
        n = NL_CONFIG_PATHS_MAX;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* Transcoded paths come from a transcoder, not from this stream. */
        if (all[i].transcoded || all[i].stream != cfg_stream_of[stream])
            continue;
        if (k < cap)
            out[k++] = all[i];
    }
    return k;
}

static void demand_cb(void *ud, nl_rtsp_mount *m, nl_rtsp_demand what)
{
    nl__hub_on_demand(ud, m, what);
}

void nl__hub_mounts_remove(nl__stream_hub *h)
{
    for (size_t i = 0; i < h->nmounts; i++) {
        nl_rtsp_mount_remove(&h->mounts[i].m);
        h->mounts[i].active = false;
    }
    for (size_t i = 0; h->xc && i < h->xc->nmounts; i++) {
        nl_rtsp_mount_remove(&h->xc->mounts[i].m);
        h->xc->mounts[i].active = false;
    }
}

/* Mounts every path of one set with the same tracks; returns the first
 * failure (each one is logged; the other paths still serve). */
static int mount_set(nl__stream_hub *h, nl__hub_mount *set, size_t n,
                     const nl_rtsp_track_config *tracks, int ntracks,
                     nl_rtsp_not_ready_policy policy, const char *const *allowed)
{
    nl_server *srv = h->rt->srv;
    int first_err = 0;
    for (size_t i = 0; i < n; i++) {
        nl_rtsp_mount_config mc = {
            .path = set[i].path,
            .tracks = tracks,
            .n_tracks = ntracks,
            .users = allowed,
            /* `permitted_users: [anyone]`: no login here even when users exist */
            .no_login = nl_config_camera_allows(srv->cfg, h->rt->cfg, NULL) != 0,
            .max_clients = h->rt->cfg->max_clients,
            .not_ready = policy,
            .on_demand = demand_cb,
            .ud = h,
        };
        int rc = nl_rtsp_mount_create(srv->rtsp, &mc, &set[i].m);
        if (rc < 0) {
            NL_LOGE(srv->ctx, h->who, "cannot mount %s: %s", set[i].path, nl_strerror(rc));
            if (!first_err)
                first_err = rc;
        }
    }
    return first_err;
}

int nl__hub_mounts_create(nl__stream_hub *h)
{
    nl_server *srv = h->rt->srv;
    const nl_config_camera *cc = h->rt->cfg;
    if (!cc || !srv->rtsp)
        return NL_ESTATE;
    nl__hub_mounts_remove(h);

    /* Who may watch: nobody is asked to log in when the camera allows
     * anyone or no user is configured; else its permitted users (NULL:
     * every configured account). */
    const char *users[NL_CONFIG_MAX_USERS + 1];
    const char *const *allowed = NULL;
    const nl_config *cfg = srv->cfg;
    if (cc->permitted_users && !nl_config_camera_allows(cfg, cc, NULL)) {
        size_t k = 0;
        for (size_t i = 0; i < cc->permitted_user_count && k < NL_CONFIG_MAX_USERS; i++)
            users[k++] = cc->permitted_users[i];
        users[k] = NULL;
        allowed = users;
    }

    if (!h->mounts_final || !h->vpar) {
        /* No SDP can be made without the parameter sets: the mount
         * refuses DESCRIBE (503) and reports it, which starts the stream. */
        AVCodecParameters *placeholder = avcodec_parameters_alloc();
        if (!placeholder)
            return NL_ENOMEM;
        placeholder->codec_type = AVMEDIA_TYPE_VIDEO;
        placeholder->codec_id = AV_CODEC_ID_H264;
        nl_rtsp_track_config t = {placeholder, {1, 1000000}};
        int rc = mount_set(h, h->mounts, h->nmounts, &t, 1, NL_RTSP_NOT_READY_REFUSE, allowed);
        if (h->xc) {
            int rx = mount_set(h, h->xc->mounts, h->xc->nmounts, &t, 1, NL_RTSP_NOT_READY_REFUSE,
                               allowed);
            rc = rc ? rc : rx;
        }
        avcodec_parameters_free(&placeholder);
        return rc;
    }
    nl_rtsp_track_config tracks[2];
    int ntracks = 0;
    tracks[ntracks++] = (nl_rtsp_track_config){h->vpar, {1, 1000000}};
    if (h->apar)
        tracks[ntracks++] = (nl_rtsp_track_config){h->apar, {1, 1000000}};
    int rc =
        mount_set(h, h->mounts, h->nmounts, tracks, ntracks, NL_RTSP_NOT_READY_DESCRIBE, allowed);
    if (h->xc) {
        /* Transcoded: the encoder's parameters come with its first output;
         * until then DESCRIBE answers from the codec alone. */
        tracks[0].par = h->xc->vpar;
        h->xc->with_audio = h->apar != NULL;
        int rx = mount_set(h, h->xc->mounts, h->xc->nmounts, tracks, ntracks,
                           NL_RTSP_NOT_READY_DESCRIBE, allowed);
        rc = rc ? rc : rx;
    }
    return rc;
}
