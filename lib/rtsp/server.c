/* The public server API: configuration, the listener, housekeeping, the
 * reaper, graceful stop and destroy, statistics. See server_int.h. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "neolink/error.h"
#include "rtsp/server_int.h"

/* Connections beyond max_connections that still get a 503 before closing;
 * past this, new connections are closed at once. */
#define NL_RTSP_REFUSE_SLACK 16u
/* Connections accepted per listener wakeup. */
#define NL_RTSP_ACCEPT_BUDGET 64

NL_EXPORT void nl_rtsp_server_config_init(nl_rtsp_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->bind_address = "0.0.0.0";
    cfg->max_clients = 256;
    cfg->max_clients_per_mount = 256;
    cfg->max_connections = 256 + 16;
    cfg->auth_schemes = NL_RTSP_SERVER_AUTH_BASIC | NL_RTSP_SERVER_AUTH_DIGEST;
    cfg->realm = "neolink";
    cfg->session_timeout_s = 60;
    cfg->udp_grace_s = 15;
    cfg->idle_timeout_s = 75;
    cfg->queue_max_bytes = 4u << 20;
    cfg->queue_max_ms = 2000;
    cfg->queue_max_frames = 1024;
    cfg->stall_timeout_ms = 10000;
    cfg->sndbuf = 256 * 1024;
    cfg->play_wait_ms = 2500;
    cfg->gop_cache_max_bytes = 8u << 20;
}

static void fill_defaults(nl_rtsp_server_config *c)
{
    if (!c->bind_address)
        c->bind_address = "0.0.0.0";
    if (!c->max_clients)
        c->max_clients = 256;
    if (!c->max_clients_per_mount)
        c->max_clients_per_mount = c->max_clients;
    if (!c->max_connections)
        c->max_connections = c->max_clients + 16;
    if (!c->auth_schemes)
        c->auth_schemes = NL_RTSP_SERVER_AUTH_BASIC | NL_RTSP_SERVER_AUTH_DIGEST;
    if (!c->realm)
        c->realm = "neolink";
    if (!c->session_timeout_s)
        c->session_timeout_s = 60;
    if (!c->udp_grace_s)
        c->udp_grace_s = 15;
    if (!c->idle_timeout_s)
        c->idle_timeout_s = c->session_timeout_s + c->udp_grace_s;
    if (!c->queue_max_bytes)
        c->queue_max_bytes = 4u << 20;
    if (!c->queue_max_ms)
        c->queue_max_ms = 2000;
    if (!c->queue_max_frames)
        c->queue_max_frames = 1024;
    if (!c->stall_timeout_ms)
        c->stall_timeout_ms = 10000;
    if (!c->sndbuf)
        c->sndbuf = 256 * 1024;
    if (!c->play_wait_ms)
        c->play_wait_ms = 2500;
    if (!c->gop_cache_max_bytes)
        c->gop_cache_max_bytes = 8u << 20;
}

const nl__rtsp_account *nl__rtsp_server_account(const nl_rtsp_server *srv, nl_rtsp_span name)
{
    for (size_t i = 0; i < srv->naccounts; i++)
        if (nl_rtsp_span_eq(name, srv->accounts[i].name))
            return &srv->accounts[i];
    return NULL;
}

unsigned nl__rtsp_server_mount_limit(const nl_rtsp_server *srv, const nl_rtsp_mount *m)
{
    return m->max_clients ? m->max_clients : srv->cfg.max_clients_per_mount;
}

/* ---------------------------------------------------------------- reaper */

static void check_stopped(nl_rtsp_server *srv);

static void run_demand(nl_rtsp_server *srv)
{
    /* A callback may remove mounts (even this one): restart the walk after
     * each call; every call settles one mount's state, so this ends. */
    for (bool again = true; again;) {
        again = false;
        nl_list_foreach(it, &srv->mounts)
        {
            nl_rtsp_mount *m = nl_container_of(it, nl_rtsp_mount, node);
            bool active = m->nplaying > 0;
            nl_rtsp_demand what = 0;
            if (active != m->notified_active) {
                m->notified_active = active;
                what = active ? NL_RTSP_DEMAND_PLAY : NL_RTSP_DEMAND_IDLE;
            } else if (m->want_describe) {
                what = NL_RTSP_DEMAND_DESCRIBE;
            }
            m->want_describe = false;
            if (what && m->on_demand) {
                m->on_demand(m->ud, m, what);
                again = true;
                break;
            }
        }
    }
}

