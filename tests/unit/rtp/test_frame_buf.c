/* Frame buffers: layout of the '$'-framed block, packet table, refcounting,
 * pool reuse (counted through the allocator hook), growth, caps, per-client
 * iovecs for other interleaved channels, and pool/frame lifetime. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "neolink/alloc.h"
#include "neolink/error.h"
#include "rtp/frame_buf.h"
#include "test.h"

static long n_mallocs;

static void *count_malloc(void *ud, size_t n)
{
    (void)ud;
    n_mallocs++;
    return malloc(n);
}

static void *count_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    n_mallocs++;
    return realloc(p, n);
}

static void count_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static const nl_allocator counting = {count_malloc, count_realloc, count_free, NULL};

/* An RTP packet: V=2, PT, marker, seq, ts, ssrc, then `payload` bytes of fill. */
static size_t make_rtp(uint8_t *p, int pt, int marker, uint16_t seq, uint32_t ts, size_t payload)
{
    p[0] = 0x80;
    p[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24);
    p[5] = (uint8_t)(ts >> 16);
    p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    memcpy(p + 8, "\x12\x34\x56\x78", 4);
    for (size_t i = 0; i < payload; i++)
        p[12 + i] = (uint8_t)(seq + i);
    return 12 + payload;
}

/* A 28-byte RTCP SR. */
static size_t make_sr(uint8_t *p)
{
    memset(p, 0, 28);
    p[0] = 0x80;
    p[1] = 200;
    p[3] = 6;
    memcpy(p + 4, "\x12\x34\x56\x78", 4);
    return 28;
}

static nl_rtp_frame *build_sample(nl_rtp_builder *b, uint16_t seq0, int n, size_t payload)
{
    uint8_t pkt[1500];
    NL_ASSERT_OK(nl_rtp_builder_begin(b, (size_t)n * (payload + 12)));
    nl_rtp_builder_add(b, pkt, make_sr(pkt));
    for (int i = 0; i < n; i++) {
        size_t len = make_rtp(pkt, 96, i == n - 1, (uint16_t)(seq0 + i), 90000, payload);
        nl_rtp_builder_add(b, pkt, len);
    }
    nl_rtp_frame_meta meta = {.keyframe = true, .pts = 123456, .ssrc = 0x12345678};
    nl_rtp_frame *f = NULL;
    NL_ASSERT_OK(nl_rtp_builder_finish(b, &meta, &f));
    NL_ASSERT(f != NULL);
    return f;
}

static void test_layout(void)
{
    nl_rtp_pool *pool = NULL;
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 1 << 20, 1 << 20));
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 2, 1 << 19));
    nl_rtp_frame *f = build_sample(&b, 65534, 4, 100); /* seq wraps 65534 -> 1 */

    NL_ASSERT_EQ(f->npkts, 5);
    NL_ASSERT_EQ(f->nrtp, 4);
    NL_ASSERT_EQ(f->track, 2);
    NL_ASSERT_EQ(f->rtp_channel, 4);
    NL_ASSERT_EQ(f->rtcp_channel, 5);
    NL_ASSERT_EQ(f->first_seq, 65534);
    NL_ASSERT_EQ(f->last_seq, 1);
    NL_ASSERT_UEQ(f->first_rtptime, 90000);
    NL_ASSERT_UEQ(f->ssrc, 0x12345678);
    NL_ASSERT_EQ(f->pts, 123456);
    NL_ASSERT(f->keyframe);
    NL_ASSERT_EQ(f->size, (28 + 4) + 4 * (112 + 4));
    NL_ASSERT_EQ(nl_rtp_frame_refcount(f), 1);
    NL_ASSERT(f->buf && f->buf->data <= f->data &&
              f->data + f->size <= f->buf->data + f->buf->size);

    /* The RTCP SR goes first, on the odd channel. */
    NL_ASSERT_EQ(f->pkts[0].off, 0);
    NL_ASSERT_EQ(f->pkts[0].rtcp, 1);
    NL_ASSERT_EQ(f->pkts[0].len, 28);
    NL_ASSERT_MEMEQ(f->data, "$\x05\x00\x1c", 4);
    NL_ASSERT_EQ(nl_rtp_frame_pkt_data(f, 0)[1], 200);

    /* Walk the '$' frames: they tile the block exactly. */
    size_t off = 0;
    for (uint32_t i = 0; i < f->npkts; i++) {
        const nl_rtp_pkt *p = &f->pkts[i];
        NL_ASSERT_EQ(p->off, off);
        NL_ASSERT_EQ(f->data[off], '$');
        NL_ASSERT_EQ(f->data[off + 1], p->rtcp ? 5 : 4);
        NL_ASSERT_EQ((f->data[off + 2] << 8) | f->data[off + 3], p->len);
        NL_ASSERT_EQ(p->marker, i == f->npkts - 1);
        off += NL_RTP_PREFIX + p->len;
    }
    NL_ASSERT_EQ(off, f->size);

    nl_rtp_frame *g = nl_rtp_frame_ref(f);
    NL_ASSERT(g == f);
    NL_ASSERT_EQ(nl_rtp_frame_refcount(f), 2);
    nl_rtp_frame_unref(&g);
    NL_ASSERT(g == NULL);
    NL_ASSERT_EQ(nl_rtp_frame_refcount(f), 1);
    nl_rtp_pool_stats st;
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT_EQ(st.live, 1);
    nl_rtp_frame_unref(&f);
    nl_rtp_frame_unref(&f); /* NULL: no-op */
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT_EQ(st.live, 0);
    NL_ASSERT_EQ(st.cached, 1);

    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);
    NL_ASSERT(pool == NULL);
}

