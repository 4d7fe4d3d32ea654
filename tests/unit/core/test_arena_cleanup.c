/* Cleanup handlers run LIFO before memory is released, can be cancelled or
 * run early; destroying a parent destroys its children first, newest first. */
#include <string.h>

#include "neolink/alloc.h"
#include "neolink/arena.h"
#include "neolink/error.h"
#include "test.h"

static char trace[512];

static void append(const char *s)
{
    size_t at = strlen(trace), n = strlen(s);
    if (at + n < sizeof trace)
        memcpy(trace + at, s, n + 1);
}

static void note(void *arg)
{
    append(arg);
}

/* The argument lives in arena memory: reading it proves the handler runs
 * before the memory is released (ASan/valgrind would flag a use after free). */
static void note_arena_string(void *arg)
{
    append(arg);
}

static void test_lifo_before_release(void)
{
    trace[0] = '\0';
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "lifo"));
    char *s1 = nl_arena_strdup(a, "1");
    char *s2 = nl_arena_strdup(a, "2");
    char *s3 = nl_arena_strdup(a, "3");
    NL_ASSERT(nl_arena_on_destroy(a, note_arena_string, s1));
    NL_ASSERT(nl_arena_on_destroy(a, note_arena_string, s2));
    NL_ASSERT(nl_arena_on_destroy(a, note_arena_string, s3));
    NL_ASSERT(nl_arena_on_destroy(a, NULL, s3) == NULL); /* no fn: refused */
    nl_arena_stats st;
    nl_arena_get_stats(a, &st);
    NL_ASSERT_UEQ(st.cleanups, 3);
    nl_arena_destroy(&a);
    NL_ASSERT_STREQ(trace, "321");
}

static void test_cancel_and_run_now(void)
{
    trace[0] = '\0';
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "cancel"));
    nl_arena_cleanup *ca = nl_arena_on_destroy(a, note, "a");
    nl_arena_cleanup *cb = nl_arena_on_destroy(a, note, "b");
    nl_arena_cleanup *cc = nl_arena_on_destroy(a, note, "c");
    NL_ASSERT(ca && cb && cc);
    nl_arena_cleanup_cancel(a, cb);
    nl_arena_cleanup_run(a, cc);
    NL_ASSERT_STREQ(trace, "c");
    nl_arena_cleanup_run(a, cc);    /* already run: no-op */
    nl_arena_cleanup_cancel(a, cb); /* already cancelled: no-op */
    nl_arena_cleanup_cancel(a, NULL);
    nl_arena_cleanup_run(a, NULL);
    nl_arena_stats st;
    nl_arena_get_stats(a, &st);
    NL_ASSERT_UEQ(st.cleanups, 1);
    nl_arena_destroy(&a);
    NL_ASSERT_STREQ(trace, "ca");
}

static void test_records_recycled(void)
{
    /* register/cancel forever in a long-lived arena: memory stays flat */
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 8192, "recycle"));
    nl_arena_cleanup *c = nl_arena_on_destroy(a, note, "x");
    nl_arena_cleanup_cancel(a, c);
    nl_arena_stats before;
    nl_arena_get_stats(a, &before);
    for (int i = 0; i < 10000; i++) {
        c = nl_arena_on_destroy(a, note, "x");
        NL_ASSERT(c != NULL);
        nl_arena_cleanup_cancel(a, c);
    }
    nl_arena_stats after;
    nl_arena_get_stats(a, &after);
    NL_ASSERT_UEQ(after.used, before.used);
    NL_ASSERT_UEQ(after.cleanups, 0);
    NL_ASSERT_UEQ(after.failed, 0);
    nl_arena_destroy(&a);
}

