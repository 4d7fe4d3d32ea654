/* The HTTP endpoint over real loopback sockets: routes, HEAD, the error
 * statuses (400/404/405/414/431/505/500), handler-set status and type, the
 * response cap, large responses to a slow reader, requests split into
 * single bytes, lingering close, and route registration rules. */
#include "server/metrics.h"
#include "http_test_util.h"

static char resp[2 * 1024 * 1024];
static int health_calls;

static void h_health(void *ud, const nl_http_request *req, nl_http_response *r)
{
    health_calls++;
    nl_http_body_append(r, "ok\n", 3);
}

static void h_metrics(void *ud, const nl_http_request *req, nl_http_response *r)
{
    nl_prom p;
    nl_prom_init(&p, r->body);
    nl_prom_gauge(&p, nl_metric(NL_M_RTSP_CLIENTS), NULL, 2);
    const char *lv[] = {"yard", "main"};
    nl_prom_counter(&p, nl_metric(NL_M_CAMERA_FRAMES), lv, 1234);
    if (nl_prom_finish(&p) == 0)
        r->content_type = NL_PROM_CONTENT_TYPE;
}

static void h_busy(void *ud, const nl_http_request *req, nl_http_response *r)
{
    r->status = 503;
    r->content_type = "application/json";
    nl_http_body_printf(r, "{\"state\":\"%s\",\"query\":\"%.*s\"}", "starting", (int)req->query_len,
                        req->query ? req->query : "");
}

/* Sets the status in ud (an int*) and writes a body anyway. */
static void h_status(void *ud, const nl_http_request *req, nl_http_response *r)
{
    r->status = *(int *)ud;
    nl_http_body_append(r, "ignored?", 8);
}

/* Writes ud bytes (a size_t*) of a repeating pattern. */
static void h_big(void *ud, const nl_http_request *req, nl_http_response *r)
{
    size_t want = *(size_t *)ud;
    char chunk[4096];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)('a' + i % 26);
    for (size_t done = 0; done < want;) {
        size_t n = want - done < sizeof chunk ? want - done : sizeof chunk;
        if (nl_http_body_append(r, chunk, n) < 0)
            return;
        done += n;
    }
}

static size_t big_size = 600 * 1024;
static size_t too_big = 4096 + 1;

static void start(void)
{
    nl_http_config cfg = {.max_response_bytes = 1024 * 1024};
    health_calls = 0;
    t_start(&cfg);
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/healthz", h_health, NULL));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/metrics", h_metrics, NULL));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/busy", h_busy, NULL));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/big", h_big, &big_size));
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define LIT(s)    s, sizeof(s) - 1

