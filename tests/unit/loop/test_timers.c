/* Timers on a fake clock: earliest first, FIFO among equal deadlines,
 * cancel and re-arm from inside callbacks, timeout computation. No sleeping. */
#include <string.h>

#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/error.h"
#include "test.h"

static char order[256];

static void append(const char *s)
{
    size_t at = strlen(order), n = strlen(s);
    if (at + n < sizeof order)
        memcpy(order + at, s, n + 1);
}

static void named(nl_timer *t)
{
    append(t->data);
}

static nl_loop *make_loop(nl_fake_clock *fc)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    nl_loop_set_clock(loop, nl_fake_clock_read, fc);
    return loop;
}

#define MS(x) ((uint64_t)(x)*NL_NS_PER_MS)

static void test_order_and_fifo_ties(void)
{
    order[0] = '\0';
    nl_fake_clock fc = {.now_ns = MS(1000)};
    nl_loop *loop = make_loop(&fc);
    NL_ASSERT_UEQ(nl_loop_now(loop), MS(1000));
    nl_timer t30, t10a, t20, t10b, t10c;
    nl_timer_init(&t30, named, "30,");
    nl_timer_init(&t10a, named, "10a,");
    nl_timer_init(&t20, named, "20,");
    nl_timer_init(&t10b, named, "10b,");
    nl_timer_init(&t10c, named, "10c,");
    NL_ASSERT(!nl_timer_armed(&t30));
    NL_ASSERT_OK(nl_timer_start_in(loop, &t30, MS(30)));
    NL_ASSERT_OK(nl_timer_start_in(loop, &t10a, MS(10)));
    NL_ASSERT_OK(nl_timer_start_in(loop, &t20, MS(20)));
    NL_ASSERT_OK(nl_timer_start(loop, &t10b, MS(1010)));
    NL_ASSERT_OK(nl_timer_start_in(loop, &t10c, MS(10)));
    NL_ASSERT(nl_timer_armed(&t30));
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 5);

    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0); /* nothing due yet */
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), 10);
    fc.now_ns = MS(1015);
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), 0);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 3);
    NL_ASSERT_STREQ(order, "10a,10b,10c,");
    NL_ASSERT_UEQ(nl_loop_now(loop), MS(1015));
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), 5);
    fc.now_ns = MS(2000); /* both remaining due at once: earliest first */
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 2);
    NL_ASSERT_STREQ(order, "10a,10b,10c,20,30,");
    NL_ASSERT(!nl_timer_armed(&t30));
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), -1);
    nl_loop_destroy(&loop);
    NL_ASSERT(loop == NULL);
}

static void test_rearm_moves_to_back_of_tie(void)
{
    order[0] = '\0';
    nl_fake_clock fc = {.now_ns = 0};
    nl_loop *loop = make_loop(&fc);
    nl_timer a, b, c;
    nl_timer_init(&a, named, "a,");
    nl_timer_init(&b, named, "b,");
    nl_timer_init(&c, named, "c,");
    NL_ASSERT_OK(nl_timer_start(loop, &a, MS(5)));
    NL_ASSERT_OK(nl_timer_start(loop, &b, MS(5)));
    NL_ASSERT_OK(nl_timer_start(loop, &c, MS(5)));
    NL_ASSERT_OK(nl_timer_start(loop, &a, MS(5))); /* re-armed: now last */
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 3);
    nl_timer_stop(loop, &b);
    nl_timer_stop(loop, &b); /* twice is harmless */
    NL_ASSERT(!nl_timer_armed(&b));
    fc.now_ns = MS(5);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 2);
    NL_ASSERT_STREQ(order, "c,a,");
    nl_loop_destroy(&loop);
}

/* Callbacks that act on other timers. */
static nl_loop *g_loop;
static nl_timer *g_victim, *g_later;
static int rearm_count;

static void cancels_victim(nl_timer *t)
{
    append(t->data);
    nl_timer_stop(g_loop, g_victim);
}

static void arms_later(nl_timer *t)
{
    append(t->data);
    /* due "now": must wait for the next iteration, not run in this one */
    NL_ASSERT_OK(nl_timer_start(g_loop, g_later, nl_loop_now(g_loop)));
}

static void rearms_self(nl_timer *t)
{
    append(t->data);
    if (++rearm_count < 3)
        NL_ASSERT_OK(nl_timer_start_in(g_loop, t, 0));
}

