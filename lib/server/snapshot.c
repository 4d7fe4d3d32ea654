/* GET /snapshot/NAME.jpg[?stream=main|sub|extern]: a JPEG of the stream's
 * latest key frame (see snapshot.h for the picture).
 *
 * Feed: the first key frame of a camera's default stream (its first served
 * one) creates the hub's feed; from then on every key frame of that hub is
 * handed to an nl_snapshot (one reference, the previous one dropped) and
 * P-frames cost one comparison. Another stream gets a feed when a request
 * names it.
 *
 * Request: answered at once from the loop-side cache when its JPEG is
 * younger than NL_SNAP_CACHE_MS, or shows the key frame that is still the
 * latest of the running stream. Otherwise the request waits (a deferred
 * HTTP answer) on the feed:
 *   - for a key frame of the current run, when the stream is not running or
 *     has not sent one since it started: the waiting requests hold the
 *     stream up like a viewer does (nl__snap_hub_wanted), and once the last
 *     one is answered the stream's idle_linger hold applies;
 *   - for the encode: one job per feed at a time turns the key frame into a
 *     JPEG on a worker thread; every request waiting when it finishes and
 *     satisfied by its key frame gets the same JPEG (no copy: the
 *     connections share it), so N concurrent requests cost one decode.
 * Bounds: NL_SNAP_WAIT_MS for a key frame and NL_SNAP_JOB_MS for the encode
 * (then 503 with the reason; a job past its deadline is abandoned and
 * counted like every lib/hw thread), inside the deferred HTTP wait. A client
 * that leaves only removes its waiter; the job goes on and fills the cache.
 *
 * Names in the path are checked against [A-Za-z0-9_-] before anything is
 * looked up or echoed. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "server/server_int.h"
#include "server/snapshot.h"

#define WHO   "snapshot"
#define ROUTE "/snapshot/"
#define TEXT  "text/plain; charset=utf-8"
/* The HTTP wait: the key frame, the encode, and a margin for our own 503. */
#define DEFER_MS (NL_SNAP_WAIT_MS + NL_SNAP_JOB_MS + 2000u)
/* The longest destroy waits for a running job outside a shutdown. */
#define STOP_JOIN_MS 2000u

typedef enum fail_reason {
    F_NOTFOUND = 0, /* 404: bad path, unknown camera or stream */
    F_DOWN,         /* 503: camera not connected, stream refused, shutting down */
    F_TIMEOUT,      /* 503: no key frame in time, or the encode too slow */
    F_ERROR,        /* 503: the key frame could not be decoded, no memory, no thread */
    F_COUNT
} fail_reason;

static const char *const fail_names[F_COUNT] = {"not_found", "unavailable", "timeout", "error"};

struct nl__snapsvc {
    nl_server *srv;
    nl_list feeds;   /* nl__snap_feed */
    nl_list orphans; /* orphan: jobs whose feed is gone, still running */
    bool quiesced;
    /* counters */
    uint64_t requests;
    uint64_t served;
    uint64_t cache_hits;
    uint64_t coalesced;
    uint64_t encodes;
    uint64_t cancelled;
    uint64_t abandoned;
    uint64_t failures[F_COUNT];
};

struct nl__snap_feed {
    nl_list node; /* in svc->feeds */
    nl__snapsvc *svc;
    nl__stream_hub *hub;
    nl__snap_src *src;
    uint64_t keys;    /* key frames kept: the generation of the latest */
    uint64_t key_run; /* hub->runs when the latest came */
    nl_list waiters;
    nl__snap_job *job;
    uint64_t job_gen; /* the generation the running job shows (at least) */
    uint64_t job_due;
    nl__snap_jpeg *cache;
    uint64_t cache_gen, cache_at;
    uint64_t failed_gen; /* the key frame the last failed decode was of (0: none) */
    nl_timer timer;
};

typedef struct snap_waiter {
    nl_list node; /* in feed->waiters */
    nl__snap_feed *feed;
    nl_http_pending *p;
    uint64_t need_gen; /* the oldest key frame generation that will do */
    uint64_t since;
    uint64_t due; /* for the key frame */
} snap_waiter;

