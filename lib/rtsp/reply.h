/* Building RTSP/1.0 responses into a caller's buffer.
 *
 *   char buf[2048];
 *   nl_rtsp_reply r;
 *   nl_rtsp_reply_begin(&r, buf, sizeof buf, 200, cseq);
 *   nl_rtsp_reply_session(&r, "4f2a9c81d0e3b657", 60);
 *   nl_rtsp_reply_transport(&r, &chosen);
 *   int n = nl_rtsp_reply_finish(&r, NULL, NULL, 0);   // n bytes in buf, or < 0
 *
 * Errors are sticky: the first failure (buffer too small, CR/LF in a value,
 * bad header name) is remembered, later calls do nothing, and
 * nl_rtsp_reply_finish() returns it with r.len == 0 and buf == "". So a reply
 * is either complete or absent - never a truncated head a client would
 * misparse. Values are checked for CR, LF and NUL because some of them echo
 * client input (URLs in Content-Base and RTP-Info), and a line break there
 * would let a client inject headers.
 *
 * To write into an nl_dbuf: reserve the room (nl_dbuf_reserve), build into
 * it, and commit the returned length only when it is >= 0.
 *
 * Pure: no allocation, no I/O; the caller's buffer is the only memory used. */
#ifndef NL_RTSP_REPLY_H
#define NL_RTSP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "neolink/common.h"
#include "rtsp/parse.h"
#include "rtsp/transport.h"

typedef struct nl_rtsp_reply {
    char *buf;
    size_t cap;
    size_t len; /* bytes written so far; 0 after a failed finish */
    int err;    /* first error, 0 while all is well */
} nl_rtsp_reply;

/* Standard reason phrase (RFC 2326 §7.1.1 plus RFC 7826's 463), or NULL for
 * a code we do not know. Static string. */
const char *nl_rtsp_reason(int status);

/* Starts "RTSP/1.0 <status> <reason>" and, when cseq >= 0, "CSeq: <cseq>"
 * (always echo it when the request had a valid one). Unknown codes in
 * 100..699 get a generic reason for their class; others are NL_EINVAL. */
void nl_rtsp_reply_begin(nl_rtsp_reply *r, char *buf, size_t cap, int status, int64_t cseq);

/* "Name: value". Name must be a token; value may not contain CR, LF, NUL. */
void nl_rtsp_reply_header(nl_rtsp_reply *r, const char *name, const char *value);
void nl_rtsp_reply_header_span(nl_rtsp_reply *r, const char *name, nl_rtsp_span value);
void nl_rtsp_reply_headerf(nl_rtsp_reply *r, const char *name, const char *fmt, ...)
    NL_PRINTF(3, 4);

/* "Server: <product>" */
void nl_rtsp_reply_server(nl_rtsp_reply *r, const char *product);
/* "Date: Sun, 06 Nov 1994 08:49:37 GMT" for the given UTC time (RFC 1123
 * format with English names whatever the locale). */
void nl_rtsp_reply_date(nl_rtsp_reply *r, time_t t);
/* "Session: <id>;timeout=<s>"; timeout_s <= 0 leaves the parameter out. */
void nl_rtsp_reply_session(nl_rtsp_reply *r, const char *id, int timeout_s);
/* "Public: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER,
 * SET_PARAMETER" - listing GET_PARAMETER makes ffmpeg use it for keepalives. */
void nl_rtsp_reply_public(nl_rtsp_reply *r);
/* "Allow: <same list>" (required in a 405 answer, RFC 2326 §10). */
void nl_rtsp_reply_allow(nl_rtsp_reply *r);
/* "Content-Base: <url>/" - a '/' is appended when url lacks one, because
 * relative a=control values resolve against it (RTSP.md §2.1). */
void nl_rtsp_reply_content_base(nl_rtsp_reply *r, nl_rtsp_span url);
/* "Transport: <nl_rtsp_transport_format(t)>" */
void nl_rtsp_reply_transport(nl_rtsp_reply *r, const nl_rtsp_transport *t);
/* "WWW-Authenticate: <challenge>" (see nl_rtsp_auth_challenge_*). */
void nl_rtsp_reply_www_authenticate(nl_rtsp_reply *r, const char *challenge);

/* One stream of an RTP-Info header (RFC 2326 §12.33). */
typedef struct nl_rtsp_rtp_info {
    const char *url;  /* the stream's URL, e.g. "rtsp://h:8554/cam/streamid=0" */
    uint16_t seq;     /* first sequence number this client will get */
    uint32_t rtptime; /* RTP timestamp matching the start of Range */
} nl_rtsp_rtp_info;

/* "RTP-Info: url=...;seq=...;rtptime=...,url=...". n == 0 writes nothing. */
void nl_rtsp_reply_rtp_info(nl_rtsp_reply *r, const nl_rtsp_rtp_info *streams, size_t n);

/* Ends the head and appends the body. With a body (len > 0) writes
 * Content-Type (when given) and Content-Length first. Returns the total
 * length, or the sticky error (NL_ETOOBIG, NL_EINVAL) with nothing usable in
 * the buffer. */
int nl_rtsp_reply_finish(nl_rtsp_reply *r, const char *content_type, const void *body,
                         size_t body_len);

#endif
