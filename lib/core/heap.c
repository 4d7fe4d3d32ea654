/* Array-backed binary min-heap. Each element learns its slot through
 * set_index, so the owner (a timer) can be removed from the middle in
 * O(log n) without a search. */
#include <stdint.h>

#include "core/alloc.h"
#include "core/heap.h"
#include "neolink/error.h"

#define HEAP_MIN_CAP 16

void nl_heap_init(nl_heap *h, nl_heap_less_fn less, nl_heap_index_fn set_index)
{
    h->items = NULL;
    h->len = 0;
    h->cap = 0;
    h->less = less;
    h->set_index = set_index;
}

void nl_heap_free(nl_heap *h)
{
    nl__free(h->items);
    h->items = NULL;
    h->len = 0;
    h->cap = 0;
}

static void place(nl_heap *h, size_t i, void *e)
{
    h->items[i] = e;
    if (h->set_index)
        h->set_index(e, i);
}

static void sift_up(nl_heap *h, size_t i)
{
    void *e = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!h->less(e, h->items[parent]))
            break;
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(nl_heap *h, size_t i)
{
    void *e = h->items[i];
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= h->len)
            break;
        size_t c = l;
        if (l + 1 < h->len && h->less(h->items[l + 1], h->items[l]))
            c = l + 1;
        if (!h->less(h->items[c], e))
            break;
        place(h, i, h->items[c]);
        i = c;
    }
    place(h, i, e);
}

int nl_heap_push(nl_heap *h, void *elem)
{
    if (h->len == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : HEAP_MIN_CAP;
        if (ncap > SIZE_MAX / sizeof(void *))
            return NL_ENOMEM;
        void **p = nl__realloc(h->items, ncap * sizeof(void *));
        if (!p)
            return NL_ENOMEM;
        h->items = p;
        h->cap = ncap;
    }
    h->items[h->len++] = elem;
    sift_up(h, h->len - 1);
    return 0;
}

void *nl_heap_peek(const nl_heap *h)
{
    return h->len ? h->items[0] : NULL;
}

void nl_heap_remove(nl_heap *h, size_t index)
{
    if (index >= h->len)
        return;
    void *gone = h->items[index];
    size_t last = --h->len;
    if (index != last) {
        h->items[index] = h->items[last];
        /* The moved element may belong above or below its new slot. */
        if (index > 0 && h->less(h->items[index], h->items[(index - 1) / 2]))
            sift_up(h, index);
        else
            sift_down(h, index);
    }
    if (h->set_index)
        h->set_index(gone, SIZE_MAX);
}

void *nl_heap_pop(nl_heap *h)
{
    void *top = nl_heap_peek(h);
    if (top)
        nl_heap_remove(h, 0);
    return top;
}
