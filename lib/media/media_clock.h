/* Camera time to 64-bit packet timestamps.
 *
 * Video: the BcMedia header's free-running u32 µs counter wraps every
 * 2^32 µs (about 71.6 min). It is unwrapped by taking each step modulo 2^32:
 * a step below 2^31 is forward time (wrap included). A step back of at most
 * 1 s is passed through and flagged; a bigger step back means the camera's
 * clock restarted (reboot), so the timeline continues one frame interval
 * after the last stamp and the packet is flagged, keeping pts monotonic for
 * the muxers downstream.
 *
 * Audio packets carry no time on the wire: their pts counts samples from
 * the video clock (anchored at the latest video stamp), re-anchored when the
 * two drift more than NL_AUDIO_REANCHOR_US apart or the video clock reset. */
#ifndef NL_MEDIA_CLOCK_H
#define NL_MEDIA_CLOCK_H

#include <stdint.h>

#define NL_CLOCK_BACKSTEP_MAX_US 1000000
#define NL_CLOCK_DEFAULT_STEP_US 40000 /* 25 fps, when Info gave no rate */
#define NL_AUDIO_REANCHOR_US     1000000

typedef struct nl__video_clock {
    int valid;
    uint32_t last_raw;
    int64_t last_ext;
    unsigned resets; /* bumps on each reset so the audio clock follows */
} nl__video_clock;

/* Result bits of nl__video_clock_unwrap. */
enum { NL__CLOCK_RESET = 1, NL__CLOCK_BACK = 2 };

void nl__video_clock_init(nl__video_clock *c);
/* Unwraps raw; step_us is the frame interval used across a reset. *events
 * gets NL__CLOCK_* bits. Returns the 64-bit µs time. The first stamp maps
 * to itself. */
int64_t nl__video_clock_unwrap(nl__video_clock *c, uint32_t raw, int64_t step_us, int *events);

typedef struct nl__audio_clock {
    int valid;
    int rate;
    unsigned video_resets;
    int64_t anchor_us;
    int64_t samples; /* since the anchor */
} nl__audio_clock;

void nl__audio_clock_init(nl__audio_clock *a);
/* pts of the next nb_samples at `rate` Hz (then advances), or INT64_MIN
 * (AV_NOPTS_VALUE) while the video clock has no time yet. */
int64_t nl__audio_clock_next(nl__audio_clock *a, const nl__video_clock *v, int rate,
                             int nb_samples);

#endif
