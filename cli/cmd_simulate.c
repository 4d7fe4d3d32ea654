/* neolink-cli simulate: run a simulated Reolink camera (Baichuan server)
 * until SIGINT/SIGTERM. Prints "simulate: listening on HOST:PORT" on stdout
 * once it accepts connections (tests wait for that line), a status line on
 * SIGUSR1 (and every --status-interval seconds), and logs to stderr.
 *
 * The library's loop is embedded in a poll() on its fd plus a signalfd, so a
 * signal is handled within one poll wake-up and the exit is prompt. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/loop.h"
#include "neolink/sim.h"

int nl_cli_cmd_simulate(int argc, char **argv);
extern const char nl_cli_help_simulate[];

const char nl_cli_help_simulate[] = "run a simulated Reolink camera (Baichuan server) for tests";

/* Sanitizer builds: libx265 3.5 leaks inside every x265_encoder_open, which
 * would turn each H.265 run into a LeakSanitizer failure at exit. The hook
 * is only read by LeakSanitizer; other builds ignore it. Weak, so another
 * verb may define the same hook without a link conflict. */
__attribute__((visibility("default"), weak)) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"), weak)) const char *__lsan_default_suppressions(void)
{
    return "leak:libx265.so\n";
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: neolink-cli simulate [options]\n"
            "  --listen HOST:PORT      address to listen on (default 127.0.0.1:9000; port 0 =\n"
            "                          any free port; IPv6 as [::1]:9000)\n"
            "  --user U                user name (default admin)\n"
            "  --password P            password (default empty, the factory default)\n"
            "  --encryption LEVEL      none|bc|aes|fullaes: highest level agreed (default aes)\n"
            "  --codec h264|h265       video codec (default h264)\n"
            "  --audio aac|adpcm|none  audio (default aac)\n"
            "  --channels N            channels 1..%d (default 1)\n"
            "  --main WxH@FPS          main stream (default 1920x1080@25)\n"
            "  --sub WxH@FPS           sub stream (default 640x360@15)\n"
            "  --extern WxH@FPS|off    extern (third, medium) stream (default 896x512@15);\n"
            "                          off = a camera without one (its Preview gets 400)\n"
            "  --gop SECONDS           key frame interval (default 2)\n"
            "  --bitrate MAIN[,SUB[,EXTERN]]\n"
            "                          encoder targets in kbit/s (default 4096,512,1024)\n"
            "  --cheap                 encode one GOP per stream once and replay it\n"
            "  --fault KIND[:ARG]      repeatable: drop:N stall:N garbage:N truncate:N\n"
            "                          reject-login drip:BYTES restart:N clock-jump:N\n"
            "                          big-length[:N] (N in seconds, decimals allowed)\n"
            "  --motion-interval S     motion push period after msg 31 (default 5, 0 = off)\n"
            "  --keepalive S           send 234 heartbeats every S seconds (default off)\n"
            "  --max-connections N     default 256\n"
            "  --write-timeout S       drop a client that reads nothing for S s (default 10)\n"
            "  --status-interval S     print the status line every S seconds (default off)\n"
            "  --print-port            also print the bound port alone on a line\n"
            "  --log-level LEVEL       error|warn|info|debug|trace (default info)\n"
            "Signals: SIGINT/SIGTERM stop (exit within a second), SIGUSR1 prints the status.\n",
            NL_SIM_MAX_CHANNELS);
}

static void log_to_stderr(void *ud, nl_log_level level, const char *line)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld %-5s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, names[level <= NL_LOG_TRACE ? level : NL_LOG_TRACE], line);
}

/* Milliseconds from "2", "0.5", "1.25". */
static int parse_ms(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > 86400)
        return -1;
    *out = (uint32_t)(v * 1000.0 + 0.5);
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

