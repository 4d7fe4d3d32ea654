/* Transport header: the variants real clients send, choosing, refusing
 * (multicast, RECORD, foreign destination), and formatting the answer. */
#include "neolink/error.h"
#include "rtsp/transport.h"
#include "test.h"

static const nl_rtsp_transport_policy both = {true, true, "192.168.1.50"};
static const nl_rtsp_transport_policy tcp_only = {false, true, "192.168.1.50"};
static const nl_rtsp_transport_policy udp_only = {true, false, NULL};

static int choose(const char *hdr, const nl_rtsp_transport_policy *pol, nl_rtsp_transport *t)
{
    return nl_rtsp_transport_choose(nl_rtsp_span_make(hdr, strlen(hdr)), pol, t);
}

static void test_real_clients(void)
{
    nl_rtsp_transport t;
    /* ffmpeg 5.1 and GStreamer 1.22 over TCP (captured). */
    NL_ASSERT_EQ(choose("RTP/AVP/TCP;unicast;interleaved=0-1", &both, &t), 0);
    NL_ASSERT_EQ(t.lower, NL_RTSP_LOWER_TCP);
    NL_ASSERT(t.unicast && t.has_interleaved && !t.has_client_port);
    NL_ASSERT_EQ(t.interleaved[0], 0);
    NL_ASSERT_EQ(t.interleaved[1], 1);
    /* ffmpeg 5.1 UDP (captured). */
    NL_ASSERT_EQ(choose("RTP/AVP/UDP;unicast;client_port=14172-14173", &both, &t), 0);
    NL_ASSERT_EQ(t.lower, NL_RTSP_LOWER_UDP);
    NL_ASSERT_EQ(t.client_port[0], 14172);
    NL_ASSERT_EQ(t.client_port[1], 14173);
    /* GStreamer 1.22 / live555 UDP: no "/UDP" (captured / constructed). */
    NL_ASSERT_EQ(choose("RTP/AVP;unicast;client_port=56368-56369", &both, &t), 0);
    NL_ASSERT_EQ(t.lower, NL_RTSP_LOWER_UDP);
    NL_ASSERT_EQ(t.client_port[0], 56368);
    NL_ASSERT(nl_rtsp_span_eq(t.spec, "RTP/AVP;unicast;client_port=56368-56369"));
    /* ffmpeg's second interleaved stream, mode quoted or not. */
    NL_ASSERT_EQ(choose("RTP/AVP/TCP;unicast;interleaved=2-3;mode=\"PLAY\"", &both, &t), 0);
    NL_ASSERT_EQ(t.interleaved[0], 2);
    NL_ASSERT_EQ(choose("rtp/avp/tcp;UNICAST;Interleaved=4-5;MODE=play", &both, &t), 0);
    NL_ASSERT_EQ(t.interleaved[1], 5);
}

static void test_alternatives(void)
{
    nl_rtsp_transport t;
    const char *pref = "RTP/AVP;unicast;client_port=5000-5001, RTP/AVP/TCP;unicast;interleaved=0-1";
    /* First acceptable wins; policy can skip one. */
    NL_ASSERT_EQ(choose(pref, &both, &t), 0);
    NL_ASSERT_EQ(t.lower, NL_RTSP_LOWER_UDP);
    NL_ASSERT_EQ(choose(pref, &tcp_only, &t), 1);
    NL_ASSERT_EQ(t.lower, NL_RTSP_LOWER_TCP);
    NL_ASSERT(nl_rtsp_span_eq(t.spec, "RTP/AVP/TCP;unicast;interleaved=0-1"));
    /* Multicast first (GStreamer's udp-mcast order), then unicast. */
    NL_ASSERT_EQ(
        choose("RTP/AVP;multicast;port=5000-5001,RTP/AVP;unicast;client_port=6000-6001", &both, &t),
        1);
    NL_ASSERT_EQ(t.client_port[0], 6000);
    /* A comma inside a quoted mode does not split alternatives. */
    NL_ASSERT_EQ(
        choose("RTP/AVP/TCP;interleaved=0-1;mode=\"RECORD,PLAY\",RTP/AVP/TCP;interleaved=2-3",
               &both, &t),
        1);
    nl_rtsp_transport alts[NL_RTSP_MAX_TRANSPORTS];
    const char *many = "a,b,c,d,e,f,g,h,i,j";
    NL_ASSERT_EQ(nl_rtsp_transport_parse(nl_rtsp_span_make(many, strlen(many)), alts, 99),
                 NL_RTSP_MAX_TRANSPORTS);
    NL_ASSERT_EQ(nl_rtsp_transport_parse(nl_rtsp_span_make(" , ,", 4), alts, 8), NL_EPROTO);
    /* Only the first NL_RTSP_MAX_TRANSPORTS alternatives are examined. */
    NL_ASSERT_EQ(choose("x,x,x,x,x,x,x,x,RTP/AVP/TCP;interleaved=0-1", &both, &t), NL_ENOTSUP);
    NL_ASSERT_EQ(choose("x,x,x,x,x,x,x,RTP/AVP/TCP;interleaved=0-1", &both, &t), 7);
}

