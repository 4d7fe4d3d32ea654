/* The serializer against the demuxer: everything written parses back to the
 * same values; a small synthetic stream cut at every single offset and fed
 * byte by byte; AAC header stripping and timing; the camera clock wrapping,
 * stepping back and restarting. */
#include "media/aac.h"
#include "media/bcmedia_write.h"
#include "media_test_util.h"

/* One ADTS frame: LC, rate index sf, chan channels, payload of n bytes. */
static size_t make_adts(uint8_t *out, size_t n, int crc, unsigned sf, unsigned chan, uint8_t fill)
{
    size_t hdr = crc ? 9 : 7, flen = hdr + n;
    out[0] = 0xff;
    out[1] = (uint8_t)(0xf0 | (crc ? 0 : 1));
    out[2] = (uint8_t)(1u << 6 | sf << 2 | chan >> 2); /* profile 1 = LC */
    out[3] = (uint8_t)((chan & 3) << 6 | (unsigned)(flen >> 11));
    out[4] = (uint8_t)(flen >> 3);
    out[5] = (uint8_t)((flen & 7) << 5 | 0x1f);
    out[6] = 0xfc;
    if (crc) {
        out[7] = 0x12;
        out[8] = 0x34;
    }
    memset(out + hdr, fill, n);
    return flen;
}

typedef struct stream {
    uint8_t *buf;
    size_t len, cap;
} stream;

static uint8_t *stream_room(stream *s, size_t n)
{
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->buf = realloc(s->buf, s->cap);
        NL_ASSERT(s->buf != NULL);
    }
    return s->buf + s->len;
}

static void put_video(stream *s, const nl__bcm_video_desc *v, const uint8_t *p, size_t n)
{
    size_t need = nl__bcm_video_size(v, n);
    int w = nl__bcm_write_video(stream_room(s, need), need, v, p, n);
    NL_ASSERT_EQ(w, (int)need);
    s->len += need;
}

static void put_aac(stream *s, const uint8_t *p, size_t n)
{
    size_t need = nl__bcm_aac_size(n);
    NL_ASSERT_EQ(nl__bcm_write_aac(stream_room(s, need), need, p, n), (int)need);
    s->len += need;
}

static void put_adpcm(stream *s, const uint8_t *p, size_t n)
{
    size_t need = nl__bcm_adpcm_size(n);
    NL_ASSERT_EQ(nl__bcm_write_adpcm(stream_room(s, need), need, p, n), (int)need);
    s->len += need;
}

static void put_info(stream *s, const nl_media_info *in)
{
    NL_ASSERT_EQ(nl__bcm_write_info(stream_room(s, 32), 32, in), 32);
    s->len += 32;
}

static const uint8_t k_idr[] = {0,    0,    0,    1,    0x67, 0x64, 0x00, 0x33, 0xac,
                                0xe8, 0x02, 0x80, 0x0b, 0x59, 0,    0,    0,    1,
                                0x68, 0xee, 0x3c, 0x30, 0,    0,    0,    1,    0x65,
                                0x88, 0x80, 0x80, 0x03, 0x3f, 0xf9, 0xe0, 0x52};
static const uint8_t k_p[] = {0, 0, 0, 1, 0x41, 0x9a, 0x24, 0x21, 0x5f, 0xfc, 0x84};

static const nl_media_info k_info = {
    .version = 2,
    .width = 1920,
    .height = 1080,
    .fps = 25,
    .unknown16 = 1,
    .start = {2024, 2, 29, 12, 34, 56},
    .end = {2024, 2, 29, 12, 35, 1},
};

/* Info, I (+8 extra), P, AAC (two frames, one with CRC), ADPCM, P. */
static void build_small(stream *s, uint8_t *adpcm_block)
{
    memset(s, 0, sizeof *s);
    put_info(s, &k_info);
    nl__bcm_video_desc v = {.keyframe = 1,
                            .codec = NL_MEDIA_CODEC_H264,
                            .ts_us = 4000000000u,
                            .posix_time = 1709210096u,
                            .unknown20 = 71};
    put_video(s, &v, k_idr, sizeof k_idr);
    v.keyframe = 0;
    v.ts_us += 40000;
    put_video(s, &v, k_p, sizeof k_p);
    uint8_t adts[64];
    size_t a = make_adts(adts, 11, 0, 8, 1, 0xa1);
    a += make_adts(adts + a, 5, 1, 8, 1, 0xb2);
    put_aac(s, adts, a);
    for (int i = 0; i < 244; i++)
        adpcm_block[i] = (uint8_t)(i * 37 + 11);
    adpcm_block[0] = 0x22;
    adpcm_block[1] = 0x00;
    adpcm_block[2] = 16;
    adpcm_block[3] = 0;
    put_adpcm(s, adpcm_block, 244);
    v.ts_us += 40000;
    put_video(s, &v, k_p, sizeof k_p);
}

