/* Message bodies: the sample captures parse to the sheet's values, builders
 * reproduce captured bytes where a capture exists, and every builder's output
 * parses back to what went in. */
#include "bc/bodies.h"
#include "bc/crypto.h"
#include "core/alloc.h"
#include "neolink/error.h"
#include "test.h"

static int vectors;
static nl_bc_xml *xml;
static nl_dbuf buf;

static unsigned char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bc/%s", NL_TEST_DATA, name);
    return nl_test_read_file(path, len);
}

/* Loads a sample, XOR-deciphers its payload (offset = byte 12) and parses it. */
static const nl_bc_xml_node *sample_xml(const char *name, unsigned char **keep)
{
    size_t n;
    unsigned char *d = load(name, &n);
    nl_bc_header h;
    int hl = nl_bc_header_parse(d, n, &h);
    NL_ASSERT(hl > 0);
    uint8_t *pl = d + hl + h.payload_offset;
    size_t pn = h.body_len - h.payload_offset;
    nl_bc_xor(nl_bc_hdr_channel(&h), pl, pl, pn);
    const nl_bc_xml_node *root;
    NL_ASSERT_OK(nl_bc_xml_parse(xml, pl, pn, &root));
    *keep = d;
    return root;
}

/* buf is not NUL-terminated: search only its first len bytes. */
static int contains(const char *needle)
{
    return memmem(buf.data, buf.len, needle, strlen(needle)) != NULL;
}

/* Parses what the last builder wrote into buf. */
static const nl_bc_xml_node *reparse(void)
{
    const nl_bc_xml_node *root;
    NL_ASSERT_OK(nl_bc_xml_parse(xml, buf.data, buf.len, &root));
    return root;
}

static void test_nonce(void)
{
    unsigned char *d;
    nl_bc_nonce_reply nr;
    NL_ASSERT_OK(nl_bc_parse_nonce_reply(sample_xml("model_sample_modern_login.bin", &d), &nr));
    NL_ASSERT_STREQ(nr.nonce, "9E6D1FCB9E69846D");
    NL_ASSERT_STREQ(nr.type, "md5");
    free(d);
    NL_ASSERT_OK(nl_bc_parse_nonce_reply(sample_xml("battery_enc.bin", &d), &nr));
    NL_ASSERT_STREQ(nr.nonce, "0-AhnEZyUg6eKrJFIWgXPF");
    free(d);
    vectors += 2;

    /* The builder reproduces the camera's 145 bytes exactly. */
    nl_dbuf_reset(&buf);
    NL_ASSERT_EQ(nl_bc_build_nonce_reply(&buf, "9E6D1FCB9E69846D"), 145);
    size_t n;
    unsigned char *p = load("xml_crypto_sample1_plaintext.bin", &n);
    NL_ASSERT_MEMEQ(buf.data, p, 145);
    free(p);
    vectors++;

    const nl_bc_xml_node *r;
    NL_ASSERT_OK(nl_bc_xml_parse(xml, "<body><Encryption/></body>", 26, &r));
    NL_ASSERT_EQ(nl_bc_parse_nonce_reply(r, &nr), NL_EPROTO);
}

static void test_legacy_login(void)
{
    size_t n;
    unsigned char *d = load("model_sample_legacy_login.bin", &n);
    nl_bc_legacy_login ll;
    NL_ASSERT_OK(nl_bc_parse_legacy_login(d + 20, n - 20, &ll));
    NL_ASSERT_MEMEQ(ll.user, "21232F297A57A5A743894A0E4A801FC\0", 32);
    static const uint8_t zero[32];
    NL_ASSERT_MEMEQ(ll.pass, zero, 32);
    NL_ASSERT_EQ(nl_bc_parse_legacy_login(d + 20, n - 21, &ll), NL_EPROTO);

    /* Re-serialising (header + body) gives the identical 1856 bytes. */
    nl_bc_header h;
    NL_ASSERT_EQ(nl_bc_header_parse(d, n, &h), 20);
    nl_dbuf_reset(&buf);
    uint8_t *hp = nl_dbuf_reserve(&buf, 20);
    NL_ASSERT(hp != NULL);
    nl_bc_header_write(&h, hp);
    nl_dbuf_commit(&buf, 20);
    NL_ASSERT_EQ(nl_bc_build_legacy_login(&buf, "admin", NULL), 1836);
    NL_ASSERT_EQ(buf.len, n);
    NL_ASSERT_MEMEQ(buf.data, d, n);
    free(d);
    vectors++;
}

