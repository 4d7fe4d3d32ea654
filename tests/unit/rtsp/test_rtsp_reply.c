/* RTSP response builder: exact bytes of the replies the server sends, reason
 * phrases, header injection refused, and all-or-nothing on overflow. */
#include "neolink/error.h"
#include "rtsp/reply.h"
#include "test.h"

static char buf[4096];

static void test_reasons(void)
{
    static const struct {
        int code;
        const char *reason;
    } want[] = {
        {200, "OK"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {413, "Request Entity Too Large"},
        {414, "Request-URI Too Large"},
        {451, "Parameter Not Understood"},
        {453, "Not Enough Bandwidth"},
        {454, "Session Not Found"},
        {455, "Method Not Valid in This State"},
        {457, "Invalid Range"},
        {459, "Aggregate operation not allowed"},
        {461, "Unsupported transport"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
        {505, "RTSP Version not supported"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        NL_ASSERT_STREQ(nl_rtsp_reason(want[i].code), want[i].reason);
    NL_ASSERT(nl_rtsp_reason(299) == NULL);

    nl_rtsp_reply r;
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 299, 1);
    NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), 28);
    NL_ASSERT_STREQ(buf, "RTSP/1.0 299 OK\r\nCSeq: 1\r\n\r\n");
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 99, 1);
    NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), NL_EINVAL);
    NL_ASSERT_STREQ(buf, "");
}

static void test_options_and_errors(void)
{
    nl_rtsp_reply r;
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 1);
    nl_rtsp_reply_server(&r, "libneolink/0.1.0");
    nl_rtsp_reply_date(&r, 784111777); /* RFC 1123's own example instant */
    nl_rtsp_reply_public(&r);
    int n = nl_rtsp_reply_finish(&r, NULL, NULL, 0);
    const char *want = "RTSP/1.0 200 OK\r\n"
                       "CSeq: 1\r\n"
                       "Server: libneolink/0.1.0\r\n"
                       "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                       "Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, "
                       "SET_PARAMETER\r\n"
                       "\r\n";
    NL_ASSERT_STREQ(buf, want);
    NL_ASSERT_EQ(n, (int)strlen(want));

    /* 400 to a request without a usable CSeq: no CSeq line at all. */
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 400, -1);
    NL_ASSERT_OK(nl_rtsp_reply_finish(&r, NULL, NULL, 0));
    NL_ASSERT_STREQ(buf, "RTSP/1.0 400 Bad Request\r\n\r\n");

    /* 405 lists what is allowed. */
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 405, 4294967295ll);
    nl_rtsp_reply_allow(&r);
    NL_ASSERT_OK(nl_rtsp_reply_finish(&r, NULL, NULL, 0));
    NL_ASSERT_STREQ(buf, "RTSP/1.0 405 Method Not Allowed\r\nCSeq: 4294967295\r\n"
                         "Allow: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, "
                         "SET_PARAMETER\r\n\r\n");

    /* 401 with both challenges, Digest first. */
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 401, 2);
    nl_rtsp_reply_www_authenticate(&r, "Digest realm=\"neolink\", nonce=\"abc\", algorithm=MD5");
    nl_rtsp_reply_www_authenticate(&r, "Basic realm=\"neolink\"");
    NL_ASSERT_OK(nl_rtsp_reply_finish(&r, NULL, NULL, 0));
    NL_ASSERT_STREQ(buf, "RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
                         "WWW-Authenticate: Digest realm=\"neolink\", nonce=\"abc\", "
                         "algorithm=MD5\r\n"
                         "WWW-Authenticate: Basic realm=\"neolink\"\r\n\r\n");
}

static void test_describe(void)
{
    const char *sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=neolink\r\nt=0 0\r\n";
    nl_rtsp_reply r;
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 3);
    const char *url = "rtsp://127.0.0.1:8554/cam";
    nl_rtsp_reply_content_base(&r, nl_rtsp_span_make(url, strlen(url)));
    int n = nl_rtsp_reply_finish(&r, "application/sdp", sdp, strlen(sdp));
    char want[512];
    snprintf(want, sizeof want,
             "RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Base: rtsp://127.0.0.1:8554/cam/\r\n"
             "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(sdp), sdp);
    NL_ASSERT_STREQ(buf, want);
    NL_ASSERT_EQ(n, (int)strlen(want));
    NL_ASSERT_EQ(r.len, strlen(want));

    /* A URL that already ends in '/' keeps a single one. */
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 3);
    nl_rtsp_reply_content_base(&r, nl_rtsp_span_make("rtsp://h/cam/", 13));
    NL_ASSERT_OK(nl_rtsp_reply_finish(&r, NULL, NULL, 0));
    NL_ASSERT(strstr(buf, "Content-Base: rtsp://h/cam/\r\n") != NULL);
}

