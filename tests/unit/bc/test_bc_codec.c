/* The per-connection codec: the samples decode to the sheet's values (§8.1),
 * a full client <-> camera dialogue round-trips at every encryption level,
 * and the fallbacks (lenient schemes, binary guesses, full-AES prefixes)
 * behave as documented. */
#include "bc/codec.h"
#include "core/alloc.h"
#include "neolink/error.h"
#include "test.h"

static int vectors;
static nl_bc_xml *xml;

static unsigned char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bc/%s", NL_TEST_DATA, name);
    return nl_test_read_file(path, len);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Frames exactly one message from bytes and decodes it with c. */
static int decode_bytes(nl_bc_codec *c, nl_bc_framer *f, const void *p, size_t n, nl_bc_msg *m,
                        nl_bc_decoded *d)
{
    NL_ASSERT_EQ(nl_bc_framer_feed(f, p, n), (long)n);
    NL_ASSERT_EQ(nl_bc_framer_next(f, m), 1);
    NL_ASSERT_EQ(nl_bc_framer_pending(f), 0);
    return nl_bc_codec_decode(c, m, d);
}

static int decode_file(nl_bc_codec *c, nl_bc_framer *f, const char *name, nl_bc_msg *m,
                       nl_bc_decoded *d)
{
    size_t n;
    unsigned char *p = load(name, &n);
    int rc = decode_bytes(c, f, p, n, m, d);
    free(p);
    return rc;
}

static const nl_bc_xml_node *payload_xml(const nl_bc_decoded *d)
{
    NL_ASSERT(!d->binary);
    const nl_bc_xml_node *r;
    NL_ASSERT_OK(nl_bc_xml_parse(xml, d->payload, d->payload_len, &r));
    return r;
}

