/* UDP transport: one RTP socket and one RTCP socket (port + 1) shared by
 * every UDP session, like mediamtx's fixed pair.
 *
 * Sending: a frame's packets go out with one sendmmsg() per frame (RTP
 * packets to the client's RTP port, RTCP to its RTCP port), only ever to the
 * address that made the RTSP request (no reflection: the Transport parser
 * refuses a foreign destination=). A full socket buffer drops the datagrams
 * (UDP is lossy anyway) and counts them.
 *
 * Receiving: RTCP receiver reports refresh the liveness of the session whose
 * client address and RTCP port they come from; anything else is read and
 * discarded (bounded per wakeup). */
#ifndef NL_RTSP_UDP_H
#define NL_RTSP_UDP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop/loop_int.h"
#include "neolink/rtsp.h"
#include "rtp/frame_buf.h"

typedef struct nl__rtsp_udp {
    int fd[2]; /* RTP, RTCP; -1 when closed */
    nl_io io[2];
    uint16_t port[2];
    uint64_t datagrams_sent, datagrams_dropped, rtcp_in;
} nl__rtsp_udp;

/* Binds the pair on host (numeric) at port/port+1, or an ephemeral even
 * pair when port is 0. 0 or a negative code. */
int nl__rtsp_udp_open(nl_rtsp_server *srv, nl__rtsp_udp *u, const char *host, uint16_t port);
void nl__rtsp_udp_close(nl_rtsp_server *srv, nl__rtsp_udp *u);
/* Sends frame f to peer (address only; ports rtp_port/rtcp_port). Returns
 * the number of datagrams the kernel took. */
int nl__rtsp_udp_send_frame(nl__rtsp_udp *u, const nl_rtp_frame *f,
                            const struct sockaddr_storage *peer, socklen_t peer_len,
                            uint16_t rtp_port, uint16_t rtcp_port);

#endif