static void test_unicast_defaults(void)
{
    nl_rtsp_transport t;
    /* TCP without "unicast" is still unicast; channels may be absent. */
    NL_ASSERT_EQ(choose("RTP/AVP/TCP", &both, &t), 0);
    NL_ASSERT(!t.has_interleaved);
    /* UDP with ports but without "unicast": lenient, accepted. */
    NL_ASSERT_EQ(choose("RTP/AVP;client_port=7000-7001", &both, &t), 0);
    /* UDP without ports: nowhere to send. */
    NL_ASSERT_EQ(choose("RTP/AVP;unicast", &both, &t), NL_ENOTSUP);
    /* One port means RTP on it and RTCP on the next. */
    NL_ASSERT_EQ(choose("RTP/AVP;unicast;client_port=7000", &both, &t), 0);
    NL_ASSERT_EQ(t.client_port[1], 7001);
    NL_ASSERT_EQ(choose("RTP/AVP;unicast;client_port = 7000 - 7001 ", &both, &t), 0);
    NL_ASSERT_EQ(t.client_port[1], 7001);
    NL_ASSERT_EQ(choose("RTP/AVP/TCP;interleaved=6", &both, &t), 0);
    NL_ASSERT_EQ(t.interleaved[0], 6);
    NL_ASSERT_EQ(t.interleaved[1], 7);
}

static void test_refusals(void)
{
    nl_rtsp_transport t;
    static const char *bad[] = {
        "RTP/AVP;multicast;port=5000-5001",
        "RTP/AVP;multicast;client_port=5000-5001",
        "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
        "RTP/AVP/TCP;unicast;interleaved=0-1;mode=\"RECORD\"",
        "RTP/AVP/TCP;unicast;interleaved=0-1;mode=receive",
        "RTP/AVP/TCP;unicast;interleaved=0-1;mode=\"PLAY,RECORD\"",
        "RTP/SAVP;unicast;client_port=5000-5001",
        "RTP/AVPF;unicast;client_port=5000-5001",
        "RTP/AVP/SCTP;unicast",
        "RAW/RAW/UDP;unicast;client_port=5000-5001",
        "RTP/AVP;unicast;client_port=0-1",
        "RTP/AVP;unicast;client_port=5000-70000",
        "RTP/AVP;unicast;client_port=abc",
        "RTP/AVP;unicast;client_port",
        "RTP/AVP/TCP;unicast;interleaved=0-256",
        "RTP/AVP/TCP;unicast;interleaved=255",
        "RTP/AVP/TCP;unicast;interleaved=",
        "RTP/AVP/TCP;mode",
        "RTP/AVP;unicast;client_port=5000-5001;destination=10.9.9.9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = choose(bad[i], &both, &t);
        if (rc != NL_ENOTSUP)
            NL_FAIL("'%s' gave %d, want 461", bad[i], rc);
    }
    NL_ASSERT_EQ(choose("", &both, &t), NL_EPROTO);
    NL_ASSERT_EQ(choose("  ", &both, &t), NL_EPROTO);
    NL_ASSERT_EQ(choose("RTP/AVP/TCP;interleaved=0-1", &udp_only, &t), NL_ENOTSUP);
    NL_ASSERT_EQ(choose("RTP/AVP;client_port=5000-5001", &tcp_only, &t), NL_ENOTSUP);
}

static void test_destination(void)
{
    nl_rtsp_transport t;
    /* The requester's own address (quoted or not) and the bare keyword are fine. */
    NL_ASSERT_EQ(
        choose("RTP/AVP;unicast;destination=192.168.1.50;client_port=5000-5001", &both, &t), 0);
    NL_ASSERT(t.has_destination);
    NL_ASSERT(nl_rtsp_span_eq(t.destination, "192.168.1.50"));
    NL_ASSERT_EQ(
        choose("RTP/AVP;unicast;destination=\"192.168.1.50\";client_port=5000-5001", &both, &t), 0);
    NL_ASSERT_EQ(choose("RTP/AVP;unicast;destination;client_port=5000-5001", &both, &t), 0);
    NL_ASSERT(t.has_destination && t.destination.n == 0);
    /* Someone else's address is refused; the next alternative is taken. */
    NL_ASSERT_EQ(choose("RTP/AVP;unicast;destination=8.8.8.8;client_port=53-54,"
                        "RTP/AVP/TCP;unicast;interleaved=0-1",
                        &both, &t),
                 1);
    /* With no known peer address every explicit destination is refused. */
    NL_ASSERT_EQ(choose("RTP/AVP;unicast;destination=1.2.3.4;client_port=5000-5001", &udp_only, &t),
                 NL_ENOTSUP);
}

