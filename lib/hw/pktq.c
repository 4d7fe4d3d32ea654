/* Bounded packet FIFO with GOP-granular dropping. See pktq.h. */
#include <string.h>

#include "core/alloc.h"
#include "hw/hw_stats.h"
#include "hw/pktq.h"
#include "neolink/error.h"

int nl__pktq_init(nl__pktq *q, unsigned cap)
{
    memset(q, 0, sizeof *q);
    if (cap == 0 || cap > NL_HW_PKTQ_MAX)
        return NL_EINVAL;
    q->slots = nl__calloc(cap, sizeof *q->slots);
    if (!q->slots)
        return NL_ENOMEM;
    q->cap = cap;
    for (unsigned i = 0; i < cap; i++) {
        if (!(q->slots[i] = av_packet_alloc())) {
            nl__pktq_free(q);
            return NL_ENOMEM;
        }
    }
    return 0;
}

void nl__pktq_free(nl__pktq *q)
{
    if (q->slots) {
        for (unsigned i = 0; i < q->cap; i++)
            av_packet_free(&q->slots[i]);
        nl__free(q->slots);
    }
    memset(q, 0, sizeof *q);
}

static int drop(nl__pktq *q, AVPacket *pkt, int move, bool starts_gop_skip)
{
    if (starts_gop_skip) {
        q->gops_dropped++;
        nl__hw_count(NL__HWC_GOPS_DROPPED, 1);
    }
    q->skipping = true;
    q->dropped++;
    nl__hw_count(NL__HWC_PKTS_DROPPED, 1);
    if (move)
        av_packet_unref(pkt);
    return 1;
}

int nl__pktq_push(nl__pktq *q, AVPacket *pkt, int move)
{
    bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    if (q->count == q->cap)
        return drop(q, pkt, move, !q->skipping);
    if (q->skipping && !key)
        return drop(q, pkt, move, false);
    AVPacket *slot = q->slots[(q->head + q->count) % q->cap];
    if (move) {
        av_packet_move_ref(slot, pkt);
    } else if (av_packet_ref(slot, pkt) < 0) {
        return NL_ENOMEM;
    }
    q->skipping = false;
    q->count++;
    q->queued++;
    return 0;
}

int nl__pktq_pop(nl__pktq *q, AVPacket *out)
{
    if (q->count == 0)
        return NL_EAGAIN;
    av_packet_move_ref(out, q->slots[q->head]);
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return 0;
}

void nl__pktq_clear(nl__pktq *q, int resume_any)
{
    while (q->count > 0) {
        av_packet_unref(q->slots[q->head]);
        q->head = (q->head + 1) % q->cap;
        q->count--;
        q->dropped++;
    }
    q->skipping = !resume_any;
}