static void test_login(void)
{
    static const char nonce[] = "9E6D1FCB9E69846D";
    nl_dbuf_reset(&buf);
    long len = nl_bc_build_login(&buf, "admin", "", nonce);
    static const char expect[] = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
                                 "<body>\n"
                                 "<LoginUser version=\"1.1\">\n"
                                 "<userName>9F07915E819A076E2E14169830769D6</userName>\n"
                                 "<password>8EFECD610524A98390F118D2789BE3B</password>\n"
                                 "<userVer>1</userVer>\n"
                                 "</LoginUser>\n"
                                 "<LoginNet version=\"1.1\">\n"
                                 "<type>LAN</type>\n"
                                 "<udpPort>0</udpPort>\n"
                                 "</LoginNet>\n"
                                 "</body>\n";
    NL_ASSERT_EQ(len, sizeof expect - 1);
    NL_ASSERT_MEMEQ(buf.data, expect, sizeof expect - 1);
    vectors++;

    nl_bc_login l;
    NL_ASSERT_OK(nl_bc_parse_login(reparse(), &l));
    NL_ASSERT_STREQ(l.user_hash, "9F07915E819A076E2E14169830769D6");
    NL_ASSERT_STREQ(l.pass_hash, "8EFECD610524A98390F118D2789BE3B");
    NL_ASSERT_EQ(l.user_ver, 1);
    NL_ASSERT_STREQ(l.net_type, "LAN");
    NL_ASSERT_EQ(l.udp_port, 0);
    NL_ASSERT_OK(nl_bc_login_check(&l, "admin", "", nonce));
    NL_ASSERT_OK(nl_bc_login_check(&l, "admin", NULL, nonce));
    NL_ASSERT_EQ(nl_bc_login_check(&l, "admin", "x", nonce), NL_EAUTH);
    NL_ASSERT_EQ(nl_bc_login_check(&l, "Admin", "", nonce), NL_EAUTH);
    NL_ASSERT_EQ(nl_bc_login_check(&l, "admin", "", "9E6D1FCB9E69846E"), NL_EAUTH);
    vectors++;

    /* Compact (quick-xml style) login as the Rust client sends it. */
    static const char compact[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><body><LoginUser version=\"1.1\">"
        "<userName>9F07915E819A076E2E14169830769D6</userName>"
        "<password>8EFECD610524A98390F118D2789BE3B</password><userVer>1</userVer>"
        "</LoginUser><LoginNet version=\"1.1\"><type>LAN</type><udpPort>0</udpPort>"
        "</LoginNet></body>";
    const nl_bc_xml_node *r;
    NL_ASSERT_OK(nl_bc_xml_parse(xml, compact, sizeof compact - 1, &r));
    NL_ASSERT_OK(nl_bc_parse_login(r, &l));
    NL_ASSERT_OK(nl_bc_login_check(&l, "admin", "", nonce));
    vectors++;

    /* Logout carries plain credentials. */
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_logout(&buf, "admin", "p&ss<") > 0);
    nl_bc_logout lo;
    NL_ASSERT_OK(nl_bc_parse_logout(reparse(), &lo));
    NL_ASSERT_STREQ(lo.user, "admin");
    NL_ASSERT_STREQ(lo.password, "p&ss<");
}

static void test_login_reply(void)
{
    size_t n;
    unsigned char *d = load("modern_login_failed.bin", &n);
    nl_bc_header h;
    NL_ASSERT_EQ(nl_bc_header_parse(d, n, &h), 24);
    NL_ASSERT_EQ(nl_bc_login_reply_result(&h), NL_EAUTH);
    free(d);
    d = load("modern_login_success.bin", &n);
    NL_ASSERT_EQ(nl_bc_header_parse(d, n, &h), 24);
    NL_ASSERT_OK(nl_bc_login_reply_result(&h));
    h.body_len = 0; /* 200 with an empty body is a failure too */
    NL_ASSERT_EQ(nl_bc_login_reply_result(&h), NL_EAUTH);
    h.body_len = 10;
    h.response_code = 401;
    NL_ASSERT_EQ(nl_bc_login_reply_result(&h), NL_EAUTH);
    free(d);
    vectors += 2;
}

