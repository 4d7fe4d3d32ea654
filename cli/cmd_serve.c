/* neolink-cli serve [CONFIG]: the product. Loads the configuration (or,
 * without one, runs the in-process demo camera), serves every camera over
 * RTSP until SIGTERM/SIGINT, reloads on SIGHUP.
 *
 * Signals are read from a signalfd polled next to the library's loop fd,
 * so no work happens in a signal handler. After the first SIGTERM/SIGINT
 * two tiny handlers take over, each doing only write(2) + _exit(2): a
 * second signal exits at once, and an interval timer ends the process at
 * shutdown_timeout should the graceful stop (itself bounded by a deadline
 * a little shorter) ever overrun.
 *
 * stdout carries the lines scripts wait for ("serve: ready" last, after
 * the URLs); logs go to stderr, one line per state change, never a
 * credential. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "neolink/config.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/loop.h"
#include "neolink/server.h"

int nl_cli_cmd_serve(int argc, char **argv);
extern const char nl_cli_help_serve[];

const char nl_cli_help_serve[] = "serve cameras over RTSP (no CONFIG: a simulated demo camera)";

#define ERR_BUF 16384

static void usage(FILE *out)
{
    fprintf(out, "usage: neolink-cli serve [CONFIG] [options]\n"
                 "  CONFIG, --config FILE  configuration (YAML, see 'neolink-cli check');\n"
                 "                         without one, a simulated camera is served as\n"
                 "                         rtsp://127.0.0.1:8554/demo\n"
                 "  --demo                 also serve the simulated camera \"demo\"\n"
                 "  --bind ADDR            RTSP listen address (overrides bind)\n"
                 "  --port N               RTSP port (overrides bind_port; 0 = any free port)\n"
                 "  --http HOST:PORT|off   /metrics /healthz /readyz endpoint (overrides http;\n"
                 "                         port 0 = any free port)\n"
                 "  --log-level LEVEL      error|warn|info|debug|trace (overrides log_level)\n"
                 "Signals: SIGTERM/SIGINT stop within shutdown_timeout (a second one exits at\n"
                 "once); SIGHUP reloads CONFIG (cameras added, changed, removed).\n"
                 "Test only: NEOLINK_TEST_BLOCK_LOOP=SECONDS blocks the event loop that long,\n"
                 "half a second after start (to prove the watchdog aborts).\n");
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

/* ---------------------------------------------------------------- last resorts */

static void say(const char *msg)
{
    ssize_t r = write(STDERR_FILENO, msg, strlen(msg));
    (void)r;
}

static void on_second_signal(int sig)
{
    (void)sig;
    say("serve: second signal: exiting now\n");
    _exit(1);
}

static void on_deadline(int sig)
{
    (void)sig;
    say("serve: shutdown_timeout passed: exiting now\n");
    _exit(1);
}

/* After the first stop signal: a second one ends the process at once, and
 * so does the end of the shutdown budget, even with the loop stuck. */
static void arm_last_resorts(uint64_t timeout_ns)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_second_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_deadline;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t)(timeout_ns / 1000000000u);
    it.it_value.tv_usec = (suseconds_t)(timeout_ns % 1000000000u / 1000u);
    if (!it.it_value.tv_sec && !it.it_value.tv_usec)
        it.it_value.tv_usec = 1;
    setitimer(ITIMER_REAL, &it, NULL);
    sigset_t un;
    sigemptyset(&un);
    sigaddset(&un, SIGTERM);
    sigaddset(&un, SIGINT);
    sigprocmask(SIG_UNBLOCK, &un, NULL);
}

/* ---------------------------------------------------------------- options */

typedef struct serve_args {
    const char *config;
    int demo;
    const char *bind;
    int port;
    const char *http;
    int log_level; /* -1: not given */
} serve_args;