static void reap(nl_deferred *d)
{
    nl_rtsp_server *srv = nl_container_of(d, nl_rtsp_server, reaper);
    nl_list_foreach_safe(it, tmp, &srv->conns)
    {
        nl__rtsp_conn *c = nl_container_of(it, nl__rtsp_conn, node);
        if (c->fail_pending) {
            nl__rtsp_conn_fail(c, c->fail_err);
        } else if (c->resume_pending) {
            c->resume_pending = false;
            nl__rtsp_conn_process(c);
        }
    }
    if (!srv->destroyed)
        run_demand(srv);
    while (!nl_list_empty(&srv->dead_conns)) {
        nl__rtsp_conn *c = nl_container_of(srv->dead_conns.next, nl__rtsp_conn, node);
        nl_list_remove(&c->node);
        nl__rtsp_conn_free(c);
    }
    while (!nl_list_empty(&srv->dead_mounts)) {
        nl_rtsp_mount *m = nl_container_of(srv->dead_mounts.next, nl_rtsp_mount, node);
        nl_list_remove(&m->node);
        nl__rtsp_mount_free(m);
    }
    if (srv->destroyed) {
        nl__free(srv);
        return;
    }
    check_stopped(srv);
}

void nl__rtsp_server_schedule(nl_rtsp_server *srv)
{
    nl_loop_defer(srv->loop, &srv->reaper, reap);
}

/* ---------------------------------------------------------------- listener */

static void on_accept(nl_io *io, unsigned events)
{
    nl_rtsp_server *srv = io->data;
    for (int i = 0; i < NL_RTSP_ACCEPT_BUDGET; i++) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof peer;
        int fd = accept4(srv->lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The listener stays readable: pause it, or the loop would
                 * spin on it; the next tick tries again. */
                NL_LOGW(srv->ctx, "rtsp server", "accept: %s; pausing", strerror(errno));
                srv->accept_paused = true;
                nl_io_start(srv->loop, &srv->lio, 0);
            }
            return;
        }
        size_t n = nl_list_count(&srv->conns);
        if (n >= (size_t)srv->cfg.max_connections + NL_RTSP_REFUSE_SLACK) {
            srv->stats.refused++;
            close(fd);
            continue;
        }
        bool over = n >= srv->cfg.max_connections;
        if (over)
            srv->stats.refused++;
        srv->stats.accepted++;
        nl__rtsp_conn_create(srv, fd, (struct sockaddr *)&peer, pl, over);
    }
}

static int listen_on(nl_rtsp_server *srv, const char *host, uint16_t port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai)
        return NL_EINVAL;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return nl_err_from_errno(errno);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
        int rc = nl_err_from_errno(errno);
        close(fd);
        freeaddrinfo(ai);
        return rc;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    srv->port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                        : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    srv->lfd = fd;
    nl_io_init(&srv->lio, fd, on_accept, srv);
    return nl_io_start(srv->loop, &srv->lio, NL_IO_READ);
}

static void close_listener(nl_rtsp_server *srv)
{
    if (srv->lfd >= 0) {
        nl_io_stop(srv->loop, &srv->lio);
        close(srv->lfd);
        srv->lfd = -1;
    }
}

/* ---------------------------------------------------------------- housekeeping */

