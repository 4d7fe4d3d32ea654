/* Fault injection: fail allocation number N for N = 1, 2, ... until a run
 * completes without an injected failure. Every call must fail cleanly (NULL
 * or a negative code, never a crash) and nl_allocator_live() must return to
 * its baseline: no leaks on any error path. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/dbuf.h"
#include "core/heap.h"
#include "neolink/alloc.h"
#include "neolink/arena.h"
#include "neolink/context.h"
#include "neolink/error.h"
#include "fail_alloc.h"
#include "test.h"


static int cleanups_run;
static void count_cleanup(void *arg)
{
    (void)arg;
    cleanups_run++;
}

/* One scenario touching every allocation path of the arena. Returns how many
 * steps failed (for sanity). */
static int arena_scenario(void)
{
    int failures = 0;
    int registered = 0;
    cleanups_run = 0;
    nl_arena *root = NULL, *child = NULL, *grand = NULL;
    int rc = nl_arena_create(&root, NULL, 1 << 20, "root");
    if (rc < 0) {
        NL_ASSERT_EQ(rc, NL_ENOMEM);
        NL_ASSERT(root == NULL);
        return 1;
    }
    rc = nl_arena_create(&child, root, 0, "child");
    if (rc < 0) {
        NL_ASSERT_EQ(rc, NL_ENOMEM);
        NL_ASSERT(child == NULL);
        failures++;
    }
    nl_arena *target = child ? child : root;
    rc = nl_arena_create(&grand, target, 0, "grand");
    if (rc < 0)
        failures++;
    for (int i = 0; i < 40; i++) {
        /* a mix of small (shared block) and large (own block) records */
        size_t n = (i % 5 == 0) ? 3000 : 200;
        char *p = nl_arena_alloc(target, n);
        if (!p) {
            failures++;
            continue;
        }
        memset(p, 'a', n);
        if (nl_arena_on_destroy(target, count_cleanup, p))
            registered++;
        else
            failures++;
        if (!nl_arena_strdup(grand ? grand : root, "label"))
            failures++;
    }
    nl_arena_stats st;
    nl_arena_get_stats(target, &st);
    NL_ASSERT(st.failed <= (size_t)failures);
    NL_ASSERT_OK(nl_arena_check(target));
    nl_arena_destroy(&root);
    NL_ASSERT(root == NULL);
    NL_ASSERT_EQ(cleanups_run, registered);
    return failures;
}

static bool int_less(const void *a, const void *b)
{
    return *(const int *)a < *(const int *)b;
}

static int dbuf_heap_ctx_scenario(void)
{
    int failures = 0;
    nl_dbuf b;
    nl_dbuf_init(&b, 1 << 16);
    for (int i = 0; i < 100; i++) {
        char chunk[300];
        memset(chunk, 'q', sizeof chunk);
        size_t before = b.len;
        int rc = nl_dbuf_append(&b, chunk, sizeof chunk);
        if (rc < 0) {
            NL_ASSERT_EQ(rc, NL_ENOMEM);
            NL_ASSERT_UEQ(b.len, before); /* contents kept */
            failures++;
        }
    }
    nl_dbuf_free(&b);

    nl_heap h;
    static int vals[100];
    nl_heap_init(&h, int_less, NULL);
    for (int i = 0; i < 100; i++) {
        size_t before = h.len;
        vals[i] = (i * 37) % 100;
        int rc = nl_heap_push(&h, &vals[i]);
        if (rc < 0) {
            NL_ASSERT_EQ(rc, NL_ENOMEM);
            NL_ASSERT_UEQ(h.len, before); /* heap unchanged */
            failures++;
        }
    }
    for (int last = -1; h.len;) {
        int v = *(int *)nl_heap_pop(&h);
        NL_ASSERT(v >= last);
        last = v;
    }
    nl_heap_free(&h);

    nl_ctx *ctx = NULL;
    int rc = nl_ctx_create(&ctx, NULL);
    if (rc < 0) {
        NL_ASSERT_EQ(rc, NL_ENOMEM);
        NL_ASSERT(ctx == NULL);
        failures++;
    }
    nl_ctx_destroy(&ctx);
    return failures;
}

static void sweep(const char *what, int (*scenario)(void))
{
    long base = nl_allocator_live();
    int n;
    for (n = 1; n < 100000; n++) {
        nl_fail_alloc_arm(n, false);
        int failures = scenario();
        nl_allocator_set(NULL);
        NL_ASSERT_EQ(nl_allocator_live(), base);
        if (!nl_fail_alloc_injected()) {
            NL_ASSERT_EQ(failures, 0);
            break;
        }
        NL_ASSERT(failures > 0); /* the injected failure was seen */
    }
    NL_ASSERT(n > 3);
    printf("  %s: swept %d allocation points\n", what, n - 1);
}

static void test_arena_sweep(void)
{
    sweep("arena", arena_scenario);
}

static void test_dbuf_heap_ctx_sweep(void)
{
    sweep("dbuf/heap/ctx", dbuf_heap_ctx_scenario);
}

int main(void)
{
    NL_RUN(test_arena_sweep);
    NL_RUN(test_dbuf_heap_ctx_sweep);
    NL_DONE();
}
