/* The server runtime on one loop with simulated cameras in the same loop:
 * login and format probe, the stream started once and stopped when nobody
 * watches, reconnect with backoff after the camera vanished, a rejected
 * login retried only at the maximum, reload (keep / restart / remove /
 * add), and shutdown within its deadline even with a camera that never
 * answers its login. Everything is freed (valgrind in the plain build). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/time.h"
#include "neolink/error.h"
#include "neolink/server.h"
#include "neolink/sim.h"
#include "server/server_int.h"
#include "serve_test_util.h"
#include "test.h"

static nl__camera_rt *rt_named(nl_server *srv, const char *name)
{
    nl_list_foreach(it, &srv->cameras)
    {
        nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        if (!strcmp(rt->name, name))
            return rt;
    }
    return NULL;
}

static bool formats_known(void *ud)
{
    nl__camera_rt *rt = ud;
    return rt->hub[0] && rt->hub[0]->mounts_final && rt->hub[1] && rt->hub[1]->mounts_final;
}

static bool streams_idle(void *ud)
{
    nl_server_stats st;
    nl_server_get_stats(ud, &st);
    return st.streams_active == 0;
}

static bool logged_in(void *ud)
{
    return ((nl__camera_rt *)ud)->logged_in;
}

static bool flag_set(void *ud)
{
    return *(int *)ud != 0;
}

static void set_flag(void *ud)
{
    *(int *)ud = 1;
}

static void shutdown_and_free(nl_server **srv, uint32_t ms)
{
    int done = 0;
    uint64_t t0 = nl_time_mono_ns();
    NL_ASSERT_OK(nl_server_shutdown(*srv, ms, set_flag, &done));
    NL_ASSERT_EQ(nl_server_shutdown(*srv, ms, NULL, NULL), NL_ESTATE);
    NL_ASSERT(pump((int)ms + 500, flag_set, &done));
    uint64_t took = nl_time_mono_ns() - t0;
    printf("  shutdown took %.3f s (deadline %u ms)\n", (double)took / 1e9, ms);
    NL_ASSERT(took <= (uint64_t)ms * NL_NS_PER_MS * (uint64_t)slow());
    nl_server_destroy(srv);
    NL_ASSERT(*srv == NULL);
}

static void test_probe_and_demand(void)
{
    setup();
    nl_sim *sim = start_sim(0, "");
    nl_server *srv = start_server(load("cameras:\n  - name: cam1\n    address: 127.0.0.1:%u\n"
                                       "    stream: both\n    idle_linger: 200ms\n",
                                       nl_sim_port(sim)));
    nl__camera_rt *rt = rt_named(srv, "cam1");
    NL_ASSERT(rt != NULL);
    NL_ASSERT(rt->hub[2] == NULL); /* stream: both -> no extern */
    NL_ASSERT(pump(10000, formats_known, rt));
    NL_ASSERT_EQ(rt->hub[0]->vpar->codec_id, AV_CODEC_ID_H264);
    NL_ASSERT_EQ(rt->hub[0]->vpar->width, 320);
    NL_ASSERT_EQ(rt->hub[1]->vpar->width, 256);
    NL_ASSERT(rt->hub[0]->apar != NULL);
    NL_ASSERT_EQ(rt->hub[0]->apar->codec_id, AV_CODEC_ID_AAC);
    NL_ASSERT_EQ(rt->hub[0]->apar->sample_rate, 16000);
    /* Once learnt, nobody watches: both streams stop. */
    NL_ASSERT(pump(5000, streams_idle, srv));
    nl_sim_stats ss;
    NL_ASSERT(pump(2000, NULL, NULL));
    nl_sim_get_stats(sim, &ss, sizeof ss);
    NL_ASSERT_EQ(ss.streams_active, 0);
    NL_ASSERT_EQ(ss.logins, 1);
    NL_ASSERT_EQ(ss.connections, 1);
    nl_server_stats st;
    nl_server_get_stats(srv, &st);
    NL_ASSERT_EQ(st.cameras, 1);
    NL_ASSERT_EQ(st.cameras_connected, 1);
    NL_ASSERT_EQ(st.reconnects, 0);
    /* Paths: 7 for main (with "/cam1"), 6 for sub. */
    NL_ASSERT_EQ(nl_server_foreach_path(srv, NULL, NULL), 13);
    NL_ASSERT_EQ(rt->state, NL_RT_CONNECTED);

    /* A viewer on one alias: the demand callback starts the stream once;
     * a second viewer on another alias does not start it again. */
    nl__hub_on_demand(rt->hub[1], rt->hub[1]->mounts[0].m, NL_RTSP_DEMAND_PLAY);
    nl__hub_on_demand(rt->hub[1], rt->hub[1]->mounts[3].m, NL_RTSP_DEMAND_PLAY);
    NL_ASSERT(rt->hub[1]->running);
    NL_ASSERT_EQ(rt->hub[1]->runs, 2);
    NL_ASSERT(pump(3000, NULL, NULL));
    nl_sim_get_stats(sim, &ss, sizeof ss);
    NL_ASSERT_EQ(ss.streams_active, 1);
    NL_ASSERT_EQ(ss.streams_by_kind[NL_SIM_STREAM_SUB], 1);
    NL_ASSERT_EQ(ss.viewers, 1);
    NL_ASSERT(rt->hub[1]->last_video_at != 0);
    NL_ASSERT_EQ(rt->state, NL_RT_STREAMING);
    /* Both leave: the stream lingers idle_linger (200 ms), then stops. */
    nl__hub_on_demand(rt->hub[1], rt->hub[1]->mounts[0].m, NL_RTSP_DEMAND_IDLE);
    nl__hub_on_demand(rt->hub[1], rt->hub[1]->mounts[3].m, NL_RTSP_DEMAND_IDLE);
    NL_ASSERT(rt->hub[1]->running);
    NL_ASSERT(pump(3000, streams_idle, srv));
    NL_ASSERT(pump(300, NULL, NULL));
    nl_sim_get_stats(sim, &ss, sizeof ss);
    NL_ASSERT_EQ(ss.streams_active, 0);

    shutdown_and_free(&srv, 1000);
    nl_sim_get_stats(sim, &ss, sizeof ss);
    NL_ASSERT(pump(500, NULL, NULL));
    nl_sim_get_stats(sim, &ss, sizeof ss);
    NL_ASSERT_EQ(ss.connections, 0);
    nl_sim_destroy(&sim);
    teardown();
}

