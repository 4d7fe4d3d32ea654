/* RTSP Basic and Digest authentication, server side. See auth.h. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <libavutil/md5.h>
#include <libavutil/random_seed.h>

#include "core/hex.h"
#include "neolink/error.h"
#include "rtsp/auth.h"
#include "rtsp/url.h"

/* ------------------------------------------------------------ helpers */

/* libavutil's MD5 context is opaque but its size is exported, so it can live
 * on the stack instead of behind av_md5_alloc(). */
typedef struct md5_state {
    _Alignas(16) uint8_t ctx[256];
} md5_state;

static struct AVMD5 *md5_begin(md5_state *m)
{
    if (av_md5_size > (int)sizeof m->ctx)
        return NULL;
    struct AVMD5 *c = (struct AVMD5 *)(void *)m->ctx;
    av_md5_init(c);
    return c;
}

static void md5_add(struct AVMD5 *c, const void *p, size_t n)
{
    av_md5_update(c, (const uint8_t *)p, n);
}

static void md5_add_span(struct AVMD5 *c, nl_rtsp_span s)
{
    av_md5_update(c, (const uint8_t *)s.p, s.n);
}

static void to_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void md5_end_hex(struct AVMD5 *c, md5_state *m, char out[33])
{
    uint8_t d[16];
    av_md5_final(c, d);
    to_hex(d, 16, out);
    explicit_bzero(d, sizeof d);
    explicit_bzero(m, sizeof *m);
}

/* Compares n bytes in time independent of where they differ. */
static bool ct_equal(const void *a, const void *b, size_t n)
{
    const volatile uint8_t *x = a, *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(x[i] ^ y[i]);
    return diff == 0;
}

/* Compares two byte strings of possibly different lengths without revealing
 * where they differ or how long the expected one is: both are hashed first. */
static bool ct_equal_str(const void *a, size_t an, const void *b, size_t bn)
{
    uint8_t da[16], db[16];
    av_md5_sum(da, a, an);
    av_md5_sum(db, b, bn);
    bool eq = ct_equal(da, db, sizeof da) & (an == bn);
    explicit_bzero(da, sizeof da);
    explicit_bzero(db, sizeof db);
    return eq;
}

static int fill_random(void *buf, size_t n, unsigned flags)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t got = getrandom(p, n, flags);
        if (got <= 0)
            break;
        p += got;
        n -= (size_t)got;
    }
    /* Fallback (non-blocking request on a young system, or no getrandom):
     * libavutil reads /dev/urandom, else mixes timer jitter. */
    while (n) {
        uint32_t v = av_get_random_seed();
        size_t k = n < sizeof v ? n : sizeof v;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
    return 0;
}

/* ------------------------------------------------------------ server side */

static bool realm_ok(const char *realm)
{
    size_t n = strlen(realm);
    if (n == 0 || n > NL_RTSP_MAX_REALM)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)realm[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return false;
    }
    return true;
}

int nl_rtsp_auth_init(nl_rtsp_auth *a, const char *realm, unsigned schemes, uint32_t nonce_ttl_s)
{
    memset(a, 0, sizeof *a);
    if (!realm || !realm_ok(realm) || nonce_ttl_s == 0 || schemes == 0 ||
        (schemes & ~(unsigned)(NL_RTSP_AUTH_BASIC | NL_RTSP_AUTH_DIGEST)))
        return NL_EINVAL;
    a->schemes = schemes;
    a->nonce_ttl_s = nonce_ttl_s;
    memcpy(a->realm, realm, strlen(realm) + 1);
    return fill_random(a->secret, sizeof a->secret, 0) == 0 ? 0 : NL_EIO;
}

int nl_rtsp_auth_set_secret(nl_rtsp_auth *a, const uint8_t *secret, size_t len)
{
    if (!secret || len != NL_RTSP_AUTH_SECRET_LEN)
        return NL_EINVAL;
    memcpy(a->secret, secret, len);
    return 0;
}

void nl_rtsp_auth_wipe(nl_rtsp_auth *a)
{
    explicit_bzero(a->secret, sizeof a->secret);
}

