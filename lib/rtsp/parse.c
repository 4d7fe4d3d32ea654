/* RTSP request framing and head parsing. See parse.h for the contract and
 * docs/internals/RTSP-PARSING.md for the choices made on odd input. */
#include <string.h>

#include "neolink/error.h"
#include "rtsp/parse.h"

/* ------------------------------------------------------------ spans */

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool is_lws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool nl_rtsp_is_token_char(unsigned char c)
{
    /* RFC 2616 token: visible ASCII except the separators. */
    return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

bool nl_rtsp_span_eq(nl_rtsp_span s, const char *str)
{
    size_t n = strlen(str);
    return s.n == n && (n == 0 || memcmp(s.p, str, n) == 0);
}

bool nl_rtsp_span_ieq(nl_rtsp_span s, const char *str)
{
    size_t n = strlen(str);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)str[i]))
            return false;
    return true;
}

nl_rtsp_span nl_rtsp_span_trim(nl_rtsp_span s)
{
    while (s.n && is_lws((unsigned char)s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_lws((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

int nl_rtsp_span_u32(nl_rtsp_span s, uint32_t *out)
{
    if (s.n == 0 || s.n > 10)
        return NL_EPROTO;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < '0' || c > '9')
            return NL_EPROTO;
        v = v * 10 + (uint64_t)(c - '0');
    }
    if (v > UINT32_MAX)
        return NL_EPROTO;
    *out = (uint32_t)v;
    return 0;
}

/* ------------------------------------------------------------ methods */

static const char *const method_names[] = {
    [NL_RTSP_METHOD_UNKNOWN] = "UNKNOWN",
    [NL_RTSP_OPTIONS] = "OPTIONS",
    [NL_RTSP_DESCRIBE] = "DESCRIBE",
    [NL_RTSP_SETUP] = "SETUP",
    [NL_RTSP_PLAY] = "PLAY",
    [NL_RTSP_PAUSE] = "PAUSE",
    [NL_RTSP_TEARDOWN] = "TEARDOWN",
    [NL_RTSP_GET_PARAMETER] = "GET_PARAMETER",
    [NL_RTSP_SET_PARAMETER] = "SET_PARAMETER",
    [NL_RTSP_ANNOUNCE] = "ANNOUNCE",
    [NL_RTSP_RECORD] = "RECORD",
    [NL_RTSP_REDIRECT] = "REDIRECT",
};

const char *nl_rtsp_method_name(nl_rtsp_method m)
{
    if ((unsigned)m >= sizeof method_names / sizeof method_names[0])
        return "UNKNOWN";
    return method_names[m];
}

nl_rtsp_method nl_rtsp_method_from(nl_rtsp_span token)
{
    for (size_t i = 1; i < sizeof method_names / sizeof method_names[0]; i++)
        if (nl_rtsp_span_eq(token, method_names[i]))
            return (nl_rtsp_method)i;
    return NL_RTSP_METHOD_UNKNOWN;
}

/* ------------------------------------------------------------ framing */

void nl_rtsp_parser_init(nl_rtsp_parser *p)
{
    memset(p, 0, sizeof *p);
}

static void msg_reset(nl_rtsp_msg *out)
{
    /* `req` is 2 KiB; it is only written when a head is parsed, so a
     * byte-at-a-time client does not cost a 2 KiB memset per byte. */
    out->kind = NL_RTSP_MSG_NEED_MORE;
    out->consumed = 0;
    out->status = 0;
    out->err = 0;
    out->fatal = false;
    out->have_head = false;
    out->why = NULL;
    out->frame.channel = 0;
    out->frame.data = NULL;
    out->frame.len = 0;
}

static nl_rtsp_msg_kind fail(nl_rtsp_parser *p, nl_rtsp_msg *out, int status, int err, bool fatal,
                             const char *why)
{
    nl_rtsp_parser_init(p);
    out->kind = NL_RTSP_MSG_ERROR;
    out->status = status;
    out->err = err;
    out->fatal = fatal;
    out->why = why;
    if (fatal)
        out->consumed = 0;
    return out->kind;
}

/* Result of parsing a complete head. */
typedef struct head_result {
    int status; /* 0 = fine */
    int err;
    bool fatal;
    const char *why;
    size_t content_length;
} head_result;

static void head_error(head_result *hr, int status, int err, bool fatal, const char *why)
{
    /* The first fatal problem wins over any earlier non-fatal one. */
    if (hr->status && (hr->fatal || !fatal))
        return;
    hr->status = status;
    hr->err = err;
    hr->fatal = fatal;
    hr->why = why;
}

/* Splits off the next whitespace-separated word of the request line. */
static nl_rtsp_span next_word(const char **pos, const char *end)
{
    const char *p = *pos;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *w = p;
    while (p < end && *p != ' ' && *p != '\t')
        p++;
    *pos = p;
    return nl_rtsp_span_make(w, (size_t)(p - w));
}

static void parse_version(nl_rtsp_span v, nl_rtsp_request *r, head_result *hr)
{
    /* NAME "/" 1*3DIGIT "." 1*3DIGIT */
    size_t i = 0;
    while (i < v.n && v.p[i] != '/' && nl_rtsp_is_token_char((unsigned char)v.p[i]))
        i++;
    if (i == 0 || i >= v.n || v.p[i] != '/') {
        head_error(hr, 400, NL_EPROTO, true, "malformed protocol version");
        return;
    }
    nl_rtsp_span proto = nl_rtsp_span_make(v.p, i);
    unsigned nums[2] = {0, 0};
    size_t k = i + 1;
    for (int part = 0; part < 2; part++) {
        size_t digits = 0;
        while (k < v.n && v.p[k] >= '0' && v.p[k] <= '9' && digits < 3) {
            nums[part] = nums[part] * 10 + (unsigned)(v.p[k] - '0');
            k++;
            digits++;
        }
        if (digits == 0) {
            head_error(hr, 400, NL_EPROTO, true, "malformed protocol version");
            return;
        }
        if (part == 0) {
            if (k >= v.n || v.p[k] != '.') {
                head_error(hr, 400, NL_EPROTO, true, "malformed protocol version");
                return;
            }
            k++;
        }
    }
    if (k != v.n) {
        head_error(hr, 400, NL_EPROTO, true, "malformed protocol version");
        return;
    }
    r->version_major = nums[0];
    r->version_minor = nums[1];
    /* A well-formed request in another protocol or version is framed like
     * ours, so the server can answer 505 and keep the connection. */
    if (!nl_rtsp_span_eq(proto, "RTSP") || nums[0] != 1 || nums[1] != 0)
        head_error(hr, 505, NL_EPROTO, false, "unsupported protocol version");
}

static void parse_request_line(nl_rtsp_span line, nl_rtsp_request *r, head_result *hr)
{
    const char *pos = line.p, *end = line.p + line.n;
    nl_rtsp_span method = next_word(&pos, end);
    nl_rtsp_span url = next_word(&pos, end);
    nl_rtsp_span version = next_word(&pos, end);
    nl_rtsp_span extra = next_word(&pos, end);
    if (method.n == 0 || url.n == 0 || version.n == 0 || extra.n != 0) {
        head_error(hr, 400, NL_EPROTO, true, "malformed request line");
        return;
    }
    for (size_t i = 0; i < method.n; i++) {
        if (!nl_rtsp_is_token_char((unsigned char)method.p[i])) {
            head_error(hr, 400, NL_EPROTO, true, "malformed method");
            return;
        }
    }
    for (size_t i = 0; i < url.n; i++) {
        unsigned char c = (unsigned char)url.p[i];
        if (c < 0x21 || c == 0x7f) {
            head_error(hr, 400, NL_EPROTO, true, "control character in URL");
            return;
        }
    }
    r->method_name = method;
    r->method = nl_rtsp_method_from(method);
    r->url = url;
    parse_version(version, r, hr);
    if (url.n > NL_RTSP_MAX_URL)
        head_error(hr, 414, NL_ETOOBIG, false, "request URL too long");
}

static void parse_header_line(nl_rtsp_span line, nl_rtsp_request *r, head_result *hr)
{
    unsigned char c0 = (unsigned char)line.p[0];
    if (c0 == ' ' || c0 == '\t') {
        /* obs-fold: the line continues the previous header's value. */
        if (r->nheaders == 0) {
            head_error(hr, 400, NL_EPROTO, true, "continuation line without a header");
            return;
        }
        nl_rtsp_header *h = &r->headers[r->nheaders - 1];
        if (h->value.n == 0)
            h->value.p = line.p;
        h->value.n = (size_t)(line.p + line.n - h->value.p);
        h->value = nl_rtsp_span_trim(h->value);
        return;
    }
    const char *colon = memchr(line.p, ':', line.n);
    if (!colon) {
        head_error(hr, 400, NL_EPROTO, true, "header line without ':'");
        return;
    }
    nl_rtsp_span name = nl_rtsp_span_make(line.p, (size_t)(colon - line.p));
    while (name.n && (name.p[name.n - 1] == ' ' || name.p[name.n - 1] == '\t'))
        name.n--; /* "Name :" is tolerated */
    if (name.n == 0) {
        head_error(hr, 400, NL_EPROTO, true, "empty header name");
        return;
    }
    for (size_t i = 0; i < name.n; i++) {
        if (!nl_rtsp_is_token_char((unsigned char)name.p[i])) {
            head_error(hr, 400, NL_EPROTO, true, "malformed header name");
            return;
        }
    }
    if (r->nheaders >= NL_RTSP_MAX_HEADERS) {
        head_error(hr, 400, NL_ETOOBIG, true, "too many headers");
        return;
    }
    nl_rtsp_header *h = &r->headers[r->nheaders++];
    h->name = name;
    h->value =
        nl_rtsp_span_trim(nl_rtsp_span_make(colon + 1, (size_t)(line.p + line.n - (colon + 1))));
}

static void check_content_length(const nl_rtsp_request *r, head_result *hr)
{
    bool seen = false;
    uint32_t len = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!nl_rtsp_span_ieq(r->headers[i].name, "Content-Length"))
            continue;
        uint32_t v;
        if (nl_rtsp_span_u32(r->headers[i].value, &v) != 0) {
            head_error(hr, 400, NL_EPROTO, true, "malformed Content-Length");
            return;
        }
        if (seen && v != len) {
            head_error(hr, 400, NL_EPROTO, true, "conflicting Content-Length headers");
            return;
        }
        seen = true;
        len = v;
    }
    if (len > NL_RTSP_MAX_BODY) {
        head_error(hr, 413, NL_ETOOBIG, true, "request body too large");
        return;
    }
    hr->content_length = len;
}

/* Parses m[0..head_len), which ends with the blank line. */
static void parse_head(const uint8_t *m, size_t head_len, nl_rtsp_request *r, head_result *hr)
{
    memset(hr, 0, sizeof *hr);
    r->method = NL_RTSP_METHOD_UNKNOWN;
    r->method_name = nl_rtsp_span_make(NULL, 0);
    r->url = nl_rtsp_span_make(NULL, 0);
    r->version_major = r->version_minor = 0;
    r->nheaders = 0;
    r->body = nl_rtsp_span_make(NULL, 0);
    r->head_len = head_len;

    const char *s = (const char *)m;
    size_t pos = 0;
    bool first = true;
    while (pos < head_len) {
        const char *nl = memchr(s + pos, '\n', head_len - pos);
        size_t end = (size_t)(nl - s); /* the head always ends with '\n' */
        size_t stop = end;
        if (stop > pos && s[stop - 1] == '\r')
            stop--;
        nl_rtsp_span line = nl_rtsp_span_make(s + pos, stop - pos);
        pos = end + 1;
        if (memchr(line.p, '\r', line.n) || memchr(line.p, '\0', line.n)) {
            head_error(hr, 400, NL_EPROTO, true, "stray CR or NUL in the head");
            return;
        }
        if (line.n == 0)
            break; /* the blank line */
        if (first) {
            parse_request_line(line, r, hr);
            first = false;
        } else {
            parse_header_line(line, r, hr);
        }
        if (hr->fatal)
            return;
    }
    check_content_length(r, hr);
}

/* Early rejection of bytes that cannot start a request, so binary garbage
 * (or a TLS ClientHello) is refused at once instead of after 8 KiB. */
static int check_method_prefix(const uint8_t *m, size_t n)
{
    size_t lim = n < NL_RTSP_MAX_METHOD + 1 ? n : NL_RTSP_MAX_METHOD + 1;
    for (size_t i = 0; i < lim; i++) {
        if (m[i] == ' ' || m[i] == '\t')
            return i > 0 ? 1 : -1;
        if (!nl_rtsp_is_token_char(m[i]))
            return -1;
    }
    return lim > NL_RTSP_MAX_METHOD ? -1 : 0; /* 1 ok, 0 undecided, -1 bad */
}

nl_rtsp_msg_kind nl_rtsp_parse(nl_rtsp_parser *p, const uint8_t *buf, size_t len, nl_rtsp_msg *out)
{
    msg_reset(out);

    /* Empty lines between messages are skipped (RFC 7230 §3.5 robustness).
     * The parser state is relative to the first byte after them, so it stays
     * right whether or not the caller has dropped them yet. */
    size_t skip = 0;
    while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n'))
        skip++;
    const uint8_t *m = buf + skip;
    size_t mlen = len - skip;
    out->consumed = skip;
    if (mlen == 0) {
        nl_rtsp_parser_init(p);
        return out->kind;
    }

    if (m[0] == '$') {
        if (mlen < 4)
            return out->kind;
        size_t flen = ((size_t)m[2] << 8) | m[3];
        if (flen > NL_RTSP_MAX_INTERLEAVED)
            return fail(p, out, 400, NL_ETOOBIG, true, "interleaved frame too large");
        if (mlen < 4 + flen)
            return out->kind;
        nl_rtsp_parser_init(p);
        out->kind = NL_RTSP_MSG_INTERLEAVED;
        out->frame.channel = m[1];
        out->frame.data = m + 4;
        out->frame.len = flen;
        out->consumed = skip + 4 + flen;
        return out->kind;
    }

    /* Defensive: state from a longer buffer than this one cannot be ours. */
    if (p->scanned > mlen || p->line_start > mlen)
        nl_rtsp_parser_init(p);

    /* Waiting for the rest of a body: nothing to rescan. */
    if (p->need && mlen < p->need)
        return out->kind;

    head_result hr;
    bool parsed = false;
    if (!p->need) {
        if (p->lines == 0) {
            int ok = check_method_prefix(m, mlen);
            if (ok < 0)
                return fail(p, out, 400, NL_EPROTO, true, "not an RTSP request");
        }
        size_t limit = mlen < NL_RTSP_MAX_HEAD ? mlen : NL_RTSP_MAX_HEAD;
        size_t head_len = 0;
        size_t i = p->scanned;
        for (; i < limit; i++) {
            if (m[i] != '\n') {
                if (p->lines == 0 && i - p->line_start > NL_RTSP_MAX_REQUEST_LINE)
                    return fail(p, out, 414, NL_ETOOBIG, true, "request line too long");
                continue;
            }
            size_t ll = i - p->line_start;
            bool blank = ll == 0 || (ll == 1 && m[i - 1] == '\r');
            if (blank && p->lines > 0) {
                head_len = i + 1;
                break;
            }
            if (p->lines == 0 && ll > NL_RTSP_MAX_REQUEST_LINE + 1)
                return fail(p, out, 414, NL_ETOOBIG, true, "request line too long");
            p->lines++;
            p->line_start = i + 1;
            if (p->lines > NL_RTSP_MAX_HEADERS + 1)
                return fail(p, out, 400, NL_ETOOBIG, true, "too many headers");
        }
        if (!head_len) {
            p->scanned = i;
            if (i >= NL_RTSP_MAX_HEAD)
                return fail(p, out, 400, NL_ETOOBIG, true, "request head too large");
            return out->kind;
        }
        parse_head(m, head_len, &out->req, &hr);
        parsed = true;
        if (hr.fatal) {
            out->have_head = out->req.method_name.n > 0;
            return fail(p, out, hr.status, hr.err, true, hr.why);
        }
        p->scanned = head_len;
        p->need = head_len + hr.content_length;
        if (mlen < p->need)
            return out->kind;
    }

    /* Complete: parse the head again if we had to wait for the body (the
     * spans of the first parse may point into a buffer since moved). */
    if (!parsed)
        parse_head(m, p->scanned, &out->req, &hr);
    size_t need = p->need;
    out->req.body = nl_rtsp_span_make((const char *)m + p->scanned, need - p->scanned);
    out->have_head = true;
    if (hr.status) {
        fail(p, out, hr.status, hr.err, hr.fatal, hr.why);
        if (!hr.fatal)
            out->consumed = skip + need;
        return out->kind;
    }
    nl_rtsp_parser_init(p);
    out->kind = NL_RTSP_MSG_REQUEST;
    out->consumed = skip + need;
    return out->kind;
}

/* ------------------------------------------------------------ headers */

bool nl_rtsp_header_get(const nl_rtsp_request *r, const char *name, nl_rtsp_span *value)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (nl_rtsp_span_ieq(r->headers[i].name, name)) {
            if (value)
                *value = r->headers[i].value;
            return true;
        }
    }
    return false;
}

