/* A track's libavformat "rtp" muxer writing into frame buffers.
 *
 * The AVIOContext buffer is exactly one packet, and rtpenc flushes after every
 * RTP packet and every RTCP compound packet, so each write callback is one
 * whole packet (RTSP.md 1.3). The callback only appends to the frame builder;
 * it never returns an error, because an AVIOContext that saw one error
 * silently drops every later write. */
#include <limits.h>
#include <string.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
#include <libavutil/random_seed.h>
#include <libavutil/time.h>

#include "core/alloc.h"
#include "neolink/error.h"
#include "rtp/rtp_mux.h"

struct nl_rtp_mux {
    AVFormatContext *oc;
    AVStream *st;
    AVPacket *pkt; /* scratch: shallow view of the caller's packet */
    AVRational in_tb;
    int64_t origin;
    int64_t last_dts; /* in the stream (RTP clock) time base */
    bool have_last;
    bool header_written;
    bool in_write; /* inside av_write_frame: writes belong to a frame */
    int track;
    int payload_type;
    uint32_t ssrc;
    nl_rtp_pool *pool;
    nl_rtp_builder bld;
    nl_rtp_mux_stats stats;
};

static int map_averror(int e)
{
    if (e == AVERROR(ENOMEM))
        return NL_ENOMEM;
    if (e == AVERROR(EINVAL))
        return NL_EINVAL;
    return NL_ELIBAV;
}

static int on_avio_write(void *opaque, uint8_t *buf, int len)
{
    nl_rtp_mux *m = opaque;
    m->stats.writes++;
    if (len <= 0)
        return 0;
    if (!m->in_write) {
        m->stats.stray_bytes += (uint64_t)len;
        return len;
    }
    nl_rtp_builder_add(&m->bld, buf, (size_t)len);
    return len;
}

static int default_payload_type(const AVCodecParameters *par)
{
    bool mono8k = par->sample_rate == 8000 && par->ch_layout.nb_channels == 1;
    if (par->codec_id == AV_CODEC_ID_PCM_MULAW && mono8k)
        return 0;
    if (par->codec_id == AV_CODEC_ID_PCM_ALAW && mono8k)
        return 8;
    return par->codec_type == AVMEDIA_TYPE_AUDIO ? 97 : 96;
}

static bool is_h26x(enum AVCodecID id)
{
    return id == AV_CODEC_ID_H264 || id == AV_CODEC_ID_HEVC;
}

/* rtpenc switches to length-prefixed input when extradata starts with 1
 * (avcC/hvcC); our input is Annex B, so such extradata is a caller bug. */
static bool extradata_ok(enum AVCodecID id, const uint8_t *data, size_t size)
{
    return !(is_h26x(id) && size > 0 && data[0] == 1);
}

static int validate(const nl_rtp_mux_config *cfg)
{
    const AVCodecParameters *par = cfg->par;
    if (!par || cfg->track < 0 || cfg->track > NL_RTP_MAX_TRACK)
        return NL_EINVAL;
    if (cfg->in_time_base.num <= 0 || cfg->in_time_base.den <= 0)
        return NL_EINVAL;
    if (cfg->payload_type > 127 || cfg->payload_type < -1)
        return NL_EINVAL;
    if (cfg->packet_size &&
        (cfg->packet_size < NL_RTP_PACKET_SIZE_MIN || cfg->packet_size > NL_RTP_PACKET_SIZE_MAX))
        return NL_EINVAL;
    if (cfg->max_frame_bytes > (32u << 20))
        return NL_EINVAL;
    if (!extradata_ok(par->codec_id, par->extradata, (size_t)par->extradata_size))
        return NL_EINVAL;
    /* Without an AudioSpecificConfig rtpenc would strip 7 "ADTS" bytes from
     * every raw AU, and av_sdp_create would fail anyway. */
    if (par->codec_id == AV_CODEC_ID_AAC && par->extradata_size < 2)
        return NL_EINVAL;
    if (par->codec_type == AVMEDIA_TYPE_AUDIO && par->sample_rate <= 0)
        return NL_EINVAL;
    /* avformat_write_header refuses video without dimensions */
    if (par->codec_type == AVMEDIA_TYPE_VIDEO && (par->width <= 0 || par->height <= 0))
        return NL_EINVAL;
    return 0;
}

