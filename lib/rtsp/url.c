/* Request URL parsing and mount matching. See url.h. */
#include <string.h>

#include "core/hex.h"
#include "neolink/error.h"
#include "rtsp/url.h"

static bool span_iprefix(nl_rtsp_span s, const char *prefix, nl_rtsp_span *rest)
{
    size_t n = strlen(prefix);
    if (s.n < n || !nl_rtsp_span_ieq(nl_rtsp_span_make(s.p, n), prefix))
        return false;
    *rest = nl_rtsp_span_make(s.p + n, s.n - n);
    return true;
}

/* Host and optional port of an authority (userinfo already removed). */
static int parse_hostport(nl_rtsp_span a, nl_rtsp_url *out)
{
    nl_rtsp_span port = nl_rtsp_span_make(NULL, 0);
    bool has_colon = false;
    if (a.n && a.p[0] == '[') {
        const char *close = memchr(a.p, ']', a.n);
        if (!close)
            return NL_EPROTO;
        out->host = nl_rtsp_span_make(a.p + 1, (size_t)(close - a.p - 1));
        const char *after = close + 1, *end = a.p + a.n;
        if (after < end) {
            if (*after != ':')
                return NL_EPROTO;
            has_colon = true;
            port = nl_rtsp_span_make(after + 1, (size_t)(end - after - 1));
        }
    } else {
        const char *colon = memchr(a.p, ':', a.n);
        out->host = nl_rtsp_span_make(a.p, colon ? (size_t)(colon - a.p) : a.n);
        if (colon) {
            has_colon = true;
            port = nl_rtsp_span_make(colon + 1, (size_t)(a.p + a.n - colon - 1));
        }
    }
    for (size_t i = 0; i < out->host.n; i++) {
        char c = out->host.p[i];
        if (c == '@' || c == '[' || c == ']' || c == '"' || c == '\\')
            return NL_EPROTO;
    }
    if (has_colon && port.n) { /* "host:" with an empty port means the default */
        uint32_t v;
        if (port.n > 5 || nl_rtsp_span_u32(port, &v) != 0 || v == 0 || v > 65535)
            return NL_EPROTO;
        out->has_port = true;
        out->port = (uint16_t)v;
    }
    return 0;
}

/* Appends the percent-decoded segment seg to out->path as "/seg". */
static int append_segment(nl_rtsp_span seg, nl_rtsp_url *out)
{
    if (out->path_len + 1 > NL_RTSP_MAX_PATH)
        return NL_ETOOBIG;
    out->path[out->path_len++] = '/';
    for (size_t i = 0; i < seg.n; i++) {
        unsigned char c = (unsigned char)seg.p[i];
        if (c == '%') {
            if (i + 2 >= seg.n)
                return NL_EPROTO;
            int hi = nl__hex_digit(seg.p[i + 1]), lo = nl__hex_digit(seg.p[i + 2]);
            if (hi < 0 || lo < 0)
                return NL_EPROTO;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return NL_EPROTO; /* includes %00: a NUL would cut the C string */
        if (out->path_len + 1 > NL_RTSP_MAX_PATH)
            return NL_ETOOBIG;
        out->path[out->path_len++] = (char)c;
    }
    return 0;
}

/* Recognises a control suffix in the last segment ("streamid=0"). */
static void find_track(nl_rtsp_url *out)
{
    const char *slash = memrchr(out->path, '/', out->path_len);
    if (!slash || slash == out->path) /* a single segment is the mount itself */
        return;
    nl_rtsp_span seg =
        nl_rtsp_span_make(slash + 1, (size_t)(out->path + out->path_len - (slash + 1)));
    static const struct {
        const char *prefix;
        nl_rtsp_track_style style;
    } styles[] = {
        {"streamid=", NL_RTSP_TRACK_STREAMID},
        {"trackid=", NL_RTSP_TRACK_TRACKID},
        {"stream=", NL_RTSP_TRACK_STREAM},
        {"track", NL_RTSP_TRACK_TRACK},
    };
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        nl_rtsp_span num;
        if (!span_iprefix(seg, styles[i].prefix, &num))
            continue;
        uint32_t v;
        if (num.n == 0 || num.n > 3 || nl_rtsp_span_u32(num, &v) != 0)
            return;
        out->track_style = styles[i].style;
        out->track = (int)v;
        out->mount_len = (size_t)(slash - out->path);
        return;
    }
}

