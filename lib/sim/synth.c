/* Synthetic camera media: a scrolling test pattern with a frame counter
 * encoded by libx264/libx265, and chirp audio as PCM blocks or ADTS AAC.
 *
 * Cost model: the pattern is rendered once, (width + period) pixels wide and
 * periodic, so a frame is one memcpy per row from a moving offset plus a
 * small counter box; everything else is the encoder's (ultrafast, zero
 * latency, one thread by default). Cheap mode pays the encoder only at
 * create time. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>

#include "core/alloc.h"
#include "neolink/error.h"
#include "sim/synth.h"

#define US      1000000
#define RING    16 /* encoder output slots; zero latency needs one */
#define MAX_LAG 64 /* frames the encoder may hold before we call it stuck */

/* ---------------------------------------------------------------- counter */

/* 5x7 digits, one byte per row, bit 4 = leftmost column. */
static const uint8_t glyphs[10][7] = {
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, /* 0 */
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* 1 */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, /* 2 */
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}, /* 3 */
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, /* 4 */
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}, /* 5 */
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, /* 6 */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, /* 7 */
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, /* 8 */
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}, /* 9 */
};
#define GLYPH_W  5
#define GLYPH_H  7
#define CELL_ADV 6 /* glyph plus one blank column */
#define LUMA_OFF 16
#define LUMA_ON  235

/* Where the counter goes: a black box in the top-left corner, cells of
 * `scale` pixels (even, so chroma stays aligned), scaled with the height. */
typedef struct counter_geom {
    int scale;
    int box_x, box_y, box_w, box_h; /* all even */
    int x0, y0;                     /* top-left of the first glyph */
} counter_geom;

static int counter_geometry(int w, int h, counter_geom *g)
{
    if (w < NL_SYNTH_MIN_WIDTH || h < NL_SYNTH_MIN_HEIGHT || w > NL_SYNTH_MAX_WIDTH ||
        h > NL_SYNTH_MAX_HEIGHT || (w & 1) || (h & 1))
        return NL_EINVAL;
    int s = (h / 90) & ~1;
    if (s < 4)
        s = 4; /* smaller cells do not survive low bit rates */
    int smax = ((w - 8) / (NL_SYNTH_COUNTER_DIGITS * CELL_ADV + 4)) & ~1;
    if (s > smax)
        s = smax;
    g->scale = s;
    g->box_x = s;
    g->box_y = s;
    g->box_w = (NL_SYNTH_COUNTER_DIGITS * CELL_ADV + 1) * s;
    g->box_h = (GLYPH_H + 2) * s;
    g->x0 = g->box_x + s;
    g->y0 = g->box_y + s;
    return 0;
}

static void draw_counter(AVFrame *f, const counter_geom *g, uint32_t value)
{
    for (int y = 0; y < g->box_h; y++)
        memset(f->data[0] + (size_t)(g->box_y + y) * f->linesize[0] + g->box_x, LUMA_OFF,
               (size_t)g->box_w);
    for (int y = 0; y < g->box_h / 2; y++) {
        for (int p = 1; p <= 2; p++)
            memset(f->data[p] + (size_t)(g->box_y / 2 + y) * f->linesize[p] + g->box_x / 2, 128,
                   (size_t)g->box_w / 2);
    }
    uint32_t div = 1;
    for (int d = 1; d < NL_SYNTH_COUNTER_DIGITS; d++)
        div *= 10;
    for (int d = 0; d < NL_SYNTH_COUNTER_DIGITS; d++, div /= 10) {
        const uint8_t *gl = glyphs[(value / div) % 10];
        for (int r = 0; r < GLYPH_H; r++) {
            for (int c = 0; c < GLYPH_W; c++) {
                if (!(gl[r] & (0x10 >> c)))
                    continue;
                int px = g->x0 + (d * CELL_ADV + c) * g->scale;
                int py = g->y0 + r * g->scale;
                for (int k = 0; k < g->scale; k++)
                    memset(f->data[0] + (size_t)(py + k) * f->linesize[0] + px, LUMA_ON,
                           (size_t)g->scale);
            }
        }
    }
}

