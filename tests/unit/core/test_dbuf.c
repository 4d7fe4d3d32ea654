/* Bounded buffer: never holds or allocates more than max, refuses cleanly
 * with NL_ETOOBIG and keeps its contents. */
#include <string.h>

#include "core/dbuf.h"
#include "neolink/error.h"
#include "test.h"

static void test_append_to_cap(void)
{
    nl_dbuf b;
    nl_dbuf_init(&b, 100);
    NL_ASSERT_UEQ(nl_dbuf_room(&b), 100);
    NL_ASSERT_OK(nl_dbuf_append(&b, "hello", 5));
    NL_ASSERT_UEQ(b.len, 5);
    NL_ASSERT_MEMEQ(b.data, "hello", 5);
    char big[95];
    memset(big, 'x', sizeof big);
    NL_ASSERT_OK(nl_dbuf_append(&b, big, sizeof big));
    NL_ASSERT_UEQ(b.len, 100);
    NL_ASSERT_UEQ(nl_dbuf_room(&b), 0);
    NL_ASSERT(b.cap <= 100);
    NL_ASSERT_EQ(nl_dbuf_append(&b, "!", 1), NL_ETOOBIG);
    NL_ASSERT_UEQ(b.len, 100);
    NL_ASSERT_MEMEQ(b.data, "hellox", 6);
    NL_ASSERT_OK(nl_dbuf_append(&b, NULL, 0)); /* nothing to add always fits */
    nl_dbuf_free(&b);
    NL_ASSERT(b.data == NULL);
    NL_ASSERT_UEQ(b.len, 0);
}

static void test_refuse_too_big_first(void)
{
    nl_dbuf b;
    nl_dbuf_init(&b, 16);
    char big[17] = {0};
    NL_ASSERT_EQ(nl_dbuf_append(&b, big, sizeof big), NL_ETOOBIG);
    NL_ASSERT(b.data == NULL); /* refused before allocating */
    NL_ASSERT(nl_dbuf_reserve(&b, 17) == NULL);
    NL_ASSERT(nl_dbuf_reserve(&b, (size_t)-1) == NULL);
    NL_ASSERT_UEQ(b.len, 0);
    nl_dbuf_free(&b);
}

static void test_growth_clamped(void)
{
    nl_dbuf b;
    nl_dbuf_init(&b, 1000);
    for (int i = 0; i < 1000; i++)
        NL_ASSERT_OK(nl_dbuf_append(&b, "a", 1));
    NL_ASSERT_UEQ(b.len, 1000);
    NL_ASSERT_UEQ(b.cap, 1000); /* doubling stopped at max */
    NL_ASSERT_EQ(nl_dbuf_append(&b, "a", 1), NL_ETOOBIG);
    nl_dbuf_free(&b);
}

static void test_reserve_commit_consume(void)
{
    nl_dbuf b;
    nl_dbuf_init(&b, 64);
    uint8_t *w = nl_dbuf_reserve(&b, 10);
    NL_ASSERT(w != NULL);
    NL_ASSERT_UEQ(b.len, 0);
    memcpy(w, "0123456789", 10);
    nl_dbuf_commit(&b, 6); /* e.g. read() returned 6 */
    NL_ASSERT_UEQ(b.len, 6);
    NL_ASSERT_MEMEQ(b.data, "012345", 6);
    nl_dbuf_consume(&b, 2);
    NL_ASSERT_UEQ(b.len, 4);
    NL_ASSERT_MEMEQ(b.data, "2345", 4);
    NL_ASSERT_OK(nl_dbuf_append(&b, "ab", 2));
    NL_ASSERT_MEMEQ(b.data, "2345ab", 6);
    nl_dbuf_consume(&b, 100); /* more than held: empties */
    NL_ASSERT_UEQ(b.len, 0);
    /* reserve exactly the remaining room */
    NL_ASSERT(nl_dbuf_reserve(&b, 64) != NULL);
    NL_ASSERT(nl_dbuf_reserve(&b, 65) == NULL);
    nl_dbuf_commit(&b, 1000); /* over-commit is clamped to what was allocated */
    NL_ASSERT(b.len <= b.cap);
    NL_ASSERT(b.len <= b.max);
    nl_dbuf_reset(&b);
    NL_ASSERT_UEQ(b.len, 0);
    NL_ASSERT(b.data != NULL); /* reset keeps the memory for reuse */
    nl_dbuf_free(&b);
    nl_dbuf_free(&b);
}

int main(void)
{
    NL_RUN(test_append_to_cap);
    NL_RUN(test_refuse_too_big_first);
    NL_RUN(test_growth_clamped);
    NL_RUN(test_reserve_commit_consume);
    NL_DONE();
}
