/* RTSP Basic/Digest authentication. Expected Digest responses are computed
 * here from RFC 2617 §3.2.2.1 with a one-shot MD5 of the concatenated string
 * (a different code path from auth.c's incremental hashing), checked against
 * RFC 2617's own example and against responses real ffmpeg 5.1 and GStreamer
 * 1.22 computed in the captured sessions (user admin, password secret). */
#include <stdlib.h>

#include <libavutil/md5.h>

#include "neolink/error.h"
#include "rtsp/auth.h"
#include "rtsp/parse.h"
#include "test.h"

static nl_rtsp_authz z;
static nl_rtsp_msg msg;

static void md5hex(const char *s, char out[33])
{
    uint8_t d[16];
    av_md5_sum(d, (const uint8_t *)s, strlen(s));
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* RFC 2617 response; qop/nc/cnonce NULL for the RFC 2069 form. */
static void ref_response(const char *user, const char *realm, const char *pass, const char *method,
                         const char *uri, const char *nonce, const char *nc, const char *cnonce,
                         const char *qop, char out[33])
{
    char buf[1024], ha1[33], ha2[33];
    snprintf(buf, sizeof buf, "%s:%s:%s", user, realm, pass);
    md5hex(buf, ha1);
    snprintf(buf, sizeof buf, "%s:%s", method, uri);
    md5hex(buf, ha2);
    if (qop)
        snprintf(buf, sizeof buf, "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
    else
        snprintf(buf, sizeof buf, "%s:%s:%s", ha1, nonce, ha2);
    md5hex(buf, out);
}

static int parse_authz(const char *v)
{
    return nl_rtsp_authz_parse(nl_rtsp_span_make(v, strlen(v)), &z);
}

static nl_rtsp_span S(const char *s)
{
    return nl_rtsp_span_make(s, strlen(s));
}

#define SPAN_IS(span, str) NL_ASSERT(nl_rtsp_span_eq((span), (str)))

static void test_rfc2617_example(void)
{
    /* RFC 2617 §3.5, verbatim (folded onto one line). */
    NL_ASSERT_OK(
        parse_authz("Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                    "qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
                    "response=\"6629fae49393a05397450978507c4ef1\", "
                    "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    NL_ASSERT_EQ(z.scheme, NL_RTSP_AUTH_DIGEST);
    SPAN_IS(z.username, "Mufasa");
    SPAN_IS(z.realm, "testrealm@host.com");
    SPAN_IS(z.uri, "/dir/index.html");
    SPAN_IS(z.qop, "auth");
    SPAN_IS(z.nc, "00000001");
    SPAN_IS(z.cnonce, "0a4f113b");
    SPAN_IS(z.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
    char out[33], ref[33];
    NL_ASSERT_OK(nl_rtsp_digest_response(&z, S("GET"), "Circle Of Life", out));
    NL_ASSERT_STREQ(out, "6629fae49393a05397450978507c4ef1");
    ref_response("Mufasa", "testrealm@host.com", "Circle Of Life", "GET", "/dir/index.html",
                 "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth", ref);
    NL_ASSERT_STREQ(out, ref);
    NL_ASSERT_OK(nl_rtsp_digest_response(&z, S("GET"), "Circle of Life", out));
    NL_ASSERT(strcmp(out, "6629fae49393a05397450978507c4ef1") != 0);

    /* MD5-sess (RFC 2617 §3.2.2.2): HA1 = MD5(MD5(u:r:p):nonce:cnonce). */
    NL_ASSERT_OK(
        parse_authz("Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
                    "algorithm=MD5-sess, qop=auth, nc=00000001, cnonce=\"0a4f113b\", "
                    "response=\"x\""));
    char ha1[33], sess[33], buf[512], ha2[33];
    md5hex("Mufasa:testrealm@host.com:Circle Of Life", ha1);
    snprintf(buf, sizeof buf, "%s:dcd98b7102dd2f0e8b11d0f600bfb0c093:0a4f113b", ha1);
    md5hex(buf, sess);
    md5hex("GET:/dir/index.html", ha2);
    snprintf(buf, sizeof buf, "%s:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:%s",
             sess, ha2);
    md5hex(buf, ref);
    NL_ASSERT_OK(nl_rtsp_digest_response(&z, S("GET"), "Circle Of Life", out));
    NL_ASSERT_STREQ(out, ref);
}

/* Walks a captured session and checks every Digest response the real client
 * computed against ours. Returns how many were checked. */
static int check_capture(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rtsp/%s", NL_TEST_DATA, file);
    size_t n;
    uint8_t *data = nl_test_read_file(path, &n);
    nl_rtsp_parser p;
    nl_rtsp_parser_init(&p);
    size_t off = 0;
    int checked = 0;
    while (off < n) {
        nl_rtsp_msg_kind k = nl_rtsp_parse(&p, data + off, n - off, &msg);
        NL_ASSERT(k == NL_RTSP_MSG_REQUEST || k == NL_RTSP_MSG_INTERLEAVED);
        off += msg.consumed;
        nl_rtsp_span v;
        if (k != NL_RTSP_MSG_REQUEST || !nl_rtsp_header_get(&msg.req, "Authorization", &v))
            continue;
        NL_ASSERT_OK(nl_rtsp_authz_parse(v, &z));
        if (z.scheme == NL_RTSP_AUTH_BASIC) {
            checked++;
            continue;
        }
        char out[33], ref[33];
        NL_ASSERT_OK(nl_rtsp_digest_response(&z, msg.req.method_name, "secret", out));
        if (!nl_rtsp_span_eq(z.response, out))
            NL_FAIL("%s: %.*s response %.*s, ours %s", file, (int)msg.req.method_name.n,
                    msg.req.method_name.p, (int)z.response.n, z.response.p, out);
        char uri[256], method[32], nonce[64], nc[16] = "", cnonce[64] = "", qop[16] = "";
        snprintf(uri, sizeof uri, "%.*s", (int)z.uri.n, z.uri.p);
        snprintf(method, sizeof method, "%.*s", (int)msg.req.method_name.n, msg.req.method_name.p);
        snprintf(nonce, sizeof nonce, "%.*s", (int)z.nonce.n, z.nonce.p);
        if (z.qop.p) {
            snprintf(nc, sizeof nc, "%.*s", (int)z.nc.n, z.nc.p);
            snprintf(cnonce, sizeof cnonce, "%.*s", (int)z.cnonce.n, z.cnonce.p);
            snprintf(qop, sizeof qop, "%.*s", (int)z.qop.n, z.qop.p);
        }
        ref_response("admin", "neolink", "secret", method, uri, nonce, nc, cnonce,
                     z.qop.p ? qop : NULL, ref);
        NL_ASSERT_STREQ(out, ref);
        NL_ASSERT_OK(nl_rtsp_digest_response(&z, msg.req.method_name, "Secret", out));
        NL_ASSERT(!nl_rtsp_span_eq(z.response, out));
        checked++;
    }
    free(data);
    return checked;
}

static void test_real_client_responses(void)
{
    NL_ASSERT_EQ(check_capture("ffmpeg51_tcp_digest.bin"), 4);
    NL_ASSERT_EQ(check_capture("ffmpeg51_tcp_digest_qop.bin"), 3);
    NL_ASSERT_EQ(check_capture("ffmpeg51_udp_digest.bin"), 3);
    NL_ASSERT_EQ(check_capture("gst122_tcp_digest.bin"), 5);
    NL_ASSERT_EQ(check_capture("gst122_udp_digest.bin"), 4);
    NL_ASSERT_EQ(check_capture("gst122_udp_then_tcp_digest.bin"), 5);
    NL_ASSERT_EQ(check_capture("vlc3_live555_udp_digest.constructed.bin"), 5);
    NL_ASSERT_EQ(check_capture("ffmpeg51_udp_fallback_tcp.constructed.bin"), 7);
    NL_ASSERT_EQ(check_capture("ffmpeg51_tcp_basic.bin"), 4);

    /* ffmpeg quotes algorithm and qop; GStreamer sends neither. */
    NL_ASSERT_OK(parse_authz("Digest username=\"admin\", realm=\"neolink\", "
                             "nonce=\"0a4f113b5c6d7e8f9a0b1c2d3e4f5061\", "
                             "uri=\"rtsp://127.0.0.1:18555/cam\", "
                             "response=\"eaf85335c929faac6f004738c2674c76\", algorithm=\"MD5\", "
                             "qop=\"auth\", cnonce=\"af62caaa268afe8e\", nc=00000001"));
    SPAN_IS(z.algorithm, "MD5");
    SPAN_IS(z.qop, "auth");
    SPAN_IS(z.cnonce, "af62caaa268afe8e");
    char out[33];
    NL_ASSERT_OK(nl_rtsp_digest_response(&z, S("DESCRIBE"), "secret", out));
    NL_ASSERT_STREQ(out, "eaf85335c929faac6f004738c2674c76");

    /* The captured nonce was not made by our server: denied even though the
     * response is right for it. */
    nl_rtsp_auth a;
    NL_ASSERT_OK(nl_rtsp_auth_init(&a, "neolink", NL_RTSP_AUTH_DIGEST, 300));
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("DESCRIBE"), S("rtsp://127.0.0.1:18555/cam"),
                                     "admin", "secret", 1000),
                 NL_RTSP_AUTH_DENIED);
}

static const uint8_t secret[NL_RTSP_AUTH_SECRET_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static void make_server(nl_rtsp_auth *a, unsigned schemes)
{
    NL_ASSERT_OK(nl_rtsp_auth_init(a, "neolink", schemes, 300));
    NL_ASSERT_OK(nl_rtsp_auth_set_secret(a, secret, sizeof secret));
}

/* Extracts the nonce from a Digest challenge. */
static void nonce_of(const char *challenge, char nonce[NL_RTSP_NONCE_LEN + 1])
{
    const char *p = strstr(challenge, "nonce=\"");
    NL_ASSERT(p != NULL);
    memcpy(nonce, p + 7, NL_RTSP_NONCE_LEN);
    nonce[NL_RTSP_NONCE_LEN] = '\0';
    NL_ASSERT_EQ(p[7 + NL_RTSP_NONCE_LEN], '"');
}

static nl_rtsp_auth_result verify(const nl_rtsp_auth *a, const char *authz, const char *method,
                                  const char *url, const char *pass, uint64_t now)
{
    int rc = parse_authz(authz);
    if (rc != 0)
        NL_FAIL("parse '%s': %d", authz, rc);
    nl_rtsp_auth_result res = nl_rtsp_auth_verify(a, &z, S(method), S(url), "admin", pass, now);
    nl_rtsp_authz_wipe(&z);
    return res;
}

static void test_server_digest(void)
{
    nl_rtsp_auth a;
    make_server(&a, NL_RTSP_AUTH_DIGEST | NL_RTSP_AUTH_BASIC);
    char ch[256], nonce[NL_RTSP_NONCE_LEN + 1], resp[33], hdr[1024];
    NL_ASSERT(nl_rtsp_auth_challenge_digest(&a, 1000, false, ch, sizeof ch) > 0);
    nonce_of(ch, nonce);
    const char *url = "rtsp://127.0.0.1:8554/cam";

    /* GStreamer style: no qop, no algorithm. */
    ref_response("admin", "neolink", "secret", "DESCRIBE", url, nonce, NULL, NULL, NULL, resp);
    snprintf(hdr, sizeof hdr,
             "Digest username=\"admin\", realm=\"neolink\", nonce=\"%s\", uri=\"%s\", "
             "response=\"%s\"",
             nonce, url, resp);
    NL_ASSERT_EQ(verify(&a, hdr, "DESCRIBE", url, "secret", 1000), NL_RTSP_AUTH_OK);
    NL_ASSERT_EQ(verify(&a, hdr, "DESCRIBE", url, "secret", 1300), NL_RTSP_AUTH_OK);
    NL_ASSERT_EQ(verify(&a, hdr, "DESCRIBE", url, "secret", 1301), NL_RTSP_AUTH_STALE);
    NL_ASSERT_EQ(verify(&a, hdr, "DESCRIBE", url, "wrong", 1000), NL_RTSP_AUTH_DENIED);
    NL_ASSERT_EQ(verify(&a, hdr, "DESCRIBE", url, "wrong", 5000), NL_RTSP_AUTH_DENIED);
    NL_ASSERT_EQ(verify(&a, hdr, "SETUP", url, "secret", 1000), NL_RTSP_AUTH_DENIED);
    /* The same mount with a track suffix is fine; another mount is not. */
    NL_ASSERT_EQ(
        verify(&a, hdr, "DESCRIBE", "rtsp://127.0.0.1:8554/cam/streamid=0", "secret", 1000),
        NL_RTSP_AUTH_OK);
    NL_ASSERT_EQ(verify(&a, hdr, "DESCRIBE", "rtsp://127.0.0.1:8554/other", "secret", 1000),
                 NL_RTSP_AUTH_DENIED);
    /* A server that has no Digest (Basic only) refuses it. */
    nl_rtsp_auth basic_only;
    make_server(&basic_only, NL_RTSP_AUTH_BASIC);
    NL_ASSERT_EQ(verify(&basic_only, hdr, "DESCRIBE", url, "secret", 1000), NL_RTSP_AUTH_DENIED);

    /* ffmpeg style: quoted algorithm and qop, nc unquoted, any order,
     * uppercase response hex. */
    ref_response("admin", "neolink", "secret", "SETUP", "rtsp://127.0.0.1:8554/cam/streamid=0",
                 nonce, "00000002", "e399fd29b5e26621", "auth", resp);
    for (char *c = resp; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 32);
    snprintf(hdr, sizeof hdr,
             "digest nc=00000002,response=\"%s\" , username=admin, realm=\"neolink\", "
             "nonce=%s, uri=\"rtsp://127.0.0.1:8554/cam/streamid=0\", algorithm=\"MD5\", "
             "qop=\"auth\", cnonce=\"e399fd29b5e26621\"",
             resp, nonce);
    NL_ASSERT_EQ(verify(&a, hdr, "SETUP", "rtsp://127.0.0.1:8554/cam/streamid=0", "secret", 1010),
                 NL_RTSP_AUTH_OK);

    /* live555 style: uri is the base URL while the request names a track. */
    ref_response("admin", "neolink", "secret", "SETUP", "rtsp://127.0.0.1:8554/cam/", nonce, NULL,
                 NULL, NULL, resp);
    snprintf(hdr, sizeof hdr,
             "Digest username=\"admin\", realm=\"neolink\", nonce=\"%s\", "
             "uri=\"rtsp://127.0.0.1:8554/cam/\", response=\"%s\"",
             nonce, resp);
    NL_ASSERT_EQ(verify(&a, hdr, "SETUP", "rtsp://127.0.0.1:8554/cam/streamid=0", "secret", 1010),
                 NL_RTSP_AUTH_OK);

    /* Relative uri (some NVRs). */
    ref_response("admin", "neolink", "secret", "PLAY", "/cam/", nonce, NULL, NULL, NULL, resp);
    snprintf(hdr, sizeof hdr,
             "Digest username=\"admin\", realm=\"neolink\", nonce=\"%s\", uri=\"/cam/\", "
             "response=\"%s\"",
             nonce, resp);
    NL_ASSERT_EQ(verify(&a, hdr, "PLAY", "rtsp://10.0.0.1/cam/", "secret", 1010), NL_RTSP_AUTH_OK);

    /* Wrong user, wrong realm, tampered nonce, unsupported qop/algorithm. */
    ref_response("admin", "neolink", "secret", "PLAY", url, nonce, NULL, NULL, NULL, resp);
    const char *fmt = "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                      "response=\"%s\"%s";
    snprintf(hdr, sizeof hdr, fmt, "admin", "neolink", nonce, url, resp, "");
    NL_ASSERT_EQ(verify(&a, hdr, "PLAY", url, "secret", 1000), NL_RTSP_AUTH_OK);
    snprintf(hdr, sizeof hdr, fmt, "Admin", "neolink", nonce, url, resp, "");
    NL_ASSERT_EQ(verify(&a, hdr, "PLAY", url, "secret", 1000), NL_RTSP_AUTH_DENIED);
    snprintf(hdr, sizeof hdr, fmt, "admin", "other", nonce, url, resp, "");
    NL_ASSERT_EQ(verify(&a, hdr, "PLAY", url, "secret", 1000), NL_RTSP_AUTH_DENIED);
    char bad_nonce[NL_RTSP_NONCE_LEN + 1];
    memcpy(bad_nonce, nonce, sizeof bad_nonce);
    bad_nonce[3] = bad_nonce[3] == '0' ? '1' : '0';
    ref_response("admin", "neolink", "secret", "PLAY", url, bad_nonce, NULL, NULL, NULL, resp);
    snprintf(hdr, sizeof hdr, fmt, "admin", "neolink", bad_nonce, url, resp, "");
    NL_ASSERT_EQ(verify(&a, hdr, "PLAY", url, "secret", 1000), NL_RTSP_AUTH_DENIED);
    ref_response("admin", "neolink", "secret", "PLAY", url, nonce, NULL, NULL, NULL, resp);
    snprintf(hdr, sizeof hdr, fmt, "admin", "neolink", nonce, url, resp,
             ", qop=auth-int, nc=00000001, cnonce=\"x\"");
    NL_ASSERT_EQ(verify(&a, hdr, "PLAY", url, "secret", 1000), NL_RTSP_AUTH_DENIED);
    snprintf(hdr, sizeof hdr, fmt, "admin", "neolink", nonce, url, resp, ", algorithm=SHA-256");
    NL_ASSERT_EQ(verify(&a, hdr, "PLAY", url, "secret", 1000), NL_RTSP_AUTH_DENIED);
    snprintf(hdr, sizeof hdr, fmt, "admin", "neolink", nonce, url, resp, ", qop=auth");
    NL_ASSERT_EQ(verify(&a, hdr, "PLAY", url, "secret", 1000), NL_RTSP_AUTH_DENIED); /* no nc */
    /* Another server secret: the nonce is foreign. */
    nl_rtsp_auth other;
    NL_ASSERT_OK(nl_rtsp_auth_init(&other, "neolink", NL_RTSP_AUTH_DIGEST, 300));
    snprintf(hdr, sizeof hdr, fmt, "admin", "neolink", nonce, url, resp, "");
    NL_ASSERT_EQ(verify(&other, hdr, "PLAY", url, "secret", 1000), NL_RTSP_AUTH_DENIED);
}

static void test_nonces(void)
{
    nl_rtsp_auth a;
    make_server(&a, NL_RTSP_AUTH_DIGEST);
    char n1[NL_RTSP_NONCE_LEN + 1], n2[NL_RTSP_NONCE_LEN + 1];
    NL_ASSERT_OK(nl_rtsp_auth_make_nonce(&a, 0x0102030405060708ull, n1));
    NL_ASSERT_OK(nl_rtsp_auth_make_nonce(&a, 0x0102030405060708ull, n2));
    NL_ASSERT_EQ(strlen(n1), NL_RTSP_NONCE_LEN);
    NL_ASSERT(memcmp(n1, "0102030405060708", 16) == 0); /* the timestamp leads */
    NL_ASSERT(strcmp(n1, n2) != 0);                     /* random part differs */
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, S(n1), 0x0102030405060708ull), 0);
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, S(n1), 0x0102030405060708ull + 300), 0);
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, S(n1), 0x0102030405060708ull + 301), 1);
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, S(n1), 5), 0); /* clock went back */
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, nl_rtsp_span_make(n1, 63), 1), NL_EAUTH);
    n1[63] = n1[63] == 'a' ? 'b' : 'a';
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, S(n1), 0x0102030405060708ull), NL_EAUTH);
    n1[10] = 'z';
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, S(n1), 0x0102030405060708ull), NL_EAUTH);
    /* The timestamp cannot be moved forward without breaking the MAC. */
    NL_ASSERT_OK(nl_rtsp_auth_make_nonce(&a, 100, n1));
    n1[15] = '9';
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, S(n1), 500), NL_EAUTH);

    nl_rtsp_auth_wipe(&a);
    uint8_t zero[NL_RTSP_AUTH_SECRET_LEN] = {0};
    NL_ASSERT_MEMEQ(a.secret, zero, sizeof zero);
}

