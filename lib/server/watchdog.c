/* Loop watchdog thread and the activity slot it reports. See watchdog.h. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/thread.h"
#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/error.h"
#include "server/watchdog.h"

/* How long nl_watchdog_stop waits for the thread before detaching it. */
#define STOP_JOIN_NS NL_NS_PER_S

/* ---------------------------------------------------------------- activity */

void nl_activity_init(nl_activity *a)
{
    atomic_init(&a->op, NULL);
    atomic_init(&a->seq, 0);
    atomic_init(&a->since_ns, 0);
    for (size_t i = 0; i < NL_ACTIVITY_WORDS; i++)
        atomic_init(&a->who[i], 0);
}

/* Seqlock writer (loop thread only): seq is odd while the fields change, so
 * a reader that saw an odd or changed seq retries. Every field is an atomic
 * accessed with relaxed order; the fences give the ordering. */
static void write_begin(nl_activity *a, unsigned *s)
{
    *s = atomic_load_explicit(&a->seq, memory_order_relaxed);
    atomic_store_explicit(&a->seq, *s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void write_end(nl_activity *a, unsigned s)
{
    atomic_store_explicit(&a->seq, s + 2, memory_order_release);
}

void nl_activity_set(nl_activity *a, const char *who, const char *op)
{
    char name[NL_ACTIVITY_WORDS * 8] = {0};
    if (who) {
        size_t n = strlen(who);
        memcpy(name, who, n > NL_ACTIVITY_WHO_MAX ? NL_ACTIVITY_WHO_MAX : n);
    }
    unsigned s;
    write_begin(a, &s);
    for (size_t i = 0; i < NL_ACTIVITY_WORDS; i++) {
        uint64_t w;
        memcpy(&w, name + 8 * i, 8);
        atomic_store_explicit(&a->who[i], w, memory_order_relaxed);
    }
    atomic_store_explicit(&a->since_ns, nl_time_mono_ns(), memory_order_relaxed);
    atomic_store_explicit(&a->op, op, memory_order_relaxed);
    write_end(a, s);
}

void nl_activity_clear(nl_activity *a)
{
    unsigned s;
    write_begin(a, &s);
    atomic_store_explicit(&a->op, NULL, memory_order_relaxed);
    atomic_store_explicit(&a->since_ns, nl_time_mono_ns(), memory_order_relaxed);
    write_end(a, s);
}

size_t nl_activity_describe(nl_activity *a, uint64_t now_ns, char *buf, size_t n)
{
    if (n == 0)
        return 0;
    char name[NL_ACTIVITY_WORDS * 8 + 1];
    const char *op = NULL;
    uint64_t since = 0;
    bool ok = false;
    /* A stuck loop is not writing, so the first read is consistent; the
     * bound only matters when the loop is merely slow. */
    for (int tries = 0; tries < 16 && !ok; tries++) {
        unsigned s1 = atomic_load_explicit(&a->seq, memory_order_acquire);
        for (size_t i = 0; i < NL_ACTIVITY_WORDS; i++) {
            uint64_t w = atomic_load_explicit(&a->who[i], memory_order_relaxed);
            memcpy(name + 8 * i, &w, 8);
        }
        op = atomic_load_explicit(&a->op, memory_order_relaxed);
        since = atomic_load_explicit(&a->since_ns, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        unsigned s2 = atomic_load_explicit(&a->seq, memory_order_relaxed);
        ok = s1 == s2 && !(s1 & 1);
    }
    name[sizeof name - 1] = '\0';
    double secs = now_ns > since ? (double)(now_ns - since) / 1e9 : 0.0;
    int w;
    if (!ok)
        w = snprintf(buf, n, "unknown (activity changing)");
    else if (!op)
        w = snprintf(buf, n, "idle (no operation recorded) for %.1f s", secs);
    else if (name[0])
        w = snprintf(buf, n, "%s: %s, running for %.1f s", name, op, secs);
    else
        w = snprintf(buf, n, "%s, running for %.1f s", op, secs);
    if (w < 0)
        return 0;
    return (size_t)w < n ? (size_t)w : n - 1;
}

/* ---------------------------------------------------------------- watchdog */

struct nl_watchdog {
    nl_loop *loop;
    const nl_ctx *ctx;
    nl_activity *act;
    uint64_t timeout_ns, beat_ns, check_ns;
    nl_timer beat;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool stop;         /* under mu: the owner wants the thread to end */
    bool exited;       /* under mu: the thread left its loop */
    bool orphaned;     /* under mu: the owner gave up joining; the thread frees */
    atomic_uint_fast64_t last_move_ns;
};

static void on_beat(nl_timer *t)
{
    nl_watchdog *wd = t->data;
    /* Re-arming an armed-or-just-fired timer never allocates. The beat is
     * the iteration this timer causes, not anything done here. */
    (void)nl_timer_start_in(wd->loop, &wd->beat, wd->beat_ns);
}

static void wd_free(nl_watchdog *wd)
{
    pthread_cond_destroy(&wd->cv);
    pthread_mutex_destroy(&wd->mu);
    nl__free(wd);
}

static void stalled(nl_watchdog *wd, uint64_t now, uint64_t age)
{
    char what[256];
    if (wd->act)
        nl_activity_describe(wd->act, now, what, sizeof what);
    else
        snprintf(what, sizeof what, "unknown (no activity slot)");
    NL_LOGE(wd->ctx, "watchdog",
            "event loop stalled: no heartbeat for %.1f s (limit %.1f s); it was running: %s; "
            "aborting",
            (double)age / 1e9, (double)wd->timeout_ns / 1e9, what);
    abort();
}

static void *wd_main(void *arg)
{
    nl_watchdog *wd = arg;
    pthread_mutex_lock(&wd->mu);
    uint64_t last_hb = nl_loop_heartbeat(wd->loop);
    uint64_t last_move = nl_time_mono_ns();
    atomic_store_explicit(&wd->last_move_ns, last_move, memory_order_relaxed);
    while (!wd->stop) {
        uint64_t wake = nl_deadline_after(nl_time_mono_ns(), wd->check_ns);
        struct timespec ts = {.tv_sec = (time_t)(wake / NL_NS_PER_S),
                              .tv_nsec = (long)(wake % NL_NS_PER_S)};
        while (!wd->stop && pthread_cond_timedwait(&wd->cv, &wd->mu, &ts) == 0) {
        }
        if (wd->stop)
            break;
        uint64_t now = nl_time_mono_ns();
        uint64_t hb = nl_loop_heartbeat(wd->loop);
        if (hb != last_hb) {
            last_hb = hb;
            last_move = now;
            atomic_store_explicit(&wd->last_move_ns, now, memory_order_relaxed);
        } else if (now - last_move >= wd->timeout_ns) {
            pthread_mutex_unlock(&wd->mu);
            stalled(wd, now, now - last_move);
        }
    }
    wd->exited = true;
    bool orphaned = wd->orphaned;
    pthread_mutex_unlock(&wd->mu);
    if (orphaned)
        wd_free(wd);
    return NULL;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int nl_watchdog_start(nl_watchdog **out, nl_loop *loop, const nl_ctx *ctx, nl_activity *act,
                      const nl_watchdog_config *cfg)
{
    *out = NULL;
    if (!cfg || cfg->timeout_ns == 0)
        return NL_EINVAL;
    nl_watchdog *wd = nl__calloc(1, sizeof(*wd));
    if (!wd)
        return NL_ENOMEM;
    wd->loop = loop;
    wd->ctx = ctx;
    wd->act = act;
    wd->timeout_ns = cfg->timeout_ns;
    wd->beat_ns = cfg->beat_interval_ns ? cfg->beat_interval_ns
                                        : clamp(cfg->timeout_ns / 4, NL_NS_PER_MS, NL_NS_PER_S);
    /* Checking ten times per timeout bounds detection at timeout + 10 %. */
    wd->check_ns = clamp(cfg->timeout_ns / 10, NL_NS_PER_MS, NL_NS_PER_S);
    atomic_init(&wd->last_move_ns, nl_time_mono_ns());

    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        rc = pthread_cond_init(&wd->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (rc != 0) {
        nl__free(wd);
        return nl_err_from_errno(rc);
    }
    rc = pthread_mutex_init(&wd->mu, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&wd->cv);
        nl__free(wd);
        return nl_err_from_errno(rc);
    }
    nl_timer_init(&wd->beat, on_beat, wd);
    rc = nl_timer_start_in(loop, &wd->beat, wd->beat_ns);
    if (rc < 0) {
        wd_free(wd);
        return rc;
    }
    rc = nl__thread_create(&wd->thread, NULL, wd_main, wd);
    if (rc != 0) {
        nl_timer_stop(loop, &wd->beat);
        wd_free(wd);
        return nl_err_from_errno(rc);
    }
    NL_LOGD(ctx, "watchdog", "started: abort after %.1f s without a heartbeat",
            (double)wd->timeout_ns / 1e9);
    *out = wd;
    return 0;
}

int nl_watchdog_stop(nl_watchdog **pwd)
{
    if (!pwd || !*pwd)
        return 0;
    nl_watchdog *wd = *pwd;
    *pwd = NULL;
    nl_timer_stop(wd->loop, &wd->beat);
    pthread_mutex_lock(&wd->mu);
    wd->stop = true;
    pthread_cond_signal(&wd->cv);
    pthread_mutex_unlock(&wd->mu);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* pthread_timedjoin_np takes realtime */
    uint64_t at = (uint64_t)ts.tv_sec * NL_NS_PER_S + (uint64_t)ts.tv_nsec + STOP_JOIN_NS;
    ts.tv_sec = (time_t)(at / NL_NS_PER_S);
    ts.tv_nsec = (long)(at % NL_NS_PER_S);
    if (pthread_timedjoin_np(wd->thread, NULL, &ts) == 0) {
        wd_free(wd);
        return 0;
    }
    pthread_mutex_lock(&wd->mu);
    if (wd->exited) {
        /* It ended right after the timeout: an ordinary join is immediate. */
        pthread_mutex_unlock(&wd->mu);
        pthread_join(wd->thread, NULL);
        wd_free(wd);
        return 0;
    }
    /* From here the thread owns wd and frees it: copy what we still use. */
    wd->orphaned = true;
    const nl_ctx *ctx = wd->ctx;
    pthread_t th = wd->thread;
    pthread_mutex_unlock(&wd->mu);
    pthread_detach(th);
    NL_LOGW(ctx, "watchdog", "thread did not stop within 1 s; detached");
    return NL_ETIMEDOUT;
}

uint64_t nl_watchdog_heartbeat_age_ns(const nl_watchdog *wd)
{
    uint64_t last = atomic_load_explicit(&((nl_watchdog *)wd)->last_move_ns, memory_order_relaxed);
    uint64_t now = nl_time_mono_ns();
    return now > last ? now - last : 0;
}
