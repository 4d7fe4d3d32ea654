/* Media side of the simulated camera's unit tests: follow one stream's
 * msg-3 messages, check how they are chunked, demux the BcMedia bytes with
 * lib/media's demuxer and decode the video with libavcodec. */
#ifndef NL_SIM_TEST_MEDIA_H
#define NL_SIM_TEST_MEDIA_H

#include <libavcodec/avcodec.h>

#include "media/bcmedia_wire.h"
#include "neolink/media.h"
#include "sim/synth.h"
#include "sim_test_client.h"

typedef struct tmedia {
    uint32_t corr;
    nl_media_demux *demux;
    AVCodecContext *dec;
    AVFrame *frame;
    int got_reply; /* the 200 start reply with its InfoV2 arrived */
    nl_media_info info;
    /* counters */
    int video, keyframes, audio_aac, audio_adpcm, decoded, messages;
    int64_t first_key_index; /* index among video packets of the first key frame */
    uint32_t last_ts;
    int have_ts;
    int ts_steps_ok, ts_steps_bad;
    uint32_t ts_step; /* expected µs between frames (0: do not check) */
    int counter_ok, counter_bad;
    int64_t last_counter;
    int dec_w, dec_h;
    /* chunking: bytes of the current BcMedia packet still expected in later messages */
    uint64_t chunk_left;
    int chunk_checked, big_packets, chunk_bad;
    int encrypt_len_ok, encrypt_len_bad;
    int adpcm_block_ok;
    uint64_t first_video_ms, tenth_video_ms;
    uint32_t ts_log[512]; /* camera µs of the first video packets */
    int ts_n;
} tmedia;

static inline void tm_init(tmedia *m, uint32_t corr, enum AVCodecID codec)
{
    memset(m, 0, sizeof *m);
    m->corr = corr;
    m->first_key_index = -1;
    m->last_counter = -1;
    NL_ASSERT_OK(nl_media_demux_create(&m->demux, NULL));
    const AVCodec *dc = avcodec_find_decoder(codec);
    NL_ASSERT(dc != NULL);
    m->dec = avcodec_alloc_context3(dc);
    NL_ASSERT(m->dec != NULL);
    m->dec->thread_count = 1;
    NL_ASSERT_EQ(avcodec_open2(m->dec, dc, NULL), 0);
    m->frame = av_frame_alloc();
}

static inline void tm_free(tmedia *m)
{
    nl_media_demux_destroy(&m->demux);
    avcodec_free_context(&m->dec);
    av_frame_free(&m->frame);
}

static inline void tm_decode(tmedia *m, const AVPacket *pkt)
{
    NL_ASSERT_EQ(avcodec_send_packet(m->dec, pkt), 0);
    while (avcodec_receive_frame(m->dec, m->frame) == 0) {
        m->decoded++;
        m->dec_w = m->frame->width;
        m->dec_h = m->frame->height;
        uint32_t v;
        if (nl_synth_read_counter(m->frame->data[0], m->frame->linesize[0], m->frame->width,
                                  m->frame->height, &v) == 0) {
            if (m->last_counter < 0 || v == (uint32_t)m->last_counter + 1)
                m->counter_ok++;
            else
                m->counter_bad++;
            m->last_counter = v;
        }
        av_frame_unref(m->frame);
    }
}

static inline void tm_packet(tmedia *m, const AVPacket *pkt, const nl_media_meta *meta)
{
    switch (meta->kind) {
    case NL_MEDIA_KIND_INFO:
        m->info = meta->info;
        break;
    case NL_MEDIA_KIND_IFRAME:
    case NL_MEDIA_KIND_PFRAME:
        if (meta->kind == NL_MEDIA_KIND_IFRAME) {
            m->keyframes++;
            if (m->first_key_index < 0)
                m->first_key_index = m->video;
        }
        if (m->video == 0)
            m->first_video_ms = th_now_ms();
        if (m->video == 10)
            m->tenth_video_ms = th_now_ms();
        m->video++;
        if (m->have_ts && m->ts_step) {
            uint32_t d = meta->camera_us - m->last_ts;
            /* floor(i * 1e6 / fps) steps differ by at most 1 µs */
            if (d + 1 >= m->ts_step && d <= m->ts_step + 1)
                m->ts_steps_ok++;
            else
                m->ts_steps_bad++;
        }
        m->last_ts = meta->camera_us;
        if (m->ts_n < (int)(sizeof m->ts_log / sizeof m->ts_log[0]))
            m->ts_log[m->ts_n++] = meta->camera_us;
        m->have_ts = 1;
        if (m->first_key_index >= 0)
            tm_decode(m, pkt);
        break;
    case NL_MEDIA_KIND_AAC:
        m->audio_aac++;
        break;
    case NL_MEDIA_KIND_ADPCM:
        m->audio_adpcm++;
        if (meta->nb_samples == 480 && pkt->size == 244)
            m->adpcm_block_ok++;
        break;
    default:
        break;
    }
}

