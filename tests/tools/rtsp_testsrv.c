/* Test source for the RTSP server: serves synthesized mounts in real time.
 *
 *   rtsp_testsrv [options] MOUNT...
 *     MOUNT      name:video[+audio][,opt...]  video h264|h265, audio aac|pcmu|pcma
 *                opts: gop (GOP cache), users=a/b (permitted accounts)
 *                e.g. "cam:h264+aac" "hevc:h265" "pub:h264,users=bob"
 *     --port N           RTSP port (0: ephemeral); prints "PORT <rtsp> <udp>" on stdout
 *     --bind ADDR        default 127.0.0.1
 *     --user name:pass   account (repeatable)
 *     --auth basic|digest|both
 *     --size WxH  --fps N  --gop N  --bitrate BPS  --cheap N (replay N encoded frames)
 *     --max-clients N  --max-per-mount N  --max-connections N
 *                        (the last two default to what --max-clients implies)
 *     --queue-ms N  --queue-bytes N
 *     --stall-ms N  --sndbuf N  --session-timeout S  --udp-grace S
 *     --udp-blackhole    hand no UDP packets to clients (forces ffmpeg's fallback)
 *     --no-udp           refuse UDP transports
 *     --duration S       exit after S seconds (default: until SIGTERM/SIGINT)
 *     --log LEVEL        error|warn|info|debug|trace (stderr, timestamped)
 *     --heap-stats       count the library's heap (its allocator hook); SIGUSR1
 *                        then prints "HEAP bytes=B allocs=N calls=C frames=F":
 *                        live bytes and blocks, allocations made through the
 *                        hook so far, video frames pushed so far
 * SIGUSR1 also prints "PUSH n=.. p50_us=.. p99_us=.. max_us=.. allocs=..": how
 * long nl_rtsp_mount_push() took for the video frames pushed since the last
 * SIGUSR2 (or the start): the time from a frame's arrival until the last
 * client that keeps up has it in its socket (the fan-out's added latency);
 * allocs: heap allocations of any kind (libav's too) made inside those
 * pushes, -1 unless tests/bench/alloc_count.so is preloaded (its
 * nlbench_allocs_thread() is looked up with dlsym).
 * On exit (signal or duration) it stops the server gracefully and prints one
 * "mount ..." line per mount and one "client ..." line per client. */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <malloc.h>
#include <stdatomic.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>

#include "loop/loop_int.h"
#include "neolink/alloc.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "neolink/rtsp.h"
#include "rtsp/server_int.h"
#include "sim/synth.h"

#define MAX_MOUNTS 8

typedef struct src {
    char name[64];
    enum AVCodecID vcodec, acodec;
    bool gop_cache;
    char users_buf[256];
    const char *users[9];
    nl_synth_video *v;
    nl_synth_audio *a;
    AVPacket *vpkt, *apkt; /* next unit waiting for its time */
    nl_rtsp_mount *m;
    uint64_t pushed;
} src;

static struct {
    int w, h, fps, gop, cheap;
    int64_t bitrate;
    bool udp_blackhole;
    uint64_t t0;
    nl_loop *loop;
    nl_rtsp_server *srv;
    src srcs[MAX_MOUNTS];
    int nsrcs;
    nl_timer tick;
    bool stopping;
} g = {.w = 320, .h = 240, .fps = 25, .gop = 25};

/* --heap-stats: live bytes and blocks allocated through the library's
 * allocator (what a viewer costs in userspace, independent of how much
 * freed memory the C library keeps resident). Atomics: frames may be
 * released on other threads. */
static atomic_long heap_bytes, heap_blocks, heap_calls;

static void *count_malloc(void *ud, size_t n)
{
    void *p = malloc(n);
    atomic_fetch_add(&heap_calls, 1);
    if (p) {
        atomic_fetch_add(&heap_bytes, (long)malloc_usable_size(p));
        atomic_fetch_add(&heap_blocks, 1);
    }
    return p;
}

static void *count_realloc(void *ud, void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    atomic_fetch_add(&heap_calls, 1);
    if (q) {
        atomic_fetch_add(&heap_bytes, (long)malloc_usable_size(q) - (long)old);
        if (!p)
            atomic_fetch_add(&heap_blocks, 1);
    }
    return q;
}

static void count_free(void *ud, void *p)
{
    if (p) {
        atomic_fetch_sub(&heap_bytes, (long)malloc_usable_size(p));
        atomic_fetch_sub(&heap_blocks, 1);
    }
    free(p);
}

/* Durations of video pushes, 10 µs buckets up to 100 ms (the last bucket
 * takes anything longer). */