static int parse_port(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

/* Returns 0, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, serve_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(arg, "--demo")) {
            a->demo = 1;
            continue;
        }
        if (arg[0] != '-' || !arg[1]) {
            if (a->config) {
                fprintf(stderr, "neolink-cli serve: only one CONFIG may be given\n");
                return 2;
            }
            a->config = arg;
            continue;
        }
        int takes = !strcmp(arg, "--config") || !strcmp(arg, "--bind") || !strcmp(arg, "--port") ||
                    !strcmp(arg, "--http") || !strcmp(arg, "--log-level");
        if (!takes) {
            fprintf(stderr, "neolink-cli serve: unknown option '%s'\n", arg);
            usage(stderr);
            return 2;
        }
        if (!val) {
            fprintf(stderr, "neolink-cli serve: %s needs a value\n", arg);
            return 2;
        }
        i++;
        if (!strcmp(arg, "--config")) {
            if (a->config) {
                fprintf(stderr, "neolink-cli serve: only one CONFIG may be given\n");
                return 2;
            }
            a->config = val;
        } else if (!strcmp(arg, "--bind")) {
            a->bind = val;
        } else if (!strcmp(arg, "--port")) {
            if (parse_port(val, &a->port) < 0) {
                fprintf(stderr, "neolink-cli serve: bad --port '%s'\n", val);
                return 2;
            }
        } else if (!strcmp(arg, "--http")) {
            a->http = val;
        } else {
            int lv = nl_log_level_parse(val);
            if (lv < 0) {
                fprintf(stderr, "neolink-cli serve: bad --log-level '%s'\n", val);
                return 2;
            }
            a->log_level = lv;
        }
    }
    if (!a->config)
        a->demo = 1;
    return 0;
}

static nl_config *load_config(const serve_args *a)
{
    static char err[ERR_BUF];
    nl_config *cfg = NULL;
    err[0] = '\0';
    if (!a->config) {
        int rc = nl_config_defaults(&cfg);
        if (rc < 0)
            fprintf(stderr, "neolink-cli serve: %s\n", nl_strerror(rc));
        return cfg;
    }
    unsigned flags = a->demo ? NL_CONFIG_ALLOW_NO_CAMERAS : 0;
    int rc = nl_config_load_file_ex(&cfg, a->config, flags, err, sizeof err);
    fputs(err, stderr); /* every error on failure, warnings on success */
    if (rc < 0 && !err[0])
        fprintf(stderr, "%s: %s\n", a->config, nl_strerror(rc));
    return rc < 0 ? NULL : cfg;
}

/* ---------------------------------------------------------------- URLs */

typedef struct url_ctx {
    char host[300];
    unsigned port;
} url_ctx;

static void print_path(void *ud, const char *camera, const char *path, bool alias)
{
    const url_ctx *u = ud;
    if (!alias)
        printf("serve:   rtsp://%s:%u%s  (camera %s)\n", u->host, u->port, path, camera);
}

static void url_host(const char *bind, char *out, size_t cap)
{
    if (!strcmp(bind, "0.0.0.0"))
        snprintf(out, cap, "127.0.0.1");
    else if (!strcmp(bind, "::"))
        snprintf(out, cap, "[::1]");
    else if (strchr(bind, ':'))
        snprintf(out, cap, "[%s]", bind);
    else
        snprintf(out, cap, "%s", bind);
}

static void print_urls(const nl_server *srv, const serve_args *a)
{
    const nl_config *cfg = nl_server_config(srv);
    url_ctx u;
    /* What the server bound: --bind, else loopback in demo mode, else `bind`. */
    const char *bind = a->bind ? a->bind : a->demo ? "127.0.0.1" : cfg->bind;
    url_host(bind, u.host, sizeof u.host);
    u.port = nl_server_rtsp_port(srv);
    printf("serve: listening on rtsp://%s:%u\n", u.host, u.port);
    printf("serve: open these URLs (each stream also answers to the usual aliases):\n");
    nl_server_foreach_path(srv, print_path, &u);
    uint16_t hp = nl_server_http_port(srv);
    if (hp)
        printf("serve: metrics on http port %u (/metrics /healthz /readyz)\n", hp);
    else
        printf("serve: http endpoint off\n");
    printf("serve: ready\n");
    fflush(stdout);
}

