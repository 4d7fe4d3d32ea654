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

int main(void)
{
    NL_RUN(test_queue);
    NL_DONE();
}