static void test_routes(void)
{
    start();
    char v[128];
    size_t n = t_exchange(LIT(GET("/healthz")), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 200);
    NL_ASSERT(!strncmp(resp, "HTTP/1.1 200 OK\r\n", 17));
    NL_ASSERT_STREQ(t_header(resp, "Content-Type", v, sizeof v), "text/plain; charset=utf-8");
    NL_ASSERT_STREQ(t_header(resp, "Content-Length", v, sizeof v), "3");
    NL_ASSERT_STREQ(t_header(resp, "Connection", v, sizeof v), "close");
    NL_ASSERT_STREQ(t_header(resp, "Cache-Control", v, sizeof v), "no-store");
    NL_ASSERT(t_header(resp, "Date", v, sizeof v) != NULL);
    NL_ASSERT_EQ(strlen(v), strlen("Sun, 06 Nov 1994 08:49:37 GMT"));
    NL_ASSERT(!strcmp(v + strlen(v) - 4, " GMT"));
    NL_ASSERT_STREQ(t_body(resp), "ok\n");
    NL_ASSERT_EQ(n, (size_t)(t_body(resp) - resp) + 3);
    NL_ASSERT_EQ(health_calls, 1);

    t_exchange(LIT(GET("/metrics")), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 200);
    NL_ASSERT_STREQ(t_header(resp, "Content-Type", v, sizeof v), NL_PROM_CONTENT_TYPE);
    NL_ASSERT_STREQ(t_body(resp),
                    "# HELP neolink_rtsp_clients RTSP client connections currently open.\n"
                    "# TYPE neolink_rtsp_clients gauge\n"
                    "neolink_rtsp_clients 2\n"
                    "# HELP neolink_camera_frames_total Media frames received from the camera.\n"
                    "# TYPE neolink_camera_frames_total counter\n"
                    "neolink_camera_frames_total{camera=\"yard\",stream=\"main\"} 1234\n");

    /* the handler's own status, content type; the query reaches it */
    t_exchange(LIT("GET /busy?x=1 HTTP/1.0\r\n\r\n"), resp, sizeof resp);
    NL_ASSERT(!strncmp(resp, "HTTP/1.1 503 Service Unavailable\r\n", 34));
    NL_ASSERT_STREQ(t_header(resp, "Content-Type", v, sizeof v), "application/json");
    NL_ASSERT_STREQ(t_body(resp), "{\"state\":\"starting\",\"query\":\"x=1\"}");

    /* absolute-form target and a query: same route */
    t_exchange(LIT("GET http://127.0.0.1/healthz?probe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), resp,
               sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 200);
    NL_ASSERT_EQ(health_calls, 2);

    /* 204: neither body nor Content-Length; a 1xx status is a handler bug */
    static int s204 = 204, s101 = 101;
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/empty", h_status, &s204));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/switch", h_status, &s101));
    t_exchange(LIT(GET("/empty")), resp, sizeof resp);
    NL_ASSERT(!strncmp(resp, "HTTP/1.1 204 No Content\r\n", 25));
    NL_ASSERT(t_header(resp, "Content-Length", v, sizeof v) == NULL);
    NL_ASSERT_STREQ(t_body(resp), "");
    t_exchange(LIT(GET("/switch")), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 500);

    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.accepted, 6);
    NL_ASSERT_UEQ(st.requests, 6);
    NL_ASSERT_UEQ(st.errors, 0);
    t_stop();
}

static void test_head(void)
{
    start();
    char v[64];
    size_t n = t_exchange(LIT("HEAD /healthz HTTP/1.1\r\nHost: h\r\n\r\n"), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 200);
    NL_ASSERT_STREQ(t_header(resp, "Content-Length", v, sizeof v), "3"); /* the GET length */
    NL_ASSERT_STREQ(t_body(resp), "");
    NL_ASSERT_EQ(n, (size_t)(t_body(resp) - resp));
    NL_ASSERT_EQ(health_calls, 1); /* the handler ran to learn the length */

    t_exchange(LIT("HEAD /nothing HTTP/1.1\r\nHost: h\r\n\r\n"), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 404);
    NL_ASSERT_STREQ(t_header(resp, "Content-Length", v, sizeof v), "14");
    NL_ASSERT_STREQ(t_body(resp), "");
    t_stop();
}

static void expect(const char *req, size_t n, int status, const char *body)
{
    t_exchange(req, n, resp, sizeof resp);
    if (t_status(resp) != status)
        NL_FAIL("'%.40s...': got '%.40s', expected %d", req, resp, status);
    nl_test_checks++;
    if (body)
        NL_ASSERT_STREQ(t_body(resp), body);
}

static char big_req[16 * 1024];

