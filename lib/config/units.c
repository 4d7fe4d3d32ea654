/* Value syntaxes of the configuration. Everything is parsed by hand instead
 * of strtod/strtoll: those accept hex, exponents, leading blanks and locale
 * decimal commas, which would let typos through as surprising numbers. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "config/units.h"
#include "neolink/config.h"
#include "neolink/error.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal number "D+[.D+]" followed by a unit suffix looked up in `units`.
 * The value is computed in integers: the whole part times the unit, plus each
 * fraction digit times unit/10^k, so "1.5s" is exactly 1500000000 ns and
 * digits below the unit's resolution are dropped. */
typedef struct unit {
    const char *suffix;
    int64_t mul;
} unit;

static int parse_scaled(const char *text, const unit *units, int64_t *out)
{
    if (!text)
        return NL_EINVAL;
    const char *p = text;
    uint64_t whole = 0;
    int overflow = 0;
    if (!is_digit(*p))
        return NL_EINVAL; /* also rejects '-', '+', blanks and ".5" */
    while (is_digit(*p)) {
        unsigned d = (unsigned)(*p++ - '0');
        if (whole > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            whole = whole * 10 + d;
    }
    const char *frac = NULL;
    size_t frac_len = 0;
    if (*p == '.') {
        p++;
        frac = p;
        while (is_digit(*p))
            p++;
        frac_len = (size_t)(p - frac);
        if (frac_len == 0)
            return NL_EINVAL;
    }
    const unit *u = NULL;
    for (const unit *it = units; it->suffix; it++) {
        if (!strcmp(p, it->suffix)) {
            u = it;
            break;
        }
    }
    if (!u)
        return NL_EINVAL;
    if (overflow || whole > (uint64_t)(INT64_MAX / u->mul))
        return NL_ERANGE;
    int64_t v = (int64_t)whole * u->mul;
    int64_t scale = u->mul;
    for (size_t i = 0; i < frac_len && scale > 1; i++) {
        scale /= 10;
        int64_t add = (int64_t)(frac[i] - '0') * scale;
        if (v > INT64_MAX - add)
            return NL_ERANGE;
        v += add;
    }
    *out = v;
    return 0;
}

static const unit duration_units[] = {
    {"ns", 1},
    {"us", INT64_C(1000)},
    {"ms", INT64_C(1000000)},
    {"s", INT64_C(1000000000)},
    {"", INT64_C(1000000000)}, /* a bare number means seconds */
    {"m", INT64_C(60000000000)},
    {"h", INT64_C(3600000000000)},
    {NULL, 0},
};

static const unit size_units[] = {
    {"", 1},
    {"k", INT64_C(1000)},
    {"K", INT64_C(1000)},
    {"M", INT64_C(1000000)},
    {"G", INT64_C(1000000000)},
    {NULL, 0},
};

NL_EXPORT int nl_config_parse_duration(const char *text, int64_t *out)
{
    return parse_scaled(text, duration_units, out);
}

NL_EXPORT int nl_config_parse_size(const char *text, int64_t *out)
{
    return parse_scaled(text, size_units, out);
}

int nl__cfg_parse_int(const char *text, int64_t *out)
{
    const char *p = text;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!is_digit(*p))
        return NL_EINVAL;
    uint64_t v = 0;
    int overflow = 0;
    for (; is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            v = v * 10 + d;
    }
    if (*p)
        return NL_EINVAL;
    /* -2^63 is representable, 2^63 is not. */
    if (overflow || v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return NL_ERANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int nl__cfg_parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (!strcasecmp(text, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(text, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return NL_EINVAL;
}

/* Host names: letters, digits, '-', '_' and '.', not starting with '.' or
 * '-'. This also admits IPv4 literals; a malformed dotted quad such as
 * "192.168.1" is left for the resolver to reject, as other tools do. */
static int valid_hostname(const char *h, size_t n)
{
    if (n == 0 || n > NL_CFG_HOST_MAX || h[0] == '.' || h[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
                 c == '_' || c == '.';
        if (!ok)
            return 0;
    }
    return 1;
}

/* An IPv6 literal, optionally with a zone ("fe80::1%eth0"). */
static int valid_ipv6(const char *h, size_t n)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, h, n);
    buf[n] = '\0';
    char *zone = strchr(buf, '%');
    if (zone) {
        *zone++ = '\0';
        if (!valid_hostname(zone, strlen(zone)))
            return 0;
    }
    unsigned char addr[16];
    return inet_pton(AF_INET6, buf, addr) == 1;
}

static int copy_host(const char *h, size_t n, char *host, size_t cap)
{
    if (n >= cap)
        return NL_EINVAL;
    memcpy(host, h, n);
    host[n] = '\0';
    return 0;
}

static int parse_port(const char *p, uint16_t *port)
{
    int64_t v;
    if (*p == '-' || nl__cfg_parse_int(p, &v) != 0 || v < 1 || v > 65535)
        return NL_EINVAL;
    *port = (uint16_t)v;
    return 0;
}

int nl__cfg_parse_hostport(const char *text, uint16_t default_port, char *host, size_t cap,
                           uint16_t *port, const char **why)
{
    static const char generic[] = "expected HOST[:PORT]";
    *why = default_port ? generic : "expected HOST:PORT";
    const char *h, *rest;
    size_t hn;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close)
            return NL_EINVAL;
        h = text + 1;
        hn = (size_t)(close - h);
        rest = close + 1;
        if (!valid_ipv6(h, hn))
            return NL_EINVAL;
    } else {
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':')) {
            *why = "expected HOST[:PORT] (write IPv6 addresses as [ADDR]:PORT)";
            return NL_EINVAL;
        }
        h = text;
        hn = colon ? (size_t)(colon - text) : strlen(text);
        rest = text + hn;
        if (!valid_hostname(h, hn))
            return NL_EINVAL;
    }
    if (*rest == '\0') {
        if (!default_port)
            return NL_EINVAL;
        *port = default_port;
    } else if (*rest != ':' || parse_port(rest + 1, port) != 0) {
        if (*rest == ':')
            *why = default_port ? "expected HOST[:PORT] (port 1-65535)"
                                : "expected HOST:PORT (port 1-65535)";
        return NL_EINVAL;
    }
    if (copy_host(h, hn, host, cap) != 0)
        return NL_EINVAL;
    *why = NULL;
    return 0;
}

int nl__cfg_parse_host(const char *text, char *host, size_t cap, const char **why)
{
    *why = "expected an IP address or host name (without a port)";
    size_t n = strlen(text);
    if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
        if (!valid_ipv6(text + 1, n - 2))
            return NL_EINVAL;
        return copy_host(text + 1, n - 2, host, cap) == 0 ? (*why = NULL, 0) : NL_EINVAL;
    }
    if (strchr(text, ':')) {
        if (!valid_ipv6(text, n))
            return NL_EINVAL;
    } else if (!valid_hostname(text, n)) {
        return NL_EINVAL;
    }
    if (copy_host(text, n, host, cap) != 0)
        return NL_EINVAL;
    *why = NULL;
    return 0;
}
