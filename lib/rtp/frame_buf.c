/* Frame buffers for the RTP fan-out: a size-class block pool and the builder
 * that writes one access unit's packets straight into a block.
 *
 * Block layout (one nl__malloc, wrapped once in an AVBufferRef):
 *
 *   [struct nl_rtp_block: frame header, refcount, pool link]
 *   [packet bytes: '$' ch len16 packet, '$' ch len16 packet, ...]
 *   [packet table: nl_rtp_pkt x npkts]
 *
 * The block memory comes from nl__malloc, so the library's allocator hook sees
 * it (tests count allocations per frame through it), and the AVBufferRef is
 * created once per block, not per frame. Reuse is by size class (powers of
 * two from 1 KiB), so waste is below 2x and a stream's blocks settle into a
 * few classes. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "neolink/error.h"
#include "rtp/frame_buf.h"

#define NCLASSES 17 /* 1 KiB << 16 = 64 MiB */

struct nl_rtp_block {
    nl_rtp_frame frame; /* must stay first: an nl_rtp_frame * is a block pointer */
    atomic_int refs;
    uint8_t cls;
    nl_rtp_pool *pool;
    AVBufferRef *buf; /* the one reference the pool machinery holds */
    struct nl_rtp_block *next;
    size_t cap; /* payload bytes after the header */
};

/* Payload starts on a 64-byte boundary after the header. */
#define BLOCK_HDR ((sizeof(struct nl_rtp_block) + 63u) & ~(size_t)63u)

struct nl_rtp_pool {
    pthread_mutex_t lock;
    struct nl_rtp_block *free_list[NCLASSES];
    size_t max_cached_bytes;
    int max_cls;
    bool closed;
    nl_rtp_pool_stats st;
};

static inline uint8_t *block_payload(struct nl_rtp_block *b)
{
    return (uint8_t *)b + BLOCK_HDR;
}

static size_t class_size(int cls)
{
    return (size_t)NL_RTP_POOL_MIN_CLASS << cls;
}

/* Smallest class holding n payload bytes, or -1 above the pool's maximum. */
static int class_for(const nl_rtp_pool *p, size_t n)
{
    for (int c = 0; c <= p->max_cls; c++) {
        if (class_size(c) >= n)
            return c;
    }
    return -1;
}

static void block_mem_free(void *opaque, uint8_t *data)
{
    (void)opaque;
    nl__free(data);
}

static void pool_free(nl_rtp_pool *p)
{
    pthread_mutex_destroy(&p->lock);
    nl__free(p);
}

int nl_rtp_pool_create(nl_rtp_pool **out, size_t max_block, size_t max_cached_bytes)
{
    *out = NULL;
    if (max_block == 0 || max_block > class_size(NCLASSES - 1))
        return NL_EINVAL;
    nl_rtp_pool *p = nl__calloc(1, sizeof(*p));
    if (!p)
        return NL_ENOMEM;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        nl__free(p);
        return NL_ENOMEM;
    }
    p->max_cls = 0;
    while (class_size(p->max_cls) < max_block)
        p->max_cls++;
    p->max_cached_bytes = max_cached_bytes;
    *out = p;
    return 0;
}

static struct nl_rtp_block *pool_get(nl_rtp_pool *p, int cls)
{
    pthread_mutex_lock(&p->lock);
    struct nl_rtp_block *b = p->free_list[cls];
    if (b) {
        p->free_list[cls] = b->next;
        p->st.cached--;
        p->st.cached_bytes -= b->cap;
        p->st.live++;
        p->st.gets++;
        p->st.reuses++;
    }
    pthread_mutex_unlock(&p->lock);
    if (!b) {
        size_t cap = class_size(cls);
        uint8_t *mem = nl__malloc(BLOCK_HDR + cap);
        if (!mem)
            return NULL;
        AVBufferRef *buf = av_buffer_create(mem, BLOCK_HDR + cap, block_mem_free, NULL, 0);
        if (!buf) {
            nl__free(mem);
            return NULL;
        }
        b = (struct nl_rtp_block *)mem;
        memset(b, 0, sizeof(*b));
        b->cls = (uint8_t)cls;
        b->pool = p;
        b->buf = buf;
        b->cap = cap;
        pthread_mutex_lock(&p->lock);
        p->st.blocks_created++;
        p->st.live++;
        p->st.gets++;
        pthread_mutex_unlock(&p->lock);
    }
    b->next = NULL;
    atomic_init(&b->refs, 0);
    return b;
}