static void test_children_first_newest_first(void)
{
    trace[0] = '\0';
    nl_arena *p = NULL, *c1 = NULL, *c2 = NULL, *c3 = NULL, *g = NULL;
    NL_ASSERT_OK(nl_arena_create(&p, NULL, 0, "parent"));
    NL_ASSERT(nl_arena_on_destroy(p, note, "P1,"));
    NL_ASSERT_OK(nl_arena_create(&c1, p, 0, "c1"));
    NL_ASSERT_OK(nl_arena_create(&c2, p, 0, "c2"));
    NL_ASSERT_OK(nl_arena_create(&c3, p, 0, "c3"));
    NL_ASSERT_OK(nl_arena_create(&g, c2, 0, "grandchild"));
    NL_ASSERT(nl_arena_on_destroy(c1, note, "c1,"));
    NL_ASSERT(nl_arena_on_destroy(c2, note, "c2,"));
    NL_ASSERT(nl_arena_on_destroy(c3, note, "c3,"));
    NL_ASSERT(nl_arena_on_destroy(g, note, "g,"));
    NL_ASSERT(nl_arena_on_destroy(p, note, "P2,"));
    nl_arena_stats st;
    nl_arena_get_stats(p, &st);
    NL_ASSERT_UEQ(st.children, 3);
    nl_arena_get_stats(c2, &st);
    NL_ASSERT_UEQ(st.children, 1);
    nl_arena_destroy(&p);
    NL_ASSERT_STREQ(trace, "c3,g,c2,c1,P2,P1,");
    NL_ASSERT(p == NULL);
}

static void test_child_destroyed_early(void)
{
    trace[0] = '\0';
    nl_arena *p = NULL, *c1 = NULL, *c2 = NULL;
    NL_ASSERT_OK(nl_arena_create(&p, NULL, 0, "parent"));
    NL_ASSERT_OK(nl_arena_create(&c1, p, 0, "c1"));
    NL_ASSERT_OK(nl_arena_create(&c2, p, 0, "c2"));
    NL_ASSERT(nl_arena_on_destroy(c1, note, "c1,"));
    NL_ASSERT(nl_arena_on_destroy(c2, note, "c2,"));
    nl_arena_destroy(&c1);
    NL_ASSERT_STREQ(trace, "c1,");
    nl_arena_stats st;
    nl_arena_get_stats(p, &st);
    NL_ASSERT_UEQ(st.children, 1);
    nl_arena_destroy(&p);
    NL_ASSERT_STREQ(trace, "c1,c2,");
}

static void test_child_header_needs_parent_cap(void)
{
    nl_arena *p = NULL, *c = NULL;
    NL_ASSERT_OK(nl_arena_create(&p, NULL, 64, "tiny"));
    NL_ASSERT_EQ(nl_arena_create(&c, p, 0, "child"), NL_EARENA);
    NL_ASSERT(c == NULL);
    nl_arena_stats st;
    nl_arena_get_stats(p, &st);
    NL_ASSERT_UEQ(st.failed, 1);
    NL_ASSERT_UEQ(st.used, 0);
    NL_ASSERT_UEQ(st.children, 0);
    nl_arena_destroy(&p);
}

/* A handler that registers another handler on the dying arena, and one that
 * tries to destroy the arena again: both are handled. */
static nl_arena *dying;
static void late(void *arg)
{
    note(arg);
}
static void registers_more(void *arg)
{
    note(arg);
    NL_ASSERT(nl_arena_on_destroy(dying, late, "late,"));
}
static void destroys_again(void *arg)
{
    note(arg);
    nl_arena *alias = dying;
    nl_arena_destroy(&alias); /* ignored: the outer destroy owns it */
    nl_arena *child = NULL;
    NL_ASSERT_EQ(nl_arena_create(&child, dying, 0, "too late"), NL_ESTATE);
}

static void test_handlers_during_destroy(void)
{
    trace[0] = '\0';
    nl_arena *a = NULL;
    NL_ASSERT_OK(nl_arena_create(&a, NULL, 0, "dying"));
    dying = a;
    NL_ASSERT(nl_arena_on_destroy(a, destroys_again, "again,"));
    NL_ASSERT(nl_arena_on_destroy(a, registers_more, "more,"));
    nl_arena_destroy(&a);
    NL_ASSERT_STREQ(trace, "more,late,again,");
}

int main(void)
{
    long base = nl_allocator_live();
    NL_RUN(test_lifo_before_release);
    NL_RUN(test_cancel_and_run_now);
    NL_RUN(test_records_recycled);
    NL_RUN(test_children_first_newest_first);
    NL_RUN(test_child_destroyed_early);
    NL_RUN(test_child_header_needs_parent_cap);
    NL_RUN(test_handlers_during_destroy);
    NL_ASSERT_EQ(nl_allocator_live(), base);
    NL_DONE();
}
