/* The loop watchdog: the activity slot's description, an idle loop kept
 * alive by the beat timer, a blocked loop killed with SIGABRT within the
 * timeout (in a forked child) after a log line naming the operation, and
 * quick, leak-free stop. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "server/watchdog.h"
#include "test.h"

static int slow(void)
{
    return getenv("NL_UNDER_VALGRIND") != NULL;
}

static void test_activity(void)
{
    nl_activity a;
    nl_activity_init(&a);
    char buf[256];
    uint64_t now = nl_time_mono_ns();
    nl_activity_describe(&a, now, buf, sizeof buf);
    NL_ASSERT(!strncmp(buf, "idle (no operation recorded)", 28));

    nl_activity_set(&a, "camera yard", "login");
    nl_activity_describe(&a, nl_time_mono_ns() + 2500 * NL_NS_PER_MS, buf, sizeof buf);
    NL_ASSERT_STREQ(buf, "camera yard: login, running for 2.5 s");

    nl_activity_set(&a, NULL, "config reload");
    nl_activity_describe(&a, nl_time_mono_ns(), buf, sizeof buf);
    NL_ASSERT_STREQ(buf, "config reload, running for 0.0 s");

    /* a long subject is cut at NL_ACTIVITY_WHO_MAX bytes */
    char lng[200];
    memset(lng, 'n', sizeof lng);
    lng[sizeof lng - 1] = '\0';
    nl_activity_set(&a, lng, "connect");
    size_t n = nl_activity_describe(&a, nl_time_mono_ns(), buf, sizeof buf);
    NL_ASSERT_EQ(strspn(buf, "n"), NL_ACTIVITY_WHO_MAX);
    NL_ASSERT(!strncmp(buf + NL_ACTIVITY_WHO_MAX, ": connect, running", 18));
    NL_ASSERT_EQ(n, strlen(buf));

    /* a short buffer: cut and terminated */
    char small[8];
    NL_ASSERT_EQ(nl_activity_describe(&a, 0, small, sizeof small), 7);
    NL_ASSERT_STREQ(small, "nnnnnnn");

    nl_activity_clear(&a);
    nl_activity_describe(&a, nl_time_mono_ns(), buf, sizeof buf);
    NL_ASSERT(!strncmp(buf, "idle", 4));
}

/* An idle loop waits in epoll for ever unless something wakes it: the
 * beat timer must, or an idle server would be killed. */
static void test_idle_loop_survives(void)
{
    nl_ctx *ctx = NULL;
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_ctx_create(&ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&loop));
    nl_activity act;
    nl_activity_init(&act);
    nl_watchdog *wd = NULL;
    nl_watchdog_config cfg = {.timeout_ns = 200 * NL_NS_PER_MS};
    NL_ASSERT_EQ(nl_watchdog_start(&wd, loop, ctx, &act, &(nl_watchdog_config){0}), NL_EINVAL);
    NL_ASSERT(wd == NULL);
    NL_ASSERT_OK(nl_watchdog_start(&wd, loop, ctx, &act, &cfg));
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 1);
    uint64_t hb0 = nl_loop_heartbeat(loop);
    uint64_t end = nl_time_mono_ns() + 1000 * NL_NS_PER_MS;
    while (nl_time_mono_ns() < end)
        nl_loop_run_once(loop, -1); /* blocks until the next timer */
    /* timeout / 4 = 50 ms beats: about 20 iterations in a second */
    uint64_t beats = nl_loop_heartbeat(loop) - hb0;
    NL_ASSERT(beats >= 5 && beats <= 40); /* fewer only if descheduled */
    NL_ASSERT(nl_watchdog_heartbeat_age_ns(wd) < 200 * NL_NS_PER_MS);

    uint64_t t0 = nl_time_mono_ns();
    NL_ASSERT_EQ(nl_watchdog_stop(&wd), 0);
    NL_ASSERT(wd == NULL);
    NL_ASSERT(nl_time_mono_ns() - t0 < (slow() ? 1000 : 100) * NL_NS_PER_MS);
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
    NL_ASSERT_EQ(nl_watchdog_stop(&wd), 0); /* NULL: no-op */
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
}

