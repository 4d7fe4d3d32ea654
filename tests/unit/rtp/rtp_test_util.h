/* Helpers shared by the rtp unit tests: real encoders (libx264, libx265, the
 * native AAC encoder, pcm_mulaw) producing access units with camera-style µs
 * timestamps, an Annex-B splitter, and minimal RTP parsing/depacketizing
 * (STAP-A/FU-A, AP/FU, AAC-hbr) to check packets byte for byte. */
#ifndef NL_RTP_TEST_UTIL_H
#define NL_RTP_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

#include "test.h"

#define US 1000000

/* libx265 3.5 (Debian 12) leaks ~1 KiB plus a few param strings in every
 * x265_encoder_open, whatever the options (checked with a bare
 * avcodec_open2/avcodec_free_context program). Not ours: tell LeakSanitizer.
 * valgrind.supp has no such entry, so H.265 parts are skipped under valgrind
 * (see x265_usable). */
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:libx265.so\n";
}

typedef struct enc_out {
    AVPacket **pkts; /* pts/dts in µs (1/1000000), flags copied from the encoder */
    int n;
    AVCodecParameters *par;
} enc_out;

static inline void enc_out_free(enc_out *e)
{
    for (int i = 0; i < e->n; i++)
        av_packet_free(&e->pkts[i]);
    free(e->pkts);
    avcodec_parameters_free(&e->par);
    memset(e, 0, sizeof(*e));
}

static inline int under_valgrind(void)
{
    return getenv("NL_UNDER_VALGRIND") != NULL;
}

/* False under valgrind, where libx265's own leaks would fail the run. */
static inline int x265_usable(void)
{
    if (!under_valgrind())
        return 1;
    printf("libx265 parts skipped under valgrind (leaks inside libx265 3.5)\n");
    return 0;
}

/* Drains the encoder into e, converting pts from 1/tb_den units to µs. */
static inline void enc_drain(AVCodecContext *c, enc_out *e, int cap, int64_t pts0_us)
{
    for (;;) {
        AVPacket *p = av_packet_alloc();
        int rc = avcodec_receive_packet(c, p);
        if (rc < 0) {
            av_packet_free(&p);
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
                return;
            NL_FAIL("receive_packet: %d", rc);
        }
        NL_ASSERT(e->n < cap);
        int64_t us = pts0_us + av_rescale_q(p->pts, c->time_base, (AVRational){1, US});
        p->pts = p->dts = us;
        p->time_base = (AVRational){1, US};
        e->pkts[e->n++] = p;
    }
}

static inline AVCodecContext *open_encoder(const char *name)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    if (!codec)
        NL_FAIL("encoder %s missing", name);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    NL_ASSERT(c != NULL);
    return c;
}

/* n frames of noisy, moving video (so P frames span several packets). */
static inline enc_out encode_video(const char *name, int w, int h, int fps, int n, int gop,
                                   int64_t pts0_us)
{
    enc_out e = {0};
    e.pkts = calloc((size_t)n + 8, sizeof(*e.pkts));
    AVCodecContext *c = open_encoder(name);
    c->width = w;
    c->height = h;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, fps};
    c->framerate = (AVRational){fps, 1};
    c->gop_size = gop;
    c->max_b_frames = 0;
    c->bit_rate = 3000000;
    c->thread_count = 1;
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(c->priv_data, "preset", "ultrafast", 0);
    av_opt_set(c->priv_data, "tune", "zerolatency", 0);
    if (strcmp(name, "libx265") == 0)
        av_opt_set(c->priv_data, "x265-params",
                   "log-level=error:repeat-headers=1:scenecut=0:open-gop=0", 0);
    else
        av_opt_set(c->priv_data, "x264-params", "repeat-headers=1:scenecut=0", 0);
    if (avcodec_open2(c, c->codec, NULL) < 0)
        NL_FAIL("open %s", name);
    AVFrame *f = av_frame_alloc();
    f->format = c->pix_fmt;
    f->width = w;
    f->height = h;
    NL_ASSERT(av_frame_get_buffer(f, 0) >= 0);
    uint32_t seed = 12345;
    for (int i = 0; i < n; i++) {
        NL_ASSERT(av_frame_make_writable(f) >= 0);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                seed = seed * 1103515245u + 12345u;
                int v = ((x + 3 * i) ^ (y + i)) & 0xff;
                f->data[0][y * f->linesize[0] + x] = (uint8_t)((v + (seed >> 27)) & 0xff);
            }
        }
        for (int y = 0; y < h / 2; y++) {
            memset(f->data[1] + y * f->linesize[1], (uint8_t)(64 + y + i), (size_t)w / 2);
            memset(f->data[2] + y * f->linesize[2], (uint8_t)(192 - y), (size_t)w / 2);
        }
        f->pts = i;
        NL_ASSERT(avcodec_send_frame(c, f) >= 0);
        enc_drain(c, &e, n + 8, pts0_us);
    }
    NL_ASSERT(avcodec_send_frame(c, NULL) >= 0);
    enc_drain(c, &e, n + 8, pts0_us);
    e.par = avcodec_parameters_alloc();
    avcodec_parameters_from_context(e.par, c);
    av_frame_free(&f);
    avcodec_free_context(&c);
    return e;
}

