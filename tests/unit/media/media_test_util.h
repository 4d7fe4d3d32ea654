/* Helpers shared by the media unit tests: run a byte stream through the
 * public demuxer with a chosen chunking, and keep what came out. */
#ifndef NL_MEDIA_TEST_UTIL_H
#define NL_MEDIA_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "neolink/error.h"
#include "neolink/media.h"
#include "test.h"

typedef struct rec {
    nl_media_meta meta;
    uint8_t *data;
    int size;
    int64_t pts, dts;
    int flags;
    int stream_index;
} rec;

typedef struct recs {
    rec *v;
    size_t n, cap;
    nl_media_stats stats;
    int finish_rc;
} recs;

static inline void recs_free(recs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].data);
    free(r->v);
    memset(r, 0, sizeof *r);
}

static inline void recs_drain(nl_media_demux *d, recs *r)
{
    AVPacket *pkt;
    nl_media_meta meta;
    int rc;
    while ((rc = nl_media_demux_next(d, &pkt, &meta)) > 0) {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->v = realloc(r->v, r->cap * sizeof *r->v);
            NL_ASSERT(r->v != NULL);
        }
        rec *e = &r->v[r->n++];
        e->meta = meta;
        e->size = pkt->size;
        e->data = malloc(pkt->size > 0 ? (size_t)pkt->size : 1);
        if (pkt->size)
            memcpy(e->data, pkt->data, (size_t)pkt->size);
        e->pts = pkt->pts;
        e->dts = pkt->dts;
        e->flags = pkt->flags;
        e->stream_index = pkt->stream_index;
        /* Every data packet is refcounted, in µs. */
        if (pkt->size) {
            NL_ASSERT(pkt->buf != NULL);
            NL_ASSERT_EQ(pkt->time_base.num, 1);
            NL_ASSERT_EQ(pkt->time_base.den, 1000000);
        }
    }
    NL_ASSERT_EQ(rc, 0);
}

/* Feeds buf in pieces: the i-th piece has length chunk(i) (>= 1). */
typedef size_t (*chunk_fn)(size_t i, void *ud);

static inline void run_demux_cfg(const uint8_t *buf, size_t len, chunk_fn chunk, void *ud,
                                 const nl_media_demux_config *cfg, recs *out)
{
    nl_media_demux *d = NULL;
    NL_ASSERT_OK(nl_media_demux_create(&d, cfg));
    memset(out, 0, sizeof *out);
    size_t off = 0;
    for (size_t i = 0; off < len; i++) {
        size_t n = chunk ? chunk(i, ud) : len;
        if (n > len - off)
            n = len - off;
        const uint8_t *p = buf + off;
        size_t left = n;
        while (left > 0) {
            size_t used = 0;
            NL_ASSERT_OK(nl_media_demux_feed(d, p, left, &used));
            NL_ASSERT(used <= left);
            p += used;
            left -= used;
            recs_drain(d, out);
        }
        off += n;
    }
    out->finish_rc = nl_media_demux_finish(d);
    recs_drain(d, out);
    nl_media_demux_stats(d, &out->stats);
    nl_media_demux_destroy(&d);
    NL_ASSERT(d == NULL);
}

static inline void run_demux(const uint8_t *buf, size_t len, chunk_fn chunk, void *ud, recs *out)
{
    run_demux_cfg(buf, len, chunk, ud, NULL, out);
}

static inline size_t chunk_one(size_t i, void *ud)
{
    (void)i;
    (void)ud;
    return 1;
}

/* Two pieces: the first *(size_t *)ud bytes, then the rest. */
static inline size_t chunk_split(size_t i, void *ud)
{
    size_t at = *(size_t *)ud;
    return i == 0 ? (at ? at : 1) : SIZE_MAX;
}

/* Asserts two runs produced the same packets. */
static inline void recs_assert_same(const recs *a, const recs *b)
{
    NL_ASSERT_EQ(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const rec *x = &a->v[i], *y = &b->v[i];
        NL_ASSERT_EQ(x->meta.kind, y->meta.kind);
        NL_ASSERT_EQ(x->meta.codec, y->meta.codec);
        NL_ASSERT_EQ(x->size, y->size);
        NL_ASSERT_EQ(x->pts, y->pts);
        NL_ASSERT_EQ(x->flags, y->flags);
        NL_ASSERT_EQ(x->meta.flags, y->meta.flags);
        NL_ASSERT_EQ(x->meta.posix_time, y->meta.posix_time);
        NL_ASSERT_MEMEQ(x->data, y->data, (size_t)x->size);
    }
    NL_ASSERT_UEQ(a->stats.bytes_skipped, b->stats.bytes_skipped);
    for (int k = 0; k < NL_MEDIA_KIND_COUNT; k++)
        NL_ASSERT_UEQ(a->stats.packets[k], b->stats.packets[k]);
}

/* Concatenates files from NL_TEST_DATA/bcmedia into one malloc'd buffer. */
static inline uint8_t *load_cat(const char *const *names, size_t count, size_t *len)
{
    uint8_t *all = NULL;
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/bcmedia/%s", NL_TEST_DATA, names[i]);
        size_t fl;
        unsigned char *f = nl_test_read_file(path, &fl);
        all = realloc(all, n + fl + 1);
        NL_ASSERT(all != NULL);
        memcpy(all + n, f, fl);
        n += fl;
        free(f);
    }
    *len = n;
    return all;
}

#endif
