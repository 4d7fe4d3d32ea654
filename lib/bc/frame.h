/* BC message framing (sheet §1): the 20/24-byte header codec and an
 * incremental framer that turns an arbitrary chunked byte stream into
 * complete messages without copying them out of its buffer.
 *
 * Threads: everything here is plain data owned by one connection; use a framer
 * from one thread at a time. Nothing blocks. */
#ifndef NL_BC_FRAME_H
#define NL_BC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "bc/msg.h"
#include "core/dbuf.h"

/* Header flags (nl_bc_header.flags). */
#define NL_BC_HDR_UNKNOWN_CLASS 0x01u /* class not in the table: parsed as 20 bytes */
#define NL_BC_HDR_REVERSED      0x02u /* magic was a0 cd ed 0f */

/* One decoded header. `corr` is bytes 12..15 as one u32 LE: the opaque
 * correlation word a reply echoes. Bytes 16..17 are kept as one u16
 * (`response_code`): in 24-byte headers it is the HTTP-like status, in 20-byte
 * headers it reads 0xDCxx/0xDDxx (direction byte 17, level byte 16); use the
 * accessors below instead of poking bytes. */
typedef struct nl_bc_header {
    uint32_t magic;
    uint32_t msg_id;
    uint32_t body_len;       /* extension + payload bytes after the header */
    uint32_t corr;           /* bytes 12..15 */
    uint16_t response_code;  /* bytes 16..17 */
    uint16_t msg_class;      /* bytes 18..19 */
    uint32_t payload_offset; /* bytes 20..23 of 24-byte headers; 0 otherwise */
    uint32_t trailer;        /* raw bytes 20..23 (class 0xFFFF keeps its word here) */
    uint8_t hdr_len;         /* 20 or 24 */
    uint8_t flags;           /* NL_BC_HDR_* */
} nl_bc_header;

/* Views of the correlation word as the Rust client names its bytes (§1.3).
 * Byte 12 is also the XOR key offset. */
static inline uint8_t nl_bc_hdr_channel(const nl_bc_header *h)
{
    return (uint8_t)h->corr;
}
static inline uint8_t nl_bc_hdr_stream(const nl_bc_header *h)
{
    return (uint8_t)(h->corr >> 8);
}
static inline uint16_t nl_bc_hdr_num(const nl_bc_header *h)
{
    return (uint16_t)(h->corr >> 16);
}
static inline uint32_t nl_bc_corr_make(uint8_t ch, uint8_t stream, uint16_t num)
{
    return (uint32_t)ch | (uint32_t)stream << 8 | (uint32_t)num << 16;
}

/* Level and direction bytes of 20-byte login headers (bytes 16 and 17). */
static inline uint8_t nl_bc_hdr_enc_level(const nl_bc_header *h)
{
    return (uint8_t)h->response_code;
}
static inline uint8_t nl_bc_hdr_direction(const nl_bc_header *h)
{
    return (uint8_t)(h->response_code >> 8);
}
static inline void nl_bc_hdr_set_level(nl_bc_header *h, uint8_t level, uint8_t direction)
{
    h->response_code = (uint16_t)(level | direction << 8);
}

/* Header length implied by a class: 24 for 0x6414/0x0000/0x6482/0xFFFF, 20
 * otherwise. *unknown (may be NULL) is set to 1 when the class is not one of
 * the six known classes (the caller logs it). */
unsigned nl_bc_class_header_len(uint16_t msg_class, int *unknown);

/* Parses a header from the first n bytes of p.
 * Returns the header length (20 or 24) on success, NL_EAGAIN when n is too
 * short to decide, NL_EPROTO on a bad magic or a payload_offset beyond
 * body_len. Never reads past p[n-1]. */
int nl_bc_header_parse(const uint8_t *p, size_t n, nl_bc_header *h);

