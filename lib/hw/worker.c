/* Worker thread with bounded in/out queues, eventfd delivery to the loop,
 * timed join and abandonment. See worker.h for the contract.
 *
 * Lifetime: the struct is reference counted. The owner holds one reference
 * until nl__worker_stop, the thread one until it exits, and the loop-side
 * delivery one for the duration of a dispatch (a callback may stop the
 * worker). Whoever drops the last reference frees it, so an abandoned thread
 * never touches freed memory and the owner never waits for it. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "hw/pktq.h"
#include "hw/thread.h"
#include "hw/worker.h"
#include "loop/loop_int.h"
#include "neolink/error.h"
#include "neolink/hwenc.h"

struct nl__worker {
    atomic_int refs;
    char who[96];
    const nl__worker_ops *ops;
    void *state;
    pthread_t th;
    nl__hw_node node;

    /* Shared state, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t in_cv;    /* worker: input, finish or stop */
    pthread_cond_t space_cv; /* pull-mode producer: room in the input queue */
    pthread_cond_t out_cv;   /* pull-mode consumer: output or end */
    nl__pktq in, out;
    bool finish; /* owner: no more input */
    bool ended;  /* worker: done (drained, failed or stopped) */
    bool closed; /* owner: stopped; the worker must not signal it any more */
    int error;   /* fatal error of the worker */
    AVCodecParameters *par;
    unsigned par_gen;

    atomic_bool stop;
    _Atomic(const char *) activity;
    atomic_int_fast64_t activity_pts;
    atomic_uint_fast64_t counters[NL__WK_COUNTERS];

    /* Proxy log context for the worker side; goes quiet at stop. */
    pthread_mutex_t log_mu;
    bool quiet;
    const nl_ctx *owner_ctx;
    nl_ctx *proxy_ctx;

    /* Owner side only. */
    nl__worker_config cfg;
    int efd;
    nl_io io;
    AVPacket *deliver;
    AVCodecParameters *owner_par;
    unsigned owner_par_gen;
    bool end_reported;
    bool stopped;
};

/* ------------------------------------------------------------ refs, logging */

static void worker_free(nl__worker *w)
{
    nl__pktq_free(&w->in);
    nl__pktq_free(&w->out);
    avcodec_parameters_free(&w->par);
    avcodec_parameters_free(&w->owner_par);
    av_packet_free(&w->deliver);
    nl_ctx_destroy(&w->proxy_ctx);
    pthread_cond_destroy(&w->in_cv);
    pthread_cond_destroy(&w->space_cv);
    pthread_cond_destroy(&w->out_cv);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->log_mu);
    nl__free(w);
}

static void unref(nl__worker *w)
{
    if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) == 1)
        worker_free(w);
}

static void proxy_log(void *ud, nl_log_level level, const char *line)
{
    nl__worker *w = ud;
    pthread_mutex_lock(&w->log_mu);
    if (!w->quiet)
        nl__log(w->owner_ctx, level, NULL, "%s", line);
    pthread_mutex_unlock(&w->log_mu);
}

static nl_log_level owner_level(const nl_ctx *ctx)
{
    for (int l = NL_LOG_TRACE; l > NL_LOG_ERROR; l--)
        if (nl__log_enabled(ctx, (nl_log_level)l))
            return (nl_log_level)l;
    return NL_LOG_ERROR;
}

nl_ctx *nl__worker_ctx(nl__worker *w)
{
    return w->proxy_ctx;
}

const char *nl__worker_who(const nl__worker *w)
{
    return w->who;
}

/* ------------------------------------------------------------ counters */

void nl__worker_count(nl__worker *w, unsigned idx, uint64_t n)
{
    if (idx < NL__WK_COUNTERS)
        atomic_fetch_add_explicit(&w->counters[idx], n, memory_order_relaxed);
}

void nl__worker_set(nl__worker *w, unsigned idx, uint64_t v)
{
    if (idx < NL__WK_COUNTERS)
        atomic_store_explicit(&w->counters[idx], v, memory_order_relaxed);
}

uint64_t nl__worker_get(nl__worker *w, unsigned idx)
{
    return idx < NL__WK_COUNTERS ? atomic_load_explicit(&w->counters[idx], memory_order_relaxed)
                                 : 0;
}

/* ------------------------------------------------------------ worker side */

