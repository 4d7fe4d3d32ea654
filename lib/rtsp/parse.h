/* RTSP/1.0 request parser (RFC 2326 §6, with RFC 7826's tolerance rules).
 *
 * Zero-copy and incremental: the connection keeps its bytes in one input
 * buffer and calls nl_rtsp_parse() after every read. The parser answers with
 * one of
 *   - NL_RTSP_MSG_REQUEST      a complete request; every field is a span into
 *                              the caller's buffer (valid until those bytes
 *                              are dropped or overwritten),
 *   - NL_RTSP_MSG_INTERLEAVED  a '$' frame from the client (RTCP receiver
 *                              reports arrive this way, mixed with requests),
 *   - NL_RTSP_MSG_NEED_MORE    the message is not complete yet,
 *   - NL_RTSP_MSG_ERROR        the status to answer (400/413/414/505), and
 *                              whether the connection can go on afterwards.
 * For every kind the caller then drops `consumed` bytes from the front of the
 * buffer (it may be 0) and calls again with what follows, which is how
 * pipelined requests are taken one at a time.
 *
 * A buffer of NL_RTSP_MAX_MESSAGE bytes is always enough: once it is full the
 * parser has either consumed something or answered.
 *
 * Incremental means each byte is examined about once even when the client
 * writes one byte per packet: the parser remembers how far it searched for
 * the end of the head. Its state is tied to the message at the front of the
 * buffer, so the caller must not reorder or edit bytes it has not consumed.
 *
 * Tolerated: CRLF or bare LF line endings, empty lines before a request,
 * case-insensitive header names, any whitespace around header values, folded
 * (continued) header lines, duplicate headers. All headers are kept in order;
 * nl_rtsp_header_get() returns the first of a name ("first wins").
 * Content-Length is the exception: duplicates must agree, or the request is
 * a 400 (a body length that depends on which header is read is the classic
 * request-smuggling hole).
 *
 * Everything is bounded by lib/rtsp/limits.h. Nothing here allocates, logs
 * or keeps global state; any thread may use its own parser. */
#ifndef NL_RTSP_PARSE_H
#define NL_RTSP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtsp/limits.h"

/* A view of bytes owned by someone else; not NUL-terminated. */
typedef struct nl_rtsp_span {
    const char *p;
    size_t n;
} nl_rtsp_span;

static inline nl_rtsp_span nl_rtsp_span_make(const char *p, size_t n)
{
    nl_rtsp_span s = {p, n};
    return s;
}

/* Exact and ASCII case-insensitive comparison against a C string. */
bool nl_rtsp_span_eq(nl_rtsp_span s, const char *str);
bool nl_rtsp_span_ieq(nl_rtsp_span s, const char *str);
/* Strips linear whitespace (SP, HT, CR, LF) from both ends. */
nl_rtsp_span nl_rtsp_span_trim(nl_rtsp_span s);
/* RFC 2616 token character (header names, methods, parameter names). */
bool nl_rtsp_is_token_char(unsigned char c);
/* Parses 1..10 decimal digits (nothing else) into *out (<= UINT32_MAX).
 * 0, or NL_EPROTO. */
int nl_rtsp_span_u32(nl_rtsp_span s, uint32_t *out);

typedef enum nl_rtsp_method {
    NL_RTSP_METHOD_UNKNOWN = 0, /* well-formed but not ours: answer 501 */
    NL_RTSP_OPTIONS,
    NL_RTSP_DESCRIBE,
    NL_RTSP_SETUP,
    NL_RTSP_PLAY,
    NL_RTSP_PAUSE,
    NL_RTSP_TEARDOWN,
    NL_RTSP_GET_PARAMETER,
    NL_RTSP_SET_PARAMETER,
    NL_RTSP_ANNOUNCE, /* recording methods: recognised so the server can */
    NL_RTSP_RECORD,   /* answer 405 with Allow instead of 501 */
    NL_RTSP_REDIRECT, /* server-to-client only: 405 when a client sends it */
} nl_rtsp_method;

/* Canonical name ("GET_PARAMETER"), or "UNKNOWN". Static string. */
const char *nl_rtsp_method_name(nl_rtsp_method m);
/* Methods are case-sensitive (RFC 2326 §6.1). */
nl_rtsp_method nl_rtsp_method_from(nl_rtsp_span token);

typedef struct nl_rtsp_header {
    nl_rtsp_span name;  /* as sent (any case), never empty */
    nl_rtsp_span value; /* trimmed; a folded value still contains its line breaks */
} nl_rtsp_header;

typedef struct nl_rtsp_request {
    nl_rtsp_method method;
    nl_rtsp_span method_name; /* as sent, also for UNKNOWN */
    nl_rtsp_span url;         /* as sent: "rtsp://h:p/path", "/path" or "*" */
    unsigned version_major;   /* 1 and 0 for accepted requests */
    unsigned version_minor;
    size_t nheaders;
    nl_rtsp_header headers[NL_RTSP_MAX_HEADERS];
    nl_rtsp_span body; /* Content-Length bytes after the head; n == 0 when none */
    size_t head_len;   /* request line + headers + blank line, in bytes */
} nl_rtsp_request;

