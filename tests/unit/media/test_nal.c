/* Annex-B scanning, NAL types, the parameter-set cache and prepending sets
 * to key frames: on the camera's H.264 I-frame and on an H.265 stream made
 * with libx265 (no H.265 capture is shipped). */
#include <libavcodec/avcodec.h>

#include "media/bcmedia_write.h"
#include "media/nal.h"
#include "media_test_util.h"

static void test_find_start(void)
{
    static const uint8_t a[] = {0, 0, 1, 0x67, 0xaa, 0, 0, 0, 1, 0x68, 0xbb, 0, 0, 1};
    NL_ASSERT_EQ(nl__nal_find_start(a, sizeof a, 0), 3);
    size_t next;
    NL_ASSERT_EQ(nl__nal_find_end(a, sizeof a, 3, &next), 5); /* trailing 00 cut */
    NL_ASSERT_EQ(next, 6);
    NL_ASSERT_EQ(nl__nal_find_start(a, sizeof a, next), 9);
    NL_ASSERT_EQ(nl__nal_find_end(a, sizeof a, 9, &next), 11);
    NL_ASSERT_EQ(nl__nal_find_start(a, sizeof a, next), 14); /* empty unit at the end */
    NL_ASSERT_EQ(nl__nal_find_start(a, sizeof a, 14), 14);

    /* Iterate: types and sizes. */
    size_t pos = 0;
    nl__nal n;
    NL_ASSERT_EQ(nl__nal_next(NL_MEDIA_CODEC_H264, a, sizeof a, &pos, &n), 1);
    NL_ASSERT_EQ(n.type, NL_H264_NAL_SPS);
    NL_ASSERT_EQ(n.size, 2);
    NL_ASSERT_EQ(nl__nal_next(NL_MEDIA_CODEC_H264, a, sizeof a, &pos, &n), 1);
    NL_ASSERT_EQ(n.type, NL_H264_NAL_PPS);
    NL_ASSERT_EQ(n.size, 2);
    NL_ASSERT_EQ(nl__nal_next(NL_MEDIA_CODEC_H264, a, sizeof a, &pos, &n), 0);

    /* No start code; start codes broken by a non-zero byte; emulation
     * prevention bytes (00 00 03) are not start codes. */
    static const uint8_t b[] = {1, 2, 0, 0, 2, 0, 1, 0, 0, 3, 1, 0, 0};
    NL_ASSERT_EQ(nl__nal_find_start(b, sizeof b, 0), sizeof b);
    NL_ASSERT_EQ(nl__nal_find_start(b, 0, 0), 0);
    NL_ASSERT_EQ(nl__nal_find_start(b, 2, 0), 2);

    /* Byte-by-byte reference on a pseudo-random buffer rich in 0 and 1. */
    uint8_t r[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof r; i++) {
        x = x * 1103515245 + 12345;
        r[i] = (uint8_t)((x >> 16) % 3);
    }
    size_t from = 0, found = 0;
    for (;;) {
        size_t want = sizeof r;
        for (size_t i = from + 2; i < sizeof r; i++)
            if (r[i] == 1 && r[i - 1] == 0 && r[i - 2] == 0) {
                want = i + 1;
                break;
            }
        size_t got = nl__nal_find_start(r, sizeof r, from);
        NL_ASSERT_EQ(got, want);
        if (got >= sizeof r)
            break;
        found++;
        from = got;
    }
    NL_ASSERT(found > 50);
}

static void test_types(void)
{
    NL_ASSERT_EQ(nl__nal_type(NL_MEDIA_CODEC_H264, 0x67), 7);
    NL_ASSERT_EQ(nl__nal_type(NL_MEDIA_CODEC_H264, 0x65), 5);
    NL_ASSERT_EQ(nl__nal_type(NL_MEDIA_CODEC_H265, 0x40), 32);
    NL_ASSERT_EQ(nl__nal_type(NL_MEDIA_CODEC_H265, 0x42), 33);
    NL_ASSERT_EQ(nl__nal_type(NL_MEDIA_CODEC_H265, 0x44), 34);
    NL_ASSERT_EQ(nl__nal_type(NL_MEDIA_CODEC_H265, 0x26), 19); /* IDR_W_RADL */
    NL_ASSERT(nl__nal_is_keyframe(NL_MEDIA_CODEC_H264, 5));
    NL_ASSERT(!nl__nal_is_keyframe(NL_MEDIA_CODEC_H264, 1));
    NL_ASSERT(nl__nal_is_keyframe(NL_MEDIA_CODEC_H265, 19));
    NL_ASSERT(nl__nal_is_keyframe(NL_MEDIA_CODEC_H265, 21)); /* CRA */
    NL_ASSERT(!nl__nal_is_keyframe(NL_MEDIA_CODEC_H265, 1));
    NL_ASSERT(nl__nal_is_vcl(NL_MEDIA_CODEC_H265, 0));
    NL_ASSERT(!nl__nal_is_vcl(NL_MEDIA_CODEC_H265, 32));
    NL_ASSERT(!nl__nal_is_vcl(NL_MEDIA_CODEC_H264, 6));
    NL_ASSERT_EQ(nl__nal_pset_kind(NL_MEDIA_CODEC_H264, 7), NL__PS_SPS);
    NL_ASSERT_EQ(nl__nal_pset_kind(NL_MEDIA_CODEC_H264, 8), NL__PS_PPS);
    NL_ASSERT_EQ(nl__nal_pset_kind(NL_MEDIA_CODEC_H264, 5), -1);
    NL_ASSERT_EQ(nl__nal_pset_kind(NL_MEDIA_CODEC_H265, 32), NL__PS_VPS);
}

