/* Snapshots: keep a reference to a stream's latest key frame (cheap, any
 * thread), and turn it into a JPEG only when someone asks (decode one
 * access unit, scale to full-range yuvj420p, libavcodec's mjpeg encoder).
 *
 * The JPEG is cached: a request is answered from the cache when the cached
 * JPEG shows the latest key frame, or is younger than cache_ms. So a burst of
 * requests costs one decode, and a camera with a 2 s GOP is decoded at most
 * once per key frame.
 *
 * Locking: `mu` guards the key frame and the cache and is only held for
 * reference counting and copies; `work_mu` serialises the decoding, so two
 * requests never decode the same frame twice and push never waits for a
 * decode. */
#include <pthread.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "hw/decoder.h"
#include "hw/hw_stats.h"
#include "hw/scaler.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"

#define SNAP_DEFAULT_CACHE_MS 1000u
#define SNAP_DEFAULT_QUALITY  3
/* Parameter sets given out of band: a few hundred bytes in practice. */
#define SNAP_EXTRADATA_MAX 4096
/* Elementary-stream bytes are copied into a padded buffer this big at a
 * time: libavcodec's parsers read up to AV_INPUT_BUFFER_PADDING_SIZE bytes
 * past the input, which the caller's buffer does not promise. */
#define SNAP_FEED_CHUNK 65536

struct nl_snapshot {
    nl_ctx *ctx;
    nl_snapshot_config cfg;
    pthread_mutex_t mu;
    pthread_mutex_t work_mu;

    /* Under mu. */
    AVPacket *key;
    nl_media_codec key_codec;
    uint64_t key_gen; /* increments with every key frame kept */
    uint8_t *extradata;
    size_t extradata_len;
    AVPacket *jpeg; /* cache */
    uint64_t jpeg_gen;
    uint64_t jpeg_ns;
    nl_snapshot_info jpeg_info;

    /* Feeder only (nl_snapshot_feed). */
    AVCodecParserContext *parser;
    AVCodecContext *parse_ctx;
    nl_media_codec parse_codec;
    AVPacket *fed;
    int64_t fed_index;
    int keys_fed;
    uint8_t *feed_buf; /* SNAP_FEED_CHUNK + padding: libav parsers read past the end */
};

NL_EXPORT int nl_snapshot_create(nl_snapshot **out, nl_ctx *ctx, const nl_snapshot_config *cfg)
{
    if (!out)
        return NL_EINVAL;
    *out = NULL;
    nl_snapshot_config c = {0};
    if (cfg)
        c = *cfg;
    if (c.width < 0 || c.height < 0 || c.width > NL_HW_MAX_SIDE || c.height > NL_HW_MAX_SIDE ||
        c.quality < 0 || c.quality > 31 || c.quality == 1)
        return NL_EINVAL;
    if (!c.quality)
        c.quality = SNAP_DEFAULT_QUALITY;
    if (!c.cache_ms)
        c.cache_ms = SNAP_DEFAULT_CACHE_MS;
    nl_snapshot *s = nl__calloc(1, sizeof *s);
    if (!s)
        return NL_ENOMEM;
    s->ctx = ctx;
    s->cfg = c;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        nl__free(s);
        return NL_ENOMEM;
    }
    if (pthread_mutex_init(&s->work_mu, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        nl__free(s);
        return NL_ENOMEM;
    }
    if (!(s->key = av_packet_alloc()) || !(s->jpeg = av_packet_alloc())) {
        nl_snapshot_destroy(&s);
        return NL_ENOMEM;
    }
    *out = s;
    return 0;
}

NL_EXPORT void nl_snapshot_destroy(nl_snapshot **sp)
{
    if (!sp || !*sp)
        return;
    nl_snapshot *s = *sp;
    av_packet_free(&s->key);
    av_packet_free(&s->jpeg);
    av_packet_free(&s->fed);
    nl__free(s->feed_buf);
    av_parser_close(s->parser);
    avcodec_free_context(&s->parse_ctx);
    nl__free(s->extradata);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->work_mu);
    nl__free(s);
    *sp = NULL;
}

