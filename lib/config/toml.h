/* A small, bounded TOML reader for the subset neolink configuration files
 * use: [tables], [[arrays of tables]], bare/quoted/dotted keys, basic and
 * literal strings (single- and multi-line, with escapes), integers (also
 * hex/octal/binary), floats, booleans, arrays (multi-line, nested) and
 * inline tables. Dates and times are refused with a clear message: no
 * neolink key takes one.
 *
 * The whole document becomes a tree of nl__toml_value nodes in an arena the
 * caller owns. Every node remembers the line it started on, so the importer
 * can name the line of every key it warns about. Hostile input is harmless:
 * the size, nesting depth, keys per table, array length and node count are
 * capped, and parsing never recurses deeper than NL_TOML_MAX_DEPTH. */
#ifndef NL_CONFIG_TOML_H
#define NL_CONFIG_TOML_H

#include <stddef.h>
#include <stdint.h>

#include "neolink/arena.h"

/* Caps; a real neolink file is a few KiB with a few dozen keys. */
#define NL_TOML_MAX_SIZE       (1024 * 1024) /* bytes of input */
#define NL_TOML_MAX_DEPTH      16            /* nested arrays/inline tables, and key parts */
#define NL_TOML_MAX_TABLE_KEYS 1024          /* keys in one table */
#define NL_TOML_MAX_ARRAY      4096          /* elements in one array */
#define NL_TOML_MAX_NODES      65536         /* values in the whole document */
#define NL_TOML_MAX_KEY        256           /* bytes in one key part */

typedef enum nl__toml_type {
    NL_TOML_TABLE = 0,
    NL_TOML_ARRAY,
    NL_TOML_STRING,
    NL_TOML_INT,
    NL_TOML_FLOAT,
    NL_TOML_BOOL,
} nl__toml_type;

typedef struct nl__toml_value nl__toml_value;

/* One node. Tables and arrays hold their children as a singly linked list in
 * document order; a table's children carry their key. */
struct nl__toml_value {
    nl__toml_type type;
    int line;             /* 1-based line where the value (or its [header]) starts */
    unsigned flags;       /* parser bookkeeping (how a table was made) */
    const char *key;      /* key within the parent table; NULL for array elements */
    nl__toml_value *next; /* next sibling */
    union {
        struct {
            nl__toml_value *first, *last;
            size_t count;
        } kids;          /* NL_TOML_TABLE, NL_TOML_ARRAY */
        const char *str; /* NL_TOML_STRING: NUL-terminated UTF-8 (\u0000 is refused) */
        int64_t i;       /* NL_TOML_INT */
        double f;        /* NL_TOML_FLOAT */
        int b;           /* NL_TOML_BOOL: 0 or 1 */
    } u;
};

/* Where and why parsing stopped. */
typedef struct nl__toml_error {
    int line;      /* 1-based; 0 when the problem has no line (too large) */
    char msg[192]; /* e.g. "expected '=' after key" */
} nl__toml_error;

/* Parses a document. On success *root is the root table (allocated in a,
 * valid until the arena is destroyed) and 0 is returned. On failure *root
 * is NULL and err says where and why: NL_ECONFIG for malformed or
 * over-limit input, NL_ETOOBIG when len > NL_TOML_MAX_SIZE, NL_ENOMEM (or
 * NL_EARENA) when the arena is exhausted. text need not be NUL-terminated.
 * Any thread (the arena is the caller's); never blocks. */
int nl__toml_parse(nl_arena *a, const char *text, size_t len, nl__toml_value **root,
                   nl__toml_error *err);

/* The value stored under key in table t, or NULL (also when t is NULL or
 * not a table). O(keys in t). */
const nl__toml_value *nl__toml_get(const nl__toml_value *t, const char *key);

/* "table", "array", "string", "integer", "float" or "boolean". */
const char *nl__toml_type_name(nl__toml_type type);

#endif
