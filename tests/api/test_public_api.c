/* The public API as a host program sees it, and nothing else: only
 * <neolink/...> headers, linked against the shared library.
 *
 * Two independent library instances run side by side in one process, each on
 * its own thread with its own context, loop, simulated camera and camera
 * session. Each camera logs into ITS simulator (proven by the model name and
 * stream size each simulator is configured with), streams the sub stream for
 * one second of camera time, closes gracefully and is torn down. Checks:
 *  - every log line reaches only its own context's callback;
 *  - nl_loop_post() from the main thread runs on the loop's thread;
 *  - real stream values: codec parameters, frame count for one second, the
 *    exact frame interval, AAC audio at 16 kHz, one login per simulator;
 *  - after everything is destroyed, no allocation made through the library
 *    allocator is left (nl_allocator_live) and, under ASan, no leak at all. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>

#include "neolink/alloc.h"
#include "neolink/camera.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/loop.h"
#include "neolink/sim.h"
#include "neolink/version.h"
#include "test.h"

typedef struct instance {
    /* set up by main */
    const char *name, *other_name, *model;
    uint32_t width, height, fps;
    nl_ctx *ctx;
    nl_loop *loop;
    pthread_t thread;

    /* written by the log callback (any library thread) */
    atomic_int log_lines, own_lines, foreign_lines;

    /* written on the loop thread, read by main after the join */
    int hello_ran;
    pthread_t hello_thread;
    nl_camera *cam;
    int setup_error;
    int closing, closed, close_error;
    int started, stream_failed;
    int params_codec, params_w, params_h;
    unsigned frames, keyframes, bad_steps, audio, audio_not_aac;
    int first_is_key;
    int64_t first_pts, last_pts;
    nl_camera_device_info info;
    nl_camera_stats cam_stats;
    nl_sim_stats sim_stats;
} instance;

static void log_cb(void *ud, nl_log_level level, const char *line)
{
    instance *in = ud;
    (void)level;
    atomic_fetch_add(&in->log_lines, 1);
    char own[64], foreign[64];
    snprintf(own, sizeof own, "camera %s", in->name);
    snprintf(foreign, sizeof foreign, "camera %s", in->other_name);
    if (strstr(line, own))
        atomic_fetch_add(&in->own_lines, 1);
    if (strstr(line, foreign) || strstr(line, in->other_name))
        atomic_fetch_add(&in->foreign_lines, 1);
}

/* Posted by the main thread before the loop runs: must run on the loop thread. */
static void hello(void *arg)
{
    instance *in = arg;
    in->hello_ran++;
    in->hello_thread = pthread_self();
}

static void on_state(void *ud, nl_camera *cam, nl_camera_state st, int err)
{
    instance *in = ud;
    if (st == NL_CAMERA_READY)
        nl_camera_get_device_info(cam, &in->info);
    if (st == NL_CAMERA_CLOSED) {
        in->closed = 1;
        in->close_error = err;
        nl_camera_get_stats(cam, &in->cam_stats, sizeof in->cam_stats);
        nl_loop_stop(in->loop);
    }
}

static void on_stream(void *ud, nl_camera *cam, nl_camera_stream s, nl_camera_stream_event ev,
                      int err)
{
    instance *in = ud;
    (void)cam;
    (void)err;
    if (s == NL_CAMERA_STREAM_SUB && ev == NL_CAMERA_STREAM_STARTED)
        in->started = 1;
    if (ev == NL_CAMERA_STREAM_FAILED)
        in->stream_failed = 1;
}

static void on_params(void *ud, nl_camera *cam, nl_camera_stream s, const AVCodecParameters *par)
{
    instance *in = ud;
    (void)cam;
    (void)s;
    in->params_codec = par->codec_id;
    in->params_w = par->width;
    in->params_h = par->height;
}

static void on_packet(void *ud, nl_camera *cam, nl_camera_stream s, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    instance *in = ud;
    if (in->closing || s != NL_CAMERA_STREAM_SUB)
        return;
    if (pkt->stream_index == 1) {
        in->audio++;
        if (meta->codec != NL_MEDIA_CODEC_AAC || meta->sample_rate != 16000)
            in->audio_not_aac++;
        return;
    }
    if (in->frames == 0) {
        in->first_pts = pkt->pts;
        in->first_is_key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    } else if (pkt->pts - in->last_pts != 1000000 / in->fps) {
        in->bad_steps++;
    }
    in->last_pts = pkt->pts;
    in->frames++;
    if (pkt->flags & AV_PKT_FLAG_KEY)
        in->keyframes++;
    /* One second of camera time, then a polite close from inside the callback. */
    if (pkt->pts - in->first_pts >= 1000000) {
        in->closing = 1;
        nl_camera_close(cam, 2000);
    }
}

