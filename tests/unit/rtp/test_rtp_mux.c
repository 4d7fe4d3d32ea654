/* The per-track rtp muxer against real encoder output (libx264, libx265,
 * native AAC, pcm_mulaw), no mocks: one write per packet, one frame per
 * access unit holding exactly its packets, marker bits, continuous sequence
 * numbers, RTP timestamps following pts, RTCP SR on the odd channel mapped to
 * the shared start_time_realtime, byte-exact depacketization, and zero
 * library allocations per frame in steady state. */
#include <libavutil/time.h>

#include "neolink/alloc.h"
#include "neolink/error.h"
#include "rtp/rtp_mux.h"
#include "rtp_test_util.h"

#define SSRC 0xDEADBEEFu   /* high bit set: exercises the signed "ssrc" option */
#define PTS0 (7200LL * US) /* camera clock two hours in */

static int64_t g_start_rt; /* start_time_realtime shared by every track */

static nl_rtp_mux *make_mux(const AVCodecParameters *par, int track, int64_t origin)
{
    nl_rtp_mux_config cfg = {
        .par = par,
        .in_time_base = {1, US},
        .origin = origin,
        .start_time_realtime = g_start_rt,
        .track = track,
        .payload_type = -1,
        .ssrc = SSRC,
        .cname = "cam-test",
    };
    nl_rtp_mux *m = NULL;
    NL_ASSERT_OK(nl_rtp_mux_create(&m, &cfg));
    NL_ASSERT_UEQ(nl_rtp_mux_ssrc(m), SSRC);
    NL_ASSERT_EQ(nl_rtp_mux_track(m), track);
    return m;
}

static uint32_t rtp_ts_of(int64_t pts, int64_t origin, int clock)
{
    return (uint32_t)av_rescale_q(pts - origin, (AVRational){1, US}, (AVRational){1, clock});
}

/* An SR + SDES compound: SSRC, and an NTP/RTP pair on the line the muxer
 * promises: rtp = base + (ntp - start_time_realtime) * clock. */
static void check_sr(const uint8_t *p, size_t n, uint32_t base, int clock)
{
    NL_ASSERT(n >= 28 + 8);
    NL_ASSERT_EQ(p[0] >> 6, 2);
    NL_ASSERT_EQ(p[1], 200);
    NL_ASSERT_EQ(be16(p + 2), 6);
    NL_ASSERT_UEQ(be32(p + 4), SSRC);
    uint64_t sec = be32(p + 8), frac = be32(p + 12);
    int64_t ntp_us = (int64_t)(sec - 2208988800u) * US + (int64_t)((frac * US) >> 32);
    int64_t first = g_start_rt / 1000 * 1000; /* rtpenc keeps milliseconds */
    uint32_t expect =
        base + (uint32_t)av_rescale_q(ntp_us - first, (AVRational){1, US}, (AVRational){1, clock});
    int32_t diff = (int32_t)(be32(p + 16) - expect);
    NL_ASSERT(diff >= -1 && diff <= 1);
    /* wall clock is now-ish: the SR was produced during this test */
    NL_ASSERT(llabs(ntp_us - av_gettime()) < 60LL * US);
    NL_ASSERT_EQ(p[29], 202); /* SDES with our CNAME */
    NL_ASSERT(memmem(p + 28, n - 28, "cam-test", 8) != NULL);
}

/* ---------------------------------------------------------------- video */

