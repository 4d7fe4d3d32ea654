/* host_loop: drive libneolink from the host's own poll() loop.
 *
 *   example_host_loop HOST PORT SECONDS     (password: $CAMERA_PASSWORD)
 *
 * A host that already has an event loop (poll, epoll, libuv, GLib...) does
 * not give the library a thread: it watches nl_loop_fd() next to its own
 * descriptors, waits at most nl_loop_timeout_ms() (the library's next timer),
 * and calls nl_loop_run_once(loop, 0) whenever either fires. Everything,
 * camera callbacks included, then runs on the host's thread.
 *
 * Here the host's own work is a once-a-second status line; the program
 * streams the camera's sub stream for SECONDS and prints the frames received. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <neolink/camera.h>
#include <neolink/error.h>

typedef struct app {
    unsigned frames, keyframes, audio;
    int closed, err;
} app;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_line(void *ud, nl_log_level level, const char *line)
{
    fprintf(stderr, "host_loop: %s\n", line);
}

static void on_state(void *ud, nl_camera *cam, nl_camera_state st, int error)
{
    app *a = ud;
    if (st == NL_CAMERA_CLOSED) {
        a->closed = 1;
        a->err = error;
    }
}

static void on_packet(void *ud, nl_camera *cam, nl_camera_stream s, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    app *a = ud;
    if (meta->kind == NL_MEDIA_KIND_IFRAME || meta->kind == NL_MEDIA_KIND_PFRAME) {
        a->frames++;
        a->keyframes += meta->kind == NL_MEDIA_KIND_IFRAME;
    } else {
        a->audio++;
    }
}

int main(int argc, char **argv)
{
    long secs = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
    if (secs <= 0) {
        fprintf(stderr, "usage: %s HOST PORT SECONDS\n", argv[0]);
        return 2;
    }
    app a = {0};
    nl_ctx_config lc = {.log_fn = log_line, .log_level = NL_LOG_WARN};
    nl_camera_config cfg;
    nl_camera_config_init(&cfg);
    cfg.host = argv[1];
    cfg.port = (uint16_t)strtol(argv[2], NULL, 10);
    cfg.password = getenv("CAMERA_PASSWORD");
    nl_camera_callbacks cb = {.ud = &a, .on_state = on_state, .on_packet = on_packet};
    nl_ctx *ctx = NULL;
    nl_loop *loop = NULL;
    nl_camera *cam = NULL;
    int rc = nl_ctx_create(&ctx, &lc);
    rc = rc < 0 ? rc : nl_loop_create(&loop);
    rc = rc < 0 ? rc : nl_camera_create(&cam, ctx, loop, &cfg, &cb);
    rc = rc < 0 ? rc : nl_camera_connect(cam);
    /* Asking before login is fine: the request is sent once logged in. */
    rc = rc < 0 ? rc : nl_camera_start_stream(cam, NL_CAMERA_STREAM_SUB);

    int64_t start = now_ms(), next_status = start + 1000, end = start + secs * 1000;
    int closing = 0;
    while (rc >= 0 && !a.closed) {
        /* The host's own deadlines and the library's next timer, whichever is first. */
        int64_t t = now_ms();
        int64_t wait = (closing ? next_status : (next_status < end ? next_status : end)) - t;
        int lib_ms = nl_loop_timeout_ms(loop);
        if (lib_ms >= 0 && lib_ms < wait)
            wait = lib_ms;
        struct pollfd pfd = {.fd = nl_loop_fd(loop), .events = POLLIN};
        poll(&pfd, 1, wait > 0 ? (int)wait : 0);
        rc = nl_loop_run_once(loop, 0); /* never blocks: poll() did the waiting */

        t = now_ms();
        if (t >= next_status) {
            printf("t=%llds frames %u (key %u) audio %u\n", (long long)((t - start) / 1000),
                   a.frames, a.keyframes, a.audio);
            fflush(stdout);
            next_status += 1000;
        }
        if (t >= end && !closing) {
            closing = 1;
            nl_camera_close(cam, 2000); /* stop the stream, log out; CLOSED ends the loop */
        }
    }
    if (rc >= 0)
        rc = a.err;
    if (rc < 0)
        fprintf(stderr, "host_loop: failed: %s: %s\n", nl_strerror(rc),
                cam ? nl_camera_last_error_detail(cam) : "setup");
    nl_camera_destroy(&cam);
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    if (rc < 0)
        return 1;
    printf("frames received: %u (key %u), audio packets: %u\n", a.frames, a.keyframes, a.audio);
    return a.frames > 0 ? 0 : 1;
}
