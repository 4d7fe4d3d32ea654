/* Bounded XML tree on top of expat, plus the camera-style writer.
 *
 * While parsing, elements live in an index-linked array and every string
 * (names, texts) in one byte pool, both grown with realloc under caps; only
 * when the document is complete are the public nodes built with real
 * pointers, because realloc may move the arrays while parsing. Text is
 * collected straight into the pool: the bytes between two tags are appended,
 * and discarded again when the next tag shows they were inter-element
 * whitespace, so no scratch buffer is needed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "bc/xml.h"
#include "core/alloc.h"
#include "neolink/error.h"

#define XML_HARD_MAX_INPUT (16u * 1024u * 1024u)
#define NO_NODE            UINT32_MAX

typedef struct inode {
    uint32_t name_off;
    uint32_t text_off; /* NO_NODE: empty text */
    uint32_t text_len;
    uint32_t parent, first_child, last_child, next;
} inode;

struct nl_bc_xml {
    XML_Parser p;
    nl_bc_xml_limits lim;
    inode *in;           /* parse-time nodes */
    nl_bc_xml_node *out; /* public nodes, built after a successful parse */
    uint32_t n, cap, outcap;
    char *pool;
    size_t pool_len, pool_cap, pool_max;
    size_t text_mark; /* pool offset where the current run of text started */
    uint32_t cur;     /* innermost open element */
    unsigned depth;
    int err;
};

static const XML_Memory_Handling_Suite nl_xml_mem = {nl__malloc, nl__realloc, nl__free};

static void fail(nl_bc_xml *x, int err)
{
    if (!x->err)
        x->err = err;
    XML_StopParser(x->p, XML_FALSE);
}

/* Makes room for `more` pool bytes beyond pool_len. */
static int pool_reserve(nl_bc_xml *x, size_t more)
{
    if (more > x->pool_max - x->pool_len)
        return NL_ELIMIT;
    size_t need = x->pool_len + more;
    if (need <= x->pool_cap)
        return 0;
    size_t ncap = x->pool_cap ? x->pool_cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (ncap > x->pool_max)
        ncap = x->pool_max;
    char *np = nl__realloc(x->pool, ncap);
    if (!np)
        return NL_ENOMEM;
    x->pool = np;
    x->pool_cap = ncap;
    return 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    (void)atts;
    nl_bc_xml *x = ud;
    if (x->err)
        return;
    if (x->depth >= x->lim.max_depth || x->n >= x->lim.max_nodes) {
        fail(x, NL_ELIMIT);
        return;
    }
    if (x->n == x->cap) {
        uint32_t ncap = x->cap ? x->cap * 2 : 32;
        if (ncap > x->lim.max_nodes)
            ncap = x->lim.max_nodes;
        inode *ni = nl__realloc(x->in, (size_t)ncap * sizeof *ni);
        if (!ni) {
            fail(x, NL_ENOMEM);
            return;
        }
        x->in = ni;
        x->cap = ncap;
    }
    /* Whatever text came since the last tag was inter-element whitespace. */
    x->pool_len = x->text_mark;
    size_t nlen = strlen(name);
    int rc = pool_reserve(x, nlen + 1);
    if (rc < 0) {
        fail(x, rc);
        return;
    }
    uint32_t idx = x->n++;
    inode *e = &x->in[idx];
    e->name_off = (uint32_t)x->pool_len;
    memcpy(x->pool + x->pool_len, name, nlen + 1);
    x->pool_len += nlen + 1;
    e->text_off = NO_NODE;
    e->text_len = 0;
    e->parent = x->cur;
    e->first_child = e->last_child = e->next = NO_NODE;
    if (x->cur != NO_NODE) {
        inode *par = &x->in[x->cur];
        if (par->last_child == NO_NODE)
            par->first_child = idx;
        else
            x->in[par->last_child].next = idx;
        par->last_child = idx;
    }
    x->cur = idx;
    x->depth++;
    x->text_mark = x->pool_len;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    nl_bc_xml *x = ud;
    if (x->err || x->cur == NO_NODE || len <= 0)
        return;
    /* Text after a child element is mixed content: camera XML has none, and
     * it is dropped rather than stored. */
    if (x->in[x->cur].first_child != NO_NODE)
        return;
    if ((size_t)len > x->lim.max_text - (x->pool_len - x->text_mark)) {
        fail(x, NL_ELIMIT);
        return;
    }
    int rc = pool_reserve(x, (size_t)len);
    if (rc < 0) {
        fail(x, rc);
        return;
    }
    memcpy(x->pool + x->pool_len, s, (size_t)len);
    x->pool_len += (size_t)len;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    (void)name; /* expat already checked that tags match */
    nl_bc_xml *x = ud;
    if (x->err || x->cur == NO_NODE)
        return;
    inode *e = &x->in[x->cur];
    if (e->first_child == NO_NODE && x->pool_len > x->text_mark) {
        size_t a = x->text_mark, b = x->pool_len;
        while (a < b && is_space((unsigned char)x->pool[a]))
            a++;
        while (b > a && is_space((unsigned char)x->pool[b - 1]))
            b--;
        if (b > a) {
            /* b < pool_len or a NUL slot must be reserved past the end. */
            x->pool_len = b;
            int rc = pool_reserve(x, 1);
            if (rc < 0) {
                fail(x, rc);
                return;
            }
            x->pool[b] = '\0';
            e->text_off = (uint32_t)a;
            e->text_len = (uint32_t)(b - a);
            x->pool_len = b + 1;
        } else {
            x->pool_len = x->text_mark;
        }
    } else {
        x->pool_len = x->text_mark;
    }
    x->text_mark = x->pool_len;
    x->cur = e->parent;
    x->depth--;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    fail(ud, NL_EXML);
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
                              int value_len, const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    fail(ud, NL_EXML);
}