static void *instance_main(void *arg)
{
    instance *in = arg;
    nl_sim *sim = NULL;

    nl_sim_config sc;
    nl_sim_config_init(&sc);
    sc.port = 0;
    sc.model = in->model;
    sc.audio = NL_SIM_AUDIO_AAC;
    sc.gop_ms = 500;
    sc.stream[NL_SIM_STREAM_SUB].width = in->width;
    sc.stream[NL_SIM_STREAM_SUB].height = in->height;
    sc.stream[NL_SIM_STREAM_SUB].fps = in->fps;
    sc.stream[NL_SIM_STREAM_SUB].bitrate_kbps = 200;
    int rc = nl_sim_create(&sim, in->ctx, in->loop, &sc);
    if (rc < 0) {
        in->setup_error = rc;
        return NULL;
    }

    nl_camera_config cc;
    nl_camera_config_init(&cc);
    cc.name = in->name;
    cc.host = "127.0.0.1";
    cc.port = nl_sim_port(sim);
    nl_camera_callbacks cb = {
        .ud = in,
        .on_state = on_state,
        .on_stream = on_stream,
        .on_packet = on_packet,
        .on_params = on_params,
    };
    rc = nl_camera_create(&in->cam, in->ctx, in->loop, &cc, &cb);
    if (rc == 0)
        rc = nl_camera_connect(in->cam);
    if (rc == 0)
        rc = nl_camera_start_stream(in->cam, NL_CAMERA_STREAM_SUB); /* queued until READY */
    if (rc == 0)
        rc = nl_loop_run(in->loop); /* until on_state(CLOSED) stops it */
    in->setup_error = rc;

    nl_sim_get_stats(sim, &in->sim_stats, sizeof in->sim_stats);
    nl_camera_destroy(&in->cam);
    nl_sim_destroy(&sim);
    nl_loop_run_once(in->loop, 0); /* deferred frees of closed connections */
    nl_loop_destroy(&in->loop);
    return NULL;
}

static void start(instance *in)
{
    nl_ctx_config cfg = {.log_fn = log_cb, .log_ud = in, .log_level = NL_LOG_DEBUG};
    NL_ASSERT_OK(nl_ctx_create(&in->ctx, &cfg));
    NL_ASSERT_OK(nl_loop_create(&in->loop));
    /* Thread-safe entry, used before the loop runs: queued for its first iteration. */
    NL_ASSERT_OK(nl_loop_post(in->loop, hello, in));
    NL_ASSERT_EQ(pthread_create(&in->thread, NULL, instance_main, in), 0);
}

static void check(instance *in)
{
    printf("%s: %u frames (%u key) %u audio, %dx%d, model %s, %d log lines (%d own)\n", in->name,
           in->frames, in->keyframes, in->audio, in->params_w, in->params_h, in->info.model,
           atomic_load(&in->log_lines), atomic_load(&in->own_lines));
    NL_ASSERT_OK(in->setup_error);
    NL_ASSERT(in->loop == NULL);
    NL_ASSERT(in->cam == NULL);
    NL_ASSERT_EQ(in->hello_ran, 1);
    NL_ASSERT(pthread_equal(in->hello_thread, in->thread));

    /* It talked to its own simulator. */
    NL_ASSERT_STREQ(in->info.model, in->model);
    NL_ASSERT_UEQ(in->info.stream[NL_CAMERA_STREAM_SUB].width, in->width);
    NL_ASSERT_UEQ(in->info.stream[NL_CAMERA_STREAM_SUB].height, in->height);
    NL_ASSERT_UEQ(in->sim_stats.logins, 1);
    NL_ASSERT_UEQ(in->sim_stats.connections_total, 1);

    /* One second of the sub stream, exactly as configured. */
    NL_ASSERT(in->started);
    NL_ASSERT(!in->stream_failed);
    NL_ASSERT_EQ(in->params_codec, AV_CODEC_ID_H264);
    NL_ASSERT_EQ(in->params_w, (int)in->width);
    NL_ASSERT_EQ(in->params_h, (int)in->height);
    NL_ASSERT(in->first_is_key);
    NL_ASSERT_UEQ(in->frames, in->fps + 1); /* pts 0 .. 1 s inclusive */
    NL_ASSERT_EQ(in->last_pts - in->first_pts, 1000000);
    NL_ASSERT_UEQ(in->bad_steps, 0);
    NL_ASSERT(in->keyframes >= 2); /* gop 0.5 s */
    NL_ASSERT(in->audio >= 5);     /* 16 kHz AAC: 15.6 frames a second */
    NL_ASSERT_UEQ(in->audio_not_aac, 0);

    /* Graceful close, and the counters agree with what was delivered. */
    NL_ASSERT(in->closed);
    NL_ASSERT_EQ(in->close_error, 0);
    NL_ASSERT_UEQ(in->cam_stats.logins, 1);
    NL_ASSERT(in->cam_stats.stream[NL_CAMERA_STREAM_SUB].frames >= in->frames);
    NL_ASSERT_EQ(in->cam_stats.last_error, 0);

    /* Logs: plenty, its own camera named, never the other instance's. */
    NL_ASSERT(atomic_load(&in->own_lines) >= 3);
    NL_ASSERT_EQ(atomic_load(&in->foreign_lines), 0);
    nl_ctx_destroy(&in->ctx);
    NL_ASSERT(in->ctx == NULL);
}