static bool reconnected(void *ud)
{
    nl__camera_rt *rt = ud;
    return rt->logged_in && rt->reconnects >= 1;
}

static bool in_backoff(void *ud)
{
    return ((nl__camera_rt *)ud)->state == NL_RT_BACKOFF;
}

static void test_reconnect(void)
{
    setup();
    nl_sim *sim = start_sim(0, "");
    uint16_t port = nl_sim_port(sim);
    nl_server *srv = start_server(load("cameras:\n  - name: cam1\n    address: 127.0.0.1:%u\n"
                                       "    stream: sub\n    on_demand: false\n"
                                       "    reconnect: { min: 100ms, max: 400ms }\n",
                                       port));
    nl__camera_rt *rt = rt_named(srv, "cam1");
    NL_ASSERT(pump(5000, logged_in, rt));
    NL_ASSERT(pump(5000, formats_known, rt) || (rt->hub[1] && rt->hub[1]->mounts_final));
    /* The camera vanishes. */
    nl_sim_destroy(&sim);
    NL_ASSERT(pump(3000, in_backoff, rt));
    NL_ASSERT(!rt->logged_in);
    NL_ASSERT(rt->last_error != 0);
    /* Refused connections go on with the backoff: 100, 200, 400, 400 ms. */
    NL_ASSERT(pump(1200, NULL, NULL));
    NL_ASSERT(rt->reconnects >= 3);
    uint64_t t0 = nl_time_mono_ns();
    sim = start_sim(port, "");
    NL_ASSERT(pump(5000, reconnected, rt));
    double took = (double)(nl_time_mono_ns() - t0) / 1e9;
    printf("  reconnected %.3f s after the camera came back (max backoff 0.4 s), %llu attempts\n",
           took, (unsigned long long)rt->reconnects);
    NL_ASSERT(took < 0.4 * slow() + 0.5);
    /* Always-on stream: running again after the reconnect. */
    NL_ASSERT(pump(3000, NULL, NULL));
    NL_ASSERT(rt->hub[1]->running);
    NL_ASSERT(rt->hub[1]->runs >= 2);
    shutdown_and_free(&srv, 1000);
    nl_sim_destroy(&sim);
    teardown();
}

