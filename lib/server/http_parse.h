/* Bounded, incremental HTTP/1.x request-head parser for the small
 * observability endpoint (/metrics, /healthz).
 *
 * The peer is untrusted: every byte is examined once by a state machine, and
 * every decision is made at the byte that causes it. The answer is therefore
 * a function of the byte sequence only, never of how TCP split it (the fuzz
 * target checks exactly that). Limits, checked as the bytes arrive:
 *   - request line longer than NL_HTTP_MAX_LINE bytes      -> 414
 *   - head (request line + headers + blank line) not complete
 *     within NL_HTTP_MAX_HEAD bytes, or more than
 *     NL_HTTP_MAX_HEADERS header fields                    -> 431
 *   - HTTP version other than 1.x                          -> 505
 *   - anything malformed (control bytes, a space before a
 *     header colon, folded lines, a bad target, HTTP/1.1
 *     without exactly one Host)                            -> 400
 *
 * Only the head is parsed. The endpoint serves GET and HEAD and closes the
 * connection after each response, so a request body is never read: no
 * Content-Length/Transfer-Encoding ambiguity can reach anything.
 *
 * Zero-copy: the caller keeps every byte fed so far in one buffer (it may
 * move between calls, e.g. when it grows) and calls nl_http_parse() with the
 * whole buffer after each read; the parser resumes where it stopped. The
 * parser keeps offsets, and on completion fills an nl_http_request whose
 * pointers point into the buffer given to that last call. A buffer of
 * NL_HTTP_MAX_HEAD bytes is always enough: once it is full the parser has
 * answered.
 *
 * Tolerated: CRLF or bare LF line ends, optional whitespace around header
 * values, absolute-form targets ("http://host/path"). Nothing here
 * allocates, logs or keeps global state. */
#ifndef NL_SERVER_HTTP_PARSE_H
#define NL_SERVER_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define NL_HTTP_MAX_LINE    2048 /* request line, without its line end */
#define NL_HTTP_MAX_HEAD    8192 /* whole head including the blank line */
#define NL_HTTP_MAX_HEADERS 32   /* header fields */
#define NL_HTTP_MAX_METHOD  16   /* method token length */

typedef enum nl_http_method {
    NL_HTTP_OTHER = 0, /* a well-formed token that is not GET or HEAD: 405 */
    NL_HTTP_GET,
    NL_HTTP_HEAD,
} nl_http_method;

typedef struct nl_http_header {
    const char *name; /* not NUL-terminated */
    size_t name_len;
    const char *value; /* trimmed of surrounding whitespace; may be empty */
    size_t value_len;
} nl_http_header;

/* A complete request head. Pointers are into the caller's buffer. */
typedef struct nl_http_request {
    nl_http_method method;
    const char *method_str;
    size_t method_len;
    const char *path; /* starts with '/' (or is "*"); query and scheme/authority removed */
    size_t path_len;
    const char *query; /* after '?', without it; NULL when absent */
    size_t query_len;
    int version_minor; /* HTTP/1.<minor> */
    size_t nheaders;
    nl_http_header headers[NL_HTTP_MAX_HEADERS];
    size_t head_len; /* bytes of the head, blank line included */
} nl_http_request;

/* Parser state: byte offsets into the caller's buffer (opaque to callers). */
typedef struct nl_http_hdr_off {
    uint16_t name, name_len, value, value_len;
} nl_http_hdr_off;

typedef struct nl_http_parser {
    size_t pos; /* bytes examined so far */
    int state;  /* where the state machine is (http_parse.c) */
    int status; /* after an error: the HTTP status to answer */
    int vi;     /* characters of "HTTP/x.y" matched so far */
    int version_major, version_minor;
    nl_http_method method;
    uint16_t method_len;
    uint16_t target, target_len;
    uint16_t value_end; /* one past the current value's last non-blank byte */
    size_t nheaders;
    nl_http_hdr_off hdr[NL_HTTP_MAX_HEADERS];
} nl_http_parser;

void nl_http_parser_init(nl_http_parser *p);

/* Examines buf[p->pos .. len). buf holds every byte of the request fed so
 * far (len never shrinks between calls).
 * Returns the head length (> 0) once the head is complete and valid, and
 * fills *req; NL_EAGAIN when more bytes are needed; NL_EPROTO when the head
 * is invalid, with the status to answer (400, 414, 431, 505) in p->status.
 * Once it has returned a length or NL_EPROTO, further calls return the same. */
int nl_http_parse(nl_http_parser *p, const uint8_t *buf, size_t len, nl_http_request *req);

/* First header named `name` (ASCII case-insensitive), or NULL. */
const nl_http_header *nl_http_request_header(const nl_http_request *req, const char *name);

/* Reason phrase of a status code ("Not Found"); "Unknown" for codes not used. */
const char *nl_http_reason(int status);

#endif