int nl_synth_read_counter(const uint8_t *y, int linesize, int width, int height, uint32_t *value)
{
    counter_geom g;
    int rc = counter_geometry(width, height, &g);
    if (rc < 0)
        return rc;
    uint32_t v = 0;
    int h = g.scale / 2;
    for (int d = 0; d < NL_SYNTH_COUNTER_DIGITS; d++) {
        uint8_t rows[GLYPH_H] = {0};
        for (int r = 0; r < GLYPH_H; r++) {
            for (int c = 0; c < GLYPH_W; c++) {
                /* mean of the 2x2 pixels at the cell centre */
                int px = g.x0 + (d * CELL_ADV + c) * g.scale + h - 1;
                const uint8_t *p = y + (size_t)(g.y0 + r * g.scale + h - 1) * linesize + px;
                int sum = p[0] + p[1] + p[linesize] + p[linesize + 1];
                if (sum > 4 * (LUMA_OFF + LUMA_ON) / 2)
                    rows[r] |= (uint8_t)(0x10 >> c);
            }
        }
        int best = -1, best_dist = 99;
        for (int k = 0; k < 10; k++) {
            int dist = 0;
            for (int r = 0; r < GLYPH_H; r++)
                dist += __builtin_popcount(rows[r] ^ glyphs[k][r]);
            if (dist < best_dist) {
                best_dist = dist;
                best = k;
            }
        }
        /* digits differ pairwise in >= 3 cells; allow 2 flipped by coding */
        if (best_dist > 2)
            return NL_EPROTO;
        v = v * 10 + (uint32_t)best;
    }
    *value = v;
    return 0;
}

/* ---------------------------------------------------------------- video */

struct nl_synth_video {
    nl_synth_video_config cfg;
    counter_geom geom;
    AVCodecContext *enc;
    AVFrame *frame;
    uint8_t *bg[3]; /* pre-rendered pattern, bg_w x height (chroma halved) */
    int bg_w, period, speed;
    uint8_t *noise; /* band texture, width x 2*band_h */
    int band_y, band_h;
    AVPacket *ring[RING];
    int ring_head, ring_count;
    AVPacket **cache; /* cheap mode: the replay cycle */
    int cache_len;
    uint64_t rendered, produced;
    uint8_t *extradata;
    size_t extradata_size;
};

void nl_synth_video_config_main(nl_synth_video_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->codec = AV_CODEC_ID_H264;
    cfg->width = 1920;
    cfg->height = 1080;
    cfg->fps = 25;
    cfg->gop = 50;
}

void nl_synth_video_config_sub(nl_synth_video_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->codec = AV_CODEC_ID_H264;
    cfg->width = 640;
    cfg->height = 360;
    cfg->fps = 15;
    cfg->gop = 30;
}

/* 75% colour bars (BT.601 limited range): white, yellow, cyan, green,
 * magenta, red, blue, black. */
