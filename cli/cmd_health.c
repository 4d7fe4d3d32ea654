/* neolink-cli health [URL]: a tiny HTTP GET for container health checks
 * (Docker HEALTHCHECK, Kubernetes exec probes). Exit 0 when the answer is
 * 200, else 1 with one line saying why. Never 2: Docker reserves it.
 *
 * Everything - resolving aside, which is /etc/hosts for the usual
 * "127.0.0.1" or "localhost" - happens under one 2 s deadline: connect,
 * send, and reading the status line. Only http://; redirects are not
 * followed (a 3xx is unhealthy: the endpoint answers 200 itself). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int nl_cli_cmd_health(int argc, char **argv);
const char nl_cli_help_health[] = "GET the health endpoint (exit 0 on 200) for container checks";

#define DEFAULT_URL  "http://127.0.0.1:9090/healthz"
#define DEADLINE_MS  2000
#define HOST_MAX     256
#define URL_PATH_MAX 1024

typedef struct url {
    char host[HOST_MAX]; /* without the brackets of an IPv6 literal */
    char port[8];
    char path[URL_PATH_MAX];
    bool v6;
} url;

static void usage(FILE *out)
{
    fprintf(out, "usage: neolink-cli health [URL]\n"
                 "  GETs URL (default " DEFAULT_URL ") with a 2 s deadline.\n"
                 "  Exit 0 when the answer is HTTP 200; 1 otherwise, with the reason on\n"
                 "  stderr. URL is http://HOST[:PORT][/PATH]; redirects are not followed.\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("health: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(long long deadline)
{
    long long l = deadline - now_ms();
    return l < 0 ? 0 : (int)l;
}

/* http://HOST[:PORT][/PATH]; HOST may be [IPv6]. 0 or -1. */
static int parse_url(const char *s, url *u)
{
    memset(u, 0, sizeof(*u));
    if (strncasecmp(s, "http://", 7) != 0)
        return -1;
    s += 7;
    size_t alen = strcspn(s, "/?#");
    const char *auth = s, *rest = s + alen;
    if (alen == 0 || memchr(auth, '@', alen))
        return -1; /* no host, or credentials (never sent to a health port) */
    const char *hend = auth + alen, *pstart = NULL;
    const char *h = auth;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close || close == auth + 1)
            return -1;
        h = auth + 1;
        hend = close;
        u->v6 = true;
        if (close + 1 < auth + alen) {
            if (close[1] != ':')
                return -1;
            pstart = close + 2;
        }
    } else {
        const char *colon = memchr(auth, ':', alen);
        if (colon) {
            hend = colon;
            pstart = colon + 1;
        }
    }
    size_t hlen = (size_t)(hend - h);
    if (hlen == 0 || hlen >= sizeof u->host)
        return -1;
    memcpy(u->host, h, hlen);
    if (pstart) {
        size_t plen = (size_t)(auth + alen - pstart);
        long port = 0;
        if (plen == 0 || plen > 5)
            return -1;
        for (size_t i = 0; i < plen; i++) {
            if (pstart[i] < '0' || pstart[i] > '9')
                return -1;
            port = port * 10 + (pstart[i] - '0');
        }
        if (port < 1 || port > 65535)
            return -1;
        snprintf(u->port, sizeof u->port, "%ld", port);
    } else {
        snprintf(u->port, sizeof u->port, "80");
    }
    size_t rlen = strcspn(rest, "#"); /* a fragment is never sent */
    if (rlen >= sizeof u->path - 1)
        return -1;
    if (rlen == 0 || rest[0] == '?')
        u->path[0] = '/';
    memcpy(u->path + strlen(u->path), rest, rlen);
    for (const char *c = u->path; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return -1; /* would break the request line */
    }
    return 0;
}

/* Non-blocking connect to one address within the deadline: fd, or -1 with
 * *err set (errno value, or ETIMEDOUT). */
static int connect_one(const struct addrinfo *ai, long long deadline, int *err)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return -1;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int rc;
    do {
        rc = poll(&pfd, 1, left_ms(deadline));
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) {
        *err = rc == 0 ? ETIMEDOUT : errno;
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
        *err = soerr ? soerr : errno;
        close(fd);
        return -1;
    }
    return fd;
}

/* Waits for fd to become ready for `events` within the deadline. */
static bool wait_fd(int fd, short events, long long deadline)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int rc;
    do {
        rc = poll(&pfd, 1, left_ms(deadline));
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
}