/* Gives a block back. It is cached unless the pool is closed, the cache is
 * full, or someone took an extra AVBufferRef on it (then that holder's unref
 * frees the memory later and we must not recycle it under their feet). */
static void pool_put(struct nl_rtp_block *b)
{
    nl_rtp_pool *p = b->pool;
    pthread_mutex_lock(&p->lock);
    p->st.live--;
    bool keep = !p->closed && p->st.cached_bytes + b->cap <= p->max_cached_bytes &&
                av_buffer_get_ref_count(b->buf) == 1;
    if (keep) {
        b->next = p->free_list[b->cls];
        p->free_list[b->cls] = b;
        p->st.cached++;
        p->st.cached_bytes += b->cap;
    } else {
        p->st.blocks_freed++;
    }
    bool last = p->closed && p->st.live == 0;
    pthread_mutex_unlock(&p->lock);
    if (!keep) {
        AVBufferRef *buf = b->buf; /* b lives inside buf's memory */
        av_buffer_unref(&buf);
    }
    if (last)
        pool_free(p);
}

void nl_rtp_pool_close(nl_rtp_pool **pp)
{
    if (!pp || !*pp)
        return;
    nl_rtp_pool *p = *pp;
    *pp = NULL;
    struct nl_rtp_block *idle = NULL;
    pthread_mutex_lock(&p->lock);
    p->closed = true;
    for (int c = 0; c < NCLASSES; c++) {
        while (p->free_list[c]) {
            struct nl_rtp_block *b = p->free_list[c];
            p->free_list[c] = b->next;
            b->next = idle;
            idle = b;
            p->st.blocks_freed++;
        }
    }
    p->st.cached = 0;
    p->st.cached_bytes = 0;
    bool last = p->st.live == 0;
    pthread_mutex_unlock(&p->lock);
    while (idle) {
        struct nl_rtp_block *b = idle;
        idle = b->next;
        AVBufferRef *buf = b->buf;
        av_buffer_unref(&buf);
    }
    if (last)
        pool_free(p);
}

size_t nl_rtp_pool_trim(nl_rtp_pool *p, size_t keep_bytes)
{
    struct nl_rtp_block *idle = NULL;
    size_t released = 0;
    pthread_mutex_lock(&p->lock);
    for (int c = NCLASSES - 1; c >= 0 && p->st.cached_bytes > keep_bytes; c--) {
        while (p->free_list[c] && p->st.cached_bytes > keep_bytes) {
            struct nl_rtp_block *b = p->free_list[c];
            p->free_list[c] = b->next;
            b->next = idle;
            idle = b;
            p->st.cached--;
            p->st.cached_bytes -= b->cap;
            p->st.blocks_freed++;
            released += b->cap;
        }
    }
    pthread_mutex_unlock(&p->lock);
    while (idle) {
        struct nl_rtp_block *b = idle;
        idle = b->next;
        AVBufferRef *buf = b->buf;
        av_buffer_unref(&buf);
    }
    return released;
}

void nl_rtp_pool_get_stats(nl_rtp_pool *p, nl_rtp_pool_stats *st)
{
    pthread_mutex_lock(&p->lock);
    *st = p->st;
    pthread_mutex_unlock(&p->lock);
}

/* ---------------------------------------------------------------- frames */

nl_rtp_frame *nl_rtp_frame_ref(const nl_rtp_frame *f)
{
    struct nl_rtp_block *b = (struct nl_rtp_block *)(uintptr_t)f;
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return &b->frame;
}

void nl_rtp_frame_unref(nl_rtp_frame **fp)
{
    if (!fp || !*fp)
        return;
    struct nl_rtp_block *b = (struct nl_rtp_block *)*fp;
    *fp = NULL;
    /* acq_rel: the thread that drops the last reference must see every
     * other thread's reads finished before the block is recycled. */
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        pool_put(b);
}

int nl_rtp_frame_refcount(const nl_rtp_frame *f)
{
    const struct nl_rtp_block *b = (const struct nl_rtp_block *)f;
    return atomic_load_explicit(&b->refs, memory_order_relaxed);
}

