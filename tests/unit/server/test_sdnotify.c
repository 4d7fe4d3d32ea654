/* sd_notify against a real AF_UNIX datagram socket playing systemd: path
 * and abstract addresses, READY/STATUS/STOPPING/WATCHDOG messages, the
 * keep-alive timer at half WATCHDOG_USEC, WATCHDOG_PID, bad environment
 * values, a full socket (never blocks) and a vanished one. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/time.h"
#include "loop/loop_int.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "server/sdnotify.h"
#include "test.h"

static nl_loop *loop;
static char dir[64];
static char path[128];

/* The "systemd" end: a bound datagram socket (abstract when name[0]=='@'). */
static int listen_dgram(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    NL_ASSERT(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    memcpy(sa.sun_path, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    if (name[0] == '@') {
        sa.sun_path[0] = '\0';
        len--; /* abstract names are not terminated */
    }
    NL_ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, len), 0);
    return fd;
}

/* Next datagram as a string, or "" when none is waiting. */
static const char *recv_msg(int fd)
{
    static char buf[1024];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void test_inactive(void)
{
    nl_sdnotify *n = NULL;
    nl_sdnotify_env env = {0};
    NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, &env));
    NL_ASSERT(n != NULL);
    NL_ASSERT(!nl_sdnotify_active(n));
    NL_ASSERT_EQ(nl_sdnotify_ready(n), 0);
    NL_ASSERT_EQ(nl_sdnotify_status(n, "x %d", 1), 0);
    NL_ASSERT_EQ(nl_sdnotify_watchdog(n), 0);
    NL_ASSERT_EQ(nl_sdnotify_stopping(n), 0);
    NL_ASSERT_UEQ(nl_sdnotify_watchdog_period_ns(n), 0);
    nl_sdnotify_close(&n);
    NL_ASSERT(n == NULL);
    nl_sdnotify_close(&n);
    /* a NULL notifier behaves as an inactive one */
    NL_ASSERT_EQ(nl_sdnotify_ready(NULL), 0);

    /* unusable NOTIFY_SOCKET forms and a bad WATCHDOG_USEC: inactive or
     * ignored, never an error */
    const char *bad[] = {"relative/sock", "vsock:2:1234", "@", "/", NULL};
    for (int i = 0; bad[i]; i++) {
        env.notify_socket = bad[i];
        NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, &env));
        NL_ASSERT(!nl_sdnotify_active(n));
        nl_sdnotify_close(&n);
    }
    char toolong[200];
    memset(toolong, 'a', sizeof toolong);
    toolong[0] = '/';
    toolong[sizeof toolong - 1] = '\0';
    env.notify_socket = toolong;
    NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, &env));
    NL_ASSERT(!nl_sdnotify_active(n));
    nl_sdnotify_close(&n);
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
}

static void test_messages(void)
{
    int sd = listen_dgram(path);
    nl_sdnotify *n = NULL;
    nl_sdnotify_env env = {.notify_socket = path};
    NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, &env));
    NL_ASSERT(nl_sdnotify_active(n));
    NL_ASSERT_UEQ(nl_sdnotify_watchdog_period_ns(n), 0);
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);

    NL_ASSERT_OK(nl_sdnotify_ready(n));
    NL_ASSERT_STREQ(recv_msg(sd), "READY=1");
    NL_ASSERT_OK(nl_sdnotify_status(n, "%d/%d cameras streaming\nrtsp on :%d", 2, 3, 8554));
    NL_ASSERT_STREQ(recv_msg(sd), "STATUS=2/3 cameras streaming rtsp on :8554");
    NL_ASSERT_OK(nl_sdnotify_watchdog(n));
    NL_ASSERT_STREQ(recv_msg(sd), "WATCHDOG=1");
    NL_ASSERT_OK(nl_sdnotify_stopping(n));
    NL_ASSERT_STREQ(recv_msg(sd), "STOPPING=1");
    NL_ASSERT_OK(nl_sdnotify_send(n, "RELOADING=1\nSTATUS=reloading"));
    NL_ASSERT_STREQ(recv_msg(sd), "RELOADING=1\nSTATUS=reloading");
    NL_ASSERT_STREQ(recv_msg(sd), "");

    /* a long status is cut to NL_SDNOTIFY_MAX_MSG bytes in all */
    char lng[2000];
    memset(lng, 's', sizeof lng);
    lng[sizeof lng - 1] = '\0';
    NL_ASSERT_OK(nl_sdnotify_status(n, "%s", lng));
    const char *m = recv_msg(sd);
    NL_ASSERT_EQ(strlen(m), NL_SDNOTIFY_MAX_MSG);
    NL_ASSERT(!strncmp(m, "STATUS=sss", 10));
    NL_ASSERT_EQ(nl_sdnotify_send(n, lng), NL_ETOOBIG);

    /* systemd does not read for a while: sends fail fast, never block */
    int rc = 0, sent = 0;
    for (; sent < 100000 && rc == 0; sent++)
        rc = nl_sdnotify_watchdog(n);
    NL_ASSERT_EQ(rc, NL_EAGAIN);
    NL_ASSERT(sent > 1);
    while (recv_msg(sd)[0])
        ;
    NL_ASSERT_OK(nl_sdnotify_ready(n)); /* room again */
    NL_ASSERT_STREQ(recv_msg(sd), "READY=1");

    /* systemd went away: an error, not a crash or a signal */
    close(sd);
    unlink(path);
    rc = nl_sdnotify_ready(n);
    NL_ASSERT(rc == NL_ENOENT || rc == NL_ECONNREFUSED);
    nl_sdnotify_close(&n);
}

