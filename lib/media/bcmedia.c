/* Incremental BcMedia demuxer. See bcmedia.h for the state machine and
 * baichuan.md §5 for the wire format. */
#include "media/bcmedia.h"

#include <string.h>

#include <libavcodec/defs.h>

#include "core/alloc.h"
#include "media/aac.h"
#include "media/adpcm.h"
#include "neolink/error.h"

static const AVRational us_tb = {1, 1000000};

int nl__bcm_demux_create(nl_media_demux **out, uint32_t max_video)
{
    nl_media_demux *d = nl__calloc(1, sizeof *d);
    if (!d)
        return NL_ENOMEM;
    d->ready_pkt = av_packet_alloc();
    d->out = av_packet_alloc();
    if (!d->ready_pkt || !d->out) {
        nl__bcm_demux_destroy(&d);
        return NL_ENOMEM;
    }
    d->max_video = (max_video == 0 || max_video > NL_BCM_MAX_VIDEO_PAYLOAD)
                       ? NL_BCM_MAX_VIDEO_PAYLOAD
                       : max_video;
    nl__bcm_demux_reset(d);
    *out = d;
    return 0;
}

void nl__bcm_demux_destroy(nl_media_demux **dp)
{
    if (!dp || !*dp)
        return;
    nl_media_demux *d = *dp;
    av_buffer_unref(&d->body);
    av_packet_free(&d->ready_pkt);
    av_packet_free(&d->out);
    /* Buffers still referenced by the caller's packets keep their pool
     * alive until they are released. */
    for (int i = 0; i < NL_BCM_POOL_CLASSES; i++)
        av_buffer_pool_uninit(&d->pools[i]);
    nl__free(d);
    *dp = NULL;
}

void nl__bcm_demux_reset(nl_media_demux *d)
{
    av_buffer_unref(&d->body);
    av_packet_unref(d->ready_pkt);
    av_packet_unref(d->out);
    d->state = NL__BCM_HDR;
    d->strict = 0;
    d->hdr_have = 0;
    d->body_have = 0;
    d->skip_left = 0;
    d->skipped_run = 0;
    d->cur_skipped = 0;
    d->loss = 0;
    d->ready = 0;
    d->aac_off = 0;
    d->aac_index = d->aac_count = 0;
    nl__video_clock_init(&d->vclock);
    nl__audio_clock_init(&d->aclock);
    nl__vparams_init(&d->vparams);
    memset(&d->afmt, 0, sizeof d->afmt);
    d->have_info = 0;
    memset(&d->info, 0, sizeof d->info);
}

