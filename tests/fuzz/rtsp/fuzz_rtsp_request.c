/* Fuzz target: the RTSP request parser as a connection drives it, plus every
 * helper a server runs on a parsed request (CSeq, Session, Range, URL, mount
 * match, Transport, Authorization, reply echo).
 *
 * Input: byte 0 picks the chunk size of the second feeding (1..32 bytes, or
 * everything at once); the rest is what the client sent. The input is fed
 * twice, whole and chunked, and both event logs must be identical - the
 * parser's answer may not depend on how TCP split the bytes. Other checked
 * invariants: spans stay inside the buffer, `consumed` never exceeds it, and
 * a buffer of NL_RTSP_MAX_MESSAGE bytes always suffices to make progress. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtsp/auth.h"
#include "rtsp/parse.h"
#include "rtsp/reply.h"
#include "rtsp/transport.h"
#include "rtsp/url.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

typedef struct sim {
    nl_rtsp_parser p;
    uint8_t buf[NL_RTSP_MAX_MESSAGE];
    size_t len;
    uint64_t log; /* rolling hash of events */
    size_t events;
    int closed;
} sim;

static sim sims[2];
static nl_rtsp_msg msg;
static nl_rtsp_authz authz;
static nl_rtsp_auth server;

static void mix(sim *s, uint64_t v)
{
    s->log = (s->log ^ v) * 0x100000001b3ull;
    s->events++;
}

static void mix_span(sim *s, nl_rtsp_span sp)
{
    for (size_t i = 0; i < sp.n; i++)
        mix(s, (uint8_t)sp.p[i]);
    mix(s, sp.n);
}

static void in_buf(const sim *s, nl_rtsp_span sp)
{
    if (sp.n == 0)
        return;
    CHECK((const uint8_t *)sp.p >= s->buf && (const uint8_t *)sp.p + sp.n <= s->buf + s->len);
}

static void exercise_request(sim *s, const nl_rtsp_request *r)
{
    in_buf(s, r->method_name);
    in_buf(s, r->url);
    in_buf(s, r->body);
    CHECK(r->nheaders <= NL_RTSP_MAX_HEADERS);
    for (size_t i = 0; i < r->nheaders; i++) {
        CHECK(r->headers[i].name.n > 0);
        in_buf(s, r->headers[i].name);
        in_buf(s, r->headers[i].value);
    }
    mix(s, r->method);
    mix_span(s, r->url);
    mix(s, r->nheaders);
    mix(s, r->body.n);

    uint32_t cseq = 0;
    mix(s, (uint64_t)nl_rtsp_request_cseq(r, &cseq) + cseq);
    nl_rtsp_session_hdr sess;
    if (nl_rtsp_request_session(r, &sess) == 1) {
        CHECK(sess.id.n >= 1 && sess.id.n <= NL_RTSP_MAX_SESSION_ID);
        mix_span(s, sess.id);
    }
    nl_rtsp_span v;
    if (nl_rtsp_header_get(r, "Range", &v)) {
        nl_rtsp_range range;
        if (nl_rtsp_parse_range(v, &range) == 0 && range.has_start && range.has_end)
            CHECK(range.end_us >= range.start_us);
    }

    static nl_rtsp_url u;
    if (nl_rtsp_url_parse(r->url, &u) == 0) {
        CHECK(u.path_len <= NL_RTSP_MAX_PATH && u.mount_len <= u.path_len);
        CHECK(strlen(u.path) == u.path_len);
        int track;
        mix(s, nl_rtsp_url_match(&u, "cam", &track));
        mix(s, (uint64_t)track);
    }

    if (nl_rtsp_header_get(r, "Transport", &v)) {
        nl_rtsp_transport_policy pol = {1, 1, "127.0.0.1"};
        nl_rtsp_transport t;
        int idx = nl_rtsp_transport_choose(v, &pol, &t);
        mix(s, (uint64_t)idx);
        if (idx >= 0) {
            char out[192];
            t.has_server_port = 1;
            t.server_port[0] = 8000;
            t.server_port[1] = 8001;
            t.has_interleaved = 1;
            CHECK(nl_rtsp_transport_format(&t, out, sizeof out) > 0);
        }
    }

    if (nl_rtsp_header_get(r, "Authorization", &v) && nl_rtsp_authz_parse(v, &authz) == 0) {
        mix(s,
            nl_rtsp_auth_verify(&server, &authz, r->method_name, r->url, "admin", "secret", 1000));
        nl_rtsp_authz_wipe(&authz);
    }
    mix(s, nl_rtsp_auth_check_request(&server, r, "admin", "secret", 1000));

    /* A reply echoing client text must be complete or refused. */
    char out[1024];
    nl_rtsp_reply rep;
    nl_rtsp_reply_begin(&rep, out, sizeof out, 200, cseq);
    nl_rtsp_reply_content_base(&rep, r->url);
    int n = nl_rtsp_reply_finish(&rep, NULL, NULL, 0);
    CHECK(n < 0 ? rep.len == 0 : (size_t)n == strlen(out));
}

