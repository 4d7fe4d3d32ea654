/* The bounded packet queue drops whole GOPs: once full, it drops until a key
 * frame that fits, so what comes out is always decodable (a GOP prefix, then
 * the next GOP from its key frame). Also the output-size rule of the scaler
 * and the option parsers. */
#include "hw/pktq.h"
#include "hw/scaler.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"
#include "test.h"

static AVPacket *mk(int64_t pts, int key)
{
    AVPacket *p = av_packet_alloc();
    NL_ASSERT(p != NULL);
    NL_ASSERT_EQ(av_new_packet(p, 8), 0);
    memset(p->data, (int)pts, 8);
    p->pts = pts;
    if (key)
        p->flags |= AV_PKT_FLAG_KEY;
    return p;
}

/* GOP of 4: K P P P K P P P ... pts = index. */
static int is_key(int i)
{
    return i % 4 == 0;
}

static void test_gop_drop(void)
{
    nl__pktq q;
    NL_ASSERT_OK(nl__pktq_init(&q, 6));
    int results[16];
    for (int i = 0; i < 16; i++) {
        AVPacket *p = mk(i, is_key(i));
        results[i] = nl__pktq_push(&q, p, 0);
        /* push(move=0) leaves the caller's packet intact */
        NL_ASSERT_EQ(p->pts, i);
        NL_ASSERT(p->data != NULL);
        av_packet_free(&p);
        /* Consume one packet after #9 to make room; the queue is still
         * skipping then, so P-frames 10 and 11 are dropped anyway. */
        if (i == 9) {
            AVPacket *o = av_packet_alloc();
            NL_ASSERT_OK(nl__pktq_pop(&q, o));
            NL_ASSERT_EQ(o->pts, 0);
            av_packet_free(&o);
        }
    }
    /* 0..5 fit (6 slots); 6 finds it full -> skip until a key that fits:
     * 6,7 dropped, 8 is key but the queue is full -> dropped, 9 dropped;
     * after the pop at 9: 10, 11 are P -> dropped; 12 key fits -> queued;
     * the queue is full again at 13. */
    int want[16] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1};
    for (int i = 0; i < 16; i++)
        NL_ASSERT_EQ(results[i], want[i]);
    NL_ASSERT_EQ(q.dropped, 9);
    NL_ASSERT_EQ(q.gops_dropped, 2); /* at 6, and again at 13 */
    NL_ASSERT_EQ(q.queued, 7);
    /* What comes out: 1..5 (prefix of GOP 0 after the pop), then 12 (key). */
    int64_t out[6];
    AVPacket *o = av_packet_alloc();
    for (int k = 0; k < 6; k++) {
        NL_ASSERT_OK(nl__pktq_pop(&q, o));
        out[k] = o->pts;
        NL_ASSERT_EQ(o->data[0], (uint8_t)o->pts);
        av_packet_unref(o);
    }
    int64_t want_out[6] = {1, 2, 3, 4, 5, 12};
    for (int k = 0; k < 6; k++)
        NL_ASSERT_EQ(out[k], want_out[k]);
    NL_ASSERT_EQ(nl__pktq_pop(&q, o), NL_EAGAIN);
    av_packet_free(&o);
    nl__pktq_free(&q);
}

static void test_move_and_clear(void)
{
    nl__pktq q;
    NL_ASSERT_OK(nl__pktq_init(&q, 2));
    AVPacket *p = mk(1, 1);
    NL_ASSERT_EQ(nl__pktq_push(&q, p, 1), 0);
    NL_ASSERT(p->data == NULL); /* moved */
    av_packet_free(&p);
    p = mk(2, 0);
    NL_ASSERT_EQ(nl__pktq_push(&q, p, 1), 0);
    av_packet_free(&p);
    p = mk(3, 0);
    NL_ASSERT_EQ(nl__pktq_push(&q, p, 1), 1); /* full: dropped and released */
    NL_ASSERT(p->data == NULL);
    av_packet_free(&p);
    nl__pktq_clear(&q, 0);
    NL_ASSERT_EQ(nl__pktq_len(&q), 0);
    /* After clear the next packet must be a key frame. */
    p = mk(4, 0);
    NL_ASSERT_EQ(nl__pktq_push(&q, p, 0), 1);
    av_packet_free(&p);
    p = mk(5, 1);
    NL_ASSERT_EQ(nl__pktq_push(&q, p, 0), 0);
    av_packet_free(&p);
    nl__pktq_clear(&q, 1);
    p = mk(6, 0);
    NL_ASSERT_EQ(nl__pktq_push(&q, p, 0), 0); /* resume_any */
    av_packet_free(&p);
    nl__pktq_free(&q);
    nl__pktq_free(&q); /* twice is fine */
    NL_ASSERT_EQ(nl__pktq_init(&q, 0), NL_EINVAL);
    NL_ASSERT_EQ(nl__pktq_init(&q, NL_HW_PKTQ_MAX + 1), NL_EINVAL);
}

