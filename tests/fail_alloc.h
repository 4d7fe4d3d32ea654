/* Allocation failure injection for the out-of-memory tests, through the
 * library's allocator hook (neolink/alloc.h).
 *
 * nl_fail_alloc_arm(n, sticky) installs the hook and makes allocation number
 * n (counted from the call, 1-based) return NULL; with `sticky`, every one
 * after it as well (the "out of memory from here on" model); n <= 0 never
 * fails. nl_fail_alloc_injected() says whether a failure was handed out, so
 * a sweep knows when a run went through untouched. Uninstall with
 * nl_allocator_set(NULL).
 *
 * Header-only and single-threaded: each test is its own program and
 * allocates from one thread while armed. */
#ifndef NL_TEST_FAIL_ALLOC_H
#define NL_TEST_FAIL_ALLOC_H

#include <stdbool.h>
#include <stdlib.h>

#include "neolink/alloc.h"

static struct {
    long calls, fail_at;
    bool sticky, injected;
} nl_fail_alloc_state;

static inline bool nl_fail_alloc_now(void)
{
    long c = ++nl_fail_alloc_state.calls, at = nl_fail_alloc_state.fail_at;
    if (at > 0 && (c == at || (nl_fail_alloc_state.sticky && c > at))) {
        nl_fail_alloc_state.injected = true;
        return true;
    }
    return false;
}

static inline void *nl_fail_alloc_malloc(void *ud, size_t n)
{
    (void)ud;
    return nl_fail_alloc_now() ? NULL : malloc(n);
}

static inline void *nl_fail_alloc_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    return nl_fail_alloc_now() ? NULL : realloc(p, n);
}

static inline void nl_fail_alloc_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static inline void nl_fail_alloc_arm(long n, bool sticky)
{
    static const nl_allocator hook = {nl_fail_alloc_malloc, nl_fail_alloc_realloc,
                                      nl_fail_alloc_free, NULL};
    nl_fail_alloc_state.calls = 0;
    nl_fail_alloc_state.fail_at = n;
    nl_fail_alloc_state.sticky = sticky;
    nl_fail_alloc_state.injected = false;
    nl_allocator_set(&hook);
}

static inline bool nl_fail_alloc_injected(void)
{
    return nl_fail_alloc_state.injected;
}

#endif
