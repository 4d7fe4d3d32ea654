/**
 * @file loop.h
 * The event loop that owns every socket and timer of a libneolink instance.
 *
 * One loop per thread. Either let the library run it (nl_loop_run on a thread
 * of yours), or drive it from your own poll()/epoll loop: wait for
 * nl_loop_fd() to become readable, or for nl_loop_timeout_ms() to pass, then
 * call nl_loop_run_once(loop, 0).
 *
 * Iteration order of one run_once (after waiting for events, at most the
 * given timeout, shortened to the next timer deadline):
 *   1. read the clock once (cached as "now" for the whole iteration);
 *   2. run due timers, earliest first, FIFO among equal deadlines;
 *   3. dispatch I/O readiness callbacks;
 *   4. run callbacks posted from other threads (nl_loop_post), in post order;
 *   5. run deferred closes, so nothing is freed inside its own callback.
 * Timers armed during step 2 wait for the next iteration, so a timer that
 * re-arms itself for "now" cannot make one iteration spin.
 *
 * Threads: every function except nl_loop_post() and nl_loop_wakeup() must be
 * called on the loop's thread. Those two are the only thread-safe entries.
 */
#ifndef NEOLINK_LOOP_H
#define NEOLINK_LOOP_H

#include <stdint.h>

#include "neolink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nl_loop nl_loop;

/** Creates a loop (epoll + eventfd). Returns 0 or a negative code. Never blocks. */
NL_EXPORT int nl_loop_create(nl_loop **out);

/**
 * Destroys a loop, running pending deferred closes first, and sets *loop to
 * NULL. Objects still attached to the loop must have been closed by their
 * owners. NULL and a pointer to NULL are no-ops.
 */
NL_EXPORT void nl_loop_destroy(nl_loop **loop);

/**
 * The loop's epoll fd: it polls readable whenever a watched fd is ready or
 * another thread posted or woke the loop. Timers do not make it readable:
 * combine it with nl_loop_timeout_ms(). Owned by the loop; do not close.
 */
NL_EXPORT int nl_loop_fd(const nl_loop *loop);

/**
 * Milliseconds until the next timer is due (rounded up): -1 for none, 0 if
 * due now or deferred work is pending. Reads the loop's clock.
 */
NL_EXPORT int nl_loop_timeout_ms(nl_loop *loop);

/**
 * Runs one iteration, waiting at most timeout_ms for events (-1: until the
 * next timer or event; 0: do not wait). Returns the number of callbacks run,
 * or a negative code. Blocks for at most timeout_ms.
 */
NL_EXPORT int nl_loop_run_once(nl_loop *loop, int timeout_ms);

/**
 * Runs iterations until nl_loop_stop() is called (a stop requested before the
 * call makes it return at once; the stop is consumed either way, so the loop
 * can be run again). Returns 0 or a negative code. Blocks the calling thread
 * for as long as the loop runs.
 */
NL_EXPORT int nl_loop_run(nl_loop *loop);

/** Makes nl_loop_run return after the current iteration. Loop thread only. */
NL_EXPORT void nl_loop_stop(nl_loop *loop);

/**
 * Thread-safe: queues fn(arg) to run on the loop thread (step 4 above) and
 * wakes the loop. Returns 0 or NL_ENOMEM. Never blocks beyond a short mutex.
 */
NL_EXPORT int nl_loop_post(nl_loop *loop, void (*fn)(void *arg), void *arg);

/** Thread-safe: wakes the loop without queuing work. Never blocks. */
NL_EXPORT void nl_loop_wakeup(nl_loop *loop);

/** Monotonic time cached at the start of the current iteration, in ns. */
NL_EXPORT uint64_t nl_loop_now(const nl_loop *loop);

#ifdef __cplusplus
}
#endif
#endif