size_t nl_rtsp_header_count(const nl_rtsp_request *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        if (nl_rtsp_span_ieq(r->headers[i].name, name))
            n++;
    return n;
}

int nl_rtsp_request_cseq(const nl_rtsp_request *r, uint32_t *cseq)
{
    nl_rtsp_span v;
    if (!nl_rtsp_header_get(r, "CSeq", &v))
        return NL_EPROTO;
    return nl_rtsp_span_u32(v, cseq);
}

/* ------------------------------------------------------------ Session */

int nl_rtsp_parse_session(nl_rtsp_span value, nl_rtsp_session_hdr *out)
{
    out->id = nl_rtsp_span_make(NULL, 0);
    out->timeout = -1;
    const char *end = value.p + value.n;
    const char *semi = memchr(value.p, ';', value.n);
    nl_rtsp_span id =
        nl_rtsp_span_trim(nl_rtsp_span_make(value.p, (size_t)((semi ? semi : end) - value.p)));
    if (id.n == 0 || id.n > NL_RTSP_MAX_SESSION_ID)
        return NL_EPROTO;
    for (size_t i = 0; i < id.n; i++) {
        unsigned char c = (unsigned char)id.p[i];
        if (c < 0x21 || c > 0x7e || c == ',' || c == '"')
            return NL_EPROTO;
    }
    out->id = id;
    while (semi) {
        const char *start = semi + 1;
        semi = memchr(start, ';', (size_t)(end - start));
        nl_rtsp_span param =
            nl_rtsp_span_trim(nl_rtsp_span_make(start, (size_t)((semi ? semi : end) - start)));
        const char *eq = memchr(param.p, '=', param.n);
        if (!eq)
            continue;
        nl_rtsp_span name = nl_rtsp_span_trim(nl_rtsp_span_make(param.p, (size_t)(eq - param.p)));
        if (!nl_rtsp_span_ieq(name, "timeout"))
            continue;
        nl_rtsp_span val =
            nl_rtsp_span_trim(nl_rtsp_span_make(eq + 1, (size_t)(param.p + param.n - (eq + 1))));
        uint32_t t;
        if (nl_rtsp_span_u32(val, &t) != 0 || t > INT32_MAX)
            return NL_EPROTO;
        out->timeout = (int)t;
    }
    return 0;
}

