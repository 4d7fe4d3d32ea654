/* systemd service notifications (sd_notify protocol), without libsystemd.
 *
 * When the service manager sets NOTIFY_SOCKET, the process reports its
 * state as datagrams of "KEY=VALUE" lines on that AF_UNIX socket: READY=1
 * once serving, STOPPING=1 when shutting down, STATUS=<text> for
 * `systemctl status`, and WATCHDOG=1 keep-alives. A path starting with '@'
 * is in the abstract namespace. When WATCHDOG_USEC is set (and WATCHDOG_PID,
 * if set, is our pid), a timer on the loop sends WATCHDOG=1 every
 * WATCHDOG_USEC / 2 from open to close, so systemd's watchdog sees the
 * *loop* alive, not merely the process.
 *
 * Without NOTIFY_SOCKET the notifier is inactive and every call is a no-op
 * returning 0, so callers never branch on it. The environment is read, never
 * modified. Sends never block (a full socket drops the message: systemd
 * reads promptly, and a late keep-alive is replaced by the next one).
 *
 * Threads: the loop's thread for everything. */
#ifndef NL_SERVER_SDNOTIFY_H
#define NL_SERVER_SDNOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "neolink/common.h"
#include "neolink/context.h"
#include "neolink/loop.h"

/* Longest message sent; STATUS text is cut to fit. */
#define NL_SDNOTIFY_MAX_MSG 512

typedef struct nl_sdnotify nl_sdnotify;

/* The environment as systemd gives it (tests fill it by hand). NULL fields
 * mean unset. */
typedef struct nl_sdnotify_env {
    const char *notify_socket; /* NOTIFY_SOCKET */
    const char *watchdog_usec; /* WATCHDOG_USEC */
    const char *watchdog_pid;  /* WATCHDOG_PID */
} nl_sdnotify_env;

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the process
 * environment (pointers into it: use them before it changes). */
void nl_sdnotify_env_get(nl_sdnotify_env *env);

/* Creates a notifier. env NULL means the process environment. A missing
 * NOTIFY_SOCKET gives an inactive notifier (0 returned); an unusable one
 * (not '/' or '@', too long) is logged and also inactive. An unparsable
 * WATCHDOG_USEC is logged and ignored. Returns 0 or NL_ENOMEM / a socket
 * error. Never blocks. */
int nl_sdnotify_open(nl_sdnotify **out, nl_loop *loop, const nl_ctx *ctx,
                     const nl_sdnotify_env *env);

/* Stops the keep-alive timer, closes the socket, sets *n to NULL. NULL is
 * a no-op. */
void nl_sdnotify_close(nl_sdnotify **n);

/* True when NOTIFY_SOCKET was usable. */
bool nl_sdnotify_active(const nl_sdnotify *n);

/* The keep-alive period (WATCHDOG_USEC / 2) in ns, 0 when systemd's
 * watchdog is off for us. */
uint64_t nl_sdnotify_watchdog_period_ns(const nl_sdnotify *n);

/* Sends one raw message ("READY=1", or several lines). 0 when sent or
 * inactive; NL_EAGAIN when the socket was full (dropped), another errno
 * code. */
int nl_sdnotify_send(nl_sdnotify *n, const char *msg);

/* READY=1: startup is complete. */
int nl_sdnotify_ready(nl_sdnotify *n);
/* STOPPING=1: shutdown began (keep-alives go on until close). */
int nl_sdnotify_stopping(nl_sdnotify *n);
/* STATUS=<text>; newlines become spaces (one would start a new key). */
int nl_sdnotify_status(nl_sdnotify *n, const char *fmt, ...) NL_PRINTF(2, 3);
/* WATCHDOG=1 now (the timer does this by itself). */
int nl_sdnotify_watchdog(nl_sdnotify *n);

#endif
