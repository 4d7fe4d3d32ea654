/* events: print a camera's motion events as they arrive.
 *
 *   example_events HOST PORT [COUNT]     (password: $CAMERA_PASSWORD)
 *
 * Logs in, asks the camera to push its alarm events (setting on_motion is
 * enough: the session then subscribes right after login), and prints one
 * line per change of the motion state. Stops after COUNT changes, or on
 * Ctrl-C / SIGTERM, with a polite logout. No video is requested: events
 * need no stream. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <neolink/camera.h>
#include <neolink/error.h>

static volatile sig_atomic_t stop_requested;

typedef struct app {
    long want, seen; /* events to wait for (0: no limit); events printed */
    int closed, err;
    char detail[256]; /* what failed, in one line */
} app;

/* The library never touches signals: what Ctrl-C means is the host's choice. */
static void on_signal(int sig)
{
    stop_requested = 1;
}

static void log_line(void *ud, nl_log_level level, const char *line)
{
    fprintf(stderr, "events: %s\n", line);
}

static void on_state(void *ud, nl_camera *cam, nl_camera_state st, int error)
{
    app *a = ud;
    nl_camera_device_info di;
    if (st == NL_CAMERA_READY && nl_camera_get_device_info(cam, &di) == 0) {
        printf("connected to %s (%s, firmware %s); waiting for motion events\n", di.name, di.model,
               di.firmware);
        fflush(stdout);
    }
    if (st == NL_CAMERA_CLOSED) {
        a->closed = 1;
        a->err = error;
        snprintf(a->detail, sizeof a->detail, "%s", nl_camera_last_error_detail(cam));
    }
}

static void on_motion(void *ud, nl_camera *cam, int motion)
{
    app *a = ud;
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&now));
    printf("%s motion %s\n", when, motion ? "started" : "stopped");
    fflush(stdout); /* one line per event, also when piped */
    if (++a->seen == a->want)
        nl_camera_close(cam, 2000);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s HOST PORT [COUNT]\n", argv[0]);
        return 2;
    }
    app a = {.want = argc == 4 ? strtol(argv[3], NULL, 10) : 0};
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    nl_ctx_config lc = {.log_fn = log_line, .log_level = NL_LOG_WARN};
    nl_camera_config cfg;
    nl_camera_config_init(&cfg);
    cfg.host = argv[1];
    cfg.port = (uint16_t)strtol(argv[2], NULL, 10);
    cfg.password = getenv("CAMERA_PASSWORD");
    nl_camera_callbacks cb = {.ud = &a, .on_state = on_state, .on_motion = on_motion};
    nl_ctx *ctx = NULL;
    nl_loop *loop = NULL;
    nl_camera *cam = NULL;
    int rc = nl_ctx_create(&ctx, &lc);
    rc = rc < 0 ? rc : nl_loop_create(&loop);
    rc = rc < 0 ? rc : nl_camera_create(&cam, ctx, loop, &cfg, &cb);
    rc = rc < 0 ? rc : nl_camera_connect(cam);
    /* Run the loop ourselves in slices: a signal interrupts the wait, and the
     * flag is checked between iterations. */
    int closing = 0;
    while (rc >= 0 && !a.closed) {
        if (stop_requested && !closing) {
            closing = 1;
            nl_camera_close(cam, 2000);
        }
        rc = nl_loop_run_once(loop, 200);
    }
    if (rc >= 0)
        rc = a.err;
    nl_camera_destroy(&cam);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    if (rc < 0) {
        fprintf(stderr, "events: failed: %s%s%s\n", nl_strerror(rc), a.detail[0] ? ": " : "",
                a.detail);
        return 1;
    }
    printf("%ld motion events\n", a.seen);
    return 0;
}