/* HMAC-MD5 (RFC 2104) of msg under the server secret. */
static void nonce_mac(const nl_rtsp_auth *a, const uint8_t *msg, size_t n, uint8_t mac[16])
{
    uint8_t key[64], inner[16];
    md5_state m;
    memset(key, 0, sizeof key);
    memcpy(key, a->secret, sizeof a->secret);
    for (size_t i = 0; i < sizeof key; i++)
        key[i] ^= 0x36;
    struct AVMD5 *c = md5_begin(&m);
    md5_add(c, key, sizeof key);
    md5_add(c, msg, n);
    av_md5_final(c, inner);
    for (size_t i = 0; i < sizeof key; i++)
        key[i] ^= 0x36 ^ 0x5c;
    c = md5_begin(&m);
    md5_add(c, key, sizeof key);
    md5_add(c, inner, sizeof inner);
    av_md5_final(c, mac);
    explicit_bzero(key, sizeof key);
    explicit_bzero(inner, sizeof inner);
    explicit_bzero(&m, sizeof m);
}

int nl_rtsp_auth_make_nonce(const nl_rtsp_auth *a, uint64_t now_s, char out[NL_RTSP_NONCE_LEN + 1])
{
    uint8_t raw[32];
    for (int i = 0; i < 8; i++)
        raw[i] = (uint8_t)(now_s >> (56 - 8 * i));
    if (fill_random(raw + 8, 8, GRND_NONBLOCK) != 0)
        return NL_EIO;
    nonce_mac(a, raw, 16, raw + 16);
    to_hex(raw, sizeof raw, out);
    return 0;
}

int nl_rtsp_auth_check_nonce(const nl_rtsp_auth *a, nl_rtsp_span nonce, uint64_t now_s)
{
    if (nonce.n != NL_RTSP_NONCE_LEN)
        return NL_EAUTH;
    uint8_t raw[32], mac[16];
    for (size_t i = 0; i < sizeof raw; i++) {
        int hi = nl__hex_digit(nonce.p[2 * i]), lo = nl__hex_digit(nonce.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return NL_EAUTH;
        raw[i] = (uint8_t)(hi * 16 + lo);
    }
    nonce_mac(a, raw, 16, mac);
    if (!ct_equal(mac, raw + 16, sizeof mac))
        return NL_EAUTH;
    uint64_t ts = 0;
    for (int i = 0; i < 8; i++)
        ts = (ts << 8) | raw[i];
    /* A timestamp ahead of now can only come from a clock that moved back;
     * count its age as zero rather than refusing our own nonce. */
    uint64_t age = now_s > ts ? now_s - ts : 0;
    return age > a->nonce_ttl_s ? 1 : 0;
}

static int finish_snprintf(int n, char *buf, size_t cap)
{
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return NL_ETOOBIG;
    }
    return n;
}

int nl_rtsp_auth_challenge_digest(const nl_rtsp_auth *a, uint64_t now_s, bool stale, char *buf,
                                  size_t cap)
{
    char nonce[NL_RTSP_NONCE_LEN + 1];
    if (cap)
        buf[0] = '\0';
    if (nl_rtsp_auth_make_nonce(a, now_s, nonce) != 0)
        return NL_EIO;
    int n = snprintf(buf, cap, "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5%s", a->realm,
                     nonce, stale ? ", stale=TRUE" : "");
    return finish_snprintf(n, buf, cap);
}

int nl_rtsp_auth_challenge_basic(const nl_rtsp_auth *a, char *buf, size_t cap)
{
    return finish_snprintf(snprintf(buf, cap, "Basic realm=\"%s\"", a->realm), buf, cap);
}

