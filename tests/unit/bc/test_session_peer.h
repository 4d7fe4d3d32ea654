/* A scripted camera for the session unit tests: the other end of a
 * socketpair, written with the library's own framer, codec and body builders
 * (strict codec, so it also checks that the session enciphers every section
 * with the negotiated scheme). The test drives both sides in one thread:
 * env_step() runs one loop iteration, then lets the peer read and answer.
 *
 * Real media comes from the camera captures in tests/data/bcmedia (a Swann
 * H.264 camera, baichuan.md §8.2). */
#ifndef TEST_SESSION_PEER_H
#define TEST_SESSION_PEER_H

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bc/codec.h"
#include "bc/session_int.h"
#include "core/alloc.h"
#include "core/time.h"
#include "loop/loop_int.h"
#include "media/bcmedia_write.h"
#include "neolink/camera.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/loop.h"
#include "test.h"

#define PEER_NONCE "9E6D1FCB9E69846D"
#define PEER_USER  "admin"
#define PEER_PASS  "hunter2"

typedef struct peer {
    int fd;
    nl_bc_framer f;
    nl_bc_codec codec;
    nl_bc_xml *xml;
    nl_dbuf out;
    int eof;

    /* behaviour */
    uint8_t level;   /* level chosen whatever is offered (0x00/01/02/03/12) */
    int login_code;  /* 200, or e.g. 400/401 to reject */
    int login_empty; /* 200 with an empty body */
    int mute_nonce, mute_login, mute_ping, mute_stop, mute_start, mute_logout;
    int start_code;     /* reply code to msg 3 (200) */
    int no_ability;     /* answer 151 with 400 */
    int full_aes_media; /* send media with an encryptLen extension */

    /* what it saw */
    uint8_t offered;
    unsigned count[512]; /* messages received by id */
    unsigned logins;     /* modern login attempts */
    int logged_in;
    unsigned aes_sections; /* sections the session sent AES-enciphered */
    uint32_t stream_corr[NL_CAMERA_STREAM_COUNT];
    uint32_t stream_handle[NL_CAMERA_STREAM_COUNT];
    int stream_on[NL_CAMERA_STREAM_COUNT];
    uint32_t stop_corr;
    uint32_t last_ping_corr;
    uint32_t hb_corr_answered; /* 234 echoed back */
    char logout_user[64], logout_pass[64];
} peer;

