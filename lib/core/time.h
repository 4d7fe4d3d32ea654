/* Monotonic time and deadlines. All times are nanoseconds on CLOCK_MONOTONIC.
 * Deadline arithmetic saturates, so "forever" (NL_TIME_NEVER) never wraps.
 * Every timeout decision in the library is a pure function of "now" so tests
 * drive it with a fake clock instead of sleeping. */
#ifndef NL_CORE_TIME_H
#define NL_CORE_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define NL_TIME_NEVER UINT64_MAX
#define NL_NS_PER_MS UINT64_C(1000000)
#define NL_NS_PER_S UINT64_C(1000000000)

/* A clock source: the real monotonic clock or a test's fake one. */
typedef uint64_t (*nl_clock_fn)(void *ud);

uint64_t nl_time_mono_ns(void);        /* CLOCK_MONOTONIC in ns */
uint64_t nl_time_real_us(void);        /* CLOCK_REALTIME in µs (for RTCP/NTP only) */
uint64_t nl_clock_real_fn(void *ud);   /* nl_clock_fn wrapper of nl_time_mono_ns */

/* A fake clock for tests: time moves only when the test says so. */
typedef struct nl_fake_clock {
    uint64_t now_ns;
} nl_fake_clock;
uint64_t nl_fake_clock_read(void *ud); /* ud is an nl_fake_clock* */

static inline uint64_t nl_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Absolute deadline `dur_ns` after `now`; NL_TIME_NEVER stays NEVER. */
static inline uint64_t nl_deadline_after(uint64_t now, uint64_t dur_ns)
{
    return nl_sat_add(now, dur_ns);
}

static inline bool nl_deadline_passed(uint64_t now, uint64_t deadline)
{
    return now >= deadline;
}

/* ns left until deadline, 0 once passed. */
static inline uint64_t nl_deadline_left(uint64_t now, uint64_t deadline)
{
    return now >= deadline ? 0 : deadline - now;
}

/* Milliseconds for poll()/epoll_wait(): rounds up, clamps to INT32_MAX,
 * -1 for NL_TIME_NEVER. */
int nl_deadline_to_ms(uint64_t now, uint64_t deadline);

#endif
