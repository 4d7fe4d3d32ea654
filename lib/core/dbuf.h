/* Bounded dynamic byte buffer: grows on demand up to a hard `max`, never
 * beyond. Used for connection input/output buffers and message assembly, so
 * a peer can never make the library hold more than the cap. */
#ifndef NL_CORE_DBUF_H
#define NL_CORE_DBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct nl_dbuf {
    uint8_t *data;
    size_t len;  /* bytes held */
    size_t cap;  /* bytes allocated */
    size_t max;  /* hard limit on len */
} nl_dbuf;

void nl_dbuf_init(nl_dbuf *b, size_t max);
void nl_dbuf_free(nl_dbuf *b);
/* Appends n bytes; NL_ETOOBIG if len would exceed max, NL_ENOMEM. */
int nl_dbuf_append(nl_dbuf *b, const void *p, size_t n);
/* Makes room for n more bytes and returns a pointer to it (len unchanged);
 * commit with nl_dbuf_commit. NULL on NL_ETOOBIG/NL_ENOMEM. */
uint8_t *nl_dbuf_reserve(nl_dbuf *b, size_t n);
void nl_dbuf_commit(nl_dbuf *b, size_t n);
/* Drops the first n bytes (memmove; O(len)). */
void nl_dbuf_consume(nl_dbuf *b, size_t n);
void nl_dbuf_reset(nl_dbuf *b);
/* Room left before max. */
static inline size_t nl_dbuf_room(const nl_dbuf *b) { return b->max - b->len; }

#endif
