/* The simulated camera's public API: configuration, the TCP listener, the
 * restart fault, statistics and teardown. Connections live in sim_conn.c,
 * streams and their encoder threads in sim_stream.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "sim/sim_conn.h"
#include "sim/sim_int.h"
#include "sim/sim_stream.h"
#include "sim/synth.h"

#define WHO          "sim"
#define ACCEPT_BATCH 64
/* Total time destroy waits for encoder threads to finish their frame. */
#define WORKER_JOIN_NS (2 * NL_NS_PER_S)

void nl_sim_config_init(nl_sim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_host = "127.0.0.1";
    cfg->port = 9000;
    cfg->user = "admin";
    cfg->password = "";
    cfg->encryption = NL_SIM_ENC_AES;
    cfg->channels = 1;
    cfg->codec = NL_SIM_VIDEO_H264;
    cfg->audio = NL_SIM_AUDIO_AAC;
    cfg->stream[NL_SIM_STREAM_MAIN] = (nl_sim_stream_config){1920, 1080, 25, 4096};
    cfg->stream[NL_SIM_STREAM_SUB] = (nl_sim_stream_config){640, 360, 15, 512};
    cfg->stream[NL_SIM_STREAM_EXTERN] = (nl_sim_stream_config){896, 512, 15, 1024};
    cfg->gop_ms = 2000;
    cfg->max_connections = 256;
    cfg->max_queue_bytes = 4u * 1024u * 1024u;
    cfg->write_timeout_ms = 10000;
    cfg->login_timeout_ms = 30000;
    cfg->motion_interval_ms = 5000;
    cfg->keepalive_interval_ms = 0;
    cfg->restart_downtime_ms = 500;
    cfg->uid = "SIMCAM0000000001";
    cfg->model = "NeolinkSim";
}

uint64_t nl__sim_camera_us(const nl_sim *sim)
{
    uint64_t now = nl_loop_now(sim->loop);
    return sim->cam_base_us + (now > sim->epoch_ns ? (now - sim->epoch_ns) / 1000 : 0);
}

static int check_config(const nl_sim_config *c)
{
    if (!c->listen_host || !c->user)
        return NL_EINVAL;
    if (strlen(c->user) >= 64 || (c->password && strlen(c->password) >= 64))
        return NL_ECONFIG;
    if (c->encryption < NL_SIM_ENC_NONE || c->encryption > NL_SIM_ENC_FULLAES)
        return NL_ECONFIG;
    if (c->channels < 1 || c->channels > NL_SIM_MAX_CHANNELS)
        return NL_ECONFIG;
    if (c->codec != NL_SIM_VIDEO_H264 && c->codec != NL_SIM_VIDEO_H265)
        return NL_ECONFIG;
    if (c->audio < NL_SIM_AUDIO_NONE || c->audio > NL_SIM_AUDIO_ADPCM)
        return NL_ECONFIG;
    for (int k = 0; k < NL_SIM_STREAM_KINDS; k++) {
        const nl_sim_stream_config *s = &c->stream[k];
        if (k == NL_SIM_STREAM_EXTERN && s->width == 0)
            continue; /* a camera without the third stream */
        if (s->width < NL_SYNTH_MIN_WIDTH || s->height < NL_SYNTH_MIN_HEIGHT ||
            s->width > NL_SYNTH_MAX_WIDTH || s->height > NL_SYNTH_MAX_HEIGHT ||
            (s->width | s->height) & 1 || s->fps < 1 || s->fps > 60 || s->bitrate_kbps < 16 ||
            s->bitrate_kbps > 100000)
            return NL_ECONFIG;
    }
    if (c->gop_ms < 100 || c->gop_ms > 60000)
        return NL_ECONFIG;
    if (c->max_connections < 1 || c->max_connections > 65536)
        return NL_ECONFIG;
    if (c->max_queue_bytes < 64 * 1024 || c->max_queue_bytes > 256u * 1024u * 1024u)
        return NL_ECONFIG;
    if (c->write_timeout_ms < 10 || c->login_timeout_ms < 10)
        return NL_ECONFIG;
    if (c->socket_sndbuf > 64u * 1024u * 1024u)
        return NL_ECONFIG;
    if (c->nfaults > NL_SIM_MAX_FAULTS)
        return NL_ECONFIG;
    return 0;
}

static int parse_listen(nl_sim *sim)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)&sim->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sim->addr;
    memset(&sim->addr, 0, sizeof sim->addr);
    if (inet_pton(AF_INET, sim->listen_host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(sim->cfg.port);
        sim->addr_len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, sim->listen_host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(sim->cfg.port);
        sim->addr_len = sizeof *in6;
        return 0;
    }
    return NL_ECONFIG;
}

static void on_accept(nl_io *io, unsigned events);

