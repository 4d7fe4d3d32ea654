/* `neolink-cli health [URL]` against the real endpoint and against peers
 * that misbehave: 200 -> exit 0; 404/503/302 (not followed) -> exit 1 with
 * the status; refused, silent (2 s deadline), closing and non-HTTP peers,
 * bad URLs -> exit 1 with a one-line reason. The CLI is $NL_CLI (set by
 * ctest); without it the test skips. */
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>

#include "http_test_util.h"

extern char **environ;

static const char *cli;
static int target_calls;

static void h_ok(void *ud, const nl_http_request *req, nl_http_response *r)
{
    nl_http_body_append(r, "ok\n", 3);
}

static void h_status(void *ud, const nl_http_request *req, nl_http_response *r)
{
    r->status = *(int *)ud;
    nl_http_body_printf(r, "status %d\n", r->status);
}

static void h_target(void *ud, const nl_http_request *req, nl_http_response *r)
{
    target_calls++;
}

/* What a raw peer does with each connection it accepts. */
typedef enum raw_mode { RAW_NONE, RAW_SILENT, RAW_CLOSE, RAW_SSH } raw_mode;
static int raw_lfd = -1;
static raw_mode raw_how;
static int raw_conns[8];
static int nraw;

static uint16_t raw_listen(raw_mode how)
{
    raw_lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    NL_ASSERT_EQ(bind(raw_lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    NL_ASSERT_EQ(listen(raw_lfd, 4), 0);
    socklen_t sl = sizeof sa;
    getsockname(raw_lfd, (struct sockaddr *)&sa, &sl);
    raw_how = how;
    nraw = 0;
    return ntohs(sa.sin_port);
}

static void raw_step(void)
{
    if (raw_lfd < 0)
        return;
    int fd = accept4(raw_lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (raw_how == RAW_CLOSE || raw_how == RAW_SSH) {
        /* Take the request first: closing on unread bytes would turn the
         * close into a reset and make the client's view racy. */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        char sink[4096];
        if (poll(&pfd, 1, 1000) == 1)
            (void)!recv(fd, sink, sizeof sink, 0);
    }
    if (raw_how == RAW_SSH) {
        const char *banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
        (void)send(fd, banner, strlen(banner), MSG_NOSIGNAL);
    }
    if (raw_how == RAW_CLOSE || raw_how == RAW_SSH) {
        close(fd);
        return;
    }
    raw_conns[nraw++ % 8] = fd; /* silent: hold it open, say nothing */
}

static void raw_stop(void)
{
    for (int i = 0; i < nraw && i < 8; i++)
        close(raw_conns[i]);
    if (raw_lfd >= 0)
        close(raw_lfd);
    raw_lfd = -1;
    nraw = 0;
}

/* Runs the CLI with up to two arguments while pumping the loop (and the raw
 * peer). Returns the exit code; *err receives stderr, *ms the run time. */
static int run_health(const char *a1, const char *a2, char *err, size_t cap, long long *ms)
{
    int p[2];
    NL_ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)cli, "health", (char *)a1, (char *)a2, NULL};
    pid_t pid;
    long long t0 = t_now_ms();
    NL_ASSERT_EQ(posix_spawn(&pid, cli, &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    size_t len = 0;
    int status = 0;
    long long limit = t_slow() ? 60000 : 10000;
    for (;;) {
        if (t_loop)
            nl_loop_run_once(t_loop, 2);
        else
            usleep(2000);
        raw_step();
        ssize_t n = read(p[0], err + len, cap - 1 - len);
        if (n > 0)
            len += (size_t)n;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (t_now_ms() - t0 > limit) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            NL_FAIL("health did not exit within %lld ms", limit);
        }
    }
    *ms = t_now_ms() - t0;
    ssize_t n;
    while ((n = read(p[0], err + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(p[0]);
    NL_ASSERT(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static char url[256], err[4096];

static int expect_fail(const char *u, const char *reason_part)
{
    long long ms;
    int rc = run_health(u, NULL, err, sizeof err, &ms);
    NL_ASSERT_EQ(rc, 1);
    if (!strstr(err, reason_part))
        NL_FAIL("health %s: stderr '%s' lacks '%s'", u, err, reason_part);
    /* exactly one line */
    NL_ASSERT(!strncmp(err, "health: ", 8));
    NL_ASSERT(strchr(err, '\n') == err + strlen(err) - 1);
    return (int)ms;
}

static void test_against_endpoint(void)
{
    static int s404 = 404, s503 = 503, s302 = 302;
    t_start(NULL);
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/healthz", h_ok, NULL));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/starting", h_status, &s503));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/moved", h_status, &s302));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/gone", h_status, &s404));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/target", h_target, NULL));
    uint16_t port = nl_http_server_port(t_srv);
    long long ms;

    snprintf(url, sizeof url, "http://127.0.0.1:%u/healthz", port);
    NL_ASSERT_EQ(run_health(url, NULL, err, sizeof err, &ms), 0);
    NL_ASSERT_STREQ(err, "");
    snprintf(url, sizeof url, "http://localhost:%u/healthz?probe=docker#frag", port);
    NL_ASSERT_EQ(run_health(url, NULL, err, sizeof err, &ms), 0);

    snprintf(url, sizeof url, "http://127.0.0.1:%u/nothing", port);
    expect_fail(url, ": HTTP 404 Not Found");
    NL_ASSERT(strstr(err, url) != NULL); /* names what it asked */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/gone", port);
    expect_fail(url, "HTTP 404");
    snprintf(url, sizeof url, "http://127.0.0.1:%u/starting", port);
    expect_fail(url, "HTTP 503 Service Unavailable");
    snprintf(url, sizeof url, "http://127.0.0.1:%u/moved", port);
    expect_fail(url, "HTTP 302 Found");
    NL_ASSERT_EQ(target_calls, 0); /* no redirect followed */

    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.requests, 6);
    NL_ASSERT_UEQ(st.errors, 0); /* every request was well-formed */
    t_stop();
}

/* The default URL is http://127.0.0.1:9090/healthz: exercised when 9090 is
 * free on this machine. */
static void test_default_url(void)
{
    NL_ASSERT_OK(nl_ctx_create(&t_ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&t_loop));
    nl_http_config cfg = {.host = "127.0.0.1", .port = 9090};
    if (nl_http_server_create(&t_srv, t_loop, t_ctx, &cfg) < 0) {
        printf("  (port 9090 busy; default URL not exercised)\n");
        nl_loop_destroy(&t_loop);
        nl_ctx_destroy(&t_ctx);
        return;
    }
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/healthz", h_ok, NULL));
    long long ms;
    NL_ASSERT_EQ(run_health(NULL, NULL, err, sizeof err, &ms), 0);
    t_stop();
}

static void test_misbehaving_peers(void)
{
    /* nobody listening */
    uint16_t port = raw_listen(RAW_NONE);
    raw_stop();
    snprintf(url, sizeof url, "http://127.0.0.1:%u/healthz", port);
    int ms = expect_fail(url, "cannot connect to 127.0.0.1:");
    NL_ASSERT(strstr(err, "Connection refused") != NULL);
    NL_ASSERT(ms < 1500);

    /* accepts, never answers: the 2 s deadline */
    port = raw_listen(RAW_SILENT);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/healthz", port);
    ms = expect_fail(url, "no answer within 2 s");
    raw_stop();
    printf("  silent peer: gave up after %d ms\n", ms);
    NL_ASSERT(ms >= 1900);
    NL_ASSERT(ms < (t_slow() ? 20000 : 3500));

    /* reads the request, closes without a word */
    port = raw_listen(RAW_CLOSE);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
    expect_fail(url, "connection closed without an answer");
    raw_stop();

    /* not HTTP */
    port = raw_listen(RAW_SSH);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
    expect_fail(url, "not an HTTP/1.x answer");
    raw_stop();
}

static void test_bad_urls(void)
{
    const char *bad[] = {"https://127.0.0.1/healthz",
                         "127.0.0.1:9090/healthz",
                         "http://",
                         "http://:9090/",
                         "http://h:0/",
                         "http://h:65536/",
                         "http://h:9x/",
                         "http://user:secret@127.0.0.1:9090/",
                         "http://[::1/",
                         "http://h/a b",
                         NULL};
    for (int i = 0; bad[i]; i++)
        expect_fail(bad[i], "bad URL");
    long long ms;
    NL_ASSERT_EQ(run_health("http://a/", "extra", err, sizeof err, &ms), 1);
    NL_ASSERT(strstr(err, "usage") != NULL);
    NL_ASSERT_EQ(run_health("--help", NULL, err, sizeof err, &ms), 0);
}

static void test_ipv6(void)
{
    NL_ASSERT_OK(nl_ctx_create(&t_ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&t_loop));
    nl_http_config cfg = {.host = "::1"};
    if (nl_http_server_create(&t_srv, t_loop, t_ctx, &cfg) < 0) {
        printf("  (no IPv6 loopback; skipped)\n");
        nl_loop_destroy(&t_loop);
        nl_ctx_destroy(&t_ctx);
        return;
    }
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/healthz", h_ok, NULL));
    snprintf(url, sizeof url, "http://[::1]:%u/healthz", nl_http_server_port(t_srv));
    long long ms;
    NL_ASSERT_EQ(run_health(url, NULL, err, sizeof err, &ms), 0);
    t_stop();
}

int main(void)
{
    cli = getenv("NL_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        printf("FAIL: NL_CLI must point at neolink-cli (ctest sets it)\n");
        return 1;
    }
    NL_RUN(test_against_endpoint);
    NL_RUN(test_default_url);
    NL_RUN(test_misbehaving_peers);
    NL_RUN(test_bad_urls);
    NL_RUN(test_ipv6);
    NL_DONE();
}
