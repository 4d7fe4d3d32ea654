/* embed_server: re-serve one camera over RTSP from a host program.
 *   example_embed_server HOST PORT [RTSP_PORT]   (password: $CAMERA_PASSWORD)
 * The main stream is requested once; the mount packetizes each frame once for
 * every viewer. No RTSP users are set, so it listens on 127.0.0.1 only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <neolink/camera.h>
#include <neolink/error.h>
#include <neolink/rtsp.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    stop = 1;
}

static nl_rtsp_server *srv;  /* one camera, one mount: statics (else a struct in ud) */
static nl_rtsp_mount *mount; /* created once the camera told us its video format */

/* First parameters: mount the stream. Later ones (a new resolution): update it. */
static void on_params(void *ud, nl_camera *cam, nl_camera_stream s, const AVCodecParameters *par)
{
    nl_rtsp_track_config track = {.par = par, .time_base = {1, 1000000}}; /* µs pts */
    nl_rtsp_mount_config mc = {.path = "cam", .tracks = &track, .n_tracks = 1};
    if (mount)
        nl_rtsp_mount_set_codecpar(mount, 0, par);
    else if (nl_rtsp_mount_create(srv, &mc, &mount) == 0)
        printf("serving rtsp://127.0.0.1:%u/cam\n", nl_rtsp_server_port(srv));
    fflush(stdout);
}

static void on_packet(void *ud, nl_camera *cam, nl_camera_stream s, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    if (mount && pkt->stream_index == 0) /* video only, to stay short */
        nl_rtsp_mount_push(mount, 0, pkt);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST PORT [RTSP_PORT]\n", argv[0]);
        return 2;
    }
    signal(SIGINT, on_signal); /* the library installs no signal handler itself */
    signal(SIGTERM, on_signal);
    nl_rtsp_server_config sc = {.bind_address = "127.0.0.1"};
    sc.port = argc > 3 ? (uint16_t)strtol(argv[3], NULL, 10) : 0;
    nl_camera_config cc;
    nl_camera_config_init(&cc);
    cc.host = argv[1];
    cc.port = (uint16_t)strtol(argv[2], NULL, 10);
    cc.password = getenv("CAMERA_PASSWORD");
    nl_camera_callbacks cb = {.on_params = on_params, .on_packet = on_packet};
    nl_ctx *ctx = NULL;
    nl_loop *loop = NULL;
    nl_camera *cam = NULL;
    int rc = nl_ctx_create(&ctx, NULL);
    rc = rc < 0 ? rc : nl_loop_create(&loop);
    rc = rc < 0 ? rc : nl_rtsp_server_create(&srv, loop, ctx, &sc);
    rc = rc < 0 ? rc : nl_camera_create(&cam, ctx, loop, &cc, &cb);
    rc = rc < 0 ? rc : nl_camera_connect(cam);
    rc = rc < 0 ? rc : nl_camera_start_stream(cam, NL_CAMERA_STREAM_MAIN);
    while (rc >= 0 && nl_camera_get_state(cam) != NL_CAMERA_CLOSED) {
        if (stop) /* log out politely; CLOSED ends the loop (calling again is harmless) */
            nl_camera_close(cam, 2000);
        rc = nl_loop_run_once(loop, -1); /* a signal interrupts the wait */
    }
    if ((rc = rc < 0 || stop ? rc : nl_camera_last_error(cam)) < 0) /* camera went away? */
        fprintf(stderr, "embed_server: %s: %s\n", nl_strerror(rc),
                cam ? nl_camera_last_error_detail(cam) : "setup failed");
    nl_camera_destroy(&cam);
    nl_rtsp_server_destroy(&srv); /* removes the mount */
    nl_loop_destroy(&loop);
    nl_ctx_destroy(&ctx);
    return rc < 0;
}
