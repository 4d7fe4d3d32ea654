/* Deferred answers and prefix routes of the HTTP endpoint, over real
 * loopback sockets: an answer completed later from the loop (copied and
 * borrowed bodies, HEAD), one completed inside the handler, a client that
 * leaves while its answer is pending (cancel called once, no leak, the
 * borrowed body released), the pending deadline (bare 503 + cancel), the
 * server destroyed with answers pending (bare 503 + cancel), and prefix
 * routing rules. */
#include "http_test_util.h"

static char resp[256 * 1024];

/* ---------------------------------------------------------------- handlers */

typedef struct pend_state {
    nl_http_pending *p;
    int cancels;
    char rest[64]; /* the path after the prefix, as the handler saw it */
    uint32_t wait_ms;
} pend_state;

static void on_cancel(void *ud, nl_http_pending *p)
{
    pend_state *s = ud;
    NL_ASSERT(s->p == p);
    s->cancels++;
    s->p = NULL;
}

static void h_defer(void *ud, const nl_http_request *req, nl_http_response *r)
{
    pend_state *s = ud;
    size_t n = req->path_len - strlen("/later/");
    if (n >= sizeof s->rest)
        n = sizeof s->rest - 1;
    memcpy(s->rest, req->path + strlen("/later/"), n);
    s->rest[n] = '\0';
    nl_http_body_append(r, "ignored", 7); /* a deferred answer ignores resp */
    s->p = nl_http_defer(r, s->wait_ms, on_cancel, s);
    NL_ASSERT(s->p != NULL);
    NL_ASSERT(nl_http_defer(r, 100, on_cancel, s) == NULL); /* only once */
    r->err = 0;
}

static void h_now(void *ud, const nl_http_request *req, nl_http_response *r)
{
    static const char body[] = "answered inside the handler\n";
    nl_http_pending *p = nl_http_defer(r, 1000, on_cancel, ud);
    NL_ASSERT(p != NULL);
    NL_ASSERT_OK(nl_http_pending_complete(p, 202, "text/plain", body, sizeof body - 1, NULL, NULL));
}

static void h_exact(void *ud, const nl_http_request *req, nl_http_response *r)
{
    nl_http_body_printf(r, "exact %s\n", (const char *)ud);
}

/* A borrowed body: counts its releases. */
typedef struct shared_body {
    char data[100000];
    size_t len;
    int releases;
} shared_body;

static void body_release(void *opaque)
{
    ((shared_body *)opaque)->releases++;
}

static shared_body big;

#define GET(path)  "GET " path " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define HEAD(path) "HEAD " path " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define LIT(s)     s, sizeof(s) - 1

/* Sends a request and pumps until the handler deferred it. */
static int send_pending(const char *req, size_t n, pend_state *s)
{
    int fd = t_connect();
    t_send(fd, req, n);
    long long end = t_now_ms() + (t_slow() ? 20000 : 3000);
    while (!s->p && t_now_ms() < end)
        nl_loop_run_once(t_loop, 5);
    NL_ASSERT(s->p != NULL);
    return fd;
}

/* ---------------------------------------------------------------- tests */

