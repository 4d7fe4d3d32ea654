/* neolink-cli probe: log into a camera, print what it is and the negotiated
 * encryption, receive one or more streams for N seconds and print codec,
 * resolution, frame and key-frame counts, fps and bitrate measured from the
 * camera's own timestamps. Exit 0 on success; on failure exit 1 with one
 * line "probe: <reason>" on stderr. Only the public API is used. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "neolink/camera.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/loop.h"

int nl_cli_cmd_probe(int argc, char **argv);
extern const char nl_cli_help_probe[];

const char nl_cli_help_probe[] = "log into a camera, print its info and measure a stream";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: neolink-cli probe --address HOST[:PORT] [options]\n"
            "  --address HOST[:PORT]   camera address (port 9000 by default; IPv6 as [::1]:9000)\n"
            "  --user U                user name (default admin)\n"
            "  --password P            password (default empty)\n"
            "  --stream S[,S...]       main|sub|extern, several at once allowed (default main)\n"
            "  --both                  the same as --stream main,sub\n"
            "  --seconds N             how long to receive (default 5; 0 = log in only)\n"
            "  --max-encryption E      none|bc|aes: highest encryption offered (default aes)\n"
            "  --timeout S             connect and login timeout in seconds (default 10)\n"
            "  --log-level LEVEL       error|warn|info|debug|trace (default error)\n"
            "Exit status 0 on success, 1 with a one-line reason on failure, 2 on bad usage.\n");
}

typedef struct stream_rec {
    int wanted;
    int started;
    uint64_t frames, keyframes, audio;
    uint64_t video_bytes;
    int64_t first_pts, last_pts;
    uint64_t backsteps; /* pts not strictly increasing */
    int codec;          /* nl_media_codec of the video */
    int width, height;
} stream_rec;

typedef struct probe {
    nl_camera *cam;
    stream_rec s[NL_CAMERA_STREAM_COUNT];
    int ready_printed;
    int failed; /* exit with the camera's error */
    char reason[512];
    int closed;
    int64_t recv_since_ms; /* first STARTED */
} probe;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_to_stderr(void *ud, nl_log_level level, const char *line)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    (void)ud;
    fprintf(stderr, "%-5s %s\n", names[level <= NL_LOG_TRACE ? level : NL_LOG_TRACE], line);
}

static void print_device(probe *p)
{
    nl_camera_device_info di;
    if (nl_camera_get_device_info(p->cam, &di) < 0)
        return;
    printf("device: model %s, name %s, firmware %s, type %s", di.model[0] ? di.model : "?",
           di.name[0] ? di.name : "?", di.firmware[0] ? di.firmware : "?",
           di.type[0] ? di.type : "?");
    if (di.width)
        printf(", %ux%u", (unsigned)di.width, (unsigned)di.height);
    printf(", channels %u\n", (unsigned)di.channels);
    printf("encryption: %s (0x%02x)\n", nl_camera_encryption_name(di.encryption),
           (unsigned)di.encryption);
    for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
        if (di.stream[k].width)
            printf("camera lists %s stream: %ux%u @ %u fps, %u kbit/s\n",
                   nl_camera_stream_name((nl_camera_stream)k), (unsigned)di.stream[k].width,
                   (unsigned)di.stream[k].height, (unsigned)di.stream[k].fps,
                   (unsigned)di.stream[k].bitrate_kbps);
    fflush(stdout);
}

static void on_state(void *ud, nl_camera *cam, nl_camera_state st, int err)
{
    probe *p = ud;
    if ((st == NL_CAMERA_READY || st == NL_CAMERA_STREAMING) && !p->ready_printed) {
        p->ready_printed = 1;
        print_device(p);
    }
    if (st != NL_CAMERA_CLOSED)
        return;
    p->closed = 1;
    if (err && !p->failed) {
        p->failed = 1;
        if (err == NL_EAUTH)
            snprintf(p->reason, sizeof p->reason, "%s", nl_strerror(err));
        else
            snprintf(p->reason, sizeof p->reason, "%s", nl_camera_last_error_detail(cam));
    }
}

static void on_stream(void *ud, nl_camera *cam, nl_camera_stream s, nl_camera_stream_event ev,
                      int err)
{
    probe *p = ud;
    (void)cam;
    if (ev == NL_CAMERA_STREAM_STARTED) {
        p->s[s].started = 1;
        if (!p->recv_since_ms)
            p->recv_since_ms = mono_ms();
    } else if (ev == NL_CAMERA_STREAM_FAILED && !p->failed && err != 0) {
        /* A connection failure is reported by on_state with its detail. */
        if (nl_camera_last_error(cam) == 0) {
            p->failed = 1;
            snprintf(p->reason, sizeof p->reason, "%s stream failed: %s", nl_camera_stream_name(s),
                     nl_strerror(err));
        }
    }
}

static void on_params(void *ud, nl_camera *cam, nl_camera_stream s, const AVCodecParameters *par)
{
    probe *p = ud;
    (void)cam;
    p->s[s].width = par->width;
    p->s[s].height = par->height;
}

