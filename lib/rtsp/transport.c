/* Transport header parse / choose / format. See transport.h. */
#include <stdio.h>
#include <string.h>

#include "core/hex.h"
#include "neolink/error.h"
#include "rtsp/transport.h"

/* Strips one pair of double quotes, if present. */
static nl_rtsp_span unquote(nl_rtsp_span s)
{
    s = nl_rtsp_span_trim(s);
    if (s.n >= 2 && s.p[0] == '"' && s.p[s.n - 1] == '"')
        s = nl_rtsp_span_make(s.p + 1, s.n - 2);
    return s;
}

/* "a-b" or "a"; each 0..max. Returns 0, or -1. */
static int parse_pair(nl_rtsp_span v, uint32_t max, uint32_t out[2])
{
    v = nl_rtsp_span_trim(v);
    const char *dash = memchr(v.p, '-', v.n);
    nl_rtsp_span a = nl_rtsp_span_trim(nl_rtsp_span_make(v.p, dash ? (size_t)(dash - v.p) : v.n));
    if (nl_rtsp_span_u32(a, &out[0]) != 0 || out[0] > max)
        return -1;
    if (!dash) {
        out[1] = out[0] + 1;
        return out[1] > max ? -1 : 0;
    }
    nl_rtsp_span b =
        nl_rtsp_span_trim(nl_rtsp_span_make(dash + 1, (size_t)(v.p + v.n - (dash + 1))));
    if (nl_rtsp_span_u32(b, &out[1]) != 0 || out[1] > max)
        return -1;
    return 0;
}

static int parse_hex32(nl_rtsp_span v, uint32_t *out)
{
    v = nl_rtsp_span_trim(v);
    if (v.n == 0 || v.n > 8)
        return -1;
    uint32_t x = 0;
    for (size_t i = 0; i < v.n; i++) {
        int d = nl__hex_digit((unsigned char)v.p[i]);
        if (d < 0)
            return -1;
        x = (x << 4) | (uint32_t)d;
    }
    *out = x;
    return 0;
}

/* mode = <"> Method *("," Method) <"> | Method */
static void parse_mode(nl_rtsp_span v, nl_rtsp_transport *t)
{
    v = unquote(v);
    t->mode_play = false;
    const char *end = v.p + v.n, *pos = v.p;
    while (pos <= end) {
        const char *comma = memchr(pos, ',', (size_t)(end - pos));
        const char *stop = comma ? comma : end;
        nl_rtsp_span m = unquote(nl_rtsp_span_make(pos, (size_t)(stop - pos)));
        if (nl_rtsp_span_ieq(m, "PLAY"))
            t->mode_play = true;
        else if (m.n)
            t->mode_other = true;
        if (!comma)
            break;
        pos = comma + 1;
    }
}

static void parse_param(nl_rtsp_span p, nl_rtsp_transport *t)
{
    const char *eq = memchr(p.p, '=', p.n);
    nl_rtsp_span name = nl_rtsp_span_trim(nl_rtsp_span_make(p.p, eq ? (size_t)(eq - p.p) : p.n));
    nl_rtsp_span val =
        eq ? nl_rtsp_span_make(eq + 1, (size_t)(p.p + p.n - (eq + 1))) : nl_rtsp_span_make(NULL, 0);
    uint32_t pair[2];

    if (nl_rtsp_span_ieq(name, "unicast")) {
        t->unicast = true;
    } else if (nl_rtsp_span_ieq(name, "multicast")) {
        t->multicast = true;
    } else if (nl_rtsp_span_ieq(name, "client_port")) {
        if (!eq || parse_pair(val, 65535, pair) != 0 || pair[0] == 0 || pair[1] == 0) {
            t->malformed = true;
            return;
        }
        t->has_client_port = true;
        t->client_port[0] = (uint16_t)pair[0];
        t->client_port[1] = (uint16_t)pair[1];
    } else if (nl_rtsp_span_ieq(name, "interleaved")) {
        if (!eq || parse_pair(val, 255, pair) != 0) {
            t->malformed = true;
            return;
        }
        t->has_interleaved = true;
        t->interleaved[0] = (uint8_t)pair[0];
        t->interleaved[1] = (uint8_t)pair[1];
    } else if (nl_rtsp_span_ieq(name, "ssrc")) {
        /* The client's SSRC is advisory for PLAY; a bad one is ignored. */
        uint32_t v;
        if (eq && parse_hex32(val, &v) == 0) {
            t->has_ssrc = true;
            t->ssrc = v;
        }
    } else if (nl_rtsp_span_ieq(name, "mode")) {
        if (!eq) {
            t->malformed = true;
            return;
        }
        parse_mode(val, t);
    } else if (nl_rtsp_span_ieq(name, "destination")) {
        t->has_destination = true;
        t->destination = eq ? unquote(val) : nl_rtsp_span_make(NULL, 0);
    }
    /* ttl, layers, port, append, source, ...: irrelevant for unicast PLAY. */
}