static void test_start_stop_many(void)
{
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_loop_create(&loop));
    nl_watchdog_config cfg = {.timeout_ns = 60 * NL_NS_PER_S};
    for (int i = 0; i < 50; i++) {
        nl_watchdog *wd = NULL;
        NL_ASSERT_OK(nl_watchdog_start(&wd, loop, NULL, NULL, &cfg));
        if (i % 2)
            nl_loop_run_once(loop, 0);
        NL_ASSERT_EQ(nl_watchdog_stop(&wd), 0);
    }
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
    nl_loop_destroy(&loop);
}

/* ---- the stalled loop, in a child process */

static int log_fd = -1;

static void to_pipe(void *ud, nl_log_level level, const char *line)
{
    char buf[1100];
    int n = snprintf(buf, sizeof buf, "%s\n", line);
    if (n > 0)
        (void)!write(log_fd, buf, (size_t)n);
}

static nl_activity child_act;

/* The "hook that blocks the loop": a timer callback that marks what it
 * does, as real code would, then never returns. */
static void block_forever(nl_timer *t)
{
    nl_activity_set(&child_act, "camera yard", "login");
    for (;;)
        pause();
}

static void child(int wfd, uint64_t timeout_ns)
{
    log_fd = wfd;
    nl_ctx *ctx = NULL;
    nl_ctx_config cc = {.log_fn = to_pipe, .log_level = NL_LOG_ERROR};
    nl_ctx_create(&ctx, &cc);
    nl_loop *loop = NULL;
    nl_loop_create(&loop);
    nl_activity_init(&child_act);
    nl_watchdog *wd = NULL;
    nl_watchdog_config cfg = {.timeout_ns = timeout_ns};
    if (nl_watchdog_start(&wd, loop, ctx, &child_act, &cfg) < 0)
        _exit(3);
    nl_timer hook;
    nl_timer_init(&hook, block_forever, NULL);
    nl_timer_start_in(loop, &hook, 50 * NL_NS_PER_MS);
    nl_loop_run(loop);
    _exit(4); /* not reached */
}

static void test_stall_aborts(void)
{
    const uint64_t timeout_ms = 300;
    const uint64_t margin_ms = slow() ? 15000 : 1500;
    int p[2];
    NL_ASSERT_EQ(pipe(p), 0);
    fflush(stdout);
    uint64_t t0 = nl_time_mono_ns();
    pid_t pid = fork();
    NL_ASSERT(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child(p[1], timeout_ms * NL_NS_PER_MS);
    }
    close(p[1]);
    int status = 0;
    pid_t w = 0;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 &&
           nl_time_mono_ns() - t0 < (timeout_ms + 50 + margin_ms) * NL_NS_PER_MS)
        usleep(5000);
    uint64_t took_ms = (nl_time_mono_ns() - t0) / NL_NS_PER_MS;
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        NL_FAIL("the watchdog did not abort the child within %llu ms",
                (unsigned long long)(timeout_ms + 50 + margin_ms));
    }
    NL_ASSERT(WIFSIGNALED(status));
    NL_ASSERT_EQ(WTERMSIG(status), SIGABRT);
    /* the hook blocked the loop 50 ms in; the abort cannot come earlier
     * than the timeout after that */
    NL_ASSERT(took_ms >= timeout_ms + 50);
    printf("  child aborted after %llu ms (hook at 50 ms, timeout %llu ms)\n",
           (unsigned long long)took_ms, (unsigned long long)timeout_ms);

    char log[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof log - 1 && (r = read(p[0], log + n, sizeof log - 1 - n)) > 0)
        n += (size_t)r;
    log[n] = '\0';
    close(p[0]);
    printf("  log: %s", log);
    NL_ASSERT(strstr(log, "[watchdog] event loop stalled: no heartbeat for ") != NULL);
    NL_ASSERT(strstr(log, "(limit 0.3 s)") != NULL);
    NL_ASSERT(strstr(log, "it was running: camera yard: login, running for ") != NULL);
    NL_ASSERT(strstr(log, "; aborting") != NULL);
}

int main(void)
{
    NL_RUN(test_activity);
    NL_RUN(test_idle_loop_survives);
    NL_RUN(test_start_stop_many);
    NL_RUN(test_stall_aborts);
    NL_DONE();
}