static void test_client_samples(void)
{
    nl_bc_codec c;
    NL_ASSERT_OK(nl_bc_codec_init(&c, 0));
    nl_bc_framer f;
    nl_bc_framer_init(&f, 0);
    nl_bc_msg m;
    nl_bc_decoded d;

    /* Nonce reply, level 01: XOR from its own header byte. */
    NL_ASSERT_OK(decode_file(&c, &f, "model_sample_modern_login.bin", &m, &d));
    NL_ASSERT_EQ(d.payload_scheme, NL_BC_SCHEME_XOR);
    NL_ASSERT_EQ(d.payload_len, 145);
    nl_bc_nonce_reply nr;
    NL_ASSERT_OK(nl_bc_parse_nonce_reply(payload_xml(&d), &nr));
    NL_ASSERT_STREQ(nr.nonce, "9E6D1FCB9E69846D");
    NL_ASSERT_OK(nl_bc_codec_set_level(&c, nl_bc_hdr_enc_level(&m.hdr)));
    NL_ASSERT_EQ(c.level, 0x01);
    vectors++;

    /* Argus 2 nonce reply at level 03 (treated as AES). */
    NL_ASSERT_OK(decode_file(&c, &f, "battery_enc.bin", &m, &d));
    NL_ASSERT_OK(nl_bc_parse_nonce_reply(payload_xml(&d), &nr));
    NL_ASSERT_STREQ(nr.nonce, "0-AhnEZyUg6eKrJFIWgXPF");
    NL_ASSERT_OK(nl_bc_codec_set_level(&c, nl_bc_hdr_enc_level(&m.hdr)));
    NL_ASSERT_EQ(nl_bc_hdr_num(&m.hdr), 1);
    vectors++;

    /* Login replies are msg 1, so XOR even at an AES level: failure... */
    NL_ASSERT_OK(nl_bc_codec_set_level(&c, NL_BC_ENC_FULLAES));
    NL_ASSERT_OK(decode_file(&c, &f, "modern_login_failed.bin", &m, &d));
    NL_ASSERT_EQ(d.payload_len, 0);
    NL_ASSERT_EQ(d.ext.has, 0);
    NL_ASSERT_EQ(m.hdr.response_code, 400);
    NL_ASSERT_EQ(nl_bc_login_reply_result(&m.hdr), NL_EAUTH);
    vectors++;
    /* ...and success, with DeviceInfo. */
    NL_ASSERT_OK(decode_file(&c, &f, "modern_login_success.bin", &m, &d));
    NL_ASSERT_OK(nl_bc_login_reply_result(&m.hdr));
    NL_ASSERT_EQ(d.payload_scheme, NL_BC_SCHEME_XOR);
    NL_ASSERT(d.ext_xml == NULL);
    NL_ASSERT_EQ(d.payload_len, 2949);
    nl_bc_device_info di;
    NL_ASSERT_OK(nl_bc_parse_device_info(payload_xml(&d), &di));
    NL_ASSERT_EQ(di.width, 3840);
    NL_ASSERT_EQ(di.height, 2160);
    NL_ASSERT_EQ(di.channel_num, 1);
    NL_ASSERT_STREQ(di.type, "ipc");
    vectors++;

    /* The video samples come from a level-01 camera. */
    NL_ASSERT_OK(nl_bc_codec_set_level(&c, NL_BC_ENC_BC));
    NL_ASSERT_OK(decode_file(&c, &f, "modern_video_start1.bin", &m, &d));
    NL_ASSERT_EQ(d.ext_xml_len, 106);
    NL_ASSERT_EQ(d.ext.has, NL_BC_EXT_BINARY);
    NL_ASSERT_EQ(d.ext.binary_data, 1);
    NL_ASSERT(d.binary);
    NL_ASSERT_EQ(d.payload_len, 32);
    /* InfoV2 3840x2160 @ 20 fps, 2020-04-08 20:52:39. */
    NL_ASSERT_MEMEQ(d.payload, "1002", 4);
    NL_ASSERT_EQ(rd32(d.payload + 4), 32);
    NL_ASSERT_EQ(rd32(d.payload + 8), 3840);
    NL_ASSERT_EQ(rd32(d.payload + 12), 2160);
    NL_ASSERT_EQ(d.payload[17], 20);
    NL_ASSERT_EQ(d.payload[18] + 1900, 2020);
    NL_ASSERT_EQ(d.payload[19], 4);
    NL_ASSERT_EQ(d.payload[20], 8);
    NL_ASSERT_EQ(d.payload[21], 20);
    NL_ASSERT_EQ(d.payload[22], 52);
    NL_ASSERT_EQ(d.payload[23], 39);
    NL_ASSERT(nl_bc_codec_is_binary(&c, 0x09000000));
    vectors++;
    NL_ASSERT_OK(decode_file(&c, &f, "modern_video_start2.bin", &m, &d));
    NL_ASSERT(d.binary);
    NL_ASSERT_EQ(d.flags, 0);
    NL_ASSERT_EQ(d.payload_len, 30344);
    NL_ASSERT_MEMEQ(d.payload, "00dcH265", 8);
    NL_ASSERT_EQ(rd32(d.payload + 12), 8);          /* extra_len */
    NL_ASSERT_EQ(rd32(d.payload + 24), 1586400759); /* POSIX time */
    vectors++;
    nl_bc_framer_free(&f);
    nl_bc_codec_free(&c);
}

static void test_camera_samples(void)
{
    /* The simulated camera side reading the official client's requests. */
    static const struct {
        const char *file;
        uint32_t handle;
        int stream;
    } v[] = {
        {"xml_mainstream_b800.bin", 0, NL_BC_STREAM_MAIN},
        {"xml_substream_b800.bin", 256, NL_BC_STREAM_SUB},
        {"xml_externstream_b800.bin", 1024, NL_BC_STREAM_EXTERN},
    };
    nl_bc_codec c;
    NL_ASSERT_OK(nl_bc_codec_init(&c, 1));
    NL_ASSERT_OK(nl_bc_codec_set_level(&c, NL_BC_ENC_BC));
    nl_bc_framer f;
    nl_bc_framer_init(&f, 0);
    for (size_t i = 0; i < 3; i++) {
        nl_bc_msg m;
        nl_bc_decoded d;
        NL_ASSERT_OK(decode_file(&c, &f, v[i].file, &m, &d));
        NL_ASSERT_EQ(d.flags, 0);
        NL_ASSERT_EQ(m.hdr.msg_class, NL_BC_CLASS_MODERN);
        NL_ASSERT_EQ(nl_bc_hdr_num(&m.hdr), 0);
        NL_ASSERT_EQ(nl_bc_hdr_stream(&m.hdr), 0);
        nl_bc_preview p;
        NL_ASSERT_OK(nl_bc_parse_preview(payload_xml(&d), &p));
        NL_ASSERT_EQ(p.handle, v[i].handle);
        NL_ASSERT_EQ(p.stream, v[i].stream);
        vectors++;
    }
    /* The legacy MD5 login body stays untouched binary. */
    nl_bc_msg m;
    nl_bc_decoded d;
    NL_ASSERT_OK(decode_file(&c, &f, "model_sample_legacy_login.bin", &m, &d));
    NL_ASSERT(d.binary);
    nl_bc_legacy_login ll;
    NL_ASSERT_OK(nl_bc_parse_legacy_login(d.payload, d.payload_len, &ll));
    NL_ASSERT_MEMEQ(ll.user, "21232F297A57A5A743894A0E4A801FC\0", 32);
    vectors++;
    nl_bc_framer_free(&f);
    nl_bc_codec_free(&c);
}

