/* camera_check: the integration tests' camera client. Logs into a camera
 * (normally `neolink-cli simulate`) with the public camera API, starts the
 * requested streams at once, decodes every video packet with libavcodec and
 * checks that timestamps strictly increase, until each stream has --frames
 * frames or --seconds have passed, then closes gracefully. Output, one fact
 * per line, for the test scripts to parse:
 *
 *   login: encryption <name> 0x<level> model <model>
 *   stream <s>: frames N keyframes N decoded N decode_errors N backsteps N
 *               codec <name> <w>x<h> audio N skipped N
 *   close_ms N
 *   end: ok elapsed_ms N                     (exit 0)
 *   end: error <NL_NAME> elapsed_ms N detail <text>   (exit 1)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>

#include "neolink/camera.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/loop.h"

typedef struct srec {
    int wanted, started;
    unsigned frames, keyframes, decoded, decode_errors, backsteps, audio;
    int64_t last_pts;
    AVCodecContext *dec;
    AVFrame *frame;
    int width, height;
    int codec_id;
} srec;

typedef struct check {
    nl_camera *cam;
    srec s[NL_CAMERA_STREAM_COUNT];
    int closed, err;
    int64_t closed_at;
    char detail[512];
    int stream_failed;
    int decode;
} check;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_to_stderr(void *ud, nl_log_level level, const char *line)
{
    (void)ud;
    (void)level;
    fprintf(stderr, "%s\n", line);
}

static void on_state(void *ud, nl_camera *cam, nl_camera_state st, int err)
{
    check *c = ud;
    if (st == NL_CAMERA_READY || st == NL_CAMERA_STREAMING) {
        static int printed;
        nl_camera_device_info di;
        if (!printed && nl_camera_get_device_info(cam, &di) == 0) {
            printed = 1;
            printf("login: encryption %s 0x%02x model %s\n",
                   nl_camera_encryption_name(di.encryption), di.encryption, di.model);
            fflush(stdout);
        }
    }
    if (st == NL_CAMERA_CLOSED) {
        c->closed = 1;
        c->closed_at = mono_ms();
        if (err && !c->err) {
            c->err = err;
            snprintf(c->detail, sizeof c->detail, "%s", nl_camera_last_error_detail(cam));
        }
    }
}

static void on_stream(void *ud, nl_camera *cam, nl_camera_stream s, nl_camera_stream_event ev,
                      int err)
{
    check *c = ud;
    if (ev == NL_CAMERA_STREAM_STARTED)
        c->s[s].started = 1;
    if (ev == NL_CAMERA_STREAM_FAILED && !c->err && nl_camera_last_error(cam) == 0) {
        c->err = err;
        c->stream_failed = 1;
        snprintf(c->detail, sizeof c->detail, "%s stream failed", nl_camera_stream_name(s));
    }
}

static void open_decoder(srec *r, const AVCodecParameters *par)
{
    avcodec_free_context(&r->dec);
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec)
        return;
    r->dec = avcodec_alloc_context3(codec);
    if (!r->dec || avcodec_parameters_to_context(r->dec, par) < 0 ||
        avcodec_open2(r->dec, codec, NULL) < 0)
        avcodec_free_context(&r->dec);
}

static void on_params(void *ud, nl_camera *cam, nl_camera_stream s, const AVCodecParameters *par)
{
    check *c = ud;
    (void)cam;
    srec *r = &c->s[s];
    r->width = par->width;
    r->height = par->height;
    r->codec_id = par->codec_id;
    if (c->decode)
        open_decoder(r, par);
}

static void decode(srec *r, AVPacket *pkt)
{
    if (!r->dec) {
        r->decode_errors++;
        return;
    }
    if (avcodec_send_packet(r->dec, pkt) < 0) {
        r->decode_errors++;
        return;
    }
    for (;;) {
        int rc = avcodec_receive_frame(r->dec, r->frame);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            break;
        if (rc < 0) {
            r->decode_errors++;
            break;
        }
        if (r->frame->decode_error_flags || (r->frame->flags & AV_FRAME_FLAG_CORRUPT))
            r->decode_errors++;
        else
            r->decoded++;
        av_frame_unref(r->frame);
    }
}

static void on_packet(void *ud, nl_camera *cam, nl_camera_stream s, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    check *c = ud;
    (void)cam;
    srec *r = &c->s[s];
    if (meta->kind != NL_MEDIA_KIND_IFRAME && meta->kind != NL_MEDIA_KIND_PFRAME) {
        r->audio++;
        return;
    }
    if (r->frames && pkt->pts <= r->last_pts)
        r->backsteps++;
    r->last_pts = pkt->pts;
    r->frames++;
    if (pkt->flags & AV_PKT_FLAG_KEY)
        r->keyframes++;
    if (c->decode)
        decode(r, pkt);
}

static int parse_address(const char *s, char *host, size_t n, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= n)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    long p = strtol(colon + 1, NULL, 10);
    if (p <= 0 || p > 65535)
        return -1;
    *port = (uint16_t)p;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"address", required_argument, 0, 'a'},   {"user", required_argument, 0, 'u'},
        {"password", required_argument, 0, 'p'},  {"max-encryption", required_argument, 0, 'e'},
        {"streams", required_argument, 0, 's'},   {"frames", required_argument, 0, 'f'},
        {"seconds", required_argument, 0, 't'},   {"stall-timeout", required_argument, 0, 'S'},
        {"keepalive", required_argument, 0, 'k'}, {"decode", no_argument, 0, 'd'},
        {"log-level", required_argument, 0, 'l'}, {0, 0, 0, 0},
    };
    check c;
    memset(&c, 0, sizeof c);
    char host[256] = "";
    nl_camera_config cfg;
    nl_camera_config_init(&cfg);
    unsigned want_frames = 0;
    double seconds = 0;
    nl_log_level level = NL_LOG_WARN;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            if (parse_address(optarg, host, sizeof host, &cfg.port) < 0)
                return 2;
            break;
        case 'u':
            cfg.username = optarg;
            break;
        case 'p':
            cfg.password = optarg;
            break;
        case 'e':
            cfg.max_encryption = (nl_camera_encryption)nl_camera_encryption_parse(optarg);
            break;
        case 's':
            for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
                if (strstr(optarg, nl_camera_stream_name((nl_camera_stream)k)))
                    c.s[k].wanted = 1;
            break;
        case 'f':
            want_frames = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 't':
            seconds = strtod(optarg, NULL);
            break;
        case 'S':
            cfg.stall_timeout_ms = (uint32_t)(strtod(optarg, NULL) * 1000);
            break;
        case 'k':
            cfg.keepalive_interval_ms = (uint32_t)(strtod(optarg, NULL) * 1000);
            break;
        case 'd':
            c.decode = 1;
            break;
        case 'l':
            level = (nl_log_level)nl_log_level_parse(optarg);
            break;
        default:
            return 2;
        }
    }
    if (!host[0] || (!want_frames && seconds <= 0))
        return 2;
    cfg.host = host;
    cfg.name = "check";
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
        c.s[k].frame = av_frame_alloc();

    nl_ctx_config cc = {.log_fn = log_to_stderr, .log_level = level};
    nl_ctx *ctx;
    nl_loop *loop;
    if (nl_ctx_create(&ctx, &cc) < 0 || nl_loop_create(&loop) < 0)
        return 1;
    nl_camera_callbacks cb = {.ud = &c,
                              .on_state = on_state,
                              .on_stream = on_stream,
                              .on_packet = on_packet,
                              .on_params = on_params};
    int rc = nl_camera_create(&c.cam, ctx, loop, &cfg, &cb);
    if (rc < 0) {
        printf("end: error %s elapsed_ms 0 detail create\n", nl_err_name(rc));
        return 1;
    }
    int64_t t0 = mono_ms();
    rc = nl_camera_connect(c.cam);
    for (int k = 0; rc == 0 && k < NL_CAMERA_STREAM_COUNT; k++)
        if (c.s[k].wanted)
            rc = nl_camera_start_stream(c.cam, (nl_camera_stream)k);
    /* Hard wall-clock guard: the session's own deadlines must end every
     * run long before this; hitting it means a hang. */
    int64_t guard = t0 + (int64_t)((seconds > 0 ? seconds : 60) * 1000) + 60000;
    int64_t close_start = 0;
    while (!c.closed && mono_ms() < guard) {
        int done = c.err != 0;
        if (!done && want_frames) {
            done = 1;
            for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
                if (c.s[k].wanted && c.s[k].frames < want_frames)
                    done = 0;
        }
        if (!done && seconds > 0 && mono_ms() - t0 >= (int64_t)(seconds * 1000))
            done = 1;
        if (done && !close_start) {
            close_start = mono_ms();
            nl_camera_close(c.cam, 2000);
        }
        nl_loop_run_once(loop, 20);
    }
    int64_t end = mono_ms();
    nl_camera_stats st;
    nl_camera_get_stats(c.cam, &st, sizeof st);
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        srec *r = &c.s[k];
        if (!r->wanted)
            continue;
        printf("stream %s: frames %u keyframes %u decoded %u decode_errors %u backsteps %u "
               "codec %s %dx%d audio %u skipped %llu\n",
               nl_camera_stream_name((nl_camera_stream)k), r->frames, r->keyframes, r->decoded,
               r->decode_errors, r->backsteps, avcodec_get_name((enum AVCodecID)r->codec_id),
               r->width, r->height, r->audio, (unsigned long long)st.stream[k].bytes_skipped);
    }
    printf("stats: resyncs %llu keepalives %llu missed %llu heartbeats %llu arena_high %zu\n",
           (unsigned long long)st.framing_resyncs, (unsigned long long)st.keepalives_sent,
           (unsigned long long)st.keepalives_missed, (unsigned long long)st.heartbeats_answered,
           st.arena_high_water);
    if (close_start)
        printf("close_ms %lld\n", (long long)(end - close_start));
    int code;
    if (!c.closed) {
        printf("end: error HANG elapsed_ms %lld detail still %s\n", (long long)(end - t0),
               nl_camera_state_name(nl_camera_get_state(c.cam)));
        code = 1;
    } else if (c.err) {
        printf("end: error %s elapsed_ms %lld detail %s\n", nl_err_name(c.err),
               (long long)((c.stream_failed ? end : c.closed_at) - t0), c.detail);
        code = 1;
    } else {
        printf("end: ok elapsed_ms %lld\n", (long long)(end - t0));
        code = 0;
    }
    fflush(stdout);
    nl_camera_destroy(&c.cam);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
        avcodec_free_context(&c.s[k].dec);
        av_frame_free(&c.s[k].frame);
    }
    return code;
}