int nl__worker_stopping(nl__worker *w)
{
    return atomic_load_explicit(&w->stop, memory_order_acquire);
}

void nl__worker_activity(nl__worker *w, const char *what, int64_t pts)
{
    atomic_store_explicit(&w->activity_pts, pts, memory_order_relaxed);
    atomic_store_explicit(&w->activity, what, memory_order_release);
}

/* Wakes the loop. Called with mu held, so the owner cannot close the fd in
 * between (it sets `closed` under mu before closing). */
static void signal_owner(nl__worker *w)
{
    pthread_cond_broadcast(&w->out_cv);
    if (!w->closed && w->efd >= 0) {
        uint64_t one = 1;
        ssize_t r;
        do {
            r = write(w->efd, &one, sizeof one);
        } while (r < 0 && errno == EINTR);
    }
}

void nl__worker_emit(nl__worker *w, AVPacket *pkt)
{
    pthread_mutex_lock(&w->mu);
    if (w->closed) {
        av_packet_unref(pkt);
    } else {
        bool was_empty = nl__pktq_len(&w->out) == 0;
        if (nl__pktq_push(&w->out, pkt, 1) == 0 && was_empty)
            signal_owner(w);
    }
    pthread_mutex_unlock(&w->mu);
}

int nl__worker_publish_params(nl__worker *w, const AVCodecParameters *par)
{
    int rc = 0;
    pthread_mutex_lock(&w->mu);
    if (!w->par && !(w->par = avcodec_parameters_alloc()))
        rc = NL_ENOMEM;
    else if (avcodec_parameters_copy(w->par, par) < 0)
        rc = NL_ENOMEM;
    if (rc == 0) {
        w->par_gen++;
        signal_owner(w);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static void *worker_main(void *arg)
{
    nl__worker *w = arg;
    AVPacket *pkt = av_packet_alloc();
    int error = pkt ? 0 : NL_ENOMEM;
    bool drained = false;
    pthread_mutex_lock(&w->mu);
    while (error == 0) {
        while (!nl__worker_stopping(w) && nl__pktq_len(&w->in) == 0 && !(w->finish && !drained))
            pthread_cond_wait(&w->in_cv, &w->mu);
        if (nl__worker_stopping(w))
            break;
        if (nl__pktq_pop(&w->in, pkt) == 0) {
            pthread_cond_broadcast(&w->space_cv);
            pthread_mutex_unlock(&w->mu);
            error = w->ops->process(w->state, w, pkt);
            av_packet_unref(pkt);
            pthread_mutex_lock(&w->mu);
        } else {
            /* finish was set and the queue is empty: drain once, then end. */
            pthread_mutex_unlock(&w->mu);
            nl__worker_activity(w, "draining the codecs", AV_NOPTS_VALUE);
            error = w->ops->drain ? w->ops->drain(w->state, w) : 0;
            drained = true;
            pthread_mutex_lock(&w->mu);
            break;
        }
    }
    w->error = error;
    w->ended = true;
    signal_owner(w);
    pthread_cond_broadcast(&w->space_cv);
    pthread_mutex_unlock(&w->mu);
    av_packet_free(&pkt);
    /* Codecs are closed here, inside the join deadline: a codec that hangs
     * on close is abandoned like one that hangs on a frame. */
    nl__worker_activity(w, "closing the codecs", AV_NOPTS_VALUE);
    w->ops->release(w->state);
    w->state = NULL;
    nl__hw_thread_done(&w->node);
    unref(w);
    return NULL;
}

/* ------------------------------------------------------------ owner side */

static void deliver_ready(nl_io *io, unsigned events)
{
    nl__worker *w = io->data;
    uint64_t v;
    ssize_t r;
    do {
        r = read(w->efd, &v, sizeof v);
    } while (r < 0 && errno == EINTR);

    /* A callback may stop the worker: hold a reference for the dispatch. */
    atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
    pthread_mutex_lock(&w->mu);
    bool new_par = w->par && w->par_gen != w->owner_par_gen;
    int rc = 0;
    if (new_par) {
        w->owner_par_gen = w->par_gen;
        rc = avcodec_parameters_copy(w->owner_par, w->par);
    }
    pthread_mutex_unlock(&w->mu);
    if (new_par && rc >= 0 && w->cfg.on_params)
        w->cfg.on_params(w->cfg.ud, w->owner_par);
    while (!w->stopped) {
        pthread_mutex_lock(&w->mu);
        rc = nl__pktq_pop(&w->out, w->deliver);
        bool ended = w->ended && nl__pktq_len(&w->out) == 0;
        int error = w->error;
        pthread_mutex_unlock(&w->mu);
        if (rc == 0) {
            if (w->cfg.on_packet)
                w->cfg.on_packet(w->cfg.ud, w->deliver);
            av_packet_unref(w->deliver);
            continue;
        }
        if (ended && !w->end_reported) {
            w->end_reported = true;
            if (w->cfg.on_end)
                w->cfg.on_end(w->cfg.ud, error);
        }
        break;
    }
    unref(w);
}

static void mono_deadline(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int init_sync(nl__worker *w)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return NL_ENOMEM;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&w->mu, NULL) || pthread_mutex_init(&w->log_mu, NULL) ||
             pthread_cond_init(&w->in_cv, &ca) || pthread_cond_init(&w->space_cv, &ca) ||
             pthread_cond_init(&w->out_cv, &ca);
    pthread_condattr_destroy(&ca);
    return rc ? NL_ENOMEM : 0;
}

int nl__worker_start(nl__worker **out, const nl__worker_config *cfg, const nl__worker_ops *ops,
                     void *state)
{
    *out = NULL;
    if (!cfg || !ops || !ops->process || !ops->release || (cfg->loop && cfg->push_wait_ms)) {
        if (ops && ops->release)
            ops->release(state);
        return NL_EINVAL;
    }
    nl__worker *w = nl__calloc(1, sizeof *w);
    if (!w || init_sync(w) < 0) {
        /* init_sync only fails on resource shortage, before anything needs
         * destroying beyond what worker_free tolerates on zeroed objects. */
        nl__free(w);
        ops->release(state);
        return NL_ENOMEM;
    }
    atomic_init(&w->refs, 1);
    atomic_init(&w->stop, false);
    atomic_init(&w->activity, "waiting for input");
    atomic_init(&w->activity_pts, AV_NOPTS_VALUE);
    for (unsigned i = 0; i < NL__WK_COUNTERS; i++)
        atomic_init(&w->counters[i], 0);
    snprintf(w->who, sizeof w->who, "%s", cfg->who ? cfg->who : "worker");
    w->ops = ops;
    w->state = state;
    w->cfg = *cfg;
    w->cfg.who = w->who;
    w->efd = -1;
    w->owner_ctx = cfg->ctx;
    nl_ctx_config pc = {.log_fn = proxy_log, .log_ud = w, .log_level = owner_level(cfg->ctx)};
    int rc = nl_ctx_create(&w->proxy_ctx, &pc);
    if (rc == 0)
        rc = nl__pktq_init(&w->in, cfg->in_cap);
    if (rc == 0)
        rc = nl__pktq_init(&w->out, cfg->out_cap);
    if (rc == 0 &&
        (!(w->deliver = av_packet_alloc()) || !(w->owner_par = avcodec_parameters_alloc())))
        rc = NL_ENOMEM;
    if (rc == 0 && cfg->loop) {
        w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->efd < 0) {
            rc = nl_err_from_errno(errno);
        } else {
            nl_io_init(&w->io, w->efd, deliver_ready, w);
            rc = nl_io_start(cfg->loop, &w->io, NL_IO_READ);
        }
    }
    if (rc == 0) {
        atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed); /* the thread's */
        rc = nl__hw_thread_start(&w->th, &w->node, worker_main, w);
        if (rc < 0)
            atomic_fetch_sub_explicit(&w->refs, 1, memory_order_relaxed);
    }
    if (rc < 0) {
        if (w->efd >= 0) {
            nl_io_stop(cfg->loop, &w->io);
            close(w->efd);
        }
        ops->release(state);
        worker_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int nl__worker_push(nl__worker *w, const AVPacket *pkt)
{
    pthread_mutex_lock(&w->mu);
    if (w->finish || w->ended || w->closed) {
        pthread_mutex_unlock(&w->mu);
        return NL_ESTATE;
    }
    if (w->cfg.push_wait_ms && nl__pktq_full(&w->in)) {
        struct timespec ts;
        mono_deadline(&ts, w->cfg.push_wait_ms);
        while (nl__pktq_full(&w->in) && !w->ended &&
               pthread_cond_timedwait(&w->space_cv, &w->mu, &ts) != ETIMEDOUT)
            ;
    }
    /* The queue takes its own reference; the caller's packet is untouched. */
    int rc = nl__pktq_push(&w->in, (AVPacket *)pkt, 0);
    if (rc == 0)
        pthread_cond_signal(&w->in_cv);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int nl__worker_finish(nl__worker *w)
{
    pthread_mutex_lock(&w->mu);
    int rc = w->finish ? NL_ESTATE : 0;
    w->finish = true;
    pthread_cond_signal(&w->in_cv);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int nl__worker_receive(nl__worker *w, AVPacket *pkt, uint32_t timeout_ms)
{
    if (w->cfg.loop)
        return NL_EINVAL;
    struct timespec ts;
    mono_deadline(&ts, timeout_ms);
    pthread_mutex_lock(&w->mu);
    int rc;
    for (;;) {
        if ((rc = nl__pktq_pop(&w->out, pkt)) == 0)
            break;
        if (w->ended) {
            rc = w->error < 0 ? w->error : NL_EEOF;
            break;
        }
        if (pthread_cond_timedwait(&w->out_cv, &w->mu, &ts) == ETIMEDOUT) {
            rc = nl__pktq_pop(&w->out, pkt) == 0 ? 0 : NL_EAGAIN;
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int nl__worker_params(nl__worker *w, AVCodecParameters *par)
{
    pthread_mutex_lock(&w->mu);
    int rc = !w->par ? NL_EAGAIN : avcodec_parameters_copy(par, w->par) < 0 ? NL_ENOMEM : 0;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void nl__worker_queue_stats(nl__worker *w, uint64_t *queued, uint64_t *dropped,
                            uint64_t *gops_dropped, unsigned *depth, uint64_t *out_dropped,
                            int *error)
{
    pthread_mutex_lock(&w->mu);
    *queued = w->in.queued;
    *dropped = w->in.dropped;
    *gops_dropped = w->in.gops_dropped;
    *depth = nl__pktq_len(&w->in);
    *out_dropped = w->out.dropped;
    *error = w->error;
    pthread_mutex_unlock(&w->mu);
}

int nl__worker_stop(nl__worker **wp, uint32_t timeout_ms)
{
    if (!wp || !*wp)
        return 0;
    nl__worker *w = *wp;
    *wp = NULL;
    w->stopped = true;
    atomic_store_explicit(&w->stop, true, memory_order_release);
    pthread_mutex_lock(&w->mu);
    w->closed = true;
    /* Queued input is thrown away (not an overflow: not a GOP drop). */
    uint64_t before = w->in.dropped;
    nl__pktq_clear(&w->in, 0);
    w->in.dropped = before;
    pthread_cond_broadcast(&w->in_cv);
    pthread_cond_broadcast(&w->space_cv);
    pthread_cond_broadcast(&w->out_cv);
    pthread_mutex_unlock(&w->mu);
    /* From here the worker cannot write the eventfd (closed, under mu). */
    if (w->efd >= 0) {
        nl_io_stop(w->cfg.loop, &w->io);
        close(w->efd);
        w->efd = -1;
    }
    uint64_t t0 = nl_time_mono_ns();
    int rc = nl__hw_thread_join(w->th, timeout_ms);
    if (rc == NL_ETIMEDOUT) {
        const char *what = atomic_load_explicit(&w->activity, memory_order_acquire);
        int64_t pts = atomic_load_explicit(&w->activity_pts, memory_order_relaxed);
        char when[48] = "";
        if (pts != AV_NOPTS_VALUE)
            snprintf(when, sizeof when, " (pts %lld)", (long long)pts);
        NL_LOGE(w->owner_ctx, w->who,
                "worker thread abandoned: still %s%s after %llu ms; it is detached and frees "
                "its codecs if it ever returns",
                what, when, (unsigned long long)((nl_time_mono_ns() - t0) / NL_NS_PER_MS));
    }
    /* Quiet the proxy context: the owner may destroy its own context now. */
    pthread_mutex_lock(&w->log_mu);
    w->quiet = true;
    pthread_mutex_unlock(&w->log_mu);
    unref(w);
    return rc;
}
