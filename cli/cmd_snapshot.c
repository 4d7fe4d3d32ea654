/* neolink-cli snapshot: write a JPEG of a stream's latest key frame.
 *
 * Two sources:
 *  - a camera (or the simulator): log in, start one stream, take the first
 *    key frame, log out (--address HOST:PORT ...);
 *  - an H.264/H.265 elementary stream file (--input FILE), whose last key
 *    frame is used.
 * The picture is decoded and encoded by the library (nl_snapshot_*); this
 * file only parses arguments and drives the loop. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "neolink/camera.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"
#include "neolink/loop.h"

int nl_cli_cmd_snapshot(int argc, char **argv);
extern const char nl_cli_help_snapshot[];

const char nl_cli_help_snapshot[] = "write a JPEG of a camera stream's (or a file's) key frame";

#define READ_CHUNK (64 * 1024)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: neolink-cli snapshot --address HOST:PORT [options] --out FILE.jpg\n"
            "       neolink-cli snapshot --input FILE.h264|FILE.h265 [options] --out FILE.jpg\n"
            "  --address HOST:PORT  camera (or simulator) to log into; IPv6 as [::1]:9000\n"
            "  --user U             user name (default admin)\n"
            "  --password P         password (default: $NEOLINK_PASSWORD, else empty)\n"
            "  --stream S           main|sub|extern (default main)\n"
            "  --timeout S          give up after S seconds (default 20)\n"
            "  --input FILE         Annex-B elementary stream instead of a camera; the last\n"
            "                       key frame is used\n"
            "  --codec C            h264|h265 for --input (default: from the file name)\n"
            "  --width W, --height H  JPEG size (default the video's; one of them: keep the\n"
            "                       aspect ratio)\n"
            "  --quality Q          JPEG quantiser 2 (best) .. 31 (default 3)\n"
            "  --out FILE           where to write the JPEG (required)\n"
            "  --log-level LEVEL    error|warn|info|debug|trace (default warn)\n");
}

static void log_to_stderr(void *ud, nl_log_level level, const char *line)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    (void)ud;
    fprintf(stderr, "%-5s %s\n", names[level <= NL_LOG_TRACE ? level : NL_LOG_TRACE], line);
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* HOST:PORT or [V6]:PORT. */
static int parse_address(const char *s, char *host, size_t n, uint16_t *port)
{
    const char *h = s, *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        if (!(colon = strrchr(s, ':')))
            return -1;
        hl = (size_t)(colon - s);
    }
    int p;
    if (hl == 0 || hl >= n || parse_int(colon + 1, 1, 65535, &p) < 0)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "snapshot: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    int ok = fwrite(data, 1, len, f) == len;
    ok &= fclose(f) == 0;
    if (!ok)
        fprintf(stderr, "snapshot: cannot write %s\n", path);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------ from a file */