/* The camera's I-frame access unit (Annex-B, 192881 bytes). */
static uint8_t *load_iframe_au(size_t *len)
{
    static const char *const names[] = {"iframe_0.raw", "iframe_1.raw", "iframe_2.raw",
                                        "iframe_3.raw", "iframe_4.raw"};
    size_t n;
    uint8_t *all = load_cat(names, 5, &n);
    *len = 192881;
    memmove(all, all + 32, *len);
    return all;
}

static void test_h264_sample(void)
{
    size_t len;
    uint8_t *au = load_iframe_au(&len);
    /* SPS (10 B), PPS (4 B), then four IDR slices (start codes found at
     * offsets 23, 32232, 80021 and 143905 with a hex editor). */
    size_t pos = 0;
    nl__nal n;
    int types[8], count = 0;
    size_t sizes[8];
    while (count < 8 && nl__nal_next(NL_MEDIA_CODEC_H264, au, len, &pos, &n)) {
        types[count] = n.type;
        sizes[count++] = n.size;
    }
    NL_ASSERT_EQ(count, 6);
    NL_ASSERT_EQ(types[0], 7);
    NL_ASSERT_EQ(types[1], 8);
    for (int i = 2; i < 6; i++)
        NL_ASSERT_EQ(types[i], 5);
    NL_ASSERT_EQ(sizes[0], 10);
    NL_ASSERT_EQ(sizes[1], 4);
    NL_ASSERT_EQ(sizes[5], len - 143905 - 3);

    nl__au_scan scan;
    nl__au_scan_head(NL_MEDIA_CODEC_H264, au, len, &scan);
    NL_ASSERT(scan.has[NL__PS_SPS] && scan.has[NL__PS_PPS] && !scan.has[NL__PS_VPS]);
    NL_ASSERT_EQ(scan.first_vcl_type, 5);
    NL_ASSERT_EQ(scan.first_vcl_off, 26);

    static nl__psets ps;
    nl__psets_init(&ps);
    NL_ASSERT_EQ(nl__psets_complete(&ps), 0);
    NL_ASSERT_EQ(nl__psets_update(&ps, NL_MEDIA_CODEC_H264, au, len, NULL), 1);
    NL_ASSERT_EQ(nl__psets_update(&ps, NL_MEDIA_CODEC_H264, au, len, NULL), 0); /* same */
    NL_ASSERT_EQ(nl__psets_complete(&ps), 1);
    static const uint8_t sps[10] = {0x67, 0x64, 0x00, 0x33, 0xac, 0xe8, 0x02, 0x80, 0x0b, 0x59};
    static const uint8_t pps[4] = {0x68, 0xee, 0x3c, 0x30};
    NL_ASSERT_EQ(ps.len[NL__PS_SPS], 10);
    NL_ASSERT_MEMEQ(ps.data[NL__PS_SPS], sps, 10);
    NL_ASSERT_MEMEQ(ps.data[NL__PS_PPS], pps, 4);
    uint8_t ex[64];
    NL_ASSERT_EQ(nl__psets_annexb(&ps, NULL, 0), 22);
    NL_ASSERT_EQ(nl__psets_annexb(&ps, ex, 21), NL_ETOOBIG);
    NL_ASSERT_EQ(nl__psets_annexb(&ps, ex, sizeof ex), 22);
    NL_ASSERT_MEMEQ(ex, au, 22);

    /* A P-frame-like AU changes nothing. */
    static const uint8_t pau[] = {0, 0, 0, 1, 0x41, 0x9a, 0x24};
    NL_ASSERT_EQ(nl__psets_update(&ps, NL_MEDIA_CODEC_H264, pau, sizeof pau, &scan), 0);
    NL_ASSERT_EQ(scan.first_vcl_type, 1);

    /* Prepending: an IDR without its sets gets them back, byte-exact. */
    AVPacket *pkt = av_packet_alloc();
    NL_ASSERT_OK(av_new_packet(pkt, (int)(len - 22)));
    memcpy(pkt->data, au + 22, len - 22);
    pkt->pts = 1234;
    pkt->flags = AV_PKT_FLAG_KEY;
    NL_ASSERT_EQ(nl__nal_prepend_params(&ps, pkt), 1);
    NL_ASSERT_EQ(pkt->size, (int)len);
    NL_ASSERT_MEMEQ(pkt->data, au, len);
    NL_ASSERT_EQ(pkt->pts, 1234);
    NL_ASSERT_EQ(pkt->flags, AV_PKT_FLAG_KEY);
    /* Already complete: untouched. */
    NL_ASSERT_EQ(nl__nal_prepend_params(&ps, pkt), 0);
    NL_ASSERT_EQ(pkt->size, (int)len);
    av_packet_unref(pkt);
    /* Not a key frame: untouched. */
    NL_ASSERT_OK(av_new_packet(pkt, sizeof pau));
    memcpy(pkt->data, pau, sizeof pau);
    NL_ASSERT_EQ(nl__nal_prepend_params(&ps, pkt), 0);
    NL_ASSERT_EQ(pkt->size, (int)sizeof pau);
    av_packet_unref(pkt);
    /* Nothing cached yet. */
    static nl__psets empty;
    nl__psets_init(&empty);
    NL_ASSERT_OK(av_new_packet(pkt, (int)(len - 22)));
    memcpy(pkt->data, au + 22, len - 22);
    NL_ASSERT_EQ(nl__nal_prepend_params(&empty, pkt), NL_EAGAIN);
    av_packet_free(&pkt);
    free(au);
}