static int send_all(int fd, const char *buf, size_t len, long long deadline)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(fd, POLLOUT, deadline))
                return ETIMEDOUT;
            continue;
        }
        return n < 0 ? errno : EPIPE;
    }
    return 0;
}

/* Reads until the status line is complete: its length, 0 when the peer
 * closed first, -1 on timeout (*err set) or error. */
static ssize_t read_status_line(int fd, char *buf, size_t cap, long long deadline, int *err)
{
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n > 0) {
            len += (size_t)n;
            buf[len] = '\0';
            char *nl = memchr(buf, '\n', len);
            if (nl)
                return nl - buf;
            continue;
        }
        if (n == 0)
            return len ? (ssize_t)len : 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(fd, POLLIN, deadline)) {
                *err = ETIMEDOUT;
                return -1;
            }
            continue;
        }
        *err = errno;
        return -1;
    }
    return (ssize_t)len; /* a status line this long is judged as it is */
}

/* "HTTP/1.x NNN reason": the status, or -1. reason points into line. */
static int parse_status(char *line, size_t len, const char **reason)
{
    line[len] = '\0';
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if (len < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ')
        return -1;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return -1;
        st = st * 10 + (line[i] - '0');
    }
    if (line[12] != '\0' && line[12] != ' ')
        return -1;
    *reason = line[12] ? line + 13 : "";
    /* Printable ASCII only: this ends up in a log. */
    for (char *c = line + 12; *c; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    }
    return st;
}

int nl_cli_cmd_health(int argc, char **argv)
{
    const char *target = DEFAULT_URL;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc > 2) {
        usage(stderr);
        return 1;
    }
    if (argc == 2)
        target = argv[1];
    url u;
    if (parse_url(target, &u) < 0)
        return fail("bad URL '%.200s': expected http://HOST[:PORT][/PATH]", target);

    long long deadline = now_ms() + DEADLINE_MS;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    /* No AI_ADDRCONFIG: in a container with only a loopback interface it
     * would hide 127.0.0.1 itself. */
    int grc = getaddrinfo(u.host, u.port, &hints, &ai);
    if (grc != 0)
        return fail("cannot resolve %s: %s", u.host, gai_strerror(grc));

    int fd = -1, err = ECONNREFUSED;
    for (const struct addrinfo *a = ai; a && fd < 0 && left_ms(deadline) > 0; a = a->ai_next)
        fd = connect_one(a, deadline, &err);
    freeaddrinfo(ai);
    const char *lb = u.v6 ? "[" : "", *rb = u.v6 ? "]" : "";
    if (fd < 0) {
        if (err == ETIMEDOUT)
            return fail("no connection to %s%s%s:%s within 2 s", lb, u.host, rb, u.port);
        return fail("cannot connect to %s%s%s:%s: %s", lb, u.host, rb, u.port, strerror(err));
    }

    char req[URL_PATH_MAX + HOST_MAX + 160];
    int rl = snprintf(req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: neolink-cli-health\r\n"
                      "Accept: */*\r\nConnection: close\r\n\r\n",
                      u.path, lb, u.host, rb, u.port);
    int rc = send_all(fd, req, (size_t)rl, deadline);
    if (rc != 0) {
        close(fd);
        if (rc == EPIPE || rc == ECONNRESET)
            return fail("%s: connection closed without an answer", target);
        if (rc == ETIMEDOUT)
            return fail("%s: request not accepted within 2 s", target);
        return fail("%s: sending the request failed: %s", target, strerror(rc));
    }
    char line[512];
    ssize_t n = read_status_line(fd, line, sizeof line, deadline, &err);
    close(fd);
    if (n < 0) {
        if (err == ETIMEDOUT)
            return fail("%s: no answer within 2 s", target);
        if (err == ECONNRESET)
            return fail("%s: connection closed without an answer (reset)", target);
        return fail("%s: reading the answer failed: %s", target, strerror(err));
    }
    if (n == 0)
        return fail("%s: connection closed without an answer", target);
    const char *reason = "";
    int status = parse_status(line, (size_t)n, &reason);
    if (status < 0)
        return fail("%s: not an HTTP/1.x answer", target);
    if (status != 200)
        return fail("%s: HTTP %d %.80s", target, status, reason);
    return 0;
}
