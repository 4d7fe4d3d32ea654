/* Fuzz target: Authorization header parsing and verification.
 *
 * Input: byte 0 selects the mode.
 *   even: the rest is an Authorization value; it is parsed, verified against
 *         a fixed account and server secret, and wiped. A successful parse
 *         must hold only spans inside its own store.
 *   odd:  the rest is "user:password" credentials (split at the first ':');
 *         the Basic and Digest headers a client would build from them are
 *         parsed and must verify OK for exactly those credentials - a
 *         round trip through quoting, escaping, base64 and the hashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "neolink/error.h"
#include "rtsp/auth.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static nl_rtsp_auth server;
static nl_rtsp_authz z;

static nl_rtsp_span S(const char *s)
{
    return nl_rtsp_span_make(s, strlen(s));
}

static void inside(nl_rtsp_span s)
{
    if (s.n)
        CHECK(s.p >= z.store && s.p + s.n <= z.store + z.store_len);
}

static void parse_and_verify(const char *v, size_t n)
{
    int rc = nl_rtsp_authz_parse(nl_rtsp_span_make(v, n), &z);
    if (rc == 0) {
        CHECK(z.scheme == NL_RTSP_AUTH_BASIC || z.scheme == NL_RTSP_AUTH_DIGEST);
        inside(z.username);
        inside(z.basic);
        inside(z.realm);
        inside(z.nonce);
        inside(z.uri);
        inside(z.response);
        inside(z.algorithm);
        inside(z.qop);
        inside(z.nc);
        inside(z.cnonce);
        inside(z.opaque);
        char out[33];
        if (nl_rtsp_digest_response(&z, S("PLAY"), "secret", out) == 0)
            CHECK(strlen(out) == 32);
        nl_rtsp_auth_result res = nl_rtsp_auth_verify(
            &server, &z, S("PLAY"), S("rtsp://127.0.0.1:8554/cam/"), "admin", "secret", 1000);
        CHECK(res <= NL_RTSP_AUTH_STALE);
    }
    nl_rtsp_authz_wipe(&z);
}

static size_t b64(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = i + 1 < n ? a[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static void round_trip(const uint8_t *cred, size_t n)
{
    if (n > 200)
        return;
    char user[256], pass[256];
    const uint8_t *colon = memchr(cred, ':', n);
    size_t ulen = colon ? (size_t)(colon - cred) : n;
    size_t plen = colon ? n - ulen - 1 : 0;
    memcpy(user, cred, ulen);
    user[ulen] = '\0';
    memcpy(pass, colon ? colon + 1 : cred, plen);
    pass[plen] = '\0';
    /* Control characters and NULs cannot travel in these headers. */
    for (size_t i = 0; i < n; i++)
        if (cred[i] < 0x20 || cred[i] == 0x7f)
            return;

    char hdr[1400];
    memcpy(hdr, "Basic ", 6);
    b64(cred, n, hdr + 6);
    CHECK(nl_rtsp_authz_parse(S(hdr), &z) == (colon ? 0 : NL_EPROTO));
    if (colon)
        CHECK(nl_rtsp_auth_verify(&server, &z, S("PLAY"), S("/cam"), user, pass, 0) ==
              NL_RTSP_AUTH_OK);
    nl_rtsp_authz_wipe(&z);

    /* Digest with the user name quoted and escaped. */
    char quser[520];
    size_t q = 0;
    for (size_t i = 0; i < ulen; i++) {
        if (user[i] == '"' || user[i] == '\\')
            quser[q++] = '\\';
        quser[q++] = user[i];
    }
    quser[q] = '\0';
    char nonce[NL_RTSP_NONCE_LEN + 1];
    CHECK(nl_rtsp_auth_make_nonce(&server, 1000, nonce) == 0);
    const char *fmt = "Digest username=\"%s\", realm=\"neolink\", nonce=\"%s\", "
                      "uri=\"rtsp://h/cam/streamid=1\", response=\"%s\", qop=auth, "
                      "nc=00000001, cnonce=\"c0ffee\"";
    snprintf(hdr, sizeof hdr, fmt, quser, nonce, "0");
    CHECK(nl_rtsp_authz_parse(S(hdr), &z) == 0);
    CHECK(nl_rtsp_span_eq(z.username, user));
    char resp[33];
    CHECK(nl_rtsp_digest_response(&z, S("SETUP"), pass, resp) == 0);
    nl_rtsp_authz_wipe(&z);
    snprintf(hdr, sizeof hdr, fmt, quser, nonce, resp);
    CHECK(nl_rtsp_authz_parse(S(hdr), &z) == 0);
    CHECK(nl_rtsp_auth_verify(&server, &z, S("SETUP"), S("rtsp://h/cam/"), user, pass, 1000) ==
          NL_RTSP_AUTH_OK);
    CHECK(nl_rtsp_auth_verify(&server, &z, S("SETUP"), S("rtsp://h/cam/"), user, pass, 1301) ==
          NL_RTSP_AUTH_STALE);
    nl_rtsp_authz_wipe(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        static const uint8_t secret[NL_RTSP_AUTH_SECRET_LEN] = {42};
        if (nl_rtsp_auth_init(&server, "neolink", NL_RTSP_AUTH_BASIC | NL_RTSP_AUTH_DIGEST, 300))
            abort();
        nl_rtsp_auth_set_secret(&server, secret, sizeof secret);
        init = 1;
    }
    if (size < 1 || size > 4096)
        return 0;
    if (data[0] & 1)
        round_trip(data + 1, size - 1);
    else
        parse_and_verify((const char *)data + 1, size - 1);
    return 0;
}
