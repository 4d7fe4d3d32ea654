/* Threads of lib/hw: start with accounting, timed join, abandon.
 *
 * Every thread this module starts is in the NL__HWL_THREADS list from just
 * before pthread_create until its body says it is done, so "workers running"
 * counts abandoned threads that are still stuck, too. Stopping is always a
 * request (the caller's own flag) followed by nl__hw_thread_join(), which
 * waits at most a deadline (pthread_timedjoin_np) and otherwise detaches the
 * thread and counts it abandoned. The caller logs what the thread was doing,
 * since only it knows. */
#ifndef NL_HW_THREAD_H
#define NL_HW_THREAD_H

#include <pthread.h>
#include <stdint.h>

#include "hw/hw_stats.h"
#include "neolink/context.h"

/* Starts fn(arg) on a new thread with `node` linked in the running list.
 * The body must call nl__hw_thread_done(node) before it releases the memory
 * that holds node (typically its last statement). Returns 0 or a negative
 * errno code (node unlinked again). */
int nl__hw_thread_start(pthread_t *th, nl__hw_node *node, void *(*fn)(void *), void *arg);

/* Called by the thread body when it no longer touches shared state. */
void nl__hw_thread_done(nl__hw_node *node);

/* Joins th within timeout_ms (NL_HW_WAIT_FOREVER: plain join). On time-out
 * the thread is detached and counted in workers_abandoned. Returns 0 or
 * NL_ETIMEDOUT. */
int nl__hw_thread_join(pthread_t th, uint32_t timeout_ms);

/* Runs fn(arg) on a helper thread and joins it within timeout_ms; on
 * time-out the helper is abandoned (it finishes fn on its own) and a WARN
 * line says "<who>: <what> abandoned after N ms". When no thread can be
 * started, fn runs on the calling thread. NL_HW_WAIT_FOREVER runs fn inline.
 * Returns 0 or NL_ETIMEDOUT. */
int nl__hw_run_bounded(const nl_ctx *ctx, const char *who, const char *what, void (*fn)(void *),
                       void *arg, uint32_t timeout_ms);

#endif