static const uint8_t bars[8][3] = {
    {180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
    {84, 184, 198},  {65, 100, 212}, {35, 212, 114}, {16, 128, 128},
};

/* The pattern at column u of a period and row y: bars on top, a checker
 * strip (gives the encoder texture to track), a luma ramp below. The bottom
 * noise band is drawn per frame (render). */
static void pattern_at(const nl_synth_video *s, int u, int y, uint8_t yuv[3])
{
    int h = s->cfg.height, p = s->period;
    if (y < h / 2) {
        memcpy(yuv, bars[u * 8 / p], 3);
    } else if (y < 2 * h / 3) {
        int sq = p / 16;
        yuv[0] = ((u / sq) + (y / sq)) & 1 ? LUMA_ON : LUMA_OFF;
        yuv[1] = yuv[2] = 128;
    } else {
        yuv[0] = (uint8_t)(LUMA_OFF + (LUMA_ON - LUMA_OFF) * u / p);
        yuv[1] = yuv[2] = 128;
    }
}

/* xorshift32: cheap, deterministic noise. */
static uint32_t xorshift(uint32_t *st)
{
    uint32_t x = *st;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *st = x;
}

static int build_background(nl_synth_video *s)
{
    int w = s->cfg.width, h = s->cfg.height;
    /* One period is half the width (multiple of 16); the strip holds one
     * extra period so any offset in [0, period) has a full window. */
    s->period = (w / 2) & ~15;
    s->speed = (w / 160) & ~1;
    if (s->speed < 2)
        s->speed = 2;
    s->bg_w = w + s->period;
    /* Noise band: the bottom sixth shows a window of a pre-rendered noise
     * texture (twice as tall) at a pseudo-random offset per frame. Motion
     * search cannot predict it, so the encoder has to spend bits there and
     * the stream gets near its target rate, as a camera's would. */
    s->band_y = (h - h / 6) & ~1;
    s->band_h = h - s->band_y;
    s->noise = av_malloc((size_t)w * 2 * s->band_h);
    if (!s->noise)
        return NL_ENOMEM;
    uint32_t st = 0x9e3779b9u;
    for (size_t i = 0; i < (size_t)w * 2 * s->band_h; i++)
        s->noise[i] = (uint8_t)(96 + (xorshift(&st) >> 26)); /* 96..159 */
    s->bg[0] = av_malloc((size_t)s->bg_w * h);
    s->bg[1] = av_malloc((size_t)s->bg_w / 2 * (h / 2));
    s->bg[2] = av_malloc((size_t)s->bg_w / 2 * (h / 2));
    if (!s->bg[0] || !s->bg[1] || !s->bg[2])
        return NL_ENOMEM;
    uint8_t yuv[3];
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < s->bg_w; x++) {
            pattern_at(s, x % s->period, y, yuv);
            s->bg[0][(size_t)y * s->bg_w + x] = yuv[0];
            if (!(x & 1) && !(y & 1)) {
                s->bg[1][(size_t)(y / 2) * (s->bg_w / 2) + x / 2] = yuv[1];
                s->bg[2][(size_t)(y / 2) * (s->bg_w / 2) + x / 2] = yuv[2];
            }
        }
    }
    return 0;
}

static void render(nl_synth_video *s, AVFrame *f, uint64_t index)
{
    int w = s->cfg.width, h = s->cfg.height;
    int off = (int)((index * (uint64_t)s->speed) % (uint64_t)s->period); /* even */
    for (int y = 0; y < h; y++)
        memcpy(f->data[0] + (size_t)y * f->linesize[0], s->bg[0] + (size_t)y * s->bg_w + off,
               (size_t)w);
    for (int p = 1; p <= 2; p++) {
        for (int y = 0; y < h / 2; y++)
            memcpy(f->data[p] + (size_t)y * f->linesize[p],
                   s->bg[p] + (size_t)y * (s->bg_w / 2) + off / 2, (size_t)w / 2);
    }
    uint32_t st = (uint32_t)(index * 2654435761u) | 1u;
    size_t noff = (size_t)(xorshift(&st) % (uint32_t)s->band_h) * (size_t)w;
    for (int y = 0; y < s->band_h; y++)
        memcpy(f->data[0] + (size_t)(s->band_y + y) * f->linesize[0],
               s->noise + noff + (size_t)y * w, (size_t)w);
    draw_counter(f, &s->geom, (uint32_t)(index % 100000000u));
}

