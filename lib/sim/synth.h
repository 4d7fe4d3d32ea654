/* Media for the simulated camera, tests and benchmarks: encoded video access
 * units of a moving test pattern with a visible frame counter, and audio
 * blocks (8 kHz PCM for the sim's ADPCM encoder, or ADTS-framed AAC).
 *
 * Nothing here sleeps: each *_next call returns the next unit at once, with a
 * camera-style timestamp derived from its index (start_us + i * period, µs,
 * 64 bits; wrapping to the camera's u32 clock is the caller's business). The
 * caller paces real time.
 *
 * Video: libx264 or libx265, no B-frames, closed GOPs of `gop` frames, each
 * starting with an IDR that carries its parameter sets in band (SPS/PPS, plus
 * VPS for H.265) like a camera, Annex B. The pattern (colour bars, checker,
 * ramp) is pre-rendered once and scrolled by a memcpy per row; a bottom band
 * shows pre-rendered noise at a random offset per frame, which the encoder
 * cannot predict, so the stream gets near its target bit rate like a camera's;
 * the counter is drawn into a small box. Rendering costs far less than
 * encoding. Measured on the 2-vCPU dev VM (RelWithDebInfo, one encoder
 * thread): H.264 1920x1080@25 live = 15% of one core at 4.3 Mbit/s; 640x360@15
 * = 1.3%; H.265 1080p live = 145% (not real time: use cheap mode for it).
 *
 * "Cheap" mode (benchmarks): encodes cheap_frames frames (rounded up to whole
 * GOPs) at create time and then replays them forever with fresh timestamps.
 * The bitstream is valid (every cycle starts at an IDR), but the picture and
 * its counter repeat every cycle: the counter shows i mod cycle length.
 *
 * Threads: one synthesizer per thread at a time. libx264/libx265 may start
 * their own threads (see `threads`). Calls block only for the encoding work.
 */
#ifndef NL_SIM_SYNTH_H
#define NL_SIM_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/avcodec.h>

/* Digits in the counter (frame index mod 10^8). */
#define NL_SYNTH_COUNTER_DIGITS 8
#define NL_SYNTH_MIN_WIDTH      256
#define NL_SYNTH_MIN_HEIGHT     144
#define NL_SYNTH_MAX_WIDTH      4096
#define NL_SYNTH_MAX_HEIGHT     2304

/* ---------------------------------------------------------------- video */

typedef struct nl_synth_video nl_synth_video;

typedef struct nl_synth_video_config {
    enum AVCodecID codec; /* AV_CODEC_ID_H264 (also for AV_CODEC_ID_NONE) or AV_CODEC_ID_HEVC */
    int width, height;    /* even, NL_SYNTH_MIN..MAX; 0: 1920x1080 */
    int fps;              /* 1..120; 0: 25 */
    int gop;              /* frames from one IDR to the next; 0: 2 s worth */
    int64_t bit_rate;     /* bits/s; 0: 0.08 bit per pixel per frame (1080p25: 4.1 Mbit/s) */
    int cheap_frames;     /* 0: encode every frame; N > 0: encode N (rounded up to whole
                           * GOPs) once at create, then replay them */
    int threads;          /* encoder threads; 0: 1 (the sim shares 2 cores with others) */
    const char *preset;   /* x264/x265 preset; NULL: "ultrafast" */
    uint64_t start_us;    /* timestamp of frame 0, µs */
} nl_synth_video_config;

/* Main stream defaults: H.264 1920x1080 @ 25 fps, IDR every 2 s. */
void nl_synth_video_config_main(nl_synth_video_config *cfg);
/* Sub stream defaults: H.264 640x360 @ 15 fps, IDR every 2 s. */
void nl_synth_video_config_sub(nl_synth_video_config *cfg);

/* Opens the encoder (and in cheap mode encodes the replay cycle). Zero
 * fields take the main-stream defaults. Returns 0, NL_EINVAL (size, fps,
 * codec), NL_ECODEC (encoder missing or refused the settings), NL_ENOMEM. */
