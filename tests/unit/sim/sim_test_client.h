/* A small blocking Baichuan test client for the simulated camera's unit
 * tests, plus a harness that runs the simulator's loop on a background
 * thread. Built from the library's pure BC parts (framer, codec, bodies) so
 * the server is checked against the protocol as those parts implement it,
 * not against itself. Every read has a timeout, so a broken server fails a
 * test instead of hanging it. Header-only: each test includes it once. */
#ifndef NL_SIM_TEST_CLIENT_H
#define NL_SIM_TEST_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "bc/bodies.h"
#include "bc/codec.h"
#include "bc/crypto.h"
#include "bc/frame.h"
#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/loop.h"
#include "neolink/sim.h"
#include "test.h"

/* libx265 3.5 leaks inside x265_encoder_open whatever the options; not ours. */
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:libx265.so\n";
}

/* Valgrind slows everything ~30x: real-time checks are relaxed there. */
static inline int th_valgrind(void)
{
    return getenv("NL_UNDER_VALGRIND") != NULL;
}

/* ------------------------------------------------------------------ harness */

typedef struct sim_harness {
    nl_ctx *ctx;
    nl_loop *loop;
    nl_sim *sim;
    pthread_t thread;
    int running;
    uint16_t port;
} sim_harness;

static inline void th_log(void *ud, nl_log_level level, const char *line)
{
    (void)ud;
    if (getenv("NL_TEST_VERBOSE") || level <= NL_LOG_WARN)
        fprintf(stderr, "  [log %d] %s\n", (int)level, line);
}

static inline void *th_loop_main(void *arg)
{
    sim_harness *h = arg;
    nl_loop_run(h->loop);
    return NULL;
}

/* Test defaults: ephemeral port, small fast streams, no audio. */
static inline void th_config(nl_sim_config *cfg)
{
    nl_sim_config_init(cfg);
    cfg->port = 0;
    cfg->audio = NL_SIM_AUDIO_NONE;
    cfg->stream[NL_SIM_STREAM_MAIN] = (nl_sim_stream_config){320, 240, 15, 400};
    cfg->stream[NL_SIM_STREAM_SUB] = (nl_sim_stream_config){256, 144, 10, 100};
    cfg->stream[NL_SIM_STREAM_EXTERN] = (nl_sim_stream_config){288, 160, 12, 200};
    cfg->gop_ms = 1000;
    cfg->motion_interval_ms = 200;
}

static inline void th_start(sim_harness *h, const nl_sim_config *cfg)
{
    memset(h, 0, sizeof *h);
    if (!getenv("NL_TEST_VERBOSE"))
        av_log_set_level(AV_LOG_ERROR);
    nl_ctx_config cc = {.log_fn = th_log,
                        .log_level = getenv("NL_TEST_VERBOSE") ? NL_LOG_DEBUG : NL_LOG_WARN};
    NL_ASSERT_OK(nl_ctx_create(&h->ctx, &cc));
    NL_ASSERT_OK(nl_loop_create(&h->loop));
    NL_ASSERT_OK(nl_sim_create(&h->sim, h->ctx, h->loop, cfg));
    h->port = nl_sim_port(h->sim);
    NL_ASSERT(h->port != 0);
    NL_ASSERT_EQ(pthread_create(&h->thread, NULL, th_loop_main, h), 0);
    h->running = 1;
}

static inline void th_do_stop(void *arg)
{
    nl_loop_stop(arg);
}

static inline void th_pause(sim_harness *h)
{
    if (!h->running)
        return;
    NL_ASSERT_OK(nl_loop_post(h->loop, th_do_stop, h->loop));
    pthread_join(h->thread, NULL);
    h->running = 0;
}

static inline void th_resume(sim_harness *h)
{
    NL_ASSERT_EQ(pthread_create(&h->thread, NULL, th_loop_main, h), 0);
    h->running = 1;
}

/* Statistics, read on the loop thread through a pause. */
static inline nl_sim_stats th_stats(sim_harness *h)
{
    nl_sim_stats st;
    th_pause(h);
    NL_ASSERT_OK(nl_sim_get_stats(h->sim, &st, sizeof st));
    th_resume(h);
    return st;
}

static inline void th_stop(sim_harness *h)
{
    th_pause(h);
    nl_sim_destroy(&h->sim);
    NL_ASSERT(h->sim == NULL);
    nl_loop_run_once(h->loop, 0); /* deferred frees */
    NL_ASSERT_EQ(nl_loop_io_count(h->loop), 0);
    NL_ASSERT_EQ(nl_loop_timer_count(h->loop), 0);
    nl_loop_destroy(&h->loop);
    nl_ctx_destroy(&h->ctx);
}

static inline uint64_t th_now_ms(void)
{
    return nl_time_mono_ns() / NL_NS_PER_MS;
}

