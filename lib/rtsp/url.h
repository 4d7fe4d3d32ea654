/* Request URL parsing and lenient mount matching.
 *
 * Clients address the same stream in many spellings (RTSP.md §2.3):
 *   rtsp://h:8554/cam          DESCRIBE (ffmpeg, GStreamer)
 *   rtsp://h:8554/cam/         PLAY/TEARDOWN on Content-Base (aggregate)
 *   rtsp://h:8554/cam/streamid=0   SETUP on our a=control
 *   rtsp://h/cam/trackID=1, /cam/track1, /cam/stream=0   other servers' styles
 *   /cam?video=h264            relative, with a go2rtc-style query
 * so a URL is reduced to a percent-decoded path without trailing '/', query
 * or fragment, plus an optional control suffix (the last segment) telling the
 * track. nl_rtsp_url_match() compares that against a configured mount.
 *
 * Userinfo (rtsp://user:pass@host/) is skipped and never stored, so a parsed
 * URL can be logged. Everything is bounded by limits.h; nothing allocates. */
#ifndef NL_RTSP_URL_H
#define NL_RTSP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtsp/limits.h"
#include "rtsp/parse.h"

typedef enum nl_rtsp_track_style {
    NL_RTSP_TRACK_NONE = 0,
    NL_RTSP_TRACK_STREAMID, /* streamid=N (ours: av_sdp_create writes it, 0-based) */
    NL_RTSP_TRACK_TRACKID,  /* trackID=N (gortsplib, many cameras) */
    NL_RTSP_TRACK_STREAM,   /* stream=N (gst-rtsp-server) */
    NL_RTSP_TRACK_TRACK,    /* trackN (live555, usually 1-based) */
} nl_rtsp_track_style;

typedef struct nl_rtsp_url {
    bool star;         /* the request URL was "*" (OPTIONS *) */
    bool absolute;     /* had a scheme and authority */
    nl_rtsp_span host; /* as written, brackets removed for IPv6; may be empty */
    bool has_port;
    uint16_t port;
    /* Decoded, normalised path: starts with '/', no trailing '/', no empty
     * segments, no query/fragment; "/" for the root. NUL-terminated. */
    char path[NL_RTSP_MAX_PATH + 1];
    size_t path_len;
    /* Length of the path without the control suffix ("/cam" of
     * "/cam/streamid=0"); == path_len when there is none. */
    size_t mount_len;
    nl_rtsp_track_style track_style;
    int track;           /* suffix number as written, or -1 */
    bool trailing_slash; /* the path ended in '/' (aggregate Content-Base URL) */
    nl_rtsp_span query;  /* after '?', without it; raw (not decoded) */
} nl_rtsp_url;

/* Parses a request URL: "*", "rtsp://host[:port][/path]" (scheme rtsp or
 * rtspu, any case; IPv6 in brackets), or an absolute path "/path".
 * 0; NL_EPROTO for anything malformed (bad scheme, port, percent escape,
 * %00, control characters) - answer 400; NL_ETOOBIG when the decoded path
 * exceeds NL_RTSP_MAX_PATH - answer 414. */
int nl_rtsp_url_parse(nl_rtsp_span raw, nl_rtsp_url *out);

/* Does the URL address `mount` ("cam", "/cam" or "/cam/": leading and
 * trailing slashes do not matter)? First the whole path is compared, so a
 * mount literally named ".../track1" still works; then the path without its
 * control suffix. *track receives -1 for the aggregate URL, else the suffix
 * number. Case-sensitive, like paths. */
bool nl_rtsp_url_match(const nl_rtsp_url *u, const char *mount, int *track);

#endif