static void test_complete_later(void)
{
    pend_state s = {.wait_ms = 5000};
    t_start(NULL);
    NL_ASSERT_OK(nl_http_server_route_prefix(t_srv, "/later/", h_defer, &s));

    /* a copied body, answered after the loop ran a while */
    int fd = send_pending(LIT(GET("/later/cam.jpg?x=1")), &s);
    NL_ASSERT_STREQ(s.rest, "cam.jpg");
    t_pump(50);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 1);
    nl_http_pending *p = s.p;
    s.p = NULL;
    NL_ASSERT_OK(
        nl_http_pending_complete(p, 200, "image/jpeg", "\xff\xd8JPEG\xff\xd9", 8, NULL, NULL));
    bool closed = false;
    size_t n = t_read_all(fd, resp, sizeof resp, 3000, &closed);
    close(fd);
    NL_ASSERT(closed && n > 0);
    NL_ASSERT_EQ(t_status(resp), 200);
    char v[64];
    NL_ASSERT_STREQ(t_header(resp, "Content-Type", v, sizeof v), "image/jpeg");
    NL_ASSERT_STREQ(t_header(resp, "Content-Length", v, sizeof v), "8");
    NL_ASSERT(memcmp(t_body(resp), "\xff\xd8JPEG\xff\xd9", 8) == 0);

    /* a borrowed body bigger than any socket buffer; released once sent */
    big.len = sizeof big.data;
    for (size_t i = 0; i < big.len; i++)
        big.data[i] = (char)('A' + i % 23);
    big.releases = 0;
    fd = send_pending(LIT(GET("/later/big")), &s);
    p = s.p;
    s.p = NULL;
    NL_ASSERT_OK(nl_http_pending_complete(p, 200, "application/octet-stream", big.data, big.len,
                                          body_release, &big));
    n = t_read_all(fd, resp, sizeof resp, 5000, &closed);
    close(fd);
    NL_ASSERT(closed);
    const char *b = t_body(resp);
    NL_ASSERT(b != NULL);
    NL_ASSERT_UEQ(n - (size_t)(b - resp), big.len);
    NL_ASSERT(memcmp(b, big.data, big.len) == 0);
    t_pump(20);
    NL_ASSERT_EQ(big.releases, 1);

    /* HEAD: the head only, with the body's length; the body is released */
    big.releases = 0;
    fd = send_pending(LIT(HEAD("/later/big")), &s);
    p = s.p;
    s.p = NULL;
    NL_ASSERT_OK(
        nl_http_pending_complete(p, 200, "image/jpeg", big.data, big.len, body_release, &big));
    n = t_read_all(fd, resp, sizeof resp, 3000, &closed);
    close(fd);
    NL_ASSERT_STREQ(t_header(resp, "Content-Length", v, sizeof v), "100000");
    NL_ASSERT_STREQ(t_body(resp), "");
    t_pump(20);
    NL_ASSERT_EQ(big.releases, 1);

    /* an invalid status from the owner becomes a 500 */
    fd = send_pending(LIT(GET("/later/x")), &s);
    p = s.p;
    s.p = NULL;
    NL_ASSERT_OK(nl_http_pending_complete(p, 99, "text/plain", "x", 1, NULL, NULL));
    t_read_all(fd, resp, sizeof resp, 3000, &closed);
    close(fd);
    NL_ASSERT_EQ(t_status(resp), 500);

    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.deferred, 4);
    NL_ASSERT_UEQ(st.cancelled, 0);
    NL_ASSERT_EQ(s.cancels, 0);
    t_stop();
}

static void test_complete_in_handler(void)
{
    pend_state s = {0};
    t_start(NULL);
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/now", h_now, &s));
    size_t n = t_exchange(LIT(GET("/now")), resp, sizeof resp);
    NL_ASSERT(n > 0);
    NL_ASSERT_EQ(t_status(resp), 202);
    NL_ASSERT_STREQ(t_body(resp), "answered inside the handler\n");
    NL_ASSERT_EQ(s.cancels, 0);
    t_stop();
}

static void test_client_leaves(void)
{
    pend_state s = {.wait_ms = 5000};
    t_start(NULL);
    NL_ASSERT_OK(nl_http_server_route_prefix(t_srv, "/later/", h_defer, &s));
    int fd = send_pending(LIT(GET("/later/a")), &s);
    close(fd);
    long long end = t_now_ms() + 3000;
    while (s.cancels == 0 && t_now_ms() < end)
        nl_loop_run_once(t_loop, 5);
    NL_ASSERT_EQ(s.cancels, 1);
    NL_ASSERT(s.p == NULL);
    t_pump(10);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 0);
    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.cancelled, 1);

    /* the server still answers */
    pend_state s2 = {0};
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/now", h_now, &s2));
    t_exchange(LIT(GET("/now")), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 202);
    t_stop();
}