#define PUSH_BUCKETS 10000
static uint32_t push_hist[PUSH_BUCKETS];
static uint64_t push_n, push_max_ns, frames_pushed;
/* The benchmark's allocation counter (alloc_count.so), when preloaded. */
static long (*thread_allocs)(void);
static long push_allocs;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void push_note(uint64_t ns)
{
    uint64_t b = ns / 10000;
    push_hist[b < PUSH_BUCKETS ? b : PUSH_BUCKETS - 1]++;
    push_n++;
    if (ns > push_max_ns)
        push_max_ns = ns;
}

/* Upper edge (µs) of the bucket holding the q-quantile. */
static unsigned push_quantile(double q)
{
    uint64_t want = (uint64_t)(q * (double)push_n), seen = 0;
    for (unsigned b = 0; b < PUSH_BUCKETS; b++) {
        seen += push_hist[b];
        if (seen > want)
            return (b + 1) * 10;
    }
    return PUSH_BUCKETS * 10;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "rtsp_testsrv: %s: %s\n", what, rc < 0 ? nl_strerror(rc) : "");
    exit(2);
}

static void on_log(void *ud, nl_log_level level, const char *line)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fprintf(stderr, "%ld.%03ld %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000, line);
}

/* G.711 µ-law / A-law of one 16-bit sample (ITU-T G.711). */
static uint8_t ulaw(int16_t s)
{
    int sign = s < 0 ? 0x80 : 0, v = s < 0 ? -s : s;
    if (v > 32635)
        v = 32635;
    v += 0x84;
    int exp = 7;
    for (int mask = 0x4000; (v & mask) == 0 && exp > 0; mask >>= 1)
        exp--;
    int mant = (v >> (exp + 3)) & 0x0f;
    return (uint8_t) ~(sign | (exp << 4) | mant);
}

static uint8_t alaw(int16_t s)
{
    int sign = s >= 0 ? 0x80 : 0, v = s < 0 ? -s : s;
    v >>= 3;
    int out;
    if (v < 32) {
        out = v >> 1;
    } else {
        int exp = 1;
        while ((v >> (exp + 4)) > 1 && exp < 7)
            exp++;
        out = (exp << 4) | ((v >> exp) & 0x0f);
    }
    return (uint8_t)((out | sign) ^ 0x55);
}

static void next_audio(src *s)
{
    int rc = nl_synth_audio_next(s->a, s->apkt);
    if (rc < 0)
        die("audio", rc);
    if (s->acodec == AV_CODEC_ID_AAC) {
        /* The synthesizer frames AAC in ADTS like a camera; RTP wants raw AUs. */
        int hl = (s->apkt->data[1] & 1) ? 7 : 9;
        s->apkt->data += hl;
        s->apkt->size -= hl;
    } else {
        AVPacket *p = s->apkt;
        int n = p->size / 2;
        AVPacket *q = av_packet_alloc();
        if (!q || av_new_packet(q, n) < 0)
            die("audio", NL_ENOMEM);
        const int16_t *pcm = (const int16_t *)p->data;
        for (int i = 0; i < n; i++)
            q->data[i] = s->acodec == AV_CODEC_ID_PCM_MULAW ? ulaw(pcm[i]) : alaw(pcm[i]);
        av_packet_copy_props(q, p);
        av_packet_unref(p);
        av_packet_move_ref(p, q);
        av_packet_free(&q);
    }
}

static void on_tick(nl_timer *t)
{
    uint64_t now = nl_loop_now(g.loop);
    int64_t el_us = (int64_t)((now - g.t0) / 1000);
    for (int i = 0; i < g.nsrcs; i++) {
        src *s = &g.srcs[i];
        /* Push everything due, in timestamp order across the tracks. */
        for (;;) {
            bool v_due = s->vpkt->pts <= el_us;
            bool a_due = s->a && s->apkt->pts <= el_us;
            if (!v_due && !a_due)
                break;
            if (v_due && (!a_due || s->vpkt->pts <= s->apkt->pts)) {
                if (s->m) {
                    long a0 = thread_allocs ? thread_allocs() : 0;
                    uint64_t t0 = mono_ns();
                    nl_rtsp_mount_push(s->m, 0, s->vpkt);
                    push_note(mono_ns() - t0);
                    if (thread_allocs)
                        push_allocs += thread_allocs() - a0;
                    frames_pushed++;
                }
                av_packet_unref(s->vpkt);
                int rc = nl_synth_video_next(s->v, s->vpkt);
                if (rc < 0)
                    die("video", rc);
                s->pushed++;
            } else {
                if (s->m)
                    nl_rtsp_mount_push(s->m, 1, s->apkt);
                av_packet_unref(s->apkt);
                next_audio(s);
            }
        }
    }
    /* Wake for the earliest next unit. */
    int64_t next = INT64_MAX;
    for (int i = 0; i < g.nsrcs; i++) {
        if (g.srcs[i].vpkt->pts < next)
            next = g.srcs[i].vpkt->pts;
        if (g.srcs[i].a && g.srcs[i].apkt->pts < next)
            next = g.srcs[i].apkt->pts;
    }
    nl_timer_start(g.loop, t, g.t0 + (uint64_t)next * 1000);
}

