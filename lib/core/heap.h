/* Binary min-heap of pointers with a caller-supplied order and index slot,
 * so an element can be removed in O(log n) from anywhere (timer cancel).
 * Equal keys are ordered by the caller's comparison (the loop breaks ties with
 * an insertion sequence number, which makes equal deadlines FIFO). */
#ifndef NL_CORE_HEAP_H
#define NL_CORE_HEAP_H

#include <stdbool.h>
#include <stddef.h>

typedef bool (*nl_heap_less_fn)(const void *a, const void *b);
typedef void (*nl_heap_index_fn)(void *elem, size_t index); /* told each element's slot */

typedef struct nl_heap {
    void **items;
    size_t len, cap;
    nl_heap_less_fn less;
    nl_heap_index_fn set_index;
} nl_heap;

void nl_heap_init(nl_heap *h, nl_heap_less_fn less, nl_heap_index_fn set_index);
void nl_heap_free(nl_heap *h);
int nl_heap_push(nl_heap *h, void *elem);           /* 0 or NL_ENOMEM */
void *nl_heap_peek(const nl_heap *h);               /* NULL when empty */
void *nl_heap_pop(nl_heap *h);
void nl_heap_remove(nl_heap *h, size_t index);      /* index as told by set_index */

#endif
