/* Camera clock unwrapping and the audio sample clock, as pure functions. */
#include "media/media_clock.h"
#include "media_test_util.h"

static void test_unwrap(void)
{
    nl__video_clock c;
    nl__video_clock_init(&c);
    int ev;
    NL_ASSERT_EQ(nl__video_clock_unwrap(&c, 3557705112u, 0, &ev), 3557705112LL);
    NL_ASSERT_EQ(ev, 0);
    NL_ASSERT_EQ(nl__video_clock_unwrap(&c, 3557767112u, 0, &ev), 3557767112LL);
    /* Walk through several wraps in 33.3 ms steps: always +33333. */
    int64_t prev = 3557767112LL;
    uint32_t raw = 3557767112u;
    for (int i = 0; i < 3 * 130000; i++) {
        raw += 33333u;
        int64_t t = nl__video_clock_unwrap(&c, raw, 0, &ev);
        NL_ASSERT_EQ(ev, 0);
        if (t != prev + 33333)
            NL_ASSERT_EQ(t, prev + 33333);
        prev = t;
    }
    NL_ASSERT(prev > 3 * (int64_t)UINT32_MAX);
    /* Stream pause of 30 minutes: forward. */
    raw += 1800u * 1000000u;
    NL_ASSERT_EQ(nl__video_clock_unwrap(&c, raw, 0, &ev), prev + 1800LL * 1000000);
    prev += 1800LL * 1000000;
    /* Back 1 s exactly: passed through. */
    raw -= 1000000u;
    NL_ASSERT_EQ(nl__video_clock_unwrap(&c, raw, 0, &ev), prev - 1000000);
    NL_ASSERT_EQ(ev, NL__CLOCK_BACK);
    prev -= 1000000;
    /* Back 1 s + 1 µs: reset, continuing step_us later (default 40 ms). */
    raw -= 1000001u;
    NL_ASSERT_EQ(nl__video_clock_unwrap(&c, raw, 0, &ev), prev + 40000);
    NL_ASSERT_EQ(ev, NL__CLOCK_RESET);
    NL_ASSERT_EQ(c.resets, 1);
    prev += 40000;
    /* Reboot: the counter restarts near 0. */
    NL_ASSERT_EQ(nl__video_clock_unwrap(&c, 5000u, 66666, &ev), prev + 66666);
    NL_ASSERT_EQ(ev, NL__CLOCK_RESET);
    NL_ASSERT_EQ(nl__video_clock_unwrap(&c, 45000u, 66666, &ev), prev + 66666 + 40000);
    NL_ASSERT_EQ(ev, 0);
}

static void test_audio_clock(void)
{
    nl__video_clock v;
    nl__video_clock_init(&v);
    nl__audio_clock a;
    nl__audio_clock_init(&a);
    /* No video time yet. */
    NL_ASSERT_EQ(nl__audio_clock_next(&a, &v, 8000, 480), INT64_MIN);
    int ev;
    nl__video_clock_unwrap(&v, 1000000, 0, &ev);
    NL_ASSERT_EQ(nl__audio_clock_next(&a, &v, 8000, 480), 1000000);
    NL_ASSERT_EQ(nl__audio_clock_next(&a, &v, 8000, 480), 1060000);
    /* Video moves on; audio keeps counting samples (no jitter). */
    nl__video_clock_unwrap(&v, 1100000, 0, &ev);
    NL_ASSERT_EQ(nl__audio_clock_next(&a, &v, 8000, 480), 1120000);
    /* 44.1 kHz: sample-exact accumulation, not per-frame rounding. */
    nl__audio_clock_init(&a);
    for (int i = 0; i < 40; i++)
        nl__audio_clock_next(&a, &v, 44100, 1024);
    NL_ASSERT_EQ(nl__audio_clock_next(&a, &v, 44100, 1024), 1100000 + 928798); /* 40960/44.1k */
    /* Drift beyond 1 s (camera sent audio in a burst): re-anchor. */
    nl__audio_clock_init(&a);
    int64_t last = 0;
    for (int i = 0; i < 18; i++)
        last = nl__audio_clock_next(&a, &v, 8000, 480);
    NL_ASSERT_EQ(last, 1100000); /* the 18th block would be +1.02 s: re-anchored */
    NL_ASSERT_EQ(nl__audio_clock_next(&a, &v, 8000, 480), 1160000);
    /* A video clock reset re-anchors too. */
    nl__video_clock_unwrap(&v, 50, 0, &ev);
    NL_ASSERT_EQ(ev, NL__CLOCK_RESET);
    NL_ASSERT_EQ(nl__audio_clock_next(&a, &v, 8000, 480), 1140000);
}

int main(void)
{
    NL_RUN(test_unwrap);
    NL_RUN(test_audio_clock);
    NL_DONE();
}