static void check_small(const recs *r, const uint8_t *adpcm_block)
{
    NL_ASSERT_EQ(r->n, 7);
    const rec *info = &r->v[0], *i = &r->v[1], *p = &r->v[2], *a1 = &r->v[3], *a2 = &r->v[4],
              *ad = &r->v[5], *p2 = &r->v[6];
    NL_ASSERT_EQ(info->meta.kind, NL_MEDIA_KIND_INFO);
    NL_ASSERT_MEMEQ(&info->meta.info, &k_info, sizeof k_info);

    NL_ASSERT_EQ(i->meta.kind, NL_MEDIA_KIND_IFRAME);
    NL_ASSERT_EQ(i->size, (int)sizeof k_idr);
    NL_ASSERT_MEMEQ(i->data, k_idr, sizeof k_idr);
    NL_ASSERT_EQ(i->meta.extra_len, 8);
    NL_ASSERT_EQ(i->meta.posix_time, 1709210096);
    NL_ASSERT_EQ(i->meta.unknown20, 71);
    NL_ASSERT_EQ(i->pts, 4000000000LL);
    NL_ASSERT(i->flags & AV_PKT_FLAG_KEY);

    NL_ASSERT_EQ(p->meta.kind, NL_MEDIA_KIND_PFRAME);
    NL_ASSERT_EQ(p->meta.extra_len, 0);
    NL_ASSERT_EQ(p->size, (int)sizeof k_p);
    NL_ASSERT_MEMEQ(p->data, k_p, sizeof k_p);
    NL_ASSERT_EQ(p->pts, 4000040000LL);

    /* Two AUs from one "05wb" packet, ADTS headers (7, then 9 bytes) gone. */
    NL_ASSERT_EQ(a1->meta.kind, NL_MEDIA_KIND_AAC);
    NL_ASSERT_EQ(a2->meta.kind, NL_MEDIA_KIND_AAC);
    NL_ASSERT_EQ(a1->size, 11);
    NL_ASSERT_EQ(a1->data[0], 0xa1);
    NL_ASSERT_EQ(a1->data[10], 0xa1);
    NL_ASSERT_EQ(a2->size, 5);
    NL_ASSERT_EQ(a2->data[0], 0xb2);
    NL_ASSERT_EQ(a1->meta.sub_index, 0);
    NL_ASSERT_EQ(a2->meta.sub_index, 1);
    NL_ASSERT_EQ(a2->meta.sub_count, 2);
    NL_ASSERT_EQ(a1->meta.sample_rate, 16000);
    NL_ASSERT_EQ(a1->meta.channels, 1);
    NL_ASSERT_EQ(a1->meta.nb_samples, 1024);
    NL_ASSERT_EQ(a1->meta.payload_size, 18 + 14);
    NL_ASSERT(a1->meta.flags & NL_MEDIA_FLAG_PARAMS_CHANGED);
    NL_ASSERT(!(a2->meta.flags & NL_MEDIA_FLAG_PARAMS_CHANGED));
    NL_ASSERT_EQ(a1->stream_index, 1);
    /* Audio hangs on the latest video stamp; 1024 samples at 16 kHz = 64 ms. */
    NL_ASSERT_EQ(a1->pts, p->pts);
    NL_ASSERT_EQ(a2->pts, p->pts + 64000);

    NL_ASSERT_EQ(ad->meta.kind, NL_MEDIA_KIND_ADPCM);
    NL_ASSERT_EQ(ad->size, 244);
    NL_ASSERT_MEMEQ(ad->data, adpcm_block, 244);
    NL_ASSERT_EQ(ad->meta.payload_size, 248);
    /* ADPCM has its own sample clock (8 kHz): re-anchored on the video. */
    NL_ASSERT_EQ(ad->pts, p->pts);

    NL_ASSERT_EQ(p2->pts, 4000080000LL);
    NL_ASSERT_EQ(r->finish_rc, 0);
    NL_ASSERT_UEQ(r->stats.bytes_skipped, 0);
    NL_ASSERT_UEQ(r->stats.aac_frames, 2);
    NL_ASSERT_UEQ(r->stats.packets[NL_MEDIA_KIND_AAC], 1);
}

