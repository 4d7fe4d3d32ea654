/* JPEG snapshots on the HTTP endpoint: GET /snapshot/NAME.jpg[?stream=sub].
 *
 *   camera packets ──(loop: key frames only, one reference)──▶ feed (per hub)
 *   request ──▶ waiter on the feed ──▶ one job at a time per feed ──▶ worker
 *   thread (nl_snapshot_get: decode + JPEG) ──eventfd──▶ loop ──▶ every waiter
 *
 * snapshot.c is the service (routing, waiting, coalescing, the loop-side
 * cache, demand, metrics); snapshot_job.c runs one decode+encode on a
 * worker thread and reports back to the loop. Everything here runs on the
 * loop thread except the job's thread body. */
#ifndef NL_SERVER_SNAPSHOT_H
#define NL_SERVER_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libavcodec/packet.h>

#include "neolink/hwenc.h"
#include "neolink/loop.h"
#include "neolink/media.h"
#include "server/metrics.h"

struct nl_server;
struct nl__stream_hub;

/* How long a request waits for a key frame when the stream is not running
 * (it is started on demand) or has not sent one yet in this run. */
#define NL_SNAP_WAIT_MS 10000u
/* How long one decode + JPEG encode may take before its waiters get a 503
 * and its thread is abandoned. */
#define NL_SNAP_JOB_MS 5000u
/* A JPEG younger than this answers a request without a new decode, even
 * when a newer key frame came (bounds the decode rate under many clients). */
#define NL_SNAP_CACHE_MS 1000u

/* ================================================================ job (snapshot_job.c) */

/* The nl_snapshot of a feed, shared by the feed and its jobs' threads (a job
 * that outlives its feed, e.g. an abandoned one, keeps it alive). */
typedef struct nl__snap_src {
    atomic_int refs;
    atomic_int busy; /* a thread is inside nl_snapshot_get */
    nl_snapshot *s;
} nl__snap_src;

int nl__snap_src_create(nl__snap_src **out, nl_ctx *ctx);
void nl__snap_src_unref(nl__snap_src **src);

/* A finished JPEG, shared by the cache and the connections sending it.
 * Reference counted on the loop thread only. */
typedef struct nl__snap_jpeg {
    int refs;
    uint8_t *data;
    size_t len;
    int width, height;
    int64_t pts;
} nl__snap_jpeg;

void nl__snap_jpeg_unref(void *jpeg); /* also the HTTP body release callback */

typedef struct nl__snap_job nl__snap_job;

/* Loop thread, once, when the job finished: rc 0 with *jpeg (a reference
 * the callee takes over), or a negative code. Not called for an abandoned
 * job. The callee releases the job (nl__snap_job_release) when it likes,
 * also from inside this callback. */
typedef void (*nl__snap_job_done_fn)(void *ud, nl__snap_job *job, int rc, nl__snap_jpeg *jpeg);

/* Starts nl_snapshot_get(src->s) on a new thread. 0, NL_ENOMEM or a
 * negative errno code (nothing started). */
int nl__snap_job_start(nl__snap_job **out, nl_loop *loop, const nl_ctx *ctx, nl__snap_src *src,
                       nl__snap_job_done_fn done, void *ud);

/* Loop thread: who is told when the job finishes (e.g. an owner that goes
 * away hands the running job to another). */
void nl__snap_job_set_done(nl__snap_job *job, nl__snap_job_done_fn done, void *ud);

/* Loop thread: forgets a finished job (after its done callback) or
 * abandons a running one: no callback any more, its thread is joined
 * within join_ms, else detached and counted in workers_abandoned (hw
 * stats; it frees what it holds when it returns). Sets *job to NULL.
 * Returns 0, or NL_ETIMEDOUT when the thread was abandoned. */
int nl__snap_job_release(nl__snap_job **job, uint32_t join_ms);

/* ================================================================ service (snapshot.c) */

typedef struct nl__snapsvc nl__snapsvc;
typedef struct nl__snap_feed nl__snap_feed;

/* Creates the service and registers its route on srv->http. */
int nl__snap_start(struct nl_server *srv);
/* The HTTP endpoint is gone (shutdown started): fails nothing (the
 * endpoint cancelled every request), keeps running jobs until they end. */
void nl__snap_quiesce(struct nl_server *srv);
/* Frees everything: feeds are detached from their hubs, jobs still running
 * are joined within the shutdown budget left (else abandoned). NULL-safe. */
void nl__snap_stop(struct nl_server *srv);

/* Hooks called by stream_hub.c (cheap when no snapshot was asked for). */
void nl__snap_hub_video(struct nl__stream_hub *h, const AVPacket *pkt, const nl_media_meta *meta);
bool nl__snap_hub_wanted(const struct nl__stream_hub *h);
void nl__snap_hub_destroy(struct nl__stream_hub *h);

/* A hub's snapshot state, for tests (all zero without a feed). */
typedef struct nl__snap_figures {
    bool feed;      /* the hub keeps key frames */
    uint64_t keys;  /* key frames kept so far */
    size_t waiting; /* requests waiting */
    bool job;       /* a decode is running */
} nl__snap_figures;
void nl__snap_hub_figures(const struct nl__stream_hub *h, nl__snap_figures *f);

/* /metrics: the snapshot families. */
void nl__snap_metrics(const struct nl_server *srv, nl_prom *p);

#endif
