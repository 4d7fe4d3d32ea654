/* Deadline arithmetic saturates, rounds up for poll(), and the fake clock
 * moves only when told. */
#include <limits.h>

#include "core/time.h"
#include "neolink/error.h"
#include "test.h"

static void test_saturating_math(void)
{
    NL_ASSERT_UEQ(nl_sat_add(1, 2), 3);
    NL_ASSERT_UEQ(nl_sat_add(UINT64_MAX - 1, 1), UINT64_MAX);
    NL_ASSERT_UEQ(nl_sat_add(UINT64_MAX - 1, 5), UINT64_MAX);
    NL_ASSERT_UEQ(nl_sat_add(UINT64_MAX, UINT64_MAX), UINT64_MAX);
    NL_ASSERT_UEQ(nl_deadline_after(100, 50), 150);
    NL_ASSERT_UEQ(nl_deadline_after(100, NL_TIME_NEVER), NL_TIME_NEVER);
    NL_ASSERT_UEQ(nl_deadline_after(NL_TIME_NEVER, 1), NL_TIME_NEVER);
}

static void test_passed_and_left(void)
{
    NL_ASSERT(!nl_deadline_passed(99, 100));
    NL_ASSERT(nl_deadline_passed(100, 100));
    NL_ASSERT(nl_deadline_passed(101, 100));
    NL_ASSERT(!nl_deadline_passed(UINT64_MAX - 1, NL_TIME_NEVER));
    NL_ASSERT_UEQ(nl_deadline_left(40, 100), 60);
    NL_ASSERT_UEQ(nl_deadline_left(100, 100), 0);
    NL_ASSERT_UEQ(nl_deadline_left(500, 100), 0);
}

static void test_to_ms_rounds_up(void)
{
    NL_ASSERT_EQ(nl_deadline_to_ms(0, NL_TIME_NEVER), -1);
    NL_ASSERT_EQ(nl_deadline_to_ms(12345, NL_TIME_NEVER), -1);
    NL_ASSERT_EQ(nl_deadline_to_ms(100, 100), 0);
    NL_ASSERT_EQ(nl_deadline_to_ms(200, 100), 0);
    NL_ASSERT_EQ(nl_deadline_to_ms(0, 1), 1);
    NL_ASSERT_EQ(nl_deadline_to_ms(0, NL_NS_PER_MS - 1), 1);
    NL_ASSERT_EQ(nl_deadline_to_ms(0, NL_NS_PER_MS), 1);
    NL_ASSERT_EQ(nl_deadline_to_ms(0, NL_NS_PER_MS + 1), 2);
    NL_ASSERT_EQ(nl_deadline_to_ms(5 * NL_NS_PER_MS, 7500 * UINT64_C(1000)), 3);
    NL_ASSERT_EQ(nl_deadline_to_ms(0, 1500 * NL_NS_PER_S), 1500000);
    /* far deadlines clamp instead of wrapping negative */
    NL_ASSERT_EQ(nl_deadline_to_ms(0, NL_TIME_NEVER - 1), INT32_MAX);
    NL_ASSERT_EQ(nl_deadline_to_ms(0, (uint64_t)INT32_MAX * NL_NS_PER_MS), INT32_MAX);
    NL_ASSERT_EQ(nl_deadline_to_ms(0, ((uint64_t)INT32_MAX - 1) * NL_NS_PER_MS), INT32_MAX - 1);
}

static void test_real_clocks(void)
{
    uint64_t a = nl_time_mono_ns();
    uint64_t b = nl_time_mono_ns();
    NL_ASSERT(a > 0);
    NL_ASSERT(b >= a);
    NL_ASSERT(nl_clock_real_fn(NULL) >= b);
    /* wall clock in µs: after 2020-01-01 (1577836800 s) */
    NL_ASSERT(nl_time_real_us() > UINT64_C(1577836800) * 1000000u);
}

static void test_fake_clock(void)
{
    nl_fake_clock fc = {.now_ns = 42};
    nl_clock_fn fn = nl_fake_clock_read;
    NL_ASSERT_UEQ(fn(&fc), 42);
    NL_ASSERT_UEQ(fn(&fc), 42);
    fc.now_ns += 5 * NL_NS_PER_S;
    NL_ASSERT_UEQ(fn(&fc), 42 + 5 * NL_NS_PER_S);
}

int main(void)
{
    NL_RUN(test_saturating_math);
    NL_RUN(test_passed_and_left);
    NL_RUN(test_to_ms_rounds_up);
    NL_RUN(test_real_clocks);
    NL_RUN(test_fake_clock);
    NL_DONE();
}