static void test_ssrc_and_ignored(void)
{
    nl_rtsp_transport t;
    NL_ASSERT_EQ(
        choose("RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=DEADbeef;ttl=16;append", &both, &t), 0);
    NL_ASSERT(t.has_ssrc);
    NL_ASSERT_UEQ(t.ssrc, 0xdeadbeefu);
    /* A bad client ssrc is advisory: ignored, not fatal. */
    NL_ASSERT_EQ(choose("RTP/AVP/TCP;interleaved=0-1;ssrc=xyz", &both, &t), 0);
    NL_ASSERT(!t.has_ssrc);
    NL_ASSERT_EQ(choose("RTP/AVP/TCP;interleaved=0-1;ssrc=123456789", &both, &t), 0);
    NL_ASSERT(!t.has_ssrc);
}

static void test_format(void)
{
    char buf[160];
    nl_rtsp_transport t;
    NL_ASSERT_EQ(choose("RTP/AVP/TCP;unicast;interleaved=0-1", &both, &t), 0);
    t.has_ssrc = true;
    t.ssrc = 0x12345678;
    int n = nl_rtsp_transport_format(&t, buf, sizeof buf);
    NL_ASSERT_STREQ(buf, "RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=12345678");
    NL_ASSERT_EQ(n, (int)strlen(buf));

    NL_ASSERT_EQ(choose("RTP/AVP;unicast;client_port=56368-56369", &both, &t), 0);
    NL_ASSERT_EQ(nl_rtsp_transport_format(&t, buf, sizeof buf), NL_EINVAL); /* no server ports */
    t.has_server_port = true;
    t.server_port[0] = 8000;
    t.server_port[1] = 8001;
    t.has_ssrc = true;
    t.ssrc = 0xa;
    NL_ASSERT_OK(nl_rtsp_transport_format(&t, buf, sizeof buf));
    NL_ASSERT_STREQ(buf, "RTP/AVP;unicast;client_port=56368-56369;server_port=8000-8001;"
                         "ssrc=0000000A");

    /* The answer parses back to the same transport (one alternative). */
    nl_rtsp_transport back;
    NL_ASSERT_EQ(choose(buf, &both, &back), 0);
    NL_ASSERT_EQ(back.client_port[0], 56368);
    NL_ASSERT_UEQ(back.ssrc, 0xa);

    /* TCP without channels: the server must assign them first. */
    NL_ASSERT_EQ(choose("RTP/AVP/TCP", &both, &t), 0);
    NL_ASSERT_EQ(nl_rtsp_transport_format(&t, buf, sizeof buf), NL_EINVAL);
    t.has_interleaved = true;
    t.interleaved[0] = 4;
    t.interleaved[1] = 5;
    NL_ASSERT_OK(nl_rtsp_transport_format(&t, buf, sizeof buf));
    NL_ASSERT_STREQ(buf, "RTP/AVP/TCP;unicast;interleaved=4-5");

    /* Too small: nothing partial. */
    NL_ASSERT_EQ(nl_rtsp_transport_format(&t, buf, 10), NL_ETOOBIG);
    NL_ASSERT_STREQ(buf, "");
    NL_ASSERT_EQ(nl_rtsp_transport_format(&t, buf, strlen("RTP/AVP/TCP;unicast;interleaved=4-5")),
                 NL_ETOOBIG);
    NL_ASSERT_EQ(
        nl_rtsp_transport_format(&t, buf, strlen("RTP/AVP/TCP;unicast;interleaved=4-5") + 1),
        (int)strlen("RTP/AVP/TCP;unicast;interleaved=4-5"));
}

int main(void)
{
    NL_RUN(test_real_clients);
    NL_RUN(test_alternatives);
    NL_RUN(test_unicast_defaults);
    NL_RUN(test_refusals);
    NL_RUN(test_destination);
    NL_RUN(test_ssrc_and_ignored);
    NL_RUN(test_format);
    NL_DONE();
}