/* n AUs of the native AAC encoder, 16 kHz mono, 1024 samples each. */
static inline enc_out encode_aac(int n, int64_t pts0_us)
{
    enc_out e = {0};
    e.pkts = calloc((size_t)n + 8, sizeof(*e.pkts));
    AVCodecContext *c = open_encoder("aac");
    c->sample_fmt = AV_SAMPLE_FMT_FLTP;
    c->sample_rate = 16000;
    av_channel_layout_default(&c->ch_layout, 1);
    c->bit_rate = 32000;
    c->time_base = (AVRational){1, 16000};
    if (avcodec_open2(c, c->codec, NULL) < 0)
        NL_FAIL("open aac");
    AVFrame *f = av_frame_alloc();
    f->format = c->sample_fmt;
    f->nb_samples = c->frame_size;
    f->sample_rate = c->sample_rate;
    av_channel_layout_copy(&f->ch_layout, &c->ch_layout);
    NL_ASSERT(av_frame_get_buffer(f, 0) >= 0);
    /* Encoder priming: feed n frames, drain everything after the flush. */
    for (int i = 0; i < n; i++) {
        NL_ASSERT(av_frame_make_writable(f) >= 0);
        float *s = (float *)f->data[0];
        for (int k = 0; k < f->nb_samples; k++)
            s[k] = 0.3f * sinf((float)(i * f->nb_samples + k) * 2.0f * 3.14159265f * 440 / 16000);
        f->pts = (int64_t)i * f->nb_samples;
        NL_ASSERT(avcodec_send_frame(c, f) >= 0);
        enc_drain(c, &e, n + 8, pts0_us);
    }
    NL_ASSERT(avcodec_send_frame(c, NULL) >= 0);
    enc_drain(c, &e, n + 8, pts0_us);
    e.par = avcodec_parameters_alloc();
    avcodec_parameters_from_context(e.par, c);
    av_frame_free(&f);
    avcodec_free_context(&c);
    return e;
}

/* n blocks of 480 µ-law samples (60 ms at 8 kHz). */
static inline enc_out encode_pcmu(int n, int64_t pts0_us)
{
    enc_out e = {0};
    e.pkts = calloc((size_t)n + 8, sizeof(*e.pkts));
    AVCodecContext *c = open_encoder("pcm_mulaw");
    c->sample_fmt = AV_SAMPLE_FMT_S16;
    c->sample_rate = 8000;
    av_channel_layout_default(&c->ch_layout, 1);
    c->time_base = (AVRational){1, 8000};
    if (avcodec_open2(c, c->codec, NULL) < 0)
        NL_FAIL("open pcm_mulaw");
    AVFrame *f = av_frame_alloc();
    f->format = c->sample_fmt;
    f->nb_samples = 480;
    f->sample_rate = 8000;
    av_channel_layout_copy(&f->ch_layout, &c->ch_layout);
    NL_ASSERT(av_frame_get_buffer(f, 0) >= 0);
    for (int i = 0; i < n; i++) {
        NL_ASSERT(av_frame_make_writable(f) >= 0);
        int16_t *s = (int16_t *)f->data[0];
        for (int k = 0; k < 480; k++)
            s[k] = (int16_t)(8000 * sin((double)(i * 480 + k) * 2 * M_PI * 1000 / 8000));
        f->pts = (int64_t)i * 480;
        NL_ASSERT(avcodec_send_frame(c, f) >= 0);
        enc_drain(c, &e, n + 8, pts0_us);
    }
    e.par = avcodec_parameters_alloc();
    avcodec_parameters_from_context(e.par, c);
    av_frame_free(&f);
    avcodec_free_context(&c);
    return e;
}

/* ---------------------------------------------------------------- NAL units */

typedef struct nal_ref {
    const uint8_t *p;
    size_t n;
} nal_ref;

/* Splits Annex B the way rtpenc does: a NAL runs from after a start code to
 * the next one, minus the extra zero of a 4-byte start code. */
