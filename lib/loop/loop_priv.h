/* The body of nl_loop, shared by the files of lib/loop only (loop.c runs the
 * iteration, io.c/timer.c/wakeup.c implement the watchers and the
 * cross-thread entries). Nothing outside lib/loop may include this. */
#ifndef NL_LOOP_PRIV_H
#define NL_LOOP_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "core/heap.h"
#include "loop/loop_int.h"

/* Events collected per epoll_wait; more simply wait for the next iteration
 * (level-triggered, so nothing is lost). */
#define NL_LOOP_MAX_EVENTS 64
/* Deferred closes run per iteration at most; the rest run next iteration.
 * Bounds a deferred fn that keeps deferring itself. */
#define NL_LOOP_DEFER_BUDGET 4096u
/* Post nodes kept for reuse (24 bytes each). */
#define NL_LOOP_POST_FREE_MAX 256u

typedef struct nl_post {
    struct nl_post *next;
    void (*fn)(void *arg);
    void *arg;
} nl_post;

struct nl_loop {
    int epfd; /* nl_loop_fd(): readable when any watched fd or the wakeup is */
    int evfd; /* eventfd written by nl_loop_post/nl_loop_wakeup */

    nl_clock_fn clock;
    void *clock_ud;
    uint64_t now; /* cached at step 1 of each iteration */

    nl_heap timers;
    uint64_t timer_seq; /* next insertion number: FIFO among equal deadlines */

    size_t io_count; /* nl_io watchers between start and stop */
    bool stop;
    atomic_uint_fast64_t heartbeat;

    /* Step 3 state: the events of the current epoll_wait, so nl_io_stop can
     * blank the ones not yet dispatched for the fd it removes. */
    struct epoll_event events[NL_LOOP_MAX_EVENTS];
    int nevents;

    /* Step 4: posted callbacks, the only state touched by other threads. */
    pthread_mutex_t post_mu;
    nl_post *post_head, *post_tail;
    nl_post *post_free; /* recycled nodes: steady per-frame posts do not allocate */
    size_t post_free_len;

    /* Step 5: deferred closes, FIFO. */
    nl_deferred *defer_head, *defer_tail;
};

/* wakeup.c */
void nl__loop_drain_wakeup(nl_loop *loop);
int nl__loop_run_posts(nl_loop *loop);
void nl__loop_free_posts(nl_loop *loop);

/* timer.c */
void nl__loop_timers_init(nl_loop *loop);
int nl__loop_run_timers(nl_loop *loop);

/* io.c */
int nl__loop_dispatch_io(nl_loop *loop);

#endif
