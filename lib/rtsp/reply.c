/* RTSP response builder. See reply.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "neolink/error.h"
#include "rtsp/reply.h"

static const struct {
    int code;
    const char *reason;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {250, "Low on Storage Space"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Time-out"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Large"},
    {415, "Unsupported Media Type"},
    {451, "Parameter Not Understood"},
    {452, "Conference Not Found"},
    {453, "Not Enough Bandwidth"},
    {454, "Session Not Found"},
    {455, "Method Not Valid in This State"},
    {456, "Header Field Not Valid for Resource"},
    {457, "Invalid Range"},
    {458, "Parameter Is Read-Only"},
    {459, "Aggregate operation not allowed"},
    {460, "Only aggregate operation allowed"},
    {461, "Unsupported transport"},
    {462, "Destination unreachable"},
    {463, "Destination Prohibited"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Time-out"},
    {505, "RTSP Version not supported"},
    {551, "Option not supported"},
};

/* Listed in Public/Allow; ANNOUNCE/RECORD are recognised but not served. */
static const char methods_list[] =
    "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER";

const char *nl_rtsp_reason(int status)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == status)
            return reasons[i].reason;
    return NULL;
}

static const char *class_reason(int status)
{
    switch (status / 100) {
    case 1:
        return "Informational";
    case 2:
        return "OK";
    case 3:
        return "Redirection";
    case 4:
        return "Client Error";
    case 5:
        return "Server Error";
    default:
        return "Error";
    }
}

static void set_err(nl_rtsp_reply *r, int err)
{
    if (!r->err)
        r->err = err;
}

/* Appends raw bytes, or records NL_ETOOBIG (keeping one byte for the NUL). */
static void put(nl_rtsp_reply *r, const void *p, size_t n)
{
    if (r->err)
        return;
    if (n >= r->cap - r->len) {
        set_err(r, NL_ETOOBIG);
        return;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
    r->buf[r->len] = '\0';
}

static void puts_(nl_rtsp_reply *r, const char *s)
{
    put(r, s, strlen(s));
}

static bool name_ok(const char *name)
{
    if (!name || !*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!nl_rtsp_is_token_char((unsigned char)*p))
            return false;
    return true;
}

static bool value_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
            return false;
    return true;
}

static void putf(nl_rtsp_reply *r, const char *fmt, ...) NL_PRINTF(2, 3);
static void putf(nl_rtsp_reply *r, const char *fmt, ...)
{
    if (r->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = r->cap - r->len;
    int n = vsnprintf(r->buf + r->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        r->buf[r->len] = '\0';
        set_err(r, NL_ETOOBIG);
        return;
    }
    r->len += (size_t)n;
}

void nl_rtsp_reply_begin(nl_rtsp_reply *r, char *buf, size_t cap, int status, int64_t cseq)
{
    r->buf = buf;
    r->cap = cap;
    r->len = 0;
    r->err = 0;
    if (!buf || cap == 0) {
        r->cap = 0;
        r->err = NL_ETOOBIG;
        return;
    }
    buf[0] = '\0';
    if (status < 100 || status > 699) {
        set_err(r, NL_EINVAL);
        return;
    }
    const char *reason = nl_rtsp_reason(status);
    putf(r, "RTSP/1.0 %d %s\r\n", status, reason ? reason : class_reason(status));
    if (cseq >= 0 && cseq <= UINT32_MAX)
        putf(r, "CSeq: %u\r\n", (unsigned)cseq);
}

void nl_rtsp_reply_header_span(nl_rtsp_reply *r, const char *name, nl_rtsp_span value)
{
    if (r->err)
        return;
    if (!name_ok(name) || (value.n && !value.p) || !value_ok(value.p, value.n)) {
        set_err(r, NL_EINVAL);
        return;
    }
    puts_(r, name);
    put(r, ": ", 2);
    put(r, value.p, value.n);
    put(r, "\r\n", 2);
}

void nl_rtsp_reply_header(nl_rtsp_reply *r, const char *name, const char *value)
{
    if (!value) {
        set_err(r, NL_EINVAL);
        return;
    }
    nl_rtsp_reply_header_span(r, name, nl_rtsp_span_make(value, strlen(value)));
}

void nl_rtsp_reply_headerf(nl_rtsp_reply *r, const char *name, const char *fmt, ...)
{
    if (r->err)
        return;
    if (!name_ok(name)) {
        set_err(r, NL_EINVAL);
        return;
    }
    size_t start = r->len;
    puts_(r, name);
    put(r, ": ", 2);
    if (r->err)
        return;
    size_t vstart = r->len;
    va_list ap;
    va_start(ap, fmt);
    size_t room = r->cap - r->len;
    int n = vsnprintf(r->buf + r->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        set_err(r, NL_ETOOBIG);
    } else {
        r->len += (size_t)n;
        if (!value_ok(r->buf + vstart, (size_t)n))
            set_err(r, NL_EINVAL);
    }
    if (r->err) {
        r->len = start;
        r->buf[start] = '\0';
        return;
    }
    put(r, "\r\n", 2);
}

void nl_rtsp_reply_server(nl_rtsp_reply *r, const char *product)
{
    nl_rtsp_reply_header(r, "Server", product);
}

void nl_rtsp_reply_date(nl_rtsp_reply *r, time_t t)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11) {
        set_err(r, NL_EINVAL);
        return;
    }
    nl_rtsp_reply_headerf(r, "Date", "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                          tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                          tm.tm_sec);
}

