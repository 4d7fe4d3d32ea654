/* Starting the library's own threads.
 *
 * Every thread the library starts (simulator encoders, the resolver helper,
 * transcode and snapshot workers, the watchdog) begins with every signal
 * blocked: the host's signals (SIGTERM, SIGINT, SIGHUP, SIGCHLD...) must
 * reach the host's own threads, which may wait for them with signalfd or
 * sigwait, never a library worker that does not know what to do with them. */
#ifndef NL_CORE_THREAD_H
#define NL_CORE_THREAD_H

#include <pthread.h>

/* pthread_create with all signals blocked in the new thread (the caller's
 * mask is restored before returning). Returns 0 or an errno value, like
 * pthread_create. Any thread. */
int nl__thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

#endif
