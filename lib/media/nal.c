/* Annex-B scanning and the parameter-set cache. See nal.h. */
#include "media/nal.h"

#include <string.h>

#include <libavutil/buffer.h>
#include <libavcodec/defs.h>

#include "neolink/error.h"

size_t nl__nal_find_start(const uint8_t *buf, size_t len, size_t from)
{
    /* Look at the third byte of a candidate first: it must be 1 and the two
     * before it 0, so most positions are rejected by one compare, and a
     * byte > 1 lets us jump 3 ahead. */
    size_t i = from + 2;
    while (i < len) {
        uint8_t c = buf[i];
        if (c > 1) {
            i += 3;
        } else if (c == 0) {
            i += 1;
        } else if (buf[i - 1] == 0 && buf[i - 2] == 0) {
            return i + 1;
        } else {
            i += 3;
        }
    }
    return len;
}

size_t nl__nal_find_end(const uint8_t *buf, size_t len, size_t start, size_t *next)
{
    size_t after = nl__nal_find_start(buf, len, start);
    /* find_start returns len both for "none" and for a start code that ends
     * the buffer; tell them apart. */
    int found = after < len ||
                (len >= start + 3 && buf[len - 1] == 1 && buf[len - 2] == 0 && buf[len - 3] == 0);
    size_t sc = found ? after - 3 : len; /* the 00 00 01 itself */
    size_t end = sc;
    while (end > start && buf[end - 1] == 0)
        end--;
    if (next)
        *next = sc;
    return end;
}

int nl__nal_type(nl_media_codec codec, uint8_t b)
{
    return codec == NL_MEDIA_CODEC_H265 ? (b >> 1) & 0x3f : b & 0x1f;
}

int nl__nal_next(nl_media_codec codec, const uint8_t *buf, size_t len, size_t *pos, nl__nal *nal)
{
    size_t start = nl__nal_find_start(buf, len, *pos);
    if (start >= len)
        return 0;
    size_t next;
    size_t end = nl__nal_find_end(buf, len, start, &next);
    nal->data = buf + start;
    nal->size = end - start;
    nal->type = nal->size ? nl__nal_type(codec, buf[start]) : -1;
    *pos = next;
    return 1;
}

int nl__nal_is_vcl(nl_media_codec codec, int type)
{
    if (codec == NL_MEDIA_CODEC_H265)
        return type >= 0 && type <= 31;
    return type >= 1 && type <= 5;
}

int nl__nal_is_keyframe(nl_media_codec codec, int type)
{
    if (codec == NL_MEDIA_CODEC_H265)
        return type >= NL_H265_NAL_BLA_W_LP && type <= NL_H265_NAL_CRA;
    return type == NL_H264_NAL_IDR;
}

int nl__nal_pset_kind(nl_media_codec codec, int type)
{
    if (codec == NL_MEDIA_CODEC_H265) {
        switch (type) {
        case NL_H265_NAL_VPS:
            return NL__PS_VPS;
        case NL_H265_NAL_SPS:
            return NL__PS_SPS;
        case NL_H265_NAL_PPS:
            return NL__PS_PPS;
        default:
            return -1;
        }
    }
    if (codec == NL_MEDIA_CODEC_H264) {
        if (type == NL_H264_NAL_SPS)
            return NL__PS_SPS;
        if (type == NL_H264_NAL_PPS)
            return NL__PS_PPS;
    }
    return -1;
}

/* Calls fn for each unit before the first slice; stops at the slice without
 * scanning it (a slice is nearly the whole frame). */
typedef void (*head_fn)(void *ud, int type, const uint8_t *data, size_t size);

static void walk_head(nl_media_codec codec, const uint8_t *au, size_t len, nl__au_scan *scan,
                      head_fn fn, void *ud)
{
    memset(scan, 0, sizeof *scan);
    scan->first_vcl_type = -1;
    size_t pos = 0;
    for (;;) {
        size_t start = nl__nal_find_start(au, len, pos);
        if (start >= len)
            return;
        int type = nl__nal_type(codec, au[start]);
        if (nl__nal_is_vcl(codec, type)) {
            scan->first_vcl_type = type;
            scan->first_vcl_off = start;
            return;
        }
        size_t next;
        size_t end = nl__nal_find_end(au, len, start, &next);
        int k = nl__nal_pset_kind(codec, type);
        if (k >= 0 && end > start) {
            scan->has[k] = 1;
            if (fn)
                fn(ud, k, au + start, end - start);
        }
        pos = next;
    }
}

