/* The per-client frame queue: FIFO order, one reference per queued frame,
 * and its three caps (ring slots, bytes, lateness against the schedule). */
#include <string.h>

#include "core/time.h"
#include "neolink/error.h"
#include "rtp/frame_buf.h"
#include "rtsp/client_queue.h"
#include "test.h"

static nl_rtp_frame *make_frame(nl_rtp_builder *b, size_t bytes, int64_t pts)
{
    uint8_t pkt[1400];
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 0x80;
    pkt[1] = 96;
    NL_ASSERT_OK(nl_rtp_builder_begin(b, bytes));
    for (size_t left = bytes; left > 0;) {
        size_t n = left > sizeof pkt ? sizeof pkt : left;
        nl_rtp_builder_add(b, pkt, n < 12 ? 12 : n);
        left -= n;
    }
    nl_rtp_frame_meta meta = {.keyframe = false, .pts = pts, .ssrc = 1};
    nl_rtp_frame *f = NULL;
    NL_ASSERT_OK(nl_rtp_builder_finish(b, &meta, &f));
    NL_ASSERT(f != NULL);
    return f;
}

static void test_queue(void)
{
    nl_rtp_pool *pool = NULL;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 1 << 20, 1 << 20));
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 0, 1 << 20));
    nl_rtp_frame *f1 = make_frame(&b, 1000, 1), *f2 = make_frame(&b, 2000, 2),
                 *f3 = make_frame(&b, 3000, 3);
    size_t s1 = f1->size, s2 = f2->size, s3 = f3->size;
    NL_ASSERT_EQ(s1, 1004);

    nl__client_queue q;
    NL_ASSERT_EQ(nl__cq_init(&q, 0, 1, 1), NL_EINVAL);
    NL_ASSERT_OK(nl__cq_init(&q, 3, s1 + s2 + s3, 500 * NL_NS_PER_MS));
    uint64_t t = 10 * NL_NS_PER_S;
    NL_ASSERT_OK(nl__cq_push(&q, f1, t, t));
    NL_ASSERT_EQ(nl_rtp_frame_refcount(f1), 2);
    NL_ASSERT_OK(nl__cq_push(&q, f2, t + 1, t + 1));
    NL_ASSERT_UEQ(q.bytes, s1 + s2);
    /* lateness: the head is 600 ms past due */
    NL_ASSERT_EQ(nl__cq_push(&q, f3, t + 600 * NL_NS_PER_MS, t + 600 * NL_NS_PER_MS), NL_ELIMIT);
    NL_ASSERT_OK(nl__cq_push(&q, f3, t + 400 * NL_NS_PER_MS, t + 400 * NL_NS_PER_MS));
    /* ring full */
    NL_ASSERT_EQ(nl__cq_push(&q, f1, t, t), NL_ELIMIT);
    NL_ASSERT_EQ(q.peak_len, 3);
    NL_ASSERT_UEQ(q.peak_bytes, s1 + s2 + s3);
    /* FIFO, references handed over */
    const nl__cq_entry *e = nl__cq_peek(&q);
    NL_ASSERT(e->f == f1 && e->due == t);
    nl_rtp_frame *p = nl__cq_pop(&q);
    NL_ASSERT(p == f1);
    nl_rtp_frame_unref(&p);
    NL_ASSERT_EQ(nl_rtp_frame_refcount(f1), 1);
    /* bytes: f1 again would exceed the byte cap only with a bigger frame */
    nl_rtp_frame *big = make_frame(&b, 5000, 4);
    NL_ASSERT_EQ(nl__cq_push(&q, big, t + 1, t + 1), NL_ELIMIT);
    NL_ASSERT_OK(nl__cq_push(&q, f1, t + 2, t + 2)); /* wraps around the ring */
    p = nl__cq_pop(&q);
    NL_ASSERT(p == f2);
    nl_rtp_frame_unref(&p); /* the popped reference */
    nl_rtp_frame_unref(&f2);
    NL_ASSERT_EQ(nl__cq_clear(&q), 2);
    NL_ASSERT_EQ(q.len, 0);
    NL_ASSERT_UEQ(q.bytes, 0);
    NL_ASSERT(nl__cq_peek(&q) == NULL);
    NL_ASSERT(nl__cq_pop(&q) == NULL);
    NL_ASSERT_EQ(nl_rtp_frame_refcount(f1), 1);
    NL_ASSERT_EQ(nl_rtp_frame_refcount(f3), 1);
    /* freeing drops what is left */
    NL_ASSERT_OK(nl__cq_push(&q, f3, t, t));
    nl__cq_free(&q);
    NL_ASSERT_EQ(nl_rtp_frame_refcount(f3), 1);
    nl__cq_free(&q); /* twice is harmless */

    nl_rtp_frame_unref(&f1);
    nl_rtp_frame_unref(&f3);
    nl_rtp_frame_unref(&big);
    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);
}

