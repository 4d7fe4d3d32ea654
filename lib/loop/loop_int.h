/* Internal loop API used by every module that owns sockets or timers.
 *
 * Watchers and timers are intrusive: they live inside the object that owns
 * them, so starting or stopping one never allocates (timer heap growth aside,
 * which is amortised and happens at setup, not per frame).
 *
 * Lifetime rule: an object that owns a watcher stops it and then frees itself
 * through nl_loop_defer(), never inside its own callback. */
#ifndef NL_LOOP_INT_H
#define NL_LOOP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/time.h"
#include "neolink/loop.h"

enum {
    NL_IO_READ = 1u << 0,
    NL_IO_WRITE = 1u << 1,
    NL_IO_ERROR = 1u << 2, /* EPOLLERR/EPOLLHUP/EPOLLRDHUP: read to find out */
};

typedef struct nl_io nl_io;
typedef void (*nl_io_cb)(nl_io *io, unsigned events);

struct nl_io {
    int fd;
    unsigned want;  /* events currently requested */
    bool added;     /* between nl_io_start and nl_io_stop (counted by nl_loop_io_count) */
    bool polled;    /* in the epoll set: added with want != 0 (a quiet fd is taken out
                     * of epoll so a hung-up peer cannot make it spin on EPOLLHUP) */
    nl_io_cb cb;
    void *data;
};

void nl_io_init(nl_io *io, int fd, nl_io_cb cb, void *data);
/* Sets the wanted events (0 keeps the fd registered but quiet). Returns 0 or
 * a negative code. Cheap when `events` equals the current mask. */
int nl_io_start(nl_loop *loop, nl_io *io, unsigned events);
/* Unregisters the fd (does not close it). Safe to call twice. Events already
 * collected for this iteration are not delivered after it returns. Call it
 * before closing the fd. */
void nl_io_stop(nl_loop *loop, nl_io *io);

typedef struct nl_timer nl_timer;
typedef void (*nl_timer_cb)(nl_timer *t);

struct nl_timer {
    uint64_t due;     /* absolute deadline, ns on the loop's clock */
    uint64_t seq;     /* insertion order: FIFO among equal deadlines */
    size_t slot;      /* heap index, SIZE_MAX when not armed */
    nl_timer_cb cb;
    void *data;
};

void nl_timer_init(nl_timer *t, nl_timer_cb cb, void *data);
/* Arms (or re-arms) the timer for absolute time `due`. Returns 0 or NL_ENOMEM
 * (heap growth; re-arming an armed timer never allocates, so never fails).
 * A re-armed timer goes behind others with the same deadline. */
int nl_timer_start(nl_loop *loop, nl_timer *t, uint64_t due);
/* Arms the timer `after_ns` after the loop's cached now. */
int nl_timer_start_in(nl_loop *loop, nl_timer *t, uint64_t after_ns);
void nl_timer_stop(nl_loop *loop, nl_timer *t);
static inline bool nl_timer_armed(const nl_timer *t) { return t->slot != SIZE_MAX; }

/* Deferred work run at step 5 of the iteration (after every callback), used
 * to free objects safely. Intrusive, so deferring never allocates. */
typedef struct nl_deferred {
    struct nl_deferred *next;
    void (*fn)(struct nl_deferred *d);
    bool queued;
} nl_deferred;

/* Queues d once; calling it again while queued is a no-op. */
void nl_loop_defer(nl_loop *loop, nl_deferred *d, void (*fn)(nl_deferred *d));

/* Replaces the loop's clock (tests). The cached now is re-read at once. */
void nl_loop_set_clock(nl_loop *loop, nl_clock_fn fn, void *ud);
/* Re-reads the clock outside an iteration (e.g. after a fake clock moved). */
void nl_loop_update_time(nl_loop *loop);

/* Number of armed timers and registered fds (leak checks in tests). */
size_t nl_loop_timer_count(const nl_loop *loop);
size_t nl_loop_io_count(const nl_loop *loop);

/* Heartbeat: incremented once per iteration; read by the watchdog thread
 * with relaxed atomics. */
uint64_t nl_loop_heartbeat(const nl_loop *loop);

#endif