/* One side of a connection: codec + framer + output buffer. */
typedef struct side {
    nl_bc_codec c;
    nl_bc_framer f;
    nl_dbuf out;
} side;

static void side_init(side *s, int lenient)
{
    NL_ASSERT_OK(nl_bc_codec_init(&s->c, lenient));
    nl_bc_framer_init(&s->f, 0);
    nl_dbuf_init(&s->out, 1 << 20);
}

static void side_free(side *s)
{
    nl_bc_codec_free(&s->c);
    nl_bc_framer_free(&s->f);
    nl_dbuf_free(&s->out);
}

/* Sends what `from` encoded to `to` and decodes it there. */
static void deliver(side *from, side *to, nl_bc_msg *m, nl_bc_decoded *d)
{
    NL_ASSERT_OK(decode_bytes(&to->c, &to->f, from->out.data, from->out.len, m, d));
    nl_dbuf_reset(&from->out);
}

static void dialogue(uint8_t level, const char *password)
{
    static const char nonce[] = "9E6D1FCB9E69846D";
    side cl, cam;
    side_init(&cl, 0);
    side_init(&cam, 0);
    nl_dbuf tmp;
    nl_dbuf_init(&tmp, 1 << 16);
    nl_bc_header h;
    nl_bc_msg m;
    nl_bc_decoded d;
    const uint32_t corr = nl_bc_corr_make(0, 0, 7);

    /* 1. client: header-only upgrade request offering `level` */
    nl_bc_header_init(&h, 1, NL_BC_CLASS_LEGACY, corr, 0);
    nl_bc_hdr_set_level(&h, level, NL_BC_DIR_TO_CAMERA);
    NL_ASSERT_EQ(nl_bc_codec_encode(&cl.c, &h, NULL, 0, NULL, 0, 0, 0, &cl.out), 20);
    deliver(&cl, &cam, &m, &d);
    NL_ASSERT_EQ(nl_bc_hdr_enc_level(&m.hdr), level);
    NL_ASSERT_EQ(m.hdr.body_len, 0);

    /* 2. camera: nonce reply at that level */
    NL_ASSERT(nl_bc_build_nonce_reply(&tmp, nonce) == 145);
    nl_bc_header_init(&h, 1, NL_BC_CLASS_LEGACY_REPLY, m.hdr.corr, 0);
    nl_bc_hdr_set_level(&h, level, NL_BC_DIR_FROM_CAMERA);
    NL_ASSERT_OK(nl_bc_codec_set_level(&cam.c, level));
    NL_ASSERT_EQ(nl_bc_codec_encode(&cam.c, &h, NULL, 0, tmp.data, tmp.len, 0, 0, &cam.out), 165);
    /* On the wire: XOR unless level 0. */
    NL_ASSERT_EQ(memcmp(cam.out.data + 20, "<?xml", 5) == 0, level == 0);
    nl_dbuf_reset(&tmp);
    deliver(&cam, &cl, &m, &d);
    NL_ASSERT_EQ(m.hdr.corr, corr);
    NL_ASSERT_EQ(d.payload_scheme, level ? NL_BC_SCHEME_XOR : NL_BC_SCHEME_PLAIN);
    nl_bc_nonce_reply nr;
    NL_ASSERT_OK(nl_bc_parse_nonce_reply(payload_xml(&d), &nr));
    NL_ASSERT_OK(nl_bc_codec_set_level(&cl.c, nl_bc_hdr_enc_level(&m.hdr)));

    /* 3. client: modern login (msg 1, never AES) */
    NL_ASSERT(nl_bc_build_login(&tmp, "admin", password, nr.nonce) > 0);
    nl_bc_header_init(&h, 1, NL_BC_CLASS_MODERN, corr, 0);
    NL_ASSERT(nl_bc_codec_encode(&cl.c, &h, NULL, 0, tmp.data, tmp.len, 0, 0, &cl.out) > 0);
    nl_dbuf_reset(&tmp);
    deliver(&cl, &cam, &m, &d);
    NL_ASSERT_EQ(d.payload_scheme, level ? NL_BC_SCHEME_XOR : NL_BC_SCHEME_PLAIN);
    nl_bc_login l;
    NL_ASSERT_OK(nl_bc_parse_login(payload_xml(&d), &l));
    NL_ASSERT_OK(nl_bc_login_check(&l, "admin", password, nonce));
    NL_ASSERT_EQ(nl_bc_login_check(&l, "admin", "wrong", nonce), NL_EAUTH);

    /* 4. camera: DeviceInfo reply (msg 1, still not AES), then AES starts */
    nl_bc_device_info di;
    nl_bc_device_info_default(&di, 2560, 1440, 640, 360, 15);
    NL_ASSERT(nl_bc_build_device_info(&tmp, &di) > 0);
    nl_bc_header_init(&h, 1, NL_BC_CLASS_MODERN_REPLY, m.hdr.corr, 200);
    NL_ASSERT(nl_bc_codec_encode(&cam.c, &h, NULL, 0, tmp.data, tmp.len, 0, 0, &cam.out) > 0);
    nl_dbuf_reset(&tmp);
    NL_ASSERT_OK(nl_bc_codec_login_done(&cam.c, nonce, password));
    deliver(&cam, &cl, &m, &d);
    NL_ASSERT_OK(nl_bc_login_reply_result(&m.hdr));
    NL_ASSERT_OK(nl_bc_parse_device_info(payload_xml(&d), &di));
    NL_ASSERT_EQ(di.width, 2560);
    NL_ASSERT_OK(nl_bc_codec_login_done(&cl.c, nonce, password));
    int aes = level == 2 || level == 3 || level == 0x12;
    int post = aes ? NL_BC_SCHEME_AES : level ? NL_BC_SCHEME_XOR : NL_BC_SCHEME_PLAIN;

    /* 5. client: Preview with a channel Extension (ext 104 + payload 170) */
    uint32_t vcorr = nl_bc_corr_make(0, 0, 8);
    NL_ASSERT_EQ(nl_bc_build_ext_channel(&tmp, 0), 104);
    nl_bc_preview pv = {.channel_id = 0, .handle = 0, .stream = NL_BC_STREAM_MAIN};
    NL_ASSERT_EQ(nl_bc_build_preview(&tmp, &pv), 170);
    nl_bc_header_init(&h, 3, NL_BC_CLASS_MODERN, vcorr, 0);
    NL_ASSERT_EQ(nl_bc_codec_encode(&cl.c, &h, tmp.data, 104, tmp.data + 104, 170, 0, 0, &cl.out),
                 24 + 104 + 170);
    NL_ASSERT_EQ(rd32(cl.out.data + 8), 274);  /* body_len */
    NL_ASSERT_EQ(rd32(cl.out.data + 20), 104); /* payload_offset */
    if (aes && password[0] == '\0') {
        /* The sheet's vector: this Extension under key A763AB622CEF5890. */
        static const uint8_t ct[16] = {0x28, 0x65, 0xed, 0x44, 0x5f, 0x13, 0x76, 0x19,
                                       0x88, 0x7f, 0x9d, 0xf1, 0xf3, 0x7b, 0x92, 0x04};
        NL_ASSERT_MEMEQ(cl.out.data + 24, ct, 16);
        vectors++;
    }
    nl_dbuf_reset(&tmp);
    deliver(&cl, &cam, &m, &d);
    NL_ASSERT_EQ(d.ext_scheme, post);
    NL_ASSERT_EQ(d.payload_scheme, post);
    NL_ASSERT_EQ(d.flags, 0);
    NL_ASSERT_EQ(d.ext.has, NL_BC_EXT_CHANNEL);
    NL_ASSERT_OK(nl_bc_parse_preview(payload_xml(&d), &pv));
    NL_ASSERT_EQ(pv.stream, NL_BC_STREAM_MAIN);

    /* 6. camera: 200 + binaryData Extension + 32-byte InfoV2; at full AES
     * with encryptLen covering the payload (what the sheet tells a simulated
     * camera to send). */
    uint8_t info[32] = "1002";
    info[4] = 32;
    info[8] = 0x00, info[9] = 0x0a; /* 2560 */
    nl_bc_extension ext = {.has = NL_BC_EXT_BINARY, .binary_data = 1};
    size_t prefix = 0;
    if (level == 0x12) {
        ext.has |= NL_BC_EXT_ENCRYPT_LEN;
        ext.encrypt_len = sizeof info;
        prefix = sizeof info;
    }
    long el = nl_bc_build_extension(&tmp, &ext);
    NL_ASSERT(el > 0);
    nl_bc_header_init(&h, 3, NL_BC_CLASS_MODERN_REPLY, m.hdr.corr, 200);
    NL_ASSERT(nl_bc_codec_encode(&cam.c, &h, tmp.data, (size_t)el, info, sizeof info,
                                 NL_BC_OUT_BINARY, prefix, &cam.out) > 0);
    /* Binary is raw on the wire unless a prefix was enciphered. */
    NL_ASSERT_EQ(memcmp(cam.out.data + 24 + el, info, 32) == 0, prefix == 0);
    nl_dbuf_reset(&tmp);
    deliver(&cam, &cl, &m, &d);
    NL_ASSERT_EQ(m.hdr.corr, vcorr);
    NL_ASSERT(d.binary);
    NL_ASSERT_EQ(d.flags, prefix ? NL_BC_DEC_PREFIX_AES : 0u);
    NL_ASSERT_EQ(d.payload_len, 32);
    NL_ASSERT_MEMEQ(d.payload, info, 32);

    /* 7. camera: a data message with no Extension is binary by state. */
    uint8_t frame[100];
    memset(frame, 0xAB, sizeof frame);
    memcpy(frame, "00dcH264", 8);
    NL_ASSERT(nl_bc_codec_encode(&cam.c, &h, NULL, 0, frame, sizeof frame, NL_BC_OUT_BINARY, 0,
                                 &cam.out) > 0);
    deliver(&cam, &cl, &m, &d);
    NL_ASSERT(d.binary);
    NL_ASSERT_MEMEQ(d.payload, frame, sizeof frame);

    /* 8. client: ping (93, header only) and the camera's LinkType reply */
    nl_bc_header_init(&h, NL_BC_MSG_LINK_TYPE, NL_BC_CLASS_MODERN, nl_bc_corr_make(0, 0, 9), 0);
    NL_ASSERT_EQ(nl_bc_codec_encode(&cl.c, &h, NULL, 0, NULL, 0, 0, 0, &cl.out), 24);
    deliver(&cl, &cam, &m, &d);
    NL_ASSERT_EQ(d.payload_len, 0);
    NL_ASSERT(nl_bc_build_link_type(&tmp, "LAN") > 0);
    nl_bc_header_init(&h, NL_BC_MSG_LINK_TYPE, NL_BC_CLASS_MODERN_REPLY, m.hdr.corr, 200);
    NL_ASSERT(nl_bc_codec_encode(&cam.c, &h, NULL, 0, tmp.data, tmp.len, 0, 0, &cam.out) > 0);
    nl_dbuf_reset(&tmp);
    deliver(&cam, &cl, &m, &d);
    NL_ASSERT_EQ(d.payload_scheme, post);
    char type[NL_BC_WORD_MAX];
    NL_ASSERT_OK(nl_bc_parse_link_type(payload_xml(&d), type));
    NL_ASSERT_STREQ(type, "LAN");

    /* 9. camera stops the stream: binaryData=0 clears binary mode */
    NL_ASSERT(nl_bc_build_ext_binary(&tmp, 0) > 0);
    nl_bc_header_init(&h, 4, NL_BC_CLASS_MODERN_REPLY, vcorr, 200);
    NL_ASSERT(nl_bc_codec_encode(&cam.c, &h, tmp.data, tmp.len, NULL, 0, 0, 0, &cam.out) > 0);
    nl_dbuf_reset(&tmp);
    deliver(&cam, &cl, &m, &d);
    NL_ASSERT(!nl_bc_codec_is_binary(&cl.c, vcorr));

    nl_dbuf_free(&tmp);
    side_free(&cl);
    side_free(&cam);
    vectors++;
}

