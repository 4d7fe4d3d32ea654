/* Embedding: a host drives the loop from its own poll() on nl_loop_fd(),
 * using nl_loop_timeout_ms() as its timeout and nl_loop_run_once(loop, 0). */
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/error.h"
#include "test.h"

static int io_calls, timer_calls, post_calls;

static void on_io(nl_io *io, unsigned events)
{
    char b[16];
    (void)!read(io->fd, b, sizeof b);
    io_calls++;
    (void)events;
}

static void on_timer(nl_timer *t)
{
    (void)t;
    timer_calls++;
}

static void on_post(void *arg)
{
    (void)arg;
    post_calls++;
}

/* One turn of the host's loop: returns poll()'s result. */
static int host_turn(nl_loop *loop, int cap_ms)
{
    struct pollfd p = {.fd = nl_loop_fd(loop), .events = POLLIN};
    int t = nl_loop_timeout_ms(loop);
    if (t < 0 || t > cap_ms)
        t = cap_ms;
    int r = poll(&p, 1, t);
    NL_ASSERT(r >= 0);
    NL_ASSERT_OK(nl_loop_run_once(loop, 0));
    return r;
}

static void *post_later(void *arg)
{
    usleep(30 * 1000);
    nl_loop_post(arg, on_post, NULL);
    return NULL;
}

static void test_host_poll(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    NL_ASSERT(nl_loop_fd(loop) >= 0);
    int sv[2];
    NL_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    nl_io io;
    nl_io_init(&io, sv[0], on_io, NULL);
    NL_ASSERT_OK(nl_io_start(loop, &io, NL_IO_READ));

    /* idle: the loop fd is not readable */
    struct pollfd p = {.fd = nl_loop_fd(loop), .events = POLLIN};
    NL_ASSERT_EQ(poll(&p, 1, 0), 0);
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), -1);

    /* data on a watched socket makes the loop fd readable */
    NL_ASSERT_EQ(write(sv[1], "hi", 2), 2);
    NL_ASSERT_EQ(host_turn(loop, 5000), 1);
    NL_ASSERT_EQ(io_calls, 1);
    NL_ASSERT_EQ(poll(&p, 1, 0), 0); /* drained */

    /* a timer: the host sleeps in poll() for nl_loop_timeout_ms() */
    nl_timer t;
    nl_timer_init(&t, on_timer, NULL);
    /* t0 before the loop reads its clock: the timer is due 30 ms after the
     * loop's now, which is never earlier than t0 (valgrind runs slowly). */
    uint64_t t0 = nl_time_mono_ns();
    nl_loop_update_time(loop);
    NL_ASSERT_OK(nl_timer_start_in(loop, &t, 30 * NL_NS_PER_MS));
    int ms = nl_loop_timeout_ms(loop);
    NL_ASSERT(ms >= 0 && ms <= 30);
    for (int i = 0; i < 100 && timer_calls == 0; i++)
        host_turn(loop, 5000);
    NL_ASSERT_EQ(timer_calls, 1);
    NL_ASSERT(nl_time_mono_ns() - t0 >= 30 * NL_NS_PER_MS);
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), -1);

    /* a post from another thread makes the loop fd readable */
    pthread_t th;
    NL_ASSERT_EQ(pthread_create(&th, NULL, post_later, loop), 0);
    NL_ASSERT_EQ(host_turn(loop, 10000), 1);
    pthread_join(th, NULL);
    NL_ASSERT_EQ(post_calls, 1);
    NL_ASSERT_EQ(poll(&p, 1, 0), 0); /* wakeup drained by run_once */

    nl_io_stop(loop, &io);
    close(sv[0]);
    close(sv[1]);
    nl_loop_destroy(&loop);
}

int main(void)
{
    NL_RUN(test_host_poll);
    NL_DONE();
}