/* Binds and listens on sim->addr; records the actual port. */
static int start_listening(nl_sim *sim)
{
    int fd = socket(sim->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nl_err_from_errno(errno);
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sim->addr, sim->addr_len) < 0 || listen(fd, 128) < 0) {
        int rc = nl_err_from_errno(errno);
        close(fd);
        return rc;
    }
    struct sockaddr_storage got;
    socklen_t len = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &len) == 0) {
        uint16_t p = got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                               : ((struct sockaddr_in *)&got)->sin_port;
        sim->port = ntohs(p);
        /* A restart must come back on the same port even if it was 0. */
        if (sim->addr.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&sim->addr)->sin6_port = p;
        else
            ((struct sockaddr_in *)&sim->addr)->sin_port = p;
    }
    nl_io_init(&sim->lio, fd, on_accept, sim);
    int rc = nl_io_start(sim->loop, &sim->lio, NL_IO_READ);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    sim->lfd = fd;
    return 0;
}

static void stop_listening(nl_sim *sim)
{
    if (sim->lfd < 0)
        return;
    nl_io_stop(sim->loop, &sim->lio);
    close(sim->lfd);
    sim->lfd = -1;
}

static void peer_name(const struct sockaddr_storage *ss, char *buf, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    snprintf(buf, n, "%s:%u", host, port);
}

static void on_accept(nl_io *io, unsigned events)
{
    nl_sim *sim = io->data;
    (void)events;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(sim->lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                NL_LOGW(sim->ctx, WHO, "accept: %s", strerror(errno));
            return;
        }
        if (nl_list_count(&sim->conns) >= sim->cfg.max_connections) {
            sim->connections_refused++;
            NL_LOGW(sim->ctx, WHO, "refusing a connection: %u already open",
                    sim->cfg.max_connections);
            close(fd);
            continue;
        }
        char peer[INET6_ADDRSTRLEN + 8];
        peer_name(&ss, peer, sizeof peer);
        sim->connections_total++;
        int rc = nl__sim_conn_create(sim, fd, peer);
        if (rc < 0)
            NL_LOGW(sim->ctx, WHO, "cannot serve %s: %s", peer, nl_strerror(rc));
    }
}

/* restart:N. First firing: drop everyone and stop listening; second: come
 * back on the same port with a new camera clock (new nonces come with every
 * connection anyway). */
static void on_restart_timer(nl_timer *t)
{
    nl_sim *sim = t->data;
    if (sim->lfd >= 0) {
        NL_LOGI(sim->ctx, WHO, "fault restart: dropping %zu connection(s), down for %u ms",
                nl_list_count(&sim->conns), sim->cfg.restart_downtime_ms);
        /* Listener first: a client woken by its closed connection must not
         * reconnect before the camera is "down". */
        stop_listening(sim);
        nl_list_foreach(it, &sim->conns)
            nl__sim_conn_fail(nl__sim_conn_from_node(it), "fault restart");
        sim->port = 0;
        sim->restarts++;
        nl_timer_start_in(sim->loop, t, (uint64_t)sim->cfg.restart_downtime_ms * NL_NS_PER_MS);
        return;
    }
    sim->epoch_ns = nl_loop_now(sim->loop);
    sim->cam_base_us = nl__sim_rand(&sim->rng) & 0xFFFFFFFFu;
    int rc = start_listening(sim);
    if (rc < 0) {
        /* The port may still be held by something else: keep trying. */
        NL_LOGW(sim->ctx, WHO, "restart: cannot listen again: %s", nl_strerror(rc));
        nl_timer_start_in(sim->loop, t, 100 * NL_NS_PER_MS);
        return;
    }
    NL_LOGI(sim->ctx, WHO, "restart: listening again on port %u", sim->port);
}

static int copy_str(char **dst, const char *src)
{
    *dst = nl__strdup(src ? src : "");
    return *dst ? 0 : NL_ENOMEM;
}