static void test_errors(void)
{
    start();
    char v[64];
    expect(LIT(GET("/")), 404, "404 Not Found\n");
    expect(LIT(GET("/healthz/")), 404, NULL);
    expect(LIT(GET("/HEALTHZ")), 404, NULL);
    expect(LIT("POST /healthz HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"), 405,
           "405 Method Not Allowed\n");
    NL_ASSERT_STREQ(t_header(resp, "Allow", v, sizeof v), "GET, HEAD");
    expect(LIT("DELETE /nothing HTTP/1.1\r\nHost: h\r\n\r\n"), 405, NULL);
    NL_ASSERT_EQ(health_calls, 0);

    expect(LIT("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello"), 400, "400 Bad Request\n");
    expect(LIT("GET /healthz HTTP/1.1\r\n\r\n"), 400, NULL); /* no Host */
    expect(LIT("GET /healthz HTTP/2.0\r\nHost: h\r\n\r\n"), 505, NULL);

    /* 414: a request line longer than the limit */
    int n = snprintf(big_req, sizeof big_req, "GET /");
    memset(big_req + n, 'a', NL_HTTP_MAX_LINE);
    n += NL_HTTP_MAX_LINE;
    n += snprintf(big_req + n, sizeof big_req - (size_t)n, " HTTP/1.1\r\nHost: h\r\n\r\n");
    expect(big_req, (size_t)n, 414, "414 URI Too Long\n");

    /* 431: too many headers, and a head over the size limit */
    n = snprintf(big_req, sizeof big_req, "GET /healthz HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < NL_HTTP_MAX_HEADERS; i++)
        n += snprintf(big_req + n, sizeof big_req - (size_t)n, "X-Header-%d: %d\r\n", i, i);
    n += snprintf(big_req + n, sizeof big_req - (size_t)n, "\r\n");
    expect(big_req, (size_t)n, 431, "431 Request Header Fields Too Large\n");
    n = snprintf(big_req, sizeof big_req, "GET /healthz HTTP/1.1\r\nHost: h\r\nX-Pad: ");
    memset(big_req + n, 'p', NL_HTTP_MAX_HEAD);
    n += NL_HTTP_MAX_HEAD;
    n += snprintf(big_req + n, sizeof big_req - (size_t)n, "\r\n\r\n");
    expect(big_req, (size_t)n, 431, NULL);
    NL_ASSERT_EQ(health_calls, 0);

    nl_http_stats st;
    nl_http_server_stats(t_srv, &st);
    NL_ASSERT_UEQ(st.errors, 8);   /* 405 x2, 400 x2, 505, 414, 431 x2 */
    NL_ASSERT_UEQ(st.requests, 5); /* the three 404 and the two 405 were valid heads */
    t_stop();
}

static void test_response_cap(void)
{
    nl_http_config cfg = {.max_response_bytes = 4096};
    t_start(&cfg);
    size_t exact = 4096;
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/exact", h_big, &exact));
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/over", h_big, &too_big));
    size_t n = t_exchange(LIT(GET("/exact")), resp, sizeof resp);
    NL_ASSERT_EQ(t_status(resp), 200);
    NL_ASSERT_EQ(strlen(t_body(resp)), 4096);
    NL_ASSERT(n > 4096);
    expect(LIT(GET("/over")), 500, "500 Internal Server Error\n");
    t_stop();
}

/* A 600 KB answer to a client with a tiny receive buffer that reads late:
 * the server writes what fits and waits for writability; nothing is lost. */
static void test_large_response(void)
{
    start();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(nl_http_server_port(t_srv))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    NL_ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    t_send(fd, GET("/big"), sizeof GET("/big") - 1);
    t_pump(100); /* the server fills the socket and must wait */
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 1);
    bool closed = false;
    size_t n = t_read_all(fd, resp, sizeof resp, t_slow() ? 30000 : 5000, &closed);
    NL_ASSERT(closed);
    NL_ASSERT_EQ(t_status(resp), 200);
    const char *b = t_body(resp);
    NL_ASSERT_EQ(n - (size_t)(b - resp), big_size);
    for (size_t i = 0; i < big_size; i += 4093)
        NL_ASSERT_EQ(b[i], 'a' + (i % 4096) % 26);
    close(fd);
    t_pump(20);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 0);
    t_stop();
}

/* One byte per loop iteration: the incremental parser still answers. */
static void test_split_request(void)
{
    start();
    const char *req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: x\r\n\r\n";
    int fd = t_connect();
    for (size_t i = 0; req[i]; i++) {
        t_send(fd, req + i, 1);
        nl_loop_run_once(t_loop, 1);
    }
    bool closed = false;
    t_read_all(fd, resp, sizeof resp, 3000, &closed);
    NL_ASSERT(closed);
    NL_ASSERT_EQ(t_status(resp), 200);
    NL_ASSERT_STREQ(t_body(resp), "ok\n");
    close(fd);
    t_stop();
}