/* A pooled buffer holding n bytes plus zeroed decoder padding. */
static AVBufferRef *get_buffer(nl_media_demux *d, size_t n)
{
    int k = 0;
    while ((size_t)1 << (k + NL_BCM_POOL_MIN_SHIFT) < n)
        k++;
    if (k >= NL_BCM_POOL_CLASSES)
        return NULL; /* the header caps make this unreachable */
    if (!d->pools[k]) {
        size_t sz = ((size_t)1 << (k + NL_BCM_POOL_MIN_SHIFT)) + AV_INPUT_BUFFER_PADDING_SIZE;
        d->pools[k] = av_buffer_pool_init(sz, av_buffer_alloc);
        if (!d->pools[k])
            return NULL;
    }
    AVBufferRef *b = av_buffer_pool_get(d->pools[k]);
    if (b)
        memset(b->data + n, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    return b;
}

/* Throws away n bytes that belong to no packet. */
static void skip_garbage(nl_media_demux *d, size_t n)
{
    if (!d->strict) {
        d->strict = 1;
        d->stats.resyncs++;
    }
    d->skipped_run += n;
    d->stats.bytes_skipped += n;
}

/* The held bytes do not start a packet: drop the first one and everything
 * up to the next position where a magic could start. */
static void resync_drop(nl_media_demux *d)
{
    size_t k = 1;
    while (k < d->hdr_have && !nl__bcm_magic_prefix_ok(d->hdr + k, d->hdr_have - k))
        k++;
    skip_garbage(d, k);
    memmove(d->hdr, d->hdr + k, d->hdr_have - k);
    d->hdr_have -= k;
}

static void drop_packet(nl_media_demux *d)
{
    av_packet_unref(d->ready_pkt);
    d->stats.packets_dropped++;
    d->loss = 1;
}

static void start_meta(nl_media_demux *d, nl_media_meta *m)
{
    const nl__bcm_hdr *h = &d->cur;
    memset(m, 0, sizeof *m);
    m->kind = h->kind;
    m->codec = h->codec;
    m->channel = h->channel;
    m->payload_size = h->payload_size;
    m->posix_time = -1;
    m->pts_us = AV_NOPTS_VALUE;
    m->skipped_before = d->cur_skipped;
    if (d->cur_skipped)
        m->flags |= NL_MEDIA_FLAG_RESYNC;
    if (d->loss)
        m->flags |= NL_MEDIA_FLAG_LOSS;
    d->loss = 0;
}

static void finish_video(nl_media_demux *d, AVPacket *pkt, nl_media_meta *m)
{
    const nl__bcm_hdr *h = &d->cur;
    int64_t step = 0;
    if (d->have_info && d->info.fps > 0 && d->info.fps <= 240)
        step = 1000000 / d->info.fps;
    int ev;
    int64_t ts = nl__video_clock_unwrap(&d->vclock, h->ts_us, step, &ev);
    if (ev & NL__CLOCK_RESET) {
        m->flags |= NL_MEDIA_FLAG_CLOCK_RESET;
        d->stats.clock_resets++;
    }
    if (ev & NL__CLOCK_BACK) {
        m->flags |= NL_MEDIA_FLAG_CLOCK_BACK;
        d->stats.clock_backsteps++;
    }
    pkt->pts = pkt->dts = ts;
    pkt->stream_index = 0;
    if (h->kind == NL_MEDIA_KIND_IFRAME)
        pkt->flags |= AV_PKT_FLAG_KEY;
    m->pts_us = ts;
    m->camera_us = h->ts_us;
    m->unknown20 = h->unknown20;
    m->extra_len = h->extra_len;
    memcpy(m->extra, h->extra, h->extra_len);
    if (h->kind == NL_MEDIA_KIND_IFRAME && h->extra_len >= 4)
        m->posix_time = nl__bcm_rd32(h->extra);

    nl__au_scan scan;
    int rc = nl__vparams_update(&d->vparams, h->codec, pkt->data, (size_t)pkt->size, &scan);
    if (rc > 0)
        m->flags |= NL_MEDIA_FLAG_PARAMS_CHANGED;
    int need_vps = h->codec == NL_MEDIA_CODEC_H265;
    if (scan.has[NL__PS_SPS] && scan.has[NL__PS_PPS] && (!need_vps || scan.has[NL__PS_VPS]))
        m->flags |= NL_MEDIA_FLAG_HAS_PARAMS;
    d->ready = 1;
}

static void set_audio_format(nl_media_demux *d, nl_media_meta *m, nl_media_codec codec, int rate,
                             int channels, const uint8_t *asc, int asc_len)
{
    nl_media_audio_format *f = &d->afmt;
    if (f->codec == codec && f->sample_rate == rate && f->channels == channels &&
        f->asc_len == asc_len && (asc_len == 0 || memcmp(f->asc, asc, 2) == 0))
        return;
    f->codec = codec;
    f->sample_rate = rate;
    f->channels = channels;
    f->asc_len = asc_len;
    if (asc_len)
        memcpy(f->asc, asc, 2);
    m->flags |= NL_MEDIA_FLAG_PARAMS_CHANGED;
}

static void finish_adpcm(nl_media_demux *d, AVPacket *pkt, nl_media_meta *m)
{
    nl__adpcm_state st;
    if (nl__adpcm_read_header(pkt->data, (size_t)pkt->size, &st) < 0) {
        drop_packet(d);
        return;
    }
    int n = (int)nl__adpcm_block_samples((size_t)pkt->size);
    set_audio_format(d, m, NL_MEDIA_CODEC_ADPCM, NL_ADPCM_RATE, 1, NULL, 0);
    int64_t pts = nl__audio_clock_next(&d->aclock, &d->vclock, NL_ADPCM_RATE, n);
    pkt->pts = pkt->dts = pts;
    pkt->duration = (int64_t)n * 1000000 / NL_ADPCM_RATE;
    pkt->stream_index = 1;
    pkt->flags |= AV_PKT_FLAG_KEY;
    m->pts_us = pts;
    m->sample_rate = NL_ADPCM_RATE;
    m->channels = 1;
    m->nb_samples = n;
    d->ready = 1;
}

/* Counts the usable ADTS frames at the start of the payload. Frames after a
 * damaged one are not trusted. */
static int count_adts(const uint8_t *p, size_t len, nl__adts *first)
{
    int count = 0;
    size_t off = 0;
    nl__adts h;
    while (off < len && nl__adts_parse(p + off, len - off, &h) == 0 && h.frame_len > h.hdr_len) {
        if (count == 0)
            *first = h;
        else if (h.sf_index != first->sf_index || h.channel_config != first->channel_config)
            break; /* one output stream cannot change format mid-packet */
        count++;
        off += h.frame_len;
    }
    return count;
}

static void finish_aac(nl_media_demux *d, AVPacket *pkt, nl_media_meta *m)
{
    nl__adts first;
    int n = count_adts(pkt->data, (size_t)pkt->size, &first);
    if (n == 0) {
        drop_packet(d);
        return;
    }
    uint8_t asc[2];
    nl__adts_asc(&first, asc);
    set_audio_format(d, m, NL_MEDIA_CODEC_AAC, (int)first.sample_rate, (int)first.channels, asc, 2);
    pkt->stream_index = 1;
    pkt->flags |= AV_PKT_FLAG_KEY;
    m->sample_rate = (int)first.sample_rate;
    m->channels = (int)first.channels;
    d->aac_off = 0;
    d->aac_index = 0;
    d->aac_count = n;
    d->ready = 1;
}

static void finish_info(nl_media_demux *d)
{
    nl_media_meta *m = &d->ready_meta;
    start_meta(d, m);
    d->info = d->cur.info;
    d->have_info = 1;
    m->info = d->info;
    d->stats.packets[NL_MEDIA_KIND_INFO]++;
    d->ready = 1;
}

/* The payload is complete: turn it into the waiting packet. */
static void finish_body(nl_media_demux *d)
{
    const nl__bcm_hdr *h = &d->cur;
    nl_media_meta *m = &d->ready_meta;
    AVPacket *pkt = d->ready_pkt;
    start_meta(d, m);
    pkt->buf = d->body;
    d->body = NULL;
    pkt->data = pkt->buf->data;
    pkt->size = (int)h->payload_len;
    pkt->time_base = us_tb;
    d->stats.packets[h->kind]++;
    switch (h->kind) {
    case NL_MEDIA_KIND_IFRAME:
    case NL_MEDIA_KIND_PFRAME:
        finish_video(d, pkt, m);
        break;
    case NL_MEDIA_KIND_AAC:
        finish_aac(d, pkt, m);
        break;
    default:
        finish_adpcm(d, pkt, m);
        break;
    }
    d->skip_left = h->pad_len;
    d->state = h->pad_len ? NL__BCM_PAD : NL__BCM_HDR;
}

/* A valid header of hlen bytes is held; bytes after it (peeked while
 * resynchronising) are the first payload bytes. */
static int accept_header(nl_media_demux *d, int hlen)
{
    const nl__bcm_hdr *h = &d->cur;
    size_t extra = d->hdr_have - (size_t)hlen;
    d->strict = 0;
    d->cur_skipped = d->skipped_run;
    d->skipped_run = 0;
    d->hdr_have = 0;
    if (h->kind == NL_MEDIA_KIND_INFO) {
        finish_info(d);
        return 0;
    }
    d->body = get_buffer(d, h->payload_len);
    if (!d->body) {
        d->stats.packets[h->kind]++;
        d->stats.packets_dropped++;
        d->loss = 1;
        d->skip_left = h->payload_len + h->pad_len - (uint32_t)extra;
        d->state = d->skip_left ? NL__BCM_DISCARD : NL__BCM_HDR;
        return NL_ENOMEM;
    }
    memcpy(d->body->data, d->hdr + hlen, extra);
    d->body_have = (uint32_t)extra;
    d->state = NL__BCM_BODY;
    if (d->body_have == h->payload_len)
        finish_body(d);
    return 0;
}

int nl__bcm_demux_feed(nl_media_demux *d, const uint8_t *data, size_t len, size_t *consumed)
{
    size_t i = 0;
    int rc = 0;
    while (i < len) {
        size_t avail = len - i, n;
        switch (d->state) {
        case NL__BCM_PAD:
        case NL__BCM_DISCARD:
            n = avail < d->skip_left ? avail : d->skip_left;
            i += n;
            d->skip_left -= (uint32_t)n;
            if (!d->skip_left)
                d->state = NL__BCM_HDR;
            break;
        case NL__BCM_BODY:
            n = d->cur.payload_len - d->body_have;
            if (n > avail)
                n = avail;
            memcpy(d->body->data + d->body_have, data + i, n);
            d->body_have += (uint32_t)n;
            i += n;
            if (d->body_have == d->cur.payload_len)
                finish_body(d);
            break;
        case NL__BCM_HDR: {
            if (d->ready)
                goto out; /* the slot is full: let the caller take it */
            if (d->hdr_have == 0) {
                /* Every magic starts with a digit: skip the rest fast. */
                size_t j = i;
                while (j < len && (data[j] < '0' || data[j] > '9'))
                    j++;
                if (j > i) {
                    skip_garbage(d, j - i);
                    i = j;
                    break;
                }
            }
            size_t need = 0;
            int r =
                nl__bcm_parse_header(d->hdr, d->hdr_have, d->strict, d->max_video, &d->cur, &need);
            if (r == 0) {
                n = need - d->hdr_have;
                if (n > avail)
                    n = avail;
                memcpy(d->hdr + d->hdr_have, data + i, n);
                d->hdr_have += n;
                i += n;
            } else if (r < 0) {
                resync_drop(d);
            } else {
                int a = accept_header(d, r);
                if (a < 0)
                    rc = a;
            }
            break;
        }
        }
    }
    /* Bytes fed may complete a header without more input coming. */
    while (d->state == NL__BCM_HDR && !d->ready && d->hdr_have > 0) {
        size_t need = 0;
        int r = nl__bcm_parse_header(d->hdr, d->hdr_have, d->strict, d->max_video, &d->cur, &need);
        if (r == 0)
            break;
        if (r < 0) {
            resync_drop(d);
        } else {
            int a = accept_header(d, r);
            if (a < 0)
                rc = a;
        }
    }
out:
    *consumed = i;
    d->stats.bytes_fed += i;
    return rc;
}

static int emit_aac(nl_media_demux *d, nl_media_meta *meta)
{
    AVPacket *src = d->ready_pkt, *out = d->out;
    nl__adts h;
    uint8_t *base = src->data;
    /* Validated by count_adts when the packet was finished. */
    nl__adts_parse(base + d->aac_off, (size_t)src->size - d->aac_off, &h);
    int last = d->aac_index + 1 >= d->aac_count;
    if (last) {
        av_packet_move_ref(out, src);
    } else {
        out->buf = av_buffer_ref(src->buf);
        if (!out->buf)
            return NL_ENOMEM;
        av_packet_copy_props(out, src);
    }
    out->data = base + d->aac_off + h.hdr_len;
    out->size = (int)(h.frame_len - h.hdr_len);
    int ns = (int)nl__adts_samples(&h);
    int64_t pts = nl__audio_clock_next(&d->aclock, &d->vclock, (int)h.sample_rate, ns);
    out->pts = out->dts = pts;
    out->duration = (int64_t)ns * 1000000 / h.sample_rate;
    nl_media_meta *m = &d->ready_meta;
    m->pts_us = pts;
    m->nb_samples = ns;
    m->sub_index = d->aac_index;
    m->sub_count = d->aac_count;
    if (meta)
        *meta = *m;
    /* Resync/loss marks belong to the first frame only. */
    m->flags &=
        ~(uint32_t)(NL_MEDIA_FLAG_RESYNC | NL_MEDIA_FLAG_LOSS | NL_MEDIA_FLAG_PARAMS_CHANGED);
    m->skipped_before = 0;
    d->aac_off += h.frame_len;
    d->aac_index++;
    d->stats.aac_frames++;
    if (last)
        d->ready = 0;
    return 1;
}

int nl__bcm_demux_next(nl_media_demux *d, AVPacket **pkt, nl_media_meta *meta)
{
    av_packet_unref(d->out);
    *pkt = d->out;
    if (!d->ready)
        return 0;
    if (d->ready_meta.kind == NL_MEDIA_KIND_AAC)
        return emit_aac(d, meta);
    av_packet_move_ref(d->out, d->ready_pkt);
    d->out->time_base = us_tb;
    if (meta)
        *meta = d->ready_meta;
    d->ready = 0;
    return 1;
}

int nl__bcm_demux_finish(nl_media_demux *d)
{
    /* Bytes of an incomplete packet count as skipped; a packet already being
     * discarded was counted as dropped. Missing padding is harmless: the
     * packet it follows is complete. */
    int truncated = 1;
    switch (d->state) {
    case NL__BCM_HDR:
        truncated = d->hdr_have > 0;
        d->stats.bytes_skipped += d->hdr_have;
        break;
    case NL__BCM_BODY:
        d->stats.bytes_skipped += d->cur.hdr_len + d->body_have;
        av_buffer_unref(&d->body);
        break;
    case NL__BCM_DISCARD:
        break;
    case NL__BCM_PAD:
        truncated = 0;
        break;
    }
    d->state = NL__BCM_HDR;
    d->hdr_have = 0;
    d->body_have = 0;
    d->skip_left = 0;
    d->strict = 0;
    d->skipped_run = 0;
    return truncated ? NL_EEOF : 0;
}
