/* The simulated camera's login and control plane, checked with a raw test
 * client: every encryption level offered against every level configured
 * (it must answer min(offered, configured) and then use that scheme), the
 * legacy 1836-byte body, wrong credentials (400, empty body), the
 * reject-login fault, the request table (151, 93, 80, 104, 146, 114, 76, 37,
 * 199, 208/209, 18, 23, 263, 288, unknown -> 400), a client that uses AES
 * whatever was negotiated (reolink_aio), motion pushes after 31, camera
 * heartbeats, logout. */
#include "sim_test_client.h"

static const uint8_t wire_levels[] = {NL_BC_ENC_NONE, NL_BC_ENC_BC, NL_BC_ENC_AES,
                                      NL_BC_ENC_FULLAES};

static uint8_t expected_scheme(uint8_t level)
{
    return level == NL_BC_ENC_NONE ? NL_BC_SCHEME_PLAIN
           : level == NL_BC_ENC_BC ? NL_BC_SCHEME_XOR
                                   : NL_BC_SCHEME_AES;
}

static void test_levels(void)
{
    for (int conf = 0; conf < 4; conf++) {
        nl_sim_config cfg;
        th_config(&cfg);
        cfg.encryption = (nl_sim_encryption)conf;
        cfg.password = "secret";
        sim_harness h;
        th_start(&h, &cfg);
        for (int off = 0; off < 4; off++) {
            tclient c;
            tc_open(&c, h.port);
            NL_ASSERT_EQ(tc_login(&c, wire_levels[off], 0, "admin", "secret"), 200);
            NL_ASSERT_EQ(c.level, wire_levels[off < conf ? off : conf]);
            /* The login reply is DeviceInfo + StreamInfoList, never AES. */
            NL_ASSERT_EQ(c.dec.payload_scheme,
                         c.level == NL_BC_ENC_NONE ? NL_BC_SCHEME_PLAIN : NL_BC_SCHEME_XOR);
            nl_bc_device_info di;
            NL_ASSERT_OK(nl_bc_parse_device_info(tc_xml(&c), &di));
            NL_ASSERT_STREQ(di.type, "ipc");
            NL_ASSERT_EQ(di.channel_num, 1);
            NL_ASSERT_EQ(di.width, 320);
            NL_ASSERT_EQ(di.height, 240);
            NL_ASSERT_EQ(di.streams.count, 3);
            NL_ASSERT_STREQ(di.streams.t[1].type, "subStream");
            NL_ASSERT_EQ(di.streams.t[1].width, 256);
            NL_ASSERT_EQ(di.streams.t[1].height, 144);
            NL_ASSERT_STREQ(di.streams.t[2].type, "externStream");
            NL_ASSERT_EQ(di.streams.t[2].width, 288);
            NL_ASSERT_EQ(di.streams.t[2].height, 160);
            NL_ASSERT(strlen(c.nonce) == 16);

            /* First request after login: enciphered with the new scheme. */
            uint32_t corr = nl_bc_corr_make(0, 0, 7);
            tc_send(&c, NL_BC_MSG_LINK_TYPE, NL_BC_CLASS_MODERN, corr, NULL, 0, NULL, 0);
            NL_ASSERT_EQ(tc_recv(&c, 5000), 1);
            NL_ASSERT_EQ(c.msg.hdr.msg_id, NL_BC_MSG_LINK_TYPE);
            NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
            NL_ASSERT_EQ(c.msg.hdr.corr, corr);
            NL_ASSERT_EQ(c.dec.payload_scheme, expected_scheme(c.level));
            NL_ASSERT_EQ(c.dec.flags & NL_BC_DEC_FALLBACK, 0);
            char type[NL_BC_WORD_MAX];
            NL_ASSERT_OK(nl_bc_parse_link_type(tc_xml(&c), type));
            NL_ASSERT_STREQ(type, "LAN");
            tc_close(&c);
        }
        nl_sim_stats st;
        TH_WAIT_STATS(&h, st, 2000, st.connections == 0);
        NL_ASSERT_EQ(st.connections, 0);
        NL_ASSERT_EQ(st.logins, 4);
        NL_ASSERT_EQ(st.failed_logins, 0);
        NL_ASSERT_EQ(st.connections_total, 4);
        th_stop(&h);
    }
}