static void test_abstract(void)
{
    char name[64];
    snprintf(name, sizeof name, "@neolink-test-sdnotify-%d", (int)getpid());
    int sd = listen_dgram(name);
    nl_sdnotify *n = NULL;
    nl_sdnotify_env env = {.notify_socket = name};
    NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, &env));
    NL_ASSERT(nl_sdnotify_active(n));
    NL_ASSERT_OK(nl_sdnotify_ready(n));
    NL_ASSERT_STREQ(recv_msg(sd), "READY=1");
    nl_sdnotify_close(&n);
    close(sd);
}

/* WATCHDOG_USEC=100000: WATCHDOG=1 every 50 ms from the loop's timer. */
static void test_keepalive(void)
{
    int sd = listen_dgram(path);
    nl_sdnotify *n = NULL;
    nl_sdnotify_env env = {.notify_socket = path, .watchdog_usec = "100000"};
    NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, &env));
    NL_ASSERT_UEQ(nl_sdnotify_watchdog_period_ns(n), 50 * NL_NS_PER_MS);
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 1);
    NL_ASSERT_OK(nl_sdnotify_ready(n));
    NL_ASSERT_STREQ(recv_msg(sd), "READY=1");
    uint64_t end = nl_time_mono_ns() + 420 * NL_NS_PER_MS;
    int beats = 0;
    while (nl_time_mono_ns() < end) {
        nl_loop_run_once(loop, 20);
        const char *m;
        while ((m = recv_msg(sd))[0]) {
            NL_ASSERT_STREQ(m, "WATCHDOG=1");
            beats++;
        }
    }
    printf("  %d keep-alives in 420 ms\n", beats);
    NL_ASSERT(beats >= (getenv("NL_UNDER_VALGRIND") ? 2 : 4)); /* late under load, never early */
    NL_ASSERT(beats <= 9);
    nl_sdnotify_close(&n);
    NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
    close(sd);
    unlink(path);

    /* meant for another process, or off */
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    nl_sdnotify_env cases[] = {
        {path, "100000", "1"},                   /* WATCHDOG_PID of someone else */
        {path, "0", NULL},                       /* zero: off */
        {path, "12ms", NULL},                    /* not a number: ignored */
        {path, "99999999999999999999999", NULL}, /* overflow: ignored */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, &cases[i]));
        NL_ASSERT(nl_sdnotify_active(n));
        NL_ASSERT_UEQ(nl_sdnotify_watchdog_period_ns(n), 0);
        NL_ASSERT_UEQ(nl_loop_timer_count(loop), 0);
        nl_sdnotify_close(&n);
    }
    nl_sdnotify_env mine = {path, "3000000", pid};
    NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, &mine));
    NL_ASSERT_UEQ(nl_sdnotify_watchdog_period_ns(n), 1500 * NL_NS_PER_MS);
    nl_sdnotify_close(&n);
}

/* env NULL reads the process environment. */
static void test_process_env(void)
{
    int sd = listen_dgram(path);
    setenv("NOTIFY_SOCKET", path, 1);
    setenv("WATCHDOG_USEC", "2000000", 1);
    unsetenv("WATCHDOG_PID");
    nl_sdnotify_env env;
    nl_sdnotify_env_get(&env);
    NL_ASSERT_STREQ(env.notify_socket, path);
    NL_ASSERT(env.watchdog_pid == NULL);
    nl_sdnotify *n = NULL;
    NL_ASSERT_OK(nl_sdnotify_open(&n, loop, NULL, NULL));
    NL_ASSERT(nl_sdnotify_active(n));
    NL_ASSERT_UEQ(nl_sdnotify_watchdog_period_ns(n), NL_NS_PER_S);
    NL_ASSERT_OK(nl_sdnotify_ready(n));
    NL_ASSERT_STREQ(recv_msg(sd), "READY=1");
    NL_ASSERT_STREQ(getenv("NOTIFY_SOCKET"), path); /* read, never unset */
    nl_sdnotify_close(&n);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    close(sd);
    unlink(path);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/nl-sdnotify-XXXXXX");
    NL_ASSERT(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/notify", dir);
    NL_ASSERT_OK(nl_loop_create(&loop));
    NL_RUN(test_inactive);
    NL_RUN(test_messages);
    NL_RUN(test_abstract);
    NL_RUN(test_keepalive);
    NL_RUN(test_process_env);
    nl_loop_destroy(&loop);
    rmdir(dir);
    NL_DONE();
}