static void on_packet(void *ud, nl_camera *cam, nl_camera_stream s, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    probe *p = ud;
    (void)cam;
    stream_rec *r = &p->s[s];
    if (meta->kind != NL_MEDIA_KIND_IFRAME && meta->kind != NL_MEDIA_KIND_PFRAME) {
        r->audio++;
        return;
    }
    if (r->frames && pkt->pts <= r->last_pts)
        r->backsteps++;
    if (!r->frames)
        r->first_pts = pkt->pts;
    r->last_pts = pkt->pts;
    r->frames++;
    r->video_bytes += (uint64_t)pkt->size;
    if (pkt->flags & AV_PKT_FLAG_KEY)
        r->keyframes++;
    r->codec = meta->codec;
}

static void print_stream(probe *p, int k)
{
    stream_rec *r = &p->s[k];
    printf("stream %s: ", nl_camera_stream_name((nl_camera_stream)k));
    if (!r->frames) {
        printf("no video\n");
        return;
    }
    printf("%s", nl_media_codec_name((nl_media_codec)r->codec));
    if (r->width)
        printf(" %dx%d", r->width, r->height);
    printf(", %" PRIu64 " frames (%" PRIu64 " keyframes)", r->frames, r->keyframes);
    /* Camera time: N frames span N intervals, the last one estimated. */
    if (r->frames > 1 && r->last_pts > r->first_pts) {
        double span = (double)(r->last_pts - r->first_pts) * (double)r->frames /
                      (double)(r->frames - 1) / 1e6;
        printf(", %.2f fps, %.0f kbit/s over %.2f s of camera time", (double)r->frames / span,
               (double)r->video_bytes * 8.0 / span / 1000.0, span);
    }
    nl_media_audio_format af;
    if (r->audio && nl_camera_stream_audio(p->cam, (nl_camera_stream)k, &af) == 0)
        printf(", audio %s %d Hz (%" PRIu64 " packets)", nl_media_codec_name(af.codec),
               af.sample_rate, r->audio);
    printf(", timestamps %s\n", r->backsteps ? "NOT increasing" : "strictly increasing");
}

/* HOST, HOST:PORT or [V6]:PORT. */
static int parse_address(const char *s, char *host, size_t n, uint16_t *port)
{
    const char *h = s, *colon = NULL;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || (rb[1] && rb[1] != ':'))
            return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb[1] ? rb + 1 : NULL;
    } else {
        colon = strrchr(s, ':');
        if (colon && strchr(s, ':') != colon)
            colon = NULL; /* a bare IPv6 address */
        hl = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (!hl || hl >= n)
        return -1;
    *port = 9000;
    if (colon) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || v == 0 || v > 65535)
            return -1;
        *port = (uint16_t)v;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    return 0;
}

static int parse_streams(const char *s, probe *p)
{
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char word[32];
        if (!n || n >= sizeof word)
            return -1;
        memcpy(word, s, n);
        word[n] = '\0';
        int k = nl_camera_stream_parse(word);
        if (k < 0)
            return -1;
        p->s[k].wanted = 1;
        s += n + (comma ? 1 : 0);
    }
    return 0;
}

static int bad(const char *opt, const char *val)
{
    fprintf(stderr, "probe: bad value for --%s: '%s' (see --help)\n", opt, val);
    return 2;
}

enum {
    OPT_ADDRESS = 256,
    OPT_USER,
    OPT_PASSWORD,
    OPT_STREAM,
    OPT_BOTH,
    OPT_SECONDS,
    OPT_MAXENC,
    OPT_TIMEOUT,
    OPT_LOG,
    OPT_HELP
};

static const struct option long_opts[] = {
    {"address", required_argument, 0, OPT_ADDRESS},
    {"user", required_argument, 0, OPT_USER},
    {"password", required_argument, 0, OPT_PASSWORD},
    {"stream", required_argument, 0, OPT_STREAM},
    {"both", no_argument, 0, OPT_BOTH},
    {"seconds", required_argument, 0, OPT_SECONDS},
    {"max-encryption", required_argument, 0, OPT_MAXENC},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"log-level", required_argument, 0, OPT_LOG},
    {"help", no_argument, 0, OPT_HELP},
    {0, 0, 0, 0},
};