static void test_setup_and_play(void)
{
    nl_rtsp_transport t;
    nl_rtsp_transport_policy pol = {true, true, "127.0.0.1"};
    const char *hdr = "RTP/AVP/TCP;unicast;interleaved=0-1";
    NL_ASSERT_EQ(nl_rtsp_transport_choose(nl_rtsp_span_make(hdr, strlen(hdr)), &pol, &t), 0);
    t.has_ssrc = true;
    t.ssrc = 0x12345678;
    nl_rtsp_reply r;
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 4);
    nl_rtsp_reply_session(&r, "4f2a9c81d0e3b657", 60);
    nl_rtsp_reply_transport(&r, &t);
    NL_ASSERT_OK(nl_rtsp_reply_finish(&r, NULL, NULL, 0));
    NL_ASSERT_STREQ(buf, "RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: 4f2a9c81d0e3b657;timeout=60\r\n"
                         "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=12345678\r\n\r\n");

    nl_rtsp_rtp_info info[2] = {
        {"rtsp://127.0.0.1:8554/cam/streamid=0", 4661, 2837152},
        {"rtsp://127.0.0.1:8554/cam/streamid=1", 65535, 4294967295u},
    };
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 5);
    nl_rtsp_reply_session(&r, "4f2a9c81d0e3b657", 0);
    nl_rtsp_reply_header(&r, "Range", "npt=0.000-");
    nl_rtsp_reply_rtp_info(&r, info, 2);
    nl_rtsp_reply_rtp_info(&r, info, 0); /* nothing */
    NL_ASSERT_OK(nl_rtsp_reply_finish(&r, NULL, NULL, 0));
    NL_ASSERT_STREQ(buf, "RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: 4f2a9c81d0e3b657\r\n"
                         "Range: npt=0.000-\r\n"
                         "RTP-Info: url=rtsp://127.0.0.1:8554/cam/streamid=0;seq=4661;"
                         "rtptime=2837152,url=rtsp://127.0.0.1:8554/cam/streamid=1;seq=65535;"
                         "rtptime=4294967295\r\n\r\n");

    /* A UDP transport without server ports cannot be answered. */
    hdr = "RTP/AVP;unicast;client_port=5000-5001";
    NL_ASSERT_EQ(nl_rtsp_transport_choose(nl_rtsp_span_make(hdr, strlen(hdr)), &pol, &t), 0);
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 6);
    nl_rtsp_reply_transport(&r, &t);
    NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), NL_EINVAL);
    NL_ASSERT_EQ(r.len, 0);
}

static void test_refuses_injection(void)
{
    nl_rtsp_reply r;
    const char *evil = "rtsp://h/cam\r\nX-Evil: 1";
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 1);
    nl_rtsp_reply_content_base(&r, nl_rtsp_span_make(evil, strlen(evil)));
    nl_rtsp_reply_header(&r, "Server", "fine"); /* ignored after the error */
    NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), NL_EINVAL);
    NL_ASSERT_STREQ(buf, "");
    NL_ASSERT_EQ(r.len, 0);

    static const char *bad_values[] = {"a\rb", "a\nb", "x\r\n"};
    for (size_t i = 0; i < 3; i++) {
        nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 1);
        nl_rtsp_reply_header(&r, "X-Test", bad_values[i]);
        NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), NL_EINVAL);
    }
    static const char *bad_names[] = {"", "Bad Name", "X:Y", "X\r\n"};
    for (size_t i = 0; i < 4; i++) {
        nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 1);
        nl_rtsp_reply_header(&r, bad_names[i], "v");
        NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), NL_EINVAL);
    }
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 1);
    nl_rtsp_reply_headerf(&r, "X-Fmt", "%s", "a\nb");
    NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), NL_EINVAL);
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 1);
    nl_rtsp_reply_session(&r, "abc;timeout=1", 60);
    NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), NL_EINVAL);
    nl_rtsp_rtp_info info = {"rtsp://h/a,b", 1, 2};
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 1);
    nl_rtsp_reply_rtp_info(&r, &info, 1);
    NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, NULL, NULL, 0), NL_EINVAL);
    nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, 1);
    NL_ASSERT_EQ(nl_rtsp_reply_finish(&r, "text/plain", NULL, 5), NL_EINVAL);
}

/* Builds a full DESCRIBE answer into a buffer of every size from 0 up: it
 * either fits completely or the call fails with nothing in the buffer. */
static void test_all_or_nothing(void)
{
    static char small[1024];
    const char *sdp = "v=0\r\ns=x\r\n";
    int full = -1;
    for (size_t cap = 0; cap < 400; cap++) {
        memset(small, 'Z', sizeof small);
        nl_rtsp_reply r;
        nl_rtsp_reply_begin(&r, cap ? small : NULL, cap, 200, 12345);
        nl_rtsp_reply_server(&r, "libneolink/0.1.0");
        nl_rtsp_reply_content_base(&r, nl_rtsp_span_make("rtsp://h/cam", 12));
        nl_rtsp_reply_session(&r, "0123456789abcdef", 60);
        nl_rtsp_reply_headerf(&r, "X-Count", "%d", 42);
        int n = nl_rtsp_reply_finish(&r, "application/sdp", sdp, strlen(sdp));
        if (n < 0) {
            NL_ASSERT_EQ(n, NL_ETOOBIG);
            NL_ASSERT_EQ(r.len, 0);
            if (cap)
                NL_ASSERT_EQ(small[0], '\0');
            NL_ASSERT_EQ(small[cap], 'Z'); /* nothing written past cap */
            NL_ASSERT(full < 0);           /* no success below a failure's size */
        } else {
            if (full < 0) {
                full = n;
                NL_ASSERT_EQ(cap, (size_t)n + 1); /* the smallest buffer that fits works */
            }
            NL_ASSERT_EQ(n, full);
            NL_ASSERT(cap >= (size_t)n + 1); /* room for the NUL too */
            if (cap == (size_t)n + 1)
                NL_ASSERT_EQ(small[n], '\0');
            NL_ASSERT(strstr(small, "X-Count: 42\r\n") != NULL);
            NL_ASSERT_EQ(memcmp(small + n - strlen(sdp), sdp, strlen(sdp)), 0);
        }
    }
    NL_ASSERT(full > 0);
}

int main(void)
{
    NL_RUN(test_reasons);
    NL_RUN(test_options_and_errors);
    NL_RUN(test_describe);
    NL_RUN(test_setup_and_play);
    NL_RUN(test_refuses_injection);
    NL_RUN(test_all_or_nothing);
    NL_DONE();
}
