/* record: save N seconds of a camera's main stream to an MP4 file (H.264/H.265
 * plus AAC audio when the camera sends AAC) with libavformat's mp4 muxer.
 *   example_record HOST PORT SECONDS OUT.mp4     (password: $CAMERA_PASSWORD)
 * The mp4 header needs every stream's format before the first packet, and the
 * audio format is only known once audio arrived, so recording starts at the
 * first key frame after that (or at the second key frame of a silent camera). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavformat/avformat.h>

#include <neolink/camera.h>
#include <neolink/error.h>

typedef struct rec {
    nl_loop *loop;
    const char *path;
    int64_t want_us, base; /* length to record; camera pts of the file's start */
    int64_t frame_us;      /* video frame duration from the camera's Info, or 0 */
    int keys_seen, header, finished, err;
    AVFormatContext *oc; /* NULL until recording starts */
    unsigned frames, audio;
} rec;

/* Creates the file with the video parameters of `cam` and, if any, its AAC. */
static int open_output(rec *r, nl_camera *cam, const nl_media_audio_format *af)
{
    if (avformat_alloc_output_context2(&r->oc, NULL, "mp4", r->path) < 0)
        return NL_ENOMEM;
    AVStream *vs = avformat_new_stream(r->oc, NULL);
    if (!vs || nl_camera_stream_params(cam, NL_CAMERA_STREAM_MAIN, vs->codecpar) < 0)
        return NL_ENOMEM;
    vs->time_base = (AVRational){1, 1000000}; /* the camera's µs clock */
    nl_media_info info; /* the camera's announced frame rate gives the last frame a length */
    if (nl_camera_stream_info(cam, NL_CAMERA_STREAM_MAIN, &info) == 0 && info.fps > 0 &&
        info.fps <= 120)
        r->frame_us = 1000000 / info.fps;
    if (af->codec == NL_MEDIA_CODEC_AAC) {
        AVStream *as = avformat_new_stream(r->oc, NULL);
        AVCodecParameters *p = as ? as->codecpar : NULL;
        if (!p || !(p->extradata = av_mallocz(af->asc_len + AV_INPUT_BUFFER_PADDING_SIZE)))
            return NL_ENOMEM;
        memcpy(p->extradata, af->asc, af->asc_len); /* AudioSpecificConfig */
        p->extradata_size = af->asc_len;
        p->codec_type = AVMEDIA_TYPE_AUDIO;
        p->codec_id = AV_CODEC_ID_AAC;
        p->sample_rate = af->sample_rate;
        p->frame_size = 1024; /* AAC-LC */
        av_channel_layout_default(&p->ch_layout, af->channels);
        as->time_base = (AVRational){1, af->sample_rate};
    }
    if (avio_open(&r->oc->pb, r->path, AVIO_FLAG_WRITE) < 0 ||
        avformat_write_header(r->oc, NULL) < 0)
        return NL_EIO;
    r->header = 1;
    return 0;
}

static void on_packet(void *ud, nl_camera *cam, nl_camera_stream s, AVPacket *pkt,
                      const nl_media_meta *meta)
{
    rec *r = ud;
    int video = pkt->stream_index == 0;
    if (r->finished)
        return;
    if (!r->oc) {
        nl_media_audio_format af;
        nl_camera_stream_audio(cam, s, &af);
        if (!video || !(pkt->flags & AV_PKT_FLAG_KEY) ||
            (af.codec == NL_MEDIA_CODEC_NONE && r->keys_seen++ == 0))
            return;
        r->base = pkt->pts;
        r->err = open_output(r, cam, &af);
    }
    int64_t t = pkt->pts - r->base;                     /* the file starts at 0 */
    r->finished = r->err || (video && t >= r->want_us); /* frames at 0 .. N s: fps x N */
    if (!r->finished && t >= 0 && pkt->stream_index < (int)r->oc->nb_streams) {
        AVPacket *own = av_packet_clone(pkt); /* pkt is borrowed; the muxer takes `own` */
        AVRational tb = r->oc->streams[pkt->stream_index]->time_base;
        if (!own)
            return;
        own->pts = own->dts = av_rescale_q(t, (AVRational){1, 1000000}, tb);
        own->duration =
            av_rescale_q(video ? r->frame_us : own->duration, (AVRational){1, 1000000}, tb);
        if (av_interleaved_write_frame(r->oc, own) < 0)
            r->err = NL_EIO;
        *(video ? &r->frames : &r->audio) += 1;
        av_packet_free(&own);
    }
    if (r->finished || r->err)
        nl_camera_close(cam, 2000); /* log out politely; CLOSED stops the loop */
}

static void on_state(void *ud, nl_camera *cam, nl_camera_state st, int error)
{
    rec *r = ud;
    if (st != NL_CAMERA_CLOSED)
        return;
    if (error && !r->err) { /* the code says what kind of failure, the detail what exactly */
        r->err = error;
        fprintf(stderr, "record: %s\n", nl_camera_last_error_detail(cam));
    }
    nl_loop_stop(r->loop);
}

int main(int argc, char **argv)
{
    long secs = argc == 5 ? strtol(argv[3], NULL, 10) : 0;
    if (secs <= 0) {
        fprintf(stderr, "usage: %s HOST PORT SECONDS OUT.mp4\n", argv[0]);
        return 2;
    }
    rec r = {.path = argv[4], .want_us = secs * 1000000};
    nl_camera_config cfg;
    nl_camera_config_init(&cfg);
    cfg.host = argv[1];
    cfg.port = (uint16_t)strtol(argv[2], NULL, 10);
    cfg.password = getenv("CAMERA_PASSWORD");
    nl_camera_callbacks cb = {.ud = &r, .on_state = on_state, .on_packet = on_packet};
    nl_ctx *ctx = NULL;
    nl_camera *cam = NULL;
    int rc = nl_ctx_create(&ctx, NULL); /* no log callback: errors come as codes + detail */
    rc = rc < 0 ? rc : nl_loop_create(&r.loop);
    rc = rc < 0 ? rc : nl_camera_create(&cam, ctx, r.loop, &cfg, &cb);
    rc = rc < 0 ? rc : nl_camera_connect(cam);
    rc = rc < 0 ? rc : nl_camera_start_stream(cam, NL_CAMERA_STREAM_MAIN);
    rc = rc < 0 ? rc : nl_loop_run(r.loop); /* until on_state(CLOSED) */
    rc = rc < 0 ? rc : r.err;
    if (r.header && av_write_trailer(r.oc) < 0 && rc == 0)
        rc = NL_EIO;
    if (r.oc)
        avio_closep(&r.oc->pb);
    avformat_free_context(r.oc);
    nl_camera_destroy(&cam);
    nl_loop_destroy(&r.loop);
    nl_ctx_destroy(&ctx);
    if (rc < 0 || r.frames == 0) {
        fprintf(stderr, "record: failed: %s\n", rc < 0 ? nl_strerror(rc) : "no video");
        return 1;
    }
    printf("record: %s: %u video frames, %u audio packets\n", r.path, r.frames, r.audio);
    return 0;
}
