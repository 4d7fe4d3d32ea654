/* RTSP authentication, server side: Basic (RFC 7617) and Digest (RFC 2617,
 * MD5 and MD5-sess, with or without qop=auth).
 *
 * Which clients send what (RTSP.md §2.6, and the captures in
 * tests/data/rtsp/): offered both, ffmpeg 5.1 and GStreamer 1.22 pick
 * Digest. ffmpeg quotes algorithm and qop ("algorithm=\"MD5\""); GStreamer
 * ignores qop and sends an RFC 2069-style response; live555 (VLC) sends the
 * session's base URL as uri= for every request. So the parser takes quoted
 * and unquoted values in any order, we offer Digest without qop (a server
 * that requires qop locks GStreamer out), and uri= only has to name the same
 * mount as the request line.
 *
 * Nonces need no server-side table: a nonce is hex(ts | random | MAC) where
 * MAC = HMAC-MD5(secret, ts | random) and ts is the caller's clock in
 * seconds. A nonce with a bad MAC was not made by us (DENIED); one older
 * than nonce_ttl_s is answered with stale=TRUE when the rest of the response
 * was right, so the client retries with the new nonce without asking the user.
 * Replays of a valid (nonce, response) pair within the TTL are not detected
 * (that needs per-nonce nc tracking); the TTL bounds the window.
 *
 * Credentials: the Authorization parser keeps the Basic password only as the
 * client's base64 text, decodes it into a stack buffer inside the check and
 * wipes that buffer; the response is compared in constant time. Nothing here
 * logs. Call nl_rtsp_authz_wipe() when done with a parsed header, and
 * nl_rtsp_auth_wipe() for the server secret.
 *
 * Pure functions apart from reading randomness (getrandom) in
 * nl_rtsp_auth_init() and nl_rtsp_auth_make_nonce(); no allocation, no
 * global state; a nl_rtsp_auth may be shared by threads read-only. */
#ifndef NL_RTSP_AUTH_H
#define NL_RTSP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtsp/limits.h"
#include "rtsp/parse.h"

/* Schemes, usable as bits of nl_rtsp_auth.schemes. */
typedef enum nl_rtsp_auth_scheme {
    NL_RTSP_AUTH_NONE = 0,
    NL_RTSP_AUTH_BASIC = 1,
    NL_RTSP_AUTH_DIGEST = 2,
} nl_rtsp_auth_scheme;

#define NL_RTSP_AUTH_SECRET_LEN 32
/* Hex characters of a nonce: 8 bytes time, 8 random, 16 MAC. */
#define NL_RTSP_NONCE_LEN 64

/* Server-side settings. Fill with nl_rtsp_auth_init(). */
typedef struct nl_rtsp_auth {
    unsigned schemes;     /* NL_RTSP_AUTH_BASIC | NL_RTSP_AUTH_DIGEST: accepted and offered */
    uint32_t nonce_ttl_s; /* nonces older than this are stale */
    char realm[NL_RTSP_MAX_REALM + 1];
    uint8_t secret[NL_RTSP_AUTH_SECRET_LEN];
} nl_rtsp_auth;

/* Sets realm (1..NL_RTSP_MAX_REALM printable ASCII, no '"' or '\'), the
 * schemes (non-zero mask) and TTL (> 0), and draws a random secret.
 * 0; NL_EINVAL; NL_EIO when no randomness is available. Blocks only if the
 * kernel's entropy pool is not initialised yet (early boot). */
int nl_rtsp_auth_init(nl_rtsp_auth *a, const char *realm, unsigned schemes, uint32_t nonce_ttl_s);
/* Replaces the secret (tests, fuzzing, several servers sharing nonces).
 * len must be NL_RTSP_AUTH_SECRET_LEN. 0 or NL_EINVAL. */
int nl_rtsp_auth_set_secret(nl_rtsp_auth *a, const uint8_t *secret, size_t len);
/* Zeroes the secret. */
void nl_rtsp_auth_wipe(nl_rtsp_auth *a);

/* Writes a fresh nonce (NL_RTSP_NONCE_LEN hex chars + NUL) for time now_s.
 * 0, or NL_EIO when no randomness is available. */