static int open_output(nl_rtp_mux *m, const nl_rtp_mux_config *cfg, int psize)
{
    int rc = avformat_alloc_output_context2(&m->oc, NULL, "rtp", NULL);
    if (rc < 0 || !m->oc)
        return rc == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ELIBAV;
    m->st = avformat_new_stream(m->oc, NULL);
    if (!m->st)
        return NL_ENOMEM;
    rc = avcodec_parameters_copy(m->st->codecpar, cfg->par);
    if (rc < 0)
        return map_averror(rc);
    m->st->time_base = cfg->in_time_base;

    uint8_t *iobuf = av_malloc((size_t)psize);
    if (!iobuf)
        return NL_ENOMEM;
    m->oc->pb = avio_alloc_context(iobuf, psize, 1, m, NULL, on_avio_write, NULL);
    if (!m->oc->pb) {
        av_free(iobuf);
        return NL_ENOMEM;
    }
    m->oc->pb->max_packet_size = psize;
    m->oc->packet_size = (unsigned)psize;
    /* A URL without a port makes av_sdp_create write "c=IN IP4 0.0.0.0" and
     * "a=control:streamid=N" (RTSP.md 1.4). */
    m->oc->url = av_strdup("rtsp://0.0.0.0");
    if (!m->oc->url)
        return NL_ENOMEM;
    m->oc->start_time_realtime = cfg->start_time_realtime ? cfg->start_time_realtime : av_gettime();
    /* The default would shift this track alone when its first pts is negative
     * (audio slightly before the shared origin), breaking the common clock. */
    m->oc->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    /* max_delay stays at -1: AAC then lags exactly one AU (see rtp_mux.h). */
    return 0;
}

static int write_header(nl_rtp_mux *m, const nl_rtp_mux_config *cfg)
{
    AVDictionary *opts = NULL;
    int rc = av_dict_set_int(&opts, "payload_type", m->payload_type, 0);
    /* The option is a signed int: pass the SSRC's bit pattern. */
    if (rc >= 0)
        rc = av_dict_set_int(&opts, "ssrc", (int32_t)m->ssrc, 0);
    if (rc >= 0)
        rc = av_dict_set(&opts, "cname", cfg->cname ? cfg->cname : "libneolink", 0);
    if (rc < 0) {
        av_dict_free(&opts);
        return NL_ENOMEM;
    }
    rc = avformat_write_header(m->oc, &opts);
    av_dict_free(&opts);
    if (rc < 0)
        return rc == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ECODEC;
    m->header_written = true;
    /* rtpenc forces the stream time base: 1/90000 video, 1/rate audio. */
    if (m->st->time_base.num != 1 || m->st->time_base.den <= 0)
        return NL_ECODEC;
    return 0;
}

int nl_rtp_mux_create(nl_rtp_mux **out, const nl_rtp_mux_config *cfg)
{
    *out = NULL;
    int rc = validate(cfg);
    if (rc < 0)
        return rc;
    nl_rtp_mux *m = nl__calloc(1, sizeof(*m));
    if (!m)
        return NL_ENOMEM;
    m->in_tb = cfg->in_time_base;
    m->origin = cfg->origin;
    m->track = cfg->track;
    m->payload_type = cfg->payload_type >= 0 ? cfg->payload_type : default_payload_type(cfg->par);
    m->ssrc = cfg->ssrc;
    while (m->ssrc == 0)
        m->ssrc = av_get_random_seed();

    size_t max_frame = cfg->max_frame_bytes ? cfg->max_frame_bytes : NL_RTP_MAX_FRAME_BYTES;
    size_t cache = cfg->pool_cache_bytes ? cfg->pool_cache_bytes : NL_RTP_POOL_CACHE_BYTES;
    int psize = cfg->packet_size ? cfg->packet_size : NL_RTP_PACKET_SIZE;
    /* The largest block: max_frame packet bytes plus the largest table. */
    size_t max_block = max_frame + (max_frame / (NL_RTP_PREFIX + 8) + 2) * sizeof(nl_rtp_pkt);

    m->pkt = av_packet_alloc();
    if (!m->pkt) {
        rc = NL_ENOMEM;
        goto fail;
    }
    rc = nl_rtp_pool_create(&m->pool, max_block, cache);
    if (rc < 0)
        goto fail;
    rc = nl_rtp_builder_init(&m->bld, m->pool, cfg->track, max_frame);
    if (rc < 0)
        goto fail;
    rc = open_output(m, cfg, psize);
    if (rc < 0)
        goto fail;
    rc = write_header(m, cfg);
    if (rc < 0)
        goto fail;
    *out = m;
    return 0;
fail:
    nl_rtp_mux_destroy(&m);
    return rc;
}