static void parse_mount(const char *spec, src *s)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *colon = strchr(buf, ':');
    if (!colon)
        die("mount spec needs name:codec", NL_EINVAL);
    *colon = '\0';
    snprintf(s->name, sizeof s->name, "%.63s", buf);
    char *opts = strchr(colon + 1, ',');
    if (opts)
        *opts++ = '\0';
    char *plus = strchr(colon + 1, '+');
    if (plus)
        *plus++ = '\0';
    s->vcodec = strcmp(colon + 1, "h265") == 0 ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
    if (plus)
        s->acodec = strcmp(plus, "aac") == 0    ? AV_CODEC_ID_AAC
                    : strcmp(plus, "pcma") == 0 ? AV_CODEC_ID_PCM_ALAW
                                                : AV_CODEC_ID_PCM_MULAW;
    while (opts && *opts) {
        char *next = strchr(opts, ',');
        if (next)
            *next++ = '\0';
        if (strcmp(opts, "gop") == 0) {
            s->gop_cache = true;
        } else if (strncmp(opts, "users=", 6) == 0) {
            snprintf(s->users_buf, sizeof s->users_buf, "%s", opts + 6);
            int n = 0;
            for (char *u = strtok(s->users_buf, "/"); u && n < 8; u = strtok(NULL, "/"))
                s->users[n++] = u;
            s->users[n] = NULL;
        }
        opts = next;
    }
}

static void open_src(src *s)
{
    nl_synth_video_config vc = {.codec = s->vcodec,
                                .width = g.w,
                                .height = g.h,
                                .fps = g.fps,
                                .gop = g.gop,
                                .bit_rate = g.bitrate,
                                .cheap_frames = g.cheap};
    int rc = nl_synth_video_create(&s->v, &vc);
    if (rc < 0)
        die("video synth", rc);
    s->vpkt = av_packet_alloc();
    s->apkt = av_packet_alloc();
    AVCodecParameters *vp = avcodec_parameters_alloc(), *ap = avcodec_parameters_alloc();
    if (!s->vpkt || !s->apkt || !vp || !ap)
        die("alloc", NL_ENOMEM);
    vp->codec_type = AVMEDIA_TYPE_VIDEO;
    vp->codec_id = s->vcodec;
    vp->width = g.w;
    vp->height = g.h;
    /* Extradata deliberately left empty: the mount learns SPS/PPS in band,
     * like it must with a camera. */
    nl_rtsp_track_config tracks[2] = {{vp, {1, 1000000}}, {ap, {1, 1000000}}};
    int n = 1;
    if (s->acodec != AV_CODEC_ID_NONE) {
        nl_synth_audio_config ac = {.codec = s->acodec == AV_CODEC_ID_AAC ? AV_CODEC_ID_AAC
                                                                          : AV_CODEC_ID_PCM_S16LE};
        rc = nl_synth_audio_create(&s->a, &ac);
        if (rc < 0)
            die("audio synth", rc);
        ap->codec_type = AVMEDIA_TYPE_AUDIO;
        ap->codec_id = s->acodec;
        ap->sample_rate = nl_synth_audio_sample_rate(s->a);
        av_channel_layout_default(&ap->ch_layout, 1);
        size_t es = 0;
        const uint8_t *e = nl_synth_audio_extradata(s->a, &es);
        if (e && es) {
            ap->extradata = av_mallocz(es + AV_INPUT_BUFFER_PADDING_SIZE);
            memcpy(ap->extradata, e, es);
            ap->extradata_size = (int)es;
        }
        n = 2;
        next_audio(s);
    }
    nl_rtsp_mount_config mc = {.path = s->name,
                               .tracks = tracks,
                               .n_tracks = n,
                               .gop_cache = s->gop_cache,
                               .users = s->users[0] ? s->users : NULL};
    rc = nl_rtsp_mount_create(g.srv, &mc, &s->m);
    if (rc < 0)
        die("mount", rc);
    avcodec_parameters_free(&vp);
    avcodec_parameters_free(&ap);
    rc = nl_synth_video_next(s->v, s->vpkt);
    if (rc < 0)
        die("video", rc);
}

