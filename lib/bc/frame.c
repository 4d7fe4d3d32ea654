/* BC header codec and incremental framer. The framer keeps unconsumed input
 * in one bounded buffer and hands out spans into it, so a message is never
 * copied between the socket read and the codec (which decrypts in place).
 * Compaction (one memmove of the unconsumed tail) happens only when new input
 * is added, not per message, so a burst of small messages costs O(bytes). */
#include <string.h>

#include "bc/frame.h"
#include "neolink/error.h"

/* Preferred read size when the caller does not say. */
#define FRAMER_READ_CHUNK (64u * 1024u)

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

unsigned nl_bc_class_header_len(uint16_t msg_class, int *unknown)
{
    int unk = 0;
    unsigned len;
    switch (msg_class) {
    case NL_BC_CLASS_MODERN:
    case NL_BC_CLASS_MODERN_REPLY:
    case NL_BC_CLASS_FILE:
    case NL_BC_CLASS_FFFF:
        len = NL_BC_HDR_LEN_LONG;
        break;
    case NL_BC_CLASS_LEGACY:
    case NL_BC_CLASS_LEGACY_REPLY:
        len = NL_BC_HDR_LEN_SHORT;
        break;
    default:
        /* The Rust client reads anything else as 20 bytes; so do we. */
        len = NL_BC_HDR_LEN_SHORT;
        unk = 1;
        break;
    }
    if (unknown)
        *unknown = unk;
    return len;
}

/* Checks the (possibly partial) magic at p. Returns 1 forward, 2 reversed
 * (either spelling, see msg.h), 0 not a magic, -1 undecided (fewer than 4
 * bytes that match a prefix of one). */
static int magic_kind(const uint8_t *p, size_t n)
{
    static const uint8_t magics[3][4] = {
        {0xf0, 0xde, 0xbc, 0x0a},
        {0xa0, 0xcb, 0xed, 0x0f},
        {0xa0, 0xcd, 0xed, 0x0f},
    };
    size_t k = n < 4 ? n : 4;
    for (int i = 0; i < 3; i++) {
        if (memcmp(p, magics[i], k) == 0)
            return n < 4 ? -1 : i == 0 ? 1 : 2;
    }
    return 0;
}

int nl_bc_header_parse(const uint8_t *p, size_t n, nl_bc_header *h)
{
    int kind = magic_kind(p, n);
    if (kind == 0)
        return NL_EPROTO;
    if (kind < 0 || n < NL_BC_HDR_LEN_SHORT)
        return NL_EAGAIN;

    int unknown = 0;
    uint16_t cls = rd16(p + 18);
    unsigned len = nl_bc_class_header_len(cls, &unknown);
    if (n < len)
        return NL_EAGAIN;

    memset(h, 0, sizeof *h);
    h->magic = rd32(p);
    h->msg_id = rd32(p + 4);
    h->body_len = rd32(p + 8);
    h->corr = rd32(p + 12);
    h->response_code = rd16(p + 16);
    h->msg_class = cls;
    h->hdr_len = (uint8_t)len;
    h->flags =
        (uint8_t)((unknown ? NL_BC_HDR_UNKNOWN_CLASS : 0) | (kind == 2 ? NL_BC_HDR_REVERSED : 0));
    if (len == NL_BC_HDR_LEN_LONG) {
        h->trailer = rd32(p + 20);
        /* Class 0xFFFF carries a word that is not an offset (§1.1). */
        if (cls != NL_BC_CLASS_FFFF)
            h->payload_offset = h->trailer;
        if (h->payload_offset > h->body_len)
            return NL_EPROTO;
    }
    return (int)len;
}

size_t nl_bc_header_write(const nl_bc_header *h, uint8_t out[NL_BC_HDR_LEN_MAX])
{
    unsigned len = nl_bc_class_header_len(h->msg_class, NULL);
    wr32(out, h->magic ? h->magic : NL_BC_MAGIC);
    wr32(out + 4, h->msg_id);
    wr32(out + 8, h->body_len);
    wr32(out + 12, h->corr);
    wr16(out + 16, h->response_code);
    wr16(out + 18, h->msg_class);
    if (len == NL_BC_HDR_LEN_LONG)
        wr32(out + 20, h->msg_class == NL_BC_CLASS_FFFF ? h->trailer : h->payload_offset);
    return len;
}