static void check_streams(const nl_bc_stream_info_list *s)
{
    NL_ASSERT_EQ(s->count, 6);
    NL_ASSERT_STREQ(s->t[0].type, "mainStream");
    NL_ASSERT_EQ(s->t[0].width, 3840);
    NL_ASSERT_EQ(s->t[0].height, 2160);
    NL_ASSERT_EQ(s->t[0].framerate, 20);
    NL_ASSERT_EQ(s->t[0].bitrate, 6144);
    NL_ASSERT_EQ(s->t[0].info_index, 0);
    NL_ASSERT_EQ(s->t[0].channel_bits, 1);
    NL_ASSERT_STREQ(s->t[1].type, "subStream");
    NL_ASSERT_EQ(s->t[1].width, 640);
    NL_ASSERT_EQ(s->t[1].height, 360);
    NL_ASSERT_EQ(s->t[1].framerate, 7);
    NL_ASSERT_EQ(s->t[1].bitrate, 160);
    NL_ASSERT_EQ(s->t[2].info_index, 1);
    NL_ASSERT_EQ(s->t[2].width, 2560);
    NL_ASSERT_EQ(s->t[2].height, 1440);
    NL_ASSERT_EQ(s->t[2].framerate, 25);
    NL_ASSERT_EQ(s->t[4].info_index, 2);
    NL_ASSERT_EQ(s->t[4].width, 2304);
    NL_ASSERT_EQ(s->t[4].height, 1296);
}

static void test_device_info(void)
{
    unsigned char *d;
    const nl_bc_xml_node *r = sample_xml("modern_login_success.bin", &d);
    nl_bc_device_info di;
    NL_ASSERT_OK(nl_bc_parse_device_info(r, &di));
    NL_ASSERT_STREQ(di.type, "ipc");
    NL_ASSERT_STREQ(di.type_info, "IPC");
    NL_ASSERT_STREQ(di.firm_version, "00000000000000");
    NL_ASSERT_STREQ(di.resolution_name, "3840*2160");
    NL_ASSERT_STREQ(di.norm, "NTSC");
    NL_ASSERT_STREQ(di.language, "English");
    NL_ASSERT_EQ(di.channel_num, 1);
    NL_ASSERT_EQ(di.audio_num, 1);
    NL_ASSERT_EQ(di.width, 3840);
    NL_ASSERT_EQ(di.height, 2160);
    check_streams(&di.streams);
    nl_bc_stream_info_list sl;
    NL_ASSERT_OK(nl_bc_parse_stream_info_list(r, &sl));
    check_streams(&sl);
    free(d);
    vectors += 2;

    /* Built replies parse back. */
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_device_info(&buf, &di) > 0);
    nl_bc_device_info back;
    NL_ASSERT_OK(nl_bc_parse_device_info(reparse(), &back));
    NL_ASSERT_STREQ(back.type, "ipc");
    NL_ASSERT_EQ(back.width, 3840);
    NL_ASSERT_EQ(back.channel_num, 1);
    check_streams(&back.streams);

    nl_bc_device_info_default(&di, 1920, 1080, 640, 360, 25);
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_device_info(&buf, &di) > 0);
    NL_ASSERT_OK(nl_bc_parse_device_info(reparse(), &back));
    NL_ASSERT_STREQ(back.resolution_name, "1920*1080");
    NL_ASSERT_EQ(back.height, 1080);
    NL_ASSERT_EQ(back.streams.count, 2);
    NL_ASSERT_EQ(back.streams.t[1].width, 640);
    NL_ASSERT_EQ(back.streams.t[1].framerate, 25);
    NL_ASSERT_EQ(back.streams.t[0].info_index, back.streams.t[1].info_index);

    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_stream_info_list(&buf, &di.streams) > 0);
    NL_ASSERT_OK(nl_bc_parse_stream_info_list(reparse(), &sl));
    NL_ASSERT_EQ(sl.count, 2);
    NL_ASSERT_STREQ(sl.t[0].type, "mainStream");
    NL_ASSERT_EQ(nl_bc_parse_device_info(reparse(), &back), NL_EPROTO);
    vectors++;
}

