/* Min-heap: pops in order, tracks each element's slot, removes from the
 * middle, breaks ties with the caller's sequence number. */
#include <stdbool.h>
#include <stdint.h>

#include "core/heap.h"
#include "neolink/error.h"
#include "test.h"

typedef struct item {
    uint64_t key;
    uint64_t seq;
    size_t slot;
} item;

static bool item_less(const void *a, const void *b)
{
    const item *x = a, *y = b;
    return x->key != y->key ? x->key < y->key : x->seq < y->seq;
}

static void item_index(void *e, size_t i)
{
    ((item *)e)->slot = i;
}

/* Deterministic pseudo-random numbers (xorshift), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void check_slots(const nl_heap *h)
{
    for (size_t i = 0; i < h->len; i++) {
        NL_ASSERT_UEQ(((item *)h->items[i])->slot, i);
        if (i > 0)
            NL_ASSERT(!item_less(h->items[i], h->items[(i - 1) / 2]));
    }
}

static void test_order(void)
{
    enum { N = 1000 };
    static item items[N];
    nl_heap h;
    nl_heap_init(&h, item_less, item_index);
    NL_ASSERT(nl_heap_peek(&h) == NULL);
    NL_ASSERT(nl_heap_pop(&h) == NULL);
    for (int i = 0; i < N; i++) {
        items[i].key = rnd() % 100; /* many equal keys */
        items[i].seq = (uint64_t)i;
        NL_ASSERT_OK(nl_heap_push(&h, &items[i]));
    }
    check_slots(&h);
    NL_ASSERT_UEQ(h.len, N);
    const item *prev = NULL;
    for (int i = 0; i < N; i++) {
        item *it = nl_heap_pop(&h);
        NL_ASSERT(it != NULL);
        NL_ASSERT_UEQ(it->slot, SIZE_MAX);
        if (prev) {
            NL_ASSERT(prev->key <= it->key);
            if (prev->key == it->key)
                NL_ASSERT(prev->seq < it->seq); /* FIFO among ties */
        }
        prev = it;
    }
    NL_ASSERT(nl_heap_pop(&h) == NULL);
    nl_heap_free(&h);
}

static void test_remove_anywhere(void)
{
    enum { N = 300 };
    static item items[N];
    static bool removed[N];
    nl_heap h;
    nl_heap_init(&h, item_less, item_index);
    for (int i = 0; i < N; i++) {
        items[i] = (item){.key = rnd() % 1000, .seq = (uint64_t)i};
        NL_ASSERT_OK(nl_heap_push(&h, &items[i]));
    }
    /* remove every third element through its tracked slot */
    for (int i = 0; i < N; i += 3) {
        nl_heap_remove(&h, items[i].slot);
        removed[i] = true;
        NL_ASSERT_UEQ(items[i].slot, SIZE_MAX);
        check_slots(&h);
    }
    nl_heap_remove(&h, h.len + 5); /* out of range: ignored */
    NL_ASSERT_UEQ(h.len, N - (N + 2) / 3);
    uint64_t last = 0;
    size_t popped = 0;
    item *it;
    while ((it = nl_heap_pop(&h)) != NULL) {
        NL_ASSERT(!removed[it - items]);
        NL_ASSERT(it->key >= last);
        last = it->key;
        popped++;
    }
    NL_ASSERT_UEQ(popped, N - (N + 2) / 3);
    nl_heap_free(&h);
}

static void test_no_index_fn(void)
{
    item a = {.key = 3}, b = {.key = 1}, c = {.key = 2};
    nl_heap h;
    nl_heap_init(&h, item_less, NULL);
    NL_ASSERT_OK(nl_heap_push(&h, &a));
    NL_ASSERT_OK(nl_heap_push(&h, &b));
    NL_ASSERT_OK(nl_heap_push(&h, &c));
    NL_ASSERT(nl_heap_peek(&h) == &b);
    NL_ASSERT(nl_heap_pop(&h) == &b);
    NL_ASSERT(nl_heap_pop(&h) == &c);
    NL_ASSERT(nl_heap_pop(&h) == &a);
    nl_heap_free(&h);
    nl_heap_free(&h); /* twice is harmless */
}

int main(void)
{
    NL_RUN(test_order);
    NL_RUN(test_remove_anywhere);
    NL_RUN(test_no_index_fn);
    NL_DONE();
}
