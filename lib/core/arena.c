/* Arenas: bump allocation from chained blocks under a hard byte cap, with
 * parent/child lifetimes and LIFO cleanup handlers (nginx pools + talloc
 * parents). See docs/internals/ARENA.md for the layout and the rules.
 *
 * Every allocation is a record inside a block:
 *
 *   [ size | head magic ][ n user bytes ][ guard word ][ pad to 16 ]
 *    <---- 16 bytes ---->
 *
 * The guard sits right after the user bytes, so even a one-byte overrun is
 * caught by nl_arena_check(); the head magic catches underruns and lets the
 * checker walk a block record by record. Records are 16-aligned because the
 * block data area is and every record length is a multiple of 16. */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/list.h"
#include "neolink/arena.h"
#include "neolink/error.h"

#define ARENA_ALIGN 16u
#define REC_HDR     16u
#define GUARD_LEN   8u
/* A block is one 4 KiB malloc: a page, so the system allocator serves it
 * from its fast bins and an idle session costs little. */
#define BLOCK_BYTES 4096u
/* Records bigger than a quarter block get their own block, so one large
 * allocation never strands most of a shared block. */
#define LARGE_REC (BLOCK_BYTES / 4u)

#define HEAD_MAGIC UINT64_C(0x4e4c4152454e4131) /* "NLARENA1" */
#define GUARD_WORD UINT64_C(0xa5c3e1f00ff1e3c5)

/* The block data area must start 16-aligned; malloc guarantees
 * max_align_t alignment, and the header size is a multiple of 16. */
typedef struct block {
    struct block *next;
    size_t size; /* bytes of data area */
    size_t top;  /* bytes of data area handed out */
    size_t pad_; /* keeps the header a multiple of 16 bytes */
} block;

_Static_assert(sizeof(block) % ARENA_ALIGN == 0, "block header keeps data 16-aligned");
_Static_assert(alignof(max_align_t) >= ARENA_ALIGN, "malloc alignment is at least 16");

struct nl_arena_cleanup {
    nl_list node;
    void (*fn)(void *arg); /* NULL once run or cancelled (record is on the free list) */
    void *arg;
    struct nl_arena_cleanup *next_free;
};

struct nl_arena {
    nl_arena *parent;
    nl_list sibling;                 /* node in parent->children */
    nl_list children;                /* live children, oldest first */
    nl_list cleanups;                /* registered handlers, oldest first */
    nl_arena_cleanup *free_cleanups; /* recycled records */
    block *blocks;                   /* bump blocks, current one first */
    block *large;                    /* single-record blocks */
    size_t charge;                   /* bytes this arena's header costs its parent */
    size_t cap, used, high_water, allocs, failed;
    bool destroying;
    nl_arena_corruption_fn corrupt_fn;
    void *corrupt_ud;
    char name[]; /* copied label, "" if none */
};