typedef enum nl_rtsp_msg_kind {
    NL_RTSP_MSG_NEED_MORE = 0,
    NL_RTSP_MSG_REQUEST,
    NL_RTSP_MSG_INTERLEAVED,
    NL_RTSP_MSG_ERROR,
} nl_rtsp_msg_kind;

typedef struct nl_rtsp_interleaved {
    uint8_t channel;
    const uint8_t *data; /* into the caller's buffer */
    size_t len;          /* 0..NL_RTSP_MAX_INTERLEAVED */
} nl_rtsp_interleaved;

typedef struct nl_rtsp_msg {
    nl_rtsp_msg_kind kind;
    /* Bytes to drop from the front of the buffer, for every kind (leading
     * empty lines are consumed even while the request is incomplete). */
    size_t consumed;
    /* NL_RTSP_MSG_ERROR only: */
    int status;      /* 400, 413, 414 or 505 */
    int err;         /* NL_EPROTO (malformed) or NL_ETOOBIG (a cap) */
    bool fatal;      /* framing is lost: send the answer, then close */
    bool have_head;  /* `req` holds the request line and the headers read
                      * before the problem: try its CSeq for the answer */
    const char *why; /* static text for logs; never contains client bytes */
    /* NL_RTSP_MSG_REQUEST, and NL_RTSP_MSG_ERROR when have_head: */
    nl_rtsp_request req;
    /* NL_RTSP_MSG_INTERLEAVED: */
    nl_rtsp_interleaved frame;
} nl_rtsp_msg;

/* What the parser remembers between calls about the message at the front of
 * the buffer. Zero-initialised (or nl_rtsp_parser_init) is the start state;
 * the parser resets itself after every complete message or error. */
typedef struct nl_rtsp_parser {
    size_t scanned;    /* bytes of the head already searched for its end */
    size_t line_start; /* offset of the line being scanned */
    size_t lines;      /* complete lines seen so far */
    size_t need;       /* once the head is known: head + body bytes, else 0 */
} nl_rtsp_parser;

void nl_rtsp_parser_init(nl_rtsp_parser *p);

/* Parses the message at the front of buf[0..len). Fills *out and returns
 * out->kind. Never fails otherwise; never reads outside buf[0..len). */
nl_rtsp_msg_kind nl_rtsp_parse(nl_rtsp_parser *p, const uint8_t *buf, size_t len, nl_rtsp_msg *out);

/* First header named `name` (case-insensitive): true and *value, or false. */
bool nl_rtsp_header_get(const nl_rtsp_request *r, const char *name, nl_rtsp_span *value);
/* How many headers named `name` the request has. */
size_t nl_rtsp_header_count(const nl_rtsp_request *r, const char *name);

/* CSeq (first one): must exist and be 1..10 digits <= UINT32_MAX.
 * 0, or NL_EPROTO (answer 400 without CSeq). */
int nl_rtsp_request_cseq(const nl_rtsp_request *r, uint32_t *cseq);

/* Session header: "id[;timeout=N]" (RFC 2326 §12.37). */
typedef struct nl_rtsp_session_hdr {
    nl_rtsp_span id; /* 1..NL_RTSP_MAX_SESSION_ID visible chars, no ';' */
    int timeout;     /* seconds, or -1 when absent */
} nl_rtsp_session_hdr;

/* Parses a Session header value. 0, or NL_EPROTO (answer 400, or 454 when
 * the id is merely unknown - that is the caller's lookup). Unknown
 * parameters after the id are ignored. */
int nl_rtsp_parse_session(nl_rtsp_span value, nl_rtsp_session_hdr *out);
/* The request's Session header: 1 present and valid, 0 absent, NL_EPROTO. */
int nl_rtsp_request_session(const nl_rtsp_request *r, nl_rtsp_session_hdr *out);

/* Range header (RFC 2326 §12.29, §3.6). Live sources only need to know
 * "from now" vs. a start time, so only npt is decoded; clock= and smpte=
 * are reported as NL_RTSP_RANGE_OTHER. */
typedef enum nl_rtsp_range_unit {
    NL_RTSP_RANGE_NPT = 0,
    NL_RTSP_RANGE_OTHER,
} nl_rtsp_range_unit;

typedef struct nl_rtsp_range {
    nl_rtsp_range_unit unit;
    bool start_now;   /* npt=now- */
    bool has_start;   /* start_us valid (false for "npt=-30" and now-) */
    int64_t start_us; /* microseconds */
    bool has_end;
    int64_t end_us;
} nl_rtsp_range;

/* 0, or NL_EPROTO (answer 457 Invalid Range). Accepts npt=0.000-, npt=0-,
 * npt=now-, npt=10-20.5, npt=-5, npt=1:02:03.5-, with an optional
 * ";time=..." parameter, which is ignored. Seconds are capped at 10 digits. */
int nl_rtsp_parse_range(nl_rtsp_span value, nl_rtsp_range *out);

#endif