static void test_legacy_and_failures(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.password = "123456";
    sim_harness h;
    th_start(&h, &cfg);

    /* Legacy 1836-byte MD5 body: answered with the nonce like the
     * header-only hello, then the modern login works. */
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_FULLAES, 1, "admin", "123456"), 200);
    NL_ASSERT_EQ(c.level, NL_BC_ENC_AES);
    char first_nonce[NL_BC_NONCE_MAX];
    snprintf(first_nonce, sizeof first_nonce, "%s", c.nonce);
    tc_close(&c);

    /* Wrong password: 400, class 0x0000, no body at all; retry works. */
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", "wrong"), 400);
    NL_ASSERT_EQ(c.msg.hdr.body_len, 0);
    NL_ASSERT_EQ(c.msg.hdr.payload_offset, 0);
    NL_ASSERT_EQ(c.msg.hdr.hdr_len, 24);
    NL_ASSERT(strcmp(c.nonce, first_nonce) != 0); /* a fresh nonce per connection */
    /* Requests before login are refused too. */
    tc_send(&c, NL_BC_MSG_LINK_TYPE, NL_BC_CLASS_MODERN, 42, NULL, 0, NULL, 0);
    NL_ASSERT_EQ(tc_recv(&c, 5000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 400);
    NL_ASSERT_EQ(c.msg.hdr.corr, 42);
    nl_dbuf_reset(&c.body);
    NL_ASSERT(nl_bc_build_login(&c.body, "admin", "123456", c.nonce) > 0);
    tc_send(&c, NL_BC_MSG_LOGIN, NL_BC_CLASS_MODERN, 0, NULL, 0, c.body.data, c.body.len);
    NL_ASSERT_EQ(tc_recv(&c, 5000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
    tc_close(&c);

    /* Wrong user name. */
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_BC, 0, "root", "123456"), 400);
    tc_close(&c);

    nl_sim_stats st;
    TH_WAIT_STATS(&h, st, 2000, st.connections == 0);
    NL_ASSERT_EQ(st.logins, 2);
    NL_ASSERT_EQ(st.failed_logins, 2);
    th_stop(&h);

    /* reject-login: the right credentials fail too. */
    th_config(&cfg);
    NL_ASSERT_OK(nl_sim_fault_parse("reject-login", &cfg.faults[0]));
    cfg.nfaults = 1;
    th_start(&h, &cfg);
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_AES, 0, "admin", ""), 400);
    NL_ASSERT_EQ(c.msg.hdr.body_len, 0);
    tc_close(&c);
    TH_WAIT_STATS(&h, st, 2000, st.failed_logins == 1);
    NL_ASSERT_EQ(st.failed_logins, 1);
    NL_ASSERT_EQ(st.logins, 0);
    th_stop(&h);
}

/* Sends a header-only request and returns with its reply received. */
static void ask(tclient *c, uint32_t msg_id, uint16_t want_code)
{
    uint32_t corr = nl_bc_corr_make(0, 0, c->num++);
    tc_send(c, msg_id, NL_BC_CLASS_MODERN, corr, NULL, 0, NULL, 0);
    NL_ASSERT_EQ(tc_recv(c, 5000), 1);
    if (c->msg.hdr.msg_id != msg_id || c->msg.hdr.response_code != want_code)
        NL_FAIL("msg %u: got msg %u code %u, wanted %u", msg_id, c->msg.hdr.msg_id,
                c->msg.hdr.response_code, want_code);
    NL_ASSERT_EQ(c->msg.hdr.corr, corr);
    NL_ASSERT_EQ(c->msg.hdr.msg_class, NL_BC_CLASS_MODERN_REPLY);
}

