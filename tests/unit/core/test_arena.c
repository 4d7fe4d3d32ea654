/* Arena allocation: alignment, zero fill, the hard cap (block headers
 * included), large blocks, recovery after a refusal, and statistics. */
#include <stdint.h>
#include <string.h>

#include "neolink/alloc.h"
#include "neolink/arena.h"
#include "neolink/error.h"
#include "test.h"

/* Layout facts from lib/core/arena.c the numbers below depend on:
 * a 32-byte block header, 4096-byte blocks, records of 16 header bytes +
 * user bytes + 8 guard bytes rounded up to 16, large records > 1024. */
#define BLOCK 4096u
#define BHDR  32u
static size_t rec(size_t n)
{
    return 16 + ((n + 8 + 15) & ~(size_t)15);
}

static nl_arena_stats stats(const nl_arena *a)
{
    nl_arena_stats st;
    nl_arena_get_stats(a, &st);
    return st;
}

static void test_alignment_and_zero(void)
{
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "basic"));
    NL_ASSERT_STREQ(nl_arena_name(a), "basic");
    for (size_t n = 0; n < 200; n++) {
        unsigned char *p = nl_arena_alloc(a, n);
        NL_ASSERT(p != NULL);
        NL_ASSERT_UEQ((uintptr_t)p % 16, 0);
        for (size_t i = 0; i < n; i++)
            NL_ASSERT_EQ(p[i], 0);
        memset(p, 0xff, n); /* fill completely: must not damage a neighbour */
    }
    NL_ASSERT_OK(nl_arena_check(a));
    /* zero-size allocations are distinct non-NULL pointers */
    void *z1 = nl_arena_alloc(a, 0), *z2 = nl_arena_alloc(a, 0);
    NL_ASSERT(z1 && z2 && z1 != z2);
    NL_ASSERT_UEQ(stats(a).allocs, 202);
    NL_ASSERT_UEQ(stats(a).failed, 0);
    nl_arena_destroy(&a);
    NL_ASSERT(a == NULL);
    nl_arena_destroy(&a);
    nl_arena_destroy(NULL);
}

static void test_strings(void)
{
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, NULL));
    NL_ASSERT_STREQ(nl_arena_name(a), "");
    char *s = nl_arena_strdup(a, "camera yard");
    NL_ASSERT_STREQ(s, "camera yard");
    char *t = nl_arena_strndup(a, "abcdef", 3);
    NL_ASSERT_STREQ(t, "abc");
    char *u = nl_arena_strndup(a, "ab", 10); /* shorter than n */
    NL_ASSERT_STREQ(u, "ab");
    char *e = nl_arena_strdup(a, "");
    NL_ASSERT_STREQ(e, "");
    NL_ASSERT_UEQ(stats(a).allocs, 4);
    NL_ASSERT_OK(nl_arena_check(a));
    nl_arena_destroy(&a);
}

static void test_cap_exact(void)
{
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, BLOCK, "capped"));
    nl_arena_stats st = stats(a);
    NL_ASSERT_UEQ(st.cap, BLOCK);
    NL_ASSERT_UEQ(st.used, 0); /* no block until the first allocation */
    size_t per = rec(100), fit = (BLOCK - BHDR) / per;
    NL_ASSERT_UEQ(per, 128);
    NL_ASSERT_UEQ(fit, 31);
    for (size_t i = 0; i < fit; i++)
        NL_ASSERT(nl_arena_alloc(a, 100) != NULL);
    st = stats(a);
    NL_ASSERT_UEQ(st.used, BLOCK); /* the whole block, header included */
    NL_ASSERT_UEQ(st.high_water, BLOCK);
    /* the next record needs a new block: refused, counted, arena usable */
    NL_ASSERT(nl_arena_alloc(a, 100) == NULL);
    st = stats(a);
    NL_ASSERT_UEQ(st.failed, 1);
    NL_ASSERT_UEQ(st.allocs, fit);
    NL_ASSERT_UEQ(st.used, BLOCK);
    /* 96 bytes are left in the block: an 80-byte record still fits */
    size_t left = BLOCK - BHDR - fit * per;
    NL_ASSERT_UEQ(left, 96);
    NL_ASSERT_UEQ(rec(50), 80);
    char *p = nl_arena_alloc(a, 50);
    NL_ASSERT(p != NULL);
    memcpy(p, "still usable", 13);
    NL_ASSERT(nl_arena_alloc(a, 1) == NULL); /* 32-byte record, 16 left */
    st = stats(a);
    NL_ASSERT_UEQ(st.failed, 2);
    NL_ASSERT_UEQ(st.allocs, fit + 1);
    NL_ASSERT_OK(nl_arena_check(a));
    nl_arena_destroy(&a);
}