static void print_stats(void *ud, const nl_rtsp_mount_stats *m, const nl_rtsp_client_stats *c)
{
    if (m)
        printf("mount %s clients=%zu frames_in=%llu sent=%llu dropped=%llu overflows=%llu "
               "peak_bytes=%zu peak_frames=%u\n",
               m->path, m->clients, (unsigned long long)m->frames_in,
               (unsigned long long)m->frames_sent, (unsigned long long)m->frames_dropped,
               (unsigned long long)m->overflows, m->queue_peak_bytes, m->queue_peak_frames);
    else
        printf("client %s %s %s sent=%llu dropped=%llu overflows=%llu peak_bytes=%zu\n", c->mount,
               c->tcp ? "tcp" : "udp", c->peer, (unsigned long long)c->frames_sent,
               (unsigned long long)c->frames_dropped, (unsigned long long)c->overflows,
               c->queue_peak_bytes);
}

static void on_stopped(void *ud)
{
    nl_loop_stop(g.loop);
}

static void begin_stop(void)
{
    if (g.stopping)
        return;
    g.stopping = true;
    nl_rtsp_server_foreach(g.srv, print_stats, NULL);
    nl_rtsp_server_stats st;
    nl_rtsp_server_get_stats(g.srv, &st);
    printf("server connections=%zu sessions=%zu accepted=%llu refused=%llu stalled=%llu "
           "expired=%llu auth_failures=%llu\n",
           st.connections, st.sessions, (unsigned long long)st.accepted,
           (unsigned long long)st.refused, (unsigned long long)st.stalled,
           (unsigned long long)st.expired, (unsigned long long)st.auth_failures);
    fflush(stdout);
    nl_timer_stop(g.loop, &g.tick);
    nl_rtsp_server_stop(g.srv, 1000, on_stopped, NULL);
}

static void on_signal(nl_io *io, unsigned ev)
{
    struct signalfd_siginfo si;
    bool stop = false;
    while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGUSR1) {
            printf("HEAP bytes=%ld allocs=%ld calls=%ld frames=%llu\n", atomic_load(&heap_bytes),
                   atomic_load(&heap_blocks), atomic_load(&heap_calls),
                   (unsigned long long)frames_pushed);
            printf("PUSH n=%llu p50_us=%u p99_us=%u max_us=%llu allocs=%ld\n",
                   (unsigned long long)push_n, push_quantile(0.5), push_quantile(0.99),
                   (unsigned long long)(push_max_ns / 1000), thread_allocs ? push_allocs : -1L);
            fflush(stdout);
        } else if (si.ssi_signo == SIGUSR2) {
            memset(push_hist, 0, sizeof push_hist);
            push_n = push_max_ns = 0;
            push_allocs = 0;
        } else {
            stop = true;
        }
    }
    if (stop)
        begin_stop();
}

static void on_duration(nl_timer *t)
{
    begin_stop();
}