/* The ring starts small and doubles up to its cap, keeping FIFO order when
 * it grows while wrapped around. */
static void test_queue_growth(void)
{
    nl_rtp_pool *pool = NULL;
    NL_ASSERT_OK(nl_rtp_pool_create(&pool, 1 << 20, 1 << 20));
    nl_rtp_builder b;
    NL_ASSERT_OK(nl_rtp_builder_init(&b, pool, 0, 1 << 20));
    enum { K = 24 };
    nl_rtp_frame *f[K];
    for (int i = 0; i < K; i++)
        f[i] = make_frame(&b, 100, i);
    nl__client_queue q;
    NL_ASSERT_OK(nl__cq_init(&q, 20, 1 << 20, 10 * NL_NS_PER_S));
    NL_ASSERT_EQ(q.size, 8); /* 128 bytes until a client needs more */
    uint64_t t = NL_NS_PER_S;
    /* wrap the small ring: 6 in, 4 out, 6 in (head at 4, entries across the end) */
    int in = 0, out = 0;
    for (; in < 6; in++)
        NL_ASSERT_OK(nl__cq_push(&q, f[in], t, t));
    for (; out < 4; out++) {
        nl_rtp_frame *p = nl__cq_pop(&q);
        NL_ASSERT(p == f[out]);
        nl_rtp_frame_unref(&p);
    }
    for (; in < 12; in++)
        NL_ASSERT_OK(nl__cq_push(&q, f[in], t, t));
    NL_ASSERT_EQ(q.len, 8);
    NL_ASSERT_EQ(q.size, 8);
    /* the 9th grows it (unwrapped, order kept), then up to the cap of 20 */
    for (; in < 24; in++)
        NL_ASSERT_OK(nl__cq_push(&q, f[in % K], t, t));
    NL_ASSERT_EQ(q.len, 20);
    NL_ASSERT_EQ(q.size, 20); /* 8 -> 16 -> 20 */
    NL_ASSERT_EQ(nl__cq_push(&q, f[0], t, t), NL_ELIMIT);
    NL_ASSERT_EQ(q.peak_len, 20);
    for (; out < 24; out++) {
        nl_rtp_frame *p = nl__cq_pop(&q);
        NL_ASSERT(p == f[out]);
        nl_rtp_frame_unref(&p);
    }
    NL_ASSERT(nl__cq_pop(&q) == NULL);
    for (int i = 0; i < K; i++)
        NL_ASSERT_EQ(nl_rtp_frame_refcount(f[i]), 1);
    nl__cq_free(&q);
    /* a cap below the first size allocates just the cap */
    NL_ASSERT_OK(nl__cq_init(&q, 3, 1 << 20, NL_NS_PER_S));
    NL_ASSERT_EQ(q.size, 3);
    nl__cq_free(&q);
    for (int i = 0; i < K; i++)
        nl_rtp_frame_unref(&f[i]);
    nl_rtp_builder_free(&b);
    nl_rtp_pool_close(&pool);
}

int main(void)
{
    NL_RUN(test_queue);
    NL_RUN(test_queue_growth);
    NL_DONE();
}