static void test_challenges(void)
{
    nl_rtsp_auth a;
    make_server(&a, NL_RTSP_AUTH_DIGEST | NL_RTSP_AUTH_BASIC);
    char buf[256];
    int n = nl_rtsp_auth_challenge_digest(&a, 77, false, buf, sizeof buf);
    NL_ASSERT_EQ(n, (int)strlen(buf));
    NL_ASSERT(strncmp(buf, "Digest realm=\"neolink\", nonce=\"000000000000004d", 47) == 0);
    NL_ASSERT_STREQ(buf + n - 16, "\", algorithm=MD5");
    NL_ASSERT_EQ(n, 31 + NL_RTSP_NONCE_LEN + 16);
    n = nl_rtsp_auth_challenge_digest(&a, 77, true, buf, sizeof buf);
    NL_ASSERT_STREQ(buf + n - 28, "\", algorithm=MD5, stale=TRUE");
    /* Its nonce is ours and fresh. */
    char nonce[NL_RTSP_NONCE_LEN + 1];
    nonce_of(buf, nonce);
    NL_ASSERT_EQ(nl_rtsp_auth_check_nonce(&a, S(nonce), 77), 0);

    NL_ASSERT_EQ(nl_rtsp_auth_challenge_basic(&a, buf, sizeof buf), 21);
    NL_ASSERT_STREQ(buf, "Basic realm=\"neolink\"");
    NL_ASSERT_EQ(nl_rtsp_auth_challenge_basic(&a, buf, 21), NL_ETOOBIG);
    NL_ASSERT_STREQ(buf, "");
    NL_ASSERT_EQ(nl_rtsp_auth_challenge_digest(&a, 1, false, buf, 100), NL_ETOOBIG);
    NL_ASSERT_STREQ(buf, "");

    nl_rtsp_auth bad;
    NL_ASSERT_EQ(nl_rtsp_auth_init(&bad, "a\"b", NL_RTSP_AUTH_BASIC, 60), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtsp_auth_init(&bad, "a\\b", NL_RTSP_AUTH_BASIC, 60), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtsp_auth_init(&bad, "", NL_RTSP_AUTH_BASIC, 60), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtsp_auth_init(&bad, "x", 0, 60), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtsp_auth_init(&bad, "x", 8, 60), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtsp_auth_init(&bad, "x", NL_RTSP_AUTH_BASIC, 0), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtsp_auth_set_secret(&a, secret, 3), NL_EINVAL);
}