int nl_sim_create(nl_sim **out, nl_ctx *ctx, nl_loop *loop, const nl_sim_config *cfg)
{
    if (!out)
        return NL_EINVAL;
    *out = NULL;
    if (!loop || !cfg)
        return NL_EINVAL;
    int rc = check_config(cfg);
    if (rc < 0)
        return rc;
    nl_sim *sim = nl__calloc(1, sizeof *sim);
    if (!sim)
        return NL_ENOMEM;
    sim->ctx = ctx;
    sim->loop = loop;
    sim->cfg = *cfg;
    sim->lfd = -1;
    nl_list_init(&sim->conns);
    nl_list_init(&sim->streams);
    nl_timer_init(&sim->restart_timer, on_restart_timer, sim);
    sim->rng = nl__sim_rand_seed();
    sim->epoch_ns = nl_loop_now(loop);
    sim->cam_base_us = nl__sim_rand(&sim->rng) & 0xFFFFFFFFu;

    rc = copy_str(&sim->listen_host, cfg->listen_host);
    if (!rc)
        rc = copy_str(&sim->user, cfg->user);
    if (!rc)
        rc = copy_str(&sim->password, cfg->password);
    if (!rc)
        rc = copy_str(&sim->uid, cfg->uid ? cfg->uid : "SIMCAM0000000001");
    if (!rc)
        rc = copy_str(&sim->model, cfg->model ? cfg->model : "NeolinkSim");
    if (!rc) {
        sim->cfg.listen_host = sim->listen_host;
        sim->cfg.user = sim->user;
        sim->cfg.password = sim->password;
        sim->cfg.uid = sim->uid;
        sim->cfg.model = sim->model;
        rc = nl__sim_faults_load(&sim->faults, cfg->faults, cfg->nfaults);
    }
    if (!rc)
        rc = parse_listen(sim);
    if (!rc)
        rc = nl__sim_workers_create(&sim->workers);
    if (!rc)
        rc = start_listening(sim);
    if (!rc && sim->faults.on[NL_SIM_FAULT_RESTART])
        rc = nl_timer_start_in(loop, &sim->restart_timer,
                               sim->faults.arg[NL_SIM_FAULT_RESTART] * NL_NS_PER_MS);
    if (rc < 0) {
        nl_sim_destroy(&sim);
        return rc;
    }
    for (unsigned i = 0; i < cfg->nfaults; i++)
        NL_LOGI(ctx, WHO, "fault %s armed (arg %llu)", nl_sim_fault_name(cfg->faults[i].kind),
                (unsigned long long)cfg->faults[i].arg);
    NL_LOGI(ctx, WHO, "listening on %s port %u", sim->listen_host, sim->port);
    *out = sim;
    return 0;
}

void nl_sim_destroy(nl_sim **simp)
{
    if (!simp || !*simp)
        return;
    nl_sim *sim = *simp;
    *simp = NULL;
    nl_timer_stop(sim->loop, &sim->restart_timer);
    stop_listening(sim);
    /* Connections are freed now, not deferred: the caller is not inside one
     * of their callbacks. Freeing them unsubscribes, which stops streams. */
    while (!nl_list_empty(&sim->conns))
        nl__sim_conn_destroy_now(nl__sim_conn_from_node(sim->conns.next));
    nl__sim_streams_stop_all(sim);
    if (sim->workers) {
        int left = nl__sim_workers_release(&sim->workers, nl_time_mono_ns() + WORKER_JOIN_NS);
        if (left > 0)
            NL_LOGE(sim->ctx, WHO, "%d encoder thread(s) missed the stop deadline", left);
    }
    nl__free(sim->listen_host);
    nl__free(sim->user);
    if (sim->password) {
        memset(sim->password, 0, strlen(sim->password));
        nl__free(sim->password);
    }
    nl__free(sim->uid);
    nl__free(sim->model);
    nl__free(sim);
}

uint16_t nl_sim_port(const nl_sim *sim)
{
    return sim ? sim->port : 0;
}

int nl_sim_get_stats(const nl_sim *sim, nl_sim_stats *out, size_t size)
{
    if (!sim || !out)
        return NL_EINVAL;
    nl_sim_stats st;
    memset(&st, 0, sizeof st);
    st.connections = (uint32_t)nl_list_count(&sim->conns);
    st.connections_total = sim->connections_total;
    st.connections_refused = sim->connections_refused;
    st.logins = sim->logins;
    st.failed_logins = sim->failed_logins;
    st.streams_started = sim->streams_started;
    st.frames_encoded = sim->frames_encoded_gone;
    st.frames_dropped = sim->frames_dropped;
    st.bytes_sent = sim->bytes_sent;
    st.slow_disconnects = sim->slow_disconnects;
    st.restarts = sim->restarts;
    st.motion_pushes = sim->motion_pushes;
    nl__sim_streams_stats(sim, &st);
    memcpy(out, &st, size < sizeof st ? size : sizeof st);
    return 0;
}

int nl_sim_status_line(const nl_sim *sim, char *buf, size_t n)
{
    nl_sim_stats st;
    if (nl_sim_get_stats(sim, &st, sizeof st) < 0) {
        if (n)
            buf[0] = '\0';
        return 0;
    }
    /* Extern is named only while encoded, so the lines of main/sub setups
     * read as before (tests and scripts parse "(main a sub b) viewers"). */
    char extern_part[24] = "";
    if (st.streams_by_kind[NL_SIM_STREAM_EXTERN])
        snprintf(extern_part, sizeof extern_part, " extern %u",
                 st.streams_by_kind[NL_SIM_STREAM_EXTERN]);
    return snprintf(buf, n,
                    "sim: port %u connections %u logins %llu failed %llu streams %u "
                    "(main %u sub %u%s) viewers %u frames %llu dropped %llu bytes %llu",
                    sim->port, st.connections, (unsigned long long)st.logins,
                    (unsigned long long)st.failed_logins, st.streams_active,
                    st.streams_by_kind[NL_SIM_STREAM_MAIN], st.streams_by_kind[NL_SIM_STREAM_SUB],
                    extern_part, st.viewers, (unsigned long long)st.frames_encoded,
                    (unsigned long long)st.frames_dropped, (unsigned long long)st.bytes_sent);
}
