/* One client connection of the simulated camera (see sim_conn.h): socket
 * I/O, the login handshake, request dispatch and the per-connection side of
 * streaming (framing shared media into msg-3 messages, faults). The replies
 * to individual requests are in sim_reply.c. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bc/bodies.h"
#include "bc/codec.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/time.h"
#include "neolink/error.h"
#include "neolink/media.h"
#include "sim/sim_conn_int.h"

/* Media chunking as cameras do it (sheet §5.1): a packet above 40000 bytes
 * goes out as a first chunk of size mod 40000, then 40000-byte chunks. */
#define MEDIA_CHUNK     40000u
#define OUTQ_SEGS       1024u
#define READS_PER_EVENT 4
#define READ_WANT       65536u
/* Requests are small XML; talk audio is the biggest thing a client sends. */
#define MAX_REQUEST_BODY (256u * 1024u)
#define SCRATCH_MAX      (256u * 1024u)
/* The body_len the big-length fault announces. */
#define BIG_LENGTH 0x7FFFFFF0u
/* Garbage sent per media packet by the garbage fault. */
#define GARBAGE_MAX 4096u

nl__sim_conn *nl__sim_conn_from_node(nl_list *n)
{
    return nl_container_of(n, nl__sim_conn, node);
}

/* ------------------------------------------------------------------ teardown */

static void release(nl__sim_conn *c)
{
    nl_bc_framer_free(&c->framer);
    nl_bc_codec_free(&c->codec);
    nl__sim_outq_free(&c->out);
    nl_dbuf_free(&c->scratch);
    memset(c->nonce, 0, sizeof c->nonce);
    nl__free(c);
}

/* Leaves the simulator: subscriptions and the connection list. */
static void detach(nl__sim_conn *c)
{
    for (int i = 0; i < NL_SIM_CONN_MAX_SUBS; i++)
        nl__sim_stream_unsubscribe(&c->subs[i]);
    nl_list_remove(&c->node);
    c->orphan = 1;
}

static void on_deferred_free(nl_deferred *d)
{
    nl__sim_conn *c = nl_container_of(d, nl__sim_conn, close_d);
    if (!c->orphan)
        detach(c);
    release(c);
}

static void stop_timers(nl__sim_conn *c)
{
    nl_loop *loop = c->sim->loop;
    nl_timer_stop(loop, &c->login_timer);
    nl_timer_stop(loop, &c->write_timer);
    nl_timer_stop(loop, &c->drip_timer);
    nl_timer_stop(loop, &c->motion_timer);
    nl_timer_stop(loop, &c->keepalive_timer);
}

void nl__sim_conn_fail(nl__sim_conn *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = 1;
    nl_sim *sim = c->sim;
    NL_LOGI(sim->ctx, c->who, "closed: %s", why);
    nl_io_stop(sim->loop, &c->io);
    close(c->fd);
    c->fd = -1;
    stop_timers(c);
    /* Unsubscribing now could run inside a stream's fan-out; the deferred
     * step is after every callback of this iteration. */
    nl_loop_defer(sim->loop, &c->close_d, on_deferred_free);
}

void nl__sim_conn_destroy_now(nl__sim_conn *c)
{
    nl__sim_conn_fail(c, "simulator shutting down");
    /* The memory goes with the deferred step already queued; everything that
     * touches the simulator happens now, while it still exists. */
    if (!c->orphan)
        detach(c);
}

/* ------------------------------------------------------------------ output */

static void set_want(nl__sim_conn *c, unsigned want)
{
    int rc = nl_io_start(c->sim->loop, &c->io, want);
    if (rc < 0)
        nl__sim_conn_fail(c, "cannot watch the socket");
}

