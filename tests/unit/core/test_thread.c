/* Threads the library starts block every signal, whatever the creator's
 * mask, and the creator's mask is left as it was. */
#include <signal.h>

#include "core/thread.h"
#include "test.h"

static void *report_mask(void *arg)
{
    sigset_t *out = arg;
    pthread_sigmask(SIG_SETMASK, NULL, out);
    return NULL;
}

static void test_all_blocked(void)
{
    sigset_t none, before, after, seen;
    sigemptyset(&none);
    NL_ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &none, &before), 0);
    pthread_t th;
    NL_ASSERT_EQ(nl__thread_create(&th, NULL, report_mask, &seen), 0);
    NL_ASSERT_EQ(pthread_join(th, NULL), 0);
    NL_ASSERT(sigismember(&seen, SIGTERM) == 1);
    NL_ASSERT(sigismember(&seen, SIGINT) == 1);
    NL_ASSERT(sigismember(&seen, SIGHUP) == 1);
    NL_ASSERT(sigismember(&seen, SIGCHLD) == 1);
    NL_ASSERT_EQ(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
    NL_ASSERT(sigismember(&after, SIGTERM) == 0); /* the creator's mask is back */
    NL_ASSERT_EQ(pthread_sigmask(SIG_SETMASK, &before, NULL), 0);
}

int main(void)
{
    NL_RUN(test_all_blocked);
    NL_DONE();
}