typedef struct orphan {
    nl_list node; /* in svc->orphans */
    nl__snapsvc *svc;
    nl__snap_job *job;
} orphan;

/* ---------------------------------------------------------------- helpers */

static nl_loop *svc_loop(const nl__snapsvc *svc)
{
    return svc->srv->loop;
}

static bool valid_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* The camera's default stream: its first served one (the "/NAME" path). */
static bool is_default(const nl__stream_hub *h)
{
    for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++)
        if (h->rt->hub[s])
            return h->rt->hub[s] == h;
    return false;
}

/* The latest key frame belongs to the stream as it runs now. */
static bool stream_current(const nl__snap_feed *f)
{
    const nl__stream_hub *h = f->hub;
    return h->running && f->keys > 0 && f->key_run == h->runs;
}

static bool cache_fresh(const nl__snap_feed *f, uint64_t now)
{
    if (!f->cache)
        return false;
    if (now - f->cache_at < (uint64_t)NL_SNAP_CACHE_MS * NL_NS_PER_MS)
        return true;
    return f->cache_gen == f->keys && stream_current(f);
}

/* ---------------------------------------------------------------- answers */

/* Immediate text answer from inside the handler. */
static void reply_text(nl__snapsvc *svc, nl_http_response *resp, int status, fail_reason why,
                       const char *fmt, ...) NL_PRINTF(5, 6);