void nl__sim_conn_flush(nl__sim_conn *c)
{
    if (c->closing || c->stalled)
        return;
    nl_sim *sim = c->sim;
    uint64_t now = nl_loop_now(sim->loop);
    while (!nl__sim_outq_empty(&c->out)) {
        size_t limit = nl__sim_bucket_allow(&c->bucket, now);
        if (!limit) {
            /* drip: wait for tokens with the write watcher off */
            set_want(c, NL_IO_READ);
            if (!c->closing && !nl_timer_armed(&c->drip_timer))
                nl_timer_start(sim->loop, &c->drip_timer, now + nl__sim_bucket_wait_ns(&c->bucket));
            break;
        }
        long n = nl__sim_outq_send(&c->out, c->fd, limit);
        if (n == NL_EAGAIN) {
            set_want(c, NL_IO_READ | NL_IO_WRITE);
            break;
        }
        if (n < 0) {
            char why[96];
            snprintf(why, sizeof why, "write failed: %s", nl_strerror((int)n));
            nl__sim_conn_fail(c, why);
            return;
        }
        nl__sim_bucket_take(&c->bucket, (size_t)n);
        sim->bytes_sent += (uint64_t)n;
        c->last_progress_ns = now;
    }
    if (c->closing)
        return;
    if (nl__sim_outq_empty(&c->out)) {
        nl_timer_stop(sim->loop, &c->write_timer);
        set_want(c, NL_IO_READ);
        if (c->close_after_flush)
            nl__sim_conn_fail(c, "logged out");
        return;
    }
    nl_timer_start(sim->loop, &c->write_timer,
                   c->last_progress_ns + (uint64_t)sim->cfg.write_timeout_ms * NL_NS_PER_MS);
}

static void on_write_timer(nl_timer *t)
{
    nl__sim_conn *c = t->data;
    nl_sim *sim = c->sim;
    uint64_t limit = (uint64_t)sim->cfg.write_timeout_ms * NL_NS_PER_MS;
    uint64_t now = nl_loop_now(sim->loop);
    if (nl__sim_outq_empty(&c->out) || c->stalled)
        return;
    if (now - c->last_progress_ns >= limit) {
        sim->slow_disconnects++;
        nl__sim_conn_fail(c, "client stopped reading (write timeout)");
        return;
    }
    nl_timer_start(sim->loop, t, c->last_progress_ns + limit);
}

static void on_drip_timer(nl_timer *t)
{
    nl__sim_conn_flush(t->data);
}