/* tests/data/bcmedia/gen_hevc_320x240_3f.h265: three H.265 access units
 * (IDR with VPS/SPS/PPS/SEI, then two P) made once with
 *   ffmpeg -f lavfi -i testsrc=size=320x240:rate=25 -frames:v 3 -pix_fmt yuv420p
 *          -c:v libx265 -preset ultrafast -x265-params bframes=0:keyint=25:aud=1 -f hevc
 * No H.265 camera capture is shipped; each AU starts with an AUD (type 35),
 * which is where it is cut here. */
static int load_hevc_aus(uint8_t **file, const uint8_t **au, size_t *au_len, int max)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bcmedia/gen_hevc_320x240_3f.h265", NL_TEST_DATA);
    size_t len;
    *file = nl_test_read_file(path, &len);
    size_t starts[8];
    int n = 0;
    size_t pos = 0;
    for (;;) {
        size_t st = nl__nal_find_start(*file, len, pos);
        if (st >= len)
            break;
        if (nl__nal_type(NL_MEDIA_CODEC_H265, (*file)[st]) == NL_H265_NAL_AUD) {
            NL_ASSERT(n < max);
            /* back up over the start code (3 or 4 bytes) */
            size_t b = st - 3;
            if (b > 0 && (*file)[b - 1] == 0)
                b--;
            starts[n++] = b;
        }
        pos = st;
    }
    for (int i = 0; i < n; i++) {
        au[i] = *file + starts[i];
        au_len[i] = (i + 1 < n ? starts[i + 1] : len) - starts[i];
    }
    return n;
}