static void test_requests(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.uid = "TESTUID000000042";
    cfg.model = "UnitCam";
    cfg.keepalive_interval_ms = 300;
    sim_harness h;
    th_start(&h, &cfg);
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_FULLAES, 0, "admin", ""), 200);
    NL_ASSERT_EQ(c.level, NL_BC_ENC_AES);

    /* 151: extension-only request, as the Rust client sends it. */
    nl_dbuf_reset(&c.body);
    long el = nl_bc_build_ability_request(&c.body, "admin");
    NL_ASSERT(el > 0);
    uint32_t corr = nl_bc_corr_make(0, 0, c.num++);
    tc_send(&c, NL_BC_MSG_ABILITY_INFO, NL_BC_CLASS_MODERN, corr, c.body.data, (size_t)el, NULL, 0);
    NL_ASSERT_EQ(tc_recv(&c, 5000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
    nl_bc_abilities ab;
    NL_ASSERT_OK(nl_bc_parse_ability_reply(tc_xml(&c), &ab));
    NL_ASSERT_STREQ(ab.user_name, "admin");
    NL_ASSERT(nl_bc_abilities_can_stream(&ab));
    NL_ASSERT(ab.rw & NL_BC_ABIL_MOTION);
    NL_ASSERT(ab.rw & NL_BC_ABIL_LED_STATE);
    NL_ASSERT(ab.rw & NL_BC_ABIL_PTZ_CONTROL);
    NL_ASSERT(ab.ro & NL_BC_ABIL_VERSION);

    ask(&c, NL_BC_MSG_VERSION, 200);
    nl_bc_version_info vi;
    NL_ASSERT_OK(nl_bc_parse_version_info(tc_xml(&c), &vi));
    NL_ASSERT_STREQ(vi.name, "UnitCam");
    NL_ASSERT_STREQ(vi.serial, "TESTUID000000042");

    ask(&c, NL_BC_MSG_SYSTEM_GENERAL, 200);
    nl_bc_system_general g;
    NL_ASSERT_OK(nl_bc_parse_system_general(tc_xml(&c), &g));
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    NL_ASSERT_EQ(g.year, tm.tm_year + 1900);

    ask(&c, NL_BC_MSG_STREAM_INFO_LIST, 200);
    nl_bc_stream_info_list sl;
    NL_ASSERT_OK(nl_bc_parse_stream_info_list(tc_xml(&c), &sl));
    NL_ASSERT_EQ(sl.count, 3);
    NL_ASSERT_STREQ(sl.t[0].type, "mainStream");
    NL_ASSERT_EQ(sl.t[0].width, 320);
    NL_ASSERT_EQ(sl.t[0].framerate, 15);
    NL_ASSERT_STREQ(sl.t[2].type, "externStream");
    NL_ASSERT_EQ(sl.t[2].width, 288);
    NL_ASSERT_EQ(sl.t[2].height, 160);
    NL_ASSERT_EQ(sl.t[2].framerate, 12);
    NL_ASSERT_EQ(sl.t[2].bitrate, 200);

    ask(&c, NL_BC_MSG_UID, 200);
    char uid[NL_BC_NAME_MAX];
    NL_ASSERT_OK(nl_bc_parse_uid(tc_xml(&c), uid));
    NL_ASSERT_STREQ(uid, "TESTUID000000042");

    ask(&c, NL_BC_MSG_IP, 200);
    nl_bc_ip_info ip;
    NL_ASSERT_OK(nl_bc_parse_ip(tc_xml(&c), &ip));
    NL_ASSERT_STREQ(ip.ip, "127.0.0.1");

    ask(&c, NL_BC_MSG_PORTS, 200);
    nl_bc_ports ports;
    NL_ASSERT_OK(nl_bc_parse_ports(tc_xml(&c), &ports));
    NL_ASSERT_EQ(ports.port[NL_BC_PORT_SERVER], h.port);
    NL_ASSERT_EQ(ports.port[NL_BC_PORT_RTSP], 554);

    ask(&c, NL_BC_MSG_SUPPORT, 200);
    NL_ASSERT(nl_bc_xml_find(tc_xml(&c), "Support/channelNum") != NULL);
    ask(&c, NL_BC_MSG_LED_STATE, 200);
    NL_ASSERT_STREQ(nl_bc_xml_find(tc_xml(&c), "LedState/state"), "auto");

    static const uint32_t ok_empty[] = {NL_BC_MSG_LED_STATE_WRITE, NL_BC_MSG_PTZ_CONTROL,
                                        NL_BC_MSG_REBOOT, NL_BC_MSG_SIREN,
                                        NL_BC_MSG_FLOODLIGHT_MANUAL};
    for (size_t i = 0; i < sizeof ok_empty / sizeof ok_empty[0]; i++) {
        ask(&c, ok_empty[i], 200);
        NL_ASSERT_EQ(c.msg.hdr.body_len, 0);
    }
    /* Unknown ids and a channel that does not exist: 400, header only. */
    ask(&c, 999, 400);
    NL_ASSERT_EQ(c.msg.hdr.body_len, 0);
    nl_dbuf_reset(&c.body);
    el = nl_bc_build_ext_channel(&c.body, 5);
    corr = nl_bc_corr_make(0, 0, c.num++);
    tc_send(&c, NL_BC_MSG_LED_STATE, NL_BC_CLASS_MODERN, corr, c.body.data, (size_t)el, NULL, 0);
    NL_ASSERT_EQ(tc_recv(&c, 5000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 400);

    /* Camera heartbeat (234, header only); the client answers it. */
    NL_ASSERT_EQ(tc_expect(&c, NL_BC_MSG_KEEPALIVE, 3000), 1);
    NL_ASSERT_EQ(c.msg.hdr.body_len, 0);
    tc_send(&c, NL_BC_MSG_KEEPALIVE, NL_BC_CLASS_MODERN, c.msg.hdr.corr, NULL, 0, NULL, 0);

    /* 31: 200, then 33 pushes with the 31's correlation, motion toggling. */
    uint32_t mcorr = nl_bc_corr_make(251, 0, 9);
    tc_send(&c, NL_BC_MSG_MOTION_REQUEST, NL_BC_CLASS_MODERN, mcorr, NULL, 0, NULL, 0);
    NL_ASSERT_EQ(tc_expect(&c, NL_BC_MSG_MOTION_REQUEST, 3000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
    for (int want = 1; want >= 0; want--) {
        NL_ASSERT_EQ(tc_expect(&c, NL_BC_MSG_ALARM_EVENT_LIST, 3000), 1);
        NL_ASSERT_EQ(c.msg.hdr.corr, mcorr);
        NL_ASSERT_EQ(c.dec.payload_scheme, NL_BC_SCHEME_AES);
        nl_bc_alarm_list al;
        NL_ASSERT_OK(nl_bc_parse_alarm_list(tc_xml(&c), &al));
        NL_ASSERT_EQ(nl_bc_alarm_motion(&al, 0), want);
    }

    /* Logout: 200, then the camera closes. */
    nl_dbuf_reset(&c.body);
    NL_ASSERT(nl_bc_build_logout(&c.body, "admin", "") > 0);
    tc_send(&c, NL_BC_MSG_LOGOUT, NL_BC_CLASS_MODERN, 77, NULL, 0, c.body.data, c.body.len);
    NL_ASSERT_EQ(tc_expect(&c, NL_BC_MSG_LOGOUT, 3000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
    int rc;
    while ((rc = tc_recv(&c, 3000)) == 1)
        ;
    NL_ASSERT_EQ(rc, -1);
    tc_close(&c);
    nl_sim_stats st;
    TH_WAIT_STATS(&h, st, 2000, st.connections == 0);
    NL_ASSERT_EQ(st.connections, 0);
    NL_ASSERT(st.motion_pushes >= 2);
    th_stop(&h);
}

/* reolink_aio encrypts with AES after login whatever level was chosen; the
 * camera must still understand it (sheet §10.1). */
static void test_aes_regardless(void)
{
    nl_sim_config cfg;
    th_config(&cfg);
    cfg.encryption = NL_SIM_ENC_BC;
    sim_harness h;
    th_start(&h, &cfg);
    tclient c;
    tc_open(&c, h.port);
    NL_ASSERT_EQ(tc_login(&c, NL_BC_ENC_FULLAES, 0, "admin", ""), 200);
    NL_ASSERT_EQ(c.level, NL_BC_ENC_BC);

    nl_bc_codec aes;
    NL_ASSERT_OK(nl_bc_codec_init(&aes, 0));
    NL_ASSERT_OK(nl_bc_codec_set_level(&aes, NL_BC_ENC_AES));
    NL_ASSERT_OK(nl_bc_codec_login_done(&aes, c.nonce, ""));
    nl_dbuf ext;
    nl_dbuf_init(&ext, 4096);
    long el = nl_bc_build_ability_request(&ext, "admin");
    nl_bc_header hdr;
    nl_bc_header_init(&hdr, NL_BC_MSG_ABILITY_INFO, NL_BC_CLASS_MODERN, 250, 0);
    nl_dbuf_reset(&c.out);
    NL_ASSERT(nl_bc_codec_encode(&aes, &hdr, ext.data, (size_t)el, NULL, 0, 0, 0, &c.out) > 0);
    tc_write_all(&c, c.out.data, c.out.len);
    NL_ASSERT_EQ(tc_recv(&c, 5000), 1);
    NL_ASSERT_EQ(c.msg.hdr.response_code, 200);
    NL_ASSERT_EQ(c.msg.hdr.corr, 250);
    NL_ASSERT_EQ(c.dec.payload_scheme, NL_BC_SCHEME_XOR); /* it answers in its own scheme */
    nl_bc_abilities ab;
    NL_ASSERT_OK(nl_bc_parse_ability_reply(tc_xml(&c), &ab));
    NL_ASSERT(nl_bc_abilities_can_stream(&ab));
    nl_dbuf_free(&ext);
    nl_bc_codec_free(&aes);
    tc_close(&c);
    th_stop(&h);
}

int main(void)
{
    NL_RUN(test_levels);
    NL_RUN(test_legacy_and_failures);
    NL_RUN(test_requests);
    NL_RUN(test_aes_regardless);
    NL_DONE();
}
