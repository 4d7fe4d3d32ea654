/* Fault injection for the loop: fail allocation N for N = 1, 2, ... while
 * creating a loop, arming timers (heap growth) and posting. Every failure is
 * a clean error and nothing leaks. */
#include <stdbool.h>
#include <stdlib.h>

#include "loop/loop_int.h"
#include "neolink/alloc.h"
#include "neolink/error.h"
#include "fail_alloc.h"
#include "test.h"


static int posted;
static void on_post(void *arg)
{
    (void)arg;
    posted++;
}

static int fired;
static void on_timer(nl_timer *t)
{
    (void)t;
    fired++;
}

static int scenario(void)
{
    int failures = 0;
    nl_loop *loop = NULL;
    int rc = nl_loop_create(&loop);
    if (rc < 0) {
        NL_ASSERT_EQ(rc, NL_ENOMEM);
        NL_ASSERT(loop == NULL);
        return 1;
    }
    enum { N = 100 };
    static nl_timer ts[N];
    int armed = 0;
    for (int i = 0; i < N; i++) {
        nl_timer_init(&ts[i], on_timer, NULL);
        rc = nl_timer_start_in(loop, &ts[i], (uint64_t)(i + 1) * 1000000000u);
        if (rc < 0) {
            NL_ASSERT_EQ(rc, NL_ENOMEM);
            NL_ASSERT(!nl_timer_armed(&ts[i]));
            failures++;
        } else {
            armed++;
        }
    }
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), armed);
    /* re-arming an armed timer never needs memory */
    for (int i = 0; i < N; i++) {
        if (nl_timer_armed(&ts[i]))
            NL_ASSERT_OK(nl_timer_start(loop, &ts[i], 0));
    }
    fired = 0;
    posted = 0;
    int queued = 0;
    for (int i = 0; i < 20; i++) {
        rc = nl_loop_post(loop, on_post, NULL);
        if (rc < 0) {
            NL_ASSERT_EQ(rc, NL_ENOMEM);
            failures++;
        } else {
            queued++;
        }
    }
    NL_ASSERT_OK(nl_loop_run_once(loop, 0));
    NL_ASSERT_EQ(posted, queued);
    NL_ASSERT_EQ(fired, armed);
    for (int i = 0; i < N; i++)
        nl_timer_stop(loop, &ts[i]);
    nl_loop_destroy(&loop);
    return failures;
}

static void test_sweep(void)
{
    long base = nl_allocator_live();
    int n;
    for (n = 1; n < 10000; n++) {
        nl_fail_alloc_arm(n, false);
        int failures = scenario();
        nl_allocator_set(NULL);
        NL_ASSERT_EQ(nl_allocator_live(), base);
        if (!nl_fail_alloc_injected()) {
            NL_ASSERT_EQ(failures, 0);
            break;
        }
        NL_ASSERT(failures > 0);
    }
    NL_ASSERT(n > 20);
    printf("  loop: swept %d allocation points\n", n - 1);
}

int main(void)
{
    NL_RUN(test_sweep);
    NL_DONE();
}