static void test_write_roundtrip(void)
{
    stream s;
    uint8_t block[244];
    build_small(&s, block);
    /* Layout: 32 + (32+35+5) + (24+11+5) + (8+32) + (12+244+0) + 40. */
    NL_ASSERT_EQ(s.len, 32 + 72 + 40 + 40 + 256 + 40);
    /* Bytes of the written headers, as a camera would send them. */
    static const uint8_t iframe_hdr[16] = {'0', '0', 'd', 'c', 'H', '2', '6', '4',
                                           35,  0,   0,   0,   8,   0,   0,   0};
    NL_ASSERT_MEMEQ(s.buf + 32, iframe_hdr, 16);
    static const uint8_t adpcm_hdr[12] = {'0', '1', 'w', 'b', 248, 0, 248, 0, 0, 1, 122, 0};
    NL_ASSERT_MEMEQ(s.buf + 32 + 72 + 40 + 40, adpcm_hdr, 12);
    NL_ASSERT_MEMEQ(s.buf, "1002", 4);

    recs whole, bytes;
    run_demux(s.buf, s.len, NULL, NULL, &whole);
    check_small(&whole, block);
    run_demux(s.buf, s.len, chunk_one, NULL, &bytes);
    check_small(&bytes, block);
    recs_free(&bytes);
    /* Cut in two at every offset. */
    for (size_t at = 1; at < s.len; at++) {
        recs split;
        run_demux(s.buf, s.len, chunk_split, &at, &split);
        recs_assert_same(&whole, &split);
        recs_free(&split);
    }
    recs_free(&whole);
    free(s.buf);
}

static void test_write_errors(void)
{
    uint8_t buf[64];
    nl__bcm_video_desc v = {.keyframe = 1, .codec = NL_MEDIA_CODEC_H264};
    NL_ASSERT_EQ(nl__bcm_write_video(buf, sizeof buf, &v, k_idr, sizeof k_idr), NL_ETOOBIG);
    NL_ASSERT_EQ(nl__bcm_write_video(buf, sizeof buf, &v, k_idr, 0), NL_EINVAL);
    v.codec = NL_MEDIA_CODEC_AAC;
    NL_ASSERT_EQ(nl__bcm_write_video(buf, sizeof buf, &v, k_p, sizeof k_p), NL_EINVAL);
    NL_ASSERT_EQ(nl__bcm_write_aac(buf, sizeof buf, k_p, 6), NL_EINVAL);
    NL_ASSERT_EQ(nl__bcm_write_adpcm(buf, 16, k_idr, 20), NL_ETOOBIG);
    nl_media_info in = k_info;
    in.version = 3;
    NL_ASSERT_EQ(nl__bcm_write_info(buf, sizeof buf, &in), NL_EINVAL);
    in = k_info;
    NL_ASSERT_EQ(nl__bcm_write_info(buf, 31, &in), NL_ETOOBIG);
    /* Padding follows payload_size: 0 when a multiple of 8. */
    NL_ASSERT_EQ(nl__bcm_pad(192881), 7);
    NL_ASSERT_EQ(nl__bcm_pad(45108), 4);
    NL_ASSERT_EQ(nl__bcm_pad(248), 0);
    NL_ASSERT_EQ(nl__bcm_adpcm_size(244), 256);
}

/* A stream of P-frames with the given raw stamps. */
static void clock_stream(const uint32_t *ts, size_t n, stream *s)
{
    memset(s, 0, sizeof *s);
    put_info(s, &k_info); /* 25 fps: a reset continues 40 ms later */
    for (size_t i = 0; i < n; i++) {
        nl__bcm_video_desc v = {.keyframe = i == 0, .codec = NL_MEDIA_CODEC_H264, .ts_us = ts[i]};
        put_video(s, &v, i == 0 ? k_idr : k_p, i == 0 ? sizeof k_idr : sizeof k_p);
    }
}