NL_EXPORT int nl_snapshot_push(nl_snapshot *s, nl_media_codec codec, const AVPacket *pkt)
{
    if (!s || !pkt || (codec != NL_MEDIA_CODEC_H264 && codec != NL_MEDIA_CODEC_H265))
        return NL_EINVAL;
    if (!(pkt->flags & AV_PKT_FLAG_KEY) || pkt->size <= 0)
        return 0;
    pthread_mutex_lock(&s->mu);
    av_packet_unref(s->key);
    int rc = av_packet_ref(s->key, pkt) < 0 ? NL_ENOMEM : 1;
    if (rc == 1) {
        s->key_codec = codec;
        s->key_gen++;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

NL_EXPORT int nl_snapshot_set_extradata(nl_snapshot *s, const uint8_t *data, size_t len)
{
    if (!s || (!data && len) || len > SNAP_EXTRADATA_MAX)
        return NL_EINVAL;
    uint8_t *copy = NULL;
    if (len && !(copy = nl__malloc(len)))
        return NL_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    pthread_mutex_lock(&s->mu);
    nl__free(s->extradata);
    s->extradata = copy;
    s->extradata_len = len;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* ------------------------------------------------------------ elementary stream input */

static int parser_open(nl_snapshot *s, nl_media_codec codec)
{
    av_parser_close(s->parser);
    s->parser = NULL;
    avcodec_free_context(&s->parse_ctx);
    enum AVCodecID id = codec == NL_MEDIA_CODEC_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
    if (!(s->parser = av_parser_init(id)) || !(s->parse_ctx = avcodec_alloc_context3(NULL)) ||
        (!s->fed && !(s->fed = av_packet_alloc())) ||
        (!s->feed_buf &&
         !(s->feed_buf = nl__malloc(SNAP_FEED_CHUNK + AV_INPUT_BUFFER_PADDING_SIZE))))
        return NL_ENOMEM;
    s->parse_codec = codec;
    return 0;
}

/* One access unit out of the parser: keep it if it is a key frame. */
static int parsed_unit(nl_snapshot *s, const uint8_t *au, int size)
{
    int64_t index = s->fed_index++;
    if (s->parser->key_frame != 1)
        return 0;
    av_packet_unref(s->fed);
    if (av_new_packet(s->fed, size) < 0)
        return NL_ENOMEM;
    memcpy(s->fed->data, au, (size_t)size);
    s->fed->flags |= AV_PKT_FLAG_KEY;
    s->fed->pts = s->fed->dts = index;
    int rc = nl_snapshot_push(s, s->parse_codec, s->fed);
    av_packet_unref(s->fed);
    if (rc == 1)
        s->keys_fed++;
    return rc < 0 ? rc : 0;
}

NL_EXPORT int nl_snapshot_feed(nl_snapshot *s, nl_media_codec codec, const uint8_t *data,
                               size_t len)
{
    if (!s || (codec != NL_MEDIA_CODEC_H264 && codec != NL_MEDIA_CODEC_H265) || (!data && len))
        return NL_EINVAL;
    int rc;
    if ((!s->parser || s->parse_codec != codec) && (rc = parser_open(s, codec)) < 0)
        return rc;
    int end = data == NULL;
    size_t avail = 0; /* bytes of feed_buf not yet taken by the parser */
    const uint8_t *p = s->feed_buf;
    do {
        if (avail == 0 && len > 0) {
            avail = len < SNAP_FEED_CHUNK ? len : SNAP_FEED_CHUNK;
            memcpy(s->feed_buf, data, avail);
            memset(s->feed_buf + avail, 0, AV_INPUT_BUFFER_PADDING_SIZE);
            data += avail;
            len -= avail;
            p = s->feed_buf;
        }
        uint8_t *au = NULL;
        int au_size = 0;
        int used = av_parser_parse2(s->parser, s->parse_ctx, &au, &au_size, end ? NULL : p,
                                    (int)avail, AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
        if (used < 0)
            return NL_ECODEC;
        p += used;
        avail -= (size_t)used;
        if (au_size > 0 && (rc = parsed_unit(s, au, au_size)) < 0)
            return rc;
        /* At the end, the parser is called with no data until it has
         * returned its last unit. */
        if (end && au_size == 0)
            break;
    } while (avail > 0 || len > 0 || end);
    return s->keys_fed;
}

/* ------------------------------------------------------------ JPEG */

static int decode_key(nl_snapshot *s, const AVPacket *key, nl_media_codec codec,
                      const uint8_t *extradata, size_t extra_len, nl__decoder *dec, AVFrame **out)
{
    int rc = nl__decoder_open(dec, s->ctx, "snapshot", codec, NULL, 1);
    if (rc < 0)
        return rc;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return NL_ENOMEM;
    rc = av_packet_ref(pkt, key) < 0 ? NL_ENOMEM : 0;
    if (rc == 0 && extra_len) {
        /* Parameter sets in front of the key frame: the decoder takes
         * in-band sets from any access unit. */
        AVPacket *joined = av_packet_alloc();
        if (!joined || av_new_packet(joined, (int)extra_len + key->size) < 0) {
            av_packet_free(&joined);
            rc = NL_ENOMEM;
        } else {
            memcpy(joined->data, extradata, extra_len);
            memcpy(joined->data + extra_len, key->data, (size_t)key->size);
            av_packet_copy_props(joined, key);
            av_packet_unref(pkt);
            av_packet_move_ref(pkt, joined);
            av_packet_free(&joined);
        }
    }
    if (rc == 0)
        rc = nl__decoder_send(dec, pkt);
    av_packet_free(&pkt);
    if (rc < 0)
        return rc;
    nl__decoder_send(dec, NULL); /* drain: one packet in, its picture out */
    for (;;) {
        rc = nl__decoder_receive(dec, out);
        if (rc == 0)
            return 0;
        if (rc != NL_EAGAIN)
            return NL_ECODEC;
    }
}

static int encode_jpeg(nl_snapshot *s, const AVFrame *src, AVPacket *jpeg, int *w, int *h)
{
    nl__hw_fit_size(src->width, src->height, s->cfg.width, s->cfg.height, w, h);
    nl__scaler sc;
    nl__scaler_init(&sc);
    const AVFrame *f;
    int rc = nl__scaler_convert(&sc, src, *w, *h, AV_PIX_FMT_YUVJ420P, &f);
    AVCodecContext *enc = NULL;
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (rc == 0 && !codec)
        rc = NL_ECODEC;
    if (rc == 0 && !(enc = avcodec_alloc_context3(codec)))
        rc = NL_ENOMEM;
    if (rc == 0) {
        enc->width = *w;
        enc->height = *h;
        enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
        enc->color_range = AVCOL_RANGE_JPEG;
        enc->time_base = (AVRational){1, 25};
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = s->cfg.quality * FF_QP2LAMBDA;
        enc->qmin = enc->qmax = s->cfg.quality;
        if (avcodec_open2(enc, codec, NULL) < 0)
            rc = NL_ECODEC;
    }
    AVFrame *in = NULL;
    if (rc == 0) {
        /* The converted frame belongs to the scaler; the encoder gets a
         * reference with the quality the quantiser needs. */
        if (!(in = av_frame_alloc()) || av_frame_ref(in, f) < 0) {
            rc = NL_ENOMEM;
        } else {
            in->quality = enc->global_quality;
            in->pts = 0;
            in->pict_type = AV_PICTURE_TYPE_I;
            if (avcodec_send_frame(enc, in) < 0 || avcodec_receive_packet(enc, jpeg) < 0)
                rc = NL_ECODEC;
        }
    }
    av_frame_free(&in);
    avcodec_free_context(&enc);
    nl__scaler_free(&sc);
    return rc;
}

/* Copies the cached JPEG out (mu held). */
static int copy_cache(nl_snapshot *s, uint8_t **out, size_t *len, nl_snapshot_info *info,
                      int cached)
{
    uint8_t *p = nl__malloc((size_t)s->jpeg->size);
    if (!p)
        return NL_ENOMEM;
    memcpy(p, s->jpeg->data, (size_t)s->jpeg->size);
    *out = p;
    *len = (size_t)s->jpeg->size;
    if (info) {
        *info = s->jpeg_info;
        info->cached = cached;
    }
    return 0;
}

/* The cache answers when it shows the latest key frame, or is young. */
static int cache_fresh(const nl_snapshot *s, uint64_t now)
{
    if (!s->jpeg->size)
        return 0;
    return s->jpeg_gen == s->key_gen || now - s->jpeg_ns < s->cfg.cache_ms * NL_NS_PER_MS;
}

NL_EXPORT int nl_snapshot_get(nl_snapshot *s, uint8_t **jpeg, size_t *len, nl_snapshot_info *info)
{
    if (!s || !jpeg || !len)
        return NL_EINVAL;
    *jpeg = NULL;
    *len = 0;
    pthread_mutex_lock(&s->work_mu);
    pthread_mutex_lock(&s->mu);
    if (!s->key->size) {
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_unlock(&s->work_mu);
        return NL_EAGAIN;
    }
    int rc;
    if (cache_fresh(s, nl_time_mono_ns())) {
        rc = copy_cache(s, jpeg, len, info, 1);
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_unlock(&s->work_mu);
        if (rc == 0)
            nl__hw_count(NL__HWC_SNAP_CACHE_HITS, 1);
        return rc;
    }
    /* Take what the decode needs, then let pushes go on meanwhile. */
    AVPacket *key = av_packet_alloc();
    uint8_t *extra = NULL;
    size_t extra_len = s->extradata_len;
    rc = !key || av_packet_ref(key, s->key) < 0 ? NL_ENOMEM : 0;
    if (rc == 0 && extra_len && (extra = nl__malloc(extra_len)))
        memcpy(extra, s->extradata, extra_len);
    else
        extra_len = 0;
    nl_media_codec codec = s->key_codec;
    uint64_t gen = s->key_gen;
    pthread_mutex_unlock(&s->mu);

    nl__decoder dec = {0};
    AVFrame *frame = NULL;
    AVPacket *out = av_packet_alloc();
    int w = 0, h = 0;
    if (rc == 0 && !out)
        rc = NL_ENOMEM;
    if (rc == 0)
        rc = decode_key(s, key, codec, extra, extra_len, &dec, &frame);
    if (rc == 0)
        rc = encode_jpeg(s, frame, out, &w, &h);
    nl__decoder_close(&dec);
    if (rc < 0 && rc != NL_ENOMEM)
        NL_LOGW(s->ctx, "snapshot", "cannot make a JPEG of the %s key frame: %s",
                nl_media_codec_name(codec), nl_strerror(rc));
    pthread_mutex_lock(&s->mu);
    if (rc == 0) {
        av_packet_unref(s->jpeg);
        av_packet_move_ref(s->jpeg, out);
        s->jpeg_gen = gen;
        s->jpeg_ns = nl_time_mono_ns();
        s->jpeg_info = (nl_snapshot_info){.width = w, .height = h, .pts = key->pts};
        nl__hw_count(NL__HWC_SNAPSHOTS, 1);
        rc = copy_cache(s, jpeg, len, info, 0);
    }
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_unlock(&s->work_mu);
    av_packet_free(&out);
    av_packet_free(&key);
    nl__free(extra);
    return rc;
}

NL_EXPORT void nl_snapshot_free_jpeg(uint8_t **jpeg)
{
    if (!jpeg || !*jpeg)
        return;
    nl__free(*jpeg);
    *jpeg = NULL;
}