static void install_handlers(nl_bc_xml *x)
{
    XML_SetUserData(x->p, x);
    XML_SetElementHandler(x->p, on_start, on_end);
    XML_SetCharacterDataHandler(x->p, on_text);
    XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
    XML_SetEntityDeclHandler(x->p, on_entity);
}

int nl_bc_xml_create(nl_bc_xml **out, const nl_bc_xml_limits *lim)
{
    *out = NULL;
    nl_bc_xml *x = nl__calloc(1, sizeof *x);
    if (!x)
        return NL_ENOMEM;
    if (lim)
        x->lim = *lim;
    if (!x->lim.max_input)
        x->lim.max_input = NL_BC_XML_DEFAULT_MAX_INPUT;
    if (x->lim.max_input > XML_HARD_MAX_INPUT)
        x->lim.max_input = XML_HARD_MAX_INPUT;
    if (!x->lim.max_depth)
        x->lim.max_depth = NL_BC_XML_DEFAULT_MAX_DEPTH;
    if (!x->lim.max_nodes)
        x->lim.max_nodes = NL_BC_XML_DEFAULT_MAX_NODES;
    if (!x->lim.max_text)
        x->lim.max_text = NL_BC_XML_DEFAULT_MAX_TEXT;
    /* Decoded names and text never exceed the input (DOCTYPE is refused, so
     * only the 5 predefined entities and character references expand, and
     * both shrink); each element adds at most two NULs. */
    x->pool_max = 2 * x->lim.max_input + 64;
    x->p = XML_ParserCreate_MM(NULL, &nl_xml_mem, NULL);
    if (!x->p) {
        nl__free(x);
        return NL_ENOMEM;
    }
    *out = x;
    return 0;
}

void nl_bc_xml_destroy(nl_bc_xml **xp)
{
    if (!xp || !*xp)
        return;
    nl_bc_xml *x = *xp;
    XML_ParserFree(x->p);
    nl__free(x->in);
    nl__free(x->out);
    nl__free(x->pool);
    nl__free(x);
    *xp = NULL;
}