static void test_clock_wrap(void)
{
    /* 40 ms frames across the 2^32 µs wrap (about 71.6 minutes). */
    uint32_t ts[12];
    for (int i = 0; i < 12; i++)
        ts[i] = UINT32_MAX - 200000u + (uint32_t)i * 40000u;
    stream s;
    clock_stream(ts, 12, &s);
    recs r;
    run_demux(s.buf, s.len, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 13);
    int64_t first = r.v[1].pts;
    NL_ASSERT_EQ(first, (int64_t)UINT32_MAX - 200000);
    for (size_t i = 1; i < r.n; i++) {
        NL_ASSERT_EQ(r.v[i].pts, first + (int64_t)(i - 1) * 40000);
        NL_ASSERT_EQ(r.v[i].meta.camera_us, ts[i - 1]);
        NL_ASSERT_EQ(r.v[i].meta.flags & (NL_MEDIA_FLAG_CLOCK_RESET | NL_MEDIA_FLAG_CLOCK_BACK), 0);
    }
    /* Past 2^32: the raw stamp is small again, pts keeps going. */
    NL_ASSERT(r.v[12].meta.camera_us < 300000);
    NL_ASSERT(r.v[12].pts > (int64_t)UINT32_MAX);
    NL_ASSERT_UEQ(r.stats.clock_resets, 0);
    recs_free(&r);
    free(s.buf);
}

static void test_clock_reset_and_backstep(void)
{
    /* +40 ms, back 10 s (camera reboot), +40 ms, back 0.5 s, +40 ms. */
    const uint32_t ts[] = {50000000u, 50040000u, 40040000u, 40080000u, 39580000u, 39620000u};
    stream s;
    clock_stream(ts, 6, &s);
    recs r;
    run_demux(s.buf, s.len, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 7);
    NL_ASSERT_EQ(r.v[1].pts, 50000000);
    NL_ASSERT_EQ(r.v[2].pts, 50040000);
    /* The reset continues one frame interval (1/25 s from Info) later. */
    NL_ASSERT_EQ(r.v[3].pts, 50080000);
    NL_ASSERT(r.v[3].meta.flags & NL_MEDIA_FLAG_CLOCK_RESET);
    NL_ASSERT_EQ(r.v[4].pts, 50120000);
    NL_ASSERT(!(r.v[4].meta.flags & NL_MEDIA_FLAG_CLOCK_RESET));
    /* A small step back is passed through and flagged. */
    NL_ASSERT_EQ(r.v[5].pts, 50120000 - 500000);
    NL_ASSERT(r.v[5].meta.flags & NL_MEDIA_FLAG_CLOCK_BACK);
    NL_ASSERT_EQ(r.v[6].pts, 50120000 - 500000 + 40000);
    NL_ASSERT_UEQ(r.stats.clock_resets, 1);
    NL_ASSERT_UEQ(r.stats.clock_backsteps, 1);
    recs_free(&r);
    free(s.buf);
}