int nl_rtp_frame_tcp_iov(const nl_rtp_frame *f, uint8_t rtp_ch, uint8_t rtcp_ch, uint32_t *next,
                         uint8_t *hdr, size_t hdr_size, struct iovec *iov, int max_iov)
{
    if (*next >= f->npkts || max_iov < 1)
        return NL_EINVAL;
    if (rtp_ch == f->rtp_channel && rtcp_ch == f->rtcp_channel) {
        if (*next != 0)
            return NL_EINVAL;
        iov[0].iov_base = (void *)(uintptr_t)f->data;
        iov[0].iov_len = f->size;
        *next = f->npkts;
        return 1;
    }
    size_t room = (size_t)max_iov / 2;
    if (hdr_size / NL_RTP_PREFIX < room)
        room = hdr_size / NL_RTP_PREFIX;
    if (room == 0)
        return NL_EINVAL;
    int n = 0;
    uint32_t i = *next;
    for (size_t k = 0; k < room && i < f->npkts; k++, i++) {
        const nl_rtp_pkt *p = &f->pkts[i];
        uint8_t *h = hdr + k * NL_RTP_PREFIX;
        h[0] = '$';
        h[1] = p->rtcp ? rtcp_ch : rtp_ch;
        h[2] = (uint8_t)(p->len >> 8);
        h[3] = (uint8_t)p->len;
        iov[n].iov_base = h;
        iov[n].iov_len = NL_RTP_PREFIX;
        iov[n + 1].iov_base = (void *)(uintptr_t)(f->data + p->off + NL_RTP_PREFIX);
        iov[n + 1].iov_len = p->len;
        n += 2;
    }
    *next = i;
    return n;
}

/* ---------------------------------------------------------------- builder */

static size_t align4(size_t n)
{
    return (n + 3u) & ~(size_t)3u;
}

int nl_rtp_builder_init(nl_rtp_builder *b, nl_rtp_pool *pool, int track, size_t max_bytes)
{
    memset(b, 0, sizeof(*b));
    if (!pool || track < 0 || track > NL_RTP_MAX_TRACK || max_bytes < 64)
        return NL_EINVAL;
    b->pool = pool;
    b->track = (uint8_t)track;
    b->rtp_ch = (uint8_t)(2 * track);
    b->rtcp_ch = (uint8_t)(2 * track + 1);
    b->max_bytes = max_bytes;
    /* The smallest packet the muxer writes is an 8-byte RTCP header, so this
     * bounds the table without limiting any real frame. */
    b->max_pkts = (uint32_t)(max_bytes / (NL_RTP_PREFIX + 8)) + 1;
    return 0;
}

static void builder_drop_block(nl_rtp_builder *b)
{
    if (b->blk) {
        pool_put(b->blk);
        b->blk = NULL;
    }
}

void nl_rtp_builder_free(nl_rtp_builder *b)
{
    builder_drop_block(b);
    nl__free(b->tab);
    b->tab = NULL;
    b->tab_cap = b->ntab = 0;
}

/* Bytes a block needs for `bytes` of packets plus a table of npkts entries. */
static size_t block_need(size_t bytes, uint32_t npkts)
{
    return align4(bytes) + (size_t)npkts * sizeof(nl_rtp_pkt);
}

int nl_rtp_builder_begin(nl_rtp_builder *b, size_t size_hint)
{
    if (b->blk)
        return NL_ESTATE;
    b->err = 0;
    b->used = 0;
    b->ntab = 0;
    /* Room for prefixes and the table of a typical frame: one entry per
     * ~1400 bytes plus a few small NAL/RTCP packets. */
    size_t hint = size_hint > b->max_bytes ? b->max_bytes : size_hint;
    size_t need = block_need(hint + hint / 64 + 64, (uint32_t)(hint / 1024 + 8));
    int cls = class_for(b->pool, need);
    if (cls < 0)
        cls = b->pool->max_cls;
    b->blk = pool_get(b->pool, cls);
    if (!b->blk) {
        b->err = NL_ENOMEM;
        return NL_ENOMEM;
    }
    return 0;
}

/* Moves the frame in progress into a block of at least `need` bytes. */
static int builder_grow(nl_rtp_builder *b, size_t need)
{
    int cls = class_for(b->pool, need);
    if (cls < 0)
        return NL_ETOOBIG;
    struct nl_rtp_block *nb = pool_get(b->pool, cls);
    if (!nb)
        return NL_ENOMEM;
    memcpy(block_payload(nb), block_payload(b->blk), b->used);
    pool_put(b->blk);
    b->blk = nb;
    return 0;
}

