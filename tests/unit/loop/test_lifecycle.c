/* Lifecycle: create/destroy many times without leaking fds or memory; stop;
 * heartbeat; destroy frees pending posts; counts return to zero. */
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/alloc.h"
#include "neolink/error.h"
#include "test.h"

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    NL_ASSERT(d != NULL);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void test_create_destroy_many(void)
{
    int fds = count_fds();
    long live = nl_allocator_live();
    int rounds = getenv("NL_UNDER_VALGRIND") ? 200 : 2000;
    for (int i = 0; i < rounds; i++) {
        nl_loop *loop = NULL;
        NL_ASSERT_OK(nl_loop_create(&loop));
        nl_timer t;
        nl_timer_init(&t, NULL, NULL);
        NL_ASSERT_OK(nl_timer_start_in(loop, &t, NL_NS_PER_S));
        nl_timer_stop(loop, &t);
        NL_ASSERT_OK(nl_loop_run_once(loop, 0));
        nl_loop_destroy(&loop);
        NL_ASSERT(loop == NULL);
    }
    NL_ASSERT_EQ(count_fds(), fds);
    NL_ASSERT_EQ(nl_allocator_live(), live);
    nl_loop_destroy(NULL);
    nl_loop *none = NULL;
    nl_loop_destroy(&none);
}

static int ran;
static void never(void *arg)
{
    (void)arg;
    ran++;
}

static void test_destroy_frees_posts(void)
{
    long live = nl_allocator_live();
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    for (int i = 0; i < 50; i++)
        NL_ASSERT_OK(nl_loop_post(loop, never, NULL));
    NL_ASSERT(nl_allocator_live() > live + 50);
    nl_loop_destroy(&loop);
    NL_ASSERT_EQ(ran, 0); /* freed, not run */
    NL_ASSERT_EQ(nl_allocator_live(), live);
}

static void stop_now(nl_timer *t)
{
    nl_loop_stop(t->data);
}

static void test_stop_and_heartbeat(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    NL_ASSERT_UEQ(nl_loop_heartbeat(loop), 0);
    for (int i = 0; i < 5; i++)
        NL_ASSERT_OK(nl_loop_run_once(loop, 0));
    NL_ASSERT_UEQ(nl_loop_heartbeat(loop), 5);

    /* nl_loop_run returns after the iteration in which stop was called */
    nl_timer t;
    nl_timer_init(&t, stop_now, loop);
    NL_ASSERT_OK(nl_timer_start_in(loop, &t, 5 * NL_NS_PER_MS));
    NL_ASSERT_OK(nl_loop_run(loop));
    NL_ASSERT(nl_loop_heartbeat(loop) > 5);
    NL_ASSERT(!nl_timer_armed(&t));
    /* the stop was consumed: a second run works the same */
    NL_ASSERT_OK(nl_timer_start_in(loop, &t, NL_NS_PER_MS));
    uint64_t hb = nl_loop_heartbeat(loop);
    NL_ASSERT_OK(nl_loop_run(loop));
    NL_ASSERT(nl_loop_heartbeat(loop) > hb);
    /* stop before run: run returns at once */
    nl_loop_stop(loop);
    hb = nl_loop_heartbeat(loop);
    NL_ASSERT_OK(nl_loop_run(loop));
    NL_ASSERT_UEQ(nl_loop_heartbeat(loop), hb);
    nl_loop_destroy(&loop);
}

static void noop_io(nl_io *io, unsigned ev)
{
    (void)io;
    (void)ev;
}

static void test_counts_return_to_zero(void)
{
    int fds = count_fds();
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    int sv[2];
    NL_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    nl_io a, b;
    nl_io_init(&a, sv[0], noop_io, NULL);
    nl_io_init(&b, sv[1], noop_io, NULL);
    NL_ASSERT_OK(nl_io_start(loop, &a, NL_IO_READ));
    NL_ASSERT_OK(nl_io_start(loop, &b, 0));
    nl_timer ts[3];
    for (int i = 0; i < 3; i++) {
        nl_timer_init(&ts[i], NULL, NULL);
        NL_ASSERT_OK(nl_timer_start_in(loop, &ts[i], NL_NS_PER_S));
    }
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 2);
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 3);
    nl_io_stop(loop, &a);
    nl_io_stop(loop, &b);
    for (int i = 0; i < 3; i++)
        nl_timer_stop(loop, &ts[i]);
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 0);
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
    nl_loop_destroy(&loop);
    close(sv[0]);
    close(sv[1]);
    NL_ASSERT_EQ(count_fds(), fds); /* epoll fd and eventfd closed */
}

int main(void)
{
    NL_RUN(test_create_destroy_many);
    NL_RUN(test_destroy_frees_posts);
    NL_RUN(test_stop_and_heartbeat);
    NL_RUN(test_counts_return_to_zero);
    NL_DONE();
}