void nl_bc_header_init(nl_bc_header *h, uint32_t msg_id, uint16_t msg_class, uint32_t corr,
                       uint16_t response_code)
{
    memset(h, 0, sizeof *h);
    h->magic = NL_BC_MAGIC;
    h->msg_id = msg_id;
    h->msg_class = msg_class;
    h->corr = corr;
    h->response_code = response_code;
    h->hdr_len = (uint8_t)nl_bc_class_header_len(msg_class, NULL);
}

/* ------------------------------------------------------------------ framer */

void nl_bc_framer_init(nl_bc_framer *f, uint32_t max_body)
{
    memset(f, 0, sizeof *f);
    f->max_body = max_body ? max_body : NL_BC_MAX_BODY_DEFAULT;
    /* One maximal message always fits, so a full buffer always holds a
     * complete message and draining it always makes room. */
    nl_dbuf_init(&f->buf, (size_t)f->max_body + NL_BC_HDR_LEN_MAX);
}

void nl_bc_framer_free(nl_bc_framer *f)
{
    nl_dbuf_free(&f->buf);
    f->pos = 0;
}

/* Drops what earlier nl_bc_framer_next calls consumed. */
static void compact(nl_bc_framer *f)
{
    if (f->pos) {
        nl_dbuf_consume(&f->buf, f->pos);
        f->pos = 0;
    }
}

uint8_t *nl_bc_framer_space(nl_bc_framer *f, size_t want, size_t *room)
{
    *room = 0;
    if (f->err)
        return NULL;
    compact(f);
    size_t r = nl_dbuf_room(&f->buf);
    if (want == 0)
        want = FRAMER_READ_CHUNK;
    if (want > r)
        want = r;
    if (want == 0)
        return NULL;
    uint8_t *p = nl_dbuf_reserve(&f->buf, want);
    if (p)
        *room = want;
    return p;
}

void nl_bc_framer_commit(nl_bc_framer *f, size_t n)
{
    nl_dbuf_commit(&f->buf, n);
    f->bytes_in += n;
}

long nl_bc_framer_feed(nl_bc_framer *f, const void *data, size_t n)
{
    if (f->err)
        return f->err;
    compact(f);
    size_t take = nl_dbuf_room(&f->buf);
    if (take > n)
        take = n;
    if (take == 0)
        return 0;
    int rc = nl_dbuf_append(&f->buf, data, take);
    if (rc < 0)
        return rc;
    f->bytes_in += take;
    return (long)take;
}

int nl_bc_framer_next(nl_bc_framer *f, nl_bc_msg *m)
{
    if (f->err)
        return f->err;
    size_t avail = f->buf.len - f->pos;
    if (avail == 0)
        return 0;
    uint8_t *p = f->buf.data + f->pos;
    nl_bc_header h;
    int rc = nl_bc_header_parse(p, avail, &h);
    if (rc == NL_EAGAIN)
        return 0;
    if (rc < 0) {
        f->err = rc;
        return rc;
    }
    if (h.body_len > f->max_body) {
        f->err = NL_ETOOBIG;
        return NL_ETOOBIG;
    }
    size_t total = (size_t)h.hdr_len + h.body_len;
    if (avail < total)
        return 0;

    m->hdr = h;
    uint8_t *body = p + h.hdr_len;
    m->ext = h.payload_offset ? body : NULL;
    m->ext_len = h.payload_offset;
    m->payload = body + h.payload_offset;
    m->payload_len = h.body_len - h.payload_offset;
    f->pos += total;
    f->messages++;
    return 1;
}

/* A header at p (n bytes available) that a real peer could have sent. With
 * too few bytes to judge, the magic alone makes it a candidate. */
static int plausible(const nl_bc_framer *f, const uint8_t *p, size_t n)
{
    nl_bc_header h;
    int rc = nl_bc_header_parse(p, n, &h);
    if (rc == NL_EAGAIN)
        return 1;
    if (rc < 0)
        return 0;
    return !(h.flags & NL_BC_HDR_UNKNOWN_CLASS) && h.body_len <= f->max_body;
}

long nl_bc_framer_resync(nl_bc_framer *f)
{
    if (f->err != NL_EPROTO)
        return f->err ? f->err : 0;
    size_t avail = f->buf.len - f->pos;
    const uint8_t *p = f->buf.data + f->pos;
    /* Offset 0 is the header that failed; start looking after it. */
    size_t i = avail ? 1 : 0;
    for (; i < avail; i++) {
        if (magic_kind(p + i, avail - i) != 0 && plausible(f, p + i, avail - i))
            break;
    }
    f->pos += i;
    f->err = 0;
    return (long)i;
}