void nl_rtp_builder_add(nl_rtp_builder *b, const uint8_t *pkt, size_t len)
{
    if (!b->blk || b->err)
        return;
    if (len == 0 || len > UINT16_MAX) {
        b->err = NL_EINVAL;
        return;
    }
    if (b->used + NL_RTP_PREFIX + len > b->max_bytes || b->ntab >= b->max_pkts) {
        b->err = NL_ETOOBIG;
        return;
    }
    if (b->ntab == b->tab_cap) {
        uint32_t ncap = b->tab_cap ? b->tab_cap * 2 : 64;
        if (ncap > b->max_pkts)
            ncap = b->max_pkts;
        nl_rtp_pkt *t = nl__realloc(b->tab, (size_t)ncap * sizeof(*t));
        if (!t) {
            b->err = NL_ENOMEM;
            return;
        }
        b->tab = t;
        b->tab_cap = ncap;
    }
    size_t need = block_need(b->used + NL_RTP_PREFIX + len, b->ntab + 1);
    if (need > b->blk->cap) {
        /* Double at least, so a bad hint costs O(log n) copies. */
        size_t want = need > 2 * b->blk->cap ? need : 2 * b->blk->cap;
        int rc = builder_grow(b, want);
        if (rc == NL_ETOOBIG)
            rc = builder_grow(b, need);
        if (rc < 0) {
            b->err = rc;
            return;
        }
    }
    bool rtcp = nl_rtp_is_rtcp(pkt, len);
    uint8_t *w = block_payload(b->blk) + b->used;
    w[0] = '$';
    w[1] = rtcp ? b->rtcp_ch : b->rtp_ch;
    w[2] = (uint8_t)(len >> 8);
    w[3] = (uint8_t)len;
    memcpy(w + NL_RTP_PREFIX, pkt, len);
    b->tab[b->ntab++] = (nl_rtp_pkt){
        .off = (uint32_t)b->used,
        .len = (uint16_t)len,
        .rtcp = rtcp,
        .marker = (uint8_t)(!rtcp && len >= 2 && (pkt[1] & 0x80)),
    };
    b->used += NL_RTP_PREFIX + len;
}

void nl_rtp_builder_abort(nl_rtp_builder *b)
{
    builder_drop_block(b);
    b->used = 0;
    b->ntab = 0;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int nl_rtp_builder_finish(nl_rtp_builder *b, const nl_rtp_frame_meta *meta, nl_rtp_frame **out)
{
    *out = NULL;
    if (!b->blk)
        return b->err ? b->err : NL_ESTATE;
    int err = b->err;
    if (err || b->ntab == 0) {
        nl_rtp_builder_abort(b);
        return err;
    }
    size_t tab_off = align4(b->used);
    size_t need = block_need(b->used, b->ntab);
    if (need > b->blk->cap) {
        err = builder_grow(b, need);
        if (err < 0) {
            nl_rtp_builder_abort(b);
            return err;
        }
    }
    struct nl_rtp_block *blk = b->blk;
    uint8_t *payload = block_payload(blk);
    memcpy(payload + tab_off, b->tab, (size_t)b->ntab * sizeof(nl_rtp_pkt));

    nl_rtp_frame *f = &blk->frame;
    memset(f, 0, sizeof(*f));
    f->data = payload;
    f->size = b->used;
    f->pkts = (const nl_rtp_pkt *)(payload + tab_off);
    f->npkts = b->ntab;
    f->track = b->track;
    f->rtp_channel = b->rtp_ch;
    f->rtcp_channel = b->rtcp_ch;
    f->keyframe = meta->keyframe;
    f->pts = meta->pts;
    f->ssrc = meta->ssrc;
    for (uint32_t i = 0; i < b->ntab; i++) {
        const nl_rtp_pkt *p = &b->tab[i];
        if (p->rtcp || p->len < 12)
            continue;
        const uint8_t *h = payload + p->off + NL_RTP_PREFIX;
        if (f->nrtp == 0) {
            f->first_seq = rd16(h + 2);
            f->first_rtptime = rd32(h + 4);
        }
        f->last_seq = rd16(h + 2);
        f->nrtp++;
    }
    f->buf = blk->buf;
    atomic_store_explicit(&blk->refs, 1, memory_order_release);
    b->blk = NULL;
    *out = f;
    return 0;
}
