/* Streams of the simulated camera: one per (channel, main/sub) that somebody
 * watches. Each has an encoder thread that runs the synthesizer ahead of
 * time into a small bounded ring of ready BcMedia packets; the loop side
 * releases them in real time (a timer at each packet's due time) and fans
 * each one out to every subscribed connection. So a stream is encoded once
 * however many connections watch it, and not at all when nobody does.
 *
 * Threads: everything here runs on the loop thread, except the encoder
 * threads, which touch only their own state block (sim_stream.c). */
#ifndef NL_SIM_STREAM_H
#define NL_SIM_STREAM_H

#include <stdint.h>

#include "core/list.h"
#include "sim/sim_int.h"
#include "sim/sim_outq.h"

typedef struct nl__sim_stream nl__sim_stream;
struct nl__sim_conn;

/* One connection's subscription to one stream (lives inside the connection). */
typedef struct nl__sim_sub {
    nl_list node;           /* in stream->subs while subscribed */
    nl__sim_stream *stream; /* NULL when not subscribed */
    struct nl__sim_conn *conn;
    uint32_t corr;   /* correlation word of the start request: every media message echoes it */
    uint32_t handle; /* the Preview handle the client chose */
    unsigned channel;
    int kind;            /* nl_sim_stream_kind */
    uint8_t waiting_key; /* drop media until the next key frame */
} nl__sim_sub;

/* Subscribes sub (conn, corr, handle, channel, kind filled in) to its
 * stream, creating and starting the stream when it is the first viewer.
 * Returns 0, NL_EINVAL (channel/kind out of range), NL_ENOMEM or a thread
 * creation error. */
int nl__sim_stream_subscribe(nl_sim *sim, nl__sim_sub *sub);
/* Removes a subscription; the last one stops and frees the stream (its
 * encoder thread is told to stop and finishes on its own). No-op when sub
 * is not subscribed. Never call it from inside a fan-out (conn_deliver). */
void nl__sim_stream_unsubscribe(nl__sim_sub *sub);

/* Stops every stream left (none once all connections are gone; a safety net
 * for nl_sim_destroy). Subscriptions still attached are detached. */
void nl__sim_streams_stop_all(nl_sim *sim);

/* "main", "sub", "extern" (logs), "?" for anything else. */
const char *nl__sim_kind_name(int kind);

/* The 32-byte InfoV2 packet a start reply carries for this stream kind. */
int nl__sim_stream_info(const nl_sim *sim, int kind, uint8_t out[32]);

/* Adds stream gauges and encoder counters into st. */
void nl__sim_streams_stats(const nl_sim *sim, nl_sim_stats *st);

/* Registry of the encoder threads not joined yet (the loop thread reaps
 * finished ones when it starts another), so destroy can join them with a
 * deadline. A thread only touches its own reference-counted state block,
 * never the registry: one that outlives the deadline is detached and frees
 * that block itself. */
int nl__sim_workers_create(nl__sim_workers **out);
/* Waits until no encoder thread is alive or the deadline (ns on
 * CLOCK_MONOTONIC) passes, then drops the caller's reference. Returns the
 * number of threads still running (0 normally). */
int nl__sim_workers_release(nl__sim_workers **w, uint64_t deadline_ns);

#endif
