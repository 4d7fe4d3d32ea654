/* Shared by the serve-runtime unit tests: one context (logs shown at warn
 * and above, everything with NL_TEST_VERBOSE) and one loop per test, and a
 * pump that runs the loop until a condition holds. Header-only: each test is
 * its own program. */
#ifndef SERVE_TEST_UTIL_H
#define SERVE_TEST_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/time.h"
#include "neolink/context.h"
#include "neolink/loop.h"
#include "server/server_int.h"
#include "test.h"

static nl_ctx *ctx;
static nl_loop *loop;

/* Waits stretch tenfold under valgrind. */
static int slow(void)
{
    return getenv("NL_UNDER_VALGRIND") ? 10 : 1;
}

static void log_fn(void *ud, nl_log_level level, const char *line)
{
    (void)ud;
    if (getenv("NL_TEST_VERBOSE") || level <= NL_LOG_WARN)
        fprintf(stderr, "  log %d: %s\n", level, line);
}

static void setup(void)
{
    nl_ctx_config cc = {.log_fn = log_fn, .log_level = NL_LOG_DEBUG};
    NL_ASSERT_OK(nl_ctx_create(&ctx, &cc));
    NL_ASSERT_OK(nl_loop_create(&loop));
}

/* Lets deferred closes run, checks nothing is left on the loop, frees. */
static void teardown(void)
{
    for (int i = 0; i < 20; i++)
        nl_loop_run_once(loop, 0);
    NL_ASSERT_EQ(nl_loop_io_count(loop), 0);
    NL_ASSERT_EQ(nl_loop_timer_count(loop), 0);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
}

/* Runs the loop until cond(ud) or ms pass (stretched under valgrind when
 * waiting for a condition); returns cond's last value. */
static bool pump(int ms, bool (*cond)(void *), void *ud)
{
    uint64_t end = nl_time_mono_ns() + (uint64_t)ms * (cond ? slow() : 1) * NL_NS_PER_MS;
    while (nl_time_mono_ns() < end) {
        if (cond && cond(ud))
            return true;
        nl_loop_run_once(loop, 20);
    }
    return cond ? cond(ud) : true;
}

#endif
