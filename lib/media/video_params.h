/* Video codec parameters from in-band parameter sets: the cached VPS/SPS/PPS
 * (Annex-B extradata) plus width, height, profile and level.
 *
 * The numbers come from libavcodec's H.264/HEVC parsers, run only when the
 * cached sets change (normally once per stream). They handle the whole SPS
 * syntax (scaling lists, VUI, HEVC profile/tier/level with sub-layers,
 * cropping) and are fuzzed upstream, which a hand-written SPS reader would
 * have to re-earn; the cost is irrelevant at one run per change. */
#ifndef NL_MEDIA_VIDEO_PARAMS_H
#define NL_MEDIA_VIDEO_PARAMS_H

#include <libavcodec/codec_par.h>

#include "media/nal.h"
#include "neolink/media.h"

typedef struct nl__vparams {
    nl__psets ps;
    int width, height, profile, level;
    unsigned generation;
    int derived; /* the parser ran on the current sets */
} nl__vparams;

void nl__vparams_init(nl__vparams *vp);
/* Looks at the units before the first slice of a video access unit. Returns
 * 1 when the cached sets changed (dimensions re-derived), 0 when not, or
 * NL_ENOMEM (the sets are cached; dimensions stay unknown). scan (may be
 * NULL) gets what the head of the access unit holds. */
int nl__vparams_update(nl__vparams *vp, nl_media_codec codec, const uint8_t *au, size_t len,
                       nl__au_scan *scan);
void nl__vparams_format(const nl__vparams *vp, nl_media_video_format *f);
/* Fills codec id, size, profile, level and Annex-B extradata. NL_EAGAIN when
 * the sets are incomplete, NL_ENOMEM. */
int nl__vparams_to_codecpar(const nl__vparams *vp, AVCodecParameters *par);

#endif
