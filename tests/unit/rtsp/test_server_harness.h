/* In-process harness for the RTSP server unit tests: a loop, a server on
 * 127.0.0.1 (ephemeral port), fake H.264 access units to push, and a raw
 * client socket driven from the same thread (the loop runs while the test
 * waits for bytes). */
#ifndef NL_TEST_SERVER_HARNESS_H
#define NL_TEST_SERVER_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>

#include "loop/loop_int.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/rtsp.h"
#include "test.h"

/* SPS/PPS of a real 320x240 x264 stream; slices are filler (the server
 * packetizes, it never decodes). */
static const uint8_t h_sps[] = {0,    0,    0,    1,    0x67, 0x42, 0xc0, 0x0d, 0xda,
                                0x05, 0x07, 0xe8, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40,
                                0x00, 0x00, 0x0c, 0xa3, 0xc5, 0x0a, 0xa8};
static const uint8_t h_pps[] = {0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80};

static void h_log(void *ud, nl_log_level level, const char *line)
{
    fprintf(stderr, "%s\n", line);
}

typedef struct harness {
    nl_ctx *ctx;
    nl_loop *loop;
    nl_rtsp_server *srv;
    AVPacket *pkt;
    int64_t pts; /* µs */
    int frame;
    int key_every;
} harness;

/* Builds a fake access unit: key ones carry SPS+PPS+IDR, others a P slice. */
static void h_make_au(harness *h, bool key, bool with_params, size_t slice)
{
    av_packet_unref(h->pkt);
    size_t n = (with_params ? sizeof h_sps + sizeof h_pps : 0) + 5 + slice;
    NL_ASSERT_EQ(av_new_packet(h->pkt, (int)n), 0);
    uint8_t *p = h->pkt->data;
    if (with_params) {
        memcpy(p, h_sps, sizeof h_sps);
        p += sizeof h_sps;
        memcpy(p, h_pps, sizeof h_pps);
        p += sizeof h_pps;
    }
    p[0] = 0, p[1] = 0, p[2] = 0, p[3] = 1, p[4] = key ? 0x65 : 0x41;
    memset(p + 5, 0x5a, slice);
    h->pkt->pts = h->pkt->dts = h->pts;
    h->pkt->flags = key ? AV_PKT_FLAG_KEY : 0;
}

/* Pushes the next video frame of mount m (track 0): 25 fps, keyframe every
 * key_every frames. */
static void h_push(harness *h, nl_rtsp_mount *m)
{
    bool key = h->frame % h->key_every == 0;
    h_make_au(h, key, key, key ? 3000 : 400);
    NL_ASSERT_OK(nl_rtsp_mount_push(m, 0, h->pkt));
    h->frame++;
    h->pts += 40000;
}

static void h_init(harness *h, const nl_rtsp_server_config *cfg)
{
    memset(h, 0, sizeof *h);
    h->key_every = 5;
    NL_ASSERT_OK(nl_loop_create(&h->loop));
    nl_rtsp_server_config c;
    if (cfg)
        c = *cfg;
    else
        nl_rtsp_server_config_init(&c);
    c.bind_address = "127.0.0.1";
    /* NL_TEST_LOG=trace|debug|... prints the server's log lines. */
    const char *lv = getenv("NL_TEST_LOG");
    nl_ctx_config cc = {.log_fn = h_log, .log_level = lv ? nl_log_level_parse(lv) : NL_LOG_ERROR};
    NL_ASSERT_OK(nl_ctx_create(&h->ctx, &cc));
    NL_ASSERT_OK(nl_rtsp_server_create(&h->srv, h->loop, h->ctx, &c));
    h->pkt = av_packet_alloc();
    NL_ASSERT(h->pkt != NULL);
}

static void h_free(harness *h)
{
    nl_rtsp_server_destroy(&h->srv);
    NL_ASSERT(h->srv == NULL);
    for (int i = 0; i < 5; i++)
        nl_loop_run_once(h->loop, 0);
    nl_loop_destroy(&h->loop);
    av_packet_free(&h->pkt);
    nl_ctx_destroy(&h->ctx);
}

/* A video-only H.264 mount (and an optional PCMU second track). */
static nl_rtsp_mount *h_mount(harness *h, const char *path, bool pcmu,
                              const nl_rtsp_mount_config *base)
{
    AVCodecParameters *v = avcodec_parameters_alloc(), *a = avcodec_parameters_alloc();
    v->codec_type = AVMEDIA_TYPE_VIDEO;
    v->codec_id = AV_CODEC_ID_H264;
    v->width = 320;
    v->height = 240;
    a->codec_type = AVMEDIA_TYPE_AUDIO;
    a->codec_id = AV_CODEC_ID_PCM_MULAW;
    a->sample_rate = 8000;
    av_channel_layout_default(&a->ch_layout, 1);
    nl_rtsp_track_config tr[2] = {{v, {1, 1000000}}, {a, {1, 1000000}}};
    nl_rtsp_mount_config mc = base ? *base : (nl_rtsp_mount_config){0};
    mc.path = path;
    mc.tracks = tr;
    mc.n_tracks = pcmu ? 2 : 1;
    nl_rtsp_mount *m = NULL;
    NL_ASSERT_OK(nl_rtsp_mount_create(h->srv, &mc, &m));
    avcodec_parameters_free(&v);
    avcodec_parameters_free(&a);
    return m;
}