/* ---------------------------------------------------------------- main */

static void on_done(void *ud)
{
    *(int *)ud = 1;
}

static uint32_t test_block_ms(void)
{
    const char *s = getenv("NEOLINK_TEST_BLOCK_LOOP");
    if (!s || !*s)
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v <= 0 || v > 3600)
        return 0;
    return (uint32_t)(v * 1000.0);
}

static void reload(nl_server *srv, nl_ctx *ctx, const serve_args *a)
{
    if (!a->config) {
        fprintf(stderr, "serve: SIGHUP: no configuration file to reload\n");
        return;
    }
    fprintf(stderr, "serve: SIGHUP: reloading %s\n", a->config);
    nl_config *cfg = load_config(a);
    if (!cfg) {
        fprintf(stderr, "serve: %s is not valid: keeping the running configuration\n", a->config);
        return;
    }
    int rc = nl_server_reload(srv, cfg);
    if (rc < 0)
        fprintf(stderr, "serve: reload failed: %s\n", nl_strerror(rc));
}

int nl_cli_cmd_serve(int argc, char **argv)
{
    serve_args a = {.port = -1, .log_level = -1};
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc == 1 ? 0 : 2;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) {
        fprintf(stderr, "neolink-cli serve: signalfd: %s\n", strerror(errno));
        return 1;
    }

    nl_config *cfg = load_config(&a);
    if (!cfg) {
        close(sfd);
        return 1;
    }
    nl_ctx_config cc = {.log_fn = log_to_stderr,
                        .log_level = a.log_level >= 0 ? (nl_log_level)a.log_level : NL_LOG_INFO};
    nl_ctx *ctx = NULL;
    nl_loop *loop = NULL;
    nl_server *srv = NULL;
    int status = 1;
    if (nl_ctx_create(&ctx, &cc) < 0 || nl_loop_create(&loop) < 0) {
        fprintf(stderr, "neolink-cli serve: out of memory\n");
        nl_config_free(&cfg);
        goto out;
    }
    nl_server_options opt;
    nl_server_options_init(&opt);
    opt.bind = a.bind;
    opt.port = a.port;
    opt.http = a.http;
    opt.demo = a.demo;
    opt.log_level_locked = a.log_level >= 0;
    opt.test_block_loop_ms = test_block_ms();
    int rc = nl_server_create(&srv, ctx, loop, cfg, &opt); /* takes cfg */
    if (rc < 0) {
        fprintf(stderr, "neolink-cli serve: cannot start: %s\n", nl_strerror(rc));
        goto out;
    }
    print_urls(srv, &a);

    int done = 0, stopping = 0;
    while (!done) {
        struct pollfd p[2] = {{.fd = nl_loop_fd(loop), .events = POLLIN},
                              {.fd = sfd, .events = POLLIN}};
        int n = poll(p, 2, nl_loop_timeout_ms(loop));
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "neolink-cli serve: poll: %s\n", strerror(errno));
            break;
        }
        if (n > 0 && (p[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                if (si.ssi_signo == SIGHUP && !stopping) {
                    reload(srv, ctx, &a);
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    if (stopping)
                        on_second_signal((int)si.ssi_signo);
                    stopping = 1;
                    const nl_config *c = nl_server_config(srv);
                    uint64_t t =
                        c->shutdown_timeout_ns > 0 ? (uint64_t)c->shutdown_timeout_ns : 2000000000u;
                    fprintf(stderr, "serve: %s: stopping (at most %.1f s)\n",
                            si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT", (double)t / 1e9);
                    arm_last_resorts(t);
                    nl_server_shutdown(srv, (uint32_t)(t / 1000000u), on_done, &done);
                }
            }
        }
        nl_loop_run_once(loop, 0);
    }
    status = 0;
out:
    nl_server_destroy(&srv);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    close(sfd);
    if (status == 0)
        fprintf(stderr, "serve: stopped\n");
    return status;
}