static size_t align_up(size_t n)
{
    return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

static unsigned char *block_data(block *b)
{
    return (unsigned char *)(b + 1);
}

/* Takes `bytes` from the cap; false (and `failed` counted) when they do not fit. */
static bool charge(nl_arena *a, size_t bytes)
{
    if (a->cap && (bytes > a->cap || a->used > a->cap - bytes)) {
        a->failed++;
        return false;
    }
    a->used += bytes;
    if (a->used > a->high_water)
        a->high_water = a->used;
    return true;
}

static block *new_block(nl_arena *a, size_t rec, bool large)
{
    size_t total = sizeof(block) + rec;
    if (!large) {
        total = BLOCK_BYTES;
        /* Near the cap, a smaller block that still fits this record keeps
         * the whole cap usable instead of failing a block early. */
        if (a->cap && a->cap - a->used < total) {
            size_t room = (a->cap - a->used) & ~(size_t)(ARENA_ALIGN - 1);
            if (room >= sizeof(block) + rec)
                total = room;
        }
    }
    if (!charge(a, total))
        return NULL;
    block *b = nl__malloc(total);
    if (!b) {
        a->used -= total;
        a->failed++;
        return NULL;
    }
    b->size = total - sizeof(block);
    b->top = 0;
    if (large) {
        b->next = a->large;
        a->large = b;
    } else {
        b->next = a->blocks;
        a->blocks = b;
    }
    return b;
}

/* Record length for n user bytes; 0 when n is absurd (overflow). */
static size_t rec_len(size_t n)
{
    if (n > SIZE_MAX / 2)
        return 0;
    return REC_HDR + align_up(n + GUARD_LEN);
}

static void *alloc_rec(nl_arena *a, size_t n)
{
    size_t rec = rec_len(n);
    if (!rec) {
        a->failed++;
        return NULL;
    }
    block *b = a->blocks;
    if (rec > LARGE_REC)
        b = new_block(a, rec, true);
    else if (!b || b->size - b->top < rec)
        b = new_block(a, rec, false);
    if (!b)
        return NULL;
    unsigned char *r = block_data(b) + b->top;
    uint64_t hdr[2] = {(uint64_t)n, HEAD_MAGIC};
    memcpy(r, hdr, sizeof hdr);
    /* Zero the user bytes and the padding; the guard goes right after the
     * user bytes, unaligned, so a one-byte overrun already hits it. */
    memset(r + REC_HDR, 0, rec - REC_HDR);
    uint64_t g = GUARD_WORD;
    memcpy(r + REC_HDR + n, &g, sizeof g);
    b->top += rec;
    return r + REC_HDR;
}

static const char *arena_label(const char *name)
{
    return name ? name : "";
}

NL_EXPORT int nl_arena_create(nl_arena **out, nl_arena *parent, size_t cap, const char *name)
{
    *out = NULL;
    const char *label = arena_label(name);
    size_t nlen = strlen(label);
    size_t hdr = sizeof(nl_arena) + nlen + 1;
    if (parent) {
        if (parent->destroying)
            return NL_ESTATE;
        /* The child's header lives as long as the child, not the parent,
         * so it is malloc'd on its own but paid for from the parent's cap. */
        if (!charge(parent, hdr))
            return NL_EARENA;
    }
    nl_arena *a = nl__malloc(hdr);
    if (!a) {
        if (parent) {
            parent->used -= hdr;
            parent->failed++;
        }
        return NL_ENOMEM;
    }
    memset(a, 0, sizeof *a);
    memcpy(a->name, label, nlen + 1);
    a->parent = parent;
    a->cap = cap;
    a->charge = parent ? hdr : 0;
    nl_list_init(&a->sibling);
    nl_list_init(&a->children);
    nl_list_init(&a->cleanups);
    if (parent) {
        a->corrupt_fn = parent->corrupt_fn;
        a->corrupt_ud = parent->corrupt_ud;
        nl_list_insert_tail(&parent->children, &a->sibling);
    }
    *out = a;
    return 0;
}

static void free_blocks(block *b)
{
    while (b) {
        block *next = b->next;
        nl__free(b);
        b = next;
    }
}

static void arena_destroy(nl_arena *a)
{
    a->destroying = true;
    /* Children first (newest first), then our own handlers LIFO. Loop until
     * both are empty: a handler may legitimately register another one. */
    for (;;) {
        if (!nl_list_empty(&a->children)) {
            arena_destroy(nl_container_of(a->children.prev, nl_arena, sibling));
            continue;
        }
        if (!nl_list_empty(&a->cleanups)) {
            nl_arena_cleanup_run(a, nl_container_of(a->cleanups.prev, nl_arena_cleanup, node));
            continue;
        }
        break;
    }
    if (a->corrupt_fn && nl_arena_check(a) < 0)
        a->corrupt_fn(a->corrupt_ud, a);
    free_blocks(a->blocks);
    free_blocks(a->large);
    if (a->parent) {
        nl_list_remove(&a->sibling);
        a->parent->used -= a->charge;
    }
    nl__free(a);
}

NL_EXPORT void nl_arena_destroy(nl_arena **pa)
{
    if (!pa || !*pa)
        return;
    nl_arena *a = *pa;
    /* Called again from one of its own handlers: the outer destroy owns it. */
    if (a->destroying)
        return;
    *pa = NULL;
    arena_destroy(a);
}

NL_EXPORT void *nl_arena_alloc(nl_arena *a, size_t n)
{
    void *p = alloc_rec(a, n);
    if (p)
        a->allocs++;
    return p;
}

NL_EXPORT char *nl_arena_strndup(nl_arena *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = nl_arena_alloc(a, len + 1);
    if (d)
        memcpy(d, s, len); /* already zeroed, so terminated */
    return d;
}

NL_EXPORT char *nl_arena_strdup(nl_arena *a, const char *s)
{
    return nl_arena_strndup(a, s, strlen(s));
}

NL_EXPORT nl_arena_cleanup *nl_arena_on_destroy(nl_arena *a, void (*fn)(void *arg), void *arg)
{
    if (!fn)
        return NULL;
    nl_arena_cleanup *c = a->free_cleanups;
    if (c) {
        a->free_cleanups = c->next_free;
    } else {
        /* Records come from the arena itself, so they count against its
         * cap; cancelled ones are recycled so a long-lived arena that
         * registers and cancels repeatedly does not grow. */
        c = alloc_rec(a, sizeof *c);
        if (!c)
            return NULL;
    }
    c->fn = fn;
    c->arg = arg;
    c->next_free = NULL;
    nl_list_insert_tail(&a->cleanups, &c->node);
    return c;
}

static void recycle(nl_arena *a, nl_arena_cleanup *c)
{
    nl_list_remove(&c->node);
    c->fn = NULL;
    c->arg = NULL;
    c->next_free = a->free_cleanups;
    a->free_cleanups = c;
}

NL_EXPORT void nl_arena_cleanup_cancel(nl_arena *a, nl_arena_cleanup *c)
{
    if (!c || !c->fn)
        return;
    recycle(a, c);
}

NL_EXPORT void nl_arena_cleanup_run(nl_arena *a, nl_arena_cleanup *c)
{
    if (!c || !c->fn)
        return;
    void (*fn)(void *) = c->fn;
    void *arg = c->arg;
    /* Unregister before running, so the handler may register new ones
     * (possibly reusing this record) without confusion. */
    recycle(a, c);
    fn(arg);
}

NL_EXPORT void nl_arena_get_stats(const nl_arena *a, nl_arena_stats *st)
{
    st->cap = a->cap;
    st->used = a->used;
    st->high_water = a->high_water;
    st->allocs = a->allocs;
    st->failed = a->failed;
    st->cleanups = nl_list_count(&a->cleanups);
    st->children = nl_list_count(&a->children);
}

NL_EXPORT const char *nl_arena_name(const nl_arena *a)
{
    return a->name;
}

static int check_block(const block *b)
{
    const unsigned char *d = (const unsigned char *)(b + 1);
    size_t off = 0;
    while (off < b->top) {
        uint64_t hdr[2], g;
        if (b->top - off < REC_HDR)
            return NL_EPROTO;
        memcpy(hdr, d + off, sizeof hdr);
        if (hdr[1] != HEAD_MAGIC)
            return NL_EPROTO;
        size_t rec = rec_len((size_t)hdr[0]);
        if (!rec || rec > b->top - off)
            return NL_EPROTO;
        memcpy(&g, d + off + REC_HDR + hdr[0], sizeof g);
        if (g != GUARD_WORD)
            return NL_EPROTO;
        off += rec;
    }
    return 0;
}

NL_EXPORT int nl_arena_check(const nl_arena *a)
{
    for (const block *b = a->blocks; b; b = b->next) {
        if (check_block(b) < 0)
            return NL_EPROTO;
    }
    for (const block *b = a->large; b; b = b->next) {
        if (check_block(b) < 0)
            return NL_EPROTO;
    }
    return 0;
}

NL_EXPORT void nl_arena_set_corruption_fn(nl_arena *a, nl_arena_corruption_fn fn, void *ud)
{
    a->corrupt_fn = fn;
    a->corrupt_ud = ud;
}
