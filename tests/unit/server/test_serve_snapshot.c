/* GET /snapshot/NAME.jpg with the server and a simulated camera in one
 * loop: a cold request starts the on-demand stream, waits for its key frame
 * and gets a JPEG of the stream's size (read from the JPEG's SOF marker);
 * the stream stops again after idle_linger; concurrent requests share one
 * decode; a reload that removes the camera answers its waiting request 503;
 * a shutdown with a decode running ends in time and leaves no thread
 * (hw stats) or allocation behind (valgrind in the plain build). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"
#include "neolink/server.h"
#include "neolink/sim.h"
#include "server/server_int.h"
#include "server/snapshot.h"
#define SERVE_TEST_HTTP "127.0.0.1:0" /* the snapshots are fetched over HTTP */
#include "serve_test_util.h"
#include "test.h"

static nl__camera_rt *rt_named(nl_server *srv, const char *name)
{
    nl_list_foreach(it, &srv->cameras)
    {
        nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        if (!strcmp(rt->name, name))
            return rt;
    }
    return NULL;
}

static bool formats_known(void *ud)
{
    nl__camera_rt *rt = ud;
    return rt->hub[0] && rt->hub[0]->mounts_final && rt->hub[1] && rt->hub[1]->mounts_final;
}

static bool streams_idle(void *ud)
{
    nl_server_stats st;
    nl_server_get_stats(ud, &st);
    return st.streams_active == 0;
}

static bool srv_done(void *ud)
{
    return ((nl_server *)ud)->state == NL_SRV_DONE;
}

/* ---------------------------------------------------------------- client */

typedef struct client {
    int fd;
    char buf[256 * 1024];
    size_t len;
    bool closed;
} client;

static void client_open(client *c, nl_server *srv, const char *path)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    NL_ASSERT(c->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(nl_server_http_port(srv))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(c->fd, (struct sockaddr *)&sa, sizeof sa);
    NL_ASSERT(rc == 0 || errno == EINPROGRESS);
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    /* Loopback: the handshake completes from the backlog. */
    for (int i = 0; i < 100; i++) {
        if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) == n)
            return;
        nl_loop_run_once(loop, 5);
    }
    NL_FAIL("cannot send the request");
}

static bool client_done(void *ud)
{
    client *c = ud;
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            c->closed = true;
        break;
    }
    c->buf[c->len] = '\0';
    return c->closed;
}

static void client_close(client *c)
{
    close(c->fd);
    c->fd = -1;
}

static int status_of(const client *c)
{
    return strncmp(c->buf, "HTTP/1.1 ", 9) ? -1 : atoi(c->buf + 9);
}

static const uint8_t *body_of(const client *c, size_t *len)
{
    const char *b = strstr(c->buf, "\r\n\r\n");
    if (!b)
        return NULL;
    b += 4;
    *len = c->len - (size_t)(b - c->buf);
    return (const uint8_t *)b;
}

/* Width and height from the JPEG's baseline SOF0 marker; false if absent. */
static bool jpeg_size(const uint8_t *p, size_t n, int *w, int *h)
{
    if (n < 4 || p[0] != 0xff || p[1] != 0xd8 || p[n - 2] != 0xff || p[n - 1] != 0xd9)
        return false;
    for (size_t i = 2; i + 9 < n;) {
        if (p[i] != 0xff)
            return false;
        uint8_t m = p[i + 1];
        size_t seglen = (size_t)p[i + 2] << 8 | p[i + 3];
        if (m == 0xc0) {
            *h = p[i + 5] << 8 | p[i + 6];
            *w = p[i + 7] << 8 | p[i + 8];
            return true;
        }
        i += 2 + seglen;
    }
    return false;
}

static void expect_jpeg(client *c, int w, int h)
{
    NL_ASSERT_EQ(status_of(c), 200);
    NL_ASSERT(strstr(c->buf, "Content-Type: image/jpeg\r\n") != NULL);
    size_t n = 0;
    const uint8_t *b = body_of(c, &n);
    NL_ASSERT(b != NULL);
    int jw = 0, jh = 0;
    NL_ASSERT(jpeg_size(b, n, &jw, &jh));
    NL_ASSERT_EQ(jw, w);
    NL_ASSERT_EQ(jh, h);
    char clen[64];
    snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", n);
    NL_ASSERT(strstr(c->buf, clen) != NULL);
}

static uint64_t threads_running(void)
{
    nl_hw_stats hs;
    NL_ASSERT_OK(nl_hw_get_stats(&hs, sizeof hs));
    return hs.workers_running;
}

/* ---------------------------------------------------------------- tests */

static client cl[8];