static void check_video(const enc_out *e, int hevc)
{
    nl_rtp_mux *m = make_mux(e->par, 0, PTS0);
    NL_ASSERT_EQ(nl_rtp_mux_clock_rate(m), 90000);
    NL_ASSERT_EQ(nl_rtp_mux_payload_type(m), 96);
    depack d = {.hevc = hevc};
    uint32_t base = 0;
    uint16_t prev_seq = 0;
    bool have_seq = false;
    uint64_t pkts = 0;
    int fragmented = 0, aggregated = 0, keyframes = 0;
    for (int i = 0; i < e->n; i++) {
        const AVPacket *in = e->pkts[i];
        nl_rtp_frame *f = NULL;
        NL_ASSERT_OK(nl_rtp_mux_write(m, in, &f));
        NL_ASSERT(f != NULL);
        NL_ASSERT_EQ(f->pts, in->pts);
        NL_ASSERT_EQ(f->keyframe, (in->flags & AV_PKT_FLAG_KEY) != 0);
        keyframes += f->keyframe;
        NL_ASSERT_EQ(f->track, 0);
        NL_ASSERT(f->nrtp >= 1);
        pkts += f->npkts;
        if (i == 0) {
            /* the first SR precedes the first RTP packet, on channel 1 */
            NL_ASSERT(f->pkts[0].rtcp);
            NL_ASSERT_EQ(f->data[1], 1);
            base = f->first_rtptime;
            check_sr(nl_rtp_frame_pkt_data(f, 0), f->pkts[0].len, base, 90000);
        }
        uint32_t ts = base + rtp_ts_of(in->pts, PTS0, 90000);
        NL_ASSERT_UEQ(f->first_rtptime, ts);

        uint32_t last_rtp = 0;
        for (uint32_t j = 0; j < f->npkts; j++)
            if (!f->pkts[j].rtcp)
                last_rtp = j;
        for (uint32_t j = 0; j < f->npkts; j++) {
            const nl_rtp_pkt *p = &f->pkts[j];
            const uint8_t *data = nl_rtp_frame_pkt_data(f, j);
            NL_ASSERT_EQ(f->data[p->off], '$');
            NL_ASSERT_EQ(f->data[p->off + 1], p->rtcp ? 1 : 0);
            NL_ASSERT(p->len <= NL_RTP_PACKET_SIZE);
            if (p->rtcp)
                continue;
            rtp_hdr h = parse_rtp(data, p->len);
            NL_ASSERT_EQ(h.pt, 96);
            NL_ASSERT_UEQ(h.ssrc, SSRC);
            NL_ASSERT_UEQ(h.ts, ts);
            NL_ASSERT_EQ(h.marker, j == last_rtp);
            NL_ASSERT_EQ(p->marker, h.marker);
            if (have_seq)
                NL_ASSERT_EQ(h.seq, (uint16_t)(prev_seq + 1));
            have_seq = true;
            prev_seq = h.seq;
            int t = hevc ? (h.payload[0] >> 1) & 0x3f : h.payload[0] & 0x1f;
            fragmented += hevc ? t == 49 : t == 28;
            aggregated += hevc ? t == 48 : t == 24;
            depack_push(&d, h.payload, h.plen);
        }
        NL_ASSERT_EQ(f->last_seq, prev_seq);
        /* exactly this access unit, byte for byte, and nothing open */
        NL_ASSERT(d.cur == NULL);
        nal_ref nals[64];
        int nn = split_annexb(in->data, (size_t)in->size, nals, 64);
        NL_ASSERT_EQ(d.n, nn);
        for (int k = 0; k < nn; k++) {
            NL_ASSERT_EQ(d.len[k], nals[k].n);
            NL_ASSERT_MEMEQ(d.nal[k], nals[k].p, nals[k].n);
        }
        depack_reset(&d);
        nl_rtp_frame_unref(&f);
    }
    NL_ASSERT(fragmented > e->n); /* FU-A / FU used (frames > 1400 bytes) */
    NL_ASSERT(aggregated >= 1);   /* STAP-A / AP used (parameter sets) */
    NL_ASSERT(keyframes >= 2);
    nl_rtp_mux_stats st;
    nl_rtp_mux_get_stats(m, &st);
    NL_ASSERT_UEQ(st.writes, pkts); /* one write_packet per RTP/RTCP packet */
    NL_ASSERT_UEQ(st.rtp_packets + st.rtcp_packets, pkts);
    NL_ASSERT_UEQ(st.frames, (uint64_t)e->n);
    NL_ASSERT_UEQ(st.dropped, 0);
    NL_ASSERT_UEQ(st.stray_bytes, 0);
    nl_rtp_mux_destroy(&m);
    NL_ASSERT(m == NULL);
}

