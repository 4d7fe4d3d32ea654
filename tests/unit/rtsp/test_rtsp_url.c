/* Request URL parsing and lenient mount matching (RTSP.md §2.3). */
#include "neolink/error.h"
#include "rtsp/url.h"
#include "test.h"

static nl_rtsp_url u;

static int parse(const char *s)
{
    return nl_rtsp_url_parse(nl_rtsp_span_make(s, strlen(s)), &u);
}

static void test_client_spellings(void)
{
    /* What ffmpeg/GStreamer/VLC send for one mount "cam". */
    static const struct {
        const char *url;
        const char *path;
        int track;
        int style;
        bool slash;
    } cases[] = {
        {"rtsp://127.0.0.1:8554/cam", "/cam", -1, NL_RTSP_TRACK_NONE, false},
        {"rtsp://127.0.0.1:8554/cam/", "/cam", -1, NL_RTSP_TRACK_NONE, true},
        {"rtsp://127.0.0.1:8554/cam/streamid=0", "/cam/streamid=0", 0, NL_RTSP_TRACK_STREAMID,
         false},
        {"rtsp://127.0.0.1:8554/cam/streamid=1/", "/cam/streamid=1", 1, NL_RTSP_TRACK_STREAMID,
         true},
        {"rtsp://h/cam/trackID=1", "/cam/trackID=1", 1, NL_RTSP_TRACK_TRACKID, false},
        {"rtsp://h/cam/trackid=2", "/cam/trackid=2", 2, NL_RTSP_TRACK_TRACKID, false},
        {"rtsp://h/cam/track1", "/cam/track1", 1, NL_RTSP_TRACK_TRACK, false},
        {"rtsp://h/cam/stream=0", "/cam/stream=0", 0, NL_RTSP_TRACK_STREAM, false},
        {"/cam", "/cam", -1, NL_RTSP_TRACK_NONE, false},
        {"/cam?video=h264&audio=aac", "/cam", -1, NL_RTSP_TRACK_NONE, false},
        {"RTSP://H:554//cam//streamid=0", "/cam/streamid=0", 0, NL_RTSP_TRACK_STREAMID, false},
        {"rtspu://h/cam#frag", "/cam", -1, NL_RTSP_TRACK_NONE, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        NL_ASSERT_OK(parse(cases[i].url));
        NL_ASSERT_STREQ(u.path, cases[i].path);
        NL_ASSERT_EQ(u.path_len, strlen(cases[i].path));
        NL_ASSERT_EQ(u.track, cases[i].track);
        NL_ASSERT_EQ(u.track_style, cases[i].style);
        NL_ASSERT_EQ(u.trailing_slash, cases[i].slash);
        int track = 99;
        NL_ASSERT(nl_rtsp_url_match(&u, "cam", &track));
        NL_ASSERT_EQ(track, cases[i].track);
        NL_ASSERT(nl_rtsp_url_match(&u, "/cam/", &track));
        NL_ASSERT(!nl_rtsp_url_match(&u, "ca", NULL));
        NL_ASSERT(!nl_rtsp_url_match(&u, "cam2", NULL));
        NL_ASSERT(!nl_rtsp_url_match(&u, "Cam", NULL)); /* paths are case-sensitive */
    }
}

static void test_authority(void)
{
    NL_ASSERT_OK(parse("rtsp://127.0.0.1:8554/cam"));
    NL_ASSERT(u.absolute);
    NL_ASSERT(nl_rtsp_span_eq(u.host, "127.0.0.1"));
    NL_ASSERT(u.has_port);
    NL_ASSERT_EQ(u.port, 8554);

    /* Userinfo is skipped and never kept. */
    const char *cred = "rtsp://admin:s%3Acret@192.168.1.20/cam";
    NL_ASSERT_OK(parse(cred));
    NL_ASSERT(nl_rtsp_span_eq(u.host, "192.168.1.20"));
    NL_ASSERT(u.host.p > strchr(cred, '@'));
    NL_ASSERT(!u.has_port);
    NL_ASSERT(memmem(&u, sizeof u, "cret", 4) == NULL);
    NL_ASSERT_STREQ(u.path, "/cam");

    NL_ASSERT_OK(parse("rtsp://[::1]:8554/cam/"));
    NL_ASSERT(nl_rtsp_span_eq(u.host, "::1"));
    NL_ASSERT_EQ(u.port, 8554);
    NL_ASSERT_OK(parse("rtsp://[fe80::1%25eth0]/x"));
    NL_ASSERT(nl_rtsp_span_eq(u.host, "fe80::1%25eth0"));

    NL_ASSERT_OK(parse("rtsp://host:/cam"));
    NL_ASSERT(!u.has_port);
    NL_ASSERT_OK(parse("rtsp://host"));
    NL_ASSERT_STREQ(u.path, "/");
    NL_ASSERT(nl_rtsp_url_match(&u, "/", NULL));
    NL_ASSERT(nl_rtsp_url_match(&u, "", NULL));
    NL_ASSERT(!nl_rtsp_url_match(&u, "cam", NULL));
    NL_ASSERT_OK(parse("rtsp://host?x=1"));
    NL_ASSERT_STREQ(u.path, "/");
    NL_ASSERT(nl_rtsp_span_eq(u.query, "x=1"));

    NL_ASSERT_OK(parse("*"));
    NL_ASSERT(u.star);
    NL_ASSERT(!nl_rtsp_url_match(&u, "cam", NULL));
}

static void test_decoding(void)
{
    NL_ASSERT_OK(parse("rtsp://h/front%20door/streamid=0"));
    NL_ASSERT_STREQ(u.path, "/front door/streamid=0");
    NL_ASSERT(nl_rtsp_url_match(&u, "front door", NULL));
    NL_ASSERT_OK(parse("/caf%C3%A9"));
    NL_ASSERT_STREQ(u.path, "/caf\xc3\xa9");
    NL_ASSERT_OK(parse("/%41%62"));
    NL_ASSERT_STREQ(u.path, "/Ab");

    /* A mount literally named "track1" matches as a whole path first. */
    NL_ASSERT_OK(parse("rtsp://h/yard/track1"));
    int track = 5;
    NL_ASSERT(nl_rtsp_url_match(&u, "yard/track1", &track));
    NL_ASSERT_EQ(track, -1);
    NL_ASSERT(nl_rtsp_url_match(&u, "yard", &track));
    NL_ASSERT_EQ(track, 1);
    /* A single segment is never a control suffix. */
    NL_ASSERT_OK(parse("rtsp://h/track1"));
    NL_ASSERT_EQ(u.track, -1);
    NL_ASSERT(nl_rtsp_url_match(&u, "track1", NULL));
    /* Not suffixes: no number, too many digits, letters after. */
    NL_ASSERT_OK(parse("/cam/streamid="));
    NL_ASSERT_EQ(u.track_style, NL_RTSP_TRACK_NONE);
    NL_ASSERT_OK(parse("/cam/track1234"));
    NL_ASSERT_EQ(u.track_style, NL_RTSP_TRACK_NONE);
    NL_ASSERT_OK(parse("/cam/trackID=1x"));
    NL_ASSERT_EQ(u.track_style, NL_RTSP_TRACK_NONE);
    NL_ASSERT_EQ(u.mount_len, u.path_len);
}

static void test_errors(void)
{
    static const char *bad[] = {
        "",
        "http://h/cam",
        "rtsps://h/cam",
        "cam",
        "rtsp:/h/cam",
        "rtsp://h:0/cam",
        "rtsp://h:65536/cam",
        "rtsp://h:12a/cam",
        "rtsp://[::1/cam",
        "rtsp://[::1]x/cam",
        "/cam%",
        "/cam%4",
        "/cam%zz",
        "/cam%00x",
        "/cam%0d%0aX: y",
        "/a b",
        "/a\tb",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i]);
        if (rc != NL_EPROTO)
            NL_FAIL("'%s' gave %d", bad[i], rc);
    }
    /* Bounded: a path decoding past NL_RTSP_MAX_PATH is 414 material. */
    static char big[NL_RTSP_MAX_PATH + 16];
    big[0] = '/';
    memset(big + 1, 'a', sizeof big - 2);
    big[sizeof big - 1] = '\0';
    NL_ASSERT_EQ(parse(big), NL_ETOOBIG);
    big[NL_RTSP_MAX_PATH] = '\0'; /* "/" + 511 chars = 512 */
    NL_ASSERT_OK(parse(big));
    NL_ASSERT_EQ(u.path_len, NL_RTSP_MAX_PATH);
}

int main(void)
{
    NL_RUN(test_client_spellings);
    NL_RUN(test_authority);
    NL_RUN(test_decoding);
    NL_RUN(test_errors);
    NL_DONE();
}