static inline void peer_flush(peer *p)
{
    size_t off = 0;
    while (off < p->out.len) {
        ssize_t n = send(p->fd, p->out.data + off, p->out.len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break; /* full or closed: keep the rest */
    }
    nl_dbuf_consume(&p->out, off);
}

/* Sends a message enciphered by the peer's codec. */
static inline void peer_send(peer *p, uint32_t id, uint16_t cls, uint32_t corr, uint16_t code,
                             const void *ext, size_t ext_len, const void *pl, size_t pl_len,
                             unsigned opts, size_t aes_prefix)
{
    nl_bc_header h;
    nl_bc_header_init(&h, id, cls, corr, code);
    long n = nl_bc_codec_encode(&p->codec, &h, ext, ext_len, pl, pl_len, opts, aes_prefix, &p->out);
    NL_ASSERT(n > 0);
    peer_flush(p);
}

static inline void peer_reply(peer *p, const nl_bc_header *req, uint16_t code, nl_dbuf *body)
{
    peer_send(p, req->msg_id, NL_BC_CLASS_MODERN_REPLY, req->corr, code, NULL, 0,
              body ? body->data : NULL, body ? body->len : 0, 0, 0);
}

static inline void peer_init(peer *p, int fd, uint8_t level)
{
    memset(p, 0, sizeof *p);
    p->fd = fd;
    p->level = level;
    p->login_code = 200;
    p->start_code = 200;
    nl_bc_framer_init(&p->f, 0);
    NL_ASSERT_OK(nl_bc_codec_init(&p->codec, 0));
    NL_ASSERT_OK(nl_bc_xml_create(&p->xml, NULL));
    nl_dbuf_init(&p->out, 64u << 20);
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static inline void peer_free(peer *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    nl_bc_framer_free(&p->f);
    nl_bc_codec_free(&p->codec);
    nl_bc_xml_destroy(&p->xml);
    nl_dbuf_free(&p->out);
}

static inline const nl_bc_xml_node *peer_xml(peer *p, const nl_bc_decoded *d)
{
    const nl_bc_xml_node *root = NULL;
    NL_ASSERT(!d->binary);
    NL_ASSERT_OK(nl_bc_xml_parse(p->xml, d->payload, d->payload_len, &root));
    return root;
}

static inline void peer_on_msg(peer *p, nl_bc_msg *m)
{
    nl_bc_decoded d;
    NL_ASSERT_OK(nl_bc_codec_decode(&p->codec, m, &d));
    const nl_bc_header *h = &m->hdr;
    if (h->msg_id < 512)
        p->count[h->msg_id]++;
    if (d.ext_xml_len && d.ext_scheme == NL_BC_SCHEME_AES)
        p->aes_sections++;
    if (!d.binary && d.payload_len && d.payload_scheme == NL_BC_SCHEME_AES)
        p->aes_sections++;
    nl_dbuf body;
    nl_dbuf_init(&body, 1 << 16);
    switch (h->msg_id) {
    case NL_BC_MSG_LOGIN:
        if (h->msg_class == NL_BC_CLASS_LEGACY) {
            p->offered = nl_bc_hdr_enc_level(h);
            NL_ASSERT_EQ(nl_bc_hdr_direction(h), 0xdc);
            NL_ASSERT_EQ(h->body_len, 0);
            if (p->mute_nonce)
                break;
            NL_ASSERT_OK(nl_bc_codec_set_level(&p->codec, p->level));
            NL_ASSERT(nl_bc_build_nonce_reply(&body, PEER_NONCE) > 0);
            nl_bc_header r;
            nl_bc_header_init(&r, NL_BC_MSG_LOGIN, NL_BC_CLASS_LEGACY_REPLY, h->corr, 0);
            nl_bc_hdr_set_level(&r, p->level, NL_BC_DIR_FROM_CAMERA);
            NL_ASSERT(
                nl_bc_codec_encode(&p->codec, &r, NULL, 0, body.data, body.len, 0, 0, &p->out) > 0);
            peer_flush(p);
        } else {
            p->logins++;
            /* Login bodies are XOR (or plain at level 0), never AES. */
            NL_ASSERT_EQ(d.payload_scheme, p->level ? NL_BC_SCHEME_XOR : NL_BC_SCHEME_PLAIN);
            nl_bc_login l;
            NL_ASSERT_OK(nl_bc_parse_login(peer_xml(p, &d), &l));
            if (p->mute_login)
                break;
            int ok = nl_bc_login_check(&l, PEER_USER, PEER_PASS, PEER_NONCE) == 0;
            if (!ok || p->login_code != 200) {
                peer_reply(p, h, ok ? (uint16_t)p->login_code : 400, NULL);
                break;
            }
            if (!p->login_empty) {
                nl_bc_device_info di;
                nl_bc_device_info_default(&di, 2560, 1440, 640, 360, 30);
                snprintf(di.firm_version, sizeof di.firm_version, "v3.0.0.136_20121102");
                NL_ASSERT(nl_bc_build_device_info(&body, &di) > 0);
            }
            peer_reply(p, h, 200, p->login_empty ? NULL : &body);
            NL_ASSERT_OK(nl_bc_codec_login_done(&p->codec, PEER_NONCE, PEER_PASS));
            p->logged_in = 1;
        }
        break;
    case NL_BC_MSG_ABILITY_INFO: {
        NL_ASSERT(d.ext.has & NL_BC_EXT_USER);
        NL_ASSERT_STREQ(d.ext.user_name, PEER_USER);
        if (p->no_ability) {
            peer_reply(p, h, 400, NULL);
            break;
        }
        nl_bc_abilities ab = {.rw = NL_BC_ABIL_PREVIEW, .ro = NL_BC_ABIL_VERSION};
        snprintf(ab.user_name, sizeof ab.user_name, "%s", PEER_USER);
        NL_ASSERT(nl_bc_build_ability_reply(&body, &ab) > 0);
        peer_reply(p, h, 200, &body);
        break;
    }
    case NL_BC_MSG_VERSION: {
        nl_bc_version_info v;
        memset(&v, 0, sizeof v);
        /* A line feed in a camera string (XML allows it) must not reach a log line. */
        snprintf(v.name, sizeof v.name, "Front\ndoor");
        snprintf(v.type, sizeof v.type, "E1 Zoom");
        snprintf(v.serial, sizeof v.serial, "00000000000000");
        snprintf(v.firmware_version, sizeof v.firmware_version, "v3.1.0.2174_23050803");
        NL_ASSERT(nl_bc_build_version_info(&body, &v) > 0);
        peer_reply(p, h, 200, &body);
        break;
    }
    case NL_BC_MSG_LINK_TYPE:
        p->last_ping_corr = h->corr;
        NL_ASSERT_EQ(h->body_len, 0);
        if (p->mute_ping)
            break;
        NL_ASSERT(nl_bc_build_link_type(&body, "LAN") > 0);
        peer_reply(p, h, 200, &body);
        break;
    case NL_BC_MSG_MOTION_REQUEST:
        peer_reply(p, h, 200, NULL);
        break;
    case NL_BC_MSG_VIDEO: {
        nl_bc_preview pv;
        NL_ASSERT_OK(nl_bc_parse_preview(peer_xml(p, &d), &pv));
        NL_ASSERT(pv.stream >= 0 && pv.stream < NL_CAMERA_STREAM_COUNT);
        NL_ASSERT_EQ(nl_bc_hdr_stream(h), nl_bc_stream_byte13(pv.stream));
        p->stream_corr[pv.stream] = h->corr;
        p->stream_handle[pv.stream] = pv.handle;
        if (p->mute_start)
            break;
        if (p->start_code != 200) {
            peer_reply(p, h, (uint16_t)p->start_code, NULL);
            break;
        }
        p->stream_on[pv.stream] = 1;
        /* 200 + binaryData extension + InfoV2, as modern_video_start1.bin. */
        nl_dbuf ext;
        nl_dbuf_init(&ext, 4096);
        NL_ASSERT_EQ(nl_bc_build_ext_binary(&ext, 1), 106);
        nl_media_info info = {.version = 2, .width = 2560, .height = 1440, .fps = 20};
        info.start = (nl_media_time){2020, 4, 8, 20, 52, 39};
        info.end = info.start;
        uint8_t infopkt[32];
        NL_ASSERT_EQ(nl__bcm_write_info(infopkt, sizeof infopkt, &info), 32);
        peer_send(p, NL_BC_MSG_VIDEO, NL_BC_CLASS_MODERN_REPLY, h->corr, 200, ext.data, ext.len,
                  infopkt, sizeof infopkt, NL_BC_OUT_BINARY, 0);
        nl_dbuf_free(&ext);
        break;
    }
    case NL_BC_MSG_VIDEO_STOP: {
        nl_bc_preview pv;
        NL_ASSERT_OK(nl_bc_parse_preview(peer_xml(p, &d), &pv));
        NL_ASSERT_EQ(pv.stream, NL_BC_STREAM_NONE);
        p->stop_corr = h->corr;
        for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
            if (p->stream_corr[k] == h->corr && p->stream_handle[k] == pv.handle)
                p->stream_on[k] = 0;
        if (!p->mute_stop)
            peer_reply(p, h, 200, NULL);
        break;
    }
    case NL_BC_MSG_LOGOUT: {
        nl_bc_logout lo;
        NL_ASSERT_OK(nl_bc_parse_logout(peer_xml(p, &d), &lo));
        snprintf(p->logout_user, sizeof p->logout_user, "%s", lo.user);
        snprintf(p->logout_pass, sizeof p->logout_pass, "%s", lo.password);
        if (!p->mute_logout)
            peer_reply(p, h, 200, NULL);
        break;
    }
    case NL_BC_MSG_KEEPALIVE:
        p->hb_corr_answered = h->corr;
        break;
    default:
        break;
    }
    nl_dbuf_free(&body);
}

/* Reads and answers whatever the session sent. */
static inline void peer_pump(peer *p)
{
    if (p->fd < 0)
        return;
    peer_flush(p);
    for (;;) {
        uint8_t buf[65536];
        ssize_t n = recv(p->fd, buf, sizeof buf, 0);
        if (n == 0) {
            p->eof = 1;
            return;
        }
        if (n < 0)
            return;
        size_t off = 0;
        while (off < (size_t)n) {
            long k = nl_bc_framer_feed(&p->f, buf + off, (size_t)n - off);
            NL_ASSERT(k >= 0);
            off += (size_t)k;
            nl_bc_msg m;
            int rc;
            while ((rc = nl_bc_framer_next(&p->f, &m)) > 0)
                peer_on_msg(p, &m);
            NL_ASSERT_EQ(rc, 0);
        }
    }
}

/* One msg-3 message of raw BcMedia bytes on a running stream. */
static inline void peer_media(peer *p, int stream, const uint8_t *data, size_t len)
{
    NL_ASSERT(p->stream_on[stream]);
    if (p->full_aes_media) {
        nl_bc_extension e = {.has = NL_BC_EXT_ENCRYPT_LEN | NL_BC_EXT_BINARY,
                             .encrypt_len = (uint32_t)len,
                             .binary_data = 1};
        nl_dbuf ext;
        nl_dbuf_init(&ext, 4096);
        NL_ASSERT(nl_bc_build_extension(&ext, &e) > 0);
        peer_send(p, NL_BC_MSG_VIDEO, NL_BC_CLASS_MODERN_REPLY, p->stream_corr[stream], 200,
                  ext.data, ext.len, data, len, NL_BC_OUT_BINARY, len);
        nl_dbuf_free(&ext);
        return;
    }
    peer_send(p, NL_BC_MSG_VIDEO, NL_BC_CLASS_MODERN_REPLY, p->stream_corr[stream], 200, NULL, 0,
              data, len, NL_BC_OUT_BINARY, 0);
}

/* Writes a video packet (BcMedia) around payload into a malloc'd buffer. */
static inline uint8_t *make_video(int key, uint32_t ts, const uint8_t *payload, size_t len,
                                  size_t *out_len)
{
    nl__bcm_video_desc v = {
        .keyframe = key, .codec = NL_MEDIA_CODEC_H264, .ts_us = ts, .posix_time = 1628085232u};
    size_t n = nl__bcm_video_size(&v, len);
    uint8_t *b = malloc(n);
    NL_ASSERT(b != NULL);
    NL_ASSERT_EQ(nl__bcm_write_video(b, n, &v, payload, len), (long)n);
    *out_len = n;
    return b;
}

/* ------------------------------------------------------------------ env */

#define EV_MAX 64

typedef struct env {
    nl_ctx *ctx;
    nl_loop *loop;
    nl_fake_clock clock;
    nl_camera *cam;
    peer p;
    int use_fake_clock;
    /* recorded callbacks */
    nl_camera_state states[EV_MAX];
    int state_err[EV_MAX];
    unsigned nstates;
    int stream_ev[NL_CAMERA_STREAM_COUNT][3];
    int stream_err[NL_CAMERA_STREAM_COUNT];
    unsigned packets[NL_CAMERA_STREAM_COUNT];
    unsigned keyframes[NL_CAMERA_STREAM_COUNT];
    int64_t last_pts[NL_CAMERA_STREAM_COUNT];
    int pts_monotonic;
    unsigned params_calls[NL_CAMERA_STREAM_COUNT];
    int params_w, params_h, params_codec;
    int motion_calls, motion;
    uint64_t closed_at_ns;
    /* actions from callbacks */
    int destroy_on_packet;
    int stop_on_packet;
} env;

static inline void on_state_cb(void *ud, nl_camera *cam, nl_camera_state st, int err)
{
    env *e = ud;
    (void)cam;
    if (e->nstates < EV_MAX) {
        e->states[e->nstates] = st;
        e->state_err[e->nstates] = err;
        e->nstates++;
    }
    if (st == NL_CAMERA_CLOSED)
        e->closed_at_ns = nl_loop_now(e->loop);
}

static inline void on_stream_cb(void *ud, nl_camera *cam, nl_camera_stream s,
                                nl_camera_stream_event ev, int err)
{
    env *e = ud;
    (void)cam;
    e->stream_ev[s][ev]++;
    e->stream_err[s] = err;
}

static inline void on_packet_cb(void *ud, nl_camera *cam, nl_camera_stream s, AVPacket *pkt,
                                const nl_media_meta *meta)
{
    env *e = ud;
    NL_ASSERT(pkt->buf != NULL); /* refcounted */
    if (meta->kind == NL_MEDIA_KIND_IFRAME || meta->kind == NL_MEDIA_KIND_PFRAME) {
        if (e->packets[s] && pkt->pts <= e->last_pts[s])
            e->pts_monotonic = 0;
        e->last_pts[s] = pkt->pts;
        e->packets[s]++;
        if (pkt->flags & AV_PKT_FLAG_KEY)
            e->keyframes[s]++;
    }
    if (e->destroy_on_packet)
        nl_camera_destroy(&e->cam);
    else if (e->stop_on_packet)
        nl_camera_stop_stream(cam, s);
}

static inline void on_params_cb(void *ud, nl_camera *cam, nl_camera_stream s,
                                const AVCodecParameters *par)
{
    env *e = ud;
    (void)cam;
    e->params_calls[s]++;
    e->params_w = par->width;
    e->params_h = par->height;
    e->params_codec = par->codec_id;
}

static inline void on_motion_cb(void *ud, nl_camera *cam, int motion)
{
    env *e = ud;
    (void)cam;
    e->motion_calls++;
    e->motion = motion;
}

static inline void env_config(nl_camera_config *cfg)
{
    nl_camera_config_init(cfg);
    cfg->name = "test";
    cfg->host = "127.0.0.1";
    cfg->username = PEER_USER;
    cfg->password = PEER_PASS;
}

/* Creates loop (fake clock), camera with cfg, and a socketpair peer. */
static inline void env_open(env *e, const nl_camera_config *cfg, uint8_t peer_level)
{
    memset(e, 0, sizeof *e);
    e->pts_monotonic = 1;
    NL_ASSERT_OK(nl_ctx_create(&e->ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&e->loop));
    e->clock.now_ns = 1000 * NL_NS_PER_S;
    nl_loop_set_clock(e->loop, nl_fake_clock_read, &e->clock);
    nl_camera_callbacks cb = {.ud = e,
                              .on_state = on_state_cb,
                              .on_stream = on_stream_cb,
                              .on_packet = on_packet_cb,
                              .on_params = on_params_cb,
                              .on_motion = on_motion_cb};
    NL_ASSERT_OK(nl_camera_create(&e->cam, e->ctx, e->loop, cfg, &cb));
    int sv[2];
    NL_ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    peer_init(&e->p, sv[1], peer_level);
    NL_ASSERT_OK(nl__camera_connect_fd(e->cam, sv[0]));
}

static inline void env_step(env *e)
{
    nl_loop_run_once(e->loop, 0);
    peer_pump(&e->p);
}

/* Steps until the camera reaches state st (or CLOSED), at most n steps. */
static inline nl_camera_state env_run_until(env *e, nl_camera_state st, int n)
{
    for (int i = 0; i < n; i++) {
        nl_camera_state cur = e->cam ? nl_camera_get_state(e->cam) : NL_CAMERA_CLOSED;
        if (cur == st || cur == NL_CAMERA_CLOSED)
            return cur;
        env_step(e);
    }
    return e->cam ? nl_camera_get_state(e->cam) : NL_CAMERA_CLOSED;
}

static inline void env_steps(env *e, int n)
{
    for (int i = 0; i < n; i++)
        env_step(e);
}

/* Moves the fake clock and runs what became due. */
static inline void env_advance(env *e, uint64_t ms)
{
    e->clock.now_ns += ms * NL_NS_PER_MS;
    env_steps(e, 3);
}

static inline void env_close(env *e)
{
    nl_camera_destroy(&e->cam);
    peer_free(&e->p);
    nl_loop_run_once(e->loop, 0);
    NL_ASSERT_EQ(nl_loop_io_count(e->loop), 0);
    NL_ASSERT_EQ(nl_loop_timer_count(e->loop), 0);
    nl_loop_destroy(&e->loop);
    nl_ctx_destroy(&e->ctx);
    NL_ASSERT_EQ(nl_allocator_live(), 0);
}

#endif