int nl_rtsp_request_session(const nl_rtsp_request *r, nl_rtsp_session_hdr *out)
{
    nl_rtsp_span v;
    if (!nl_rtsp_header_get(r, "Session", &v)) {
        out->id = nl_rtsp_span_make(NULL, 0);
        out->timeout = -1;
        return 0;
    }
    int rc = nl_rtsp_parse_session(v, out);
    return rc < 0 ? rc : 1;
}

/* ------------------------------------------------------------ Range */

/* Up to `max` digits into *v; returns the count (0 = none). */
static size_t take_digits(const char **pos, const char *end, size_t max, int64_t *v)
{
    size_t n = 0;
    *v = 0;
    while (*pos < end && **pos >= '0' && **pos <= '9' && n < max) {
        *v = *v * 10 + (**pos - '0');
        (*pos)++;
        n++;
    }
    return n;
}

/* npt-time = "now" | npt-sec | npt-hhmmss (RFC 2326 §3.6). */
static int parse_npt_time(nl_rtsp_span s, int64_t *us, bool *now)
{
    *now = false;
    *us = 0;
    if (nl_rtsp_span_ieq(s, "now")) {
        *now = true;
        return 0;
    }
    const char *pos = s.p, *end = s.p + s.n;
    int64_t secs;
    if (take_digits(&pos, end, 10, &secs) == 0)
        return NL_EPROTO;
    if (pos < end && *pos == ':') {
        int64_t mm, ss;
        pos++;
        if (take_digits(&pos, end, 2, &mm) == 0 || pos >= end || *pos != ':')
            return NL_EPROTO;
        pos++;
        if (take_digits(&pos, end, 2, &ss) == 0 || mm > 59 || ss > 59 || secs > 999999)
            return NL_EPROTO; /* hours capped so the microseconds fit in 64 bits */
        secs = secs * 3600 + mm * 60 + ss;
    }
    int64_t frac_us = 0;
    if (pos < end && *pos == '.') {
        pos++;
        int64_t scale = 100000;
        size_t digits = 0;
        while (pos < end && *pos >= '0' && *pos <= '9') {
            if (++digits > 18)
                return NL_EPROTO;
            frac_us += (*pos - '0') * scale;
            scale /= 10;
            pos++;
        }
    }
    if (pos != end)
        return NL_EPROTO;
    *us = secs * 1000000 + frac_us;
    return 0;
}