static enc_out g_h264;

static void test_h264(void)
{
    check_video(&g_h264, 0);
}

static void test_h265(void)
{
    if (!x265_usable())
        return;
    enc_out e = encode_video("libx265", 320, 240, 25, 200, 25, PTS0);
    check_video(&e, 1);
    enc_out_free(&e);
}

/* A real camera's IDR (2560x1440 High profile, SPS + PPS + two slices,
 * 188 KiB, from shared/samples/bcmedia/iframe_0..4) sent three times. */
static void test_camera_idr(void)
{
    size_t n;
    unsigned char *au = nl_test_read_file(NL_TEST_DATA "/rtp/camera_h264_idr.h264", &n);
    NL_ASSERT_EQ(n, 192881);
    enc_out e = {0};
    e.pkts = calloc(3, sizeof(*e.pkts));
    for (int i = 0; i < 3; i++) {
        AVPacket *p = av_packet_alloc();
        NL_ASSERT(av_new_packet(p, (int)n) == 0);
        memcpy(p->data, au, n);
        p->pts = p->dts = PTS0 + i * 40000;
        p->flags = AV_PKT_FLAG_KEY;
        e.pkts[e.n++] = p;
    }
    free(au);
    unsigned char *params = nl_test_read_file(NL_TEST_DATA "/rtp/camera_h264_params.h264", &n);
    e.par = avcodec_parameters_alloc();
    e.par->codec_type = AVMEDIA_TYPE_VIDEO;
    e.par->codec_id = AV_CODEC_ID_H264;
    e.par->width = 2560;
    e.par->height = 1440;
    e.par->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(e.par->extradata, params, n);
    e.par->extradata_size = (int)n;
    free(params);
    check_video(&e, 0);
    enc_out_free(&e);
}

/* ---------------------------------------------------------------- audio */

static void test_aac(void)
{
    enc_out e = encode_aac(under_valgrind() ? 40 : 300, PTS0);
    NL_ASSERT(e.n > 10);
    NL_ASSERT(e.pkts[0]->pts < PTS0); /* encoder priming: before the shared origin */
    nl_rtp_mux *m = make_mux(e.par, 1, PTS0);
    NL_ASSERT_EQ(nl_rtp_mux_clock_rate(m), 16000);
    NL_ASSERT_EQ(nl_rtp_mux_payload_type(m), 97);
    uint8_t sr[128];
    size_t sr_len = 0;
    uint32_t base = 0;
    uint16_t prev_seq = 0;
    for (int i = 0; i < e.n; i++) {
        nl_rtp_frame *f = NULL;
        NL_ASSERT_OK(nl_rtp_mux_write(m, e.pkts[i], &f));
        NL_ASSERT(f != NULL);
        if (i == 0) {
            /* AU 0 is held back: only the SR, on channel 3 */
            NL_ASSERT_EQ(f->npkts, 1);
            NL_ASSERT_EQ(f->nrtp, 0);
            NL_ASSERT_EQ(f->data[1], 3);
            sr_len = f->pkts[0].len;
            memcpy(sr, nl_rtp_frame_pkt_data(f, 0), sr_len);
            nl_rtp_frame_unref(&f);
            continue;
        }
        /* frame i carries AU i-1 (one-AU lag at max_delay -1) */
        const AVPacket *au = e.pkts[i - 1];
        NL_ASSERT_EQ(f->nrtp, 1);
        NL_ASSERT_EQ(f->npkts, 1);
        NL_ASSERT_EQ(f->data[1], 2);
        rtp_hdr h = parse_rtp(nl_rtp_frame_pkt_data(f, 0), f->pkts[0].len);
        NL_ASSERT_EQ(h.pt, 97);
        NL_ASSERT_EQ(h.marker, 1);
        if (i == 1)
            base = h.ts - rtp_ts_of(au->pts, PTS0, 16000);
        else
            NL_ASSERT_EQ(h.seq, (uint16_t)(prev_seq + 1));
        prev_seq = h.seq;
        NL_ASSERT_UEQ(h.ts, base + rtp_ts_of(au->pts, PTS0, 16000));
        /* AAC-hbr: 16 bits of AU headers, one header: 13-bit size, 3-bit index */
        NL_ASSERT_EQ(be16(h.payload), 16);
        NL_ASSERT_EQ(be16(h.payload + 2) >> 3, au->size);
        NL_ASSERT_EQ(be16(h.payload + 2) & 7, 0);
        NL_ASSERT_EQ(h.plen, 4 + (size_t)au->size);
        NL_ASSERT_MEMEQ(h.payload + 4, au->data, (size_t)au->size);
        NL_ASSERT_EQ(f->pts, e.pkts[i]->pts);
        nl_rtp_frame_unref(&f);
    }
    check_sr(sr, sr_len, base, 16000);
    nl_rtp_mux_destroy(&m);
    enc_out_free(&e);
}