void nl_rtsp_transport_parse_one(nl_rtsp_span spec, nl_rtsp_transport *t)
{
    memset(t, 0, sizeof *t);
    spec = nl_rtsp_span_trim(spec);
    t->spec = spec;
    t->mode_play = true;
    const char *end = spec.p + spec.n;
    const char *semi = memchr(spec.p, ';', spec.n);
    nl_rtsp_span proto =
        nl_rtsp_span_trim(nl_rtsp_span_make(spec.p, (size_t)((semi ? semi : end) - spec.p)));

    /* transport-protocol "/" profile ["/" lower-transport] */
    t->lower = NL_RTSP_LOWER_UDP;
    if (nl_rtsp_span_ieq(proto, "RTP/AVP") || nl_rtsp_span_ieq(proto, "RTP/AVP/UDP")) {
        t->rtp_avp = true;
        t->lower_known = true;
    } else if (nl_rtsp_span_ieq(proto, "RTP/AVP/TCP")) {
        t->rtp_avp = true;
        t->lower_known = true;
        t->lower = NL_RTSP_LOWER_TCP;
    }

    while (semi) {
        const char *start = semi + 1;
        /* A quoted value may contain ';' in theory; our parameters never do,
         * but skip quoted text so it cannot split a parameter. */
        const char *q = start;
        bool in_quote = false;
        while (q < end && (in_quote || *q != ';')) {
            if (*q == '"')
                in_quote = !in_quote;
            q++;
        }
        semi = q < end ? q : NULL;
        nl_rtsp_span param = nl_rtsp_span_trim(nl_rtsp_span_make(start, (size_t)(q - start)));
        if (param.n)
            parse_param(param, t);
    }
}

int nl_rtsp_transport_parse(nl_rtsp_span header, nl_rtsp_transport *alts, size_t max)
{
    header = nl_rtsp_span_trim(header);
    if (header.n == 0)
        return NL_EPROTO;
    if (max > NL_RTSP_MAX_TRANSPORTS)
        max = NL_RTSP_MAX_TRANSPORTS;
    const char *pos = header.p, *end = header.p + header.n;
    size_t n = 0;
    while (pos < end && n < max) {
        const char *q = pos;
        bool in_quote = false;
        while (q < end && (in_quote || *q != ',')) {
            if (*q == '"')
                in_quote = !in_quote;
            q++;
        }
        nl_rtsp_span spec = nl_rtsp_span_trim(nl_rtsp_span_make(pos, (size_t)(q - pos)));
        if (spec.n)
            nl_rtsp_transport_parse_one(spec, &alts[n++]);
        pos = q < end ? q + 1 : end;
    }
    return n ? (int)n : NL_EPROTO;
}

bool nl_rtsp_transport_acceptable(const nl_rtsp_transport *t,
                                  const nl_rtsp_transport_policy *policy)
{
    if (!t->rtp_avp || !t->lower_known || t->malformed)
        return false;
    if (t->multicast || !t->mode_play || t->mode_other)
        return false;
    if (t->has_destination && t->destination.n) {
        if (!policy->peer_host || !nl_rtsp_span_ieq(t->destination, policy->peer_host))
            return false;
    }
    if (t->lower == NL_RTSP_LOWER_TCP) {
        /* Multicast over TCP is meaningless, so a missing "unicast" is fine.
         * Without interleaved= the server assigns channels. */
        return policy->allow_tcp;
    }
    if (!policy->allow_udp)
        return false;
    /* RFC 2326's default is multicast, but a client that gives us its ports
     * clearly wants unicast (and we never do multicast), so accept it.
     * Without ports there is nowhere to send to. */
    return t->has_client_port;
}

int nl_rtsp_transport_choose(nl_rtsp_span header, const nl_rtsp_transport_policy *policy,
                             nl_rtsp_transport *out)
{
    nl_rtsp_transport alts[NL_RTSP_MAX_TRANSPORTS];
    int n = nl_rtsp_transport_parse(header, alts, NL_RTSP_MAX_TRANSPORTS);
    if (n < 0)
        return n;
    for (int i = 0; i < n; i++) {
        if (nl_rtsp_transport_acceptable(&alts[i], policy)) {
            *out = alts[i];
            return i;
        }
    }
    return NL_ENOTSUP;
}

int nl_rtsp_transport_format(const nl_rtsp_transport *t, char *buf, size_t cap)
{
    if (cap)
        buf[0] = '\0';
    int n;
    char ssrc[24] = "";
    if (t->has_ssrc)
        snprintf(ssrc, sizeof ssrc, ";ssrc=%08X", (unsigned)t->ssrc);
    if (t->lower == NL_RTSP_LOWER_TCP) {
        if (!t->has_interleaved)
            return NL_EINVAL;
        n = snprintf(buf, cap, "RTP/AVP/TCP;unicast;interleaved=%u-%u%s",
                     (unsigned)t->interleaved[0], (unsigned)t->interleaved[1], ssrc);
    } else {
        if (!t->has_client_port || !t->has_server_port)
            return NL_EINVAL;
        n = snprintf(buf, cap, "RTP/AVP;unicast;client_port=%u-%u;server_port=%u-%u%s",
                     (unsigned)t->client_port[0], (unsigned)t->client_port[1],
                     (unsigned)t->server_port[0], (unsigned)t->server_port[1], ssrc);
    }
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return NL_ETOOBIG;
    }
    return n;
}
