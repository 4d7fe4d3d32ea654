/* RTSP request parser: real client sessions (captured from ffmpeg 5.1 and
 * GStreamer 1.22, constructed for VLC/live555), every method, every error
 * path, and the same inputs fed whole, split at every offset and one byte at
 * a time, which must all give the same event log. */
#include <stdlib.h>

#include "neolink/error.h"
#include "rtsp/parse.h"
#include "rtsp_feed.h"
#include "test.h"

static feed_conn conn_a, conn_b;

#define SPAN_IS(span, str) NL_ASSERT(nl_rtsp_span_eq((span), (str)))

typedef struct golden {
    const char *file;
    const char *events;
} golden;

static const golden goldens[] = {
    {"ffmpeg51_tcp_basic.bin", "OPTIONS rtsp://127.0.0.1:18563/cam cseq=1\n"
                               "DESCRIBE rtsp://127.0.0.1:18563/cam cseq=2\n"
                               "DESCRIBE rtsp://127.0.0.1:18563/cam cseq=3\n"
                               "SETUP rtsp://127.0.0.1:18563/cam/streamid=0 cseq=4\n"
                               "PLAY rtsp://127.0.0.1:18563/cam/ cseq=5\n"
                               "TEARDOWN rtsp://127.0.0.1:18563/cam/ cseq=6\n"},
    {"ffmpeg51_tcp_digest.bin", "OPTIONS rtsp://127.0.0.1:18557/cam cseq=1\n"
                                "DESCRIBE rtsp://127.0.0.1:18557/cam cseq=2\n"
                                "DESCRIBE rtsp://127.0.0.1:18557/cam cseq=3\n"
                                "SETUP rtsp://127.0.0.1:18557/cam/streamid=0 cseq=4\n"
                                "PLAY rtsp://127.0.0.1:18557/cam/ cseq=5\n"
                                "TEARDOWN rtsp://127.0.0.1:18557/cam/ cseq=6\n"},
    {"ffmpeg51_tcp_digest_qop.bin", "OPTIONS rtsp://127.0.0.1:18555/cam cseq=1\n"
                                    "DESCRIBE rtsp://127.0.0.1:18555/cam cseq=2\n"
                                    "DESCRIBE rtsp://127.0.0.1:18555/cam cseq=3\n"
                                    "SETUP rtsp://127.0.0.1:18555/cam/streamid=0 cseq=4\n"
                                    "PLAY rtsp://127.0.0.1:18555/cam/ cseq=5\n"},
    {"ffmpeg51_udp_digest.bin", "OPTIONS rtsp://127.0.0.1:18561/cam cseq=1\n"
                                "DESCRIBE rtsp://127.0.0.1:18561/cam cseq=2\n"
                                "DESCRIBE rtsp://127.0.0.1:18561/cam cseq=3\n"
                                "SETUP rtsp://127.0.0.1:18561/cam/streamid=0 cseq=4\n"
                                "PLAY rtsp://127.0.0.1:18561/cam/ cseq=5\n"},
    {"ffmpeg51_udp_fallback_tcp.constructed.bin",
     "OPTIONS rtsp://127.0.0.1:8554/cam cseq=1\n"
     "DESCRIBE rtsp://127.0.0.1:8554/cam cseq=2\n"
     "DESCRIBE rtsp://127.0.0.1:8554/cam cseq=3\n"
     "SETUP rtsp://127.0.0.1:8554/cam/streamid=0 cseq=4\n"
     "PLAY rtsp://127.0.0.1:8554/cam/ cseq=5\n"
     "PAUSE rtsp://127.0.0.1:8554/cam/ cseq=6\n"
     "SETUP rtsp://127.0.0.1:8554/cam/streamid=0 cseq=7\n"
     "PLAY rtsp://127.0.0.1:8554/cam/ cseq=8\n"
     "TEARDOWN rtsp://127.0.0.1:8554/cam/ cseq=9\n"},
    {"gst122_tcp_basic.bin", "OPTIONS rtsp://127.0.0.1:18564/cam cseq=1\n"
                             "DESCRIBE rtsp://127.0.0.1:18564/cam cseq=2\n"
                             "DESCRIBE rtsp://127.0.0.1:18564/cam cseq=3\n"
                             "SETUP rtsp://127.0.0.1:18564/cam/streamid=0 cseq=4\n"
                             "PLAY rtsp://127.0.0.1:18564/cam/ cseq=5\n"
                             "PAUSE rtsp://127.0.0.1:18564/cam/ cseq=6\n"
                             "TEARDOWN rtsp://127.0.0.1:18564/cam/ cseq=7\n"},
    {"gst122_tcp_digest.bin", "OPTIONS rtsp://127.0.0.1:18558/cam cseq=1\n"
                              "DESCRIBE rtsp://127.0.0.1:18558/cam cseq=2\n"
                              "DESCRIBE rtsp://127.0.0.1:18558/cam cseq=3\n"
                              "SETUP rtsp://127.0.0.1:18558/cam/streamid=0 cseq=4\n"
                              "PLAY rtsp://127.0.0.1:18558/cam/ cseq=5\n"
                              "$1 84\n"
                              "$1 84\n"
                              "PAUSE rtsp://127.0.0.1:18558/cam/ cseq=6\n"
                              "TEARDOWN rtsp://127.0.0.1:18558/cam/ cseq=7\n"},
    {"gst122_udp_digest.bin", "OPTIONS rtsp://127.0.0.1:18562/cam cseq=1\n"
                              "DESCRIBE rtsp://127.0.0.1:18562/cam cseq=2\n"
                              "DESCRIBE rtsp://127.0.0.1:18562/cam cseq=3\n"
                              "SETUP rtsp://127.0.0.1:18562/cam/streamid=0 cseq=4\n"
                              "PLAY rtsp://127.0.0.1:18562/cam/ cseq=5\n"
                              "TEARDOWN rtsp://127.0.0.1:18562/cam/ cseq=6\n"},
    {"gst122_udp_then_tcp_digest.bin", "OPTIONS rtsp://127.0.0.1:18562/cam cseq=1\n"
                                       "DESCRIBE rtsp://127.0.0.1:18562/cam cseq=2\n"
                                       "DESCRIBE rtsp://127.0.0.1:18562/cam cseq=3\n"
                                       "SETUP rtsp://127.0.0.1:18562/cam/streamid=0 cseq=4\n"
                                       "PLAY rtsp://127.0.0.1:18562/cam/ cseq=5\n"
                                       "$1 84\n"
                                       "PAUSE rtsp://127.0.0.1:18562/cam/ cseq=6\n"
                                       "TEARDOWN rtsp://127.0.0.1:18562/cam/ cseq=7\n"},
    {"vlc3_live555_udp_digest.constructed.bin",
     "OPTIONS rtsp://127.0.0.1:8554/cam cseq=2\n"
     "DESCRIBE rtsp://127.0.0.1:8554/cam cseq=3\n"
     "DESCRIBE rtsp://127.0.0.1:8554/cam cseq=4\n"
     "SETUP rtsp://127.0.0.1:8554/cam/streamid=0 cseq=5\n"
     "PLAY rtsp://127.0.0.1:8554/cam/ cseq=6\n"
     "GET_PARAMETER rtsp://127.0.0.1:8554/cam/ cseq=7\n"
     "TEARDOWN rtsp://127.0.0.1:8554/cam/ cseq=8\n"},
};