static void test_large_blocks(void)
{
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "large"));
    char *small1 = nl_arena_alloc(a, 10);
    NL_ASSERT(small1 != NULL);
    NL_ASSERT_UEQ(stats(a).used, BLOCK);
    /* a large record gets its own block of exactly header + record */
    char *big = nl_arena_alloc(a, 2000);
    NL_ASSERT(big != NULL);
    NL_ASSERT_UEQ(stats(a).used, BLOCK + BHDR + rec(2000));
    /* small allocations continue in the shared block, right after small1 */
    char *small2 = nl_arena_alloc(a, 10);
    NL_ASSERT(small2 == small1 + rec(10));
    NL_ASSERT_UEQ(stats(a).used, BLOCK + BHDR + rec(2000));
    /* bigger than a block works too */
    char *huge = nl_arena_alloc(a, 100000);
    NL_ASSERT(huge != NULL);
    memset(huge, 1, 100000);
    NL_ASSERT_UEQ(stats(a).used, BLOCK + 2 * BHDR + rec(2000) + rec(100000));
    NL_ASSERT_OK(nl_arena_check(a));
    nl_arena_destroy(&a);
}

static void test_large_over_cap(void)
{
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 10000, "small cap"));
    NL_ASSERT(nl_arena_alloc(a, 20000) == NULL);
    NL_ASSERT(nl_arena_alloc(a, SIZE_MAX) == NULL);
    NL_ASSERT(nl_arena_alloc(a, SIZE_MAX / 2 + 1) == NULL);
    nl_arena_stats st = stats(a);
    NL_ASSERT_UEQ(st.failed, 3);
    NL_ASSERT_UEQ(st.used, 0);
    NL_ASSERT_UEQ(st.high_water, 0);
    NL_ASSERT(nl_arena_alloc(a, 5000) != NULL);
    NL_ASSERT_UEQ(stats(a).used, BHDR + rec(5000));
    NL_ASSERT(nl_arena_strdup(a, "ok") != NULL);
    nl_arena_destroy(&a);
}

static void test_tail_block_near_cap(void)
{
    /* With 200 bytes of cap left, a block smaller than 4096 still serves a
     * record that fits, so the whole cap is usable. */
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, BLOCK + 200, "tail"));
    size_t fit = (BLOCK - BHDR) / rec(100);
    for (size_t i = 0; i < fit; i++)
        NL_ASSERT(nl_arena_alloc(a, 100) != NULL);
    NL_ASSERT(nl_arena_alloc(a, 100) != NULL); /* new 192-byte block */
    nl_arena_stats st = stats(a);
    NL_ASSERT_UEQ(st.used, BLOCK + 192);
    NL_ASSERT(st.used <= st.cap);
    NL_ASSERT(nl_arena_alloc(a, 100) == NULL);
    NL_ASSERT_UEQ(stats(a).failed, 1);
    nl_arena_destroy(&a);
}

static void test_high_water_with_children(void)
{
    nl_arena *p = NULL, *c = NULL;
    NL_ASSERT_OK(nl_arena_create(&p, NULL, 0, "parent"));
    NL_ASSERT_OK(nl_arena_create(&c, p, 0, "child-with-name"));
    nl_arena_stats st = stats(p);
    NL_ASSERT_UEQ(st.children, 1);
    size_t header = st.used; /* the child's header is paid by the parent */
    NL_ASSERT(header > 0);
    NL_ASSERT(nl_arena_alloc(c, 500) != NULL);
    NL_ASSERT_UEQ(stats(p).used, header); /* child memory is the child's */
    NL_ASSERT_UEQ(stats(c).used, BLOCK);
    nl_arena_destroy(&c);
    st = stats(p);
    NL_ASSERT_UEQ(st.used, 0);
    NL_ASSERT_UEQ(st.high_water, header);
    NL_ASSERT_UEQ(st.children, 0);
    nl_arena_destroy(&p);
}

static void test_no_leak(void)
{
    long base = nl_allocator_live();
    nl_arena *a = NULL, *c = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "leak"));
    NL_ASSERT_OK(nl_arena_create(&c, a, 0, "leak child"));
    for (int i = 0; i < 1000; i++) {
        NL_ASSERT(nl_arena_alloc(a, (size_t)(i * 7) % 3000) != NULL);
        NL_ASSERT(nl_arena_alloc(c, 64) != NULL);
    }
    NL_ASSERT(nl_allocator_live() > base);
    nl_arena_destroy(&a); /* takes the child with it */
    NL_ASSERT_EQ(nl_allocator_live(), base);
}

int main(void)
{
    NL_RUN(test_alignment_and_zero);
    NL_RUN(test_strings);
    NL_RUN(test_cap_exact);
    NL_RUN(test_large_blocks);
    NL_RUN(test_large_over_cap);
    NL_RUN(test_tail_block_near_cap);
    NL_RUN(test_high_water_with_children);
    NL_RUN(test_no_leak);
    NL_DONE();
}