void nl_rtsp_reply_session(nl_rtsp_reply *r, const char *id, int timeout_s)
{
    if (!id || !*id || strchr(id, ';')) {
        set_err(r, NL_EINVAL);
        return;
    }
    if (timeout_s > 0)
        nl_rtsp_reply_headerf(r, "Session", "%s;timeout=%d", id, timeout_s);
    else
        nl_rtsp_reply_header(r, "Session", id);
}

void nl_rtsp_reply_public(nl_rtsp_reply *r)
{
    nl_rtsp_reply_header(r, "Public", methods_list);
}

void nl_rtsp_reply_allow(nl_rtsp_reply *r)
{
    nl_rtsp_reply_header(r, "Allow", methods_list);
}

void nl_rtsp_reply_content_base(nl_rtsp_reply *r, nl_rtsp_span url)
{
    if (r->err)
        return;
    if (url.n == 0 || !url.p || !value_ok(url.p, url.n)) {
        set_err(r, NL_EINVAL);
        return;
    }
    bool slash = url.p[url.n - 1] == '/';
    puts_(r, "Content-Base: ");
    put(r, url.p, url.n);
    if (!slash)
        put(r, "/", 1);
    put(r, "\r\n", 2);
}

void nl_rtsp_reply_transport(nl_rtsp_reply *r, const nl_rtsp_transport *t)
{
    if (r->err)
        return;
    char value[192];
    int n = nl_rtsp_transport_format(t, value, sizeof value);
    if (n < 0) {
        set_err(r, n);
        return;
    }
    nl_rtsp_reply_header(r, "Transport", value);
}

void nl_rtsp_reply_www_authenticate(nl_rtsp_reply *r, const char *challenge)
{
    nl_rtsp_reply_header(r, "WWW-Authenticate", challenge);
}

void nl_rtsp_reply_rtp_info(nl_rtsp_reply *r, const nl_rtsp_rtp_info *streams, size_t n)
{
    if (r->err || n == 0)
        return;
    size_t start = r->len;
    puts_(r, "RTP-Info: ");
    for (size_t i = 0; i < n && !r->err; i++) {
        const char *url = streams[i].url;
        /* ',' and ';' separate entries and parameters, so a URL holding
         * them would be ambiguous; our URLs never do. */
        if (!url || !*url || !value_ok(url, strlen(url)) || strpbrk(url, ",;")) {
            set_err(r, NL_EINVAL);
            break;
        }
        putf(r, "%surl=%s;seq=%u;rtptime=%u", i ? "," : "", url, (unsigned)streams[i].seq,
             (unsigned)streams[i].rtptime);
    }
    put(r, "\r\n", 2);
    if (r->err) {
        r->len = start;
        r->buf[start] = '\0';
    }
}

int nl_rtsp_reply_finish(nl_rtsp_reply *r, const char *content_type, const void *body,
                         size_t body_len)
{
    if (body_len && !body)
        set_err(r, NL_EINVAL);
    if (body_len) {
        if (content_type)
            nl_rtsp_reply_header(r, "Content-Type", content_type);
        nl_rtsp_reply_headerf(r, "Content-Length", "%zu", body_len);
    }
    put(r, "\r\n", 2);
    if (body_len)
        put(r, body, body_len);
    if (r->len > INT32_MAX)
        set_err(r, NL_ETOOBIG);
    if (r->err) {
        r->len = 0;
        if (r->buf && r->cap)
            r->buf[0] = '\0';
        return r->err;
    }
    return (int)r->len;
}