/* Writes h as wire bytes into out (20 or 24 bytes, from the class; magic 0
 * is written as NL_BC_MAGIC). payload_offset is written for 24-byte classes,
 * except class 0xFFFF which writes `trailer`. Returns the length written. */
size_t nl_bc_header_write(const nl_bc_header *h, uint8_t out[NL_BC_HDR_LEN_MAX]);

/* Fills a header for an outgoing message: magic, msg_id, class, corr and
 * response code; body_len/payload_offset are set by whoever adds the body. */
void nl_bc_header_init(nl_bc_header *h, uint32_t msg_id, uint16_t msg_class, uint32_t corr,
                       uint16_t response_code);

/* One complete message inside the framer's buffer. The spans point into the
 * buffer and are writable so the codec can decrypt in place; they stay valid
 * until the next framer call that adds input (nl_bc_framer_space/feed) or
 * nl_bc_framer_free. For 20-byte headers ext_len is 0 (no extension). */
typedef struct nl_bc_msg {
    nl_bc_header hdr;
    uint8_t *ext;
    size_t ext_len;
    uint8_t *payload;
    size_t payload_len;
} nl_bc_msg;

typedef struct nl_bc_framer {
    nl_dbuf buf;
    size_t pos;        /* start of the first unconsumed byte in buf */
    uint32_t max_body; /* cap on body_len */
    int err;           /* sticky error once the stream is unusable */
    uint64_t messages; /* complete messages returned so far */
    uint64_t bytes_in; /* bytes accepted so far */
} nl_bc_framer;

/* Initialises a framer. max_body caps body_len (0 = NL_BC_MAX_BODY_DEFAULT);
 * the buffer never holds more than one maximal message (max_body + 24 bytes).
 * Allocates nothing until input arrives. */
void nl_bc_framer_init(nl_bc_framer *f, uint32_t max_body);
void nl_bc_framer_free(nl_bc_framer *f);

/* Zero-copy input: returns a pointer where up to *room bytes may be written
 * (e.g. by read(2)), then call nl_bc_framer_commit with the count written.
 * want is the preferred size (0 = 64 KiB); *room may be smaller. Returns NULL
 * with *room = 0 on NL_ENOMEM or after a sticky error. Invalidates spans of
 * messages returned earlier. */
uint8_t *nl_bc_framer_space(nl_bc_framer *f, size_t want, size_t *room);
void nl_bc_framer_commit(nl_bc_framer *f, size_t n);

/* Copying input: accepts up to n bytes and returns how many it took (may be
 * less than n when the buffer is full: drain with nl_bc_framer_next, then feed
 * the rest), or a negative error (NL_ENOMEM, or the sticky error).
 * Invalidates spans of messages returned earlier. */
long nl_bc_framer_feed(nl_bc_framer *f, const void *data, size_t n);

/* Returns 1 and fills *m with the next complete message, 0 when more input is
 * needed, or a negative sticky error:
 *   NL_EPROTO  bad magic or an impossible payload_offset (the stream is out of
 *              sync; the session should drop the connection, or call
 *              nl_bc_framer_resync to try to recover),
 *   NL_ETOOBIG body_len above max_body.
 * A returned message is consumed: the next call moves past it. */
int nl_bc_framer_next(nl_bc_framer *f, nl_bc_msg *m);

/* Recovery after NL_EPROTO: drops buffered bytes up to the next position that
 * starts with a known magic and parses as a plausible header (known class,
 * body_len within the cap), clears the error and returns the number of bytes
 * dropped. A trailing partial magic is kept (the rest of it may still come).
 * Returns 0 without an error to recover from, and any other sticky error
 * (NL_ETOOBIG) unchanged: that stream cannot be recovered. */
long nl_bc_framer_resync(nl_bc_framer *f);

/* Bytes buffered but not yet returned as messages. */
static inline size_t nl_bc_framer_pending(const nl_bc_framer *f)
{
    return f->buf.len - f->pos;
}

#endif