static void test_basic(void)
{
    nl_rtsp_auth a;
    make_server(&a, NL_RTSP_AUTH_DIGEST | NL_RTSP_AUTH_BASIC);
    const char *url = "rtsp://127.0.0.1:18564/cam";
    /* GStreamer 1.22 (captured): admin:secret. */
    NL_ASSERT_OK(parse_authz("Basic YWRtaW46c2VjcmV0"));
    NL_ASSERT_EQ(z.scheme, NL_RTSP_AUTH_BASIC);
    SPAN_IS(z.username, "admin");
    NL_ASSERT(memmem(z.store, sizeof z.store, "secret", 6) == NULL); /* never decoded into z */
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("DESCRIBE"), S(url), "admin", "secret", 0),
                 NL_RTSP_AUTH_OK);
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("DESCRIBE"), S(url), "admin", "secre", 0),
                 NL_RTSP_AUTH_DENIED);
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("DESCRIBE"), S(url), "admin", "secret2", 0),
                 NL_RTSP_AUTH_DENIED);
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("DESCRIBE"), S(url), "root", "secret", 0),
                 NL_RTSP_AUTH_DENIED);
    nl_rtsp_auth digest_only;
    make_server(&digest_only, NL_RTSP_AUTH_DIGEST);
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&digest_only, &z, S("DESCRIBE"), S(url), "admin", "secret", 0),
                 NL_RTSP_AUTH_DENIED);
    /* ffmpeg 5.1 (captured) with password "s:cret": split at the first ':'. */
    NL_ASSERT_OK(parse_authz("Basic YWRtaW46czpjcmV0"));
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("SETUP"), S(url), "admin", "s:cret", 0),
                 NL_RTSP_AUTH_OK);
    /* Padding optional; scheme case-insensitive; empty password. */
    NL_ASSERT_OK(parse_authz("basic YWRtaW46cw=="));
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("PLAY"), S(url), "admin", "s", 0), NL_RTSP_AUTH_OK);
    NL_ASSERT_OK(parse_authz("BASIC YWRtaW46cw"));
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("PLAY"), S(url), "admin", "s", 0), NL_RTSP_AUTH_OK);
    NL_ASSERT_OK(parse_authz("Basic YWRtaW46"));
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("PLAY"), S(url), "admin", "", 0), NL_RTSP_AUTH_OK);
    NL_ASSERT_EQ(nl_rtsp_auth_verify(&a, &z, S("PLAY"), S(url), "admin", "x", 0),
                 NL_RTSP_AUTH_DENIED);

    static const char *bad[] = {
        "Basic",              /* no token */
        "Basic YWRtaW4=",     /* "admin": no colon */
        "Basic YWRtaW46c2V*", /* bad alphabet */
        "Basic YWRtaW46c",    /* impossible length */
        "Basic YW=taW46",     /* padding inside */
        "Basic YWRtaW46cw===",
        "Basic AQI6eA==", /* control character in the user name */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_authz(bad[i]) != NL_EPROTO)
            NL_FAIL("'%s' accepted", bad[i]);
    char big[NL_RTSP_MAX_BASIC * 2];
    memcpy(big, "Basic ", 6);
    memset(big + 6, 'A', sizeof big - 7);
    big[sizeof big - 1] = '\0';
    NL_ASSERT_EQ(parse_authz(big), NL_ETOOBIG);
}