/* Waits (polling the stats) until pred holds or ms pass; returns the last stats. */
#define TH_WAIT_STATS(h, st, ms, pred)                                                             \
    do {                                                                                           \
        uint64_t end_ = th_now_ms() + (ms);                                                        \
        for (;;) {                                                                                 \
            st = th_stats(h);                                                                      \
            if ((pred) || th_now_ms() > end_)                                                      \
                break;                                                                             \
            usleep(20000);                                                                         \
        }                                                                                          \
    } while (0)

/* ------------------------------------------------------------------ client */

typedef struct tclient {
    int fd;
    nl_bc_framer framer;
    nl_bc_codec codec;
    nl_dbuf out;
    nl_dbuf body;
    char nonce[NL_BC_NONCE_MAX];
    uint8_t level;
    uint16_t num;
    int eof;
    int framer_err;
    nl_bc_msg msg;
    nl_bc_decoded dec;
    nl_bc_xml *xml;
} tclient;

static inline int tc_connect_fd(uint16_t port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    NL_ASSERT(fd >= 0);
    if (rcvbuf)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline void tc_open_rcvbuf(tclient *c, uint16_t port, int rcvbuf)
{
    memset(c, 0, sizeof *c);
    c->fd = tc_connect_fd(port, rcvbuf);
    NL_ASSERT(c->fd >= 0);
    nl_bc_framer_init(&c->framer, 1u << 20);
    NL_ASSERT_OK(nl_bc_codec_init(&c->codec, 0));
    nl_dbuf_init(&c->out, 1u << 20);
    nl_dbuf_init(&c->body, 1u << 20);
    NL_ASSERT_OK(nl_bc_xml_create(&c->xml, NULL));
}

static inline void tc_open(tclient *c, uint16_t port)
{
    tc_open_rcvbuf(c, port, 0);
}

static inline void tc_close(tclient *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    nl_bc_framer_free(&c->framer);
    nl_bc_codec_free(&c->codec);
    nl_dbuf_free(&c->out);
    nl_dbuf_free(&c->body);
    nl_bc_xml_destroy(&c->xml);
}

static inline void tc_write_all(tclient *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        NL_ASSERT(w > 0);
        b += w;
        n -= (size_t)w;
    }
}

/* Sends one message through the client's codec (class from the header). */
static inline void tc_send(tclient *c, uint32_t msg_id, uint16_t cls, uint32_t corr,
                           const void *ext, size_t ext_len, const void *payload, size_t payload_len)
{
    nl_bc_header h;
    nl_bc_header_init(&h, msg_id, cls, corr, 0);
    nl_dbuf_reset(&c->out);
    long n = nl_bc_codec_encode(&c->codec, &h, ext, ext_len, payload, payload_len, 0, 0, &c->out);
    NL_ASSERT(n > 0);
    tc_write_all(c, c->out.data, c->out.len);
}

/* Receives the next message within timeout_ms: 1 (c->msg, c->dec filled),
 * 0 on timeout, -1 on EOF/reset, -2 when the framer rejected the stream
 * (c->framer_err holds its error). */
static inline int tc_recv(tclient *c, int timeout_ms)
{
    uint64_t end = th_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int rc = nl_bc_framer_next(&c->framer, &c->msg);
        if (rc < 0) {
            c->framer_err = rc;
            return -2;
        }
        if (rc > 0) {
            int d = nl_bc_codec_decode(&c->codec, &c->msg, &c->dec);
            if (d < 0)
                NL_FAIL("decode of msg %u failed: %s", c->msg.hdr.msg_id, nl_strerror(d));
            return 1;
        }
        uint64_t now = th_now_ms();
        if (now >= end)
            return 0;
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)(end - now));
        if (pr == 0)
            return 0;
        size_t room;
        uint8_t *buf = nl_bc_framer_space(&c->framer, 65536, &room);
        NL_ASSERT(buf != NULL);
        ssize_t n = recv(c->fd, buf, room, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            c->eof = 1;
            return -1;
        }
        if (n > 0)
            nl_bc_framer_commit(&c->framer, (size_t)n);
    }
}

/* Receives messages until one with msg_id arrives (others are skipped). */
static inline int tc_expect(tclient *c, uint32_t msg_id, int timeout_ms)
{
    uint64_t end = th_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = th_now_ms();
        if (now >= end)
            return 0;
        int rc = tc_recv(c, (int)(end - now));
        if (rc <= 0)
            return rc;
        if (c->msg.hdr.msg_id == msg_id)
            return 1;
    }
}

/* Receives messages until one with msg_id and corr arrives. */
static inline int tc_expect_corr(tclient *c, uint32_t msg_id, uint32_t corr, int timeout_ms)
{
    uint64_t end = th_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = th_now_ms();
        if (now >= end)
            return 0;
        int rc = tc_expect(c, msg_id, (int)(end - now));
        if (rc <= 0 || c->msg.hdr.corr == corr)
            return rc;
    }
}

