/* Damaged streams: garbage before, between and after packets (including
 * bytes that look like the start of a magic or a whole fake header) must
 * cost exactly the garbage, never the packets around it; caps and
 * truncation behave. */
#include "media/bcmedia_write.h"
#include "media_test_util.h"

static const char *const k_all[] = {"info_v1.raw",  "iframe_0.raw", "iframe_1.raw",
                                    "iframe_2.raw", "iframe_3.raw", "iframe_4.raw",
                                    "pframe_0.raw", "pframe_1.raw", "adpcm_0.raw"};
/* Packet boundaries in the concatenation above. */
enum { OFF_I = 32, OFF_P = 32 + 192920, OFF_A1 = OFF_P + 45136, OFF_A2 = OFF_A1 + 256 };

typedef struct piece {
    size_t at; /* insert before this offset of the clean stream */
    const uint8_t *bytes;
    size_t len;
} piece;

static uint8_t *with_garbage(const uint8_t *clean, size_t len, const piece *g, size_t ng,
                             size_t *out_len)
{
    size_t total = len;
    for (size_t i = 0; i < ng; i++)
        total += g[i].len;
    uint8_t *o = malloc(total);
    size_t w = 0, r = 0;
    for (size_t i = 0; i < ng; i++) {
        memcpy(o + w, clean + r, g[i].at - r);
        w += g[i].at - r;
        r = g[i].at;
        memcpy(o + w, g[i].bytes, g[i].len);
        w += g[i].len;
    }
    memcpy(o + w, clean + r, len - r);
    *out_len = total;
    return o;
}

/* Garbage with traps: digits, partial magics, a magic with a bad codec, an
 * ADPCM magic with unequal sizes, a video header claiming 5 MiB. */
static const uint8_t k_noise[] = "\x00\xff\x13garbage 1234 0 00 01w 1001 00dc";
static const uint8_t k_fake_video[] = {'0', '0', 'd', 'c', 'H', '2', '6', '6', 1, 0, 0, 0};
static const uint8_t k_fake_adpcm[] = {'0', '1', 'w', 'b', 0xf8, 0, 0xf7, 0, 0, 1, 0x7a, 0};
static const uint8_t k_fake_big[] = {'0', '1', 'd', 'c', 'H', '2', '6', '4', 0, 0, 0x50, 0,
                                     0,   0,   0,   0,   0,   0,   0,   0,   0, 0, 0,    0};
/* A plausible-looking P-frame header whose payload does not start with a
 * start code: accepted only while in sync, rejected while resyncing. */
static const uint8_t k_fake_nosc[] = {'0', '1', 'd',  'c',  'H',  '2',  '6', '4', 8, 0, 0,
                                      0,   0,   0,    0,    0,    0,    0,   0,   0, 0, 0,
                                      0,   0,   0xde, 0xad, 0xbe, 0xef, 1,   2,   3, 4};

static void check_packets(const recs *r, size_t first)
{
    NL_ASSERT_EQ(r->n, first + 5);
    const rec *v = r->v + first;
    NL_ASSERT_EQ(v[0].meta.kind, NL_MEDIA_KIND_INFO);
    NL_ASSERT_EQ(v[1].meta.kind, NL_MEDIA_KIND_IFRAME);
    NL_ASSERT_EQ(v[1].size, 192881);
    NL_ASSERT_EQ(v[1].meta.posix_time, 1628085232);
    NL_ASSERT_EQ(v[2].meta.kind, NL_MEDIA_KIND_PFRAME);
    NL_ASSERT_EQ(v[2].size, 45108);
    NL_ASSERT_EQ(v[2].pts - v[1].pts, 62000);
    NL_ASSERT_EQ(v[3].meta.kind, NL_MEDIA_KIND_ADPCM);
    NL_ASSERT_EQ(v[3].size, 244);
    NL_ASSERT_EQ(v[4].meta.kind, NL_MEDIA_KIND_ADPCM);
}