static void test_aac_format(void)
{
    uint8_t adts[32];
    size_t n = make_adts(adts, 4, 0, 8, 1, 0x55);
    nl__adts h;
    NL_ASSERT_OK(nl__adts_parse(adts, n, &h));
    NL_ASSERT_EQ(h.hdr_len, 7);
    NL_ASSERT_EQ(h.frame_len, 11);
    NL_ASSERT_EQ(h.sample_rate, 16000);
    uint8_t asc[2];
    nl__adts_asc(&h, asc);
    /* LC (2), 16 kHz (index 8), mono: 00010 1000 0001 000 */
    NL_ASSERT_EQ(asc[0], 0x14);
    NL_ASSERT_EQ(asc[1], 0x08);
    /* 44.1 kHz stereo: 00010 0100 0010 000 = 0x12 0x10 */
    make_adts(adts, 4, 0, 4, 2, 0);
    NL_ASSERT_OK(nl__adts_parse(adts, n, &h));
    nl__adts_asc(&h, asc);
    NL_ASSERT_EQ(asc[0], 0x12);
    NL_ASSERT_EQ(asc[1], 0x10);
    NL_ASSERT_EQ(nl__adts_parse(adts, 5, &h), NL_EAGAIN);
    adts[1] = 0xf7; /* layer != 0 */
    NL_ASSERT_EQ(nl__adts_parse(adts, n, &h), NL_EPROTO);
    make_adts(adts, 4, 0, 13, 1, 0); /* rate index 13 is reserved */
    NL_ASSERT_EQ(nl__adts_parse(adts, n, &h), NL_EPROTO);
    make_adts(adts, 4, 0, 8, 0, 0); /* channels from a PCE */
    NL_ASSERT_EQ(nl__adts_parse(adts, n, &h), NL_ENOTSUP);

    /* Through the demuxer: AVCodecParameters for an rtp muxer. */
    stream s = {0};
    nl__bcm_video_desc v = {.keyframe = 1, .codec = NL_MEDIA_CODEC_H264, .ts_us = 1000};
    put_video(&s, &v, k_idr, sizeof k_idr);
    n = make_adts(adts, 20, 0, 8, 1, 0x77);
    put_aac(&s, adts, n);
    /* A packet whose ADTS is broken is dropped, and the loss is flagged. */
    memset(adts, 0x42, 20);
    put_aac(&s, adts, 20);
    n = make_adts(adts, 20, 0, 8, 1, 0x78);
    put_aac(&s, adts, n);
    nl_media_demux *d;
    NL_ASSERT_OK(nl_media_demux_create(&d, NULL));
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_EQ(nl_media_demux_audio_params(d, par), NL_EAGAIN);
    size_t off = 0, used;
    AVPacket *pkt;
    nl_media_meta meta;
    int got = 0;
    while (off < s.len) {
        NL_ASSERT_OK(nl_media_demux_feed(d, s.buf + off, s.len - off, &used));
        off += used;
        while (nl_media_demux_next(d, &pkt, &meta) > 0) {
            if (meta.kind != NL_MEDIA_KIND_AAC)
                continue;
            NL_ASSERT_EQ(pkt->size, 20);
            NL_ASSERT_EQ(pkt->data[0], got ? 0x78 : 0x77);
            NL_ASSERT_EQ(!!(meta.flags & NL_MEDIA_FLAG_LOSS), got);
            NL_ASSERT_EQ(pkt->duration, 64000);
            got++;
        }
    }
    NL_ASSERT_EQ(got, 2);
    nl_media_stats st;
    nl_media_demux_stats(d, &st);
    NL_ASSERT_UEQ(st.packets_dropped, 1);
    NL_ASSERT_UEQ(st.packets[NL_MEDIA_KIND_AAC], 3);
    nl_media_audio_format af;
    nl_media_demux_audio_format(d, &af);
    NL_ASSERT_EQ(af.codec, NL_MEDIA_CODEC_AAC);
    NL_ASSERT_EQ(af.sample_rate, 16000);
    NL_ASSERT_OK(nl_media_demux_audio_params(d, par));
    NL_ASSERT_EQ(par->codec_id, AV_CODEC_ID_AAC);
    NL_ASSERT_EQ(par->sample_rate, 16000);
    NL_ASSERT_EQ(par->ch_layout.nb_channels, 1);
    NL_ASSERT_EQ(par->extradata_size, 2);
    NL_ASSERT_EQ(par->extradata[0], 0x14);
    NL_ASSERT_EQ(par->extradata[1], 0x08);
    avcodec_parameters_free(&par);
    nl_media_demux_destroy(&d);
    free(s.buf);
}

static void test_packets_outlive_demuxer(void)
{
    stream s;
    uint8_t block[244];
    build_small(&s, block);
    nl_media_demux *d;
    NL_ASSERT_OK(nl_media_demux_create(&d, NULL));
    AVPacket *keep[8];
    int n = 0;
    size_t off = 0, used;
    while (off < s.len) {
        NL_ASSERT_OK(nl_media_demux_feed(d, s.buf + off, s.len - off, &used));
        off += used;
        AVPacket *pkt;
        while (nl_media_demux_next(d, &pkt, NULL) > 0) {
            NL_ASSERT(n < 8);
            keep[n] = av_packet_alloc();
            /* Half of them taken over, half referenced. */
            if (n % 2)
                av_packet_move_ref(keep[n], pkt);
            else
                NL_ASSERT_OK(av_packet_ref(keep[n], pkt));
            n++;
        }
    }
    NL_ASSERT_EQ(n, 7);
    nl_media_demux_destroy(&d);
    NL_ASSERT_MEMEQ(keep[1]->data, k_idr, sizeof k_idr);
    NL_ASSERT_MEMEQ(keep[5]->data, block, 244);
    for (int i = 0; i < n; i++)
        av_packet_free(&keep[i]);
    free(s.buf);
}

int main(void)
{
    NL_RUN(test_write_roundtrip);
    NL_RUN(test_write_errors);
    NL_RUN(test_clock_wrap);
    NL_RUN(test_clock_reset_and_backstep);
    NL_RUN(test_aac_format);
    NL_RUN(test_packets_outlive_demuxer);
    NL_DONE();
}
