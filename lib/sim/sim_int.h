/* The body of nl_sim, shared by the simulator's files: the listener and
 * public API (server.c), connections (sim_conn.c) and streams
 * (sim_stream.c). Loop thread only, except the encoder registry which
 * encoder threads reach through their own reference. */
#ifndef NL_SIM_INT_H
#define NL_SIM_INT_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/list.h"
#include "loop/loop_int.h"
#include "neolink/context.h"
#include "neolink/sim.h"
#include "sim/faults.h"

typedef struct nl__sim_workers nl__sim_workers;

struct nl_sim {
    nl_ctx *ctx;
    nl_loop *loop;
    nl_sim_config cfg; /* string fields point at the copies below */
    char *listen_host, *user, *password, *uid, *model;
    nl__sim_faults faults;

    int lfd; /* -1 while not listening */
    nl_io lio;
    uint16_t port;
    struct sockaddr_storage addr; /* where to (re)bind */
    socklen_t addr_len;

    nl_list conns;   /* live nl__sim_conn (closing ones until their deferred free) */
    nl_list streams; /* live nl__sim_stream */
    unsigned next_conn_id;

    /* Camera clock: cam_us(now) = cam_base_us + (now - epoch_ns) / 1000, cut
     * to 32 bits on the wire. A restart picks a new base, like a reboot. */
    uint64_t epoch_ns;
    uint64_t cam_base_us;
    uint64_t rng;

    nl_timer restart_timer;
    int restart_done;

    nl__sim_workers *workers;

    /* counters (gauges are derived from the lists) */
    uint64_t connections_total, connections_refused;
    uint64_t logins, failed_logins;
    uint64_t streams_started, frames_encoded_gone; /* frames of encoders already freed */
    uint64_t frames_dropped, bytes_sent, slow_disconnects, restarts, motion_pushes;
};

/* Camera clock in µs (64-bit, the wire value is its low 32 bits). */
uint64_t nl__sim_camera_us(const nl_sim *sim);

#endif