/* ------------------------------------------------------------ Authorization */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends n bytes to the store and returns their span. */
static int store_put(nl_rtsp_authz *z, const char *p, size_t n, nl_rtsp_span *out)
{
    if (n > sizeof z->store - z->store_len)
        return NL_ETOOBIG;
    char *dst = z->store + z->store_len;
    if (n)
        memcpy(dst, p, n);
    z->store_len += n;
    *out = nl_rtsp_span_make(dst, n);
    return 0;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 with optional padding. Returns the decoded length, or
 * NL_EPROTO / NL_ETOOBIG. */
static int b64_decode(nl_rtsp_span in, uint8_t *out, size_t cap)
{
    size_t n = in.n;
    while (n && in.p[n - 1] == '=' && in.n - n < 2)
        n--;
    if (n / 4 * 3 > cap)
        return NL_ETOOBIG;
    if (n % 4 == 1 || (n != in.n && in.n % 4 != 0))
        return NL_EPROTO;
    size_t olen = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (olen > cap)
        return NL_ETOOBIG;
    uint32_t acc = 0;
    size_t bits = 0, o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val(in.p[i]);
        if (v < 0)
            return NL_EPROTO;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (int)o;
}

static int parse_basic(nl_rtsp_span token, nl_rtsp_authz *z)
{
    uint8_t dec[NL_RTSP_MAX_BASIC];
    int n = b64_decode(token, dec, sizeof dec);
    if (n < 0)
        return n;
    const uint8_t *colon = memchr(dec, ':', (size_t)n);
    int rc = NL_EPROTO;
    if (colon) {
        size_t ulen = (size_t)(colon - dec);
        rc = 0;
        for (size_t i = 0; i < ulen && rc == 0; i++)
            if (dec[i] < 0x20 || dec[i] == 0x7f)
                rc = NL_EPROTO;
        if (rc == 0)
            rc = store_put(z, (const char *)dec, ulen, &z->username);
        if (rc == 0)
            rc = store_put(z, token.p, token.n, &z->basic);
    }
    explicit_bzero(dec, sizeof dec);
    if (rc == 0)
        z->scheme = NL_RTSP_AUTH_BASIC;
    return rc;
}

/* The Digest parameter a name refers to, or NULL for ones we ignore. */
static nl_rtsp_span *digest_field(nl_rtsp_authz *z, nl_rtsp_span name)
{
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        {"username", offsetof(nl_rtsp_authz, username)},
        {"realm", offsetof(nl_rtsp_authz, realm)},
        {"nonce", offsetof(nl_rtsp_authz, nonce)},
        {"uri", offsetof(nl_rtsp_authz, uri)},
        {"response", offsetof(nl_rtsp_authz, response)},
        {"algorithm", offsetof(nl_rtsp_authz, algorithm)},
        {"qop", offsetof(nl_rtsp_authz, qop)},
        {"nc", offsetof(nl_rtsp_authz, nc)},
        {"cnonce", offsetof(nl_rtsp_authz, cnonce)},
        {"opaque", offsetof(nl_rtsp_authz, opaque)},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (nl_rtsp_span_ieq(name, fields[i].name))
            return (nl_rtsp_span *)(void *)((char *)z + fields[i].off);
    return NULL;
}

/* Reads one value at *pos (quoted-string or token) into the store. */
static int read_value(const char **pos, const char *end, nl_rtsp_authz *z, nl_rtsp_span *out)
{
    const char *p = *pos;
    if (p < end && *p == '"') {
        p++;
        char *dst = z->store + z->store_len;
        size_t room = sizeof z->store - z->store_len, n = 0;
        for (;;) {
            if (p >= end)
                return NL_EPROTO; /* unterminated */
            char c = *p++;
            if (c == '"')
                break;
            if (c == '\\') {
                if (p >= end)
                    return NL_EPROTO;
                c = *p++;
            }
            if ((unsigned char)c < 0x20 || c == 0x7f)
                return NL_EPROTO;
            if (n >= room)
                return NL_ETOOBIG;
            dst[n++] = c;
        }
        z->store_len += n;
        *out = nl_rtsp_span_make(dst, n);
    } else {
        const char *v = p;
        /* Unquoted values are tokens; '/' is let through for clients that
         * leave uri= unquoted. */
        while (p < end && (nl_rtsp_is_token_char((unsigned char)*p) || *p == '/'))
            p++;
        if (p == v)
            return NL_EPROTO;
        int rc = store_put(z, v, (size_t)(p - v), out);
        if (rc < 0)
            return rc;
    }
    *pos = p;
    return 0;
}

static int parse_digest(nl_rtsp_span params, nl_rtsp_authz *z)
{
    const char *p = params.p, *end = params.p + params.n;
    size_t count = 0;
    for (;;) {
        while (p < end && (is_ws(*p) || *p == ','))
            p++;
        if (p >= end)
            break;
        const char *name_start = p;
        while (p < end && nl_rtsp_is_token_char((unsigned char)*p))
            p++;
        nl_rtsp_span name = nl_rtsp_span_make(name_start, (size_t)(p - name_start));
        while (p < end && is_ws(*p))
            p++;
        if (name.n == 0 || p >= end || *p != '=')
            return NL_EPROTO;
        p++;
        while (p < end && is_ws(*p))
            p++;
        if (++count > NL_RTSP_MAX_AUTH_PARAMS)
            return NL_EPROTO;
        nl_rtsp_span value;
        int rc = read_value(&p, end, z, &value);
        if (rc < 0)
            return rc;
        nl_rtsp_span *field = digest_field(z, name);
        if (field) {
            if (field->p) /* a duplicate would let the two checks read different values */
                return NL_EPROTO;
            *field = value; /* p is never NULL here, even for "" */
        }
        while (p < end && is_ws(*p))
            p++;
        if (p < end && *p != ',')
            return NL_EPROTO;
    }
    if (!z->username.p || !z->realm.p || !z->nonce.p || !z->uri.p || !z->response.p)
        return NL_EPROTO;
    z->scheme = NL_RTSP_AUTH_DIGEST;
    return 0;
}

int nl_rtsp_authz_parse(nl_rtsp_span value, nl_rtsp_authz *out)
{
    memset(out, 0, offsetof(nl_rtsp_authz, store));
    value = nl_rtsp_span_trim(value);
    if (value.n > NL_RTSP_MAX_AUTHZ)
        return NL_ETOOBIG;
    size_t i = 0;
    while (i < value.n && nl_rtsp_is_token_char((unsigned char)value.p[i]))
        i++;
    nl_rtsp_span scheme = nl_rtsp_span_make(value.p, i);
    nl_rtsp_span rest = nl_rtsp_span_trim(nl_rtsp_span_make(value.p + i, value.n - i));
    if (scheme.n == 0 || (i < value.n && !is_ws(value.p[i])))
        return NL_EPROTO;
    int rc;
    if (nl_rtsp_span_ieq(scheme, "Basic"))
        rc = parse_basic(rest, out);
    else if (nl_rtsp_span_ieq(scheme, "Digest"))
        rc = parse_digest(rest, out);
    else
        return NL_ENOTSUP;
    if (rc < 0) {
        nl_rtsp_authz_wipe(out);
        return rc;
    }
    return 0;
}

void nl_rtsp_authz_wipe(nl_rtsp_authz *z)
{
    explicit_bzero(z, sizeof *z);
}

/* ------------------------------------------------------------ Digest */

int nl_rtsp_digest_response(const nl_rtsp_authz *z, nl_rtsp_span method, const char *password,
                            char out[33])
{
    out[0] = '\0';
    if (z->scheme != NL_RTSP_AUTH_DIGEST || !password)
        return NL_EINVAL;
    bool sess;
    if (z->algorithm.n == 0 || nl_rtsp_span_ieq(z->algorithm, "MD5"))
        sess = false;
    else if (nl_rtsp_span_ieq(z->algorithm, "MD5-sess"))
        sess = true;
    else
        return NL_EINVAL;
    bool qop = z->qop.p != NULL;
    if (qop && (!nl_rtsp_span_ieq(z->qop, "auth") || !z->nc.n || !z->cnonce.n))
        return NL_EINVAL;
    if (sess && !z->cnonce.n)
        return NL_EINVAL;

    md5_state m;
    char ha1[33], ha2[33];
    struct AVMD5 *c = md5_begin(&m);
    if (!c)
        return NL_ENOMEM;
    md5_add_span(c, z->username);
    md5_add(c, ":", 1);
    md5_add_span(c, z->realm);
    md5_add(c, ":", 1);
    md5_add(c, password, strlen(password));
    md5_end_hex(c, &m, ha1);
    if (sess) {
        c = md5_begin(&m);
        md5_add(c, ha1, 32);
        md5_add(c, ":", 1);
        md5_add_span(c, z->nonce);
        md5_add(c, ":", 1);
        md5_add_span(c, z->cnonce);
        md5_end_hex(c, &m, ha1);
    }
    c = md5_begin(&m);
    md5_add_span(c, method);
    md5_add(c, ":", 1);
    md5_add_span(c, z->uri);
    md5_end_hex(c, &m, ha2);

    c = md5_begin(&m);
    md5_add(c, ha1, 32);
    md5_add(c, ":", 1);
    md5_add_span(c, z->nonce);
    md5_add(c, ":", 1);
    if (qop) {
        md5_add_span(c, z->nc);
        md5_add(c, ":", 1);
        md5_add_span(c, z->cnonce);
        md5_add(c, ":", 1);
        md5_add_span(c, z->qop);
        md5_add(c, ":", 1);
    }
    md5_add(c, ha2, 32);
    md5_end_hex(c, &m, out);
    explicit_bzero(ha1, sizeof ha1);
    return 0;
}

/* Does the Digest uri= name the same mount as the request line? Clients
 * differ (absolute vs. relative, live555 sends its base URL for a track's
 * SETUP), so compare the path without its control suffix. */
static bool uri_matches(nl_rtsp_span uri, nl_rtsp_span req_url)
{
    nl_rtsp_url a, b;
    if (nl_rtsp_url_parse(uri, &a) != 0 || nl_rtsp_url_parse(req_url, &b) != 0)
        return false;
    if (a.star || b.star)
        return a.star && b.star;
    return a.mount_len == b.mount_len && memcmp(a.path, b.path, a.mount_len) == 0;
}

static nl_rtsp_auth_result verify_digest(const nl_rtsp_auth *a, const nl_rtsp_authz *z,
                                         nl_rtsp_span method, nl_rtsp_span req_url,
                                         const char *user, const char *password, uint64_t now_s)
{
    if (!(a->schemes & NL_RTSP_AUTH_DIGEST))
        return NL_RTSP_AUTH_DENIED;
    bool ok = ct_equal_str(z->username.p, z->username.n, user, strlen(user));
    ok &= nl_rtsp_span_eq(z->realm, a->realm);
    if (req_url.n && !uri_matches(z->uri, req_url))
        ok = false;
    int fresh = nl_rtsp_auth_check_nonce(a, z->nonce, now_s);
    if (fresh < 0)
        ok = false;

    char expect[33], got[33];
    if (nl_rtsp_digest_response(z, method, password, expect) != 0 || z->response.n != 32)
        return NL_RTSP_AUTH_DENIED;
    for (size_t i = 0; i < 32; i++) {
        char ch = z->response.p[i];
        got[i] = (ch >= 'A' && ch <= 'F') ? (char)(ch + 32) : ch;
    }
    ok &= ct_equal(expect, got, 32);
    explicit_bzero(expect, sizeof expect);
    if (!ok)
        return NL_RTSP_AUTH_DENIED;
    return fresh == 1 ? NL_RTSP_AUTH_STALE : NL_RTSP_AUTH_OK;
}

static nl_rtsp_auth_result verify_basic(const nl_rtsp_auth *a, const nl_rtsp_authz *z,
                                        const char *user, const char *password)
{
    if (!(a->schemes & NL_RTSP_AUTH_BASIC))
        return NL_RTSP_AUTH_DENIED;
    uint8_t dec[NL_RTSP_MAX_BASIC];
    int n = b64_decode(z->basic, dec, sizeof dec);
    const uint8_t *colon = n > 0 ? memchr(dec, ':', (size_t)n) : NULL;
    bool ok = false;
    if (colon) {
        size_t ulen = (size_t)(colon - dec), plen = (size_t)n - ulen - 1;
        ok = ct_equal_str(dec, ulen, user, strlen(user));
        ok &= ct_equal_str(colon + 1, plen, password, strlen(password));
    }
    explicit_bzero(dec, sizeof dec);
    return ok ? NL_RTSP_AUTH_OK : NL_RTSP_AUTH_DENIED;
}

nl_rtsp_auth_result nl_rtsp_auth_verify(const nl_rtsp_auth *a, const nl_rtsp_authz *z,
                                        nl_rtsp_span method, nl_rtsp_span req_url, const char *user,
                                        const char *password, uint64_t now_s)
{
    if (!a || !z || !user || !password)
        return NL_RTSP_AUTH_DENIED;
    switch (z->scheme) {
    case NL_RTSP_AUTH_DIGEST:
        return verify_digest(a, z, method, req_url, user, password, now_s);
    case NL_RTSP_AUTH_BASIC:
        return verify_basic(a, z, user, password);
    default:
        return NL_RTSP_AUTH_MISSING;
    }
}

nl_rtsp_auth_result nl_rtsp_auth_check_request(const nl_rtsp_auth *a, const nl_rtsp_request *r,
                                               const char *user, const char *password,
                                               uint64_t now_s)
{
    nl_rtsp_span v;
    if (!nl_rtsp_header_get(r, "Authorization", &v))
        return NL_RTSP_AUTH_MISSING;
    nl_rtsp_authz z;
    nl_rtsp_auth_result res = NL_RTSP_AUTH_MISSING;
    if (nl_rtsp_authz_parse(v, &z) == 0)
        res = nl_rtsp_auth_verify(a, &z, r->method_name, r->url, user, password, now_s);
    nl_rtsp_authz_wipe(&z);
    return res;
}