static int open_encoder(nl_synth_video *s)
{
    const nl_synth_video_config *cfg = &s->cfg;
    bool hevc = cfg->codec == AV_CODEC_ID_HEVC;
    const AVCodec *codec = avcodec_find_encoder_by_name(hevc ? "libx265" : "libx264");
    if (!codec)
        return NL_ECODEC;
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return NL_ENOMEM;
    s->enc = c;
    c->width = cfg->width;
    c->height = cfg->height;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, cfg->fps};
    c->framerate = (AVRational){cfg->fps, 1};
    c->gop_size = cfg->gop;
    c->max_b_frames = 0;
    c->bit_rate = cfg->bit_rate;
    /* A one-second VBV keeps the rate camera-like (no huge swings). */
    c->rc_max_rate = cfg->bit_rate;
    c->rc_buffer_size = (int)(cfg->bit_rate > INT32_MAX ? INT32_MAX : cfg->bit_rate);
    c->thread_count = cfg->threads;
    /* Extradata for SDPs; repeat-headers (parsed after the flag) keeps the
     * parameter sets in band at every IDR as well (RTSP.md 1.5). */
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    char params[160];
    if (hevc)
        snprintf(params, sizeof(params),
                 "repeat-headers=1:scenecut=0:open-gop=0:min-keyint=1:log-level=error:pools=%d",
                 cfg->threads);
    else
        snprintf(params, sizeof(params), "repeat-headers=1:scenecut=0");
    if (av_opt_set(c->priv_data, "preset", cfg->preset, 0) < 0 ||
        av_opt_set(c->priv_data, "tune", "zerolatency", 0) < 0 ||
        av_opt_set(c->priv_data, hevc ? "x265-params" : "x264-params", params, 0) < 0)
        return NL_ECODEC;
    if (avcodec_open2(c, codec, NULL) < 0)
        return NL_ECODEC;
    if (c->extradata_size > 0) {
        s->extradata = nl__malloc((size_t)c->extradata_size);
        if (!s->extradata)
            return NL_ENOMEM;
        memcpy(s->extradata, c->extradata, (size_t)c->extradata_size);
        s->extradata_size = (size_t)c->extradata_size;
    }
    s->frame = av_frame_alloc();
    if (!s->frame)
        return NL_ENOMEM;
    s->frame->format = c->pix_fmt;
    s->frame->width = c->width;
    s->frame->height = c->height;
    if (av_frame_get_buffer(s->frame, 0) < 0)
        return NL_ENOMEM;
    return 0;
}

/* Moves whatever the encoder has finished into the ring. */
static int drain(nl_synth_video *s)
{
    while (s->ring_count < RING) {
        AVPacket *p = s->ring[(s->ring_head + s->ring_count) % RING];
        int rc = avcodec_receive_packet(s->enc, p);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return rc == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ECODEC;
        s->ring_count++;
    }
    return 0;
}

/* Renders and submits the next picture (NULL flushes at the end of cheap
 * mode's cycle), then collects output. */
static int encode_one(nl_synth_video *s, bool flush)
{
    int rc;
    if (flush) {
        rc = avcodec_send_frame(s->enc, NULL);
    } else {
        if (av_frame_make_writable(s->frame) < 0)
            return NL_ENOMEM;
        render(s, s->frame, s->rendered);
        s->frame->pts = (int64_t)s->rendered++;
        rc = avcodec_send_frame(s->enc, s->frame);
    }
    if (rc < 0 && rc != AVERROR(EAGAIN))
        return rc == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ECODEC;
    return drain(s);
}

static AVPacket *ring_pop(nl_synth_video *s)
{
    AVPacket *p = s->ring[s->ring_head];
    s->ring_head = (s->ring_head + 1) % RING;
    s->ring_count--;
    return p;
}

/* Cheap mode: encode the whole cycle now and keep it; the encoder, the
 * pattern and the picture are no longer needed afterwards. */
static int fill_cache(nl_synth_video *s)
{
    int n = s->cfg.cheap_frames;
    s->cache = nl__calloc((size_t)n, sizeof(*s->cache));
    if (!s->cache)
        return NL_ENOMEM;
    for (int i = 0; i <= n; i++) {
        int rc = encode_one(s, i == n);
        if (rc < 0)
            return rc;
        while (s->ring_count > 0) {
            if (s->cache_len == n)
                return NL_ECODEC;
            AVPacket *p = av_packet_alloc();
            if (!p)
                return NL_ENOMEM;
            av_packet_move_ref(p, ring_pop(s));
            /* encoder statistics side data would be copied on every replay */
            av_packet_free_side_data(p);
            s->cache[s->cache_len++] = p;
        }
    }
    if (s->cache_len != n || !(s->cache[0]->flags & AV_PKT_FLAG_KEY))
        return NL_ECODEC;
    avcodec_free_context(&s->enc);
    av_frame_free(&s->frame);
    for (int p = 0; p < 3; p++)
        av_freep(&s->bg[p]);
    av_freep(&s->noise);
    return 0;
}