static void test_dialogues(void)
{
    static const uint8_t levels[] = {0x00, 0x01, 0x02, 0x03, 0x12};
    for (size_t i = 0; i < sizeof levels; i++) {
        dialogue(levels[i], "");
        dialogue(levels[i], "123456");
    }
}

/* A reolink_aio-style client: AES after login although the camera chose
 * XOR. The lenient camera codec reads it and says so; a strict one refuses. */
static void test_lenient(void)
{
    static const char nonce[] = "ABCDEF0123456789";
    side cl, cam, strict;
    side_init(&cl, 0);
    side_init(&cam, 1);
    side_init(&strict, 0);
    nl_bc_codec_set_level(&cl.c, NL_BC_ENC_AES);
    nl_bc_codec_set_level(&cam.c, NL_BC_ENC_BC);
    nl_bc_codec_set_level(&strict.c, NL_BC_ENC_BC);
    NL_ASSERT_OK(nl_bc_codec_login_done(&cl.c, nonce, "pw"));
    NL_ASSERT_OK(nl_bc_codec_login_done(&cam.c, nonce, "pw"));
    NL_ASSERT_OK(nl_bc_codec_login_done(&strict.c, nonce, "pw"));
    NL_ASSERT_EQ(cam.c.aes_on, 0);
    NL_ASSERT_EQ(cl.c.aes_on, 1);

    nl_dbuf tmp;
    nl_dbuf_init(&tmp, 4096);
    NL_ASSERT(nl_bc_build_ext_channel(&tmp, 1) == 104);
    nl_bc_header h;
    nl_bc_header_init(&h, 10, NL_BC_CLASS_MODERN, 5, 0);
    NL_ASSERT(nl_bc_codec_encode(&cl.c, &h, tmp.data, tmp.len, NULL, 0, 0, 0, &cl.out) > 0);
    nl_dbuf copy;
    nl_dbuf_init(&copy, 4096);
    nl_dbuf_append(&copy, cl.out.data, cl.out.len);

    nl_bc_msg m;
    nl_bc_decoded d;
    deliver(&cl, &cam, &m, &d);
    NL_ASSERT_EQ(d.ext_scheme, NL_BC_SCHEME_AES);
    NL_ASSERT_EQ(d.flags, NL_BC_DEC_FALLBACK);
    NL_ASSERT_EQ(d.ext.channel_id, 1);
    /* The strict codec refuses, and leaves the bytes as they came. */
    NL_ASSERT_EQ(decode_bytes(&strict.c, &strict.f, copy.data, copy.len, &m, &d), NL_ECRYPTO);
    NL_ASSERT_MEMEQ(m.ext, copy.data + 24, 104);
    vectors++;

    /* Plain XML where XOR is expected (a client at level 0 talking to us). */
    nl_dbuf_reset(&copy);
    nl_bc_header_init(&h, 80, NL_BC_CLASS_MODERN, 6, 0);
    uint8_t hb[24];
    h.body_len = 104;
    nl_bc_header_write(&h, hb);
    nl_dbuf_append(&copy, hb, 24);
    nl_dbuf_append(&copy, tmp.data, 104);
    NL_ASSERT_OK(decode_bytes(&cam.c, &cam.f, copy.data, copy.len, &m, &d));
    NL_ASSERT_EQ(d.payload_scheme, NL_BC_SCHEME_PLAIN);
    NL_ASSERT_EQ(d.flags, NL_BC_DEC_FALLBACK);
    /* The strict codec sees no XML there and hands it over as binary. */
    NL_ASSERT_OK(decode_bytes(&strict.c, &strict.f, copy.data, copy.len, &m, &d));
    NL_ASSERT(d.binary);
    NL_ASSERT_EQ(d.flags, NL_BC_DEC_GUESSED_BINARY);
    NL_ASSERT_MEMEQ(d.payload, tmp.data, 104);
    vectors++;

    nl_dbuf_free(&copy);
    nl_dbuf_free(&tmp);
    side_free(&cl);
    side_free(&cam);
    side_free(&strict);
}

