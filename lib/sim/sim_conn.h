/* One client connection of the simulated camera: the Baichuan login
 * handshake, request handlers, stream subscriptions, the bounded output
 * queue and the faults that act on a connection.
 *
 * Lifetime: created by the listener on accept; closed by nl__sim_conn_fail
 * (any callback may call it), which stops its watcher and timers at once and
 * frees it through the loop's deferred step, so fan-outs and callbacks up the
 * stack never see it freed.
 *
 * Threads: loop thread only. */
#ifndef NL_SIM_CONN_H
#define NL_SIM_CONN_H

#include "sim/sim_int.h"
#include "sim/sim_outq.h"
#include "sim/sim_stream.h"

typedef struct nl__sim_conn nl__sim_conn;

/* Takes ownership of an accepted, non-blocking socket. On error the socket
 * is closed and a negative code returned. */
int nl__sim_conn_create(nl_sim *sim, int fd, const char *peer);

/* Starts closing a connection: output is dropped, the socket is closed and
 * the object freed in the loop's deferred step. Idempotent. */
void nl__sim_conn_fail(nl__sim_conn *c, const char *why);

/* Closes and frees at once (sim destroy: nothing of it may be on the stack). */
void nl__sim_conn_destroy_now(nl__sim_conn *c);

/* A stream hands one packet to one subscriber (fan-out). Never closes the
 * connection synchronously. */
void nl__sim_conn_deliver(nl__sim_sub *sub, nl__sim_frame *f);

/* The connection that owns list node n (sim->conns). */
nl__sim_conn *nl__sim_conn_from_node(nl_list *n);

#endif
