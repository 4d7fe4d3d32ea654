/* Debug canaries: an overrun or underrun next to any allocation is found by
 * nl_arena_check() and reported on destroy through the corruption hook. */
#include <string.h>

#include "neolink/arena.h"
#include "neolink/error.h"
#include "test.h"

static int reports;
static char reported_name[64];

static void on_corrupt(void *ud, const nl_arena *a)
{
    (*(int *)ud)++;
    /* the name dies with the arena: copy it */
    snprintf(reported_name, sizeof reported_name, "%s", nl_arena_name(a));
}

static void test_overrun_by_one(void)
{
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "overrun"));
    unsigned char *p[20];
    for (int i = 0; i < 20; i++)
        p[i] = nl_arena_alloc(a, (size_t)i * 5 + 1);
    NL_ASSERT_OK(nl_arena_check(a));
    size_t n = 7 * 5 + 1;
    unsigned char saved = p[7][n];
    p[7][n] = 0; /* one byte past the end */
    NL_ASSERT_EQ(nl_arena_check(a), NL_EPROTO);
    p[7][n] = saved;
    NL_ASSERT_OK(nl_arena_check(a));
    nl_arena_destroy(&a);
}

static void test_underrun(void)
{
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "underrun"));
    unsigned char *x = nl_arena_alloc(a, 32);
    unsigned char *y = nl_arena_alloc(a, 32);
    NL_ASSERT(x && y);
    unsigned char saved = y[-1];
    y[-1] ^= 0x55;
    NL_ASSERT_EQ(nl_arena_check(a), NL_EPROTO);
    y[-1] = saved;
    NL_ASSERT_OK(nl_arena_check(a));
    nl_arena_destroy(&a);
}

static void test_large_block_guard(void)
{
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "large"));
    unsigned char *big = nl_arena_alloc(a, 5000);
    NL_ASSERT(big != NULL);
    memset(big, 0xee, 5000);
    NL_ASSERT_OK(nl_arena_check(a));
    big[5003] = 1; /* inside the guard word */
    NL_ASSERT_EQ(nl_arena_check(a), NL_EPROTO);
    big[5003] = 0xa5 ^ 0xff; /* still wrong */
    NL_ASSERT_EQ(nl_arena_check(a), NL_EPROTO);
    nl_arena_destroy(&a); /* no hook installed: destroy just frees */
}

static void test_reported_on_destroy(void)
{
    reports = 0;
    nl_arena *p = NULL, *c = NULL;
    NL_ASSERT_OK(nl_arena_create(&p, NULL, 0, "parent"));
    nl_arena_set_corruption_fn(p, on_corrupt, &reports);
    NL_ASSERT_OK(nl_arena_create(&c, p, 0, "bad child")); /* inherits the hook */
    char *s = nl_arena_alloc(c, 10);
    memcpy(s, "0123456789X", 11); /* classic off-by-one string copy */
    NL_ASSERT(nl_arena_alloc(p, 10) != NULL);
    NL_ASSERT_OK(nl_arena_check(p));
    NL_ASSERT_EQ(nl_arena_check(c), NL_EPROTO);
    nl_arena_destroy(&p);
    NL_ASSERT_EQ(reports, 1); /* the child, not the healthy parent */
    NL_ASSERT_STREQ(reported_name, "bad child");
}

static void test_clean_destroy_not_reported(void)
{
    reports = 0;
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "clean"));
    nl_arena_set_corruption_fn(a, on_corrupt, &reports);
    for (int i = 0; i < 500; i++) {
        char *s = nl_arena_alloc(a, (size_t)i);
        memset(s, 'x', (size_t)i);
    }
    nl_arena_destroy(&a);
    NL_ASSERT_EQ(reports, 0);
}

int main(void)
{
    NL_RUN(test_overrun_by_one);
    NL_RUN(test_underrun);
    NL_RUN(test_large_block_guard);
    NL_RUN(test_reported_on_destroy);
    NL_RUN(test_clean_destroy_not_reported);
    NL_DONE();
}