static int build_tree(nl_bc_xml *x)
{
    if (x->outcap < x->n) {
        nl_bc_xml_node *no = nl__realloc(x->out, (size_t)x->n * sizeof *no);
        if (!no)
            return NL_ENOMEM;
        x->out = no;
        x->outcap = x->n;
    }
    for (uint32_t i = 0; i < x->n; i++) {
        const inode *e = &x->in[i];
        nl_bc_xml_node *o = &x->out[i];
        o->name = x->pool + e->name_off;
        o->text = e->text_off == NO_NODE ? "" : x->pool + e->text_off;
        o->text_len = e->text_len;
        o->parent = e->parent == NO_NODE ? NULL : &x->out[e->parent];
        o->child = e->first_child == NO_NODE ? NULL : &x->out[e->first_child];
        o->next = e->next == NO_NODE ? NULL : &x->out[e->next];
    }
    return 0;
}

int nl_bc_xml_parse(nl_bc_xml *x, const void *text, size_t len, const nl_bc_xml_node **root)
{
    *root = NULL;
    if (len > x->lim.max_input)
        return NL_ETOOBIG;
    const unsigned char *s = text;
    /* Tolerated framing: a BOM or whitespace before "<?xml" (expat insists
     * the declaration comes first), NULs or whitespace after the end. */
    if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        s += 3, len -= 3;
    while (len && is_space(*s))
        s++, len--;
    while (len && (s[len - 1] == 0 || is_space(s[len - 1])))
        len--;
    if (!len)
        return NL_EXML;

    if (XML_ParserReset(x->p, NULL) != XML_TRUE)
        return NL_ENOMEM;
    install_handlers(x);
    x->n = 0;
    x->pool_len = 0;
    x->text_mark = 0;
    x->cur = NO_NODE;
    x->depth = 0;
    x->err = 0;
    if (XML_Parse(x->p, (const char *)s, (int)len, XML_TRUE) != XML_STATUS_OK) {
        if (x->err)
            return x->err;
        return XML_GetErrorCode(x->p) == XML_ERROR_NO_MEMORY ? NL_ENOMEM : NL_EXML;
    }
    if (x->err)
        return x->err;
    if (x->n == 0)
        return NL_EXML;
    int rc = build_tree(x);
    if (rc < 0)
        return rc;
    *root = &x->out[0];
    return 0;
}

int nl_bc_xml_looks_like(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_space(p[i]))
        i++;
    if (i + 1 >= n || p[i] != '<')
        return 0;
    uint8_t c = p[i + 1];
    return c == '?' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* ------------------------------------------------------------------ lookups */

