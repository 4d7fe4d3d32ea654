/* Camera clock unwrapping and audio timestamps. See media_clock.h. */
#include "media/media_clock.h"

void nl__video_clock_init(nl__video_clock *c)
{
    c->valid = 0;
    c->last_raw = 0;
    c->last_ext = 0;
    c->resets = 0;
}

int64_t nl__video_clock_unwrap(nl__video_clock *c, uint32_t raw, int64_t step_us, int *events)
{
    *events = 0;
    if (!c->valid) {
        c->valid = 1;
        c->last_raw = raw;
        c->last_ext = raw;
        return c->last_ext;
    }
    uint32_t fwd = raw - c->last_raw; /* modulo 2^32 */
    if (fwd < UINT32_C(0x80000000)) {
        c->last_ext += fwd;
    } else {
        uint32_t back = (uint32_t)(0u - fwd);
        if (back <= NL_CLOCK_BACKSTEP_MAX_US) {
            c->last_ext -= back;
            *events = NL__CLOCK_BACK;
        } else {
            c->last_ext += step_us > 0 ? step_us : NL_CLOCK_DEFAULT_STEP_US;
            c->resets++;
            *events = NL__CLOCK_RESET;
        }
    }
    c->last_raw = raw;
    return c->last_ext;
}

void nl__audio_clock_init(nl__audio_clock *a)
{
    a->valid = 0;
    a->rate = 0;
    a->video_resets = 0;
    a->anchor_us = 0;
    a->samples = 0;
}

static int64_t samples_to_us(int64_t samples, int rate)
{
    /* samples * 10^6 overflows int64 only after ~6 years of uninterrupted
     * 48 kHz audio without a re-anchor. */
    return samples * 1000000 / rate;
}

int64_t nl__audio_clock_next(nl__audio_clock *a, const nl__video_clock *v, int rate, int nb_samples)
{
    if (!v->valid || rate <= 0)
        return INT64_MIN;
    if (!a->valid || a->rate != rate || a->video_resets != v->resets) {
        a->valid = 1;
        a->rate = rate;
        a->video_resets = v->resets;
        a->anchor_us = v->last_ext;
        a->samples = 0;
    }
    int64_t pts = a->anchor_us + samples_to_us(a->samples, rate);
    int64_t drift = pts - v->last_ext;
    if (drift > NL_AUDIO_REANCHOR_US || drift < -NL_AUDIO_REANCHOR_US) {
        a->anchor_us = v->last_ext;
        a->samples = 0;
        pts = a->anchor_us;
    }
    a->samples += nb_samples;
    return pts;
}