static uint8_t *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rtsp/%s", NL_TEST_DATA, name);
    return nl_test_read_file(path, len);
}

/* Feeds `data` whole, in every two-way split, one byte at a time and in
 * 7-byte chunks; every way must produce `expect`. */
static void check_all_chunkings(const uint8_t *data, size_t n, const char *expect)
{
    NL_ASSERT_STREQ(feed_chunked(&conn_a, data, n, n ? n : 1), expect);
    NL_ASSERT_STREQ(feed_chunked(&conn_a, data, n, 1), expect);
    NL_ASSERT_STREQ(feed_chunked(&conn_a, data, n, 7), expect);
    for (size_t at = 0; at <= n; at++) {
        const char *got = feed_split(&conn_b, data, n, at);
        if (strcmp(got, expect) != 0)
            NL_FAIL("split at %zu of %zu:\n%s\nexpected:\n%s", at, n, got, expect);
    }
}

static void check_str_all_chunkings(const char *input, const char *expect)
{
    check_all_chunkings((const uint8_t *)input, strlen(input), expect);
}

/* Parses exactly one message out of a string. */
static nl_rtsp_msg_kind parse1(const char *s, nl_rtsp_msg *m)
{
    nl_rtsp_parser p;
    nl_rtsp_parser_init(&p);
    return nl_rtsp_parse(&p, (const uint8_t *)s, strlen(s), m);
}

static nl_rtsp_msg msg; /* 2 KiB+: keep it off the stack of every test */

static void test_golden_sessions(void)
{
    for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
        size_t n;
        uint8_t *data = load(goldens[i].file, &n);
        check_all_chunkings(data, n, goldens[i].events);
        NL_ASSERT(!conn_a.closed);
        NL_ASSERT_EQ(conn_a.len, 0);
        free(data);
    }
}

