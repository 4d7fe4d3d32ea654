/* Timers: a min-heap ordered by (deadline, insertion number). The insertion
 * number makes equal deadlines fire in the order they were armed, and lets
 * one iteration skip timers armed during it (a callback re-arming itself for
 * "now" would otherwise spin forever inside step 2). */
#include <stdint.h>

#include "core/time.h"
#include "loop/loop_priv.h"

static bool timer_less(const void *a, const void *b)
{
    const nl_timer *x = a, *y = b;
    if (x->due != y->due)
        return x->due < y->due;
    return x->seq < y->seq;
}

static void timer_set_index(void *elem, size_t index)
{
    ((nl_timer *)elem)->slot = index;
}

void nl__loop_timers_init(nl_loop *loop)
{
    nl_heap_init(&loop->timers, timer_less, timer_set_index);
    loop->timer_seq = 0;
}

void nl_timer_init(nl_timer *t, nl_timer_cb cb, void *data)
{
    t->due = NL_TIME_NEVER;
    t->seq = 0;
    t->slot = SIZE_MAX;
    t->cb = cb;
    t->data = data;
}

int nl_timer_start(nl_loop *loop, nl_timer *t, uint64_t due)
{
    /* Re-arming removes first, so the push below reuses the freed slot and
     * cannot fail for a timer that was already armed. */
    if (nl_timer_armed(t))
        nl_heap_remove(&loop->timers, t->slot);
    t->due = due;
    t->seq = loop->timer_seq++;
    return nl_heap_push(&loop->timers, t);
}

int nl_timer_start_in(nl_loop *loop, nl_timer *t, uint64_t after_ns)
{
    return nl_timer_start(loop, t, nl_deadline_after(loop->now, after_ns));
}

void nl_timer_stop(nl_loop *loop, nl_timer *t)
{
    if (nl_timer_armed(t))
        nl_heap_remove(&loop->timers, t->slot);
}

size_t nl_loop_timer_count(const nl_loop *loop)
{
    return loop->timers.len;
}

int nl__loop_run_timers(nl_loop *loop)
{
    uint64_t limit = loop->timer_seq;
    int ran = 0;
    for (;;) {
        nl_timer *t = nl_heap_peek(&loop->timers);
        if (!t || t->due > loop->now || t->seq >= limit)
            break;
        nl_heap_pop(&loop->timers); /* disarmed before its callback runs */
        t->cb(t);
        ran++;
    }
    return ran;
}