/* "1280x720@25" (the @FPS part optional). */
static int parse_geometry(const char *s, nl_sim_stream_config *sc)
{
    unsigned w, h, fps = sc->fps;
    int n = 0;
    if (sscanf(s, "%ux%u%n", &w, &h, &n) != 2)
        return -1;
    if (s[n] == '@') {
        int m = 0;
        if (sscanf(s + n + 1, "%u%n", &fps, &m) != 1 || s[n + 1 + m])
            return -1;
    } else if (s[n]) {
        return -1;
    }
    sc->width = w;
    sc->height = h;
    sc->fps = fps;
    return 0;
}

/* HOST:PORT or [V6]:PORT into host (static storage in the caller). */
static int parse_listen(const char *s, char *host, size_t n, uint16_t *port)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - s);
    }
    if (!hl || hl >= n)
        return -1;
    unsigned long p;
    if (parse_uint(colon + 1, 65535, &p) < 0)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static int parse_choice(const char *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

enum {
    OPT_LISTEN = 256,
    OPT_USER,
    OPT_PASSWORD,
    OPT_ENCRYPTION,
    OPT_CODEC,
    OPT_AUDIO,
    OPT_CHANNELS,
    OPT_MAIN,
    OPT_SUB,
    OPT_EXTERN,
    OPT_GOP,
    OPT_BITRATE,
    OPT_CHEAP,
    OPT_FAULT,
    OPT_MOTION,
    OPT_KEEPALIVE,
    OPT_MAXCONN,
    OPT_WTIMEOUT,
    OPT_STATUS,
    OPT_PRINT_PORT,
    OPT_LOG_LEVEL,
    OPT_HELP,
};

static const struct option long_opts[] = {
    {"listen", required_argument, 0, OPT_LISTEN},
    {"user", required_argument, 0, OPT_USER},
    {"password", required_argument, 0, OPT_PASSWORD},
    {"encryption", required_argument, 0, OPT_ENCRYPTION},
    {"codec", required_argument, 0, OPT_CODEC},
    {"audio", required_argument, 0, OPT_AUDIO},
    {"channels", required_argument, 0, OPT_CHANNELS},
    {"main", required_argument, 0, OPT_MAIN},
    {"sub", required_argument, 0, OPT_SUB},
    {"extern", required_argument, 0, OPT_EXTERN},
    {"gop", required_argument, 0, OPT_GOP},
    {"bitrate", required_argument, 0, OPT_BITRATE},
    {"cheap", no_argument, 0, OPT_CHEAP},
    {"fault", required_argument, 0, OPT_FAULT},
    {"motion-interval", required_argument, 0, OPT_MOTION},
    {"keepalive", required_argument, 0, OPT_KEEPALIVE},
    {"max-connections", required_argument, 0, OPT_MAXCONN},
    {"write-timeout", required_argument, 0, OPT_WTIMEOUT},
    {"status-interval", required_argument, 0, OPT_STATUS},
    {"print-port", no_argument, 0, OPT_PRINT_PORT},
    {"log-level", required_argument, 0, OPT_LOG_LEVEL},
    {"help", no_argument, 0, OPT_HELP},
    {0, 0, 0, 0},
};

typedef struct opts {
    nl_sim_config cfg;
    char host[256];
    nl_log_level level;
    uint32_t status_ms;
    int print_port;
} opts;

static int bad(const char *opt, const char *val)
{
    fprintf(stderr, "simulate: bad value for --%s: '%s' (see --help)\n", opt, val);
    return 2;
}

/* Returns 0, 1 for --help, or 2 for a usage error. */
static int parse_args(int argc, char **argv, opts *o)
{
    static const char *const enc_names[] = {"none", "bc", "aes", "fullaes"};
    static const char *const codec_names[] = {"h264", "h265"};
    static const char *const audio_names[] = {"none", "aac", "adpcm"};
    nl_sim_config *c = &o->cfg;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        const char *name =
            ch >= OPT_LISTEN && ch <= OPT_HELP ? long_opts[ch - OPT_LISTEN].name : "?";
        unsigned long v;
        int k;
        switch (ch) {
        case OPT_LISTEN:
            if (parse_listen(optarg, o->host, sizeof o->host, &c->port) < 0)
                return bad(name, optarg);
            c->listen_host = o->host;
            break;
        case OPT_USER:
            c->user = optarg;
            break;
        case OPT_PASSWORD:
            c->password = optarg;
            break;
        case OPT_ENCRYPTION:
            if ((k = parse_choice(optarg, enc_names, 4)) < 0)
                return bad(name, optarg);
            c->encryption = (nl_sim_encryption)k;
            break;
        case OPT_CODEC:
            if ((k = parse_choice(optarg, codec_names, 2)) < 0)
                return bad(name, optarg);
            c->codec = (nl_sim_video_codec)k;
            break;
        case OPT_AUDIO:
            if ((k = parse_choice(optarg, audio_names, 3)) < 0)
                return bad(name, optarg);
            c->audio = (nl_sim_audio_codec)k;
            break;
        case OPT_CHANNELS:
            if (parse_uint(optarg, NL_SIM_MAX_CHANNELS, &v) < 0 || v < 1)
                return bad(name, optarg);
            c->channels = (unsigned)v;
            break;
        case OPT_MAIN:
        case OPT_SUB:
        case OPT_EXTERN: {
            /* OPT_MAIN, OPT_SUB, OPT_EXTERN follow the kinds' order. */
            int kind = NL_SIM_STREAM_MAIN + (ch - OPT_MAIN);
            if (kind == NL_SIM_STREAM_EXTERN && strcmp(optarg, "off") == 0) {
                c->stream[kind].width = c->stream[kind].height = 0;
                break;
            }
            if (parse_geometry(optarg, &c->stream[kind]) < 0)
                return bad(name, optarg);
            break;
        }
        case OPT_GOP:
            if (parse_ms(optarg, &c->gop_ms) < 0)
                return bad(name, optarg);
            break;
        case OPT_BITRATE: {
            /* MAIN[,SUB[,EXTERN]]: one number per kind, in the kinds' order. */
            const char *p = optarg;
            for (int kind = 0; kind < NL_SIM_STREAM_KINDS; kind++) {
                unsigned kbps;
                int n = 0;
                if (sscanf(p, "%u%n", &kbps, &n) != 1 || (p[n] != ',' && p[n]))
                    return bad(name, optarg);
                c->stream[kind].bitrate_kbps = kbps;
                p += n;
                if (!*p)
                    break;
                if (kind == NL_SIM_STREAM_KINDS - 1)
                    return bad(name, optarg);
                p++; /* the comma */
            }
            break;
        }
        case OPT_CHEAP:
            c->cheap = 1;
            break;
        case OPT_FAULT:
            if (c->nfaults >= NL_SIM_MAX_FAULTS) {
                fprintf(stderr, "simulate: at most %d --fault options\n", NL_SIM_MAX_FAULTS);
                return 2;
            }
            if (nl_sim_fault_parse(optarg, &c->faults[c->nfaults]) < 0)
                return bad(name, optarg);
            c->nfaults++;
            break;
        case OPT_MOTION:
            if (parse_ms(optarg, &c->motion_interval_ms) < 0)
                return bad(name, optarg);
            break;
        case OPT_KEEPALIVE:
            if (parse_ms(optarg, &c->keepalive_interval_ms) < 0)
                return bad(name, optarg);
            break;
        case OPT_MAXCONN:
            if (parse_uint(optarg, 65536, &v) < 0 || v < 1)
                return bad(name, optarg);
            c->max_connections = (unsigned)v;
            break;
        case OPT_WTIMEOUT:
            if (parse_ms(optarg, &c->write_timeout_ms) < 0)
                return bad(name, optarg);
            break;
        case OPT_STATUS:
            if (parse_ms(optarg, &o->status_ms) < 0)
                return bad(name, optarg);
            break;
        case OPT_PRINT_PORT:
            o->print_port = 1;
            break;
        case OPT_LOG_LEVEL:
            if ((k = nl_log_level_parse(optarg)) < 0)
                return bad(name, optarg);
            o->level = (nl_log_level)k;
            break;
        case OPT_HELP:
        case 'h':
            return 1;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "simulate: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_status(const nl_sim *sim)
{
    char line[512];
    nl_sim_status_line(sim, line, sizeof line);
    printf("%s\n", line);
    fflush(stdout);
}

/* Runs the loop until a stop signal. Returns the exit code. */
static int serve(nl_loop *loop, nl_sim *sim, int sfd, uint32_t status_ms)
{
    int64_t next_status = status_ms ? mono_ms() + status_ms : -1;
    for (;;) {
        int timeout = nl_loop_timeout_ms(loop);
        if (next_status >= 0) {
            int64_t left = next_status - mono_ms();
            if (left < 0)
                left = 0;
            if (timeout < 0 || left < timeout)
                timeout = (int)left;
        }
        struct pollfd pfd[2] = {{.fd = nl_loop_fd(loop), .events = POLLIN},
                                {.fd = sfd, .events = POLLIN}};
        int n = poll(pfd, 2, timeout);
        if (n < 0 && errno != EINTR) {
            perror("simulate: poll");
            return 1;
        }
        if (n > 0 && (pfd[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGUSR1) {
                    print_status(sim);
                    continue;
                }
                fprintf(stderr, "simulate: %s, stopping\n",
                        si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                return 0;
            }
        }
        int rc = nl_loop_run_once(loop, 0);
        if (rc < 0) {
            fprintf(stderr, "simulate: loop failed: %s\n", nl_strerror(rc));
            return 1;
        }
        if (next_status >= 0 && mono_ms() >= next_status) {
            print_status(sim);
            next_status = mono_ms() + status_ms;
        }
    }
}

int nl_cli_cmd_simulate(int argc, char **argv)
{
    opts o;
    memset(&o, 0, sizeof o);
    nl_sim_config_init(&o.cfg);
    o.level = NL_LOG_INFO;
    int prc = parse_args(argc, argv, &o);
    if (prc == 1) {
        usage(stdout);
        return 0;
    }
    if (prc) {
        usage(stderr);
        return 2;
    }

    /* Stop signals arrive on a signalfd: block them before any thread
     * starts, so every thread inherits the mask. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGUSR1);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
        perror("simulate: sigprocmask");
        return 1;
    }
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        perror("simulate: signalfd");
        return 1;
    }

    nl_ctx_config cc = {.log_fn = log_to_stderr, .log_ud = NULL, .log_level = o.level};
    nl_ctx *ctx = NULL;
    nl_loop *loop = NULL;
    nl_sim *sim = NULL;
    int rc = nl_ctx_create(&ctx, &cc);
    if (rc == 0)
        rc = nl_loop_create(&loop);
    if (rc == 0)
        rc = nl_sim_create(&sim, ctx, loop, &o.cfg);
    int code = 1;
    if (rc < 0) {
        fprintf(stderr, "simulate: cannot start on %s:%u: %s\n", o.cfg.listen_host, o.cfg.port,
                nl_strerror(rc));
    } else {
        const char *h = o.cfg.listen_host;
        int v6 = strchr(h, ':') != NULL;
        printf("simulate: listening on %s%s%s:%u\n", v6 ? "[" : "", h, v6 ? "]" : "",
               nl_sim_port(sim));
        if (o.print_port)
            printf("%u\n", nl_sim_port(sim));
        fflush(stdout);
        code = serve(loop, sim, sfd, o.status_ms);
    }
    nl_sim_destroy(&sim);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    close(sfd);
    return code;
}