int nl_rtsp_url_parse(nl_rtsp_span raw, nl_rtsp_url *out)
{
    memset(out, 0, sizeof *out);
    out->track = -1;
    if (raw.n == 0)
        return NL_EPROTO;
    for (size_t i = 0; i < raw.n; i++) {
        unsigned char c = (unsigned char)raw.p[i];
        if (c <= 0x20 || c == 0x7f)
            return NL_EPROTO;
    }
    if (raw.n == 1 && raw.p[0] == '*') {
        out->star = true;
        return 0;
    }

    const char *pos = raw.p, *end = raw.p + raw.n;
    if (raw.p[0] != '/') {
        nl_rtsp_span rest;
        if (!span_iprefix(raw, "rtsp://", &rest) && !span_iprefix(raw, "rtspu://", &rest))
            return NL_EPROTO;
        pos = rest.p;
        const char *auth_end = pos;
        while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
            auth_end++;
        nl_rtsp_span auth = nl_rtsp_span_make(pos, (size_t)(auth_end - pos));
        const char *at = memrchr(auth.p, '@', auth.n);
        if (at) /* skip userinfo: credentials never leave this function */
            auth = nl_rtsp_span_make(at + 1, (size_t)(auth.p + auth.n - (at + 1)));
        int rc = parse_hostport(auth, out);
        if (rc < 0)
            return rc;
        out->absolute = true;
        pos = auth_end;
    }

    const char *path_end = pos;
    while (path_end < end && *path_end != '?' && *path_end != '#')
        path_end++;
    if (path_end < end && *path_end == '?') {
        const char *q = path_end + 1, *qend = q;
        while (qend < end && *qend != '#')
            qend++;
        out->query = nl_rtsp_span_make(q, (size_t)(qend - q));
    }

    /* Segments, skipping empty ones ("//", trailing '/'). */
    const char *seg = pos;
    while (seg < path_end) {
        if (*seg == '/') {
            seg++;
            continue;
        }
        const char *seg_end = memchr(seg, '/', (size_t)(path_end - seg));
        if (!seg_end)
            seg_end = path_end;
        int rc = append_segment(nl_rtsp_span_make(seg, (size_t)(seg_end - seg)), out);
        if (rc < 0)
            return rc;
        seg = seg_end;
    }
    out->trailing_slash = path_end > pos && path_end[-1] == '/' && out->path_len > 0;
    if (out->path_len == 0)
        out->path[out->path_len++] = '/';
    out->path[out->path_len] = '\0';
    out->mount_len = out->path_len;
    find_track(out);
    return 0;
}

/* Compares the path part p[0..n) (which starts with '/') with a mount name
 * whose leading and trailing slashes are ignored. */
static bool path_is(const char *p, size_t n, const char *mount)
{
    size_t mlen = strlen(mount);
    while (mlen && *mount == '/') {
        mount++;
        mlen--;
    }
    while (mlen && mount[mlen - 1] == '/')
        mlen--;
    /* p is "/" for the root, else "/a/b". */
    if (n == 1)
        return mlen == 0;
    return n - 1 == mlen && memcmp(p + 1, mount, mlen) == 0;
}

bool nl_rtsp_url_match(const nl_rtsp_url *u, const char *mount, int *track)
{
    if (track)
        *track = -1;
    if (u->star || u->path_len == 0)
        return false;
    if (path_is(u->path, u->path_len, mount))
        return true;
    if (u->track_style != NL_RTSP_TRACK_NONE && path_is(u->path, u->mount_len, mount)) {
        if (track)
            *track = u->track;
        return true;
    }
    return false;
}