/* Full-AES binary with encryptLen shorter than the payload: the prefix is
 * deciphered, the tail kept as sent (reolink_aio semantics). */
static void test_encrypt_len_prefix(void)
{
    side cam, cl;
    side_init(&cam, 0);
    side_init(&cl, 0);
    nl_bc_codec_set_level(&cam.c, NL_BC_ENC_FULLAES);
    nl_bc_codec_set_level(&cl.c, NL_BC_ENC_FULLAES);
    NL_ASSERT_OK(nl_bc_codec_login_done(&cam.c, "N", "p"));
    NL_ASSERT_OK(nl_bc_codec_login_done(&cl.c, "N", "p"));
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    nl_dbuf tmp;
    nl_dbuf_init(&tmp, 4096);
    nl_bc_extension e = {
        .has = NL_BC_EXT_BINARY | NL_BC_EXT_ENCRYPT_LEN, .binary_data = 1, .encrypt_len = 100};
    NL_ASSERT(nl_bc_build_extension(&tmp, &e) > 0);
    nl_bc_header h;
    nl_bc_header_init(&h, 109, NL_BC_CLASS_MODERN_REPLY, 11, 200);
    NL_ASSERT(nl_bc_codec_encode(&cam.c, &h, tmp.data, tmp.len, data, sizeof data, NL_BC_OUT_BINARY,
                                 100, &cam.out) > 0);
    const uint8_t *wire = cam.out.data + 24 + tmp.len;
    NL_ASSERT(memcmp(wire, data, 100) != 0);
    NL_ASSERT_MEMEQ(wire + 100, data + 100, 200);
    nl_bc_msg m;
    nl_bc_decoded d;
    deliver(&cam, &cl, &m, &d);
    NL_ASSERT(d.binary);
    NL_ASSERT_EQ(d.flags, NL_BC_DEC_PREFIX_AES);
    NL_ASSERT_MEMEQ(d.payload, data, sizeof data);
    /* encryptLen beyond the payload deciphers what there is. */
    e.encrypt_len = 5000;
    nl_dbuf_reset(&tmp);
    NL_ASSERT(nl_bc_build_extension(&tmp, &e) > 0);
    NL_ASSERT(nl_bc_codec_encode(&cam.c, &h, tmp.data, tmp.len, data, sizeof data, NL_BC_OUT_BINARY,
                                 5000, &cam.out) > 0);
    deliver(&cam, &cl, &m, &d);
    NL_ASSERT_MEMEQ(d.payload, data, sizeof data);
    vectors++;
    nl_dbuf_free(&tmp);
    side_free(&cam);
    side_free(&cl);
}