static void test_preview(void)
{
    static const struct {
        const char *file;
        uint32_t handle;
        int stream;
        size_t len;
    } v[] = {
        {"xml_mainstream_b800.bin", 0, NL_BC_STREAM_MAIN, 170},
        {"xml_substream_b800.bin", 256, NL_BC_STREAM_SUB, 171},
        {"xml_externstream_b800.bin", 1024, NL_BC_STREAM_EXTERN, 175},
    };
    for (size_t i = 0; i < 3; i++) {
        unsigned char *d;
        nl_bc_preview p;
        NL_ASSERT_OK(nl_bc_parse_preview(sample_xml(v[i].file, &d), &p));
        NL_ASSERT_EQ(p.channel_id, 0);
        NL_ASSERT_EQ(p.handle, v[i].handle);
        NL_ASSERT_EQ(p.stream, v[i].stream);
        NL_ASSERT_EQ(nl_bc_stream_handle(p.stream), v[i].handle);
        /* The builder reproduces the official client's bytes. */
        nl_dbuf_reset(&buf);
        NL_ASSERT_EQ(nl_bc_build_preview(&buf, &p), (long)v[i].len);
        NL_ASSERT_MEMEQ(buf.data, d + 24, v[i].len);
        free(d);
        vectors += 2;
    }
    NL_ASSERT_EQ(nl_bc_stream_byte13(NL_BC_STREAM_SUB), 1);
    NL_ASSERT_EQ(nl_bc_stream_byte13(NL_BC_STREAM_EXTERN), 0);
    NL_ASSERT_EQ(nl_bc_stream_parse("bogus"), NL_EINVAL);
    NL_ASSERT(nl_bc_stream_name(7) == NULL);

    /* Stop: no streamType. */
    nl_bc_preview stop = {.channel_id = 2, .handle = 256, .stream = NL_BC_STREAM_NONE};
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_preview(&buf, &stop) > 0);
    NL_ASSERT(!contains("streamType"));
    nl_bc_preview p;
    NL_ASSERT_OK(nl_bc_parse_preview(reparse(), &p));
    NL_ASSERT_EQ(p.channel_id, 2);
    NL_ASSERT_EQ(p.handle, 256);
    NL_ASSERT_EQ(p.stream, NL_BC_STREAM_NONE);
    stop.stream = 9;
    NL_ASSERT_EQ(nl_bc_build_preview(&buf, &stop), NL_EINVAL);
}