static void test_pcmu(void)
{
    enc_out e = encode_pcmu(200, PTS0);
    NL_ASSERT_EQ(e.n, 200);
    nl_rtp_mux *m = make_mux(e.par, 1, PTS0);
    NL_ASSERT_EQ(nl_rtp_mux_payload_type(m), 0);
    NL_ASSERT_EQ(nl_rtp_mux_clock_rate(m), 8000);
    uint32_t base = 0;
    uint16_t prev_seq = 0;
    for (int i = 0; i < e.n; i++) {
        nl_rtp_frame *f = NULL;
        NL_ASSERT_OK(nl_rtp_mux_write(m, e.pkts[i], &f));
        NL_ASSERT_EQ(f->nrtp, 1);
        NL_ASSERT_EQ(f->npkts, i == 0 ? 2 : 1);
        uint32_t j = f->npkts - 1;
        rtp_hdr h = parse_rtp(nl_rtp_frame_pkt_data(f, j), f->pkts[j].len);
        NL_ASSERT_EQ(h.pt, 0);
        NL_ASSERT_EQ(h.plen, 480);
        NL_ASSERT_MEMEQ(h.payload, e.pkts[i]->data, 480);
        if (i == 0) {
            base = h.ts;
            check_sr(nl_rtp_frame_pkt_data(f, 0), f->pkts[0].len, base, 8000);
        } else {
            NL_ASSERT_EQ(h.seq, (uint16_t)(prev_seq + 1));
        }
        NL_ASSERT_UEQ(h.ts, base + 480u * (uint32_t)i);
        prev_seq = h.seq;
        nl_rtp_frame_unref(&f);
    }
    nl_rtp_mux_destroy(&m);
    enc_out_free(&e);
}

/* ---------------------------------------------------------------- edges */