static void on_tick(nl_timer *t)
{
    nl_rtsp_server *srv = t->data;
    uint64_t now = nl_loop_now(srv->loop);
    nl_list_foreach_safe(it, tmp, &srv->sessions)
    {
        nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, srv_node);
        if (nl__rtsp_session_expired(s, now)) {
            srv->stats.expired++;
            NL_LOGI(srv->ctx, "rtsp server", "session %s expired", s->id);
            nl__rtsp_session_close(s, NL_ETIMEDOUT);
        } else {
            nl__rtsp_session_play_timeout(s, now);
        }
    }
    uint64_t stall = (uint64_t)srv->cfg.stall_timeout_ms * NL_NS_PER_MS;
    uint64_t idle = (uint64_t)srv->cfg.idle_timeout_s * NL_NS_PER_S;
    nl_list_foreach_safe(it, tmp, &srv->conns)
    {
        nl__rtsp_conn *c = nl_container_of(it, nl__rtsp_conn, node);
        if (c->dead || c->fail_pending)
            continue;
        if (c->stall_since && now - c->stall_since >= stall) {
            nl__rtsp_conn_fail(c, NL_ESTALL);
            continue;
        }
        if (now - c->last_req < idle)
            continue; /* before walking its sessions: they are cold memory */
        bool playing = false;
        nl_list_foreach(si, &c->sessions)
        {
            const nl__rtsp_session *s = nl_container_of(si, nl__rtsp_session, conn_node);
            playing |= s->state == NL__SESS_PLAYING;
        }
        if (!playing)
            nl__rtsp_conn_fail(c, NL_ETIMEDOUT);
    }
    if (srv->accept_paused && srv->lfd >= 0) {
        srv->accept_paused = false;
        nl_io_start(srv->loop, &srv->lio, NL_IO_READ);
    }
    nl_timer_start_in(srv->loop, &srv->tick, NL_RTSP_TICK_NS);
}

/* ---------------------------------------------------------------- create / destroy */

static int copy_accounts(nl_rtsp_server *srv, const nl_rtsp_server_config *cfg)
{
    if (cfg->n_users == 0)
        return 0;
    if (!cfg->users)
        return NL_EINVAL;
    srv->accounts = nl__calloc(cfg->n_users, sizeof(*srv->accounts));
    if (!srv->accounts)
        return NL_ENOMEM;
    for (size_t i = 0; i < cfg->n_users; i++) {
        const nl_rtsp_user *u = &cfg->users[i];
        if (!u->name || !u->password || !u->name[0] || strlen(u->name) > 63 ||
            strchr(u->name, ':') || strlen(u->password) > 127)
            return NL_EINVAL;
        srv->accounts[i].name = nl__strdup(u->name);
        srv->accounts[i].password = nl__strdup(u->password);
        srv->naccounts = i + 1;
        if (!srv->accounts[i].name || !srv->accounts[i].password)
            return NL_ENOMEM;
    }
    return 0;
}

static void free_accounts(nl_rtsp_server *srv)
{
    for (size_t i = 0; i < srv->naccounts; i++) {
        nl__free(srv->accounts[i].name);
        if (srv->accounts[i].password) {
            /* Wipe before freeing: the heap may be dumped or reused. */
            volatile char *p = srv->accounts[i].password;
            while (*p)
                *p++ = 0;
            nl__free(srv->accounts[i].password);
        }
    }
    nl__free(srv->accounts);
    srv->accounts = NULL;
    srv->naccounts = 0;
}

/* Closes every connection and session through the ordinary error path. */
static void close_all(nl_rtsp_server *srv, int why)
{
    while (!nl_list_empty(&srv->conns)) {
        nl__rtsp_conn *c = nl_container_of(srv->conns.next, nl__rtsp_conn, node);
        nl__rtsp_conn_fail(c, why);
    }
    while (!nl_list_empty(&srv->sessions)) {
        nl__rtsp_session *s = nl_container_of(srv->sessions.next, nl__rtsp_session, srv_node);
        nl__rtsp_session_close(s, why);
    }
}

static void teardown(nl_rtsp_server *srv)
{
    nl_timer_stop(srv->loop, &srv->tick);
    nl_timer_stop(srv->loop, &srv->stop_timer);
    close_listener(srv);
    close_all(srv, NL_ECANCELED);
    while (!nl_list_empty(&srv->mounts)) {
        nl_rtsp_mount *m = nl_container_of(srv->mounts.next, nl_rtsp_mount, node);
        nl_rtsp_mount_remove(&m);
    }
    nl__rtsp_udp_close(srv, &srv->udp);
    free_accounts(srv);
    nl_rtsp_auth_wipe(&srv->auth);
}