void nl_rtp_mux_destroy(nl_rtp_mux **mp)
{
    if (!mp || !*mp)
        return;
    nl_rtp_mux *m = *mp;
    *mp = NULL;
    if (m->oc) {
        /* rtpenc frees its packet buffer in write_trailer; nothing is sent
         * (no send_bye), and anything that were is counted as stray. */
        m->in_write = false;
        if (m->header_written)
            av_write_trailer(m->oc);
        if (m->oc->pb) {
            av_freep(&m->oc->pb->buffer);
            avio_context_free(&m->oc->pb);
        }
        avformat_free_context(m->oc);
    }
    av_packet_free(&m->pkt);
    nl_rtp_builder_free(&m->bld);
    nl_rtp_pool_close(&m->pool);
    nl__free(m);
}

int nl_rtp_mux_write(nl_rtp_mux *m, const AVPacket *in, nl_rtp_frame **out)
{
    *out = NULL;
    if (!in || !in->data || in->size <= 0 || in->pts == AV_NOPTS_VALUE)
        return NL_EINVAL;
    AVRational tb = m->st->time_base;
    int64_t pts = av_rescale_q(in->pts - m->origin, m->in_tb, tb);
    int64_t dts = in->dts == AV_NOPTS_VALUE ? pts : av_rescale_q(in->dts - m->origin, m->in_tb, tb);
    if (m->have_last && dts < m->last_dts) {
        dts = m->last_dts;
        m->stats.ts_clamped++;
    }
    if (pts < dts)
        pts = dts;

    /* A view without a buffer reference: av_write_frame then takes no
     * reference of its own, which would cost an allocation per frame. */
    AVPacket *p = m->pkt;
    p->buf = NULL;
    p->data = in->data;
    p->size = in->size;
    p->pts = pts;
    p->dts = dts;
    p->duration = 0;
    p->flags = in->flags & AV_PKT_FLAG_KEY;
    p->stream_index = 0;

    int rc = nl_rtp_builder_begin(&m->bld, (size_t)in->size);
    if (rc < 0) {
        m->stats.dropped++;
        return rc;
    }
    m->in_write = true;
    rc = av_write_frame(m->oc, p);
    m->in_write = false;
    p->data = NULL;
    p->size = 0;
    if (rc < 0) {
        nl_rtp_builder_abort(&m->bld);
        m->stats.dropped++;
        return map_averror(rc);
    }
    m->last_dts = dts;
    m->have_last = true;

    nl_rtp_frame_meta meta = {
        .keyframe = (in->flags & AV_PKT_FLAG_KEY) != 0,
        .pts = in->pts,
        .ssrc = m->ssrc,
    };
    rc = nl_rtp_builder_finish(&m->bld, &meta, out);
    if (rc < 0) {
        m->stats.dropped++;
        return rc;
    }
    if (*out) {
        m->stats.frames++;
        m->stats.rtp_packets += (*out)->nrtp;
        m->stats.rtcp_packets += (*out)->npkts - (*out)->nrtp;
        m->stats.bytes += (*out)->size;
    }
    return 0;
}

int nl_rtp_mux_set_extradata(nl_rtp_mux *m, const uint8_t *data, size_t size)
{
    AVCodecParameters *par = m->st->codecpar;
    if ((size && !data) || size > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE ||
        !extradata_ok(par->codec_id, data, size))
        return NL_EINVAL;
    if (par->codec_id == AV_CODEC_ID_AAC && size < 2)
        return NL_EINVAL;
    uint8_t *e = NULL;
    if (size) {
        e = av_mallocz(size + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!e)
            return NL_ENOMEM;
        memcpy(e, data, size);
    }
    av_freep(&par->extradata);
    par->extradata = e;
    par->extradata_size = (int)size;
    return 0;
}

uint32_t nl_rtp_mux_ssrc(const nl_rtp_mux *m)
{
    return m->ssrc;
}

int nl_rtp_mux_payload_type(const nl_rtp_mux *m)
{
    return m->payload_type;
}

int nl_rtp_mux_clock_rate(const nl_rtp_mux *m)
{
    return m->st->time_base.den;
}

int nl_rtp_mux_track(const nl_rtp_mux *m)
{
    return m->track;
}

void nl_rtp_mux_get_stats(const nl_rtp_mux *m, nl_rtp_mux_stats *st)
{
    *st = m->stats;
}

void nl_rtp_mux_get_pool_stats(const nl_rtp_mux *m, nl_rtp_pool_stats *st)
{
    nl_rtp_pool_get_stats(m->pool, st);
}

size_t nl_rtp_mux_trim(nl_rtp_mux *m, size_t keep_bytes)
{
    return nl_rtp_pool_trim(m->pool, keep_bytes);
}

AVFormatContext *nl__rtp_mux_avctx(nl_rtp_mux *m)
{
    return m->oc;
}
