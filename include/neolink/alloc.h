/**
 * @file alloc.h
 * The replaceable allocator behind every heap allocation libneolink makes
 * itself (arenas, queues, buffers it owns). libav* allocations go through
 * libavutil and are not covered.
 */
#ifndef NEOLINK_ALLOC_H
#define NEOLINK_ALLOC_H

#include "neolink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An allocator: the three calls behave like malloc/realloc/free. */
typedef struct nl_allocator {
    void *(*malloc_fn)(void *ud, size_t n);
    void *(*realloc_fn)(void *ud, void *p, size_t n);
    void (*free_fn)(void *ud, void *p);
    void *ud;
} nl_allocator;

/**
 * Installs an allocator for the whole process, or restores the C library's
 * with NULL. The host asks for this explicitly; the library never calls it.
 *
 * Threads: call before any other libneolink call, or while no libneolink
 * object exists; it is not synchronised with allocations in flight.
 */
NL_EXPORT void nl_allocator_set(const nl_allocator *a);

/** Number of live allocations made through the allocator (for leak checks). */
NL_EXPORT long nl_allocator_live(void);

#ifdef __cplusplus
}
#endif
#endif