const nl_bc_xml_node *nl_bc_xml_child(const nl_bc_xml_node *n, const char *name)
{
    for (const nl_bc_xml_node *c = n ? n->child : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const nl_bc_xml_node *nl_bc_xml_next_same(const nl_bc_xml_node *n)
{
    for (const nl_bc_xml_node *c = n ? n->next : NULL; c; c = c->next)
        if (strcmp(c->name, n->name) == 0)
            return c;
    return NULL;
}

/* Child of n whose name is exactly the first len bytes of seg. */
static const nl_bc_xml_node *child_n(const nl_bc_xml_node *n, const char *seg, size_t len)
{
    for (const nl_bc_xml_node *c = n->child; c; c = c->next)
        if (strncmp(c->name, seg, len) == 0 && c->name[len] == '\0')
            return c;
    return NULL;
}

static const nl_bc_xml_node *walk(const nl_bc_xml_node *n, const char *path)
{
    while (n && *path) {
        const char *slash = strchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : strlen(path);
        n = child_n(n, path, len);
        path += len;
        if (*path == '/')
            path++;
    }
    return n;
}

const nl_bc_xml_node *nl_bc_xml_find_node(const nl_bc_xml_node *from, const char *path)
{
    if (!from || !path)
        return NULL;
    const nl_bc_xml_node *n = walk(from, path);
    if (n)
        return n;
    size_t rl = strlen(from->name);
    if (strncmp(path, from->name, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
        return walk(from, path[rl] == '/' ? path + rl + 1 : path + rl);
    return NULL;
}

const char *nl_bc_xml_find(const nl_bc_xml_node *from, const char *path)
{
    const nl_bc_xml_node *n = nl_bc_xml_find_node(from, path);
    return n ? n->text : NULL;
}

int nl_bc_xml_find_ll(const nl_bc_xml_node *from, const char *path, long long *out)
{
    const char *t = nl_bc_xml_find(from, path);
    if (!t)
        return NL_ENOENT;
    if (!*t)
        return NL_EPROTO;
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (*end != '\0')
        return NL_EPROTO;
    if (errno == ERANGE)
        return NL_ERANGE;
    *out = v;
    return 0;
}

int nl_bc_xml_find_int(const nl_bc_xml_node *from, const char *path, long long lo, long long hi,
                       int64_t *out)
{
    long long v;
    int rc = nl_bc_xml_find_ll(from, path, &v);
    if (rc < 0)
        return rc;
    if (v < lo || v > hi)
        return NL_ERANGE;
    *out = v;
    return 0;
}

int nl_bc_xml_find_copy(const nl_bc_xml_node *from, const char *path, char *dst, size_t n)
{
    if (n)
        dst[0] = '\0';
    const nl_bc_xml_node *node = nl_bc_xml_find_node(from, path);
    if (!node)
        return NL_ENOENT;
    if (!n)
        return NL_ERANGE;
    size_t k = node->text_len < n - 1 ? node->text_len : n - 1;
    memcpy(dst, node->text, k);
    dst[k] = '\0';
    if (k < node->text_len)
        return NL_ERANGE;
    return (int)k;
}

/* ------------------------------------------------------------------ writer */

static void w_put(nl_bc_xmlw *w, const char *s, size_t n)
{
    if (w->err)
        return;
    int rc = nl_dbuf_append(w->out, s, n);
    if (rc < 0)
        w->err = rc;
}

static void w_puts(nl_bc_xmlw *w, const char *s)
{
    w_put(w, s, strlen(s));
}

void nl_bc_xmlw_init(nl_bc_xmlw *w, nl_dbuf *out)
{
    w->out = out;
    w->start = out->len;
    w->err = 0;
    w->depth = 0;
}

void nl_bc_xmlw_decl(nl_bc_xmlw *w)
{
    w_puts(w, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
}

void nl_bc_xmlw_open(nl_bc_xmlw *w, const char *name, int versioned)
{
    w_puts(w, "<");
    w_puts(w, name);
    w_puts(w, versioned ? " version=\"1.1\">\n" : ">\n");
    w->depth++;
}

void nl_bc_xmlw_close(nl_bc_xmlw *w, const char *name)
{
    if (w->depth == 0 && !w->err)
        w->err = NL_ESTATE;
    w_puts(w, "</");
    w_puts(w, name);
    w_puts(w, ">\n");
    if (w->depth)
        w->depth--;
}

static void w_escaped(nl_bc_xmlw *w, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *rep = NULL;
        if (c == '&')
            rep = "&amp;";
        else if (c == '<')
            rep = "&lt;";
        else if (c == '>')
            rep = "&gt;";
        else if (c < 0x20 && c != '\t' && c != '\n') {
            /* Not representable in XML 1.0 text. */
            if (!w->err)
                w->err = NL_EINVAL;
            return;
        }
        if (rep) {
            w_put(w, run, (size_t)(s - run));
            w_puts(w, rep);
            run = s + 1;
        }
    }
    w_put(w, run, (size_t)(s - run));
}

void nl_bc_xmlw_text(nl_bc_xmlw *w, const char *name, const char *text)
{
    w_puts(w, "<");
    w_puts(w, name);
    w_puts(w, ">");
    w_escaped(w, text ? text : "");
    w_puts(w, "</");
    w_puts(w, name);
    w_puts(w, ">\n");
}

void nl_bc_xmlw_int(nl_bc_xmlw *w, const char *name, long long v)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", v);
    nl_bc_xmlw_text(w, name, num);
}

long nl_bc_xmlw_finish(nl_bc_xmlw *w)
{
    if (!w->err && w->depth != 0)
        w->err = NL_ESTATE;
    if (w->err)
        return w->err;
    return (long)(w->out->len - w->start);
}