static void feed(sim *s, const uint8_t *data, size_t n)
{
    if (s->closed)
        return;
    CHECK(n <= sizeof s->buf - s->len);
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    for (;;) {
        nl_rtsp_msg_kind k = nl_rtsp_parse(&s->p, s->buf, s->len, &msg);
        CHECK(msg.consumed <= s->len);
        switch (k) {
        case NL_RTSP_MSG_REQUEST:
            CHECK(msg.consumed >= msg.req.head_len + msg.req.body.n);
            exercise_request(s, &msg.req);
            break;
        case NL_RTSP_MSG_INTERLEAVED:
            CHECK(msg.frame.len <= NL_RTSP_MAX_INTERLEAVED);
            CHECK(msg.frame.data >= s->buf && msg.frame.data + msg.frame.len <= s->buf + s->len);
            mix(s, 1000 + msg.frame.channel);
            mix(s, msg.frame.len);
            break;
        case NL_RTSP_MSG_ERROR:
            CHECK(msg.status == 400 || msg.status == 413 || msg.status == 414 || msg.status == 505);
            CHECK(msg.why != NULL);
            mix(s, 2000 + (uint64_t)msg.status);
            if (msg.have_head)
                exercise_request(s, &msg.req);
            if (msg.fatal) {
                s->closed = 1;
                return;
            }
            CHECK(msg.consumed > 0);
            break;
        case NL_RTSP_MSG_NEED_MORE:
            /* A full buffer must always be enough to decide. */
            CHECK(msg.consumed > 0 || s->len < sizeof s->buf);
            break;
        }
        memmove(s->buf, s->buf + msg.consumed, s->len - msg.consumed);
        s->len -= msg.consumed;
        if (k == NL_RTSP_MSG_NEED_MORE && (msg.consumed == 0 || s->len == 0))
            return;
    }
}

/* Feeds data in reads of at most `chunk` bytes, never more than the buffer's
 * free room (a real connection cannot read past its buffer either). */
static void run(sim *s, const uint8_t *data, size_t n, size_t chunk)
{
    memset(s, 0, sizeof *s);
    nl_rtsp_parser_init(&s->p);
    size_t off = 0;
    while (off < n && !s->closed) {
        size_t want = n - off < chunk ? n - off : chunk;
        size_t room = sizeof s->buf - s->len;
        size_t part = want < room ? want : room;
        CHECK(part > 0);
        feed(s, data + off, part);
        off += part;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        static const uint8_t secret[NL_RTSP_AUTH_SECRET_LEN] = {7};
        if (nl_rtsp_auth_init(&server, "neolink", NL_RTSP_AUTH_BASIC | NL_RTSP_AUTH_DIGEST, 300))
            abort();
        nl_rtsp_auth_set_secret(&server, secret, sizeof secret);
        init = 1;
    }
    if (size < 1 || size > 65536)
        return 0;
    size_t chunk = data[0] % 33;
    data++;
    size--;
    run(&sims[0], data, size, size ? size : 1);
    run(&sims[1], data, size, chunk ? chunk : (size ? size : 1));
    CHECK(sims[0].log == sims[1].log);
    CHECK(sims[0].events == sims[1].events);
    CHECK(sims[0].closed == sims[1].closed);
    return 0;
}