static void test_garbage_everywhere(void)
{
    size_t clen;
    uint8_t *clean = load_cat(k_all, sizeof k_all / sizeof *k_all, &clen);
    const piece g[] = {
        {0, k_noise, sizeof k_noise - 1},
        {OFF_I, k_fake_video, sizeof k_fake_video},
        {OFF_I, k_noise, 7},
        {OFF_P, k_fake_adpcm, sizeof k_fake_adpcm},
        {OFF_P, k_fake_nosc, sizeof k_fake_nosc},
        {OFF_A1, k_fake_big, sizeof k_fake_big},
        {OFF_A2, (const uint8_t *)"0", 1},
        {clen, k_noise, 11},
    };
    size_t ng = sizeof g / sizeof *g, glen = 0;
    for (size_t i = 0; i < ng; i++)
        glen += g[i].len;
    size_t len;
    uint8_t *dirty = with_garbage(clean, clen, g, ng, &len);

    recs whole, bytes;
    run_demux(dirty, len, NULL, NULL, &whole);
    check_packets(&whole, 0);
    /* Exactly the garbage was skipped: no packet byte, no garbage byte
     * mistaken for a packet. */
    NL_ASSERT_UEQ(whole.stats.bytes_skipped, glen);
    NL_ASSERT_EQ(whole.finish_rc, 0); /* the trailing noise could start no packet */
    NL_ASSERT_UEQ(whole.stats.packets_dropped, 0);
    /* Each packet after garbage says how much was skipped before it. */
    NL_ASSERT(whole.v[0].meta.flags & NL_MEDIA_FLAG_RESYNC);
    NL_ASSERT_UEQ(whole.v[0].meta.skipped_before, sizeof k_noise - 1);
    NL_ASSERT_UEQ(whole.v[1].meta.skipped_before, sizeof k_fake_video + 7);
    NL_ASSERT_UEQ(whole.v[2].meta.skipped_before, sizeof k_fake_adpcm + sizeof k_fake_nosc);
    NL_ASSERT_UEQ(whole.v[3].meta.skipped_before, sizeof k_fake_big);
    NL_ASSERT_UEQ(whole.v[4].meta.skipped_before, 1);
    NL_ASSERT(whole.stats.resyncs >= 5);

    run_demux(dirty, len, chunk_one, NULL, &bytes);
    recs_assert_same(&whole, &bytes);
    recs_free(&bytes);
    recs_free(&whole);
    free(dirty);
    free(clean);
}

static void test_in_sync_trusts_header(void)
{
    /* Right after a good packet the demuxer trusts the next header without
     * peeking: a P-frame whose payload lacks a start code is still a
     * P-frame (cameras are the authority on their own stream). */
    size_t clen;
    static const char *const info[] = {"info_v1.raw"};
    uint8_t *clean = load_cat(info, 1, &clen);
    uint8_t buf[32 + sizeof k_fake_nosc];
    memcpy(buf, clean, 32);
    memcpy(buf + 32, k_fake_nosc, sizeof k_fake_nosc);
    recs r;
    run_demux(buf, sizeof buf, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 2);
    NL_ASSERT_EQ(r.v[1].meta.kind, NL_MEDIA_KIND_PFRAME);
    NL_ASSERT_EQ(r.v[1].size, 8);
    NL_ASSERT_UEQ(r.stats.bytes_skipped, 0);
    recs_free(&r);
    free(clean);
}

static void test_only_garbage(void)
{
    uint8_t junk[5000];
    uint32_t x = 7;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1664525u + 1013904223u;
        junk[i] = (uint8_t)(x >> 24);
    }
    recs r;
    run_demux(junk, sizeof junk, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 0);
    NL_ASSERT_UEQ(r.stats.bytes_skipped, sizeof junk);
    NL_ASSERT_UEQ(r.stats.bytes_fed, sizeof junk);
    recs_free(&r);
    /* All digits: every byte can start a magic, none does. */
    memset(junk, '0', sizeof junk);
    run_demux(junk, sizeof junk, chunk_one, NULL, &r);
    NL_ASSERT_EQ(r.n, 0);
    NL_ASSERT_UEQ(r.stats.bytes_skipped, sizeof junk);
    recs_free(&r);
}

