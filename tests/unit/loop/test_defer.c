/* Deferred closes: run at step 5, after timers, I/O and posts of the same
 * iteration, never inside the callback that requested them; a deferred fn
 * may defer more; destroy runs what is pending. Also checks the documented
 * iteration order end to end. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/list.h"
#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/alloc.h"
#include "neolink/error.h"
#include "test.h"

static char order[256];
static void append(const char *s)
{
    size_t at = strlen(order), n = strlen(s);
    if (at + n < sizeof order)
        memcpy(order + at, s, n + 1);
}

/* An object that frees itself through the loop. */
typedef struct conn {
    nl_io io;
    nl_timer timer;
    nl_deferred close_d;
    nl_loop *loop;
    int *in_callback;
    int *freed;
} conn;

static int in_cb;
static int freed_count;

static void conn_free(nl_deferred *d)
{
    conn *c = nl_container_of(d, conn, close_d);
    NL_ASSERT_EQ(*c->in_callback, 0); /* never inside the requesting callback */
    append("free,");
    (*c->freed)++;
    nl__free(c);
}

static void conn_close(conn *c)
{
    nl_io_stop(c->loop, &c->io);
    nl_timer_stop(c->loop, &c->timer);
    nl_loop_defer(c->loop, &c->close_d, conn_free);
    nl_loop_defer(c->loop, &c->close_d, conn_free); /* queued once only */
}

static void conn_on_io(nl_io *io, unsigned events)
{
    conn *c = io->data;
    in_cb = 1;
    append("io,");
    char b[8];
    (void)!read(io->fd, b, sizeof b);
    conn_close(c);
    /* the object is still valid here, after requesting its own close */
    NL_ASSERT(c->io.fd >= 0);
    in_cb = 0;
    (void)events;
}

static void on_timer(nl_timer *t)
{
    (void)t;
    append("timer,");
}

static void on_post(void *arg)
{
    (void)arg;
    append("post,");
}

static void test_order_within_iteration(void)
{
    order[0] = '\0';
    freed_count = 0;
    nl_fake_clock fc = {.now_ns = 1000};
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    nl_loop_set_clock(loop, nl_fake_clock_read, &fc);
    int sv[2];
    NL_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    conn *c = nl__calloc(1, sizeof *c);
    c->loop = loop;
    c->in_callback = &in_cb;
    c->freed = &freed_count;
    nl_io_init(&c->io, sv[0], conn_on_io, c);
    NL_ASSERT_OK(nl_io_start(loop, &c->io, NL_IO_READ));
    nl_timer t;
    nl_timer_init(&t, on_timer, NULL);
    NL_ASSERT_OK(nl_timer_start(loop, &t, 1000));
    NL_ASSERT_OK(nl_loop_post(loop, on_post, NULL));
    NL_ASSERT_EQ(write(sv[1], "x", 1), 1);
    usleep(1000);
    /* timer, io, post, deferred free: one iteration, documented order */
    NL_ASSERT_EQ(nl_loop_run_once(loop, 1000), 4);
    NL_ASSERT_STREQ(order, "timer,io,post,free,");
    NL_ASSERT_EQ(freed_count, 1);
    NL_ASSERT_UEQ(nl_loop_io_count(loop), 0);
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
    close(sv[0]);
    close(sv[1]);
    nl_loop_destroy(&loop);
}

/* Deferred fns that chain more deferred work. */
static nl_loop *g_loop;
static nl_deferred chain[5];
static int chain_pos;
static void chain_step(nl_deferred *d)
{
    (void)d;
    append("d,");
    if (++chain_pos < 5)
        nl_loop_defer(g_loop, &chain[chain_pos], chain_step);
}

static int self_runs;
static nl_deferred forever;
static void defers_itself(nl_deferred *d)
{
    self_runs++;
    nl_loop_defer(g_loop, d, defers_itself);
}

static void test_defer_chains_and_bound(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    g_loop = loop;
    order[0] = '\0';
    chain_pos = 0;
    memset(chain, 0, sizeof chain);
    nl_loop_defer(loop, &chain[0], chain_step);
    NL_ASSERT(chain[0].queued);
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), 0); /* pending work: do not sleep */
    /* all five run in the same iteration */
    NL_ASSERT_EQ(nl_loop_run_once(loop, 0), 5);
    NL_ASSERT_STREQ(order, "d,d,d,d,d,");
    NL_ASSERT(!chain[0].queued);
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), -1);

    /* a fn that re-defers itself forever is cut per iteration, and the
     * loop's wait stays zero so it keeps making progress */
    self_runs = 0;
    memset(&forever, 0, sizeof forever);
    nl_loop_defer(loop, &forever, defers_itself);
    int ran = nl_loop_run_once(loop, 5000);
    NL_ASSERT(ran > 1 && ran <= 100000);
    NL_ASSERT_EQ(self_runs, ran);
    NL_ASSERT_EQ(nl_loop_timeout_ms(loop), 0);
    uint64_t t0 = nl_time_mono_ns();
    NL_ASSERT_EQ(nl_loop_run_once(loop, 5000), ran); /* did not wait 5 s */
    NL_ASSERT(nl_time_mono_ns() - t0 < 4 * NL_NS_PER_S);
    /* destroy runs pending deferred work, bounded even for this one */
    nl_loop_destroy(&loop);
    NL_ASSERT(self_runs > 2 * ran);
}

static void test_destroy_runs_pending(void)
{
    freed_count = 0;
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    long base = nl_allocator_live();
    for (int i = 0; i < 10; i++) {
        conn *c = nl__calloc(1, sizeof *c);
        c->loop = loop;
        c->in_callback = &in_cb;
        c->freed = &freed_count;
        nl_loop_defer(loop, &c->close_d, conn_free);
    }
    NL_ASSERT_EQ(nl_allocator_live(), base + 10);
    nl_loop_destroy(&loop);
    NL_ASSERT_EQ(freed_count, 10);
    NL_ASSERT_EQ(nl_allocator_live(), base - 1); /* and the loop itself */
}

int main(void)
{
    NL_RUN(test_order_within_iteration);
    NL_RUN(test_defer_chains_and_bound);
    NL_RUN(test_destroy_runs_pending);
    NL_DONE();
}