int nl__sim_conn_send(nl__sim_conn *c, uint32_t msg_id, uint32_t corr, uint16_t code,
                      const void *ext, size_t ext_len, const void *payload, size_t payload_len,
                      unsigned opts, size_t aes_prefix)
{
    if (c->closing || c->stalled)
        return 0;
    nl_bc_header h;
    nl_bc_header_init(&h, msg_id, NL_BC_CLASS_MODERN_REPLY, corr, code);
    size_t need = NL_BC_HDR_LEN_MAX + ext_len + payload_len;
    long n = nl_bc_codec_encode(&c->codec, &h, ext, ext_len, payload, payload_len, opts, aes_prefix,
                                nl__sim_outq_own(&c->out, need));
    int rc = n < 0 ? (int)n : nl__sim_outq_commit_own(&c->out, (size_t)n);
    if (rc < 0) {
        char why[96];
        snprintf(why, sizeof why, "cannot queue msg %u: %s", msg_id, nl_strerror(rc));
        nl__sim_conn_fail(c, why);
        return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ login */

static uint8_t choose_level(uint8_t offered, nl_sim_encryption max)
{
    /* Rank the wire levels: 00 < 01 < 02/03 < 12. Unknown values between
     * count as AES, anything above 0x12 as full AES. */
    int rank = offered == NL_BC_ENC_NONE     ? 0
               : offered == NL_BC_ENC_BC     ? 1
               : offered < NL_BC_ENC_FULLAES ? 2
                                             : 3;
    if (rank > (int)max)
        rank = (int)max;
    static const uint8_t wire[] = {NL_BC_ENC_NONE, NL_BC_ENC_BC, NL_BC_ENC_AES, NL_BC_ENC_FULLAES};
    return wire[rank];
}

static void make_nonce(nl__sim_conn *c)
{
    static const char hex[] = "0123456789ABCDEF";
    uint64_t r = nl__sim_rand_seed();
    for (int i = 0; i < 16; i++)
        c->nonce[i] = hex[(r >> (i * 4)) & 0xF];
    c->nonce[16] = '\0';
}

/* Class 0x6514 msg 1: header-only upgrade request or the legacy MD5 body.
 * Either way the answer is the nonce (sheet §3.1 step 3, §3.2). */
static void on_hello(nl__sim_conn *c, const nl_bc_msg *m)
{
    nl_sim *sim = c->sim;
    if (c->state == NL_SIM_CONN_LOGGED_IN) {
        NL_LOGD(sim->ctx, c->who, "hello after login ignored");
        return;
    }
    uint8_t offered = nl_bc_hdr_enc_level(&m->hdr);
    if (m->hdr.body_len == NL_BC_LEGACY_LOGIN_LEN)
        NL_LOGD(sim->ctx, c->who, "legacy MD5 login body: answering with a nonce");
    else if (m->hdr.body_len)
        NL_LOGD(sim->ctx, c->who, "login hello with an unexpected %u-byte body", m->hdr.body_len);
    if (c->state == NL_SIM_CONN_HELLO) {
        c->level = choose_level(offered, sim->cfg.encryption);
        make_nonce(c);
        nl_bc_codec_set_level(&c->codec, c->level);
        c->state = NL_SIM_CONN_NONCE_SENT;
        NL_LOGD(sim->ctx, c->who, "offered level 0x%02x, chose 0x%02x", offered, c->level);
    }
    nl_dbuf_reset(&c->scratch);
    long n = nl_bc_build_nonce_reply(&c->scratch, c->nonce);
    if (n < 0) {
        nl__sim_conn_fail(c, "cannot build the nonce reply");
        return;
    }
    nl_bc_header h;
    nl_bc_header_init(&h, NL_BC_MSG_LOGIN, NL_BC_CLASS_LEGACY_REPLY, m->hdr.corr, 0);
    nl_bc_hdr_set_level(&h, c->level, NL_BC_DIR_FROM_CAMERA);
    long w = nl_bc_codec_encode(&c->codec, &h, NULL, 0, c->scratch.data, c->scratch.len, 0, 0,
                                nl__sim_outq_own(&c->out, NL_BC_HDR_LEN_SHORT + c->scratch.len));
    if (w < 0 || nl__sim_outq_commit_own(&c->out, (size_t)w) < 0)
        nl__sim_conn_fail(c, "cannot queue the nonce reply");
}

static void on_login(nl__sim_conn *c, const nl_bc_msg *m, const nl_bc_decoded *d)
{
    nl_sim *sim = c->sim;
    uint32_t corr = m->hdr.corr;
    const char *why = NULL;
    nl_bc_login l;
    const nl_bc_xml_node *root;
    if (c->state != NL_SIM_CONN_NONCE_SENT)
        why = "login before the nonce was sent";
    else if (d->binary || !d->payload_len)
        why = "login without an XML body";
    else if (nl_bc_xml_parse(c->codec.xml, d->payload, d->payload_len, &root) < 0 ||
             nl_bc_parse_login(root, &l) < 0)
        why = "malformed login body";
    else if (sim->faults.on[NL_SIM_FAULT_REJECT_LOGIN])
        why = "fault reject-login";
    else if (nl_bc_login_check(&l, sim->cfg.user, sim->cfg.password, c->nonce) < 0)
        why = "wrong user name or password";
    if (why) {
        sim->failed_logins++;
        NL_LOGI(sim->ctx, c->who, "login rejected: %s", why);
        nl__sim_conn_send(c, NL_BC_MSG_LOGIN, corr, NL_BC_RESP_BAD_REQ, NULL, 0, NULL, 0, 0, 0);
        return;
    }
    int rc = nl__sim_reply_login(c, corr);
    if (rc == 0)
        rc = nl_bc_codec_login_done(&c->codec, c->nonce, sim->cfg.password);
    if (rc < 0) {
        nl__sim_conn_fail(c, "cannot complete the login");
        return;
    }
    c->state = NL_SIM_CONN_LOGGED_IN;
    sim->logins++;
    nl_timer_stop(sim->loop, &c->login_timer);
    if (sim->cfg.keepalive_interval_ms)
        nl_timer_start_in(sim->loop, &c->keepalive_timer,
                          (uint64_t)sim->cfg.keepalive_interval_ms * NL_NS_PER_MS);
    NL_LOGI(sim->ctx, c->who, "logged in (encryption 0x%02x)", c->level);
}

static void on_login_timer(nl_timer *t)
{
    nl__sim_conn_fail(t->data, "no login in time");
}

static void on_keepalive_timer(nl_timer *t)
{
    nl__sim_conn *c = t->data;
    nl_sim *sim = c->sim;
    /* Camera-initiated heartbeat: header only; clients answer with the same
     * correlation word (sheet §6). */
    nl__sim_conn_send(c, NL_BC_MSG_KEEPALIVE, 0, 0, NULL, 0, NULL, 0, 0, 0);
    nl__sim_conn_flush(c);
    if (!c->closing)
        nl_timer_start_in(sim->loop, t, (uint64_t)sim->cfg.keepalive_interval_ms * NL_NS_PER_MS);
}

/* ------------------------------------------------------------------ input */

static void handle(nl__sim_conn *c, nl_bc_msg *m)
{
    nl_sim *sim = c->sim;
    const nl_bc_header *h = &m->hdr;
    if (h->msg_class == NL_BC_CLASS_LEGACY) {
        if (h->msg_id == NL_BC_MSG_LOGIN)
            on_hello(c, m);
        else
            NL_LOGD(sim->ctx, c->who, "legacy-class msg %u ignored", h->msg_id);
        return;
    }
    /* Answers to our heartbeats, and talk audio we have nowhere to play. */
    if (h->msg_id == NL_BC_MSG_KEEPALIVE || h->msg_id == NL_BC_MSG_TALK)
        return;
    if (c->stalled)
        return;
    nl_bc_decoded d;
    int rc = nl_bc_codec_decode(&c->codec, m, &d);
    if (rc < 0) {
        NL_LOGD(sim->ctx, c->who, "msg %u undecodable (%s): 400", h->msg_id, nl_strerror(rc));
        nl__sim_conn_send(c, h->msg_id, h->corr, NL_BC_RESP_BAD_REQ, NULL, 0, NULL, 0, 0, 0);
        return;
    }
    if (h->msg_id == NL_BC_MSG_LOGIN) {
        if (c->state == NL_SIM_CONN_LOGGED_IN)
            nl__sim_conn_send(c, h->msg_id, h->corr, NL_BC_RESP_BAD_REQ, NULL, 0, NULL, 0, 0, 0);
        else
            on_login(c, m, &d);
        return;
    }
    if (c->state != NL_SIM_CONN_LOGGED_IN) {
        NL_LOGD(sim->ctx, c->who, "msg %u before login: 400", h->msg_id);
        nl__sim_conn_send(c, h->msg_id, h->corr, NL_BC_RESP_BAD_REQ, NULL, 0, NULL, 0, 0, 0);
        return;
    }
    nl__sim_reply_request(c, m, &d);
}

static void do_read(nl__sim_conn *c)
{
    for (int i = 0; i < READS_PER_EVENT && !c->closing; i++) {
        size_t room = 0;
        uint8_t *p = nl_bc_framer_space(&c->framer, READ_WANT, &room);
        if (!p) {
            nl__sim_conn_fail(c, "input buffer unavailable");
            return;
        }
        ssize_t n = recv(c->fd, p, room, MSG_DONTWAIT);
        if (n == 0) {
            nl__sim_conn_fail(c, "peer closed the connection");
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                char why[96];
                snprintf(why, sizeof why, "read failed: %s", strerror(errno));
                nl__sim_conn_fail(c, why);
            }
            return;
        }
        nl_bc_framer_commit(&c->framer, (size_t)n);
        nl_bc_msg m;
        int rc = 0;
        while (!c->closing && (rc = nl_bc_framer_next(&c->framer, &m)) > 0)
            handle(c, &m);
        if (!c->closing && rc < 0) {
            char why[96];
            snprintf(why, sizeof why, "bad input framing: %s", nl_strerror(rc));
            nl__sim_conn_fail(c, why);
            return;
        }
        nl__sim_conn_flush(c);
        if ((size_t)n < room)
            return;
    }
}

static void on_io(nl_io *io, unsigned events)
{
    nl__sim_conn *c = io->data;
    if (events & (NL_IO_READ | NL_IO_ERROR))
        do_read(c);
    if (!c->closing && (events & NL_IO_WRITE))
        nl__sim_conn_flush(c);
}

/* ------------------------------------------------------------------ media */

/* Pushes one msg-3 message whose body is bytes [off, off+len) of f. */
static int push_media(nl__sim_conn *c, const nl__sim_sub *sub, nl__sim_frame *f, size_t off,
                      size_t len)
{
    const uint8_t *data = f->buf->data + off;
    if (c->level == NL_BC_ENC_FULLAES) {
        /* Full AES: every binary message carries an Extension whose
         * encryptLen covers the whole payload, which satisfies both readings
         * of encryptLen (sheet §2.5). The enciphered copy is this
         * connection's own. */
        nl_bc_extension e;
        memset(&e, 0, sizeof e);
        e.has = NL_BC_EXT_ENCRYPT_LEN | NL_BC_EXT_BINARY;
        e.encrypt_len = (uint32_t)len;
        e.binary_data = 1;
        nl_dbuf_reset(&c->scratch);
        long el = nl_bc_build_extension(&c->scratch, &e);
        if (el < 0)
            return (int)el;
        return nl__sim_conn_send(c, NL_BC_MSG_VIDEO, sub->corr, NL_BC_RESP_OK, c->scratch.data,
                                 (size_t)el, data, len, NL_BC_OUT_BINARY, len);
    }
    nl_bc_header h;
    nl_bc_header_init(&h, NL_BC_MSG_VIDEO, NL_BC_CLASS_MODERN_REPLY, sub->corr, NL_BC_RESP_OK);
    h.body_len = (uint32_t)len;
    h.payload_offset = 0;
    uint8_t hdr[NL_BC_HDR_LEN_MAX];
    size_t hl = nl_bc_header_write(&h, hdr);
    int rc = nl__sim_outq_push_own(&c->out, hdr, hl);
    if (rc == 0)
        rc = nl__sim_outq_push_shared(&c->out, f, off, len);
    return rc;
}

/* Acts out the streaming-time faults. Returns 1 when the packet must not be
 * sent normally. */
static int apply_faults(nl__sim_conn *c, const nl__sim_sub *sub, const nl__sim_frame *f)
{
    nl_sim *sim = c->sim;
    const nl__sim_faults *ft = &sim->faults;
    uint64_t ms = (nl_loop_now(sim->loop) - c->stream_start_ns) / NL_NS_PER_MS;
    if (nl__sim_fault_due(ft, NL_SIM_FAULT_DROP, ms)) {
        nl__sim_conn_fail(c, "fault drop");
        return 1;
    }
    if (nl__sim_fault_due(ft, NL_SIM_FAULT_STALL, ms)) {
        NL_LOGI(sim->ctx, c->who, "fault stall: sending nothing from now on");
        c->stalled = 1;
        nl_timer_stop(sim->loop, &c->write_timer);
        nl_timer_stop(sim->loop, &c->drip_timer);
        nl_timer_stop(sim->loop, &c->motion_timer);
        nl_timer_stop(sim->loop, &c->keepalive_timer);
        set_want(c, NL_IO_READ);
        return 1;
    }
    if (nl__sim_fault_due(ft, NL_SIM_FAULT_GARBAGE, ms)) {
        if (!c->garbage_started) {
            c->garbage_started = 1;
            NL_LOGI(sim->ctx, c->who, "fault garbage: random bytes instead of media");
        }
        uint8_t junk[GARBAGE_MAX];
        size_t n = f->len < sizeof junk ? f->len : sizeof junk;
        nl__sim_rand_fill(&c->rng, junk, n);
        if (nl__sim_outq_fits(&c->out, 1, n))
            nl__sim_outq_push_own(&c->out, junk, n);
        return 1;
    }
    if (nl__sim_fault_due(ft, NL_SIM_FAULT_BIG_LENGTH, ms) && !c->big_length_sent) {
        c->big_length_sent = 1;
        NL_LOGI(sim->ctx, c->who, "fault big-length: announcing a %u-byte body", BIG_LENGTH);
        nl_bc_header h;
        nl_bc_header_init(&h, NL_BC_MSG_VIDEO, NL_BC_CLASS_MODERN_REPLY, sub->corr, NL_BC_RESP_OK);
        h.body_len = BIG_LENGTH;
        uint8_t hdr[NL_BC_HDR_LEN_MAX];
        size_t hl = nl_bc_header_write(&h, hdr);
        nl__sim_outq_push_own(&c->out, hdr, hl);
    }
    return 0;
}

void nl__sim_conn_deliver(nl__sim_sub *sub, nl__sim_frame *f)
{
    nl__sim_conn *c = sub->conn;
    nl_sim *sim = c->sim;
    if (c->closing || c->stalled)
        return;
    if (apply_faults(c, sub, f)) {
        nl__sim_conn_flush(c);
        return;
    }
    int video = f->kind == NL_MEDIA_KIND_IFRAME || f->kind == NL_MEDIA_KIND_PFRAME;
    if (sub->waiting_key) {
        if (!f->keyframe)
            return;
        sub->waiting_key = 0;
    }
    uint64_t ms = (nl_loop_now(sim->loop) - c->stream_start_ns) / NL_NS_PER_MS;
    size_t len = f->len;
    int truncate = nl__sim_fault_due(&sim->faults, NL_SIM_FAULT_TRUNCATE, ms);
    if (truncate) {
        if (!c->truncate_started) {
            c->truncate_started = 1;
            NL_LOGI(sim->ctx, c->who, "fault truncate: media packets cut to half");
        }
        len = len > 1 ? len / 2 : len;
    }
    size_t first = truncate ? len : len % MEDIA_CHUNK;
    size_t chunks = truncate ? 1 : len / MEDIA_CHUNK + (first ? 1 : 0);
    /* Header (or Extension) overhead per message, generously. */
    size_t per_msg = c->level == NL_BC_ENC_FULLAES ? 256 : NL_BC_HDR_LEN_MAX;
    if (!nl__sim_outq_fits(&c->out, (unsigned)(2 * chunks), len + chunks * per_msg)) {
        sim->frames_dropped++;
        /* A lost video frame breaks the references of the ones after it. */
        if (video)
            sub->waiting_key = 1;
        return;
    }
    size_t off = 0;
    int rc = 0;
    if (first) {
        rc = push_media(c, sub, f, 0, first);
        off = first;
    }
    while (rc == 0 && off < len) {
        rc = push_media(c, sub, f, off, MEDIA_CHUNK);
        off += MEDIA_CHUNK;
    }
    if (rc < 0 && !c->closing) {
        char why[96];
        snprintf(why, sizeof why, "cannot queue media: %s", nl_strerror(rc));
        nl__sim_conn_fail(c, why);
        return;
    }
    nl__sim_conn_flush(c);
}

/* ------------------------------------------------------------------ creation */

int nl__sim_conn_create(nl_sim *sim, int fd, const char *peer)
{
    nl__sim_conn *c = nl__calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NL_ENOMEM;
    }
    c->sim = sim;
    c->fd = fd;
    c->id = ++sim->next_conn_id;
    snprintf(c->who, sizeof c->who, "sim conn %u", c->id);
    c->rng = nl__sim_rand(&sim->rng) | 1;
    nl_list_init(&c->node);
    for (int i = 0; i < NL_SIM_CONN_MAX_SUBS; i++) {
        nl_list_init(&c->subs[i].node);
        c->subs[i].conn = c;
    }
    nl_bc_framer_init(&c->framer, MAX_REQUEST_BODY);
    nl_dbuf_init(&c->scratch, SCRATCH_MAX);
    int rc = nl_bc_codec_init(&c->codec, 1);
    if (rc == 0)
        rc = nl__sim_outq_init(&c->out, OUTQ_SEGS, sim->cfg.max_queue_bytes);
    if (rc < 0) {
        close(fd);
        release(c);
        return rc;
    }
    uint64_t now = nl_loop_now(sim->loop);
    nl__sim_bucket_init(&c->bucket,
                        sim->faults.on[NL_SIM_FAULT_DRIP] ? sim->faults.arg[NL_SIM_FAULT_DRIP] : 0,
                        now);
    c->last_progress_ns = now;
    nl_timer_init(&c->login_timer, on_login_timer, c);
    nl_timer_init(&c->write_timer, on_write_timer, c);
    nl_timer_init(&c->drip_timer, on_drip_timer, c);
    nl_timer_init(&c->motion_timer, nl__sim_on_motion_timer, c);
    nl_timer_init(&c->keepalive_timer, on_keepalive_timer, c);
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (sim->cfg.socket_sndbuf) {
        int sb = (int)sim->cfg.socket_sndbuf;
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    }
    nl_io_init(&c->io, fd, on_io, c);
    rc = nl_io_start(sim->loop, &c->io, NL_IO_READ);
    if (rc == 0)
        rc = nl_timer_start_in(sim->loop, &c->login_timer,
                               (uint64_t)sim->cfg.login_timeout_ms * NL_NS_PER_MS);
    if (rc < 0) {
        nl_io_stop(sim->loop, &c->io);
        nl_timer_stop(sim->loop, &c->login_timer);
        close(fd);
        release(c);
        return rc;
    }
    nl_list_insert_tail(&sim->conns, &c->node);
    NL_LOGI(sim->ctx, c->who, "accepted from %s", peer);
    return 0;
}