static void test_auth_rejected(void)
{
    setup();
    nl_sim *sim = start_sim(0, "right");
    nl_server *srv = start_server(load("cameras:\n  - name: cam1\n    address: 127.0.0.1:%u\n"
                                       "    password: wrong-secret\n"
                                       "    reconnect: { min: 50ms, max: 700ms }\n",
                                       nl_sim_port(sim)));
    nl__camera_rt *rt = rt_named(srv, "cam1");
    NL_ASSERT(pump(3000, in_backoff, rt));
    NL_ASSERT_EQ(rt->last_error, NL_EAUTH);
    NL_ASSERT(rt->retry_timer.due - nl_loop_now(loop) > 600 * NL_NS_PER_MS);
    /* Attempts come no faster than the maximum backoff (700 ms). */
    uint64_t t0 = nl_time_mono_ns();
    uint64_t r0 = rt->reconnects;
    NL_ASSERT(pump(1500, NULL, NULL));
    double secs = (double)(nl_time_mono_ns() - t0) / 1e9;
    uint64_t most = (uint64_t)(secs / 0.7) + 1;
    printf("  %llu login attempts in %.2f s (at most %llu at 0.7 s apart)\n",
           (unsigned long long)(rt->reconnects - r0), secs, (unsigned long long)most);
    NL_ASSERT(rt->reconnects - r0 <= most);
    NL_ASSERT(rt->reconnects >= 1);
    nl_sim_stats ss;
    nl_sim_get_stats(sim, &ss, sizeof ss);
    NL_ASSERT(ss.failed_logins >= 2 && ss.failed_logins <= rt->reconnects + 1);
    /* The detail names the refusal, never the password. */
    NL_ASSERT(strstr(rt->last_detail, "wrong-secret") == NULL);
    shutdown_and_free(&srv, 1000);
    nl_sim_destroy(&sim);
    teardown();
}

static void test_reload(void)
{
    setup();
    nl_sim *sim = start_sim(0, "");
    uint16_t port = nl_sim_port(sim);
    nl_server *srv = start_server(load("cameras:\n"
                                       "  - name: keep\n    address: 127.0.0.1:%u\n"
                                       "  - name: change\n    address: 127.0.0.1:%u\n"
                                       "  - name: drop\n    address: 127.0.0.1:%u\n",
                                       port, port, port));
    nl__camera_rt *keep = rt_named(srv, "keep");
    nl__camera_rt *change = rt_named(srv, "change");
    NL_ASSERT(pump(5000, logged_in, keep));
    NL_ASSERT(pump(5000, logged_in, change));
    NL_ASSERT(pump(5000, logged_in, rt_named(srv, "drop")));
    NL_ASSERT_EQ(nl_server_foreach_path(srv, NULL, NULL), 3 * 19);
    NL_ASSERT_OK(nl_server_reload(srv, load("cameras:\n"
                                            "  - name: add\n    address: 127.0.0.1:%u\n"
                                            "  - name: keep\n    address: 127.0.0.1:%u\n"
                                            "  - name: change\n    address: 127.0.0.1:%u\n"
                                            "    stream: main\n",
                                            port, port, port)));
    NL_ASSERT(rt_named(srv, "keep") == keep); /* the same session */
    NL_ASSERT(keep->logged_in);
    nl__camera_rt *changed = rt_named(srv, "change");
    NL_ASSERT(changed != NULL && changed != change);
    NL_ASSERT(rt_named(srv, "drop") == NULL);
    NL_ASSERT(rt_named(srv, "add") != NULL);
    NL_ASSERT(changed->hub[1] == NULL && changed->hub[0] != NULL);
    NL_ASSERT_EQ(nl_server_foreach_path(srv, NULL, NULL), 19 + 19 + 7);
    NL_ASSERT(pump(5000, logged_in, changed));
    NL_ASSERT(pump(5000, logged_in, rt_named(srv, "add")));
    NL_ASSERT(pump(1000, NULL, NULL));
    nl_server_stats st;
    nl_server_get_stats(srv, &st);
    NL_ASSERT_EQ(st.cameras, 3);
    NL_ASSERT_EQ(st.cameras_connected, 3);
    NL_ASSERT_EQ(st.reloads, 1);
    NL_ASSERT(nl_list_empty(&srv->retiring)); /* removed ones logged out */
    nl_sim_stats ss;
    nl_sim_get_stats(sim, &ss, sizeof ss);
    NL_ASSERT_EQ(ss.connections, 3);
    NL_ASSERT_EQ(ss.logins, 5);
    /* A broken reload is refused whole (NULL config). */
    NL_ASSERT_EQ(nl_server_reload(srv, NULL), NL_EINVAL);
    shutdown_and_free(&srv, 1000);
    nl_sim_destroy(&sim);
    teardown();
}

static void destroy_in_done(void *ud)
{
    nl_server_destroy((nl_server **)ud);
}

static bool server_gone(void *ud)
{
    return *(nl_server **)ud == NULL;
}

/* A "camera" that accepts TCP and never says a word: the login hangs.
 * Shutdown still ends within its deadline. */