/* Steady state: every frame's block comes from the cache, the table scratch
 * stays at its high-water mark, so the library allocates nothing. */
static void test_reuse_no_alloc(void)
{
    long live0 = nl_allocator_live();
    nl_rtp_pool *pool = NULL;
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 1 << 20, 4 << 20));
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 0, 1 << 19));

    /* Warm up with a window of 8 frames in flight, like a client queue. */
    nl_rtp_frame *win[8] = {0};
    for (int i = 0; i < 64; i++) {
        nl_rtp_frame_unref(&win[i % 8]);
        win[i % 8] = build_sample(&b, (uint16_t)(i * 20), 1 + (i % 5) * 4, 1388);
    }
    nl_allocator_set(&counting);
    n_mallocs = 0;
    for (int i = 64; i < 512; i++) {
        nl_rtp_frame_unref(&win[i % 8]);
        win[i % 8] = build_sample(&b, (uint16_t)(i * 20), 1 + (i % 5) * 4, 1388);
    }
    long allocs = n_mallocs;
    nl_allocator_set(NULL);
    NL_ASSERT_EQ(allocs, 0);

    nl_rtp_pool_stats st;
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT_EQ(st.live, 8);
    NL_ASSERT(st.reuses >= 448);
    for (int i = 0; i < 8; i++)
        nl_rtp_frame_unref(&win[i]);

    /* Trimming releases idle blocks, biggest first, down to the limit. */
    nl_rtp_pool_get_stats(pool, &st);
    size_t before = st.cached_bytes;
    NL_ASSERT(st.cached >= 8);
    size_t freed = nl_rtp_pool_trim(pool, 40000);
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT_EQ(st.cached_bytes, before - freed);
    NL_ASSERT(st.cached_bytes <= 40000 && st.cached_bytes > 0);
    NL_ASSERT_EQ(nl_rtp_pool_trim(pool, 40000), 0);
    nl_rtp_pool_trim(pool, 0);
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT_EQ(st.cached, 0);
    NL_ASSERT_EQ(st.cached_bytes, 0);
    /* and the pool keeps working */
    win[0] = build_sample(&b, 1, 3, 100);
    nl_rtp_frame_unref(&win[0]);
    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);
    NL_ASSERT_EQ(nl_allocator_live(), live0);
}

/* A hint far too small: the builder moves to bigger classes and loses nothing. */
static void test_growth(void)
{
    nl_rtp_pool *pool = NULL;
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 4 << 20, 0)); /* no cache at all */
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 0, 2 << 20));
    uint8_t pkt[1500];
    NL_ASSERT_OK(nl_rtp_builder_begin(&b, 10));
    for (int i = 0; i < 300; i++)
        nl_rtp_builder_add(&b, pkt, make_rtp(pkt, 97, 0, (uint16_t)i, 7, 1388));
    nl_rtp_frame_meta meta = {.pts = 1};
    nl_rtp_frame *f = NULL;
    NL_ASSERT_OK(nl_rtp_builder_finish(&b, &meta, &f));
    NL_ASSERT_EQ(f->npkts, 300);
    NL_ASSERT_EQ(f->size, 300 * 1404);
    for (uint32_t i = 0; i < f->npkts; i++) {
        NL_ASSERT_EQ(f->pkts[i].off, i * 1404);
        const uint8_t *d = nl_rtp_frame_pkt_data(f, i);
        NL_ASSERT_EQ((d[2] << 8) | d[3], i);
        NL_ASSERT_EQ(d[12 + 1000], (uint8_t)(i + 1000));
    }
    nl_rtp_pool_stats st;
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT(st.blocks_created > 1);
    NL_ASSERT_EQ(st.live, 1);
    NL_ASSERT_EQ(st.cached, 0);
    nl_rtp_frame_unref(&f);
    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);
}

