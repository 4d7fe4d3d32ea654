/* HTTP endpoint connection limits over real sockets: the per-connection
 * deadline against slowloris, idle and never-reading clients; the
 * concurrent-connection cap; hundreds of requests in sequence leaving no
 * descriptor, watcher or timer behind; destroy with connections open. */
#include "http_test_util.h"

static char resp[64 * 1024];

static void h_ok(void *ud, const nl_http_request *req, nl_http_response *r)
{
    nl_http_body_append(r, "ok\n", 3);
}

/* 12 MiB: more than loopback TCP buffers (up to 4 MiB on the sending side)
 * take from a peer that does not read. */
#define BIG_MIB 12

static void h_big(void *ud, const nl_http_request *req, nl_http_response *r)
{
    static char chunk[64 * 1024];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < BIG_MIB * 16; i++)
        nl_http_body_append(r, chunk, sizeof chunk);
}

#define TIMEOUT_MS 300

static void start(unsigned max_conns)
{
    nl_http_config cfg = {.timeout_ms = TIMEOUT_MS,
                          .max_connections = max_conns,
                          .max_response_bytes = BIG_MIB << 20};
    t_start(&cfg);
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/healthz", h_ok, NULL));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/big", h_big, NULL));
}

/* Margin for a loaded machine (tests run two at a time) or valgrind. */
static int margin_ms(void)
{
    return t_slow() ? 5000 : 700;
}

/* One byte every 50 ms, never finishing: closed at the deadline with a 408,
 * not kept alive by the trickle. */
static void test_slowloris(void)
{
    start(0);
    int fd = t_connect();
    long long t0 = t_now_ms();
    const char *req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    t_send(fd, req, strlen(req));
    size_t got = 0;
    bool closed = false;
    while (!closed && t_now_ms() - t0 < TIMEOUT_MS + margin_ms()) {
        (void)send(fd, "a", 1, MSG_NOSIGNAL);
        t_pump(50);
        ssize_t n = recv(fd, resp + got, sizeof resp - 1 - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
        else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            closed = true;
    }
    long long took = t_now_ms() - t0;
    resp[got] = '\0';
    NL_ASSERT(closed);
    NL_ASSERT(took >= TIMEOUT_MS - 10);
    NL_ASSERT(took < TIMEOUT_MS + margin_ms());
    NL_ASSERT_EQ(t_status(resp), 408);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 0);
    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.timeouts, 1);
    NL_ASSERT_UEQ(st.requests, 0);
    close(fd);
    t_stop();
}

/* Connected, silent: closed at the deadline without a word. */
static void test_idle(void)
{
    start(0);
    int fd = t_connect();
    long long t0 = t_now_ms();
    bool closed = false;
    size_t n = t_read_all(fd, resp, sizeof resp, TIMEOUT_MS + margin_ms(), &closed);
    NL_ASSERT(closed);
    NL_ASSERT_EQ(n, 0);
    NL_ASSERT(t_now_ms() - t0 >= TIMEOUT_MS - 10);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 0);
    close(fd);
    t_stop();
}

/* A client whose receive window is tiny from the handshake on. */
static int t_connect_small_rcvbuf(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(nl_http_server_port(t_srv))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    NL_ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Asks for 12 MiB and never reads: the server cannot finish writing, and
 * the deadline frees the connection anyway. */
static void test_never_reads(void)
{
    start(0);
    int fd = t_connect_small_rcvbuf();
    const char *req = "GET /big HTTP/1.1\r\nHost: h\r\n\r\n";
    t_send(fd, req, strlen(req));
    t_pump(TIMEOUT_MS / 2);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 1);
    long long t0 = t_now_ms();
    while (nl_http_server_connections(t_srv) > 0 && t_now_ms() - t0 < TIMEOUT_MS + margin_ms())
        nl_loop_run_once(t_loop, 5);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 0);
    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.timeouts, 1);
    NL_ASSERT_UEQ(st.requests, 1);
    close(fd);
    t_stop();
}

/* max_connections open and idle: one more is accepted, told 503, closed;
 * the others are untouched, and a slot frees when one goes. */