static void test_cancel_and_rearm_inside_callbacks(void)
{
    order[0] = '\0';
    nl_fake_clock fc = {.now_ns = 0};
    nl_loop *loop = make_loop(&fc);
    g_loop = loop;
    nl_timer killer, victim, arm, later;
    nl_timer_init(&killer, cancels_victim, "killer,");
    nl_timer_init(&victim, named, "victim,");
    nl_timer_init(&arm, arms_later, "arm,");
    nl_timer_init(&later, named, "later,");
    g_victim = &victim;
    g_later = &later;
    NL_ASSERT_OK(nl_timer_start(loop, &killer, MS(1)));
    NL_ASSERT_OK(nl_timer_start(loop, &victim, MS(1))); /* same deadline, after killer */
    NL_ASSERT_OK(nl_timer_start(loop, &arm, MS(2)));
    fc.now_ns = MS(3);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 2);
    NL_ASSERT_STREQ(order, "killer,arm,");
    NL_ASSERT(nl_timer_armed(&later));
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), 0);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 1);
    NL_ASSERT_STREQ(order, "killer,arm,later,");

    /* a timer re-arming itself for "now" runs once per iteration, never spins */
    order[0] = '\0';
    rearm_count = 0;
    nl_timer self;
    nl_timer_init(&self, rearms_self, "s,");
    NL_ASSERT_OK(nl_timer_start_in(loop, &self, 0));
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 1);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 1);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 1);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0);
    NL_ASSERT_STREQ(order, "s,s,s,");
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
    nl_loop_destroy(&loop);
}

static void test_timeout_rounding_and_never(void)
{
    nl_fake_clock fc = {.now_ns = 0};
    nl_loop *loop = make_loop(&fc);
    nl_timer t;
    nl_timer_init(&t, named, "t,");
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), -1);
    NL_ASSERT_OK(nl_timer_start(loop, &t, 1500 * UINT64_C(1000))); /* 1.5 ms */
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), 2);
    fc.now_ns = 1499 * UINT64_C(1000);
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), 1);
    /* start_in counts from the cached now, which only moves per iteration or
     * on nl_loop_update_time */
    NL_ASSERT_UEQ(nl_loop_now(loop), 0);
    nl_loop_update_time(loop);
    NL_ASSERT_UEQ(nl_loop_now(loop), 1499 * UINT64_C(1000));
    NL_ASSERT_OK(nl_timer_start_in(loop, &t, MS(10)));
    NL_ASSERT_UEQ(t.due, 1499 * UINT64_C(1000) + MS(10));
    /* "never" does not wrap into the past */
    NL_ASSERT_OK(nl_timer_start_in(loop, &t, NL_TIME_NEVER));
    NL_ASSERT_UEQ(t.due, NL_TIME_NEVER);
    fc.now_ns = UINT64_MAX - 1;
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0);
    nl_timer_stop(loop, &t);
    /* back to the real clock */
    nl_loop_set_clock(loop, NULL, NULL);
    NL_ASSERT(nl_loop_now(loop) < UINT64_MAX / 2);
    nl_loop_destroy(&loop);
}

enum { MANY = 2000 };
static nl_timer many[MANY];
static int fired_idx[MANY], nfired;

static void record_index(nl_timer *t)
{
    fired_idx[nfired++] = (int)(t - many);
}

static void test_many_timers(void)
{
    /* 2000 timers over 50 distinct deadlines, a third cancelled from the
     * middle of the heap: the rest fire by deadline, FIFO within each. */
    nl_fake_clock fc = {.now_ns = 0};
    nl_loop *loop = make_loop(&fc);
    for (int i = 0; i < MANY; i++) {
        nl_timer_init(&many[i], record_index, NULL);
        NL_ASSERT_OK(nl_timer_start(loop, &many[i], MS(1 + (i * 7919) % 50)));
    }
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), MANY);
    for (int i = 0; i < MANY; i += 3)
        nl_timer_stop(loop, &many[i]);
    int expected = MANY - (MANY + 2) / 3;
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), expected);
    nfired = 0;
    fc.now_ns = MS(25); /* half of them */
    int first = nl_loop_run_once(loop, 0);
    NL_ASSERT(first > 0 && first < expected);
    fc.now_ns = MS(100);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), expected - first);
    NL_ASSERT_EQ(nfired, expected);
    for (int k = 0; k < nfired; k++) {
        int i = fired_idx[k];
        NL_ASSERT(i % 3 != 0);
        if (k > 0) {
            int j = fired_idx[k - 1];
            NL_ASSERT(many[j].due <= many[i].due);
            if (many[j].due == many[i].due)
                NL_ASSERT(j < i);
        }
    }
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
    nl_loop_destroy(&loop);
}

int main(void)
{
    NL_RUN(test_order_and_fifo_ties);
    NL_RUN(test_rearm_moves_to_back_of_tie);
    NL_RUN(test_cancel_and_rearm_inside_callbacks);
    NL_RUN(test_timeout_rounding_and_never);
    NL_RUN(test_many_timers);
    NL_DONE();
}
