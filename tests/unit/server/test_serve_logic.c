/* The server runtime's decisions as pure functions of "now": reconnect
 * backoff, camera clock rebasing, stream demand, the shutdown budget, the
 * reload plan and the mount paths. No socket, no sleep. */
#include <string.h>

#include "core/time.h"
#include "neolink/config.h"
#include "neolink/error.h"
#include "neolink/media.h"
#include "server/server_int.h"
#include "test.h"

#define MS NL_NS_PER_MS
#define S  NL_NS_PER_S

static void test_backoff_doubles_to_max(void)
{
    nl__backoff b;
    nl__backoff_init(&b, 50 * MS, 5 * S, 60 * S);
    uint64_t now = 1000 * S;
    uint64_t want[] = {50 * MS,   100 * MS,  200 * MS, 400 * MS, 800 * MS,
                       1600 * MS, 3200 * MS, 5 * S,    5 * S,    5 * S};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        NL_ASSERT_UEQ(nl__backoff_failed(&b, now, false), want[i]);
        now += 10 * S;
    }
}

static void test_backoff_resets_after_healthy_period(void)
{
    nl__backoff b;
    nl__backoff_init(&b, 50 * MS, 5 * S, 60 * S);
    uint64_t now = 1 * S;
    for (int i = 0; i < 5; i++)
        nl__backoff_failed(&b, now, false);
    /* Up for 59.999 s: not healthy long enough, the sequence goes on. */
    nl__backoff_up(&b, now);
    NL_ASSERT_UEQ(nl__backoff_failed(&b, now + 60 * S - 1, false), 1600 * MS);
    /* Up for exactly 60 s: back to the minimum. */
    nl__backoff_up(&b, 100 * S);
    NL_ASSERT_UEQ(nl__backoff_failed(&b, 160 * S, false), 50 * MS);
    NL_ASSERT_UEQ(nl__backoff_failed(&b, 161 * S, false), 100 * MS);
    /* A failure without a login in between does not reset. */
    NL_ASSERT_UEQ(nl__backoff_failed(&b, 500 * S, false), 200 * MS);
}

static void test_backoff_auth_waits_max(void)
{
    nl__backoff b;
    nl__backoff_init(&b, 50 * MS, 5 * S, 60 * S);
    NL_ASSERT_UEQ(nl__backoff_failed(&b, 1 * S, true), 5 * S);
    NL_ASSERT_UEQ(nl__backoff_failed(&b, 7 * S, true), 5 * S);
    /* The ordinary sequence was not advanced by the fatal ones. */
    NL_ASSERT_UEQ(nl__backoff_failed(&b, 13 * S, false), 50 * MS);
    /* min > max is clamped; a zero min still waits. */
    nl__backoff_init(&b, 2 * S, 1 * S, 60 * S);
    NL_ASSERT_UEQ(nl__backoff_failed(&b, 1, false), 2 * S);
    nl__backoff_init(&b, 0, 0, 60 * S);
    NL_ASSERT(nl__backoff_failed(&b, 1, false) > 0);
}

/* 25 fps camera frames: 40 ms apart on the camera clock and the wall. */
static void test_clock_follows_camera(void)
{
    nl__clock_map c;
    nl__clock_map_init(&c);
    uint64_t wall = 5 * S;
    int64_t cam = 123456789;
    NL_ASSERT_EQ(nl__clock_map_video(&c, cam, 0, wall), cam);
    for (int i = 1; i <= 100; i++) {
        /* Jitter on arrival does not matter: the camera clock rules. */
        uint64_t arrive = wall + (uint64_t)i * 40 * MS + (i % 3) * 7 * MS;
        NL_ASSERT_EQ(nl__clock_map_video(&c, cam + i * 40000, 0, arrive), cam + i * 40000);
    }
    NL_ASSERT_UEQ(c.rebases, 0);
    NL_ASSERT_EQ(c.step_us, 40000);
    /* Audio shares the origin. */
    NL_ASSERT_EQ(nl__clock_map_audio(&c, cam + 4000000 + 10), cam + 4000000 + 10);
    /* Audio going back in time is dropped, not sent. */
    NL_ASSERT_EQ(nl__clock_map_audio(&c, cam + 3000000), INT64_MIN);
    NL_ASSERT_EQ(nl__clock_map_audio(&c, INT64_MIN), INT64_MIN);
}

/* A reconnect: the camera rebooted, its clock restarted near 0, and 3.5 s
 * of wall time passed. The output continues 3.5 s later, then follows the
 * new camera clock. */