static void test_max_connections(void)
{
    enum { MAX = 4 };
    nl_http_config cfg = {.timeout_ms = 60000, .max_connections = MAX};
    t_start(&cfg);
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/healthz", h_ok, NULL));
    int fds[MAX];
    for (int i = 0; i < MAX; i++)
        fds[i] = t_connect();
    t_pump(30);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), MAX);

    int extra = t_connect();
    bool closed = false;
    t_read_all(extra, resp, sizeof resp, 2000, &closed);
    NL_ASSERT(closed);
    NL_ASSERT_EQ(t_status(resp), 503);
    close(extra);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), MAX);
    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.accepted, MAX + 1);
    NL_ASSERT_UEQ(st.refused, 1);

    /* the held connections still work */
    const char *req = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
    t_send(fds[0], req, strlen(req));
    t_read_all(fds[0], resp, sizeof resp, 2000, &closed);
    NL_ASSERT(closed);
    NL_ASSERT_EQ(t_status(resp), 200);
    close(fds[0]);
    t_pump(20);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), MAX - 1);
    /* and the freed slot takes a new client */
    t_exchange(req, strlen(req), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 200);
    for (int i = 1; i < MAX; i++)
        close(fds[i]);
    t_pump(20);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 0);
    t_stop();
}

/* Many requests, good and bad, one after another: afterwards the process
 * has the same descriptors, the loop only the listener. */
static void test_many_in_sequence(void)
{
    start(0);
    t_exchange("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n", 35, resp, sizeof resp);
    t_pump(10);
    int fds = t_count_fds();
    int rounds = t_slow() ? 100 : 500;
    for (int i = 0; i < rounds; i++) {
        const char *req = i % 5 == 4   ? "BREW /pot HTTP/1.0\r\n\r\n"
                          : i % 5 == 3 ? "garbage\r\n\r\n"
                                       : "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
        t_exchange(req, strlen(req), resp, sizeof resp);
        int want = i % 5 == 4 ? 405 : i % 5 == 3 ? 400 : 200;
        if (t_status(resp) != want)
            NL_FAIL("round %d: got '%.30s', expected %d", i, resp, want);
    }
    t_pump(20);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 0);
    NL_ASSERT_EQ(t_count_fds(), fds);
    NL_ASSERT_UEQ(nl_loop_io_count(t_loop), 1);    /* the listener */
    NL_ASSERT_UEQ(nl_loop_timer_count(t_loop), 0); /* no deadline left armed */
    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.accepted, (uint64_t)rounds + 1);
    NL_ASSERT_UEQ(st.timeouts, 0);
    t_stop();
    NL_ASSERT_EQ(t_count_fds(), fds - 1 - 2); /* listener, epoll and eventfd gone */
}

/* Destroy while connections are in every state: nothing leaks (ASan and
 * valgrind check the memory; the counts check watchers and timers). */
static void test_destroy_with_connections(void)
{
    start(0);
    int fds0 = t_count_fds();
    int idle = t_connect();
    int partial = t_connect();
    t_send(partial, "GET /heal", 9);
    int lingering = t_connect();
    const char *req = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
    t_send(lingering, req, strlen(req));
    t_pump(30);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 3);
    t_stop(); /* asserts io and timer counts are 0 */
    /* our three client sockets remain; the server's three, its listener and
     * the loop's epoll and eventfd are gone */
    NL_ASSERT_EQ(t_count_fds(), fds0 + 3 - 3);
    bool closed = false;
    char b[256];
    size_t n = 0;
    for (long long end = t_now_ms() + 1000; t_now_ms() < end && !closed;) {
        ssize_t r = recv(idle, b, sizeof b, MSG_DONTWAIT);
        closed = r == 0 || (r < 0 && errno != EAGAIN);
        n += r > 0 ? (size_t)r : 0;
    }
    NL_ASSERT(closed);
    NL_ASSERT_EQ(n, 0);
    close(idle);
    close(partial);
    close(lingering);
}

int main(void)
{
    NL_RUN(test_slowloris);
    NL_RUN(test_idle);
    NL_RUN(test_never_reads);
    NL_RUN(test_max_connections);
    NL_RUN(test_many_in_sequence);
    NL_RUN(test_destroy_with_connections);
    NL_DONE();
}
