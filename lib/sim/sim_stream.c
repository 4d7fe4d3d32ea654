/* Streams: an encoder thread per watched (channel, kind) producing BcMedia
 * packets ahead of time into a bounded ring, and a loop timer that releases
 * them at their due time to every subscriber (see sim_stream.h).
 *
 * The encoder's state block is reference-counted (loop side + thread), so
 * stopping a stream never waits for the thread: the loop drops its
 * reference, raises `stop`, and the thread frees the block when it notices.
 *
 * Encoder threads are joinable and listed in the registry (loop thread
 * only; the threads never touch it). Threads of stopped streams are reaped
 * without blocking whenever a stream starts or stops, and nl_sim_destroy
 * joins the rest with a deadline, so when it returns no encoder thread runs
 * library code and nothing the simulator allocated is left. A thread that
 * misses the deadline is detached and counted (it holds only its own state
 * block, which it frees). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <libavutil/buffer.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/thread.h"
#include "core/time.h"
#include "media/adpcm.h"
#include "media/bcmedia_write.h"
#include "neolink/error.h"
#include "sim/sim_conn.h"
#include "sim/sim_stream.h"
#include "sim/synth.h"

#define WHO "sim stream"
/* Packets the encoder may run ahead of real time (video + audio). */
#define RING_CAP 8
/* How often the loop looks again when the encoder is behind. */
#define POLL_NS (4 * NL_NS_PER_MS)
/* A packet this late means the encoder cannot keep up: re-anchor the
 * schedule rather than send a burst. */
#define MAX_LATE_NS (2 * NL_NS_PER_S)
/* Packets released per timer callback at most (bounded work per callback). */
#define RELEASE_BATCH 16

/* ------------------------------------------------------------------ registry */

/* One encoder thread not joined yet. */
typedef struct worker {
    nl_list node; /* in nl__sim_workers.threads */
    pthread_t tid;
} worker;

struct nl__sim_workers {
    nl_list threads; /* started and not yet joined */
};

int nl__sim_workers_create(nl__sim_workers **out)
{
    nl__sim_workers *w = nl__calloc(1, sizeof *w);
    if (!w)
        return NL_ENOMEM;
    nl_list_init(&w->threads);
    *out = w;
    return 0;
}

/* Joins, without blocking, every listed thread that has already ended. */
static void workers_reap(nl__sim_workers *w)
{
    nl_list_foreach_safe(it, tmp, &w->threads)
    {
        worker *k = nl_container_of(it, worker, node);
        if (pthread_tryjoin_np(k->tid, NULL) != 0)
            continue; /* EBUSY: still running (a stopped stream's frame) */
        nl_list_remove(&k->node);
        nl__free(k);
    }
}

int nl__sim_workers_release(nl__sim_workers **wp, uint64_t deadline_ns)
{
    nl__sim_workers *w = *wp;
    *wp = NULL;
    if (!w)
        return 0;
    /* Stopping was requested when each stream was freed; a thread notices
     * within one frame's encode. */
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / NL_NS_PER_S),
                          .tv_nsec = (long)(deadline_ns % NL_NS_PER_S)};
    int left = 0;
    while (!nl_list_empty(&w->threads)) {
        worker *k = nl_container_of(w->threads.next, worker, node);
        int err;
        do
            err = pthread_clockjoin_np(k->tid, NULL, CLOCK_MONOTONIC, &ts);
        while (err == EINTR);
        if (err != 0) {
            /* Missed the deadline: it finishes its frame on its own and frees
             * its state block; nothing of ours is left for it to touch. */
            pthread_detach(k->tid);
            left++;
        }
        nl_list_remove(&k->node);
        nl__free(k);
    }
    nl__free(w);
    return left; /* the caller logs them: it has the context */
}

/* ------------------------------------------------------------------ encoder thread */

typedef struct enc_state {
    atomic_int refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int error; /* set by the thread when the synthesizer fails */
    nl__sim_frame *ring[RING_CAP];
    unsigned head, count;
    atomic_uint_least64_t frames; /* video packets produced */

    /* settings, fixed before the thread starts */
    nl_synth_video_config vcfg;
    nl_media_codec vcodec;
    nl_sim_audio_codec audio;
    unsigned channel;
    uint32_t cam_start;  /* camera clock at stream time 0 (wire value) */
    uint64_t jump_at_us; /* clock-jump fault: stream time of the jump, or UINT64_MAX */
    int64_t posix_start; /* UTC seconds at stream time 0 */
} enc_state;

