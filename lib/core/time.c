/* Clock reads and the one deadline conversion that is not a one-liner. The
 * inline helpers in time.h do the rest, so timeout logic stays a pure
 * function of "now". */
#include <limits.h>
#include <time.h>

#include "core/time.h"

uint64_t nl_time_mono_ns(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NL_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t nl_time_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000) + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t nl_clock_real_fn(void *ud)
{
    (void)ud;
    return nl_time_mono_ns();
}

uint64_t nl_fake_clock_read(void *ud)
{
    return ((const nl_fake_clock *)ud)->now_ns;
}

int nl_deadline_to_ms(uint64_t now, uint64_t deadline)
{
    if (deadline == NL_TIME_NEVER)
        return -1;
    uint64_t left = nl_deadline_left(now, deadline);
    /* Round up: waking a little late is harmless, waking early makes the
     * caller spin through a zero-timeout poll until the deadline. */
    uint64_t ms = left / NL_NS_PER_MS + (left % NL_NS_PER_MS != 0);
    return ms > (uint64_t)INT32_MAX ? INT32_MAX : (int)ms;
}
