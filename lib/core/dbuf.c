/* Bounded dynamic buffer. Growth doubles (amortised O(1) appends) but is
 * clamped to `max`, so the cap is the true ceiling of what a peer can make us
 * hold, not just of what we report. */
#include <string.h>

#include "core/alloc.h"
#include "core/dbuf.h"
#include "neolink/error.h"

/* Smallest allocation: avoids a string of tiny reallocs for small messages. */
#define DBUF_MIN_CAP 64

void nl_dbuf_init(nl_dbuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void nl_dbuf_free(nl_dbuf *b)
{
    nl__free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Ensures cap >= len + n; the caller checked len + n <= max. */
static int grow(nl_dbuf *b, size_t n)
{
    size_t need = b->len + n;
    if (need <= b->cap && b->data)
        return 0;
    size_t ncap = b->cap > b->max / 2 ? b->max : b->cap * 2;
    if (ncap < DBUF_MIN_CAP)
        ncap = DBUF_MIN_CAP;
    if (ncap < need)
        ncap = need;
    if (ncap > b->max)
        ncap = b->max;
    uint8_t *p = nl__realloc(b->data, ncap);
    if (!p)
        return NL_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return 0;
}

int nl_dbuf_append(nl_dbuf *b, const void *p, size_t n)
{
    if (n > b->max - b->len)
        return NL_ETOOBIG;
    if (n == 0)
        return 0;
    int rc = grow(b, n);
    if (rc < 0)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

uint8_t *nl_dbuf_reserve(nl_dbuf *b, size_t n)
{
    if (n > b->max - b->len)
        return NULL;
    if (grow(b, n) < 0)
        return NULL;
    return b->data + b->len;
}

void nl_dbuf_commit(nl_dbuf *b, size_t n)
{
    /* Never trust n beyond what reserve handed out. */
    if (n > b->cap - b->len)
        n = b->cap - b->len;
    b->len += n;
}

void nl_dbuf_consume(nl_dbuf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void nl_dbuf_reset(nl_dbuf *b)
{
    b->len = 0;
}