static void test_clock_rebases_on_new_run(void)
{
    nl__clock_map c;
    nl__clock_map_init(&c);
    uint64_t wall = 10 * S;
    int64_t cam = 900000000;
    for (int i = 0; i < 50; i++)
        nl__clock_map_video(&c, cam + i * 40000, 0, wall + (uint64_t)i * 40 * MS);
    int64_t last = cam + 49 * 40000;
    uint64_t last_wall = wall + 49 * 40 * MS;
    nl__clock_map_discontinuity(&c);
    /* Audio of the new run before its first video: dropped. */
    NL_ASSERT_EQ(nl__clock_map_audio(&c, 1000), INT64_MIN);
    int64_t out = nl__clock_map_video(&c, 2000, 0, last_wall + 3500 * MS);
    NL_ASSERT_EQ(out, last + 3500000);
    NL_ASSERT_EQ(nl__clock_map_video(&c, 42000, 0, last_wall + 3540 * MS), last + 3540000);
    NL_ASSERT_EQ(nl__clock_map_audio(&c, 42010), last + 3540010);
    NL_ASSERT_UEQ(c.rebases, 1);
}

static void test_clock_jumps(void)
{
    nl__clock_map c;
    nl__clock_map_init(&c);
    uint64_t wall = 1 * S;
    int64_t cam = 1000000;
    for (int i = 0; i < 10; i++)
        nl__clock_map_video(&c, cam + i * 40000, 0, wall + (uint64_t)i * 40 * MS);
    int64_t last = cam + 9 * 40000;
    uint64_t w = wall + 9 * 40 * MS;

    /* Forward jump of an hour (a wrap the demuxer did not see, a camera
     * clock step): no stall; the output advances by one frame. */
    int64_t out = nl__clock_map_video(&c, cam + 3600LL * 1000000, 0, w + 40 * MS);
    NL_ASSERT_EQ(out, last + 40000);
    last = out;
    w += 40 * MS;

    /* Flagged reset (the demuxer already kept pts monotonic): rebased
     * to "one frame later" as well, never a burst. */
    out = nl__clock_map_video(&c, 5, NL_MEDIA_FLAG_CLOCK_RESET, w + 40 * MS);
    NL_ASSERT_EQ(out, last + 40000);
    last = out;
    w += 40 * MS;

    /* A small step back (flagged CLOCK_BACK): stays monotonic. */
    out = nl__clock_map_video(&c, 5 - 200000, NL_MEDIA_FLAG_CLOCK_BACK, w + 40 * MS);
    NL_ASSERT_EQ(out, last + 40000);
    last = out;
    w += 40 * MS;

    /* An unflagged step back is caught too. */
    out = nl__clock_map_video(&c, 5 - 900000, 0, w + 40 * MS);
    NL_ASSERT_EQ(out, last + 40000);
    last = out;
    w += 40 * MS;

    /* A late packet after a 2 s network hiccup that the camera clock
     * agrees with (+2 s) is not a jump. */
    out = nl__clock_map_video(&c, 5 - 900000 + 2000000, 0, w + 2000 * MS);
    NL_ASSERT_EQ(out, last + 2000000);
    NL_ASSERT_UEQ(c.rebases, 4);
}

static void test_demand(void)
{
    nl__demand d = {.on_demand = true};
    NL_ASSERT(!nl__demand_wanted(&d, 100));
    d.viewers = true;
    NL_ASSERT(nl__demand_wanted(&d, 100));
    d.viewers = false;
    d.hold_until = 200;
    NL_ASSERT(nl__demand_wanted(&d, 199));
    NL_ASSERT(!nl__demand_wanted(&d, 200));
    d.probing = true;
    NL_ASSERT(nl__demand_wanted(&d, 500));
    nl__demand always = {.on_demand = false};
    NL_ASSERT(nl__demand_wanted(&always, 0));
}

static void test_shutdown_budget(void)
{
    NL_ASSERT_UEQ(nl__shutdown_budget_ns(2 * S), 1500 * MS);
    NL_ASSERT_UEQ(nl__shutdown_budget_ns(1 * S), 750 * MS);
    NL_ASSERT_UEQ(nl__shutdown_budget_ns(10 * S), 9500 * MS);
    NL_ASSERT_UEQ(nl__shutdown_budget_ns(0), 0);
    NL_ASSERT(nl__shutdown_budget_ns(100 * MS) <= 100 * MS);
}

static nl_config *load(const char *yaml)
{
    nl_config *cfg = NULL;
    char err[2048];
    int rc = nl_config_load_string(&cfg, yaml, strlen(yaml), "test", 0, err, sizeof err);
    if (rc < 0)
        NL_FAIL("config: %s", err);
    return cfg;
}

static const char *const BASE = "cameras:\n"
                                "  - name: yard\n    address: 127.0.0.1:9001\n"
                                "  - name: door\n    address: 127.0.0.1:9002\n"
                                "  - name: gate\n    address: 127.0.0.1:9003\n";

