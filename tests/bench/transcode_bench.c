/* Benchmark driver for tests/bench/transcode_bench.sh (not a test).
 *
 *   transcode_bench video IN.h265 WIDTH HEIGHT PRESET BITRATE GOP
 *       Reads every access unit of an H.265 elementary stream into memory,
 *       then times nl_transcoder (software, pull mode) turning it into H.264
 *       at WIDTHxHEIGHT: a feeder thread pushes (waiting for room, so
 *       nothing is dropped), this thread receives until the end.
 *       Prints "video frames=N wall_s=... cpu_s=... fps=...".
 *   transcode_bench audio SECONDS
 *       Times nl_audio_conv turning SECONDS of Reolink ADPCM (8 kHz mono,
 *       244-byte blocks of a 440 Hz tone) into AAC on this thread.
 *       Prints "audio seconds=S cpu_s=... core_percent=..." where
 *       core_percent is the share of one core one camera's audio costs.
 *
 * Uses only the public API (neolink/hwenc.h) plus libavformat to read the
 * input file. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libavformat/avformat.h>

#include "neolink/error.h"
#include "neolink/hwenc.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

typedef struct feed {
    nl_transcoder *t;
    AVPacket **pkts;
    int n;
    int dropped;
} feed;

static void *feeder(void *arg)
{
    feed *f = arg;
    for (int i = 0; i < f->n; i++)
        if (nl_transcoder_push(f->t, f->pkts[i]) != 0)
            f->dropped++;
    nl_transcoder_finish(f->t);
    return NULL;
}

static int video(const char *path, int w, int h, const char *preset, long bitrate, int gop)
{
    AVFormatContext *fc = NULL;
    if (avformat_open_input(&fc, path, NULL, NULL) < 0) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    int cap = 1024, n = 0;
    AVPacket **pkts = malloc(sizeof *pkts * (size_t)cap);
    AVPacket *p = av_packet_alloc();
    int64_t i = 0;
    while (av_read_frame(fc, p) >= 0) {
        if (n == cap)
            pkts = realloc(pkts, sizeof *pkts * (size_t)(cap *= 2));
        p->pts = p->dts = 1000000 + i++ * 40000; /* 25 fps camera clock, µs */
        pkts[n] = av_packet_alloc();
        av_packet_move_ref(pkts[n++], p);
    }
    av_packet_free(&p);
    avformat_close_input(&fc);

    nl_transcoder_config tc;
    nl_transcoder_config_init(&tc);
    tc.name = "bench";
    tc.input_codec = NL_MEDIA_CODEC_H265;
    tc.codec = NL_MEDIA_CODEC_H264;
    tc.width = w;
    tc.height = h;
    tc.bit_rate = bitrate;
    tc.gop = gop;
    tc.hwaccel = NL_HWACCEL_SOFTWARE;
    tc.preset = preset;
    tc.push_wait_ms = 60000;
    tc.stop_timeout_ms = 5000;
    nl_transcoder *t = NULL;
    int rc = nl_transcoder_create(&t, NULL, NULL, &tc);
    if (rc < 0) {
        fprintf(stderr, "transcoder: %s\n", nl_strerror(rc));
        return 1;
    }
    feed f = {.t = t, .pkts = pkts, .n = n};
    double c0 = cpu_s(RUSAGE_SELF), t0 = now_s();
    pthread_t th;
    pthread_create(&th, NULL, feeder, &f);
    AVPacket *out = av_packet_alloc();
    int frames = 0;
    long long bytes = 0;
    while ((rc = nl_transcoder_receive(t, out, 60000)) == 0) {
        frames++;
        bytes += out->size;
        av_packet_unref(out);
    }
    pthread_join(th, NULL);
    double wall = now_s() - t0;
    double cpu = cpu_s(RUSAGE_SELF) - c0;
    nl_transcoder_stats st;
    nl_transcoder_get_stats(t, &st, sizeof st);
    nl_transcoder_destroy(&t);
    if (rc != NL_EEOF) {
        fprintf(stderr, "transcoder ended with %s\n", nl_strerror(rc));
        return 1;
    }
    printf("video frames=%d in=%d dropped=%d size=%dx%d bitrate_kbps=%.0f wall_s=%.3f cpu_s=%.3f "
           "fps=%.1f\n",
           frames, n, f.dropped + (int)st.out_dropped, st.width, st.height,
           bytes * 8.0 / (n / 25.0) / 1000.0, wall, cpu, frames / wall);
    av_packet_free(&out);
    for (int k = 0; k < n; k++)
        av_packet_free(&pkts[k]);
    free(pkts);
    return 0;
}