/* Checks the chunking rule on one message body (sheet §5.1): a message
 * starts at a packet boundary; a video packet of T > 40000 bytes is sent as
 * T mod 40000 bytes, then 40000-byte messages. */
static inline void tm_check_chunk(tmedia *m, const uint8_t *p, size_t n)
{
    if (m->chunk_left) {
        if (n != 40000 || n > m->chunk_left)
            m->chunk_bad++;
        m->chunk_left -= n <= m->chunk_left ? n : m->chunk_left;
        return;
    }
    if (n < 24 || p[2] != 'd' || p[3] != 'c')
        return; /* not a video packet start */
    uint32_t payload =
        (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
    uint32_t extra =
        (uint32_t)p[12] | (uint32_t)p[13] << 8 | (uint32_t)p[14] << 16 | (uint32_t)p[15] << 24;
    uint64_t total = 24 + (uint64_t)extra + payload + (8 - payload % 8) % 8;
    m->chunk_checked++;
    if (total <= 40000) {
        if (n != total)
            m->chunk_bad++;
        return;
    }
    m->big_packets++;
    uint64_t first = total % 40000 ? total % 40000 : 40000;
    if (n != first)
        m->chunk_bad++;
    m->chunk_left = total - first;
}

/* Feeds one received message (already decoded by the client codec). */
static inline void tm_feed(tmedia *m, tclient *c)
{
    NL_ASSERT(c->dec.binary);
    m->messages++;
    if (c->dec.ext.has & NL_BC_EXT_ENCRYPT_LEN) {
        /* full AES media: Extension with encryptLen == payload length */
        if (c->dec.ext.encrypt_len == c->dec.payload_len && (c->dec.flags & NL_BC_DEC_PREFIX_AES))
            m->encrypt_len_ok++;
        else
            m->encrypt_len_bad++;
    } else if (m->got_reply && c->msg.hdr.payload_offset) {
        m->encrypt_len_bad++; /* only full-AES media carries an Extension */
    }
    if (m->got_reply)
        tm_check_chunk(m, c->dec.payload, c->dec.payload_len);
    const uint8_t *p = c->dec.payload;
    size_t len = c->dec.payload_len;
    while (len) {
        size_t used = 0;
        NL_ASSERT_OK(nl_media_demux_feed(m->demux, p, len, &used));
        p += used;
        len -= used;
        AVPacket *pkt;
        nl_media_meta meta;
        while (nl_media_demux_next(m->demux, &pkt, &meta) > 0)
            tm_packet(m, pkt, &meta);
    }
}

/* Receives this stream's messages until `video` video packets were seen or
 * timeout_ms passed. Other messages are ignored. Returns the video count. */
static inline int tm_run(tmedia *m, tclient *c, int video, int timeout_ms)
{
    uint64_t end = th_now_ms() + (uint64_t)timeout_ms;
    while (m->video < video) {
        uint64_t now = th_now_ms();
        if (now >= end)
            break;
        int rc = tc_recv(c, (int)(end - now));
        if (rc <= 0)
            break;
        if (c->msg.hdr.msg_id != NL_BC_MSG_VIDEO || c->msg.hdr.corr != m->corr)
            continue;
        if (!m->got_reply) {
            NL_ASSERT_EQ(c->msg.hdr.response_code, 200);
            NL_ASSERT(c->dec.ext.has & NL_BC_EXT_BINARY);
            NL_ASSERT_EQ(c->dec.ext.binary_data, 1);
            NL_ASSERT_EQ(c->dec.payload_len, 32);
            tm_feed(m, c);
            m->got_reply = 1;
            NL_ASSERT_EQ(m->info.version, 2);
            continue;
        }
        NL_ASSERT_EQ(c->msg.hdr.response_code, 200);
        tm_feed(m, c);
    }
    return m->video;
}

#endif