static void test_caps_and_errors(void)
{
    nl_rtp_pool *pool = NULL;
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 1 << 20, 1 << 20));
    NL_ASSERT_EQ(nl_rtp_builder_init(&b, pool, NL_RTP_MAX_TRACK + 1, 1 << 16), NL_EINVAL);
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 0, 8000));
    uint8_t pkt[1500];
    nl_rtp_frame_meta meta = {0};
    nl_rtp_frame *f = (nl_rtp_frame *)1;

    /* Over the byte cap: the whole frame is refused. */
    NL_ASSERT_OK(nl_rtp_builder_begin(&b, 100));
    NL_ASSERT_EQ(nl_rtp_builder_begin(&b, 100), NL_ESTATE);
    for (int i = 0; i < 10; i++)
        nl_rtp_builder_add(&b, pkt, make_rtp(pkt, 96, 0, (uint16_t)i, 0, 988));
    NL_ASSERT_EQ(nl_rtp_builder_finish(&b, &meta, &f), NL_ETOOBIG);
    NL_ASSERT(f == NULL);

    /* The builder is usable again afterwards. */
    f = build_sample(&b, 1, 2, 100);
    NL_ASSERT_EQ(f->npkts, 3);
    nl_rtp_frame_unref(&f);

    /* Nothing written: no frame, no error. */
    NL_ASSERT_OK(nl_rtp_builder_begin(&b, 100));
    NL_ASSERT_OK(nl_rtp_builder_finish(&b, &meta, &f));
    NL_ASSERT(f == NULL);
    /* finish without begin */
    NL_ASSERT_EQ(nl_rtp_builder_finish(&b, &meta, &f), NL_ESTATE);
    /* add outside a frame is ignored */
    nl_rtp_builder_add(&b, pkt, 12);
    /* abort returns the block */
    NL_ASSERT_OK(nl_rtp_builder_begin(&b, 100));
    nl_rtp_builder_add(&b, pkt, make_rtp(pkt, 96, 0, 1, 0, 10));
    nl_rtp_builder_abort(&b);
    nl_rtp_pool_stats st;
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT_EQ(st.live, 0);

    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);

    NL_ASSERT_EQ(nl_rtp_pool_create(&pool, 0, 0), NL_EINVAL);
    NL_ASSERT_EQ(nl_rtp_pool_create(&pool, (size_t)1 << 40, 0), NL_EINVAL);
    NL_ASSERT(pool == NULL);
}

static void test_tcp_iov(void)
{
    nl_rtp_pool *pool = NULL;
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 1 << 20, 1 << 20));
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 1, 1 << 19));
    nl_rtp_frame *f = build_sample(&b, 10, 6, 300); /* SR + 6 RTP */
    struct iovec iov[8];
    uint8_t hdr[64];
    uint32_t next = 0;

    /* Default channels 2/3: one write of the whole block. */
    NL_ASSERT_EQ(nl_rtp_frame_tcp_iov(f, 2, 3, &next, hdr, sizeof(hdr), iov, 8), 1);
    NL_ASSERT(iov[0].iov_base == (void *)f->data);
    NL_ASSERT_EQ(iov[0].iov_len, f->size);
    NL_ASSERT_EQ(next, f->npkts);

    /* Channels 6/7: rebuild in chunks of 4 iovecs (2 packets) and compare
     * with the block where only the channel bytes differ. */
    uint8_t *expect = malloc(f->size), *got = malloc(f->size);
    memcpy(expect, f->data, f->size);
    for (uint32_t i = 0; i < f->npkts; i++)
        expect[f->pkts[i].off + 1] = f->pkts[i].rtcp ? 7 : 6;
    size_t got_len = 0;
    next = 0;
    int calls = 0;
    while (next < f->npkts) {
        int n = nl_rtp_frame_tcp_iov(f, 6, 7, &next, hdr, sizeof(hdr), iov, 4);
        NL_ASSERT(n == 4 || (n == 2 && next == f->npkts));
        for (int k = 0; k < n; k++) {
            memcpy(got + got_len, iov[k].iov_base, iov[k].iov_len);
            got_len += iov[k].iov_len;
        }
        calls++;
    }
    NL_ASSERT_EQ(calls, 4); /* 7 packets, 2 per call */
    NL_ASSERT_EQ(got_len, f->size);
    NL_ASSERT_MEMEQ(got, expect, f->size);
    free(expect);
    free(got);

    /* Header room limits the chunk too; bad arguments are refused. */
    next = 0;
    NL_ASSERT_EQ(nl_rtp_frame_tcp_iov(f, 6, 7, &next, hdr, 4, iov, 8), 2);
    NL_ASSERT_EQ(next, 1);
    NL_ASSERT_EQ(nl_rtp_frame_tcp_iov(f, 6, 7, &next, hdr, 3, iov, 8), NL_EINVAL);
    next = f->npkts;
    NL_ASSERT_EQ(nl_rtp_frame_tcp_iov(f, 6, 7, &next, hdr, sizeof(hdr), iov, 8), NL_EINVAL);

    nl_rtp_frame_unref(&f);
    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);
}

