/* Helpers shared by the lib/hw unit tests: a log capture, a libavcodec
 * decoder for checking outputs, and the media synthesizer (module sim,
 * which tests/CMakeLists.txt links into the hw tests only). */
#ifndef HW_TEST_UTIL_H
#define HW_TEST_UTIL_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>

#include "core/time.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"
#include "sim/synth.h"
#include "test.h"

/* libx265 3.5 leaks inside x265_encoder_open whatever the options (see
 * tests/valgrind.supp); not ours. */
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:libx265.so\n";
}

static inline int under_valgrind(void)
{
    return getenv("NL_UNDER_VALGRIND") != NULL;
}

/* ---------------------------------------------------------------- logs */

typedef struct log_capture {
    pthread_mutex_t mu;
    char text[32768];
    size_t len;
    int echo;
} log_capture;

static log_capture g_log = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void capture_log(void *ud, nl_log_level level, const char *line)
{
    log_capture *c = ud;
    pthread_mutex_lock(&c->mu);
    size_t n = strlen(line);
    if (c->len + n + 2 < sizeof c->text) {
        memcpy(c->text + c->len, line, n);
        c->len += n;
        c->text[c->len++] = '\n';
        c->text[c->len] = '\0';
    }
    pthread_mutex_unlock(&c->mu);
    if (c->echo || getenv("NL_TEST_VERBOSE"))
        fprintf(stderr, "log %d: %s\n", (int)level, line);
}

static inline nl_ctx *test_ctx(void)
{
    nl_ctx *ctx = NULL;
    nl_ctx_config cfg = {.log_fn = capture_log, .log_ud = &g_log, .log_level = NL_LOG_DEBUG};
    NL_ASSERT_OK(nl_ctx_create(&ctx, &cfg));
    return ctx;
}

static inline void log_clear(void)
{
    pthread_mutex_lock(&g_log.mu);
    g_log.len = 0;
    g_log.text[0] = '\0';
    pthread_mutex_unlock(&g_log.mu);
}

static inline int log_has(const char *needle)
{
    pthread_mutex_lock(&g_log.mu);
    int found = strstr(g_log.text, needle) != NULL;
    pthread_mutex_unlock(&g_log.mu);
    return found;
}

/* ---------------------------------------------------------------- decoding */

typedef struct test_dec {
    AVCodecContext *c;
    AVFrame *f;
} test_dec;

static inline test_dec test_dec_open(enum AVCodecID id, const AVCodecParameters *par)
{
    test_dec d;
    const AVCodec *codec = avcodec_find_decoder(id);
    NL_ASSERT(codec != NULL);
    d.c = avcodec_alloc_context3(codec);
    NL_ASSERT(d.c != NULL);
    if (par)
        NL_ASSERT(avcodec_parameters_to_context(d.c, par) >= 0);
    d.c->thread_count = 1;
    NL_ASSERT_EQ(avcodec_open2(d.c, codec, NULL), 0);
    d.f = av_frame_alloc();
    return d;
}

static inline void test_dec_close(test_dec *d)
{
    av_frame_free(&d->f);
    avcodec_free_context(&d->c);
}

/* Sends pkt (NULL drains) and calls fn for every frame that comes out.
 * Returns the number of frames. */
static inline int test_dec_run(test_dec *d, const AVPacket *pkt,
                               void (*fn)(void *ud, const AVFrame *f), void *ud)
{
    int rc = avcodec_send_packet(d->c, pkt);
    NL_ASSERT(rc == 0 || (pkt == NULL && rc == AVERROR_EOF));
    int n = 0;
    while ((rc = avcodec_receive_frame(d->c, d->f)) == 0) {
        if (fn)
            fn(ud, d->f);
        n++;
    }
    NL_ASSERT(rc == AVERROR(EAGAIN) || rc == AVERROR_EOF);
    return n;
}

/* Annex-B NAL unit types of an access unit (H.264: 5 bits, H.265: 6 bits). */
static inline int nal_types(const uint8_t *p, int len, int h265, int *types, int max)
{
    int n = 0;
    for (int i = 0; i + 3 < len && n < max; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            types[n++] = h265 ? (p[i + 3] >> 1) & 0x3f : p[i + 3] & 0x1f;
            i += 2;
        }
    }
    return n;
}

static inline int has_nal(const AVPacket *p, int h265, int type)
{
    int t[64];
    int n = nal_types(p->data, p->size, h265, t, 64);
    for (int i = 0; i < n; i++)
        if (t[i] == type)
            return 1;
    return 0;
}

/* Mean squared error of two luma planes (same size) -> PSNR in dB. */
static inline double luma_psnr(const AVFrame *a, const AVFrame *b)
{
    double se = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++) {
            double d =
                (double)a->data[0][y * a->linesize[0] + x] - b->data[0][y * b->linesize[0] + x];
            se += d * d;
        }
    double mse = se / ((double)a->width * a->height);
    return mse <= 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / mse);
}

static inline void sleep_ms(unsigned ms)
{
    usleep(ms * 1000u);
}

/* Waits up to 10 s for every lib/hw thread to have exited (abandoned
 * helpers finish on their own), so leak checkers see a quiet process. */
static inline void wait_threads_gone(void)
{
    for (int i = 0; i < 1000; i++) {
        nl_hw_stats st;
        nl_hw_get_stats(&st, sizeof st);
        if (st.workers_running == 0)
            return;
        sleep_ms(10);
    }
    NL_FAIL("lib/hw threads still running after 10 s");
}

#endif
