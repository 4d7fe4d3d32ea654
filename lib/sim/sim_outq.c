/* Per-connection output queue: owned FIFO bytes and shared frame references
 * in one ring of segments (see sim_outq.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/alloc.h"
#include "neolink/error.h"
#include "sim/sim_outq.h"

#define SEND_IOV_MAX 64

nl__sim_frame *nl__sim_frame_new(AVBufferRef *buf, size_t len)
{
    nl__sim_frame *f = nl__calloc(1, sizeof *f);
    if (!f) {
        av_buffer_unref(&buf);
        return NULL;
    }
    f->refs = 1;
    f->buf = buf;
    f->len = len;
    return f;
}

void nl__sim_frame_unref(nl__sim_frame **fp)
{
    nl__sim_frame *f = *fp;
    if (!f)
        return;
    *fp = NULL;
    if (--f->refs > 0)
        return;
    av_buffer_unref(&f->buf);
    nl__free(f);
}

int nl__sim_outq_init(nl__sim_outq *q, unsigned max_segs, size_t max_bytes)
{
    memset(q, 0, sizeof *q);
    q->segs = nl__calloc(max_segs, sizeof *q->segs);
    if (!q->segs)
        return NL_ENOMEM;
    q->cap = max_segs;
    q->max_bytes = max_bytes;
    nl_dbuf_init(&q->own, max_bytes + NL_SIM_OUTQ_CONTROL_SLACK);
    return 0;
}

void nl__sim_outq_free(nl__sim_outq *q)
{
    for (unsigned i = 0; i < q->count; i++) {
        nl__sim_seg *s = &q->segs[(q->head + i) % q->cap];
        nl__sim_frame_unref(&s->f);
    }
    nl__free(q->segs);
    nl_dbuf_free(&q->own);
    memset(q, 0, sizeof *q);
}

int nl__sim_outq_fits(const nl__sim_outq *q, unsigned segs, size_t bytes)
{
    return q->count + segs <= q->cap && q->queued + bytes <= q->max_bytes;
}

nl_dbuf *nl__sim_outq_own(nl__sim_outq *q, size_t need)
{
    /* Compact once at least half the buffer is already sent, so the memmove
     * cost stays proportional to what was sent; and whenever the sent part
     * is what keeps `need` bytes from fitting. */
    if (q->own_head && (q->own_head >= q->own.len / 2 || nl_dbuf_room(&q->own) < need)) {
        nl_dbuf_consume(&q->own, q->own_head);
        q->own_head = 0;
    }
    return &q->own;
}

static nl__sim_seg *tail_seg(nl__sim_outq *q)
{
    return q->count ? &q->segs[(q->head + q->count - 1) % q->cap] : NULL;
}

int nl__sim_outq_commit_own(nl__sim_outq *q, size_t n)
{
    if (!n)
        return 0;
    nl__sim_seg *t = tail_seg(q);
    /* Owned bytes are contiguous in send order: extend the last owned
     * segment when nothing shared sits between them. */
    if (t && !t->f && (uint64_t)t->len + n <= UINT32_MAX) {
        t->len += (uint32_t)n;
    } else {
        if (q->count == q->cap || n > UINT32_MAX) {
            q->own.len -= n;
            return NL_ELIMIT;
        }
        nl__sim_seg *s = &q->segs[(q->head + q->count) % q->cap];
        s->f = NULL;
        s->off = 0;
        s->len = (uint32_t)n;
        q->count++;
    }
    q->queued += n;
    return 0;
}

int nl__sim_outq_push_own(nl__sim_outq *q, const void *p, size_t n)
{
    int rc = nl_dbuf_append(nl__sim_outq_own(q, n), p, n);
    return rc < 0 ? rc : nl__sim_outq_commit_own(q, n);
}

int nl__sim_outq_push_shared(nl__sim_outq *q, nl__sim_frame *f, size_t off, size_t len)
{
    if (!len)
        return 0;
    if (q->count == q->cap || off + len > f->len || len > UINT32_MAX)
        return NL_ELIMIT;
    nl__sim_seg *s = &q->segs[(q->head + q->count) % q->cap];
    s->f = nl__sim_frame_ref(f);
    s->off = (uint32_t)off;
    s->len = (uint32_t)len;
    q->count++;
    q->queued += len;
    return 0;
}

/* Drops n sent bytes from the front. */
static void advance(nl__sim_outq *q, size_t n)
{
    q->queued -= n;
    while (n && q->count) {
        nl__sim_seg *s = &q->segs[q->head];
        size_t k = n < s->len ? n : s->len;
        s->len -= (uint32_t)k;
        n -= k;
        if (s->f)
            s->off += (uint32_t)k;
        else
            q->own_head += k;
        if (s->len)
            break;
        nl__sim_frame_unref(&s->f);
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
}

long nl__sim_outq_send(nl__sim_outq *q, int fd, size_t limit)
{
    struct iovec iov[SEND_IOV_MAX];
    int n = 0;
    size_t total = 0, own_pos = q->own_head;
    for (unsigned i = 0; i < q->count && n < SEND_IOV_MAX && total < limit; i++) {
        const nl__sim_seg *s = &q->segs[(q->head + i) % q->cap];
        size_t len = s->len;
        if (len > limit - total)
            len = limit - total;
        if (s->f) {
            iov[n].iov_base = s->f->buf->data + s->off;
        } else {
            iov[n].iov_base = q->own.data + own_pos;
            own_pos += s->len;
        }
        iov[n].iov_len = len;
        total += len;
        n++;
    }
    if (!n || !total)
        return 0;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t w;
    do {
        w = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    if (w < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? NL_EAGAIN : nl_err_from_errno(errno);
    advance(q, (size_t)w);
    return (long)w;
}