static void test_cold_and_coalesced(void)
{
    setup();
    nl_sim *sim = start_sim(0, NULL);
    nl_server *srv = start_server(load("cameras:\n  - name: cam1\n    address: 127.0.0.1:%u\n"
                                       "    stream: both\n    idle_linger: 200ms\n",
                                       nl_sim_port(sim)));
    nl__camera_rt *rt = rt_named(srv, "cam1");
    NL_ASSERT(pump(10000, formats_known, rt));
    NL_ASSERT(pump(5000, streams_idle, srv));
    uint64_t runs = rt->hub[0]->runs;

    /* Cold: the main stream starts for the request. */
    uint64_t t0 = nl_time_mono_ns();
    client_open(&cl[0], srv, "/snapshot/cam1.jpg");
    NL_ASSERT(pump(10000, client_done, &cl[0]));
    printf("  cold snapshot in %.3f s\n", (double)(nl_time_mono_ns() - t0) / 1e9);
    expect_jpeg(&cl[0], 320, 240);
    client_close(&cl[0]);
    NL_ASSERT_EQ(rt->hub[0]->runs, runs + 1);
    NL_ASSERT(rt->hub[0]->snap != NULL);
    NL_ASSERT(rt->hub[1]->snap == NULL); /* the sub stream was never asked for */
    /* Nobody waits any more: the stream stops after idle_linger. */
    NL_ASSERT(!nl__snap_hub_wanted(rt->hub[0]));
    NL_ASSERT(pump(3000, streams_idle, srv));

    /* The sub stream by query, then 8 at once on the main stream once the
     * cached JPEG is older than a second: one decode for all. */
    client_open(&cl[0], srv, "/snapshot/cam1.jpg?stream=sub");
    NL_ASSERT(pump(10000, client_done, &cl[0]));
    expect_jpeg(&cl[0], 256, 144);
    client_close(&cl[0]);
    NL_ASSERT(pump(1200, NULL, NULL));
    NL_ASSERT(pump(3000, streams_idle, srv));
    NL_ASSERT(srv->snap != NULL);
    nl_hw_stats before;
    NL_ASSERT_OK(nl_hw_get_stats(&before, sizeof before));
    for (int i = 0; i < 8; i++)
        client_open(&cl[i], srv, "/snapshot/cam1.jpg");
    for (int i = 0; i < 8; i++) {
        NL_ASSERT(pump(10000, client_done, &cl[i]));
        expect_jpeg(&cl[i], 320, 240);
        client_close(&cl[i]);
    }
    nl_hw_stats after;
    NL_ASSERT_OK(nl_hw_get_stats(&after, sizeof after));
    printf("  8 concurrent requests: %llu JPEG encode(s)\n",
           (unsigned long long)(after.snapshots - before.snapshots));
    NL_ASSERT_UEQ(after.snapshots - before.snapshots, 1);

    /* Unknown camera: 404, answered at once. */
    client_open(&cl[0], srv, "/snapshot/nope.jpg");
    NL_ASSERT(pump(2000, client_done, &cl[0]));
    NL_ASSERT_EQ(status_of(&cl[0]), 404);
    client_close(&cl[0]);

    nl_server_shutdown(srv, 1000, NULL, NULL);
    NL_ASSERT(pump(1500, srv_done, srv));
    nl_server_destroy(&srv);
    NL_ASSERT_UEQ(threads_running(), 0);
    nl_sim_destroy(&sim);
    teardown();
}

static bool waiting(void *ud)
{
    nl__snap_figures f;
    nl__snap_hub_figures(ud, &f);
    return f.waiting == 1 && f.keys == 0;
}

static bool job_running(void *ud)
{
    nl__snap_figures f;
    nl__snap_hub_figures(ud, &f);
    return f.job;
}

static void test_reload_and_shutdown(void)
{
    setup();
    nl_sim *sim = start_sim(0, NULL);
    uint16_t port = nl_sim_port(sim);
    nl_server *srv = start_server(load("cameras:\n"
                                       "  - name: a\n    address: 127.0.0.1:%u\n    stream: sub\n"
                                       "  - name: b\n    address: 127.0.0.1:%u\n    stream: sub\n",
                                       port, port));
    nl__camera_rt *a = rt_named(srv, "a");
    nl__camera_rt *b = rt_named(srv, "b");
    /* Asked while still connecting: the request waits for the login, the
     * stream and its first key frame; the reload removes the camera first. */
    client_open(&cl[0], srv, "/snapshot/a.jpg");
    NL_ASSERT(pump(3000, waiting, a->hub[1]));
    NL_ASSERT_OK(nl_server_reload(
        srv, load("cameras:\n  - name: b\n    address: 127.0.0.1:%u\n    stream: sub\n", port)));
    NL_ASSERT(pump(2000, client_done, &cl[0]));
    NL_ASSERT_EQ(status_of(&cl[0]), 503);
    NL_ASSERT(strstr(cl[0].buf, "removed or reconfigured") != NULL);
    client_close(&cl[0]);

    /* Shutdown with a decode on its thread: ends in time, nothing left. */
    NL_ASSERT(pump(5000, formats_known, b) || (b->hub[1] && b->hub[1]->mounts_final));
    NL_ASSERT(pump(5000, streams_idle, srv));
    client_open(&cl[1], srv, "/snapshot/b.jpg");
    bool caught = pump(5000, job_running, b->hub[1]);
    printf("  shutdown %s a decode running\n", caught ? "with" : "(decode already done) without");
    uint64_t t0 = nl_time_mono_ns();
    NL_ASSERT_OK(nl_server_shutdown(srv, 1000, NULL, NULL));
    NL_ASSERT(pump(1500, srv_done, srv));
    nl_server_destroy(&srv);
    double took = (double)(nl_time_mono_ns() - t0) / 1e9;
    printf("  shutdown + destroy took %.3f s (budget 1 s)\n", took);
    NL_ASSERT(took <= 1.6 * slow());
    NL_ASSERT(client_done(&cl[1]));
    client_close(&cl[1]);
    NL_ASSERT_UEQ(threads_running(), 0);
    nl_sim_destroy(&sim);
    teardown();
}

int main(void)
{
    NL_RUN(test_cold_and_coalesced);
    NL_RUN(test_reload_and_shutdown);
    NL_DONE();
}
