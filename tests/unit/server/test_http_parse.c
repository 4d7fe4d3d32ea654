/* The HTTP request-head parser: valid heads and what they yield, every
 * error status at its limit, and the same answer however the bytes are
 * split (each case is re-fed split at every offset and byte by byte). */
#include <string.h>

#include "neolink/error.h"
#include "server/http_parse.h"
#include "test.h"

typedef struct outcome {
    int rc;     /* head length, or NL_EPROTO / NL_EAGAIN */
    int status; /* when NL_EPROTO */
    nl_http_request req;
} outcome;

/* Feeds buf[0..len) in chunks of `step` bytes (0: all at once). */
static outcome feed(const char *buf, size_t len, size_t step)
{
    outcome o = {0};
    nl_http_parser p;
    nl_http_parser_init(&p);
    size_t have = step ? 0 : len;
    for (;;) {
        if (step)
            have = have + step > len ? len : have + step;
        o.rc = nl_http_parse(&p, (const uint8_t *)buf, have, &o.req);
        if (o.rc != NL_EAGAIN || have == len)
            break;
    }
    o.status = p.status;
    return o;
}

/* Feeds the first `cut` bytes, then all of them. */
static outcome feed_split(const char *buf, size_t len, size_t cut)
{
    outcome o = {0};
    nl_http_parser p;
    nl_http_parser_init(&p);
    o.rc = nl_http_parse(&p, (const uint8_t *)buf, cut, &o.req);
    if (o.rc == NL_EAGAIN)
        o.rc = nl_http_parse(&p, (const uint8_t *)buf, len, &o.req);
    o.status = p.status;
    return o;
}

static int span_eq(const char *p, size_t n, const char *s)
{
    return p && strlen(s) == n && !memcmp(p, s, n);
}

/* The whole-buffer answer must not depend on the split. */
static outcome check_splits(const char *buf)
{
    size_t len = strlen(buf);
    outcome whole = feed(buf, len, 0);
    outcome bytes = feed(buf, len, 1);
    NL_ASSERT_EQ(bytes.rc, whole.rc);
    NL_ASSERT_EQ(bytes.status, whole.status);
    for (size_t cut = 0; cut <= len; cut++) {
        outcome s = feed_split(buf, len, cut);
        NL_ASSERT_EQ(s.rc, whole.rc);
        NL_ASSERT_EQ(s.status, whole.status);
        if (whole.rc > 0) {
            NL_ASSERT_EQ(s.req.path_len, whole.req.path_len);
            NL_ASSERT_EQ(s.req.nheaders, whole.req.nheaders);
        }
    }
    return whole;
}

static void test_simple_get(void)
{
    const char *r = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9090\r\n"
                    "User-Agent: Prometheus/2.45.0\r\nAccept:   text/plain;version=0.0.4  \r\n\r\n";
    outcome o = check_splits(r);
    NL_ASSERT_EQ(o.rc, (int)strlen(r));
    NL_ASSERT_EQ(o.req.method, NL_HTTP_GET);
    NL_ASSERT(span_eq(o.req.method_str, o.req.method_len, "GET"));
    NL_ASSERT(span_eq(o.req.path, o.req.path_len, "/metrics"));
    NL_ASSERT(o.req.query == NULL);
    NL_ASSERT_EQ(o.req.version_minor, 1);
    NL_ASSERT_EQ(o.req.nheaders, 3);
    NL_ASSERT(span_eq(o.req.headers[0].name, o.req.headers[0].name_len, "Host"));
    NL_ASSERT(span_eq(o.req.headers[0].value, o.req.headers[0].value_len, "127.0.0.1:9090"));
    const nl_http_header *h = nl_http_request_header(&o.req, "accept");
    NL_ASSERT(h != NULL);
    NL_ASSERT(span_eq(h->value, h->value_len, "text/plain;version=0.0.4"));
    NL_ASSERT(nl_http_request_header(&o.req, "cookie") == NULL);
    NL_ASSERT_EQ(o.req.head_len, strlen(r));
}