static void test_authz_syntax(void)
{
    NL_ASSERT_EQ(parse_authz("Bearer abc.def"), NL_ENOTSUP);
    NL_ASSERT_EQ(parse_authz("Negotiate"), NL_ENOTSUP);
    NL_ASSERT_EQ(parse_authz(""), NL_EPROTO);
    NL_ASSERT_EQ(parse_authz("\"Digest\" x=1"), NL_EPROTO);

    /* Escapes in quoted strings; spaces around '='; empty list elements. */
    NL_ASSERT_OK(parse_authz("Digest username = \"a\\\"b\\\\c\" ,, realm=\"r\",nonce=\"n\","
                             "uri=\"/x\",response=\"r\", opaque=\"\""));
    SPAN_IS(z.username, "a\"b\\c");
    NL_ASSERT(z.opaque.p != NULL && z.opaque.n == 0);
    NL_ASSERT(z.qop.p == NULL);

    static const char *bad[] = {
        "Digest username=\"admin\", realm=\"r\", nonce=\"n\", uri=\"/x\"", /* no response */
        "Digest username=\"admin\", username=\"root\", realm=\"r\", nonce=\"n\", uri=\"/\", "
        "response=\"r\"",                       /* duplicate */
        "Digest username=\"admin, realm=\"r\"", /* unterminated */
        "Digest username=\"ad\x01min\", realm=\"r\", nonce=\"n\", uri=\"/\", response=\"r\"",
        "Digest username, realm=\"r\"",      /* no '=' */
        "Digest username=\"a\" realm=\"r\"", /* no ',' */
        "Digest username=, realm=\"r\"",     /* empty token */
        "Digest =x",
        "Digest a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11,l=12,m=13,n=14,o=15,p=16,q=17",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse_authz(bad[i]);
        if (rc != NL_EPROTO)
            NL_FAIL("'%s' gave %d", bad[i], rc);
    }
    /* Unknown parameters are ignored (but count toward the cap). */
    NL_ASSERT_OK(parse_authz("Digest username=u, realm=r, nonce=n, uri=/x, response=r, "
                             "userhash=false, charset=UTF-8"));
    SPAN_IS(z.uri, "/x");

    static char huge[NL_RTSP_MAX_AUTHZ + 64];
    int n = snprintf(huge, sizeof huge, "Digest username=\"");
    memset(huge + n, 'u', sizeof huge - (size_t)n - 1);
    huge[sizeof huge - 1] = '\0';
    NL_ASSERT_EQ(parse_authz(huge), NL_ETOOBIG);

    /* A parsed header can be wiped completely. */
    NL_ASSERT_OK(parse_authz("Digest username=u, realm=r, nonce=n, uri=/x, response=r"));
    nl_rtsp_authz_wipe(&z);
    static const nl_rtsp_authz zero;
    NL_ASSERT_MEMEQ(&z, &zero, sizeof z);
    NL_ASSERT_EQ(nl_rtsp_digest_response(&z, S("GET"), "x", (char[33]){0}), NL_EINVAL);
}