static void test_ffmpeg_setup_details(void)
{
    size_t n;
    uint8_t *data = load("ffmpeg51_tcp_digest.bin", &n);
    nl_rtsp_parser p;
    nl_rtsp_parser_init(&p);
    size_t off = 0;
    /* Skip OPTIONS and both DESCRIBEs. */
    for (int i = 0; i < 3; i++) {
        NL_ASSERT_EQ(nl_rtsp_parse(&p, data + off, n - off, &msg), NL_RTSP_MSG_REQUEST);
        off += msg.consumed;
    }
    NL_ASSERT_EQ(nl_rtsp_parse(&p, data + off, n - off, &msg), NL_RTSP_MSG_REQUEST);
    const nl_rtsp_request *r = &msg.req;
    NL_ASSERT_EQ(r->method, NL_RTSP_SETUP);
    SPAN_IS(r->method_name, "SETUP");
    SPAN_IS(r->url, "rtsp://127.0.0.1:18557/cam/streamid=0");
    NL_ASSERT_EQ(r->version_major, 1);
    NL_ASSERT_EQ(r->version_minor, 0);
    NL_ASSERT_EQ(r->nheaders, 4);
    SPAN_IS(r->headers[0].name, "Transport");
    SPAN_IS(r->headers[0].value, "RTP/AVP/TCP;unicast;interleaved=0-1");
    nl_rtsp_span v;
    NL_ASSERT(nl_rtsp_header_get(r, "user-agent", &v));
    SPAN_IS(v, "Lavf59.27.100");
    NL_ASSERT(nl_rtsp_header_get(r, "AUTHORIZATION", &v));
    NL_ASSERT(v.n > 100 && memcmp(v.p, "Digest username=\"admin\"", 23) == 0);
    NL_ASSERT_EQ(r->body.n, 0);
    uint32_t cseq;
    NL_ASSERT_OK(nl_rtsp_request_cseq(r, &cseq));
    NL_ASSERT_EQ(cseq, 4);
    NL_ASSERT_EQ(msg.consumed, r->head_len);
    off += msg.consumed;
    /* PLAY: Range and Session. */
    NL_ASSERT_EQ(nl_rtsp_parse(&p, data + off, n - off, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(msg.req.method, NL_RTSP_PLAY);
    NL_ASSERT(nl_rtsp_header_get(&msg.req, "Range", &v));
    nl_rtsp_range range;
    NL_ASSERT_OK(nl_rtsp_parse_range(v, &range));
    NL_ASSERT(range.has_start && range.start_us == 0 && !range.has_end && !range.start_now);
    nl_rtsp_session_hdr sess;
    NL_ASSERT_EQ(nl_rtsp_request_session(&msg.req, &sess), 1);
    SPAN_IS(sess.id, "4f2a9c81d0e3b657");
    NL_ASSERT_EQ(sess.timeout, -1);
    free(data);
}

static void test_gstreamer_details(void)
{
    size_t n;
    uint8_t *data = load("gst122_tcp_digest.bin", &n);
    nl_rtsp_parser p;
    nl_rtsp_parser_init(&p);
    /* First OPTIONS: two User-Agent headers plus RealMedia compatibility. */
    NL_ASSERT_EQ(nl_rtsp_parse(&p, data, n, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(msg.req.method, NL_RTSP_OPTIONS);
    NL_ASSERT_EQ(msg.req.nheaders, 10);
    NL_ASSERT_EQ(nl_rtsp_header_count(&msg.req, "User-Agent"), 2);
    nl_rtsp_span v;
    NL_ASSERT(nl_rtsp_header_get(&msg.req, "User-Agent", &v));
    SPAN_IS(v, "GStreamer/1.22.0"); /* first wins */
    SPAN_IS(msg.req.headers[2].value,
            "RealMedia Player Version 6.0.9.1235 (linux-2.0-libc6-i386-gcc2.95)");
    NL_ASSERT(nl_rtsp_header_get(&msg.req, "PlayerStarttime", &v));
    SPAN_IS(v, "[28/03/2003:22:50:23 00:00]");

    /* Walk to the receiver reports after PLAY. */
    size_t off = msg.consumed;
    int frames = 0;
    while (off < n) {
        nl_rtsp_msg_kind k = nl_rtsp_parse(&p, data + off, n - off, &msg);
        NL_ASSERT(k == NL_RTSP_MSG_REQUEST || k == NL_RTSP_MSG_INTERLEAVED);
        if (k == NL_RTSP_MSG_INTERLEAVED) {
            frames++;
            NL_ASSERT_EQ(msg.frame.channel, 1);
            NL_ASSERT_EQ(msg.frame.len, 84);
            NL_ASSERT_EQ(msg.frame.data, data + off + 4);
            /* RTCP RR (PT 201), one report block, then SDES (PT 202). */
            NL_ASSERT_EQ(msg.frame.data[0], 0x81);
            NL_ASSERT_EQ(msg.frame.data[1], 201);
            NL_ASSERT_EQ(msg.frame.data[32], 0x81);
            NL_ASSERT_EQ(msg.frame.data[33], 202);
            NL_ASSERT_EQ(msg.consumed, 88);
        } else if (msg.req.method == NL_RTSP_PAUSE) {
            NL_ASSERT_EQ(frames, 2); /* the RRs came right before PAUSE */
        }
        off += msg.consumed;
    }
    NL_ASSERT_EQ(frames, 2);
    free(data);
}

static void test_every_method(void)
{
    static const struct {
        const char *name;
        nl_rtsp_method m;
    } methods[] = {
        {"OPTIONS", NL_RTSP_OPTIONS},
        {"DESCRIBE", NL_RTSP_DESCRIBE},
        {"SETUP", NL_RTSP_SETUP},
        {"PLAY", NL_RTSP_PLAY},
        {"PAUSE", NL_RTSP_PAUSE},
        {"TEARDOWN", NL_RTSP_TEARDOWN},
        {"GET_PARAMETER", NL_RTSP_GET_PARAMETER},
        {"SET_PARAMETER", NL_RTSP_SET_PARAMETER},
        {"ANNOUNCE", NL_RTSP_ANNOUNCE},
        {"RECORD", NL_RTSP_RECORD},
        {"REDIRECT", NL_RTSP_REDIRECT},
        {"FLUSH", NL_RTSP_METHOD_UNKNOWN},
        {"options", NL_RTSP_METHOD_UNKNOWN}, /* methods are case-sensitive */
        {"GET", NL_RTSP_METHOD_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        char req[128];
        snprintf(req, sizeof req, "%s rtsp://10.0.0.2/cam RTSP/1.0\r\nCSeq: %zu\r\n\r\n",
                 methods[i].name, i + 1);
        NL_ASSERT_EQ(parse1(req, &msg), NL_RTSP_MSG_REQUEST);
        NL_ASSERT_EQ(msg.req.method, methods[i].m);
        SPAN_IS(msg.req.method_name, methods[i].name);
        NL_ASSERT_EQ(msg.consumed, strlen(req));
        if (methods[i].m != NL_RTSP_METHOD_UNKNOWN)
            NL_ASSERT_STREQ(nl_rtsp_method_name(methods[i].m), methods[i].name);
    }
    NL_ASSERT_STREQ(nl_rtsp_method_name(NL_RTSP_METHOD_UNKNOWN), "UNKNOWN");
    NL_ASSERT_STREQ(nl_rtsp_method_name((nl_rtsp_method)99), "UNKNOWN");
}

static void test_line_endings_and_whitespace(void)
{
    /* Bare LF everywhere, "Name :" spacing, tabs, empty value, folding. */
    const char *req = "OPTIONS\t*  RTSP/1.0\n"
                      "CSeq :\t 7 \n"
                      "X-Empty:\n"
                      "X-Folded: first\r\n"
                      "  second\r\n"
                      "\tthird\n"
                      "\n";
    NL_ASSERT_EQ(parse1(req, &msg), NL_RTSP_MSG_REQUEST);
    SPAN_IS(msg.req.url, "*");
    NL_ASSERT_EQ(msg.req.nheaders, 3);
    uint32_t cseq;
    NL_ASSERT_OK(nl_rtsp_request_cseq(&msg.req, &cseq));
    NL_ASSERT_EQ(cseq, 7);
    nl_rtsp_span v;
    NL_ASSERT(nl_rtsp_header_get(&msg.req, "x-empty", &v));
    NL_ASSERT_EQ(v.n, 0);
    NL_ASSERT(nl_rtsp_header_get(&msg.req, "X-FOLDED", &v));
    SPAN_IS(v, "first\r\n  second\r\n\tthird");
    NL_ASSERT_EQ(msg.consumed, strlen(req));

    /* Empty lines before a request are consumed with it. */
    const char *lead = "\r\n\r\n\nPLAY rtsp://h/cam/ RTSP/1.0\r\nCSeq: 9\r\n\r\n";
    NL_ASSERT_EQ(parse1(lead, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(msg.consumed, strlen(lead));
    NL_ASSERT_EQ(msg.req.method, NL_RTSP_PLAY);
    check_str_all_chunkings(lead, "PLAY rtsp://h/cam/ cseq=9\n");

    /* Only empty lines so far: they are consumed, nothing else happens. */
    nl_rtsp_parser p;
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (const uint8_t *)"\r\n\r\n", 4, &msg), NL_RTSP_MSG_NEED_MORE);
    NL_ASSERT_EQ(msg.consumed, 4);
    /* A caller that did not drop them yet gets the same answer. */
    const char *partial = "\r\nOPTIONS * RTSP/1.0\r\nCSe";
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (const uint8_t *)partial, strlen(partial), &msg),
                 NL_RTSP_MSG_NEED_MORE);
    NL_ASSERT_EQ(msg.consumed, 2);
    const char *full = "\r\nOPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n";
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (const uint8_t *)full, strlen(full), &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(msg.consumed, strlen(full));
}

static void test_bodies_and_pipelining(void)
{
    /* live555's empty GET_PARAMETER body is "\r\n": Content-Length must win
     * over "looks like an empty line". Then a pipelined request, a '$' frame
     * with an empty payload, a request with a body and another frame. The
     * frames contain NUL bytes, so the buffer is assembled piece by piece. */
    static uint8_t buf[512];
    size_t len = 0;
    const char *parts[] = {
        "GET_PARAMETER rtsp://h/cam/ RTSP/1.0\r\nCSeq: 7\r\nSession: 1234abcd\r\n"
        "Content-Type: text/parameters\r\nContent-Length: 2\r\n\r\n\r\n",
        "OPTIONS rtsp://h/cam RTSP/1.0\r\nCSeq: 8\r\n\r\n",
    };
    for (size_t i = 0; i < 2; i++) {
        memcpy(buf + len, parts[i], strlen(parts[i]));
        len += strlen(parts[i]);
    }
    static const uint8_t frame0[] = {'$', 2, 0, 0};
    memcpy(buf + len, frame0, sizeof frame0);
    len += sizeof frame0;
    const char *set = "SET_PARAMETER rtsp://h/cam RTSP/1.0\r\ncontent-length: 10\r\nCSeq: 9\r\n"
                      "\r\nbarparam: ";
    memcpy(buf + len, set, strlen(set));
    len += strlen(set);
    static const uint8_t frame1[] = {'$', 1, 0, 3, 'x', 'y', 'z'};
    memcpy(buf + len, frame1, sizeof frame1);
    len += sizeof frame1;

    check_all_chunkings(buf, len,
                        "GET_PARAMETER rtsp://h/cam/ cseq=7 body=2\n"
                        "OPTIONS rtsp://h/cam cseq=8\n"
                        "$2 0\n"
                        "SET_PARAMETER rtsp://h/cam cseq=9 body=10\n"
                        "$1 3\n");

    nl_rtsp_parser p;
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, buf, len, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT(nl_rtsp_span_eq(msg.req.body, "\r\n"));
    /* While the body is incomplete the parser does not rescan the head. */
    size_t set_off = strlen(parts[0]) + strlen(parts[1]) + 4;
    size_t set_head = strlen(set) - strlen("barparam: ");
    NL_ASSERT_EQ(nl_rtsp_parse(&p, buf + set_off, set_head + 3, &msg), NL_RTSP_MSG_NEED_MORE);
    NL_ASSERT_EQ(p.need, set_head + 10);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, buf + set_off, set_head + 10, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT(nl_rtsp_span_eq(msg.req.body, "barparam: "));
    NL_ASSERT_EQ(msg.req.head_len, set_head);

    /* Equal duplicate Content-Length headers are fine. */
    const char *dup = "SET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 3\r\n"
                      "Content-Length: 3\r\n\r\nabc";
    NL_ASSERT_EQ(parse1(dup, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT(nl_rtsp_span_eq(msg.req.body, "abc"));
}

static void expect_error(const char *in, int status, bool fatal, int err)
{
    NL_ASSERT_EQ(parse1(in, &msg), NL_RTSP_MSG_ERROR);
    if (msg.status != status || msg.fatal != fatal || msg.err != err)
        NL_FAIL("input %.60s: status %d fatal %d err %d (%s), want %d %d %d", in, msg.status,
                msg.fatal, msg.err, msg.why ? msg.why : "", status, fatal, err);
    NL_ASSERT(msg.why != NULL);
    if (fatal)
        NL_ASSERT_EQ(msg.consumed, 0);
    else
        NL_ASSERT_EQ(msg.consumed, strlen(in));
}

static void test_errors(void)
{
    /* Not RTSP at all: refused at the first bad byte. */
    static const uint8_t tls[] = {0x16, 0x03, 0x01};
    nl_rtsp_parser p;
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, tls, sizeof tls, &msg), NL_RTSP_MSG_ERROR);
    NL_ASSERT_EQ(msg.status, 400);
    NL_ASSERT(msg.fatal);
    expect_error("OPTIONS\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("{\"json\": 1}\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS_AND_A_METHOD_NAME_WAY_TOO_LONG * RTSP/1.0\r\n\r\n", 400, true, NL_EPROTO);

    /* Versions: well-framed foreign requests keep the connection. */
    expect_error("GET / HTTP/1.1\r\nHost: cam\r\n\r\n", 505, false, NL_EPROTO);
    expect_error("OPTIONS * RTSP/2.0\r\nCSeq: 5\r\n\r\n", 505, false, NL_EPROTO);
    uint32_t cseq;
    NL_ASSERT(msg.have_head);
    NL_ASSERT_OK(nl_rtsp_request_cseq(&msg.req, &cseq));
    NL_ASSERT_EQ(cseq, 5); /* so the 505 can echo it */
    expect_error("OPTIONS * RTSP/1.0.1\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS * RTSP\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS * /1.0\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS * RTSP/x.0\r\n\r\n", 400, true, NL_EPROTO);

    /* Request line shape. */
    expect_error("OPTIONS * RTSP/1.0 extra\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS  RTSP/1.0\r\n\r\n", 400, true, NL_EPROTO);

    /* Header lines. */
    expect_error("OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS * RTSP/1.0\r\n folded-first\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS * RTSP/1.0\r\n: no name\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS * RTSP/1.0\r\nBad Name: x\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("OPTIONS * RTSP/1.0\r\nCSeq: 1\rX-Injected: 1\r\n\r\n", 400, true, NL_EPROTO);
    static const char nul[] = "OPTIONS * RTSP/1.0\r\nX: a\0b\r\n\r\n";
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (const uint8_t *)nul, sizeof nul - 1, &msg), NL_RTSP_MSG_ERROR);
    NL_ASSERT_EQ(msg.status, 400);

    /* Content-Length. */
    expect_error("SET_PARAMETER * RTSP/1.0\r\nContent-Length: abc\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("SET_PARAMETER * RTSP/1.0\r\nContent-Length: -1\r\n\r\n", 400, true, NL_EPROTO);
    expect_error("SET_PARAMETER * RTSP/1.0\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400,
                 true, NL_EPROTO);
    expect_error("SET_PARAMETER * RTSP/1.0\r\nCSeq: 3\r\nContent-Length: 4097\r\n\r\n", 413, true,
                 NL_ETOOBIG);
    NL_ASSERT(msg.have_head);
    NL_ASSERT_OK(nl_rtsp_request_cseq(&msg.req, &cseq));
    NL_ASSERT_EQ(cseq, 3);

    /* Interleaved frame over the cap. */
    static const uint8_t big[] = {'$', 0, 0x10, 0x01};
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, big, sizeof big, &msg), NL_RTSP_MSG_ERROR);
    NL_ASSERT_EQ(msg.status, 400);
    NL_ASSERT_EQ(msg.err, NL_ETOOBIG);
    static const uint8_t max[] = {'$', 0, 0x10, 0x00};
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, max, sizeof max, &msg), NL_RTSP_MSG_NEED_MORE);

    /* A good request, then garbage: the request is delivered, then 400. */
    check_str_all_chunkings("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n\x01\x02garbage",
                            "OPTIONS * cseq=1\n!400 fatal\n");
    /* Non-fatal errors keep the connection going. */
    check_str_all_chunkings(
        "OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n",
        "!505\nOPTIONS * cseq=2\n");
}