int nl_synth_video_create(nl_synth_video **out, const nl_synth_video_config *cfg);

/* Closes the encoder, frees everything, sets *s to NULL. NULL-safe. */
void nl_synth_video_destroy(nl_synth_video **s);

/* Produces the next access unit into pkt (which must be empty; the caller
 * owns the new reference and unrefs it): Annex-B data, pts = dts = the unit's
 * timestamp in µs, time_base {1, 1000000}, duration one frame, and
 * AV_PKT_FLAG_KEY on IDRs. Returns 0, NL_ENOMEM or NL_ECODEC. */
int nl_synth_video_next(nl_synth_video *s, AVPacket *pkt);

/* Annex-B parameter sets as the encoder reports them (SPS/PPS, VPS first for
 * H.265), for SDP tests. Borrowed; valid until destroy. */
const uint8_t *nl_synth_video_extradata(const nl_synth_video *s, size_t *size);

/* Units produced so far (the index of the next one). */
uint64_t nl_synth_video_count(const nl_synth_video *s);

/* The effective configuration (defaults filled in, cheap_frames rounded). */
void nl_synth_video_get_config(const nl_synth_video *s, nl_synth_video_config *cfg);

/* Timestamp of unit i: start_us + floor(i * 1e6 / fps). */
uint64_t nl_synth_video_ts(const nl_synth_video *s, uint64_t i);

/* Reads the frame counter back from a decoded luma plane of a frame this
 * synthesizer drew at width x height (any later compression is fine). Lets
 * tests and integration runs check frame identity end to end.
 * Returns 0 and *value, or NL_EPROTO when a digit is not recognisable,
 * NL_EINVAL for sizes the synthesizer does not draw. Pure function. */
int nl_synth_read_counter(const uint8_t *y, int linesize, int width, int height, uint32_t *value);

/* ---------------------------------------------------------------- audio */

typedef struct nl_synth_audio nl_synth_audio;

typedef struct nl_synth_audio_config {
    /* AV_CODEC_ID_PCM_S16LE (also for AV_CODEC_ID_NONE): blocks of block_samples
     * native-endian signed 16-bit mono samples, for the sim's ADPCM encoder.
     * AV_CODEC_ID_AAC: AAC-LC access units (1024 samples) each behind a 7-byte
     * ADTS header, like cameras that send AAC. */
    enum AVCodecID codec;
    int sample_rate;   /* 0: 8000 for PCM, 16000 for AAC */
    int block_samples; /* PCM only; 0: 480 (60 ms at 8 kHz, one Reolink ADPCM block) */
    int64_t bit_rate;  /* AAC only; 0: 32000 */
    uint64_t start_us; /* timestamp of block 0, µs */
} nl_synth_audio_config;

/* Opens the generator. The signal is a -12 dBFS chirp sweeping 300 Hz to
 * 3 kHz every 2 s, continuous across blocks. Returns 0, NL_EINVAL,
 * NL_ECODEC or NL_ENOMEM. */
int nl_synth_audio_create(nl_synth_audio **out, const nl_synth_audio_config *cfg);
void nl_synth_audio_destroy(nl_synth_audio **a);

/* Next block/AU into pkt (empty on entry; the caller owns the reference),
 * pts = dts = start_us + floor(i * samples_per_unit * 1e6 / sample_rate), time_base
 * {1, 1000000}. Returns 0, NL_ENOMEM or NL_ECODEC. */
int nl_synth_audio_next(nl_synth_audio *a, AVPacket *pkt);

/* AAC: the 2-byte AudioSpecificConfig (what an RTP muxer needs once ADTS is
 * stripped). PCM: NULL and *size 0. Borrowed; valid until destroy. */
const uint8_t *nl_synth_audio_extradata(const nl_synth_audio *a, size_t *size);

/* Samples per unit (block_samples, or 1024 for AAC) and the sample rate. */
int nl_synth_audio_unit_samples(const nl_synth_audio *a);
int nl_synth_audio_sample_rate(const nl_synth_audio *a);

#endif