int nl_rtsp_parse_range(nl_rtsp_span value, nl_rtsp_range *out)
{
    memset(out, 0, sizeof *out);
    const char *semi = memchr(value.p, ';', value.n);
    nl_rtsp_span spec =
        nl_rtsp_span_trim(nl_rtsp_span_make(value.p, semi ? (size_t)(semi - value.p) : value.n));
    const char *eq = memchr(spec.p, '=', spec.n);
    if (!eq)
        return NL_EPROTO;
    nl_rtsp_span unit = nl_rtsp_span_trim(nl_rtsp_span_make(spec.p, (size_t)(eq - spec.p)));
    if (unit.n == 0)
        return NL_EPROTO;
    if (!nl_rtsp_span_ieq(unit, "npt")) {
        out->unit = NL_RTSP_RANGE_OTHER;
        return 0;
    }
    out->unit = NL_RTSP_RANGE_NPT;
    nl_rtsp_span r = nl_rtsp_span_make(eq + 1, (size_t)(spec.p + spec.n - (eq + 1)));
    const char *dash = memchr(r.p, '-', r.n);
    if (!dash)
        return NL_EPROTO;
    nl_rtsp_span a = nl_rtsp_span_trim(nl_rtsp_span_make(r.p, (size_t)(dash - r.p)));
    nl_rtsp_span b =
        nl_rtsp_span_trim(nl_rtsp_span_make(dash + 1, (size_t)(r.p + r.n - (dash + 1))));
    if (a.n == 0 && b.n == 0)
        return NL_EPROTO;
    bool now;
    if (a.n) {
        if (parse_npt_time(a, &out->start_us, &now) != 0)
            return NL_EPROTO;
        out->start_now = now;
        out->has_start = !now;
    }
    if (b.n) {
        if (parse_npt_time(b, &out->end_us, &now) != 0 || now)
            return NL_EPROTO;
        out->has_end = true;
        if (out->has_start && out->end_us < out->start_us)
            return NL_EPROTO;
    }
    return 0;
}