int main(int argc, char **argv)
{
    /* Before any encoder thread exists, so every thread inherits the mask
     * and the signals only ever arrive through the signalfd. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    nl_rtsp_server_config cfg;
    nl_rtsp_server_config_init(&cfg);
    cfg.bind_address = "127.0.0.1";
    nl_rtsp_user users[8];
    size_t nusers = 0;
    int duration = 0;
    bool heap_stats = false;
    const char *level = NULL;
    /* Zero: derived from max_clients by the server (fill_defaults). */
    cfg.max_clients_per_mount = 0;
    cfg.max_connections = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : "";
#define OPT(name) (strcmp(a, name) == 0 && (i++, 1))
        if (OPT("--port"))
            cfg.port = (uint16_t)atoi(v);
        else if (OPT("--bind"))
            cfg.bind_address = v;
        else if (OPT("--user") && nusers < 8) {
            char *dup = strdup(v), *c = strchr(dup, ':');
            if (!c)
                die("--user name:pass", NL_EINVAL);
            *c = '\0';
            users[nusers].name = dup;
            users[nusers++].password = c + 1;
        } else if (OPT("--auth"))
            cfg.auth_schemes = strcmp(v, "basic") == 0    ? NL_RTSP_SERVER_AUTH_BASIC
                               : strcmp(v, "digest") == 0 ? NL_RTSP_SERVER_AUTH_DIGEST
                                                          : 3;
        else if (OPT("--size"))
            sscanf(v, "%dx%d", &g.w, &g.h);
        else if (OPT("--fps"))
            g.fps = atoi(v);
        else if (OPT("--gop"))
            g.gop = atoi(v);
        else if (OPT("--bitrate"))
            g.bitrate = atoll(v);
        else if (OPT("--cheap"))
            g.cheap = atoi(v);
        else if (OPT("--max-clients"))
            cfg.max_clients = (unsigned)atoi(v);
        else if (OPT("--max-per-mount"))
            cfg.max_clients_per_mount = (unsigned)atoi(v);
        else if (OPT("--max-connections"))
            cfg.max_connections = (unsigned)atoi(v);
        else if (OPT("--queue-ms"))
            cfg.queue_max_ms = (uint32_t)atoi(v);
        else if (OPT("--queue-bytes"))
            cfg.queue_max_bytes = (size_t)atoll(v);
        else if (OPT("--stall-ms"))
            cfg.stall_timeout_ms = (uint32_t)atoi(v);
        else if (OPT("--sndbuf"))
            cfg.sndbuf = atoi(v);
        else if (OPT("--session-timeout"))
            cfg.session_timeout_s = (uint32_t)atoi(v);
        else if (OPT("--udp-grace"))
            cfg.udp_grace_s = (uint32_t)atoi(v);
        else if (OPT("--duration"))
            duration = atoi(v);
        else if (OPT("--log"))
            level = v;
        else if (strcmp(a, "--heap-stats") == 0)
            heap_stats = true;
        else if (strcmp(a, "--udp-blackhole") == 0)
            g.udp_blackhole = true;
        else if (strcmp(a, "--no-udp") == 0)
            cfg.disable_udp = true;
        else if (a[0] == '-')
            die(a, NL_EINVAL);
        else if (g.nsrcs < MAX_MOUNTS)
            parse_mount(a, &g.srcs[g.nsrcs++]);
#undef OPT
    }
    if (g.nsrcs == 0)
        die("no mount given", NL_EINVAL);
    *(void **)&thread_allocs = dlsym(RTLD_DEFAULT, "nlbench_allocs_thread");
    if (heap_stats) {
        /* Before the first libneolink allocation. */
        static const nl_allocator counting = {count_malloc, count_realloc, count_free, NULL};
        nl_allocator_set(&counting);
    }
    cfg.users = users;
    cfg.n_users = nusers;

    nl_ctx *ctx = NULL;
    nl_ctx_config cc = {.log_fn = on_log,
                        .log_level = level ? nl_log_level_parse(level) : NL_LOG_WARN};
    if ((int)cc.log_level < 0)
        cc.log_level = NL_LOG_WARN;
    int rc = nl_ctx_create(&ctx, &cc);
    if (rc < 0)
        die("ctx", rc);
    rc = nl_loop_create(&g.loop);
    if (rc < 0)
        die("loop", rc);
    rc = nl_rtsp_server_create(&g.srv, g.loop, ctx, &cfg);
    if (rc < 0)
        die("server", rc);
    if (g.udp_blackhole) {
        /* Keep the sockets (SETUP still succeeds) but send nothing. */
        nl__rtsp_udp *u = &g.srv->udp;
        for (int i = 0; i < 2; i++)
            shutdown(u->fd[i], SHUT_WR);
    }
    for (int i = 0; i < g.nsrcs; i++)
        open_src(&g.srcs[i]);

    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    nl_io sio;
    nl_io_init(&sio, sfd, on_signal, NULL);
    nl_io_start(g.loop, &sio, NL_IO_READ);
    nl_timer dur;
    nl_timer_init(&dur, on_duration, NULL);
    if (duration > 0)
        nl_timer_start_in(g.loop, &dur, (uint64_t)duration * NL_NS_PER_S);

    g.t0 = nl_loop_now(g.loop);
    nl_timer_init(&g.tick, on_tick, NULL);
    nl_timer_start(g.loop, &g.tick, g.t0);
    printf("PORT %u %u\n", (unsigned)nl_rtsp_server_port(g.srv),
           (unsigned)nl_rtsp_server_udp_port(g.srv));
    fflush(stdout);

    nl_loop_run(g.loop);

    nl_timer_stop(g.loop, &dur);
    nl_io_stop(g.loop, &sio);
    close(sfd);
    nl_rtsp_server_destroy(&g.srv);
    for (int i = 0; i < g.nsrcs; i++) {
        nl_synth_video_destroy(&g.srcs[i].v);
        nl_synth_audio_destroy(&g.srcs[i].a);
        av_packet_free(&g.srcs[i].vpkt);
        av_packet_free(&g.srcs[i].apkt);
    }
    nl_loop_destroy(&g.loop);
    nl_ctx_destroy(&ctx);
    for (size_t i = 0; i < nusers; i++)
        free((void *)users[i].name);
    return 0;
}