NL_EXPORT int nl_rtsp_server_create(nl_rtsp_server **out, nl_loop *loop, nl_ctx *ctx,
                                    const nl_rtsp_server_config *cfg)
{
    if (!out || !loop)
        return NL_EINVAL;
    *out = NULL;
    nl_rtsp_server *srv = nl__calloc(1, sizeof(*srv));
    if (!srv)
        return NL_ENOMEM;
    srv->loop = loop;
    srv->ctx = ctx;
    srv->lfd = -1;
    srv->udp.fd[0] = srv->udp.fd[1] = -1;
    nl_list_init(&srv->conns);
    nl_list_init(&srv->dead_conns);
    nl_list_init(&srv->sessions);
    nl_list_init(&srv->mounts);
    nl_list_init(&srv->dead_mounts);
    nl_timer_init(&srv->tick, on_tick, srv);
    nl_timer_init(&srv->stop_timer, NULL, srv);
    if (cfg)
        srv->cfg = *cfg;
    fill_defaults(&srv->cfg);
    int rc = NL_EINVAL;
    if (strlen(srv->cfg.bind_address) >= sizeof srv->bind_host ||
        srv->cfg.queue_max_frames > (1u << 20) || (srv->cfg.disable_tcp && srv->cfg.disable_udp))
        goto fail;
    snprintf(srv->bind_host, sizeof srv->bind_host, "%s", srv->cfg.bind_address);
    srv->cfg.bind_address = srv->bind_host;
    srv->cfg.users = NULL;
    srv->cfg.realm = NULL;
    rc = copy_accounts(srv, cfg ? cfg : &srv->cfg);
    if (rc < 0)
        goto fail;
    unsigned schemes = 0;
    if (srv->cfg.auth_schemes & NL_RTSP_SERVER_AUTH_BASIC)
        schemes |= NL_RTSP_AUTH_BASIC;
    if (srv->cfg.auth_schemes & NL_RTSP_SERVER_AUTH_DIGEST)
        schemes |= NL_RTSP_AUTH_DIGEST;
    rc = nl_rtsp_auth_init(&srv->auth, cfg && cfg->realm ? cfg->realm : "neolink", schemes, 300);
    if (rc < 0)
        goto fail;
    rc = listen_on(srv, srv->bind_host, srv->cfg.port);
    if (rc < 0)
        goto fail;
    if (!srv->cfg.disable_udp) {
        rc = nl__rtsp_udp_open(srv, &srv->udp, srv->bind_host, srv->cfg.udp_port);
        if (rc < 0)
            goto fail;
    }
    rc = nl_timer_start_in(loop, &srv->tick, NL_RTSP_TICK_NS);
    if (rc < 0)
        goto fail;
    NL_LOGI(ctx, "rtsp server", "listening on %s port %u (UDP %u-%u)%s", srv->bind_host,
            (unsigned)srv->port, (unsigned)srv->udp.port[0], (unsigned)srv->udp.port[1],
            srv->naccounts ? ", authentication on" : "");
    *out = srv;
    return 0;
fail:
    teardown(srv);
    nl__free(srv);
    return rc;
}

NL_EXPORT void nl_rtsp_server_destroy(nl_rtsp_server **sp)
{
    if (!sp || !*sp)
        return;
    nl_rtsp_server *srv = *sp;
    *sp = NULL;
    srv->on_stopped = NULL;
    teardown(srv);
    srv->destroyed = true;
    /* The reaper frees what is left, and the server itself. When it is
     * queued already its node lives in our memory, so it must run first. */
    if (!srv->reaper.queued)
        reap(&srv->reaper);
}

static void on_stop_deadline(nl_timer *t)
{
    nl_rtsp_server *srv = t->data;
    if (!nl_list_empty(&srv->conns))
        NL_LOGW(srv->ctx, "rtsp server", "stop deadline: failing %zu connection(s)",
                nl_list_count(&srv->conns));
    close_all(srv, NL_ETIMEDOUT);
}