static int fill_defaults(nl_synth_video_config *c)
{
    if (c->codec == AV_CODEC_ID_NONE)
        c->codec = AV_CODEC_ID_H264;
    if (c->codec != AV_CODEC_ID_H264 && c->codec != AV_CODEC_ID_HEVC)
        return NL_EINVAL;
    if (!c->width && !c->height) {
        c->width = 1920;
        c->height = 1080;
    }
    if (!c->fps)
        c->fps = 25;
    if (c->fps < 1 || c->fps > 120)
        return NL_EINVAL;
    if (!c->gop)
        c->gop = 2 * c->fps;
    if (c->gop < 1 || c->gop > 1000 || c->threads < 0 || c->threads > 16 || c->bit_rate < 0 ||
        c->cheap_frames < 0 || c->cheap_frames > 100000)
        return NL_EINVAL;
    if (!c->bit_rate)
        c->bit_rate = (int64_t)c->width * c->height * c->fps * 8 / 100;
    if (!c->threads)
        c->threads = 1;
    if (!c->preset)
        c->preset = "ultrafast";
    if (c->cheap_frames)
        c->cheap_frames = (c->cheap_frames + c->gop - 1) / c->gop * c->gop;
    return 0;
}

int nl_synth_video_create(nl_synth_video **out, const nl_synth_video_config *cfg)
{
    *out = NULL;
    nl_synth_video_config c = *cfg;
    int rc = fill_defaults(&c);
    if (rc < 0)
        return rc;
    nl_synth_video *s = nl__calloc(1, sizeof(*s));
    if (!s)
        return NL_ENOMEM;
    s->cfg = c;
    rc = counter_geometry(c.width, c.height, &s->geom);
    if (rc < 0)
        goto fail;
    for (int i = 0; i < RING; i++) {
        s->ring[i] = av_packet_alloc();
        if (!s->ring[i]) {
            rc = NL_ENOMEM;
            goto fail;
        }
    }
    rc = build_background(s);
    if (rc < 0)
        goto fail;
    rc = open_encoder(s);
    if (rc < 0)
        goto fail;
    if (c.cheap_frames) {
        rc = fill_cache(s);
        if (rc < 0)
            goto fail;
    }
    *out = s;
    return 0;
fail:
    nl_synth_video_destroy(&s);
    return rc;
}

void nl_synth_video_destroy(nl_synth_video **sp)
{
    if (!sp || !*sp)
        return;
    nl_synth_video *s = *sp;
    *sp = NULL;
    avcodec_free_context(&s->enc);
    av_frame_free(&s->frame);
    for (int p = 0; p < 3; p++)
        av_freep(&s->bg[p]);
    av_freep(&s->noise);
    for (int i = 0; i < RING; i++)
        av_packet_free(&s->ring[i]);
    for (int i = 0; i < s->cache_len; i++)
        av_packet_free(&s->cache[i]);
    nl__free(s->cache);
    nl__free(s->extradata);
    nl__free(s);
}

uint64_t nl_synth_video_ts(const nl_synth_video *s, uint64_t i)
{
    return s->cfg.start_us + i * US / (uint64_t)s->cfg.fps;
}

int nl_synth_video_next(nl_synth_video *s, AVPacket *pkt)
{
    uint64_t i = s->produced;
    if (s->cache) {
        int rc = av_packet_ref(pkt, s->cache[i % (uint64_t)s->cache_len]);
        if (rc < 0)
            return NL_ENOMEM;
    } else {
        while (s->ring_count == 0) {
            if (s->rendered - s->produced > MAX_LAG)
                return NL_ECODEC;
            int rc = encode_one(s, false);
            if (rc < 0)
                return rc;
        }
        av_packet_move_ref(pkt, ring_pop(s));
    }
    uint64_t ts = nl_synth_video_ts(s, i);
    pkt->pts = pkt->dts = (int64_t)ts;
    pkt->duration = (int64_t)(nl_synth_video_ts(s, i + 1) - ts);
    pkt->time_base = (AVRational){1, US};
    pkt->flags &= AV_PKT_FLAG_KEY;
    s->produced++;
    return 0;
}

