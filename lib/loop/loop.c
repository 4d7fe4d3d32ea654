/* The event loop: one epoll set, one eventfd, one timer heap. This file owns
 * the iteration (see include/neolink/loop.h for the order and
 * docs/internals/LOOP.md for why it is that order); io.c, timer.c and
 * wakeup.c implement the pieces. */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/time.h"
#include "loop/loop_priv.h"
#include "neolink/error.h"

NL_EXPORT int nl_loop_create(nl_loop **out)
{
    *out = NULL;
    nl_loop *loop = nl__calloc(1, sizeof *loop);
    if (!loop)
        return NL_ENOMEM;
    int rc = 0;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->evfd = -1;
    if (loop->epfd < 0) {
        rc = nl_err_from_errno(errno);
        goto fail;
    }
    loop->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->evfd < 0) {
        rc = nl_err_from_errno(errno);
        goto fail;
    }
    /* The eventfd's epoll tag is the loop itself: it can never be an nl_io. */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = loop};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->evfd, &ev) < 0) {
        rc = nl_err_from_errno(errno);
        goto fail;
    }
    rc = pthread_mutex_init(&loop->post_mu, NULL);
    if (rc != 0) {
        rc = nl_err_from_errno(rc);
        goto fail;
    }
    nl__loop_timers_init(loop);
    loop->clock = nl_clock_real_fn;
    loop->now = loop->clock(NULL);
    atomic_init(&loop->heartbeat, 0);
    *out = loop;
    return 0;
fail:
    if (loop->evfd >= 0)
        close(loop->evfd);
    if (loop->epfd >= 0)
        close(loop->epfd);
    nl__free(loop);
    return rc;
}

/* Step 5. Runs at most `budget` deferred entries; returns how many ran. */
static int run_deferred(nl_loop *loop, unsigned budget)
{
    int ran = 0;
    while (loop->defer_head && budget--) {
        nl_deferred *d = loop->defer_head;
        loop->defer_head = d->next;
        if (!loop->defer_head)
            loop->defer_tail = NULL;
        /* Unlinked before the call: fn usually frees the object holding d,
         * and may defer d (or others) again. */
        d->next = NULL;
        d->queued = false;
        d->fn(d);
        ran++;
    }
    return ran;
}

NL_EXPORT void nl_loop_destroy(nl_loop **pl)
{
    if (!pl || !*pl)
        return;
    nl_loop *loop = *pl;
    /* Deferred closes are frees the owners are counting on; run them all.
     * The bound only stops a fn that re-defers itself forever. */
    for (unsigned rounds = 0; loop->defer_head && rounds < 256; rounds++)
        run_deferred(loop, NL_LOOP_DEFER_BUDGET);
    nl__loop_free_posts(loop);
    nl_heap_free(&loop->timers);
    close(loop->evfd);
    close(loop->epfd);
    pthread_mutex_destroy(&loop->post_mu);
    nl__free(loop);
    *pl = NULL;
}

NL_EXPORT int nl_loop_fd(const nl_loop *loop)
{
    return loop->epfd;
}

NL_EXPORT uint64_t nl_loop_now(const nl_loop *loop)
{
    return loop->now;
}

NL_EXPORT int nl_loop_timeout_ms(nl_loop *loop)
{
    if (loop->defer_head)
        return 0;
    const nl_timer *t = nl_heap_peek(&loop->timers);
    if (!t)
        return -1;
    return nl_deadline_to_ms(loop->clock(loop->clock_ud), t->due);
}

/* How long epoll_wait may block: the caller's limit, shortened by the next
 * timer, zero when deferred work is already waiting. */
static int wait_ms(nl_loop *loop, int timeout_ms)
{
    if (timeout_ms == 0)
        return 0;
    int t = nl_loop_timeout_ms(loop);
    if (t < 0)
        return timeout_ms;
    if (timeout_ms < 0 || t < timeout_ms)
        return t;
    return timeout_ms;
}

NL_EXPORT int nl_loop_run_once(nl_loop *loop, int timeout_ms)
{
    int n = epoll_wait(loop->epfd, loop->events, NL_LOOP_MAX_EVENTS, wait_ms(loop, timeout_ms));
    if (n < 0) {
        if (errno != EINTR)
            return nl_err_from_errno(errno);
        n = 0;
    }
    loop->nevents = n;

    /* 1. one clock read for the whole iteration */
    loop->now = loop->clock(loop->clock_ud);
    atomic_fetch_add_explicit(&loop->heartbeat, 1, memory_order_relaxed);
    int ran = 0;
    /* 2. timers, 3. I/O, 4. posts, 5. deferred closes */
    ran += nl__loop_run_timers(loop);
    ran += nl__loop_dispatch_io(loop);
    ran += nl__loop_run_posts(loop);
    ran += run_deferred(loop, NL_LOOP_DEFER_BUDGET);
    return ran;
}

NL_EXPORT int nl_loop_run(nl_loop *loop)
{
    int rc = 0;
    while (!loop->stop) {
        rc = nl_loop_run_once(loop, -1);
        if (rc < 0)
            break;
    }
    /* A stop is consumed by the run it ended, so the loop can run again. */
    loop->stop = false;
    return rc < 0 ? rc : 0;
}

NL_EXPORT void nl_loop_stop(nl_loop *loop)
{
    loop->stop = true;
}

void nl_loop_defer(nl_loop *loop, nl_deferred *d, void (*fn)(nl_deferred *d))
{
    if (d->queued)
        return;
    d->fn = fn;
    d->next = NULL;
    d->queued = true;
    if (loop->defer_tail)
        loop->defer_tail->next = d;
    else
        loop->defer_head = d;
    loop->defer_tail = d;
}

void nl_loop_set_clock(nl_loop *loop, nl_clock_fn fn, void *ud)
{
    loop->clock = fn ? fn : nl_clock_real_fn;
    loop->clock_ud = fn ? ud : NULL;
    loop->now = loop->clock(loop->clock_ud);
}

void nl_loop_update_time(nl_loop *loop)
{
    loop->now = loop->clock(loop->clock_ud);
}

uint64_t nl_loop_heartbeat(const nl_loop *loop)
{
    return atomic_load_explicit((atomic_uint_fast64_t *)&loop->heartbeat, memory_order_relaxed);
}