static void check_stopped(nl_rtsp_server *srv)
{
    if (!srv->stopping || !nl_list_empty(&srv->conns) || !srv->on_stopped)
        return;
    nl_timer_stop(srv->loop, &srv->stop_timer);
    nl_rtsp_stopped_fn fn = srv->on_stopped;
    srv->on_stopped = NULL;
    fn(srv->stopped_ud);
}

NL_EXPORT int nl_rtsp_server_stop(nl_rtsp_server *srv, uint32_t timeout_ms,
                                  nl_rtsp_stopped_fn on_stopped, void *ud)
{
    if (!srv || srv->stopping)
        return srv ? NL_ESTATE : NL_EINVAL;
    srv->stopping = true;
    srv->on_stopped = on_stopped;
    srv->stopped_ud = ud;
    close_listener(srv);
    nl_list_foreach_safe(it, tmp, &srv->sessions)
    {
        nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, srv_node);
        if (s->lower == NL_RTSP_LOWER_UDP)
            nl__rtsp_session_close(s, NL_ECANCELED);
    }
    nl_list_foreach_safe(it, tmp, &srv->conns)
    {
        nl__rtsp_conn *c = nl_container_of(it, nl__rtsp_conn, node);
        nl__rtsp_conn_close_gracefully(c);
    }
    srv->stop_timer.cb = on_stop_deadline;
    nl_timer_start_in(srv->loop, &srv->stop_timer, (uint64_t)timeout_ms * NL_NS_PER_MS);
    nl__rtsp_server_schedule(srv);
    return 0;
}

NL_EXPORT uint16_t nl_rtsp_server_port(const nl_rtsp_server *srv)
{
    return srv->port;
}

NL_EXPORT uint16_t nl_rtsp_server_udp_port(const nl_rtsp_server *srv)
{
    return srv->udp.fd[0] >= 0 ? srv->udp.port[0] : 0;
}

/* ---------------------------------------------------------------- stats */

NL_EXPORT void nl_rtsp_server_get_stats(const nl_rtsp_server *srv, nl_rtsp_server_stats *st)
{
    *st = srv->stats;
    st->connections = nl_list_count(&srv->conns);
    st->sessions = nl_list_count(&srv->sessions);
    st->mounts = nl_list_count(&srv->mounts);
    st->playing = 0;
    nl_list_foreach(it, &srv->mounts)
    {
        const nl_rtsp_mount *m = nl_container_of(it, nl_rtsp_mount, node);
        st->playing += m->nplaying;
    }
}

NL_EXPORT void nl_rtsp_server_foreach(const nl_rtsp_server *srv,
                                      void (*fn)(void *ud, const nl_rtsp_mount_stats *mount,
                                                 const nl_rtsp_client_stats *client),
                                      void *ud)
{
    nl_list_foreach(it, &srv->mounts)
    {
        const nl_rtsp_mount *m = nl_container_of(it, nl_rtsp_mount, node);
        nl_rtsp_mount_stats ms;
        nl_rtsp_mount_get_stats(m, &ms);
        fn(ud, &ms, NULL);
    }
    nl_list_foreach(it, &srv->sessions)
    {
        const nl__rtsp_session *s = nl_container_of(it, nl__rtsp_session, srv_node);
        char peer[96] = "";
        if (s->conn)
            snprintf(peer, sizeof peer, "%s:%u", s->conn->peer_host, (unsigned)s->conn->peer_port);
        nl_rtsp_client_stats cs = {
            .mount = s->mount->path,
            .session_id = s->id,
            .peer = peer,
            .tcp = s->lower == NL_RTSP_LOWER_TCP,
            .playing = s->state == NL__SESS_PLAYING,
            .frames_sent = s->frames_sent,
            .frames_dropped = s->frames_dropped,
            .bytes_sent = s->bytes_sent,
            .overflows = s->overflows,
            .queue_bytes = s->q.bytes,
            .queue_frames = s->q.len,
            .queue_peak_bytes = s->q.peak_bytes,
            .queue_peak_frames = s->q.peak_len,
        };
        fn(ud, NULL, &cs);
    }
}
