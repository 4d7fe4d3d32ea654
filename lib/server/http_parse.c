/* HTTP/1.x request-head parser: a byte-at-a-time state machine, so each byte
 * is looked at once however the peer splits its writes, and every error is
 * decided at the byte that causes it. See http_parse.h for the contract. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "neolink/error.h"
#include "server/http_parse.h"

enum {
    S_METHOD = 0,
    S_TARGET,
    S_VERSION,
    S_LINE_LF,   /* CR seen after the request line */
    S_HDR_START, /* start of a header line, or the blank line */
    S_HDR_NAME,
    S_HDR_OWS, /* after the colon, before the value */
    S_HDR_VALUE,
    S_HDR_LF, /* CR seen after a header value */
    S_END_LF, /* CR of the blank line seen */
    S_DONE,
    S_ERROR,
};

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Header value bytes: visible ASCII and obs-text (never a control byte). */
static bool is_vchar(unsigned char c)
{
    return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

void nl_http_parser_init(nl_http_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->state = S_METHOD;
}

static int fail(nl_http_parser *p, int status)
{
    p->state = S_ERROR;
    p->status = status;
    return NL_EPROTO;
}

static nl_http_method classify(const uint8_t *m, size_t n)
{
    if (n == 3 && !memcmp(m, "GET", 3))
        return NL_HTTP_GET;
    if (n == 4 && !memcmp(m, "HEAD", 4))
        return NL_HTTP_HEAD;
    return NL_HTTP_OTHER;
}

/* Offset and length of the path inside an absolute-form target
 * ("http://host:port/path?q"); path_len 0 means "/" (none given).
 * False when the scheme or authority is malformed. */
static bool absolute_path(const uint8_t *t, size_t n, size_t *off)
{
    size_t skip;
    if (n >= 7 && !strncasecmp((const char *)t, "http://", 7))
        skip = 7;
    else if (n >= 8 && !strncasecmp((const char *)t, "https://", 8))
        skip = 8;
    else
        return false;
    size_t i = skip;
    while (i < n && t[i] != '/' && t[i] != '?')
        i++;
    if (i == skip)
        return false; /* empty authority */
    *off = i;
    return true;
}

/* Called when the SP after the target arrives: the target must be
 * origin-form, absolute-form, or "*" for a method we will refuse anyway. */
static int check_target(nl_http_parser *p, const uint8_t *buf)
{
    const uint8_t *t = buf + p->target;
    size_t n = p->target_len;
    if (memchr(t, '#', n))
        return fail(p, 400); /* a fragment is never sent to a server */
    if (t[0] == '/')
        return 0;
    if (n == 1 && t[0] == '*')
        return p->method == NL_HTTP_OTHER ? 0 : fail(p, 400);
    size_t off;
    if (!absolute_path(t, n, &off))
        return fail(p, 400);
    return 0;
}

/* Called at the blank line: header-level rules. */
static int check_head(nl_http_parser *p, const uint8_t *buf)
{
    size_t hosts = 0;
    for (size_t i = 0; i < p->nheaders; i++) {
        const nl_http_hdr_off *h = &p->hdr[i];
        if (h->name_len == 4 && !strncasecmp((const char *)buf + h->name, "host", 4))
            hosts++;
    }
    /* RFC 9112 §3.2: a 1.1 request has exactly one Host; none is tolerated
     * in 1.0, two never are. */
    if (hosts > 1 || (p->version_minor >= 1 && hosts == 0))
        return fail(p, 400);
    return 0;
}

static void fill(const nl_http_parser *p, const uint8_t *buf, nl_http_request *req)
{
    memset(req, 0, sizeof(*req));
    req->method = p->method;
    req->method_str = (const char *)buf;
    req->method_len = p->method_len;
    const char *t = (const char *)buf + p->target;
    size_t n = p->target_len;
    size_t off = 0; /* where the path starts: after the authority of an absolute form */
    if (t[0] != '/' && t[0] != '*')
        (void)absolute_path((const uint8_t *)t, n, &off);
    const char *rest = t + off;
    size_t rest_len = n - off;
    const char *q = memchr(rest, '?', rest_len);
    size_t plen = q ? (size_t)(q - rest) : rest_len;
    if (plen == 0) {
        /* "http://host" or "http://host?x": the path is "/" */
        static const char slash[] = "/";
        req->path = slash;
        req->path_len = 1;
    } else {
        req->path = rest;
        req->path_len = plen;
    }
    if (q) {
        req->query = q + 1;
        req->query_len = (size_t)(rest + rest_len - req->query);
    }
    req->version_minor = p->version_minor;
    req->nheaders = p->nheaders;
    for (size_t i = 0; i < p->nheaders; i++) {
        const nl_http_hdr_off *h = &p->hdr[i];
        req->headers[i].name = (const char *)buf + h->name;
        req->headers[i].name_len = h->name_len;
        req->headers[i].value = (const char *)buf + h->value;
        req->headers[i].value_len = h->value_len;
    }
    req->head_len = p->pos;
}

/* Finishes the header whose line started at hdr[nheaders]: value or empty. */
static void end_header(nl_http_parser *p, size_t value_start_if_empty)
{
    nl_http_hdr_off *h = &p->hdr[p->nheaders];
    if (p->value_end == 0) {
        h->value = (uint16_t)value_start_if_empty;
        h->value_len = 0;
    } else {
        h->value_len = (uint16_t)(p->value_end - h->value);
    }
    p->nheaders++;
}

/* One byte at offset p->pos. Returns 0 to go on, 1 when the head is
 * complete, or NL_EPROTO. */
static int step(nl_http_parser *p, const uint8_t *buf, unsigned char c)
{
    size_t pos = p->pos;
    switch (p->state) {
    case S_METHOD:
        if (c == ' ') {
            if (p->method_len == 0)
                return fail(p, 400);
            p->method = classify(buf, p->method_len);
            p->target = (uint16_t)(pos + 1);
            p->state = S_TARGET;
            return 0;
        }
        if (!is_tchar(c) || p->method_len >= NL_HTTP_MAX_METHOD)
            return fail(p, 400);
        p->method_len++;
        return 0;
    case S_TARGET:
        if (c == ' ') {
            if (p->target_len == 0)
                return fail(p, 400);
            p->state = S_VERSION;
            p->vi = 0;
            return check_target(p, buf);
        }
        if (c <= 0x20 || c >= 0x7f)
            return fail(p, 400);
        p->target_len++;
        return 0;
    case S_VERSION:
        if (p->vi < 5) {
            if (c != (unsigned char)"HTTP/"[p->vi])
                return fail(p, 400);
        } else if (p->vi == 5) {
            if (c < '0' || c > '9')
                return fail(p, 400);
            p->version_major = c - '0';
            if (p->version_major != 1)
                return fail(p, 505);
        } else if (p->vi == 6) {
            if (c != '.')
                return fail(p, 400);
        } else if (p->vi == 7) {
            if (c < '0' || c > '9')
                return fail(p, 400);
            p->version_minor = c - '0';
        } else if (c == '\r') {
            p->state = S_LINE_LF;
            return 0;
        } else if (c == '\n') {
            p->state = S_HDR_START;
            return 0;
        } else {
            return fail(p, 400);
        }
        p->vi++;
        return 0;
    case S_LINE_LF:
        if (c != '\n')
            return fail(p, 400);
        p->state = S_HDR_START;
        return 0;
    case S_HDR_START:
        if (c == '\r') {
            p->state = S_END_LF;
            return 0;
        }
        if (c == '\n')
            return check_head(p, buf) < 0 ? NL_EPROTO : 1;
        /* Leading whitespace would be an obsolete line folding: refused
         * (RFC 9112 §5.2 allows a 400). */
        if (!is_tchar(c))
            return fail(p, 400);
        if (p->nheaders >= NL_HTTP_MAX_HEADERS)
            return fail(p, 431);
        p->hdr[p->nheaders].name = (uint16_t)pos;
        p->hdr[p->nheaders].name_len = 1;
        p->state = S_HDR_NAME;
        return 0;
    case S_HDR_NAME:
        if (c == ':') {
            p->value_end = 0;
            p->state = S_HDR_OWS;
            return 0;
        }
        /* includes whitespace before the colon (RFC 9112 §5.1: 400) */
        if (!is_tchar(c))
            return fail(p, 400);
        p->hdr[p->nheaders].name_len++;
        return 0;
    case S_HDR_OWS:
    case S_HDR_VALUE:
        if (c == ' ' || c == '\t')
            return 0;
        if (c == '\r' || c == '\n') {
            end_header(p, pos);
            p->state = c == '\r' ? S_HDR_LF : S_HDR_START;
            return 0;
        }
        if (!is_vchar(c))
            return fail(p, 400);
        if (p->state == S_HDR_OWS) {
            p->hdr[p->nheaders].value = (uint16_t)pos;
            p->state = S_HDR_VALUE;
        }
        p->value_end = (uint16_t)(pos + 1);
        return 0;
    case S_HDR_LF:
        if (c != '\n')
            return fail(p, 400);
        p->state = S_HDR_START;
        return 0;
    case S_END_LF:
        if (c != '\n')
            return fail(p, 400);
        return check_head(p, buf) < 0 ? NL_EPROTO : 1;
    default:
        return NL_EPROTO;
    }
}

int nl_http_parse(nl_http_parser *p, const uint8_t *buf, size_t len, nl_http_request *req)
{
    if (p->state == S_ERROR)
        return NL_EPROTO;
    if (p->state == S_DONE) {
        fill(p, buf, req);
        return (int)p->pos;
    }
    while (p->pos < len) {
        unsigned char c = buf[p->pos];
        bool in_line = p->state == S_METHOD || p->state == S_TARGET || p->state == S_VERSION;
        if (in_line && p->pos >= NL_HTTP_MAX_LINE && c != '\r' && c != '\n')
            return fail(p, 414);
        int rc = step(p, buf, c);
        p->pos++;
        if (rc < 0)
            return rc;
        if (rc == 1) {
            p->state = S_DONE;
            fill(p, buf, req);
            return (int)p->pos;
        }
        if (p->pos >= NL_HTTP_MAX_HEAD)
            return fail(p, 431);
    }
    return NL_EAGAIN;
}

const nl_http_header *nl_http_request_header(const nl_http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++) {
        const nl_http_header *h = &req->headers[i];
        if (h->name_len == n && !strncasecmp(h->name, name, n))
            return h;
    }
    return NULL;
}

const char *nl_http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}