static void reply_text(nl__snapsvc *svc, nl_http_response *resp, int status, fail_reason why,
                       const char *fmt, ...)
{
    char body[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    n = n < 0 ? 0 : (size_t)n >= sizeof body ? (int)sizeof body - 1 : n;
    svc->failures[why]++;
    resp->status = status;
    resp->content_type = TEXT;
    nl_http_body_append(resp, body, (size_t)n);
}

/* For answers completed inside the handler: nothing can be cancelled. */
static void no_cancel(void *ud, nl_http_pending *p)
{
    (void)ud;
    (void)p;
}

static void send_jpeg(nl__snapsvc *svc, nl_http_pending *p, nl__snap_jpeg *j)
{
    j->refs++; /* the connection's, released when it is done with it */
    if (nl_http_pending_complete(p, 200, "image/jpeg", j->data, j->len, nl__snap_jpeg_unref, j) ==
        0)
        svc->served++;
    else
        svc->failures[F_ERROR]++;
}

static void send_text(nl__snapsvc *svc, nl_http_pending *p, fail_reason why, const char *fmt, ...)
    NL_PRINTF(4, 5);

static void send_text(nl__snapsvc *svc, nl_http_pending *p, fail_reason why, const char *fmt, ...)
{
    char body[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof body)
        n = sizeof body - 1;
    svc->failures[why]++;
    (void)nl_http_pending_complete(p, 503, TEXT, body, (size_t)n, NULL, NULL);
}

/* ---------------------------------------------------------------- demand */

/* The last waiter is gone: the stream may stop, after its idle linger. */
static void release_demand(nl__snap_feed *f)
{
    nl__stream_hub *h = f->hub;
    nl_server *srv = f->svc->srv;
    if (!nl_list_empty(&f->waiters) || srv->state != NL_SRV_RUNNING || f->svc->quiesced)
        return;
    const nl_config_camera *cc = h->rt->cfg;
    uint64_t linger = cc && cc->idle_linger_ns > 0 ? (uint64_t)cc->idle_linger_ns : 0;
    uint64_t until = nl_deadline_after(nl_loop_now(srv->loop), linger);
    if (until > h->hold_until)
        h->hold_until = until;
    nl__hub_update(h);
}

static void waiter_free(snap_waiter *w)
{
    nl_list_remove(&w->node);
    nl__free(w);
}

/* ---------------------------------------------------------------- jobs */

static void arm_timer(nl__snap_feed *f);
static void feed_job_done(void *ud, nl__snap_job *job, int rc, nl__snap_jpeg *jpeg);

/* Answers (503) every waiter the job in question would have served. */
static void fail_waiters(nl__snap_feed *f, uint64_t upto_gen, fail_reason why, const char *what)
{
    nl_list_foreach_safe(it, tmp, &f->waiters)
    {
        snap_waiter *w = nl_container_of(it, snap_waiter, node);
        if (w->need_gen > upto_gen)
            continue;
        send_text(f->svc, w->p, why, "503 snapshot of %s failed: %s\n", f->hub->who, what);
        waiter_free(w);
    }
}

/* Starts the encode when a waiter can be served by the latest key frame. */
static void maybe_start_job(nl__snap_feed *f)
{
    nl__snapsvc *svc = f->svc;
    if (f->job || svc->quiesced)
        return;
    bool any = false;
    nl_list_foreach(it, &f->waiters)
    {
        if (nl_container_of(it, snap_waiter, node)->need_gen <= f->keys)
            any = true;
    }
    if (!any)
        return;
    if (atomic_load(&f->src->busy)) {
        /* A job abandoned earlier is still inside the decoder: another
         * would only queue behind it (and pile up threads). */
        fail_waiters(f, f->keys, F_ERROR, "the previous JPEG encode is stuck");
        release_demand(f);
        return;
    }
    const AVCodecParameters *par = f->hub->vpar;
    if (par && par->extradata_size > 0)
        (void)nl_snapshot_set_extradata(f->src->s, par->extradata, (size_t)par->extradata_size);
    int rc = nl__snap_job_start(&f->job, svc_loop(svc), svc->srv->ctx, f->src, feed_job_done, f);
    if (rc < 0) {
        NL_LOGW(svc->srv->ctx, f->hub->who, "cannot start a JPEG encode: %s", nl_strerror(rc));
        fail_waiters(f, f->keys, F_ERROR, "no encoder thread");
        release_demand(f);
        return;
    }
    f->job_gen = f->keys;
    f->job_due =
        nl_deadline_after(nl_loop_now(svc_loop(svc)), (uint64_t)NL_SNAP_JOB_MS * NL_NS_PER_MS);
    arm_timer(f);
}

static void feed_job_done(void *ud, nl__snap_job *job, int rc, nl__snap_jpeg *jpeg)
{
    nl__snap_feed *f = ud;
    nl__snapsvc *svc = f->svc;
    nl_server *srv = svc->srv;
    (void)job;
    nl__snap_job_release(&f->job, 0); /* finished: the join is immediate */
    nl_activity_set(&srv->act, f->hub->who, "snapshot answer");
    uint64_t now = nl_loop_now(srv->loop);
    if (rc == 0) {
        svc->encodes++;
        nl__snap_jpeg_unref(f->cache);
        f->cache = jpeg;
        f->cache_gen = f->job_gen;
        f->cache_at = now;
        NL_LOGD(srv->ctx, f->hub->who, "snapshot %dx%d, %zu bytes", jpeg->width, jpeg->height,
                jpeg->len);
        nl_list_foreach_safe(it, tmp, &f->waiters)
        {
            snap_waiter *w = nl_container_of(it, snap_waiter, node);
            if (w->need_gen > f->job_gen)
                continue;
            send_jpeg(svc, w->p, jpeg);
            waiter_free(w);
        }
    } else {
        NL_LOGW(srv->ctx, f->hub->who, "snapshot failed: %s", nl_strerror(rc));
        f->failed_gen = f->job_gen;
        char what[96];
        snprintf(what, sizeof what, "cannot decode the key frame (%s)", nl_strerror(rc));
        fail_waiters(f, f->job_gen, F_ERROR, what);
    }
    maybe_start_job(f); /* waiters that want a newer key frame that came meanwhile */
    release_demand(f);
    arm_timer(f);
    nl_activity_clear(&srv->act);
}

/* ---------------------------------------------------------------- deadlines */

static void arm_timer(nl__snap_feed *f)
{
    uint64_t due = NL_TIME_NEVER;
    if (f->job && f->job_due < due)
        due = f->job_due;
    nl_list_foreach(it, &f->waiters)
    {
        snap_waiter *w = nl_container_of(it, snap_waiter, node);
        if (w->need_gen > f->keys && w->due < due)
            due = w->due;
    }
    nl_loop *loop = svc_loop(f->svc);
    if (due == NL_TIME_NEVER)
        nl_timer_stop(loop, &f->timer);
    else
        nl_timer_start(loop, &f->timer, due);
}

static const char *why_no_key(const nl__snap_feed *f)
{
    const nl__stream_hub *h = f->hub;
    if (!nl__camera_rt_logged_in(h->rt))
        return "the camera is not connected";
    if (h->unavailable)
        return "the camera refused the stream";
    if (!h->started)
        return "the stream did not start";
    return "the stream sent no key frame";
}

static void on_timer(nl_timer *t)
{
    nl__snap_feed *f = t->data;
    nl__snapsvc *svc = f->svc;
    nl_server *srv = svc->srv;
    uint64_t now = nl_loop_now(srv->loop);
    nl_activity_set(&srv->act, f->hub->who, "snapshot deadline");
    if (f->job && now >= f->job_due) {
        uint64_t gen = f->job_gen;
        if (nl__snap_job_release(&f->job, 0) == NL_ETIMEDOUT)
            svc->abandoned++;
        fail_waiters(f, gen, F_TIMEOUT, "the JPEG encode took longer than its deadline");
    }
    nl_list_foreach_safe(it, tmp, &f->waiters)
    {
        snap_waiter *w = nl_container_of(it, snap_waiter, node);
        if (w->need_gen <= f->keys || now < w->due)
            continue;
        NL_LOGI(srv->ctx, f->hub->who, "snapshot: no key frame within %.1f s: %s",
                (double)(now - w->since) / 1e9, why_no_key(f));
        send_text(svc, w->p, F_TIMEOUT, "503 no key frame from %s within %u s: %s\n", f->hub->who,
                  NL_SNAP_WAIT_MS / 1000u, why_no_key(f));
        waiter_free(w);
    }
    maybe_start_job(f);
    release_demand(f);
    arm_timer(f);
    nl_activity_clear(&srv->act);
}

/* ---------------------------------------------------------------- feeds */

static nl__snap_feed *feed_get(nl__snapsvc *svc, nl__stream_hub *h)
{
    if (h->snap)
        return h->snap;
    nl__snap_feed *f = nl__calloc(1, sizeof *f);
    if (!f)
        return NULL;
    if (nl__snap_src_create(&f->src, svc->srv->ctx) < 0) {
        nl__free(f);
        return NULL;
    }
    f->svc = svc;
    f->hub = h;
    nl_list_init(&f->waiters);
    nl_timer_init(&f->timer, on_timer, f);
    nl_list_insert_tail(&svc->feeds, &f->node);
    h->snap = f;
    return f;
}

static void orphan_done(void *ud, nl__snap_job *job, int rc, nl__snap_jpeg *jpeg)
{
    orphan *o = ud;
    (void)job;
    (void)rc;
    nl__snap_jpeg_unref(jpeg);
    nl__snap_job_release(&o->job, 0);
    nl_list_remove(&o->node);
    nl__free(o);
}

static void feed_destroy(nl__snap_feed *f, const char *why)
{
    nl__snapsvc *svc = f->svc;
    f->hub->snap = NULL;
    nl_timer_stop(svc_loop(svc), &f->timer);
    fail_waiters(f, UINT64_MAX, F_DOWN, why);
    if (f->job) {
        /* It finishes on its own; whoever is left is told nothing. */
        orphan *o = nl__calloc(1, sizeof *o);
        if (o) {
            o->svc = svc;
            o->job = f->job;
            f->job = NULL;
            nl__snap_job_set_done(o->job, orphan_done, o);
            nl_list_insert_tail(&svc->orphans, &o->node);
        } else if (nl__snap_job_release(&f->job, 0) == NL_ETIMEDOUT) {
            svc->abandoned++;
        }
    }
    nl__snap_jpeg_unref(f->cache);
    nl__snap_src_unref(&f->src);
    nl_list_remove(&f->node);
    nl__free(f);
}

/* ---------------------------------------------------------------- hub hooks */

void nl__snap_hub_video(nl__stream_hub *h, const AVPacket *pkt, const nl_media_meta *meta)
{
    if (meta->kind != NL_MEDIA_KIND_IFRAME)
        return;
    nl__snap_feed *f = h->snap;
    if (!f) {
        nl__snapsvc *svc = h->rt->srv->snap;
        if (!svc || svc->quiesced || !is_default(h) || !(f = feed_get(svc, h)))
            return;
    }
    if (nl_snapshot_push(f->src->s, meta->codec, pkt) != 1)
        return;
    f->keys++;
    f->key_run = h->runs;
    if (!nl_list_empty(&f->waiters)) {
        maybe_start_job(f);
        arm_timer(f);
    }
}

bool nl__snap_hub_wanted(const nl__stream_hub *h)
{
    return h->snap && !nl_list_empty(&h->snap->waiters);
}

void nl__snap_hub_figures(const nl__stream_hub *h, nl__snap_figures *out)
{
    memset(out, 0, sizeof *out);
    const nl__snap_feed *f = h->snap;
    if (!f)
        return;
    out->feed = true;
    out->keys = f->keys;
    out->waiting = nl_list_count(&f->waiters);
    out->job = f->job != NULL;
}

void nl__snap_hub_destroy(nl__stream_hub *h)
{
    if (h->snap)
        feed_destroy(h->snap, "the camera was removed or reconfigured");
}

/* ---------------------------------------------------------------- request */

static void on_cancel(void *ud, nl_http_pending *p)
{
    snap_waiter *w = ud;
    nl__snap_feed *f = w->feed;
    (void)p;
    f->svc->cancelled++;
    waiter_free(w);
    release_demand(f);
    arm_timer(f);
}

/* "stream=main|sub|extern" among the query's &-separated parameters.
 * 1 found (*kind set), 0 absent, -1 anything else. */
static int query_stream(const nl_http_request *req, nl_camera_stream *kind)
{
    const char *q = req->query;
    size_t n = q ? req->query_len : 0;
    while (n > 0) {
        const char *amp = memchr(q, '&', n);
        size_t len = amp ? (size_t)(amp - q) : n;
        if (len > 7 && !memcmp(q, "stream=", 7)) {
            const char *v = q + 7;
            size_t vl = len - 7;
            for (int s = 0; s < NL_CAMERA_STREAM_COUNT; s++) {
                const char *name = nl_camera_stream_name((nl_camera_stream)s);
                if (strlen(name) == vl && !memcmp(name, v, vl)) {
                    *kind = (nl_camera_stream)s;
                    return 1;
                }
            }
            return -1;
        }
        if (!amp)
            break;
        n -= len + 1;
        q = amp + 1;
    }
    return 0;
}

static nl__camera_rt *find_camera(nl_server *srv, const char *name)
{
    nl_list_foreach(it, &srv->cameras)
    {
        nl__camera_rt *rt = nl_container_of(it, nl__camera_rt, node);
        if (!strcmp(rt->name, name))
            return rt;
    }
    return NULL;
}

static void handle_snapshot(void *ud, const nl_http_request *req, nl_http_response *resp)
{
    nl__snapsvc *svc = ud;
    nl_server *srv = svc->srv;
    svc->requests++;

    /* NAME.jpg, NAME in [A-Za-z0-9_-]: nothing else is looked up or echoed. */
    const char *name = req->path + strlen(ROUTE);
    size_t n = req->path_len - strlen(ROUTE);
    bool ok = n > 4 && n - 4 <= NL_CONFIG_NAME_MAX && !memcmp(name + n - 4, ".jpg", 4);
    for (size_t i = 0; ok && i < n - 4; i++)
        ok = valid_name_char(name[i]);
    if (!ok) {
        reply_text(svc, resp, 404, F_NOTFOUND,
                   "404 no such snapshot: the path is /snapshot/NAME.jpg\n");
        return;
    }
    char cam[NL_CONFIG_NAME_MAX + 1];
    memcpy(cam, name, n - 4);
    cam[n - 4] = '\0';
    nl_camera_stream kind = NL_CAMERA_STREAM_MAIN;
    int qs = query_stream(req, &kind);
    if (qs < 0) {
        reply_text(svc, resp, 404, F_NOTFOUND,
                   "404 no such stream: use stream=main, sub or extern\n");
        return;
    }
    nl__camera_rt *rt = find_camera(srv, cam);
    if (!rt) {
        reply_text(svc, resp, 404, F_NOTFOUND, "404 no camera named %s\n", cam);
        return;
    }
    nl__stream_hub *h = NULL;
    for (int s = 0; s < NL_CAMERA_STREAM_COUNT && !h; s++)
        if (qs ? s == (int)kind : rt->hub[s] != NULL)
            h = rt->hub[s];
    if (!h) {
        reply_text(svc, resp, 404, F_NOTFOUND, "404 camera %s does not serve its %s stream\n", cam,
                   nl_camera_stream_name(kind));
        return;
    }
    if (srv->state != NL_SRV_RUNNING || svc->quiesced) {
        reply_text(svc, resp, 503, F_DOWN, "503 shutting down\n");
        return;
    }
    nl__snap_feed *f = feed_get(svc, h);
    if (!f) {
        reply_text(svc, resp, 503, F_ERROR, "503 out of memory\n");
        return;
    }
    uint64_t now = nl_loop_now(srv->loop);
    if (cache_fresh(f, now)) {
        nl_http_pending *p = nl_http_defer(resp, 1000, no_cancel, NULL);
        if (p) {
            svc->cache_hits++;
            send_jpeg(svc, p, f->cache);
        }
        return;
    }
    uint64_t need = f->keys;
    if (stream_current(f) && f->failed_gen == f->keys && !f->job) {
        /* Decoding the same key frame again would fail again: a hostile or
         * broken stream costs one decode per key frame at most. */
        reply_text(svc, resp, 503, F_ERROR,
                   "503 the latest key frame of %s cannot be decoded; try again later\n", h->who);
        return;
    }
    if (!stream_current(f)) {
        /* A key frame of this run is needed; the stream must be able to run. */
        if (!nl__camera_rt_logged_in(rt) && rt->state != NL_RT_CONNECTING) {
            reply_text(svc, resp, 503, F_DOWN, "503 camera %s is not connected: %s\n", cam,
                       rt->last_detail[0] ? rt->last_detail : nl__rt_state_name(rt->state));
            return;
        }
        if (h->unavailable) {
            reply_text(svc, resp, 503, F_DOWN, "503 camera %s refused its %s stream\n", cam,
                       nl_camera_stream_name(h->kind));
            return;
        }
        need = f->keys + 1;
    }
    snap_waiter *w = nl__calloc(1, sizeof *w);
    if (!w) {
        reply_text(svc, resp, 503, F_ERROR, "503 out of memory\n");
        return;
    }
    w->feed = f;
    w->need_gen = need;
    w->since = now;
    w->due = nl_deadline_after(now, (uint64_t)NL_SNAP_WAIT_MS * NL_NS_PER_MS);
    w->p = nl_http_defer(resp, DEFER_MS, on_cancel, w);
    if (!w->p) {
        nl__free(w);
        return; /* answered 500 */
    }
    /* Sharing: a job or another waiter will produce what this one needs. */
    bool shared = (f->job && need <= f->job_gen) || !nl_list_empty(&f->waiters);
    if (shared)
        svc->coalesced++;
    bool first = nl_list_empty(&f->waiters);
    nl_list_insert_tail(&f->waiters, &w->node);
    if (need > f->keys) {
        if (first)
            NL_LOGI(srv->ctx, h->who, "snapshot requested: waiting for a key frame%s",
                    h->running ? "" : " (starting the stream)");
        nl__hub_update(h); /* nl__snap_hub_wanted() holds the stream up now */
    }
    maybe_start_job(f);
    arm_timer(f);
}

/* ---------------------------------------------------------------- service */

int nl__snap_start(nl_server *srv)
{
    nl__snapsvc *svc = nl__calloc(1, sizeof *svc);
    if (!svc)
        return NL_ENOMEM;
    svc->srv = srv;
    nl_list_init(&svc->feeds);
    nl_list_init(&svc->orphans);
    int rc = nl_http_server_route_prefix(srv->http, ROUTE, handle_snapshot, svc);
    if (rc < 0) {
        nl__free(svc);
        return rc;
    }
    srv->snap = svc;
    return 0;
}

void nl__snap_quiesce(nl_server *srv)
{
    if (srv->snap)
        srv->snap->quiesced = true;
}

void nl__snap_stop(nl_server *srv)
{
    nl__snapsvc *svc = srv->snap;
    if (!svc)
        return;
    svc->quiesced = true;
    while (!nl_list_empty(&svc->feeds))
        feed_destroy(nl_container_of(svc->feeds.next, nl__snap_feed, node), "shutting down");
    /* Jobs still running: within the shutdown budget left, else abandoned. */
    uint64_t start = nl_time_mono_ns();
    uint64_t budget = (uint64_t)STOP_JOIN_MS * NL_NS_PER_MS;
    if (srv->state != NL_SRV_RUNNING)
        budget = nl_deadline_left(nl_loop_now(srv->loop), srv->stop_deadline);
    while (!nl_list_empty(&svc->orphans)) {
        orphan *o = nl_container_of(svc->orphans.next, orphan, node);
        uint64_t spent = nl_time_mono_ns() - start;
        uint64_t left = spent < budget ? budget - spent : 0;
        if (nl__snap_job_release(&o->job, (uint32_t)(left / NL_NS_PER_MS)) == NL_ETIMEDOUT)
            svc->abandoned++;
        nl_list_remove(&o->node);
        nl__free(o);
    }
    nl__free(svc);
    srv->snap = NULL;
}

/* ---------------------------------------------------------------- metrics */

static const nl_prom_family fam_requests = {
    "neolink_snapshot_requests_total", NL_PROM_COUNTER, "Requests to /snapshot/.", {NULL}};
static const nl_prom_family fam_served = {
    "neolink_snapshots_served_total", NL_PROM_COUNTER, "Snapshots answered with a JPEG.", {NULL}};
static const nl_prom_family fam_cache = {"neolink_snapshot_cache_hits_total",
                                         NL_PROM_COUNTER,
                                         "Snapshot requests answered from the cached JPEG.",
                                         {NULL}};
static const nl_prom_family fam_coalesced = {
    "neolink_snapshot_coalesced_total",
    NL_PROM_COUNTER,
    "Snapshot requests that shared the decode of another request.",
    {NULL}};
static const nl_prom_family fam_encodes = {
    "neolink_snapshot_encodes_total",
    NL_PROM_COUNTER,
    "Key frames decoded and encoded as JPEG for snapshot requests.",
    {NULL}};
static const nl_prom_family fam_failures = {"neolink_snapshot_failures_total",
                                            NL_PROM_COUNTER,
                                            "Snapshot requests answered with an error, by reason.",
                                            {"reason", NULL}};
static const nl_prom_family fam_cancelled = {
    "neolink_snapshot_cancelled_total",
    NL_PROM_COUNTER,
    "Snapshot requests whose client left before the answer.",
    {NULL}};
static const nl_prom_family fam_abandoned = {
    "neolink_snapshot_encodes_abandoned_total",
    NL_PROM_COUNTER,
    "JPEG encodes that missed their deadline (their thread was abandoned).",
    {NULL}};

void nl__snap_metrics(const nl_server *srv, nl_prom *p)
{
    const nl__snapsvc *svc = srv->snap;
    if (!svc)
        return;
    nl_prom_counter(p, &fam_requests, NULL, svc->requests);
    nl_prom_counter(p, &fam_served, NULL, svc->served);
    nl_prom_counter(p, &fam_cache, NULL, svc->cache_hits);
    nl_prom_counter(p, &fam_coalesced, NULL, svc->coalesced);
    nl_prom_counter(p, &fam_encodes, NULL, svc->encodes);
    for (int i = 0; i < F_COUNT; i++) {
        const char *lv[] = {fail_names[i]};
        nl_prom_counter(p, &fam_failures, lv, svc->failures[i]);
    }
    nl_prom_counter(p, &fam_cancelled, NULL, svc->cancelled);
    nl_prom_counter(p, &fam_abandoned, NULL, svc->abandoned);
}
