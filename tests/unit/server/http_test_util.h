/* Helpers for the HTTP endpoint tests: a loop and a server on 127.0.0.1
 * with an ephemeral port, raw-socket clients, and a pump that runs the loop
 * while the client waits, so everything stays on one thread. */
#ifndef NL_TEST_HTTP_UTIL_H
#define NL_TEST_HTTP_UTIL_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "server/http.h"
#include "test.h"

static nl_loop *t_loop;
static nl_http_server *t_srv;
static nl_ctx *t_ctx;

static inline long long t_now_ms(void)
{
    return (long long)(nl_time_mono_ns() / NL_NS_PER_MS);
}

/* Time limits grow under valgrind, which runs everything ~20x slower. */
static inline int t_slow(void)
{
    return getenv("NL_UNDER_VALGRIND") != NULL;
}

static inline void t_start(const nl_http_config *cfg)
{
    NL_ASSERT_OK(nl_ctx_create(&t_ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&t_loop));
    nl_http_config c = {0};
    if (cfg)
        c = *cfg;
    c.host = "127.0.0.1";
    c.port = 0;
    NL_ASSERT_OK(nl_http_server_create(&t_srv, t_loop, t_ctx, &c));
    NL_ASSERT(nl_http_server_port(t_srv) != 0);
}

static inline void t_stop(void)
{
    nl_http_server_destroy(&t_srv);
    NL_ASSERT(t_srv == NULL);
    nl_loop_run_once(t_loop, 0); /* deferred frees */
    NL_ASSERT_UEQ(nl_loop_io_count(t_loop), 0);
    NL_ASSERT_UEQ(nl_loop_timer_count(t_loop), 0);
    nl_loop_destroy(&t_loop);
    nl_ctx_destroy(&t_ctx);
}

/* Runs the loop for about ms milliseconds. */
static inline void t_pump(int ms)
{
    long long end = t_now_ms() + ms;
    while (t_now_ms() < end)
        nl_loop_run_once(t_loop, 5);
}

/* A blocking client socket connected to the server (the kernel completes
 * the handshake from the backlog, before the loop accepts). */
static inline int t_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    NL_ASSERT(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(nl_http_server_port(t_srv))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    NL_ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static inline void t_send(int fd, const char *s, size_t n)
{
    NL_ASSERT_EQ(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Reads until EOF (or an error such as a reset), running the loop between
 * reads. Returns the bytes read; *closed tells whether EOF was seen within
 * max_ms. buf is terminated. */
static inline size_t t_read_all(int fd, char *buf, size_t cap, int max_ms, bool *closed)
{
    size_t len = 0;
    long long end = t_now_ms() + max_ms;
    bool eof = false;
    while (t_now_ms() < end) {
        nl_loop_run_once(t_loop, 2);
        for (;;) {
            ssize_t n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
            if (n > 0) {
                len += (size_t)n;
                if (len == cap - 1)
                    break;
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                eof = true;
            break;
        }
        if (eof || len == cap - 1)
            break;
    }
    buf[len] = '\0';
    if (closed)
        *closed = eof;
    return len;
}

/* One whole exchange: connect, send, read to EOF. */
static inline size_t t_exchange(const char *req, size_t n, char *buf, size_t cap)
{
    int fd = t_connect();
    t_send(fd, req, n);
    bool closed = false;
    size_t len = t_read_all(fd, buf, cap, t_slow() ? 20000 : 3000, &closed);
    NL_ASSERT(closed);
    close(fd);
    return len;
}

/* Status code of a response, or -1. */
static inline int t_status(const char *resp)
{
    if (strncmp(resp, "HTTP/1.1 ", 9) != 0)
        return -1;
    return atoi(resp + 9);
}

/* The body of a response (after the blank line), or NULL. */
static inline const char *t_body(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    return b ? b + 4 : NULL;
}

/* Value of a response header (the first line starting "Name: "), copied. */
static inline const char *t_header(const char *resp, const char *name, char *out, size_t cap)
{
    const char *end = strstr(resp, "\r\n\r\n");
    size_t nl = strlen(name);
    for (const char *l = strstr(resp, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (!strncasecmp(h, name, nl) && h[nl] == ':') {
            const char *v = h + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(strstr(v, "\r\n") - v);
            if (vl >= cap)
                vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
    }
    return NULL;
}

static inline int t_count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    NL_ASSERT(d != NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

#endif