static void test_encode_errors_and_state(void)
{
    nl_bc_codec c;
    NL_ASSERT_OK(nl_bc_codec_init(&c, 0));
    nl_dbuf out;
    nl_dbuf_init(&out, 64);
    nl_bc_header h;
    nl_bc_header_init(&h, 1, NL_BC_CLASS_LEGACY, 0, 0);
    NL_ASSERT_EQ(nl_bc_codec_encode(&c, &h, "x", 1, NULL, 0, 0, 0, &out), NL_EINVAL);
    nl_bc_header_init(&h, 3, NL_BC_CLASS_MODERN_REPLY, 0, 200);
    NL_ASSERT_EQ(nl_bc_codec_encode(&c, &h, NULL, 0, "abc", 3, NL_BC_OUT_BINARY, 3, &out),
                 NL_ESTATE);
    uint8_t big[64] = {0};
    NL_ASSERT_EQ(nl_bc_codec_encode(&c, &h, NULL, 0, big, 41, 0, 0, &out), NL_ETOOBIG);
    NL_ASSERT_EQ(out.len, 0);
    NL_ASSERT_EQ(nl_bc_codec_encode(&c, &h, NULL, 0, big, 40, 0, 0, &out), 64);
    NL_ASSERT_EQ(nl_bc_codec_set_level(&c, 0x07), NL_EPROTO);
    NL_ASSERT_EQ(c.level, 0);

    /* The binary-mode table is bounded: the oldest entries give way. */
    for (uint32_t i = 0; i < NL_BC_BINARY_SLOTS + 10; i++)
        nl_bc_codec_set_binary(&c, 1000 + i, 1);
    NL_ASSERT_EQ(c.bin_count, NL_BC_BINARY_SLOTS);
    NL_ASSERT(nl_bc_codec_is_binary(&c, 1000 + NL_BC_BINARY_SLOTS + 9));
    NL_ASSERT(!nl_bc_codec_is_binary(&c, 1000));
    NL_ASSERT(nl_bc_codec_is_binary(&c, 1010));
    nl_bc_codec_set_binary(&c, 1010, 0);
    NL_ASSERT(!nl_bc_codec_is_binary(&c, 1010));
    NL_ASSERT_EQ(c.bin_count, NL_BC_BINARY_SLOTS - 1);
    nl_bc_codec_set_binary(&c, 1010, 1);
    nl_bc_codec_set_binary(&c, 1010, 1); /* idempotent */
    NL_ASSERT_EQ(c.bin_count, NL_BC_BINARY_SLOTS);
    nl_bc_codec_reset(&c);
    NL_ASSERT(!nl_bc_codec_is_binary(&c, 1010));

    /* Scheme phases: msg 1 never AES; others AES only after login_done. */
    NL_ASSERT_OK(nl_bc_codec_set_level(&c, NL_BC_ENC_AES));
    nl_bc_header_init(&h, 80, NL_BC_CLASS_MODERN, 0, 0);
    NL_ASSERT_EQ(nl_bc_codec_scheme(&c, &h), NL_BC_SCHEME_XOR);
    NL_ASSERT_OK(nl_bc_codec_login_done(&c, "n", "p"));
    NL_ASSERT_EQ(nl_bc_codec_scheme(&c, &h), NL_BC_SCHEME_AES);
    h.msg_id = 1;
    NL_ASSERT_EQ(nl_bc_codec_scheme(&c, &h), NL_BC_SCHEME_XOR);
    nl_bc_header_init(&h, 1, NL_BC_CLASS_LEGACY_REPLY, 0, 0);
    NL_ASSERT_EQ(nl_bc_codec_scheme(&c, &h), NL_BC_SCHEME_PLAIN); /* "00 dd" */
    nl_dbuf_free(&out);
    nl_bc_codec_free(&c);
    nl_bc_codec_free(&c); /* idempotent */
}

