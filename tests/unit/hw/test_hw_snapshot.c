/* Snapshots: the latest key frame becomes a JPEG (decoded back here: size,
 * full-range yuvj420p, and the synthesizer's frame counter read from the
 * picture, so it is the right frame), the cache answers repeated requests,
 * and an elementary stream fed in arbitrary chunks works the same way. */
#include "hw_test_util.h"

static nl_ctx *g_ctx;

typedef struct jpeg_info {
    int width, height, format, range;
    uint32_t counter;
    int counter_rc;
} jpeg_info;

static void grab(void *ud, const AVFrame *f)
{
    jpeg_info *j = ud;
    j->width = f->width;
    j->height = f->height;
    j->format = f->format;
    j->range = f->color_range;
    j->counter_rc =
        nl_synth_read_counter(f->data[0], f->linesize[0], f->width, f->height, &j->counter);
}

static jpeg_info decode_jpeg(const uint8_t *data, size_t len)
{
    NL_ASSERT(len > 100);
    NL_ASSERT(data[0] == 0xff && data[1] == 0xd8);             /* SOI */
    NL_ASSERT(data[len - 2] == 0xff && data[len - 1] == 0xd9); /* EOI */
    jpeg_info j = {0};
    AVPacket *p = av_packet_alloc();
    NL_ASSERT_EQ(av_new_packet(p, (int)len), 0);
    memcpy(p->data, data, len);
    test_dec d = test_dec_open(AV_CODEC_ID_MJPEG, NULL);
    int n = test_dec_run(&d, p, grab, &j);
    n += test_dec_run(&d, NULL, grab, &j);
    NL_ASSERT_EQ(n, 1);
    test_dec_close(&d);
    av_packet_free(&p);
    return j;
}

/* Pushes frames first..last of a synthesizer stream into s. */
static void push_frames(nl_snapshot *s, nl_synth_video *syn, int count, nl_media_codec codec)
{
    AVPacket *pkt = av_packet_alloc();
    for (int i = 0; i < count; i++) {
        NL_ASSERT_OK(nl_synth_video_next(syn, pkt));
        int rc = nl_snapshot_push(s, codec, pkt);
        NL_ASSERT_EQ(rc, (pkt->flags & AV_PKT_FLAG_KEY) ? 1 : 0);
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
}

static void test_keyframe_to_jpeg(void)
{
    nl_synth_video_config vc;
    nl_synth_video_config_sub(&vc); /* 640x360 */
    vc.gop = 10;
    vc.start_us = 7000000;
    nl_synth_video *syn = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&syn, &vc));
    nl_snapshot *s = NULL;
    /* A cache window far longer than encoding 10 frames takes even under
     * valgrind, so the "within cache_ms" step below cannot race the clock. */
    nl_snapshot_config cc = {.cache_ms = 60000};
    NL_ASSERT_OK(nl_snapshot_create(&s, g_ctx, &cc));
    uint8_t *jpeg = NULL;
    size_t len = 0;
    NL_ASSERT_EQ(nl_snapshot_get(s, &jpeg, &len, NULL), NL_EAGAIN); /* nothing yet */

    nl_hw_stats before, st;
    nl_hw_get_stats(&before, sizeof before);
    push_frames(s, syn, 15, NL_MEDIA_CODEC_H264); /* key frames 0 and 10 */
    nl_snapshot_info info;
    NL_ASSERT_OK(nl_snapshot_get(s, &jpeg, &len, &info));
    NL_ASSERT_EQ(info.width, 640);
    NL_ASSERT_EQ(info.height, 360);
    NL_ASSERT_EQ(info.pts, 7000000 + 10 * 1000000 / 15); /* frame 10 at 15 fps */
    NL_ASSERT_EQ(info.cached, 0);
    jpeg_info j = decode_jpeg(jpeg, len);
    printf("  JPEG %zu bytes, %dx%d\n", len, j.width, j.height);
    NL_ASSERT_EQ(j.width, 640);
    NL_ASSERT_EQ(j.height, 360);
    NL_ASSERT_EQ(j.format, AV_PIX_FMT_YUVJ420P);
    NL_ASSERT_EQ(j.counter_rc, 0);
    NL_ASSERT_EQ(j.counter, 10); /* the latest key frame, not the first */
    nl_snapshot_free_jpeg(&jpeg);
    NL_ASSERT(jpeg == NULL);

    /* Again: the cache (same key frame), byte for byte. */
    uint8_t *again = NULL;
    size_t len2 = 0;
    NL_ASSERT_OK(nl_snapshot_get(s, &again, &len2, &info));
    NL_ASSERT_EQ(info.cached, 1);
    NL_ASSERT_EQ(len2, len);
    nl_snapshot_free_jpeg(&again);

    /* A newer key frame within cache_ms: still the cached picture. */
    push_frames(s, syn, 10, NL_MEDIA_CODEC_H264); /* key frame 20 */
    NL_ASSERT_OK(nl_snapshot_get(s, &jpeg, &len, &info));
    NL_ASSERT_EQ(info.cached, 1);
    NL_ASSERT_EQ(decode_jpeg(jpeg, len).counter, 10);
    nl_snapshot_free_jpeg(&jpeg);
    nl_hw_get_stats(&st, sizeof st);
    NL_ASSERT_EQ(st.snapshots - before.snapshots, 1);
    NL_ASSERT_EQ(st.snapshot_cache_hits - before.snapshot_cache_hits, 2);
    nl_snapshot_destroy(&s);
    NL_ASSERT(s == NULL);

    /* Scaled (width only: keep 16:9), no cache: a new key frame is decoded. */
    nl_snapshot_config sc = {.width = 320, .cache_ms = 1, .quality = 10};
    NL_ASSERT_OK(nl_snapshot_create(&s, g_ctx, &sc));
    push_frames(s, syn, 10, NL_MEDIA_CODEC_H264); /* key frame 30 */
    NL_ASSERT_OK(nl_snapshot_get(s, &jpeg, &len, &info));
    j = decode_jpeg(jpeg, len);
    NL_ASSERT_EQ(j.width, 320);
    NL_ASSERT_EQ(j.height, 180);
    NL_ASSERT_EQ(info.width, 320);
    nl_snapshot_free_jpeg(&jpeg);
    push_frames(s, syn, 10, NL_MEDIA_CODEC_H264); /* key frame 40 */
    sleep_ms(5);
    NL_ASSERT_OK(nl_snapshot_get(s, &jpeg, &len, &info));
    NL_ASSERT_EQ(info.cached, 0);
    NL_ASSERT_EQ(info.pts, 7000000 + 40 * 1000000 / 15);
    nl_snapshot_free_jpeg(&jpeg);
    nl_snapshot_destroy(&s);
    nl_synth_video_destroy(&syn);
}

/* An H.265 elementary stream in odd-sized chunks, as the CLI reads a file
 * (H.264 under valgrind, which libx265 does not survive cleanly). */
static void test_feed_h265_stream(void)
{
    const int vg = under_valgrind();
    const nl_media_codec codec = vg ? NL_MEDIA_CODEC_H264 : NL_MEDIA_CODEC_H265;
    nl_synth_video_config vc;
    nl_synth_video_config_sub(&vc);
    vc.codec = vg ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC;
    vc.width = 480;
    vc.height = 270;
    vc.gop = 8;
    nl_synth_video *syn = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&syn, &vc));
    uint8_t *es = NULL;
    size_t es_len = 0;
    AVPacket *pkt = av_packet_alloc();
    for (int i = 0; i < 20; i++) { /* key frames 0, 8, 16 */
        NL_ASSERT_OK(nl_synth_video_next(syn, pkt));
        es = realloc(es, es_len + (size_t)pkt->size);
        memcpy(es + es_len, pkt->data, (size_t)pkt->size);
        es_len += (size_t)pkt->size;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    nl_synth_video_destroy(&syn);

    nl_snapshot *s = NULL;
    NL_ASSERT_OK(nl_snapshot_create(&s, g_ctx, NULL));
    size_t off = 0, chunk = 1;
    int rc = 0;
    while (off < es_len) {
        size_t n = chunk < es_len - off ? chunk : es_len - off;
        rc = nl_snapshot_feed(s, codec, es + off, n);
        NL_ASSERT(rc >= 0);
        off += n;
        chunk = chunk * 3 + 7; /* 1, 10, 37, ... bytes */
    }
    rc = nl_snapshot_feed(s, codec, NULL, 0);
    NL_ASSERT_EQ(rc, 3);
    uint8_t *jpeg = NULL;
    size_t len = 0;
    nl_snapshot_info info;
    NL_ASSERT_OK(nl_snapshot_get(s, &jpeg, &len, &info));
    NL_ASSERT_EQ(info.pts, 16); /* the 17th access unit */
    jpeg_info j = decode_jpeg(jpeg, len);
    NL_ASSERT_EQ(j.width, 480);
    NL_ASSERT_EQ(j.height, 270);
    NL_ASSERT_EQ(j.counter_rc, 0);
    NL_ASSERT_EQ(j.counter, 16);
    nl_snapshot_free_jpeg(&jpeg);

    /* Garbage that decodes to nothing: a clear error, no crash. */
    uint8_t junk[64];
    memset(junk, 0x5a, sizeof junk);
    junk[0] = 0, junk[1] = 0, junk[2] = 1, junk[3] = 0x26; /* IDR_W_RADL header, no VPS/SPS */
    AVPacket *bad = av_packet_alloc();
    NL_ASSERT_EQ(av_new_packet(bad, sizeof junk), 0);
    memcpy(bad->data, junk, sizeof junk);
    bad->flags |= AV_PKT_FLAG_KEY;
    nl_snapshot_destroy(&s);
    NL_ASSERT_OK(nl_snapshot_create(&s, g_ctx, NULL));
    NL_ASSERT_EQ(nl_snapshot_push(s, NL_MEDIA_CODEC_H265, bad), 1);
    NL_ASSERT_EQ(nl_snapshot_get(s, &jpeg, &len, &info), NL_ECODEC);
    NL_ASSERT(jpeg == NULL);
    NL_ASSERT_EQ(nl_snapshot_push(s, NL_MEDIA_CODEC_AAC, bad), NL_EINVAL);
    av_packet_free(&bad);
    nl_snapshot_destroy(&s);
    free(es);

    nl_snapshot_config sc = {.quality = 1};
    NL_ASSERT_EQ(nl_snapshot_create(&s, g_ctx, &sc), NL_EINVAL);
}