static int h_connect(harness *h)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(nl_rtsp_server_port(h->srv))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    NL_ASSERT(rc == 0 || errno == EINPROGRESS);
    nl_loop_run_once(h->loop, 10);
    return fd;
}

static void h_send(int fd, const void *p, size_t n)
{
    NL_ASSERT_EQ(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Runs the loop (pushing frames of `m` every iteration when given) until
 * `want` bytes... or a full RTSP reply are buffered. Returns the reply
 * length in buf (NUL-terminated), 0 on EOF, -1 on timeout. The bytes after
 * the reply stay in *rest for the next call. */
typedef struct h_rx {
    char buf[65536];
    size_t len;
    bool eof;
} h_rx;

static void h_pump(harness *h, int fd, h_rx *rx, nl_rtsp_mount *push)
{
    nl_loop_run_once(h->loop, 5);
    if (push)
        h_push(h, push);
    for (;;) {
        if (rx->len >= sizeof rx->buf - 1)
            return;
        ssize_t n = recv(fd, rx->buf + rx->len, sizeof rx->buf - 1 - rx->len, MSG_DONTWAIT);
        if (n == 0)
            rx->eof = true;
        if (n <= 0)
            return;
        rx->len += (size_t)n;
        rx->buf[rx->len] = '\0';
    }
}

/* Length of a complete reply at the front of rx (head + Content-Length). */
static size_t h_reply_len(const h_rx *rx)
{
    const char *e = strstr(rx->buf, "\r\n\r\n");
    if (!e || rx->buf[0] == '$')
        return 0;
    size_t head = (size_t)(e - rx->buf) + 4, body = 0;
    const char *cl = strcasestr(rx->buf, "\r\nContent-Length:");
    if (cl && cl < e)
        body = strtoul(cl + 17, NULL, 10);
    return rx->len >= head + body ? head + body : 0;
}

/* Drops n bytes from the front. */
static void h_drop(h_rx *rx, size_t n)
{
    memmove(rx->buf, rx->buf + n, rx->len - n);
    rx->len -= n;
    rx->buf[rx->len] = '\0';
}

/* Skips '$' frames at the front. */
static void h_skip_frames(h_rx *rx)
{
    while (rx->len >= 4 && rx->buf[0] == '$') {
        size_t n = 4 + ((size_t)(uint8_t)rx->buf[2] << 8 | (uint8_t)rx->buf[3]);
        if (rx->len < n)
            return;
        h_drop(rx, n);
    }
}

/* Waits for the next reply; copies it into out (NUL-terminated). */
static int h_reply(harness *h, int fd, h_rx *rx, char *out, size_t cap, nl_rtsp_mount *push)
{
    for (int i = 0; i < 400; i++) {
        h_skip_frames(rx);
        size_t n = h_reply_len(rx);
        if (n) {
            size_t k = n < cap - 1 ? n : cap - 1;
            memcpy(out, rx->buf, k);
            out[k] = '\0';
            h_drop(rx, n);
            return (int)n;
        }
        if (rx->eof)
            return 0;
        h_pump(h, fd, rx, push);
    }
    return -1;
}

/* Value of a header in a reply ("" when absent), into v. */
static const char *h_header(const char *reply, const char *name, char *v, size_t cap)
{
    char key[64];
    snprintf(key, sizeof key, "\r\n%s:", name);
    const char *p = strcasestr(reply, key);
    v[0] = '\0';
    if (!p)
        return v;
    p += strlen(key);
    while (*p == ' ')
        p++;
    size_t k = 0;
    while (p[k] && p[k] != '\r' && k < cap - 1)
        k++;
    memcpy(v, p, k);
    v[k] = '\0';
    return v;
}

/* Sends a request and returns the status of its reply (0 on EOF). */
static int h_req(harness *h, int fd, h_rx *rx, const char *req, char *out, size_t cap,
                 nl_rtsp_mount *push)
{
    h_send(fd, req, strlen(req));
    int n = h_reply(h, fd, rx, out, cap, push);
    if (n <= 0)
        return n;
    /* Every answer must echo its request's CSeq. */
    const char *cs = strstr(req, "\r\nCSeq: ");
    char got[32];
    if (cs && atoi(cs + 8) != atoi(h_header(out, "CSeq", got, sizeof got)))
        NL_FAIL("CSeq %d answered with CSeq %s:\n%s", atoi(cs + 8), got, out);
    return atoi(out + 9);
}

#endif