static void test_truncated(void)
{
    size_t clen;
    uint8_t *clean = load_cat(k_all, sizeof k_all / sizeof *k_all, &clen);
    /* Cut inside the P-frame payload: the I-frame is out, the P-frame is
     * lost, finish says so and counts its bytes. */
    recs r;
    run_demux(clean, OFF_P + 1000, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 2);
    NL_ASSERT_EQ(r.finish_rc, NL_EEOF);
    NL_ASSERT_UEQ(r.stats.bytes_skipped, 1000);
    recs_free(&r);
    /* Cut inside a header. */
    run_demux(clean, OFF_P + 10, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 2);
    NL_ASSERT_EQ(r.finish_rc, NL_EEOF);
    recs_free(&r);
    /* Cut inside the I-frame's padding: the I-frame is complete. */
    run_demux(clean, OFF_P - 3, NULL, NULL, &r);
    NL_ASSERT_EQ(r.n, 2);
    NL_ASSERT_EQ(r.finish_rc, 0);
    recs_free(&r);

    /* finish, then a new stream in the same demuxer: clocks are kept. */
    nl_media_demux *d;
    NL_ASSERT_OK(nl_media_demux_create(&d, NULL));
    size_t used, off = 0;
    AVPacket *pkt;
    while (off < OFF_P + 100) {
        NL_ASSERT_OK(nl_media_demux_feed(d, clean + off, OFF_P + 100 - off, &used));
        off += used;
        while (nl_media_demux_next(d, &pkt, NULL) > 0)
            ;
    }
    NL_ASSERT_EQ(nl_media_demux_finish(d), NL_EEOF);
    off = OFF_P;
    nl_media_meta meta;
    int got = 0;
    while (off < clen) {
        NL_ASSERT_OK(nl_media_demux_feed(d, clean + off, clen - off, &used));
        off += used;
        while (nl_media_demux_next(d, &pkt, &meta) > 0) {
            if (got++ == 0) {
                NL_ASSERT_EQ(meta.kind, NL_MEDIA_KIND_PFRAME);
                NL_ASSERT_EQ(pkt->pts, 3557767112LL);
                NL_ASSERT_EQ(meta.flags & NL_MEDIA_FLAG_RESYNC, 0);
            }
        }
    }
    NL_ASSERT_EQ(got, 3);
    NL_ASSERT_EQ(nl_media_demux_finish(d), 0);

    /* reset forgets the stream: formats, Info and clocks. */
    nl_media_info info;
    NL_ASSERT_OK(nl_media_demux_info(d, &info));
    nl_media_demux_reset(d);
    NL_ASSERT_EQ(nl_media_demux_info(d, &info), NL_EAGAIN);
    nl_media_video_format vf;
    nl_media_demux_video_format(d, &vf);
    NL_ASSERT_EQ(vf.codec, NL_MEDIA_CODEC_NONE);
    NL_ASSERT_EQ(vf.width, 0);
    nl_media_stats st;
    nl_media_demux_stats(d, &st);
    NL_ASSERT_UEQ(st.packets[NL_MEDIA_KIND_IFRAME], 1); /* counters survive */
    NL_ASSERT_UEQ(st.packets[NL_MEDIA_KIND_PFRAME], 1); /* the cut one is not counted */
    nl_media_demux_destroy(&d);
    nl_media_demux_destroy(&d); /* NULL is a no-op */
    free(clean);
}

static void test_video_cap(void)
{
    /* With a 100 kB cap the 192881-byte I-frame is not a packet: the
     * demuxer resyncs past it (its bytes are skipped) and finds the rest. */
    size_t clen;
    uint8_t *clean = load_cat(k_all, sizeof k_all / sizeof *k_all, &clen);
    nl_media_demux_config cfg = {.max_video_payload = 100000};
    recs r;
    run_demux_cfg(clean, clen, NULL, NULL, &cfg, &r);
    NL_ASSERT_EQ(r.n, 4);
    NL_ASSERT_EQ(r.v[0].meta.kind, NL_MEDIA_KIND_INFO);
    NL_ASSERT_EQ(r.v[1].meta.kind, NL_MEDIA_KIND_PFRAME);
    NL_ASSERT_UEQ(r.v[1].meta.skipped_before, 192920);
    NL_ASSERT_UEQ(r.stats.bytes_skipped, 192920);
    recs_free(&r);
    free(clean);
}

static void test_api_args(void)
{
    nl_media_demux *d = NULL;
    NL_ASSERT_EQ(nl_media_demux_create(NULL, NULL), NL_EINVAL);
    NL_ASSERT_OK(nl_media_demux_create(&d, NULL));
    size_t used = 99;
    NL_ASSERT_EQ(nl_media_demux_feed(d, NULL, 3, &used), NL_EINVAL);
    NL_ASSERT_EQ(used, 0);
    NL_ASSERT_EQ(nl_media_demux_feed(NULL, (const uint8_t *)"x", 1, &used), NL_EINVAL);
    NL_ASSERT_EQ(nl_media_demux_next(d, NULL, NULL), NL_EINVAL);
    AVPacket *pkt;
    NL_ASSERT_EQ(nl_media_demux_next(d, &pkt, NULL), 0);
    NL_ASSERT_EQ(nl_media_demux_finish(d), 0);
    AVCodecParameters *par = avcodec_parameters_alloc();
    NL_ASSERT_EQ(nl_media_demux_video_params(d, par), NL_EAGAIN);
    NL_ASSERT_EQ(nl_media_demux_audio_params(d, par), NL_EAGAIN);
    avcodec_parameters_free(&par);
    NL_ASSERT_STREQ(nl_media_kind_name(NL_MEDIA_KIND_IFRAME), "iframe");
    NL_ASSERT_STREQ(nl_media_kind_name((nl_media_kind)42), "none");
    NL_ASSERT_STREQ(nl_media_codec_name(NL_MEDIA_CODEC_H265), "H265");
    nl_media_demux_destroy(&d);
}

int main(void)
{
    NL_RUN(test_garbage_everywhere);
    NL_RUN(test_in_sync_trusts_header);
    NL_RUN(test_only_garbage);
    NL_RUN(test_truncated);
    NL_RUN(test_video_cap);
    NL_RUN(test_api_args);
    NL_DONE();
}
