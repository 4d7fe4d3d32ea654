/* See thread.h. */
#include <signal.h>

#include "core/thread.h"

int nl__thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    /* A new thread inherits the creator's mask: block everything around the
     * create, so there is no moment where the thread can take a signal. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(th, attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