static void test_extension(void)
{
    size_t n;
    unsigned char *d = load("modern_video_start1.bin", &n);
    nl_bc_xor(0, d + 24, d + 24, 106);
    const nl_bc_xml_node *r;
    NL_ASSERT_OK(nl_bc_xml_parse(xml, d + 24, 106, &r));
    nl_bc_extension e;
    NL_ASSERT_OK(nl_bc_parse_extension(r, &e));
    NL_ASSERT_EQ(e.has, NL_BC_EXT_BINARY);
    NL_ASSERT_EQ(e.binary_data, 1);
    /* And the 106-byte builder output is those bytes. */
    nl_dbuf_reset(&buf);
    NL_ASSERT_EQ(nl_bc_build_ext_binary(&buf, 1), 106);
    NL_ASSERT_MEMEQ(buf.data, d + 24, 106);
    free(d);
    vectors += 2;

    nl_dbuf_reset(&buf);
    NL_ASSERT_EQ(nl_bc_build_ext_channel(&buf, 0), 104);
    NL_ASSERT_OK(nl_bc_parse_extension(reparse(), &e));
    NL_ASSERT_EQ(e.has, NL_BC_EXT_CHANNEL);
    NL_ASSERT_EQ(e.channel_id, 0);
    vectors++;

    /* The full-AES extension seen in the Rust tests; checkValue 1667510320
     * is "00dc" as a LE int32. */
    static const char enc3[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?><Extension version=\"1.1\">"
        "<encryptLen>1024</encryptLen><binaryData>1</binaryData><checkPos>0</checkPos>"
        "<checkValue>1667510320</checkValue></Extension>";
    NL_ASSERT_OK(nl_bc_xml_parse(xml, enc3, sizeof enc3 - 1, &r));
    NL_ASSERT_OK(nl_bc_parse_extension(r, &e));
    NL_ASSERT_EQ(e.has, NL_BC_EXT_ENCRYPT_LEN | NL_BC_EXT_BINARY | NL_BC_EXT_CHECK_POS |
                            NL_BC_EXT_CHECK_VALUE);
    NL_ASSERT_EQ(e.encrypt_len, 1024);
    NL_ASSERT_EQ(e.check_pos, 0);
    NL_ASSERT_EQ(e.check_value, 0x63643030);
    vectors++;
    /* Negative checkValue, EncryptLen spelling, unknown fields ignored. */
    static const char odd[] = "<Extension><EncryptLen>5</EncryptLen><checkValue>-1821213800"
                              "</checkValue><futureField>x</futureField></Extension>";
    NL_ASSERT_OK(nl_bc_xml_parse(xml, odd, sizeof odd - 1, &r));
    NL_ASSERT_OK(nl_bc_parse_extension(r, &e));
    NL_ASSERT_EQ(e.encrypt_len, 5);
    NL_ASSERT_EQ(e.check_value, -1821213800LL);
    /* Bad values and a wrong root. */
    static const char bad[] = "<Extension><binaryData>2</binaryData></Extension>";
    NL_ASSERT_OK(nl_bc_xml_parse(xml, bad, sizeof bad - 1, &r));
    NL_ASSERT_EQ(nl_bc_parse_extension(r, &e), NL_ERANGE);
    NL_ASSERT_OK(nl_bc_xml_parse(xml, "<body/>", 7, &r));
    NL_ASSERT_EQ(nl_bc_parse_extension(r, &e), NL_EPROTO);

    /* Every field round-trips. */
    nl_bc_extension all = {.has = 0xff,
                           .channel_id = 3,
                           .binary_data = 1,
                           .encrypt_len = 7,
                           .check_pos = 4,
                           .check_value = -5,
                           .rf_id = 9};
    strcpy(all.user_name, "admin");
    strcpy(all.token, "system, streaming");
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_extension(&buf, &all) > 0);
    NL_ASSERT_OK(nl_bc_parse_extension(reparse(), &e));
    NL_ASSERT_EQ(memcmp(&e, &all, sizeof e), 0);
}

static void test_ability(void)
{
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_ability_request(&buf, "admin") > 0);
    nl_bc_extension e;
    NL_ASSERT_OK(nl_bc_parse_extension(reparse(), &e));
    NL_ASSERT_EQ(e.has, NL_BC_EXT_USER | NL_BC_EXT_TOKEN);
    NL_ASSERT_STREQ(e.user_name, "admin");
    NL_ASSERT(strstr(e.token, "streaming") != NULL);

    /* The abridged reply from the sheet (§4.3), without a streaming block. */
    static const char reply[] =
        "<body><AbilityInfo version=\"1.1\"><userName>admin</userName><system><subModule>"
        "<abilityValue>general_rw, norm_rw, version_ro, uid_ro, autoReboot_rw, restore_rw, "
        "reboot_rw</abilityValue></subModule></system><alarm><subModule><channelId>0"
        "</channelId><abilityValue>motion_rw</abilityValue></subModule></alarm><image>"
        "<subModule><channelId>0</channelId><abilityValue>ispBasic_rw, ispAdvance_rw, "
        "ledState_rw</abilityValue></subModule></image></AbilityInfo></body>";
    const nl_bc_xml_node *r;
    NL_ASSERT_OK(nl_bc_xml_parse(xml, reply, sizeof reply - 1, &r));
    nl_bc_abilities a;
    NL_ASSERT_OK(nl_bc_parse_ability_reply(r, &a));
    NL_ASSERT_STREQ(a.user_name, "admin");
    NL_ASSERT_UEQ(a.rw, NL_BC_ABIL_GENERAL | NL_BC_ABIL_REBOOT | NL_BC_ABIL_MOTION |
                            NL_BC_ABIL_LED_STATE);
    NL_ASSERT_UEQ(a.ro, NL_BC_ABIL_VERSION | NL_BC_ABIL_UID);
    NL_ASSERT(!nl_bc_abilities_can_stream(&a));
    vectors++;

    /* What a simulated camera answers: preview_rw lets a client stream. */
    nl_bc_abilities mine = {.rw = NL_BC_ABIL_PREVIEW | NL_BC_ABIL_MOTION | NL_BC_ABIL_GENERAL,
                            .ro = NL_BC_ABIL_VERSION | NL_BC_ABIL_STREAM_TABLE};
    strcpy(mine.user_name, "admin");
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_ability_reply(&buf, &mine) > 0);
    NL_ASSERT(contains("<abilityValue>preview_rw, streamTable_ro"
                       "</abilityValue>"));
    NL_ASSERT_OK(nl_bc_parse_ability_reply(reparse(), &a));
    NL_ASSERT_UEQ(a.rw, mine.rw);
    NL_ASSERT_UEQ(a.ro, mine.ro);
    NL_ASSERT(nl_bc_abilities_can_stream(&a));
    a.rw = 0;
    NL_ASSERT(nl_bc_abilities_can_stream(&a)); /* streamTable ro alone */
    a.ro = 0;
    NL_ASSERT(!nl_bc_abilities_can_stream(&a));
    vectors++;
}

