/* Shared by the serve-runtime unit tests: one context (logs shown at warn
 * and above, everything with NL_TEST_VERBOSE) and one loop per test, a
 * pump that runs the loop until a condition holds, a simulated camera, a
 * configuration and a server on that loop. Header-only: each test is
 * its own program. */
#ifndef SERVE_TEST_UTIL_H
#define SERVE_TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "neolink/context.h"
#include "neolink/loop.h"
#include "neolink/server.h"
#include "neolink/sim.h"
#include "server/server_int.h"
#include "test.h"

static nl_ctx *ctx;
static nl_loop *loop;

/* Waits stretch tenfold under valgrind. */
static int slow(void)
{
    return getenv("NL_UNDER_VALGRIND") ? 10 : 1;
}

static void log_fn(void *ud, nl_log_level level, const char *line)
{
    (void)ud;
    if (getenv("NL_TEST_VERBOSE") || level <= NL_LOG_WARN)
        fprintf(stderr, "  log %d: %s\n", level, line);
}

static void setup(void)
{
    nl_ctx_config cc = {.log_fn = log_fn, .log_level = NL_LOG_DEBUG};
    NL_ASSERT_OK(nl_ctx_create(&ctx, &cc));
    NL_ASSERT_OK(nl_loop_create(&loop));
}

/* Lets deferred closes run, checks nothing is left on the loop, frees. */
static void teardown(void)
{
    for (int i = 0; i < 20; i++)
        nl_loop_run_once(loop, 0);
    NL_ASSERT_EQ(nl_loop_io_count(loop), 0);
    NL_ASSERT_EQ(nl_loop_timer_count(loop), 0);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
}

/* Runs the loop until cond(ud) or ms pass (stretched under valgrind when
 * waiting for a condition); returns cond's last value. */
static bool pump(int ms, bool (*cond)(void *), void *ud)
{
    uint64_t end = nl_time_mono_ns() + (uint64_t)ms * (cond ? slow() : 1) * NL_NS_PER_MS;
    while (nl_time_mono_ns() < end) {
        if (cond && cond(ud))
            return true;
        nl_loop_run_once(loop, 20);
    }
    return cond ? cond(ud) : true;
}

/* A simulated camera in this loop: small 10 fps streams, replayed GOPs
 * (cheap under valgrind), no motion pushes. password NULL: the default. */
static nl_sim *start_sim(uint16_t port, const char *password)
{
    nl_sim_config sc;
    nl_sim_config_init(&sc);
    sc.port = port;
    if (password)
        sc.password = password;
    sc.stream[NL_SIM_STREAM_MAIN] = (nl_sim_stream_config){320, 240, 10, 256};
    sc.stream[NL_SIM_STREAM_SUB] = (nl_sim_stream_config){256, 144, 10, 128};
    sc.gop_ms = 1000;
    sc.cheap = 1;
    sc.motion_interval_ms = 0;
    nl_sim *sim = NULL;
    NL_ASSERT_OK(nl_sim_create(&sim, ctx, loop, &sc));
    return sim;
}

/* A configuration from printf-style YAML; a bad one fails the test. */
static nl_config *load(const char *fmt, ...) NL_PRINTF(1, 2);
static nl_config *load(const char *fmt, ...)
{
    char yaml[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(yaml, sizeof yaml, fmt, ap);
    va_end(ap);
    nl_config *cfg = NULL;
    char err[2048];
    if (nl_config_load_string(&cfg, yaml, strlen(yaml), "test", 0, err, sizeof err) < 0)
        NL_FAIL("config: %s", err);
    return cfg;
}

/* The HTTP endpoint of start_server(): "off", or "127.0.0.1:0" in tests of
 * the endpoint (define it before including this header). */
#ifndef SERVE_TEST_HTTP
#define SERVE_TEST_HTTP "off"
#endif

/* serve on 127.0.0.1 with an ephemeral RTSP port. */
static nl_server *start_server(nl_config *cfg)
{
    const char *http = SERVE_TEST_HTTP;
    nl_server_options o;
    nl_server_options_init(&o);
    o.bind = "127.0.0.1";
    o.port = 0;
    o.http = http;
    o.log_level_locked = 1;
    nl_server *srv = NULL;
    NL_ASSERT_OK(nl_server_create(&srv, ctx, loop, cfg, &o));
    NL_ASSERT(nl_server_rtsp_port(srv) != 0);
    if (strcmp(http, "off") == 0)
        NL_ASSERT_EQ(nl_server_http_port(srv), 0);
    else
        NL_ASSERT(nl_server_http_port(srv) != 0);
    return srv;
}

#endif
