/* Test helper: a connection's input side, driven the way the server drives
 * the parser (append what "arrived", parse until NEED_MORE, drop `consumed`).
 * Every event is written to a text log, so the same input fed in different
 * chunkings can be compared byte for byte. */
#ifndef NL_TEST_RTSP_FEED_H
#define NL_TEST_RTSP_FEED_H

#include <stdio.h>
#include <string.h>

#include "rtsp/parse.h"
#include "test.h"

typedef struct feed_conn {
    nl_rtsp_parser parser;
    uint8_t buf[NL_RTSP_MAX_MESSAGE + 64];
    size_t len;
    char log[16384];
    size_t log_len;
    bool closed;     /* a fatal error happened: the server would close */
    size_t requests; /* complete requests seen */
} feed_conn;

static inline void feed_init(feed_conn *c)
{
    memset(c, 0, sizeof *c);
    nl_rtsp_parser_init(&c->parser);
}

static inline void feed_log_append(feed_conn *c, const char *s, size_t n)
{
    if (c->log_len + n >= sizeof c->log)
        NL_FAIL("feed log overflow");
    memcpy(c->log + c->log_len, s, n);
    c->log_len += n;
    c->log[c->log_len] = '\0';
}

/* Logs one parser result as a line. */
static inline void feed_log_msg(feed_conn *c, const nl_rtsp_msg *m)
{
    char line[2400];
    int n = 0;
    if (m->kind == NL_RTSP_MSG_REQUEST) {
        uint32_t cseq = 0;
        int rc = nl_rtsp_request_cseq(&m->req, &cseq);
        n = snprintf(line, sizeof line, "%.*s %.*s cseq=%s%u", (int)m->req.method_name.n,
                     m->req.method_name.p, (int)m->req.url.n, m->req.url.p, rc ? "?" : "",
                     (unsigned)cseq);
        if (m->req.body.n)
            n += snprintf(line + n, sizeof line - (size_t)n, " body=%zu", m->req.body.n);
        n += snprintf(line + n, sizeof line - (size_t)n, "\n");
    } else if (m->kind == NL_RTSP_MSG_INTERLEAVED) {
        n = snprintf(line, sizeof line, "$%u %zu\n", (unsigned)m->frame.channel, m->frame.len);
    } else if (m->kind == NL_RTSP_MSG_ERROR) {
        n = snprintf(line, sizeof line, "!%d%s\n", m->status, m->fatal ? " fatal" : "");
    }
    feed_log_append(c, line, (size_t)n);
}

/* Appends bytes that arrived and handles every complete message. */
static inline void feed_bytes(feed_conn *c, const uint8_t *data, size_t n)
{
    if (c->closed)
        return;
    if (n > sizeof c->buf - c->len)
        NL_FAIL("feed buffer overflow (%zu + %zu)", c->len, n);
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    for (;;) {
        nl_rtsp_msg m;
        nl_rtsp_msg_kind k = nl_rtsp_parse(&c->parser, c->buf, c->len, &m);
        if (m.consumed > c->len)
            NL_FAIL("consumed %zu > len %zu", m.consumed, c->len);
        if (k != NL_RTSP_MSG_NEED_MORE)
            feed_log_msg(c, &m);
        if (k == NL_RTSP_MSG_REQUEST)
            c->requests++;
        if (k == NL_RTSP_MSG_ERROR && m.fatal) {
            c->closed = true;
            return;
        }
        memmove(c->buf, c->buf + m.consumed, c->len - m.consumed);
        c->len -= m.consumed;
        if (k == NL_RTSP_MSG_NEED_MORE && (m.consumed == 0 || c->len == 0))
            return;
    }
}

/* Feeds data in chunks of `chunk` bytes and returns the log (static). */
static inline const char *feed_chunked(feed_conn *c, const uint8_t *data, size_t n, size_t chunk)
{
    feed_init(c);
    for (size_t off = 0; off < n; off += chunk)
        feed_bytes(c, data + off, n - off < chunk ? n - off : chunk);
    return c->log;
}

/* Feeds data split at `at` into two writes. */
static inline const char *feed_split(feed_conn *c, const uint8_t *data, size_t n, size_t at)
{
    feed_init(c);
    feed_bytes(c, data, at);
    feed_bytes(c, data + at, n - at);
    return c->log;
}

#endif