static void test_fit_size(void)
{
    int w, h;
    nl__hw_fit_size(1920, 1080, 320, 180, &w, &h);
    NL_ASSERT_EQ(w, 320);
    NL_ASSERT_EQ(h, 180);
    nl__hw_fit_size(1920, 1080, 320, 0, &w, &h); /* keep aspect */
    NL_ASSERT_EQ(w, 320);
    NL_ASSERT_EQ(h, 180);
    nl__hw_fit_size(1920, 1080, 0, 720, &w, &h);
    NL_ASSERT_EQ(w, 1280);
    NL_ASSERT_EQ(h, 720);
    nl__hw_fit_size(2560, 1920, 0, 480, &w, &h); /* 4:3 */
    NL_ASSERT_EQ(w, 640);
    NL_ASSERT_EQ(h, 480);
    nl__hw_fit_size(640, 360, 0, 0, &w, &h);
    NL_ASSERT_EQ(w, 640);
    NL_ASSERT_EQ(h, 360);
    nl__hw_fit_size(1920, 1080, 333, 0, &w, &h); /* odd -> even: 333x187 -> 332x186 */
    NL_ASSERT_EQ(w, 332);
    NL_ASSERT_EQ(h, 186);
    nl__hw_fit_size(641, 361, 0, 0, &w, &h);
    NL_ASSERT_EQ(w, 640);
    NL_ASSERT_EQ(h, 360);
}

static void test_names(void)
{
    NL_ASSERT_EQ(nl_hwaccel_parse("auto"), NL_HWACCEL_AUTO);
    NL_ASSERT_EQ(nl_hwaccel_parse("vaapi"), NL_HWACCEL_VAAPI);
    NL_ASSERT_EQ(nl_hwaccel_parse("software"), NL_HWACCEL_SOFTWARE);
    NL_ASSERT_EQ(nl_hwaccel_parse("cuda"), NL_EINVAL);
    NL_ASSERT_EQ(nl_hwaccel_parse(NULL), NL_EINVAL);
    NL_ASSERT_STREQ(nl_hwaccel_name(NL_HWACCEL_VAAPI), "vaapi");
    NL_ASSERT_STREQ(nl_hw_backend_name(NL_HW_BACKEND_SOFTWARE), "software");
    NL_ASSERT_STREQ(nl_hw_backend_name(NL_HW_BACKEND_VAAPI), "vaapi");
    NL_ASSERT_STREQ(nl_hw_backend_name(NL_HW_BACKEND_NONE), "none");
    NL_ASSERT_EQ(nl_hw_rc_parse("cbr"), NL_HW_RC_CBR);
    NL_ASSERT_EQ(nl_hw_rc_parse("cqp"), NL_HW_RC_CQP);
    NL_ASSERT_EQ(nl_hw_rc_parse("abr"), NL_EINVAL);
    NL_ASSERT_EQ(nl_audio_out_parse("aac"), NL_AUDIO_OUT_AAC);
    NL_ASSERT_EQ(nl_audio_out_parse("pcmu"), NL_AUDIO_OUT_PCMU);
    NL_ASSERT_EQ(nl_audio_out_parse("pcma"), NL_AUDIO_OUT_PCMA);
    NL_ASSERT_EQ(nl_audio_out_parse("l16"), NL_EINVAL);
}

int main(void)
{
    NL_RUN(test_gop_drop);
    NL_RUN(test_move_and_clear);
    NL_RUN(test_fit_size);
    NL_RUN(test_names);
    NL_DONE();
}
