/* Transport header (RFC 2326 §12.39): parsing the client's alternatives,
 * choosing one we can serve, and formatting the one-transport answer.
 *
 * A SETUP's Transport header is a comma-separated list in order of the
 * client's preference ("RTP/AVP/TCP;unicast;interleaved=0-1" from ffmpeg,
 * "RTP/AVP;unicast;client_port=56368-56369" from GStreamer). We pick the first
 * alternative we can serve and answer with exactly one transport on the same
 * lower transport, because ffmpeg rejects any other answer.
 *
 * What we serve: RTP/AVP (= RTP/AVP/UDP) and RTP/AVP/TCP, unicast, mode PLAY.
 * Multicast, RECORD, other profiles (RTP/SAVP, RTP/AVPF) or lower layers are
 * not acceptable; when nothing is, the answer is 461 Unsupported Transport.
 *
 * destination= asks us to send media to another address than the
 * requester's - a classic way to turn a media server into a traffic cannon.
 * An alternative naming any destination other than the requester's own
 * address is therefore not acceptable.
 *
 * Pure functions over spans; nothing allocates or keeps state. */
#ifndef NL_RTSP_TRANSPORT_H
#define NL_RTSP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtsp/parse.h"

typedef enum nl_rtsp_lower {
    NL_RTSP_LOWER_UDP = 0,
    NL_RTSP_LOWER_TCP,
} nl_rtsp_lower;

/* One transport alternative. Spans point into the header value. */
typedef struct nl_rtsp_transport {
    nl_rtsp_span spec;   /* the alternative as sent */
    bool rtp_avp;        /* profile RTP/AVP (else: something we do not serve) */
    nl_rtsp_lower lower; /* UDP unless "/TCP" */
    bool lower_known;    /* lower transport was absent, UDP or TCP */
    bool unicast;        /* "unicast" present */
    bool multicast;      /* "multicast" present */
    bool mode_play;      /* mode absent, or lists PLAY */
    bool mode_other;     /* mode lists something else (RECORD, receive...) */
    bool has_client_port;
    uint16_t client_port[2]; /* RTP, RTCP (a-b, or a alone meaning a, a+1) */
    bool has_interleaved;
    uint8_t interleaved[2]; /* RTP, RTCP channels */
    bool has_ssrc;
    uint32_t ssrc; /* hex in the header */
    bool has_destination;
    nl_rtsp_span destination; /* may be empty ("destination" alone = requester) */
    bool malformed;           /* a parameter we care about did not parse */
    /* Filled by the server before nl_rtsp_transport_format(): */
    bool has_server_port;
    uint16_t server_port[2];
} nl_rtsp_transport;

/* What the server can accept. */
typedef struct nl_rtsp_transport_policy {
    bool allow_udp;
    bool allow_tcp;
    /* The requester's numeric address ("127.0.0.1", "::1") for comparing
     * destination=; NULL refuses every alternative that names one. */
    const char *peer_host;
} nl_rtsp_transport_policy;

/* Parses one alternative (no commas). Never fails: problems set flags
 * (malformed, rtp_avp false, ...) that nl_rtsp_transport_acceptable checks. */
void nl_rtsp_transport_parse_one(nl_rtsp_span spec, nl_rtsp_transport *t);

/* Splits the header into up to `max` alternatives (at most
 * NL_RTSP_MAX_TRANSPORTS are looked at). Returns how many were stored, or
 * NL_EPROTO when the header is empty. Commas inside quoted strings
 * (mode="PLAY,RECORD") do not split. */
int nl_rtsp_transport_parse(nl_rtsp_span header, nl_rtsp_transport *alts, size_t max);

/* True when we can serve t under policy. */
bool nl_rtsp_transport_acceptable(const nl_rtsp_transport *t,
                                  const nl_rtsp_transport_policy *policy);

/* Picks the first acceptable alternative of a Transport header value.
 * Returns its index (>= 0) and fills *out; NL_EPROTO when the header is
 * missing/empty (answer 400), NL_ENOTSUP when none is acceptable (461). */
int nl_rtsp_transport_choose(nl_rtsp_span header, const nl_rtsp_transport_policy *policy,
                             nl_rtsp_transport *out);

/* Formats the answer's Transport value (no header name, no CRLF) into
 * buf[0..cap), NUL-terminated:
 *   TCP: RTP/AVP/TCP;unicast;interleaved=a-b[;ssrc=XXXXXXXX]
 *   UDP: RTP/AVP;unicast;client_port=a-b;server_port=c-d[;ssrc=XXXXXXXX]
 * `ssrc` is written when has_ssrc (the server sets it to its own SSRC).
 * Returns the length, NL_EINVAL when TCP lacks channels or UDP lacks client
 * or server ports, NL_ETOOBIG when cap is too small (buf is then ""). */
int nl_rtsp_transport_format(const nl_rtsp_transport *t, char *buf, size_t cap);

#endif
