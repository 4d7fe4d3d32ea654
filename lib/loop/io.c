/* fd watchers on the loop's epoll set (level-triggered: a callback that does
 * not drain its fd is simply called again next iteration, nothing is lost). */
#include <errno.h>
#include <stddef.h>

#include "loop/loop_priv.h"
#include "neolink/error.h"

void nl_io_init(nl_io *io, int fd, nl_io_cb cb, void *data)
{
    io->fd = fd;
    io->want = 0;
    io->added = false;
    io->polled = false;
    io->cb = cb;
    io->data = data;
}

static uint32_t to_epoll(unsigned want)
{
    uint32_t ev = 0;
    if (want & NL_IO_READ)
        ev |= EPOLLIN | EPOLLRDHUP;
    if (want & NL_IO_WRITE)
        ev |= EPOLLOUT;
    return ev;
}

/* Forgets events already collected for io in this iteration. O(events
 * collected), at most NL_LOOP_MAX_EVENTS. */
static void forget_events(nl_loop *loop, const nl_io *io)
{
    for (int i = 0; i < loop->nevents; i++) {
        if (loop->events[i].data.ptr == io)
            loop->events[i].data.ptr = NULL;
    }
}

int nl_io_start(nl_loop *loop, nl_io *io, unsigned events)
{
    events &= NL_IO_READ | NL_IO_WRITE;
    if (io->added && events == io->want)
        return 0;
    struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
    int rc = 0;
    if (events == 0) {
        if (io->polled)
            rc = epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    } else {
        rc = epoll_ctl(loop->epfd, io->polled ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, io->fd, &ev);
    }
    if (rc < 0)
        return nl_err_from_errno(errno);
    io->polled = events != 0;
    io->want = events;
    if (!io->added) {
        io->added = true;
        loop->io_count++;
    }
    return 0;
}

void nl_io_stop(nl_loop *loop, nl_io *io)
{
    if (!io->added)
        return;
    /* Fails with EBADF if the owner closed the fd first; the kernel dropped
     * the registration then, so there is nothing to undo. */
    if (io->polled)
        (void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->polled = false;
    io->added = false;
    io->want = 0;
    loop->io_count--;
    forget_events(loop, io);
}

size_t nl_loop_io_count(const nl_loop *loop)
{
    return loop->io_count;
}

static unsigned from_epoll(uint32_t ev, unsigned want)
{
    unsigned out = 0;
    if ((ev & EPOLLIN) && (want & NL_IO_READ))
        out |= NL_IO_READ;
    if ((ev & EPOLLOUT) && (want & NL_IO_WRITE))
        out |= NL_IO_WRITE;
    if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        out |= NL_IO_ERROR;
    return out;
}

int nl__loop_dispatch_io(nl_loop *loop)
{
    int ran = 0;
    for (int i = 0; i < loop->nevents; i++) {
        void *tag = loop->events[i].data.ptr;
        if (!tag)
            continue; /* its watcher was stopped earlier in this iteration */
        if (tag == loop) {
            nl__loop_drain_wakeup(loop);
            continue;
        }
        nl_io *io = tag;
        /* Filter by the current mask: a callback earlier in this iteration
         * may have narrowed it. */
        unsigned got = from_epoll(loop->events[i].events, io->want);
        if (!got || !io->polled)
            continue;
        io->cb(io, got);
        ran++;
    }
    loop->nevents = 0;
    return ran;
}