/* Frames outlive the pool's producer; an extra AVBufferRef keeps a block
 * from being recycled under its holder. */
static void test_lifetime(void)
{
    long live0 = nl_allocator_live();
    nl_rtp_pool *pool = NULL;
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 1 << 20, 1 << 20));
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 0, 1 << 19));
    nl_rtp_frame *f1 = build_sample(&b, 1, 3, 200);
    nl_rtp_frame *f2 = build_sample(&b, 4, 3, 200);

    AVBufferRef *extra = av_buffer_ref(f2->buf);
    NL_ASSERT(extra != NULL);
    size_t data_off = (size_t)(f2->data - extra->data);
    nl_rtp_pool_stats st;
    nl_rtp_pool_get_stats(pool, &st);
    uint64_t freed0 = st.blocks_freed;
    nl_rtp_frame_unref(&f2);
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT_EQ(st.blocks_freed, freed0 + 1); /* not recycled */
    NL_ASSERT_EQ(st.cached, 0);
    /* The holder of the extra reference can still read the packets. */
    NL_ASSERT_EQ(extra->data[data_off], '$');
    av_buffer_unref(&extra);

    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);
    /* f1 is still readable after the producer went away. */
    NL_ASSERT_EQ(f1->npkts, 4);
    NL_ASSERT_EQ(nl_rtp_frame_pkt_data(f1, 1)[3], 1);
    NL_ASSERT(nl_allocator_live() > live0);
    nl_rtp_frame_unref(&f1); /* frees the block and the pool */
    NL_ASSERT_EQ(nl_allocator_live(), live0);
}

/* Two threads hammer ref/unref on shared frames while the producer keeps
 * building; every block must come back exactly once. */
struct hammer {
    nl_rtp_frame *f;
    int rounds;
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->rounds; i++) {
        nl_rtp_frame *r = nl_rtp_frame_ref(h->f);
        if (r->data[0] != '$')
            abort();
        nl_rtp_frame_unref(&r);
    }
    nl_rtp_frame_unref(&h->f);
    return NULL;
}

static void test_threads(void)
{
    long live0 = nl_allocator_live();
    nl_rtp_pool *pool = NULL;
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 1 << 20, 1 << 20));
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 0, 1 << 19));
    int rounds = getenv("NL_UNDER_VALGRIND") ? 2000 : 100000;
    for (int it = 0; it < 20; it++) {
        nl_rtp_frame *f = build_sample(&b, 1, 2, 50);
        struct hammer h[2] = {{nl_rtp_frame_ref(f), rounds}, {nl_rtp_frame_ref(f), rounds}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            NL_ASSERT_EQ(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
        nl_rtp_frame_unref(&f);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
    }
    nl_rtp_pool_stats st;
    nl_rtp_pool_get_stats(pool, &st);
    NL_ASSERT_EQ(st.live, 0);
    NL_ASSERT_EQ(st.gets, 20);
    NL_ASSERT_EQ(st.blocks_created, 1);
    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);
    NL_ASSERT_EQ(nl_allocator_live(), live0);
}

int main(void)
{
    NL_RUN(test_layout);
    NL_RUN(test_reuse_no_alloc);
    NL_RUN(test_growth);
    NL_RUN(test_caps_and_errors);
    NL_RUN(test_tcp_iov);
    NL_RUN(test_lifetime);
    NL_RUN(test_threads);
    NL_DONE();
}
