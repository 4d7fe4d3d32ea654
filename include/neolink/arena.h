/**
 * @file arena.h
 * Per-session arenas: bump allocation under a hard byte cap, parent/child
 * ownership and cleanup handlers.
 *
 * An arena owns everything a session holds. Destroying it runs its cleanup
 * handlers in reverse registration order (children first, then its own
 * handlers), then releases its memory. Reaching the cap is an ordinary,
 * recoverable error: the allocation returns NULL and the arena stays usable.
 *
 * Media payloads are never arena memory; they are refcounted AVBufferRefs.
 *
 * Threads: an arena is not thread-safe; use it from one thread at a time
 * (normally the loop thread of the session that owns it). Nothing here blocks.
 */
#ifndef NEOLINK_ARENA_H
#define NEOLINK_ARENA_H

#include "neolink/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nl_arena nl_arena;
typedef struct nl_arena_cleanup nl_arena_cleanup;

/** Statistics of one arena (not including its children). */
typedef struct nl_arena_stats {
    size_t cap;        /**< hard cap in bytes fixed at creation */
    size_t used;       /**< bytes currently taken from the system (blocks + headers) */
    size_t high_water; /**< largest value `used` has had */
    size_t allocs;     /**< number of successful nl_arena_alloc calls */
    size_t failed;     /**< allocations refused (cap or out of memory) */
    size_t cleanups;   /**< cleanup handlers currently registered */
    size_t children;   /**< live child arenas */
} nl_arena_stats;

/**
 * Creates an arena.
 *
 * @param out    receives the arena; set to NULL on failure
 * @param parent owning arena or NULL; destroying the parent destroys this one
 * @param cap    hard cap in bytes (block overhead included); 0 means no cap.
 *               Child arenas' headers count against this arena's cap; their
 *               allocations count against their own cap only.
 * @param name   label for logs and statistics (copied; may be NULL)
 * @return 0, NL_ENOMEM, NL_EARENA when the parent's cap cannot hold the
 *         header, or NL_ESTATE when the parent is being destroyed
 */
NL_EXPORT int nl_arena_create(nl_arena **out, nl_arena *parent, size_t cap, const char *name);

/**
 * Destroys an arena and all of its children: runs cleanup handlers in reverse
 * order of registration, then frees its memory, then sets *a to NULL.
 * NULL and a pointer to NULL are no-ops. Must not be called from inside one of
 * the arena's own cleanup handlers.
 */
NL_EXPORT void nl_arena_destroy(nl_arena **a);

/**
 * Allocates n bytes aligned to 16, zero-filled. Returns NULL when the cap
 * would be exceeded or memory is short (the arena stays valid and `failed`
 * is counted). n == 0 returns a unique non-NULL pointer. The memory lives
 * until the arena is destroyed (there is no per-allocation free).
 */
NL_EXPORT void *nl_arena_alloc(nl_arena *a, size_t n);

/** Copies a NUL-terminated string into the arena; NULL on failure. */
NL_EXPORT char *nl_arena_strdup(nl_arena *a, const char *s);

/** Copies n bytes of s and terminates them; NULL on failure. */
NL_EXPORT char *nl_arena_strndup(nl_arena *a, const char *s, size_t n);

/**
 * Registers fn(arg) to run when the arena is destroyed. Handlers run last
 * registered first. Returns a handle that can cancel or run the handler
 * early, or NULL when the cleanup record cannot be allocated (in which case
 * the caller must release the resource itself).
 */
NL_EXPORT nl_arena_cleanup *nl_arena_on_destroy(nl_arena *a, void (*fn)(void *arg), void *arg);

/**
 * Unregisters a handler without running it. NULL, or a handle already
 * cancelled or run, is a no-op; the handle must not be used afterwards.
 */
NL_EXPORT void nl_arena_cleanup_cancel(nl_arena *a, nl_arena_cleanup *c);

/** Runs a handler now and unregisters it. NULL is a no-op. */
NL_EXPORT void nl_arena_cleanup_run(nl_arena *a, nl_arena_cleanup *c);

/** Fills *st with the arena's statistics. */
NL_EXPORT void nl_arena_get_stats(const nl_arena *a, nl_arena_stats *st);

/** Name given at creation ("" if none). */
NL_EXPORT const char *nl_arena_name(const nl_arena *a);

/**
 * Checks every block's canaries; returns 0 or NL_EPROTO when memory next to
 * an allocation was overwritten. Cheap enough for tests and debug builds.
 */
NL_EXPORT int nl_arena_check(const nl_arena *a);

/**
 * Called by nl_arena_destroy() when the arena's canaries are damaged, before
 * its memory is released (arenas have no context to log through, so the
 * owner decides how to report it). `a` is valid only during the call.
 */
typedef void (*nl_arena_corruption_fn)(void *ud, const nl_arena *a);

/**
 * Installs the corruption reporter of an arena (NULL removes it). Children
 * created afterwards inherit it. Without one, destroy skips the check.
 * Same thread rules as the arena; never blocks.
 */
NL_EXPORT void nl_arena_set_corruption_fn(nl_arena *a, nl_arena_corruption_fn fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif
