/* The real camera captures (baichuan.md §8.2) through the public demuxer:
 * the asserted values, then the same results for every way of cutting the
 * stream into pieces. */
#include "media_test_util.h"

static const char *const k_info[] = {"info_v1.raw"};
static const char *const k_iframe[] = {"iframe_0.raw", "iframe_1.raw", "iframe_2.raw",
                                       "iframe_3.raw", "iframe_4.raw"};
static const char *const k_pframe[] = {"pframe_0.raw", "pframe_1.raw"};
static const char *const k_adpcm[] = {"adpcm_0.raw"};
static const char *const k_all[] = {"info_v1.raw",  "iframe_0.raw", "iframe_1.raw",
                                    "iframe_2.raw", "iframe_3.raw", "iframe_4.raw",
                                    "pframe_0.raw", "pframe_1.raw", "adpcm_0.raw"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void check_info(const rec *r)
{
    NL_ASSERT_EQ(r->meta.kind, NL_MEDIA_KIND_INFO);
    NL_ASSERT_EQ(r->size, 0);
    const nl_media_info *in = &r->meta.info;
    NL_ASSERT_EQ(in->version, 1);
    NL_ASSERT_EQ(in->width, 2560);
    NL_ASSERT_EQ(in->height, 1440);
    NL_ASSERT_EQ(in->fps, 30);
    const nl_media_time *t[2] = {&in->start, &in->end};
    for (int i = 0; i < 2; i++) {
        NL_ASSERT_EQ(t[i]->year, 2021); /* 121 + 1900 */
        NL_ASSERT_EQ(t[i]->month, 8);
        NL_ASSERT_EQ(t[i]->day, 4);
        NL_ASSERT_EQ(t[i]->hour, 23);
        NL_ASSERT_EQ(t[i]->minute, 23);
        NL_ASSERT_EQ(t[i]->second, 52);
    }
}

static void check_iframe(const rec *r, const uint8_t *raw)
{
    NL_ASSERT_EQ(r->meta.kind, NL_MEDIA_KIND_IFRAME);
    NL_ASSERT_EQ(r->meta.codec, NL_MEDIA_CODEC_H264);
    NL_ASSERT_UEQ(r->meta.camera_us, 3557705112u);
    NL_ASSERT_EQ(r->pts, 3557705112LL); /* the first stamp maps to itself */
    NL_ASSERT_EQ(r->dts, r->pts);
    NL_ASSERT_EQ(r->meta.pts_us, r->pts);
    NL_ASSERT_EQ(r->meta.posix_time, 1628085232);
    NL_ASSERT_EQ(r->size, 192881);
    NL_ASSERT_EQ(r->meta.payload_size, 192881);
    NL_ASSERT_EQ(r->meta.extra_len, 8);
    static const uint8_t extra[8] = {0xf0, 0x9b, 0x0a, 0x61, 0x29, 0x01, 0x00, 0x00};
    NL_ASSERT_MEMEQ(r->meta.extra, extra, 8);
    NL_ASSERT_EQ(r->meta.unknown20, 3);
    NL_ASSERT(r->flags & AV_PKT_FLAG_KEY);
    NL_ASSERT(r->meta.flags & NL_MEDIA_FLAG_HAS_PARAMS);
    NL_ASSERT(r->meta.flags & NL_MEDIA_FLAG_PARAMS_CHANGED);
    NL_ASSERT_EQ(r->stream_index, 0);
    /* The payload is the Annex-B stream right after the 32-byte header. */
    NL_ASSERT_MEMEQ(r->data, raw + 32, 192881);
    static const uint8_t sps[] = {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x33};
    NL_ASSERT_MEMEQ(r->data, sps, sizeof sps);
}

static void check_pframe(const rec *r)
{
    NL_ASSERT_EQ(r->meta.kind, NL_MEDIA_KIND_PFRAME);
    NL_ASSERT_EQ(r->meta.codec, NL_MEDIA_CODEC_H264);
    NL_ASSERT_UEQ(r->meta.camera_us, 3557767112u);
    NL_ASSERT_EQ(r->size, 45108);
    NL_ASSERT_EQ(r->meta.extra_len, 0);
    NL_ASSERT_EQ(r->meta.posix_time, -1);
    NL_ASSERT(!(r->flags & AV_PKT_FLAG_KEY));
    NL_ASSERT(!(r->meta.flags & NL_MEDIA_FLAG_HAS_PARAMS));
    static const uint8_t head[] = {0, 0, 0, 1, 0x41, 0x9a};
    NL_ASSERT_MEMEQ(r->data, head, sizeof head);
}

static void check_adpcm(const rec *a, const rec *b)
{
    for (int i = 0; i < 2; i++) {
        const rec *r = i ? b : a;
        NL_ASSERT_EQ(r->meta.kind, NL_MEDIA_KIND_ADPCM);
        NL_ASSERT_EQ(r->meta.codec, NL_MEDIA_CODEC_ADPCM);
        NL_ASSERT_EQ(r->meta.payload_size, 248);
        NL_ASSERT_EQ(r->size, 244);
        NL_ASSERT_EQ(r->meta.nb_samples, 480);
        NL_ASSERT_EQ(r->meta.sample_rate, 8000);
        NL_ASSERT_EQ(r->meta.channels, 1);
        NL_ASSERT_EQ(r->stream_index, 1);
    }
    static const uint8_t dvi[4] = {0x22, 0x00, 0x10, 0x00};
    NL_ASSERT_MEMEQ(a->data, dvi, 4);
}

static void test_info(void)
{
    size_t len;
    uint8_t *buf = load_cat(k_info, 1, &len);
    NL_ASSERT_EQ(len, 32);
    recs r;
    run_demux(buf, len, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 1);
    check_info(&r.v[0]);
    NL_ASSERT_EQ(r.finish_rc, 0);
    NL_ASSERT_UEQ(r.stats.packets[NL_MEDIA_KIND_INFO], 1);
    recs_free(&r);
    free(buf);
}

static void test_iframe(void)
{
    size_t len;
    uint8_t *buf = load_cat(k_iframe, COUNT(k_iframe), &len);
    NL_ASSERT_EQ(len, 32920 + 4 * 40000);
    NL_ASSERT_EQ(len, 32 + 192881 + 7);
    recs r;
    run_demux(buf, len, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 1);
    check_iframe(&r.v[0], buf);
    NL_ASSERT_EQ(r.finish_rc, 0);
    NL_ASSERT_UEQ(r.stats.bytes_skipped, 0);
    NL_ASSERT_UEQ(r.stats.bytes_fed, len);
    recs_free(&r);

    /* Fed the way the camera sent it: one BC message per file. */
    size_t sizes[] = {32920, 40000, 40000, 40000, 40000};
    nl_media_demux *d;
    NL_ASSERT_OK(nl_media_demux_create(&d, NULL));
    size_t off = 0;
    AVPacket *pkt;
    nl_media_meta meta;
    for (int i = 0; i < 5; i++) {
        size_t used;
        NL_ASSERT_OK(nl_media_demux_feed(d, buf + off, sizes[i], &used));
        NL_ASSERT_EQ(used, sizes[i]);
        off += used;
        NL_ASSERT_EQ(nl_media_demux_next(d, &pkt, &meta), i == 4 ? 1 : 0);
    }
    NL_ASSERT_EQ(pkt->size, 192881);

    /* Codec parameters from the SPS. */
    nl_media_video_format vf;
    nl_media_demux_video_format(d, &vf);
    NL_ASSERT_EQ(vf.codec, NL_MEDIA_CODEC_H264);
    NL_ASSERT_EQ(vf.width, 2560);
    NL_ASSERT_EQ(vf.height, 1440);
    NL_ASSERT_EQ(vf.profile, 100); /* High */
    NL_ASSERT_EQ(vf.level, 51);
    NL_ASSERT_EQ(vf.have_params, 1);
    NL_ASSERT_EQ(vf.generation, 1);
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_media_demux_video_params(d, par));
    NL_ASSERT_EQ(par->codec_id, AV_CODEC_ID_H264);
    NL_ASSERT_EQ(par->width, 2560);
    NL_ASSERT_EQ(par->height, 1440);
    /* extradata = 00 00 00 01 SPS 00 00 00 01 PPS, exactly the AU's head. */
    NL_ASSERT_EQ(par->extradata_size, 22);
    NL_ASSERT_MEMEQ(par->extradata, buf + 32, 22);
    avcodec_parameters_free(&par);
    /* The I-frame carries its sets, so nothing needs prepending. */
    NL_ASSERT_EQ(nl_media_demux_ensure_params(d, pkt), 0);
    NL_ASSERT_EQ(pkt->size, 192881);
    nl_media_demux_destroy(&d);
    free(buf);
}

static void test_pframe(void)
{
    size_t len;
    uint8_t *buf = load_cat(k_pframe, COUNT(k_pframe), &len);
    NL_ASSERT_EQ(len, 24 + 45108 + 4);
    recs r;
    run_demux(buf, len, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 1);
    check_pframe(&r.v[0]);
    NL_ASSERT_EQ(r.v[0].pts, 3557767112LL);
    NL_ASSERT_EQ(r.finish_rc, 0);
    recs_free(&r);
    free(buf);
}

static void test_adpcm(void)
{
    size_t len;
    uint8_t *buf = load_cat(k_adpcm, 1, &len);
    NL_ASSERT_EQ(len, 512);
    recs r;
    run_demux(buf, len, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 2);
    check_adpcm(&r.v[0], &r.v[1]);
    /* No video yet: audio has no time base to hang on. */
    NL_ASSERT_EQ(r.v[0].pts, AV_NOPTS_VALUE);
    NL_ASSERT_EQ(r.finish_rc, 0);
    NL_ASSERT_UEQ(r.stats.packets[NL_MEDIA_KIND_ADPCM], 2);
    recs_free(&r);
    free(buf);
}

/* The whole capture as one stream, as a camera session would see it. */
static void check_all(const recs *r, const uint8_t *buf)
{
    NL_ASSERT_EQ(r->n, 5);
    check_info(&r->v[0]);
    check_iframe(&r->v[1], buf + 32);
    check_pframe(&r->v[2]);
    check_adpcm(&r->v[3], &r->v[4]);
    /* P follows I by 62 ms on the camera clock. */
    NL_ASSERT_EQ(r->v[2].pts - r->v[1].pts, 62000);
    /* Audio hangs on the latest video stamp and counts samples from it. */
    NL_ASSERT_EQ(r->v[3].pts, r->v[2].pts);
    NL_ASSERT_EQ(r->v[4].pts, r->v[2].pts + 60000);
    NL_ASSERT_EQ(r->finish_rc, 0);
    NL_ASSERT_UEQ(r->stats.bytes_skipped, 0);
    NL_ASSERT_UEQ(r->stats.resyncs, 0);
    NL_ASSERT_UEQ(r->stats.packets[NL_MEDIA_KIND_INFO], 1);
    NL_ASSERT_UEQ(r->stats.packets[NL_MEDIA_KIND_IFRAME], 1);
    NL_ASSERT_UEQ(r->stats.packets[NL_MEDIA_KIND_PFRAME], 1);
    NL_ASSERT_UEQ(r->stats.packets[NL_MEDIA_KIND_ADPCM], 2);
}

static void test_all_whole_and_bytewise(void)
{
    size_t len;
    uint8_t *buf = load_cat(k_all, COUNT(k_all), &len);
    recs whole, bytes;
    run_demux(buf, len, NULL, NULL, &whole);
    check_all(&whole, buf);
    run_demux(buf, len, chunk_one, NULL, &bytes);
    check_all(&bytes, buf);
    recs_assert_same(&whole, &bytes);
    recs_free(&bytes);

    /* Split in two at offsets all around every header and padding (where
     * the state machine changes state), and at a stride elsewhere. Every
     * single offset of the 238 kB stream would also pass but takes minutes
     * under sanitizers; the exhaustive case is in test_bcmedia_write. */
    const size_t bounds[] = {0,
                             32,
                             32 + 32,
                             32 + 192920 - 7,
                             32 + 192920,
                             32 + 192944,
                             32 + 192920 + 45136 - 4,
                             32 + 192920 + 45136,
                             32 + 192920 + 45136 + 12,
                             32 + 192920 + 45136 + 256,
                             len};
    size_t runs = 0;
    for (size_t at = 1; at < len; at++) {
        int near = 0;
        for (size_t b = 0; b < COUNT(bounds); b++)
            if (at + 40 >= bounds[b] && at <= bounds[b] + 40)
                near = 1;
        if (!near && at % 1021 != 0)
            continue;
        recs split;
        run_demux(buf, len, chunk_split, &at, &split);
        recs_assert_same(&whole, &split);
        recs_free(&split);
        runs++;
    }
    NL_ASSERT(runs > 600);
    recs_free(&whole);
    free(buf);
}

static size_t chunk_camera(size_t i, void *ud)
{
    /* Pieces of ~1010 bytes like the Argus 2 UDP capture, varying a bit. */
    (void)ud;
    return 1000 + (i * 7) % 23;
}

static void test_all_udp_sized(void)
{
    size_t len;
    uint8_t *buf = load_cat(k_all, COUNT(k_all), &len);
    recs r;
    run_demux(buf, len, chunk_camera, NULL, &r);
    check_all(&r, buf);
    recs_free(&r);
    free(buf);
}

int main(void)
{
    NL_RUN(test_info);
    NL_RUN(test_iframe);
    NL_RUN(test_pframe);
    NL_RUN(test_adpcm);
    NL_RUN(test_all_whole_and_bytewise);
    NL_RUN(test_all_udp_sized);
    NL_DONE();
}