static void enc_unref(enc_state *e)
{
    if (atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    for (unsigned i = 0; i < e->count; i++)
        nl__sim_frame_unref(&e->ring[(e->head + i) % RING_CAP]);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    nl__free(e);
}

/* The camera clock on the wire for stream time t. clock-jump: from jump_at
 * on, the clock is moved so it reads 2^32 - 1 s at the jump and wraps one
 * second later. */
static uint32_t wire_ts(const enc_state *e, uint64_t t_us)
{
    uint32_t ts = e->cam_start + (uint32_t)t_us;
    if (t_us >= e->jump_at_us) {
        uint32_t at_jump = e->cam_start + (uint32_t)e->jump_at_us;
        uint32_t target = UINT32_MAX - 1000000u + 1u;
        ts += target - at_jump;
    }
    return ts;
}

static nl__sim_frame *pack_video(const enc_state *e, const AVPacket *pkt)
{
    nl__bcm_video_desc d = {
        .keyframe = (pkt->flags & AV_PKT_FLAG_KEY) != 0,
        .codec = e->vcodec,
        .channel = 0, /* cameras send '0' even on NVR channels (sheet §5.2) */
        .ts_us = wire_ts(e, (uint64_t)pkt->pts),
        .posix_time = (uint32_t)(e->posix_start + pkt->pts / 1000000),
        .unknown20 = 0,
    };
    size_t size = nl__bcm_video_size(&d, (size_t)pkt->size);
    AVBufferRef *buf = av_buffer_alloc(size);
    if (!buf)
        return NULL;
    int n = nl__bcm_write_video(buf->data, size, &d, pkt->data, (size_t)pkt->size);
    if (n < 0) {
        av_buffer_unref(&buf);
        return NULL;
    }
    nl__sim_frame *f = nl__sim_frame_new(buf, (size_t)n);
    if (f) {
        f->kind = d.keyframe ? NL_MEDIA_KIND_IFRAME : NL_MEDIA_KIND_PFRAME;
        f->keyframe = (uint8_t)d.keyframe;
        f->t_us = (uint64_t)pkt->pts;
        f->ts_us = d.ts_us;
    }
    return f;
}

static nl__sim_frame *pack_audio(enc_state *e, const AVPacket *pkt, nl__adpcm_state *st)
{
    uint8_t block[NL_ADPCM_HDR_LEN + 4096];
    const uint8_t *data = pkt->data;
    size_t len = (size_t)pkt->size;
    size_t size;
    if (e->audio == NL_SIM_AUDIO_ADPCM) {
        size_t samples = len / 2;
        if (samples > 8192 || (samples & 1))
            return NULL;
        int b = nl__adpcm_encode_block(st, (const int16_t *)(const void *)pkt->data, samples, block,
                                       sizeof block);
        if (b < 0)
            return NULL;
        data = block;
        len = (size_t)b;
        size = nl__bcm_adpcm_size(len);
    } else {
        size = nl__bcm_aac_size(len);
    }
    AVBufferRef *buf = av_buffer_alloc(size);
    if (!buf)
        return NULL;
    int n = e->audio == NL_SIM_AUDIO_ADPCM ? nl__bcm_write_adpcm(buf->data, size, data, len)
                                           : nl__bcm_write_aac(buf->data, size, data, len);
    if (n < 0) {
        av_buffer_unref(&buf);
        return NULL;
    }
    nl__sim_frame *f = nl__sim_frame_new(buf, (size_t)n);
    if (f) {
        f->kind = e->audio == NL_SIM_AUDIO_ADPCM ? NL_MEDIA_KIND_ADPCM : NL_MEDIA_KIND_AAC;
        f->t_us = (uint64_t)pkt->pts;
    }
    return f;
}

/* Queues f, waiting while the ring is full. Returns false when told to stop
 * (f is then released). */
static bool ring_put(enc_state *e, nl__sim_frame *f)
{
    pthread_mutex_lock(&e->mu);
    while (e->count == RING_CAP && !e->stop)
        pthread_cond_wait(&e->cv, &e->mu);
    bool ok = !e->stop;
    if (ok) {
        e->ring[(e->head + e->count) % RING_CAP] = f;
        e->count++;
    }
    pthread_mutex_unlock(&e->mu);
    if (!ok)
        nl__sim_frame_unref(&f);
    return ok;
}

static bool stopping(enc_state *e)
{
    pthread_mutex_lock(&e->mu);
    bool s = e->stop;
    pthread_mutex_unlock(&e->mu);
    return s;
}

static int run_encoder(enc_state *e)
{
    nl_synth_video *v = NULL;
    nl_synth_audio *a = NULL;
    AVPacket *vp = av_packet_alloc(), *ap = av_packet_alloc();
    nl__adpcm_state adpcm = {0, 0};
    int rc = vp && ap ? 0 : NL_ENOMEM;
    if (!rc)
        rc = nl_synth_video_create(&v, &e->vcfg);
    if (!rc && e->audio != NL_SIM_AUDIO_NONE) {
        nl_synth_audio_config ac;
        memset(&ac, 0, sizeof ac);
        ac.codec = e->audio == NL_SIM_AUDIO_AAC ? AV_CODEC_ID_AAC : AV_CODEC_ID_PCM_S16LE;
        rc = nl_synth_audio_create(&a, &ac);
    }
    /* One packet of look-ahead per medium, released in time order. */
    bool have_v = false, have_a = false;
    while (!rc && !stopping(e)) {
        if (!have_v) {
            rc = nl_synth_video_next(v, vp);
            have_v = rc == 0;
        }
        if (!rc && a && !have_a) {
            rc = nl_synth_audio_next(a, ap);
            have_a = rc == 0;
        }
        if (rc)
            break;
        bool take_audio = have_a && ap->pts < vp->pts;
        nl__sim_frame *f = take_audio ? pack_audio(e, ap, &adpcm) : pack_video(e, vp);
        if (take_audio) {
            av_packet_unref(ap);
            have_a = false;
        } else {
            av_packet_unref(vp);
            have_v = false;
            atomic_fetch_add(&e->frames, 1);
        }
        if (!f) {
            rc = NL_ENOMEM;
            break;
        }
        if (!ring_put(e, f))
            break;
    }
    av_packet_free(&vp);
    av_packet_free(&ap);
    nl_synth_audio_destroy(&a);
    nl_synth_video_destroy(&v);
    return rc;
}

static void *encoder_main(void *arg)
{
    enc_state *e = arg;
    int rc = run_encoder(e);
    if (rc < 0) {
        pthread_mutex_lock(&e->mu);
        e->error = rc;
        pthread_mutex_unlock(&e->mu);
    }
    enc_unref(e);
    return NULL;
}

/* Starts the encoder thread (joinable, listed in the registry) with all
 * signals blocked, so the host's signals keep going to its own threads. */
static int start_encoder(nl_sim *sim, enc_state *e)
{
    nl__sim_workers *reg = sim->workers;
    workers_reap(reg);
    worker *k = nl__calloc(1, sizeof *k);
    if (!k)
        return NL_ENOMEM;
    atomic_fetch_add(&e->refs, 1);
    int err = nl__thread_create(&k->tid, NULL, encoder_main, e);
    if (err != 0) {
        enc_unref(e);
        nl__free(k);
        return nl_err_from_errno(err);
    }
    nl_list_insert_tail(&reg->threads, &k->node);
    return 0;
}

static enc_state *enc_new(void)
{
    enc_state *e = nl__calloc(1, sizeof *e);
    if (!e)
        return NULL;
    if (pthread_mutex_init(&e->mu, NULL) != 0) {
        nl__free(e);
        return NULL;
    }
    if (pthread_cond_init(&e->cv, NULL) != 0) {
        pthread_mutex_destroy(&e->mu);
        nl__free(e);
        return NULL;
    }
    atomic_init(&e->refs, 1);
    atomic_init(&e->frames, 0);
    return e;
}

/* ------------------------------------------------------------------ loop side */

struct nl__sim_stream {
    nl_list node; /* in sim->streams */
    nl_sim *sim;
    unsigned channel;
    int kind;
    char who[32];
    nl_list subs;
    enc_state *enc;
    nl_timer timer;
    uint64_t start_ns;   /* loop time of stream time 0 */
    nl__sim_frame *next; /* taken from the ring, waiting for its due time */
    int in_fanout, dead, error_logged;
    int anchored; /* start_ns set from the first packet */
};

static void stream_free(nl__sim_stream *s)
{
    nl_sim *sim = s->sim;
    nl_timer_stop(sim->loop, &s->timer);
    nl_list_remove(&s->node);
    nl__sim_frame_unref(&s->next);
    sim->frames_encoded_gone += atomic_load(&s->enc->frames);
    pthread_mutex_lock(&s->enc->mu);
    s->enc->stop = true;
    pthread_cond_broadcast(&s->enc->cv);
    pthread_mutex_unlock(&s->enc->mu);
    enc_unref(s->enc);
    /* This thread is still finishing; earlier ones have usually ended. */
    workers_reap(sim->workers);
    NL_LOGI(sim->ctx, s->who, "stopped (no viewer left)");
    nl__free(s);
}

/* Takes the oldest ready packet, or NULL; *err gets the encoder's error. */
static nl__sim_frame *ring_take(enc_state *e, int *err)
{
    nl__sim_frame *f = NULL;
    pthread_mutex_lock(&e->mu);
    if (e->count) {
        f = e->ring[e->head];
        e->ring[e->head] = NULL;
        e->head = (e->head + 1) % RING_CAP;
        e->count--;
        pthread_cond_signal(&e->cv);
    }
    *err = e->error;
    pthread_mutex_unlock(&e->mu);
    return f;
}

static void fan_out(nl__sim_stream *s, nl__sim_frame *f)
{
    s->in_fanout = 1;
    nl_list_foreach(it, &s->subs) nl__sim_conn_deliver(nl_container_of(it, nl__sim_sub, node), f);
    s->in_fanout = 0;
}

static void on_stream_timer(nl_timer *t)
{
    nl__sim_stream *s = t->data;
    nl_sim *sim = s->sim;
    uint64_t now = nl_loop_now(sim->loop);
    for (int i = 0; i < RELEASE_BATCH; i++) {
        if (!s->next) {
            int err = 0;
            s->next = ring_take(s->enc, &err);
            if (!s->next) {
                if (err && !s->error_logged) {
                    s->error_logged = 1;
                    NL_LOGE(sim->ctx, s->who, "encoder failed: %s", nl_strerror(err));
                }
                nl_timer_start(sim->loop, t, now + (err ? 100 * NL_NS_PER_MS : POLL_NS));
                return;
            }
            if (!s->anchored) {
                /* Pace from the first packet, not from the start request:
                 * however long the encoder took to open (much longer under
                 * valgrind), the stream then runs in real time instead of
                 * bursting to catch up with a schedule it already missed. */
                s->anchored = 1;
                s->start_ns = now - s->next->t_us * 1000;
            }
        }
        uint64_t due = s->start_ns + s->next->t_us * 1000;
        if (due > now) {
            nl_timer_start(sim->loop, t, due);
            return;
        }
        if (now - due > MAX_LATE_NS) {
            NL_LOGW(sim->ctx, s->who, "encoder %llu ms behind real time: re-anchoring",
                    (unsigned long long)((now - due) / NL_NS_PER_MS));
            s->start_ns += now - due;
        }
        nl__sim_frame *f = s->next;
        s->next = NULL;
        fan_out(s, f);
        nl__sim_frame_unref(&f);
        if (s->dead) {
            stream_free(s);
            return;
        }
    }
    nl_timer_start(sim->loop, t, now); /* more due: continue next iteration */
}

static nl__sim_stream *stream_find(nl_sim *sim, unsigned channel, int kind)
{
    nl_list_foreach(it, &sim->streams)
    {
        nl__sim_stream *s = nl_container_of(it, nl__sim_stream, node);
        if (s->channel == channel && s->kind == kind)
            return s;
    }
    return NULL;
}

static nl__sim_stream *stream_start(nl_sim *sim, unsigned channel, int kind, int *rc)
{
    const nl_sim_config *cfg = &sim->cfg;
    const nl_sim_stream_config *sc = &cfg->stream[kind];
    nl__sim_stream *s = nl__calloc(1, sizeof *s);
    enc_state *e = s ? enc_new() : NULL;
    if (!e) {
        nl__free(s);
        *rc = NL_ENOMEM;
        return NULL;
    }
    s->sim = sim;
    s->channel = channel;
    s->kind = kind;
    s->enc = e;
    nl_list_init(&s->subs);
    nl_timer_init(&s->timer, on_stream_timer, s);
    snprintf(s->who, sizeof s->who, "sim stream %u/%s", channel, nl__sim_kind_name(kind));

    e->vcfg.codec = cfg->codec == NL_SIM_VIDEO_H265 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
    e->vcfg.width = (int)sc->width;
    e->vcfg.height = (int)sc->height;
    e->vcfg.fps = (int)sc->fps;
    e->vcfg.gop = (int)((uint64_t)cfg->gop_ms * sc->fps / 1000);
    if (e->vcfg.gop < 1)
        e->vcfg.gop = 1;
    e->vcfg.bit_rate = (int64_t)sc->bitrate_kbps * 1000;
    e->vcfg.cheap_frames = cfg->cheap ? e->vcfg.gop : 0;
    e->vcfg.threads = 1;
    e->vcfg.start_us = 0;
    e->vcodec = cfg->codec == NL_SIM_VIDEO_H265 ? NL_MEDIA_CODEC_H265 : NL_MEDIA_CODEC_H264;
    e->audio = cfg->audio;
    e->channel = channel;
    e->cam_start = (uint32_t)nl__sim_camera_us(sim);
    e->jump_at_us = sim->faults.on[NL_SIM_FAULT_CLOCK_JUMP]
                        ? sim->faults.arg[NL_SIM_FAULT_CLOCK_JUMP] * 1000
                        : UINT64_MAX;
    e->posix_start = (int64_t)time(NULL);

    *rc = start_encoder(sim, e);
    if (*rc < 0) {
        enc_unref(e);
        nl__free(s);
        return NULL;
    }
    s->start_ns = nl_loop_now(sim->loop);
    nl_list_insert_tail(&sim->streams, &s->node);
    sim->streams_started++;
    nl_timer_start(sim->loop, &s->timer, s->start_ns);
    NL_LOGI(sim->ctx, s->who, "started: %s %ux%u@%u, gop %d frames, audio %s",
            cfg->codec == NL_SIM_VIDEO_H265 ? "H.265" : "H.264", sc->width, sc->height, sc->fps,
            e->vcfg.gop,
            cfg->audio == NL_SIM_AUDIO_AAC     ? "aac"
            : cfg->audio == NL_SIM_AUDIO_ADPCM ? "adpcm"
                                               : "none");
    return s;
}

int nl__sim_stream_subscribe(nl_sim *sim, nl__sim_sub *sub)
{
    if (sub->stream)
        return NL_ESTATE;
    if (sub->channel >= sim->cfg.channels || sub->kind < 0 || sub->kind >= NL_SIM_STREAM_KINDS)
        return NL_EINVAL;
    int rc = 0;
    nl__sim_stream *s = stream_find(sim, sub->channel, sub->kind);
    bool fresh = false;
    if (!s) {
        s = stream_start(sim, sub->channel, sub->kind, &rc);
        if (!s)
            return rc;
        fresh = true;
    }
    /* A fresh stream begins with an IDR; joining a running one waits for
     * the next, so every viewer's first frame is decodable. */
    sub->waiting_key = fresh ? 0 : 1;
    sub->stream = s;
    nl_list_insert_tail(&s->subs, &sub->node);
    return 0;
}

void nl__sim_stream_unsubscribe(nl__sim_sub *sub)
{
    nl__sim_stream *s = sub->stream;
    if (!s)
        return;
    nl_list_remove(&sub->node);
    sub->stream = NULL;
    if (!nl_list_empty(&s->subs))
        return;
    if (s->in_fanout)
        s->dead = 1;
    else
        stream_free(s);
}

void nl__sim_streams_stop_all(nl_sim *sim)
{
    while (!nl_list_empty(&sim->streams)) {
        nl__sim_stream *s = nl_container_of(sim->streams.next, nl__sim_stream, node);
        while (!nl_list_empty(&s->subs)) {
            nl__sim_sub *sub = nl_container_of(s->subs.next, nl__sim_sub, node);
            nl_list_remove(&sub->node);
            sub->stream = NULL;
        }
        stream_free(s);
    }
}

const char *nl__sim_kind_name(int kind)
{
    static const char *const names[NL_SIM_STREAM_KINDS] = {"main", "sub", "extern"};
    return kind >= 0 && kind < NL_SIM_STREAM_KINDS ? names[kind] : "?";
}

int nl__sim_stream_info(const nl_sim *sim, int kind, uint8_t out[32])
{
    const nl_sim_stream_config *sc = &sim->cfg.stream[kind];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    nl_media_time t = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour,        tm.tm_min,     tm.tm_sec};
    nl_media_info info = {
        .version = 2,
        .width = sc->width,
        .height = sc->height,
        .fps = sc->fps,
        .unknown16 = 1,
        .start = t,
        .end = t,
    };
    return nl__bcm_write_info(out, 32, &info);
}

void nl__sim_streams_stats(const nl_sim *sim, nl_sim_stats *st)
{
    nl_list_foreach(it, &sim->streams)
    {
        const nl__sim_stream *s = nl_container_of(it, nl__sim_stream, node);
        st->streams_active++;
        st->streams_by_kind[s->kind]++;
        st->viewers += (uint32_t)nl_list_count(&s->subs);
        st->frames_encoded += atomic_load(&s->enc->frames);
    }
}
