/* snapshot: save one JPEG of what a camera sees.
 *
 *   example_snapshot HOST PORT OUT.jpg [WIDTH]     (password: $CAMERA_PASSWORD)
 *
 * The main stream's packets are offered to an nl_snapshot, which keeps only
 * the latest key frame (cheap: one reference). Once one arrived, the session
 * logs out, and the key frame is decoded and encoded as a JPEG, scaled to
 * WIDTH pixels wide if given (aspect ratio kept). nl_snapshot_get() blocks
 * for milliseconds while it decodes: a server calls it off its loop thread;
 * here the loop has finished by then. */
#include <stdio.h>
#include <stdlib.h>

#include <neolink/camera.h>
#include <neolink/error.h>
#include <neolink/hwenc.h>

typedef struct app {
    nl_loop *loop;
    nl_snapshot *snap;
    int have_key, err;
    char detail[256];
} app;

static void log_line(void *ud, nl_log_level level, const char *line)
{
    fprintf(stderr, "snapshot: %s\n", line);
}

/* Out-of-band parameter sets, for cameras whose key frames do not carry them. */
static void on_params(void *ud, nl_camera *cam, nl_camera_stream s, const AVCodecParameters *par)
{
    app *a = ud;
    nl_snapshot_set_extradata(a->snap, par->extradata, (size_t)par->extradata_size);
}

static void on_packet(void *ud, nl_camera *cam, nl_camera_stream s, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    app *a = ud;
    if (a->have_key || pkt->stream_index != 0)
        return;
    if (nl_snapshot_push(a->snap, meta->codec, pkt) == 1) { /* 1: a key frame was kept */
        a->have_key = 1;
        nl_camera_close(cam, 2000); /* log out; CLOSED stops the loop */
    }
}

static void on_state(void *ud, nl_camera *cam, nl_camera_state st, int error)
{
    app *a = ud;
    if (st != NL_CAMERA_CLOSED)
        return;
    a->err = error;
    snprintf(a->detail, sizeof a->detail, "%s", nl_camera_last_error_detail(cam));
    nl_loop_stop(a->loop);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s HOST PORT OUT.jpg [WIDTH]\n", argv[0]);
        return 2;
    }
    app a = {0};
    nl_snapshot_config sc = {.width = argc == 5 ? (int)strtol(argv[4], NULL, 10) : 0};
    nl_ctx_config lc = {.log_fn = log_line, .log_level = NL_LOG_WARN};
    nl_camera_config cfg;
    nl_camera_config_init(&cfg);
    cfg.host = argv[1];
    cfg.port = (uint16_t)strtol(argv[2], NULL, 10);
    cfg.password = getenv("CAMERA_PASSWORD");
    nl_camera_callbacks cb = {
        .ud = &a, .on_state = on_state, .on_packet = on_packet, .on_params = on_params};
    nl_ctx *ctx = NULL;
    nl_camera *cam = NULL;
    int rc = nl_ctx_create(&ctx, &lc);
    rc = rc < 0 ? rc : nl_loop_create(&a.loop);
    rc = rc < 0 ? rc : nl_snapshot_create(&a.snap, ctx, &sc);
    rc = rc < 0 ? rc : nl_camera_create(&cam, ctx, a.loop, &cfg, &cb);
    rc = rc < 0 ? rc : nl_camera_connect(cam);
    rc = rc < 0 ? rc : nl_camera_start_stream(cam, NL_CAMERA_STREAM_MAIN);
    rc = rc < 0 ? rc : nl_loop_run(a.loop); /* until on_state(CLOSED) */
    if (rc == 0 && !a.have_key)
        rc = a.err ? a.err : NL_EEOF; /* closed before a key frame came */

    uint8_t *jpeg = NULL;
    size_t len = 0;
    nl_snapshot_info info;
    rc = rc < 0 ? rc : nl_snapshot_get(a.snap, &jpeg, &len, &info);
    FILE *f = rc == 0 ? fopen(argv[3], "wb") : NULL;
    if (rc == 0 && (!f || fwrite(jpeg, 1, len, f) != len))
        rc = NL_EIO;
    if (f && fclose(f) != 0 && rc == 0)
        rc = NL_EIO;
    nl_snapshot_free_jpeg(&jpeg);
    nl_camera_destroy(&cam);
    nl_snapshot_destroy(&a.snap);
    nl_loop_destroy(&a.loop);
    nl_ctx_destroy(&ctx);
    if (rc < 0) {
        fprintf(stderr, "snapshot: failed: %s%s%s\n", nl_strerror(rc), a.detail[0] ? ": " : "",
                a.detail);
        return 1;
    }
    printf("snapshot: %s: %dx%d JPEG, %zu bytes\n", argv[3], info.width, info.height, len);
    return 0;
}
