/* Fuzz target: Transport header parsing, choosing and formatting.
 *
 * Input: byte 0 picks the policy (UDP/TCP allowed, peer address known); the
 * rest is a Transport header value. Checks: the chosen alternative really is
 * acceptable, its spans lie inside the input, and the answer we would format
 * parses back to an acceptable transport with the same lower transport,
 * ports and channels (what ffmpeg requires of a SETUP answer). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp/transport.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static void inside(nl_rtsp_span s, const char *base, size_t n)
{
    if (s.n)
        CHECK(s.p >= base && s.p + s.n <= base + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    nl_rtsp_transport_policy pol = {
        .allow_udp = (data[0] & 1) != 0,
        .allow_tcp = (data[0] & 2) != 0,
        .peer_host = (data[0] & 4) ? "192.168.1.50" : NULL,
    };
    const char *hdr = (const char *)data + 1;
    size_t n = size - 1;
    nl_rtsp_span span = nl_rtsp_span_make(hdr, n);

    nl_rtsp_transport alts[NL_RTSP_MAX_TRANSPORTS];
    int count = nl_rtsp_transport_parse(span, alts, NL_RTSP_MAX_TRANSPORTS);
    CHECK(count <= NL_RTSP_MAX_TRANSPORTS);
    for (int i = 0; i < count; i++) {
        inside(alts[i].spec, hdr, n);
        inside(alts[i].destination, hdr, n);
        CHECK(alts[i].spec.n > 0);
    }

    nl_rtsp_transport t;
    int idx = nl_rtsp_transport_choose(span, &pol, &t);
    if (idx < 0)
        return 0;
    CHECK(idx < count);
    CHECK(nl_rtsp_transport_acceptable(&t, &pol));
    CHECK(t.lower == NL_RTSP_LOWER_TCP ? pol.allow_tcp : pol.allow_udp);
    CHECK(!t.multicast && t.mode_play && !t.mode_other);

    if (!t.has_interleaved) {
        t.has_interleaved = 1;
        t.interleaved[0] = 0;
        t.interleaved[1] = 1;
    }
    t.has_server_port = 1;
    t.server_port[0] = 8000;
    t.server_port[1] = 8001;
    t.has_ssrc = 1;
    t.ssrc = 0x12345678;
    char out[192];
    int len = nl_rtsp_transport_format(&t, out, sizeof out);
    CHECK(len > 0 && (size_t)len == strlen(out));

    nl_rtsp_transport_policy any = {1, 1, "192.168.1.50"};
    nl_rtsp_transport back;
    CHECK(nl_rtsp_transport_choose(nl_rtsp_span_make(out, (size_t)len), &any, &back) == 0);
    CHECK(back.lower == t.lower);
    CHECK(back.has_ssrc && back.ssrc == 0x12345678);
    if (t.lower == NL_RTSP_LOWER_TCP) {
        CHECK(back.interleaved[0] == t.interleaved[0] && back.interleaved[1] == t.interleaved[1]);
    } else {
        CHECK(back.client_port[0] == t.client_port[0] && back.client_port[1] == t.client_port[1]);
    }
    /* Too small a buffer never leaves a partial value. */
    CHECK(nl_rtsp_transport_format(&t, out, (size_t)len) < 0 && out[0] == '\0');
    return 0;
}
