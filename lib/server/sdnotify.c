/* sd_notify over a datagram socket, and the WATCHDOG=1 keep-alive timer.
 * See sdnotify.h. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/error.h"
#include "server/sdnotify.h"

struct nl_sdnotify {
    nl_loop *loop;
    const nl_ctx *ctx;
    int fd; /* -1 when inactive */
    struct sockaddr_un addr;
    socklen_t addr_len;
    uint64_t period_ns; /* WATCHDOG_USEC / 2, 0 = off */
    nl_timer keepalive;
};

void nl_sdnotify_env_get(nl_sdnotify_env *env)
{
    env->notify_socket = getenv("NOTIFY_SOCKET");
    env->watchdog_usec = getenv("WATCHDOG_USEC");
    env->watchdog_pid = getenv("WATCHDOG_PID");
}

/* Strict unsigned decimal: digits only, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return NL_EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return NL_EINVAL;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return NL_ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Fills n->addr from NOTIFY_SOCKET; NL_EINVAL when the form is unusable
 * (systemd also allows vsock: addresses, which we do not speak). */
static int set_address(nl_sdnotify *n, const char *path)
{
    size_t len = strlen(path);
    memset(&n->addr, 0, sizeof n->addr);
    n->addr.sun_family = AF_UNIX;
    if (len < 2 || (path[0] != '/' && path[0] != '@') || len >= sizeof n->addr.sun_path)
        return NL_EINVAL;
    memcpy(n->addr.sun_path, path, len);
    if (path[0] == '@') {
        /* Abstract namespace: a leading NUL, and the length says where the
         * name ends (it is not NUL-terminated). */
        n->addr.sun_path[0] = '\0';
        n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    }
    return 0;
}

static void on_keepalive(nl_timer *t)
{
    nl_sdnotify *n = t->data;
    (void)nl_sdnotify_watchdog(n);
    (void)nl_timer_start_in(n->loop, &n->keepalive, n->period_ns); /* re-arm: cannot fail */
}

/* WATCHDOG_USEC applies to us unless WATCHDOG_PID names another process. */
static void read_watchdog(nl_sdnotify *n, const nl_sdnotify_env *env)
{
    if (!env->watchdog_usec)
        return;
    uint64_t usec = 0;
    if (parse_u64(env->watchdog_usec, &usec) < 0) {
        NL_LOGW(n->ctx, "sd_notify", "ignoring WATCHDOG_USEC=%.32s: not a number",
                env->watchdog_usec);
        return;
    }
    if (env->watchdog_pid) {
        uint64_t pid = 0;
        if (parse_u64(env->watchdog_pid, &pid) < 0 || pid != (uint64_t)getpid())
            return; /* meant for another process (e.g. our parent) */
    }
    if (usec == 0)
        return;
    /* Half the period, as systemd recommends: one late keep-alive is fine. */
    n->period_ns = usec > UINT64_MAX / 1000 ? UINT64_MAX / 2 : usec * 1000 / 2;
}

int nl_sdnotify_open(nl_sdnotify **out, nl_loop *loop, const nl_ctx *ctx,
                     const nl_sdnotify_env *env)
{
    *out = NULL;
    nl_sdnotify_env own;
    if (!env) {
        nl_sdnotify_env_get(&own);
        env = &own;
    }
    nl_sdnotify *n = nl__calloc(1, sizeof(*n));
    if (!n)
        return NL_ENOMEM;
    n->loop = loop;
    n->ctx = ctx;
    n->fd = -1;
    nl_timer_init(&n->keepalive, on_keepalive, n);
    if (!env->notify_socket || !*env->notify_socket) {
        *out = n; /* not run by a service manager: inactive */
        return 0;
    }
    if (set_address(n, env->notify_socket) < 0) {
        NL_LOGW(ctx, "sd_notify", "ignoring NOTIFY_SOCKET=%.64s: not a unix socket path",
                env->notify_socket);
        *out = n;
        return 0;
    }
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (n->fd < 0) {
        int rc = nl_err_from_errno(errno);
        nl__free(n);
        return rc;
    }
    read_watchdog(n, env);
    if (n->period_ns) {
        int rc = nl_timer_start_in(loop, &n->keepalive, n->period_ns);
        if (rc < 0) {
            close(n->fd);
            nl__free(n);
            return rc;
        }
    }
    NL_LOGD(ctx, "sd_notify", "notifying %s%s", env->notify_socket,
            n->period_ns ? " with watchdog keep-alives" : "");
    *out = n;
    return 0;
}

void nl_sdnotify_close(nl_sdnotify **pn)
{
    if (!pn || !*pn)
        return;
    nl_sdnotify *n = *pn;
    nl_timer_stop(n->loop, &n->keepalive);
    if (n->fd >= 0)
        close(n->fd);
    nl__free(n);
    *pn = NULL;
}

bool nl_sdnotify_active(const nl_sdnotify *n)
{
    return n && n->fd >= 0;
}

uint64_t nl_sdnotify_watchdog_period_ns(const nl_sdnotify *n)
{
    return nl_sdnotify_active(n) ? n->period_ns : 0;
}

static int send_raw(nl_sdnotify *n, const char *msg, size_t len)
{
    if (!nl_sdnotify_active(n))
        return 0;
    ssize_t w;
    do {
        w = sendto(n->fd, msg, len, MSG_NOSIGNAL, (const struct sockaddr *)&n->addr, n->addr_len);
    } while (w < 0 && errno == EINTR);
    if (w < 0) {
        int rc = errno == EWOULDBLOCK ? NL_EAGAIN : nl_err_from_errno(errno);
        NL_LOGD(n->ctx, "sd_notify", "send failed: %s", nl_strerror(rc));
        return rc;
    }
    return 0;
}

int nl_sdnotify_send(nl_sdnotify *n, const char *msg)
{
    size_t len = strlen(msg);
    if (len > NL_SDNOTIFY_MAX_MSG)
        return NL_ETOOBIG;
    return send_raw(n, msg, len);
}

int nl_sdnotify_ready(nl_sdnotify *n)
{
    return nl_sdnotify_send(n, "READY=1");
}

int nl_sdnotify_stopping(nl_sdnotify *n)
{
    return nl_sdnotify_send(n, "STOPPING=1");
}

int nl_sdnotify_watchdog(nl_sdnotify *n)
{
    return nl_sdnotify_send(n, "WATCHDOG=1");
}

int nl_sdnotify_status(nl_sdnotify *n, const char *fmt, ...)
{
    if (!nl_sdnotify_active(n))
        return 0;
    char msg[NL_SDNOTIFY_MAX_MSG + 1];
    static const char key[] = "STATUS=";
    memcpy(msg, key, sizeof key - 1);
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(msg + sizeof key - 1, sizeof msg - (sizeof key - 1), fmt, ap);
    va_end(ap);
    if (w < 0)
        return NL_EINVAL;
    size_t len = strlen(msg); /* cut to the buffer when the text was longer */
    for (size_t i = sizeof key - 1; i < len; i++) {
        if (msg[i] == '\n' || msg[i] == '\r')
            msg[i] = ' ';
    }
    return send_raw(n, msg, len);
}