/* A minimal IMA/DVI encoder, high nibble first, for the input blocks (the
 * library's own encoder is internal). */
static const int steps[89] = {
    7,     8,     9,     10,    11,    12,    13,    14,    16,    17,    19,   21,    23,
    25,    28,    31,    34,    37,    41,    45,    50,    55,    60,    66,   73,    80,
    88,    97,    107,   118,   130,   143,   157,   173,   190,   209,   230,  253,   279,
    307,   337,   371,   408,   449,   494,   544,   598,   658,   724,   796,  876,   963,
    1060,  1166,  1282,  1411,  1552,  1707,  1878,  2066,  2272,  2499,  2749, 3024,  3327,
    3660,  4026,  4428,  4871,  5358,  5894,  6484,  7132,  7845,  8630,  9493, 10442, 11487,
    12635, 13899, 15289, 16818, 18500, 20350, 22385, 24623, 27086, 29794, 32767};
static const int index_adj[16] = {-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8};

static unsigned dvi_encode(int *pred, int *idx, int sample)
{
    int step = steps[*idx], diff = sample - *pred;
    unsigned code = 0;
    if (diff < 0) {
        code = 8;
        diff = -diff;
    }
    int delta = step >> 3;
    if (diff >= step) {
        code |= 4;
        diff -= step;
        delta += step;
    }
    if (diff >= step >> 1) {
        code |= 2;
        diff -= step >> 1;
        delta += step >> 1;
    }
    if (diff >= step >> 2) {
        code |= 1;
        delta += step >> 2;
    }
    *pred += code & 8 ? -delta : delta;
    *pred = *pred > 32767 ? 32767 : *pred < -32768 ? -32768 : *pred;
    *idx += index_adj[code];
    *idx = *idx < 0 ? 0 : *idx > 88 ? 88 : *idx;
    return code;
}

static int audio(int seconds)
{
    int blocks = seconds * 8000 / 480;
    nl_audio_conv_config cfg = {.input = NL_MEDIA_CODEC_ADPCM, .output = NL_AUDIO_OUT_AAC};
    nl_audio_conv *c = NULL;
    if (nl_audio_conv_create(&c, NULL, &cfg) < 0)
        return 1;
    /* The blocks are made first, so only the conversion is timed. */
    AVPacket **in = malloc(sizeof *in * (size_t)blocks);
    int pred = 0, idx = 0;
    long s = 0;
    for (int b = 0; b < blocks; b++) {
        in[b] = av_packet_alloc();
        av_new_packet(in[b], 244);
        uint8_t *d = in[b]->data;
        d[0] = (uint8_t)(pred & 0xff);
        d[1] = (uint8_t)((pred >> 8) & 0xff);
        d[2] = (uint8_t)idx;
        d[3] = 0;
        for (int k = 0; k < 240; k++) {
            unsigned hi = dvi_encode(&pred, &idx, (int)(8000 * sin(2 * M_PI * 440 * s++ / 8000.0)));
            unsigned lo = dvi_encode(&pred, &idx, (int)(8000 * sin(2 * M_PI * 440 * s++ / 8000.0)));
            d[4 + k] = (uint8_t)(hi << 4 | lo);
        }
        in[b]->pts = (int64_t)b * 60000;
    }
    AVPacket *out = av_packet_alloc();
    int packets = 0;
    double c0 = cpu_s(RUSAGE_THREAD);
    for (int b = 0; b < blocks; b++) {
        if (nl_audio_conv_push(c, in[b]) < 0)
            return 1;
        while (nl_audio_conv_receive(c, out) == 0) {
            packets++;
            av_packet_unref(out);
        }
    }
    nl_audio_conv_flush(c);
    while (nl_audio_conv_receive(c, out) == 0) {
        packets++;
        av_packet_unref(out);
    }
    double cpu = cpu_s(RUSAGE_THREAD) - c0;
    printf("audio seconds=%d blocks=%d aac_packets=%d cpu_s=%.3f us_per_block=%.1f "
           "core_percent=%.3f\n",
           seconds, blocks, packets, cpu, cpu * 1e6 / blocks, cpu / seconds * 100.0);
    av_packet_free(&out);
    for (int b = 0; b < blocks; b++)
        av_packet_free(&in[b]);
    free(in);
    nl_audio_conv_destroy(&c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 8 && !strcmp(argv[1], "video"))
        return video(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5], atol(argv[6]), atoi(argv[7]));
    if (argc == 3 && !strcmp(argv[1], "audio"))
        return audio(atoi(argv[2]));
    fprintf(stderr, "usage: transcode_bench video IN.h265 W H PRESET BITRATE GOP\n"
                    "       transcode_bench audio SECONDS\n");
    return 2;
}