/* Parses the current message's XML payload; returns the root. */
static inline const nl_bc_xml_node *tc_xml(tclient *c)
{
    const nl_bc_xml_node *root = NULL;
    NL_ASSERT(!c->dec.binary);
    NL_ASSERT(c->dec.payload_len > 0);
    int rc = nl_bc_xml_parse(c->xml, c->dec.payload, c->dec.payload_len, &root);
    if (rc < 0)
        NL_FAIL("reply XML of msg %u: %s: %.*s", c->msg.hdr.msg_id, nl_strerror(rc),
                (int)c->dec.payload_len, (const char *)c->dec.payload);
    return root;
}

/* Step 1 of the login: the 0x6514 hello (header only, or with the legacy
 * body when legacy is set). Fills c->nonce and c->level. */
static inline void tc_hello(tclient *c, uint8_t offer, int legacy, const char *user,
                            const char *pass)
{
    nl_bc_header h;
    nl_bc_header_init(&h, NL_BC_MSG_LOGIN, NL_BC_CLASS_LEGACY, nl_bc_corr_make(0, 0, c->num), 0);
    nl_bc_hdr_set_level(&h, offer, NL_BC_DIR_TO_CAMERA);
    nl_dbuf_reset(&c->body);
    if (legacy)
        NL_ASSERT_EQ(nl_bc_build_legacy_login(&c->body, user, pass), NL_BC_LEGACY_LOGIN_LEN);
    nl_dbuf_reset(&c->out);
    NL_ASSERT(nl_bc_codec_encode(&c->codec, &h, NULL, 0, c->body.data, c->body.len,
                                 NL_BC_OUT_BINARY, 0, &c->out) > 0);
    tc_write_all(c, c->out.data, c->out.len);
    NL_ASSERT_EQ(tc_recv(c, 5000), 1);
    const nl_bc_header *r = &c->msg.hdr;
    NL_ASSERT_EQ(r->msg_id, NL_BC_MSG_LOGIN);
    NL_ASSERT_EQ(r->msg_class, NL_BC_CLASS_LEGACY_REPLY);
    NL_ASSERT_EQ(r->hdr_len, 20);
    NL_ASSERT_EQ(r->corr, nl_bc_corr_make(0, 0, c->num));
    NL_ASSERT_EQ(nl_bc_hdr_direction(r), NL_BC_DIR_FROM_CAMERA);
    c->level = nl_bc_hdr_enc_level(r);
    NL_ASSERT_OK(nl_bc_codec_set_level(&c->codec, c->level));
    nl_bc_nonce_reply nr;
    NL_ASSERT_OK(nl_bc_parse_nonce_reply(tc_xml(c), &nr));
    NL_ASSERT_STREQ(nr.type, "md5");
    snprintf(c->nonce, sizeof c->nonce, "%s", nr.nonce);
}

/* Full login; returns the reply's response code (200 on success). */
static inline int tc_login(tclient *c, uint8_t offer, int legacy, const char *user,
                           const char *pass)
{
    tc_hello(c, offer, legacy, user, pass);
    nl_dbuf_reset(&c->body);
    NL_ASSERT(nl_bc_build_login(&c->body, user, pass, c->nonce) > 0);
    tc_send(c, NL_BC_MSG_LOGIN, NL_BC_CLASS_MODERN, nl_bc_corr_make(0, 0, c->num), NULL, 0,
            c->body.data, c->body.len);
    NL_ASSERT_EQ(tc_recv(c, 5000), 1);
    const nl_bc_header *r = &c->msg.hdr;
    NL_ASSERT_EQ(r->msg_id, NL_BC_MSG_LOGIN);
    NL_ASSERT_EQ(r->msg_class, NL_BC_CLASS_MODERN_REPLY);
    NL_ASSERT_EQ(r->corr, nl_bc_corr_make(0, 0, c->num));
    c->num++;
    if (r->response_code == NL_BC_RESP_OK)
        NL_ASSERT_OK(nl_bc_codec_login_done(&c->codec, c->nonce, pass));
    return r->response_code;
}

/* Starts a stream; returns the correlation word used. */
static inline uint32_t tc_start(tclient *c, unsigned channel, int kind)
{
    nl_bc_preview p = {.channel_id = channel, .handle = nl_bc_stream_handle(kind), .stream = kind};
    nl_dbuf_reset(&c->body);
    NL_ASSERT(nl_bc_build_preview(&c->body, &p) > 0);
    uint32_t corr = nl_bc_corr_make((uint8_t)channel, nl_bc_stream_byte13(kind), c->num++);
    tc_send(c, NL_BC_MSG_VIDEO, NL_BC_CLASS_MODERN, corr, NULL, 0, c->body.data, c->body.len);
    return corr;
}

static inline void tc_stop(tclient *c, uint32_t corr, unsigned channel, int kind)
{
    nl_bc_preview p = {
        .channel_id = channel, .handle = nl_bc_stream_handle(kind), .stream = NL_BC_STREAM_NONE};
    nl_dbuf_reset(&c->body);
    NL_ASSERT(nl_bc_build_preview(&c->body, &p) > 0);
    tc_send(c, NL_BC_MSG_VIDEO_STOP, NL_BC_CLASS_MODERN, corr, NULL, 0, c->body.data, c->body.len);
}

#endif
