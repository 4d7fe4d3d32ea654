/* The one file that calls malloc/realloc/free. Everything the library
 * allocates itself passes through here, so a host allocator or a test's
 * "fail the Nth allocation" hook sees every allocation, and a live count makes
 * leaks visible without valgrind. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static void *sys_malloc(void *ud, size_t n)
{
    (void)ud;
    return malloc(n);
}

static void *sys_realloc(void *ud, void *p, size_t n)
{
    (void)ud;
    return realloc(p, n);
}

static void sys_free(void *ud, void *p)
{
    (void)ud;
    free(p);
}

static const nl_allocator sys_allocator = {sys_malloc, sys_realloc, sys_free, NULL};
static nl_allocator current = {sys_malloc, sys_realloc, sys_free, NULL};
static atomic_long live;

NL_EXPORT void nl_allocator_set(const nl_allocator *a)
{
    current = a ? *a : sys_allocator;
}

NL_EXPORT long nl_allocator_live(void)
{
    return atomic_load_explicit(&live, memory_order_relaxed);
}

void *nl__malloc(size_t n)
{
    void *p = current.malloc_fn(current.ud, n ? n : 1);
    if (p)
        atomic_fetch_add_explicit(&live, 1, memory_order_relaxed);
    return p;
}

void *nl__calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = nl__malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *nl__realloc(void *p, size_t n)
{
    if (!p)
        return nl__malloc(n);
    /* On failure the old block stays valid and counted. */
    return current.realloc_fn(current.ud, p, n ? n : 1);
}

void nl__free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&live, 1, memory_order_relaxed);
    current.free_fn(current.ud, p);
}

char *nl__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = nl__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