static long fail_at;
static void *fail_malloc(void *ud, size_t n)
{
    (void)ud;
    return fail_at-- > 0 ? malloc(n) : NULL;
}
static void *fail_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    return fail_at-- > 0 ? realloc(p, n) : NULL;
}
static void fail_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

/* Every allocation on the receive path failing in turn: clean errors, no
 * leaks, and the first success decodes the right thing. */
static void test_out_of_memory(void)
{
    size_t n;
    unsigned char *p = load("modern_video_start1.bin", &n);
    const nl_allocator failing = {fail_malloc, fail_realloc, fail_free, NULL};
    long live = nl_allocator_live();
    int nomem = 0;
    for (long nth = 0;; nth++) {
        NL_ASSERT(nth < 10000);
        fail_at = nth;
        nl_allocator_set(&failing);
        nl_bc_codec c;
        nl_bc_framer f;
        nl_bc_framer_init(&f, 0);
        int rc = nl_bc_codec_init(&c, 1);
        nl_bc_decoded d;
        if (rc == 0) {
            nl_bc_codec_set_level(&c, NL_BC_ENC_BC);
            long k = nl_bc_framer_feed(&f, p, n);
            rc = k < 0 ? (int)k : 0;
        }
        nl_bc_msg m;
        if (rc == 0 && nl_bc_framer_next(&f, &m) == 1)
            rc = nl_bc_codec_decode(&c, &m, &d);
        nl_allocator_set(NULL);
        nl_bc_framer_free(&f);
        nl_bc_codec_free(&c);
        NL_ASSERT(rc == 0 || rc == NL_ENOMEM);
        NL_ASSERT_EQ(nl_allocator_live(), live);
        if (rc == 0) {
            NL_ASSERT(d.binary);
            NL_ASSERT_EQ(d.ext.binary_data, 1);
            break;
        }
        nomem++;
    }
    NL_ASSERT(nomem > 3);
    printf("  %d allocation failures handled cleanly\n", nomem);
    free(p);
    vectors++;
}

int main(void)
{
    long live = nl_allocator_live();
    NL_ASSERT_OK(nl_bc_xml_create(&xml, NULL));
    NL_RUN(test_client_samples);
    NL_RUN(test_camera_samples);
    NL_RUN(test_dialogues);
    NL_RUN(test_lenient);
    NL_RUN(test_encrypt_len_prefix);
    NL_RUN(test_encode_errors_and_state);
    NL_RUN(test_out_of_memory);
    nl_bc_xml_destroy(&xml);
    NL_ASSERT_EQ(nl_allocator_live(), live);
    printf("%d codec vectors checked (10 dialogues: 5 levels x 2 passwords)\n", vectors);
    NL_DONE();
}