static void test_small_bodies(void)
{
    char word[NL_BC_WORD_MAX], name[NL_BC_NAME_MAX];
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_link_type(&buf, "LAN") > 0);
    NL_ASSERT_OK(nl_bc_parse_link_type(reparse(), word));
    NL_ASSERT_STREQ(word, "LAN");

    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_uid(&buf, "95270000ABCDEFGH") > 0);
    NL_ASSERT_OK(nl_bc_parse_uid(reparse(), name));
    NL_ASSERT_STREQ(name, "95270000ABCDEFGH");

    nl_bc_version_info v = {0}, vb;
    strcpy(v.name, "Yard");
    strcpy(v.type, "RLC-810A");
    strcpy(v.firmware_version, "v3.1.0.956_22041503");
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_version_info(&buf, &v) > 0);
    NL_ASSERT_OK(nl_bc_parse_version_info(reparse(), &vb));
    NL_ASSERT_EQ(memcmp(&v, &vb, sizeof v), 0);

    nl_bc_system_general g = {.time_zone = -25200,
                              .year = 2024,
                              .month = 2,
                              .day = 29,
                              .hour = 23,
                              .minute = 59,
                              .second = 58,
                              .time_format = 1};
    strcpy(g.device_name, "Front & Back");
    strcpy(g.osd_format, "DMY");
    strcpy(g.language, "German");
    nl_bc_system_general gb;
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_system_general(&buf, &g) > 0);
    NL_ASSERT(contains("<timeZone>-25200</timeZone>"));
    NL_ASSERT_OK(nl_bc_parse_system_general(reparse(), &gb));
    NL_ASSERT_EQ(memcmp(&g, &gb, sizeof g), 0);

    nl_bc_ip_info ip = {0}, ipb;
    strcpy(ip.ip, "192.168.1.20");
    strcpy(ip.mask, "255.255.255.0");
    strcpy(ip.gateway, "192.168.1.1");
    strcpy(ip.mac, "ec:71:db:00:11:22");
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_ip(&buf, &ip) > 0);
    NL_ASSERT_OK(nl_bc_parse_ip(reparse(), &ipb));
    NL_ASSERT_EQ(memcmp(&ip, &ipb, sizeof ip), 0);

    nl_bc_ports ports = {.port = {9000, 80, 443, 554, 1935, 8000}, .enable = {1, 1, 0, 1, 0, 1}};
    nl_bc_ports pb;
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_ports(&buf, &ports) > 0);
    NL_ASSERT(contains("<ServerPort version=\"1.1\">\n<serverPort>9000</serverPort>\n<enable>1"));
    NL_ASSERT_OK(nl_bc_parse_ports(reparse(), &pb));
    NL_ASSERT_EQ(memcmp(&ports, &pb, sizeof ports), 0);
    vectors += 6;
}