static int from_file(nl_snapshot *snap, const char *path, nl_media_codec codec)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "snapshot: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    static uint8_t buf[READ_CHUNK];
    size_t n;
    int rc = 0;
    while (rc >= 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
        rc = nl_snapshot_feed(snap, codec, buf, n);
    fclose(f);
    if (rc >= 0)
        rc = nl_snapshot_feed(snap, codec, NULL, 0);
    if (rc < 0) {
        fprintf(stderr, "snapshot: %s: %s\n", path, nl_strerror(rc));
        return -1;
    }
    if (rc == 0) {
        fprintf(stderr, "snapshot: %s: no key frame found\n", path);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ from a camera */

typedef struct grab {
    nl_snapshot *snap;
    nl_camera_stream stream;
    int have_key;
    int failed;
    int closed;
} grab;

static void on_state(void *ud, nl_camera *cam, nl_camera_state state, int error)
{
    grab *g = ud;
    if (state == NL_CAMERA_READY && !g->have_key) {
        int rc = nl_camera_start_stream(cam, g->stream);
        if (rc < 0) {
            fprintf(stderr, "snapshot: cannot start the %s stream: %s\n",
                    nl_camera_stream_name(g->stream), nl_strerror(rc));
            g->failed = 1;
        }
    } else if (state == NL_CAMERA_CLOSED) {
        g->closed = 1;
        if (error < 0 && !g->have_key) {
            fprintf(stderr, "snapshot: camera: %s (%s)\n", nl_strerror(error),
                    nl_camera_last_error_detail(cam));
            g->failed = 1;
        }
    }
}

static void on_stream(void *ud, nl_camera *cam, nl_camera_stream stream, nl_camera_stream_event ev,
                      int error)
{
    grab *g = ud;
    if (ev == NL_CAMERA_STREAM_FAILED && !g->have_key) {
        fprintf(stderr, "snapshot: the %s stream failed: %s\n", nl_camera_stream_name(stream),
                nl_strerror(error));
        g->failed = 1;
    }
}

static void on_params(void *ud, nl_camera *cam, nl_camera_stream stream,
                      const AVCodecParameters *par)
{
    grab *g = ud;
    if (stream == g->stream && par->extradata_size > 0)
        nl_snapshot_set_extradata(g->snap, par->extradata, (size_t)par->extradata_size);
}

static void on_packet(void *ud, nl_camera *cam, nl_camera_stream stream, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    grab *g = ud;
    if (stream != g->stream || g->have_key || meta->kind != NL_MEDIA_KIND_IFRAME)
        return;
    if (nl_snapshot_push(g->snap, meta->codec, pkt) == 1)
        g->have_key = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int from_camera(nl_ctx *ctx, nl_snapshot *snap, const char *host, uint16_t port,
                       const char *user, const char *password, nl_camera_stream stream,
                       double timeout_s)
{
    nl_loop *loop = NULL;
    nl_camera *cam = NULL;
    grab g = {.snap = snap, .stream = stream};
    int rc = nl_loop_create(&loop);
    if (rc < 0) {
        fprintf(stderr, "snapshot: %s\n", nl_strerror(rc));
        return -1;
    }
    nl_camera_config cc;
    nl_camera_config_init(&cc);
    cc.name = "snapshot";
    cc.host = host;
    cc.port = port;
    cc.username = user;
    cc.password = password;
    nl_camera_callbacks cb = {.ud = &g,
                              .on_state = on_state,
                              .on_stream = on_stream,
                              .on_params = on_params,
                              .on_packet = on_packet};
    if ((rc = nl_camera_create(&cam, ctx, loop, &cc, &cb)) < 0 ||
        (rc = nl_camera_connect(cam)) < 0) {
        fprintf(stderr, "snapshot: %s\n", nl_strerror(rc));
        nl_camera_destroy(&cam);
        nl_loop_destroy(&loop);
        return -1;
    }
    double deadline = now_s() + timeout_s;
    while (!g.have_key && !g.failed && now_s() < deadline)
        nl_loop_run_once(loop, 100);
    int ok = g.have_key;
    if (!ok && !g.failed)
        fprintf(stderr, "snapshot: no key frame within %.0f s\n", timeout_s);
    /* Log out politely, bounded: the close has its own deadline. */
    nl_camera_close(cam, 2000);
    double close_deadline = now_s() + 3.0;
    while (!g.closed && now_s() < close_deadline)
        nl_loop_run_once(loop, 100);
    nl_camera_destroy(&cam);
    nl_loop_destroy(&loop);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------ main */

int nl_cli_cmd_snapshot(int argc, char **argv)
{
    enum {
        O_ADDR = 1,
        O_USER,
        O_PASS,
        O_STREAM,
        O_TIMEOUT,
        O_INPUT,
        O_CODEC,
        O_WIDTH,
        O_HEIGHT,
        O_QUALITY,
        O_OUT,
        O_LOG,
        O_HELP
    };
    static const struct option opts[] = {
        {"address", required_argument, NULL, O_ADDR},
        {"user", required_argument, NULL, O_USER},
        {"password", required_argument, NULL, O_PASS},
        {"stream", required_argument, NULL, O_STREAM},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"input", required_argument, NULL, O_INPUT},
        {"codec", required_argument, NULL, O_CODEC},
        {"width", required_argument, NULL, O_WIDTH},
        {"height", required_argument, NULL, O_HEIGHT},
        {"quality", required_argument, NULL, O_QUALITY},
        {"out", required_argument, NULL, O_OUT},
        {"log-level", required_argument, NULL, O_LOG},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *address = NULL, *user = "admin", *password = getenv("NEOLINK_PASSWORD");
    const char *input = NULL, *out = NULL, *codec_name = NULL;
    int stream = NL_CAMERA_STREAM_MAIN, timeout = 20, level = NL_LOG_WARN;
    nl_snapshot_config sc = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_ADDR:
            address = optarg;
            break;
        case O_USER:
            user = optarg;
            break;
        case O_PASS:
            password = optarg;
            break;
        case O_STREAM:
            bad = (stream = nl_camera_stream_parse(optarg)) < 0;
            break;
        case O_TIMEOUT:
            bad = parse_int(optarg, 1, 3600, &timeout);
            break;
        case O_INPUT:
            input = optarg;
            break;
        case O_CODEC:
            codec_name = optarg;
            break;
        case O_WIDTH:
            bad = parse_int(optarg, 16, 8192, &sc.width);
            break;
        case O_HEIGHT:
            bad = parse_int(optarg, 16, 8192, &sc.height);
            break;
        case O_QUALITY:
            bad = parse_int(optarg, 2, 31, &sc.quality);
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_LOG:
            bad = (level = nl_log_level_parse(optarg)) < 0;
            break;
        case O_HELP:
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "snapshot: bad value for --%s: %s\n", opts[c - 1].name, optarg);
            return 2;
        }
    }
    if (optind < argc || !out || (!address == !input)) {
        fprintf(stderr, "snapshot: need --out and exactly one of --address / --input\n");
        usage(stderr);
        return 2;
    }
    nl_media_codec codec = NL_MEDIA_CODEC_H264;
    if (codec_name) {
        if (!strcmp(codec_name, "h265") || !strcmp(codec_name, "hevc"))
            codec = NL_MEDIA_CODEC_H265;
        else if (strcmp(codec_name, "h264") != 0) {
            fprintf(stderr, "snapshot: --codec must be h264 or h265\n");
            return 2;
        }
    } else if (input && (ends_with(input, ".h265") || ends_with(input, ".hevc") ||
                         ends_with(input, ".265"))) {
        codec = NL_MEDIA_CODEC_H265;
    }
    char host[256];
    uint16_t port = 0;
    if (address && parse_address(address, host, sizeof host, &port) < 0) {
        fprintf(stderr, "snapshot: --address wants HOST:PORT, got %s\n", address);
        return 2;
    }

    nl_ctx *ctx = NULL;
    nl_ctx_config cc = {.log_fn = log_to_stderr, .log_level = (nl_log_level)level};
    nl_snapshot *snap = NULL;
    int rc = nl_ctx_create(&ctx, &cc);
    if (rc == 0)
        rc = nl_snapshot_create(&snap, ctx, &sc);
    if (rc < 0) {
        fprintf(stderr, "snapshot: %s\n", nl_strerror(rc));
        nl_ctx_destroy(&ctx);
        return 1;
    }
    int status = 1;
    if (input ? from_file(snap, input, codec) == 0
              : from_camera(ctx, snap, host, port, user, password ? password : "",
                            (nl_camera_stream)stream, timeout) == 0) {
        uint8_t *jpeg = NULL;
        size_t len = 0;
        nl_snapshot_info info;
        rc = nl_snapshot_get(snap, &jpeg, &len, &info);
        if (rc < 0) {
            fprintf(stderr, "snapshot: %s\n", nl_strerror(rc));
        } else if (write_file(out, jpeg, len) == 0) {
            printf("snapshot: %s %dx%d %zu bytes\n", out, info.width, info.height, len);
            status = 0;
        }
        nl_snapshot_free_jpeg(&jpeg);
    }
    nl_snapshot_destroy(&snap);
    nl_ctx_destroy(&ctx);
    return status;
}
