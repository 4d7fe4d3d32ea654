/* A worker thread behind two bounded packet queues.
 *
 * The owner (normally the loop thread) pushes input packets; the worker
 * thread pops them and runs ops->process on each, which may emit output
 * packets. Output goes back to the owner:
 *  - loop mode: an eventfd watched by the loop; its callback delivers codec
 *    parameters, packets and the end on the loop thread;
 *  - pull mode (no loop): nl__worker_receive() with a timeout.
 * Both queues drop whole GOPs when full (see pktq.h).
 *
 * Stopping is a flag plus a timed join. A worker stuck inside a codec past
 * the deadline is detached, counted in workers_abandoned and logged with its
 * activity; it keeps its own reference to this struct and frees it, and its
 * state (ops->release), whenever it returns. From the moment the owner stops
 * it, the worker never calls back, never writes the eventfd and never logs
 * through the owner's context: thread-side code logs through the worker's
 * own proxy context (nl__worker_ctx), which goes quiet at stop. So the owner
 * may free its context right after a stop, even an abandoned one. */
#ifndef NL_HW_WORKER_H
#define NL_HW_WORKER_H

#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "neolink/context.h"
#include "neolink/loop.h"

typedef struct nl__worker nl__worker;

typedef struct nl__worker_ops {
    /* Worker thread: handles one input packet (borrowed; unreferenced after).
     * A negative return is fatal: the worker ends with that error. */
    int (*process)(void *state, nl__worker *w, AVPacket *in);
    /* Worker thread: the input ended (nl__worker_finish); flush and emit
     * what is left. Negative: ends with that error. */
    int (*drain)(void *state, nl__worker *w);
    /* Worker thread, once, when it exits (joined or abandoned): frees state. */
    void (*release)(void *state);
} nl__worker_ops;

typedef struct nl__worker_config {
    const char *who;       /* log label (copied) */
    const nl_ctx *ctx;     /* owner's log context (borrowed; may be NULL) */
    unsigned in_cap;       /* input queue capacity */
    unsigned out_cap;      /* output queue capacity */
    uint32_t push_wait_ms; /* pull mode only: wait this long for room */
    nl_loop *loop;         /* NULL: pull mode */
    void *ud;
    void (*on_params)(void *ud, const AVCodecParameters *par);
    void (*on_packet)(void *ud, AVPacket *pkt);
    void (*on_end)(void *ud, int error);
} nl__worker_config;

/* Worker-side counters the owner may read at any time. */
enum {
    NL__WK_FRAMES_DECODED = 0,
    NL__WK_DECODE_ERRORS,
    NL__WK_FRAMES_SKIPPED,
    NL__WK_PACKETS_OUT,
    NL__WK_WIDTH,
    NL__WK_HEIGHT,
    NL__WK_BACKEND,
    NL__WK_COUNTERS,
};

/* Starts the thread. state is owned by the worker from here on (released by
 * ops->release, also when the start fails). Loop mode: owner = loop thread.
 * Returns 0, NL_EINVAL, NL_ENOMEM or a negative errno. */
int nl__worker_start(nl__worker **out, const nl__worker_config *cfg, const nl__worker_ops *ops,
                     void *state);

/* Owner: queue a new reference to pkt. 0 queued, 1 dropped (GOP policy),
 * NL_ESTATE (finished, ended or stopped), NL_ENOMEM. */
int nl__worker_push(nl__worker *w, const AVPacket *pkt);
/* Owner: no more input; the worker drains, then ends. 0 or NL_ESTATE. */
int nl__worker_finish(nl__worker *w);
/* Owner, pull mode: next output packet within timeout_ms. 0, NL_EAGAIN,
 * NL_EEOF (ended cleanly and drained), or the worker's fatal error. */
int nl__worker_receive(nl__worker *w, AVPacket *pkt, uint32_t timeout_ms);
/* Owner: latest parameters published by the worker. 0, NL_EAGAIN, NL_ENOMEM. */
int nl__worker_params(nl__worker *w, AVCodecParameters *par);
/* Owner: queue counters. */
void nl__worker_queue_stats(nl__worker *w, uint64_t *queued, uint64_t *dropped,
                            uint64_t *gops_dropped, unsigned *depth, uint64_t *out_dropped,
                            int *error);
/* Owner: stop (flag), drop the queues, join within timeout_ms; abandon on
 * time-out (logged with the activity). No callback runs after it returns.
 * Sets *w to NULL. Returns 0 or NL_ETIMEDOUT. NULL-safe. */
int nl__worker_stop(nl__worker **w, uint32_t timeout_ms);

/* Any thread: counters bumped by the worker side. */
void nl__worker_count(nl__worker *w, unsigned idx, uint64_t n);
void nl__worker_set(nl__worker *w, unsigned idx, uint64_t v);
uint64_t nl__worker_get(nl__worker *w, unsigned idx);

/* Worker thread API. */
/* 1 once the owner asked the worker to stop: return from process soon. */
int nl__worker_stopping(nl__worker *w);
/* Queue one output packet (the reference is taken over; pkt left blank). */
void nl__worker_emit(nl__worker *w, AVPacket *pkt);
/* Publish output codec parameters (copied). 0 or NL_ENOMEM. */
int nl__worker_publish_params(nl__worker *w, const AVCodecParameters *par);
/* What the worker is doing now (a static string) and on which pts, for the
 * abandon log line. */
void nl__worker_activity(nl__worker *w, const char *what, int64_t pts);
/* The context thread-side code must log through (quiet after stop). */
nl_ctx *nl__worker_ctx(nl__worker *w);
/* The label given at start. */
const char *nl__worker_who(const nl__worker *w);

#endif