static void test_alarm(void)
{
    /* The sheet's example push (§4.3). */
    static const char push[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<body>\n"
        "<AlarmEventList version=\"1.1\"><AlarmEvent version=\"1.1\"><channelId>0</channelId>"
        "<status>MD</status><recording>0</recording><timeStamp>0</timeStamp></AlarmEvent>"
        "<AlarmEvent version=\"1.1\"><channelId>1</channelId><status>none</status>"
        "<AItype>people</AItype><recording>1</recording><timeStamp>1700000000</timeStamp>"
        "</AlarmEvent><AlarmEvent version=\"1.1\"><channelId>2</channelId><status>none</status>"
        "<AItype>none</AItype></AlarmEvent></AlarmEventList>\n</body>\n";
    const nl_bc_xml_node *r;
    NL_ASSERT_OK(nl_bc_xml_parse(xml, push, sizeof push - 1, &r));
    nl_bc_alarm_list l;
    NL_ASSERT_OK(nl_bc_parse_alarm_list(r, &l));
    NL_ASSERT_EQ(l.count, 3);
    NL_ASSERT_STREQ(l.ev[0].status, "MD");
    NL_ASSERT_EQ(nl_bc_alarm_motion(&l, 0), 1);
    NL_ASSERT_EQ(nl_bc_alarm_motion(&l, 1), 1); /* AItype people */
    NL_ASSERT_EQ(l.ev[1].timestamp, 1700000000);
    NL_ASSERT_EQ(l.ev[1].recording, 1);
    NL_ASSERT_EQ(nl_bc_alarm_motion(&l, 2), 0);
    NL_ASSERT_EQ(nl_bc_alarm_motion(&l, 3), -1);
    vectors++;

    /* Build "motion on ch 0, off on ch 1" and read it back. */
    nl_bc_alarm_list b = {.count = 2};
    b.ev[0].channel_id = 0;
    b.ev[0].motion = 1;
    b.ev[1].channel_id = 1;
    nl_dbuf_reset(&buf);
    NL_ASSERT(nl_bc_build_alarm_list(&buf, &b) > 0);
    NL_ASSERT_OK(nl_bc_parse_alarm_list(reparse(), &l));
    NL_ASSERT_EQ(l.count, 2);
    NL_ASSERT_STREQ(l.ev[0].status, "MD");
    NL_ASSERT_STREQ(l.ev[1].status, "none");
    NL_ASSERT_EQ(nl_bc_alarm_motion(&l, 0), 1);
    NL_ASSERT_EQ(nl_bc_alarm_motion(&l, 1), 0);

    /* A push with only a DayNightEvent is an empty list, not an error. */
    static const char dn[] = "<body><AlarmEventList><DayNightEvent><mode>day</mode>"
                             "</DayNightEvent></AlarmEventList></body>";
    NL_ASSERT_OK(nl_bc_xml_parse(xml, dn, sizeof dn - 1, &r));
    NL_ASSERT_OK(nl_bc_parse_alarm_list(r, &l));
    NL_ASSERT_EQ(l.count, 0);
}

static void test_rollback(void)
{
    /* A builder that hits the buffer cap leaves the buffer as it was. */
    nl_dbuf small;
    nl_dbuf_init(&small, 120);
    NL_ASSERT_OK(nl_dbuf_append(&small, "keep", 4));
    nl_bc_preview p = {.stream = NL_BC_STREAM_MAIN};
    NL_ASSERT_EQ(nl_bc_build_preview(&small, &p), NL_ETOOBIG);
    NL_ASSERT_EQ(small.len, 4);
    NL_ASSERT_EQ(nl_bc_build_legacy_login(&small, "admin", "x"), NL_ETOOBIG);
    NL_ASSERT_EQ(small.len, 4);
    NL_ASSERT_EQ(nl_bc_build_ext_channel(&small, 1), 104);
    NL_ASSERT_MEMEQ(small.data, "keep<?xml", 9);
    nl_dbuf_free(&small);
}

int main(void)
{
    long live = nl_allocator_live();
    NL_ASSERT_OK(nl_bc_xml_create(&xml, NULL));
    nl_dbuf_init(&buf, 64 * 1024);
    NL_RUN(test_nonce);
    NL_RUN(test_legacy_login);
    NL_RUN(test_login);
    NL_RUN(test_login_reply);
    NL_RUN(test_device_info);
    NL_RUN(test_preview);
    NL_RUN(test_extension);
    NL_RUN(test_ability);
    NL_RUN(test_small_bodies);
    NL_RUN(test_alarm);
    NL_RUN(test_rollback);
    nl_dbuf_free(&buf);
    nl_bc_xml_destroy(&xml);
    NL_ASSERT_EQ(nl_allocator_live(), live);
    printf("%d body vectors checked\n", vectors);
    NL_DONE();
}