static void test_timestamps_and_limits(void)
{
    const enc_out *e = &g_h264;
    /* A frame cap that the P frames fit under and the IDR does not. */
    size_t max_p = 0;
    for (int i = 1; i < 12; i++)
        if ((size_t)e->pkts[i]->size > max_p)
            max_p = (size_t)e->pkts[i]->size;
    size_t cap = max_p + max_p / 8 + 512;
    NL_ASSERT((size_t)e->pkts[0]->size > cap + 1024);
    nl_rtp_mux_config cfg = {
        .par = e->par,
        .in_time_base = {1, US},
        .origin = PTS0,
        .payload_type = 100,
        .packet_size = 600,
        .max_frame_bytes = cap,
    };
    nl_rtp_mux *m = NULL;
    NL_ASSERT_OK(nl_rtp_mux_create(&m, &cfg));
    NL_ASSERT_EQ(nl_rtp_mux_payload_type(m), 100);
    NL_ASSERT(nl_rtp_mux_ssrc(m) != 0); /* random */
    nl_rtp_frame *f = NULL;
    /* The IDR is over the cap: refused whole, counted, muxer still usable. */
    NL_ASSERT_EQ(nl_rtp_mux_write(m, e->pkts[0], &f), NL_ETOOBIG);
    NL_ASSERT(f == NULL);
    int ok = 0;
    uint32_t prev_ts = 0;
    for (int i = 1; i < 12; i++) {
        AVPacket *p = av_packet_clone(e->pkts[i]);
        if (i == 6)
            p->pts = p->dts = e->pkts[2]->pts; /* camera clock steps back */
        int rc = nl_rtp_mux_write(m, p, &f);
        av_packet_free(&p);
        NL_ASSERT_OK(rc);
        for (uint32_t j = 0; j < f->npkts; j++) {
            NL_ASSERT(f->pkts[j].len <= 600);
            if (!f->pkts[j].rtcp)
                NL_ASSERT_EQ(nl_rtp_frame_pkt_data(f, j)[1] & 0x7f, 100);
        }
        if (i == 6)
            NL_ASSERT_UEQ(f->first_rtptime, prev_ts); /* clamped to the previous one */
        prev_ts = f->first_rtptime;
        ok++;
        nl_rtp_frame_unref(&f);
    }
    nl_rtp_mux_stats st;
    nl_rtp_mux_get_stats(m, &st);
    NL_ASSERT_UEQ(st.ts_clamped, 1);
    NL_ASSERT_UEQ(st.frames, (uint64_t)ok);
    NL_ASSERT_UEQ(st.dropped, 1);
    NL_ASSERT_EQ(ok, 11);

    AVPacket *p = av_packet_clone(e->pkts[12]);
    p->pts = AV_NOPTS_VALUE;
    NL_ASSERT_EQ(nl_rtp_mux_write(m, p, &f), NL_EINVAL);
    p->pts = PTS0;
    p->size = 0;
    NL_ASSERT_EQ(nl_rtp_mux_write(m, p, &f), NL_EINVAL);
    av_packet_free(&p);
    nl_rtp_mux_destroy(&m);
    nl_rtp_mux_destroy(&m); /* NULL: no-op */
}

static void test_bad_configs(void)
{
    nl_rtp_mux *m = NULL;
    AVCodecParameters *par = avcodec_parameters_alloc();
    avcodec_parameters_copy(par, g_h264.par);
    nl_rtp_mux_config cfg = {.par = par, .in_time_base = {1, US}, .payload_type = -1};

    cfg.track = NL_RTP_MAX_TRACK + 1;
    NL_ASSERT_EQ(nl_rtp_mux_create(&m, &cfg), NL_EINVAL);
    cfg.track = 0;
    cfg.packet_size = 100;
    NL_ASSERT_EQ(nl_rtp_mux_create(&m, &cfg), NL_EINVAL);
    cfg.packet_size = 0;
    cfg.in_time_base = (AVRational){0, 1};
    NL_ASSERT_EQ(nl_rtp_mux_create(&m, &cfg), NL_EINVAL);
    cfg.in_time_base = (AVRational){1, US};
    par->width = 0; /* libavformat needs video dimensions */
    NL_ASSERT_EQ(nl_rtp_mux_create(&m, &cfg), NL_EINVAL);
    par->width = g_h264.par->width;
    cfg.par = NULL;
    NL_ASSERT_EQ(nl_rtp_mux_create(&m, &cfg), NL_EINVAL);
    cfg.par = par;

    /* avcC extradata would switch rtpenc to length-prefixed input */
    uint8_t saved = par->extradata[0];
    par->extradata[0] = 1;
    NL_ASSERT_EQ(nl_rtp_mux_create(&m, &cfg), NL_EINVAL);
    par->extradata[0] = saved;

    /* AAC without AudioSpecificConfig */
    AVCodecParameters *aac = avcodec_parameters_alloc();
    aac->codec_type = AVMEDIA_TYPE_AUDIO;
    aac->codec_id = AV_CODEC_ID_AAC;
    aac->sample_rate = 16000;
    av_channel_layout_default(&aac->ch_layout, 1);
    cfg.par = aac;
    NL_ASSERT_EQ(nl_rtp_mux_create(&m, &cfg), NL_EINVAL);

    /* a codec rtpenc cannot carry (Reolink's ADPCM, RTSP.md 1.2) */
    aac->codec_id = AV_CODEC_ID_ADPCM_IMA_WAV;
    NL_ASSERT_EQ(nl_rtp_mux_create(&m, &cfg), NL_ECODEC);
    NL_ASSERT(m == NULL);
    avcodec_parameters_free(&aac);
    avcodec_parameters_free(&par);
}