static void test_forms(void)
{
    /* HTTP/1.0 needs no Host; bare LF line ends; a query */
    outcome o = check_splits("HEAD /healthz?verbose=1&x HTTP/1.0\n\n");
    NL_ASSERT(o.rc > 0);
    NL_ASSERT_EQ(o.req.method, NL_HTTP_HEAD);
    NL_ASSERT(span_eq(o.req.path, o.req.path_len, "/healthz"));
    NL_ASSERT(span_eq(o.req.query, o.req.query_len, "verbose=1&x"));
    NL_ASSERT_EQ(o.req.version_minor, 0);
    NL_ASSERT_EQ(o.req.nheaders, 0);

    /* absolute form: the path is what follows the authority */
    o = check_splits("GET http://cam.lan:9090/metrics?a=b HTTP/1.1\r\nHost: cam.lan\r\n\r\n");
    NL_ASSERT(o.rc > 0);
    NL_ASSERT(span_eq(o.req.path, o.req.path_len, "/metrics"));
    NL_ASSERT(span_eq(o.req.query, o.req.query_len, "a=b"));
    o = check_splits("GET HTTP://cam.lan HTTP/1.1\r\nHost: cam.lan\r\n\r\n");
    NL_ASSERT(o.rc > 0);
    NL_ASSERT(span_eq(o.req.path, o.req.path_len, "/"));

    /* unknown but well-formed method: parsed, the server answers 405 */
    o = check_splits("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n");
    NL_ASSERT(o.rc > 0);
    NL_ASSERT_EQ(o.req.method, NL_HTTP_OTHER);
    NL_ASSERT(span_eq(o.req.method_str, o.req.method_len, "POST"));
    o = check_splits("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    NL_ASSERT(o.rc > 0);
    NL_ASSERT(span_eq(o.req.path, o.req.path_len, "*"));

    /* empty header value, obs-text in a value, HTTP/1.9 is still 1.x */
    o = check_splits("GET / HTTP/1.9\r\nHost: h\r\nX-Empty:\r\nX-Utf8: caf\xc3\xa9\r\n\r\n");
    NL_ASSERT(o.rc > 0);
    NL_ASSERT_EQ(o.req.nheaders, 3);
    NL_ASSERT_EQ(o.req.headers[1].value_len, 0);
    NL_ASSERT(span_eq(o.req.headers[2].value, o.req.headers[2].value_len, "caf\xc3\xa9"));

    /* what follows the head is not the parser's business */
    o = check_splits("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /again HTTP/1.1\r\n");
    NL_ASSERT_EQ(o.rc, (int)strlen("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
}

static void expect_status(const char *r, int status)
{
    outcome o = check_splits(r);
    if (o.rc != NL_EPROTO || o.status != status)
        NL_FAIL("'%.60s': rc %d status %d, expected status %d", r, o.rc, o.status, status);
    nl_test_checks++;
}

static void test_bad_requests(void)
{
    expect_status("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400); /* TLS hello */
    expect_status(" GET / HTTP/1.1\r\n\r\n", 400);
    expect_status("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
    expect_status("GET /\r\n\r\n", 400); /* HTTP/0.9 */
    expect_status("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
    expect_status("GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\n\r\n", 400);                       /* 1.1 without Host */
    expect_status("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400); /* two Hosts */
    expect_status("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);           /* space before colon */
    expect_status("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", 400);
    expect_status("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
    expect_status("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_status("GET metrics HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_status("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_status("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_status("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    expect_status("VERYLONGMETHODNAMEX / HTTP/1.1\r\n\r\n", 400);
    expect_status("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    expect_status("GET / HTTP/0.9\r\n\r\n", 505);
    /* a NUL inside a string literal ends it: check that case by length */
    outcome o = feed("GET / HTTP/1.1\r\nHost: h\0\r\n\r\n", 28, 0);
    NL_ASSERT_EQ(o.rc, NL_EPROTO);
    NL_ASSERT_EQ(o.status, 400);
    o = feed("G\0T / HTTP/1.0\r\n\r\n", 20, 1);
    NL_ASSERT_EQ(o.rc, NL_EPROTO);
    NL_ASSERT_EQ(o.status, 400);
}

static char big[3 * NL_HTTP_MAX_HEAD];

static void test_limits(void)
{
    /* request line of exactly NL_HTTP_MAX_LINE bytes: fine */
    const char *pre = "GET /", *post = " HTTP/1.1";
    size_t fill = NL_HTTP_MAX_LINE - strlen(pre) - strlen(post);
    strcpy(big, pre);
    memset(big + strlen(pre), 'a', fill);
    strcpy(big + strlen(pre) + fill, post);
    NL_ASSERT_EQ(strlen(big), NL_HTTP_MAX_LINE);
    strcat(big, "\r\nHost: h\r\n\r\n");
    outcome o = feed(big, strlen(big), 0);
    NL_ASSERT(o.rc > 0);
    NL_ASSERT_EQ(o.req.path_len, 1 + fill);
    /* one byte more: 414, and already at that byte (no need for the rest) */
    memmove(big + 6, big + 5, strlen(big + 5) + 1);
    big[5] = 'a';
    o = feed(big, strlen(big), 0);
    NL_ASSERT_EQ(o.rc, NL_EPROTO);
    NL_ASSERT_EQ(o.status, 414);
    o = feed(big, NL_HTTP_MAX_LINE + 1, 0);
    NL_ASSERT_EQ(o.status, 414);
    o = feed(big, NL_HTTP_MAX_LINE, 0);
    NL_ASSERT_EQ(o.rc, NL_EAGAIN);
    /* an endless target never gets a line end: 414 */
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /", 5);
    o = feed(big, sizeof big, 7);
    NL_ASSERT_EQ(o.status, 414);

    /* headers: NL_HTTP_MAX_HEADERS fit, one more is 431 */
    size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < NL_HTTP_MAX_HEADERS; i++)
        n += (size_t)sprintf(big + n, "%s: v%d\r\n", i == 0 ? "Host" : "X-H", i);
    strcpy(big + n, "\r\n");
    o = check_splits(big);
    NL_ASSERT(o.rc > 0);
    NL_ASSERT_EQ(o.req.nheaders, NL_HTTP_MAX_HEADERS);
    strcpy(big + n, "X-One-More: v\r\n\r\n");
    o = check_splits(big);
    NL_ASSERT_EQ(o.status, 431);

    /* a head of exactly NL_HTTP_MAX_HEAD bytes is fine; one byte more is 431 */
    n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ");
    size_t pad = NL_HTTP_MAX_HEAD - n - 4;
    memset(big + n, 'p', pad);
    strcpy(big + n + pad, "\r\n\r\n");
    NL_ASSERT_EQ(strlen(big), NL_HTTP_MAX_HEAD);
    o = feed(big, strlen(big), 0);
    NL_ASSERT_EQ(o.rc, NL_HTTP_MAX_HEAD);
    memmove(big + n + 1, big + n, strlen(big + n) + 1);
    o = feed(big, strlen(big), 0);
    NL_ASSERT_EQ(o.rc, NL_EPROTO);
    NL_ASSERT_EQ(o.status, 431);
    /* and a buffer of NL_HTTP_MAX_HEAD bytes always gets an answer */
    o = feed(big, NL_HTTP_MAX_HEAD, 0);
    NL_ASSERT_EQ(o.status, 431);
}

static void test_sticky(void)
{
    nl_http_parser p;
    nl_http_request req;
    nl_http_parser_init(&p);
    const char *ok = "GET /x HTTP/1.0\r\n\r\n";
    NL_ASSERT_EQ(nl_http_parse(&p, (const uint8_t *)ok, strlen(ok), &req), (int)strlen(ok));
    memset(&req, 0, sizeof req);
    NL_ASSERT_EQ(nl_http_parse(&p, (const uint8_t *)ok, strlen(ok), &req), (int)strlen(ok));
    NL_ASSERT(span_eq(req.path, req.path_len, "/x"));

    nl_http_parser_init(&p);
    NL_ASSERT_EQ(nl_http_parse(&p, (const uint8_t *)"\x01", 1, &req), NL_EPROTO);
    NL_ASSERT_EQ(nl_http_parse(&p, (const uint8_t *)ok, strlen(ok), &req), NL_EPROTO);
    NL_ASSERT_EQ(p.status, 400);
    NL_ASSERT_EQ(nl_http_parse(&p, (const uint8_t *)"", 0, &req), NL_EPROTO);

    nl_http_parser_init(&p);
    NL_ASSERT_EQ(nl_http_parse(&p, (const uint8_t *)"", 0, &req), NL_EAGAIN);
}

static void test_reasons(void)
{
    NL_ASSERT_STREQ(nl_http_reason(200), "OK");
    NL_ASSERT_STREQ(nl_http_reason(404), "Not Found");
    NL_ASSERT_STREQ(nl_http_reason(405), "Method Not Allowed");
    NL_ASSERT_STREQ(nl_http_reason(414), "URI Too Long");
    NL_ASSERT_STREQ(nl_http_reason(431), "Request Header Fields Too Large");
    NL_ASSERT_STREQ(nl_http_reason(505), "HTTP Version Not Supported");
    NL_ASSERT_STREQ(nl_http_reason(299), "Unknown");
}

int main(void)
{
    NL_RUN(test_simple_get);
    NL_RUN(test_forms);
    NL_RUN(test_bad_requests);
    NL_RUN(test_limits);
    NL_RUN(test_sticky);
    NL_RUN(test_reasons);
    NL_DONE();
}