void nl__au_scan_head(nl_media_codec codec, const uint8_t *au, size_t len, nl__au_scan *out)
{
    walk_head(codec, au, len, out, NULL, NULL);
}

void nl__psets_init(nl__psets *ps)
{
    ps->codec = NL_MEDIA_CODEC_NONE;
    memset(ps->len, 0, sizeof ps->len);
}

typedef struct update_ctx {
    nl__psets *ps;
    int changed;
} update_ctx;

static void store_pset(void *ud, int kind, const uint8_t *data, size_t size)
{
    update_ctx *u = ud;
    if (size > NL_NAL_PSET_MAX)
        return;
    if (u->ps->len[kind] == size && memcmp(u->ps->data[kind], data, size) == 0)
        return;
    memcpy(u->ps->data[kind], data, size);
    u->ps->len[kind] = (uint16_t)size;
    u->changed = 1;
}

int nl__psets_update(nl__psets *ps, nl_media_codec codec, const uint8_t *au, size_t len,
                     nl__au_scan *scan_out)
{
    update_ctx u = {ps, 0};
    if (ps->codec != codec) {
        nl__psets_init(ps);
        ps->codec = codec;
        u.changed = 1;
    }
    nl__au_scan scan;
    walk_head(codec, au, len, scan_out ? scan_out : &scan, store_pset, &u);
    return u.changed;
}

int nl__psets_complete(const nl__psets *ps)
{
    if (ps->codec == NL_MEDIA_CODEC_H265)
        return ps->len[NL__PS_VPS] && ps->len[NL__PS_SPS] && ps->len[NL__PS_PPS];
    if (ps->codec == NL_MEDIA_CODEC_H264)
        return ps->len[NL__PS_SPS] && ps->len[NL__PS_PPS];
    return 0;
}

int nl__psets_annexb(const nl__psets *ps, uint8_t *out, size_t cap)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    size_t need = 0;
    for (int k = 0; k < NL__PS_COUNT; k++)
        if (ps->len[k])
            need += 4 + ps->len[k];
    if (!out)
        return (int)need;
    if (cap < need)
        return NL_ETOOBIG;
    size_t o = 0;
    for (int k = 0; k < NL__PS_COUNT; k++) {
        if (!ps->len[k])
            continue;
        memcpy(out + o, sc, 4);
        memcpy(out + o + 4, ps->data[k], ps->len[k]);
        o += 4 + ps->len[k];
    }
    return (int)o;
}

int nl__nal_prepend_params(const nl__psets *ps, AVPacket *pkt)
{
    nl_media_codec codec = ps->codec;
    if (codec != NL_MEDIA_CODEC_H264 && codec != NL_MEDIA_CODEC_H265)
        return NL_EAGAIN;
    nl__au_scan scan;
    nl__au_scan_head(codec, pkt->data, (size_t)pkt->size, &scan);
    if (scan.first_vcl_type < 0 || !nl__nal_is_keyframe(codec, scan.first_vcl_type))
        return 0;
    int need_vps = codec == NL_MEDIA_CODEC_H265;
    if (scan.has[NL__PS_SPS] && scan.has[NL__PS_PPS] && (!need_vps || scan.has[NL__PS_VPS]))
        return 0;
    if (!nl__psets_complete(ps))
        return NL_EAGAIN;

    int hdr = nl__psets_annexb(ps, NULL, 0);
    size_t total = (size_t)hdr + (size_t)pkt->size;
    if (total > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return NL_ETOOBIG;
    AVBufferRef *buf = av_buffer_alloc(total + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!buf)
        return NL_ENOMEM;
    nl__psets_annexb(ps, buf->data, (size_t)hdr);
    if (pkt->size)
        memcpy(buf->data + hdr, pkt->data, (size_t)pkt->size);
    memset(buf->data + total, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    av_buffer_unref(&pkt->buf);
    pkt->buf = buf;
    pkt->data = buf->data;
    pkt->size = (int)total;
    return 1;
}