static int parse_seconds(const char *s, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Runs the loop until the probe is done; returns the exit code. */
static int run(nl_loop *loop, probe *p, double seconds)
{
    int closing = 0;
    int64_t close_by = 0;
    for (;;) {
        if (p->closed)
            break;
        int64_t now = mono_ms();
        int ready = p->ready_printed;
        int all_started = 1;
        for (int k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
            if (p->s[k].wanted && !p->s[k].started)
                all_started = 0;
        int done = g_stop || p->failed || (ready && seconds == 0) ||
                   (all_started && p->recv_since_ms &&
                    now - p->recv_since_ms >= (int64_t)(seconds * 1000));
        if (done && !closing) {
            closing = 1;
            close_by = now + 3000;
            nl_camera_close(p->cam, 2000);
        }
        if (closing && now > close_by)
            break; /* cannot happen: the close deadline is shorter */
        int rc = nl_loop_run_once(loop, 50);
        if (rc < 0 && rc != NL_EINTR) {
            snprintf(p->reason, sizeof p->reason, "event loop failed: %s", nl_strerror(rc));
            return 1;
        }
    }
    if (p->failed)
        return 1;
    if (g_stop) {
        snprintf(p->reason, sizeof p->reason, "interrupted");
        return 1;
    }
    return 0;
}

int nl_cli_cmd_probe(int argc, char **argv)
{
    probe p;
    memset(&p, 0, sizeof p);
    char host[256] = "";
    nl_camera_config cfg;
    nl_camera_config_init(&cfg);
    double seconds = 5, timeout = 10;
    nl_log_level level = NL_LOG_ERROR;
    int ch, k;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        const char *name =
            ch >= OPT_ADDRESS && ch <= OPT_HELP ? long_opts[ch - OPT_ADDRESS].name : "?";
        switch (ch) {
        case OPT_ADDRESS:
            if (parse_address(optarg, host, sizeof host, &cfg.port) < 0)
                return bad(name, optarg);
            break;
        case OPT_USER:
            cfg.username = optarg;
            break;
        case OPT_PASSWORD:
            cfg.password = optarg;
            break;
        case OPT_STREAM:
            if (parse_streams(optarg, &p) < 0)
                return bad(name, optarg);
            break;
        case OPT_BOTH:
            p.s[NL_CAMERA_STREAM_MAIN].wanted = p.s[NL_CAMERA_STREAM_SUB].wanted = 1;
            break;
        case OPT_SECONDS:
            if (parse_seconds(optarg, 86400, &seconds) < 0)
                return bad(name, optarg);
            break;
        case OPT_MAXENC:
            if ((k = nl_camera_encryption_parse(optarg)) < 0)
                return bad(name, optarg);
            cfg.max_encryption = (nl_camera_encryption)k;
            break;
        case OPT_TIMEOUT:
            if (parse_seconds(optarg, 3600, &timeout) < 0 || timeout < 0.001)
                return bad(name, optarg);
            break;
        case OPT_LOG:
            if ((k = nl_log_level_parse(optarg)) < 0)
                return bad(name, optarg);
            level = (nl_log_level)k;
            break;
        case OPT_HELP:
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !host[0]) {
        if (!host[0])
            fprintf(stderr, "probe: --address is required\n");
        else
            fprintf(stderr, "probe: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    int any = 0;
    for (k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
        any |= p.s[k].wanted;
    if (!any)
        p.s[NL_CAMERA_STREAM_MAIN].wanted = 1;
    if (seconds == 0)
        for (k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
            p.s[k].wanted = 0;
    cfg.host = host;
    cfg.name = host;
    cfg.connect_timeout_ms = (uint32_t)(timeout * 1000);
    cfg.login_timeout_ms = (uint32_t)(timeout * 1000);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    nl_ctx_config cc = {.log_fn = log_to_stderr, .log_level = level};
    nl_ctx *ctx = NULL;
    nl_loop *loop = NULL;
    int rc = nl_ctx_create(&ctx, &cc);
    if (rc == 0)
        rc = nl_loop_create(&loop);
    nl_camera_callbacks cb = {.ud = &p,
                              .on_state = on_state,
                              .on_stream = on_stream,
                              .on_packet = on_packet,
                              .on_params = on_params};
    if (rc == 0)
        rc = nl_camera_create(&p.cam, ctx, loop, &cfg, &cb);
    if (rc < 0) {
        fprintf(stderr, "probe: %s\n", nl_strerror(rc));
        nl_loop_destroy(&loop);
        nl_ctx_destroy(&ctx);
        return rc == NL_ECONFIG ? 2 : 1;
    }
    rc = nl_camera_connect(p.cam);
    for (k = 0; rc == 0 && k < NL_CAMERA_STREAM_COUNT; k++)
        if (p.s[k].wanted)
            rc = nl_camera_start_stream(p.cam, (nl_camera_stream)k);
    int code;
    if (rc < 0 && !p.failed) {
        code = 1;
        snprintf(p.reason, sizeof p.reason, "%s", nl_strerror(rc));
    } else {
        code = run(loop, &p, seconds);
    }
    if (code == 0) {
        for (k = 0; k < NL_CAMERA_STREAM_COUNT; k++)
            if (p.s[k].wanted)
                print_stream(&p, k);
        for (k = 0; k < NL_CAMERA_STREAM_COUNT; k++) {
            if (p.s[k].wanted && !p.s[k].frames) {
                snprintf(p.reason, sizeof p.reason, "no video received on the %s stream",
                         nl_camera_stream_name((nl_camera_stream)k));
                code = 1;
            }
        }
    }
    if (code != 0)
        fprintf(stderr, "probe: %s\n", p.reason[0] ? p.reason : "failed");
    nl_camera_destroy(&p.cam);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    return code;
}