static void test_shutdown_during_login(void)
{
    setup();
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    NL_ASSERT(lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    NL_ASSERT_OK(bind(lfd, (struct sockaddr *)&a, sizeof a));
    NL_ASSERT_OK(listen(lfd, 8));
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    nl_server *srv = start_server(
        load("cameras:\n  - name: mute\n    address: 127.0.0.1:%u\n", ntohs(a.sin_port)));
    nl__camera_rt *rt = rt_named(srv, "mute");
    NL_ASSERT(pump(500, NULL, NULL));
    NL_ASSERT_EQ(rt->state, NL_RT_CONNECTING);
    NL_ASSERT_EQ(nl_camera_get_state(rt->cam), NL_CAMERA_LOGIN);
    /* This time the host destroys the server from on_done itself. */
    uint64_t t0 = nl_time_mono_ns();
    NL_ASSERT_OK(nl_server_shutdown(srv, 800, destroy_in_done, &srv));
    NL_ASSERT(pump(1300, server_gone, &srv));
    printf("  shutdown during login took %.3f s (deadline 800 ms)\n",
           (double)(nl_time_mono_ns() - t0) / 1e9);
    close(lfd);
    teardown();
}

/* The camera goes silent (stall fault) with its stream on: neither the stop
 * nor the logout is answered, so the shutdown ends at its deadline through
 * the camera's ordinary failure path, and the teardown time is recorded. */
static void test_shutdown_stalled_camera(void)
{
    setup();
    nl_sim_config sc;
    nl_sim_config_init(&sc);
    sc.port = 0;
    sc.stream[NL_SIM_STREAM_SUB] = (nl_sim_stream_config){256, 144, 10, 128};
    sc.cheap = 1;
    sc.motion_interval_ms = 0;
    sc.faults[0] = (nl_sim_fault){NL_SIM_FAULT_STALL, 300};
    sc.nfaults = 1;
    nl_sim *sim = NULL;
    NL_ASSERT_OK(nl_sim_create(&sim, ctx, loop, &sc));
    nl_server *srv = start_server(load("cameras:\n  - name: st\n    address: 127.0.0.1:%u\n"
                                       "    stream: sub\n    on_demand: false\n"
                                       "    stall_timeout: 60s\n",
                                       nl_sim_port(sim)));
    nl__camera_rt *rt = rt_named(srv, "st");
    NL_ASSERT(pump(5000, logged_in, rt));
    NL_ASSERT(pump(1000, NULL, NULL)); /* silent for 0.7 s now */
    NL_ASSERT(rt->hub[1]->running);
    int done = 0;
    uint64_t t0 = nl_time_mono_ns();
    NL_ASSERT_OK(nl_server_shutdown(srv, 1000, set_flag, &done));
    NL_ASSERT(pump(2000, flag_set, &done));
    double took = (double)(nl_time_mono_ns() - t0) / 1e9;
    double td = (double)srv->teardown_max_ns / 1e9;
    printf("  shutdown with a silent camera took %.3f s (budget 0.75 s of 1 s), "
           "camera teardown %.3f s\n",
           took, td);
    NL_ASSERT(took >= 0.7 && took <= 1.0 * slow());
    NL_ASSERT(td >= 0.7 && td <= 0.8 * slow());
    nl_server_destroy(&srv);
    nl_sim_destroy(&sim);
    teardown();
}

static void test_bad_arguments(void)
{
    setup();
    nl_server *srv = NULL;
    NL_ASSERT_EQ(nl_server_create(&srv, NULL, loop, NULL, NULL), NL_EINVAL);
    nl_server_options o;
    nl_server_options_init(&o);
    NL_ASSERT_EQ(o.port, -1);
    o.port = 70000;
    nl_config *cfg = NULL;
    NL_ASSERT_OK(nl_config_defaults(&cfg));
    NL_ASSERT_EQ(nl_server_create(&srv, ctx, loop, cfg, &o), NL_EINVAL); /* cfg freed */
    o.port = 0;
    o.http = "nonsense";
    o.bind = "127.0.0.1";
    NL_ASSERT_OK(nl_config_defaults(&cfg));
    NL_ASSERT_EQ(nl_server_create(&srv, ctx, loop, cfg, &o), NL_EINVAL);
    NL_ASSERT(srv == NULL);
    /* No camera at all is allowed (a reload may add some). */
    o.http = "127.0.0.1:0";
    NL_ASSERT_OK(nl_config_defaults(&cfg));
    NL_ASSERT_OK(nl_server_create(&srv, ctx, loop, cfg, &o));
    NL_ASSERT(nl_server_http_port(srv) != 0);
    nl_server_destroy(&srv);
    nl_server_destroy(&srv);
    teardown();
}

int main(void)
{
    NL_RUN(test_bad_arguments);
    NL_RUN(test_probe_and_demand);
    NL_RUN(test_reconnect);
    NL_RUN(test_auth_rejected);
    NL_RUN(test_reload);
    NL_RUN(test_shutdown_during_login);
    NL_RUN(test_shutdown_stalled_camera);
    NL_DONE();
}