const uint8_t *nl_synth_video_extradata(const nl_synth_video *s, size_t *size)
{
    *size = s->extradata_size;
    return s->extradata;
}

uint64_t nl_synth_video_count(const nl_synth_video *s)
{
    return s->produced;
}

void nl_synth_video_get_config(const nl_synth_video *s, nl_synth_video_config *cfg)
{
    *cfg = s->cfg;
}

/* ---------------------------------------------------------------- audio */

struct nl_synth_audio {
    bool aac;
    int rate, unit;
    uint64_t start_us, produced, fed, samples;
    double phase;
    AVCodecContext *enc;
    AVFrame *frame;
    AVPacket *tmp;
    uint8_t asc[2];
    int adts_profile, sf_index, channels;
};

/* -12 dBFS chirp, 300 Hz -> 3 kHz over 2 s, then again; phase-continuous. */
static double chirp_next(nl_synth_audio *a)
{
    uint64_t period = 2 * (uint64_t)a->rate;
    double pos = (double)(a->samples % period) / (double)period;
    double f = 300.0 + 2700.0 * pos;
    double v = 0.25 * sin(a->phase);
    a->phase += 2.0 * M_PI * f / a->rate;
    if (a->phase > 2.0 * M_PI)
        a->phase -= 2.0 * M_PI;
    a->samples++;
    return v;
}

static int open_aac(nl_synth_audio *a, int64_t bit_rate)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!codec)
        return NL_ECODEC;
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return NL_ENOMEM;
    a->enc = c;
    c->sample_fmt = AV_SAMPLE_FMT_FLTP;
    c->sample_rate = a->rate;
    av_channel_layout_default(&c->ch_layout, 1);
    c->bit_rate = bit_rate;
    c->time_base = (AVRational){1, a->rate};
    if (avcodec_open2(c, codec, NULL) < 0)
        return NL_ECODEC;
    if (c->extradata_size < 2 || c->frame_size <= 0)
        return NL_ECODEC;
    /* ADTS carries object type - 1, the frequency index and the channel
     * configuration of the AudioSpecificConfig; index 15 (explicit rate)
     * cannot be expressed. */
    memcpy(a->asc, c->extradata, 2);
    int obj = a->asc[0] >> 3;
    a->sf_index = ((a->asc[0] & 7) << 1) | (a->asc[1] >> 7);
    a->channels = (a->asc[1] >> 3) & 0x0f;
    if (obj < 1 || obj > 4 || a->sf_index > 12)
        return NL_ECODEC;
    a->adts_profile = obj - 1;
    a->unit = c->frame_size;
    a->frame = av_frame_alloc();
    a->tmp = av_packet_alloc();
    if (!a->frame || !a->tmp)
        return NL_ENOMEM;
    a->frame->format = c->sample_fmt;
    a->frame->nb_samples = c->frame_size;
    a->frame->sample_rate = c->sample_rate;
    if (av_channel_layout_copy(&a->frame->ch_layout, &c->ch_layout) < 0 ||
        av_frame_get_buffer(a->frame, 0) < 0)
        return NL_ENOMEM;
    return 0;
}

int nl_synth_audio_create(nl_synth_audio **out, const nl_synth_audio_config *cfg)
{
    *out = NULL;
    bool aac = cfg->codec == AV_CODEC_ID_AAC;
    if (!aac && cfg->codec != AV_CODEC_ID_NONE && cfg->codec != AV_CODEC_ID_PCM_S16LE)
        return NL_EINVAL;
    int rate = cfg->sample_rate ? cfg->sample_rate : (aac ? 16000 : 8000);
    int unit = cfg->block_samples ? cfg->block_samples : 480;
    if (rate < 8000 || rate > 48000 || unit < 1 || unit > 8192 || cfg->bit_rate < 0)
        return NL_EINVAL;
    nl_synth_audio *a = nl__calloc(1, sizeof(*a));
    if (!a)
        return NL_ENOMEM;
    a->aac = aac;
    a->rate = rate;
    a->unit = unit;
    a->start_us = cfg->start_us;
    if (aac) {
        int rc = open_aac(a, cfg->bit_rate ? cfg->bit_rate : 32000);
        if (rc < 0) {
            nl_synth_audio_destroy(&a);
            return rc;
        }
    }
    *out = a;
    return 0;
}