static void test_reload_plan(void)
{
    nl_config *old = load(BASE);
    nl_config *next = load("cameras:\n"
                           "  - name: gate\n    address: 127.0.0.1:9003\n"
                           "  - name: yard\n    address: 127.0.0.1:9001\n    stream: sub\n"
                           "  - name: shed\n    address: 127.0.0.1:9004\n");
    const nl_config_camera *m;
    NL_ASSERT_EQ(nl__reload_classify(&old->cameras[0], next, &m), NL_RELOAD_RESTART);
    NL_ASSERT_STREQ(m->name, "yard");
    NL_ASSERT_EQ(nl__reload_classify(&old->cameras[1], next, &m), NL_RELOAD_REMOVE);
    NL_ASSERT(m == NULL);
    /* Moved in the file but unchanged: kept. */
    NL_ASSERT_EQ(nl__reload_classify(&old->cameras[2], next, &m), NL_RELOAD_KEEP);
    NL_ASSERT(m == &next->cameras[0]);
    char buf[128];
    NL_ASSERT_EQ(nl__reload_global_changes(old, next, buf, sizeof buf), 0);
    NL_ASSERT_STREQ(buf, "");
    nl_config_free(&next);

    next = load("bind_port: 9554\nusers:\n  - name: u\n    pass: secret\ncameras:\n"
                "  - name: gate\n    address: 127.0.0.1:9003\n    enabled: false\n");
    NL_ASSERT_EQ(nl__reload_classify(&old->cameras[2], next, &m), NL_RELOAD_REMOVE);
    NL_ASSERT_EQ(nl__reload_global_changes(old, next, buf, sizeof buf), 2);
    NL_ASSERT_STREQ(buf, "bind_port, users");
    /* The password itself never shows up in the summary. */
    NL_ASSERT(strstr(buf, "secret") == NULL);
    nl_config_free(&next);
    nl_config_free(&old);
}

static void test_mount_paths(void)
{
    nl_config *cfg = load(BASE);
    const nl_config_camera *yard = &cfg->cameras[0];
    nl_config_path p[NL_CONFIG_PATHS_MAX];
    size_t n = nl__mount_paths(yard, NL_CAMERA_STREAM_MAIN, p, NL_CONFIG_PATHS_MAX);
    NL_ASSERT_EQ(n, 7);
    const char *main_paths[] = {
        "/yard",      "/yard/main",       "/yard/mainStream", "/yard/MainStream",
        "/yard/Main", "/yard/Mainstream", "/yard/mainstream"};
    for (size_t i = 0; i < n; i++) {
        NL_ASSERT_STREQ(p[i].path, main_paths[i]);
        NL_ASSERT_EQ(p[i].alias, i >= 2);
    }
    n = nl__mount_paths(yard, NL_CAMERA_STREAM_SUB, p, NL_CONFIG_PATHS_MAX);
    NL_ASSERT_EQ(n, 6);
    NL_ASSERT_STREQ(p[0].path, "/yard/sub");
    NL_ASSERT_STREQ(p[1].path, "/yard/subStream");
    NL_ASSERT_STREQ(p[5].path, "/yard/substream");
    n = nl__mount_paths(yard, NL_CAMERA_STREAM_EXTERN, p, NL_CONFIG_PATHS_MAX);
    NL_ASSERT_EQ(n, 6);
    NL_ASSERT_STREQ(p[1].path, "/yard/externStream");
    NL_ASSERT(nl__camera_serves(yard, NL_CAMERA_STREAM_EXTERN));
    nl_config_free(&cfg);

    /* stream: sub makes "/NAME" the sub stream; main is not served. */
    cfg = load("cameras:\n  - name: cam1\n    address: 10.0.0.1\n    stream: sub\n");
    NL_ASSERT(!nl__camera_serves(&cfg->cameras[0], NL_CAMERA_STREAM_MAIN));
    NL_ASSERT_EQ(nl__mount_paths(&cfg->cameras[0], NL_CAMERA_STREAM_MAIN, p, 32), 0);
    n = nl__mount_paths(&cfg->cameras[0], NL_CAMERA_STREAM_SUB, p, NL_CONFIG_PATHS_MAX);
    NL_ASSERT_EQ(n, 7);
    NL_ASSERT_STREQ(p[0].path, "/cam1");
    NL_ASSERT_STREQ(p[1].path, "/cam1/sub");
    /* The cap is honoured. */
    NL_ASSERT_EQ(nl__mount_paths(&cfg->cameras[0], NL_CAMERA_STREAM_SUB, p, 2), 2);
    nl_config_free(&cfg);

    /* Transcoded paths are not the camera stream's. */
    cfg = load("cameras:\n  - name: t\n    address: 10.0.0.1\n    stream: main\n"
               "    transcode:\n      codec: h264\n      width: 640\n");
    n = nl__mount_paths(&cfg->cameras[0], NL_CAMERA_STREAM_MAIN, p, NL_CONFIG_PATHS_MAX);
    NL_ASSERT_EQ(n, 7);
    for (size_t i = 0; i < n; i++)
        NL_ASSERT(strstr(p[i].path, "h264") == NULL);
    nl_config_free(&cfg);
}

int main(void)
{
    NL_RUN(test_backoff_doubles_to_max);
    NL_RUN(test_backoff_resets_after_healthy_period);
    NL_RUN(test_backoff_auth_waits_max);
    NL_RUN(test_clock_follows_camera);
    NL_RUN(test_clock_rebases_on_new_run);
    NL_RUN(test_clock_jumps);
    NL_RUN(test_demand);
    NL_RUN(test_shutdown_budget);
    NL_RUN(test_reload_plan);
    NL_RUN(test_mount_paths);
    NL_DONE();
}