static void test_two_instances(void)
{
    long live0 = nl_allocator_live();
    instance a = {.name = "alpha",
                  .other_name = "beta",
                  .model = "SimAlpha",
                  .width = 320,
                  .height = 180,
                  .fps = 10};
    instance b = {.name = "beta",
                  .other_name = "alpha",
                  .model = "SimBeta",
                  .width = 256,
                  .height = 144,
                  .fps = 8};
    start(&a);
    start(&b);
    NL_ASSERT_EQ(pthread_join(a.thread, NULL), 0);
    NL_ASSERT_EQ(pthread_join(b.thread, NULL), 0);
    check(&a);
    check(&b);
    /* Everything must be given back. The simulator's detached encoder threads
     * drop their last reference to its thread registry just after
     * nl_sim_destroy() saw them finish, so allow them a moment. */
    int waited_ms = 0;
    while (nl_allocator_live() != live0 && waited_ms < 1000) {
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        waited_ms++;
    }
    printf("allocations live: %ld (after %d ms)\n", nl_allocator_live(), waited_ms);
    NL_ASSERT_EQ(nl_allocator_live(), live0);
}

static void test_version_and_errors(void)
{
    NL_ASSERT_UEQ(nl_version(), NL_VERSION_NUM);
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", NL_VERSION_MAJOR, NL_VERSION_MINOR, NL_VERSION_PATCH);
    NL_ASSERT_STREQ(nl_version_string(), v);
    NL_ASSERT_STREQ(nl_err_name(NL_ETIMEDOUT), "NL_ETIMEDOUT");
    NL_ASSERT_STREQ(nl_strerror(NL_EAUTH), "camera rejected the credentials");
    NL_ASSERT_EQ(NL_EAUTH, -1002); /* codes are ABI: never renumbered */
    NL_ASSERT_EQ(nl_camera_error_is_fatal(NL_EAUTH), 1);
    NL_ASSERT_EQ(nl_camera_error_is_fatal(NL_ETIMEDOUT), 0);
}

/* Misuse through the public API is an error code, never a crash. */
static void test_misuse(void)
{
    nl_ctx *ctx = NULL;
    nl_loop *loop = NULL;
    NL_ASSERT_OK(nl_ctx_create(&ctx, NULL));
    NL_ASSERT_OK(nl_loop_create(&loop));
    nl_camera *cam = (nl_camera *)&cam; /* must be reset to NULL on failure */
    nl_camera_config cc;
    nl_camera_config_init(&cc);
    NL_ASSERT_EQ(nl_camera_create(&cam, ctx, loop, &cc, NULL), NL_ECONFIG); /* no host */
    NL_ASSERT(cam == NULL);
    cc.host = "127.0.0.1";
    NL_ASSERT_EQ(nl_camera_create(&cam, NULL, loop, &cc, NULL), NL_EINVAL);
    NL_ASSERT_OK(nl_camera_create(&cam, ctx, loop, &cc, NULL));
    NL_ASSERT_EQ(nl_camera_get_state(cam), NL_CAMERA_IDLE);
    NL_ASSERT_EQ(nl_camera_start_stream(cam, NL_CAMERA_STREAM_MAIN), NL_ESTATE);
    nl_camera_device_info di;
    NL_ASSERT_EQ(nl_camera_get_device_info(cam, &di), NL_EAGAIN);
    nl_camera_destroy(&cam);
    NL_ASSERT(cam == NULL);
    nl_camera_destroy(&cam); /* a pointer to NULL is a no-op */
    nl_camera_destroy(NULL);
    nl_loop_destroy(&loop);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    nl_ctx_destroy(&ctx);
}

int main(void)
{
    NL_RUN(test_version_and_errors);
    NL_RUN(test_misuse);
    NL_RUN(test_two_instances);
    NL_DONE();
}
