/* I/O readiness on a socketpair: read/write events, mask changes, hang-up,
 * and nl_io_stop during dispatch suppressing events already collected. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop/loop_int.h"
#include "neolink/error.h"
#include "test.h"

typedef struct watcher {
    nl_io io;
    int calls;
    unsigned last;
    char buf[64];
    ssize_t got;
} watcher;

static void on_ready(nl_io *io, unsigned events)
{
    watcher *w = io->data;
    w->calls++;
    w->last = events;
    if (events & NL_IO_READ)
        w->got = read(io->fd, w->buf, sizeof w->buf);
}

static void pair(int sv[2])
{
    NL_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_read_write(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    int sv[2];
    pair(sv);
    watcher w = {0};
    nl_io_init(&w.io, sv[0], on_ready, &w);
    NL_ASSERT_OK(nl_io_start(loop, &w.io, NL_IO_READ));
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 1);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0);
    NL_ASSERT_EQ(w.calls, 0);

    NL_ASSERT_EQ(write(sv[1], "ping", 4), 4);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 1000), 1);
    NL_ASSERT_EQ(w.calls, 1);
    NL_ASSERT_UEQ(w.last, NL_IO_READ);
    NL_ASSERT_EQ(w.got, 4);
    NL_ASSERT_MEMEQ(w.buf, "ping", 4);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0); /* drained: quiet */

    /* an idle socket is writable at once */
    NL_ASSERT_OK(nl_io_start(loop, &w.io, NL_IO_READ | NL_IO_WRITE));
    NL_ASSERT_OK(nl_io_start(loop, &w.io, NL_IO_READ | NL_IO_WRITE)); /* same mask: cheap */
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 1);
    NL_ASSERT_UEQ(w.last, NL_IO_WRITE);

    /* mask 0: still registered (counted) but never called */
    NL_ASSERT_OK(nl_io_start(loop, &w.io, 0));
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 1);
    NL_ASSERT_EQ(write(sv[1], "x", 1), 1);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 20), 0);
    NL_ASSERT_EQ(w.calls, 2);
    NL_ASSERT_OK(nl_io_start(loop, &w.io, NL_IO_READ));
    NL_ASSERT_EQ(nl_loop_run_once(loop, 1000), 1);
    NL_ASSERT_EQ(w.got, 1);

    /* peer closes: read readiness plus an error flag, read() returns 0 */
    close(sv[1]);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 1000), 1);
    NL_ASSERT(w.last & NL_IO_READ);
    NL_ASSERT(w.last & NL_IO_ERROR);
    NL_ASSERT_EQ(w.got, 0);

    nl_io_stop(loop, &w.io);
    nl_io_stop(loop, &w.io); /* twice is harmless */
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 0);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 0);
    close(sv[0]);
    nl_loop_destroy(&loop);
}

/* Two ready sockets whose callbacks each stop the other: whichever runs
 * first, the other's already-collected event must not be delivered. */
static nl_loop *g_loop;
static watcher *g_other[2];
static void stops_other(nl_io *io, unsigned events)
{
    watcher *w = io->data;
    w->calls++;
    w->last = events;
    watcher *victim = (w == g_other[1]) ? g_other[0] : g_other[1];
    nl_io_stop(g_loop, &victim->io);
}

static void test_stop_suppresses_collected_events(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    g_loop = loop;
    int a[2], b[2];
    pair(a);
    pair(b);
    watcher wa = {0}, wb = {0};
    g_other[0] = &wa;
    g_other[1] = &wb;
    nl_io_init(&wa.io, a[0], stops_other, &wa);
    nl_io_init(&wb.io, b[0], stops_other, &wb);
    NL_ASSERT_OK(nl_io_start(loop, &wa.io, NL_IO_READ));
    NL_ASSERT_OK(nl_io_start(loop, &wb.io, NL_IO_READ));
    NL_ASSERT_EQ(write(a[1], "1", 1), 1);
    NL_ASSERT_EQ(write(b[1], "2", 1), 1);
    /* make sure both are ready before the single iteration */
    usleep(1000);
    NL_ASSERT_EQ(nl_loop_run_once(loop, 1000), 1);
    NL_ASSERT_EQ(wa.calls + wb.calls, 1);
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 1);
    nl_io_stop(loop, &wa.io);
    nl_io_stop(loop, &wb.io);
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 0);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    nl_loop_destroy(&loop);
}

/* A callback that narrows another watcher's mask: that watcher's collected
 * WRITE event is filtered by its new mask. */
static watcher *g_narrow;
static void narrows_other(nl_io *io, unsigned events)
{
    watcher *w = io->data;
    w->calls++;
    NL_ASSERT_OK(nl_io_start(g_loop, &g_narrow->io, NL_IO_READ));
    (void)events;
}

static void test_mask_change_filters(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    g_loop = loop;
    int a[2], b[2];
    pair(a);
    pair(b);
    watcher wa = {0}, wb = {0};
    g_narrow = &wb;
    nl_io_init(&wa.io, a[0], narrows_other, &wa);
    nl_io_init(&wb.io, b[0], on_ready, &wb);
    NL_ASSERT_OK(nl_io_start(loop, &wb.io, NL_IO_WRITE)); /* registered first */
    NL_ASSERT_OK(nl_io_start(loop, &wa.io, NL_IO_WRITE));
    int total = 0;
    /* In whichever order epoll reports them, wb is called at most once with
     * WRITE, and never after wa narrowed it to READ. */
    total += nl_loop_run_once(loop, 0);
    NL_ASSERT(wa.calls == 1);
    NL_ASSERT(wb.calls <= 1);
    total += nl_loop_run_once(loop, 0);
    NL_ASSERT(wb.calls <= 1);
    NL_ASSERT(total >= 2);
    nl_io_stop(loop, &wa.io);
    nl_io_stop(loop, &wb.io);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    nl_loop_destroy(&loop);
}

static void test_bad_fd(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    watcher w = {0};
    nl_io_init(&w.io, 1000000, on_ready, &w);
    NL_ASSERT_EQ(nl_io_start(loop, &w.io, NL_IO_READ), NL_EBADF);
    NL_ASSERT(!w.io.added);
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 0);
    nl_io_stop(loop, &w.io); /* never started: no-op */
    nl_loop_destroy(&loop);
}

int main(void)
{
    NL_RUN(test_read_write);
    NL_RUN(test_stop_suppresses_collected_events);
    NL_RUN(test_mask_change_filters);
    NL_RUN(test_bad_fd);
    NL_DONE();
}