void nl_synth_audio_destroy(nl_synth_audio **ap)
{
    if (!ap || !*ap)
        return;
    nl_synth_audio *a = *ap;
    *ap = NULL;
    avcodec_free_context(&a->enc);
    av_frame_free(&a->frame);
    av_packet_free(&a->tmp);
    nl__free(a);
}

/* Encodes chirp frames until the encoder yields an AU (it primes first). */
static int next_aac_au(nl_synth_audio *a)
{
    for (;;) {
        int rc = avcodec_receive_packet(a->enc, a->tmp);
        if (rc == 0)
            return 0;
        if (rc != AVERROR(EAGAIN))
            return rc == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ECODEC;
        if (a->fed - a->produced > 8)
            return NL_ECODEC;
        if (av_frame_make_writable(a->frame) < 0)
            return NL_ENOMEM;
        float *s = (float *)a->frame->data[0];
        for (int i = 0; i < a->unit; i++)
            s[i] = (float)chirp_next(a);
        a->frame->pts = (int64_t)(a->fed++ * (uint64_t)a->unit);
        rc = avcodec_send_frame(a->enc, a->frame);
        if (rc < 0)
            return rc == AVERROR(ENOMEM) ? NL_ENOMEM : NL_ECODEC;
    }
}

static void write_adts(const nl_synth_audio *a, uint8_t *h, int frame_len)
{
    h[0] = 0xff;
    h[1] = 0xf1; /* MPEG-4, layer 0, no CRC */
    h[2] = (uint8_t)(a->adts_profile << 6 | a->sf_index << 2 | a->channels >> 2);
    h[3] = (uint8_t)((a->channels & 3) << 6 | frame_len >> 11);
    h[4] = (uint8_t)(frame_len >> 3);
    h[5] = (uint8_t)((frame_len & 7) << 5 | 0x1f); /* buffer fullness 0x7ff: VBR */
    h[6] = 0xfc;
}

int nl_synth_audio_next(nl_synth_audio *a, AVPacket *pkt)
{
    if (a->aac) {
        int rc = next_aac_au(a);
        if (rc < 0)
            return rc;
        int len = 7 + a->tmp->size;
        if (len > 8191) {
            av_packet_unref(a->tmp);
            return NL_ECODEC;
        }
        if (av_new_packet(pkt, len) < 0) {
            av_packet_unref(a->tmp);
            return NL_ENOMEM;
        }
        write_adts(a, pkt->data, len);
        memcpy(pkt->data + 7, a->tmp->data, (size_t)a->tmp->size);
        av_packet_unref(a->tmp);
    } else {
        if (av_new_packet(pkt, a->unit * 2) < 0)
            return NL_ENOMEM;
        int16_t *s = (int16_t *)pkt->data;
        for (int i = 0; i < a->unit; i++)
            s[i] = (int16_t)lrint(chirp_next(a) * 32767.0);
    }
    uint64_t i = a->produced++;
    uint64_t ts = a->start_us + i * (uint64_t)a->unit * US / (uint64_t)a->rate;
    uint64_t next = a->start_us + (i + 1) * (uint64_t)a->unit * US / (uint64_t)a->rate;
    pkt->pts = pkt->dts = (int64_t)ts;
    pkt->duration = (int64_t)(next - ts);
    pkt->time_base = (AVRational){1, US};
    pkt->flags = AV_PKT_FLAG_KEY;
    return 0;
}

const uint8_t *nl_synth_audio_extradata(const nl_synth_audio *a, size_t *size)
{
    *size = a->aac ? sizeof(a->asc) : 0;
    return a->aac ? a->asc : NULL;
}

int nl_synth_audio_unit_samples(const nl_synth_audio *a)
{
    return a->unit;
}

int nl_synth_audio_sample_rate(const nl_synth_audio *a)
{
    return a->rate;
}
