/* Intrusive doubly-linked circular list (the node lives inside the object).
 * Live-object lists are how the library derives its gauges: a count is the
 * length of a list, never a hand-maintained counter. */
#ifndef NL_CORE_LIST_H
#define NL_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define nl_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

typedef struct nl_list {
    struct nl_list *prev, *next;
} nl_list;

static inline void nl_list_init(nl_list *h) { h->prev = h->next = h; }
static inline bool nl_list_empty(const nl_list *h) { return h->next == h; }
/* A node that was initialised or removed is "unlinked" (points to itself). */
static inline bool nl_list_linked(const nl_list *n) { return n->next != n && n->next != NULL; }

static inline void nl_list_insert_tail(nl_list *h, nl_list *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

static inline void nl_list_insert_head(nl_list *h, nl_list *n)
{
    n->next = h->next;
    n->prev = h;
    h->next->prev = n;
    h->next = n;
}

static inline void nl_list_remove(nl_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

static inline size_t nl_list_count(const nl_list *h)
{
    size_t c = 0;
    for (const nl_list *i = h->next; i != h; i = i->next)
        c++;
    return c;
}

#define nl_list_foreach(it, head) for (nl_list *it = (head)->next; it != (head); it = it->next)
/* Safe against removal of `it` inside the body. */
#define nl_list_foreach_safe(it, tmp, head)                                       \
    for (nl_list *it = (head)->next, *tmp = it->next; it != (head); it = tmp, tmp = it->next)

#endif
