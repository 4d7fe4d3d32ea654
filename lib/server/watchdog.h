/* Loop watchdog: a thread that aborts the process when the event loop stops
 * beating, after logging what the loop was doing.
 *
 * The loop bumps its heartbeat once per iteration (nl_loop_heartbeat). An
 * idle loop may sleep for ever in epoll_wait, so the watchdog arms a
 * periodic timer on the loop: any loop that still runs iterations beats at
 * least every `beat_interval`. When the heartbeat has not moved for
 * `timeout`, the loop is stuck inside a callback (a blocking call, an
 * endless loop): the watchdog logs the loop's current activity - e.g.
 * "camera yard: login, running for 61.2 s" - and calls abort(), so the
 * supervisor (systemd, Docker) restarts the process. Stopping it is a flag
 * plus a condition variable and a timed join; it never blocks for long.
 *
 * The activity slot is how the watchdog knows what was running: the loop
 * owner marks the start of every operation that could block or take long
 * (connect, login, a handler) with nl_activity_set() and clears it when done.
 * Writers are the loop thread only; the watchdog thread reads it with a
 * seqlock over atomic words, so no lock is ever taken and no torn name is
 * ever printed. */
#ifndef NL_SERVER_WATCHDOG_H
#define NL_SERVER_WATCHDOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "neolink/context.h"
#include "neolink/loop.h"

/* Longest subject kept ("camera yard", "rtsp client 7"); longer ones are cut. */
#define NL_ACTIVITY_WHO_MAX 63
#define NL_ACTIVITY_WORDS   ((NL_ACTIVITY_WHO_MAX + 1) / 8)

typedef struct nl_activity {
    _Atomic(const char *) op;                    /* static string, NULL when idle */
    atomic_uint seq;                             /* odd while the writer updates */
    atomic_uint_fast64_t since_ns;               /* monotonic start of the operation */
    atomic_uint_fast64_t who[NL_ACTIVITY_WORDS]; /* the subject, packed bytes */
} nl_activity;

void nl_activity_init(nl_activity *a);

/* Loop thread: records that `who` (copied, cut at NL_ACTIVITY_WHO_MAX) is
 * doing `op` (a string literal: only its pointer is kept), from now. */
void nl_activity_set(nl_activity *a, const char *who, const char *op);

/* Loop thread: the operation ended; the loop is idle. */
void nl_activity_clear(nl_activity *a);

/* Any thread: "who: op, running for 1.2 s", or "idle (...)" when nothing is
 * recorded. Retries while a write is in progress, at most a few times.
 * Returns the length written (always terminated, cut to n). now_ns is
 * CLOCK_MONOTONIC. */
size_t nl_activity_describe(nl_activity *a, uint64_t now_ns, char *buf, size_t n);

typedef struct nl_watchdog nl_watchdog;

typedef struct nl_watchdog_config {
    uint64_t timeout_ns;       /* no heartbeat for this long -> log + abort (required) */
    uint64_t beat_interval_ns; /* the loop's beat timer; 0: timeout / 4, at most 1 s */
} nl_watchdog_config;

/* Loop thread: arms the beat timer on loop and starts the watchdog thread.
 * act is the loop owner's activity slot (may be NULL: the log then only
 * says the loop stalled); it, ctx and the loop must outlive the watchdog.
 * Stop the watchdog before leaving the loop on purpose for longer than the
 * timeout (e.g. a teardown after nl_loop_run returned), or it will fire.
 * Returns 0, NL_EINVAL (timeout 0), NL_ENOMEM, or a thread creation error. */
int nl_watchdog_start(nl_watchdog **out, nl_loop *loop, const nl_ctx *ctx, nl_activity *act,
                      const nl_watchdog_config *cfg);

/* Loop thread: stops the timer and the thread and sets *wd to NULL (NULL is
 * a no-op). Waits at most a second for the thread; one that does not end
 * by then (it could only be stuck in the log callback) is detached and frees
 * itself when it ends. Returns 0, or NL_ETIMEDOUT when it had to detach. */
int nl_watchdog_stop(nl_watchdog **wd);

/* Any thread: nanoseconds since the heartbeat was last seen to move, as
 * the watchdog thread measures it (to the precision of its check period),
 * for neolink_watchdog_heartbeat_age_seconds. */
uint64_t nl_watchdog_heartbeat_age_ns(const nl_watchdog *wd);

#endif
