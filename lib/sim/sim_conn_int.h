/* The body of a simulated-camera connection, shared by sim_conn.c (I/O,
 * login, streaming, faults) and sim_reply.c (answers to requests). */
#ifndef NL_SIM_CONN_INT_H
#define NL_SIM_CONN_INT_H

#include <stdint.h>

#include "bc/codec.h"
#include "bc/frame.h"
#include "core/dbuf.h"
#include "sim/faults.h"
#include "sim/sim_conn.h"

#define NL_SIM_CONN_MAX_SUBS 4

enum nl__sim_conn_state {
    NL_SIM_CONN_HELLO = 0,  /* waiting for the 0x6514 upgrade request */
    NL_SIM_CONN_NONCE_SENT, /* waiting for the modern login */
    NL_SIM_CONN_LOGGED_IN,
};

struct nl__sim_conn {
    nl_list node; /* in sim->conns */
    nl_sim *sim;
    unsigned id;
    char who[32];
    int fd;
    nl_io io;
    nl_bc_framer framer;
    nl_bc_codec codec;
    nl__sim_outq out;
    nl_dbuf scratch; /* XML bodies are built here, then enciphered into `out` */

    int state;     /* enum nl__sim_conn_state */
    uint8_t level; /* negotiated NL_BC_ENC_* */
    char nonce[17];

    nl_timer login_timer, write_timer, drip_timer, motion_timer, keepalive_timer;
    nl_deferred close_d;

    nl__sim_sub subs[NL_SIM_CONN_MAX_SUBS];
    uint64_t stream_start_ns; /* when the first stream started (faults count from it) */
    uint8_t streaming;        /* stream_start_ns is set */

    uint8_t closing, orphan, stalled, close_after_flush;
    uint8_t big_length_sent, garbage_started, truncate_started;

    uint32_t motion_corr; /* correlation word of the 31 request */
    uint8_t motion_on;    /* state of the last push */

    nl__sim_bucket bucket;     /* drip */
    uint64_t last_progress_ns; /* last time a byte was written */
    uint64_t rng;
};

/* Queues one message (header from msg_id/corr/code, class 0x0000) through
 * the connection's codec. ext/payload must not point into the output queue.
 * On failure the connection is failed and the error returned. A stalled or
 * closing connection silently sends nothing. */
int nl__sim_conn_send(nl__sim_conn *c, uint32_t msg_id, uint32_t corr, uint16_t code,
                      const void *ext, size_t ext_len, const void *payload, size_t payload_len,
                      unsigned opts, size_t aes_prefix);
/* Writes what the queue holds as far as the socket (and drip) allows. */
void nl__sim_conn_flush(nl__sim_conn *c);

/* sim_reply.c: the successful login reply (DeviceInfo + StreamInfoList). */
int nl__sim_reply_login(nl__sim_conn *c, uint32_t corr);
/* sim_reply.c: every request after login. */
void nl__sim_reply_request(nl__sim_conn *c, const nl_bc_msg *m, const nl_bc_decoded *d);
/* sim_reply.c: the motion push timer (33 after 31). */
void nl__sim_on_motion_timer(nl_timer *t);

#endif