int nl_rtsp_auth_make_nonce(const nl_rtsp_auth *a, uint64_t now_s, char out[NL_RTSP_NONCE_LEN + 1]);
/* 0 = ours and fresh, 1 = ours but older than the TTL, NL_EAUTH = not ours. */
int nl_rtsp_auth_check_nonce(const nl_rtsp_auth *a, nl_rtsp_span nonce, uint64_t now_s);

/* WWW-Authenticate values (no header name, no CRLF), NUL-terminated:
 *   Digest realm="R", nonce="N", algorithm=MD5[, stale=TRUE]
 *   Basic realm="R"
 * Return the length, NL_ETOOBIG (buf is then ""), or NL_EIO (randomness).
 * Send Digest first, each in its own WWW-Authenticate header. */
int nl_rtsp_auth_challenge_digest(const nl_rtsp_auth *a, uint64_t now_s, bool stale, char *buf,
                                  size_t cap);
int nl_rtsp_auth_challenge_basic(const nl_rtsp_auth *a, char *buf, size_t cap);

/* A parsed Authorization header. All spans point into `store`, which holds
 * unquoted, unescaped copies, so the struct stands alone once parsed. */
typedef struct nl_rtsp_authz {
    nl_rtsp_auth_scheme scheme;
    nl_rtsp_span username; /* Basic: decoded user name; Digest: username= */
    nl_rtsp_span basic;    /* Basic: the base64 token (decoded only in the check) */
    nl_rtsp_span realm, nonce, uri, response, algorithm, qop, nc, cnonce, opaque;
    size_t store_len;
    char store[NL_RTSP_MAX_AUTHZ];
} nl_rtsp_authz;

/* Parses an Authorization header value.
 * 0; NL_ENOTSUP for another scheme (Bearer, ...); NL_EPROTO when malformed
 * (bad quoting, duplicate or missing required parameters, bad base64,
 * control characters); NL_ETOOBIG past the limits. */
int nl_rtsp_authz_parse(nl_rtsp_span value, nl_rtsp_authz *out);
/* Zeroes everything the parsed header holds. */
void nl_rtsp_authz_wipe(nl_rtsp_authz *z);

/* The Digest response RFC 2617 §3.2.2.1 defines for z's parameters, the
 * method and a password, as 32 lowercase hex chars + NUL. Uses z's own
 * username, realm, nonce, uri, qop, nc, cnonce and algorithm (MD5 or
 * MD5-sess). 0, or NL_EINVAL (not Digest, unknown algorithm or qop). */
int nl_rtsp_digest_response(const nl_rtsp_authz *z, nl_rtsp_span method, const char *password,
                            char out[33]);

typedef enum nl_rtsp_auth_result {
    NL_RTSP_AUTH_OK = 0,
    NL_RTSP_AUTH_MISSING, /* no usable Authorization header: 401 with challenges */
    NL_RTSP_AUTH_DENIED,  /* wrong credentials or foreign nonce: 401 with challenges */
    NL_RTSP_AUTH_STALE,   /* right credentials, expired nonce: 401, Digest stale=TRUE */
} nl_rtsp_auth_result;

/* Checks parsed credentials against the one account (user, password) for a
 * request with this method and request-line URL, at time now_s.
 * Digest: scheme enabled, username and realm equal, algorithm MD5/MD5-sess,
 * qop absent or "auth" (then nc and cnonce present), uri= naming the same
 * mount as req_url (skipped when req_url.n == 0), nonce ours, response
 * equal (constant time). Basic: scheme enabled, user and password equal. */
nl_rtsp_auth_result nl_rtsp_auth_verify(const nl_rtsp_auth *a, const nl_rtsp_authz *z,
                                        nl_rtsp_span method, nl_rtsp_span req_url, const char *user,
                                        const char *password, uint64_t now_s);

/* The whole check for one request: reads its Authorization header, parses,
 * verifies, wipes. What a server calls per request. */
nl_rtsp_auth_result nl_rtsp_auth_check_request(const nl_rtsp_auth *a, const nl_rtsp_request *r,
                                               const char *user, const char *password,
                                               uint64_t now_s);

#endif
