/* SDP for a mount, built by av_sdp_create over the mount's per-track rtp
 * muxer contexts (one context per track, so each m= line carries the payload
 * type that track's muxer really sends; RTSP.md 1.4).
 *
 * What comes out, for video H.264 (track 0) + audio AAC (track 1):
 *
 *   v=0
 *   o=- 0 0 IN IP4 127.0.0.1
 *   s=<session name>
 *   t=0 0
 *   a=tool:libavformat ...
 *   a=control:*                 <- appended by us (session level)
 *   a=range:npt=now-            <- appended by us (live source)
 *   m=video 0 RTP/AVP 96
 *   c=IN IP4 0.0.0.0
 *   a=rtpmap:96 H264/90000
 *   a=fmtp:96 packetization-mode=1; sprop-parameter-sets=<SPS>,<PPS>; profile-level-id=...
 *   a=control:streamid=0
 *   m=audio 0 RTP/AVP 97
 *   ...
 *   a=control:streamid=1
 *
 * Control URLs the RTSP server must accept (Content-Base "<url>/"):
 *   track i:   "<url>/streamid=i" (absolute, or relative "streamid=i"); also
 *              "trackID=i" for clients that assume that naming
 *   aggregate: "<url>", "<url>/", and "*" (resolves to Content-Base)
 * With a single track av_sdp_create puts c= at session level instead of in
 * the media section; everything else is the same.
 *
 * Threads: call on the thread that runs the muxers (it reads their codec
 * parameters and writes the session title into track 0's context). Does not
 * block.
 */
#ifndef NL_RTP_SDP_H
#define NL_RTP_SDP_H

#include <stddef.h>

#include "rtp/rtp_mux.h"

/* Smallest buffer accepted: sprop strings of real cameras get long. */
#define NL_SDP_MIN_BUF 4096
/* Most tracks in one SDP. */
#define NL_SDP_MAX_TRACKS 8

/* Writes the SDP for tracks[0..n) into buf (NUL-terminated, CRLF lines).
 * tracks[i] must have been created with track index i, so that
 * "a=control:streamid=i" and interleaved channels 2i/2i+1 agree.
 * session_name becomes the s= line (NULL: "No Name").
 *
 * Returns the SDP length; NL_EINVAL (n out of 1..NL_SDP_MAX_TRACKS, a track
 * index mismatch, size < NL_SDP_MIN_BUF), NL_ETOOBIG (did not fit),
 * NL_ECODEC (libavformat cannot describe a track, e.g. AAC without
 * AudioSpecificConfig, H.265 without VPS/SPS/PPS), NL_ENOMEM. On error buf
 * holds an empty string. */
int nl_rtp_sdp_build(nl_rtp_mux *const *tracks, int n, const char *session_name, char *buf,
                     size_t size);

#endif