static void test_pending_deadline(void)
{
    pend_state s = {.wait_ms = 200};
    nl_http_config cfg = {.timeout_ms = 100};
    t_start(&cfg);
    NL_ASSERT_OK(nl_http_server_route_prefix(t_srv, "/later/", h_defer, &s));
    int fd = send_pending(LIT(GET("/later/a")), &s);
    long long t0 = t_now_ms();
    bool closed = false;
    t_read_all(fd, resp, sizeof resp, t_slow() ? 20000 : 3000, &closed);
    long long took = t_now_ms() - t0;
    close(fd);
    NL_ASSERT(closed);
    NL_ASSERT_EQ(t_status(resp), 503);
    NL_ASSERT_EQ(s.cancels, 1);
    /* the deferred wait (200 ms) replaced the shorter connection deadline */
    NL_ASSERT(took >= 120);
    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.timeouts, 1);
    t_stop();
}

static void test_destroy_pending(void)
{
    pend_state s = {.wait_ms = 5000};
    t_start(NULL);
    NL_ASSERT_OK(nl_http_server_route_prefix(t_srv, "/later/", h_defer, &s));
    int fd = send_pending(LIT(GET("/later/a")), &s);
    nl_http_server_destroy(&t_srv);
    NL_ASSERT_EQ(s.cancels, 1);
    bool closed = false;
    size_t n = t_read_all(fd, resp, sizeof resp, 1000, &closed);
    close(fd);
    NL_ASSERT(closed && n > 0);
    NL_ASSERT_EQ(t_status(resp), 503); /* a bare 503, then closed */
    nl_loop_run_once(t_loop, 0);
    nl_loop_destroy(&t_loop);
    nl_ctx_destroy(&t_ctx);
}

static void test_prefix_rules(void)
{
    pend_state s = {.wait_ms = 5000};
    t_start(NULL);
    NL_ASSERT_EQ(nl_http_server_route_prefix(t_srv, "/later", h_defer, &s), NL_EINVAL);
    NL_ASSERT_EQ(nl_http_server_route_prefix(t_srv, "later/", h_defer, &s), NL_EINVAL);
    NL_ASSERT_OK(nl_http_server_route_prefix(t_srv, "/a/", h_exact, "prefix a"));
    NL_ASSERT_OK(nl_http_server_route_prefix(t_srv, "/a/b/", h_exact, "prefix a/b"));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/a/x", h_exact, "exact a/x"));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/a/", h_exact, "exact a/"));
    t_exchange(LIT(GET("/a/y")), resp, sizeof resp);
    NL_ASSERT_STREQ(t_body(resp), "exact prefix a\n");
    t_exchange(LIT(GET("/a/b/c")), resp, sizeof resp);
    NL_ASSERT_STREQ(t_body(resp), "exact prefix a/b\n");
    t_exchange(LIT(GET("/a/x")), resp, sizeof resp);
    NL_ASSERT_STREQ(t_body(resp), "exact exact a/x\n");
    /* the prefix itself is not matched by its prefix route */
    t_exchange(LIT(GET("/a/")), resp, sizeof resp);
    NL_ASSERT_STREQ(t_body(resp), "exact exact a/\n");
    t_exchange(LIT(GET("/a")), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 404);
    /* re-registering replaces, without taking another slot */
    NL_ASSERT_OK(nl_http_server_route_prefix(t_srv, "/a/", h_exact, "prefix a again"));
    t_exchange(LIT(GET("/a/z")), resp, sizeof resp);
    NL_ASSERT_STREQ(t_body(resp), "exact prefix a again\n");
    /* POST to a prefix route: 405 before any handler */
    t_exchange(LIT("POST /a/z HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), resp,
               sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 405);
    t_stop();
}

int main(void)
{
    NL_RUN(test_complete_later);
    NL_RUN(test_complete_in_handler);
    NL_RUN(test_client_leaves);
    NL_RUN(test_pending_deadline);
    NL_RUN(test_destroy_pending);
    NL_RUN(test_prefix_rules);
    NL_DONE();
}
