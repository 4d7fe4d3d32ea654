/* The thread-safe entries: nl_loop_post from other threads (run on the loop
 * thread, in post order) and nl_loop_wakeup interrupting a blocked wait. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/alloc.h"
#include "neolink/error.h"
#include "test.h"

enum { PER_THREAD = 2000, THREADS = 3 };

typedef struct counter {
    pthread_t loop_thread;
    int seen[THREADS]; /* last sequence number seen per poster */
    int total;
    int out_of_order;
    int wrong_thread;
} counter;

static counter C;

typedef struct msg {
    int thread, seq;
} msg;

static msg msgs[THREADS][PER_THREAD];

static void on_post(void *arg)
{
    msg *m = arg;
    if (!pthread_equal(pthread_self(), C.loop_thread))
        C.wrong_thread++;
    if (m->seq != C.seen[m->thread] + 1)
        C.out_of_order++;
    C.seen[m->thread] = m->seq;
    C.total++;
}

typedef struct poster {
    nl_loop *loop;
    int id;
} poster;

static void *post_thread(void *arg)
{
    poster *p = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        msgs[p->id][i] = (msg){p->id, i + 1};
        if (nl_loop_post(p->loop, on_post, &msgs[p->id][i]) < 0)
            return (void *)1;
    }
    return NULL;
}

static void test_posts_from_threads(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    C = (counter){.loop_thread = pthread_self()};
    pthread_t th[THREADS];
    poster ps[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ps[i] = (poster){loop, i};
        NL_ASSERT_EQ(pthread_create(&th[i], NULL, post_thread, &ps[i]), 0);
    }
    uint64_t deadline = nl_time_mono_ns() + 30 * NL_NS_PER_S;
    while (C.total < THREADS * PER_THREAD && nl_time_mono_ns() < deadline)
        NL_ASSERT_OK(nl_loop_run_once(loop, 100));
    for (int i = 0; i < THREADS; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        NL_ASSERT(rv == NULL);
    }
    NL_ASSERT_EQ(C.total, THREADS * PER_THREAD);
    NL_ASSERT_EQ(C.out_of_order, 0);
    NL_ASSERT_EQ(C.wrong_thread, 0);
    for (int i = 0; i < THREADS; i++)
        NL_ASSERT_EQ(C.seen[i], PER_THREAD);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0);
    NL_ASSERT_EQ(nl_loop_post(loop, NULL, NULL), NL_EINVAL);
    nl_loop_destroy(&loop);
}

typedef struct waker {
    nl_loop *loop;
    atomic_int go;
} waker;

static void *wake_later(void *arg)
{
    waker *w = arg;
    while (!atomic_load(&w->go))
        usleep(1000);
    usleep(50 * 1000);
    nl_loop_wakeup(w->loop);
    return NULL;
}

static void test_wakeup_interrupts_wait(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    waker w = {.loop = loop};
    atomic_init(&w.go, 0);
    pthread_t th;
    NL_ASSERT_EQ(pthread_create(&th, NULL, wake_later, &w), 0);
    atomic_store(&w.go, 1);
    uint64_t t0 = nl_time_mono_ns();
    /* no timers, no fds: only the wakeup can end this wait early */
    NL_ASSERT_EQ(nl_loop_run_once(loop, 20000), 0);
    uint64_t took = nl_time_mono_ns() - t0;
    pthread_join(th, NULL);
    NL_ASSERT(took < 10 * NL_NS_PER_S);
    /* the wakeup was consumed: the next zero wait finds nothing */
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0);
    /* many wakeups collapse into one readable state */
    for (int i = 0; i < 100; i++)
        nl_loop_wakeup(loop);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0);
    nl_loop_destroy(&loop);
}

/* nl_loop_run on a worker thread, stopped by a posted callback. */
static void stop_it(void *arg)
{
    nl_loop_stop(arg);
}

static void *run_thread(void *arg)
{
    return (void *)(intptr_t)nl_loop_run(arg);
}

static void test_run_stopped_by_post(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    pthread_t th;
    NL_ASSERT_EQ(pthread_create(&th, NULL, run_thread, loop), 0);
    usleep(20 * 1000);
    uint64_t hb = nl_loop_heartbeat(loop);
    NL_ASSERT_OK(nl_loop_post(loop, stop_it, loop));
    void *rv;
    pthread_join(th, &rv);
    NL_ASSERT_EQ((intptr_t)rv, 0);
    NL_ASSERT(nl_loop_heartbeat(loop) > hb);
    nl_loop_destroy(&loop);
}

/* Steady state: posting per frame reuses nodes instead of allocating. */
static long mallocs;
static void *counting_malloc(void *ud, size_t n)
{
    (void)ud;
    mallocs++;
    return malloc(n);
}
static void *counting_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    mallocs++;
    return realloc(p, n);
}
static void plain_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static int frames;
static void on_frame(void *arg)
{
    (void)arg;
    frames++;
}

static void test_posts_recycled(void)
{
    static const nl_allocator counting = {counting_malloc, counting_realloc, plain_free, NULL};
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    long live = nl_allocator_live();
    nl_allocator_set(&counting);
    for (int i = 0; i < 8; i++) /* warm up: a burst of 8 in flight */
        NL_ASSERT_OK(nl_loop_post(loop, on_frame, NULL));
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 8);
    mallocs = 0;
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < 8; i++)
            NL_ASSERT_OK(nl_loop_post(loop, on_frame, NULL));
        NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 8);
    }
    NL_ASSERT_EQ(mallocs, 0);
    NL_ASSERT_EQ(frames, 8 * 1001);
    NL_ASSERT_EQ(nl_allocator_live(), live + 8); /* the recycled nodes */
    nl_loop_destroy(&loop);
    nl_allocator_set(NULL);
    NL_ASSERT_EQ(nl_allocator_live(), live - 1);
}

int main(void)
{
    NL_RUN(test_posts_recycled);
    NL_RUN(test_posts_from_threads);
    NL_RUN(test_wakeup_interrupts_wait);
    NL_RUN(test_run_stopped_by_post);
    NL_DONE();
}