/* Steady state: the same sequence twice through one muxer with a window of
 * 25 frames held (a client queue of one second). During the second pass the
 * library (every nl__malloc/nl__realloc, i.e. pool blocks and the packet
 * table) allocates nothing. libavformat/libavutil allocations are outside the
 * hook and not counted here; the muxer passes packets without a buffer
 * reference so av_write_frame takes none. */
static long n_allocs;

static void *count_malloc(void *ud, size_t n)
{
    (void)ud;
    n_allocs++;
    return malloc(n);
}

static void *count_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    n_allocs++;
    return realloc(p, n);
}

static void count_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static void test_steady_state_allocs(void)
{
    const enc_out *e = &g_h264;
    long live0 = nl_allocator_live();
    nl_rtp_mux *m = make_mux(e->par, 0, PTS0);
    enum { WIN = 25 };
    nl_rtp_frame *win[WIN] = {0};
    int64_t span = e->pkts[e->n - 1]->pts - e->pkts[0]->pts + US / 25;
    nl_rtp_pool_stats ps0 = {0};
    const nl_allocator counting = {count_malloc, count_realloc, count_free, NULL};
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            nl_rtp_mux_get_pool_stats(m, &ps0);
            n_allocs = 0;
            nl_allocator_set(&counting);
        }
        for (int i = 0; i < e->n; i++) {
            AVPacket p = *e->pkts[i]; /* shallow: the muxer only borrows */
            p.pts += pass * span;
            p.dts = p.pts;
            nl_rtp_frame_unref(&win[i % WIN]);
            NL_ASSERT_OK(nl_rtp_mux_write(m, &p, &win[i % WIN]));
        }
        if (pass == 1)
            nl_allocator_set(NULL);
        for (int k = 0; k < WIN; k++)
            nl_rtp_frame_unref(&win[k]);
    }
    NL_ASSERT_EQ(n_allocs, 0);
    nl_rtp_pool_stats ps;
    nl_rtp_mux_get_pool_stats(m, &ps);
    NL_ASSERT_UEQ(ps.blocks_created, ps0.blocks_created);
    NL_ASSERT_UEQ(ps.gets - ps0.gets, (uint64_t)e->n);
    NL_ASSERT_UEQ(ps.reuses - ps0.reuses, (uint64_t)e->n);
    /* frames near a class boundary may sit in either of two classes */
    NL_ASSERT(ps.blocks_created <= 2 * WIN + 8);
    printf("steady state: %d frames, 0 library allocations, %llu pool blocks, %zu cached bytes\n",
           e->n, (unsigned long long)ps.blocks_created, ps.cached_bytes);
    nl_rtp_mux_destroy(&m);
    NL_ASSERT_EQ(nl_allocator_live(), live0);
}

int main(void)
{
    av_log_set_level(AV_LOG_FATAL);
    g_start_rt = av_gettime() - 3 * US; /* mount started 3 s ago */
    int n = under_valgrind() ? 60 : 300;
    g_h264 = encode_video("libx264", 320, 240, 25, n, 50, PTS0);
    NL_ASSERT_EQ(g_h264.n, n);
    NL_ASSERT(g_h264.par->extradata_size > 8);
    NL_RUN(test_h264);
    NL_RUN(test_camera_idr);
    NL_RUN(test_h265);
    NL_RUN(test_aac);
    NL_RUN(test_pcmu);
    NL_RUN(test_timestamps_and_limits);
    NL_RUN(test_bad_configs);
    NL_RUN(test_steady_state_allocs);
    enc_out_free(&g_h264);
    NL_DONE();
}