static void test_check_request(void)
{
    nl_rtsp_auth a;
    make_server(&a, NL_RTSP_AUTH_DIGEST | NL_RTSP_AUTH_BASIC);
    nl_rtsp_parser p;
    const char *no_auth = "DESCRIBE rtsp://h/cam RTSP/1.0\r\nCSeq: 2\r\n\r\n";
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (const uint8_t *)no_auth, strlen(no_auth), &msg),
                 NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(nl_rtsp_auth_check_request(&a, &msg.req, "admin", "secret", 0),
                 NL_RTSP_AUTH_MISSING);
    const char *bearer =
        "DESCRIBE rtsp://h/cam RTSP/1.0\r\nCSeq: 2\r\nAuthorization: Bearer x\r\n\r\n";
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (const uint8_t *)bearer, strlen(bearer), &msg),
                 NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(nl_rtsp_auth_check_request(&a, &msg.req, "admin", "secret", 0),
                 NL_RTSP_AUTH_MISSING);

    char ch[256], nonce[NL_RTSP_NONCE_LEN + 1], resp[33], req[1024];
    NL_ASSERT(nl_rtsp_auth_challenge_digest(&a, 50, false, ch, sizeof ch) > 0);
    nonce_of(ch, nonce);
    ref_response("admin", "neolink", "secret", "DESCRIBE", "rtsp://h/cam", nonce, NULL, NULL, NULL,
                 resp);
    snprintf(req, sizeof req,
             "DESCRIBE rtsp://h/cam RTSP/1.0\r\nCSeq: 3\r\nAuthorization: Digest "
             "username=\"admin\", realm=\"neolink\", nonce=\"%s\", uri=\"rtsp://h/cam\", "
             "response=\"%s\"\r\n\r\n",
             nonce, resp);
    nl_rtsp_parser_init(&p);
    NL_ASSERT_EQ(nl_rtsp_parse(&p, (const uint8_t *)req, strlen(req), &msg), NL_RTSP_MSG_REQUEST);
    NL_ASSERT_EQ(nl_rtsp_auth_check_request(&a, &msg.req, "admin", "secret", 60), NL_RTSP_AUTH_OK);
    NL_ASSERT_EQ(nl_rtsp_auth_check_request(&a, &msg.req, "admin", "secret", 351),
                 NL_RTSP_AUTH_STALE);
    NL_ASSERT_EQ(nl_rtsp_auth_check_request(&a, &msg.req, "admin", "nope", 60),
                 NL_RTSP_AUTH_DENIED);
    NL_ASSERT_EQ(nl_rtsp_auth_check_request(&a, &msg.req, "admin", "nope", 351),
                 NL_RTSP_AUTH_DENIED);
}

int main(void)
{
    NL_RUN(test_rfc2617_example);
    NL_RUN(test_real_client_responses);
    NL_RUN(test_server_digest);
    NL_RUN(test_nonces);
    NL_RUN(test_challenges);
    NL_RUN(test_basic);
    NL_RUN(test_authz_syntax);
    NL_RUN(test_check_request);
    NL_DONE();
}