static void test_limits(void)
{
    static char big[NL_RTSP_MAX_MESSAGE + 4096];
    nl_rtsp_parser p;

    /* 64 headers are fine, 65 are not. */
    for (int count = 64; count <= 65; count++) {
        size_t n = (size_t)snprintf(big, sizeof big, "OPTIONS * RTSP/1.0\r\n");
        for (int i = 0; i < count; i++)
            n += (size_t)snprintf(big + n, sizeof big - n, "X-H%d: %d\r\n", i, i);
        n += (size_t)snprintf(big + n, sizeof big - n, "\r\n");
        NL_ASSERT_EQ(parse1(big, &msg), count == 64 ? NL_RTSP_MSG_REQUEST : NL_RTSP_MSG_ERROR);
        if (count == 64) {
            NL_ASSERT_EQ(msg.req.nheaders, 64);
            SPAN_IS(msg.req.headers[63].value, "63");
        } else {
            NL_ASSERT_EQ(msg.status, 400);
            NL_ASSERT_EQ(msg.err, NL_ETOOBIG);
        }
    }

    /* Head cap: one byte short is still "need more", the cap itself is 400,
     * and a head of exactly NL_RTSP_MAX_HEAD bytes is accepted. */
    size_t n = (size_t)snprintf(big, sizeof big, "OPTIONS * RTSP/1.0\r\nX-Big: ");
    while (n < NL_RTSP_MAX_HEAD + 100)
        big[n++] = 'a';
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (uint8_t *)big, NL_RTSP_MAX_HEAD - 1, &msg),
                 NL_RTSP_MSG_NEED_MORE);
    NL_ASSERT_EQ(p.scanned, NL_RTSP_MAX_HEAD - 1);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (uint8_t *)big, NL_RTSP_MAX_HEAD, &msg), NL_RTSP_MSG_ERROR);
    NL_ASSERT_EQ(msg.status, 400);
    NL_ASSERT_EQ(msg.err, NL_ETOOBIG);
    NL_ASSERT(msg.fatal);
    memcpy(big + NL_RTSP_MAX_HEAD - 4, "\r\n\r\n", 4);
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (uint8_t *)big, NL_RTSP_MAX_HEAD, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(msg.req.head_len, NL_RTSP_MAX_HEAD);

    /* Request line: refused before its end arrives (414). */
    n = (size_t)snprintf(big, sizeof big, "DESCRIBE rtsp://h/");
    while (n < NL_RTSP_MAX_REQUEST_LINE + 10)
        big[n++] = 'x';
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (uint8_t *)big, n, &msg), NL_RTSP_MSG_ERROR);
    NL_ASSERT_EQ(msg.status, 414);
    NL_ASSERT(msg.fatal);

    /* URL over NL_RTSP_MAX_URL but the line within bounds: 414, keep going. */
    n = (size_t)snprintf(big, sizeof big, "DESCRIBE rtsp://h/");
    while (n < NL_RTSP_MAX_URL + 100)
        big[n++] = 'y';
    n += (size_t)snprintf(big + n, sizeof big - n, " RTSP/1.0\r\nCSeq: 2\r\n\r\n");
    NL_ASSERT_EQ(parse1(big, &msg), NL_RTSP_MSG_ERROR);
    NL_ASSERT_EQ(msg.status, 414);
    NL_ASSERT(!msg.fatal);
    NL_ASSERT_EQ(msg.consumed, n);

    /* Largest body. */
    n = (size_t)snprintf(big, sizeof big, "SET_PARAMETER * RTSP/1.0\r\nContent-Length: %d\r\n\r\n",
                         NL_RTSP_MAX_BODY);
    memset(big + n, 'b', NL_RTSP_MAX_BODY);
    n += NL_RTSP_MAX_BODY;
    big[n] = '\0';
    NL_ASSERT_EQ(parse1(big, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(msg.req.body.n, NL_RTSP_MAX_BODY);
}

static void test_incremental_scan(void)
{
    /* Fed one byte at a time, the parser resumes where it stopped instead of
     * rescanning: `scanned` tracks the input exactly. */
    static char req[NL_RTSP_MAX_HEAD];
    size_t n = (size_t)snprintf(req, sizeof req, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n");
    while (n < 8000) {
        n += (size_t)snprintf(req + n, sizeof req - n, "X-Pad: %0500d\r\n", 0);
    }
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n");
    nl_rtsp_parser p;
    nl_rtsp_parser_init(&p);
    for (size_t k = 1; k < n; k++) {
        NL_ASSERT_EQ(nl_rtsp_parse(&p, (uint8_t *)req, k, &msg), NL_RTSP_MSG_NEED_MORE);
        if (p.scanned != k)
            NL_FAIL("after %zu bytes scanned=%zu", k, p.scanned);
    }
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (uint8_t *)req, n, &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(msg.consumed, n);
    NL_ASSERT_EQ(p.scanned, 0); /* reset for the next message */
}

static void test_cseq(void)
{
    static const struct {
        const char *value;
        int rc;
        uint32_t cseq;
    } cases[] = {
        {"1", 0, 1},           {" 42 ", 0, 42},        {"4294967295", 0, 4294967295u},
        {"4294967296", -1, 0}, {"-1", -1, 0},          {"abc", -1, 0},
        {"", -1, 0},           {"12345678901", -1, 0}, {"1 2", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[128];
        snprintf(req, sizeof req, "OPTIONS * RTSP/1.0\r\nCSeq: %s\r\n\r\n", cases[i].value);
        NL_ASSERT_EQ(parse1(req, &msg), NL_RTSP_MSG_REQUEST);
        uint32_t cseq = 0;
        int rc = nl_rtsp_request_cseq(&msg.req, &cseq);
        NL_ASSERT_EQ(rc < 0 ? -1 : 0, cases[i].rc);
        if (rc == 0)
            NL_ASSERT_UEQ(cseq, cases[i].cseq);
        else
            NL_ASSERT_EQ(rc, NL_EPROTO);
    }
    /* No CSeq at all (the server answers 400 without one). */
    uint32_t cseq;
    NL_ASSERT_EQ(parse1("OPTIONS * RTSP/1.0\r\n\r\n", &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(msg.req.nheaders, 0);
    NL_ASSERT_EQ(nl_rtsp_request_cseq(&msg.req, &cseq), NL_EPROTO);
    NL_ASSERT_EQ(parse1("OPTIONS * RTSP/1.0\r\nX: 1\r\n\r\n", &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(nl_rtsp_request_cseq(&msg.req, &cseq), NL_EPROTO);
    /* Duplicates: the first wins. */
    NL_ASSERT_EQ(parse1("OPTIONS * RTSP/1.0\r\nCSeq: 3\r\ncseq: 4\r\n\r\n", &msg),
                 NL_RTSP_MSG_REQUEST);
    NL_ASSERT_OK(nl_rtsp_request_cseq(&msg.req, &cseq));
    NL_ASSERT_EQ(cseq, 3);
}

static void test_session_header(void)
{
    static const struct {
        const char *value;
        int rc;
        const char *id;
        int timeout;
    } cases[] = {
        {"4f2a9c81d0e3b657", 0, "4f2a9c81d0e3b657", -1},
        {"abcdefgh;timeout=60", 0, "abcdefgh", 60},
        {" abcdefgh ; timeout = 30 ", 0, "abcdefgh", 30},
        {"abc$-_.+;foo=bar;timeout=5", 0, "abc$-_.+", 5},
        {"abc;foo", 0, "abc", -1},
        {";timeout=5", NL_EPROTO, NULL, 0},
        {"", NL_EPROTO, NULL, 0},
        {"abc;timeout=x", NL_EPROTO, NULL, 0},
        {"abc;timeout=99999999999", NL_EPROTO, NULL, 0},
        {"a\"b", NL_EPROTO, NULL, 0},
        {"a,b", NL_EPROTO, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nl_rtsp_session_hdr s;
        const char *v = cases[i].value;
        int rc = nl_rtsp_parse_session(nl_rtsp_span_make(v, strlen(v)), &s);
        NL_ASSERT_EQ(rc, cases[i].rc);
        if (rc == 0) {
            SPAN_IS(s.id, cases[i].id);
            NL_ASSERT_EQ(s.timeout, cases[i].timeout);
        }
    }
    char longid[NL_RTSP_MAX_SESSION_ID + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    nl_rtsp_session_hdr s;
    NL_ASSERT_EQ(nl_rtsp_parse_session(nl_rtsp_span_make(longid, strlen(longid)), &s), NL_EPROTO);
    NL_ASSERT_OK(nl_rtsp_parse_session(nl_rtsp_span_make(longid, strlen(longid) - 1), &s));

    NL_ASSERT_EQ(parse1("PLAY * RTSP/1.0\r\nCSeq: 1\r\n\r\n", &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(nl_rtsp_request_session(&msg.req, &s), 0);
    NL_ASSERT_EQ(parse1("PLAY * RTSP/1.0\r\nSession: ;x\r\n\r\n", &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(nl_rtsp_request_session(&msg.req, &s), NL_EPROTO);
}

static void test_range_header(void)
{
    static const struct {
        const char *value;
        int rc;
        int unit;
        bool now, has_start;
        int64_t start;
        bool has_end;
        int64_t end;
    } cases[] = {
        {"npt=0.000-", 0, NL_RTSP_RANGE_NPT, false, true, 0, false, 0},
        {"npt=0-", 0, NL_RTSP_RANGE_NPT, false, true, 0, false, 0},
        {"npt=now-", 0, NL_RTSP_RANGE_NPT, true, false, 0, false, 0},
        {"npt = 10-20.5", 0, NL_RTSP_RANGE_NPT, false, true, 10000000, true, 20500000},
        {"npt=-5", 0, NL_RTSP_RANGE_NPT, false, false, 0, true, 5000000},
        {"npt=1:02:03.5-", 0, NL_RTSP_RANGE_NPT, false, true, 3723500000, false, 0},
        {"npt=0.1234567-", 0, NL_RTSP_RANGE_NPT, false, true, 123456, false, 0},
        {"npt=0.000-;time=19970123T143720Z", 0, NL_RTSP_RANGE_NPT, false, true, 0, false, 0},
        {"clock=19961108T142300Z-19961108T143520Z", 0, NL_RTSP_RANGE_OTHER, 0, 0, 0, 0, 0},
        {"smpte=10:07:00-10:07:33:05.01", 0, NL_RTSP_RANGE_OTHER, 0, 0, 0, 0, 0},
        {"npt=5-3", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"npt=", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"npt=-", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"npt=abc-", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"npt=1:60:00-", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"npt=0-now", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"npt=12345678901-", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"npt=1234567:00:00-", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"0-", NL_EPROTO, 0, 0, 0, 0, 0, 0},
        {"=0-", NL_EPROTO, 0, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nl_rtsp_range r;
        const char *v = cases[i].value;
        int rc = nl_rtsp_parse_range(nl_rtsp_span_make(v, strlen(v)), &r);
        if (rc != cases[i].rc)
            NL_FAIL("range '%s': rc %d", v, rc);
        if (rc)
            continue;
        NL_ASSERT_EQ(r.unit, cases[i].unit);
        if (r.unit != NL_RTSP_RANGE_NPT)
            continue;
        NL_ASSERT_EQ(r.start_now, cases[i].now);
        NL_ASSERT_EQ(r.has_start, cases[i].has_start);
        NL_ASSERT_EQ(r.start_us, cases[i].start);
        NL_ASSERT_EQ(r.has_end, cases[i].has_end);
        NL_ASSERT_EQ(r.end_us, cases[i].end);
    }
}

static void test_span_helpers(void)
{
    nl_rtsp_span s = nl_rtsp_span_trim(nl_rtsp_span_make(" \t\r\nab c\n ", 10));
    NL_ASSERT(nl_rtsp_span_eq(s, "ab c"));
    NL_ASSERT(nl_rtsp_span_ieq(s, "AB C"));
    NL_ASSERT(!nl_rtsp_span_eq(s, "ab"));
    NL_ASSERT(nl_rtsp_span_eq(nl_rtsp_span_make(NULL, 0), ""));
    uint32_t v;
    NL_ASSERT_EQ(nl_rtsp_span_u32(nl_rtsp_span_make("0012", 4), &v), 0);
    NL_ASSERT_EQ(v, 12);
}

int main(void)
{
    NL_RUN(test_golden_sessions);
    NL_RUN(test_ffmpeg_setup_details);
    NL_RUN(test_gstreamer_details);
    NL_RUN(test_every_method);
    NL_RUN(test_line_endings_and_whitespace);
    NL_RUN(test_bodies_and_pipelining);
    NL_RUN(test_errors);
    NL_RUN(test_limits);
    NL_RUN(test_incremental_scan);
    NL_RUN(test_cseq);
    NL_RUN(test_session_header);
    NL_RUN(test_range_header);
    NL_RUN(test_span_helpers);
    NL_DONE();
}