static void test_h265(void)
{
    uint8_t *file;
    const uint8_t *au[3];
    size_t au_len[3];
    NL_ASSERT_EQ(load_hevc_aus(&file, au, au_len, 3), 3);

    nl__au_scan scan;
    nl__au_scan_head(NL_MEDIA_CODEC_H265, au[0], au_len[0], &scan);
    NL_ASSERT(scan.has[NL__PS_VPS] && scan.has[NL__PS_SPS] && scan.has[NL__PS_PPS]);
    NL_ASSERT(nl__nal_is_keyframe(NL_MEDIA_CODEC_H265, scan.first_vcl_type));

    /* Through the BcMedia writer and the demuxer: I, P, P. */
    size_t cap = 0;
    nl__bcm_video_desc v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = (nl__bcm_video_desc){.keyframe = i == 0,
                                    .codec = NL_MEDIA_CODEC_H265,
                                    .ts_us = 1000000u + (uint32_t)i * 40000u,
                                    .posix_time = 1700000000u};
        cap += nl__bcm_video_size(&v[i], au_len[i]);
    }
    uint8_t *stream = malloc(cap);
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        int w = nl__bcm_write_video(stream + off, cap - off, &v[i], au[i], au_len[i]);
        NL_ASSERT(w > 0);
        off += (size_t)w;
    }
    NL_ASSERT_EQ(off, cap);

    nl_media_demux *d;
    NL_ASSERT_OK(nl_media_demux_create(&d, NULL));
    size_t used, fed;
    NL_ASSERT_OK(nl_media_demux_feed(d, stream, cap, &used));
    NL_ASSERT(used < cap); /* stops after the first packet */
    fed = used;
    AVPacket *pkt;
    nl_media_meta meta;
    NL_ASSERT_EQ(nl_media_demux_next(d, &pkt, &meta), 1);
    NL_ASSERT_EQ(meta.codec, NL_MEDIA_CODEC_H265);
    NL_ASSERT_EQ(meta.posix_time, 1700000000);
    NL_ASSERT(meta.flags & NL_MEDIA_FLAG_HAS_PARAMS);
    NL_ASSERT(meta.flags & NL_MEDIA_FLAG_PARAMS_CHANGED);
    NL_ASSERT_EQ(pkt->size, (int)au_len[0]);
    NL_ASSERT_MEMEQ(pkt->data, au[0], au_len[0]);

    nl_media_video_format vf;
    nl_media_demux_video_format(d, &vf);
    NL_ASSERT_EQ(vf.codec, NL_MEDIA_CODEC_H265);
    NL_ASSERT_EQ(vf.width, 320);
    NL_ASSERT_EQ(vf.height, 240);
    NL_ASSERT_EQ(vf.profile, 1); /* Main */
    NL_ASSERT_EQ(vf.have_params, 1);

    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_OK(nl_media_demux_video_params(d, par));
    NL_ASSERT_EQ(par->codec_id, AV_CODEC_ID_HEVC);
    NL_ASSERT_EQ(par->width, 320);
    /* VPS, SPS, PPS in that order, each after a 4-byte start code. */
    size_t pos = 0;
    nl__nal nal;
    int want[3] = {32, 33, 34}, k = 0;
    while (nl__nal_next(NL_MEDIA_CODEC_H265, par->extradata, (size_t)par->extradata_size, &pos,
                        &nal)) {
        NL_ASSERT(k < 3);
        NL_ASSERT_EQ(nal.type, want[k]);
        k++;
    }
    NL_ASSERT_EQ(k, 3);
    NL_ASSERT_EQ(par->extradata[0] | par->extradata[1] | par->extradata[2], 0);
    NL_ASSERT_EQ(par->extradata[3], 1);

    /* The IRAP without its sets: ensure_params puts them back. Keep the
     * units after the PPS (SEI, slice). */
    size_t cut = 0;
    pos = 0;
    while (nl__nal_next(NL_MEDIA_CODEC_H265, au[0], au_len[0], &pos, &nal))
        if (nal.type == 34) {
            cut = pos; /* start code position after the PPS */
            break;
        }
    NL_ASSERT(cut > 0);
    AVPacket *bare = av_packet_alloc();
    NL_ASSERT_OK(av_new_packet(bare, (int)(au_len[0] - cut)));
    memcpy(bare->data, au[0] + cut, (size_t)bare->size);
    NL_ASSERT_EQ(nl_media_demux_ensure_params(d, bare), 1);
    nl__au_scan_head(NL_MEDIA_CODEC_H265, bare->data, (size_t)bare->size, &scan);
    NL_ASSERT(scan.has[NL__PS_VPS] && scan.has[NL__PS_SPS] && scan.has[NL__PS_PPS]);
    NL_ASSERT_MEMEQ(bare->data, par->extradata, (size_t)par->extradata_size);
    NL_ASSERT_MEMEQ(bare->data + par->extradata_size, au[0] + cut, au_len[0] - cut);
    av_packet_free(&bare);
    avcodec_parameters_free(&par);

    for (int i = 1; i < 3; i++) {
        NL_ASSERT_OK(nl_media_demux_feed(d, stream + fed, cap - fed, &used));
        fed += used;
        NL_ASSERT_EQ(nl_media_demux_next(d, &pkt, &meta), 1);
        NL_ASSERT_EQ(meta.kind, NL_MEDIA_KIND_PFRAME);
        NL_ASSERT_EQ(pkt->pts, 1000000 + i * 40000);
        NL_ASSERT(!(meta.flags & NL_MEDIA_FLAG_PARAMS_CHANGED));
        NL_ASSERT_MEMEQ(pkt->data, au[i], au_len[i]);
        /* A P-frame is no key frame: nothing to prepend. */
        NL_ASSERT_EQ(nl_media_demux_ensure_params(d, pkt), 0);
    }
    NL_ASSERT_EQ(fed, cap);
    NL_ASSERT_EQ(nl_media_demux_finish(d), 0);
    nl_media_demux_destroy(&d);
    free(stream);
    free(file);
}

int main(void)
{
    NL_RUN(test_find_start);
    NL_RUN(test_types);
    NL_RUN(test_h264_sample);
    NL_RUN(test_h265);
    NL_DONE();
}