static inline int split_annexb(const uint8_t *d, size_t n, nal_ref *out, int max)
{
    int cnt = 0;
    size_t i = 0;
    size_t start = SIZE_MAX;
    while (i + 3 <= n) {
        if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1) {
            if (start != SIZE_MAX) {
                size_t end = i;
                if (end > start && d[end - 1] == 0)
                    end--;
                NL_ASSERT(cnt < max);
                out[cnt++] = (nal_ref){d + start, end - start};
            }
            i += 3;
            start = i;
        } else {
            i++;
        }
    }
    if (start != SIZE_MAX && start < n) {
        NL_ASSERT(cnt < max);
        out[cnt++] = (nal_ref){d + start, n - start};
    }
    return cnt;
}

/* ---------------------------------------------------------------- RTP */

typedef struct rtp_hdr {
    int pt, marker;
    uint16_t seq;
    uint32_t ts, ssrc;
    const uint8_t *payload;
    size_t plen;
} rtp_hdr;

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline rtp_hdr parse_rtp(const uint8_t *p, size_t n)
{
    rtp_hdr h = {0};
    NL_ASSERT(n >= 12);
    NL_ASSERT_EQ(p[0] >> 6, 2);
    NL_ASSERT_EQ(p[0] & 0x3f, 0); /* no padding, extension or CSRC from rtpenc */
    h.marker = p[1] >> 7;
    h.pt = p[1] & 0x7f;
    h.seq = be16(p + 2);
    h.ts = be32(p + 4);
    h.ssrc = be32(p + 8);
    h.payload = p + 12;
    h.plen = n - 12;
    return h;
}

/* Reassembles NAL units from RTP payloads (H.264: single, STAP-A, FU-A;
 * H.265: single, AP, FU) into a flat list of owned buffers. */
typedef struct depack {
    int hevc;
    uint8_t *nal[512];
    size_t len[512];
    int n;
    uint8_t *cur; /* FU in progress */
    size_t cur_len;
} depack;

static inline void depack_emit(depack *d, const uint8_t *p, size_t n)
{
    NL_ASSERT(d->n < 512);
    d->nal[d->n] = malloc(n);
    memcpy(d->nal[d->n], p, n);
    d->len[d->n++] = n;
}

static inline void depack_push(depack *d, const uint8_t *p, size_t n)
{
    if (!d->hevc) {
        int type = p[0] & 0x1f;
        if (type == 24) { /* STAP-A */
            size_t i = 1;
            while (i + 2 <= n) {
                size_t sz = be16(p + i);
                NL_ASSERT(i + 2 + sz <= n);
                depack_emit(d, p + i + 2, sz);
                i += 2 + sz;
            }
            NL_ASSERT_EQ(i, n);
        } else if (type == 28) { /* FU-A */
            int s = p[1] >> 7, e = (p[1] >> 6) & 1;
            if (s) {
                NL_ASSERT(d->cur == NULL);
                d->cur = malloc(1 << 21);
                d->cur[0] = (uint8_t)((p[0] & 0xe0) | (p[1] & 0x1f));
                d->cur_len = 1;
            }
            NL_ASSERT(d->cur != NULL);
            memcpy(d->cur + d->cur_len, p + 2, n - 2);
            d->cur_len += n - 2;
            if (e) {
                depack_emit(d, d->cur, d->cur_len);
                free(d->cur);
                d->cur = NULL;
            }
        } else {
            NL_ASSERT(type >= 1 && type <= 23);
            depack_emit(d, p, n);
        }
        return;
    }
    int type = (p[0] >> 1) & 0x3f;
    if (type == 48) { /* AP */
        size_t i = 2;
        while (i + 2 <= n) {
            size_t sz = be16(p + i);
            NL_ASSERT(i + 2 + sz <= n);
            depack_emit(d, p + i + 2, sz);
            i += 2 + sz;
        }
        NL_ASSERT_EQ(i, n);
    } else if (type == 49) { /* FU */
        int s = p[2] >> 7, e = (p[2] >> 6) & 1;
        if (s) {
            NL_ASSERT(d->cur == NULL);
            d->cur = malloc(1 << 21);
            d->cur[0] = (uint8_t)((p[0] & 0x81) | ((p[2] & 0x3f) << 1));
            d->cur[1] = p[1];
            d->cur_len = 2;
        }
        NL_ASSERT(d->cur != NULL);
        memcpy(d->cur + d->cur_len, p + 3, n - 3);
        d->cur_len += n - 3;
        if (e) {
            depack_emit(d, d->cur, d->cur_len);
            free(d->cur);
            d->cur = NULL;
        }
    } else {
        NL_ASSERT(type < 48);
        depack_emit(d, p, n);
    }
}

static inline void depack_reset(depack *d)
{
    for (int i = 0; i < d->n; i++)
        free(d->nal[i]);
    free(d->cur);
    int hevc = d->hevc;
    memset(d, 0, sizeof(*d));
    d->hevc = hevc;
}

#endif