/* Key frames without in-band parameter sets decode with set_extradata. */
static void test_out_of_band_params(void)
{
    nl_synth_video_config vc;
    nl_synth_video_config_sub(&vc);
    vc.width = 256;
    vc.height = 144;
    nl_synth_video *syn = NULL;
    NL_ASSERT_OK(nl_synth_video_create(&syn, &vc));
    AVPacket *pkt = av_packet_alloc();
    NL_ASSERT_OK(nl_synth_video_next(syn, pkt));
    size_t xlen;
    const uint8_t *xd = nl_synth_video_extradata(syn, &xlen);
    NL_ASSERT(xlen > 0);
    /* Cut the key frame after its SPS/PPS: keep from the first slice (type 5). */
    int cut = -1;
    for (int i = 0; i + 4 < pkt->size; i++)
        if (pkt->data[i] == 0 && pkt->data[i + 1] == 0 && pkt->data[i + 2] == 1 &&
            (pkt->data[i + 3] & 0x1f) == 5) {
            cut = i > 0 && pkt->data[i - 1] == 0 ? i - 1 : i;
            break;
        }
    NL_ASSERT(cut > 0);
    AVPacket *slice = av_packet_alloc();
    NL_ASSERT_EQ(av_new_packet(slice, pkt->size - cut), 0);
    memcpy(slice->data, pkt->data + cut, (size_t)(pkt->size - cut));
    slice->flags |= AV_PKT_FLAG_KEY;
    NL_ASSERT(!has_nal(slice, 0, 7));
    nl_snapshot *s = NULL;
    NL_ASSERT_OK(nl_snapshot_create(&s, g_ctx, NULL));
    NL_ASSERT_EQ(nl_snapshot_push(s, NL_MEDIA_CODEC_H264, slice), 1);
    uint8_t *jpeg = NULL;
    size_t len = 0;
    NL_ASSERT_EQ(nl_snapshot_get(s, &jpeg, &len, NULL), NL_ECODEC);
    NL_ASSERT_OK(nl_snapshot_set_extradata(s, xd, xlen));
    NL_ASSERT_OK(nl_snapshot_get(s, &jpeg, &len, NULL));
    jpeg_info j = decode_jpeg(jpeg, len);
    NL_ASSERT_EQ(j.width, 256);
    NL_ASSERT_EQ(j.counter, 0);
    nl_snapshot_free_jpeg(&jpeg);
    nl_snapshot_destroy(&s);
    av_packet_free(&slice);
    av_packet_free(&pkt);
    nl_synth_video_destroy(&syn);
}

int main(void)
{
    g_ctx = test_ctx();
    NL_RUN(test_keyframe_to_jpeg);
    NL_RUN(test_feed_h265_stream);
    NL_RUN(test_out_of_band_params);
    nl_ctx_destroy(&g_ctx);
    NL_DONE();
}
