/* SDP through av_sdp_create, plus the two session-level attributes it does
 * not write in FFmpeg 5.1 (a=control:* and a=range:npt=now-). */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <libavutil/dict.h>

#include "neolink/error.h"
#include "rtp/sdp.h"

/* Start of the first media section ("m=" at a line start), or NULL. */
static char *first_media(char *sdp)
{
    if (strncmp(sdp, "m=", 2) == 0)
        return sdp;
    char *p = strstr(sdp, "\nm=");
    return p ? p + 1 : NULL;
}

/* True when the session part [sdp, end) has a line starting with `attr`. */
static bool session_has(const char *sdp, const char *end, const char *attr)
{
    size_t n = strlen(attr);
    for (const char *line = sdp; line < end;) {
        if ((size_t)(end - line) >= n && strncmp(line, attr, n) == 0)
            return true;
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            break;
        line = nl + 1;
    }
    return false;
}

/* Inserts text at `at` inside the NUL-terminated buf of capacity size. */
static int insert_at(char *buf, size_t size, char *at, const char *text)
{
    size_t len = strlen(buf), n = strlen(text);
    if (len + n + 1 > size)
        return NL_ETOOBIG;
    memmove(at + n, at, len - (size_t)(at - buf) + 1);
    memcpy(at, text, n);
    return 0;
}

static int add_session_attrs(char *buf, size_t size)
{
    char *m = first_media(buf);
    if (!m)
        return NL_ECODEC;
    int rc = 0;
    if (!session_has(buf, m, "a=control:"))
        rc = insert_at(buf, size, m, "a=control:*\r\n");
    m = first_media(buf);
    if (rc == 0 && !session_has(buf, m, "a=range:"))
        rc = insert_at(buf, size, m, "a=range:npt=now-\r\n");
    return rc;
}

int nl_rtp_sdp_build(nl_rtp_mux *const *tracks, int n, const char *session_name, char *buf,
                     size_t size)
{
    if (!buf || size < NL_SDP_MIN_BUF)
        return NL_EINVAL;
    buf[0] = '\0';
    if (!tracks || n < 1 || n > NL_SDP_MAX_TRACKS)
        return NL_EINVAL;
    AVFormatContext *ac[NL_SDP_MAX_TRACKS];
    for (int i = 0; i < n; i++) {
        if (!tracks[i] || nl_rtp_mux_track(tracks[i]) != i)
            return NL_EINVAL;
        ac[i] = nl__rtp_mux_avctx(tracks[i]);
    }
    /* av_sdp_create takes s= from the first context's "title". */
    int rc = session_name ? av_dict_set(&ac[0]->metadata, "title", session_name, 0)
                          : av_dict_set(&ac[0]->metadata, "title", NULL, 0);
    if (rc < 0)
        return NL_ENOMEM;

    int isize = size > INT_MAX ? INT_MAX : (int)size;
    rc = av_sdp_create(ac, n, buf, isize);
    if (rc < 0) {
        buf[0] = '\0';
        return rc == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ECODEC;
    }
    /* av_sdp_create truncates silently; a full buffer means it may have. */
    size_t len = strlen(buf);
    if (len + 1 >= (size_t)isize) {
        buf[0] = '\0';
        return NL_ETOOBIG;
    }
    rc = add_session_attrs(buf, (size_t)isize);
    if (rc < 0) {
        buf[0] = '\0';
        return rc;
    }
    len = strlen(buf);
    return len > INT_MAX ? NL_ETOOBIG : (int)len;
}