/* Bytes after the head (a body, a pipelined request) are drained, not left
 * to turn the close into a reset that would destroy the answer. */
static void test_linger(void)
{
    start();
    int fd = t_connect();
    static char tail[64 * 1024];
    memset(tail, 'z', sizeof tail);
    t_send(fd, GET("/healthz"), sizeof GET("/healthz") - 1);
    t_send(fd, tail, sizeof tail);
    t_pump(50);
    /* the answer arrives intact, then the server waits for our close */
    size_t n = 0;
    for (long long end = t_now_ms() + 2000; t_now_ms() < end && !strstr(resp, "ok\n");) {
        nl_loop_run_once(t_loop, 2);
        ssize_t r = recv(fd, resp + n, sizeof resp - 1 - n, MSG_DONTWAIT);
        if (r > 0)
            n += (size_t)r;
        resp[n] = '\0';
    }
    NL_ASSERT_EQ(t_status(resp), 200);
    NL_ASSERT_STREQ(t_body(resp), "ok\n");
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 1); /* draining */
    close(fd);
    t_pump(50);
    NL_ASSERT_UEQ(nl_http_server_connections(t_srv), 0);
    t_stop();
}

static void test_route_rules(void)
{
    start();
    NL_ASSERT_EQ(nl_http_server_route(t_srv, "healthz", h_health, NULL), NL_EINVAL);
    NL_ASSERT_EQ(nl_http_server_route(t_srv, "", h_health, NULL), NL_EINVAL);
    NL_ASSERT_EQ(nl_http_server_route(t_srv, "/x", NULL, NULL), NL_EINVAL);
    char longp[NL_HTTP_MAX_ROUTE_PATH + 1];
    memset(longp, 'a', sizeof longp);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    NL_ASSERT_EQ(nl_http_server_route(t_srv, longp, h_health, NULL), NL_EINVAL);
    /* replacing keeps the count */
    NL_ASSERT_OK(nl_http_server_route(t_srv, "/busy", h_health, NULL));
    expect(LIT(GET("/busy")), 200, "ok\n");
    char p[16];
    for (int i = 4; i < NL_HTTP_MAX_ROUTES; i++) {
        snprintf(p, sizeof p, "/r%d", i);
        NL_ASSERT_OK(nl_http_server_route(t_srv, p, h_health, NULL));
    }
    NL_ASSERT_EQ(nl_http_server_route(t_srv, "/one-more", h_health, NULL), NL_ELIMIT);
    expect(LIT(GET("/r15")), 200, "ok\n");
    t_stop();
}

static void test_listen_errors(void)
{
    start();
    nl_http_server *other = NULL;
    nl_http_config cfg = {.host = "127.0.0.1", .port = nl_http_server_port(t_srv)};
    NL_ASSERT_EQ(nl_http_server_create(&other, t_loop, t_ctx, &cfg), NL_EADDRINUSE);
    NL_ASSERT(other == NULL);
    cfg.host = "not an address";
    cfg.port = 0;
    NL_ASSERT_EQ(nl_http_server_create(&other, t_loop, t_ctx, &cfg), NL_EINVAL);
    /* defaults: 127.0.0.1, and a name is resolved */
    cfg.host = "localhost";
    NL_ASSERT_OK(nl_http_server_create(&other, t_loop, t_ctx, &cfg));
    NL_ASSERT(nl_http_server_port(other) != 0);
    nl_http_server_destroy(&other);
    nl_http_server_destroy(&other); /* NULL: no-op */
    t_stop();
}

int main(void)
{
    NL_RUN(test_routes);
    NL_RUN(test_head);
    NL_RUN(test_errors);
    NL_RUN(test_response_cap);
    NL_RUN(test_large_response);
    NL_RUN(test_split_request);
    NL_RUN(test_linger);
    NL_RUN(test_route_rules);
    NL_RUN(test_listen_errors);
    NL_DONE();
}
