/* BC XML: a bounded expat-based parser into a small read-only tree, path
 * lookups, and a writer that produces camera-style XML byte for byte
 * (sheet §4.1).
 *
 * The parser object is reusable: one per connection (or per codec) parses
 * every message, and its tree stays valid until the next parse or destroy, so
 * steady-state parsing allocates nothing once the buffers have grown.
 * Hard caps (input bytes, depth, element count, text length) bound what a
 * peer can make it hold; DOCTYPE declarations are refused, so entity
 * expansion attacks cannot start. Leading whitespace (and a UTF-8 BOM) before
 * the XML declaration is accepted, as are trailing NULs and whitespace.
 * Element text is kept for leaf elements only, trimmed of surrounding ASCII
 * whitespace; attributes are not kept.
 *
 * Threads: one parser or writer per thread at a time. Nothing blocks. */
#ifndef NL_BC_XML_H
#define NL_BC_XML_H

#include <stddef.h>
#include <stdint.h>

#include "core/dbuf.h"

typedef struct nl_bc_xml_limits {
    size_t max_input;   /* bytes of XML accepted (default 256 KiB, at most 16 MiB) */
    unsigned max_depth; /* element nesting (default 16) */
    unsigned max_nodes; /* elements per document (default 2048) */
    size_t max_text;    /* bytes of one element's text (default 8192) */
} nl_bc_xml_limits;

#define NL_BC_XML_DEFAULT_MAX_INPUT (256u * 1024u)
#define NL_BC_XML_DEFAULT_MAX_DEPTH 16u
#define NL_BC_XML_DEFAULT_MAX_NODES 2048u
#define NL_BC_XML_DEFAULT_MAX_TEXT  8192u

/* One element. All pointers are owned by the parser. */
typedef struct nl_bc_xml_node nl_bc_xml_node;
struct nl_bc_xml_node {
    const char *name;
    const char *text; /* trimmed leaf text; "" for elements with children */
    size_t text_len;
    const nl_bc_xml_node *parent, *child, *next; /* first child, next sibling */
};

typedef struct nl_bc_xml nl_bc_xml;

/* Creates a parser. lim may be NULL (defaults); zero fields take defaults.
 * Returns 0 or NL_ENOMEM (*out = NULL). */
int nl_bc_xml_create(nl_bc_xml **out, const nl_bc_xml_limits *lim);
/* Destroys the parser and every tree it produced; sets *x to NULL. */
void nl_bc_xml_destroy(nl_bc_xml **x);

/* Parses len bytes of XML (need not be NUL-terminated) and sets *root to the
 * document element. The previous tree is invalidated.
 * Errors: NL_ETOOBIG input above max_input; NL_ELIMIT depth, element count or
 * text length cap reached; NL_EXML malformed, empty or DOCTYPE-bearing input;
 * NL_ENOMEM. On error *root is NULL. */
int nl_bc_xml_parse(nl_bc_xml *x, const void *text, size_t len, const nl_bc_xml_node **root);

/* True when the first non-whitespace bytes of p look like the start of an
 * XML document ('<' then '?' or a letter): the codec's "did this decrypt?"
 * test. */
int nl_bc_xml_looks_like(const uint8_t *p, size_t n);

/* First child of n named name, or NULL. */
const nl_bc_xml_node *nl_bc_xml_child(const nl_bc_xml_node *n, const char *name);
/* Next sibling after n with the same name as n, or NULL. */
const nl_bc_xml_node *nl_bc_xml_next_same(const nl_bc_xml_node *n);

/* Follows a '/'-separated path of child names from `from` ("Encryption/nonce"
 * from <body>). When that fails and the first component names `from` itself,
 * the rest of the path is tried ("body/Encryption/nonce"). NULL if absent. */
const nl_bc_xml_node *nl_bc_xml_find_node(const nl_bc_xml_node *from, const char *path);
/* Text of the element at path, or NULL if absent. */
const char *nl_bc_xml_find(const nl_bc_xml_node *from, const char *path);
/* Integer value at path: 0, NL_ENOENT absent, NL_EPROTO not a decimal
 * integer, NL_ERANGE out of long long range. */
int nl_bc_xml_find_ll(const nl_bc_xml_node *from, const char *path, long long *out);
/* Same for a value that must fit [lo, hi] (NL_ERANGE otherwise). */
int nl_bc_xml_find_int(const nl_bc_xml_node *from, const char *path, long long lo, long long hi,
                       int64_t *out);
/* Copies the text at path into dst (size n, always NUL-terminated).
 * Returns the text length, NL_ENOENT when absent (dst = ""), or NL_ERANGE
 * when it did not fit (dst holds a truncated copy). */
int nl_bc_xml_find_copy(const nl_bc_xml_node *from, const char *path, char *dst, size_t n);

/* ------------------------------------------------------------------ writer */

/* Writes camera-style XML into a bounded nl_dbuf:
 *   <?xml version="1.0" encoding="UTF-8" ?>\n   then one element per line,
 * '\n' line ends, a trailing '\n'. Errors are sticky and reported by
 * nl_bc_xmlw_finish, so builders can chain calls without checking each. */
typedef struct nl_bc_xmlw {
    nl_dbuf *out;
    size_t start; /* out->len when the writer was initialised */
    int err;
    unsigned depth;
} nl_bc_xmlw;

void nl_bc_xmlw_init(nl_bc_xmlw *w, nl_dbuf *out);
/* The XML declaration line. */
void nl_bc_xmlw_decl(nl_bc_xmlw *w);
/* "<name>\n", or "<name version="1.1">\n" when versioned is nonzero. */
void nl_bc_xmlw_open(nl_bc_xmlw *w, const char *name, int versioned);
/* "</name>\n". */
void nl_bc_xmlw_close(nl_bc_xmlw *w, const char *name);
/* "<name>text</name>\n" with &, <, > escaped and control characters (other
 * than tab and newline) refused with NL_EINVAL. NULL text writes "". */
void nl_bc_xmlw_text(nl_bc_xmlw *w, const char *name, const char *text);
/* "<name>v</name>\n" in decimal. */
void nl_bc_xmlw_int(nl_bc_xmlw *w, const char *name, long long v);
/* Returns the bytes written since init, or the first error (NL_ETOOBIG when
 * the buffer's cap was hit, NL_ENOMEM, NL_EINVAL, NL_ESTATE when elements are
 * still open). */
long nl_bc_xmlw_finish(nl_bc_xmlw *w);

#endif
